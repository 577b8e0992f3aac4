"""Background jobs (#20): uploads and compiles run here, not in the request that asked for them.

A request stores its files by hash and commits a ``jobs`` row naming them (``Workspace.add_job``)
— from then on the work is acknowledged — and returns at once to the job's page, which shows its
progress (done/total) and refreshes itself until the job is done. One worker thread in the server
process takes queued jobs in order and runs them with the same process pool as the CLI.

A check job records all its uploads and its being done in one transaction, so a server stopped in
the middle has recorded nothing of it; on the next start ``Workspace.resume_jobs`` queues it again
and it runs from the beginning over the files it stored. A job that fails (the database held by
another program too long …) says so in words and can be tried again from its stored files.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from ..jobs.proving import RegionRefused
from . import work
from .store import JOB_DONE, JOB_FAILED, Workspace, WorkspaceBusy

CHECK, UNIT_CHECK, COMPILE, ANNOTATED, TEMPLATES = "check", "unit_check", "compile", "annotated", "templates"
ASSIGN = "assign_report"  # an unmatched report given its unit by hand, then checked as the unit's
KIND_ZH = {CHECK: "上传并校验", UNIT_CHECK: "上传并校验", COMPILE: "生成汇总与报告", ANNOTATED: "打包带批注的副本",
           TEMPLATES: "生成全部模板", ASSIGN: "指定报告所属单位并校验"}
FILE_KINDS = (CHECK, UNIT_CHECK, ASSIGN)  # jobs whose page lists the files they checked
ZIP_KINDS = (COMPILE, ANNOTATED, TEMPLATES)  # jobs whose result is a zip to download


def result_path(ws: Workspace, jid: int) -> Path:
    return ws.folder / "files" / "jobs" / f"{jid}.zip"


class Worker:
    """The one thread that runs the workspace's jobs."""

    def __init__(self, ws: Workspace, workers: int | None = None):
        self.ws = ws
        self.workers = workers
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.ws.resume_jobs()
        self.thread = threading.Thread(target=self._loop, name="selfeval-jobs", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def nudge(self) -> None:
        self.wake.set()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            if not (self.ws.folder / "workspace.sqlite3").exists():
                return  # the workspace folder is gone (a test's temp folder)
            try:
                job = self.ws.claim_job()
            except Exception:  # noqa: BLE001 — busy or gone: look again shortly
                job = None
            if job is None:
                self.wake.wait(1.0)
                self.wake.clear()
                continue
            self.run(job)

    def run(self, job) -> None:
        jid = job["id"]
        try:
            run_job(self.ws, job, self.workers)
        except WorkspaceBusy as e:
            self._fail(jid, f"{e}\n已保存的文件都在工作区中，点“重新处理”即可，不必重新选择文件。")
        except RegionRefused as e:  # the campaign's region failed its proof: its file, line and key
            self._fail(jid, f"地区配置未通过检验，未生成模板：{e}")
        except Exception as e:  # noqa: BLE001 — said on the job's page, never a silent stop
            self._fail(jid, f"处理时出错：{type(e).__name__}：{e}。已保存的文件都在工作区中，可点“重新处理”。")

    def _fail(self, jid: int, message: str) -> None:
        for _ in range(30):
            try:
                self.ws.finish_job(jid, JOB_FAILED, message)
                return
            except WorkspaceBusy:
                time.sleep(2)


class _Progress:
    """Writes done/total (and the phase, 正在读取报告封面 3/40, when said) to the job row, at most
    a few times a second."""

    def __init__(self, ws: Workspace, jid: int):
        self.ws, self.jid, self.last = ws, jid, 0.0

    def __call__(self, done: int, phase: str | None = None) -> None:
        t = time.monotonic()
        if t - self.last >= 0.3:
            self.last = t
            try:
                self.ws.job_progress(self.jid, done, phase)
            except WorkspaceBusy:
                pass  # progress is a courtesy; the job goes on


def run_job(ws: Workspace, job, workers: int | None = None) -> None:
    jid, cid, kind = job["id"], job["campaign_id"], job["kind"]
    params = json.loads(job["params"] or "{}")
    progress = _Progress(ws, jid)
    if kind in (CHECK, UNIT_CHECK):
        work.check_upload(ws, cid, ws.job_files(jid), workers, params.get("user", ""),
                             only_unit=job["unit_id"] if kind == UNIT_CHECK else None, progress=progress,
                             finish=lambda out: ws.finish_job(jid, JOB_DONE, _summary(out),
                                                              {"results": [_brief(r) for r in out]}))
    elif kind == ASSIGN:
        work.assign_report(ws, cid, params["report"], params["unit"], workers, params.get("user", ""),
                           finish=lambda row: ws.finish_job(jid, JOB_DONE, _summary([row]), {"results": [_brief(row)]}))
    elif kind in ZIP_KINDS:
        dest = result_path(ws, jid)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(f"{jid}.building")
        try:
            if kind == COMPILE:
                work.compile_zip(ws, cid, params.get("units"), part, pdf=bool(params.get("pdf")), workers=workers,
                                 progress=progress)
            elif kind == TEMPLATES:
                work.templates_zip(ws, cid, part, workers, progress=progress)
            else:
                work.annotated_zip(ws, cid, params.get("units") or [], part, progress=progress)
            part.replace(dest)
        finally:
            part.unlink(missing_ok=True)
        ws.finish_job(jid, JOB_DONE, "已生成，可以下载。", {"download": params.get("download", f"{jid}.zip")})
    else:
        ws.finish_job(jid, JOB_FAILED, f"未知的任务类型：{kind}")


def _summary(results: list[dict[str, Any]]) -> str:
    results = [r for r in results if not r.get("recheck")]  # a report checked again was not sent now
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return f"已校验 {len(results)} 个文件：" + "，".join(f"{k} {v}" for k, v in counts.items()) if results else "没有文件。"


def _brief(r: dict[str, Any]) -> dict[str, Any]:
    """What the job page lists of one file (the flags stay with the upload)."""
    keep = ("name", "kind", "status", "errors", "warnings", "reason", "unit_code", "unit_name", "upload_id", "unit_id",
            "report_id", "recheck")
    return {k: r.get(k) for k in keep if k in r}
