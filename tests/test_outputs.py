"""Outputs and inputs as coordinators really leave them: folders that already hold returned
files, roster codes that collide as file names, a disk that fills up, a run that was killed,
our own results inside the folder being checked, names from a Windows archive."""

from __future__ import annotations

import errno
import json
import os
import stat

import openpyxl
import pytest
from typer.testing import CliRunner

from selfeval_xl.cli import app
from selfeval_xl.core.model import Department
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.files.roster import RosterError, read_roster
from selfeval_xl.xlsx.write import write_workbook

from .conftest import EXAMPLES

P = get_profile("yueyang-2023")
runner = CliRunner()


def _roster(tmp_path, rows, name="名册.csv"):
    path = tmp_path / name
    path.write_text("单位编码,单位名称,项目名称\n" + "\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _no_traceback(res):
    assert "Traceback" not in res.output and res.exception is None or isinstance(res.exception, SystemExit), res.output


# -- generate never overwrites; names are unique and fit -------------------------------------

def test_generate_refuses_to_overwrite_a_returned_workbook(tmp_path):
    roster = _roster(tmp_path, [("001", "甲单位", "")])
    out = tmp_path / "模板"
    assert runner.invoke(app, ["generate", str(roster), "-o", str(out), "--year", "2023"]).exit_code == 0
    returned = next(out.glob("*.xlsx"))
    returned.write_bytes(b"a clerk's filled workbook")
    res = runner.invoke(app, ["generate", str(roster), "-o", str(out), "--year", "2023"])
    assert res.exit_code == 2 and returned.name in res.output and "--force" in res.output
    assert returned.read_bytes() == b"a clerk's filled workbook"
    res = runner.invoke(app, ["generate", str(roster), "-o", str(out), "--year", "2023", "--force"])
    assert res.exit_code == 0 and returned.read_bytes().startswith(b"PK")


def test_codes_that_collide_as_file_names_get_two_files(tmp_path):
    roster = _roster(tmp_path, [("a/b", "同名单位", ""), ("a_b", "同名单位", ""), ("A_B", "同名单位", "")])
    out = tmp_path / "模板"
    res = runner.invoke(app, ["generate", str(roster), "-o", str(out), "--year", "2023"])
    assert res.exit_code == 0, res.output
    files = sorted(p.name for p in out.glob("*.xlsx"))
    assert len(files) == 3 and len({f.casefold() for f in files}) == 3
    assert "文件名与另一单位相同" in res.output


def test_a_long_unit_name_fits_the_file_system(tmp_path):
    name = "岳阳市" + "某某" * 40 + "服务中心"  # 88 characters, 264 bytes in UTF-8
    roster = _roster(tmp_path, [("001", name, "")])
    out = tmp_path / "模板"
    res = runner.invoke(app, ["generate", str(roster), "-o", str(out), "--year", "2023"])
    assert res.exit_code == 0, res.output
    f = next(out.glob("*.xlsx"))
    assert len(f.name.encode("utf-8")) <= 255
    wb = openpyxl.load_workbook(f)
    assert name in [c.value for row in wb["_meta"].iter_rows() for c in row]  # the metadata keeps the whole name


def test_header_only_roster_is_an_error(tmp_path):
    res = runner.invoke(app, ["generate", str(_roster(tmp_path, [])), "-o", str(tmp_path / "o"), "--year", "2023"])
    assert res.exit_code == 2 and "只有表头" in res.output
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_control_character_in_a_name_is_said_in_chinese(tmp_path):
    roster = _roster(tmp_path, [("001", "甲\x07单位", "")])
    res = runner.invoke(app, ["generate", str(roster), "-o", str(tmp_path / "o"), "--year", "2023"])
    assert res.exit_code == 2 and "控制字符" in res.output and "第 2 行" in res.output
    _no_traceback(res)


def test_xlsx_roster_codes_are_text(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["单位编码", "单位名称", "项目名称"])
    ws.append([12, "甲单位", ""])
    ws["A2"].number_format = "0000"
    ws.append(["430600000000000789", "乙单位", ""])  # typed as text: kept whole
    path = tmp_path / "名册.xlsx"
    wb.save(path)
    assert [u.code for u in read_roster(path, P)] == ["0012", "430600000000000789"]
    ws.append([430600000000000789, "丙单位", ""])  # typed as a number: Excel kept 15 digits
    wb.save(path)
    with pytest.raises(RosterError, match="15 位"):
        read_roster(path, P)


# -- the user's environment: clear messages, exit 2, nothing half-written ----------------------

@pytest.mark.parametrize("err, words", [(PermissionError(errno.EACCES, "Permission denied"), "没有权限"),
                                        (OSError(errno.ENOSPC, "No space left on device"), "磁盘空间不足")])
def test_os_errors_are_the_users_environment_not_a_bug(tmp_path, monkeypatch, err, words):
    import selfeval_xl.files.outputs as outputs

    src = write_workbook(Department.model_validate_json(
        (EXAMPLES / "data" / "001_岳阳市档案馆.json").read_text(encoding="utf-8")), P, tmp_path / "in" / "a.xlsx")

    def fail(*a, **k):
        raise err

    monkeypatch.setattr(outputs.tempfile, "mkstemp", fail)
    for args in (["check", str(src), "-o", str(tmp_path / "c")],
                 ["extract", str(src), "-o", str(tmp_path / "x.json")],
                 ["annotate", str(src), "-o", str(tmp_path / "a.xlsx")],
                 ["report", str(src), "-o", str(tmp_path / "r")],
                 ["generate", str(_roster(tmp_path, [("001", "甲", "")])), "-o", str(tmp_path / "g"), "--year", "2023"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert words in res.output and "内部错误" not in res.output, (args, res.output)
        _no_traceback(res)


def test_output_that_is_a_file_or_the_input_folder(tmp_path):
    src = tmp_path / "in"
    write_workbook(Department.model_validate_json(
        (EXAMPLES / "data" / "001_岳阳市档案馆.json").read_text(encoding="utf-8")), P, src / "a.xlsx")
    res = runner.invoke(app, ["check", str(src), "-o", str(src)])
    assert res.exit_code == 2 and "就是输入文件夹" in res.output
    (tmp_path / "f").write_text("x")
    res = runner.invoke(app, ["check", str(src), "-o", str(tmp_path / "f")])
    assert res.exit_code == 2 and "是一个文件" in res.output
    res = runner.invoke(app, ["extract", str(src / "a.xlsx"), "-o", str(src)])
    assert res.exit_code == 2 and "文件夹" in res.output
    for cmd in ("extract", "annotate"):
        existing = tmp_path / f"{cmd}.out"
        existing.write_text("keep me")
        res = runner.invoke(app, [cmd, str(src / "a.xlsx"), "-o", str(existing)])
        assert res.exit_code == 2 and "--force" in res.output and existing.read_text() == "keep me"
        assert runner.invoke(app, [cmd, str(src / "a.xlsx"), "-o", str(existing), "--force"]).exit_code in (0, 1)
        assert existing.read_bytes() != b"keep me"


def test_stale_temp_files_are_cleared_and_outputs_are_shared_readable(tmp_path):
    src = write_workbook(Department.model_validate_json(
        (EXAMPLES / "data" / "001_岳阳市档案馆.json").read_text(encoding="utf-8")), P, tmp_path / "in" / "a.xlsx")
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".~selfeval-99999999-abc.xlsx"  # left by a run that was killed
    stale.write_bytes(b"half")
    old = os.umask(0o022)
    try:
        res = runner.invoke(app, ["check", str(src), "-o", str(out)])
    finally:
        os.umask(old)
    assert res.exit_code == 1, res.output
    assert not stale.exists()
    for f in ("汇总表.xlsx", "summary.json"):
        assert stat.S_IMODE((out / f).stat().st_mode) == 0o644, f


# -- what a folder holds ------------------------------------------------------------------------

def test_every_other_file_in_a_folder_is_listed_with_what_to_do(tmp_path):
    src = tmp_path / "回收"
    write_workbook(Department.model_validate_json(
        (EXAMPLES / "data" / "001_岳阳市档案馆.json").read_text(encoding="utf-8")), P, src / "a.xlsx")
    for name in ("旧版.xls", "报告.pdf", "报告.docx", "表.et", "文字.wps", "压缩.zip"):
        (src / name).write_bytes(b"x")
    (src / "~$a.xlsx").write_bytes(b"lock")  # Excel's lock file: not a return
    (src / ".DS_Store").write_bytes(b"x")
    res = runner.invoke(app, ["check", str(src), "-o", str(tmp_path / "o")])
    assert res.exit_code == 2
    files = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))["files"]
    assert set(files) == {"a.xlsx", "旧版.xls", "报告.pdf", "报告.docx", "表.et", "文字.wps", "压缩.zip"}
    assert "另存为" in files["旧版.xls"]["reason"] and "另存为" in files["表.et"]["reason"]
    assert "解压" in files["压缩.zip"]["reason"]
    # reports are read now (issue #19): a broken one says it cannot be read and what to send instead
    assert "无法读取" in files["报告.pdf"]["reason"] and ".docx" in files["报告.pdf"]["reason"]
    assert all(files[n]["status"] == "无法读取" for n in files if n != "a.xlsx")


def test_results_inside_the_input_folder_are_not_read_back(tmp_path):
    src = tmp_path / "回收"
    for name in ("001_岳阳市档案馆", "002_岳阳市君山区行政审批服务局"):
        write_workbook(Department.model_validate_json(
            (EXAMPLES / "data" / f"{name}.json").read_text(encoding="utf-8")), P, src / f"{name}.xlsx")
    first = runner.invoke(app, ["check", str(src), "-o", str(src / "结果"), "--annotate"])
    assert first.exit_code == 1, first.output
    assert list((src / "结果" / "批注").glob("*.xlsx"))
    for cmd, out in (("check", tmp_path / "again"), ("report", tmp_path / "reports")):
        res = runner.invoke(app, [cmd, str(src), "-o", str(out)])
        assert res.exit_code in (0, 1), res.output
    files = json.loads((tmp_path / "again" / "summary.json").read_text(encoding="utf-8"))["files"]
    assert sorted(files) == ["001_岳阳市档案馆.xlsx", "002_岳阳市君山区行政审批服务局.xlsx"]
    assert len(list((tmp_path / "reports").glob("*.docx"))) == 2


def test_a_file_name_from_a_windows_archive(tmp_path):
    src = tmp_path / "回收"
    src.mkdir()
    good = write_workbook(Department.model_validate_json(
        (EXAMPLES / "data" / "001_岳阳市档案馆.json").read_text(encoding="utf-8")), P, tmp_path / "a.xlsx")
    raw = os.fsencode(str(src)) + b"/" + "测试单位".encode("gb18030") + b".xlsx"  # not UTF-8
    with open(raw, "wb") as f:
        f.write(good.read_bytes())
    res = runner.invoke(app, ["check", str(src), "-o", str(tmp_path / "o")])
    assert res.exit_code == 1, res.output
    files = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))["files"]
    assert list(files) == ["测试单位.xlsx"]
    assert openpyxl.load_workbook(tmp_path / "o" / "汇总表.xlsx")["汇总"]["A3"].value.endswith("测试单位.xlsx")


