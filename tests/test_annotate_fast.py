"""The annotated copy written at the XML level (issue #20, part 1): a comment and a fill on every
flagged cell, the 校验结果 sheet first (errors first, each row linked to its cell), every other
part of the returned file copied byte for byte, written by the check's workers, and opened by
openpyxl and by LibreOffice."""

from __future__ import annotations

import zipfile

import openpyxl
from typer.testing import CliRunner

from selfeval_xl.jobs.checking import check_workbook
from selfeval_xl.cli import app
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.xlsx.annotate import annotate
from selfeval_xl.xlsx.write import write_workbook

P = get_profile("yueyang-2023")
SEED = "001_岳阳市档案馆"


def _copy(tmp_path, examples, seed=SEED):
    dept = examples[seed]
    src = write_workbook(dept, get_profile(dept.profile), tmp_path / "交回.xlsx")
    result = check_workbook(src)
    return src, result, annotate(src, result["flags"], tmp_path / "批注" / "交回.xlsx")


def _cells(flags):
    return {tuple(f["location"].split("!")) for f in flags if "!" in (f.get("location") or "")}


def test_a_comment_and_a_fill_on_every_flagged_cell(tmp_path, examples):
    src, result, out = _copy(tmp_path, examples)
    wb = openpyxl.load_workbook(out)
    flagged = _cells(result["flags"])
    assert len(flagged) > 10
    for sheet, addr in flagged:
        ws = wb[sheet]
        cell = ws[addr]
        for rng in ws.merged_cells.ranges:  # a merged cell's comment sits on the merge's top-left
            if addr in rng:
                cell = ws.cell(rng.min_row, rng.min_col)
        assert cell.comment is not None, (sheet, addr)
        assert cell.comment.text.startswith("【"), cell.comment.text
        assert cell.fill.fgColor.rgb[-6:] in ("FFC7CE", "FFEB9C", "DDEBF7"), (sheet, addr)
    # the formula cell whose total the clerk's file got wrong: its comment names the held figure
    f12 = wb["附件1"]["F12"]
    assert "交回的文件中此格为 588.56" in f12.comment.text and f12.fill.fgColor.rgb.endswith("FFC7CE")
    assert str(f12.value).startswith("=")  # still a formula


def test_the_parts_of_the_copy(tmp_path, examples):
    src, result, out = _copy(tmp_path, examples)
    zin, zout = zipfile.ZipFile(src), zipfile.ZipFile(out)
    names = set(zout.namelist())
    comments = sorted(n for n in names if n.startswith("xl/comments"))
    vml = sorted(n for n in names if n.startswith("xl/drawings/vmlDrawing"))
    sheets_flagged = {s for s, _ in _cells(result["flags"])}
    assert len(comments) == len(vml) == len(sheets_flagged)
    n_comments = sum(zout.read(c).count(b"<comment ") for c in comments)
    assert n_comments == len({(s, a) for s, a in _cells(result["flags"])}) - _merged_duplicates(out, result)
    types = zout.read("[Content_Types].xml").decode()
    assert 'Extension="vml"' in types and all(f'PartName="/{c}"' in types for c in comments)
    # a part the copy does not change is the returned file's, byte for byte
    unchanged = [n for n in zin.namelist() if n in ("xl/sharedStrings.xml", "xl/theme/theme1.xml", "docProps/core.xml")]
    assert unchanged and all(zin.read(n) == zout.read(n) for n in unchanged)
    assert zout.testzip() is None
    # the workbook recalculates on opening (the flagged formula cells' cached figures were dropped)
    assert b'fullCalcOnLoad="1"' in zout.read("xl/workbook.xml")


def _merged_duplicates(out, result) -> int:
    """Flagged cells that share a merge's top-left cell (one comment for both)."""
    wb = openpyxl.load_workbook(out)
    seen, dup = set(), 0
    for sheet, addr in _cells(result["flags"]):
        ws = wb[sheet]
        top = addr
        for rng in ws.merged_cells.ranges:
            if addr in rng:
                top = ws.cell(rng.min_row, rng.min_col).coordinate
        dup += (sheet, top) in seen
        seen.add((sheet, top))
    return dup


