"""PDF reports: ruled tables read into the grid model the .docx tables use (issue #19).

Seeds 001 and 003 are printed to PDF by LibreOffice here (as units export them), read back,
and their tables must raise the same flags as the .docx they came from — at the PDF's own
table cells, with the page. 001's PDF breaks an indicator row over pages 18 and 19; read as
two rows it would give three false flags, so the test also holds the split-row joining."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from selfeval_xl.forms.regions import get_profile
from selfeval_xl.wordin.model import Grid, Para
from selfeval_xl.wordin.pdf import _continues, _join_split_row, columns_under
from selfeval_xl.wordin.read import read_report
from selfeval_xl.wordin.tablecheck import check_report_tables
from selfeval_xl.wordin.tables import match_tables
from selfeval_xl.wordin.textcheck import check_report_text

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "reports"
REGION = {"001": "yueyang-2023", "003": "hengyang-2022"}


def fixture(n: str) -> Path:
    path = FIX / f"{n}.docx"
    if not path.exists():
        sys.path.insert(0, str(ROOT / "tests"))
        from build_report_fixtures import build_docx

        build_docx(FIX / f"{n}.txt", path)
    return path


@pytest.fixture(scope="module")
def pdfs(soffice, tmp_path_factory):
    from selfeval_xl.files.libreoffice import convert

    out = tmp_path_factory.mktemp("pdf")
    made = convert([fixture(n) for n in REGION], out, "pdf")
    return dict(zip(REGION, made))


def _flags(path: Path, n: str):
    profile = get_profile(REGION[n])
    rep = read_report(path, profile)
    forms = match_tables(rep, profile)
    return rep, forms, check_report_tables(rep, profile, forms=forms) + check_report_text(rep)


@pytest.mark.libreoffice
@pytest.mark.parametrize("n", sorted(REGION))
def test_pdf_tables_raise_the_same_flags_as_the_docx(pdfs, n):
    rep_d, forms_d, flags_d = _flags(fixture(n), n)
    rep_p, forms_p, flags_p = _flags(pdfs[n], n)
    assert rep_p.kind == "pdf" and rep_p.grids and not rep_p.missing
    assert [f.role for f in forms_p] == [f.role for f in forms_d]

    def what(flags):
        return Counter((f.code, f.stated, f.expected) for f in flags)

    assert what(flags_p) == what(flags_d)
    assert what(flags_d)  # the seeds have discrepancies: the comparison is not of two empties
    for f in flags_p:  # each points at the PDF's own cell (or paragraph), with its page
        assert re.fullmatch(r"报告!(?:表\d+ R\d+C\d+|第\d+段)（第\d+页）", f.location), f.location
        p = rep_p.para(f.place.paragraph)
        assert str(p.where) == f.location or str(p.where).split("（")[0] == f.location.split("（")[0]
        if f.code in ("RPT-502", "XATT-101"):  # the cell itself holds the figure flagged
            assert str(f.stated).replace(".0", "") in p.text.replace(" ", "")


@pytest.mark.libreoffice
def test_pdf_tables_read_the_figures_beside_their_labels(pdfs):
    _rep, forms, _ = _flags(pdfs["001"], "001")
    overall = forms[1]
    assert overall.value("overall.budget_full") == 1049.31  # wrapped in its cell as “1049.3” / “1”
    assert overall.value("overall.expense_basic") == 462.88
    assert str(overall.figures["overall.budget_full"].where).endswith("页）")
    printed = {p.name: (p.points, len(p.weights)) for p in overall.printed}
    assert printed == {"产出指标": (50, 13), "效益指标": (30, 6), "满意度指标": (10, 1)}


def test_a_row_broken_over_a_page_is_joined_to_the_row_above():
    prev = Grid(1, [["一级", "二级", "三级", "分值", "得分"], ["", "生态效", "生态环", "7", "7"]], 1, page=1)
    paras = [Para(i + 1, t, 1, 2, i + 1, page=1) for i, t in enumerate(prev.rows[1])]
    rows = [["", "益指标", "境改善", "", ""], ["", "可持续", "完好率", "8", "8"]]
    spans = [(1, 1, 3, 2), (1, 2, 2, 3), (1, 3, 2, 4), (1, 4, 2, 5), (1, 5, 2, 6),
             (2, 2, 3, 3), (2, 3, 3, 4), (2, 4, 3, 5), (2, 5, 3, 6)]
    same = [0, 1, 2, 3, 4]
    assert columns_under([0, 10, 20, 30, 40, 50], [0, 10, 20, 30, 40, 50]) == same
    assert _continues(prev.rows[-1], rows[0], same)
    rest, kept = _join_split_row(prev, rows, spans, paras, same)
    assert prev.rows[-1] == ["", "生态效益指标", "生态环境改善", "7", "7"]
    assert [p.text for p in paras] == prev.rows[-1]
    assert rest == [["", "可持续", "完好率", "8", "8"]]
    assert (1, 1, 2, 2) in kept and all(r0 == 1 for r0, *_ in kept)
    # a row of its own (its figures filled) is never joined, nor one under other columns
    assert not _continues(prev.rows[-1], rows[1], same)
    assert not _continues(prev.rows[-1], ["", "益指标", "", ""], [0, 1, 2, 3, 9][:3])
    assert not _continues(["", "", "", "", ""], ["", "x", "", "", ""], same)


def test_a_broken_row_joins_across_tables_cut_into_other_columns():
    """The upper part a row whose last cell spans three columns (7 columns), the lower part
    cut into 9: the lower columns 6–8 fall under the upper column 6."""
    upper = [0, 10, 20, 30, 40, 50, 60, 90]
    lower = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]
    cols = columns_under(upper, lower)
    assert cols == [0, 1, 2, 3, 4, 5, 6, 6, 6]
    prev = Grid(1, [["经济效益指标", "1.基础设施完", "≥96%", "100%", "5", "5", "无"]], 1, page=1)
    paras = [Para(i + 1, t, 1, 1, i + 1, page=1) for i, t in enumerate(prev.rows[0])]
    first = ["", "好率", "", "", "", "", "", "", ""]
    assert _continues(prev.rows[0], first, cols)
    _join_split_row(prev, [first], [(1, 2, 2, 3)], paras, cols)
    assert prev.rows[0][1] == "1.基础设施完好率" and paras[1].text == "1.基础设施完好率"


@pytest.mark.libreoffice
def test_a_running_footer_does_not_hide_a_row_broken_over_the_page(soffice, tmp_path):
    """A page number under a table used to make the table look finished on its page; 001's two
    rows broken over pages must still be joined (without, three false flags)."""
    import docx

    from selfeval_xl.files.libreoffice import convert

    d = docx.Document(str(fixture("001")))
    for section in d.sections:
        section.header.paragraphs[0].text = "岳阳市档案馆2023年度整体支出绩效自评报告"
        section.footer.paragraphs[0].text = "— 第 页 —"
    src = tmp_path / "001页眉页脚.docx"
    d.save(str(src))
    (pdf,) = convert([src], tmp_path, "pdf")
    _rep_d, _forms_d, flags_d = _flags(fixture("001"), "001")
    rep, _forms, flags_p = _flags(pdf, "001")
    assert Counter((f.code, f.stated, f.expected) for f in flags_p) == Counter((f.code, f.stated, f.expected) for f in flags_d)
    # the running header and footer are not the report's text (a .docx is read without them)
    assert not any("第 页" in p.text or "第页" in p.text or p.text.startswith("岳阳市档案馆2023年度整体") for p in rep.paras)
