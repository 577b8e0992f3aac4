"""The execution rate is shown with the decimals the region rounds it to.

``[scoring] execution_rate_percent_decimals`` rounds the rate (0: 99.6% → 100%); everything a
person reads shows it so — the workbook's rate cell (its number format), the report's sentences
and attachment tables, the messages, 汇总表's 执行率 column — and -1 (not rounded) shows two
decimals, as before. The test's project-only region is drawn here with each setting; 岳阳 (0)
is the shipped region that rounds to whole percents.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from selfeval_xl.checks import check
from selfeval_xl.core.examples import examples_dir
from selfeval_xl.core.model import Department
from selfeval_xl.forms.layout import compile_layout, shape_for
from selfeval_xl.forms.regions import get_profile, load_region
from selfeval_xl.jobs.checking import check_workbook, report_workbook
from selfeval_xl.xlsx.signing import machine_key
from selfeval_xl.xlsx.summary import write_xlsx
from selfeval_xl.xlsx.write import write_workbook

from .test_region_words import PROJECT_ONLY, report_texts
from .test_shipped_regions import NATIONAL

TS = dt.datetime(2024, 1, 1)
RATE = "projects[0].funds.rate"


def draw(tmp_path: Path, decimals: int) -> Path:
    dest = tmp_path / f"places{decimals}"
    shutil.copytree(PROJECT_ONLY, dest)
    toml = dest / "region.toml"
    text = toml.read_text(encoding="utf-8")
    assert "execution_rate_percent_decimals = 2\n" in text and 'id = "project-only"' in text
    toml.write_text(text.replace("execution_rate_percent_decimals = 2\n",
                                 f"execution_rate_percent_decimals = {decimals}\n")
                    .replace('id = "project-only"', f'id = "places{decimals}"'), encoding="utf-8")
    return dest


def unit(region: Path, full: float, executed: float) -> Department:
    data = json.loads(json.dumps(NATIONAL))
    data.update(profile=str(region), code="9001", name="某培训中心", year=2023)
    data["projects"][0]["funds"] = {"current": {"initial": full, "full": full, "executed": executed}}
    return Department.model_validate(data)


# 199.2 ÷ 200 = 99.6%: to whole percents 100%, to one place 99.6%, not rounded 99.60%
CASES = [(0, "100%", "0%"), (1, "99.6%", "0.0%"), (2, "99.60%", "0.00%"), (-1, "99.60%", "0.00%")]


@pytest.mark.parametrize("decimals, shown, number_format", CASES, ids=[str(c[0]) for c in CASES])
def test_the_rate_shows_the_regions_decimals_in_the_workbook_and_the_report(tmp_path, decimals, shown, number_format):
    region = draw(tmp_path, decimals)
    dept = unit(region, 200, 199.2)
    profile = load_region(region)
    layout = compile_layout(profile, shape_for(dept, profile))
    path = write_workbook(dept, profile, tmp_path / "u.xlsx", generated_at=TS, key=machine_key())
    sheet, cell = layout.where[RATE]
    ws = openpyxl.load_workbook(path)[sheet.name]
    assert ws.cell(cell.r + 1, cell.c + 1).number_format == number_format
    texts = report_texts(Path(report_workbook(path, tmp_path / "out")["report"]))
    body = "\n".join(texts)
    assert f"预算执行率{shown}" in body, [t for t in texts if "执行率" in t]  # the generated sentence
    assert shown in [t.strip() for t in texts]  # the attachment table's rate cell
    if shown != "99.60%":
        assert "99.60%" not in body and "100.00%" not in body


@pytest.mark.parametrize("decimals, said", [(0, "执行率 103%"), (1, "执行率 103.2%"), (-1, "执行率 103.20%")])
def test_an_over_budget_message_says_the_rate_as_the_region_shows_it(tmp_path, decimals, said):
    region = draw(tmp_path, decimals)
    dept = unit(region, 200, 206.4)
    (flag,) = [f for f in check(dept, load_region(region)).flags if f.code == "RATE-201"]
    assert said + "）" in flag.message, flag.message


def test_yueyangs_whole_percents_in_its_report_and_the_summary(tmp_path):
    """岳阳 rounds to whole percents (98.91% → 99% → 9.9 points): its report and 汇总表 say 99%."""
    data = json.loads((examples_dir() / "data" / "001_岳阳市档案馆.json").read_text(encoding="utf-8"))
    dept = Department.model_validate(data)
    profile = get_profile("yueyang-2023")
    assert profile.scoring.execution_rate_percent_decimals == 0
    path = write_workbook(dept, profile, tmp_path / "001.xlsx", generated_at=TS, key=machine_key())
    result = check_workbook(path)
    rate = result["rate"]
    assert rate is not None and round(rate, 2) == rate
    write_xlsx([result], tmp_path / "汇总表.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "汇总表.xlsx")["汇总"]
    assert ws.cell(3, 8).value == rate and ws.cell(3, 8).number_format == "0%"
    texts = report_texts(Path(report_workbook(path, tmp_path / "out")["report"]))
    rates = re.findall(r"预算执行率(\d+(?:\.\d+)?%)", "\n".join(texts))
    assert rates and all(r == f"{rate * 100:.0f}%" for r in rates), rates
    # each project's rate in the attachment tables as its 附件3 shows it (99%, 64%), not 99.00%; the
    # 人员控制率 is no execution rate: the region's formula leaves it unrounded, shown to two places
    cells = [t.strip() for t in texts]
    assert "99%" in cells and "64%" in cells and "99.00%" not in cells and "64.00%" not in cells, \
        sorted({c for c in cells if c.endswith("%")})
