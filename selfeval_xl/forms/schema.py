"""The published description of a region's files: the JSON Schema of a sheet file
(``forms/*.toml``, ``templates/form.schema.json``) and the reference page of both files
(``docs/region-reference.md``), built from the same constants the loader checks against.

``build_templates.py`` writes both; tests hold the committed files equal to this module's
output, every shipped region valid against the schemas, and every example on the page loadable.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

from ..core.region import REGION_FILE, Limits, region_json_schema
from ..core.words import WORDS
from .cells import SEVERITIES, TOLERANCES
from .compile import INDICATOR_COLUMNS
from .definition import (
    BLOCK_KINDS, BLOCK_PARAMS, DERIVED_TYPES, EXEC_PARTS, INDICATOR_LEVELS, INPUT_TYPES, LABEL_STYLES, REPEATS,
    REPORT_PLACES, ROLES, _BLOCK_KEYS, _CHECK_FIELDS, _CHOICES_CHARS, _MESSAGE_CHARS, _REPORTED_FIELDS, _SHEET_KEYS,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
FORM_SCHEMA_FILE = "form.schema.json"
REGION_SCHEMA_FILE = "region.schema.json"

_ROLE_WORDS = {"guide": "填表说明", "basic": "基础数据表（附件1）", "overall": "部门整体支出绩效自评表（附件2）",
               "project": "项目支出绩效自评表（附件3，每个项目一张）", "narrative": "报告正文", "other": "其他表"}
_KIND_WORDS = {
    "grid": "画出的网格：每行一行文字，单元格以 | 分隔",
    "indicators": "绩效指标表：一级/二级指标按 region.toml 的 [[level1]]，每个二级留 rows 行",
    "totals": "总分行（及评价等次行）：指标得分与预算执行率得分之和",
    "project_rows": "附件1 的项目支出行：按类别的小计行和各项目行",
    "sections": "报告正文各部分的填写格，按 region.toml 的 [[report.sections]]",
    "guide": "填表说明，由规则生成",
}


def _enum(values: tuple, text: str, example: Any = None) -> dict:
    return {"enum": list(values), "description": text, "examples": [values[0] if example is None else example]}


def _text(text: str, example: Any, **kw: Any) -> dict:
    return {"type": "string", "description": text, "examples": [example], **kw}


def _table_of(values: dict, text: str, example: Any, **kw: Any) -> dict:
    return {"type": "object", "additionalProperties": values, "description": text, "examples": [example], **kw}


_CELL_KEY = {"type": "string", "minLength": 1, "maxLength": 120}

_GRID_TEXT = (
    "网格，每行一行（写在 ''' 与 ''' 之间）。单元格以 | 分隔（\\| 为字面的竖线）："
    "文字为标签，“文字 ::样式”设样式（" + "、".join(LABEL_STYLES) + "），\\n 换行，"
    "{year} {prior_year} {n} {unit_name} {unit_code} {dept_name_label} {sheet} 自动填入；"
    "< 与左格合并，^ 与上格合并，~ 不画格；"
    "$键 或 $键:类型 为填写格（类型：" + "、".join(INPUT_TYPES) + "）；"
    "=键 或 =键:类型 为计算格（类型：" + "、".join(DERIVED_TYPES) + "），公式写在 [block.formulas]；"
    "!键 为不打印的提示格；" + "、".join("&exec." + p for p in EXEC_PARTS) + " 为预算执行率的格（须写 exec）；"
    "行末 @30 设行高；一行只写 - 为空行；# 开头为注释。以 . 开头的键属于本表的项目。"
)
_GRID_EXAMPLE = ("项目名称 ::header | $.name | <\n"
                 "年度资金总额 | =.funds.total.full | &exec.rate\n"
                 "当年财政拨款 | $.funds.current.full:money | ~\n")


def _params(kind: str) -> dict:
    """The schema of a block kind's table (``indicators = { … }``), its keys from ``BLOCK_PARAMS``."""
    known = {
        "key": _text("该块的键前缀：. 为本表的项目，overall 为部门整体", "overall"),
        "group": {"anyOf": [{"type": "string"}, {"const": False}],
                  "description": "指标表最左一栏的竖排标签；false 表示没有这一栏", "examples": ["绩\n效\n指\n标"]},
        "levels": _enum(INDICATOR_LEVELS, "按哪套指标结构画：project 为 [[level1]]，overall 为 [[overall_level1]]（未写时同 level1）",
                        "overall"),
        "columns": {"type": "array", "items": {"enum": list(INDICATOR_COLUMNS)}, "uniqueItems": True,
                    "description": "指标表的各列（须含 name、weight、score）：" + "、".join(INDICATOR_COLUMNS),
                    "examples": [["name", "target", "actual", "weight", "score", "deviation"]]},
        "headers": {"type": "array", "items": {"type": "string"},
                    "description": "各列的表头，与 columns 一一对应（或多出一级、二级两个表头）",
                    "examples": [["一级指标", "二级指标", "三级指标", "年度\n指标值", "实际\n完成值", "分值", "得分",
                                  "偏差原因分析及改进措施"]]},
        "label": _text("该行最左的文字", "总分" if kind == "totals" else "二、部门项目支出"),
        "exec": _text("计入总分的预算执行率所在块的 exec.key", ".funds"),
        "grade_label": _text("评价等次一行的标签（scoring.show_grade_row = true 时印出）", "评定等级"),
        "spans": {"type": "array", "items": {"type": "array", "items": {"type": "integer", "minimum": 0},
                                             "minItems": 2, "maxItems": 2},
                  "description": "上年数、本年预算数、本年决算数各占的列 [首列, 末列]（从 0 起）",
                  "examples": [[[1, 2], [3, 4], [5, 6]]]},
        "hint_col": {"type": "integer", "minimum": 0, "maximum": Limits.GRID_COLUMNS,
                     "description": "提示格所在的列（从 0 起）", "examples": [7]},
    }
    example = {"indicators": {"key": "overall", "levels": "overall"},
               "totals": {"key": "overall", "label": "总分", "exec": "overall"},
               "project_rows": {"key": "basic.projects", "label": "二、部门项目支出"}}.get(kind, {})
    return {"type": "object", "additionalProperties": False,
            "properties": {k: known[k] for k in BLOCK_PARAMS[kind]},
            "description": _KIND_WORDS[kind], "examples": [example]}


