"""Issue #19's done-when, run as a coordinator would: `selfeval-xl check` on one folder of the
five seed reports as .docx, one of them again as .doc and one as PDF (both made by LibreOffice
here), with --annotate.

The whole table of (file, code) found is asserted — each seed's discrepancies found by reading
it (tests/fixtures/reports/NNN.txt) and nothing else, so a check that starts flagging the parts
that agree fails here; every flag of a table or a sentence points at its cell or paragraph.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfeval_xl.cli import app

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "reports"

# seed → what reading it finds (code: count); 202 is “a report alone” (info)
SEED = {
    # agrees with itself: nothing but “no workbook beside it”
    "000": {"RPT-202": 1},
    # 附件2 项目支出 588.43 vs 附件1 588.56 (table, and twice in the text); the list numbers
    # 附件3–7 what the tables label 附件3（1）–（5）; 1200㎡ in 附件3（3）, 1200㎥ in the text
    "001": {"RPT-202": 1, "XATT-101": 1, "RPT-402": 1, "RPT-503": 1, "RPT-504": 1},
    # 项目支出 885.83 in one place, 732.5 in another
    "002": {"RPT-202": 1, "RPT-402": 1},
    # 效益 (40分)/(30分) over rows worth 50/40; 总分 “00” twice; 161.59 + 140.67 + 14.98 + 10.55
    # = 327.79 under 249.97; six headings with nothing under them
    "003": {"RPT-202": 1, "RPT-401": 1, "RPT-501": 3, "RPT-502": 2, "SEC-301": 6},
    # 效益目标 (30分) over 40; seven named 项目支出 items 1708.46 of 1833.99, the rest said to be 0
    "004": {"RPT-202": 1, "RPT-403": 1, "RPT-501": 1},
}
UNITS = {"000": "岳阳市城市建设档案馆", "001": "岳阳市档案馆", "002": "岳阳市君山区行政审批服务局",
         "003": "衡阳市住房和城乡建设信息中心", "004": "岳阳市云溪区机关事务服务中心"}
CELL = re.compile(r"^报告!表\d+ R\d+C\d+(?:（第\d+页）)?$")
PARA = re.compile(r"^报告!第\d+段(?:（第\d+页）)?$")
TABLE_CODES = ("RPT-501", "RPT-502", "XATT-101")
TEXT_CODES = ("RPT-401", "RPT-402", "RPT-403", "RPT-503", "RPT-504", "SEC-301")


def fixture(n: str) -> Path:
    path = FIX / f"{n}.docx"
    if not path.exists():
        sys.path.insert(0, str(ROOT / "tests"))
        from build_report_fixtures import build_docx

        build_docx(FIX / f"{n}.txt", path)
    return path


@pytest.fixture(scope="module")
def checked(soffice, tmp_path_factory):
    from selfeval_xl.files.libreoffice import convert

    folder = tmp_path_factory.mktemp("reports")
    for n in SEED:
        shutil.copy(fixture(n), folder / f"{n}.docx")
    made = tmp_path_factory.mktemp("made")
    (doc,) = convert([fixture("002")], made / "doc", "doc")
    (pdf,) = convert([fixture("001")], made / "pdf", "pdf")
    shutil.copy(doc, folder / "002旧版.doc")
    shutil.copy(pdf, folder / "001导出.pdf")
    out = tmp_path_factory.mktemp("out") / "结果"
    res = CliRunner().invoke(app, ["check", str(folder), "-o", str(out), "--annotate", "-w", "1"])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["files"]
    return res, summary, out


@pytest.mark.libreoffice
def test_check_on_a_folder_of_reports_finds_each_seeds_discrepancies_and_nothing_else(checked):
    res, summary, _out = checked
    files = {"000.docx": "000", "001.docx": "001", "002.docx": "002", "003.docx": "003", "004.docx": "004",
             "002旧版.doc": "002", "001导出.pdf": "001"}
    assert sorted(summary) == sorted(files)
    got = {name: dict(Counter(f["code"] for f in r["flags"])) for name, r in summary.items()}
    assert got == {name: SEED[n] for name, n in files.items()}
    for name, r in summary.items():
        assert r["unit_name"] == UNITS[files[name]]
        for f in r["flags"]:
            if f["code"] in TABLE_CODES:
                assert CELL.match(f["location"]), (name, f)
            elif f["code"] in TEXT_CODES:
                assert PARA.match(f["location"]), (name, f)
    assert all("第" in f["location"] and "页）" in f["location"]
               for f in summary["001导出.pdf"]["flags"] if f["code"] != "RPT-202")
    # 001's error (XATT-101) gives exit code 1; nothing is unreadable, no copy is missing
    assert res.exit_code == 1, res.output
    assert "0 个无法读取" in res.output and "未写入" not in res.output
    assert "未加批注：001导出.pdf" in res.output


@pytest.mark.libreoffice
def test_each_report_gets_its_commented_copy_the_pdf_none(checked):
    _res, summary, out = checked
    copies = sorted(p.name for p in (out / "批注").iterdir())
    assert copies == ["000.docx", "001.docx", "002.docx", "002旧版.docx", "003.docx", "004.docx"]
    import zipfile

    with zipfile.ZipFile(out / "批注" / "004.docx") as z:
        comments = z.read("word/comments.xml").decode("utf-8")
    assert "RPT-403" in comments and "1708.46" in comments and "RPT-501" in comments
