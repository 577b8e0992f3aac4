"""The checks a report's tables get (issue #19), once matched to the forms (``wordin.tables``).

* Every figure the form computes (执行率, 得分, 合计, 总分 …) is recomputed by **its own
  declared formula** over the figures printed beside it in the same table, and compared with
  the cell's declared check (code, tolerance, message) — the workbook's rules, so a rate or a
  total wrong in Word is the same RATE-101 / SCORE-102 / WEIGHT-102 it is in a workbook. Only
  formulas whose operands the table prints are evaluated: a figure from another sheet (附件1
  for 附件2's 项目支出) is not guessed.
* What only a document can get wrong:
  RPT-501 a printed 一级 weight (“效益指标（30分）”) that its rows do not add up to — or, in a
  table without a 分值 column, that its rows' scores add up to more than (SCORE-107, as in a workbook);
  RPT-502 a weight or score cell that is not a number (“00”, a word) — read as blank, said;
  RPT-503 the attachment list in the text against the tables present;
  RPT-504 one quantity in two units (1200㎡ in a table, 1200㎥ in the text).

Every flag points at the table cell (``报告!表3 R5C2``) and its paragraph, so the comment in
the unit's document lands in that cell.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ..core.flags import ERROR, INFO, WARNING, Flag
from ..core.numbers import fmt_num, fmt_pct
from ..forms import keys
from ..forms.keys import Key
from ..forms.cells import NUMERIC, Sheet, default_check, percent_places
from ..forms.formula import Program
from .model import Para, WordReport
from .tables import Figure, MatchedForm, match_tables

_REF = re.compile(r"\{([^{}]+)\}")


def check_report_tables(rep: WordReport, profile, year: int = 2023,
                        forms: list[MatchedForm] | None = None) -> list[Flag]:
    forms = match_tables(rep, profile, year) if forms is None else forms
    flags: list[Flag] = []
    # one form's figure may be another's operand (附件2 项目支出 = 附件1 项目支出决算数): the first
    # form of each role lends its figures; a report with two of a kind keeps each to itself
    shared: dict[str, object] = {}
    for form in forms:
        for k, f in form.figures.items():
            if f.ok:
                shared.setdefault(k, f.value)
    for form in forms:
        expected: dict[str, float] = {}
        checked = _recomputed(form, profile, shared, expected)
        flags += _unreadable(form, expected)
        flags += checked
        flags += _printed_weights(form)
    flags += attachment_list(rep)
    flags += two_units(rep)
    return flags


def _flag(code: str, severity: str, fig: Figure, message: str, stated=None, expected=None) -> Flag:
    return Flag(code, severity, fig.where, message, stated, expected)  # a report flag: its place only


def _fmt(v, vtype: str = "", places: int = 2) -> str:
    """A figure as the form prints it: a rate as 95.00%, not 0.95 (to ``places`` decimals of a
    percent: a region's execution rate as it rounds it, 95%)."""
    if isinstance(v, float):
        return fmt_pct(v, places) if vtype in ("rate", "percent") else fmt_num(v, 4)
    return "空白" if v is None else f"“{v}”"


def _fmt_pair(stated: float, want: float, cell) -> tuple[str, str]:
    """A printed figure and the recompute, as the cell shows them; to two places where the cell's
    own rounding would show the two alike."""
    places = percent_places(cell)
    pair = _fmt(stated, cell.vtype, places), _fmt(want, cell.vtype, places)
    return pair if pair[0] != pair[1] else (_fmt(stated, cell.vtype), _fmt(want, cell.vtype))


# -- figures against their own formulas ---------------------------------------------------------------

def _template(form: MatchedForm, key: str) -> str:
    """The sheet's key for a figure of the n-th project form (the sheet is compiled once)."""
    return Key(key).in_project(0) if form.role == "project" else key


def _cells(sheet: Sheet) -> dict:
    found = sheet.__dict__.get("_word_cells")
    if found is None:
        found = {c.key: c for c in sheet.cells if c.key and c.kind in ("formula", "input")}
        sheet.__dict__["_word_cells"] = found
    return found


@lru_cache(maxsize=2048)
def _program(key: str, formula: str) -> Program:
    return Program({key: formula})


def _recomputed(form: MatchedForm, profile, shared: dict | None = None,
                expected: dict[str, float] | None = None) -> list[Flag]:
    """Each computed figure against its formula over the printed operands; ``expected`` gets
    the recompute of the figures that are not numbers (for RPT-502 to say what belongs there)."""
    from ..checks import tolerance  # the workbook's tolerances

    cells = _cells(form.sheet)
    env = {k: v for k, v in (shared or {}).items() if Key(k).project is None}
    env.update({_template(form, k): f.value for k, f in form.figures.items() if f.ok})
    out: list[Flag] = []
    for key, fig in form.figures.items():
        tkey = _template(form, key)
        cell = cells.get(tkey)
        if cell is None or cell.kind != "formula" or cell.vtype not in NUMERIC:
            continue
        if not isinstance(fig.value, float) and fig.ok:
            continue
        refs = set(_REF.findall(cell.formula or ""))
        # every operand that is not an indicator slot must be printed in this table
        needed = [r for r in refs if Key(r).slot is None]
        if not refs or any(not isinstance(env.get(r), (int, float)) for r in needed):
            continue
        if not any(isinstance(env.get(r), (int, float)) for r in refs):
            continue
        try:
            got = _program(tkey, cell.formula)(env).get(tkey)
        except Exception:  # noqa: BLE001 — a formula the table's text cannot feed is not checked
            continue
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            continue
        if not fig.ok:
            if expected is not None:
                expected[key] = float(got)
            continue
        rule = cell.check or default_check(cell.vtype)
        if abs(fig.value - got) <= tolerance(rule.tolerance, profile) + 1e-9:
            continue
        shown, want = _fmt_pair(fig.value, float(got), cell)
        out.append(_flag(rule.code, rule.severity, fig,
                         f"报告{form.title}：{rule.message}：表中为 {shown}，按表中各数重算应为 {want}。"
                         f"请核对表中各数或改正该数字。", fig.value, float(got)))
    return out


def _unreadable(form: MatchedForm, expected: dict[str, float] | None = None) -> list[Flag]:
    out = []
    expected = expected or {}
    for fig in form.figures.values():
        if fig.ok:
            continue
        name = Key(fig.key).name
        what = "得分" if name.endswith(keys.SCORE) else "分值" if "weight" in name else "数字"
        shown = next((x.strip() for x in unicodedata.normalize("NFKC", fig.raw).splitlines() if x.strip()), fig.raw)
        hint = "（开头的 0 多半是漏了一位，如 100 写成了 00）" if re.fullmatch(r"0\d+(?:\.\d+)?", shown) else ""
        should = f"按表中各行应为 {fmt_num(expected[fig.key], 4)}；" if fig.key in expected else ""
        out.append(_flag("RPT-502", WARNING, fig,
                         f"报告{form.title}：{what}格写的是“{shown[:20]}”，不是一个数{hint}，已按空白处理。{should}请填写数字。",
                         shown, expected.get(fig.key)))
    return out


def _printed_weights(form: MatchedForm) -> list[Flag]:
    out = []
    for pr in form.printed:
        weights = [w.value for w in pr.weights if isinstance(w.value, float)]
        if not weights:
            # a table without a 分值 column (湖北): the printed points cap the rows' scores
            scores = [x.value for x in pr.scores if isinstance(x.value, float)]
            got = round(sum(scores), 6)
            if not pr.weights and scores and got > pr.points + 0.005:
                out.append(_flag("SCORE-107", ERROR, pr.place,
                                 f"报告{form.title}：{pr.name}各行得分合计 {fmt_num(got, 2)}，超过该一级指标的分值 "
                                 f"{fmt_num(pr.points, 2)} 分。请改正各行得分。", got, pr.points))
            continue
        s = round(sum(weights), 6)
        if abs(s - pr.points) > 0.005:
            parts = " + ".join(fmt_num(w, 2) for w in weights)
            out.append(_flag("RPT-501", WARNING, pr.place,
                             f"报告{form.title}：“{pr.name}”标的是（{fmt_num(pr.points, 2)}分），其下各行分值 {parts} = "
                             f"{fmt_num(s, 2)} 分。请改正标题中的分值或各行分值。", pr.points, s))
    return out


# -- the attachment list against the tables -------------------------------------------------------------

_LIST_HEAD = re.compile(r"^\s*(?:附\s*件\s*[：:]?\s*$|报告应包括以下附件)")
_ITEM = re.compile(r"^\s*(?:附件\s*)?(?P<n>\d{1,2})\s*[.、．:：]?\s*(?P<t>[^\s（(].*)$")
_LABEL = re.compile(r"附件\s*(?P<n>\d{1,2})\s*[（(]\s*(?P<k>\d{1,2})\s*[)）]")


def attachment_list(rep: WordReport) -> list[Flag]:
    """RPT-503: the text's list of attachments numbers tables (“3.项目支出绩效自评表 … 7.…”)
    that the document labels otherwise (附件3（1）… 附件3（5）), or lists more than it has."""
    paras = rep.paras
    out: list[Flag] = []
    for i, p in enumerate(paras):
        if p.table is not None or not _LIST_HEAD.match(unicodedata.normalize("NFKC", p.text)):
            continue
        items: list[tuple[int, str, Para]] = []
        for q in paras[i + 1:i + 30]:
            t = unicodedata.normalize("NFKC", q.text).strip()
            if not t:
                continue
            m = _ITEM.match(t)
            if not m or q.table is not None:
                break
            items.append((int(m["n"]), m["t"], q))
        if len(items) < 2:
            continue
        labels = sorted({(int(m["n"]), int(m["k"])) for q in paras
                         for m in _LABEL.finditer(unicodedata.normalize("NFKC", q.text))})
        groups = {}
        for n, k in labels:
            groups.setdefault(n, []).append(k)
        numbers = [n for n, _, _ in items]
        for n, ks in groups.items():
            if len(ks) < 2:
                continue
            listed = [it for it in items if n <= it[0] <= n + len(ks) - 1]
            if len(listed) >= 2 and all(it[0] not in groups or it[0] == n for it in listed) and n + 1 in numbers:
                first, last = listed[0], listed[-1]
                out.append(Flag("RPT-503", WARNING, first[2].where,
                                f"报告的附件清单把项目支出绩效自评表编为附件{first[0]}–附件{last[0]}，而表格上标的是"
                                f"附件{n}（{ks[0]}）–附件{n}（{ks[-1]}）。请统一附件编号。",
                                f"附件{first[0]}–{last[0]}", f"附件{n}（{ks[0]}）–（{ks[-1]}）"))
        break
    return out


# -- one quantity, two units --------------------------------------------------------------------------

_QTY = re.compile(r"(?P<v>\d[\d,，]*(?:\.\d+)?)\s*(?P<u>㎡|平方米|m2|㎥|立方米|m3)")
_UNIT = {"㎡": "㎡", "平方米": "㎡", "m2": "㎡", "㎥": "㎥", "立方米": "㎥", "m3": "㎥"}


def two_units(rep: WordReport) -> list[Flag]:
    """RPT-504: the same figure written with ㎡ in one place and ㎥ in another."""
    seen: dict[float, tuple[str, Para]] = {}
    out: list[Flag] = []
    told: set[float] = set()
    for p in rep.paras:
        for m in _QTY.finditer(unicodedata.normalize("NFKC", p.text).replace("m²", "㎡").replace("m³", "㎥")):
            try:
                v = float(m["v"].replace(",", "").replace("，", ""))
            except ValueError:
                continue
            unit = _UNIT[m["u"]]
            first = seen.get(v)
            if first is None:
                seen[v] = (unit, p)
            elif first[0] != unit and v not in told:
                told.add(v)
                out.append(Flag("RPT-504", WARNING, p.where,
                                f"同一个数 {fmt_num(v, 2)} 在{first[1].where.within}写作 {fmt_num(v, 2)}{first[0]}，"
                                f"在{p.where.within}写作 {fmt_num(v, 2)}{unit}（面积与体积）。请核对单位。",
                                f"{fmt_num(v, 2)}{unit}", f"{fmt_num(v, 2)}{first[0]}"))
    return out


# -- the report's tables against the unit's workbook ---------------------------------------------------

def _same_name(a, b) -> bool:
    from .tables import core

    return isinstance(a, str) and isinstance(b, str) and bool(core(a)) and core(a) == core(b)


def against_workbook(forms: list[MatchedForm], dept, profile) -> list[Flag]:
    """RPT-601: each figure of the report's tables that the workbook holds too, where the two
    differ — the report's cell and the workbook's cell both named. The workbook's figure is the
    one it shows (stated where it states one, else recomputed). A project table is paired
    with the workbook's project of the same name (not by position); an indicator row with the
    workbook's row of the same name. The workbook's figures are its inputs and its recompute."""
    from ..checks import tolerance
    from ..forms.binding import flatten
    from ..forms.layout import compile_layout, shape_for
    from ..forms.recompute import derive_values

    try:
        layout = compile_layout(profile, shape_for(dept, profile))
        book = flatten(dept, layout)
        book.update(derive_values(book, layout))
        # what the workbook shows: a figure it states is compared as stated (its own flags say
        # where that differs from the recompute)
        book.update({k: v for k, v in getattr(dept, "stated", {}).items() if v is not None})
    except Exception:  # noqa: BLE001 — a workbook the engine cannot lay out has its own flags
        return []
    names = {i: p.name for i, p in enumerate(dept.projects)}
    out: list[Flag] = []
    for form in forms:
        remap = None
        if form.role == "project":
            mine = form.value(keys.of(keys.project(form.index), "name"))
            j = next((i for i, n in names.items() if _same_name(n, mine)), None)
            if j is None:
                continue
            remap = j
        for key, fig in form.figures.items():
            if not isinstance(fig.value, float):
                continue
            wkey = Key(key).in_project(remap) if remap is not None else Key(key)
            if wkey.slot and not _same_name(book.get(wkey.slot.row.child("name")), form.value(Key(key).sibling("name"))):
                continue  # an indicator row: only against the workbook's row of the same name
            theirs = book.get(wkey)
            if not isinstance(theirs, (int, float)) or isinstance(theirs, bool) or wkey not in layout.where:
                continue
            cell = layout.where[wkey][1]
            kind = (cell.check.tolerance if cell.check else None) or _TOL.get(cell.vtype, "money")
            if abs(fig.value - float(theirs)) <= tolerance(kind, profile) + 1e-9:
                continue
            ours, book_shows = _fmt_pair(fig.value, float(theirs), cell)
            out.append(_flag("RPT-601", WARNING, fig,
                             f"报告{form.title}中的 {ours}（{fig.where.within}）与工作簿 "
                             f"{layout.location(wkey, wkey)} 的 {book_shows} 不同。请核对后统一。",
                             fig.value, float(theirs)))
    return out


_TOL = {"rate": "rate", "score": "score", "weight": "score"}
