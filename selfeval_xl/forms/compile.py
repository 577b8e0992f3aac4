"""Compile a region's sheet definitions into the cells every edge walks.

``build_sheet`` turns one ``SheetDef`` (forms/definition.py) into a ``layout.Sheet`` for a
year and, for sheets repeated per project, a project index: grid blocks are placed as
drawn; the rule-driven blocks (indicator slots, the total row, 附件1's project rows, the
report sections, the guide) are drawn from the region's rules. Writer, reader, recompute,
checks and the Word tables all read the result, so they follow the definition together.

Each formula cell carries its ``CellCheck``: the one its block declares (``[block.checks]``),
or for the cells a building block draws itself (execution rate and score, the total row, 附件1's
project rows) the block's own — declared here, where those cells are.
"""

from __future__ import annotations

import re
from dataclasses import replace

from . import keys
from .cells import (
    GRADE, LONGTEXT, MONEY, PERCENT, RATE, SCORE, TEXT, WEIGHT, Cell, CellCheck, CondFormat, Sheet, Shape, _B, _count, _sum, a1,
    col_letter,
    blank_text, exec_score_formula, grade_formula, num, project_sheet_name, rate_formula, rate_style,
    tolerance_for,
)
from ..core.region import REGION_FILE, Limits, Profile
from .binding import form_name
from .definition import Block, FormError, GridCell, SheetDef
from .naming import guide_rate, guide_title, guide_weights
from .keys import Key, KeyFormatError
from .rules import hint_formula

# what the seeds write in 偏差原因分析及改进措施 at full marks; offered as a dropdown of suggestions:
# a reason is free text, never flagged for being another (a region's [block.choices] and
# 是否核心指标's CORE_CHOICES are strict: ``Cell.choices_strict``)
DEVIATION_CHOICES = ("无", "无偏差")
_INPUT_STYLE = {"text": "in_text", "longtext": "in_long", "money": "in_money", "int": "in_int", "area": "in_num",
                "weight": "in_num", "score": "in_num", "percent": "in_pct", "date": "in_date"}
_FORMULA_STYLE = {"money": "f_money", "rate": "f_rate", "score": "f_num", "weight": "f_num", "text": "f_text",
                  "grade": "f_text"}
# the style of a cell kept beside the printed form (a form without a grade row keeps its live grade there)
SIDE = "f_side"
DEFAULT_WIDTH = 9.0  # a column's width (Excel's character units) where a form gives none
_REF = re.compile(r"\{([^{}]+)\}")

# the checks of the cells the building blocks draw (a grid block's [block.checks] may override
# the execution cells' and a totals block's its total row's)
EXEC_RATE_CHECK = CellCheck("RATE-101", "执行率应等于 全年执行数 ÷ 全年预算数", "error", "rate")
EXEC_SCORE_CHECK = CellCheck("SCORE-101", "预算执行率得分应等于 分值 × 执行率（最高 100%）", "error", "score")
WEIGHT_TOTAL_CHECK = CellCheck("WEIGHT-102", "分值合计应等于各行分值之和", "error", "score")
TOTAL_SCORE_CHECK = CellCheck("SCORE-102", "总分应等于 执行率得分与各指标得分之和", "error", "score")
GRADE_CHECK = CellCheck("SCORE-104", "评价等次应与总分对应", "error", "exact")
PROJECT_LINE_CHECK = CellCheck("XATT-102", "附件1 中该项目的本年预算数/决算数应等于附件3 的全年预算数/执行数", "error", "money")
# in-sheet warnings a region draws itself and asks ``check`` to report ([block.warn] / [block.error])
HINT_CODES = {"warning": "HINT-101", "error": "HINT-201"}
PROJECT_SUM_CHECK = CellCheck("SUM-103", "项目支出应等于各类别、各项目之和（项目本年数取自附件3）", "error", "money")


def _typed(check: CellCheck | None, vtype: str) -> CellCheck | None:
    """A declared check whose tolerance is left to the cell's value type gets that type's."""
    if check is not None and not check.tolerance:
        return replace(check, tolerance=tolerance_for(vtype))
    return check


class _Context:
    """What a sheet's blocks share while it is compiled: placeholders, the key prefix of the
    repeated item, and each indicator block's weight and score keys for the total row."""

    def __init__(self, sdef: SheetDef, profile: Profile, shape: Shape, index: int | None):
        self.sdef, self.profile, self.shape, self.index = sdef, profile, shape, index
        self.prefix = keys.project(index) if index is not None else ""
        self.sheet_name = sdef.name.replace("{n}", str((index or 0) + 1))
        self.subs = {
            "{year}": str(shape.year), "{prior_year}": str(shape.year - 1), "{n}": str((index or 0) + 1),
            "{unit_name}": shape.unit_name, "{unit_code}": shape.unit_code, "{sheet}": self.sheet_name,
            "{dept_name_label}": profile.profile.dept_name_label,
        }
        # indicator block key → (weight keys, score keys, field → column), for its total row
        self.indicator_keys: dict[str, tuple[list[str], list[str], dict[str, int]]] = {}

    def text(self, s: str) -> str:
        for k, v in self.subs.items():
            if k in s:
                s = s.replace(k, v)
        return s

    def key(self, k: str, file: str = "", line: int = 0) -> Key:
        """A key as a block writes it, typed: ``{sheet}`` filled in, ``.key`` made this project's
        (``.`` alone, a block's key on a repeated sheet, is the project itself)."""
        if k[:1] == "." and self.index is None:
            raise FormError(f"表格定义 {file} 第 {line} 行：键“{k}”以 . 开头，但本表不是按项目重复的表（repeat）")
        if k == ".":
            return keys.project(self.index)
        try:
            key = Key(k.replace("{sheet}", self.sheet_name))
        except KeyFormatError as e:
            line = line or next((n for n, text in enumerate(self.sdef.source.splitlines(), 1) if k in text), 0)
            raise FormError(f"表格定义 {file or self.sdef.file}{f' 第 {line} 行' if line else ''}（键 {k}）：{e}") from None
        return key.in_project(self.index) if key.relative else key

    def formula(self, f: str) -> str:
        """A declared formula with relative keys resolved; text templates become Excel text joins."""
        if not f.startswith("="):
            parts, pos = [], 0
            for m in _REF.finditer(f):
                if m.start() > pos:
                    parts.append('"' + self.text(f[pos:m.start()]).replace('"', '""') + '"')
                parts.append("{" + self.key(m.group(1)) + "}")
                pos = m.end()
            if pos < len(f):
                parts.append('"' + self.text(f[pos:]).replace('"', '""') + '"')
            return "=" + ("&".join(parts) if parts else '""')
        return _REF.sub(self._ref, f.replace("{sheet}", self.sheet_name))

    def _ref(self, m: re.Match) -> str:
        """``{key}`` resolved; ``{projects[*].key}`` is that key on every project's sheet, joined
        by commas (for SUM, COUNT, MIN, MAX), or 0 when the unit has no project sheet."""
        k = self.key(m.group(1))
        if k.every:
            if self.index is not None:
                raise FormError(f"表格定义 {self.sdef.file}：按项目重复的表中不能写 {{{k}}}（各项目之和请写在其他表中）")
            n = len(self.shape.project_categories)
            return ",".join("{" + k.in_project(i) + "}" for i in range(n)) or "0"
        return "{" + k + "}"


