"""The region's words, not Hunan's (issue #18, part 5).

A small region is drawn here with words of its own — the report's title and file name, the
guide sheet's title and 执行率 line, its own generated sentences — and taken through the CLI's
generate → fill → report and the workspace's compile: its words must be where a clerk and a
coordinator look (the workbook's guide, the report, the report's file name, the zip's entries),
and Hunan's defaults (整体支出绩效自评报告, 部门整体支出绩效自评 填表说明, 附件2 …) nowhere.
Bad words are refused when the region is loaded, naming file, line and key. Project-only
packages (the test region and the two shipped ones) never name a 附件1/2/3/5 they do not have,
in any sheet, message or report; the per-一级 score sentence prints no "（满分分）" where a form
fixes only the total, and sums the computed 得分 where a form declares it as a formula.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from typer.testing import CliRunner

from selfeval_xl.jobs.checking import check_workbook, planned_report_name, report_workbook
from selfeval_xl.cli import app
from selfeval_xl.core.model import Department
from selfeval_xl.core.region import ProfileError
from selfeval_xl.core.words import WORDS
from selfeval_xl.forms.naming import guide_title, report_title
from selfeval_xl.forms.regions import get_profile, load_region
from selfeval_xl.xlsx.signing import machine_key
from selfeval_xl.xlsx.write import write_workbook

from .test_shipped_regions import NATIONAL, SICHUAN

HERE = Path(__file__).parent
PROJECT_ONLY = HERE / "regions" / "project-only"
TS = dt.datetime(2024, 1, 1)
runner = CliRunner()

# a region's own words: every key part 5 gives a region author
WORDS_TOML = '''
[report]
title = "专项资金绩效自评报告"
file_name = "{year}年{unit_code}号{title}"

[report.words]
project_result = "{name}执行{executed}万元[，执行率{rate}][；自评{score}分[（{score_parts}）]]"
level1_score = "{name}{score}分"
execution_score = "资金执行{execution_score}分"
'''
GUIDE_KEYS = ('guide_title = "{year}年度专项资金自评 填写须知"\n'
              'guide_rate = "执行率 = 执行数 ÷ 预算数，满分 {weight} 分，不封顶时也按 100% 计。"\n')

# what Hunan's package says, which a region with other words must never print
HUNAN = ("整体支出绩效自评报告", "部门整体支出绩效自评", "附件1", "附件2", "附件3", "附件5", "满分分")


def draw_region(tmp_path: Path, words: str = WORDS_TOML, guide: str = GUIDE_KEYS, name: str = "words") -> Path:
    """The test's project-only region with the words above: [forms] keys added to its own
    [forms] table, [report] tables appended; its narrative sheet titled in its own words."""
    dest = tmp_path / name
    shutil.copytree(PROJECT_ONLY, dest)
    toml = dest / "region.toml"
    text = toml.read_text(encoding="utf-8")
    anchor = 'sheets = ["forms/guide.toml", "forms/project.toml", "forms/narrative.toml"]\n'
    assert anchor in text
    text = text.replace(anchor, anchor + guide)
    # [report] must come before [[report.sections]] would re-open it: put the sections last
    head, sep, sections = text.partition("[[report.sections]]")
    toml.write_text(head + words + "\n" + sep + sections, encoding="utf-8")
    narrative = dest / "forms" / "narrative.toml"
    n = narrative.read_text(encoding="utf-8")
    assert "项目支出绩效自评报告（正文）" in n
    narrative.write_text(n.replace("项目支出绩效自评报告（正文）", "专项资金绩效自评（正文）"), encoding="utf-8")
    return dest


def unit(profile_id: str) -> dict:
    """NATIONAL's published unit (the same table as the test region's) under another region."""
    data = json.loads(json.dumps(NATIONAL))
    data.update(profile=profile_id, code="9001", name="某培训中心", year=2023)
    return data


def sheet_texts(path: Path) -> list[str]:
    """Every text a clerk can see in a workbook (the hidden metadata sheet is the region's own files)."""
    out = []
    for ws in openpyxl.load_workbook(path).worksheets:
        if ws.title == "_meta":
            continue
        out.append(ws.title)
        out += [v for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)]
    return out


