"""One registry of every problem code (issue #18, part 1): ``selfeval_xl/core/codes.py``.

Held equal, by reading the package's source (with the AST: comments and docstrings do not
count) and the shipped regions' files:

* every code literal in the package is registered;
* every registered code is raised by the package, or declared by a shipped region (a form's
  ``[block.checks]``, a ``region.toml`` ``[[checks]]``) and marked ``region=True``;
* every ``Flag(…)``, ``….flag(…)`` and ``CellCheck(…)`` whose code and severity are literals,
  and every shipped region's declaration, raises its code with a severity the registry lists
  (and the registry lists no severity that is never raised);
* the README's list of codes is ``readme_table()``.

Each checker is a function of its inputs, and each is shown failing on a fake input.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

from selfeval_xl.core import codes as codes_module
from selfeval_xl.core import flags as flags_module
from selfeval_xl.core.codes import CODES, END, GROUPS, SEVERITIES, START, Code, readme_block, readme_table, \
    rewrite_readme, with_table

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "selfeval_xl"
README = ROOT / "README.md"
CODE = re.compile(r"[A-Z]{2,10}-\d{3}")
# the severity constants of core/flags.py, by name
SEVERITY_NAMES = {n: getattr(flags_module, n) for n in ("ERROR", "WARNING", "INFO")}
# calls that raise a code: (code argument, severity argument, severity when not given)
RAISERS = {"Flag": (0, 1, None), "flag": (0, 1, None), "CellCheck": (0, 2, "error")}


# -- scanners ------------------------------------------------------------------------------------

def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings or bare string statements."""
    return {id(n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)}


def code_literals(source: str, filename: str = "<source>") -> dict[str, list[str]]:
    """Every string literal in ``source`` that is exactly a code, with where it stands."""
    tree = ast.parse(source, filename)
    skip = _docstrings(tree)
    out: dict[str, list[str]] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip \
                and CODE.fullmatch(n.value):
            out.setdefault(n.value, []).append(f"{filename}:{n.lineno}")
    return out


def _severities(node: ast.AST | None, default: str | None) -> set[str] | None:
    """The severities an argument can be: a literal, ERROR/WARNING/INFO, or a conditional of
    those; None when it is not known from the source."""
    if node is None:
        return {default} if default else None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Name) and node.id in SEVERITY_NAMES:
        return {SEVERITY_NAMES[node.id]}
    if isinstance(node, ast.IfExp):
        a, b = _severities(node.body, None), _severities(node.orelse, None)
        return a | b if a is not None and b is not None else None
    return None


def raising_sites(source: str, filename: str = "<source>") -> list[tuple[str, set[str], str]]:
    """(code, severities, where) of each call that raises a literal code with a known severity."""
    out = []
    for n in ast.walk(ast.parse(source, filename)):
        if not isinstance(n, ast.Call):
            continue
        name = n.func.id if isinstance(n.func, ast.Name) else n.func.attr if isinstance(n.func, ast.Attribute) else ""
        if name not in RAISERS:
            continue
        ci, si, default = RAISERS[name]
        code = n.args[ci] if len(n.args) > ci else next((k.value for k in n.keywords if k.arg == "code"), None)
        if not (isinstance(code, ast.Constant) and isinstance(code.value, str) and CODE.fullmatch(code.value)):
            continue
        sev = n.args[si] if len(n.args) > si else next((k.value for k in n.keywords if k.arg == "severity"), None)
        got = _severities(sev, default)
        if got is not None:
            out.append((code.value, got, f"{filename}:{n.lineno}"))
    return out


def _sources() -> list[tuple[str, str]]:
    return [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in sorted(PKG.rglob("*.py"))]


def package_literals() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, text in _sources():
        for code, where in code_literals(text, name).items():
            out.setdefault(code, []).extend(where)
    return out


def package_sites() -> list[tuple[str, set[str], str]]:
    return [s for name, text in _sources() for s in raising_sites(text, name)]


def region_declarations(regions: Path = PKG / "regions") -> list[tuple[str, str, str]]:
    """(code, severity, where) of each check a shipped region declares: its ``region.toml``
    ``[[checks]]`` and its forms' ``[block.checks]`` (severity "error" when not written)."""
    out = []
    for toml in sorted(regions.glob("*/region.toml")) + sorted(regions.glob("*/forms/*.toml")):
        data = tomllib.loads(toml.read_text(encoding="utf-8"))
        where = str(toml.relative_to(regions))
        for rule in data.get("checks", []) if isinstance(data.get("checks"), list) else []:
            out.append((rule["code"], rule.get("severity", "error"), where))
        for block in data.get("block", []):
            for key, decl in (block.get("checks") or {}).items():
                out.append((decl["code"], decl.get("severity", "error"), f"{where} [block.checks] {key}"))
    return out


# -- the comparisons -----------------------------------------------------------------------------

