"""Regions: a folder of data — its rules (``region.toml``) and its forms (``forms/*.toml``).

The rules say what is scored and how (weights, rounding, grades, tolerances), which
indicator slots each 二级 offers, the 附件1 project categories and the report outline; the
forms declare each sheet's grid (``forms.definition``). One ``Profile`` object carries both,
with the source text of every file, so a workbook can carry its region whole
(``Profile.sources``/``digest``) and be read where the region is not installed.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .numbers import fmt_num

REGION_FILE = "region.toml"


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
    execution_shown: bool | None = None  # 分值 printed beside the rate; defaults to execution_scored

    @model_validator(mode="after")
    def _shown(self) -> "Scoring":
        if self.execution_shown is None:
            object.__setattr__(self, "execution_shown", self.execution_scored)
        return self


class Grade(_Strict):
    name: str
    min: float


class Level2(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    rows: int = Field(ge=1, le=30)
    ceiling: bool = False  # a bare amount as target is a ceiling (成本指标 “150万元” means ≤ 150万元)


class Level1(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    weight: float = Field(ge=0)
    level2: tuple[Level2, ...] = Field(min_length=1)

    @property
    def label(self) -> str:
        """The 一级 cell text of the official form, e.g. 产出指标（50分）."""
        return f"{self.name}（{fmt_num(self.weight, 4)}分）"


class ProjectRules(_Strict):
    categories: tuple[str, ...] = Field(default=("项目支出",), min_length=1)
    category_labels: tuple[str, ...] = ("项目支出",)
    default_category: str = "项目支出"
    free_rows_per_category: int = Field(default=2, ge=0, le=20)
    spare_sheets: int = Field(default=2, ge=0, le=20)
    category_rows: bool = True  # a subtotal row per category in 附件1 (false: one flat list)

    @model_validator(mode="after")
    def _consistent(self) -> "ProjectRules":
        if len(self.category_labels) != len(self.categories):
            raise ValueError("projects.category_labels 的个数必须与 projects.categories 相同")
        if self.default_category not in self.categories:
            raise ValueError("projects.default_category 必须是 projects.categories 之一")
        return self


class Forms(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    # the sheets' declarations in workbook order (``forms.definition.SheetDef``, parsed by
    # ``forms.regions``: the core holds them but reads no form format)
    sheets: tuple[Any, ...] = Field(min_length=1)
    guide_order: str = ""  # 填表说明 “填写顺序”, where the region's order differs


class Check(_Strict):
    """A consistency rule a region's forms need and no formula enforces: two figures (by
    layout key, typed or derived) that must agree, e.g. 衡阳's 附件1 基本支出 and 附件2 基本支出."""

    code: str = Field(pattern=r"^[A-Z]+-\d{3}$")
    equal: tuple[str, str]
    message: str
    severity: str = Field(default="error", pattern=r"^(error|warning|info)$")


