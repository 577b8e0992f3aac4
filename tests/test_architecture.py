"""The package's layers, held by a test: a newcomer can trust the map in the README.

Every top-level part of ``selfeval_xl`` is a folder named in ``ALLOWED`` with the parts it may
import: core ← forms ← (files, checks) ← (xlsx, docx, wordin) ← jobs ← web ← cli. Lower layers never
import upper ones, no two modules import each other (even lazily inside a function), and a loose
module at the top of the package — a part ``ALLOWED`` does not name — fails the test.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "selfeval_xl"

_BELOW_JOBS = {"core", "forms", "files", "checks", "xlsx", "docx", "wordin"}

# what each part may import from the package (besides itself); "__init__" is selfeval_xl/__init__.py
# (its version and lazy API map), "__main__" is ``python -m selfeval_xl``
ALLOWED = {
    "__init__": set(),
    "core": set(),
    "forms": {"core"},
    # outputs, libreoffice, roster: the roster names the region's forms (forms.binding.form_name)
    "files": {"core", "forms"},
    # checks of a unit, and its report's prose against its tables (narrative)
    "checks": {"core", "forms"},
    "xlsx": {"core", "forms", "files", "__init__"},
    "docx": {"core", "forms", "checks", "files"},
    # Word/PDF reports in (issue #19): xlsx for its zip preflight's limits, files for LibreOffice (.doc/.wps);
    # forms and checks because a report's tables are read by the region's layout and checked by its rules
    "wordin": {"core", "forms", "checks", "files", "xlsx"},
    # the batch jobs (generate, check, report, compile), one unit's check, the pool, a region's proof
    "jobs": _BELOW_JOBS | {"__init__"},
    # the workspace: its store and pages, over the same jobs
    "web": _BELOW_JOBS | {"jobs"},
    # the command line, on top: the one part that may use any other
    "cli": _BELOW_JOBS | {"jobs", "web", "__init__"},
    "__main__": {"cli"},
}


def _module(path: Path) -> str:
    return ".".join(("selfeval_xl",) + path.relative_to(PKG).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    """Every selfeval_xl module this file imports, at any depth (lazy imports count too)."""
    here = _module(path)
    is_pkg = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("selfeval_xl"):
                continue
            for a in node.names:  # "from . import batch" names a module
                sub = f"{mod}.{a.name}"
                out.add(sub if (PKG / Path(*sub.split(".")[1:])).with_suffix(".py").exists()
                        or (PKG / Path(*sub.split(".")[1:]) / "__init__.py").exists() else mod)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("selfeval_xl")}
    out.discard(here)
    return out


def _graph() -> dict[str, set[str]]:
    return {_module(p): _imports(p) for p in PKG.rglob("*.py")}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def violations(graph: dict[str, set[str]], allowed: dict[str, set[str]]) -> list[str]:
    """Every import from one part into a part it may not use, and every module of a part
    ``allowed`` does not name."""
    wrong = []
    for mod, deps in graph.items():
        part = _part(mod)
        if part not in allowed:
            wrong.append(f"{mod} is in no layer: put it in a folder that ALLOWED names")
            continue
        for dep in deps:
            dpart = _part(dep)
            if dpart != part and dpart not in allowed[part] and dep != "selfeval_xl":
                wrong.append(f"{mod} imports {dep}")
    return sorted(wrong)


def test_each_layer_imports_only_the_layers_below_it():
    wrong = violations(_graph(), ALLOWED)
    assert not wrong, "\n".join(wrong)


def test_every_part_of_the_package_is_a_named_layer():
    """ALLOWED holds every part, not half: each folder (and file) at the top of the package with
    Python in it is named, and nothing is named that is not there."""
    parts = {_part(m) for m in _graph()}
    assert parts == set(ALLOWED), f"unnamed: {sorted(parts - set(ALLOWED))}, gone: {sorted(set(ALLOWED) - parts)}"
    loose = sorted(p.name for p in PKG.glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert not loose, f"loose modules at the top of the package: {loose}"


def test_the_layer_check_finds_what_it_must():
    """Or the tests above could never fail: an upward import, an import of the cli, and a loose
    module are each found; the cli using anything and a part using itself are not."""
    graph = {
        "selfeval_xl.core.model": {"selfeval_xl.forms.keys"},  # upward
        "selfeval_xl.web.app": {"selfeval_xl.cli", "selfeval_xl.jobs.check"},  # the cli from below it
        "selfeval_xl.helpers": {"selfeval_xl.core.model"},  # a loose module
        "selfeval_xl.cli": {"selfeval_xl.web.app", "selfeval_xl.jobs.batch", "selfeval_xl.files.outputs"},
        "selfeval_xl.jobs.check": {"selfeval_xl.jobs.batch", "selfeval_xl.checks"},
    }
    assert violations(graph, ALLOWED) == [
        "selfeval_xl.core.model imports selfeval_xl.forms.keys",
        "selfeval_xl.helpers is in no layer: put it in a folder that ALLOWED names",
        "selfeval_xl.web.app imports selfeval_xl.cli",
    ]


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    cycles = []

    def visit(node, stack, seen):
        for dep in graph.get(node, ()):
            if dep in stack:
                cycles.append(" → ".join(stack[stack.index(dep):] + [dep]))
            elif dep not in seen:
                seen.add(dep)
                visit(dep, stack + [dep], seen)

    for start in graph:
        visit(start, [start], {start})
    return sorted(set(cycles))


def test_no_import_cycles():
    cycles = _cycles(_graph())
    assert not cycles, "\n".join(cycles[:20])


def test_the_cycle_walk_finds_a_cycle_through_three_modules():
    """Or the test above could never fail."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) and all("a" in c and "b" in c and "c" in c for c in _cycles(graph))
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_checker_sees_a_lazy_import():
    """The walk must find imports inside functions, or the cycle test could never fail."""
    assert "selfeval_xl.xlsx.write" in _imports(PKG / "cli" / "__init__.py")  # cli imports it inside a command
    top_level = {n.module for n in ast.parse((PKG / "cli" / "__init__.py").read_text(encoding="utf-8")).body
                 if isinstance(n, ast.ImportFrom) and n.module}
    assert "xlsx.write" not in top_level  # …and only there: the walk went into the function


