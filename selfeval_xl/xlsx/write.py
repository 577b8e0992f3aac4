"""Write a unit's workbook: locked labels and formulas, unlocked inputs, atomically.

Used by both ``generate`` (a blank template prefilled from the roster) and ``fill`` (a
template prefilled from JSON). Every formula is stored with the value ``forms.recompute``
computes from the same formula, so Excel, WPS and LibreOffice show correct figures before
any recalculation. Clerk text is always written as a string: a name starting with ``=``
stays text.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..core.model import Department
from ..core.region import Profile
from ..forms.binding import flatten
from ..forms.layout import compile_layout, shape_for
from ..forms.recompute import derive_values
from ..files.outputs import atomic_output
from .plan import check_cell_text_limit
from .reference import write_reference
from .stamp import write_stamped


def write_workbook(dept: Department, profile: Profile, path: str | Path, *,
                   generated_at: dt.datetime | None = None, spares: int | None = None,
                   engine: str = "stamp", key=None) -> Path:
    """Write ``dept`` as a protected workbook at ``path`` (atomically: temp file, then rename).

    ``engine="stamp"`` (default) fills a per-structure skeleton (``xlsx.stamp``);
    ``engine="xlsxwriter"`` draws every cell with XlsxWriter. Both give the same XML parts
    (tests/test_stamp.py); XlsxWriter is the reference and builds the stamp's skeleton.
    """
    shape = shape_for(dept, profile, spares)
    layout = compile_layout(profile, shape)
    values = flatten(dept, layout)
    check_cell_text_limit(values, layout)
    derived = derive_values(values, layout)
    for k, v in dept.stated.items():  # a source document's claims show as the cached value
        if k in derived:
            derived[k] = v
    generated_at = generated_at or dt.datetime.now().replace(microsecond=0)
    path = Path(path)
    with atomic_output(path) as tmp:
        if engine == "stamp":
            write_stamped(tmp, layout, values, derived, generated_at, key)
        elif engine == "xlsxwriter":
            write_reference(tmp, layout, values, derived, generated_at, key=key)
        else:
            raise ValueError(f"unknown engine {engine!r}")
    return path
