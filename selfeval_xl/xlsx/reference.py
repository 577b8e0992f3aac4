"""The reference writer: every cell of a unit's workbook drawn through XlsxWriter.

It replays the cell plan (``xlsx.plan.cell_writes``) and adds what is the same for every
unit of a structure — styles, validations, conditional formats, print setup, protection.
``xlsx.stamp`` builds its skeletons with it; tests hold the two writers equal.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import xlsxwriter

from . import text_escape  # noqa: F401  (shared strings always escaped)
from ..core.numbers import DATE_MAX, DATE_MIN
from ..forms.cells import (
    AREA, DATE, INT, LONGTEXT, META, MONEY, PERCENT, RATE_STYLES, SCORE, TEXT, WEIGHT, Layout, Sheet, a1,
)
from .plan import (
    BLANK, MERGE, NUMBER, STRING, PrintPlan, cell_writes, doc_properties, meta_for, sheet_print, unused_sheet,
)

FONT = "宋体"
INPUT_FILL = "#FFF2CC"
FORMULA_FILL = "#E7E6E6"
HEADER_FILL = "#F2F2F2"

_BASE = {"font_name": FONT, "font_size": 10, "valign": "vcenter", "text_wrap": True}
_BORDER = {"border": 1}

STYLES: dict[str, dict[str, Any]] = {
    "title": {"font_name": "黑体", "font_size": 16, "align": "center", "valign": "vcenter"},
    "attach": {"font_name": "黑体", "font_size": 12, "align": "left", "valign": "vcenter"},
    "header": {**_BASE, **_BORDER, "align": "center", "bold": True, "bg_color": HEADER_FILL},
    "label": {**_BASE, **_BORDER, "align": "center"},
    "label_center": {**_BASE, **_BORDER, "align": "center"},
    "label_left": {**_BASE, **_BORDER, "align": "left"},
    "label_right": {**_BASE, **_BORDER, "align": "right"},
    "indent1": {**_BASE, **_BORDER, "align": "left", "indent": 1},
    "indent2": {**_BASE, **_BORDER, "align": "left", "indent": 2},
    "indent3": {**_BASE, **_BORDER, "align": "left", "indent": 4},
    "note": {**_BASE, "align": "left"},
    "footer": {**_BASE, "align": "left", "bg_color": FORMULA_FILL},
    "footer_label": {**_BASE, "align": "right"},
    # text inputs are formatted "@" so Excel keeps a typed 96% or 12月31日 as the text typed
    "in_text": {**_BASE, **_BORDER, "align": "left", "locked": False, "bg_color": INPUT_FILL, "num_format": "@"},
    "in_long": {**_BASE, **_BORDER, "align": "left", "valign": "top", "locked": False, "bg_color": INPUT_FILL,
                "num_format": "@"},
    "in_money": {**_BASE, **_BORDER, "align": "right", "locked": False, "bg_color": INPUT_FILL, "num_format": "0.00#"},
    "in_int": {**_BASE, **_BORDER, "align": "center", "locked": False, "bg_color": INPUT_FILL, "num_format": "0"},
    "in_num": {**_BASE, **_BORDER, "align": "center", "locked": False, "bg_color": INPUT_FILL, "num_format": "0.##"},
    "f_money": {**_BASE, **_BORDER, "align": "right", "bg_color": FORMULA_FILL, "num_format": "0.00#"},
    "f_rate": {**_BASE, **_BORDER, "align": "center", "bg_color": FORMULA_FILL, "num_format": "0.00%"},
    "f_num": {**_BASE, **_BORDER, "align": "center", "bg_color": FORMULA_FILL, "num_format": "0.##"},
    "f_text": {**_BASE, **_BORDER, "align": "center", "bg_color": FORMULA_FILL},
    "f_indent": {**_BASE, **_BORDER, "align": "left", "indent": 3, "bg_color": FORMULA_FILL},
    "f_side": {**_BASE, **_BORDER, "align": "center", "bold": True, "bg_color": FORMULA_FILL},
    "hint": {**_BASE, "text_wrap": False, "align": "left", "font_color": "#C00000"},
    "legend_input": {**_BASE, **_BORDER, "align": "left", "bg_color": INPUT_FILL},
    "legend_formula": {**_BASE, **_BORDER, "align": "left", "bg_color": FORMULA_FILL},
    "legend_error": {**_BASE, **_BORDER, "align": "left", "bg_color": "#FFC7CE"},
    "legend_hint": {**_BASE, **_BORDER, "align": "left", "font_color": "#C00000"},
    "cf_error": {"bg_color": "#FFC7CE", "font_color": "#9C0006"},
    "cf_warn": {"bg_color": "#FFEB9C", "font_color": "#9C5700"},
    # last, so adding it kept every other format's index (and each sheet's XML) as it was
    "in_pct": {**_BASE, **_BORDER, "align": "center", "locked": False, "bg_color": INPUT_FILL, "num_format": "0.00%"},
    # a date input: a real date, shown as the forms write it (Excel's own Chinese long date)
    "in_date": {**_BASE, **_BORDER, "align": "center", "locked": False, "bg_color": INPUT_FILL,
                "num_format": 'yyyy"年"m"月"d"日"'},
    # an execution rate shown to a region's places other than two (``cells.RATE_STYLES``; "f_rate" is 0.00%)
    **{style: {**_BASE, **_BORDER, "align": "center", "bg_color": FORMULA_FILL,
               "num_format": "0" + ("." + "0" * places if places else "") + "%"}
       for places, style in RATE_STYLES.items() if places != 2},
}

# data validation per input type: (validate kind, criteria, title, message, error)
VALIDATIONS: dict[str, dict[str, Any]] = {
    MONEY: {"validate": "decimal", "criteria": ">=", "value": 0, "error_title": "金额有误",
            "error_message": "请输入不小于 0 的数字，单位万元，例如 103.86（不要输入“万元”、逗号或空格）。"},
    INT: {"validate": "integer", "criteria": ">=", "value": 0, "error_title": "人数有误",
          "error_message": "请输入不小于 0 的整数。"},
    AREA: {"validate": "decimal", "criteria": ">=", "value": 0, "error_title": "面积有误",
           "error_message": "请输入不小于 0 的数字（平方米）。"},
    WEIGHT: {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100, "error_title": "分值有误",
             "error_message": "分值应为 0 到 100 之间的数字。"},
    PERCENT: {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1, "error_title": "百分比有误",
              "error_message": "请填写 0% 到 100% 之间的百分比，如 95%（直接输入 95%）。"},
    DATE: {"validate": "date", "criteria": "between", "minimum": DATE_MIN, "maximum": DATE_MAX, "error_title": "日期有误",
           "error_message": f"请填写 {DATE_MIN.year} 年至 {DATE_MAX.year} 年之间的日期，如 2024-3-5 或 2024年3月5日。"},
}


def _strip_equals(formula: str, expand_future_functions: bool = False) -> str:
    return formula[1:] if formula.startswith("=") else formula


def write_reference(target, layout: Layout, values: dict[str, Any], derived: dict[str, Any],
                    generated_at: dt.datetime, hide_unused: bool = True, key=None) -> None:
    """The reference writer: every cell through XlsxWriter (a path or a BytesIO). A project
    sheet nobody filled is hidden (``hide_unused``; the stamp's skeleton is drawn without)."""
    wb = xlsxwriter.Workbook(target, WORKBOOK_OPTIONS)
    wb.set_properties(doc_properties(layout, generated_at))
    fmts = formats(wb)
    for sh in layout.sheets:
        ws = add_sheet(wb, sh)
        _draw(ws, sh, layout, values, derived, fmts)
        if hide_unused and unused_sheet(sh, values):
            ws.hide()
            # no print area either: LibreOffice prints a hidden sheet that has one
            ws.print_area_range = ws.repeat_row_range = ""
    _meta_sheet(wb, layout, generated_at, key)
    wb.close()


WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
                    "in_memory": True}  # in_memory: XlsxWriter otherwise writes every part to a temp file first


