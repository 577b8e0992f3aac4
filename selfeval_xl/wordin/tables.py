"""A report's Word tables matched to the region's forms by their labels (issue #19).

The compiled layout (``forms.layout``) says which label sits beside which key — the same
declarations the writer draws the workbook from. A report's tables are those forms typed
into Word, and typed loosely: merged cells repeat their text in every grid cell, a row is
split over two tables at a page break, indicator hierarchies lose their merged 一级/二级
cells, blank rows are added or left out, and “其中：基本支出：462.88” puts the label and its
figure in one cell. So nothing here is positional:

* the rows of all tables are one stream (a table continues where the last one stopped,
  until a label that only another form has — or a repeated one, for the next 附件3 — starts
  the next form, and a form ends at its total row);
* a labelled row reads the figures to the right of its label, in the layout's key order,
  skipping the label's own repeats and stopping at the next label;
* an indicator row is recognised by its 一级/二级 names (the region's levels) wherever they
  stand, and the remaining cells are read in the layout's column order (名称, 指标值, …).

Each figure keeps the cell it came from (``报告!表3 R5C2``) and the paragraph a comment
anchors at, and is read with the reader's number rules (``core.numbers.parse_number``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from ..core.numbers import parse_number
from ..forms.cells import NUMERIC, RATE, SCORE, WEIGHT, Cell, Shape, Sheet
from ..core.flags import ReportPlace
from ..forms import keys
from ..forms.keys import Key
from .model import WordReport

_DROP = re.compile(r"[\s/／:：()（）、，,。.．;；\-—_\"“”]+")
_POINTS = re.compile(r"[（(]\s*(\d+(?:\.\d+)?)\s*分\s*[)）]")
_LEVEL_WORDS = re.compile(r"(?:指标|目标)$")
ROLES = ("basic", "overall", "project")
_TITLES = {"basic": "基础数据表", "overall": "部门整体支出绩效自评表", "project": "项目支出绩效自评表"}
# a stray short paragraph between two tables (a split cell's tail: “（30分）”) is carried back
_CARRIED = 16
_TARGET = re.compile(r"^(?:[≥≤≧≦=<>＝＞＜]\s*\d|\d+(?:\.\d+)?\s*(?:%|万元|元|个|次|件|项|人|天|家|本|m2)?$)")


def core(s: str) -> str:
    """A label's words: width-normalised, no spaces, line breaks, slashes or punctuation."""
    return _DROP.sub("", unicodedata.normalize("NFKC", s or ""))


def level_core(s: str) -> str:
    """A 一级/二级 name's words without its printed weight and its 指标/目标 ending."""
    return _LEVEL_WORDS.sub("", core(_POINTS.sub("", unicodedata.normalize("NFKC", s or ""))))


def printed_points(s: str) -> float | None:
    m = _POINTS.search(unicodedata.normalize("NFKC", s or ""))
    return float(m[1]) if m else None


@dataclass
class Figure:
    """One value read from a table cell, with its place."""

    key: str
    raw: str
    value: object  # float, str, or None (blank or unreadable)
    ok: bool  # False: a number was expected and the text is not one
    table: int
    row: int
    col: int
    para: int | None = None  # the paragraph a comment on this cell anchors at
    page: int | None = None  # PDF only

    @property
    def where(self) -> ReportPlace:
        """The cell's typed place (shown 报告!表3 R5C2); its paragraph is where a comment anchors."""
        return ReportPlace(paragraph=self.para, table=self.table, row=self.row, col=self.col, page=self.page)

@dataclass
class Printed:
    """A 一级 heading that prints its weight (“效益指标（30分）”) and the rows found under it."""

    key: str
    name: str
    points: float
    place: Figure
    weights: list[Figure] = field(default_factory=list)
    scores: list[Figure] = field(default_factory=list)  # a table without a 分值 column: capped by ``points``