class Section(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    hint: str = ""
    generated: bool = False  # written from the data (section 二)
    figures: bool = False  # opens with the generated figures (section 六)


class CoverLine(_Strict):
    """One line of the report's cover: {unit_name}, {unit_code}, {year}, {report_date} are filled in;
    an empty text is a blank line."""

    text: str = ""
    style: str = Field(default="center", pattern=r"^(center|left|title)$")


# the cover of the 岳阳 package (seeds 000–002): unit and seal, date, “（此页为封面）”
DEFAULT_COVER = tuple(CoverLine(text=t) for t in [""] * 8 + ["部门（单位）名称：{unit_name}（盖章）", "", "{report_date}"]
                      + [""] * 6 + ["（此页为封面）"])


class Report(_Strict):
    sections: tuple[Section, ...] = Field(min_length=1)
    cover: tuple[CoverLine, ...] = DEFAULT_COVER
    # the body's title ("{year}年度{unit_name}" / "整体支出绩效自评报告"); 云溪's form has none (its cover says it)
    body_title: bool = True
    # a heading above the narrative sections, where the form puts them under one (云溪: "五、评价报告综述（参考提纲）")
    sections_heading: str = ""


class NarrativeTerm(_Strict):
    """A region's own name for a table figure in report prose (region.toml ``[[narrative.terms]]``):
    the narrative checks compare figures quoted under these words with the figure at ``key``."""
    concept: str = Field(min_length=1, max_length=40)
    words: tuple[str, ...] = Field(min_length=1, max_length=20)
    kind: str = Field(default="money", pattern=r"^(money|count|rate|score)$")
    key: str = Field(min_length=1, max_length=120)
    budget_key: str = ""

    @model_validator(mode="after")
    def _plain_words(self) -> "NarrativeTerm":
        for w in self.words:
            if not (1 <= len(w) <= 30) or any(ch.isdigit() or ch in "，。；;,\n" for ch in w):
                raise ValueError(f"narrative.terms 的 words 中“{w}”无效：应为 1–30 字的词语，不含数字和标点")
        return self


class NarrativeRules(_Strict):
    terms: tuple[NarrativeTerm, ...] = ()


class Profile(_Strict):
    profile: ProfileInfo
    scoring: Scoring
    grades: tuple[Grade, ...] = Field(min_length=1)
    level1: tuple[Level1, ...] = Field(min_length=1)
    overall_level1: tuple[Level1, ...] = ()  # 附件2's indicator structure, where it differs from 附件3's
    projects: ProjectRules = ProjectRules(spare_sheets=0)  # regions without 附件1/附件3 need none
    forms: Forms
    report: Report
    checks: tuple[Check, ...] = ()
    narrative: NarrativeRules = NarrativeRules()
    sources: tuple[tuple[str, str], ...] = ()  # (file, text) of every file of the region, for the workbook

    @model_validator(mode="after")
    def _weights_add_up(self) -> "Profile":
        s = self.scoring
        total = sum(l1.weight for l1 in self.level1) + (s.execution_weight if s.execution_scored else 0)
        if abs(total - s.total) > 1e-9:
            raise ValueError(
                f"level1.weight 之和{'加 scoring.execution_weight ' if s.execution_scored else ''}"
                f"为 {fmt_num(total, 4)}，应等于 scoring.total = {fmt_num(s.total, 4)}"
            )
        mins = [g.min for g in self.grades]
        if mins != sorted(mins, reverse=True) or mins[-1] != 0:
            raise ValueError("grades 必须按 min 从高到低排列，最后一档 min = 0")
        for name, levels in (("level1", self.level1), ("overall_level1", self.overall_level1)):
            keys = [l2.key for l1 in levels for l2 in l1.level2]
            if len(keys) != len(set(keys)):
                raise ValueError(f"{name}.level2.key 有重复")
            if levels and abs(sum(l1.weight for l1 in levels) + (s.execution_weight if s.execution_scored else 0)
                              - s.total) > 1e-9:
                raise ValueError(f"{name}.weight 之和与 scoring.total = {fmt_num(s.total, 4)} 不符")
        skeys = [sec.key for sec in self.report.sections]
        if len(skeys) != len(set(skeys)):
            raise ValueError("report.sections.key 有重复")
        return self

    # -- conveniences used by layout, scoring and report ---------------------------------
    @property
    def id(self) -> str:
        return self.profile.id

    # Profiles key the layout and sheet caches: hash and compare by the digest of the region's
    # files, not field by field (hashing every grid cell on each cache look-up cost ~5 ms).
    def __hash__(self) -> int:
        return hash(self.digest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Profile) and (self is other or self.digest == other.digest)

    @property
    def digest(self) -> str:
        """SHA-256 of the region's files (names and text): two copies with the same id and
        another digest are different rules."""
        d = self.__dict__.get("_digest")
        if d is None:
            d = sources_digest(self.sources)
            self.__dict__["_digest"] = d
        return d

    def levels(self, which: str = "project") -> tuple[Level1, ...]:
        """The 一级/二级 structure of the project tables, or of the overall table ("overall")."""
        return self.overall_level1 if which == "overall" and self.overall_level1 else self.level1

    def level2_all(self, which: str = "project") -> list[tuple[Level1, Level2]]:
        return [(l1, l2) for l1 in self.levels(which) for l2 in l1.level2]

    def level2_by_name(self, name: str, which: str = "project") -> tuple[Level1, Level2] | None:
        want = normalize_label(name)
        for l1, l2 in self.level2_all(which):
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


def _loc(err: dict) -> str:
    return ".".join(str(p) for p in err["loc"]) or "(根)"


def _line_of(text: str, loc: tuple) -> int:
    """Where a key of ``loc`` is written in the TOML text: after its table's header, the first
    line that sets its last name (0 when it cannot be found, e.g. a missing key)."""
    names = [p for p in loc if isinstance(p, str)]
    if not names or not text:
        return 0
    lines = text.splitlines()
    start = 0
    if len(names) > 1:
        for i, ln in enumerate(lines):
            s = ln.strip()
            if s.startswith("[") and s.strip("[]").strip() == names[0]:
                start = i
                break
    for i in range(start, len(lines)):
        s = lines[i].strip()
        if s.startswith(names[-1]) and s[len(names[-1]):].lstrip().startswith("=") or f"{names[-1]} =" in s:
            return i + 1
    return start + 1 if start else 0


def parse_profile(data: dict, source: str, text: str = "") -> Profile:
    try:
        return Profile.model_validate(data)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            msg = err["msg"].removeprefix("Value error, ")
            line = _line_of(text, err["loc"])
            lines.append(f"  {f'第 {line} 行 ' if line else ''}键 {_loc(err)}：{msg}")
        raise ProfileError(f"地区配置 {source} 无效：\n" + "\n".join(lines)) from None


# metadata rows that carry a region's files: "region:<file>:<part>" (a cell holds at most 32,767 characters)
REGION_ROW = "region:"
REGION_CHUNK = 30000

def sources_digest(sources: dict[str, str] | tuple[tuple[str, str], ...]) -> str:
    """The digest ``Profile.digest`` gives for these files."""
    h = hashlib.sha256()
    for name, text in sorted(dict(sources).items()):
        h.update(name.encode() + b"\0" + text.encode() + b"\0")
    return h.hexdigest()

def region_rows(profile: Profile) -> list[tuple[str, str]]:
    """The metadata rows that carry the region whole, so the workbook is read where the
    region is not installed."""
    rows = []
    for name, text in profile.sources:
        for k in range(0, max(len(text), 1), REGION_CHUNK):
            rows.append((f"{REGION_ROW}{name}:{k // REGION_CHUNK}", text[k:k + REGION_CHUNK]))
    return rows

def sources_from_rows(meta: dict[str, str]) -> dict[str, str]:
    """The region files a workbook's metadata carries (empty for workbooks that carry none)."""
    parts: dict[str, dict[int, str]] = {}
    for key, value in meta.items():
        if key.startswith(REGION_ROW):
            name, _, k = key[len(REGION_ROW):].rpartition(":")
            if name and k.isdigit():
                parts.setdefault(name, {})[int(k)] = value
    return {name: "".join(chunks[k] for k in sorted(chunks)) for name, chunks in parts.items()}