def formats(wb) -> dict[str, Any]:
    """The workbook's formats, every index fixed up front.

    XlsxWriter otherwise numbers formats in order of first use, so a sheet's XML would depend
    on the sheets before it; fixed, it depends on the sheet alone, and xlsx.stamp can share a
    sheet's skeleton between workbooks whose other sheets differ.
    """
    fmts = {name: wb.add_format(spec) for name, spec in STYLES.items()}
    for name, f in fmts.items():
        f._get_dxf_index() if name.startswith("cf_") else f._get_xf_index()
    return fmts


def add_sheet(wb, sh: Sheet):
    ws = wb.add_worksheet(sh.name)
    # Our formulas use only Excel 2007 functions (Layout.formula_of asserts it), so XlsxWriter's
    # ~30 regex substitutions per formula for _xlfn. prefixes can be skipped: it was the largest
    # cost of writing a workbook. LibreOffice recalculation tests guard the result.
    ws._prepare_formula = _strip_equals
    return ws


def sheet_skeleton_xml(layout: Layout, sh: Sheet, first: bool, plan: PrintPlan | None = None) -> str:
    """One sheet's XML as the reference writer draws it with no contents, without a whole workbook.

    Worksheet XML depends on the workbook only through the format indices (fixed by
    ``formats``) and, for the first sheet, its selected tab (set as Workbook.close sets it).
    """
    import io

    wb = xlsxwriter.Workbook(io.BytesIO(), WORKBOOK_OPTIONS)
    fmts = formats(wb)
    ws = add_sheet(wb, sh)
    _draw(ws, sh, layout, {}, {}, fmts, plan)
    ws.selected = 1 if first else 0
    fh = io.StringIO()
    ws._set_xml_writer(fh)
    ws._assemble_xml_file()
    return fh.getvalue()


