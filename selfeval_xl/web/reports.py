"""Units' own reports in 回收 (#20): a .docx (.doc/.wps/.pdf) uploaded beside the workbooks.

Why here and not in ``work``: a report needs its unit before it can be checked, and the unit is
told differently from a workbook's. A workbook names its unit in the metadata the writer stamped;
a report names it only in its file name or on its cover. So an upload's reports are paired after
its workbooks are read (``pair``): the unit a unit's link belongs to; otherwise the one roster unit
whose code or name the report's file name says, else its cover, else — as ``checking.pair_reports``
does — the one workbook of an upload that holds one workbook and one report. Then each report is
checked with that unit's workbook (the one in the same upload, else the unit's latest version):
its text replaces the workbook's 报告正文 for the narrative checks (NARR flags at 报告!第N段) and its
tables are checked against the workbook (RPT-5xx/6xx) — or alone, on its own text, while the unit
has no workbook yet. A report no unit can be told for is kept and listed with the reason.

The checking runs in the CLI's process pool (``batch.run``) with top-level functions; the
commented .docx is written there and stored by hash like every other file.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from ..jobs import batch
from ..jobs.checking import REPORT_SUFFIXES, STATUS_ERR, STATUS_OK, STATUS_UNREADABLE, STATUS_WARN, check_report, check_workbook
from ..core.flags import ERROR, INFO, REPORT as REPORT_PLACE, WARNING, ReportPlace, location_of
from .staging import stage, staged_path

REPORT = "报告"  # what the job's list says a file is
UNPAIRED = "未匹配"
NOT_THIS_UNIT = "不是本单位"


def is_report_name(name: str) -> bool:
    return Path(name).suffix.lower() in REPORT_SUFFIXES


def on_report(flag: dict[str, Any]) -> bool:
    """A flag that points into the report (a paragraph, a table cell, or the report as a whole),
    not into the workbook (报告正文!B18 is the workbook's sheet)."""
    return isinstance(location_of(flag), ReportPlace) or str(flag.get("location") or "") == REPORT_PLACE


# -- in the worker pool -------------------------------------------------------------------------

CONVERTED = (".doc", ".wps")  # read through LibreOffice's .docx conversion


def kept_conversion(ws, sha: str, name: str) -> str | None:
    """Where the workspace keeps a stored .doc/.wps file's .docx conversion: beside the stored
    file, named by the same hash (``Workspace.sweep`` removes it with the file). None for a
    report read as it is (.docx, .pdf)."""
    if Path(name).suffix.lower() not in CONVERTED:
        return None
    return str(ws.path_of(sha).with_suffix(".docx"))


def _reuse(report: str, kept: str | None, work: str) -> None:
    """The kept conversion where ``read_report`` looks for one (a copy: nothing the reading or
    the commenting does can touch the kept file)."""
    if kept and os.path.isfile(kept):
        from ..wordin.read import converted_name

        shutil.copyfile(kept, Path(work) / converted_name(report))


def _keep(report: str, kept: str | None, work: str) -> None:
    """A conversion just made, kept for the next reading of the same stored file: written to the
    store's temp folder and renamed, so a reader never sees half a file (two workers converting
    the same file both rename a whole one)."""
    if not kept or (os.path.isfile(kept) and zipfile.is_zipfile(kept)):
        return  # kept already (a damaged one is replaced: the reader converted again)
    from ..wordin.read import converted_name

    made = Path(work) / converted_name(report)
    if not made.is_file():
        return  # not converted (unreadable, or a .docx under an old name)
    tmp_dir = Path(kept).parent.parent / "tmp"
    try:
        fd, tmp = tempfile.mkstemp(prefix="conv-", suffix=".part", dir=tmp_dir)
        os.close(fd)
        shutil.copyfile(made, tmp)
        os.replace(tmp, kept)
    except OSError:  # a courtesy: the next reading converts again
        pass


def report_head(path: str, kept: str | None = None) -> str:
    """What a report says of its unit: its file name, then its title and cover (a .doc/.wps is
    converted to read them — once: ``kept`` is where its conversion is kept for the check that
    follows; an unreadable report is its file name alone — its check says why)."""
    from ..wordin.read import read_report

    p = Path(path)
    with tempfile.TemporaryDirectory(prefix="selfeval-head-") as work:
        _reuse(path, kept, work)
        try:
            head = p.stem + "\n" + read_report(p, None, workdir=work).head_text(300)
        except Exception:  # noqa: BLE001 — ReportReadError or worse: the name is all there is
            return p.stem
        _keep(path, kept, work)
        return head


def check_one(item: tuple, expect: dict[str, Any] | None = None) -> dict[str, Any]:
    """(workbook or None, report, folder for the commented copy[, kept conversion]) → the report's
    result: its own flags (``on_report``), counts and status, and ``copy``, the commented .docx
    (None when the report has no flag, or is a PDF or unreadable: ``copy_failed`` says which)."""
    from ..wordin.comments import comment_report

    book, report, outdir = item[:3]
    kept = item[3] if len(item) > 3 else None
    with tempfile.TemporaryDirectory(prefix="selfeval-report-") as work:
        _reuse(report, kept, work)
        r = check_workbook(book, expect, report=report, workdir=work) if book else None
        if r is None or r.get("status") == STATUS_UNREADABLE:  # no workbook (or none readable): alone
            r = check_report(report, expect, workdir=work)
            book = None
        _keep(report, kept, work)
        src = r.pop("report_docx", None)
        if r.get("status") == STATUS_UNREADABLE:
            return {"status": STATUS_UNREADABLE, "reason": r.get("reason", ""), "flags": [], "errors": 0, "warnings": 0}
        flags = [_in_workspace(f) for f in r["flags"] if on_report(f)]
        unread = next((f for f in flags if f["code"] == "RPT-101"), None)
        if unread is not None:  # paired, but the report itself could not be read
            return {"status": STATUS_UNREADABLE, "reason": unread["message"], "flags": [], "errors": 0, "warnings": 0}
        counts = {sev: sum(1 for f in flags if f["severity"] == sev) for sev in (ERROR, WARNING, INFO)}
        out = {"status": STATUS_ERR if counts[ERROR] else STATUS_WARN if counts[WARNING] else STATUS_OK,
               "errors": counts[ERROR], "warnings": counts[WARNING], "infos": counts[INFO], "flags": flags,
               "with_workbook": bool(book), "unit_code": r.get("unit_code", ""), "unit_name": r.get("unit_name", ""),
               "copy": None}
        if flags and src:
            dest = Path(outdir) / "copy.docx"
            try:
                comment_report(src, flags, dest)
                out["copy"] = str(dest)
            except Exception as e:  # noqa: BLE001 — the check stands without its copy
                out["copy_failed"] = f"无法生成带批注的副本（{type(e).__name__}）"
        elif flags:
            out["copy_failed"] = "PDF 报告无法加批注" if report.lower().endswith(".pdf") else "无法生成带批注的副本"
    return out


def _in_workspace(flag: dict[str, Any]) -> dict[str, Any]:
    """RPT-202 tells the CLI's user to put the workbook in the same folder; in the workspace the
    report is checked with the unit's workbook as soon as one comes."""
    if flag.get("code") != "RPT-202":
        return flag
    return dict(flag, message="该单位还没有交工作簿，只按报告本身校验（提纲、前后数字、列举金额之和、表格中的合计与得分）；"
                              "单位交来工作簿后，报告会自动与工作簿的数字核对。")


# -- in the server ------------------------------------------------------------------------------

def pair(head: str, units: list[tuple[int, str, str]]) -> tuple[list[int], str]:
    """The roster units (id, code, name) a report names — in its file name (the head's first line)
    first, then anywhere in its head. A name inside a longer hit's name (财政局 in 君山区财政局) does
    not count. Returns (unit ids, where found)."""
    name_line = head.split("\n", 1)[0]
    for text, where in ((name_line, "文件名"), (head, "封面")):
        by_code = [u for u in units if u[1] and u[1] in text]
        by_name = [u for u in units if u[2] and len(u[2]) >= 2 and u[2] in text]
        by_name = [u for u in by_name if not any(u[2] != v[2] and u[2] in v[2] for v in by_name)]
        hits = list({u[0]: u for u in by_code + by_name}.values())
        if hits:
            return [u[0] for u in hits], where
    return [], ""


def assign(heads: list[str], names: list[str], units: list[tuple[int, str, str]], book_units: list[int],
           only_unit: int | None = None) -> list[tuple[int | None, str]]:
    """Each report's unit (or None) and why: see the module's docstring. ``book_units``: the units
    of the workbooks read in the same upload (in order, repeats allowed)."""
    by_id = {u[0]: u for u in units}
    out: list[tuple[int | None, str]] = []
    lone_book = list(dict.fromkeys(book_units))
    for head, name in zip(heads, names):
        ids, where = pair(head, units)
        if only_unit is not None:
            mine = by_id[only_unit]
            if ids and only_unit not in ids:
                other = "、".join(f"“{by_id[i][2]}”（{by_id[i][1]}）" for i in ids[:3])
                out.append((None, f"{name}：这份报告的{where}写的是{other}，不是本单位（{mine[2]}，{mine[1]}）的，未接收。"
                                  f"请上传本单位的报告。"))
            else:
                out.append((only_unit, ""))
            continue
        if len(ids) == 1:
            out.append((ids[0], f"按报告{where}中的单位对应"))
        elif len(ids) > 1:
            both = "、".join(f"“{by_id[i][2]}”" for i in ids[:4])
            out.append((None, f"{name}：报告的{where}同时提到 {both}，无法判断是哪个单位的报告；请直接指定所属单位，"
                              f"或在文件名中写明单位名称（如 {by_id[ids[0]][1]}_{by_id[ids[0]][2]}_自评报告.docx）后重新上传。"))
        elif len(heads) == 1 and len(lone_book) == 1:
            out.append((lone_book[0], "与同时上传的唯一一个工作簿对应"))
        else:
            out.append((None, f"{name}：文件名和封面中都找不到名册中任何单位的名称或编码，无法判断是哪个单位的报告；"
                              f"请直接指定所属单位，或在文件名中写明单位名称（如 单位编码_单位名称_自评报告.docx）、"
                              f"与该单位的工作簿一起重新上传。"))
    return out


def check_reports(items: list[tuple], expect: dict[str, Any] | None, workers: int | None = None,
                  on_result=None) -> list[dict[str, Any]]:
    if not items:
        return []
    results, _ = batch.run(functools.partial(check_one, expect=expect), items, workers, label="校验报告",
                           on_result=on_result)
    return results


def heads_of(paths: list[str], workers: int | None = None, kept: list[str | None] | None = None,
             on_result=None) -> list[str]:
    """Each report's head (``report_head``); ``on_result(i, r)`` as each arrives (the job's progress)."""
    if not paths:
        return []
    kept = kept or [None] * len(paths)
    # a .docx's head takes a fraction of a second: a pool (forked workers) pays off only for many,
    # or for .doc/.wps that LibreOffice converts
    few = len(paths) <= 4 and not any(Path(p).suffix.lower() in CONVERTED for p in paths)
    results, _ = batch.run(_head_item, list(zip(paths, kept)), 1 if few else workers, label="读取报告封面",
                           on_result=on_result)
    return [r.get("head", Path(p).stem) for r, p in zip(results, paths)]


def _head_item(item: tuple[str, str | None]) -> dict[str, Any]:
    return {"status": "ok", "head": report_head(*item)}


def job_steps(items: list[tuple[str, str, int]]) -> int:
    """An upload job's steps for its progress bar: one per workbook, two per report (its cover is
    read to pair it, then it is checked) — so the bar moves while covers are read too."""
    return len(items) + sum(1 for _, name, _ in items if is_report_name(name))


class _Steps:
    """An upload's report phases on the job's bar, after its ``base`` workbooks: covers read, then
    reports checked, each with its label (正在读取报告封面 3/40)."""

    def __init__(self, progress, base: int, n: int):
        self.progress, self.base, self.n = progress, base, n

    def covers(self, done: int) -> None:
        if self.progress:
            self.progress(self.base + done, f"正在读取报告封面 {done}/{self.n}")

    def checks(self, done: int, of: int) -> None:
        if self.progress:  # reports checked again (no new file) add no step
            self.progress(self.base + self.n + min(done, self.n), f"正在校验报告 {done}/{of}")


def prepare(ws, cid: int, reps: list[tuple[str, str, int]], books: list[tuple[str, str, int]],
            book_results: list[dict[str, Any]], folder: str | Path, expect: dict[str, Any] | None = None,
            workers: int | None = None, progress=None, only_unit: int | None = None,
            done_before: int = 0) -> list[dict[str, Any]]:
    """Pair and check an upload's reports (stored: sha256, name, size), before anything is recorded.
    ``books``/``book_results``: the upload's workbooks as ``work.check_items`` staged and read them
    in ``folder``; ``expect``: the campaign's judging (``work.judging_for``); ``progress(done,
    phase)``: the job's bar, ``done_before`` steps already done (``job_steps``). Returns one entry per report: the stored file, its unit (or None and why), the
    workbook it was checked with (``book``: index into ``books``; ``upload_id``: a stored version),
    its result and its commented copy, stored by hash. Nothing is written to the database."""
    folder = Path(folder)
    units = [(u["id"], u["code"], u["name"]) for u in ws.units(cid)]
    code_to_id = {u[1]: u[0] for u in units}
    mine = ws.unit(only_unit)["code"] if only_unit is not None else None
    rechecks: dict[int, int] = {}  # index among the reports → the stored report checked again
    book_of_unit: dict[int, int] = {}  # unit id → the upload's last readable workbook of it
    for i, r in enumerate(book_results):
        uid = code_to_id.get(r.get("unit_code")) if r.get("status") != STATUS_UNREADABLE else None
        if uid is not None and (mine is None or r.get("unit_code") == mine):
            book_of_unit[uid] = i
    if not reps and not book_of_unit:
        return []
    steps = _Steps(progress, done_before, len(reps))
    paths = [str(stage(ws, sha, folder / "reports" / str(i) / name)) for i, (sha, name, _) in enumerate(reps)]
    kept = [kept_conversion(ws, sha, name) for sha, name, _ in reps]
    read = [0]

    def head_read(_i, _r):
        read[0] += 1
        steps.covers(read[0])

    heads = heads_of(paths, workers, kept, head_read)
    pairs = assign(heads, [n for _, n, _ in reps], units, list(book_of_unit), only_unit)
    # a unit that sends a new workbook without its report: its latest report is checked again
    # with the new workbook (the report came first, or the figures changed)
    sent = {uid for uid, _ in pairs if uid is not None}
    for uid in book_of_unit:
        if uid in sent:
            continue
        old = next(iter(ws.reports_of(uid)), None)
        if old is None or old["status"] == STATUS_UNREADABLE:
            continue
        i = len(paths)
        reps = list(reps) + [(old["sha256"], old["original_name"], old["size"])]
        paths.append(str(stage(ws, old["sha256"], folder / "reports" / str(i) / old["original_name"])))
        kept.append(kept_conversion(ws, old["sha256"], old["original_name"]))
        pairs.append((uid, ""))
        rechecks[i] = old["id"]
    entries, work_items = [], []
    for i, ((sha, name, size), path, conv, (uid, why)) in enumerate(zip(reps, paths, kept, pairs)):
        e = {"sha256": sha, "name": name, "size": size, "unit_id": uid, "why": why, "book": None, "upload_id": None,
             "recheck": rechecks.get(i)}
        entries.append(e)
        if uid is None:
            continue
        book = None
        if uid in book_of_unit:
            e["book"] = book_of_unit[uid]
            book = str(staged_path(folder, e["book"], books[e["book"]][1]))
        else:
            latest = next((v for v in ws.uploads_of(uid) if v["status"] != STATUS_UNREADABLE), None)
            if latest is not None:
                e["upload_id"] = latest["id"]
                book = str(stage(ws, latest["sha256"], staged_path(folder / "latest", i, latest["original_name"])))
        out = folder / "copies" / str(i)
        out.mkdir(parents=True, exist_ok=True)
        work_items.append((e, (book, path, str(out), conv)))
    done = [0]

    def arrived(_i, _r):
        done[0] += 1
        steps.checks(done[0], len(work_items))

    results = check_reports([w for _, w in work_items], expect, workers, arrived)
    for (e, _), r in zip(work_items, results):
        _keep_result(ws, e, r)
    return entries


def _keep_result(ws, e: dict[str, Any], r: dict[str, Any]) -> None:
    """A checked report's result onto its entry: a worker's failure as 无法读取 (said, never
    dropped), the commented copy stored by hash."""
    if "flags" not in r:
        r = {"status": STATUS_UNREADABLE, "reason": r.get("reason", f"{e['name']}：无法读取"), "flags": [],
             "errors": 0, "warnings": 0}
    copy = r.pop("copy", None)
    if copy:
        with open(copy, "rb") as f:
            e["copy_sha256"] = ws.store(iter(lambda: f.read(1 << 16), b""), 64 * 1024 * 1024).sha256
    e["result"] = r


def record(ws, cid: int, entries: list[dict[str, Any]], book_out: list[dict[str, Any]], user: str = "",
           only_unit: int | None = None) -> list[dict[str, Any]]:
    """Record prepared reports as versions (joins the caller's transaction): each paired report
    under its unit, an unpairable one with no unit (coordinator's upload: kept and listed) or not
    at all (a unit's link: another unit's report is refused). Returns the job page's rows."""
    from .store import StoredFile

    rows = []
    for e in entries:
        base = {"name": e["name"], "kind": REPORT}
        if e["unit_id"] is None:
            status = NOT_THIS_UNIT if only_unit is not None else UNPAIRED
            rid = None
            if only_unit is None:
                rid = ws.add_report(cid, None, None, StoredFile(e["sha256"], e["size"]), e["name"],
                                    {"status": UNPAIRED, "reason": e["why"], "flags": []}, user)
            rows.append(dict(base, status=status, reason=e["why"], report_id=rid, unit_id=None))
            continue
        upload_id = e["upload_id"]
        if e["book"] is not None:
            upload_id = book_out[e["book"]].get("upload_id")
        r = e["result"]
        if e["recheck"] is not None:
            if upload_id is None:  # the new workbook was not recorded after all: the old result stands
                continue
            rid = e["recheck"]
            ws.recheck_report(rid, upload_id, r, e.get("copy_sha256", ""))
        else:
            rid = ws.add_report(cid, e["unit_id"], upload_id, StoredFile(e["sha256"], e["size"]), e["name"], r, user,
                                e.get("copy_sha256", ""))
        unit = ws.unit(e["unit_id"])
        said = r.get("reason") or ("之前交来的报告，已与本次上传的工作簿重新核对" if e["recheck"] is not None else
                                   "与本次上传的工作簿一起校验" if e["book"] is not None else
                                   "与该单位最新一版工作簿一起校验" if upload_id else "该单位还没有工作簿，只按报告本身校验")
        rows.append(dict(base, recheck=e["recheck"] is not None, status=r["status"], errors=r.get("errors"), warnings=r.get("warnings"),
                         reason=f"单位报告：{said}" + (f"（{e['why']}）" if e["why"] else ""), report_id=rid,
                         unit_id=e["unit_id"], unit_code=unit["code"], unit_name=unit["name"]))
    return rows



# -- a report assigned to its unit by hand ----------------------------------------------------------

def find_unit(units: list[tuple[int, str, str]], text: str) -> tuple[int | None, list[tuple[int, str, str]]]:
    """The roster unit (id, code, name) the coordinator typed or picked for a report: the list's
    "编码 名称", a code, a name, or any part of a code or name as the board's search takes it.
    Returns (its id, or None and the candidates: none, or more than one)."""
    text = " ".join(text.split())
    if not text:
        return None, []
    for u in units:  # picked from the list, or typed in full
        if text in (f"{u[1]} {u[2]}", u[1], u[2]):
            return u[0], [u]
    q = text.lower()
    hits = [u for u in units if q in u[1].lower() or q in u[2].lower()]
    return (hits[0][0], hits) if len(hits) == 1 else (None, hits)


def check_assigned(ws, cid: int, rid: int, uid: int, folder: str | Path, expect: dict[str, Any] | None = None,
                   workers: int | None = None) -> dict[str, Any]:
    """An unmatched report checked as the unit's (``uid``): with its latest readable workbook, or
    alone. Returns the entry ``record_assigned`` records; nothing is written to the database."""
    folder = Path(folder)
    rep = ws.report(rid)
    path = str(stage(ws, rep["sha256"], folder / "report" / rep["original_name"]))
    e = {"report_id": rid, "name": rep["original_name"], "unit_id": uid, "upload_id": None}
    latest = next((v for v in ws.uploads_of(uid) if v["status"] != STATUS_UNREADABLE), None)
    book = None
    if latest is not None:
        e["upload_id"] = latest["id"]
        book = str(stage(ws, latest["sha256"], staged_path(folder / "latest", 0, latest["original_name"])))
    out = folder / "copy"
    out.mkdir(parents=True, exist_ok=True)
    (r,) = check_reports([(book, path, str(out), kept_conversion(ws, rep["sha256"], rep["original_name"]))],
                         expect, workers)
    _keep_result(ws, e, r)
    return e


def record_assigned(ws, e: dict[str, Any], user: str = "") -> dict[str, Any]:
    """The checked report under its unit (joins the caller's transaction). Returns the job page's row."""
    unit = ws.unit(e["unit_id"])
    r = e["result"]
    row = {"name": e["name"], "kind": REPORT, "report_id": e["report_id"], "unit_id": e["unit_id"],
           "unit_code": unit["code"], "unit_name": unit["name"]}
    if not ws.assign_report(e["report_id"], e["unit_id"], e["upload_id"], r, e.get("copy_sha256", ""), user):
        now = ws.report(e["report_id"])
        other = ws.unit(now["unit_id"]) if now and now["unit_id"] else None
        who = f"“{other['name']}”（{other['code']}）" if other else "其他单位"
        return dict(row, status=NOT_ASSIGNED, unit_id=None, reason=f"{e['name']}：这份报告已由其他人指定到 {who}，本次未改动。")
    said = r.get("reason") or ("与该单位最新一版工作簿一起校验" if e["upload_id"] else "该单位还没有工作簿，只按报告本身校验")
    newer = [x for x in ws.reports_of(e["unit_id"]) if x["id"] > e["report_id"]]
    tail = f"；该单位之后又交过报告，最新一版仍是 {newer[0]['original_name']}" if newer else ""
    return dict(row, status=r["status"], errors=r.get("errors"), warnings=r.get("warnings"),
                reason=f"已指定为该单位的报告：{said}{tail}")


NOT_ASSIGNED = "未改动"
