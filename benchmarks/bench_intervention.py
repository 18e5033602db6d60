"""Benchmark of the response inside the reach model (issue #9), side by side in one run.

(a) a per-period fit (negative binomial, response inside, e's profile interval) on 60
    daily points, against a floor measured in the same run: one scipy optimisation
    (L-BFGS-B) of the same negative-binomial likelihood of the same intervention curve,
    with the same analytic gradient (casekit's own curve derivatives), from one start, no
    intervals;
(b) the counterfactual delay-cost curve, 100 delays x 1,000 draws;
(c) one cumulative logistic fit with asymptotic intervals (``conf_int``) on 50 points,
    against lmfit's ``Model.fit`` (which reports the covariance) and scipy's
    ``curve_fit`` on the same data (lmfit is skipped when not installed:
    ``pip install lmfit``);
(d) with ``--coverage [N]``: the coverage of e's 95 % profile interval on N simulated
    data sets (default 300) at each of e = 0.5, 0.3, 0.6 and -0.3, with its Monte-Carlo
    standard error (slow: about N x 4 x 0.1 s). The test suite runs a short version.

Run: ``python benchmarks/bench_intervention.py [--coverage [N]]``. Prints medians of
wall-clock time and of process CPU time (steadier on a shared machine), the contenders run
in turn round after round, ratios to the floors measured in the same run, and the load
average. BLAS runs on one thread for all of them.
"""

from __future__ import annotations

import argparse
import math
import os
import time

# one BLAS thread for every contender: on a small problem OpenBLAS threads only spin,
# and their spinning is counted as CPU time of whatever runs next
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import optimize, special  # noqa: E402

import casekit as ck  # noqa: E402
from casekit.reach._count_solver import _Counts  # noqa: E402
from casekit.reach._derivatives import curve_jac  # noqa: E402
from casekit.reach._solver import _starts  # noqa: E402
from casekit.reach.intervention import intervention  # noqa: E402

TRUE = (20000.0, 0.7, 7.0, 0.05)  # K, r, t0, delta of the simulated stories


def _median(fn, repeats=7):
    """(median wall-clock, median CPU) seconds of fn over repeats, after one warm-up."""
    return _interleaved([fn], repeats)[0]


def _interleaved(fns, repeats):
    """(median wall-clock, median CPU) seconds of each function, run in turn round after
    round so that the machine's load falls alike on all of them (one warm-up round)."""
    for fn in fns:
        fn()
    wall = [[] for _ in fns]
    cpu = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[i].append(time.perf_counter() - t0)
            cpu[i].append(time.process_time() - c0)
    return [(float(np.median(w)), float(np.median(c))) for w, c in zip(wall, cpu)]


def simulate(rng, e=0.5, n=40, phi=30.0, t_r=8.0):
    """Daily counts of a logistic story whose response at day ``t_r`` has effect ``e``
    (negative binomial noise, dispersion ``phi``)."""
    spec = intervention("logistic", [t_r])
    b = np.arange(1.0, n + 1)
    mu = spec(b, *TRUE, e) - spec(b - 1, *TRUE, e)
    y = rng.negative_binomial(phi, phi / (phi + mu)).astype(float)
    return pd.DataFrame({"t": b - 1, "value": y, "period_days": 1.0})


def floor_fit(spec, a, b, y):
    """One L-BFGS-B maximisation of the NB likelihood, analytic gradient, one start."""
    cp = _Counts(spec, a, b, y, np.ones_like(y), "nb")
    sv = np.array([y.sum() if n in spec.scale_params else 1.0 for n in spec.param_names])
    start = np.asarray(_starts(spec, b, np.cumsum(y), None, 1, 0)[0]) / sv
    m = float(y.mean())
    x0 = np.append(start, math.log(max(m**2 / max(float(y.var()) - m, 1e-3 * m), 1e-3)))
    bounds = [(lo / s, hi / s) for (lo, hi), s in zip(spec.bounds, sv)] + [(-8.0, 25.0)]
    bounds = [
        (lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None) for lo, hi in bounds
    ]

    def nll(x):
        th, lphi = x[:-1] * sv, x[-1]
        mu, J = cp.mu_jac(th)
        if not np.all(np.isfinite(mu)) or np.any(mu <= 0):
            return 1e300, np.zeros_like(x)
        phi = math.exp(lphi)
        V = mu + mu**2 / phi
        g = J.T @ ((y - mu) / V) * sv
        pm = phi + mu
        gphi = np.sum(
            special.digamma(y + phi) - special.digamma(phi) + np.log(phi / pm) + 1 - (y + phi) / pm
        )
        return -cp.loglik(mu, lphi), -np.append(g, gphi * phi)

    with np.errstate(all="ignore"):
        return optimize.minimize(nll, x0, jac=True, method="L-BFGS-B", bounds=bounds)


