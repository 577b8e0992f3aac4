"""Read a unit's report — .docx, .doc/.wps (through LibreOffice) or PDF (text layer) — into a
``WordReport``: paragraphs in document order, tables as grids, the outline's sections.

Hostile files are refused before parsing, as workbooks are (``xlsx.safety``): the .docx zip's
entries are counted and measured (count, size, compression ratio), a DOCTYPE/ENTITY in any part
is refused, and a document with more tables or paragraphs than a report can have is refused
with a message, not read for minutes. LibreOffice and pdftotext run bounded (a timeout each).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from ..files.outputs import display_path
from ..xlsx.safety import MAX_ENTRIES, MAX_RATIO, OLE_MAGIC, ZIP_MAGIC
from .model import Grid, Para, ReportReadError, WordReport
from .outline import find_sections

SUFFIXES = (".docx", ".doc", ".wps", ".pdf")
MAX_FILE_SIZE = 40 * 1024 * 1024
MAX_TOTAL_UNCOMPRESSED = 120 * 1024 * 1024
MAX_DOCUMENT_XML = 30 * 1024 * 1024
MAX_TABLES = 400  # a report with its attachments has a few dozen
MAX_PARAS = 30000
MAX_CELLS = 60000
PDF_TIMEOUT = 60  # seconds
CONVERT_SECONDS = 90  # a .doc/.wps through LibreOffice


def read_report(path: str | Path, profile=None, workdir: str | Path | None = None) -> WordReport:
    """Read ``path`` (by its suffix); sections found by ``profile.report.sections`` when given.
    ``workdir`` keeps a .doc/.wps file's conversion (for comments); a temporary folder otherwise.
    Raises ReportReadError with a Chinese message naming the file."""
    path = Path(path)
    name = display_path(path.name)
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ReportReadError(f"{name}：无法读取（{e.strerror}）") from None
    if size == 0:
        raise ReportReadError(f"{name}：文件为空（0 字节），可能保存时中断；请重新保存后再提交")
    if size > MAX_FILE_SIZE:
        raise ReportReadError(f"{name}：文件过大（{size / 1048576:.0f} MB），不像是自评报告；请检查是否插入了大图片或扫描页")
    with path.open("rb") as f:
        head = f.read(16)
    if suffix == ".pdf" or head.startswith(b"%PDF"):
        rep = _read_pdf(path, name)
    elif suffix == ".docx" and head[:4] == ZIP_MAGIC:
        rep = _read_docx(path, name, "docx")
    elif head[:4] == ZIP_MAGIC and suffix in (".doc", ".wps"):  # a .docx saved under an old name
        rep = _read_docx(path, name, "docx")
    elif head[:8] == OLE_MAGIC or (suffix in (".doc", ".wps") and _text_document(head)):
        rep = _read_converted(path, name, workdir)
    elif suffix in (".doc", ".wps"):
        # LibreOffice would open any bytes as plain text: a report of one line, judged as a report
        raise ReportReadError(f"{name}：不是 Word 或 WPS 文字文档（文件内容不对，可能已损坏或被改了扩展名）；"
                              f"请用 Word 或 WPS 打开后另存为 .docx 再提交")
    elif suffix == ".docx":
        raise ReportReadError(f"{name}：不是 Word 文档（.docx），可能已损坏或被改了扩展名；请重新保存为 .docx 后再提交")
    else:
        raise ReportReadError(f"{name}：不是 Word 或 PDF 报告（{suffix or '无扩展名'}）")
    if profile is not None:
        rep.sections = find_sections(rep.paras, profile.report.sections)
    return rep


def _text_document(head: bytes) -> bool:
    """The other things Word saves under .doc: RTF, and Word's HTML or XML ("另存为网页")."""
    h = head.lstrip(b"\xef\xbb\xbf \r\n\t").lower()
    return h.startswith((b"{\\rtf", b"<html", b"<!doc", b"<?xml", b"mime-ve"))


# -- .docx ----------------------------------------------------------------------------------------

