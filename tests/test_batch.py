"""Batches: Ctrl-C stops cleanly, and two inputs never write the same output file."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfeval_xl.jobs import batch
from selfeval_xl.jobs.batch import unique_names
from selfeval_xl.cli import app
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.xlsx.write import write_workbook

CLI = Path(sys.executable).parent / "selfeval-xl"


def _copies(tmp_path, dept, n):
    src = write_workbook(dept, get_profile(dept.profile), tmp_path / "src.xlsx")
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(n):
        shutil.copy(src, folder / f"{dept.code}_{i}.xlsx")
    return folder


@pytest.mark.parametrize("method", ["fork", "spawn"])  # spawn: how Windows and macOS start workers
def test_ctrl_c_stops_cleanly_and_reports_what_was_done(tmp_path, examples, method):
    folder = _copies(tmp_path, examples["002_岳阳市君山区行政审批服务局"], 1000)
    out = tmp_path / "out"
    proc = subprocess.Popen([str(CLI), "report", str(folder), "-o", str(out), "-w", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            env=dict(os.environ, SELFEVAL_START_METHOD=method))
    while not (out.exists() and any(out.glob("*.docx"))):  # wait until work is under way
        time.sleep(0.1)
        assert proc.poll() is None, proc.stdout.read()
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends to the whole group
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, output
    assert "已中断" in output and "/1000" in output
    assert not list(out.glob(".~selfeval-*")), "a half-written temporary file was left behind"
    done = list(out.glob("*.docx"))
    assert 0 < len(done) < 1000
    for f in done:  # every file on disk is complete
        with zipfile.ZipFile(f) as z:
            assert z.testzip() is None and "word/document.xml" in z.namelist()


def test_two_workbooks_of_one_unit_get_two_reports(tmp_path, examples):
    folder = _copies(tmp_path, examples["000_岳阳市城市建设档案馆"], 2)
    sub = folder / "again"
    sub.mkdir()
    shutil.copy(next(folder.glob("*_0.xlsx")), sub)  # same file name in another folder
    res = CliRunner().invoke(app, ["report", str(folder), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert len(list((tmp_path / "out").glob("*.docx"))) == 3
    res = CliRunner().invoke(app, ["check", str(folder), "-o", str(tmp_path / "chk"), "--annotate"])
    assert len(list((tmp_path / "chk" / "批注").glob("*.xlsx"))) == 3


def test_unique_names():
    files = [Path("a/x.xlsx"), Path("b/x.xlsx"), Path("c/x.xlsx"), Path("y.xlsx")]
    assert unique_names(files, lambda f: f.name) == ["x.xlsx", "x_2.xlsx", "x_3.xlsx", "y.xlsx"]


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def _progress_output(total: int, label: str, tty: bool) -> str:
    """What a batch of ``total`` items shows on a stream that is (or is not) a terminal."""
    out = _Stream(tty=tty)
    p = batch.Progress(total, label, stream=out)
    for _ in range(total):
        p.advance()
    p.close()
    return out.getvalue()


def test_plain_progress_a_line_every_5_percent():
    lines = _progress_output(200, "校验", tty=False).splitlines()
    assert len(lines) == 20
    assert lines[0].startswith("校验：10/200（5%）") and lines[-1].startswith("校验：200/200（100%）")
    assert all("个/秒" in line and "预计剩余" in line for line in lines)


def test_terminal_progress_bar_with_count_rate_and_time_left():
    text = _progress_output(3, "生成报告", tty=True)
    assert "生成报告" in text and "3/3" in text and "个/秒" in text and "剩余" in text
    assert "预计剩余" not in text  # the bar, not the plain lines


def test_batch_reports_results_as_they_arrive_and_in_order(tmp_path):
    seen = []
    results, interrupted = batch.run(_square, list(range(12)), workers=2, label="t",
                                     on_result=lambda i, r: seen.append((i, r["value"])))
    assert not interrupted and [r["value"] for r in results] == [i * i for i in range(12)]
    assert sorted(seen) == [(i, i * i) for i in range(12)]


def _square(x: int) -> dict:
    return {"value": x * x}


def _gc_threshold(_x: int) -> dict:
    import gc

    return {"value": gc.get_threshold()}


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_collect_garbage_less_often_and_the_caller_keeps_its_setting(method, monkeypatch):
    import gc

    monkeypatch.setenv("SELFEVAL_START_METHOD", method)
    before = gc.get_threshold()
    results, _ = batch.run(_gc_threshold, [1, 2, 3], workers=2, label="t")
    assert {tuple(r["value"]) for r in results} == {batch.WORKER_GC_THRESHOLD} != {before}
    assert gc.get_threshold() == before
