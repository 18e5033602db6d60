"""Benchmark of casekit.events.hawkes.fit: exponential-kernel MLE on 1 M events, against tick.

Target (issue #10): at least as fast as tick's likelihood learner on the same events, with
parameters that agree within their standard errors. tick is a comparison only, never a
dependency; run this script in an environment that has it
(``pip install tick numpydoc six``; tick fails at run time without the last two). Without
tick the casekit part still runs.

    python benchmarks/bench_hawkes.py             # prints, writes results_hawkes.md
    python benchmarks/bench_hawkes.py --no-write  # prints only
    python benchmarks/bench_hawkes.py --events 100000

casekit estimates mu, n* and the decay omega (Wald intervals from the observed
information). tick's ``HawkesExpKern`` cannot estimate the decay: it gets casekit's
fitted omega (and, in a second row, the true one), with ``gofit="likelihood"``,
``solver="bfgs"``, a positive start and a negligible l2 penalty (``C=1e12``; tick's
BFGS accepts no other prox). Its kernel ``alpha beta exp(-beta t)``
makes its ``adjacency`` the branching ratio n*. Both get a warm-up fit on 2,000 events
before the timed ones; the compiled loop's one-off costs (compiling it on an empty numba
cache, loading it from the cache in a new process) are measured apart, in fresh processes.
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

from casekit.events.hawkes import fit  # noqa: E402
from casekit.events.simulate import simulate  # noqa: E402

TRUE = {"mu0": 50.0, "n": 0.7, "omega": 40.0}


def _tick():
    try:
        from tick.hawkes import HawkesExpKern
    except Exception as err:  # ImportError, or tick's own failures without numpydoc/six
        return None, f"{type(err).__name__}: {err}"
    return HawkesExpKern, None


def _timed(fn, repeats):
    out, value = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        out.append(time.perf_counter() - t0)
    return out, value


_FIRST_CALL = """
import sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from casekit.events.hawkes import fit
from casekit.events.simulate import simulate
t = simulate(2.0, 0.5, 3.0, end=500.0, seed=0)
t1 = time.perf_counter()
fit(t, start=0.0, end=500.0, intervals="wald", n_draws=20)
t2 = time.perf_counter()
fit(t, start=0.0, end=500.0, intervals="wald", n_draws=20)
print(t1 - t0, t2 - t1, time.perf_counter() - t2)
"""


def _first_calls() -> list[tuple[str, float, float, float]]:
    """The compiled loop's one-off costs, each in a fresh process with an empty numba
    cache directory: (label, imports + simulation, first fit, second fit) for a cold and
    then a warm cache."""
    import tempfile

    out = []
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        code = _FIRST_CALL.format(root=str(HERE.parent))
        for label in ("empty cache: compile", "filled cache: load"):
            run = subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            )
            out.append((label, *(float(x) for x in run.stdout.split())))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    end = args.events * (1 - TRUE["n"]) / TRUE["mu0"]
    t = simulate(TRUE["mu0"], TRUE["n"], TRUE["omega"], end=end, seed=1)
    print(f"{len(t):,} events over {end:,.0f} days")
    rows = []

    first = _first_calls()
    # warm-up on a small log: the compiled loop is loaded (or compiled) once per process
    fit(t[:2000], start=0.0, end=float(t[1999]), intervals="wald", n_draws=20)
    ts, f = _timed(lambda: fit(t, start=0.0, end=end, intervals="wald", n_draws=200), args.repeats)
    ck_med = statistics.median(ts)
    ci = f.conf_int()
    se = f.se
    rows.append(("casekit fit, exp kernel (mu, n*, omega; Wald intervals + final size)", ts))
    ts_p, _ = _timed(lambda: fit(t, start=0.0, end=end, n_draws=200), 1)
    rows.append(("casekit fit with profile intervals for n* (not the target)", ts_p))
    est = {k: float(f.params[k]) for k in TRUE}
    lines_par = [
        f"| casekit | {k} | {TRUE[k]:g} | {est[k]:.5g} | {se[k]:.3g} | "
        f"{ci.loc[k, 'lower']:.5g}–{ci.loc[k, 'upper']:.5g} |"
        for k in TRUE
    ]

    HawkesExpKern, why = _tick()
    ratio = None
    agree = None
    if HawkesExpKern is not None:
        HawkesExpKern(40.0, gofit="likelihood", solver="bfgs", penalty="l2", C=1e12).fit(
            [t[:2000]], start=np.array([40.0, 0.5])
        )  # warm-up, as for casekit
        for label, beta in (("casekit's omega", est["omega"]), ("true omega", TRUE["omega"])):

            def run(beta=beta):
                learner = HawkesExpKern(
                    beta, gofit="likelihood", solver="bfgs", penalty="l2", C=1e12, max_iter=200
                )
                learner.fit([t], start=np.array([est["mu0"] * 0.8, 0.5]))
                return learner

            tts, learner = _timed(run, args.repeats)
            rows.append((f"tick HawkesExpKern likelihood, decay fixed at {label}", tts))
            mu_t, n_t = float(learner.baseline[0]), float(learner.adjacency[0, 0])
            lines_par.append(f"| tick ({label}) | mu0 | {TRUE['mu0']:g} | {mu_t:.5g} | – | – |")
            lines_par.append(f"| tick ({label}) | n | {TRUE['n']:g} | {n_t:.5g} | – | – |")
            if label == "casekit's omega":
                ratio = statistics.median(tts) / ck_med
                agree = abs(mu_t - est["mu0"]) <= se["mu0"] and abs(n_t - est["n"]) <= se["n"]
    table = ["| benchmark | repeats | median (s) | min (s) | max (s) |", "|---|---|---|---|---|"]
    for name, ts in rows:
        table.append(
            f"| {name} | {len(ts)} | {statistics.median(ts):.2f} | {min(ts):.2f} | {max(ts):.2f} |"
        )
    summary = (
        f"tick / casekit time ratio: {ratio:.2f} (above 1: casekit is faster); "
        f"parameters within one casekit standard error: {'yes' if agree else 'NO'}"
        if ratio is not None
        else f"tick not available here ({why}); casekit part only"
    )
    import numba
    import numpy
    import scipy

    first_lines = [
        "One-off cost of the compiled loop (a fresh process, 2,500 events; the timed fits "
        "above follow a warm-up fit):",
        "",
        "| numba cache | import + simulate (s) | first fit (s) | second fit (s) |",
        "|---|---|---|---|",
        *(f"| {label} | {i:.2f} | {a:.2f} | {b:.3f} |" for label, i, a, b in first),
    ]

    text = "\n".join(
        [
            "# casekit.events.hawkes benchmark",
            "",
            f"Run: `python benchmarks/bench_hawkes.py` on {time.strftime('%Y-%m-%d %H:%M')} UTC, "
            f"{len(t):,} simulated events (mu0 = {TRUE['mu0']}, n* = {TRUE['n']}, "
            f"omega = {TRUE['omega']}). Target: at least as fast as tick's likelihood learner "
            "on the same events, parameters within their standard errors.",
            "",
            *table,
            "",
            summary,
            "",
            "| fit | parameter | true | estimate | se | 95 % interval |",
            "|---|---|---|---|---|---|",
            *lines_par,
            "",
            *first_lines,
            "",
            f"Python {platform.python_version()}, numpy {numpy.__version__}, "
            f"numba {numba.__version__}, "
            f"scipy {scipy.__version__}, nproc {os.cpu_count()}, load "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}.",
            "",
            "```",
            subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout[:900],
            "```",
        ]
    )
    print(text)
    if not args.no_write:
        (HERE / "results_hawkes.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