def build_sheet(sdef: SheetDef, profile: Profile, shape: Shape, index: int | None = None) -> Sheet:
    ctx = _Context(sdef, profile, shape, index)
    sh = Sheet(ctx.sheet_name, sdef.role, widths=list(sdef.widths), print_cols=sdef.print_cols,
               project=index, landscape=sdef.landscape)
    b = _B(sh)
    r = 0
    tables: list[list[int]] = []  # [first, last] of each official table (adjacent table blocks join)
    for block in sdef.blocks:
        start = r
        if block.kind == "grid":
            r = _grid(b, ctx, block, r)
        elif block.kind == "indicators":
            r = _indicators(b, ctx, block, r)
        elif block.kind == "totals":
            r = _totals(b, ctx, block, r)
        elif block.kind == "project_rows":
            r = _project_rows(b, ctx, block, r)
        elif block.kind == "sections":
            r = _sections(b, ctx, r)
        elif block.kind == "guide":
            r = _guide(b, ctx, r)
        if block.table and r > start:
            if tables and tables[-1][1] == start - 1:
                tables[-1][1] = r - 1
            else:
                tables.append([start, r - 1])
        if len(sh.cells) > Limits.CELLS_PER_SHEET:  # rule-driven blocks grow with the rules
            raise FormError(f"表格定义 {sdef.file} 第 {block.line} 行：本表已有 {len(sh.cells)} 格，"
                            f"超过一张表的上限 {Limits.CELLS_PER_SHEET} 格")
    if not sh.print_cols and sh.cells:
        # print_cols left out: every column the blocks drew prints (else the print area would end at
        # column −1) but what sits beside the form and never prints: the in-sheet hints and the live
        # grade of a form without a grade row (``SIDE``); the region's rule hints go right of it
        sh.print_cols = 1 + max(((c.merge[1] if c.merge else c.c) for c in sh.cells
                                 if c.kind != "hint" and c.style != SIDE), default=0)
    if len(sh.widths) < sh.print_cols:
        # fewer widths than printed columns: the rest at Excel's usual width, so the workbook and
        # the report's table (whose columns take the sheet's proportions) agree on every column
        sh.widths += [DEFAULT_WIDTH] * (sh.print_cols - len(sh.widths))
    _printed(sh, sdef)
    _rule_hints(b, ctx)
    sh.tables = tuple((a, b) for a, b in tables)
    sh.in_body = sdef.report == "body"
    sh.repeat_rows = sdef.repeat_rows
    return sh


def _printed(sh: Sheet, sdef: SheetDef) -> None:
    """Refuse a ``print_cols`` that cuts off a cell a clerk fills: the print area and the
    report's table end there, so the column would silently vanish from paper and report. (Right
    of it go the in-sheet hints and the figures a form computes without printing them, like the
    grade of a form without a grade row.)"""
    beyond = [c for c in sh.cells if c.kind == "input" and c.c >= sh.print_cols]
    if beyond:
        cell = min(beyond, key=lambda c: (c.c, c.r))
        raise FormError(_cut_off(sdef, sh.print_cols, f"第 {cell.r + 1} 行 {col_letter(cell.c)} 列是填写格（键 {cell.key}）",
                                 1 + max((c.merge[1] if c.merge else c.c) for c in sh.cells if c.kind == "input")))


def _cut_off(sdef: SheetDef, print_cols: int, what: str, need: int) -> str:
    line = next((i + 1 for i, ln in enumerate(sdef.source.splitlines()) if ln.lstrip().startswith("print_cols")), 0)
    return (f"表格定义 {sdef.file}" + (f" 第 {line} 行" if line else "") + f"（print_cols）：print_cols = {print_cols}，"
            f"只打印 A–{col_letter(print_cols - 1)} 列，但{what}，打印和报告中会被裁掉；请把 print_cols 改为 {need}"
            f"（或删去这一行，按各块画出的列打印）")


# -- the region's [[checks]]: a hint cell beside each rule's cell ------------------------------

def _rule_hints(b: _B, ctx: _Context) -> None:
    """Each region rule whose ``at`` cell is on this sheet gets its in-sheet warning in the first
    free column right of the printed area on that row; the hint carries the rule, so ``check``
    reports what the sheet shows (``checks.check_rules``). A rule written with ``.key`` applies
    to every project's sheet; its other keys are resolved on that sheet."""
    sh = b.sh
    where = {c.key: c for c in sh.cells if c.key}
    for n, rule in enumerate(ctx.profile.checks):
        at_written = Key(rule.at_key)
        if at_written.relative != (ctx.index is not None):
            continue
        at = ctx.key(at_written)
        cell = where.get(at)
        if cell is None:
            continue
        row = cell.r
        taken = {c for x in sh.cells for c in range(x.c, (x.merge[1] if x.merge else x.c) + 1)
                 if x.r <= row <= (x.merge[0] if x.merge else x.r)}
        col = max(sh.print_cols, (cell.merge[1] if cell.merge else cell.c) + 1)
        while col in taken:
            col += 1
        key = keys.rule_hint(ctx.prefix, n + 1)
        b.hint(row, col, key, ctx.formula(hint_formula(rule, ctx.profile)))
        quoted = tuple(ctx.key(k) for k in rule.keys if not Key(k).every)
        sh.cells[-1].check = CellCheck(rule.code, rule.message, rule.severity, rule.tolerance, at=at, keys=quoted)


# -- grid blocks --------------------------------------------------------------------------------

