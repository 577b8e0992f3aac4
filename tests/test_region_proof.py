"""#18 parts 3 and 4: nothing is required that a region does not declare, and a region is
proven before a template goes out.

* A project-only region (tests/regions/project-only: the national 财预〔2020〕10号 项目支出绩效自评表,
  one per project, no 部门整体 table) goes generate → fill → check → report with no internal error,
  no error flag on clean data, and no message naming a 附件 it does not have.
* ``selfeval-xl region check DIR`` and ``generate`` refuse a broken region (exit 2), naming the
  file, line and key; every shipped region and the test regions pass.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfeval_xl.jobs.checking import check_workbook, report_workbook
from selfeval_xl.cli import app
from selfeval_xl.core.model import Department
from selfeval_xl.docx.report import report_context
from selfeval_xl.checks import check
from selfeval_xl.forms.regions import available_profiles, get_profile
from selfeval_xl.jobs.proving import RegionRefused, is_proven, prove
from selfeval_xl.xlsx.write import write_workbook

from .conftest import EXAMPLES

HERE = Path(__file__).parent
PROJECT_ONLY = HERE / "regions" / "project-only"
FIFTH = HERE / "regions" / "fifth-region"
runner = CliRunner()
_ATTACHMENT = re.compile(r"附件\s*\d")


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """Proofs are remembered in the user's cache folder: each test starts with its own."""
    monkeypatch.setenv("SELFEVAL_CACHE_DIR", str(tmp_path / "cache"))


def _said(res) -> str:
    try:
        return res.output + (res.stderr or "")
    except ValueError:  # a runner that mixes stderr into output
        return res.output


def _roster(path: Path) -> Path:
    path.write_text("单位编码,单位名称,项目名称\n"
                    "901001,测试县交通运输局,农村公路养护项目\n"
                    "901001,测试县交通运输局,客运站运营补助\n", encoding="utf-8")
    return path


def _indicator(l1, l2, name, target, actual, weight, score, deviation=""):
    return dict(level1=l1, level2=l2, name=name, target=target, actual=actual, weight=weight, score=score,
                deviation=deviation)


def _project(name: str, full: float, executed: float) -> dict:
    return dict(
        name=name, category="项目支出", competent_dept="测试县交通运输局", implementing_unit="测试县公路事务中心",
        funds=dict(current=dict(initial=full, full=full, executed=executed)),
        goal_expected="完成年度养护任务", goal_actual="已完成年度养护任务",
        indicators=[
            _indicator("产出指标", "数量指标", "养护里程", "≥100公里", "102公里", 20, 20),
            _indicator("产出指标", "质量指标", "优良路率", "≥85%", "90%", 10, 10),
            _indicator("产出指标", "时效指标", "完成时间", "12月31日前", "12月20日", 10, 10),
            _indicator("产出指标", "成本指标", "每公里养护成本", "≤1.5万元", "1.2万元", 10, 10),
            _indicator("效益指标", "经济效益指标", "降低运输成本", "有效降低", "有效降低", 5, 5),
            _indicator("效益指标", "社会效益指标", "群众出行条件", "明显改善", "明显改善", 10, 10),
            _indicator("效益指标", "生态效益指标", "沿线绿化", "≥90%", "95%", 5, 5),
            _indicator("效益指标", "可持续影响指标", "路况保持年限", "≥5年", "5年", 10, 10),
            _indicator("满意度指标", "服务对象满意度指标", "群众满意度", "≥90%", "96%", 10, 10),
        ])


def _clean_unit() -> Department:
    return Department.model_validate(dict(
        code="901001", name="测试县交通运输局", year=2023, profile="project-only",
        projects=[_project("农村公路养护项目", 120, 118.5), _project("客运站运营补助", 40, 40)],
        narrative=dict(sections={"basic_info": "本局实施农村公路养护和客运站运营补助两个项目。",
                                 "performance": "各项指标均已完成。", "problems": "无"}),
        signoff=dict(preparer="张三", phone="0000-0000000", date="2024年3月1日", head="李四")))


# -- part 3: a project-only region ------------------------------------------------------------------

def test_project_only_region_round_trip(tmp_path):
    out = tmp_path / "模板"
    res = runner.invoke(app, ["generate", str(_roster(tmp_path / "名册.csv")), "-o", str(out), "-p", str(PROJECT_ONLY),
                              "--year", "2023", "--workers", "1"])
    assert res.exit_code == 0, _said(res)
    [blank] = list(out.glob("*.xlsx"))

    # the blank template: said to be blank, in the region's own words (no 附件2)
    r = check_workbook(blank)
    assert r["status"] == "未填写", r
    fill101 = next(f for f in r["flags"] if f["code"] == "FILL-101")
    assert "项目表" in fill101["message"] and not _ATTACHMENT.search(fill101["message"])

    # filled from a dict, as the data a finance system exports
    filled = write_workbook(_clean_unit(), get_profile(str(PROJECT_ONLY)), tmp_path / "901001_测试县交通运输局_2023年度绩效自评.xlsx")
    r = check_workbook(filled)
    assert r["status"] != "无法读取", r
    errors = [f for f in r["flags"] if f["severity"] == "error"]
    assert not errors, errors
    for f in r["flags"]:
        assert not _ATTACHMENT.search(f["message"] + f["location"]), f
        assert "内部错误" not in f["message"]
    # what the region lacks is said once, as an info flag
    scope = [f for f in r["flags"] if f["code"] == "REG-301"]
    assert len(scope) == 1 and scope[0]["severity"] == "info" and "部门整体支出表" in scope[0]["message"]

    rep = report_workbook(filled, tmp_path)
    assert rep.get("report"), rep
    with zipfile.ZipFile(rep["report"]) as z:
        text = re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode("utf-8"))
    assert "农村公路养护项目" in text and "客运站运营补助" in text
    assert "项目支出绩效自评报告" in text and "部门整体支出全年预算数" not in text
    assert "预算执行率98.75%" in text  # each project's own figures: 118.5 / 120
    assert "内部错误" not in text


