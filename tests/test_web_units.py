"""A campaign of hundreds of units (#20), through Flask's test client: each unit's own link (and
nothing of any other unit through it), bulk decisions, background jobs that survive a restart, the
board at 2,000 units, the list of late units with their contacts."""

from __future__ import annotations

import io
import json
import threading
import re
import time
import zipfile
from pathlib import Path

import pytest

from selfeval_xl.web.app import create_app
from selfeval_xl.web.store import StoredFile, Workspace

from .test_web import LAN, ROSTER, _clean_000, _post, _workbook, download, finish, job_url


@pytest.fixture
def app(tmp_path):
    a = create_app(tmp_path / "ws", workers=1)
    a.config["TESTING"] = True
    return a


def _campaign(client, roster=ROSTER, name="名册.csv") -> int:
    r = _post(client, "/campaigns", {"name": "2023年度自评", "region": "yueyang-2023", "year": "2023"})
    cid = int(r.headers["Location"].rsplit("/", 1)[-1])
    r = _post(client, f"/c/{cid}/roster", {"roster": (roster.open("rb"), name)}, content_type="multipart/form-data")
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return cid


def _ids(ws: Workspace, cid: int) -> dict[str, int]:
    return {b["code"]: b["id"] for b in ws.board(cid)}


def _issue(client, cid, unit_ids, **kw) -> dict[str, str]:
    """Links issued from the board (bulk): {unit code: link path}."""
    r = client.post(f"/c/{cid}/bulk", data={"action": "links", "unit": unit_ids, "csrf": _csrf_any(client, kw)}, **kw)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "请现在打印或保存本页" in page, page[:1000]
    rows = re.findall(r"<tr><td>(\d+)</td><td>[^<]*</td><td class=\"linkurl\">https?://[^/]+(/k/[A-Za-z0-9_-]+)</td>", page)
    return dict(rows)


def _csrf_any(client, kw):
    base = kw.get("base_url", "http://localhost")
    with client.session_transaction(base_url=base) as s:
        if "csrf" in s:
            return s["csrf"]
    client.get("/", base_url=base)
    with client.session_transaction(base_url=base) as s:
        return s["csrf"]


def _unit_upload(client, link, files, **kw):
    r = client.post(f"{link}/upload", data={"files": [(io.BytesIO(b), n) for n, b in files],
                                            "csrf": _csrf_link(client, link, kw)},
                    content_type="multipart/form-data", **kw)
    return finish(client, r, **kw)


def _csrf_link(client, link, kw):
    page = client.get(link, **kw).get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def _corrected_001(examples):
    fixed = examples["001_岳阳市档案馆"]
    return fixed.model_copy(update={"stated": {k: v for k, v in fixed.stated.items() if not k.startswith("projects[4].basic")}})


