"""What reading a unit's Word report costs (#19): each seed report (.docx) read into the model
(python-docx, paragraphs with their places, grids, the region's outline), its tables matched to
the region's forms, and both checked — timed per seed, median of --rounds.

    .venv/bin/python benchmarks/read_reports.py [--rounds 7] [--pdf]

--pdf also prints one PDF of each seed made by LibreOffice (pdftotext's check + pdfplumber's
layout), which is slower by design. The issue's target is < 0.3 s to read a seed-sized .docx;
figures are printed, never asserted. Each stage is timed on its own: the first round of each
seed warms the region's compiled layout (cached per region and year, as in a batch).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from selfeval_xl.forms.regions import get_profile  # noqa: E402
from selfeval_xl.wordin.read import read_report  # noqa: E402
from selfeval_xl.wordin.tablecheck import check_report_tables  # noqa: E402
from selfeval_xl.wordin.tables import match_tables  # noqa: E402
from selfeval_xl.wordin.textcheck import check_report_text  # noqa: E402

FIX = ROOT / "tests" / "fixtures" / "reports"
REGION = {"000": "yueyang-2023", "001": "yueyang-2023", "002": "yueyang-2023", "003": "hengyang-2022",
          "004": "yunxi-2023"}


def fixture(n: str) -> Path:
    path = FIX / f"{n}.docx"
    if not path.exists():
        from build_report_fixtures import build_docx

        build_docx(FIX / f"{n}.txt", path)
    return path


def one(path: Path, profile) -> tuple[float, float, float, object]:
    t0 = time.perf_counter()
    rep = read_report(path, profile)
    t1 = time.perf_counter()
    forms = match_tables(rep, profile)
    t2 = time.perf_counter()
    check_report_tables(rep, profile, forms=forms)
    check_report_text(rep)
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, rep


def bench(paths: dict[str, Path], rounds: int, label: str) -> None:
    print(f"\n{label}: median of {rounds} rounds (first round warms the region's layout and is dropped)")
    print(f"{'seed':<6}{'size':>9}{'paras':>7}{'tables':>7}{'read':>9}{'match':>9}{'check':>9}{'total':>9}")
    totals = []
    for n, path in paths.items():
        profile = get_profile(REGION[n])
        one(path, profile)  # warm: the compiled layout, python-docx's imports
        runs = [one(path, profile) for _ in range(rounds)]
        read, match, check = (statistics.median(r[i] for r in runs) for i in range(3))
        rep = runs[-1][3]
        total = read + match + check
        totals.append(read)
        print(f"{n:<6}{path.stat().st_size / 1024:>7.0f}KB{len(rep.paras):>7}{len(rep.grids):>7}"
              f"{read:>8.3f}s{match:>8.3f}s{check:>8.3f}s{total:>8.3f}s")
    print(f"slowest read: {max(totals):.3f} s" + (" (target < 0.3 s for a seed-sized .docx)" if label == ".docx" else
                                                 " (pdfminer's parsing of the pages is most of it)"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--pdf", action="store_true", help="also time a PDF of each seed (made by LibreOffice)")
    args = ap.parse_args()
    bench({n: fixture(n) for n in REGION}, args.rounds, ".docx")
    if args.pdf:
        from selfeval_xl.files.libreoffice import convert

        with tempfile.TemporaryDirectory() as tmp:
            made = convert([fixture(n) for n in REGION], Path(tmp), "pdf")
            bench(dict(zip(REGION, made)), max(1, args.rounds // 2), "PDF")


if __name__ == "__main__":
    main()