# -- statuses a batch must not pass silently -------------------------------------------------------

def test_a_blank_template_is_not_a_pass(tmp_path):
    roster = _roster(tmp_path, [("001", "甲单位", "项目一")])
    runner.invoke(app, ["generate", str(roster), "-o", str(tmp_path / "t"), "--year", "2023"])
    res = runner.invoke(app, ["check", str(tmp_path / "t"), "-o", str(tmp_path / "o")])
    assert res.exit_code == 1, res.output
    entry = next(iter(json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))["files"].values()))
    assert entry["status"] == "未填写" and "FILL-101" in {f["code"] for f in entry["flags"]}


def test_a_workbook_of_another_year_in_the_batch_is_said(tmp_path):
    base = Department.model_validate_json((EXAMPLES / "data" / "001_岳阳市档案馆.json").read_text(encoding="utf-8"))
    src = tmp_path / "回收"
    for i in range(3):
        write_workbook(base.model_copy(update={"code": f"00{i}"}), P, src / f"00{i}.xlsx")
    write_workbook(base.model_copy(update={"code": "009", "year": 2022}), P, src / "009.xlsx")
    runner.invoke(app, ["check", str(src), "-o", str(tmp_path / "o")])
    files = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))["files"]
    assert "META-208" in {f["code"] for f in files["009.xlsx"]["flags"]}
    assert not any("META-208" in {f["code"] for f in files[n]["flags"]} for n in ("000.xlsx", "001.xlsx", "002.xlsx"))


