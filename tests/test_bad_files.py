"""One bad file never costs the others; sessions that end (#21 parts 5 and 6).

Each case as a coordinator met it: a name from a Windows zip, an upload with a very long name,
a database another program holds, a disk that fills up during ``check --annotate``, a folder
holding pipes, devices and broken links; a cookie kept after logout or a password change, and a
login link that sends the browser to another site.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import io
import json
import os
import re
import signal
import sqlite3
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from typer.testing import CliRunner

from selfeval_xl.files import outputs
from selfeval_xl.cli import app as cli
from selfeval_xl.core.model import Department
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.web import store
from selfeval_xl.web.app import create_app, safe_next
from selfeval_xl.web.store import Workspace
from selfeval_xl.xlsx.write import write_workbook

from .conftest import EXAMPLES
from .test_web import finish

runner = CliRunner()
ROSTER = EXAMPLES / "roster.csv"
LAN = "http://10.0.0.5"
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="fifos, /dev/zero and /dev/full are POSIX")


def _dept(stem: str) -> Department:
    return Department.model_validate_json((EXAMPLES / "data" / f"{stem}.json").read_text(encoding="utf-8"))


def _workbook(stem: str, path: Path) -> Path:
    d = _dept(stem)
    write_workbook(d, get_profile(d.profile), path)
    return path


def _no_traceback(res) -> None:
    assert "Traceback" not in res.output and "Exception ignored" not in res.output, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception


@pytest.fixture(autouse=True)
def _bounded():
    """A test that blocks (on a fifo, on a lock) fails after a minute instead of hanging the run."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def _hung(signum, frame):
        raise TimeoutError("test blocked for 120 s")

    old = signal.signal(signal.SIGALRM, _hung)
    signal.alarm(120)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# -- a name from a Windows zip -------------------------------------------------------------------

@posix_only
def test_report_on_a_folder_with_a_gbk_name_writes_every_report(tmp_path):
    """Was: UnicodeEncodeError traceback, no report at all. Now every file gets its report, the
    GBK name is read as GBK (b'\\xb5\\xa5\\xce\\xbb' is 单位) and said."""
    src = tmp_path / "回收"
    _workbook("001_岳阳市档案馆", src / "001_岳阳市档案馆.xlsx")
    _workbook("002_岳阳市君山区行政审批服务局", src / "002_岳阳市君山区行政审批服务局.xlsx")
    with open(os.fsencode(src) + b"/\xb5\xa5\xce\xbb.xlsx", "wb") as f:
        f.write((src / "001_岳阳市档案馆.xlsx").read_bytes())
    out = tmp_path / "报告"
    res = runner.invoke(cli, ["report", str(src), "-o", str(out), "-w", "1"])
    _no_traceback(res)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.glob("*.docx")) == [
        "001_岳阳市档案馆_整体支出绩效自评报告.docx", "002_岳阳市君山区行政审批服务局_整体支出绩效自评报告.docx",
        "单位_整体支出绩效自评报告.docx"]
    assert "报告：生成 3 份" in res.output
    assert "不是 UTF-8 编码" in res.output and "按 GBK 读作“单位.xlsx”" in res.output


def test_bounded_name_takes_a_name_that_is_not_utf8():
    raw = os.fsdecode(b"\xb5\xa5\xce\xbb")
    assert outputs.bounded_name(raw, ".docx") == "单位.docx"
    assert outputs.describe_os_error(OSError(errno.ENOSPC, "No space left")) == \
        "磁盘空间不足，无法写入 输出文件。请清理磁盘或换一个输出位置。"


# -- a disk that fills up under check --annotate ---------------------------------------------------

def _full_disk_for(nth: set[int], monkeypatch) -> list[str]:
    """Outputs' one write function, failing with the system's own ENOSPC (/dev/full) on the
    nth write into 批注/ (counted from 1); returns the names of the copies it failed."""
    real = outputs._write_file
    calls, failed = [0], []

    def write(path, data):
        path = Path(path)
        if path.parent.name == "批注":
            calls[0] += 1
            if calls[0] in nth:
                failed.append(calls[0])
                if os.path.exists("/dev/full"):
                    real("/dev/full", data)  # the kernel's "No space left on device"
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(outputs, "_write_file", write)
    return failed


