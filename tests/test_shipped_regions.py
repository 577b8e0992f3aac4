"""#18 part 7: regions beyond Hunan ship — the national 财预〔2020〕10号 项目支出绩效自评表
(``national-2020``) and Sichuan's 部门预算项目支出绩效自评表 510000_0013zp (``sichuan-2023``).

For each: ``region check`` passes; a roster generates; a unit filled with the figures of a real
published table (figures only; unit names replaced) reads back, checks clean and reports with the
form's title and the project's name; a wrong typed figure is flagged at its cell; and the sheet
carries the published form's labels.
"""

from __future__ import annotations

import copy
import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfeval_xl.jobs.checking import check_workbook, report_workbook
from selfeval_xl.checks import check
from selfeval_xl.cli import app
from selfeval_xl.core.model import Department
from selfeval_xl.core.region import normalize_label
from selfeval_xl.forms.layout import compile_layout, shape_for
from selfeval_xl.forms.regions import REGION_DIR, get_profile
from selfeval_xl.files.roster import workbook_name
from selfeval_xl.xlsx.read import read_workbook
from selfeval_xl.xlsx.write import write_workbook

runner = CliRunner()
NATIONAL_DIR = REGION_DIR / "national-2020"
SICHUAN_DIR = REGION_DIR / "sichuan-2023"


def _ind(l1, l2, name, weight, score, target="", actual="", deviation="无", **split):
    return dict(level1=l1, level2=l2, name=name, target=target, actual=actual, weight=weight, score=score,
                deviation=deviation, **split)


# 廊坊市某中职学校 2019 暖通改造（research forms.md §1.4 B）: 43.2 | 43.2 | 37.24, indicator 分值 and 得分 as
# published. The published 预算 得分 is 9 and the implied 总分 98; the rule gives 10 × 86.20% = 8.62 and
# 97.62 (the research's mistake 2). Indicator names the excerpt did not show are placeholders.
NATIONAL = {
    "code": "131000002", "name": "某食品工程学校", "year": 2019, "profile": "national-2020",
    "projects": [{
        "name": "办公宿舍楼、食堂及餐厅暖通改造经费", "category": "项目支出",
        "competent_dept": "某市教育局", "implementing_unit": "某食品工程学校",
        "funds": {"current": {"initial": 43.2, "full": 43.2, "executed": 37.24}},
        "goal_expected": "完成办公宿舍楼、食堂及餐厅暖通改造，改善师生工作、学习和生活条件。",
        "goal_actual": "暖通改造工程已完工并通过验收，质保金待质保期满后支付。",
        "indicators": [
            _ind("产出指标", "数量指标", "工程资金金额", 10, 9, "43.2万元", "37.24万元", "3%质保金尚未支付，质保期满后支付"),
            _ind("产出指标", "质量指标", "工程完工率", 10, 10, "100%", "100%"),
            _ind("产出指标", "质量指标", "验收合格率", 10, 10, "100%", "100%"),
            _ind("产出指标", "时效指标", "按期完成率", 10, 10, "100%", "100%"),
            _ind("产出指标", "成本指标", "成本控制率", 10, 10, "100%", "100%"),
            _ind("效益指标", "经济效益指标", "节约运行费用", 10, 10, "有效节约", "有效节约"),
            _ind("效益指标", "社会效益指标", "改善办学条件", 10, 10, "明显改善", "明显改善"),
            _ind("效益指标", "可持续影响指标", "设施持续使用年限", 10, 10, "≥10年", "10年"),
            _ind("满意度指标", "服务对象满意度指标", "学生满意度", 10, 10, "100%", "100%"),
        ],
    }],
}

