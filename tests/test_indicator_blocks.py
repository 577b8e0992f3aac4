"""Open indicator tables (issue #18, part 2): weights fixed per 一级 or only in total, the
percentage input type, declared indicator columns (flat lists, 年初/调整指标值, 得分系数,
是否核心指标, any reason header) and a score per row as a declared formula.

Each region here is drawn inline: the project-only test region (财预〔2020〕10号's table) with
its ``[[level1]]`` rules and its indicator block replaced by the few lines a case needs, then
taken the whole way — generate, LibreOffice recalculation equal to the Python recompute,
fill/extract round trip, check (right data: no flag; wrong data: the declared code), report.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from selfeval_xl.jobs.checking import check_workbook, report_workbook
from selfeval_xl.checks import check
from selfeval_xl.core.model import Department
from selfeval_xl.core.region import ProfileError
from selfeval_xl.forms.layout import compile_layout
from selfeval_xl.forms.regions import load_region
from selfeval_xl.xlsx.read import extract
from selfeval_xl.xlsx.write import shape_for, write_workbook

from .conftest import model_diff
from .test_libreoffice import compare_recalculated

HERE = Path(__file__).parent
PROJECT_ONLY = HERE / "regions" / "project-only"
TS = dt.datetime(2024, 1, 1)

# 一级 with no weight: only the total (100 − 执行率 10 = 90) is fixed
TOTAL_ONLY = '''
[[level1]]
key = "output"
name = "产出指标"
level2 = [
  { key = "quantity", name = "数量指标", rows = 2 },
  { key = "cost", name = "成本指标", rows = 1, ceiling = true },
]

[[level1]]
key = "benefit"
name = "效益指标"
level2 = [{ key = "social", name = "社会效益指标", rows = 2 }]

[[level1]]
key = "satisfaction"
name = "满意度指标"
level2 = [{ key = "satisfaction", name = "服务对象满意度指标", rows = 1 }]
'''

PER_LEVEL = TOTAL_ONLY.replace('name = "产出指标"\n', 'name = "产出指标"\nweight = 50\n').replace(
    'name = "效益指标"\n', 'name = "效益指标"\nweight = 30\n').replace(
    'name = "满意度指标"\n', 'name = "满意度指标"\nweight = 10\n')

DEFAULT_BLOCK = 'indicators = { key = ".", group = "绩\\n效\\n指\\n标", levels = "project" }'
_LEVEL1 = re.compile(r"\n\[\[level1\]\].*?(?=\n\[projects\])", re.S)


def draw_region(tmp_path: Path, level1: str = TOTAL_ONLY, block: str = DEFAULT_BLOCK, extra: str = "",
                name: str = "ind-region") -> Path:
    """The project-only region with ``level1`` as its indicator rules and ``block`` (the lines
    after ``[[block]]``) as its indicator block; ``extra`` follows that block (e.g. its checks)."""
    dest = tmp_path / name
    shutil.copytree(PROJECT_ONLY, dest)
    toml = dest / "region.toml"
    text = toml.read_text(encoding="utf-8")
    assert _LEVEL1.search(text) and 'id = "project-only"' in text
    text = text.replace('id = "project-only"', f'id = "{name}"')
    toml.write_text(_LEVEL1.sub(lambda _m: "\n" + level1.strip() + "\n", text, count=1), encoding="utf-8")
    form = dest / "forms" / "project.toml"
    text = form.read_text(encoding="utf-8")
    assert DEFAULT_BLOCK in text
    # a drawn table wider than the region's nine printed columns (group label + its columns) prints whole
    assert "print_cols = 9\n" in text
    columns = re.search(r"columns = \[([^]]*)\]", block)
    if columns and columns.group(1).count(",") + 2 > 9:
        text = text.replace("print_cols = 9\n", f"print_cols = {columns.group(1).count(',') + 2}\n")
    form.write_text(text.replace(DEFAULT_BLOCK, block.strip() + "\n" + extra.strip() + "\n"), encoding="utf-8")
    return dest


def unit(region: Path, indicators: list[dict], **project) -> Department:
    p = {"name": "测试项目", "category": "项目支出",
         "funds": {"current": {"initial": 100, "full": 100, "executed": 95}}, **project}
    p["indicators"] = indicators
    return Department(code="9001", name="测试单位", year=2023, profile=str(region), projects=[p])


def ind(l1: str, l2: str, name: str, weight: float | None, score: float | None, **more) -> dict:
    return {"level1": l1, "level2": l2, "name": name, "target": "≥95%", "actual": "98%", "weight": weight,
            "score": score, **more}


def cells(layout):
    return [(sh, c) for sh in layout.sheets for c in sh.cells]


def codes(dept: Department, profile) -> list[str]:
    return [f.code for f in check(dept, profile).flags]


def whole_way(tmp_path: Path, dept: Department, soffice: str | None = None) -> dict:
    """generate → (LibreOffice recalculation = recompute) → extract(fill) == data → check → report."""
    profile = load_region(dept.profile)
    path = write_workbook(dept, profile, tmp_path / f"{dept.code}.xlsx", generated_at=TS)
    back = extract(path).model_copy(update={"profile": dept.profile})  # the id read back, not the folder
    assert back == dept, model_diff(back, dept)[:10]
    if soffice:
        mismatches, checked, _ = compare_recalculated([dept], tmp_path / "recalc")
        assert checked > 10 and not mismatches, mismatches[:10]
    result = check_workbook(path)
    assert result["status"] != "无法读取", result
    rep = report_workbook(path, tmp_path / "out")
    assert rep.get("report"), rep
    with zipfile.ZipFile(rep["report"]) as z:
        result["report_xml"] = z.read("word/document.xml").decode("utf-8")
    return result


# -- weights fixed per 一级 or only in total -----------------------------------------------------

ALL_UNDER_OUTPUT = [ind("产出指标", "数量指标", "培训人次", 60, 60), ind("产出指标", "成本指标", "培训成本", 30, 30,
                                                                  target="≤10万元", actual="9万元")]


def test_total_only_weights_take_90_points_under_output_without_weight_101(tmp_path):
    region = draw_region(tmp_path)
    profile = load_region(region)
    assert not profile.weights_fixed_per_level1() and profile.indicator_total() == 90
    got = codes(unit(region, ALL_UNDER_OUTPUT), profile)
    assert "WEIGHT-101" not in got and "WEIGHT-103" not in got, got
    # the same rows under per-一级 weights are wrong twice (产出 90 ≠ 50, 效益 0 rows: no flag)
    fixed = draw_region(tmp_path, PER_LEVEL, name="per-level")
    assert codes(unit(fixed, ALL_UNDER_OUTPUT), load_region(fixed)).count("WEIGHT-101") == 1


def test_total_only_weights_still_check_the_total(tmp_path):
    region = draw_region(tmp_path)
    profile = load_region(region)
    rows = [ind("产出指标", "数量指标", "培训人次", 50, 50), ind("效益指标", "社会效益指标", "群众受益", 30, 30)]
    flags = [f for f in check(unit(region, rows), profile).flags if f.code.startswith("WEIGHT")]
    assert [(f.code, f.stated, f.expected) for f in flags] == [("WEIGHT-103", 80, 90)]
    assert "合计应为 90" in flags[0].message and flags[0].location.startswith("项目表(1)!")


def test_total_only_weights_in_the_workbook(tmp_path):
    region = draw_region(tmp_path)
    profile = load_region(region)
    dept = unit(region, ALL_UNDER_OUTPUT)
    layout = compile_layout(profile, shape_for(dept, profile))
    labels = {c.text for _sh, c in cells(layout) if c.kind == "label" and isinstance(c.text, str)}
    assert "产出指标" in labels and not any(t.startswith("产出指标\n（") for t in labels)
    assert not any(".hint.level1." in (c.key or "") for _sh, c in cells(layout))
    result = whole_way(tmp_path, dept)
    assert not [f for f in result["flags"] if f["code"].startswith(("WEIGHT", "SCORE", "CALC"))], result["flags"]
    words = re.sub(r"<[^>]+>", " ", result["report_xml"]).split()
    assert "绩效自评得分99.5分" in " ".join(words)  # 9.5 for the rate + 90
    assert words[words.index("产出指标") + 1] == "数量指标"  # the 一级 printed without a fixed weight


@pytest.mark.libreoffice
def test_total_only_weights_recalculate_in_libreoffice_as_in_python(soffice, tmp_path):
    region = draw_region(tmp_path)
    whole_way(tmp_path, unit(region, ALL_UNDER_OUTPUT), soffice)


def test_weights_given_for_some_level1_only_are_refused(tmp_path):
    half = TOTAL_ONLY.replace('name = "产出指标"\n', 'name = "产出指标"\nweight = 50\n')
    with pytest.raises(ProfileError, match="要么每个一级指标都写 weight"):
        load_region(draw_region(tmp_path, half))


# -- the percentage input type -------------------------------------------------------------------

PERCENT_BLOCK = '''
[[block]]
grid = \'\'\'
项目完成率 ::header | < | $.completion:percent | 完成率得分 ::header | =.completion_points:score
\'\'\'

[block.formulas]
".completion_points" = '=IF(ISNUMBER({.completion}),ROUND(10*{.completion},2),"")'
'''


def _percent_unit(region: Path, value) -> Department:
    return unit(region, ALL_UNDER_OUTPUT, figures={"completion": value})


def _percent_cell(region: Path, dept: Department):
    profile = load_region(region)
    layout = compile_layout(profile, shape_for(dept, profile))
    sh, cell = layout.where["projects[0].completion"]
    return sh.name, cell.r + 1, cell.c + 1


def test_a_percent_input_is_a_fraction_formatted_and_validated_as_a_percentage(tmp_path):
    region = draw_region(tmp_path, extra=PERCENT_BLOCK)
    dept = _percent_unit(region, 0.95)
    result = whole_way(tmp_path, dept)
    assert not [f for f in result["flags"] if f["code"].startswith(("READ", "CALC"))], result["flags"]
    assert "95.00%" in re.sub(r"<[^>]+>", "", result["report_xml"])  # the report prints it as a percentage
    name, row, col = _percent_cell(region, dept)
    ws = openpyxl.load_workbook(tmp_path / "9001.xlsx")[name]
    cell = ws.cell(row, col)
    assert cell.value == 0.95 and cell.number_format == "0.00%" and not cell.protection.locked
    [dv] = [dv for dv in ws.data_validations.dataValidation if cell.coordinate in dv.sqref]
    assert (dv.type, dv.operator or "between", float(dv.formula1), float(dv.formula2)) == ("decimal", "between", 0, 1)


@pytest.mark.libreoffice
def test_a_percent_input_recalculates_in_libreoffice_as_in_python(soffice, tmp_path):
    region = draw_region(tmp_path, extra=PERCENT_BLOCK)
    whole_way(tmp_path, _percent_unit(region, 0.875), soffice)


@pytest.mark.parametrize("typed, read, code", [
    (0.95, 0.95, None),  # what Excel stores for a typed 95%
    (1, 1.0, None),  # 100 %
    (0.5, 0.5, None),  # within bounds as a fraction: always the fraction (the cell shows 50.00%)
    (95, 0.95, "READ-113"),  # a clerk's 95 where the percent format was lost: unambiguous, said
    (100, 1.0, "READ-113"),
    ("95%", 0.95, "READ-101"),  # text with its sign: the sign says the scale
    ("９５％", 0.95, "READ-101"),
    ("95", 0.95, "READ-113 READ-101"),  # …and said to be text (Excel's sums skip it)
    (250, None, "READ-114"),  # neither 25000 % nor 250 % fits: blank, an error
    ("abc", None, "READ-102"),
])
def test_a_clerks_typing_in_a_percent_cell(tmp_path, typed, read, code):
    region = draw_region(tmp_path, extra=PERCENT_BLOCK)
    dept = _percent_unit(region, 0.95)
    path = write_workbook(dept, load_region(region), tmp_path / "x.xlsx", generated_at=TS)
    name, row, col = _percent_cell(region, dept)
    wb = openpyxl.load_workbook(path)
    wb[name].cell(row, col).value = typed
    wb.save(path)
    result = check_workbook(path)
    back = extract(path)
    assert back.projects[0].figures.get("completion") == read
    got = [f for f in result["flags"] if f["location"].endswith(f"!{openpyxl.utils.get_column_letter(col)}{row}")]
    assert [f["code"] for f in got] == (code.split() if code else []), got
    if code == "READ-101":  # as info (read as 95 %), or as a warning where Excel's totals leave it out
        assert "按 95% 读取" in got[0]["message"] or "按 0.95 读取" in got[0]["message"], got
    if code and code.startswith("READ-113"):
        assert f"已按 {float(str(typed)):g}% 读取" in got[0]["message"]


# -- declared columns ------------------------------------------------------------------------------

# a flat list: no 一级/二级 columns (the rules still group the rows: one 一级, one 二级)
FLAT = '''
[[level1]]
key = "all"
name = "绩效指标"
level2 = [{ key = "rows", name = "绩效指标", rows = 5 }]
'''
FLAT_BLOCK = ('indicators = { key = ".", group = "绩效指标", levels = "project", '
              'columns = ["name", "initial_value", "adjusted_value", "actual", "weight", "score", "core", "deviation"], '
              'headers = ["指标名称", "年初指标值", "调整指标值", "完成值", "权重", "得分", "是否核心指标", "未完成原因分析"] }')


def flat_row(name, weight, score, **more):
    return {"level1": "绩效指标", "level2": "绩效指标", "name": name, "initial_value": "≥90%", "adjusted_value": "≥95%",
            "actual": "98%", "weight": weight, "score": score, "core": "是", **more}


FLAT_ROWS = [flat_row("培训合格率", 50, 50), flat_row("群众满意度", 40, 40, core="否")]


def test_a_flat_list_with_declared_columns_goes_the_whole_way(tmp_path):
    region = draw_region(tmp_path, FLAT, FLAT_BLOCK)
    profile = load_region(region)
    dept = unit(region, FLAT_ROWS)
    layout = compile_layout(profile, shape_for(dept, profile))
    sh, weight = layout.where["projects[0].ind.rows.0.weight"]
    header = {c.c: c.text for c in sh.cells if c.kind == "label" and c.r == weight.r - 1}
    assert [header[c] for c in range(1, 9)] == ["指标名称", "年初指标值", "调整指标值", "完成值", "权重", "得分",
                                                "是否核心指标", "未完成原因分析"]
    _sh, core = layout.where["projects[0].ind.rows.0.core"]
    assert core.choices == ("是", "否") and core.c == 7
    result = whole_way(tmp_path, dept)
    assert not [f for f in result["flags"] if f["code"].startswith(("WEIGHT", "SCORE", "IND-20", "CALC"))], \
        result["flags"]
    words = re.sub(r"<[^>]+>", " ", result["report_xml"]).split()
    assert "调整指标值" in words and "是否核心指标" in words and "培训合格率" in words
    assert "一级指标" not in words  # nothing of the 一级/二级 columns the form does not have


@pytest.mark.libreoffice
def test_a_flat_list_recalculates_in_libreoffice_as_in_python(soffice, tmp_path):
    region = draw_region(tmp_path, FLAT, FLAT_BLOCK)
    whole_way(tmp_path, unit(region, FLAT_ROWS), soffice)


def test_a_flat_list_checks_its_rows_against_the_adjusted_target(tmp_path):
    region = draw_region(tmp_path, FLAT, FLAT_BLOCK)
    profile = load_region(region)
    # 完成 92% against the adjusted ≥95% (not the initial ≥90%): not full marks; no reason given
    rows = [flat_row("培训合格率", 50, 50, actual="92%"), flat_row("群众满意度", 40, 30, core="可能")]
    flags = check(unit(region, rows), profile).flags
    by = {(f.code, f.key): f for f in flags}
    first = by[("IND-201", "projects[0].ind.rows.0.score")]
    assert "指标值“≥95%”" in first.message and "建议得分 48.42" in first.message  # 92 / 95 × 50
    assert ("IND-202", "projects[0].ind.rows.1.deviation") in by  # 30 of 40 and no 未完成原因分析
    core = by[("IND-205", "projects[0].ind.rows.1.core")]
    assert "“可能”" in core.message and core.location == "项目表(1)!H14"  # H: the 7th declared column after A
    assert not [f for f in flags if f.code == "IND-205" and f.key.endswith("0.core")]


def test_a_form_without_a_reason_column_asks_for_none(tmp_path):
    block = FLAT_BLOCK.replace(', "deviation"]', "]").replace(', "未完成原因分析"]', "]")
    region = draw_region(tmp_path, FLAT, block)
    profile = load_region(region)
    rows = [flat_row("培训合格率", 50, 45), flat_row("群众满意度", 40, 40)]
    got = codes(unit(region, rows), profile)
    assert "IND-202" not in got and "SCORE-103" not in got
    layout = compile_layout(profile, shape_for(unit(region, rows), profile))
    assert "projects[0].ind.rows.0.deviation" not in layout.where


def test_level2_without_level1_columns(tmp_path):
    block = ('indicators = { key = ".", levels = "project", columns = ["level2", "name", "target", "actual", "weight", '
             '"score"], headers = ["二级指标", "三级指标", "指标值", "完成值", "分值", "得分"] }')
    region = draw_region(tmp_path, TOTAL_ONLY, block)
    profile = load_region(region)
    dept = unit(region, ALL_UNDER_OUTPUT)
    layout = compile_layout(profile, shape_for(dept, profile))
    sh, name = layout.where["projects[0].ind.quantity.0.name"]
    labels = {(c.r, c.c): c.text for c in sh.cells if c.kind == "label"}
    assert labels[(name.r, 1)] == "数量指标" and name.c == 2
    assert "产出指标" not in labels.values()
    whole_way(tmp_path, dept)


@pytest.mark.parametrize("block, words", [
    ('indicators = { key = ".", columns = ["name", "weight", "score", "bogus"] }', "未知：bogus"),
    ('indicators = { key = ".", columns = ["name", "target", "weight"] }', "缺少：score"),
    # no 分值 column needs a weight per 一级 (tests/test_fixed_level1_weights.py); these 一级 have none
    ('indicators = { key = ".", columns = ["name", "target", "score"] }', "没有分值列（weight）"),
    ('indicators = { key = ".", columns = ["level1", "name", "name", "weight", "score"] }', "重复：name"),
    ('indicators = { key = ".", columns = ["level1", "name", "weight", "score"], headers = ["一级", "三级", "分值"] }',
     "headers 应有 4 个"),
])
def test_bad_columns_are_refused_naming_file_and_line(tmp_path, block, words):
    region = draw_region(tmp_path, TOTAL_ONLY, block)
    with pytest.raises(ProfileError) as e:
        load_region(region)
    assert "project.toml" in str(e.value) and "行" in str(e.value) and words in str(e.value), str(e.value)


# -- the score per row as a declared formula -------------------------------------------------------

COEF_BLOCK = ('indicators = { key = ".", group = "绩效指标", levels = "project", '
              'columns = ["level1", "level2", "name", "target", "actual", "weight", "coefficient", "score", "deviation"], '
              'headers = ["一级指标", "二级指标", "三级指标", "指标值", "完成值", "权重", "得分系数", "得分", "偏差原因"] }')
COEF_FORMULA = '''
[block.formulas]
score = '=IF(AND(ISNUMBER({coefficient}),ISNUMBER({weight})),ROUND({coefficient}*{weight},2),"")'

[block.checks]
score = { code = "TST-201", message = "得分应等于 得分系数 × 权重", severity = "error", tolerance = "score" }
'''


def coef(l1, l2, name, weight, coefficient, **more):
    return {"level1": l1, "level2": l2, "name": name, "target": "≥95%", "actual": "98%", "weight": weight,
            "coefficient": coefficient, **more}


COEF_ROWS = [coef("产出指标", "数量指标", "培训人次", 50, 1.0), coef("效益指标", "社会效益指标", "群众受益", 30, 1.0),
             coef("满意度指标", "服务对象满意度指标", "满意度", 10, 0.95, actual="93%", target="≥95%",
                  deviation="个别学员未参加回访")]


def test_a_score_formula_is_a_live_excel_formula_recomputed_in_python(tmp_path):
    region = draw_region(tmp_path, TOTAL_ONLY, COEF_BLOCK, COEF_FORMULA)
    profile = load_region(region)
    dept = unit(region, COEF_ROWS)
    layout = compile_layout(profile, shape_for(dept, profile))
    sh, cell = layout.where["projects[0].ind.satisfaction.0.score"]
    assert cell.kind == "formula" and "ROUND(" in layout.formula_of(sh, cell)
    assert cell.check.code == "TST-201"
    result = whole_way(tmp_path, dept)
    assert not [f for f in result["flags"] if f["code"].startswith(("TST", "SCORE", "WEIGHT", "CALC"))], \
        result["flags"]
    ws = openpyxl.load_workbook(tmp_path / "9001.xlsx")[sh.name]
    assert str(ws.cell(cell.r + 1, cell.c + 1).value).startswith("=IF(AND(ISNUMBER(")
    assert openpyxl.load_workbook(tmp_path / "9001.xlsx", data_only=True)[sh.name].cell(cell.r + 1, cell.c + 1).value \
        == 9.5  # 0.95 × 10, cached by the writer
    assert "绩效自评得分99分" in " ".join(re.sub(r"<[^>]+>", " ", result["report_xml"]).split())  # 9.5 + 50 + 30 + 9.5


@pytest.mark.libreoffice
def test_a_score_formula_recalculates_in_libreoffice_as_in_python(soffice, tmp_path):
    region = draw_region(tmp_path, TOTAL_ONLY, COEF_BLOCK, COEF_FORMULA)
    whole_way(tmp_path, unit(region, COEF_ROWS), soffice)


def test_a_stated_score_other_than_the_formula_is_the_declared_code(tmp_path):
    region = draw_region(tmp_path, TOTAL_ONLY, COEF_BLOCK, COEF_FORMULA)
    profile = load_region(region)
    key = "projects[0].ind.satisfaction.0.score"
    dept = unit(region, COEF_ROWS).model_copy(update={"stated": {key: 10}})
    [flag] = [f for f in check(dept, profile).flags if f.key == key and f.code != "IND-201"]  # 93 of ≥95: a warning too
    assert (flag.code, flag.stated, flag.expected) == ("TST-201", 10, 9.5)
    assert flag.message.startswith("得分应等于 得分系数 × 权重")
    # in a returned workbook: the formula typed over with 10
    path = write_workbook(unit(region, COEF_ROWS), profile, tmp_path / "x.xlsx", generated_at=TS)
    sh, cell = compile_layout(profile, shape_for(dept, profile)).where[key]
    wb = openpyxl.load_workbook(path)
    wb[sh.name].cell(cell.r + 1, cell.c + 1).value = 10
    wb.save(path)
    got = [f for f in check_workbook(path)["flags"] if f["key"] == key]
    assert "TST-201" in [f["code"] for f in got], got


def test_the_rules_still_judge_a_computed_score(tmp_path):
    region = draw_region(tmp_path, TOTAL_ONLY, COEF_BLOCK, COEF_FORMULA)
    profile = load_region(region)
    rows = [coef("产出指标", "数量指标", "培训人次", 50, 0.8), coef("效益指标", "社会效益指标", "群众受益", 40, 1.2)]
    flags = check(unit(region, rows), profile).flags
    got = {(f.code, f.key) for f in flags}
    assert ("IND-202", "projects[0].ind.quantity.0.deviation") in got  # 40 of 50, no reason
    assert ("SCORE-103", "projects[0].ind.social.0.score") in got  # 48 > 40
    assert not [f for f in flags if f.code in ("SCORE-105", "TST-201")]  # computed: never "未填得分"


def test_a_formula_for_a_column_the_table_lacks_is_refused(tmp_path):
    bad = COEF_FORMULA.replace("score = '=IF", "bogus = '=IF").replace('score = { code = "TST-201"', "# ")
    with pytest.raises(ProfileError) as e:
        load_region(draw_region(tmp_path, TOTAL_ONLY, COEF_BLOCK, bad))
    assert "project.toml" in str(e.value) and "bogus" in str(e.value)


# -- every region drawn here passes `region check` (the proof a template goes out on) -------------

@pytest.mark.parametrize("level1, block, extra", [
    (TOTAL_ONLY, DEFAULT_BLOCK, ""),
    (TOTAL_ONLY, DEFAULT_BLOCK, PERCENT_BLOCK),
    (FLAT, FLAT_BLOCK, ""),
    (TOTAL_ONLY, COEF_BLOCK, COEF_FORMULA),
], ids=["total-only", "percent", "flat", "coefficient-formula"])
def test_the_drawn_regions_are_proven(tmp_path, level1, block, extra):
    from selfeval_xl.jobs.proving import prove
    prove(load_region(draw_region(tmp_path, level1, block, extra)), force=True)
