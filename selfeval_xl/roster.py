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

from .core.model import Department, FundRow, Funds, ProjectEvaluation
from .core.region import Profile, normalize_label

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


def _rows_xlsx(path: Path) -> list[list[str]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:
        raise RosterError(f"{path.name}：无法作为 .xlsx 打开（{e}）") from None
    try:
        ws = wb.worksheets[0]
        ws.reset_dimensions()
        return [["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
                 for v in row] for row in ws.iter_rows(values_only=True)]
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
        unit = units.get(code)
        if unit is None:
            unit = units[code] = RosterUnit(code=code, name=name, competent_dept=get("主管部门"))
        elif unit.name != name:
            raise RosterError(f"{path.name} 第 {n} 行：单位编码 {code} 已对应“{unit.name}”，此行却是“{name}”")
        pname = get("项目名称")
        if not pname:
            continue
        cat = get("项目类别")
        if cat and cat not in profile.projects.categories:
            raise RosterError(f"{path.name} 第 {n} 行：项目类别“{cat}”不在配置 {profile.id} 中"
                              f"（可用：{'、'.join(profile.projects.categories)}）")
        if not cat:
            cat = profile.projects.default_category
            unit.notes.append(f"第 {n} 行项目“{pname}”未填项目类别，按“{cat}”列入附件1")
        where = f"{path.name} 第 {n} 行"
        funds = Funds(current=FundRow(initial=_money(get("年初预算数"), where + " 年初预算数"),
                                      full=_money(get("全年预算数"), where + " 全年预算数")))
        unit.projects.append(ProjectEvaluation(name=pname, category=cat, competent_dept=get("主管部门"),
                                               implementing_unit=name, funds=funds))
    return list(units.values())


_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_filename(name: str, max_len: int = 120) -> str:
    """A file name Windows accepts: no reserved characters or names, no trailing dot/space."""
    s = _UNSAFE.sub("_", name).strip().rstrip(". ")
    if s.split(".")[0].upper() in _RESERVED:
        s = "_" + s
    return (s or "_")[:max_len]


def workbook_name(code: str, name: str, year: int) -> str:
    return safe_filename(f"{code}_{name}_{year}年度绩效自评") + ".xlsx"
