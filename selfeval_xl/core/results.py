"""The result of checking one workbook or one report, typed.

``checking`` builds a ``UnitResult`` — its flags are ``Flag`` objects with typed places — and it
travels as such through the batch jobs (``jobs``: worker processes return it, it is picklable), the
CLI, the workspace and the summary writer. It becomes a dict only where it is written: JSON
(summary.json) and SQLite (the workspace's uploads). ``as_dict`` is
the one place that shape is written and ``from_dict`` the one place it is read back, so a stored
campaign of an earlier version still loads (its flags' places are read once, ``flags.location_of``).

Core: no file format, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .flags import ERROR, INFO, WARNING, Flag, from_dict as flag_from_dict

STATUS_OK, STATUS_WARN, STATUS_ERR, STATUS_UNREADABLE = "通过", "有警告", "有错误", "无法读取"
STATUS_BLANK = "未填写"  # a template returned as generated: an error, said as such on the board
REPORT_KIND = "报告"  # a report checked alone (no workbook beside it)

# the figures a workbook's result states; a report checked alone states fewer (no rate, no signature)
_UNIT = ("unit_code", "unit_name", "year", "profile", "stated_total", "recomputed_total", "grade")
_FIGURES = ("rate", "budget", "executed")
_KNOWN = {"file", "name", "status", "reason", "kind", "flags", "errors", "warnings", "infos", "signature",
          "report", "report_docx", "region_name", "rate_places", *_UNIT, *_FIGURES}


def status_of(flags: list[Flag]) -> str:
    """未填写 for a blank template, else the worst severity's status."""
    if any(f.code == "FILL-101" for f in flags):
        return STATUS_BLANK
    if any(f.severity == ERROR for f in flags):
        return STATUS_ERR
    return STATUS_WARN if any(f.severity == WARNING for f in flags) else STATUS_OK


@dataclass
class UnitResult:
    file: str  # as displayed (``outputs.display_path``)
    name: str
    status: str = STATUS_OK  # STATUS_*; ``status_of(flags)`` for a readable file
    flags: list[Flag] = field(default_factory=list)
    reason: str | None = None  # why a file could not be read (its status is 无法读取)
    kind: str | None = None  # REPORT_KIND for a report checked alone
    unit_code: str = ""
    unit_name: str = ""
    year: int | None = None
    profile: str | None = None
    # the name of the region the unit was checked by (its ``profile.name``): a region that lives in
    # a coordinator's folder, not installed, is named by it rather than by its id (汇总表, terminal)
    region_name: str | None = None
    stated_total: float | None = None
    recomputed_total: float | None = None
    grade: str | None = None
    rate: float | None = None
    # decimals of a percent the region shows its execution rate with (``Scoring.rate_places``): 汇总表's
    # 执行率 column shows each unit's rate as its forms do (None: two)
    rate_places: int | None = None
    budget: float | None = None
    executed: float | None = None
    signature: str | None = None
    report: str | None = None  # the unit's report beside its workbook (or the report itself)
    report_docx: str | None = None  # the .docx its comments can be written into
    # what later steps add (annotated copies, their failures): kept as given, in order
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def readable(self) -> bool:
        return self.status != STATUS_UNREADABLE

    def count(self, severity: str) -> int:
        return sum(1 for f in self.flags if f.severity == severity)

    def as_dict(self) -> dict[str, Any]:
        """The JSON/SQLite shape (as written before the result was typed)."""
        d: dict[str, Any] = {"file": self.file, "name": self.name}
        if self.kind is not None:
            d["kind"] = self.kind
        if not self.readable:
            d.update(status=self.status, reason=self.reason)
            return {**d, **self.extra}
        d.update({k: getattr(self, k) for k in _UNIT})
        if self.kind is None:
            d.update({k: getattr(self, k) for k in _FIGURES})
        d.update(errors=self.count(ERROR), warnings=self.count(WARNING), infos=self.count(INFO), status=self.status)
        if self.kind is None:
            d["signature"] = self.signature
        d["flags"] = [f.as_dict() for f in self.flags]
        for k in ("report", "report_docx", "region_name", "rate_places"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        return {**d, **self.extra}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "UnitResult":
        """A stored result back (what ``as_dict`` wrote, or a result of an earlier version)."""
        r = cls(file=d.get("file", ""), name=d.get("name", ""), status=d.get("status", STATUS_OK),
                flags=[flag_from_dict(f) for f in d.get("flags") or ()], reason=d.get("reason"), kind=d.get("kind"),
                **{k: d[k] for k in (*_UNIT, *_FIGURES, "signature", "report", "report_docx", "region_name", "rate_places")
                   if k in d})
        r.extra = {k: v for k, v in d.items() if k not in _KNOWN}
        return r
