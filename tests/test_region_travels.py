"""A workbook carries its region: read, checked, reported and extracted where the region is not.

The coordinator's region may live in any folder; the clerk's workbook goes to other
machines and comes back. Everything that reads it must work from the copy inside it, and say
when the copy differs from the region installed here or from what a batch expects.
"""

from __future__ import annotations

import json
import shutil
import zipfile

from typer.testing import CliRunner

from selfeval_xl.cli import app, open_region
from selfeval_xl.forms.regions import REGION_DIR, get_profile, load_region

from .conftest import EXAMPLES

runner = CliRunner()
SEED = EXAMPLES / "data" / "001_岳阳市档案馆.json"


def _region_copy(tmp_path, name="outside-region", note="备注：本地区自定的备注。", keep_id=False):
    """岳阳's forms in a folder of its own, under a name of its own, with a visible edit in 附件3's note."""
    dest = tmp_path / name
    shutil.copytree(REGION_DIR / "yueyang-2023", dest)
    rules = dest / "region.toml"
    if not keep_id:
        rules.write_text(rules.read_text(encoding="utf-8").replace('id = "yueyang-2023"', f'id = "{name}"', 1), encoding="utf-8")
    f = dest / "forms" / "project.toml"
    text = f.read_text(encoding="utf-8")
    old = "备注：一个一级项目支出一张表。如，业务工作经费，运行维护经费，其他事业发展类资金…各一张表。"
    assert old in text
    f.write_text(text.replace(old, note), encoding="utf-8")
    return dest


def _units(summary_json) -> list[dict]:
    return list(json.loads(summary_json.read_text(encoding="utf-8"))["files"].values())


def _codes(summary_json) -> list[str]:
    return [f["code"] for u in _units(summary_json) for f in u["flags"]]


def test_a_workbook_from_a_deleted_region_folder_is_checked_reported_and_extracted(tmp_path, monkeypatch):
    region = _region_copy(tmp_path)
    made = tmp_path / "made"
    made.mkdir()
    book = made / "u.xlsx"
    res = runner.invoke(app, ["fill", str(SEED), "-o", str(book), "--profile", str(region)])
    assert res.exit_code == 0, res.output
    shutil.rmtree(region)  # the coordinator's folder is gone; another folder, another working directory
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    res = runner.invoke(app, ["extract", str(book), "-o", "back.json"])
    assert res.exit_code == 0, res.output
    back = json.loads((elsewhere / "back.json").read_text(encoding="utf-8"))
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    assert back["code"] == seed["code"] and [p["name"] for p in back["projects"]] == [p["name"] for p in seed["projects"]]

    res = runner.invoke(app, ["check", str(book), "-o", "checked"])
    assert res.exit_code == 1 and "0 个无法读取" in res.output, res.output  # read; the seed's own errors found
    codes = _codes(elsewhere / "checked" / "summary.json")
    assert "SUM-103" in codes  # the seed's 附件1 项目支出 error is still found with the carried rules

    res = runner.invoke(app, ["report", str(book), "-o", "reports"])
    assert res.exit_code in (0, 1), res.output
    docx = next((elsewhere / "reports").glob("*.docx"))
    with zipfile.ZipFile(docx) as z:
        body = z.read("word/document.xml").decode("utf-8")
    assert "本地区自定的备注" in body  # the report's tables follow the carried forms

    res = runner.invoke(app, ["annotate", str(book), "-o", "annotated.xlsx"])
    assert res.exit_code == 0, res.output


def test_the_workbook_serves_as_the_region_for_fill_and_generate(tmp_path):
    region = _region_copy(tmp_path)
    first = tmp_path / "first.xlsx"
    assert runner.invoke(app, ["fill", str(SEED), "-o", str(first), "--profile", str(region)]).exit_code == 0
    shutil.rmtree(region)
    carried = open_region(str(first))
    assert carried.digest == load_region_digest_of(first)
    second = tmp_path / "second.xlsx"
    res = runner.invoke(app, ["fill", str(SEED), "-o", str(second), "--profile", str(first)])
    assert res.exit_code == 0, res.output
    assert open_region(str(second)).digest == carried.digest


def load_region_digest_of(book) -> str:
    from selfeval_xl.xlsx.read import read_workbook

    return read_workbook(book).book.meta["region_digest"]


def test_a_changed_copy_keeping_the_installed_id_is_refused_and_a_made_one_is_said(tmp_path):
    region = _region_copy(tmp_path, keep_id=True)
    assert load_region(region).id == "yueyang-2023"
    # a returned workbook names its region by id, and check judges it by the installed one of
    # that id: the changed copy must take a name of its own before any template goes out
    book = tmp_path / "u.xlsx"
    for args in (["fill", str(SEED), "-o", str(book), "--profile", str(region)], ["region", "check", str(region)]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        assert "region.toml 第 5 行（键 id）" in res.output and "yueyang-2023-local" in res.output, res.output
    assert not book.exists()
    assert runner.invoke(app, ["region", "check", str(_region_copy(tmp_path / "renamed"))]).exit_code == 0

    # why: a workbook made of such a copy all the same (through the library, unsigned) is judged by
    # the installed region of its id — an error on every unit of the changed copy
    from selfeval_xl.core.model import Department
    from selfeval_xl.xlsx.write import write_workbook

    dept = Department.model_validate_json(SEED.read_text(encoding="utf-8"))
    write_workbook(dept, load_region(region), book)
    runner.invoke(app, ["check", str(book), "-o", str(tmp_path / "out")])
    units = _units(tmp_path / "out" / "summary.json")
    assert [f["severity"] for f in units[0]["flags"] if f["code"] == "META-213"] == ["error"]

    # an untouched copy of the installed region raises nothing
    same = tmp_path / "same.xlsx"
    assert runner.invoke(app, ["fill", str(SEED), "-o", str(same)]).exit_code == 0
    runner.invoke(app, ["check", str(same), "-o", str(tmp_path / "out2")])
    units = _units(tmp_path / "out2" / "summary.json")
    assert not [f for f in units[0]["flags"] if f["code"] == "META-204"]


def test_a_batch_flags_workbooks_of_another_region_or_year(tmp_path):
    book = tmp_path / "u.xlsx"
    assert runner.invoke(app, ["fill", str(SEED), "-o", str(book)]).exit_code == 0  # 岳阳 2023

    def flags(*opts):
        out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
        res = runner.invoke(app, ["check", str(book), "-o", str(out), *opts])
        units = _units(out / "summary.json")
        return res.exit_code, {f["code"]: f for f in units[0]["flags"]}

    code, got = flags("--profile", "sample-50-40-10", "--year", "2022")
    assert got["META-205"]["severity"] == "error" and got["META-206"]["severity"] == "error"
    assert code == 1
    code, got = flags("--profile", "yueyang-2023", "--year", "2023")
    assert "META-205" not in got and "META-206" not in got
    code, got = flags("--year", "2024")
    assert got["META-206"]["stated"] == 2023 and got["META-206"]["expected"] == 2024
