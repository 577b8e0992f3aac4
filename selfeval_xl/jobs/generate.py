"""Generate one unit's blank workbook: the job ``generate`` runs in its process pool, and the
workspace's template download runs too (one code path for both)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..core.region import ProfileError
from ..forms.regions import get_profile
from ..outputs import describe_os_error


def open_region(name: str):
    """A region by id or folder, or the one a workbook made by this tool carries (a path ending
    in .xlsx/.xlsm). Raises ProfileError."""
    if name.lower().endswith((".xlsx", ".xlsm")):
        from ..xlsx.read import ReadError, profile_from_workbook

        try:
            return profile_from_workbook(name)
        except ReadError as e:
            raise ProfileError(str(e)) from None
    return get_profile(name)


def generate_unit(item, out: str, profile: str, year: int, generated_at: dt.datetime, key=None) -> dict:
    """One roster unit and its file name → one workbook (top-level, so a process pool can run it),
    signed with the coordinator's ``key`` (``xlsx.signing``)."""
    from ..roster import workbook_name
    from ..xlsx.write import write_workbook

    unit, name = item if isinstance(item, tuple) else (item, workbook_name(item.code, item.name, year))
    prof = open_region(profile)
    target = Path(out) / name
    try:
        write_workbook(unit.department(year, prof), prof, target, generated_at=generated_at, key=key)
    except OSError as e:
        return {"name": unit.name, "status": "failed", "reason": f"{unit.code} {unit.name}：{describe_os_error(e)}"}
    except ValueError as e:
        return {"name": unit.name, "status": "failed", "reason": f"{unit.code} {unit.name}：{e}"}
    return {"name": unit.name, "status": "ok", "file": str(target)}


