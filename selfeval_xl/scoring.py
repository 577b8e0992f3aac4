"""Recompute every derived figure from the inputs and the profile.

``derive(dept, profile)`` returns ``{layout key: value}`` for every formula and hint cell the
layout draws: the Python twin of the workbook's formulas, key for key. It is what the
writer stores as each formula's cached value (viewers that do not recalculate still show
correct numbers) and what the checker trusts instead of any cached value in a returned
workbook. A LibreOffice recalculation test holds the two equal.

Conventions mirror Excel: a SUM over blanks is 0; a ratio with a blank or zero denominator
is blank (``None``); ROUND is half away from zero on the 15-significant-digit value.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .model import Department, Indicator, ProjectEvaluation
from .profile import Profile, normalize_label

Value = float | str | None


def is_blank_text(text: str) -> bool:
    """Python twin of ``layout.blank_text``: CLEAN (drop characters below U+0020), full-width
    spaces as spaces, TRIM; nothing left."""
    return not "".join(ch for ch in text if ord(ch) >= 32).replace("\u3000", " ").strip(" ")


def xl_round(x: float, digits: int) -> float:
    """Excel's ROUND: half away from zero, on the value as Excel sees it (15 digits)."""
    d = Decimal(format(x, ".15g"))
    q = Decimal(1).scaleb(-digits)
    sign = -1 if d < 0 else 1
    return float(sign * abs(d).quantize(q, rounding=ROUND_HALF_UP))


def xl_text(x: float) -> str:
    """How Excel turns a number into text in ``"..."&number`` (15 significant digits)."""
    return format(x, ".15g")


def _n(x: float | None) -> float:
    return 0.0 if x is None else float(x)


def _sum(*xs: float | None) -> float:
    return float(sum(_n(x) for x in xs))


def _count(*xs: object) -> int:
    return sum(1 for x in xs if isinstance(x, (int, float)) and not isinstance(x, bool))


def ratio(num: float | None, den: float | None, percent_decimals: int = -1) -> float | None:
    if den is None or den <= 0:
        return None
    r = _n(num) / den
    return xl_round(r, percent_decimals + 2) if percent_decimals >= 0 else r


def exec_score(rate: float | None, weight: float, profile: Profile) -> float | None:
    if rate is None:
        return None
    return xl_round(weight * min(rate, 1.0), profile.scoring.score_decimals)


def grade(total: float | None, profile: Profile) -> str:
    return "" if total is None else profile.grade_for(total)


def project_categories(dept: Department, profile: Profile, spares: int | None = None) -> tuple[str | None, ...]:
    """The shape of a unit's 附件3 sheets: each project's 附件1 category (None: not linked)."""
    cats = tuple(p.category if p.category in profile.projects.categories else None for p in dept.projects)
    n_spare = profile.projects.spare_sheets if spares is None else spares
    return cats + (None,) * n_spare


def group_indicators(indicators: list[Indicator], profile: Profile) -> dict[str, list[Indicator]]:
    """Indicators by 二级 key, in the order given. Unknown 二级 names raise ValueError."""
    out: dict[str, list[Indicator]] = {l2.key: [] for _, l2 in profile.level2_all()}
    for ind in indicators:
        found = profile.level2_by_name(ind.level2)
        if not found:
            names = "、".join(l2.name for _, l2 in profile.level2_all())
            raise ValueError(f"二级指标“{ind.level2}”不在配置 {profile.id} 中（可用：{names}）")
        out[found[1].key].append(ind)
    return out


def _indicator_block(prefix: str, indicators: list[Indicator], profile: Profile, out: dict[str, Value]) -> tuple[list, list]:
    grouped = group_indicators(indicators, profile)
    weights: list[float | None] = []
    scores: list[float | None] = []
    for l1 in profile.level1:
        l1_weights: list[float | None] = []
        for l2 in l1.level2:
            rows = grouped[l2.key]
            for k in range(l2.rows):
                ind = rows[k] if k < len(rows) else None
                w = ind.weight if ind else None
                s = ind.score if ind else None
                d = ind.deviation if ind else ""
                hint = ""
                if w is not None and s is not None:
                    if s > w:
                        hint = "得分超过分值"
                    elif s < w and is_blank_text(d):
                        hint = "得分低于分值：请填写偏差原因"
                out[f"{prefix}.hint.{l2.key}.{k}"] = hint
                l1_weights.append(w)
                scores.append(s)
        wsum = _sum(*l1_weights)
        out[f"{prefix}.hint.level1.{l1.key}"] = (
            "" if _count(*l1_weights) == 0 or abs(wsum - l1.weight) <= 0.0001
            else f"{l1.name}分值合计{xl_text(wsum)}，应为{_num(l1.weight)}"
        )
        weights.extend(l1_weights)
    return weights, scores


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _totals(prefix: str, weights: list, scores: list, exec_scores: list, profile: Profile, out: dict[str, Value]) -> None:
    s = profile.scoring
    wt = None
    if _count(*weights):
        wt = _sum(*weights) + (s.execution_weight if s.execution_scored else 0)
    out[f"{prefix}.weight_total"] = wt
    all_scores = exec_scores + scores
    total = _sum(*all_scores) if _count(*all_scores) else None
    out[f"{prefix}.total_score"] = total
    out[f"{prefix}.grade"] = grade(total, profile)
    out[f"{prefix}.hint.total"] = (
        "" if wt is None or abs(wt - s.total) <= 0.0001 else f"分值合计{xl_text(wt)}，应为{_num(s.total)}"
    )


