"""Write a unit's workbook by filling a skeleton: XlsxWriter once per structure, strings per unit.

Every unit of a batch with the same profile, year and project shape gets the same styles,
merges, validations, conditional formats, print setup, protection and defined names; only
the cells' contents, the row heights, the shared strings, the document title and the
metadata differ. So XlsxWriter (the reference writer, ``xlsx.reference``) draws one
*skeleton* per sheet structure (and the workbook-level parts once per list of sheets) —
every cell present with its style but no content — and each unit
is written by walking the same ``cell_writes`` the reference writer replays and serialising
them into the skeleton's rows. The rest of the package is copied as it is.

That replaces ~5,000 XlsxWriter cell objects and their XML writing per unit with one string
per cell. tests/test_stamp.py holds every part equal, byte for byte, to what XlsxWriter
writes for the same unit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from io import StringIO
from typing import Any

from xlsxwriter.core import Core
from xlsxwriter.sharedstrings import SharedStrings, SharedStringTable
from xlsxwriter.utility import _utf16_len, _utf16_truncate
from xlsxwriter.xmlwriter import XMLwriter

from . import text_escape  # noqa: F401  (shared strings always escaped)
from ..forms.cells import _REF, Layout, Shape, Sheet, a1
from ..forms.layout import compile_layout
from .plan import (
    BLANK, EXCEL_CELL_CHARS, FORMULA, MERGE, NUMBER, STRING, cell_writes, doc_properties, meta_for, sheet_print,
    unused_sheet,
)
from .reference import _strip_equals, print_titles, sheet_skeleton_xml, write_reference

_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!")
_ROW = re.compile(r'<row r="(\d+)"(?: spans="([^"]*)")?[^>]*?(/?)>')
_CELL = re.compile(r'<c r="([A-Z]+\d+)"(?: s="(\d+)")?')
_DEFAULT_PX = 20  # XlsxWriter's default row height in pixels (15 points)


@dataclass
class _Row:
    r: int  # 0-based
    spans: str | None
    cells: list[tuple[tuple[int, int], str]]  # ((row, col), '<c r="B5" s="7"')


@dataclass
class _SheetSkeleton:
    head: str  # up to and including <sheetData>
    tail: str  # from </sheetData>
    rows: list[_Row]


_escape = XMLwriter()._escape_data  # XlsxWriter's own escaping of cell data: same bytes by construction
_escape_attr = XMLwriter()._escape_attributes


def _row_tag(r: int, spans: str | None, height: float | None, empty: bool, hidden: bool = False,
             collapsed: bool = False) -> str:
    """A <row> start tag with its attributes in XlsxWriter's order (``Worksheet._write_row``)."""
    tag = f'<row r="{r + 1}"'
    if spans:
        tag += f' spans="{spans}"'
    custom = False
    if height is not None:
        px = int(height * 4.0 / 3.0 + 0.5)  # as XlsxWriter's set_row stores it
        if px != _DEFAULT_PX:
            tag += f' ht="{px * 0.75:.16g}"'
            custom = True
    if hidden:
        tag += ' hidden="1"'
    if custom:
        tag += ' customHeight="1"'
    if hidden:
        tag += ' outlineLevel="1"'
    if collapsed:
        tag += ' collapsed="1"'
    return tag + ("/>" if empty else ">")


def _parse_sheet(xml: str) -> _SheetSkeleton:
    i = xml.index("<sheetData>") + len("<sheetData>")
    j = xml.index("</sheetData>")
    rows: list[_Row] = []
    body = xml[i:j]
    pos = 0
    while True:
        m = _ROW.search(body, pos)
        if not m:
            break
        r = int(m.group(1)) - 1
        if m.group(3):  # <row .../>: attributes only
            rows.append(_Row(r, m.group(2), []))
            pos = m.end()
            continue
        end = body.index("</row>", m.end())
        cells = []
        for cm in _CELL.finditer(body, m.end(), end):
            ref, s = cm.group(1), cm.group(2)
            col = ref.rstrip("0123456789")
            n = 0
            for ch in col:
                n = n * 26 + ord(ch) - 64
            cells.append(((r, n - 1), f'<c r="{ref}"' + (f' s="{s}"' if s is not None else "")))
        rows.append(_Row(r, m.group(2), cells))
        pos = end + len("</row>")
    return _SheetSkeleton(xml[:i], xml[j:], rows)


