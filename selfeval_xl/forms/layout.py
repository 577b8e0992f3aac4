"""A unit's layout: the region's compiled sheets, in workbook order, for the unit's shape.

``compile_layout(profile, shape)`` is the one entry every writer, reader, check and report
walks. Sheets are compiled once per structure (``forms.compile``) and shared by every unit
of a batch; a unit's few personal labels (its code and name) are swapped in by ``Layout``.
"""

from __future__ import annotations

from functools import lru_cache

from ..core.region import Level1, Profile
from ..core.scoring import project_categories
from .cells import UNIT_CODE, UNIT_NAME, Layout, Shape, Sheet
from .compile import build_sheet
from .keys import PROJECTS_ALL, Key


def _structural(year: int, project_categories: tuple[str | None, ...] = ()) -> Shape:
    return Shape(year=year, unit_code=UNIT_CODE, unit_name=UNIT_NAME, project_categories=project_categories)


@lru_cache(maxsize=512)
def _shared_sheet(profile: Profile, sheet_index: int, year: int, item: int | None,
                  project_categories: tuple[str | None, ...] | None) -> Sheet:
    """One compiled sheet, shared by every unit whose sheet has this structure: a sheet
    repeated per project depends on its index; 附件1 on the unit's project categories."""
    sdef = profile.forms.sheets[sheet_index]
    sheet = build_sheet(sdef, profile, _structural(year, project_categories or ()), item)
    if project_categories is not None:  # one of many shapes (附件1): recompute without a per-sheet compile
        sheet.__dict__["per_shape"] = True
    return sheet


@lru_cache(maxsize=4)  # reading, checking and reporting one unit ask for the same layout in turn
def compile_layout(profile: Profile, shape: Shape) -> Layout:
    """The unit's layout: the region's sheets in order, one per project for repeated sheets."""
    cats = tuple(shape.project_categories)
    sheets: list[Sheet] = []
    # a region rule over every project (sum = ["projects[*].…"]) may sit on any sheet
    all_projects = any(Key(k).every or "{" + PROJECTS_ALL in r.when for r in profile.checks for k in r.keys)
    for i, sdef in enumerate(profile.forms.sheets):
        if sdef.repeat == "projects":
            sheets += [_shared_sheet(profile, i, shape.year, k, None) for k in range(len(cats))]
        else:
            per_shape = sdef.uses_projects or all_projects
            sheets.append(_shared_sheet(profile, i, shape.year, None, cats if per_shape else None))
    return Layout(profile, shape, sheets)


def shape_for(dept, profile: Profile, spares: int | None = None) -> Shape:
    """The shape of a unit's workbook: its year, code, name and each project's 附件1 category,
    plus the region's spare 附件3 sheets (``spares`` overrides their number)."""
    return Shape(year=dept.year, unit_code=dept.code, unit_name=dept.name, competent_dept=dept.competent_dept,
                 project_categories=project_categories(dept, profile, spares))


def level1_of(profile: Profile, level2_key: str, which: str = "project") -> Level1:
    for l1 in profile.levels(which):
        if any(l2.key == level2_key for l2 in l1.level2):
            return l1
    raise KeyError(level2_key)
