"""The narrative read like an auditor (#12): every figure the report's text quotes, checked against
the tables and against the text's own arithmetic (``selfeval_xl.checks.narrative``)."""

from __future__ import annotations

import json
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfeval_xl.checks import check
from selfeval_xl.core.model import Department
from selfeval_xl.core.numbers import fmt_num
from selfeval_xl.docx.report import budget_paragraphs, performance_figures
from selfeval_xl.forms.regions import get_profile

DATA = Path(__file__).resolve().parent.parent / "examples" / "data"


def _load(name: str) -> Department:
    return Department.model_validate_json((DATA / f"{name}.json").read_text(encoding="utf-8"))


# module-level copies for hypothesis (a fixture's value would be printed whole on each failure)
D002 = _load("002_岳阳市君山区行政审批服务局")
D001 = _load("001_岳阳市档案馆")


def narr_flags(dept, section=None):
    return [f for f in check(dept, get_profile(dept.profile)).flags if f.code.startswith("NARR-4")
            and (section is None or f.key == f"narrative.sections.{section}")]


def narr(dept, section=None):
    return [(f.code, f.location, f.stated, f.expected, f.severity) for f in narr_flags(dept, section)]


def _with(dept, text, section="basic_info"):
    """``dept`` whose narrative is only ``text`` (in one section): its own text would add its findings."""
    secs = {section: text}
    return dept.model_copy(update={"narrative": dept.narrative.model_copy(update={"sections": secs})})


# -- the seeds, read side by side with their tables ------------------------------------------------

SEED_FINDINGS = {
    # nothing to find: 340.25 = 311.80 + 28.45, 91.64 % + 8.36 %, the project shares 74.43/15.20/10.37
    "000_岳阳市城市建设档案馆": [],
    "001_岳阳市档案馆": [
        # 实有在职人员19人 where 附件1 says 21
        ("NARR-401", "报告正文!B3", 19.0, 21.0, "warning"),
        # 1051.31 and 588.43 agree with what 附件2 states, but the tables' own sum is 1049.94 / 587.06
        ("NARR-401", "报告正文!B4", 1051.31, 1049.94, "info"),
        # 公用支出67.86 (= 462.88 − 395.02) where 附件1's 公用经费 row says 66.92
        ("NARR-401", "报告正文!B4", 67.86, 66.92, "info"),
        ("NARR-401", "报告正文!B4", 588.43, 587.06, "info"),
        # 年初预算批复的…公用经费支出64.45万元 where 附件1's 公用经费 本年预算数 is 52.45 (info: a budget column)
        ("NARR-401", "报告正文!B4", 64.45, 52.45, "info"),
        # the same section later says 588.56: neither table figure
        ("NARR-401", "报告正文!B4", 588.56, 587.06, "warning"),
        # 档案保护开发… 160万元 is 附件1's line; its 附件3 says 158.5
        ("NARR-401", "报告正文!B4", 160.0, 158.5, "info"),
        # 60集《…镇馆之宝》 and "后者已完成第一季18集" where the indicator says 40集
        ("NARR-406", "报告正文!B8", 60.0, 40.0, "info"),
        ("NARR-406", "报告正文!B8", 18.0, 40.0, "info"),
        # "实际在职人员数少于编制数" with 21 = 21; "支出总额控制在预算总额以内" at 100.06 %
        ("NARR-407", "报告正文!B8", "少于编制数", "21/21", "warning"),
        ("NARR-407", "报告正文!B8", "控制在预算总额以内", 1.0006, "warning"),
    ],
    "002_岳阳市君山区行政审批服务局": [
        ("NARR-405", "报告正文!B3", "1107.5元", "1107.5万元", "warning"),  # 支出合计1107.5元
        ("NARR-401", "报告正文!B4", 732.5, 885.83, "warning"),  # 项目支出合计732.5万元
        ("NARR-402", "报告正文!B8", 85.21, 79.98, "warning"),  # 885.83 ÷ 1107.5 is 79.98 %
        ("NARR-403", "报告正文!B8", 105.21, 100.0, "warning"),  # 20 % + 85.21 % of one whole
    ],
    # 年初预算收入146.1万元 and 实有人数14人 agree; "本部门支出249.97万元" stands under（一）基本支出情况
    "003_衡阳市住房和城乡建设信息中心": [],
    "004_岳阳市云溪区机关事务服务中心": [
        ("NARR-406", "报告正文!B8", 11.0, 12.0, "warning"),  # 主题党日活动11场次 where the indicator says 12次
        ("NARR-404", "报告正文!B8", 98.0, 80.0, "warning"),  # 得分8分 of 10 is 80 %, not 98 %
    ],
}


@pytest.mark.parametrize("name", sorted(SEED_FINDINGS))
def test_the_seeds_narrative_discrepancies_are_found_with_both_figures(examples, name):
    dept = examples[name]
    assert narr(dept) == SEED_FINDINGS[name]
    prof = get_profile(dept.profile)
    titles = {f"narrative.sections.{s.key}": s.title for s in prof.report.sections}
    for f in narr_flags(dept):
        assert titles[f.key] in f.message  # the section, by its title
        if isinstance(f.stated, float) and f.code != "NARR-407":
            assert fmt_num(f.stated, 4) in f.message and fmt_num(f.expected, 2).rstrip("0").rstrip(".") in f.message


