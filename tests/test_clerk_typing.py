"""Clerks' typing and editing (issue #21): numbers typed as text, invisible control characters,
rates typed as fractions, an un-merged input typed into its other half, notes beside the form.

Each is read as the clerk meant it where that is unambiguous, and otherwise said at the cell
with what to type — never an exception, never an English message, never text silently lost.
(The hostile corpus holds one file per case and the flag it must raise; these tests look at
the values read, the exact messages and where they point.)"""

from __future__ import annotations

import zipfile

import openpyxl
import pytest

from selfeval_xl.jobs.checking import check_workbook
from selfeval_xl.core.indicators import suggest
from selfeval_xl.core.model import strip_control
from selfeval_xl.forms.layout import compile_layout
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.xlsx.read import ReadError, extract, read_workbook
from selfeval_xl.xlsx.write import shape_for, write_workbook

from .conftest import without_stated
from .hostile_corpus import _dept

P = get_profile("yueyang-2023")


def _addr(dept, key) -> tuple[str, str]:
    sh, cell = compile_layout(P, shape_for(dept, P)).where[key]
    return sh.name, f"{chr(65 + cell.c)}{cell.r + 1}"


def _edited(src, dest, fn):
    wb = openpyxl.load_workbook(src)
    fn(wb)
    wb.save(dest)
    return dest


def _typed(src, dest, dept, key, value, number_format=None):
    sheet, addr = _addr(dept, key)

    def fn(wb):
        wb[sheet][addr] = value
        if number_format:
            wb[sheet][addr].number_format = number_format
    return _edited(src, dest, fn)


def _at(flags, location, code=None):
    got = [f for f in flags if f.location == location and (code is None or f.code == code)]
    assert got, (location, code, [(f.code, f.location) for f in flags])
    return got


@pytest.fixture
def small(tmp_path):
    """The hostile corpus's unit: one project, 附件1!F23 = 公用经费 本年决算数, D4 = 实有人数."""
    dept = _dept()
    return dept, write_workbook(dept, P, tmp_path / "small.xlsx")


@pytest.fixture
def filled(tmp_path, examples):
    dept = without_stated(examples["001_岳阳市档案馆"])
    return dept, write_workbook(dept, P, tmp_path / "filled.xlsx")


# -- numbers typed as text --------------------------------------------------------------------

def test_negative_text_in_a_money_cell_is_a_flag_at_the_cell(tmp_path, small):
    dept, src = small
    assert _addr(dept, "basic.public_funds.final") == ("附件1", "F23")
    path = _typed(src, tmp_path / "neg.xlsx", dept, "basic.public_funds.final", "-5")
    rr = read_workbook(path)  # was: TypeError (内部错误) in check, a traceback in extract
    (f,) = _at(rr.flags, "附件1!F23")
    assert f.code == "READ-103" and f.severity == "error"
    assert "附件1!F23 为负数 -5（以文本形式填写的“-5”）" in f.message
    assert "已按空白处理" in f.message and "请只填写数字（万元金额，如 103.86），不带负号" in f.message
    assert rr.dept.basic.public_funds.final is None
    assert extract(path).basic.public_funds.final is None
    assert check_workbook(path)["status"] == "有错误"


def test_fraction_typed_as_text_in_a_count_cell(tmp_path, small):
    dept, src = small
    assert _addr(dept, "basic.staff_actual") == ("附件1", "D4")
    path = _typed(src, tmp_path / "frac.xlsx", dept, "basic.staff_actual", "18.5")
    rr = read_workbook(path)
    (f,) = _at(rr.flags, "附件1!D4")
    assert f.code == "READ-104" and f.severity == "error"
    assert f.message == "附件1!D4 的人数 18.5（以文本形式填写的“18.5”）不是整数，已按空白处理。请填写整数人数。"
    assert rr.dept.basic.staff_actual is None
    assert extract(path).basic.staff_actual is None
    # the same number typed as a number says the same, without the text part
    rr = read_workbook(_typed(src, tmp_path / "frac_n.xlsx", dept, "basic.staff_actual", 18.5))
    (f,) = _at(rr.flags, "附件1!D4")
    assert f.message == "附件1!D4 的人数 18.5不是整数，已按空白处理。请填写整数人数。"


@pytest.mark.parametrize("typed, value", [("19", 19), ("１９", 19), ("19人", 19), (" 19 ", 19)])
def test_whole_number_typed_as_text_is_read(tmp_path, small, typed, value):
    dept, src = small
    rr = read_workbook(_typed(src, tmp_path / "n.xlsx", dept, "basic.staff_actual", typed))
    assert rr.dept.basic.staff_actual == value and isinstance(rr.dept.basic.staff_actual, int)
    (f,) = _at(rr.flags, "附件1!D4")
    assert f.code == "READ-101" and f.severity == "warning" and f"按 {value} 读取" in f.message


