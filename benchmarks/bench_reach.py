"""Benchmark casekit.reach against the issue's speed targets (a plain script, not a test).

    python benchmarks/bench_reach.py            # print the figures
    python benchmarks/bench_reach.py --write    # also write benchmarks/results_reach.md

Targets (issue "Reach over time"):
  1. one curve with asymptotic intervals on 50 points: median <= 20 ms
  2. 1,000 bootstrap replicates for prediction bands: median <= 1 s
  3. all curves for all bundled cases: <= 2 s
Timings are medians over repeats of time.perf_counter() intervals, after one warm-up run.
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

import casekit as ck
from casekit import reach

HERE = Path(__file__).resolve().parent


def timeit(fn, repeats):
    fn()  # warm-up
    out = []
    for i in range(repeats):
        t0 = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t0)
    return statistics.median(out), min(out), max(out)


def data50(curve="logistic", seed=1):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0.2, 20.0, 50))
    y = 120000.0 / (1 + np.exp(-0.9 * (t - 3.0))) * np.exp(rng.normal(0.0, 0.02, 50))
    return t, y


def bench_one_curve(repeats=50):
    t, y = data50()
    grid = np.linspace(0, 25, 200)
    rows = []
    for curve in reach.DEFAULT_CURVES:

        def run(i=0, curve=curve):
            res = reach.fit(y, curve, t=t)
            res.conf_int()
            res.predict(grid, interval="confidence")
            res.time_to_share(0.9)

        rows.append((curve, *timeit(run, repeats)))
    return rows


def bench_bootstrap(repeats=10):
    t, y = data50()
    res = reach.fit(y, "logistic", t=t)
    grid = np.linspace(0, 25, 200)

    def run(i=0):
        # a new seed each time: no cached replicates
        res.predict(grid, interval="prediction", bootstrap=1000, seed=1000 + i)

    return timeit(run, repeats)


def bundled_cases():
    cat = ck.list_cases()
    return [c for c in cat["id"] if c != "synthetic-example"]


def bench_all_cases(repeats=5):
    cases = [ck.load_case(c) for c in bundled_cases()]

    def main_metric(i=0):
        out = {}
        for case in cases:
            d = reach.describe(case)
            if not d.fittable:
                out[case.id] = d
                continue
            out[case.id] = reach.compare(case, metric=d.fittable[0])
        return out

    def every_metric(i=0):
        n = 0
        for case in cases:
            for m in reach.describe(case).fittable:
                reach.compare(case, metric=m)
                n += 1
        return n

    n_series = every_metric()
    return timeit(main_metric, repeats), timeit(every_metric, repeats), n_series, main_metric()


def bench_multiwave(repeats=3):
    case = ck.load_case("united-breaks-guitars")
    spec = reach.multiwave("logistic", 3, anchors=(None, "2009-08-18", None), case=case)

    def run(i=0):
        reach.fit(case, spec, metric="youtube_views_song1", loss="log")

    return timeit(run, repeats)


def _what(r):
    return f"compare: {len(r.fits)} curves" if hasattr(r, "fits") else "not fittable"


def machine():
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        lines = [
            ln
            for ln in lscpu.splitlines()
            if ln.split(":")[0].strip()
            in ("Architecture", "Model name", "CPU(s)", "Thread(s) per core")
        ]
    except OSError:
        lines = []
    import pandas
    import plotly
    import scipy

    return lines, {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pandas.__version__,
        "plotly": plotly.__version__,
        "casekit": ck.__version__,
        "platform": platform.platform(),
        "nproc": os.cpu_count(),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write benchmarks/results_reach.md")
    args = ap.parse_args(argv)
    one = bench_one_curve()
    boot = bench_bootstrap()
    (main_t, every_t, n_series, results) = bench_all_cases()
    mw = bench_multiwave()
    lines, versions = machine()
    ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
    out = [
        "# casekit.reach benchmark",
        "",
        "Run: `python benchmarks/bench_reach.py --write` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "Medians of `time.perf_counter()` intervals after one warm-up run (min / max in brackets).",
        "",
        "| target | measured (median) | limit | ok |",
        "|---|---|---|---|",
    ]
    worst = max(r[1] for r in one)
    out.append(
        f"| one curve + asymptotic intervals, 50 points (slowest of the 5 curves) | "
        f"{ms(worst)} | 20 ms | {'yes' if worst <= 0.02 else 'NO'} |"
    )
    out.append(
        f"| 1,000 bootstrap replicates, prediction band on 200 times | {ms(boot[0])} "
        f"[{ms(boot[1])} / {ms(boot[2])}] | 1 s | {'yes' if boot[0] <= 1 else 'NO'} |"
    )
    out.append(
        f"| all 5 curves for all bundled cases (main metric each; Range Rover: describe) "
        f"| {ms(main_t[0])} [{ms(main_t[1])} / {ms(main_t[2])}] | 2 s | "
        f"{'yes' if main_t[0] <= 2 else 'NO'} |"
    )
    out.append(
        f"| all 5 curves for every fittable metric of the bundled cases ({n_series} series) "
        f"| {ms(every_t[0])} [{ms(every_t[1])} / {ms(every_t[2])}] | (2 s) | "
        f"{'yes' if every_t[0] <= 2 else 'NO'} |"
    )
    out += [
        "",
        "One curve (fit from 4 starts + conf_int + 200-point confidence band + t90), "
        "50 points, 50 repeats:",
        "",
        "| curve | median | min | max |",
        "|---|---|---|---|",
    ]
    out += [f"| {c} | {ms(m)} | {ms(lo)} | {ms(hi)} |" for c, m, lo, hi in one]
    out += [
        "",
        f"Not a target, for reference: UBG 3-wave logistic anchored at Song 2 "
        f"(9 parameters, 10 starts, log loss): {ms(mw[0])} median of 3.",
        "",
        "Cases covered: " + ", ".join(f"{cid} ({_what(r)})" for cid, r in results.items()),
        "",
        "## Machine",
        "",
        "```",
        *lines,
        f"nproc: {versions['nproc']}",
        f"platform: {versions['platform']}",
        "```",
        "",
        "Versions: "
        + ", ".join(f"{k} {v}" for k, v in versions.items() if k not in ("platform", "nproc")),
        "",
        f"Load average when the run ended: {', '.join(f'{x:.2f}' for x in os.getloadavg())} "
        "(the machine is shared with other jobs; medians vary by about +-30 % between "
        "runs, maxima more).",
    ]
    text = "\n".join(out) + "\n"
    print(text)
    if args.write:
        (HERE / "results_reach.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
