"""The compiled form: ``Sheet`` objects whose ``Cell`` entries say what sits where.

A ``Layout`` (built by ``forms.layout.compile_layout``) is the one description every part
walks; nothing about cell addresses lives anywhere else:

* ``xlsx.write`` walks the cells to draw the workbook (values from ``forms.binding.flatten``);
* ``xlsx.read`` walks the same cells to read the inputs back (``forms.binding.unflatten``);
* ``forms.recompute`` evaluates every formula cell's own formula in Python; a LibreOffice
  test holds the two equal.

Formulas are written as templates that name other cells by key, ``=SUM({a},{b})``, and are
resolved to A1 references (across sheets where needed) once every cell is placed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Callable

from ..core.flags import SheetCell, column_letters
from ..core.region import Profile
from .keys import Key

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
# a typed percentage (得分系数, 完成率): stored as the fraction Excel keeps for 95 %, shown 0.00%
PERCENT = "percent"
NUMERIC = {MONEY, INT, AREA, WEIGHT, SCORE, RATE, PERCENT}
# a date a clerk fills (填报日期): the model keeps it as ISO text (2024-03-05), the workbook as a
# real date (a serial number shown 2024年3月5日), the report prints 2024年3月5日
DATE = "date"


@dataclass(frozen=True)
class Shape:
    """What varies between units of one profile: the year, the unit and its projects."""

    year: int
    unit_code: str
    unit_name: str
    competent_dept: str = ""
    # one entry per 附件3 sheet: the project's 附件1 category, or None for a spare sheet
    project_categories: tuple[str | None, ...] = ()


# how far a figure a returned workbook states may sit from the recompute (``checks.check_stated``):
# money and rate tolerances come from the region's [scoring]; exact = equal (text, grades)
TOLERANCES = ("money", "rate", "score", "exact")
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class CellCheck:
    """What a derived cell raises when a returned workbook states another value than the
    recompute: declared beside its formula (``[block.checks]``) or by the building block that
    draws it (execution cells, totals, 附件1's project rows)."""

    code: str  # ``SUM-101``: stable, so coordinators can filter and count
    message: str  # what must hold, in the clerk's words (the stated and recomputed figures follow)
    severity: str = "error"  # error | warning | info
    tolerance: str = "money"  # money | rate | score | exact
    # hint cells whose warning ``check`` reports (a region's [[checks]], a [block.warn] table):
    # the key of the cell the flag points at, and the keys whose figures the flag quotes
    at: str = ""
    keys: tuple[str, ...] = ()


# a rate cell's style by the decimals of a percent it shows: "f_rate" (0.00%) unless a region rounds its
# execution rate to other places (``Scoring.rate_places``: 岳阳 shows 99%); the workbook's number format
# (``xlsx.reference.STYLES``) and the report's tables (``percent_places``) read the same style
RATE_STYLES = {0: "f_rate0", 1: "f_rate1", 2: "f_rate", 3: "f_rate3", 4: "f_rate4"}


def rate_style(places: int) -> str:
    return RATE_STYLES[places]


def percent_places(cell: "Cell") -> int:
    """Decimals of a percent a rate or percent cell shows (two unless its style says otherwise)."""
    return next((p for p, style in RATE_STYLES.items() if style == cell.style), 2)


def tolerance_for(vtype: str) -> str:
    """The tolerance kind a derived cell's value type implies (its check when none is declared)."""
    if vtype in (RATE, PERCENT):
        return "rate"
    if vtype in (SCORE, WEIGHT):
        return "score"
    if vtype in (MONEY, INT, AREA):
        return "money"
    return "exact"


def default_check(vtype: str) -> CellCheck:
    """The check of a formula cell that declares none: the figure must still be the recompute."""
    return CellCheck("CALC-101", "计算格的数字与按录入数据重算的结果不同", "error", tolerance_for(vtype))


@dataclass
class Cell:
    r: int
    c: int
    kind: str  # label | input | formula | hint
    text: str | float | None = None  # label text (or a fixed number) for labels
    key: Key | None = None  # model key (input) or derived key (formula/hint), parsed once (``keys.Key``)
    vtype: str = TEXT
    formula: str | None = None  # template with {key} references, resolved in Layout
    merge: tuple[int, int] | None = None  # (last row, last col) when merged
    style: str = "label"
    prompt: str | None = None  # input message shown by the data validation
    # a drop-down list; the spreadsheet accepts other text either way. ``choices_strict``: the
    # options are the only right values (a region's [block.choices], 是否核心指标) — ``check``
    # flags another value at the cell; otherwise they are suggestions (偏差原因: 无 / 无偏差),
    # and free text is never flagged
    choices: tuple[str, ...] = ()
    choices_strict: bool = False
    check: CellCheck | None = None  # formula cells: what a stated other value raises (None: default_check)

    def __post_init__(self):
        # the one place a cell's key becomes typed: every block that draws a cell comes through here
        if self.key is not None and type(self.key) is not Key:
            self.key = Key(self.key)


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
    # for the Word report: the official tables' rows (first, last) — a sheet may print several, with
    # lines between them — the rows dropped when blank, and whether the tables print in the body
    tables: tuple[tuple[int, int], ...] = ()
    in_body: bool = False
    # for print: groups of spare rows (indicator slots of one 二级, 附件1 free lines of one category),
    # each with how many stay visible when blank; and the header row to repeat on every page
    slot_groups: list[tuple[tuple[int, ...], int]] = field(default_factory=list)
    header_row: int | None = None
    optional_rows: set[int] = field(default_factory=set)

    # caches: the sheet is shared by every unit's layout and never mutated after building
    rendered: dict[int, str] = field(default_factory=dict, repr=False, compare=False)
    _index: dict | None = field(default=None, repr=False, compare=False)
    _personal: list[int] | None = field(default=None, repr=False, compare=False)
    _digest: str | None = field(default=None, repr=False, compare=False)
    _n_rows: tuple[int, int] | None = field(default=None, repr=False, compare=False)  # (len(cells), rows)
    _by_kind: dict | None = field(default=None, repr=False, compare=False)  # (len(cells), {kinds: cells})
    # for a personalised copy: the shared sheet it was made from (same structure, other label text)
    origin: "Sheet | None" = field(default=None, repr=False, compare=False)

    def index(self) -> dict[Key, tuple["Sheet", Cell]]:
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
        return replace(self, cells=cells, _index=None, _by_kind=None, _personal=[], _digest=self.digest(), origin=self)

    def digest(self) -> str:
        """Every cell's position, kind, key, label text or formula template and merge."""
        if self._digest is None:
            parts = [self.name]
            for cell in self.cells:
                content = cell.key if cell.kind == "input" else (cell.formula if cell.formula else cell.text)
                parts.append(f"{cell.r}\x1f{cell.c}\x1f{cell.kind}\x1f{cell.key}\x1f{content}\x1f{cell.merge}")
            self._digest = hashlib.sha256("\x1e".join(parts).encode()).hexdigest()
        return self._digest

    def cells_of(self, kinds: tuple[str, ...]) -> list[Cell]:
        """The cells of these kinds, in order; remembered (the reader and the checks walk a shared
        sheet's inputs for every unit). Building only appends cells, so the count tells whether
        the memo holds."""
        memo = self._by_kind
        if memo is None or memo[0] != len(self.cells):
            memo = self._by_kind = (len(self.cells), {})
        found = memo[1].get(kinds)
        if found is None:
            found = memo[1][kinds] = [c for c in self.cells if c.kind in kinds]
        return found

    def _remembered(self, name: str, build: Callable[[], list]) -> list:
        """``build()`` kept beside ``cells_of``'s memo (dropped with it when cells are added)."""
        self.cells_of(_INPUT)  # makes the memo current
        memo = self._by_kind[1]
        found = memo.get(name)
        if found is None:
            found = memo[name] = build()
        return found

    def labels_in_order(self) -> list[Cell]:
        """The sheet's printed label cells with text, by row then column, remembered: the reader
        compares them with every returned workbook (moved rows)."""
        return self._remembered("labels", lambda: sorted(
            (c for c in self.cells if c.kind == "label" and isinstance(c.text, str) and c.text.strip()),
            key=lambda c: (c.r, c.c)))

    def computed_slots(self) -> list:
        """The indicator slots (``Slot``) whose cell here is a formula — a scorecard's printed
        分值, a declared 得分 formula — remembered on the shared sheet (the checks ask for every unit)."""
        base = self.origin or self
        return base._remembered("slots", lambda: [cell.key.slot for cell in base.cells_of(("formula",))
                                                  if cell.key is not None and cell.key.slot])

    def input_keys_by_row(self) -> dict[int, list]:
        """The keys of the sheet's inputs by row, kept on the shared sheet (the same for every
        unit): print setup hides blank spare rows by them, the report drops blank optional rows."""
        base = self.origin or self
        found = base.__dict__.get("_input_keys_by_row")
        if found is None:
            found = {}
            for cell in base.cells_of(("input",)):
                found.setdefault(cell.r, []).append(cell.key)
            base.__dict__["_input_keys_by_row"] = found
        return found

    @property
    def n_rows(self) -> int:
        """Rows down to the last cell or merge; remembered, since print setup asks once per row.

        Building only appends cells, so the count of cells tells whether the memo still holds.
        """
        memo = self._n_rows
        if memo is None or memo[0] != len(self.cells):
            memo = self._n_rows = (len(self.cells),
                                   max((c.merge[0] if c.merge else c.r) for c in self.cells) + 1)
        return memo[1]


_INPUT = ("input",)
_DERIVED = ("formula", "hint")


@lru_cache(maxsize=None)
def col_letter(c: int) -> str:
    """The letters of a 0-based column (the layout counts from 0; Excel and ``SheetCell`` from 1)."""
    return column_letters(c + 1)


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


# Formulas that refer to other sheets, rendered once per workbook structure (the digests of its
# sheets in order) and shared by every unit's layout of that structure, by (sheet name, row, col).
_CROSS_SHEET: dict[tuple[str, ...], dict[tuple[str, int, int], str]] = {}


class Layout:
    """All sheets of one workbook, with a key → (sheet, row, col) index."""

    def __init__(self, profile: Profile, shape: Shape, sheets: list[Sheet]):
        self.profile = profile
        self.shape = shape
        self._fingerprint: str | None = None
        subs = ((UNIT_CODE, shape.unit_code), (UNIT_NAME, shape.unit_name))
        self.sheets = [sh.personalised(subs) for sh in sheets]
        structure = tuple(sh.digest() for sh in self.sheets)
        rendered = _CROSS_SHEET.get(structure)
        if rendered is None:
            if len(_CROSS_SHEET) >= 64:
                _CROSS_SHEET.pop(next(iter(_CROSS_SHEET)))
            rendered = _CROSS_SHEET[structure] = {}
        self._rendered = rendered
        self.where: dict[Key, tuple[Sheet, Cell]] = {}
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

    def at(self, key: str, default: str | None = None) -> SheetCell | str:
        """Where a key's cell is, typed (what a flag carries); ``default`` for a key no cell of
        this layout holds (a figure the region does not print), else KeyError."""
        if default is not None and key not in self.where:
            return default
        sh, cell = self.where[key]
        return SheetCell(sh.name, cell.r + 1, cell.c + 1)

    def location(self, key: str, default: str | None = None) -> str:
        """User-facing location such as 附件3(2)!H14 (for a message's text; a flag carries ``at``)."""
        return str(self.at(key, default))

    def render(self, template: str, sheet_name: str) -> str:
        return _REF.sub(lambda m: self.ref(m.group(1), sheet_name), template)

    def formula_of(self, sh: "Sheet", cell: "Cell") -> str:
        """The A1 formula of a formula/hint cell.

        A formula that refers only to its own sheet is the same in every layout sharing that
        sheet, so it is rendered once and kept on the sheet; others once per workbook structure.
        """
        f = sh.rendered.get(id(cell)) or self._rendered.get((sh.name, cell.r, cell.c))
        if f is None:
            local = True

            def ref(m: re.Match) -> str:
                nonlocal local
                local = local and self.where[m.group(1)][0].name == sh.name
                return self.ref(m.group(1), sh.name)

            f = _REF.sub(ref, cell.formula)
            if _NEEDS_PREFIX.search(f):  # the writers skip XlsxWriter's _xlfn expansion: keep that safe
                raise AssertionError(f"formula uses a function that needs a _xlfn. prefix: {f}")
            if local:
                sh.rendered[id(cell)] = f
            else:
                self._rendered[(sh.name, cell.r, cell.c)] = f
        return f

    def inputs(self):
        # a personalised sheet's inputs and formulas are its shared sheet's cells (only labels differ)
        for sh in self.sheets:
            for cell in (sh.origin or sh).cells_of(_INPUT):
                yield sh, cell

    def formulas(self):
        for sh in self.sheets:
            for cell in (sh.origin or sh).cells_of(_DERIVED):
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

    def input(self, r, c, key, vtype=TEXT, r2=None, c2=None, prompt=None, choices=(), strict=False):
        style = {TEXT: "in_text", LONGTEXT: "in_long", MONEY: "in_money", INT: "in_int", AREA: "in_num",
                 WEIGHT: "in_num", SCORE: "in_num", PERCENT: "in_pct", DATE: "in_date"}[vtype]
        self.sh.cells.append(Cell(r, c, "input", key=key, vtype=vtype, merge=_m(r, c, r2, c2), style=style, prompt=prompt,
                                  choices=tuple(choices), choices_strict=strict and bool(choices)))

    def formula(self, r, c, key, formula, vtype=MONEY, r2=None, c2=None, style=None, check=None):
        style = style or {MONEY: "f_money", RATE: "f_rate", SCORE: "f_num", WEIGHT: "f_num", TEXT: "f_text",
                          GRADE: "f_text"}[vtype]
        self.sh.cells.append(Cell(r, c, "formula", key=key, vtype=vtype, formula=formula, merge=_m(r, c, r2, c2), style=style,
                                  check=check))

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




# Placeholders for the unit's code and name in the labels of shared sheets. Sheets are built
# once per (profile, year[, project index | project shape]) and shared by every unit of a
# batch; a unit's layout swaps the placeholders in its few personal labels (Layout.__init__).
# Compiling each unit afresh was a third of the time of checking a workbook. Private-use
# characters cannot come from a roster.
UNIT_CODE = "\ue000unit_code\ue001"
UNIT_NAME = "\ue000unit_name\ue001"
