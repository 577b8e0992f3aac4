"""The coordinator's workspace on disk: one SQLite database and the files it keeps.

    工作区/
      workspace.sqlite3      campaigns, units, every upload (version) and every decision
      files/ab/abcdef….xlsx   each uploaded file once (workbooks, units' reports and their commented
                              copies alike), named by its SHA-256, never by a client's name
      files/tmp/              uploads being written (cleared on start)
      secret.key             with the password, signs the session cookie (created on first start)

Why SQLite: it is in the standard library, one file the coordinator can copy, and its
transactions make "row ⇒ file" hold after a crash: a file is written to ``files/tmp``, fsynced
and renamed to its hash name *before* the row that names it is committed; on start, temp files
and files no row names (a kill between the rename and the commit) are removed.

Schema changes are numbered migrations (``MIGRATIONS``), applied in order on open and recorded in
``PRAGMA user_version``; a workspace made by a newer release is refused, not damaged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..core.codes import INCOMPLETE_CODES
from ..core.results import UnitResult

DB_FILE = "workspace.sqlite3"

MIGRATIONS: tuple[str, ...] = (
    # 1: the first release
    """
    CREATE TABLE campaigns (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        region TEXT NOT NULL,
        year INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE units (
        id INTEGER PRIMARY KEY,
        campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
        code TEXT NOT NULL,
        name TEXT NOT NULL,
        roster TEXT NOT NULL DEFAULT '{}',
        UNIQUE (campaign_id, code)
    );
    CREATE TABLE uploads (
        id INTEGER PRIMARY KEY,
        campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
        unit_id INTEGER REFERENCES units(id),
        sha256 TEXT NOT NULL,
        original_name TEXT NOT NULL,
        size INTEGER NOT NULL,
        uploaded_at TEXT NOT NULL,
        uploaded_by TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        errors INTEGER NOT NULL DEFAULT 0,
        warnings INTEGER NOT NULL DEFAULT 0,
        total REAL,
        grade TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        result TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX uploads_unit ON uploads (unit_id, id);
    CREATE INDEX uploads_campaign ON uploads (campaign_id, id);
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        unit_id INTEGER NOT NULL REFERENCES units(id),
        upload_id INTEGER REFERENCES uploads(id),
        decision TEXT NOT NULL CHECK (decision IN ('退回修改', '确认')),
        note TEXT NOT NULL DEFAULT '',
        decided_by TEXT NOT NULL DEFAULT '',
        decided_at TEXT NOT NULL
    );
    CREATE INDEX decisions_unit ON decisions (unit_id, id);
    """,
    # 2: sessions that end (#21): a login is a row here, checked on every request and deleted by
    # logout; the password's fingerprint, so a start with another password ends every session
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 3: a campaign of hundreds of units (#20): each unit's private link (only its hash is kept),
    # the campaign's deadline, and background jobs with the stored files each one works on
    """
    ALTER TABLE units ADD COLUMN link_hash TEXT;
    ALTER TABLE units ADD COLUMN link_issued_at TEXT NOT NULL DEFAULT '';
    ALTER TABLE units ADD COLUMN link_revoked_at TEXT NOT NULL DEFAULT '';
    CREATE UNIQUE INDEX units_link ON units (link_hash);
    ALTER TABLE campaigns ADD COLUMN deadline TEXT NOT NULL DEFAULT '';
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
        unit_id INTEGER REFERENCES units(id),
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        done INTEGER NOT NULL DEFAULT 0,
        total INTEGER NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT '',
        params TEXT NOT NULL DEFAULT '{}',
        result TEXT NOT NULL DEFAULT '{}',
        created_by TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX jobs_state ON jobs (state, id);
    CREATE TABLE job_files (
        job_id INTEGER NOT NULL REFERENCES jobs(id),
        seq INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (job_id, seq)
    );
    """,
    # 4: 未完成 (#20): a version with required inputs blank (FILL-101/102) has no score or grade
    # worth showing; versions stored before this release are marked so too
    """
    UPDATE uploads SET status = '未完成', total = NULL, grade = ''
    WHERE status = '未填写' OR (status = '有错误' AND (result LIKE '%"FILL-101"%' OR result LIKE '%"FILL-102"%'));
    """,
    # 5: units' own reports in 回收 (#20): each report a version of its unit's report, checked with
    # the unit's latest workbook (``upload_id``, NULL: checked alone); ``copy_sha256`` names the
    # stored .docx with a Word comment on each flagged paragraph ('' when there is none); a report
    # no unit could be told for has no unit (kept and listed, never dropped)
    """
    CREATE TABLE reports (
        id INTEGER PRIMARY KEY,
        campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
        unit_id INTEGER REFERENCES units(id),
        upload_id INTEGER REFERENCES uploads(id),
        sha256 TEXT NOT NULL,
        original_name TEXT NOT NULL,
        size INTEGER NOT NULL,
        uploaded_at TEXT NOT NULL,
        uploaded_by TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        errors INTEGER NOT NULL DEFAULT 0,
        warnings INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        result TEXT NOT NULL DEFAULT '{}',
        copy_sha256 TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX reports_unit ON reports (unit_id, id);
    CREATE INDEX reports_campaign ON reports (campaign_id, id);
    """,
    # 6: a report no unit could be told for, assigned to its unit by hand (#20): who did it and
    # when, shown with the report as a decision is
    """
    ALTER TABLE reports ADD COLUMN assigned_by TEXT NOT NULL DEFAULT '';
    ALTER TABLE reports ADD COLUMN assigned_at TEXT NOT NULL DEFAULT '';
    """,
)

# a job's states: queued (acknowledged, its files stored), running, done, failed (said in words;
# its stored files can be tried again), interrupted (never left so: a restart queues it again)
JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED = "queued", "running", "done", "failed"
JOB_STATES_ZH = {JOB_QUEUED: "排队中", JOB_RUNNING: "进行中", JOB_DONE: "已完成", JOB_FAILED: "未完成"}

# what a unit's row on the board says
NOT_RETURNED, HAS_ERRORS, HAS_WARNINGS, PASSED, RETURNED, CONFIRMED = "未交", "有错误", "有警告", "通过", "已退回", "已确认"
INCOMPLETE = "未完成"  # sent, but required inputs are blank (FILL-101/102): no score, no grade
BOARD_STATUSES = (NOT_RETURNED, INCOMPLETE, HAS_ERRORS, HAS_WARNINGS, PASSED, RETURNED, CONFIRMED)


def upload_status(result: dict[str, Any]) -> str:
    """What a version is called in the workspace: the check's verdict, except that a workbook
    with required inputs blank is 未完成 — a half-filled workbook is not "有错误" with a grade of
    6.3 差, it is unfinished, and the coordinator chases it as she chases 未交."""
    typed = UnitResult.from_dict(result)  # a stored result of any version
    if any(f.code in INCOMPLETE_CODES for f in typed.flags):
        return INCOMPLETE
    return typed.status


class WorkspaceError(Exception):
    """Something about the workspace folder itself (a newer schema, no write permission)."""


class WorkspaceBusy(WorkspaceError):
    """Another program has held the database's write lock for longer than ``BUSY_SECONDS``."""


# how long a write waits for another program's write lock (a backup tool, a second server on the
# same folder, an SQLite browser left in a transaction) before the user is told, in words
BUSY_SECONDS = 15.0
BUSY_MESSAGE = ("工作区数据库正被占用（另一个程序正在写入它，例如备份软件、另一个打开了同一工作区的工作台，"
                "或未关闭的数据库工具），等待 {seconds:g} 秒后仍未释放。请稍后重试。")


def now() -> str:
    return dt.datetime.now().replace(microsecond=0).isoformat(sep=" ")


@dataclass
class StoredFile:
    sha256: str
    size: int


class Workspace:
    """The database and the file store of one workspace folder. Safe to share between the
    web server's threads: each thread has its own connection; writes are short transactions."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        try:
            (self.folder / "files" / "tmp").mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise WorkspaceError(f"无法使用工作区文件夹 {self.folder}：{e.strerror or e}") from None
        self._local = threading.local()
        self.busy_seconds = BUSY_SECONDS
        self._migrate()
        self.sweep()

    # -- database ---------------------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # SQLite's own wait is short; a write lock held longer is waited for by ``_begin``
            # with backoff, up to ``busy_seconds``, then said in words (never a 500 after 30 s)
            conn = sqlite3.connect(self.folder / DB_FILE, timeout=1, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    def tx(self):
        """A write transaction (BEGIN IMMEDIATE … COMMIT, rolled back on any exception). Inside
        another one it joins it, so a caller can make several writes one (all or none).
        Raises ``WorkspaceBusy`` when another program holds the write lock too long."""
        return _Tx(self.db, self.busy_seconds)

    def _migrate(self) -> None:
        db = self.db
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise WorkspaceError(f"工作区 {self.folder} 由更新版本的 selfeval-xl 建立（数据库版本 {version}），"
                                 f"请升级本工具后再打开。")
        for n in range(version, len(MIGRATIONS)):
            # one transaction per migration, its version number included: a crash leaves the
            # schema as it was before it, never half-migrated
            # (statement by statement: executescript would commit the BEGIN first)
            _begin(db, self.busy_seconds)
            try:
                for stmt in MIGRATIONS[n].split(";"):
                    if stmt.strip():
                        db.execute(stmt)
                db.execute(f"PRAGMA user_version = {n + 1}")
                db.execute("COMMIT")
            except sqlite3.Error:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def secret(self) -> bytes:
        path = self.folder / "secret.key"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(secrets.token_bytes(32))
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        return path.read_bytes()

    # -- sessions -----------------------------------------------------------------------------
    def session_key(self, password: str | None) -> bytes:
        """The key that signs session cookies: derived from the workspace's secret *and* the
        password, so a cookie signed before the password changed no longer verifies."""
        if not password:
            return self.secret()
        return hmac.new(self.secret(), b"session-cookie\0" + password.encode("utf-8"), hashlib.sha256).digest()

    def use_password(self, password: str | None) -> bool:
        """Record which password this start serves; a different one than last time ends every
        session (an old cookie names a session that no longer exists). True if sessions ended."""
        fp = hmac.new(self.secret(), b"password\0" + (password or "").encode("utf-8"), hashlib.sha256).hexdigest()
        with self.tx():
            row = self.db.execute("SELECT value FROM settings WHERE key = 'password'").fetchone()
            if row is not None and hmac.compare_digest(row[0], fp):
                return False
            self.db.execute("DELETE FROM sessions")
            self.db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('password', ?)", (fp,))
            return True

    def start_session(self, user: str) -> str:
        """A new session for ``user``; the token goes in the (signed) cookie, its hash in the
        database (a copy of the workspace folder holds no live token)."""
        token = secrets.token_urlsafe(32)
        with self.tx():
            self.db.execute("INSERT INTO sessions (id, user, created_at) VALUES (?, ?, ?)",
                            (_token_hash(token), user, now()))
        return token

    def session_user(self, token: str | None) -> str | None:
        """Who a session token belongs to, or None once it has ended (logout, another password)."""
        if not token or not isinstance(token, str):
            return None
        row = self.db.execute("SELECT user FROM sessions WHERE id = ?", (_token_hash(token),)).fetchone()
        return row[0] if row else None

    def end_session(self, token: str | None) -> None:
        if token and isinstance(token, str):
            with self.tx():
                self.db.execute("DELETE FROM sessions WHERE id = ?", (_token_hash(token),))

    def end_all_sessions(self) -> None:
        with self.tx():
            self.db.execute("DELETE FROM sessions")

    # -- files --------------------------------------------------------------------------------
    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("bad hash")
        return self.folder / "files" / sha256[:2] / f"{sha256}.xlsx"

    def store(self, chunks: Iterator[bytes], limit: int) -> StoredFile:
        """Write a stream to the store under its hash: temp file, fsync, rename. Raises
        ValueError past ``limit`` bytes (nothing is kept)."""
        h = hashlib.sha256()
        size = 0
        fd, tmp = _mktemp(self.folder / "files" / "tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise ValueError(f"文件超过 {limit // (1024 * 1024)} MiB")
                    h.update(chunk)
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            digest = h.hexdigest()
            final = self.path_of(digest)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
            _fsync_dir(final.parent)
            return StoredFile(digest, size)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def sweep(self) -> int:
        """Remove temp files, and stored files no row names (a kill between a file's rename and
        its row's commit). Run on open, before anyone can upload."""
        n = 0
        for p in (self.folder / "files" / "tmp").iterdir():  # part files, and checks' staging folders
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            n += 1
        named = {r[0] for r in self.db.execute("SELECT DISTINCT sha256 FROM uploads")}
        # a job's files are acknowledged the moment its row is committed: kept until it is done
        named |= {r[0] for r in self.db.execute("SELECT DISTINCT sha256 FROM job_files")}
        # units' reports and their commented copies (stored alike: by hash, whatever their kind)
        named |= {r[0] for r in self.db.execute("SELECT sha256 FROM reports UNION SELECT copy_sha256 FROM reports")}
        # a .doc/.wps report's .docx conversion, kept beside it under the same hash
        # (``reports.kept_conversion``), goes with it
        for p in [*(self.folder / "files").glob("??/*.xlsx"), *(self.folder / "files").glob("??/*.docx")]:
            if p.stem not in named:
                p.unlink(missing_ok=True)
                n += 1
        results = self.folder / "files" / "jobs"
        if results.is_dir():
            done = {str(r[0]) for r in self.db.execute("SELECT id FROM jobs WHERE state = ?", (JOB_DONE,))}
            for p in results.iterdir():
                if p.stem not in done:
                    p.unlink(missing_ok=True)
                    n += 1
        return n

    # -- campaigns and units ------------------------------------------------------------------
    def create_campaign(self, name: str, region: str, year: int) -> int:
        with self.tx():
            cur = self.db.execute("INSERT INTO campaigns (name, region, year, created_at) VALUES (?, ?, ?, ?)",
                                  (name, region, year, now()))
            return int(cur.lastrowid)

    def campaigns(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT c.*, (SELECT COUNT(*) FROM units u WHERE u.campaign_id = c.id) AS n_units "
                               "FROM campaigns c ORDER BY c.id DESC").fetchall()

    def campaign(self, cid: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM campaigns WHERE id = ?", (cid,)).fetchone()

    def add_units(self, cid: int, units: list[dict[str, Any]]) -> tuple[int, int]:
        """Roster rows in; a unit already there (same code) has its name and projects updated."""
        added = updated = 0
        with self.tx():
            for u in units:
                row = self.db.execute("SELECT id FROM units WHERE campaign_id = ? AND code = ?", (cid, u["code"])).fetchone()
                roster = json.dumps(u.get("roster", {}), ensure_ascii=False)
                if row:
                    self.db.execute("UPDATE units SET name = ?, roster = ? WHERE id = ?", (u["name"], roster, row[0]))
                    updated += 1
                else:
                    self.db.execute("INSERT INTO units (campaign_id, code, name, roster) VALUES (?, ?, ?, ?)",
                                    (cid, u["code"], u["name"], roster))
                    added += 1
        return added, updated

    def units(self, cid: int) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM units WHERE campaign_id = ? ORDER BY code", (cid,)).fetchall()

    def unit(self, uid: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM units WHERE id = ?", (uid,)).fetchone()

    def unit_by_code(self, cid: int, code: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM units WHERE campaign_id = ? AND code = ?", (cid, code)).fetchone()

    # -- uploads and decisions -----------------------------------------------------------------
    def add_upload(self, cid: int, unit_id: int | None, stored: StoredFile, original_name: str,
                   result: dict[str, Any], user: str = "") -> int:
        status = upload_status(result)
        done = status != INCOMPLETE  # an unfinished workbook's score and grade are not stored
        with self.tx():
            cur = self.db.execute(
                "INSERT INTO uploads (campaign_id, unit_id, sha256, original_name, size, uploaded_at, uploaded_by, status,"
                " errors, warnings, total, grade, reason, result) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (cid, unit_id, stored.sha256, original_name, stored.size, now(), user, status,
                 result.get("errors", 0), result.get("warnings", 0), result.get("recomputed_total") if done else None,
                 (result.get("grade") or "") if done else "", result.get("reason", ""),
                 json.dumps(result, ensure_ascii=False)))
            return int(cur.lastrowid)

    def upload(self, upid: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM uploads WHERE id = ?", (upid,)).fetchone()

    def uploads_of(self, uid: int) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM uploads WHERE unit_id = ? ORDER BY id DESC", (uid,)).fetchall()

    def unmatched(self, cid: int) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM uploads WHERE campaign_id = ? AND unit_id IS NULL ORDER BY id DESC",
                               (cid,)).fetchall()

    def add_report(self, cid: int, unit_id: int | None, upload_id: int | None, stored: StoredFile,
                   original_name: str, result: dict[str, Any], user: str = "", copy_sha256: str = "") -> int:
        """A unit's report as one version (``unit_id`` None: no unit could be told, kept and listed)."""
        with self.tx():
            cur = self.db.execute(
                "INSERT INTO reports (campaign_id, unit_id, upload_id, sha256, original_name, size, uploaded_at,"
                " uploaded_by, status, errors, warnings, reason, result, copy_sha256) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (cid, unit_id, upload_id, stored.sha256, original_name, stored.size, now(), user, result["status"],
                 result.get("errors", 0), result.get("warnings", 0), result.get("reason", ""),
                 json.dumps(result, ensure_ascii=False), copy_sha256))
            return int(cur.lastrowid)

    def recheck_report(self, rid: int, upload_id: int, result: dict[str, Any], copy_sha256: str = "") -> None:
        """The same report checked again with the unit's newer workbook: its result replaced (the
        file is the one the unit sent, so no new version; the old result concerned a superseded
        workbook)."""
        with self.tx():
            self.db.execute("UPDATE reports SET upload_id = ?, status = ?, errors = ?, warnings = ?, reason = ?,"
                            " result = ?, copy_sha256 = ? WHERE id = ?",
                            (upload_id, result["status"], result.get("errors", 0), result.get("warnings", 0),
                             result.get("reason", ""), json.dumps(result, ensure_ascii=False), copy_sha256, rid))

    def assign_report(self, rid: int, unit_id: int, upload_id: int | None, result: dict[str, Any],
                      copy_sha256: str = "", user: str = "") -> bool:
        """An unmatched report given its unit by the coordinator, with its check against that unit
        (joins the caller's transaction). False when it has a unit already (another tab, a
        colleague): the first assignment stands."""
        with self.tx():
            cur = self.db.execute(
                "UPDATE reports SET unit_id = ?, upload_id = ?, status = ?, errors = ?, warnings = ?, reason = ?,"
                " result = ?, copy_sha256 = ?, assigned_by = ?, assigned_at = ? WHERE id = ? AND unit_id IS NULL",
                (unit_id, upload_id, result["status"], result.get("errors", 0), result.get("warnings", 0),
                 result.get("reason", ""), json.dumps(result, ensure_ascii=False), copy_sha256, user,
                 now(), rid))
            return cur.rowcount == 1

    def report(self, rid: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM reports WHERE id = ?", (rid,)).fetchone()

    def reports_of(self, uid: int) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM reports WHERE unit_id = ? ORDER BY id DESC", (uid,)).fetchall()

    def unmatched_reports(self, cid: int) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM reports WHERE campaign_id = ? AND unit_id IS NULL ORDER BY id DESC",
                               (cid,)).fetchall()

    def decide(self, uid: int, upload_id: int | None, decision: str, note: str, user: str = "") -> int:
        with self.tx():
            cur = self.db.execute("INSERT INTO decisions (unit_id, upload_id, decision, note, decided_by, decided_at)"
                                  " VALUES (?,?,?,?,?,?)", (uid, upload_id, decision, note, user, now()))
            return int(cur.lastrowid)

    def decisions_of(self, uid: int) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM decisions WHERE unit_id = ? ORDER BY id DESC", (uid,)).fetchall()

    def decide_many(self, decisions: list[tuple[int, int, str, str]], user: str = "") -> int:
        """Several decisions (unit, upload, decision, note) as one transaction: all or none."""
        with self.tx():
            at = now()
            self.db.executemany("INSERT INTO decisions (unit_id, upload_id, decision, note, decided_by, decided_at)"
                                " VALUES (?,?,?,?,?,?)", [(u, up, d, n, user, at) for u, up, d, n in decisions])
        return len(decisions)

    def set_deadline(self, cid: int, deadline: str) -> None:
        with self.tx():
            self.db.execute("UPDATE campaigns SET deadline = ? WHERE id = ?", (deadline, cid))

    # -- units' own links ----------------------------------------------------------------------
    def issue_links(self, unit_ids: list[int]) -> dict[int, str]:
        """A new private link token for each unit (the one before stops working). Only its hash
        is kept: the token is shown once, on the page that issued it."""
        out = {}
        with self.tx():
            at = now()
            for uid in unit_ids:
                token = secrets.token_urlsafe(24)
                self.db.execute("UPDATE units SET link_hash = ?, link_issued_at = ?, link_revoked_at = '' WHERE id = ?",
                                (_token_hash(token), at, uid))
                out[uid] = token
        return out

    def revoke_links(self, unit_ids: list[int]) -> None:
        with self.tx():
            at = now()
            self.db.executemany("UPDATE units SET link_hash = NULL, link_revoked_at = ? WHERE id = ? AND link_hash IS NOT NULL",
                                [(at, uid) for uid in unit_ids])

    def unit_by_link(self, token: str | None) -> sqlite3.Row | None:
        if not token or not isinstance(token, str) or len(token) > 100:
            return None
        return self.db.execute("SELECT * FROM units WHERE link_hash = ?", (_token_hash(token),)).fetchone()

    # -- background jobs -----------------------------------------------------------------------
    def add_job(self, cid: int, kind: str, params: dict[str, Any], files: list[tuple[str, str, int]] = (),
                unit_id: int | None = None, user: str = "", total: int = 0) -> int:
        """A job and the stored files it works on, in one transaction: once this returns, the job
        is acknowledged (a restart resumes it; its files are kept by ``sweep``)."""
        with self.tx():
            at = now()
            cur = self.db.execute(
                "INSERT INTO jobs (campaign_id, unit_id, kind, state, total, params, created_by, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                (cid, unit_id, kind, JOB_QUEUED, total or len(files), json.dumps(params, ensure_ascii=False), user, at, at))
            jid = int(cur.lastrowid)
            self.db.executemany("INSERT INTO job_files (job_id, seq, sha256, name, size) VALUES (?,?,?,?,?)",
                                [(jid, i, sha, name, size) for i, (sha, name, size) in enumerate(files)])
        return jid

    def job(self, jid: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM jobs WHERE id = ?", (jid,)).fetchone()

    def job_files(self, jid: int) -> list[tuple[str, str, int]]:
        return [(r[0], r[1], r[2]) for r in
                self.db.execute("SELECT sha256, name, size FROM job_files WHERE job_id = ? ORDER BY seq", (jid,))]

    def jobs_of(self, cid: int, limit: int = 10) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM jobs WHERE campaign_id = ? AND unit_id IS NULL ORDER BY id DESC LIMIT ?",
                               (cid, limit)).fetchall()

    def claim_job(self) -> sqlite3.Row | None:
        """The oldest queued job, marked running (one worker gets it)."""
        if self.db.execute("SELECT 1 FROM jobs WHERE state = ? LIMIT 1", (JOB_QUEUED,)).fetchone() is None:
            return None  # nothing to do: no write lock taken
        with self.tx():
            row = self.db.execute("SELECT * FROM jobs WHERE state = ? ORDER BY id LIMIT 1", (JOB_QUEUED,)).fetchone()
            if row is None:
                return None
            self.db.execute("UPDATE jobs SET state = ?, updated_at = ? WHERE id = ?", (JOB_RUNNING, now(), row["id"]))
        return self.job(row["id"])

    def job_progress(self, jid: int, done: int, message: str | None = None) -> None:
        with self.tx():
            self.db.execute("UPDATE jobs SET done = ?, message = COALESCE(?, message), updated_at = ? WHERE id = ?",
                            (done, message, now(), jid))

    def finish_job(self, jid: int, state: str, message: str, result: dict[str, Any] | None = None) -> None:
        """Done or failed; inside a caller's transaction this is part of it (the uploads a check
        job records and its being done are one commit)."""
        with self.tx():
            self.db.execute("UPDATE jobs SET state = ?, message = ?, result = ?, updated_at = ?,"
                            " done = CASE WHEN ? = 'done' THEN total ELSE done END WHERE id = ?",
                            (state, message, json.dumps(result or {}, ensure_ascii=False), now(), state, jid))

    def requeue_job(self, jid: int, message: str = "") -> None:
        with self.tx():
            self.db.execute("UPDATE jobs SET state = ?, done = 0, message = ?, updated_at = ? WHERE id = ?",
                            (JOB_QUEUED, message, now(), jid))

    def resume_jobs(self) -> int:
        """On start: a job left running by a stopped server is queued again (its files are
        stored; nothing of it was recorded, a check job records all its uploads in one commit)."""
        with self.tx():
            cur = self.db.execute("UPDATE jobs SET state = ?, done = 0, message = ?, updated_at = ? WHERE state = ?",
                                  (JOB_QUEUED, "工作台重新启动，已从头继续处理（文件均已保存）。", now(), JOB_RUNNING))
            return cur.rowcount

    def board(self, cid: int, unit_id: int | None = None) -> list[dict[str, Any]]:
        """Every unit (or one) with its latest upload and latest decision, and its status — one query."""
        rows = self.db.execute(
            """
            SELECT u.id, u.code, u.name, u.link_hash IS NOT NULL AS has_link, u.link_issued_at,
                   up.id AS upload_id, up.status AS upload_status, up.errors, up.warnings, up.total, up.grade,
                   up.uploaded_at, up.original_name,
                   (SELECT COUNT(*) FROM uploads x WHERE x.unit_id = u.id) AS versions,
                   d.decision, d.upload_id AS decided_upload, d.decided_at,
                   rp.id AS report_id, rp.original_name AS report_name, rp.status AS report_status,
                   rp.errors AS report_errors, rp.warnings AS report_warnings
            FROM units u
            LEFT JOIN uploads up ON up.id = (SELECT MAX(id) FROM uploads WHERE unit_id = u.id)
            LEFT JOIN reports rp ON rp.id = (SELECT MAX(id) FROM reports WHERE unit_id = u.id)
            LEFT JOIN decisions d ON d.id = (SELECT MAX(id) FROM decisions WHERE unit_id = u.id)
            WHERE u.campaign_id = ? AND (? IS NULL OR u.id = ?)
            ORDER BY u.code
            """, (cid, unit_id, unit_id)).fetchall()
        return [dict(r, status=board_status(r)) for r in rows]


def board_status(r: Any) -> str:
    """未交 until a workbook comes; then the check's verdict, unless the coordinator has decided on
    that very version (a newer upload reopens it)."""
    if r["upload_id"] is None:
        return NOT_RETURNED
    if r["decision"] and r["decided_upload"] == r["upload_id"]:
        return CONFIRMED if r["decision"] == "确认" else RETURNED
    return {"通过": PASSED, "有警告": HAS_WARNINGS, INCOMPLETE: INCOMPLETE}.get(r["upload_status"], HAS_ERRORS)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _is_busy(e: sqlite3.OperationalError) -> bool:
    text = str(e).lower()
    return "locked" in text or "busy" in text


def _begin(db: sqlite3.Connection, seconds: float) -> None:
    """BEGIN IMMEDIATE, retried with backoff while another connection holds the write lock, for
    at most ``seconds``; then ``WorkspaceBusy`` (in words). Nothing has been written yet when it
    gives up, so the caller can say so and the user can simply try again."""
    deadline = time.monotonic() + seconds
    delay = 0.05
    while True:
        try:
            db.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as e:
            left = deadline - time.monotonic()
            if not _is_busy(e):
                raise
            if left <= 0:
                raise WorkspaceBusy(BUSY_MESSAGE.format(seconds=round(seconds))) from None
            time.sleep(min(delay, left))
            delay = min(delay * 2, 1.0)


class _Tx:
    def __init__(self, db: sqlite3.Connection, busy_seconds: float = BUSY_SECONDS):
        self.db = db
        self.busy_seconds = busy_seconds
        self.joined = False

    def __enter__(self):
        if self.db.in_transaction:  # inside another tx(): one transaction, committed by the outer one
            self.joined = True
            return self.db
        _begin(self.db, self.busy_seconds)
        return self.db

    def __exit__(self, exc_type, exc, tb):
        if not self.joined:
            self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
        return False


def _mktemp(folder: Path) -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(prefix=f"up-{os.getpid()}-", suffix=".part", dir=folder)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows: directories cannot be opened; NTFS renames are journalled
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
