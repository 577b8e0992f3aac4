"""Render workbooks or reports to PNG pages through LibreOffice (→ PDF) and pdftoppm.

    python tools/render.py FILE_OR_DIR... --out DIR [--dpi 60]

Used to look at what a clerk prints and what a coordinator files: every generated sheet
and report page should be checked as a picture after a layout change.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selfeval_xl.files.libreoffice import convert  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--dpi", type=int, default=60)
    a = ap.parse_args()
    files: list[Path] = []
    for p in a.inputs:
        if p.is_dir():
            files += sorted(q for q in p.rglob("*") if q.suffix.lower() in (".xlsx", ".docx") and not q.name.startswith("~$"))
        else:
            files.append(p)
    if not files:
        print("no .xlsx/.docx found", file=sys.stderr)
        return 2
    pdfs = convert(files, a.out, "pdf")
    for pdf in pdfs:
        subprocess.run(["pdftoppm", "-r", str(a.dpi), "-png", str(pdf), str(a.out / pdf.stem)], check=True)
        print(f"{pdf} -> {a.out / pdf.stem}-*.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