def _grid(b: _B, ctx: _Context, block: Block, r0: int) -> int:
    formulas = {ctx.key(k): v for k, v in block.formulas}
    checks = {ctx.key(k): v for k, v in block.checks}
    for k, severity, when, message, at in block.reported:
        key = ctx.key(k)
        text = message.replace('"', '""').replace("{", "｛").replace("}", "｝")
        formulas[key] = f'=IF({when},"{text}","")'
        checks[key] = CellCheck(HINT_CODES[severity], message, severity, "exact", at=ctx.key(at) if at else "")
    prompts = {ctx.key(k): v for k, v in block.prompts}
    choices = {ctx.key(k): v for k, v in block.choices}
    exec_params = dict(block.param("exec", ()))
    owner: dict[tuple[int, int], Cell] = {}
    file = ctx.sdef.file
    for i, row in enumerate(block.rows):
        r = r0 + i
        if row.height:
            b.sh.heights[r] = row.height
        for c, gc in enumerate(row.cells):
            cell = _grid_cell(b, ctx, gc, r, c, formulas, prompts, exec_params, checks, choices)
            if gc.kind == "merge_left":
                left = owner.get((r, c - 1))
                if left is None:
                    raise FormError(f"表格定义 {file} 第 {gc.line} 行：第 {c + 1} 格的 < 左边没有可合并的格")
                last_r = left.merge[0] if left.merge else left.r
                left.merge = (max(last_r, r), c)
                owner[(r, c)] = left
            elif gc.kind == "merge_up":
                up = owner.get((r - 1, c))
                if up is None:
                    raise FormError(f"表格定义 {file} 第 {gc.line} 行：第 {c + 1} 格的 ^ 上面没有可合并的格")
                last_c = up.merge[1] if up.merge else up.c
                up.merge = (r, max(last_c, c))
                owner[(r, c)] = up
            elif cell is not None:
                owner[(r, c)] = cell
    for cell in owner.values():
        if cell.merge == (cell.r, cell.c):
            cell.merge = None
    for kind, style in (("warn", "cf_warn"), ("error", "cf_error")):
        for k, criteria in getattr(block, kind):
            key = ctx.key(k)
            sh_cell = next((c for c in b.sh.cells if c.key == key), None)
            if sh_cell is None:
                raise FormError(f"表格定义 {file} 第 {block.line} 行：[block.{kind}] 的“{k}”不在该块的网格中")
            b.sh.cond_formats.append(CondFormat((sh_cell.r, sh_cell.c), (sh_cell.r, sh_cell.c),
                                                ctx.formula("=" + criteria)[1:], style))
    _auto_prompts(b.sh, r0, r0 + len(block.rows))
    return r0 + len(block.rows)


def _grid_cell(b: _B, ctx: _Context, gc: GridCell, r: int, c: int, formulas: dict, prompts: dict,
               exec_params: dict, checks: dict[str, CellCheck], choices: dict | None = None) -> Cell | None:
    sh = b.sh
    n = len(sh.cells)
    if gc.kind == "label":
        b.label(r, c, ctx.text(gc.text), style=gc.style)
    elif gc.kind == "input":
        key = ctx.key(gc.key, ctx.sdef.file, gc.line)
        declared = (choices or {}).get(key)  # the region's options: the only right values
        options = declared or (DEVIATION_CHOICES if key.name == "deviation" else ())
        sh.cells.append(Cell(r, c, "input", key=key, vtype=gc.vtype, style=gc.style or _INPUT_STYLE[gc.vtype],
                             prompt=prompts.get(key), choices=options, choices_strict=bool(declared)))
    elif gc.kind in ("formula", "hint"):
        key = ctx.key(gc.key, ctx.sdef.file, gc.line)
        f = ctx.formula(formulas[key])
        if gc.kind == "hint":
            b.hint(r, c, key, f)
            sh.cells[-1].check = checks.get(key)
        else:
            style = gc.style or _FORMULA_STYLE[gc.vtype]
            sh.cells.append(Cell(r, c, "formula", key=key, vtype=gc.vtype, formula=f, style=style,
                                 check=_typed(checks.get(key), gc.vtype)))
    elif gc.kind == "exec":
        if not exec_params:
            raise FormError(f"表格定义 {ctx.sdef.file} 第 {gc.line} 行：&exec.{gc.key} 需要该块给出 exec = {{ key, executed, budget }}")
        _exec_cell(b, ctx, gc.key, r, c, exec_params, checks)
    else:
        return None
    return sh.cells[n] if len(sh.cells) > n else None


def _auto_prompts(sh: Sheet, r0: int, r1: int) -> None:
    """An input without a declared prompt gets its row's label and its column's header, as
    a clerk would read them off the form ("其中：当年财政拨款 年初预算数（万元）")."""
    labels = {(c.r, c.c): c for c in sh.cells if c.kind == "label" and isinstance(c.text, str) and c.text.strip()}
    for cell in sh.cells:
        if cell.kind != "input" or cell.prompt or not r0 <= cell.r < r1:
            continue
        row = next((labels[(cell.r, c)].text for c in range(cell.c - 1, -1, -1)
                    if (cell.r, c) in labels and not _tall(labels[(cell.r, c)])), "")
        head = next((labels[(r, cell.c)].text for r in range(cell.r - 1, -1, -1)
                     if (r, cell.c) in labels and labels[(r, cell.c)].style == "header"), "")
        text = (row + head).replace("\n", "").strip() or cell.key
        unit = {MONEY: "（万元）", "int": "（人）", "area": "（㎡）"}.get(cell.vtype, "")
        cell.prompt = (text + (unit if unit and unit not in text else ""))[:250]


def _tall(cell: Cell) -> bool:
    """A group label merged down several rows (项目资金（万元）): not a row's own label."""
    return bool(cell.merge) and cell.merge[0] > cell.r


# -- execution-rate cells from the rules ---------------------------------------------------------

def _exec_cell(b: _B, ctx: _Context, part: str, r: int, c: int, params: dict,
               checks: dict[str, CellCheck]) -> None:
    s = ctx.profile.scoring
    prefix = ctx.key(params["key"])
    executed, full = "{" + ctx.key(params["executed"]) + "}", "{" + ctx.key(params["budget"]) + "}"
    over = f"AND(N({full})>0,N({executed})>N({full}))"
    rate_key, score_key = keys.of(prefix, keys.RATE), keys.of(prefix, keys.SCORE)
    if part == "rate":
        b.formula(r, c, rate_key, rate_formula(executed, full, s.execution_rate_percent_decimals), RATE,
                  style=rate_style(s.rate_places), check=_typed(checks.get(rate_key), RATE) or EXEC_RATE_CHECK)
        b.sh.cond_formats.append(CondFormat((r, c), (r, c), over, "cf_warn"))
    elif part == "hint":
        b.hint(r, c, keys.hint(prefix, "rate"), f'=IF({over},"执行数超过全年预算数（超预算执行），请核实","")')
    elif part == "weight":
        b.label(r, c, num(s.execution_weight) if s.execution_shown else "—", style="f_num")
    elif s.execution_scored:
        b.formula(r, c, score_key, exec_score_formula("{" + rate_key + "}", s.execution_weight, ctx.profile), SCORE,
                  check=_typed(checks.get(score_key), SCORE) or EXEC_SCORE_CHECK)
    else:
        b.label(r, c, "—" if not s.execution_shown else "", style="f_num")


def _exec_score_keys(ctx: _Context, exec_key: str | None) -> list[str]:
    if not exec_key or not ctx.profile.scoring.execution_scored:
        return []
    return [ctx.key(exec_key).child(keys.SCORE)]


# -- indicator block and total row ---------------------------------------------------------------

