"""A PDF report's pages as the same model a .docx gives: paragraphs in reading order and ruled
tables as grids (merged cells repeated), every table cell a paragraph with its place — so
``tables.match_tables`` and ``tablecheck`` read a PDF's tables exactly as a .docx's.

Why pdfplumber: a report exported to PDF keeps its table rules as drawn lines, and pdfplumber
finds tables from those lines (cells as rectangles) — the only well-kept pure-Python reader
that does. Cells are placed on one grid per table from the x and y of every cell edge, so a
cell that spans columns or rows (a merged 一级指标) is repeated in every grid cell it covers, as
python-docx does for Word's merges. A cell's text is the characters whose centre lies inside
it (a glyph's box pokes out of a narrow cell); a line that runs to the cell's right edge is a
wrap, not a new paragraph, so “1049.3” / “1” reads 1049.31. Text outside the tables is read
line by line and joined into paragraphs by the same rules as the plain-text reading (a new
numbered item, a first-line indent, a gap, a sentence end). A running header or footer (a line
in the top or bottom band that comes back on other pages, or a bare page number) is left out,
as a .docx's body is read without them.

A table split over two pages is two tables here (the reader of ``tables`` continues a form over
tables); a Word table's split is where the page broke, so table numbers differ from the .docx.
Flags name the page: 报告!表5 R3C2（第6页）.
"""

from __future__ import annotations

import re

from .model import Grid, Para, ReportReadError

MAX_PAGES = 400
_EDGE = 2.0  # points: cell edges closer than this are one grid line
_NEW = re.compile(r"^(?:[一二三四五六七八九十]{1,3}\s*[、.．]|\d{1,2}\s*[、.．]|[（(][一二三四五六七八九十\d]{1,3}[）)]|附件)")
_END = ("。", "；", "：", ":", "！", "？")
_MARGIN = 0.07  # of the page's height: Word's header and footer stand in it, the body (margin ≥ 2 cm) below it


def read_pdf_layout(path, name: str, max_tables: int, max_cells: int) -> tuple[list[Para], list[Grid]]:
    """Paragraphs and grids of a PDF with a text layer, in reading order (page, then top)."""
    pages = _laid_out_pages(path, name, max_tables, max_cells)
    running = _running_lines(pages)
    paras: list[Para] = []
    grids: list[Grid] = []
    split_from: Grid | None = None  # the table that ended the previous page
    edges: dict[int, list[float]] = {}  # each table's column edges
    for pno, blocks in pages:
        # the page's body: without its running header and footer (the report's own text, as a
        # .docx is read; and a page number under a table must not hide that the table goes on)
        body = [b for b in blocks if not (b[1] == "l" and _key(b[2]) in running.get(b[3], ()))]
        left = min((b[2]["x0"] for b in body if b[1] == "l"), default=0.0)
        current: list[str] = []
        last = None  # the previous line (for gaps)

        def close() -> None:
            if current:
                paras.append(Para(len(paras) + 1, "".join(current), page=pno))
                current.clear()

        for _top, kind, obj, _zone in body:
            if kind == "t":
                close()
                last = None
                rows, spans, xs = obj
                cols = columns_under(edges[split_from.index], xs) if split_from is not None else []
                if split_from is not None and body[0][2] is obj and _continues(split_from.rows[-1], rows[0], cols):
                    rows, spans = _join_split_row(split_from, rows, spans, paras, cols)
                split_from = None
                if not rows:
                    continue
                index = len(grids) + 1
                first = len(paras) + 1
                for r0, c0, _r1, _c1 in spans:
                    paras.append(Para(len(paras) + 1, rows[r0 - 1][c0 - 1], index, r0, c0, page=pno))
                grids.append(Grid(index, rows, first, page=pno))
                edges[index] = xs
                continue
            text = obj["text"].strip()
            if not text:
                continue
            size = obj["size"] or 10.0
            gap = last is not None and obj["top"] - last["bottom"] > 0.8 * size
            indent = obj["x0"] - left > 1.5 * size
            if current and (gap or indent or _NEW.match(text) or current[-1].endswith(_END)):
                close()
            current.append(text)
            last = obj
        close()
        # a table that ends the page may have its last row broken onto the next page
        split_from = grids[-1] if body and body[-1][1] == "t" and grids and grids[-1].page == pno else None
    return paras, grids


