"""The rules a unit is judged by are the coordinator's (issue #21 parts 1–2).

A unit holds a copy of its region inside its workbook. Here a unit that wants a better grade
edits that copy with openpyxl — the grades, the weights, the tolerances — and recomputes the
digest, as the red team did; the coordinator's region (installed, ``--profile``, or the
campaign's) must still judge it, and the signature must tell an edit from the template sent.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from selfeval_xl.jobs.checking import check_workbook, judging
from selfeval_xl.cli import app
from selfeval_xl.core.region import REGION_CHUNK, REGION_ROW, sources_digest, sources_from_rows
from selfeval_xl.forms.cells import META
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.xlsx.signing import SIGNATURE, TAMPERED, UNVERIFIABLE, VERIFIED, machine_key

from .conftest import EXAMPLES

runner = CliRunner()
SEED = EXAMPLES / "data" / "001_岳阳市档案馆.json"
YY = get_profile("yueyang-2023")


def _halved(node):
    """Seed 001 with every indicator's score halved: a unit graded below 优, which has a reason
    to edit its grades."""
    if isinstance(node, dict):
        return {k: (v / 2 if k == "score" and isinstance(v, (int, float)) else _halved(v)) for k, v in node.items()}
    return [_halved(v) for v in node] if isinstance(node, list) else node


def _filled(tmp_path: Path, name: str = "430600101_岳阳市档案馆_2023年度绩效自评.xlsx") -> Path:
    book = tmp_path / name
    data = tmp_path / "seed.json"
    data.write_text(json.dumps(_halved(json.loads(SEED.read_text(encoding="utf-8"))), ensure_ascii=False),
                    encoding="utf-8")
    res = runner.invoke(app, ["fill", str(data), "-o", str(book), "--timestamp", "2024-01-01T00:00:00"])
    assert res.exit_code == 0, res.output
    return book


def _tamper(src: Path, dest: Path, edit_region=None, edit_meta=None, recompute_digest: bool = True) -> Path:
    """What a unit can do with openpyxl: rewrite the carried region's text (and the metadata),
    recompute ``region_digest`` the way the tool does, and save."""
    wb = openpyxl.load_workbook(src)
    ws = wb[META]
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}
    meta = {k: ("" if ws.cell(r, 2).value is None else str(ws.cell(r, 2).value)) for k, r in rows.items()}
    sources = sources_from_rows(meta)
    if edit_region:
        sources = edit_region(dict(sources))
        for k, r in rows.items():
            if k.startswith(REGION_ROW):
                ws.cell(r, 1).value = ws.cell(r, 2).value = None
        last = max(rows.values())
        for name, text in sorted(sources.items()):
            for i in range(0, max(len(text), 1), REGION_CHUNK):
                last += 1
                ws.cell(last, 1).value = f"{REGION_ROW}{name}:{i // REGION_CHUNK}"
                ws.cell(last, 2).value = text[i:i + REGION_CHUNK]
        # openpyxl keeps the emptied rows; the reader stops at the first empty key, so move them up
        values = [(ws.cell(r, 1).value, ws.cell(r, 2).value) for r in range(1, last + 1) if ws.cell(r, 1).value]
        for r in range(1, last + 1):
            ws.cell(r, 1).value = ws.cell(r, 2).value = None
        for r, (k, v) in enumerate(values, start=1):
            ws.cell(r, 1).value, ws.cell(r, 2).value = k, v
        rows = {k: r for r, (k, _) in enumerate(values, start=1)}
    if recompute_digest:
        ws.cell(rows["region_digest"], 2).value = sources_digest(sources)
    if edit_meta:
        for k, v in edit_meta.items():
            ws.cell(rows[k], 2).value = v
    wb.save(dest)
    return dest


def _region_toml(fn):
    def edit(sources):
        sources["region.toml"] = fn(sources["region.toml"])
        return sources
    return edit


def _grades_all_top(text: str) -> str:
    """Every grade from 0 points: any score is the top grade."""
    return re.sub(r"(\[\[grades\]\][^\[]*?min\s*=\s*)[0-9.]+", r"\g<1>0", text)


def _weights_to_execution(text: str) -> str:
    text = re.sub(r"execution_weight\s*=\s*[0-9.]+", "execution_weight = 100", text)
    return re.sub(r"(\[\[level1\]\][^\[]*?weight\s*=\s*)[0-9.]+", r"\g<1>0", text)


def _tolerances(value: int):
    def edit(text: str) -> str:
        text = re.sub(r"\n(money_tolerance|score_tolerance)\s*=.*", "", text)
        return text.replace("[scoring]\n", f"[scoring]\nmoney_tolerance = {value}\nscore_tolerance = {value}\n", 1)
    return edit


# 1,000,000 (the red team's) is past the loader's bound on a rule's number: the copy does not load
# at all (META-214); 9,999 loads, and is then a difference the coordinator's rules overrule (META-213)
TAMPERS = {"grades": _grades_all_top, "weights": _weights_to_execution, "tolerances": _tolerances(9999),
           "tolerances-unloadable": _tolerances(1000000)}
WORDS = {"grades": "评价等次为", "weights": "预算执行率分值为 100", "tolerances": "金额容差为 9999",
         "tolerances-unloadable": "携带的地区配置无法使用"}
CODE = {"tolerances-unloadable": "META-214"}


@pytest.fixture(scope="module")
def honest(tmp_path_factory):
    """The filled seed, and what its check says after the same openpyxl save the tampering does
    (openpyxl drops the formulas' cached values, so the baseline must be saved the same way)."""
    tmp = tmp_path_factory.mktemp("honest")
    book = _filled(tmp)
    resaved = _tamper(book, tmp / "resaved" / book.name if (tmp / "resaved").mkdir() is None else None)
    truth = check_workbook(resaved)
    assert truth["signature"] == VERIFIED and not any(f["code"].startswith("META-21") for f in truth["flags"])
    return book, truth


@pytest.mark.parametrize("what", sorted(TAMPERS))
def test_a_tampered_region_is_judged_by_the_installed_one(tmp_path, honest, what):
    book, truth = honest
    bad = _tamper(book, tmp_path / book.name, _region_toml(TAMPERS[what]))
    got = check_workbook(bad)
    flags = {f["code"]: f for f in got["flags"]}
    assert got["status"] == "有错误"
    code = CODE.get(what, "META-213")
    assert code in flags and flags[code]["severity"] == "error", got["flags"][:3]
    assert WORDS[what] in flags[code]["message"]
    # judged as the honest workbook is: the same total, grade and arithmetic errors
    assert got["recomputed_total"] == truth["recomputed_total"]
    assert got["grade"] == truth["grade"]
    honest_errors = {(f["code"], f["location"]) for f in truth["flags"] if f["severity"] == "error"}
    assert honest_errors <= {(f["code"], f["location"]) for f in got["flags"]}


def test_the_tampered_grades_would_have_given_the_top_grade(tmp_path, honest):
    """The test above could fail: judged by the carried copy, the grade would be 优."""
    book, truth = honest
    assert truth["grade"] != "优"
    bad = _tamper(book, tmp_path / book.name, _region_toml(_grades_all_top))
    from selfeval_xl.xlsx.read import profile_from_workbook

    carried = profile_from_workbook(bad)
    assert carried.grade_for(truth["recomputed_total"]) == "优"


@pytest.mark.parametrize("what", sorted(TAMPERS))
def test_under_profile_and_in_a_report_the_coordinators_rules_judge(tmp_path, honest, what):
    book, truth = honest
    (tmp_path / "in").mkdir()
    bad = _tamper(book, tmp_path / "in" / book.name, _region_toml(TAMPERS[what]))
    res = runner.invoke(app, ["check", str(bad.parent), "-o", str(tmp_path / "out"), "-p", "yueyang-2023", "-y", "2023"])
    assert res.exit_code == 1, res.output
    unit = next(iter(json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["files"].values()))
    assert unit["status"] == "有错误" and unit["grade"] == truth["grade"]
    assert any(f["code"] == CODE.get(what, "META-213") for f in unit["flags"])

    res = runner.invoke(app, ["report", str(bad.parent), "-o", str(tmp_path / "rep")])
    doc = next((tmp_path / "rep").glob("*.docx"))
    with zipfile.ZipFile(doc) as z:
        text = re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode("utf-8"))
    assert f"评价等次为“{truth['grade']}”" in text
    res = runner.invoke(app, ["report", str(bad.parent), "-o", str(tmp_path / "strict"), "--strict"])
    assert not list((tmp_path / "strict").glob("*.docx")), res.output


