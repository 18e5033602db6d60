"""Benchmark of casekit.forecast.replay: rolling-origin replays over 48 origins.

Target (issue #10, early warning): the rolling replay over 48 hourly origins on 100 k
events in under 10 s (the event-log branch, a Hawkes fit at every origin). The
aggregated-series branch (a growth curve at every origin) has no target in the issue;
it is measured over 48 origins too. Plain script, no pytest:

    python benchmarks/bench_replay.py            # prints a table, writes results_replay.md
    python benchmarks/bench_replay.py --no-write # prints only

Each configuration is timed with ``time.perf_counter`` over ``--repeats`` runs after one
warm-up run (the slow event-log rows use ``--slow-repeats``); the median, minimum and
maximum are reported. The 100 k events are simulated with a fixed seed
(exponential-kernel Hawkes, mu = 25,000 per day, n* = 0.5, decay 24 per day, two days).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import casekit as ck  # noqa: E402

TARGET_EVENTS_S = 10.0


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
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        return "\n".join(out.splitlines()[:15])
    except OSError:
        return "(lscpu not available)"


def _target(t: float | None) -> str:
    return "—" if t is None else f"{t:g}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--slow-repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", RuntimeWarning)

    import pandas as pd
    import scipy

    from casekit.events import hawkes
    from casekit.events.simulate import simulate

    rows = []

    def add(name, fn, repeats, target=None):
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
                "ok": "—" if target is None else ("yes" if med <= target else "NO"),
            }
        )
        print(f"{name:<78} median {med:8.3f} s  (min {min(ts):.3f}, max {max(ts):.3f})")

    times = simulate(mu=25_000.0, n_star=0.5, omega=24.0, end=2.0, seed=1)
    hourly = list(np.arange(1, 49) / 24)
    n_ev = len(times)
    print(f"{n_ev:,} simulated events over 2 days")
    add(
        f"events: 48 hourly origins, {n_ev:,} events, Hawkes exp, 1,000 draws (target)",
        lambda: ck.forecast.replay(times, 1e5, step=hourly, rules=()),
        args.slow_repeats,
        TARGET_EVENTS_S,
    )
    add(
        f"events: 48 hourly origins, {n_ev:,} events, Hawkes exp, 200 draws",
        lambda: ck.forecast.replay(times, 1e5, step=hourly, rules=(), n_draws=200),
        args.slow_repeats,
        TARGET_EVENTS_S,
    )
    add(
        f"events: one Hawkes fit on all {n_ev:,} events (wald, 1,000 draws), for reference",
        lambda: hawkes.fit(times, end=2.0, intervals="wald"),
        args.slow_repeats,
    )
    add(
        "events: one origin (all events: one Hawkes fit) plus the spike rules on hourly counts",
        lambda: ck.forecast.replay(times, 1e5, step=[2.0], rules=ck.response.DEFAULT_RULES),
        args.slow_repeats,
    )

    # the same storm aggregated: cumulative events per hour, one growth curve per origin
    edges = np.arange(0, 49) / 24
    cum = pd.Series(np.searchsorted(times, edges[1:], side="right").astype(float),
                    index=edges[1:], name="events")  # fmt: skip
    add(
        "series: 48 hourly origins, hourly running total of the same events, logistic",
        lambda: ck.forecast.replay(cum, 1e5, step=hourly, rules=()),
        args.repeats,
    )
    syn = ck.load_case("synthetic-example")
    add(
        "series: 48 origins (every 10 h) on synthetic video_views, logistic, with rules",
        lambda: ck.forecast.replay(syn, 1e5, metric="video_views", step="10h"),
        args.repeats,
    )
    wh = ck.load_case("werder-bremen-wiesenhof")
    add(
        "series: 48 hourly origins on Wiesenhof members (days 0-2), logistic, with rules",
        lambda: ck.forecast.replay(wh, 1e4, step="1h", start=1 / 24, end=2.0),
        args.repeats,
    )

    header = (
        "| benchmark | repeats | median (s) | min (s) | max (s) | target (s) | ok |\n"
        "|---|---|---|---|---|---|---|\n"
    )
    table = header + "".join(
        f"| {r['benchmark']} | {r['repeats']} | {r['median_s']:.3f} | {r['min_s']:.3f} | "
        f"{r['max_s']:.3f} | {_target(r['target_s'])}"
        f" | {r['ok']} |\n"
        for r in rows
    )
    if args.no_write:
        return 0
    load = os.getloadavg()
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    text = (
        "# casekit.forecast benchmark\n\n"
        f"Run: `python benchmarks/bench_replay.py` on {stamp}.\n"
        "Median wall time over the repeats after one warm-up run (`time.perf_counter`). "
        "Target from issue #10: the rolling replay over 48 hourly origins on 100 k events "
        "under 10 s (event-log branch). The series rows have no target.\n\n"
        f"{table}\n"
        "## Machine\n\n"
        f"nproc: {os.cpu_count()}; load average at the end: "
        f"{load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}\n\n"
        f"```\n{_machine()}\n```\n\n"
        f"Python {platform.python_version()}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, pandas {pd.__version__}\n"
    )
    (HERE / "results_replay.md").write_text(text)
    print(f"wrote {HERE / 'results_replay.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