def test_the_reports_own_sentences_raise_nothing(examples):
    for dept in examples.values():
        prof = get_profile(dept.profile)
        derived = check(dept, prof).derived
        text = "\n".join(p["text"] for p in budget_paragraphs(dept, prof, derived))
        text += "\n" + performance_figures(dept, prof, derived)["text"]
        secs = {sec.key: text for sec in prof.report.sections}
        bare = dept.model_copy(update={"narrative": dept.narrative.model_copy(update={"sections": secs})})
        assert [c for c in narr(bare) if c[4] == "warning"] == [], dept.name


# -- sentences built from the tables: consistent ones pass, each single change is caught -------------

def _tables(dept):
    d = check(dept, get_profile(dept.profile)).derived
    return {"basic": dept.overall.expense_basic, "project": d["overall.expense_project"], "total": d["overall.executed"],
            "personnel": dept.narrative.personnel_expense, "public": round(d["narrative.public_expense"], 2),
            "authorized": dept.basic.staff_authorized, "actual": dept.basic.staff_actual,
            "rate": d["overall.rate"] * 100, "score": d["overall.total_score"]}


T002 = _tables(D002)
PHRASINGS = {
    "basic": ["{y}年度基本支出{v}万元。", "本年度财政拨款基本支出合计为{v}万元。", "其中基本支出{v}万元，主要用于机关运行。"],
    "project": ["{y}年度项目支出{v}万元。", "本年度项目支出共计{v}万元。", "局机关及二级机构项目支出合计{v}万元。"],
    "total": ["{y}年度部门整体支出{v}万元。", "本年度支出合计{v}万元。", "区行政审批服务局整体支出{v}万元。"],
    "personnel": ["人员经费{v}万元。", "其中人员支出{v}万元。"],
    "public": ["公用经费{v}万元。", "其中日常公用经费为{v}万元。"],
    "authorized": ["核定编制{v}人。", "本单位编制数{v}人。"],
    "actual": ["实有在职人员{v}人。", "年末在职人数{v}人。"],
    "rate": ["预算执行率为{v}%。", "全年预算执行率{v}%。"],
    "score": ["自评总分{v}分。", "部门整体支出绩效自评总分{v}分。"],
}


def _shown(what, v):
    if what in ("authorized", "actual"):
        return str(int(v))
    return fmt_num(v, 2)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_sentences_from_the_tables_pass_and_each_changed_figure_is_caught(data):
    picks = data.draw(st.lists(st.sampled_from(sorted(PHRASINGS)), min_size=1, max_size=4, unique=True))
    sentences = {w: data.draw(st.sampled_from(PHRASINGS[w])) for w in picks}
    text = "".join(sentences[w].format(y=2023, v=_shown(w, T002[w])) for w in picks)
    assert narr(_with(D002, text)) == [], text
    changed = data.draw(st.sampled_from(picks))
    delta = data.draw(st.sampled_from([1, 2, 5, 10, -1, -3]))
    wrong = "".join(sentences[w].format(y=2023, v=_shown(w, T002[w] + (delta if w == changed else 0))) for w in picks)
    found = narr(_with(D002, wrong))
    assert [c for c, *_ in found] == ["NARR-401"], wrong
    assert found[0][2] == pytest.approx(T002[changed] + delta, abs=0.01)


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)


@settings(max_examples=60, deadline=None)
@given(part=money, rest=money, cut=st.booleans(), phrasing=st.sampled_from([
    "{y}年度整体支出{w}万元，其中基本支出{p}万元，占总支出的{s}%。",
    "基本支出{p}万元，占整体支出的{s}%，整体支出合计{w}万元。",
    "本年度支出合计{w}万元，其中基本支出为{p}万元，占总支出{s}%。",
]))
def test_a_share_that_follows_from_its_amounts_passes_and_one_changed_is_caught(part, rest, cut, phrasing):
    whole = part + rest
    share = (part / whole * 100).quantize(Decimal("0.01"), rounding=ROUND_DOWN if cut else ROUND_HALF_UP)
    ok = phrasing.format(y=2023, w=whole, p=part, s=share)
    codes = {c for c, *_ in narr(_with(D001, ok, "problems"))}
    assert "NARR-402" not in codes, ok
    wrong = phrasing.format(y=2023, w=whole, p=part, s=share + Decimal("0.05"))
    assert "NARR-402" in {c for c, *_ in narr(_with(D001, wrong, "problems"))}, wrong


@settings(max_examples=40, deadline=None)
@given(weight=st.integers(1, 60), data=st.data())
def test_a_score_rate_is_score_over_weight(weight, data):
    score = data.draw(st.integers(0, weight))
    rate = Decimal(score * 100) / weight
    text = "该专项工作总分值为{w}分，评价得分{s}分，得分率{r}%。"  # names no 一级: only the rate is judged
    assert narr(_with(D001, text.format(w=weight, s=score, r=rate.quantize(Decimal("0.01"))), "problems")) == []
    off = rate + 3
    assert [c for c, *_ in narr(_with(D001, text.format(w=weight, s=score, r=off.quantize(Decimal("0.01"))), "problems"))] \
        == ["NARR-404"]