def test_a_full_disk_under_annotate_names_every_copy_not_written(tmp_path, monkeypatch, capfd):
    """Was: "磁盘空间不足，无法写入 。" (no file), an "Exception ignored … OSError 28" traceback, and
    copies missing without a word. Now each copy that cannot be written is named, with the path,
    in the output and in 汇总表/summary.json, and the others are written."""
    src = tmp_path / "回收"
    for i in range(5):
        _workbook("001_岳阳市档案馆", src / f"单位{i}.xlsx")
    failed = _full_disk_for({2, 4}, monkeypatch)
    out = tmp_path / "结果"
    res = runner.invoke(cli, ["check", str(src), "-o", str(out), "--annotate", "-w", "1"])
    gc.collect()
    _no_traceback(res)
    assert failed == [2, 4]
    assert res.exit_code == 2, res.output
    assert sorted(p.name for p in (out / "批注").glob("*.xlsx")) == ["单位0.xlsx", "单位2.xlsx", "单位4.xlsx"]
    for name in ("单位1.xlsx", "单位3.xlsx"):
        want = f"未写入：{name} 的批注副本未生成：磁盘空间不足，无法写入 {out / '批注' / name}。请清理磁盘或换一个输出位置。"
        assert want in res.output, res.output
    assert "2 个批注副本未写入" in res.output
    files = json.loads((out / "summary.json").read_text(encoding="utf-8"))["files"]
    assert files["批注/单位1.xlsx"]["reason"].startswith("单位1.xlsx 的批注副本未生成：磁盘空间不足")
    assert files["批注/单位3.xlsx"]["path"] == str(out / "批注" / "单位3.xlsx")
    listed = [r[0].value for r in openpyxl.load_workbook(out / "汇总表.xlsx")["无法读取"].iter_rows(min_row=2)]
    assert listed == ["批注/单位1.xlsx", "批注/单位3.xlsx"]
    assert "Exception ignored" not in capfd.readouterr().err
    assert not list(out.rglob(".~selfeval-*"))  # no temp file left behind


@posix_only
def test_a_full_disk_while_the_summary_is_written_names_it_and_prints_no_traceback(tmp_path, monkeypatch, capfd):
    """The zip writers (XlsxWriter here, openpyxl alike) leave their zip open when the disk fills
    up; its destructor fails again and Python printed "Exception ignored … OSError 28"."""
    import zipfile

    import xlsxwriter.workbook

    src = tmp_path / "回收"
    _workbook("001_岳阳市档案馆", src / "a.xlsx")
    monkeypatch.setattr(xlsxwriter.workbook, "ZipFile", lambda f, *a, **k: zipfile.ZipFile("/dev/full", *a, **k))
    # pytest puts its own hook in place for each test; the tool's (installed on import) is
    # put back for this one, in front of a recorder of whatever it passes on
    passed_on = []
    monkeypatch.setattr(outputs, "_previous_hook", passed_on.append)
    monkeypatch.setattr(sys, "unraisablehook", outputs._quiet_abandoned_zip)
    out = tmp_path / "结果"
    res = runner.invoke(cli, ["check", str(src), "-o", str(out), "-w", "1"])
    _no_traceback(res)
    assert res.exit_code == 2
    assert f"错误：磁盘空间不足，无法写入 {out / '汇总表.xlsx'}。" in res.output
    assert not (out / "汇总表.xlsx").exists() and not list(out.glob(".~selfeval-*"))
    del res
    gc.collect()  # the abandoned zip is collected here: its second OSError 28 is not printed
    assert passed_on == [] and "Exception ignored" not in capfd.readouterr().err
    # anything else still reaches the previous hook
    outputs._quiet_abandoned_zip(SimpleNamespace(exc_type=ValueError, exc_value=ValueError("x"), exc_traceback=None,
                                                 err_msg=None, object=print))
    assert len(passed_on) == 1


# -- what a folder holds besides files ---------------------------------------------------------------

