"""The report job: each unit's Word report (``checking.report_unit``) in the process pool, then
PDFs through LibreOffice (in parts, so progress moves), and 汇总表.xlsx + summary.json of the units
reported. ``selfeval-xl report`` and the workspace's compile both run ``report``."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .checking import STATUS_SKIPPED, planned_report_name, report_unit
from ..core.results import UnitResult
from .check import skipped, unreadable, write_summary


# from this many inputs on, their metadata is read by the workers (each read is a couple of
# milliseconds of zip and XML; a pool's start-up, under Windows' spawn, is a second or so)
PARALLEL_NAMES = 200


def names(files: list[Path], expect: dict[str, Any] | None = None, workers: int | None = None) -> list[str]:
    """One report file name per input, in the region's words, unique in the batch (known before
    anything runs, so existing files are refused first)."""
    from .batch import default_workers, map_quietly, unique_names

    namer = functools.partial(planned_report_name, expect=expect)
    workers = workers or default_workers(len(files))
    if len(files) < PARALLEL_NAMES or workers <= 1:
        return unique_names(files, namer)
    planned = iter(map_quietly(namer, files, workers))
    return unique_names(files, lambda _f: next(planned))


@dataclass
class ReportRun:
    results: list[UnitResult] = field(default_factory=list)  # one per input, in input order
    interrupted: bool = False
    pdfs: list[Path] = field(default_factory=list)
    pdf_failed: dict[Path, str] = field(default_factory=dict)  # report → why no PDF
    pdf_missing: str | None = None  # LibreOffice is not installed (said once)

    @property
    def written(self) -> list[Path]:
        return [Path(r.report) for r in self.results if r.report]


def report(items: list[tuple[Path, str]], outdir: Path, template: str | None = None, strict: bool = False,
           expect: dict[str, Any] | None = None, pdf: bool = False, pdf_timeout: float = 60,
           summary: Path | None = None, others: Iterable[tuple[Path, str]] = (), workers: int | None = None,
           progress: Callable[[int], None] | None = None,
           pdf_progress: Callable[[int], None] | None = None) -> ReportRun:
    """Write the report of every (input, file name) into ``outdir``; with ``pdf``, convert them;
    with ``summary``, 汇总表.xlsx and summary.json of the units reported (not those ``strict``
    skipped) into that folder, with ``others`` (entries found beside the inputs, not read: listed
    as 无法读取 after the reports' results). ``progress(done)`` counts reports, ``pdf_progress(done)`` PDFs."""
    from . import batch

    job = functools.partial(report_unit, outdir=str(outdir), template=template, strict=strict, expect=expect)
    results, interrupted = batch.run(job, [(Path(f), n) for f, n in items], workers, label="生成报告",
                                     progress=progress, failed=unreadable)
    run = ReportRun(results + skipped(others), interrupted)
    if summary is not None:
        # the notes each report carries as Word comments, for the coordinator in one place
        # (汇总表 单位报告（问题数）, summary.json "report"): a report prints no review page
        write_summary([r for r in run.results if r.status != STATUS_SKIPPED], summary)
    if pdf and run.written and not interrupted:
        convert(run, outdir, pdf_timeout, pdf_progress)
    return run


def convert(run: ReportRun, outdir: Path, per_file: float = 60, progress: Callable[[int], None] | None = None) -> None:
    """The reports to PDF in parts, so the bar moves: one LibreOffice call a part (each call costs a start-up)."""
    from . import batch
    from ..files.libreoffice import LibreOfficeMissing, convert_each

    written = run.written
    size = max(8, -(-len(written) // 10))
    bar = batch.Progress(len(written), "转换 PDF")
    done = 0
    try:
        for k in range(0, len(written), size):
            part = written[k:k + size]
            got, failed = convert_each(part, outdir, "pdf", per_file=per_file)
            run.pdfs += got
            run.pdf_failed.update(failed)
            for _ in part:
                bar.advance()
            done += len(part)
            if progress:
                progress(done)
    except LibreOfficeMissing as e:
        run.pdf_missing = str(e)
    except KeyboardInterrupt:
        run.interrupted = True
    finally:
        bar.close()
