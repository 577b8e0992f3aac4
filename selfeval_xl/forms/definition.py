"""The form-definition format: one TOML file per sheet, its grid drawn as a text table.

Why a drawn grid: a coordinator reviews a region the way she reads the paper form, row by
row, and a change shows in a diff as the row that changed. A sheet file is a list of blocks
(``[[block]]``); most are ``grid`` blocks, the rest are parts whose rows come from the rules
(indicator slots per 二级, the total row, 附件1's project rows, report sections, the guide).

Grid syntax — one line per row, cells separated by ``|`` (``\\|`` for a literal bar):

* ``text`` a label; ``text ::style`` with a style (header, title, note, label_left …);
  ``\\n`` is a line break; ``{year}``, ``{prior_year}``, ``{n}`` (the project number),
  ``{unit_name}``, ``{unit_code}``, ``{dept_name_label}``, ``{sheet}`` are filled in;
* ``<`` merged into the cell on its left, ``^`` into the cell above; ``~`` no cell at all;
* ``$key`` or ``$key:type`` a cell the clerk fills, bound to a model key (types: text,
  longtext, money, int, area, weight, score, percent, date); a ``date`` cell is a real Excel
  date (shown 2024年3月5日, validated 2000–2100), kept in the model as ISO text "2024-03-05";
  a text input may offer options, ``[block.choices]``: a value outside them is flagged (FILL-201);
* ``=key`` or ``=key:type`` a derived cell (types: money, rate, score, weight, text, grade)
  whose formula is in the block's ``[block.formulas]``; ``!key`` an unprinted hint cell;
* ``&exec.weight``, ``&exec.rate``, ``&exec.score``, ``&exec.hint`` the execution-rate cells,
  drawn from the rules (rounding, weight, whether it counts) for the block's ``exec``;
* a trailing ``@30`` sets the row height; a line ``-`` is an empty row; ``#`` starts a comment.

Beside its formula a derived cell declares, in ``[block.checks]`` keyed like ``[block.formulas]``
(a trailing ``*`` names every formula cell of the block whose key starts so), the check a
returned workbook raises when it states another value: ``{ code = "SUM-101", message = "…",
severity = "error", tolerance = "money" }``. A cell that declares none is checked as CALC-101.

Keys starting with ``.`` belong to the sheet's repeat item (``projects[0].name`` on 附件3(1)).
A formula is Excel with ``{key}`` references (``=SUM({.funds.current.full},…)``); text without
a leading ``=`` is a text template (``填表人：{signoff.preparer}``). Errors name file, line, key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from ..core.region import Limits, TomlError, parse_toml
from .cells import SEVERITIES, TOLERANCES, CellCheck
from .formula import FormulaError, Program
from .keys import INDICATOR_FIELDS, PROJECTS_ALL, project

INPUT_TYPES = ("text", "longtext", "money", "int", "area", "weight", "score", "percent", "date")
DERIVED_TYPES = ("money", "rate", "score", "weight", "text", "grade")
LABEL_STYLES = ("label", "label_left", "label_right", "label_center", "header", "title", "attach", "note",
                "footer", "footer_label", "indent1", "indent2", "indent3")
ROLES = ("guide", "basic", "overall", "project", "narrative", "other")
EXEC_PARTS = ("weight", "rate", "score", "hint")
BLOCK_KINDS = ("grid", "indicators", "totals", "project_rows", "sections", "guide")
# what each block kind but grid may set in its table (``indicators = { key = "overall", … }``)
BLOCK_PARAMS = {
    "indicators": ("key", "group", "levels", "columns", "headers"),
    "totals": ("key", "label", "exec", "grade_label"),
    "project_rows": ("key", "label", "spans", "hint_col"),
    "sections": (),
    "guide": (),
}
# the rules' indicator structure an indicator table draws: level1, or overall_level1 ("overall")
INDICATOR_LEVELS = ("project", "overall")
REPEATS = ("projects",)
REPORT_PLACES = ("attachment", "body")
_KEY = re.compile(r"^\.?[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff]*(\[\d+\])?(\.[\w\u4e00-\u9fff{}()\[\]]+)*$")
_HEIGHT = re.compile(r"^@(\d+(?:\.\d+)?)$")
_CODE = re.compile(r"^[A-Z]+-\d{3}$")
_CHECK_FIELDS = ("code", "message", "severity", "tolerance")
_MESSAGE_CHARS = 200


class FormError(ValueError):
    """A region definition that cannot be used; the message names file, line and key."""


@dataclass(frozen=True)
class GridCell:
    """One cell as drawn: what it is, and its text, key, type and style."""

    kind: str  # label | input | formula | hint | exec | merge_left | merge_up | none
    text: str = ""
    key: str = ""
    vtype: str = ""
    style: str = ""
    line: int = 0


@dataclass(frozen=True)
class GridRow:
    cells: tuple[GridCell, ...]
    height: float | None = None
    line: int = 0


@dataclass(frozen=True)
class Block:
    kind: str
    table: bool = True
    rows: tuple[GridRow, ...] = ()
    params: tuple[tuple[str, Any], ...] = ()
    formulas: tuple[tuple[str, str], ...] = ()
    prompts: tuple[tuple[str, str], ...] = ()
    warn: tuple[tuple[str, str], ...] = ()
    error: tuple[tuple[str, str], ...] = ()
    # hint cells the block draws whose warning ``check`` reports: (key, severity, condition,
    # message, at) from a ``[block.warn]`` / ``[block.error]`` entry written as a table
    reported: tuple[tuple[str, str, str, str, str], ...] = ()
    # each formula cell's declared check, by its key as written (wildcards resolved); a check's
    # tolerance "" means: the one its value type implies (``cells.tolerance_for``)
    checks: tuple[tuple[str, CellCheck], ...] = ()
    # a text input's options, by its key as written ([block.choices]: 湖北's 项目类别): a drop-down,
    # and the only right values — ``check`` flags another (FILL-201)
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()
    line: int = 0

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)


@dataclass(frozen=True, eq=False)  # identity: a region is compared by its digest (Profile)
class SheetDef:
    name: str
    role: str
    file: str
    blocks: tuple[Block, ...]
    widths: tuple[float, ...] = ()
    print_cols: int = 0
    repeat_rows: tuple[int, int] | None = None
    landscape: bool = True
    repeat: str | None = None  # "projects": one sheet per project
    report: str = "attachment"  # where its tables print in the report: "attachment" or "body" (云溪: section 三)
    # what the report's list of attachments calls the table (湖北: 项目绩效目标自评表); "" = by role
    title: str = ""
    source: str = field(default="", compare=False, repr=False)

    @property
    def uses_projects(self) -> bool:
        """Whether the sheet depends on which projects the unit has: 附件1's project rows, or a
        formula totalling every project (``{projects[*].key}``)."""
        every = "{" + PROJECTS_ALL
        return any(b.kind == "project_rows" or any(every in f for _k, f in b.formulas)
                   or any(every in w for _k, _s, w, _m, _a in b.reported) for b in self.blocks)


_SHEET_KEYS = {"name", "role", "title", "widths", "print_cols", "repeat_rows", "landscape", "repeat", "report", "block"}
_BLOCK_KEYS = {"grid", "indicators", "totals", "project_rows", "sections", "guide", "table", "exec", "formulas",
               "prompts", "choices", "warn", "error", "checks"}


def _fail(file: str, line: int, key: str, msg: str) -> FormError:
    where = f"{file} 第 {line} 行" if line else file
    return FormError(f"表格定义 {where}（{key}）：{msg}")


def _lines_of(source: str, marker: str) -> list[int]:
    """1-based line numbers of each line that starts with ``marker`` (after spaces)."""
    return [i + 1 for i, ln in enumerate(source.splitlines()) if ln.lstrip().startswith(marker)]


def _split_cells(line: str) -> list[str]:
    parts, cur, esc = [], [], False
    for ch in line:
        if esc:
            cur.append(ch if ch == "|" else "\\" + ch)
            esc = False
        elif ch == "\\":
            esc = True
        elif ch == "|":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if esc:
        cur.append("\\")
    parts.append("".join(cur))
    return parts


def parse_cell(raw: str, file: str, line: int, where: str) -> GridCell:
    s = raw.strip()
    if s == "<":
        return GridCell("merge_left", line=line)
    if s == "^":
        return GridCell("merge_up", line=line)
    if s == "~":
        return GridCell("none", line=line)
    sigil = s[:1]
    if sigil in "$=!" and len(s) > 1 and not s.startswith("=="):
        body = s[1:]
        key, _, vtype = body.partition(":")
        key, style = key.strip(), ""
        if " ::" in vtype:
            vtype, _, style = vtype.partition(" ::")
        elif " ::" in key:
            key, _, style = key.partition(" ::")
        vtype, style, key = vtype.strip(), style.strip(), key.strip()
        if not _KEY.match(key.replace("{sheet}", "s")):
            raise _fail(file, line, where, f"“{key}”不是有效的键（字母、数字、下划线，以 . 分隔）")
        if style and style not in LABEL_STYLES + ("footer",):
            raise _fail(file, line, where, f"样式“{style}”未知（可用：{'、'.join(LABEL_STYLES)}）")
        if sigil == "$":
            vtype = vtype or "text"
            if vtype not in INPUT_TYPES:
                raise _fail(file, line, where, f"填写格类型“{vtype}”未知（可用：{'、'.join(INPUT_TYPES)}）")
            return GridCell("input", key=key, vtype=vtype, style=style, line=line)
        if sigil == "=":
            vtype = vtype or "money"
            if vtype not in DERIVED_TYPES:
                raise _fail(file, line, where, f"计算格类型“{vtype}”未知（可用：{'、'.join(DERIVED_TYPES)}）")
            return GridCell("formula", key=key, vtype=vtype, style=style, line=line)
        return GridCell("hint", key=key, vtype="text", line=line)
    if sigil == "&":
        part = s[1:]
        if not part.startswith("exec.") or part[5:] not in EXEC_PARTS:
            raise _fail(file, line, where, f"“{s}”未知（可用：{'、'.join('&exec.' + p for p in EXEC_PARTS)}）")
        return GridCell("exec", key=part[5:], line=line)
    text, style = s, "label"
    if " ::" in s or s.startswith("::"):
        text, _, style = s.rpartition("::")
        text, style = text.strip(), style.strip()
        if style not in LABEL_STYLES:
            raise _fail(file, line, where, f"样式“{style}”未知（可用：{'、'.join(LABEL_STYLES)}）")
    return GridCell("label", text=text.replace("\\n", "\n"), style=style, line=line)


def parse_grid(text: str, file: str, first_line: int, cells_before: int = 0) -> tuple[GridRow, ...]:
    """A grid's rows; ``cells_before`` cells of the sheet are drawn already (``Limits.CELLS_PER_SHEET``)."""
    rows: list[GridRow] = []
    lines = text.split("\n")
    count = cells_before
    for i, ln in enumerate(lines):
        line_no = first_line + i
        s = ln.strip()
        if not s or s.startswith("#"):
            continue
        if s == "-":
            rows.append(GridRow((), None, line_no))
            continue
        parts = _split_cells(s)
        if len(parts) > Limits.GRID_COLUMNS + 1:
            raise _fail(file, line_no, "网格", f"一行有 {len(parts)} 格，超过上限 {Limits.GRID_COLUMNS} 格")
        count += len(parts)
        if count > Limits.CELLS_PER_SHEET:
            raise _fail(file, line_no, "网格", f"一张表的格数超过上限 {Limits.CELLS_PER_SHEET}")
        height = None
        m = _HEIGHT.match(parts[-1].strip())
        if m and len(parts) > 1:
            height = float(m.group(1))
            if not 0 < height <= 409:  # Excel's tallest row
                raise _fail(file, line_no, "网格", f"行高 {m.group(1)} 无效（应在 0 到 409 之间）")
            parts = parts[:-1]
        cells = tuple(parse_cell(p, file, line_no, f"网格第 {len(rows) + 1} 行第 {j + 1} 格") for j, p in enumerate(parts))
        if cells and cells[0].kind == "merge_left":
            raise _fail(file, line_no, "网格", "一行的第一格不能是 <（左边没有可合并的格）")
        if not rows and any(c.kind == "merge_up" for c in cells):
            raise _fail(file, line_no, "网格", "第一行不能有 ^（上面没有可合并的格）")
        rows.append(GridRow(cells, height, line_no))
    return tuple(rows)


