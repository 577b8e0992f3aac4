"""The Python recompute of a workbook: every derived cell of a layout, from the inputs.

There is no hand-written twin of the sheets' formulas: each formula or hint cell's declared
formula is evaluated by ``forms.formula`` over the unit's input values (``binding.flatten``).
What the writer stores as cached values and what the checker trusts instead of a returned
workbook's cached values are therefore the formulas the clerk sees, evaluated.
"""

from __future__ import annotations

from typing import Any

from ..binding import flatten
from ..layout import NUMERIC, Layout
from ..model import Department
from .formula import Program, Value

# one compiled program per form structure (sheet digests), shared by every unit of that shape
_PROGRAMS: dict[tuple[str, ...], tuple[Program, frozenset[str]]] = {}


def program_of(layout: Layout) -> tuple[Program, frozenset[str]]:
    """The layout's formulas as one program, and the keys of its numeric cells."""
    key = tuple(sh.digest() for sh in layout.sheets)
    found = _PROGRAMS.get(key)
    if found is None:
        if len(_PROGRAMS) >= 64:
            _PROGRAMS.pop(next(iter(_PROGRAMS)))
        cells = [cell for _sh, cell in layout.formulas()]
        prog = Program({cell.key: cell.formula for cell in cells})
        found = _PROGRAMS[key] = (prog, frozenset(c.key for c in cells if c.vtype in NUMERIC))
    return found


def derive_values(values: dict[str, Any], layout: Layout) -> dict[str, Value]:
    """Every derived value for input values keyed by layout key.

    As the model reads them: a numeric cell whose formula shows "" (a rate with no
    denominator yet) is blank (None).
    """
    prog, numeric = program_of(layout)
    allv = prog(values)
    out: dict[str, Value] = {}
    for key in prog.keys:
        v = allv[key]
        if v == "" and key in numeric:
            v = None
        out[key] = v
    return out


def derive(dept: Department, layout: Layout) -> dict[str, Value]:
    """Every derived value of the workbook ``fill`` would write for ``dept`` (stated figures ignored)."""
    return derive_values(flatten(dept, layout), layout)
