"""The coordinator's workspace (#13): the server's rules, through Flask's test client — a campaign
from roster to reports, versions and decisions, and the security items (LAN without a password,
CSRF, Host, login rate limit, upload names and sizes, clerk text escaped)."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest

from selfeval_xl.checks import check
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.web.app import MAX_FILE, MAX_REQUEST, ServeError, create_app
from selfeval_xl.web.store import MIGRATIONS, Workspace, WorkspaceError
from selfeval_xl.xlsx.write import write_workbook

from .conftest import EXAMPLES

ROSTER = EXAMPLES / "roster.csv"


def _csrf(client) -> str:
    client.get("/")
    with client.session_transaction() as s:
        return s["csrf"]


def _post(client, url, data=None, **kw):
    data = dict(data or {}, csrf=_csrf(client))
    return client.post(url, data=data, **kw)


def _campaign(client) -> int:
    r = _post(client, "/campaigns", {"name": "2023年度市直部门整体支出绩效自评", "region": "yueyang-2023", "year": "2023"})
    assert r.status_code == 302
    cid = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    r = _post(client, f"/c/{cid}/roster", {"roster": (ROSTER.open("rb"), "名册.csv")},
              content_type="multipart/form-data")
    assert r.status_code == 200 and "新增 3 个单位" in r.get_data(as_text=True)
    return cid


def _clean_000(examples):
    dept = examples["000_岳阳市城市建设档案馆"]
    full = check(dept, get_profile(dept.profile)).derived["overall.executed"]
    return dept.model_copy(update={"overall": dept.overall.model_copy(update={"budget_full": full})})


def _workbook(dept, path: Path) -> bytes:
    write_workbook(dept, get_profile(dept.profile), path)
    return path.read_bytes()


def _upload(client, cid, files):
    """An upload, and its job's page once the job is done (a background job since #20)."""
    r = _post(client, f"/c/{cid}/returns", {"files": [(io.BytesIO(b), n) for n, b in files]},
              content_type="multipart/form-data")
    return finish(client, r)


def job_url(page: str) -> str:
    m = re.search(r'"(/(?:c/\d+|k/[A-Za-z0-9_-]+)/jobs/\d+)"', page)
    assert m, page[:2000]
    return m.group(1)


def finish(client, r, timeout: float = 120, **kw):
    """The page of the job a response started, once the job is done or failed."""
    import time

    page = r.get_data(as_text=True)
    if r.status_code != 200 or 'id="job"' not in page:
        return r
    url = job_url(page)
    end = time.monotonic() + timeout
    while 'data-state="done"' not in page and 'data-state="failed"' not in page:
        assert time.monotonic() < end, page[:2000]
        time.sleep(0.1)
        r = client.get(url, **kw)
        page = r.get_data(as_text=True)
    return r


def download(client, r, **kw):
    """The zip a compile (or annotated copies) job made."""
    page = finish(client, r, **kw).get_data(as_text=True)
    m = re.search(r'id="download" href="([^"]+)"', page)
    assert m, page[:2000]
    return client.get(m.group(1), **kw)


@pytest.fixture
def app(tmp_path):
    a = create_app(tmp_path / "ws", workers=1)
    a.config["TESTING"] = True
    return a


