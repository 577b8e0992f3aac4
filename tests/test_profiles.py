"""Profiles are data: bundled ones load, broken ones are refused with the key named."""

from __future__ import annotations

import pytest

from selfeval_xl.profile import PROFILE_DIR, ProfileError, available_profiles, get_profile, load_profile_file


def test_bundled_profiles_load_and_weights_add_to_total():
    assert {"yueyang-2023", "sample-50-40-10"} <= set(available_profiles())
    for pid in available_profiles():
        p = get_profile(pid)
        scored = p.scoring.execution_weight if p.scoring.execution_scored else 0
        assert sum(l1.weight for l1 in p.level1) + scored == p.scoring.total


def test_yueyang_matches_the_seeds_rules():
    p = get_profile("yueyang-2023")
    assert [(l1.name, l1.weight) for l1 in p.level1] == [("产出指标", 50), ("效益指标", 30), ("满意度指标", 10)]
    assert p.scoring.execution_weight == 10 and p.scoring.execution_scored
    assert p.scoring.execution_rate_percent_decimals == 0  # 98.91% -> 99% -> 9.9
    assert len(p.report.sections) == 10
    # slots: at least the seeds' maximum per 二级 (5 数量指标 rows in seed 001) plus two spare
    assert dict((l2.name, l2.rows) for _, l2 in p.level2_all())["数量指标"] >= 7
    assert [p.grade_for(x) for x in (95, 90, 89.99, 80, 60, 59.9)] == ["优", "优", "良", "良", "中", "差"]


def test_second_profile_differs_only_by_data():
    p = get_profile("sample-50-40-10")
    assert [l1.weight for l1 in p.level1] == [50, 40, 10]
    assert not p.scoring.execution_scored and p.scoring.show_grade_row
    assert len(p.report.sections) == 9


def _variant(tmp_path, old: str, new: str):
    """The bundled profile with one textual edit, written to a temporary file."""
    text = (PROFILE_DIR / "yueyang-2023.toml").read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_unedited_copy_loads(tmp_path):
    assert load_profile_file(_variant(tmp_path, "[profile]", "[profile]")) == get_profile("yueyang-2023")


@pytest.mark.parametrize("old, new, key_text", [
    ("weight = 50", "weight = 55", "scoring.total"),
    ("execution_weight = 10 ", "", "scoring.execution_weight"),
    ("execution_scored = true", 'execution_scored = "是"', "scoring.execution_scored"),
    ('name = "经济效益指标", rows = 4', 'name = "经济效益指标", rows = 0', "level1.1.level2.0.rows"),
    ('default_category = "业务工作经费"', 'default_category = "其他"', "projects"),
    ('name = "优"\nmin = 90', 'name = "优"\nmin = 50', "grades"),
    ("show_grade_row = false", "show_grade_row = false\nunknown_key = 1", "scoring.unknown_key"),
])
def test_broken_profile_is_refused_naming_the_key(tmp_path, old, new, key_text):
    path = _variant(tmp_path, old, new)
    with pytest.raises(ProfileError) as e:
        load_profile_file(path)
    assert key_text in str(e.value)
    assert str(path) in str(e.value)


def test_unknown_profile_lists_the_available_ones():
    with pytest.raises(ProfileError) as e:
        get_profile("no-such-region")
    assert "yueyang-2023" in str(e.value)


def test_invalid_toml_is_refused(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text("[profile\nid=1", encoding="utf-8")
    with pytest.raises(ProfileError, match="TOML"):
        load_profile_file(path)
