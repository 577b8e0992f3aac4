"""The stamp writer gives, part by part and byte for byte, what XlsxWriter gives.

XlsxWriter (``engine="xlsxwriter"``) is the reference: LibreOffice recalculation and the
round-trip tests were built on it. The stamp writer reuses cached skeletons, so the tests
write several units in a row (shared caches, other project shapes in between) and compare
every one of them with the reference.
"""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from selfeval_xl.xlsx import stamp as xlsx_stamp
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.forms.layout import compile_layout
from selfeval_xl.xlsx.write import shape_for, write_workbook

from .conftest import example_departments
from .strategies import departments

TS = dt.datetime(2024, 5, 6, 7, 8, 9)


def _parts(path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as z:
        return [(n, z.read(n)) for n in z.namelist()]


def assert_same_workbook(dept, profile, tmp_path):
    ref = write_workbook(dept, profile, tmp_path / "ref.xlsx", generated_at=TS, engine="xlsxwriter")
    ours = write_workbook(dept, profile, tmp_path / "stamp.xlsx", generated_at=TS, engine="stamp")
    want, got = _parts(ref), _parts(ours)
    assert [n for n, _ in got] == [n for n, _ in want]
    for (name, a), (_, b) in zip(want, got):
        assert b == a, f"{name} differs from XlsxWriter's"
    assert ours.read_bytes() == ref.read_bytes()  # same zip container too


def test_examples_byte_identical(tmp_path):
    xlsx_stamp._SHEETS.clear()
    xlsx_stamp._BOOKS.clear()
    for dept in example_departments().values():
        assert_same_workbook(dept, get_profile(dept.profile), tmp_path)
    assert len(xlsx_stamp._SHEETS) > 5  # the skeleton caches were used, not bypassed


@pytest.mark.parametrize("profile_id", ["yueyang-2023", "sample-50-40-10"])
@settings(max_examples=20, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_units_byte_identical(tmp_path, profile_id, data):
    profile = get_profile(profile_id)
    dept = data.draw(departments(profile, max_projects=5))
    assert_same_workbook(dept, profile, tmp_path)


def test_units_sharing_skeletons_keep_their_own_contents(tmp_path):
    """Two units whose projects sit in other categories share project-sheet skeletons, not contents."""
    profile = get_profile("yueyang-2023")
    base = example_departments()["001_岳阳市档案馆"]
    cats = profile.projects.categories
    xlsx_stamp._SHEETS.clear()
    xlsx_stamp._BOOKS.clear()
    seen = []
    for order in ((cats[0], cats[1], cats[0]), (cats[1], cats[0], cats[0]), (cats[0],) * 3):
        projects = [p.model_copy(update={"category": c, "name": f"{p.name}-{c}"})
                    for p, c in zip(base.projects, order)]
        dept = base.model_copy(update={"projects": projects, "name": "单位" + "".join(order)})
        assert_same_workbook(dept, profile, tmp_path)
        seen.append(dept)
    # one workbook skeleton drawn whole; the third unit's 附件1 (other category counts) drawn alone
    assert len(xlsx_stamp._BOOKS) == 1
    from selfeval_xl.forms.cells import BASIC

    basic_keys = {xlsx_stamp.sheet_key(compile_layout(profile, shape_for(d, profile)).sheet(BASIC), False)
                  for d in seen}
    assert len(basic_keys) == 2  # (a skeleton is kept per structure and print plan: key + "|fit…")
    assert all(any(k.startswith(bk + "|fit") for k in xlsx_stamp._SHEETS) for bk in basic_keys)
