"""Region folders on disk, and the regions workbooks carry: text in, ``Profile`` out.

A region is a folder — ``region.toml`` (rules, ``core.region``) and the form files it names
(``forms.definition``). This module reads the folder (or the copy a workbook's metadata
carries), parses each form, and validates the whole as one ``Profile``. A workbook given as
``--profile 某单位.xlsx`` is opened by ``xlsx.read.profile_from_workbook``, one layer up.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from ..core.region import (
    REGION_FILE, Limits, Profile, ProfileError, TomlError, is_region_name, parse_profile, parse_toml, sources_digest,
)
from .definition import FormError, parse_sheet
from .formula import FormulaError
from .keys import NARRATIVE, Key, KeyFormatError, rule_of_hint

REGION_DIR = Path(__file__).resolve().parent.parent / "regions"

def _safe_member(folder: Path, rel: str, display: str) -> Path:
    """A file named in region.toml, which must stay inside the region's folder."""
    p = (folder / rel).resolve()
    if folder.resolve() not in p.parents:
        raise ProfileError(f"地区配置 {display}：forms.sheets 中的“{rel}”不在地区文件夹内")
    return p


def profile_from_sources(sources: dict[str, str], display: str) -> Profile:
    """A region from its files' text (``region.toml`` and the forms it names) — from a folder,
    or from the copy a workbook carries.

    The one guarded loader: every path that compiles a region (generate, fill, check,
    report, extract, annotate, the workspace) comes through here, and the copy a workbook
    carries is hostile input (the unit can edit it and recompute its digest). So the files
    are bounded before they are parsed, the region is compiled and evaluated once on a blank
    unit before it is used, and whatever goes wrong is a ``ProfileError`` naming the file —
    never a traceback (``core.region.Limits`` says why each bound).
    """
    _check_sizes(sources, display)
    if REGION_FILE not in sources:
        raise ProfileError(f"地区配置 {display} 中没有 {REGION_FILE}")
    try:
        return _compile_sources(sources, display)
    except ProfileError:
        raise
    except (FormError, FormulaError) as e:
        raise ProfileError(str(e)) from None
    except RecursionError:
        raise ProfileError(f"地区配置 {display} 嵌套过深，无法使用") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError) as e:
        # a shape no check above foresaw: still the region's fault, said as such
        # (Python's words, and the exception's name, are not the coordinator's: a developer reruns it)
        raise ProfileError(f"地区配置 {display} 无法使用：其中有程序未预料的写法，请对照地区配置参考检查最近的改动") from None


def _check_sizes(sources: dict[str, str], display: str) -> None:
    """How many files and how much text, before anything is parsed."""
    if len(sources) > Limits.REGION_FILES:
        raise ProfileError(f"地区配置 {display} 有 {len(sources)} 个文件，超过上限 {Limits.REGION_FILES} 个")
    total = 0
    for name, text in sources.items():
        if not isinstance(name, str) or not isinstance(text, str) or len(name) > 200:
            raise ProfileError(f"地区配置 {display} 中有无效的文件名或内容")
        total += len(text)
    if total > Limits.SOURCE_CHARS:
        raise ProfileError(f"地区配置 {display} 的文件共 {total} 个字符，超过上限 {Limits.SOURCE_CHARS} 个")


def _compile_sources(sources: dict[str, str], display: str) -> Profile:
    try:
        data = parse_toml(sources[REGION_FILE])
    except TomlError as e:
        raise ProfileError(f"地区配置 {display}/{REGION_FILE}：{e}") from None
    forms = data.get("forms")
    if not isinstance(forms, dict) or not isinstance(forms.get("sheets"), list) or not forms["sheets"]:
        raise ProfileError(f"地区配置 {display}/{REGION_FILE} 无效：\n  键 forms.sheets：应列出各表的定义文件")
    if len(forms["sheets"]) > Limits.SHEETS:
        raise ProfileError(f"地区配置 {display}/{REGION_FILE}：forms.sheets 列出 {len(forms['sheets'])} 张表，"
                           f"超过上限 {Limits.SHEETS} 张")
    sheets = []
    for rel in forms["sheets"]:
        if not isinstance(rel, str) or rel not in sources:
            raise ProfileError(f"地区配置 {display}/{REGION_FILE}：forms.sheets 中的“{str(rel)[:80]}”找不到")
        sheets.append(parse_sheet(sources[rel], f"{display}/{rel}"))
    data = dict(data, forms=dict(forms, sheets=tuple(sheets)),
                sources=tuple(sorted(sources.items())))
    profile = parse_profile(data, f"{display}/{REGION_FILE}", sources[REGION_FILE].removeprefix("\ufeff"))
    _trial(profile, display)
    _check_narrative_terms(profile, display)
    return profile


