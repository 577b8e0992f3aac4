"""Every region — the four shipped and a fifth that exists only as a folder in tests/ — runs the
whole way with no Python of its own: generate, fill, LibreOffice recalculation equal to the
Python recompute, extract(fill(x)) == x, check and report.

The fifth region's grid is one no shipped region has: an adjusted-budget and a reason column
in the funds block, other fund rows, execution 10 + indicators 90, targets split into
指标性质 | 指标值 | 度量单位, text blocks after the indicator table, other sign-off lines.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import openpyxl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from selfeval_xl.jobs.checking import check_workbook, report_workbook
from selfeval_xl.forms.layout import compile_layout
from selfeval_xl.core.model import Department
from selfeval_xl.forms.regions import available_profiles, get_profile
from selfeval_xl.xlsx.read import extract
from selfeval_xl.forms.binding import form_name
from selfeval_xl.forms.naming import report_title
from selfeval_xl.xlsx.signing import machine_key
from selfeval_xl.xlsx.write import shape_for, write_workbook

from .conftest import model_diff
from .strategies import layout_departments
from .test_libreoffice import ERRORS, compare_recalculated

TS = dt.datetime(2024, 1, 1)
FIFTH = str(Path(__file__).parent / "regions" / "fifth-region")
REGIONS = available_profiles() + [FIFTH]
IDS = [Path(r).name for r in REGIONS]
# the region's own words that its workbook and report must carry
SIGNATURE = {
    "yueyang-2023": "市级预算部门名称", "sample-50-40-10": "预算部门名称", "hengyang-2022": "部门职能",
    "yunxi-2023": "绩效自评综合得分", "fifth-region": "调整后预算数",
    # project-only packages: a unit may have no project table to print; the report's title is theirs
    "national-2020": "项目支出绩效自评报告", "sichuan-2023": "项目支出绩效自评报告",
}
# what each region draws under its tables (sign-off, opinions), which the report must carry too
SIGNOFF = {
    "yueyang-2023": "单位负责人签字", "sample-50-40-10": "单位负责人签字", "hengyang-2022": "单位负责人签字",
    "yunxi-2023": "评价组组长（签字）", "fifth-region": "财务负责人",
    "national-2020": "总分",  # the national form prints nothing under its table: its last row, then
    "sichuan-2023": "财务负责人",
}


def test_the_regions_are_what_this_test_covers():
    assert set(available_profiles()) == {"yueyang-2023", "sample-50-40-10", "hengyang-2022", "yunxi-2023",
                                         "national-2020", "sichuan-2023"}


@pytest.mark.parametrize("region", REGIONS, ids=IDS)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_extract_of_fill_is_identity(tmp_path, region, data):
    profile = get_profile(region)
    dept = data.draw(layout_departments(profile))
    path = write_workbook(dept, profile, tmp_path / "x.xlsx", generated_at=TS)
    back = extract(path)
    assert back == dept, model_diff(back, dept)[:10]


@pytest.mark.libreoffice
@pytest.mark.parametrize("region", REGIONS, ids=IDS)
@settings(max_examples=3, deadline=None, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_libreoffice_recalculates_random_inputs_as_python(soffice, tmp_path_factory, region, data):
    profile = get_profile(region)
    dept = data.draw(layout_departments(profile)).model_copy(update={"profile": region})  # fifth: by its folder
    depts = [dept]
    mismatches, checked, _ = compare_recalculated(depts, tmp_path_factory.mktemp("recalc"))
    assert checked > 30
    assert not mismatches, mismatches[:10]


@pytest.mark.libreoffice
def test_blank_workbooks_of_every_region_show_no_error_value(soffice, tmp_path):
    depts = []
    for region in REGIONS:
        p = get_profile(region)
        has_projects = any(s.repeat == "projects" for s in p.forms.sheets)
        depts.append(Department(code="1", name="空白单位", year=2023, profile=region,
                                projects=[{"name": "项目", "category": p.projects.categories[0]}] if has_projects else []))
    mismatches, _checked, outs = compare_recalculated(depts, tmp_path)
    assert not mismatches, mismatches[:10]
    for out in outs:
        for ws in openpyxl.load_workbook(out, data_only=True).worksheets:
            for row in ws.iter_rows(values_only=True):
                assert not any(isinstance(v, str) and v.startswith(ERRORS) for v in row), (out.name, ws.title, row)


@pytest.mark.parametrize("region", REGIONS, ids=IDS)
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(data=st.data())
def test_check_and_report_follow_the_region(tmp_path, region, data):
    profile = get_profile(region)
    dept = data.draw(layout_departments(profile))
    # signed as the CLI signs: a region not installed here is then verified, not "unverified"
    path = write_workbook(dept, profile, tmp_path / f"{dept.code}.xlsx", generated_at=TS, key=machine_key())
    r = check_workbook(path)
    assert r["status"] != "无法读取", r
    codes = {f["code"] for f in r["flags"]}
    # the workbook as written: every cached value is the recompute, nothing edited, nothing unreadable
    assert not {c for c in codes if c.startswith(("FORMULA-", "READ-", "META-", "LAYOUT-"))}, codes
    rep = report_workbook(path, tmp_path / "out")
    assert rep.get("report"), rep
    with zipfile.ZipFile(rep["report"]) as z:
        body = z.read("word/document.xml").decode("utf-8")
    assert SIGNATURE[Path(region).name] in body
    if dept.projects or form_name(profile, "overall"):  # a project-only unit with no project prints no table
        assert SIGNOFF[Path(region).name] in body
    for sec in profile.report.sections:
        assert sec.title in body
    for line in profile.report.cover:  # the region's cover, its placeholders filled
        text = line.text.replace("{unit_name}", dept.name).replace("{unit_code}", dept.code).replace(
            "{year}", str(dept.year)).replace("{report_date}", dept.signoff.date or "年    月    日").replace(
            "{title}", report_title(profile))
        for part in text.split("\n"):  # a line break in a unit's name prints as a break
            assert xml_escape(part) in body, text


def _fifth(expense_basic: float = 60) -> Department:
    ind = {"level1": "产出指标", "level2": "成本指标", "name": "运行成本", "nature": "", "value": "150", "unit": "万元",
           "actual": "191.18万元", "weight": 3, "score": 3}
    return Department(code="5001", name="第五单位", year=2023, profile=FIFTH, overall={
        "expense_basic": expense_basic, "indicators": [ind]},
        figures={"overall.funds.fiscal.adjusted": 100, "overall.funds.fiscal.executed": 90, "overall.expense_project": 30})


def test_fifth_region_rules_hold_in_its_own_grid(tmp_path):
    """Its structured cost target is a ceiling, its declared check holds the 支出性质 split to the
    total, and its execution score counts (10 × 90%)."""
    dept = _fifth()
    path = write_workbook(dept, get_profile(FIFTH), tmp_path / "5001.xlsx", generated_at=TS)
    r = check_workbook(path)
    by_code = {f["code"]: f for f in r["flags"]}
    assert by_code["IND-201"]["expected"] == "2.18"  # 191.18 over a ceiling of 150 万元 (bare amount, 成本指标)
    assert "SUM-201" not in by_code  # 60 + 30 = 90
    layout = compile_layout(get_profile(FIFTH), shape_for(dept, get_profile(FIFTH)))
    sh, cell = layout.where["overall.score"]
    wb = openpyxl.load_workbook(path, data_only=True)
    assert wb[sh.name].cell(cell.r + 1, cell.c + 1).value == pytest.approx(9.0)

    off = _fifth(expense_basic=70)
    path = write_workbook(off, get_profile(FIFTH), tmp_path / "5001b.xlsx", generated_at=TS)
    flags = {f["code"]: f for f in check_workbook(path)["flags"]}
    assert flags["SUM-201"]["severity"] == "error" and flags["SUM-201"]["stated"] == 100


def test_the_fifth_region_is_not_in_the_package():
    """It is used by its folder path alone: nothing in the package names it."""
    import selfeval_xl

    pkg = Path(selfeval_xl.__file__).parent
    assert not any("fifth" in p.read_text(encoding="utf-8", errors="ignore")
                   for p in pkg.rglob("*") if p.is_file() and p.suffix in (".py", ".toml"))
    assert json.loads(json.dumps(get_profile(FIFTH).id)) == "fifth-region"
