"""Check one returned workbook end to end, as a plain, picklable result for batches.

read (safe) → recompute → checks; the result carries what the coordinator's summary needs:
unit, year, profile, the total as the workbook states it and as recomputed, the grade,
counts by severity, a status, and every flag.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .checks import ERROR, INFO, WARNING, check
from .xlsx_read import ReadError, read_workbook

STATUS_OK, STATUS_WARN, STATUS_ERR, STATUS_UNREADABLE = "通过", "有警告", "有错误", "无法读取"


def check_workbook(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        rr = read_workbook(path)
    except ReadError as e:
        return {"file": str(path), "name": path.name, "status": STATUS_UNREADABLE, "reason": str(e)}
    dept = rr.dept
    result = check(dept, rr.book.layout.profile)
    flags = rr.flags + result.flags
    recomputed = result.total
    stated = dept.stated.get("overall.total_score", recomputed)
    counts = {sev: sum(1 for f in flags if f.severity == sev) for sev in (ERROR, WARNING, INFO)}
    status = STATUS_ERR if counts[ERROR] else (STATUS_WARN if counts[WARNING] else STATUS_OK)
    return {
        "file": str(path), "name": path.name, "unit_code": dept.code, "unit_name": dept.name, "year": dept.year,
        "profile": dept.profile, "stated_total": stated, "recomputed_total": recomputed, "grade": result.grade,
        "errors": counts[ERROR], "warnings": counts[WARNING], "infos": counts[INFO], "status": status,
        "flags": [f.as_dict() for f in flags],
    }
