"""Units' reports in the workspace's 回收 (#20): a .docx beside the workbooks is paired with its
unit, checked with the unit's workbook (NARR flags at 报告!第N段) or alone, stored as a version
with its commented copy; an unpairable one is listed, never dropped; a unit's link takes only
its own unit's report; a restart keeps every file; 汇总表 has the report column."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from selfeval_xl.web import reports
from selfeval_xl.web.app import create_app
from selfeval_xl.web.store import Workspace

from .test_web import _post, _workbook, download, finish
from .test_web_units import _campaign, _ids, _issue, _unit_upload

REPORTS = Path(__file__).parent / "fixtures" / "reports"
UNITS = [(1, "430600102", "岳阳市城市建设档案馆"), (2, "430600101", "岳阳市档案馆"),
         (3, "430611201", "岳阳市君山区行政审批服务局")]


@pytest.fixture
def app(tmp_path):
    a = create_app(tmp_path / "ws", workers=1)
    a.config["TESTING"] = True
    return a


def _report(n: str) -> bytes:
    return (REPORTS / f"{n}.docx").read_bytes()


def _upload(client, cid, files):
    r = _post(client, f"/c/{cid}/returns", {"files": [(io.BytesIO(b), n) for n, b in files]},
              content_type="multipart/form-data")
    return finish(client, r)


# -- pairing, drawn inline ------------------------------------------------------------------------

def test_a_report_is_paired_by_its_file_name_before_its_cover():
    head = "430600101_档案馆报告\n2023年度岳阳市城市建设档案馆 整体支出绩效自评报告"
    assert reports.pair(head, UNITS) == ([2], "文件名")
    assert reports.pair("自评报告\n2023年度岳阳市城市建设档案馆", UNITS) == ([1], "封面")
    assert reports.pair("自评报告\n衡阳市住房和城乡建设信息中心", UNITS) == ([], "")


def test_a_name_inside_a_longer_named_unit_does_not_count():
    units = [(1, "001", "财政局"), (2, "002", "君山区财政局")]
    assert reports.pair("x\n君山区财政局 2023年度自评报告", units) == ([2], "封面")
    assert reports.pair("x\n财政局 与 君山区财政局", units)[0] == [2]  # the longer name wins
    assert reports.pair("x\n001 君山区财政局", units)[0] == [1, 2]  # a code is never overruled


def test_assign_says_why_a_report_has_no_unit():
    got = reports.assign(["报告\n衡阳市某中心", "两个\n岳阳市档案馆 岳阳市城市建设档案馆"], ["a.docx", "b.docx"], UNITS, [2])
    assert got[0][0] is None and "找不到名册中任何单位" in got[0][1] and got[0][1].startswith("a.docx：")
    assert got[1][0] is None and "同时提到" in got[1][1]
    # one workbook and one report in an upload go together, as the CLI pairs a folder of two
    assert reports.assign(["报告\n没有名字"], ["r.docx"], UNITS, [2]) == [(2, "与同时上传的唯一一个工作簿对应")]
    # a unit's link: its own unit, unless the report names another unit only
    assert reports.assign(["报告\n没有名字"], ["r.docx"], UNITS, [], only_unit=2) == [(2, "")]
    uid, why = reports.assign(["报告\n2023年度岳阳市城市建设档案馆"], ["r.docx"], UNITS, [], only_unit=2)[0]
    assert uid is None and "不是本单位（岳阳市档案馆，430600101）" in why and "岳阳市城市建设档案馆" in why


# -- through the workspace -------------------------------------------------------------------------

def test_an_upload_pairs_each_report_with_its_unit_and_lists_the_unpairable(app, tmp_path, examples):
    client = app.test_client()
    cid = _campaign(client)
    book = _workbook(examples["001_岳阳市档案馆"], tmp_path / "b.xlsx")
    r = _upload(client, cid, [("430600101_档案馆.xlsx", book), ("岳阳市档案馆自评报告.docx", _report("001")),
                              ("报告.docx", _report("000")), ("别的报告.docx", _report("003"))])
    page = r.get_data(as_text=True)
    assert "已校验 4 个文件" in page, page[:3000]
    assert "别的报告.docx" in page and "找不到名册中任何单位" in page  # listed with the reason

    ws = Workspace(tmp_path / "ws")
    board = {b["code"]: b for b in ws.board(cid)}
    archive = board["430600101"]
    assert archive["report_id"] and archive["report_name"] == "岳阳市档案馆自评报告.docx"
    rep = ws.report(archive["report_id"])
    assert rep["upload_id"] == archive["upload_id"]  # checked with the workbook of the same upload
    import json

    flags = json.loads(rep["result"])["flags"]
    narr = [f for f in flags if f["code"].startswith("NARR") and f["location"].startswith("报告!第")]
    assert narr, [f["code"] + " " + f["location"] for f in flags]
    assert all(reports.on_report(f) for f in flags)  # the workbook's own flags stay with the workbook
    assert rep["errors"] + rep["warnings"] == sum(f["severity"] != "info" for f in flags) > 0

    # the city-construction archive has no workbook yet: its report is checked alone
    alone = ws.report(board["430600102"]["report_id"])
    assert alone["upload_id"] is None and '"RPT-202"' in alone["result"]
    assert board["430611201"]["report_id"] is None
    lost = ws.unmatched_reports(cid)
    assert [x["original_name"] for x in lost] == ["别的报告.docx"] and "找不到" in lost[0]["reason"]

    # the board, the unit page and the commented copy
    page = client.get(f"/c/{cid}").get_data(as_text=True)
    assert "报告（问题数）" in page and f"有（{rep['errors'] + rep['warnings']}）" in page and "别的报告.docx" in page
    unit = client.get(f"/c/{cid}/u/{archive['id']}").get_data(as_text=True)
    assert "岳阳市档案馆自评报告.docx" in unit and narr[0]["location"] in unit and "与第 1 版工作簿一起校验" in unit
    got = client.get(f"/c/{cid}/r/{rep['id']}/annotated.docx")
    assert got.status_code == 200
    with zipfile.ZipFile(io.BytesIO(got.data)) as z:
        comments = z.read("word/comments.xml").decode("utf-8")
    assert narr[0]["code"] in comments
    assert client.get(f"/c/{cid}/r/{rep['id']}/original").data == _report("001")


def test_a_units_link_cannot_upload_a_report_of_another_unit(app, tmp_path, examples):
    client = app.test_client()
    cid = _campaign(client)
    ids = _ids(Workspace(tmp_path / "ws"), cid)
    link = _issue(client, cid, [ids["430600101"]])["430600101"]
    page = _unit_upload(client, link, [("我们的报告.docx", _report("000"))]).get_data(as_text=True)
    assert "不是本单位" in page and "岳阳市城市建设档案馆" in page, page[:3000]
    ws = Workspace(tmp_path / "ws")
    assert ws.reports_of(ids["430600101"]) == [] and ws.reports_of(ids["430600102"]) == []
    assert ws.unmatched_reports(cid) == []  # refused, not filed under anyone

    # its own: workbook and report in one upload, the report checked with the workbook
    book = _workbook(examples["001_岳阳市档案馆"], tmp_path / "b.xlsx")
    page = _unit_upload(client, link, [("表.xlsx", book), ("报告.docx", _report("001"))]).get_data(as_text=True)
    assert "与本次上传的工作簿一起校验" in page, page[:3000]
    (rep,) = ws.reports_of(ids["430600101"])
    assert rep["upload_id"] == ws.uploads_of(ids["430600101"])[0]["id"]
    home = client.get(link).get_data(as_text=True)
    assert 'id="report-flags"' in home and "报告!第" in home and "已与第 1 版工作簿核对" in home
    assert client.get(f"{link}/r/{rep['id']}/annotated.docx").status_code == 200

    # another unit's link sees none of it
    other = _issue(client, cid, [ids["430600102"]])["430600102"]
    assert client.get(f"{other}/r/{rep['id']}/annotated.docx").status_code == 404
    assert "报告.docx" not in client.get(other).get_data(as_text=True)


def test_a_report_alone_is_checked_with_the_units_latest_workbook(app, tmp_path, examples):
    """The workbook first, the report in a later upload: checked with the stored latest version."""
    client = app.test_client()
    cid = _campaign(client)
    _upload(client, cid, [("a.xlsx", _workbook(examples["001_岳阳市档案馆"], tmp_path / "b.xlsx"))])
    page = _upload(client, cid, [("430600101 报告.docx", _report("001"))]).get_data(as_text=True)
    assert "与该单位最新一版工作簿一起校验" in page, page[:3000]
    ws = Workspace(tmp_path / "ws")
    b = {x["code"]: x for x in ws.board(cid)}["430600101"]
    assert ws.report(b["report_id"])["upload_id"] == b["upload_id"]


def test_a_report_sent_first_is_checked_again_when_the_workbook_comes(app, tmp_path, examples):
    """Report first (checked alone), workbook later without it: the same report, no new version,
    now checked with the workbook — its text against the figures (NARR at 报告!第N段)."""
    client = app.test_client()
    cid = _campaign(client)
    _upload(client, cid, [("岳阳市档案馆报告.docx", _report("001"))])
    ws = Workspace(tmp_path / "ws")
    uid = _ids(ws, cid)["430600101"]
    (before,) = ws.reports_of(uid)
    assert before["upload_id"] is None and '"NARR-' not in before["result"]
    page = _upload(client, cid, [("a.xlsx", _workbook(examples["001_岳阳市档案馆"], tmp_path / "b.xlsx"))]).get_data(as_text=True)
    assert "已校验 1 个文件" in page and "已与本次上传的工作簿重新核对" in page, page[:3000]
    (after,) = ws.reports_of(uid)
    assert after["id"] == before["id"] and after["upload_id"] == ws.uploads_of(uid)[0]["id"]
    assert '"NARR-' in after["result"] and "报告!第" in after["result"]


def test_a_restart_keeps_the_report_and_its_commented_copy(tmp_path, examples):
    a = create_app(tmp_path / "ws", workers=1)
    client = a.test_client()
    cid = _campaign(client)
    _upload(client, cid, [("岳阳市档案馆报告.docx", _report("001"))])
    rid = Workspace(tmp_path / "ws").reports_of(_ids(Workspace(tmp_path / "ws"), cid)["430600101"])[0]["id"]
    a.extensions["selfeval_jobs"].stop()

    b = create_app(tmp_path / "ws", workers=1)  # a new start sweeps files no row names
    try:
        ws = Workspace(tmp_path / "ws")
        rep = ws.report(rid)
        assert ws.path_of(rep["sha256"]).read_bytes() == _report("001")
        assert rep["copy_sha256"] and ws.path_of(rep["copy_sha256"]).is_file()
        c = b.test_client()
        assert c.get(f"/c/{cid}/r/{rid}/original").data == _report("001")
        assert c.get(f"/c/{cid}/r/{rid}/annotated.docx").data[:2] == b"PK"
    finally:
        b.extensions["selfeval_jobs"].stop()


def test_the_compiled_summary_has_the_report_column(app, tmp_path, examples):
    client = app.test_client()
    cid = _campaign(client)
    book = _workbook(examples["001_岳阳市档案馆"], tmp_path / "b.xlsx")
    _upload(client, cid, [("a.xlsx", book), ("430600101_报告.docx", _report("001"))])
    ws = Workspace(tmp_path / "ws")
    b = {x["code"]: x for x in ws.board(cid)}["430600101"]
    rep = ws.report(b["report_id"])
    z = zipfile.ZipFile(io.BytesIO(download(client, _post(client, f"/c/{cid}/compile", {"unit": [b["id"]]})).data))
    wb = load_workbook(io.BytesIO(z.read("汇总表.xlsx")))
    cells = [c.value for row in wb.worksheets[0].iter_rows() for c in row if isinstance(c.value, str)]
    assert any(v.replace("\n", "") == "单位报告（问题数）" for v in cells), cells[:40]
    assert f"430600101_报告.docx（{rep['errors'] + rep['warnings']}）" in cells
    assert any(n.startswith("单位报告批注/") and n.endswith("_批注.docx") for n in z.namelist())


def test_a_doc_without_libreoffice_is_said_in_words(app, tmp_path, monkeypatch):
    """A .doc needs LibreOffice; without it the report is kept, and the page says what to do."""
    import selfeval_xl.files.libreoffice as lo

    monkeypatch.setattr(lo, "soffice_path", lambda: None)
    client = app.test_client()
    cid = _campaign(client)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000  # an OLE compound file's signature
    page = _upload(client, cid, [("430600101_报告.doc", ole)]).get_data(as_text=True)
    assert "需要 LibreOffice" in page and "另存为 .docx" in page, page[:3000]
    ws = Workspace(tmp_path / "ws")
    (rep,) = ws.reports_of(_ids(ws, cid)["430600101"])
    assert rep["status"] == "无法读取" and ws.path_of(rep["sha256"]).read_bytes() == ole


def test_a_doc_and_a_pdf_report_are_read_through_libreoffice_and_pdftotext(app, tmp_path, examples, soffice):
    """A .doc is converted to be read (and its comments go on the converted .docx); a PDF is read
    from its text layer and has no commented copy — said on the unit page."""
    from selfeval_xl.files.libreoffice import convert_each

    src = tmp_path / "src"
    src.mkdir()
    for n, name in (("001", "430600101_报告.docx"), ("000", "城建自评报告.docx")):
        (src / name).write_bytes(_report(n))
    (doc,), failed = convert_each([src / "430600101_报告.docx"], tmp_path / "doc", "doc")
    (pdf,), failed2 = convert_each([src / "城建自评报告.docx"], tmp_path / "pdf", "pdf")
    assert not failed and not failed2
    client = app.test_client()
    cid = _campaign(client)
    book = _workbook(examples["001_岳阳市档案馆"], tmp_path / "b.xlsx")
    page = _upload(client, cid, [("a.xlsx", book), (doc.name, doc.read_bytes()), (pdf.name, pdf.read_bytes())]).get_data(as_text=True)
    assert "已校验 3 个文件" in page and ">未匹配</span>" not in page, page[:3000]
    ws = Workspace(tmp_path / "ws")
    board = {b["code"]: b for b in ws.board(cid)}
    rdoc, rpdf = ws.report(board["430600101"]["report_id"]), ws.report(board["430600102"]["report_id"])
    assert rdoc["original_name"].endswith(".doc") and rdoc["upload_id"] == board["430600101"]["upload_id"]
    assert '"NARR-' in rdoc["result"] and rdoc["copy_sha256"]
    got = client.get(f"/c/{cid}/r/{rdoc['id']}/annotated.docx")
    assert got.headers["Content-Disposition"].endswith(".docx") or "docx" in got.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(got.data)) as z:
        assert "NARR-" in z.read("word/comments.xml").decode("utf-8")
    assert rpdf["original_name"].endswith(".pdf") and rpdf["status"] != "无法读取" and not rpdf["copy_sha256"]
    unit = client.get(f"/c/{cid}/u/{board['430600102']['id']}").get_data(as_text=True)
    assert "PDF 报告无法加批注" in unit and 'id="report-annotated-link"' not in unit


def test_the_zip_of_annotated_copies_holds_the_units_commented_report(app, tmp_path, examples):
    client = app.test_client()
    cid = _campaign(client)
    book = _workbook(examples["001_岳阳市档案馆"], tmp_path / "b.xlsx")
    _upload(client, cid, [("a.xlsx", book), ("430600101_报告.docx", _report("001"))])
    uid = _ids(Workspace(tmp_path / "ws"), cid)["430600101"]
    r = _post(client, f"/c/{cid}/bulk", {"action": "annotated", "unit": [uid]})
    names = zipfile.ZipFile(io.BytesIO(download(client, r).data)).namelist()
    assert any(n.endswith("_批注.xlsx") for n in names) and any(n.endswith("_报告_批注.docx") for n in names), names


# -- an unmatched report given its unit by hand ------------------------------------------------------

def test_the_unit_for_a_report_is_found_as_the_boards_search_finds_it():
    assert reports.find_unit(UNITS, "430600101 岳阳市档案馆") == (2, [UNITS[1]])  # picked from the list
    assert reports.find_unit(UNITS, " 430600101 ")[0] == 2  # a code typed
    assert reports.find_unit(UNITS, "岳阳市档案馆")[0] == 2  # a whole name, though inside another's
    assert reports.find_unit(UNITS, "君山")[0] == 3  # part of one name
    uid, hits = reports.find_unit(UNITS, "档案馆")  # part of two names: which one is not guessed
    assert uid is None and {h[0] for h in hits} == {1, 2}
    assert reports.find_unit(UNITS, "衡阳") == (None, [])
    assert reports.find_unit(UNITS, "   ") == (None, [])


def test_an_unmatched_report_is_given_its_unit_and_checked_with_its_latest_workbook(app, tmp_path, examples):
    client = app.test_client()
    cid = _campaign(client)
    _upload(client, cid, [("a.xlsx", _workbook(examples["001_岳阳市档案馆"], tmp_path / "b.xlsx"))])
    page = _upload(client, cid, [("别的报告.docx", _report("003"))]).get_data(as_text=True)
    ws = Workspace(tmp_path / "ws")
    (lost,) = ws.unmatched_reports(cid)
    rid, upload_jid = lost["id"], int(re.search(r"/jobs/(\d+)", page).group(1))
    # the upload's page and the board offer the roster to choose from
    for url in (f"/c/{cid}/jobs/{upload_jid}", f"/c/{cid}"):
        text = client.get(url).get_data(as_text=True)
        assert f'id="assign-{rid}"' in text and '<datalist id="roster-units">' in text, url
        assert '<option value="430600101 岳阳市档案馆">' in text
    # a choice that is no unit, or more than one, is said and changes nothing
    for typed, said in (("衡阳", "名册中没有"), ("档案馆", "有 2 个。请点选其中一个"), ("", "请输入")):
        r = _post(client, f"/c/{cid}/r/{rid}/assign", {"unit": typed})
        assert r.status_code == 400 and said in r.get_data(as_text=True), typed
    # the two candidates are one click each, by code
    choices = r"<button class=\"secondary\">(\d+) [^<]+</button>"
    page = _post(client, f"/c/{cid}/r/{rid}/assign", {"unit": "档案馆"}).get_data(as_text=True)
    assert sorted(re.findall(choices, page)) == ["430600101", "430600102"]
    assert page.count('name="unit" value="4306001') == 2
    assert ws.report(rid)["unit_id"] is None and ws.db.execute("SELECT COUNT(*) FROM jobs WHERE kind = 'assign_report'").fetchone()[0] == 0

    page = finish(client, _post(client, f"/c/{cid}/r/{rid}/assign", {"unit": "430600101 岳阳市档案馆", "job": upload_jid})).get_data(as_text=True)
    assert "指定所属单位的报告" in page and "已指定为该单位的报告：与该单位最新一版工作簿一起校验" in page, page[:3000]
    uid = _ids(ws, cid)["430600101"]
    rep = ws.report(rid)
    assert rep["unit_id"] == uid and rep["upload_id"] == ws.uploads_of(uid)[0]["id"]
    assert rep["status"] != reports.UNPAIRED and rep["assigned_at"] and rep["copy_sha256"]
    result = json.loads(rep["result"])
    assert result["with_workbook"] and any(f["location"].startswith("报告!") for f in result["flags"])
    assert ws.unmatched_reports(cid) == []
    board = client.get(f"/c/{cid}").get_data(as_text=True)
    assert 'id="unmatched"' not in board and "别的报告.docx" in board  # now the unit's report
    unit = client.get(f"/c/{cid}/u/{uid}").get_data(as_text=True)
    assert 'id="report-assigned"' in unit and "指定为本单位的报告" in unit and "与第 1 版工作簿一起校验" in unit
    # the upload's page says where it went; a second assignment (another tab) changes nothing
    text = client.get(f"/c/{cid}/jobs/{upload_jid}").get_data(as_text=True)
    assert f'id="assign-{rid}"' not in text and "已指定到" in text and "430600101 岳阳市档案馆" in text
    r = _post(client, f"/c/{cid}/r/{rid}/assign", {"unit": "430611201"})
    assert r.status_code == 400 and "已对应到" in r.get_data(as_text=True)
    assert ws.report(rid)["unit_id"] == uid


def test_two_assignments_at_once_the_first_stands(app, tmp_path):
    """Two tabs assign the same report: both jobs run; the second finds it taken and says so."""
    from selfeval_xl.web import work

    client = app.test_client()
    cid = _campaign(client)
    _upload(client, cid, [("别的报告.docx", _report("003"))])
    ws = Workspace(tmp_path / "ws")
    (lost,) = ws.unmatched_reports(cid)
    ids = _ids(ws, cid)
    first = work.assign_report(ws, cid, lost["id"], ids["430600102"], workers=1, user="甲")
    second = work.assign_report(ws, cid, lost["id"], ids["430600101"], workers=1, user="乙")
    assert first["unit_id"] == ids["430600102"] and "只按报告本身校验" in first["reason"]
    assert second["status"] == reports.NOT_ASSIGNED and "岳阳市城市建设档案馆" in second["reason"]
    rep = ws.report(lost["id"])
    assert rep["unit_id"] == ids["430600102"] and rep["assigned_by"] == "甲"


# -- progress while covers are read ---------------------------------------------------------------------

def test_reading_report_covers_moves_the_jobs_bar_with_its_phase(app, tmp_path, examples):
    from selfeval_xl.web import work

    client = app.test_client()
    cid = _campaign(client)
    ws = Workspace(tmp_path / "ws")
    files = [("a.xlsx", _workbook(examples["001_岳阳市档案馆"], tmp_path / "b.xlsx")),
             ("430600101_报告.docx", _report("001")), ("城建报告.docx", _report("000")), ("别的.docx", _report("003"))]
    items = [(ws.store(iter([b]), 1 << 26).sha256, n, len(b)) for n, b in files]
    assert reports.job_steps(items) == 7  # a workbook, and three reports twice (cover, check)
    seen = []
    work.check_upload(ws, cid, items, workers=1, progress=lambda done, phase=None: seen.append((done, phase)))
    assert (1, "正在校验工作簿 1/1") in seen
    covers = [s for s in seen if s[1] and s[1].startswith("正在读取报告封面")]
    assert covers == [(2, "正在读取报告封面 1/3"), (3, "正在读取报告封面 2/3"), (4, "正在读取报告封面 3/3")]
    checks = [s for s in seen if s[1] and s[1].startswith("正在校验报告")]
    assert checks[-1] == (6, "正在校验报告 2/2")  # the unpairable one is not checked
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)  # never backwards

    # the job page shows the phase and a bar that has moved
    r = _post(client, f"/c/{cid}/returns", {"files": [(io.BytesIO(b), n) for n, b in files]},
              content_type="multipart/form-data")
    jid = int(re.search(r"/jobs/(\d+)", r.get_data(as_text=True)).group(1))
    finish(client, r)
    job = ws.job(jid)
    assert job["total"] == 7
    ws.db.execute("UPDATE jobs SET state = 'running', done = 3, message = '正在读取报告封面 2/3' WHERE id = ?", (jid,))
    page = client.get(f"/c/{cid}/jobs/{jid}").get_data(as_text=True)
    assert '<p class="phase" id="job-phase">正在读取报告封面 2/3</p>' in page and "width: 43%" in page
    assert "共 4 个文件；每份报告计两步" in page


# -- a .doc converted once ------------------------------------------------------------------------------

def test_a_doc_is_converted_once_for_its_cover_and_its_checks(app, tmp_path, examples, monkeypatch):
    """LibreOffice (counted, stood in for by a copy of a .docx) runs once per stored .doc: its
    cover is read to pair it, then it is checked, then checked again when a new workbook comes —
    all from the conversion kept beside the stored file."""
    import selfeval_xl.files.libreoffice as lo

    calls = []

    def convert_each(files, outdir, target, per_file=60, startup=30):
        calls.append([Path(f).name for f in files])
        out = Path(outdir) / (Path(files[0]).stem + "." + target)
        out.write_bytes(_report("001"))
        return [out], {}

    monkeypatch.setattr(lo, "convert_each", convert_each)
    client = app.test_client()
    cid = _campaign(client)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000  # read as a .doc: through the converter
    book = _workbook(examples["001_岳阳市档案馆"], tmp_path / "b.xlsx")
    page = _upload(client, cid, [("a.xlsx", book), ("岳阳市档案馆报告.doc", ole)]).get_data(as_text=True)
    assert "与本次上传的工作簿一起校验" in page, page[:3000]
    assert calls == [["岳阳市档案馆报告.doc"]]
    ws = Workspace(tmp_path / "ws")
    uid = _ids(ws, cid)["430600101"]
    (rep,) = ws.reports_of(uid)
    assert '"NARR-' in rep["result"] and rep["copy_sha256"]  # read and commented from the conversion
    kept = ws.path_of(rep["sha256"]).with_suffix(".docx")
    assert kept.read_bytes() == _report("001")
    # a new workbook without its report: the stored .doc checked again, not converted again
    fixed = examples["001_岳阳市档案馆"].model_copy(update={"stated": {}})
    page = _upload(client, cid, [("a2.xlsx", _workbook(fixed, tmp_path / "c.xlsx"))]).get_data(as_text=True)
    assert "已与本次上传的工作簿重新核对" in page and len(calls) == 1
    # a kept conversion found damaged is made again, and replaced
    kept.write_bytes(b"not a zip")
    _upload(client, cid, [("a3.xlsx", _workbook(examples["001_岳阳市档案馆"], tmp_path / "d.xlsx"))])
    assert len(calls) == 2 and kept.read_bytes() == _report("001")
    # a restart keeps the conversion with its file; one no row names goes
    orphan = ws.path_of("ab" * 32).with_suffix(".docx")
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"PK")
    Workspace(tmp_path / "ws")
    assert kept.is_file() and not orphan.exists()


# -- what a coordinator trips on, found walking every page ------------------------------------------------

def test_empty_pages_say_what_to_do_and_lists_put_errors_first(app, tmp_path, examples):
    from selfeval_xl.web.app import errors_first, figure

    client = app.test_client()
    r = _post(client, "/campaigns", {"name": "空任务", "region": "yueyang-2023", "year": "2023"})
    empty = int(r.headers["Location"].rsplit("/", 1)[-1])
    assert "还没有单位。请先在上面“1. 名册与模板”中上传名册" in client.get(f"/c/{empty}").get_data(as_text=True)
    late = client.get(f"/c/{empty}/late").get_data(as_text=True)
    assert "本任务还没有名册" in late and "都已交回" not in late
    dash = client.get(f"/c/{empty}/dashboard").get_data(as_text=True)
    assert 'id="charts-empty"' in dash and "<svg" not in dash

    cid = _campaign(client)
    assert "没有符合条件的单位（搜索“衡阳”）" in client.get(f"/c/{cid}?q=衡阳").get_data(as_text=True)
    assert "3 个单位都还没有交回工作簿" in client.get(f"/c/{cid}/dashboard").get_data(as_text=True)
    book = _workbook(examples["001_岳阳市档案馆"], tmp_path / "b.xlsx")
    page = _upload(client, cid, [("a.xlsx", book), ("坏.xlsx", book[:3000])]).get_data(as_text=True)
    assert "坏.xlsx：文件已损坏或不完整" in page and "zip file" not in page  # zipfile's English stays out
    uid = _ids(Workspace(tmp_path / "ws"), cid)["430600101"]
    unit = client.get(f"/c/{cid}/u/{uid}").get_data(as_text=True)
    shown = re.findall(r'<span class="status s-(error|warning|info)">', unit.split('id="flags"', 1)[1].split("</table>", 1)[0])
    assert shown == sorted(shown, key=["error", "warning", "info"].index) and "error" in shown and "info" in shown

    # the version diff: figures as read (160, not 160.0), a formula cell no longer stated said so, not blank
    fixed = examples["001_岳阳市档案馆"].model_copy(update={"stated": {
        k: v for k, v in examples["001_岳阳市档案馆"].stated.items() if not k.startswith("projects[4].basic")}})
    _upload(client, cid, [("a2.xlsx", _workbook(fixed, tmp_path / "c.xlsx"))])
    changes = client.get(f"/c/{cid}/u/{uid}").get_data(as_text=True).split('id="changes"', 1)[1].split("</table>", 1)[0]
    assert "<td>160</td>" in changes and "160.0" not in changes and "公式计算" in changes, changes

    flags = [{"severity": s, "code": c} for s, c in (("info", "A"), ("error", "B"), ("warning", "C"), ("error", "D"))]
    assert [f["code"] for f in errors_first(flags)] == ["B", "D", "C", "A"]
    assert [figure(v) for v in (160.0, 158.5, 0.1 + 0.2, None, "≥96%", 7)] == ["160", "158.5", "0.3", "", "≥96%", "7"]
