"""A report's Word tables read as the region's forms and checked (issue #19 parts 1–3).

The seeds' discrepancies were found by reading tests/fixtures/reports/NNN.txt (the seeds'
text): each must appear with its code at its table cell, and the parts that agree raise
nothing. Small documents drawn inline (python-docx) try what clerks do to tables: merged
cells, a label and its figure in one cell, a table split at a page break, blank rows,
full-width digits, a score typed "00"."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import docx
import pytest
from docx.shared import Pt
from typer.testing import CliRunner

from selfeval_xl.jobs.checking import check_report, check_workbook, pair_reports, workbook_unit
from selfeval_xl.jobs.check import check_item
from selfeval_xl.cli import app
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.wordin.read import read_report
from selfeval_xl.wordin.tablecheck import attachment_list, check_report_tables, two_units
from selfeval_xl.wordin.tables import match_tables, read_typed

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "reports"
EXAMPLES = ROOT / "examples" / "data"
REGION = {"000": "yueyang-2023", "001": "yueyang-2023", "002": "yueyang-2023", "003": "hengyang-2022",
          "004": "yunxi-2023"}
TABLE_CODES = ("RPT-5", "RPT-6", "RATE-", "SCORE-", "WEIGHT-", "SUM-", "XATT-", "CALC-")

# what reading the seeds finds in their tables (code, cell): nothing else may be flagged there
SEED_FLAGS = {
    "000": set(),
    # 附件2 项目支出 588.43 against 附件1's 588.56; the list numbers 附件3–7 what the tables label
    # 附件3（1）–（5）; 1200㎡ of shelving in 附件3（3）, 1200㎥ in the text
    "001": {("XATT-101", "报告!表2 R6C3"), ("RPT-503", "报告!第1343段"), ("RPT-504", "报告!第1308段")},
    "002": set(),
    # 整体表: 效益 (40分) over five rows of 10 (社会满意度 written under 效益); each 项目表: 效益 (30分)
    # over rows worth 40, and 总分 "00" where the rows add up to 100
    "003": {("RPT-501", "报告!表2 R17C2"), ("RPT-501", "报告!表3 R5C2"), ("RPT-502", "报告!表4 R6C3"),
            ("RPT-501", "报告!表5 R5C2"), ("RPT-502", "报告!表6 R6C3")},
    # 效益目标 (30分) over 5 + 10 + 5 + 5 + 5 + 5 + 5 = 40
    "004": {("RPT-501", "报告!表5 R17C2")},
}


def fixture(n: str) -> Path:
    path = FIX / f"{n}.docx"
    if not path.exists():
        sys.path.insert(0, str(ROOT / "tests"))
        from build_report_fixtures import build_docx

        build_docx(FIX / f"{n}.txt", path)
    return path


@pytest.fixture(scope="module")
def seeds():
    out = {}
    for n, rid in REGION.items():
        profile = get_profile(rid)
        rep = read_report(fixture(n), profile)
        out[n] = (rep, profile, match_tables(rep, profile))
    return out


@pytest.mark.parametrize("n", sorted(REGION))
def test_seed_tables_raise_their_discrepancies_and_nothing_else(seeds, n):
    rep, profile, forms = seeds[n]
    flags = check_report_tables(rep, profile, forms=forms)
    got = {(f.code, f.location) for f in flags if f.code.startswith(TABLE_CODES)}
    assert got == SEED_FLAGS[n]
    for f in flags:  # each flag's comment anchors in the paragraph of its cell
        p = rep.para(f.place.paragraph)
        assert p is not None and str(p.where).split(" ")[0] == f.location.split(" ")[0]


def test_seed_001_tables_are_read_beside_their_labels(seeds):
    _rep, _profile, forms = seeds["001"]
    assert [f.role for f in forms] == ["basic", "overall"] + ["project"] * 5
    overall = forms[1]
    assert overall.value("overall.budget_full") == 1049.31
    assert str(overall.figures["overall.budget_full"].where) == "报告!表2 R3C4"
    assert overall.value("overall.expense_basic") == 462.88  # “其中：基本支出：462.88” in one cell
    assert overall.value("overall.rate") == 1.0  # “100%”
    assert overall.value("overall.total_score") == 100
    # the indicator rows, merged 一级/二级 cells and all: 13 产出 rows, 6 效益, 1 满意度
    printed = {p.name: (p.points, len(p.weights)) for p in overall.printed}
    assert printed == {"产出指标": (50, 13), "效益指标": (30, 6), "满意度指标": (10, 1)}
    names = [f.value(f"projects[{f.index}].name") for f in forms[2:]]
    assert names == ["大楼运行维护费", "档案保管保护费", "市档案馆库房密集架建设", "市档案馆智慧档案一期项目建设",
                     "档案保护开发和档案资源建设项目"]
    smart = forms[5]
    assert smart.value("projects[3].funds.rate") == 0.64 and smart.value("projects[3].funds.score") == 6.4
    assert str(smart.figures["projects[3].total_score"].where) == "报告!表16 R6C3"


def test_seed_003_score_typed_00_is_said_with_what_belongs_there(seeds):
    rep, profile, forms = seeds["003"]
    f = next(f for f in check_report_tables(rep, profile, forms=forms) if f.code == "RPT-502")
    assert "“00”" in f.message and "应为 100" in f.message and f.expected == 100


def test_seed_004_total_printed_across_the_row_is_the_total_score(seeds):
    _rep, _profile, forms = seeds["004"]
    overall = forms[0]
    assert overall.value("overall.total_score") == 96 and overall.value("overall.weight_total") is None
    assert overall.value("overall.grade") == "优"


@pytest.mark.parametrize("raw,vtype,want", [
    ("１,０４９.３１万元", "money", (1049.31, True)), ("　99%", "rate", (0.99, True)), ("100", "rate", (1.0, True)),
    ("0.97", "rate", (0.97, True)), ("00", "score", (None, False)), ("09", "weight", (None, False)),
    ("9.5分", "score", (9.5, True)), ("——", "money", (None, True)), ("良好", "score", (None, False)),
    ("99\n 附件4", "score", (99.0, True)), ("", "money", (None, True)),
])
def test_cells_are_read_with_the_readers_number_rules(raw, vtype, want):
    assert read_typed(raw, vtype) == want


# -- documents drawn inline ----------------------------------------------------------------------------

def _table(d, rows: list[list[str]], merges: tuple = ()):
    t = d.add_table(rows=len(rows), cols=max(len(r) for r in rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            t.cell(r, c).text = text
    for (r0, c0), (r1, c1) in merges:
        keep = t.cell(r0, c0).text
        t.cell(r0, c0).merge(t.cell(r1, c1)).text = keep
    return t


def _overall_doc(path: Path, *, rate="100%", benefit="（30分）", total_score="95", split=True, extra_blank=True):
    """附件2 of yueyang-2023 as a clerk types it into Word."""
    d = docx.Document()
    d.styles["Normal"].font.size = Pt(10)
    d.add_paragraph("2023年度部门整体支出绩效自评表")
    _table(d, [
        ["市级预算部门名称", "某某局", "", "", "", "", "", ""],
        ["年度预算申请（万元）", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        ["", "年度资金总额", "１,０００", "1000", "1000", "10", rate, "10"],
        ["", "按收入性质分：", "按支出性质分：", "", "", "", "", ""],
        ["", "其中：一般公共预算：1000", "其中：基本支出：400", "", "", "", "", ""],
        ["", "政府性基金拨款：", "项目支出：600", "", "", "", "", ""],
        ["绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"],
        ["", "产出指标（50分）", "数量指标", "办件量", "≥30万件", "31万件", "20", "20", "无"],
        ["", "", "", "巡查", "12次", "12次", "10", "10", "无"],
        ["", "", "质量指标", "办结率", "100%", "100%", "20", "20", "无"],
    ] + ([["", "", "", "", "", "", "", "", ""]] if extra_blank else []) + ([] if split else [
        ["", "效益指标" + benefit, "社会效益指标", "营商环境", "优化", "优化", "20", "15", "有差距"],
        ["", "", "可持续影响指标", "服务水平", "提升", "提升", "10", "10", "无"],
        ["", "满意度指标（10分）", "服务对象满意度指标", "满意度", "≥95%", "96%", "10", "10", "无"],
        ["总分", "100", total_score, "", "", "", "", "", ""],
    ]), merges=(((0, 1), (0, 7)), ((2, 0), (5, 0)), ((7, 1), (9, 1)), ((7, 2), (8, 2))))
    if split:  # a page break inside the 效益 cell: its weight lands in a paragraph of its own
        _table(d, [["", "效益指标", "效益指标", "效益指标", "效益指标", "效益指标", "效益指标", "效益指标", "效益指标"]],
               merges=(((0, 1), (0, 8)),))
        d.add_paragraph(benefit)
        _table(d, [
            ["社会效益指标", "营商环境", "优化", "优化", "20", "15", "有差距"],
            ["可持续影响指标", "服务水平", "提升", "提升", "10", "10", "无"],
            ["满意度指标（10分）", "服务对象满意度指标", "满意度", "≥95%", "96%", "10", "10", "无"],
            ["总分", "100", total_score, "", "", "", "", ""],
        ])
    d.save(path)
    return path


def _check(path: Path):
    profile = get_profile("yueyang-2023")
    rep = read_report(path, profile)
    forms = match_tables(rep, profile)
    return rep, forms, check_report_tables(rep, profile, forms=forms)


def test_a_consistent_table_typed_loosely_raises_nothing(tmp_path):
    _rep, forms, flags = _check(_overall_doc(tmp_path / "ok.docx"))
    assert [f.code for f in flags] == []
    o = next(f for f in forms if f.role == "overall")
    assert o.value("overall.budget_initial") == 1000  # full-width digits with a thousands separator
    assert o.value("overall.income.general") == 1000 and o.value("overall.expense_project") == 600
    assert [p.points for p in o.printed] == [50, 30, 10]  # 30 came back from the paragraph between tables
    assert o.value("overall.ind.social.0.score") == 15 and o.value("overall.ind.satisfaction.0.weight") == 10
    assert o.value("overall.total_score") == 95


@pytest.mark.parametrize("split", [True, False])
def test_wrong_figures_are_flagged_at_their_cells(tmp_path, split):
    rep, forms, flags = _check(_overall_doc(tmp_path / "bad.docx", rate="90%", benefit="（40分）",
                                            total_score="00", split=split))
    by = {f.code: f for f in flags}
    # the printed 90% is not 1000 ÷ 1000, and the score 10 is not 10 × the printed 90%
    assert set(by) == {"RATE-101", "SCORE-101", "RPT-501", "RPT-502"}
    # said as 岳阳's 附件2 prints its rate (to whole percents), not as a fraction
    assert by["RATE-101"].location == "报告!表1 R3C7" and "表中为 90%，按表中各数重算应为 100%" in by["RATE-101"].message
    assert by["RATE-101"].stated == 0.9 and by["RATE-101"].expected == 1.0
    assert by["RPT-501"].stated == 40 and by["RPT-501"].expected == 30
    assert by["RPT-502"].expected == 95  # 10 (执行率得分) + 50 + 25 + 10: what the rows give
    where = by["RPT-502"].location
    assert where == ("报告!表3 R4C3" if split else "报告!表1 R15C3")  # after the extra blank row
    p = rep.para(by["RPT-502"].place.paragraph)
    assert p.text == "00"  # the comment lands in the cell itself


def test_attachment_list_and_units_on_their_own():
    from selfeval_xl.wordin.model import Para, WordReport

    paras = [Para(1, "附件："), Para(2, "1.基础数据表"), Para(3, "2.整体支出绩效自评表"), Para(4, "3.甲项目支出绩效自评表"),
             Para(5, "4.乙项目支出绩效自评表"), Para(6, ""), Para(7, "附件3（1）"), Para(8, "附件3（2）"),
             Para(9, "库房1200㎡", table=1, row=2, col=3), Para(10, "改造库房1200立方米。")]
    rep = WordReport("x.docx", "docx", paras, [])
    [f] = attachment_list(rep)
    assert f.location == "报告!第4段" and "附件3–附件4" in f.message and "附件3（1）–附件3（2）" in f.message
    [u] = two_units(rep)
    assert u.location == "报告!第10段" and "表1 R2C3" in u.message
    ok = WordReport("y.docx", "docx", paras[:6] + [Para(7, "附件3"), Para(8, "附件4"), Para(9, "1200㎡"), Para(10, "1200平方米")], [])
    assert attachment_list(ok) == [] and two_units(ok) == []


# -- with the unit's workbook ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def unnamed_folder(tmp_path_factory):
    """001's workbook under a name that says nothing, beside two reports that say nothing either."""
    d = tmp_path_factory.mktemp("unnamed")
    data = json.loads((EXAMPLES / "001_岳阳市档案馆.json").read_text(encoding="utf-8"))
    data["overall"]["budget_full"] = 1050.31  # the workbook says 1050.31, the report's table 1049.31
    src = d / "src.json"
    src.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    res = CliRunner().invoke(app, ["fill", str(src), "-o", str(d / "a.xlsx")])
    assert res.exit_code == 0, res.output
    src.unlink()
    shutil.copy(fixture("001"), d / "报告一.docx")
    shutil.copy(fixture("003"), d / "报告二.docx")
    return d


