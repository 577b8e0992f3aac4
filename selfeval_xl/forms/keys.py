"""Model keys: the names every cell, value, flag and report field is known by.

A key is a dotted path into the model (``overall.budget_full``, ``projects[2].funds.total.executed``)
or a derived figure of the forms (``overall.total_score``, ``projects[0].rate``). Region files
write keys as text; Python builds them only here, so a renamed key is changed in one place.

A key is parsed once, here, into a ``Key``: a ``str`` (so dict lookups, JSON, SQLite and region
files see the same text) that knows its parts — the project it belongs to (``project``), the
relative ``.key`` of a repeated sheet or every project's ``projects[*].key``, the model path, the
report section it is the text of, the indicator slot or 附件1 free line it names. The compiler
gives every cell a ``Key`` (``Cell.key``), the region loader one for every key a rule or a
narrative term names, refusing a malformed one with file, line and key. Modules outside the form
engine ask the ``Key`` (``key.project``, ``key.section``, ``key.slot``, ``key.in_project(i)``)
and never take the text apart themselves; ``tests/test_architecture.py`` holds them to it.
Parsing is cached by text: the same key of every unit of a batch is one object.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple


class KeyFormatError(ValueError):
    """A text that is no key; the message (Chinese) names it, the loader adds file and line."""


class Slot(NamedTuple):
    """An indicator slot: ``projects[0].ind.output_qty.1.actual`` → (projects[0], output_qty, 1, actual)."""

    prefix: "Key"  # overall or projects[i]
    level2: str
    k: int
    field: str

    @property
    def row(self) -> "Key":
        """The slot's row, without its field (``projects[0].ind.output_qty.1``): its cells share it."""
        return Key(f"{self.prefix}.ind.{self.level2}.{self.k}")


class OtherLine(NamedTuple):
    """A 附件1 line of a category with no 附件3 behind it: ``basic.other.0.2.name`` → (0, 2, name)."""

    category: int
    j: int
    field: str


# the roots the engine itself names (region files may add their own)
OVERALL = "overall"  # 附件2's prefix
BASIC = "basic"  # 附件1's prefix
NARRATIVE = "narrative"
PROJECTS = "projects"
HINT = "hint"  # an in-sheet warning cell's part
FOOTER = "footer"  # a sheet's signature line (text, not a figure)
# every project's key in a region rule (``sum = ["projects[*].funds.total.full"]``) or formula
PROJECTS_ALL = f"{PROJECTS}[*]."

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")
_PROJECT_ROOT = re.compile(r"projects\[(\d+)\]")
_BAD = re.compile(r"[\s\x00-\x1f\x7f{}]")
_MAX_CHARS = 300
_CACHE_LIMIT = 1 << 18  # distinct keys held parsed (a campaign of regions stays far below)
_KNOWN: dict[str, "Key"] = {}


class _Parts(NamedTuple):
    relative: bool
    every: bool
    project: int | None
    root: str
    rest: str
    name: str
    parts: tuple[tuple[str, int | None], ...] | None
    section: str | None
    slot: Slot | None
    other: OtherLine | None
    hint: bool


_PARTS: dict["Key", _Parts] = {}


def _parts_of(k: "Key") -> _Parts:
    found = _PARTS.get(k)
    if found is None:
        found = _PARTS[k] = _parse(k)
    return found


