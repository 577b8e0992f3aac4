"""A small, fast .xlsx cell reader: formulas and cached values in one pass per sheet.

openpyxl builds a full object model (styles, validations, ranges) and needs two loads to get
both a cell's formula and its cached value; the checker needs neither the model nor the
second load. This reader reads each worksheet once — a regular expression for sheets as
XlsxWriter and Excel write them, lxml for anything else — keeping per cell: the formula text
(if any) and the cached value typed as openpyxl would type it (number, string, bool, error
text, or datetime for date-formatted numbers).

Safety: ``safety.open_checked`` has already refused DOCTYPEs and oversized parts; lxml here
also resolves no entities and touches no network, and every pattern is linear in its input.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RNS = "http://schemas.openxmlformats.org/package/2006/relationships"
_C, _F, _V, _IS, _T, _SI, _R = (f"{{{NS}}}{t}" for t in ("c", "f", "v", "is", "t", "si", "r"))
_RPH = f"{{{NS}}}rPh"
_PROT = f"{{{NS}}}sheetProtection"
_INT = re.compile(r"-?\d+")
_CELL = re.compile(r"^([A-Z]+)(\d+)$")
_DATE_IDS = set(range(14, 23)) | {45, 46, 47}
_DATE_CHARS = re.compile(r"[ymdhs]", re.I)
EPOCH = dt.datetime(1899, 12, 30)


def _parser():
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


@dataclass
class SheetData:
    name: str
    state: str
    values: dict[tuple[int, int], Any] = field(default_factory=dict)
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    protected: bool = False
    percent: set[tuple[int, int]] = field(default_factory=set)  # numbers shown with a % format


# Strict Open XML (Excel's and LibreOffice's "Strict" save option) names the same elements in
# other namespaces; read as the transitional ones, they are the same file.
_STRICT = (
    (b"http://purl.oclc.org/ooxml/spreadsheetml/main", b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"),
    (b"http://purl.oclc.org/ooxml/officeDocument/relationships",
     b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"),
    (b"http://purl.oclc.org/ooxml/drawingml/main", b"http://schemas.openxmlformats.org/drawingml/2006/main"),
)


def _part(z: zipfile.ZipFile, name: str, strict: bool) -> bytes:
    raw = z.read(name)
    if strict:
        for a, b in _STRICT:
            raw = raw.replace(a, b)
    return raw


# Excel writes characters XML cannot hold (carriage returns in some places, control
# characters) as _xHHHH_, and a literal "_x" as _x005F_x; a reader must turn them back.
_XESC = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_ooxml(text: str) -> str:
    return _XESC.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _text_of(si) -> str:
    """Text of a shared/inline string: all <t> except phonetic runs."""
    parts = []
    for el in si.iter(_T):
        parent = el.getparent()
        if parent is not None and parent.tag == _RPH:
            continue
        parts.append(el.text or "")
    return "".join(parts)


def _si_text(si) -> str:
    if len(si) == 1 and si[0].tag == _T:  # plain text: one <t>
        return unescape_ooxml(si[0].text or "")
    return unescape_ooxml(_text_of(si))  # rich text runs, phonetic hints


class _StringsOnDemand:
    """The shared strings as a list whose items are decoded when asked for: reading the metadata
    sheet alone (a batch names its reports from it) needs a few dozen of a workbook's thousands."""

    def __init__(self, sst) -> None:
        # <sst> holds its <si> first (only an <extLst> may follow): the i-th child is the i-th string
        self._sst = sst
        self._n = len(sst)
        if self._n and sst[self._n - 1].tag != _SI:  # an extension after them: counted out
            self._n = sum(1 for el in sst if el.tag == _SI)
        self._decoded: dict[int, str] = {}

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: int) -> str:
        if not 0 <= i < self._n:
            raise IndexError(i)
        text = self._decoded.get(i)
        if text is None:
            text = self._decoded[i] = _si_text(self._sst[i])
        return text


def _xml(z: zipfile.ZipFile, name: str, strict: bool = False):
    return etree.fromstring(_part(z, name, strict), _parser())


_STYLES: dict[bytes, tuple[set[int], set[int]]] = {}
_PERCENT_IDS = {9, 10}


def _styles(z: zipfile.ZipFile, strict: bool = False) -> tuple[set[int], set[int]]:
    """Indices of cell formats that show dates, and of those that show percentages (cached by
    the styles part: a batch shares one)."""
    if "xl/styles.xml" not in z.namelist():
        return set(), set()
    raw = _part(z, "xl/styles.xml", strict)
    hit = _STYLES.get(raw)
    if hit is None:
        if len(_STYLES) > 64:
            _STYLES.clear()
        hit = _STYLES[raw] = _parse_styles(etree.fromstring(raw, _parser()))
    return hit


