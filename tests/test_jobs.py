"""One orchestration (#20 part 7): ``selfeval-xl generate/check/report`` and the workspace's
background jobs run the very same job functions (``selfeval_xl.jobs``), and a check's results stay
typed — ``UnitResult`` with ``Flag``s — until they are written to JSON or SQLite (#18 part 6)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfeval_xl.cli import app, run_check, run_report
from selfeval_xl.core.flags import Flag
from selfeval_xl.core.results import UnitResult
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.jobs import check as check_job, generate as generate_job, report as report_job
from selfeval_xl.files.roster import workbook_name
from selfeval_xl.web import work
from selfeval_xl.web.store import Workspace
from selfeval_xl.xlsx.write import write_workbook

from .conftest import EXAMPLES

UNITS = ("000_岳阳市城市建设档案馆", "001_岳阳市档案馆", "002_岳阳市君山区行政审批服务局")


def quiet(*_a, **_k):
    return None


@pytest.fixture
def returns(tmp_path, examples) -> Path:
    """Three units' workbooks (their seeds' errors kept), named as generate names them."""
    folder = tmp_path / "回收"
    folder.mkdir()
    for key in UNITS:
        d = examples[key]
        write_workbook(d, get_profile(d.profile), folder / workbook_name(d.code, d.name, d.year))
    return folder


@pytest.fixture
def workspace(tmp_path, returns):
    """A campaign of the example roster, its region and year, with the same three files stored."""
    ws = Workspace(tmp_path / "ws")
    cid = ws.create_campaign("2023年度自评", "yueyang-2023", 2023)
    work.import_roster(ws, cid, EXAMPLES / "roster.csv")
    items = []
    for f in sorted(returns.iterdir()):
        stored = ws.store(iter([f.read_bytes()]), 10 ** 8)
        items.append((stored.sha256, f.name, stored.size))
    return ws, cid, items


def spy(monkeypatch, module, name: str) -> list:
    """Record every call of ``module.name`` (and its return) while still running it."""
    calls: list = []
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append((args, kwargs, out))
        return out

    monkeypatch.setattr(module, name, wrapper)
    return calls


def _same(r: UnitResult) -> tuple:
    """What a check says of a unit, whoever ran it (not where the file sat)."""
    return (r.status, r.unit_code, r.year, r.profile, r.recomputed_total, r.grade, r.rate, r.budget, r.executed,
            [(f.code, f.severity, f.location, f.stated, f.expected, f.message) for f in r.flags])


def test_the_cli_and_the_workspace_run_one_check_job_with_equal_results(tmp_path, returns, workspace, monkeypatch):
    ws, cid, items = workspace
    calls = spy(monkeypatch, check_job, "check")
    expect = work.judging_for(ws, ws.campaign(cid))
    assert run_check([returns], tmp_path / "结果", workers=1, echo=quiet, expect=expect) == 1  # the seeds' errors
    web = work.check_items(ws, cid, items, workers=1)
    assert len(calls) == 2, "the CLI and the workspace must both go through jobs.check.check"
    cli_results = calls[0][2].results
    assert [type(r) for r in cli_results + web] == [UnitResult] * 6
    by_name = {Path(r.file).name: r for r in cli_results}
    for (_, name, _), w in zip(items, web):
        assert _same(w) == _same(by_name[name]), name
        assert w.flags and all(isinstance(f, Flag) for f in w.flags)
    # what only the workspace asks for: who filled each workbook in (its list of late units)
    assert all("contacts" in r.extra for r in web) and not any("contacts" in r.extra for r in cli_results)


def test_results_are_typed_until_written(tmp_path, returns, workspace, monkeypatch):
    """``UnitResult.as_dict`` is called only where a result is written: summary.json (the summary
    writer) and the workspace's SQLite (``web.work``) — never by the jobs, the CLI or the 汇总表."""
    import sys

    callers: list[str] = []
    real = UnitResult.as_dict

    def as_dict(self):
        callers.append(sys._getframe(1).f_globals["__name__"])
        return real(self)

    monkeypatch.setattr(UnitResult, "as_dict", as_dict)
    summaries = spy(monkeypatch, check_job, "write_summary")
    out = tmp_path / "结果"
    run_check([returns], out, annotate_copies=True, workers=1, echo=quiet)
    assert summaries and all(isinstance(r, UnitResult) for r in summaries[0][0][0])
    assert set(callers) == {"selfeval_xl.xlsx.summary"}  # summary.json, one entry per file
    assert callers.count("selfeval_xl.xlsx.summary") == len(list(returns.iterdir()))
    assert len(list((out / "批注").glob("*.xlsx"))) == 3  # the copies were written from the typed flags
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))["files"]
    assert all(e["flags"] and {"code", "location", "message"} <= set(e["flags"][0]) for e in data.values())

    callers.clear()
    ws, cid, items = workspace
    rows = work.check_upload(ws, cid, items, workers=1)
    assert set(callers) == {"selfeval_xl.web.work"}  # recorded in the database (and read by the reports' pairing)
    stored = [json.loads(ws.upload(r["upload_id"])["result"]) for r in rows]
    assert [UnitResult.from_dict(d).flags[0] for d in stored] == [
        next(r for r in summaries[0][0][0] if Path(r.file).name == n).flags[0] for _, n, _ in items]


