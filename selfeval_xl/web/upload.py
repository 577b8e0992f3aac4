"""One upload, checked and recorded: the workbooks and the units' reports it holds (#20).

The one path a background upload job (``jobs``) and a script (``check_stored``) take, so a
report uploaded either way is paired and checked alike. Kept apart from ``work`` (what the CLI's
jobs do over stored files) and ``reports`` (pairing and checking reports), which both feed it.
"""

from __future__ import annotations

import tempfile
from typing import Any

from . import reports, work


def check_upload(ws, cid: int, items: list[tuple[str, str, int]], workers: int | None = None, user: str = "",
                 only_unit: int | None = None, progress=None, finish=None) -> list[dict[str, Any]]:
    """One upload (stored files: sha256, name, size), workbooks and reports alike, checked and
    recorded: workbooks first (they name their unit in their metadata), then the reports, paired
    and checked with their unit's workbook. Everything is recorded in one transaction, with
    ``finish(rows)`` (a job's being done) in it too. Returns the rows of the job's page."""
    books = [it for it in items if not reports.is_report_name(it[1])]
    reps = [it for it in items if reports.is_report_name(it[1])]
    with tempfile.TemporaryDirectory(dir=ws.folder / "files" / "tmp") as tmp:
        results = work.check_items(ws, cid, books, workers, progress=progress, folder=tmp)
        entries = reports.prepare(ws, cid, reps, books, results, tmp, workers,
                                  (lambda n: progress(min(len(items), len(books) + n))) if progress else None, only_unit=only_unit)
    with ws.tx():  # the uploads, the reports (and the job's being done): one commit
        out = work.record_checked(ws, cid, books, results, user, only_unit=only_unit)
        out += reports.record(ws, cid, entries, out, user, only_unit=only_unit)
        if finish is not None:
            finish(out)
    return out


def check_stored(ws, cid: int, items: list[tuple[str, str, int]], workers: int | None = None,
                 user: str = "") -> list[dict[str, Any]]:
    """Check stored uploads (sha256, original name, size) and record each as a version."""
    return check_upload(ws, cid, items, workers, user)
