"""Usable anywhere (#13 item 7): the built wheel carries everything the tool reads at run time
(regions, examples, the report template, the workspace's pages), and batches run under the
`spawn` start method that Windows and macOS use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).parent / "selfeval-xl"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out)], check=True, capture_output=True, timeout=600)
    (whl,) = out.glob("selfeval_xl-*.whl")
    return whl


def test_the_wheel_carries_what_the_tool_reads(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("selfeval_xl/examples/roster.csv", "selfeval_xl/docx/report.docx",
                   "selfeval_xl/web/templates/board.html", "selfeval_xl/regions/yueyang-2023/region.toml",
                   "selfeval_xl/regions/yunxi-2023/forms/overall.toml"):
        assert needed in names, needed
    assert len([n for n in names if n.startswith("selfeval_xl/examples/data/")]) == 5


def test_demo_from_the_installed_wheel(wheel, tmp_path):
    """Installed away from the source tree, `selfeval-xl demo` finds its examples and template."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import selfeval_xl; "
            "assert selfeval_xl.__file__.startswith(sys.argv[1]), selfeval_xl.__file__; "
            "from selfeval_xl.cli import main; sys.argv = ['selfeval-xl', 'demo', '--out', 'out']; main()")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([sys.executable, "-c", code, str(target)], cwd=tmp_path, capture_output=True, text=True,
                         env=env, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "找不到" not in run.stdout + run.stderr
    assert len(list((tmp_path / "out" / "2-预填示例").glob("*.xlsx"))) == 5
    assert len(list((tmp_path / "out" / "4-自评报告").glob("*.docx"))) == 5


def test_batches_under_spawn_give_what_fork_gives(tmp_path):
    """check and report run in a process pool; under `spawn` every worker imports the package
    afresh (no inherited state), as on Windows and macOS."""
    data = ROOT / "selfeval_xl" / "examples" / "data"
    out = {}
    for method in ("fork", "spawn"):
        env = dict(os.environ, SELFEVAL_START_METHOD=method)
        filled = tmp_path / method / "filled"
        filled.mkdir(parents=True)
        for p in sorted(data.glob("*.json")):
            r = subprocess.run([str(CLI), "fill", str(p), "-o", str(filled / f"{p.stem}.xlsx"), "--timestamp",
                                "2024-01-01T00:00:00"], capture_output=True, text=True, env=env, timeout=300)
            assert r.returncode == 0, r.stdout + r.stderr
        r = subprocess.run([str(CLI), "check", str(filled), "-o", str(tmp_path / method / "chk"), "-w", "2"],
                           capture_output=True, text=True, env=env, timeout=600)
        assert r.returncode == 1, r.stdout + r.stderr  # the seeds have errors
        r2 = subprocess.run([str(CLI), "report", str(filled), "-o", str(tmp_path / method / "rep"), "-w", "2"],
                            capture_output=True, text=True, env=env, timeout=600)
        assert r2.returncode == 0, r2.stdout + r2.stderr
        summary = json.loads((tmp_path / method / "chk" / "summary.json").read_text(encoding="utf-8"))
        out[method] = ({k: (v["status"], v["errors"], v["warnings"], [f["code"] for f in v["flags"]])
                        for k, v in summary["files"].items()},
                       sorted(p.name for p in (tmp_path / method / "rep").glob("*.docx")))
    assert out["spawn"] == out["fork"]
    assert len(out["spawn"][1]) == 5
