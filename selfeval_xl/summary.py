"""The coordinator's outputs of a check run: 汇总表.xlsx and summary.json.

Text from clerks (names, messages quoting their cells) is written with ``write_string`` and
the workbook refuses string-to-formula conversion, so "=HYPERLINK(...)" typed by a clerk
stays text here too. Both files are written atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import xlsxwriter

SEVERITY_CN = {"error": "错误", "warning": "警告", "info": "提示"}


def _atomic(path: Path, writer) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~selfeval-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        writer(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(results: list[dict[str, Any]], path: Path) -> None:
    data = {"files": {r["name"]: _json_entry(r) for r in results}}
    # the same file name in two folders must not collide
    if len(data["files"]) != len(results):
        data = {"files": {r["file"]: _json_entry(r) for r in results}}

    def w(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=2)

    _atomic(path, w)


def _json_entry(r: dict[str, Any]) -> dict[str, Any]:
    if r["status"] == "无法读取":
        return {"path": r["file"], "status": r["status"], "reason": r["reason"]}
    keys = ("unit_code", "unit_name", "year", "profile", "stated_total", "recomputed_total", "grade", "status",
            "errors", "warnings", "infos")
    out = {"path": r["file"], **{k: r.get(k) for k in keys}}
    out["flags"] = [{k: f.get(k) for k in ("code", "severity", "location", "stated", "expected", "message")}
                    for f in r.get("flags", [])]
    return out


def write_xlsx(results: list[dict[str, Any]], path: Path) -> None:
    def w(tmp: str) -> None:
        wb = xlsxwriter.Workbook(tmp, {"strings_to_formulas": False, "strings_to_numbers": False,
                                       "strings_to_urls": False})
        head = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1, "font_name": "宋体", "text_wrap": True})
        cell = wb.add_format({"border": 1, "font_name": "宋体", "valign": "top"})
        wrap = wb.add_format({"border": 1, "font_name": "宋体", "text_wrap": True, "valign": "top"})
        num = wb.add_format({"border": 1, "font_name": "宋体", "num_format": "0.00", "valign": "top"})
        fills = {"有错误": "#FFC7CE", "有警告": "#FFEB9C", "通过": "#C6EFCE"}
        status_fmt = {k: wb.add_format({"border": 1, "font_name": "宋体", "bg_color": v}) for k, v in fills.items()}

        def put(ws, r, c, v, fmt=cell):
            if v is None or v == "":
                ws.write_blank(r, c, None, fmt)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(r, c, v, num if isinstance(v, float) else fmt)
            else:
                ws.write_string(r, c, str(v), fmt)

        ok = [r for r in results if r["status"] != "无法读取"]
        bad = [r for r in results if r["status"] == "无法读取"]

        ws = wb.add_worksheet("汇总")
        cols = ["文件", "单位编码", "单位名称", "年度", "配置", "表中总分", "重算总分", "评价等次", "错误", "警告", "提示", "状态"]
        widths = [40, 12, 30, 8, 16, 10, 10, 10, 8, 8, 8, 10]
        for c, (h, wd) in enumerate(zip(cols, widths)):
            ws.write_string(0, c, h, head)
            ws.set_column(c, c, wd)
        for i, r in enumerate(ok, start=1):
            row = [r["name"], r["unit_code"], r["unit_name"], r["year"], r["profile"], r["stated_total"],
                   r["recomputed_total"], r["grade"], r["errors"], r["warnings"], r["infos"]]
            for c, v in enumerate(row):
                put(ws, i, c, v)
            ws.write_string(i, len(row), r["status"], status_fmt.get(r["status"], cell))
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(ok), 1), len(cols) - 1)

        ws = wb.add_worksheet("问题清单")
        cols = ["文件", "单位名称", "代码", "级别", "位置", "表中数值", "应为", "说明"]
        widths = [36, 26, 11, 6, 16, 12, 12, 90]
        for c, (h, wd) in enumerate(zip(cols, widths)):
            ws.write_string(0, c, h, head)
            ws.set_column(c, c, wd)
        i = 1
        for r in ok:
            for f in r["flags"]:
                row = [r["name"], r["unit_name"], f["code"], SEVERITY_CN.get(f["severity"], f["severity"]), f["location"],
                       f.get("stated"), f.get("expected"), f["message"]]
                for c, v in enumerate(row):
                    put(ws, i, c, v, wrap if c == 7 else cell)
                i += 1
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(i - 1, 1), len(cols) - 1)

        ws = wb.add_worksheet("无法读取")
        for c, (h, wd) in enumerate(zip(["文件", "路径", "原因"], [36, 60, 100])):
            ws.write_string(0, c, h, head)
            ws.set_column(c, c, wd)
        for i, r in enumerate(bad, start=1):
            put(ws, i, 0, r["name"])
            put(ws, i, 1, r["file"])
            put(ws, i, 2, r["reason"], wrap)
        wb.close()

    _atomic(path, w)