@pytest.mark.parametrize("text, code", [
    ("基本支出221.67万元，占总支出的20.02%；项目支出885.83万元，占总支出的79.98%。", None),
    ("基本支出占总支出的20.02%，项目支出占总支出的82.98%。", "NARR-403"),
    ("人员经费占基本支出的92.42%，公用经费占基本支出的7.58%。", None),
    ("人员经费占基本支出的90.42%，公用经费占基本支出的7.58%。", "NARR-403"),
])
def test_shares_of_one_whole_add_up(text, code):
    codes = [c for c, *_ in narr(_with(D002, text))]
    assert ("NARR-403" in codes) == (code == "NARR-403"), codes


@pytest.mark.parametrize("text, flagged", [
    ("三公经费支出9700万元。", True),  # 0.97 万元 is 9,700 元
    ("三公经费支出0.97万元。", False),
    ("部门整体支出1107.5元。", True),
])
def test_yuan_and_wan_yuan_mixed_up(text, flagged):
    assert ("NARR-405" in [c for c, *_ in narr(_with(D002, text))]) == flagged


@pytest.mark.parametrize("text, flagged", [
    ("支出总额控制在预算总额以内。", False),  # 002 spent exactly its budget
    ("实际在职人数控制在编制数以内。", True),  # 36 in post, 14 authorised
    ("在职人员少于编制数。", True),
    ("支出未超过预算。", False),
])
def test_claims_in_kind(text, flagged):
    assert ("NARR-407" in [c for c, *_ in narr(_with(D002, text))]) == flagged


def test_an_indicator_quoted_differently_is_caught_and_one_quoted_right_is_not():
    ok = "全年承担大小会议820场，主题党日活动12次。"
    d004 = _load("004_岳阳市云溪区机关事务服务中心")
    assert [c for c in narr(_with(d004, ok, "performance")) if c[0] == "NARR-406"] == []
    found = [c for c in narr(_with(d004, "全年承担会务管理850场。", "performance")) if c[0] == "NARR-406"]
    assert found == [("NARR-406", "报告正文!B8", 850.0, 820.0, "warning")]


def test_figures_that_name_nothing_in_the_tables_are_never_flagged():
    text = ("全年接待群众1538人，调档35680卷，发布信息1990条；其中城市展厅建设工程尾款支出56.3万元，"
            "约150万元用于设备，资产处置收益5873.06万，投资10-20万元。")
    assert narr(_with(D002, text)) == []


def test_a_region_folder_extends_the_vocabulary(tmp_path):
    import shutil
    from selfeval_xl.core.region import ProfileError
    from selfeval_xl.forms.regions import load_region, REGION_DIR
    folder = tmp_path / "my-region"
    shutil.copytree(REGION_DIR / "yueyang-2023", folder)
    toml = folder / "region.toml"
    base = toml.read_text(encoding="utf-8")
    toml.write_text(base + '\n[[narrative.terms]]\nconcept = "机关运行经费"\nwords = ["机关运行经费", "运行经费"]\n'
                    'key = "basic.public_funds.final"\n', encoding="utf-8")
    prof = load_region(folder)
    dept = _with(D001, "本年度机关运行经费70.5万元。")
    flags = [f for f in check(dept, prof).flags if f.code == "NARR-401"]
    assert [(f.stated, f.expected) for f in flags] == [(70.5, 66.92)]
    assert [f for f in check(_with(D001, "本年度机关运行经费66.92万元。"), prof).flags if f.code == "NARR-401"] == []
    toml.write_text(base + '\n[[narrative.terms]]\nconcept = "x"\nwords = ["x经费"]\nkey = "basic.nothing_here"\n',
                    encoding="utf-8")
    with pytest.raises(ProfileError, match="basic.nothing_here"):
        load_region(folder)
    toml.write_text(base + '\n[[narrative.terms]]\nconcept = "x"\nwords = ["(a+)+$", "a+经费"]\nkey = "basic.public_funds.final"\n',
                    encoding="utf-8")
    prof = load_region(folder)  # words are words, not patterns: nothing a region writes can make a check slow
    assert not [f for f in check(_with(D001, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!" * 20), prof).flags
                if f.code == "NARR-401"]
    flags = [f for f in check(_with(D001, "本年度a+经费70.5万元。"), prof).flags if f.code == "NARR-401"]
    assert [(f.stated, f.expected) for f in flags] == [(70.5, 66.92)]  # the word, literally
    assert not [f for f in check(_with(D001, "本年度aa经费70.5万元。"), prof).flags if f.code == "NARR-401"]


def test_json_examples_carry_placeholders_not_people():
    for p in DATA.glob("*.json"):
        sign = json.loads(p.read_text(encoding="utf-8"))["signoff"]
        assert not any(ch.isdigit() for ch in sign.get("phone", "")), p.name
