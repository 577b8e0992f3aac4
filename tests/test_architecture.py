"""The package's layers, held by a test: a newcomer can trust the map in the README.

core ← forms ← (xlsx, docx, checks) ← (checking, batch, roster, cli). Lower layers never
import upper ones, and no two modules import each other, even lazily inside a function.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "selfeval_xl"

# what each part may import from the package (besides itself)
ALLOWED = {
    "core": set(),
    "forms": {"core"},
    "outputs": set(),
    "libreoffice": {"outputs"},
    "narrative": {"core", "forms"},
    "checks": {"core", "forms", "narrative"},
    "xlsx": {"core", "forms", "outputs", "__init__"},
    "docx": {"core", "forms", "checks", "narrative", "outputs"},
    # Word/PDF reports in (issue #19): xlsx for its zip preflight's limits, libreoffice for .doc/.wps;
    # forms and checks because a report's tables are read by the region's layout and checked by its rules
    "wordin": {"core", "forms", "checks", "outputs", "libreoffice", "xlsx"},
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


def test_each_layer_imports_only_the_layers_below_it():
    wrong = []
    for mod, deps in _graph().items():
        part = _part(mod)
        if part not in ALLOWED:
            continue  # the top: cli, batch, checking, roster may use anything
        for dep in deps:
            dpart = _part(dep)
            if dpart != part and dpart not in ALLOWED[part] and dep != "selfeval_xl":
                wrong.append(f"{mod} imports {dep}")
    assert not wrong, "\n".join(sorted(wrong))


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
    assert "selfeval_xl.xlsx.write" in _imports(PKG / "cli.py")  # cli imports it inside a command
    top_level = {n.module for n in ast.parse((PKG / "cli.py").read_text(encoding="utf-8")).body
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
