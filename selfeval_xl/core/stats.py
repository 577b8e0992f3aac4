"""The picture a coordinator would otherwise draw by hand, from checked results: grade
distribution, total-score histogram, execution rates, the most frequent flags. One function for
the workspace's dashboard and the 统计图 sheet of 汇总表.xlsx, so both show the same counts."""

from __future__ import annotations

from collections import Counter
from typing import Any

RATE_BUCKETS = ("<80%", "80–90%", "90–100%", "100%", ">100%")


def campaign_stats(results: list[dict[str, Any]]) -> list[tuple[str, list[tuple[str, int]]]]:
    checked = [r for r in results if r.get("status") not in ("无法读取", "未匹配", None) and "flags" in r]
    grades = Counter(r.get("grade") or "无法计算" for r in checked)
    hist = {f"{lo}–{lo + 9}" if lo < 90 else "90–100": 0 for lo in range(0, 100, 10)}
    labels = list(hist)
    rates = {b: 0 for b in RATE_BUCKETS}
    codes: Counter = Counter()
    for r in checked:
        t = r.get("recomputed_total")
        if isinstance(t, (int, float)):
            hist[labels[min(max(int(t // 10), 0), 9)]] += 1
        rate = r.get("rate")
        if isinstance(rate, (int, float)):
            rates[RATE_BUCKETS[0 if rate < .8 else 1 if rate < .9 else 2 if rate < 1 else 3 if rate == 1 else 4]] += 1
        codes.update(f["code"] for f in r["flags"] if f.get("severity") in ("error", "warning"))
    order = {"优": 0, "良": 1, "中": 2, "差": 3}
    return [
        ("评价等次分布", sorted(grades.items(), key=lambda kv: (order.get(kv[0], 9), kv[0]))),
        ("总分分布", list(hist.items())),
        ("预算执行率", list(rates.items())),
        ("最常见的问题（错误和警告）", codes.most_common(10)),
    ]
