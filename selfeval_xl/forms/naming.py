"""The region's names for what the tool writes: the report's title and file name, the guide
sheet's title and its 执行率 and 分值 lines (region.toml ``[report] title / file_name``, ``[forms]
guide_title / guide_rate / guide_weights``; issue #18 part 5). Hunan's wording is only the default
when a region says nothing (its templates do not change).

Why here: the CLI, the workspace and the report writer all name a unit's report, and the
workbook writer titles its guide; each must say it in the region's words (a project-only
package files a 项目支出绩效自评报告, not Hunan's 整体支出绩效自评报告), so the wording is
decided once, from the region, in this module. Pure strings: making a name safe for a file
system is the caller's (``checking.report_file_name``).
"""

from __future__ import annotations

import re

from ..core.region import GUIDE_RATE_KEYS, GUIDE_TITLE_KEYS, GUIDE_WEIGHTS_KEYS, REPORT_FILE_NAME_KEYS, Profile
from .binding import form_name

__all__ = ["GUIDE_RATE_KEYS", "GUIDE_TITLE_KEYS", "GUIDE_WEIGHTS_KEYS", "REPORT_FILE_NAME_KEYS", "default_parts",
           "default_stem", "guide_rate", "guide_title", "guide_weights", "report_stem", "report_title"]


def report_title(profile: Profile) -> str:
    """The report's title: the region's ``[report] title``; else by the region's kind of package,
    not this unit's projects (a project-only region's unit with no project yet still files a
    项目支出 report)."""
    if profile.report.title:
        return profile.report.title
    return ("项目支出绩效自评报告" if form_name(profile, "project") and not form_name(profile, "overall")
            else "整体支出绩效自评报告")


def _fill(template: str, values: dict[str, object]) -> str:
    # a plain {key} substitution: the templates were validated at load, values are put in as typed
    return re.sub(r"\{([A-Za-z_]+)\}", lambda m: str(values.get(m.group(1), m.group(0))), template)


def report_stem(profile: Profile, unit_code: str, unit_name: str, year: int | str,
                workbook_stem: str | None = None) -> str:
    """The report file's name without ``.docx``: the region's ``file_name`` pattern filled in;
    without one, the workbook's name with the title in place of 绩效自评
    (``001_档案馆_2023年度绩效自评`` → ``001_档案馆_2023年度整体支出绩效自评报告``), or
    ``{unit_code}_{unit_name}_{year}年度{title}`` when there is no workbook name."""
    title = report_title(profile)
    pattern = profile.report.file_name
    if pattern:
        return _fill(pattern, {"unit_code": unit_code, "unit_name": unit_name, "year": year, "title": title})
    if workbook_stem is None:
        return f"{unit_code}_{unit_name}_{year}年度{title}"
    return default_stem(workbook_stem, title)


def default_stem(workbook_stem: str, title: str) -> str:
    """A workbook's name → its report's: 年度绩效自评 becomes 年度 + title; other names get _title."""
    return "".join(default_parts(workbook_stem, title))


def default_parts(workbook_stem: str, title: str) -> tuple[str, str]:
    """``default_stem`` as (the workbook's part, the title's part): a caller bounding the name in
    bytes cuts the first and keeps the title whole."""
    stem = workbook_stem
    stem = stem[: -len("绩效自评")] if stem.endswith("年度绩效自评") else stem
    return stem, (title if stem.endswith("年度") else "_" + title)


def guide_title(profile: Profile, year: int) -> str:
    """The guide sheet's title: ``[forms] guide_title`` ({year} filled in); else the report's
    declared title as a form's ("{year}年度X绩效自评 填表说明"); else by the kind of package —
    部门整体支出 where the region has an overall table (today's Hunan wording), 项目支出 where
    it has only project tables."""
    if profile.forms.guide_title:
        return _fill(profile.forms.guide_title, {"year": year})
    if profile.report.title:
        return f"{year}年度{profile.report.title.removesuffix('报告')} 填表说明"
    kind = ("项目支出" if form_name(profile, "project") and not form_name(profile, "overall") else "部门整体支出")
    return f"{year}年度{kind}绩效自评 填表说明"


def guide_rate(profile: Profile, default: str) -> str:
    """The guide's 执行率 line: ``[forms] guide_rate`` ({weight} = the execution rate's 分值), else
    ``default`` (the engine's wording from the scoring rules)."""
    if not profile.forms.guide_rate:
        return default
    w = profile.scoring.execution_weight
    return _fill(profile.forms.guide_rate, {"weight": f"{w:g}" if isinstance(w, float) else w})


def _g(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def guide_weights(profile: Profile, default: str) -> str:
    """The guide's 分值 line: ``[forms] guide_weights`` ({weight} = the execution rate's 分值,
    {indicators} = the indicators' total, {total} = the total score), else ``default``."""
    if not profile.forms.guide_weights:
        return default
    s = profile.scoring
    return _fill(profile.forms.guide_weights, {"weight": _g(s.execution_weight), "indicators": _g(profile.indicator_total()),
                                               "total": _g(s.total)})