@dataclass
class MatchedForm:
    role: str  # overall | project
    index: int  # the n-th form of this role in the report (0-based)
    sheet: Sheet  # the compiled sheet the form was matched to
    figures: dict[str, Figure] = field(default_factory=dict)
    printed: list[Printed] = field(default_factory=list)
    tables: list[int] = field(default_factory=list)

    @property
    def title(self) -> str:
        name = self.figures.get(next((k for k in self.figures if Key(k).name == "name" and Key(k).slot is None), ""), None)
        what = _TITLES.get(self.role, self.sheet.name)
        if self.role == "project" and name and isinstance(name.value, str) and name.value:
            return f"{what}（{name.value}）"
        return what

    def value(self, key: str):
        f = self.figures.get(key)
        return f.value if f is not None else None


# -- what the layout says -----------------------------------------------------------------------------

@dataclass
class _Pattern:
    label: str  # core
    keys: list[Cell | None]  # value cells to the right, in column order (None: a printed constant)


@dataclass
class _FormSpec:
    role: str
    sheet: Sheet
    which: str  # profile.levels(which)
    patterns: list[_Pattern]
    labels: set[str]  # every label core of the sheet
    total_labels: set[str]  # the labels of the row that ends the form
    slot_prefix: str  # whose slots: overall / projects[0] (``Slot.prefix``)
    slot_fields: list[str]  # the indicator row's fields in column order
    slot_cells: dict[str, Cell]
    levels: list  # [(Level1, Level2)]


def _spec(sheet: Sheet, profile) -> _FormSpec:
    rows: dict[int, list[Cell]] = {}
    for c in sheet.cells:
        if c.kind == "hint" or (sheet.print_cols and c.c >= sheet.print_cols):
            continue
        rows.setdefault(c.r, []).append(c)
    patterns: list[_Pattern] = []
    labels: set[str] = set()
    slot_cells: dict[str, Cell] = {}
    slot_fields: list[str] = []
    slot_prefix = ""
    total_labels: set[str] = set()
    for r in sorted(rows):
        cells = sorted(rows[r], key=lambda c: c.c)
        slots = [c for c in cells if c.key and c.key.slot]
        for c in slots:
            slot_cells[c.key] = c
        if slots:
            if not slot_fields:
                slot_fields = [c.key.slot.field for c in slots]
                slot_prefix = slots[0].key.slot.prefix
            continue
        current: _Pattern | None = None
        for c in cells:
            if c.kind == "label":
                text = str(c.text if c.text is not None else "")
                if "\ue000" in text:  # a unit's own words (its name): a value, not a label
                    if current is not None:
                        current.keys.append(None)
                    continue
                k = core(text)
                if not k:
                    if text.strip() and current is not None:  # a printed “——” holds its column
                        current.keys.append(None)
                    continue
                if parse_number(text, "score").value is not None:  # a printed constant (分值 10)
                    if current is not None:
                        current.keys.append(None)
                    continue
                labels.add(k)
                current = _Pattern(k, [])
                patterns.append(current)
            elif c.kind in ("input", "formula") and current is not None:
                current.keys.append(c)
        if any(c.key and c.key.name == keys.TOTAL_SCORE for c in cells):
            total_labels |= {core(str(c.text)) for c in cells if c.kind == "label" and core(str(c.text or ""))}
    which = "overall" if sheet.role == "overall" else "project"
    levels = list(profile.level2_all(which))
    return _FormSpec(sheet.role, sheet, which, [p for p in patterns if p.keys], labels, total_labels,
                     slot_prefix, slot_fields, slot_cells, levels)


@lru_cache(maxsize=32)
def _specs(profile, year: int) -> tuple[_FormSpec, ...]:
    from ..forms.layout import compile_layout

    layout = compile_layout(profile, Shape(year=year, unit_code="", unit_name="", project_categories=(None,)))
    out, seen = [], set()
    for sh in layout.sheets:
        if sh.role in ROLES and sh.role not in seen:
            seen.add(sh.role)
            out.append(_spec(sh, profile))
    return tuple(out)


