"""``extract``'s JSON, shaped by the workbook's own region.

The README tells a coordinator to extract a blank template and fill in what it shows. The bare
model dump could not serve: a blank template's region figures (``overall.funds.current.full``,
keys the region itself declared) are blank and so left out — the very keys a new region's data
file needs — while every region got Hunan's 附件1 fields (公务用车、楼堂馆所 …) and 附件2 income
lines whether its forms have them or not. Here the region's blank inputs are listed as null and
the model's parts the region has no cell for are left out — in the unit's tables, in each project
(a project-only region's form without 上年结转资金 lists no ``funds.carryover``, a form that keeps its
money under its own keys no ``funds`` at all, none of 附件1's ``prior_year_final``) and in each
indicator row (only the columns the region's indicator tables print) — and a figure that is filled
is never dropped; ``fill`` reads the result back as is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..forms import keys
from ..forms.binding import binds_to
from .read import read_workbook

# parts of a unit's data that are lists of rows or texts: kept whole (their slots are not keys)
_KEEP = {"indicators", "other_projects", "sections", "evaluators", "figures"}
# what names a project and an indicator row, whatever the forms print: the model needs them to
# place the row (a project's category picks its 附件1 group; a row is found by its 一级、二级 and name)
_PROJECT_IDENTITY = {"name", "category", "indicators", "figures"}
_ROW_IDENTITY = {"level1", "level2", "name"}


def extract_data(path: str | Path) -> dict[str, Any]:
    """The inputs of a workbook as the JSON ``fill`` reads, with every input cell of its region."""
    r = read_workbook(path, with_checks_of_structure=False)
    data = r.dept.model_dump(mode="json")
    inputs = [k for k, (_, cell) in r.book.layout.where.items() if cell.kind == "input"]
    figures = data.setdefault("figures", {})
    for k in inputs:
        kind = binds_to(k)
        if kind == "fig":
            figures.setdefault(str(k), None)
        elif kind == "pfig":
            key = keys.Key(k)
            if key.project < len(data.get("projects", [])):
                data["projects"][key.project].setdefault("figures", {}).setdefault(str(key.rest), None)
    shown = {str(k) for k in inputs}
    for part in ("basic", "overall", "narrative", "signoff"):
        if part in data and not any(k == part or k.startswith(part + ".") for k in shown):
            del data[part]  # a region without that table: none of Hunan's fields for it
        elif part in data:
            _prune(data[part], part, shown)
    _prune_rows(data.get("overall", {}).get("indicators", ()), _columns(inputs, keys.OVERALL))
    for i, project in enumerate(data.get("projects", ())):
        own = {str(keys.Key(k).rest) for k in inputs if keys.Key(k).project == i and binds_to(k) == "path"}
        _prune(project, "", own | _PROJECT_IDENTITY)
        _prune_rows(project.get("indicators", ()), _columns(inputs, keys.project(i)))
    return data


def _columns(inputs: list, prefix: str) -> set[str]:
    """The indicator columns the region's table under ``prefix`` has an input cell for."""
    return {k.slot.field for k in map(keys.Key, inputs) if k.slot is not None and k.slot.prefix == prefix}


def _prune_rows(rows, columns: set[str]) -> None:
    """Each indicator row keeps its identity, the columns its table has, and whatever is filled."""
    for row in rows:
        for name in list(row):
            if name not in _ROW_IDENTITY and name not in columns and row[name] in (None, "", [], {}):
                del row[name]


def _prune(node: dict, prefix: str, shown: set[str]) -> bool:
    """Drop the blank leaves of ``node`` no input cell of the region names (keys under ``prefix``;
    "" for a project's own, relative keys); True when empty."""
    for name in list(node):
        key = f"{prefix}.{name}" if prefix else name
        value = node[name]
        if name in _KEEP:
            continue
        if isinstance(value, dict):
            if _prune(value, key, shown) and not any(s.startswith(key + ".") for s in shown):
                del node[name]
        elif key not in shown and value in (None, "", [], {}):
            del node[name]
    return not node
