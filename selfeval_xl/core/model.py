"""The one model every edge goes through: roster → workbook → model → checks → report.

It holds *inputs only*: what a clerk types or a coordinator prefills. Every total, rate,
score and grade is computed by ``scoring`` from these inputs and the profile, never stored.
The single exception is ``Department.stated``: figures a source document *claims* for
derived cells (a Word report's typed totals, or a workbook's cached formula values that
disagree with the recompute). They are evidence to check, never truth.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
CONTROL_CHARS = _CONTROL  # characters an .xlsx cannot hold (the reader's fast path tests for them)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def clean_text(v: object) -> object:
    """Line breaks as Excel stores them (\\n); characters an .xlsx cannot hold are refused."""
    if isinstance(v, str):
        v = v.replace("\r\n", "\n").replace("\r", "\n")
        bad = _CONTROL.search(v)
        if bad:
            raise ValueError(f"文本含有不可见的控制字符 U+{ord(bad.group()):04X}，Excel 无法保存")
    return v


def strip_control(text: str) -> tuple[str, str]:
    """``text`` without the characters ``clean_text`` refuses, and those removed (as U+XXXX,
    for a message). A reader strips them, because a clerk cannot see them to delete them (they
    arrive by pasting from other systems) and refusing the whole workbook for one would be worse."""
    found = _CONTROL.findall(text)
    if not found:
        return text, ""
    return _CONTROL.sub("", text), "、".join(dict.fromkeys(f"U+{ord(ch):04X}" for ch in found))


Money = float | None  # 万元; None = left blank
# a figure a region's form declares that the core model has no name for (基本支出 in 衡阳's
# 附件1, 调整后预算数, a reason column …): kept by its layout key, as typed
Figure = int | float | str | None


def _without_blanks(figures: dict[str, Figure]) -> dict[str, Figure]:
    """A null figure is a blank cell, the same as an absent one: ``extract`` lists a blank
    template's keys as null for a coordinator to fill, and the model read back is the same."""
    return {k: v for k, v in figures.items() if v is not None}


class _TextModel(_Model):
    @field_validator("*", mode="before")
    @classmethod
    def _clean(cls, v: object) -> object:
        return clean_text(v)


class Triple(_TextModel):
    """One 附件1 row: 上年决算数 / 本年预算数 / 本年决算数 (万元)."""

    prior: Money = None
    budget: Money = None
    final: Money = None


class Pair(_TextModel):
    """A 附件1 row whose 上年 column is printed as ——."""

    budget: Money = None
    final: Money = None


class ProjectLine(_TextModel):
    """A 附件1 project row with no 附件3 table behind it (typed directly)."""

    category: str
    name: str = ""
    prior: Money = None
    budget: Money = None
    final: Money = None


class Buildings(_TextModel):
    """楼堂馆所控制情况（本年完工项目）."""

    approved_area: float | None = None
    actual_area: float | None = None
    budget_investment: Money = None
    actual_investment: Money = None


class BasicData(_TextModel):
    """附件1 部门整体支出绩效评价基础数据表 (inputs)."""

    staff_authorized: int | None = Field(default=None, ge=0, description="编制数")
    staff_actual: int | None = Field(default=None, ge=0, description="实际在职人数")
    car_purchase: Triple = Triple()
    car_operation: Triple = Triple()
    overseas: Triple = Triple()
    reception: Triple = Triple()
    other_projects: list[ProjectLine] = []
    public_funds: Triple = Triple()
    office: Triple = Triple()
    utilities_travel: Triple = Triple()
    meetings_training: Triple = Triple()
    procurement: Pair = Pair()
    basic_adjustment: Pair = Pair()
    buildings: Buildings = Buildings()
    frugality_measures: str = ""


class FundRow(_TextModel):
    """年初预算数 / 全年预算数 / 全年执行数 (万元)."""

    initial: Money = None
    full: Money = None
    executed: Money = None


class Indicator(_TextModel):
    """One 三级 indicator row under its 一级 and 二级."""

    level1: str
    level2: str
    name: str = ""
    target: str = ""
    actual: str = ""
    weight: float | None = Field(default=None, ge=0)
    score: float | None = Field(default=None, ge=0)
    deviation: str = ""
    # the target split as some provinces' forms print it: 指标性质 (≥ ≤ = 定性) | 指标值 | 度量单位
    nature: str = ""
    value: str = ""
    unit: str = ""
    # forms that print the target twice: 年初指标值 and 调整指标值 (or 年度指标值); the adjusted one is judged
    initial_value: str = ""
    adjusted_value: str = ""
    coefficient: float | None = Field(default=None, ge=0)  # 得分系数, a fraction (得分 = 系数 × 权重)
    core: str = ""  # 是否核心指标: 是 / 否
    criteria: str = ""  # 评分标准 / 评价标准及依据: how a scorecard row is scored, in words

    @property
    def target_text(self) -> str:
        """The target as one text: as typed, or composed from 指标性质 | 指标值 | 度量单位, the
        value being the adjusted one where the form has 年初/调整指标值."""
        return self.target or f"{self.nature}{self.value or self.adjusted_value or self.initial_value}{self.unit}"

    def is_blank(self) -> bool:
        return not (self.name or self.target_text or self.actual or self.deviation or self.core) \
            and self.weight is None and self.score is None and self.coefficient is None


