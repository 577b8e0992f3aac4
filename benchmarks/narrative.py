"""What reading the narrative like an auditor (#12) costs `check`: the same N synthetic units
checked twice — once with report text that quotes figures as the seeds do, once with none.

    .venv/bin/python benchmarks/narrative.py --units 2000 --workers 2 [--runs 3]

The text of each unit is built from its own tables, in the seeds' phrasings (staff counts,
基本/项目/人员/公用 amounts with their shares, each project's amount, 执行率, 总分 and the 一级
scores, an indicator quoted by name, a claim about the budget), about 2,500 characters over the
ten sections; one unit in ten has one figure changed, so the checks have something to find.
Prints both timings (median of --runs) and the ratio; the issue's target is within 15 %.
Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import functools
import random
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from run import P, _fill_one, synthetic_unit, timed  # noqa: E402

from selfeval_xl.jobs import batch  # noqa: E402
from selfeval_xl.checks import check  # noqa: E402
from selfeval_xl.cli import run_check  # noqa: E402
from selfeval_xl.core.model import Department  # noqa: E402
from selfeval_xl.core.numbers import fmt_money  # noqa: E402
from selfeval_xl.docx.report import budget_paragraphs, performance_figures  # noqa: E402

FILLER = ("本单位严格执行预算管理制度，加强内部控制，规范资金使用，确保财政资金安全高效运行。"
          "下一步将进一步细化绩效目标，强化结果应用，提高预算编制的科学性和准确性。")


def consistent(d: Department) -> Department:
    """The synthetic unit with 附件1's 公用经费 = 基本支出 − 人员经费, as a careful unit fills it: then
    the text built from the tables agrees with them, and only the changed figures are findings."""
    public = round(d.overall.expense_basic - d.narrative.personnel_expense, 2)
    basic = d.basic.model_copy(update={"public_funds": d.basic.public_funds.model_copy(update={"final": public})})
    return d.model_copy(update={"basic": basic})


def with_narrative(d: Department, rng: random.Random) -> Department:
    derived = check(d, P).derived
    budget = "\n".join(p["text"] for p in budget_paragraphs(d, P, derived))
    perf = performance_figures(d, P, derived)["text"]
    ind = d.overall.indicators[0]
    staff = f"核定编制{d.basic.staff_authorized}人，实有在职人员{d.basic.staff_actual}人，退休人员{rng.randint(1, 30)}人。"
    projects = "；".join(f"{p.name}支出{fmt_money(derived[f'projects[{i}].funds.total.executed'])}万元"
                        for i, p in enumerate(d.projects))
    secs = {s.key: FILLER * rng.randint(1, 3) for s in P.report.sections}
    secs["basic_info"] = "（一）机构设置\n" + staff + FILLER
    secs["general_budget"] = budget + "\n（三）项目明细\n其中：" + projects + "。"
    secs["performance"] = (perf + f"\n“{ind.name}”全年完成{ind.actual}，达到年初目标。\n"
                           + ("预算执行方面，支出总额控制在预算总额以内。\n" if (derived["overall.rate"] or 0) <= 1
                              else "预算执行方面，支出超出预算，已说明原因。\n") + FILLER * 2)
    if rng.random() < 0.1:  # one figure changed: 基本支出 quoted 1 万元 too high
        b = fmt_money(d.overall.expense_basic)
        secs["general_budget"] = secs["general_budget"].replace(f"基本支出{b}万元", f"基本支出{fmt_money(d.overall.expense_basic + 1)}万元", 1)
    return d.model_copy(update={"narrative": d.narrative.model_copy(update={"sections": secs})})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    rng = random.Random(20240601)
    plain = [consistent(synthetic_unit(i, rng)) for i in range(a.units)]
    told = [with_narrative(d, rng) for d in plain]
    bare = [d.model_copy(update={"narrative": d.narrative.model_copy(update={"sections": {}})}) for d in plain]
    chars = sum(len(t) for d in told for t in d.narrative.sections.values()) / len(told)
    print(f"{a.units} units, narrative {chars:.0f} characters a unit, workers={a.workers}, runs={a.runs}")
    root = Path(tempfile.mkdtemp(prefix="selfeval-narr-"))
    quiet = lambda *args, **kw: None  # noqa: E731
    try:
        out = {}
        for label, depts in (("without", bare), ("with", told)):
            folder = root / label
            job = functools.partial(_fill_one, out=str(folder))
            batch.run(job, [d.model_dump_json() for d in depts], a.workers, "fill")
            out[label] = timed(f"check {label} narrative", lambda: run_check(
                [folder], root / f"chk-{label}", workers=a.workers, echo=quiet, force=True), a.units, a.runs)
        print(f"with / without: {out['with'] / out['without']:.3f} (+{(out['with'] / out['without'] - 1) * 100:.1f} %)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
