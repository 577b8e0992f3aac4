"""The coordinator's web page (``selfeval-xl serve``): Flask over the workspace, pages rendered by
the project's Jinja2 (autoescaped), no front-end build.

Why Flask (and waitress to serve it): the pages are forms and tables rendered on the server, for
one coordinator or a few colleagues on an office LAN. Flask is synchronous, small and long
maintained; Werkzeug parses multipart uploads with size and part limits and streams files to
disk; waitress is a pure-Python production server that runs the same on Windows. An async
framework (Starlette/FastAPI) would add an event loop, a multipart package and an ASGI server for
nothing these pages need — the checking runs in a process pool either way.

Safe by default: the server refuses to bind anything but a loopback address without a password;
every form carries a CSRF token (a page on another site cannot post to 127.0.0.1 either); the
Host header must be the address served (DNS rebinding); logins are rate-limited per client;
uploads are bounded in size and count and preflighted by the reader; stored files are named by
hash; everything a clerk wrote is escaped by Jinja.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import ipaddress
import json
import os
import secrets
import tempfile
import threading
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

from flask import Flask, abort, after_this_request, g, redirect, render_template, request, send_file, session, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from ..forms.regions import DEFAULT_PROFILE, available_profiles, get_profile
from ..files.outputs import bounded_name, describe_os_error
from ..files.roster import RosterError
from . import jobs, reports, work
from .store import BOARD_STATUSES, INCOMPLETE, JOB_DONE, JOB_FAILED, JOB_STATES_ZH, Workspace, WorkspaceBusy
from .charts import bar_chart
from .qr import qr_svg

MAX_FILE = 20 * 1024 * 1024  # one workbook: ours are ~100 KB; 20 MiB is a generous bound
MAX_REPORT = 50 * 1024 * 1024  # a unit's report: photos of seals and scans make them larger
MAX_REQUEST = 128 * 1024 * 1024  # one upload request (a few hundred workbooks)
MAX_FILES = 1000  # files in one request
MAX_NAME_BYTES = 180  # an upload's name in UTF-8: fits a file name (255) with room to spare
LOGIN_TRIES, LOGIN_WINDOW = 5, 600  # failed logins per client per 10 minutes
PAGE_SIZE = 100  # units per page of the board
UNIT_FILES = 5  # files in one upload through a unit's own link
UNMATCHED_SHOWN = 50  # of each kind, newest first, in the board's list of files no unit could be told for
SORTS = {"code": "单位编码", "status": "状态", "name": "单位名称", "score": "总分", "time": "最近提交"}


def _all_interfaces(host: str) -> bool:
    return host.strip("[]") in ("0.0.0.0", "::")


def is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ServeError(Exception):
    """The server cannot start as asked (a LAN address without a password …)."""


def create_app(workspace: str | Path, password: str | None = None, host: str = "127.0.0.1",
               workers: int | None = None, run_jobs: bool = True) -> Flask:
    if not is_loopback(host) and not password:
        raise ServeError(f"在局域网地址 {host} 上提供服务必须设置密码（--password-file），否则同一网络中的任何人都能"
                         f"查看和修改各单位的材料。只在本机使用请不要指定 --host。")
    ws = Workspace(workspace)
    # sessions end: the cookie is signed with a key derived from the password (a cookie from
    # before a password change does not verify), and names a session row that logout deletes
    # and a start with another password clears (``Workspace.use_password``)
    ws.use_password(password)
    app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
    app.config.update(SECRET_KEY=ws.session_key(password), MAX_CONTENT_LENGTH=MAX_REQUEST,
                      MAX_FORM_PARTS=MAX_FILES + 20, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict")
    app.jinja_env.autoescape = True
    app.jinja_env.filters["figure"] = figure
    worker = jobs.Worker(ws, workers)
    app.extensions["selfeval_jobs"] = worker
    if run_jobs:
        worker.start()  # first queues again any job a stopped server left unfinished
    failures: dict[str, deque] = defaultdict(deque)
    lock = threading.Lock()

    def user() -> str:
        return g.get("user", "") if password else ""

    @app.before_request
    def guard():
        # DNS rebinding: a page on evil.example resolving to 127.0.0.1 reaches us with its own Host.
        # Served on every interface (0.0.0.0, ::) colleagues may use any of its names; a password
        # and a same-site session cookie guard it then.
        if not _all_interfaces(host):
            allowed = {host, "localhost", "127.0.0.1", "[::1]"} if is_loopback(host) else {host}
            if request.host.rsplit(":", 1)[0] not in allowed:
                abort(400, "主机名不符")
        if password:
            # the session must still exist on the server: a cookie kept from before a logout,
            # or from before the password changed, opens nothing
            g.user = ws.session_user(session.get("sid"))
            if g.user is None and session.get("sid"):
                session.pop("sid")
                session.pop("user", None)
            # a unit's own pages (``/k/<token>``): no login, the private link is the key
            if g.user is None and request.endpoint not in ("login", "static") and not _is_link(request.endpoint):
                session.setdefault("csrf", secrets.token_urlsafe(24))
                return redirect(url_for("login", next=request.full_path.rstrip("?")))
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(24)
        if request.method == "POST":
            if (request.content_length or 0) > MAX_REQUEST:
                raise RequestEntityTooLarge()  # refused from its length, before a byte is read
            sent = request.headers.get("X-CSRF") or request.form.get("csrf", "")
            if not hmac.compare_digest(sent, session["csrf"]):
                abort(403, "表单已过期或来自其他网站，请刷新页面后重试")

    @app.after_request
    def no_referrer(response):
        # a unit's link carries its token: never sent on to another site as a Referer
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.context_processor
    def common():
        return {"csrf": session.get("csrf", ""), "user": user(), "statuses": BOARD_STATUSES, "region_name": region_name}

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(e):
        return render_template("message.html", title="文件太大",
                               message=f"一次上传不能超过 {MAX_REQUEST // 1048576} MiB、单个文件不能超过 "
                                       f"{MAX_FILE // 1048576} MiB。请分批上传。"), 413

    @app.errorhandler(WorkspaceBusy)
    def busy(e):
        return render_template("message.html", title="请稍后重试", message=str(e)), 503

    @app.errorhandler(400)
    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(429)
    def http_error(e):
        return render_template("message.html", title={400: "请求无效", 403: "拒绝访问", 404: "找不到页面",
                                                      429: "尝试次数过多"}.get(e.code, "错误"),
                               message=e.description), e.code

    # -- login (only when a password is set) --------------------------------------------------
    @app.route("/login", methods=["GET", "POST"])
    def login():
        if not password:
            return redirect(url_for("index"))
        error = ""
        if request.method == "POST":
            client = request.remote_addr or "?"
            with lock:
                q = failures[client]
                while q and q[0] < time.monotonic() - LOGIN_WINDOW:
                    q.popleft()
                if len(q) >= LOGIN_TRIES:
                    abort(429, f"密码错误次数过多，请 {LOGIN_WINDOW // 60} 分钟后再试。")
            name = request.form.get("name", "").strip()[:40]
            if name and hmac.compare_digest(request.form.get("password", "").encode(), password.encode()):
                ws.end_session(session.get("sid"))  # a new session each login (no fixation)
                session.clear()
                session.update(sid=ws.start_session(name), user=name, csrf=secrets.token_urlsafe(24))
                return redirect(safe_next(request.args.get("next", "/")))
            with lock:
                failures[client].append(time.monotonic())
            error = "姓名或密码不正确" if name else "请填写姓名（记录在每个决定上）"
        return render_template("login.html", error=error)

    @app.post("/logout")
    def logout():
        ws.end_session(session.get("sid"))  # the cookie, if kept, names a session that is gone
        session.clear()
        return redirect(url_for("login"))

    # -- campaigns ---------------------------------------------------------------------------
    @app.get("/")
    def index():
        return render_template("index.html", campaigns=ws.campaigns(), regions=_regions(),
                               default_region=DEFAULT_PROFILE, year=time.localtime().tm_year - 1)

    @app.post("/campaigns")
    def create_campaign():
        name = request.form.get("name", "").strip()[:100]
        region = request.form.get("region", "")
        try:
            year = int(request.form.get("year", ""))
        except ValueError:
            year = 0
        if not name or region not in available_profiles() or not 2000 <= year <= 2100:
            return render_template("message.html", title="无法建立任务",
                                   message="请填写任务名称、选择地区，并填写四位年度（如 2023）。"), 400
        cid = ws.create_campaign(name, region, year)
        return redirect(url_for("board", cid=cid))

    def _campaign(cid: int):
        camp = ws.campaign(cid)
        if camp is None:
            abort(404, "没有这个任务")
        return camp

    @app.get("/c/<int:cid>")
    def board(cid: int):
        camp = _campaign(cid)
        rows = ws.board(cid)
        counts = {s: 0 for s in BOARD_STATUSES}
        for r in rows:
            counts[r["status"]] += 1
        want, q, sort = request.args.get("status", ""), request.args.get("q", "").strip()[:60], request.args.get("sort", "code")
        shown = _filtered(rows, want, q, sort)
        pages = max(1, -(-len(shown) // PAGE_SIZE))
        page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
        lost, lost_reports = ws.unmatched(cid), ws.unmatched_reports(cid)
        return render_template("board.html", camp=camp, rows=shown[(page - 1) * PAGE_SIZE: page * PAGE_SIZE],
                               n_shown=len(shown), counts=counts, want=want, q=q, sort=sort, sorts=SORTS, page=page,
                               pages=pages, total=len(rows), unmatched=lost[:UNMATCHED_SHOWN],
                               unmatched_reports=lost_reports[:UNMATCHED_SHOWN], roster=rows,
                               n_unmatched=len(lost) + len(lost_reports),
                               recent_jobs=ws.jobs_of(cid, 5), job_states=JOB_STATES_ZH, kind_zh=jobs.KIND_ZH)

    @app.post("/c/<int:cid>/deadline")
    def deadline(cid: int):
        _campaign(cid)
        text = request.form.get("deadline", "").strip()
        if text:
            try:
                text = dt.date.fromisoformat(text).isoformat()
            except ValueError:
                abort(400, "截止日期格式应为 2024-06-30")
        ws.set_deadline(cid, text)
        return redirect(url_for("board", cid=cid))

    @app.get("/c/<int:cid>/late")
    def late(cid: int):
        camp = _campaign(cid)
        return render_template("late.html", camp=camp, rows=work.late_units(ws, cid), units=len(ws.units(cid)))

    @app.get("/c/<int:cid>/late.xlsx")
    def late_xlsx(cid: int):
        camp = _campaign(cid)
        path = _scratch(ws, ".xlsx")
        work.late_units_xlsx(work.late_units(ws, cid), camp, path)
        return _send_and_remove(path, f"{camp['name']}_未交与逾期.xlsx")

    @app.post("/c/<int:cid>/roster")
    def upload_roster(cid: int):
        _campaign(cid)
        f = request.files.get("roster")
        if f is None or not f.filename:
            return render_template("message.html", title="没有选择名册", message="请选择名册文件（.xlsx 或 .csv）。"), 400
        suffix = ".csv" if f.filename.lower().endswith(".csv") else ".xlsx"
        with tempfile.TemporaryDirectory(dir=ws.folder / "files" / "tmp") as tmp:
            path = Path(tmp) / f"名册{suffix}"
            f.save(path)
            try:
                added, updated = work.import_roster(ws, cid, path)
            except RosterError as e:
                return render_template("message.html", title="名册有误",
                                       message=str(e).replace(str(path), f.filename)), 400
        return render_template("message.html", title="名册已导入",
                               message=f"新增 {added} 个单位，更新 {updated} 个单位。",
                               back=url_for("board", cid=cid))

    @app.post("/c/<int:cid>/templates")
    def templates(cid: int):
        """Every unit's blank template, zipped by a background job: for hundreds of units the
        generating takes a while, and the page shows its progress instead of a silent spinner.
        A region that fails its proof fails the job, with the file, line and key said on its page."""
        _campaign(cid)
        n = len(ws.units(cid))
        if not n:
            abort(404, "本任务还没有名册")
        jid = ws.add_job(cid, jobs.TEMPLATES, {}, total=n, user=user())
        worker.nudge()
        return _job_page(cid, jid)

    # -- returns -------------------------------------------------------------------------------
    def _store_files(files) -> tuple[list[tuple[str, str, int]], list[dict[str, Any]]]:
        items, refused = [], []
        for f in files:
            name = _client_name(f.filename)
            try:
                limit = MAX_REPORT if reports.is_report_name(name) else MAX_FILE
                stored = ws.store(iter(lambda: f.stream.read(1 << 16), b""), limit)
            except ValueError as e:
                refused.append({"name": name, "status": "无法读取", "reason": f"{name}：{e}，未保存。"})
                continue
            except OSError as e:  # the workspace's disk, not the file: said, and the others kept
                refused.append({"name": name, "status": "无法读取", "reason": f"{name}：未保存，{describe_os_error(e, ws.folder)}"})
                continue
            items.append((stored.sha256, name, stored.size))
        return items, refused

    @app.post("/c/<int:cid>/returns")
    def returns(cid: int):
        _campaign(cid)
        files = [f for f in request.files.getlist("files") if f.filename]
        if not files:
            return render_template("message.html", title="没有选择文件", message="请选择或拖入回收的工作簿（及各单位的报告）。"), 400
        if len(files) > MAX_FILES:
            return render_template("message.html", title="文件太多",
                                   message=f"一次最多上传 {MAX_FILES} 个文件，请分批上传。"), 400
        items, refused = _store_files(files)
        return _check_in_background(cid, items, refused)

    @app.post("/c/<int:cid>/returns/again")
    def returns_again(cid: int):
        """The same upload checked again from the files already stored (named by hash): after the
        database was busy, nothing has to be chosen and sent a second time."""
        _campaign(cid)
        items, refused = [], []
        for sha, name in list(zip(request.form.getlist("sha"), request.form.getlist("name")))[:MAX_FILES]:
            name = _client_name(name)
            try:
                size = ws.path_of(sha).stat().st_size
            except (ValueError, OSError):
                refused.append({"name": name, "status": "无法读取",
                                "reason": f"{name}：服务器上已没有这份文件（工作台重启时会清除未登记的文件），请重新上传。"})
                continue
            items.append((sha, name, size))
        return _check_in_background(cid, items, refused)

    def _check_in_background(cid: int, items: list[tuple[str, str, int]], refused: list[dict[str, Any]]):
        """The stored files become a job (acknowledged once its row is committed) and the page
        shows it; if the database stays busy no job is recorded, but every file stays stored,
        and the page offers to try again with them."""
        try:
            jid = ws.add_job(cid, jobs.CHECK, {"user": user(), "refused": refused}, items, user=user(),
                             total=reports.job_steps(items))
        except WorkspaceBusy as e:
            return render_template("busy.html", camp=ws.campaign(cid), message=str(e), items=items,
                                   refused=refused), 503
        worker.nudge()
        return _job_page(cid, jid)

    def _job_page(cid: int, jid: int, token: str | None = None):
        """The job's page, at once: the request that started the job never waits for it (the
        page refreshes itself while the job runs, and its address names the job)."""
        job = ws.job(jid)
        result = json.loads(job["result"] or "{}")
        params = json.loads(job["params"] or "{}")
        results = result.get("results", []) + params.get("refused", [])
        base = f"/k/{token}" if token else f"/c/{cid}"
        roster = []
        if not token:  # an unmatched report can be given its unit here (the coordinator's page only)
            results = [_assignable(r) for r in results]
            if any(r.get("assignable") for r in results):
                roster = ws.units(cid)
        steps_note = ""
        if job["kind"] in (jobs.CHECK, jobs.UNIT_CHECK) and job["total"] > len(ws.job_files(jid)):
            steps_note = f"共 {len(ws.job_files(jid))} 个文件；每份报告计两步：读取封面以对应单位、校验"
        return render_template("job.html", camp=ws.campaign(cid), job=job, results=results, base=base, steps_note=steps_note,
                               roster=roster, file_kinds=jobs.FILE_KINDS,
                               state_zh=JOB_STATES_ZH[job["state"]], kind_zh=jobs.KIND_ZH.get(job["kind"], job["kind"]),
                               finished=job["state"] in (JOB_DONE, JOB_FAILED), token=token,
                               url=f"{base}/jobs/{jid}")

    def _assignable(row: dict[str, Any]) -> dict[str, Any]:
        """A job page's row of an unmatched report: still to be assigned, or assigned since (to whom)."""
        if row.get("kind") != reports.REPORT or row.get("status") != reports.UNPAIRED or not row.get("report_id"):
            return row
        rep = ws.report(row["report_id"])
        if rep is None:
            return row
        if rep["unit_id"] is None:
            return dict(row, assignable=True)
        u = ws.unit(rep["unit_id"])
        return dict(row, assigned_to=f"{u['code']} {u['name']}", assigned_unit=u["id"])

    def _job(cid: int, jid: int):
        job = ws.job(jid)
        if job is None or job["campaign_id"] != cid:
            abort(404, "没有这个任务")
        return job

    @app.get("/c/<int:cid>/jobs/<int:jid>")
    def job_page(cid: int, jid: int):
        _campaign(cid)
        _job(cid, jid)
        return _job_page(cid, jid)

    @app.post("/c/<int:cid>/jobs/<int:jid>/retry")
    def job_retry(cid: int, jid: int):
        _campaign(cid)
        if _job(cid, jid)["state"] == JOB_FAILED:
            ws.requeue_job(jid, "重新处理中")
            worker.nudge()
        return redirect(url_for("job_page", cid=cid, jid=jid))

    @app.get("/c/<int:cid>/jobs/<int:jid>/download")
    def job_download(cid: int, jid: int):
        camp = _campaign(cid)
        job = _job(cid, jid)
        path = jobs.result_path(ws, jid)
        if job["state"] != JOB_DONE or not path.is_file():
            abort(404, "结果还没有生成")
        name = {jobs.COMPILE: "汇总与报告", jobs.ANNOTATED: "带批注的副本", jobs.TEMPLATES: "模板"}.get(job["kind"], "结果")
        return send_file(path, as_attachment=True, download_name=f"{camp['name']}_{name}.zip")

    @app.get("/c/<int:cid>/u/<int:uid>")
    def unit(cid: int, uid: int):
        camp = _campaign(cid)
        u = ws.unit(uid)
        if u is None or u["campaign_id"] != cid:
            abort(404, "没有这个单位")
        versions = ws.uploads_of(uid)
        decisions = ws.decisions_of(uid)
        row = next(iter(ws.board(cid, unit_id=uid)), None)
        latest = versions[0] if versions else None
        diff = None
        a, b = request.args.get("a", type=int), request.args.get("b", type=int)
        ids = {v["id"] for v in versions}
        if a in ids and b in ids:
            diff = work.diff_versions(ws, a, b)
        elif len(versions) >= 2:
            a, b = versions[1]["id"], versions[0]["id"]
            diff = work.diff_versions(ws, a, b)
        reps = ws.reports_of(uid)
        return render_template("unit.html", camp=camp, unit=u, row=row, versions=versions, decisions=decisions,
                               latest=latest, flags=errors_first(work.flags_of(latest)) if latest else [], diff=diff, a=a, b=b,
                               **_report_view(reps), version_no=_version_no(versions))

    @app.post("/c/<int:cid>/u/<int:uid>/decision")
    def decide(cid: int, uid: int):
        _campaign(cid)
        u = ws.unit(uid)
        if u is None or u["campaign_id"] != cid:
            abort(404, "没有这个单位")
        decision = request.form.get("decision", "")
        if decision not in ("退回修改", "确认"):
            abort(400, "无效的决定")
        versions = ws.uploads_of(uid)
        if not versions:
            abort(400, "该单位还没有交回工作簿")
        ws.decide(uid, versions[0]["id"], decision, request.form.get("note", "").strip()[:2000], user())
        return redirect(url_for("unit", cid=cid, uid=uid))

    def _upload(cid: int, upid: int):
        up = ws.upload(upid)
        if up is None or up["campaign_id"] != cid:
            abort(404, "没有这个文件")
        return up

    @app.get("/c/<int:cid>/f/<int:upid>/original.xlsx")
    def original(cid: int, upid: int):
        up = _upload(cid, upid)
        return send_file(ws.path_of(up["sha256"]), as_attachment=True, download_name=up["original_name"])

    def _report(cid: int, rid: int):
        rep = ws.report(rid)
        if rep is None or rep["campaign_id"] != cid:
            abort(404, "没有这个报告")
        return rep

    @app.get("/c/<int:cid>/r/<int:rid>/original")
    def report_original(cid: int, rid: int):
        rep = _report(cid, rid)
        return send_file(ws.path_of(rep["sha256"]), as_attachment=True, download_name=rep["original_name"])

    @app.post("/c/<int:cid>/r/<int:rid>/assign")
    def report_assign(cid: int, rid: int):
        """A report no unit could be told for, given its unit by the coordinator (the roster unit
        typed or picked, found as the board's search finds it): a job checks it as that unit's,
        with its latest workbook, and records who did it. Coordinator only: a unit's link never
        reaches this (it is not a ``link_`` page) nor sees an unmatched report."""
        _campaign(cid)
        rep = _report(cid, rid)
        came = request.form.get("job", type=int)  # assigned from an upload's job page: back there
        back = url_for("job_page", cid=cid, jid=came) if came else url_for("board", cid=cid)
        if rep["unit_id"] is not None:
            u = ws.unit(rep["unit_id"])
            return render_template("message.html", title="这份报告已对应到单位",
                                   message=f"{rep['original_name']} 已对应到“{u['name']}”（{u['code']}），不必再指定。",
                                   back=url_for("unit", cid=cid, uid=u["id"])), 400
        text = request.form.get("unit", "").strip()[:200]
        uid, hits = reports.find_unit([(u["id"], u["code"], u["name"]) for u in ws.units(cid)], text)
        if uid is None:
            if not text:
                message = "请输入或从列表中选择单位（名称或编码）。"
            elif not hits:
                message = f"名册中没有名称或编码含“{text}”的单位。请从输入框的下拉列表中选择。"
            else:
                message = (f"名称或编码含“{text}”的单位有 {len(hits)} 个。" +
                           ("请点选其中一个：" if len(hits) <= 10 else "请输入更完整的名称或编码，或从下拉列表中选择。"))
            # a few candidates: one click each (the same form, with the unit's code)
            fields = {"job": came} if came else {}
            choices = [{"action": url_for("report_assign", cid=cid, rid=rid), "label": f"{h[1]} {h[2]}",
                        "fields": dict(fields, unit=h[1])} for h in hits] if 1 < len(hits) <= 10 else []
            return render_template("message.html", title="请选择一个单位", message=message, back=back,
                                   choices=choices), 400
        jid = ws.add_job(cid, jobs.ASSIGN, {"report": rid, "unit": uid, "user": user()}, total=1, user=user())
        worker.nudge()
        return _job_page(cid, jid)

    @app.get("/c/<int:cid>/r/<int:rid>/annotated.docx")
    def report_annotated(cid: int, rid: int):
        return _report_copy(_report(cid, rid))

    def _report_copy(rep):
        """The unit's own report with a Word comment on each flagged paragraph (made when it was
        checked, stored by hash)."""
        if not rep["copy_sha256"]:
            abort(404, "该报告没有带批注的副本（没有问题，或是 PDF、无法读取的文件）")
        return send_file(ws.path_of(rep["copy_sha256"]), as_attachment=True,
                         download_name=f"{Path(rep['original_name']).stem}_批注.docx")

    @app.get("/c/<int:cid>/f/<int:upid>/annotated.xlsx")
    def annotated(cid: int, upid: int):
        return _annotated(_upload(cid, upid))

    def _annotated(up):
        if not work.flags_of(up):
            abort(404, "该版本没有需要批注的问题")
        path = _scratch(ws, ".xlsx")
        try:
            work.annotated_copy(ws, up, path)
        except Exception:  # noqa: BLE001 — a file openpyxl cannot open has no annotated copy
            path.unlink(missing_ok=True)
            abort(404, "无法为该文件生成批注副本（文件无法读取）")
        stem = Path(up["original_name"]).stem
        return _send_and_remove(path, f"{stem}_批注.xlsx")

    # -- compile and dashboard ------------------------------------------------------------------
    @app.post("/c/<int:cid>/compile")
    def compile_(cid: int):
        _campaign(cid)
        picked = request.form.getlist("unit", type=int)
        return _compile(cid, picked if picked else None)

    def _compile(cid: int, units: list[int] | None):
        chosen = work.chosen_for_compile(ws, cid, units)
        if not chosen:
            message = ("勾选的单位都还没有交回工作簿，没有可以汇总的内容。" if units else
                       "没有勾选单位，本任务也还没有“已确认”的单位，所以没有可以汇总的内容。\n"
                       "请先在状态表中勾选要汇总的单位，或先确认各单位的材料，再生成汇总与报告。")
            return render_template("message.html", title="没有选择要汇总的单位", message=message,
                                   back=url_for("board", cid=cid)), 400
        jid = ws.add_job(cid, jobs.COMPILE, {"units": [b["id"] for b in chosen], "pdf": bool(request.form.get("pdf"))},
                         total=len(chosen), user=user())
        worker.nudge()
        return _job_page(cid, jid)

    @app.post("/c/<int:cid>/bulk")
    def bulk(cid: int):
        """One action on many units: the ticked ones, or all the board's filtered ones."""
        _campaign(cid)
        rows = ws.board(cid)
        if request.form.get("all_filtered"):
            picked = [r for r in _filtered(rows, request.form.get("status", ""), request.form.get("q", "").strip()[:60])]
        else:
            ids = set(request.form.getlist("unit", type=int))
            picked = [r for r in rows if r["id"] in ids]
        action = request.form.get("action", "")
        if action == "compile":
            return _compile(cid, [r["id"] for r in picked] if picked else None)
        if not picked:
            return render_template("message.html", title="没有选择单位",
                                   message="请先在状态表中勾选单位（或勾选“全部筛选结果”），再执行该操作。",
                                   back=url_for("board", cid=cid)), 400
        sent = [r for r in picked if r["upload_id"]]
        skipped = len(picked) - len(sent)
        tail = f"\n另有 {skipped} 个单位还没有交回工作簿，未处理。" if skipped else ""
        if action in ("confirm", "return"):
            decision = "确认" if action == "confirm" else "退回修改"
            note = request.form.get("note", "").strip()[:2000]
            if action == "return" and not note:
                return render_template("message.html", title="请写明退回原因",
                                       message="批量退回时请在“说明”里写明要改什么（各单位都会看到这条说明）。",
                                       back=url_for("board", cid=cid)), 400
            ws.decide_many([(r["id"], r["upload_id"], decision, note) for r in sent], user())
            return render_template("message.html", title=f"已{decision}",
                                   message=f"已{'确认' if action == 'confirm' else '退回'} {len(sent)} 个单位。{tail}",
                                   back=url_for("board", cid=cid))
        if action == "annotated":
            if not sent:
                return render_template("message.html", title="没有可打包的副本",
                                       message="勾选的单位都还没有交回工作簿。", back=url_for("board", cid=cid)), 400
            jid = ws.add_job(cid, jobs.ANNOTATED, {"units": [r["id"] for r in sent]}, total=len(sent), user=user())
            worker.nudge()
            return _job_page(cid, jid)
        if action == "links":
            return _issue_links(cid, [r["id"] for r in picked])
        if action == "revoke":
            ws.revoke_links([r["id"] for r in picked])
            return render_template("message.html", title="已收回链接",
                                   message=f"已收回 {len(picked)} 个单位的填报链接；原链接不能再打开。",
                                   back=url_for("board", cid=cid))
        abort(400, "无效的操作")

    def _issue_links(cid: int, unit_ids: list[int]):
        tokens = ws.issue_links(unit_ids)
        units = [ws.unit(uid) for uid in unit_ids]
        base = request.host_url
        rows = [{"code": u["code"], "name": u["name"], "url": f"{base}k/{tokens[u['id']]}"} for u in units]
        for r in rows:
            r["qr"] = qr_svg(r["url"])
        return render_template("links.html", camp=ws.campaign(cid), rows=rows, loopback=is_loopback(request.host.rsplit(":", 1)[0]))

    @app.post("/c/<int:cid>/u/<int:uid>/link")
    def unit_link(cid: int, uid: int):
        _campaign(cid)
        u = ws.unit(uid)
        if u is None or u["campaign_id"] != cid:
            abort(404, "没有这个单位")
        if request.form.get("action") == "revoke":
            ws.revoke_links([uid])
            return redirect(url_for("unit", cid=cid, uid=uid))
        return _issue_links(cid, [uid])

    # -- a unit's own pages: its private link, no login ---------------------------------------
    def _linked(token: str):
        u = ws.unit_by_link(token)
        if u is None:
            abort(404, "链接无效或已被收回。请向协调人索取新的填报链接。")
        return u, ws.campaign(u["campaign_id"])

    @app.get("/k/<token>")
    def link_home(token: str):
        u, camp = _linked(token)
        versions = ws.uploads_of(u["id"])
        latest = versions[0] if versions else None
        row = next(iter(ws.board(camp["id"], unit_id=u["id"])), None)
        returned = next((d for d in ws.decisions_of(u["id"]) if d["decision"] == "退回修改"), None)
        reps = ws.reports_of(u["id"])
        return render_template("link.html", camp=camp, unit=u, row=row, versions=versions, latest=latest,
                               flags=errors_first(work.flags_of(latest)) if latest else [], returned=returned, token=token,
                               deadline=camp["deadline"], **_report_view(reps), version_no=_version_no(versions))

    @app.get("/k/<token>/template.xlsx")
    def link_template(token: str):
        u, camp = _linked(token)
        from ..jobs.proving import RegionRefused

        with tempfile.TemporaryDirectory(dir=ws.folder / "files" / "tmp") as tmp:
            try:
                path = work.unit_template(ws, u["id"], Path(tmp))
            except (RegionRefused, ValueError) as e:
                abort(400, f"无法生成模板：{e}")
            dest = _scratch(ws, ".xlsx")
            dest.write_bytes(path.read_bytes())
        return _send_and_remove(dest, path.name)

    @app.post("/k/<token>/upload")
    def link_upload(token: str):
        u, camp = _linked(token)
        files = [f for f in request.files.getlist("files") if f.filename]
        if not files:
            return render_template("message.html", title="没有选择文件", message="请选择本单位填好的工作簿或报告。",
                                   back=url_for("link_home", token=token)), 400
        if len(files) > UNIT_FILES:
            return render_template("message.html", title="文件太多", message=f"一次最多上传 {UNIT_FILES} 个文件。",
                                   back=url_for("link_home", token=token)), 400
        items, refused = _store_files(files)
        try:
            jid = ws.add_job(camp["id"], jobs.UNIT_CHECK, {"user": "单位自行上传", "refused": refused}, items,
                             unit_id=u["id"], user="单位自行上传", total=reports.job_steps(items))
        except WorkspaceBusy as e:
            return render_template("message.html", title="请稍后重试", message=f"{e}\n请稍后重新上传。",
                                   back=url_for("link_home", token=token)), 503
        worker.nudge()
        return _job_page(camp["id"], jid, token=token)

    @app.get("/k/<token>/jobs/<int:jid>")
    def link_job(token: str, jid: int):
        u, camp = _linked(token)
        job = ws.job(jid)
        if job is None or job["unit_id"] != u["id"]:
            abort(404, "没有这个任务")
        return _job_page(camp["id"], jid, token=token)

    @app.get("/k/<token>/f/<int:upid>/annotated.xlsx")
    def link_annotated(token: str, upid: int):
        u, camp = _linked(token)
        up = ws.upload(upid)
        if up is None or up["unit_id"] != u["id"]:
            abort(404, "没有这个文件")
        return _annotated(up)

    @app.get("/k/<token>/r/<int:rid>/annotated.docx")
    def link_report_annotated(token: str, rid: int):
        u, camp = _linked(token)
        rep = ws.report(rid)
        if rep is None or rep["unit_id"] != u["id"]:
            abort(404, "没有这个文件")
        return _report_copy(rep)

    @app.get("/c/<int:cid>/dashboard")
    def dashboard(cid: int):
        camp = _campaign(cid)
        board = ws.board(cid)
        sent = sum(1 for b in board if b["upload_id"])
        return render_template("dashboard.html", camp=camp, charts=_charts(ws, cid) if sent else [], sent=sent,
                               units=len(board))

    return app


