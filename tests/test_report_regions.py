"""Reports written in other regions' layouts (issue #19): a project-only region's report
(national-2020, 财预〔2020〕10号) and Sichuan's (sichuan-2023, 510000_0013zp), their project tables
typed into Word, are read and their tables matched by those regions' own labels.

Each document is built here with python-docx from a filled published example
(tests/test_shipped_regions.py): the region's outline as headings, then each project's table
cell by cell from the region's compiled layout — labels where the form prints them, the unit's
figures where it has inputs and formulas, merged cells merged (项目资金（万元） down four rows,
一级指标 down their rows). A mistake is planted by key and must be flagged at the very cell it
was typed in; the clean document raises no table flag."""

from __future__ import annotations

import copy
from pathlib import Path

import docx
import pytest

from selfeval_xl.jobs.checking import check_report
from selfeval_xl.core.model import Department
from selfeval_xl.forms.binding import flatten
from selfeval_xl.forms.cells import RATE
from selfeval_xl.forms.layout import compile_layout, shape_for
from selfeval_xl.forms.recompute import derive_values
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.wordin.read import read_report
from selfeval_xl.wordin.tablecheck import check_report_tables
from selfeval_xl.wordin.tables import match_tables
from tests.test_shipped_regions import NATIONAL, SICHUAN

TABLE_CODES = ("RPT-5", "RPT-6", "RATE-", "SCORE-", "WEIGHT-", "SUM-", "XATT-", "CALC-")


def _text(cell, book) -> str:
    if cell.kind == "label":
        return "" if cell.text is None else (f"{cell.text:g}" if isinstance(cell.text, float) else str(cell.text))
    v = book.get(cell.key)
    if v is None:
        return ""
    if cell.vtype == RATE and isinstance(v, (int, float)):
        return f"{v * 100:.2f}%"  # as a clerk types a rate
    return f"{v:g}" if isinstance(v, float) else str(v)


def project_report(data: dict, path: Path, typed: dict[str, str] | None = None) -> dict[str, tuple[int, int, int]]:
    """The unit's report as a .docx; ``typed``: {model key: text typed instead of the figure}.
    Returns where each key's figure stands: {key: (table, row, col)}, 1-based."""
    typed = typed or {}
    dept = Department.model_validate(data)
    profile = get_profile(dept.profile)
    layout = compile_layout(profile, shape_for(dept, profile))
    book = flatten(dept, layout)
    book.update(derive_values(book, layout))
    d = docx.Document()
    d.add_paragraph(f"{dept.name}{dept.year}年度项目支出绩效自评报告")
    for sec in profile.report.sections:
        d.add_paragraph(sec.title).runs[0].bold = True
        d.add_paragraph("按项目支出绩效自评表填报，详见附表。")
    where: dict[str, tuple[int, int, int]] = {}
    n = 0
    for sh in layout.sheets:
        if sh.role != "project" or sh.project is None or sh.project >= len(dept.projects):
            continue
        n += 1
        d.add_paragraph(f"附表{n}")
        cols = sh.print_cols or max(c.c for c in sh.cells) + 1
        cells = [c for c in sh.cells if c.kind != "hint" and c.c < cols]
        top = min(c.r for c in cells)
        rows = max((c.merge[0] if c.merge else c.r) for c in cells) - top + 1
        t = d.add_table(rows=rows, cols=cols)
        t.style = "Table Grid"
        for c in cells:
            text = typed.get(c.key, _text(c, book)) if c.key else _text(c, book)
            t.cell(c.r - top, c.c).text = text
            if c.key:
                where[c.key] = (n, c.r - top + 1, c.c + 1)
        for c in cells:
            if c.merge and c.merge != (c.r, c.c):
                keep = t.cell(c.r - top, c.c).text
                t.cell(c.r - top, c.c).merge(t.cell(c.merge[0] - top, min(c.merge[1], cols - 1))).text = keep
    d.save(str(path))
    return where


def _two_projects(data: dict) -> dict:
    data = copy.deepcopy(data)
    second = copy.deepcopy(data["projects"][0])
    second["name"] = "校园安防监控系统升级经费"
    data["projects"].append(second)
    return data


