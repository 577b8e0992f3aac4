"""The shipped vocabulary: the words report prose names the forms' figures by, tied to their keys.

``core.quantities`` reads figures out of prose and ties them through a ``Vocabulary`` it is
given; which key each term is compared with is the forms' business, so the table lives here
beside the keys (``forms.keys``) — a region's own terms (``[[narrative.terms]]``) come first
(``narrative.vocabulary``). Keys are the forms' keys, or the narrative checks' own derived
figures (``keys.BUDGET_ADJUSTMENT`` …).
"""

from __future__ import annotations

from ..core.quantities import Term, Vocabulary
from . import keys

_TERMS: tuple[Term, ...] = (
    Term("基本支出", r"(?<!项目)基本支出", "money", (keys.OVERALL_EXPENSE_BASIC,)),
    Term("人员经费", r"人员(?:经费(?:支出)?|支出)", "money", (keys.PERSONNEL_EXPENSE,)),
    Term("公用经费", r"(?:日常)?公用(?:经费(?:支出)?|支出)", "money", (keys.PUBLIC_FUNDS_FINAL, keys.PUBLIC_EXPENSE),
         (keys.PUBLIC_FUNDS_BUDGET,)),
    Term("项目支出", r"项目(?:专项)?支出", "money", (keys.OVERALL_EXPENSE_PROJECT,)),
    Term("三公经费", r"[“\"]?三公[”\"]?经费(?:支出)?", "money", (keys.THREE_PUBLIC_FINAL,), (keys.THREE_PUBLIC_BUDGET,)),
    Term("年初预算", r"年初预算(?:数|批复数|收入)?", "money", (keys.OVERALL_BUDGET_INITIAL,), whole_only=True),
    Term("全年预算", r"(?:全年预算|调整后预算)(?:数)?", "money", (keys.OVERALL_BUDGET_FULL,), whole_only=True),
    Term("预算调整数", r"(?:年中)?(?:追加|调增)(?:预算)?(?:数|资金)?|预算调整数", "money",
         (keys.BUDGET_ADJUSTMENT,), whole_only=True),
    Term("结余", r"(?:年末|年终|年底)?结(?:余|转结余)(?:资金)?", "money", (keys.BUDGET_BALANCE,), whole_only=True),
    # a bare 支出 after the unit's own qualifiers (本年度支出, 区行政审批服务局支出) is the whole
    Term("执行数", r"(?:全年)?执行数|支出合计|总支出|整体支出(?:合计)?", "money", (keys.OVERALL_EXECUTED,)),
    Term("执行数", r"支出", "money", (keys.OVERALL_EXECUTED,), whole_only=True),
    Term("执行率", r"(?:预算)?执行率", "rate", (keys.OVERALL_RATE,)),
    Term("总分", r"(?:整体支出)?(?:绩效)?(?:自评)?总分|(?:整体支出)?(?:绩效)?自评得分|综合得分", "score",
         (keys.OVERALL_TOTAL_SCORE,)),
    Term("编制数", r"(?:核定)?编制(?:数|人数)?", "count", (keys.STAFF_AUTHORIZED,)),
    Term("在职人数", r"(?:实有)?在职(?:人员|人数)|实有人数", "count", (keys.STAFF_ACTUAL,)),
)

VOCABULARY = Vocabulary(_TERMS)
