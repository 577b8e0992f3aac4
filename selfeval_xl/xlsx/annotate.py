"""A copy of the clerk's workbook with every flag as a cell comment and a highlight.

Written at the XML level, as the stamp writer writes: the copy is the returned file's zip with
a ``xl/comments*.xml`` part and a ``xl/drawings/vmlDrawing*.vml`` part (and their relationships)
for each sheet that has a flag, the flagged cells restyled with a fill, and a first sheet
校验结果 listing every flag (errors first, each linked to its cell). Every other part is copied
byte for byte — its compressed bytes, not even re-deflated — so a copy costs about what reading
the file costs, and it can run in the check's worker beside the check itself.

The original file is never opened for writing: the copy is built in memory and written
atomically to a new path (``outputs.write_bytes_atomic``).
"""

from __future__ import annotations

import posixpath
import re
import struct
import zlib
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from ..core.flags import SheetCell, column_letters, location_of
from ..files.outputs import write_bytes_atomic
from .ooxml import NS, PKG_RNS, RNS, _parser
from .read import ANNOTATION_SHEET
from .summary import SEVERITY_CN

FILLS = {"error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7"}
_ORDER = ("error", "warning", "info")
_ADDR = re.compile(r"^([A-Z]+)(\d+)$")
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_SHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
REL_COMMENTS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments"
REL_VML = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"
CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
_M = f"{{{NS}}}"
_R_ID = f"{{{RNS}}}id"
# CT_Worksheet: the elements that come after <legacyDrawing>, in schema order
_AFTER_LEGACY = {f"{_M}{n}" for n in ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                                       "webPublishItems", "tableParts", "extLst")}
# XML 1.0 forbids most control characters; a clerk's text quoted in a message may hold them
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XESC_LITERAL = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def _text(s: str) -> str:
    """Text for an element: no character XML forbids, and a literal ``_x000D_`` kept literal
    (Excel reads ``_xHHHH_`` in text as an escaped character)."""
    return escape(_XESC_LITERAL.sub(r"_x005F_\1", _BAD_XML.sub("", s)))


def _as_seen(flag: dict[str, Any], formula: bool) -> str:
    """A flag's message as the clerk reads it in the copy. A formula cell is recalculated when
    the copy is opened (its cached figure is dropped and the workbook asks for a full
    recalculation), so it no longer shows the figure the returned file held: the comment says
    which figure that was, and that the cell now shows the recalculated one."""
    msg = flag["message"]
    if formula and flag.get("stated") is not None and "表中为" in msg:
        msg = msg.replace("表中为", "交回的文件中此格为", 1)
        msg += "（本副本打开时公式已重新计算，此格现在显示的是按录入数据算出的数。）"
    return msg


def errors_first(flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Errors, then warnings, then notes; the checker's order within each."""
    return sorted(flags, key=lambda f: _ORDER.index(f["severity"]) if f.get("severity") in _ORDER else 3)


def _renamed(src: Path) -> dict[str, str]:
    """The form's sheet names → the names in this file, when a clerk renamed a sheet: the flags
    name the form's sheet (附件2), the comments must land on the clerk's (附件2（已改）). The
    reader found the renamed sheet by position and content; ask it again."""
    from .read import ReadError, open_workbook

    try:
        return open_workbook(src).sheet_map
    except (ReadError, OSError):
        return {}


# -- the zip: parts copied as compressed bytes, changed parts deflated --------------------------

class _Zip:
    """The returned file's entries, readable by name, each copyable as its compressed bytes."""

    def __init__(self, raw: bytes) -> None:
        import io
        import zipfile

        self.raw = raw
        self.zf = zipfile.ZipFile(io.BytesIO(raw))
        self.infos = self.zf.infolist()
        self.names = [i.filename for i in self.infos]
        self.by_name = {i.filename: i for i in self.infos}

    def read(self, name: str) -> bytes:
        return self.zf.read(name)

    def raw_entry(self, name: str):
        """(method, crc, compressed bytes, size) of an entry as stored, or None when it cannot be
        copied as is (zip64, encrypted)."""
        i = self.by_name[name]
        if i.flag_bits & 0x1 or i.file_size >= 0xFFFFFFFF or i.compress_size >= 0xFFFFFFFF \
                or i.header_offset >= 0xFFFFFFFF or i.compress_type not in (0, 8):
            return None
        off = i.header_offset
        if self.raw[off:off + 4] != b"PK\x03\x04":
            return None
        n, m = struct.unpack("<HH", self.raw[off + 26:off + 30])
        start = off + 30 + n + m
        return i.compress_type, i.CRC, self.raw[start:start + i.compress_size], i.file_size


def _zip_bytes(entries: list[tuple[str, tuple[int, int, bytes, int]]]) -> bytes:
    """A zip of (name, (method, crc, data, size)) entries, fixed 1980 times, no data descriptors."""
    out, central = bytearray(), bytearray()
    for name, (method, crc, data, size) in entries:
        fname = name.encode("utf-8")
        flags = 0x800 if not name.isascii() else 0
        off = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0, 0x21, crc, len(data), size,
                           len(fname), 0) + fname + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, method, 0, 0x21, crc, len(data),
                               size, len(fname), 0, 0, 0, 0, 0, off) + fname
    cd_off = len(out)
    out += central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), cd_off, 0)
    return bytes(out)


