"""A small, fast .xlsx cell reader: formulas and cached values in one pass per sheet.

openpyxl builds a full object model (styles, validations, ranges) and needs two loads to get
both a cell's formula and its cached value; the checker needs neither the model nor the
second load. This reader opens the zip once and streams each worksheet with lxml, keeping
per cell: the formula text (if any) and the cached value typed as openpyxl would type it
(number, string, bool, error text, or datetime for date-formatted numbers).

Safety: ``safety.preflight`` has already refused DOCTYPEs and oversized parts; the parser
here also resolves no entities and touches no network.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
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


def _xml(z: zipfile.ZipFile, name: str):
    with z.open(name) as f:
        return etree.parse(f, _parser()).getroot()


def _date_styles(z: zipfile.ZipFile) -> set[int]:
    if "xl/styles.xml" not in z.namelist():
        return set()
    root = _xml(z, "xl/styles.xml")
    custom = {}
    for nf in root.iter(f"{{{NS}}}numFmt"):
        code = re.sub(r'"[^"]*"|\[[^\]]*\]', "", nf.get("formatCode", ""))
        custom[int(nf.get("numFmtId"))] = bool(_DATE_CHARS.search(code)) and "0" not in code.split(";")[0][:1]
    out = set()
    xfs = root.find(f"{{{NS}}}cellXfs")
    if xfs is not None:
        for i, xf in enumerate(xfs.findall(f"{{{NS}}}xf")):
            fid = int(xf.get("numFmtId", "0"))
            if fid in _DATE_IDS or custom.get(fid, False):
                out.add(i)
    return out


def read_xlsx(path: str | Path, wanted: set[str] | None = None) -> dict[str, SheetData]:
    """Sheets by name (in workbook order); only ``wanted`` sheets are parsed when given."""
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        wb = _xml(z, "xl/workbook.xml")
        rels = _xml(z, "xl/_rels/workbook.xml.rels")
        targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{{{PKG_RNS}}}Relationship")}
        strings: list[str] = []
        if "xl/sharedStrings.xml" in names:
            with z.open("xl/sharedStrings.xml") as f:
                for _, si in etree.iterparse(f, events=("end",), tag=_SI, resolve_entities=False, no_network=True):
                    strings.append(_text_of(si))
                    si.clear()
        dates = _date_styles(z)
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
            _read_sheet(z, part, data, strings, dates)
        return out




# A self-closing <c .../> is a styled blank (most cells of a template: merged areas, empty
# inputs). Removing them before parsing halves lxml's work; the pattern only matches when the
# first ">" after "<c " closes an empty element, so a cell with content is never touched.
_BLANK_CELL = re.compile(rb"<c [^>]*/>")
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


def _read_sheet(z, part, data: SheetData, strings: list[str], dates: set[int]) -> None:
    # one parse of the whole part is faster than iterparse here; preflight has capped part sizes
    root = etree.fromstring(_BLANK_CELL.sub(b"", z.read(part)), _parser())
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
            value = _text_of(is_el) if is_el is not None else None
        elif v_el is not None and v_el.text is not None:
            raw = v_el.text
            if t == "s":
                value = strings[int(raw)] if raw.isdigit() and int(raw) < len(strings) else None
            elif t in ("str", "e"):
                value = raw
            elif t == "b":
                value = raw in ("1", "true")
            else:
                try:
                    value = int(raw) if _INT.fullmatch(raw) else float(raw)
                except ValueError:
                    value = raw
                if dates:
                    st = el.get("s")
                    if st is not None and st.isdigit() and int(st) in dates and isinstance(value, (int, float)):
                        value = EPOCH + dt.timedelta(days=float(value))
        if value is not None and value != "":
            values[rc] = value
