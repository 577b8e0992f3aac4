"""The core: what a self-evaluation *is*, with no file format and no I/O.

``model`` (a unit's filing), ``region`` (a region's rules), ``scoring`` (grades, grouping),
``indicators`` (targets and actuals as clerks write them), ``numbers`` (reading and writing
figures, Excel's ROUND) and ``flags`` (the one result type of every reader and check).
Everything else builds on this package; it imports nothing from the rest.
"""