def _check_schema() -> dict:
    fields = {
        "code": _text("问题代码：大写字母、短横线和三位数字", "SUM-101", pattern=r"^[A-Z]+-\d{3}$"),
        "message": _text("问题清单中的说明", "年度资金总额应等于各项资金之和", minLength=1, maxLength=_MESSAGE_CHARS),
        "severity": _enum(SEVERITIES, "级别（不写为 error）"),
        "tolerance": _enum(TOLERANCES, "容差（不写时按格的类型）"),
    }
    assert set(fields) == set(_CHECK_FIELDS)
    return {"type": "object", "additionalProperties": False, "required": ["code", "message"],
            "properties": fields, "description": "退回的工作簿中该计算格的值与公式不符时报告的问题",
            "examples": [{"code": "SUM-101", "message": "年度资金总额应等于各项资金之和", "tolerance": "money"}]}


def _reported_schema(severity: str) -> dict:
    fields = {
        "when": _text("提示出现的条件（Excel 条件，用 {键} 指代单元格）", "{.funds.total.executed}>{.funds.total.full}",
                      minLength=1, maxLength=Limits.FORMULA_CHARS),
        "message": _text("提示的文字", "执行数超过预算数", minLength=1, maxLength=_MESSAGE_CHARS),
        "at": _text("提示指向的单元格的键（须在同一块中）", ".funds.total.executed"),
    }
    assert set(fields) == set(_REPORTED_FIELDS)
    return {"anyOf": [
        {"type": "string", "maxLength": Limits.FORMULA_CHARS, "description": "条件格式：条件成立时该格标色"},
        {"type": "object", "additionalProperties": False, "required": ["when", "message"], "properties": fields,
         "description": f"提示格（!键）的提示，校验时报告为 {'HINT-101 提醒' if severity == 'warning' else 'HINT-201 错误'}"},
    ]}


