"""Batches: Ctrl-C stops cleanly, and two inputs never write the same output file."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from selfeval_xl.batch import unique_names
from selfeval_xl.cli import app
from selfeval_xl.profile import get_profile
from selfeval_xl.xlsx_write import write_workbook

CLI = Path(sys.executable).parent / "selfeval-xl"


def _copies(tmp_path, dept, n):
    src = write_workbook(dept, get_profile(dept.profile), tmp_path / "src.xlsx")
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(n):
        shutil.copy(src, folder / f"{dept.code}_{i}.xlsx")
    return folder


def test_ctrl_c_stops_cleanly_and_reports_what_was_done(tmp_path, examples):
    folder = _copies(tmp_path, examples["002_岳阳市君山区行政审批服务局"], 1000)
    out = tmp_path / "out"
    proc = subprocess.Popen([str(CLI), "report", str(folder), "-o", str(out), "-w", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
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
