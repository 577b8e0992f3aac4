"""The check job: returned workbooks (and units' Word/PDF reports, paired with their workbooks)
checked in the process pool, with or without annotated copies; the batch-level checks; 汇总表.xlsx
and summary.json. ``selfeval-xl check`` and the workspace's upload job both run ``check``.

Results are ``UnitResult`` from the worker to the summary writer; what later steps add to a result
(``annotated``, ``annotate_failed``, ``no_copy``, ``contacts`` …) goes in its ``extra``.
"""

from __future__ import annotations

import functools
import gc
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .checking import check_report_alone, check_unit, flag_batch_outliers, is_report, pair_reports, report_copy_name
from ..core.results import STATUS_UNREADABLE, UnitResult
from ..files.outputs import OutputError, describe_os_error, display_path, os_error_in


def unreadable(file: str, name: str, reason: str) -> UnitResult:
    """A file the batch could not check (``batch.run``'s ``failed``; a skipped entry)."""
    return UnitResult(file, name, STATUS_UNREADABLE, reason=reason)


def skipped(others: Iterable[tuple[Path, str]]) -> list[UnitResult]:
    """Entries found beside the workbooks that are not read (``batch.discover``), as 无法读取 rows."""
    return [unreadable(display_path(f), display_path(f.name), f"{display_path(f.name)}：{why}") for f, why in others]


@dataclass
class CheckPlan:
    """What a check batch will do, known before anything runs (so existing outputs are refused
    first): the items (a workbook, a report, or a workbook with its unit's report), and the name of
    each one's annotated copy (unique in the batch)."""
    items: list[tuple[Path, str, Path | None]]

    @property
    def files(self) -> list[Path]:
        return [path for path, _, _ in self.items]

    @property
    def copy_names(self) -> list[str]:
        return [name for _, name, _ in self.items]

    @property
    def with_reports(self) -> bool:
        return any(report is not None or is_report(path) for path, _, report in self.items)


def plan(files: list[Path]) -> CheckPlan:
    from .batch import unique_names

    paired = pair_reports(files)
    firsts = [i[0] if isinstance(i, tuple) else i for i in paired]
    names = unique_names(firsts, lambda f: report_copy_name(f.name) if is_report(f) else f.name)
    return CheckPlan([(p, n, i[1] if isinstance(i, tuple) else None) for p, i, n in zip(firsts, paired, names)])


@dataclass
class CheckRun:
    results: list[UnitResult] = field(default_factory=list)  # the items in input order, then the skipped
    interrupted: bool = False
    unwritten: list[UnitResult] = field(default_factory=list)  # annotated copies that could not be written
    notes: list[str] = field(default_factory=list)  # what the coordinator should read (a summary not rewritten)


def check(plan_: CheckPlan, expect: dict[str, Any] | None = None, copies: Path | None = None,
          summary: Path | None = None, others: Iterable[tuple[Path, str]] = (), workers: int | None = None,
          progress: Callable[[int], None] | None = None, batch_checks: bool = True,
          contacts: bool = False) -> CheckRun:
    """Check every item of ``plan_``; ``expect`` = the batch's judging (``checking.judging``).

    ``copies``: a folder for the annotated copies, written by the worker that checked the file
    (XML level), the few the batch-level checks changed after it rewritten here. ``summary``: a
    folder for 汇总表.xlsx and summary.json. ``batch_checks``: a year or region unlike the rest of
    the batch flagged (``flag_batch_outliers``). ``contacts``: who filled each workbook in (the
    workspace's list of late units). An output that cannot be written raises ``OutputError``."""
    from . import batch

    job = functools.partial(check_item, expect=expect, folder=str(copies) if copies else None, contacts=contacts)
    label = "校验并批注" if copies else "校验"
    stream = _SummaryStream(summary / "汇总表.xlsx") if summary is not None else None
    results, interrupted = batch.run(job, plan_.items, workers, label=label, progress=progress, failed=unreadable,
                                     on_result=stream.add if stream else None)
    if stream and interrupted:  # Ctrl-C may have come in the middle of a row: written again below
        stream.abandon()
    if batch_checks:
        counted = [len(r.flags) for r in results]
        results = flag_batch_outliers(results, expect)
        if stream and any(len(r.flags) != n for r, n in zip(results, counted)):
            stream.abandon()  # a year unlike the rest flagged after its row went out: written again below
    rest = skipped(others)
    if stream:
        for j, r in enumerate(rest):
            stream.add(len(plan_.items) + j, r)
    results += rest
    run = CheckRun(results, interrupted)
    if summary is not None:
        write_summary(results, summary, stream.book if stream else None)
    if copies is not None:
        run.unwritten, stopped = _annotate_rest(plan_, results, copies)
        run.interrupted = run.interrupted or stopped
        if run.unwritten and summary is not None:  # the summary names every copy that is missing, too
            from ..xlsx.summary import write_json, write_xlsx

            for fn, path in ((write_xlsx, summary / "汇总表.xlsx"), (write_json, summary / "summary.json")):
                try:
                    fn(results + run.unwritten, path)
                except Exception as e:
                    os_err = os_error_in(e)
                    if os_err is None:
                        raise
                    run.notes.append(f"{path.name} 未能补记未写入的批注副本（{describe_os_error(os_err, path)}）；"
                                     f"未写入的副本见下方列表")
    return run


