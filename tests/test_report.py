"""The Word report: outline, generated numbers, every table against the model, hostile text."""

from __future__ import annotations

import re

import docx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from selfeval_xl.checks import check
from selfeval_xl.cli import app
from selfeval_xl.core.numbers import fmt_money, fmt_num
from selfeval_xl.docx.report import render_report
from selfeval_xl.core.model import Department
from selfeval_xl.forms.regions import get_profile

from .strategies import departments


def paragraphs(path):
    return [p.text for p in docx.Document(str(path)).paragraphs]


def body_text(path) -> str:
    d = docx.Document(str(path))
    texts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            texts += [c.text for c in row.cells]
    return "\n".join(texts)


def render(dept, tmp_path, name="r.docx"):
    prof = get_profile(dept.profile)
    return render_report(dept, prof, tmp_path / name), prof


def test_outline_follows_the_profile(tmp_path, examples):
    for pid in ("yueyang-2023", "sample-50-40-10"):
        dept = examples["001_岳阳市档案馆"].model_copy(update={"profile": pid})
        if pid != "yueyang-2023":
            dept = dept.model_copy(update={"projects": [p.model_copy(update={"category": "业务工作经费"})
                                                        for p in dept.projects]})
        path, prof = render(dept, tmp_path, f"{pid}.docx")
        ps = paragraphs(path)
        titles = [p for p in ps if p in {s.title for s in prof.report.sections}]
        assert titles == [s.title for s in prof.report.sections]
        assert "部门（单位）名称：岳阳市档案馆（盖章）" in ps and "（此页为封面）" in ps
        assert "2023年度岳阳市档案馆" in ps and "整体支出绩效自评报告" in ps
        assert "附件：" in ps
        assert ps.index("附件：") > ps.index(prof.report.sections[-1].title)


def _generated_numbers(path):
    ps = paragraphs(path)
    text = "\n".join(ps)
    basic = re.search(r"年度基本支出([\d.]+)万元(?:，占总支出的([\d.]+)%)?", text)
    project = re.search(r"年度项目支出([\d.]+)万元(?:，占总支出的([\d.]+)%)?", text)
    return basic, project, text


def test_generated_paragraphs_match_the_tables(tmp_path, examples):
    dept = examples["002_岳阳市君山区行政审批服务局"]
    path, prof = render(dept, tmp_path)
    basic, project, text = _generated_numbers(path)
    assert basic.groups() == ("221.67", "20.02")
    assert project.groups() == ("885.83", "79.98")  # the seed's narrative said 85.21%
    assert "其中人员经费204.87万元，占基本支出的92.42%；公用经费16.80万元，占基本支出的7.58%" in text
    assert "自评总分99.4分，评价等次为“优”" in text and "产出指标得分49.4分（满分50分）" in text
    # the clerk's section 二, which says 732.5, is kept as written; the tables' figures follow it
    ps = paragraphs(path)
    clerk = "2023年度局机关及二级机构项目支出合计732.5万元。专项支出主要政府门户网站和电子政务外网运行经费、政务服务专项经费、新大厅建设经费及精致君山城市展厅建设工程尾款。"
    assert clerk in ps and "（附）按附件数据核算的支出情况" in ps
    generated = next(p for p in ps if p.startswith("2023年度基本支出221.67万元"))
    assert ps.index(clerk) < ps.index("（附）按附件数据核算的支出情况") < ps.index(generated)


def _section_two(dept, text):
    secs = dict(dept.narrative.sections, general_budget=text)
    return dept.model_copy(update={"narrative": dept.narrative.model_copy(update={"sections": secs})})


