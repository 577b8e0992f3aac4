"""templates/ is rebuilt from code; committed files must match, part by part."""

from __future__ import annotations

import zipfile

import json

from build_templates import TEMPLATES, build, region_schema_text, schema_text


def _parts(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_schema_is_current():
    assert (TEMPLATES / "department.schema.json").read_text(encoding="utf-8") == schema_text(), \
        "templates/department.schema.json is stale: run `make templates`"


def test_region_schema_is_current_and_has_every_rule_kind():
    assert (TEMPLATES / "region.schema.json").read_text(encoding="utf-8") == region_schema_text(), \
        "templates/region.schema.json is stale: run `make templates`"
    schema = json.loads(region_schema_text())
    rule = schema["$defs"]["Check"]["properties"]
    for kind in ("equal", "compare", "sum", "equals", "range", "min", "max", "require", "if_filled", "when", "at",
                 "tolerance"):
        assert kind in rule and rule[kind].get("description"), kind
    assert "sources" not in schema["properties"]


def test_blank_workbooks_are_current(tmp_path):
    for fresh in build(tmp_path):
        if fresh.suffix != ".xlsx":
            continue
        committed = TEMPLATES / fresh.name
        assert committed.exists(), f"{committed} missing: run `make templates`"
        a, b = _parts(committed), _parts(fresh)
        assert sorted(a) == sorted(b)
        for name in a:
            assert a[name] == b[name], f"{fresh.name}:{name} is stale: run `make templates`"
