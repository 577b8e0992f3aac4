"""Every check of DOMAIN.md as a pure function of (model, profile) → flags.

A flag says what is wrong, where (``附件3(2)!H14``, from the one layout), what the file
states, what the recompute expects, and what the clerk should do — in Chinese. Codes are
stable so coordinators can filter and count them:

* ``SUM-*``, ``RATE-1*``, ``SCORE-1*``, ``WEIGHT-1*``, ``XATT-*`` errors: arithmetic that must hold;
* ``*-2*`` warnings: judgement calls (suggested scores, missing reasons, over-execution …);
* ``*-3*`` info: completeness (empty sections, missing attachments, the 附件5 pre-score).

Figures a source *states* for derived cells (``Department.stated``: a Word report's typed
totals, or cached values in a returned workbook) are compared with ``forms.recompute.derive``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from ..forms.binding import declares, form_name, sheet_name, value_of
from ..core.indicators import has_operator, normalize, suggest
from ..forms import keys
from ..forms.cells import CellCheck, Layout, default_check, percent_places
from ..forms.compile import indicator_header
from ..forms.layout import compile_layout, shape_for
from ..forms.rules import tolerance_value
from ..core.model import Department, Indicator
from ..core.region import Profile, normalize_label
from ..forms.recompute import derive
from ..core.flags import ERROR, INFO, WARNING, Flag, SheetCell
from ..core.numbers import fmt_num, fmt_pct, xl_round
from ..core.scoring import group_indicators, which_levels
from .narrative import check_narrative

_EMPTY_REASON = {"", "无", "无偏差", "—", "——", "-", "/", "无。"}


@dataclass
class CheckResult:
    dept: Department
    profile: Profile
    derived: dict[str, Any]
    flags: list[Flag] = field(default_factory=list)

    @property
    def total(self) -> float | None:
        return self.derived.get(keys.OVERALL_TOTAL_SCORE)

    @property
    def grade(self) -> str:
        return self.derived.get(keys.OVERALL_GRADE) or ""

    def count(self, severity: str) -> int:
        return sum(1 for f in self.flags if f.severity == severity)


# -- stated figures vs recompute -------------------------------------------------------------

def tolerance(kind: str, profile: Profile) -> float:
    """How far a stated figure may sit from the recompute, for a check's tolerance kind — the
    same number a declared rule's in-sheet warning allows (``forms.rules.tolerance_value``)."""
    return tolerance_value(kind, profile)


def stated_check(layout: Layout, key: str) -> CellCheck | None:
    """The check a formula cell raises when a source states another value: the one declared
    for it (its form's ``[block.checks]``, or the building block that draws it), else CALC-101.
    None for a key that is no formula cell of the layout."""
    found = layout.where.get(key)
    if found is None or found[1].kind != "formula":
        return None
    cell = found[1]
    return cell.check or default_check(cell.vtype)


def _close(a: Any, b: Any, tol: float) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= tol + 1e-9
    return (a in (None, "") and b in (None, "")) or a == b


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return fmt_num(v, 4)
    return "空" if v in (None, "") else str(v)


def check_stated(dept: Department, profile: Profile, layout: Layout, derived: dict[str, Any]) -> Iterator[Flag]:
    for key, stated in dept.stated.items():
        if key not in derived:
            continue
        rule = stated_check(layout, key)
        if rule is None:
            continue
        expected = derived[key]
        if isinstance(stated, (int, float)) and expected is None:
            expected_cmp: Any = 0.0
        else:
            expected_cmp = expected
        if _close(stated, expected_cmp, tolerance(rule.tolerance, profile)):
            continue
        show = _fmt
        if rule.tolerance == "rate":  # a rate as the cell shows it (98.91%, 岳阳's 99%), not 0.9891
            places = percent_places(layout.where[key][1]) if key in layout.where else 2
            show = lambda v: fmt_pct(v, places) if isinstance(v, (int, float)) and not isinstance(v, bool) \
                else _fmt(v)  # noqa: E731
        yield Flag(rule.code, rule.severity, layout.at(key, key),
                   f"{rule.message}：表中为 {show(stated)}，按录入数据重算应为 {show(expected)}。请核对录入数据或改正该数字。",
                   stated, expected, key)



# -- arithmetic on inputs -------------------------------------------------------------------