def report_texts(path: Path) -> list[str]:
    """Every text of a Word report: paragraphs, table cells, comments, headers and footers."""
    out = [p.text for p in Document(path).paragraphs]
    out += [c.text for t in Document(path).tables for row in t.rows for c in row.cells]
    with zipfile.ZipFile(path) as z:
        for n in z.namelist():
            if n.startswith("word/") and n.endswith(".xml") and ("comments" in n or "header" in n or "footer" in n):
                out.append(re.sub(r"<[^>]+>", " ", z.read(n).decode("utf-8")))
    return out


def no_hunan(texts: list[str], where: str) -> None:
    bad = [(w, t[:160]) for t in texts for w in HUNAN if w in t]
    assert not bad, f"{where}: {bad[:5]}"


# -- a region's words, all the way ---------------------------------------------------------------

def test_a_regions_words_reach_the_guide_the_report_and_its_file_name(tmp_path, monkeypatch):
    monkeypatch.setenv("SELFEVAL_CACHE_DIR", str(tmp_path / "cache"))
    region = draw_region(tmp_path)
    profile = load_region(region)
    assert report_title(profile) == "专项资金绩效自评报告"
    data = tmp_path / "unit.json"
    data.write_text(json.dumps(unit(str(region)), ensure_ascii=False), encoding="utf-8")
    book = tmp_path / "9001_某培训中心_2023年度绩效自评.xlsx"
    res = runner.invoke(app, ["fill", str(data), "-o", str(book), "-p", str(region)])
    assert res.exit_code == 0, res.output

    guide = openpyxl.load_workbook(book)["填表说明"]
    lines = {ws_row[0]: ws_row[1] for ws_row in guide.iter_rows(min_row=2, values_only=True) if ws_row[0]}
    assert guide["A1"].value == "2023年度专项资金自评 填写须知"
    assert lines["执行率"] == "执行率 = 执行数 ÷ 预算数，满分 10 分，不封顶时也按 100% 计。"
    no_hunan(sheet_texts(book), "workbook")

    out = tmp_path / "报告"
    res = runner.invoke(app, ["report", str(book), "-o", str(out)])
    assert res.exit_code == 0, res.output
    docs = sorted(p.name for p in out.glob("*.docx"))
    assert docs == ["2023年9001号专项资金绩效自评报告.docx"], docs
    texts = report_texts(out / docs[0])
    body = "\n".join(texts)
    assert "专项资金绩效自评报告" in body
    # the region's sentence, its optional parts filled, its own 一级 and execution wording
    assert ("办公宿舍楼、食堂及餐厅暖通改造经费执行37.24万元，执行率86.20%；自评97.62分"
            "（资金执行8.62分，产出指标49分，效益指标30分，满意度指标10分）。") in body, body
    assert "绩效自评得分" not in body and "全年预算数43.20万元" not in body  # the defaults are not used
    no_hunan(texts, "report")


def test_a_regions_file_name_names_the_workspaces_reports(tmp_path):
    from selfeval_xl.web.store import Workspace
    from selfeval_xl.web.work import check_stored, compile_zip

    region = draw_region(tmp_path)
    profile = load_region(region)
    dept = Department.model_validate(unit(str(region)))
    path = write_workbook(dept, profile, tmp_path / "交来的.xlsx", generated_at=TS)
    ws = Workspace(tmp_path / "ws")
    cid = ws.create_campaign("专项资金自评", str(region), 2023)
    ws.add_units(cid, [{"code": "9001", "name": "某培训中心"}, {"code": "9002", "name": "另一中心"}])
    stored = ws.store(iter([path.read_bytes()]), 10 ** 8)
    [row] = check_stored(ws, cid, [(stored.sha256, "交来的.xlsx", stored.size)], workers=1)
    assert row["unit_id"] is not None, row
    dest = compile_zip(ws, cid, [row["unit_id"]], tmp_path / "汇总.zip", workers=1)
    with zipfile.ZipFile(dest) as z:
        reports = [n for n in z.namelist() if n.endswith(".docx")]
    assert reports == ["报告/2023年9001号专项资金绩效自评报告.docx"], reports