def _deflated(data: bytes) -> tuple[int, int, bytes, int]:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return 8, zlib.crc32(data) & 0xFFFFFFFF, c.compress(data) + c.flush(), len(data)


def _resolve(base_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_part), target))


def _rels_of(part: str) -> str:
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


def _relative(from_part: str, to_part: str) -> str:
    return posixpath.relpath(to_part, posixpath.dirname(from_part))


def _free(names: set[str], pattern: str) -> str:
    k = 1
    while pattern.format(k) in names:
        k += 1
    names.add(pattern.format(k))
    return pattern.format(k)


def _new_rel(rels, rtype: str, target: str) -> str:
    taken = {r.get("Id") for r in rels}
    k = len(taken) + 1
    while f"rId{k}" in taken:
        k += 1
    etree.SubElement(rels, f"{{{PKG_RNS}}}Relationship", Id=f"rId{k}", Type=rtype, Target=target)
    return f"rId{k}"


def _xml_bytes(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


# -- styles ------------------------------------------------------------------------------------

class _Styles:
    """styles.xml with fills, fonts, borders and cell formats appended (existing indices kept)."""

    def __init__(self, xml: bytes) -> None:
        self.root = etree.fromstring(xml, _parser())
        self.fills = self._list("fills", after=("numFmts", "fonts"))
        self.fonts = self._list("fonts", after=("numFmts",))
        self.borders = self._list("borders", after=("numFmts", "fonts", "fills"))
        self.xfs = self._list("cellXfs", after=("numFmts", "fonts", "fills", "borders", "cellStyleXfs"))
        self.restyled: dict[tuple[int, str], int] = {}
        self.fill_ids: dict[str, int] = {}

    def _list(self, tag: str, after: tuple[str, ...]):
        el = self.root.find(f"{_M}{tag}")
        if el is None:
            el = etree.Element(f"{_M}{tag}")
            pos = 0
            for i, child in enumerate(self.root):
                if etree.QName(child).localname in after:
                    pos = i + 1
            self.root.insert(pos, el)
            if tag == "cellXfs":
                etree.SubElement(el, f"{_M}xf", numFmtId="0", fontId="0", fillId="0", borderId="0", xfId="0")
        return el

    def _add(self, parent, xml: str) -> int:
        parent.append(etree.fromstring(f'<x xmlns="{NS}">{xml}</x>', _parser())[0])
        parent.set("count", str(len(parent)))
        return len(parent) - 1

    def fill(self, severity_or_rgb: str) -> int:
        rgb = FILLS.get(severity_or_rgb, severity_or_rgb)
        if rgb not in self.fill_ids:
            self.fill_ids[rgb] = self._add(self.fills, f'<fill><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/>'
                                                       f'<bgColor indexed="64"/></patternFill></fill>')
        return self.fill_ids[rgb]

    def with_fill(self, xf_index: int, severity: str) -> int:
        """The cell format ``xf_index`` with the severity's fill: a new format, shared by every
        cell of that format and severity."""
        key = (xf_index, severity)
        if key not in self.restyled:
            xfs = list(self.xfs)
            base = xfs[xf_index] if 0 <= xf_index < len(xfs) else xfs[0]
            new = etree.fromstring(etree.tostring(base), _parser())
            new.set("fillId", str(self.fill(severity)))
            new.set("applyFill", "1")
            self.xfs.append(new)
            self.xfs.set("count", str(len(self.xfs)))
            self.restyled[key] = len(self.xfs) - 1
        return self.restyled[key]

    def xf(self, font: str | None = None, fill: str | None = None, border: bool = True, wrap: bool = False,
           bold: bool = False, link: bool = False, center: bool = False) -> int:
        """A cell format for the 校验结果 sheet."""
        color = '<color rgb="FF0563C1"/>' if link else ""
        font_id = self._add(self.fonts, f'<font>{"<b/>" if bold else ""}{"<u/>" if link else ""}<sz val="10"/>{color}'
                                        f'<name val="{font or "宋体"}"/><family val="3"/><charset val="134"/></font>')
        border_id = self._add(self.borders, '<border><left style="thin"><color auto="1"/></left><right style="thin">'
                                            '<color auto="1"/></right><top style="thin"><color auto="1"/></top>'
                                            '<bottom style="thin"><color auto="1"/></bottom><diagonal/></border>') \
            if border else 0
        fill_id = self.fill(fill) if fill else 0
        align = ('<alignment vertical="center" horizontal="center"' if center else '<alignment vertical="top"') \
            + (' wrapText="1"/>' if wrap else "/>")
        return self._add(self.xfs, f'<xf numFmtId="0" fontId="{font_id}" fillId="{fill_id}" borderId="{border_id}" '
                                   f'xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1">{align}</xf>')

    def bytes(self) -> bytes:
        return _xml_bytes(self.root)


# -- comments and their drawing ----------------------------------------------------------------

def _col_index(letters: str) -> int:
    """The 1-based column of a cell reference's letters, as the file's XML writes them."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _comments_xml(notes: list[tuple[str, str, str]]) -> bytes:
    """notes: (cell, author, text). One author list, one comment per cell."""
    authors = list(dict.fromkeys(a for _, a, _ in notes))
    body = "".join(
        f'<comment ref="{ref}" authorId="{authors.index(a)}"><text><r><rPr><sz val="9"/><color indexed="81"/>'
        f'<rFont val="宋体"/><family val="3"/><charset val="134"/></rPr><t xml:space="preserve">{_text(t)}</t></r></text>'
        f'</comment>' for ref, a, t in notes)
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments xmlns="{NS}"><authors>'
            + "".join(f"<author>{_text(a)}</author>" for a in authors)
            + f"</authors><commentList>{body}</commentList></comments>").encode("utf-8")


def _vml(refs: list[str], shape_base: int) -> bytes:
    """The legacy drawing Excel, WPS and LibreOffice draw comments from: one hidden note shape a cell."""
    shapes = []
    for k, ref in enumerate(refs):
        m = _ADDR.match(ref)
        col, row = _col_index(m[1]) - 1, int(m[2]) - 1  # the drawing counts from 0
        anchor = f"{col + 1}, 15, {max(row - 1, 0)}, 10, {col + 5}, 15, {max(row - 1, 0) + 9}, 4"
        shapes.append(
            f'<v:shape id="_x0000_s{shape_base + k}" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;'
            f'margin-top:1.5pt;width:270pt;height:120pt;z-index:{k + 1};visibility:hidden" fillcolor="#ffffe1" '
            f'o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
            f'<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left">'
            f'</div></v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f'<x:Anchor>{anchor}</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row>'
            f'<x:Column>{col}</x:Column></x:ClientData></v:shape>')
    return ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" '
            f'data="{shape_base // 1024}"/></o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" '
            'o:spt="202" path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/><v:path gradientshapeok="t" '
            'o:connecttype="rect"/></v:shapetype>' + "".join(shapes) + "</xml>").encode("utf-8")


# -- the sheets --------------------------------------------------------------------------------

def _merged_top_left(root) -> dict[tuple[int, int], tuple[int, int]]:
    """Every cell of a merge → the merge's top-left cell (the only one that holds a comment),
    as 1-based (row, column)."""
    out = {}
    mc = root.find(f"{_M}mergeCells")
    if mc is None:
        return out
    for m in mc:
        ref = m.get("ref", "")
        if ":" not in ref:
            continue
        a, b = ref.split(":", 1)
        ma, mb = _ADDR.match(a.replace("$", "")), _ADDR.match(b.replace("$", ""))
        if not (ma and mb):
            continue
        c0, c1, r0, r1 = _col_index(ma[1]), _col_index(mb[1]), int(ma[2]), int(mb[2])
        if (c1 - c0 + 1) * (r1 - r0 + 1) > 10000:
            continue
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                out[(r, c)] = (r0, c0)
    return out


def _cell(sheet_data, row: int, col: int):
    """The <c> element at 1-based (row, col), created (in order) when the file has none."""
    ref = f"{column_letters(col)}{row}"
    row_el = None
    for pos, r in enumerate(sheet_data):
        rn = r.get("r")
        if rn is None:
            return None  # rows without numbers: cannot place a cell safely
        if int(rn) == row:
            row_el = r
            break
        if int(rn) > row:
            row_el = etree.Element(f"{_M}row", r=str(row))
            sheet_data.insert(pos, row_el)
            break
    if row_el is None:
        row_el = etree.SubElement(sheet_data, f"{_M}row", r=str(row))
    for pos, c in enumerate(row_el):
        cr = c.get("r")
        if cr is None:
            return None
        if cr == ref:
            return c
        cm = _ADDR.match(cr)
        if cm and _col_index(cm[1]) > col:
            new = etree.Element(f"{_M}c", r=ref)
            row_el.insert(pos, new)
            return new
    return etree.SubElement(row_el, f"{_M}c", r=ref)


def _annotate_sheet(xml: bytes, part: str, cells: dict[tuple[int, int], list[dict[str, Any]]], styles: _Styles,
                    files: dict[str, bytes], zip_: _Zip, names: set[str], content_overrides: dict[str, str],
                    shape_base: int) -> bytes:
    root = etree.fromstring(xml, _parser())
    sheet_data = root.find(f"{_M}sheetData")
    merged = _merged_top_left(root)
    by_cell: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for rc, fs in cells.items():
        by_cell.setdefault(merged.get(rc, rc), []).extend(fs)
    notes: list[tuple[str, str, str]] = []
    for (row, col), fs in by_cell.items():
        fs = errors_first(fs)
        ref = f"{column_letters(col)}{row}"
        worst = fs[0]["severity"] if fs[0]["severity"] in FILLS else "info"
        c = _cell(sheet_data, row, col) if sheet_data is not None else None
        formula = c is not None and c.find(f"{_M}f") is not None
        if c is not None:
            c.set("s", str(styles.with_fill(int(c.get("s", "0")), worst)))
            if formula:  # recalculated on opening: the figure the clerk's file held is in the comment
                for v in c.findall(f"{_M}v"):
                    c.remove(v)
                c.attrib.pop("t", None)
        text = "\n".join(f"【{SEVERITY_CN.get(f['severity'], f['severity'])} {f['code']}】{_as_seen(f, formula)}"
                         for f in fs)
        notes.append((ref, "selfeval-xl", text[:30000]))

    # the sheet's relationships: an existing comments part is kept and added to
    rels_part = _rels_of(part)
    rels = etree.fromstring(files.get(rels_part) or zip_.read(rels_part), _parser()) if (
        rels_part in files or rels_part in zip_.by_name) else etree.Element(f"{{{PKG_RNS}}}Relationships", nsmap={None: PKG_RNS})
    old_comments = next((r for r in rels if r.get("Type") == REL_COMMENTS), None)
    if old_comments is not None:
        cpart = _resolve(part, old_comments.get("Target", ""))
        try:
            old = etree.fromstring(zip_.read(cpart), _parser())
            authors = [a.text or "" for a in old.iter(f"{_M}author")]
            ours = {ref for ref, _, _ in notes}
            kept = []
            for cm in old.iter(f"{_M}comment"):
                if cm.get("ref") in ours:
                    continue
                text = "".join(t.text or "" for t in cm.iter(f"{_M}t"))
                aid = int(cm.get("authorId", "0") or 0)
                kept.append((cm.get("ref"), authors[aid] if aid < len(authors) else "", text))
            notes = kept + notes
        except (KeyError, etree.XMLSyntaxError, ValueError):
            pass
    else:
        cpart = _free(names, "xl/comments{}.xml")
        _new_rel(rels, REL_COMMENTS, _relative(part, cpart))
    content_overrides["/" + cpart] = CT_COMMENTS
    files[cpart] = _comments_xml(notes)

    legacy = root.find(f"{_M}legacyDrawing")
    vml_rel = next((r for r in rels if legacy is not None and r.get("Id") == legacy.get(_R_ID)), None)
    if vml_rel is not None:
        vpart = _resolve(part, vml_rel.get("Target", ""))  # redrawn with every comment of the sheet
    else:
        vpart = _free(names, "xl/drawings/vmlDrawing{}.vml")
        rid = _new_rel(rels, REL_VML, _relative(part, vpart))
        if legacy is None:
            legacy = etree.Element(f"{_M}legacyDrawing")
            after = next((i for i, ch in enumerate(root) if ch.tag in _AFTER_LEGACY), None)
            root.insert(after if after is not None else len(root), legacy)
        legacy.set(_R_ID, rid)
    files[vpart] = _vml([ref for ref, _, _ in notes], shape_base)
    files[rels_part] = _xml_bytes(rels)
    _unselect(root)
    return _xml_bytes(root)


def _unselect(root) -> None:
    for sv in root.iter(f"{_M}sheetView"):
        sv.attrib.pop("tabSelected", None)


_TAB_SELECTED = re.compile(rb'(<sheetView\b[^>]*?)\s+tabSelected="(?:1|true)"')


def _width(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)


def _list_sheet(flags: list[dict[str, Any]], links: dict[int, str], styles: _Styles) -> bytes:
    """校验结果: every flag, errors first; A4 landscape one page wide, header row repeated and
    frozen, 说明 wrapped with rows as tall as their text, the 位置 of each flag a link to its cell."""
    head = styles.xf(bold=True, fill="F2F2F2", wrap=True, center=True)
    plain, wrap, link = styles.xf(), styles.xf(wrap=True), styles.xf(link=True)
    sev = {s: styles.xf(fill=FILLS[s], center=True) for s in FILLS}
    widths = (8, 12, 20, 96)
    rows = ['<row r="1" ht="18" customHeight="1">' + "".join(
        f'<c r="{c}1" s="{head}" t="inlineStr"><is><t>{t}</t></is></c>'
        for c, t in zip("ABCD", ("级别", "代码", "位置", "说明"))) + "</row>"]
    hyperlinks = []
    for i, f in enumerate(flags):
        r = i + 2
        loc = f.get("location") or ""
        lines = max(1, -(-_width(f["message"]) // (widths[3] - 2)))
        cells = [("A", SEVERITY_CN.get(f["severity"], f["severity"]), sev.get(f["severity"], plain)),
                 ("B", f["code"], plain), ("C", loc, link if i in links else plain), ("D", f["message"], wrap)]
        rows.append(f'<row r="{r}"' + (f' ht="{min(409, 14 * lines + 3)}" customHeight="1"' if lines > 1 else "") + ">"
                    + "".join(f'<c r="{c}{r}" s="{s}" t="inlineStr"><is><t xml:space="preserve">{_text(str(v))}</t></is></c>'
                              for c, v, s in cells) + "</row>")
        if i in links:
            hyperlinks.append(f'<hyperlink ref="C{r}" location={quoteattr(links[i])} display={quoteattr(loc)}/>')
    last = len(flags) + 1
    cols = "".join(f'<col min="{k}" max="{k}" width="{w}" customWidth="1"/>' for k, w in enumerate(widths, start=1))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS}" xmlns:r="{RNS}">'
            f'<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr><dimension ref="A1:D{last}"/>'
            f'<sheetViews><sheetView tabSelected="1" workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            f'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
            f'</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
            f'<sheetData>{"".join(rows)}</sheetData><autoFilter ref="A1:D{last}"/>'
            + (f'<hyperlinks>{"".join(hyperlinks)}</hyperlinks>' if hyperlinks else "")
            + '<printOptions horizontalCentered="1"/><pageMargins left="0.4" right="0.4" top="0.5" bottom="0.6" '
              'header="0.3" footer="0.3"/><pageSetup paperSize="9" orientation="landscape" fitToWidth="1" '
              'fitToHeight="0"/><headerFooter><oddFooter>&amp;C校验结果 第 &amp;P 页，共 &amp;N 页</oddFooter>'
              '</headerFooter></worksheet>').encode("utf-8")


def _sheet_ref(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def annotate(src: str | Path, flags: list[dict[str, Any]], dest: str | Path,
             sheet_map: dict[str, str] | None = None) -> Path:
    """Write the annotated copy of ``src`` to ``dest`` (never over ``src``)."""
    from .safety import open_checked

    src, dest = Path(src), Path(dest)
    if src.resolve() == dest.resolve():
        raise ValueError("批注副本不能覆盖原文件，请指定另一个输出路径")
    open_checked(src).close()  # the same gate as reading: size, entries, ratio, encryption
    data = build_copy(src.read_bytes(), flags, sheet_map, src)
    write_bytes_atomic(dest, data)
    return dest


def build_copy(raw: bytes, flags: list[dict[str, Any]], sheet_map: dict[str, str] | None = None,
               src: Path | None = None) -> bytes:
    """The annotated copy's bytes, from the returned file's bytes."""
    z = _Zip(raw)
    parser = _parser()
    wb_part = "xl/workbook.xml"
    for rel in etree.fromstring(z.read("_rels/.rels"), parser):
        if rel.get("Type", "").endswith("/officeDocument"):
            wb_part = _resolve("", rel.get("Target", wb_part))
    wb = etree.fromstring(z.read(wb_part), parser)
    wb_rels_part = _rels_of(wb_part)
    wb_rels = etree.fromstring(z.read(wb_rels_part), parser)
    targets = {r.get("Id"): _resolve(wb_part, r.get("Target", "")) for r in wb_rels}
    sheets_el = wb.find(f"{_M}sheets")
    sheet_els = list(sheets_el)
    part_of = {s.get("name"): targets.get(s.get(_R_ID)) for s in sheet_els}

    # a copy annotated before and sent back: its old 校验结果 goes, the new one replaces it
    old_index = next((i for i, s in enumerate(sheet_els) if s.get("name") == ANNOTATION_SHEET), None)
    dropped: set[str] = set()
    if old_index is not None:
        old = sheet_els[old_index]
        dropped.add(part_of.pop(ANNOTATION_SHEET) or "")
        for r in list(wb_rels):
            if r.get("Id") == old.get(_R_ID):
                wb_rels.remove(r)
        sheets_el.remove(old)
        sheet_els.pop(old_index)

    ordered = errors_first(flags)
    # each flag's typed place (the sheet as the layout names it), never its shown text
    cells = [(i, f, at) for i, f in enumerate(ordered) if isinstance(at := location_of(f), SheetCell)]
    if sheet_map is None and src is not None and any(at.sheet not in part_of for _, _, at in cells):
        sheet_map = _renamed(src)
    sheet_map = sheet_map or {}
    by_sheet: dict[str, dict[tuple[int, int], list[dict[str, Any]]]] = {}
    links: dict[int, str] = {}
    for i, f, at in cells:
        sheet = sheet_map.get(at.sheet, at.sheet)
        if part_of.get(sheet) in z.by_name:
            by_sheet.setdefault(sheet, {}).setdefault((at.row, at.col), []).append(f)
            links[i] = f"{_sheet_ref(sheet)}!{at.a1}"

    names = set(z.names)
    files: dict[str, bytes] = {}
    overrides: dict[str, str] = {}
    styles_part = next((_resolve(wb_part, r.get("Target", "")) for r in wb_rels if r.get("Type", "").endswith("/styles")),
                       None)
    if styles_part is None or styles_part not in z.by_name:
        styles_part = posixpath.join(posixpath.dirname(wb_part), "styles.xml")
        _new_rel(wb_rels, "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles",
                 _relative(wb_part, styles_part))
        overrides["/" + styles_part] = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
        styles = _Styles(f'<styleSheet xmlns="{NS}"/>'.encode())
    else:
        styles = _Styles(z.read(styles_part))
    for k, (sheet, cells) in enumerate(by_sheet.items()):
        part = part_of[sheet]
        files[part] = _annotate_sheet(z.read(part), part, cells, styles, files, z, names, overrides,
                                      shape_base=1024 * (k + 1))
    # every other sheet: not selected (the new first sheet is the one shown)
    for sheet, part in part_of.items():
        if part and part not in files and part in z.by_name:
            xml = z.read(part)
            if b"tabSelected" in xml:
                new = _TAB_SELECTED.sub(rb"\1", xml)
                if new != xml:
                    files[part] = new

    list_part = _free(names, "xl/worksheets/sheet{}.xml")
    files[list_part] = _list_sheet(ordered, links, styles)
    files[styles_part] = styles.bytes()
    overrides["/" + list_part] = CT_SHEET
    rid = _new_rel(wb_rels, REL_SHEET, _relative(wb_part, list_part))
    ids = [int(s.get("sheetId", "0")) for s in sheet_els if (s.get("sheetId") or "").isdigit()]
    new_sheet = etree.Element(f"{_M}sheet", name=ANNOTATION_SHEET, sheetId=str(max(ids, default=0) + 1))
    new_sheet.set(_R_ID, rid)
    sheets_el.insert(0, new_sheet)
    # sheet-local names (print areas, print titles) follow their sheet's new position
    dn = wb.find(f"{_M}definedNames")
    if dn is not None:
        for d in list(dn):
            lid = d.get("localSheetId")
            if lid is None or not lid.isdigit():
                continue
            lid = int(lid)
            if old_index is not None and lid == old_index:
                dn.remove(d)
                continue
            if old_index is not None and lid > old_index:
                lid -= 1
            d.set("localSheetId", str(lid + 1))
    else:
        dn = etree.Element(f"{_M}definedNames")
        after = sheets_el.getparent().index(sheets_el) + 1
        for i, ch in enumerate(wb):
            if etree.QName(ch).localname in ("functionGroups", "externalReferences"):
                after = i + 1
        wb.insert(after, dn)
    title = etree.SubElement(dn, f"{_M}definedName", name="_xlnm.Print_Titles", localSheetId="0")
    title.text = f"{_sheet_ref(ANNOTATION_SHEET)}!$1:$1"
    filt = etree.SubElement(dn, f"{_M}definedName", name="_xlnm._FilterDatabase", localSheetId="0", hidden="1")
    filt.text = f"{_sheet_ref(ANNOTATION_SHEET)}!$A$1:$D${len(flags) + 1}"
    for view in wb.iter(f"{_M}workbookView"):
        view.set("activeTab", "0")
        view.attrib.pop("firstSheet", None)
    calc = wb.find(f"{_M}calcPr")
    if calc is None:
        calc = etree.SubElement(wb, f"{_M}calcPr")
        # calcPr precedes these
        for tag in ("oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                    "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst"):
            el = wb.find(f"{_M}{tag}")
            if el is not None:
                el.addprevious(calc)
                break
    calc.set("fullCalcOnLoad", "1")  # the flagged formula cells lost their cached figure: recalculate
    files[wb_part] = _xml_bytes(wb)
    files[wb_rels_part] = _xml_bytes(wb_rels)

    ct = etree.fromstring(z.read("[Content_Types].xml"), parser)
    have = {o.get("PartName") for o in ct if o.get("PartName")}
    exts = {d.get("Extension", "").lower() for d in ct if d.get("Extension")}
    if "vml" not in exts:
        ct.insert(0, etree.Element(f"{{{CT_NS}}}Default", Extension="vml", ContentType=CT_VML))
    if "rels" not in exts:
        ct.insert(0, etree.Element(f"{{{CT_NS}}}Default", Extension="rels",
                                   ContentType="application/vnd.openxmlformats-package.relationships+xml"))
    for o in list(ct):
        if o.get("PartName") and o.get("PartName").lstrip("/") in dropped:
            ct.remove(o)
    for part, kind in overrides.items():
        if part not in have:
            etree.SubElement(ct, f"{{{CT_NS}}}Override", PartName=part, ContentType=kind)
    files["[Content_Types].xml"] = _xml_bytes(ct)

    entries = []
    for name in z.names:
        if name in dropped or name.endswith("/"):
            continue
        if name in files:
            entries.append((name, _deflated(files.pop(name))))
            continue
        raw_entry = z.raw_entry(name)
        entries.append((name, raw_entry if raw_entry is not None else _deflated(z.read(name))))
    entries += [(name, _deflated(data)) for name, data in files.items()]
    return _zip_bytes(entries)
