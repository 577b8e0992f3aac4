"""Region folders on disk, and the regions workbooks carry: text in, ``Profile`` out.

A region is a folder — ``region.toml`` (rules, ``core.region``) and the form files it names
(``forms.definition``). This module reads the folder (or the copy a workbook's metadata
carries), parses each form, and validates the whole as one ``Profile``. A workbook given as
``--profile 某单位.xlsx`` is opened by ``xlsx.read.profile_from_workbook``, one layer up.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from ..core.region import REGION_FILE, Profile, ProfileError, parse_profile, sources_digest
from .definition import FormError, parse_sheet

REGION_DIR = Path(__file__).resolve().parent.parent / "regions"

def _safe_member(folder: Path, rel: str, display: str) -> Path:
    """A file named in region.toml, which must stay inside the region's folder."""
    p = (folder / rel).resolve()
    if folder.resolve() not in p.parents:
        raise ProfileError(f"地区配置 {display}：forms.sheets 中的“{rel}”不在地区文件夹内")
    return p


def profile_from_sources(sources: dict[str, str], display: str) -> Profile:
    """A region from its files' text (``region.toml`` and the forms it names) — from a folder,
    or from the copy a workbook carries."""
    if REGION_FILE not in sources:
        raise ProfileError(f"地区配置 {display} 中没有 {REGION_FILE}")
    try:
        data = tomllib.loads(sources[REGION_FILE])
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"地区配置 {display}/{REGION_FILE} 不是有效的 TOML：{e}") from None
    forms = data.get("forms")
    if not isinstance(forms, dict) or not isinstance(forms.get("sheets"), list) or not forms["sheets"]:
        raise ProfileError(f"地区配置 {display}/{REGION_FILE} 无效：\n  键 forms.sheets：应列出各表的定义文件")
    sheets = []
    for rel in forms["sheets"]:
        if not isinstance(rel, str) or rel not in sources:
            raise ProfileError(f"地区配置 {display}/{REGION_FILE}：forms.sheets 中的“{rel}”找不到")
        try:
            sheets.append(parse_sheet(sources[rel], f"{display}/{rel}"))
        except FormError as e:
            raise ProfileError(str(e)) from None
    data = dict(data, forms=dict(forms, sheets=tuple(sheets)),
                sources=tuple(sorted(sources.items())))
    profile = parse_profile(data, f"{display}/{REGION_FILE}", sources[REGION_FILE])
    _check_narrative_terms(profile, display)
    return profile


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
            if k not in known and not k.startswith("narrative."):
                raise ProfileError(f"地区配置 {display}/{REGION_FILE}：narrative.terms 中“{t.concept}”的 key “{k}”"
                                   f"不是本地区表格中的单元格")


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
    """The shipped region of this id, if this installation has one that loads."""
    try:
        return get_profile(region_id) if (REGION_DIR / region_id / REGION_FILE).exists() else None
    except ProfileError:
        return None


def read_region_sources(folder: Path) -> dict[str, str]:
    """The text of ``region.toml`` and of every form file it names."""
    display = folder.name
    main = folder / REGION_FILE
    try:
        text = main.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(f"找不到地区配置 {main}（一个地区是一个文件夹，内有 {REGION_FILE}）") from None
    except UnicodeDecodeError:
        raise ProfileError(f"地区配置 {main} 不是 UTF-8 文字") from None
    sources = {REGION_FILE: text}
    try:
        names = tomllib.loads(text).get("forms", {}).get("sheets", [])
    except (tomllib.TOMLDecodeError, AttributeError):
        names = []  # profile_from_sources says what is wrong
    for rel in names if isinstance(names, list) else []:
        if isinstance(rel, str):
            p = _safe_member(folder, rel, display)
            try:
                sources[rel] = p.read_text(encoding="utf-8")
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
    shipped = REGION_DIR / name_or_path
    if "/" not in name_or_path and "\\" not in name_or_path and (shipped / REGION_FILE).exists():
        return load_region(shipped)
    p = Path(name_or_path)
    if p.is_dir() or p.name == REGION_FILE:
        return load_region(p)
    raise ProfileError(
        f"没有名为 {name_or_path} 的地区配置；可用：{'、'.join(available_profiles())}，或给出地区文件夹的路径"
    )


DEFAULT_PROFILE = "yueyang-2023"
