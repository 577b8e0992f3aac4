"""The Python recompute of a workbook: every derived cell of a layout, from the inputs.

There is no hand-written twin of the sheets' formulas: each formula or hint cell's declared
formula is evaluated by ``forms.formula`` over the unit's input values (``binding.flatten``).
What the writer stores as cached values and what the checker trusts instead of a returned
workbook's cached values are therefore the formulas the clerk sees, evaluated.

Programs are compiled per sheet and kept on the shared sheet (``layout.Sheet.origin``): a
province's units come in hundreds of project shapes, but their 附件3 sheets and most of
their other sheets are the same few objects, so each formula is compiled once per process.
"""

from __future__ import annotations

from typing import Any

from .binding import flatten
from .cells import DATE, NUMERIC, Layout, Sheet
from ..core.numbers import date_serial, parse_date
from ..core.model import Department
from .formula import FormulaError, LooseProgram, Program, Value


def sheet_program(sh: Sheet) -> tuple[Program, frozenset[str]]:
    """The sheet's formulas as one program, and the keys of its numeric cells."""
    base = sh.origin or sh
    found = base.__dict__.get("_program")
    if found is None:
        cells = [c for c in base.cells if c.kind in ("formula", "hint")]
        kind = LooseProgram if base.__dict__.get("per_shape") else Program
        found = (kind({c.key: c.formula for c in cells}), frozenset(c.key for c in cells if c.vtype in NUMERIC))
        base.__dict__["_program"] = found
    return found


def _sheet_order(layout: Layout) -> list[tuple[Program, frozenset[str]]]:
    """The sheets' programs in reference order (附件3 before 附件1 before 附件2 …): dependencies
    are ordered by cell, not by sheet. Sheets that read each other (附件1 totals 附件2's figure
    while 附件2 reads 附件1's) are one group, evaluated as one program ordered cell by cell; only
    a real cycle of cells is refused, naming its path (``formula.dependency_order``)."""
    found = getattr(layout, "_programs", None)
    if found is not None:
        return found
    progs = [sheet_program(sh) for sh in layout.sheets]
    owner = {key: i for i, (prog, _n) in enumerate(progs) for key in prog.keys}
    deps = [sorted({owner[r] for r in prog.external if r in owner} - {i}) for i, (prog, _n) in enumerate(progs)]
    found = []
    for group in _groups(deps):
        if len(group) == 1:
            found.append(progs[group[0]])
        else:
            found.append(_joint_program([layout.sheets[i] for i in group]))
    layout._programs = found
    return found


def _groups(deps: list[list[int]]) -> list[list[int]]:
    """Strongly connected groups of sheets (Tarjan), each after the groups it reads."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on: set[int] = set()
    out: list[list[int]] = []
    counter = 0

    def visit(v: int) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on.add(v)
        for w in deps[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            out.append(sorted(group))

    for v in range(len(deps)):
        if v not in index:
            visit(v)
    return out


_JOINT: dict[tuple[int, ...], tuple] = {}


def _joint_program(sheets: list[Sheet]) -> tuple[Program, frozenset[str]]:
    """One program over the formulas of sheets that read each other, ordered cell by cell;
    kept per group of shared sheets (the same objects for every unit of a shape)."""
    bases = [sh.origin or sh for sh in sheets]
    ident = tuple(id(b) for b in bases)
    hit = _JOINT.get(ident)
    if hit is not None and all(x is y for x, y in zip(hit[2], bases)):
        return hit[0], hit[1]
    cells = [c for b in bases for c in b.cells if c.kind in ("formula", "hint")]
    kind = LooseProgram if any(b.__dict__.get("per_shape") for b in bases) else Program
    prog = kind({c.key: c.formula for c in cells})
    numeric = frozenset(c.key for c in cells if c.vtype in NUMERIC)
    if len(_JOINT) > 256:
        _JOINT.clear()
    _JOINT[ident] = (prog, numeric, bases)
    return prog, numeric


# what a formula shows when Excel cannot compute it (``forms.formula`` raises these)
_ERRORS = frozenset(("#DIV/0!", "#VALUE!", "#NUM!", "#N/A", "#REF!", "#NAME?", "#NULL!"))


def _date_keys(sh: Sheet) -> tuple:
    """The keys of the sheet's date inputs (kept on the shared sheet)."""
    base = sh.origin or sh
    found = base.__dict__.get("_dates")
    if found is None:
        found = base.__dict__["_dates"] = tuple(c.key for c in base.cells if c.kind == "input" and c.vtype == DATE)
    return found


def derive_values(values: dict[str, Any], layout: Layout) -> dict[str, Value]:
    """Every derived value for input values keyed by layout key.

    As the model reads them: a numeric cell whose formula shows "" (a rate with no
    denominator yet) or an error value (``#NUM!`` when a figure overflows, ``#DIV/0!``) is
    blank (None) — a check compares numbers, and a region (or a figure typed as 1E+308)
    must not turn one into text that a comparison then chokes on.
    """
    allv = dict(values)
    for sh in layout.sheets:  # a date is a serial number to a formula, as in Excel
        for k in _date_keys(sh):
            v = allv.get(k)
            day = parse_date(v) if isinstance(v, str) and v else None
            if day is not None:
                allv[k] = float(date_serial(day))
    out: dict[str, Value] = {}
    for prog, numeric in _sheet_order(layout):
        prog.run_into(allv)
        out.update({k: allv[k] for k in prog.keys})
        for k in numeric:
            v = out[k]
            if v.__class__ is str and (v == "" or v in _ERRORS):
                out[k] = None
    return out


def blank_errors(layout: Layout) -> list[tuple[str, str, Value]]:
    """(sheet name, key, error) of every formula that shows an error value on a blank unit: a
    region whose blank template shows #NUM! or #DIV/0! is broken (or hostile), and is refused
    when it is loaded rather than flagged on every unit."""
    allv: dict[str, Any] = {}
    found = []
    sheet_of = {c.key: sh.name for sh in layout.sheets for c in sh.cells if c.kind in ("formula", "hint")}
    for prog, _numeric in _sheet_order(layout):
        prog.run_into(allv)
        found += [(sheet_of.get(k, ""), k, allv[k]) for k in prog.keys
                  if allv[k].__class__ is str and allv[k] in _ERRORS]
    return found


def derive(dept: Department, layout: Layout) -> dict[str, Value]:
    """Every derived value of the workbook ``fill`` would write for ``dept`` (stated figures ignored)."""
    return derive_values(flatten(dept, layout), layout)