def test_a_campaign_judges_by_its_region(tmp_path, honest):
    from selfeval_xl.web.store import Workspace
    from selfeval_xl.web.work import check_stored, import_roster

    book, truth = honest
    bad = _tamper(book, tmp_path / book.name, _region_toml(_grades_all_top))
    ws = Workspace(tmp_path / "ws")
    cid = ws.create_campaign("2023 年度", "yueyang-2023", 2023)
    roster = tmp_path / "名册.csv"
    roster.write_text("单位编码,单位名称,项目名称\n430600101,岳阳市档案馆,档案保护开发\n", encoding="utf-8")
    import_roster(ws, cid, roster)
    stored = ws.store(iter([bad.read_bytes()]), limit=1 << 26)
    got = check_stored(ws, cid, [(stored.sha256, bad.name, stored.size)], workers=1)[0]
    assert got["status"] == "有错误" and got["grade"] == truth["grade"]
    assert any(f["code"] == "META-213" for f in got["flags"])


def test_with_the_key_any_edit_is_tampering(tmp_path, honest):
    book, _ = honest
    # one character of a form's note: not a rule, but not the template that was sent
    def note(sources):
        sources["forms/project.toml"] = sources["forms/project.toml"].replace("备注", "備注", 1)
        return sources
    for bad in (_tamper(book, tmp_path / "a.xlsx", note),
                _tamper(book, tmp_path / "b.xlsx", edit_meta={"unit_code": "430600199"})):
        got = check_workbook(bad)
        assert got["signature"] == TAMPERED
        flags = {f["code"]: f for f in got["flags"]}
        assert flags["META-210"]["severity"] == "error" and "模板被改动" in flags["META-210"]["message"]
        assert got["status"] == "有错误"