# the indicator columns a form may declare, with their input type and prompt ("level1"/"level2"
# are the rules' 一级/二级 labels, drawn merged down their rows)
LEVEL_COLUMNS = ("level1", "level2")
CORE_CHOICES = ("是", "否")
_IND_COLUMNS = {
    "level1": (None, ""),
    "level2": (None, ""),
    "name": (TEXT, "三级指标名称"),
    "target": (TEXT, "年度指标值，如 ≥96%、≤181万元、12月31日之前"),
    "nature": (TEXT, "指标性质：≥、≤、= 或 定性"),
    "value": (TEXT, "指标值，如 96、181"),
    "unit": (TEXT, "度量单位，如 %、万元、件"),
    "actual": (TEXT, "实际完成值：写实际数，不要带 ≥ ≤ 等符号"),
    "weight": (WEIGHT, "本行分值"),
    "score": (SCORE, "得分：0 到本行分值之间"),
    "deviation": (TEXT, "满分可选“无”；未得满分时必须写明偏差原因及改进措施"),
    "initial_value": (TEXT, "年初指标值，如 ≥96%、181万元"),
    "adjusted_value": (TEXT, "调整后的指标值（未调整的照填年初指标值）"),
    "coefficient": (PERCENT, "得分系数：0% 到 100%，如 95%"),
    "core": (TEXT, "是否核心指标：是 / 否"),
    "criteria": (TEXT, "评分标准：本行怎样计分"),
}
INDICATOR_COLUMNS = tuple(_IND_COLUMNS)  # in the order a form may list them
_DEFAULT_COLUMNS = ("name", "target", "actual", "weight", "score", "deviation")
# the value type of an indicator column computed by a declared formula
_FORMULA_VTYPE = {"weight": WEIGHT, "score": SCORE, "coefficient": RATE}
_ROW_REF = re.compile(r"\{(" + "|".join(keys.INDICATOR_FIELDS) + r")\}")


def _row_formula(ctx: _Context, formula: str, slot: dict[str, str]) -> str:
    """A per-row formula of the indicator table: ``{weight}``, ``{coefficient}`` … are this row's
    cells; any other ``{key}`` is a cell of the forms as in a grid block's formulas."""
    return ctx.formula(_ROW_REF.sub(lambda m: "{" + slot[m.group(1)] + "}", formula))
_TARGET_FIELDS = ("target", "value", "adjusted_value", "initial_value")


def _indicator_columns(ctx: _Context, block: Block) -> dict[str, int]:
    """field → column. Columns naming "level1"/"level2", or given one header each (a flat list,
    naming neither), are the whole table, in order after the group column A; otherwise 一级 in B,
    二级 in C, then the fields, with two headers more (the form before columns were open: it
    still loads unchanged)."""
    fields = tuple(block.param("columns") or _DEFAULT_COLUMNS)
    unknown = [f for f in fields if f not in _IND_COLUMNS]
    # no weight: the form prints each 一级's points in its label only (湖北's 产出指标（50分）)
    missing = [f for f in ("name", "score") if f not in fields]
    twice = sorted({f for f in fields if fields.count(f) > 1})
    if unknown or missing or twice:
        raise FormError(f"表格定义 {ctx.sdef.file} 第 {block.line} 行：indicators.columns 应由 "
                        f"{'、'.join(_IND_COLUMNS)} 组成，每项至多一次，且含 name、score"
                        + (f"（未知：{'、'.join(map(str, unknown))}）" if unknown else "")
                        + (f"（缺少：{'、'.join(missing)}）" if missing else "")
                        + (f"（重复：{'、'.join(twice)}）" if twice else ""))
    heads = block.param("headers") or ()
    base = _group_columns(block)
    if any(f in LEVEL_COLUMNS for f in fields) or len(heads) == len(fields):
        return {f: base + i for i, f in enumerate(fields)}
    return {"level1": base, "level2": base + 1, **{f: base + 2 + i for i, f in enumerate(fields)}}


# the headers of the form before columns were open (岳阳's 附件2/附件3)
_DEFAULT_HEADERS = ("一级指标", "二级指标", "三级指标", "年度\n指标值", "实际\n完成值", "分值", "得分", "偏差原因分析及改进措施")


def indicator_header(profile: Profile, role: str, field: str) -> str | None:
    """What the region's indicator table on its ``role`` sheet (overall / project) prints above
    ``field``'s column, on one line (四川: 权重, 未完成原因分析); None where that table has no such
    column (湖北's has no reason column). The guide and the messages say it in these words."""
    for sdef in profile.forms.sheets:
        if sdef.role != role:
            continue
        for block in sdef.blocks:
            if block.kind != "indicators":
                continue
            fields = tuple(block.param("columns") or _DEFAULT_COLUMNS)
            heads = tuple(block.param("headers") or _DEFAULT_HEADERS)
            if not any(f in LEVEL_COLUMNS for f in fields) and len(heads) != len(fields):
                fields = LEVEL_COLUMNS + fields  # the older form: 一级, 二级 headed, not listed
            if field not in fields or len(heads) != len(fields):
                return None
            return "".join(str(heads[fields.index(field)]).split())
    return None


def _group_columns(block: Block) -> int:
    """1 when the table has its vertical group label (绩效指标) in column A; 0 when the form has
    none (``group = false``: 湖北's table starts with 一级指标 in A)."""
    return 0 if block.param("group") is False else 1


