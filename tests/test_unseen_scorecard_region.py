"""A scorecard-style self-evaluation (评分表), written from the README alone (issue #18).

湖北省广水市 publishes its 财政预算支出项目绩效目标自评表 per project (2019年度 市纪委监委 办公局域网维护费,
https://pdf.chddh.cn/archives/48n5zg2zkkb6327q6rjv.html): 填报日期 | 自评总分 69 | 单位领导审签; 项目名称 /
实施单位 / 主管单位 / 负责人 / 项目属性; 项目资金来源（万元）中央 · 省、地 · 本级 · 其他 · 合计 · 执行数 · 执行率
(shown, not scored); then the scorecard 项目权重 | 评价内容 | 分值 | 自评分 | 复核分 | 评价标准及依据 —
项目决策 2 分 (决策依据 2) and 项目管理 13 分 (财务制度 3、组织机构 2、运行监管 4、目标申报 4), whose names, points and
written criteria the form prints and the unit only scores; then 项目绩效 85 分 with 三级 rows (年初指标值 | 年终完成值
| 自评分). Written as tests/regions/guangshui-2019 and walked region check → generate → extract → fill with the
published figures → check → report. What needed a fix, each held here by a small form drawn inline:

* there was no way to print a scorecard's rows: a 二级 could only leave blank rows for the unit to
  name and weigh. ``[[level1]]``'s level2 now takes ``items`` (name, weight, criteria), drawn locked
  — the 分值 a constant formula the row hint and total add up (and recompute), the name and the
  new ``criteria`` column (评分标准) locked text read back from the region, never the workbook —
  and a printed row is read back in its place even where an earlier row is left unscored;
* every printed row was flagged IND-204 “年度指标值“空”无法衡量”: a row scored against its 评分标准
  has no target to measure.

* a form key ending on a group of the model (``$.funds.other:money``, the form's 其他 column, where the
  model's ``funds.other`` is 年初/全年/执行) failed ``region check`` in pydantic's English (“Input
  should be a valid dictionary or instance of FundRow”): it is now the form's own figure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from selfeval_xl.checks import check
from selfeval_xl.core.model import Department
from selfeval_xl.core.region import ProfileError
from selfeval_xl.forms.regions import load_region
from selfeval_xl.xlsx.read import extract
from selfeval_xl.xlsx.write import write_workbook

from .test_indicator_blocks import whole_way

REGION = '''
[profile]
id = "scorecard-test"
name = "某市 项目支出绩效自评（评分表，测试用）"
region = "某市"

[scoring]
execution_weight = 0
execution_scored = false
execution_shown = false
execution_rate_percent_decimals = 0

[[grades]]
name = "优"
min = 90
[[grades]]
name = "差"
min = 0

[[level1]]
key = "management"
name = "项目管理"
weight = 10
level2 = [
  { key = "manage", name = "项目管理", rows = 3, items = [
    { name = "财务制度", weight = 3, criteria = "1、单位财务管理制度 1 分；2、项目管理制度 1 分；3、有制度执行佐证资料 1 分。" },
    { name = "组织机构", weight = 3, criteria = "有明确的绩效管理机构或专人负责 3 分。" },
    { name = "运行监管", weight = 4, criteria = "运行监管记录 3 分；填报《项目支出绩效监控表》1 分。" },
  ] },
]

[[level1]]
key = "output"
name = "产出指标"
weight = 90
level2 = [{ key = "quantity", name = "数量指标", rows = 2 }]

[forms]
sheets = ["forms/guide.toml", "forms/project.toml"]

[report]
title = "项目支出绩效自评报告"

[[report.sections]]
key = "summary"
title = "一、项目基本情况"
'''

GUIDE = '''
name = "填表说明"
role = "guide"
widths = [16, 100]

[[block]]
guide = {}
'''

PROJECT = '''
name = "自评表({n})"
role = "project"
repeat = "projects"
widths = [12, 12, 16, 13, 13, 8, 8, 44, 30]
print_cols = 8

[[block]]
table = false
grid = \'\'\'
某市财政预算支出项目绩效目标自评表 ::title | < | < | < | < | < | < | < | @30
\'\'\'

[[block]]
grid = \'\'\'
项目名称 ::header | $.name | < | < | 自评总分 ::header | =.self_total:score | < | <
资金（万元） ::header | 本级 ::header | $.money.local:money | 执行数 ::header | $.money.executed:money | 执行率 ::header | &exec.rate | <
\'\'\'
exec = { key = ".money", executed = ".money.executed", budget = ".money.local" }

[block.formulas]
".self_total" = "={.total_score}"

[[block]]
indicators = { key = ".", group = false, columns = ["level1", "level2", "name", "initial_value", "actual", "weight", "score", "criteria"], headers = ["项目权重", "二级指标", "评价内容 / 三级指标", "年初指标值", "年终完成值", "分值", "自评分", "评价标准及依据"] }

[[block]]
totals = { key = ".", label = "自评总分" }
'''


def draw(tmp_path: Path, region: str = REGION, name: str = "scorecard-test") -> Path:
    dest = tmp_path / name
    (dest / "forms").mkdir(parents=True)
    (dest / "region.toml").write_text(region, encoding="utf-8")
    (dest / "forms" / "guide.toml").write_text(GUIDE, encoding="utf-8")
    (dest / "forms" / "project.toml").write_text(PROJECT, encoding="utf-8")
    return dest


CRITERIA = {
    "财务制度": ("1、单位财务管理制度 1 分；2、项目管理制度 1 分；3、有制度执行佐证资料 1 分。", 3.0),
    "组织机构": ("有明确的绩效管理机构或专人负责 3 分。", 3.0),
    "运行监管": ("运行监管记录 3 分；填报《项目支出绩效监控表》1 分。", 4.0),
}


def printed(name: str, score: float | None) -> dict:
    """A scorecard row as read back: the region's name, 分值 and 评分标准, the unit's 自评分."""
    criteria, weight = CRITERIA[name]
    return {"level1": "项目管理", "level2": "项目管理", "name": name, "weight": weight, "score": score,
            "criteria": criteria}


def unit(region: Path, rows: list[dict] | None = None) -> Department:
    rows = rows if rows is not None else [
        printed("财务制度", 3), printed("组织机构", 3), printed("运行监管", 3),
        {"level1": "产出指标", "level2": "数量指标", "name": "采购设备", "initial_value": "10台套",
         "actual": "10台套", "weight": 90, "score": 90},
    ]
    return Department(code="001", name="某市纪委监委", year=2019, profile=str(region), projects=[{
        "name": "办公局域网维护费", "category": "项目支出", "indicators": rows,
        "figures": {"money.local": 5.5, "money.executed": 5.5}}])


# -- the scorecard's printed rows ----------------------------------------------------------------------

def test_a_scorecards_rows_are_printed_locked_and_read_back_from_the_region(tmp_path):
    region = draw(tmp_path)
    profile = load_region(region)
    dept = unit(region)
    path = write_workbook(dept, profile, tmp_path / "001.xlsx")
    from openpyxl import load_workbook

    ws = load_workbook(path)["自评表(1)"]
    texts = {str(c.value) for row in ws.iter_rows() for c in row if c.value is not None}
    assert "财务制度" in texts and CRITERIA["运行监管"][0] in texts and "评价标准及依据" in texts
    weight_cells = [c for row in ws.iter_rows() for c in row if c.value == "=4"]
    assert weight_cells and all(c.protection.locked for c in weight_cells)  # the 分值 is the form's
    back = extract(path).model_copy(update={"profile": dept.profile})
    assert back == dept


def test_an_unscored_printed_row_keeps_the_next_one_in_its_place(tmp_path):
    region = draw(tmp_path)
    profile = load_region(region)
    rows = [printed("财务制度", 3), printed("组织机构", None), printed("运行监管", 4)]
    path = write_workbook(unit(region, rows), profile, tmp_path / "001.xlsx")
    got = [(i.name, i.weight, i.score) for i in extract(path).projects[0].indicators]
    assert got == [("财务制度", 3, 3), ("组织机构", 3, None), ("运行监管", 4, 4)]


def test_printed_rows_are_not_asked_for_a_measurable_target(tmp_path):
    region = draw(tmp_path)
    flags = check(unit(region), load_region(region)).flags
    assert "IND-204" not in {f.code for f in flags}, [(f.code, f.message) for f in flags]
    # a free row without a target still is
    rows = unit(region).projects[0].indicators[:3] + [
        {"level1": "产出指标", "level2": "数量指标", "name": "采购设备", "weight": 90, "score": 90}]
    assert "IND-204" in {f.code for f in check(unit(region, rows), load_region(region)).flags}


def test_a_printed_rows_points_cap_its_score(tmp_path):
    region = draw(tmp_path)
    rows = [printed("财务制度", 5), printed("组织机构", 3), printed("运行监管", 4),
            {"level1": "产出指标", "level2": "数量指标", "name": "采购设备", "initial_value": "10台套",
             "actual": "10台套", "weight": 90, "score": 90}]
    flags = [f for f in check(unit(region, rows), load_region(region)).flags if f.code == "SCORE-103"]
    assert [(f.stated, f.expected) for f in flags] == [(5, 3)]


def test_items_must_fill_the_rows_and_say_so_in_chinese(tmp_path):
    region = draw(tmp_path, REGION.replace('name = "项目管理", rows = 3', 'name = "项目管理", rows = 4'), name="bad")
    with pytest.raises(ProfileError) as e:
        load_region(region)
    assert "rows 应为 3" in str(e.value) and "items" in str(e.value)


def test_the_scorecard_goes_the_whole_way(tmp_path):
    result = whole_way(tmp_path, unit(draw(tmp_path)))
    assert result["status"] != "有错误", result


def test_the_scorecard_recalculates_in_libreoffice_as_in_python(soffice, tmp_path):
    whole_way(tmp_path, unit(draw(tmp_path)), soffice)


# -- the transcribed region and the published figures -------------------------------------------------

GUANGSHUI = Path(__file__).parent / "regions" / "guangshui-2019"
PUBLISHED_FILE = Path(__file__).parent / "regions" / "guangshui-2019-published.json"


def test_the_transcribed_region_flags_only_what_the_archive_cut_off(tmp_path):
    """Every figure the archive shows, filled as ``fill -p`` does (the printed rows carry only their
    自评分): 决策 2 + 管理 12 + 数量 15, nothing flagged on them; the 质量 row's score, the 产出 weights
    (27 of 40) and the 时效/成本/效益 rows are past where the stored copy of the table stops."""
    import json

    data = json.loads(PUBLISHED_FILE.read_text(encoding="utf-8"))
    dept = Department.model_validate({**data, "profile": str(GUANGSHUI)})
    profile = load_region(GUANGSHUI)
    back = extract(write_workbook(dept, profile, tmp_path / "001.xlsx"))
    rows = back.projects[0].indicators
    assert [(i.name, i.weight, i.score) for i in rows[:5]] == [
        ("决策依据", 2, 2), ("财务制度", 3, 3), ("组织机构", 2, 2), ("运行监管", 4, 3), ("目标申报", 4, 4)]
    flags = check(back, profile).flags
    got = {f.code for f in flags if f.severity != "info"}
    assert got == {"SCORE-105", "WEIGHT-101"}, [(f.code, f.message) for f in flags]
    [weights] = [f for f in flags if f.code == "WEIGHT-101"]
    assert (weights.stated, weights.expected) == (27.0, 40.0)


def test_a_form_key_on_a_group_of_the_model_is_the_forms_own_figure(tmp_path):
    """广水's 其他 column written ``$.funds.other:money``: the model's ``funds.other`` is a group
    (年初/全年/执行), so ``region check`` failed in pydantic's English ("Input should be a valid
    dictionary or instance of FundRow"); the key is now the form's own figure and reads back."""
    region = draw(tmp_path, name="funds-other")
    form = region / "forms" / "project.toml"
    text = form.read_text(encoding="utf-8").replace(".money.local", ".money.other")
    form.write_text(text.replace(".money.", ".funds.").replace('key = ".money"', 'key = ".funds"'), encoding="utf-8")
    assert "$.funds.other:money" in form.read_text(encoding="utf-8")
    profile = load_region(region)
    dept = unit(region).model_copy(deep=True)
    dept.projects[0].figures.clear()
    dept.projects[0].figures.update({"funds.other": 5.5, "funds.executed": 5.5})
    back = extract(write_workbook(dept, profile, tmp_path / "001.xlsx"))
    assert back.projects[0].figures == {"funds.other": 5.5, "funds.executed": 5.5}
    assert back.projects[0].funds.other.full is None  # the model's own 其他资金 untouched
