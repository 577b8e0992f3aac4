"""The generated report's review notes as Word comments (批注), not pages before the cover.

A reviewer writes in the margin, at the sentence; a clerk files the report as it is. So the
notes a generated report carries — the data's errors and the figures the clerk's text quotes
that disagree with the tables (``narrative.disagreements``) — are comments:

* a narrative note at the paragraph of its section that holds the quoted sentence (its section
  title where the sentence is not found);
* an error at the attachment table cell it names, where that cell is printed;
* anything else at the report's title (or first section title).

A clean report carries no comment and prints nothing but the report. The same notes are
returned to the batch (``report_notes``) for 汇总表 and summary.json.
"""

from __future__ import annotations

import re
from typing import Any

from docx.oxml.ns import qn

from ..core.flags import ERROR, Flag
from ..forms.keys import key_of
from ..checks.narrative import disagreements

AUTHOR = "自评校验"
INITIALS = "校验"
_SEVERITY = {"error": "错误", "warning": "警告", "info": "提示"}
# "报告正文“<section>”：“<sentence>”…" — how a narrative flag quotes its sentence (narrative._Section.flag)
_QUOTED = re.compile(r"^报告正文“[^”]*”：“(?P<q>.*?)”")


def report_notes(flags: list[Flag]) -> list[Flag]:
    """The notes a generated report carries as comments: every error, then every text note."""
    errors = [f for f in flags if f.severity == ERROR]
    return errors + [f for f in disagreements(flags) if f.severity != ERROR]


def note_text(f: Flag) -> str:
    """A comment's words: code and severity, where (a table cell), what."""
    where = "" if _section_of(f) is not None or not f.location else f"{f.location}："
    return f"[{f.code} {_SEVERITY.get(f.severity, f.severity)}] {where}{f.message}"


def _section_of(f: Flag) -> str | None:
    """The report section a flag is on (a narrative flag's key is its section's text cell)."""
    key = key_of(f.key)
    return key.section if key is not None else None


def _undated(comment):
    """The comment without its w:date (optional in OOXML): python-docx stamps the clock, and the
    same returns must give the same report bytes whatever the day or the number of workers."""
    comment._comment_elm.attrib.pop(qn("w:date"), None)
    return comment


def comment_reference(comment_id: int) -> tuple[str, str]:
    """The XML that opens and closes a comment's range around a run written as text (the
    attachment tables are XML strings, ``report.sheet_table_xml``)."""
    return (f'<w:commentRangeStart w:id="{comment_id}"/>',
            f'<w:commentRangeEnd w:id="{comment_id}"/><w:r><w:rPr><w:rStyle w:val="CommentReference"/></w:rPr>'
            f'<w:commentReference w:id="{comment_id}"/></w:r>')


def add_cell_comment(doc, f: Flag) -> int:
    """A comment in the comments part for a table cell; the caller writes its range (returns its id)."""
    return _undated(doc.comments.add_comment(text=note_text(f), author=AUTHOR, initials=INITIALS)).comment_id


def comment_paragraphs(doc, notes: list[Flag], section_titles: list[str], title: str) -> list[dict[str, Any]]:
    """Anchor each of ``notes`` at its paragraph of the rendered ``doc``; returns where each went
    ({code, severity, location, message, anchor}) in the order given."""
    if not notes:
        return []
    # each paragraph's text once: python-docx walks the XML for every ``.text``
    said = [(p, t) for p in doc.paragraphs for t in [p.text.strip()] if t]
    paras = [p for p, _t in said]
    texts = [t for _p, t in said]
    heads = {t: i for i, t in enumerate(texts) if t in section_titles}
    starts = sorted(heads.values())
    top_at = next((i for i, t in enumerate(texts) if t == title), None)
    if top_at is None:
        top_at = starts[0] if starts else (0 if paras else None)
    placed = []
    for f in notes:
        at = _paragraph_of(f, texts, heads, starts)
        if at is None:
            at = top_at
        if at is None:
            continue
        runs = [r for r in paras[at].runs if r.text]
        if not runs:
            continue
        _undated(doc.add_comment(runs, text=note_text(f), author=AUTHOR, initials=INITIALS))
        placed.append({**_as_note(f), "anchor": texts[at][:60]})
    return placed


def _paragraph_of(f: Flag, texts: list[str], heads: dict[str, int], starts: list[int]) -> int | None:
    """The index (in ``texts``, the non-blank paragraphs) of the paragraph ``f`` is about: its
    section's heading, or the paragraph under it holding the sentence it quotes."""
    if _section_of(f) is None:
        return None
    m = re.match(r"^报告正文“(?P<t>[^”]*)”", f.message)
    at = heads.get(m["t"]) if m else None
    if at is None:
        return None
    end = next((s for s in starts if s > at), len(texts))
    q = _QUOTED.match(f.message)
    if q:
        quote = q["q"].removesuffix("…").strip()
        hit = next((i for i in range(at + 1, end) if quote and quote in texts[i]), None)
        if hit is not None:
            return hit
    return at


def _as_note(f: Flag) -> dict[str, Any]:
    return {"code": f.code, "severity": f.severity, "location": f.location, "message": f.message}
