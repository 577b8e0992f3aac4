"""The declarative description of every sheet: rows, labels, merges, inputs and formulas.

``compile_layout(profile, shape)`` turns a profile and a unit's shape (year, name, which
projects it has) into a ``Layout``: a list of ``Sheet`` objects whose ``Cell`` entries say
what sits where. Nothing about cell addresses lives anywhere else:

* ``xlsx_write`` walks the cells to draw the workbook (values from ``binding.flatten``);
* ``xlsx_read`` walks the same cells to read the inputs back (``binding.unflatten``);
* ``scoring`` computes a value for every formula cell's ``key``; a LibreOffice test holds
  the two equal.

Formulas are written as templates that name other cells by key, ``=SUM({a},{b})``, and are
resolved to A1 references (across sheets where needed) once every cell is placed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from .profile import Level1, Profile

TEMPLATE_VERSION = "1"

# sheet names (user-facing, Chinese)
GUIDE = "填表说明"
BASIC = "附件1"
OVERALL = "附件2"
NARRATIVE = "报告正文"
META = "_meta"


def project_sheet_name(i: int) -> str:
    return f"附件3({i + 1})"


# value types of input and formula cells
MONEY, INT, AREA, WEIGHT, SCORE, RATE, TEXT, LONGTEXT, GRADE = (
    "money", "int", "area", "weight", "score", "rate", "text", "longtext", "grade",
)
NUMERIC = {MONEY, INT, AREA, WEIGHT, SCORE, RATE}


@dataclass(frozen=True)
class Shape:
    """What varies between units of one profile: the year, the unit and its projects."""

    year: int
    unit_code: str
    unit_name: str
    competent_dept: str = ""
    # one entry per 附件3 sheet: the project's 附件1 category, or None for a spare sheet
    project_categories: tuple[str | None, ...] = ()


@dataclass
class Cell:
    r: int
    c: int
    kind: str  # label | input | formula | hint
    text: str | float | None = None  # label text (or a fixed number) for labels
    key: str | None = None  # model key (input) or derived key (formula/hint)
    vtype: str = TEXT
    formula: str | None = None  # template with {key} references, resolved in Layout
    merge: tuple[int, int] | None = None  # (last row, last col) when merged
    style: str = "label"
    prompt: str | None = None  # input message shown by the data validation
    choices: tuple[str, ...] = ()  # a dropdown of suggestions (free text still accepted)


@dataclass
class CondFormat:
    first: tuple[int, int]
    last: tuple[int, int]
    criteria: str  # template formula relative to ``first``
    style: str


@dataclass
class Sheet:
    name: str
    role: str  # guide | basic | overall | project | narrative
    cells: list[Cell] = field(default_factory=list)
    widths: list[float] = field(default_factory=list)
    heights: dict[int, float] = field(default_factory=dict)
    print_cols: int = 0  # columns A.. that print; further columns hold hints
    repeat_rows: tuple[int, int] | None = None
    cond_formats: list[CondFormat] = field(default_factory=list)
    project: int | None = None  # index for 附件3 sheets
    landscape: bool = True
    # for the Word report: the official table's rows, and the rows dropped when blank
    table_rows: tuple[int, int] | None = None
    optional_rows: set[int] = field(default_factory=set)

    # caches: the sheet is shared by every unit's layout and never mutated after building
    rendered: dict[int, str] = field(default_factory=dict, repr=False, compare=False)
    _index: dict | None = field(default=None, repr=False, compare=False)
    _personal: list[int] | None = field(default=None, repr=False, compare=False)
    _digest: str | None = field(default=None, repr=False, compare=False)
    # for a personalised copy: the shared sheet it was made from (same structure, other label text)
    origin: "Sheet | None" = field(default=None, repr=False, compare=False)

    def index(self) -> dict[str, tuple["Sheet", Cell]]:
        if self._index is None:
            self._index = {cell.key: (self, cell) for cell in self.cells if cell.key}
        return self._index

    def personalised(self, subs: tuple[tuple[str, str], ...]) -> "Sheet":
        """This sheet, or a copy whose labels have the unit placeholders replaced."""
        if self._personal is None:
            self._personal = [i for i, c in enumerate(self.cells)
                              if c.kind == "label" and isinstance(c.text, str) and "\ue000" in c.text]
        if not self._personal:
            return self
        cells = list(self.cells)
        for i in self._personal:
            text = cells[i].text
            for token, value in subs:
                text = text.replace(token, value)
            cells[i] = replace(cells[i], text=text)
        # same rendered-formula cache (same formula cells); its own key index; the shared digest
        return replace(self, cells=cells, _index=None, _personal=[], _digest=self.digest(), origin=self)

    def digest(self) -> str:
        """Every cell's position, kind, key, label text or formula template and merge."""
        if self._digest is None:
            parts = [self.name]
            for cell in self.cells:
                content = cell.key if cell.kind == "input" else (cell.formula if cell.formula else cell.text)
                parts.append(f"{cell.r}\x1f{cell.c}\x1f{cell.kind}\x1f{cell.key}\x1f{content}\x1f{cell.merge}")
            self._digest = hashlib.sha256("\x1e".join(parts).encode()).hexdigest()
        return self._digest

    @property
    def n_rows(self) -> int:
        return max((c.merge[0] if c.merge else c.r) for c in self.cells) + 1


@lru_cache(maxsize=None)
def col_letter(c: int) -> str:
    s = ""
    c += 1
    while c:
        c, rem = divmod(c - 1, 26)
        s = chr(65 + rem) + s
    return s


@lru_cache(maxsize=65536)
def a1(r: int, c: int) -> str:
    return f"{col_letter(c)}{r + 1}"


def quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


_REF = re.compile(r"\{([^{}]+)\}")
# Excel 2010+ functions that need a _xlfn. prefix in the file (none of ours do; see formula_of)
_NEEDS_PREFIX = re.compile(r"\b(ANCHORARRAY|BYCOL|BYROW|CHOOSECOLS|CHOOSEROWS|DROP|EXPAND|FILTER|HSTACK|LAMBDA|"
                           r"MAKEARRAY|MAP|RANDARRAY|REDUCE|SCAN|SINGLE|SEQUENCE|SORT|SORTBY|SWITCH|TAKE|TEXTSPLIT|"
                           r"TOCOL|TOROW|UNIQUE|VSTACK|WRAPCOLS|WRAPROWS|XLOOKUP|IFS|MAXIFS|MINIFS|CONCAT|TEXTJOIN|"
                           r"IFNA|XOR|AGGREGATE|STDEV\.S|FORECAST\.LINEAR)\(")


class Layout:
    """All sheets of one workbook, with a key → (sheet, row, col) index."""

    def __init__(self, profile: Profile, shape: Shape, sheets: list[Sheet]):
        self.profile = profile
        self.shape = shape
        self._rendered: dict[int, str] = {}  # formulas that refer to other sheets, rendered for this layout
        self._fingerprint: str | None = None
        subs = ((UNIT_CODE, shape.unit_code), (UNIT_NAME, shape.unit_name))
        self.sheets = [sh.personalised(subs) for sh in sheets]
        self.where: dict[str, tuple[Sheet, Cell]] = {}
        for sh in self.sheets:
            index = sh.index()
            n = len(self.where)
            self.where.update(index)
            if len(self.where) != n + len(index):
                dup = next(k for k in index if self.where[k][0] is not sh)
                raise AssertionError(f"duplicate layout key {dup}")

    def sheet(self, name: str) -> Sheet:
        for sh in self.sheets:
            if sh.name == name:
                return sh
        raise KeyError(name)

    def ref(self, key: str, from_sheet: str) -> str:
        sh, cell = self.where[key]
        addr = a1(cell.r, cell.c)
        return addr if sh.name == from_sheet else f"{quote_sheet(sh.name)}!{addr}"

    def location(self, key: str) -> str:
        """User-facing location such as 附件3(2)!H14."""
        sh, cell = self.where[key]
        return f"{sh.name}!{a1(cell.r, cell.c)}"

    def render(self, template: str, sheet_name: str) -> str:
        return _REF.sub(lambda m: self.ref(m.group(1), sheet_name), template)

    def formula_of(self, sh: "Sheet", cell: "Cell") -> str:
        """The A1 formula of a formula/hint cell.

        A formula that refers only to its own sheet is the same in every layout sharing that
        sheet, so it is rendered once and kept on the sheet; others are kept per layout.
        """
        f = sh.rendered.get(id(cell)) or self._rendered.get(id(cell))
        if f is None:
            local = True

            def ref(m: re.Match) -> str:
                nonlocal local
                local = local and self.where[m.group(1)][0].name == sh.name
                return self.ref(m.group(1), sh.name)

            f = _REF.sub(ref, cell.formula)
            if _NEEDS_PREFIX.search(f):  # xlsx_write skips XlsxWriter's _xlfn expansion: keep that safe
                raise AssertionError(f"formula uses a function that needs a _xlfn. prefix: {f}")
            (sh.rendered if local else self._rendered)[id(cell)] = f
        return f

    def inputs(self):
        for sh in self.sheets:
            for cell in sh.cells:
                if cell.kind == "input":
                    yield sh, cell

    def formulas(self):
        for sh in self.sheets:
            for cell in sh.cells:
                if cell.kind in ("formula", "hint"):
                    yield sh, cell

    def fingerprint(self) -> str:
        """A digest of every sheet's structure (see ``Sheet.digest``) and the unit's code and name.

        Stored in the metadata sheet; the reader rebuilds the layout from the metadata and
        compares, so a workbook from another template version or with a changed layout is seen.
        Formula templates name cells by key and every key's position is in its sheet's digest,
        so digesting templates is as strict as digesting the rendered A1 formulas.
        """
        if self._fingerprint is None:
            parts = [sh.digest() for sh in self.sheets] + [self.shape.unit_code, self.shape.unit_name]
            self._fingerprint = hashlib.sha256("\x1e".join(parts).encode()).hexdigest()[:32]
        return self._fingerprint


# --------------------------------------------------------------------------------------
# building blocks


class _B:
    """Small helper that appends cells to a sheet."""

    def __init__(self, sheet: Sheet):
        self.sh = sheet

    def label(self, r, c, text, r2=None, c2=None, style="label"):
        self.sh.cells.append(Cell(r, c, "label", text=text, merge=_m(r, c, r2, c2), style=style))

    def input(self, r, c, key, vtype=TEXT, r2=None, c2=None, prompt=None, choices=()):
        style = {TEXT: "in_text", LONGTEXT: "in_long", MONEY: "in_money", INT: "in_int", AREA: "in_num",
                 WEIGHT: "in_num", SCORE: "in_num"}[vtype]
        self.sh.cells.append(Cell(r, c, "input", key=key, vtype=vtype, merge=_m(r, c, r2, c2), style=style, prompt=prompt,
                                  choices=tuple(choices)))

    def formula(self, r, c, key, formula, vtype=MONEY, r2=None, c2=None, style=None):
        style = style or {MONEY: "f_money", RATE: "f_rate", SCORE: "f_num", WEIGHT: "f_num", TEXT: "f_text",
                          GRADE: "f_text"}[vtype]
        self.sh.cells.append(Cell(r, c, "formula", key=key, vtype=vtype, formula=formula, merge=_m(r, c, r2, c2), style=style))

    def hint(self, r, c, key, formula):
        self.sh.cells.append(Cell(r, c, "hint", key=key, vtype=TEXT, formula=formula, style="hint"))


