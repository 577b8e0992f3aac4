"""Read a filled workbook back through the same layout the writer used.

Only input cells are read as data. The metadata sheet says which profile, unit, year and
project shape built the workbook, so the layout can be compiled again and walked; sheets
are found by name, or by their recorded position when a clerk renamed them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .binding import unflatten
from .layout import META, TEXT, LONGTEXT, Layout, Shape, a1, compile_layout
from .model import Department
from .profile import ProfileError, get_profile


class ReadError(ValueError):
    """A workbook that cannot be read at all; the message is for the user (Chinese)."""


@dataclass
class Workbook:
    """Everything read from one file: metadata, cell values and (when asked) formulas."""

    path: Path
    meta: dict[str, str]
    layout: Layout
    values: dict[str, dict[tuple[int, int], Any]]  # sheet name -> (row, col) -> value
    formulas: dict[str, dict[tuple[int, int], Any]] = field(default_factory=dict)
    sheet_map: dict[str, str] = field(default_factory=dict)  # layout sheet name -> workbook sheet name


def _load(path: Path, data_only: bool):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, data_only=data_only, read_only=True)
    except Exception as e:  # openpyxl raises many types for damaged files
        raise ReadError(f"{path.name}：无法作为 .xlsx 打开（{type(e).__name__}: {e}）") from None


def _grid(ws) -> dict[tuple[int, int], Any]:
    if hasattr(ws, "reset_dimensions"):  # read-only mode trusts the stored dimensions, which WPS gets wrong
        ws.reset_dimensions()
    out: dict[tuple[int, int], Any] = {}
    for r, row in enumerate(ws.iter_rows(values_only=True)):
        for c, v in enumerate(row):
            if v is not None:
                out[(r, c)] = v
    return out


def read_meta(wb, name: str) -> dict[str, str]:
    candidates = [wb[META]] if META in wb.sheetnames else [wb[n] for n in wb.sheetnames]
    for ws in candidates:
        grid = _grid(ws)
        if grid.get((0, 0)) == "marker" and grid.get((0, 1)) == "selfeval-xl":
            meta: dict[str, str] = {}
            r = 0
            while (r, 0) in grid:
                meta[str(grid[(r, 0)])] = "" if grid.get((r, 1)) is None else str(grid[(r, 1)])
                r += 1
            return meta
    raise ReadError(f"{name}：找不到 selfeval-xl 元数据工作表，不是本工具生成的模板（或元数据已被删除）")


def layout_from_meta(meta: dict[str, str], name: str) -> Layout:
    try:
        profile = get_profile(meta["profile"])
    except ProfileError as e:
        raise ReadError(f"{name}：{e}") from None
    try:
        cats = tuple(json.loads(meta["project_categories"]))
        shape = Shape(year=int(meta["year"]), unit_code=meta["unit_code"], unit_name=meta["unit_name"],
                      competent_dept=meta.get("competent_dept", ""), project_categories=cats)
    except (KeyError, ValueError) as e:
        raise ReadError(f"{name}：元数据不完整（{e}）") from None
    return compile_layout(profile, shape)


def open_workbook(path: str | Path, with_formulas: bool = False) -> Workbook:
    path = Path(path)
    wb = _load(path, data_only=True)
    try:
        meta = read_meta(wb, path.name)
        layout = layout_from_meta(meta, path.name)
        recorded = json.loads(meta.get("sheets", "[]"))
        values: dict[str, dict[tuple[int, int], Any]] = {}
        sheet_map: dict[str, str] = {}
        for sh in layout.sheets:
            actual = sh.name if sh.name in wb.sheetnames else None
            if actual is None and sh.name in recorded:
                idx = recorded.index(sh.name)
                if idx < len(wb.sheetnames):
                    actual = wb.sheetnames[idx]
            if actual is None:
                continue
            sheet_map[sh.name] = actual
            values[sh.name] = _grid(wb[actual])
    finally:
        wb.close()
    book = Workbook(path, meta, layout, values, sheet_map=sheet_map)
    if with_formulas:
        wbf = _load(path, data_only=False)
        try:
            book.formulas = {sh: _grid(wbf[actual]) for sh, actual in sheet_map.items()}
        finally:
            wbf.close()
    return book


def input_values(book: Workbook) -> dict[str, Any]:
    """Raw value of every input cell, by layout key (None when blank or the sheet is gone)."""
    out: dict[str, Any] = {}
    for sh, cell in book.layout.inputs():
        grid = book.values.get(sh.name, {})
        v = grid.get((cell.r, cell.c))
        if cell.vtype in (TEXT, LONGTEXT):
            if isinstance(v, float) and v.is_integer():
                v = str(int(v))
            elif v is not None and not isinstance(v, str):
                v = str(v)
        out[cell.key] = v
    return out


def extract(path: str | Path) -> Department:
    """The inputs of a filled workbook as a ``Department`` (no checks; see ``checks``)."""
    book = open_workbook(path)
    values = input_values(book)
    try:
        return unflatten(values, book.layout, book.meta)
    except ValueError as e:
        raise ReadError(f"{Path(path).name}：数据无法解析（{e}）") from None


def location(book: Workbook, key: str) -> str:
    sh, cell = book.layout.where[key]
    return f"{sh.name}!{a1(cell.r, cell.c)}"