def _block_schema() -> dict:
    props: dict[str, dict] = {
        "grid": _text(_GRID_TEXT, _GRID_EXAMPLE, minLength=1),
        **{kind: _params(kind) for kind in BLOCK_KINDS if kind != "grid"},
        "table": {"type": "boolean", "default": True, "description": "该块是否属于表格（画框线、印入报告）；标题和表下文字写 false",
                  "examples": [False]},
        "exec": {"type": "object", "additionalProperties": False, "required": ["key", "executed", "budget"],
                 "properties": {"key": _text("执行率各格的键前缀", ".funds"),
                                "executed": _text("执行数的键", ".funds.total.executed"),
                                "budget": _text("预算数的键", ".funds.total.full")},
                 "description": "预算执行率：&exec.* 格按执行数 ÷ 预算数和 [scoring] 的规则算出",
                 "examples": [{"key": ".funds", "executed": ".funds.total.executed", "budget": ".funds.total.full"}]},
        "formulas": _table_of({"type": "string", "maxLength": Limits.FORMULA_CHARS},
                              "计算格（=键、!键）的公式：以 = 开头为 Excel 公式，{键} 指代单元格；否则为文字模板",
                              {".funds.total.full": "=SUM({.funds.current.full},{.funds.other.full})"}),
        "prompts": _table_of({"type": "string"}, "填写格的输入提示（选中单元格时显示）", {".name": "项目名称（一级项目）"}),
        "choices": _table_of({"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1, "pattern": "^[^,]*$"}},
                             f"文字填写格的下拉选项（各选项合计不超过 {_CHOICES_CHARS} 个字符，不含逗号）",
                             {".category": ["业务工作经费", "专项资金"]}),
        "warn": _table_of(_reported_schema("warning"), "提醒：键 = 条件（条件格式，条件成立时该格标色），或 提示格的键 = { when, message, at }（网格中的 !键）",
                          {".funds.over": {"when": "{.funds.total.executed}>{.funds.total.full}", "message": "执行数超过预算数"}}),
        "error": _table_of(_reported_schema("error"), "错误：写法同 warn，校验时报告为错误",
                           {".funds.over": {"when": "{.funds.total.executed}>{.funds.total.full}", "message": "执行数超过预算数"}}),
        "checks": _table_of({"$ref": "#/$defs/CellCheck"},
                            "计算格的校验：键为 =键（末尾 * 表示以此开头的各计算格）",
                            {".funds.total.*": {"code": "SUM-101", "message": "年度资金总额应等于各项资金之和"}}),
    }
    assert set(props) == _BLOCK_KEYS, sorted(set(props) ^ _BLOCK_KEYS)
    return {"type": "object", "additionalProperties": False, "properties": props,
            "oneOf": [{"required": [kind]} for kind in BLOCK_KINDS],
            "description": "表的一块（[[block]]）：" + "、".join(BLOCK_KINDS) + " 中的一种，且只有一种",
            "examples": [{"grid": _GRID_EXAMPLE}]}


def form_json_schema() -> dict:
    """The JSON Schema of a sheet file ``forms/*.toml``: every key the loader accepts, each with
    its meaning and an example; the lists of allowed values are the loader's own."""
    props: dict[str, dict] = {
        "name": _text("工作表名（最多 31 个字，不能含 [ ] : * ? / \\）；{n} 为项目序号", "附件3({n})",
                      minLength=1, maxLength=31, pattern=r"^[^\[\]:*?/\\]+$"),
        "role": _enum(ROLES, "表的用途：" + "；".join(f"{r} {_ROLE_WORDS[r]}" for r in ROLES), "project"),
        "title": _text("报告附件清单中这张表的名称；不写时按用途", "项目绩效目标自评表", maxLength=Limits.NAME_CHARS,
                       pattern=r"^[^{}\n]*$"),
        "widths": {"type": "array", "maxItems": Limits.GRID_COLUMNS, "items": {"type": "number", "minimum": 0, "maximum": 255},
                   "description": "各列的列宽（字符数），从 A 列起", "examples": [[8, 11, 30, 15]]},
        "print_cols": {"type": "integer", "minimum": 0, "maximum": Limits.GRID_COLUMNS, "default": 0,
                       "description": "打印的列数（其后的列为提示，不打印）；0 为全部", "examples": [9]},
        "repeat_rows": {"type": "array", "maxItems": 2, "items": {"type": "integer", "minimum": 0, "maximum": 1000},
                        "description": "每页重复打印的行 [首行, 末行]（从 0 起）", "examples": [[0, 1]]},
        "landscape": {"type": "boolean", "default": True, "description": "横向打印；false 为纵向", "examples": [False]},
        "repeat": _enum(REPEATS, "projects：每个项目一张表（键以 . 开头的格属于该项目）"),
        "report": {**_enum(REPORT_PLACES, "表格在报告中的位置：attachment 作为附件，body 放在正文中"), "default": "attachment"},
        "block": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/Block"},
                  "description": "表的各块，自上而下", "examples": [[{"grid": _GRID_EXAMPLE}]]},
    }
    assert set(props) == _SHEET_KEYS, sorted(set(props) ^ _SHEET_KEYS)
    return {
        "$schema": DRAFT,
        "title": "forms/*.toml（selfeval-xl 表格定义，一个文件一张表）",
        "type": "object", "additionalProperties": False, "required": ["name", "role", "block"],
        "properties": props,
        "$defs": {"Block": _block_schema(), "CellCheck": _check_schema()},
    }