def _own_labels(specs: tuple[_FormSpec, ...]) -> dict[str, set[str]]:
    """Each form's labels that no other form has: where a form starts."""
    out = {}
    for s in specs:
        others = set().union(*(o.labels for o in specs if o is not s)) if len(specs) > 1 else set()
        own = s.labels - others - s.total_labels
        # a 一级/二级 name or a column heading is never a start
        out[s.role] = {k for k in own if len(k) >= 4}
    return out


# -- reading ------------------------------------------------------------------------------------------

@dataclass
class _Row:
    table: int
    row: int
    cells: list[str]
    page: int | None = None


def _rows(rep: WordReport) -> list[_Row]:
    """Every table row in document order; a short paragraph between two tables (the tail of a
    cell split at a page break, “（30分）”) is put back into the merged heading it belongs to."""
    out: list[_Row] = []
    grids = {g.index: g for g in rep.grids}
    between: dict[int, list[str]] = {}
    last_table = None
    for p in rep.paras:
        if p.table is not None:
            last_table = p.table
        elif last_table is not None and p.text.strip():
            between.setdefault(last_table, []).append(p.text.strip())
    for g in rep.grids:
        for r, cells in enumerate(g.rows, 1):
            out.append(_Row(g.index, r, list(cells), g.page))
        tail = between.get(g.index, [])
        nxt = grids.get(g.index + 1)
        if out and nxt is not None and tail and len(tail) <= 2 and all(len(t) <= _CARRIED for t in tail):
            last = out[-1]
            filled = [c for c in last.cells if c.strip()]
            if filled and len(set(filled)) == 1:  # a merged heading across the row
                last.cells = [c + "".join(tail) if c.strip() else c for c in last.cells]
    return out


def _para_map(rep: WordReport) -> dict[tuple[int, int, int], int]:
    out: dict[tuple[int, int, int], int] = {}
    for p in rep.paras:
        if p.table is not None:
            out.setdefault((p.table, p.row, p.col), p.index)
    return out


_TRAILING = re.compile(r"(\d[\d,，]*(?:[.．]\d+)?)\s*(?:万元|分|%)?\s*$")


def _inline(raw: str) -> str | None:
    """The figure written after a label in the same cell (“项目支出：588.43” → 588.43)."""
    t = unicodedata.normalize("NFKC", raw or "").strip()
    m = _TRAILING.search(t)
    if not m or not re.search(r"[\u4e00-\u9fff]", t[: m.start()]):
        return None
    return m[1]


def read_typed(raw: str, vtype: str) -> tuple[object, bool]:
    """A cell's text as the reader would take it: numbers by ``parse_number`` (full-width
    digits, 万元/分 endings, stray spaces); a rate as 100% or 1 or 100 (a rate above 1.5 is a
    percentage typed without its sign); a score or weight with a leading zero (“00”) is not a
    number — it is what is left of 100 when a digit is lost, and reading it as 0 would hide that."""
    text = unicodedata.normalize("NFKC", raw or "").replace("\u3000", " ").strip()
    if vtype not in NUMERIC:
        return text, True
    if not text:
        return None, True
    if vtype == RATE:
        t = text.replace(" ", "")
        pct = t.endswith("%")
        p = parse_number(t[:-1] if pct else t, "money")
        if p.value is None:
            return None, p.ok
        v = p.value / 100 if pct or p.value > 1.5 else p.value
        return v, True
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    if len(lines) > 1 and re.search(r"附件|表", " ".join(lines[1:])):
        text = lines[0]  # the next table's title run into the cell at a page break
    t = text.replace(" ", "")
    if vtype in (SCORE, WEIGHT) and re.fullmatch(r"0\d+(?:\.\d+)?", t):
        return None, False
    p = parse_number(text, vtype)
    return p.value, p.ok


