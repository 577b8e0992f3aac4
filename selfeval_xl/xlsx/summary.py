"""The coordinator's outputs of a check run: 汇总表.xlsx and summary.json.

Text from clerks (names, messages quoting their cells) is written with ``write_string`` and
the workbook refuses string-to-formula conversion, so "=HYPERLINK(...)" typed by a clerk
stays text here too. Both files are written atomically.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import xlsxwriter

from . import text_escape  # noqa: F401  (shared strings always escaped)
from ..core.flags import ERROR, INFO, WARNING, Flag, from_dict as flag_from_dict
from ..core.results import STATUS_UNREADABLE, UnitResult
from ..files.outputs import PendingOutput, write_text_atomic

SEVERITY_CN = {"error": "错误", "warning": "警告", "info": "提示"}


Result = UnitResult | dict  # a result as checked, or as stored (read back by ``UnitResult.from_dict``)


def typed(r: Result) -> UnitResult:
    return r if isinstance(r, UnitResult) else UnitResult.from_dict(r)


def write_json(results: list[Result], path: Path) -> None:
    results = [typed(r) for r in results]
    data = {"files": {r.name: _json_entry(r) for r in results}}
    # the same file name in two folders must not collide
    if len(data["files"]) != len(results):
        data = {"files": {r.file: _json_entry(r) for r in results}}
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=2))


_JSON_KEYS = ("unit_code", "unit_name", "year", "profile", "stated_total", "recomputed_total", "grade", "status",
              "errors", "warnings", "infos")


def _json_entry(r: UnitResult) -> dict[str, Any]:
    d = r.as_dict()  # summary.json is where the result is written: its one JSON shape
    if not r.readable:
        return {"path": d["file"], "status": d["status"], "reason": d["reason"]}
    out = {"path": d["file"], **{k: d.get(k) for k in _JSON_KEYS}}
    out["flags"] = [{k: f.get(k) for k in ("code", "severity", "location", "stated", "expected", "message")}
                    for f in d.get("flags", [])]
    rep = report_entry(r)
    if rep is not None:
        out["report"] = rep
    return out


def report_notes_of(r: Result) -> list[Flag] | None:
    """The notes on the unit's report: the comments a generated report carries
    (``report_notes``), or the flags ``check`` put on the unit's own report (at a paragraph);
    None where the result has no report."""
    r = typed(r)
    if not r.report:
        return None
    if "report_notes" in r.extra:
        return [flag_from_dict(f) for f in r.extra["report_notes"]]
    return [f for f in r.flags if f.place is not None and f.place.paragraph is not None]


def report_entry(r: Result) -> dict[str, Any] | None:
    """summary.json's ``report`` of a unit: the report file and every note on it (each a Word
    comment in the report), so a coordinator who reads only the summary misses none."""
    r = typed(r)
    notes = report_notes_of(r)
    if notes is None:
        return None
    return {"file": Path(str(r.report)).name, "notes": len(notes),
            "comments": [{"code": f.code, "severity": f.severity, "location": f.location, "message": f.message}
                         for f in notes]}


def report_cell(r: Result) -> str:
    """汇总's 单位报告（问题数） cell: "<file>（3）", "" without a report."""
    r = typed(r)
    notes = report_notes_of(r)
    return "" if notes is None else f"{Path(str(r.report)).name}（{len(notes)}）"


_FIXED_DATE = dt.datetime(2024, 1, 1)