def _draw(ws, sh: Sheet, layout: Layout, values, derived, fmts, plan: PrintPlan | None = None) -> None:
    for c, w in enumerate(sh.widths):
        ws.set_column(c, c, w)
    heights, hidden, unit_plan = sheet_print(sh, values)
    for r, h in heights.items():
        if r not in hidden:
            ws.set_row(r, h)
    for r in sorted(hidden):  # spare rows: hidden, grouped one outline level down
        ws.set_row(r, heights.get(r), None, {"hidden": True, "level": 1})
        if r + 1 not in hidden and r + 1 < sh.n_rows:
            ws.set_row(r + 1, heights.get(r + 1), None, {"collapsed": True})
    if sh.slot_groups:
        ws.outline_row_level = 1  # for every unit alike, whether or not it hides a row
    for op, cell, payload, cached in cell_writes(sh, layout, values, derived):
        fmt = fmts[cell.style]
        if op == MERGE:
            ws.merge_range(cell.r, cell.c, cell.merge[0], cell.merge[1], "", fmt)
        elif op == BLANK:
            ws.write_blank(cell.r, cell.c, None, fmt)
        elif op == STRING:
            ws.write_string(cell.r, cell.c, payload, fmt)
        elif op == NUMBER:
            ws.write_number(cell.r, cell.c, payload, fmt)
        else:
            ws.write_formula(cell.r, cell.c, payload, fmt, cached)
    structure(ws, sh, layout, fmts, plan or unit_plan)


def structure(ws, sh: Sheet, layout: Layout, fmts, plan: PrintPlan) -> None:
    """Validations, conditional formats, print setup and protection: the same for every unit."""
    by_vtype: dict[str, list[str]] = {}
    score_cells: list[tuple[int, int]] = []
    for cell in sh.cells:
        if cell.kind != "input":
            continue
        if cell.vtype == SCORE:
            score_cells.append((cell.r, cell.c))
        elif cell.vtype in VALIDATIONS:
            by_vtype.setdefault(cell.vtype, []).append(_range(cell))
        if cell.choices:
            kind = "strict:" if cell.choices_strict else "list:"
            by_vtype.setdefault(kind + "\x1f".join(cell.choices) + "\x1e" + (cell.prompt or ""), []).append(_range(cell))
        elif cell.prompt and cell.vtype in (TEXT, LONGTEXT):
            by_vtype.setdefault("prompt:" + cell.prompt, []).append(_range(cell))
    for vtype, ranges in by_vtype.items():
        if vtype.startswith("prompt:"):
            opts = {"validate": "any", "input_title": "填写提示", "input_message": vtype[7:][:250]}
        elif vtype.startswith("list:"):
            choices, _, prompt = vtype[5:].partition("\x1e")
            # a dropdown of suggestions: show_error off, so any other text is accepted as typed
            opts = {"validate": "list", "source": choices.split("\x1f"), "show_error": False,
                    "input_title": "填写提示", "input_message": prompt[:250]}
        elif vtype.startswith("strict:"):
            choices, _, prompt = vtype[7:].partition("\x1e")
            # the only right values: other text is still accepted (a warning the clerk may pass, as
            # ``check`` warns: FILL-201, IND-205), never refused
            listed = "请从下拉列表中选择：" + "、".join(choices.split("\x1f")) + "。"
            opts = {"validate": "list", "source": choices.split("\x1f"), "error_type": "warning",
                    "error_title": "不在可选项中", "error_message": listed if len(listed) <= 255 else "请从下拉列表中选择。",
                    "input_title": "填写提示", "input_message": prompt[:250]}
        else:
            opts = dict(VALIDATIONS[vtype], input_title="填写提示", input_message=_prompt(vtype))
        _validate(ws, ranges, opts)
    # 得分 must lie between 0 and the row's 分值: the nearest 分值 input to its left (a declared
    # column may stand between them, 得分系数), else the cell to its left
    weights_by_row: dict[int, list[int]] = {}
    for cell in sh.cells:
        if cell.kind == "input" and cell.vtype == WEIGHT:
            weights_by_row.setdefault(cell.r, []).append(cell.c)
    by_offset: dict[int, list[tuple[int, int]]] = {}
    for r, c in score_cells:
        left = [wc for wc in weights_by_row.get(r, ()) if wc < c]
        by_offset.setdefault((max(left) - c) if left else -1, []).append((r, c))
    for offset, cells in by_offset.items():
        r0, c0 = cells[0]
        ranges = [a1(r, c) for r, c in cells]
        _validate(ws, ranges, {
            "validate": "custom",
            "value": f"=AND(ISNUMBER({a1(r0, c0)}),{a1(r0, c0)}>=0,OR(NOT(ISNUMBER({a1(r0, c0 + offset)})),"
                     f"{a1(r0, c0)}<={a1(r0, c0 + offset)}))",
            "input_title": "得分", "input_message": "得分应在 0 与本行分值之间；未得满分请填写偏差原因。",
            "error_title": "得分有误", "error_message": "得分必须是 0 到本行分值之间的数字。",
        })
    for cf in sh.cond_formats:
        crit = layout.render(cf.criteria, sh.name)
        ws.conditional_format(cf.first[0], cf.first[1], cf.last[0], cf.last[1],
                              {"type": "formula", "criteria": "=" + crit, "format": fmts[cf.style]})
    _print_setup(ws, sh, plan)
    ws.protect("", {
        "select_locked_cells": True, "select_unlocked_cells": True,
        "format_rows": True, "format_columns": True,
    })


