"""Run one function over many workbooks: a process pool, a progress display, no stop on errors.

Each worker returns a picklable result (the jobs' ``UnitResult``, or any value); a file that
cannot be read, or even a bug, becomes a result with a reason (``failed``) instead of ending the
batch. Results come back in input order so outputs are deterministic whatever the number of workers.
"""

from __future__ import annotations

import errno
import gc
import os
import stat
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable, Iterable

from ..files.outputs import OUTPUT_MARK, TEMP_PREFIX, describe_os_error, display_path, os_error_in

SUFFIXES = (".xlsx", ".xlsm")

# files found in a returns folder that are not workbooks: what the coordinator should do about each
_OTHER_KINDS = {
    ".xls": "是旧版 Excel 文件（.xls），无法校验：请单位用 Excel 或 WPS 打开后“另存为”.xlsx 再提交",
    ".xlt": "是旧版 Excel 模板（.xlt），无法校验：请提交本工具生成的 .xlsx 模板",
    ".et": "是 WPS 表格文件（.et），无法校验：请单位用 WPS 打开后“另存为”.xlsx 再提交",
    ".ett": "是 WPS 表格模板（.ett），无法校验：请提交本工具生成的 .xlsx 模板",
    ".ods": "是 LibreOffice 表格（.ods），无法校验：请另存为 .xlsx 再提交",
    ".xlsb": "是二进制 Excel 文件（.xlsb），无法校验：请另存为 .xlsx 再提交",
    ".csv": "是 CSV 文本，不是填好的模板：请提交本工具生成的 .xlsx 模板",
    ".pdf": "是 PDF 文件，不是工作簿：请单位提交填好的 .xlsx 模板",
    ".ofd": "是 OFD 文件，不是工作簿：请单位提交填好的 .xlsx 模板",
    ".doc": "是 Word 文档，不是工作簿：请单位提交填好的 .xlsx 模板",
    ".docx": "是 Word 文档，不是工作簿：请单位提交填好的 .xlsx 模板",
    ".wps": "是 WPS 文字文档，不是工作簿：请单位提交填好的 .xlsx 模板",
    ".zip": "是压缩包：请先解压，再校验其中的 .xlsx",
    ".rar": "是压缩包：请先解压，再校验其中的 .xlsx",
    ".7z": "是压缩包：请先解压，再校验其中的 .xlsx",
}
_JUNK = {".ds_store", "thumbs.db", "desktop.ini"}
REPORT_SUFFIXES = (".docx", ".doc", ".wps", ".pdf")  # a unit's report: ``check`` reads it (issue #19)


def _ours_or_junk(q: Path) -> bool:
    """Files nobody means to check: Excel/WPS lock files, our temp files, system clutter."""
    n = q.name
    return n.startswith(("~$", ".~", TEMP_PREFIX)) or n.lower() in _JUNK or n.startswith(".")


def _link_target(q: Path) -> str:
    try:
        return display_path(os.readlink(q))
    except OSError:
        return "?"


def not_a_file(q: Path) -> str | None:
    """Why ``q`` cannot be read as a file — or None for a regular file (a link to one counts).

    Decided from ``stat`` alone, never by opening: a named pipe (FIFO) would block the batch
    until something writes to it, and a link to /dev/zero would be read for ever. What is not
    a regular file is listed as 无法读取 with the reason, never skipped without a word."""
    try:
        is_link = stat.S_ISLNK(os.lstat(q).st_mode)
    except OSError as e:
        return f"无法访问（{e.strerror or e}），已跳过"
    try:
        mode = os.stat(q).st_mode  # follows the link
    except OSError as e:
        if is_link and e.errno == errno.ELOOP:
            return f"是循环的符号链接（指向 {_link_target(q)}，最终又指回自己），已跳过"
        if is_link and e.errno in (errno.ENOENT, errno.ENOTDIR):
            return f"是符号链接，指向的 {_link_target(q)} 不存在，已跳过"
        if isinstance(e, PermissionError):
            return "没有读取权限，已跳过；请检查该文件的权限"
        return f"无法访问（{e.strerror or e}），已跳过"
    if stat.S_ISREG(mode):
        return None
    what = ("命名管道（FIFO）" if stat.S_ISFIFO(mode) else "字符设备" if stat.S_ISCHR(mode)
            else "块设备" if stat.S_ISBLK(mode) else "套接字" if stat.S_ISSOCK(mode)
            else "文件夹" if stat.S_ISDIR(mode) else "特殊文件")
    via = f"是指向 {_link_target(q)} 的符号链接，那是{what}" if is_link else f"是{what}"
    return f"{via}，不是普通文件，未读取，已跳过"


