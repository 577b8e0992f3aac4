"""Read a returned workbook back through the same layout the writer used — safely.

Only input cells are data. Formula cells and their cached values are never trusted: they are
compared with the recompute, and a difference becomes a *stated* figure for the checker (a
constant typed over a formula, a stale file, or a workbook from another tool). The metadata
sheet says which profile, unit, year and project shape built the workbook, so the layout can
be compiled again; sheets are found by name, or by recorded position when a clerk renamed
them. Hostile files are refused by ``safety.open_checked`` before any XML is parsed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..forms.binding import project_name, unflatten
from ..core.flags import ERROR, INFO, WARNING, Flag, SheetCell
from ..forms.cells import (_REF, AREA, DATE, INT, LONGTEXT, META, MONEY, NUMERIC, PERCENT, RATE, SCORE, TEMPLATE_VERSION, TEXT,
                           WEIGHT, Layout, Shape, a1)
from ..forms import keys
from ..forms.layout import compile_layout
from ..core.model import CONTROL_CHARS, Department, strip_control
from ..core.numbers import DATE_MAX, DATE_MIN, fmt_date, iso_date, parse_date, parse_number, xl_text
from ..core.region import ProfileError, sources_from_rows
from ..forms.regions import embedded_profile, installed_profile, shipped_profile
from ..files.outputs import display_path
from .safety import UnsafeFile, open_checked
from ..forms.recompute import derive_values


EXCEL_ERRORS = {"#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#N/A", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                "#GETTING_DATA"}


ANNOTATION_SHEET = "校验结果"  # the sheet ``annotate`` puts first in the copy it sends back


class ReadError(ValueError):
    """A workbook that cannot be read at all; the message is for the user (Chinese)."""


@dataclass
class Workbook:
    """Everything read from one file: metadata, cell values and (when asked) formulas."""

    path: Path
    meta: dict[str, str]
    layout: Layout
    values: dict[str, dict[tuple[int, int], Any]]  # sheet name -> (row, col) -> value (cached for formulas)
    formulas: dict[str, dict[tuple[int, int], Any]] = field(default_factory=dict)
    sheet_map: dict[str, str] = field(default_factory=dict)  # layout sheet name -> workbook sheet name
    sheet_order: list[str] = field(default_factory=list)
    protected: dict[str, bool] = field(default_factory=dict)  # layout sheet name -> sheet protection on
    percent: dict[str, set] = field(default_factory=dict)  # layout sheet name -> cells shown as a percentage
    extra: dict[str, dict] = field(default_factory=dict)  # sheets that are not the form's, by name -> values
    shifted: dict[str, tuple[int, int]] = field(default_factory=dict)  # sheet -> (first moved row, rows moved)
    signature: str = ""  # xlsx.signing's verdict on the template's signature
    region_flags: list[Flag] = field(default_factory=list)  # whose rules judge it (judge_region)


@dataclass
class ReadResult:
    dept: Department
    flags: list[Flag]
    book: Workbook
    derived: dict[str, Any] = field(default_factory=dict)  # the recompute, for the workbook's project sheets


def _load(path: Path, data_only: bool):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, data_only=data_only, read_only=True)
    except ValueError as e:
        if "entit" in str(e).lower() or "forbidden" in str(e).lower():
            raise ReadError(f"{display_path(path.name)}：XML 中含有实体声明，拒绝读取（可能是恶意构造的文件）") from None
        raise ReadError(f"{display_path(path.name)}：无法作为 .xlsx 打开（{e}）") from None
    except Exception as e:  # openpyxl raises many types for damaged files
        raise ReadError(f"{display_path(path.name)}：无法作为 .xlsx 打开（{type(e).__name__}: {e}）") from None


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
    """The metadata of an openpyxl workbook (tests and annotate); the reader uses ``_meta_from``."""
    names = [META] if META in wb.sheetnames else list(wb.sheetnames)
    return meta_from_grids((_grid(wb[n]) for n in names), name)


def meta_from_grids(grids, name: str) -> dict[str, str]:
    """Find the sheet whose A1:B1 is marker | selfeval-xl and read its key/value rows."""
    for grid in grids:
        if grid.get((0, 0)) == "marker" and grid.get((0, 1)) == "selfeval-xl":
            meta: dict[str, str] = {}
            r = 0
            while (r, 0) in grid:
                meta[str(grid[(r, 0)])] = "" if grid.get((r, 1)) is None else str(grid[(r, 1)])
                r += 1
            return meta
    raise ReadError(f"{name}：找不到 selfeval-xl 元数据工作表，不是本工具生成的模板（或元数据已被删除）；请使用下发的模板填写")


def profile_from_meta(meta: dict[str, str], name: str):
    """The region the workbook carries (its own rules and forms, whatever is installed here);
    for workbooks made before regions travelled with them, the installed region of that id."""
    sources = sources_from_rows(meta)
    try:
        if sources:
            return embedded_profile(sources, f"（{name} 携带）")
        return shipped_profile(meta["profile"])  # an id from metadata is a name, never a path
    except (ProfileError, KeyError) as e:
        raise ReadError(f"{name}：元数据中的地区配置无法使用（{e}）") from None


def metadata_of(path: str | Path) -> dict[str, str]:
    """A workbook's metadata rows alone — the metadata sheet is parsed, the forms are not (a
    batch names each unit's report from them before its workers read the workbooks)."""
    from .ooxml import read_xlsx

    path = Path(path)
    sheets = None
    for wanted in ({META}, None):  # the metadata sheet by its name; renamed, found among all
        try:
            z = open_checked(path, scan_sheets=False)
        except UnsafeFile as e:
            raise ReadError(str(e)) from None
        except FileNotFoundError:
            raise ReadError(f"找不到文件 {path}") from None
        try:
            sheets = read_xlsx(z, wanted)
        except Exception as e:  # damaged XML inside a well-formed zip
            raise ReadError(f"{display_path(path.name)}：无法作为 .xlsx 读取（{type(e).__name__}: {e}）") from None
        if META in sheets:
            break
    return _meta_from(sheets, display_path(path.name))