def _m(r, c, r2, c2):
    if r2 is None and c2 is None:
        return None
    r2 = r if r2 is None else r2
    c2 = c if c2 is None else c2
    return None if (r2, c2) == (r, c) else (r2, c2)


def blank_text(ref: str) -> str:
    """Excel test that a text cell holds nothing but spaces, line breaks or full-width spaces.

    TRIM alone keeps line breaks (CLEAN removes them) and the full-width space U+3000 that
    Chinese input methods type; ``scoring.is_blank_text`` is the Python twin.
    """
    return f'LEN(TRIM(SUBSTITUTE(CLEAN({ref}),"\u3000"," ")))=0'


def num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def rate_formula(num_ref: str, den_ref: str, percent_decimals: int = -1) -> str:
    """A ratio, rounded to ``percent_decimals`` of a percent (-1: not rounded); blank while
    the denominator is blank or zero, so a blank template shows no #DIV/0!."""
    pd = percent_decimals
    core = f"{num_ref}/{den_ref}"
    if pd >= 0:
        core = f"ROUND({core},{pd + 2})"
    return f'=IF(N({den_ref})>0,{core},"")'


def exec_score_formula(rate_ref: str, weight: float, profile: Profile) -> str:
    sd = profile.scoring.score_decimals
    return f'=IF({rate_ref}="","",ROUND({num(weight)}*MIN({rate_ref},1),{sd}))'


def grade_formula(total_ref: str, profile: Profile) -> str:
    grades = profile.grades
    expr = f'"{grades[-1].name}"'
    for g in reversed(grades[:-1]):
        expr = f'IF({total_ref}>={num(g.min)},"{g.name}",{expr})'
    return f'=IF({total_ref}="","",{expr})'


def _sum(keys: list[str]) -> str:
    if not keys:
        return "0"
    return "SUM(" + ",".join("{" + k + "}" for k in keys) + ")"


def _count(keys: list[str]) -> str:
    if not keys:
        return "0"
    return "COUNT(" + ",".join("{" + k + "}" for k in keys) + ")"


def indicator_key(prefix: str, l2key: str, k: int, fieldname: str) -> str:
    return f"{prefix}.ind.{l2key}.{k}.{fieldname}"


IND_FIELDS = ("name", "target", "actual", "weight", "score", "deviation")
# what the seeds write in 偏差原因分析及改进措施 at full marks; offered as a dropdown, free text still accepted
DEVIATION_CHOICES = ("无", "无偏差")


# --------------------------------------------------------------------------------------
# 附件2 and 附件3 share the 9-column grid: A group label, B 一级, C 二级, D 三级,
# E 年度指标值, F 实际完成值, G 分值, H 得分, I 偏差原因; J/K hold in-sheet hints.

GRID_WIDTHS = [8, 11, 11, 30, 15, 15, 8, 9, 24, 30, 30]


def _indicator_block(b: _B, r: int, prefix: str, profile: Profile) -> tuple[int, list[str], list[str]]:
    """Draw the 绩效指标 block from row r. Returns (next row, weight keys, score keys)."""
    first = r
    for c, text in enumerate(["一级指标", "二级指标", "三级指标", "年度\n指标值", "实际\n完成值", "分值", "得分",
                              "偏差原因分析及改进措施"], start=1):
        b.label(r, c, text, style="header")
    b.sh.heights[r] = 30
    r += 1
    weight_keys: list[str] = []
    score_keys: list[str] = []
    for l1 in profile.level1:
        l1_first = r
        l1_weights: list[str] = []
        for l2 in l1.level2:
            l2_first = r
            for k in range(l2.rows):
                keys = {f: indicator_key(prefix, l2.key, k, f) for f in IND_FIELDS}
                b.input(r, 3, keys["name"], TEXT, prompt="三级指标名称")
                b.input(r, 4, keys["target"], TEXT, prompt="年度指标值，如 ≥96%、≤181万元、12月31日之前")
                b.input(r, 5, keys["actual"], TEXT, prompt="实际完成值：写实际数，不要带 ≥ ≤ 等符号")
                b.input(r, 6, keys["weight"], WEIGHT, prompt="本行分值")
                b.input(r, 7, keys["score"], SCORE, prompt="得分：0 到本行分值之间")
                b.input(r, 8, keys["deviation"], TEXT, prompt="满分可选“无”；未得满分时必须写明偏差原因及改进措施",
                        choices=DEVIATION_CHOICES)
                w, s, d = "{" + keys["weight"] + "}", "{" + keys["score"] + "}", "{" + keys["deviation"] + "}"
                b.hint(r, 9, f"{prefix}.hint.{l2.key}.{k}",
                       f'=IF(AND(ISNUMBER({s}),ISNUMBER({w})),IF({s}>{w},"得分超过分值",'
                       f'IF(AND({s}<{w},{blank_text(d)}),"得分低于分值：请填写偏差原因","")),"")')
                l1_weights.append(keys["weight"])
                score_keys.append(keys["score"])
                b.sh.heights[r] = 30
                b.sh.optional_rows.add(r)
                r += 1
            b.label(l2_first, 2, l2.name, r2=r - 1, style="label_center")
        b.label(l1_first, 1, l1.label.replace("（", "\n（"), r2=r - 1, style="label_center")
        wsum = _sum(l1_weights)
        b.hint(l1_first, 10, f"{prefix}.hint.level1.{l1.key}",
               f'=IF({_count(l1_weights)}=0,"",IF(ABS({wsum}-{num(l1.weight)})>0.0001,'
               f'"{l1.name}分值合计"&{wsum}&"，应为{num(l1.weight)}",""))')
        b.sh.cond_formats.append(CondFormat(
            (l1_first, 1), (l1_first, 1),
            f"AND({_count(l1_weights)}>0,ABS({wsum}-{num(l1.weight)})>0.0001)", "cf_error"))
        weight_keys.extend(l1_weights)
    b.label(first, 0, "绩\n效\n指\n标", r2=r - 1, style="label_center")
    last = r - 1
    # row-relative conditional formats over the whole block (anchored at the first data row)
    d0 = first + 1
    b.sh.cond_formats.append(CondFormat((d0, 7), (last, 7), f"AND(ISNUMBER({a1(d0, 7)}),ISNUMBER({a1(d0, 6)}),{a1(d0, 7)}>{a1(d0, 6)})", "cf_error"))
    b.sh.cond_formats.append(CondFormat((d0, 8), (last, 8), f"AND(ISNUMBER({a1(d0, 7)}),ISNUMBER({a1(d0, 6)}),{a1(d0, 7)}<{a1(d0, 6)},{blank_text(a1(d0, 8))})", "cf_warn"))
    return r, weight_keys, score_keys


