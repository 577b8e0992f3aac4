"""A region is a folder of data: shipped ones load; broken ones are refused naming file, line, key."""

from __future__ import annotations

import shutil

import pytest

from selfeval_xl.forms.cells import Shape
from selfeval_xl.forms.layout import compile_layout
from selfeval_xl.forms.regions import REGION_DIR, available_profiles, get_profile, load_region
from selfeval_xl.core.region import ProfileError


def test_shipped_regions_load_and_weights_add_to_total():
    assert {"yueyang-2023", "sample-50-40-10"} <= set(available_profiles())
    for pid in available_profiles():
        p = get_profile(pid)
        scored = p.scoring.execution_weight if p.scoring.execution_scored else 0
        assert p.indicator_total() + scored == p.scoring.total
        if p.weights_fixed_per_level1():
            assert sum(l1.weight for l1 in p.level1) == p.indicator_total()
        else:  # only the total fixed (sichuan-2023): no 一级 carries a weight
            assert all(l1.weight is None for l1 in p.level1)
        assert p.sources and len(p.digest) == 64


def test_yueyang_matches_the_seeds_rules():
    p = get_profile("yueyang-2023")
    assert [(l1.name, l1.weight) for l1 in p.level1] == [("产出指标", 50), ("效益指标", 30), ("满意度指标", 10)]
    assert p.scoring.execution_weight == 10 and p.scoring.execution_scored
    assert p.scoring.execution_rate_percent_decimals == 0  # 98.91% -> 99% -> 9.9
    assert len(p.report.sections) == 10
    # slots: at least the seeds' maximum per 二级 (5 数量指标 rows in seed 001) plus two spare
    assert dict((l2.name, l2.rows) for _, l2 in p.level2_all())["数量指标"] >= 7
    assert [p.grade_for(x) for x in (95, 90, 89.99, 80, 60, 59.9)] == ["优", "优", "良", "良", "中", "差"]


def test_second_region_differs_only_by_data():
    p = get_profile("sample-50-40-10")
    assert [l1.weight for l1 in p.level1] == [50, 40, 10]
    assert not p.scoring.execution_scored and p.scoring.show_grade_row
    assert len(p.report.sections) == 9


def _copy(tmp_path, rel: str = "region.toml", old: str = "", new: str = ""):
    """The shipped 岳阳 region copied to a temporary folder, with one textual edit in one file."""
    dest = tmp_path / "my-region"
    shutil.copytree(REGION_DIR / "yueyang-2023", dest)
    if old:
        path = dest / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return dest


def test_a_copied_folder_loads_from_its_path_with_the_same_digest(tmp_path):
    folder = _copy(tmp_path)
    p = load_region(folder)
    assert p.digest == get_profile("yueyang-2023").digest
    assert get_profile(str(folder)).digest == p.digest
    assert get_profile(str(folder / "region.toml")).id == "yueyang-2023"


def test_any_edit_changes_the_digest(tmp_path):
    folder = _copy(tmp_path, "forms/project.toml", "备注：", "注：")
    assert load_region(folder).digest != get_profile("yueyang-2023").digest


@pytest.mark.parametrize("old, new, key_text", [
    ("weight = 50", "weight = 55", "scoring.total"),
    ("execution_weight = 10 ", "", "scoring.execution_weight"),
    ("execution_scored = true", 'execution_scored = "是"', "scoring.execution_scored"),
    ('name = "经济效益指标", rows = 4', 'name = "经济效益指标", rows = 0', "level1.1.level2.0.rows"),
    ('default_category = "业务工作经费"', 'default_category = "其他"', "projects"),
    ('name = "优"\nmin = 90', 'name = "优"\nmin = 50', "grades"),
    ("show_grade_row = false", "show_grade_row = false\nunknown_key = 1", "scoring.unknown_key"),
])
def test_broken_rules_are_refused_naming_file_and_key(tmp_path, old, new, key_text):
    folder = _copy(tmp_path, "region.toml", old, new)
    with pytest.raises(ProfileError) as e:
        load_region(folder)
    assert key_text in str(e.value)
    assert "my-region/region.toml" in str(e.value)


