"""Messages from loading a region are the coordinator's: Chinese throughout, naming the file and
the line. Broken region.toml and forms/*.toml files are fed to the real loader; once the words
the coordinator wrote herself (keys, values, file names) are taken out, no English word may be
left — not pydantic's ("Field required", "Input should be …"), not tomllib's ("Invalid value"),
not a Python exception's name."""

from __future__ import annotations

import re

import pytest

from selfeval_xl.core.region import ProfileError
from selfeval_xl.forms.regions import profile_from_sources
from selfeval_xl.core.words import WORDS
from selfeval_xl.forms.definition import DERIVED_TYPES, INPUT_TYPES, LABEL_STYLES
from selfeval_xl.forms.formula import FUNCTIONS
from selfeval_xl.forms.schema import MINIMAL_REGION, form_json_schema, region_schema

REGION = MINIMAL_REGION["region.toml"]
SHEET = MINIMAL_REGION["forms/project.toml"]
_WORD = re.compile(r"[A-Za-z]{4,}")


def _vocabulary() -> set[str]:
    """The words of the format itself, which a message may list as the allowed ones: every key
    and allowed value the schemas name, the formula functions, the placeholders of the report's
    sentences, the keys of the minimal region — identifiers, not English prose."""
    words: set[str] = {"TOML", "Excel", "true", "false"}  # the names of a format and a program

    def walk(node):
        if isinstance(node, dict):
            for name in node.get("properties", {}):
                words.update(_WORD.findall(name))
            for value in (*node.get("enum", ()), node.get("const", "")):
                words.update(_WORD.findall(str(value)))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for x in node:
                walk(x)

    for schema in (region_schema(), form_json_schema()):
        walk(schema)
    for text in MINIMAL_REGION.values():
        words.update(_WORD.findall(text))
    words.update(w for name in (*FUNCTIONS, *INPUT_TYPES, *DERIVED_TYPES, *LABEL_STYLES) for w in _WORD.findall(name))
    for word in WORDS.values():
        words.update(w for k in word.keys for w in _WORD.findall(k))
    words.update(w for k in WORDS for w in _WORD.findall(k))
    return words


ALLOWED = _vocabulary()

