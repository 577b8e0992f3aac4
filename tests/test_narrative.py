"""The narrative read like an auditor (#12, part 2 as far as it goes): the figures a sentence quotes
checked against each other and against the tables' units."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfeval_xl.checks import check
from selfeval_xl.docx.report import budget_paragraphs, performance_figures
from selfeval_xl.forms.regions import get_profile

CODES = ("NARR-402", "NARR-404", "NARR-405")


def narr(dept):
    r = check(dept, get_profile(dept.profile))
    return [(f.code, f.location, f.stated, f.expected) for f in r.flags if f.code in CODES]


def test_the_seeds_narrative_mistakes_are_found_with_their_figures(examples):
    """Read off the seeds: 002 writes 支出合计1107.5元 (the tables' 1107.5 万元) and a 项目支出 share of
    85.21 % where its own 885.83 ÷ 1107.5 is 79.98 %; 004 gives 得分8分 of 10 as 得分率98 %."""
    assert narr(examples["002_岳阳市君山区行政审批服务局"]) == [
        ("NARR-405", "报告正文!B3", "1107.5元", "1107.5万元"),
        ("NARR-402", "报告正文!B8", 85.21, 79.98),
    ]
    assert narr(examples["004_岳阳市云溪区机关事务服务中心"]) == [("NARR-404", "报告正文!B8", 98.0, 80.0)]


@pytest.mark.parametrize("name", ["000_岳阳市城市建设档案馆", "001_岳阳市档案馆", "003_衡阳市住房和城乡建设信息中心"])
def test_the_seeds_consistent_sentences_raise_nothing(examples, name):
    """000's 340.25 = 311.80 + 28.45 with 91.64 % / 8.36 %, its project shares 74.43 / 15.20 / 10.37 %
    (cut off, not rounded), 001's 44 % / 56 % of the total."""
    assert narr(examples[name]) == []


def test_the_reports_own_sentences_raise_nothing(examples):
    for dept in examples.values():
        prof = get_profile(dept.profile)
        derived = check(dept, prof).derived
        text = "\n".join(p["text"] for p in budget_paragraphs(dept, prof, derived))
        text += "\n" + performance_figures(dept, prof, derived)["text"]
        secs = {sec.key: text for sec in prof.report.sections}
        assert narr(dept.model_copy(update={"narrative": dept.narrative.model_copy(update={"sections": secs})})) == []


def _with(dept, text):
    secs = dict(dept.narrative.sections, basic_info=text)
    return dept.model_copy(update={"narrative": dept.narrative.model_copy(update={"sections": secs})})


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)


@settings(max_examples=60, deadline=None)
@given(part=money, rest=money, cut=st.booleans(), phrasing=st.sampled_from([
    "{y}年度整体支出{w}万元，其中基本支出{p}万元，占总支出的{s}%。",
    "基本支出{p}万元，占整体支出的{s}%，整体支出合计{w}万元。",
    "本年度支出合计{w}万元，其中基本支出为{p}万元，占总支出{s}%。",
]))
def test_a_share_that_follows_from_its_amounts_passes_and_one_changed_is_caught(examples, part, rest, cut, phrasing):
    dept = examples["001_岳阳市档案馆"]
    whole = part + rest
    share = (part / whole * 100).quantize(Decimal("0.01"), rounding=ROUND_DOWN if cut else ROUND_HALF_UP)
    ok = phrasing.format(y=2023, w=whole, p=part, s=share)
    assert narr(_with(dept, ok)) == []
    wrong = phrasing.format(y=2023, w=whole, p=part, s=share + Decimal("0.05"))
    assert [c for c, *_ in narr(_with(dept, wrong))] == ["NARR-402"]


@settings(max_examples=40, deadline=None)
@given(weight=st.integers(1, 60), data=st.data())
def test_a_score_rate_is_score_over_weight(examples, weight, data):
    dept = examples["001_岳阳市档案馆"]
    score = data.draw(st.integers(0, weight))
    rate = Decimal(score * 100) / weight
    text = "产出指标总分值为{w}分，评价得分{s}分，得分率{r}%。"
    assert narr(_with(dept, text.format(w=weight, s=score, r=rate.quantize(Decimal("0.01"))))) == []
    off = rate + 3
    assert [c for c, *_ in narr(_with(dept, text.format(w=weight, s=score, r=off.quantize(Decimal("0.01")))))] == ["NARR-404"]
