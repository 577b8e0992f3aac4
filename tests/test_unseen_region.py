"""A region none of us had seen, written from the README alone (issue #18, part 7's last done-when).

湖北's 项目绩效目标自评表 (as 湖北工程学院 published its 学生资助项目 table,
https://m.777doc.com/doc-4336759.html) was written as a region folder by reading the README only.
Every place that needed a guess or gave a wrong word became a mechanism fix, each held here by a
small region drawn inline with that form's shape:

* its indicator table starts with 一级指标 in column A: ``group = false`` (the tool drew a 绩效指标
  column the form does not have, which pushed 得分 out of the printed columns unnoticed);
* a ``print_cols`` that cuts off an input or an indicator column is refused, naming the count to write;
* 项目类别 / 项目属性 / 项目类型 are ticked from fixed options: ``[block.choices]`` drop-downs;
* the roster's 全年预算数 lands in the form's own budget cell (no 当年财政拨款 row), and a region
  with one project category does not ask for one;
* the report lists the attachment by the form's title (``title``), prints the 填报日期 … 总分 row
  above the table with its figures, and the table's last column (得分);
* a form without a reason column is not told to write 偏差原因 (guide, IND-201).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from typer.testing import CliRunner

from selfeval_xl.cli import app
from selfeval_xl.core.model import Department
from selfeval_xl.core.region import ProfileError
from selfeval_xl.forms.layout import compile_layout, shape_for
from selfeval_xl.forms.regions import load_region
from selfeval_xl.files.roster import read_roster

runner = CliRunner()

REGION = '''
[profile]
id = "hubei-test"
name = "湖北省 项目绩效目标自评表（测试用）"
region = "湖北省"

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
name = "差"
min = 0

[[level1]]
key = "output"
name = "产出指标"
level2 = [{ key = "quantity", name = "数量指标", rows = 2 }, { key = "cost", name = "成本指标", rows = 1, ceiling = true }]
[[level1]]
key = "benefit"
name = "效益指标"
level2 = [{ key = "social", name = "社会效益指标", rows = 1 }]
[[level1]]
key = "process"
name = "过程指标"
level2 = [{ key = "process", name = "过程指标", rows = 1 }]

[projects]
categories = ["项目支出"]
category_labels = ["项目支出"]
default_category = "项目支出"
category_rows = false
free_rows_per_category = 0
spare_sheets = 0

[forms]
sheets = ["forms/guide.toml", "forms/project.toml", "forms/narrative.toml"]

[report]
title = "项目绩效目标自评报告"

[[report.sections]]
key = "basic_info"
title = "一、项目基本情况"
[[report.sections]]
key = "performance"
figures = true
title = "二、绩效目标完成情况"
'''

GUIDE = '''
name = "填表说明"
role = "guide"
widths = [16, 100]
print_cols = 2

[[block]]
table = false
guide = {}
'''

NARRATIVE = '''
name = "报告正文"
role = "narrative"
widths = [30, 90]
print_cols = 2

[[block]]
table = false
sections = {}
'''

# 湖北's table: no 绩效指标 column, 一级指标 in A; 填报日期 and 总分 above it; one budget row
PROJECT = '''
name = "项目自评表({n})"
role = "project"
title = "项目绩效目标自评表"
repeat = "projects"
widths = [10, 12, 20, 14, 14, 12, 12, 30]
print_cols = 7

[[block]]
table = false
grid = """
{year}年度项目绩效目标自评表 ::title | < | < | < | < | < | <
填报日期： ::label_left | $.fill_date | < | < | 总分： ::label_left | =.total_top:score | 分
"""

[block.formulas]
".total_top" = "={.total_score}"

[[block]]
grid = """
项目名称 ::header | < | $.name | < | < | < | <
项目类别 ::header | < | $.kind | < | < | < | <
预算执行情况（万元） ::label_center | < | 预算数（A） ::header | 执行数（B） ::header | 执行率（B/A） ::header | 得分 ::header | <
年度财政资金总额 ::label_left | < | $.funds.total.full:money | $.funds.total.executed:money | &exec.rate | &exec.score | < | &exec.hint
"""
exec = { key = ".funds", executed = ".funds.total.executed", budget = ".funds.total.full" }

[block.choices]
".kind" = ["部门预算项目", "省直专项", "省对下转移支付项目"]

[[block]]
indicators = { key = ".", group = false, columns = ["level1", "level2", "name", "initial_value", "actual", "weight", "score"], headers = ["一级指标", "二级指标", "三级指标", "年初目标值（A）", "实际完成值（B）", "分值", "得分"] }

[[block]]
totals = { key = ".", label = "总分", exec = ".funds" }
'''

ROSTER = "单位编码,单位名称,项目名称,主管部门,项目类别,年初预算数,全年预算数\n101001,某学院,学生资助项目,湖北省教育厅,,,2596\n"

INDICATORS = [
    {"level1": "产出指标", "level2": "数量指标", "name": "国家奖学金人数", "initial_value": "≥30人", "actual": "28人",
     "weight": 40, "score": 36},
    {"level1": "产出指标", "level2": "成本指标", "name": "人均资助", "initial_value": "≤0.8万元", "actual": "0.8万元",
     "weight": 20, "score": 20},
    {"level1": "效益指标", "level2": "社会效益指标", "name": "资金发放率", "initial_value": "100%", "actual": "100%",
     "weight": 20, "score": 20},
    {"level1": "过程指标", "level2": "过程指标", "name": "评审程序是否公正", "initial_value": "是", "actual": "是",
     "weight": 10, "score": 10},
]


def draw(tmp_path: Path, project: str = PROJECT, name: str = "hubei") -> Path:
    dest = tmp_path / name
    (dest / "forms").mkdir(parents=True)
    (dest / "region.toml").write_text(REGION, encoding="utf-8")
    for file, text in (("guide", GUIDE), ("project", project), ("narrative", NARRATIVE)):
        (dest / "forms" / f"{file}.toml").write_text(text, encoding="utf-8")
    return dest


def refused(tmp_path: Path, project: str) -> str:
    with pytest.raises(ProfileError) as e:
        load_region(draw(tmp_path, project, name="bad"))
    return str(e.value)


# -- the coordinator's walk: region check → generate → fill → check → report -------------------------

def test_the_hubei_form_walks_from_region_check_to_report(tmp_path):
    region = draw(tmp_path)
    res = runner.invoke(app, ["region", "check", str(region)])
    assert res.exit_code == 0 and "通过试算" in res.output, res.output

    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    res = runner.invoke(app, ["generate", str(roster), "-o", str(tmp_path / "模板"), "--year", "2023", "-p", str(region)])
    assert res.exit_code == 0, res.output
    assert "项目类别" not in res.output, res.output  # one category: nothing to ask
    [blank] = (tmp_path / "模板").glob("*.xlsx")
    ws = openpyxl.load_workbook(blank)["项目自评表(1)"]
    # the table starts in A with 一级指标; 得分 is the 7th column, inside the print area A:G
    header = next(r for r in ws.iter_rows() if r[0].value == "一级指标")
    assert [c.value for c in header[:7]] == ["一级指标", "二级指标", "三级指标", "年初目标值（A）", "实际完成值（B）", "分值", "得分"]
    assert re.search(r"!\$A\$1:\$G\$\d+$", ws.print_area), ws.print_area
    # 项目类别 is a drop-down of the form's options
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert any("部门预算项目,省直专项,省对下转移支付项目" in (dv.formula1 or "") for dv in lists), [dv.formula1 for dv in lists]
    # the roster's 全年预算数 is in the form's own budget cell
    res = runner.invoke(app, ["extract", str(blank), "-o", str(tmp_path / "blank.json")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "blank.json").read_text(encoding="utf-8"))
    # (the form's blank inputs are listed as null: the keys a data file may fill, see
    # tests/test_unseen_overall_region.py)
    assert data["projects"][0]["figures"] == {"funds.total.full": 2596.0, "funds.total.executed": None,
                                              "fill_date": None, "kind": None}
    # the guide says the form's words: no reason column, so no 偏差原因
    guide = {r[0]: r[1] for r in openpyxl.load_workbook(blank)["填表说明"].iter_rows(values_only=True) if r[0]}
    assert guide["得分"].startswith("得分在 0 与本行分值之间；未得满分的，请在报告中说明原因。"), guide["得分"]
    assert "每个项目一张表" in guide["填写顺序"] and "一级项目" not in guide["填写顺序"], guide["填写顺序"]

    # the README's fill: the region's own cells under the project's figures, keys without the dot
    p = data["projects"][0]
    p["figures"].update({"fill_date": "2024-03-29", "kind": "部门预算项目", "funds.total.executed": 2595.62})
    p["indicators"] = INDICATORS
    data["narrative"]["sections"] = {"basic_info": "学生资助。", "performance": "按期发放。"}
    (tmp_path / "filled.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    book = tmp_path / "交回" / blank.name
    res = runner.invoke(app, ["fill", str(tmp_path / "filled.json"), "-o", str(book), "-p", str(region)])
    assert res.exit_code == 0, res.output

    res = runner.invoke(app, ["check", str(book.parent), "-o", str(tmp_path / "校验")])
    assert res.exit_code in (0, 1), res.output
    summary = json.loads((tmp_path / "校验" / "summary.json").read_text(encoding="utf-8"))
    [unit] = summary["files"].values()
    flags = {f["code"]: f for f in unit["flags"]}
    assert not [c for c in flags if c.startswith(("SUM", "SCORE", "WEIGHT", "CALC", "RATE", "READ", "FORMULA"))], flags
    assert "建议得分 37.33" in flags["IND-201"]["message"] and "在报告中说明" in flags["IND-201"]["message"]
    assert all("偏差原因" not in f["message"] for f in unit["flags"]), unit["flags"]
    assert re.fullmatch(r"项目自评表\(1\)!G\d+", flags["IND-201"]["location"]), flags["IND-201"]  # 得分 in G

    res = runner.invoke(app, ["report", str(book.parent), "-o", str(tmp_path / "报告")])
    assert res.exit_code == 0, res.output
    [doc] = (tmp_path / "报告").glob("*.docx")
    paras = [x.text for x in Document(doc).paragraphs]
    assert "1.学生资助项目绩效目标自评表" in paras, paras  # the form's title, not 项目支出绩效自评表
    line = next(t for t in paras if t.startswith("填报日期"))
    assert re.sub(r"\s+", " ", line) == "填报日期： 2024-03-29 总分： 96 分", line  # 9.99 + 36 + 20 + 20 + 10 → 96
    [table] = Document(doc).tables
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert ["国家奖学金人数", "≥30人", "28人", "40", "36"] == rows[next(i for i, r in enumerate(rows) if "国家奖学金人数" in r)][2:7]
    assert rows[-1][-1] == "96"  # the 总分 row's 得分, inside the printed columns


# -- each fix, refused where it is wrong ----------------------------------------------------------------

def test_a_print_area_that_cuts_off_the_indicator_table_is_refused_with_the_count_to_write(tmp_path):
    # the tool's 绩效指标 column in A makes the seven columns eight: 得分 in H, print_cols 7
    msg = refused(tmp_path, PROJECT.replace("group = false, ", ""))
    assert "forms/project.toml 第 7 行" in msg and "print_cols = 7" in msg and "H 列" in msg, msg
    assert "print_cols 改为 8" in msg and "group = false" in msg, msg


def test_an_input_outside_the_print_area_is_refused(tmp_path):
    msg = refused(tmp_path, PROJECT.replace("| 分\n", "| 分 | $.note\n"))
    assert "forms/project.toml 第 7 行" in msg and "H 列是填写格（键 projects[0].note）" in msg, msg
    assert "print_cols 改为 8" in msg, msg


def test_without_group_the_table_starts_in_column_a_and_with_it_in_b(tmp_path):
    for project, first in ((PROJECT, 0), (PROJECT.replace("group = false, ", "").replace("print_cols = 7", "print_cols = 8"), 1)):
        profile = load_region(draw(tmp_path / str(first), project))
        dept = Department(code="1", name="某学院", year=2023, profile=profile.id, projects=[{"name": "甲", "category": "项目支出"}])
        layout = compile_layout(profile, shape_for(dept, profile))
        sh, cell = layout.where["projects[0].ind.quantity.0.name"]
        assert cell.c == first + 2  # 一级, 二级, then 三级
        assert any(c.kind == "label" and c.text == "一级指标" and c.c == first for c in sh.cells)
        assert any(c.kind == "label" and c.text == "绩\n效\n指\n标" for c in sh.cells) == bool(first)


@pytest.mark.parametrize("choices, words", [
    ('".name" = []', "至少一个选项"),
    ('".funds.total.full" = ["甲", "乙"]', "是 money 格"),
    ('".nothere" = ["甲"]', "不是该块网格中的填写格"),
    ('".kind" = ["甲,乙"]', "不含逗号"),
])
def test_bad_choices_are_refused_with_file_line_and_key(tmp_path, choices, words):
    msg = refused(tmp_path, PROJECT.replace('".kind" = ["部门预算项目", "省直专项", "省对下转移支付项目"]', choices))
    key = choices.split('"')[1]
    assert "forms/project.toml 第" in msg and f"choices.{key}" in msg and words in msg, msg


def test_a_sheet_title_is_one_line(tmp_path):
    msg = refused(tmp_path, PROJECT.replace('title = "项目绩效目标自评表"', 'title = "{name}表"'))
    assert "forms/project.toml 第 4 行（title）" in msg, msg


def test_the_roster_fills_the_region_budget_cell_and_says_where_there_is_none(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    [unit] = read_roster(roster, load_region(draw(tmp_path)))
    assert unit.projects[0].figures == {"funds.total.full": 2596.0} and not unit.notes
    # a form whose budget is computed, not typed: nothing to fill, and the coordinator is told
    computed = PROJECT.replace("$.funds.total.full:money", "=.funds.total.full").replace(
        '[block.choices]', '[block.formulas]\n".funds.total.full" = "=0"\n\n[block.choices]')
    [unit] = read_roster(roster, load_region(draw(tmp_path / "c", computed)))
    assert unit.projects[0].figures == {} and unit.projects[0].funds.current.full is None
    assert unit.notes == ["第 2 行项目“学生资助项目”的全年预算数没有预填：本地区的项目自评表没有这一栏"], unit.notes


def test_without_print_cols_or_widths_every_drawn_column_prints_but_not_the_side_grade(tmp_path):
    # a coordinator who writes neither print_cols nor a width per column: the form's seven columns
    # print (the live grade kept beside a form without a grade row does not), each with a width
    project = PROJECT.replace("print_cols = 7\n", "").replace("widths = [10, 12, 20, 14, 14, 12, 12, 30]", "widths = [10, 12]")
    region = draw(tmp_path, project)
    res = runner.invoke(app, ["region", "check", str(region)])
    assert res.exit_code == 0 and "通过试算" in res.output, res.output
    profile = load_region(region)
    dept = Department(code="1", name="某学院", year=2023, profile=profile.id, projects=[{"name": "甲", "category": "项目支出"}])
    layout = compile_layout(profile, shape_for(dept, profile))
    sh, grade = layout.where["projects[0].grade"]
    assert sh.print_cols == 7 and len(sh.widths) >= 7, (sh.print_cols, sh.widths)
    assert grade.c >= sh.print_cols  # beside the form, not printed
    out = tmp_path / "报告.docx"
    from selfeval_xl.docx.report import render_report
    render_report(dept, profile, out)
    grids = [len(t.columns) for t in Document(out).tables]
    assert 7 in grids and max(grids) == 7, grids
