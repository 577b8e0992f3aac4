"""Regions: a folder of data — its rules (``region.toml``) and its forms (``forms/*.toml``).

The rules say what is scored and how (weights, rounding, grades, tolerances), which
indicator slots each 二级 offers, the 附件1 project categories and the report outline; the
forms declare each sheet's grid (``forms.definition``). One ``Profile`` object carries both,
with the source text of every file, so a workbook can carry its region whole
(``Profile.sources``/``digest``) and be read where the region is not installed.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, field_validator, model_validator

from .numbers import fmt_num

REGION_FILE = "region.toml"


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file and the key."""


class Limits:
    """Every bound on a region, in one place.

    A region is data, and the copy a workbook carries is data the unit can edit (and then
    recompute the digest): it is hostile input. Loading, compiling and evaluating a region
    must therefore end in a ``ProfileError`` naming the file and key — never a crash, a hang or
    gigabytes of memory. Each value is far above what a real region needs (the shipped ones
    are ≤ 19 KB in ≤ 6 files, ≤ 400 cells a sheet, formulas ≤ 3,100 characters and 12
    levels deep) and far below what would hurt.
    """

    # a region folder holds region.toml and one file per sheet; the shipped ones have 3–6
    REGION_FILES = 32
    # all files of a region together, in characters: 50× the largest shipped region (19 KB),
    # and small enough that parsing and compiling it stays well under a second
    SOURCE_CHARS = 1_000_000
    # arrays/inline tables inside each other in one TOML file: real files nest 3 deep;
    # Python's tomllib recurses per level and overflows the stack near 1,000
    TOML_DEPTH = 16
    # sheet definitions in forms.sheets (the official package has 5; one sheet per project
    # is a repeat of one definition, bounded by the reader's MAX_PROJECT_SHEETS)
    SHEETS = 20
    # cells of one compiled sheet (labels included): 13× the largest real sheet (≈ 400). A
    # repeated 附件3 sheet is compiled once per project (up to 200), so this bounds the layout
    CELLS_PER_SHEET = 5_000
    # columns of one drawn grid row (real: ≤ 13): Excel's last column is XFD, and a wide
    # row is a typing slip, not a form
    GRID_COLUMNS = 60
    # characters of one declared formula: Excel's own limit for a formula's text
    FORMULA_CHARS = 8_192
    # nesting of a formula (functions, parentheses, operators): Excel allows 64 levels of
    # functions; our parser and Python's compiler recurse per level
    FORMULA_DEPTH = 64
    # operations of one sheet's formulas together (each function, operator and reference is
    # one step, evaluated once per unit): 20× a real sheet (≈ 15,000) — what compiles in
    # tens of milliseconds and evaluates in a few
    STEPS_PER_SHEET = 400_000
    # decimals ROUND accepts when written in a formula: Excel keeps 15 significant digits,
    # so beyond ±15 rounding is meaningless (a computed count of decimals is clamped)
    ROUND_DECIMALS = 15
    # characters of one evaluated text: Excel's limit for a cell (a longer result is #VALUE!)
    TEXT_CHARS = 32_767
    # characters of text one sheet's evaluation may create, all values together: 20× the
    # text a real sheet's hints and footers make; with ≤ 207 sheets a unit, at most ≈ 100 M
    # characters — a SUBSTITUTE nested ten deep once asked for gigabytes
    TEXT_CHARS_PER_SHEET = 500_000
    # magnitude of a figure in a region's rules (weights, totals, tolerances): a score is
    # out of 100; anything non-finite (inf, nan) is refused
    RULE_NUMBER = 10_000.0
    # lists in region.toml: grades become a nested IF (one level each); the others become
    # rows of the forms or lines of the report
    GRADES = 10
    LEVEL1 = 12
    LEVEL2 = 20
    CATEGORIES = 20
    SECTIONS = 40
    COVER_LINES = 60
    CHECKS = 200
    NARRATIVE_TERMS = 200
    # characters of a region id (a folder name) and of a name or label in the rules
    ID_CHARS = 64
    NAME_CHARS = 200


_REGION_NAME = re.compile(r"^[^\W_][\w.\-]*$")


def is_region_name(name: object) -> bool:
    """A region id is a NAME — letters (any script), digits, ``-``, ``_``, ``.``; never a path.

    Why: the id comes from data a unit can edit (the region its workbook carries, the
    workbook's metadata); treating it as a path would let a workbook make the checker load
    ``../../其他单位/region``. Names starting with ``.`` and any ``..`` are refused too.
    """
    return (isinstance(name, str) and 0 < len(name) <= Limits.ID_CHARS and ".." not in name
            and not name.startswith(".") and bool(_REGION_NAME.match(name)))


class TomlError(ValueError):
    """A TOML text that cannot be read: the message says where (in Chinese), not which file."""


_TOML_TOKEN = re.compile(r'''"""(?:\\[\s\S]|[^\\])*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:\\.|[^"\\\n])*"|'[^'\n]*'|#[^\n]*|[\[\]{}]''')


def _bracket_depth(text: str) -> tuple[int, int]:
    """The deepest nesting of ``[`` / ``{`` outside strings and comments, and its line."""
    depth = deepest = 0
    at = 0
    for m in _TOML_TOKEN.finditer(text):
        ch = m.group()
        if ch in "[{":
            depth += 1
            if depth > deepest:
                deepest, at = depth, m.start()
        elif ch in "]}":
            depth = max(depth - 1, 0)
    return deepest, text.count("\n", 0, at) + 1