# Skeletons are cached per worker: a sheet's by its structure (project sheets repeat across
# units; 附件1 varies only with the number of projects per category), the workbook-level parts
# (workbook.xml, styles, rels, app.xml, content types) by the list of sheets and print areas.
_SHEETS: dict[str, _SheetSkeleton] = {}
_BOOKS: dict[tuple, list[tuple[str, bytes | None]]] = {}
_KEYS: dict[int, tuple[Sheet, str]] = {}
_MAX_SHEETS, _MAX_BOOKS = 512, 64


def sheet_key(sh: Sheet, first: bool) -> str:
    """Everything that shapes a sheet's XML apart from cell contents and row heights.

    Cell positions, styles, merges and validation settings; column widths; rows with a set
    height; conditional formats (rendered against the sheet's own cells); print setup; and
    whether it is the selected first sheet. Keys, labels and formulas are contents.
    """
    base = sh.origin or sh
    hit = _KEYS.get(id(base))
    if hit is not None and hit[0] is base:
        key = hit[1]
    else:
        own = {k: cell for k, (_, cell) in base.index().items()}

        def local(m: re.Match) -> str:
            cell = own[m.group(1)]  # a conditional format refers to its own sheet only
            return a1(cell.r, cell.c)

        parts = [repr((base.widths, sorted(base.heights), base.print_cols, base.repeat_rows, base.landscape,
                       base.n_rows, base.header_row, bool(base.slot_groups)))]
        parts += [f"{c.r},{c.c},{c.kind},{c.style},{c.merge},{c.vtype},{c.prompt},{c.choices},{c.choices_strict}" for c in base.cells]
        parts += [f"{cf.first},{cf.last},{cf.style},{_REF.sub(local, cf.criteria)}" for cf in base.cond_formats]
        key = hashlib.sha256("\n".join(parts).encode()).hexdigest()
        if len(_KEYS) > 4 * _MAX_SHEETS:
            _KEYS.clear()
        _KEYS[id(base)] = (base, key)
    return key + ("|first" if first else "")


def _book_key(layout: Layout) -> tuple:
    return (layout.profile.id,) + tuple((sh.name, sh.n_rows, sh.print_cols, print_titles(sh)) for sh in layout.sheets)


def _blank(layout: Layout) -> Layout:
    return compile_layout(layout.profile, Shape(layout.shape.year, "", "", "", tuple(layout.shape.project_categories)))


def _meta_key(layout: Layout, rows: int | None = None) -> str:
    """The metadata sheet's skeleton depends on its number of rows, which follows the region's
    number of files (a region travels in its metadata): one skeleton per row count."""
    if rows is None:
        rows = len(meta_for(layout, dt.datetime(2000, 1, 1)))
    return f"meta:{rows}"


def _build_skeletons(layout: Layout) -> None:
    """Draw this layout with XlsxWriter, no contents, and keep its sheets (under the keys of
    their blank print plans) and workbook parts (no sheet hidden: that is the unit's)."""
    blank = _blank(layout)
    keys = [sheet_key(sh, i == 0) + sheet_print(sh, {})[2].key() for i, sh in enumerate(blank.sheets)]
    buf = io.BytesIO()
    write_reference(buf, blank, {}, {}, dt.datetime(2000, 1, 1), hide_unused=False)
    parts: list[tuple[str, bytes | None]] = []
    sheet_xml: dict[int, str] = {}
    with zipfile.ZipFile(buf) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet") and name.endswith(".xml"):
                sheet_xml[int(name[len("xl/worksheets/sheet"):-4]) - 1] = z.read(name).decode("utf-8")
                parts.append((name, None))
            elif name in ("xl/sharedStrings.xml", "docProps/core.xml"):
                parts.append((name, None))
            else:
                parts.append((name, z.read(name)))
    if len(sheet_xml) != len(layout.sheets) + 1:
        raise AssertionError(f"skeleton has {len(sheet_xml)} sheets, layout {len(layout.sheets) + 1}")
    if len(_BOOKS) > _MAX_BOOKS:
        _BOOKS.clear()
    for i, key in enumerate(keys):
        _keep_sheet(key, sheet_xml[i])
    _keep_sheet(_meta_key(layout), sheet_xml[len(layout.sheets)])
    _BOOKS[_book_key(layout)] = parts


