"""Benchmark of casekit.response.delay_cost: 100 delays x 1,000 parameter draws.

Target (issue "cost of a slow response"): at most 2 s. Plain script, no pytest:

    python benchmarks/bench_response.py            # prints a table, writes results_response.md
    python benchmarks/bench_response.py --no-write # prints only

Each configuration is timed with ``time.perf_counter`` over ``--repeats`` runs after one
warm-up run; the median, minimum and maximum are reported. The reach fit itself is timed
separately (it is not part of delay_cost when a fit is passed in).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import casekit as ck  # noqa: E402
from casekit import response as rs  # noqa: E402

TARGET_S = 2.0


def _time(fn, repeats: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _machine() -> str:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        lscpu = "\n".join(lscpu.splitlines()[:15])
    except OSError:
        lscpu = "(lscpu not available)"
    return lscpu


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    import pandas as pd
    import plotly
    import scipy

    case = ck.load_case("synthetic-example")
    ubg = ck.load_case("united-breaks-guitars")
    grid = np.linspace(0, 30, 100)
    rows = []

    def add(name, fn, repeats=args.repeats, target=TARGET_S):
        ts = _time(fn, repeats)
        med = statistics.median(ts)
        rows.append(
            {
                "benchmark": name,
                "repeats": repeats,
                "median_s": med,
                "min_s": min(ts),
                "max_s": max(ts),
                "target_s": target,
                "ok": "yes" if target is None or med <= target else "NO",
            }
        )
        print(
            f"{name:<70} median {med * 1000:8.1f} ms  (min {min(ts) * 1000:.1f}, "
            f"max {max(ts) * 1000:.1f})"
        )

    fits = {
        c: ck.reach.fit(case, curve=c, metric="video_views")
        for c in ("logistic", "gompertz", "bass")
    }
    fit_u = ck.reach.fit(ubg)
    for c, f in fits.items():
        add(
            f"delay_cost flow, {c} (synthetic), 100 delays x 1,000 draws",
            lambda f=f: rs.delay_cost(f, delays=grid, n_draws=1000),
        )
    for c, f in fits.items():
        add(
            f"delay_cost rate, {c} (synthetic), 100 delays x 1,000 draws",
            lambda f=f: rs.delay_cost(f, delays=grid, n_draws=1000, model="rate"),
        )
    add(
        "delay_cost flow, logistic (united-breaks-guitars), 100 delays x 1,000 draws",
        lambda: rs.delay_cost(fit_u, delays=grid, n_draws=1000),
    )
    add(
        "delay_cost flow, logistic (synthetic), 100 x 1,000, actual_delay given",
        lambda: rs.delay_cost(fits["logistic"], delays=grid, n_draws=1000, actual_delay=4.0),
    )
    add(
        "reach_while_waiting, logistic (synthetic), 1,000 draws",
        lambda: rs.reach_while_waiting(fits["logistic"], n_draws=1000),
    )
    add(
        "delay_cost flow, bootstrap bands (1,000 refits), 100 delays (not the target)",
        lambda: rs.delay_cost(
            fits["logistic"],
            delays=grid,
            n_draws=1000,
            bands="bootstrap",
            seed=int(time.perf_counter_ns() % 1000),
        ),
        repeats=3,
        target=None,
    )
    add(
        "reach.fit logistic (synthetic), for reference",
        lambda: ck.reach.fit(case, metric="video_views"),
        target=None,
    )

    if not args.no_write:
        versions = (
            f"Python {platform.python_version()}, numpy {np.__version__}, pandas "
            f"{pd.__version__}, scipy {scipy.__version__}, plotly {plotly.__version__}, "
            f"casekit {ck.__version__}"
        )
        md = [
            "# casekit.response benchmark",
            "",
            "Run: `python benchmarks/bench_response.py` on "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
            "Median wall time over the repeats after one warm-up run (`time.perf_counter`). "
            "Target from the issue: a delay-cost curve over 100 delays with 1,000 bootstrap "
            "draws in at most 2 s. Bands use 1,000 parameter draws from the fit's asymptotic "
            "normal (default); the row with ReachFit bootstrap bands (1,000 curve refits) is "
            "shown for comparison, without a target.",
            "",
            "| benchmark | repeats | median (ms) | min (ms) | max (ms) | target (s) | ok |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            tgt = "—" if r["target_s"] is None else f"{r['target_s']:g}"
            ok = "—" if r["target_s"] is None else r["ok"]
            md.append(
                f"| {r['benchmark']} | {r['repeats']} | {r['median_s'] * 1000:.1f} | "
                f"{r['min_s'] * 1000:.1f} | {r['max_s'] * 1000:.1f} | {tgt} | {ok} |"
            )
        md += [
            "",
            "## Machine",
            "",
            f"nproc: {os.cpu_count()}",
            "",
            "```",
            _machine(),
            "```",
            "",
            "## Versions",
            "",
            versions,
            "",
        ]
        (HERE / "results_response.md").write_text("\n".join(md), encoding="utf-8")
        print(f"wrote {HERE / 'results_response.md'}")
    bad = [r for r in rows if r["ok"] == "NO"]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
