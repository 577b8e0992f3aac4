"""Model ⇄ layout keys: the two directions of one mapping.

``flatten`` gives the value of every input cell of a layout for a ``Department``;
``unflatten`` rebuilds the ``Department`` from such values. Both work from the layout's
keys, so writer and reader cannot disagree about where a field lives. Lists the form shows
as fixed slots (indicator rows under each 二级, free project rows under each 附件1 category)
are assigned in order, and blank slots are dropped on the way back.
"""

from __future__ import annotations

import re
from typing import Any

from . import keys
from .cells import INT, NUMERIC, Layout
from ..core.model import Department, Indicator, ProjectLine
from ..core.region import Profile
from ..core.scoring import group_indicators, which_levels



class BindingError(ValueError):
    """The model does not fit the layout (too many rows for the slots, unknown names)."""


def flatten(dept: Department, layout: Layout) -> dict[str, Any]:
    """Value for every input cell key of ``layout`` (None/"" for blank)."""
    profile = layout.profile
    out: dict[str, Any] = {}
    grouped: dict[str, dict[str, list[Indicator]]] = {}
    try:
        grouped[keys.OVERALL] = group_indicators(dept.overall.indicators, profile, "overall")
        for i, p in enumerate(dept.projects):
            grouped[keys.project(i)] = group_indicators(p.indicators, profile)
    except ValueError as e:
        raise BindingError(str(e)) from None
    _check_fits(dept, profile, grouped, layout)
    other = _other_by_category(dept, profile)
    for _sheet, cell in layout.inputs():
        key = cell.key
        kind, a, b, c = _PLANS.get(key) or _plan(key)
        if kind == "ind":
            rows = grouped.get(a, {}).get(b[0], [])
            out[key] = getattr(rows[b[1]], c) if b[1] < len(rows) else None
        elif kind == "other":
            rows = other[a[0]]
            out[key] = getattr(rows[a[1]], b) if a[1] < len(rows) else None
        elif kind == "fig":
            out[key] = dept.figures.get(key)
        elif kind == "pfig":
            out[key] = dept.projects[a].figures.get(b) if a < len(dept.projects) else None
        else:
            out[key] = _get_parts(dept, a)
    return out


def _get_parts(obj: Any, parts: tuple[tuple[str, int | None], ...]) -> Any:
    """The value at a model path, the key's parts (``Key.parts``, via ``_plan``)."""
    for name, idx in parts:
        obj = obj.get(name, "") if isinstance(obj, dict) else getattr(obj, name)
        if idx is not None:
            obj = obj[idx] if idx < len(obj) else None
            if obj is None:
                return None
    return obj


def value_of(dept: Department, key: str, derived: dict[str, Any]) -> Any:
    """A figure by its layout key, wherever the region put it: a derived cell (recomputed),
    a region-declared input (``figures``), or a field of the model. ``overall.expense_project``
    is derived from 附件1 in one region and typed in another; readers ask for it by name."""
    if key in derived:
        return derived[key]
    kind, a, rel, _ = _plan(key)
    if kind == "fig":
        return dept.figures.get(key)
    if kind == "pfig":
        return dept.projects[a].figures.get(rel) if a < len(dept.projects) else None
    if kind == "path":
        try:
            return _get_parts(dept, a)
        except (AttributeError, KeyError, TypeError):
            return None
    return None


def _other_by_category(dept: Department, profile: Profile) -> list[list[ProjectLine]]:
    cats = profile.projects.categories
    out: list[list[ProjectLine]] = [[] for _ in cats]
    for line in dept.basic.other_projects:
        if line.category not in cats:
            raise BindingError(f"{basic_name(profile)} 项目“{line.name}”的类别“{line.category}”不在配置中（可用：{'、'.join(cats)}）")
        out[cats.index(line.category)].append(line)
    return out