def _laid_out_pages(path, name: str, max_tables: int, max_cells: int) -> list[tuple[int, list[tuple]]]:
    """Each page's blocks in reading order: (top, "t", (rows, spans, column edges), zone) for a
    table, (top, "l", line, zone) for a line outside the tables; zone is "head"/"foot" for a line
    in the top or bottom margin band, else ""."""
    import pdfplumber

    out: list[tuple[int, list[tuple]]] = []
    n_tables = cells_seen = 0
    with pdfplumber.open(str(path)) as pdf:
        if len(pdf.pages) > MAX_PAGES:
            raise ReportReadError(f"{name}：PDF 共 {len(pdf.pages)} 页，超过上限 {MAX_PAGES} 页，不像是自评报告，拒绝读取")
        for pno, page in enumerate(pdf.pages, 1):
            chars = page.chars
            tables = page.find_tables()
            n_tables += len(tables)
            if n_tables > max_tables:
                raise ReportReadError(f"{name}：PDF 中表格超过 {max_tables} 张，不像是自评报告，拒绝读取（可能是恶意构造的文件）")
            blocks: list[tuple] = []
            for t in tables:
                grid = _grid(t, chars)
                cells_seen += sum(len(r) for r in grid[0])
                if cells_seen > max_cells:
                    raise ReportReadError(f"{name}：PDF 表格单元格超过 {max_cells} 个，不像是自评报告，拒绝读取")
                blocks.append((t.bbox[1], "t", grid, ""))
            boxes = [t.bbox for t in tables]
            for line in _lines([c for c in chars if not any(_inside(c, b) for b in boxes)]):
                zone = ("head" if line["bottom"] < _MARGIN * page.height
                        else "foot" if line["top"] > (1 - _MARGIN) * page.height else "")
                blocks.append((line["top"], "l", line, zone))
            blocks.sort(key=lambda b: (b[0], b[1] == "l"))
            out.append((pno, blocks))
    return out