def test_text_no_number_says_what_to_type(tmp_path, small):
    dept, src = small
    rr = read_workbook(_typed(src, tmp_path / "t.xlsx", dept, "basic.staff_actual", "约二十"))
    (f,) = _at(rr.flags, "附件1!D4")
    assert f.code == "READ-102"
    assert f.message == "附件1!D4 的“约二十”无法识别为数字，已按空白处理。请只填写整数（如 18）。"


# -- control characters -----------------------------------------------------------------------

def _with_control(src, dest, dept, key, text):
    """``text`` with CTRL where U+0001 goes, as Excel stores it (_x0001_) — openpyxl refuses to write it."""
    tmp = _typed(src, dest.with_name("tmp_" + dest.name), dept, key, text)
    with zipfile.ZipFile(tmp) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info.filename).replace(b"CTRL", b"_x0001_"))  # inline or shared
    return dest


def test_control_character_in_a_text_cell_is_stripped_and_said(tmp_path, small):
    dept, src = small
    assert _addr(dept, "signoff.preparer") == ("附件1", "B33")
    path = _with_control(src, tmp_path / "ctrl.xlsx", dept, "signoff.preparer", "张CTRL三")
    rr = read_workbook(path)  # was: the whole workbook 无法读取, with pydantic's English dump
    assert rr.dept.signoff.preparer == "张三"
    (f,) = _at(rr.flags, "附件1!B33")
    assert f.code == "READ-110" and f.severity == "info"
    assert f.message == ("附件1!B33 中有看不见的控制字符（U+0001，多为从其他系统复制粘贴带入），"
                         "Excel 无法保存它们，已删除后读取。")
    assert extract(path).signoff.preparer == "张三"
    result = check_workbook(path)
    assert result["status"] != "无法读取"


def test_control_character_in_a_number_cell(tmp_path, small):
    dept, src = small
    path = _with_control(src, tmp_path / "ctrl_n.xlsx", dept, "basic.public_funds.final", "12CTRL")
    rr = read_workbook(path)
    assert rr.dept.basic.public_funds.final == 12
    codes = sorted(f.code for f in _at(rr.flags, "附件1!F23"))
    assert codes == ["READ-101", "READ-110"]


def test_strip_control():
    assert strip_control("a\x01b\x1fc\td\n") == ("abc\td\n", "U+0001、U+001F")
    assert strip_control("正常") == ("正常", "")


def test_no_english_validation_text_reaches_the_user(tmp_path, small):
    """The last word when the data still cannot make a filing (here: metadata edited to an
    empty unit name) is in Chinese, by field — not pydantic's dump."""
    _, src = small

    def blank_name(wb):
        for row in wb["_meta"].iter_rows():
            if row[0].value == "unit_name":
                row[1].value = ""
    path = _edited(src, tmp_path / "meta.xlsx", blank_name)
    with pytest.raises(ReadError) as e:
        read_workbook(path)
    msg = str(e.value)
    assert "数据无法解析（元数据中的单位名称：不能为空）" in msg
    assert "validation error" not in msg and "pydantic" not in msg and "For further" not in msg


# -- rates typed as fractions -----------------------------------------------------------------

def _rate(filled, tmp_path, actual, fmt=None, score=None):
    dept, src = filled
    sheet, t = _addr(dept, "overall.ind.quality.0.target")
    _, a = _addr(dept, "overall.ind.quality.0.actual")
    _, s = _addr(dept, "overall.ind.quality.0.score")
    assert (sheet, t, a, s) == ("附件2", "E21", "F21", "H21")

    def fn(wb):
        ws = wb[sheet]
        ws[t] = "≥95%"
        ws[a] = actual
        if fmt:
            ws[a].number_format = fmt
        if score is not None:
            ws[s] = score
    return _edited(src, tmp_path / "rate.xlsx", fn)


@pytest.mark.parametrize("actual, fmt, read", [(0.97, "0%", "97%"), (0.97, None, "0.97"), ("0.97", None, "0.97"),
                                               (0.975, "0.0%", "97.5%")])
def test_rate_typed_as_a_fraction_is_read_as_meant(tmp_path, filled, actual, fmt, read):
    path = _rate(filled, tmp_path, actual, fmt)
    rr = read_workbook(path)
    ind = next(i for i in rr.dept.overall.indicators if i.target_text == "≥95%")
    assert ind.actual == read and ind.weight == 3 and ind.score == 3
    # was: "完成比例 1.02% × 分值，建议得分 0.1"
    flags = check_workbook(path)["flags"]
    assert not [f for f in flags if f["location"] == "附件2!H21"], flags


def test_rate_fraction_short_of_target_is_scored_as_a_percentage(tmp_path, filled):
    path = _rate(filled, tmp_path, 0.9, None, 3)
    (f,) = [f for f in check_workbook(path)["flags"] if f["location"] == "附件2!H21"]
    assert f["code"] == "IND-201"
    assert "完成值“0.9”，完成值 0.9 按 90% 理解（小数形式的百分比）；正向指标：完成比例 94.74% × 分值，建议得分 2.84" in f["message"]
    path = _rate(filled, tmp_path, 0.9, "0%", 3)
    (f,) = [f for f in check_workbook(path)["flags"] if f["location"] == "附件2!H21"]
    assert "完成值“90%”，正向指标：完成比例 94.74% × 分值，建议得分 2.84" in f["message"]


