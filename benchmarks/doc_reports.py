"""What a unit's .doc report costs in the workspace's 回收 (#20): one workbook and one .doc (made
from a seed report by LibreOffice) uploaded and checked as an upload job does, with the .doc's
conversion kept by hash (LibreOffice once: cover, then check, read from the kept .docx) and
without (twice). Real LibreOffice; figures and the number of LibreOffice runs are printed,
never asserted.

    .venv/bin/python benchmarks/doc_reports.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import selfeval_xl.files.libreoffice as lo  # noqa: E402
from selfeval_xl.core.model import Department  # noqa: E402
from selfeval_xl.forms.regions import get_profile  # noqa: E402
from selfeval_xl.web import reports, work  # noqa: E402
from selfeval_xl.web.store import Workspace  # noqa: E402
from selfeval_xl.xlsx.write import write_workbook  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if not lo.soffice_path():
        print("LibreOffice (soffice) is not installed: nothing to measure")
        return 1
    root = Path(tempfile.mkdtemp(prefix="bench-doc-"))
    os.environ.setdefault("SELFEVAL_KEY_FILE", str(root / "signing.key"))
    os.environ.setdefault("SELFEVAL_CACHE_DIR", str(root / "cache"))
    try:
        src = root / "430600101_报告.docx"
        shutil.copyfile(ROOT / "tests" / "fixtures" / "reports" / "001.docx", src)
        (doc,), _ = lo.convert_each([src], root / "doc", "doc")
        dept = Department.model_validate_json((ROOT / "examples" / "data" / "001_岳阳市档案馆.json").read_text("utf-8"))
        book = write_workbook(dept, get_profile(dept.profile), root / "a.xlsx").read_bytes()
        calls = []
        real = lo.convert_each

        def counted(*a, **k):
            calls.append(1)
            return real(*a, **k)

        lo.convert_each = counted
        for n in range(args.rounds):
            for keep in (False, True):
                ws = Workspace(root / f"ws-{n}-{keep}")
                cid = ws.create_campaign("bench", dept.profile, 2023)
                ws.add_units(cid, [{"code": dept.code, "name": dept.name}])
                items = [(ws.store(iter([b]), 1 << 26).sha256, name, len(b))
                         for name, b in (("a.xlsx", book), (doc.name, doc.read_bytes()))]
                saved = reports.kept_conversion
                if not keep:
                    reports.kept_conversion = lambda *a: None
                calls.clear()
                t = time.monotonic()
                work.check_upload(ws, cid, items, workers=1)
                took = time.monotonic() - t
                reports.kept_conversion = saved
                print(f"{'kept (once)' if keep else 'not kept   '}: {took:5.2f} s, LibreOffice runs: {len(calls)}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