def check_income(dept: Department, layout: Layout, derived: dict[str, Any], tol: float) -> Iterator[Flag]:
    inc = dept.overall.income
    parts = [inc.general, inc.gov_fund, inc.special_account, inc.other]
    if all(p is None for p in parts):
        return
    total = sum(p or 0 for p in parts)
    executed = value_of(dept, keys.OVERALL_EXECUTED, derived)
    if not isinstance(executed, (int, float)) or not declares(layout, keys.OVERALL_INCOME_GENERAL):
        return  # the region has no 执行数 to compare with, or no income rows to point at
    if abs(total - executed) > tol:
        yield Flag("SUM-105", ERROR, layout.at(keys.OVERALL_INCOME_GENERAL),
                   f"按收入性质分合计 {_fmt(total)}（一般公共预算+政府性基金+专户非税+其他）应等于全年执行数 "
                   f"{_fmt(executed)}。请核对各项收入来源。", total, executed, keys.OVERALL_INCOME_GENERAL)


def indicator_slots(indicators: list[Indicator], profile: Profile, which: str = "project",
                    ) -> Iterator[tuple[str, int, Indicator]]:
    grouped = group_indicators(indicators, profile, which)
    for _, l2 in profile.level2_all(which):
        for k, ind in enumerate(grouped[l2.key]):
            yield l2.key, k, ind


def computed_fields(prefix: str, indicators: list[Indicator], profile: Profile, layout: Layout,
                    derived: dict[str, Any]) -> list[Indicator]:
    """The rows with the columns the form computes per row (a declared 得分 formula) filled
    from the recompute: the reader keeps only inputs, the checks judge the row as printed."""
    which = which_levels(prefix)
    # per slot: a scorecard's printed rows compute their 分值, the free rows beside them do not;
    # found from the shared sheets' remembered formula slots rather than by asking every
    # slot's every column (thousands of lookups per unit)
    computed: dict[tuple[str, int], list[str]] = {}
    for sh in layout.sheets:
        for slot in sh.computed_slots():
            if slot.prefix == prefix and slot.field in keys.INDICATOR_FIELDS:
                computed.setdefault((slot.level2, slot.k), []).append(slot.field)
    if not computed:
        return indicators
    out = []
    for l2key, k, ind in indicator_slots(indicators, profile, which):
        update = {}
        for f in computed.get((l2key, k), ()):
            v = derived.get(keys.indicator(prefix, l2key, k, f))
            if f in ("weight", "score", "coefficient"):
                update[f] = v if isinstance(v, (int, float)) and not isinstance(v, bool) else None
            else:
                update[f] = "" if v is None else str(v)
        out.append(ind.model_copy(update=update))
    return out


