"""Generated workbooks: sheets, protection, unlocked inputs, validations, hidden metadata."""

from __future__ import annotations

import json

import openpyxl
import pytest
from typer.testing import CliRunner

from selfeval_xl.cli import app
from selfeval_xl.forms.cells import GUIDE, META, NARRATIVE
from selfeval_xl.forms.layout import compile_layout
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.xlsx.read import layout_from_meta, read_meta

from .conftest import EXAMPLES

runner = CliRunner()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    res = runner.invoke(app, ["generate", str(EXAMPLES / "roster.csv"), "-o", str(out), "--year", "2023"])
    assert res.exit_code == 0, res.output
    return out


def test_one_workbook_per_unit_named_as_agreed(generated):
    names = sorted(p.name for p in generated.glob("*.xlsx"))
    assert names == ["430600101_岳阳市档案馆_2023年度绩效自评.xlsx",
                     "430600102_岳阳市城市建设档案馆_2023年度绩效自评.xlsx",
                     "430611201_岳阳市君山区行政审批服务局_2023年度绩效自评.xlsx"]


def test_sheets_in_order_with_spares(generated):
    wb = openpyxl.load_workbook(generated / "430600101_岳阳市档案馆_2023年度绩效自评.xlsx")
    spares = get_profile("yueyang-2023").projects.spare_sheets
    assert wb.sheetnames == [GUIDE, "附件1", "附件2"] + [f"附件3({i})" for i in range(1, 6 + spares)] + [NARRATIVE, META]
    assert wb[META].sheet_state == "veryHidden"
    spare_names = [f"附件3({i})" for i in range(6, 6 + spares)]  # the roster gives the unit 5 projects
    assert all(wb[n].sheet_state == "hidden" for n in spare_names)  # one click away, not printed
    assert all(wb[n].sheet_state == "visible" for n in wb.sheetnames if n not in spare_names + [META])


def test_metadata_identifies_unit_and_layout(generated):
    path = generated / "430611201_岳阳市君山区行政审批服务局_2023年度绩效自评.xlsx"
    wb = openpyxl.load_workbook(path, read_only=True)
    meta = read_meta(wb, path.name)
    assert meta["unit_code"] == "430611201" and meta["unit_name"] == "岳阳市君山区行政审批服务局"
    assert meta["year"] == "2023" and meta["profile"] == "yueyang-2023" and meta["template_version"]
    assert json.loads(meta["project_categories"]) == ["运行维护经费", "业务工作经费", None, None]
    assert meta["fingerprint"] == layout_from_meta(meta, path.name).fingerprint()
    assert meta["generated_at"]


def test_protection_locks_everything_but_the_inputs(generated):
    path = generated / "430600101_岳阳市档案馆_2023年度绩效自评.xlsx"
    wb = openpyxl.load_workbook(path)
    layout = layout_from_meta(read_meta(wb, path.name), path.name)
    for sh in layout.sheets:
        ws = wb[sh.name]
        assert ws.protection.sheet, f"{sh.name} is not protected"
        for cell in sh.cells:
            c = ws.cell(cell.r + 1, cell.c + 1)
            if cell.kind == "input":
                assert c.protection.locked is False, f"{sh.name}!{c.coordinate} input is locked"
                assert c.fill.fgColor.rgb.endswith("FFF2CC"), f"{sh.name}!{c.coordinate} input not shaded"
            else:
                assert c.protection.locked is not False, f"{sh.name}!{c.coordinate} {cell.kind} is unlocked"
            if cell.kind == "formula":
                assert isinstance(c.value, str) and c.value.startswith("="), c.coordinate
                assert c.fill.fgColor.rgb.endswith("E7E6E6"), f"{sh.name}!{c.coordinate} formula not grey"
    assert wb[META].protection.sheet


def test_validations_with_chinese_prompts(generated):
    wb = openpyxl.load_workbook(generated / "430600101_岳阳市档案馆_2023年度绩效自评.xlsx")
    ws = wb["附件3(1)"]
    dvs = ws.data_validations.dataValidation
    kinds = {dv.type for dv in dvs}
    assert {"decimal", "custom"} <= kinds
    money = [dv for dv in dvs if dv.type == "decimal" and dv.operator == "greaterThanOrEqual"]
    assert money and money[0].formula1 == "0" and "万元" in money[0].error and money[0].showErrorMessage
    score = [dv for dv in dvs if dv.type == "custom"][0]
    assert "<=" in score.formula1 and "分值" in score.error
    # the score rule covers every 得分 input of the sheet
    layout = compile_layout(get_profile("yueyang-2023"), _shape(wb))
    score_cells = {f"{chr(65 + c.c)}{c.r + 1}" for c in layout.sheet("附件3(1)").cells if c.kind == "input" and c.vtype == "score"}
    assert score_cells == {str(x) for rng in score.sqref.ranges for x in _cells(rng)}
    staff = [dv for dv in wb["附件1"].data_validations.dataValidation if dv.type == "whole"]
    assert staff and "整数" in staff[0].error
    # 偏差原因: a dropdown of the conventional answers that still accepts any text
    dev = [dv for dv in dvs if dv.type == "list"]
    assert len(dev) == 1 and dev[0].formula1 == '"无,无偏差"' and not dev[0].showErrorMessage
    dev_cells = {f"{chr(65 + c.c)}{c.r + 1}" for c in layout.sheet("附件3(1)").cells if c.kind == "input"
                 and c.key.endswith(".deviation")}
    assert dev_cells == {str(x) for rng in dev[0].sqref.ranges for x in _cells(rng)}


