"""Build a corpus of hostile or broken workbooks, each with what ``check`` must say about it.

    python -m tests.hostile_corpus OUTDIR

Every entry is (file name, expectation): ``"unreadable:<text>"`` — the file is refused with a
reason containing <text>; ``"flag:<CODE>"`` — it is read and the flag is raised;
``"same"`` — it checks exactly as the untouched original (``00_原样``) does, flag for flag;
``"skipped"`` — discovery must not pick it up (Excel's ~$ owner files).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

import openpyxl

from selfeval_xl.forms.layout import compile_layout
from selfeval_xl.core.model import Department
from selfeval_xl.forms.regions import get_profile
from selfeval_xl.xlsx.write import shape_for, write_workbook

P = get_profile("yueyang-2023")
TS = dt.datetime(2024, 1, 1)
CODE = "430699001"


def _dept() -> Department:
    return Department.model_validate(dict(
        code=CODE, name="测试单位", year=2023, profile=P.id,
        basic=dict(staff_authorized=10, staff_actual=9),
        overall=dict(budget_full=100, expense_basic=50, income=dict(general=80)),
        projects=[dict(name="项目甲", category="业务工作经费", funds=dict(current=dict(initial=30, full=30, executed=30)))],
        narrative=dict(sections={"basic_info": "情况"}),
    ))


def _cell(key: str) -> tuple[str, str]:
    d = _dept()
    sh, cell = compile_layout(P, shape_for(d, P)).where[key]
    return sh.name, f"{chr(65 + cell.c)}{cell.r + 1}"


def _rewrite_part(src: Path, dest: Path, part: str, transform) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == part:
                data = transform(data)
            zout.writestr(info, data)


def _edit(src: Path, dest: Path, fn) -> None:
    wb = openpyxl.load_workbook(src)
    fn(wb)
    wb.save(dest)


def _set(key: str, value):
    sheet, addr = _cell(key)

    def fn(wb):
        wb[sheet][addr].value = value
    return fn


def _all(*fns):
    def fn(wb):
        for f in fns:
            f(wb)
    return fn


_FIRST_L2 = P.level1[0].level2[0].key


def _meta(field: str, value: str):
    def fn(wb):
        ws = wb["_meta"]
        for row in ws.iter_rows():
            if row[0].value == field:
                row[1].value = value
    return fn


_STRICT_NS = ((b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main"),
              (b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
               b"http://purl.oclc.org/ooxml/officeDocument/relationships"))


def _to_strict(src: Path, dest: Path) -> None:
    """The workbook as Excel's "Strict Open XML" save option writes it: other namespaces."""
    def strict(d: bytes) -> bytes:
        for a, b in _STRICT_NS:
            d = d.replace(a, b)
        return d
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, strict(data) if info.filename.endswith((".xml", ".rels")) else data)


def _ole(extra: bytes) -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + extra + b"\x00" * 1024


BOMB_XML = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;'
            b'&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'
            b'&lol2;">]><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol3;</workbook>')
XXE_XML = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&xxe;</t></si></sst>')


