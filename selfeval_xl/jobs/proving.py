"""A region is proven before a template goes out (#18 part 4).

A region is data, and data can be wrong in ways no single file shows: a total row with no
indicator table above it, a formula naming a cell no sheet draws, a ``[[checks]]`` rule or a
report section asking for a figure the forms do not have. Found at ``check`` time, that is a
batch of returned workbooks a coordinator cannot read; found here, it is one message to the
person who wrote the region, before any clerk sees a template.

``prove(profile)`` runs the whole way once, in memory and a temporary folder: compile the
layout, fill every input cell with a valid value of its type (deterministic: the same region
always gets the same figures), recompute, write the workbook, read it back, check it and
render its report. Anything that fails is a ``RegionRefused`` naming the file, line (where it
can be found) and key. A pass is remembered by the region's digest (in the process and in the
user's cache folder), so ``generate`` proves every time at almost no cost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import re
import tempfile
from pathlib import Path
from typing import Any, Iterator

from pydantic import ValidationError

from .. import __version__
from ..core.region import REGION_FILE, Profile, ProfileError
from ..forms import keys
from ..forms.binding import BindingError, declares, flatten, form_name, unflatten
from ..core.model import Department
from ..core.numbers import DATE_MAX, DATE_MIN, iso_date
from ..forms.cells import AREA, DATE, INT, LONGTEXT, MONEY, PERCENT, SCORE, WEIGHT, Layout, Shape
from ..forms.definition import FormError
from ..forms.formula import FormulaError
from ..forms.layout import compile_layout
from ..forms.regions import where_written

_ERROR_VALUES = {"#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#N/A", "#NUM!", "#NULL!"}
_PROVEN: set[str] = set()  # digests proven in this process
_PROJECTS = 2  # a unit with two projects (plus the region's spare sheets): repeated sheets meet each other


class RegionRefused(ValueError):
    """A region that cannot go out; the message lists every problem (Chinese), each with file,
    line where known, and key."""

    def __init__(self, display: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"地区配置 {display} 未通过试算，不能用于生成模板：\n"
                         + "\n".join(f"  {p}" for p in problems))


# -- where a key is written ----------------------------------------------------------------------

def _at(profile: Profile, key: str) -> str:
    where = where_written(profile, key)
    return f"{where}（键 {key}）" if where else f"键 {key}"


# -- what the region's rules ask of its forms ----------------------------------------------------

def _needs(profile: Profile, layout: Layout) -> Iterator[str]:
    """What the region's checks and report need that its forms do not draw (they would compare
    with nothing, or print nothing, silently)."""
    has_projects = any(sh.role == "project" for sh in layout.sheets)
    for rule in profile.checks:
        for k in rule.keys:
            # ``.key`` is every project's, ``projects[*].key`` all projects': probe the first
            probe = keys.Key(k).probe
            if probe.project is not None and not has_projects:
                continue
            if not declares(layout, probe):
                yield (f"{where_written(profile, k) or REGION_FILE}（键 {k}）：[[checks]] {rule.code} 要比较的"
                       f"“{k}”不是本地区表格中的单元格")
    has_project = form_name(profile, "project") is not None
    has_overall = form_name(profile, "overall") is not None
    for sec in profile.report.sections:
        where = _rules_line(profile, f'"{sec.key}"')
        if sec.generated and not (declares(layout, keys.OVERALL_EXPENSE_BASIC) or has_project
                                  or declares(layout, keys.OVERALL_EXPENSE_PROJECT)):
            yield (f"{where}（键 report.sections.{sec.key}）：“{sec.title}”写 generated = true，要按表格生成支出情况，"
                   f"但本地区的表格既没有基本支出（overall.expense_basic），也没有项目支出")
        if sec.figures and not (has_overall or has_project):
            yield (f"{where}（键 report.sections.{sec.key}）：“{sec.title}”写 figures = true，要印出预算执行率和得分，"
                   f"但本地区没有整体支出表，也没有项目表")
    unwritable = [sec for sec in profile.report.sections if not declares(layout, keys.section(sec.key))]
    if unwritable:
        yield (f"{_rules_line(profile, '[[report.sections]]')}（键 report.sections）：报告提纲"
               f"{'、'.join(f'“{sec.title}”' for sec in unwritable)}的文字无处填写：没有哪张表含 sections 块"
               f"（通常在 forms/narrative.toml）")


def _borrowed_name(profile: Profile) -> Iterator[str]:
    """A folder copied from a shipped region and changed must take a name of its own: a returned
    workbook names its region by id, and ``check`` judges it by the installed region of that id
    (``xlsx.read.judge_region``) — every unit of the changed copy would be read by the shipped
    layout and flagged META-213."""
    from ..forms.regions import installed_profile

    shipped = installed_profile(profile.id)
    if shipped is not None and shipped.digest != profile.digest:
        rules = dict(profile.sources).get(REGION_FILE, "")
        n = next((i for i, line in enumerate(rules.splitlines(), 1) if re.match(r"\s*id\s*=", line)), 0)
        yield (f"{REGION_FILE}{f' 第 {n} 行' if n else ''}（键 id）：id “{profile.id}” 是本工具内置地区的名字，但这个文件夹的"
               f"内容与内置的不同；用它生成的工作簿交回后会按内置的 {profile.id} 校验和评分。"
               f"请在 {REGION_FILE} 的 [profile] 中改一个新的 id，如 “{profile.id}-local”")


def _rules_line(profile: Profile, text: str) -> str:
    """"region.toml 第 12 行": the first line of the rules that holds ``text``."""
    rules = dict(profile.sources).get(REGION_FILE, "")
    n = next((i for i, line in enumerate(rules.splitlines(), 1) if text in line), 0)
    return f"{REGION_FILE} 第 {n} 行" if n else REGION_FILE


# -- valid inputs, by type ------------------------------------------------------------------------

def sample_values(layout: Layout, seed: str) -> dict[str, Any]:
    """A valid value for every input cell of ``layout``, by its type: amounts with 执行数 ≤ 预算数,
    one indicator row per 二级 whose 分值 add up to the 一级's and whose 得分 are full (so a table
    without a 分值 column gets scores adding up to each 一级's points, never over), text where
    text goes. Deterministic for a seed, so a region is proven on the same figures every time."""
    rng = random.Random(seed)
    profile = layout.profile
    out: dict[str, Any] = {}
    weights: dict[tuple[str, str], float] = {}
    for which in ("project", "overall"):
        groups = [(l1.weight, l1.level2) for l1 in profile.levels(which)]
        if groups and groups[0][0] is None:  # only the total fixed: shared over every 二级
            groups = [(profile.indicator_total(which), [l2 for l1 in profile.levels(which) for l2 in l1.level2])]
        for weight, level2 in groups:
            # a 二级 with its own points (数量指标（20分）) gets them; the others share what is left
            fixed = [l2 for l2 in level2 if l2.weight is not None]
            free = [l2 for l2 in level2 if l2.weight is None]
            for l2 in fixed:
                weights[(which, l2.key)] = l2.weight
            if not free:
                continue
            weight -= sum(l2.weight for l2 in fixed)
            share = round(weight / len(free), 2)
            for n, l2 in enumerate(free):
                last = n == len(free) - 1
                weights[(which, l2.key)] = round(weight - share * (len(free) - 1), 2) if last else share
    row_base: dict[str, float] = {}
    for n, (_sh, cell) in enumerate(layout.inputs()):
        key = cell.key
        slot = key.slot
        if slot:
            if slot.k != 0:
                out[key] = None
                continue
            which = "overall" if slot.prefix == keys.OVERALL else "project"
            w = weights.get((which, slot.level2), 1.0)
            out[key] = {"name": f"指标{slot.level2}", "target": "≥95%", "actual": "98%", "weight": w, "score": w,
                        "deviation": "", "nature": "≥", "value": "95", "unit": "%", "initial_value": "≥95%",
                        "adjusted_value": "≥95%", "coefficient": 1.0, "core": "是"}.get(slot.field, f"文字{n}")
            continue
        if cell.vtype == MONEY:
            # one row's amounts share a base: 执行数/决算数 a little under its 预算数
            base = row_base.setdefault(key.parent, 100.0 + rng.randint(0, 400) + rng.randint(0, 99) / 100)
            out[key] = round({"executed": base * 0.9, "final": base * 0.9}.get(key.name, base), 2)
        elif cell.vtype == INT:
            out[key] = 10 if key.name.endswith("authorized") else rng.randint(1, 9)  # 编制 ≥ 在职
        elif cell.vtype == AREA:
            out[key] = float(rng.randint(100, 900))
        elif cell.vtype in (WEIGHT, SCORE):
            out[key] = 1.0
        elif cell.vtype == PERCENT:
            out[key] = rng.randint(50, 100) / 100
        elif cell.vtype == DATE:  # any day its validation allows, kept as the model keeps it
            out[key] = iso_date(DATE_MIN + dt.timedelta(days=rng.randint(0, (DATE_MAX - DATE_MIN).days)))
        elif cell.choices:
            out[key] = cell.choices[0]
        elif cell.vtype == LONGTEXT:
            out[key] = f"试算文字{n}：按计划完成。"
        else:
            out[key] = f"文字{n}"
    return out


# -- the proof ------------------------------------------------------------------------------------

def _cache_dir() -> Path:
    base = os.environ.get("SELFEVAL_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "selfeval-xl" / "proven-regions"


def _stamp(profile: Profile) -> str:
    """A pass holds for these files under this version of the tool."""
    return hashlib.sha256(f"{profile.digest}\0{__version__}".encode()).hexdigest()[:32]


def is_proven(profile: Profile) -> bool:
    stamp = _stamp(profile)
    if stamp in _PROVEN:
        return True
    try:
        if (_cache_dir() / stamp).exists():
            _PROVEN.add(stamp)
            return True
    except OSError:
        pass
    return False


def _remember(profile: Profile) -> None:
    stamp = _stamp(profile)
    _PROVEN.add(stamp)
    try:  # a cache that cannot be written only costs the next run a proof
        folder = _cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / stamp).write_text(f"{profile.id}\n", encoding="utf-8")
    except OSError:
        pass


def _explain(profile: Profile, step: str, e: BaseException) -> str:
    """One problem, in words, with the file and line where the region's text says it."""
    if isinstance(e, (FormError, ProfileError, RegionRefused)):
        return f"{step}：{e}"
    if isinstance(e, KeyError):
        key = str(e.args[0]) if e.args else ""
        return f"{step}：{_at(profile, key)}：引用了本地区表格中没有的单元格“{key}”"
    if isinstance(e, ValidationError):
        parts = []
        for err in e.errors()[:5]:
            key = ".".join(str(x) for x in err["loc"])
            parts.append(f"{_at(profile, key)}：{err['msg'].removeprefix('Value error, ')}")
        return f"{step}：" + "；".join(parts)
    if isinstance(e, (FormulaError, BindingError)):
        return f"{step}：{e}"
    return f"{step}：{type(e).__name__}: {e}"


