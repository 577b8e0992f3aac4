"""fill → extract gives back exactly the inputs, through the one layout description."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from selfeval_xl.forms.binding import BindingError, flatten
from selfeval_xl.forms.layout import compile_layout
from selfeval_xl.core.model import Indicator
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.xlsx.read import extract
from selfeval_xl.xlsx.write import shape_for, write_workbook

from .conftest import after_roundtrip, model_diff
from .strategies import departments

TS = dt.datetime(2024, 1, 1)


def test_examples_round_trip(tmp_path, examples):
    for name, dept in examples.items():
        path = write_workbook(dept, get_profile(dept.profile), tmp_path / f"{name}.xlsx", generated_at=TS)
        back = extract(path)
        want = after_roundtrip(dept)
        if not name.startswith(("000", "004")):  # the stated figures of seeds 000 and 004 are consistent
            assert want.stated, "the seeds' mistakes must survive the round trip as stated figures"
        assert back == want, model_diff(back, want)


@pytest.mark.parametrize("profile_id", ["yueyang-2023", "sample-50-40-10"])
@settings(max_examples=25, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=__import__("hypothesis").strategies.data())
def test_extract_fill_is_identity(tmp_path, profile_id, data):
    profile = get_profile(profile_id)
    dept = data.draw(departments(profile))
    path = write_workbook(dept, profile, tmp_path / "x.xlsx", generated_at=TS)
    back = extract(path)
    assert back == dept, model_diff(back, dept)


def test_clerk_text_stays_text(tmp_path):
    """A name typed as =HYPERLINK(...) is stored as a string, not a live formula."""
    import openpyxl

    prof = get_profile("yueyang-2023")
    from selfeval_xl.core.model import Department

    d = Department(code="1", name="单位", year=2023, profile=prof.id,
                   narrative={"sections": {"basic_info": '=HYPERLINK("http://x","y")'}},
                   signoff={"preparer": "+86 123", "phone": "@SUM(A1)"})
    path = write_workbook(d, prof, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    layout = compile_layout(prof, shape_for(d, prof))
    for key in ("narrative.sections.basic_info", "signoff.preparer", "signoff.phone"):
        sh, cell = layout.where[key]
        c = wb[sh.name].cell(cell.r + 1, cell.c + 1)
        assert c.data_type == "s", (key, c.data_type)
    assert extract(path) == d


def test_too_many_indicators_for_the_slots_is_refused():
    prof = get_profile("yueyang-2023")
    from selfeval_xl.core.model import Department

    rows = next(l2.rows for _, l2 in prof.level2_all() if l2.name == "成本指标")
    d = Department(code="1", name="单位", year=2023, profile=prof.id, overall={"indicators": [
        Indicator(level1="产出指标", level2="成本指标", name=f"x{i}") for i in range(rows + 1)]})
    with pytest.raises(BindingError, match="成本指标.*模板只提供"):
        flatten(d, compile_layout(prof, shape_for(d, prof)))


def test_unlinked_project_with_prior_year_figure_is_refused():
    prof = get_profile("yueyang-2023")
    from selfeval_xl.core.model import Department

    d = Department(code="1", name="单位", year=2023, profile=prof.id,
                   projects=[{"name": "备用项目", "category": "", "prior_year_final": 3.5}])
    with pytest.raises(BindingError, match="备用项目.*上年决算数 3.5"):
        flatten(d, compile_layout(prof, shape_for(d, prof)))


def test_unknown_level2_is_refused():
    prof = get_profile("yueyang-2023")
    from selfeval_xl.core.model import Department

    d = Department(code="1", name="单位", year=2023, profile=prof.id,
                   overall={"indicators": [Indicator(level1="产出指标", level2="数字指标", name="x")]})
    with pytest.raises(BindingError, match="数字指标"):
        flatten(d, compile_layout(prof, shape_for(d, prof)))


def test_deterministic_bytes(tmp_path, examples):
    dept = examples["001_岳阳市档案馆"]
    prof = get_profile(dept.profile)
    a = write_workbook(dept, prof, tmp_path / "a.xlsx", generated_at=TS).read_bytes()
    b = write_workbook(dept, prof, tmp_path / "b.xlsx", generated_at=TS).read_bytes()
    assert a == b


@pytest.mark.parametrize("engine", ["stamp", "xlsxwriter"])
def test_text_that_looks_like_rich_text_xml_stays_text(tmp_path, examples, engine):
    """XlsxWriter writes "<r>…</r>" strings unescaped as rich text: the name read back empty and
    a crafted one injected XML. Both engines must store it as the text typed."""
    import openpyxl

    d = examples["001_岳阳市档案馆"]
    typed = ["<r>项目</r>", '<r><t>x</t></r><si><t>y</t></si><r>', "<r> 前后空格 </r>"]
    projects = [p.model_copy(update={"name": t}) for p, t in zip(d.projects, typed)] + d.projects[len(typed):]
    d = d.model_copy(update={"projects": projects, "signoff": d.signoff.model_copy(update={"preparer": "<r>张</r>"})})
    prof = get_profile(d.profile)
    path = write_workbook(d, prof, tmp_path / "t.xlsx", generated_at=TS, engine=engine)
    back = extract(path)
    assert [p.name for p in back.projects[:3]] == typed and back.signoff.preparer == "<r>张</r>"
    assert openpyxl.load_workbook(path)["附件3(1)"]["C3"].value == typed[0]


def test_text_longer_than_an_excel_cell_is_refused_not_cut(tmp_path, examples):
    from typer.testing import CliRunner

    from selfeval_xl.forms.binding import BindingError
    from selfeval_xl.cli import app

    d = examples["000_岳阳市城市建设档案馆"]
    long = "绩效" * 16400  # 32,800 characters
    d = d.model_copy(update={"narrative": d.narrative.model_copy(update={"sections": {"basic_info": long}})})
    with pytest.raises(BindingError, match="报告正文!B3.*32800.*32767"):
        write_workbook(d, get_profile(d.profile), tmp_path / "x.xlsx")
    assert not list(tmp_path.iterdir())
    src = tmp_path / "d.json"
    src.write_text(d.model_dump_json(), encoding="utf-8")
    res = CliRunner().invoke(app, ["fill", str(src), "-o", str(tmp_path / "x.xlsx")])
    assert res.exit_code == 2 and "32767" in res.output and not (tmp_path / "x.xlsx").exists()
