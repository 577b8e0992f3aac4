"""Merge one unit's data into the Word report (docxtpl), cover to attachments.

* Figures are always the recompute (``forms.recompute.derive``), never a workbook's cached values.
* Section 二 is written from the data (amounts, shares, to two decimals), so it cannot
  disagree with the tables; section 六 opens with the figures (execution rate, scores,
  grade). The clerk's text from 报告正文 fills the rest; an empty section says 无.
* The attachment tables are walked from the *same layout description* as the workbook —
  same rows, labels and merges — with blank optional rows (unused indicator slots, empty
  free project rows) dropped and merges re-spanned over the rows that remain.
* Clerk text is passed as variables and rendered with ``autoescape=True``: ``& < > {{ }}``
  come out as typed and are never evaluated.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

import re
import secrets
from pathlib import Path
from typing import Any

from xml.sax.saxutils import escape as xml_escape

from docxtpl import DocxTemplate
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from ..forms import keys
from ..forms.binding import declares, flatten, sheet_name, value_of
from ..checks.narrative import disagreements
from ..checks import CheckResult, check, computed_fields
from ..core.scoring import which_levels
from ..core.flags import ERROR
from ..forms.cells import AREA, DATE, INT, LONGTEXT, MONEY, PERCENT, RATE, SCORE, WEIGHT, Layout, Sheet, percent_places
from ..forms.layout import compile_layout, shape_for
from ..forms.naming import report_title
from ..core.model import Department
from ..core.region import Profile
from ..core.numbers import fmt_date, fmt_money, fmt_num, fmt_pct, share
from ..core.quantities import quantities, tie
from ..forms.vocabulary import VOCABULARY
from ..core.words import CHINESE_NUMBERS, sentence
from ..files.outputs import atomic_output
from .notes import add_cell_comment, comment_paragraphs, comment_reference, report_notes
from .package import save_package
from .template import H1_FONT, build_report_template

DEFAULT_TEMPLATE = Path(__file__).resolve().parent / "report.docx"  # inside the package (built by build_templates.py)
_SUB = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")
_HEADING_LIKE = re.compile(r"^([（(][一二三四五六七八九十\d]+[）)]|[一二三四五六七八九十\d]+[、.．])")
# starts only where a run of digits starts, possessive: a long run of digits without a unit
# would otherwise be rescanned from each of its digits (quadratic; 32,000 digits took 17 s)
_HAS_FIGURE = re.compile(r"(?<!\d)\d++(?:\.\d++)?\s*+(万元|元|%|％)")


def _paragraphs(text: str) -> list[dict[str, str]]:
    out = []
    for line in text.split("\n"):
        line = line.strip()
        if line:
            out.append({"kind": "sub" if _SUB.match(line) else "body", "text": line})
    return out


def _project_lines(dept: Department, profile: Profile, derived: dict[str, Any]) -> list[tuple[str, float]]:
    """Every 附件1 project row with its 本年决算数: 附件3-linked projects, then free rows."""
    lines = [(p.name, value_of(dept, keys.funds(keys.project(i), "total", "executed"), derived) or 0.0)
             for i, p in enumerate(dept.projects)
             if p.category in profile.projects.categories]
    lines += [(line.name, line.final or 0.0) for line in dept.basic.other_projects]
    return lines


def _figure(dept: Department, key: str, derived: dict[str, Any]) -> float | None:
    """A figure for a generated sentence, or None: the region's forms may not have it (a project-only
    package has no 部门整体 table), and a sentence is never printed around a missing figure."""
    v = value_of(dept, key, derived)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _say(profile: Profile, word: str, dept: Department, /, **values: Any) -> str | None:
    """The region's sentence ``name`` (region.toml ``[report.words]``, else today's wording) over
    ``values`` — None where a figure it needs is missing (``core.words``)."""
    return sentence(profile.report.words, word, {"year": dept.year, "unit_name": dept.name, **values})


def _money(v: float | None) -> str | None:
    return None if v is None else fmt_money(v)


def _num(v: float | None) -> str | None:
    return None if v is None else fmt_num(v)


def budget_paragraphs(dept: Department, profile: Profile, derived: dict[str, Any],
                      layout: Layout | None = None) -> list[dict[str, str]]:
    basic = _figure(dept, keys.OVERALL_EXPENSE_BASIC, derived)
    personnel = _figure(dept, keys.PERSONNEL_EXPENSE, derived)
    public = _figure(dept, keys.PUBLIC_EXPENSE, derived)
    project = _figure(dept, keys.OVERALL_EXPENSE_PROJECT, derived)
    total = _figure(dept, keys.OVERALL_EXECUTED, derived)
    out: list[dict[str, str]] = []

    def heading(name: str) -> None:
        n = sum(1 for p in out if p["kind"] == "sub")
        t = _say(profile, name, dept, n=CHINESE_NUMBERS[min(n, len(CHINESE_NUMBERS) - 1)])
        if t:
            out.append({"kind": "sub", "text": t})

    def body(t: str | None) -> None:
        if t:
            out.append({"kind": "body", "text": t})

    # 基本支出: said missing where the region's forms ask for it; left out where they have no such figure
    if layout is None or declares(layout, keys.OVERALL_EXPENSE_BASIC):
        heading("basic_heading")
        body(_say(profile, "basic", dept, basic=_money(basic), basic_share=share(basic, total),
                  personnel=_money(personnel), personnel_share=share(personnel, basic),
                  public=_money(public), public_share=share(public, basic))
             or _say(profile, "basic_missing", dept))
    lines = [(n, v) for n, v in _project_lines(dept, profile, derived) if v]
    if project is None and not lines:
        return out
    said = [_say(profile, "project_line", dept, name=n, amount=fmt_money(v), share=share(v, project))
            for n, v in lines]
    joined = "；".join(t for t in said if t) or None
    text = (_say(profile, "project", dept, project=_money(project), project_share=share(project, total),
                 project_lines=joined) if project is not None
            else _say(profile, "project_by_line", dept, project_lines=joined))
    if text:
        heading("project_heading")
        body(text)
    return out


def performance_figures(dept: Department, profile: Profile, derived: dict[str, Any],
                        layout: Layout | None = None) -> dict[str, str] | None:
    """Section 六's opening figures: the 部门整体 table's where the region has one, each project's
    budget, execution and score; a clause whose figure is missing is left out, and with no figure
    at all there is no paragraph (None). The sentences are the region's (``[report.words]``)."""
    s = profile.scoring
    ev = profile.report.evaluation
    parts: list[str | None] = []
    has_overall = layout is None or sheet_name(layout, "overall") is not None
    if has_overall:
        parts.append(_say(profile, "budget", dept, evaluation=ev,
                          budget_full=_money(_figure(dept, keys.OVERALL_BUDGET_FULL, derived)),
                          executed=_money(_figure(dept, keys.OVERALL_EXECUTED, derived)),
                          rate=_pct(_figure(dept, keys.OVERALL_RATE, derived), profile)))
    total = _figure(dept, keys.OVERALL_TOTAL_SCORE, derived)
    if total is not None:
        parts.append(_say(profile, "total_score", dept, evaluation=ev, score=fmt_num(total),
                          grade=value_of(dept, keys.OVERALL_GRADE, derived) or None,
                          score_parts=_score_parts(dept, profile, derived, layout, keys.OVERALL,
                                                   dept.overall.indicators)))
    if has_overall:
        proj = [_say(profile, "project_score", dept, name=p.name,
                     score=_num(_figure(dept, keys.of(keys.project(i), keys.TOTAL_SCORE), derived)))
                for i, p in enumerate(dept.projects)]
        parts.append(_say(profile, "project_scores", dept, project_scores="，".join(t for t in proj if t) or None))
    else:  # no 部门整体 table: each project is the evaluation, with its own figures
        for i, p in enumerate(dept.projects):
            pre = keys.project(i)
            rate = (_figure(dept, keys.of(pre, keys.RATE), derived) if declares(layout, keys.of(pre, keys.RATE))
                    else _figure(dept, keys.of(f"{pre}.funds", keys.RATE), derived))
            score = _figure(dept, keys.of(pre, keys.TOTAL_SCORE), derived)
            parts.append(_say(profile, "project_result", dept, name=p.name.strip(),
                              budget_full=_money(_figure(dept, keys.funds(pre, "total", "full"), derived)),
                              executed=_money(_figure(dept, keys.funds(pre, "total", "executed"), derived)),
                              rate=_pct(rate, profile), score=_num(score),
                              grade=value_of(dept, keys.of(pre, keys.GRADE), derived) or None,
                              score_parts=_score_parts(dept, profile, derived, layout, pre, p.indicators)))
    said = [t for t in parts if t]
    if not said:
        return None
    return {"kind": "body", "text": "。".join(said) + "。"}