class Key(str):
    """A model key parsed once (see the module's docstring). ``Key(text)`` is the cached key of
    that text, or ``KeyFormatError``; its parts, read as attributes, are parsed at construction
and never change.

    * ``relative`` — written ``.funds.total.full``: the item of a sheet repeated per project;
    * ``every`` — written ``projects[*].funds.total.full``: every project's;
    * ``project`` — the project's index for ``projects[2].…``, else None;
    * ``root`` — the first name (overall, basic, projects, narrative, footer, hint, …; "" relative);
    * ``rest`` — the key under its project (``funds.total.full``), else the key itself;
    * ``name`` — the last name (``full``);
    * ``parts`` — ((name, index or None), …) when every part is a model path's, else None;
    * ``section`` — for ``narrative.sections.basic``: basic;
    * ``slot`` — an indicator slot (``Slot``); ``other`` — a free 附件1 line (``OtherLine``);
    * ``hint`` — an in-sheet warning cell (``overall.hint.rate``, ``projects[1].hint.check3``).
    """

    # no __dict__: a key's parts cannot be changed after parsing, and thousands of keys cost no
    # dict each; the parts live in _PARTS, keyed by the Key object (an identity hit)
    __slots__ = ()

    def __new__(cls, text: str) -> "Key":
        known = _KNOWN.get(text)
        if known is not None:
            return known
        if not isinstance(text, str):
            raise KeyFormatError(f"键应为文字，现为 {type(text).__name__}")
        self = str.__new__(cls, text)
        parts = _parse(self)
        if len(_KNOWN) >= _CACHE_LIMIT:
            _KNOWN.clear()
            _PARTS.clear()  # a key still held elsewhere is parsed again when asked (``_parts_of``)
        _KNOWN[str(text)] = self
        _PARTS[self] = parts
        return self

    relative = property(lambda self: _parts_of(self).relative)
    every = property(lambda self: _parts_of(self).every)
    project = property(lambda self: _parts_of(self).project)
    root = property(lambda self: _parts_of(self).root)
    rest = property(lambda self: _parts_of(self).rest)
    name = property(lambda self: _parts_of(self).name)
    parts = property(lambda self: _parts_of(self).parts)
    section = property(lambda self: _parts_of(self).section)
    slot = property(lambda self: _parts_of(self).slot)
    other = property(lambda self: _parts_of(self).other)
    hint = property(lambda self: _parts_of(self).hint)

    def __reduce__(self):
        return (Key, (str(self),))  # a copy in another process parses (and caches) there

    # repr stays the text's ('overall.rate'): generated code (``forms.formula``) writes keys by repr

    # -- asked by the engine and its readers ------------------------------------------------------

    def in_project(self, i: int) -> "Key":
        """This key as the i-th project's (``projects[3].rate``, ``.rate`` or ``projects[*].rate``
        → ``projects[i].rate``); a key of no project as it is."""
        if self.project is None and not self.relative and not self.every:
            return self
        return Key(f"projects[{i}].{self.rest}")

    @property
    def probe(self) -> "Key":
        """The cell a rule's key is looked up by: the first project's for ``.key`` and
        ``projects[*].key``, else the key itself."""
        return self.in_project(0) if (self.relative or self.every) else self

    @property
    def parent(self) -> "Key | None":
        """The key without its last name (``projects[0].ind.x.1.name`` → ``projects[0].ind.x.1``)."""
        head, dot, _ = self.rpartition(".")
        return Key(head) if dot and head and head != "." else None

    def child(self, name: str | int) -> "Key":
        """``name`` under this key: ``Key("overall").child("rate")`` → ``overall.rate``."""
        return Key(f"{self}.{name}")

    def sibling(self, name: str) -> "Key":
        """The key beside this one with another last name (``….1.score`` → ``….1.name``)."""
        parent = self.parent
        return parent.child(name) if parent is not None else Key(name)


def _parse(k: str) -> _Parts:
    """``k``'s parts (the one parser of key text), or ``KeyFormatError``."""
    text = str(k)
    if not text or len(text) > _MAX_CHARS or _BAD.search(text):
        raise KeyFormatError(f"“{text[:80]}”不是有效的键（不能为空、含空格或花括号，最多 {_MAX_CHARS} 个字）")
    every = text.startswith(PROJECTS_ALL)
    relative = text.startswith(".")
    body = text[len(PROJECTS_ALL):] if every else text[1:] if relative else text
    names = body.split(".")
    if any(not n for n in names):
        raise KeyFormatError(f"“{text[:80]}”不是有效的键（以 . 分隔的各段都不能为空）")
    if "[*]" in body:
        raise KeyFormatError(f"“{text[:80]}”：[*] 只能写在开头，projects[*].键 表示各项目的该键")
    project = None
    m = _PROJECT_ROOT.fullmatch(names[0])
    if m and not relative and not every:
        project = int(m[1])
    root = "" if relative or every else names[0].split("[", 1)[0]
    rest = (body.split(".", 1)[1] if len(names) > 1 else "") if project is not None else body
    parts = []
    for n in names:
        pm = _PART.fullmatch(n)
        if pm is None:
            parts = None
            break
        parts.append((pm[1], None if pm[2] is None else int(pm[2])))
    parts = tuple(parts) if parts is not None and not relative and not every else None
    plain = not relative and not every
    section = names[2] if plain and len(names) == 3 and names[0] == NARRATIVE and names[1] == "sections" else None
    slot = None
    if plain and len(names) == 5 and names[1] == "ind" and (names[0] == OVERALL or project is not None) \
            and names[3].isdigit() and _NAME.fullmatch(names[2]) and _NAME.fullmatch(names[4]):
        slot = Slot(Key(names[0]), names[2], int(names[3]), names[4])
    other = None
    if plain and len(names) == 5 and names[0] == BASIC and names[1] == "other" and names[2].isdigit() \
            and names[3].isdigit() and _NAME.fullmatch(names[4]):
        other = OtherLine(int(names[2]), int(names[3]), names[4])
    return _Parts(relative, every, project, root, rest, names[-1], parts, section, slot, other, HINT in names[:-1])


def key_of(text: str | None) -> Key | None:
    """The ``Key`` of a text that may be None or malformed (a flag read back from JSON): None
    where it is no key."""
    if text is None or text == "":
        return None
    try:
        return Key(text)
    except KeyFormatError:
        return None


# -- the keys the engine names ----------------------------------------------------------------

# derived figures the checks and the report read by name
EXECUTED = "executed"
RATE = "rate"
SCORE = "score"  # the execution-rate score
TOTAL_SCORE = "total_score"
WEIGHT_TOTAL = "weight_total"
GRADE = "grade"