def unregistered(literals: dict[str, list[str]], registry: dict[str, Code]) -> list[str]:
    return [f"{c} ({', '.join(w)})" for c, w in sorted(literals.items()) if c not in registry]


def unraised(registry: dict[str, Code], literals: dict[str, list[str]],
             declared: list[tuple[str, str, str]]) -> list[str]:
    """Registered codes neither raised by the package nor declared by a shipped region (for
    which the registry must say ``region=True``)."""
    by_region = {c for c, _, _ in declared}
    out = []
    for code, entry in sorted(registry.items()):
        if code in literals:
            continue
        if code not in by_region:
            out.append(f"{code}: 程序中没有，任何地区也没有声明")
        elif not entry.region:
            out.append(f"{code}: 只由地区声明，登记时应写 region=True")
    return out


def wrong_severities(sites: list[tuple[str, set[str], str]], registry: dict[str, Code]) -> list[str]:
    return [f"{where}: {code} 以 {'/'.join(sorted(sev))} 报出，登记的是 {'/'.join(registry[code].severities)}"
            for code, sev, where in sites if code in registry and not sev <= set(registry[code].severities)]


def never_raised_severities(sites: list[tuple[str, set[str], str]], registry: dict[str, Code]) -> list[str]:
    """A severity the registry lists for a code that no literal site raises it with (codes
    raised only with non-literal severities are not judged)."""
    seen: dict[str, set[str]] = {}
    for code, sev, _ in sites:
        seen.setdefault(code, set()).update(sev)
    return [f"{code}: 登记了 {'/'.join(sorted(set(e.severities) - seen[code]))}，但没有这样报出的地方"
            for code, e in sorted(registry.items()) if code in seen and set(e.severities) - seen[code]]


def _declared_sites() -> list[tuple[str, set[str], str]]:
    return [(c, {s}, w) for c, s, w in region_declarations()]


# -- the registry against the package ------------------------------------------------------------

def test_every_code_the_package_raises_is_registered():
    literals = package_literals()
    assert len(literals) > 50, "the scanner found almost no codes: is it still reading the package?"
    assert unregistered(literals, CODES) == []


def test_every_registered_code_is_raised_or_declared_by_a_shipped_region():
    assert unraised(CODES, package_literals(), region_declarations()) == []


def test_codes_the_shipped_regions_declare_are_registered():
    declared = region_declarations()
    assert declared, "no shipped region declares a check: is the scanner reading the regions?"
    assert unregistered({c: [w] for c, _, w in declared}, CODES) == []


def test_each_literal_raising_site_uses_a_registered_severity():
    sites = package_sites() + _declared_sites()
    assert len(sites) > 60, "the scanner found almost no Flag(…) calls"
    assert wrong_severities(sites, CODES) == []


def test_each_registered_severity_is_raised_somewhere():
    assert never_raised_severities(package_sites() + _declared_sites(), CODES) == []


def test_registry_entries_are_complete():
    for code, c in CODES.items():
        assert c.code == code and CODE.fullmatch(code), code
        assert c.severities and set(c.severities) <= set(SEVERITIES), code
        assert len(set(c.severities)) == len(c.severities), code
        assert c.group in GROUPS, code
        assert c.title.strip() and c.advice.strip(), code
        assert "\n" not in c.title + c.advice, code


# -- the README ----------------------------------------------------------------------------------

def test_readme_lists_the_registry():
    text = README.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1, "README needs one codes:start/codes:end block"
    section = text[text.index("### 校验什么"):]
    section = section[:section.find("\n### ", 1)]
    assert START in section and END in section, "the codes block belongs in “### 校验什么”"
    assert readme_block(text) == readme_table(), \
        "README 的代码表不是由登记表生成的：运行 .venv/bin/python -m selfeval_xl.core.codes --readme"


def test_readme_table_lists_every_code_once():
    table = readme_table()
    rows = re.findall(r"^\| ([A-Z]{2,10}-\d{3}) \|", table, re.M)
    assert sorted(rows) == sorted(CODES)
    assert "| 代码 | 级别 | 含义 | 怎么办 |" in table


# -- the checkers can fail -------------------------------------------------------------------------

FAKE = '''"""A module docstring naming SUM-101 and ZZZ-999."""
from x import Flag, CellCheck, ERROR, WARNING, INFO

# a comment naming YYY-998
def f(ctx, certain):
    """A docstring naming XYZ-997."""
    yield Flag("ZZZ-999", ERROR, "loc", "message")
    yield Flag("SUM-101", WARNING, "loc", "message")
    yield Flag(severity=INFO, code="READ-112", location="", message="")
    yield ctx.flag("NARR-402", WARNING if certain else INFO, "sentence", "says", 1, 2)
    yield Flag(some_code, ERROR, "loc", "message")
    yield Flag("IND-201", sev, "loc", "message")

CHECK = CellCheck("RATE-101", "message")
OTHER = CellCheck("SCORE-101", "message", "warning", "score")
'''