def _funds_header(b: _B, r: int) -> None:
    b.label(r, 1, "", c2=2, style="header")
    for c, text in enumerate(["年初\n预算数", "全年\n预算数", "全年\n执行数", "分值", "执行率", "得分"], start=3):
        b.label(r, c, text, style="header")
    b.sh.heights[r] = 30


def _exec_cells(b: _B, r: int, prefix: str, exec_key: str, full_key: str, profile: Profile) -> list[str]:
    """分值 / 执行率 / 得分 on a 年度资金总额 row; returns the keys that count into 总分."""
    s = profile.scoring
    rate_key = f"{prefix}.rate"
    b.formula(r, 7, rate_key, rate_formula("{" + exec_key + "}", "{" + full_key + "}",
                                        s.execution_rate_percent_decimals), RATE)
    # over-execution is judged on the figures, not on the (possibly rounded) rate
    over = f"AND(N({{{full_key}}})>0,N({{{exec_key}}})>N({{{full_key}}}))"
    b.sh.cond_formats.append(CondFormat((r, 7), (r, 7), over, "cf_warn"))
    b.hint(r, 9, f"{prefix}.hint.rate", f'=IF({over},"执行数超过全年预算数（超预算执行），请核实","")')
    if s.execution_scored:
        b.label(r, 6, num(s.execution_weight), style="f_num")
        b.formula(r, 8, f"{prefix}.score", exec_score_formula("{" + rate_key + "}", s.execution_weight, profile), SCORE)
        return [f"{prefix}.score"]
    b.label(r, 6, "—", style="f_num")
    b.label(r, 8, "—", style="f_num")
    return []


def _totals(b: _B, r: int, prefix: str, weight_keys: list[str], score_keys: list[str], exec_score: list[str],
            profile: Profile) -> int:
    s = profile.scoring
    b.label(r, 0, "总分", c2=5, style="header")
    w_expr = _sum(weight_keys)
    if s.execution_scored:
        w_expr = f"{num(s.execution_weight)}+{w_expr}"
    b.formula(r, 6, f"{prefix}.weight_total", f'=IF({_count(weight_keys)}=0,"",{w_expr})', WEIGHT)
    all_scores = exec_score + score_keys
    b.formula(r, 7, f"{prefix}.total_score", f'=IF({_count(all_scores)}=0,"",{_sum(all_scores)})', SCORE)
    b.label(r, 8, "", style="label")
    total_ref = "{" + f"{prefix}.total_score" + "}"
    b.hint(r, 9, f"{prefix}.hint.total",
           f'=IF({_count(weight_keys)}=0,"",IF(ABS({{{prefix}.weight_total}}-{num(s.total)})>0.0001,'
           f'"分值合计"&{{{prefix}.weight_total}}&"，应为{num(s.total)}",""))')
    if s.show_grade_row:
        r += 1
        b.label(r, 0, "评价等次", c2=5, style="header")
        b.formula(r, 6, f"{prefix}.grade", grade_formula(total_ref, profile), GRADE, c2=8, style="f_text")
    else:
        # the official form has no grade row: the live grade sits beside the total, unprinted
        b.formula(r, 10, f"{prefix}.grade", grade_formula(total_ref, profile), GRADE, style="f_side")
    return r + 1


def _goal_block(b: _B, r: int, prefix: str) -> int:
    b.label(r, 0, "年度\n总体\n目标", r2=r + 1, style="label_center")
    b.label(r, 1, "预期目标", c2=4, style="header")
    b.label(r, 5, "实际完成情况", c2=8, style="header")
    b.input(r + 1, 1, f"{prefix}.goal_expected", LONGTEXT, c2=4, prompt="年度预期目标")
    b.input(r + 1, 5, f"{prefix}.goal_actual", LONGTEXT, c2=8, prompt="实际完成情况")
    b.sh.heights[r + 1] = 110
    return r + 2


def _footer(b: _B, r: int, last_col: int) -> None:
    parts = [("填表人：", "preparer"), ("  填报日期：", "date"), ("  联系电话：", "phone"), ("  单位负责人签字：", "head")]
    expr = "&".join(f'"{lbl}"&{{signoff.{k}}}' for lbl, k in parts)
    b.formula(r, 0, "footer." + b.sh.name, "=" + expr, TEXT, c2=last_col, style="footer")


