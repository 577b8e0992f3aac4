"""The report's prose read like an auditor (#12): every figure the text quotes, checked against
the tables and against the text's own arithmetic.

``core.quantities`` reads the figures (subject, value, unit, sentence); this module ties each to
a table figure through the vocabulary (``forms.vocabulary.VOCABULARY``, the region's own
``[[narrative.terms]]``, each project by its name, each indicator by its name) and flags:

* NARR-401 a quoted amount, count, rate or score that disagrees with the table;
* NARR-402 a share that does not follow from the amounts the same sentence names;
* NARR-403 shares of one whole that do not add up to 100 %;
* NARR-404 a score rate that is not score ÷ weight;
* NARR-405 元 written where the table's 万元 figure is meant, or 万元 where 元 is;
* NARR-406 an indicator's target or actual quoted differently from the table;
* NARR-407 a claim the tables contradict in kind (spending "within budget" while 执行率 > 100 %,
  staff "below 编制" while 在职 = 编制).

Severity: a warning where the figure and its subject are unambiguous; info where the tie rests on
context (a budget column, a figure that agrees with the typed-but-wrong table cell, an indicator
named in a neighbouring clause). A figure that cannot be tied to a table is never flagged, nor one
written as approximate (约, 余, 以上) or as a range.

Every flag names the sentence, its section, the table cell and both figures; its ``key`` is the
section (``narrative.sections.<key>``) so the report knows which paragraph it is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator

from ..core.flags import INFO, WARNING, Flag, Location, SheetCell
from ..core.indicators import normalize
from ..core.model import Department, Indicator
from ..core.numbers import fmt_num, fmt_pct
from ..core.quantities import Quantity, Vocabulary, quantities, sentences, tie, tie_whole, words_term
from ..core.region import Profile
from ..forms import keys
from ..forms.binding import sheet_name, value_of
from ..forms.cells import Layout, percent_places
from ..forms.vocabulary import VOCABULARY


# the narrative checks' own figures (no cell holds them; they are read off the ones that do)
BUDGET_ADJUSTMENT = keys.BUDGET_ADJUSTMENT
BUDGET_BALANCE = keys.BUDGET_BALANCE

# parts that make up one whole: their shares of it add up to 100 %
PARTITIONS = (
    ("执行数", ("基本支出", "项目支出")),
    ("基本支出", ("人员经费", "公用经费")),
)

_ANY_FIGURE = re.compile(r"[\d０-９]|[一二两三四五六七八九十][十百千]?[人个名项次集场家]|编制|预算")
_BUDGET_WORDS = re.compile(r"年初预算|预算批复|批复|预算数|预算安排|预算为|预算")
_FINAL_WORDS = re.compile(r"决算|实际|执行|实现|完成|开支|支付|支出了|使用")
_PART_WORDS = re.compile(r"基本支出|项目支出|项目|人员经费|人员支出|公用经费|公用支出|三公|专项")
_TOTAL_WORDS = re.compile(r"支出(?:合计|总计|共计|总额)(?:为|是|达)?$")  # 支出合计 is the whole, whatever came before
_HEADING = re.compile(r"^(?:[（(][一二三四五六七八九十\d]+[）)]|[一二三四五六七八九十\d]+[、.．])")
_GENERIC_LABEL = re.compile(r"整体|部门|单位|情况|分析|预算|全年|本年|年度|总体")


@dataclass(frozen=True)
class TableFigure:
    value: float  # the recomputed figure (what the sheet states for it is ``dept.stated``)
    location: str
    places: int = 2  # a rate's decimals of a percent, as its cell shows it (``cells.percent_places``)


@lru_cache(maxsize=16)
def vocabulary(profile: Profile) -> Vocabulary:
    """The region's own terms first (they may rename a shipped one), then the shipped vocabulary."""
    if not profile.narrative.terms:
        return VOCABULARY
    own = tuple(words_term(t.concept, t.words, t.kind, (t.key,), (t.budget_key,) if t.budget_key else ())
                for t in profile.narrative.terms)
    return Vocabulary(own + VOCABULARY.terms)