# what each key of region.toml means, in the coordinator's words, and an example, for the keys
# whose Field says neither (the schema an editor reads and the reference page are made from these);
# here and not in core because examples name cells, which only the form engine may spell
REGION_DOCS: dict[str, tuple[str, Any]] = {
    "Profile.profile": ("地区的名称与标识", None),
    "Profile.scoring": ("计分规则：预算执行率的分值、小数位、总分、容差", None),
    "Profile.grades": ("评价等次，按 min 从高到低排列，最后一档 min = 0", None),
    "Profile.level1": ("项目表（及未另写 overall_level1 时整体表）的一级指标，每个一级下列二级指标", None),
    "Profile.overall_level1": ("部门整体支出表的一级指标，与项目表不同时才写", None),
    "Profile.projects": ("项目支出的类别（附件1 的分类行）和备用项目表", None),
    "Profile.forms": ("各表的定义文件和填表说明的文字", None),
    "Profile.report": ("自评报告：封面、标题、各部分", None),
    "Profile.checks": ("公式之外的校验规则（两数相等、比较、求和、范围、必填）", None),
    "Profile.narrative": ("报告文字中的数字与表中数字的对照", None),
    "ProfileInfo.id": ("地区标识，与文件夹名相同（字母、数字、-、_、.）；复制内置地区改出的新地区须另起一个 id，沿用内置的 id 会被拒绝", "hubei-2024"),
    "ProfileInfo.name": ("地区配置的名称，显示在命令和工作台中", "湖北省 2024 年度项目支出绩效自评"),
    "ProfileInfo.region": ("地区名称", "湖北省"),
    "ProfileInfo.dept_name_label": ("表中“部门名称”一栏的叫法", "预算部门名称"),
    "Scoring.execution_weight": ("预算执行率的分值", 10),
    "Scoring.execution_scored": ("预算执行率的得分是否计入总分", True),
    "Scoring.execution_rate_percent_decimals": ("执行率按百分数保留的小数位，表中、报告中和汇总表都按此显示（0：99%）；"
                                                "-1 表示不取整（显示两位小数）", 2),
    "Scoring.score_decimals": ("得分保留的小数位", 2),
    "Scoring.total": ("总分", 100),
    "Scoring.money_tolerance": ("金额比较的容差（万元）", 0.01),
    "Scoring.score_tolerance": ("得分比较的容差（分）", 0.01),
    "Scoring.show_grade_row": ("总分下是否列出评价等次一行", True),
    "Scoring.execution_shown": ("执行率旁是否印出分值；不写时与 execution_scored 相同", False),
    "Grade.name": ("等次名称", "优"),
    "Grade.min": ("达到该等次的最低分", 90),
    "Level1.key": ("一级指标的键（小写字母、数字、下划线）", "output"),
    "Level1.name": ("一级指标名称", "产出指标"),
    "Level1.weight": ("一级指标的分值；各一级都不写时只规定指标合计", 50),
    "Level1.level2": ("该一级下的二级指标", [{"key": "quantity", "name": "数量指标", "rows": 6}]),
    "Level2.key": ("二级指标的键（小写字母、数字、下划线），全表唯一", "quantity"),
    "Level2.name": ("二级指标名称", "数量指标"),
    "Level2.rows": ("表中为该二级指标留的三级指标行数", 6),
    "Level2.weight": ("二级指标的分值（表样按二级印分值，如 数量指标（20分））：有分值列的，其下各行分值之和应等于它；"
                      "没有分值列的，其下各行得分之和不超过它。一个一级下的二级要么都写、要么都不写；"
                      "一级也写了 weight 的，各二级之和应等于一级的分值", 20),
    "Level2.ceiling": ("指标值只写金额时是否视为上限（成本指标“150万元”即 ≤150万元）", True),
    "Level2.items": ("评分表中表样印定的行（评价内容、分值、评分标准），每行一项，个数与 rows 相同；单位只填得分",
                     [{"name": "决策依据", "weight": 2, "criteria": "有项目年度工作计划或上级文件计 2 分，没有不得分"}]),
    "Item.name": ("评价内容（印在表中，单位不能改）", "决策依据"),
    "Item.weight": ("本行分值（印在表中，锁定）", 2),
    "Item.criteria": ("评分标准（印在 criteria 一列，锁定）", "有项目年度工作计划或上级文件计 2 分，没有不得分"),
    "ProjectRules.categories": ("项目支出的类别", ["业务工作经费", "专项资金"]),
    "ProjectRules.category_labels": ("各类别在附件1 中印出的文字，个数与 categories 相同", ["1、业务工作经费", "2、专项资金"]),
    "ProjectRules.default_category": ("未写类别的项目归入的类别，须是 categories 之一", "业务工作经费"),
    "ProjectRules.free_rows_per_category": ("附件1 每个类别下留的空行数", 2),
    "ProjectRules.spare_sheets": ("隐藏的备用项目表张数（名册之外的项目用）", 2),
    "ProjectRules.category_rows": ("附件1 是否按类别列小计行；false 为一列到底", True),
    "Forms.guide_order": ("填表说明中“填写顺序”一行，与默认顺序不同时才写", "① 基础数据表；② 项目支出绩效自评表；③ 报告正文。"),
    "Report.sections": ("报告正文的各部分，按顺序", None),
    "Report.completeness": ("按报告各部分是否齐全预评“完整性”得分（湖南评分表附件5 的做法，PRE-301）；不写则没有这项预评分",
                            {"body": 8, "attachments": 7, "deduct": 2, "sheet": "附件5"}),
    "Completeness.body": ("正文（各部分）的满分", 8),
    "Completeness.attachments": ("各表（附件）的满分", 7),
    "Completeness.deduct": ("缺一部分扣的分", 2),
    "Completeness.sheet": ("评分所依据的表，提示中引用；不写则不提", "附件5"),
    "Report.cover": ("封面各行；不写时用通用的封面：年度、报告标题（{title}）、单位名称（盖章）、日期", None),
    "Report.body_title": ("正文前是否印出标题（“{year}年度{unit_name}” 与报告标题）", True),
    "Report.sections_heading": ("各部分之上的总标题，表样有时才写", "五、评价报告综述（参考提纲）"),
    "Report.title": ("报告标题；不写时按有无部门整体表定为整体支出或项目支出绩效自评报告", "整体支出绩效自评报告"),
    "Report.evaluation": ("生成的句子中对评价对象的叫法", "部门整体支出"),
    "Report.file_name": ("报告文件名，可用 {unit_code} {unit_name} {year} {title}；不写时按工作簿名", "{unit_code}{unit_name}{year}年度{title}"),
    "Report.words": ("生成的句子的模板，按名称改写（不写的用默认）",
                     {"project_result": "{year}年度{name}[预算执行率{rate}，][绩效自评得分{score}分]"}),
    "Check.severity": ("问题的级别：error 错误、warning 提醒、info 说明", "warning"),
    "Check.tolerance": ("比较两数时的容差：money 金额、rate 比率、score 得分、exact 精确", "money"),
    "Section.key": ("该部分的键（小写字母、数字、下划线），不重复", "basic_info"),
    "Section.title": ("该部分的标题", "一、部门（单位）基本情况"),
    "Section.hint": ("填写提示", "职能职责、机构设置、人员情况、年度绩效目标"),
    "Section.generated": ("该部分由系统按表中数字生成", True),
    "Section.figures": ("该部分以系统生成的数字开头", True),
    "CoverLine.text": ("封面一行的文字，可用 {unit_name} {unit_code} {year} {report_date} {title}；空为空行", "部门（单位）名称：{unit_name}（盖章）"),
    "CoverLine.style": ("该行的样式：center 居中、left 靠左、title 标题", "center"),
    "NarrativeRules.terms": ("地区对表中数字的叫法", None),
    "NarrativeTerm.concept": ("概念名称", "项目支出预算"),
    "NarrativeTerm.words": ("报告中指代该数字的词语", ["项目支出预算", "项目预算"]),
    "NarrativeTerm.kind": ("数字的种类：money 金额、count 个数、rate 比率、score 得分", "money"),
    "NarrativeTerm.key": ("表中该数字的键", "basic.projects.total.budget"),
    "NarrativeTerm.budget_key": ("与之对照的预算数的键（算执行率时用）", ""),
}