def _check_fits(dept: Department, profile: Profile, grouped: dict[str, dict[str, list[Indicator]]],
                layout: Layout) -> None:
    for prefix, by_l2 in grouped.items():
        if prefix == keys.OVERALL:
            if not by_l2 or not any(by_l2.values()):
                continue
            where = sheet_name(layout, "overall") or "整体支出表"
        else:
            i = keys.Key(prefix).project
            where = sheet_name(layout, "project", i) or f"项目表({i + 1})"
        for l1, l2 in profile.level2_all(which_levels(prefix)):
            if len(by_l2[l2.key]) > l2.rows:
                raise BindingError(
                    f"{where} 的“{l2.name}”有 {len(by_l2[l2.key])} 行，模板只提供 {l2.rows} 行；"
                    f"请合并指标或在配置中增加 rows"
                )
    for i, p in enumerate(dept.projects):
        if p.category not in profile.projects.categories and p.prior_year_final is not None:
            raise BindingError(
                f"{sheet_name(layout, 'project', i) or f'项目表({i + 1})'}“{p.name}”没有{basic_name(profile)} 类别（{'、'.join(profile.projects.categories)}），"
                f"它的上年决算数 {p.prior_year_final} 在{basic_name(profile)} 中无处填写；请指定类别，或改填{basic_name(profile)} 的空行"
            )
    n = profile.projects.free_rows_per_category
    for cat, rows in zip(profile.projects.categories, _other_by_category(dept, profile)):
        if len(rows) > n:
            raise BindingError(f"{basic_name(profile)}“{cat}”下无{project_name(profile)}的项目有 {len(rows)} 行，模板只提供 {n} 行")


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v == "")


def unflatten(values: dict[str, Any], layout: Layout, meta: dict[str, Any]) -> Department:
    """Rebuild a ``Department`` from input-cell values (already typed by the reader)."""
    profile = layout.profile
    shape = layout.shape
    where = layout.where
    tree: dict[str, Any] = {}
    ind_rows: dict[str, dict[tuple[str, int], dict[str, Any]]] = {}
    other_rows: dict[tuple[int, int], dict[str, Any]] = {}
    for key, v in values.items():
        plan = _PLANS.get(key) or _plan(key)
        if v is None and plan[0] == "ind":
            continue  # a blank indicator slot (most of them): nothing to keep
        if (v == "" or isinstance(v, float)) and key in where:  # only then does the cell's type matter
            vtype = where[key][1].vtype
            if vtype in NUMERIC and v == "":
                v = None
            elif vtype == INT and isinstance(v, float) and v.is_integer():
                v = int(v)
        kind, a, b, c = plan
        if kind == "ind":
            ind_rows.setdefault(a, {}).setdefault(b, {})[c] = v
        elif kind == "fig":
            if not _blank(v):
                tree.setdefault("figures", {})[key] = v
        elif kind == "pfig":
            if not _blank(v):
                projects_tree = tree.setdefault("projects", [])
                while len(projects_tree) <= a:
                    projects_tree.append({})
                projects_tree[a].setdefault("figures", {})[b] = v
        elif kind == "other":
            other_rows.setdefault(a, {})[b] = v
        else:
            _set_path(tree, a, v)

    # indicators: slot order is profile order; blank slots dropped
    def indicators(prefix: str, typed_only: bool = False) -> list[dict[str, Any]]:
        """The prefix's rows; ``typed_only`` leaves out a scorecard's printed rows nobody scored
        (a spare project sheet is still blank)."""
        rows = ind_rows.get(prefix, {})
        out = []
        for l1, l2 in profile.level2_all(which_levels(prefix)):
            for k in range(l2.rows):
                row = rows.get((l2.key, k))
                # a printed row is there only where the workbook draws this table (no overall one: none)
                fixed = l2.items[k] if l2.items and keys.indicator(prefix, l2.key, k, "score") in where else None
                if (fixed is None or typed_only) and (not row or all(_blank(v) for v in row.values())):  # most are blank
                    continue
                item = {"level1": l1.name, "level2": l2.name}
                for f, v in (row or {}).items():  # blank fields keep the model's defaults ("" or None)
                    if v is not None:
                        item[f] = v
                if fixed is not None:  # a scorecard row the form prints: always there, in its place
                    item.update(name=fixed.name, weight=fixed.weight, criteria=fixed.criteria)
                out.append(item)
        return out

    overall = tree.setdefault(keys.OVERALL, {})
    overall["indicators"] = indicators(keys.OVERALL)
    projects_in = tree.get("projects", [])
    projects = []
    printed_rows = any(l2.items for _, l2 in profile.level2_all(which_levels(keys.project(0))))
    for i, cat in enumerate(shape.project_categories):
        p = projects_in[i] if i < len(projects_in) and projects_in[i] is not None else {}
        p = dict(p)
        p["indicators"] = indicators(keys.project(i), typed_only=True)
        if _project_blank(p):
            continue
        if printed_rows:  # the scorecard's printed rows nobody scored, back in their places
            p["indicators"] = indicators(keys.project(i))
        p["category"] = cat or ""
        p["name"] = p.get("name") or ""
        projects.append(p)
    tree["projects"] = projects
    basic = tree.setdefault("basic", {})
    basic.pop("other", None)
    lines = []
    for (ci, _j), row in sorted(other_rows.items()):
        if all(_blank(row.get(f)) for f in ("name", "prior", "budget", "final")):
            continue
        lines.append({"category": profile.projects.categories[ci], "name": row.get("name") or "",
                      "prior": row.get("prior"), "budget": row.get("budget"), "final": row.get("final")})
    basic["other_projects"] = lines
    _strings_not_none(tree)
    tree.update({
        "code": meta["unit_code"], "name": meta["unit_name"], "competent_dept": meta.get("competent_dept", ""),
        "year": int(meta["year"]), "profile": meta["profile"],
    })
    return Department.model_validate(tree)