def _structure_depth(data: Any) -> int:
    """How deep tables and arrays nest in parsed TOML (dotted keys nest without brackets)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if d > Limits.TOML_DEPTH:
            break
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return deepest


def parse_toml(text: str) -> dict:
    """TOML text → data, within ``Limits.TOML_DEPTH``; a leading UTF-8 BOM (Windows Notepad
    writes one) is ignored. Raises ``TomlError`` with a Chinese reason."""
    text = text.removeprefix("\ufeff")
    depth, line = _bracket_depth(text)
    if depth > Limits.TOML_DEPTH:
        raise TomlError(f"第 {line} 行数组或表嵌套 {depth} 层，超过上限 {Limits.TOML_DEPTH} 层")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TomlError(f"不是有效的 TOML：{_toml_reason(str(e))}") from None
    except RecursionError:
        raise TomlError(f"数组或表嵌套过深（上限 {Limits.TOML_DEPTH} 层）") from None
    if _structure_depth(data) > Limits.TOML_DEPTH:
        raise TomlError(f"键、表或数组嵌套超过上限 {Limits.TOML_DEPTH} 层")
    return data


# tomllib's reasons (Python 3.11–3.13) in the coordinator's words; {0} is the name or character it quotes
_TOML_REASONS = (
    (r"Cannot overwrite a value", "同一个键写了两次"),
    (r"Cannot declare (.+) twice", "表 [{0}] 写了两次"),
    (r"Cannot mutate immutable namespace (.+)", "{0} 已写成行内的表或数组，不能再补充"),
    (r"Cannot redefine namespace (.+)", "{0} 已定义，不能再写成另一种表"),
    (r"Duplicate inline table key (.+)", "行内的表中键 {0} 写了两次"),
    (r"Escaped character is not a Unicode scalar value", "转义字符无效"),
    (r"Expected '=' after a key in a key/value pair", "键后面缺少 =（写作 键 = 值）"),
    (r"Expected ']' at the end of a table declaration", "表头缺少右方括号 ]"),
    (r"Expected ']]' at the end of an array declaration", "表头缺少 ]]"),
    (r"Expected newline or end of document after a statement", "一行只能写一项：值的后面多出了内容"),
    (r"Expected (.+)", "此处应为 {0}"),
    (r"Found invalid character (.+)", "有无效的字符 {0}"),
    (r"Illegal character (.+)", "有不允许的字符 {0}"),
    (r"Invalid date or datetime", "日期或时间无效"),
    (r"Invalid hex value", "十六进制转义无效"),
    (r"Invalid initial character for a key part", "键的开头有无效字符（键中含中文或符号时请加引号）"),
    (r"Invalid statement", "无法识别的一行（应为 键 = 值，或 [表名]）"),
    (r"Invalid value", "值无效（文字请用引号括起，数用阿拉伯数字，真假用 true 或 false）"),
    (r"Unclosed array", "数组缺少右方括号 ]"),
    (r"Unclosed inline table", "行内的表缺少右花括号 }（且须写在一行内）"),
    (r"Unescaped '\\' in a string", "文字中的 \\ 须写作 \\\\（或改用单引号）"),
    (r"Unterminated string", "引号没有闭合"),
)


def _toml_reason(msg: str) -> str:
    """tomllib's English reason in Chinese, with its position (“第 3 行第 5 列”); a reason this
    table does not know is said as such, never in English."""
    where = ""
    m = re.search(r"\(at line (\d+), column (\d+)\)$", msg)
    if m:
        msg, where = msg[:m.start()].strip(), f"（第 {m.group(1)} 行第 {m.group(2)} 列）"
    elif msg.endswith("(at end of document)"):
        msg, where = msg.removesuffix("(at end of document)").strip(), "（在文件末尾）"
    if msg in ("Illegal character '\\n'", "Illegal character '\\r'"):
        return "引号没有在本行内闭合（多行的文字请写在 \'\'\' 与 \'\'\' 之间）" + where
    for pattern, words in _TOML_REASONS:
        hit = re.fullmatch(pattern, msg)
        if hit:
            name = hit.group(1) if hit.groups() else ""
            if name.startswith("("):  # a table's name as Python writes it: ('report', 'words')
                name = ".".join(re.findall(r"'([^']*)'", name))
            return words.replace("{0}", name) + where
    return "格式有误" + where


# a bool, an integer, a number as the file writes it: "yes" is not true and "3" is not 3 (pydantic would
# convert them; the published schema, and so the coordinator's editor, refuses them — the loader agrees)
Bool = Annotated[bool, Strict()]
Int = Annotated[int, Strict()]
Num = Annotated[float, Strict()]


class _Strict(BaseModel):
    # inf and nan are refused everywhere: a weight of inf once crashed the weight check
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _name(max_len: int = Limits.NAME_CHARS):
    return Field(min_length=1, max_length=max_len)


class ProfileInfo(_Strict):
    id: str = Field(min_length=1, max_length=Limits.ID_CHARS)
    name: str = _name()
    region: str = Field(default="", max_length=Limits.NAME_CHARS)
    dept_name_label: str = Field(default="市级预算部门名称", max_length=Limits.NAME_CHARS)

    @field_validator("id")
    @classmethod
    def _id_is_a_name(cls, v: str) -> str:
        if not is_region_name(v):
            raise ValueError(f"地区名“{v[:80]}”无效：只能由字母、数字、-、_、. 组成，不能含路径分隔符或 ..")
        return v


class Scoring(_Strict):
    execution_weight: Num = Field(ge=0, le=Limits.RULE_NUMBER)
    execution_scored: Bool
    execution_rate_percent_decimals: Int = Field(ge=-1, le=4)
    score_decimals: Int = Field(default=2, ge=0, le=4)
    total: Num = Field(default=100, gt=0, le=Limits.RULE_NUMBER)
    money_tolerance: Num = Field(default=0.01, ge=0, le=Limits.RULE_NUMBER)
    score_tolerance: Num = Field(default=0.01, ge=0, le=Limits.RULE_NUMBER)
    show_grade_row: Bool = False
    execution_shown: Bool | None = None  # 分值 printed beside the rate; defaults to execution_scored

    @model_validator(mode="after")
    def _shown(self) -> "Scoring":
        if self.execution_shown is None:
            object.__setattr__(self, "execution_shown", self.execution_scored)
        return self

    @property
    def rate_places(self) -> int:
        """Decimals of a percent the execution rate is shown with wherever a person reads it (the
        workbook's rate cells, the report's sentences and tables, messages, 汇总表): the places it is
        rounded to, or two where it is not rounded (-1)."""
        d = self.execution_rate_percent_decimals
        return 2 if d < 0 else d


class Grade(_Strict):
    name: str = _name(20)
    min: Num = Field(ge=0, le=Limits.RULE_NUMBER)

    @field_validator("name")
    @classmethod
    def _plain(cls, v: str) -> str:
        """A grade's name is written into the grade formula as an Excel string."""
        if any(ch in '"{}' or ord(ch) < 32 for ch in v):
            raise ValueError(f"等次名称“{v}”不能含引号、花括号或控制字符")
        return v