def _score_parts(dept: Department, profile: Profile, derived: dict[str, Any], layout: Layout | None,
                 prefix: str, indicators: list) -> str | None:
    """"预算执行率得分9.5分，产出指标得分50分（满分50分），…" for one table: the execution score
    where the region scores it, then each 一级's sum — of the scores as printed, so a region whose
    得分 is a formula (系数 × 权重) sums the computed column; its 满分 only where the region fixes
    the 一级's weight (a form that fixes only the total has none to print). None: no figure."""
    by = []
    # the execution score where the table draws it: beside its total (overall.score) or in its
    # funds block (projects[0].funds.score, the project forms' 年度资金总额 row)
    exec_score = next((v for k in (keys.of(prefix, keys.SCORE), keys.of(f"{prefix}.funds", keys.SCORE))
                       if (v := derived.get(k)) is not None), None)
    if profile.scoring.execution_scored and isinstance(exec_score, (int, float)) and not isinstance(exec_score, bool):
        by.append(_say(profile, "execution_score", dept, execution_score=fmt_num(exec_score)))
    rows = computed_fields(prefix, indicators, profile, layout, derived) if layout is not None else indicators
    for l1 in profile.levels(which_levels(prefix)):
        scores = [i.score for i in rows if i.level1 == l1.name and i.score is not None]
        if scores:
            by.append(_say(profile, "level1_score", dept, name=l1.name, score=fmt_num(round(sum(scores), 6)),
                           weight=fmt_num(l1.weight) if l1.weight is not None else None))
    return "，".join(b for b in by if b) or None