def _keep_sheet(key: str, xml: str) -> None:
    if len(_SHEETS) > _MAX_SHEETS:
        _SHEETS.clear()
    _SHEETS[key] = _parse_sheet(xml)


class _Strings:
    """The shared-string table, indices assigned in write order as XlsxWriter assigns them."""

    def __init__(self) -> None:
        self.table = SharedStringTable()

    def index(self, s: str) -> int:
        if len(s) > EXCEL_CELL_CHARS // 2 and _utf16_len(s) > EXCEL_CELL_CHARS:  # as XlsxWriter's write_string
            s = _utf16_truncate(s, EXCEL_CELL_CHARS)
        return self.table._get_shared_string_index(s)

    def xml(self) -> str:
        self.table._sort_string_data()
        sst = SharedStrings()
        sst.string_table = self.table
        fh = StringIO()
        sst._set_xml_writer(fh)
        sst._assemble_xml_file()
        return fh.getvalue()


@lru_cache(maxsize=65536)
def _formula_xml(formula: str) -> str:
    """A formula as the sheet XML holds it (the same few thousand recur in every unit)."""
    return _escape(_strip_equals(formula))


def _contents(writes, strings: _Strings) -> dict[tuple[int, int], str]:
    """What follows each cell's '<c r=".." s=".."' for the cells that hold something."""
    out: dict[tuple[int, int], str] = {}
    for op, cell, payload, cached in writes:
        rc = (cell.r, cell.c)
        if op == STRING:
            out[rc] = f' t="s"><v>{strings.index(payload)}</v></c>'
        elif op == NUMBER:
            out[rc] = f"><v>{payload:.16G}</v></c>"
        elif op == FORMULA:
            value, t = cached, ""
            if isinstance(value, bool):
                t, value = ' t="b"', int(value)
            elif isinstance(value, str):
                if value in _ERRORS:
                    t = ' t="e"'
                elif value:
                    t = ' t="str"'
                value = _escape(value)
            out[rc] = f"{t}><f>{_formula_xml(payload)}</f><v>{value}</v></c>"
        elif op == BLANK or op == MERGE:
            out.pop(rc, None)
    return out


def _sheet_xml(sk: _SheetSkeleton, contents: dict[tuple[int, int], str], heights: dict[int, float],
               hidden: set[int] = frozenset()) -> str:
    out = [sk.head]
    get = contents.get
    for row in sk.rows:
        r = row.r
        out.append(_row_tag(r, row.spans, heights.get(r), not row.cells, r in hidden,
                            bool(hidden) and r - 1 in hidden and r not in hidden))
        if row.cells:
            for rc, prefix in row.cells:
                out.append(prefix)
                out.append(get(rc) or "/>")
            out.append("</row>")
    out.append(sk.tail)
    return "".join(out)


def _core_xml(layout: Layout, generated_at: dt.datetime) -> str:
    core = Core()
    core._set_properties(doc_properties(layout, generated_at))
    fh = StringIO()
    core._set_xml_writer(fh)
    core._assemble_xml_file()
    return fh.getvalue()


