"""Every check of DOMAIN.md: a case that triggers it, and the clean case that does not."""

from __future__ import annotations

import pytest

from selfeval_xl.checks import check
from selfeval_xl.core.flags import ERROR, INFO, WARNING
from selfeval_xl.core.model import Department
from selfeval_xl.forms.regions import get_profile

P = get_profile("yueyang-2023")


def ind(l1, l2, name, target, actual, w, s, dev="无"):
    return dict(level1=l1, level2=l2, name=name, target=target, actual=actual, weight=w, score=s, deviation=dev)


def full_indicators():
    """A complete, consistent indicator block: 50 + 30 + 10, every 二级 present, full marks."""
    return [
        ind("产出指标", "数量指标", "接收档案", "≥1万卷", "1.2万卷", 15, 15),
        ind("产出指标", "质量指标", "合格率", "≥96%", "98%", 15, 15),
        ind("产出指标", "时效指标", "完成时间", "12月31日前", "12月31日前", 10, 10),
        ind("产出指标", "成本指标", "预算控制数", "≤100万元", "95万元", 10, 10),
        ind("效益指标", "经济效益指标", "利用率", "≥90%", "92%", 8, 8),
        ind("效益指标", "社会效益指标", "查询服务", "≥800人次", "890人次", 8, 8),
        ind("效益指标", "生态效益指标", "纸质资料", "减少", "有效减少", 7, 7),
        ind("效益指标", "可持续影响指标", "完好率", "≥96%", "100%", 7, 7),
        ind("满意度指标", "服务对象满意度指标", "满意度", "≥95%", "97%", 10, 10),
    ]


def clean(**changes) -> Department:
    data = dict(
        code="1", name="单位", year=2023, profile=P.id,
        basic=dict(staff_authorized=20, staff_actual=18, reception=dict(prior=1, budget=2, final=1.5),
                   public_funds=dict(prior=10, budget=10, final=9)),
        overall=dict(budget_initial=180, budget_full=200, expense_basic=100,
                     income=dict(general=195), indicators=full_indicators()),
        projects=[dict(name="项目甲", category="业务工作经费", prior_year_final=90,
                       funds=dict(current=dict(initial=100, full=100, executed=95)), indicators=full_indicators())],
        narrative=dict(sections={s.key: "无" for s in P.report.sections}, personnel_expense=80),
    )
    for path, value in changes.items():
        node = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        last = parts[-1]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return Department.model_validate(data)


def codes(dept, severity=None):
    return [f.code for f in check(dept, P).flags if severity is None or f.severity == severity]


def test_clean_department_has_no_error_or_warning():
    r = check(clean(), P)
    assert [f for f in r.flags if f.severity != INFO] == []
    assert r.total == pytest.approx(9.8 + 90)  # 附件2: (100 + 95) / 200 = 97.5% → 98% → 9.8
    assert r.grade == "优"
    assert {f.code for f in r.flags} == {"PRE-301"}


@pytest.mark.parametrize("change, code, severity, location", [
    ({"overall.income.general": 190}, "SUM-105", ERROR, "附件2!E7"),
    ({"overall.indicators.0.score": 16}, "SCORE-103", ERROR, "附件2!H14"),
    ({"overall.indicators.0.weight": 20, "overall.indicators.0.score": 20}, "WEIGHT-101", ERROR, "附件2!G14"),
    ({"overall.indicators.0.weight": None}, "WEIGHT-104", ERROR, "附件2!G14"),
    ({"overall.indicators.0.score": None}, "SCORE-105", ERROR, "附件2!H14"),
    ({"overall.indicators.1.score": 14, "overall.indicators.1.deviation": "无"}, "IND-202", WARNING, "附件2!I21"),
    ({"overall.indicators.1.actual": "90%"}, "IND-201", WARNING, "附件2!H21"),
    ({"overall.indicators.1.actual": "≥96%"}, "IND-203", WARNING, "附件2!F21"),
    ({"overall.indicators.3.target": ""}, "IND-204", WARNING, "附件2!E32"),
    ({"projects.0.funds.current.executed": 101}, "RATE-201", WARNING, "附件3(1)!F7"),
    ({"basic.staff_actual": 25}, "RATE-202", WARNING, "附件1!D4"),
    ({"projects.0.category": "", "projects.0.prior_year_final": None}, "XATT-103", ERROR, "附件3(1)!C3"),
    ({"narrative.sections.problems": ""}, "SEC-301", INFO, "报告正文!B9"),
    ({"overall.indicators": full_indicators()[:-1]}, "IND-301", INFO, "附件2!D52"),
    ({"projects": []}, "ATT-301", INFO, "附件3"),
    ({"narrative.sections.general_budget": "本年基本支出100万元，占总支出的60%。"}, "NARR-401", WARNING, "报告正文!B4"),
    ({"narrative.sections.general_budget": "本年项目支出99万元。"}, "NARR-401", WARNING, "报告正文!B4"),
])
def test_each_check_fires_where_it_should(change, code, severity, location):
    flags = [f for f in check(clean(**change), P).flags if f.code == code and f.location.startswith(location[:3])]
    flags.sort(key=lambda f: f.location != location)
    assert flags, f"{code} not raised for {change}"
    assert flags[0].severity == severity and flags[0].location == location, flags[0]
    assert flags[0].message  # Chinese, tells what to do