def bench_a(repeats):
    df = simulate(np.random.default_rng(0), n=60)
    spec = intervention("logistic", [8.0])
    a = df["t"].to_numpy(float)
    b, y = a + 1, df["value"].to_numpy(float)
    assert curve_jac(spec, np.concatenate([a, b]), np.array([*TRUE, 0.5])) is not None
    fns = [lambda: floor_fit(spec, a, b, y)]
    fns += [
        lambda loss=loss: ck.reach.fit(df, "logistic", response=[8.0], loss=loss)
        for loss in ("nb", "auto")
    ]
    fl, nb, auto = _interleaved(fns, repeats)
    rows = [
        ("(a) floor: one L-BFGS-B of the same NB likelihood, analytic gradient", fl, None),
        ("(a) per-period fit + e profile interval, 60 days, loss=nb", nb, 0.050),
        ("(a) per-period fit + e profile interval, 60 days, loss=auto", auto, 0.050),
    ]
    return rows, fl


def bench_b():
    case = ck.load_case("synthetic-example")
    fit = ck.reach.fit(case, "logistic", metric="video_views")
    grid = np.linspace(0.0, 30.0, 100)
    got = _median(lambda: ck.response.delay_cost(fit, delays=grid, n_draws=1000), 3)
    return [("(b) counterfactual delay_cost, 100 delays x 1,000 draws", got, 1.0)]


def data50(seed=1):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0.2, 20.0, 50))
    y = 120000.0 / (1 + np.exp(-0.9 * (t - 3.0))) * np.exp(rng.normal(0.0, 0.02, 50))
    return t, y


def bench_c(repeats):
    t, v = data50()
    p0 = [1.1 * v.max(), 0.5, float(np.median(t))]

    def logistic(t, K, r, t0):
        return K / (1 + np.exp(-r * (t - t0)))

    fns = [
        lambda: ck.reach.fit(v, "logistic", t=t).conf_int(),
        lambda: optimize.curve_fit(logistic, t, v, p0=p0),
    ]
    try:
        import lmfit
    except ImportError:
        lmfit = None
    if lmfit is not None:
        model = lmfit.Model(logistic)
        fns.append(lambda: model.fit(v, t=t, K=p0[0], r=p0[1], t0=p0[2]))
    got = _interleaved(fns, repeats)
    ours, cf = got[0], got[1]
    lm = got[2] if lmfit is not None else None
    rows = [
        ("(c) cumulative logistic fit + asymptotic intervals, 50 points (casekit)", ours, None),
        ("(c) scipy curve_fit, same data and curve (covariance, no intervals)", cf, None),
    ]
    if lm is not None:
        rows.append(("(c) lmfit Model.fit, same data and curve (covariance)", lm, None))
    return rows, ours, lm, cf


def coverage(n_rep, seed=2024):
    """Coverage of e's 95 % profile interval, with its Monte-Carlo standard error."""
    print(f"coverage of e's 95 % profile interval, {n_rep} data sets per value of e:")
    for e in (0.5, 0.3, 0.6, -0.3):
        rng = np.random.default_rng(seed)
        hits = fails = 0
        for _ in range(n_rep):
            df = simulate(rng, e=e)
            try:
                fit = ck.reach.fit(df, "logistic", response=[8.0], loss="nb")
            except ck.FitError:
                fails += 1
                continue
            r = fit.response_effect.iloc[0]
            hits += bool(r["lower"] <= e <= r["upper"])
        n = n_rep - fails
        p = hits / n
        se = math.sqrt(p * (1 - p) / n)
        print(
            f"  e = {e:5.2f}: {hits}/{n} = {p:.1%} (Monte-Carlo s.e. {se:.1%}); "
            f"{fails} fits refused (FitError)"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--coverage", nargs="?", const=300, type=int, default=None)
    args = ap.parse_args()
    rows_a, fl = bench_a(args.repeats)
    rows_b = bench_b()
    rows_c, ours, lm, cf = bench_c(3 * args.repeats)
    print(f"load average: {os.getloadavg()}  ({os.cpu_count()} cores)")
    print(f"{'wall ms':>9} {'cpu ms':>8} {'ratio':>8}")
    for name, (wall, cpu), target in rows_a + rows_b:
        tgt = "" if target is None else f"  target {target * 1e3:.0f} ms"
        ratio = f"{wall / fl[0]:6.1f}x" if name.startswith("(a)") else ""
        print(f"{wall * 1e3:9.1f} {cpu * 1e3:8.1f} {ratio:>8}  {name}{tgt}")
    for name, (wall, cpu), _ in rows_c:
        ref = lm if lm is not None else cf
        print(f"{wall * 1e3:9.2f} {cpu * 1e3:8.2f} {wall / ref[0]:7.2f}x  {name}")
    ref = lm if lm is not None else cf
    print(
        "ratios: (a) to the L-BFGS-B floor, (c) to lmfit (or curve_fit without lmfit), "
        f"on wall-clock medians; on CPU medians: (a) nb {rows_a[1][1][1] / fl[1]:.1f}x, "
        f"(c) {ours[1] / ref[1]:.2f}x"
    )
    if args.coverage:
        coverage(args.coverage)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
