"""Read a returned workbook back through the same layout the writer used — safely.

Only input cells are data. Formula cells and their cached values are never trusted: they are
compared with the recompute, and a difference becomes a *stated* figure for the checker (a
constant typed over a formula, a stale file, or a workbook from another tool). The metadata
sheet says which profile, unit, year and project shape built the workbook, so the layout can
be compiled again; sheets are found by name, or by recorded position when a clerk renamed
them. Hostile files are refused by ``safety.open_checked`` before any XML is parsed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..forms.binding import unflatten
from ..core.flags import ERROR, INFO, WARNING, Flag
from ..forms.cells import INT, LONGTEXT, META, NUMERIC, TEMPLATE_VERSION, TEXT, Layout, Shape, a1
from ..forms.layout import compile_layout
from ..core.model import Department
from ..core.numbers import parse_number
from ..core.region import ProfileError, sources_from_rows
from ..forms.regions import embedded_profile, get_profile, installed_profile
from ..outputs import display_path
from .safety import UnsafeFile, open_checked
from ..forms.recompute import derive_values


EXCEL_ERRORS = {"#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#N/A", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                "#GETTING_DATA"}


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
        return get_profile(meta["profile"])
    except (ProfileError, KeyError) as e:
        raise ReadError(f"{name}：元数据中的地区配置无法使用（{e}）") from None


def profile_from_workbook(path: str | Path):
    """The region a workbook carries, read from its metadata alone."""
    from .ooxml import read_xlsx

    path = Path(path)
    try:
        z = open_checked(path)
    except UnsafeFile as e:
        raise ReadError(str(e)) from None
    except FileNotFoundError:
        raise ReadError(f"找不到文件 {path}") from None
    try:
        sheets = read_xlsx(z)
    except Exception as e:  # damaged XML inside a well-formed zip
        raise ReadError(f"{display_path(path.name)}：无法作为 .xlsx 读取（{type(e).__name__}: {e}）") from None
    return profile_from_meta(_meta_from(sheets, display_path(path.name)), display_path(path.name))


def layout_from_meta(meta: dict[str, str], name: str) -> Layout:
    profile = profile_from_meta(meta, name)
    try:
        cats = tuple(json.loads(meta["project_categories"]))
        shape = Shape(year=int(meta["year"]), unit_code=meta["unit_code"], unit_name=meta["unit_name"],
                      competent_dept=meta.get("competent_dept", ""), project_categories=cats)
    except (KeyError, ValueError, TypeError) as e:
        raise ReadError(f"{name}：元数据不完整（{e}）") from None
    return compile_layout(profile, shape)


def open_workbook(path: str | Path, with_formulas: bool = False) -> Workbook:
    """Preflight, then read every sheet once (``ooxml``): cached values and formulas together.

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
    layout = layout_from_meta(meta, display_path(path.name))
    try:
        recorded = json.loads(meta.get("sheets", "[]"))
    except ValueError:
        recorded = []
    order = list(sheets)
    values: dict[str, dict[tuple[int, int], Any]] = {}
    formulas: dict[str, dict[tuple[int, int], Any]] = {}
    sheet_map: dict[str, str] = {}
    layout_names = [s.name for s in layout.sheets]
    for sh in layout.sheets:
        actual = sh.name if sh.name in sheets else None
        if actual is None and sh.name in recorded:
            idx = recorded.index(sh.name)
            if idx < len(order) and order[idx] not in layout_names:
                actual = order[idx]
        if actual is None:
            continue
        sheet_map[sh.name] = actual
        values[sh.name] = sheets[actual].values
        formulas[sh.name] = sheets[actual].formulas
    book = Workbook(path, meta, layout, values, formulas, sheet_map=sheet_map, sheet_order=order)
    book.protected = {name: sheets[actual].protected for name, actual in sheet_map.items()}
    return book


def _meta_from(sheets, name: str) -> dict[str, str]:
    candidates = [sheets[META]] if META in sheets else list(sheets.values())
    return meta_from_grids((data.values for data in candidates), name)