def check_indicators(prefix: str, where: str, indicators: list[Indicator], profile: Profile, layout: Layout,
                     derived: dict[str, Any] | None = None) -> Iterator[Flag]:
    if derived is not None:
        indicators = computed_fields(prefix, indicators, profile, layout, derived)
    s = profile.scoring
    tol = s.score_tolerance
    which = which_levels(prefix)
    # the cell a target problem points at: the one-cell target, or 指标值 (调整/年初指标值) where the
    # form splits it; the 三级 name where it has none; a reason only where the form has the column
    first_l2 = profile.level2_all(which)[0][1].key
    drawn = {f for f in keys.INDICATOR_FIELDS if keys.indicator(prefix, first_l2, 0, f) in layout.where}
    target_field = next((f for f in ("target", "value", "adjusted_value", "initial_value") if f in drawn), "name")
    has_reason = "deviation" in drawn
    # no 分值 column: the 一级 label carries the points (湖北's 产出指标（50分）); see _capped
    has_weight = "weight" in drawn
    # the reason column as the form heads it (四川: 未完成原因分析); a form without one: the report
    reason = (indicator_header(profile, which, "deviation") or "偏差原因分析及改进措施") if has_reason else ""
    loc = lambda l2, k, f: layout.at(keys.indicator(prefix, l2, k, f))  # noqa: E731
    weights_by_l1: dict[str, list[float]] = {l1.key: [] for l1 in profile.levels(which)}
    weights_by_l2: dict[str, list[float]] = {l2.key: [] for _, l2 in profile.level2_all(which)}
    l1_of = {l2.key: l1 for l1, l2 in profile.level2_all(which)}
    ceiling_of = {l2.key: l2.ceiling for _, l2 in profile.level2_all(which)}
    printed = {l2.key: bool(l2.items) for _, l2 in profile.level2_all(which)}
    present_l2: set[str] = set()
    for l2key, k, ind in indicator_slots(indicators, profile, which):
        present_l2.add(l2key)
        name = ind.name or f"第 {k + 1} 行"
        if not has_weight:
            yield from _unweighted_row(where, name, ind, l2key, k, prefix, has_reason, reason, ceiling_of[l2key], loc)
        elif ind.weight is not None:
            weights_by_l1[l1_of[l2key].key].append(ind.weight)
            weights_by_l2[l2key].append(ind.weight)
        if has_weight and ind.name and ind.weight is None:
            yield Flag("WEIGHT-104", ERROR, loc(l2key, k, "weight"), f"{where}“{name}”未填分值。", None, None,
                       keys.indicator(prefix, l2key, k, "weight"))
        if has_weight and ind.name and ind.score is None and ind.weight is not None:
            yield Flag("SCORE-105", ERROR, loc(l2key, k, "score"), f"{where}“{name}”未填得分。", None, None,
                       keys.indicator(prefix, l2key, k, "score"))
        if has_weight and ind.weight is not None and ind.score is not None:
            if ind.score > ind.weight + 1e-9:
                yield Flag("SCORE-103", ERROR, loc(l2key, k, "score"),
                           f"{where}“{name}”得分 {_fmt(ind.score)} 超过分值 {_fmt(ind.weight)}。得分不能超过分值。",
                           ind.score, ind.weight, keys.indicator(prefix, l2key, k, "score"))
            elif has_reason and ind.score < ind.weight - 1e-9 and ind.deviation.strip() in _EMPTY_REASON:
                yield Flag("IND-202", WARNING, loc(l2key, k, "deviation"),
                           f"{where}“{name}”得分 {_fmt(ind.score)} 低于分值 {_fmt(ind.weight)}，但未说明原因。"
                           f"请填写{reason}。", ind.deviation, None,
                           keys.indicator(prefix, l2key, k, "deviation"))
            sug = suggest(ind.target_text, ind.actual, ind.weight, ceiling_of[l2key])
            if sug and not sug.contains(ind.score, tol):
                exp = _fmt(xl_round(sug.low, 2)) if sug.low == sug.high else \
                    f"{_fmt(xl_round(sug.low, 2))}–{_fmt(xl_round(sug.high, 2))}"
                yield Flag("IND-201", WARNING, loc(l2key, k, "score"),
                           f"{where}“{name}”：指标值“{ind.target_text}”，完成值“{ind.actual}”，{sug.basis}，建议得分 {exp}，"
                           f"表中为 {_fmt(ind.score)}。请复核得分或在{reason or '报告'}中说明。", ind.score, exp,
                           keys.indicator(prefix, l2key, k, "score"))
        if ind.actual.strip():
            if has_operator(ind.actual):
                yield Flag("IND-203", WARNING, loc(l2key, k, "actual"),
                           f"{where}“{name}”的实际完成值“{ind.actual}”带有 ≥、≤ 等符号。完成值应写实际达到的数，如 98%。",
                           ind.actual, None, keys.indicator(prefix, l2key, k, "actual"))
            elif normalize(ind.actual) == normalize(ind.target_text) and has_operator(ind.target_text):
                yield Flag("IND-203", WARNING, loc(l2key, k, "actual"),
                           f"{where}“{name}”的实际完成值照抄了指标值“{ind.target_text}”。请填写实际达到的数。",
                           ind.actual, None, keys.indicator(prefix, l2key, k, "actual"))
        core = ind.core.strip() and "core" in drawn and layout.where.get(keys.indicator(prefix, l2key, k, "core"))
        if core and core[1].choices_strict and ind.core.strip() not in core[1].choices:
            yield Flag("IND-205", WARNING, loc(l2key, k, "core"),
                       f"{where}“{name}”的是否核心指标填的是“{ind.core}”。请填{'或'.join(f'“{c}”' for c in core[1].choices)}。",
                       ind.core, None, keys.indicator(prefix, l2key, k, "core"))
        target = ind.target_text
        # a scorecard row (评价内容 scored against its 评分标准, 决策依据 2 分) has no target to measure
        by_criteria = printed[l2key] or bool(ind.criteria.strip())
        if ind.name and not by_criteria and target_field != "name" and (not target.strip() or normalize(target) == "定性"):
            yield Flag("IND-204", WARNING, loc(l2key, k, target_field),
                       f"{where}“{name}”的年度指标值“{target or '空'}”无法衡量。请写明可衡量的目标值，如 ≥95%、≤100万元、12月31日前。",
                       target, None, keys.indicator(prefix, l2key, k, target_field))
    if not indicators:
        return
    if not has_weight:
        yield from _capped(prefix, where, indicators, profile, layout, which)
    elif not profile.weights_fixed_per_level1(which) and not all(l1.level2_weighted for l1 in profile.levels(which)):
        # only the total is fixed (四川 90): a unit may put all of it under one 一级 (where every
        # 二级 has its points, they add up to the total: WEIGHT-105 says where it is not met)
        ws = [w for l1 in profile.levels(which) for w in weights_by_l1[l1.key]]
        want = profile.indicator_total(which)
        if ws and abs(sum(ws) - want) > tol:
            first = next(key for key, k, ind in indicator_slots(indicators, profile, which) if ind.weight is not None)
            key_w = keys.indicator(prefix, first, 0, "weight")
            yield Flag("WEIGHT-103", ERROR, layout.at(key_w),
                       f"{where}各行分值合计 {_fmt(sum(ws))}，按规则绩效指标合计应为 {_fmt(want)}。请调整各行分值。",
                       sum(ws), want, key_w)
    for l1 in profile.levels(which):
        ws = weights_by_l1[l1.key]
        if has_weight:
            yield from _level2_weights(prefix, where, l1, weights_by_l2, layout, tol)
        if l1.level2_weighted:  # its 二级's points add up to its own: WEIGHT-105 says which is off
            continue
        if l1.weight is not None and ws and abs(sum(ws) - l1.weight) > tol:
            first_l2 = l1.level2[0].key
            yield Flag("WEIGHT-101", ERROR, layout.at(keys.indicator(prefix, first_l2, 0, "weight")),
                       f"{where}{l1.name}各行分值合计 {_fmt(sum(ws))}，按规则应为 {_fmt(l1.weight)}。请调整各行分值。",
                       sum(ws), l1.weight, keys.indicator(prefix, first_l2, 0, "weight"))
    missing = [l2.name for _, l2 in profile.level2_all(which) if l2.key not in present_l2]
    if missing:
        l1, l2 = next((a, b) for a, b in profile.level2_all(which) if b.name == missing[0])
        yield Flag("IND-301", INFO, layout.at(keys.indicator(prefix, l2.key, 0, "name"), where.strip()),
                   f"{where}以下二级指标没有三级指标：{'、'.join(missing)}"
                   + (f"（{_scoring_sheet(profile)}考核“细化到三级指标”会扣分）。" if _scoring_sheet(profile) else "。"),
                   None, None, keys.indicator(prefix, l2.key, 0, "name"))