def _range(cell) -> str:
    if cell.merge:
        return f"{a1(cell.r, cell.c)}:{a1(cell.merge[0], cell.merge[1])}"
    return a1(cell.r, cell.c)


def _prompt(vtype: str) -> str:
    return {MONEY: "单位：万元。只填数字，如 103.86。", INT: "人数，填整数。", AREA: "平方米，填数字。",
            WEIGHT: "本行分值（数字）。", PERCENT: "百分比，如 95%（直接输入 95%）。",
            DATE: "日期，如 2024-3-5（显示为 2024年3月5日）。"}[vtype]


def _validate(ws, ranges: list[str], opts: dict[str, Any]) -> None:
    first = ranges[0]
    if ":" in first:
        a, b = first.split(":")
    else:
        a = b = first
    from xlsxwriter.utility import xl_cell_to_rowcol

    r1, c1 = xl_cell_to_rowcol(a)
    r2, c2 = xl_cell_to_rowcol(b)
    opts = dict(opts)
    if len(ranges) > 1:
        opts["multi_range"] = " ".join(ranges)
    rc = ws.data_validation(r1, c1, r2, c2, opts)
    if rc != 0:  # XlsxWriter warns and returns -2 instead of raising (PITFALLS.md)
        raise ValueError(f"data validation rejected for {ranges[:3]}: {opts}")


def print_titles(sh: Sheet) -> tuple[int, int] | None:
    """The rows repeated at the top of every printed page: the indicator table's header where
    the sheet has one (so every page of a long 附件2 says what its columns are), else the rows
    the region's form names."""
    return (sh.header_row, sh.header_row) if sh.header_row is not None else sh.repeat_rows


def _print_setup(ws, sh: Sheet, plan: PrintPlan) -> None:
    ws.set_paper(9)  # A4 before fit_to_pages, or Excel falls back to Letter
    if plan.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.center_horizontally()
    # one page where that stays readable (附件1 with its sign-off rows, each 附件3 as in the seeds);
    # else the width of the page, with pages starting between blocks (``plan.print_plan``)
    ws.fit_to_pages(1, plan.fit_height)
    if plan.breaks:
        ws.set_h_pagebreaks(list(plan.breaks))
    ws.print_area(0, 0, sh.n_rows - 1, sh.print_cols - 1)
    rows = print_titles(sh)
    if rows:
        ws.repeat_rows(*rows)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.hide_gridlines(2)


def _meta_sheet(wb, layout: Layout, generated_at: dt.datetime, key=None) -> None:
    ws = wb.add_worksheet(META)
    for r, (k, v) in enumerate(meta_for(layout, generated_at, key).items()):
        ws.write_string(r, 0, k)
        ws.write_string(r, 1, v)
    ws.protect("")
    ws.very_hidden()