def test_the_literal_scanner_catches_an_unknown_code_and_ignores_comments_and_docstrings():
    found = code_literals(FAKE, "fake.py")
    assert set(found) == {"ZZZ-999", "SUM-101", "READ-112", "NARR-402", "IND-201", "RATE-101", "SCORE-101"}
    assert found["ZZZ-999"] == ["fake.py:7"]  # the call, not the docstring
    assert unregistered(found, CODES) == ["ZZZ-999 (fake.py:7)"]


def test_the_severity_scanner_reads_each_kind_of_call():
    sites = {(c, frozenset(s)) for c, s, _ in raising_sites(FAKE, "fake.py")}
    assert sites == {("ZZZ-999", frozenset({"error"})), ("SUM-101", frozenset({"warning"})),
                     ("READ-112", frozenset({"info"})), ("NARR-402", frozenset({"warning", "info"})),
                     ("RATE-101", frozenset({"error"})), ("SCORE-101", frozenset({"warning"}))}


def test_the_severity_check_catches_a_severity_the_registry_does_not_list():
    wrong = wrong_severities(raising_sites(FAKE, "fake.py"), CODES)
    # SUM-101 and SCORE-101 are errors, READ-112 never info, NARR-402 never info; ZZZ-999 is unknown
    assert sorted(w.split(": ")[1].split(" ")[0] for w in wrong) == ["NARR-402", "READ-112", "SCORE-101", "SUM-101"]
    assert all(w.startswith("fake.py:") for w in wrong)


def test_the_unused_severity_check_catches_a_severity_never_raised():
    fake = {"SUM-101": Code("SUM-101", ("error", "warning"), "t", "a", GROUPS[0])}
    assert never_raised_severities([("SUM-101", {"error"}, "x.py:1")], fake) == \
        ["SUM-101: 登记了 warning，但没有这样报出的地方"]
    assert never_raised_severities([("SUM-101", {"error", "warning"}, "x.py:1")], fake) == []


def test_the_unraised_check_catches_a_code_nobody_raises():
    fake = dict(CODES)
    fake["ZZZ-999"] = Code("ZZZ-999", ("error",), "t", "a", GROUPS[0])
    fake["YYY-998"] = Code("YYY-998", ("error",), "t", "a", GROUPS[0])  # declared, but not marked region=True
    literals = package_literals()
    declared = region_declarations() + [("YYY-998", "error", "somewhere/region.toml")]
    assert unraised(fake, literals, declared) == ["YYY-998: 只由地区声明，登记时应写 region=True",
                                                  "ZZZ-999: 程序中没有，任何地区也没有声明"]


def test_the_region_scanner_reads_both_kinds_of_declaration(tmp_path):
    (tmp_path / "r" / "forms").mkdir(parents=True)
    (tmp_path / "r" / "region.toml").write_text(
        '[[checks]]\ncode = "XATT-105"\nequal = ["a", "b"]\nmessage = "m"\n', encoding="utf-8")
    (tmp_path / "r" / "forms" / "f.toml").write_text(
        "[[block]]\ngrid = '''\nx\n'''\n[block.checks]\n"
        '"k" = { code = "ZZZ-999", message = "m", severity = "warning" }\n', encoding="utf-8")
    got = {(c, s) for c, s, _ in region_declarations(tmp_path)}
    assert got == {("XATT-105", "error"), ("ZZZ-999", "warning")}
    assert unregistered({c: ["x"] for c, _ in got}, CODES) == ["ZZZ-999 (x)"]


def test_a_stale_readme_block_is_caught_and_rewritten(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# 标题\n\n### 校验什么\n\n前文\n\n{START}\n| 旧表 |\n{END}\n\n后文\n", encoding="utf-8")
    assert readme_block(readme.read_text(encoding="utf-8")) != readme_table()
    assert rewrite_readme(readme) is True
    text = readme.read_text(encoding="utf-8")
    assert readme_block(text) == readme_table()
    assert text.startswith("# 标题\n\n### 校验什么\n\n前文\n\n" + START) and text.endswith(END + "\n\n后文\n")
    assert rewrite_readme(readme) is False  # idempotent
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]  # no temporary file left behind


def test_the_command_line_rewrites_the_readme(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"{START}\n{END}\n", encoding="utf-8")
    assert codes_module.main(["--readme", str(readme)]) == 0
    assert readme_block(readme.read_text(encoding="utf-8")) == readme_table()
    assert codes_module.main([]) == 2
    missing = tmp_path / "none.md"
    missing.write_text("没有标记\n", encoding="utf-8")
    assert codes_module.main(["--readme", str(missing)]) == 1
    assert missing.read_text(encoding="utf-8") == "没有标记\n"
    with pytest.raises(ValueError):
        with_table("没有标记")