def _cells(rng):
    from openpyxl.utils import get_column_letter
    for row in range(rng.min_row, rng.max_row + 1):
        for col in range(rng.min_col, rng.max_col + 1):
            yield f"{get_column_letter(col)}{row}"


def _shape(wb):
    from selfeval_xl.xlsx.read import layout_from_meta
    return layout_from_meta(read_meta(wb, "x"), "x").shape


def test_conditional_formats_mark_in_sheet_checks(generated):
    wb = openpyxl.load_workbook(generated / "430600101_岳阳市档案馆_2023年度绩效自评.xlsx")
    rules = [r.formula[0] for cf in wb["附件3(1)"].conditional_formatting for r in cf.rules]
    assert any(">G" in f for f in rules)  # 得分 > 分值
    assert any("LEN(TRIM(" in f for f in rules)  # 偏差原因 missing
    assert any("-50)>0.0001" in f for f in rules)  # 产出 weights != 50
    assert any("N(E" in f and ">N(E" in f for f in rules)  # over-execution


def test_print_setup(generated):
    """A4; 附件1 and each 附件3 on one page (in the orientation that keeps them readable);
    the indicator table's header repeated on every page; a page number in the footer."""
    wb = openpyxl.load_workbook(generated / "430600101_岳阳市档案馆_2023年度绩效自评.xlsx")
    for name in ("附件1", "附件2", "附件3(1)"):
        ws = wb[name]
        assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation in ("landscape", "portrait")
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth in (None, 1)  # 1 page wide
        if name != "附件2":
            assert ws.page_setup.fitToHeight in (None, 1), name  # one page
        assert "&P" in ws.oddFooter.center.text
    header = next(c.row for c in wb["附件3(1)"]["B"] if c.value == "一级指标")
    assert wb["附件3(1)"].print_title_rows == f"${header}:${header}"


def test_labels_fit_their_columns():
    """No #### and no colon wrapped onto a line of its own: each single-cell header or sign-off
    label's longest line fits its column, in every shipped region."""
    from selfeval_xl.forms.cells import Shape
    from selfeval_xl.forms.regions import available_profiles
    from selfeval_xl.xlsx.plan import _display_width

    for pid in available_profiles():
        prof = get_profile(pid)
        cats = tuple(prof.projects.categories[:1]) if prof.projects.categories else ()
        layout = compile_layout(prof, Shape(2023, "1", "某单位", "", cats))
        for sh in layout.sheets:
            for cell in sh.cells:
                if cell.kind == "label" and isinstance(cell.text, str) and not cell.merge \
                        and (cell.style == "footer_label" or (cell.style == "header" and pid == "yueyang-2023")):
                    width = sh.widths[cell.c]
                    longest = max(_display_width(line) for line in cell.text.split("\n"))
                    assert longest <= width + 1, f"{pid} {sh.name} {cell.text!r} needs {longest}, column is {width}"


def test_generate_reports_a_bad_roster_in_chinese(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("单位名称\n甲\n", encoding="utf-8")
    res = runner.invoke(app, ["generate", str(bad), "-o", str(tmp_path / "o")])
    assert res.exit_code == 2 and "缺少表头" in res.output


def test_second_profile_has_grade_row_and_no_execution_score(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("单位编码,单位名称,项目名称,项目类别\n9,某局,项目甲,专项资金\n", encoding="utf-8")
    res = runner.invoke(app, ["generate", str(roster), "-o", str(tmp_path), "-p", "sample-50-40-10"])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(next(tmp_path.glob("9_*.xlsx")))
    ws = wb["附件3(1)"]
    labels = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "评价等次" in labels and "产出指标\n（50分）" in labels and "效益指标\n（40分）" in labels
    assert "—" in labels  # 执行率 shown, its 分值/得分 not scored
    assert "3、专项资金（一个专项一行）" in [c.value for row in wb["附件1"].iter_rows() for c in row]