def test_clerk_text_in_section_two_is_never_dropped(tmp_path, examples):
    """Agreeing figures: the clerk's paragraphs as written, nothing added, no note. Disagreeing:
    the paragraphs still, the tables' figures after them, a comment at the sentence with both figures."""
    dept = examples["002_岳阳市君山区行政审批服务局"]
    agree = "2023年度局机关基本支出221.67万元，项目支出885.83万元，合计1107.5万元。主要用于政务服务。"
    path, _ = render(_section_two(dept, agree), tmp_path, "agree.docx")
    ps = paragraphs(path)
    assert agree in ps and "（附）按附件数据核算的支出情况" not in ps
    assert not any("项目支出合计" in p for p in ps[:ps.index("（此页为封面）")])
    assert not any(c.text.startswith("[NARR-401") and "二、一般公共预算支出情况" in c.text
                   for c in docx.Document(str(path)).comments)
    wrong = "2023年度局机关基本支出221.67万元，项目支出800万元。"
    path, _ = render(_section_two(dept, wrong), tmp_path, "wrong.docx")
    ps = paragraphs(path)
    assert wrong in ps and "（附）按附件数据核算的支出情况" in ps
    assert next(p for p in ps if p.strip()).startswith("部门（单位）名称：")  # the cover comes first
    line = next(c.text for c in docx.Document(str(path)).comments if "项目支出 800万元" in c.text)
    assert "二、一般公共预算支出情况" in line and "885.83" in line
    no_figures = "主要用于政务服务和机关运行，资金使用规范，无违规情况。"
    path, _ = render(_section_two(dept, no_figures), tmp_path, "none.docx")
    ps = paragraphs(path)
    assert no_figures in ps and any(p.startswith("2023年度基本支出221.67万元") for p in ps)