# -- LibreOffice: bounded, killable, and never leaving its files beside the user's --------------

def test_a_conversion_that_hangs_is_killed_with_everything_it_started(tmp_path, monkeypatch):
    """soffice stuck on a file (30,000 characters of varied text in one table cell kept it at
    100 % CPU for 600 s): the call is bounded, soffice and its children are killed, and the
    file is named as not converted."""
    import time

    import selfeval_xl.files.libreoffice as lo

    pidfile = tmp_path / "child.pid"
    fake = tmp_path / "soffice"
    fake.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {pidfile}\nwait\n")
    fake.chmod(0o755)
    monkeypatch.setattr(lo, "require_soffice", lambda: str(fake))
    src = tmp_path / "r.docx"
    src.write_bytes(b"x")
    t0 = time.monotonic()
    made, failed = lo.convert_each([src], tmp_path / "out", "pdf", per_file=1, startup=1)
    assert time.monotonic() - t0 < 30  # bounded: the batch call, then the file alone, two seconds each
    assert made == [] and list(failed) == [src] and "秒" in failed[src]
    child = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        for _ in range(50):  # killed with its process group (reaped by init shortly after)
            os.kill(child, 0)
            time.sleep(0.1)
            with open(f"/proc/{child}/stat") as f:
                if f.read().split()[2] == "Z":
                    raise ProcessLookupError
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == []  # no lock or temp file left there
