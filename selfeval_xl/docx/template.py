"""Build the docxtpl template of the report (``selfeval_xl/docx/report.docx``) from code.

Built with python-docx so that every Jinja tag sits in exactly one run (Word would split a
hand-typed tag) and the layout is reviewable in this file: GB/T 9704-2012 page setup (A4,
margins 37/35/28/26 mm), 方正小标宋简体 二号 title, 仿宋_GB2312 三号 body, 黑体 一、 headings,
楷体 （一） headings, page numbers "— 1 —"; a second, landscape section holds the attachment
tables, which the renderer builds from the layout description as a docxtpl subdocument.

Template variables (documented for coordinators who pass their own ``--template``):

* ``unit_name``, ``year``, ``report_date`` — text;
* ``errors`` — list of texts, non-empty when the data has errors, and ``text_notes`` — figures the
  narrative quotes that disagree with the tables: the default template prints neither (each is a
  Word comment at its paragraph or table cell, added after rendering); a custom template may;
* ``sections`` — list of {``title``, ``paragraphs``: list of {``kind``: "sub" | "body", ``text``}};
* ``attachment_list`` — list of texts for the 附件： list;
* ``attachments`` — where 附件1, 附件2 and each 附件3(n) go (a paragraph holding ``{{ attachments }}``;
  the tables replace that paragraph after rendering — ``{{p attachments }}`` works too);
* ``figures`` — dict of the generated figures (basic, personnel, public, project, total, rate, …).
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from ..files.outputs import atomic_output
from .package import save_package

BODY_FONT = "仿宋_GB2312"
TITLE_FONT = "方正小标宋简体"
H1_FONT = "黑体"
H2_FONT = "楷体_GB2312"
BODY_SIZE = Pt(16)  # 三号
TITLE_SIZE = Pt(22)  # 二号


def set_run_font(run, east_asia: str, size=None, bold: bool | None = None, ascii_font: str = "Times New Roman") -> None:
    """python-docx ``font.name`` does not set the East-Asian font; write w:rFonts directly."""
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:ascii"), ascii_font)
    fonts.set(qn("w:hAnsi"), ascii_font)
    fonts.set(qn("w:eastAsia"), east_asia)
    if size is not None:
        run.font.size = size
    if bold is not None:
        run.font.bold = bold


def _para(doc, text: str, font: str = BODY_FONT, size=BODY_SIZE, align=None, indent: bool = False, bold=None,
          space_after: float = 0):
    p = doc.add_paragraph()
    pf = p.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(space_after)
    pf.line_spacing = Pt(28)  # 28–29 pt fixed line spacing, as official documents use
    if align is not None:
        p.alignment = align
    if indent:
        pf.first_line_indent = Pt(32)  # two characters of 三号
    run = p.add_run(text)
    set_run_font(run, font, size, bold)
    return p


def _page_setup(section, landscape: bool = False) -> None:
    section.page_width, section.page_height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    if landscape:
        section.top_margin, section.bottom_margin = Mm(20), Mm(20)
        section.left_margin, section.right_margin = Mm(20), Mm(20)
    else:
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(18)


def _page_number_footer(section) -> None:
    footer = section.footer
    p = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run("— ")
    set_run_font(run, "宋体", Pt(14))
    for kind, text in (("begin", None), ("instr", " PAGE "), ("separate", None), ("text", "1"), ("end", None)):
        r = p.add_run()
        set_run_font(r, "宋体", Pt(14))
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        elif kind == "text":
            el = OxmlElement("w:t")
            el.text = text
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        r._element.append(el)
    run = p.add_run(" —")
    set_run_font(run, "宋体", Pt(14))


def build_report_template(path: str | Path) -> Path:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.size = BODY_SIZE
    rpr = normal.element.get_or_add_rPr()
    fonts = OxmlElement("w:rFonts")
    fonts.set(qn("w:ascii"), "Times New Roman")
    fonts.set(qn("w:hAnsi"), "Times New Roman")
    fonts.set(qn("w:eastAsia"), BODY_FONT)
    rpr.insert(0, fonts)
    _page_setup(doc.sections[0])  # the cover's section: no footer, so no page number on the cover

    # no notice pages before the cover: the data's errors and the text's disagreements are Word
    # comments at the paragraph or table cell they concern (``docx.notes``); a clean report
    # prints nothing a clerk must delete before filing

    # cover: the region's lines (region.toml [[report.cover]]), each a title, a centred or a left line
    _para(doc, "{%p for c in cover %}")
    _para(doc, "{%p if c.style == 'title' %}")
    _para(doc, "{{ c.text }}", TITLE_FONT, TITLE_SIZE, WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, "{%p elif c.style == 'left' %}")
    _para(doc, "{{ c.text }}", BODY_FONT, BODY_SIZE, indent=True)
    _para(doc, "{%p else %}")
    _para(doc, "{{ c.text }}", BODY_FONT, BODY_SIZE, WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, "{%p endif %}")
    _para(doc, "{%p endfor %}")

    # the body: its own section, numbered from 1 (the attachments' section continues the numbering)
    body = doc.add_section(WD_SECTION.NEW_PAGE)
    _page_setup(body)
    body.footer.is_linked_to_previous = False
    _page_number_footer(body)
    pg = OxmlElement("w:pgNumType")
    pg.set(qn("w:start"), "1")
    body._sectPr.insert_element_before(pg, "w:cols", "w:formProt", "w:vAlign", "w:noEndnote", "w:titlePg",
                                       "w:textDirection", "w:bidi", "w:rtlGutter", "w:docGrid", "w:printerSettings",
                                       "w:sectPrChange")  # schema order matters to Word

    # title, the tables a region prints in the body (云溪: 三、整体支出绩效自评情况), and sections
    _para(doc, "{%p if body_title %}")
    _para(doc, "{{ year }}年度{{ unit_name }}", TITLE_FONT, TITLE_SIZE, WD_ALIGN_PARAGRAPH.CENTER)
    # the region's kind of report: 整体支出 where it has a 部门整体 table, 项目支出 where it has only projects
    _para(doc, "{{ report_title }}", TITLE_FONT, TITLE_SIZE, WD_ALIGN_PARAGRAPH.CENTER, space_after=16)
    _para(doc, "{%p endif %}")
    _para(doc, "{{ body_tables }}", "宋体", Pt(10.5))
    _para(doc, "{%p if sections_heading %}")
    _para(doc, "{{ sections_heading }}", H1_FONT, BODY_SIZE).paragraph_format.keep_with_next = True
    _para(doc, "{%p endif %}")
    _para(doc, "{%p for s in sections %}")
    _para(doc, "{{ s.title }}", H1_FONT, BODY_SIZE, indent=True).paragraph_format.keep_with_next = True
    _para(doc, "{%p for para in s.paragraphs %}")
    _para(doc, "{%p if para.kind == 'sub' %}")
    _para(doc, "{{ para.text }}", H2_FONT, BODY_SIZE, indent=True).paragraph_format.keep_with_next = True
    _para(doc, "{%p else %}")
    _para(doc, "{{ para.text }}", BODY_FONT, BODY_SIZE, indent=True)
    _para(doc, "{%p endif %}")
    _para(doc, "{%p endfor %}")
    _para(doc, "{%p endfor %}")
    _para(doc, "{%p if attachment_list %}")
    _para(doc, "")
    _para(doc, "附件：", BODY_FONT, BODY_SIZE, indent=True)
    _para(doc, "{%p for a in attachment_list %}")
    _para(doc, "{{ a }}", BODY_FONT, BODY_SIZE, indent=True)
    _para(doc, "{%p endfor %}")
    _para(doc, "{%p endif %}")

    # attachments in a landscape section
    sec = doc.add_section(WD_SECTION.NEW_PAGE)
    _page_setup(sec, landscape=True)
    for restart in sec._sectPr.findall(qn("w:pgNumType")):  # cloned from the body's: continue, do not restart
        sec._sectPr.remove(restart)
    _para(doc, "{{ attachments }}", "宋体", Pt(10.5))
    path = Path(path)
    doc.core_properties.author = "selfeval-xl"
    import datetime as dt

    doc.core_properties.created = dt.datetime(2024, 1, 1)
    doc.core_properties.modified = dt.datetime(2024, 1, 1)
    doc.core_properties.last_modified_by = "selfeval-xl"
    doc.core_properties.revision = 1

    with atomic_output(path) as tmp:
        save_package(doc, tmp)
    return path