def _pairs(v: Any, file: str, line: int, key: str) -> tuple[tuple[str, str], ...]:
    if v is None:
        return ()
    if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
        raise _fail(file, line, key, "应为“键 = 文字”的表")
    for k, x in v.items():
        if len(x) > Limits.FORMULA_CHARS:
            raise _fail(file, line, f"{key}.{k}", f"有 {len(x)} 个字符，超过上限 {Limits.FORMULA_CHARS}（Excel 公式的长度上限）")
    return tuple(v.items())


# Excel keeps a list validation's options in one formula of at most 255 characters
_CHOICES_CHARS = 250


def _choices(v: Any, block: Block, file: str, source: str, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``[block.choices]``: each key a text input of the block's grid, each value its options."""
    if not isinstance(v, dict):
        raise _fail(file, block.line, f"{where}.choices", "应为“键 = [\"选项1\", \"选项2\", …]”的表")
    inputs = {c.key: c for row in block.rows for c in row.cells if c.kind == "input"}
    out = []
    for k, opts in v.items():
        line = next(iter(_lines_of(source, f'"{k}"')), block.line)
        cell = inputs.get(k)
        if cell is None:
            raise _fail(file, line, f"choices.{k}", "不是该块网格中的填写格（$键）：下拉选项只能给填写格")
        if cell.vtype not in ("text", ""):
            raise _fail(file, line, f"choices.{k}", f"是 {cell.vtype} 格：下拉选项只能给文字格（$键 或 $键:text）")
        if not isinstance(opts, list) or not opts or not all(isinstance(o, str) and o.strip() and "," not in o for o in opts):
            raise _fail(file, line, f"choices.{k}", "应为至少一个选项的列表，每项是不含逗号的文字，如 [\"是\", \"否\"]")
        if len(",".join(opts)) > _CHOICES_CHARS:
            raise _fail(file, line, f"choices.{k}", f"各选项合计超过 {_CHOICES_CHARS} 个字符（Excel 下拉列表的上限）")
        out.append((k, tuple(o.strip() for o in opts)))
    return tuple(out)


def _numbers(v: Any, file: str, source: str, key: str, lo: float, hi: float, count: int) -> tuple[float, ...]:
    """A list of at most ``count`` numbers in [lo, hi] (column widths, rows to repeat)."""
    if not isinstance(v, list) or len(v) > count or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and lo <= x <= hi for x in v):
        raise _fail(file, (_lines_of(source, key) or [0])[0], key, f"应为至多 {count} 个 {lo:g} 到 {hi:g} 之间的数")
    return tuple(v)


