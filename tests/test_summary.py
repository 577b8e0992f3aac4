"""汇总表.xlsx is written while results arrive, in any order; rows come out in input order."""

from __future__ import annotations

import random

import openpyxl

from selfeval_xl.xlsx.summary import SummaryWorkbook, write_xlsx


def _result(i: int, n_flags: int) -> dict:
    if i % 7 == 3:
        return {"file": f"/in/{i}.xlsx", "name": f"{i}.xlsx", "status": "无法读取", "reason": f"{i}.xlsx：文件已损坏"}
    flags = [{"code": f"SUM-{100 + k}", "severity": "error", "location": f"附件1!F{k + 2}", "stated": k, "expected": k + 1.5,
              "message": f"单位{i}的第{k}个问题 =HYPERLINK(\"x\")"} for k in range(n_flags)]
    return {"file": f"/in/{i}.xlsx", "name": f"{i}.xlsx", "unit_code": f"U{i:03d}", "unit_name": f"单位{i}", "year": 2023,
            "profile": "yueyang-2023", "stated_total": 90.0, "recomputed_total": 91.5, "grade": "优",
            "errors": n_flags, "warnings": 0, "infos": 0, "status": "有错误" if n_flags else "通过", "flags": flags}


def _rows(ws):
    """The data rows, below the header (汇总 has a title row above its header)."""
    return [list(r) for r in ws.iter_rows(min_row=3 if ws.title == "汇总" else 2, values_only=True)]


def test_out_of_order_arrival_gives_input_order(tmp_path):
    results = [_result(i, i % 4) for i in range(40)]
    order = list(range(40))
    random.Random(5).shuffle(order)
    book = SummaryWorkbook(tmp_path / "a.xlsx")
    for i in order:
        book.add(i, results[i])
    book.close()
    write_xlsx(results, tmp_path / "b.xlsx")  # gathered first, written in order
    a, b = openpyxl.load_workbook(tmp_path / "a.xlsx"), openpyxl.load_workbook(tmp_path / "b.xlsx")
    for name in ("汇总", "问题清单", "无法读取"):
        assert _rows(a[name]) == _rows(b[name])
    ok = [r for r in results if r["status"] != "无法读取"]
    assert [r[2] for r in _rows(a["汇总"])] == [r["unit_name"] for r in ok]
    assert len(_rows(a["问题清单"])) == sum(len(r["flags"]) for r in ok)
    assert [r[0] for r in _rows(a["无法读取"])] == [r["name"] for r in results if r["status"] == "无法读取"]
    assert _rows(a["问题清单"])[0][7].startswith("单位1的第0个问题 =HYPERLINK")  # clerk text stays text
    assert not list(tmp_path.glob(".~selfeval-*"))


def test_interrupted_batch_keeps_what_arrived(tmp_path):
    book = SummaryWorkbook(tmp_path / "a.xlsx")
    for i in (0, 2, 5):  # 1, 3 and 4 never came
        book.add(i, _result(i, 1))
    book.close()
    rows = _rows(openpyxl.load_workbook(tmp_path / "a.xlsx")["汇总"])
    assert [r[2] for r in rows] == ["单位0", "单位2", "单位5"]


def test_names_that_look_like_rich_text_stay_text(tmp_path):
    r = _result(1, 1)
    r.update(unit_name="<r>单位</r>", name="<r>a</r>.xlsx")
    write_xlsx([r], tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "a.xlsx")
    assert _rows(wb["汇总"])[0][:3] == ["<r>a</r>.xlsx", "U001", "<r>单位</r>"]
    assert _rows(wb["问题清单"])[0][1] == "<r>单位</r>"


def test_title_row_region_names_and_money_columns(tmp_path):
    """汇总 opens with a title (year, the region by its name, the count), and shows each unit's
    全年预算数, 全年执行数 and 执行率 (from the check's result) beside the scores."""
    results = [_result(i, 1) for i in (1, 2)]
    results[0].update(budget=1049.31, executed=1049.94, rate=1.0006)
    write_xlsx(results, tmp_path / "a.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "a.xlsx")["汇总"]
    title = ws["A1"].value
    assert title.startswith("2023年度部门整体支出绩效自评汇总表") and "岳阳市 2023" in title and "2 个单位" in title
    assert "yueyang-2023" not in title
    header = [c.value for c in ws[2]]
    assert header[4] == "配置" and header[5].startswith("全年预算数") and header[6].startswith("全年执行数") \
        and header[7] == "执行率"
    row = [c for c in ws[3]]
    assert row[4].value == "岳阳市 2023"  # the region's name, not its id
    assert (row[5].value, row[6].value, row[7].value) == (1049.31, 1049.94, 1.0006)
    assert row[7].number_format == "0.00%" and "0.00" in row[5].number_format
    assert [c.value for c in ws[4]][5:8] == [None, None, None]  # a result without them: blank, not 0
    # prints as a coordinator files it: A4 landscape, one page wide, header (under the title) repeated
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1) \
        and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows in ("2:2", "$2:$2") and ws.freeze_panes == "A3"


def test_an_empty_unreadable_sheet_prints_no_page(tmp_path):
    write_xlsx([_result(1, 1)], tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "a.xlsx")
    assert wb["无法读取"].sheet_state == "hidden" and wb["汇总"].sheet_state == "visible"
    write_xlsx([_result(1, 1), _result(3, 0)], tmp_path / "b.xlsx")  # _result(3) is unreadable
    wb = openpyxl.load_workbook(tmp_path / "b.xlsx")
    assert wb["无法读取"].sheet_state == "visible" and "另有 1 个文件无法读取" in wb["汇总"]["A1"].value


def test_region_name_never_opens_a_path():
    from selfeval_xl.xlsx.summary import region_name

    assert region_name("yueyang-2023") == "岳阳市 2023"
    assert region_name("../../etc") == "../../etc" and region_name("no-such-region") == "no-such-region"
    assert region_name(None) == ""
