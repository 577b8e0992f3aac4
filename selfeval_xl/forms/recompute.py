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
from .cells import NUMERIC, Layout, Sheet
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
    """The sheets' programs, each after the sheets whose results it reads (附件3 before 附件1
    before 附件2 before 报告正文, as the references say)."""
    found = getattr(layout, "_programs", None)
    if found is not None:
        return found
    progs = [sheet_program(sh) for sh in layout.sheets]
    owner = {key: i for i, (prog, _n) in enumerate(progs) for key in prog.keys}
    deps = [{owner[r] for r in prog.external if r in owner} - {i} for i, (prog, _n) in enumerate(progs)]
    order: list[int] = []
    state: dict[int, int] = {}

    def visit(i: int) -> None:
        if state.get(i) == 2:
            return
        if state.get(i) == 1:
            raise FormulaError(f"工作表之间的公式循环引用：{layout.sheets[i].name}")
        state[i] = 1
        for j in sorted(deps[i]):
            visit(j)
        state[i] = 2
        order.append(i)

    for i in range(len(progs)):
        visit(i)
    found = [progs[i] for i in order]
    layout._programs = found
    return found


# what a formula shows when Excel cannot compute it (``forms.formula`` raises these)
_ERRORS = frozenset(("#DIV/0!", "#VALUE!", "#NUM!", "#N/A", "#REF!", "#NAME?", "#NULL!"))


def derive_values(values: dict[str, Any], layout: Layout) -> dict[str, Value]:
    """Every derived value for input values keyed by layout key.

    As the model reads them: a numeric cell whose formula shows "" (a rate with no
    denominator yet) or an error value (``#NUM!`` when a figure overflows, ``#DIV/0!``) is
    blank (None) — a check compares numbers, and a region (or a figure typed as 1E+308)
    must not turn one into text that a comparison then chokes on.
    """
    allv = dict(values)
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
