"""A region's generated sentences: templates over named figures (region.toml ``[report.words]``).

Every province words its report differently, so the sentences the report writes from the tables
are data, not code: each is a template with ``{key}`` placeholders and ``[ … ]`` optional parts.

* ``{key}`` is replaced by the figure (already formatted: 万元 to two decimals, rates as %);
* ``[ … ]`` is left out when a figure in it is missing (parts nest);
* a figure missing outside any ``[ … ]`` leaves out the whole sentence, and so does a sentence
  whose figures are all missing (its words alone say nothing) — so a sentence is never printed
  around a missing figure ("全年预算数万元，全年执行数931.48万元，预算执行率。" cannot happen);
* a "，" / "；" / "、" left dangling before "。" or at the end is dropped.

Values are put in after the template is parsed: a project named "[a]{b}" prints as typed.
``WORDS`` holds each sentence's default (Hunan's wording, as the shipped regions also declare
it), the keys it may use and what it is for (README and the errors name them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

# keys that are words, not figures: a sentence with only these left says nothing
WORD_KEYS = frozenset({"year", "unit_name", "evaluation", "name", "n"})

_COMMON = ("year", "unit_name")


@dataclass(frozen=True)
class Word:
    default: str
    keys: tuple[str, ...]
    what: str


WORDS: dict[str, Word] = {
    "basic_heading": Word("（{n}）基本支出情况", ("n",), "第二部分“基本支出”小标题（{n} 为 一、二…）"),
    "basic": Word("{year}年度基本支出{basic}万元[，占总支出的{basic_share}][。其中人员经费{personnel}万元"
                  "[，占基本支出的{personnel_share}]；公用经费{public}万元[，占基本支出的{public_share}]]。",
                  ("basic", "basic_share", "personnel", "personnel_share", "public", "public_share"),
                  "基本支出一句"),
    "basic_missing": Word("未填报基本支出数据。", (), "地区表格有基本支出而单位未填时的一句"),
    "project_heading": Word("（{n}）项目支出情况", ("n",), "“项目支出”小标题"),
    "project": Word("{year}年度项目支出{project}万元[，占总支出的{project_share}][。其中：{project_lines}]。",
                    ("project", "project_share", "project_lines"), "项目支出一句（有项目支出合计时）"),
    "project_by_line": Word("{year}年度项目支出：{project_lines}。", ("project_lines",),
                            "项目支出一句（没有项目支出合计、只有各项目时）"),
    "project_line": Word("{name}{amount}万元[，占项目支出的{share}]", ("name", "amount", "share"),
                         "{project_lines} 中的每个项目（以“；”连接）"),
    "other_heading": Word("（{n}）其他说明", ("n",), "单位在第二部分写的说明前的小标题"),
    "appended_heading": Word("（附）按附件数据核算的支出情况", (), "单位写的数字与表格不符时，其后按表格生成的段落的小标题"),
    "budget": Word("{year}年度{evaluation}[全年预算数{budget_full}万元，][全年执行数{executed}万元，][预算执行率{rate}]",
                   ("evaluation", "budget_full", "executed", "rate"), "绩效情况一节开头：预算执行"),
    "total_score": Word("{evaluation}绩效自评总分{score}分[，评价等次为“{grade}”][，其中{score_parts}]",
                        ("evaluation", "score", "grade", "score_parts"), "总分和等次"),
    "execution_score": Word("预算执行率得分{execution_score}分", ("execution_score",),
                            "{score_parts} 的第一项：预算执行率得分"),
    "level1_score": Word("{name}得分{score}分[（满分{weight}分）]", ("name", "score", "weight"),
                         "{score_parts} 中每个一级指标（以“，”连接）"),
    "project_scores": Word("项目支出绩效自评得分：{project_scores}", ("project_scores",), "各项目得分一句"),
    "project_score": Word("{name}{score}分", ("name", "score"), "{project_scores} 中的每个项目（以“，”连接）"),
    "project_result": Word("{year}年度{name}[全年预算数{budget_full}万元，][全年执行数{executed}万元，]"
                           "[预算执行率{rate}，][绩效自评得分{score}分[，评价等次为“{grade}”][，其中{score_parts}]]",
                           ("name", "budget_full", "executed", "rate", "score", "grade", "score_parts"),
                           "没有部门整体表的地区：每个项目的预算执行和得分（{score_parts} 同总分一句）"),
}


class WordsError(ValueError):
    """A template that cannot be used; the message (Chinese) names the word and what is wrong."""


_TOKEN = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}|\[|\]|\{|\}")


def parse(template: str) -> list:
    """Template → nested list of str / ("key", name) / ("opt", [...]); raises WordsError."""
    stack: list[list] = [[]]
    pos = 0
    for m in _TOKEN.finditer(template):
        if m.start() > pos:
            stack[-1].append(template[pos:m.start()])
        pos = m.end()
        tok = m.group()
        if m.group(1):
            stack[-1].append(("key", m.group(1)))
        elif tok == "[":
            stack.append([])
        elif tok == "]":
            if len(stack) == 1:
                raise WordsError("“]” 没有对应的 “[”")
            part = stack.pop()
            stack[-1].append(("opt", part))
        else:
            raise WordsError(f"“{tok}” 不成对：占位符写作 {{键}}，键只能用字母、数字和下划线")
    if len(stack) > 1:
        raise WordsError("“[” 没有对应的 “]”")
    if pos < len(template):
        stack[-1].append(template[pos:])
    return stack[0]


def keys_of(template: str) -> set[str]:
    out: set[str] = set()

    def walk(items):
        for it in items:
            if isinstance(it, tuple):
                if it[0] == "key":
                    out.add(it[1])
                else:
                    walk(it[1])
    walk(parse(template))
    return out


def validate(name: str, template: str) -> None:
    """A region's template for ``name``: known word, balanced, only its keys (WordsError)."""
    word = WORDS.get(name)
    if word is None:
        raise WordsError(f"未知的句子名 {name}（可用：{'、'.join(WORDS)}）")
    unknown = keys_of(template) - set(word.keys) - set(_COMMON)
    if unknown:
        raise WordsError(f"{name} 中的占位符 {'、'.join('{' + k + '}' for k in sorted(unknown))} 不可用"
                         f"（可用：{'、'.join('{' + k + '}' for k in (*_COMMON, *word.keys))}）")