class Tables:
    """The figures a quoted quantity may be compared with, by key."""

    def __init__(self, dept: Department, profile: Profile, layout: Layout, derived: dict[str, Any]):
        self.dept, self.layout, self.derived = dept, layout, derived
        self.extra: dict[str, TableFigure] = {}
        full = value_of(dept, keys.OVERALL_BUDGET_FULL, derived)
        initial = dept.overall.budget_initial
        executed = value_of(dept, keys.OVERALL_EXECUTED, derived)
        loc_full = self._loc(keys.OVERALL_BUDGET_FULL)
        if _num(full) and _num(initial):
            self.extra[BUDGET_ADJUSTMENT] = TableFigure(round(full - initial, 6), loc_full)
        if _num(full) and _num(executed):
            self.extra[BUDGET_BALANCE] = TableFigure(round(full - executed, 6), loc_full)
        overall_sheet = sheet_name(layout, "overall") or "整体支出表"
        levels = profile.levels("overall")
        # a table without a 分值 column: each 一级's points are the rules' (printed in its label)
        unweighted = bool(levels) and keys.indicator(keys.OVERALL, levels[0].level2[0].key, 0, "score") in layout.where \
            and keys.indicator(keys.OVERALL, levels[0].level2[0].key, 0, "weight") not in layout.where
        for l1 in levels:
            inds = [i for i in dept.overall.indicators if i.level1 == l1.name]
            if inds and all(i.score is not None for i in inds):
                self.extra[keys.level1_figure(l1.key, "score")] = TableFigure(sum(i.score for i in inds), overall_sheet)
            if unweighted and l1.weight is not None:
                self.extra[keys.level1_figure(l1.key, "weight")] = TableFigure(l1.weight, overall_sheet)
            elif inds and all(i.weight is not None for i in inds):
                self.extra[keys.level1_figure(l1.key, "weight")] = TableFigure(sum(i.weight for i in inds), overall_sheet)

    def _loc(self, key: str) -> str:
        return self.layout.location(key, key)

    def get(self, key: str) -> TableFigure | None:
        if key in self.extra:
            return self.extra[key]
        v = value_of(self.dept, key, self.derived)
        if not _num(v):
            return None
        hit = self.layout.where.get(key)
        return TableFigure(float(v), self._loc(key), percent_places(hit[1]) if hit else 2)

    def first(self, ks: tuple[str, ...]) -> tuple[str, TableFigure] | None:
        for k in ks:
            f = self.get(k)
            if f is not None:
                return k, f
        return None


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _quote(sentence: str) -> str:
    return sentence if len(sentence) <= 80 else sentence[:78] + "…"


def _basis(before: str) -> str:
    """Whether the words before a figure speak of a budget or of what was spent: the later wins."""
    b = [m.end() for m in _BUDGET_WORDS.finditer(before)]
    f = [m.end() for m in _FINAL_WORDS.finditer(before)]
    return "budget" if b and (not f or b[-1] > f[-1]) else "final"


def _about_a_part(before: str, project_names: tuple[str, ...]) -> bool:
    """Whether a sentence, before a figure, names a part of the budget (基本支出, a project, a
    "维护经费：" label): a 年初预算/追加/结余 figure there is that part's, not the unit's."""
    if _PART_WORDS.search(before) or any(n and n in before for n in project_names):
        return True
    label = before.rpartition("：")[0].rpartition("：")[2] if "：" in before else ""
    label = re.split(r"[，。；、]", label)[-1] if label else ""
    return bool(label) and not _GENERIC_LABEL.search(label)


def _money_tolerance(q: Quantity, tol: float) -> float:
    """A figure is accepted within the profile's tolerance or half a unit of its last written
    digit (prose rounds: 1108万元 for 1107.5)."""
    return max(tol, 0.5 * 10 ** -q.decimals) + 1e-9


def _unit_tolerance(q: Quantity) -> float:
    """A share or rate: one unit of its last written digit (clerks round or cut off)."""
    return 10 ** -q.decimals - 1e-9


# -- the checks ------------------------------------------------------------------------------

