"""A region's ``[[checks]]`` as formulas: one condition per rule, true when the rule is broken.

Why one condition: the in-sheet warning (a hint cell beside the rule's ``at`` cell, shown in
Excel/WPS/LibreOffice as the clerk types) and the ``check`` flag (``checks.check_rules``, read
from ``forms.recompute`` — the same formula evaluated in Python from the inputs, never the
workbook's cached values) are the same text, so they cannot disagree. The kinds
(``core.region.Check``):

* ``equal = [a, b]`` — |a − b| > tolerance (skipped while both are blank);
* ``compare = [a, op, b]`` — a op b fails, b a key or a number (``<=``/``>=``/``=`` allow the
  tolerance, ``<``/``>`` are strict); skipped while a or a key b is not a number;
* ``sum = [k…]`` + ``equals = t`` — |Σk − t| > tolerance; ``projects[*].k`` is every project's k;
* ``range = k`` + ``min``/``max`` — k outside [min − tolerance, max + tolerance];
* ``require = k`` (+ ``if_filled = a``) — k blank (while a is filled: not blank, not 0).

``when`` (an Excel condition over ``{key}``) limits any of them.
"""

from __future__ import annotations

from ..core.region import Check, Profile
from .cells import blank_text, num


def tolerance_value(kind: str, profile: Profile) -> float:
    """The tolerance kind as a number (as ``checks.tolerance`` for stated figures)."""
    s = profile.scoring
    if kind == "rate":
        tol = 0.005 if s.execution_rate_percent_decimals < 0 else 0.5 * 10 ** -(s.execution_rate_percent_decimals + 2)
        return max(tol, 0.00005)
    if kind == "score":
        return s.score_tolerance
    if kind == "money":
        return s.money_tolerance
    return 0.0


def _ref(key: str) -> str:
    return "{" + key + "}"


def _filled(ref: str) -> str:
    """Excel: the cell holds something — text that is not blank, or a number that is not 0."""
    return f"IF(ISNUMBER({ref}),{ref}<>0,NOT({blank_text(ref)}))"


def condition(rule: Check, profile: Profile) -> str:
    """The rule broken, as an Excel boolean over ``{key}`` references (relative ``.key`` and
    ``projects[*].key`` resolved when the sheet is compiled)."""
    # a hair over the tolerance, so Excel's and Python's last bit never decide a border case
    tol = num(round(tolerance_value(rule.tolerance, profile) + 1e-9, 12))
    kind = rule.kind
    if kind == "equal":
        a, b = map(_ref, rule.equal)
        cond = f"AND(OR(ISNUMBER({a}),ISNUMBER({b})),ABS(N({a})-N({b}))>{tol})"
    elif kind == "compare":
        a_key, op, b = rule.compare
        a = _ref(a_key)
        bref = _ref(b) if isinstance(b, str) else num(b)
        known = f"ISNUMBER({a})" + (f",ISNUMBER({bref})" if isinstance(b, str) else "")
        broken = {"<=": f"{a}-{bref}>{tol}", ">=": f"{bref}-{a}>{tol}", "<": f"{a}>={bref}", ">": f"{a}<={bref}",
                  "=": f"ABS({a}-{bref})>{tol}"}[op]
        cond = f"AND({known},{broken})"
    elif kind == "sum":
        parts = ",".join(_ref(k) for k in rule.sum)
        t = _ref(rule.equals)
        cond = f"AND(COUNT({parts},{t})>0,ABS(SUM({parts})-N({t}))>{tol})"
    elif kind == "range":
        x = _ref(rule.range)
        outside = []
        if rule.min is not None:
            outside.append(f"{x}<{num(rule.min)}-{tol}")
        if rule.max is not None:
            outside.append(f"{x}>{num(rule.max)}+{tol}")
        cond = f"AND(ISNUMBER({x}),OR({','.join(outside)}))"
    else:  # require
        x = _ref(rule.require)
        cond = f"NOT({_filled(x)})"
        if rule.if_filled:
            cond = f"AND({_filled(_ref(rule.if_filled))},{cond})"
    if rule.when:
        cond = f"AND({rule.when},{cond})"
    return cond


def hint_formula(rule: Check, profile: Profile) -> str:
    """The in-sheet warning: the rule's message while the condition holds, else empty."""
    return f'=IF({condition(rule, profile)},"{_excel_text(rule.message)}","")'


def _excel_text(s: str) -> str:
    return s.replace('"', '""').replace("{", "｛").replace("}", "｝")
