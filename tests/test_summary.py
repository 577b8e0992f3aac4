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
    return [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]


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