def profile_from_workbook(path: str | Path):
    """The region a workbook carries, read from its metadata alone."""
    path = Path(path)
    return profile_from_meta(metadata_of(path), display_path(path.name))


MAX_PROJECT_SHEETS = 200  # more 附件3 sheets than any unit has: metadata that says so was tampered with


def layout_from_meta(meta: dict[str, str], name: str, profile=None) -> Layout:
    """The layout the metadata describes, for ``profile`` (default: the region it carries) —
    bounded: nothing the metadata says can make the reader build more than a real workbook has
    (30,000 project sheets once took 6.9 GB)."""
    profile = profile if profile is not None else profile_from_meta(meta, name)
    try:
        cats = json.loads(meta["project_categories"])
        if not isinstance(cats, list) or not all(c is None or isinstance(c, str) for c in cats):
            raise ValueError("project_categories 应为类别列表")
        year = int(meta["year"])
        shape = Shape(year=year, unit_code=meta["unit_code"], unit_name=meta["unit_name"],
                      competent_dept=meta.get("competent_dept", ""), project_categories=tuple(cats))
    except (KeyError, ValueError, TypeError) as e:
        raise ReadError(f"{name}：元数据不完整（{e}）") from None
    if len(cats) > MAX_PROJECT_SHEETS:
        raise ReadError(f"{name}：元数据中的{project_name(profile)}数 {len(cats)} 超出上限 {MAX_PROJECT_SHEETS}（元数据被改动过，"
                        f"或文件是恶意构造的）；请使用下发的模板")
    if not 2000 <= year <= 2100:
        raise ReadError(f"{name}：元数据中的年度 {meta['year']} 无效（应为 2000–2100）；元数据被改动过，请使用下发的模板")
    return compile_layout(profile, shape)


def judge_region(meta: dict[str, str], name: str, judge=None, keys=None):
    """Whose rules read and judge this workbook, how its signature verifies, and the flags that
    say so: ``(profile, signature, flags)``.

    The carried region is the unit's copy, and a unit can edit it. When the coordinator's region
    is known — ``judge`` (``check --profile``, the campaign's region) or a region of the carried
    id installed here — the workbook is read by that region's layout and judged by its rules; a
    carried copy that differs is an error saying what differs, unless the coordinator's own key
    signed it (a template the coordinator issued from an earlier version: a warning). Without a
    region of the coordinator, the carried one is used and the result says whether its
    signature could be verified.
    """
    from ..core.region_diff import region_changes
    from .signing import TAMPERED, UNSIGNED, UNVERIFIABLE, VERIFIED, known_keys, verify

    signature = verify(meta, known_keys(keys))
    try:
        carried = profile_from_meta(meta, name)
    except ReadError as e:
        # a copy that does not even load (a tolerance of 1,000,000, a formula bomb): with the
        # coordinator's region at hand the workbook is still read — by that region — and the
        # broken copy is an error; without one there is nothing to read it by
        own = judge if judge is not None else installed_profile(str(meta.get("profile", "")))
        if own is None:
            raise
        why = str(e).removeprefix(f"{name}：")
        return own, signature, [Flag("META-214", ERROR, "元数据",
                                     f"{name} 携带的地区配置无法使用（{why}），多为下发后被改动；"
                                     f"已按协调单位的配置 {own.id} 读取、计分和评定等次。", None, own.id)]
    flags: list[Flag] = []
    stated = meta.get("region_digest", "")
    if sources_from_rows(meta) and stated != carried.digest:
        flags.append(Flag("META-212", ERROR, "元数据",
                          f"{name} 元数据中的地区配置摘要与它携带的配置不符（元数据在下发后被改动过）。",
                          stated[:12], carried.digest[:12]))
    if signature == TAMPERED:
        flags.append(Flag("META-210", ERROR, "元数据",
                          f"模板被改动：{name} 的签名与它携带的地区配置或单位、年度信息不符（下发后被修改过）。"
                          f"请单位重新下载下发的模板填写，或核实后按协调单位的配置处理。", signature, VERIFIED))
    own = judge if judge is not None else installed_profile(carried.id)
    used = carried
    if own is not None and own.digest != carried.digest and own.id == carried.id:
        if signature == VERIFIED:
            flags.append(Flag("META-204", WARNING, "元数据",
                              f"{name} 由本机签发的较早版本的地区配置 {carried.id} 生成（签名有效，摘要 {carried.digest[:12]}），"
                              f"与现在的配置（摘要 {own.digest[:12]}）不同；已按工作簿的版本读取和校验。"
                              f"如果评分规则已改，请重新下发模板。", carried.digest[:12], own.digest[:12]))
        else:
            changes = region_changes(carried, own)
            why = {TAMPERED: "签名不符", UNVERIFIABLE: "不是本机签发的模板", UNSIGNED: "模板没有签名"}[signature]
            flags.append(Flag("META-213", ERROR, "元数据",
                              f"{name} 携带的地区配置与协调单位的 {own.id} 不同（{why}）：{'；'.join(changes)}。"
                              f"已按协调单位的配置读取、计分和评定等次，不采用工作簿携带的规则。",
                              carried.digest[:12], own.digest[:12]))
            used = own
    elif own is None and signature in (UNVERIFIABLE, UNSIGNED):
        flags.append(Flag("META-211", WARNING, "元数据",
                          f"{name} 使用的地区配置 {carried.id} 本机没有安装，模板签名{'无法验证（本机没有签发该模板的密钥）' if signature == UNVERIFIABLE else '缺失'}；"
                          f"已按工作簿携带的规则校验，其等次和得分未经核实。请用 --profile 指明本批次的地区配置。",
                          signature, VERIFIED))
    return used, signature, flags