def _trial(profile: Profile, display: str) -> None:
    """Compile the region's sheets (one project of each repeated sheet) and evaluate every
    formula on a blank unit, so a region that cannot be drawn or computed is refused here,
    naming the sheet, and not in the middle of a batch."""
    from .cells import Shape
    from .layout import compile_layout
    from .recompute import blank_errors, sheet_program

    _rules_keys(profile, display)
    _rules_parse(profile, display)
    cats = (profile.projects.default_category,)
    layout = compile_layout(profile, Shape(year=2000, unit_code="", unit_name="", project_categories=cats))
    for sh in layout.sheets:
        try:
            sheet_program(sh)
        except FormulaError as e:
            raise ProfileError(f"地区配置 {display} 的工作表“{sh.name}”：{_cycle_at(profile, e)}{e}") from None
    _rules_drawn(profile, layout, display)
    try:
        errors = blank_errors(layout)
    except FormulaError as e:  # a cycle through cells of several sheets
        raise ProfileError(f"地区配置 {display}：{_cycle_at(profile, e)}{e}") from None
    if errors:
        sheet, key, code = errors[0]
        raise ProfileError(f"地区配置 {display} 的工作表“{sheet}”：计算格 {key} 在空白表上得出 {code}"
                           f"（公式无法计算：数字超出范围、除以零或文字过长）" + (f"，另有 {len(errors) - 1} 处" if len(errors) > 1 else ""))


def _cycle_at(profile: Profile, e: FormulaError) -> str:
    """"forms/basic.toml 第 12 行（键 basic.x）：" for the first key of a formula cycle."""
    cycle = getattr(e, "cycle", ())
    for key in cycle:
        where = where_written(profile, key)
        if where:
            return f"{where}（键 {key}）："
    return ""


def _rule_line(profile: Profile, n: int, needle: str) -> int:
    """The line of region.toml, inside its n-th ``[[checks]]``, that holds ``needle`` (else the
    table's header line, else 0)."""
    text = dict(profile.sources).get(REGION_FILE, "").removeprefix("\ufeff").splitlines()
    headers = [i + 1 for i, ln in enumerate(text) if ln.strip().replace(" ", "") == "[[checks]]"]
    if n >= len(headers):
        return 0
    head = headers[n]
    for i in range(head, len(text)):
        if text[i].lstrip().startswith("["):
            break
        if needle in text[i]:
            return i + 1
    return head


# the fields of a ``[[checks]]`` rule that name keys, and the one that may total every project
_RULE_KEY_FIELDS = ("equal", "compare", "sum", "equals", "range", "require", "if_filled", "at")
_EVERY_PROJECT_FIELD = "sum"


def _rules_keys(profile: Profile, display: str) -> None:
    """Every key a ``[[checks]]`` rule names, parsed once into a ``Key`` here, before anything
    is compiled: a malformed one, or ``projects[*].key`` outside a sum, is refused with its
    line and key (the rules are validated as data by ``core.region``, which reads no key)."""
    for n, rule in enumerate(profile.checks):
        for field in _RULE_KEY_FIELDS:
            value = getattr(rule, field)
            if value is None or value == "":
                continue
            for k in (value if isinstance(value, tuple) else (value,)):
                if not isinstance(k, str):
                    continue  # compare's number
                try:
                    key = Key(k)
                except KeyFormatError as e:
                    raise _rule_error(profile, display, n, field, k, str(e)) from None
                if key.every and field != _EVERY_PROJECT_FIELD:
                    raise _rule_error(profile, display, n, field, k,
                                      f"{field} 中的“{k}”：projects[*] 只能写在 sum 中（各项目之和）")


def _rule_error(profile: Profile, display: str, n: int, field: str, key: str, why: str) -> ProfileError:
    line = _rule_line(profile, n, key) or _rule_line(profile, n, f"{field} ")
    return ProfileError(f"地区配置 {display}/{REGION_FILE}{f' 第 {line} 行' if line else ''}"
                        f"（键 checks.{n}.{field}）：{why}")


def _rules_parse(profile: Profile, display: str) -> None:
    """A rule's ``when`` is an Excel condition: one that does not parse is named by its line."""
    from .definition import _plain_refs
    from .formula import Program
    for n, rule in enumerate(profile.checks):
        if rule.when:
            try:
                Program({"x": _plain_refs("=" + rule.when)})
            except FormulaError as e:
                line = _rule_line(profile, n, "when")
                raise ProfileError(f"地区配置 {display}/{REGION_FILE}{f' 第 {line} 行' if line else ''}"
                                   f"（键 checks.{n}.when）：{e}") from None