def check_narrative(dept: Department, profile: Profile, layout: Layout, derived: dict[str, Any]) -> Iterator[Flag]:
    vocab = vocabulary(profile)
    tables = Tables(dept, profile, layout, derived)
    names = _project_names(dept, profile)
    project_names = tuple(n for n, _ in names)
    inds = None
    for sec in profile.report.sections:
        key = keys.section(sec.key)
        text = dept.narrative.sections.get(sec.key, "")
        if not text or not _ANY_FIGURE.search(text):
            continue
        where = layout.at(key, "报告正文")
        ctx = _Section(sec.title, key, where)
        qs: list[Quantity] = []
        seen: set[tuple[str, str]] = set()
        if inds is None:
            inds = indicator_figures(dept, layout, vocab)
        heading = ""  # the sub-heading a paragraph stands under ("（一）基本支出情况") is its context too
        for para in text.splitlines():
            if _HEADING.match(para.strip()) and len(para.strip()) <= 24:
                heading = para.strip()
            located = _located(para, sec.title)
            qs += [q for q, _ in located]
            by_sentence: dict[str, list[tuple[Quantity, int]]] = {}
            for q, pos in located:
                by_sentence.setdefault(q.sentence, []).append((q, pos))
            for sent, sqs in by_sentence.items():
                yield from _within_sentence(ctx, sent, [q for q, _ in sqs], vocab)
                yield from _against_tables(ctx, heading, para, sqs, vocab, tables, profile, names, project_names, seen)
            yield from _indicators(ctx, para, located, inds, seen)
        yield from _shares_add_up(ctx, qs, vocab)
        yield from _claims(ctx, text, dept, derived, tables, profile)


def _located(para: str, section: str) -> list[tuple[Quantity, int]]:
    """A paragraph's quantities with where each starts in it (the words before a figure, across
    the paragraph's earlier sentences, say what it is about)."""
    out, offset = [], 0
    last_sentence, start = None, 0
    for q in quantities(para, section):
        if q.sentence != last_sentence:
            found = para.find(q.sentence, offset)
            start = found if found >= 0 else offset
            offset, last_sentence = start, q.sentence
        out.append((q, start + q.at))
    return out


@dataclass(frozen=True)
class _Section:
    title: str
    key: str
    where: Location

    def flag(self, code: str, severity: str, sentence: str, says: str, stated: Any, expected: Any) -> Flag:
        return Flag(code, severity, self.where, f"报告正文“{self.title}”：“{_quote(sentence)}”{says}",
                    stated, expected, self.key)


def _within_sentence(ctx: _Section, sent: str, qs: list[Quantity], vocab: Vocabulary) -> Iterator[Flag]:
    """NARR-402 and NARR-404: what a sentence's own figures say about each other."""
    for i, q in enumerate(qs):
        if q.kind == "share" and q.of and not q.approx:
            part = next((p for p in reversed(qs[:i]) if p.kind == "money" and p.subject == q.subject), None)
            whole = next((w for w in qs if w.kind == "money" and w is not part and _names(w, q, vocab)), None)
            want = _ratio_if_wrong(q, part, whole)
            if want is not None:
                yield ctx.flag("NARR-402", WARNING, sent, f"中{q.subject}占{q.of} {q.text}，按同句的 "
                               f"{part.text} ÷ {whole.text} 应为 {want:.2f}%。", q.value, round(want, 2))
        if q.kind == "rate" and q.subject.endswith("得分率") and not q.approx:
            weight = next((w for w in qs if w.kind == "score" and re.search(r"(分值|满分)$", w.subject)), None)
            score = next((x for x in qs if x.kind == "score" and x.subject.endswith("得分")), None)
            want = _ratio_if_wrong(q, score, weight)
            if want is not None:
                yield ctx.flag("NARR-404", WARNING, sent, f"中得分率 {q.text}，按得分 {score.text} ÷ 分值 "
                               f"{weight.text} 应为 {want:.2f}%。", q.value, round(want, 2))


def _names(w: Quantity, share: Quantity, vocab: Vocabulary) -> bool:
    """Whether an amount's subject names the whole a share is of (整体支出 for 总支出, …)."""
    whole = tie_whole(share, vocab)
    if whole is not None:
        part = tie(w, vocab)
        return part is not None and part.concept == whole.concept
    return w.subject.endswith(share.of.removeprefix("总").strip() or share.of)