class Item(_Strict):
    """A row the form itself prints (a scorecard's 评价内容 | 分值 | 评分标准): the unit enters
    only its 自评分, so the name, points and criteria are the region's, locked in the workbook."""

    name: str = _name()
    weight: Num = Field(ge=0, le=Limits.RULE_NUMBER)
    criteria: str = Field(default="", max_length=2000)


class Level2(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    name: str = _name()
    rows: Int = Field(ge=1, le=30)
    ceiling: Bool = False  # a bare amount as target is a ceiling (成本指标 “150万元” means ≤ 150万元)
    # a scorecard's fixed rows (评分表: 决策依据 2 分 “有项目年度工作计划…计 2 分”); one per row
    items: tuple[Item, ...] = Field(default=(), max_length=30)
    # the points the form prints per 二级 (数量指标（20分）): its rows' 分值 add up to it, or, in
    # a table without a 分值 column, its rows' 得分 may not add to more; None: not fixed per 二级
    weight: Num | None = Field(default=None, gt=0, le=Limits.RULE_NUMBER)

    @model_validator(mode="after")
    def _items_fill_rows(self) -> "Level2":
        if self.items and len(self.items) != self.rows:
            raise ValueError(f"二级指标“{self.name}”写了 {len(self.items)} 个 items（表样印定的行），"
                             f"rows 应为 {len(self.items)}，现为 {self.rows}")
        return self

    @property
    def label(self) -> str:
        """The 二级 cell text of the official form, e.g. 数量指标（20分）; just the name where the
        rules fix no weight per 二级."""
        return self.name if self.weight is None else f"{self.name}（{fmt_num(self.weight, 4)}分）"


class Level1(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    name: str = _name()
    # None: the form fixes only the indicators' total (四川: 90 points spread as the unit chooses
    # over 产出/效益/满意度), so no 一级 has a weight of its own to be checked against
    weight: Num | None = Field(default=None, ge=0, le=Limits.RULE_NUMBER)
    level2: tuple[Level2, ...] = Field(min_length=1, max_length=Limits.LEVEL2)

    @property
    def label(self) -> str:
        """The 一级 cell text of the official form, e.g. 产出指标（50分）; just the name where
        the rules fix no weight per 一级."""
        return self.name if self.weight is None else f"{self.name}（{fmt_num(self.weight, 4)}分）"

    @property
    def level2_weighted(self) -> bool:
        """True when each of its 二级 has its own weight (数量指标（20分）…): they add up to the
        一级's weight (region loading refuses them otherwise), so the 二级 sums say all the 一级's does."""
        return all(l2.weight is not None for l2 in self.level2)

    @property
    def capped(self) -> bool:
        """Every row of the 一级 has points to be capped by: its own weight or its 二级's."""
        return self.weight is not None or self.level2_weighted


class ProjectRules(_Strict):
    categories: tuple[str, ...] = Field(default=("项目支出",), min_length=1, max_length=Limits.CATEGORIES)
    category_labels: tuple[str, ...] = Field(default=("项目支出",), max_length=Limits.CATEGORIES)
    default_category: str = "项目支出"
    free_rows_per_category: Int = Field(default=2, ge=0, le=20)
    spare_sheets: Int = Field(default=2, ge=0, le=20)
    category_rows: Bool = True  # a subtotal row per category in 附件1 (false: one flat list)

    @model_validator(mode="after")
    def _consistent(self) -> "ProjectRules":
        if len(self.category_labels) != len(self.categories):
            raise ValueError("projects.category_labels 的个数必须与 projects.categories 相同")
        if self.default_category not in self.categories:
            raise ValueError("projects.default_category 必须是 projects.categories 之一")
        return self

    @property
    def implied_category(self) -> str | None:
        """The category a project that says none belongs to: the region's only one (a region
        that declares none has one, 项目支出); None where there are several to choose from."""
        return self.categories[0] if len(self.categories) == 1 else None


# the placeholders a region's words may name (``forms.naming`` fills them): a report file is
# named after its unit; the guide sheet is shared by every unit of a year, so it names no unit
REPORT_FILE_NAME_KEYS = ("unit_code", "unit_name", "year", "title")
GUIDE_TITLE_KEYS = ("year",)
GUIDE_RATE_KEYS = ("weight",)
GUIDE_WEIGHTS_KEYS = ("weight", "indicators", "total")


def _placeholders(v: str, what: str, allowed: tuple[str, ...]) -> str:
    """``v`` when every ``{…}`` in it is one of ``allowed`` and braces pair; else a Chinese error
    naming the key (the loader adds file and line)."""
    if re.search(r"\{[^{}]*\{|\}[^{}]*\}", v) or v.count("{") != v.count("}"):
        raise ValueError(f"{what} 中的 {{ }} 不成对：占位符写作 {{键}}")
    unknown = set(re.findall(r"\{([^{}]*)\}", v)) - set(allowed)
    if unknown:
        raise ValueError(f"{what} 中的占位符 {'、'.join('{' + k + '}' for k in sorted(unknown))} 不可用"
                         f"（可用：{'、'.join('{' + k + '}' for k in allowed)}）")
    return v


class Forms(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    # the sheets' declarations in workbook order (``forms.definition.SheetDef``, parsed by
    # ``forms.regions``: the core holds them but reads no form format)
    sheets: tuple[Any, ...] = Field(min_length=1, max_length=Limits.SHEETS)
    guide_order: str = ""  # 填表说明 “填写顺序”, where the region's order differs
    # the guide sheet's title ("{year}" filled in) and its 执行率 line, in the region's words
    guide_title: str = Field(default="", max_length=Limits.NAME_CHARS,
                             description="填表说明第一行；{year} 为年度。不写时按报告标题或表样的种类生成",
                             examples=["{year}年度项目绩效目标自评 填表说明"])
    guide_rate: str = Field(default="", max_length=1000,
                            description="填表说明“执行率”一行；{weight} 为预算执行率的分值。不写时按 [scoring] 生成",
                            examples=["执行率 = 执行数 ÷ 预算数；得分 = {weight} 分 × 执行率，最高 {weight} 分。"])
    # its 分值, 金额 and 得分 lines ("" = the engine's wording from the rules and the indicator table)
    guide_weights: str = Field(default="", max_length=1000,
                               description="填表说明“分值”一行；{weight} 预算执行率分值、{indicators} 绩效指标合计、{total} 总分。"
                                           "不写时按 [[level1]] 和 [scoring] 生成",
                               examples=["绩效指标 {indicators} 分（各一级指标之间自行分配），预算执行 {weight} 分，合计 {total} 分。"])
    guide_money: str = Field(default="", max_length=1000, description="填表说明“金额”一行（不能用占位符）",
                             examples=["金额以万元为单位，保留两位小数。"])
    guide_score: str = Field(default="", max_length=1000,
                             description="填表说明“得分”一行（不能用占位符）。不写时按指标表的表头（分值/权重、原因一栏）生成",
                             examples=["得分不超过本行分值；未得满分的在“未完成原因分析”中说明。"])

    @field_validator("guide_weights")
    @classmethod
    def _guide_weights(cls, v: str) -> str:
        return _placeholders(v, "forms.guide_weights", GUIDE_WEIGHTS_KEYS)

    @field_validator("guide_money", "guide_score")
    @classmethod
    def _guide_plain(cls, v: str, info: Any) -> str:
        return _placeholders(v, f"forms.{info.field_name}", ())

    @field_validator("guide_title")
    @classmethod
    def _guide_title(cls, v: str) -> str:
        return _placeholders(v, "forms.guide_title", GUIDE_TITLE_KEYS)

    @field_validator("guide_rate")
    @classmethod
    def _guide_rate(cls, v: str) -> str:
        return _placeholders(v, "forms.guide_rate", GUIDE_RATE_KEYS)


# the operators of a ``compare`` rule; ≤ ≥ as a coordinator types them are the same
COMPARE_OPS = {"<=": "<=", "≤": "<=", ">=": ">=", "≥": ">=", "<": "<", ">": ">", "=": "=", "==": "="}
RULE_KINDS = ("equal", "compare", "sum", "range", "require")


def _rule_key(v: Any, what: str) -> str:
    """A key a rule names, as data: text of a bounded length. What it names is the form
    engine's to parse (``forms.keys.Key``, when the region is loaded: a malformed key or
    ``projects[*]`` outside a sum is refused there, with its line)."""
    if not isinstance(v, str) or not v:
        raise ValueError(f"{what} 应为单元格的键（文字，如 \"overall.budget_full\"）")
    if len(v) > 120:
        raise ValueError(f"{what} 中的“{v[:80]}…”过长（键最多 120 个字）")
    return v


class Check(_Strict):
    """A rule a region's forms need and no formula enforces, as an expression over keys: two
    figures equal (``equal``), a comparison (``compare``), a sum (``sum`` + ``equals``), a range
    (``range`` + ``min``/``max``), or a figure that must be filled (``require``, optionally only
    when ``if_filled`` is). ``forms.rules`` turns each into one condition that yields both the
    in-sheet warning (a hint cell beside ``at``) and the ``check`` flag (the same formula,
    recomputed in Python), so the two cannot disagree."""

    code: str = Field(pattern=r"^[A-Z]+-\d{3}$", description="问题代码：大写字母、短横线和三位数字", examples=["XATT-105"])
    message: str = Field(min_length=1, max_length=200, description="表中提示和问题清单的说明（填表人看得懂的话）",
                         examples=["全年执行数不应超过全年预算数"])
    severity: str = Field(default="error", pattern=r"^(error|warning|info)$", description="error、warning 或 info")
    equal: tuple[str, str] | None = Field(default=None, description="两个数必须相等（容差内）；提示默认在第二个键旁",
                                          examples=[["basic.basic_expense.final", "overall.expense_basic"]])
    compare: tuple[Any, ...] | None = Field(default=None, description="[键, 运算符, 键或数字]，运算符 <=、>=、<、>、=（或 ≤、≥）",
                                            examples=[["overall.executed", "<=", "overall.budget_full"]])
    sum: tuple[str, ...] | None = Field(default=None, min_length=1, max_length=400,
                                        description="各项的键，与 equals 一起写：各项之和应等于 equals；projects[*].键 为各项目之和",
                                        examples=[["projects[*].funds.total.full"]])
    equals: str | None = Field(default=None, description="sum 的合计应等于的键", examples=["overall.budget_full"])
    range: str | None = Field(default=None, description="该键的数应在 min 与 max 之间", examples=["basic.control_rate"])
    min: Num | None = Field(default=None, ge=-1e12, le=1e12, description="range 的下限", examples=[0])
    max: Num | None = Field(default=None, ge=-1e12, le=1e12, description="range 的上限", examples=[1.2])
    require: str | None = Field(default=None, description="必须填写的键", examples=[".funds.reason"])
    if_filled: str | None = Field(default=None, description="与 require 一起写：该键已填写（非空、非 0）时才要求",
                                  examples=["overall.budget_adjusted"])
    when: str = Field(default="", max_length=2000, description="规则适用的条件（Excel 条件，用 {键} 指代单元格）",
                      examples=["AND(ISNUMBER({.funds.rate}),{.funds.rate}<0.9)"])
    at: str = Field(default="", description="提示和问题指向的单元格（默认第一个键；equal 为第二个，sum 为 equals）",
                    examples=["overall.executed"])
    tolerance: str = Field(default="money", pattern=r"^(money|rate|score|exact)$",
                           description="容差：money、rate、score 或 exact")

    @field_validator("equal")
    @classmethod
    def _equal_keys(cls, v):
        return tuple(_rule_key(k, "equal") for k in v) if v is not None else v

    @field_validator("compare")
    @classmethod
    def _compare(cls, v):
        if v is None:
            return v
        if len(v) != 3:
            raise ValueError('compare 应为 [键, 运算符, 键或数字]，如 ["overall.executed", "<=", "overall.budget_full"]')
        a, op, b = v
        _rule_key(a, "compare 的第 1 项")
        if op not in COMPARE_OPS:
            raise ValueError(f"compare 的运算符“{op}”无效（可用：<=、>=、<、>、=，或 ≤、≥）")
        if isinstance(b, bool) or not isinstance(b, (str, int, float)):
            raise ValueError("compare 的第 3 项应为单元格的键或数字")
        if isinstance(b, str):
            _rule_key(b, "compare 的第 3 项")
        elif not -1e12 <= b <= 1e12:
            raise ValueError("compare 的第 3 项数字超出范围")
        return (a, COMPARE_OPS[op], float(b) if not isinstance(b, str) else b)

    @field_validator("sum")
    @classmethod
    def _sum_keys(cls, v):
        return tuple(_rule_key(k, "sum") for k in v) if v is not None else v

    @field_validator("equals", "range", "require", "if_filled", "at")
    @classmethod
    def _one_key(cls, v, info):
        return _rule_key(v, info.field_name) if v else v

    @model_validator(mode="after")
    def _one_kind(self) -> "Check":
        kinds = [k for k in RULE_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"每条 [[checks]] 要有且只有一种规则：{'、'.join(RULE_KINDS)}"
                             + (f"（现有 {'、'.join(kinds)}）" if kinds else ""))
        kind = kinds[0]
        if (self.equals is not None) != (kind == "sum"):
            raise ValueError("sum 与 equals 要一起写：sum = [各项的键]，equals = \"合计的键\"")
        if kind == "range" and self.min is None and self.max is None:
            raise ValueError("range 要写 min 或 max（或两者）")
        if kind != "range" and (self.min is not None or self.max is not None):
            raise ValueError("min、max 只能与 range 一起写")
        if self.if_filled and kind != "require":
            raise ValueError("if_filled 只能与 require 一起写")
        if kind == "range" and self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("range 的 min 大于 max")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in RULE_KINDS if getattr(self, k) is not None)

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key the rule reads, in the order it names them."""
        k = self.kind
        if k == "equal":
            return tuple(self.equal)
        if k == "compare":
            return tuple(x for x in (self.compare[0], self.compare[2]) if isinstance(x, str))
        if k == "sum":
            return (*self.sum, self.equals)
        if k == "range":
            return (self.range,)
        return tuple(x for x in (self.require, self.if_filled) if x)

    @property
    def at_key(self) -> str:
        """Where the flag and the in-sheet warning show: ``at``, else the first key the rule
        names (``equal``: the second, as 衡阳's rule has always been shown; ``sum``: its total)."""
        if self.at:
            return self.at
        k = self.kind
        if k == "equal":
            return self.equal[1]
        if k == "sum":
            return self.equals
        return self.keys[0]


class Section(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    hint: str = ""
    generated: Bool = False  # written from the data (section 二)
    figures: Bool = False  # opens with the generated figures (section 六)


class CoverLine(_Strict):
    """One line of the report's cover: {unit_name}, {unit_code}, {year}, {report_date}, {title} are filled in;
    an empty text is a blank line."""

    text: str = ""
    style: str = Field(default="center", pattern=r"^(center|left|title)$")


# the cover of a region that declares none: the year and the report's title ({title}: [report] title,
# or the kind of report its forms make), the unit and its seal, the date — nothing of any one place
# (岳阳's cover, with its “（此页为封面）”, is written in its own region.toml)
DEFAULT_COVER = tuple(
    CoverLine(text=t, style=style) for t, style in [("", "center")] * 6 + [("{year}年度", "title"), ("{title}", "title")]
    + [("", "center")] * 4 + [("单位名称：{unit_name}（盖章）", "center"), ("", "center"), ("{report_date}", "center")])


class Completeness(_Strict):
    """``[report.completeness]``: the region scores a report's completeness from its parts, as
    Hunan's 评分表 附件5 does (正文 8 分、附件 7 分, 2 分 off for each part missing); ``check``
    gives the estimate (PRE-301). A region that does not declare it has no such score."""
    body: float = Field(default=8, gt=0, le=Limits.RULE_NUMBER, description="正文的满分，如 8")
    attachments: float = Field(default=7, ge=0, le=Limits.RULE_NUMBER, description="各表（附件）的满分，如 7")
    deduct: float = Field(default=2, gt=0, le=Limits.RULE_NUMBER, description="缺一部分扣的分，如 2")
    sheet: str = Field(default="", max_length=20, description="评分所依据的表，提示中引用，如 \"附件5\"；不写则不提",
                       examples=["附件5"])


class Report(_Strict):
    sections: tuple[Section, ...] = Field(min_length=1, max_length=Limits.SECTIONS)
    # Hunan's 附件5 completeness pre-score, where the region declares it (PRE-301)
    completeness: Completeness | None = None
    cover: tuple[CoverLine, ...] = Field(default=DEFAULT_COVER, max_length=Limits.COVER_LINES)
    # the body's title ("{year}年度{unit_name}" / "整体支出绩效自评报告"); 云溪's form has none (its cover says it)
    body_title: Bool = True
    # a heading above the narrative sections, where the form puts them under one (云溪: "五、评价报告综述（参考提纲）")
    sections_heading: str = ""
    # the report's title under "{year}年度{unit_name}" ("" = 整体支出绩效自评报告 where the region has a
    # 部门整体 table, 项目支出绩效自评报告 where it has only project tables)
    title: str = Field(default="", max_length=Limits.NAME_CHARS)
    # what is evaluated, as the generated sentences say it ({evaluation}: 部门整体支出绩效自评总分…)
    evaluation: str = Field(default="部门整体支出", min_length=1, max_length=Limits.NAME_CHARS)
    # the report file's name: {unit_code} {unit_name} {year} {title}; "" = the workbook's name + title
    file_name: str = Field(default="", max_length=Limits.NAME_CHARS)
    # the generated sentences as templates over named figures (``core.words``); unnamed ones keep the default
    words: dict[str, str] = Field(default_factory=dict, max_length=40)

    @field_validator("words")
    @classmethod
    def _words(cls, v: dict[str, str]) -> dict[str, str]:
        from .words import WordsError, validate

        for name, text in v.items():
            if len(text) > 2000:
                raise ValueError(f"report.words.{name} 最多 2000 个字")
            try:
                validate(name, text)
            except WordsError as e:
                raise ValueError(f"report.words.{name}：{e}") from None
        return v

    @field_validator("file_name")
    @classmethod
    def _file_name(cls, v: str) -> str:
        if any(ch in v for ch in '/\\:*?"<>|') or ".." in v:
            raise ValueError(f"report.file_name“{v}”不能含 / \\ : * ? \" < > | 或 ..（是文件名，不是路径）")
        return _placeholders(v, "report.file_name", REPORT_FILE_NAME_KEYS)


class NarrativeTerm(_Strict):
    """A region's own name for a table figure in report prose (region.toml ``[[narrative.terms]]``):
    the narrative checks compare figures quoted under these words with the figure at ``key``."""
    concept: str = Field(min_length=1, max_length=40)
    words: tuple[str, ...] = Field(min_length=1, max_length=20)
    kind: str = Field(default="money", pattern=r"^(money|count|rate|score)$")
    key: str = Field(min_length=1, max_length=120)
    budget_key: str = ""

    @model_validator(mode="after")
    def _plain_words(self) -> "NarrativeTerm":
        for w in self.words:
            if not (1 <= len(w) <= 30) or any(ch.isdigit() or ch in "，。；;,\n" for ch in w):
                raise ValueError(f"narrative.terms 的 words 中“{w}”无效：应为 1–30 字的词语，不含数字和标点")
        return self


class NarrativeRules(_Strict):
    terms: tuple[NarrativeTerm, ...] = Field(default=(), max_length=Limits.NARRATIVE_TERMS)


class Profile(_Strict):
    profile: ProfileInfo
    scoring: Scoring
    grades: tuple[Grade, ...] = Field(min_length=1, max_length=Limits.GRADES)
    level1: tuple[Level1, ...] = Field(min_length=1, max_length=Limits.LEVEL1)
    overall_level1: tuple[Level1, ...] = Field(default=(), max_length=Limits.LEVEL1)  # 附件2's indicator structure, where it differs from 附件3's
    projects: ProjectRules = ProjectRules(spare_sheets=0)  # regions without 附件1/附件3 need none
    forms: Forms
    report: Report
    checks: tuple[Check, ...] = Field(default=(), max_length=Limits.CHECKS)
    narrative: NarrativeRules = NarrativeRules()
    sources: tuple[tuple[str, str], ...] = ()  # (file, text) of every file of the region, for the workbook

    @model_validator(mode="after")
    def _weights_add_up(self) -> "Profile":
        s = self.scoring
        exec_w = s.execution_weight if s.execution_scored else 0
        for name, levels in (("level1", self.level1), ("overall_level1", self.overall_level1)):
            given = [l1.weight is not None for l1 in levels]
            if any(given) and not all(given):
                raise ValueError(f"{name}：要么每个一级指标都写 weight（各一级分值固定），要么都不写（只规定合计"
                                 f" scoring.total{' − scoring.execution_weight' if s.execution_scored else ''}）")
            if levels and not any(given) and s.total - exec_w <= 0:
                raise ValueError(f"{name} 没有写 weight（只规定合计），但 scoring.total 减去预算执行率分值后没有剩余分值")
        if self.level1[0].weight is not None:
            total = sum(l1.weight for l1 in self.level1) + exec_w
            if abs(total - s.total) > 1e-9:
                raise ValueError(
                    f"level1.weight 之和{'加 scoring.execution_weight ' if s.execution_scored else ''}"
                    f"为 {fmt_num(total, 4)}，应等于 scoring.total = {fmt_num(s.total, 4)}"
                )
        self._level2_weights_add_up(exec_w)
        mins = [g.min for g in self.grades]
        if mins != sorted(mins, reverse=True) or mins[-1] != 0:
            raise ValueError("grades 必须按 min 从高到低排列，最后一档 min = 0")
        for name, levels in (("level1", self.level1), ("overall_level1", self.overall_level1)):
            keys = [l2.key for l1 in levels for l2 in l1.level2]
            if len(keys) != len(set(keys)):
                raise ValueError(f"{name}.level2.key 有重复")
            if levels and levels[0].weight is not None and abs(sum(l1.weight for l1 in levels) + exec_w
                                                               - s.total) > 1e-9:
                raise ValueError(f"{name}.weight 之和与 scoring.total = {fmt_num(s.total, 4)} 不符")
        skeys = [sec.key for sec in self.report.sections]
        if len(skeys) != len(set(skeys)):
            raise ValueError("report.sections.key 有重复")
        return self

    def _level2_weights_add_up(self, exec_w: float) -> None:
        """Weights per 二级 (数量指标（20分）): all of a 一级's 二级 or none; where its 一级 has a
        weight, they add up to it; where only the total is fixed, all the 二级 weights add up to the
        indicators' total (or, where some 一级 leave theirs free, leave some of it). A message names
        the key at fault as ``level1.0.level2.1.weight：`` (``parse_profile`` finds its line)."""
        s = self.scoring
        for name, levels in (("level1", self.level1), ("overall_level1", self.overall_level1)):
            fixed = 0.0
            for i, l1 in enumerate(levels):
                given = [l2.weight is not None for l2 in l1.level2]
                if not any(given):
                    continue
                if not all(given):
                    j = given.index(False)
                    named = "、".join(f"{l2.name} {fmt_num(l2.weight, 4)}" for l2 in l1.level2 if l2.weight is not None)
                    raise ValueError(f"{name}.{i}.level2.{j}.weight：一级指标“{l1.name}”的二级指标要么都写 weight"
                                     f"（各二级分值固定，如 数量指标（20分）），要么都不写；已写 {named}，"
                                     f"“{l1.level2[j].name}”没有写")
                got = sum(l2.weight for l2 in l1.level2)
                fixed += got
                parts = "、".join(f"{l2.name} {fmt_num(l2.weight, 4)}" for l2 in l1.level2)
                if l1.weight is not None and abs(got - l1.weight) > 1e-9:
                    raise ValueError(f"{name}.{i}.weight：一级指标“{l1.name}”的 weight = {fmt_num(l1.weight, 4)}，"
                                     f"但其二级指标的 weight 之和为 {fmt_num(got, 4)}（{parts}）；两者应相等")
            if not levels or levels[0].weight is not None or not fixed:
                continue
            # only the total fixed: the 二级 weights share the indicators' total
            want = s.total - exec_w
            every = all(l1.level2_weighted for l1 in levels)
            i = next(n for n, l1 in enumerate(levels) if l1.level2_weighted)
            total = f"scoring.total{' − scoring.execution_weight' if s.execution_scored else ''} = {fmt_num(want, 4)}"
            if every and abs(fixed - want) > 1e-9:
                raise ValueError(f"{name}.{i}.level2.0.weight：各二级指标的 weight 之和为 {fmt_num(fixed, 4)}，"
                                 f"应等于绩效指标合计 {total}")
            if not every and fixed >= want - 1e-9:
                raise ValueError(f"{name}.{i}.level2.0.weight：已写 weight 的二级指标之和为 {fmt_num(fixed, 4)}，"
                                 f"没有给其余二级指标留下分值（绩效指标合计 {total}）")

    # -- conveniences used by layout, scoring and report ---------------------------------
    @property
    def id(self) -> str:
        return self.profile.id

    # Profiles key the layout and sheet caches: hash and compare by the digest of the region's
    # files, not field by field (hashing every grid cell on each cache look-up cost ~5 ms).
    def __hash__(self) -> int:
        return hash(self.digest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Profile) and (self is other or self.digest == other.digest)

    @property
    def digest(self) -> str:
        """SHA-256 of the region's files (names and text): two copies with the same id and
        another digest are different rules."""
        d = self.__dict__.get("_digest")
        if d is None:
            d = sources_digest(self.sources)
            self.__dict__["_digest"] = d
        return d

    def levels(self, which: str = "project") -> tuple[Level1, ...]:
        """The 一级/二级 structure of the project tables, or of the overall table ("overall")."""
        return self.overall_level1 if which == "overall" and self.overall_level1 else self.level1

    def weights_fixed_per_level1(self, which: str = "project") -> bool:
        """True when each 一级 has its own weight; False when only the indicators' total is fixed."""
        return self.levels(which)[0].weight is not None

    def indicator_total(self, which: str = "project") -> float:
        """The points the indicator rows share: the 一级 weights' sum, or the total left after
        the execution-rate score where only the total is fixed."""
        if self.weights_fixed_per_level1(which):
            return sum(l1.weight for l1 in self.levels(which))
        s = self.scoring
        return s.total - (s.execution_weight if s.execution_scored else 0)

    def level2_all(self, which: str = "project") -> list[tuple[Level1, Level2]]:
        return [(l1, l2) for l1 in self.levels(which) for l2 in l1.level2]

    def level2_by_name(self, name: str, which: str = "project") -> tuple[Level1, Level2] | None:
        want = normalize_label(name)
        for l1, l2 in self.level2_all(which):
            if normalize_label(l2.name) == want:
                return l1, l2
        return None

    def grade_for(self, score: float | None) -> str:
        if score is None:
            return ""
        for g in self.grades:
            if score >= g.min:
                return g.name
        return self.grades[-1].name


def normalize_label(text: str) -> str:
    """Labels as clerks and Word exports write them: drop white space and line breaks."""
    return "".join(str(text).split())


def _loc(err: dict) -> str:
    return ".".join(str(p) for p in err["loc"]) or "(根)"


def _line_of(text: str, loc: tuple) -> int:
    """Where a key of ``loc`` is written in the TOML text: inside its table (the n-th
    ``[[name]]`` for ``name.n``), the first line that sets its last name; for a key that is
    missing, the table's header (0 when neither can be found)."""
    names = [p for p in loc if isinstance(p, str)]
    if not names or not text:
        return 0
    lines = text.splitlines()
    if len(loc) >= 4 and loc[2] == "level2" and isinstance(loc[1], int) and isinstance(loc[3], int):
        return _level2_line(text, lines, loc)
    if len(names) > 2 and len(names) == len(loc):
        # a key of a sub-table written as its own header ([report.words] then project_result = …)
        header = "[" + ".".join(names[:-1]) + "]"
        at = next((i for i, ln in enumerate(lines) if ln.strip().replace(" ", "") == header), None)
        if at is not None:
            for i in range(at + 1, len(lines)):
                s = lines[i].strip()
                if s.startswith("["):
                    break
                if s.startswith(names[-1]) and s[len(names[-1]):].lstrip().startswith("="):
                    return i + 1
    if len(names) == 1 and len(loc) > 1 and isinstance(loc[1], int):
        # an error of the n-th [[name]] table as a whole: its header line
        headers = [i + 1 for i, ln in enumerate(lines) if ln.strip().replace(" ", "") == f"[[{names[0]}]]"]
        return headers[loc[1]] if loc[1] < len(headers) else 0
    start, end = 0, len(lines)
    if len(names) > 1:
        nth = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
        seen = -1
        for i, ln in enumerate(lines):
            s = ln.strip()
            if s.startswith("[") and s.strip("[]").strip() == names[0]:
                seen += 1
                if seen == nth:
                    start = i
                    break
        else:
            start = -1
        if start >= 0:
            end = next((j for j in range(start + 1, len(lines))
                        if lines[j].lstrip().startswith("[") and not lines[j].lstrip().startswith("[ ")), len(lines))
        else:
            start = 0
    for i in range(start, end):
        s = lines[i].strip()
        if s.startswith(names[-1]) and s[len(names[-1]):].lstrip().startswith("=") or f"{names[-1]} =" in s:
            return i + 1
    return start + 1 if start else 0


def _level2_line(text: str, lines: list[str], loc: tuple) -> int:
    """The line of a 二级's key (``level1.0.level2.1.weight``), written inline (level2 = [{ key =
    "quantity", … }]) or as its own [[level1.level2]] table: found by the 二级's key, unique in the
    table; the 二级's own line where the key is not written (0 when the text cannot be read)."""
    try:
        l2key = tomllib.loads(text)[loc[0]][loc[1]]["level2"][loc[3]]["key"]
    except (tomllib.TOMLDecodeError, KeyError, IndexError, TypeError):
        return 0
    at = next((i for i, ln in enumerate(lines) if re.search(r'\bkey\s*=\s*["\']' + re.escape(str(l2key)) + r'["\']', ln)), None)
    if at is None:
        return 0
    field = loc[4] if len(loc) > 4 and isinstance(loc[4], str) else None
    if field is None:
        return at + 1
    pattern = re.compile(r"(^|[{,\s])" + re.escape(field) + r"\s*=")
    if "{" in lines[at] or lines[at].lstrip().startswith("{"):  # an inline table: its own line
        return at + 1
    for i in range(at, len(lines)):  # a [[level1.level2]] table: its key lines up to the next header
        if i > at and lines[i].lstrip().startswith("["):
            break
        if pattern.search(lines[i]):
            return i + 1
    return at + 1


# pydantic's error types in the coordinator's words; {…} are filled from the error's context
_MESSAGES = {
    "missing": "必须给出",
    "extra_forbidden": "未知的键（请检查拼写）",
    "too_short": "至少要有 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "string_too_short": "不能为空",
    "string_too_long": "最多 {max_length} 个字",
    "string_type": "应为文字（用引号括起）",
    "string_pattern_mismatch": "格式不对：只能用小写字母、数字和下划线，以字母开头",
    "float_type": "应为数字", "float_parsing": "应为数字",
    "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数（不能有小数）",
    "bool_type": "应为 true 或 false", "bool_parsing": "应为 true 或 false",
    "finite_number": "应为有限的数字（不能是 inf 或 nan）",
    "greater_than": "应大于 {gt}", "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}", "less_than_equal": "应不大于 {le}",
    "tuple_type": "应为列表（[…]）", "list_type": "应为列表（[…]）",
    "model_type": "应为表（[名称] 或 { … }）", "dict_type": "应为表（[名称] 或 { … }）",
    "model_attributes_type": "应为表（[名称] 或 { … }）",
}


def pydantic_message(err: dict) -> str:
    """One pydantic error in Chinese, for any model a coordinator writes (a region, a data
    JSON): our own validators already speak Chinese, pydantic's own words never reach them."""
    return _message(err)


def _message(err: dict) -> str:
    """One pydantic error in Chinese (our own validators already speak Chinese)."""
    if err["type"] == "value_error":
        return err["msg"].removeprefix("Value error, ")
    if err["type"] == "string_pattern_mismatch":
        pattern = str((err.get("ctx") or {}).get("pattern", ""))
        choices = re.fullmatch(r"\^\(([\w|]+)\)\$", pattern)
        if choices:  # severity, tolerance, style …: a closed list
            return f"应为 {'、'.join(choices.group(1).split('|'))} 之一"
        if pattern == r"^[A-Z]+-\d{3}$":
            return "应为大写字母、短横线和三位数字，如 SUM-101"
    template = _MESSAGES.get(err["type"])
    if template is None:  # pydantic's own words are English: say what is wrong without them
        return "取值无效"
    try:
        return template.format(**{k: fmt_num(v, 4) if isinstance(v, float) else v
                                  for k, v in (err.get("ctx") or {}).items()})
    except (KeyError, IndexError, ValueError):
        return template


# a message of Profile's own validators that begins with the key at fault (level1.0.level2.1.weight：…)
_NAMED_KEY = re.compile(r"((?:overall_)?level1\.\d+(?:\.level2\.\d+)?\.weight)：")


def parse_profile(data: dict, source: str, text: str = "") -> Profile:
    try:
        return Profile.model_validate(data)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            msg = _message(err)
            # a validator of a table that names the entry at fault ("report.words.basic：…") points
            # at that entry's own line, not the table's
            deeper = re.match(re.escape(_loc(err)) + r"\.([A-Za-z_][A-Za-z0-9_]*)：", msg)
            if deeper:
                err = {**err, "loc": (*err["loc"], deeper.group(1))}
                msg = msg[deeper.end():]
            named = _NAMED_KEY.match(msg) if not err["loc"] else None
            if named:  # the rules' own consistency (Profile's validators): the key the message names
                err = {**err, "loc": tuple(int(p) if p.isdigit() else p for p in named.group(1).split("."))}
                msg = msg[named.end():]
            line = _line_of(text, err["loc"])
            lines.append(f"  {f'第 {line} 行 ' if line else ''}键 {_loc(err)}：{msg}")
        raise ProfileError(f"地区配置 {source} 无效：\n" + "\n".join(lines)) from None


def region_json_schema() -> dict:
    """The JSON Schema of ``region.toml`` (an editor with a TOML language server validates and
    completes a region with it): the rules' models, with ``forms.sheets`` as the file names
    the coordinator writes and without ``sources`` (filled in by the loader). ``forms.schema``
    publishes it with every key's meaning and example."""
    schema = Profile.model_json_schema()
    schema["properties"].pop("sources", None)
    forms = schema.get("$defs", {}).get("Forms", {}).get("properties", {})
    if "sheets" in forms:
        forms["sheets"] = {"type": "array", "items": {"type": "string"}, "minItems": 1,
                           "maxItems": Limits.SHEETS, "description": "各表的定义文件，按工作簿中的顺序",
                           "examples": [["forms/guide.toml", "forms/project.toml"]]}
    schema["title"] = "region.toml（selfeval-xl 地区配置）"
    return schema


# metadata rows that carry a region's files: "region:<file>:<part>" (a cell holds at most 32,767 characters)
REGION_ROW = "region:"
REGION_CHUNK = 30000

def sources_digest(sources: dict[str, str] | tuple[tuple[str, str], ...]) -> str:
    """The digest ``Profile.digest`` gives for these files."""
    h = hashlib.sha256()
    for name, text in sorted(dict(sources).items()):
        h.update(name.encode() + b"\0" + text.encode() + b"\0")
    return h.hexdigest()

def region_rows(profile: Profile) -> list[tuple[str, str]]:
    """The metadata rows that carry the region whole, so the workbook is read where the
    region is not installed."""
    rows = []
    for name, text in profile.sources:
        for k in range(0, max(len(text), 1), REGION_CHUNK):
            rows.append((f"{REGION_ROW}{name}:{k // REGION_CHUNK}", text[k:k + REGION_CHUNK]))
    return rows

def sources_from_rows(meta: dict[str, str]) -> dict[str, str]:
    """The region files a workbook's metadata carries (empty for workbooks that carry none)."""
    parts: dict[str, dict[int, str]] = {}
    for key, value in meta.items():
        if key.startswith(REGION_ROW):
            name, _, k = key[len(REGION_ROW):].rpartition(":")
            if name and k.isdigit():
                parts.setdefault(name, {})[int(k)] = value
    return {name: "".join(chunks[k] for k in sorted(chunks)) for name, chunks in parts.items()}