def parse_sheet(source: str, file: str) -> SheetDef:
    """A sheet file's text → ``SheetDef``; every problem is a ``FormError`` naming file and line."""
    try:
        data = parse_toml(source)
    except TomlError as e:
        raise FormError(f"表格定义 {file}：{e}") from None
    source = source.removeprefix("\ufeff")
    unknown = set(data) - _SHEET_KEYS
    if unknown:
        k = sorted(unknown)[0]
        raise _fail(file, (_lines_of(source, k) or [0])[0], k, f"未知的键（可用：{'、'.join(sorted(_SHEET_KEYS))}）")
    for k in ("name", "role"):
        if not isinstance(data.get(k), str) or not data[k]:
            raise _fail(file, 0, k, "必须给出（文字）")
    if len(data["name"]) > 31 or any(ch in data["name"] for ch in "[]:*?/\\"):
        raise _fail(file, (_lines_of(source, "name") or [0])[0], "name", "工作表名最多 31 个字，不能含 [ ] : * ? / \\")
    if data["role"] not in ROLES:
        raise _fail(file, (_lines_of(source, "role") or [0])[0], "role", f"应为 {'、'.join(ROLES)} 之一")
    repeat = data.get("repeat")
    if repeat is not None and repeat not in REPEATS:
        raise _fail(file, (_lines_of(source, "repeat") or [0])[0], "repeat", "只能是 \"projects\"")
    report = data.get("report", "attachment")
    if report not in REPORT_PLACES:
        raise _fail(file, (_lines_of(source, "report") or [0])[0], "report",
                    "只能是 \"attachment\"（表格作为报告附件）或 \"body\"（表格放在报告正文中）")
    block_lines = _lines_of(source, "[[block]]")
    grid_lines = [n for n in _lines_of(source, "grid") if re.match(r"\s*grid\s*=", source.splitlines()[n - 1])]
    blocks: list[Block] = []
    grids_seen = 0
    cells = 0
    raw_blocks = data.get("block") or []
    if not isinstance(raw_blocks, list) or not raw_blocks:
        raise _fail(file, 0, "block", "至少要有一个 [[block]]")
    for bi, raw in enumerate(raw_blocks):
        line = block_lines[bi] if bi < len(block_lines) else 0
        where = f"block[{bi + 1}]"
        if not isinstance(raw, dict):
            raise _fail(file, line, where, "应为表（[[block]]）")
        unknown = set(raw) - _BLOCK_KEYS
        if unknown:
            raise _fail(file, line, f"{where}.{sorted(unknown)[0]}", f"未知的键（可用：{'、'.join(sorted(_BLOCK_KEYS))}）")
        kinds = [k for k in BLOCK_KINDS if k in raw]
        if len(kinds) != 1:
            raise _fail(file, line, where, f"每个块要有且只有一个：{'、'.join(BLOCK_KINDS)}")
        kind = kinds[0]
        rows: tuple[GridRow, ...] = ()
        params: dict[str, Any] = {}
        if kind == "grid":
            if not isinstance(raw["grid"], str):
                raise _fail(file, line, f"{where}.grid", "应为多行文字（'''…'''）")
            gl = grid_lines[grids_seen] if grids_seen < len(grid_lines) else line
            grids_seen += 1
            text = raw["grid"]
            rows = parse_grid(text, file, gl + 1, cells)  # TOML drops the newline right after '''
            cells += sum(len(r.cells) for r in rows)
            if not rows:
                raise _fail(file, gl, f"{where}.grid", "网格是空的")
        else:
            if not isinstance(raw[kind], dict):
                raise _fail(file, line, f"{where}.{kind}", "应为表（{ … }），如 " + kind + " = {}")
            params = dict(raw[kind])
            unknown = sorted(set(params) - set(BLOCK_PARAMS[kind]))
            if unknown:
                allowed = "、".join(BLOCK_PARAMS[kind]) or "无"
                raise _fail(file, line, f"{where}.{kind}.{unknown[0]}", f"未知的键（可用：{allowed}）")
            if "levels" in params and params["levels"] not in INDICATOR_LEVELS:
                raise _fail(file, line, f"{where}.{kind}.levels", f"应为 {'、'.join(INDICATOR_LEVELS)} 之一")
        if "exec" in raw:
            ex = raw["exec"]
            if not isinstance(ex, dict) or set(ex) != {"key", "executed", "budget"}:
                raise _fail(file, line, f"{where}.exec", "应为 { key = …, executed = …, budget = … }")
            params["exec"] = tuple(sorted(ex.items()))
        formulas = _pairs(raw.get("formulas"), file, line, f"{where}.formulas")
        for k, f in formulas:
            if f.startswith("="):
                try:
                    Program({"x": _plain_refs(f)})
                except FormulaError as e:
                    fl = next((n for n in _lines_of(source, f'"{k}"')), line)
                    raise _fail(file, fl, f"{where}.formulas.{k}", str(e)) from None
        block = Block(
            kind=kind, table=bool(raw.get("table", True)), rows=rows,
            params=tuple(sorted((k, _freeze(v)) for k, v in params.items())), formulas=formulas,
            prompts=_pairs(raw.get("prompts"), file, line, f"{where}.prompts"),
            warn=_pairs(_plain(raw.get("warn")), file, line, f"{where}.warn"),
            error=_pairs(_plain(raw.get("error")), file, line, f"{where}.error"),
            reported=_reported(raw, file, source, line, where),
            line=line,
        )
        if "checks" in raw:
            block = replace(block, checks=_checks(raw["checks"], block, file, source, where))
        if "choices" in raw:
            block = replace(block, choices=_choices(raw["choices"], block, file, source, where))
        blocks.append(block)
    _check_keys(blocks, file)
    widths = _numbers(data.get("widths", []), file, source, "widths", 0, 255, Limits.GRID_COLUMNS)
    rr = _numbers(data.get("repeat_rows", []), file, source, "repeat_rows", 0, 1000, 2)
    if rr and (len(rr) != 2 or not all(float(x).is_integer() for x in rr) or rr[0] > rr[1]):
        raise _fail(file, (_lines_of(source, "repeat_rows") or [0])[0], "repeat_rows", "应为 [首行, 末行]（从 0 起的整数）")
    print_cols = data.get("print_cols", 0)
    if not isinstance(print_cols, int) or isinstance(print_cols, bool) or not 0 <= print_cols <= Limits.GRID_COLUMNS:
        raise _fail(file, (_lines_of(source, "print_cols") or [0])[0], "print_cols", f"应为 0 到 {Limits.GRID_COLUMNS} 之间的整数")
    title = data.get("title", "")
    if not isinstance(title, str) or len(title) > Limits.NAME_CHARS or any(ch in title for ch in "{}\n"):
        raise _fail(file, (_lines_of(source, "title") or [0])[0], "title",
                    f"应为一行文字（不超过 {Limits.NAME_CHARS} 字，不含 {{ }}），如 \"项目绩效目标自评表\"")
    return SheetDef(
        name=data["name"], role=data["role"], file=file, blocks=tuple(blocks), title=title.strip(),
        widths=tuple(float(w) for w in widths), print_cols=print_cols,
        repeat_rows=(int(rr[0]), int(rr[1])) if rr else None, landscape=bool(data.get("landscape", True)), repeat=repeat,
        report=report, source=source,
    )