def _ratio_if_wrong(q: Quantity, part: Quantity | None, whole: Quantity | None) -> float | None:
    """part ÷ whole in %, when the quoted ``q`` is not it — accepted within one unit of its last
    written digit; None when it is, or when a figure is missing."""
    if part is None or whole is None or whole.value <= 0:
        return None
    want = part.value / whole.value * 100
    return want if abs(q.value - want) > _unit_tolerance(q) else None


def _project_names(dept: Department, profile: Profile) -> list[tuple[str, tuple[str, ...]]]:
    """Each project's (name, keys of its executed amount — 附件3's, then 附件1's line for it):
    附件3 projects, then 附件1's own lines."""
    out = []
    for i, p in enumerate(dept.projects):
        if p.name and p.name.strip():
            out.append((p.name.strip(), (keys.funds(keys.project(i), "total", "executed"), f"{keys.project(i)}.basic.final")))
    cats = profile.projects.categories
    counters: dict[int, int] = {}
    for line in dept.basic.other_projects:
        ci = cats.index(line.category) if line.category in cats else 0
        j = counters[ci] = counters.get(ci, -1) + 1
        if line.name and line.name.strip():
            out.append((line.name.strip(), (keys.other_project(ci, j, "final"),)))
    return out


def _project_term(subject: str, names: list[tuple[str, tuple[str, ...]]]) -> tuple[str, tuple[str, ...]] | None:
    """A subject that is a project's name, with 项目/支出/经费/资金 after it or not."""
    s = re.sub(r"(?:项目)?(?:支出|资金|经费)?(?:合计|金额)?$", "", subject)
    for name, ks in names:
        stem = name.removesuffix("项目")
        if len(stem) >= 2 and (s.endswith(stem) or s.endswith(name)) and len(s) - len(stem) <= 8:
            return name, ks
    return None