def _pct(v: float | None, profile: Profile) -> str | None:
    """The execution rate as the region shows it (``Scoring.rate_places``)."""
    return None if v is None else fmt_pct(v, profile.scoring.rate_places)


def _generated_section(dept: Department, profile: Profile, derived: dict[str, Any], clerk: str,
                       disagreeing: list, layout: Layout | None = None) -> list[dict[str, str]]:
    """Section 二: the clerk's words are never dropped. Figures that all agree with the tables:
    the clerk's paragraphs as written. Some disagree: the clerk's paragraphs, then the figures from
    the tables under their own heading (the first-page notice lists what disagrees). No figures
    at all: the figures from the tables, then the clerk's remarks."""
    generated = budget_paragraphs(dept, profile, derived, layout)
    written = _paragraphs(clerk)
    if not written or not _HAS_FIGURE.search(clerk):
        remarks = [p for p in written if not _HEADING_LIKE.match(p["text"]) and len(p["text"]) > 15]
        subs = sum(1 for p in generated if p["kind"] == "sub")
        head = _say(profile, "other_heading", dept, n=CHINESE_NUMBERS[min(subs, len(CHINESE_NUMBERS) - 1)])
        extra = ([{"kind": "sub", "text": head}] if head else []) + remarks if remarks else []
        return (generated + extra) or [{"kind": "body", "text": "无"}]
    if not disagreeing and _quotes_the_split(clerk):
        return written
    # the clerk's words as written; the tables' figures after them (they disagree, or the text
    # does not give 基本支出 and 项目支出 itself)
    head = _say(profile, "appended_heading", dept)
    return written + ([{"kind": "sub", "text": head}] if head else []) + [
        p for p in generated if p["kind"] == "body"]


def _quotes_the_split(text: str) -> bool:
    """Whether the text itself gives the unit's 基本支出 and 项目支出 (then, agreeing with the
    tables, it stands alone)."""
    said = {t.concept for q in quantities(text) if q.kind == "money" and (t := tie(q, VOCABULARY)) is not None}
    return {"基本支出", "项目支出"} <= said


