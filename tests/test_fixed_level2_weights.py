"""Weights fixed per 二级: ``[[level1.level2]] weight`` (and ``[[overall_level1.level2]]``'s).

Many published forms print the points per 二级 — 数量指标（30分）, 成本指标（20分）… — either with
a 分值 column whose rows must add up to the 二级's points, or without one (the clerk enters only
得分 and the 二级's points cap them). Drawn inline from tests/test_unseen_region.py's 湖北 form
(as tests/test_fixed_level1_weights.py is), both shapes go the whole way: region check →
generate (the 二级 label shows its points; a per-二级 hint and red cell) → LibreOffice
recalculation equal to the recompute → fill/extract round trip → check (WEIGHT-105 / SCORE-108 at
the 二级's cell; no false WEIGHT-101/103 or SCORE-107) → report printing the 二级's points.
Declarations that contradict each other are refused naming the file, the line and the key.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfeval_xl.checks import check
from selfeval_xl.cli import app
from selfeval_xl.core.model import Department
from selfeval_xl.core.region import ProfileError
from selfeval_xl.forms.layout import compile_layout, shape_for
from selfeval_xl.forms.recompute import derive
from selfeval_xl.forms.regions import load_region

from . import test_fixed_level1_weights as fixed1
from . import test_unseen_region as hubei
from .test_indicator_blocks import whole_way

runner = CliRunner()

_L2 = {  # 二级 as the region writes them, and with their points
    '{ key = "quantity", name = "数量指标", rows = 2 }': '{ key = "quantity", name = "数量指标", rows = 2, weight = 30 }',
    '{ key = "cost", name = "成本指标", rows = 1, ceiling = true }':
        '{ key = "cost", name = "成本指标", rows = 1, ceiling = true, weight = 20 }',
    '{ key = "social", name = "社会效益指标", rows = 1 }': '{ key = "social", name = "社会效益指标", rows = 1, weight = 30 }',
    '{ key = "process", name = "过程指标", rows = 1 }': '{ key = "process", name = "过程指标", rows = 1, weight = 10 }',
}


def with_level2_weights(region: str, **change: str) -> str:
    for old, new in _L2.items():
        assert old in region, old
        region = region.replace(old, change.get(old.split('"')[1], new))
    return region


# a 分值 column; 一级 and 二级 points both printed (产出指标（50分） = 数量指标（30分） + 成本指标（20分）)
WEIGHTED = with_level2_weights(fixed1.REGION)
# no 分值 column; only the 二级 carry points (their sum 90 = 100 − 10 for the execution rate)
CAPPED = with_level2_weights(hubei.REGION)


def draw(tmp_path: Path, region: str = WEIGHTED, project: str = hubei.PROJECT, name: str = "l2") -> Path:
    return fixed1.draw(tmp_path, region=region, project=project, name=name)


def capped(tmp_path: Path, name: str = "l2-capped") -> Path:
    return draw(tmp_path, CAPPED, fixed1.PROJECT, name)


def row(l2: str, name: str, weight: float | None, score: float | None) -> dict:
    l1 = {"数量指标": "产出指标", "成本指标": "产出指标", "社会效益指标": "效益指标", "过程指标": "过程指标"}[l2]
    target, actual = ("≤0.8万元", "0.8万元") if l2 == "成本指标" else ("≥100人", "100人")
    out = {"level1": l1, "level2": l2, "name": name, "initial_value": target, "actual": actual, "score": score}
    return out if weight is None else {**out, "weight": weight}


def rows(*points: float, weighted: bool = True) -> list[dict]:
    names = [("数量指标", "国家奖学金人数"), ("数量指标", "国家助学金人数"), ("成本指标", "人均资助"),
             ("社会效益指标", "资助学生人数"), ("过程指标", "评审人数")]
    return [row(l2, n, p if weighted else None, p) for (l2, n), p in zip(names, points)]


RIGHT = rows(20, 10, 20, 30, 10)
# 产出指标 still 50 of 50, but 数量指标 35 of 30 and 成本指标 15 of 20
SHIFTED = rows(25, 10, 15, 30, 10)
RIGHT_SCORES = rows(20, 10, 20, 30, 10, weighted=False)
# 数量指标 35 points of its 30; the indicators' total (90) not over
OVER_SCORES = rows(25, 10, 10, 30, 10, weighted=False)


def layout_of(dept: Department):
    profile = load_region(dept.profile)
    return profile, compile_layout(profile, shape_for(dept, profile))


def labels(layout, sheet: str = "项目自评表(1)") -> list:
    return [c for c in layout.sheet(sheet).cells if c.kind == "label" and isinstance(c.text, str)]


def label(layout, text: str, sheet: str = "项目自评表(1)"):
    return next(c for c in labels(layout, sheet) if c.text == text)


# -- the form --------------------------------------------------------------------------------------

def test_the_level2_label_prints_its_points_and_a_hint_sums_its_rows_weights(tmp_path):
    dept = fixed1.unit(draw(tmp_path), RIGHT)
    _, layout = layout_of(dept)
    quantity = label(layout, "数量指标\n（30分）")
    assert quantity.c == 1 and quantity.merge == (quantity.r + 1, 1)  # merged down its two rows
    assert label(layout, "成本指标\n（20分）").c == 1 and label(layout, "产出指标\n（50分）").c == 0
    hint = layout.where["projects[0].hint.level2.quantity"][1]
    assert hint.r == quantity.r and "应为30" in hint.formula, hint.formula
    sh = layout.sheet("项目自评表(1)")
    assert any(cf.first == (quantity.r, 1) and "-30)>0.0001" in cf.criteria for cf in sh.cond_formats)
    # the 二级's points add up to the 一级's: no second warning for the 一级
    assert not [k for k in layout.where if ".hint.level1." in k]
    guide = [str(c.text) for c in layout.sheet("填表说明").cells if c.kind == "label"]
    assert any("产出指标 50 分（数量指标 30 分、成本指标 20 分）" in t for t in guide), guide


def test_the_weight_hints_show_what_the_checks_say(tmp_path):
    region = draw(tmp_path)
    _, layout = layout_of(fixed1.unit(region, RIGHT))
    assert all(v == "" for k, v in derive(fixed1.unit(region, RIGHT), layout).items() if ".hint.level" in k)
    said = derive(fixed1.unit(region, SHIFTED), layout)
    assert said["projects[0].hint.level2.quantity"] == "数量指标分值合计35，应为30"
    assert said["projects[0].hint.level2.cost"] == "成本指标分值合计15，应为20"
    assert said["projects[0].hint.level2.social"] == ""


def test_a_scores_only_table_is_capped_per_level2(tmp_path):
    dept = fixed1.unit(capped(tmp_path), RIGHT_SCORES)
    profile, layout = layout_of(dept)
    assert not profile.weights_fixed_per_level1()
    assert not [c for c in layout.sheet("项目自评表(1)").cells if c.key and c.key.endswith(".weight")]
    quantity = label(layout, "数量指标\n（30分）")
    assert label(layout, "产出指标").c == 0  # the 一级 prints no points of its own
    score = layout.where["projects[0].ind.quantity.0.score"][1]
    assert score.prompt == "得分：不小于 0；数量指标各行得分合计不超过 30 分", score.prompt
    hint = layout.where["projects[0].hint.level2.quantity"][1]
    assert hint.r == quantity.r and "超过 30 分" in hint.formula
    assert derive(dept, layout)["projects[0].hint.level2.quantity"] == ""
    assert derive(fixed1.unit(capped(tmp_path, "again"), OVER_SCORES), layout)[
        "projects[0].hint.level2.quantity"] == "数量指标得分合计35，超过 30 分"
    guide = [str(c.text) for c in layout.sheet("填表说明").cells if c.kind == "label"]
    assert any("各行得分合计不超过所在二级指标的分值（如 数量指标（30分）" in t for t in guide), guide


# -- the checks --------------------------------------------------------------------------------------

def test_level2_weights_not_adding_up_are_weight_105_at_the_level2_cell(tmp_path):
    dept = fixed1.unit(draw(tmp_path), SHIFTED)
    profile, layout = layout_of(dept)
    flags = check(dept, profile).flags
    got = [f for f in flags if f.code == "WEIGHT-105"]
    assert [(f.stated, f.expected) for f in got] == [(35, 30), (15, 20)], got
    quantity, cost = label(layout, "数量指标\n（30分）"), label(layout, "成本指标\n（20分）")
    assert [f.location for f in got] == [f"项目自评表(1)!B{quantity.r + 1}", f"项目自评表(1)!B{cost.r + 1}"]
    assert "产出指标“数量指标”各行分值合计 35，按规则应为 30" in got[0].message, got[0].message
    # 产出指标's 50 is right: no WEIGHT-101 (nor 103)
    assert not [f for f in flags if f.code in ("WEIGHT-101", "WEIGHT-103")], flags


def test_level2_scores_over_their_points_are_score_108_at_the_level2_cell(tmp_path):
    dept = fixed1.unit(capped(tmp_path), OVER_SCORES)
    profile, layout = layout_of(dept)
    flags = check(dept, profile).flags
    [f] = [f for f in flags if f.code == "SCORE-108"]
    assert f.location == f"项目自评表(1)!B{label(layout, '数量指标（30分）'.replace('（', chr(10) + '（')).r + 1}"
    assert (f.stated, f.expected) == (35, 30)
    assert "产出指标“数量指标”各行得分合计 35，超过该二级指标的分值 30 分" in f.message, f.message
    assert not [x for x in flags if x.code.startswith("WEIGHT") or x.code in ("SCORE-103", "SCORE-107")], flags


def test_a_level1_over_its_points_through_one_level2_is_said_once(tmp_path):
    # with a 分值 column, 数量指标 given 40 of its 30: 产出指标 60 of 50 — WEIGHT-105 says where
    dept = fixed1.unit(draw(tmp_path), rows(30, 10, 20, 30, 10))
    flags = [f.code for f in check(dept, load_region(dept.profile)).flags if f.code.startswith("WEIGHT")]
    assert flags == ["WEIGHT-105"], flags


@pytest.mark.parametrize("which", ["weighted", "capped"])
def test_a_right_unit_has_no_false_score_or_weight_flag(tmp_path, which):
    dept = fixed1.unit(draw(tmp_path), RIGHT) if which == "weighted" else fixed1.unit(capped(tmp_path), RIGHT_SCORES)
    got = [f.code for f in check(dept, load_region(dept.profile)).flags]
    assert not [c for c in got if c.startswith(("SUM", "SCORE", "WEIGHT", "CALC", "RATE", "IND-201", "IND-202"))], got


def test_an_overall_table_checks_its_level2_weights(tmp_path):
    from tests.conftest import EXAMPLES

    region = tmp_path / "yy-level2"
    shutil.copytree(Path(__file__).parents[1] / "selfeval_xl" / "regions" / "yueyang-2023", region)
    rules = region / "region.toml"
    text = rules.read_text(encoding="utf-8").replace('id = "yueyang-2023"', 'id = "yy-level2"')
    # the example's 附件2 rows per 二级: 15, 9, 16, 10 | 10, 10, 5, 5 | 10
    for key, points in (("quantity", 15), ("quality", 9), ("timeliness", 16), ("cost", 10), ("economic", 10),
                        ("social", 10), ("ecological", 5), ("sustainable", 5), ("satisfaction", 10)):
        text, n = re.subn(r'(\{ key = "' + key + r'",[^}]*?) \}', rf"\1, weight = {points} }}", text, count=1)
        assert n == 1, key
    rules.write_text(text, encoding="utf-8")
    profile = load_region(region)
    dept = Department.model_validate_json((EXAMPLES / "data" / "001_岳阳市档案馆.json").read_text(encoding="utf-8"))
    dept = dept.model_copy(update={"profile": str(region), "stated": {}})
    layout = compile_layout(profile, shape_for(dept, profile))
    assert any(c.text == "数量指标\n（15分）" for c in labels(layout, "附件2"))
    overall = lambda d: [f for f in check(d, profile).flags if f.location.startswith("附件2")]  # noqa: E731
    assert not [f for f in overall(dept) if f.code.startswith(("WEIGHT", "SCORE"))]
    # one 数量指标 row's 分值 moved to a 质量指标 row: 产出指标 still 50
    inds = list(dept.overall.indicators)
    q = next(i for i, x in enumerate(inds) if x.level2 == "数量指标")
    m = next(i for i, x in enumerate(inds) if x.level2 == "质量指标")
    inds[q] = inds[q].model_copy(update={"weight": inds[q].weight - 1, "score": inds[q].score - 1})
    inds[m] = inds[m].model_copy(update={"weight": inds[m].weight + 1, "score": inds[m].score + 1})
    moved = dept.model_copy(update={"overall": dept.overall.model_copy(update={"indicators": inds})})
    got = [(f.code, f.stated, f.expected) for f in overall(moved) if f.code.startswith(("WEIGHT", "SCORE"))]
    assert got == [("WEIGHT-105", 14, 15), ("WEIGHT-105", 10, 9)], got


# -- the proof -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["weighted", "capped"])
def test_the_region_check_passes(tmp_path, which):
    region = draw(tmp_path) if which == "weighted" else capped(tmp_path)
    res = runner.invoke(app, ["region", "check", str(region)])
    assert res.exit_code == 0 and "通过试算" in res.output, res.output


def test_the_proof_respects_each_level2s_points(tmp_path):
    from selfeval_xl.forms.binding import unflatten
    from selfeval_xl.forms.cells import Shape
    from selfeval_xl.jobs.proving import sample_values

    for region in (draw(tmp_path), capped(tmp_path)):
        profile = load_region(region)
        layout = compile_layout(profile, Shape(year=2023, unit_code="P", unit_name="试算", project_categories=("项目支出",)))
        values = sample_values(layout, profile.digest)
        assert values["projects[0].ind.quantity.0.score"] == 30
        dept = unflatten(values, layout, {"unit_code": "P", "unit_name": "试算", "year": 2023, "profile": profile.id})
        assert not [f for f in check(dept, profile).flags if f.code in ("WEIGHT-105", "SCORE-108")]
        assert all(v == "" for k, v in derive(dept, layout).items() if ".hint.level2." in k)


def test_the_proof_refuses_a_region_whose_valid_figures_overrun_a_level2(tmp_path):
    from selfeval_xl.jobs.proving import RegionRefused, prove

    # every row's 得分 computed as 25: 社会效益指标's one row makes 25 of its 30 but 数量指标's two 50 of 30
    scored = fixed1.PROJECT.replace("\n[[block]]\ntotals", "\n[block.formulas]\nscore = \"=25\"\n\n[[block]]\ntotals")
    assert scored != fixed1.PROJECT
    profile = load_region(draw(tmp_path, CAPPED, scored))
    with pytest.raises(RegionRefused) as e:
        prove(profile, force=True)
    assert "projects[0].hint.level2.quantity" in str(e.value) and "数量指标得分合计50，超过 30 分" in str(e.value), \
        str(e.value)


# -- the whole way ---------------------------------------------------------------------------------------

def _walk(tmp_path: Path, soffice: str | None) -> None:
    region = draw(tmp_path)
    right = whole_way(tmp_path / "right", fixed1.unit(region, RIGHT), soffice)
    assert not [f for f in right["flags"] if f["code"].startswith(("SUM", "SCORE", "WEIGHT", "CALC", "RATE", "READ"))], \
        right["flags"]
    words = "".join(re.sub(r"<[^>]+>", " ", right["report_xml"]).split())
    assert "产出指标（50分）数量指标（30分）国家奖学金人数" in words, words
    assert "成本指标（20分）人均资助" in words and "过程指标（10分）过程指标（10分）评审人数" in words, words
    shifted = whole_way(tmp_path / "shifted", fixed1.unit(region, SHIFTED), soffice)
    assert [f["code"] for f in shifted["flags"] if f["code"].startswith(("SCORE", "WEIGHT"))] == ["WEIGHT-105"] * 2, \
        shifted["flags"]

    region = capped(tmp_path)
    right = whole_way(tmp_path / "right-scores", fixed1.unit(region, RIGHT_SCORES), soffice)
    assert not [f for f in right["flags"] if f["code"].startswith(("SUM", "SCORE", "WEIGHT", "CALC", "RATE", "READ"))], \
        right["flags"]
    words = "".join(re.sub(r"<[^>]+>", " ", right["report_xml"]).split())
    table = words[words.index("一级指标"):]
    assert table.startswith("一级指标二级指标三级指标年初目标值（A）实际完成值（B）得分产出指标数量指标（30分）"), table
    over = whole_way(tmp_path / "over-scores", fixed1.unit(region, OVER_SCORES), soffice)
    assert [f["code"] for f in over["flags"] if f["code"].startswith(("SCORE", "WEIGHT"))] == ["SCORE-108"], over["flags"]


def test_the_forms_go_the_whole_way(tmp_path):
    _walk(tmp_path, None)


@pytest.mark.libreoffice
def test_the_forms_recalculate_in_libreoffice_as_in_python(soffice, tmp_path):
    _walk(tmp_path, soffice)


# -- declarations refused --------------------------------------------------------------------------------

def _refused(tmp_path: Path, region: str, project: str = hubei.PROJECT) -> str:
    with pytest.raises(ProfileError) as e:
        load_region(draw(tmp_path, region, project, name="bad"))
    return str(e.value)


KEY = 'key = "%s"'


def _line(text: str, needle: str) -> int:
    return next(n for n, ln in enumerate(text.splitlines(), 1) if needle in ln)


def test_level2_weights_that_do_not_add_up_to_their_level1_are_refused(tmp_path):
    region = with_level2_weights(fixed1.REGION, cost='{ key = "cost", name = "成本指标", rows = 1, ceiling = true, weight = 15 }')
    msg = _refused(tmp_path, region)
    assert "bad/region.toml" in msg, msg
    assert f"第 {_line(region, 'weight = 50')} 行 键 level1.0.weight：" in msg, msg
    assert "“产出指标”的 weight = 50，但其二级指标的 weight 之和为 45（数量指标 30、成本指标 15）" in msg, msg


def test_some_level2_of_a_level1_without_weights_are_refused(tmp_path):
    region = with_level2_weights(fixed1.REGION, cost='{ key = "cost", name = "成本指标", rows = 1, ceiling = true }')
    msg = _refused(tmp_path, region)
    assert f"第 {_line(region, KEY % 'cost')} 行 键 level1.0.level2.1.weight：" in msg, msg
    assert "“产出指标”的二级指标要么都写 weight" in msg and "“成本指标”没有写" in msg, msg


def test_a_level2_weight_must_be_a_positive_number(tmp_path):
    for bad, said in (("0", "应大于 0"), ("-5", "应大于 0"), ('"二十"', "应为数字")):
        region = with_level2_weights(fixed1.REGION, social=f'{{ key = "social", name = "社会效益指标", rows = 1, weight = {bad} }}')
        msg = _refused(tmp_path / bad.strip('"'), region)
        assert f"第 {_line(region, KEY % 'social')} 行 键 level1.1.level2.0.weight：{said}" in msg, msg


def test_level2_weights_as_their_own_tables_are_found_by_line(tmp_path):
    # [[level1.level2]] written as tables, the weight on its own line
    old = 'level2 = [{ key = "social", name = "社会效益指标", rows = 1 }]\n'
    assert old in fixed1.REGION
    text = fixed1.REGION.replace(old, '[[level1.level2]]\nkey = "social"\nname = "社会效益指标"\nrows = 1\nweight = 25\n')
    for k in ("quantity", "cost", "process"):
        o = next(x for x in _L2 if f'"{k}"' in x)
        text = text.replace(o, _L2[o])
    msg = _refused(tmp_path, text)
    benefit = _line(text, 'name = "效益指标"') + 1
    assert text.splitlines()[benefit - 1] == "weight = 30"
    assert f"第 {benefit} 行 键 level1.1.weight：" in msg, msg  # 效益指标 30 ≠ 25
    bad = text.replace("weight = 25\n", "weight = -1\n")
    msg = _refused(tmp_path / "neg", bad)
    assert f"第 {_line(bad, 'weight = -1')} 行 键 level1.1.level2.0.weight：应大于 0" in msg, msg


def test_total_only_level2_weights_must_make_the_indicators_total(tmp_path):
    region = with_level2_weights(hubei.REGION, process='{ key = "process", name = "过程指标", rows = 1, weight = 5 }')
    msg = _refused(tmp_path, region, fixed1.PROJECT)
    assert f"第 {_line(region, KEY % 'quantity')} 行 键 level1.0.level2.0.weight：" in msg, msg
    assert "各二级指标的 weight 之和为 85，应等于绩效指标合计 scoring.total − scoring.execution_weight = 90" in msg, msg


def test_a_scores_only_table_needs_points_for_every_row(tmp_path):
    # 产出指标's 二级 carry points, 效益指标 and 过程指标 none: nothing caps their rows
    region = hubei.REGION
    for o in list(_L2)[:2]:
        region = region.replace(o, _L2[o])
    msg = _refused(tmp_path, region, fixed1.PROJECT)
    headers = [n for n, ln in enumerate(region.splitlines(), 1) if ln.strip() == "[[level1]]"]
    assert f"region.toml 第 {headers[1]} 行（键 level1.weight）的一级指标“效益指标”没有写 weight" in msg, msg
    assert "forms/project.toml" in msg and "数量指标（20分）写 weight = 20" in msg, msg


def test_overall_level2_weights_are_checked_too(tmp_path):
    overall = ('\n[[overall_level1]]\nkey = "duty"\nname = "履职指标"\nweight = 90\nlevel2 = [\n'
               '  { key = "work", name = "工作任务", rows = 2, weight = 50 },\n'
               '  { key = "effect", name = "履职效益", rows = 2, weight = 30 },\n]\n')
    region = fixed1.REGION.replace("\n[projects]", overall + "\n[projects]")
    msg = _refused(tmp_path, region)
    assert f"第 {_line(region, 'weight = 90')} 行 键 overall_level1.0.weight：" in msg, msg
    assert "“履职指标”的 weight = 90，但其二级指标的 weight 之和为 80" in msg, msg
