"""The generated report's review notes are Word comments at their paragraph or table cell — no
page before the cover — and the coordinator still gets every one in 汇总表 and summary.json."""

from __future__ import annotations

import json
import re
import zipfile

import docx
import openpyxl
from typer.testing import CliRunner

from selfeval_xl.checks import check
from selfeval_xl.cli import app
from selfeval_xl.docx.notes import report_notes
from selfeval_xl.docx.report import render_report
from selfeval_xl.forms.regions import get_profile

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _anchors(path) -> dict[int, tuple[str, bool]]:
    """comment id → (text of the paragraph its range starts in, whether that is a table cell)."""
    from lxml import etree

    root = etree.fromstring(zipfile.ZipFile(path).read("word/document.xml"))
    out = {}
    for start in root.iter(f"{W}commentRangeStart"):
        p = next(a for a in start.iterancestors(f"{W}p"))
        in_cell = any(True for _ in start.iterancestors(f"{W}tc"))
        out[int(start.get(f"{W}id"))] = ("".join(t.text or "" for t in p.iter(f"{W}t")), in_cell)
    return out


def _comments(path) -> dict[int, str]:
    return {c.comment_id: c.text for c in docx.Document(str(path)).comments}


def _render(dept, tmp_path, name="r.docx"):
    prof = get_profile(dept.profile)
    return render_report(dept, prof, tmp_path / name), prof


def test_each_note_is_a_comment_at_its_sentence_or_cell(tmp_path, examples):
    dept = examples["001_岳阳市档案馆"]
    path, prof = _render(dept, tmp_path)
    notes = report_notes(check(dept, prof).flags)
    comments, anchors = _comments(path), _anchors(path)
    assert len(notes) >= 10 and len(comments) == len(notes) == len(anchors)
    for cid, text in comments.items():
        para, in_cell = anchors[cid]
        quoted = re.search(r"：“(.*?)”", text)
        if text.startswith("[NARR"):  # at the paragraph that holds the sentence it quotes
            assert not in_cell and quoted[1].removesuffix("…") in para, (text, para)
        else:  # an error at the table cell it names: 附件2!F5 全年执行数 printed as recomputed
            assert in_cell and re.match(r"^\[[A-Z]+-\d{3} 错误\] 附件\d", text), text
    f5 = next(cid for cid, t in comments.items() if t.startswith("[SUM-104 错误] 附件2!F5"))
    assert anchors[f5][0] == "1049.94"


def test_no_page_before_the_cover(tmp_path, examples):
    path, _ = _render(examples["001_岳阳市档案馆"], tmp_path)
    d = docx.Document(str(path))
    texts = [p.text for p in d.paragraphs]
    first = next(i for i, t in enumerate(texts) if t.strip())
    assert texts[first] == "部门（单位）名称：岳阳市档案馆（盖章）"
    assert not any(p.paragraph_format.page_break_before for p in d.paragraphs[:first + 1])
    assert not any("【数据校验提示】" in t or "【正文与附件不一致】" in t for t in texts)


def test_a_clean_report_carries_no_comment(tmp_path, examples):
    clean = examples["000_岳阳市城市建设档案馆"]
    prof = get_profile(clean.profile)
    clean = clean.model_copy(update={"overall": clean.overall.model_copy(
        update={"budget_full": check(clean, prof).derived["overall.executed"]})})
    assert report_notes(check(clean, prof).flags) == []
    path, _ = _render(clean, tmp_path)
    assert _comments(path) == {} and _anchors(path) == {}


def test_a_sentence_not_printed_puts_its_note_at_the_section_title(tmp_path, examples):
    """Section 二 without figures in the clerk's text is written from the tables: a note on a
    sentence the report does not print still lands in its section, at the title."""
    from selfeval_xl.core.flags import WARNING, Flag
    from selfeval_xl.docx.notes import comment_paragraphs

    path, prof = _render(examples["002_岳阳市君山区行政审批服务局"], tmp_path)
    d = docx.Document(str(path))
    title = prof.report.sections[1].title
    f = Flag("NARR-401", WARNING, "报告正文!B4", f"报告正文“{title}”：“这句话不在报告里。”写项目支出 1万元。",
             key="narrative.sections." + prof.report.sections[1].key)
    placed = comment_paragraphs(d, [f], [s.title for s in prof.report.sections], "2023年度岳阳市君山区行政审批服务局")
    assert placed[0]["anchor"] == title


def test_summary_json_and_xlsx_carry_every_note(tmp_path, examples):
    from .conftest import EXAMPLES

    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["report", str(EXAMPLES / "data"), "-o", str(out), "--workers", "1"])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))["files"]
    assert len(data) == 5
    sheet = openpyxl.load_workbook(out / "汇总表.xlsx")["汇总"]
    head = [c.value for c in sheet[2]]
    col = head.index("单位报告\n（问题数）")
    cells = {row[0].value: row[col].value for row in sheet.iter_rows(min_row=3)}
    for name, entry in data.items():
        rep = entry["report"]
        comments = _comments(out / rep["file"])
        assert rep["notes"] == len(rep["comments"]) == len(comments)
        assert sorted(c["message"][:40] for c in rep["comments"]) == sorted(
            re.sub(r"^\[[^]]+\] (附件[^：]*：)?", "", t)[:40] for t in comments.values())
        assert cells[name] == f"{rep['file']}（{rep['notes']}）"
    assert data["001_岳阳市档案馆.json"]["report"]["notes"] >= 10
