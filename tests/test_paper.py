"""On paper as the official forms: what LibreOffice prints, read back from the PDF text page by page.

Seed 001's filled workbook, the demo's reports and a 汇总表 are rendered through LibreOffice
(the real application, as a clerk or coordinator prints); the assertions read ``pdftotext``
per page. These tests fail, not skip, in CI when LibreOffice or poppler is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from selfeval_xl.cli import app
from selfeval_xl.files.libreoffice import convert

from .conftest import EXAMPLES

runner = CliRunner()


@pytest.fixture(scope="module")
def pdftotext():
    exe = shutil.which("pdftotext")
    if not exe:
        if os.environ.get("CI"):
            pytest.fail("poppler-utils (pdftotext) is required in CI")
        pytest.skip("pdftotext not installed")
    return exe


def pages(pdf, exe) -> list[str]:
    n = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout)[1])
    return [subprocess.run([exe, "-layout", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True,
                           text=True).stdout for i in range(1, n + 1)]


def content_lines(page: str) -> list[str]:
    """A page's text lines without blank lines and page numbers (第 1 页，共 12 页 / — 3 —)."""
    return [ln.strip() for ln in page.splitlines()
            if ln.strip() and not re.fullmatch(r"(第\s*\d+\s*页，共\s*\d+\s*页|—\s*\d+\s*—)", ln.strip())]


TRAILING = re.compile(r"^(填表人|备注|说明|注：|单位负责人|填报人|联系电话)")


@pytest.fixture(scope="module")
def seed_001_workbook_pages(soffice, pdftotext, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("paper")
    book = tmp / "430600101_岳阳市档案馆_2023年度绩效自评.xlsx"
    assert runner.invoke(app, ["fill", str(EXAMPLES / "data" / "001_岳阳市档案馆.json"), "-o", str(book)]).exit_code == 0
    return pages(convert([book], tmp / "pdf", "pdf")[0], pdftotext)


def test_seed_001_workbook_prints_in_at_most_12_pages(seed_001_workbook_pages):
    assert len(seed_001_workbook_pages) <= 12


def test_each_attachment_3_on_one_page_with_its_indicator_header(seed_001_workbook_pages):
    by_sheet: dict[str, list[str]] = {}
    current = None
    for p in seed_001_workbook_pages:
        m = re.search(r"附件3（(\d+)）", p)
        if m:
            current = m[1]
        elif re.search(r"附件[12]\s|报告正文|报告（正文）", p):
            current = None
        if current:
            by_sheet.setdefault(current, []).append(p)
    assert sorted(by_sheet) == ["1", "2", "3", "4", "5"]  # the unit's five projects; spares do not print
    for n, ps in by_sheet.items():
        assert len(ps) == 1, f"附件3({n}) prints on {len(ps)} pages"
        assert all("一级指标" in p and "二级指标" in p for p in ps)


def test_every_page_of_an_indicator_table_has_its_header(seed_001_workbook_pages):
    for i, p in enumerate(seed_001_workbook_pages):
        if re.search(r"(产出|效益|满意度)指标", p) and "总分" not in p.split("一级指标")[0]:
            assert "一级指标" in p, f"page {i + 1} continues an indicator table without its header"


def test_no_merged_label_split_across_pages(seed_001_workbook_pages):
    """A vertical group label is drawn one character a line; split, one page ends "绩效指" and the
    next starts "标". Every 一级 label (产出指标（50分）…) and 二级 label appears whole on one page."""
    text = "\n".join(seed_001_workbook_pages)
    for p in seed_001_workbook_pages:
        lines = content_lines(p)
        assert lines, "an empty page"
        assert lines[0] not in ("标", "指标", "效指标"), f"a page starts with a split label: {lines[:3]}"


def test_no_page_holds_only_a_trailing_line(seed_001_workbook_pages):
    for i, p in enumerate(seed_001_workbook_pages):
        lines = content_lines(p)
        assert not (len(lines) <= 2 and all(TRAILING.match(x) for x in lines)), f"page {i + 1}: {lines}"


@pytest.fixture(scope="module")
def demo_report_pages(soffice, pdftotext, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reports")
    res = runner.invoke(app, ["report", str(EXAMPLES / "data"), "-o", str(tmp), "--pdf"])
    assert res.exit_code in (0, 1), res.output
    return {p.stem: pages(p, pdftotext) for p in sorted(tmp.glob("*.pdf"))}


def test_reports_keep_their_lines_with_their_tables(demo_report_pages):
    assert len(demo_report_pages) == 5
    for name, ps in demo_report_pages.items():
        for i, p in enumerate(ps):
            lines = content_lines(p)
            assert lines, f"{name}: page {i + 1} is empty"
            assert not all(TRAILING.match(x) for x in lines), f"{name}: page {i + 1} holds only {lines}"
            assert len(lines) > 1 or not re.match(r"^[一二三四五六七八九十]+、", lines[0]), f"{name} p{i + 1}: {lines}"


def test_reports_do_not_break_words_in_narrow_cells(demo_report_pages):
    for name, ps in demo_report_pages.items():
        for i, p in enumerate(ps):
            for ln in p.splitlines():
                assert not re.search(r"（万\s*$", ln), f"{name} p{i + 1}: “（万元）” broken: {ln!r}"
                assert not re.match(r"^\s*元）", ln), f"{name} p{i + 1}: “（万元）” broken: {ln!r}"


def test_the_attachment_list_names_each_table_once(demo_report_pages):
    for name, ps in demo_report_pages.items():
        text = "".join(ps)
        assert "项目项目" not in text.replace(" ", ""), name


def test_summary_prints_on_landscape_pages_with_full_file_names(soffice, pdftotext, tmp_path):
    src = tmp_path / "in"
    for name in ("001_岳阳市档案馆", "002_岳阳市君山区行政审批服务局", "003_衡阳市住房和城乡建设信息中心"):
        runner.invoke(app, ["fill", str(EXAMPLES / "data" / f"{name}.json"), "-o", str(src / f"{name}.xlsx")])
    runner.invoke(app, ["check", str(src), "-o", str(tmp_path / "out")])
    pdf = convert([tmp_path / "out" / "汇总表.xlsx"], tmp_path / "pdf", "pdf")[0]
    ps = pages(pdf, pdftotext)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    w, h = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert w > h and abs(w - 841.9) < 5  # A4 landscape
    first = ps[0]
    for name in ("001_岳阳市档案馆.xlsx", "002_岳阳市君山区行政审批服务局.xlsx", "003_衡阳市住房和城乡建设信息中心.xlsx"):
        assert name in first.replace(" ", "")  # the file-name column is not clipped
    flag_pages = [p for p in ps if "说明" in p and "代码" in p]
    assert len(flag_pages) >= 2 and all("级别" in p for p in flag_pages)  # the header repeats on every page
