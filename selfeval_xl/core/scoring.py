"""Scoring rules that are not cell formulas: grades, indicator grouping, blank text.

Every derived *cell* (totals, rates, scores, hints) is recomputed by evaluating the form's
own formulas (``forms.recompute``), so there is no Python twin of them to keep in step.
What remains here are the rules the checks and the report apply to the model directly.
"""

from __future__ import annotations

from .model import Department, Indicator
from .region import Profile


def is_blank_text(text: str) -> bool:
    """Python twin of ``layout.blank_text``: CLEAN (drop characters below U+0020), full-width
    spaces as spaces, TRIM; nothing left."""
    return not "".join(ch for ch in text if ord(ch) >= 32).replace("\u3000", " ").strip(" ")


def project_categories(dept: Department, profile: Profile, spares: int | None = None) -> tuple[str | None, ...]:
    """The shape of a unit's 附件3 sheets: each project's 附件1 category (None: not linked)."""
    cats = tuple(p.category if p.category in profile.projects.categories else None for p in dept.projects)
    n_spare = profile.projects.spare_sheets if spares is None else spares
    return cats + (None,) * n_spare


def which_levels(prefix: str) -> str:
    """The indicator structure a block uses: 附件2's ("overall") or the project tables'."""
    return "overall" if prefix == "overall" else "project"


def group_indicators(indicators: list[Indicator], profile: Profile, which: str = "project",
                     ) -> dict[str, list[Indicator]]:
    """Indicators by 二级 key, in the order given. Unknown 二级 names raise ValueError."""
    out: dict[str, list[Indicator]] = {l2.key: [] for _, l2 in profile.level2_all(which)}
    for ind in indicators:
        found = profile.level2_by_name(ind.level2, which)
        if not found:
            names = "、".join(l2.name for _, l2 in profile.level2_all(which))
            raise ValueError(f"二级指标“{ind.level2}”不在配置 {profile.id} 中（可用：{names}）")
        out[found[1].key].append(ind)
    return out