def _against_tables(ctx: _Section, heading: str, para: str, located: list[tuple[Quantity, int]], vocab: Vocabulary,
                    tables: Tables, profile: Profile, names, project_names: tuple[str, ...], seen: set) -> Iterator[Flag]:
    """NARR-401 and NARR-405: each quoted figure against the table figure its subject names.
    ``para`` is the paragraph (with ``heading``, the figures' context)."""
    tol = profile.scoring.money_tolerance
    for q, pos in located:
        if q.kind == "share" and not q.approx:
            yield from _share_against_tables(ctx, q, [x for x, _ in located if x.sentence == q.sentence], vocab, tables,
                                             tol, seen)
        if q.approx or q.upper is not None or q.kind == "share":
            continue
        before = q.sentence[: q.at]
        term = tie(q, vocab)
        if term is not None:
            if term.whole_only and not _TOTAL_WORDS.search(before) \
                    and _about_a_part(heading + "。" + para[:pos], project_names):
                continue
            if q.kind == "rate" and _about_a_part(before, project_names):
                continue  # 项目支出…，执行率98%: the part's rate
            basis = _basis(before) if q.kind == "money" and not term.whole_only else "final"
            if basis == "budget" and not term.budget_keys:
                continue
            hit = tables.first(term.budget_keys if basis == "budget" else term.keys)
            label = term.concept + ("预算数" if basis == "budget" else "")
            certain = basis == "final"
        elif q.kind == "money":
            proj = _project_term(q.subject, names)
            if proj is None or _basis(before) == "budget":
                continue
            hit = tables.first(proj[1])
            label, certain = proj[0], True
        elif q.kind == "score":
            hit, label = _level1_score(q, before, tables, profile)
            certain = hit is not None
        else:
            continue
        if hit is None:
            continue
        key, fig = hit
        all_keys = term.keys if term is not None else (proj[1] if q.kind == "money" else (key,))
        if (key, q.text) in seen:
            continue
        if q.kind == "money":
            if q.unit == "元":
                continue  # NARR-405 below
            ok = abs(q.value - fig.value) <= _money_tolerance(q, tol)
            if not ok and fig.value and abs(q.value - fig.value * 10000) <= 0.5 + 1e-9:
                seen.add((key, q.text))
                yield ctx.flag("NARR-405", WARNING, q.sentence, f"写{label} {q.text}，附件 {fig.location} 为 "
                               f"{fmt_num(fig.value, 4)} 万元（即 {fmt_num(fig.value * 10000, 2)} 元）；单位应为元。",
                               q.text, f"{fmt_num(fig.value * 10000, 2)}元")
                continue
            shown = f"{fmt_num(fig.value, 4)} 万元"
        elif q.kind == "rate":
            ok = abs(q.value - fig.value * 100) <= max(_unit_tolerance(q), 0.005)
            shown = fmt_pct(fig.value, fig.places)
        elif q.kind == "score":
            ok = abs(q.value - fig.value) <= max(profile.scoring.score_tolerance, 0.5 * 10 ** -q.decimals) + 1e-9
            shown = f"{fmt_num(fig.value, 4)} 分"
        else:  # count
            ok = abs(q.value - fig.value) < 1e-9
            shown = f"{fmt_num(fig.value, 0)} {q.unit}"
        if ok:
            continue
        seen.add((key, q.text))
        scale = 100 if q.kind == "rate" else 1
        other = _agrees_elsewhere(q, tables, all_keys, key, scale, tol)
        if other:
            yield ctx.flag("NARR-401", INFO, q.sentence,
                           f"写{label} {q.text}，与{other}一致，但附件 {fig.location} 为 {shown}；附件中两处不一致，"
                           f"请先改正附件，再核对正文。", q.value, round(fig.value * scale, 4))
            continue
        yield ctx.flag("NARR-401", WARNING if certain else INFO, q.sentence,
                       f"写{label} {q.text}，附件 {fig.location} 为 {shown}。请核对后改正正文或附件。",
                       q.value, round(fig.value * scale, 4))
    # 元 where 万元 is meant: the figure is one of the tables' own 万元 figures, written in 元
    for q, _ in located:
        if q.kind == "money" and q.unit == "元" and not q.approx:
            for k in (keys.OVERALL_EXECUTED, keys.OVERALL_EXPENSE_BASIC, keys.OVERALL_EXPENSE_PROJECT,
                      keys.PERSONNEL_EXPENSE, keys.PUBLIC_EXPENSE, keys.OVERALL_BUDGET_FULL,
                      keys.OVERALL_BUDGET_INITIAL):
                fig = tables.get(k)
                if fig is not None and fig.value > 0 and abs(q.value - fig.value) <= tol + 1e-9:
                    if (k, q.text) not in seen:
                        seen.add((k, q.text))
                        yield ctx.flag("NARR-405", WARNING, q.sentence, f"写 {q.text}，附件中这个数是 "
                                       f"{fmt_num(q.value, 4)} 万元；单位应为万元。", q.text, f"{fmt_num(q.value, 4)}万元")
                    break


def _share_against_tables(ctx: _Section, q: Quantity, sentence: list[Quantity], vocab: Vocabulary,
                          tables: Tables, tol: float, seen: set) -> Iterator[Flag]:
    """NARR-401 for a share whose whole the sentence does not give ("基本支出100万元，占总支出的60%"):
    the part (as quoted, or the table's) over the table's whole. Where the sentence names both
    amounts, NARR-402 judges the share by them instead."""
    part, whole = tie(q, vocab), tie_whole(q, vocab)
    if part is None or whole is None or any(w.kind == "money" and _names(w, q, vocab) for w in sentence):
        return
    w = tables.first(whole.keys)
    p = tables.first(part.keys)
    if w is None or p is None or w[1].value <= 0:
        return
    amount = next((x for x in sentence if x.kind == "money" and x.subject == q.subject and x.unit == "万元"), None)
    if amount is not None and abs(amount.value - p[1].value) > _money_tolerance(amount, tol):
        return  # the amount itself is flagged; its share follows from it
    want = p[1].value / w[1].value * 100
    if abs(q.value - want) <= _unit_tolerance(q) or (w[0], q.text) in seen:
        return
    seen.add((w[0], q.text))
    yield ctx.flag("NARR-401", WARNING, q.sentence, f"写{part.concept}占{whole.concept} {q.text}，按附件 {p[1].location} 的 "
                   f"{fmt_num(p[1].value, 4)} ÷ {w[1].location} 的 {fmt_num(w[1].value, 4)} 应为 {want:.2f}%。",
                   q.value, round(want, 2))