def _indicators(b: _B, ctx: _Context, block: Block, r: int) -> int:
    """The 绩效指标 block: header row, then per 一级 and 二级 the rules' number of slots.

    A table whose ``columns`` leave out ``weight`` (湖北: 产出指标（50分）, the clerk enters only
    得分) has no per-row weight: each row's hint says only what a row can (a number, not
    negative), and each 一级 gets a hint and a red cell when its rows' scores add to more than
    the weight its label prints; the region must give every ``[[level1]]`` a ``weight``."""
    prefix = ctx.key(block.param("key", "."), ctx.sdef.file, block.line).rstrip(".")
    levels = ctx.profile.levels(block.param("levels", "project"))
    cols = _indicator_columns(ctx, block)
    formulas, checks = dict(block.formulas), dict(block.checks)
    wc, sc, dc = cols.get("weight"), cols["score"], cols.get("deviation")
    if wc is None:
        _level1_caps(ctx, block, levels)
    hint_col = max(cols.values()) + 1
    if ctx.sdef.print_cols and hint_col > ctx.sdef.print_cols:  # 得分 or a reason column not printed
        last = max(cols, key=cols.get)
        raise FormError(_cut_off(ctx.sdef, ctx.sdef.print_cols,
                                 f"第 {block.line} 行的指标表画到 {col_letter(hint_col - 1)} 列（{last}"
                                 + ("；A 列是竖排的 group 标签，不要时写 group = false" if _group_columns(block) else "") + "）",
                                 hint_col))
    first = r
    heads = block.param("headers") or _DEFAULT_HEADERS
    if len(heads) != len(cols):
        raise FormError(f"表格定义 {ctx.sdef.file} 第 {block.line} 行：indicators.headers 应有 {len(cols)} 个"
                        f"（与各列一一对应：{'、'.join(sorted(cols, key=cols.get))}），现有 {len(heads)} 个")
    for c, text in enumerate(heads, start=_group_columns(block)):
        b.label(r, c, text, style="header")
    b.sh.heights[r] = 30
    if b.sh.header_row is None:
        b.sh.header_row = r
    r += 1
    weight_keys: list[str] = []
    score_keys: list[str] = []
    for l1 in levels:
        l1_first = r
        l1_weights: list[str] = []
        l1_scores: list[str] = []
        for l2 in l1.level2:
            l2_first = r
            l2_from = len(l1_scores), len(l1_weights)
            for k in range(l2.rows):
                slot = {f: keys.indicator(prefix, l2.key, k, f) for f in keys.INDICATOR_FIELDS}
                item = l2.items[k] if l2.items else None
                for f, c in cols.items():
                    if f in LEVEL_COLUMNS:
                        continue
                    if item is not None and f in ITEM_FIELDS:  # printed by the form, not typed
                        _item_cell(b, r, c, slot[f], f, item)
                        continue
                    if f in formulas:  # computed per row: 得分 = 得分系数 × 权重
                        vtype = _FORMULA_VTYPE.get(f, TEXT)
                        b.formula(r, c, slot[f], _row_formula(ctx, formulas[f], slot), vtype,
                                  style=_FORMULA_STYLE[vtype], check=_typed(checks.get(f), vtype))
                        continue
                    vtype, prompt = _IND_COLUMNS[f]
                    if f == "score" and wc is None:  # no row 分值: the 二级's or the 一级's points cap the rows
                        cap = l2 if l2.weight is not None else l1
                        prompt = f"得分：不小于 0；{cap.name}各行得分合计不超过 {num(cap.weight)} 分"
                    choices = DEVIATION_CHOICES if f == "deviation" else CORE_CHOICES if f == "core" else ()
                    b.input(r, c, slot[f], vtype, prompt=prompt, choices=choices, strict=f == "core")
                w, s = "{" + slot["weight"] + "}", "{" + slot["score"] + "}"
                if wc is None:  # no 分值 to compare with: what a row alone can say
                    b.hint(r, hint_col, keys.hint(prefix, l2.key, k),
                           f'=IF(ISNUMBER({s}),IF({s}<0,"得分不能为负数",""),IF({blank_text(s)},"","得分应填数字"))')
                else:
                    low = f'IF(AND({s}<{w},{blank_text("{" + slot["deviation"] + "}")}),"得分低于分值：请填写偏差原因","")' \
                        if dc is not None else '""'
                    b.hint(r, hint_col, keys.hint(prefix, l2.key, k),
                           f'=IF(AND(ISNUMBER({s}),ISNUMBER({w})),IF({s}>{w},"得分超过分值",{low}),"")')
                    l1_weights.append(slot["weight"])
                l1_scores.append(slot["score"])
                score_keys.append(slot["score"])
                b.sh.heights[r] = 30
                b.sh.optional_rows.add(r)
                r += 1
            b.sh.slot_groups.append((tuple(range(l2_first, r)), 1))  # a blank 二级 still shows one line
            if "level2" in cols:
                b.label(l2_first, cols["level2"], l2.label.replace("（", "\n（"), r2=r - 1, style="label_center")
            if l2.weight is not None:  # 数量指标（20分）: its rows' 分值 add up to it, or their 得分 not over
                _level2_sum(b, l2, l2_first, r - 1, l1_scores[l2_from[0]:] if wc is None else l1_weights[l2_from[1]:],
                            wc is None, cols, hint_col, prefix)
        if "level1" in cols:
            b.label(l1_first, cols["level1"], l1.label.replace("（", "\n（"), r2=r - 1, style="label_center")
        if l1.level2_weighted:
            pass  # its 二级's points add up to its own (region loading sees to it): their warnings say all
        elif wc is None:  # the 一级's points are in its label only: its rows' scores may not add to more
            _level1_cap(b, ctx, block, l1, l1_first, r - 1, l1_scores, cols, hint_col, prefix)
        elif l1.weight is not None:  # only the total fixed: no per-一级 warning (the total row has one)
            wsum = _sum(l1_weights)
            b.hint(l1_first, hint_col + 1, keys.hint(prefix, "level1", l1.key),
                   f'=IF({_count(l1_weights)}=0,"",IF(ABS({wsum}-{num(l1.weight)})>0.0001,'
                   f'"{l1.name}分值合计"&{wsum}&"，应为{num(l1.weight)}",""))')
            l1_col = cols.get("level1", _group_columns(block))
            b.sh.cond_formats.append(CondFormat(
                (l1_first, l1_col), (l1_first, l1_col),
                f"AND({_count(l1_weights)}>0,ABS({wsum}-{num(l1.weight)})>0.0001)", "cf_error"))
        weight_keys.extend(l1_weights)
    if _group_columns(block):
        b.label(first, 0, block.param("group", "绩\n效\n指\n标"), r2=r - 1, style="label_center")
    last = r - 1
    d0 = first + 1
    s0 = a1(d0, sc)
    if wc is None:
        b.sh.cond_formats.append(CondFormat((d0, sc), (last, sc), f"AND(ISNUMBER({s0}),{s0}<0)", "cf_error"))
        ctx.indicator_keys[prefix] = (weight_keys, score_keys, cols)
        return r
    w0 = a1(d0, wc)
    b.sh.cond_formats.append(CondFormat((d0, sc), (last, sc), f"AND(ISNUMBER({s0}),ISNUMBER({w0}),{s0}>{w0})", "cf_error"))
    if dc is not None:
        v0 = a1(d0, dc)
        b.sh.cond_formats.append(CondFormat((d0, dc), (last, dc),
                                            f"AND(ISNUMBER({s0}),ISNUMBER({w0}),{s0}<{w0},{blank_text(v0)})", "cf_warn"))
    ctx.indicator_keys[prefix] = (weight_keys, score_keys, cols)
    return r


# the columns of a scorecard row that the region prints (``[[level1]]``'s level2 ``items``)
ITEM_FIELDS = ("name", "weight", "criteria")


def _item_cell(b: _B, r: int, c: int, key: str, field: str, item) -> None:
    """A scorecard row's fixed cell: its 分值 a locked constant the row hint and the total row
    add up like any 分值 (and a changed one is caught on recompute); its name and 评分标准 locked
    text, read back from the region, never from the workbook (Excel caps a formula's text at
    255 characters, and a 评分标准 runs longer)."""
    if field == "weight":
        b.formula(r, c, key, f"={num(item.weight)}", WEIGHT, style=_FORMULA_STYLE[WEIGHT])
    else:
        b.label(r, c, getattr(item, field), style="label_left" if field == "criteria" else "label")