@posix_only
def test_pipes_devices_and_broken_links_are_listed_never_read(tmp_path):
    """Was: skipped without a word (and a link named explicitly could be read for ever). Now each
    is listed as 无法读取 with why, in the output, summary.json and 汇总表; none is opened."""
    src = tmp_path / "回收"
    _workbook("001_岳阳市档案馆", src / "a.xlsx")
    os.mkfifo(src / "管道.xlsx")
    os.symlink(tmp_path / "不存在.xlsx", src / "断链.xlsx")
    os.symlink("环2.xlsx", src / "环1.xlsx")
    os.symlink("环1.xlsx", src / "环2.xlsx")
    os.symlink("/dev/zero", src / "零.xlsx")
    (tmp_path / "别处").mkdir()
    os.symlink(tmp_path / "别处", src / "链接夹")
    out = tmp_path / "结果"
    t0 = time.monotonic()
    res = runner.invoke(cli, ["check", str(src), "-o", str(out), "-w", "1"])
    assert time.monotonic() - t0 < 60
    _no_traceback(res)
    assert res.exit_code == 2, res.output
    want = {
        "管道.xlsx": "管道.xlsx：是命名管道（FIFO），不是普通文件，未读取，已跳过",
        "断链.xlsx": f"断链.xlsx：是符号链接，指向的 {tmp_path / '不存在.xlsx'} 不存在，已跳过",
        "环1.xlsx": "环1.xlsx：是循环的符号链接（指向 环2.xlsx，最终又指回自己），已跳过",
        "环2.xlsx": "环2.xlsx：是循环的符号链接（指向 环1.xlsx，最终又指回自己），已跳过",
        "零.xlsx": "零.xlsx：是指向 /dev/zero 的符号链接，那是字符设备，不是普通文件，未读取，已跳过",
        "链接夹": f"链接夹：是指向文件夹 {tmp_path / '别处'} 的符号链接，未进入（可能重复或循环）；需要校验其中的文件请直接指定该文件夹",
    }
    files = json.loads((out / "summary.json").read_text(encoding="utf-8"))["files"]
    assert set(files) == {"a.xlsx", *want}
    for name, reason in want.items():
        assert files[name]["status"] == "无法读取" and files[name]["reason"] == reason
        assert f"无法读取：{reason}" in res.output
    listed = {r[0].value for r in openpyxl.load_workbook(out / "汇总表.xlsx")["无法读取"].iter_rows(min_row=2)}
    assert listed == set(want)


@posix_only
def test_a_device_named_explicitly_is_not_read(tmp_path):
    res = runner.invoke(cli, ["check", "/dev/zero", "-o", str(tmp_path / "结果")])
    _no_traceback(res)
    assert res.exit_code == 2
    assert "无法读取：zero：是字符设备，不是普通文件，未读取，已跳过" in res.output


# -- the workspace: a long name, a busy database ---------------------------------------------------------

def _csrf(client, base_url="http://localhost") -> str:
    client.get("/", base_url=base_url)
    with client.session_transaction(base_url=base_url) as s:
        return s["csrf"]


def _campaign(client) -> int:
    r = client.post("/campaigns", data={"name": "任务", "region": "yueyang-2023", "year": "2023", "csrf": _csrf(client)})
    cid = int(r.headers["Location"].rsplit("/", 1)[-1])
    r = client.post(f"/c/{cid}/roster", data={"roster": (ROSTER.open("rb"), "名册.csv"), "csrf": _csrf(client)},
                    content_type="multipart/form-data")
    assert "新增 3 个单位" in r.get_data(as_text=True)
    return cid


def _upload(client, cid, files, url=None):
    """An upload, followed to its job's page once the job is done (the request answers at once)."""
    return finish(client, client.post(url or f"/c/{cid}/returns",
                                      data={"files": [(io.BytesIO(b), n) for n, b in files], "csrf": _csrf(client)},
                                      content_type="multipart/form-data"))


@pytest.fixture
def two_workbooks(tmp_path):
    return (_workbook("001_岳阳市档案馆", tmp_path / "a.xlsx").read_bytes(),
            _workbook("002_岳阳市君山区行政审批服务局", tmp_path / "b.xlsx").read_bytes())


