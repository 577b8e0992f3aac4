"""The command line: Chinese messages, exit codes, and the demo."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from selfeval_xl.cli import app
from selfeval_xl.core.model import Department

from .conftest import EXAMPLES, after_roundtrip

runner = CliRunner()


def test_help_is_chinese():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0 and "生成" in res.output
    for cmd in ("generate", "fill", "extract", "profiles", "demo"):
        assert cmd in res.output


def test_profiles_lists_bundled():
    res = runner.invoke(app, ["profiles"])
    assert res.exit_code == 0 and "yueyang-2023" in res.output and "sample-50-40-10" in res.output


def test_fill_then_extract(tmp_path):
    src = EXAMPLES / "data" / "001_岳阳市档案馆.json"
    xlsx, back = tmp_path / "a.xlsx", tmp_path / "a.json"
    assert runner.invoke(app, ["fill", str(src), "-o", str(xlsx)]).exit_code == 0
    res = runner.invoke(app, ["extract", str(xlsx), "-o", str(back)])
    assert res.exit_code == 0, res.output
    want = after_roundtrip(Department.model_validate_json(src.read_text(encoding="utf-8")))
    assert Department.model_validate_json(back.read_text(encoding="utf-8")) == want


def test_fill_rejects_invalid_json_naming_the_field(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"code": "1", "name": "x", "year": 1800, "profile": "yueyang-2023"}), encoding="utf-8")
    res = runner.invoke(app, ["fill", str(bad), "-o", str(tmp_path / "o.xlsx")])
    assert res.exit_code == 2 and "year" in res.output and "错误" in res.output
    assert not (tmp_path / "o.xlsx").exists()


def test_extract_refuses_a_foreign_workbook(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = "hello"
    wb.save(tmp_path / "other.xlsx")
    res = runner.invoke(app, ["extract", str(tmp_path / "other.xlsx"), "-o", str(tmp_path / "o.json")])
    assert res.exit_code == 2 and "other.xlsx" in res.output and "元数据" in res.output


def test_extract_refuses_a_non_xlsx(tmp_path):
    (tmp_path / "x.xlsx").write_bytes(b"not a zip")
    res = runner.invoke(app, ["extract", str(tmp_path / "x.xlsx"), "-o", str(tmp_path / "o.json")])
    assert res.exit_code == 2 and "x.xlsx" in res.output and "不是 .xlsx 工作簿" in res.output


def test_demo_writes_templates_and_filled_examples(tmp_path):
    res = runner.invoke(app, ["demo", "--out", str(tmp_path / "d")])
    assert res.exit_code == 0, res.output
    d = tmp_path / "d"
    # the roster's three 岳阳 units; the five examples of the seeds, each in its own region
    assert len(list((d / "1-空白模板").glob("*.xlsx"))) == 3 and len(list((d / "2-预填示例").glob("*.xlsx"))) == 5
    assert (d / "3-校验结果" / "汇总表.xlsx").exists() and (d / "3-校验结果" / "summary.json").exists()
    assert len(list((d / "3-校验结果" / "批注").glob("*.xlsx"))) == 5
    assert str((tmp_path / "d").resolve()) in res.output


def test_serve_takes_8765_and_falls_back_to_a_free_port(tmp_path, monkeypatch):
    """The workbench's address is the same every day (http://127.0.0.1:8765/); when that port is
    taken (another workbench), a free one is used and printed, not a refusal."""
    import socket

    import waitress

    from selfeval_xl import cli

    served = []
    monkeypatch.setenv("SELFEVAL_START_METHOD", "fork")  # serve would set it for the rest of the session
    monkeypatch.setattr(waitress, "serve", lambda app_, sockets, **kw: served.append(sockets[0].getsockname()[1]))
    assert cli.DEFAULT_PORT == 8765
    runner = CliRunner()
    blocker = socket.socket()
    try:
        try:
            blocker.bind(("127.0.0.1", 8765))
            blocker.listen(1)
        except OSError:
            pass  # already taken on this machine: the fallback is what is tested either way
        res = runner.invoke(app, ["serve", str(tmp_path / "ws"), "--no-browser"])
        assert res.exit_code == 0, res.output
        assert served and served[0] != 8765
        assert "端口 8765 已被占用" in res.output and f"http://127.0.0.1:{served[0]}/" in res.output
    finally:
        blocker.close()
    res = runner.invoke(app, ["serve", str(tmp_path / "ws2"), "--no-browser"])
    assert res.exit_code == 0, res.output
    if served[-1] == 8765:  # free now: the default itself
        assert "http://127.0.0.1:8765/" in res.output and "已被占用" not in res.output