_DANGLING = re.compile(r"[，；、,]+(?=[。；]|$)")


def render(template: str, values: Mapping[str, Any]) -> str | None:
    """The sentence, or None when it is not to be printed (see the module's rules)."""
    kept_figures = [0]
    had_figures = [False]

    def fill(items) -> str | None:
        out = []
        for it in items:
            if isinstance(it, str):
                out.append(it)
            elif it[0] == "key":
                v = values.get(it[1])
                if it[1] not in WORD_KEYS:
                    had_figures[0] = True
                if v is None or v == "":
                    return None
                if it[1] not in WORD_KEYS:
                    kept_figures[0] += 1
                out.append(str(v))
            else:
                saved = kept_figures[0]
                part = fill(it[1])
                if part is None:
                    kept_figures[0] = saved
                else:
                    out.append(part)
        return "".join(out)

    text = fill(parse(template))
    if text is None or (had_figures[0] and not kept_figures[0]):
        return None
    return _DANGLING.sub("", text)


def sentence(words: Mapping[str, str], name: str, values: Mapping[str, Any]) -> str | None:
    """The region's sentence ``name`` (its own template, else the default) over ``values``."""
    return render(words.get(name) or WORDS[name].default, values)


CHINESE_NUMBERS = "一二三四五六七八九十"


# -- the README's list of sentences (region authors read it; tests/test_region_words.py holds it equal)

START, END = "<!-- words:start -->", "<!-- words:end -->"


def readme_table() -> str:
    """Every sentence a region may word, with the figures it may name and its default."""
    lines = ["| 句子名 | 用途 | 可用的占位符 | 默认写法 |", "|---|---|---|---|"]
    for name, w in WORDS.items():
        keys = "、".join(f"`{{{k}}}`" for k in (*_COMMON, *w.keys))
        lines.append(f"| `{name}` | {w.what} | {keys} | {w.default.replace('|', '｜')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m selfeval_xl.core.words --readme [README.md]`` rewrites the table between the
    markers (as ``core.codes`` does for the codes); ``--table`` prints it."""
    import sys
    from pathlib import Path

    from .codes import README

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("--readme", "--table"):
        print("用法：python -m selfeval_xl.core.words --readme [README.md]   （重写 README 中的句子表）\n"
              "      python -m selfeval_xl.core.words --table                （打印句子表）", file=sys.stderr)
        return 2
    if args[0] == "--table":
        sys.stdout.write(readme_table())
        return 0
    target = Path(args[1]) if len(args) > 1 else README
    text = target.read_text(encoding="utf-8")
    i, j = text.find(START), text.find(END)
    if i < 0 or j < i:
        print(f"错误：{target} 中没有 {START} … {END} 标记", file=sys.stderr)
        return 1
    new = text[:i + len(START)] + "\n\n" + readme_table() + "\n" + text[j:]
    if new != text:
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(new, encoding="utf-8")
        tmp.replace(target)
    print(f"{target}：{'已更新' if new != text else '无需更新'}（{len(WORDS)} 个句子）")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