def open_workbook(path: str | Path, with_formulas: bool = False, judge=None, keys=None) -> Workbook:
    """Preflight, then read every sheet once (``ooxml``): cached values and formulas together.

    ``judge`` is the coordinator's region (default: the installed region of the carried id) and
    ``keys`` the signing keys to verify with (default: this machine's) — ``judge_region``.
    ``with_formulas`` is kept for callers; formulas cost nothing extra with this reader.
    """
    from .ooxml import read_xlsx

    path = Path(path)
    try:
        z = open_checked(path)
    except UnsafeFile as e:
        raise ReadError(str(e)) from None
    try:
        sheets = read_xlsx(z)
    except Exception as e:  # damaged XML inside a well-formed zip
        raise ReadError(f"{display_path(path.name)}：无法作为 .xlsx 读取（{type(e).__name__}: {e}）") from None
    meta = _meta_from(sheets, display_path(path.name))
    used, signature, region_flags = judge_region(meta, display_path(path.name), judge, keys)
    layout = layout_from_meta(meta, display_path(path.name), used)
    try:
        recorded = json.loads(meta.get("sheets", "[]"))
    except ValueError:
        recorded = []
    order = list(sheets)
    values: dict[str, dict[tuple[int, int], Any]] = {}
    formulas: dict[str, dict[tuple[int, int], Any]] = {}
    sheet_map: dict[str, str] = {}
    layout_names = {s.name for s in layout.sheets}
    taken = {sh.name for sh in layout.sheets if sh.name in sheets}
    for sh in layout.sheets:
        actual = sh.name if sh.name in sheets else None
        if actual is None and sh.name in recorded:
            # renamed: the sheet at its recorded position, if that one is not another of ours
            # (deleted sheets shift the positions: the metadata sheet is never a form) and it
            # still looks like this form
            idx = recorded.index(sh.name)
            cand = order[idx] if idx < len(order) else None
            if cand and cand not in layout_names and cand != META and cand not in taken \
                    and _looks_like(sh, sheets[cand].values):
                actual = cand
                taken.add(cand)
        if actual is None:
            continue
        sheet_map[sh.name] = actual
        values[sh.name] = sheets[actual].values
        formulas[sh.name] = sheets[actual].formulas
    book = Workbook(path, meta, layout, values, formulas, sheet_map=sheet_map, sheet_order=order,
                    signature=signature, region_flags=region_flags)
    book.protected = {name: sheets[actual].protected for name, actual in sheet_map.items()}
    book.percent = {name: sheets[actual].percent for name, actual in sheet_map.items()}
    mapped = set(sheet_map.values())
    book.extra = {n: sheets[n].values for n in order
                  if n not in mapped and n not in (META, ANNOTATION_SHEET) and not _is_meta(sheets[n].values)}
    return book


def _is_meta(values: dict) -> bool:
    return values.get((0, 0)) == "marker" and values.get((0, 1)) == "selfeval-xl"


def _looks_like(sh, values: dict) -> bool:
    """Whether a sheet's labels are this form's (most of its first 40 label texts in place)."""
    labels = [c for c in sh.cells if c.kind == "label" and isinstance(c.text, str) and c.text.strip()][:40]
    if not labels:
        return True
    return sum(1 for c in labels if values.get((c.r, c.c)) == c.text) * 2 >= len(labels)


def _meta_from(sheets, name: str) -> dict[str, str]:
    candidates = [sheets[META]] if META in sheets else list(sheets.values())
    return meta_from_grids((data.values for data in candidates), name)


MAX_FIGURE = 1e12  # 万元, 人, ㎡: larger is not a figure of a budget unit (and 1e300 breaks rounding)


_TEXTS = (TEXT, LONGTEXT)
_PLAIN_NUMBERS = (MONEY, AREA, WEIGHT, SCORE)  # read as typed (not INT, PERCENT or RATE)


def _typed_inputs(book: Workbook) -> tuple[dict[str, Any], list[Flag], set[str]]:
    """Every input cell by key, read as the clerk meant it; what cannot be read becomes a flag
    naming the cell and what to type — never an exception, since one odd cell must not cost
    the coordinator the whole workbook. Also the keys of numbers that were stored as text
    (Excel's totals leave them out). Text the layout does not read (an un-merged input typed
    into its other half, notes beside the form) is found afterwards (``_stray_values``)."""
    out: dict[str, Any] = {}
    flags: list[Flag] = []
    textual: set[str] = set()
    empty: dict[tuple[int, int], Any] = {}
    for sh, cell in book.layout.inputs():
        rc = (cell.r, cell.c)
        shift = book.shifted.get(sh.name)
        if shift and cell.r >= shift[0]:
            out[cell.key] = None  # rows moved: what sits here is not this cell (LAYOUT-202 says so)
            continue
        v = book.values.get(sh.name, empty).get(rc)
        f = book.formulas.get(sh.name, empty).get(rc)
        if f is None:
            if v is None:
                out[cell.key] = None
                continue
            vtype = cell.vtype
            if type(v) is str:
                if vtype in _TEXTS and "\r" not in v and not CONTROL_CHARS.search(v):
                    out[cell.key] = v  # the common cases, as ``_typed_value`` reads them
                    continue
            elif (type(v) is float or type(v) is int) and vtype in _PLAIN_NUMBERS and 0 <= v < MAX_FIGURE \
                    and (vtype != MONEY or rc not in book.percent.get(sh.name, ())):
                out[cell.key] = float(v)
                continue
        out[cell.key], is_text = _typed_value(book, sh, cell, rc, v, f, flags)
        if is_text:
            textual.add(cell.key)
    flags += _stray_values(book, out, textual)
    return out, flags, textual


# what to type into a number cell, by its value type (the end of a message that refuses a value)
_WHAT_TO_TYPE = {MONEY: "请只填写数字（万元金额，如 103.86）", INT: "请只填写整数（如 18）",
                 AREA: "请只填写数字（面积，如 120.5）", WEIGHT: "请只填写数字（分值，如 5 或 2.5）",
                 SCORE: "请只填写数字（得分，如 4.5）", RATE: "请只填写数字（如 0.98）",
                 PERCENT: "请填写百分比（如 95%）"}