# name → (file changed, its new text, whether the message must name a line)
BROKEN = {
    # region.toml: TOML itself
    "toml: a bare word as value": ("region.toml", REGION.replace("execution_weight = 10", "execution_weight = ten"), True),
    "toml: unclosed array": ("region.toml", REGION.replace('rows = 3 }]', 'rows = 3 }'), True),
    "toml: a key twice": ("region.toml", REGION.replace("min = 60", "min = 60\nmin = 70"), True),
    "toml: a table twice": ("region.toml", REGION + "\n[scoring]\ntotal = 100\n", True),
    "toml: no equals sign": ("region.toml", REGION.replace("total = 100", "").replace("execution_weight = 10",
                                                                                   "execution_weight 10"), True),
    "toml: unterminated string": ("region.toml", REGION.replace('name = "合格"', 'name = "合格'), True),
    "toml: chinese key unquoted": ("region.toml", REGION.replace('name = "合格"', '名称 = "合格"'), True),
    "toml: unclosed inline table": ("region.toml", REGION.replace('rows = 3 }]', 'rows = 3 ]'), True),
    # region.toml: the rules' model
    "missing key": ("region.toml", REGION.replace("execution_scored = true\n", ""), True),
    "misspelt key": ("region.toml", REGION.replace("execution_weight = 10", "executon_weight = 10"), True),
    "text for a number": ("region.toml", REGION.replace("execution_weight = 10", 'execution_weight = "十"'), True),
    "text for a boolean": ("region.toml", REGION.replace("execution_scored = true", 'execution_scored = "是"'), True),
    "fraction for an integer": ("region.toml", REGION.replace("execution_rate_percent_decimals = 2",
                                                              "execution_rate_percent_decimals = 2.5"), True),
    "infinite number": ("region.toml", REGION.replace("execution_weight = 10", "execution_weight = inf"), True),
    "empty list": ("region.toml", REGION.replace('level2 = [{ key = "quantity", name = "数量指标", rows = 3 }]',
                                                 "level2 = []"), True),
    "text for a list": ("region.toml", REGION.replace('level2 = [{ key = "quantity", name = "数量指标", rows = 3 }]',
                                                      'level2 = "数量指标"'), True),
    "number for a table": ("region.toml", REGION.replace("[scoring]\n", "scoring = 5\n[scoring_]\n"), False),
    "bad key pattern": ("region.toml", REGION.replace('key = "quantity"', 'key = "Quantity"'), True),
    "grades out of order": ("region.toml", REGION.replace("min = 60", "min = 0").replace("min = 0\n\n", "min = 50\n\n"),
                            False),
    "weights do not add up": ("region.toml", REGION.replace("weight = 90", "weight = 80"), False),
    "bad severity": ("region.toml", REGION + '\n[[checks]]\ncode = "X-101"\nmessage = "m"\nseverity = "fatal"\n'
                                             'require = ".name"\n', True),
    "bad code": ("region.toml", REGION + '\n[[checks]]\ncode = "x101"\nmessage = "m"\nrequire = ".name"\n', True),
    "two rule kinds": ("region.toml", REGION + '\n[[checks]]\ncode = "X-101"\nmessage = "m"\nrequire = ".name"\n'
                                               'range = ".funds.total.full"\nmax = 1\n', True),
    "bad operator": ("region.toml", REGION + '\n[[checks]]\ncode = "X-101"\nmessage = "m"\n'
                                             'compare = [".funds.total.full", "=>", 1]\n', True),
    "compare too short": ("region.toml", REGION + '\n[[checks]]\ncode = "X-101"\nmessage = "m"\n'
                                                  'compare = [".funds.total.full"]\n', True),
    "rule names no cell": ("region.toml", REGION + '\n[[checks]]\ncode = "X-101"\nmessage = "m"\n'
                                                   'require = ".nothing_here"\n', True),
    "bad tolerance": ("region.toml", REGION + '\n[[checks]]\ncode = "X-101"\nmessage = "m"\nrequire = ".name"\n'
                                              'tolerance = "loose"\n', True),
    "sheet file missing": ("region.toml", REGION.replace('"forms/project.toml"]', '"forms/projekt.toml"]'), False),
    "bad region id": ("region.toml", REGION.replace('id = "minimal"', 'id = "../other"'), True),
    "unknown placeholder": ("region.toml", REGION.replace("[forms]\n", '[forms]\nguide_title = "{yaer}年度"\n'), True),
    "bad words": ("region.toml", REGION + '\n[report.words]\nproject_result = "{nothing}"\n', True),
    "rule key malformed": ("region.toml", REGION + '\n[[checks]]\ncode = "X-101"\nmessage = "m"\nrequire = "a..b"\n', True),
    "every project outside a sum": ("region.toml", REGION + '\n[[checks]]\ncode = "X-101"\nmessage = "m"\n'
                                                            'require = "projects[*].name"\n', True),
    "term key malformed": ("region.toml", REGION + '\n[[narrative.terms]]\nconcept = "c"\nwords = ["预算"]\nkey = "a..b"\n',
                           True),
    "unknown sentence name": ("region.toml", REGION + '\n[report.words]\nprojekt = "x"\n', True),
    "sheets not a list": ("region.toml", REGION.replace('sheets = ["forms/guide.toml", "forms/project.toml"]',
                                                        'sheets = "forms/guide.toml"'), False),
    "byte order mark and huge number": ("region.toml", "\ufeff" + REGION.replace("execution_weight = 10",
                                                                                "execution_weight =\t1e999"), True),
    # forms/*.toml
    "form key malformed": ("forms/project.toml", SHEET.replace("$.name", "$.na-me"), True),
    "every project on a repeated sheet": ("forms/project.toml", SHEET.replace("=SUM({.funds.current.full})",
                                                                              "={projects[*].funds.current.full}"), False),
    "formula cycle": ("forms/project.toml", SHEET.replace("=SUM({.funds.current.full})", "=SUM({.funds.total.executed})")
                      .replace("=SUM({.funds.current.executed})", "=SUM({.funds.total.full})"), True),
    "form toml syntax": ("forms/project.toml", SHEET.replace('role = "project"', "role = project"), True),
    "bad block kind": ("forms/project.toml", SHEET.replace('totals = { key = ".",', 'total = { key = ".",'), True),
    "unknown input type": ("forms/project.toml", SHEET.replace("$.funds.current.full:money",
                                                               "$.funds.current.full:currency"), True),
    "unknown derived type": ("forms/project.toml", SHEET.replace("=.funds.total.full", "=.funds.total.full:number"), True),
    "unknown style": ("forms/project.toml", SHEET.replace("项目名称 ::header", "项目名称 ::heading"), True),
    "missing role": ("forms/project.toml", SHEET.replace('role = "project"\n', ""), False),
    "unknown role": ("forms/project.toml", SHEET.replace('role = "project"', 'role = "projects"'), True),
    "unknown sheet key": ("forms/project.toml", SHEET.replace('repeat = "projects"', 'repeat = "projects"\nlandscpe = false'),
                          True),
    "unknown block key": ("forms/project.toml", SHEET.replace("[block.formulas]", "[block.formulae]"), True),
    "unknown kind key": ("forms/project.toml", SHEET.replace('indicators = { key = "." }',
                                                             'indicators = { key = ".", level = "project" }'), True),
    "kind not a table": ("forms/project.toml", SHEET.replace('indicators = { key = "." }', 'indicators = "project"'), True),
    "formula syntax": ("forms/project.toml", SHEET.replace("=SUM({.funds.current.full})", "=SUM({.funds.current.full}"),
                       True),
    "unknown function": ("forms/project.toml", SHEET.replace("=SUM({.funds.current.full})", "=SUMM({.funds.current.full})"),
                         True),
    "derived cell without formula": ("forms/project.toml", SHEET.replace('".funds.total.full" = "=SUM({.funds.current.full})"\n',
                                                                         ""), True),
    "key drawn twice": ("forms/project.toml", SHEET.replace("$.funds.current.executed:money", "$.funds.current.full:money"),
                        True),
    "merge left first": ("forms/project.toml", SHEET.replace("^ | 财政拨款", "< | 财政拨款"), True),
    "bad check code": ("forms/project.toml", SHEET.replace("[[block]]\nindicators",
                                                           '[block.checks]\n".funds.total.full" = { code = "SUM1", '
                                                           'message = "m" }\n\n[[block]]\nindicators'), True),
    "bad indicator column": ("forms/project.toml", SHEET.replace('indicators = { key = "." }',
                                                                'indicators = { key = ".", columns = ["name", "weight", '
                                                                '"score", "points"] }'), True),
    "totals without indicators": ("forms/project.toml", SHEET.replace('indicators = { key = "." }', "sections = {}"),
                                  True),
    "exec without budget": ("forms/project.toml", SHEET.replace(', budget = ".funds.total.full" }', " }"), True),
    "bad row height": ("forms/project.toml", SHEET.replace("| @30", "| @500"), True),
    "bad widths": ("forms/project.toml", SHEET.replace("widths = [10,", 'widths = ["10",'), True),
}