def _plain_refs(formula: str) -> str:
    """A formula with its placeholders filled by stand-ins, to check its syntax alone."""
    return formula.replace("{sheet}", "s").replace("{" + PROJECTS_ALL, "{" + project(0) + ".")


def _plain(v: Any) -> Any:
    """A ``[block.warn]``/``[block.error]`` table's conditional formats (key = condition)."""
    return {k: x for k, x in v.items() if not isinstance(x, dict)} if isinstance(v, dict) else v


_REPORTED_FIELDS = ("when", "message", "at")


def _reported(raw: dict, file: str, source: str, block_line: int, where: str) -> tuple:
    """``[block.warn]`` / ``[block.error]`` entries written as tables, ``"!键" = { when = "条件",
    message = "提示", at = "键" }``: a hint cell the region draws whose warning ``check`` reports
    (HINT-101 warning, HINT-201 error). Its formula is made from them, so the sheet and the
    check say the same thing."""
    found = []
    for kind, severity in (("warn", "warning"), ("error", "error")):
        table = raw.get(kind)
        if not isinstance(table, dict):
            continue
        for k, decl in table.items():
            if not isinstance(decl, dict):
                continue
            line = _table_line(source, block_line, f"[block.{kind}]", k)
            at = f"{where}.{kind}.{k}"
            unknown = sorted(set(decl) - set(_REPORTED_FIELDS))
            if unknown:
                raise _fail(file, line, at, f"未知的项“{unknown[0]}”（可用：{'、'.join(_REPORTED_FIELDS)}）")
            when, message, at_key = decl.get("when"), decl.get("message"), decl.get("at", "")
            if not isinstance(when, str) or not when.strip() or len(when) > Limits.FORMULA_CHARS:
                raise _fail(file, line, at, "when 必须给出：提示出现的条件（Excel 条件，用 {键} 指代单元格）")
            if not isinstance(message, str) or not message.strip() or len(message) > _MESSAGE_CHARS:
                raise _fail(file, line, at, f"message 必须给出（文字，至多 {_MESSAGE_CHARS} 个字）")
            if not isinstance(at_key, str) or (at_key and not _KEY.match(at_key)):
                raise _fail(file, line, at, f"at“{at_key}”不是有效的键")
            try:
                Program({"x": _plain_refs("=" + when)})
            except FormulaError as e:
                raise _fail(file, line, f"{at}.when", str(e)) from None
            found.append((k, severity, when, message.strip(), at_key))
    return tuple(found)