def _typed_value(book: Workbook, sh, cell, rc: tuple[int, int], v: Any, f: Any,
                 flags: list[Flag]) -> tuple[Any, bool]:
    """One input's value as the clerk meant it, found at ``rc`` (the cell's own position, or
    where an un-merged input's text now sits); flags appended. Returns (value, whether it is a
    number stored as text)."""
    if f is not None:
        v, flag = _typed_formula(sh, cell, f, v, rc)
        if flag:
            flags.append(flag)
    if v is None:
        return None, False
    vtype = cell.vtype
    if type(v) in (int, float) and vtype in NUMERIC and 0 <= v < MAX_FIGURE \
            and (vtype != INT or float(v).is_integer()):  # the common case: a typed number
        if vtype == PERCENT:
            return _as_percent(float(v), cell, _at(sh, *rc), flags, str(v)), False
        if vtype == MONEY and rc in book.percent.get(sh.name, ()):
            loc = _at(sh, *rc)
            flags.append(Flag("READ-108", WARNING, loc,
                              f"{loc} 被设成了百分比格式，显示为 {v * 100:g}%，按金额读作 {v:g} 万元。"
                              f"如填的是金额，请把单元格格式改回数字并核对数值。", v, None, cell.key))
        return (int(v) if vtype == INT else float(v)), False
    loc = _at(sh, *rc)
    if isinstance(v, str):
        v, removed = strip_control(v)
        if removed:
            flags.append(Flag("READ-110", INFO, loc, f"{loc} 中有看不见的控制字符（{removed}，多为从其他系统复制粘贴带入），"
                              f"Excel 无法保存它们，已删除后读取。", removed, v, cell.key))
        if "\r" in v:
            v = v.replace("\r\n", "\n").replace("\r", "\n")
    if vtype in (TEXT, LONGTEXT):
        return _as_text(v, rc in book.percent.get(sh.name, ())), False
    if vtype == DATE:
        return _as_date(v, cell, loc, flags), False
    return _as_number(v, cell, loc, flags)


def _as_text(v: Any, percent: bool) -> str:
    """A value in a text cell as the clerk sees it: a number shown as a percentage is that
    percentage (0.97 in a "0%" cell is what the clerk typed as 97%, and an indicator read as
    0.97 would be scored as 0.97 %), a date as a date, a whole number without ".0"."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, dt.datetime) and v.time() == dt.time(0):
        return f"{v.year}年{v.month}月{v.day}日"
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return f"{v.year}年{v.month}月{v.day}日"
    if isinstance(v, (int, float)) and math.isfinite(v):
        if percent:
            return xl_text(round(v * 100, 9)) + "%"
        return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else xl_text(v)
    return str(v)


def _as_number(v: Any, cell, loc: SheetCell, flags: list[Flag]) -> tuple[Any, bool]:
    """A value in a number cell that is not a plain typed number: text ("-5", "18.5", "1,000",
    "90万元"), a date, a boolean, an out-of-range or negative or fractional number. Text that is
    a number is that number, judged exactly as the number typed would be; anything else is
    blank with a flag saying what to type."""
    raw, from_text = v, isinstance(v, str)
    what = _WHAT_TO_TYPE.get(cell.vtype, "请只填写数字")
    if from_text or not isinstance(v, (int, float)) or isinstance(v, bool):
        p = parse_number(v, cell.vtype)
        if not p.ok:
            flags.append(Flag("READ-102", ERROR, loc, f"{loc} 的“{_short(raw)}”无法识别为数字，已按空白处理。{what}。",
                              str(raw), None, cell.key))
            return None, False
        if p.value is None:
            if p.note:
                flags.append(Flag("READ-101", INFO, loc, f"{loc}：{p.note}。", str(raw), None, cell.key))
            return None, False
        v = p.value
    as_typed = f"（以文本形式填写的“{_short(raw)}”）" if from_text else ""
    if not (math.isfinite(v) and abs(v) < MAX_FIGURE):
        flags.append(Flag("READ-109", ERROR, loc, f"{loc} 的数值 {v:g}{as_typed} 超出合理范围，已按空白处理。请核对。",
                          str(raw), None, cell.key))
        return None, False
    if v < 0:
        flags.append(Flag("READ-103", ERROR, loc, f"{loc} 为负数 {v:g}{as_typed}。金额、人数、分值不能为负，已按空白处理。"
                          f"{what}，不带负号。", raw, None, cell.key))
        return None, False
    if cell.vtype == PERCENT:
        # “95%” typed as text says its scale; a bare number is judged as the number typed would be
        explicit = from_text and str(raw).strip().translate(_PCT).endswith("%")
        v = _as_percent(float(v) / 100 if explicit else float(v), cell, loc, flags, str(raw))
        if v is None:
            return None, False
    elif cell.vtype == INT:
        if not float(v).is_integer():
            flags.append(Flag("READ-104", ERROR, loc, f"{loc} 的人数 {v:g}{as_typed}不是整数，已按空白处理。"
                              f"请填写整数人数。", raw, None, cell.key))
            return None, False
        v = int(v)
    else:
        v = float(v)
    if from_text:
        note = f"以文本形式存储的“{raw}”已按 {xl_text(round(v * 100, 9))}% 读取" if cell.vtype == PERCENT else p.note
        flags.append(Flag("READ-101", INFO, loc, f"{loc}：{note}。", str(raw), v, cell.key))
        return v, True
    return v, False


def _as_date(v: Any, cell, loc: SheetCell, flags: list[Flag]) -> str | None:
    """A value in a date cell, as the model keeps it (ISO text, 2024-03-05): a date or datetime
    (the cell as the template formats it), an Excel serial number (a date whose format was
    lost, pasted values), or text a clerk typed (2024/3/5, 2024年3月5日, 2024.3.5). What is no
    date is kept as the text written — never lost — and said (READ-115), as is a date outside
    the years the cell's validation allows."""
    if isinstance(v, str) and not v.strip():
        return None
    day = parse_date(v)
    if day is None:
        text = v.strip() if isinstance(v, str) else _as_text(v, False)
        flags.append(Flag("READ-115", WARNING, loc, f"{loc} 是日期格，填写的“{_short(text)}”无法识别为日期，已按所写文字保留。"
                          f"请填写日期，如 2024-3-5 或 2024年3月5日。", text, None, cell.key))
        return text
    if not DATE_MIN <= day <= DATE_MAX:
        shown = v.strip() if isinstance(v, str) else _as_text(v, False)
        flags.append(Flag("READ-115", WARNING, loc, f"{loc} 的“{_short(shown)}”读作 {fmt_date(day)}，不在 {DATE_MIN.year} 年至 "
                          f"{DATE_MAX.year} 年之间，已按此读取。请核对该日期。", shown, iso_date(day), cell.key))
    return iso_date(day)