def _title(b: _B, label: str, title: str, last_col: int) -> int:
    b.label(0, 0, label, c2=1, style="attach")
    b.label(1, 0, title, c2=last_col, style="title")
    b.sh.heights[1] = 30
    return 2


# --------------------------------------------------------------------------------------
# the sheets


def _overall_sheet(profile: Profile, shape: Shape) -> Sheet:
    sh = Sheet(OVERALL, "overall", widths=list(GRID_WIDTHS), print_cols=9)
    b = _B(sh)
    r = _title(b, "附件2", f"{shape.year}年度部门整体支出绩效自评表", 8)
    b.label(r, 0, profile.profile.dept_name_label, c2=2, style="header")
    b.label(r, 3, shape.unit_name, c2=8, style="label_left")
    r += 1
    top = r
    _funds_header(b, r)
    r += 1
    b.label(r, 1, "年度资金总额", c2=2, style="label")
    b.input(r, 3, "overall.budget_initial", MONEY, prompt="年初预算数（万元）")
    b.input(r, 4, "overall.budget_full", MONEY, prompt="全年预算数（万元）")
    b.formula(r, 5, "overall.executed", "=SUM({overall.expense_basic},{overall.expense_project})")
    exec_score = _exec_cells(b, r, "overall", "overall.executed", "overall.budget_full", profile)
    r += 1
    b.label(r, 1, "按收入性质分：", c2=4, style="label_left")
    b.label(r, 5, "按支出性质分：", c2=8, style="label_left")
    r += 1
    income = [("其中：一般公共预算：", "general"), ("政府性基金拨款：", "gov_fund"),
              ("纳入专户管理的非税收入拨款：", "special_account"), ("其他资金：", "other")]
    for j, (lbl, k) in enumerate(income):
        b.label(r + j, 1, lbl, c2=3, style="label_right")
        b.input(r + j, 4, f"overall.income.{k}", MONEY, prompt=lbl.removeprefix("其中：").rstrip("：") + "（万元）")
    b.label(r, 5, "其中：基本支出：", c2=7, style="label_right")
    b.input(r, 8, "overall.expense_basic", MONEY, prompt="基本支出（万元）")
    b.label(r + 1, 5, "项目支出：", c2=7, style="label_right")
    b.formula(r + 1, 8, "overall.expense_project", "={basic.projects.total.final}")
    b.label(r + 2, 5, "", c2=8)
    b.label(r + 3, 5, "", c2=8)
    inc_keys = [f"overall.income.{k}" for _, k in income]
    b.hint(r, 9, "overall.hint.income",
           f'=IF({_count(inc_keys)}=0,"",IF(ABS({_sum(inc_keys)}-{{overall.executed}})>0.005,'
           f'"收入性质合计"&{_sum(inc_keys)}&"，与全年执行数"&{{overall.executed}}&"不符",""))')
    r += 4
    b.label(top, 0, "年度预\n算申请\n（万元）", r2=r - 1, style="label_center")
    r = _goal_block(b, r, "overall")
    r, wk, sk = _indicator_block(b, r, "overall", profile)
    r = _totals(b, r, "overall", wk, sk, exec_score, profile)
    sh.table_rows = (2, r - 1)
    r += 1
    _footer(b, r, 8)
    sh.repeat_rows = (0, 2)
    return sh


def _project_sheet(profile: Profile, shape: Shape, i: int) -> Sheet:
    name = project_sheet_name(i)
    sh = Sheet(name, "project", widths=list(GRID_WIDTHS), print_cols=9, project=i)
    b = _B(sh)
    p = f"projects[{i}]"
    r = _title(b, f"附件3（{i + 1}）", f"{shape.year}年度项目支出绩效自评表", 8)
    b.label(r, 0, "项目支\n出名称", c2=1, style="header")
    b.input(r, 2, f"{p}.name", TEXT, c2=8, prompt="项目名称（一级项目）")
    sh.heights[r] = 24
    r += 1
    b.label(r, 0, "主管部门", c2=1, style="header")
    b.input(r, 2, f"{p}.competent_dept", TEXT, c2=4)
    b.label(r, 5, "实施单位", c2=6, style="header")
    b.input(r, 7, f"{p}.implementing_unit", TEXT, c2=8)
    sh.heights[r] = 24
    r += 1
    top = r
    _funds_header(b, r)
    r += 1
    total_row = r
    b.label(r, 1, "年度资金总额", c2=2)
    rows = [("其中：当年财政拨款", "current"), ("上年结转资金", "carryover"), ("其他资金", "other")]
    for col, f in ((3, "initial"), (4, "full"), (5, "executed")):
        b.formula(r, col, f"{p}.funds.total.{f}", "=" + _sum([f"{p}.funds.{k}.{f}" for _, k in rows]))
    exec_score = _exec_cells(b, r, f"{p}.funds", f"{p}.funds.total.executed", f"{p}.funds.total.full", profile)
    r += 1
    for lbl, k in rows:
        b.label(r, 1, lbl, c2=2)
        for col, f, what in ((3, "initial", "年初预算数"), (4, "full", "全年预算数"), (5, "executed", "全年执行数")):
            b.input(r, col, f"{p}.funds.{k}.{f}", MONEY, prompt=f"{lbl.removeprefix('其中：')}{what}（万元）")
        for col in (6, 7, 8):
            b.label(r, col, "")
        r += 1
    b.label(top, 0, "项目\n资金\n（万元）", r2=r - 1, style="label_center")
    assert total_row == top + 1
    r = _goal_block(b, r, p)
    r, wk, sk = _indicator_block(b, r, p, profile)
    r = _totals(b, r, p, wk, sk, exec_score, profile)
    sh.table_rows = (2, r - 1)
    if profile.forms.project_note:
        b.label(r, 0, profile.forms.project_note, c2=8, style="note")
        r += 1
    _footer(b, r, 8)
    sh.repeat_rows = (0, 1)
    return sh


