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
    "分": "score", "人次": "count", "人": "count", "次": "count", "个": "count", "项": "count", "集": "count",
    "家": "count", "户": "count", "件": "count", "卷": "count", "场": "count", "篇": "count", "期": "count",
    "份": "count", "台": "count", "辆": "count", "套": "count", "所": "count", "名": "count", "批": "count",
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


def sentences(text: str) -> list[str]:
    """Sentences, split at 。！？； and line ends (a clerk's list items are sentences too)."""
    return [s.strip() for s in re.split(r"(?<=[。！？；;])|\n", text) if s.strip()]


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
                         upper=upper, text=m.group(0), decimals=decimals)
            out.append(q)
            if kind != "share":
                previous = subject
    return out


# -- what a subject names in the tables -----------------------------------------------------------
#
# A subject names a table figure when it ends with one of these terms ("财政拨款基本支出" → 基本支出).
# Keys are the forms' keys. (Terms from a region folder for its own figures: not yet, #12.)
VOCABULARY: tuple[tuple[str, str, str], ...] = (
    # (term as a regular expression anchored at the subject's end, key, kind)
    (r"(?<!项目)基本支出", "overall.expense_basic", "money"),
    (r"人员(?:经费|支出)", "narrative.personnel_expense", "money"),
    (r"公用(?:经费|支出)", "narrative.public_expense", "money"),
    (r"项目支出", "overall.expense_project", "money"),
    (r"三公经费", "basic.three_public.final", "money"),
    (r"年初预算(?:数)?", "overall.budget_initial", "money"),
    (r"(?:全年预算|调整后预算)(?:数)?", "overall.budget_full", "money"),
    (r"(?:全年)?执行数|支出合计|总支出|整体支出", "overall.executed", "money"),
    (r"(?:预算)?执行率", "overall.rate", "rate"),
    (r"(?:自评)?总分|综合得分|自评得分", "overall.total_score", "score"),
    (r"(?:核定)?编制(?:数|人数)?", "basic.staff_authorized", "count"),
    (r"(?:实有)?在职(?:人员|人数)|实有人数", "basic.staff_actual", "count"),
)


def tie(q: Quantity, vocabulary: tuple[tuple[str, str, str], ...] = VOCABULARY) -> str | None:
    """The table key a quoted figure is about, or None when it names nothing the tables hold
    (never guessed: a figure that cannot be tied is never flagged). Shares are tied by their
    part; their whole (``q.of``) by ``tie_whole``."""
    kind = "rate" if q.kind == "rate" else q.kind if q.kind != "share" else "money"
    for term, key, k in vocabulary:
        if k == kind or (q.kind == "share" and k == "money"):
            if re.fullmatch(rf"{_QUALIFIERS}(?:{term})", q.subject):
                return key
    return None


# what may stand before a term and still name the unit's own figure ("财政拨款基本支出"), where a
# name would make it another figure ("城市管网及污水处理补助项目支出" is one project, not 项目支出)
_QUALIFIERS = r"(?:\d{4}年度?|本年度?|全年|年度|部门|单位|本单位|本部门|财政拨款|一般公共预算|整体|实际|累计|的|年末|年底)*"


def tie_whole(q: Quantity, vocabulary: tuple[tuple[str, str, str], ...] = VOCABULARY) -> str | None:
    """For a share, the table key of its whole ("占基本支出的…" → overall.expense_basic)."""
    if not q.of:
        return None
    for term, key, k in vocabulary:
        if k == "money" and re.fullmatch(rf"(?:{term})", q.of.removeprefix("总").strip()):
            return key
    return None