def _table_line(source: str, block_line: int, header: str, key: str) -> int:
    """The line declaring ``key`` in the block's table ``header`` (else the block's line)."""
    lines = source.splitlines()
    start = next((i for i in range(max(block_line - 1, 0), len(lines))
                  if lines[i].strip().replace(" ", "") == header), None)
    if start is None:
        return block_line
    for i in range(start + 1, len(lines)):
        s = lines[i].lstrip()
        if s.startswith("["):
            break
        if s.startswith((f'"{key}"', f"'{key}'", f"{key} ", f"{key}=")):
            return i + 1
    return start + 1


def _freeze(v: Any) -> Any:
    if isinstance(v, dict):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    return v


def _check_keys(blocks: list[Block], file: str) -> None:
    """Every derived cell has a formula, every formula a cell; no key drawn twice."""
    seen: dict[str, int] = {}
    for b in blocks:
        formulas = dict(b.formulas)
        reported = {k for k, *_ in b.reported}
        drawn = set()
        for row in b.rows:
            for c in row.cells:
                if c.kind in ("input", "formula", "hint"):
                    if c.key in seen:
                        raise _fail(file, c.line, c.key, f"键在第 {seen[c.key]} 行已经用过")
                    seen[c.key] = c.line
                if c.kind in ("formula", "hint"):
                    drawn.add(c.key)
                    if c.kind == "hint" and c.key in reported:
                        if c.key in formulas:
                            raise _fail(file, c.line, c.key, "提示格的公式已由 [block.warn]/[block.error] 的 when 和 "
                                                             "message 生成，不能再写在 [block.formulas] 中")
                    elif c.key not in formulas:
                        raise _fail(file, c.line, c.key, "计算格没有公式：请在该块的 [block.formulas] 中给出")
        hints = {c.key for row in b.rows for c in row.cells if c.kind == "hint"}
        for k in reported - hints:
            raise _fail(file, b.line, k, "[block.warn]/[block.error] 写成 { when, message } 的键应为该块网格中的提示格（!键）")
        cells = {c.key for row in b.rows for c in row.cells if c.key}
        for k, _sev, _when, _msg, at in b.reported:
            if at and at not in cells:
                raise _fail(file, b.line, f"{k}.at", f"at“{at}”不是该块网格中的单元格（提示指向的格应与提示格画在同一块中）")
        if b.kind == "indicators":
            # a column of the indicator table computed per row (得分 = 得分系数 × 权重)
            columns = set(b.param("columns") or ()) & set(INDICATOR_FIELDS)
            for k, _f in b.formulas:
                if k not in columns:
                    raise _fail(file, b.line, f"formulas.{k}", "指标表的 [block.formulas] 只能给该表 columns 中的列"
                                f"（如 score）写每行的公式，“{k}”不是")
            continue
        for k, _f in b.formulas:
            if k not in drawn:
                raise _fail(file, b.line, f"formulas.{k}", "该块的网格中没有这个计算格（=键 或 !键）")



