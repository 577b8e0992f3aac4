"""``fill``: a project's category may go unsaid where the region has nothing to choose from.

A data file for national-2020 (one category, 项目支出) or for 广水 (a region that declares no
``[projects]`` at all, so one default category) had to say ``"category": "项目支出"`` for every
project, or ``fill`` stopped with "projects.0.category：缺少此项". Now such a project takes the
region's only category. Where the region has several (岳阳: 业务工作经费 / 运行维护经费 / 市级专项资金)
there is no guessing which 附件1 group a project belongs to: the data file is refused, naming the
file, each project that says none, and the categories to choose from. An empty category is said,
not missing (a project not listed in 附件1), and stays as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from selfeval_xl.cli import app
from selfeval_xl.core.examples import examples_dir

from .test_shipped_regions import NATIONAL

HERE = Path(__file__).parent
runner = CliRunner()


def _fill(tmp_path: Path, data: dict, *options: str):
    src = tmp_path / "某单位数据.json"
    src.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out.xlsx"
    return runner.invoke(app, ["fill", str(src), "-o", str(out), *options]), out


def _extract(tmp_path: Path, book: Path) -> dict:
    res = runner.invoke(app, ["extract", str(book), "-o", str(tmp_path / "back.json")])
    assert res.exit_code == 0, res.output
    return json.loads((tmp_path / "back.json").read_text(encoding="utf-8"))


def test_a_one_category_region_needs_no_category(tmp_path):
    data = json.loads(json.dumps(NATIONAL))
    del data["projects"][0]["category"]
    res, out = _fill(tmp_path, data)
    assert res.exit_code == 0, res.output
    [project] = _extract(tmp_path, out)["projects"]
    assert project["category"] == "项目支出" and project["name"] == NATIONAL["projects"][0]["name"]


def test_a_region_that_declares_no_categories_needs_none_either(tmp_path):
    region = HERE / "regions" / "guangshui-2019"
    data = {"code": "421001", "name": "某局", "year": 2019,
            "projects": [{"name": "甲项目", "figures": {"money.central": 100.0, "money.executed": 98.0}},
                         {"name": "乙项目", "category": None}]}
    res, out = _fill(tmp_path, data, "-p", str(region))
    assert res.exit_code == 0, res.output
    back = _extract(tmp_path, out)
    assert [(p["name"], p["category"]) for p in back["projects"]] == [("甲项目", "项目支出"), ("乙项目", "项目支出")]


def test_a_region_with_several_categories_names_the_file_the_project_and_the_choices(tmp_path):
    data = json.loads((examples_dir() / "data" / "001_岳阳市档案馆.json").read_text(encoding="utf-8"))
    named = data["projects"][1]["name"]
    del data["projects"][1]["category"]
    res, out = _fill(tmp_path, data)
    assert res.exit_code == 2 and not out.exists()
    said = res.output
    assert "某单位数据.json" in said and f"第 2 个项目“{named}”没有写项目类别" in said, said
    assert "业务工作经费、运行维护经费、市级专项资金" in said and "Field required" not in said, said
    assert "第 1 个项目" not in said  # the projects that say theirs are not named


def test_an_empty_category_is_said_not_missing(tmp_path):
    """"" is a project outside 附件1 (a spare sheet read back): kept, in a region with several too."""
    data = json.loads((examples_dir() / "data" / "001_岳阳市档案馆.json").read_text(encoding="utf-8"))
    data["projects"][1]["category"] = ""
    data["projects"][1]["prior_year_final"] = None
    res, out = _fill(tmp_path, data)
    assert res.exit_code == 0, res.output
    assert _extract(tmp_path, out)["projects"][1]["category"] == ""


def test_a_category_the_region_does_not_have_is_refused_not_dropped_from_the_basic_table(tmp_path):
    """业务经费 for 业务工作经费: before, the project fell out of 附件1's groups without a word."""
    data = json.loads((examples_dir() / "data" / "001_岳阳市档案馆.json").read_text(encoding="utf-8"))
    named = data["projects"][2]["name"]
    data["projects"][2]["category"] = "业务经费"
    res, out = _fill(tmp_path, data)
    assert res.exit_code == 2 and not out.exists(), res.output
    said = res.output
    assert "某单位数据.json" in said and f"第 3 个项目“{named}”的项目类别“业务经费”不是本地区的类别" in said, said
    assert "业务工作经费、运行维护经费、市级专项资金" in said, said