def _parse_styles(root) -> tuple[set[int], set[int]]:
    dates, percents = {}, {}
    for nf in root.iter(f"{{{NS}}}numFmt"):
        if len(nf.get("formatCode", "")) > 255:  # Excel's limit; longer is not a real format (and slow to scan)
            continue
        code = re.sub(r'"[^"]*"|\[[^\]]*\]', "", nf.get("formatCode", ""))
        fid = int(nf.get("numFmtId"))
        dates[fid] = bool(_DATE_CHARS.search(code)) and "0" not in code.split(";")[0][:1]
        percents[fid] = "%" in code.split(";")[0]
    date_xfs, percent_xfs = set(), set()
    xfs = root.find(f"{{{NS}}}cellXfs")
    if xfs is not None:
        for i, xf in enumerate(xfs.findall(f"{{{NS}}}xf")):
            fid = int(xf.get("numFmtId", "0"))
            if fid in _DATE_IDS or dates.get(fid, False):
                date_xfs.add(i)
            if fid in _PERCENT_IDS or percents.get(fid, False):
                percent_xfs.add(i)
    return date_xfs, percent_xfs


def read_xlsx(path: "str | Path | zipfile.ZipFile", wanted: set[str] | None = None) -> dict[str, SheetData]:
    """Sheets by name (in workbook order); only ``wanted`` sheets are parsed when given.

    ``path`` may be a zip already opened (and checked) by ``safety.open_checked``; it is closed here.
    """
    with (path if isinstance(path, zipfile.ZipFile) else zipfile.ZipFile(path)) as z:
        names = set(z.namelist())
        strict = _STRICT[0][0] in z.read("xl/workbook.xml")[:4000]
        wb = _xml(z, "xl/workbook.xml", strict)
        rels = _xml(z, "xl/_rels/workbook.xml.rels", strict)
        targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{{{PKG_RNS}}}Relationship")}
        strings: list[str] | _StringsOnDemand = []
        if "xl/sharedStrings.xml" in names:
            sst = etree.fromstring(_part(z, "xl/sharedStrings.xml", strict), _parser())
            if wanted is not None:  # a sheet or two (the metadata): decode only the strings they use
                strings = _StringsOnDemand(sst)
            else:
                strings = [_si_text(si) for si in sst.iter(_SI)]
        dates, percents = _styles(z, strict)
        out: dict[str, SheetData] = {}
        for sh in wb.iter(f"{{{NS}}}sheet"):
            name = sh.get("name")
            data = SheetData(name, sh.get("state", "visible"))
            out[name] = data
            if wanted is not None and name not in wanted:
                continue
            target = targets.get(sh.get(f"{{{RNS}}}id"), "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            if part not in names:
                continue
            _read_sheet(z, part, data, strings, dates, strict, percents)
        return out


# A self-closing <c .../> is a styled blank (most cells of a template: merged areas, empty
# inputs). Removing them before parsing halves lxml's work; the pattern only matches when the
# first ">" after "<c " closes an empty element, so a cell with content is never touched.
# Bounded: with "[^>]*" a part full of "<c " and no ">" took quadratic time (a hostile file
# could stall a worker for hours); real cells carry a few short attributes.
_BLANK_CELL = re.compile(rb"<c [^>]{0,256}/>")
_REFS: dict[str, tuple[int, int]] = {}


def _rc(ref: str) -> tuple[int, int] | None:
    rc = _REFS.get(ref)
    if rc is None:
        m = _CELL.match(ref)
        if not m:
            return None
        rc = (int(m.group(2)) - 1, _col(m.group(1)))
        if len(_REFS) < 100_000:
            _REFS[ref] = rc
    return rc


def _read_sheet(z, part, data: SheetData, strings: list[str], dates: set[int], strict: bool = False,
                percents: set[int] = frozenset()) -> None:
    # safety.open_checked has capped part sizes, so whole-part reads are safe
    xml = _BLANK_CELL.sub(b"", _part(z, part, strict))
    if not _read_sheet_fast(xml, data, strings, dates, percents):
        _read_sheet_lxml(xml, data, strings, dates, percents)


# The fast path: a sheet as XlsxWriter and Excel write it — <c r s t> with at most <f> and <v>,
# no comments, CDATA or carriage returns — is read with one regular expression in C. Every
# byte of <sheetData> must be accounted for (cells, row tags, whitespace), otherwise the sheet
# goes to lxml; so an unusual writer is read correctly, only more slowly.
_FAST_CELL = re.compile(r'<c r="([A-Z]{1,3}[0-9]{1,7})"(?: s="([0-9]{1,6})")?(?: t="([a-zA-Z]{1,9})")?>'
                        r"(?:<f>([^<]*)</f>)?(?:<v>([^<]*)</v>)?</c>")
_FAST_REST = re.compile(r"(?:<row [^<>]*>|</row>|\s)*")
_FAST_PROT = re.compile(r'<sheetProtection\b[^>]{0,2000}?\ssheet="(?:1|true)"')
_ENTITY = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


class _NotSimple(Exception):
    pass


def _entity(m: re.Match) -> str:
    if m.group(1):
        return _NAMED[m.group(1)]
    code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise _NotSimple
    return chr(code)


@lru_cache(maxsize=65536)  # formulas repeat across the workbooks of a batch
def _unescape_refs(text: str) -> str:
    out, n = _ENTITY.subn(_entity, text)
    if n != text.count("&"):  # an entity lxml would refuse: let lxml refuse it
        raise _NotSimple
    return out


def _unescape(text: str) -> str:
    return _unescape_refs(text) if "&" in text else text


def _read_sheet_fast(raw: bytes, data: SheetData, strings: list[str], dates: set[int],
                     percents: set[int] = frozenset()) -> bool:
    try:
        xml = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if "<!" in xml or "\r" in xml:
        return False
    i, j = xml.find("<sheetData>"), xml.find("</sheetData>")
    if i < 0 or j < i or xml.find("<sheetData", i + 1) >= 0 or xml.find("</sheetData>", j + 1) >= 0:
        return False
    body = xml[i + len("<sheetData>"):j]
    if not _FAST_REST.fullmatch(_FAST_CELL.sub("", body)):
        return False
    formulas: dict[tuple[int, int], str] = {}
    values: dict[tuple[int, int], Any] = {}
    try:
        for ref, st, t, f, v in _FAST_CELL.findall(body):
            rc = _rc(ref)
            if f:
                formulas[rc] = "=" + _unescape(f)
            if v:
                if t == "s" and v.isdigit():  # most cells: a shared string, or a number (below)
                    k = int(v)
                    value = strings[k] if k < len(strings) else None
                else:
                    value = _cell_value(t or "n", _unescape(v), st or None, strings, dates)
                if value is not None and value != "":
                    values[rc] = value
                    if not t and st and percents and int(st) in percents:
                        data.percent.add(rc)
    except _NotSimple:
        return False
    data.formulas.update(formulas)
    data.values.update(values)
    data.protected = _FAST_PROT.search(xml, j) is not None
    return True


def _cell_value(t: str, raw: str, style: str | None, strings: list[str], dates: set[int]) -> Any:
    """A cached value typed as openpyxl types it: shared string, text, bool, number or date."""
    if t == "s":
        return strings[int(raw)] if raw.isdigit() and int(raw) < len(strings) else None
    if t in ("str", "inlineStr"):
        return unescape_ooxml(raw)
    if t == "e":
        return raw
    if t == "b":
        return raw in ("1", "true")
    try:
        value: Any = int(raw) if _INT.fullmatch(raw) else float(raw)
    except ValueError:
        return raw
    if dates and style is not None and style.isdigit() and int(style) in dates:
        value = EPOCH + dt.timedelta(days=float(value))
    return value


def _read_sheet_lxml(xml: bytes, data: SheetData, strings: list[str], dates: set[int],
                     percents: set[int] = frozenset()) -> None:
    root = etree.fromstring(xml, _parser())
    prot = root.find(_PROT)
    data.protected = prot is not None and prot.get("sheet") in ("1", "true")
    formulas, values = data.formulas, data.values
    for el in root.iter(_C):
        rc = _rc(el.get("r", ""))
        if rc is None:
            continue
        f_el = v_el = is_el = None
        for child in el:
            tag = child.tag
            if tag == _V:
                v_el = child
            elif tag == _F:
                f_el = child
            elif tag == _IS:
                is_el = child
        if f_el is not None:
            formulas[rc] = "=" + f_el.text if f_el.text else "=<shared>"
        t = el.get("t", "n")
        value: Any = None
        if t == "inlineStr":
            value = unescape_ooxml(_text_of(is_el)) if is_el is not None else None
        elif v_el is not None and v_el.text is not None:
            value = _cell_value(t, v_el.text, el.get("s"), strings, dates)
            if t == "n" and percents and (el.get("s") or "").isdigit() and int(el.get("s")) in percents:
                data.percent.add(rc)
        if value is not None and value != "":
            values[rc] = value
