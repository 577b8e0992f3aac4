"""Hostile reports (issue #19): what tests/test_word_reports.py's zip bomb, entity and 10,000
tables do not cover — a DOCTYPE pushed past the first bytes, in a part not named .xml, a
prolog of blanks, nesting past the parser's depth, one table of 70,000 cells, a broken PDF and
a PDF of 401 pages. Each gets a Chinese message naming the file, and `check` on a folder
holding all of them beside a real report checks the real one and lists every other with its
reason (exit code 2), never a traceback or 内部错误."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfeval_xl.cli import app
from selfeval_xl.wordin import ReportReadError
from selfeval_xl.wordin.read import read_report

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "reports"
W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
LAUGHS = (b'<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
          b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>')


def fixture(n: str) -> Path:
    path = FIX / f"{n}.docx"
    if not path.exists():
        sys.path.insert(0, str(ROOT / "tests"))
        from build_report_fixtures import build_docx

        build_docx(FIX / f"{n}.txt", path)
    return path


def _docx(path: Path, document: bytes | None = None, extra: dict[str, bytes] | None = None) -> Path:
    """000.docx with its document.xml replaced and parts added."""
    with zipfile.ZipFile(fixture("000")) as z0, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info in z0.infolist():
            data = document if (document is not None and info.filename == "word/document.xml") else z0.read(info)
            z.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return path


def _body(inner: bytes) -> bytes:
    return b'<?xml version="1.0"?><w:document ' + W + b"><w:body>" + inner + b"</w:body></w:document>"


def _pdf(pages: int) -> bytes:
    """A small PDF of ``pages`` pages, each with a line of text (one shared content stream)."""
    text = b"BT /F1 12 Tf 72 720 Td (This page has more than twenty characters of text.) Tj ET"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
            + b"] /Count %d >>" % pages,
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream"]
    objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
             b"/Resources << /Font << /F1 3 0 R >> >> >>"] * pages
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def hostile(folder: Path) -> dict[Path, str]:
    """Each hostile file and the words its message must hold."""
    p = {}
    p[_docx(folder / "注释后的实体.docx", b'<?xml version="1.0"?><!--' + b"x" * 10000 + b"-->" + LAUGHS
            + b"<w:document " + W + b"><w:body><w:p><w:r><w:t>&c;</w:t></w:r></w:p></w:body></w:document>")] = "DOCTYPE"
    p[_docx(folder / "注释里的尖括号.docx", b'<?xml version="1.0"?><!-- <a --> ' + LAUGHS
            + b"<w:document " + W + b"><w:body/></w:document>")] = "DOCTYPE"
    p[_docx(folder / "别名部件.docx", extra={"customXml/item9.dat": b"<?xml version='1.0'?>" + LAUGHS + b"<r/>"})] = \
        "customXml/item9.dat 含有 DOCTYPE"
    p[_docx(folder / "空白前言.docx", b'<?xml version="1.0"?>' + b" " * (300 * 1024) + _body(b"")[21:])] = "前言过长"
    p[_docx(folder / "层层嵌套.docx", _body(b"<w:tbl><w:tr><w:tc>" * 3000 + b"<w:p/>"
                                        + b"</w:tc></w:tr></w:tbl>" * 3000))] = "无法打开该 Word 文档"
    row = b"<w:tr>" + b"<w:tc/>" * 200 + b"</w:tr>"
    p[_docx(folder / "七万格.docx", _body(b"<w:tbl><w:tblGrid>" + b"<w:gridCol/>" * 200 + b"</w:tblGrid>"
                                       + row * 350 + b"</w:tbl>"))] = "单元格超过"
    (folder / "坏的.pdf").write_bytes(b"%PDF-1.4\n" + b"\x00\x01garbage" * 500)
    p[folder / "坏的.pdf"] = "PDF 无法读取"
    (folder / "四百页.pdf").write_bytes(_pdf(401))
    p[folder / "四百页.pdf"] = "401 页，超过上限"
    (folder / "假的.doc").write_bytes(b"\x00\x01\x02 not a word file" * 40)
    p[folder / "假的.doc"] = "不是 Word 或 WPS 文字文档"
    return p


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    return folder, hostile(folder)


def test_each_hostile_report_gets_a_chinese_message_naming_it(corpus):
    _folder, files = corpus
    for path, words in files.items():
        with pytest.raises(ReportReadError) as e:
            read_report(path)
        msg = str(e.value)
        assert msg.startswith(path.name + "：") and words in msg, (path.name, msg)
        assert "内部错误" not in msg and "Traceback" not in msg


def test_the_pdf_page_bound_is_the_readers_not_pdftotexts(corpus):
    """pdftotext reads the 401 pages; the layout reader refuses them before laying them out.
    400 pages of the same file pass."""
    folder, _files = corpus
    ok = folder / "四百页以内.pdf"
    ok.write_bytes(_pdf(3))
    rep = read_report(ok)
    assert rep.kind == "pdf" and {p.page for p in rep.paras} == {1, 2, 3}
    assert all("twenty characters" in p.text for p in rep.paras)


def test_check_on_the_hostile_folder_lists_each_and_checks_the_real_report(corpus, tmp_path):
    folder, files = corpus
    real = folder / "真的报告.docx"
    real.write_bytes(fixture("003").read_bytes())
    out = tmp_path / "结果"
    res = CliRunner().invoke(app, ["check", str(folder), "-o", str(out), "-w", "2"])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "内部错误" not in res.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["files"]
    assert summary["真的报告.docx"]["status"] == "有警告"
    assert {f["code"] for f in summary["真的报告.docx"]["flags"]} >= {"RPT-401", "RPT-501", "RPT-502"}
    for path, words in files.items():
        r = summary[path.name]
        assert r["status"] == "无法读取" and words in r["reason"], (path.name, r)
        assert f"无法读取：{path.name}：" in res.output
