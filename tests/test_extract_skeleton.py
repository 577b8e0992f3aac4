"""``extract`` of a blank template lists the keys the region's forms declare, and no others.

The README's way to learn a region's data format is to extract a blank template and fill in what
it shows. Project-only regions were shown the model's built-in project fields whatever their forms
print: 附件1's ``prior_year_final`` under national-2020, 上年结转资金 under 四川 (whose form has no such
row), and under 广水 (a form that keeps its money under its own keys ``money.*``, with no 主管部门 or
年度目标 rows) the whole ``funds`` block, ``goal_expected``, ``competent_dept`` … and every indicator
column of the model. Now each project keeps what names it (name, category, its rows and figures)
and the cells its form has; each indicator row its 一级/二级/name and its table's columns; what is
filled is never dropped; and ``fill`` takes the skeleton back as is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfeval_xl.cli import app

HERE = Path(__file__).parent
runner = CliRunner()
ROSTER = "单位编码,单位名称,项目名称\n701001,某中心,甲项目\n"


def blank_skeleton(tmp_path: Path, region: str) -> dict:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    res = runner.invoke(app, ["generate", str(tmp_path / "roster.csv"), "-o", str(tmp_path / "tpl"),
                              "--year", "2023", "-p", region])
    assert res.exit_code == 0, res.output
    [book] = (tmp_path / "tpl").glob("*.xlsx")
    res = runner.invoke(app, ["extract", str(book), "-o", str(tmp_path / "blank.json")])
    assert res.exit_code == 0, res.output
    return json.loads((tmp_path / "blank.json").read_text(encoding="utf-8"))


MODEL_ROW = {"target", "actual", "weight", "score", "deviation", "nature", "value", "unit", "initial_value",
             "adjusted_value", "coefficient", "core", "criteria"}


def test_a_form_with_its_own_money_keys_lists_none_of_the_models_project_fields(tmp_path):
    data = blank_skeleton(tmp_path, str(HERE / "regions" / "guangshui-2019"))
    [project] = data["projects"]
    assert set(project) == {"name", "category", "indicators", "figures"}, set(project)
    assert project["name"] == "甲项目"
    assert {"money.central", "money.executed", "fill_date", "goal"} <= set(project["figures"])
    # its scorecard rows: the columns its table has (年初目标值, 实际完成值, 分值, 得分, 评分标准) only
    row = project["indicators"][0]
    assert set(row) - {"level1", "level2", "name"} < MODEL_ROW
    assert {"target", "deviation", "nature", "coefficient", "core"}.isdisjoint(row), row
    assert row["weight"] == 2.0 and row["criteria"]  # printed by the region: kept


@pytest.mark.parametrize("region, absent, present", [
    ("national-2020", {"prior_year_final"}, {"competent_dept", "implementing_unit", "goal_expected", "goal_actual"}),
    (str(HERE / "regions" / "project-only"), {"prior_year_final"}, {"goal_expected"}),
], ids=["national-2020", "project-only"])
def test_a_project_form_lists_its_own_cells_and_not_the_basic_tables(tmp_path, region, absent, present):
    data = blank_skeleton(tmp_path, region)
    [project] = data["projects"]
    assert absent.isdisjoint(project) and present <= set(project), set(project)
    assert set(project["funds"]) == {"current", "carryover", "other"}
    assert "basic" not in data and "overall" not in data


def test_sichuans_funds_have_no_carryover_row(tmp_path):
    data = blank_skeleton(tmp_path, "sichuan-2023")
    [project] = data["projects"]
    assert set(project["funds"]) == {"current", "other"}, project["funds"]
    assert "prior_year_final" not in project


def test_the_skeleton_goes_back_in_as_is_and_hunan_keeps_its_fields(tmp_path):
    region = str(HERE / "regions" / "guangshui-2019")
    data = blank_skeleton(tmp_path, region)
    data["projects"][0]["figures"].update({"money.central": 100.0, "money.executed": 98.5})
    (tmp_path / "filled.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    res = runner.invoke(app, ["fill", str(tmp_path / "filled.json"), "-o", str(tmp_path / "x.xlsx"), "-p", region])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["extract", str(tmp_path / "x.xlsx"), "-o", str(tmp_path / "back.json")])
    assert res.exit_code == 0, res.output
    back = json.loads((tmp_path / "back.json").read_text(encoding="utf-8"))
    assert back["projects"] == data["projects"]
    # 岳阳's 附件1 prints each project's 上年决算数: its skeleton still asks for it
    hunan = blank_skeleton(tmp_path / "yy", "yueyang-2023")
    assert "prior_year_final" in hunan["projects"][0] and "carryover" in hunan["projects"][0]["funds"]