def discover(inputs: Iterable[Path], with_json: bool = False, with_reports: bool = False,
             ) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Workbooks under the given files and folders (recursively, any letter case), and every
    other entry found, with why it was not read and what to do (listed as 无法读取, never
    skipped silently): other kinds of file, and entries that are not regular files at all —
    named pipes, devices (a link to /dev/zero), dangling or looping links, links to folders
    (not followed: they can loop or repeat a folder), folders that cannot be opened.

    Lock files, our temp files and folders this tool wrote results into (marked
    ``OUTPUT_MARK``) are left out: a second check of a folder holding the first one's
    annotated copies must not count them as units. A file named explicitly is always taken
    (if it is a regular file).

    ``with_reports`` (``check``): the units' Word/PDF reports (.docx .doc .wps .pdf) are taken
    too — paired with their workbooks by ``checking.pair_reports`` — instead of listed as
    不是工作簿.
    """
    out: list[Path] = []
    others: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    wanted = SUFFIXES + ((".json",) if with_json else ()) + (REPORT_SUFFIXES if with_reports else ())
    for p in inputs:
        p = Path(p)
        if p.is_dir():
            found: list[tuple[Path, str | None]] = []

            def unopenable(e: OSError) -> None:
                where = Path(e.filename) if e.filename else p
                others.append((where, f"是文件夹，但无法打开（{e.strerror or e}），其中的文件未校验；请检查该文件夹的权限"))

            for root, dirs, names in os.walk(p, onerror=unopenable):
                keep = []
                for d in sorted(dirs):
                    q = Path(root, d)
                    if d.startswith(".") or (q / OUTPUT_MARK).exists():
                        continue
                    if os.path.islink(q):
                        others.append((q, f"是指向文件夹 {_link_target(q)} 的符号链接，未进入（可能重复或循环）；"
                                          f"需要校验其中的文件请直接指定该文件夹"))
                        continue
                    keep.append(d)
                dirs[:] = keep
                for n in sorted(names):
                    q = Path(root, n)
                    if not _ours_or_junk(q):
                        found.append((q, not_a_file(q)))
        else:
            found = [(p, not_a_file(p))]
        for q, why_not in found:
            if why_not is not None:
                others.append((q, why_not))
                continue
            r = q.resolve()
            if r in seen:
                continue
            seen.add(r)
            if q.suffix.lower() in wanted or not p.is_dir():
                out.append(q)
            else:
                others.append((q, _OTHER_KINDS.get(q.suffix.lower(), "不是 .xlsx 工作簿，已跳过")))
    return out, others


def unique_names(files: list[Path], namer: Callable[[Path], str]) -> list[str]:
    """Output names for input files, with _2, _3 … where two inputs would write the same file."""
    taken: set[str] = set()
    out = []
    for f in files:
        base = namer(f)
        stem, dot, ext = base.rpartition(".")
        name, n = base, 2
        while name in taken:
            name = f"{stem}_{n}{dot}{ext}"
            n += 1
        taken.add(name)
        out.append(name)
    return out


def default_workers(n_items: int) -> int:
    return max(1, min(os.cpu_count() or 1, n_items, 8))


class Progress:
    """A rich progress bar on a terminal; a plain line every 5 % otherwise."""

    def __init__(self, total: int, label: str, stream=None):
        self.total, self.label = total, label
        self.stream = stream or sys.stderr
        self.done = 0
        self.start = time.monotonic()
        self._next_pct = 5
        self._rich = None
        if self.stream.isatty() and total > 1:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RP, TextColumn, TimeRemainingColumn

            self._rich = RP(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rate]}"), TextColumn("剩余"), TimeRemainingColumn(),
                            transient=False, console=Console(file=self.stream))
            self._rich.start()
            self._task = self._rich.add_task(label, total=total, rate="")

    def advance(self) -> None:
        self.done += 1
        elapsed = max(time.monotonic() - self.start, 1e-6)
        rate = self.done / elapsed
        if self._rich:
            self._rich.update(self._task, advance=1, rate=f"{rate:.1f} 个/秒")
            return
        pct = self.done * 100 // max(self.total, 1)
        if self.total > 1 and (pct >= self._next_pct or self.done == self.total):
            eta = (self.total - self.done) / rate
            print(f"{self.label}：{self.done}/{self.total}（{pct}%），{rate:.1f} 个/秒，预计剩余 {eta:.0f} 秒",
                  file=self.stream, flush=True)
            while self._next_pct <= pct:
                self._next_pct += 5

    def close(self) -> float:
        if self._rich:
            self._rich.stop()
        return time.monotonic() - self.start


def failed_dict(file: str, name: str, reason: str) -> dict[str, Any]:
    """A failed item as a plain result (the default of ``run``'s ``failed``)."""
    return {"file": file, "name": name, "status": "无法读取", "reason": reason}


def run(func: Callable[[Any], Any], paths: list[Any], workers: int | None = None,
        label: str = "处理中", on_result: Callable[[int, Any], None] | None = None,
        progress: Callable[[int], None] | None = None,
        failed: Callable[[str, str, str], Any] = failed_dict) -> tuple[list[Any], bool]:
    """Apply ``func`` to every item (paths, or any picklable work item).

    Returns (results in input order, interrupted?). Ctrl-C cancels what has not started;
    finished results are kept, and every output is written atomically by ``func``, so no
    half-written file is left behind. ``on_result(index, result)`` is called in this process
    as each result arrives (in completion order), e.g. to write a summary while workers run;
    ``progress(done)`` too, with the number done so far (the workspace's job page counts them).
    An item whose ``func`` raised becomes ``failed(file, name, reason)``.
    """
    workers = workers or default_workers(len(paths))
    results: list[Any] = [None] * len(paths)
    bar = Progress(len(paths), label)
    interrupted = frozen = False
    threshold = gc.get_threshold()
    done = 0

    def arrived(i: int) -> None:
        nonlocal done
        done += 1
        if on_result:
            on_result(i, results[i])
        if progress:
            progress(done)
        bar.advance()

    try:
        if workers <= 1 or len(paths) <= 1:
            for i, p in enumerate(paths):
                results[i] = _safe(func, p, failed)
                arrived(i)
        else:
            # Workers are forked: without this, every garbage collection in a worker walks the
            # parent's objects it inherited (a roster of thousands of units), touching their
            # pages, so time per unit grew with the size of the batch.
            gc.freeze()
            frozen = True
            # the results (and a summary written as they come) pile up here while workers run: collected as seldom
            gc.set_threshold(*WORKER_GC_THRESHOLD)
            with ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_worker_init) as pool:
                size = chunk_size(len(paths), workers)
                chunks = [range(k, min(k + size, len(paths))) for k in range(0, len(paths), size)]
                futures = {pool.submit(_safe_each, func, [paths[i] for i in chunk], failed): chunk for chunk in chunks}
                try:
                    for fut in as_completed(futures):
                        for i, result in zip(futures[fut], fut.result()):
                            results[i] = result
                            arrived(i)
                except KeyboardInterrupt:
                    interrupted = True
                    for fut in futures:
                        fut.cancel()
                    # workers ignore Ctrl-C (see ``_worker_init``): the items already
                    # running finish and are written whole; nothing else starts
                    pool.shutdown(wait=True, cancel_futures=True)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if frozen:
            gc.unfreeze()
            gc.set_threshold(*threshold)
        bar.close()
    return [r for r in results if r is not None], interrupted


