"""Read an indicator's target and actual (年度指标值 / 实际完成值) and suggest a score.

Free text is the norm: "≥96%", "≤181万元", "0.9万件", "12月31日之前", "有效提升". The parser
normalises full-width signs and digits and 千/万 multipliers, then classifies the target:

* 正向 (≥, >, 不低于, or a bare number): actual ≥ target → full, else actual/target × 分值;
* 反向 (≤, <, 不超过, 以内): actual ≤ target → full; up to 2× target → linear; beyond → 0;
* 等于 (=): as 正向; a target of 0 is met only by 0;
* deadlines (…前, …之前, 年底前, 9月前): an actual that repeats or meets the date → full, and
  so does an actual date on or before it ("7月" against "9月前": done early, not 7/9 of a month);
* 定性 (提升, 减少, 优化, 达成 …): a range, 80–100 % of 分值 when the actual reports it achieved.

A rate written as a fraction on one side and as a percentage on the other ("≥95%" and 0.97,
which is how Excel stores 97 % and how many clerks type it) is read at the scale that makes
sense against the other side, and the basis says so: 0.97 % against ≥95 % is never what was meant.

The result is a *suggestion* (a convention, DOMAIN.md): the checker warns when the stated
score falls outside it; it never overrides the clerk's score.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

_FW = str.maketrans("０１２３４５６７８９．，＋－％＞＜＝≧≦", "0123456789.,+-%><=≥≤")
_NUM = re.compile(r"(\d+(?:\.\d+)?)")
# (?<!\d) and possessive runs: clerk text with a long run of digits stays linear to scan
_DATE_WORDS = re.compile(r"(?<!\d)\d++月\d++日|年底|年末|(?<!\d)\d{4}年")
_DEADLINE_WORDS = re.compile(r"(?<!\d)\d++月\d++日|年底|年末|年内")
# a month-only deadline ("9月前", "11月底前", "6月以前"): without it "9月前" read as the number 9
# and an early "7月" as 7/9 done (金寨县 2023 部门整体支出绩效自评表)
_MONTH_DEADLINE = re.compile(r"(?<![\d.])(?:\d{4}年)?(1[0-2]|0?[1-9])月(?:(\d{1,2})日)?(?:底|末)?(?:之前|以前|前)")
# a date as an actual writes it ("7月", "2023年10月", "10月25日")
_DATE = re.compile(r"(?<![\d.])(?:(\d{4})年)?(1[0-2]|0?[1-9])月(?:(\d{1,2})日)?")
OPERATORS = ("≥", "≤", ">", "<", "=", "不低于", "不少于", "不超过", "不超", "不高于", "以上", "以内", "以下")
_GE = ("≥", "不低于", "不少于", "以上", "达到")
_LE = ("≤", "不超过", "不超", "不高于", "以内", "以下", "控制在")
_QUAL = ("提升", "提高", "减少", "降低", "优化", "改善", "达成", "达标", "持续", "完成", "保持", "稳定", "增强", "定性",
         "不超预算", "有所", "有效", "显著", "正常", "良好", "无")
_ACHIEVED = ("有效", "显著", "持续", "完成", "达到", "达成", "已", "提升", "改善", "减少", "优化", "正常", "良好", "稳定",
             "100%", "无")
_FAILED = ("未完成", "未达成", "未达到", "未实现", "没有完成", "未")


@dataclass(frozen=True)
class Quantity:
    op: str  # ge | le | gt | lt | eq | bare
    value: float  # after 千/万 multipliers
    raw: float  # the number as written
    unit: str  # unit after the number, without multiplier (%, 件, 元 …)


def normalize(text: str) -> str:
    return "".join(str(text).translate(_FW).split()).replace(",", "")


def parse_quantity(text: str) -> Quantity | None:
    """The first number of ``text`` with its comparison and unit; None for qualitative text."""
    t = normalize(text)
    if not t:
        return None
    m = _NUM.search(t)
    if not m:
        return None
    raw = float(m.group(1))
    after = t[m.end():]
    before = t[:m.start()]
    mult = 1.0
    if after.startswith("千"):
        mult, after = 1e3, after[1:]
    elif after.startswith("万"):
        mult, after = 1e4, after[1:]
    elif after.startswith("亿"):
        mult, after = 1e8, after[1:]
    unit = re.match(r"[%A-Za-z㎡㎥\u4e00-\u9fff]*", after).group(0)
    unit = re.sub(r"(以上|以内|以下|之前|前)$", "", unit)
    whole = before + after
    if any(op in whole for op in _LE) or before.endswith("<"):
        op = "lt" if before.endswith("<") else "le"
    elif any(op in whole for op in _GE) or before.endswith(">"):
        op = "gt" if before.endswith(">") else "ge"
    elif before.endswith("="):
        op = "eq"
    else:
        op = "bare"
    if (_DATE_WORDS.search(t) and ("前" in t or "之前" in t or "底" in t)) or _MONTH_DEADLINE.search(t):
        return None  # a deadline, not a quantity
    return Quantity(op, raw * mult, raw, unit)


def is_deadline(text: str) -> bool:
    t = normalize(text)
    return (bool(_DEADLINE_WORDS.search(t)) and ("前" in t or "底" in t or "内" in t)) or bool(_MONTH_DEADLINE.search(t))


def _date_order(text: str, end_of_month: bool) -> tuple[int, int, int] | None:
    """(year or 0, month, day) of the first date in ``text``, for comparing an actual with a
    deadline; a month without a day counts as its last day for the deadline ("9月底前") and as
    its first for the actual (done "in 7月" is before any day of 9月); None without a date."""
    m = _DATE.search(text)
    if not m:
        return None
    day = int(m.group(3)) if m.group(3) else (31 if end_of_month else 1)
    return int(m.group(1) or 0), int(m.group(2)), day


def _met_deadline(target: str, actual: str) -> bool | None:
    """Whether an actual date is on or before the target's month-only deadline; None when either
    side has no date, or only one names its year (2024年3月 against 9月前 cannot be ordered)."""
    if not _MONTH_DEADLINE.search(target):
        return None
    t = _date_order(target, end_of_month="底" in target or "末" in target)
    a = _date_order(actual, end_of_month=False)
    if t is None or a is None or (t[0] == 0) != (a[0] == 0):
        return None
    return a <= t


def has_operator(text: str) -> bool:
    t = normalize(text)
    return any(op in t for op in ("≥", "≤", ">", "<", "=")) or any(w in t for w in ("不低于", "不超过", "不高于", "不少于"))


@dataclass(frozen=True)
class Suggestion:
    low: float
    high: float
    basis: str  # Chinese: how it was derived

    def contains(self, score: float, tol: float) -> bool:
        return self.low - tol <= score <= self.high + tol


def _comparable(target: Quantity, actual: Quantity) -> tuple[float, float] | None:
    if target.unit and actual.unit:
        if target.unit != actual.unit:
            return None
        return target.value, actual.value
    return target.raw, actual.raw  # one side has no unit: compare the numbers as written


def _same_scale(target: Quantity, actual: Quantity) -> tuple[Quantity, Quantity, str]:
    """The two quantities at one scale when one is a percentage and the other a bare fraction
    (0 < x ≤ 1): the fraction ×100 when that is nearer the other side than the fraction as a
    number of per cent (0.97 against 95 % is 97 %; 0.03 against ≤5 % is 3 %; 1 against ≤5 % stays
    1 %). Returns the quantities and a note for the basis ("" when nothing was rescaled)."""
    def rescale(bare: Quantity, pct: Quantity) -> Quantity | None:
        if bare.unit or bare.value != bare.raw or pct.unit != "%" or not 0 < bare.raw <= 1 or pct.raw <= 0:
            return None
        if abs(math.log(bare.raw * 100 / pct.raw)) < abs(math.log(bare.raw / pct.raw)):
            scaled = round(bare.raw * 100, 9)
            return Quantity(bare.op, scaled, scaled, "%")
        return None

    a = rescale(actual, target)
    if a is not None:
        return target, a, f"完成值 {actual.raw:g} 按 {a.raw:g}% 理解（小数形式的百分比）；"
    t = rescale(target, actual)
    if t is not None:
        return t, actual, f"指标值 {target.raw:g} 按 {t.raw:g}% 理解（小数形式的百分比）；"
    return target, actual, ""


@lru_cache(maxsize=16384)  # targets and actuals repeat across a batch ("≥95%", "100%"); the result is frozen
def suggest(target: str, actual: str, weight: float, ceiling: bool = False) -> Suggestion | None:
    """A suggested score range, or None when the texts cannot be judged. ``ceiling``: the
    二级 reads a bare amount as an upper limit (cost indicators)."""
    if not target.strip() or not actual.strip() or weight is None:
        return None
    t_norm, a_norm = normalize(target), normalize(actual)
    if any(f in a_norm for f in _FAILED):
        return Suggestion(0, 0.6 * weight, "实际完成值显示未达成：按惯例 0–60% 分值")
    if is_deadline(target):
        if a_norm == t_norm or any(w in a_norm for w in ("完成", "按时", "之前", "前", "到位")):
            return Suggestion(weight, weight, "时限指标已按时完成：满分")
        if _met_deadline(t_norm, a_norm):
            return Suggestion(weight, weight, "时限指标：实际完成时间不晚于期限，应得满分")
        return None
    tq, aq = parse_quantity(target), parse_quantity(actual)
    if tq is None or aq is None:
        if any(w in t_norm for w in _QUAL) and any(w in a_norm for w in _ACHIEVED):
            return Suggestion(0.8 * weight, weight, "定性指标已达成：按惯例 80–100% 分值")
        return None
    tq, aq, note = _same_scale(tq, aq)
    pair = _comparable(tq, aq)
    if pair is None:
        return None
    t, a = pair
    if note:
        s = _suggest_numbers(tq, t, a, weight, ceiling)
        return s and Suggestion(s.low, s.high, note + s.basis)
    return _suggest_numbers(tq, t, a, weight, ceiling)


def _suggest_numbers(tq: Quantity, t: float, a: float, weight: float, ceiling: bool) -> Suggestion | None:
    if tq.op in ("le", "lt") or (ceiling and tq.op == "bare"):
        if a <= t:
            return Suggestion(weight, weight, "反向指标：实际未超过目标，应得满分")
        if t > 0 and a < 2 * t:
            s = (1 - (a - t) / t) * weight
            return Suggestion(s, s, f"反向指标：实际超出目标 {((a - t) / t):.2%}，按 (1 − 超出比例) × 分值")
        return Suggestion(0, 0, "反向指标：实际达到目标两倍及以上，0 分")
    if tq.op == "eq" and t == 0:
        return Suggestion(weight, weight, "目标为 0 且实际为 0：满分") if a == 0 else Suggestion(0, 0, "目标为 0 而实际不为 0")
    if a >= t:
        return Suggestion(weight, weight, "正向指标：实际达到目标，应得满分")
    if t <= 0:
        return None
    s = a / t * weight
    return Suggestion(s, s, f"正向指标：完成比例 {a / t:.2%} × 分值")
