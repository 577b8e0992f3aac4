"""Refuse hostile or broken files before any XML is parsed.

An .xlsx is a zip of XML parts. Before any part is parsed we look at the bytes and the zip
directory only: legacy .xls and encrypted workbooks are OLE files (say what to do); a zip
whose entries are too many, too large or too compressed is refused (a 206 KB file can
expand to a 200 MiB sheet); the parts a workbook needs must exist; a DOCTYPE or ENTITY in
any part (billion laughs, XXE) is refused. The zip stays open for the reader (``ooxml``);
openpyxl, used for annotated copies, has defusedxml as well.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..files.outputs import display_path

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"

MAX_ENTRIES = 2000
MAX_TOTAL_UNCOMPRESSED = 150 * 1024 * 1024
MAX_ENTRY_UNCOMPRESSED = 80 * 1024 * 1024
MAX_RATIO = 150  # uncompressed / compressed, for entries over 1 MiB
MAX_FILE_SIZE = 60 * 1024 * 1024


class UnsafeFile(ValueError):
    """A file refused before parsing; the message is for the user (Chinese) and names the file."""


def open_checked(path: Path, scan_sheets: bool = True) -> zipfile.ZipFile:
    """The workbook's zip, opened once and checked; UnsafeFile (a Chinese message) when refused.

    ``scan_sheets=False`` (a batch naming reports from the metadata sheet alone): the sizes and
    ratios of every entry are still checked from the zip directory, and the parts every read
    needs (workbook, relations, shared strings, styles) for DOCTYPE; the worksheets' openings are
    not decompressed — the one sheet that is parsed goes through lxml with entities off, and the
    worker reads the whole file again under the full check."""
    name = display_path(path.name)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise UnsafeFile(f"{name}：无法读取（{e.strerror}）") from None
    if size == 0:
        raise UnsafeFile(f"{name}：文件为空（0 字节），可能保存时中断；请重新保存后再提交")
    if size > MAX_FILE_SIZE:
        raise UnsafeFile(f"{name}：文件过大（{size / 1048576:.0f} MB），不像是自评表；请检查是否插入了大图片")
    with path.open("rb") as f:
        sniff = f.read(512)
    head = sniff[:8]
    if head == OLE_MAGIC:
        data = path.read_bytes()
        if "EncryptionInfo".encode("utf-16-le") in data or b"EncryptedPackage" in data \
                or "EncryptedPackage".encode("utf-16-le") in data:
            raise UnsafeFile(f"{name}：文件设置了打开密码（已加密）。请在 Excel/WPS 中取消密码（文件→信息→保护工作簿）后另存为 .xlsx 再提交")
        raise UnsafeFile(
            f"{name}：这是旧版 Excel 97-2003（.xls）格式。请在 Excel/WPS 中“另存为 Excel 工作簿(.xlsx)”，"
            f"或执行 soffice --headless --convert-to xlsx \"{name}\" 转换后再提交"
        )
    if head[:4] != ZIP_MAGIC:
        guess = "PDF 文件" if head.startswith(b"%PDF") else ("文本或 CSV 文件" if _looks_text(sniff) else "未知格式")
        raise UnsafeFile(f"{name}：不是 .xlsx 工作簿（看起来是{guess}）")
    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        # zipfile's own words are English ("File is not a zip file"): said in the user's words
        raise UnsafeFile(f"{name}：文件已损坏或不完整（可能在下载、复制或保存时中断），无法打开；请重新保存或重新下载") from None
    try:
        _check_zip(z, name, scan_sheets)
    except BaseException:
        z.close()
        raise
    return z


def _check_zip(z: zipfile.ZipFile, name: str, scan_sheets: bool = True) -> None:
    infos = z.infolist()
    if len(infos) > MAX_ENTRIES:
        raise UnsafeFile(f"{name}：压缩包内有 {len(infos)} 个部件，超过上限 {MAX_ENTRIES}，拒绝读取（可能是恶意构造的文件）")
    total = 0
    names = set()
    for info in infos:
        names.add(info.filename)
        total += info.file_size
        if info.file_size > MAX_ENTRY_UNCOMPRESSED:
            raise UnsafeFile(f"{name}：部件 {info.filename} 解压后 {info.file_size / 1048576:.0f} MB，超过上限，拒绝读取")
        if info.file_size > 1024 * 1024 and info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            raise UnsafeFile(f"{name}：部件 {info.filename} 压缩比 {info.file_size // info.compress_size}:1 异常（疑似压缩炸弹），拒绝读取")
        if info.flag_bits & 0x1:
            raise UnsafeFile(f"{name}：压缩包部件已加密，无法读取")
    if total > MAX_TOTAL_UNCOMPRESSED:
        raise UnsafeFile(f"{name}：解压后共 {total / 1048576:.0f} MB，超过上限，拒绝读取（疑似压缩炸弹）")
    for required in ("[Content_Types].xml", "xl/workbook.xml"):
        if required not in names:
            raise UnsafeFile(f"{name}：缺少 {required}，不是完整的 Excel 工作簿（可能是 Word/其他 Office 文件或已损坏）")
    # Office never writes a DOCTYPE; one in any XML part is an entity trick (billion laughs, XXE)
    for info in infos:
        if not scan_sheets and not info.filename.startswith(("xl/workbook", "xl/_rels/", "xl/sharedStrings", "xl/styles")):
            continue
        if info.filename.endswith((".xml", ".rels", ".vml")):
            with z.open(info) as f:
                start = f.read(4096)
            if b"<!DOCTYPE" in start or b"<!ENTITY" in start:
                raise UnsafeFile(f"{name}：部件 {info.filename} 含有 DOCTYPE/实体声明，拒绝读取（可能是恶意构造的文件）")


def _looks_text(head: bytes) -> bool:
    for cut in range(4):  # the sniffed bytes may end inside a multi-byte character
        for enc in ("utf-8", "gb18030"):
            try:
                text = head[: len(head) - cut].decode(enc)
            except UnicodeDecodeError:
                continue
            return all(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return False
