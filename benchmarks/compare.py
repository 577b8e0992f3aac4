"""Two commits, one harness, one run: is any stage slower than it was?

    .venv/bin/python benchmarks/compare.py --against 89cf88c --units 2000 --workers 2 --rounds 2

Checks the commit out into a temporary git worktree, then runs ``benchmarks/run.py`` (this
checkout's harness, so both sides are measured the same way) alternately against that commit's
package and this checkout's — A, B, A, B … — each in a fresh process, and prints per stage the
median ms/unit of each side and the ratio now / then. Alternating rounds spread a shared
machine's drift over both sides; the ratio is what to read, never the absolute figures.
Printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def run_side(tree: Path, args: argparse.Namespace, out: Path) -> dict[str, float]:
    env = dict(os.environ, SELFEVAL_BENCH_TREE=str(tree))
    cmd = [sys.executable, str(HERE / "run.py"), "--units", str(args.units), "--workers", str(args.workers),
           "--runs", "1", "--stages", args.stages, "--json", str(out), "--no-baselines"]
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL if args.quiet else None)
    return json.loads(out.read_text(encoding="utf-8"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", required=True, help="the commit to compare with (e.g. 89cf88c)")
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds (each side runs once a round)")
    ap.add_argument("--stages", default="generate,fill,check,annotate,report")
    ap.add_argument("--quiet", action="store_true", help="print only the comparison")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="selfeval-compare-"))
    then_tree = tmp / "then"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(then_tree), a.against], check=True)
    sides: dict[str, list[dict[str, float]]] = {"then": [], "now": []}
    try:
        for r in range(a.rounds):
            for side, tree in (("then", then_tree), ("now", ROOT)):
                print(f"round {r + 1}/{a.rounds}: {side} ({a.against if side == 'then' else 'this checkout'})", flush=True)
                sides[side].append(run_side(tree, a, tmp / f"{side}-{r}.json"))
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(then_tree)], check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nN = {a.units} units, {a.workers} workers, {a.rounds} alternating rounds; median ms/unit")
    print(f"{'stage':10s} {a.against[:10]:>10s} {'now':>10s} {'now/then':>9s}")
    for stage in sides["now"][0]:
        then = [s[stage] for s in sides["then"] if stage in s]
        now = [s[stage] for s in sides["now"]]
        if not then:
            print(f"{stage:10s} {'—':>10s} {statistics.median(now):10.1f}")
            continue
        t, n = statistics.median(then), statistics.median(now)
        print(f"{stage:10s} {t:10.1f} {n:10.1f} {n / t:8.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
