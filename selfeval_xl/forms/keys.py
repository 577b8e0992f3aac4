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
OVERALL_BUDGET_INITIAL = f"{OVERALL}.budget_initial"
OVERALL_EXPENSE_BASIC = f"{OVERALL}.expense_basic"
OVERALL_EXPENSE_PROJECT = f"{OVERALL}.expense_project"
OVERALL_INCOME_GENERAL = f"{OVERALL}.income.general"
BASIC = "basic"  # 附件1's prefix
CONTROL_RATE = f"{BASIC}.control_rate"
STAFF_ACTUAL = f"{BASIC}.staff_actual"
STAFF_AUTHORIZED = f"{BASIC}.staff_authorized"
PUBLIC_FUNDS_FINAL = f"{BASIC}.public_funds.final"
PUBLIC_FUNDS_BUDGET = f"{BASIC}.public_funds.budget"
THREE_PUBLIC_FINAL = f"{BASIC}.three_public.final"
THREE_PUBLIC_BUDGET = f"{BASIC}.three_public.budget"

# the narrative: its sections (one text cell each) and the narrative checks' own figures, which
# no cell holds (they are read off the ones that do)
NARRATIVE = "narrative"
SECTIONS = f"{NARRATIVE}.sections."
PERSONNEL_EXPENSE = f"{NARRATIVE}.personnel_expense"
PUBLIC_EXPENSE = f"{NARRATIVE}.public_expense"
BUDGET_ADJUSTMENT = f"{NARRATIVE}.budget_adjustment"
BUDGET_BALANCE = f"{NARRATIVE}.budget_balance"

# every project's key in a region rule (``sum = ["projects[*].funds.total.full"]``)
PROJECTS_ALL = "projects[*]."


def project(i: int) -> str:
    """The prefix of the i-th project (0-based): its 附件3 sheet and its 附件1 line."""
    return f"projects[{i}]"


def section(name: str) -> str:
    """The text cell of a report section (``narrative.sections.basic``)."""
    return SECTIONS + name


def section_of(key: str | None) -> str | None:
    """The section a key is the text cell of, or None (``narrative.sections.basic`` → basic)."""
    return key[len(SECTIONS):] if key and key.startswith(SECTIONS) else None


def level1_figure(level1: str, fieldname: str) -> str:
    """The narrative checks' sum of a 一级's scores or weights (``narrative.level1.output.score``)."""
    return f"{NARRATIVE}.level1.{level1}.{fieldname}"


def report_para(index: int) -> str:
    """The key a flag on the n-th paragraph of a unit's Word report carries (``report.para.12``)."""
    return f"report.para.{index}"


def every_project(key: str) -> str | None:
    """For a rule's ``projects[*].k``, the key of the first project's (probe) cell; None otherwise."""
    return project(0) + "." + key[len(PROJECTS_ALL):] if key.startswith(PROJECTS_ALL) else None


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


def moved_to_project(key: str, i: int) -> str:
    """A project's key as the i-th project's (``projects[3].rate`` → ``projects[0].rate``); any
    other key as it is."""
    m = PROJECT_KEY.match(key)
    return of(project(i), m[2]) if m else key


def other_project(category: int, j: int, fieldname: str | None = None) -> str:
    """The j-th 附件1 line of a category with no 附件3 behind it (``basic.other.0.2.name``)."""
    base = f"basic.other.{category}.{j}"
    return f"{base}.{fieldname}" if fieldname else base
