"""Flags carry typed places (issue #18, part 6): a cell is (sheet as the layout names it, row,
column), a report place is (paragraph, table, row, column). ``附件2!H14`` is only how a place is
shown — the annotated copy and the report's Word comments act on the typed value, so a clerk's
renamed sheet, a sheet name holding "!" or a merged cell cannot mislead them.

The region is drawn inline: the test region's project table plus one small sheet of its own.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from selfeval_xl.jobs.checking import check_workbook
from selfeval_xl.core.flags import ERROR, WARNING, Flag, ReportPlace, SheetCell, location_of, report_paragraph
from selfeval_xl.core.model import Department
from selfeval_xl.forms.layout import compile_layout, shape_for
from selfeval_xl.forms.regions import load_region
from selfeval_xl.xlsx.annotate import annotate, build_copy
from selfeval_xl.xlsx.write import write_workbook

HERE = Path(__file__).parent
PROJECT_ONLY = HERE / "regions" / "project-only"

# a sheet whose name holds "!" (Excel allows it), a merged sum cell and a merged input
SHEET = '''name = "测算!表"
role = "other"
widths = [20, 12, 12, 12, 12]
print_cols = 5

[[block]]
grid = \'\'\'
项目 ::header | 甲 ::header | 乙 ::header | 合计 ::header | <
金额 | $calc.a:money | $calc.b:money | =calc.total:money | <
说明 | $calc.note:text | < | < | <
\'\'\'

[block.formulas]
"calc.total" = "=SUM({calc.a},{calc.b})"

[block.checks]
"calc.total" = { code = "TST-201", message = "合计应等于 甲 + 乙", severity = "error", tolerance = "money" }
'''


def _region(tmp_path: Path) -> Path:
    dest = tmp_path / "typed-region"
    shutil.copytree(PROJECT_ONLY, dest)
    (dest / "forms" / "calc.toml").write_text(SHEET, encoding="utf-8")
    toml = dest / "region.toml"
    text = toml.read_text(encoding="utf-8")
    old = 'sheets = ["forms/guide.toml", "forms/project.toml", "forms/narrative.toml"]'
    assert old in text
    toml.write_text(text.replace(old, old.replace("]", ', "forms/calc.toml"]')), encoding="utf-8")
    return dest


def _unit(region: Path) -> Department:
    return Department(code="9001", name="测算单位", year=2023, profile=str(region),
                      figures={"calc.a": 30, "calc.b": 70, "calc.note": "说明文字"}, stated={"calc.total": 150})


def _renamed(src: Path, dest: Path, old: str, new: str) -> Path:
    """The file with one sheet renamed as a clerk would (the workbook part only; every cached
    figure kept — openpyxl's save would drop them)."""
    zin = zipfile.ZipFile(src)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/workbook.xml":
                assert f'name="{old}"'.encode() in data
                data = data.replace(f'name="{old}"'.encode(), f'name="{new}"'.encode())
            zout.writestr(info, data)
    dest.write_bytes(buf.getvalue())
    return dest


def _comments(path: Path, sheet: str) -> dict[str, str]:
    ws = openpyxl.load_workbook(path)[sheet]
    return {c.coordinate: c.comment.text for row in ws.iter_rows() for c in row if c.comment}


@pytest.fixture
def returned(tmp_path):
    region = _region(tmp_path)
    dept = _unit(region)
    profile = load_region(region)
    layout = compile_layout(profile, shape_for(dept, profile))
    src = write_workbook(dept, profile, tmp_path / "unit.xlsx")
    return src, layout


def test_a_flag_carries_its_cell_typed_and_shows_it_as_text(returned):
    src, layout = returned
    at = layout.at("calc.total")
    assert at == SheetCell("测算!表", 2, 4)  # D2: the merge's top-left, as the layout draws it
    assert str(at) == layout.location("calc.total") == "测算!表!D2"
    result = check_workbook(src)
    [f] = [f for f in result["flags"] if f["code"] == "TST-201"]
    # the JSON keeps today's text and adds the typed place
    assert f["location"] == "测算!表!D2" and f["at"] == {"sheet": "测算!表", "row": 2, "col": 4}
    assert location_of(json.loads(json.dumps(f))) == at


def test_a_sheet_name_with_an_exclamation_mark_keeps_its_comment(returned, tmp_path):
    """The text 测算!表!D2 cannot be split back at its "!" — the typed place needs no splitting."""
    src, _ = returned
    result = check_workbook(src)
    out = annotate(src, result["flags"], tmp_path / "note.xlsx")
    notes = _comments(out, "测算!表")
    assert list(notes) == ["D2"] and "TST-201" in notes["D2"]
    listing = openpyxl.load_workbook(out)["校验结果"]
    row = next(r for r in listing.iter_rows(min_row=2) if r[1].value == "TST-201")
    assert row[2].value == "测算!表!D2"  # shown as text
    assert row[2].hyperlink.location == "'测算!表'!D2"  # linked by the typed place


def test_a_renamed_sheet_keeps_its_comment_where_the_layout_put_it(returned, tmp_path):
    src, _ = returned
    renamed = _renamed(src, tmp_path / "renamed.xlsx", "测算!表", "测算（已改名）")
    result = check_workbook(renamed)
    [f] = [f for f in result["flags"] if f["code"] == "TST-201"]
    assert f["at"]["sheet"] == "测算!表"  # the layout's name: the copy maps it to the clerk's
    assert any(g["code"] == "READ-202" for g in result["flags"])
    out = annotate(renamed, result["flags"], tmp_path / "note.xlsx")
    assert list(_comments(out, "测算（已改名）")) == ["D2"]
    listing = openpyxl.load_workbook(out)["校验结果"]
    row = next(r for r in listing.iter_rows(min_row=2) if r[1].value == "TST-201")
    assert row[2].value == "测算!表!D2" and row[2].hyperlink.location == "'测算（已改名）'!D2"


def test_a_flag_inside_a_merged_cell_lands_on_its_top_left(returned, tmp_path):
    """B3:E3 is one merged input; a flag typed at D3 (inside it) is a comment on B3, with every
    flag of the merge in one comment."""
    src, _ = returned
    flags = [Flag("TST-202", WARNING, SheetCell("测算!表", 3, 4), "合并格内的一格").as_dict(),
             Flag("TST-203", ERROR, SheetCell("测算!表", 3, 2), "合并格的左上格").as_dict()]
    notes = _comments(annotate(src, flags, tmp_path / "note.xlsx"), "测算!表")
    assert list(notes) == ["B3"]
    assert notes["B3"].index("TST-203") < notes["B3"].index("TST-202")  # errors first, both there


def test_the_copy_reads_the_typed_place_not_the_text(returned, tmp_path):
    """A stored flag whose shown text says one cell and whose typed place says another is put
    where the typed place says: the text is only shown."""
    src, _ = returned
    f = Flag("TST-204", ERROR, SheetCell("测算!表", 2, 2), "甲").as_dict()
    f["location"] = "测算!表!C2"
    wb = openpyxl.load_workbook(io.BytesIO(build_copy(src.read_bytes(), [f])))
    assert [c.coordinate for row in wb["测算!表"].iter_rows() for c in row if c.comment] == ["B2"]


def test_a_result_stored_before_typed_places_still_annotates(returned, tmp_path):
    """A campaign's database holds results of an earlier version (text only): read once, the
    comments land as before."""
    src, _ = returned
    old = {"code": "TST-205", "severity": "error", "location": "测算!表!C2", "message": "乙",
           "stated": None, "expected": None, "key": "calc.b"}
    assert location_of(old) == SheetCell("测算!表", 2, 3)
    assert list(_comments(annotate(src, [old], tmp_path / "note.xlsx"), "测算!表")) == ["C2"]
    assert location_of({"code": "X", "location": "元数据"}) == "元数据"


def test_a_report_place_is_shown_as_text_and_anchors_the_word_comment(tmp_path):
    import docx

    from selfeval_xl.wordin.comments import comment_report

    doc = docx.Document()
    for text in ("封面", "一、部门基本情况", "本部门全年执行数 100 万元。", "二、绩效目标"):
        doc.add_paragraph(text)
    src = tmp_path / "report.docx"
    doc.save(str(src))

    place = ReportPlace(paragraph=3)
    f = Flag("RPT-402", WARNING, place, "同一个数前后写法不一").as_dict()
    assert f["location"] == "报告!第3段" and f["at"] == {"paragraph": 3}
    assert str(ReportPlace(paragraph=9, table=2, row=3, col=4)) == "报告!表2 R3C4"
    assert ReportPlace(paragraph=9, table=2, row=3, col=4).within == "表2 R3C4"
    assert report_paragraph(f) == 3 and report_paragraph({"code": "X", "location": "报告"}) is None

    f["location"] = "报告!第1段"  # the text is only shown: the comment goes where the place says
    assert comment_report(src, [f], tmp_path / "out.docx") == 1
    with zipfile.ZipFile(tmp_path / "out.docx") as z:
        body = z.read("word/document.xml").decode()
    paras = body.split("<w:p>")[1:] if "<w:p>" in body else body.split("<w:p ")[1:]
    anchored = [i for i, p in enumerate(paras, 1) if "commentRangeStart" in p]
    assert anchored == [3]


# -- the check result is typed; a dict only where it is written (JSON, SQLite, the worker pool) ---

WORKBOOK_FIELDS = ["file", "name", "unit_code", "unit_name", "year", "profile", "stated_total", "recomputed_total",
                   "grade", "rate", "budget", "executed", "errors", "warnings", "infos", "status", "signature", "flags"]


def test_the_check_result_is_typed_and_written_in_todays_shape(returned):
    from selfeval_xl.jobs.checking import check_unit
    from selfeval_xl.core.results import STATUS_ERR, UnitResult

    src, layout = returned
    typed = check_unit(src)
    assert isinstance(typed, UnitResult) and all(isinstance(f, Flag) for f in typed.flags)
    [f] = [f for f in typed.flags if f.code == "TST-201"]
    assert f.at == layout.at("calc.total") and f.cell.a1 == "D2"
    assert typed.status == STATUS_ERR and typed.count(ERROR) >= 1 and typed.unit_name == "测算单位"

    d = typed.as_dict()
    # the JSON/SQLite shape stored campaigns hold, and the fields added since (the region's name, the
    # decimals it shows its rate with)
    assert list(d) == WORKBOOK_FIELDS + ["region_name", "rate_places"] and d["region_name"] and d["rate_places"] == 2
    older = {k: v for k, v in d.items() if k not in ("region_name", "rate_places")}  # stored before: loads as it was
    assert UnitResult.from_dict(json.loads(json.dumps(older, ensure_ascii=False))).as_dict() == older
    assert d["errors"] == typed.count(ERROR) and d == check_workbook(src)
    stored = json.loads(json.dumps(d, ensure_ascii=False))
    back = UnitResult.from_dict(stored)
    assert back.as_dict() == stored and back.flags[0].at == typed.flags[0].at


def test_an_unreadable_file_and_later_additions_keep_their_shape(tmp_path):
    from selfeval_xl.core.results import STATUS_UNREADABLE, UnitResult

    bad = tmp_path / "坏.xlsx"
    bad.write_bytes(b"not a zip")
    d = check_workbook(bad)
    assert list(d) == ["file", "name", "status", "reason"] and d["status"] == STATUS_UNREADABLE
    assert UnitResult.from_dict(d).as_dict() == d
    d2 = {**check_workbook(bad), "annotate_failed": "磁盘已满"}  # what a later step adds is kept
    assert UnitResult.from_dict(d2).as_dict() == d2


def test_a_result_stored_by_an_earlier_version_loads_typed():
    """The workspace's database holds results written before places were typed."""
    from selfeval_xl.core.results import STATUS_BLANK, UnitResult
    from selfeval_xl.web.store import INCOMPLETE, upload_status

    old = {"file": "a.xlsx", "name": "a.xlsx", "unit_code": "9001", "unit_name": "单位", "year": 2023,
           "profile": "yueyang-2023", "stated_total": None, "recomputed_total": 6.3, "grade": "差", "rate": None,
           "budget": None, "executed": None, "errors": 1, "warnings": 0, "infos": 0, "status": "有错误",
           "signature": None, "flags": [{"code": "FILL-102", "severity": "error", "location": "附件2!D5",
                                         "message": "未填写", "stated": None, "expected": None,
                                         "key": "overall.budget_full"}]}
    typed = UnitResult.from_dict(old)
    assert typed.flags[0].at == SheetCell("附件2", 5, 4) and typed.flags[0].location == "附件2!D5"
    assert upload_status(old) == INCOMPLETE
    assert UnitResult.from_dict({**old, "flags": [{**old["flags"][0], "code": "FILL-101"}]}).status == "有错误"
    from selfeval_xl.core.results import status_of
    assert status_of(UnitResult.from_dict({**old, "flags": [{**old["flags"][0], "code": "FILL-101"}]}).flags) \
        == STATUS_BLANK


def test_a_sheet_without_print_cols_prints_every_column_it_draws(tmp_path):
    """print_cols is optional: left out, the print area covers the grid's five columns (it was
    column −1, an XlsxWriter warning and a sheet that printed nothing)."""
    region = _region(tmp_path)
    calc = region / "forms" / "calc.toml"
    calc.write_text(calc.read_text(encoding="utf-8").replace("print_cols = 5\n", ""), encoding="utf-8")
    dept = _unit(region)
    profile = load_region(region)
    layout = compile_layout(profile, shape_for(dept, profile))
    [sheet] = [sh for sh in layout.sheets if sh.name == "测算!表"]
    assert sheet.print_cols == 5
    src = write_workbook(dept, profile, tmp_path / "unit.xlsx")
    wb = openpyxl.load_workbook(src)
    assert wb["测算!表"].print_area == "'测算!表'!$A$1:$E$3"
