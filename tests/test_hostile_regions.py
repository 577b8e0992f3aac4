"""A carried region is hostile input (issue #21 part 3).

A unit can edit the region its workbook carries (the ``region:*`` rows of ``_meta``) and
recompute the digest. Whatever it writes, every path that compiles the region must answer
with a Chinese refusal naming the file — never a traceback, "内部错误", or gigabytes of
memory (``core.region.Limits``).
"""

from __future__ import annotations

import json

import os
import re
import shutil
import subprocess
import sys
import textwrap

import openpyxl
import pytest
from typer.testing import CliRunner

from selfeval_xl.jobs.checking import check_workbook
from selfeval_xl.cli import app
from selfeval_xl.core.region import Limits, ProfileError, sources_digest, sources_from_rows
from selfeval_xl.forms.formula import FormulaError, Program, evaluate
from selfeval_xl.forms.regions import (
    REGION_DIR, installed_profile, load_region, profile_from_sources, read_region_sources, shipped_profile,
)
from selfeval_xl.xlsx.write import write_workbook

from .hostile_corpus import P, TS, _dept

runner = CliRunner()
OVERALL = "forms/overall.toml"
EXECUTED = '"overall.executed" = "=SUM({overall.expense_basic},{overall.expense_project})"'
HINT = '"overall.hint.income" = '


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return write_workbook(_dept(), P, tmp_path_factory.mktemp("base") / "base.xlsx", generated_at=TS)


def tamper(src, dest, edit, other_id=True):
    """``src`` with its carried region rewritten by ``edit`` and the digest recomputed as the
    tool computes it. ``other_id``: under an id not installed here, so the carried copy (not
    the installed 岳阳) is what reads the workbook."""
    wb = openpyxl.load_workbook(src)
    ws = wb["_meta"]
    rows = [(r[0].value, r[1].value) for r in ws.iter_rows() if r[0].value is not None]
    sources = sources_from_rows({k: "" if v is None else str(v) for k, v in rows})
    sources = edit(dict(sources))
    if other_id:
        sources["region.toml"] = sources["region.toml"].replace('id = "yueyang-2023"', 'id = "other-2023"')
    meta = {k: v for k, v in rows if not str(k).startswith("region:")}
    meta["region_digest"] = sources_digest(sources)
    if other_id:  # the metadata's id too: no region of it is installed to read the workbook by
        meta["profile"] = "other-2023"
    ws.delete_rows(1, ws.max_row)
    out = list(meta.items())
    for name, text in sources.items():
        out += [(f"region:{name}:{k // 30000}", text[k:k + 30000]) for k in range(0, max(len(text), 1), 30000)]
    for i, (k, v) in enumerate(out, start=1):
        ws.cell(i, 1, k)
        ws.cell(i, 2, v)
    wb.save(dest)
    return dest


def formula(new: str):
    def edit(s):
        assert EXECUTED in s[OVERALL]
        s[OVERALL] = s[OVERALL].replace(EXECUTED, '"overall.executed" = ' + new)
        return s
    return edit


def hint(new: str):
    """The 附件2 income hint's formula replaced (a text cell: any result is accepted)."""
    def edit(s):
        i = s[OVERALL].index(HINT)
        j = s[OVERALL].index("\n", i)
        s[OVERALL] = s[OVERALL][:i] + HINT + "'" + new + "'" + s[OVERALL][j:]
        return s
    return edit


def region(old: str, new: str):
    def edit(s):
        assert old in s["region.toml"], old
        s["region.toml"] = s["region.toml"].replace(old, new, 1)
        return s
    return edit


def substitute(inner: str, depth: int) -> str:
    for _ in range(depth):
        inner = f'SUBSTITUTE({inner},"a","{"a" * 64}")'
    return inner


def _one_grade(s):
    s["region.toml"] = re.sub(r'(\[\[grades\]\]\nname = "[^"]+"\nmin = [1-9]\d*\n)+', "", s["region.toml"])
    assert s["region.toml"].count("[[grades]]") == 1
    return s