def test_a_campaign_from_roster_to_reports(app, tmp_path, examples):
    client = app.test_client()
    cid = _campaign(client)
    page = client.get(f"/c/{cid}").get_data(as_text=True)
    assert "未交" in page and "岳阳市档案馆" in page
    z = zipfile.ZipFile(io.BytesIO(download(client, _post(client, f"/c/{cid}/templates")).data))
    assert sorted(n.split("_")[0] for n in z.namelist()) == ["430600101", "430600102", "430611201"]

    clean = _workbook(_clean_000(examples), tmp_path / "a.xlsx")
    wrong = _workbook(examples["001_岳阳市档案馆"], tmp_path / "b.xlsx")
    r = _upload(client, cid, [("随便起的名字.xlsx", clean), ("档案馆.xlsx", wrong), ("坏的.xlsx", wrong[:3000])])
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "无法读取" in text
    board = {b["code"]: b for b in Workspace(tmp_path / "ws").board(cid)}
    assert board["430600102"]["status"] in ("通过", "有警告")  # matched by its metadata, not the file name
    assert board["430600101"]["status"] == "有错误"
    assert board["430611201"]["status"] == "未交"
    page = client.get(f"/c/{cid}?status=有错误").get_data(as_text=True)
    assert "岳阳市档案馆" in page and "岳阳市城市建设档案馆" not in page

    uid = board["430600101"]["id"]
    unit = client.get(f"/c/{cid}/u/{uid}").get_data(as_text=True)
    assert "SUM-104" in unit and "附件2!F5" in unit
    ann = client.get(f"/c/{cid}/f/{board['430600101']['upload_id']}/annotated.xlsx")
    assert ann.status_code == 200 and ann.data[:2] == b"PK"
    r = _post(client, f"/c/{cid}/u/{uid}/decision", {"decision": "退回修改", "note": "请改正附件2 全年执行数"})
    assert r.status_code == 302
    assert {b["code"]: b["status"] for b in Workspace(tmp_path / "ws").board(cid)}["430600101"] == "已退回"

    # the corrected version: 附件1 F24 160 → 158.5 (its XATT-102 errors go away)
    fixed = examples["001_岳阳市档案馆"]
    stated = {k: v for k, v in fixed.stated.items() if not k.startswith("projects[4].basic")}
    fixed = fixed.model_copy(update={"stated": stated})
    r = _upload(client, cid, [("档案馆_改.xlsx", _workbook(fixed, tmp_path / "c.xlsx"))])
    assert r.status_code == 200
    unit = client.get(f"/c/{cid}/u/{uid}").get_data(as_text=True)
    assert "第 2 版" in unit and "已改正的问题" in unit
    fixed_list = re.search(r'<ul id="fixed">(.*?)</ul>', unit, re.S)
    assert fixed_list and "XATT-102" in fixed_list.group(1)
    assert "退回修改" in unit and "请改正附件2 全年执行数" in unit
    _post(client, f"/c/{cid}/u/{uid}/decision", {"decision": "确认"})
    ws = Workspace(tmp_path / "ws")
    assert {b["code"]: b["status"] for b in ws.board(cid)}["430600101"] == "已确认"

    r = download(client, _post(client, f"/c/{cid}/compile"))
    z = zipfile.ZipFile(io.BytesIO(r.data))
    names = z.namelist()
    assert "汇总表.xlsx" in names and "summary.json" in names
    reports = [n for n in names if n.startswith("报告/") and n.endswith(".docx")]
    assert len(reports) == 1 and "岳阳市档案馆" in reports[0]  # only the confirmed unit
    assert [r["unit_code"] for r in json.loads(z.read("summary.json"))["files"].values()] == ["430600101"]
    dash = client.get(f"/c/{cid}/dashboard").get_data(as_text=True)
    assert dash.count("<svg") == 3 and "评价等次分布" in dash
    # the commonest problems by their meaning, not bare codes
    top = dash.split('id="top-codes"', 1)[1].split("</table>", 1)[0]
    from selfeval_xl.core.codes import CODES

    shown = re.findall(r'<td class="code">([A-Z]+-\d+)</td><td>([^<]*)</td>', top)
    assert shown and all(title == CODES[code].title for code, title in shown), shown


def test_a_lan_address_needs_a_password(tmp_path):
    with pytest.raises(ServeError, match="必须设置密码"):
        create_app(tmp_path / "ws", host="192.168.1.20")
    with pytest.raises(ServeError):
        create_app(tmp_path / "ws", host="0.0.0.0")
    assert create_app(tmp_path / "ws", host="192.168.1.20", password="a-long-password")
    assert create_app(tmp_path / "ws", host="::1")


def test_the_serve_command_refuses_a_lan_address_without_a_password(tmp_path):
    from typer.testing import CliRunner

    from selfeval_xl.cli import app as cli

    res = CliRunner().invoke(cli, ["serve", str(tmp_path / "ws"), "--host", "0.0.0.0", "--no-browser"])
    assert res.exit_code == 2 and "必须设置密码" in res.output


def test_forms_need_the_pages_csrf_token(app):
    client = app.test_client()
    r = client.post("/campaigns", data={"name": "x", "region": "yueyang-2023", "year": "2023"})
    assert r.status_code == 403 and "表单已过期" in r.get_data(as_text=True)
    r = client.post("/campaigns", data={"name": "x", "region": "yueyang-2023", "year": "2023", "csrf": "forged"})
    assert r.status_code == 403
    assert _post(client, "/campaigns", {"name": "x", "region": "yueyang-2023", "year": "2023"}).status_code == 302