class _Reader:
    def __init__(self, rep: WordReport, specs: tuple[_FormSpec, ...]):
        self.rep, self.specs = rep, specs
        self.paras = _para_map(rep)
        self.own = _own_labels(specs)
        self.forms: list[MatchedForm] = []
        self.count = {s.role: 0 for s in specs}

    def figure(self, cell: Cell, text: str, row: _Row, col: int, key: str | None = None) -> Figure:
        value, ok = read_typed(text, cell.vtype)
        para = None
        for c in range(col, 0, -1):  # a merged cell's paragraphs stand at its first grid cell
            para = self.paras.get((row.table, row.row, c))
            if para:
                break
        return Figure(key or cell.key, text.strip(), value, ok, row.table, row.row, col, para, row.page)

    def run(self) -> list[MatchedForm]:
        spec: _FormSpec | None = None
        form: MatchedForm | None = None
        seen: set[str] = set()
        state: dict = {}
        for row in _rows(self.rep):
            cores = [core(c) for c in row.cells]
            done = False
            if spec is not None and any(k in spec.total_labels for k in cores if k):
                done = True
                # the total row ends the indicators (a next form's title glued to it waits for it)
                self._labelled(spec, form, row, cores)
                state["zone"] = False
                state["closed"] = True
            # a label starts a form where it is written, not where a merged cell repeats it: a
            # 项目资金（万元） merged down four rows is one label, not four project tables
            written = [k if not self.merged(row, i + 1) and (row.table, row.row, i + 1) in self.paras else ""
                       for i, k in enumerate(cores)]
            starts = [s for s in self.specs if any(k in self.own[s.role] for k in written)]
            if starts:
                s = starts[0]
                hit = {k for k in written if k in self.own[s.role]}
                if spec is not s or (hit & seen):
                    spec, seen, state = s, set(), {"l1": None, "zone": False, "slots": {}, "closed": False}
                    form = MatchedForm(s.role, self.count[s.role], s.sheet)
                    self.count[s.role] += 1
                    self.forms.append(form)
                seen |= hit
            if spec is None or form is None or done:
                continue
            if row.table not in form.tables:
                form.tables.append(row.table)
            if state.get("closed"):
                if not any(k in spec.total_labels for k in cores if k):
                    self._labelled(spec, form, row, cores)  # 评价等次 and the like, after the total
                continue
            if self._labelled(spec, form, row, cores):
                continue
            if any(k in ("一级指标", "二级指标", "三级指标") for k in cores):
                state["zone"] = True
                continue
            if state["zone"]:
                self._indicator(spec, form, row, cores, state)
        return self.forms

    def merged(self, row: _Row, col: int) -> bool:
        """Whether grid cell ``col`` (1-based) continues a merged cell to its left or above: a
        merged cell's paragraphs stand at its first grid cell only."""
        return (row.table, row.row, col) not in self.paras and col > 1

    def _prefix(self, form: MatchedForm, key: Key) -> Key:
        return key.in_project(form.index) if form.role == "project" else key

    def _labelled(self, spec: _FormSpec, form: MatchedForm, row: _Row, cores: list[str]) -> bool:
        """Read every pattern whose label is in the row; True when one was."""
        found = False
        by_label = {p.label: p for p in spec.patterns}
        i = 0
        while i < len(cores):
            k = cores[i]
            pat = by_label.get(k)
            inline = ""
            if pat is None and k:
                # “其中：基本支出：462.88” — a label and its figure in one cell
                for p in spec.patterns:
                    if k.startswith(p.label) and len(k) > len(p.label):
                        rest = _inline(row.cells[i])
                        if rest is not None and core(rest) == k[len(p.label):]:
                            pat, inline = p, rest
                            break
            if pat is None:
                i += 1
                continue
            found = True
            vals: list[tuple[str, int]] = []
            if inline:
                vals.append((inline, i + 1))
            j = i + 1
            while j < len(cores) and cores[j] == k:  # the label's own merged repeats
                j += 1
            spanned = False
            while j < len(cores) and len(vals) < len(pat.keys):
                if cores[j] in spec.labels or (_inline(row.cells[j]) is not None and any(
                        cores[j].startswith(p.label) for p in spec.patterns)):
                    break
                if self.merged(row, j + 1) and j > i + 1 and row.cells[j] == row.cells[j - 1]:
                    spanned = True  # one merged cell over several of the layout's columns
                    j += 1
                    continue
                vals.append((row.cells[j], j + 1))
                j += 1
            cells = pat.keys
            if spanned and len(vals) == 1 and any(c is not None and c.key.name == keys.TOTAL_SCORE for c in cells):
                # “绩效自评综合得分 | 96” printed across the row: the figure is the total score
                cells = [c for c in cells if c is not None and c.key.name == keys.TOTAL_SCORE]
            for cell, (text, col) in zip(cells, vals):
                if cell is None:
                    continue
                key = self._prefix(form, cell.key)
                if key not in form.figures or (form.figures[key].value in (None, "") and text.strip()):
                    form.figures[key] = self.figure(cell, text, row, col, key)
            i = j if j > i else i + 1
        return found

    def _indicator(self, spec: _FormSpec, form: MatchedForm, row: _Row, cores: list[str], state: dict) -> None:
        l1s = {level_core(l1.name): l1 for l1, _ in spec.levels}
        l2s = {level_core(l2.name): (l1, l2) for l1, l2 in spec.levels}
        data_at = None
        l2 = None
        level_text = set()
        for i, raw in enumerate(row.cells):
            k = cores[i]
            if not k or raw in level_text:
                continue
            lk = level_core(raw)
            nxt = unicodedata.normalize("NFKC", row.cells[i + 1]).strip() if i + 1 < len(row.cells) else ""
            if _TARGET.match(nxt.replace(" ", "")):
                lk = ""  # followed by its target (≥98%): a 三级 name that repeats a level's words (社会满意度)
            if lk in l2s:
                l1, l2 = l2s[lk]
                if state["l1"] is None or state["l1"][0].key != l1.key:
                    state["l1"] = (l1, None)
                level_text.add(raw)
                continue
            if lk in l1s and l2 is None:
                l1 = l1s[lk]
                level_text.add(raw)
                current = state["l1"]
                if current is not None and current[0].key == l1.key and (row.table, row.row, i + 1) not in self.paras:
                    continue  # the 一级 cell merged down over this row: the same heading, not a new one
                points = printed_points(raw)
                pr = None
                if points is not None:
                    cell = Cell(0, 0, "label", key=keys.printed_weight(form.role, l1.key), vtype=WEIGHT)
                    pr = Printed(l1.key, l1.name, points, self.figure(cell, raw, row, i + 1))
                    form.printed.append(pr)
                state["l1"] = (l1, pr)
                level_text.add(raw)
                continue
            if k in spec.labels:
                continue
            data_at = i
            break
        if data_at is None:
            return
        if l2 is None:
            l2 = state.get("l2")
        if l2 is None:
            return
        state["l2"] = l2
        cells = row.cells[data_at:]
        n = state["slots"].get(l2.key, 0)
        state["slots"][l2.key] = n + 1
        pr = state["l1"][1] if state["l1"] else None
        for fld, (j, text) in zip(spec.slot_fields, enumerate(cells)):
            slot = keys.indicator(spec.slot_prefix, l2.key, n, fld)
            cell = spec.slot_cells.get(slot) or spec.slot_cells.get(keys.indicator(spec.slot_prefix, l2.key, 0, fld))
            if cell is None:
                continue
            key = self._prefix(form, slot)
            fig = self.figure(cell, text, row, data_at + j + 1, key)
            form.figures[key] = fig
            if fld == "weight" and pr is not None:
                pr.weights.append(fig)
            elif fld == "score" and pr is not None:
                pr.scores.append(fig)


def match_tables(rep: WordReport, profile, year: int = 2023) -> list[MatchedForm]:
    """The report's tables as the region's forms: one ``MatchedForm`` per 部门整体/项目 table
    found, with every figure read beside its label."""
    specs = _specs(profile, year)
    if not specs or not rep.grids:
        return []
    return [f for f in _Reader(rep, specs).run() if f.figures]