def _typed_inputs(book: Workbook) -> tuple[dict[str, Any], list[Flag]]:
    """Every input cell by key, numbers normalised; what cannot be read becomes a flag."""
    out: dict[str, Any] = {}
    flags: list[Flag] = []
    empty: dict[tuple[int, int], Any] = {}
    for sh, cell in book.layout.inputs():
        v = book.values.get(sh.name, empty).get((cell.r, cell.c))
        if v is None or (isinstance(v, str) and cell.vtype in (TEXT, LONGTEXT)):
            out[cell.key] = v
            continue
        if type(v) in (int, float) and v >= 0 and cell.vtype in NUMERIC:  # the common case: a typed number
            if cell.vtype != INT:
                out[cell.key] = float(v)
                continue
            if float(v).is_integer():
                out[cell.key] = int(v)
                continue
        loc = f"{sh.name}!{a1(cell.r, cell.c)}"
        if cell.vtype in (TEXT, LONGTEXT):
            if isinstance(v, float) and v.is_integer():
                v = str(int(v))
            elif not isinstance(v, str):
                v = str(v)
        elif cell.vtype in NUMERIC:
            p = parse_number(v, cell.vtype)
            if not p.ok:
                flags.append(Flag("READ-102", ERROR, loc, f"{loc} 的“{v}”无法识别为数字，已按空白处理。请只填写数字（万元金额如 103.86）。",
                                  str(v), None, cell.key))
                v = None
            else:
                if p.note:
                    flags.append(Flag("READ-101", INFO, loc, f"{loc}：{p.note}。", str(v), p.value, cell.key))
                v = p.value
                if v is not None and v < 0:
                    flags.append(Flag("READ-103", ERROR, loc, f"{loc} 为负数 {v:g}。金额、人数、分值不能为负，已按空白处理。",
                                      v, None, cell.key))
                    v = None
                if v is not None and cell.vtype == INT:
                    if float(v).is_integer():
                        v = int(v)
                    else:
                        flags.append(Flag("READ-104", ERROR, loc, f"{loc} 的人数 {v:g} 不是整数，已按空白处理。", v, None, cell.key))
                        v = None
        out[cell.key] = v
    return out, flags


def _norm_formula(f: str) -> str:
    return re.sub(r"[\s$]", "", str(f)).upper().replace("_XLFN.", "")


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
        flags.append(Flag("META-203", WARNING, "文件名", f"文件名“{name}”不含单位编码 {code}（元数据中的单位：{meta.get('unit_name')}）。"
                          f"请确认文件没有交错单位。", name, code))
    if meta.get("profile") != layout.profile.id:
        flags.append(Flag("META-207", WARNING, "元数据", f"元数据中的地区名“{meta.get('profile')}”与工作簿携带的地区配置"
                          f"“{layout.profile.id}”不符（元数据被改动过）；已按携带的配置读取。", meta.get("profile"), layout.profile.id))
    local = installed_profile(layout.profile.id)
    if local is not None and local.digest != layout.profile.digest:
        flags.append(Flag("META-204", WARNING, "元数据",
                          f"{name} 携带的地区配置 {layout.profile.id}（摘要 {layout.profile.digest[:12]}）与本机同名配置"
                          f"（摘要 {local.digest[:12]}）不同；已按工作簿携带的配置读取和校验。请确认下发的模板是否为最新版本。",
                          layout.profile.digest[:12], local.digest[:12]))
    missing = [sh.name for sh in layout.sheets if sh.name not in book.sheet_map]
    for m in missing:
        flags.append(Flag("READ-201", ERROR, m, f"缺少工作表“{m}”（被删除或改名）。该表的数据无法读取。", None, m))
    renamed = [(k, v) for k, v in book.sheet_map.items() if k != v]
    for k, v in renamed:
        flags.append(Flag("READ-202", INFO, v, f"工作表“{k}”被改名为“{v}”，已按位置读取。", v, k))
    if book.protected and not all(book.protected.values()):
        off = "、".join(k for k, v in book.protected.items() if not v)
        flags.append(Flag("META-301", INFO, name, f"工作表保护已被取消（{off}）；本程序不信任表内公式，会按录入数据全部重算。"))
    return flags


