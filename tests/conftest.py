"""Shared fixtures. Tests that need LibreOffice fail (not skip) when CI is set."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from selfeval_xl.libreoffice import soffice_path
from selfeval_xl.model import Department

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def soffice() -> str:
    exe = soffice_path()
    if not exe:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is required in CI: .ci/run must install it")
        pytest.skip("LibreOffice not installed")
    return exe


def example_departments() -> dict[str, Department]:
    return {p.stem: Department.model_validate_json(p.read_text(encoding="utf-8"))
            for p in sorted((EXAMPLES / "data").glob("*.json"))}


@pytest.fixture(scope="session")
def examples() -> dict[str, Department]:
    return example_departments()


def without_stated(d: Department) -> Department:
    return d.model_copy(update={"stated": {}})


def model_diff(a: Department, b: Department) -> list[str]:
    """Readable field-level differences, for assertion messages."""
    out: list[str] = []

    def walk(x, y, path):
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y)):
                walk(x.get(k), y.get(k), f"{path}.{k}")
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (u, v) in enumerate(zip(x, y)):
                walk(u, v, f"{path}[{i}]")
        elif x != y:
            out.append(f"{path}: {x!r} != {y!r}")

    walk(json.loads(a.model_dump_json()), json.loads(b.model_dump_json()), "")
    return out