def report_context(dept: Department, profile: Profile, result: CheckResult, strict_errors: bool = True) -> dict[str, Any]:
    derived = result.derived
    layout = compile_layout(profile, shape_for(dept, profile))
    sections = []
    for sec in profile.report.sections:
        clerk = dept.narrative.sections.get(sec.key, "")
        if sec.generated:
            paras = _generated_section(dept, profile, derived, clerk, disagreements(result.flags, sec.key), layout)
        elif sec.figures:
            opening = performance_figures(dept, profile, derived, layout)
            paras = ([opening] if opening else []) + _paragraphs(clerk)
            paras = paras or [{"kind": "body", "text": "无"}]
        else:
            paras = _paragraphs(clerk) or [{"kind": "body", "text": "无"}]
        sections.append({"title": sec.title, "paragraphs": paras})
    # the attachments are the region's tables: 附件1 and 附件2 where it has them, one per project
    titles = []
    for sh in profile.forms.sheets:
        if sh.report == "body":
            continue
        if sh.role == "project":  # "…建设项目" + "项目支出绩效自评表" would say 项目 twice
            title = sh.title or "项目支出绩效自评表"
            titles += [(p.name.strip().removesuffix("项目") if title.startswith("项目") else p.name.strip()) + title
                       for p in dept.projects]
        elif sh.role in ("basic", "overall"):
            titles.append(sh.title or {"basic": "部门整体支出绩效评价基础数据表", "overall": "部门整体支出绩效自评表"}[sh.role])
    attachment_list = [f"{i + 1}.{t}" for i, t in enumerate(titles)]
    errors = [f"{f.location}：{f.message}" for f in result.flags if f.severity == ERROR]
    # the text's figures that disagree with the tables, each with both figures (#12)
    text_notes = [f.message for f in disagreements(result.flags)]  # each names its section
    report_date = dept.signoff.date or "年    月    日"
    fill = {"{unit_name}": dept.name, "{unit_code}": dept.code, "{year}": str(dept.year), "{report_date}": report_date,
            "{title}": report_title(profile)}
    cover = []
    for line in profile.report.cover:
        text = line.text
        for k, v in fill.items():
            text = text.replace(k, v)
        cover.append({"text": text, "style": line.style})
    return {
        "unit_name": dept.name, "unit_code": dept.code, "year": dept.year, "cover": cover,
        "report_date": report_date,
        "errors": errors, "text_notes": text_notes, "sections": sections, "attachment_list": attachment_list,
        # the region's kind of package, not this unit's projects: a project-only region's unit
        # with no project yet still files a 项目支出 report
        "report_title": report_title(profile),
        "body_title": profile.report.body_title, "sections_heading": profile.report.sections_heading,
        # a figure the region's forms do not have is None (a template shows nothing for it)
        "figures": {"basic": _figure(dept, keys.OVERALL_EXPENSE_BASIC, derived),
                    "personnel": _figure(dept, keys.PERSONNEL_EXPENSE, derived),
                    "public": _figure(dept, keys.PUBLIC_EXPENSE, derived),
                    "project": _figure(dept, keys.OVERALL_EXPENSE_PROJECT, derived),
                    "total": _figure(dept, keys.OVERALL_EXECUTED, derived),
                    "rate": _figure(dept, keys.OVERALL_RATE, derived),
                    "score": _figure(dept, keys.OVERALL_TOTAL_SCORE, derived),
                    "grade": value_of(dept, keys.OVERALL_GRADE, derived) or ""},
    }


# -- attachment tables from the layout ---------------------------------------------------------

def _cell_text(cell, values: dict[str, Any], derived: dict[str, Any]) -> str:
    if cell.kind == "label":
        return "" if cell.text is None else str(cell.text)
    v = values.get(cell.key) if cell.kind == "input" else derived.get(cell.key)
    if v is None or v == "":
        return ""
    if cell.vtype == MONEY:
        return fmt_money(v)
    if cell.vtype in (RATE, PERCENT):
        return fmt_pct(v, percent_places(cell))
    if cell.vtype in (WEIGHT, SCORE, AREA):
        return fmt_num(v)
    if cell.vtype == INT:
        return str(int(v))
    if cell.vtype == DATE:
        return fmt_date(v)  # 2024年3月5日 (text that is no date, kept as read, as it is)
    return str(v)


_JC = {"left": "left", "right": "right", "center": "center"}
_ALIGN = {"label_left": "left", "indent1": "left", "indent2": "left", "indent3": "left", "label_right": "right",
          "in_text": "left", "in_long": "left", "f_indent": "left", "in_money": "right", "f_money": "right"}
_INDENT = {"indent1": "  ", "indent2": "    ", "indent3": "      ", "f_indent": "      "}
TWIPS_PER_MM = 56.6929


def kept_rows(sh: Sheet, values: dict[str, Any], span: tuple[int, int]) -> list[int]:
    """The rows of one of the sheet's tables to print: optional rows only when one of their inputs is filled."""
    t0, t1 = span
    inputs_by_row = sh.input_keys_by_row()
    keep = []
    for r in range(t0, t1 + 1):
        if r in sh.optional_rows and all(values.get(k) in (None, "") for k in inputs_by_row.get(r, ())):
            continue
        keep.append(r)
    return keep


_RPR = ('<w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="宋体"/>{b}'
        '<w:sz w:val="{hp}"/><w:szCs w:val="{hp}"/></w:rPr>')


def _run(text: str, bold: bool, half_points: int) -> str:
    lines = "<w:br/>".join(f'<w:t xml:space="preserve">{xml_escape(line)}</w:t>' for line in text.split("\n"))
    return f"<w:r>{_RPR.format(b='<w:b/>' if bold else '', hp=half_points)}{lines}</w:r>"


