"""The cell plan: what every cell of a unit's workbook holds, decided in one place.

Both writers — XlsxWriter (``xlsx.reference``) and the skeleton stamp (``xlsx.stamp``) —
replay ``cell_writes``; both take row heights, document properties and the metadata rows
from here, so the two cannot differ (tests/test_stamp.py holds them equal byte for byte).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..core.region import region_rows
from ..forms.binding import BindingError
from ..core.numbers import date_serial, parse_date
from ..forms.cells import DATE, LONGTEXT, TEMPLATE_VERSION, TEXT, Layout, Sheet

from xlsxwriter.utility import _utf16_len


EXCEL_CELL_CHARS = 32767  # Excel's limit; XlsxWriter silently truncates longer strings


def check_cell_text_limit(values: dict[str, Any], layout: Layout) -> None:
    """Refuse text Excel cannot hold, naming the cell, instead of losing its end silently."""
    for key, v in values.items():
        if isinstance(v, str) and len(v) > EXCEL_CELL_CHARS // 2 and _utf16_len(v) > EXCEL_CELL_CHARS:
            raise BindingError(f"{layout.location(key)} 的文字共 {_utf16_len(v)} 个字符，超过 Excel 单元格上限 "
                               f"{EXCEL_CELL_CHARS} 个字符；请精简，或把部分内容移到其他部分")


def doc_properties(layout: Layout, generated_at: dt.datetime) -> dict[str, Any]:
    return {
        "title": f"{layout.shape.year}年度{layout.shape.unit_name}整体支出绩效自评",
        "author": "selfeval-xl", "created": generated_at, "comments": f"profile={layout.profile.id}",
    }


def _display_width(text: str) -> int:
    """Columns a text needs in Excel's units: CJK and full-width characters count double."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _lines_height(text: str, width: float) -> float:
    lines = sum(max(1, -(-_display_width(p) // int(width))) for p in text.split("\n"))
    return min(409.0, lines * 14 + 6)


def _height_plan(sh: Sheet) -> tuple[dict[int, float], list[tuple[int, float]], list[tuple[int, str, float]]]:
    """What of a sheet's row heights is the same for every unit, worked out once per shared sheet:
    the heights its fixed labels need, then the labels that carry the unit's name (by index) and
    the input cells, each with the width its text wraps in."""
    base = sh.origin or sh
    plan = base.__dict__.get("_height_plan")
    if plan is None:
        heights = dict(base.heights)
        personal: list[tuple[int, float]] = []
        inputs: list[tuple[int, str, float]] = []
        for i, cell in enumerate(base.cells):
            if cell.kind not in ("label", "input") or (cell.merge and cell.merge[0] != cell.r):
                continue
            c2 = cell.merge[1] if cell.merge else cell.c
            width = max(1.0, sum(base.widths[cell.c:c2 + 1]) - 1)
            if cell.kind == "input":
                inputs.append((cell.r, cell.key, width))
            elif isinstance(cell.text, str) and "\ue000" in cell.text:
                personal.append((i, width))
            elif isinstance(cell.text, str) and cell.text:
                need = _lines_height(cell.text, width)
                if need > heights.get(cell.r, 15):
                    heights[cell.r] = need
        plan = base.__dict__["_height_plan"] = (heights, personal, inputs)
    return plan


def row_heights(sh: Sheet, values: dict[str, Any]) -> dict[int, float]:
    """The layout's row heights, grown so that filled text is not clipped when printed.

    Excel does not auto-fit rows holding merged or wrapped cells, so the writer estimates:
    lines = Σ over paragraphs ⌈display width ÷ cell width⌉, 14 points a line.
    """
    fixed, personal, inputs = _height_plan(sh)
    heights = dict(fixed)
    texts = [(sh.cells[i].r, sh.cells[i].text, w) for i, w in personal]
    texts += [(r, values.get(key), w) for r, key, w in inputs]
    for r, text, width in texts:
        if isinstance(text, str) and text:
            need = _lines_height(text, width)
            if need > heights.get(r, 15):
                heights[r] = need
    return heights


# what cell_writes yields, in XlsxWriter call order
MERGE, BLANK, STRING, NUMBER, FORMULA = range(5)


def cell_writes(sh: Sheet, layout: Layout, values: dict[str, Any], derived: dict[str, Any]):
    """Every write the sheet needs, in order: (op, cell, payload, cached value).

    The one place that decides what a cell holds. The XlsxWriter writer replays these
    calls; the stamp writer serialises them into its skeleton, so the two cannot differ.
    """
    for cell in sh.cells:
        kind = cell.kind
        if kind == "label":
            text = cell.text if cell.text is not None else ""
            yield from _put_ops(cell, text, not isinstance(text, (int, float)))
        elif kind == "input":
            v = values.get(cell.key)
            if cell.vtype == DATE and v not in (None, ""):
                day = parse_date(v)  # a real date; text that is none (kept as read) stays text
                v = date_serial(day) if day is not None else str(v)
            yield from _put_ops(cell, "" if v is None else v, cell.vtype in (TEXT, LONGTEXT))
        else:  # formula / hint
            if cell.merge:
                yield MERGE, cell, None, None
            cached = derived.get(cell.key)
            yield FORMULA, cell, layout.formula_of(sh, cell), "" if cached is None else cached


def _put_ops(cell, value, as_text: bool):
    if cell.merge:
        yield MERGE, cell, None, None
    if value == "" or value is None:
        if not cell.merge:
            yield BLANK, cell, None, None
    elif as_text or isinstance(value, str):
        yield STRING, cell, str(value), None
    else:
        yield NUMBER, cell, value, None


META_KEYS = ("marker", "template_version", "app_version", "profile", "unit_code", "unit_name", "competent_dept",
             "year", "generated_at", "fingerprint", "project_categories", "sheets", "region_digest",
             "key_id", "signature")  # then region:* rows


def meta_for(layout: Layout, generated_at: dt.datetime, key=None) -> dict[str, str]:
    """The metadata rows, signed with ``key`` (``xlsx.signing``) when one is given."""
    from .signing import sign

    s = layout.shape
    meta = {
        "marker": "selfeval-xl",
        "template_version": TEMPLATE_VERSION,
        "app_version": __version__,
        "profile": layout.profile.id,
        "unit_code": s.unit_code,
        "unit_name": s.unit_name,
        "competent_dept": s.competent_dept,
        "year": str(s.year),
        "generated_at": generated_at.isoformat(),
        "fingerprint": layout.fingerprint(),
        "project_categories": json.dumps(list(s.project_categories), ensure_ascii=False),
        "sheets": json.dumps([sh.name for sh in layout.sheets], ensure_ascii=False),
        "region_digest": layout.profile.digest,
        **dict(region_rows(layout.profile)),
    }
    signed = sign(meta, key)
    # the signature rows sit before the region's rows, where META_KEYS lists them
    return {k: signed[k] for k in META_KEYS} | {k: v for k, v in signed.items() if k not in META_KEYS}




# -- on paper ------------------------------------------------------------------------------------
#
# What prints is decided per unit, from what the unit filled: blank spare rows (indicator slots
# beyond those used, 附件1 free lines) are hidden — one click away (右键 → 取消隐藏, or the outline
# "+" where the application allows it) — and a project sheet nobody filled (a spare 附件3) is a
# hidden sheet. Then each sheet prints on one page when that keeps it readable (≥ 70 %), else
# at the width of the page with page breaks chosen between blocks, never inside a merged label.

def _filled(v: Any) -> bool:
    return v is not None and v != ""


def hidden_rows(sh: Sheet, values: dict[str, Any]) -> set[int]:
    """The spare rows of the sheet that stay out of print: blank ones beyond what each group shows."""
    if not sh.slot_groups:
        return set()
    by_row = sh.input_keys_by_row()
    out: set[int] = set()
    for rows, min_visible in sh.slot_groups:
        filled = {r for r in rows if any(_filled(values.get(k)) for k in by_row.get(r, ()))}
        keep = filled or set(rows[:min_visible])
        out.update(r for r in rows if r not in keep)
    return out


def unused_sheet(sh: Sheet, values: dict[str, Any]) -> bool:
    """A project sheet no one filled (a spare 附件3): hidden, so it does not print six blank pages."""
    if sh.project is None:
        return False
    return not any(_filled(values.get(k)) for keys in sh.input_keys_by_row().values() for k in keys)


@dataclass(frozen=True)
class PrintPlan:
    fit_height: int  # 1: the sheet on one page; 0: as many pages as it takes, starting at ``breaks``
    breaks: tuple[int, ...] = ()  # rows (0-based) a new page starts at
    landscape: bool = True

    def key(self) -> str:
        return f"|fit{self.fit_height}|{'L' if self.landscape else 'P'}|" + ",".join(map(str, self.breaks))


MIN_SCALE = 0.7  # below this a page is not readable at A4 without a magnifier
_A4 = (595.3, 841.9)  # points
_MARGIN_W, _MARGIN_H = 72.0, 86.4 + 12  # left+right 0.5", top+bottom 0.6" and the footer's line


def _col_points(width: float) -> float:
    return int(width * 7 + 5) * 0.75  # Excel's character width to pixels (as XlsxWriter), to points


def _merge_rows(sh: Sheet) -> list[tuple[int, int]]:
    base = sh.origin or sh
    found = base.__dict__.get("_merge_rows")
    if found is None:
        found = sorted({(c.r, c.merge[0]) for c in base.cells if c.merge and c.merge[0] > c.r and c.c < base.print_cols})
        base.__dict__["_merge_rows"] = found
    return found


def print_plan(sh: Sheet, heights: dict[int, float], hidden: set[int]) -> PrintPlan:
    """One page where it stays readable — in the form's orientation, else the other — or else
    the orientation that takes fewer pages, with pages starting between blocks."""
    rows = [r for r in range(sh.n_rows) if r not in hidden]
    h = {r: heights.get(r, 15.0) for r in rows}
    width = sum(_col_points(w) for w in sh.widths[:sh.print_cols]) or 1.0
    tall = sum(h.values()) or 1.0
    plans = []
    for landscape in (sh.landscape, not sh.landscape):
        page_w, page_h = (_A4[1], _A4[0]) if landscape else _A4
        page_w, page_h = page_w - _MARGIN_W, page_h - _MARGIN_H
        fit_w = min(1.0, page_w / width)
        if min(fit_w, page_h / tall) >= MIN_SCALE:
            return PrintPlan(1, (), landscape)
        if fit_w >= MIN_SCALE:
            plans.append(PrintPlan(0, _page_starts(sh, rows, h, page_h / fit_w * 0.95), landscape))
    if not plans:  # too wide either way: the form's orientation, as wide as the page
        page_h = (_A4[0] if sh.landscape else _A4[1]) - _MARGIN_H
        width_fit = ((_A4[1] if sh.landscape else _A4[0]) - _MARGIN_W) / width
        return PrintPlan(0, _page_starts(sh, rows, h, page_h / min(1.0, width_fit) * 0.95), sh.landscape)
    return min(plans, key=lambda p: len(p.breaks))  # the form's orientation on a tie (listed first)


def _page_starts(sh: Sheet, rows: list[int], h: dict[int, float], cap: float) -> tuple[int, ...]:
    """Rows new pages start at, ``cap`` points a page (at the print scale): never inside a
    merged label, unless the label is taller than a page (the 绩效指标 label spans the whole
    indicator table: it is split, its 一级/二级 labels are not)."""
    header = sh.header_row
    repeat = h.get(header, 0.0) if header is not None else 0.0
    blocked: set[int] = set()
    for r1, r2 in _merge_rows(sh):
        if sum(h.get(r, 0.0) for r in range(r1, r2 + 1)) < cap - repeat:
            blocked.update(range(r1 + 1, r2 + 1))
    breaks: list[int] = []
    pos = {r: i for i, r in enumerate(rows)}
    start, used = rows[0], 0.0
    for i, r in enumerate(rows):
        if used + h[r] > cap and r != start:
            cand = [q for q in rows[pos[start] + 1:i + 1] if q not in blocked]
            b = cand[-1] if cand else r
            breaks.append(b)
            start = b
            used = (repeat if header is not None and b > header else 0.0) + sum(h[q] for q in rows[pos[b]:i])
        used += h[r]
    return tuple(breaks)


def sheet_print(sh: Sheet, values: dict[str, Any]) -> tuple[dict[int, float], set[int], PrintPlan]:
    """Row heights, hidden rows and print plan of a sheet for these values (both writers use it)."""
    heights = row_heights(sh, values)
    hidden = hidden_rows(sh, values)
    return heights, hidden, print_plan(sh, heights, hidden)
