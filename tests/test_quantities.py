"""The quantity reader for Chinese report prose (#12, part 1): every figure a sentence quotes,
with what it is about — and, through the vocabulary, which table figure that is."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfeval_xl.core.quantities import quantities, sentences
from selfeval_xl.core.quantities import tie as _tie, tie_whole as _tie_whole
from selfeval_xl.forms.vocabulary import VOCABULARY


def tie(q):
    return _tie(q, VOCABULARY)


def tie_whole(q):
    return _tie_whole(q, VOCABULARY)


def got(text):
    return [(q.subject, q.value, q.unit) for q in quantities(text)]


@pytest.mark.parametrize("text, want", [
    ("人员经费311.80万元，占基本支出的91.64%", [("人员经费", 311.8, "万元"), ("人员经费", 91.64, "%")]),
    ("实有在职人员19人", [("实有在职人员", 19, "人")]),
    ("核定编制二十二人，实有在职人员十九人", [("核定编制", 22, "人"), ("实有在职人员", 19, "人")]),
    ("年初预算395.34万元，年中追加80.54万元", [("年初预算", 395.34, "万元"), ("年中追加", 80.54, "万元")]),
    ("完成第一季18集", [("完成第一季", 18, "集")]),
    ("得分8分，得分率98%", [("得分", 8, "分"), ("得分率", 98, "%")]),
    ("占项目支出的74.43%", [("", 74.43, "%")]),
    ("全年执行数为１，０４９．９４万元", [("执行数", 1049.94, "万元")]),
    ("资产处置收益1.2亿元", [("资产处置收益", 12000, "万元")]),
    ("承担大小会议820场，其中大型会议103场", [("承担大小会议", 820, "场"), ("大型会议", 103, "场")]),
])
def test_phrasings_clerks_use(text, want):
    assert got(text) == want


def test_shares_know_their_whole_and_rates_are_rates():
    qs = quantities("公用经费28.45万元，占基本支出的8.36%；预算执行率为100%，满意率在95%以上。")
    share = qs[1]
    assert share.kind == "share" and share.of == "基本支出" and share.subject == "公用经费"
    assert [q.kind for q in qs[2:]] == ["rate", "rate"] and qs[3].subject == "满意率" and qs[3].approx


@pytest.mark.parametrize("text, approx, upper", [
    ("约150万元", True, None), ("150余万元", True, None), ("150多万元", True, None), ("150万元以上", True, None),
    ("150万元", False, None), ("10-20万元", False, 20.0), ("10至20万元", False, 20.0),
])
def test_approximations_and_ranges(text, approx, upper):
    (q,) = quantities(text)
    assert q.approx is approx and q.upper == upper and q.value in (150, 10)


@pytest.mark.parametrize("text", ["2023年12月31日前完成", "3个月内完成", "5分钟内响应", "编号430600101", "第3季度"])
def test_what_is_not_a_quoted_figure(text):
    assert quantities(text) == []


def test_元_and_万元_are_kept_apart():
    assert [(q.value, q.unit) for q in quantities("支出3402500元，即340.25万元")] == [(3402500, "元"), (340.25, "万元")]


def test_sentences_and_sections():
    text = "一、概况。基本支出340.25万元；\n项目支出591.23万元"
    assert sentences(text) == ["一、概况。", "基本支出340.25万元；", "项目支出591.23万元"]
    qs = quantities(text, "二、一般公共预算支出情况")
    assert [q.sentence for q in qs] == ["基本支出340.25万元；", "项目支出591.23万元"]
    assert {q.section for q in qs} == {"二、一般公共预算支出情况"}
    assert [q.decimals for q in qs] == [2, 2]


@pytest.mark.parametrize("text, concept", [
    ("2023年度财政拨款基本支出340.25万元", "基本支出"),
    ("其中人员经费311.80万元", "人员经费"),
    ("公用经费28.45万元", "公用经费"),
    ("公用经费支出64.45万元", "公用经费"),
    ("其中人员经费支出330.89万元", "人员经费"),
    ("2023年度财政拨款项目支出591.23万元", "项目支出"),
    ("局机关及二级机构项目支出合计732.5万元", "项目支出"),  # the unit's bodies qualify it
    ("城市管网及污水处理补助项目支出440.083万元", None),  # one project, not 项目支出
    ("年初预算395.34万元", "年初预算"),
    ("预算执行率为98.5%", "执行率"),
    ("实有在职人员19人", "在职人数"),
    ("核定编制22人", "编制数"),
    ("工勤编制1人", None),
    ("接待1538人", None),
    ("自评总分96分", "总分"),
    ("部门整体支出绩效自评总分96分", "总分"),
    ("评价得分8分", None),  # an indicator's or a 一级's score, not the total
])
def test_subjects_are_tied_to_table_figures_or_to_nothing(text, concept):
    (q,) = quantities(text)[:1]
    t = tie(q)
    assert (t.concept if t else None) == concept


def test_a_shares_whole_is_tied():
    q = quantities("人员经费311.80万元，占基本支出的91.64%")[1]
    assert tie(q).concept == "人员经费" and tie_whole(q).concept == "基本支出"
    assert tie(q).keys == ("narrative.personnel_expense",) and tie_whole(q).keys == ("overall.expense_basic",)


def test_tying_stays_linear_on_hostile_subjects():
    """The qualifiers allow one body name (…局, …机构): a subject of 59 such characters is
    settled at once, not by trying every way of splitting it."""
    import time
    q = quantities("办" * 59 + "x支出1万元")[0]
    t0 = time.perf_counter()
    tie(q)
    assert time.perf_counter() - t0 < 1.0


@given(st.decimals(min_value=0, max_value=99999, places=2, allow_nan=False),
       st.sampled_from(["基本支出", "项目支出", "人员经费", "公用经费", "年初预算"]),
       st.sampled_from(["{s}{v}万元", "{s}为{v}万元", "{s}共计{v}万元", "其中{s}{v}万元", "本年度{s}合计{v}万元"]))
def test_any_amount_in_any_of_these_phrasings_is_read_back(v, subject, form):
    text = form.format(s=subject, v=f"{v:.2f}")
    (q,) = quantities(text)
    assert q.value == pytest.approx(float(v)) and q.unit == "万元" and q.subject.endswith(subject)
    assert tie(q) is not None