def chunk_size(n_items: int, workers: int) -> int:
    """Items sent to a worker at a time: one for a small batch (every worker busy to the end);
    up to 8 for a large one, where handing out and collecting each item alone was a third of the
    main process's work (it shares the cores with the workers). Progress still moves every few items."""
    return max(1, min(8, n_items // (workers * 20)))


def map_quietly(func: Callable[[Any], Any], items: list[Any], workers: int) -> list[Any]:
    """``func`` over ``items`` in ``workers`` processes, in order, with no progress bar: a short
    step before a batch (reading each input's metadata to name its output). ``func`` must not
    raise (``jobs.checking.planned_report_name`` says what it cannot read in its result)."""
    gc.freeze()  # as ``run``: forked workers must not walk the parent's objects
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_worker_init) as pool:
            return list(pool.map(func, items, chunksize=max(1, len(items) // (workers * 8))))
    finally:
        gc.unfreeze()


# A worker's garbage collector runs after this many new container objects (Python's default is
# 700). A workbook makes tens of thousands that reference counting frees at once, and with the
# default each unit paid for a dozen collections walking the worker's caches (the compiled
# region, its layouts and keys): ~5 % of a check. Cycles left between collections are few and small.
WORKER_GC_THRESHOLD = (10_000, 20, 20)


def _worker_init() -> None:
    """Set up a pool worker: Ctrl-C ignored (below); the collector tuned (``WORKER_GC_THRESHOLD``)."""
    gc.set_threshold(*WORKER_GC_THRESHOLD)
    _worker_ignores_ctrl_c()


def _worker_ignores_ctrl_c() -> None:
    """Ctrl-C reaches every process of the terminal's group. A worker interrupted mid-write
    removes its temp file — unless it is interrupted while idle, dies, and the pool, now broken,
    kills the others mid-write (seen under spawn). So workers ignore it; the parent stops the
    batch: pending items are cancelled, running ones finish, every file on disk is whole."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _context():
    """The platform's start method (fork on Linux; spawn on Windows and macOS), or the one
    ``SELFEVAL_START_METHOD`` names — the tests run the batches under spawn this way too."""
    import multiprocessing

    method = os.environ.get("SELFEVAL_START_METHOD")
    if not method:
        return None
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":  # workers fork from a server that has the library imported already
        ctx.set_forkserver_preload(["selfeval_xl.jobs.checking", "selfeval_xl.jobs.check", "selfeval_xl.jobs.generate",
                                    "selfeval_xl.docx.report"])
    return ctx


def _safe_each(func: Callable[[Any], Any], items: list[Any], failed: Callable[[str, str, str], Any] = failed_dict,
               ) -> list[Any]:
    """``_safe`` over a chunk of items, in order (each item's failure is its own result)."""
    return [_safe(func, item, failed) for item in items]


def _safe(func: Callable[[Any], Any], item: Any, failed: Callable[[str, str, str], Any] = failed_dict) -> Any:
    try:
        return func(item)
    except Exception as e:  # a bug must not end a batch of a thousand files
        first = item[0] if isinstance(item, tuple) else item
        name = Path(first).name if isinstance(first, (str, Path)) else str(getattr(first, "name", first))
        name = display_path(name)
        os_err = os_error_in(e)  # writers wrap it: XlsxWriter's FileCreateError(OSError(28, …))
        if os_err is not None:  # the user's environment (disk full, no permission), not a bug
            where = os_err.filename
            # the file meant, not the temp file it was being written as (item = (input, output name))
            if isinstance(item, tuple) and len(item) > 1 and isinstance(item[1], str) \
                    and (not where or TEMP_PREFIX in str(where)):
                where = item[1]
            reason = f"{name}：{describe_os_error(os_err, where)}"
        else:
            reason = f"{name}：内部错误（{type(e).__name__}: {e}），请把该文件反馈给开发者"
        return failed(display_path(first), name, reason)
