"""selfeval-xl: 部门整体支出绩效自评 — Excel templates, read-back checks and the Word report.

The Python API — what the command line and the workspace (``selfeval-xl serve``) call:

>>> from selfeval_xl import examples_dir, load_region, read_roster, generate_workbook, check_workbook, render_report
>>> region = load_region("yueyang-2023")
>>> units = read_roster(examples_dir() / "roster.csv", region)    # doctest: +SKIP
>>> generate_workbook(units[0].department(2023, region), region, "模板.xlsx")  # doctest: +SKIP
>>> result = check_workbook("回收/某单位.xlsx")                         # doctest: +SKIP
>>> result["status"], result["errors"], [f["code"] for f in result["flags"]]  # doctest: +SKIP

Names are imported lazily (``__getattr__``): ``import selfeval_xl`` stays cheap for a worker process.
"""

from __future__ import annotations

__version__ = "0.1.0"

_API = {
    # regions and data
    "load_region": ("selfeval_xl.forms.regions", "get_profile"),
    "read_roster": ("selfeval_xl.files.roster", "read_roster"),
    "Department": ("selfeval_xl.core.model", "Department"),
    "examples_dir": ("selfeval_xl.core.examples", "examples_dir"),
    # the three steps
    "generate_workbook": ("selfeval_xl.xlsx.write", "write_workbook"),
    "read_workbook": ("selfeval_xl.xlsx.read", "read_workbook"),
    "extract": ("selfeval_xl.xlsx.read", "extract"),
    "check": ("selfeval_xl.checks", "check"),
    "check_workbook": ("selfeval_xl.jobs.checking", "check_workbook"),
    "annotate": ("selfeval_xl.xlsx.annotate", "annotate"),
    "render_report": ("selfeval_xl.docx.report", "render_report"),
    "report_workbook": ("selfeval_xl.jobs.checking", "report_workbook"),
    # batches and the workspace
    "run_batch": ("selfeval_xl.jobs.batch", "run"),
    "Workspace": ("selfeval_xl.web.store", "Workspace"),
}

__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        import importlib

        module, attr = _API[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'selfeval_xl' has no attribute {name!r}")
