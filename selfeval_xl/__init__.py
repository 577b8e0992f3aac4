"""selfeval-xl: 部门整体支出绩效自评 — Excel templates, read-back checks and the Word report."""

__version__ = "0.1.0"