def preflight(path: Path, name: str) -> None:
    """The zip checks of ``xlsx.safety`` for a Word document: UnsafeFile → ReportReadError."""
    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ReportReadError(f"{name}：文件已损坏或不完整（可能在下载、复制或保存时中断），无法打开；请重新保存后再提交") from None
    with z:
        infos = z.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ReportReadError(f"{name}：压缩包内有 {len(infos)} 个部件，超过上限 {MAX_ENTRIES}，拒绝读取（可能是恶意构造的文件）")
        total = 0
        names = set()
        for info in infos:
            names.add(info.filename)
            total += info.file_size
            if info.flag_bits & 0x1:
                raise ReportReadError(f"{name}：文档已加密，无法读取；请取消打开密码后另存为 .docx 再提交")
            if info.file_size > 1024 * 1024 and info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                raise ReportReadError(f"{name}：部件 {info.filename} 压缩比 {info.file_size // info.compress_size}:1 异常"
                                      f"（疑似压缩炸弹），拒绝读取")
            if info.filename == "word/document.xml" and info.file_size > MAX_DOCUMENT_XML:
                raise ReportReadError(f"{name}：正文部件解压后 {info.file_size / 1048576:.0f} MB，超过上限，拒绝读取")
        if total > MAX_TOTAL_UNCOMPRESSED:
            raise ReportReadError(f"{name}：解压后共 {total / 1048576:.0f} MB，超过上限，拒绝读取（疑似压缩炸弹）")
        if "word/document.xml" not in names:
            raise ReportReadError(f"{name}：缺少 word/document.xml，不是完整的 Word 文档（可能是其他 Office 文件或已损坏）")
        for info in infos:
            if info.is_dir():
                continue
            with z.open(info) as f:
                why = _prolog_refusal(f)
            if why:
                raise ReportReadError(f"{name}：部件 {info.filename} {why}，拒绝读取（可能是恶意构造的文件）")


_ROOT = re.compile(rb"<[A-Za-z_]")
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
MAX_PROLOG = 256 * 1024  # bytes before an XML part's root element: a declaration, a comment or two


def _prolog_refusal(f) -> str | None:
    """Why an XML part is refused: a DOCTYPE or ENTITY declaration anywhere before its root
    element — not only in its first bytes (a long comment or blank run may push it further) —
    or a prolog longer than any Word writes. Every part is looked at, whatever its name: the
    main document is found by a relationship, not by the name word/document.xml. Parts that
    are not XML (pictures) are passed at their first byte."""
    head = f.read(4096)
    if not head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<"):
        return None
    seen = head
    while True:
        text = _COMMENT.sub(b" ", seen)  # “<a” inside a comment is not the root
        open_comment = text.find(b"<!--")
        root = _ROOT.search(text, 0, open_comment if open_comment >= 0 else len(text))
        prolog = text[: root.start()] if root else text
        if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
            return "含有 DOCTYPE/实体声明"
        if root:
            return None
        if len(seen) > MAX_PROLOG:
            return f"开头 {MAX_PROLOG // 1024} KB 内没有正文元素（XML 前言过长）"
        more = f.read(65536)
        if not more:
            return None
        seen += more


