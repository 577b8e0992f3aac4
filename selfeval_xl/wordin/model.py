"""What a Word report is once read: paragraphs in document order (body and table cells alike),
tables as grids, and the region's outline sections found in them."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.flags import ReportPlace


class ReportReadError(ValueError):
    """A report that cannot be read; the message is for the user (Chinese) and names the file."""


@dataclass
class Para:
    index: int  # 1-based, in document order, counting the paragraphs of table cells too (as Word does)
    text: str
    table: int | None = None  # 1-based table number, for a paragraph in a table cell
    row: int | None = None  # 1-based
    col: int | None = None  # 1-based
    bold: bool = False
    page: int | None = None  # PDF only

    @property
    def where(self) -> ReportPlace:
        """The paragraph's typed place (shown 报告!第12段, 报告!表3 R5C2)."""
        return ReportPlace(paragraph=self.index, table=self.table, row=self.row, col=self.col, page=self.page)

@dataclass
class Grid:
    """A table as rows of cell texts; a merged cell's text repeated in every cell it covers."""

    index: int  # 1-based
    rows: list[list[str]]
    first_para: int  # index of its first paragraph
    page: int | None = None  # PDF only: the page the table (or this part of it) stands on

    def cell(self, r: int, c: int) -> str:
        """1-based row and column ("" outside the grid)."""
        try:
            return self.rows[r - 1][c - 1]
        except IndexError:
            return ""


@dataclass
class Section:
    key: str
    title: str  # the outline's title
    heading: Para | None  # the paragraph it was found at (None: not found)
    paras: list[Para] = field(default_factory=list)  # its body, heading excluded
    lead: str = ""  # text written on the heading's own line after the title (“三、…情况：无”)

    @property
    def text(self) -> str:
        lines = ([self.lead] if self.lead else []) + [p.text for p in self.paras]
        return "\n".join(t for t in lines if t.strip())

    def para_of(self, fragment: str) -> Para | None:
        """The body paragraph a quoted sentence (or its start) stands in; the heading for the lead."""
        frag = fragment.rstrip("…").strip()
        if not frag:
            return None
        for p in self.paras:
            if frag in p.text:
                return p
        if self.lead and frag in self.lead:
            return self.heading
        return None


@dataclass
class WordReport:
    file: str  # for messages
    kind: str  # docx | doc | wps | pdf
    paras: list[Para]
    grids: list[Grid]
    sections: dict[str, Section] = field(default_factory=dict)
    docx_path: str | None = None  # the .docx comments can be written into (the file, or its conversion)
    notes: list[str] = field(default_factory=list)  # what was read how (“由 LibreOffice 转换”)

    def head_text(self, n: int = 40) -> str:
        """The cover and title: the first ``n`` non-empty paragraphs."""
        return "\n".join([p.text for p in self.paras if p.text.strip()][:n])

    def para(self, index: int) -> Para | None:
        i = index - 1
        return self.paras[i] if 0 <= i < len(self.paras) and self.paras[i].index == index else \
            next((p for p in self.paras if p.index == index), None)

    @property
    def missing(self) -> list[Section]:
        return [s for s in self.sections.values() if s.heading is None]
