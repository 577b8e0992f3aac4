"""Inputs a region draws beyond figures and text (issue #18 part 1, leftovers), each held on a small
region drawn here, the way a coordinator writes one (tests/test_unseen_region.py's 湖北 form):

* ``$key:date``: a real Excel date (shown 2024年3月5日, validated 2000–2100), read back from
  whatever Excel, WPS or LibreOffice leave — a date, a serial number, or text a clerk typed —
  kept in the model as ISO text, printed in the report as 2024年3月5日; what is no date is
  kept as written and said (READ-115);
* ``[block.choices]`` options are a rule: a value outside them is a warning at the cell
  (FILL-201); so is 是否核心指标 other than 是/否 (IND-205) — but the deviation reasons'
  drop-down stays a suggestion, free text is never flagged;
* PRE-301, Hunan's 附件5 completeness pre-score, only where a region declares it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from typer.testing import CliRunner

from selfeval_xl.checks import check
from selfeval_xl.cli import app
from selfeval_xl.core.model import Department
from selfeval_xl.core.numbers import fmt_date, parse_date
from selfeval_xl.core.region import ProfileError
from selfeval_xl.forms.layout import compile_layout, shape_for
from selfeval_xl.forms.recompute import derive
from selfeval_xl.forms.regions import load_region
from selfeval_xl.jobs.proving import prove, sample_values
from selfeval_xl.xlsx.read import read_workbook
from selfeval_xl.xlsx.write import write_workbook

from .test_unseen_region import GUIDE, NARRATIVE, REGION

runner = CliRunner()

# a project form with a date, a category to choose, and an indicator table with 是否核心指标 and 偏差原因
PROJECT = '''
name = "项目自评表({n})"
role = "project"
title = "项目绩效目标自评表"
repeat = "projects"
widths = [10, 12, 20, 14, 12, 12, 12, 30]
print_cols = 8

[[block]]
table = false
grid = """
{year}年度项目绩效目标自评表 ::title | < | < | < | < | < | < | <
填报日期： ::label_left | $.fill_date:date | < | 总分： ::label_left | =.total_top:score | 分 | =.dated:text | <
"""

[block.formulas]
".total_top" = "={.total_score}"
".dated" = '=IF(ISNUMBER({.fill_date}),"日期已填","日期未填")'

[[block]]
grid = """
项目名称 ::header | < | $.name | < | < | < | < | <
项目类别 ::header | < | $.kind | < | < | < | < | <
预算执行情况（万元） ::label_center | < | 预算数（A） ::header | 执行数（B） ::header | 执行率（B/A） ::header | 得分 ::header | < | <
年度财政资金总额 ::label_left | < | $.funds.total.full:money | $.funds.total.executed:money | &exec.rate | &exec.score | < | < | &exec.hint
"""
exec = { key = ".funds", executed = ".funds.total.executed", budget = ".funds.total.full" }

[block.choices]
".kind" = ["部门预算项目", "省直专项", "省对下转移支付项目"]

[[block]]
indicators = { key = ".", group = false, columns = ["level1", "level2", "name", "actual", "weight", "score", "core", "deviation"], headers = ["一级指标", "二级指标", "三级指标", "实际完成值", "分值", "得分", "是否核心指标", "偏差原因"] }

[[block]]
totals = { key = ".", label = "总分", exec = ".funds" }
'''

INDICATORS = [
    {"level1": "产出指标", "level2": "数量指标", "name": "国家奖学金人数", "initial_value": "≥30人", "actual": "30人",
     "weight": 40, "score": 40, "core": "是", "deviation": "无"},
    {"level1": "产出指标", "level2": "成本指标", "name": "人均资助", "actual": "0.8万元", "weight": 20, "score": 20,
     "core": "否", "deviation": "按计划完成，无偏差"},  # free text where the drop-down offers 无/无偏差: fine
    {"level1": "效益指标", "level2": "社会效益指标", "name": "资金发放率", "actual": "100%", "weight": 20, "score": 20},
    {"level1": "过程指标", "level2": "过程指标", "name": "评审程序是否公正", "actual": "是", "weight": 10, "score": 10},
]


def draw(tmp_path: Path, project: str = PROJECT, region: str = REGION, name: str = "region") -> Path:
    dest = tmp_path / name
    (dest / "forms").mkdir(parents=True)
    (dest / "region.toml").write_text(region, encoding="utf-8")
    for file, text in (("guide", GUIDE), ("project", project), ("narrative", NARRATIVE)):
        (dest / "forms" / f"{file}.toml").write_text(text, encoding="utf-8")
    return dest


def unit(profile, **figures) -> Department:
    return Department.model_validate({
        "code": "101001", "name": "某学院", "year": 2023, "profile": profile.id,
        "projects": [{"name": "学生资助项目", "category": "项目支出", "indicators": INDICATORS,
                      "figures": {"funds.total.full": 2596, "funds.total.executed": 2596, "kind": "省直专项", **figures}}],
        "narrative": {"sections": {"basic_info": "学生资助。", "performance": "按期发放。"}},
    })


@pytest.fixture()
def region(tmp_path):
    return load_region(draw(tmp_path))


def cell_of(profile, dept, key):
    layout = compile_layout(profile, shape_for(dept, profile))
    sh, cell = layout.where[key]
    return sh.name, cell.r + 1, cell.c + 1


def retyped(path: Path, sheet: str, row: int, col: int, value, number_format: str | None = None) -> Path:
    """The workbook as a clerk's spreadsheet left it: one cell holding ``value``."""
    wb = openpyxl.load_workbook(path)
    c = wb[sheet].cell(row, col)
    c.value = value
    if number_format:
        c.number_format = number_format
    out = path.with_name("交回_" + path.name)
    wb.save(out)
    return out


