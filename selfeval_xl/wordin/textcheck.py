"""What a report's own text can be checked for, without its workbook (issue #19):

* RPT-301 a section of the outline that the report does not have (no heading found);
* SEC-301 a section that is there but empty (info, as for a workbook's 报告正文);
* RPT-401 a list of amounts (“…支出249.97万元。其中…161.59万元；…140.67万元；…”) whose items
  add up to more than the total they explain (a partial list may fall short; it cannot exceed);
* RPT-403 such a list that falls short of its total although it says the rest is nil (“二是除专项
  资金以外的其他项目支出为0”): seed 004's seven named 项目支出 items make 1708.46 of 1833.99;
* RPT-402 one figure (基本支出, 项目支出 …, as spent) quoted with two different values.

Every flag points at a paragraph (its typed place, ``Para.where``) so the comment lands there.
"""

from __future__ import annotations

import re
from typing import Iterator

from ..core.flags import INFO, REPORT, WARNING, Flag
from ..core.numbers import fmt_num
from ..core.quantities import Quantity, quantities, tie
from ..forms.vocabulary import VOCABULARY
from .model import Para, Section, WordReport

_CHANGE = re.compile(r"比上年|较上年|同比|上年|减少|增加|增长|下降|结转|节约|结余|余额|占")
_BUDGET = re.compile(r"预算|批复|年初|计划|安排|拨款|拔款|下达|到位")
_OF = re.compile(r"其中")
_LIST_GOES_ON = ("；", ";", "，", ",", "：", ":")


def check_report_text(rep: WordReport) -> list[Flag]:
    flags = list(_sections(rep))
    for sec in rep.sections.values():
        if sec.heading is not None:
            flags += _list_sums(sec)
    flags += _contradictions(rep)
    return flags


def _flag(code: str, severity: str, p: Para | None, message: str, stated=None, expected=None) -> Flag:
    return Flag(code, severity, p.where if p else REPORT, message, stated, expected)  # a report flag: its place only


def _sections(rep: WordReport) -> Iterator[Flag]:
    secs = list(rep.sections.values())
    for i, sec in enumerate(secs):
        if sec.heading is None:
            # point at where it should be: the next section found (or the last one found)
            after = next((s.heading for s in secs[i + 1:] if s.heading is not None), None)
            before = next((s.heading for s in reversed(secs[:i]) if s.heading is not None), None)
            yield _flag("RPT-301", WARNING, after or before,
                        f"报告中找不到“{sec.title}”这一部分（按本地区的报告提纲）。请按提纲补写；没有内容的部分写“无”。")
        elif not sec.text.strip():
            yield _flag("SEC-301", INFO, sec.heading, f"报告正文“{sec.title}”为空。没有内容的部分请填写“无”。")


# -- lists of amounts against their total ------------------------------------------------------------

def _money(q: Quantity) -> bool:
    return q.kind == "money" and q.unit == "万元" and not q.approx and q.upper is None


def _list_sums(sec: Section) -> list[Flag]:
    """RPT-401: “总额 X 万元 …其中 a 万元；b 万元；…” where a + b + … exceeds X."""
    out: list[Flag] = []
    paras = sec.paras
    for i, p in enumerate(paras):
        m = _OF.search(p.text)
        if not m:
            continue
        before_text = p.text[: m.start()]
        # the total: the last amount before 其中, in this paragraph or — when the words before 其中
        # name no amount (“一是专项资金安排和使用情况，其中，…”) — the paragraph before
        own = _last_total(before_text)
        prev = next((x.text for x in reversed(paras[:i]) if x.text.strip()), "")
        total = own or (_last_total(prev) if not own else None)
        if total is None:
            continue
        # the items: amounts after 其中, over the next paragraphs while the list goes on (；)
        item_text = [p.text[m.end():]]
        j = i
        while item_text[-1].rstrip().endswith(_LIST_GOES_ON) and j + 1 < len(paras):
            nxt = paras[j + 1].text.strip()
            if not nxt or not nxt.endswith(_LIST_GOES_ON + ("。",)):
                break
            item_text.append(nxt)
            j += 1
        text = "\n".join(item_text).split("。")[0] if "。" in item_text[0] else "\n".join(item_text)
        items = [q for q in quantities(text) if _money(q) and not _CHANGE.search(_clause(q))]
        items = _one_level(total, _drop_subtotals(items))
        if len(items) < 2:
            continue
        s = round(sum(q.value for q in items), 6)
        slack = max(0.01, sum(0.5 * 10 ** -q.decimals for q in items) + 0.5 * 10 ** -total.decimals)
        listed = " + ".join(fmt_num(q.value, 4) for q in items)
        if s > total.value + slack:
            out.append(_flag("RPT-401", WARNING, p,
                             f"报告正文“{sec.title}”：“{total.subject or '总额'} {total.text}”其中列举的 {listed} = "
                             f"{fmt_num(s, 4)} 万元，超过了总额 {fmt_num(total.value, 4)} 万元。请核对各项金额和总额。",
                             s, total.value))
        elif s < total.value - slack:
            rest = _rest_is_nil(text, [x.text for x in paras[j + 1:] if x.text.strip()][:2])
            if rest is not None:
                out.append(_flag("RPT-403", WARNING, p,
                                 f"报告正文“{sec.title}”：“{total.subject or '总额'} {total.text}”其中列举的 {listed} = "
                                 f"{fmt_num(s, 4)} 万元，又写明“{rest}”，合计比总额 {fmt_num(total.value, 4)} 万元少 "
                                 f"{fmt_num(round(total.value - s, 6), 4)} 万元。请核对各项金额和总额，或补列遗漏的项目。",
                                 s, total.value))
    return out