def _level2_weights(prefix: str, where: str, l1, weights: dict[str, list[float]], layout: Layout,
                    tol: float) -> Iterator[Flag]:
    """WEIGHT-105: per 二级 with its own points (数量指标（20分）), its rows' 分值 add up to them;
    the flag points at the 二级's cell, where the sheet turns red."""
    for l2 in l1.level2:
        ws = weights[l2.key]
        if l2.weight is None or not ws or abs(sum(ws) - l2.weight) <= tol:
            continue
        key = keys.indicator(prefix, l2.key, 0, "weight")
        yield Flag("WEIGHT-105", ERROR, _level2_at(layout, prefix, l2, "weight"),
                   f"{where}{l1.name}“{l2.name}”各行分值合计 {_fmt(xl_round(sum(ws), 4))}，按规则应为 {_fmt(l2.weight)}"
                   f"（{l2.label}）。请调整该二级指标下各行分值。", sum(ws), l2.weight, key)


def _unweighted_row(where: str, name: str, ind: Indicator, l2key: str, k: int, prefix: str, has_reason: bool,
                    reason: str, ceiling: bool, loc) -> Iterator[Flag]:
    """The row checks of a table without a 分值 column (the 一级 label carries the points, as in
    湖北's 产出指标（50分））. A row has no weight of its own, so what compares a score with it is
    not raised — not falsely against a missing figure: SCORE-103 (得分超过分值) becomes the 一级's
    SCORE-107 (``_capped``), and IND-201's suggested score, a share of the row's weight, has
    nothing to be a share of. A name without a score is still SCORE-105. IND-202 (得分低于分值
    须写偏差原因) falls back to what can be known without a weight: the completion below its
    target — ``suggest`` on a unit weight giving less than full marks — with no reason written,
    where the form has a reason column; where it has none, the reason goes in the report and
    nothing is raised (as for a weighted form without the column)."""
    key_s = keys.indicator(prefix, l2key, k, "score")
    if ind.name and ind.score is None:
        yield Flag("SCORE-105", ERROR, loc(l2key, k, "score"), f"{where}“{name}”未填得分。", None, None,
                       keys.indicator(prefix, l2key, k, "score"))
    if not has_reason or ind.deviation.strip() not in _EMPTY_REASON:
        return
    sug = suggest(ind.target_text, ind.actual, 1.0, ceiling)
    if sug is not None and sug.high < 1 - 1e-9:
        yield Flag("IND-202", WARNING, loc(l2key, k, "deviation"),
                   f"{where}“{name}”：指标值“{ind.target_text}”，完成值“{ind.actual}”，未达到指标值，但未说明原因。"
                   f"请填写{reason}。", ind.deviation, None, keys.indicator(prefix, l2key, k, "deviation"))