def _rules_drawn(profile: Profile, layout, display: str) -> None:
    """Every ``[[checks]]`` rule names cells the forms draw, and its warning found its ``at``
    cell: a rule over a key no sheet has would compare with nothing, silently."""
    if not profile.checks:
        return
    text = dict(profile.sources).get(REGION_FILE, "").removeprefix("\ufeff").splitlines()
    headers = [i + 1 for i, ln in enumerate(text) if ln.strip().replace(" ", "") == "[[checks]]"]
    drawn = {rule_of_hint(c.key) for sh in layout.sheets for c in sh.cells
             if c.kind == "hint" and c.check is not None}
    has_project = bool(layout.shape.project_categories) and any(s.repeat == "projects" for s in profile.forms.sheets)
    for n, rule in enumerate(profile.checks):
        head = headers[n] if n < len(headers) else 0
        for k in (*rule.keys, rule.at_key):
            probe = Key(k).probe  # ``.key`` and ``projects[*].key``: the first project's cell
            if probe in layout.where or (not has_project and probe.project is not None):
                continue
            line = next((i + 1 for i in range(head, len(text)) if k in text[i]
                         and not text[i].strip().startswith("[")), head) if head else 0
            where = f"{REGION_FILE} 第 {line} 行" if line else REGION_FILE
            raise ProfileError(f"地区配置 {display}/{where}（键 {k}）：[[checks]] {rule.code} 要比较的"
                               f"“{k}”不是本地区表格中的单元格")
        if n + 1 not in drawn and not (Key(rule.at_key).relative and not has_project):
            raise ProfileError(f"地区配置 {display}/{REGION_FILE}{f' 第 {head} 行' if head else ''}（键 checks）："
                               f"[[checks]] {rule.code} 的提示格无处可放（at 不是本地区表格中的单元格）")


def _check_narrative_terms(profile: Profile, display: str) -> None:
    """A region's ``[[narrative.terms]]`` must name figures its forms hold: a key that names no
    cell would make the term compare quoted figures with nothing, silently."""
    if not profile.narrative.terms:
        return
    from .cells import Shape
    from .layout import compile_layout
    known = set(compile_layout(profile, Shape(year=2000, unit_code="", unit_name="", project_categories=())).where)
    for t in profile.narrative.terms:
        for k in filter(None, (t.key, t.budget_key)):
            try:
                key = Key(k)
            except KeyFormatError as e:
                raise ProfileError(f"地区配置 {display}/{REGION_FILE}{_term_line(profile, k)}：narrative.terms 中"
                                   f"“{t.concept}”的 key：{e}") from None
            if key not in known and key.root != NARRATIVE:
                raise ProfileError(f"地区配置 {display}/{REGION_FILE}{_term_line(profile, k)}：narrative.terms 中"
                                   f"“{t.concept}”的 key “{k}”不是本地区表格中的单元格")


def _term_line(profile: Profile, key: str) -> str:
    """" 第 12 行（键 …）" — where region.toml writes a narrative term's key ("" when no line does)."""
    text = dict(profile.sources).get(REGION_FILE, "").removeprefix("\ufeff").splitlines()
    n = next((i + 1 for i, ln in enumerate(text) if f'"{key}"' in ln or f"'{key}'" in ln), 0)
    return f" 第 {n} 行（键 {key}）" if n else f"（键 {key}）"


# -- where a key is written ------------------------------------------------------------------

def _relative(key: str) -> list[str]:
    """The ways a region's files may write ``key``: as is, and relative to its project
    (``projects[0].funds.total.full`` is ``.funds.total.full`` in a repeated sheet)."""
    k = Key(key)
    return [key, "." + k.rest] if k.project is not None and k.rest else [key]


def where_written(profile: Profile, key: str) -> str:
    """"forms/project.toml 第 27 行" — the first line of the region's files that writes ``key``
    (forms first, then region.toml); "" when no line does (a key the rules generate)."""
    wanted = _relative(key)
    files = sorted(profile.sources, key=lambda fs: fs[0] == REGION_FILE)
    for name, text in files:
        for n, line in enumerate(text.splitlines(), 1):
            code = line.split("#", 1)[0] if not line.lstrip().startswith(("'", '"')) else line
            for w in wanted:
                if re.search(r"(?<![\w.\]])" + re.escape(w) + r"(?![\w\[])", code):
                    return f"{name} 第 {n} 行"
    return ""



