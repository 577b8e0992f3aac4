"""Layouts share their sheets between units; what differs per unit must still come out right."""

from __future__ import annotations

import re

from selfeval_xl.forms.cells import BASIC, NARRATIVE, OVERALL, GUIDE, Shape, a1, project_sheet_name
from selfeval_xl.forms.layout import compile_layout
from selfeval_xl.forms.regions import get_profile

P = get_profile("yueyang-2023")
CATS = P.projects.categories


def _shape(code: str, name: str, cats: tuple) -> Shape:
    return Shape(year=2023, unit_code=code, unit_name=name, project_categories=cats)


def _label_texts(layout, sheet: str) -> list[str]:
    return [c.text for c in layout.sheet(sheet).cells if c.kind == "label" and isinstance(c.text, str)]


def test_each_unit_sees_its_own_name_and_code():
    a = compile_layout(P, _shape("111", "甲单位", (CATS[0],)))
    b = compile_layout(P, _shape("222", "乙单位", (CATS[0],)))
    for lay, code, name, other in ((a, "111", "甲单位", "乙单位"), (b, "222", "乙单位", "甲单位")):
        texts = "\n".join(t for s in (GUIDE, OVERALL, NARRATIVE) for t in _label_texts(lay, s))
        assert name in texts and f"{code} {name}" in texts
        assert other not in texts and "\ue000" not in texts
    # what does not depend on the unit is the same object, not a copy
    assert a.sheet(project_sheet_name(0)) is b.sheet(project_sheet_name(0))
    assert a.sheet(OVERALL) is not b.sheet(OVERALL)


def test_fingerprint_depends_on_unit_and_structure_only():
    a1_ = compile_layout(P, _shape("111", "甲单位", (CATS[0], CATS[1])))
    a2_ = compile_layout(P, _shape("111", "甲单位", (CATS[0], CATS[1])))
    b_ = compile_layout(P, _shape("222", "乙单位", (CATS[0], CATS[1])))
    c_ = compile_layout(P, _shape("111", "甲单位", (CATS[1], CATS[0])))
    assert a1_.fingerprint() == a2_.fingerprint()
    assert len({a1_.fingerprint(), b_.fingerprint(), c_.fingerprint()}) == 3


def test_cross_sheet_formulas_follow_each_units_rows():
    """附件3(1)'s footer reads the sign-off cells on 附件1, whose rows move with the number of projects.

    The sheet is shared between the two layouts, so a cache that kept one unit's rendering
    for the other would point the footer at the wrong row.
    """
    small = compile_layout(P, _shape("1", "甲", (CATS[0],)))
    big = compile_layout(P, _shape("2", "乙", (CATS[0],) * 6 + (CATS[1],) * 3))
    for lay in (small, big, small):
        sh = lay.sheet(project_sheet_name(0))
        footer = next(c for c in sh.cells if c.key == f"footer.{sh.name}")
        _, signoff = lay.where["signoff.preparer"]
        assert f"'{BASIC}'!{a1(signoff.r, signoff.c)}" in lay.formula_of(sh, footer)
    assert small.where["signoff.preparer"][1].r != big.where["signoff.preparer"][1].r
    # 附件1 rows that read a project's total point at that project's own sheet
    for i in range(9):
        sh, cell = big.where[f"projects[{i}].basic.budget"]
        ref = re.search(r"'(.+?)'!", big.formula_of(sh, cell)).group(1)
        assert ref == project_sheet_name(i)