def test_without_a_file_name_the_workbooks_name_carries_the_regions_title(tmp_path):
    region = draw_region(tmp_path, words=WORDS_TOML.replace('file_name = "{year}年{unit_code}号{title}"\n', ""))
    profile = load_region(region)
    assert not profile.report.file_name
    dept = Department.model_validate(unit(str(region)))
    book = write_workbook(dept, profile, tmp_path / "9001_某培训中心_2023年度绩效自评.xlsx", generated_at=TS)
    other = write_workbook(dept, profile, tmp_path / "随便起的名字.xlsx", generated_at=TS)
    assert planned_report_name(book) == "9001_某培训中心_2023年度专项资金绩效自评报告.docx"
    assert planned_report_name(other) == "随便起的名字_专项资金绩效自评报告.docx"
    # the worker, called without a planned name, names it the same way
    assert Path(report_workbook(book, tmp_path / "out")["report"]).name == planned_report_name(book)


def test_a_title_a_file_name_cannot_hold_is_made_safe(tmp_path):
    region = draw_region(tmp_path, words='[report]\ntitle = "专项/资金:自评报告"\n')
    profile = load_region(region)
    dept = Department.model_validate(unit(str(region)))
    book = write_workbook(dept, profile, tmp_path / "9001_某培训中心_2023年度绩效自评.xlsx", generated_at=TS)
    assert planned_report_name(book) == "9001_某培训中心_2023年度专项_资金_自评报告.docx"
    rep = report_workbook(book, tmp_path / "out")
    assert Path(rep["report"]).parent == tmp_path / "out" and Path(rep["report"]).name == planned_report_name(book)


def test_a_project_only_region_without_words_files_a_project_report(tmp_path):
    """No [report] title: the kind of package decides (项目支出, not Hunan's 整体支出)."""
    profile = load_region(PROJECT_ONLY)
    assert report_title(profile) == "项目支出绩效自评报告"
    assert guide_title(profile, 2023) == "2023年度项目支出绩效自评 填表说明"
    assert guide_title(get_profile("yueyang-2023"), 2023) == "2023年度部门整体支出绩效自评 填表说明"
    dept = Department.model_validate(unit(str(PROJECT_ONLY)))
    book = write_workbook(dept, profile, tmp_path / "9001_某培训中心_2023年度绩效自评.xlsx", generated_at=TS)
    assert planned_report_name(book) == "9001_某培训中心_2023年度项目支出绩效自评报告.docx"
    yueyang = get_profile("yueyang-2023")
    hunan = write_workbook(Department(code="1", name="甲", year=2023, profile="yueyang-2023"), yueyang,
                           tmp_path / "1_甲_2023年度绩效自评.xlsx", generated_at=TS)
    assert planned_report_name(hunan) == "1_甲_2023年度整体支出绩效自评报告.docx"  # Hunan keeps its name


def test_the_coordinators_region_names_the_report(tmp_path):
    """``report --profile``: the region that judges the workbook is the one whose words name it."""
    carried = load_region(PROJECT_ONLY)
    dept = Department.model_validate(unit(str(PROJECT_ONLY)))
    book = write_workbook(dept, carried, tmp_path / "9001_某培训中心_2023年度绩效自评.xlsx", generated_at=TS)
    from selfeval_xl.jobs.checking import judging

    judged = load_region(draw_region(tmp_path))
    assert planned_report_name(book, judging(judged)) == "2023年9001号专项资金绩效自评报告.docx"


# -- bad words refused at load -------------------------------------------------------------------