def _written(text: str) -> set[str]:
    """The ASCII words the coordinator wrote in the broken file (keys, values): a message may quote them."""
    return set(_WORD.findall(text))


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_loading_messages_are_chinese_and_say_where(name):
    file, text, has_line = BROKEN[name]
    original = MINIMAL_REGION[file]
    assert text != original, "the change did not apply"
    with pytest.raises(ProfileError) as e:
        profile_from_sources({**MINIMAL_REGION, file: text}, "我的地区")
    msg = str(e.value)
    assert "我的地区" in msg and file.split("/")[-1] in msg, msg
    if has_line:
        assert re.search(r"第 \d+ 行", msg), msg
    left = set(_WORD.findall(msg.replace(file, ""))) - _written(text) - ALLOWED
    assert not left, f"English in a message to the coordinator: {sorted(left)}\n{msg}"
    assert not re.search(r"Error|Exception|Traceback|\bat line\b", msg), msg


def test_a_toml_reason_never_seen_is_still_said_in_chinese():
    from selfeval_xl.core.region import _toml_reason

    assert _toml_reason("Something new went wrong (at line 3, column 4)") == "格式有误（第 3 行第 4 列）"
    assert _toml_reason("Cannot declare ('report', 'words') twice (at line 9, column 1)") == \
        "表 [report.words] 写了两次（第 9 行第 1 列）"
    assert _toml_reason("Unclosed array (at end of document)") == "数组缺少右方括号 ]（在文件末尾）"


def test_a_pydantic_error_without_chinese_words_is_not_shown_in_english():
    from selfeval_xl.core.region import _message

    assert _message({"type": "some_new_type", "msg": "Input should be something", "loc": ("x",)}) == "取值无效"
    assert _message({"type": "string_pattern_mismatch", "msg": "String should match pattern",
                     "ctx": {"pattern": "^(center|left|title)$"}, "loc": ("x",)}) == "应为 center、left、title 之一"
