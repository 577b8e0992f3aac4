"""A flag: what is wrong, where, and what to do — the one result type of every reader and check.

Core: no file format, no I/O. The reader (``xlsx.read``), the checks (``checks``) and the
region's own rules all produce ``Flag``; the summary, the annotated copy and the report read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ERROR, WARNING, INFO = "error", "warning", "info"


@dataclass
class Flag:
    code: str  # stable: SUM-101, IND-201, META-204 …
    severity: str  # ERROR | WARNING | INFO
    location: str  # 附件3(2)!H14, a sheet, or a report section
    message: str  # Chinese, says what to do
    stated: Any = None
    expected: Any = None
    key: str | None = None  # layout key of the flagged cell (for annotate)

    def as_dict(self) -> dict[str, Any]:
        # not dataclasses.asdict: it deep-copies every value, a measurable cost at 30 flags a unit
        return {"code": self.code, "severity": self.severity, "location": self.location, "message": self.message,
                "stated": self.stated, "expected": self.expected, "key": self.key}
