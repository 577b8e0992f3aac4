"""A key is parsed once into a typed value held by its cell (issue #18, part 6).

``forms.keys.Key`` is a ``str`` (dict lookups, JSON and region files unchanged) parsed at
construction — cached by text — into its project, relative/every-project form, model path,
section, indicator slot and 附件1 free line. The compiler gives every cell one; the region loader
parses every key a rule or narrative term names and refuses a malformed one with file, line and
key. Report flags carry their place only; a stored flag of an earlier version that named its
paragraph by a ``report.para.N`` key still loads, into its place.
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest

from selfeval_xl.jobs.checking import check_report
from selfeval_xl.core.flags import Flag, ReportPlace, from_dict, report_paragraph
from selfeval_xl.core.region import ProfileError
from selfeval_xl.forms import keys
from selfeval_xl.forms.cells import Shape
from selfeval_xl.forms.keys import Key, KeyFormatError, OtherLine, Slot
from selfeval_xl.forms.layout import compile_layout
from selfeval_xl.forms.regions import get_profile, load_region

HERE = Path(__file__).parent
PROJECT_ONLY = HERE / "regions" / "project-only"


# -- the parts -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, parts", [
    ("overall.budget_full", dict(root="overall", project=None, rest="overall.budget_full", name="budget_full",
                                 parts=(("overall", None), ("budget_full", None)), section=None, slot=None)),
    ("basic.other.1.2.final", dict(root="basic", project=None, other=OtherLine(1, 2, "final"), slot=None)),
    ("projects[3].funds.total.full", dict(root="projects", project=3, rest="funds.total.full", name="full",
                                          parts=(("projects", 3), ("funds", None), ("total", None), ("full", None)))),
    ("projects[3].ind.output_qty.1.actual", dict(project=3, slot=Slot(Key("projects[3]"), "output_qty", 1, "actual"),
                                                 hint=False)),
    ("overall.ind.benefit.0.score", dict(project=None, slot=Slot(Key("overall"), "benefit", 0, "score"))),
    ("narrative.sections.basic", dict(root="narrative", section="basic", project=None, slot=None)),
    ("narrative.sections.basic.more", dict(section=None)),
    (".funds.total.full", dict(relative=True, every=False, root="", project=None, rest="funds.total.full", parts=None)),
    ("projects[*].funds.total.full", dict(every=True, relative=False, project=None, rest="funds.total.full")),
    ("projects[1].hint.check3", dict(project=1, hint=True, name="check3")),
    ("footer.附件3(1)", dict(root="footer", parts=None, name="附件3(1)")),
])
def test_a_key_knows_its_parts(text, parts):
    k = Key(text)
    assert k == text and isinstance(k, str)
    got = {name: getattr(k, name) for name in parts}
    assert got == parts


def test_a_key_is_parsed_once_per_text(monkeypatch):
    calls = []
    real = keys._parse
    monkeypatch.setattr(keys, "_parse", lambda k: (calls.append(str(k)), real(k))[1])
    text = "projects[7].funds.unheard_of_row.full"
    first = Key(text)
    assert Key(text) is first and Key(first) is first and Key(str(first)) is first
    assert calls == [text]
    assert pickle.loads(pickle.dumps(first)) is first  # another process parses it once there
    assert json.loads(json.dumps({first: first})) == {text: text}


def test_a_key_moves_between_projects_and_says_its_neighbours():
    k = Key("projects[3].ind.output_qty.1.actual")
    assert k.in_project(0) == "projects[0].ind.output_qty.1.actual" and k.in_project(0).project == 0
    assert Key(".funds.rate").in_project(2) == "projects[2].funds.rate"
    assert Key("projects[*].funds.total.full").probe == "projects[0].funds.total.full"
    assert Key("overall.rate").in_project(5) == "overall.rate"  # no project's: as it is
    assert k.slot.row == "projects[3].ind.output_qty.1" and k.sibling("name") == "projects[3].ind.output_qty.1.name"
    assert Key("overall").child("rate") is keys.OVERALL_RATE


@pytest.mark.parametrize("text", ["", "overall..rate", "overall.", "over all.rate", "overall.{rate}",
                                  "basic.projects[*].x", "a\nb"])
def test_a_malformed_key_is_refused_in_chinese(text):
    with pytest.raises(KeyFormatError) as e:
        Key(text)
    assert "键" in str(e.value)
    assert keys.key_of(text) is None


# -- the compiler gives every cell its Key -----------------------------------------------------------

def test_the_compiled_layout_holds_keys_whose_parts_match_where_the_cell_is():
    profile = get_profile("yueyang-2023")
    layout = compile_layout(profile, Shape(2023, "1", "单位", project_categories=("其他",) * 4))
    cells = [(sh, c) for sh in layout.sheets for c in sh.cells if c.key]
    assert cells and all(type(c.key) is Key for _sh, c in cells)
    assert all(type(k) is Key for k in layout.where)
    for sh, c in cells:
        # a project's cell sits on that project's sheet, or on 附件1's line of it (basic role)
        assert c.key.project is None or c.key.project == sh.project or sh.role == "basic", (sh.name, c.key)
        if sh.role == "project":
            assert c.key.project == sh.project or c.key.root in (keys.FOOTER, "signoff"), (sh.name, c.key)
    fourth = [c.key for sh, c in cells if sh.project == 3]
    assert keys.funds(keys.project(3), "total", "full") in fourth
    assert {k.slot.prefix for k in fourth if k.slot} == {"projects[3]"}
    overall_slots = {c.key.slot.prefix for sh, c in cells if sh.role == "overall" and c.key.slot}
    assert overall_slots == {keys.OVERALL}
    sections = {c.key.section for sh, c in cells if sh.role == "narrative" and c.key.section}
    assert sections == {sec.key for sec in profile.report.sections}
    others = [c.key.other for sh, c in cells if c.key.other]
    assert others and all(o.category < len(profile.projects.categories) for o in others)


# -- the loader refuses a malformed key with file, line and key --------------------------------------

SHEET = '''name = "甲表"
role = "other"
widths = [20, 14]
print_cols = 2

[[block]]
grid = \'\'\'
项目 ::header | 金额 ::header
甲 | $calc.a:money
乙 | $calc.b:money
合计 | =calc.total
\'\'\'

[block.formulas]
"calc.total" = "=SUM({calc.a},{calc.b})"
'''


def _region(tmp_path: Path, rules: str = "", sheet: str = SHEET) -> Path:
    dest = tmp_path / "keys"
    shutil.copytree(PROJECT_ONLY, dest)
    (dest / "forms" / "a.toml").write_text(sheet, encoding="utf-8")
    toml = dest / "region.toml"
    text = toml.read_text(encoding="utf-8")
    old = 'sheets = ["forms/guide.toml", "forms/project.toml", "forms/narrative.toml"]'
    assert old in text
    toml.write_text(text.replace(old, old[:-1] + ', "forms/a.toml"]') + rules, encoding="utf-8")
    return dest


def _line(path: Path, needle: str) -> int:
    return next(i for i, ln in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in ln)


@pytest.mark.parametrize("rule, key, words", [
    ('compare = ["calc..a", "<=", "calc.b"]', "calc..a", ["不能为空"]),
    ('equal = ["calc.a", "calc.b c"]', "calc.b c", ["空格"]),
    ('equal = ["projects[*].funds.total.full", "calc.a"]', "projects[*].funds.total.full", ["只能写在 sum 中"]),
])
def test_a_malformed_rule_key_is_refused_naming_file_line_and_key(tmp_path, rule, key, words):
    region = _region(tmp_path, f'\n[[checks]]\ncode = "TST-401"\n{rule}\nmessage = "m"\n')
    with pytest.raises(ProfileError) as e:
        load_region(region)
    msg = str(e.value)
    assert f"region.toml 第 {_line(region / 'region.toml', rule)} 行" in msg, msg
    assert key in msg and "checks.0" in msg, msg
    for w in words:
        assert w in msg, msg


def test_a_malformed_formula_reference_is_refused_naming_the_sheet_file(tmp_path):
    region = _region(tmp_path, sheet=SHEET.replace("{calc.b}", "{calc..b}"))
    with pytest.raises(ProfileError) as e:
        load_region(region)
    msg = str(e.value)
    line = next(i for i, ln in enumerate(SHEET.splitlines(), 1) if "{calc.b}" in ln)
    assert f"a.toml 第 {line} 行（键 calc..b）" in msg and "内部错误" not in msg, msg


def test_a_well_formed_region_loads_and_its_rule_keys_are_keys(tmp_path):
    region = _region(tmp_path, '\n[[checks]]\ncode = "TST-402"\ncompare = ["calc.a", "<=", "calc.b"]\nmessage = "m"\n')
    profile = load_region(region)
    layout = compile_layout(profile, Shape(2023, "1", "单位", project_categories=()))
    [hint] = [c for sh in layout.sheets for c in sh.cells if c.check is not None and c.check.code == "TST-402"]
    assert type(hint.key) is Key and keys.rule_of_hint(hint.key) == 1
    assert type(hint.check.at) is Key and hint.check.at == "calc.a"  # compare's warning stands by its first key
    assert all(type(k) is Key for k in hint.check.keys) and hint.check.keys == ("calc.a", "calc.b")


# -- report flags carry their place only -----------------------------------------------------------

def test_a_report_flag_carries_its_place_and_no_key():
    fixture = HERE / "fixtures" / "reports" / "003.docx"
    if not fixture.exists():
        import sys
        sys.path.insert(0, str(HERE))
        from build_report_fixtures import build_docx
        build_docx(HERE / "fixtures" / "reports" / "003.txt", fixture)
    r = check_report(fixture)
    on_paragraphs = [f for f in r["flags"] if "at" in f and "paragraph" in f["at"]]
    assert on_paragraphs, r["flags"]  # seed 003 has its discrepancies (a list of amounts over its total …)
    assert all(f["key"] is None for f in on_paragraphs)
    assert all(report_paragraph(f) == f["at"]["paragraph"] for f in on_paragraphs)


@pytest.mark.parametrize("stored, place", [
    ({"location": "报告!第12段", "key": "report.para.12"}, ReportPlace(paragraph=12)),
    ({"location": "报告!表3 R5C2", "key": "report.para.40"}, ReportPlace(paragraph=40, table=3, row=5, col=2)),
    ({"location": "报告!第7段（第2页）", "key": "report.para.7"}, ReportPlace(paragraph=7, page=2)),
])
def test_a_stored_report_flag_with_a_paragraph_key_loads_into_its_place(stored, place):
    d = {"code": "RPT-501", "severity": "warning", "message": "m", "stated": None, "expected": None, **stored}
    f = from_dict(d)
    assert f.at == place and f.key is None and f.location == stored["location"]
    assert report_paragraph(d) == place.paragraph
    again = from_dict(f.as_dict())  # written today: the place, no key
    assert again.at == place and again.key is None and "report" not in json.dumps(f.as_dict()).split('"key"')[1][:8]


def test_a_workbook_flag_keeps_its_key():
    f = Flag("SUM-101", "error", "附件2", "m", key=keys.OVERALL_EXECUTED)
    back = from_dict(json.loads(json.dumps(f.as_dict())))
    assert back.key == "overall.executed" and back.at == "附件2"