def _table_flags(path: Path, data: dict):
    profile = get_profile(data["profile"])
    rep = read_report(path, profile)
    forms = match_tables(rep, profile, data["year"])
    flags = check_report_tables(rep, profile, data["year"], forms=forms)
    return forms, [f for f in flags if f.code.startswith(TABLE_CODES)]


def _at(where: dict, key: str) -> str:
    t, r, c = where[key]
    return f"报告!表{t} R{r}C{c}"


@pytest.mark.parametrize("data", [NATIONAL, SICHUAN], ids=["national-2020", "sichuan-2023"])
def test_a_clean_report_in_the_regions_layout_is_read_beside_its_labels(tmp_path, data):
    path = tmp_path / "clean.docx"
    where = project_report(data, path)
    forms, flags = _table_flags(path, data)
    assert flags == []
    [form] = forms
    assert form.role == "project" and form.value("projects[0].name") == data["projects"][0]["name"]
    funds = data["projects"][0]["funds"]["current"]
    assert form.value("projects[0].funds.current.executed") == funds["executed"]
    assert form.value("projects[0].funds.rate") == pytest.approx(funds["executed"] / funds["full"], abs=1e-4)
    assert str(form.figures["projects[0].funds.rate"].where) == _at(where, "projects[0].funds.rate")
    ind = data["projects"][0]["indicators"]
    weights = [f for k, f in form.figures.items() if k.endswith(".weight") and ".ind." in k and f.value is not None]
    assert sorted(f.value for f in weights) == sorted(float(i["weight"]) for i in ind)
    # and as `check` takes a report alone: the region recognised by its outline
    r = check_report(path)
    assert r["profile"] == data["profile"]
    assert not [f for f in r["flags"] if f["code"].startswith(TABLE_CODES)]


def test_national_budget_score_typed_9_is_found_at_its_cell_in_the_second_project(tmp_path):
    """廊坊's published mistake: 预算得分 9 where 10 × 86.20% = 8.62 (总分 typed as the 98 it implies)."""
    data = _two_projects(NATIONAL)
    path = tmp_path / "national.docx"
    where = project_report(data, path, {"projects[1].funds.score": "9", "projects[1].total_score": "98"})
    forms, flags = _table_flags(path, data)
    assert [f.value(f"projects[{f.index}].name") for f in forms] == [p["name"] for p in data["projects"]]
    assert [(f.code, f.location, f.stated, f.expected) for f in flags] == [
        ("SCORE-101", _at(where, "projects[1].funds.score"), 9.0, pytest.approx(8.62))]
    assert "校园安防监控系统升级经费" in flags[0].message


@pytest.mark.parametrize("typed,want", [
    ({"projects[0].total_score": "95"}, [("SCORE-102", "projects[0].total_score", 95.0, 100.0)]),
    # 95% typed where 251.89 ÷ 251.89 = 100%: the rate, and the score 10 × 95% it then implies
    ({"projects[0].funds.rate": "95%"}, [("RATE-101", "projects[0].funds.rate", 0.95, 1.0),
                                         ("SCORE-101", "projects[0].funds.score", 10.0, 9.5)]),
])
def test_sichuan_mistakes_are_found_at_their_cells(tmp_path, typed, want):
    path = tmp_path / "sichuan.docx"
    where = project_report(SICHUAN, path, typed)
    _forms, flags = _table_flags(path, SICHUAN)
    got = sorted((f.code, f.location, f.stated, f.expected) for f in flags)
    assert got == sorted((code, _at(where, key), stated, pytest.approx(expected)) for code, key, stated, expected in want)


def test_a_rate_in_a_report_table_flag_reads_as_a_percentage(tmp_path):
    """The clerk typed 95%; the flag says 95.00% and 100.00%, as the form prints rates, not 0.95."""
    path = tmp_path / "sichuan.docx"
    project_report(SICHUAN, path, {"projects[0].funds.rate": "95%"})
    _forms, flags = _table_flags(path, SICHUAN)
    (rate,) = [f for f in flags if f.code == "RATE-101"]
    assert "95.00%" in rate.message and "100.00%" in rate.message and "0.95" not in rate.message
