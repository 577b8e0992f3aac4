"""Text is text: XlsxWriter must never take a clerk's string for rich-text XML.

XlsxWriter writes any shared string that starts with ``<r>`` and ends with ``</r>`` into
sharedStrings.xml *unescaped*, as if it were a rich string it built itself (``write_rich_string``
does that). A clerk's "<r>项目</r>" then reads back empty, and a crafted one puts arbitrary XML
into the workbook or the coordinator's 汇总表 (reproduced with XlsxWriter 3.3.1). We never
write rich strings, so shared strings are always written as escaped plain text. Importing this
module applies the change; every module that writes with XlsxWriter imports it.
"""

from __future__ import annotations

from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.utility import _preserve_whitespace


def _write_si_as_text(self, string: str) -> None:
    attributes = []
    string = self._escape_control_characters(string)
    if _preserve_whitespace(string):
        attributes.append(("xml:space", "preserve"))
    self._xml_si_element(string, attributes)  # escapes & < >


SharedStrings._write_si = _write_si_as_text