def prove(profile: Profile, display: str | None = None, *, force: bool = False,
          year: int = 2023) -> None:
    """Generate → fill → recompute → write → read → check → report, once, for ``profile``.
    Raises ``RegionRefused``; returns quietly for a region proven before (unless ``force``)."""
    display = display or profile.id
    borrowed = list(_borrowed_name(profile))
    if borrowed:
        raise RegionRefused(display, borrowed)
    if not force and is_proven(profile):
        return
    from ..checks import check
    from ..docx.report import render_report
    from ..xlsx.read import ReadError, read_workbook
    from ..xlsx.write import write_workbook

    problems: list[str] = []
    category = profile.projects.default_category
    has_projects = form_name(profile, "project") is not None
    shape = Shape(year=year, unit_code="PROOF01", unit_name="试算单位",
                  project_categories=(category,) * (_PROJECTS if has_projects else 0))
    try:
        layout = compile_layout(profile, shape)
    except Exception as e:  # noqa: BLE001 — every failure of a region is a problem to name
        raise RegionRefused(display, [_explain(profile, "编译表格", e)]) from None
    problems += _needs(profile, layout)

    values = sample_values(layout, profile.digest)
    meta = {"unit_code": shape.unit_code, "unit_name": shape.unit_name, "year": year, "profile": profile.id}
    try:
        dept = unflatten(values, layout, meta)
    except Exception as e:  # noqa: BLE001
        raise RegionRefused(display, problems + [_explain(profile, "填写试算数据", e)]) from None
    try:
        from ..forms.recompute import derive_values

        again = flatten(dept, layout)
        lost = [k for k, v in values.items() if v not in (None, "") and again.get(k) != v]
        for k in lost[:5]:
            problems.append(f"回读录入数据：{_at(profile, k)}：填入“{values[k]}”，读回为“{again.get(k)}”")
        derived = derive_values(again, layout)
        for k, v in derived.items():
            if isinstance(v, str) and v in _ERROR_VALUES:
                problems.append(f"重算：{_at(profile, k)}：公式结果为 {v}（填入有效数据时不应出错）")
            elif isinstance(v, str) and v.strip() and (".hint.level1." in k or ".hint.level2." in k):
                # the valid figures keep each 一级's and 二级's weights (and, without a 分值 column, its
                # scores) to its points
                problems.append(f"重算：{_at(profile, k)}：按规则填写的试算数据出现{'一' if '.level1.' in k else '二'}"
                                f"级指标提示“{v}”")
    except Exception as e:  # noqa: BLE001
        raise RegionRefused(display, problems + [_explain(profile, "重算", e)]) from None

    with tempfile.TemporaryDirectory(prefix="selfeval-proof-") as tmp:
        book = Path(tmp) / "试算.xlsx"
        try:
            write_workbook(dept, profile, book, generated_at=dt.datetime(2000, 1, 1))
        except Exception as e:  # noqa: BLE001
            raise RegionRefused(display, problems + [_explain(profile, "生成工作簿", e)]) from None
        try:
            rr = read_workbook(book)
            back = rr.dept
        except ReadError as e:
            raise RegionRefused(display, problems + [f"读回工作簿：{e}"]) from None
        except Exception as e:  # noqa: BLE001
            raise RegionRefused(display, problems + [_explain(profile, "读回工作簿", e)]) from None
        if back.model_dump(exclude={"stated"}) != dept.model_dump(exclude={"stated"}):
            problems.append("读回工作簿：读回的数据与写入的不同" + _first_difference(back, dept, profile))
        for k in sorted(back.stated)[:5]:
            problems.append(f"读回工作簿：{_at(profile, k)}：表中公式结果与程序重算不同（{back.stated[k]}）")
        try:
            result = check(dept, profile)
        except Exception as e:  # noqa: BLE001
            raise RegionRefused(display, problems + [_explain(profile, "校验", e)]) from None
        try:
            render_report(dept, profile, Path(tmp) / "试算.docx", result=result)
        except Exception as e:  # noqa: BLE001
            raise RegionRefused(display, problems + [_explain(profile, "生成报告", e)]) from None
    if problems:
        raise RegionRefused(display, problems)
    _remember(profile)


def _first_difference(a: Department, b: Department, profile: Profile) -> str:
    da, db = a.model_dump(exclude={"stated"}), b.model_dump(exclude={"stated"})

    def walk(x: Any, y: Any, path: str) -> str | None:
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y)):
                found = walk(x.get(k), y.get(k), f"{path}.{k}" if path else str(k))
                if found:
                    return found
            return None
        if isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (u, v) in enumerate(zip(x, y)):
                found = walk(u, v, f"{path}[{i}]")
                if found:
                    return found
            return None
        return None if x == y else f"：{path} 写入“{y}”，读回“{x}”"

    return walk(da, db, "") or ""