def _agrees_elsewhere(q: Quantity, tables: Tables, all_keys: tuple[str, ...], key: str, scale: float, tol: float) -> str:
    """Where else the tables hold the quoted figure: another cell for the same quantity (附件1's
    公用经费 beside 基本支出 − 人员经费, 附件1's copy of a project's amount) or what a sheet states
    for a total it got wrong. Then the tables disagree among themselves: info, not a warning."""
    for k in all_keys:
        fig = tables.get(k)
        if k != key and fig is not None and abs(q.value - fig.value * scale) <= _money_tolerance(q, tol):
            return f"附件 {fig.location} 的 {fmt_num(fig.value * scale, 4)}"
        typed = tables.dept.stated.get(k)
        if _num(typed) and abs(q.value - typed * scale) <= _money_tolerance(q, tol):
            where = tables.layout.location(k, k)
            return f"附件 {where} 中填写的 {fmt_num(typed * scale, 4)}（按录入数据重算不是这个数）"
    return ""


def _level1_score(q: Quantity, before: str, tables: Tables, profile: Profile):
    """得分/分值 in a sentence about one 一级指标 (产出/效益/满意度): that 一级's score or weight."""
    if not re.search(r"(得分|分值|满分)$", q.subject) or q.subject.endswith("总分"):
        return None, ""
    named = [l1 for l1 in profile.levels("overall")
             if re.sub(r"(指标|目标)$", "", l1.name) and re.sub(r"(指标|目标)$", "", l1.name) in before]
    if len(named) != 1:
        return None, ""
    l1 = named[0]
    is_weight = bool(re.search(r"(分值|满分)$", q.subject))
    k = keys.level1_figure(l1.key, "weight" if is_weight else "score")
    fig = tables.get(k)
    return ((k, fig) if fig is not None else None), f"{l1.name}{'分值' if is_weight else '得分'}"


def _shares_add_up(ctx: _Section, qs: list[Quantity], vocab: Vocabulary) -> Iterator[Flag]:
    """NARR-403: the shares a section gives of one whole, for parts that make it up, add to 100 %."""
    by_whole: dict[str, dict[str, Quantity]] = {}
    for q in qs:
        if q.kind != "share" or q.approx:
            continue
        whole, part = tie_whole(q, vocab), tie(q, vocab)
        if whole is None or part is None:
            continue
        by_whole.setdefault(whole.concept, {}).setdefault(part.concept, q)
    for whole, parts in PARTITIONS:
        got = by_whole.get(whole, {})
        if all(p in got for p in parts):
            shares = [got[p] for p in parts]
            total = sum(s.value for s in shares)
            slack = sum(10 ** -s.decimals for s in shares)
            if abs(total - 100) > slack + 1e-9:
                listed = "、".join(f"{p} {got[p].text}" for p in parts)
                yield ctx.flag("NARR-403", WARNING, shares[-1].sentence,
                               f"中{listed}都是占{whole}的比重，合计 {fmt_num(total, 2)}%，应为 100%。",
                               round(total, 4), 100.0)


# -- indicators ---------------------------------------------------------------------------------

_IND_NUMBER = re.compile(r"^\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>[^\d\s%％≥≤<>＞＜=＝]{1,3}|%|％)?\s*$")
_COMPATIBLE = ({"次", "场次", "场"}, {"个", "家"}, {"万元"}, {"%", "％"})


def _indicator_figure(text: str | None) -> tuple[float, str] | None:
    """An indicator's target or actual when it is a plain figure (40集, 820场, 191.18万元)."""
    if not text:
        return None
    m = _IND_NUMBER.match(normalize(str(text)))
    if not m or not m["unit"]:
        return None
    return float(m["num"]), m["unit"].replace("％", "%")


def _same_unit(a: str, b: str) -> bool:
    return a == b or any(a in g and b in g for g in _COMPATIBLE)


def _core_name(name: str) -> str:
    """The words an indicator is known by: numbering dropped, a 《title》 where it has one."""
    name = re.sub(r"^\s*\d+\s*[.、．]\s*", "", name or "").strip()
    m = re.search(r"《([^》]{2,})》", name)
    return m[1] if m else name