def test_another_host_name_is_refused(app):
    """DNS rebinding: a page on another site whose name resolves to 127.0.0.1."""
    assert app.test_client().get("/", headers={"Host": "evil.example:8000"}).status_code == 400
    assert app.test_client().get("/", headers={"Host": "127.0.0.1:8000"}).status_code == 200


LAN = "http://10.0.0.5"


def _lan_csrf(client, addr="127.0.0.1"):
    client.get("/login", base_url=LAN, environ_base={"REMOTE_ADDR": addr})
    with client.session_transaction(base_url=LAN) as s:
        return s["csrf"]


def test_login_sessions_and_rate_limit(tmp_path):
    a = create_app(tmp_path / "ws", host="10.0.0.5", password="correct horse", workers=1)
    client = a.test_client()
    r = client.get("/", base_url=LAN)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    csrf = _lan_csrf(client)
    for _ in range(5):
        r = client.post("/login", data={"name": "张三", "password": "wrong", "csrf": csrf}, base_url=LAN)
        assert r.status_code == 200 and "不正确" in r.get_data(as_text=True)
    r = client.post("/login", data={"name": "张三", "password": "correct horse", "csrf": csrf}, base_url=LAN)
    assert r.status_code == 429  # even the right password, until the window passes
    other = a.test_client()
    csrf = _lan_csrf(other, addr="10.0.0.9")
    r = other.post("/login", data={"name": "李四", "password": "correct horse", "csrf": csrf},
                   base_url=LAN, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert r.status_code == 302
    r = other.get("/", base_url=LAN, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert r.status_code == 200 and "李四" in r.get_data(as_text=True)
    assert a.test_client().get("/", base_url="http://127.0.0.1").status_code == 400  # not the address served


def test_decisions_record_who_and_when(tmp_path, examples):
    a = create_app(tmp_path / "ws", host="10.0.0.5", password="correct horse", workers=1)
    client = a.test_client()
    csrf = _lan_csrf(client)
    client.post("/login", data={"name": "王五", "password": "correct horse", "csrf": csrf}, base_url=LAN)
    with client.session_transaction(base_url=LAN) as s:
        csrf = s["csrf"]
    r = client.post("/campaigns", data={"name": "任务", "region": "yueyang-2023", "year": "2023", "csrf": csrf}, base_url=LAN)
    cid = int(r.headers["Location"].rsplit("/", 1)[-1])
    client.post(f"/c/{cid}/roster", data={"roster": (ROSTER.open("rb"), "名册.csv"), "csrf": csrf},
                content_type="multipart/form-data", base_url=LAN)
    wb = _workbook(examples["001_岳阳市档案馆"], tmp_path / "b.xlsx")
    finish(client, client.post(f"/c/{cid}/returns", data={"files": [(io.BytesIO(wb), "b.xlsx")], "csrf": csrf},
                               content_type="multipart/form-data", base_url=LAN), base_url=LAN)
    ws = Workspace(tmp_path / "ws")
    uid = {b["code"]: b["id"] for b in ws.board(cid)}["430600101"]
    client.post(f"/c/{cid}/u/{uid}/decision", data={"decision": "确认", "csrf": csrf}, base_url=LAN)
    (d,) = ws.decisions_of(uid)
    assert d["decided_by"] == "王五" and d["decision"] == "确认" and re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d", d["decided_at"])
    assert ws.uploads_of(uid)[0]["uploaded_by"] == "王五"


@pytest.mark.parametrize("name", ["../../../../tmp/evil.xlsx", "..\\..\\windows\\evil.xlsx", "/etc/passwd",
                                  "C:\\Users\\x\\桌面\\档案馆.xlsx", "a\x00b\x1b[31m.xlsx"])
def test_upload_names_never_become_paths(app, tmp_path, examples, name):
    client = app.test_client()
    cid = _campaign(client)
    wb = _workbook(examples["001_岳阳市档案馆"], tmp_path / "b.xlsx")
    r = _upload(client, cid, [(name, wb)])
    assert r.status_code == 200
    ws_files = sorted(p for p in (tmp_path / "ws" / "files").rglob("*") if p.is_file())
    assert [p.parent.parent.name for p in ws_files] == ["files"] and ws_files[0].stem == \
        __import__("hashlib").sha256(wb).hexdigest()
    assert not Path("/tmp/evil.xlsx").exists()
    stored = Workspace(tmp_path / "ws").db.execute("SELECT original_name FROM uploads").fetchone()[0]
    assert "/" not in stored and "\\" not in stored and "\x00" not in stored and "\x1b" not in stored


def test_uploads_are_bounded(app, tmp_path, examples):
    client = app.test_client()
    cid = _campaign(client)
    # a 200 MiB request is refused from its Content-Length, before a byte is stored
    r = client.post(f"/c/{cid}/returns", data=b"x" * 10, content_type="multipart/form-data; boundary=b",
                    environ_overrides={"CONTENT_LENGTH": str(200 * 1024 * 1024)})
    assert r.status_code == 413 and "分批上传" in r.get_data(as_text=True)
    # one file past the per-file bound within an allowed request: refused, nothing kept
    big = b"PK" + b"\0" * (MAX_FILE + 10)
    r = _upload(client, cid, [("大文件.xlsx", big)])
    assert r.status_code == 200 and "超过" in r.get_data(as_text=True)
    assert not [p for p in (tmp_path / "ws" / "files").rglob("*.xlsx")]
    assert not list((tmp_path / "ws" / "files" / "tmp").iterdir())
    assert MAX_REQUEST < 200 * 1024 * 1024


def test_clerk_html_and_formula_text_is_shown_as_text(app, tmp_path, examples):
    client = app.test_client()
    cid = _campaign(client)
    dept = examples["001_岳阳市档案馆"]
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    inds = [i.model_copy(update={"name": evil if k == 0 else i.name, "actual": "=HYPERLINK(\"http://x\",\"点\")" if k == 0
                                 else i.actual}) for k, i in enumerate(dept.overall.indicators)]
    dept = dept.model_copy(update={"overall": dept.overall.model_copy(update={"indicators": inds})})
    _upload(client, cid, [(evil + ".xlsx", _workbook(dept, tmp_path / "e.xlsx"))])
    ws = Workspace(tmp_path / "ws")
    uid = {b["code"]: b["id"] for b in ws.board(cid)}["430600101"]
    page = client.get(f"/c/{cid}/u/{uid}").get_data(as_text=True)
    assert "<script>alert" not in page and "onerror=alert" not in page.replace("&lt;img src=x onerror=alert", "")
    assert "&lt;script&gt;" in page
    assert "=HYPERLINK(&#34;http://x&#34;" in page or "=HYPERLINK(&quot;http://x&quot;" in page


def test_restart_shows_everything_and_sweeps_what_a_kill_left(tmp_path, examples):
    a = create_app(tmp_path / "ws", workers=1)
    client = a.test_client()
    cid = _campaign(client)
    wb = _workbook(examples["001_岳阳市档案馆"], tmp_path / "b.xlsx")
    _upload(client, cid, [("b.xlsx", wb)])
    # what a kill can leave: a half-written temp file, and a complete file whose row was never committed
    (tmp_path / "ws" / "files" / "tmp" / "up-1-x.part").write_bytes(b"half")
    staging = tmp_path / "ws" / "files" / "tmp" / "tmpcheck" / "0"  # a check's staging folder
    staging.mkdir(parents=True)
    (staging / "档案馆.xlsx").write_bytes(b"link")
    orphan = tmp_path / "ws" / "files" / "ff" / ("f" * 64 + ".xlsx")
    orphan.parent.mkdir()
    orphan.write_bytes(b"complete but unrecorded")
    ws = Workspace(tmp_path / "ws")  # a restart
    assert not orphan.exists() and not list((tmp_path / "ws" / "files" / "tmp").iterdir())
    rows = ws.db.execute("SELECT sha256 FROM uploads").fetchall()
    assert len(rows) == 1 and ws.path_of(rows[0][0]).read_bytes() == wb
    assert {b["code"]: b["status"] for b in ws.board(cid)}["430600101"] == "有错误"


def test_schema_migrations_are_recorded_and_a_newer_workspace_is_refused(tmp_path):
    Workspace(tmp_path / "ws")
    db = sqlite3.connect(tmp_path / "ws" / "workspace.sqlite3")
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.commit()
    db.close()
    with pytest.raises(WorkspaceError, match="更新版本"):
        Workspace(tmp_path / "ws")


def test_served_on_every_interface_any_host_name_reaches_the_login(tmp_path):
    """0.0.0.0 with a password: colleagues use whatever name or address reaches this PC."""
    a = create_app(tmp_path / "ws", host="0.0.0.0", password="correct horse", workers=1)
    for base in ("http://192.168.1.10", "http://pc-01.local"):
        r = a.test_client().get("/", base_url=base)
        assert r.status_code == 302 and "/login" in r.headers["Location"]