# -- declared checks -------------------------------------------------------------------------

def formula_keys(block: Block) -> tuple[str, ...]:
    """The keys, as written in the form, of the formula cells a block draws: its ``=`` cells and
    execution cells (grid), or its total row (totals) — the cells ``[block.checks]`` may name."""
    if block.kind == "grid":
        found = [c.key for row in block.rows for c in row.cells if c.kind == "formula"]
        exec_key = dict(block.param("exec", ())).get("key")
        if exec_key:
            drawn = {c.key for row in block.rows for c in row.cells if c.kind == "exec"}
            found += [f"{exec_key.rstrip('.')}.{part}" for part in ("rate", "score") if part in drawn]
        return tuple(found)
    if block.kind == "indicators":  # the columns it computes per row, by field name ("score")
        return tuple(k for k, _f in block.formulas)
    if block.kind == "totals":
        key = str(block.param("key", "."))
        base = "" if key == "." else key.rstrip(".")
        return tuple(f"{base}.{name}" for name in ("weight_total", "total_score", "grade"))
    return ()


def _check_line(source: str, block_line: int, key: str) -> int:
    """The line declaring ``key`` in the block's ``[block.checks]`` (else that table's line, or the block's)."""
    lines = source.splitlines()
    header = next((i for i in range(max(block_line - 1, 0), len(lines))
                   if lines[i].strip().replace(" ", "") == "[block.checks]"), None)
    if header is None:
        return block_line
    for i in range(header + 1, len(lines)):
        s = lines[i].lstrip()
        if s.startswith("["):
            break
        if s.startswith((f'"{key}"', f"'{key}'", f"{key} ", f"{key}=")):
            return i + 1
    return header + 1