def _basic_sheet(profile: Profile, shape: Shape) -> Sheet:
    """附件1: a label column and three figure columns (pairs B:C, D:E, F:G), seven for 楼堂馆所."""
    y = shape.year
    sh = Sheet(BASIC, "basic", widths=[34, 10, 10, 10, 10, 10, 10, 36], print_cols=7)
    b = _B(sh)
    r = _title(b, "附件1", f"{y}年度部门整体支出绩效评价基础数据表", 6)
    cols3 = ((1, 2, "prior"), (3, 4, "budget"), (5, 6, "final"))

    b.label(r, 0, "财政供养人员情况（人）", style="header")
    for (c, c2, _), t in zip(cols3, ["编制数", f"{y}年实际在职人数", "控制率"]):
        b.label(r, c, t, c2=c2, style="header")
    r += 1
    b.label(r, 0, "")
    b.input(r, 1, "basic.staff_authorized", INT, c2=2, prompt="编制数（人）")
    b.input(r, 3, "basic.staff_actual", INT, c2=4, prompt="实际在职人数（人）")
    b.formula(r, 5, "basic.control_rate", rate_formula("{basic.staff_actual}", "{basic.staff_authorized}"), RATE, c2=6)
    sh.cond_formats.append(CondFormat((r, 5), (r, 5), f"AND(ISNUMBER({a1(r, 5)}),{a1(r, 5)}>1)", "cf_warn"))
    b.hint(r, 7, "basic.hint.control_rate",
           '=IF(AND(ISNUMBER({basic.control_rate}),{basic.control_rate}>1),"实际在职人数超过编制数，请在说明中解释","")')
    r += 1
    b.label(r, 0, "经费控制情况（万元）", style="header")
    for (c, c2, _), t in zip(cols3, [f"{y - 1}年决算数", f"{y}年预算数", f"{y}年决算数"]):
        b.label(r, c, t, c2=c2, style="header")
    r += 1

    def money_row(r, label, key, style="label_left", inputs=True, fields=("prior", "budget", "final"), formula=None):
        b.label(r, 0, label, style=style)
        for c, c2, f in cols3:
            if f not in fields:
                b.label(r, c, "——", c2=c2, style="label_center")
            elif inputs:
                b.input(r, c, f"{key}.{f}", MONEY, c2=c2, prompt=f"{label.strip()}（万元）")
            else:
                b.formula(r, c, f"{key}.{f}", formula(f), c2=c2)

    money_row(r, "三公经费", "basic.three_public", "label_left", False,
              formula=lambda f: "=" + _sum([f"basic.car.{f}", f"basic.overseas.{f}", f"basic.reception.{f}"]))
    money_row(r + 1, "1、公务用车购置和维护经费", "basic.car", "indent1", False,
              formula=lambda f: "=" + _sum([f"basic.car_purchase.{f}", f"basic.car_operation.{f}"]))
    money_row(r + 2, "其中：公车购置", "basic.car_purchase", "indent2")
    money_row(r + 3, "公车运行维护", "basic.car_operation", "indent3")
    money_row(r + 4, "2、出国经费", "basic.overseas", "indent1")
    money_row(r + 5, "3、公务接待", "basic.reception", "indent1")
    r += 6

    total_row = r
    r += 1
    cat_keys: list[str] = []
    for ci, (cat, cat_label) in enumerate(zip(profile.projects.categories, profile.projects.category_labels)):
        cat_row = r
        r += 1
        members: list[dict[str, str]] = []  # per row: field -> key of its prior/budget/final cell
        for i, pc in enumerate(shape.project_categories):
            if pc != cat:
                continue
            p = f"projects[{i}]"
            ref = project_sheet_name(i)
            b.formula(r, 0, f"{p}.basic.name", f'=""&{{{p}.name}}', TEXT, style="f_indent")
            b.input(r, 1, f"{p}.prior_year_final", MONEY, c2=2, prompt="该项目上年决算数（万元）")
            b.formula(r, 3, f"{p}.basic.budget", f"={{{p}.funds.total.full}}", c2=4)
            b.formula(r, 5, f"{p}.basic.final", f"={{{p}.funds.total.executed}}", c2=6)
            b.hint(r, 7, f"{p}.hint.basic", f'="← 本年数取自{ref}"')
            members.append({"prior": f"{p}.prior_year_final", "budget": f"{p}.basic.budget", "final": f"{p}.basic.final"})
            r += 1
        for j in range(profile.projects.free_rows_per_category):
            k = f"basic.other.{ci}.{j}"
            b.input(r, 0, f"{k}.name", TEXT, prompt=f"无附件3 表的{cat}项目名称")
            for c, c2, f in cols3:
                b.input(r, c, f"{k}.{f}", MONEY, c2=c2, prompt=f"{cat}项目（万元）")
            members.append({f: f"{k}.{f}" for f in ("prior", "budget", "final")})
            sh.optional_rows.add(r)
            r += 1
        ck = f"basic.projects.cat{ci}"
        for c, c2, f in cols3:
            b.formula(cat_row, c, f"{ck}.{f}", "=" + _sum([m[f] for m in members]), c2=c2)
        b.label(cat_row, 0, cat_label, style="indent1")
        cat_keys.append(ck)
    b.label(total_row, 0, "项目支出：", style="label_left")
    for c, c2, f in cols3:
        b.formula(total_row, c, f"basic.projects.total.{f}", "=" + _sum([f"{k}.{f}" for k in cat_keys]), c2=c2)

    money_row(r, "公用经费", "basic.public_funds")
    money_row(r + 1, "其中：办公经费", "basic.office", "indent1")
    money_row(r + 2, "水费、电费、差旅费", "basic.utilities_travel", "indent2")
    money_row(r + 3, "会议费、培训费", "basic.meetings_training", "indent2")
    money_row(r + 4, "政府采购金额", "basic.procurement", fields=("budget", "final"))
    money_row(r + 5, "部门基本支出预算调整", "basic.basic_adjustment", fields=("budget", "final"))
    r += 6

    heads = ["批复规模\n（㎡）", "实际规模\n（㎡）", "规模控制率", "预算投资\n（万元）", "实际投资\n（万元）", "投资概算\n控制率"]
    b.label(r, 0, f"楼堂馆所控制情况\n（{y}年完工项目）", r2=r + 1, style="header")
    for c, t in enumerate(heads, start=1):
        b.label(r, c, t, style="header")
    sh.heights[r] = 32
    r += 1
    bk = "basic.buildings"
    b.input(r, 1, f"{bk}.approved_area", AREA, prompt="批复规模（㎡）")
    b.input(r, 2, f"{bk}.actual_area", AREA, prompt="实际规模（㎡）")
    b.formula(r, 3, f"{bk}.area_rate", rate_formula(f"{{{bk}.actual_area}}", f"{{{bk}.approved_area}}"), RATE)
    b.input(r, 4, f"{bk}.budget_investment", MONEY, prompt="预算投资（万元）")
    b.input(r, 5, f"{bk}.actual_investment", MONEY, prompt="实际投资（万元）")
    b.formula(r, 6, f"{bk}.investment_rate",
              rate_formula(f"{{{bk}.actual_investment}}", f"{{{bk}.budget_investment}}"), RATE)
    r += 1
    b.label(r, 0, "厉行节约保障措施", style="header")
    b.input(r, 1, "basic.frugality_measures", LONGTEXT, c2=6, prompt="厉行节约保障措施")
    sh.heights[r] = 120
    sh.table_rows = (2, r)
    r += 1
    if profile.forms.basic_data_note:
        b.label(r, 0, profile.forms.basic_data_note, c2=6, style="note")
        sh.heights[r] = 30
        r += 1
    # sign-off inputs: the official one-line footer, split into label/input pairs
    b.label(r, 0, "填表人：", style="footer_label")
    b.input(r, 1, "signoff.preparer", TEXT, c2=2, prompt="填表人姓名")
    b.label(r, 3, "填报日期：", style="footer_label")
    b.input(r, 4, "signoff.date", TEXT, c2=6, prompt="如 2024年6月27日")
    r += 1
    b.label(r, 0, "联系电话：", style="footer_label")
    b.input(r, 1, "signoff.phone", TEXT, c2=2, prompt="联系电话")
    b.label(r, 3, "单位负责人签字：", style="footer_label")
    b.input(r, 4, "signoff.head", TEXT, c2=6, prompt="单位负责人（打印后签字）")
    sh.repeat_rows = (0, 1)
    return sh


