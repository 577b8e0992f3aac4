"""What differs between two copies of a region, in words a coordinator understands.

Used when a returned workbook carries a region that is not the coordinator's: the flag must
say *what* was changed — the grades, a weight, a tolerance, a formula — not two digests.
"""

from __future__ import annotations

from .numbers import fmt_num
from .region import REGION_FILE, Profile

_SCORING = (
    ("execution_weight", "预算执行率分值"),
    ("execution_scored", "预算执行率是否计分"),
    ("total", "总分"),
    ("money_tolerance", "金额容差"),
    ("score_tolerance", "得分容差"),
    ("execution_rate_percent_decimals", "执行率小数位"),
    ("score_decimals", "得分小数位"),
    ("show_grade_row", "是否印评价等次行"),
)


def _v(x) -> str:
    if x is None:
        return "不固定（只规定合计）"
    if isinstance(x, bool):
        return "是" if x else "否"
    if isinstance(x, (int, float)):
        return fmt_num(x, 6)
    return str(x)


def _grades(p: Profile) -> str:
    return "、".join(f"{g.name}≥{_v(g.min)}" for g in p.grades)


def _weights(levels) -> dict[str, tuple[str, float]]:
    return {l1.key: (l1.name, l1.weight) for l1 in levels}


def region_changes(carried: Profile, own: Profile, limit: int = 12) -> list[str]:
    """Each difference of ``carried`` from ``own`` as a short Chinese phrase (at most ``limit``,
    then how many more); empty when the two are the same rules and forms."""
    out: list[str] = []
    if carried.id != own.id:
        out.append(f"地区名为“{carried.id}”（应为“{own.id}”）")
    if [(g.name, g.min) for g in carried.grades] != [(g.name, g.min) for g in own.grades]:
        out.append(f"评价等次为 {_grades(carried)}（应为 {_grades(own)}）")
    for field, label in _SCORING:
        a, b = getattr(carried.scoring, field), getattr(own.scoring, field)
        if a != b:
            out.append(f"{label}为 {_v(a)}（应为 {_v(b)}）")
    for which, title in (("project", ""), ("overall", "整体表")):
        mine, theirs = _weights(own.levels(which)), _weights(carried.levels(which))
        for key, (name, w) in mine.items():
            if key not in theirs:
                out.append(f"{title}缺少一级指标“{name}”")
            elif theirs[key][1] != w:
                out.append(f"{title}一级指标“{name}”分值为 {_v(theirs[key][1])}（应为 {_v(w)}）")
        for key, (name, _) in theirs.items():
            if key not in mine:
                out.append(f"{title}多出一级指标“{name}”")
        if which == "project" and carried.overall_level1 == () and own.overall_level1 == ():
            break
    # every part of a rule judges (kind, keys, operator, bounds, when, tolerance); its wording does not
    if [c.model_dump(exclude={"message"}) for c in carried.checks] != [c.model_dump(exclude={"message"}) for c in own.checks]:
        out.append("表间核对规则不同")
    theirs_src, mine_src = dict(carried.sources), dict(own.sources)
    for name in sorted(set(theirs_src) | set(mine_src)):
        if name == REGION_FILE:
            continue
        if name not in mine_src:
            out.append(f"多出表格定义 {name}")
        elif name not in theirs_src:
            out.append(f"缺少表格定义 {name}")
        elif theirs_src[name] != mine_src[name]:
            what = "公式" if _formulas(theirs_src[name]) != _formulas(mine_src[name]) else "单元格或文字"
            out.append(f"表格定义 {name} 的{what}被改动")
    if not out and theirs_src.get(REGION_FILE) != mine_src.get(REGION_FILE):
        out.append(f"{REGION_FILE} 中的其他规则被改动")
    if len(out) > limit:
        out = out[:limit] + [f"另有 {len(out) - limit} 处"]
    return out


def _formulas(text: str) -> list[str]:
    """The lines of a form file that define formulas (a ``"key" = "=…"`` line), in order."""
    return [ln.strip() for ln in text.splitlines() if "= \"=" in ln or "= '=" in ln or ln.strip().startswith("=")]