class _SummaryStream:
    """汇总表.xlsx filled while the workers check (``batch.run``'s ``on_result``): on a busy
    machine the parent's rows then share the cores with the workers instead of waiting for the
    last of them. Anything that goes wrong here only drops the stream (``book`` None): the
    summary is then written from the results afterwards, as it always could be."""

    def __init__(self, path: Path) -> None:
        from ..xlsx.summary import SummaryWorkbook

        try:
            self.book = SummaryWorkbook(path)
        except Exception:  # noqa: BLE001 — written (or refused, naming the file) afterwards
            self.book = None

    def add(self, index: int, result: UnitResult) -> None:
        if self.book is None:
            return
        try:
            self.book.add(index, result)
        except Exception:  # noqa: BLE001 — the results are kept; the summary is written afterwards
            self.abandon()

    def abandon(self) -> None:
        if self.book is not None:
            self.book.abandon()
            self.book = None


def write_summary(results: list[UnitResult], folder: Path, book=None) -> None:
    """汇总表.xlsx and summary.json into ``folder``; the user's environment (a full disk, no
    permission) becomes an ``OutputError`` naming the file. ``book``: 汇总表.xlsx already filled
    with these results as they arrived (``_SummaryStream``), only to be finished."""
    from ..xlsx.summary import write_json, write_xlsx

    def xlsx(results: list[UnitResult], path: Path) -> None:
        if book is None:
            write_xlsx(results, path)
        else:
            book.close()

    # thousands of results are alive and stay so: the garbage collector need not walk them over and
    # over while the writers make their many small objects (a tenth of a batch's summary time)
    gc.freeze()
    try:
        for fn, path in ((xlsx, folder / "汇总表.xlsx"), (write_json, folder / "summary.json")):
            try:
                fn(results, path)
            except OutputError:
                raise
            except Exception as e:
                os_err = os_error_in(e)
                if os_err is None:
                    raise
                raise OutputError(describe_os_error(os_err, path)) from None
    finally:
        gc.unfreeze()


# -- in the worker ---------------------------------------------------------------------------------

def check_item(item: Path | tuple, expect: dict[str, Any] | None = None, folder: str | None = None,
               contacts: bool = False) -> UnitResult:
    """One item of a ``CheckPlan`` — (path, copy name, report or None), or a path — checked; with
    ``folder``, its annotated copies written there (the workbook's, XML level; the report's own
    .docx with comments, named after it). A copy that cannot be written costs that copy, never
    the check's result: ``extra`` says what became of it (``annotated``, ``annotate_failed``)."""
    if isinstance(item, tuple) and len(item) == 3:
        path, name, report = item
    elif isinstance(item, tuple):
        (path, report), name = item, None
    else:
        path, name, report = item, None, None
    path = Path(path)
    name = name or path.name
    if report is None and not is_report(path):  # a workbook alone: no folder for a conversion
        r = check_unit(path, expect)
        if contacts:
            _add_contacts(r, path)
        if folder and r.readable and r.flags:
            _annotate_into(r, path, Path(folder) / name)
        return r
    with tempfile.TemporaryDirectory(prefix="selfeval-report-") as work:
        if is_report(path):
            r = check_report_alone(path, expect, workdir=work)
            src_docx, r.report_docx = r.report_docx, None
            if folder and r.readable and r.flags:
                _comment_copy(r, src_docx, r.flags, Path(folder) / report_copy_name(name), primary=True)
            return r
        r = check_unit(path, expect, report=report, workdir=work)
        src_docx, r.report_docx = r.report_docx, None
        if contacts:
            _add_contacts(r, path)
        if folder and r.readable and r.flags:
            _annotate_into(r, path, Path(folder) / name)
            on_report = [f for f in r.flags if f.place is not None and f.place.paragraph is not None]
            if report is not None and on_report:
                _comment_copy(r, src_docx, on_report, Path(folder) / report_copy_name(Path(report).name),
                              primary=False)
        return r


