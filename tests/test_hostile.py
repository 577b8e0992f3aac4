"""A batch over ≥30 hostile or broken workbooks: each gets its message or flag, the batch
finishes (with a process pool), and nothing under the input folder changes."""

from __future__ import annotations

import hashlib
import json

import pytest
from typer.testing import CliRunner

from selfeval_xl.cli import app

from .hostile_corpus import build


def _hashes(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The corpus, built once for the module's tests (it takes seconds; the tests only read it)."""
    folder = tmp_path_factory.mktemp("hostile") / "in"
    return folder, build(folder)


def test_hostile_corpus(tmp_path, corpus):
    corpus, cases = corpus
    assert len(cases) >= 30
    before = _hashes(corpus)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["check", str(corpus), "-o", str(out), "--workers", "2", "--annotate"])
    assert res.exit_code == 2, res.output  # some inputs are unreadable
    assert _hashes(corpus) == before, "the input folder changed"
    files = json.loads((out / "summary.json").read_text(encoding="utf-8"))["files"]
    original = next(files[n] for n, e in cases.items() if "原样" in n)
    same = sorted((f["code"], f["location"]) for f in original["flags"])
    for name, expect in cases.items():
        if expect == "skipped":
            assert name not in files
            continue
        if expect == "same":  # checks exactly as the untouched original does
            assert sorted((f["code"], f["location"]) for f in files[name]["flags"]) == same, name
            assert files[name]["status"] == original["status"], name
            continue
        entry = files[name]
        kind, _, what = expect.partition(":")
        if kind == "unreadable":
            assert entry["status"] == "无法读取", (name, entry)
            assert name in entry["reason"] and what in entry["reason"], (name, entry["reason"])
        else:
            codes = {f["code"] for f in entry["flags"]}
            assert what in codes, (name, sorted(codes))
            for f in entry["flags"]:
                assert f["message"] and f["location"], f


def test_legacy_xls_named_explicitly_gets_advice(tmp_path, corpus):
    folder, cases = corpus
    xls = [n for n in cases if n.endswith(".xls")][0]
    res = CliRunner().invoke(app, ["check", str(folder / xls), "-o", str(tmp_path / "o")])
    assert res.exit_code == 2
    entry = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))["files"][xls]
    assert "另存为" in entry["reason"] and "soffice" in entry["reason"]


def test_clerk_formula_text_stays_text_in_the_summary(tmp_path, corpus):
    import openpyxl

    folder, cases = corpus
    name = [n for n in cases if "公式文本" in n][0]
    # the clerk typed the text into a cell with openpyxl, which stores it as a formula: make it a flag message
    out = tmp_path / "o"
    CliRunner().invoke(app, ["check", str(folder / name), "-o", str(out)])
    wb = openpyxl.load_workbook(out / "汇总表.xlsx")
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                texts.append(c.value)
    # the flag (READ-107) carries the clerk's text, so the summary really holds it — as text
    assert '=HYPERLINK("http://example.invalid","点我")' in texts