def _no_level2(s):
    s["region.toml"] = re.sub(r"level2 = \[\n(  \{[^\n]*\},?\n)+\]", "level2 = []", s["region.toml"], count=1)
    return s


def _bom(s):
    s["region.toml"] = "\ufeff" + s["region.toml"]
    return s


REFUSED = {  # name: (edit, the refusal's fragment)
    "nest300": (formula('"=' + "(" * 300 + "1" + ")" * 300 + '"'), "嵌套超过 64 层"),
    "nest3000": (formula('"=' + "(" * 3000 + "1" + ")" * 3000 + '"'), "嵌套超过 64 层"),
    "minus3000": (formula('"=' + "-" * 3000 + '1"'), "嵌套超过 64 层"),
    "chain3000": (formula('"=' + "+".join(["1"] * 3000) + '"'), "嵌套超过 64 层"),
    "round30": (formula('"=ROUND({overall.expense_basic},30)"'), "ROUND 的小数位数 30 超出范围（应在 -15 到 15 之间）"),
    "overflow": (formula('"=1e308*10"'), "计算格 overall.executed 在空白表上得出 #NUM!"),
    "literal_inf": (formula('"=1e400"'), "中的数字 1e400 超出范围"),
    "inf_weight": (region("weight = 50", "weight = inf"), "键 level1.0.weight：应为有限的数字（不能是 inf 或 nan）"),
    "nan_total": (region("total = 100", "total = nan"), "键 scoring.total：应为有限的数字"),
    "grade_quote": (region('name = "优"', 'name = "优\\""'), "等次名称“优\"”不能含引号"),
    "toml_deep": (region("[scoring]", "deep = " + "[" * 2000 + "]" * 2000 + "\n[scoring]"),
                  "region.toml：第 10 行数组或表嵌套 2000 层，超过上限 16 层"),
    "toml_dotted": (region("[scoring]", "deep." + ".".join(["a"] * 2000) + " = 1\n[scoring]"), "嵌套超过上限 16 层"),
    "form_deep": (lambda s: {**s, OVERALL: s[OVERALL] + "\nx = " + "{a=" * 2000 + "1" + "}" * 2000 + "\n"},
                  "forms/overall.toml：第"),
    "path_id": (region('id = "yueyang-2023"', 'id = "../../../../其他单位/region"'),
                "键 profile.id：地区名“../../../../其他单位/region”无效"),
    "missing_name": (region('name = "岳阳市 2023 年度部门整体支出绩效自评"\n', ""), "第 4 行 键 profile.name：必须给出"),
    "empty_level2": (_no_level2, "键 level1.0.level2：至少要有 1 项"),
    "blank_bomb": (hint("=LEN(" + substitute('"' + "a" * 64 + '"', 10) + ")"), "在空白表上得出 #VALUE!"),
    "too_many_files": (lambda s: {**s, **{f"forms/x{i}.toml": "" for i in range(40)}}, "超过上限 32 个"),
    # varied text (repeated text would be refused sooner, as a zip bomb)
    "too_long": (region("[scoring]", "# " + "".join(chr(0x4E00 + i * 7919 % 20000) for i in range(Limits.SOURCE_CHARS))
                        + "\n[scoring]"), f"超过上限 {Limits.SOURCE_CHARS} 个"),
    "wide_grid": (lambda s: {**s, OVERALL: s[OVERALL].replace("^ | 其他资金：", "^ |" + " x |" * 100 + " 其他资金：")},
                  "超过上限 60 格"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_hostile_carried_region_is_refused_in_words(base, tmp_path, case):
    edit, fragment = REFUSED[case]
    book = tamper(base, tmp_path / f"{case}.xlsx", edit, other_id=case != "path_id")
    r = check_workbook(book)
    if case == "path_id":
        # the metadata names the installed 岳阳: the workbook is read by it, the copy is an error
        assert r["status"] == "有错误", r
        reason = next(f["message"] for f in r["flags"] if f["code"] == "META-214")
    else:
        assert r["status"] == "无法读取", r
        reason = r["reason"]
    assert fragment in reason, reason
    assert f"{case}.xlsx" in reason and ("地区配置" in reason or "表格定义" in reason)
    assert "内部错误" not in reason and "Traceback" not in reason
    assert not re.search(r"Field required|should have|Input should", reason), reason


ACCEPTED = {
    "one_grade": _one_grade,
    "bom": _bom,
    # overflows only with the unit's figures: #NUM! in the cell, a blank for the checks
    "input_overflow": formula('"={overall.budget_full}*1e307"'),
    # decimals computed, not written: clamped, as Excel keeps 15 digits anyway
    "computed_decimals": formula('"=ROUND(SUM({overall.expense_basic},{overall.expense_project}),{overall.budget_full}*1e300)"'),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_odd_but_harmless_regions_are_read(base, tmp_path, case):
    book = tamper(base, tmp_path / f"{case}.xlsx", ACCEPTED[case])
    r = check_workbook(book)
    assert r["status"] != "无法读取", r
    assert all("内部错误" not in f["message"] for f in r["flags"])


def test_the_cli_refuses_hostile_regions_without_a_traceback(base, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for case in ("nest3000", "path_id", "toml_deep", "grade_quote"):
        tamper(base, folder / f"{case}.xlsx", REFUSED[case][0], other_id=case != "path_id")
    res = runner.invoke(app, ["check", str(folder), "-o", str(tmp_path / "out"), "-w", "1"])
    assert res.exit_code == 2, res.output
    for case in ("nest3000", "toml_deep", "grade_quote"):
        assert f"无法读取：{case}.xlsx" in res.output and REFUSED[case][1] in res.output, res.output
    # path_id's metadata names the installed 岳阳, which reads it; the carried copy is META-214
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["files"]
    assert any(f["code"] == "META-214" and REFUSED["path_id"][1] in f["message"]
               for f in summary["path_id.xlsx"]["flags"])
    res = runner.invoke(app, ["report", str(folder), "-o", str(tmp_path / "rep")])
    assert "嵌套超过 64 层" in res.output and "不能含引号" in res.output, res.output
    res = runner.invoke(app, ["extract", str(folder / "nest3000.xlsx"), "-o", str(tmp_path / "x.json")])
    assert res.exit_code == 2 and "错误：nest3000.xlsx" in res.output and "嵌套超过 64 层" in res.output, res.output
    res = runner.invoke(app, ["annotate", str(folder / "toml_deep.xlsx"), "-o", str(tmp_path / "a.xlsx")])
    assert res.exit_code != 0 and "超过上限 16 层" in res.output, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert "Traceback" not in res.output and "内部错误" not in res.output


def test_a_metadata_id_is_a_name_never_a_path(base, tmp_path):
    """A folder reachable as ../../… from the shipped regions is never loaded by its id."""
    elsewhere = tmp_path / "其他单位" / "region"
    elsewhere.parent.mkdir()
    shutil.copytree(REGION_DIR / "yunxi-2023", elsewhere)
    rel = os.path.relpath(elsewhere, REGION_DIR)
    assert rel.startswith("..") and (REGION_DIR / rel / "region.toml").exists()
    assert installed_profile(rel) is None
    with pytest.raises(ProfileError, match="不能是路径"):
        shipped_profile(rel)
    assert installed_profile("yueyang-2023").id == "yueyang-2023"
    # an old workbook (no carried region) whose metadata names a path
    book = tmp_path / "old.xlsx"
    wb = openpyxl.load_workbook(base)
    ws = wb["_meta"]
    for row in list(ws.iter_rows()):
        if str(row[0].value).startswith("region:"):
            row[0].value = row[1].value = None
        elif row[0].value == "profile":
            row[1].value = rel
    wb.save(book)
    r = check_workbook(book)
    assert r["status"] == "无法读取" and "不能是路径" in r["reason"], r


def test_a_bom_is_ignored_in_a_region_folder(tmp_path):
    dest = tmp_path / "bom-region"
    shutil.copytree(REGION_DIR / "yunxi-2023", dest)
    for f in [dest / "region.toml", *dest.glob("forms/*.toml")]:
        f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes())
    assert load_region(dest).id == "yunxi-2023"
    sources = read_region_sources(REGION_DIR / "yunxi-2023")
    assert profile_from_sources({k: "\ufeff" + v for k, v in sources.items()}, "x").id == "yunxi-2023"


def test_formula_limits_and_excel_semantics():
    assert evaluate({"x": "=1e308*10"}, {})["x"] == "#NUM!"
    assert evaluate({"x": "={a}+1"}, {"a": "inf"})["x"] == "#VALUE!"
    assert evaluate({"x": "={a}+1"}, {"a": "1_000"})["x"] == "#VALUE!"
    assert evaluate({"x": "=ROUND(1.25,{d})"}, {"d": 400.0})["x"] == 1.25
    assert evaluate({"x": "=ROUND(1234.5,{d})"}, {"d": -1e300})["x"] == 0.0
    assert evaluate({"x": "=ROUND({a},2)"}, {"a": 1e300})["x"] == 1e300
    assert evaluate({"x": "=ROUND(2.345,2)"}, {})["x"] == 2.35
    long = "a" * (Limits.TEXT_CHARS - 1)
    assert evaluate({"x": '={a}&"bc"'}, {"a": long})["x"] == "#VALUE!"
    assert evaluate({"x": '={a}&"b"'}, {"a": long})["x"] == long + "b"
    assert evaluate({"x": "=LEN(" + substitute('"a"', 10) + ")"}, {})["x"] == "#VALUE!"
    for bad, words in (("=ROUND(1,-16)", "ROUND 的小数位数 -16"), ("=" + "(" * 65 + "1" + ")" * 65, "嵌套超过 64 层"),
                       ("=" + "&".join(['"a"'] * 70), "嵌套超过 64 层")):
        with pytest.raises(FormulaError, match=words):
            Program({"x": bad})
    many = {f"k{i}": "=" + "+".join(f"{{a{j}}}" for j in range(60)) for i in range(Limits.STEPS_PER_SHEET // 100)}
    with pytest.raises(FormulaError, match="步运算，超过上限"):
        Program(many)


def test_text_one_sheet_makes_is_bounded():
    """Every cell a SUBSTITUTE bomb just under the cap: the sheet's budget runs out, each
    later cell shows #VALUE!, and memory stays small."""
    bomb = "=" + substitute("{a}", 2)  # 'a' → 64² = 4,096 characters
    prog = Program({f"k{i}": bomb for i in range(500)})
    out = prog({"a": "a"})
    made = sum(len(v) for v in out.values() if isinstance(v, str) and v != "a" and not v.startswith("#"))
    assert made <= Limits.TEXT_CHARS_PER_SHEET and out["k499"] == "#VALUE!"


MEMORY = textwrap.dedent("""
    import resource, sys
    from selfeval_xl.jobs.checking import check_workbook
    r = check_workbook(sys.argv[1])
    assert "内部错误" not in str(r), r
    print(r["status"], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
""")


def test_a_text_bomb_over_the_units_input_stays_under_600_mb(base, tmp_path):
    """SUBSTITUTE nested ten deep over a typed text (not refused on a blank unit): each value
    is capped at a cell's 32,767 characters before it is built. Before, nine deep took 1.13 GB
    and ten a MemoryError. Peak RSS of a fresh process, measured, not timed."""
    d = _dept()
    d = d.model_copy(update={"overall": d.overall.model_copy(update={"goal_expected": "a" * 20})})
    typed = write_workbook(d, P, tmp_path / "typed.xlsx", generated_at=TS)
    book = tamper(typed, tmp_path / "bomb.xlsx", hint("=LEN(" + substitute("{overall.goal_expected}", 10) + ")"))
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    res = subprocess.run([sys.executable, "-c", MEMORY, str(book)], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    status, peak = res.stdout.split()
    assert status != "无法读取" and int(peak) < 600, res.stdout