# -- dates ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, day", [
    ("2024-03-05", dt.date(2024, 3, 5)), ("2024/3/5", dt.date(2024, 3, 5)), ("2024年3月5日", dt.date(2024, 3, 5)),
    ("2024.3.5", dt.date(2024, 3, 5)), ("２０２４年３月５日", dt.date(2024, 3, 5)), (" 2024 年 3 月 5 日 ", dt.date(2024, 3, 5)),
    ("2024-03-05T00:00:00", dt.date(2024, 3, 5)), ("20240305", dt.date(2024, 3, 5)), (45356, dt.date(2024, 3, 5)),
    (45356.75, dt.date(2024, 3, 5)), (dt.datetime(2024, 3, 5, 9, 30), dt.date(2024, 3, 5)),
    ("2024-02-30", None), ("三月五日", None), ("2024-3", None), ("", None), (True, None), (-3, None),
])
def test_a_date_is_read_as_spreadsheets_and_clerks_leave_it(raw, day):
    assert parse_date(raw) == day


def test_the_date_type_is_a_real_excel_date_read_back_as_iso_and_printed_in_chinese(tmp_path, region):
    res = runner.invoke(app, ["region", "check", str(tmp_path / "region")])
    assert res.exit_code == 0 and "通过试算" in res.output, res.output
    dept = unit(region, fill_date="2024-03-05")
    book = write_workbook(dept, region, tmp_path / "交回" / "101001_某学院.xlsx")
    sheet, row, col = cell_of(region, dept, "projects[0].fill_date")
    ws = openpyxl.load_workbook(book)[sheet]
    c = ws.cell(row, col)
    assert c.value == dt.datetime(2024, 3, 5) and c.number_format == 'yyyy"年"m"月"d"日"' and not c.protection.locked
    [dv] = [dv for dv in ws.data_validations.dataValidation if dv.type == "date"]
    assert c.coordinate in str(dv.sqref) and dv.operator in (None, "between")  # OOXML's default
    assert (dv.formula1, dv.formula2) == ("36526", "73415")  # 2000-01-01 … 2100-12-31
    assert "2024年3月5日" in dv.error and dv.showErrorMessage and dv.prompt
    # read back: the model keeps the ISO date; a formula over it sees a number, as Excel does
    rr = read_workbook(book)
    assert rr.dept.projects[0].figures["fill_date"] == "2024-03-05"
    assert not [f for f in rr.flags if f.code.startswith(("READ", "FORMULA", "CALC"))], rr.flags
    assert rr.derived["projects[0].dated"] == "日期已填" and not rr.dept.stated
    assert derive(unit(region), compile_layout(region, shape_for(dept, region)))["projects[0].dated"] == "日期未填"
    # extract → JSON → fill: the same date
    res = runner.invoke(app, ["extract", str(book), "-o", str(tmp_path / "back.json")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "back.json").read_text(encoding="utf-8"))
    assert data["projects"][0]["figures"]["fill_date"] == "2024-03-05"
    # the report prints it as the forms write dates
    res = runner.invoke(app, ["report", str(book.parent), "-o", str(tmp_path / "报告")])
    assert res.exit_code == 0, res.output
    [doc] = (tmp_path / "报告").glob("*.docx")
    line = next(p.text for p in Document(doc).paragraphs if p.text.startswith("填报日期"))
    assert re.sub(r"\s+", " ", line).startswith("填报日期： 2024年3月5日 总分："), line


