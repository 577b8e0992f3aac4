"""Everything that touches a spreadsheet file.

``plan`` (what each cell holds), ``reference`` (the XlsxWriter writer), ``stamp`` (the fast
skeleton writer), ``write`` (the entry point), ``read`` (reads a returned workbook back,
never trusting its formulas), ``ooxml`` (the fast read path), ``safety`` (zip and XML bombs),
``annotate`` (the marked-up copy for the clerk), ``summary`` (汇总表 and summary.json) and
``text_escape`` (XlsxWriter's shared strings, escaped).
"""