def _project_blank(p: dict[str, Any]) -> bool:
    def walk(x: Any) -> bool:
        if isinstance(x, dict):
            return all(walk(v) for v in x.values())
        if isinstance(x, list):
            return all(walk(v) for v in x)
        return _blank(x)
    return walk(p)


_TEXT_NONE_OK = {"prior", "budget", "final", "initial", "full", "executed", "weight", "score", "staff_authorized",
                 "staff_actual", "approved_area", "actual_area", "budget_investment", "actual_investment",
                 "general", "gov_fund", "special_account", "other", "expense_basic", "budget_initial", "budget_full",
                 "prior_year_final", "personnel_expense", "coefficient"}


def _strings_not_none(tree: Any) -> None:
    """Blank text cells come back as None; the model's text fields want ""."""
    if isinstance(tree, dict):
        for k, v in list(tree.items()):
            if v is None and k not in _TEXT_NONE_OK:
                tree[k] = ""
            else:
                _strings_not_none(v)
    elif isinstance(tree, list):
        for v in tree:
            _strings_not_none(v)


# each key's plan, made once: keys repeat across the units of a batch (the loops above look here
# first — a dict hit on the cell's own ``Key`` object — and call ``_plan`` only for a new key)
_PLANS: dict[str, tuple] = {}


def binds_to(key: str) -> str:
    """Where a layout key's value lives in a ``Department``: "fig" (the unit's ``figures``),
    "pfig" (a project's ``figures``), "ind" (an indicator slot), "other" (a free 附件1 line) or
    "path" (a field of the model) — for a reader that must say which keys a region adds."""
    return _plan(key)[0]


def _plan(key: str) -> tuple:
    """How a key binds back: an indicator slot, a free 附件1 project row, a region's own figure
    (of the unit or of a project), or a model path — asked of the key, parsed once."""
    plan = _PLANS.get(key)
    if plan is None:
        if len(_PLANS) > 65536:
            _PLANS.clear()
        plan = _PLANS[key] = _make_plan(keys.Key(key))
    return plan