def test_an_upload_with_a_very_long_name_keeps_every_file(tmp_path, two_workbooks):
    """Was: a 500 page and none of the request's files kept (84 Chinese characters are 252 bytes:
    too long for the name the file is checked under). Now the name is bounded and all are kept."""
    a = create_app(tmp_path / "ws", workers=1)
    client = a.test_client()
    cid = _campaign(client)
    long_name = "岳阳市" + "档案" * 40 + "馆.xlsx"  # 84 characters before .xlsx
    r = _upload(client, cid, [(long_name, two_workbooks[0]), ("b.xlsx", two_workbooks[1])])
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    rows = Workspace(tmp_path / "ws").db.execute("SELECT original_name, unit_id FROM uploads ORDER BY id").fetchall()
    assert len(rows) == 2 and all(unit for _, unit in rows)
    kept = rows[0][0]
    assert kept.endswith(".xlsx") and kept.startswith("岳阳市档案") and len(kept.encode("utf-8")) <= 180
    assert kept in r.get_data(as_text=True)


def test_a_busy_database_is_said_and_the_upload_can_be_retried(tmp_path, two_workbooks, monkeypatch):
    """Was: a 500 after 30 s, the upload lost. Now: retried with backoff for a bounded time,
    then a page in Chinese; the files stay stored by hash and "重新校验" records them."""
    monkeypatch.setattr(store, "BUSY_SECONDS", 1.0)
    a = create_app(tmp_path / "ws", workers=1)
    client = a.test_client()
    cid = _campaign(client)
    other = sqlite3.connect(tmp_path / "ws" / "workspace.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    try:
        t0 = time.monotonic()
        r = _upload(client, cid, [("a.xlsx", two_workbooks[0]), ("b.xlsx", two_workbooks[1])])
        waited = time.monotonic() - t0
        page = r.get_data(as_text=True)
        assert r.status_code == 503
        assert "工作区数据库正被占用" in page and "请稍后重试" in page and "不必重新选择文件" in page
        assert waited < 15
        ws = Workspace.__new__(Workspace)  # only its paths: opening would wait for the lock
        ws.folder = tmp_path / "ws"
        for wb in two_workbooks:
            assert ws.path_of(hashlib.sha256(wb).hexdigest()).read_bytes() == wb
        r = client.post("/campaigns", data={"name": "x", "region": "yueyang-2023", "year": "2023",
                                            "csrf": _csrf(client)})
        assert r.status_code == 503 and "工作区数据库正被占用" in r.get_data(as_text=True)
    finally:
        other.execute("ROLLBACK")
        other.close()
    # (a raw connection: opening a Workspace sweeps stored files no row names yet — a restart would)
    assert sqlite3.connect(tmp_path / "ws" / "workspace.sqlite3").execute("SELECT COUNT(*) FROM uploads").fetchone()[0] == 0
    shas = re.findall(r'name="sha" value="([0-9a-f]{64})"', page)
    names = re.findall(r'name="name" value="([^"]+)"', page)
    assert shas == [hashlib.sha256(wb).hexdigest() for wb in two_workbooks] and names == ["a.xlsx", "b.xlsx"]
    r = finish(client, client.post(f"/c/{cid}/returns/again", data={"sha": shas, "name": names, "csrf": _csrf(client)}))
    assert r.status_code == 200 and "本次上传：2 个文件" in r.get_data(as_text=True)
    assert "服务器上已没有这份文件" not in r.get_data(as_text=True)
    rows = Workspace(tmp_path / "ws").db.execute("SELECT original_name FROM uploads ORDER BY id").fetchall()
    assert [n for (n,) in rows] == ["a.xlsx", "b.xlsx"]


def test_a_retry_for_a_file_no_longer_stored_says_so(tmp_path):
    a = create_app(tmp_path / "ws", workers=1)
    client = a.test_client()
    cid = _campaign(client)
    r = finish(client, client.post(f"/c/{cid}/returns/again", data={"sha": ["0" * 64, "../../etc/passwd"],
                                                                    "name": ["a.xlsx", "b.xlsx"], "csrf": _csrf(client)}))
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and page.count("服务器上已没有这份文件") == 2


# -- sessions that end ------------------------------------------------------------------------------------

def _login(a, name="张三", password="correct horse", nxt=None):
    client = a.test_client()
    csrf = _csrf(client, LAN)
    url = "/login" + (f"?next={nxt}" if nxt is not None else "")
    r = client.post(url, data={"name": name, "password": password, "csrf": csrf}, base_url=LAN)
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return client, r


def _cookie(client) -> str:
    return client.get_cookie("session", domain="10.0.0.5").value


def _with_cookie(a, value):
    c = a.test_client()
    c.set_cookie("session", value, domain="10.0.0.5")
    return c


def _campaigns(tmp_path) -> int:
    return Workspace(tmp_path / "ws").db.execute("SELECT COUNT(*) FROM campaigns").fetchone()[0]


def test_a_cookie_kept_from_before_logout_opens_nothing(tmp_path):
    a = create_app(tmp_path / "ws", host="10.0.0.5", password="correct horse", workers=1)
    client, _ = _login(a)
    kept = _cookie(client)
    assert _with_cookie(a, kept).get("/", base_url=LAN).status_code == 200  # the copy works while logged in
    with client.session_transaction(base_url=LAN) as s:
        csrf = s["csrf"]
    assert client.post("/logout", data={"csrf": csrf}, base_url=LAN).status_code == 302
    thief = _with_cookie(a, kept)
    r = thief.get("/", base_url=LAN)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    r = thief.post("/campaigns", data={"name": "x", "region": "yueyang-2023", "year": "2023", "csrf": csrf}, base_url=LAN)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert _campaigns(tmp_path) == 0


def test_a_restart_with_another_password_ends_every_session(tmp_path):
    a = create_app(tmp_path / "ws", host="10.0.0.5", password="correct horse", workers=1)
    client, _ = _login(a)
    kept = _cookie(client)
    with client.session_transaction(base_url=LAN) as s:
        sid, csrf = s["sid"], s["csrf"]
    same = create_app(tmp_path / "ws", host="10.0.0.5", password="correct horse", workers=1)
    assert _with_cookie(same, kept).get("/", base_url=LAN).status_code == 200  # same password: still logged in
    new = create_app(tmp_path / "ws", host="10.0.0.5", password="battery staple", workers=1)
    r = _with_cookie(new, kept).get("/", base_url=LAN)
    assert r.status_code == 302 and "/login" in r.headers["Location"]  # old signature no longer verifies
    # and even a cookie the new key signs, naming the old session, opens nothing: the session is gone
    forged = new.test_client()
    forged.get("/login", base_url=LAN)
    with forged.session_transaction(base_url=LAN) as s:
        s.update(sid=sid, user="张三", csrf=csrf)
    assert forged.get("/", base_url=LAN).status_code == 302
    r = forged.post("/campaigns", data={"name": "x", "region": "yueyang-2023", "year": "2023", "csrf": csrf}, base_url=LAN)
    assert r.status_code == 302 and _campaigns(tmp_path) == 0
    # the new password opens it as usual
    client, _ = _login(new, password="battery staple")
    assert client.get("/", base_url=LAN).status_code == 200


@pytest.mark.parametrize("nxt", ["/%09/evil.example", "//evil.example", "/%5Cevil.example", "%2F%2Fevil.example",
                                 "https://evil.example/", "/%0a/evil.example", "/%252F%252Fevil.example", "/%20/evil"])
def test_login_next_only_goes_to_this_site(tmp_path, nxt):
    a = create_app(tmp_path / "ws", host="10.0.0.5", password="correct horse", workers=1)
    _, r = _login(a, nxt=nxt)
    assert r.headers["Location"] == "/"


def test_login_next_keeps_a_path_of_this_site(tmp_path):
    a = create_app(tmp_path / "ws", host="10.0.0.5", password="correct horse", workers=1)
    r = a.test_client().get("/c/1?status=%E6%9C%89%E9%94%99%E8%AF%AF", base_url=LAN)
    assert r.status_code == 302
    nxt = r.headers["Location"].split("next=", 1)[1]
    _, r = _login(a, nxt=nxt)
    assert r.headers["Location"] == "/c/1?status=%E6%9C%89%E9%94%99%E8%AF%AF"
    assert safe_next("/\t/evil.example") == "/" and safe_next("/c/2") == "/c/2"
