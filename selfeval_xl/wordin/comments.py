"""The unit's own .docx with a Word comment at each flagged paragraph — nothing else changed.

python-docx ≥ 1.2 writes the comments part (``Document.add_comment``); each comment is anchored
at the runs of the paragraph a flag points at (its typed place, ``ReportPlace.paragraph``: the
same document order ``read.iter_paragraphs`` numbers). A flag with no paragraph (a whole-report remark) is
anchored at the first paragraph with text. The file is written atomically; the input is never
modified.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.flags import report_paragraph
from ..files.outputs import atomic_output
from .read import iter_paragraphs

AUTHOR = "自评校验"
INITIALS = "校验"
_SEVERITY = {"error": "错误", "warning": "警告", "info": "提示"}


def comment_report(src: str | Path, flags: list[dict[str, Any]], dest: str | Path) -> int:
    """Write ``src`` with one comment per flag (dicts as ``Flag.as_dict``) to ``dest``; returns
    how many comments were written."""
    import docx

    doc = docx.Document(str(src))
    wanted: dict[int, list[dict[str, Any]]] = {}
    loose: list[dict[str, Any]] = []
    for f in flags:
        para = report_paragraph(f)
        (wanted.setdefault(para, []) if para is not None else loose).append(f)
    first_text = None
    n = 0
    for i, (p, *_rest) in enumerate(iter_paragraphs(doc), 1):
        if first_text is None and any(r.text.strip() for r in p.runs):
            first_text = p
        for f in wanted.pop(i, []):
            n += _comment(doc, p, f)
        if not wanted and first_text is not None:
            break
    loose += [f for fs in wanted.values() for f in fs]  # an index past the end: never dropped
    for f in loose:
        if first_text is not None:
            n += _comment(doc, first_text, f)
    with atomic_output(Path(dest)) as tmp:
        doc.save(str(tmp))
    return n


def _comment(doc, p, f: dict[str, Any]) -> int:
    runs = [r for r in p.runs if r.text]
    if not runs:
        return 0
    text = f"[{f.get('code')} {_SEVERITY.get(f.get('severity'), f.get('severity'))}] {f.get('message')}"
    doc.add_comment(runs if len(runs) > 1 else runs[0], text=text, author=AUTHOR, initials=INITIALS)
    return 1