def _level1_caps(ctx: _Context, block: Block, levels) -> None:
    """A table without a 分值 column caps each row's scores by the weight its 二级's label prints
    (数量指标（20分）) or else its 一级's (产出指标（50分）); a 一级 where neither gives one leaves
    nothing to cap its rows: refused."""
    if levels and all(l1.capped for l1 in levels):
        return
    which = "overall_level1" if block.param("levels", "project") == "overall" and ctx.profile.overall_level1 else "level1"
    rules = dict(ctx.profile.sources).get(REGION_FILE, "")
    at = next((n for n, l1 in enumerate(levels) if not l1.capped), 0)
    headers = [n for n, text in enumerate(rules.splitlines(), 1) if text.strip() == f"[[{which}]]"]
    line = headers[at] if at < len(headers) else headers[0] if headers else 0
    name = levels[at].name if levels else ""
    raise FormError(f"表格定义 {ctx.sdef.file} 第 {block.line} 行（键 indicators.columns）：指标表没有分值列（weight），"
                    f"各行得分只能以所在二级或一级指标的分值为上限，但 region.toml"
                    + (f" 第 {line} 行" if line else "") + f"（键 {which}.weight）的一级指标“{name}”没有写 weight，"
                    f"其二级指标也没有都写 weight；请在每个 [[{which}]] 中写 weight = 该一级指标的分值"
                    f"（如 产出指标（50分）写 weight = 50），或在其每个二级指标中写 weight（如 数量指标（20分）写 weight = 20），"
                    f"或在 columns 中加上 weight")


def _level2_sum(b: _B, l2, first: int, last: int, row_keys: list[str], scores: bool, cols: dict[str, int],
                hint_col: int, prefix: str) -> None:
    """Per 二级 with its own points (数量指标（20分））: a hint beside its first row and a red 二级
    cell when its rows' 分值 do not add up to them (``checks``' WEIGHT-105) or, in a table without
    a 分值 column, its rows' 得分 add to more (SCORE-108). The hint takes the column a 一级's would:
    a 一级 whose 二级 all have points has none of its own."""
    total, cap, n = _sum(row_keys), num(l2.weight), _count(row_keys)
    if scores:
        wrong = f"{total}-{cap}>0.0001"
        said = f'"{l2.name}得分合计"&{total}&"，超过 {cap} 分"'
    else:
        wrong = f"ABS({total}-{cap})>0.0001"
        said = f'"{l2.name}分值合计"&{total}&"，应为{cap}"'
    b.hint(first, hint_col + 1, keys.hint(prefix, "level2", l2.key), f'=IF({n}=0,"",IF({wrong},{said},""))')
    col = cols.get("level2")
    if col is not None:
        where = ((first, col), (first, col))
    else:
        c = cols["score"] if scores else cols["weight"]
        where = ((first, c), (last, c))
    b.sh.cond_formats.append(CondFormat(where[0], where[1], f"AND({n}>0,{wrong})", "cf_error"))


def _level1_cap(b: _B, ctx: _Context, block: Block, l1, first: int, last: int, score_keys: list[str],
                cols: dict[str, int], hint_col: int, prefix: str) -> None:
    """Per 一级 of a table without a 分值 column: a hint and a red 一级 cell when its rows'
    scores add to more than the weight its label prints (``checks``' SCORE-107 says the same)."""
    ssum, cap = _sum(score_keys), num(l1.weight)
    b.hint(first, hint_col + 1, keys.hint(prefix, "level1", l1.key),
           f'=IF({_count(score_keys)}=0,"",IF({ssum}-{cap}>0.0001,'
           f'"{l1.name}得分合计"&{ssum}&"，超过 {cap} 分",""))')
    l1_col = cols.get("level1")
    where = ((first, l1_col), (first, l1_col)) if l1_col is not None else ((first, cols["score"]), (last, cols["score"]))
    b.sh.cond_formats.append(CondFormat(where[0], where[1], f"AND({_count(score_keys)}>0,{ssum}-{cap}>0.0001)", "cf_error"))


def _totals(b: _B, ctx: _Context, block: Block, r: int) -> int:
    """The total row (its label from the definition), and the grade row where the rules show one."""
    s = ctx.profile.scoring
    prefix = ctx.key(block.param("key", "."), ctx.sdef.file, block.line).rstrip(".")
    if prefix not in ctx.indicator_keys:
        raise FormError(f"表格定义 {ctx.sdef.file} 第 {block.line} 行：totals 之前没有 key 相同的 indicators 块")
    weight_keys, score_keys, cols = ctx.indicator_keys[prefix]
    declared = {ctx.key(k): v for k, v in block.checks}
    wk, tk, gk = (keys.of(prefix, k) for k in (keys.WEIGHT_TOTAL, keys.TOTAL_SCORE, keys.GRADE))
    wcheck = _typed(declared.get(wk), WEIGHT) or WEIGHT_TOTAL_CHECK
    tcheck = _typed(declared.get(tk), SCORE) or TOTAL_SCORE_CHECK
    gcheck = _typed(declared.get(gk), GRADE) or GRADE_CHECK
    wc, sc = cols.get("weight"), cols["score"]
    last_col = max(cols.values())
    hint_col = last_col + 1
    exec_score = _exec_score_keys(ctx, block.param("exec"))
    # without a 分值 column (weights fixed per 一级, printed in its label) the label runs to 得分
    head = sc if wc is None else wc
    b.label(r, 0, block.param("label", "总分"), c2=head - 1, style="header")
    if wc is not None:
        w_expr = _sum(weight_keys)
        if s.execution_scored:
            w_expr = f"{num(s.execution_weight)}+{w_expr}"
        b.formula(r, wc, wk, f'=IF({_count(weight_keys)}=0,"",{w_expr})', WEIGHT, check=wcheck)
    all_scores = exec_score + score_keys
    b.formula(r, sc, tk, f'=IF({_count(all_scores)}=0,"",{_sum(all_scores)})', SCORE, check=tcheck)
    if wc is not None and sc > wc + 1:  # a declared column between 权重 and 得分 (得分系数): a bordered blank under it
        b.label(r, wc + 1, "", c2=sc - 1, style="label")
    if last_col > sc:
        b.label(r, sc + 1, "", c2=last_col, style="label")
    total_ref = "{" + keys.of(prefix, keys.TOTAL_SCORE) + "}"
    if wc is not None:
        b.hint(r, hint_col, keys.hint(prefix, "total"),
               f'=IF({_count(weight_keys)}=0,"",IF(ABS({{{prefix}.weight_total}}-{num(s.total)})>0.0001,'
               f'"分值合计"&{{{prefix}.weight_total}}&"，应为{num(s.total)}",""))')
    if s.show_grade_row:
        r += 1
        b.label(r, 0, block.param("grade_label", "评价等次"), c2=head - 1, style="header")
        b.formula(r, head, gk, grade_formula(total_ref, ctx.profile), GRADE, c2=last_col, style="f_text", check=gcheck)
    else:
        # the official form has no grade row: the live grade sits beside the total, unprinted
        b.formula(r, hint_col + 1, gk, grade_formula(total_ref, ctx.profile), GRADE, style=SIDE, check=gcheck)
    return r + 1


# -- 附件1's project rows ---------------------------------------------------------------------------