@lru_cache(maxsize=4096)
def _overlap(a: str, b: str, n: int = 4) -> bool:
    """Whether two names share n consecutive characters (《走进镇馆之宝》 and 《湖湘独一档——镇馆之宝》)."""
    return any(a[i:i + n] in b for i in range(len(a) - n + 1))


def _indicator_list(dept: Department, layout: Layout) -> list[tuple[Indicator, str]]:
    overall = sheet_name(layout, "overall") or "整体支出表"
    out = [(i, overall) for i in dept.overall.indicators]
    for k, p in enumerate(dept.projects):
        out += [(i, sheet_name(layout, "project", k) or f"项目表({k + 1})") for i in p.indicators]
    return out


def indicator_figures(dept: Department, layout: Layout, vocab: Vocabulary) -> list:
    """The indicators whose target or actual is a plain figure, with the words they are known by."""
    inds = []
    for ind, sheet in _indicator_list(dept, layout):
        figs = [f for f in (_indicator_figure(ind.target), _indicator_figure(ind.actual)) if f]
        if figs:
            core = _core_name(ind.name)
            if len(core) >= 2 and not _is_vocabulary(core, vocab):
                inds.append((ind, sheet, core, figs))
    return inds


def _indicators(ctx: _Section, para: str, located: list[tuple[Quantity, int]], inds: list, seen: set) -> Iterator[Flag]:
    """NARR-406: a figure quoted for an indicator, in its unit, that is neither its target nor its
    actual. Tied by the indicator's name as the figure's subject, or by its name (or a 《title》
    sharing four characters with it) right after the figure or before it in the same sentence;
    a sentence opening with 前者/后者 refers to the previous sentence's first/last one. A warning
    where the name is the subject or stands in the figure's own clause, info otherwise."""
    wanted = [(q, pos) for q, pos in located
              if not q.approx and q.upper is None and q.kind in ("count", "money")]
    if not inds or not wanted:
        return
    norm = para
    # every mention of an indicator in the paragraph: (start, end, index, exact)
    # plain substring search: a unit's indicator names are its own, so a pattern compiled from
    # them would be compiled once per unit (a millisecond each, more than all the rest)
    mentions: list[tuple[int, int, int, bool]] = []
    for n, (_, _, core, _) in enumerate(inds):
        at = norm.find(core)
        while at >= 0:
            mentions.append((at, at + len(core), n, True))
            at = norm.find(core, at + len(core))
    if "《" in norm:
        for t in re.finditer(r"《([^》]{2,40})》", norm):
            mentions += [(t.start(), t.end(), n, False) for n, (_, _, core, _) in enumerate(inds)
                         if len(core) >= 4 and t[1] != core and _overlap(core, t[1])]
    starts = {}
    for q, pos in located:
        starts.setdefault(q.sentence, pos - q.at)
    order = list(starts)
    for q, pos in wanted:
        s0 = starts[q.sentence]
        s1 = s0 + len(q.sentence)
        end = pos + len(q.text)
        subj = re.sub(r"(?:项目)?(?:支出|经费)$", "", q.subject)
        direct = [n for n, (_, _, core, _) in enumerate(inds) if q.subject.endswith(core) or subj.endswith(core)]
        if len(direct) == 1:
            n, certain = direct[0], True
        elif q.kind == "money" or direct:
            continue  # an amount is an indicator's only when its subject names it
        else:
            after = [m for m in mentions if end <= m[0] <= end + 2 and not re.search(r"[，。；,;、]", norm[end:m[0]])]
            before = sorted((m for m in mentions if s0 <= m[1] <= pos), key=lambda m: -m[1])
            if after:
                n, certain = after[0][2], after[0][3]
            elif before:
                m = before[0]
                n, certain = m[2], m[3] and not re.search(r"[，。；,;]", norm[m[1]:pos])
            else:
                i = order.index(q.sentence)
                lead = re.match(r"\s*(前者|后者)", q.sentence)
                prev = starts[order[i - 1]] if i and lead else None
                if prev is None:
                    continue
                inprev = sorted((m for m in mentions if prev <= m[0] < s0), key=lambda m: m[0])
                if not inprev:
                    continue
                n, certain = (inprev[0] if lead[1] == "前者" else inprev[-1])[2], False
        if not s0 <= pos < s1:
            continue
        ind, sheet, core, figs = inds[n]
        unit = "万元" if q.kind == "money" else q.unit
        same = [v for v, u in figs if _same_unit(u, unit)]
        if not same or any(abs(q.value - v) <= 0.5 * 10 ** -q.decimals + 1e-9 for v in same):
            continue
        tag = ("indicator", ind.name, q.text)
        if tag in seen:
            continue
        seen.add(tag)
        yield ctx.flag("NARR-406", WARNING if certain else INFO, q.sentence,
                       f"写{core} {q.text}，{sheet}“{ind.name}”的指标值“{ind.target or '空'}”、"
                       f"完成值“{ind.actual or '空'}”。请核对后改正正文或附件。", q.value, same[-1])