@pytest.mark.parametrize("key, wrong, code", [
    ("projects[0].funds.total.executed", 96, "SUM-101"),
    ("basic.three_public.final", 2, "SUM-102"),
    ("basic.projects.total.final", 96, "SUM-103"),
    ("overall.executed", 196, "SUM-104"),
    ("projects[0].funds.rate", 0.9, "RATE-101"),
    ("basic.control_rate", 1.0, "RATE-102"),
    ("projects[0].funds.score", 10, "SCORE-101"),
    ("overall.total_score", 100, "SCORE-102"),
    ("overall.weight_total", 90, "WEIGHT-102"),
    ("overall.expense_project", 96, "XATT-101"),
    ("projects[0].basic.final", 96, "XATT-102"),
    ("narrative.project_expense", 90, "NARR-301"),
])
def test_stated_figures_that_disagree_are_errors(key, wrong, code):
    good = clean()
    assert not [c for c in codes(good.model_copy(update={"stated": {key: check(good, P).derived[key]}}))
                if c == code], "a correct stated figure must not be flagged"
    flags = [f for f in check(good.model_copy(update={"stated": {key: wrong}}), P).flags if f.code == code]
    assert len(flags) == 1 and flags[0].key == key and flags[0].stated == wrong


def test_execution_score_uses_the_profiles_rounding():
    # 103.86 / 105 = 98.91 % → 99 % → 9.9 (seed 001 附件3(1))
    d = clean(**{"projects.0.funds.current.full": 105, "projects.0.funds.current.executed": 103.86})
    r = check(d, P)
    assert r.derived["projects[0].funds.rate"] == 0.99 and r.derived["projects[0].funds.score"] == 9.9
    unrounded = get_profile("sample-50-40-10")
    assert "projects[0].funds.score" not in check(d.model_copy(update={"profile": unrounded.id}), unrounded).derived


def test_suggested_scores_follow_the_conventions():
    from selfeval_xl.core.indicators import suggest

    assert suggest("≥5千件", "0.9万件", 5).low == 5  # 千/万 normalised: met
    assert suggest("≤181万元", "115.78", 10).low == 10  # cost ceiling met (seed 001 附件3(4) gave 6.4)
    assert suggest("≤191万元", "191.21", 13).low == pytest.approx((1 - 0.21 / 191) * 13)
    assert suggest("≤100", "250", 10).low == 0
    assert suggest("≥96%", "48%", 10).low == pytest.approx(5)
    assert suggest("＝0", "0", 4).low == 4
    s = suggest("提升", "有效提升", 10)
    assert (s.low, s.high) == (8, 10)
    assert suggest("12月31日之前", "12月31日之前", 4).low == 4
    assert suggest("提升", "未完成", 10).high == 6
    assert suggest("", "x", 5) is None and suggest("档案", "很多", 5) is None


def test_a_stated_rate_is_said_as_the_cell_shows_it():
    """RATE-101's message quotes rates as percentages with the places the cell shows (岳阳 rounds
    its execution rate to whole percents), never as the fraction 0.9."""
    good = clean()
    flag = next(f for f in check(good.model_copy(update={"stated": {"projects[0].funds.rate": 0.9}}), P).flags
                if f.code == "RATE-101")
    expected = check(good, P).derived["projects[0].funds.rate"]
    assert "表中为 90%" in flag.message and f"应为 {round(expected * 100)}%" in flag.message, flag.message
    assert "0.9，" not in flag.message