def _narrative_sheet(profile: Profile, shape: Shape) -> Sheet:
    sh = Sheet(NARRATIVE, "narrative", widths=[30, 90, 40], print_cols=2, landscape=False)
    b = _B(sh)
    b.label(0, 0, f"{shape.year}年度{shape.unit_name}整体支出绩效自评报告（正文）", c2=1, style="title")
    sh.heights[0] = 30
    b.label(1, 0, "部分", style="header")
    b.label(1, 1, "内容（可换行：Alt+Enter）", style="header")
    r = 2
    for sec in profile.report.sections:
        b.label(r, 0, sec.title + (f"\n（{sec.hint}）" if sec.hint else ""), style="label_left")
        b.input(r, 1, f"narrative.sections.{sec.key}", LONGTEXT, prompt=sec.hint[:250] or sec.title)
        sh.heights[r] = 150 if not sec.hint.startswith("没有") else 40
        r += 1
    r += 1
    b.label(r, 0, "报告第二部分引用的数字（万元）", c2=1, style="header")
    r += 1
    rows = [
        ("基本支出（取自附件2）", "narrative.basic_expense", "={overall.expense_basic}"),
        ("其中：人员经费", None, None),
        ("其中：公用经费（基本支出 − 人员经费）", "narrative.public_expense",
         '=IF(COUNT({overall.expense_basic},{narrative.personnel_expense})=2,{overall.expense_basic}-{narrative.personnel_expense},"")'),
        ("项目支出（取自附件1）", "narrative.project_expense", "={basic.projects.total.final}"),
        ("支出合计", "narrative.total_expense", "={overall.executed}"),
    ]
    for lbl, key, f in rows:
        b.label(r, 0, lbl, style="label_left")
        if key is None:
            b.input(r, 1, "narrative.personnel_expense", MONEY, prompt="人员经费本年决算数（万元）")
        else:
            b.formula(r, 1, key, f)
        r += 1
    b.hint(r - 4, 2, "narrative.hint.personnel",
           '=IF(AND(ISNUMBER({narrative.personnel_expense}),N({overall.expense_basic})>0,'
           '{narrative.personnel_expense}>{overall.expense_basic}),"人员经费大于基本支出，请核实","")')
    sh.repeat_rows = (0, 1)
    return sh


