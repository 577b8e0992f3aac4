"""The package's layers, held by a test: a newcomer can trust the map in the README.

core ← forms ← (xlsx, docx, checks) ← (checking, batch, roster, cli). Lower layers never
import upper ones, and no two modules import each other, even lazily inside a function.
"""

from __future__ import annotations

import ast
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