@pytest.mark.parametrize("words, guide, key, what", [
    (WORDS_TOML.replace("{executed}万元", "{spent}万元"), GUIDE_KEYS, "report.words.project_result", "{spent}"),
    (WORDS_TOML + 'budget_sentence = "{budget_full}"\n', GUIDE_KEYS, "report.words.budget_sentence", "未知的句子名"),
    (WORDS_TOML.replace("{year}年{unit_code}号", "{单位}"), GUIDE_KEYS, "report.file_name", "{单位}"),
    (WORDS_TOML.replace("{year}年{unit_code}号", "../"), GUIDE_KEYS, "report.file_name", "不是路径"),
    (WORDS_TOML, GUIDE_KEYS.replace("{year}年度", "{unit_name}"), "forms.guide_title", "{unit_name}"),
    (WORDS_TOML, GUIDE_KEYS.replace("{weight}", "{rate}"), "forms.guide_rate", "{rate}"),
    (WORDS_TOML, GUIDE_KEYS.replace("{weight}", "{weight"), "forms.guide_rate", "不成对"),
    (WORDS_TOML.replace("[；自评", "；自评"), GUIDE_KEYS, "report.words.project_result", "“]”"),
])
def test_bad_words_are_refused_naming_file_line_and_key(tmp_path, words, guide, key, what):
    region = draw_region(tmp_path, words=words, guide=guide)
    with pytest.raises(ProfileError) as e:
        load_region(region)
    msg = str(e.value)
    text = (region / "region.toml").read_text(encoding="utf-8").splitlines()
    m = re.search(r"第 (\d+) 行", msg)
    assert m and "region.toml" in msg and key in msg and what in msg, msg
    # the line named is the key's own line
    leaf = key.rsplit(".", 1)[-1]
    assert text[int(m.group(1)) - 1].startswith(leaf + " ="), (msg, text[int(m.group(1)) - 1])
    assert "Field required" not in msg and "Value error" not in msg, msg


# -- project-only packages never name a Hunan sheet --------------------------------------------

PROJECT_ONLY_REGIONS = [str(PROJECT_ONLY), "national-2020", "sichuan-2023"]


@pytest.mark.parametrize("region", PROJECT_ONLY_REGIONS, ids=["project-only", "national-2020", "sichuan-2023"])
def test_a_project_only_package_never_names_a_sheet_it_has_not(tmp_path, region):
    profile = get_profile(region)
    pid = profile.id if region in ("national-2020", "sichuan-2023") else region
    blank = Department(code="001", name="空白单位", year=2023, profile=pid,
                       projects=[{"name": "项目甲", "category": profile.projects.categories[0]}])
    filled = Department.model_validate(SICHUAN if region == "sichuan-2023" else unit(pid))
    # a filled unit with mistakes: a score over its weight, a deleted spare sheet, a figure typed over
    # a formula — so the messages a clerk gets back are in the test, not only the blank ones
    inds = [i.model_copy(update={"score": (i.weight or 0) + 5}) if k == 0 else i
            for k, i in enumerate(filled.projects[0].indicators)]
    filled = filled.model_copy(update={"projects": [filled.projects[0].model_copy(update={"indicators": inds})]})
    texts: list[str] = []
    for name, dept in (("blank", blank), ("filled", filled)):
        path = write_workbook(dept, profile, tmp_path / f"001_{name}_2023年度绩效自评.xlsx", generated_at=TS,
                              key=machine_key())
        texts += sheet_texts(path)
        if name == "filled":
            book = openpyxl.load_workbook(path)
            spare = [ws for ws in book.worksheets if ws.sheet_state == "hidden" and ws.title != "_meta"][-1]
            book.remove(spare)
            first = book.worksheets[1]
            cell = next(c for row in first.iter_rows() for c in row
                        if isinstance(c.value, str) and c.value.startswith("=SUM("))
            cell.value = 999
            book.save(path)
        result = check_workbook(path)
        assert result["status"] != "无法读取", result
        texts += [f"{f['location']} {f['message']}" for f in result["flags"]]
        rep = report_workbook(path, tmp_path / "out")
        assert rep.get("report"), rep
        texts.append(Path(rep["report"]).name)
        texts += report_texts(Path(rep["report"]))
        if name == "filled":
            codes = {f["code"] for f in result["flags"]}
            assert {"SCORE-103", "READ-204"} <= codes and codes & {"SUM-101", "FORMULA-101"}, codes
            assert Path(rep["report"]).name.endswith("项目支出绩效自评报告.docx")
    assert any("填表说明" in t for t in texts) and any("项目支出绩效自评 填表说明" in t for t in texts)
    no_hunan(texts, region)


# -- the per-一级 score sentence ----------------------------------------------------------------

def _performance(path: Path) -> str:
    return next(t for t in report_texts(path) if "得分" in t and "万元" in t)