def _capped(prefix: str, where: str, indicators: list[Indicator], profile: Profile, layout: Layout,
            which: str) -> Iterator[Flag]:
    """SCORE-107: per 一级 of a table without a 分值 column, its rows' scores may not add to more
    than the weight its label prints (region loading refuses such a table without a weight per
    一级). The flag points at the 一级's cell, where the sheet turns red."""
    tol = profile.scoring.score_tolerance
    l1_of = {l2.key: l1 for l1, l2 in profile.level2_all(which)}
    scores: dict[str, float] = {}
    by_l2: dict[str, float] = {}
    for l2key, _k, ind in indicator_slots(indicators, profile, which):
        if ind.score is not None:
            l1 = l1_of[l2key]
            scores[l1.key] = scores.get(l1.key, 0.0) + ind.score
            by_l2[l2key] = by_l2.get(l2key, 0.0) + ind.score
    for l1 in profile.levels(which):
        for l2 in l1.level2:  # SCORE-108: a 二级 with its own points (数量指标（20分）)
            got = by_l2.get(l2.key)
            if got is None or l2.weight is None or got <= l2.weight + tol:
                continue
            yield Flag("SCORE-108", ERROR, _level2_at(layout, prefix, l2, "score"),
                       f"{where}{l1.name}“{l2.name}”各行得分合计 {_fmt(xl_round(got, 4))}，超过该二级指标的分值 "
                       f"{_fmt(l2.weight)} 分。请改正各行得分。", got, l2.weight, keys.indicator(prefix, l2.key, 0, "score"))
        got = scores.get(l1.key)
        # a 一级 whose 二级 all have points: they add up to its own, so SCORE-108 says where it is over
        if got is None or l1.weight is None or l1.level2_weighted or got <= l1.weight + tol:
            continue
        key = keys.indicator(prefix, l1.level2[0].key, 0, "score")
        yield Flag("SCORE-107", ERROR, _level1_at(layout, prefix, l1),
                   f"{where}{l1.name}各行得分合计 {_fmt(xl_round(got, 4))}，超过该一级指标的分值 {_fmt(l1.weight)} 分。"
                   f"请改正各行得分。", got, l1.weight, key)


def _level1_at(layout: Layout, prefix: str, l1) -> Any:
    """The 一级 label's cell (产出指标（50分）, merged down its rows) of the table ``prefix``; the
    first row's 得分 where the form draws no 一级 column."""
    first = keys.indicator(prefix, l1.level2[0].key, 0, "score")
    found = layout.where.get(first)
    if found is None:
        return layout.at(first)
    sh, cell = found
    for c in sh.cells:
        if c.kind == "label" and c.r == cell.r and isinstance(c.text, str) and c.text.startswith(l1.name) \
                and c.merge is not None and c.c < cell.c:
            return SheetCell(sh.name, c.r + 1, c.c + 1)
    return layout.at(first)


def _level2_at(layout: Layout, prefix: str, l2, field: str) -> Any:
    """The 二级 label's cell (数量指标（20分）) of the table ``prefix``: the rightmost label left
    of the first row's cells that starts with the 二级's name (the 一级 label may share the name
    and the row); the first row's ``field`` cell where the form draws no 二级 column."""
    first = keys.indicator(prefix, l2.key, 0, field)
    found = layout.where.get(first) or layout.where.get(keys.indicator(prefix, l2.key, 0, "score"))
    if found is None:
        return layout.at(first)
    sh, cell = found
    labels = [c for c in sh.cells if c.kind == "label" and c.r == cell.r and isinstance(c.text, str)
              and normalize_label(c.text).startswith(normalize_label(l2.name)) and c.c < cell.c]
    if not labels:
        return layout.at(first)
    c = max(labels, key=lambda c: c.c)
    return SheetCell(sh.name, c.r + 1, c.c + 1)


def _project_sheet(layout: Layout, i: int) -> str:
    """The i-th project's sheet as the region names it (a region without project sheets: 项目(i))."""
    return sheet_name(layout, "project", i) or f"项目({i + 1})"


def check_scope(profile: Profile, layout: Layout) -> Iterator[Flag]:
    """Said once, where the coordinator reads the flags: what this region's forms do not have, so
    the checks and the report figures that rest on it are left out (not one flag per check)."""
    lacking = []
    if sheet_name(layout, "overall") is None:
        lacking.append("部门整体支出表（不校验整体的预算执行率、总分和评价等次，报告不印这些数字）")
    else:
        for key, what in ((keys.OVERALL_BUDGET_FULL, "全年预算数"), (keys.OVERALL_EXECUTED, "全年执行数"),
                          (keys.OVERALL_RATE, "预算执行率"), (keys.OVERALL_TOTAL_SCORE, "总分"),
                          (keys.OVERALL_GRADE, "评价等次")):
            if not declares(layout, key):
                lacking.append(f"整体的{what}（{key}）")
    if lacking:
        yield Flag("REG-301", INFO, "整个工作簿",
                   f"本地区（{profile.profile.name}）的表样没有" + "、".join(lacking) + "；其余各项照常校验。",
                   None, None, None)