# 青神县某局 2023 工资性支出（research §2.2 E）: 年初 238.93, 调整后 251.89, 执行 251.89 (100.00%), 专户和单位
# 资金 0; indicators = 100 %, 权重 60 and 30 (产出 60 + 效益 30, no 满意度: the form fixes only the 90).
# The published 完成值 and 得分 are blank (its mistake 1): filled here as full completion.
SICHUAN = {
    "code": "511425001", "name": "某县发展和改革局", "year": 2023, "profile": "sichuan-2023",
    "projects": [{
        "name": "51142523R000000000001-工资性支出", "category": "项目支出",
        "competent_dept": "某县发展和改革局部门/本级", "implementing_unit": "某县发展和改革局",
        "funds": {"current": {"initial": 238.93, "full": 251.89, "executed": 251.89}},
        "goal_expected": "按时足额发放在职人员工资，足额缴纳社会保险。",
        "goal_actual": "全年工资按时足额发放，社会保险足额缴纳。",
        "indicators": [
            _ind("产出指标", "数量指标", "发放（缴纳）覆盖率", 60, 60, actual="100", nature="=", value="100", unit="%"),
            _ind("效益指标", "社会效益指标", "足额保障率（参保率）", 30, 30, actual="100", nature="=", value="100", unit="%"),
        ],
        "figures": {
            "funds.special.initial": 0, "funds.special.full": 0, "funds.special.executed": 0,
            "funds.unit.initial": 0, "funds.unit.full": 0, "funds.unit.executed": 0,
            "funds.reason": "年中追加人员工资调整资金 12.96 万元。",
            "implementation": "按月发放工资，按规定缴纳社会保险。",
            "eval_conclusion": "项目自评总分 100 分，工资按时足额发放。",
            "eval_problems": "无",
            "eval_improvements": "无",
        },
    }],
}

# the published forms' labels (research §1.2 and §2.1), as the sheet must print them
NATIONAL_LABELS = [
    "项目支出绩效自评表", "（2019年度）", "项目名称", "主管部门", "实施单位", "项目资金（万元）",
    "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分", "年度资金总额", "其中：当年财政拨款",
    "上年结转资金", "其他资金", "年度总体目标", "预期目标", "实际完成情况", "绩效指标", "一级指标", "二级指标",
    "三级指标", "年度指标值", "实际完成值", "偏差原因分析及改进措施", "总分",
    "产出指标（50分）", "效益指标（30分）", "满意度指标（10分）", "数量指标", "质量指标", "时效指标", "成本指标",
    "经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标", "服务对象满意度指标",
]
SICHUAN_LABELS = [
    "报表编号：510000_0013zp", "部门预算项目支出绩效自评表（2023年度）", "项目名称", "主管部门", "实施单位（盖章）",
    "项目基本情况", "1.项目年度目标完成情况", "项目年度目标", "年度目标完成情况", "2.项目实施内容及过程概述",
    "预算执行情况（10分）", "年度预算数（万元）", "年初预算", "调整后预算数", "预算执行数", "预算执行率", "权重",
    "得分", "原因", "总额", "其中：财政资金", "财政专户管理资金", "单位资金", "其他资金", "绩效指标（90分）",
    "一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "完成值", "未完成原因分析", "合计",
    "评价结论", "存在问题", "改进措施", "项目负责人：", "财务负责人：",
]

CASES = {
    "national-2020": (NATIONAL_DIR, NATIONAL, "项目支出绩效自评表", NATIONAL_LABELS),
    "sichuan-2023": (SICHUAN_DIR, SICHUAN, "部门预算项目支出绩效自评表（2023年度）", SICHUAN_LABELS),
}


def _said(res) -> str:
    try:
        return res.output + (res.stderr or "")
    except ValueError:
        return res.output


def _workbook(data: dict, folder: Path) -> Path:
    dept = Department.model_validate(data)
    path = folder / workbook_name(dept.code, dept.name, dept.year)
    write_workbook(dept, get_profile(dept.profile), path)
    return path


def _errors(result: dict) -> list[dict]:
    return [f for f in result["flags"] if f["severity"] == "error"]


def _sheet_labels(region_id: str, year: int) -> set[str]:
    profile = get_profile(region_id)
    dept = Department.model_validate(CASES[region_id][1]).model_copy(update={"year": year})
    layout = compile_layout(profile, shape_for(dept, profile))
    sheet = next(sh for sh in layout.sheets if sh.role == "project")
    return {normalize_label(c.text) for c in sheet.cells if c.kind == "label" and isinstance(c.text, str)}