def test_a_units_link_opens_its_own_pages_and_nothing_of_another_unit(tmp_path, examples):
    """With a password: the coordinator logs in; each unit uses only its link. Every URL the unit
    pages use is tried with another unit's token and ids, with a revoked token and a made-up one."""
    a = create_app(tmp_path / "ws", host="10.0.0.5", password="correct horse", workers=1)
    coord = a.test_client()
    coord.get("/login", base_url=LAN)
    with coord.session_transaction(base_url=LAN) as s:
        csrf = s["csrf"]
    assert coord.post("/login", data={"name": "王五", "password": "correct horse", "csrf": csrf}, base_url=LAN).status_code == 302
    kw = {"base_url": LAN}
    with coord.session_transaction(base_url=LAN) as s:
        csrf = s["csrf"]
    r = coord.post("/campaigns", data={"name": "任务", "region": "yueyang-2023", "year": "2023", "csrf": csrf}, **kw)
    cid = int(r.headers["Location"].rsplit("/", 1)[-1])
    coord.post(f"/c/{cid}/roster", data={"roster": (ROSTER.open("rb"), "名册.csv"), "csrf": csrf},
               content_type="multipart/form-data", **kw)
    ws = Workspace(tmp_path / "ws")
    ids = _ids(ws, cid)
    links = _issue(coord, cid, [ids["430600101"], ids["430600102"]], **kw)
    la, lb = links["430600101"], links["430600102"]  # 岳阳市档案馆, 岳阳市城市建设档案馆
    # only the hash is kept
    assert la.rsplit("/", 1)[1] not in (tmp_path / "ws" / "workspace.sqlite3").read_bytes().decode("latin-1")

    ua, ub = a.test_client(), a.test_client()  # the units' browsers: never logged in
    home = ua.get(la, **kw)
    assert home.status_code == 200 and "岳阳市档案馆" in home.get_data(as_text=True)
    assert "岳阳市城市建设档案馆" not in home.get_data(as_text=True)
    assert ua.get(f"/c/{cid}", **kw).status_code == 302  # the coordinator's pages: login first
    assert ua.get(f"/c/{cid}/u/{ids['430600101']}", **kw).status_code == 302
    t = ua.get(f"{la}/template.xlsx", **kw)
    assert t.status_code == 200 and t.data[:2] == b"PK" and "430600101" in t.headers["Content-Disposition"]

    # another unit's workbook through A's link: refused, said, not recorded
    other = _workbook(_clean_000(examples), tmp_path / "b.xlsx")
    page = _unit_upload(ua, la, [("城建.xlsx", other)], **kw).get_data(as_text=True)
    assert "不是本单位" in page and "岳阳市城市建设档案馆" in page
    assert ws.uploads_of(ids["430600101"]) == [] and ws.uploads_of(ids["430600102"]) == []
    # its own, with errors: flags in plain words with their cells
    own = _workbook(examples["001_岳阳市档案馆"], tmp_path / "a.xlsx")
    page = _unit_upload(ua, la, [("档案馆.xlsx", own)], **kw).get_data(as_text=True)
    assert "有错误" in page
    ja = int(job_url(page).rsplit("/", 1)[1])
    home = ua.get(la, **kw).get_data(as_text=True)
    assert 'id="flags"' in home and "附件2!F5" in home and "错误（须改正）" in home
    (upa,) = [v["id"] for v in ws.uploads_of(ids["430600101"])]
    assert ws.upload(upa)["uploaded_by"] == "单位自行上传"
    ann = ua.get(f"{la}/f/{upa}/annotated.xlsx", **kw)
    assert ann.status_code == 200 and ann.data[:2] == b"PK"
    # and its report (.docx): its commented copy is the unit's too
    report = (Path(__file__).parent / "fixtures" / "reports" / "001.docx").read_bytes()
    _unit_upload(ua, la, [("档案馆报告.docx", report)], **kw)
    (ra,) = [x["id"] for x in ws.reports_of(ids["430600101"])]
    assert ua.get(f"{la}/r/{ra}/annotated.docx", **kw).data[:2] == b"PK"

    # the coordinator returns it with a note: the unit sees it
    with coord.session_transaction(base_url=LAN) as s:
        csrf = s["csrf"]
    coord.post(f"/c/{cid}/u/{ids['430600101']}/decision", data={"decision": "退回修改", "note": "请改正附件1第24行", "csrf": csrf}, **kw)
    home = ua.get(la, **kw).get_data(as_text=True)
    assert "协调人退回修改" in home and "请改正附件1第24行" in home and "已退回" in home

    # B uploads its own
    page = _unit_upload(ub, lb, [("城建.xlsx", other)], **kw).get_data(as_text=True)
    jb = int(job_url(page).rsplit("/", 1)[1])
    (upb,) = [v["id"] for v in ws.uploads_of(ids["430600102"])]
    bhome = ub.get(lb, **kw).get_data(as_text=True)
    for secret in ("岳阳市档案馆<", "档案馆.xlsx", "请改正附件1第24行", "430600101"):
        assert secret not in bhome

    # a report no unit could be told for (the coordinator's upload): never seen nor assigned through a link
    with coord.session_transaction(base_url=LAN) as s:
        csrf = s["csrf"]
    lost = (Path(__file__).parent / "fixtures" / "reports" / "003.docx").read_bytes()
    r = coord.post(f"/c/{cid}/returns", data={"files": [(io.BytesIO(lost), "别的报告.docx")], "csrf": csrf},
                   content_type="multipart/form-data", **kw)
    jl = int(job_url(finish(coord, r, **kw).get_data(as_text=True)).rsplit("/", 1)[1])
    (rl,) = [x["id"] for x in ws.unmatched_reports(cid)]
    for client, link in ((ua, la), (ub, lb)):
        assert "别的报告.docx" not in client.get(link, **kw).get_data(as_text=True)
        for url in (f"{link}/r/{rl}/annotated.docx", f"{link}/r/{rl}/original", f"{link}/jobs/{jl}"):
            r = client.get(url, **kw)  # 404, or no such page of a link's: the login
            assert r.status_code in (302, 404) and "别的报告" not in r.get_data(as_text=True) and r.data[:2] != b"PK", url
        for url in (f"/c/{cid}/r/{rl}/original", f"/c/{cid}/jobs/{jl}", f"/c/{cid}"):
            assert client.get(url, **kw).status_code == 302, url  # the coordinator's: login first
        with client.session_transaction(base_url=LAN) as s:
            token = s["csrf"]
        for url in (f"/c/{cid}/r/{rl}/assign", f"{link}/r/{rl}/assign"):
            r = client.post(url, data={"unit": "430600101", "csrf": token}, **kw)
            assert r.status_code in (302, 404, 405), url
    assert ws.report(rl)["unit_id"] is None and not ws.db.execute("SELECT 1 FROM jobs WHERE kind = 'assign_report'").fetchone()
    # the coordinator assigns it: recorded with her name
    r = coord.post(f"/c/{cid}/r/{rl}/assign", data={"unit": "430611201", "csrf": csrf}, **kw)
    assert "已指定为该单位的报告" in finish(coord, r, **kw).get_data(as_text=True)
    assert ws.report(rl)["assigned_by"] == "王五"
    assert "由 王五 于" in coord.get(f"/c/{cid}/u/{ids['430611201']}", **kw).get_data(as_text=True)
    for client, link in ((ua, la), (ub, lb)):  # another unit's now: still nothing through these links
        assert client.get(f"{link}/r/{rl}/annotated.docx", **kw).status_code == 404

    # every URL of the unit pages with the other unit's token and ids: 404, no data
    crossed = [f"{lb}/jobs/{ja}", f"{lb}/f/{upa}/annotated.xlsx", f"{la}/jobs/{jb}", f"{la}/f/{upb}/annotated.xlsx",
               f"{lb}/r/{ra}/annotated.docx"]
    for url in crossed:
        for client in (ua, ub):
            r = client.get(url, **kw)
            text = r.get_data(as_text=True)
            assert r.status_code == 404, url
            assert r.data[:2] != b"PK" and "档案馆.xlsx" not in text and "城建.xlsx" not in text
    # a made-up token, and A's token once revoked: every URL 404 (and the upload not stored)
    with coord.session_transaction(base_url=LAN) as s:
        csrf = s["csrf"]
    coord.post(f"/c/{cid}/u/{ids['430600101']}/link", data={"action": "revoke", "csrf": csrf}, **kw)
    for link in ("/k/" + "A" * 32, la):
        for url in (link, f"{link}/template.xlsx", f"{link}/jobs/{ja}", f"{link}/f/{upa}/annotated.xlsx",
                    f"{link}/r/{ra}/annotated.docx"):
            r = ua.get(url, **kw)
            assert r.status_code == 404 and r.data[:2] != b"PK", url
            assert "岳阳市档案馆" not in r.get_data(as_text=True)
        with ua.session_transaction(base_url=LAN) as s:
            token = s["csrf"]
        r = ua.post(f"{link}/upload", data={"files": [(io.BytesIO(own), "a.xlsx")], "csrf": token},
                    content_type="multipart/form-data", **kw)
        assert r.status_code == 404
    assert len(ws.uploads_of(ids["430600101"])) == 1
    # CSRF still guards the unit's form
    r = ub.post(f"{lb}/upload", data={"files": [(io.BytesIO(other), "b.xlsx")]}, content_type="multipart/form-data", **kw)
    assert r.status_code == 403
    # re-issued: a new link works, the old one stays dead
    new = _issue(coord, cid, [ids["430600101"]], **kw)["430600101"]
    assert new != la and ua.get(new, **kw).status_code == 200 and ua.get(la, **kw).status_code == 404
    # the corrected version through the new link
    page = _unit_upload(ua, new, [("档案馆_改.xlsx", _workbook(_corrected_001(examples), tmp_path / "c.xlsx"))], **kw)
    assert len(ws.uploads_of(ids["430600101"])) == 2
    home = ua.get(new, **kw).get_data(as_text=True)
    assert "第 2 版" in home and "上次退回意见" in home