def _guide_sheet(profile: Profile, shape: Shape) -> Sheet:
    sh = Sheet(GUIDE, "guide", widths=[16, 100], print_cols=2, landscape=False)
    b = _B(sh)
    b.label(0, 0, f"{shape.year}年度部门整体支出绩效自评 填表说明", c2=1, style="title")
    sh.heights[0] = 30
    lines = [
        ("单位", f"{shape.unit_code} {shape.unit_name}"),
        ("适用规则", f"{profile.profile.name}（{profile.id}）"),
        ("图例", "浅黄色单元格：请填写"),
        ("", "灰色单元格：自动计算，已锁定，无需也不能修改"),
        ("", "红色底纹：数据有误（如得分超过分值、分值合计不符）；橙/黄色底纹：请核实或补充说明"),
        ("", "表格右侧红字（不打印）：即时校验提示"),
        ("填写顺序", "① 附件3：每个一级项目一张表（名册之外的项目请用空白的备用表）；"
                   "② 附件1：人员、三公经费、公用经费等，项目行的本年预算数/决算数自动取自附件3；"
                   "③ 附件2：部门整体预算、收入性质、基本支出和绩效指标；④ 报告正文：各部分文字和人员经费。"),
        ("金额", "单位均为万元，只填数字，例如 103.86；不要输入“万元”、逗号或空格。"),
        ("执行率", _exec_rule(profile)),
        ("分值", "一级指标分值：" + "；".join(f"{l1.name} {num(l1.weight)} 分" for l1 in profile.level1)
         + (f"；预算执行率 {num(profile.scoring.execution_weight)} 分" if profile.scoring.execution_scored else "")
         + f"；合计 {num(profile.scoring.total)} 分。"),
        ("得分", "得分在 0 与本行分值之间；未得满分的，必须填写偏差原因分析及改进措施。"
                 "实际完成值请写实际数（如 98%），不要照抄指标值或带 ≥、≤ 符号。"),
        ("评价等次", "；".join(f"{g.name}：{num(g.min)} 分及以上" if g.min > 0 else f"{g.name}：低于 {num(profile.grades[-2].min)} 分"
                          for g in profile.grades)),
        ("无附件3 的项目", "在附件1 相应类别下的空白行填写项目名称和金额。"),
        ("保护", "各表已保护（无密码），仅为防止误改公式；请勿删除、插入行列或重命名工作表。"),
    ]
    r = 2
    for k, v in lines:
        b.label(r, 0, k, style="label_left")
        style = {"浅黄色单元格：请填写": "legend_input", "灰色单元格：自动计算，已锁定，无需也不能修改": "legend_formula"}.get(v, "label_left")
        if v.startswith("红色底纹"):
            style = "legend_error"
        elif v.startswith("表格右侧红字"):
            style = "legend_hint"
        b.label(r, 1, v, style=style)
        sh.heights[r] = 20 if len(v) < 60 else 36 * (1 + len(v) // 120)
        r += 1
    return sh


def _exec_rule(profile: Profile) -> str:
    s = profile.scoring
    rounding = ("执行率先四舍五入到" + ("整数百分比" if s.execution_rate_percent_decimals == 0
                                      else f"{s.execution_rate_percent_decimals} 位小数的百分比") + "，再") \
        if s.execution_rate_percent_decimals >= 0 else ""
    if not s.execution_scored:
        return "执行率 = 全年执行数 ÷ 全年预算数，只显示、不计分。"
    return (f"执行率 = 全年执行数 ÷ 全年预算数；{rounding}按 分值 × 执行率（最高 100%）计分，"
            f"即 {num(s.execution_weight)} 分 × 执行率。超过 100% 的为超预算执行，会被提示。")


# Placeholders for the unit's code and name in the labels of shared sheets. Sheets are built
# once per (profile, year[, project index | project shape]) and shared by every unit of a
# batch; a unit's layout swaps the placeholders in its few personal labels (Layout.__init__).
# Compiling each unit afresh was a third of the time of checking a workbook. Private-use
# characters cannot come from a roster.
UNIT_CODE = "\ue000unit_code\ue001"
UNIT_NAME = "\ue000unit_name\ue001"


def _structural(year: int, project_categories: tuple[str | None, ...] = ()) -> Shape:
    return Shape(year=year, unit_code=UNIT_CODE, unit_name=UNIT_NAME, project_categories=project_categories)


@lru_cache(maxsize=64)
def _common_sheets(profile: Profile, year: int) -> tuple[Sheet, Sheet, Sheet]:
    shape = _structural(year)
    return _guide_sheet(profile, shape), _overall_sheet(profile, shape), _narrative_sheet(profile, shape)


@lru_cache(maxsize=256)
def _project_sheet_shared(profile: Profile, year: int, i: int) -> Sheet:
    return _project_sheet(profile, _structural(year), i)


@lru_cache(maxsize=128)
def _basic_sheet_shared(profile: Profile, year: int, project_categories: tuple[str | None, ...]) -> Sheet:
    return _basic_sheet(profile, _structural(year, project_categories))


@lru_cache(maxsize=4)  # reading, checking and reporting one unit ask for the same layout in turn
def compile_layout(profile: Profile, shape: Shape) -> Layout:
    """The unit's layout, assembled from shared sheets (cells are never mutated after building)."""
    guide, overall, narrative = _common_sheets(profile, shape.year)
    cats = tuple(shape.project_categories)
    sheets = [guide, _basic_sheet_shared(profile, shape.year, cats), overall]
    sheets += [_project_sheet_shared(profile, shape.year, i) for i in range(len(cats))]
    sheets.append(narrative)
    return Layout(profile, shape, sheets)


def level1_of(profile: Profile, level2_key: str) -> Level1:
    for l1 in profile.level1:
        if any(l2.key == level2_key for l2 in l1.level2):
            return l1
    raise KeyError(level2_key)
