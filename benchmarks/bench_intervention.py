"""Benchmark of the response inside the reach model (issue #9), side by side in one run.

(a) a per-period fit (negative binomial, response inside, e's profile interval) on 60
    daily points, against a floor measured in the same run: one
    ``scipy.optimize.least_squares`` on the same intervention curve (log increments,
    no intervals);
(b) the counterfactual delay-cost curve, 100 delays x 1,000 draws;
(c) one cumulative logistic fit with asymptotic intervals, against lmfit on the same
    data (skipped when lmfit is not installed: ``pip install lmfit``).

Run: ``python benchmarks/bench_intervention.py``. Prints medians, ratios and the load.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
from scipy import optimize

import casekit as ck
from casekit.reach.intervention import intervention


def _median(fn, repeats=7):
    fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return float(np.median(out))


def _counts(seed=0, n=60):
    rng = np.random.default_rng(seed)
    spec = intervention("logistic", [8.0])
    b = np.arange(1.0, n + 1)
    mu = spec(b, 20000.0, 0.7, 7.0, 0.05, 0.5) - spec(b - 1, 20000.0, 0.7, 7.0, 0.05, 0.5)
    y = rng.negative_binomial(30.0, 30.0 / (30.0 + mu)).astype(float)
    return pd.DataFrame({"t": b - 1, "value": y, "period_days": 1.0}), spec


def main() -> int:
    df, spec = _counts()
    a = df["t"].to_numpy(float)
    b = a + 1
    y = df["value"].to_numpy(float)

    def floor():
        def r(p):
            mu = spec(b, *p) - spec(a, *p)
            return np.log(np.maximum(y, 0.5)) - np.log(np.maximum(mu, 1e-9))

        optimize.least_squares(
            r,
            [1.1 * y.sum(), 0.5, 8.0, 0.1, 0.3],
            bounds=([0, 0, -50, 0, -3], [np.inf, 10, 100, 10, 0.99]),
        )

    rows = []
    for loss in ("nb", "auto"):
        rows.append(
            (
                f"(a) per-period fit, response inside + e profile interval, 60 days, loss={loss}",
                _median(lambda loss=loss: ck.reach.fit(df, "logistic", response=[8.0], loss=loss)),
                0.050,
            )
        )
    fl = _median(floor)
    rows.append(("(a) floor: one scipy least_squares on the same curve, no intervals", fl, None))
    case = ck.load_case("synthetic-example")
    fit = ck.reach.fit(case, "logistic", metric="video_views")
    grid = np.linspace(0.0, 30.0, 100)
    rows.append(
        (
            "(b) counterfactual delay_cost, 100 delays x 1,000 draws",
            _median(lambda: ck.response.delay_cost(fit, delays=grid, n_draws=1000), 3),
            1.0,
        )
    )
    s = case.series("video_views")
    t, v = s["t"].to_numpy(float), s["value"].to_numpy(float)
    ours = _median(lambda: ck.reach.fit(v, "logistic", t=t).conf_int())
    rows.append(("(c) cumulative logistic fit + asymptotic intervals (casekit)", ours, None))
    try:
        import lmfit
    except ImportError:
        lmfit = None
    if lmfit is not None:
        model = lmfit.Model(lambda t, K, r, t0: K / (1 + np.exp(-r * (t - t0))))

        def lm():
            model.fit(v, t=t, K=1.1 * v.max(), r=0.5, t0=float(np.median(t)))

        rows.append(("(c) the same with lmfit (Model.fit, covariance)", _median(lm), None))
    print(f"load average: {os.getloadavg()}")
    for name, sec, target in rows:
        tgt = "" if target is None else f"  target {target * 1e3:.0f} ms"
        print(f"{sec * 1e3:9.1f} ms  {sec / fl:7.1f}x floor  {name}{tgt}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