def test_a_form_that_fixes_only_the_total_prints_no_full_marks(tmp_path):
    profile = get_profile("sichuan-2023")
    assert all(l1.weight is None for l1 in profile.level1)
    path = write_workbook(Department.model_validate(SICHUAN), profile, tmp_path / "s.xlsx", generated_at=TS,
                          key=machine_key())
    said = _performance(Path(report_workbook(path, tmp_path / "out")["report"]))
    assert "其中预算执行率得分10分，产出指标得分60分，效益指标得分30分。" in said, said
    assert "满分" not in said
    # a 一级 with no scored row says nothing (满意度: the unit put its 90 points elsewhere)
    assert "满意度" not in said


def test_a_form_with_fixed_weights_prints_them(tmp_path):
    profile = get_profile("national-2020")
    path = write_workbook(Department.model_validate(NATIONAL), profile, tmp_path / "n.xlsx", generated_at=TS,
                          key=machine_key())
    said = _performance(Path(report_workbook(path, tmp_path / "out")["report"]))
    assert ("其中预算执行率得分8.62分，产出指标得分49分（满分50分），效益指标得分30分（满分30分），"
            "满意度指标得分10分（满分10分）。") in said, said


def test_a_score_formula_is_summed_as_printed(tmp_path):
    """得分 = 系数 × 权重, declared as a formula: the reader keeps no score, the sentence sums the
    computed column (9.5 for 满意度 = 0.95 × 10)."""
    from .test_indicator_blocks import COEF_BLOCK, COEF_FORMULA, COEF_ROWS, TOTAL_ONLY
    from .test_indicator_blocks import draw_region as draw_blocks
    from .test_indicator_blocks import unit as blocks_unit

    region = draw_blocks(tmp_path, TOTAL_ONLY, COEF_BLOCK, COEF_FORMULA)
    profile = load_region(region)
    dept = blocks_unit(region, COEF_ROWS)
    assert all(i.score is None for i in dept.projects[0].indicators)
    path = write_workbook(dept, profile, tmp_path / "c.xlsx", generated_at=TS)
    said = _performance(Path(report_workbook(path, tmp_path / "out")["report"]))
    assert "产出指标得分50分，效益指标得分30分，满意度指标得分9.5分" in said, said
    assert "满分" not in said


# -- the guide's 分值, 金额 and 得分 lines (Hunan's wording only as Hunan's default) ---------------

def _guide_lines(path: Path) -> dict[str, str]:
    return {r[0]: r[1] for r in openpyxl.load_workbook(path)["填表说明"].iter_rows(values_only=True) if r[0]}


def test_the_guides_weights_money_and_score_lines_are_the_regions(tmp_path):
    guide = GUIDE_KEYS + ('guide_weights = "绩效指标 {indicators} 分，资金执行 {weight} 分，共 {total} 分。"\n'
                          'guide_money = "金额以万元为单位，保留两位小数。"\n'
                          'guide_score = "得分不超过本行分值。"\n')
    profile = load_region(draw_region(tmp_path, guide=guide))
    path = write_workbook(Department.model_validate(unit(profile.id)), profile, tmp_path / "w.xlsx", generated_at=TS)
    lines = _guide_lines(path)
    assert lines["分值"] == "绩效指标 90 分，资金执行 10 分，共 100 分。"
    assert lines["金额"] == "金额以万元为单位，保留两位小数。"
    assert lines["得分"] == "得分不超过本行分值。"


