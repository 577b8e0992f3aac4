"""The generate job: a blank, signed workbook for every unit of a roster. ``selfeval-xl generate``,
the workspace's templates zip and a unit's own template download all run ``generate`` /
``generate_unit`` (one code path)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..core.region import ProfileError
from ..forms.regions import get_profile
from ..files.outputs import describe_os_error


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


@dataclass
class Generated:
    """One unit's template: ``status`` "ok" with its ``file``, or "failed" with the ``reason``."""
    name: str
    status: str
    file: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _failed(file: str, name: str, reason: str) -> Generated:
    return Generated(name, "failed", reason=reason)


@dataclass
class GenerateRun:
    results: list[Generated] = field(default_factory=list)  # one per unit, in roster order
    interrupted: bool = False

    @property
    def failed(self) -> list[Generated]:
        return [r for r in self.results if not r.ok]


def generate(units: list, names: list[str], out: str | Path, profile: str, year: int, generated_at: dt.datetime,
             key=None, workers: int | None = None, progress: Callable[[int], None] | None = None) -> GenerateRun:
    """Every unit's workbook (``names``: its file name, ``roster.workbook_names``) into ``out``,
    in the process pool; ``profile`` is a region id or folder (each worker opens it once)."""
    from . import batch

    job = functools.partial(generate_unit, out=str(out), profile=profile, year=year, generated_at=generated_at, key=key)
    results, interrupted = batch.run(job, list(zip(units, names)), workers, label="生成模板", progress=progress,
                                     failed=_failed)
    return GenerateRun(results, interrupted)


def generate_unit(item, out: str, profile: str, year: int, generated_at: dt.datetime, key=None) -> Generated:
    """One roster unit and its file name → one workbook (top-level, so a process pool can run it),
    signed with the coordinator's ``key`` (``xlsx.signing``)."""
    from ..files.roster import workbook_name
    from ..xlsx.write import write_workbook

    unit, name = item if isinstance(item, tuple) else (item, workbook_name(item.code, item.name, year))
    prof = open_region(profile)
    target = Path(out) / name
    try:
        write_workbook(unit.department(year, prof), prof, target, generated_at=generated_at, key=key)
    except OSError as e:
        return Generated(unit.name, "failed", reason=f"{unit.code} {unit.name}：{describe_os_error(e)}")
    except ValueError as e:
        return Generated(unit.name, "failed", reason=f"{unit.code} {unit.name}：{e}")
    return Generated(unit.name, "ok", file=str(target))