def test_workbook_and_report_are_paired_by_the_unit_on_the_cover(unnamed_folder):
    assert workbook_unit(unnamed_folder / "a.xlsx")[1] == "岳阳市档案馆"
    items = pair_reports(sorted(unnamed_folder.iterdir()))
    assert (unnamed_folder / "a.xlsx", unnamed_folder / "报告一.docx") in items
    assert unnamed_folder / "报告二.docx" in items


def test_paired_report_tables_are_compared_with_the_workbook(unnamed_folder):
    r = check_workbook(unnamed_folder / "a.xlsx", report=unnamed_folder / "报告一.docx")
    diff = [f for f in r["flags"] if f["code"] == "RPT-601"]
    assert [(f["location"], f["stated"], f["expected"]) for f in diff] == [("报告!表2 R3C4", 1049.31, 1050.31)]
    assert "附件2!E5" in diff[0]["message"]
    assert any(f["code"] == "XATT-101" and f["location"] == "报告!表2 R6C3" for f in r["flags"])


def test_a_report_alone_is_checked_on_its_tables(tmp_path):
    r = check_report(fixture("003"))
    got = {(f["code"], f["location"]) for f in r["flags"] if f["code"].startswith(TABLE_CODES)}
    assert got == SEED_FLAGS["003"]
    out = check_item(fixture("004"), folder=str(tmp_path))
    assert any(f.code == "RPT-501" and f.location == "报告!表5 R17C2" for f in out.flags)


def test_reading_and_matching_a_seed_report_is_quick():
    """Printed, not asserted (speed belongs in benchmarks/; benchmarks/read_reports.py times it)."""
    profile = get_profile("yueyang-2023")
    t0 = time.perf_counter()
    rep = read_report(fixture("001"), profile)
    forms = match_tables(rep, profile)
    check_report_tables(rep, profile, forms=forms)
    print(f"\n001.docx read, matched and checked in {time.perf_counter() - t0:.2f} s ({len(forms)} forms)")
    assert len(forms) == 7
