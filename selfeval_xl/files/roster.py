"""The coordinator's roster: one row per (unit, project), Chinese headers, .xlsx or .csv.

CSV files come from Excel on Chinese Windows (GBK), from WPS or from other tools (UTF-8 with
or without BOM); the encoding is detected, not assumed. A unit with no project has one row
with an empty 项目名称.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core.model import Department, FundRow, Funds, ProjectEvaluation
from ..core.region import Profile, normalize_label
from ..forms.binding import form_name
from .outputs import bounded_name

REQUIRED = ("单位编码", "单位名称", "项目名称")
OPTIONAL = ("主管部门", "项目类别", "年初预算数", "全年预算数")


class RosterError(ValueError):
    """A roster that cannot be used; the message names the file, row and column."""


@dataclass
class RosterUnit:
    code: str
    name: str
    competent_dept: str = ""
    projects: list[ProjectEvaluation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def department(self, year: int, profile: Profile) -> Department:
        return Department(code=self.code, name=self.name, competent_dept=self.competent_dept, year=year,
                          profile=profile.id, projects=self.projects)


def _decode(raw: bytes, name: str) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise RosterError(f"{name}：无法识别文件编码（应为 UTF-8 或 GBK）")


def _rows_csv(path: Path) -> list[list[str]]:
    text = _decode(path.read_bytes(), path.name)
    return [row for row in csv.reader(io.StringIO(text))]


_ZEROS = re.compile(r'^(?:"[^"]*"|\\.)*(0+)(?:"[^"]*"|\\.)*$')  # "0000", "000000", "\A0000"


def _cell_text(value: object, number_format: str, where: str) -> str:
    """A cell as the text the user sees. Codes are text: a number shown as 0012 (format "0000")
    keeps its zeros; a number of 16 or more digits has already lost its last digits in Excel
    (15 significant digits), which is said rather than passed on as another unit's code."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not value.is_integer():
            return repr(value)
        n = int(value)
        if abs(n) >= 10 ** 15:
            raise RosterError(f"{where}：数字 {n} 超过 15 位，Excel 只保存 15 位有效数字，末几位可能已经变了。"
                              f"请把该列设为“文本”格式后重新输入（或在数字前加英文单引号 '）")
        m = _ZEROS.match(number_format or "")
        return str(n).zfill(len(m.group(1))) if m else str(n)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _rows_xlsx(path: Path) -> list[list[str]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:
        raise RosterError(f"{path.name}：无法作为 .xlsx 打开（{type(e).__name__}）。请用 Excel 或 WPS 另存为 .xlsx 后重试") from None
    try:
        ws = wb.worksheets[0]
        ws.reset_dimensions()
        rows = []
        for r, row in enumerate(ws.iter_rows(), start=1):
            rows.append([_cell_text(c.value, getattr(c, "number_format", ""), f"{path.name} 第 {r} 行第 {k + 1} 列")
                         for k, c in enumerate(row)])
        return rows
    finally:
        wb.close()


_NUM = re.compile(r"^[+-]?\d+(\.\d+)?$")


def _money(text: str, where: str) -> float | None:
    t = text.strip().replace(",", "").replace("，", "").removesuffix("万元").strip()
    t = t.translate(str.maketrans("０１２３４５６７８９．－", "0123456789.-"))
    if not t:
        return None
    if not _NUM.match(t):
        raise RosterError(f"{where}：“{text}”不是金额（万元）")
    v = float(t)
    if v < 0:
        raise RosterError(f"{where}：金额不能为负数（{text}）")
    return v


def read_roster(path: str | Path, profile: Profile) -> list[RosterUnit]:
    path = Path(path)
    if not path.exists():
        raise RosterError(f"找不到名册文件 {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _rows_csv(path)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _rows_xlsx(path)
    else:
        raise RosterError(f"{path.name}：名册应为 .xlsx 或 .csv 文件")
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise RosterError(f"{path.name}：名册是空的")
    if len(rows) == 1:
        raise RosterError(f"{path.name}：名册只有表头，没有单位。请在第 2 行起每行填写一个单位（或一个项目）")
    header = [normalize_label(h) for h in rows[0]]
    missing = [h for h in REQUIRED if h not in header]
    if missing:
        raise RosterError(f"{path.name}：第 1 行缺少表头 {'、'.join(missing)}（需要：{'、'.join(REQUIRED)}）")
    col = {h: header.index(h) for h in REQUIRED + OPTIONAL if h in header}
    units: dict[str, RosterUnit] = {}
    for n, row in enumerate(rows[1:], start=2):
        def get(h: str) -> str:
            i = col.get(h)
            return row[i].strip() if i is not None and i < len(row) else ""

        code, name = get("单位编码"), get("单位名称")
        if not code or not name:
            raise RosterError(f"{path.name} 第 {n} 行：单位编码和单位名称不能为空")
        for label, text in (("单位编码", code), ("单位名称", name), ("项目名称", get("项目名称")), ("主管部门", get("主管部门"))):
            bad = _CONTROL.search(text)
            if bad:
                raise RosterError(f"{path.name} 第 {n} 行 {label}“{_CONTROL.sub('?', text)}”中有不可见的控制字符"
                                  f"（U+{ord(bad.group()):04X}），通常是从别处复制带来的。请删去后重试")
        unit = units.get(code)
        if unit is None:
            unit = units[code] = RosterUnit(code=code, name=name, competent_dept=get("主管部门"))
        elif unit.name != name:
            raise RosterError(f"{path.name} 第 {n} 行：单位编码 {code} 已对应“{unit.name}”，此行却是“{name}”")
        pname = get("项目名称")
        if not pname:
            continue
        if not form_name(profile, "project"):
            # a region with only a 部门整体 table (云溪, 安徽金寨) has no project table to make: saying
            # "the project table has no budget column" sent the coordinator looking for one
            unit.notes.append(f"第 {n} 行的项目“{pname}”没有生成表格：本地区没有项目支出绩效自评表"
                              f"（名册中该单位写一行、项目名称留空即可{'；其预算数也没有预填' if get('年初预算数') or get('全年预算数') else ''}）")
            continue
        cat = get("项目类别")
        if cat and cat not in profile.projects.categories:
            raise RosterError(f"{path.name} 第 {n} 行：项目类别“{cat}”不在配置 {profile.id} 中"
                              f"（可用：{'、'.join(profile.projects.categories)}）")
        if not cat:
            cat = profile.projects.default_category
            basic = form_name(profile, "basic")
            if len(profile.projects.categories) > 1:  # one category: nothing to choose, nothing to say
                unit.notes.append(f"第 {n} 行项目“{pname}”未填项目类别，按“{cat}”" + (f"列入{basic}" if basic else "归类"))
        where = f"{path.name} 第 {n} 行"
        amounts = {"initial": _money(get("年初预算数"), where + " 年初预算数"), "full": _money(get("全年预算数"), where + " 全年预算数")}
        funds, figures = Funds(), {}
        for part, key in zip(("initial", "full"), budget_inputs(profile)):
            if amounts[part] is None:
                continue
            if key == f".funds.current.{part}":
                funds.current = FundRow(**{**funds.current.model_dump(), part: amounts[part]})
            elif key:  # the region's own budget cell (湖北: 年度财政资金总额 预算数)
                figures[key[1:]] = amounts[part]
            else:
                unit.notes.append(f"第 {n} 行项目“{pname}”的{'年初预算数' if part == 'initial' else '全年预算数'}没有预填："
                                  f"本地区的{form_name(profile, 'project') or '项目表'}没有这一栏")
        unit.projects.append(ProjectEvaluation(name=pname, category=cat, competent_dept=get("主管部门"),
                                               implementing_unit=name, funds=funds, figures=figures))
    return list(units.values())


def budget_inputs(profile: Profile) -> tuple[str | None, str | None]:
    """Where a project's 年初预算数 and 全年预算数 from the roster go: 当年财政拨款's row where the
    region's project table has one (岳阳, 财预〔2020〕10号, 四川's 财政资金); else the table's own
    budget cells — the cell its 执行率 divides by and its 年初 sibling — when a clerk types them
    (湖北's one 年度财政资金总额 row); None where the table has no such input."""
    inputs: set[str] = set()
    budgets: list[str] = []
    for sdef in profile.forms.sheets:
        if sdef.role != "project":
            continue
        for block in sdef.blocks:
            inputs |= {c.key for row in block.rows for c in row.cells if c.kind == "input"}
            budget = dict(block.param("exec", ())).get("budget") if block.kind == "grid" else None
            if isinstance(budget, str) and budget.startswith("."):
                budgets.append(budget)
    out: list[str | None] = []
    for part in ("initial", "full"):
        mine = [f".funds.current.{part}"] + [b.rsplit(".", 1)[0] + f".{part}" for b in budgets]
        out.append(next((k for k in mine if k in inputs), None))
    return out[0], out[1]


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_filename(name: str, suffix: str = "") -> str:
    """A file name Windows accepts — no reserved characters or names, no trailing dot/space —
    that fits in bytes (``outputs.bounded_name``), not merely in characters."""
    s = _UNSAFE.sub("_", name).strip().rstrip(". ")
    if s.split(".")[0].upper() in _RESERVED:
        s = "_" + s
    return bounded_name(s or "_", suffix)


def workbook_name(code: str, name: str, year: int) -> str:
    return safe_filename(f"{code}_{name}_{year}年度绩效自评", ".xlsx")


def workbook_names(units: list[RosterUnit], year: int) -> list[str]:
    """One file name per unit, all different even where codes differ only in characters a file
    name cannot hold (a/b and a_b) or in letter case (Windows and macOS do not tell A from a)."""
    taken: set[str] = set()
    out = []
    for u in units:
        base = workbook_name(u.code, u.name, year)
        name, k = base, 2
        while name.casefold() in taken:
            name = safe_filename(f"{base[:-5]}_{k}", ".xlsx")
            k += 1
        taken.add(name.casefold())
        out.append(name)
    return out
