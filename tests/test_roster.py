"""The coordinator's roster: encodings, headers, units without projects, bad rows."""

from __future__ import annotations

import openpyxl
import pytest

from selfeval_xl.forms.regions import get_profile
from selfeval_xl.files.roster import RosterError, read_roster, safe_filename, workbook_name

P = get_profile("yueyang-2023")
CSV = ("单位编码,单位名称,主管部门,项目名称,项目类别,年初预算数,全年预算数\n"
       "001,甲单位,市财政局,项目一,运行维护经费,\"1,050.5\",１０５\n"
       "001,甲单位,市财政局,项目二,,,\n"
       "002,乙单位,,,,,\n")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_every_encoding_excel_and_wps_write(tmp_path, encoding):
    path = tmp_path / "r.csv"
    path.write_bytes(CSV.encode(encoding))
    units = read_roster(path, P)
    assert [(u.code, u.name, len(u.projects)) for u in units] == [("001", "甲单位", 2), ("002", "乙单位", 0)]
    p1, p2 = units[0].projects
    assert (p1.name, p1.category, p1.competent_dept, p1.implementing_unit) == ("项目一", "运行维护经费", "市财政局", "甲单位")
    assert (p1.funds.current.initial, p1.funds.current.full) == (1050.5, 105.0)
    assert p2.category == P.projects.default_category and "未填项目类别" in units[0].notes[0]


def test_xlsx_roster(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [l.split(",") for l in CSV.replace('"1,050.5"', "1050.5").splitlines()]:
        ws.append(row)
    wb.save(tmp_path / "r.xlsx")
    units = read_roster(tmp_path / "r.xlsx", P)
    assert [u.code for u in units] == ["001", "002"]


@pytest.mark.parametrize("content, message", [
    ("单位名称,项目名称\n甲,x\n", "缺少表头 单位编码"),
    ("单位编码,单位名称,项目名称\n,甲,x\n", "第 2 行"),
    ("单位编码,单位名称,项目名称,项目类别\n1,甲,x,其他类\n", "项目类别“其他类”"),
    ("单位编码,单位名称,项目名称,全年预算数\n1,甲,x,一百\n", "不是金额"),
    ("单位编码,单位名称,项目名称\n1,甲,x\n1,乙,y\n", "已对应“甲”"),
    ("", "空的"),
])
def test_bad_roster_names_file_and_row(tmp_path, content, message):
    path = tmp_path / "名册.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RosterError) as e:
        read_roster(path, P)
    assert message in str(e.value) and "名册.csv" in str(e.value)


def test_unsupported_roster_type(tmp_path):
    (tmp_path / "r.txt").write_text("x", encoding="utf-8")
    with pytest.raises(RosterError, match=".xlsx 或 .csv"):
        read_roster(tmp_path / "r.txt", P)


@pytest.mark.parametrize("raw, expected", [
    ("a/b:c*?\"<>|", "a_b_c______"), ("CON", "_CON"), ("名称. ", "名称"), ("", "_"),
])
def test_safe_filename(raw, expected):
    assert safe_filename(raw) == expected


def test_workbook_name_pattern():
    assert workbook_name("001", "岳阳市档案馆", 2023) == "001_岳阳市档案馆_2023年度绩效自评.xlsx"
