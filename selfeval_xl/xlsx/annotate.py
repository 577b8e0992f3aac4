"""A copy of the clerk's workbook with every flag as a cell comment and a highlight.

The original file is never opened for writing: the copy is built in memory and written
atomically to a new path (``outputs.write_bytes_atomic``). openpyxl keeps the sheets, values, formulas, protection and the
standard data validations XlsxWriter writes; it drops Excel's x14 extension validations
(PITFALLS.md), which our templates do not use. A first sheet 校验结果 lists every flag.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from ..outputs import write_bytes_atomic
from .read import ANNOTATION_SHEET
from .summary import SEVERITY_CN

FILLS = {"error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7"}
_LOC = re.compile(r"^(?P<sheet>[^!]+)!(?P<cell>[A-Z]+\d+)$")


def _as_seen(flag: dict[str, Any], formula: bool) -> str:
    """A flag's message as the clerk reads it in the copy. A formula cell is recalculated when
    the copy is opened (Excel, WPS and LibreOffice alike), so it no longer shows the figure the
    returned file held: the comment says which figure that was, and that the cell now shows the
    recalculated one — true before and after any recalculation."""
    msg = flag["message"]
    if formula and flag.get("stated") is not None and "表中为" in msg:
        msg = msg.replace("表中为", "交回的文件中此格为", 1)
        msg += "（本副本打开时公式已重新计算，此格现在显示的是按录入数据算出的数。）"
    return msg


def _renamed(src: Path) -> dict[str, str]:
    """The form's sheet names → the names in this file, when a clerk renamed a sheet: the flags
    name the form's sheet (附件2), the comments must land on the clerk's (附件2（已改）). The
    reader found the renamed sheet by position and content; ask it again."""
    from .read import ReadError, open_workbook

    try:
        return open_workbook(src).sheet_map
    except (ReadError, OSError):
        return {}


def annotate(src: str | Path, flags: list[dict[str, Any]], dest: str | Path,
             sheet_map: dict[str, str] | None = None) -> Path:
    import openpyxl

    src, dest = Path(src), Path(dest)
    if src.resolve() == dest.resolve():
        raise ValueError("批注副本不能覆盖原文件，请指定另一个输出路径")
    wb = openpyxl.load_workbook(src)
    located = [(f, m) for f in flags if (m := _LOC.match(f.get("location") or ""))]
    if sheet_map is None and any(m["sheet"] not in wb.sheetnames for _, m in located):
        sheet_map = _renamed(src)
    sheet_map = sheet_map or {}
    notes: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for f, m in located:
        sheet = sheet_map.get(m["sheet"], m["sheet"])
        if sheet in wb.sheetnames:
            notes.setdefault((sheet, m["cell"]), []).append(f)
    for (sheet, addr), fs in notes.items():
        ws = wb[sheet]
        cell = ws[addr]
        for rng in ws.merged_cells.ranges:  # only the top-left cell of a merge holds a comment
            if addr in rng:
                cell = ws.cell(rng.min_row, rng.min_col)
                break
        worst = min(fs, key=lambda f: ["error", "warning", "info"].index(f["severity"]))["severity"]
        text = "\n".join(f"【{SEVERITY_CN[f['severity']]} {f['code']}】{_as_seen(f, cell.data_type == 'f')}" for f in fs)
        cell.comment = Comment(text[:30000], "selfeval-xl", width=360, height=160)
        cell.fill = PatternFill("solid", fgColor=FILLS[worst])
    ws = wb.create_sheet(ANNOTATION_SHEET, 0)
    ws.append(["级别", "代码", "位置", "说明"])
    for r, f in enumerate(flags, start=2):
        for c, v in enumerate([SEVERITY_CN.get(f["severity"], f["severity"]), f["code"], f.get("location") or "",
                               f["message"]], start=1):
            cell = ws.cell(r, c, v)
            cell.data_type = "s"  # openpyxl would store text starting with "=" as a formula
    for col, width in zip("ABCD", (8, 12, 18, 100)):
        ws.column_dimensions[col].width = width
    wb.active = 0
    # saved to memory first, then written as one file: openpyxl writing straight to disk leaves
    # its zip unclosed when the disk fills up, and a second, unnamed "Exception ignored … OSError 28"
    # follows from the garbage collector; this way a full disk is one OSError, raised here
    buf = io.BytesIO()
    wb.save(buf)
    write_bytes_atomic(dest, buf.getvalue())
    return dest
