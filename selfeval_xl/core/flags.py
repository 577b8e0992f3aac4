"""A flag: what is wrong, where, and what to do — the one result type of every reader and check.

Core: no file format, no I/O. The reader (``xlsx.read``), the checks (``checks``) and the
region's own rules all produce ``Flag``; the summary, the annotated copy and the report read it.

Where a flag points is typed (``Flag.at``): a ``SheetCell`` (the sheet as the region's layout
names it, row and column), a ``ReportPlace`` (a paragraph or a table cell of a Word report), or
plain text for a whole sheet, a file or the metadata. It becomes ``附件2!H14`` text only when
shown (``Flag.location``, the summary, JSON, messages); whatever acts on the place — the
annotated copy's comments, the report's Word comments — reads the typed value, never the text,
so a clerk's renamed sheet or a sheet name holding ``!`` cannot mislead it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Union

ERROR, WARNING, INFO = "error", "warning", "info"

REPORT = "报告"  # the sheet-like name a report place is shown with: 报告!第12段


def column_letters(col: int) -> str:
    """Excel's letters of a 1-based column number (8 → H, 27 → AA)."""
    s = ""
    while col:
        col, rem = divmod(col - 1, 26)
        s = chr(65 + rem) + s
    return s


@dataclass(frozen=True)
class SheetCell:
    """A cell of a workbook: the sheet as the layout names it, 1-based row and column (as Excel
    counts them). The annotated copy maps the sheet to the clerk's name when it was renamed."""

    sheet: str
    row: int
    col: int

    @property
    def a1(self) -> str:
        return f"{column_letters(self.col)}{self.row}"

    def __str__(self) -> str:
        return f"{self.sheet}!{self.a1}"

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "col": self.col}


@dataclass(frozen=True)
class ReportPlace:
    """A place in a Word/PDF report: its 1-based paragraph in document order (what a comment
    anchors at; table cells' paragraphs counted too), and for a table cell its table, row and
    column (1-based); ``page`` for a PDF."""

    paragraph: int | None = None
    table: int | None = None
    row: int | None = None
    col: int | None = None
    page: int | None = None

    @property
    def within(self) -> str:
        """The place inside the report, as a message quotes it: 第12段, 表3 R5C2."""
        if self.table is not None:
            page = f"（第{self.page}页）" if self.page is not None else ""
            return f"表{self.table} R{self.row}C{self.col}{page}"
        if self.page is not None:
            return f"第{self.paragraph}段（第{self.page}页）"
        return f"第{self.paragraph}段" if self.paragraph is not None else ""

    def __str__(self) -> str:
        return f"{REPORT}!{self.within}" if self.within else REPORT

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("paragraph", self.paragraph), ("table", self.table), ("row", self.row),
                                  ("col", self.col), ("page", self.page)) if v is not None}


# a cell, a report place, or text naming what has no finer place (元数据, a sheet, a file name)
Location = Union[SheetCell, ReportPlace, str]


@dataclass
class Flag:
    code: str  # stable: SUM-101, IND-201, META-204 …
    severity: str  # ERROR | WARNING | INFO
    at: Location  # where: typed (see the module's docstring)
    message: str  # Chinese, says what to do
    stated: Any = None
    expected: Any = None
    key: str | None = None  # layout key of the flagged cell (``forms.keys.Key``); None on a report's place

    @property
    def location(self) -> str:
        """Where, as shown to a user: 附件3(2)!H14, 报告!第12段, a sheet, or 元数据."""
        return str(self.at)

    @property
    def cell(self) -> SheetCell | None:
        return self.at if isinstance(self.at, SheetCell) else None

    @property
    def place(self) -> ReportPlace | None:
        return self.at if isinstance(self.at, ReportPlace) else None

    def as_dict(self) -> dict[str, Any]:
        """The JSON/SQLite shape: today's text fields, plus ``at`` (the typed place) when there is one."""
        # not dataclasses.asdict: it deep-copies every value, a measurable cost at 30 flags a unit
        d = {"code": self.code, "severity": self.severity, "location": str(self.at), "message": self.message,
             "stated": self.stated, "expected": self.expected, "key": self.key}
        if not isinstance(self.at, str):
            d["at"] = self.at.as_dict()
        return d


# Results stored before locations were typed (a campaign database's workbook results of an earlier
# version) carry only the text; read back once here, never elsewhere. A report's flag of an earlier
# version named its paragraph by a key (report.para.12) beside its text (报告!表3 R5C2): read into
# its ``ReportPlace`` here, once; report flags now carry their place only.
_LEGACY_CELL = re.compile(r"^(?P<sheet>.+)!(?P<col>[A-Z]{1,3})(?P<row>\d+)$")
_LEGACY_REPORT_KEY = re.compile(r"^report\.para\.(?P<paragraph>\d+)$")
_LEGACY_REPORT_TEXT = re.compile(rf"^{REPORT}(?:!(?:第\d+段|表(?P<table>\d+) R(?P<row>\d+)C(?P<col>\d+))?"
                                 r"(?:（第(?P<page>\d+)页）)?)?$")


def _letters_to_col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def location_of(flag: dict[str, Any]) -> Location:
    """The typed place of a flag as stored (``Flag.as_dict``)."""
    at = flag.get("at")
    if isinstance(at, dict):
        if "sheet" in at:
            return SheetCell(str(at["sheet"]), int(at["row"]), int(at["col"]))
        return ReportPlace(**{k: int(v) for k, v in at.items()
                              if k in ("paragraph", "table", "row", "col", "page") and v is not None})
    text = str(flag.get("location") or "")
    legacy = _LEGACY_REPORT_KEY.match(str(flag.get("key") or ""))
    if legacy:
        shown = _LEGACY_REPORT_TEXT.match(text)
        parts = {k: int(v) for k, v in (shown.groupdict() if shown else {}).items() if v is not None}
        return ReportPlace(paragraph=int(legacy["paragraph"]), **parts)
    m = _LEGACY_CELL.match(text)
    if m:
        return SheetCell(m["sheet"], int(m["row"]), _letters_to_col(m["col"]))
    return text


def from_dict(d: dict[str, Any]) -> Flag:
    """A stored flag back as a ``Flag`` (its place typed; a report flag's legacy key read into its place)."""
    at = location_of(d)
    return Flag(d["code"], d["severity"], at, d.get("message", ""), d.get("stated"), d.get("expected"),
                None if isinstance(at, ReportPlace) and "at" not in d else d.get("key"))


def report_paragraph(flag: dict[str, Any]) -> int | None:
    """The report paragraph a stored flag points at (where its Word comment anchors), or None
    for a flag that is not on a paragraph of the unit's report."""
    at = location_of(flag)
    return at.paragraph if isinstance(at, ReportPlace) else None