def test_the_list_sheet_comes_first_errors_first_with_links(tmp_path, examples):
    src, result, out = _copy(tmp_path, examples)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "校验结果" and wb.active.title == "校验结果"
    assert not any(ws.sheet_view.tabSelected for ws in wb.worksheets[1:])  # not grouped with the first
    ws = wb["校验结果"]
    assert [c.value for c in ws[1]] == ["级别", "代码", "位置", "说明"]
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) == len(result["flags"])
    levels = [r[0].value for r in rows]
    order = {"错误": 0, "警告": 1, "提示": 2}
    assert levels == sorted(levels, key=order.get) and levels[0] == "错误"
    linked = [r for r in rows if r[2].hyperlink is not None]
    assert len(linked) == sum(1 for f in result["flags"] if "!" in (f.get("location") or ""))
    for r in linked:
        sheet, addr = r[2].value.split("!")
        assert r[2].hyperlink.location in (f"'{sheet}'!{addr}", f"{sheet}!{addr}")
    assert all(r[3].alignment.wrap_text for r in rows)
    # A4 landscape, one page wide, the header repeated
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    assert "$1:$1" in str(ws.print_title_rows)
    # the other sheets' print areas and titles stayed with their sheets
    assert str(wb["附件1"].print_title_rows).endswith("$1:$2")


def test_annotating_a_copy_again_replaces_its_list(tmp_path, examples):
    src, result, out = _copy(tmp_path, examples)
    again = annotate(out, result["flags"], tmp_path / "again.xlsx")
    wb = openpyxl.load_workbook(again)
    assert wb.sheetnames.count("校验结果") == 1 and wb.sheetnames[0] == "校验结果"
    assert wb.sheetnames[1:] == openpyxl.load_workbook(src).sheetnames
    assert check_workbook(again)["status"] != "无法读取"


def test_never_over_the_source(tmp_path, examples):
    src, result, _ = _copy(tmp_path, examples)
    before = src.read_bytes()
    try:
        annotate(src, result["flags"], src)
        raise AssertionError("wrote over the source")
    except ValueError as e:
        assert "不能覆盖原文件" in str(e)
    assert src.read_bytes() == before


def test_check_annotate_writes_the_copies_in_the_workers(tmp_path, examples):
    folder = tmp_path / "回收"
    for seed in ("001_岳阳市档案馆", "002_岳阳市君山区行政审批服务局", "000_岳阳市城市建设档案馆"):
        write_workbook(examples[seed], P, folder / f"{seed}.xlsx")
    res = CliRunner().invoke(app, ["check", str(folder), "-o", str(tmp_path / "out"), "--annotate", "-w", "2"])
    assert res.exit_code == 1, res.output
    copies = sorted(p.name for p in (tmp_path / "out" / "批注").glob("*.xlsx"))
    assert len(copies) == 3 and "批注副本 3 个" in res.output and "校验并批注" in res.output
    assert "岳阳市 2023（3 个）" in res.output and "yueyang-2023" not in res.output
    for name in copies:
        assert openpyxl.load_workbook(tmp_path / "out" / "批注" / name).sheetnames[0] == "校验结果"


def test_libreoffice_opens_the_copy(tmp_path, examples, soffice):
    from selfeval_xl.files.libreoffice import convert

    _, result, out = _copy(tmp_path, examples)
    pdf = convert([out], tmp_path / "pdf", "pdf")[0]
    assert pdf.stat().st_size > 10_000
    import subprocess

    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "级别" in text and "SUM-103" in text  # the list prints first, errors first
    # LibreOffice recalculated the flagged total on opening, as the comment says
    back = convert([out], tmp_path / "back", "xlsx")[0]
    assert openpyxl.load_workbook(back, data_only=True)["附件1"]["F12"].value == 587.06


def test_meta_203_is_a_note(tmp_path, examples):
    """Matching never uses the file name: a name without the unit code is a note, not a warning."""
    path = write_workbook(examples["002_岳阳市君山区行政审批服务局"], P, tmp_path / "改了名字.xlsx")
    flags = [f for f in check_workbook(path)["flags"] if f["code"] == "META-203"]
    assert flags and all(f["severity"] == "info" for f in flags)