def test_the_line_of_a_broken_rule_is_named(tmp_path):
    folder = _copy(tmp_path, "region.toml", "show_grade_row = false", 'show_grade_row = "否"')
    lines = (folder / "region.toml").read_text(encoding="utf-8").splitlines()
    want = next(i + 1 for i, ln in enumerate(lines) if ln.startswith("show_grade_row"))
    with pytest.raises(ProfileError, match=f"第 {want} 行 键 scoring.show_grade_row"):
        load_region(folder)


# each: (file, old text, new text, words the message must contain, the line it must name, or None)
FORM_BREAKS = [
    ("forms/project.toml", "| $.competent_dept |", "| $.competent dept |", "不是有效的键", "$.competent dept"),
    ("forms/project.toml", "$.funds.other.executed:money", "$.funds.other.executed:euro", "填写格类型“euro”未知", "euro"),
    ("forms/project.toml", "年度资金总额      | < | =.funds.total.initial", "年度资金总额      | < | =.funds.total.initialx",
     "计算格没有公式", "initialx"),
    ("forms/overall.toml", '"=SUM({overall.expense_basic},{overall.expense_project})"',
     '"=SUMX({overall.expense_basic},{overall.expense_project})"', "不支持的函数 SUMX", "SUMX"),
    ("forms/overall.toml", "{unit_name} ::label_left", "{unit_name} ::bold", "样式“bold”未知", "::bold"),
    ("forms/basic.toml", "三公经费 ::label_left | =basic.three_public.prior",
     "< | =basic.three_public.prior", "第一格不能是 <", "< | =basic.three_public.prior"),
    ("forms/basic.toml", 'role = "basic"', 'role = "basics"', "role", 'role = "basics"'),
    ("forms/project.toml", "repeat_rows = [0, 1]", "repeat_rows = [0, 1]\ncolour = 1", "未知的键", "colour = 1"),
    ("region.toml", '"forms/project.toml"', '"forms/projects.toml"', "找不到", None),
    ("region.toml", '"forms/project.toml"', '"../../x.toml"', "不在地区文件夹内", None),
]


@pytest.mark.parametrize("rel, old, new, words, line_text", FORM_BREAKS, ids=[b[3] for b in FORM_BREAKS])
def test_broken_form_definitions_are_refused_naming_file_line_and_key(tmp_path, rel, old, new, words, line_text):
    folder = _copy(tmp_path, rel, old, new)
    with pytest.raises(ProfileError) as e:
        load_region(folder)
    msg = str(e.value)
    assert words in msg
    assert "my-region" in msg
    if line_text is not None:
        lines = (folder / rel).read_text(encoding="utf-8").splitlines()
        want = next(i + 1 for i, ln in enumerate(lines) if line_text in ln)
        assert f"{rel} 第 {want} 行" in msg, msg


def test_unknown_region_lists_the_available_ones():
    with pytest.raises(ProfileError) as e:
        get_profile("no-such-region")
    assert "yueyang-2023" in str(e.value)


def test_invalid_toml_is_refused(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "region.toml").write_text("[profile\nid=1", encoding="utf-8")
    with pytest.raises(ProfileError, match="TOML"):
        load_region(folder)


def test_the_drawn_grid_is_what_the_sheet_holds():
    """Merges, inputs, derived cells and execution cells land where the grid draws them."""
    p = get_profile("yueyang-2023")
    layout = compile_layout(p, Shape(2023, "C1", "某单位", project_categories=("业务工作经费",)))
    sh = layout.sheet("附件3(1)")
    at = {(c.r, c.c): c for c in sh.cells}
    assert at[(4, 0)].text == "项目\n资金\n（万元）" and at[(4, 0)].merge == (8, 0)  # ^ down four rows
    assert at[(2, 2)].key == "projects[0].name" and at[(2, 2)].merge == (2, 8)  # < across six cells
    total = at[(5, 4)]
    assert total.kind == "formula" and total.formula.startswith("=SUM({projects[0].funds.current.full}")
    assert at[(5, 7)].key == "projects[0].funds.rate" and at[(5, 6)].text == "10"
    assert at[(6, 3)].prompt == "其中：当年财政拨款年初预算数（万元）"  # row label + column header
    overall = {(c.r, c.c): c for c in layout.sheet("附件2").cells}
    assert overall[(2, 0)].text == "市级预算部门名称" and overall[(2, 3)].text == "某单位"  # placeholders filled