def test_a_stated_digest_that_is_not_the_carried_regions_is_an_error(tmp_path, honest):
    book, _ = honest
    bad = _tamper(book, tmp_path / "x.xlsx", _region_toml(_grades_all_top), recompute_digest=False)
    codes = {f["code"] for f in check_workbook(bad)["flags"] if f["severity"] == "error"}
    assert {"META-212", "META-213"} <= codes


def test_another_office_without_the_key_is_told_it_could_not_verify(tmp_path, honest, monkeypatch):
    from selfeval_xl.xlsx.read import judge_region, read_meta

    book, _ = honest
    other = machine_key(tmp_path / "other.key")
    wb = openpyxl.load_workbook(book, read_only=True)
    meta = read_meta(wb, book.name)
    wb.close()
    # another office: not installed there, and only its own key
    monkeypatch.setattr("selfeval_xl.xlsx.read.installed_profile", lambda _id: None)
    monkeypatch.setenv("SELFEVAL_KEY_FILE", str(tmp_path / "other.key"))
    _, verdict, flags = judge_region(meta, book.name, keys=[other])
    assert verdict == UNVERIFIABLE and [f.code for f in flags] == ["META-211"] and flags[0].severity == "warning"
    assert "无法验证" in flags[0].message
    # the office that signed it
    monkeypatch.undo()
    _, verdict, flags = judge_region(meta, book.name)
    assert verdict == VERIFIED and flags == []


def test_a_signature_survives_libreoffice(tmp_path, honest, soffice):
    from selfeval_xl.files.libreoffice import convert_each

    book, _ = honest
    made, failed = convert_each([book], tmp_path / "lo", "xlsx")
    assert not failed, failed
    assert check_workbook(made[0])["signature"] == VERIFIED


def test_the_key_is_never_in_the_workbook(honest, signing_key_file):
    book, _ = honest
    secret = signing_key_file.read_text(encoding="ascii").strip()
    with zipfile.ZipFile(book) as z:
        blob = b"".join(z.read(n) for n in z.namelist())
    assert secret.encode() not in blob and bytes.fromhex(secret) not in blob
    wb = openpyxl.load_workbook(book, read_only=True)
    rows = {r[0]: r[1] for r in wb[META].iter_rows(values_only=True) if r[0]}
    assert len(rows[SIGNATURE]) == 64
