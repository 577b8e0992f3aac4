"""Word (and PDF) reports in (issue #19): a unit's own 自评报告 read into the model, its text
checked, and comments written back into its own .docx.

* ``read.read_report(path, profile)`` — .docx directly (zip preflight, python-docx), .doc/.wps
  through LibreOffice, PDF with a text layer (``pdftotext`` checks it, ``pdf`` lays out its
  paragraphs and ruled tables through pdfplumber); every paragraph keeps
  its place (``Para.where``: 报告!第12段, 报告!表3 R5C2); tables kept as grids;
* ``outline.find_sections`` — the region's outline (``profile.report.sections``) found in the
  paragraphs, tolerant of the numbering clerks really write (6、 for 六, a dropped 十, 1、/（一）);
* ``textcheck.check_report_text`` — what a report alone can be checked for: sections missing or
  empty, one figure quoted two ways, a list of amounts that does not add up to its total;
* ``comments.comment_report`` — the unit's .docx with a Word comment at each flagged paragraph.

Layer: below ``checking`` (which pairs a report with its workbook), beside ``docx``.
"""

from .model import Para, ReportReadError, Section, WordReport

__all__ = ["Para", "ReportReadError", "Section", "WordReport"]