@pytest.mark.parametrize("region_id", sorted(CASES))
def test_region_check_passes(region_id):
    folder = CASES[region_id][0]
    res = runner.invoke(app, ["region", "check", str(folder)])
    assert res.exit_code == 0, _said(res)
    assert f"地区配置 {region_id}" in res.output and "通过试算" in res.output


@pytest.mark.parametrize("region_id", sorted(CASES))
def test_generate_from_roster(region_id, tmp_path):
    roster = tmp_path / "名册.csv"
    roster.write_text("单位编码,单位名称,主管部门,项目名称,年初预算数,全年预算数\n"
                      "901001,测试县交通运输局,测试县人民政府,农村公路养护项目,120,150\n"
                      "901001,测试县交通运输局,测试县人民政府,客运站运营补助,30,30\n"
                      "901002,测试县水利局,测试县人民政府,水旱灾害防御经费,880,880\n", encoding="utf-8")
    out = tmp_path / "模板"
    res = runner.invoke(app, ["generate", str(roster), "-o", str(out), "-p", region_id, "--year", "2023"])
    assert res.exit_code == 0, _said(res)
    books = sorted(out.glob("*.xlsx"))
    assert [b.name for b in books] == [workbook_name("901001", "测试县交通运输局", 2023),
                                       workbook_name("901002", "测试县水利局", 2023)]
    back = read_workbook(books[0]).dept
    assert [p.name for p in back.projects] == ["农村公路养护项目", "客运站运营补助"]
    # the roster's 年初预算数 / 全年预算数 land in the first funds row (当年财政拨款 / 财政资金)
    assert (back.projects[0].funds.current.initial, back.projects[0].funds.current.full) == (120, 150)


@pytest.mark.parametrize("region_id", sorted(CASES))
def test_published_example_round_trips_clean(region_id, tmp_path):
    _folder, data, title, _labels = CASES[region_id]
    book = _workbook(data, tmp_path)
    result = check_workbook(book)
    assert _errors(result) == [], _errors(result)
    assert result["status"] in ("通过", "有警告")
    back = read_workbook(book).dept
    want = Department.model_validate(data)
    assert back.model_dump(exclude={"stated"}) == want.model_dump(exclude={"stated"})

    report = report_workbook(book, tmp_path / "报告")
    docx = next((tmp_path / "报告").glob("*.docx"))
    with zipfile.ZipFile(docx) as z:
        text = re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode("utf-8"))
    assert title in text, report
    assert data["projects"][0]["name"] in text
    assert "项目支出绩效自评报告" in text


def test_national_scores_as_the_document_rules():
    """执行率 = 全年执行数 ÷ 全年预算数; 预算得分 = 10 × 执行率; 总分 = 10 + 50 + 30 + 10 weights."""
    dept = Department.model_validate(NATIONAL)
    d = check(dept, get_profile("national-2020")).derived
    assert d["projects[0].funds.rate"] == pytest.approx(0.862)
    assert d["projects[0].funds.score"] == pytest.approx(8.62)  # the published table wrote 9
    assert d["projects[0].weight_total"] == pytest.approx(100)
    assert d["projects[0].total_score"] == pytest.approx(97.62)


def test_sichuan_rate_is_over_the_adjusted_budget():
    """预算执行率 = 预算执行数 ÷ 调整后预算数 (not 年初预算): 251.89 / 251.89, not / 238.93."""
    dept = Department.model_validate(SICHUAN)
    d = check(dept, get_profile("sichuan-2023")).derived
    assert d["projects[0].funds.total.initial"] == pytest.approx(238.93)
    assert d["projects[0].funds.total.full"] == pytest.approx(251.89)
    assert d["projects[0].funds.rate"] == pytest.approx(1.0)
    assert d["projects[0].funds_rate.current"] == pytest.approx(1.0)
    assert d["projects[0].funds.score"] == pytest.approx(10)
    assert d["projects[0].weight_total"] == pytest.approx(100)  # 合计 权重 100 = 10 + 90
    assert d["projects[0].total_score"] == pytest.approx(100)


