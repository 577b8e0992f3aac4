"""The formula language: one text, evaluated by Python exactly as the spreadsheet does.

Regions declare derived cells as Excel formulas over ``{key}`` references; the recompute
evaluates the same text. These tests pin Excel's semantics case by case, and hand the same
formulas to LibreOffice to recalculate.
"""

from __future__ import annotations

import openpyxl
import pytest
import xlsxwriter

from selfeval_xl.forms.formula import FormulaError, Program, evaluate, xl_round
from selfeval_xl.files.libreoffice import convert

INPUTS = {"a": 12.5, "b": 0.0, "c": None, "t": "文本", "n": "3", "sp": " \n\u3000", "big": 1e16, "neg": -2.345}

# (formula, expected) — each expectation is what Excel/LibreOffice show for INPUTS
CASES = [
    ("=SUM({a},{c},{t},1)", 13.5),                      # text and blanks in references are skipped
    ("=COUNT({a},{b},{c},{t},{n})", 2.0),                # numbers only; "3" in a cell is text
    ("={a}/{b}", "#DIV/0!"),
    ("=IF(N({b})>0,{a}/{b},\"\")", ""),                 # the untaken branch is not evaluated
    ("={c}", 0.0),                                       # a bare reference to a blank shows 0
    ("=\"\"&{c}", ""),
    ("={c}=\"\"", True),
    ("={c}=0", True),
    ("={t}>{a}", True),                                  # text sorts after numbers
    ("={t}-1", "#VALUE!"),
    ("={n}*2", 6.0),                                     # numeric text in arithmetic
    ("=ROUND(2.5,0)", 3.0),
    ("=ROUND({neg},2)", -2.35),                          # half away from zero
    ("=ROUND(1.005,2)", 1.01),                           # on the 15-digit value, not the binary one
    ("=\"合计\"&{a}&\"，应为\"&50", "合计12.5，应为50"),
    ("=\"x\"&0.1+0.2", "x0.3"),                           # & binds looser than +
    ("=\"x\"&{big}", "x1E+16"),                           # Excel's form; LibreOffice writes 1E+016
    ("=-{a}+3*2", -6.5),
    ("=LEN(TRIM(SUBSTITUTE(CLEAN({sp}),\"\u3000\",\" \")))=0", True),
    ("=AND(ISNUMBER({a}),{a}>10,NOT(ISNUMBER({c})))", True),
    ("=OR({b},{c})", False),
    ("=MIN({a},1)", 1.0),
    ("=MAX({c},{t})", 0.0),
    ("=ABS({neg})", 2.345),
    ("=IF({a}>=10,\"优\",IF({a}>=5,\"良\",\"差\"))", "优"),
    ("=N({t})+N({a})", 12.5),
]


@pytest.mark.parametrize("formula,want", CASES, ids=[c[0] for c in CASES])
def test_excel_semantics(formula, want):
    got = evaluate({"x": formula}, INPUTS)["x"]
    assert got == want, (formula, got)


def test_formulas_read_other_formulas_in_dependency_order():
    prog = Program({"total": "={sub}+{c2}", "sub": "=SUM({a},{b})", "c2": "={sub}*2"})
    assert prog.keys.index("sub") < prog.keys.index("c2") < prog.keys.index("total")
    assert prog({"a": 1.0, "b": 2.0})["total"] == 9.0


@pytest.mark.parametrize("formula,words", [
    ("=VLOOKUP({a},{b},1)", "不支持的函数 VLOOKUP"),
    ("=SUM({a}", "不完整"),
    ("=1+", "不完整"),
    ("={a} {b}", "多出内容"),
    ("=IF({a})", "IF 需要 2 或 3 个参数"),
    ("=ROUND({a})", "ROUND 的参数个数不对"),
    ("=$A$1", "无法识别"),
    ("SUM({a})", "应以 = 开头"),
    ("=SUM({a},\"2\")", "SUM 的参数不能是文字"),  # Excel adds "2", LibreOffice answers #VALUE!
])
def test_formulas_outside_the_subset_are_refused_when_compiled(formula, words):
    with pytest.raises(FormulaError, match=words):
        Program({"x": formula})


def test_a_cycle_is_refused_naming_its_keys():
    with pytest.raises(FormulaError, match="循环引用：a → b → a"):
        Program({"a": "={b}+1", "b": "={a}+1"})


def test_round_matches_excel_on_halves():
    assert [xl_round(x, 0) for x in (0.5, 1.5, 2.5, -0.5, -2.5)] == [1, 2, 3, -1, -3]


@pytest.mark.libreoffice
def test_libreoffice_recalculates_every_case_as_python(soffice, tmp_path):
    """Each case written as a real formula over real cells; LibreOffice's values = Python's."""
    src = tmp_path / "cases.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("S")
    where = {}
    for i, (k, v) in enumerate(INPUTS.items()):
        where[k] = f"B{i + 1}"
        if isinstance(v, str):
            ws.write_string(i, 1, v)
        elif v is not None:
            ws.write_number(i, 1, v)
    for j, (formula, _want) in enumerate(CASES):
        a1 = formula
        for k, ref in where.items():
            a1 = a1.replace("{" + k + "}", ref)
        ws.write_formula(j, 3, a1, None, 0)  # a wrong cached value: LibreOffice must recalculate
    wb.close()
    out = convert([src], tmp_path / "out", "xlsx")[0]
    got = openpyxl.load_workbook(out, data_only=True)["S"]
    mismatches = []
    for j, (formula, _want) in enumerate(CASES):
        if "{big}" in formula:
            continue  # exponent notation in text: LibreOffice 1E+016, Excel (and Python) 1E+16
        lo = got.cell(j + 1, 4).value
        py = evaluate({"x": formula}, INPUTS)["x"]
        if isinstance(py, bool):
            same = lo is py or lo == py
        elif isinstance(py, float) and isinstance(lo, (int, float)):
            same = abs(py - lo) <= 1e-12 * max(1, abs(py))
        elif py == "" and lo is None:
            same = True
        else:
            same = lo == py or (isinstance(py, str) and py.startswith("#") and str(lo).startswith(py[:4]))
        if not same:
            mismatches.append((formula, lo, py))
    assert not mismatches, mismatches