def _project_rows(b: _B, ctx: _Context, block: Block, r: int) -> int:
    """项目支出: its total row, then per category of the rules a subtotal row, one row per
    project with a 附件3 (本年数 taken from it by formula) and the rules' free rows."""
    rules = ctx.profile.projects
    # the checks and prompts name the sheets as the region does (岳阳: 附件1 and 附件3)
    here, proj = form_name(ctx.profile, "basic") or b.sh.name, form_name(ctx.profile, "project") or "项目表"
    line_check = replace(PROJECT_LINE_CHECK, message=f"{here} 中该项目的本年预算数/决算数应等于{proj} 的全年预算数/执行数")
    sum_check = replace(PROJECT_SUM_CHECK, message=f"项目支出应等于各类别、各项目之和（项目本年数取自{proj}）")
    key = block.param("key", "basic.projects")
    spans = [tuple(sp) for sp in block.param("spans", ((1, 2), (3, 4), (5, 6)))]
    fields = ("prior", "budget", "final")
    hint_col = block.param("hint_col", 7)
    total_row = r
    r += 1
    cat_keys: list[str] = []
    show_categories = rules.category_rows
    for ci, (cat, cat_label) in enumerate(zip(rules.categories, rules.category_labels)):
        cat_row = r
        if show_categories:
            r += 1
        members: list[dict[str, str]] = []
        for i, pc in enumerate(ctx.shape.project_categories):
            if pc != cat:
                continue
            p = keys.project(i)
            b.formula(r, 0, f"{p}.basic.name", f'=""&{{{p}.name}}', TEXT, style="f_indent",
                      check=replace(line_check, tolerance="exact"))
            (c1, c2), (c3, c4), (c5, c6) = spans
            b.input(r, c1, f"{p}.prior_year_final", MONEY, c2=c2, prompt="该项目上年决算数（万元）")
            b.formula(r, c3, f"{p}.basic.budget", "={" + keys.funds(p, "total", "full") + "}", c2=c4,
                      check=line_check)
            b.formula(r, c5, f"{p}.basic.final", "={" + keys.funds(p, "total", "executed") + "}", c2=c6,
                      check=line_check)
            b.hint(r, hint_col, keys.hint(p, "basic"), f'="← 本年数取自{_project_sheet(ctx.profile, i)}"')
            members.append({"prior": f"{p}.prior_year_final", "budget": f"{p}.basic.budget", "final": f"{p}.basic.final"})
            r += 1
        free_first, linked = r, len(members)
        for j in range(rules.free_rows_per_category):
            k = keys.other_project(ci, j)
            b.input(r, 0, f"{k}.name", TEXT, prompt=f"无{proj}{'' if proj.endswith('表') else ' 表'}的{cat}项目名称")
            for (c, c2), f in zip(spans, fields):
                b.input(r, c, f"{k}.{f}", MONEY, c2=c2, prompt=f"{cat}项目（万元）")
            members.append({f: f"{k}.{f}" for f in fields})
            b.sh.optional_rows.add(r)
            r += 1
        # free lines stay one click away; one shows while the category has no line at all
        if r > free_first:
            b.sh.slot_groups.append((tuple(range(free_first, r)), 0 if linked else 1))
        ck = f"{key}.cat{ci}"
        if show_categories:
            for (c, c2), f in zip(spans, fields):
                b.formula(cat_row, c, f"{ck}.{f}", "=" + _sum([m[f] for m in members]), c2=c2, check=sum_check)
            b.label(cat_row, 0, cat_label, style="indent1")
            cat_keys.append(ck)
        else:
            cat_keys.extend(m for m in members)  # type: ignore[arg-type]
    b.label(total_row, 0, block.param("label", "项目支出："), style="label_left")
    for (c, c2), f in zip(spans, fields):
        refs = [f"{k}.{f}" for k in cat_keys] if show_categories else [m[f] for m in cat_keys]  # type: ignore[index]
        b.formula(total_row, c, f"{key}.total.{f}", "=" + _sum(refs), c2=c2, check=sum_check)
    return r


# -- sheets written from the rules: report sections and the guide -------------------------------

def _sections(b: _B, ctx: _Context, r: int) -> int:
    for sec in ctx.profile.report.sections:
        b.label(r, 0, sec.title + (f"\n（{sec.hint}）" if sec.hint else ""), style="label_left")
        b.input(r, 1, f"narrative.sections.{sec.key}", LONGTEXT, prompt=sec.hint[:250] or sec.title)
        b.sh.heights[r] = 150 if not sec.hint.startswith("没有") else 40
        r += 1
    return r