def _tc(width: int, span: int, vmerge: str | None, text: str = "", align: str = "center", bold: bool = False,
        keep_next: bool = False, comments: list[int] | None = None) -> str:
    pr = f'<w:tcW w:w="{width}" w:type="dxa"/>'
    if span > 1:
        pr += f'<w:gridSpan w:val="{span}"/>'
    if vmerge == "restart":
        pr += '<w:vMerge w:val="restart"/>'
    elif vmerge == "continue":
        pr += "<w:vMerge/>"
    pr += '<w:vAlign w:val="center"/>'
    run = _run(text, bold, 18) if text else ""
    for cid in comments or ():  # a note on this cell (``notes``): the range wraps the cell's text
        opening, closing = comment_reference(cid)
        run = opening + run + closing
    keep = "<w:keepNext/>" if keep_next else ""
    return (f'<w:tc><w:tcPr>{pr}</w:tcPr><w:p><w:pPr>{keep}<w:spacing w:before="0" w:after="0" w:line="240" '
            f'w:lineRule="auto"/><w:jc w:val="{align}"/></w:pPr>{run}</w:p></w:tc>')


def _report_widths(sh: Sheet, width_mm: float) -> list[int]:
    """Column widths (twips) in the sheet's proportions, each widened to hold its labels' longest
    line (9-point text): "（万元）" in a narrow first column must not break into "（万" / "元）"."""
    ncols = sh.print_cols
    total = width_mm * TWIPS_PER_MM
    widths = [total * w / sum(sh.widths[:ncols]) for w in sh.widths[:ncols]]
    need = [0.0] * ncols
    for cell in sh.cells:
        if cell.kind == "label" and isinstance(cell.text, str) and cell.c < ncols \
                and not (cell.merge and cell.merge[1] > cell.c):
            units = max(sum(1.0 if ord(ch) > 0x2E7F else 0.55 for ch in line) for line in cell.text.split("\n"))
            need[cell.c] = max(need[cell.c], (units * 9 + 12) * 20)  # 9 pt a character, cell margins
    short = sum(max(0.0, n - w) for n, w in zip(need, widths))
    if short:
        spare = [w - n for n, w in zip(need, widths)]
        room = sum(x for x in spare if x > 0)
        if room > short:
            widths = [n if n > w else w - short * (w - n) / room for n, w in zip(need, widths)]
    return [int(w) for w in widths]


