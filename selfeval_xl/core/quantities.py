"""Figures in Chinese report prose: what each sentence quotes, and about what.

``quantities(text, section)`` finds every figure a sentence quotes — an amount, a count, a share,
a rate or a score — with the words it is about:

    人员经费311.80万元，占基本支出的91.64%   → (人员经费, 311.80 万元) and (人员经费, 91.64 %, of 基本支出)
    实有在职人员19人 / 在职人员十九人          → (实有在职人员, 19 人)
    年初预算395.34万元，年中追加80.54万元      → (年初预算, 395.34 万元), (年中追加, 80.54 万元)
    完成第一季18集                            → (完成第一季, 18 集)
    得分8分，得分率98%                        → (得分, 8 分), (得分率, 98 %)
    约150万元 / 150余万元 / 150万元以上        → approximate
    10-20万元 / 10至20万元                     → a range
    1.2亿元                                   → 12,000 万元 (amounts are always in 万元; 元 stays 元)

Pure: no model, no tables. Which table cell a subject names, and whether the figures agree, is
the checks' business (``checks``, through a vocabulary a region can extend). A figure that cannot
be tied to anything is still returned — with an empty subject — so callers decide, never this
reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FW = str.maketrans("０１２３４５６７８９．％，－～", "0123456789.%,-~")

# units, longest first; what each measures
_UNITS = {
    "亿元": "money", "万元": "money", "元": "money",
    "%": "share", "％": "share", "个百分点": "points",
    "分": "score", "人次": "count", "场次": "count", "人": "count", "次": "count", "个": "count", "项": "count", "集": "count",
    "家": "count", "户": "count", "件": "count", "卷": "count", "场": "count", "篇": "count", "期": "count",
    "份": "count", "本": "count", "条": "count", "台": "count", "辆": "count", "套": "count", "所": "count", "名": "count", "批": "count",
    "公里": "length", "米": "length", "平方米": "area", "㎡": "area", "亩": "area",
}
_UNIT_RE = "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUM = r"[零〇一二两三四五六七八九十百千]++"
_NUM = r"\d++(?:,\d{3})*+(?:\.\d++)?+"  # possessive: a run of 30,000 digits is read once, not once a position

# number [range] [约 before / 余、多 between / 以上、左右 after] unit
_FIGURE = re.compile(
    rf"(?P<approx_pre>约|近|超过|逾|达)?"
    rf"(?<![\d.,])(?P<num>{_NUM}|{_CN_NUM})"
    rf"(?:\s*(?:-|~|至|到|—)\s*(?P<num2>{_NUM}))?"
    rf"(?P<approx_mid>余|多)?"
    rf"\s*(?P<unit>{_UNIT_RE})"
    rf"(?P<approx_post>以上|左右|以内|以下)?")
_SHARE_OF = re.compile(r"占(?P<of>[^，。；、,;：:占的]{1,20}?)(?:总额|合计|总数)?的?\s*$")
_CLAUSE_END = re.compile(r"[，。；;、：:,（）()\n]")
# words that link a subject to its figure, dropped from the subject's end
_LINKS = ("合计为", "共计为", "总计为", "合计", "共计", "总计", "共", "为", "是", "达到", "达", "计", "约", "在",
          "金额", "总额", "支出额", "实际", "全年", "累计")
_LEADING = re.compile(r"^(?:其中|其中的|另|以及|和|及|与|并|全年|本年度|本年|年度|\d{4}年度?|年(?![初中末底])|今年|去年|上年)+")


@dataclass(frozen=True)
class Quantity:
    subject: str  # the words before the figure in its clause (为/共/达… dropped), or the clause's subject
    value: float  # in the unit below; 亿元 converted to 万元
    unit: str  # 万元, 元, %, 分, 人, 集, …
    kind: str  # money | share | score | count | length | area | points
    sentence: str
    section: str = ""
    of: str = ""  # for shares: the whole ("占基本支出的91.64%" → 基本支出)
    approx: bool = False  # 约, 余, 多, 以上, 左右 …
    upper: float | None = None  # a range's upper end (10-20万元)
    text: str = ""  # the figure as written
    decimals: int = 0  # decimals as written (precision for comparisons)
    at: int = 0  # where the figure starts in its sentence (what comes before it is its context)


def sentences(text: str) -> list[str]:
    """Sentences, split at 。！？； and line ends (a clerk's list items are sentences too)."""
    # not inside brackets: "（其中人员经费330.89万元。），年中追加80.54万元" is one sentence
    return [s.strip() for s in re.split(r"(?<=[。！？；;])(?![）)”」’])|\n", text) if s.strip()]


def _cn_number(s: str) -> int | None:
    """一, 十九, 二十三, 一百零五, 两千 → int; None when it is not a plain count."""
    if not s:
        return None
    total, section, digit = 0, 0, None
    for ch in s:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in "十百千":
            mult = {"十": 10, "百": 100, "千": 1000}[ch]
            section += (1 if digit is None else digit) * mult
            digit = None
        else:
            return None
    return total + section + (digit or 0)


def _subject(before: str, previous: str) -> str:
    """The words naming a figure: the end of the clause before it, linking words dropped."""
    clause = _CLAUSE_END.split(before)[-1]
    clause = re.sub(rf"(?:{_NUM})\s*(?:{_UNIT_RE})?", "", clause)  # an earlier figure in the same clause
    s = clause.strip()
    changed = True
    while changed and s:
        changed = False
        for w in _LINKS:
            if s.endswith(w) and len(s) > len(w):
                s, changed = s[: -len(w)].strip(), True
    s = _LEADING.sub("", s).strip()
    s = s.removeprefix("的").strip()
    return s or previous


def quantities(text: str, section: str = "") -> list[Quantity]:
    """Every figure quoted in ``text``, sentence by sentence, in order."""
    out: list[Quantity] = []
    if not _FIGURE.search(text.translate(_FW)):
        return out  # most paragraphs quote nothing: one scan, not one per sentence
    for sent in sentences(text):
        norm = sent.translate(_FW)
        previous = ""  # a share or rate with no words of its own is about the clause's last subject
        for m in _FIGURE.finditer(norm):
            raw, unit = m["num"], m["unit"]
            if unit == "％":
                unit = "%"
            if raw[0].isdigit():
                value = float(raw.replace(",", ""))
                decimals = len(raw.partition(".")[2])
            else:
                n = _cn_number(raw)
                if raw[0] in "百千" or norm[m.end():m.end() + 1] in ("制", "比", "之"):
                    continue  # 百分制, 千分比: words, not figures
                if n is None or _UNITS[unit] not in ("count", "score"):
                    continue  # Chinese numerals carry counts (十九人), not amounts
                value, decimals = float(n), 0
            before = norm[max(0, m.start() - 200): m.start()]  # a subject is near its figure (and linear time)
            if re.search(r"[\dA-Za-z.]$", before):  # part of a longer token (a code, a date, 2023年)
                continue
            if unit == "元" and re.search(r"万$|亿$", before):
                continue
            if _UNITS[unit] == "money" and unit == "亿元":
                value, unit = value * 10000, "万元"
            if unit in ("个", "分") and norm[m.end():m.end() + 1] in ("月", "钟", "别", "之"):
                continue  # 3个月, 5分钟 — not what a table counts
            share_of = _SHARE_OF.search(before) if _UNITS[unit] == "share" else None
            subject = _subject(before[: share_of.start()] if share_of else before, previous)
            if share_of and (not subject or subject.endswith(("，", ","))):
                subject = previous
            upper = float(m["num2"].replace(",", "")) if m["num2"] else None
            kind = _UNITS[unit]
            if kind == "share" and not share_of and re.search(r"率$", subject):
                kind = "rate"
            q = Quantity(subject=subject, value=value, unit=unit, kind=kind, sentence=sent, section=section,
                         of=share_of["of"].strip() if share_of else "",
                         approx=bool(m["approx_pre"] in ("约", "近", "超过", "逾") or m["approx_mid"] or m["approx_post"]),
                         upper=upper, text=m.group(0), decimals=decimals, at=m.start("num"))
            out.append(q)
            if kind != "share":
                previous = subject
    return out


# -- what a subject names in the tables -----------------------------------------------------------

@dataclass(frozen=True)
class Term:
    """A quantity the tables carry, and the words prose names it by.

    ``pattern`` is a regular expression the subject must end with (after generic qualifiers such as
    本年度/财政拨款); ``keys`` are the table figures it is compared with, the first filled one
    counting; ``budget_keys`` the same figure's budget column, used where the sentence speaks of a
    budget (年初预算批复的…公用经费64.45万元). A ``whole_only`` term (年初预算, 结余, 追加 …) is the
    unit's whole figure only in a sentence that names no part: "基本支出…年中追加80.54万元" is the
    basic budget's addition, not the unit's."""

    concept: str  # what the tables call it; messages and partitions use it
    pattern: str
    kind: str  # money | count | rate | score
    keys: tuple[str, ...]
    budget_keys: tuple[str, ...] = ()
    whole_only: bool = False


class Vocabulary:
    """Terms with their patterns compiled once (a check ties a hundred figures; hashing the terms
    for a cache on every tie cost more than the matching)."""

    def __init__(self, terms: tuple[Term, ...]):
        self.terms = tuple(terms)
        self.compiled = tuple((t, re.compile(rf"{_QUALIFIERS}(?:{t.pattern})")) for t in self.terms)
        self.wholes = tuple((t, re.compile(rf"(?:{t.pattern})")) for t in self.terms if t.kind == "money")
        self.any = re.compile("|".join(f"(?:{t.pattern})" for t in self.terms))

    def __add__(self, other: "Vocabulary") -> "Vocabulary":
        return Vocabulary(self.terms + other.terms)

    def __iter__(self):
        return iter(self.terms)


# what may stand before a term and still name the unit's own figure ("财政拨款基本支出"), where a
# name would make it another figure ("城市管网及污水处理补助项目支出" is one project, not 项目支出)
_WORDS = (r"(?:\d{4}年度?|本年度?|全年|年度|部门|单位|本单位|本部门|财政拨款|一般公共预算|整体|实际|累计|的|年末|年底"
          r"|决算|部门决算)")
# the unit itself or its bodies (区行政审批服务局, 局机关及二级机构, 本级) — at most once, so the
# pattern stays linear whatever a clerk typed
_BODY = r"[\u4e00-\u9fff]{0,24}?(?:局|馆|中心|院|委|厅|办|机关|机构|本级)(?:及其?[\u4e00-\u9fff]{0,8}?(?:机构|单位))?"
_QUALIFIERS = rf"{_WORDS}*(?:{_BODY})?{_WORDS}*"

def tie(q: Quantity, vocabulary: Vocabulary) -> Term | None:
    """The table quantity a quoted figure is about, or None when it names nothing the tables hold
    (never guessed: a figure that cannot be tied is never flagged). Shares are tied by their
    part; their whole (``q.of``) by ``tie_whole``."""
    kind = "rate" if q.kind == "rate" else q.kind if q.kind != "share" else "money"
    if len(q.subject) > 60:  # a clause, not a name
        return None
    for t, pattern in vocabulary.compiled:
        if t.kind == kind and pattern.fullmatch(q.subject):
            return t
    return None


def tie_whole(q: Quantity, vocabulary: Vocabulary) -> Term | None:
    """For a share, the quantity of its whole ("占基本支出的…" → 基本支出)."""
    if not q.of:
        return None
    whole = q.of.removeprefix("总").strip() if q.of != "总支出" else q.of
    for t, pattern in vocabulary.wholes:
        if pattern.fullmatch(whole):
            return t
    return None


def words_term(concept: str, words: tuple[str, ...], kind: str, keys: tuple[str, ...],
               budget_keys: tuple[str, ...] = ()) -> Term:
    """A region's own term (region.toml ``[[narrative.terms]]``): plain words, never a pattern a
    region file could make slow."""
    return Term(concept, "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), kind, keys, budget_keys)
