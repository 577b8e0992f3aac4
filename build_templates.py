"""Rebuild everything in templates/ from code: the JSON Schema of the model and one blank
example workbook per bundled profile, the JSON Schemas of region.toml and of forms/*.toml, and
the reference page of both (docs/region-reference.md). A test fails when the committed files are stale.

    python build_templates.py [--check]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from selfeval_xl.core.model import Department
from selfeval_xl.forms.regions import available_profiles, get_profile
from selfeval_xl.forms.schema import form_json_schema, reference_markdown, region_schema
from selfeval_xl.xlsx.write import write_workbook

ROOT = Path(__file__).resolve().parent
TEMPLATES = ROOT / "templates"
FIXED_TIME = dt.datetime(2024, 1, 1, 0, 0, 0)


def schema_text() -> str:
    return json.dumps(Department.model_json_schema(), ensure_ascii=False, indent=2) + "\n"


def region_schema_text() -> str:
    return json.dumps(region_schema(), ensure_ascii=False, indent=2) + "\n"


def form_schema_text() -> str:
    return json.dumps(form_json_schema(), ensure_ascii=False, indent=2) + "\n"


def reference_text() -> str:
    return reference_markdown()


def example_department(profile_id: str) -> Department:
    prof = get_profile(profile_id)
    cats = prof.projects.categories
    return Department.model_validate({
        "code": "000000", "name": "示例单位", "year": 2023, "profile": prof.id,
        "projects": [{"name": f"示例项目{i + 1}", "category": cat, "implementing_unit": "示例单位"}
                     for i, cat in enumerate(cats)],
    })


def build(out: Path = TEMPLATES) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "department.schema.json"]
    written[0].write_text(schema_text(), encoding="utf-8")
    written.append(out / "region.schema.json")
    written[-1].write_text(region_schema_text(), encoding="utf-8")
    written.append(out / "form.schema.json")
    written[-1].write_text(form_schema_text(), encoding="utf-8")
    # the reference page of both files, beside the README (in a scratch folder for tests)
    docs = ROOT / "docs" if out == TEMPLATES else out
    docs.mkdir(parents=True, exist_ok=True)
    written.append(docs / "region-reference.md")
    written[-1].write_text(reference_text(), encoding="utf-8")
    from selfeval_xl.docx.template import build_report_template

    # the report template ships inside the package (a wheel must have it); in a scratch folder for tests
    written.append(build_report_template((ROOT / "selfeval_xl" / "docx" if out == TEMPLATES else out) / "report.docx"))
    for pid in available_profiles():
        target = out / f"blank-{pid}.xlsx"
        write_workbook(example_department(pid), get_profile(pid), target, generated_at=FIXED_TIME)
        written.append(target)
    return written


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.parse_args()
    for p in build():
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