def _is_vocabulary(name: str, vocab: Vocabulary) -> bool:
    """An indicator named like a table figure (项目支出, 预算执行率) is that figure's business."""
    return vocab.any.fullmatch(name) is not None


# -- claims in kind -----------------------------------------------------------------------------

_WITHIN_BUDGET = re.compile(r"(?<!未)(?<!没有)(?:控制在|未超过?|没有超过?|不超过?|未突破|没有突破)(?:年初|全年)?预算(?:总额|总数|数|额度|范围)?"
                            r"(?:以内|之内|范围内|以下)?(?=[，。；、\s]|$)")
_BELOW_STAFF = re.compile(r"(?:少于|低于|小于)(?:核定)?编制(?:数|人数)?")
_WITHIN_STAFF = re.compile(r"(?<!未)(?:控制在|未超过?|不超过?)[^，。；]{0,6}编制(?:数|人数)?(?:以内|之内|范围内)|未超编|没有超编|无超编")


def _claims(ctx: _Section, text: str, dept: Department, derived: dict[str, Any], tables: Tables,
            profile: Profile) -> Iterator[Flag]:
    """NARR-407: what the text says in words that the tables contradict."""
    executed = value_of(dept, keys.OVERALL_EXECUTED, derived)  # computed in most regions, typed in some
    full = tables.get(keys.OVERALL_BUDGET_FULL)
    actual, authorized = dept.basic.staff_actual, dept.basic.staff_authorized
    staff_at = tables.layout.at(keys.STAFF_ACTUAL, sheet_name(tables.layout, "basic") or "")
    staff_sheet = staff_at.sheet if isinstance(staff_at, SheetCell) else staff_at
    for sent in sentences(text):
        m = _WITHIN_BUDGET.search(sent)
        if m and _num(executed) and full is not None and full.value > 0 and not _about_a_part(sent[: m.start()], ()) \
                and executed > full.value + profile.scoring.money_tolerance:
            yield ctx.flag("NARR-407", WARNING, sent,
                           f"说“{m[0]}”，但全年执行数 {fmt_num(executed, 4)} 万元超过全年预算数 {fmt_num(full.value, 4)} 万元"
                           f"（执行率 {fmt_pct(executed / full.value, profile.scoring.rate_places)}，{full.location}）。", m[0],
                           round(executed / full.value, 4))
        if _num(actual) and _num(authorized):
            m = _BELOW_STAFF.search(sent)
            if m and actual >= authorized:
                yield ctx.flag("NARR-407", WARNING, sent,
                               f"说“{m[0]}”，但{staff_sheet} 实际在职 {int(actual)} 人、编制 {int(authorized)} 人。",
                               m[0], f"{int(actual)}/{int(authorized)}")
                continue
            m = _WITHIN_STAFF.search(sent)
            if m and actual > authorized:
                yield ctx.flag("NARR-407", WARNING, sent,
                               f"说“{m[0]}”，但{staff_sheet} 实际在职 {int(actual)} 人，超过编制 {int(authorized)} 人。",
                               m[0], f"{int(actual)}/{int(authorized)}")


def disagreements(flags: list[Flag], section_key: str | None = None) -> list[Flag]:
    """The narrative flags that say the text disagrees with the tables (for the report's notice),
    of one section or of all."""
    want = keys.section(section_key) if section_key else None
    return [f for f in flags if f.code.startswith("NARR-4") and (want is None or f.key == want)]