def _guide(b: _B, ctx: _Context, r: int) -> int:
    profile, shape = ctx.profile, ctx.shape
    b.label(r, 0, guide_title(profile, shape.year), c2=1, style="title")
    b.sh.heights[r] = 30
    r += 2
    lines = [
        ("单位", f"{shape.unit_code} {shape.unit_name}"),
        ("适用规则", f"{profile.profile.name}（{profile.id}）"),
        ("图例", "浅黄色单元格：请填写"),
        ("", "灰色单元格：自动计算，已锁定，无需也不能修改"),
        ("", f"红色底纹：数据有误（如{_red_example(profile)}）；橙/黄色底纹：请核实或补充说明"),
        ("", "表格右侧红字（不打印）：即时校验提示"),
        ("填写顺序", profile.forms.guide_order or _fill_order(profile)),
        ("金额", profile.forms.guide_money or "单位均为万元，只填数字，例如 103.86；不要输入“万元”、逗号或空格。"),
        ("执行率", guide_rate(profile, _exec_rule(profile))),
        ("分值", guide_weights(profile, _weights_rule(profile))),
        ("得分", profile.forms.guide_score or _score_rule(profile)),
        ("评价等次", _grades_rule(profile)),
    ]
    project, basic = form_name(profile, "project"), form_name(profile, "basic")
    rows_sheet = next((s.name for s in profile.forms.sheets for b in s.blocks if b.kind == "project_rows"), None)
    if rows_sheet:
        lines.append((f"无{project or '项目表'} 的项目", f"在{basic or rows_sheet} 相应类别下的空白行填写项目名称和金额。"))
    spares = (f"未用的备用{project}{'' if project.endswith('表') else ' 表'}也已隐藏。"
              if project and profile.projects.spare_sheets else "")
    lines.append(("更多行", "每个二级指标下只显示已填写的行（空白时显示一行），其余空行已隐藏，不会打印："
                           "需要时选中隐藏行上下两行，右键“取消隐藏”（或点左侧的“+”）。" + spares))
    lines.append(("保护", "各表已保护（无密码），仅为防止误改公式；请勿删除、插入行列或重命名工作表。"))
    for k, v in lines:
        b.label(r, 0, k, style="label_left")
        style = {"浅黄色单元格：请填写": "legend_input", "灰色单元格：自动计算，已锁定，无需也不能修改": "legend_formula"}.get(v, "label_left")
        if v.startswith("红色底纹"):
            style = "legend_error"
        elif v.startswith("表格右侧红字"):
            style = "legend_hint"
        b.label(r, 1, v, style=style)
        b.sh.heights[r] = 20 if len(v) < 60 else 36 * (1 + len(v) // 120)
        r += 1
    return r


def _project_sheet(profile: Profile, i: int) -> str:
    """The i-th project sheet's name as the region draws it (附件3(2), 项目自评表(2))."""
    sdef = next((s for s in profile.forms.sheets if s.role == "project"), None)
    return sdef.name.replace("{n}", str(i + 1)) if sdef is not None else project_sheet_name(i)


def _fill_order(profile: Profile) -> str:
    """The guide's 填写顺序 where the region gives none: its own sheets by the names it gives them
    (岳阳's reads ① 附件3 … ② 附件1 … ③ 附件2 …, as it always has), in the order a clerk fills
    them — the project tables first, since the summary sheets take their figures."""
    project, basic, overall = (form_name(profile, r) for r in ("project", "basic", "overall"))
    rows = any(b.kind == "project_rows" for s in profile.forms.sheets for b in s.blocks)
    steps = []
    if project:
        # 一级项目 is Hunan's budget word (its packages have a 基础数据表); elsewhere a project is a project
        steps.append(f"{project}：每个{'一级' if basic else ''}项目一张表（名册之外的项目请用隐藏的备用表：在工作表标签上右键“取消隐藏”）")
    if basic:
        steps.append(f"{basic}：人员、三公经费、公用经费等" + (f"，项目行的本年预算数/决算数自动取自{project}"
                                                              if rows and project else ""))
    if overall:
        steps.append(f"{overall}：部门整体预算、收入性质、基本支出和绩效指标")
    narrative = form_name(profile, "narrative")
    if narrative:
        steps.append(f"{narrative}：各部分文字" + ("和人员经费" if overall else ""))
    marks = "①②③④⑤⑥⑦⑧⑨⑩"
    return "；".join(f"{marks[min(i, len(marks) - 1)]} {t}" for i, t in enumerate(steps)) + "。"


def _grades_rule(profile: Profile) -> str:
    """优：90 分及以上；…；差：低于 60 分 (a region with one grade has no lower bound to name)."""
    grades = profile.grades
    if len(grades) == 1:
        return f"{grades[0].name}：所有得分"
    return "；".join(f"{g.name}：{num(g.min)} 分及以上" if g.min > 0 else f"{g.name}：低于 {num(grades[-2].min)} 分"
                    for g in grades)


def _weight_word(profile: Profile) -> str:
    """What the region's indicator table calls a row's points: 分值 (湖南), 权重 (四川)."""
    return indicator_header(profile, "project" if form_name(profile, "project") else "overall", "weight") or "分值"


def _unweighted(profile: Profile) -> bool:
    """The region's indicator table has 得分 but no 分值 column (湖北: the points are in the 一级 label)."""
    role = "project" if form_name(profile, "project") else "overall"
    return bool(indicator_header(profile, role, "score")) and not indicator_header(profile, role, "weight")


def _red_example(profile: Profile) -> str:
    role = "project" if form_name(profile, "project") else "overall"
    per_l2 = any(l2.weight is not None for _, l2 in profile.level2_all(role))
    if _unweighted(profile):
        return "二级或一级指标下各行得分合计超过其分值" if per_l2 else "一级指标下各行得分合计超过其分值"
    return f"得分超过{_weight_word(profile)}、{_weight_word(profile)}合计不符"


def _score_rule(profile: Profile) -> str:
    """The guide's 得分 line in the words of the region's indicator table: its 分值 column (四川:
    权重) and its reason column (四川: 未完成原因分析; 湖北 has none, so the reason goes in the
    report). Hunan's table gives today's wording."""
    role = "project" if form_name(profile, "project") else "overall"
    weight = _weight_word(profile)
    reason = indicator_header(profile, role, "deviation")
    why = f"必须填写{reason}" if reason else "请在报告中说明原因"
    l2 = next((l2 for _, l2 in profile.level2_all(role) if l2.weight is not None), None)
    if _unweighted(profile) and l2 is not None:
        # no 分值 column, the points printed per 二级 (数量指标（20分）)
        return (f"得分不小于 0；各行得分合计不超过所在二级指标的分值（如 {l2.label}；二级没有印分值的，"
                f"不超过所在一级指标的分值）；未达到指标值的，{why}。"
                "实际完成值请写实际数（如 98%），不要照抄指标值或带 ≥、≤ 符号。")
    if _unweighted(profile):
        # no 分值 column (湖北): each 一级's points are in its label
        return (f"得分不小于 0；每个一级指标下各行得分合计不超过该一级指标的分值（如 {profile.levels(role)[0].label}）；"
                f"未达到指标值的，{why}。实际完成值请写实际数（如 98%），不要照抄指标值或带 ≥、≤ 符号。")
    return (f"得分在 0 与本行{weight}之间；未得满分的，{why}。"
            "实际完成值请写实际数（如 98%），不要照抄指标值或带 ≥、≤ 符号。")


def _weights_rule(profile: Profile) -> str:
    s = profile.scoring

    def of_level2(l1) -> str:  # 数量指标 30 分、成本指标 20 分 where the form prints points per 二级
        return "（" + "、".join(f"{l2.name} {num(l2.weight)} 分" for l2 in l1.level2) + "）" if l1.level2_weighted else ""

    if profile.weights_fixed_per_level1():
        parts = [f"{l1.name} {num(l1.weight)} 分{of_level2(l1)}" for l1 in profile.level1]
        head = "一级指标分值："
    elif all(l1.level2_weighted for l1 in profile.level1):
        parts = [f"{l1.name} {num(sum(l2.weight for l2 in l1.level2))} 分{of_level2(l1)}" for l1 in profile.level1]
        head = "指标分值："
    else:
        parts = [f"绩效指标合计 {num(profile.indicator_total())} 分（"
                 + "、".join(l1.name for l1 in profile.level1) + "之间由单位自行分配）"]
        head = "指标分值："
    if s.execution_scored:
        parts.append(f"预算执行率 {num(s.execution_weight)} 分")
    text = head + "；".join(parts) + f"；合计 {num(s.total)} 分。"
    if s.execution_shown and not s.execution_scored:
        text += f"预算执行率显示分值 {num(s.execution_weight)} 分，但不计入合计。"
    return text


def _exec_rule(profile: Profile) -> str:
    s = profile.scoring
    rounding = ("执行率先四舍五入到" + ("整数百分比" if s.execution_rate_percent_decimals == 0
                                      else f"{s.execution_rate_percent_decimals} 位小数的百分比") + "，再") \
        if s.execution_rate_percent_decimals >= 0 else ""
    if not s.execution_scored:
        return "执行率 = 全年执行数 ÷ 全年预算数，只显示、不计分。"
    return (f"执行率 = 全年执行数 ÷ 全年预算数；{rounding}按 分值 × 执行率（最高 100%）计分，"
            f"即 {num(s.execution_weight)} 分 × 执行率。超过 100% 的为超预算执行，会被提示。")

