"""The cell plan: what every cell of a unit's workbook holds, decided in one place.

Both writers — XlsxWriter (``xlsx.reference``) and the skeleton stamp (``xlsx.stamp``) —
replay ``cell_writes``; both take row heights, document properties and the metadata rows
from here, so the two cannot differ (tests/test_stamp.py holds them equal byte for byte).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from .. import __version__
from ..core.region import region_rows
from ..forms.binding import BindingError
from ..forms.cells import LONGTEXT, TEMPLATE_VERSION, TEXT, Layout, Sheet

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
             "year", "generated_at", "fingerprint", "project_categories", "sheets", "region_digest")  # then region:* rows


def meta_for(layout: Layout, generated_at: dt.datetime) -> dict[str, str]:
    s = layout.shape
    return {
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