def sheet_table_xml(sh: Sheet, values: dict[str, Any], derived: dict[str, Any], span: tuple[int, int],
                    width_mm: float = 257, keep_end: bool = False, marks: dict[str, list[int]] | None = None):
    """A w:tbl for the official table of ``sh``: the layout's rows, labels and merges, blank optional
    rows dropped and vertical merges re-spanned over the rows that remain.

    Written as one XML string and put into the saved document as text (``_insert_attachments``):
    python-docx's ``table.cell()`` rebuilds the grid on every call, and building or parsing
    elements was the next largest cost.
    """
    keep = kept_rows(sh, values, span)
    index = {r: i for i, r in enumerate(keep)}
    ncols = sh.print_cols
    widths = _report_widths(sh, width_mm)
    t0, t1 = span
    # region per (row index, col): (top row index, first col, last col, last row index, cell)
    grid: dict[tuple[int, int], tuple[int, int, int, int, Any]] = {}
    for cell in sh.cells:
        if cell.c >= ncols or not (t0 <= cell.r <= t1):
            continue
        r2, c2 = cell.merge if cell.merge else (cell.r, cell.c)
        c2 = min(c2, ncols - 1)
        rows = range(bisect_left(keep, cell.r), bisect_right(keep, r2))  # ``keep`` is in order: its positions
        if not rows:
            continue
        region = (rows[0], cell.c, c2, rows[-1], cell)
        for i in rows:
            for c in range(cell.c, c2 + 1):
                grid[(i, c)] = region
    edges = "".join(f'<w:{e} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
                    for e in ("top", "left", "bottom", "right", "insideH", "insideV"))
    out = [f'<w:tbl><w:tblPr><w:tblW w:w="{sum(widths)}" w:type="dxa"/>'
           f'<w:tblBorders>{edges}</w:tblBorders><w:tblLayout w:type="fixed"/></w:tblPr><w:tblGrid>',
           "".join(f'<w:gridCol w:w="{w}"/>' for w in widths), "</w:tblGrid>"]
    # a blank long-text input keeps its row's height: the space to write by hand (云溪's 意见 rows)
    handwritten = {cell.r for cell in sh.cells if cell.kind == "input" and cell.vtype == LONGTEXT
                   and values.get(cell.key) in (None, "")}
    # rows never break across pages; the table's header row repeats; with ``keep_end`` its last
    # rows keep with the lines under it (a 备注 or sign-off line never lands alone on a page)
    tail = set(range(max(0, len(keep) - 2), len(keep))) if keep_end else set()
    header_index = index.get(sh.header_row) if sh.header_row is not None else None
    for i, row in enumerate(keep):
        pr = "<w:cantSplit/>"
        if i == header_index:
            pr += "<w:tblHeader/>"
        if row in handwritten and sh.heights.get(row, 0) > 20:
            pr += f'<w:trHeight w:val="{int(sh.heights[row] * 20)}" w:hRule="atLeast"/>'
        out.append(f"<w:tr><w:trPr>{pr}</w:trPr>")
        c = 0
        while c < ncols:
            region = grid.get((i, c))
            if region is None:
                out.append(_tc(widths[c], 1, None, keep_next=i in tail))
                c += 1
                continue
            top, c1, c2, bottom, cell = region
            span = c2 - c1 + 1
            width = sum(widths[c1:c2 + 1])
            if top == i:
                text = _cell_text(cell, values, derived)
                text = _INDENT.get(cell.style, "") + text if text else text
                out.append(_tc(width, span, "restart" if bottom > top else None, text,
                               _ALIGN.get(cell.style, "center"), cell.style == "header", i in tail,
                               (marks or {}).pop(cell.key, None) if cell.key else None))
            else:
                out.append(_tc(width, span, "continue", keep_next=i in tail))
            c = c2 + 1
        out.append("</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)


def printed_tables(layout: Layout, dept: Department, where: str | None = None) -> list[tuple[Sheet, tuple[int, int]]]:
    """The tables the report prints, in document order: the body's (sheets declared ``report =
    "body"``), then the attachments' (附件1, 附件2, each filled 附件3). ``where`` picks one part."""
    out = []
    for part in ("body", "attachment"):
        if where in (None, part):
            out += [(sh, span) for sh in layout.sheets if sh.in_body == (part == "body") and sh.tables
                    and (sh.project is None or sh.project < len(dept.projects)) for span in sh.tables]
    return out


def printed_keys(layout: Layout, dept: Department, values: dict[str, Any]) -> set[str]:
    """The keys of the cells the report's tables print (rows kept, columns within the print
    area): a note on one of them is a comment at that cell."""
    out = set()
    for sh, (t0, t1) in printed_tables(layout, dept):
        keep = set(kept_rows(sh, values, (t0, t1)))
        out |= {c.key for c in sh.cells if c.key and c.kind != "hint" and c.c < sh.print_cols and c.r in keep}
    return out


def tables_xml(dept: Department, layout: Layout, derived: dict[str, Any], in_body: bool,
               values: dict[str, Any] | None = None, marks: dict[str, list[int]] | None = None) -> str:
    """Paragraphs and tables of the sheets printed in the body, or of the attachments, as body XML."""
    sheets = [sh for sh in layout.sheets if sh.tables and sh.in_body == in_body
              and (sh.project is None or sh.project < len(dept.projects))]
    if not sheets:
        return ""
    values = flatten(dept, layout) if values is None else values
    out = []
    for n, sh in enumerate(sheets):
        # above the first table: the attachment's label (附件3) and its title, one text each; any
        # other row there (湖北's 填报日期 … 总分) prints as a line with its figures, never dropped
        head = _head_rows(sh, values, derived, sh.tables[0][0])
        titled = False
        for i, (texts, style) in enumerate(head):
            if style == "title" and len(texts) == 1:
                # a row the form draws as its title (安徽、全国: 部门整体支出绩效自评表 over （2023年度）)
                # prints centred as the title, the rows under it smaller: it is not an 附件 label
                out.append(_para_xml(texts[0], 24 if titled else (32 if not in_body else 28), "center", H1_FONT,
                                     page_break_before=i == 0 and n > 0 and not in_body))
                titled = True
            elif i < 2 and len(texts) == 1:
                big = (28 if not in_body else 32) if i == 0 else (32 if not in_body else 28)
                out.append(_para_xml(texts[0], big, "left" if i == 0 else "center", H1_FONT,
                                     page_break_before=i == 0 and n > 0 and not in_body))
            else:
                out.append(_para_xml("  ".join(texts), 21, "left", "宋体", page_break_before=i == 0 and n > 0 and not in_body))
        for k, span in enumerate(sh.tables):
            until = sh.tables[k + 1][0] if k + 1 < len(sh.tables) else None
            notes = _lines_after(sh, values, derived, span[1], until)
            out.append(sheet_table_xml(sh, values, derived, span, 257 if not in_body else 165, keep_end=bool(notes),
                                       marks=marks))
            for j, note in enumerate(notes):  # each line keeps with the next; the last closes the table
                out.append(_para_xml(note, 21, "left", "宋体", keep_next=j < len(notes) - 1))
    return "".join(out)


def _head_rows(sh: Sheet, values: dict[str, Any], derived: dict[str, Any], until: int) -> list[tuple[list[str], str]]:
    """The texts of each row drawn above the sheet's first table, in reading order (a row's
    labels and figures: 湖北's “填报日期：2024-03-29  总分：98  分”), with the style of the row's
    first cell (``title``, ``attach`` …): the form says which line is its title."""
    rows: dict[int, list[tuple[int, str, str]]] = {}
    for cell in sh.cells:
        if cell.r >= until or cell.c >= sh.print_cols or cell.kind == "hint":
            continue
        text = _cell_text(cell, values, derived).strip()
        if text:
            rows.setdefault(cell.r, []).append((cell.c, text, cell.style))
    return [([t for _c, t, _s in sorted(parts)], sorted(parts)[0][2]) for _r, parts in sorted(rows.items())]


def _lines_after(sh: Sheet, values: dict[str, Any], derived: dict[str, Any], after: int, until: int | None,
                 ) -> list[str]:
    """What the region's sheet draws under a table (up to the next) — notes, sign-off rows, text
    blocks — one line per drawn row, labels and figures in reading order (the 岳阳 附件1 draws its
    sign-off as label/input pairs over two rows; 云溪 its 填报人 line; others a footer formula)."""
    rows: dict[int, list[tuple[int, str]]] = {}
    for cell in sh.cells:
        if cell.r <= after or (until is not None and cell.r >= until) or cell.c >= sh.print_cols \
                or cell.kind == "hint":
            continue
        text = _cell_text(cell, values, derived).strip()
        if text:
            rows.setdefault(cell.r, []).append((cell.c, text))
    return ["  ".join(t for _c, t in sorted(parts)) for _r, parts in sorted(rows.items())]


def _para_xml(text: str, half_points: int, align: str, font: str, page_break_before: bool = False,
              keep_next: bool = False) -> str:
    pb = ("<w:keepNext/>" if keep_next else "") + ("<w:pageBreakBefore/>" if page_break_before else "")
    rpr = (f'<w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="{xml_escape(font)}"/>'
           f'<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/></w:rPr>')
    return (f'<w:p><w:pPr>{pb}<w:spacing w:before="0" w:after="80"/><w:jc w:val="{align}"/>'
            f'</w:pPr><w:r>{rpr}<w:t xml:space="preserve">{xml_escape(text)}</w:t></w:r></w:p>')


def _marker(name: str) -> str:
    """A placeholder for tables, new for every report: no clerk's text can hold it, so none can
    steer where the tables go (invisible separators keep it out of anything a person types)."""
    return f"\u2063selfeval-xl-{name}-{secrets.token_hex(12)}\u2063"


def _insert_at(document_xml: bytes, marker: str, xml: str) -> bytes | None:
    """Put ``xml`` where the template's marker is, in the serialised document (None: no marker).

    ``{{ attachments }}`` leaves the marker in a run: its paragraph is replaced.
    ``{{p attachments }}`` leaves it as bare text in the body: the text is replaced.
    Working on the serialised part spares parsing and re-serialising the tables (most of
    the document).
    """
    mark = marker.encode("utf-8")
    i = document_xml.find(mark)
    if i < 0:
        return None
    opened = max(document_xml.rfind(b"<w:p>", 0, i), document_xml.rfind(b"<w:p ", 0, i))
    closed = document_xml.rfind(b"</w:p>", 0, i)
    new = xml.encode("utf-8")
    if opened > closed:  # inside a paragraph
        end = document_xml.index(b"</w:p>", i) + len(b"</w:p>")
        return document_xml[:opened] + new + document_xml[end:]
    return document_xml[:i] + new + document_xml[i + len(mark):]


def _place_tables(document_xml: bytes, markers: dict[str, str], body: str, attachments: str) -> bytes:
    """The body's tables at ``{{ body_tables }}`` (a template without it gets them before the
    attachments), the attachments at ``{{ attachments }}``."""
    placed = _insert_at(document_xml, markers["body_tables"], body)
    if placed is None:
        attachments, placed = body + attachments, document_xml
    done = _insert_at(placed, markers["attachments"], attachments)
    if done is None:
        if not attachments:
            return placed
        raise ValueError("报告模板中没有 {{p attachments }}（或 {{ attachments }}），无法放置附件表格")
    return done if attachments else _drop_last_section(done)


def _drop_last_section(document_xml: bytes) -> bytes:
    """Without attachments, the template's landscape attachment section would print one blank
    page: the body's section properties take the last section's place instead."""
    last = document_xml.rfind(b"<w:sectPr")
    prev = document_xml.rfind(b"<w:sectPr", 0, last)
    if prev < 0:
        return document_xml
    prev_end = document_xml.index(b"</w:sectPr>", prev) + len(b"</w:sectPr>")
    last_end = document_xml.index(b"</w:sectPr>", last) + len(b"</w:sectPr>")
    return (document_xml[:prev] + document_xml[prev_end:last] + document_xml[prev:prev_end]
            + document_xml[last_end:])


class TemplateRefused(ValueError):
    """A report template that cannot or must not be rendered; the message says why (Chinese)."""


class _CachingEnvironment(SandboxedEnvironment):
    """A sandboxed Jinja environment that compiles each distinct source once per process.

    Sandboxed: a ``--template`` passed around by e-mail is untrusted, and Jinja without a
    sandbox lets a template reach Python (``''.__class__.__mro__…``); here such access raises
    ``SecurityError`` and the unit gets no report, with the reason.

    docxtpl compiles every part of the template (body, headers, footers, properties) with
    ``from_string`` on every render; for a batch the sources are the same each time, and
    compiling took 20 % of the time of writing a report.
    """

    def __init__(self) -> None:
        super().__init__(autoescape=True)
        self._compiled: dict[str, Any] = {}

    def from_string(self, source, globals=None, template_class=None):  # noqa: A002 - Jinja's signature
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        t = self._compiled.get(source)
        if t is None:
            if len(self._compiled) > 256:
                self._compiled.clear()
            t = self._compiled[source] = super().from_string(source)
        return t


_JINJA = _CachingEnvironment()  # one per process: a worker renders many reports


def render_report(dept: Department, profile: Profile, out: str | Path, template: str | Path | None = None,
                  result: CheckResult | None = None) -> Path:
    """Write the report of ``dept`` to ``out`` atomically; returns the path."""
    result = result or check(dept, profile)
    layout = compile_layout(profile, shape_for(dept, profile))
    template = Path(template) if template else DEFAULT_TEMPLATE
    if not template.exists():
        build_report_template(template)
    tpl = DocxTemplate(str(template))
    context = report_context(dept, profile, result)
    # the tables are placed after rendering: Jinja and docxtpl's fix-ups never see their XML
    markers = {"attachments": _marker("attachments"), "body_tables": _marker("body")}
    context.update(markers)
    try:
        tpl.render(context, jinja_env=_JINJA, autoescape=True)
    except TemplateError as e:  # SecurityError (sandbox), syntax errors, undefined filters …
        raise TemplateRefused(f"报告模板 {Path(template).name} 无法使用：{type(e).__name__}: {e}") from None
    values = flatten(dept, layout)
    # review notes are comments, never pages: on the table cell they name where it is printed,
    # else at their paragraph (``notes``)
    notes = report_notes(result.flags)
    in_cells = printed_keys(layout, dept, values)
    marks: dict[str, list[int]] = {}
    at_paragraphs = []
    for f in notes:
        if f.key in in_cells and keys.Key(f.key).root != keys.NARRATIVE:
            marks.setdefault(f.key, []).append(add_cell_comment(tpl.docx, f))
        else:
            at_paragraphs.append(f)
    titles = [sec.title for sec in profile.report.sections]
    comment_paragraphs(tpl.docx, at_paragraphs, titles, f"{dept.year}年度{dept.name}")
    body_tables = tables_xml(dept, layout, result.derived, True, values, marks)
    attachments = tables_xml(dept, layout, result.derived, False, values, marks)
    out = Path(out)
    with atomic_output(out) as tmp:
        tpl.pre_processing()  # what DocxTemplate.save does first (no pictures or media are replaced here)
        body = tpl.docx.part.partname.lstrip("/")
        save_package(tpl.docx, tmp, {body: lambda blob: _place_tables(blob, markers, body_tables, attachments)})
    return out