def test_suggest_rescales_a_bare_fraction_against_a_percentage():
    s = suggest("≥95%", "0.97", 3)
    assert (s.low, s.high) == (3, 3) and s.basis.startswith("完成值 0.97 按 97% 理解")
    assert suggest("≤5%", "0.03", 2).basis.startswith("完成值 0.03 按 3% 理解")
    assert suggest("≥0.95", "97%", 2).basis.startswith("指标值 0.95 按 95% 理解")
    # 1 against ≤5 % is 1 %, not 100 %: the nearer reading
    assert suggest("≤5%", "1", 2).basis == "反向指标：实际未超过目标，应得满分"
    # numbers with units, or with 千/万, are never rescaled
    assert "理解" not in suggest("≥95%", "0.9千", 2).basis
    assert "理解" not in suggest("≥95%", "97%", 2).basis


# -- un-merged inputs and text where the form does not read ------------------------------------

def _unmerge(filled, tmp_path, first=None, name="u.xlsx"):
    dept, src = filled
    assert _addr(dept, "overall.goal_expected") == ("附件2", "B12")
    goal = dept.overall.goal_expected

    def fn(wb):
        ws = wb["附件2"]
        ws.unmerge_cells("B12:E12")
        ws["B12"] = first
        ws["E12"] = goal
    return goal, _edited(src, tmp_path / name, fn)


def test_unmerged_input_typed_into_its_other_half_is_read_and_said(tmp_path, filled):
    goal, path = _unmerge(filled, tmp_path)
    assert goal
    rr = read_workbook(path)
    assert rr.dept.overall.goal_expected == goal  # was: "" and 通过 with no flag
    assert extract(path).overall.goal_expected == goal
    (f,) = _at(rr.flags, "附件2!E12")
    assert f.code == "READ-111" and f.severity == "warning"
    assert f.message.startswith("附件2!B12 的合并单元格（B12:E12）被拆开，应填在 附件2!B12 的内容“1.负责编制")
    assert "填在了 附件2!E12；已按 附件2!B12 的内容读取。请把它移回 附件2!B12，或恢复合并（选中 B12:E12 后合并）。" in f.message
    assert check_workbook(path)["status"] != "通过"


def test_unmerged_input_with_text_in_both_halves_is_an_error_naming_both(tmp_path, filled):
    goal, path = _unmerge(filled, tmp_path, first="另写的目标")
    rr = read_workbook(path)
    assert rr.dept.overall.goal_expected == "另写的目标"
    (f,) = _at(rr.flags, "附件2!E12")
    assert f.code == "READ-112" and f.severity == "error"
    assert f.message.startswith("附件2!E12 中有内容“1.负责编制")
    assert ("但它在 附件2!B12 的合并区域（B12:E12，合并已被拆开）内，本程序只读取 附件2!B12，这段内容没有被读取。"
            "请把它移到 附件2!B12 中，再恢复合并。") in f.message
    assert check_workbook(path)["status"] == "有错误"


def test_text_beside_or_inside_the_form_where_nothing_is_read_is_said(tmp_path, filled):
    dept, src = filled

    def fn(wb):
        wb["附件2"]["M3"] = "备注：请领导审核"
        wb["附件1"]["E1"] = 21  # beside the title: inside the printed form, a cell no one reads
    path = _edited(src, tmp_path / "notes.xlsx", fn)
    rr = read_workbook(path)
    (f,) = _at(rr.flags, "附件2!M3")
    assert f.code == "READ-112" and f.severity == "warning"
    assert f.message == ("附件2!M3 中有内容“备注：请领导审核”，在表格以外，没有被读取。"
                         "如果是要填报的数据，请移到对应的填写格中；如果不是，请删除。")
    (f,) = _at(rr.flags, "附件1!E1")
    assert f.code == "READ-112" and f.severity == "warning"
    assert f.message.startswith("附件1!E1 中有内容“21”，在表格中不需要填写的位置，没有被读取。")


def test_a_clean_workbook_has_no_stray_text(examples, tmp_path):
    for name, dept in examples.items():
        path = write_workbook(without_stated(dept), get_profile(dept.profile), tmp_path / f"{name[:3]}.xlsx")
        assert not [f for f in read_workbook(path).flags if f.code in ("READ-110", "READ-111", "READ-112")], name


def test_many_stray_values_are_one_flag_more(tmp_path, filled):
    dept, src = filled

    def fn(wb):
        for r in range(3, 30):
            wb["附件2"].cell(row=r, column=20, value=f"草稿{r}")
    rr = read_workbook(_edited(src, tmp_path / "many.xlsx", fn))
    strays = [f for f in rr.flags if f.code == "READ-112"]
    assert len(strays) == 11
    assert strays[-1].location == "附件2" and "另有 17 处" in strays[-1].message