def test_bulk_confirm_of_50_units_in_one_post(app, tmp_path):
    roster = tmp_path / "名册.csv"
    roster.write_text("单位编码,单位名称,项目名称\n" + "".join(f"4306{i:05d},单位{i:03d},项目\n" for i in range(60)),
                      encoding="utf-8")
    client = app.test_client()
    cid = _campaign(client, roster)
    ws = Workspace(tmp_path / "ws")
    ids = _ids(ws, cid)
    stored = ws.store(iter([b"PK-not-really"]), 1 << 20)
    for code, uid in list(ids.items())[:55]:
        ws.add_upload(cid, uid, StoredFile(stored.sha256, stored.size), f"{code}.xlsx",
                      {"status": "通过", "unit_code": code, "flags": []})
    chosen = list(ids.values())[:50]
    r = _post(client, f"/c/{cid}/bulk", {"action": "confirm", "unit": chosen})
    assert r.status_code == 200 and "已确认 50 个单位" in r.get_data(as_text=True)
    status = {b["id"]: b["status"] for b in ws.board(cid)}
    assert [status[u] for u in chosen] == ["已确认"] * 50
    assert {status[u] for u in ids.values() if u not in chosen} == {"通过", "未交"}
    assert ws.db.execute("SELECT COUNT(DISTINCT decided_at) FROM decisions").fetchone()[0] == 1  # one action

    # 退回 needs a note; with one, every chosen unit gets it. Units never sent are said, not decided.
    r = _post(client, f"/c/{cid}/bulk", {"action": "return", "unit": list(ids.values())[50:]})
    assert r.status_code == 400 and "写明" in r.get_data(as_text=True)
    r = _post(client, f"/c/{cid}/bulk", {"action": "return", "unit": list(ids.values())[50:], "note": "补填附件3"})
    assert "已退回 5 个单位" in r.get_data(as_text=True) and "另有 5 个单位还没有交回" in r.get_data(as_text=True)
    assert {d["note"] for d in ws.decisions_of(list(ids.values())[52])} == {"补填附件3"}

    # all the filtered ones (beyond the page): a search, then select all filtered
    r = _post(client, f"/c/{cid}/bulk", {"action": "links", "all_filtered": "1", "q": "单位00"})
    assert r.get_data(as_text=True).count('class="linkurl"') == 10