def region_schema() -> dict:
    """``region.toml``'s schema as published: ``core.region.region_json_schema``, each table
    with an example too (the page's: ``TABLE_EXAMPLES``, or its keys' examples together)."""
    schema = region_json_schema()
    for name, model in [("Profile", schema), *schema.get("$defs", {}).items()]:
        for key, prop in model.get("properties", {}).items():
            text, example_value = REGION_DOCS.get(f"{name}.{key}", ("", None))
            if text and "description" not in prop:
                prop["description"] = text
            if example_value is not None and "examples" not in prop:
                prop["examples"] = [example_value]

    words = schema["$defs"]["Report"]["properties"]["words"]
    words["propertyNames"] = {"enum": list(WORDS)}  # an editor completes the sentences' names
    words["description"] += "。可改写的句子：" + "；".join(f"{name}（{w.what}）" for name, w in WORDS.items())

    def example(prop: dict, path: str) -> Any:
        sub = _resolve(schema, prop)
        if not sub:
            return _example(prop)
        if path in TABLE_EXAMPLES:
            value: Any = tomllib.loads(TABLE_EXAMPLES[path])
            for name in path.split("."):
                value = value[name]
        elif path.endswith(".level2"):
            return example(schema["properties"][path.split(".")[0]], path.split(".")[0])[0]["level2"]
        else:
            value = {k: x for k, x in ((k, example(p, f"{path}.{k}")) for k, p in sub["properties"].items())
                     if x is not None}
        return value

    for name, model in [("", schema), *schema["$defs"].items()]:
        for key, prop in model.get("properties", {}).items():
            if _resolve(schema, prop) and "examples" not in prop:
                path = key if not name else next(
                    (f"{k}.{key}" for k, p in schema["properties"].items() if _resolve(schema, p) is model), None)
                if path is None:  # a table inside a table inside a table (level1.level2)
                    continue
                prop["examples"] = [example(prop, path)]
    return schema


def schema_text(schema: dict) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


# -- the reference page -----------------------------------------------------------------------

# a whole region, as small as the loader accepts: the page shows it and a test loads it
MINIMAL_REGION = {
    REGION_FILE: '''[profile]
id = "minimal"
name = "最小的地区"

[scoring]
execution_weight = 10
execution_scored = true
execution_rate_percent_decimals = 2

[[grades]]
name = "合格"
min = 60
[[grades]]
name = "不合格"
min = 0

[[level1]]
key = "output"
name = "产出指标"
weight = 90
level2 = [{ key = "quantity", name = "数量指标", rows = 3 }]

[forms]
sheets = ["forms/guide.toml", "forms/project.toml"]

[[report.sections]]
key = "summary"
title = "一、项目概况"
''',
    "forms/guide.toml": '''name = "填表说明"
role = "guide"
widths = [16, 100]

[[block]]
guide = {}
''',
    "forms/project.toml": '''name = "项目表({n})"
role = "project"
repeat = "projects"
widths = [10, 20, 14, 14, 8, 8, 8, 20]

[[block]]
table = false
grid = \'\'\'
{year}年度项目支出绩效自评表 ::title | < | < | < | < | < | < | < | @30
\'\'\'

[[block]]
grid = \'\'\'
项目名称 ::header | <   | $.name | <  | <  | <  | <  | <
资金（万元） ::header | < | 全年预算数 ::header | 全年执行数 ::header | 分值 ::header | 执行率 ::header | 得分 ::header | ~
^ | 年度资金总额 | =.funds.total.full | =.funds.total.executed | &exec.weight | &exec.rate | &exec.score | &exec.hint
^ | 财政拨款 | $.funds.current.full:money | $.funds.current.executed:money | ~ | ~ | ~ | ~
\'\'\'
exec = { key = ".funds", executed = ".funds.total.executed", budget = ".funds.total.full" }

[block.formulas]
".funds.total.full" = "=SUM({.funds.current.full})"
".funds.total.executed" = "=SUM({.funds.current.executed})"

[[block]]
indicators = { key = "." }

[[block]]
totals = { key = ".", label = "总分", exec = ".funds" }
''',
}