_PCT = str.maketrans("％", "%")
PERCENT_MAX = 1.0  # 100 %: a percent input's upper bound (its data validation says the same)


def _as_percent(v: float, cell, loc: SheetCell, flags: list[Flag], raw: str) -> float | None:
    """A percent input holds a fraction (95 % is 0.95, as Excel stores it). A clerk's 95 or
    100 — typed where the cell's percent format was lost, pasted, or entered as text — is
    above 100 % as a fraction but within it as a number of per cent: read as that percentage,
    said as a warning. A value that fits neither reading (250, or 0.5 meant as 0.5 % cannot be
    told from 50 %, so a fraction within bounds is always the fraction) is blank, with an error."""
    if v <= PERCENT_MAX + 1e-12:
        return v
    if v / 100 <= PERCENT_MAX + 1e-12:
        flags.append(Flag("READ-113", WARNING, loc, f"{loc} 是百分比格，填的是 {v:g}，已按 {v:g}% 读取。"
                          f"请核对；在百分比格中直接输入 {v:g}% 即可。", raw, v / 100, cell.key))
        return v / 100
    flags.append(Flag("READ-114", ERROR, loc, f"{loc} 是百分比格，填的 {raw} 无论按小数还是按百分数都超过 100%，"
                      f"已按空白处理。请填写 0% 到 100% 之间的百分比，如 95%。", raw, None, cell.key))
    return None


def _short(v: Any, n: int = 40) -> str:
    s = str(v).replace("\n", " ")
    return s if len(s) <= n else s[:n] + "…"


# per sheet structure (its digest): the cells by position, and for every cell a merge covers
# (but the first) the position of the merge's first cell — where the layout reads, and does not
_COVERAGE: dict[str, tuple[dict, dict, tuple[int, int]]] = {}
MAX_STRAY_FLAGS = 10  # per sheet; more are counted in one flag (a pasted table is one cause)


def _coverage(sh) -> tuple[dict, dict, tuple[int, int]]:
    got = _COVERAGE.get(sh.digest())
    if got is None:
        anchors = {(c.r, c.c): c for c in sh.cells}
        covered: dict[tuple[int, int], tuple[int, int]] = {}
        for c in sh.cells:
            if c.merge:
                for r in range(c.r, c.merge[0] + 1):
                    for cc in range(c.c, c.merge[1] + 1):
                        covered.setdefault((r, cc), (c.r, c.c))
        for rc in anchors:
            covered.pop(rc, None)
        cols = sh.print_cols or 1 + max((c.merge[1] if c.merge else c.c) for c in sh.cells)
        if len(_COVERAGE) >= 256:
            _COVERAGE.pop(next(iter(_COVERAGE)))
        got = _COVERAGE[sh.digest()] = (anchors, covered, (sh.n_rows, cols))
    return got


def _stray_values(book: Workbook, out: dict[str, Any], textual: set[str]) -> list[Flag]:
    """Values in cells the layout does not read — never dropped in silence.

    A clerk who un-merges an input (附件2!B12:E12) and types into its other half (E12) left the
    input empty and the text where no one reads it: that text is read as the input's (a
    warning saying where it was found), or, when the input has its own content, an error
    naming where the unread text is. Anything else outside the cells the form reads (a note
    beside the form, a value typed into a blank cell inside it, text over a label's merged
    area) is a warning with its place: most are notes, but the coordinator must see any data."""
    flags: list[Flag] = []
    empty: dict[tuple[int, int], Any] = {}
    for sh in book.layout.sheets:
        vals = book.values.get(sh.name)
        if vals is None:
            continue
        forms = book.formulas.get(sh.name, empty)
        anchors, covered, (rows, cols) = _coverage(sh)
        shift = book.shifted.get(sh.name)
        outside = [rc for rc in vals if rc not in anchors] + [rc for rc in forms if rc not in anchors and rc not in vals]
        strays: list[tuple[int, int]] = sorted(rc for rc in outside if not (shift and rc[0] >= shift[0])
                                               and not _blank(vals.get(rc, forms.get(rc))))
        said, unsaid_errors = 0, 0
        for rc in strays:
            v, f = vals.get(rc), forms.get(rc)
            shown = _short(f if v is None else _as_text(v, rc in book.percent.get(sh.name, ())))
            loc = _at(sh, *rc)
            first = covered.get(rc)
            owner = anchors[first] if first else None
            if owner is not None and owner.kind == "input":
                span = f"{a1(*first)}:{a1(*owner.merge)}"
                home = f"{sh.name}!{a1(*first)}"
                if _blank(out.get(owner.key)):
                    own: list[Flag] = []
                    value, is_text = _typed_value(book, sh, owner, rc, v, f, own)
                    if not _blank(value):
                        out[owner.key] = value
                        if is_text:
                            textual.add(owner.key)
                        flags.append(Flag("READ-111", WARNING, loc,
                                          f"{home} 的合并单元格（{span}）被拆开，应填在 {home} 的内容“{shown}”填在了 {loc}；"
                                          f"已按 {home} 的内容读取。请把它移回 {home}，或恢复合并（选中 {span} 后合并）。",
                                          shown, home, owner.key))
                        flags += own
                        continue
                elif v is not None and _as_text(v, False).strip() == str(out.get(owner.key)).strip():
                    continue  # the same text in both halves (a copy): nothing is lost
                said += 1
                unsaid_errors += said > MAX_STRAY_FLAGS
                if said <= MAX_STRAY_FLAGS:
                    flags.append(Flag("READ-112", ERROR, loc,
                                      f"{loc} 中有内容“{shown}”，但它在 {home} 的合并区域（{span}，合并已被拆开）内，"
                                      f"本程序只读取 {home}，这段内容没有被读取。请把它移到 {home} 中，再恢复合并。",
                                      shown, home))
                continue
            said += 1
            if said > MAX_STRAY_FLAGS:
                continue
            where = "表格中不需要填写的位置" if rc[0] < rows and rc[1] < cols else "表格以外"
            flags.append(Flag("READ-112", WARNING, loc,
                              f"{loc} 中有内容“{shown}”，在{where}，没有被读取。如果是要填报的数据，请移到对应的填写格中；"
                              f"如果不是，请删除。", shown, None))
        if said > MAX_STRAY_FLAGS:
            flags.append(Flag("READ-112", ERROR if unsaid_errors else WARNING, sh.name,
                              f"{sh.name} 中另有 {said - MAX_STRAY_FLAGS} 处不在填写位置的内容没有被读取（只列出前 "
                              f"{MAX_STRAY_FLAGS} 处）。请把数据移到对应的填写格中，删除其余内容。", said, None))
    return flags


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