def test_hunans_guide_keeps_its_words_and_sichuans_says_its_tables(tmp_path):
    hunan = write_workbook(Department(code="1", name="甲", year=2023, profile="yueyang-2023"), get_profile("yueyang-2023"),
                           tmp_path / "h.xlsx", generated_at=TS)
    lines = _guide_lines(hunan)
    assert lines["金额"] == "单位均为万元，只填数字，例如 103.86；不要输入“万元”、逗号或空格。"
    assert lines["得分"] == ("得分在 0 与本行分值之间；未得满分的，必须填写偏差原因分析及改进措施。"
                            "实际完成值请写实际数（如 98%），不要照抄指标值或带 ≥、≤ 符号。")
    assert lines["分值"].startswith("一级指标分值：产出指标 50 分")
    sichuan = write_workbook(Department.model_validate(SICHUAN), get_profile("sichuan-2023"), tmp_path / "s.xlsx",
                             generated_at=TS)
    said = _guide_lines(sichuan)["得分"]
    # 四川's indicator table heads its columns 权重 and 未完成原因分析
    assert said.startswith("得分在 0 与本行权重之间；未得满分的，必须填写未完成原因分析。"), said
    assert "偏差原因" not in said and "分值" not in said
    legend = [r[1] for r in openpyxl.load_workbook(sichuan)["填表说明"].iter_rows(values_only=True)
              if isinstance(r[1], str) and r[1].startswith("红色底纹")]
    assert legend == ["红色底纹：数据有误（如得分超过权重、权重合计不符）；橙/黄色底纹：请核实或补充说明"], legend


@pytest.mark.parametrize("guide, key, what", [
    ('guide_weights = "{weights} 分"\n', "forms.guide_weights", "{weights}"),
    ('guide_money = "{year} 年的金额"\n', "forms.guide_money", "{year}"),
    ('guide_score = "得分 {weight"\n', "forms.guide_score", "不成对"),
])
def test_bad_guide_lines_are_refused_naming_file_line_and_key(tmp_path, guide, key, what):
    with pytest.raises(ProfileError) as e:
        load_region(draw_region(tmp_path, guide=GUIDE_KEYS + guide))
    msg = str(e.value)
    assert "region.toml" in msg and re.search(r"第 \d+ 行", msg) and key in msg and what in msg, msg


@pytest.mark.parametrize("region, data", [("sichuan-2023", SICHUAN), ("national-2020", NATIONAL)])
def test_project_packages_covers_print_the_year_and_the_title(tmp_path, region, data):
    """Their covers printed a unit and a date under no title at all (岳阳's cover, by default)."""
    path = write_workbook(Department.model_validate(data), get_profile(region), tmp_path / "p.xlsx", generated_at=TS,
                          key=machine_key())
    doc = Document(report_workbook(path, tmp_path / "out")["report"])
    cover = [p.text for p in doc.paragraphs[:25] if p.text.strip()]
    assert cover[:3] == [f"{data['year']}年度", "项目支出绩效自评报告", f"单位名称：{data['name']}（盖章）"], cover


def test_the_attachment_list_names_sichuans_table_as_its_form_does(tmp_path):
    path = write_workbook(Department.model_validate(SICHUAN), get_profile("sichuan-2023"), tmp_path / "s.xlsx",
                          generated_at=TS, key=machine_key())
    texts = report_texts(Path(report_workbook(path, tmp_path / "out")["report"]))
    name = SICHUAN["projects"][0]["name"]
    assert f"1.{name}部门预算项目支出绩效自评表" in texts, [t for t in texts if t.startswith("1.")]


# -- the code registry says what is true in every region -----------------------------------------

def test_the_codes_name_hunans_sheets_only_as_hunans():
    """附件1/2/3/5 are Hunan's sheet names: a code any region can raise says 项目表, 整体表 …, and
    names a 附件 only as Hunan's (湖南：附件1, 衡阳 2022：…) — the README's list is generated from it."""
    from selfeval_xl.core.codes import CODES

    for c in CODES.values():
        for text in (c.title, c.advice):
            for m in re.finditer(r"附件\s?[1-5]", text):
                before = text[max(0, m.start() - 40):m.start()]
                assert re.search(r"湖南|衡阳|岳阳", before), (c.code, text)


# -- the README lists every sentence with its figures ------------------------------------------

def test_the_readme_lists_every_sentence_with_its_figures():
    from selfeval_xl.core.words import START, readme_table

    readme = (HERE.parent / "README.md").read_text(encoding="utf-8")
    i = readme.find(START)
    assert i >= 0, "README 中没有句子表的标记"
    assert readme_table() in readme, "README 的句子表与 core/words.py 不同：运行 python -m selfeval_xl.core.words --readme"
    for name, word in WORDS.items():
        assert f"| `{name}` |" in readme_table()
        for k in word.keys:
            assert "{" + k + "}" in readme_table()
