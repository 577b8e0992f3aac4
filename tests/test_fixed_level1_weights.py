"""An indicator table without a 分值 column: weights fixed per 一级, printed in its label only
(issue #18 part 2's leftover: "weights fixed per level or only in total").

湖北's 项目绩效目标自评表 prints 产出指标（50分）/ 效益指标（30分）… and the clerk enters only 得分
per row. Drawn inline from tests/test_unseen_region.py's 湖北 form with its 分值 column taken
out and each ``[[level1]]`` given its ``weight``, it goes the whole way: region check → generate
(no weight cells; the 一级 label shows its points; a per-一级 hint and red cell when its scores
add to more) → LibreOffice recalculation equal to the recompute → fill/extract round trip →
check (SCORE-107 at the 一级's cell; no false score/weight flag) → report without a 分值 column.
A region whose ``[[level1]]`` carry no weight has nothing to cap the scores with: refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from typer.testing import CliRunner

from selfeval_xl.checks import check
from selfeval_xl.cli import app
from selfeval_xl.core.model import Department
from selfeval_xl.core.region import ProfileError
from selfeval_xl.forms.layout import compile_layout, shape_for
from selfeval_xl.forms.recompute import derive
from selfeval_xl.forms.regions import load_region

from . import test_unseen_region as hubei
from .test_indicator_blocks import whole_way

runner = CliRunner()

REGION = hubei.REGION.replace('name = "产出指标"\n', 'name = "产出指标"\nweight = 50\n').replace(
    'name = "效益指标"\n', 'name = "效益指标"\nweight = 30\n').replace(
    'name = "过程指标"\n', 'name = "过程指标"\nweight = 10\n')
_WEIGHTED = ('"actual", "weight", "score"], headers = ["一级指标", "二级指标", "三级指标", "年初目标值（A）", '
             '"实际完成值（B）", "分值", "得分"]')
_SCORES_ONLY = ('"actual", "score"], headers = ["一级指标", "二级指标", "三级指标", "年初目标值（A）", '
                '"实际完成值（B）", "得分"]')
assert _WEIGHTED in hubei.PROJECT and "print_cols = 7" in hubei.PROJECT
PROJECT = hubei.PROJECT.replace(_WEIGHTED, _SCORES_ONLY).replace("print_cols = 7", "print_cols = 6")
# the same table with a reason column (IND-202's fallback)
WITH_REASON = hubei.PROJECT.replace(_WEIGHTED, _SCORES_ONLY.replace(
    '"score"], headers', '"score", "deviation"], headers').replace('"得分"]', '"得分", "偏差原因"]'))


def draw(tmp_path: Path, region: str = REGION, project: str = PROJECT, name: str = "hubei-fixed") -> Path:
    dest = tmp_path / name
    (dest / "forms").mkdir(parents=True)
    (dest / "region.toml").write_text(region, encoding="utf-8")
    for file, text in (("guide", hubei.GUIDE), ("project", project), ("narrative", hubei.NARRATIVE)):
        (dest / "forms" / f"{file}.toml").write_text(text, encoding="utf-8")
    return dest


def row(l1: str, l2: str, name: str, target: str, actual: str, score: float | None, **more) -> dict:
    return {"level1": l1, "level2": l2, "name": name, "initial_value": target, "actual": actual, "score": score, **more}


RIGHT = [
    row("产出指标", "数量指标", "国家奖学金人数", "≥30人", "28人", 28),
    row("产出指标", "数量指标", "国家助学金人数", "≥100人", "100人", 12),
    row("产出指标", "成本指标", "人均资助", "≤0.8万元", "0.8万元", 10),  # 产出 50 of 50: not over
    row("效益指标", "社会效益指标", "资金发放率", "100%", "100%", 30),
    row("过程指标", "过程指标", "评审程序是否公正", "是", "是", 10),
]
# 60 points under the 50-point 产出指标
OVER = [dict(r, score=s) for r, s in zip(RIGHT, (30, 20, 10, 30, 10))]


def unit(region: Path, indicators: list[dict]) -> Department:
    return Department(code="101001", name="某学院", year=2023, profile=str(region), projects=[{
        "name": "学生资助项目", "category": "项目支出", "indicators": indicators,
        "figures": {"funds.total.full": 2596.0, "funds.total.executed": 2595.62, "fill_date": "2024-03-29",
                    "kind": "部门预算项目"}}])


def layout_of(dept: Department):
    profile = load_region(dept.profile)
    return profile, compile_layout(profile, shape_for(dept, profile))


# -- the form --------------------------------------------------------------------------------------

def test_the_table_has_no_weight_cells_and_the_level1_label_carries_the_points(tmp_path):
    dept = unit(draw(tmp_path), RIGHT)
    profile, layout = layout_of(dept)
    sh = layout.sheet("项目自评表(1)")
    assert not [c for c in sh.cells if c.key and (c.key.endswith(".weight") or c.key.endswith("weight_total"))]
    labels = [c for c in sh.cells if c.kind == "label" and isinstance(c.text, str)]
    head = next(c for c in labels if c.text == "一级指标")
    assert [c.text for c in labels if c.r == head.r] == ["一级指标", "二级指标", "三级指标", "年初目标值（A）",
                                                          "实际完成值（B）", "得分"]
    output = next(c for c in labels if c.text == "产出指标\n（50分）")
    assert output.c == 0 and output.merge == (output.r + 2, 0)  # merged down its three rows
    # one hint per 一级 beside its first row, and a red 一级 cell when its scores add to more
    hint = layout.where["projects[0].hint.level1.output"][1]
    assert hint.r == output.r and "超过 50 分" in hint.formula
    assert any(cf.first == (output.r, 0) and "-50>" in cf.criteria for cf in sh.cond_formats)
    # each row's hint says only what a row can: a number, not negative
    row_hint = layout.where["projects[0].hint.quantity.0"][1]
    assert "得分不能为负数" in row_hint.formula and "分值" not in row_hint.formula
    # the clerk is told the cap: the score's prompt and the guide's 得分 line
    score = layout.where["projects[0].ind.quantity.0.score"][1]
    assert score.prompt == "得分：不小于 0；产出指标各行得分合计不超过 50 分", score.prompt
    guide = next(c.text for c in layout.sheet("填表说明").cells if c.kind == "label" and str(c.text).startswith("得分不小于"))
    assert "各行得分合计不超过该一级指标的分值（如 产出指标（50分））" in guide and "本行分值" not in guide, guide
    assert any(str(c.text).startswith("红色底纹：数据有误（如一级指标下各行得分合计超过其分值）")
               for c in layout.sheet("填表说明").cells), "legend"
    # the total row: 总分 up to 得分, the sum of the rows' and the execution score
    total = layout.where["projects[0].total_score"][1]
    assert total.c == 5 and "projects[0].funds.score" in total.formula


def test_the_hints_show_what_the_checks_say(tmp_path):
    region = draw(tmp_path)
    right, over = unit(region, RIGHT), unit(region, OVER)
    _, layout = layout_of(right)
    assert derive(right, layout)["projects[0].hint.level1.output"] == ""
    said = derive(over, layout)
    assert said["projects[0].hint.level1.output"] == "产出指标得分合计60，超过 50 分"
    assert said["projects[0].hint.level1.benefit"] == ""
    assert said["projects[0].total_score"] == pytest.approx(10 + 60 + 30 + 10)  # 10 × 99.99%, to 2 decimals


# -- the checks --------------------------------------------------------------------------------------

def test_sixty_points_under_a_fifty_point_level1_is_score_107_at_the_level1_cell(tmp_path):
    dept = unit(draw(tmp_path), OVER)
    profile, layout = layout_of(dept)
    flags = check(dept, profile).flags
    [f] = [f for f in flags if f.code == "SCORE-107"]
    label = next(c for c in layout.sheet("项目自评表(1)").cells if c.text == "产出指标\n（50分）")
    assert f.location == f"项目自评表(1)!A{label.r + 1}", f.location
    assert (f.stated, f.expected) == (60, 50) and "产出指标各行得分合计 60，超过该一级指标的分值 50 分" in f.message
    assert not [x for x in flags if x.code.startswith(("WEIGHT", "SCORE-103", "SCORE-105", "IND-201"))], flags


def test_a_right_unit_has_no_false_score_or_weight_flag(tmp_path):
    dept = unit(draw(tmp_path), RIGHT)
    profile, _ = layout_of(dept)
    got = [f.code for f in check(dept, profile).flags]
    assert not [c for c in got if c.startswith(("SUM", "SCORE", "WEIGHT", "CALC", "RATE", "IND-201", "IND-202"))], got


def test_a_named_row_without_a_score_is_score_105(tmp_path):
    dept = unit(draw(tmp_path), [dict(RIGHT[0], score=None)] + RIGHT[1:])
    profile, _ = layout_of(dept)
    assert [f.code for f in check(dept, profile).flags].count("SCORE-105") == 1


def test_without_a_weight_the_reason_rule_falls_back_to_the_completion(tmp_path):
    region = draw(tmp_path, project=WITH_REASON)
    profile = load_region(region)
    # 28人 of ≥30人: not reached, no reason → IND-202; with a reason, or reached: nothing
    got = [f for f in check(unit(region, RIGHT), profile).flags if f.code == "IND-202"]
    assert len(got) == 1 and "国家奖学金人数" in got[0].message and "偏差原因" in got[0].message, got
    assert re.fullmatch(r"项目自评表\(1\)!G\d+", got[0].location), got[0].location
    explained = [dict(RIGHT[0], deviation="受名额调整影响")] + RIGHT[1:]
    assert not [f for f in check(unit(region, explained), profile).flags if f.code == "IND-202"]


# -- region loading ------------------------------------------------------------------------------------

def test_a_table_without_weights_needs_a_weight_per_level1(tmp_path):
    with pytest.raises(ProfileError) as e:
        load_region(draw(tmp_path, region=hubei.REGION, name="bad"))
    msg = str(e.value)
    assert "forms/project.toml 第 31 行（键 indicators.columns）" in msg, msg
    assert "region.toml 第 24 行（键 level1.weight）" in msg and "“产出指标”没有写 weight" in msg, msg
    assert "weight = 50" in msg and "加上 weight" in msg, msg


def test_the_region_check_passes(tmp_path):
    res = runner.invoke(app, ["region", "check", str(draw(tmp_path))])
    assert res.exit_code == 0 and "通过试算" in res.output, res.output


def test_the_proof_respects_each_level1_cap(tmp_path):
    from selfeval_xl.forms.binding import unflatten
    from selfeval_xl.forms.cells import Shape
    from selfeval_xl.jobs.proving import sample_values

    profile = load_region(draw(tmp_path))
    layout = compile_layout(profile, Shape(year=2023, unit_code="P", unit_name="试算", project_categories=("项目支出",)))
    values = sample_values(layout, profile.digest)
    dept = unflatten(values, layout, {"unit_code": "P", "unit_name": "试算", "year": 2023, "profile": profile.id})
    assert not [f for f in check(dept, profile).flags if f.code == "SCORE-107"]
    derived = derive(dept, layout)
    assert all(derived[k] == "" for k in derived if ".hint.level1." in k)


# -- the whole way ---------------------------------------------------------------------------------------

def _walk(tmp_path: Path, soffice: str | None) -> None:
    region = draw(tmp_path)
    right = whole_way(tmp_path / "right", unit(region, RIGHT), soffice)
    assert not [f for f in right["flags"] if f["code"].startswith(("SUM", "SCORE", "WEIGHT", "CALC", "RATE", "READ"))], \
        right["flags"]
    words = "".join(re.sub(r"<[^>]+>", " ", right["report_xml"]).split())
    table = words[words.index("一级指标"):]
    assert table.startswith("一级指标二级指标三级指标年初目标值（A）实际完成值（B）得分产出指标（50分）数量指标"), table
    assert "分值" not in table, table
    over = whole_way(tmp_path / "over", unit(region, OVER), soffice)
    assert [f["code"] for f in over["flags"] if f["code"].startswith(("SCORE", "WEIGHT"))] == ["SCORE-107"], over["flags"]


def test_the_form_goes_the_whole_way(tmp_path):
    _walk(tmp_path, None)


@pytest.mark.libreoffice
def test_the_form_recalculates_in_libreoffice_as_in_python(soffice, tmp_path):
    _walk(tmp_path, soffice)


def test_the_report_prints_the_table_without_a_weight_column(tmp_path):
    region = draw(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_text(hubei.ROSTER, encoding="utf-8")
    res = runner.invoke(app, ["generate", str(roster), "-o", str(tmp_path / "模板"), "--year", "2023", "-p", str(region)])
    assert res.exit_code == 0, res.output
    [blank] = (tmp_path / "模板").glob("*.xlsx")
    res = runner.invoke(app, ["extract", str(blank), "-o", str(tmp_path / "blank.json")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "blank.json").read_text(encoding="utf-8"))
    p = data["projects"][0]
    p["figures"].update({"fill_date": "2024-03-29", "kind": "部门预算项目", "funds.total.executed": 2595.62})
    p["indicators"] = RIGHT
    (tmp_path / "filled.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    book = tmp_path / "交回" / blank.name
    res = runner.invoke(app, ["fill", str(tmp_path / "filled.json"), "-o", str(book), "-p", str(region)])
    assert res.exit_code == 0, res.output
    ws = openpyxl.load_workbook(book)["项目自评表(1)"]
    assert re.search(r"!\$A\$1:\$F\$\d+$", ws.print_area), ws.print_area
    res = runner.invoke(app, ["report", str(book.parent), "-o", str(tmp_path / "报告")])
    assert res.exit_code == 0, res.output
    [doc] = (tmp_path / "报告").glob("*.docx")
    [table] = Document(doc).tables
    rows = [[c.text for c in r.cells] for r in table.rows]
    head = next(r for r in rows if r[0] == "一级指标")
    assert head[:6] == ["一级指标", "二级指标", "三级指标", "年初目标值（A）", "实际完成值（B）", "得分"], head
    assert "分值" not in {c for r in rows for c in r}
    line = rows[next(i for i, r in enumerate(rows) if "国家奖学金人数" in r)]
    assert line[2:6] == ["国家奖学金人数", "≥30人", "28人", "28"], line
    assert rows[-1][-1] == "100"  # 10 (10 × 99.99%, to 2 decimals) + 50 + 30 + 10
    assert all(c.strip() for r in rows for c in r[:6] if r[0] != "总分"), rows


# -- the 部门整体 table too ------------------------------------------------------------------------------

def test_an_overall_table_without_weights_caps_each_level1_and_quotes_its_points(tmp_path):
    import shutil

    from selfeval_xl.checks.narrative import Tables
    from selfeval_xl.forms import keys
    from tests.conftest import EXAMPLES

    region = tmp_path / "yy-scores-only"
    shutil.copytree(Path(__file__).parents[1] / "selfeval_xl" / "regions" / "yueyang-2023", region)
    rules = region / "region.toml"
    rules.write_text(rules.read_text(encoding="utf-8").replace('id = "yueyang-2023"', 'id = "yy-scores-only"'), encoding="utf-8")
    form = region / "forms" / "overall.toml"
    old = 'indicators = { key = "overall", group = "绩\\n效\\n指\\n标", levels = "overall" }'
    assert old in form.read_text(encoding="utf-8")
    form.write_text(form.read_text(encoding="utf-8").replace(old, old[:-2] + (
        ', columns = ["name", "target", "actual", "score", "deviation"], headers = ["一级指标", "二级指标", "三级指标", '
        '"年度指标值", "实际完成值", "得分", "偏差原因分析及改进措施"] }')), encoding="utf-8")
    profile = load_region(region)
    dept = Department.model_validate_json((EXAMPLES / "data" / "001_岳阳市档案馆.json").read_text(encoding="utf-8"))
    dept = dept.model_copy(update={"profile": str(region), "stated": {}})
    layout = compile_layout(profile, shape_for(dept, profile))
    assert "overall.ind.quantity.0.weight" not in layout.where
    got = [f.code for f in check(dept, profile).flags]
    assert not [c for c in got if c.startswith(("WEIGHT", "SCORE"))], got
    # the rules' points are the figure a sentence's 满分 is compared with
    tables = Tables(dept, profile, layout, derive(dept, layout))
    assert tables.get(keys.level1_figure("output", "weight")).value == 50
    # 满意度指标 (10 分) given 12
    sat = [i for i in dept.overall.indicators if i.level1 == "满意度指标"]
    over = [i.model_copy(update={"score": 12.0 / len(sat)}) if i.level1 == "满意度指标" else i for i in dept.overall.indicators]
    dept = dept.model_copy(update={"overall": dept.overall.model_copy(update={"indicators": over})})
    [f] = [f for f in check(dept, profile).flags if f.code == "SCORE-107"]
    assert f.location.startswith("附件2!B") and "满意度指标各行得分合计 12" in f.message, f


def test_the_proof_refuses_a_region_whose_valid_figures_overrun_a_level1(tmp_path):
    from selfeval_xl.jobs.proving import RegionRefused, prove

    # every row's 得分 computed as 20: 产出指标's three rows make 60 of its 50 points
    scored = PROJECT.replace("\n[[block]]\ntotals", "\n[block.formulas]\nscore = \"=20\"\n\n[[block]]\ntotals")
    assert scored != PROJECT
    profile = load_region(draw(tmp_path, project=scored))
    with pytest.raises(RegionRefused) as e:
        prove(profile, force=True)
    assert "projects[0].hint.level1.output" in str(e.value) and "产出指标得分合计60，超过 50 分" in str(e.value), str(e.value)


def test_a_returned_word_report_is_checked_against_the_printed_points(tmp_path):
    from selfeval_xl.jobs.checking import report_workbook
    from selfeval_xl.xlsx.write import write_workbook

    region = draw(tmp_path)
    profile = load_region(region)
    for name, rows, want in (("right", RIGHT, []), ("over", OVER, ["SCORE-107"])):
        book = write_workbook(unit(region, rows), profile, tmp_path / name / "101001.xlsx")
        assert report_workbook(book, tmp_path / name / "报告").get("report")
        res = runner.invoke(app, ["check", str(tmp_path / name / "报告"), "-o", str(tmp_path / name / "校验"), "-p", str(region)])
        assert res.exit_code in (0, 1), res.output
        [one] = json.loads((tmp_path / name / "校验" / "summary.json").read_text(encoding="utf-8"))["files"].values()
        errors = [f for f in one["flags"] if f["severity"] == "error"]
        assert [f["code"] for f in errors] == want, errors
        if want:
            assert errors[0]["location"].startswith("报告!表1") and "产出指标各行得分合计 60" in errors[0]["message"], errors
