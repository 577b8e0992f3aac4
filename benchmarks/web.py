"""The workspace's two speeds the coordinator feels (#13):

    .venv/bin/python benchmarks/web.py --uploads 500 --board 2000 --workers 2

1. N workbooks uploaded in one request to the real server (`selfeval-xl serve`, over HTTP),
   against `selfeval-xl check` on the same files (the issue: within 1.5×);
2. the status board of M units (each with a checked upload and a decision on some), rendered
   by the app (median of 20 requests; the issue: under 300 ms).

Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import shutil
import signal
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from run import P, _fill_one, synthetic_unit  # noqa: E402

from selfeval_xl.jobs import batch  # noqa: E402
from selfeval_xl.cli import run_check  # noqa: E402
from selfeval_xl.web.store import StoredFile, Workspace  # noqa: E402

CLI = Path(sys.executable).parent / "selfeval-xl"


def upload_vs_cli(n: int, workers: int, root: Path) -> None:
    rng = random.Random(20240601)
    depts = [synthetic_unit(i, rng) for i in range(n)]
    folder = root / "filled"
    batch.run(functools.partial(_fill_one, out=str(folder)), [d.model_dump_json() for d in depts], workers, "fill")
    files = sorted(folder.glob("*.xlsx"))
    quiet = lambda *a, **k: None  # noqa: E731
    t = time.perf_counter()
    run_check([folder], root / "cli", workers=workers, echo=quiet, force=True)
    cli = time.perf_counter() - t

    ws_dir = root / "ws"
    ws = Workspace(ws_dir)
    cid = ws.create_campaign("bench", P.id, 2023)
    ws.add_units(cid, [{"code": d.code, "name": d.name} for d in depts])
    proc = subprocess.Popen([str(CLI), "serve", str(ws_dir), "--no-browser", "--workers", str(workers)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    url = proc.stdout.readline().split("：", 1)[1].strip()
    try:
        from tests.test_web_browser import _Session  # the standard-library client the kill test uses

        s = _Session(url)
        payload = [("files", f.name, f.read_bytes()) for f in files]
        t = time.perf_counter()
        r = s.post(f"c/{cid}/returns", {}, payload, timeout=3600)
        web = time.perf_counter() - t
        assert r.status == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    print(f"{n} workbooks: CLI check {cli:.1f} s ({cli / n * 1000:.1f} ms/unit); one upload to the workspace "
          f"{web:.1f} s ({web / n * 1000:.1f} ms/unit) = {web / cli:.2f}× the CLI", flush=True)


def board(m: int, root: Path) -> None:
    from selfeval_xl.web.app import create_app

    ws_dir = root / "board"
    ws = Workspace(ws_dir)
    cid = ws.create_campaign("bench", P.id, 2023)
    ws.add_units(cid, [{"code": f"43{i:07d}", "name": f"模拟单位{i}"} for i in range(m)])
    units = ws.units(cid)
    fake = StoredFile("0" * 64, 1)
    result = {"status": "有警告", "errors": 0, "warnings": 2, "recomputed_total": 95.5, "grade": "优",
              "flags": [{"code": "IND-201", "severity": "warning", "location": "附件2!H14", "message": "示例"}] * 3}
    with ws.tx():
        for u in units:
            ws.db.execute("INSERT INTO uploads (campaign_id, unit_id, sha256, original_name, size, uploaded_at, status,"
                          " errors, warnings, total, grade, result) VALUES (?,?,?,?,?,datetime('now'),?,?,?,?,?,?)",
                          (cid, u["id"], fake.sha256, "x.xlsx", 1, result["status"], 0, 2, 95.5, "优", json.dumps(result)))
    with ws.tx():
        for u in units[::3]:
            ws.db.execute("INSERT INTO decisions (unit_id, upload_id, decision, decided_at) VALUES "
                          "(?, (SELECT MAX(id) FROM uploads WHERE unit_id = ?), '确认', datetime('now'))", (u["id"], u["id"]))
    app = create_app(ws_dir)
    client = app.test_client()
    client.get(f"/c/{cid}")
    times = []
    for _ in range(20):
        t = time.perf_counter()
        r = client.get(f"/c/{cid}")
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200
    print(f"status board of {m} units: median {statistics.median(times):.0f} ms (min {min(times):.0f}, "
          f"max {max(times):.0f}), {len(r.data) // 1024} KiB", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--uploads", type=int, default=500)
    ap.add_argument("--board", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="selfeval-web-"))
    try:
        board(a.board, root)
        upload_vs_cli(a.uploads, a.workers, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