_CONSTANT = re.compile(r"^=[\d\s.+\-*/()%,]*$|^=\s*(SUM|ROUND|ABS|MIN|MAX)\([\d\s.+\-*/(),]*\)\s*$", re.I)


def _typed_formula(sh, cell, f: str, cached: Any, rc: tuple[int, int] | None = None) -> tuple[Any, Flag | None]:
    """An input cell holding a formula a clerk typed. A text cell keeps what was typed (Excel
    made a formula of text starting with "="); a number cell takes the formula's result — the
    cached one, or, where the file has none (written by a program, not saved by Excel), the
    formula evaluated when it is plain arithmetic (=50+53.86); anything else is said.
    ``rc``: where the formula sits, when not at the cell's own position (an un-merged input)."""
    loc = _at(sh, *(rc or (cell.r, cell.c)))
    f, _ = strip_control(str(f))
    if cell.vtype in (TEXT, LONGTEXT):
        text = cached if isinstance(cached, str) and cached else f
        return text, Flag("READ-107", INFO, loc, f"{loc} 的内容以“=”开头，表格软件把它当成了公式；已按所写文字“{f}”读取。",
                          f, text, cell.key)
    if cell.vtype == DATE and isinstance(cached, (dt.date, int, float)) and not isinstance(cached, bool) \
            and parse_date(cached) is not None:  # =TODAY(), =DATE(2024,3,5)
        return cached, Flag("READ-105", INFO, loc, f"{loc} 中是公式 {f}，已按其结果 {fmt_date(cached)} 读取；建议直接填写日期。",
                            f, iso_date(parse_date(cached)), cell.key)
    if isinstance(cached, (int, float)) and not isinstance(cached, bool):
        return cached, Flag("READ-105", INFO, loc, f"{loc} 中是公式 {f}，已按其结果 {cached:g} 读取；建议直接填写数字。",
                            f, cached, cell.key)
    if _CONSTANT.match(f):
        from ..forms.formula import FormulaError, XlError, evaluate

        try:
            value = evaluate({"x": f}, {})["x"]
        except (FormulaError, XlError, ZeroDivisionError, ValueError):
            value = None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value), Flag("READ-105", INFO, loc, f"{loc} 中是公式 {f}，已按其结果 {value:g} 读取；"
                                      f"建议直接填写数字。", f, value, cell.key)
    return None, Flag("READ-106", WARNING, loc, f"{loc} 中是公式 {f}，本程序无法得出它的值，已按空白处理。"
                      f"请直接填写数字。", f, None, cell.key)


_SHEET_QUOTE = re.compile(r"'((?:[^']|'')+)'!")
_STRING = re.compile(r'("(?:[^"]|"")*")')


def _norm_formula(f: str) -> str:
    """A formula as tokens, not as a string: Excel, WPS and LibreOffice rewrite formulas their
    own ways (='附件1'!F12 becomes =附件1!F12, spaces, $, case, _xlfn. prefixes)."""
    parts = _STRING.split(str(f))
    for i in range(0, len(parts), 2):  # outside string literals
        p = _SHEET_QUOTE.sub(lambda m: m.group(1).replace("''", "'") + "!", parts[i])
        parts[i] = re.sub(r"[\s$]", "", p).upper().replace("_XLFN.", "").replace("_XLWS.", "")
    return "".join(parts)


