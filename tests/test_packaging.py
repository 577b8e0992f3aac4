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
    for needed in ("selfeval_xl/examples/roster.csv", "selfeval_xl/examples/data/001_岳阳市档案馆.json",
                   "selfeval_xl/docx/report.docx",
                   "selfeval_xl/web/templates/board.html", "selfeval_xl/regions/yueyang-2023/region.toml",
                   "selfeval_xl/regions/yunxi-2023/forms/overall.toml"):
        assert needed in names, needed
    assert len([n for n in names if n.startswith("selfeval_xl/examples/data/")]) == 5
    # the copies are the repository's examples/, byte for byte (setup.py's build hook), not a stale second copy
    z = zipfile.ZipFile(wheel)
    for p in [ROOT / "examples" / "roster.csv", *sorted((ROOT / "examples" / "data").glob("*.json"))]:
        assert z.read(f"selfeval_xl/examples/{p.relative_to(ROOT / 'examples').as_posix()}") == p.read_bytes()
    assert not (ROOT / "selfeval_xl" / "examples").exists()  # examples/ lives at the top of the repository


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
    data = ROOT / "examples" / "data"
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


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory) -> Path:
    """A new venv (no system site packages) holding nothing of this project. It gets the project's
    dependencies read-only through one path line
    (a machine without network cannot download them): links to everything installed there except
    this project. The project itself comes from the wheel alone, installed by pip with its console
    script."""
    import venv

    if os.environ.get("SELFEVAL_SKIP_SLOW") and not os.environ.get("CI"):
        pytest.skip("SELFEVAL_SKIP_SLOW is set (never skipped under CI)")
    root = tmp_path_factory.mktemp("venv") / "干净的venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(root)
    bindir = root / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / ("python.exe" if os.name == "nt" else "python")
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    import sysconfig

    # a folder of links to every installed package of this interpreter but this project (its
    # dist-info would make pip think the wheel is installed already, its editable finder would win)
    deps = root / "deps"
    deps.mkdir()
    for item in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if item.name.startswith(("selfeval_xl", "__editable__", "_selfeval")) or item.suffix == ".pth":
            continue
        (deps / item.name).symlink_to(item, target_is_directory=item.is_dir())
    Path(purelib, "_selfeval_test_deps.pth").write_text(f"{deps}\n", encoding="utf-8")
    return root


@pytest.mark.slow_install
def test_an_installed_wheel_in_a_clean_venv_runs_demo_and_examples(wheel, clean_venv, tmp_path):
    """The README's Windows path without make, apt or a clone: `pip install selfeval_xl-*.whl`, then the
    installed `selfeval-xl` console script — `demo` finds its examples and report template inside
    the wheel, `examples` copies them out and `generate` uses the copy."""
    bindir = clean_venv / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / ("python.exe" if os.name == "nt" else "python")
    # no PYTHONPATH: this checkout (and the egg-info a wheel build leaves in it) must not be seen
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    pip = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q",
                          str(wheel)], capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    exe = bindir / ("selfeval-xl.exe" if os.name == "nt" else "selfeval-xl")
    assert exe.exists(), pip.stdout + pip.stderr
    where = subprocess.run([str(py), "-c", "import selfeval_xl, sys; print(selfeval_xl.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, env=env)
    assert where.stdout.strip().startswith(str(clean_venv)), where.stdout + where.stderr  # not this checkout
    run = subprocess.run([str(exe), "demo", "--out", "演示"], cwd=tmp_path, capture_output=True, text=True, env=env,
                         timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "找不到" not in run.stdout + run.stderr and "Traceback" not in run.stderr
    assert len(list((tmp_path / "演示" / "1-空白模板").glob("*.xlsx"))) == 3
    assert len(list((tmp_path / "演示" / "2-预填示例").glob("*.xlsx"))) == 5
    assert len(list((tmp_path / "演示" / "4-自评报告").glob("*.docx"))) == 5
    out = subprocess.run([str(exe), "examples", "-o", "示例"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert out.returncode == 0 and (tmp_path / "示例" / "roster.csv").read_bytes() == (ROOT / "examples" / "roster.csv").read_bytes()
    assert len(list((tmp_path / "示例" / "data").glob("*.json"))) == 5
    again = subprocess.run([str(exe), "examples", "-o", "示例"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert again.returncode == 2 and "已存在" in again.stderr  # never over a user's files without --force
    gen = subprocess.run([str(exe), "generate", "示例/roster.csv", "-o", "模板", "--year", "2023"], cwd=tmp_path,
                         capture_output=True, text=True, env=env, timeout=600)
    assert gen.returncode == 0, gen.stdout + gen.stderr
    assert len(list((tmp_path / "模板").glob("*.xlsx"))) == 3