def test_a_compile_with_nothing_chosen_says_so(app, tmp_path, examples):
    client = app.test_client()
    cid = _campaign(client)
    for url, data in ((f"/c/{cid}/compile", {}), (f"/c/{cid}/bulk", {"action": "compile"})):
        r = _post(client, url, data)
        page = r.get_data(as_text=True)
        assert r.status_code == 400 and "没有选择要汇总的单位" in page and "已确认" in page and r.data[:2] != b"PK"
    ids = _ids(Workspace(tmp_path / "ws"), cid)
    r = _post(client, f"/c/{cid}/bulk", {"action": "compile", "unit": [ids["430611201"]]})
    assert r.status_code == 400 and "还没有交回" in r.get_data(as_text=True)
    assert not Workspace(tmp_path / "ws").db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]


def test_a_job_shows_its_progress_and_a_restart_keeps_what_was_acknowledged(tmp_path, examples):
    """The upload returns at once with the job's page; a second tab sees the same job; the server
    stops mid-job; the next start keeps the stored files and finishes the job."""
    a = create_app(tmp_path / "ws", workers=1, run_jobs=False)  # a server whose worker never gets to it
    client = a.test_client()
    cid = _campaign(client)
    books = [_workbook(examples["001_岳阳市档案馆"], tmp_path / "a.xlsx"), _workbook(_clean_000(examples), tmp_path / "b.xlsx")]
    t0 = time.monotonic()
    r = _post(client, f"/c/{cid}/returns", {"files": [(io.BytesIO(b), f"{i}.xlsx") for i, b in enumerate(books)]},
              content_type="multipart/form-data")
    print(f"\nupload answered in {time.monotonic() - t0:.3f} s")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'data-state="queued"' in page and "排队中" in page
    assert 'http-equiv="refresh"' in page and "已处理 <span id=\"job-done\">0</span> / <span id=\"job-total\">2</span>" in page
    url = job_url(page)
    jid = int(url.rsplit("/", 1)[1])
    ws = Workspace(tmp_path / "ws")
    # the worker takes it and gets half way: a second tab (another client) sees the same progress
    ws.claim_job()
    ws.job_progress(jid, 1)
    tab = a.test_client().get(url).get_data(as_text=True)
    assert 'data-state="running"' in tab and "进行中" in tab and '<span id="job-done">1</span>' in tab
    assert "width: 50%" in tab
    assert f"/c/{cid}/jobs/{jid}" in client.get(f"/c/{cid}").get_data(as_text=True)  # listed on the board
    # … and the server stops there (nothing recorded yet). The next start: files kept, job finished.
    del a
    ws2 = Workspace(tmp_path / "ws")  # its sweep runs first
    for b in books:
        assert ws2.path_of(__import__("hashlib").sha256(b).hexdigest()).read_bytes() == b
    b2 = create_app(tmp_path / "ws", workers=1)
    page = finish(b2.test_client(), b2.test_client().get(url)).get_data(as_text=True)
    assert 'data-state="done"' in page and "本次上传：2 个文件" in page
    job = ws2.job(jid)
    assert job["state"] == "done" and job["done"] == job["total"] == 2
    rows = ws2.db.execute("SELECT original_name FROM uploads ORDER BY id").fetchall()
    assert [n for (n,) in rows] == ["0.xlsx", "1.xlsx"]  # once each: nothing recorded twice
    assert {b["code"]: b["status"] for b in ws2.board(cid)}["430600101"] == "有错误"