def iter_paragraphs(doc):
    """(paragraph, table number, row, col) for every paragraph of ``doc`` in document order —
    body paragraphs with table None; a merged cell's paragraphs once (at its first grid cell).
    ``comments`` walks the same order, so an index read here is the paragraph it annotates."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    body = doc.element.body
    tables = 0
    for el in body.iterchildren():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield Paragraph(el, doc), None, None, None
        elif tag == "tbl":
            tables += 1
            t = Table(el, doc)
            seen: set = set()  # the cell elements themselves: held, so an id is never reused
            for r, row in enumerate(t.rows, 1):
                for c, cell in enumerate(row.cells, 1):
                    if cell._tc in seen:
                        continue
                    seen.add(cell._tc)
                    for p in cell.paragraphs:
                        yield p, tables, r, c


def _read_docx(path: Path, name: str, kind: str) -> WordReport:
    preflight(path, name)
    try:
        import docx
        from docx.table import Table

        doc = docx.Document(str(path))
    except Exception as e:  # noqa: BLE001 — a broken part: say so, in words
        raise ReportReadError(f"{name}：无法打开该 Word 文档（{type(e).__name__}）；请用 Word/WPS 打开后另存为 .docx 再提交") from None
    body = doc.element.body
    n_tables = sum(1 for el in body.iterchildren() if el.tag.endswith("}tbl"))
    if n_tables > MAX_TABLES:
        raise ReportReadError(f"{name}：文档中有 {n_tables} 张表格，超过上限 {MAX_TABLES}，不像是自评报告，拒绝读取（可能是恶意构造的文件）")
    paras: list[Para] = []
    bold_styles = _bold_character_styles(doc)
    for p, t, r, c in iter_paragraphs(doc):
        if len(paras) >= MAX_PARAS:
            raise ReportReadError(f"{name}：文档段落超过 {MAX_PARAS} 个，不像是自评报告，拒绝读取")
        text, runs = _para_text(p._p)
        bold = bool(runs) and all(_run_bold(x, bold_styles) for x in runs)
        paras.append(Para(len(paras) + 1, text, t, r, c, bold))
    grids: list[Grid] = []
    cells = 0
    first = {}
    for p in paras:
        if p.table is not None:
            first.setdefault(p.table, p.index)
    for i, el in enumerate((el for el in body.iterchildren() if el.tag.endswith("}tbl")), 1):
        rows = []
        for row in Table(el, doc).rows:
            texts = [_cell_text(cell._tc) for cell in row.cells]
            cells += len(texts)
            if cells > MAX_CELLS:
                raise ReportReadError(f"{name}：表格单元格超过 {MAX_CELLS} 个，不像是自评报告，拒绝读取")
            rows.append(texts)
        grids.append(Grid(i, rows, first.get(i, 0)))
    return WordReport(display_path(path.name), kind, paras, grids, docx_path=str(path))


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R, _HYPERLINK, _P = _W + "r", _W + "hyperlink", _W + "p"
_RUN_PARTS = {_W + t for t in ("br", "cr", "noBreakHyphen", "ptab", "t", "tab")}


def _run_text(r) -> str:
    return "".join(str(e) for e in r.iterchildren() if e.tag in _RUN_PARTS)


def _para_text(p) -> tuple[str, list]:
    """python-docx's ``Paragraph.text`` (its runs and hyperlinks' runs, w:t/w:tab/w:br … as it
    renders them) without an XPath per paragraph and per run — 0.3 s of seed 001's reading —
    and the runs with text (lxml elements) for the bold test."""
    from docx.text.run import Run

    parts: list[str] = []
    runs = []
    for e in p.iterchildren():
        if e.tag == _R:
            rs = [e]
        elif e.tag == _HYPERLINK:
            rs = [x for x in e.iterchildren() if x.tag == _R]
        else:
            continue
        for r in rs:
            t = _run_text(r)
            parts.append(t)
            if t.strip():
                runs.append(Run(r, None))
    return "".join(parts), runs


def _cell_text(tc) -> str:
    """python-docx's ``_Cell.text``: its own paragraphs, one a line."""
    return "\n".join(_para_text(p)[0] for p in tc.iterchildren() if p.tag == _P)


def _bold_character_styles(doc) -> set[str]:
    """The ids of the character styles that make a run bold, read once: python-docx's
    ``run.style`` looks the style up among all of them for every run (5 s for seed 001)."""
    from docx.enum.style import WD_STYLE_TYPE

    try:
        return {st.style_id for st in doc.styles if st.type == WD_STYLE_TYPE.CHARACTER and st.font.bold}
    except Exception:  # noqa: BLE001 — a styles part python-docx cannot walk: direct bold only
        return set()


def _run_bold(run, bold_styles: set[str]) -> bool:
    """Bold as Word shows it: the run's own <w:b/>, else its character style's."""
    if run.bold is not None:
        return bool(run.bold)
    rpr = run._r.rPr
    sid = rpr.rStyle.val if rpr is not None and rpr.rStyle is not None else None
    return sid in bold_styles


# -- .doc / .wps through LibreOffice ------------------------------------------------------------------

def converted_name(path: str | Path) -> str:
    """The name a .doc/.wps file's conversion has in ``read_report``'s ``workdir``."""
    return Path(path).stem + ".docx"