def build(out: Path) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    base = write_workbook(_dept(), P, out / "_base.tmp.xlsx", generated_at=TS)
    good_name = f"{CODE}_测试单位_2023年度绩效自评.xlsx"
    cases: dict[str, str] = {}

    def add(name: str, expect: str, maker) -> None:
        maker(out / name)
        cases[name] = expect

    def copy(dest):
        shutil.copy(base, dest)

    add(f"{CODE}_00_原样.xlsx", "same", copy)

    # -- refused before parsing ------------------------------------------------------------
    add("01_空文件.xlsx", "unreadable:文件为空", lambda p: p.write_bytes(b""))
    add("02_文本改名.xlsx", "unreadable:文本或 CSV", lambda p: p.write_text("单位编码,单位名称\n1,甲\n", encoding="utf-8"))
    add("03_PDF改名.xlsx", "unreadable:PDF", lambda p: p.write_bytes(b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n"))
    add("04_旧版.xls", "unreadable:另存为", lambda p: p.write_bytes(_ole("Workbook".encode("utf-16-le"))))
    add("05_加密.xlsx", "unreadable:加密", lambda p: p.write_bytes(_ole("EncryptionInfo".encode("utf-16-le"))))
    add("06_截断.xlsx", "unreadable:损坏", lambda p: p.write_bytes(base.read_bytes()[: base.stat().st_size // 2]))
    add("07_随机字节.xlsx", "unreadable:损坏", lambda p: p.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 40))

    def bomb(p):
        with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr("xl/workbook.xml", "<workbook/>")
            z.writestr("xl/worksheets/sheet1.xml", b"\x00" * (20 * 1024 * 1024))
    add("08_压缩炸弹.xlsx", "unreadable:压缩比", bomb)

    def many(p):
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr("xl/workbook.xml", "<workbook/>")
            for i in range(2100):
                z.writestr(f"xl/media/x{i}.bin", b"x")
    add("09_部件过多.xlsx", "unreadable:部件", many)

    def docx(p):
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr("word/document.xml", "<w:document/>")
    add("10_Word改名.xlsx", "unreadable:xl/workbook.xml", docx)
    add("11_实体炸弹.xlsx", "unreadable:实体声明", lambda p: _rewrite_part(base, p, "xl/workbook.xml", lambda d: BOMB_XML))
    add("12_外部实体.xlsx", "unreadable:实体声明", lambda p: _rewrite_part(base, p, "xl/sharedStrings.xml", lambda d: XXE_XML))

    def foreign(p):
        wb = openpyxl.Workbook()
        wb.active["A1"] = "别的表"
        wb.save(p)
    add("13_外来工作簿.xlsx", "unreadable:元数据", foreign)
    add("14_删除元数据.xlsx", "unreadable:元数据", lambda p: _edit(base, p, lambda wb: wb.remove(wb["_meta"])))
    # the workbook carries its region: an unknown id in the metadata is said, the carried rules are used
    add(f"{CODE}_15_未知配置.xlsx", "flag:META-207", lambda p: _edit(base, p, _meta("profile", "no-such-profile")))
    # a carried region that does not load: read by the installed region of its id, and said as an error
    add("15b_携带的配置损坏.xlsx", "flag:META-214",
        lambda p: _edit(base, p, _meta("region:region.toml:0", "[profile\nid = 1")))
    # …and where no region of that id is installed, there is nothing to read it by
    add("15c_携带的配置损坏_未知地区.xlsx", "unreadable:地区配置",
        lambda p: _edit(base, p, lambda wb: (_meta("region:region.toml:0", "[profile\nid = 1")(wb),
                                             _meta("profile", "no-such-profile")(wb))))
    add("16_元数据损坏.xlsx", "unreadable:元数据不完整", lambda p: _edit(base, p, _meta("project_categories", "{not json")))
    add("17_年度非数字.xlsx", "unreadable:元数据不完整", lambda p: _edit(base, p, _meta("year", "二〇二三")))

    # -- read, with flags -----------------------------------------------------------------
    add(f"{CODE}_18_全角数字.xlsx", "flag:READ-101", lambda p: _edit(base, p, _set("overall.expense_basic", "５０.００")))
    add(f"{CODE}_19_千分位.xlsx", "flag:READ-101", lambda p: _edit(base, p, _set("overall.budget_full", "1,000.50")))
    add(f"{CODE}_20_带万元.xlsx", "flag:READ-101", lambda p: _edit(base, p, _set("overall.budget_initial", "90万元")))
    add(f"{CODE}_21_空格数字.xlsx", "flag:READ-101", lambda p: _edit(base, p, _set("basic.staff_actual", " 9 ")))
    add(f"{CODE}_22_汉字金额.xlsx", "flag:READ-102", lambda p: _edit(base, p, _set("overall.expense_basic", "五十万")))
    add(f"{CODE}_23_日期当金额.xlsx", "flag:READ-102",
        lambda p: _edit(base, p, _set("overall.budget_full", dt.datetime(2023, 12, 31))))
    add(f"{CODE}_24_布尔.xlsx", "flag:READ-102", lambda p: _edit(base, p, _set("overall.budget_full", True)))
    add(f"{CODE}_25_负数.xlsx", "flag:READ-103", lambda p: _edit(base, p, _set("overall.expense_basic", -5)))
    add(f"{CODE}_26_小数人数.xlsx", "flag:READ-104", lambda p: _edit(base, p, _set("basic.staff_actual", 8.5)))
    add(f"{CODE}_27_公式改常数.xlsx", "flag:FORMULA-101", lambda p: _edit(base, p, _set("overall.total_score", 99)))
    add(f"{CODE}_28_公式被改.xlsx", "flag:FORMULA-102", lambda p: _edit(base, p, _set("overall.executed", "=1+1")))
    add(f"{CODE}_29_表头被改.xlsx", "flag:LAYOUT-201", lambda p: _edit(base, p, lambda wb: wb["附件2"].__setitem__("D13", "三级")))
    add(f"{CODE}_30_删除附件2.xlsx", "flag:READ-201", lambda p: _edit(base, p, lambda wb: wb.remove(wb["附件2"])))

    def rename(wb):
        wb["附件2"].title = "整体自评"
    add(f"{CODE}_31_改名附件2.xlsx", "flag:READ-202", lambda p: _edit(base, p, rename))

    def unprotect(wb):
        for ws in wb.worksheets:
            ws.protection.sheet = False
    add(f"{CODE}_32_取消保护.xlsx", "flag:META-301", lambda p: _edit(base, p, unprotect))
    add("430699999_别的单位_2023年度绩效自评.xlsx", "flag:META-203", copy)
    add(f"{CODE}_34_旧模板版本.xlsx", "flag:META-201", lambda p: _edit(base, p, _meta("template_version", "0")))
    add(f"{CODE}_35_指纹不符.xlsx", "flag:META-202", lambda p: _edit(base, p, _meta("fingerprint", "0" * 32)))
    add(f"{CODE}_36_公式文本.xlsx", "flag:READ-107",
        lambda p: _edit(base, p, _set("signoff.preparer", '=HYPERLINK("http://example.invalid","点我")')))
    add(f"{CODE}_37_宏工作簿.xlsm", "same", copy)
    add(f"{CODE}_38_大写扩展名.XLSX", "same", copy)
    add(f"{CODE}_39_超大文本.xlsx", "same", lambda p: _edit(base, p, _set("narrative.sections.basic_info", "档" * 30000)))
    add("~$" + good_name, "skipped", lambda p: p.write_bytes(b"\x00owner"))
    # regular expressions meet hostile text: each of these was quadratic once (hours or minutes per file)
    add("42_无尽单元格.xlsx", "unreadable:无法作为",
        lambda p: _rewrite_part(base, p, "xl/worksheets/sheet3.xml",
                                lambda d: d.replace(b"<sheetData>", b"<sheetData>" + b"<c " * 300_000, 1)))
    digits = "1" * 30_000
    add(f"{CODE}_43_长串数字.xlsx", "flag:IND-301",
        lambda p: _edit(base, p, _all(_set("narrative.sections.basic_info", digits),
                                      _set(f"overall.ind.{_FIRST_L2}.0.target", digits),
                                      _set(f"overall.ind.{_FIRST_L2}.0.actual", digits))))
    add(f"{CODE}_41_错误值.xlsx", "flag:FORMULA-101", lambda p: _edit(base, p, _set("basic.control_rate", "#DIV/0!")))

    # -- as clerks really leave them (issue #10) ------------------------------------------
    def copied_sheet(wb):
        ws = wb.copy_worksheet(wb["附件3(1)"])
        ws.title = "附件3(1) (2)"
        sheet, addr = _cell("projects[0].funds.current.executed")
        ws[addr] = 29.5  # filled in the copy, not in the form
    add(f"{CODE}_44_复制的附件3.xlsx", "flag:READ-203", lambda p: _edit(base, p, copied_sheet))
    add(f"{CODE}_45_输入格公式.xlsx", "flag:READ-105", lambda p: _edit(base, p, _set("overall.expense_basic", "=20+30")))
    add(f"{CODE}_45b_输入格引用公式.xlsx", "flag:READ-106", lambda p: _edit(base, p, _set("overall.expense_basic", "=E5*2")))

    def delete_row(wb):
        sheet, addr = _cell(f"projects[0].ind.{_FIRST_L2}.1.name")
        wb[sheet].delete_rows(int(addr[1:]))
    add(f"{CODE}_46_表中删行.xlsx", "flag:LAYOUT-202", lambda p: _edit(base, p, delete_row))

    def percent(wb):
        sheet, addr = _cell("overall.income.other")
        wb[sheet][addr] = 0.98
        wb[sheet][addr].number_format = "0%"
    add(f"{CODE}_47_金额设成百分比.xlsx", "flag:READ-108", lambda p: _edit(base, p, percent))

    def drop_spares(wb):
        for name in [n for n in wb.sheetnames if n.startswith("附件3(") and n != "附件3(1)"]:
            wb.remove(wb[name])
    add(f"{CODE}_48_删除备用表.xlsx", "flag:READ-204", lambda p: _edit(base, p, drop_spares))
    add(f"{CODE}_49_Strict格式.xlsx", "same", lambda p: _to_strict(base, p))
    sheet, addr = _cell("overall.income.gov_fund")
    index = 1 + [s.name for s in compile_layout(P, shape_for(_dept(), P)).sheets].index(sheet)
    for tag, number in (("50_无穷大", b"1e309"), ("50b_NaN", b"NaN"), ("50c_极大数", b"1e300")):
        add(f"{CODE}_{tag}.xlsx", "flag:READ-109", lambda p, number=number: _rewrite_part(
            base, p, f"xl/worksheets/sheet{index}.xml",
            lambda d: re.sub(rb'<c r="' + addr.encode() + rb'" s="(\d+)"/>',
                             rb'<c r="' + addr.encode() + rb'" s="\1"><v>' + number + rb'</v></c>', d)))
    add("51_元数据表数过多.xlsx", "unreadable:超出上限",
        lambda p: _edit(base, p, _meta("project_categories", json.dumps([None] * 3000))))
    add("52_元数据年度.xlsx", "unreadable:年度", lambda p: _edit(base, p, _meta("year", "99999")))

    # -- clerks' typing and editing (issue #21): read as meant, or said at the cell — never fatal, never lost
    add(f"{CODE}_54_文本负数.xlsx", "flag:READ-103", lambda p: _edit(base, p, _set("basic.public_funds.final", "-5")))
    add(f"{CODE}_55_文本小数人数.xlsx", "flag:READ-104", lambda p: _edit(base, p, _set("basic.staff_actual", "18.5")))

    def control_character(p):  # U+0001 pasted from another system: Excel stores it as _x0001_
        tmp = p.with_name("_ctrl.tmp.xlsx")
        _edit(base, tmp, _set("signoff.preparer", "张CTRL三"))
        with zipfile.ZipFile(tmp) as zin, zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():  # openpyxl writes the text inline, in the sheet's part
                zout.writestr(info, zin.read(info.filename).replace(b"CTRL", b"_x0001_"))
        tmp.unlink()
    add(f"{CODE}_56_控制字符.xlsx", "flag:READ-110", control_character)

    def unmerged(also_first: bool):
        def fn(wb):
            sheet, addr = _cell("overall.goal_expected")
            ws = wb[sheet]
            span = next(str(m) for m in ws.merged_cells.ranges if str(m).startswith(addr + ":"))
            ws.unmerge_cells(span)
            if also_first:
                ws[addr] = "目标一"
            ws[span.split(":")[1]] = "拆开合并格后填在右半边的目标"
        return fn
    add(f"{CODE}_57_拆开合并格.xlsx", "flag:READ-111", lambda p: _edit(base, p, unmerged(False)))
    add(f"{CODE}_57b_拆开合并格两处有字.xlsx", "flag:READ-112", lambda p: _edit(base, p, unmerged(True)))
    add(f"{CODE}_58_表外备注.xlsx", "flag:READ-112",
        lambda p: _edit(base, p, lambda wb: wb["附件2"].__setitem__("M3", "备注：请领导审核")))
    blank = write_workbook(Department.model_validate(dict(  # as generate writes it from a roster row
        code=CODE, name="测试单位", year=2023, profile=P.id,
        projects=[dict(name="项目甲", category="业务工作经费", funds=dict(current=dict(initial=30, full=30)))])),
        P, out / "_blank.tmp.xlsx", generated_at=TS)
    add(f"{CODE}_53_空白模板.xlsx", "flag:FILL-101", lambda p: shutil.copy(blank, p))
    blank.unlink()
    base.unlink()
    return cases


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    for name, expect in build(target).items():
        print(f"{expect:28s} {name}")
    _ = io  # keep the import for interactive use