def _report_view(reps) -> dict[str, Any]:
    """What the unit page and the unit's link page show of its reports (newest first)."""
    latest = reps[0] if reps else None
    result = json.loads(latest["result"] or "{}") if latest else {}
    return {"reports": reps, "report": latest, "report_flags": errors_first(result.get("flags", [])),
            "report_copy_failed": result.get("copy_failed", "")}


SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def errors_first(flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A problem list as a person works through it: errors (须改正), then warnings, then notes —
    each group in the checks' own order (sheet by sheet)."""
    return sorted(flags, key=lambda f: SEVERITY_ORDER.get(f.get("severity"), 3))


def figure(value: Any) -> str:
    """A figure as a person reads it: 160, not 160.0; 158.5; no float noise (0.30000000000000004)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _version_no(versions) -> dict[int, int]:
    """Upload id → 第N版 (versions newest first): a report says which version it was checked with."""
    return {v["id"]: len(versions) - i for i, v in enumerate(versions)}


def _is_link(endpoint: str | None) -> bool:
    return bool(endpoint) and endpoint.startswith("link_")


STATUS_ORDER = {s: i for i, s in enumerate(BOARD_STATUSES)}


def _filtered(rows: list[dict[str, Any]], status: str = "", q: str = "", sort: str = "code") -> list[dict[str, Any]]:
    """The board's rows with a status, matching a search (code or name), in an order."""
    q = q.lower()
    out = [r for r in rows if (not status or r["status"] == status)
           and (not q or q in r["code"].lower() or q in r["name"].lower())]
    if sort == "status":
        out.sort(key=lambda r: (STATUS_ORDER[r["status"]], r["code"]))
    elif sort == "name":
        out.sort(key=lambda r: (r["name"], r["code"]))
    elif sort == "score":  # highest first, those without a score last
        out.sort(key=lambda r: (r["total"] is None, -(r["total"] or 0), r["code"]))
    elif sort == "time":  # latest first, never sent last
        out.sort(key=lambda r: (r["uploaded_at"] or ""), reverse=True)
    return out


def _charts(ws: Workspace, cid: int) -> list[dict[str, Any]]:
    """The dashboard: the same counts as 汇总表's 统计图 sheet, over each unit's latest version."""
    import json

    from ..core.stats import campaign_stats

    results = []
    for r in ws.board(cid):
        if r["upload_id"]:
            res = json.loads(ws.upload(r["upload_id"])["result"])
            if r["upload_status"] == INCOMPLETE:  # unfinished: counted, but with no score or grade
                res = dict(res, grade="", recomputed_total=None, rate=None)
            results.append(res)
    from ..core.codes import CODES

    out = []
    for title, items in campaign_stats(results):
        if title.startswith("最常见的问题"):  # a code alone says nothing: its meaning beside it, a bar in a table
            top = max((n for _, n in items), default=1) or 1
            out.append({"title": title, "codes": [{"code": c, "title": CODES[c].title if c in CODES else "",
                                                   "n": n, "pct": round(100 * n / top)} for c, n in items]})
        else:
            out.append({"title": title, "svg": bar_chart(items)})
    return out


def _regions() -> list[tuple[str, str]]:
    return [(pid, region_name(pid)) for pid in available_profiles()]


@functools.lru_cache(maxsize=64)
def region_name(pid: str) -> str:
    """What a person reads for a region (its display name, "岳阳市 2023 年度…"), never its id; an id
    no longer installed is shown as it is, since there is nothing better to say."""
    try:
        return get_profile(pid).profile.name or pid
    except Exception:  # noqa: BLE001 — a campaign whose region was removed still opens
        return pid


def _client_name(name: str) -> str:
    """What the client called a file (never a path on our disk): the last path component,
    control characters dropped, bounded — in characters and in bytes, because the file is
    checked under this name (a link in a private folder): 84 Chinese characters are 252 bytes,
    more than a file name may hold. The suffix is kept, so .xlsx stays .xlsx."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 8 or not stem:
        stem, suffix = name, ""
    suffix = "." + suffix if suffix else ""
    return bounded_name(stem[:120], suffix, MAX_NAME_BYTES) if stem else "未命名.xlsx"


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only. Browsers drop tabs and newlines
    from a URL and read a backslash as a slash, so "/\t/evil.example" becomes //evil.example —
    another site. Accepted: starts with one "/", no "//", no backslash, no control character or
    whitespace (checked as given and percent-decoded once more); anything else goes to "/"."""
    from urllib.parse import unquote

    if not target or not isinstance(target, str):
        return "/"
    for t in (target, unquote(target)):
        if not t.startswith("/") or t.startswith("//") or "\\" in t:
            return "/"
        if any(ch.isspace() or not ch.isprintable() for ch in t):
            return "/"
    return target


def _scratch(ws: Workspace, suffix: str) -> Path:
    """A file for one download, in the workspace's temp folder (swept on the next start)."""
    fd, name = tempfile.mkstemp(suffix=suffix, dir=ws.folder / "files" / "tmp")
    os.close(fd)
    return Path(name)


def _send_and_remove(path: Path, download_name: str):
    @after_this_request
    def _cleanup(response):
        response.call_on_close(lambda: path.unlink(missing_ok=True))
        return response

    return send_file(path, as_attachment=True, download_name=download_name)
