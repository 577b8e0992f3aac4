"""A region's checks as expressions over keys (issue #18, part 2).

Each ``[[checks]]`` kind — equal, compare, sum + equals (with ``projects[*]``), range, require
(with ``if_filled`` / ``when``) — and a warning the region draws itself (``[block.warn]`` /
``[block.error]`` tables) is drawn here as a small region: the test-only project-only region with
two sheets of its own that read each other (附件-style cross-sheet references without a cell
cycle). Each declaration must yield the in-sheet warning (a hint cell LibreOffice shows after
recalculation, equal to the Python recompute) and the ``check`` flag with the declared code at the
declared cell — and nothing when the data is right — through write → read back → check → report.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import openpyxl
import pytest

from selfeval_xl.jobs.checking import check_workbook, report_workbook
from selfeval_xl.checks import check
from selfeval_xl.core.model import Department
from selfeval_xl.core.region import ProfileError
from selfeval_xl.forms.layout import compile_layout, shape_for
from selfeval_xl.forms.recompute import derive
from selfeval_xl.forms.regions import get_profile, load_region
from selfeval_xl.files.libreoffice import convert
from selfeval_xl.xlsx.read import extract
from selfeval_xl.xlsx.write import write_workbook

from .conftest import model_diff
from .test_libreoffice import compare_recalculated

HERE = Path(__file__).parent
PROJECT_ONLY = HERE / "regions" / "project-only"
TS = dt.datetime(2024, 1, 1)

# 甲表 reads 乙表 (calc.from_b) and 乙表 reads 甲表 (calc2.from_a): no cell cycle
SHEET_A = '''name = "甲表"
role = "other"
widths = [20, 14, 30]
print_cols = 2

[[block]]
grid = \'\'\'
项目 ::header | 金额 ::header
甲 | $calc.a:money
乙 | $calc.b:money
合计 | =calc.total
上限 | $calc.cap:money
比率 | $calc.ratio:money
原因 | $calc.reason
各项目预算合计（填写） | $calc.stated:money
各项目预算合计（计算） | =calc.projects_full
乙表的两倍 | =calc.from_b | !calc.hint_neg
\'\'\'

[block.formulas]
"calc.total" = "=SUM({calc.a},{calc.b})"
"calc.projects_full" = "=SUM({projects[*].funds.total.full})"
"calc.from_b" = "=2*N({calc2.x})"

[block.warn]
"calc.hint_neg" = { when = "N({calc.a})>500", message = "甲超过 500，请核实", at = "calc.a" }
'''

SHEET_B = '''name = "乙表"
role = "other"
widths = [20, 14, 30]
print_cols = 2

[[block]]
grid = \'\'\'
项目 ::header | 金额 ::header
丙 | $calc2.x:money | !calc2.hint_big
甲表合计加一 | =calc2.from_a
\'\'\'

[block.formulas]
"calc2.from_a" = "=N({calc.total})+1"

[block.error]
"calc2.hint_big" = { when = "N({calc2.x})>1000", message = "丙超过 1000" }
'''

RULES = '''
[[checks]]
code = "TST-201"
severity = "warning"
compare = ["calc.total", "<=", "calc.cap"]
message = "合计不应超过上限"

[[checks]]
code = "TST-202"
sum = ["projects[*].funds.total.full"]
equals = "calc.stated"
message = "填写的各项目预算合计应等于各项目表的全年预算数之和"

[[checks]]
code = "TST-203"
range = "calc.ratio"
min = 0
max = 1.2
tolerance = "exact"
message = "比率应在 0 到 1.2 之间"

[[checks]]
code = "TST-204"
severity = "info"
require = "calc.reason"
if_filled = "calc.b"
when = "N({calc.a})>100"
message = "甲超过 100 且填了乙时，应写原因"

[[checks]]
code = "TST-205"
equal = ["calc.a", "calc2.x"]
message = "甲应等于丙"

[[checks]]
code = "TST-206"
compare = [".funds.total.executed", "≤", ".funds.total.full"]
message = "每个项目的执行数不应超过全年预算数"
'''


def _region(tmp_path: Path, sheets: dict[str, str] | None = None, rules: str = RULES, name: str = "rules") -> Path:
    """The project-only test region with the sheets above and the rules appended to region.toml."""
    sheets = {"forms/a.toml": SHEET_A, "forms/b.toml": SHEET_B} if sheets is None else sheets
    dest = tmp_path / name
    shutil.copytree(PROJECT_ONLY, dest)
    for rel, text in sheets.items():
        (dest / rel).write_text(text, encoding="utf-8")
    toml = dest / "region.toml"
    text = toml.read_text(encoding="utf-8")
    old = 'sheets = ["forms/guide.toml", "forms/project.toml", "forms/narrative.toml"]'
    assert old in text
    extra = "".join(f', "{rel}"' for rel in sheets)
    toml.write_text(text.replace(old, old[:-1] + extra + "]") + rules, encoding="utf-8")
    return dest


RIGHT = {"calc.a": 30, "calc.b": 70, "calc.cap": 100, "calc.ratio": 0.5, "calc.stated": 300, "calc2.x": 30}


def _unit(region: Path, **changes) -> Department:
    profile = get_profile(str(region))
    cat = profile.projects.default_category
    figures = {k: v for k, v in {**RIGHT, **changes.get("figures", {})}.items() if v is not None}
    projects = [{"name": "项目一", "category": cat, "funds": {"current": {"full": 100, "executed": 90}}},
                {"name": "项目二", "category": cat,
                 "funds": {"current": {"full": 200, "executed": changes.get("executed2", 150)}}}]
    return Department(code="9001", name="测算单位", year=2023, profile=str(region), figures=figures, projects=projects)


@pytest.fixture(scope="module")
def region(tmp_path_factory) -> Path:
    return _region(tmp_path_factory.mktemp("rules"))


def _tst(flags) -> list[tuple[str, str, str]]:
    return sorted((f.code, f.severity, f.location) for f in flags if f.code.startswith(("TST-", "HINT-")))


# what each broken figure must raise, and where (the rule's ``at`` cell)
BROKEN = {
    "compare": ({"figures": {"calc.cap": 90}}, [("TST-201", "warning", "甲表!B4")]),
    "sum over every project": ({"figures": {"calc.stated": 250}}, [("TST-202", "error", "甲表!B8")]),
    "range": ({"figures": {"calc.ratio": 1.3}}, [("TST-203", "error", "甲表!B6")]),
    "require when filled": ({"figures": {"calc.a": 150, "calc2.x": 150, "calc.cap": 1000}},
                            [("TST-204", "info", "甲表!B7")]),
    "equal across sheets": ({"figures": {"calc2.x": 31}}, [("TST-205", "error", "乙表!B2")]),
    "compare on every project": ({"executed2": 250}, [("TST-206", "error", "项目表(2)!F6")]),
    "drawn warning": ({"figures": {"calc.a": 600, "calc2.x": 600, "calc.cap": 5000, "calc.reason": "说明"}},
                      [("HINT-101", "warning", "甲表!B2")]),
    "drawn error": ({"figures": {"calc.a": 2000, "calc2.x": 2000, "calc.cap": 5000, "calc.reason": "说明"}},
                    [("HINT-101", "warning", "甲表!B2"), ("HINT-201", "error", "乙表!C2")]),
}


def test_the_right_data_raises_none_of_the_rules(region):
    profile = get_profile(str(region))
    assert _tst(check(_unit(region), profile).flags) == []


@pytest.mark.parametrize("case", list(BROKEN))
def test_each_rule_flags_with_its_code_at_its_cell(region, case):
    profile = get_profile(str(region))
    changes, want = BROKEN[case]
    flags = check(_unit(region, **changes), profile).flags
    assert _tst(flags) == want, case
    flag = next(f for f in flags if f.code == want[0][0])
    # the message is the declaration's, with the figures it compares where the rule names cells
    rule = next((r for r in profile.checks if r.code == flag.code), None)
    if rule is not None:
        assert flag.message.startswith(rule.message)


def test_the_hint_cell_sits_beside_the_rules_cell_and_says_the_message(region):
    profile = get_profile(str(region))
    dept = _unit(region, figures={"calc.cap": 90})
    layout = compile_layout(profile, shape_for(dept, profile))
    hints = [(sh, c) for sh, c in layout.formulas() if c.kind == "hint" and c.check and c.check.code == "TST-201"]
    [(sh, cell)] = hints
    at_sheet, at_cell = layout.where["calc.total"]
    assert sh is at_sheet and cell.r == at_cell.r and cell.c >= sh.print_cols  # unprinted, on the rule's row
    assert derive(dept, layout)[cell.key] == "合计不应超过上限"
    assert derive(_unit(region), layout)[cell.key] == ""
    # one hint per project for a rule written with .key
    per_project = [c for sh, c in layout.formulas() if c.kind == "hint" and c.check and c.check.code == "TST-206"]
    ats = [c.check.at for c in per_project]  # the unit's two projects and the region's spare sheets
    assert ats == [f"projects[{i}].funds.total.executed" for i in range(len(ats))] and len(ats) >= 2


def test_projects_star_totals_every_project_sheet(region):
    profile = get_profile(str(region))
    dept = _unit(region)
    layout = compile_layout(profile, shape_for(dept, profile))
    sh, cell = layout.where["calc.projects_full"]
    formula = layout.formula_of(sh, cell)
    project_sheets = [s.name for s in layout.sheets if s.role == "project"]
    assert len(project_sheets) >= 2 and all(f"'{n}'!" in formula for n in project_sheets), formula
    assert derive(dept, layout)["calc.projects_full"] == 300


def test_sheets_that_read_each_other_are_ordered_by_cell(region):
    profile = get_profile(str(region))
    dept = _unit(region)
    derived = derive(dept, compile_layout(profile, shape_for(dept, profile)))
    assert derived["calc.from_b"] == 60 and derived["calc2.from_a"] == 101


@pytest.mark.libreoffice
def test_libreoffice_shows_the_same_warnings_as_the_recompute(soffice, region, tmp_path):
    """Every formula and hint cell after LibreOffice's recalculation equals the Python recompute,
    for the right unit and each broken one; the hint text is there in the recalculated file."""
    depts = [_unit(region)] + [_unit(region, **changes) for changes, _w in BROKEN.values()]
    mismatches, checked, outs = compare_recalculated(depts, tmp_path)
    assert checked > 100
    assert not mismatches, mismatches[:10]
    wb = openpyxl.load_workbook(outs[1], data_only=True)  # the "compare" case
    profile = get_profile(str(region))
    layout = compile_layout(profile, shape_for(depts[1], profile))
    [(sh, cell)] = [(sh, c) for sh, c in layout.formulas() if c.check and c.check.code == "TST-201"]
    assert wb[sh.name].cell(cell.r + 1, cell.c + 1).value == "合计不应超过上限"


@pytest.mark.parametrize("case", ["right"] + list(BROKEN))
def test_write_read_check_and_report(region, tmp_path, case):
    profile = get_profile(str(region))
    changes, want = BROKEN.get(case, ({}, []))
    dept = _unit(region, **changes)
    path = write_workbook(dept, profile, tmp_path / "9001.xlsx", generated_at=TS)
    back = extract(path).model_copy(update={"profile": dept.profile, "stated": {}})
    assert back == dept, model_diff(back, dept)[:10]
    result = check_workbook(path)
    got = sorted((f["code"], f["severity"], f["location"]) for f in result["flags"]
                 if f["code"].startswith(("TST-", "HINT-")))
    assert got == want
    assert not [f for f in result["flags"] if f["code"].startswith(("FORMULA-", "READ-", "LAYOUT-"))], result["flags"]
    rep = report_workbook(path, tmp_path / "out")
    assert rep.get("report") and Path(rep["report"]).stat().st_size > 0, rep


def test_the_check_trusts_the_recompute_not_the_cached_hint(region, tmp_path):
    """A returned workbook whose hint cell was typed over (or cached empty) still raises the flag."""
    profile = get_profile(str(region))
    dept = _unit(region, figures={"calc.cap": 90})
    path = write_workbook(dept, profile, tmp_path / "9001.xlsx", generated_at=TS)
    layout = compile_layout(profile, shape_for(dept, profile))
    [(sh, cell)] = [(sh, c) for sh, c in layout.formulas() if c.check and c.check.code == "TST-201"]
    wb = openpyxl.load_workbook(path)
    wb[sh.name].cell(cell.r + 1, cell.c + 1).value = ""
    wb.save(tmp_path / "edited.xlsx")
    codes = [f["code"] for f in check_workbook(tmp_path / "edited.xlsx")["flags"]]
    assert "TST-201" in codes


# -- a shipped rule on the new kinds -----------------------------------------------------------------

def test_sichuans_reason_rule_is_a_require_when_check():
    profile = get_profile("sichuan-2023")
    [rule] = [r for r in profile.checks if r.code == "RATE-203"]
    assert (rule.kind, rule.require, rule.severity) == ("require", ".funds.reason", "warning")
    cat = profile.projects.default_category
    low = {"name": "项目", "category": cat, "funds": {"current": {"full": 100, "executed": 80}}}
    dept = Department(code="1", name="单位", year=2023, profile="sichuan-2023", projects=[low])
    flags = [(f.code, f.location) for f in check(dept, profile).flags if f.code == "RATE-203"]
    assert flags == [("RATE-203", "项目自评表(1)!K9")]
    explained = dict(low, figures={"funds.reason": "年底才下达资金"})
    dept = Department(code="1", name="单位", year=2023, profile="sichuan-2023", projects=[explained])
    assert not [f for f in check(dept, profile).flags if f.code == "RATE-203"]
    full = dict(low, funds={"current": {"full": 100, "executed": 95}})
    dept = Department(code="1", name="单位", year=2023, profile="sichuan-2023", projects=[full])
    assert not [f for f in check(dept, profile).flags if f.code == "RATE-203"]


# -- loading errors: file, line, key, in Chinese -------------------------------------------------------

def _line_of(text: str, needle: str) -> int:
    return next(i + 1 for i, ln in enumerate(text.splitlines()) if needle in ln)


@pytest.mark.parametrize("rule, needle, words", [
    ('[[checks]]\ncode = "TST-301"\ncompare = ["calc.a", "=>", "calc.b"]\nmessage = "m"\n',
     "compare =", ["运算符", "=>", "compare"]),
    ('[[checks]]\ncode = "TST-302"\ncompare = ["calc.a", "<=", true]\nmessage = "m"\n',
     "compare =", ["第 3 项", "compare"]),
    ('[[checks]]\ncode = "TST-303"\nequel = ["calc.a", "calc.b"]\nmessage = "m"\n',
     "equel", ["未知的键", "equel"]),
    ('[[checks]]\ncode = "TST-304"\nrange = "calc.a"\nmin = "零"\nmessage = "m"\n',
     "min =", ["应为数字", "min"]),
    ('[[checks]]\ncode = "TST-305"\nsum = ["calc.a", "calc.b"]\nmessage = "m"\n',
     "[[checks]]", ["equals", "checks"]),
    ('[[checks]]\ncode = "TST-306"\nrange = "calc.a"\nrequire = "calc.b"\nmessage = "m"\n',
     "[[checks]]", ["只有一种", "range", "require"]),
    ('[[checks]]\ncode = "TST-309"\nrange = "calc.a"\nmax = 5\nwhen = "SUM({calc.a}"\nmessage = "m"\n',
     "when =", ["when", "不完整"]),
    ('[[checks]]\ncode = "TST-307"\ncompare = ["projects[*].funds.total.full", "<=", 5]\nmessage = "m"\n',
     "compare =", ["projects[*]", "sum"]),
])
def test_a_bad_rule_is_refused_naming_file_line_and_key(tmp_path, rule, needle, words):
    region = _region(tmp_path, rules="\n" + rule)
    text = (region / "region.toml").read_text(encoding="utf-8")
    with pytest.raises(ProfileError) as e:
        load_region(region)
    msg = str(e.value)
    assert "region.toml" in msg and f"第 {_line_of(text[text.index(rule):], needle) + text[:text.index(rule)].count(chr(10))} 行" in msg, msg
    for w in words:
        assert w in msg, msg
    assert not re.search(r"[A-Za-z]{4,} (should|must|field|required)", msg, re.I), msg  # no pydantic English


def test_a_rule_over_a_cell_no_sheet_draws_is_refused(tmp_path):
    rule = '[[checks]]\ncode = "TST-308"\ncompare = ["calc.a", "<=", "calc.nowhere"]\nmessage = "m"\n'
    region = _region(tmp_path, rules="\n" + rule)
    text = (region / "region.toml").read_text(encoding="utf-8")
    with pytest.raises(ProfileError) as e:
        load_region(region)
    msg = str(e.value)
    assert f"region.toml 第 {_line_of(text, 'calc.nowhere')} 行" in msg and "calc.nowhere" in msg and "TST-308" in msg, msg


def test_a_bad_drawn_warning_is_refused_naming_file_line_and_key(tmp_path):
    bad = SHEET_A.replace('message = "甲超过 500，请核实", ', "")
    assert bad != SHEET_A
    region = _region(tmp_path, sheets={"forms/a.toml": bad, "forms/b.toml": SHEET_B})
    with pytest.raises(ProfileError) as e:
        load_region(region)
    msg = str(e.value)
    line = _line_of(bad, '"calc.hint_neg" =')
    assert f"forms/a.toml 第 {line} 行" in msg and "calc.hint_neg" in msg and "message" in msg, msg


def test_a_drawn_warning_pointing_at_no_cell_of_its_block_is_refused(tmp_path):
    bad = SHEET_A.replace('at = "calc.a"', 'at = "calc2.x"')
    region = _region(tmp_path, sheets={"forms/a.toml": bad, "forms/b.toml": SHEET_B})
    with pytest.raises(ProfileError) as e:
        load_region(region)
    assert "forms/a.toml 第" in str(e.value) and "calc.hint_neg.at" in str(e.value) and "calc2.x" in str(e.value)


def test_a_real_cell_cycle_across_sheets_is_refused_with_its_path(tmp_path):
    a = SHEET_A.replace('"calc.from_b" = "=2*N({calc2.x})"', '"calc.from_b" = "=2*N({calc2.from_a})"').replace(
        '"calc.total" = "=SUM({calc.a},{calc.b})"', '"calc.total" = "=SUM({calc.a},{calc.b},{calc.from_b})"')
    region = _region(tmp_path, sheets={"forms/a.toml": a, "forms/b.toml": SHEET_B}, rules="")
    with pytest.raises(ProfileError) as e:
        load_region(region)
    msg = str(e.value)
    assert "公式循环引用" in msg and "→" in msg, msg
    for key in ("calc.total", "calc2.from_a", "calc.from_b"):
        assert key in msg, msg
    assert re.search(r"forms/[ab]\.toml 第 \d+ 行（键 calc", msg), msg
    assert "工作表之间" not in msg  # the sheets may read each other; the cells may not