def test_a_failed_job_can_be_tried_again_from_its_stored_files(tmp_path, examples, monkeypatch):
    from selfeval_xl.web import work

    a = create_app(tmp_path / "ws", workers=1)
    client = a.test_client()
    cid = _campaign(client)
    calls = []

    def broken(*args, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return real(*args, **kw)

    real = work.check_items
    monkeypatch.setattr(work, "check_items", broken)
    r = _post(client, f"/c/{cid}/returns", {"files": [(io.BytesIO(_workbook(examples["001_岳阳市档案馆"], tmp_path / "a.xlsx")), "a.xlsx")]},
              content_type="multipart/form-data")
    page = finish(client, r).get_data(as_text=True)
    assert 'data-state="failed"' in page and "重新处理" in page and "No space left" in page
    jid = int(job_url(page).rsplit("/", 1)[1])
    r = _post(client, f"/c/{cid}/jobs/{jid}/retry")
    page = finish(client, client.get(r.headers["Location"])).get_data(as_text=True)
    assert 'data-state="done"' in page and "本次上传：1 个文件" in page


def test_annotated_copies_of_the_chosen_units_in_one_zip(app, tmp_path, examples):
    client = app.test_client()
    cid = _campaign(client)
    finish(client, _post(client, f"/c/{cid}/returns", {"files": [
        (io.BytesIO(_workbook(examples["001_岳阳市档案馆"], tmp_path / "a.xlsx")), "a.xlsx"),
        (io.BytesIO(_workbook(_clean_000(examples), tmp_path / "b.xlsx")), "b.xlsx")]}, content_type="multipart/form-data"))
    ids = _ids(Workspace(tmp_path / "ws"), cid)
    r = download(client, _post(client, f"/c/{cid}/bulk", {"action": "annotated", "unit": list(ids.values())}))
    names = zipfile.ZipFile(io.BytesIO(r.data)).namelist()
    assert len(names) == 2 and any(n.startswith("430600101_") and n.endswith("_批注.xlsx") for n in names)


def test_the_late_list_has_the_contacts_from_the_workbooks(app, tmp_path, examples):
    from openpyxl import load_workbook

    client = app.test_client()
    cid = _campaign(client)
    dept = examples["001_岳阳市档案馆"]
    dept = dept.model_copy(update={"signoff": dept.signoff.model_copy(update={"preparer": "李会计", "phone": "0730-8888888"})})
    finish(client, _post(client, f"/c/{cid}/returns", {"files": [(io.BytesIO(_workbook(dept, tmp_path / "a.xlsx")), "a.xlsx")]},
                         content_type="multipart/form-data"))
    assert _post(client, f"/c/{cid}/deadline", {"deadline": "2020-01-31"}).status_code == 302
    page = client.get(f"/c/{cid}/late").get_data(as_text=True)
    assert "2020-01-31" in page and "李会计" in page and "0730-8888888" in page and page.count("逾期</td>") >= 2
    assert "岳阳市君山区行政审批服务局" in page  # 未交
    x = client.get(f"/c/{cid}/late.xlsx")
    rows = list(load_workbook(io.BytesIO(x.data)).active.iter_rows(values_only=True))
    assert rows[1][:6] == ("单位编码", "单位名称", "状态", "是否逾期", "填表人", "联系电话")
    assert ("430600101", "岳阳市档案馆", "有错误", "逾期", "李会计", "0730-8888888") in [r[:6] for r in rows]
    assert _post(client, f"/c/{cid}/deadline", {"deadline": "明天"}).status_code == 400


def test_the_board_of_2000_units_searches_sorts_and_pages(app, tmp_path, capsys):
    """Benchmark-style: times printed, not asserted."""
    client = app.test_client()
    r = _post(client, "/campaigns", {"name": "大任务", "region": "yueyang-2023", "year": "2023"})
    cid = int(r.headers["Location"].rsplit("/", 1)[-1])
    ws = Workspace(tmp_path / "ws")
    ws.add_units(cid, [{"code": f"43{i:07d}", "name": f"第{i:04d}号单位"} for i in range(2000)])
    stored = ws.store(iter([b"x"]), 10)
    ids = _ids(ws, cid)
    with ws.tx():
        for n, (code, uid) in enumerate(ids.items()):
            if n % 4:  # three in four have sent, some twice
                for v in range(1 + n % 2):
                    ws.add_upload(cid, uid, StoredFile(stored.sha256, 1), f"{code}.xlsx",
                                  {"status": "通过" if n % 3 else "有错误", "unit_code": code, "recomputed_total": n % 100,
                                   "errors": 0 if n % 3 else 2})
    times = {}
    for label, query in (("默认", ""), ("按总分", "?sort=score"), ("按时间第10页", "?sort=time&page=10"),
                         ("搜索", "?q=第012"), ("有错误按名称", "?status=有错误&sort=name")):
        t0 = time.perf_counter()
        r = client.get(f"/c/{cid}{query}")
        times[label] = time.perf_counter() - t0
        assert r.status_code == 200
        if label == "默认":
            page = r.get_data(as_text=True)
            assert page.count('class="pick"') == 100 and "第 1 / 20 页" in page
        if label == "按总分":
            scores = [float(x) for x in re.findall(r'<td class="num">(\d+(?:\.\d+)?)</td><td></td>', r.get_data(as_text=True))]
            assert scores and scores == sorted(scores, reverse=True)
        if label == "搜索":
            assert r.get_data(as_text=True).count('class="pick"') == 10
    with capsys.disabled():
        print("\n2000 个单位的状态表：" + "，".join(f"{k} {v * 1000:.0f} ms" for k, v in times.items()))


def _qr_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules of one of segno's inline SVGs, read back from its path: "M x y" moves to a
    row (y is the row's middle, +0.5), "m dx dy" moves relative, "h n" paints n modules."""
    d = re.search(r' d="(M[^"]+)"', svg.split('class="qrline"', 1)[1]).group(1)
    x = y = 0.0
    dark = set()
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", d):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            for i in range(int(float(a))):
                dark.add((int(x) + i, int(y - 0.5)))
            x += float(a)
    return dark


def test_the_print_page_has_each_units_link_as_a_qr_code(app, tmp_path):
    """Each row's QR code holds that row's own link (read back from the SVG's modules and
    compared with the code of its URL, and not with another row's)."""
    import segno

    client = app.test_client()
    cid = _campaign(client)
    ids = _ids(Workspace(tmp_path / "ws"), cid)
    r = client.post(f"/c/{cid}/bulk", data={"action": "links", "unit": list(ids.values()), "csrf": _csrf_any(client, {})})
    page = r.get_data(as_text=True)
    rows = re.findall(r'<td class="linkurl">([^<]+)</td><td class="qrcell">(<svg.*?</svg>)</td>', page)
    assert len(rows) == len(ids) >= 2 and "未生成二维码" not in page

    def modules(url):
        m = segno.make(url, error="m", micro=False).matrix
        return {(x + 2, y + 2) for y, row in enumerate(m) for x, v in enumerate(row) if v}

    for i, (url, svg) in enumerate(rows):
        assert url.startswith("http://localhost/k/")
        assert _qr_modules(svg) == modules(url)
        assert _qr_modules(svg) != modules(rows[i - 1][0])


def _visible(page: str) -> str:
    """A page's text as a person reads it: no tags, no attribute values, no script or style."""
    page = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    return re.sub(r"<[^>]*>", " ", page)


def test_every_page_names_the_region_by_its_display_name(app, tmp_path):
    client = app.test_client()
    cid = _campaign(client)
    ids = _ids(Workspace(tmp_path / "ws"), cid)
    uid = ids["430600101"]
    links = _issue(client, cid, [uid])
    pages = {"/": client.get("/"), "board": client.get(f"/c/{cid}"), "unit": client.get(f"/c/{cid}/u/{uid}"),
             "late": client.get(f"/c/{cid}/late"), "dashboard": client.get(f"/c/{cid}/dashboard"),
             "link": app.test_client().get(links["430600101"]),
             "links": client.post(f"/c/{cid}/bulk", data={"action": "links", "unit": [uid], "csrf": _csrf_any(client, {})})}
    name = "岳阳市 2023 年度部门整体支出绩效自评"
    for what, r in pages.items():
        text = _visible(r.get_data(as_text=True))
        assert r.status_code == 200, what
        assert name in text, what
        assert "yueyang-2023" not in text, what
    assert 'value="yueyang-2023"' in pages["/"].get_data(as_text=True)  # the form still sends the id


def test_a_workbook_with_required_inputs_blank_is_unfinished_with_no_grade(app, tmp_path, examples):
    """全年预算数 left blank (FILL-102): 未完成 on the board, on the unit page and through the unit's
    link, with no score or grade anywhere; the late list chases it. A complete one keeps its grade."""
    from .test_web import _upload

    client = app.test_client()
    cid = _campaign(client)
    ids = _ids(Workspace(tmp_path / "ws"), cid)
    half = examples["001_岳阳市档案馆"]
    half = half.model_copy(update={"overall": half.overall.model_copy(update={"budget_full": None})})
    page = _upload(client, cid, [("半成品.xlsx", _workbook(half, tmp_path / "h.xlsx")),
                                 ("城建.xlsx", _workbook(_clean_000(examples), tmp_path / "c.xlsx"))]).get_data(as_text=True)
    assert "未完成" in page
    ws = Workspace(tmp_path / "ws")
    board = {b["code"]: b for b in ws.board(cid)}
    assert board["430600101"]["status"] == "未完成"
    assert board["430600101"]["total"] is None and board["430600101"]["grade"] == ""
    assert board["430600102"]["status"] in ("通过", "有警告") and board["430600102"]["grade"]  # the other keeps its grade
    assert json_flags(ws, board["430600101"]["upload_id"]) & {"FILL-102"}

    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*430600101(?:(?!</tr>).)*</tr>", client.get(f"/c/{cid}").get_data(as_text=True), re.S).group(0)
    assert "未完成" in row and not re.search(r"[优良中差]", _visible(row).replace("岳阳市档案馆", ""))
    assert "未完成" in client.get(f"/c/{cid}?status=未完成").get_data(as_text=True)
    unit = client.get(f"/c/{cid}/u/{ids['430600101']}").get_data(as_text=True)
    assert 'id="incomplete"' in unit and not re.search(r"总分 *\d|[（(][优良中差][）)]", _visible(unit))
    link = app.test_client().get(_issue(client, cid, [ids["430600101"]])["430600101"]).get_data(as_text=True)
    assert 'id="unit-status">未完成' in link and 'id="incomplete"' in link and not re.search(r"总分 *\d", _visible(link))
    assert "430600101" in [r["code"] for r in __import__("selfeval_xl.web.work", fromlist=["x"]).late_units(ws, cid)]


def json_flags(ws, upid) -> set[str]:
    import json

    return {f["code"] for f in json.loads(ws.upload(upid)["result"])["flags"]}


def test_versions_stored_before_are_marked_unfinished_by_the_migration(tmp_path):
    """A workspace of the previous release (schema 3) with a blank template and a half-filled
    workbook stored as 未填写 / 有错误 with a grade: opened now, both are 未完成 with no grade."""
    import sqlite3

    from selfeval_xl.web import store

    ws = Workspace(tmp_path / "ws")
    cid = ws.create_campaign("任务", "yueyang-2023", 2023)
    ws.add_units(cid, [{"code": "1", "name": "甲", "roster": {}}, {"code": "2", "name": "乙", "roster": {}},
                       {"code": "3", "name": "丙", "roster": {}}])
    ids = _ids(ws, cid)
    db = ws.db
    for code, status, flags in (("1", "未填写", ["FILL-101"]), ("2", "有错误", ["FILL-102", "SUM-101"]), ("3", "有错误", ["SUM-101"])):
        db.execute("INSERT INTO uploads (campaign_id, unit_id, sha256, original_name, size, uploaded_at, status, total, grade, result)"
                   " VALUES (?,?,?,?,?,?,?,?,?,?)", (cid, ids[code], "0" * 64, "x.xlsx", 1, "2024-01-01", status, 6.3, "差",
                                                      json.dumps({"flags": [{"code": c} for c in flags]})))
    db.execute("DROP TABLE reports")  # schema 3 had none (migration 5 adds it)
    db.execute("PRAGMA user_version = 3")
    db.close()
    ws2 = Workspace(tmp_path / "ws")
    got = {b["code"]: (b["status"], b["total"], b["grade"]) for b in ws2.board(cid)}
    assert got == {"1": ("未完成", None, ""), "2": ("未完成", None, ""), "3": ("有错误", 6.3, "差")}
    assert sqlite3.connect(tmp_path / "ws" / "workspace.sqlite3").execute("PRAGMA user_version").fetchone()[0] == len(store.MIGRATIONS)


@pytest.mark.parametrize("what", ["returns", "compile", "templates", "unit link"])
def test_a_request_that_starts_a_job_answers_with_it_without_waiting(tmp_path, examples, monkeypatch, what):
    """The request that starts a job reads the job once, to show it, and answers: it never polls
    the job for a while first (it used to, for up to 2 s). Counted, not timed: the worker is
    running, so a request that waited would read the job again and again."""
    a = create_app(tmp_path / "ws", workers=1)
    client = a.test_client()
    cid = _campaign(client)
    ws = Workspace(tmp_path / "ws")
    ids = _ids(ws, cid)
    book = _workbook(examples["001_岳阳市档案馆"], tmp_path / "a.xlsx")
    if what in ("compile", "unit link"):
        from selfeval_xl.jobs.checking import check_workbook

        ws.add_upload(cid, ids["430600101"], ws.store(iter([book]), 1 << 24), "a.xlsx", check_workbook(tmp_path / "a.xlsx"))
    link = _issue(client, cid, [ids["430600101"]])["430600101"] if what == "unit link" else None
    token = _csrf_link(client, link, {}) if link else _csrf_any(client, {})
    reads = []
    real = Workspace.job
    me = threading.get_ident()  # the test client runs the request in this thread; the worker has its own
    monkeypatch.setattr(Workspace, "job", lambda self, jid: (threading.get_ident() == me and reads.append(jid)) or real(self, jid))
    if what == "returns":
        r = client.post(f"/c/{cid}/returns", data={"files": [(io.BytesIO(book), "a.xlsx")], "csrf": token},
                        content_type="multipart/form-data")
    elif what == "compile":
        r = client.post(f"/c/{cid}/compile", data={"unit": [ids["430600101"]], "csrf": token})
    elif what == "templates":
        r = client.post(f"/c/{cid}/templates", data={"csrf": token})
    else:
        r = client.post(f"{link}/upload", data={"files": [(io.BytesIO(book), "a.xlsx")], "csrf": token},
                        content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="job"' in page, page[:1000]
    assert len(reads) == 1, reads
    monkeypatch.undo()
    assert 'data-state="done"' in finish(client, client.get(job_url(page))).get_data(as_text=True)


def test_the_templates_zip_is_a_job_with_progress_and_a_download(app, tmp_path):
    client = app.test_client()
    cid = _campaign(client)
    r = client.post(f"/c/{cid}/templates", data={"csrf": _csrf_any(client, {})})
    page = r.get_data(as_text=True)
    assert "生成全部模板" in page and '<span id="job-total">3</span>' in page
    done = finish(client, client.get(job_url(page))).get_data(as_text=True)
    assert '<span id="job-done">3</span>' in done
    z = download(client, client.get(job_url(page)))
    assert "模板.zip" in z.headers["Content-Disposition"].encode("latin-1").decode("utf-8", "replace") or \
        "%E6%A8%A1%E6%9D%BF.zip" in z.headers["Content-Disposition"]
    assert sorted(n.split("_")[0] for n in zipfile.ZipFile(io.BytesIO(z.data)).namelist()) == ["430600101", "430600102", "430611201"]
    # the old address is gone (a GET never starts work); a campaign without a roster has nothing to make
    assert client.get(f"/c/{cid}/templates.zip").status_code in (404, 405)
    empty = client.post("/campaigns", data={"name": "空", "region": "yueyang-2023", "year": "2023", "csrf": _csrf_any(client, {})})
    cid2 = int(empty.headers["Location"].rsplit("/", 1)[-1])
    assert client.post(f"/c/{cid2}/templates", data={"csrf": _csrf_any(client, {})}).status_code == 404


def test_a_region_that_fails_its_proof_fails_the_templates_job_in_words(app, tmp_path, monkeypatch):
    from selfeval_xl.jobs import proving

    def refuse(profile, *a, **k):
        raise proving.RegionRefused("yueyang-2023", ["region.toml 第 3 行 grades：等次界限不是递减的"])

    monkeypatch.setattr(proving, "prove", refuse)
    client = app.test_client()
    cid = _campaign(client)
    r = client.post(f"/c/{cid}/templates", data={"csrf": _csrf_any(client, {})})
    page = finish(client, r).get_data(as_text=True)
    assert 'data-state="failed"' in page and "地区配置未通过检验" in page and "第 3 行" in page
    assert "Traceback" not in page and "内部错误" not in page
