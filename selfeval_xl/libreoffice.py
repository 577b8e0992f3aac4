"""Drive LibreOffice headless: recalculate workbooks for real, and render files to PDF.

LibreOffice does not recalculate .xlsx formulas on load by default (it keeps the cached
values), so a conversion in a throw-away user profile whose registry sets
``OOXMLRecalcMode`` to 0 ("always") is the only honest recalculation. One soffice start
costs about a second and a half, so files are converted in one call per batch.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

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


def convert(files: list[Path], outdir: Path, target: str, timeout: float = 600) -> list[Path]:
    """Convert ``files`` with one soffice call; ``target`` is e.g. "xlsx" or "pdf".

    Formulas are recalculated on load. Returns the output paths, in the order of ``files``;
    raises RuntimeError naming the files LibreOffice did not produce.
    """
    exe = require_soffice()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="selfeval-lo-") as prof:
        user = Path(prof) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_XCU, encoding="utf-8")
        env = dict(os.environ, HOME=prof)
        cmd = [exe, f"-env:UserInstallation=file://{prof}", "--headless", "--norestore", "--nolockcheck",
               "--convert-to", target, "--outdir", str(outdir), *map(str, files)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    ext = target.split(":")[0]
    outs = [outdir / (Path(f).stem + "." + ext) for f in files]
    missing = [str(o) for o in outs if not o.exists()]
    if missing:
        raise RuntimeError(f"LibreOffice did not produce {missing}: rc={proc.returncode} {proc.stderr[-2000:]}")
    return outs
