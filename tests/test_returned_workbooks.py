"""Returned workbooks as clerks really leave them: what is read, what is said, and where.

(The hostile corpus holds one file per case and the flag it must raise; these tests look at
the values read and the messages, case by case.)"""

from __future__ import annotations

import zipfile

import openpyxl
import pytest
from typer.testing import CliRunner

from selfeval_xl.jobs.checking import check_workbook
from selfeval_xl.cli import app
from selfeval_xl.forms.layout import compile_layout
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.xlsx.read import ReadError, extract, read_workbook
from selfeval_xl.xlsx.write import shape_for, write_workbook

from .conftest import without_stated

P = get_profile("yueyang-2023")


@pytest.fixture
def filled(tmp_path, examples):
    dept = without_stated(examples["001_岳阳市档案馆"])
    return dept, write_workbook(dept, P, tmp_path / "a.xlsx")


def _where(dept, key):
    sh, cell = compile_layout(P, shape_for(dept, P)).where[key]
    return sh.name, cell.r + 1, cell.c + 1


def _edited(src, dest, fn):
    wb = openpyxl.load_workbook(src)
    fn(wb)
    wb.save(dest)
    return dest


def test_arithmetic_typed_into_an_input_is_its_result(tmp_path, filled):
    dept, src = filled
    sheet, r, c = _where(dept, "overall.expense_basic")
    path = _edited(src, tmp_path / "f.xlsx", lambda wb: wb[sheet].cell(r, c, "=50+53.86"))  # no cached value
    rr = read_workbook(path)
    assert rr.dept.overall.expense_basic == pytest.approx(103.86)
    f = next(f for f in rr.flags if f.key == "overall.expense_basic")
    assert f.code == "READ-105" and "=50+53.86" in f.message


def test_a_reference_typed_into_an_input_is_said_not_dropped(tmp_path, filled):
    dept, src = filled
    sheet, r, c = _where(dept, "overall.expense_basic")
    rr = read_workbook(_edited(src, tmp_path / "f.xlsx", lambda wb: wb[sheet].cell(r, c, "=E5*2")))
    f = next(f for f in rr.flags if f.key == "overall.expense_basic")
    assert f.code == "READ-106" and f.severity == "warning" and "=E5*2" in f.message


def test_extract_refuses_a_workbook_whose_rows_moved(tmp_path, filled):
    dept, src = filled
    sheet, r, _ = _where(dept, "projects[0].funds.current.executed")
    path = _edited(src, tmp_path / "moved.xlsx", lambda wb: wb[sheet].insert_rows(r))
    with pytest.raises(ReadError, match="插入了 1 行"):
        extract(path)
    res = CliRunner().invoke(app, ["extract", str(path), "-o", str(tmp_path / "x.json")])
    assert res.exit_code == 2 and "插入" in res.output and not (tmp_path / "x.json").exists()
    # check says the cause once, where it is, and holds back what follows from it
    before, after = check_workbook(src), check_workbook(path)
    new = [f for f in after["flags"] if (f["code"], f["location"]) not in
           {(g["code"], g["location"]) for g in before["flags"]} and f["severity"] != "info"]
    assert [(f["code"], f["location"]) for f in new] == [("LAYOUT-202", f"{sheet}!A{r}")], new


def test_money_formatted_as_percent_is_said(tmp_path, filled):
    dept, src = filled
    sheet, r, c = _where(dept, "overall.income.other")

    def pct(wb):
        wb[sheet].cell(r, c, 0.98).number_format = "0.00%"
    rr = read_workbook(_edited(src, tmp_path / "p.xlsx", pct))
    f = next(f for f in rr.flags if f.key == "overall.income.other")
    assert f.code == "READ-108" and "98%" in f.message and "0.98 万元" in f.message


def test_deleting_the_spare_sheets_is_understood(tmp_path, filled):
    dept, src = filled
    spares = [f"附件3({i + 1})" for i in range(len(dept.projects), len(dept.projects) + P.projects.spare_sheets)]

    def drop(wb):
        for n in spares:
            wb.remove(wb[n])
    before, after = check_workbook(src), check_workbook(_edited(src, tmp_path / "d.xlsx", drop))
    new = {(f["code"], f["location"]) for f in after["flags"]} - {(f["code"], f["location"]) for f in before["flags"]}
    assert new == {("READ-204", spares[0])}
    assert after["status"] == before["status"]


def test_a_filled_copy_of_a_sheet_is_said(tmp_path, filled):
    dept, src = filled

    def copy(wb):
        ws = wb.copy_worksheet(wb["附件3(1)"])
        ws.title = "附件3(1) (2)"
    r = check_workbook(_edited(src, tmp_path / "c.xlsx", copy))
    f = next(f for f in r["flags"] if f["code"] == "READ-203")
    assert f["severity"] == "warning" and "附件3(1) (2)" in f["message"] and "副本" in f["message"]


def test_excel_escapes_in_text_are_read_as_the_characters(tmp_path, filled):
    """Excel stores a carriage return in text as _x000D_: the report must not print that."""
    dept, src = filled
    sheet, r, c = _where(dept, "narrative.sections.basic_info")
    path = _edited(src, tmp_path / "t.xlsx", lambda wb: wb[sheet].cell(r, c, "第一段MARK第二段"))
    out = tmp_path / "x.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            data = data.replace("MARK".encode(), b"_x000D_\n")  # as Excel writes "\r\n"
            zout.writestr(info, data)
    text = extract(out).narrative.sections["basic_info"]
    assert text == "第一段\n第二段"


def test_a_renamed_sheet_keeps_its_comments_in_the_annotated_copy(tmp_path, examples):
    """The flags name the form's sheet (附件2!E7); the clerk's file calls it something else. The
    annotated copy must still carry every comment on it (issue #18: it carried 0 of 4)."""
    from selfeval_xl.xlsx.annotate import annotate

    src = write_workbook(examples["001_岳阳市档案馆"], P, tmp_path / "a.xlsx")  # with the seed's stated totals
    plain = _edited(src, tmp_path / "plain.xlsx", lambda wb: None)
    renamed = _edited(src, tmp_path / "renamed.xlsx", lambda wb: setattr(wb["附件2"], "title", "整体支出自评"))

    def comments(path, sheet):
        result = check_workbook(path)
        out = annotate(path, result["flags"], tmp_path / f"note-{path.name}")
        ws = openpyxl.load_workbook(out)[sheet]
        return {c.coordinate for row in ws.iter_rows() for c in row if c.comment}

    want = comments(plain, "附件2")
    assert len(want) >= 2  # openpyxl's save drops cached totals: the flags on inputs remain
    assert comments(renamed, "整体支出自评") == want