@pytest.mark.parametrize("value, number_format", [
    (dt.datetime(2024, 3, 5), None),  # Excel: a date
    (45356, "General"),  # the date's format lost (pasted values): its serial number
    ("2024/3/5", "@"), ("2024年3月5日", "@"), ("2024.3.5", "@"), (" 2024-03-05 ", "@"),  # typed as text
])
def test_a_date_comes_back_the_same_however_the_cell_holds_it(tmp_path, region, value, number_format):
    dept = unit(region, fill_date="2023-01-01")
    book = write_workbook(dept, region, tmp_path / "101001_某学院.xlsx")
    back = read_workbook(retyped(book, *cell_of(region, dept, "projects[0].fill_date"), value, number_format))
    assert back.dept.projects[0].figures["fill_date"] == "2024-03-05"
    assert not [f for f in back.flags if f.code.startswith("READ")], back.flags


@pytest.mark.parametrize("value, kept, words", [
    ("三月五日", "三月五日", "无法识别为日期，已按所写文字保留"),
    ("2024-02-30", "2024-02-30", "无法识别为日期"),
    (dt.datetime(1999, 12, 31), "1999-12-31", "读作 1999年12月31日，不在 2000 年至 2100 年之间"),
])
def test_what_is_no_date_is_kept_and_said_at_its_cell(tmp_path, region, value, kept, words):
    dept = unit(region)
    book = write_workbook(dept, region, tmp_path / "交回" / "101001_某学院.xlsx")
    sheet, row, col = cell_of(region, dept, "projects[0].fill_date")
    returned = retyped(book, sheet, row, col, value, "@" if isinstance(value, str) else None)
    book.unlink()
    res = runner.invoke(app, ["check", str(returned.parent), "-o", str(tmp_path / "校验"), "--annotate"])
    assert res.exit_code in (0, 1), res.output
    [entry] = json.loads((tmp_path / "校验" / "summary.json").read_text(encoding="utf-8"))["files"].values()
    [flag] = [f for f in entry["flags"] if f["code"] == "READ-115"]
    where = f"{sheet}!{openpyxl.utils.get_column_letter(col)}{row}"
    assert flag["severity"] == "warning" and flag["location"] == where and words in flag["message"], flag
    assert where in flag["message"], flag  # file (the summary's entry), sheet and cell, in Chinese
    # never lost: the model keeps what was written, the report prints it
    assert read_workbook(returned).dept.projects[0].figures["fill_date"] == kept
    ann = openpyxl.load_workbook(tmp_path / "校验" / "批注" / returned.name)
    assert "READ-115" in ann[sheet].cell(row, col).comment.text
    res = runner.invoke(app, ["report", str(returned.parent), "-o", str(tmp_path / "报告")])
    assert res.exit_code == 0, res.output
    [doc] = (tmp_path / "报告").glob("*.docx")
    line = next(p.text for p in Document(doc).paragraphs if p.text.startswith("填报日期"))
    assert fmt_date(kept) in line, line