def _read_converted(path: Path, name: str, workdir: str | Path | None) -> WordReport:
    """A .doc/.wps read through its .docx conversion. A conversion already in ``workdir`` (put
    there by a caller that keeps conversions: the workspace keeps one per stored file, by content
    hash) is read as it is — LibreOffice takes seconds a file, and a report is read more than
    once (its cover to pair it, then its check)."""
    from ..files.libreoffice import LibreOfficeMissing, convert_each

    kind = path.suffix.lower().lstrip(".") or "doc"
    what = "WPS 文字文档（.wps）" if kind == "wps" else "旧版 Word 文档（.doc）"
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="selfeval-report-")
        workdir = tmp.name
    try:
        ready = Path(workdir) / converted_name(path)
        try:
            if ready.is_file() and zipfile.is_zipfile(ready):
                outs, failed = [ready], {}
            else:
                outs, failed = convert_each([path], Path(workdir), "docx", per_file=CONVERT_SECONDS, startup=30)
        except LibreOfficeMissing:
            raise ReportReadError(f"{name}：是{what}，读取需要 LibreOffice（soffice），本机未安装；"
                                  f"请安装 LibreOffice，或请单位另存为 .docx 再提交") from None
        if not outs:
            why = next(iter(failed.values()), "LibreOffice 没有生成文件")
            raise ReportReadError(f"{name}：是{what}，转换为 .docx 失败（{why}）；请单位另存为 .docx 再提交")
        rep = _read_docx(outs[0], name, kind)
        rep.file = display_path(path.name)
        rep.docx_path = str(outs[0]) if tmp is None else None
        rep.notes.append(f"由 LibreOffice 从{what}转换后读取")
        return rep
    finally:
        if tmp is not None:
            tmp.cleanup()


# -- PDF -------------------------------------------------------------------------------------------

def _read_pdf(path: Path, name: str) -> WordReport:
    exe = shutil.which("pdftotext")
    if not exe:
        raise ReportReadError(f"{name}：是 PDF 文件，读取需要 pdftotext（poppler-utils），本机未安装；请单位同时提交 Word 文档（.docx）")
    try:
        out = subprocess.run([exe, "-layout", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                             timeout=PDF_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise ReportReadError(f"{name}：PDF 读取超过 {PDF_TIMEOUT} 秒仍未完成，已停止；请单位提交 Word 文档（.docx）") from None
    if out.returncode != 0:
        err = out.stderr.decode("utf-8", "replace").strip().splitlines()
        # poppler's own words are English: the clerk is told what the file is and what to send
        raise ReportReadError(f"{name}：PDF 无法读取（文件已损坏、不完整或已加密）；请单位提交 Word 文档（.docx）")
    text = out.stdout.decode("utf-8", "replace")
    pages = text.split("\f")
    if sum(1 for ch in text if not ch.isspace()) < 20 * max(1, len([p for p in pages if p.strip()]) or 1):
        raise ReportReadError(f"{name}：PDF 中没有文字（可能是扫描件或图片），无法读取报告正文；"
                              f"请单位提交 Word 文档（.docx），或导出带文字的 PDF")
    paras: list[Para] = []
    for pno, page in enumerate(pages, 1):
        current: list[str] = []

        def close() -> None:
            if current:
                paras.append(Para(len(paras) + 1, "".join(current), page=pno))
                current.clear()

        for line in page.splitlines():
            s = " ".join(line.split())  # -layout pads with spaces: keep single ones (表 columns)
            if not s:
                close()
                continue
            starts_new = bool(_PDF_NEW.match(s))
            if current and (starts_new or current[-1].endswith(("。", "；", "：", ":", "！", "？"))):
                close()
            current.append(s)
        close()
    try:
        from .pdf import read_pdf_layout

        laid, grids = read_pdf_layout(path, name, MAX_TABLES, MAX_CELLS)
    except ReportReadError:
        raise
    except Exception as e:  # noqa: BLE001 — pdfplumber missing or lost in a page: the text still reads
        rep = WordReport(display_path(path.name), "pdf", paras, [])
        rep.notes.append(f"PDF：按文字层读取，表格未按格读取（{type(e).__name__}）")
        return rep
    rep = WordReport(display_path(path.name), "pdf", laid, grids)
    rep.notes.append("PDF：按文字层读取，有框线的表格按格读取")
    return rep


# a line that starts a paragraph of its own in a PDF: a numbered heading or item
_PDF_NEW = re.compile(r"^(?:[一二三四五六七八九十]{1,3}\s*[、.．]|\d{1,2}\s*[、.．]|[（(][一二三四五六七八九十\d]{1,3}[）)]|附件)")
