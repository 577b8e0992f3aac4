"""Every rule is declared where its cell is (issue #18, part 1).

A derived cell's check — code, severity, wording, tolerance — is declared beside its formula in
``[block.checks]`` (or by the building block that draws it: execution cells, totals, 附件1's
project rows); a formula cell that declares none is still checked, as CALC-101. The checker
reads the cell's rule, never the shape of its key.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

import selfeval_xl.checks as checks_module
from selfeval_xl.jobs.checking import check_workbook
from selfeval_xl.checks import check
from selfeval_xl.core.model import Department
from selfeval_xl.core.region import ProfileError
from selfeval_xl.forms.cells import CellCheck
from selfeval_xl.forms.layout import compile_layout, shape_for
from selfeval_xl.forms.regions import get_profile, load_region
from selfeval_xl.xlsx.write import write_workbook

HERE = Path(__file__).parent
PROJECT_ONLY = HERE / "regions" / "project-only"
FIFTH = HERE / "regions" / "fifth-region"
TS = dt.datetime(2024, 1, 1)

# a small sheet of its own: two inputs, a sum, a share, a doubled figure and a text join
CALC_SHEET = '''name = "测算表"
role = "other"
widths = [20, 12, 12, 12]

[[block]]
grid = \'\'\'
项目 ::header | 甲 ::header | 乙 ::header | 合计 ::header
金额 | $calc.a:money | $calc.b:money | =calc.total_score
比例 | =calc.share:rate | =calc.double | =calc.note:text
两倍 | =calc.double_b | !calc.hint | 
\'\'\'

[block.formulas]
"calc.total_score" = "=SUM({calc.a},{calc.b})"
"calc.share" = '=IF(N({calc.total_score})>0,{calc.a}/{calc.total_score},"")'
"calc.double" = "=2*N({calc.a})"
"calc.double_b" = "=2*N({calc.b})"
"calc.note" = "合计 {calc.total_score}"
"calc.hint" = '=IF(N({calc.a})<0,"甲为负数","")'
'''

CHECKS = '''
[block.checks]
"calc.total_score" = { code = "TST-101", message = "合计应等于 甲 + 乙", severity = "warning", tolerance = "money" }
"calc.share" = { code = "TST-102", message = "比例应等于 甲 ÷ 合计", severity = "info", tolerance = "rate" }
"calc.double*" = { code = "TST-103", message = "两倍数应等于原数的两倍", tolerance = "exact" }
'''


def _region(tmp_path: Path, checks: str = CHECKS, sheet: str = CALC_SHEET) -> Path:
    """The project-only test region, with the sheet above (and its checks) added."""
    dest = tmp_path / "calc-region"
    shutil.copytree(PROJECT_ONLY, dest)
    (dest / "forms" / "calc.toml").write_text(sheet + checks, encoding="utf-8")
    toml = dest / "region.toml"
    text = toml.read_text(encoding="utf-8")
    old = 'sheets = ["forms/guide.toml", "forms/project.toml", "forms/narrative.toml"]'
    assert old in text
    toml.write_text(text.replace(old, old.replace("]", ', "forms/calc.toml"]')), encoding="utf-8")
    return dest


def _unit(region: Path, stated: dict) -> Department:
    return Department(code="9001", name="测算单位", year=2023, profile=str(region),
                      figures={"calc.a": 30, "calc.b": 70}, stated=stated)


def _flags(dept: Department, profile, key: str):
    return [f for f in check(dept, profile).flags if f.key == key]


# -- what a declaration says is what the flag carries ------------------------------------------

def test_the_declared_code_message_and_severity_are_what_the_flag_carries(tmp_path):
    region = _region(tmp_path)
    profile = load_region(region)
    # the key looks like a total score (today's regexes would say SCORE-102): its declaration decides
    [flag] = _flags(_unit(region, {"calc.total_score": 150}), profile, "calc.total_score")
    assert (flag.code, flag.severity) == ("TST-101", "warning")
    assert flag.message.startswith("合计应等于 甲 + 乙：表中为 150，按录入数据重算应为 100")
    assert flag.stated == 150 and flag.expected == 100
    assert flag.location.startswith("测算表!")

    [flag] = _flags(_unit(region, {"calc.share": 0.5}), profile, "calc.share")
    assert (flag.code, flag.severity) == ("TST-102", "info") and flag.message.startswith("比例应等于 甲 ÷ 合计")


def test_a_wildcard_applies_to_every_formula_cell_it_names(tmp_path):
    region = _region(tmp_path)
    profile = load_region(region)
    layout = compile_layout(profile, shape_for(_unit(region, {}), profile))
    assert layout.where["calc.double"][1].check == layout.where["calc.double_b"][1].check == CellCheck(
        "TST-103", "两倍数应等于原数的两倍", "error", "exact")
    for key, right in (("calc.double", 60), ("calc.double_b", 140)):
        [flag] = _flags(_unit(region, {key: right + 1}), profile, key)
        assert (flag.code, flag.severity) == ("TST-103", "error")
        assert not _flags(_unit(region, {key: right}), profile, key)


def test_an_undeclared_formula_cell_is_checked_as_calc_101(tmp_path):
    region = _region(tmp_path)
    profile = load_region(region)
    [flag] = _flags(_unit(region, {"calc.note": "合计 999"}), profile, "calc.note")
    assert (flag.code, flag.severity) == ("CALC-101", "error")
    assert flag.message.startswith("计算格的数字与按录入数据重算的结果不同：表中为 合计 999，按录入数据重算应为 合计 100")
    assert not _flags(_unit(region, {"calc.note": "合计 100"}), profile, "calc.note")


def test_a_declaration_without_tolerance_takes_the_cells_value_type(tmp_path):
    checks = '''
[block.checks]
"calc.*" = { code = "TST-110", message = "测算表的计算格应等于重算结果" }
'''
    region = _region(tmp_path, checks)
    layout = compile_layout(load_region(region), shape_for(_unit(region, {}), load_region(region)))
    kinds = {k: layout.where[k][1].check.tolerance for k in ("calc.total_score", "calc.share", "calc.note")}
    assert kinds == {"calc.total_score": "money", "calc.share": "rate", "calc.note": "exact"}
    assert layout.where["calc.share"][1].check.severity == "error"


def test_the_checker_reads_no_key_shapes():
    assert not hasattr(checks_module, "_STATED_RULES")
    source = Path(checks_module.__file__).read_text(encoding="utf-8")
    assert "re.compile" not in source


# -- declarations the loader refuses, naming file, line and key --------------------------------

BAD = [
    ('"calc.total_score" = { code = "TST-101", message = "合计", severity = "fatal", tolerance = "money" }',
     "calc.total_score", "severity“fatal”无效"),
    ('"calc.a" = { code = "TST-101", message = "甲", severity = "error", tolerance = "money" }',
     "calc.a", "不是该块的计算格"),
    ('"calc.hint" = { code = "TST-101", message = "提示", severity = "error", tolerance = "money" }',
     "calc.hint", "不是该块的计算格"),
    ('"calc.nothing" = { code = "TST-101", message = "无", severity = "error", tolerance = "money" }',
     "calc.nothing", "不是该块的计算格"),
    ('"calc.total_score" = { code = "sum-1", message = "合计", severity = "error", tolerance = "money" }',
     "calc.total_score", "code“sum-1”无效"),
    ('"calc.total_score" = { code = "TST-101", message = "合计", severity = "error", tolerance = "percent" }',
     "calc.total_score", "tolerance“percent”无效"),
    ('"calc.total_score" = { code = "TST-101", severity = "error", tolerance = "money" }',
     "calc.total_score", "message 必须给出"),
    ('"calc.total_score" = { code = "TST-101", message = "合计", colour = "red" }',
     "calc.total_score", "未知的项“colour”"),
    ('"calc.zz*" = { code = "TST-101", message = "无", severity = "error", tolerance = "money" }',
     "calc.zz*", "没有以此开头的计算格"),
    ('"calc.total_score" = "TST-101"', "calc.total_score", "应为 {"),
]


@pytest.mark.parametrize("line, key, words", BAD, ids=[b[2] for b in BAD])
def test_a_bad_declaration_is_refused_naming_file_line_and_key(tmp_path, line, key, words):
    checks = "\n[block.checks]\n# 校验\n" + line + "\n"
    region = _region(tmp_path, checks)
    with pytest.raises(ProfileError) as e:
        load_region(region)
    msg = str(e.value)
    lines = (region / "forms" / "calc.toml").read_text(encoding="utf-8").splitlines()
    table = lines.index("[block.checks]")
    want = next(i + 1 for i, ln in enumerate(lines) if i > table and ln.startswith(f'"{key}"'))
    assert f"forms/calc.toml 第 {want} 行" in msg, msg
    assert f"checks.{key}" in msg and words in msg, msg


def test_checks_on_a_block_without_formula_cells_are_refused(tmp_path):
    sheet = CALC_SHEET + '''
[[block]]
grid = \'\'\'
备注 | $calc.remark
\'\'\'

[block.checks]
"calc.remark" = { code = "TST-101", message = "备注", severity = "error", tolerance = "exact" }
'''
    with pytest.raises(ProfileError) as e:
        load_region(_region(tmp_path, "", sheet))
    assert "forms/calc.toml 第" in str(e.value) and "没有可声明校验的计算格" in str(e.value)


def test_a_grid_block_may_restate_its_execution_cells_and_a_totals_block_its_total_row(tmp_path):
    dest = tmp_path / "own-words"
    shutil.copytree(PROJECT_ONLY, dest)
    project = dest / "forms" / "project.toml"
    text = project.read_text(encoding="utf-8")
    text = text.replace('[[block]]\nindicators', '''[block.checks.".funds.rate"]
code = "RATE-111"
message = "本地区的执行率按调整后预算计算"
tolerance = "rate"

[[block]]
indicators''', 1)
    text = re.sub(r"(\[\[block\]\]\ntotals = \{[^\n]*\}\n)", r'''\1
[block.checks]
".total_score" = { code = "SCORE-111", message = "总分应等于各项得分之和", severity = "warning", tolerance = "score" }
''', text, count=1)
    project.write_text(text, encoding="utf-8")
    profile = load_region(dest)
    dept = Department(code="9002", name="项目单位", year=2023, profile=str(dest),
                      projects=[{"name": "项目甲", "category": "项目支出",
                                "funds": {"current": {"full": 100, "executed": 80}}}])
    layout = compile_layout(profile, shape_for(dept, profile))
    assert layout.where["projects[0].funds.rate"][1].check.code == "RATE-111"
    assert layout.where["projects[0].total_score"][1].check.severity == "warning"
    assert layout.where["projects[0].funds.score"][1].check.code == "SCORE-101"  # the building block's own
    [flag] = _flags(dept.model_copy(update={"stated": {"projects[0].funds.rate": 0.9}}), profile,
                    "projects[0].funds.rate")
    assert flag.code == "RATE-111" and flag.message.startswith("本地区的执行率按调整后预算计算")


# -- tolerance kinds -----------------------------------------------------------------------------

def test_a_money_cell_within_the_money_tolerance_passes(tmp_path):
    region = _region(tmp_path)
    profile = load_region(region)
    assert profile.scoring.money_tolerance == 0.01
    assert not _flags(_unit(region, {"calc.total_score": 100.009}), profile, "calc.total_score")
    assert _flags(_unit(region, {"calc.total_score": 100.02}), profile, "calc.total_score")


def test_a_rate_within_the_rate_tolerance_passes():
    p = get_profile("yueyang-2023")  # rates rounded to whole percents: half a percent either way
    dept = Department(code="1", name="单位", year=2023, profile=p.id,
                      overall={"budget_full": 200, "expense_basic": 100, "budget_initial": 200})
    right = check(dept, p).derived["overall.rate"]
    assert right == 0.5
    ok = dept.model_copy(update={"stated": {"overall.rate": right + 0.004}})
    assert not [f for f in check(ok, p).flags if f.key == "overall.rate"]
    off = dept.model_copy(update={"stated": {"overall.rate": right + 0.006}})
    assert [f.code for f in check(off, p).flags if f.key == "overall.rate"] == ["RATE-101"]


def test_a_rate_tolerance_follows_the_regions_rounding(tmp_path):
    region = _region(tmp_path)
    profile = load_region(region)  # project-only: rates to two decimals of a percent
    assert profile.scoring.execution_rate_percent_decimals == 2
    assert not _flags(_unit(region, {"calc.share": 0.30004}), profile, "calc.share")
    assert _flags(_unit(region, {"calc.share": 0.3002}), profile, "calc.share")


def test_an_exact_cell_takes_no_tolerance(tmp_path):
    region = _region(tmp_path)
    profile = load_region(region)
    assert _flags(_unit(region, {"calc.double": 60.001}), profile, "calc.double")


# -- the fifth region, end to end through a workbook --------------------------------------------

def _fifth(stated: dict) -> Department:
    return Department(code="5001", name="第五单位", year=2023, profile=str(FIFTH), overall={"expense_basic": 60},
                      figures={"overall.funds.fiscal.adjusted": 60, "overall.funds.own.adjusted": 40,
                               "overall.funds.fiscal.executed": 90, "overall.expense_project": 30},
                      stated=stated)


def test_the_fifth_regions_declared_check_is_what_a_returned_workbook_raises(tmp_path):
    profile = get_profile(str(FIFTH))
    path = write_workbook(_fifth({"overall.budget_full": 150}), profile, tmp_path / "5001.xlsx", generated_at=TS)
    flags = [f for f in check_workbook(path)["flags"] if f.get("key") == "overall.budget_full"]
    assert [(f["code"], f["severity"], f["stated"], f["expected"]) for f in flags] == [("SUM-106", "error", 150, 100)]
    assert flags[0]["message"].startswith("调整后预算数应等于 财政资金 + 单位自筹 + 其他资金 的调整后预算数")
    # the same figure stated right is no flag
    path = write_workbook(_fifth({}), profile, tmp_path / "5001b.xlsx", generated_at=TS)
    assert not [f for f in check_workbook(path)["flags"] if f.get("key") == "overall.budget_full"]


def test_the_fifth_regions_undeclared_formula_cell_still_raises_calc_101(tmp_path):
    profile = get_profile(str(FIFTH))
    layout = compile_layout(profile, shape_for(_fifth({}), profile))
    assert layout.where["overall.expense_sum"][1].check is None  # 支出合计 declares nothing
    path = write_workbook(_fifth({"overall.expense_sum": 95}), profile, tmp_path / "5001.xlsx", generated_at=TS)
    flags = [f for f in check_workbook(path)["flags"] if f.get("key") == "overall.expense_sum"]
    assert [(f["code"], f["severity"], f["stated"], f["expected"]) for f in flags] == [("CALC-101", "error", 95, 90)]


# -- the shipped regions say today's codes where their cells are ---------------------------------

@pytest.mark.parametrize("key, code", [
    ("projects[0].funds.total.executed", "SUM-101"), ("basic.three_public.final", "SUM-102"),
    ("basic.car.budget", "SUM-102"), ("basic.projects.total.final", "SUM-103"), ("basic.projects.cat0.prior", "SUM-103"),
    ("overall.executed", "SUM-104"), ("overall.rate", "RATE-101"), ("projects[0].funds.rate", "RATE-101"),
    ("basic.control_rate", "RATE-102"), ("basic.buildings.area_rate", "RATE-103"), ("overall.score", "SCORE-101"),
    ("overall.total_score", "SCORE-102"), ("projects[0].grade", "SCORE-104"), ("overall.weight_total", "WEIGHT-102"),
    ("overall.expense_project", "XATT-101"), ("projects[0].basic.final", "XATT-102"),
    ("narrative.public_expense", "NARR-301"),
])
def test_every_shipped_cell_carries_the_code_it_always_had(key, code):
    p = get_profile("yueyang-2023")
    dept = Department(code="1", name="单位", year=2023, profile=p.id,
                      projects=[{"name": "项目甲", "category": "业务工作经费"}])
    layout = compile_layout(p, shape_for(dept, p))
    assert layout.where[key][1].check.code == code
