"""The fast cell reader agrees with openpyxl, cell by cell, on what the writers produce."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest

from selfeval_xl.xlsx.ooxml import read_xlsx
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.xlsx.write import write_workbook

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
    assert n > 200  # the smallest example (云溪: one table, no 附件1/附件3) has ~290 cells


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


def _both_paths(xml: bytes, strings=("甲", "乙")):
    from selfeval_xl.xlsx import ooxml

    fast, slow = ooxml.SheetData("s", "visible"), ooxml.SheetData("s", "visible")
    took_fast = ooxml._read_sheet_fast(ooxml._BLANK_CELL.sub(b"", xml), fast, list(strings), set())
    ooxml._read_sheet_lxml(ooxml._BLANK_CELL.sub(b"", xml), slow, list(strings), set())
    return took_fast, fast, slow


_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
_TAIL = b'</sheetData><sheetProtection sheet="1" objects="1"/></worksheet>'


@pytest.mark.parametrize("cells, fast", [
    # as XlsxWriter writes: shared strings, numbers, formulas with escaped operators and cached text
    (b'<row r="1"><c r="A1" s="3" t="s"><v>1</v></c><c r="B1" s="2"/><c r="C1"><v>12.5</v></c></row>'
     b'<row r="2"><c r="A2" s="4" t="str"><f>IF(A1&lt;&gt;"",A1&amp;"&#x4E2D;","")</f><v>&amp;&lt;x&gt;</v></c>'
     b'<c r="B2"><f>SUM(C1,1)</f><v>13.5</v></c><c r="C2" t="b"><v>1</v></c><c r="D2" t="e"><v>#DIV/0!</v></c></row>',
     True),
    # LibreOffice's formula attributes, an inline string, a comment, CDATA: read by lxml instead
    (b'<row r="1"><c r="A1" s="1"><f aca="false">SUM(B1,1)</f><v>2</v></c></row>', False),
    (b'<row r="1"><c r="A1" t="inlineStr"><is><t>x&amp;y</t></is></c></row>', False),
    (b'<row r="1"><!-- note --><c r="A1"><v>3</v></c></row>', False),
    (b'<row r="1"><c r="A1" t="str"><v><![CDATA[a<b]]></v></c></row>', False),
])
def test_fast_path_agrees_with_lxml(cells, fast):
    took_fast, a, b = _both_paths(_HEAD + cells + _TAIL)
    assert took_fast is fast
    if fast:
        assert (a.values, a.formulas, a.protected) == (b.values, b.formulas, b.protected)
        assert a.values[(1, 0)] == "&<x>" and a.formulas[(1, 0)] == '=IF(A1<>"",A1&"中","")'
        assert a.values[(0, 0)] == "乙" and a.values[(1, 2)] is True and a.protected


def test_fast_path_on_generated_workbooks(tmp_path):
    """Every sheet the writer produces takes the fast path and reads as lxml reads it."""
    dept = next(iter(example_departments().values()))
    path = write_workbook(dept, get_profile(dept.profile), tmp_path / "a.xlsx")
    with zipfile.ZipFile(path) as z:
        parts = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert parts
        for name in parts:
            took_fast, a, b = _both_paths(z.read(name))
            assert took_fast, name
            assert (a.values, a.formulas, a.protected) == (b.values, b.formulas, b.protected), name
