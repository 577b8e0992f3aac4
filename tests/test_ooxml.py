"""The fast cell reader agrees with openpyxl, cell by cell, on what the writers produce."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest

from selfeval_xl.ooxml import read_xlsx
from selfeval_xl.profile import get_profile
from selfeval_xl.xlsx_write import write_workbook

from .conftest import example_departments


def _openpyxl_cells(path):
    values, formulas = {}, {}
    for data_only, out in ((True, values), (False, formulas)):
        wb = openpyxl.load_workbook(path, data_only=data_only)
        for ws in wb.worksheets:
            d = out.setdefault(ws.title, {})
            for row in ws.iter_rows():
                for c in row:
                    if c.value is not None and c.value != "":
                        d[(c.row - 1, c.column - 1)] = c.value
    return values, formulas


@pytest.mark.parametrize("stem", sorted(example_departments()))
def test_values_and_formulas_match_openpyxl(tmp_path, stem):
    dept = example_departments()[stem]
    path = write_workbook(dept, get_profile(dept.profile), tmp_path / "a.xlsx")
    values, formulas = _openpyxl_cells(path)
    ours = read_xlsx(path)
    assert set(ours) == set(values)
    n = 0
    for name, data in ours.items():
        assert data.values == values[name], name
        want_f = {rc: v for rc, v in formulas[name].items() if isinstance(v, str) and v.startswith("=")}
        assert data.formulas == want_f, name
        n += len(data.values)
    assert n > 300


def _rewrite_sheet(src, dst, part, fn):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, fn(data) if info.filename == part else data)


def test_blank_cell_forms_and_markup_inside_values(tmp_path):
    """Blank cells written as <c/> or <c></c>, escaped text and whitespace all read as openpyxl reads them."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "a <b> & \"c\" />"
    ws["B1"] = 12.5
    ws["C2"] = "=SUM(B1,1)"
    src = tmp_path / "src.xlsx"
    wb.save(src)
    dst = tmp_path / "dst.xlsx"

    def add_blanks(xml: bytes) -> bytes:
        assert xml.count(b"</sheetData>") == 1
        return xml.replace(b"</sheetData>", b'<row r="9"><c r="A9" s="0"/><c r="B9"></c><c r="C9" t="s"/></row></sheetData>')

    _rewrite_sheet(src, dst, "xl/worksheets/sheet1.xml", add_blanks)
    assert b'<c r="B9"></c>' in zipfile.ZipFile(dst).read("xl/worksheets/sheet1.xml")
    ours = read_xlsx(dst)["Sheet"]
    assert ours.values[(0, 0)] == "a <b> & \"c\" />"
    assert ours.values[(0, 1)] == 12.5
    assert ours.formulas[(1, 2)] == "=SUM(B1,1)"
    assert (8, 0) not in ours.values and (8, 1) not in ours.values