def test_strict_refuses_a_unit_whose_section_two_disagrees(tmp_path, examples):
    dept = examples["000_岳阳市城市建设档案馆"]
    prof = get_profile(dept.profile)
    full = check(dept, prof).derived["overall.executed"]
    dept = dept.model_copy(update={"overall": dept.overall.model_copy(update={"budget_full": full})})
    ok, wrong = tmp_path / "ok.json", tmp_path / "wrong.json"
    ok.write_text(dept.model_dump_json(), encoding="utf-8")
    bad = _section_two(dept, "2023年度财政拨款基本支出340.25万元，项目支出600万元。")
    wrong.write_text(bad.model_dump_json(), encoding="utf-8")
    res = CliRunner().invoke(app, ["report", str(ok), "-o", str(tmp_path / "a"), "--strict"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["report", str(wrong), "-o", str(tmp_path / "b"), "--strict"])
    assert res.exit_code == 1 and "数字与附件不一致" in res.output and "600" in res.output, res.output
    assert not list((tmp_path / "b").glob("*.docx"))
    res = CliRunner().invoke(app, ["report", str(wrong), "-o", str(tmp_path / "c")])
    assert res.exit_code == 0 and list((tmp_path / "c").glob("*.docx")), res.output


@settings(max_examples=4, deadline=None, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_data_numbers_and_tables(tmp_path, data):
    prof = get_profile("yueyang-2023")
    dept = data.draw(departments(prof, max_projects=2))
    path = render_report(dept, prof, tmp_path / "x.docx")
    r = check(dept, prof)
    basic, project, text = _generated_numbers(path)
    assert project and project.group(1) == fmt_money(r.derived["basic.projects.total.final"])
    total = r.derived["overall.executed"]
    if total:
        assert project.group(2) == f"{r.derived['basic.projects.total.final'] / total * 100:.2f}"
    else:
        assert project.group(2) is None and "占总支出的。" not in text
    if dept.overall.expense_basic is not None:
        assert basic.group(1) == fmt_money(dept.overall.expense_basic)
    assert_tables_match(path, dept, prof, r.derived)


def assert_tables_match(path, dept, prof, derived):
    """Every indicator row of 附件2 and each 附件3 appears with the model's values; totals match."""
    from selfeval_xl.docx.report import printed_tables
    from selfeval_xl.forms.layout import compile_layout
    from selfeval_xl.xlsx.write import shape_for

    d = docx.Document(str(path))
    tables = d.tables
    layout = compile_layout(prof, shape_for(dept, prof))
    printed = printed_tables(layout, dept)
    assert len(tables) == len(printed)  # the body's tables, then 附件1 where it has one, 附件2, each 附件3
    for t, (sh, span) in zip(tables, printed):
        if span != sh.tables[0]:
            continue  # a second table of a sheet (云溪's evaluators): its cells are checked below
        rows = [[c.text for c in row.cells] for row in t.rows]
        if sh.role == "basic":  # 项目支出's total row, found by its label (blank optional rows are dropped)
            r = layout.where["basic.projects.total.final"][1].r
            label = next(c.text for c in sh.cells if c.r == r and c.c == 0)
            assert [x for x in rows if x[0] == label][0][-1] == fmt_money(derived["basic.projects.total.final"])
            continue
        prefix, inds, which = (("overall", dept.overall.indicators, "overall") if sh.role == "overall" else
                               (f"projects[{sh.project}]", dept.projects[sh.project].indicators, "project"))
        level1_labels = {l1.label.replace("（", "\n（") for l1 in prof.levels(which)}  # merged cells repeat their text
        got = sorted(tuple(r[3:9]) for r in rows if r[1] in level1_labels)
        want = sorted((i.name, i.target, i.actual, fmt_num(i.weight), fmt_num(i.score), i.deviation) for i in inds)
        assert got == want
        total_cell = layout.where[f"{prefix}.total_score"][1]
        label = next(c.text for c in sh.cells if c.r == total_cell.r and c.c == 0)
        assert [x for x in rows if x[0] == label][0][total_cell.c] == fmt_num(derived[f"{prefix}.total_score"])


def test_examples_tables_match_the_model(tmp_path, examples):
    for name, dept in examples.items():
        path, prof = render(dept, tmp_path, f"{name}.docx")
        assert_tables_match(path, dept, prof, check(dept, prof).derived)


def test_seed_001_attachment_3_4_as_in_the_seed(tmp_path, examples):
    path, _ = render(examples["001_岳阳市档案馆"], tmp_path)
    t = docx.Document(str(path)).tables[5]  # 附件1, 附件2, 附件3(1)..(3), 附件3(4)
    rows = [[c.text for c in row.cells] for row in t.rows]
    assert rows[0][2] == "市档案馆智慧档案一期项目建设"
    funds = [r for r in rows if r[1] == "年度资金总额"][0]
    assert funds[3:] == ["181.00", "181.00", "115.78", "10", "64%", "6.4"]  # 岳阳 rounds the rate to whole percents
    ind = [r for r in rows if r[3] == "预算控制数"][0]
    assert ind[1:] == ["产出指标\n（50分）", "成本指标", "预算控制数", "≤181万元", "115.78", "10", "6.4", "竣工验收未完成。"]
    assert [r for r in rows if r[0] == "总分"][0][6:8] == ["100", "92.8"]
    assert len([r for r in rows if r[1].startswith(("产出", "效益", "满意"))]) == 10  # ten indicator rows, no blanks


def test_error_comments_and_strict(tmp_path, examples):
    path, _ = render(examples["001_岳阳市档案馆"], tmp_path, "e.docx")
    assert not any(p.startswith("【数据校验提示】") for p in paragraphs(path))
    assert any(c.text.startswith("[SUM-104 错误] 附件2!F5") for c in docx.Document(str(path)).comments)
    clean = examples["000_岳阳市城市建设档案馆"]
    prof = get_profile(clean.profile)
    clean = clean.model_copy(update={"overall": clean.overall.model_copy(
        update={"budget_full": check(clean, prof).derived["overall.executed"]})})
    path, _ = render(clean, tmp_path, "c.docx")
    assert not any(c.text.startswith("[") and "错误]" in c.text for c in docx.Document(str(path)).comments)
    res = CliRunner().invoke(app, ["report", str(tmp_path / "none.json"), "-o", str(tmp_path)])
    assert res.exit_code == 2


HOSTILE = [
    "A&B <局> \"引号\" 'x'", "{{ 7*7 }} {% if true %}x{% endif %} {#c#}", "{%p endfor %}", "第一行\n第二行",
    "😀📊 表情", "档" * 10000, "]]><![CDATA[x", "=HYPERLINK(\"http://x\")",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_comes_out_as_typed(tmp_path, text):
    prof = get_profile("yueyang-2023")
    dept = Department.model_validate(dict(
        code="1", name="单位", year=2023, profile=prof.id,
        overall=dict(goal_expected=text, indicators=[dict(level1="产出指标", level2="数量指标", name=text,
                                                          target=text, actual="1", weight=5, score=5)]),
        narrative=dict(sections={"problems": text}), signoff=dict(preparer=text),
    ))
    path = render_report(dept, prof, tmp_path / "h.docx")
    all_text = body_text(path)
    for line in text.split("\n"):
        assert line.strip() in all_text


def test_empty_everything_renders(tmp_path):
    prof = get_profile("sample-50-40-10")
    dept = Department(code="1", name="空", year=2023, profile=prof.id)
    path = render_report(dept, prof, tmp_path / "empty.docx")
    ps = paragraphs(path)
    assert ps.count("无") >= len(prof.report.sections) - 2  # empty sections say 无


def test_report_cli_with_pdf(soffice, tmp_path):
    from .conftest import EXAMPLES

    src = EXAMPLES / "data" / "002_岳阳市君山区行政审批服务局.json"
    res = CliRunner().invoke(app, ["report", str(src), "-o", str(tmp_path / "out"), "--pdf"])
    assert res.exit_code == 0, res.output
    pdfs = list((tmp_path / "out").glob("*.pdf"))
    assert len(pdfs) == 1 and pdfs[0].stat().st_size > 10000
    # only the report, its PDF, the summary (汇总表, summary.json) and the output mark: no LibreOffice
    # lock or temp file left beside them
    assert sorted(p.suffix for p in (tmp_path / "out").iterdir()) == ["", ".docx", ".json", ".pdf", ".xlsx"], \
        list((tmp_path / "out").iterdir())
    # page numbers as printed: none on the cover (the first page), "— 1 —" on the first body page,
    # continued (not restarted) through the landscape attachments
    import shutil
    import subprocess

    if shutil.which("pdftotext"):
        pages = subprocess.run(["pdftotext", "-layout", str(pdfs[0]), "-"], capture_output=True, text=True,
                               check=True).stdout.split("\f")
        numbers = [re.findall(r"—\s*(\d+)\s*—", page) for page in pages if page.strip()]
        cover = next(i for i, page in enumerate(p for p in pages if p.strip()) if "此页为封面" in page)
        assert cover == 0 and all(not n for n in numbers[:cover + 1])
        assert [int(n[-1]) for n in numbers[cover + 1:]] == list(range(1, len(numbers) - cover))
    res = CliRunner().invoke(app, ["report", str(src), "-o", str(tmp_path / "strict"), "--strict"])
    assert res.exit_code == 1 and "--strict" in res.output and not list((tmp_path / "strict").glob("*.docx"))


@pytest.mark.parametrize("name", ["001_岳阳市档案馆", "003_衡阳市住房和城乡建设信息中心", "004_岳阳市云溪区机关事务服务中心"])
def test_every_table_cell_sits_where_the_layout_puts_it(tmp_path, examples, name):
    """Each printed layout cell's text is in the Word table at its (kept row, column), merges included —
    in the attachments, and in the body where a region prints its table there (云溪)."""
    from selfeval_xl.forms.binding import flatten
    from selfeval_xl.docx.report import _cell_text, kept_rows, printed_tables
    from selfeval_xl.forms.layout import compile_layout
    from selfeval_xl.xlsx.write import shape_for

    dept = examples[name]
    path, prof = render(dept, tmp_path)
    r = check(dept, prof)
    layout = compile_layout(prof, shape_for(dept, prof))
    values = flatten(dept, layout)
    printed = printed_tables(layout, dept)
    tables = docx.Document(str(path)).tables
    assert len(tables) == len(printed)
    checked = 0
    for (sh, span), table in zip(printed, tables):
        keep = kept_rows(sh, values, span)
        index = {row: i for i, row in enumerate(keep)}
        grid = [[c.text for c in row.cells] for row in table.rows]
        assert len(grid) == len(keep)
        for cell in sh.cells:
            if cell.c >= sh.print_cols or cell.r not in index:
                continue
            want = _cell_text(cell, values, r.derived).strip()
            assert grid[index[cell.r]][cell.c].strip() == want, (sh.name, cell.r, cell.c, cell.key)
            checked += 1
    assert checked > 100


def _template_with(tmp_path, text: str | None):
    """The default template with the attachments paragraph's text replaced (None: paragraph removed)."""
    from selfeval_xl.docx.report import DEFAULT_TEMPLATE

    d = docx.Document(str(DEFAULT_TEMPLATE))
    p = next(p for p in d.paragraphs if "attachments" in p.text)
    if text is None:
        p._element.getparent().remove(p._element)
    else:
        for r in p.runs[1:]:
            r._element.getparent().remove(r._element)
        p.runs[0].text = text
    out = tmp_path / "custom.docx"
    d.save(str(out))
    return out


@pytest.mark.parametrize("marker", ["{{ attachments }}", "{{p attachments }}", "附件如下：{{ attachments }}"])
def test_custom_template_attachment_markers(tmp_path, examples, marker):
    dept = examples["001_岳阳市档案馆"]
    prof = get_profile(dept.profile)
    out = render_report(dept, prof, tmp_path / "r.docx", template=_template_with(tmp_path, marker))
    d = docx.Document(str(out))
    assert len(d.tables) == 2 + len(dept.projects)
    text = "\n".join(p.text for p in d.paragraphs)
    assert "\u2063" not in text and "attachments" not in text and "附件如下" not in text
    # the tables come after the body text, each headed by its 附件 label
    assert [p.text for p in d.paragraphs if re.fullmatch(r"附件[123](（\d+）)?", p.text)][:3] == ["附件1", "附件2", "附件3（1）"]


def test_template_without_attachments_is_refused_in_chinese(tmp_path, examples):
    dept = examples["001_岳阳市档案馆"]
    with pytest.raises(ValueError, match="attachments"):
        render_report(dept, get_profile(dept.profile), tmp_path / "r.docx", template=_template_with(tmp_path, None))
    assert not list(tmp_path.glob(".~selfeval-*")) and not (tmp_path / "r.docx").exists()


def test_cover_unnumbered_body_from_one_attachments_continue():
    """The template's sections: cover without footer; body footer with PAGE, restarting at 1 (in
    schema order, or Word reports the file as damaged); attachments continue the numbering."""
    from docx.oxml.ns import qn

    from selfeval_xl.docx.report import DEFAULT_TEMPLATE

    d = docx.Document(str(DEFAULT_TEMPLATE))
    cover, body, attachments = d.sections
    assert not cover._sectPr.findall(qn("w:footerReference"))
    assert body._sectPr.findall(qn("w:footerReference")) and "PAGE" in body.footer._element.xml
    tags = [el.tag for el in body._sectPr]
    assert body._sectPr.find(qn("w:pgNumType")).get(qn("w:start")) == "1"
    assert tags.index(qn("w:pgNumType")) < tags.index(qn("w:cols"))
    assert attachments.footer.is_linked_to_previous and attachments._sectPr.find(qn("w:pgNumType")) is None


def test_long_runs_of_digits_in_every_section(tmp_path):
    """30,000 digits without a unit are no "figure": kept and printed as typed in every section,
    the generated one included (its figure test once rescanned such a run from every digit)."""
    prof = get_profile("yueyang-2023")
    digits = "1" * 30_000
    dept = Department.model_validate(dict(
        code="1", name="单位", year=2023, profile=prof.id,
        overall=dict(indicators=[dict(level1="产出指标", level2="时效指标", name="时限", target=digits,
                                      actual=digits, weight=5, score=5)]),
        narrative=dict(sections={s.key: digits for s in prof.report.sections}),
    ))
    assert any(s.generated for s in prof.report.sections)
    text = body_text(render_report(dept, prof, tmp_path / "d.docx"))
    assert text.count(digits) >= len(prof.report.sections) + 1  # every section, and the 附件2 row


def test_yunxi_prints_its_table_in_the_body_before_the_sections(tmp_path, examples):
    """云溪 (岳阳市财政局's form): cover, then 三、整体支出绩效自评情况 and 四、评价人员 as tables in the
    body, then 五、评价报告综述 with the sections; no attachment list and no blank attachment page."""
    dept = examples["004_岳阳市云溪区机关事务服务中心"]
    path, prof = render(dept, tmp_path)
    d = docx.Document(str(path))
    body = d.element.body
    order = []
    for el in body.iterchildren():
        tag = el.tag.rsplit("}", 1)[1]
        if tag == "tbl":
            order.append("table")
        elif tag == "p":
            text = "".join(t.text or "" for t in el.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"))
            if text.startswith(("三、部门（单位）整体支出绩效自评情况", "五、评价报告综述", "一、部门（单位）概况")):
                order.append(text[:2])
    assert order == ["三、", "table", "table", "五、", "一、"]
    evaluators = [[c.text for c in row.cells] for row in d.tables[1].rows]
    assert evaluators[0][0] == "四、评价人员" and evaluators[2][0] == dept.figures["signoff.evaluators.0.name"]
    text = "\n".join(p.text for p in d.paragraphs)
    assert "附件：" not in text and "整体支出绩效自评报告" not in text.split("三、")[1]  # no body title
    assert len(d.sections) == 2  # the cover and the body: no empty landscape section for attachments
    assert d.sections[-1].orientation == d.sections[0].orientation


def test_clerk_text_cannot_steer_where_the_tables_go(tmp_path, examples):
    """A clerk's text holding the old fixed placeholder (or anything like it) prints as typed; the
    tables still go to the attachments."""
    dept = examples["001_岳阳市档案馆"]
    fake = "\u2063selfeval-xl-attachments\u2063"
    secs = dict(dept.narrative.sections, basic_info=f"本单位概况。{fake}{{{{ attachments }}}}")
    dept = dept.model_copy(update={"narrative": dept.narrative.model_copy(update={"sections": secs})})
    path, prof = render(dept, tmp_path)
    d = docx.Document(str(path))
    first = next(p for p in d.paragraphs if p.text.startswith("本单位概况"))
    assert "attachments" in first.text  # printed as the clerk typed it, not replaced
    assert len(d.tables) == 2 + len(dept.projects)
    # every table comes after the attachment list
    body = list(d.element.body.iterchildren())
    first_table = next(i for i, el in enumerate(body) if el.tag.endswith("}tbl"))
    listing = next(i for i, el in enumerate(body) if el.tag.endswith("}p") and "附件：" in "".join(
        t.text or "" for t in el.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t")))
    assert listing < first_table


def test_attachment_list_names_each_table_once(tmp_path, examples):
    dept = examples["001_岳阳市档案馆"]
    from selfeval_xl.docx.report import report_context

    prof = get_profile(dept.profile)
    names = report_context(dept, prof, check(dept, prof))["attachment_list"]
    assert not [n for n in names if "项目项目" in n]
    assert any(p.name.endswith("项目") for p in dept.projects)  # the case exists in the example


def test_a_template_cannot_run_python(tmp_path, examples):
    """Templates travel by e-mail: rendered in Jinja's sandbox, a template that reaches for Python
    gets the unit no report and a reason — and nothing runs."""
    marker = tmp_path / "ran"
    evil = ("{{ attachments }}{{ ''.__class__.__mro__[1].__subclasses__()[0].__init__.__globals__"
            "['__builtins__']['open']('" + str(marker) + "', 'w') }}")
    template = _template_with(tmp_path, evil)
    from .conftest import EXAMPLES

    res = CliRunner().invoke(app, ["report", str(EXAMPLES / "data" / "002_岳阳市君山区行政审批服务局.json"),
                                   "-o", str(tmp_path / "out"), "--template", str(template)])
    assert res.exit_code == 2, res.output
    assert "SecurityError" in res.output and "无法使用" in res.output
    assert not marker.exists() and not list((tmp_path / "out").glob("*.docx"))