def check_execution(prefix: str, where: str, executed: float, full: float | None, layout: Layout,
                    key: str, places: int) -> Iterator[Flag]:
    """RATE-201; the rate said as the region shows it (``places``: ``Scoring.rate_places``)."""
    if full is not None and full > 0 and executed > full + 1e-9:
        yield Flag("RATE-201", WARNING, layout.at(key, where.strip()),
                   f"{where}全年执行数 {_fmt(executed)} 超过全年预算数 {_fmt(full)}（执行率 {fmt_pct(executed / full, places)}），"
                   f"属超预算执行。请核实或说明原因。", executed, full, key)


def check_cross(dept: Department, profile: Profile, layout: Layout, derived: dict[str, Any]) -> Iterator[Flag]:
    basic = sheet_name(layout, "basic")
    if basic is None:
        return  # no 附件1 list of projects to reconcile with
    tol = profile.scoring.money_tolerance
    free = {normalize(line.name): line for line in dept.basic.other_projects if line.name}
    for i, p in enumerate(dept.projects):
        where = _project_sheet(layout, i)
        if p.category in profile.projects.categories:
            continue
        line = free.get(normalize(p.name))
        exec_ = value_of(dept, keys.funds(keys.project(i), "total", "executed"), derived) or 0.0
        full = value_of(dept, keys.funds(keys.project(i), "total", "full"), derived) or 0.0
        if line is None:
            yield Flag("XATT-103", ERROR, layout.at(keys.of(keys.project(i), "name")),
                       f"{where}“{p.name}”（全年执行数 {_fmt(exec_)}）未列入{basic} 项目支出。请在{basic} 相应类别下填写该项目。",
                       p.name, None, keys.of(keys.project(i), "name"))
            continue
        for label, a, b in (("本年预算数", line.budget, full), ("本年决算数", line.final, exec_)):
            if abs((a or 0) - b) > tol:
                yield Flag("XATT-104", ERROR, layout.at(keys.of(keys.project(i), "name")),
                           f"{basic}“{line.name}”{label} {_fmt(a)} 与 {where} {_fmt(b)} 不一致。",
                           a, b, keys.of(keys.project(i), "name"))


def _rule_hints(layout: Layout) -> list:
    """The hint cells whose warning ``check`` reports, found once per layout (a layout is
    shared by the reader, the checker and the report of one unit)."""
    found = layout.__dict__.get("_rule_hints")
    if found is None:
        found = layout.__dict__["_rule_hints"] = [c for sh in layout.sheets for c in _sheet_part(sh, "_rule_hints", (
            lambda c: c.kind == "hint" and c.check is not None), ("formula", "hint"))]
    return found


def _sheet_part(sh, name: str, keep, kinds: tuple[str, ...]) -> list:
    """The cells of one shared sheet that ``keep`` selects, found once per process (the layouts
    of a province's units are made of the same few shared sheets)."""
    base = sh.origin or sh
    found = base.__dict__.get(name)
    if found is None:
        found = base.__dict__[name] = [c for c in base.cells_of(kinds) if keep(c)]
    return found


def check_rules(dept: Department, layout: Layout, derived: dict[str, Any]) -> Iterator[Flag]:
    """What the in-sheet warnings a region declares say: its ``[[checks]]`` (a hint cell beside
    each rule's cell, ``forms.rules``) and the hints it draws with ``[block.warn]``/``[block.error]``
    tables. ``derived`` is the recompute — the hint's own formula evaluated from the inputs —
    so the flag is what the sheet shows after recalculation, never the workbook's cached text."""
    for cell in _rule_hints(layout):
        rule = cell.check
        shown = derived.get(cell.key)
        if not isinstance(shown, str) or not shown.strip():
            continue
        at = rule.at if rule.at in layout.where else cell.key
        figures = [(k, value_of(dept, k, derived)) for k in rule.keys if k in layout.where]
        said = "、".join(f"{layout.location(k)} 为 {_fmt(v)}" for k, v in figures)
        values = [v for _k, v in figures]
        yield Flag(rule.code, rule.severity, layout.at(at),
                   f"{rule.message}" + (f"：{said}" if said else "") + "。请核对后改正。",
                   values[0] if values else None, values[1] if len(values) > 1 else None, at)


