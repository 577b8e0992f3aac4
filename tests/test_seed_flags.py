"""The examples transcribed from seeds 000–002 raise exactly the flags their real mistakes deserve."""

from __future__ import annotations

import pytest

from selfeval_xl.checks import check
from selfeval_xl.core.flags import ERROR
from selfeval_xl.forms.regions import get_profile


def flags_of(examples, name):
    d = examples[name]
    return check(d, get_profile(d.profile)).flags


def find(flags, code, location):
    hits = [f for f in flags if f.code == code and f.location == location]
    assert hits, f"no {code} at {location}: {[(f.code, f.location) for f in flags]}"
    return hits[0]


def test_seed_001_errors(examples):
    flags = flags_of(examples, "001_岳阳市档案馆")
    # 附件1 项目支出 588.56 / 654.95 while its projects (taken from 附件3) add up to 587.06 / 653.45
    f = find(flags, "SUM-103", "附件1!F12")
    assert (f.stated, f.expected) == (588.56, pytest.approx(587.06))
    assert find(flags, "SUM-103", "附件1!D12").stated == 654.95
    # 档案保护开发和档案资源建设项目: 附件1 says 160, its 附件3(5) says 158.5
    f = find(flags, "XATT-102", "附件1!F24")
    assert (f.stated, f.expected) == (160, 158.5)
    # 附件2 项目支出 588.43 ≠ 附件1 项目支出 (587.06 recomputed)
    f = find(flags, "XATT-101", "附件2!I8")
    assert (f.stated, f.expected) == (588.43, pytest.approx(587.06))
    # 按收入性质分 1049.31 + 0 + 0 + 15 = 1064.31 ≠ 全年执行数
    f = find(flags, "SUM-105", "附件2!E7")
    assert f.stated == pytest.approx(1064.31)
    # 全年执行数 1051.31 stated; 基本 462.88 + 项目 587.06 = 1049.94
    assert find(flags, "SUM-104", "附件2!F5").stated == 1051.31
    errors = sorted((f.code, f.location) for f in flags if f.severity == ERROR)
    assert errors == sorted([
        ("SUM-103", "附件1!D12"), ("SUM-103", "附件1!F12"), ("SUM-103", "附件1!D21"), ("SUM-103", "附件1!F21"),
        ("XATT-102", "附件1!D24"), ("XATT-102", "附件1!F24"), ("XATT-101", "附件2!I8"), ("SUM-105", "附件2!E7"),
        ("SUM-104", "附件2!F5"),
    ])


def test_seed_001_warnings(examples):
    flags = flags_of(examples, "001_岳阳市档案馆")
    # 智慧档案 成本指标: 115.78 ≤ 181 met, yet scored 6.4 of 10
    f = find(flags, "IND-201", "附件3(4)!H31")
    assert (f.stated, f.expected) == (6.4, "10")
    # 密集架 成本指标: 191.21 exceeds ≤191万元, yet full marks 13
    assert find(flags, "IND-201", "附件3(3)!H31").stated == 13
    # 完成值 written as targets (≥96%, ≥98%, ≤160万元)
    assert len([f for f in flags if f.code == "IND-203"]) == 9  # 3 in 附件3(3), 5 in 附件3(4), 1 in 附件3(5)
    # over-execution: 密集架 191.21 of 191; the department 1049.94 of 1049.31
    assert {f.location for f in flags if f.code == "RATE-201"} == {"附件3(3)!F7", "附件2!E5"}


def test_seed_001_consistent_parts_raise_nothing(examples):
    flags = flags_of(examples, "001_岳阳市档案馆")
    # execution scores 9.9 / 9.9 / 10 / 6.4 / 10 and totals 99.9 / 99.9 / 100 / 92.8 / 100 are right
    assert not [f for f in flags if f.code in ("SCORE-101", "SCORE-102", "RATE-101", "WEIGHT-101", "WEIGHT-102",
                                                "SUM-101", "SUM-102", "SCORE-103", "RATE-102")]


