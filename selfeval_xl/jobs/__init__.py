"""The batch jobs, in one place: what ``selfeval-xl generate/check/report`` run and what the
workspace's background jobs run — the very same functions (issue #20, part 7).

Each job takes its inputs, its options and a ``progress(done)`` callback, and returns a typed run
(``GenerateRun``, ``CheckRun``, ``ReportRun``; the compile writes a zip). The CLI parses options,
calls the job and prints; the workspace stores uploads and versions and pairs them with its roster,
then calls the job. Results are ``core.results.UnitResult`` all the way: they become dicts only
where they are written (summary.json, the workspace's SQLite), by ``UnitResult.as_dict``.

    generate.py  blank templates for a roster (the worker: ``generate_unit``)
    check.py     returned workbooks and units' reports checked, annotated copies, 汇总表/summary.json
    report.py    the Word reports (and PDFs), 汇总表/summary.json
    compile.py   the workspace's compile: stored results + reports, as one zip
    checking.py  one workbook or report → ``UnitResult`` (and one unit's report written): the workers' work
    batch.py     the process pool: progress, input order, no stop on a broken file, Ctrl-C
    proving.py   a region proven before a template goes out (generate, the workspace's templates)
"""

