"""Word reports in, reviewer's comments out (issue #19, the foundation slice).

The five real reports are fixtures (tests/fixtures/reports/NNN.txt, anonymised; the .docx is
built from the text by tests/build_report_fixtures.py and committed beside it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfeval_xl.cli import app
from lxml import etree

from selfeval_xl.jobs.checking import STATUS_UNREADABLE, check_report, check_workbook, pair_reports
from selfeval_xl.jobs.check import check_item
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.wordin import ReportReadError
from selfeval_xl.wordin.comments import comment_report
from selfeval_xl.wordin.read import read_report
from selfeval_xl.wordin.textcheck import check_report_text

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "reports"
REGION = {"000": "yueyang-2023", "001": "yueyang-2023", "002": "yueyang-2023", "003": "hengyang-2022",
          "004": "yunxi-2023"}


@pytest.fixture
def poppler():
    """pdftotext (poppler-utils): .ci/run installs it, so under CI its absence fails."""
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext (poppler-utils) is required in CI: .ci/run must install it")
        pytest.skip("poppler-utils not installed")


def fixture(n: str) -> Path:
    docx = FIX / f"{n}.docx"
    if not docx.exists():  # the text is the fixture; the .docx its cache
        sys.path.insert(0, str(ROOT / "tests"))
        from build_report_fixtures import build_docx

        build_docx(FIX / f"{n}.txt", docx)
    return docx


def test_fixtures_are_anonymised():
    text = "".join((FIX / f"{n}.txt").read_text(encoding="utf-8") for n in REGION)
    for real in ("饶敏敏", "周婷婷", "刘媛冶", "15273064067", "15111191516", "8220674"):
        assert real not in text
    assert "张三" in text and "138xxxx" in text


@pytest.mark.parametrize("n", sorted(REGION))
def test_seed_reports_read_into_the_regions_outline(n):
    profile = get_profile(REGION[n])
    t0 = time.perf_counter()
    rep = read_report(fixture(n), profile)
    print(f"\n{n}.docx: read in {time.perf_counter() - t0:.2f} s ({len(rep.paras)} paragraphs, {len(rep.grids)} tables)")
    assert [s.key for s in rep.sections.values()] == [s.key for s in profile.report.sections]
    assert not rep.missing, [s.title for s in rep.missing]
    # headings in document order, each a real paragraph the flags can point at
    at = [s.heading.index for s in rep.sections.values()]
    assert at == sorted(at)
    assert all(str(rep.para(i).where).startswith("报告!") for i in at)
    assert rep.grids and all(len(r) for g in rep.grids for r in g.rows)


def test_numbering_mistakes_are_tolerated():
    rep = read_report(fixture("000"), get_profile("yueyang-2023"))
    assert rep.sections["performance"].heading.text.startswith("6、")  # 6、 for 六
    assert rep.sections["other"].heading.text == "其他需要说明的情况"  # 十 dropped
    assert rep.sections["other"].text == "无"
    rep = read_report(fixture("001"), get_profile("yueyang-2023"))
    # the sub-heading “（一）部门（单位）基本情况” repeats the title: it is body, not the section
    assert rep.sections["basic_info"].heading.text.startswith("1、")
    assert rep.sections["basic_info"].paras[0].text.startswith("（一）")


def test_tables_are_grids_with_merged_cells_repeated():
    rep = read_report(fixture("003"), get_profile("hengyang-2022"))
    widths = {len(r) for g in rep.grids for r in g.rows}
    assert len(widths) > 1 or all(len(set(r)) <= len(r) for g in rep.grids for r in g.rows)
    g = next(g for g in rep.grids if any("一、部门基本支出" in c for r in g.rows for c in r))
    row = next(r for r in g.rows if "一、部门基本支出" in r[0])
    assert "249.97" in row


def test_seed_003_list_of_amounts_exceeds_its_total():
    rep = read_report(fixture("003"), get_profile("hengyang-2022"))
    flags = check_report_text(rep)
    f = next(f for f in flags if f.code == "RPT-401")
    assert "249.97" in f.message and "327.79" in f.message
    assert f.stated == pytest.approx(327.79) and f.expected == pytest.approx(249.97)
    assert f.location.startswith("报告!第") and "161.59" in rep.para(f.place.paragraph).text
    # sections with a heading and nothing under it
    empty = {f.location for f in flags if f.code == "SEC-301"}
    assert len(empty) == 6


def test_a_report_alone_is_checked_on_its_text():
    r = check_report(fixture("003"))
    assert r["status"] == "有警告" and r["profile"] == "hengyang-2022"
    assert {"RPT-202", "RPT-401", "SEC-301"} <= {f["code"] for f in r["flags"]}
    assert r["name"] == "003.docx"


def test_a_missing_section_is_named(tmp_path):
    import docx

    src = docx.Document(str(fixture("000")))
    for p in src.paragraphs:
        if p.text.startswith("四、国有资本"):
            p._p.getparent().remove(p._p)
    path = tmp_path / "缺一节.docx"
    src.save(str(path))
    flags = check_report_text(read_report(path, get_profile("yueyang-2023")))
    f = next(f for f in flags if f.code == "RPT-301")
    assert "四、国有资本经营预算支出情况" in f.message and f.location.startswith("报告!第")


@pytest.fixture(scope="module")
def pair_folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("pair")
    res = CliRunner().invoke(app, ["fill", str(ROOT / "examples" / "data" / "001_岳阳市档案馆.json"),
                                   "-o", str(d / "001_岳阳市档案馆_2023年度绩效自评.xlsx")])
    assert res.exit_code == 0, res.output
    shutil.copy(fixture("001"), d / "岳阳市档案馆2023年度整体支出绩效自评报告.docx")
    shutil.copy(fixture("003"), d / "衡阳报告.docx")
    return d


def test_workbook_and_report_of_one_unit_are_paired(pair_folder):
    files = sorted(pair_folder.iterdir())
    items = pair_reports(files)
    pair = next(i for i in items if isinstance(i, tuple))
    assert pair[0].suffix == ".xlsx" and pair[1].name.startswith("岳阳市档案馆")
    assert pair_folder / "衡阳报告.docx" in items  # another unit's report stays alone
    r = check_workbook(pair[0], report=pair[1])
    narr = [f for f in r["flags"] if f["code"].startswith("NARR-4")]
    assert narr and all(f["location"].startswith("报告!第") for f in narr)
    rep = read_report(pair[1], get_profile("yueyang-2023"))
    for f in narr:  # the paragraph named holds the sentence the flag quotes
        p = rep.para(f["at"]["paragraph"])
        quoted = f["message"].split("：“", 1)[1].split("”", 1)[0].rstrip("…")
        assert quoted in p.text
    assert "岳阳市档案馆2023年度整体支出绩效自评报告.docx" in r["name"]
    assert not any(f["code"] == "RPT-201" for f in r["flags"])


def _strip_comments(xml: bytes) -> bytes:
    W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    root = etree.fromstring(xml)
    for el in list(root.iter(W + "commentRangeStart", W + "commentRangeEnd")):
        el.getparent().remove(el)
    for ref in list(root.iter(W + "commentReference")):
        run = ref.getparent()
        run.getparent().remove(run)
    return etree.tostring(root)


def test_annotated_report_has_comments_and_nothing_else_changed(tmp_path):
    src = fixture("003")
    r = check_report(src)
    dest = tmp_path / "003_批注.docx"
    n = comment_report(src, r["flags"], dest)
    assert n == len(r["flags"])
    with zipfile.ZipFile(dest) as z, zipfile.ZipFile(src) as z0:
        comments = z.read("word/comments.xml").decode("utf-8")
        assert "RPT-401" in comments and "327.79" in comments
        assert _strip_comments(z.read("word/document.xml")) == _strip_comments(z0.read("word/document.xml"))
        assert b"commentRangeStart" in z.read("word/document.xml")


def test_check_annotate_writes_the_reports_copy(pair_folder, tmp_path):
    out = tmp_path / "批注"
    out.mkdir()
    items = pair_reports(sorted(pair_folder.iterdir()))
    for item in items:
        work = (item[0], item[0].name, item[1]) if isinstance(item, tuple) else (item, item.name, None)
        r = check_item(work, folder=str(out))
        assert r.status != STATUS_UNREADABLE
    names = sorted(p.name for p in out.iterdir())
    assert "岳阳市档案馆2023年度整体支出绩效自评报告.docx" in names and "衡阳报告.docx" in names
    assert "001_岳阳市档案馆_2023年度绩效自评.xlsx" in names


def test_cli_check_takes_reports_beside_workbooks(pair_folder, tmp_path):
    from selfeval_xl.cli import run_check

    out = tmp_path / "结果"
    code = run_check([pair_folder], out, annotate_copies=True, workers=1, echo=lambda *_: None)
    assert code in (0, 1)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert len(summary["files"]) == 2
    assert (out / "批注" / "衡阳报告.docx").exists()


@pytest.mark.libreoffice
def test_doc_made_by_libreoffice_reads_the_same_sections(tmp_path, soffice):
    from selfeval_xl.files.libreoffice import convert

    (doc,) = convert([fixture("000")], tmp_path, "doc")
    profile = get_profile("yueyang-2023")
    a, b = read_report(fixture("000"), profile), read_report(doc, profile)
    assert b.kind == "doc"
    assert {k: s.text for k, s in a.sections.items()} == {k: s.text for k, s in b.sections.items()}


@pytest.mark.libreoffice
def test_pdf_with_text_reads_and_scanned_pdf_is_refused_in_words(tmp_path, soffice, poppler):
    from selfeval_xl.files.libreoffice import convert

    (pdf,) = convert([fixture("000")], tmp_path, "pdf")
    rep = read_report(pdf, get_profile("yueyang-2023"))
    assert rep.kind == "pdf" and not rep.missing
    assert "340.25" in rep.sections["general_budget"].text
    # an image only: rasterise a page and wrap it back into a PDF
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    import docx

    picture = docx.Document()
    picture.add_picture(str(png))  # a page as a picture and nothing else: what a scanner makes
    picture.save(str(tmp_path / "scan.docx"))
    (img_pdf,) = convert([tmp_path / "scan.docx"], tmp_path / "scan", "pdf")
    scanned = img_pdf.rename(tmp_path / "扫描件.pdf")
    with pytest.raises(ReportReadError, match="没有文字.*扫描件"):
        read_report(scanned)
    r = check_report(scanned)
    assert r["status"] == STATUS_UNREADABLE and "扫描件" in r["reason"]


def _docx_with(tmp_path: Path, name: str, document_xml: bytes, compress=zipfile.ZIP_DEFLATED) -> Path:
    src = fixture("000")
    path = tmp_path / name
    with zipfile.ZipFile(src) as z0, zipfile.ZipFile(path, "w", compress) as z:
        for info in z0.infolist():
            data = document_xml if info.filename == "word/document.xml" else z0.read(info)
            z.writestr(info.filename, data, compress_type=compress)
    return path


def test_hostile_reports_get_a_clear_message_and_the_batch_goes_on(tmp_path):
    W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    bomb = _docx_with(tmp_path, "炸弹.docx", b"<w:document " + W.encode() + b"><w:body><w:p><w:r><w:t>"
                      + b"0" * (60 * 1024 * 1024) + b"</w:t></w:r></w:p></w:body></w:document>")
    entity = _docx_with(tmp_path, "实体.docx", b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]>'
                        b"<w:document " + W.encode() + b"><w:body><w:p><w:r><w:t>&a;</w:t></w:r></w:p></w:body></w:document>")
    table = b"<w:tbl><w:tr><w:tc><w:p/></w:tc></w:tr></w:tbl>"
    many = _docx_with(tmp_path, "万表.docx", b"<w:document " + W.encode() + b"><w:body>" + table * 10000
                      + b"</w:body></w:document>")
    fake = tmp_path / "假的.docx"
    fake.write_text("不是 Word 文档", encoding="utf-8")
    for path, words in ((bomb, "压缩"), (entity, "DOCTYPE"), (many, "10000 张表格"), (fake, "不是 Word 文档")):
        with pytest.raises(ReportReadError, match=words):
            read_report(path)
    results = [check_item(p) for p in (bomb, entity, many, fake, fixture("003"))]
    assert [r.status for r in results[:4]] == [STATUS_UNREADABLE] * 4
    assert all(r.reason.startswith(p.name) for r, p in zip(results, (bomb, entity, many, fake)))
    assert results[4].status == "有警告"
