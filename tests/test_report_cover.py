"""The cover of a region that writes none is no city's.

It used to be 岳阳's (部门（单位）名称 …（盖章）, the date, and “（此页为封面）” at the foot, with no title),
so every region drawn from the README — in any province — filed 岳阳's cover. The default is now
generic: the year and the report's title (the region's ``[report] title``, or the kind of report its
forms make), the unit with its seal, the date. 岳阳 (and the sample region drawn on its forms) keep
their cover, now written in their own region.toml.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from docx import Document

from selfeval_xl.core.model import Department
from selfeval_xl.core.region import DEFAULT_COVER
from selfeval_xl.forms.regions import get_profile, load_region
from selfeval_xl.jobs.checking import report_workbook
from selfeval_xl.xlsx.signing import machine_key
from selfeval_xl.xlsx.write import write_workbook

from .test_shipped_regions import NATIONAL

HERE = Path(__file__).parent
TS = dt.datetime(2024, 1, 1)


def cover_of(tmp_path: Path, dept: Department, profile) -> list[str]:
    path = write_workbook(dept, profile, tmp_path / "u.xlsx", generated_at=TS, key=machine_key())
    doc = Document(report_workbook(path, tmp_path / "out")["report"])
    # the cover is the first section: the paragraphs before the body's
    body = doc.sections[1]._sectPr
    texts = []
    for p in doc.paragraphs:
        if p._p.pPr is not None and p._p.pPr.sectPr is not None:
            break
        texts.append(p.text.strip())
    assert body is not None and texts, "no cover"
    return [t for t in texts if t]


def _project_unit(region: str) -> Department:
    data = json.loads(json.dumps(NATIONAL))
    data.update(profile=region, code="9001", name="某培训中心", year=2023)
    data["signoff"] = {"date": "2024年3月5日"}
    return Department.model_validate(data)


def _drawn(tmp_path: Path, title: str | None) -> Path:
    """The test's project-only region (it writes no cover), with a [report] title or without."""
    dest = tmp_path / "drawn"
    shutil.copytree(HERE / "regions" / "project-only", dest)
    toml = dest / "region.toml"
    text = toml.read_text(encoding="utf-8")
    assert "[[report.cover]]" not in text
    if title:
        head, sep, sections = text.partition("[[report.sections]]")
        text = head + f'[report]\ntitle = "{title}"\n\n' + sep + sections
    toml.write_text(text.replace('id = "project-only"', 'id = "drawn-cover"'), encoding="utf-8")
    return dest


@pytest.mark.parametrize("title, shown", [(None, "项目支出绩效自评报告"), ("专项资金绩效自评报告", "专项资金绩效自评报告")],
                         ids=["kind-of-report", "region-title"])
def test_a_region_without_a_cover_gets_the_year_its_title_the_unit_and_the_date(tmp_path, title, shown):
    region = _drawn(tmp_path, title)
    profile = load_region(region)
    assert profile.report.cover == DEFAULT_COVER
    cover = cover_of(tmp_path, _project_unit(str(region)), profile)
    assert cover == ["2023年度", shown, "单位名称：某培训中心（盖章）", "2024年3月5日"], cover


def test_a_region_with_a_whole_department_table_is_titled_so(tmp_path):
    """fifth-region (a 部门整体 table, no cover of its own): 整体支出绩效自评报告, and nothing of 岳阳's."""
    profile = load_region(HERE / "regions" / "fifth-region")
    assert profile.report.cover == DEFAULT_COVER
    dept = Department(code="5001", name="某五局", year=2024, profile=str(HERE / "regions" / "fifth-region"))
    cover = cover_of(tmp_path, dept, profile)
    assert cover[:3] == ["2024年度", "整体支出绩效自评报告", "单位名称：某五局（盖章）"], cover
    assert not [t for t in cover if "此页为封面" in t or "部门（单位）名称" in t or "岳阳" in t], cover


@pytest.mark.parametrize("region", ["yueyang-2023", "sample-50-40-10"])
def test_yueyangs_cover_is_its_own_and_unchanged(tmp_path, region):
    profile = get_profile(region)
    assert profile.report.cover != DEFAULT_COVER  # written in its region.toml
    dept = Department(code="001", name="岳阳市档案馆", year=2023, profile=region)
    cover = cover_of(tmp_path, dept, profile)
    assert cover[0] == f"部门（单位）名称：{dept.name}（盖章）" and cover[-1] == "（此页为封面）", cover
    assert len(cover) == 3 and "年度" not in cover[0], cover  # no title on 岳阳's cover