def _exec(prefix: str, executed: float, full: float | None, profile: Profile, out: dict[str, Value]) -> list:
    s = profile.scoring
    rate = ratio(executed, full, s.execution_rate_percent_decimals)
    out[f"{prefix}.rate"] = rate
    over = full is not None and full > 0 and executed > full
    out[f"{prefix}.hint.rate"] = "执行数超过全年预算数（超预算执行），请核实" if over else ""
    if s.execution_scored:
        sc = exec_score(rate, s.execution_weight, profile)
        out[f"{prefix}.score"] = sc
        return [sc]
    return []


def derive_project(i: int, p: ProjectEvaluation, profile: Profile, out: dict[str, Value]) -> None:
    P = f"projects[{i}]"
    f = p.funds
    for fld in ("initial", "full", "executed"):
        out[f"{P}.funds.total.{fld}"] = _sum(getattr(f.current, fld), getattr(f.carryover, fld), getattr(f.other, fld))
    ex = _exec(f"{P}.funds", out[f"{P}.funds.total.executed"], out[f"{P}.funds.total.full"], profile, out)
    w, s = _indicator_block(P, p.indicators, profile, out)
    _totals(P, w, s, ex, profile, out)
    out[f"{P}.basic.name"] = p.name
    out[f"{P}.basic.budget"] = out[f"{P}.funds.total.full"]
    out[f"{P}.basic.final"] = out[f"{P}.funds.total.executed"]
    out[f"{P}.hint.basic"] = f"← 本年数取自附件3({i + 1})"


_BLANK_PROJECT = ProjectEvaluation(name="", category="")


def derive(dept: Department, profile: Profile, categories: tuple[str | None, ...] | None = None) -> dict[str, Value]:
    """Every derived value of the workbook ``fill`` would write for ``dept``."""
    cats = project_categories(dept, profile) if categories is None else categories
    out: dict[str, Value] = {}
    b = dept.basic

    out["basic.control_rate"] = ratio(b.staff_actual, b.staff_authorized)
    cr = out["basic.control_rate"]
    out["basic.hint.control_rate"] = "实际在职人数超过编制数，请在说明中解释" if cr is not None and cr > 1 else ""
    for f in ("prior", "budget", "final"):
        out[f"basic.car.{f}"] = _sum(getattr(b.car_purchase, f), getattr(b.car_operation, f))
        out[f"basic.three_public.{f}"] = _sum(out[f"basic.car.{f}"], getattr(b.overseas, f), getattr(b.reception, f))

    projects = list(dept.projects) + [_BLANK_PROJECT] * max(0, len(cats) - len(dept.projects))
    for i, p in enumerate(projects):
        derive_project(i, p, profile, out)

    for ci, cat in enumerate(profile.projects.categories):
        for f in ("prior", "budget", "final"):
            linked = [
                (p.prior_year_final if f == "prior" else out[f"projects[{i}].basic.{f}"])
                for i, p in enumerate(projects) if i < len(cats) and cats[i] == cat
            ]
            free = [getattr(line, f) for line in b.other_projects if line.category == cat]
            out[f"basic.projects.cat{ci}.{f}"] = _sum(*linked, *free)
    for f in ("prior", "budget", "final"):
        out[f"basic.projects.total.{f}"] = _sum(*(out[f"basic.projects.cat{ci}.{f}"]
                                                 for ci in range(len(profile.projects.categories))))

    bl = b.buildings
    out["basic.buildings.area_rate"] = ratio(bl.actual_area, bl.approved_area)
    out["basic.buildings.investment_rate"] = ratio(bl.actual_investment, bl.budget_investment)

    o = dept.overall
    out["overall.expense_project"] = out["basic.projects.total.final"]
    out["overall.executed"] = _sum(o.expense_basic, out["overall.expense_project"])
    ex = _exec("overall", out["overall.executed"], o.budget_full, profile, out)
    inc = (o.income.general, o.income.gov_fund, o.income.special_account, o.income.other)
    out["overall.hint.income"] = (
        "" if _count(*inc) == 0 or abs(_sum(*inc) - out["overall.executed"]) <= 0.005
        else f"收入性质合计{xl_text(_sum(*inc))}，与全年执行数{xl_text(out['overall.executed'])}不符"
    )
    w, s = _indicator_block("overall", o.indicators, profile, out)
    _totals("overall", w, s, ex, profile, out)

    n = dept.narrative
    out["narrative.basic_expense"] = _n(o.expense_basic)
    out["narrative.public_expense"] = (
        _n(o.expense_basic) - n.personnel_expense
        if o.expense_basic is not None and n.personnel_expense is not None else None
    )
    out["narrative.project_expense"] = out["basic.projects.total.final"]
    out["narrative.total_expense"] = out["overall.executed"]
    out["narrative.hint.personnel"] = (
        "人员经费大于基本支出，请核实"
        if n.personnel_expense is not None and _n(o.expense_basic) > 0 and n.personnel_expense > _n(o.expense_basic)
        else ""
    )
    so = dept.signoff
    footer = f"填表人：{so.preparer}  填报日期：{so.date}  联系电话：{so.phone}  单位负责人签字：{so.head}"
    from .layout import OVERALL, project_sheet_name  # local: layout imports nothing from here

    for sheet in [OVERALL] + [project_sheet_name(i) for i in range(len(projects))]:
        out[f"footer.{sheet}"] = footer
    return out


def same_label(a: str, b: str) -> bool:
    return normalize_label(a) == normalize_label(b)