def _key(line: dict) -> str:
    """A margin line's words with its figures as #: “— 3 —” and “— 4 —” are one running line."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", line["text"]))


def _running_lines(pages: list[tuple[int, list[tuple]]]) -> dict[str, set[str]]:
    """The running header and footer: lines in a margin band whose words (figures aside) come
    back on two pages or more, or that are a bare page number. {zone: {key}}."""
    seen: dict[tuple[str, str], set[int]] = {}
    for pno, blocks in pages:
        for b in blocks:
            if b[1] == "l" and b[3]:
                seen.setdefault((b[3], _key(b[2])), set()).add(pno)
    out: dict[str, set[str]] = {}
    for (zone, key), on in seen.items():
        if len(on) >= 2 or re.fullmatch(r"[-—–第页共/\s#]*#[-—–第页共/\s#]*", key):
            out.setdefault(zone, set()).add(key)
    return out


def _inside(ch: dict, box) -> bool:
    x = (ch["x0"] + ch["x1"]) / 2
    y = (ch["top"] + ch["bottom"]) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _lines(chars: list[dict]) -> list[dict]:
    """Characters grouped into lines (same top within 2 pt), each with its text, x0, top,
    bottom and font size; a gap wider than half a character is a space."""
    out: list[dict] = []
    for ch in sorted(chars, key=lambda c: (round(c["top"]), c["x0"])):
        if out and abs(ch["top"] - out[-1]["top"]) <= 2:
            out[-1]["chars"].append(ch)
        else:
            out.append({"top": ch["top"], "chars": [ch]})
    for line in out:
        cs = sorted(line["chars"], key=lambda c: c["x0"])
        text = ""
        for j, c in enumerate(cs):
            if j and c["x0"] - cs[j - 1]["x1"] > (c.get("size") or 10) * 0.5:
                text += " "
            text += c["text"]
        line.update(text=text, x0=cs[0]["x0"], x1=max(c["x1"] for c in cs),
                    bottom=max(c["bottom"] for c in cs), size=cs[0].get("size") or 10.0)
    return out


def _cluster(values: list[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > _EDGE:
            out.append(v)
    return out


def _nearest(edges: list[float], v: float) -> int:
    return min(range(len(edges)), key=lambda i: abs(edges[i] - v))


def _cell_text(chars: list[dict], box) -> str:
    inside = [c for c in chars if _inside(c, box)]
    lines = _lines(inside)
    text = ""
    for i, line in enumerate(lines):
        if i:
            prev = lines[i - 1]
            wrapped = prev["x1"] + 2.2 * prev["size"] >= box[2]
            digits = bool(re.search(r"[\d.]$", prev["text"])) and bool(re.match(r"^[\d.%]", line["text"]))
            text += "" if wrapped or digits else "\n"
        text += line["text"]
    return text.strip()


def _filled(s: str) -> bool:
    return bool(s.strip())


def _number(s: str) -> bool:
    return bool(re.fullmatch(r"\s*\d+(?:\.\d+)?\s*", s or ""))


def columns_under(upper: list[float], lower: list[float]) -> list[int | None]:
    """For each column of a table (edges ``lower``), the column of the table above (edges
    ``upper``) its middle falls in: the two parts of a broken table may be cut into different
    columns (a row whose last cell spans the rest is a table of fewer columns)."""
    out: list[int | None] = []
    for c in range(len(lower) - 1):
        mid = (lower[c] + lower[c + 1]) / 2
        out.append(next((j for j in range(len(upper) - 1) if upper[j] <= mid < upper[j + 1]), None))
    return out


def _continues(last: list[str], first: list[str], cols: list[int | None]) -> bool:
    """Whether a page's first table row is the rest of the previous page's last row (LibreOffice
    and Word break a tall row across pages): under the same columns, text only where the row
    above has text, and a figure of the row above (its 分值/得分) with nothing under it — a row of
    its own has its figures."""
    if len(cols) != len(first) or None in cols or not any(_filled(c) for c in first):
        return False
    above = [last[j] for j in cols]
    if any(_filled(b) and not _filled(a) for a, b in zip(above, first)):
        return False
    return any(_number(a) and not _filled(b) for a, b in zip(above, first))


def _join_split_row(prev: Grid, rows: list[list[str]], spans: list, paras: list[Para], cols: list[int]):
    """The broken row's rest appended to the cells above it (text and their paragraphs); the
    first row dropped from the new table, its other cells moved up one row."""
    last = list(prev.rows[-1])
    for j in range(len(last)):
        # the texts under column j (a merged cell repeats its text in every column it covers)
        rest: list[str] = []
        for c, text in enumerate(rows[0]):
            if cols[c] == j and _filled(text) and (not rest or rest[-1] != text):
                rest.append(text)
        last[j] = prev.rows[-1][j] + "".join(rest)
    prev.rows[-1] = last
    for p in paras:
        if p.table == prev.index and p.row == len(prev.rows):
            p.text = last[p.col - 1]
    kept = []
    for r0, c0, r1, c1 in spans:
        if r1 - r0 <= 1 and r0 == 1:
            continue
        kept.append((max(1, r0 - 1), c0, r1 - 1, c1))
    return rows[1:], kept


def _grid(table, chars: list[dict]):
    """The table's cells on one grid: (rows of texts, each cell's (first row, first column,
    row after, column after), 1-based first; the column edges)."""
    cells = list(table.cells)
    chars = [c for c in chars if _inside(c, table.bbox)]  # once per table, not per cell
    xs = _cluster([c[0] for c in cells] + [c[2] for c in cells])
    ys = _cluster([c[1] for c in cells] + [c[3] for c in cells])
    rows = [[""] * max(1, len(xs) - 1) for _ in range(max(1, len(ys) - 1))]
    origins: list[tuple[int, int, int, int]] = []
    for box in sorted(cells, key=lambda b: (b[1], b[0])):
        c0, c1 = _nearest(xs, box[0]), _nearest(xs, box[2])
        r0, r1 = _nearest(ys, box[1]), _nearest(ys, box[3])
        if c1 <= c0 or r1 <= r0:
            continue
        text = _cell_text(chars, box)
        for r in range(r0, r1):
            for c in range(c0, c1):
                rows[r][c] = text
        origins.append((r0 + 1, c0 + 1, r1 + 1, c1 + 1))
    return rows, origins, xs
