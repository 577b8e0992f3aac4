"""The compile job: the units' results as checked (汇总表.xlsx, summary.json), one Word report per
unit (the report job, ``jobs.report``) and optionally its PDF, in one zip — the workspace's
生成汇总与报告. The workspace picks the units, reads their stored results and stages their files;
everything else is here."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable

from ..core.results import UnitResult


def compile_zip(results: list[UnitResult], workbooks: list[Path], dest: Path, expect: dict[str, Any] | None = None,
                pdf: bool = False, copies: dict[str, Path] | None = None, workers: int | None = None,
                progress: Callable[[int], None] | None = None, tmp: Path | None = None) -> Path:
    """``results``: each unit's result as checked (its 汇总表 row, in order); ``workbooks``: the same
    units' workbooks, named as the unit's own (each report is named after its unit, in the region's
    words); ``copies``: further files for the zip (name in the zip → file: the units' commented
    reports). Unnamed reports and PDFs that failed are listed in 未生成.txt. Written atomically."""
    from ..files.libreoffice import soffice_path
    from . import report as job
    from .check import write_summary

    with tempfile.TemporaryDirectory(dir=tmp) as work:
        root = Path(work) / "out"
        (root / "报告").mkdir(parents=True)
        for name, src in (copies or {}).items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, root / name)
        write_summary(results, root)
        names = job.names(workbooks, expect)
        run = job.report(list(zip(workbooks, names)), root / "报告", expect=expect, pdf=bool(pdf and soffice_path()),
                         workers=workers, progress=progress)
        notes = [r.reason or r.name for r in run.results if not r.report]
        notes += [f"{p.name}：未转为 PDF（{why}）" for p, why in run.pdf_failed.items()]
        zip_folder(root, dest, extra={"未生成.txt": "\n".join(notes)} if notes else None)
    return dest


def zip_folder(folder: Path, dest: Path, extra: dict[str, str] | None = None) -> None:
    """Every file under ``folder`` (and ``extra`` texts) into ``dest``, written as .part and renamed."""
    part = dest.with_suffix(".part")
    with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(folder).as_posix())
        for name, text in (extra or {}).items():
            z.writestr(name, text)
    part.replace(dest)