# -- keys are spelled only by the form engine (issue #18, part 6) ----------------------------------

# a model key: a root the forms use, then dotted names, indices or ``{}`` for an f-string's part
_KEY_LITERAL = re.compile(r"^(?:overall|basic|projects|narrative|report\.para)(?:\[(?:\d+|\*|\{\})\])?"
                          r"(?:\.(?:[a-z_][a-z0-9_]*|\d+|\{\}))*\.?$")
# keyword arguments that document the region files' format (published as its JSON Schema): region
# files are data and may name keys, so their examples may too
_DOCUMENTING = {"examples", "description"}


def key_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal (an f-string as a whole, ``{}`` for its fields) that
    spells a model key, outside the keyword arguments that document region files."""
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in _DOCUMENTING:
            skip |= {id(n) for n in ast.walk(node.value)}
        elif isinstance(node, ast.JoinedStr):
            skip |= {id(v) for v in node.values}  # its parts are read as one text below
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if ("." in text or "[" in text) and _KEY_LITERAL.match(text):
            found.append((node.lineno, text))
    return sorted(found)


def test_no_module_outside_the_form_engine_spells_a_key():
    """Keys are named in ``forms.keys`` (or asked of the compiled layout); a module that spells
    ``"overall.expense_basic"`` breaks silently when a region or the engine renames it."""
    forms = PKG / "forms"
    spelled = [f"{p.relative_to(PKG.parent)}:{line}: {text}"
               for p in sorted(PKG.rglob("*.py")) if forms not in p.parents
               for line, text in key_literals(p.read_text(encoding="utf-8"))]
    assert not spelled, "\n".join(spelled)


def test_the_key_scanner_finds_what_it_must():
    """Or the test above could never fail: plain, f-string, indexed and prefix spellings are
    found; a region-file example, a message and a file name are not."""
    source = '''
x = value_of(dept, "overall.expense_basic", derived)
y = f"projects[{i}].name"
z = key.startswith("narrative.sections.")
w = f"report.para.{n}"
Field(default=None, examples=["basic.control_rate"], description="如 overall.executed")
m = f"{where}“overall.rate”应为数字"
n = "report.docx"
'''
    found = [text for _line, text in key_literals(source)]
    assert found == ["overall.expense_basic", "projects[{}].name", "narrative.sections.", "report.para.{}"]


# -- keys are taken apart only by the form engine (issue #18, part 6) ------------------------------
# A key is parsed once into a ``forms.keys.Key``; a module that splits one, matches it with a
# regex or asks whether it ends in ".total_score" parses it again, its own way.

# a regex or text that spells a key's shape: a project index, a root and an escaped dot, an indicator slot
_KEY_SHAPED = re.compile(r"projects\\?\[|(?<![\w\u4e00-\u9fff])(?:overall|basic|narrative|report|footer|hint)\\\.|"
                         r"\\\.ind\\\.|\.ind\.")
# the methods that take a text apart, and the arguments that show the text is a key: "." split off
# something named key, or a key's first or last name with its dot (".total_score", "footer.")
_TAKE_APART = {"startswith", "endswith", "split", "rsplit", "partition", "rpartition", "removeprefix", "removesuffix"}
_AFFIX = re.compile(r"^\.?(?P<name>[a-z_][a-z0-9_]*)\.?$")
# read once where stored results are read back: a report flag of an earlier version named its
# paragraph by a key (core/flags.py turns it into the flag's place; nothing else may)
_LEGACY = {("core/flags.py", r"^report\.para\.(?P<paragraph>\d+)$")}


def _named_key(node: ast.AST) -> bool:
    """Whether an expression is something named key (``key``, ``f.key``, ``cell.key``, ``wkey``)."""
    while isinstance(node, ast.Attribute):
        if "key" in node.attr.lower():
            return True
        node = node.value
    return isinstance(node, ast.Name) and "key" in node.id.lower()


def key_parsing(source: str, names: set[str]) -> list[tuple[int, str]]:
    """(line, what) of every place that takes a key apart: a key-shaped string or regex (not a
    docstring, not a region file's documented example), or a split/prefix test of a key — on
    something named key with ".", or on anything with one of ``names`` (a key's parts) and its dot."""
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in _DOCUMENTING:
            skip |= {id(n) for n in ast.walk(node.value)}
        elif isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body \
                and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            skip.add(id(node.body[0].value))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip \
                and _KEY_SHAPED.search(node.value):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _TAKE_APART:
            args = [a for arg in node.args for a in (arg.elts if isinstance(arg, ast.Tuple) else [arg])]
            texts = [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            for t in texts:
                m = _AFFIX.match(t)
                if (t == "." and _named_key(node.func.value)) or (m and "." in t and m["name"] in names):
                    found.append((node.lineno, f"….{node.func.attr}({t!r})"))
    return sorted(found)


def _key_names() -> set[str]:
    """Every name a shipped region's keys are made of (overall, funds, total_score, name …)."""
    from selfeval_xl.forms.cells import Shape
    from selfeval_xl.forms.layout import compile_layout
    from selfeval_xl.forms.regions import available_profiles, get_profile

    names = set()
    for region in available_profiles():
        profile = get_profile(region)
        layout = compile_layout(profile, Shape(2023, "", "", project_categories=(profile.projects.default_category,)))
        names |= {part.split("[", 1)[0] for key in layout.where for part in key.split(".")}
    return {n for n in names if re.fullmatch(r"[a-z_][a-z0-9_]*", n)}


def test_no_module_outside_the_form_engine_takes_a_key_apart():
    """``Key`` knows its project, section, slot and names; re-parsing its text elsewhere breaks
    silently the day the engine spells a key otherwise."""
    forms = PKG / "forms"
    names = _key_names()
    parsed = [f"{p.relative_to(PKG.parent)}:{line}: {text}"
              for p in sorted(PKG.rglob("*.py")) if forms not in p.parents
              for line, text in key_parsing(p.read_text(encoding="utf-8"), names)
              if (p.relative_to(PKG).as_posix(), text) not in _LEGACY]
    assert not parsed, "\n".join(parsed)


def test_the_key_parsing_scanner_finds_what_it_must():
    """Or the test above could never fail: a project regex, an escaped root, a slot test, a
    suffix test and a split of a key are found; a file suffix, a docstring, a message and a
    region-file example are not."""
    source = '''
"""Keys such as projects[2].funds.total.full are parsed once."""
PROJECT = re.compile(r"^projects\\[(\\d+)\\]\\.(.+)$")
SLOT = re.compile(r"^overall\\.ind\\.(\\w+)$")
a = [r for r in refs if ".ind." not in r]
b = fig.key.endswith(("score", ".total_score"))
c = cell.key.startswith("footer.")
row, _, column = key.rpartition(".")
d = name.endswith(".pdf")
Field(default=None, examples=["projects[*].funds.total.full"])
m = "表中的“{k}”不是单元格"
'''
    found = [text for _line, text in key_parsing(source, {"total_score", "footer", "funds"})]
    assert found == [r"^projects\[(\d+)\]\.(.+)$", r"^overall\.ind\.(\w+)$", ".ind.", "….endswith('.total_score')",
                     "….startswith('footer.')", "….rpartition('.')"], found
