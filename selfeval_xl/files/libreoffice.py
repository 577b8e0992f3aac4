"""Drive LibreOffice headless: recalculate workbooks for real, and render files to PDF.

LibreOffice does not recalculate .xlsx formulas on load by default (it keeps the cached
values), so a conversion in a throw-away user profile whose registry sets
``OOXMLRecalcMode`` to 0 ("always") is the only honest recalculation. One soffice start
costs about a second and a half, so files are converted in one call per batch.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from .outputs import atomic_output

_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class LibreOfficeMissing(RuntimeError):
    """soffice is not installed; the message says how to install it (Chinese)."""


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    exe = soffice_path()
    if not exe:
        raise LibreOfficeMissing(
            "未找到 LibreOffice（soffice）。Debian/Ubuntu 可执行：apt-get install -y libreoffice-calc-nogui "
            "libreoffice-writer-nogui fonts-noto-cjk"
        )
    return exe


class ConversionFailed(RuntimeError):
    """Some files were not converted; ``failed`` maps each to the reason (Chinese)."""

    def __init__(self, failed: dict[Path, str]):
        self.failed = failed
        super().__init__("LibreOffice 未能转换：" + "；".join(f"{Path(k).name}（{v}）" for k, v in failed.items()))


def _run(exe: str, files: list[Path], outdir: Path, target: str, timeout: float) -> str | None:
    """One soffice call in its own throw-away profile and its own process group; killed, with
    everything it started, when it overruns. Returns None, or why it did not finish."""
    with tempfile.TemporaryDirectory(prefix="selfeval-lo-") as prof:
        user = Path(prof) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_XCU, encoding="utf-8")
        env = dict(os.environ, HOME=prof)
        cmd = [exe, f"-env:UserInstallation=file://{prof}", "--headless", "--norestore", "--nolockcheck",
               "--convert-to", target, "--outdir", str(outdir), *map(str, files)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                                start_new_session=True)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            return f"超过 {timeout:.0f} 秒仍未完成，已停止"
        except BaseException:  # Ctrl-C: leave no soffice behind
            _kill(proc)
            raise
        if proc.returncode != 0:
            return f"LibreOffice 出错（退出码 {proc.returncode}）：{err.decode('utf-8', 'replace')[-300:]}"
        return None


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def convert_each(files: list[Path], outdir: Path, target: str, per_file: float = 60, startup: float = 30,
                 ) -> tuple[list[Path], dict[Path, str]]:
    """Convert ``files`` into ``outdir``: (outputs produced, {file: why not}) — never hangs.

    The sources are copied into a private folder and converted there, so LibreOffice's lock
    and temp files never appear beside the user's files; each output is moved into ``outdir``
    when complete. One soffice call for the batch (bounded by ``per_file`` seconds a file);
    if it overruns, soffice is killed and the files it did not finish are tried one by one,
    each bounded, so one file that LibreOffice cannot lay out costs ``per_file`` seconds, not
    the batch.
    """
    exe = require_soffice()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    ext = target.split(":")[0]
    done: dict[Path, Path] = {}
    failed: dict[Path, str] = {}
    with tempfile.TemporaryDirectory(prefix="selfeval-convert-") as work:
        src_dir, out_dir = Path(work) / "in", Path(work) / "out"
        src_dir.mkdir()
        out_dir.mkdir()
        copies = {}
        for i, f in enumerate(files):
            c = src_dir / str(i) / Path(f).name  # same name, so the output has the name the user expects
            c.parent.mkdir()
            shutil.copyfile(f, c)
            copies[Path(f)] = c

        def collect(batch: list[Path]) -> list[Path]:
            left = []
            for f in batch:
                produced = out_dir / (copies[f].stem + "." + ext)
                if produced.exists():
                    dest = outdir / (Path(f).stem + "." + ext)
                    with atomic_output(dest) as tmp:
                        shutil.copyfile(produced, tmp)
                    produced.unlink()
                    done[f] = dest
                else:
                    left.append(f)
            return left

        batch = [Path(f) for f in files]
        # one call cannot take two files of one name: such files go one by one
        first = list({copies[f].name: f for f in batch}.values())
        why = _run(exe, [copies[f] for f in first], out_dir, target, startup + per_file * len(first)) if first else None
        left = collect(first) + [f for f in batch if f not in first]
        for f in left:
            why = _run(exe, [copies[f]], out_dir, target, startup + per_file) or why
            if collect([f]):
                failed[f] = why or "LibreOffice 没有生成文件"
    return [done[Path(f)] for f in files if Path(f) in done], failed


def convert(files: list[Path], outdir: Path, target: str, per_file: float = 120) -> list[Path]:
    """Convert ``files`` with one soffice call; ``target`` is e.g. "xlsx" or "pdf".

    Formulas are recalculated on load. Returns the output paths, in the order of ``files``;
    raises ``ConversionFailed`` naming the files LibreOffice did not produce.
    """
    outs, failed = convert_each(files, outdir, target, per_file)
    if failed:
        raise ConversionFailed(failed)
    return outs
