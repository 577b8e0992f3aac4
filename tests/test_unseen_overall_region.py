"""A 部门整体支出绩效自评表 from outside Hunan, written from the README alone (issue #18).

安徽省金寨县 publishes one table per department with its 2023 决算 (金寨县茶谷和美丽乡村建设服务中心,
https://www.ahjinzhai.gov.cn/public/6624963/37545031.html): 部门 | 预算资金（万元）年初预算数 · 全年预算数 ·
全年执行数 · 分值 · 执行率 · 得分, rows 年度资金总额 / 其中：当年财政拨款 / 上年结转资金 / 其他资金 (the sub-rows
print an 执行率 but “—” for 分值 and 得分); 年度总体目标 预期目标 | 实际完成情况; 绩效指标 一级 | 二级 | 三级 |
年度指标值 | 实际完成值 | 分值 | 得分 | 偏差原因分析及改进措施; no weight fixed per 一级 (its 产出指标 rows
alone carry 60 points). It was written as a region folder (tests/regions/jinzhai-2023) and walked
region check → generate → fill with the published figures → check → report. What needed a fix,
each held here by a small form of that shape drawn inline:

* its 时效指标 “9月前” met in “7月” was read as the number 9 and 7/9 done (IND-201 on a correct
  full score): a month-only deadline is a deadline, and a date on or before it earns full marks;
* ``fill`` refused a data file without ``profile`` even with ``-p``, in pydantic's English
  (“Field required”); it now takes ``-p`` and speaks Chinese;
* ``extract`` of a blank template (the README's way to learn a region's data format) left out the
  region's own input keys and showed Hunan's 附件1/附件2 fields instead;
* a form without ``print_cols`` in a region without a grade row crashed the report (IndexError):
  the live grade beside the total was counted as a printed column, one past the widths;
* the report printed the form's title line (部门整体支出绩效自评表) as a left 附件 label under a
  bigger （2023年度）: a ``::title`` line is the centred title;
* a roster project in a region without project tables was told "the project table has no budget
  column"; it is now said that no table is made for it;
* 汇总表 and the terminal named a folder region by its id (jinzhai-2023), not its name.

The published figures themselves: 全年执行数 338.31 over 全年预算数 329.77 (执行率 102.59%) is RATE-201,
and the 预算执行 得分 the form left blank is 10.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from selfeval_xl.checks import check
from selfeval_xl.cli import app
from selfeval_xl.core.indicators import suggest
from selfeval_xl.core.model import Department
from selfeval_xl.forms.regions import load_region

from .test_indicator_blocks import whole_way

runner = CliRunner()

REGION = '''
[profile]
id = "anhui-test"
name = "安徽省某县 部门整体支出绩效自评（测试用）"
region = "安徽省"
dept_name_label = "部门"

[scoring]
execution_weight = 10
execution_scored = true
execution_rate_percent_decimals = 2
score_decimals = 2
total = 100
money_tolerance = 0.01
score_tolerance = 0.01
show_grade_row = false

[[grades]]
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
min = 0

[[level1]]
key = "output"
name = "产出指标"
level2 = [{ key = "quantity", name = "数量指标", rows = 2 }, { key = "timeliness", name = "时效指标", rows = 2 }]
[[level1]]
key = "benefit"
name = "效益指标"
level2 = [{ key = "social", name = "社会效益指标", rows = 1 }]
[[level1]]
key = "satisfaction"
name = "满意度指标"
level2 = [{ key = "satisfaction", name = "服务对象满意度指标", rows = 1 }]

[forms]
sheets = ["forms/guide.toml", "forms/overall.toml", "forms/narrative.toml"]

[report]
title = "部门整体支出绩效自评报告"

[[report.sections]]
key = "basic_info"
title = "一、部门基本情况"
[[report.sections]]
key = "performance"
figures = true
title = "二、预算执行和绩效目标完成情况"
'''

GUIDE = '''
name = "填表说明"
role = "guide"
widths = [16, 100]

[[block]]
table = false
guide = {}
'''

NARRATIVE = '''
name = "报告正文"
role = "narrative"
widths = [30, 90]

[[block]]
table = false
sections = {}

[[block]]
table = false
grid = \'\'\'
填表人 ::label_left | $signoff.preparer
\'\'\'
'''

OVERALL = '''
name = "整体自评表"
role = "overall"
widths = [7, 9, 15, 26, 12, 12, 8, 9, 28, 30]
print_cols = 9

[[block]]
table = false
grid = \'\'\'
部门整体支出绩效自评表 ::title | < | < | < | < | < | < | < | <
（{year}年度） ::title | < | < | < | < | < | < | < | <
\'\'\'

[[block]]
grid = \'\'\'
部门 ::header | < | {unit_name} | < | < | < | < | < | <
预算资金\\n（万元） ::label_center | ::header | < | 年初预算数 ::header | 全年预算数 ::header | 全年执行数 ::header | 分值 ::header | 执行率 ::header | 得分 ::header
^ | 年度资金总额 ::label_left | < | =overall.budget_initial | =overall.budget_full | =overall.executed | &exec.weight | &exec.rate | &exec.score | &exec.hint
^ | 其中：当年财政拨款 ::label_left | < | $overall.funds.current.initial:money | $overall.funds.current.full:money | $overall.funds.current.executed:money | — | =overall.funds.current.rate:rate | —
^ | 其他资金 ::indent3 | < | $overall.funds.other.initial:money | $overall.funds.other.full:money | $overall.funds.other.executed:money | — | | —
年度\\n总体\\n目标 ::label_center | 预期目标 ::header | < | < | < | < | 实际完成情况 ::header | < | <
^ | $overall.goal_expected:longtext | < | < | < | < | $overall.goal_actual:longtext | < | <
\'\'\'
exec = { key = "overall", executed = "overall.executed", budget = "overall.budget_full" }

[block.formulas]
"overall.budget_initial" = "=SUM({overall.funds.current.initial},{overall.funds.other.initial})"
"overall.budget_full" = "=SUM({overall.funds.current.full},{overall.funds.other.full})"
"overall.executed" = "=SUM({overall.funds.current.executed},{overall.funds.other.executed})"
"overall.funds.current.rate" = '=IF(AND(ISNUMBER({overall.funds.current.full}),{overall.funds.current.full}>0,ISNUMBER({overall.funds.current.executed})),ROUND({overall.funds.current.executed}/{overall.funds.current.full},4),"")'

[block.checks]
"overall.budget_*" = { code = "SUM-101", message = "年度资金总额应等于 当年财政拨款 + 其他资金", tolerance = "money" }
"overall.executed" = { code = "SUM-101", message = "年度资金总额应等于 当年财政拨款 + 其他资金", tolerance = "money" }

[[block]]
indicators = { key = "overall", group = "绩\\n效\\n指\\n标", headers = ["一级指标", "二级指标", "三级指标", "年度\\n指标值", "实际\\n完成值", "分值", "得分", "偏差原因分析及改进措施"] }

[[block]]
totals = { key = "overall", label = "总分", exec = "overall" }
'''


def draw(tmp_path: Path, overall: str = OVERALL, name: str = "anhui-test") -> Path:
    dest = tmp_path / name
    (dest / "forms").mkdir(parents=True)
    (dest / "region.toml").write_text(REGION, encoding="utf-8")
    for file, text in (("guide", GUIDE), ("overall", overall), ("narrative", NARRATIVE)):
        (dest / "forms" / f"{file}.toml").write_text(text, encoding="utf-8")
    return dest


def ind(l2: str, name: str, target: str, actual: str, weight: float, score: float, l1: str = "产出指标") -> dict:
    return {"level1": l1, "level2": l2, "name": name, "target": target, "actual": actual, "weight": weight, "score": score}


# the published rows (数量、时效), completed by 效益/满意度 rows so that the weights add to 90
PUBLISHED = [
    ind("数量指标", "指标2:建设美丽宜居自然村庄数量", "≥200", "202", 30, 30),
    ind("数量指标", "指标4:新建省级中心村数量", "≥10", "10", 20, 20),
    ind("时效指标", "指标1:完成美丽宜居自然村庄验收时间", "9月前", "7月", 10, 10),
    ind("时效指标", "指标2:完成户用卫生厕所改造验收时间", "11月前", "10月", 10, 10),
    ind("社会效益指标", "人居环境改善", "有效改善", "有效改善", 10, 10, l1="效益指标"),
    ind("服务对象满意度指标", "群众满意度", "≥90%", "95%", 10, 10, l1="满意度指标"),
]


def unit(region: Path, indicators: list[dict] = PUBLISHED, **figures) -> Department:
    return Department(code="601001", name="金寨县茶谷和美丽乡村建设服务中心", year=2023, profile=str(region), overall={
        "goal_expected": "1.建设徽风皖韵美丽乡村;2.整治美丽宜居自然村庄。",
        "goal_actual": "整治美丽宜居自然村庄202个。", "indicators": indicators},
        figures={"overall.funds.current.initial": 329.77, "overall.funds.current.full": 329.77,
                 "overall.funds.current.executed": 338.31, **figures},
        narrative={"sections": {"basic_info": "负责全县美丽乡村建设。"}})


def codes(dept: Department) -> list[str]:
    return [f.code for f in check(dept, load_region(dept.profile)).flags]


# -- a month-only deadline -------------------------------------------------------------------------

def test_a_month_deadline_met_early_earns_full_marks():
    assert suggest("9月前", "7月", 5.0).low == 5.0  # was 7/9 × 5 = 3.89
    assert suggest("11月底前", "11月", 5.0).low == 5.0
    assert suggest("2023年9月前", "2023年8月", 5.0).low == 5.0
    # late, or not comparable: no suggestion rather than a ratio of month numbers (10/9 → full)
    assert suggest("9月前", "10月", 5.0) is None
    assert suggest("9月前", "2024年3月", 5.0) is None
    # quantities with a month unit stay quantities
    assert suggest("≥6个月", "3个月", 6.0).low == 3.0


def test_the_published_timeliness_rows_are_not_flagged(tmp_path):
    got = codes(unit(draw(tmp_path)))
    assert "IND-201" not in got, got
    # a late completion with full marks is not called right by a ratio either
    late = [dict(r, actual="10月") if r["name"].startswith("指标1:完成") else r for r in PUBLISHED]
    assert "IND-201" not in codes(unit(draw(tmp_path, name="late"), late))


# -- the published figures ---------------------------------------------------------------------------

def test_the_published_over_budget_execution_is_rate_201_and_scores_ten(tmp_path):
    dept = unit(draw(tmp_path))
    result = check(dept, load_region(dept.profile))
    over = [f for f in result.flags if f.code == "RATE-201"]
    assert len(over) == 1 and over[0].stated == 338.31 and over[0].expected == 329.77, over
    assert "102.59%" in over[0].message and over[0].location.startswith("整体自评表!")
    assert [f.code for f in result.flags if f.severity == "error"] == []
    assert result.total == 100.0 and result.grade == "优"  # 10 (execution capped at 100 %) + 90


# -- fill and extract ----------------------------------------------------------------------------------

def test_fill_takes_the_region_from_the_command_line_and_speaks_chinese(tmp_path):
    region = draw(tmp_path)
    data = json.loads(unit(region).model_dump_json())
    del data["profile"]
    (tmp_path / "d.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    res = runner.invoke(app, ["fill", str(tmp_path / "d.json"), "-o", str(tmp_path / "a.xlsx"), "-p", str(region)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["fill", str(tmp_path / "d.json"), "-o", str(tmp_path / "b.xlsx")])
    assert res.exit_code == 2 and "profile：必须给出" in res.output and "-p" in res.output, res.output
    del data["code"]
    data["year"] = "二〇二三"
    (tmp_path / "e.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    res = runner.invoke(app, ["fill", str(tmp_path / "e.json"), "-o", str(tmp_path / "c.xlsx"), "-p", str(region)])
    assert res.exit_code == 2 and "code：必须给出" in res.output and "year：应为整数" in res.output, res.output
    assert not any(w in res.output for w in ("Field required", "Input should", "pydantic"))
    (tmp_path / "f.json").write_text("{", encoding="utf-8")
    res = runner.invoke(app, ["fill", str(tmp_path / "f.json"), "-o", str(tmp_path / "d.xlsx"), "-p", str(region)])
    assert res.exit_code == 2 and "不是有效的 JSON" in res.output and "Traceback" not in res.output, res.output


def test_extract_of_a_blank_template_shows_the_regions_own_keys_and_no_hunan_fields(tmp_path):
    region = draw(tmp_path)
    (tmp_path / "roster.csv").write_text("单位编码,单位名称,项目名称\n601001,某中心,\n", encoding="utf-8")
    res = runner.invoke(app, ["generate", str(tmp_path / "roster.csv"), "-o", str(tmp_path / "tpl"),
                              "--year", "2023", "-p", str(region)])
    assert res.exit_code == 0, res.output
    [book] = (tmp_path / "tpl").glob("*.xlsx")
    res = runner.invoke(app, ["extract", str(book), "-o", str(tmp_path / "blank.json")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "blank.json").read_text(encoding="utf-8"))
    assert data["figures"] == {f"overall.funds.{s}.{c}": None for s in ("current", "other")
                               for c in ("initial", "full", "executed")}
    assert "basic" not in data  # no 附件1 here: none of its 公务用车、楼堂馆所 fields
    assert set(data["overall"]) == {"goal_expected", "goal_actual", "indicators"}  # no 附件2 income lines
    assert "personnel_expense" not in data["narrative"]
    # what a coordinator fills in that skeleton goes back in as is
    data["figures"]["overall.funds.current.full"] = 329.77
    (tmp_path / "filled.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    res = runner.invoke(app, ["fill", str(tmp_path / "filled.json"), "-o", str(tmp_path / "x.xlsx"), "-p", str(region)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["extract", str(tmp_path / "x.xlsx"), "-o", str(tmp_path / "back.json")])
    back = json.loads((tmp_path / "back.json").read_text(encoding="utf-8"))
    assert back["figures"]["overall.funds.current.full"] == 329.77


def test_a_hunan_region_still_extracts_its_basic_table(tmp_path):
    from selfeval_xl.forms.regions import get_profile
    from selfeval_xl.xlsx.write import write_workbook

    from .conftest import example_departments

    dept = next(iter(example_departments().values()))
    path = write_workbook(dept, get_profile(dept.profile), tmp_path / "y.xlsx")
    res = runner.invoke(app, ["extract", str(path), "-o", str(tmp_path / "y.json")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "y.json").read_text(encoding="utf-8"))
    assert "staff_authorized" in data["basic"] and "income" in data["overall"]


# -- the whole way -------------------------------------------------------------------------------------

def _report_text(xml: str) -> str:
    import re

    return "".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", xml))


def test_the_form_goes_the_whole_way(tmp_path):
    result = whole_way(tmp_path, unit(draw(tmp_path)))
    text = _report_text(result["report_xml"])
    assert "部门整体支出绩效自评报告" in text
    assert "全年预算数329.77万元" in text and "全年执行数338.31万元" in text and "预算执行率102.59%" in text
    assert "总分100分" in text and "评价等次为“优”" in text
    for hunan in ("附件1", "附件2", "附件3", "附件5", "基础数据表"):
        assert hunan not in text, hunan
    assert "102.60%" in text or "102.59%" in text  # the 当年财政拨款 row's own rate prints as a percentage


def test_the_form_recalculates_in_libreoffice_as_in_python(soffice, tmp_path):
    whole_way(tmp_path, unit(draw(tmp_path)), soffice)


def test_a_form_without_print_cols_reports_in_a_region_without_a_grade_row(tmp_path):
    region = draw(tmp_path, OVERALL.replace("print_cols = 9\n", ""), name="no-print-cols")
    result = whole_way(tmp_path, unit(region))
    text = _report_text(result["report_xml"])
    assert "总分" in text and "偏差原因分析及改进措施" in text
    assert "执行数超过" not in text  # the hint column right of the form never prints


# -- the transcribed region and the published figures -------------------------------------------------

JINZHAI = Path(__file__).parent / "regions" / "jinzhai-2023"
PUBLISHED_FILE = Path(__file__).parent / "regions" / "jinzhai-2023-published.json"


def test_the_transcribed_region_flags_only_what_is_wrong_or_unseen_in_the_published_table():
    """The region folder as written from the README, with every figure the archive shows of the
    published table: the over-budget execution is flagged, the early 时效 rows are not; the
    weights add to 60 of 90 because the archive cut the table off at 成本指标."""
    dept = Department.model_validate_json(PUBLISHED_FILE.read_text(encoding="utf-8"))
    dept = dept.model_copy(update={"profile": str(JINZHAI)})
    flags = check(dept, load_region(JINZHAI)).flags
    got = {f.code for f in flags if f.severity != "info"}
    assert got == {"RATE-201", "WEIGHT-103"}, [(f.code, f.message) for f in flags]
    [weights] = [f for f in flags if f.code == "WEIGHT-103"]
    assert (weights.stated, weights.expected) == (60.0, 90.0)


def _para(xml: str, text: str) -> tuple[str, int]:
    """(alignment, size in half-points) of the generated paragraph whose whole text is ``text``."""
    import re

    m = re.search(r'<w:jc w:val="(\w+)"/></w:pPr><w:r><w:rPr>(?:(?!</w:rPr>).)*<w:sz w:val="(\d+)"/>'
                  r'(?:(?!</w:rPr>).)*</w:rPr><w:t xml:space="preserve">' + re.escape(text) + "</w:t>", xml)
    assert m, text
    return m.group(1), int(m.group(2))


def test_the_forms_title_line_prints_as_a_centred_title_not_an_attachment_label(tmp_path):
    xml = whole_way(tmp_path, unit(draw(tmp_path)))["report_xml"]
    title, year = _para(xml, "部门整体支出绩效自评表"), _para(xml, "（2023年度）")
    assert title[0] == "center" and year[0] == "center", (title, year)  # the title was a left 附件 label
    assert title[1] > year[1]  # and （2023年度） under it was the biggest line


def test_a_roster_project_in_a_region_without_project_tables_is_said_plainly(tmp_path):
    region = draw(tmp_path)
    (tmp_path / "roster.csv").write_text("单位编码,单位名称,项目名称,全年预算数\n601001,某中心,美丽乡村建设,329.77\n",
                                         encoding="utf-8")
    res = runner.invoke(app, ["generate", str(tmp_path / "roster.csv"), "-o", str(tmp_path / "tpl"),
                              "--year", "2023", "-p", str(region)])
    assert res.exit_code == 0, res.output
    assert "本地区没有项目支出绩效自评表" in res.output and "项目名称留空" in res.output, res.output
    assert "项目表没有这一栏" not in res.output  # there is no 项目表 at all
    [book] = (tmp_path / "tpl").glob("*.xlsx")
    res = runner.invoke(app, ["extract", str(book), "-o", str(tmp_path / "b.json")])
    assert json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))["projects"] == []


def test_the_summary_names_a_folder_region_by_its_name_not_its_id(tmp_path):
    import openpyxl

    from selfeval_xl.xlsx.write import write_workbook

    region = draw(tmp_path)
    dept = unit(region)
    write_workbook(dept, load_region(region), tmp_path / "in" / "601001.xlsx")
    res = runner.invoke(app, ["check", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-p", str(region)])
    assert "地区配置：安徽省某县 部门整体支出绩效自评（测试用）（1 个）" in res.output, res.output
    ws = openpyxl.load_workbook(tmp_path / "out" / "汇总表.xlsx").worksheets[0]
    assert "安徽省某县" in ws["A1"].value and "anhui-test" not in ws["A1"].value, ws["A1"].value
    assert ws["E3"].value == "安徽省某县 部门整体支出绩效自评（测试用）"
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["files"]["601001.xlsx"]["profile"] == "anhui-test"  # the id stays in the data