def test_the_cli_and_the_workspace_run_one_report_job(tmp_path, returns, workspace, monkeypatch):
    """``report`` and the workspace's compile: the same job, the same reports byte for byte."""
    ws, cid, items = workspace
    calls = spy(monkeypatch, report_job, "report")
    expect = work.judging_for(ws, ws.campaign(cid))
    cli_out = tmp_path / "报告"
    assert run_report([returns], cli_out, workers=1, echo=quiet, expect=expect) == 0
    work.check_upload(ws, cid, items, workers=1)
    ids = [b["id"] for b in ws.board(cid) if b["upload_id"]]
    assert len(ids) == 3
    dest = work.compile_zip(ws, cid, ids, tmp_path / "汇总.zip", workers=1)
    assert len(calls) == 2, "report and the workspace's compile must both go through jobs.report.report"
    assert all(isinstance(r, UnitResult) for _, _, run in calls for r in run.results)
    with zipfile.ZipFile(dest) as z:
        web = {Path(n).name: z.read(n) for n in z.namelist() if n.startswith("报告/")}
        assert {"汇总表.xlsx", "summary.json"} <= set(z.namelist())
    cli = {p.name: p.read_bytes() for p in cli_out.glob("*.docx")}
    assert len(cli) == 3 and cli == web


def test_the_cli_and_the_workspace_run_one_generate_job(tmp_path, workspace, monkeypatch):
    ws, cid, _ = workspace
    calls = spy(monkeypatch, generate_job, "generate")
    r = CliRunner().invoke(app, ["generate", str(EXAMPLES / "roster.csv"), "-o", str(tmp_path / "模板"), "-y", "2023",
                                 "-w", "1"])
    assert r.exit_code == 0, r.output
    work.templates_zip(ws, cid, tmp_path / "模板.zip", workers=1)
    assert len(calls) == 2
    cli_names = sorted(p.name for p in (tmp_path / "模板").glob("*.xlsx"))
    with zipfile.ZipFile(tmp_path / "模板.zip") as z:
        assert sorted(z.namelist()) == cli_names
    assert all(g.ok and Path(g.file).name in cli_names for _, _, run in calls for g in run.results)


def test_a_broken_worker_is_a_typed_unreadable_result(tmp_path, returns, monkeypatch):
    """A bug in one file's check costs that file (无法读取 with the reason), typed like the rest."""
    from selfeval_xl.jobs import checking

    real = checking.check_unit
    victim = sorted(returns.iterdir())[1]

    def sometimes(path, *a, **k):
        if Path(path) == victim:
            raise RuntimeError("测试用的错误")
        return real(path, *a, **k)

    monkeypatch.setattr(check_job, "check_unit", sometimes)
    run = check_job.check(check_job.plan(sorted(returns.iterdir())), workers=1)
    assert [type(r) for r in run.results] == [UnitResult] * 3
    bad = run.results[1]
    assert not bad.readable and "测试用的错误" in bad.reason and bad.name == victim.name
    assert run.results[0].readable and run.results[2].readable