def toml_value(v: Any) -> str:
    """A value as TOML writes it on one line (strings as JSON escapes them: valid TOML)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v).__name__)


def _toml_key(k: str) -> str:
    return k if k.replace("_", "").isalnum() and k.isascii() else json.dumps(k, ensure_ascii=False)


def _resolve(schema: dict, prop: dict) -> dict:
    ref = prop.get("$ref") or next((a.get("$ref") for a in prop.get("anyOf", ()) if "$ref" in a), None)
    if ref is None and prop.get("type") == "array":
        ref = prop.get("items", {}).get("$ref")
    return schema["$defs"][ref.rsplit("/", 1)[1]] if ref else {}


def _type_words(prop: dict) -> str:
    if "enum" in prop:
        return "文字"
    if "const" in prop:
        return "取值 " + toml_value(prop["const"])
    if "anyOf" in prop:
        return " 或 ".join(dict.fromkeys(_type_words(a) for a in prop["anyOf"] if a.get("type") != "null"))
    if "$ref" in prop:
        return "表"
    t = prop.get("type")
    if t == "array":
        inner = prop.get("items") or {}
        return "表的数组" if "$ref" in inner else "列表" + (f"（{_type_words(inner)}）" if inner else "")
    return {"string": "文字", "integer": "整数", "number": "数字", "boolean": "true/false", "object": "表"}.get(t, "值")


def _allowed_words(prop: dict) -> str:
    parts = []
    if "enum" in prop:
        parts.append("、".join(str(x) for x in prop["enum"]))
    for a in prop.get("anyOf", ()):
        if "enum" in a:
            parts.append("、".join(str(x) for x in a["enum"]))
    closed = re.fullmatch(r"\^\(([\w|]+)\)\$", prop.get("pattern", ""))
    if closed:
        parts.append("、".join(closed.group(1).split("|")))
    elif "pattern" in prop:
        parts.append(f"格式 `{prop['pattern']}`")
    if prop.get("type") == "boolean":
        parts.append("true、false")
    lo = prop.get("minimum", prop.get("exclusiveMinimum"))
    hi = prop.get("maximum")
    if lo is not None or hi is not None:
        parts.append(f"{'' if lo is None else lo} 到 {'' if hi is None else hi}")
    for a in prop.get("anyOf", ()):
        if "exclusiveMinimum" in a:  # weight > 0 (a 二级's points): "大于 0，至多 …"
            parts.append(f"大于 {a['exclusiveMinimum']}" + (f"，至多 {a['maximum']}" if "maximum" in a else ""))
        elif "minimum" in a or "maximum" in a:
            parts.append(f"{a.get('minimum', '')} 到 {a.get('maximum', '')}")
    if "maxLength" in prop:
        parts.append(f"至多 {prop['maxLength']} 字")
    if "maxItems" in prop:
        parts.append(f"至多 {prop['maxItems']} 项")
    items = prop.get("items") or {}
    if "enum" in items:
        parts.append("每项为 " + "、".join(items["enum"]))
    return "；".join(parts) or "—"


def _example(prop: dict) -> Any:
    if prop.get("examples"):
        return prop["examples"][0]
    if "default" in prop:
        return prop["default"]
    return None


# the tables a region writes as arrays ([[name]]), each as a whole example: entries of such a
# table depend on each other (grades fall to 0, weights add up), so one key alone is no example
TABLE_EXAMPLES = {
    "grades": '''[[grades]]
name = "优"
min = 90
[[grades]]
name = "良"
min = 80
[[grades]]
name = "中"
min = 60
[[grades]]
name = "差"
min = 0''',
    "level1": '''[[level1]]
key = "output"
name = "产出指标"
weight = 50
level2 = [
  { key = "quantity", name = "数量指标", rows = 4 },
  { key = "cost", name = "成本指标", rows = 2, ceiling = true },
]
[[level1]]
key = "benefit"
name = "效益指标"
weight = 40
level2 = [{ key = "social", name = "社会效益指标", rows = 3 }]''',
    "overall_level1": '''[[overall_level1]]
key = "output"
name = "产出指标"
weight = 50
level2 = [{ key = "duty", name = "履职指标", rows = 5 }]
[[overall_level1]]
key = "benefit"
name = "效益指标"
weight = 40
level2 = [{ key = "effect", name = "履职效益", rows = 4 }]''',
    "report.sections": '''[[report.sections]]
key = "basic_info"
title = "一、部门（单位）基本情况"
hint = "职能职责、机构设置、人员情况、年度绩效目标"
[[report.sections]]
key = "performance"
title = "二、绩效目标完成情况"
figures = true
[[report.sections]]
key = "budget"
title = "三、预算执行情况"
generated = true''',
    "report.cover": '''[[report.cover]]
text = "{year}年度{title}"
style = "title"
[[report.cover]]
text = ""
[[report.cover]]
text = "部门（单位）名称：{unit_name}（盖章）"
style = "left"''',
    "checks": '''[[checks]]
code = "XATT-101"
message = "全年执行数不应超过全年预算数"
severity = "warning"
compare = [".funds.total.executed", "<=", ".funds.total.full"]
[[checks]]
code = "XATT-102"
message = "未足额执行的须说明原因"
require = ".name"
if_filled = ".funds.total.full"
[[checks]]
code = "XATT-103"
message = "执行数应在 0 与预算数的 1.2 倍之间"
range = ".funds.total.executed"
min = 0
[[checks]]
code = "XATT-104"
message = "年度资金总额应等于财政拨款"
sum = [".funds.current.full"]
equals = ".funds.total.full"
tolerance = "money"
[[checks]]
code = "XATT-105"
message = "全年预算数应等于财政拨款"
equal = [".funds.current.full", ".funds.total.full"]
at = ".funds.total.full"
when = "{.funds.total.full}>0"''',
    "narrative.terms": '''[[narrative.terms]]
concept = "项目预算"
words = ["项目预算", "全年预算"]
kind = "money"
key = "basic.projects.total.budget"''',
}

# a sheet file's parts as whole examples: a project table built of a grid block using every
# key a block may have, the indicator table and the total row (a test assembles and loads them)
FORM_EXAMPLES = {
    "grid": """[[block]]