def test_the_proof_fills_a_valid_date(region):
    layout = compile_layout(region, shape_for(unit(region), region))
    values = sample_values(layout, region.digest)
    day = parse_date(values["projects[0].fill_date"])
    assert values["projects[0].fill_date"] == day.isoformat() and dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31)
    prove(region, force=True)  # writes, reads back and compares the model: the date survives


def test_a_date_survives_libreoffice(soffice, tmp_path, region):
    """Saved again by LibreOffice (recalculated), the date is still the date and the formula over it
    gives what the recompute gives."""
    from selfeval_xl.files.libreoffice import convert

    dept = unit(region, fill_date="2024-03-05")
    book = write_workbook(dept, region, tmp_path / "src" / "101001_某学院.xlsx")
    typed = retyped(book, *cell_of(region, dept, "projects[0].fill_date"), "2024/3/5", "@")
    book.unlink()
    outs = convert([typed, write_workbook(dept, region, tmp_path / "src" / "101002_某学院.xlsx")],
                   tmp_path / "lo", "xlsx")
    for out in outs:
        rr = read_workbook(out)
        assert rr.dept.projects[0].figures["fill_date"] == "2024-03-05", out.name
        assert not [f for f in rr.flags if f.code.startswith(("READ", "FORMULA", "CALC"))], rr.flags
    wb = openpyxl.load_workbook(outs[1], data_only=True)
    sheet, row, col = cell_of(region, dept, "projects[0].fill_date")
    assert wb[sheet].cell(row, col).value == dt.datetime(2024, 3, 5)
    sheet, row, col = cell_of(region, dept, "projects[0].dated")
    assert wb[sheet].cell(row, col).value == "日期已填"  # LibreOffice's own recalculation



# -- options ------------------------------------------------------------------------------------------

def test_which_options_are_a_rule_and_which_a_suggestion_is_said_by_the_cell(region):
    layout = compile_layout(region, shape_for(unit(region), region))
    cell = lambda key: layout.where[key][1]  # noqa: E731
    assert cell("projects[0].kind").choices_strict and cell("projects[0].kind").choices[0] == "部门预算项目"
    assert cell("projects[0].ind.quantity.0.core").choices_strict and cell("projects[0].ind.quantity.0.core").choices == ("是", "否")
    deviation = cell("projects[0].ind.quantity.0.deviation")
    assert deviation.choices == ("无", "无偏差") and not deviation.choices_strict


def test_a_value_outside_the_declared_options_is_a_warning_at_its_cell(tmp_path, region):
    indicators = [dict(INDICATORS[0], core="重要"), *INDICATORS[1:]]
    dept = unit(region, kind="其他项目").model_copy(deep=True)
    dept.projects[0].indicators = [type(dept.projects[0].indicators[0]).model_validate(i) for i in indicators]
    book = write_workbook(dept, region, tmp_path / "交回" / "101001_某学院.xlsx")
    ws = openpyxl.load_workbook(book)["项目自评表(1)"]
    lists = {dv.formula1: dv for dv in ws.data_validations.dataValidation if dv.type == "list"}
    kind = lists['"部门预算项目,省直专项,省对下转移支付项目"']
    assert kind.showErrorMessage and kind.errorStyle == "warning" and "省对下转移支付项目" in kind.error  # Excel warns, keeps
    assert lists['"是,否"'].errorStyle == "warning" and not lists['"无,无偏差"'].showErrorMessage  # a reason: any text
    res = runner.invoke(app, ["check", str(book.parent), "-o", str(tmp_path / "校验"), "--annotate"])
    assert res.exit_code in (0, 1), res.output
    [entry] = json.loads((tmp_path / "校验" / "summary.json").read_text(encoding="utf-8"))["files"].values()
    sheet, row, col = cell_of(region, dept, "projects[0].kind")
    where = f"{sheet}!{openpyxl.utils.get_column_letter(col)}{row}"
    [flag] = [f for f in entry["flags"] if f["code"] == "FILL-201"]
    assert flag["severity"] == "warning" and flag["location"] == where, flag
    assert "“项目类别”填写了“其他项目”，不在可选项（部门预算项目、省直专项、省对下转移支付项目）中" in flag["message"], flag
    [core] = [f for f in entry["flags"] if f["code"] == "IND-205"]
    assert "“重要”" in core["message"] and "“是”或“否”" in core["message"], core
    # the reasons' drop-down is a suggestion: “按计划完成，无偏差” is no value outside options
    assert not [f for f in entry["flags"] if "deviation" in str(f.get("key", "")) or "按计划完成" in f["message"]]
    ann = openpyxl.load_workbook(tmp_path / "校验" / "批注" / book.name)
    assert "FILL-201" in ann[sheet].cell(row, col).comment.text