def test_report_names_read_in_workers_are_the_names_read_in_turn(returns, monkeypatch):
    # a large batch reads each input's metadata in the workers; the names (in the region's words,
    # numbered where two inputs are one unit) are the ones reading them in turn gives
    files = sorted(returns.iterdir())
    twice = returns / "再交一次.xlsx"
    twice.write_bytes(files[0].read_bytes())
    broken = returns / "坏文件.xlsx"
    broken.write_bytes(b"not a zip")
    files = sorted(returns.iterdir())
    in_turn = report_job.names(files, None, workers=1)
    monkeypatch.setattr(report_job, "PARALLEL_NAMES", 2)
    assert report_job.names(files, None, workers=2) == in_turn
    assert len(set(in_turn)) == len(files) and "坏文件_整体支出绩效自评报告.docx" in in_turn, in_turn


# -- 汇总表.xlsx written while the workers check ---------------------------------------------------

def _sheet_rows(path: Path) -> dict[str, list]:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets if ws.title != "统计图"}


def _refuse_writing_after(monkeypatch) -> list:
    """``write_xlsx`` (the summary written from gathered results) recorded, so a test can say
    whether the streamed one was kept."""
    from selfeval_xl.xlsx import summary as summary_mod

    return spy(monkeypatch, summary_mod, "write_xlsx")


def test_the_summary_filled_while_checking_is_the_one_written_after(tmp_path, returns, monkeypatch):
    (returns / "坏.xlsx").write_bytes(b"PK\x03\x04 not a workbook")  # an unreadable row too
    after = _refuse_writing_after(monkeypatch)
    files = sorted(returns.iterdir())
    run = check_job.check(check_job.plan(files), summary=tmp_path, workers=2,
                          others=[(returns / "说明.txt", "不是 .xlsx 工作簿，已跳过")])
    assert after == []  # the streamed workbook was finished, not written again
    from selfeval_xl.xlsx.summary import write_xlsx

    write_xlsx(run.results, tmp_path / "after.xlsx")
    streamed, written = _sheet_rows(tmp_path / "汇总表.xlsx"), _sheet_rows(tmp_path / "after.xlsx")
    assert streamed == written
    assert len(streamed["问题清单"]) - 1 == sum(len(r.flags) for r in run.results) > 0
    assert [r[0] for r in streamed["无法读取"][1:]] == ["坏.xlsx", "说明.txt"]


def test_a_flag_the_batch_adds_after_a_row_went_out_is_in_the_summary(tmp_path, examples, monkeypatch):
    """The batch-level checks (a year unlike the rest) change a unit after its row was streamed:
    the summary is then written again from the results, so the flag is not lost."""
    base = examples["001_岳阳市档案馆"]
    src = tmp_path / "回收"
    for i in range(3):
        write_workbook(base.model_copy(update={"code": f"00{i}"}), get_profile(base.profile), src / f"00{i}.xlsx")
    write_workbook(base.model_copy(update={"code": "009", "year": 2022}), get_profile(base.profile), src / "009.xlsx")
    after = _refuse_writing_after(monkeypatch)
    out = tmp_path / "o"
    out.mkdir()
    check_job.check(check_job.plan(sorted(src.iterdir())), summary=out, workers=1)
    assert len(after) == 1
    flags = _sheet_rows(out / "汇总表.xlsx")["问题清单"]
    assert [r[2] for r in flags if r[0] == "009.xlsx"][0] == "META-208"


def test_a_summary_row_that_cannot_be_streamed_costs_nothing(tmp_path, returns, monkeypatch):
    """A bug while streaming a row drops the stream, never a result: the summary is written
    from the results afterwards, every unit in it."""
    from selfeval_xl.xlsx import summary as summary_mod

    real, calls = summary_mod.SummaryWorkbook._write, []

    def first_fails(self, r):
        calls.append(r.name)
        if len(calls) == 1:
            raise RuntimeError("a bug while writing a row")
        return real(self, r)

    monkeypatch.setattr(summary_mod.SummaryWorkbook, "_write", first_fails)
    after = _refuse_writing_after(monkeypatch)
    run = check_job.check(check_job.plan(sorted(returns.iterdir())), summary=tmp_path, workers=1)
    assert len(after) == 1 and len(run.results) == 3
    rows = _sheet_rows(tmp_path / "汇总表.xlsx")["汇总"][2:]
    assert [r[0] for r in rows] == sorted(f.name for f in returns.iterdir())
    assert not list(tmp_path.glob(".~selfeval-*"))  # the dropped stream left no temp file
