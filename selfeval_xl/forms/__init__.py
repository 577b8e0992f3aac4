"""The form engine: a region's sheets declared as data, compiled into one ``Layout``.

``definition`` parses the drawn-grid format, ``formula`` the Excel-subset formula language,
``compile`` builds each sheet, ``layout`` assembles a unit's sheets, ``cells`` holds the
compiled objects, ``binding`` maps model fields to cell keys, ``keys`` builds those keys,
``recompute`` evaluates every derived cell from the same formulas the workbook carries, and
``regions`` loads a region folder (or the copy a workbook carries). Builds on ``core``; knows
no file format beyond its own text.
"""
