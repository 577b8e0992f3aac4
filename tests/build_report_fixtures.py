"""Build the Word-report fixtures (tests/fixtures/reports/) from the five real reports.

    .venv/bin/python tests/build_report_fixtures.py [SEEDS_DIR]

The seeds (default /work/shared/seeds) are text exports of the units' Word reports: one
paragraph a line; a table cell is a line starting with a tab (a cell's further paragraphs
follow it without one), a table row ends at a blank line, and a table ends at the first
line without a tab after a row. Each seed becomes

* ``NNN.txt`` — the same text with people's names and phone numbers replaced by placeholders
  (张三, 李四 … / 138xxxx…). These are committed: the tests never read ../shared;
* ``NNN.docx`` — that text as a Word document (python-docx): headings of the report's outline
  (lines like “六、部门整体支出绩效情况”) in bold, tables as tables (a row with fewer cells
  than the table's widest spans its last cell to the right edge: a merged cell).

The tests build the .docx from the committed .txt (``build_docx``) when it is missing, so the
text is the fixture and the .docx is a cache of it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent / "fixtures" / "reports"
SEEDS = Path("/work/shared/seeds")

# who signs or fills in the forms, in the five seeds → placeholders
NAMES = {"饶敏敏": "张三", "刘为": "李四", "周婷婷": "王五", "钟熙": "赵六", "刘媛冶": "孙七",
         "柳成荫": "周八", "陈垂良": "吴九"}
_HEADING = re.compile(r"^\s*(?:[一二三四五六七八九十]+|\d{1,2})\s*[、.．]\s*\S.{1,30}$")


def anonymise(text: str) -> str:
    for real, fake in NAMES.items():
        text = text.replace(real, fake)
    # phone numbers after 电话 (landline or mobile, a typo's dot included): 138xxxx…
    return re.sub(r"(电话[:：]?\s*)(\d[\d.]{5,12}\d)", lambda m: m[1] + "138xxxx" + "x" * max(0, len(m[2]) - 7), text)


def parse(text: str) -> list[tuple[str, object]]:
    """Blocks in order: ("p", text) or ("t", rows), a row a list of cells, a cell a list of lines."""
    blocks: list[tuple[str, object]] = []
    rows: list[list[list[str]]] | None = None
    row: list[list[str]] = []
    after_blank = False
    for raw in text.split("\n"):
        line = raw.replace("[bookmark: _GoBack]", "").rstrip("\r")
        if line.startswith("\t"):
            if rows is None:
                rows, row = [], []
            row.append([line[1:].strip("\t")])
            after_blank = False
        elif not line.strip():
            if rows is not None:
                if row:
                    rows.append(row)
                    row = []
                after_blank = True
            else:
                blocks.append(("p", ""))
        else:
            if rows is not None and row and not after_blank:
                row[-1].append(line.rstrip("\t"))  # a cell's next paragraph
                continue
            if rows is not None:
                if row:
                    rows.append(row)
                blocks.append(("t", rows))
                rows, row = None, []
            blocks.append(("p", line.rstrip("\t")))
            after_blank = False
    if rows is not None:
        if row:
            rows.append(row)
        blocks.append(("t", rows))
    return blocks


def build_docx(txt: Path, dest: Path) -> Path:
    from docx import Document

    doc = Document()
    for kind, item in parse(txt.read_text(encoding="utf-8")):
        if kind == "p":
            p = doc.add_paragraph()
            if item:
                run = p.add_run(item)
                if _HEADING.match(item):
                    run.bold = True
        else:
            rows = [r for r in item if r]
            if not rows:
                continue
            width = max(len(r) for r in rows)
            t = doc.add_table(rows=len(rows), cols=width)
            t.style = "Table Grid"
            for i, r in enumerate(rows):
                cells = t.rows[i].cells
                if len(r) < width:
                    cells[len(r) - 1].merge(cells[width - 1])  # the last cell spans the rest
                    cells = t.rows[i].cells
                for j, lines in enumerate(r):
                    cell = cells[j]
                    cell.paragraphs[0].add_run(lines[0])
                    for extra in lines[1:]:
                        cell.add_paragraph(extra)
    dest.parent.mkdir(parents=True, exist_ok=True)
    doc.save(dest)
    return dest


def main(argv: list[str]) -> int:
    seeds = Path(argv[1]) if len(argv) > 1 else SEEDS
    HERE.mkdir(parents=True, exist_ok=True)
    for seed in sorted(seeds.glob("*.txt")):
        n = seed.name[:3]
        txt = HERE / f"{n}.txt"
        txt.write_text(anonymise(seed.read_text(encoding="utf-8")), encoding="utf-8")
        build_docx(txt, HERE / f"{n}.docx")
        print(f"{seed.name} -> {txt.name}, {n}.docx")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