@pytest.mark.parametrize("kind", ["省直专项", " 部门预算项目 ", ""])
def test_an_option_or_a_blank_is_no_flag(region, kind):
    flags = check(unit(region, kind=kind), region).flags
    assert not [f for f in flags if f.code in ("FILL-201", "IND-205")], flags


# -- the completeness pre-score: a region's own, where it declares one -----------------------------

COMPLETENESS = '''
[report.completeness]
body = 6
attachments = 4
deduct = 1.5
sheet = "附表3"
'''


def _with(region: str, extra: str) -> str:
    """region.toml with ``extra`` tables before its report sections (TOML: [report] first)."""
    head, sep, sections = region.partition("[[report.sections]]")
    return head + extra + "\n" + sep + sections


def test_a_region_without_the_completeness_score_raises_no_pre_301(region):
    flags = check(unit(region), region).flags
    assert not [f for f in flags if f.code == "PRE-301"], flags


def test_a_region_that_declares_it_gets_its_own_completeness_score(tmp_path):
    profile = load_region(draw(tmp_path, region=_with(REGION, COMPLETENESS)))
    dept = unit(profile)
    dept.narrative.sections["performance"] = ""  # one of two sections missing, the project table filled
    [flag] = [f for f in check(dept, profile).flags if f.code == "PRE-301"]
    assert flag.message == "附表3“完整性”预评分：正文 4.5/6 分，附件 4/4 分（按缺一部分扣 1.5 分估算）。", flag.message
    assert flag.expected == 8.5


@pytest.mark.parametrize("region_id, pre_301", [
    ("national-2020", None), ("sichuan-2023", None),
    ("yueyang-2023", "附件5“完整性”预评分：正文 0/8 分，附件 1/7 分（按缺一部分扣 2 分估算）。"),
    ("hengyang-2022", "附件5“完整性”预评分：正文 0/8 分，附件 1/7 分（按缺一部分扣 2 分估算）。"),
    ("sample-50-40-10", "附件5“完整性”预评分：正文 0/8 分，附件 1/7 分（按缺一部分扣 2 分估算）。"),
    ("yunxi-2023", "“完整性”预评分：正文 0/8 分，表格 5/7 分（按缺一部分扣 2 分估算）。"),
])
def test_pre_301_is_hunans_only(region_id, pre_301):
    from selfeval_xl.forms.regions import get_profile

    profile = get_profile(region_id)
    flags = check(Department.model_validate({"code": "1", "name": "某单位", "year": 2023, "profile": region_id}), profile).flags
    assert [f.message for f in flags if f.code == "PRE-301"] == ([pre_301] if pre_301 else [])
    assert profile.report.completeness is not None if pre_301 else profile.report.completeness is None


def test_a_wrong_completeness_declaration_is_refused_naming_its_line(tmp_path):
    with pytest.raises(ProfileError) as e:
        load_region(draw(tmp_path, region=_with(REGION, COMPLETENESS.replace("deduct = 1.5", "deduct = 0"))))
    assert "report.completeness.deduct" in str(e.value) and "第" in str(e.value), str(e.value)
