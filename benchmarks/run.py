"""Province-scale timings: generate, fill, check and report over N synthetic units.

    .venv/bin/python benchmarks/run.py --units 200 --workers 2 [--runs 3]

Prints, per stage: per-unit milliseconds (median of --runs, with min–max), throughput, and
the ratio against baselines measured in the same run on a sample of units: (a) the naive
way — openpyxl writing, openpyxl reading in normal mode, one process; (b) the floor —
merely deflating the same XML parts into a zip (generate/fill) and inflating them (check).
The annotate stage times ``check --annotate`` against ``check`` on the same files and prints
the ratio. Peak memory is the largest resident set of this process and of any worker. Timings are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

# SELFEVAL_BENCH_TREE: time another checkout's package with this same harness (benchmarks/compare.py)
sys.path.insert(0, os.environ.get("SELFEVAL_BENCH_TREE") or str(Path(__file__).resolve().parent.parent))

from selfeval_xl.cli import run_check, run_report  # noqa: E402
from selfeval_xl.core.model import Department  # noqa: E402
from selfeval_xl.forms.regions import get_profile  # noqa: E402

try:  # the package's folders (benchmarks/compare.py runs this harness against older trees too)
    from selfeval_xl.files.roster import RosterUnit, workbook_name  # noqa: E402
    from selfeval_xl.jobs import batch  # noqa: E402
    from selfeval_xl.jobs.generate import generate_unit  # noqa: E402
except ImportError:  # before the top of the package became folders
    from selfeval_xl import batch  # noqa: E402
    from selfeval_xl.cli import generate_unit  # noqa: E402
    from selfeval_xl.roster import RosterUnit, workbook_name  # noqa: E402
from selfeval_xl.xlsx.write import write_workbook  # noqa: E402

TS = dt.datetime(2024, 1, 1)
P = get_profile("yueyang-2023")


def synthetic_unit(i: int, rng: random.Random) -> Department:
    """A realistically filled unit: 3–8 projects, indicators under every 二级, sums that add up."""
    def money(lo, hi):
        return round(rng.uniform(lo, hi), 2)

    def indicators():
        # As in the seeds: most indicators met with full marks, some missed and scored in proportion
        # with a reason, and a few (~3 %) scored in a way the checker questions (IND-201).
        out = []
        for l1 in P.level1:
            l2s = l1.level2
            per = l1.weight / len(l2s)
            for l2 in l2s:
                w = round(per, 2)
                t = rng.randint(80, 98)
                roll = rng.random()
                if roll < 0.82:
                    a, s = rng.randint(t, 100), w
                elif roll < 0.97:
                    a = rng.randint(60, t - 1)
                    s = round(w * a / t, 2)
                else:
                    a, s = rng.randint(60, t - 1), w
                out.append(dict(level1=l1.name, level2=l2.name, name=f"{l2.name}{rng.randint(1, 99)}",
                                target=f"≥{t}%", actual=f"{a}%", weight=w,
                                score=s, deviation="" if s == w else "部分任务延期，下年加强进度管理"))
        return out

    projects = []
    for j in range(rng.randint(3, 8)):
        budget = money(10, 500)
        projects.append(dict(name=f"项目{i}-{j}", category=rng.choice(P.projects.categories), prior_year_final=money(0, 500),
                             implementing_unit=f"单位{i}",
                             funds=dict(current=dict(initial=budget, full=budget, executed=round(budget * rng.uniform(0.8, 1), 2))),
                             goal_expected="完成年度工作任务，保障单位正常运转。", goal_actual="已完成。",
                             indicators=indicators()))
    basic = money(100, 2000)
    return Department.model_validate(dict(
        code=f"43{i:07d}", name=f"模拟单位{i}", year=2023, profile=P.id,
        basic=dict(staff_authorized=rng.randint(5, 80), staff_actual=rng.randint(5, 80),
                   reception=dict(prior=money(0, 5), budget=money(0, 5), final=money(0, 5)),
                   public_funds=dict(prior=money(10, 80), budget=money(10, 80), final=money(10, 80))),
        overall=dict(budget_initial=money(500, 3000), budget_full=money(500, 3000), expense_basic=basic,
                     income=dict(general=basic), goal_expected="履行职能职责。", goal_actual="全面完成。",
                     indicators=indicators()),
        projects=projects,
        narrative=dict(sections={s.key: "本部分内容。" * rng.randint(5, 40) for s in P.report.sections},
                       personnel_expense=round(basic * 0.8, 2)),
        signoff=dict(preparer="（填表人）", date="2024年6月1日", phone="（联系电话）"),
    ))


def _fill_one(dept_json: str, out: str) -> dict:
    d = Department.model_validate_json(dept_json)
    path = Path(out) / workbook_name(d.code, d.name, d.year)
    write_workbook(d, P, path, generated_at=TS)
    return {"name": path.name, "status": "ok", "file": str(path)}


def timed(label, fn, n, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    per = [x / n * 1000 for x in times]
    med = statistics.median(per)
    print(f"{label:10s} {med:8.1f} ms/unit  (min {min(per):.1f} – max {max(per):.1f}, {runs} runs)  "
          f"{1000 / med:7.1f} units/s", flush=True)
    return med


def naive_openpyxl_write(path_in: Path, path_out: Path) -> None:
    """Baseline (a): the same cells, values and formulas, written by openpyxl."""
    import openpyxl

    src = openpyxl.load_workbook(path_in)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for ws in src.worksheets:
        new = wb.create_sheet(ws.title)
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    new.cell(c.row, c.column, c.value)
    wb.save(path_out)


def zip_floor(path: Path, tmp: Path) -> tuple[float, float]:
    """Baseline (b): deflate the workbook's XML parts into a zip, and inflate them back."""
    with zipfile.ZipFile(path) as z:
        parts = [(n, z.read(n)) for n in z.namelist()]
    t = time.perf_counter()
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts:
            z.writestr(n, data)
    deflate = time.perf_counter() - t
    t = time.perf_counter()
    with zipfile.ZipFile(tmp) as z:
        for n in z.namelist():
            z.read(n)
    return deflate, time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sample", type=int, default=20, help="units measured for the baselines")
    ap.add_argument("--stages", default="generate,fill,check,annotate,report",
                    help="annotate: check --annotate against check, same files, printed as a ratio")
    ap.add_argument("--json", type=Path, help="also write the per-stage medians (ms/unit) to this file")
    ap.add_argument("--no-baselines", action="store_true", help="skip the naive and floor baselines")
    a = ap.parse_args()
    stages = a.stages.split(",")
    rng = random.Random(20240601)
    depts = [synthetic_unit(i, rng) for i in range(a.units)]
    n_projects = sum(len(d.projects) for d in depts)
    print(f"synthetic province: {a.units} units, {n_projects} projects, workers={a.workers}, runs={a.runs}")
    root = Path(tempfile.mkdtemp(prefix="selfeval-bench-"))
    results = {}
    try:
        units = [RosterUnit(d.code, d.name, projects=[p.model_copy(update={"funds": p.funds}) for p in d.projects])
                 for d in depts]
        gen_dir, fill_dir = root / "gen", root / "fill"
        if "generate" in stages:
            job = functools.partial(generate_unit, out=str(gen_dir), profile=P.id, year=2023, generated_at=TS)
            results["generate"] = timed("generate", lambda: batch.run(job, units, a.workers, "generate"), a.units, a.runs)
        payload = [d.model_dump_json() for d in depts]
        job = functools.partial(_fill_one, out=str(fill_dir))
        results["fill"] = timed("fill", lambda: batch.run(job, payload, a.workers, "fill"), a.units,
                                a.runs if "fill" in stages else 1)
        files = sorted(fill_dir.glob("*.xlsx"))
        broken = files[:: max(1, round(1 / 0.03))]  # ~3 % broken: truncated, as a failed upload leaves them
        for f in broken:
            f.write_bytes(f.read_bytes()[: f.stat().st_size // 3])
        print(f"corpus: {len(files)} filled workbooks, {len(broken)} broken ({len(broken) / len(files):.1%})")
        quiet = lambda *args, **kw: None  # noqa: E731
        if "check" in stages:  # as the CLI runs it: discovery, workers, 汇总表.xlsx and summary.json
            results["check"] = timed("check", lambda: run_check([fill_dir], root / "chk", workers=a.workers, echo=quiet, force=True),
                                     len(files), a.runs)
        if "annotate" in stages:  # check --annotate (copies written in the workers) against plain check
            plain = results.get("check") or timed("check", lambda: run_check([fill_dir], root / "chk", workers=a.workers,
                                                                            echo=quiet, force=True), len(files), a.runs)
            results["check"] = plain
            results["annotate"] = timed("check --annotate", lambda: run_check(
                [fill_dir], root / "ann", annotate_copies=True, workers=a.workers, echo=quiet, force=True), len(files), a.runs)
            n_copies = len(list((root / "ann" / "批注").glob("*.xlsx")))
            print(f"  check --annotate / check = {results['annotate'] / plain:.2f}×  ({n_copies} annotated copies; "
                  f"target ≤ 2×)")
        if "report" in stages:
            results["report"] = timed("report", lambda: run_report([fill_dir], root / "rep", workers=a.workers, force=True,
                                                                   echo=quiet), len(files), a.runs)

        if a.json:
            a.json.write_text(json.dumps(results), encoding="utf-8")
        if a.no_baselines:
            return 0
        sample = [f for f in files if f not in broken][: a.sample]
        t = time.perf_counter()
        for f in sample:
            naive_openpyxl_write(f, root / "naive.xlsx")
        naive_write = (time.perf_counter() - t) / len(sample) * 1000
        import openpyxl

        t = time.perf_counter()
        for f in sample:
            openpyxl.load_workbook(f)
        naive_read = (time.perf_counter() - t) / len(sample) * 1000
        floors = [zip_floor(f, root / "floor.zip") for f in sample]
        deflate = statistics.median(x[0] for x in floors) * 1000
        inflate = statistics.median(x[1] for x in floors) * 1000
        print(f"baseline (a) naive openpyxl, 1 process: write {naive_write:.1f} ms/unit, read (normal mode) "
              f"{naive_read:.1f} ms/unit")
        print(f"baseline (b) floor: deflate {deflate:.1f} ms/unit, inflate {inflate:.1f} ms/unit")
        for stage, base, floor in (("generate", naive_write, deflate), ("fill", naive_write, deflate),
                                   ("check", naive_read, inflate)):
            if stage in results:
                print(f"  {stage:8s} {results[stage]:.1f} ms/unit = {naive_write if stage != 'check' else naive_read:.0f}"
                      f"/{results[stage]:.1f} → {base / results[stage]:.1f}× faster than naive, "
                      f"{results[stage] / floor:.1f}× the floor")
        me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak memory: main process {me:.0f} MiB, largest worker {kids:.0f} MiB")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