def _structure_flags(book: Workbook) -> list[Flag]:
    layout, name = book.layout, display_path(book.path.name)
    flags: list[Flag] = []
    meta = book.meta
    if meta.get("template_version") != TEMPLATE_VERSION:
        flags.append(Flag("META-201", WARNING, "元数据", f"{name} 由模板版本 {meta.get('template_version')} 生成，"
                          f"当前为 {TEMPLATE_VERSION}；版式可能不同，请核对或改用新模板。", meta.get("template_version"),
                          TEMPLATE_VERSION))
    if meta.get("fingerprint") != layout.fingerprint():
        flags.append(Flag("META-202", WARNING, "元数据", f"{name} 的版式指纹与本程序按同一配置生成的不同（模板由其他版本或其他配置生成）。",
                          meta.get("fingerprint"), layout.fingerprint()))
    code = meta.get("unit_code", "")
    if code and code not in display_path(book.path.stem):
        # a note, not a warning: matching a file to its unit never uses the name (the code in the
        # metadata does), so there is nothing the unit has to correct
        flags.append(Flag("META-203", INFO, "文件名", f"文件名“{name}”不含单位编码 {code}（元数据中的单位：{meta.get('unit_name')}）。"
                          f"按工作簿中记录的单位编码对应单位，不看文件名；如非有意，请确认文件没有交错单位。", name, code))
    if meta.get("profile") != layout.profile.id:
        flags.append(Flag("META-207", WARNING, "元数据", f"元数据中的地区名“{meta.get('profile')}”与工作簿携带的地区配置"
                          f"“{layout.profile.id}”不符（元数据被改动过）；已按携带的配置读取。", meta.get("profile"), layout.profile.id))
    flags += book.region_flags
    missing = [sh for sh in layout.sheets if sh.name not in book.sheet_map]
    # spare 附件3 sheets at the end (no project behind them) may go: a clerk who deletes them loses nothing
    present = [sh.project for sh in layout.sheets if sh.project is not None and sh.name in book.sheet_map]
    last = max(present, default=-1)
    cats = layout.shape.project_categories
    spares = [sh for sh in missing if sh.project is not None and sh.project > last and cats[sh.project] is None]
    if spares:
        names = "、".join(sh.name for sh in spares)
        flags.append(Flag("READ-204", INFO, spares[0].name,
                          f"备用的空白{project_name(layout.profile)}（{names}）已被删除；不影响校验。"))
    for sh in missing:
        if sh not in spares:
            flags.append(Flag("READ-201", ERROR, sh.name, f"缺少工作表“{sh.name}”（被删除或改名）。该表的数据无法读取。",
                              None, sh.name))
    for extra, vals in book.extra.items():
        copy_of = next((n for n in sorted(book.sheet_map.values(), key=len, reverse=True) if extra.startswith(n)), None)
        what = f"（像是“{copy_of}”的副本）" if copy_of else ""
        if vals:
            flags.append(Flag("READ-203", WARNING, extra,
                              f"工作簿中有模板以外的工作表“{extra}”{what}，其中的内容没有被读取。如果数据填在了这张表里，"
                              f"请移到原表“{copy_of or '对应的表'}”中，再删除这张表。", extra, copy_of))
        else:
            flags.append(Flag("READ-203", INFO, extra, f"工作簿中有模板以外的空白工作表“{extra}”{what}，已忽略。",
                              extra, copy_of))
    renamed = [(k, v) for k, v in book.sheet_map.items() if k != v]
    for k, v in renamed:
        flags.append(Flag("READ-202", INFO, v, f"工作表“{k}”被改名为“{v}”，已按位置读取。", v, k))
    if book.protected and not all(book.protected.values()):
        off = "、".join(k for k, v in book.protected.items() if not v)
        flags.append(Flag("META-301", INFO, name, f"工作表保护已被取消（{off}）；本程序不信任表内公式，会按录入数据全部重算。"))
    return flags


def _find_shifts(book: Workbook) -> list[Flag]:
    """Rows inserted or deleted inside a form: the labels below some row sit a fixed number of
    rows away from where the form has them. Said once, as the cause (LAYOUT-202), and the
    cells below are not read as data — instead of dozens of flags that follow from it."""
    flags = []
    for sh in book.layout.sheets:
        vals = book.values.get(sh.name)
        if not vals:
            continue
        labels = sh.labels_in_order()
        wrong = [c for c in labels if vals.get((c.r, c.c)) != c.text]
        if len(wrong) < 2:
            continue
        r0 = wrong[0].r
        below = [c for c in labels if c.r >= r0]
        best, hits = 0, 0
        for d in range(-20, 21):
            if d:
                n = sum(1 for c in below if vals.get((c.r + d, c.c)) == c.text)
                if n > hits:
                    best, hits = d, n
        if hits >= 2 and hits * 10 >= len(below) * 7:
            book.shifted[sh.name] = (r0, best)
            loc = _at(sh, r0, 0)
            how = f"插入了 {best} 行" if best > 0 else f"删除了 {-best} 行"
            flags.append(Flag("LAYOUT-202", ERROR, loc,
                              f"{sh.name} 第 {r0 + 1} 行附近{how}：此后的内容整体{'下移' if best > 0 else '上移'}了 "
                              f"{abs(best)} 行，无法按位置读取（该表此后的数据按空白处理，由此引起的其他问题不再逐条列出）。"
                              f"请在下发的模板中填写，不要插入或删除行；需要更多指标行时请联系下发单位。", best, 0))
    return flags


def _dependents(layout: Layout, keys: set[str]) -> set[str]:
    """Every derived cell whose value depends on any of ``keys``."""
    refs: dict[str, set[str]] = {}
    for sh in layout.sheets:
        for cell in sh.cells:
            if cell.formula and cell.key:
                for r in _REF.findall(cell.formula):
                    refs.setdefault(r, set()).add(cell.key)
    out: set[str] = set()
    todo = list(keys)
    while todo:
        for k in refs.get(todo.pop(), ()):
            if k not in out:
                out.add(k)
                todo.append(k)
    return out