def render_parts(layout: Layout, values: dict[str, Any], derived: dict[str, Any],
                 generated_at: dt.datetime, key=None) -> list[tuple[str, bytes]]:
    """The workbook's parts, in XlsxWriter's order."""
    printed = [sheet_print(sh, values) for sh in layout.sheets]
    keys = [sheet_key(sh, i == 0) + pp[2].key() for i, (sh, pp) in enumerate(zip(layout.sheets, printed))]
    book = _BOOKS.get(_book_key(layout))
    meta = meta_for(layout, generated_at, key)
    if book is None or _meta_key(layout, len(meta)) not in _SHEETS:
        _build_skeletons(layout)
        book = _BOOKS[_book_key(layout)]
    for i, (sh, key, pp) in enumerate(zip(layout.sheets, keys, printed)):
        if key not in _SHEETS:  # e.g. 附件1 for a new mix of project categories, another print plan: draw that sheet
            _keep_sheet(key, sheet_skeleton_xml(_blank(layout), sh, i == 0, pp[2]))
    strings = _Strings()
    own: dict[str, str] = {}
    for i, (sh, key, (heights, hidden, _plan)) in enumerate(zip(layout.sheets, keys, printed)):
        contents = _contents(cell_writes(sh, layout, values, derived), strings)
        own[f"xl/worksheets/sheet{i + 1}.xml"] = _sheet_xml(_SHEETS[key], contents, heights, hidden)
    meta_contents = {}
    for r, (k, v) in enumerate(meta.items()):
        meta_contents[(r, 0)] = f' t="s"><v>{strings.index(k)}</v></c>'
        meta_contents[(r, 1)] = f' t="s"><v>{strings.index(v)}</v></c>'
    own[f"xl/worksheets/sheet{len(layout.sheets) + 1}.xml"] = _sheet_xml(_SHEETS[_meta_key(layout, len(meta))],
                                                                       meta_contents, {})
    own["xl/sharedStrings.xml"] = strings.xml()
    own["docProps/core.xml"] = _core_xml(layout, generated_at)
    unused = [(i, sh.name) for i, sh in enumerate(layout.sheets) if unused_sheet(sh, values)]
    parts = [(name, data if data is not None else own[name].encode("utf-8")) for name, data in book]
    if unused:  # spare project sheets are hidden, without print areas, as ``write_reference`` writes them
        parts = [(name, _hide_sheets(data, unused) if name == "xl/workbook.xml"
                  else _drop_named_ranges(data, [n for _, n in unused]) if name == "docProps/app.xml" else data)
                 for name, data in parts]
    return parts


def _drop_named_ranges(app_xml: bytes, sheets: list[str]) -> bytes:
    """docProps/app.xml lists every print area and print title: those of hidden sheets go."""
    xml = app_xml.decode("utf-8")
    n = 0
    for name in sheets:
        for q in (name, f"'{name}'"):
            for what in ("Print_Area", "Print_Titles"):
                entry = f"<vt:lpstr>{_escape(q)}!{what}</vt:lpstr>"
                if entry in xml:
                    xml = xml.replace(entry, "", 1)
                    n += 1
    if n:
        m = re.search(r"<vt:lpstr>Named Ranges</vt:lpstr></vt:variant><vt:variant><vt:i4>(\d+)</vt:i4>", xml)
        t = re.search(r'<TitlesOfParts><vt:vector size="(\d+)"', xml)
        if not m or not t or int(m.group(1)) <= n:
            raise AssertionError("app.xml: unexpected named ranges")
        xml = xml[:m.start(1)] + str(int(m.group(1)) - n) + xml[m.end(1):]
        t = re.search(r'<TitlesOfParts><vt:vector size="(\d+)"', xml)
        xml = xml[:t.start(1)] + str(int(t.group(1)) - n) + xml[t.end(1):]
    return xml.encode("utf-8")


def _hide_sheets(workbook_xml: bytes, sheets: list[tuple[int, str]]) -> bytes:
    """Hidden, and without print area or print titles (as ``write_reference`` draws them)."""
    xml = workbook_xml.decode("utf-8")
    for i, name in sheets:
        tag = f'<sheet name="{_escape_attr(name)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
        if tag not in xml:
            raise AssertionError(f"workbook.xml has no {tag}")
        xml = xml.replace(tag, tag.replace(' r:id=', ' state="hidden" r:id='))
        xml = re.sub(f'<definedName name="_xlnm\\.Print_(?:Area|Titles)" localSheetId="{i}">[^<]*</definedName>', "", xml)
    return xml.encode("utf-8")


def write_stamped(target, layout: Layout, values: dict[str, Any], derived: dict[str, Any],
                  generated_at: dt.datetime, key=None) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in render_parts(layout, values, derived, generated_at, key):
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


__all__ = ["write_stamped", "render_parts", "sheet_key"]
