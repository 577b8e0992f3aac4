"""Region profiles: weights, indicator slots, grades, rounding and the report outline.

A profile is TOML data shipped in ``selfeval_xl/profiles/`` (or any path a coordinator passes).
Both the Excel formulas (``layout``) and the Python recompute (``scoring``) read the same
``Profile`` object, so a region's rules live in exactly one file.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PROFILE_DIR = Path(__file__).parent / "profiles"


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProfileInfo(_Strict):
    id: str
    name: str
    region: str = ""
    dept_name_label: str = "市级预算部门名称"


class Scoring(_Strict):
    execution_weight: float = Field(ge=0)
    execution_scored: bool
    execution_rate_percent_decimals: int = Field(ge=-1, le=4)
    score_decimals: int = Field(default=2, ge=0, le=4)
    total: float = Field(default=100, gt=0)
    money_tolerance: float = Field(default=0.01, ge=0)
    score_tolerance: float = Field(default=0.01, ge=0)
    show_grade_row: bool = False


class Grade(_Strict):
    name: str
    min: float


class Level2(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    rows: int = Field(ge=1, le=30)


class Level1(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    weight: float = Field(ge=0)
    level2: tuple[Level2, ...] = Field(min_length=1)

    @property
    def label(self) -> str:
        """The 一级 cell text of the official form, e.g. 产出指标（50分）."""
        return f"{self.name}（{_fmt_num(self.weight)}分）"


class ProjectRules(_Strict):
    categories: tuple[str, ...] = Field(min_length=1)
    category_labels: tuple[str, ...]
    default_category: str
    free_rows_per_category: int = Field(default=2, ge=0, le=20)
    spare_sheets: int = Field(default=2, ge=0, le=20)

    @model_validator(mode="after")
    def _consistent(self) -> "ProjectRules":
        if len(self.category_labels) != len(self.categories):
            raise ValueError("projects.category_labels 的个数必须与 projects.categories 相同")
        if self.default_category not in self.categories:
            raise ValueError("projects.default_category 必须是 projects.categories 之一")
        return self


class Forms(_Strict):
    basic_data_note: str = ""
    project_note: str = ""


class Section(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    hint: str = ""
    generated: bool = False  # written from the data (section 二)
    figures: bool = False  # opens with the generated figures (section 六)


class Report(_Strict):
    sections: tuple[Section, ...] = Field(min_length=1)


class Profile(_Strict):
    profile: ProfileInfo
    scoring: Scoring
    grades: tuple[Grade, ...] = Field(min_length=1)
    level1: tuple[Level1, ...] = Field(min_length=1)
    projects: ProjectRules
    forms: Forms = Forms()
    report: Report

    @model_validator(mode="after")
    def _weights_add_up(self) -> "Profile":
        s = self.scoring
        total = sum(l1.weight for l1 in self.level1) + (s.execution_weight if s.execution_scored else 0)
        if abs(total - s.total) > 1e-9:
            raise ValueError(
                f"level1.weight 之和{'加 scoring.execution_weight ' if s.execution_scored else ''}"
                f"为 {_fmt_num(total)}，应等于 scoring.total = {_fmt_num(s.total)}"
            )
        mins = [g.min for g in self.grades]
        if mins != sorted(mins, reverse=True) or mins[-1] != 0:
            raise ValueError("grades 必须按 min 从高到低排列，最后一档 min = 0")
        keys = [l2.key for l1 in self.level1 for l2 in l1.level2]
        if len(keys) != len(set(keys)):
            raise ValueError("level1.level2.key 有重复")
        skeys = [sec.key for sec in self.report.sections]
        if len(skeys) != len(set(skeys)):
            raise ValueError("report.sections.key 有重复")
        return self

    # -- conveniences used by layout, scoring and report ---------------------------------
    @property
    def id(self) -> str:
        return self.profile.id

    def level2_all(self) -> list[tuple[Level1, Level2]]:
        return [(l1, l2) for l1 in self.level1 for l2 in l1.level2]

    def level2_by_name(self, name: str) -> tuple[Level1, Level2] | None:
        want = normalize_label(name)
        for l1, l2 in self.level2_all():
            if normalize_label(l2.name) == want:
                return l1, l2
        return None

    def grade_for(self, score: float | None) -> str:
        if score is None:
            return ""
        for g in self.grades:
            if score >= g.min:
                return g.name
        return self.grades[-1].name


def normalize_label(text: str) -> str:
    """Labels as clerks and Word exports write them: drop white space and line breaks."""
    return "".join(str(text).split())


def _fmt_num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _loc(err: dict) -> str:
    return ".".join(str(p) for p in err["loc"]) or "(根)"


def parse_profile(data: dict, source: str) -> Profile:
    try:
        return Profile.model_validate(data)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"  键 {_loc(err)}：{msg}")
        raise ProfileError(f"配置文件 {source} 无效：\n" + "\n".join(lines)) from None


def load_profile_file(path: str | Path) -> Profile:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"找不到配置文件 {path}") from None
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"配置文件 {path} 不是有效的 TOML：{e}") from None
    return parse_profile(data, str(path))


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


@lru_cache(maxsize=32)
def get_profile(name_or_path: str) -> Profile:
    """A bundled profile by id, or a TOML file by path."""
    candidate = PROFILE_DIR / f"{name_or_path}.toml"
    if candidate.exists():
        prof = load_profile_file(candidate)
    elif name_or_path.endswith(".toml") or Path(name_or_path).exists():
        prof = load_profile_file(name_or_path)
    else:
        raise ProfileError(
            f"没有名为 {name_or_path} 的配置；可用：{'、'.join(available_profiles())}，或给出 .toml 文件路径"
        )
    return prof


DEFAULT_PROFILE = "yueyang-2023"