def _make_plan(k: keys.Key) -> tuple:
    if k.slot is not None:
        return "ind", k.slot.prefix, (k.slot.level2, k.slot.k), k.slot.field
    if k.other is not None:
        return "other", (k.other.category, k.other.j), k.other.field, None
    if k.parts is None or not _in_model(Department, k.parts):
        if k.project is not None and k.parts is not None and k.rest:
            return "pfig", k.project, k.rest, None
        return "fig", None, None, None
    return "path", k.parts, None, None


def _in_model(model: Any, parts: tuple[tuple[str, int | None], ...]) -> bool:
    """Whether a key names a field of the model (else the region declared it: ``figures``)."""
    for n, (name, idx) in enumerate(parts):
        fields = getattr(model, "model_fields", None)
        if fields is None or name not in fields or name in ("figures", "stated"):
            return False
        ann = fields[name].annotation
        if name == "sections":  # narrative.sections.<key>: a dict of texts
            return n == len(parts) - 2
        args = getattr(ann, "__args__", ())
        if idx is not None:
            if not args:
                return False
            ann = args[0]
        elif args and getattr(ann, "__origin__", None) is list:
            return False
        model = ann
    # a key ending on a group of the model (``.funds.other``, a FundRow of 年初/全年/执行) is no cell
    # of it: the form's own figure (广水's 其他 column), not a crash in pydantic's English
    return getattr(model, "model_fields", None) is None


def _set_path(tree: dict[str, Any], parts: tuple[tuple[str, int | None], ...], value: Any) -> None:
    node: Any = tree
    for n, (name, idx) in enumerate(parts):
        last = n == len(parts) - 1
        if name == "sections" and parts[0][0] == "narrative":
            node.setdefault("sections", {})
            sec = parts[n + 1][0]
            if not _blank(value):
                node["sections"][sec] = value
            return
        if idx is None:
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
        else:
            lst = node.setdefault(name, [])
            i = idx
            while len(lst) <= i:
                lst.append({})
            if last:
                lst[i] = value
            else:
                node = lst[i]


# -- what a region has ----------------------------------------------------------------------------
# Checks, narrative checks and the report serve every region, and a region declares only the sheets
# and figures its own forms print: a project-only package has no 部门整体 table, so no
# overall.executed, no budget figure, no total or grade. Readers ask here instead of assuming.

def declares(layout: Layout, key: str) -> bool:
    """Whether some cell of the region's forms holds ``key`` (typed or computed)."""
    return key in layout.where


def sheet_name(layout: Layout, role: str, project: int | None = None) -> str | None:
    """The name the region gives its sheet of ``role`` (for "project", the ``project``-th one's),
    so messages say 项目表(2) or 自评表 where a region calls them so, never a 附件 it does not have.
    None when the region has no such sheet."""
    for sh in layout.sheets:
        if sh.role == role and (project is None or sh.project == project):
            return sh.name
    if role == "project" and project is not None:
        sdef = next((s for s in layout.profile.forms.sheets if s.role == "project"), None)
        if sdef is not None:
            return sdef.name.replace("{n}", str(project + 1))
    return None


def form_name(profile: Profile, role: str) -> str | None:
    """The region's name for a kind of sheet as a whole (附件3, 项目表 — the repeated sheet's name
    without its number), None when the region has no sheet of that role."""
    sdef = next((s for s in profile.forms.sheets if s.role == role), None)
    if sdef is None:
        return None
    return re.sub(r"[（(]\{n\}[)）]|\{n\}", "", sdef.name).strip() or sdef.name


def basic_name(profile: Profile) -> str:
    """The region's name for its 基础数据表 (岳阳: 附件1), for messages; a generic name where it has none."""
    return form_name(profile, "basic") or "基础数据表"


def project_name(profile: Profile) -> str:
    """The region's name for its project tables (岳阳: 附件3, national: 项目自评表), for messages."""
    name = form_name(profile, "project") or "项目表"
    return name if name.endswith("表") else name + " 表"