# “二是除专项资金以外的其他项目支出为0” / “其余为零” / “无其他支出”: the list says it is complete
_NIL = re.compile(r"[^，,；;。]*(?:(?:其他|其余|以外|之外)[^，,；;。]*?(?:为|是|共)\s*(?:0(?:\.0+)?|零)\s*(?:万元|元)?"
                  r"|无其他[^，,；;。]*)(?=[，,；;。]|$)")


def _rest_is_nil(items: str, after: list[str]) -> str | None:
    """The clause that says nothing else belongs to the total (the rest is 0), in the list's own
    words or the next two paragraphs; None when the list may be partial (“主要有…”)."""
    for text in [items] + after:
        m = _NIL.search(text)
        if m:
            return m[0].strip()
    return None


# the parts a whole is made of: a list under 基本支出 that reaches 项目支出 has left it
_PARTS = {"执行数": {"基本支出", "项目支出", "人员经费", "公用经费"}, "基本支出": {"人员经费", "公用经费"}}


def _one_level(total: Quantity, items: list[Quantity]) -> list[Quantity]:
    """The items up to the first one the total's concept does not contain (“基本支出…，其中人员…，
    公用…；项目支出…”: 项目支出 is the total's sibling, not its part)."""
    whole = tie(total, VOCABULARY)
    if whole is None:
        return items
    parts = _PARTS.get(whole.concept, set())
    out = []
    for q in items:
        t = tie(q, VOCABULARY)
        # a named project's 项目支出 (“公车平台项目支出”) is a part of 项目支出, and a bare
        # “…支出” (执行数) names no level: neither leaves the list
        if t is not None and t.concept not in parts and t.concept not in (whole.concept, "执行数"):
            break
        out.append(q)
    return out


def _clause(q: Quantity) -> str:
    """The words of a figure's own clause before it (“比上年减少62.67万元” → 比上年减少)."""
    return re.split(r"[，,；;。：:]", q.sentence[: q.at])[-1]


def _last_total(text: str) -> Quantity | None:
    qs = [q for q in quantities(text) if _money(q) and not _CHANGE.search(_clause(q))]
    return qs[-1] if qs else None


def _drop_subtotals(items: list[Quantity]) -> list[Quantity]:
    """Items that are the sum of the items right after them (基本支出 221.67, 其中人员 204.87 + 公用 16.8)
    keep, their parts go: the list is of one level."""
    out, i = [], 0
    while i < len(items):
        out.append(items[i])
        for k in range(len(items) - 1, i + 1, -1):
            part = items[i + 1:k + 1]
            if len(part) >= 2 and abs(sum(q.value for q in part) - items[i].value) <= 0.01 * len(part):
                i = k
                break
        i += 1
    return out


# -- one figure, two values ----------------------------------------------------------------------------

def _contradictions(rep: WordReport) -> list[Flag]:
    """RPT-402: a table figure named the same way (基本支出, 项目支出, 人员经费 …, as spent — not a
    budget, not a change) quoted with two values in the report's sections."""
    seen: dict[str, tuple[Quantity, Para]] = {}
    out: list[Flag] = []
    told: set[tuple[str, float]] = set()
    for sec in rep.sections.values():
        for p in ([sec.heading] if sec.lead else []) + sec.paras:
            text = sec.lead if p is sec.heading else p.text
            for q in quantities(text):
                if not _money(q):
                    continue
                term = tie(q, VOCABULARY)
                if term is None or term.whole_only:
                    continue
                before = q.sentence[: q.at]
                if _BUDGET.search(before) or _CHANGE.search(_clause(q)):
                    continue
                first = seen.get(term.concept)
                if first is None:
                    seen[term.concept] = (q, p)
                    continue
                q0, p0 = first
                tol = 0.5 * 10 ** -min(q.decimals, q0.decimals) + 1e-9
                if abs(q.value - q0.value) > tol and (term.concept, q.value) not in told:
                    told.add((term.concept, q.value))
                    out.append(_flag("RPT-402", INFO, p,
                                     f"报告中“{term.concept}”前后写法不一：{p0.where.within}写 {q0.text}，"
                                     f"{p.where.within}写 {q.text}。请核对，统一为附件中的数。",
                                     q.value, q0.value))
    return out