class SummaryWorkbook:
    """汇总表.xlsx written while a batch runs: rows go out as results arrive, in input order.

    The main process is otherwise idle while workers check; writing the summary then, rather
    than after the last workbook, takes it off the batch's critical path. Results
    may arrive out of order; they are held until the ones before them are in. The file is
    written to a temporary name and renamed by ``close``.
    """

    SUMMARY_COLS = ["文件", "单位编码", "单位名称", "年度", "配置", "全年预算数\n（万元）", "全年执行数\n（万元）", "执行率",
                    "表中总分", "重算总分", "评价等次", "错误", "警告", "提示", "状态",
                    "单位报告\n（问题数）"]
    TITLE_ROWS = {"汇总": 1}  # 汇总 has a title above its header row
    FLAG_COLS = ["文件", "单位名称", "代码", "级别", "位置", "表中数值", "应为", "说明"]

    def __init__(self, path: Path) -> None:
        self.path = path
        self.out = PendingOutput(path)
        self.tmp = self.out.tmp
        # not constant_memory: its inline strings take XlsxWriter's raw rich-text path (xlsxwriter_text.py)
        wb = self.wb = xlsxwriter.Workbook(self.tmp, {"strings_to_formulas": False, "strings_to_numbers": False,
                                                      "strings_to_urls": False, "in_memory": True})
        # a fixed date, as the reports' (docx.template): the same returns give the same bytes, whatever
        # the day or the number of workers
        wb.set_properties({"created": _FIXED_DATE})
        self.head = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1, "font_name": "宋体", "text_wrap": True})
        self.cell = wb.add_format({"border": 1, "font_name": "宋体", "valign": "top"})
        self.wrap = wb.add_format({"border": 1, "font_name": "宋体", "text_wrap": True, "valign": "top"})
        self.num = wb.add_format({"border": 1, "font_name": "宋体", "num_format": "0.00", "valign": "top"})
        self.money = wb.add_format({"border": 1, "font_name": "宋体", "num_format": "#,##0.00", "valign": "top"})
        self.pct = wb.add_format({"border": 1, "font_name": "宋体", "num_format": "0.00%", "valign": "top"})
        # a unit's rate as its region shows it (``UnitResult.rate_places``; "0.00%" where it says none)
        self.pcts = {places: wb.add_format({"border": 1, "font_name": "宋体", "valign": "top",
                                            "num_format": "0" + ("." + "0" * places if places else "") + "%"})
                     for places in range(5) if places != 2}
        self.pcts[2] = self.pct
        self.title_fmt = wb.add_format({"bold": True, "font_name": "黑体", "font_size": 14, "align": "center",
                                        "valign": "vcenter"})
        fills = {"有错误": "#FFC7CE", "有警告": "#FFEB9C", "通过": "#C6EFCE"}
        self.status_fmt = {k: wb.add_format({"border": 1, "font_name": "宋体", "bg_color": v}) for k, v in fills.items()}
        self.units = self._sheet("汇总", self.SUMMARY_COLS, [10, 11, 12, 5, 12, 11, 11, 8, 6, 6, 6, 5, 5, 5, 7, 14])
        self.flags = self._sheet("问题清单", self.FLAG_COLS, [10, 12, 11, 6, 16, 12, 12, 70])
        self.unreadable_ws = self._sheet("无法读取", ["文件", "路径", "原因"], [10, 12, 80])
        self.n_units = self.n_flags = self.n_bad = 0
        self.results: list[dict[str, Any]] = []  # what the 统计图 sheet counts (flags kept by code only)
        self.years: dict[Any, int] = {}
        self.regions: dict[str, int] = {}
        self.pending: dict[int, dict[str, Any]] = {}
        self.next = 0

    # columns whose width follows their longest entry (file and unit names: never clipped), up to a cap
    FIT = {"汇总": (0, 2, 15), "问题清单": (0, 1, 4), "无法读取": (0, 1)}
    MAX_WIDTH = 60

    def _sheet(self, name: str, cols: list[str], widths: list[int]):
        """A sheet that prints as a coordinator hands it on: A4 landscape, one page wide, the
        header row on every page and frozen, filters on."""
        ws = self.wb.add_worksheet(name)
        ws.widths = list(widths)  # grown as rows come in (``_put``); set when the file is closed
        ws.top = self.TITLE_ROWS.get(name, 0)  # the header row
        for c, h in enumerate(cols):
            ws.write_string(ws.top, c, h, self.head)
        if "\n" in "".join(cols):
            ws.set_row(ws.top, 30)
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(ws.top)
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
        ws.set_footer("&C第 &P 页，共 &N 页")
        return ws

    def _put(self, ws, r: int, c: int, v: Any, fmt=None) -> None:
        fmt = fmt or self.cell
        if c in self.FIT.get(ws.name, ()) and isinstance(v, str):
            need = min(self.MAX_WIDTH, sum(2 if ord(ch) > 0x2E7F else 1 for ch in v) + 2)
            if need > ws.widths[c]:
                ws.widths[c] = need
        if v is None or v == "":
            ws.write_blank(r, c, None, fmt)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            keep = fmt is self.money or fmt in self.pcts.values()
            ws.write_number(r, c, v, fmt if keep else self.num if isinstance(v, float) else fmt)
        else:
            ws.write_string(r, c, str(v), fmt)

    def add(self, index: int, result: Result) -> None:
        """Result ``index`` of the batch (any order); written once all before it have come."""
        self.pending[index] = typed(result)
        while self.next in self.pending:
            self._write(self.pending.pop(self.next))
            self.next += 1

    def _write(self, r: UnitResult) -> None:
        if r.status == STATUS_UNREADABLE:
            self.n_bad += 1
            self._put(self.unreadable_ws, self.n_bad, 0, r.name)
            self._put(self.unreadable_ws, self.n_bad, 1, r.file)
            self._put(self.unreadable_ws, self.n_bad, 2, r.reason, self.wrap)
            return
        self.n_units += 1
        self.results.append({"status": r.status, "grade": r.grade, "recomputed_total": r.recomputed_total,
                             "rate": r.rate, "flags": [{"code": f.code, "severity": f.severity} for f in r.flags]})
        region = region_name(r.profile, r.region_name)
        self.years[r.year] = self.years.get(r.year, 0) + 1
        self.regions[region] = self.regions.get(region, 0) + 1
        row = [r.name, r.unit_code, r.unit_name, r.year, region, r.budget, r.executed,
               r.rate, r.stated_total, r.recomputed_total, r.grade, r.count(ERROR), r.count(WARNING), r.count(INFO)]
        at = self.units.top + self.n_units
        for c, v in enumerate(row):
            pct = self.pcts.get(r.rate_places, self.pct)
            self._put(self.units, at, c, v, self.money if c in (5, 6) else pct if c == 7 else None)
        self.units.write_string(at, len(row), r.status, self.status_fmt.get(r.status, self.cell))
        self._put(self.units, at, len(row) + 1, report_cell(r))
        for f in r.flags:
            self.n_flags += 1
            row = [r.name, r.unit_name, f.code, SEVERITY_CN.get(f.severity, f.severity), f.location,
                   f.stated, f.expected, f.message]
            for c, v in enumerate(row):
                self._put(self.flags, self.n_flags, c, v, self.wrap if c == 7 else self.cell)
            # applications do not grow a wrapped row on opening: as many lines as the message needs
            width = sum(2 if ord(ch) > 0x2E7F else 1 for ch in f.message)
            lines = max(1, -(-width // (self.flags.widths[7] - 2)))
            if lines > 1:
                self.flags.set_row(self.n_flags, min(409, 14 * lines + 2))

    def close(self) -> None:
        """Write what is held (an interrupted batch leaves gaps), finish the file, rename it into place."""
        try:
            for i in sorted(self.pending):
                self._write(self.pending.pop(i))
            for ws, n, cols in ((self.units, self.n_units, self.SUMMARY_COLS), (self.flags, self.n_flags, self.FLAG_COLS),
                                (self.unreadable_ws, self.n_bad, ["文件", "路径", "原因"])):
                ws.freeze_panes(ws.top + 1, 0)
                ws.autofilter(ws.top, 0, ws.top + max(n, 1), len(cols) - 1)
                for c, wd in enumerate(ws.widths):
                    ws.set_column(c, c, wd)
            self._title()
            if not self.n_bad:  # nothing unreadable: the empty sheet stays in the file but prints no page
                self.unreadable_ws.hide()
            self._charts()
            self.wb.close()
            self.out.commit()
        except BaseException:
            self.out.abandon()
            raise

    def abandon(self) -> None:
        self.out.abandon()

    def _title(self) -> None:
        """汇总's title row: the year(s) and region(s) by the names the coordinator uses, and the counts."""
        years = "、".join(str(y) for y in sorted(self.years, key=str) if y is not None)
        regions = "、".join(self.regions)
        title = f"{years + '年度' if years else ''}部门整体支出绩效自评汇总表"
        tail = f"（{regions}，{self.n_units} 个单位" + (f"，另有 {self.n_bad} 个文件无法读取" if self.n_bad else "") + "）"
        self.units.merge_range(0, 0, 0, len(self.SUMMARY_COLS) - 1, title + tail, self.title_fmt)
        self.units.set_row(0, 28)

    def _charts(self) -> None:
        """统计图: each count as a small table and a bar chart over it (the workspace's dashboard,
        for the coordinator who forwards the file)."""
        from ..core.stats import campaign_stats

        ws = self.wb.add_worksheet("统计图")
        ws.set_column(0, 0, 28)  # "最常见的问题（错误和警告）" fits
        ws.set_column(1, 1, 8)
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)  # tables and charts one page wide, as many pages down as they need
        row, breaks = 0, []
        for title, items in campaign_stats(self.results):
            if row:
                breaks.append(row)  # each chart on its own printed page: none is cut at a page edge
            ws.write_string(row, 0, title, self.head)
            ws.write_string(row, 1, "单位数" if "问题" not in title else "次数", self.head)
            for i, (label, n) in enumerate(items or [("（无）", 0)]):
                ws.write_string(row + 1 + i, 0, str(label), self.cell)
                ws.write_number(row + 1 + i, 1, n, self.cell)
            n = max(len(items), 1)
            chart = self.wb.add_chart({"type": "bar"})
            chart.add_series({"categories": ["统计图", row + 1, 0, row + n, 0], "values": ["统计图", row + 1, 1, row + n, 1],
                              "fill": {"color": "#3B6EA5"}, "data_labels": {"value": True}})
            chart.set_title({"name": title, "name_font": {"name": "宋体", "size": 11}})
            chart.set_legend({"none": True})
            chart.set_y_axis({"reverse": True, "num_font": {"name": "宋体"}})
            top = max([v for _, v in items] or [1])
            chart.set_x_axis({"min": 0, "major_unit": max(1, -(-top // 5)), "num_format": "0"})  # counts: whole numbers
            chart.set_size({"width": 480, "height": max(200, 26 * n + 80)})
            ws.insert_chart(row, 3, chart)
            row += max(n + 2, (max(200, 26 * n + 80) // 20) + 2)
        ws.set_h_pagebreaks(breaks)


def region_name(region_id: Any, name: str | None = None) -> str:
    """A region as the coordinator says it (岳阳市 2023), not its id (yueyang-2023): the installed
    region's ``profile.name``; else ``name``, the name of the region the unit was checked by (a
    coordinator's own folder, given with ``-p`` or carried by the workbook); else its id. An id
    read from a workbook is only ever looked up among the installed regions, never as a path."""
    if not isinstance(region_id, str) or not region_id:
        return "" if region_id is None else str(region_id)
    installed = _region_names().get(region_id)
    if installed is not None:
        return installed
    return _short(name) if name else region_id


def _short(name: str) -> str:
    """"岳阳市 2023 年度部门整体支出绩效自评" → "岳阳市 2023": the column says which region and year."""
    m = re.match(r"^(.*?\d{4})\s*年度", name)
    return m[1].strip() if m and not re.search(r"[（(]", m[1]) else name


_NAMES: dict[str, str] | None = None


def _region_names() -> dict[str, str]:
    global _NAMES
    if _NAMES is None:
        from ..forms.regions import available_profiles, get_profile

        names = {}
        for pid in available_profiles():
            try:
                names[pid] = _short(get_profile(pid).profile.name)
            except Exception:  # noqa: BLE001 — a broken installed region keeps its id
                names[pid] = pid
        _NAMES = names
    return _NAMES


def write_xlsx(results: list[Result], path: Path) -> None:
    """汇总表.xlsx for results already gathered (in order)."""
    book = SummaryWorkbook(path)
    for i, r in enumerate(results):
        book.add(i, r)
    book.close()