@pytest.mark.parametrize("region_id, cell", [("national-2020", "项目自评表(1)!H17"),
                                             ("sichuan-2023", "项目自评表(1)!J28")])
def test_score_above_its_weight_is_an_error_at_its_cell(region_id, cell, tmp_path):
    data = copy.deepcopy(CASES[region_id][1])
    data["projects"][0]["indicators"][1]["score"] = data["projects"][0]["indicators"][1]["weight"] + 5
    flags = [f for f in _errors(check_workbook(_workbook(data, tmp_path))) if f["code"] == "SCORE-103"]
    assert [f["location"] for f in flags] == [cell]


@pytest.mark.parametrize("region_id, executed, cell", [("national-2020", 45, "项目自评表(1)!F7"),
                                                       ("sichuan-2023", 260, "项目自评表(1)!F10")])
def test_execution_over_budget_is_flagged_at_the_typed_cell(region_id, executed, cell, tmp_path):
    data = copy.deepcopy(CASES[region_id][1])
    data["projects"][0]["funds"]["current"]["executed"] = executed
    flags = [f for f in check_workbook(_workbook(data, tmp_path))["flags"] if f["code"] == "RATE-201"]
    assert [f["location"] for f in flags] == [cell]


def test_sichuan_indicator_weights_must_total_90(tmp_path):
    """The form fixes only 绩效指标（90分）: 60 + 30 passes (above), 60 + 20 is an error at the first weight."""
    data = copy.deepcopy(SICHUAN)
    data["projects"][0]["indicators"][1].update(weight=20, score=20)
    flags = [f for f in _errors(check_workbook(_workbook(data, tmp_path))) if f["code"].startswith("WEIGHT")]
    assert [(f["code"], f["location"]) for f in flags] == [("WEIGHT-103", "项目自评表(1)!I15")]
    assert flags[0]["stated"] == 80 and flags[0]["expected"] == 90


def test_sichuan_takes_90_points_under_output_alone(tmp_path):
    """大英's table puts all 90 on one 产出 indicator: no “应为 …” for 产出, 效益 or 满意度."""
    data = copy.deepcopy(SICHUAN)
    data["projects"][0]["indicators"] = [data["projects"][0]["indicators"][0] | {"weight": 90, "score": 90}]
    result = check_workbook(_workbook(data, tmp_path))
    assert not [f for f in result["flags"] if f["code"].startswith(("WEIGHT", "SCORE"))], result["flags"]


def test_sichuan_prints_three_level1_rows_without_fixed_weights():
    profile = get_profile("sichuan-2023")
    assert [l1.name for l1 in profile.level1] == ["产出指标", "效益指标", "满意度指标"]
    assert not profile.weights_fixed_per_level1() and profile.indicator_total() == 90
    labels = _sheet_labels("sichuan-2023", 2023)
    assert {"产出指标", "效益指标", "满意度指标"} <= labels
    assert not any("（" in t and t.startswith(("产出指标", "效益指标", "满意度指标")) for t in labels)


@pytest.mark.parametrize("region_id", sorted(CASES))
def test_sheet_prints_the_published_labels(region_id):
    year = CASES[region_id][1]["year"]
    labels = _sheet_labels(region_id, year)
    missing = [t for t in CASES[region_id][3] if normalize_label(t) not in labels]
    assert missing == []


def test_national_other_rows_have_no_weight_or_score():
    """分值 and 得分 only on 年度资金总额: the 其中 rows print “—” in both columns."""
    profile = get_profile("national-2020")
    layout = compile_layout(profile, shape_for(Department.model_validate(NATIONAL), profile))
    sheet = next(sh for sh in layout.sheets if sh.role == "project")
    at = {(c.r, c.c): c for c in sheet.cells}
    for row_label in ("其中：当年财政拨款", "上年结转资金", "其他资金"):
        r = next(c.r for c in sheet.cells if c.kind == "label" and c.text == row_label)
        assert at[(r, 6)].text == "—" and at[(r, 8)].text == "—", row_label