def stored_flags(r: UnitResult) -> list[dict[str, Any]]:
    """The flags as the workspace stores them (``Flag.as_dict``): the annotated copy is written
    from them, whether they come from this check or from the workspace's database."""
    return [f.as_dict() for f in r.flags]


def _annotate_into(r: UnitResult, path: Path, dest: Path) -> None:
    from ..xlsx.annotate import annotate

    try:
        annotate(path, stored_flags(r), dest)
        r.extra["annotated"] = len(r.flags)
    except Exception as e:  # noqa: BLE001 — one copy must not cost its check result
        r.extra["annotate_failed"] = _why_not(e, dest)


def _add_contacts(r: UnitResult, path: Path) -> None:
    """Who filled the workbook in (填表人, 联系电话, typed in the region's ``signoff.preparer`` /
    ``signoff.phone`` cells): the coordinator's list of late units calls them."""
    if not r.readable:
        return
    try:
        from ..xlsx.read import read_workbook

        s = read_workbook(path).dept.signoff
        r.extra["contacts"] = {"preparer": _contact(s.preparer), "phone": _contact(s.phone)}
    except Exception:  # noqa: BLE001 — contacts are a courtesy; the check stands
        r.extra["contacts"] = {}


def _contact(text: str) -> str:
    """A template's placeholder（填表人）is not a name."""
    text = (text or "").strip()
    return "" if text.startswith(("（", "(")) and text.endswith(("）", ")")) else text[:60]


def _why_not(e: Exception, dest: Path) -> str:
    os_err = os_error_in(e)
    return (describe_os_error(os_err, dest) if os_err is not None
            else f"无法为该文件生成副本（{type(e).__name__}），校验结果见汇总表")


def _comment_copy(r: UnitResult, src_docx: str | None, flags: list, dest: Path, primary: bool) -> None:
    """Write the report's commented copy; say in ``r.extra`` what became of it."""
    from ..wordin.comments import comment_report

    if not src_docx:
        if (r.report or "").lower().endswith(".pdf"):  # nothing to write into: said, not a failure
            r.extra["no_copy"] = "PDF 报告无法加批注，问题见汇总表和 summary.json"
            return
        r.extra["annotate_failed" if primary else "report_annotate_failed"] = "报告未能读取，无法加批注"
        return
    try:
        n = comment_report(src_docx, [f.as_dict() for f in flags], dest)  # written as stored
        if primary:
            r.extra["annotated"] = len(r.flags)
        r.extra["report_annotated"] = n
        r.extra["report_copy"] = display_path(dest)
    except Exception as e:  # noqa: BLE001
        r.extra["annotate_failed" if primary else "report_annotate_failed"] = _why_not(e, dest)


# -- after the batch -------------------------------------------------------------------------------

def _annotate_rest(plan_: CheckPlan, results: list[UnitResult], folder: Path) -> tuple[list[UnitResult], bool]:
    """After a batch with copies: name every copy that was not written, with why, and write the few
    the workers could not write as they stand now.

    A copy is written here only when the batch-level checks (``flag_batch_outliers``: a year unlike
    the rest) added flags after its worker wrote it. A full disk or a file that cannot be copied
    costs that copy, not the batch: each missing copy is returned as an entry for the output's list
    and the summary's 无法读取 list (path of the copy, reason), so none is missing without a word.
    Returns (missing copies, interrupted by Ctrl-C)."""
    from ..xlsx.annotate import annotate

    by_file = {display_path(f): (f, n) for f, n in zip(plan_.files, plan_.copy_names)}
    missing: list[UnitResult] = []
    for r in results:
        done, failed = r.extra.pop("annotated", None), r.extra.pop("annotate_failed", None)
        if not r.readable or not r.flags or r.file not in by_file:
            continue
        src, name = by_file[r.file]
        dest = folder / name
        why = failed
        if is_report(src):  # its worker wrote the comments (a PDF gets none: ``no_copy`` says so)
            if why is None and not r.extra.get("no_copy"):
                r.extra["annotated"] = done
                continue
            if why is None:
                continue
        if why is None and done != len(r.flags):  # flags added after the worker wrote it
            try:
                annotate(src, stored_flags(r), dest)
                done = len(r.flags)
            except KeyboardInterrupt:
                return missing, True
            except Exception as e:  # noqa: BLE001 — one copy must not end the others
                why = _why_not(e, dest)
        if why is None:
            r.extra["annotated"] = done
            continue
        missing.append(unreadable(display_path(dest), f"批注/{display_path(name)}",
                                  f"{r.name} 的批注副本未生成：{why}"))
    return missing, False