OVERALL_KEY = Key(OVERALL)
OVERALL_EXECUTED = OVERALL_KEY.child(EXECUTED)
OVERALL_RATE = OVERALL_KEY.child(RATE)
OVERALL_SCORE = OVERALL_KEY.child(SCORE)
OVERALL_TOTAL_SCORE = OVERALL_KEY.child(TOTAL_SCORE)
OVERALL_GRADE = OVERALL_KEY.child(GRADE)
OVERALL_BUDGET_FULL = OVERALL_KEY.child("budget_full")
OVERALL_BUDGET_INITIAL = OVERALL_KEY.child("budget_initial")
OVERALL_EXPENSE_BASIC = OVERALL_KEY.child("expense_basic")
OVERALL_EXPENSE_PROJECT = OVERALL_KEY.child("expense_project")
OVERALL_INCOME_GENERAL = Key(f"{OVERALL}.income.general")
CONTROL_RATE = Key(f"{BASIC}.control_rate")
STAFF_ACTUAL = Key(f"{BASIC}.staff_actual")
STAFF_AUTHORIZED = Key(f"{BASIC}.staff_authorized")
PUBLIC_FUNDS_FINAL = Key(f"{BASIC}.public_funds.final")
PUBLIC_FUNDS_BUDGET = Key(f"{BASIC}.public_funds.budget")
THREE_PUBLIC_FINAL = Key(f"{BASIC}.three_public.final")
THREE_PUBLIC_BUDGET = Key(f"{BASIC}.three_public.budget")

# the narrative checks' own figures, which no cell holds (they are read off the ones that do)
PERSONNEL_EXPENSE = Key(f"{NARRATIVE}.personnel_expense")
PUBLIC_EXPENSE = Key(f"{NARRATIVE}.public_expense")
BUDGET_ADJUSTMENT = Key(f"{NARRATIVE}.budget_adjustment")
BUDGET_BALANCE = Key(f"{NARRATIVE}.budget_balance")


@lru_cache(maxsize=1 << 16)  # asked per unit, per slot: the built key, not a new text to look up
def project(i: int) -> Key:
    """The prefix of the i-th project (0-based): its 附件3 sheet and its 附件1 line."""
    return Key(f"{PROJECTS}[{i}]")


@lru_cache(maxsize=1 << 16)  # asked per unit, per slot: the built key, not a new text to look up
def section(name: str) -> Key:
    """The text cell of a report section (``narrative.sections.basic``)."""
    return Key(f"{NARRATIVE}.sections.{name}")


@lru_cache(maxsize=1 << 16)  # asked per unit, per slot: the built key, not a new text to look up
def level1_figure(level1: str, fieldname: str) -> Key:
    """The narrative checks' sum of a 一级's scores or weights (``narrative.level1.output.score``)."""
    return Key(f"{NARRATIVE}.level1.{level1}.{fieldname}")


def printed_weight(role: str, level1: str) -> Key:
    """A 一级's weight as a Word report's indicator table prints it (“效益指标（30分）”)."""
    return Key(f"{role}.level1.{level1}")


@lru_cache(maxsize=1 << 16)  # asked per unit, per slot: the built key, not a new text to look up
def of(prefix: str, name: str) -> Key:
    """``name`` under ``prefix``: of(project(2), "rate") → ``projects[2].rate``."""
    return Key(f"{prefix}.{name}" if prefix else name)


@lru_cache(maxsize=1 << 16)  # asked per unit, per slot: the built key, not a new text to look up
def funds(prefix: str, row: str, column: str) -> Key:
    """A cell of a funds block: funds(project(0), "total", "executed")."""
    return Key(f"{prefix}.funds.{row}.{column}")


@lru_cache(maxsize=1 << 16)  # asked per unit, per slot: the built key, not a new text to look up
def indicator(prefix: str, l2key: str, k: int, fieldname: str) -> Key:
    """The k-th indicator slot of a 二级 (``projects[0].ind.output_qty.1.actual``)."""
    return Key(f"{prefix}.ind.{l2key}.{k}.{fieldname}")


def hint(prefix: str, *parts: str | int) -> Key:
    """An in-sheet warning cell (``overall.hint.rate``, ``projects[1].hint.output_qty.0``)."""
    return Key(".".join([prefix, HINT, *map(str, parts)]) if prefix else ".".join([HINT, *map(str, parts)]))


def rule_hint(prefix: str, n: int) -> Key:
    """The warning cell of the region's n-th ``[[checks]]`` rule (1-based) on a sheet."""
    return hint(prefix, f"check{n}")


def rule_of_hint(key: Key) -> int | None:
    """For a rule's warning cell (``rule_hint``), the rule's number; None for any other key."""
    return int(key.name[5:]) if key.hint and key.name.startswith("check") and key.name[5:].isdigit() else None


INDICATOR_FIELDS = ("name", "target", "actual", "weight", "score", "deviation", "nature", "value", "unit",
                    "initial_value", "adjusted_value", "coefficient", "core", "criteria")


def other_project(category: int, j: int, fieldname: str | None = None) -> Key:
    """The j-th 附件1 line of a category with no 附件3 behind it (``basic.other.0.2.name``)."""
    base = f"{BASIC}.other.{category}.{j}"
    return Key(f"{base}.{fieldname}" if fieldname else base)