def test_seed_002(examples):
    flags = flags_of(examples, "002_岳阳市君山区行政审批服务局")
    # 控制率 36 / 14 = 257 %
    assert find(flags, "RATE-202", "附件1!D4").stated == pytest.approx(36 / 14)
    # its two 附件3 projects are nowhere in 附件1
    assert find(flags, "XATT-103", "附件3(1)!C3").stated == "政府门户网站和电子政务外网运行维护费"
    assert find(flags, "XATT-103", "附件3(2)!C3")
    # 成本指标 1107.5 ≤ 1179.7 met, scored 9.4 of 10
    assert find(flags, "IND-201", "附件2!H32").stated == 9.4
    # the narrative: 项目支出 885.83 is 79.98 % of 1107.5, not 85.21 %; section 二 says 732.5
    f = find(flags, "NARR-402", "报告正文!B8")
    assert (f.stated, f.expected) == (85.21, 79.98)
    assert find(flags, "NARR-401", "报告正文!B4").stated == 732.5
    assert find(flags, "IND-204", "附件3(1)!E35").stated == "定性"
    assert sorted(f.code for f in flags if f.severity == ERROR) == ["XATT-103", "XATT-103"]


def test_seed_000_has_no_funds_block_and_otherwise_only_completeness_notes(examples):
    """Seed 000's report has no 附件2 table: its 全年预算数 is missing (an error — execution cannot be
    rated), and nothing else is wrong."""
    flags = flags_of(examples, "000_岳阳市城市建设档案馆")
    assert [(f.code, f.location) for f in flags if f.severity == ERROR] == [("FILL-102", "附件2!E5")]
    assert {f.severity for f in flags if f.code != "FILL-102"} == {"info"}
    assert find(flags, "ATT-301", "附件2")  # no 附件2 table in that report


def test_seed_003_hengyang(examples):
    """衡阳 2022: 附件2 states 执行数 533.49 with 基本支出 left blank (项目支出 198.3 from 附件1/附件3);
    附件1 has 基本支出 249.97 that 附件2 does not repeat; the rest (weights by the region's own
    structures: 效益 50 with 社会满意度 under it in 附件2, 40 in 附件3) is consistent."""
    flags = flags_of(examples, "003_衡阳市住房和城乡建设信息中心")
    f = find(flags, "SUM-104", "附件2!F5")
    assert (f.stated, f.expected) == (533.49, pytest.approx(198.3))
    assert find(flags, "SUM-105", "附件2!E7").stated == pytest.approx(533.49)
    f = find(flags, "XATT-105", "附件2!I7")  # the region's own [[checks]] rule
    assert (f.stated, f.expected) == (249.97, None)
    errors = sorted((f.code, f.location) for f in flags if f.severity == ERROR)
    assert errors == sorted([("SUM-104", "附件2!F5"), ("SUM-105", "附件2!E7"), ("XATT-105", "附件2!I7")])
    # 成本控制 9 of 10 without a reason; completion values written with ≧
    assert find(flags, "IND-202", "附件2!I23")
    assert find(flags, "IND-203", "附件2!F14").stated == "≧100%"
    assert not [f for f in flags if f.code.startswith("WEIGHT")]


def test_seed_004_yunxi(examples):
    """云溪 2023: 2246.07 = 412.08 + 1833.99 with 项目支出 typed (no 附件3 behind it) passes; bare
    成本指标 amounts are ceilings: three broken ones are warned, 75.34 under 130 is not."""
    flags = flags_of(examples, "004_岳阳市云溪区机关事务服务中心")
    assert not [f for f in flags if f.severity == ERROR], [(f.code, f.location, f.message) for f in flags]
    broken = {f.location: f.expected for f in flags if f.code == "IND-201"}
    assert broken == {"自评表!H31": "2.18", "自评表!H32": "2.64", "自评表!H33": "2.59", "自评表!H50": "9.8"}
    assert find(flags, "IND-202", "自评表!I38")  # 营造良好工作氛围 8 of 10, no reason
    assert not [f for f in flags if f.code == "ATT-301"]  # the region has no 附件1/附件3 to miss
    assert not [f for f in flags if f.code == "NARR-401"]  # "公车平台项目支出191.18万元" is that item's figure