def _formula_flags(book: Workbook, values: dict[str, Any], check_structure: bool = True,
                   textual: set[str] = frozenset()) -> tuple[dict[str, Any], list[Flag], dict[str, Any]]:
    """Compare formula cells with the layout and their cached values with the recompute.

    Returns (stated figures that differ from the recompute, flags, the recompute).
    """
    layout = book.layout
    derived = derive_values(values, layout)  # the sheet's own formulas over the cells as typed
    stated: dict[str, Any] = {}
    flags: list[Flag] = []
    label_changes = 0
    # totals over numbers stored as text: Excel leaves them out, so the cached total differs;
    # the cause is the input (said there), not the total the clerk cannot edit
    leaves_out = _dependents(layout, textual) if textual else set()
    for sh in layout.sheets:
        if sh.name not in book.values or sh.name in book.shifted:
            continue
        vals, forms = book.values[sh.name], book.formulas.get(sh.name, {})
        for cell in sh.cells_of(("label", "formula")):
            kind = cell.kind
            if kind == "label":
                if isinstance(cell.text, str) and cell.text and check_structure:
                    got = vals.get((cell.r, cell.c))
                    if got is not None and str(got) != cell.text and label_changes < 10:
                        label_changes += 1
                        loc = _at(sh, cell.r, cell.c)
                        flags.append(Flag("LAYOUT-201", WARNING, loc, f"{loc} 的表头“{cell.text}”被改为“{got}”。",
                                          got, cell.text))
                continue
            if cell.kind != "formula":
                continue
            cached = vals.get((cell.r, cell.c))
            if check_structure:
                f = forms.get((cell.r, cell.c), cached)
                if not (isinstance(f, str) and f.startswith("=")):
                    loc = _at(sh, cell.r, cell.c)
                    flags.append(Flag("FORMULA-101", ERROR, loc,
                                      f"{loc} 的公式被改成了固定值“{'空' if f is None else f}”。请使用原模板或恢复公式；本程序按录入数据重算。",
                                      f, None, cell.key))
                    cached = f
                elif f != "=<shared>" and f[1:] != layout.formula_of(sh, cell)[1:] \
                        and _norm_formula(f) != _norm_formula(layout.formula_of(sh, cell)):
                    loc = _at(sh, cell.r, cell.c)
                    flags.append(Flag("FORMULA-102", WARNING, loc, f"{loc} 的公式被修改；本程序不使用表内公式，按录入数据重算。",
                                      f, layout.formula_of(sh, cell), cell.key))
            want = derived.get(cell.key)
            if isinstance(cached, str) and cached in EXCEL_ERRORS:
                loc = _at(sh, cell.r, cell.c)  # (a place is made only for a flag: most cells raise none)
                flags.append(Flag("FORMULA-103", WARNING, loc, f"{loc} 显示错误值 {cached}。", cached, want, cell.key))
                continue
            if cell.key.root == keys.FOOTER:
                continue
            if cell.key in leaves_out:
                continue
            if isinstance(cached, (int, float)) and not isinstance(cached, bool):
                if not math.isfinite(cached):
                    continue
                if not (isinstance(want, (int, float)) and abs(cached - want) <= 1e-6 * max(1, abs(want))):
                    if not (want is None and cached == 0):
                        stated[cell.key] = float(cached)
            elif isinstance(cached, str) and cached and cached != (want or ""):
                stated[cell.key] = cached
    return stated, flags, derived


def read_workbook(path: str | Path, with_checks_of_structure: bool = True, judge=None, keys=None) -> ReadResult:
    """Read a returned workbook: inputs as a model, plus flags about how it was filled.

    Read and judged by the coordinator's region where one is known (``judge_region``).
    Without the checks of structure (``extract``), a workbook whose rows were moved is refused:
    its data cannot be read by position, and a JSON of labels as data would be worse than none.
    """
    book = open_workbook(path, with_formulas=with_checks_of_structure, judge=judge, keys=keys)
    shifts = _find_shifts(book)
    if shifts and not with_checks_of_structure:
        raise ReadError(f"{display_path(Path(path).name)}：" + "；".join(f.message for f in shifts))
    values, flags, textual = _typed_inputs(book)
    if textual:
        flags = [_left_out(f, book) if f.key in textual else f for f in flags]
    try:
        dept = unflatten(values, book.layout, book.meta)
    except ValueError as e:
        raise ReadError(f"{display_path(Path(path).name)}：数据无法解析（{_data_error(e, book.layout)}）") from None
    if with_checks_of_structure:
        flags = shifts + _structure_flags(book) + flags
    stated, fflags, derived = _formula_flags(book, values, with_checks_of_structure, textual)
    flags += fflags
    if stated:
        dept = dept.model_copy(update={"stated": stated})
    return ReadResult(dept, flags, book, derived)


# pydantic's error types in the coordinator's words (the model's own validators speak Chinese)
_DATA_ERRORS = {"missing": "缺失", "string_too_short": "不能为空", "string_type": "应为文字",
                "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
                "float_type": "应为数字", "float_parsing": "应为数字", "finite_number": "应为有限的数字",
                "greater_than_equal": "不能为负", "greater_than": "应大于 0", "less_than_equal": "超出范围",
                "extra_forbidden": "不是本表的项目"}


_META_NAMES = {"code": "单位编码", "name": "单位名称", "year": "年度", "profile": "地区配置"}


def _data_error(e: ValueError, layout: Layout) -> str:
    """Why what was read makes no filing, in Chinese and by cell. pydantic's own text is an
    English dump with a link; a coordinator must never see it (the reader normally prevents
    every such error — this is the last word when it does not)."""
    from pydantic import ValidationError

    if not isinstance(e, ValidationError):
        return str(e)
    parts = []
    for err in e.errors()[:5]:
        key = ".".join(str(x) for x in err["loc"])
        where = layout.location(key) if key in layout.where else \
            f"元数据中的{_META_NAMES[key]}" if key in _META_NAMES else key
        why = err["msg"].removeprefix("Value error, ") if err["type"] == "value_error" \
            else _DATA_ERRORS.get(err["type"], "取值无效")
        parts.append(f"{where}：{why}")
    more = len(e.errors()) - len(parts)
    return "；".join(parts) + (f"；另有 {more} 处" if more > 0 else "")


def _left_out(f: Flag, book: Workbook) -> Flag:
    """A number stored as text: read as the number, but Excel's totals leave it out — said at
    the input the clerk can fix, as a warning, not as a wrong total in a locked cell."""
    if f.code != "READ-101" or not isinstance(f.expected, (int, float)):
        return f  # another flag of the same cell (a control character removed) stays as it is
    return Flag("READ-101", WARNING, f.at,
                f"{f.location} 的“{f.stated}”是以文本形式存储的数字：本程序按 {f.expected:g} 读取，但 Excel/WPS 的合计"
                f"不计入它，表中的合计因此偏小。请删去其中的逗号、单位或空格，改为纯数字。", f.stated, f.expected, f.key)


def extract(path: str | Path) -> Department:
    """The inputs of a filled workbook as a ``Department`` (plus cached figures that disagree)."""
    return read_workbook(path, with_checks_of_structure=False).dept


def _at(sh, r: int, c: int) -> SheetCell:
    """A cell of a layout's sheet (0-based, as the layout counts) as a flag's typed place."""
    return SheetCell(sh.name, r + 1, c + 1)