def _formula_flags(book: Workbook, values: dict[str, Any], check_structure: bool = True,
                   ) -> tuple[dict[str, Any], list[Flag], dict[str, Any]]:
    """Compare formula cells with the layout and their cached values with the recompute.

    Returns (stated figures that differ from the recompute, flags, the recompute).
    """
    layout = book.layout
    derived = derive_values(values, layout)  # the sheet's own formulas over the cells as typed
    stated: dict[str, Any] = {}
    flags: list[Flag] = []
    label_changes = 0
    for sh in layout.sheets:
        if sh.name not in book.values:
            continue
        vals, forms = book.values[sh.name], book.formulas.get(sh.name, {})
        for cell in sh.cells:
            kind = cell.kind
            if kind == "input" or kind == "hint":
                continue
            loc = f"{sh.name}!{a1(cell.r, cell.c)}"
            if kind == "label":
                if isinstance(cell.text, str) and cell.text and check_structure:
                    got = vals.get((cell.r, cell.c))
                    if got is not None and str(got) != cell.text and label_changes < 10:
                        label_changes += 1
                        flags.append(Flag("LAYOUT-201", WARNING, loc, f"{loc} 的表头“{cell.text}”被改为“{got}”。",
                                          got, cell.text))
                continue
            if cell.kind != "formula":
                continue
            cached = vals.get((cell.r, cell.c))
            if check_structure:
                f = forms.get((cell.r, cell.c), cached)
                if not (isinstance(f, str) and f.startswith("=")):
                    flags.append(Flag("FORMULA-101", ERROR, loc,
                                      f"{loc} 的公式被改成了固定值“{'空' if f is None else f}”。请使用原模板或恢复公式；本程序按录入数据重算。",
                                      f, None, cell.key))
                    cached = f
                elif f != "=<shared>" and f[1:] != layout.formula_of(sh, cell)[1:] \
                        and _norm_formula(f) != _norm_formula(layout.formula_of(sh, cell)):
                    flags.append(Flag("FORMULA-102", WARNING, loc, f"{loc} 的公式被修改；本程序不使用表内公式，按录入数据重算。",
                                      f, layout.formula_of(sh, cell), cell.key))
            want = derived.get(cell.key)
            if isinstance(cached, str) and cached in EXCEL_ERRORS:
                flags.append(Flag("FORMULA-103", WARNING, loc, f"{loc} 显示错误值 {cached}。", cached, want, cell.key))
                continue
            if cell.key.startswith("footer."):
                continue
            if isinstance(cached, (int, float)) and not isinstance(cached, bool):
                if not (isinstance(want, (int, float)) and abs(cached - want) <= 1e-6 * max(1, abs(want))):
                    if not (want is None and cached == 0):
                        stated[cell.key] = float(cached)
            elif isinstance(cached, str) and cached and cached != (want or ""):
                stated[cell.key] = cached
    return stated, flags, derived


def read_workbook(path: str | Path, with_checks_of_structure: bool = True) -> ReadResult:
    """Read a returned workbook: inputs as a model, plus flags about how it was filled."""
    book = open_workbook(path, with_formulas=with_checks_of_structure)
    values, flags = _typed_inputs(book)
    try:
        dept = unflatten(values, book.layout, book.meta)
    except ValueError as e:
        raise ReadError(f"{Path(path).name}：数据无法解析（{e}）") from None
    if with_checks_of_structure:
        flags = _structure_flags(book) + flags
    stated, fflags, derived = _formula_flags(book, values, with_checks_of_structure)
    flags += fflags
    if stated:
        dept = dept.model_copy(update={"stated": stated})
    return ReadResult(dept, flags, book, derived)


def extract(path: str | Path) -> Department:
    """The inputs of a filled workbook as a ``Department`` (plus cached figures that disagree)."""
    return read_workbook(path, with_checks_of_structure=False).dept


def location(book: Workbook, key: str) -> str:
    sh, cell = book.layout.where[key]
    return f"{sh.name}!{a1(cell.r, cell.c)}"