def _checks(v: Any, block: Block, file: str, source: str, where: str) -> tuple[tuple[str, CellCheck], ...]:
    """``[block.checks]`` → each formula cell's check; every problem names file, line and key."""
    if not isinstance(v, dict):
        raise _fail(file, block.line, f"{where}.checks", "应为“键 = { code = …, message = … }”的表")
    cells = formula_keys(block)
    if not cells:
        raise _fail(file, _check_line(source, block.line, ""), f"{where}.checks",
                    "该块没有可声明校验的计算格（只有网格块的 =键、&exec.rate、&exec.score、totals 块的合计行和指标表中写了公式的列可以）")
    exact: dict[str, CellCheck] = {}
    wild: list[tuple[str, CellCheck]] = []
    for k, decl in v.items():
        line = _check_line(source, block.line, k)
        at = f"{where}.checks.{k}"
        if not isinstance(decl, dict):
            raise _fail(file, line, at, '应为 { code = "SUM-101", message = "…", severity = "error", tolerance = "money" }')
        unknown = sorted(set(decl) - set(_CHECK_FIELDS))
        if unknown:
            raise _fail(file, line, at, f"未知的项“{unknown[0]}”（可用：{'、'.join(_CHECK_FIELDS)}）")
        code, message = decl.get("code"), decl.get("message")
        severity, tolerance = decl.get("severity", "error"), decl.get("tolerance", "")
        if not isinstance(code, str) or not _CODE.match(code):
            raise _fail(file, line, at, f"code“{code}”无效：应为大写字母、短横线和三位数字，如 SUM-101")
        if not isinstance(message, str) or not message.strip() or len(message) > _MESSAGE_CHARS:
            raise _fail(file, line, at, f"message 必须给出（文字，至多 {_MESSAGE_CHARS} 个字）")
        if severity not in SEVERITIES:
            raise _fail(file, line, at, f"severity“{severity}”无效（可用：{'、'.join(SEVERITIES)}）")
        if tolerance != "" and tolerance not in TOLERANCES:
            raise _fail(file, line, at, f"tolerance“{tolerance}”无效（可用：{'、'.join(TOLERANCES)}）")
        check = CellCheck(code, message.strip(), severity, tolerance)
        if k.endswith("*"):
            prefix = k[:-1]
            if "*" in prefix or not any(c.startswith(prefix) for c in cells):
                raise _fail(file, line, at, "该块没有以此开头的计算格（* 只能写在键的末尾）")
            wild.append((prefix, check))
        elif k in cells:
            exact[k] = check
        else:
            raise _fail(file, line, at, "不是该块的计算格（=键；填写格、提示格和标签不能声明校验）")
    wild.sort(key=lambda w: -len(w[0]))  # the longest prefix is the most specific
    found = []
    for c in cells:
        check = exact.get(c) or next((chk for prefix, chk in wild if c.startswith(prefix)), None)
        if check is not None:
            found.append((c, check))
    return tuple(found)