def test_a_sentence_whose_figure_is_missing_is_not_printed():
    """A region with a 部门整体 table whose unit left 全年预算数 blank: no “全年预算数万元” and no
    “预算执行率。” — the clause goes, the rest of the sentence stays."""
    dept = Department.model_validate_json((EXAMPLES / "data" / "001_岳阳市档案馆.json").read_text(encoding="utf-8"))
    dept = dept.model_copy(update={"overall": dept.overall.model_copy(update={"budget_full": None})})
    profile = get_profile("yueyang-2023")
    ctx = report_context(dept, profile, check(dept, profile))
    text = "\n".join(p["text"] for s in ctx["sections"] for p in s["paragraphs"])
    assert "全年执行数" in text
    assert "全年预算数万元" not in text and "预算执行率。" not in text and "预算执行率，" not in text


def test_executed_typed_as_an_input_is_checked(tmp_path):
    """The README says overall.executed may be typed or computed: typed, check and report work."""
    region = tmp_path / "typed-executed"
    shutil.copytree(FIFTH, region)
    overall = region / "forms" / "overall.toml"
    text = overall.read_text(encoding="utf-8").replace("| =overall.executed |", "| $overall.executed:money |")
    text = "\n".join(ln for ln in text.splitlines() if not ln.startswith('"overall.executed" ='))
    overall.write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["region", "check", str(region)])
    assert res.exit_code == 0, _said(res)


# -- part 4: a region is proven ---------------------------------------------------------------------

@pytest.mark.parametrize("region", available_profiles() + [str(FIFTH), str(PROJECT_ONLY)],
                         ids=lambda r: Path(r).name)
def test_every_region_passes_region_check(region):
    res = runner.invoke(app, ["region", "check", region])
    assert res.exit_code == 0, _said(res)
    assert "通过试算" in res.output


def _broken(tmp_path: Path, name: str) -> Path:
    region = tmp_path / name
    shutil.copytree(PROJECT_ONLY, region)
    return region


def _totals_without_indicators(tmp_path: Path) -> Path:
    region = _broken(tmp_path, "没有指标表")
    f = region / "forms" / "project.toml"
    text = f.read_text(encoding="utf-8")
    text = re.sub(r"\[\[block\]\]\nindicators = [^\n]*\n\n", "", text)
    assert "indicators" not in text
    f.write_text(text, encoding="utf-8")
    return region


def _unknown_cell(tmp_path: Path) -> Path:
    region = _broken(tmp_path, "引用不存在的格")
    f = region / "forms" / "project.toml"
    f.write_text(f.read_text(encoding="utf-8") + (
        "\n[[block]]\ntable = false\ngrid = '''\n=footer.{sheet}:text ::footer | < | < | < | < | < | < | < | <\n'''\n\n"
        "[block.formulas]\n\"footer.{sheet}\" = \"填表人：{signoff.preparer_name}\"\n"), encoding="utf-8")
    return region


def _checks_need_overall(tmp_path: Path) -> Path:
    region = _broken(tmp_path, "校验规则缺数")
    f = region / "region.toml"
    f.write_text(f.read_text(encoding="utf-8") + (
        '\n[[checks]]\ncode = "SUM-201"\nequal = ["overall.expense_basic", "overall.executed"]\n'
        'message = "基本支出应等于执行数"\n'), encoding="utf-8")
    return region


BROKEN = {
    "totals-without-indicators": (_totals_without_indicators, ["forms/project.toml", "第", "totals", "indicators"]),
    "unknown-cell": (_unknown_cell, ["forms/project.toml", "第", "signoff.preparer_name"]),
    "checks-need-overall": (_checks_need_overall, ["region.toml", "第", "overall.expense_basic", "[[checks]]"]),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_region_is_refused_by_region_check_and_generate(tmp_path, case):
    make, said = BROKEN[case]
    region = make(tmp_path)
    res = runner.invoke(app, ["region", "check", str(region)])
    assert res.exit_code == 2, _said(res)
    for words in said:
        assert words in _said(res), (words, _said(res))
    assert "内部错误" not in _said(res) and "Traceback" not in _said(res)

    out = tmp_path / "模板"
    res = runner.invoke(app, ["generate", str(_roster(tmp_path / "名册.csv")), "-o", str(out), "-p", str(region),
                              "--year", "2023", "--workers", "1"])
    assert res.exit_code == 2, _said(res)
    # refused by the proof, or earlier where loading the region already finds the fault
    assert all(words in _said(res) for words in said), _said(res)
    assert "内部错误" not in _said(res) and "Traceback" not in _said(res)
    assert not list(out.glob("*.xlsx")) if out.exists() else True  # nothing reached a clerk
    with pytest.raises(RegionRefused):
        try:
            prove(get_profile(str(region)))
        except Exception as e:  # a region that cannot even load is refused at load, with its file
            if type(e).__name__ == "ProfileError":
                raise RegionRefused(str(region), [str(e)]) from None
            raise


def test_a_pass_is_remembered_by_digest():
    profile = get_profile(str(PROJECT_ONLY))
    prove(profile, force=True)
    assert is_proven(profile)