class Funds(_TextModel):
    current: FundRow = FundRow()  # 当年财政拨款
    carryover: FundRow = FundRow()  # 上年结转资金
    other: FundRow = FundRow()  # 其他资金


class ProjectEvaluation(_TextModel):
    """附件3(n) 项目支出绩效自评表, plus its 附件1 上年决算数."""

    # the data file's format (``fill --schema``) does not ask for it: ``fill`` supplies a region's
    # only category (``complete_categories``); the model itself always holds one ("" = not in 附件1)
    model_config = ConfigDict(json_schema_extra=lambda schema: schema.update(
        required=[r for r in schema.get("required", ()) if r != "category"]))

    name: str
    category: str = Field(description="项目类别：地区 [projects] categories 之一（空为不列入基础数据表的项目）；"
                                      "地区只有一个类别时可不写，有几个类别时必须写明")
    competent_dept: str = ""
    implementing_unit: str = ""
    prior_year_final: Money = None
    funds: Funds = Funds()
    goal_expected: str = ""
    goal_actual: str = ""
    indicators: list[Indicator] = []
    figures: dict[str, Figure] = Field(default={}, description="地区表格声明、模型中没有专名的项目数据（键相对于该项目）")

    _blank_figures = field_validator("figures")(lambda cls, v: _without_blanks(v))


class Income(_TextModel):
    """附件2 按收入性质分."""

    general: Money = None  # 一般公共预算
    gov_fund: Money = None  # 政府性基金拨款
    special_account: Money = None  # 纳入专户管理的非税收入拨款
    other: Money = None  # 其他资金


class OverallEvaluation(_TextModel):
    """附件2 部门整体支出绩效自评表 (inputs)."""

    budget_initial: Money = None
    budget_full: Money = None
    income: Income = Income()
    expense_basic: Money = None  # 按支出性质分：基本支出
    goal_expected: str = ""
    goal_actual: str = ""
    indicators: list[Indicator] = []


class Narrative(_TextModel):
    """报告正文: one text per report section of the profile, and figures no attachment carries."""

    sections: dict[str, str] = {}
    personnel_expense: Money = None  # 人员经费（本年决算）


class Signoff(_TextModel):
    preparer: str = ""  # 填表人
    date: str = ""  # 填报日期
    phone: str = ""  # 联系电话
    head: str = ""  # 单位负责人


def complete_categories(data: object, implied: str | None) -> list[tuple[int, str]]:
    """A data file's projects that say no ``category`` (absent or null) get the region's only
    one (``ProjectRules.implied_category``); where the region has several there is nothing to
    imply and they are returned as (index, name) for the caller to name. An empty category is
    said, not missing: a project not listed in 附件1 (a spare sheet read back)."""
    projects = data.get("projects") if isinstance(data, dict) else None
    missing = []
    for i, p in enumerate(projects if isinstance(projects, list) else ()):
        if isinstance(p, dict) and p.get("category") is None:
            if implied is not None:
                p["category"] = implied
            else:
                missing.append((i, str(p.get("name") or "").strip()))
    return missing


class Department(_TextModel):
    """Everything one budget unit files for one year."""

    code: str = Field(min_length=1, description="单位编码")
    name: str = Field(min_length=1, description="单位名称")
    competent_dept: str = ""
    year: int = Field(ge=2000, le=2100)
    profile: str
    basic: BasicData = BasicData()
    overall: OverallEvaluation = OverallEvaluation()
    projects: list[ProjectEvaluation] = []
    narrative: Narrative = Narrative()
    signoff: Signoff = Signoff()
    figures: dict[str, Figure] = Field(
        default={}, description="地区表格声明、模型中没有专名的数据（键为布局键），如衡阳附件1 的基本支出",
    )
    stated: dict[str, float | str] = Field(
        default={},
        description="来源文件对派生单元格所写的数值（键为布局键），仅供核对，不作为真值",
    )

    _blank_figures = field_validator("figures")(lambda cls, v: _without_blanks(v))
