"""Shared fixtures. Tests that need LibreOffice fail (not skip) when CI is set."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from selfeval_xl.files.libreoffice import soffice_path
from selfeval_xl.core.model import Department

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session", autouse=True)
def signing_key_file(tmp_path_factory) -> Path:
    """Every test signs and verifies with a key of its own run, never the user's
    (``xlsx.signing``: the CLI creates this machine's key on first use). Set in the
    environment, so process-pool workers see it too."""
    path = tmp_path_factory.mktemp("key") / "signing.key"
    # the proven-regions cache (``proving``) too: a test run never writes to the user's ~/.cache
    saved = {k: os.environ.get(k) for k in ("SELFEVAL_KEY_FILE", "SELFEVAL_CACHE_DIR")}
    os.environ["SELFEVAL_KEY_FILE"] = str(path)
    os.environ["SELFEVAL_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield path
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


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


def after_roundtrip(d: Department) -> Department:
    """What extract(fill(d)) gives: the inputs, plus those stated figures that disagree with the
    recompute (fill writes stated figures as cached values; extract keeps the ones that differ)."""
    from selfeval_xl.forms.recompute import derive
    from selfeval_xl.forms.layout import compile_layout
    from selfeval_xl.forms.regions import get_profile
    from selfeval_xl.xlsx.write import shape_for

    prof = get_profile(d.profile)
    want = derive(without_stated(d), compile_layout(prof, shape_for(d, prof)))
    keep = {}
    for k, v in d.stated.items():
        w = want.get(k)
        same = (isinstance(v, (int, float)) and isinstance(w, (int, float)) and abs(v - w) <= 1e-6 * max(1, abs(w))) \
            or (w is None and v == 0) or v == w
        if not same:
            keep[k] = float(v) if isinstance(v, (int, float)) else v
    return d.model_copy(update={"stated": keep})


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