_EMBEDDED: dict[str, Profile] = {}








def embedded_profile(sources: dict[str, str], display: str) -> Profile:
    """The region a workbook carries, compiled once per digest (a batch of one region's
    workbooks parses it once per process)."""
    digest = sources_digest(sources)
    prof = _EMBEDDED.get(digest)
    if prof is None:
        if len(_EMBEDDED) >= 16:
            _EMBEDDED.pop(next(iter(_EMBEDDED)))
        prof = _EMBEDDED[digest] = profile_from_sources(sources, display)
    return prof


def installed_profile(region_id: str) -> Profile | None:
    """The shipped region of this id, if this installation has one that loads. The id comes
    from a workbook (data a unit can edit): a name, never resolved as a path."""
    try:
        return shipped_profile(region_id) if is_region_name(region_id) and (REGION_DIR / region_id / REGION_FILE).is_file() else None
    except ProfileError:
        return None


def shipped_profile(region_id: str) -> Profile:
    """The shipped region of this id — for an id read from a workbook's metadata or a data
    file: a NAME (``core.region.is_region_name``), never a path, so metadata saying
    ``../../其他单位/region`` cannot make the checker load another folder."""
    if not is_region_name(region_id):
        raise ProfileError(f"地区名“{str(region_id)[:80]}”无效：只能由字母、数字、-、_、. 组成，不能是路径")
    if not (REGION_DIR / region_id / REGION_FILE).is_file():
        raise ProfileError(f"没有名为 {region_id} 的地区配置；可用：{'、'.join(available_profiles())}")
    return _shipped(region_id)


@lru_cache(maxsize=32)
def _shipped(region_id: str) -> Profile:
    return load_region(REGION_DIR / region_id)


def read_region_sources(folder: Path) -> dict[str, str]:
    """The text of ``region.toml`` and of every form file it names."""
    display = folder.name
    main = folder / REGION_FILE
    try:
        size = main.stat().st_size
        if size > Limits.SOURCE_CHARS * 4:  # UTF-8 is at most 4 bytes a character
            raise ProfileError(f"地区配置 {main} 过大（{size} 字节）")
        # a BOM (Windows Notepad writes one) is not part of the text
        text = main.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ProfileError(f"找不到地区配置 {main}（一个地区是一个文件夹，内有 {REGION_FILE}）") from None
    except UnicodeDecodeError:
        raise ProfileError(f"地区配置 {main} 不是 UTF-8 文字") from None
    sources = {REGION_FILE: text}
    try:
        names = parse_toml(text).get("forms", {}).get("sheets", [])
    except (TomlError, AttributeError):
        names = []  # profile_from_sources says what is wrong
    names = names[:Limits.SHEETS + 1] if isinstance(names, list) else []  # more: profile_from_sources refuses
    for rel in names:
        if isinstance(rel, str):
            p = _safe_member(folder, rel, display)
            try:
                if p.stat().st_size > Limits.SOURCE_CHARS * 4:
                    raise ProfileError(f"表格定义 {display}/{rel} 过大（{p.stat().st_size} 字节）")
                sources[rel] = p.read_text(encoding="utf-8-sig")
            except FileNotFoundError:
                raise ProfileError(f"地区配置 {display}/{REGION_FILE}：forms.sheets 中的“{rel}”找不到") from None
            except UnicodeDecodeError:
                raise ProfileError(f"表格定义 {display}/{rel} 不是 UTF-8 文字") from None
    return sources


def load_region(folder: str | Path) -> Profile:
    folder = Path(folder)
    if folder.name == REGION_FILE:
        folder = folder.parent
    return profile_from_sources(read_region_sources(folder), folder.name)


def available_profiles() -> list[str]:
    return sorted(p.name for p in REGION_DIR.iterdir() if (p / REGION_FILE).exists())


@lru_cache(maxsize=32)
def get_profile(name_or_path: str) -> Profile:
    """A shipped region by id, or a region folder (or its region.toml) by path. (The CLI also
    takes a workbook, whose carried region ``xlsx.read.profile_from_workbook`` opens.)"""
    if is_region_name(name_or_path) and (REGION_DIR / name_or_path / REGION_FILE).is_file():
        return _shipped(name_or_path)
    p = Path(name_or_path)
    if p.is_dir() or p.name == REGION_FILE:
        return load_region(p)
    raise ProfileError(
        f"没有名为 {name_or_path} 的地区配置；可用：{'、'.join(available_profiles())}，或给出地区文件夹的路径"
    )


DEFAULT_PROFILE = "yueyang-2023"