grid = '''
项目名称 ::header | <   | $.name | <  | <  | <  | <  | <
资金（万元） ::header | < | 全年预算数 ::header | 全年执行数 ::header | 分值 ::header | 执行率 ::header | 得分 ::header | ~
^ | 年度资金总额 | =.funds.total.full | =.funds.total.executed | &exec.weight | &exec.rate | &exec.score | &exec.hint
^ | 财政拨款 | $.funds.current.full:money | $.funds.current.executed:money | ~ | ~ | ~ | !.funds.over
项目类别 ::header | < | $.category | < | < | < | < | < | @24
'''
table = true
exec = { key = ".funds", executed = ".funds.total.executed", budget = ".funds.total.full" }

[block.formulas]
".funds.total.full" = "=SUM({.funds.current.full})"
".funds.total.executed" = "=SUM({.funds.current.executed})"

[block.checks]
".funds.total.*" = { code = "SUM-101", message = "年度资金总额应等于财政拨款", severity = "error", tolerance = "money" }

[block.prompts]
".name" = "项目名称（一级项目）"

[block.choices]
".category" = ["业务工作经费", "专项资金"]

[block.warn]
".funds.current.executed" = "{.funds.current.executed}>{.funds.current.full}"
".funds.over" = { when = "{.funds.total.executed}>{.funds.total.full}", message = "执行数超过预算数", at = ".funds.total.executed" }""",
    "indicators": '''[[block]]
indicators = { key = ".", group = "绩\\n效\\n指\\n标", levels = "project", columns = ["name", "target", "actual", "weight", "score", "deviation"] }''',
    "totals": '''[[block]]
totals = { key = ".", label = "总分", exec = ".funds", grade_label = "评定等级" }''',
    "project_rows": '''[[block]]
project_rows = { key = "basic.projects", label = "二、部门项目支出", spans = [[1, 2], [3, 4], [5, 6]], hint_col = 7 }''',
    "sections": '''[[block]]
table = false
sections = {}''',
    "guide": '''[[block]]
table = false
guide = {}''',
}


def _bullets(model: dict, key: str, prop: dict, full: str, out: list[str]) -> None:
    """One key: what it means, its type, whether it must be written (or its default), allowed values, an example."""
    out.append(f"- **`{full}`**：{prop.get('description', '')}")
    out.append(f"  - 类型：{_type_words(prop)}；"
               + ("必须写" if key in model.get("required", ()) else "可不写")
               + (f"，默认 `{toml_value(prop['default'])}`" if prop.get("default") is not None else ""))
    out.append(f"  - 可用值：{_allowed_words(prop)}")
    example = _example(prop)
    if example is not None:
        out.append(f"  - 示例：`{toml_value(example)}`")


def _plain_snippet(header: str, props: dict) -> str:
    lines = [header] if header else []
    for key, prop in props.items():
        example = _example(prop)
        if example is None:
            continue
        if isinstance(example, str) and "\n" in example:
            lines.append(f"{_toml_key(key)} = '''\n{example}'''")
        else:
            lines.append(f"{_toml_key(key)} = {toml_value(example)}")
    return "\n".join(lines)


def _example_block(file: str, name: str, text: str, out: list[str]) -> None:
    out += [f"<!-- example {file} {name} -->", "```toml", text, "```", ""]


def _region_part(out: list[str]) -> None:
    schema = region_schema()
    out.append(f"## {REGION_FILE}\n")
    out.append("地区的规则：计分、等次、指标结构、项目类别、各表的文件、报告的结构和补充校验。"
               f"编辑器用 `templates/{REGION_SCHEMA_FILE}` 检查和补全。\n")

    def walk(model: dict, doc: str, path: str, array: bool, inside: str = "") -> None:
        out.append(f"### `{'[[' + path + ']]' if array else '[' + path + ']'}`\n")
        out.append(doc + ("（写作 " + inside + "）" if inside else "") + "\n")
        plain = {k: v for k, v in model.get("properties", {}).items() if not _resolve(schema, v)}
        for key, prop in plain.items():
            _bullets(model, key, prop, f"{path}.{key}", out)
        out.append("")
        if path in TABLE_EXAMPLES:
            _example_block(REGION_FILE, path, TABLE_EXAMPLES[path], out)
        elif not array and not inside and plain:
            _example_block(REGION_FILE, path, _plain_snippet(f"[{path}]", plain), out)
        for k, v in model.get("properties", {}).items():
            sub = _resolve(schema, v)
            if not sub:
                continue
            is_array = v.get("type") == "array" or any(a.get("type") == "array" for a in v.get("anyOf", ()))
            in_line = f"{path}" in ("level1", "overall_level1")
            walk(sub, v.get("description", ""), f"{path}.{k}", is_array,
                 f"[[{path}]] 中的 {k} = [{{ … }}, …]" if in_line else "")

    for key, prop in schema["properties"].items():
        walk(_resolve(schema, prop), prop.get("description", "") + ("（必须写）" if key in schema.get("required", ()) else ""),
             key, prop.get("type") == "array")


def _form_part(out: list[str]) -> None:
    schema = form_json_schema()
    block = schema["$defs"]["Block"]
    out.append("## forms/*.toml\n")
    out.append("每个文件定义一张表。文件由若干块（`[[block]]`）组成，自上而下画出。"
               f"编辑器用 `templates/{FORM_SCHEMA_FILE}` 检查和补全。\n")
    out.append("### 顶层\n")
    top = {k: v for k, v in schema["properties"].items() if k != "block"}
    for key, prop in top.items():
        _bullets(schema, key, prop, key, out)
    out.append("")
    _example_block("form", "top", _plain_snippet("", top), out)
    out.append("### `[[block]]`\n")
    out.append(block["description"] + "。下例是一个用到所有键的网格块。\n")
    for key, prop in block["properties"].items():
        if key not in BLOCK_PARAMS:
            _bullets({}, key, prop, f"block.{key}", out)
    out.append("")
    _example_block("form", "block.grid", FORM_EXAMPLES["grid"], out)
    out.append("#### 网格的写法\n")
    out.append(block["properties"]["grid"]["description"] + "\n")
    for kind in BLOCK_KINDS:
        if kind == "grid":
            continue
        sub = block["properties"][kind]
        out.append(f"### `[[block]]` 中的 `{kind}`\n")
        out.append(sub["description"] + "。写作 `" + kind + " = { … }`" +
                   ("，可写的键如下。\n" if sub["properties"] else "，不需要写任何键。\n"))
        for key, prop in sub["properties"].items():
            _bullets({}, key, prop, f"block.{kind}.{key}", out)
        out.append("")
        _example_block("form", f"block.{kind}", FORM_EXAMPLES[kind], out)
    check = schema["$defs"]["CellCheck"]
    out.append("### `[block.checks]` 中的每一项\n")
    out.append(check["description"] + "。写作 `\"键\" = { code = …, message = … }`（见上面网格块的示例）。\n")
    for key, prop in check["properties"].items():
        _bullets(check, key, prop, f"block.checks.*.{key}", out)
    out.append("")


def reference_markdown() -> str:
    """``docs/region-reference.md``: every key of region.toml and of a sheet file, with its
    meaning, type, allowed values, default and an example — from the schemas above."""
    out = [
        "# 地区配置参考：region.toml 与 forms/*.toml",
        "",
        "<!-- 本页由 `python build_templates.py` 生成（selfeval_xl/forms/schema.py），请勿手改。 -->",
        "",
        "一个地区是一个文件夹：`region.toml` 写规则，`forms/` 下每个文件写一张表。"
        "本页列出两种文件中的每一个键：含义、类型、可用值、默认值和示例。"
        "每个示例都由测试载入核对，与程序一致。",
        "",
        "在编辑器中检查和补全：VS Code 装 Even Better TOML（或其他用 Taplo 的编辑器），"
        f"在文件第一行写 `#:schema` 指向本项目的 `templates/{REGION_SCHEMA_FILE}`（region.toml）"
        f"或 `templates/{FORM_SCHEMA_FILE}`（forms/*.toml），如：",
        "",
        "```toml",
        f"#:schema ../../templates/{FORM_SCHEMA_FILE}",
        "```",
        "",
        "这一行是注释，不影响载入。",
        "",
        "## 一个最小的地区",
        "",
        "下面三个文件合起来是一个能用的地区（每个项目一张表，另有填表说明）。",
        "",
    ]
    for name, text in MINIMAL_REGION.items():
        out += [f"### {name}", "", f"<!-- example whole {name} -->", "```toml", text.rstrip("\n"), "```", ""]
    _region_part(out)
    _form_part(out)
    return "\n".join(out).rstrip("\n") + "\n"