def _strict_choices(layout: Layout) -> list:
    """The inputs whose options are the only right values (``Cell.choices_strict``), but the
    indicator rows' (是否核心指标: IND-205, by row) — found once per layout."""
    found = layout.__dict__.get("_strict_choices")
    if found is None:
        found = layout.__dict__["_strict_choices"] = [c for sh in layout.sheets for c in _sheet_part(sh, "_strict_choices", (
            lambda c: c.choices_strict and c.key.slot is None), ("input",))]
    return found


def check_choices(dept: Department, layout: Layout) -> Iterator[Flag]:
    """A value outside the options a region declares for a cell (``[block.choices]``: 湖北's
    项目类别): a warning at the cell, listing the options. Suggestions (偏差原因's 无 / 无偏差)
    are not options: any text is right there."""
    for cell in _strict_choices(layout):
        v = value_of(dept, cell.key, {})
        text = v.strip() if isinstance(v, str) else "" if v is None else str(v)
        if not text or text in cell.choices:
            continue
        label = (cell.prompt or "").split("\n")[0].strip() or str(cell.key)
        yield Flag("FILL-201", WARNING, layout.at(cell.key),
                   f"{layout.location(cell.key)}“{label}”填写了“{text}”，不在可选项（{'、'.join(cell.choices)}）中。"
                   f"请从下拉列表中选择。", text, "、".join(cell.choices), cell.key)


# -- completeness ---------------------------------------------------------------------------

def check_completeness(dept: Department, profile: Profile, layout: Layout) -> Iterator[Flag]:
    missing_sections = []
    for sec in profile.report.sections:
        text = dept.narrative.sections.get(sec.key, "").strip()
        if not text:
            missing_sections.append(sec.title)
            yield Flag("SEC-301", INFO, layout.at(keys.section(sec.key), "报告正文"),
                       f"报告正文“{sec.title}”为空。没有内容的部分请填写“无”。", None, None, keys.section(sec.key))
    # the attachments are the region's, by the names it gives them: a region without 附件1 or
    # 附件3 does not miss them
    missing_att = []
    b = dept.basic
    basic, overall, project = (form_name(profile, r) for r in ("basic", "overall", "project"))
    if basic and b.staff_authorized is None and b.public_funds.final is None and b.reception.final is None:
        missing_att.append(basic)
    if overall and not dept.overall.indicators:
        missing_att.append(overall)
    if project and not dept.projects:
        missing_att.append(project)
    for att in missing_att:
        yield Flag("ATT-301", INFO, att, f"{att} 未填写。", None, None, None)
    rule = profile.report.completeness
    if rule is None:
        return  # the region scores no completeness (only Hunan's 附件5 does, where declared)
    body = max(0, rule.body - rule.deduct * len(missing_sections))
    attach = max(0, rule.attachments - rule.deduct * len(missing_att))
    sheet = rule.sheet
    yield Flag("PRE-301", INFO, next((sh.name for sh in layout.sheets if sh.role == "narrative"), "报告正文"),
               f"{sheet}“完整性”预评分：正文 {_fmt_pts(body)}/{_fmt_pts(rule.body)} 分，{'附件' if sheet else '表格'} "
               f"{_fmt_pts(attach)}/{_fmt_pts(rule.attachments)} 分（按缺一部分扣 {_fmt_pts(rule.deduct)} 分估算）。",
               None, _whole(body + attach), None)


def _whole(x: float) -> float | int:
    """A score as a number the summary prints as before (15, not 15.0)."""
    return int(x) if float(x).is_integer() else x


def _fmt_pts(x: float) -> str:
    return fmt_num(x, 2)


def _scoring_sheet(profile: Profile) -> str:
    """The 评分表 the region's completeness score cites (its ``[report.completeness] sheet``,
    Hunan's 附件5); "" where the region declares none."""
    rule = profile.report.completeness
    return rule.sheet if rule is not None else ""


def is_blank(dept: Department) -> bool:
    """Nothing a unit fills itself: no 附件2 figure, no execution, no indicator, no text — a
    template returned as generated (the roster's project names and budgets do not count)."""
    o = dept.overall
    figures = [o.budget_initial, o.budget_full, o.expense_basic, *o.income.model_dump().values()]
    figures += [p.funds.current.executed for p in dept.projects]
    texts = [t for t in dept.narrative.sections.values() if t and t.strip()]
    indicators = o.indicators + [i for p in dept.projects for i in p.indicators]
    filled_figures = {k: v for k, v in dept.figures.items() if v not in (None, "")}
    return all(v is None for v in figures) and not texts and not indicators and not filled_figures


