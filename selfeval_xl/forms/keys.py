"""Model keys: the names every cell, value, flag and report field is known by.

A key is a dotted path into the model (``overall.budget_full``, ``projects[2].funds.total.executed``)
or a derived figure of the forms (``overall.total_score``, ``projects[0].rate``). Region files
write keys as text; Python builds them only here, so a renamed key is changed in one place.
"""

from __future__ import annotations

import re

OVERALL = "overall"  # 附件2's prefix

# derived figures the checks and the report read by name
EXECUTED = "executed"
RATE = "rate"
SCORE = "score"  # the execution-rate score
TOTAL_SCORE = "total_score"
WEIGHT_TOTAL = "weight_total"
GRADE = "grade"

OVERALL_EXECUTED = f"{OVERALL}.{EXECUTED}"
OVERALL_RATE = f"{OVERALL}.{RATE}"
OVERALL_SCORE = f"{OVERALL}.{SCORE}"
OVERALL_TOTAL_SCORE = f"{OVERALL}.{TOTAL_SCORE}"
OVERALL_GRADE = f"{OVERALL}.{GRADE}"
OVERALL_BUDGET_FULL = f"{OVERALL}.budget_full"
OVERALL_EXPENSE_PROJECT = f"{OVERALL}.expense_project"
OVERALL_INCOME_GENERAL = f"{OVERALL}.income.general"
CONTROL_RATE = "basic.control_rate"
STAFF_ACTUAL = "basic.staff_actual"


def project(i: int) -> str:
    """The prefix of the i-th project (0-based): its 附件3 sheet and its 附件1 line."""
    return f"projects[{i}]"


def of(prefix: str, name: str) -> str:
    """``name`` under ``prefix``: of(project(2), "rate") → ``projects[2].rate``."""
    return f"{prefix}.{name}" if prefix else name


def funds(prefix: str, row: str, column: str) -> str:
    """A cell of a funds block: funds(project(0), "total", "executed")."""
    return f"{prefix}.funds.{row}.{column}"


def indicator(prefix: str, l2key: str, k: int, fieldname: str) -> str:
    """The k-th indicator slot of a 二级 (``projects[0].ind.output_qty.1.actual``)."""
    return f"{prefix}.ind.{l2key}.{k}.{fieldname}"


def hint(prefix: str, *parts: str | int) -> str:
    """An in-sheet warning cell (``overall.hint.rate``, ``projects[1].hint.output_qty.0``)."""
    return ".".join([prefix, "hint", *map(str, parts)]) if prefix else ".".join(["hint", *map(str, parts)])


INDICATOR_FIELDS = ("name", "target", "actual", "weight", "score", "deviation", "nature", "value", "unit",
                    "initial_value", "adjusted_value", "coefficient", "core")


# the same keys read back: which slot, which project, which 附件1 line
INDICATOR_KEY = re.compile(r"^(?P<prefix>overall|projects\[\d+\])\.ind\.(?P<l2>[a-z0-9_]+)\.(?P<k>\d+)\.(?P<f>\w+)$")
OTHER_PROJECT_KEY = re.compile(r"^basic\.other\.(?P<ci>\d+)\.(?P<j>\d+)\.(?P<f>\w+)$")  # 附件1 lines with no 附件3
PROJECT_KEY = re.compile(r"^projects\[(\d+)\]\.(.+)$")


def other_project(category: int, j: int, fieldname: str | None = None) -> str:
    """The j-th 附件1 line of a category with no 附件3 behind it (``basic.other.0.2.name``)."""
    base = f"basic.other.{category}.{j}"
    return f"{base}.{fieldname}" if fieldname else base
