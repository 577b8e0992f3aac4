"""check on real workbooks: clean round trips raise no arithmetic error; corruption is caught."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl

from selfeval_xl.core.model import Department
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from selfeval_xl.jobs.checking import check_workbook
from selfeval_xl.cli import app
from selfeval_xl.forms.layout import compile_layout
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.forms.recompute import derive
from selfeval_xl.xlsx.write import shape_for, write_workbook

from .conftest import EXAMPLES
from .strategies import departments

TS = dt.datetime(2024, 1, 1)
ARITHMETIC = ("SUM-", "RATE-1", "SCORE-101", "SCORE-102", "SCORE-104", "WEIGHT-102", "XATT-101", "XATT-102",
              "FORMULA-", "READ-")
P = get_profile("yueyang-2023")
# derived keys worth corrupting, with the code the checker must answer
CORRUPTIBLE = [
    ("projects[0].funds.total.executed", "SUM-101"), ("projects[0].funds.total.full", "SUM-101"),
    ("basic.three_public.final", "SUM-102"), ("basic.car.budget", "SUM-102"),
    ("basic.projects.total.final", "SUM-103"), ("basic.projects.cat0.budget", "SUM-103"),
    ("overall.executed", "SUM-104"), ("overall.score", "SCORE-101"), ("overall.total_score", "SCORE-102"),
    ("projects[0].total_score", "SCORE-102"), ("overall.weight_total", "WEIGHT-102"),
    ("overall.expense_project", "XATT-101"), ("projects[0].basic.final", "XATT-102"),
]


@settings(max_examples=12, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_clean_fill_has_no_arithmetic_error_and_each_corruption_is_caught(tmp_path, data):
    dept = data.draw(departments(P, max_projects=2))
    dept = dept.model_copy(update={"projects": dept.projects or [], "stated": {}})
    path = write_workbook(dept, P, tmp_path / "clean.xlsx", generated_at=TS)
    r = check_workbook(path)
    assert not [f for f in r["flags"] if f["code"].startswith(ARITHMETIC) and f["code"] != "SUM-105"], r["flags"]

    layout = compile_layout(P, shape_for(dept, P))
    # a cell the unit's workbook has (附件1 rows exist only for projects with a 附件1 category)
    key, code = data.draw(st.sampled_from([c for c in CORRUPTIBLE if c[0] in layout.where]))
    right = derive(dept, layout)[key]
    wrong = (right or 0) + data.draw(st.sampled_from([1, 12.5, 100]))
    # a clerk types a constant over the formula cell
    sh, cell = layout.where[key]
    wb = openpyxl.load_workbook(path)
    wb[sh.name].cell(cell.r + 1, cell.c + 1).value = wrong
    wb.save(tmp_path / "bad.xlsx")
    r = check_workbook(tmp_path / "bad.xlsx")
    loc = layout.location(key)
    got = [(f["code"], f["location"]) for f in r["flags"]]
    assert (code, loc) in got, (key, got)
    assert ("FORMULA-101", loc) in got


def test_stale_cached_value_is_caught_without_tampering(tmp_path, examples):
    dept = examples["001_岳阳市档案馆"]  # its stated (wrong) totals are written as cached values
    path = write_workbook(dept, P, tmp_path / "stale.xlsx", generated_at=TS)
    r = check_workbook(path)
    codes = {(f["code"], f["location"]) for f in r["flags"]}
    assert ("SUM-103", "附件1!F12") in codes and not any(c.startswith("FORMULA-101") for c, _ in codes)


def test_check_cli_outputs_and_exit_codes(tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    filled = tmp_path / "demo" / "2-预填示例"
    res = CliRunner().invoke(app, ["check", str(filled), "-o", str(out), "--annotate"])
    assert res.exit_code == 1, res.output  # seeds 001, 002 and 003 have errors
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["files"]
    assert len(summary) == 5
    e = summary["430600101_岳阳市档案馆_2023年度绩效自评.xlsx"]
    assert e["status"] == "有错误" and e["recomputed_total"] == 100 and e["grade"] == "优"
    assert {"code", "severity", "location", "stated", "expected", "message"} <= set(e["flags"][0])
    wb = openpyxl.load_workbook(out / "汇总表.xlsx")
    assert wb.sheetnames == ["汇总", "问题清单", "无法读取", "统计图"]
    assert wb["汇总"].max_row == 7 and wb["问题清单"].max_row > 20  # a title row, the header, 5 units
    # the dashboard's counts, with a bar chart over each: grades of the 5 checked units add up to 5
    stats = wb["统计图"]
    assert stats["A1"].value == "评价等次分布" and len(stats._charts) == 4
    grades, r = [], 2
    while stats.cell(r, 1).value:
        grades.append(stats.cell(r, 2).value)
        r += 1
    assert sum(grades) == wb["汇总"].max_row - 2
    ann = openpyxl.load_workbook(out / "批注" / "430600101_岳阳市档案馆_2023年度绩效自评.xlsx")
    assert ann.sheetnames[0] == "校验结果"
    c = ann["附件1"]["F12"]
    assert c.comment and "SUM-103" in c.comment.text and c.fill.fgColor.rgb.endswith("FFC7CE")
    # the copy recalculates on opening: the comment names the figure the returned file held, as such
    assert "交回的文件中此格为 588.56" in c.comment.text and "587.06" in c.comment.text and "重新计算" in c.comment.text
    # seed 000 gives no 全年预算数 (its report has no 附件2 funds block): an error, not a pass
    e0 = next(e for e in summary.values() if e["unit_name"] == "岳阳市城市建设档案馆")
    assert e0["status"] == "有错误" and "FILL-102" in {f["code"] for f in e0["flags"]}
    # with its 全年预算数 given, the same unit is clean and exits 0
    from selfeval_xl.checks import check

    data = json.loads((EXAMPLES / "data" / "000_岳阳市城市建设档案馆.json").read_text(encoding="utf-8"))
    data["overall"]["budget_full"] = check(Department.model_validate(data), P).derived["overall.executed"]
    (tmp_path / "clean.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    clean = tmp_path / "clean.xlsx"
    CliRunner().invoke(app, ["fill", str(tmp_path / "clean.json"), "-o", str(clean)])
    res = CliRunner().invoke(app, ["check", str(clean), "-o", str(tmp_path / "o2")])
    assert res.exit_code == 0, res.output


def test_annotate_never_overwrites_the_original(tmp_path, examples):
    path = write_workbook(examples["002_岳阳市君山区行政审批服务局"], P, tmp_path / "a.xlsx")
    before = path.read_bytes()
    res = CliRunner().invoke(app, ["annotate", str(path), "-o", str(path)])
    assert res.exit_code == 2 and "就是输入文件" in res.output
    res = CliRunner().invoke(app, ["annotate", str(path), "-o", str(tmp_path / "b.xlsx")])
    assert res.exit_code == 0, res.output
    assert path.read_bytes() == before


def test_outputs_are_byte_identical_whatever_the_workers(tmp_path):
    """generate and report with 1 and 2 workers, fixed timestamp: identical bytes."""
    outs = {}
    for w in (1, 2):
        d = tmp_path / f"w{w}"
        r = CliRunner().invoke(app, ["generate", str(EXAMPLES / "roster.csv"), "-o", str(d / "gen"), "--year", "2023",
                                     "--timestamp", "2024-01-01T00:00:00", "--workers", str(w)])
        assert r.exit_code == 0, r.output
        r = CliRunner().invoke(app, ["report", str(EXAMPLES / "data"), "-o", str(d / "rep"), "--workers", str(w)])
        assert r.exit_code == 0, r.output
        outs[w] = {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob("*")) if p.suffix in (".xlsx", ".docx")}
    assert len(outs[1]) == 3 + 5 + 1 and outs[1] == outs[2]  # 3 roster units, 5 example reports, 汇总表


def test_annotated_copy_sent_back_reads_the_same(tmp_path, examples):
    """Coordinator annotates, the clerk corrects in that copy and returns it: the copy must read
    back to the same inputs and raise no flag the original did not (openpyxl, which writes the
    copy, empties cached values: the claims they held are lost, never invented)."""
    from selfeval_xl.xlsx.annotate import annotate
    from selfeval_xl.xlsx.read import extract

    path = write_workbook(examples["001_岳阳市档案馆"], P, tmp_path / "a.xlsx", generated_at=TS)
    first = check_workbook(path)
    copy = annotate(path, first["flags"], tmp_path / "back" / "a.xlsx")
    again = check_workbook(copy)
    assert again["status"] != "无法读取"
    assert {(f["code"], f["location"]) for f in again["flags"]} <= {(f["code"], f["location"]) for f in first["flags"]}
    assert extract(copy).model_copy(update={"stated": {}}) == extract(path).model_copy(update={"stated": {}})
    assert openpyxl.load_workbook(copy).sheetnames[0] == "校验结果"