def check_filled(dept: Department, layout: Layout, derived: dict[str, Any]) -> Iterator[Flag]:
    """A workbook without the figures the evaluation rests on is not a pass (FILL-101: nothing
    filled at all; FILL-102: 全年预算数 or 执行数 missing) — the figures the region's forms have:
    the 部门整体 table's, or where a region has none (a project-only package) each project's."""
    overall = sheet_name(layout, "overall")
    project = form_name(layout.profile, "project")
    if is_blank(dept):
        what = f"{overall} 的预算数、执行数、绩效指标" if overall else \
            f"{project} 的资金、绩效指标" if project else "各表"
        yield Flag("FILL-101", ERROR, "整个工作簿", f"工作簿未填写：{what}和报告正文都是空的。请单位填写后重新提交。")
        return
    if overall is not None:
        if declares(layout, keys.OVERALL_BUDGET_FULL) and value_of(dept, keys.OVERALL_BUDGET_FULL, derived) in (None, ""):
            yield Flag("FILL-102", ERROR, layout.at(keys.OVERALL_BUDGET_FULL, overall),
                       "全年预算数未填写：执行率和得分无法计算。请填写。", None, None, keys.OVERALL_BUDGET_FULL)
        if declares(layout, keys.OVERALL_EXECUTED) and not value_of(dept, keys.OVERALL_EXECUTED, derived):
            yield Flag("FILL-102", ERROR, layout.at(keys.OVERALL_EXECUTED, overall),
                       "全年执行数为 0：基本支出、项目支出都未填写。请填写。", 0, None, keys.OVERALL_EXECUTED)
        return
    for i, p in enumerate(dept.projects):
        where = _project_sheet(layout, i)
        for column, says in (("full", "全年预算数未填写：执行率和得分无法计算"), ("executed", "全年执行数为 0 或未填写")):
            key = keys.funds(keys.project(i), "total", column)
            if declares(layout, key) and not value_of(dept, key, derived):
                yield Flag("FILL-102", ERROR, layout.at(key, where), f"{where}“{p.name}”{says}。请填写。",
                           None, None, key)


# -- entry point ----------------------------------------------------------------------------

def check(dept: Department, profile: Profile, recomputed: tuple[tuple, dict[str, Any]] | None = None) -> CheckResult:
    """Every check of ``dept``. ``recomputed`` = (project categories, derive() for them), when the
    caller has it already (the reader does); used only if the categories are the ones checked."""
    shape = shape_for(dept, profile)
    layout = compile_layout(profile, shape)
    if recomputed is not None and tuple(recomputed[0]) == tuple(shape.project_categories):
        derived = recomputed[1]
    else:
        derived = derive(dept, layout)
    flags: list[Flag] = []
    s = profile.scoring
    flags += check_filled(dept, layout, derived)
    flags += check_stated(dept, profile, layout, derived)
    flags += check_income(dept, layout, derived, s.money_tolerance)
    cr = derived.get(keys.CONTROL_RATE)
    if cr is not None and cr > 1:
        flags.append(Flag("RATE-202", WARNING, layout.at(keys.STAFF_ACTUAL),
                          f"实际在职人数 {dept.basic.staff_actual} 超过编制数 {dept.basic.staff_authorized}"
                          f"（控制率 {cr:.2%}）。请核实或在说明中解释。", cr, 1.0, keys.STAFF_ACTUAL))
    flags += check_scope(profile, layout)
    overall = sheet_name(layout, "overall")
    if overall is not None:  # a project-only region has no 部门整体 figures to check
        flags += check_execution(keys.OVERALL, overall + " ", value_of(dept, keys.OVERALL_EXECUTED, derived) or 0.0,
                                 value_of(dept, keys.OVERALL_BUDGET_FULL, derived), layout, keys.OVERALL_BUDGET_FULL,
                                 s.rate_places)
        flags += check_indicators("overall", overall + " ", dept.overall.indicators, profile, layout, derived)
    for i, p in enumerate(dept.projects):
        where = _project_sheet(layout, i) + " "
        flags += check_execution(keys.project(i), where, value_of(dept, keys.funds(keys.project(i), "total", "executed"), derived) or 0.0,
                                 value_of(dept, keys.funds(keys.project(i), "total", "full"), derived), layout,
                                 keys.funds(keys.project(i), "current", "executed"), s.rate_places)
        flags += check_indicators(keys.project(i), where, p.indicators, profile, layout, derived)
    flags += check_cross(dept, profile, layout, derived)
    flags += check_rules(dept, layout, derived)
    flags += check_choices(dept, layout)
    flags += check_narrative(dept, profile, layout, derived)
    flags += check_completeness(dept, profile, layout)
    return CheckResult(dept, profile, derived, flags)
