"""Intervals of a :class:`~casekit.reach.ReachFit`: profile-t limits, the residual
bootstrap, bands around the curve, and derived quantities (saturation, peak time,
times to a share of the saturation).

The functions take the fit as their first argument; :class:`ReachFit`'s methods
(``conf_int``, ``predict``, ``peak_time``, ``time_to_share``, ``milestones``) call them.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pandas as pd
from scipy import optimize, special

from casekit.exceptions import FitError, ParameterError
from casekit.reach._solver import _batch_fit, _grad, _model_jac
from casekit.reach.curves import _TINY, _numeric_share_time


@functools.lru_cache(maxsize=256)
def _t_quantile(q: float, df: int) -> float:
    # the Student t quantile (same values as scipy.stats.t.ppf, without importing scipy.stats)
    return float(special.stdtrit(df, q))


def t_quantile(fit, alpha: float) -> float:
    """The two-sided t(n - p) quantile of level ``1 - alpha``."""
    return _t_quantile(1 - alpha / 2, max(fit.df_resid, 1))


def check_n_boot(n_boot) -> int:
    """``n_boot`` as an int of at least 10, or ParameterError."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 10:
        raise ParameterError(
            f"the number of bootstrap replicates must be a whole number, at "
            f"least 10 (1000 is usual), not {n_boot!r}"
        )
    return int(n_boot)


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be a whole number >= 0, not {seed!r}")
    return int(seed)


def profile_limits(fit, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Profile-t interval limits of every parameter (``inf`` where a side never reaches
    the t quantile)."""
    if fit._robust:
        raise FitError(
            "profile intervals need a least-squares loss ('ols' or 'log'); "
            "use method='bootstrap' for a robust fit"
        )
    prob = fit._problem()
    p = fit.spec.k
    theta_hat = np.array(fit.theta)
    s_hat = float(np.sum(prob.resid(theta_hat) ** 2))
    s2 = s_hat / fit.df_resid
    q = t_quantile(fit, alpha)
    se = fit.bse.to_numpy()
    lo_out, hi_out = np.full(p, -np.inf), np.full(p, np.inf)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        state = {"x": theta_hat[others] / prob.scale_vec[others]}

        def S(v, j=j, others=others, state=state):
            def rfun(u):
                th = np.empty(p)
                th[j] = v
                th[others] = u * prob.scale_vec[others]
                return prob.resid(th) / (prob.yscale if not prob.log else 1.0)

            if not others:
                return float(np.sum(rfun(np.array([])) ** 2)) * (
                    1.0 if prob.log else prob.yscale**2
                )
            lo_i = prob.lo[others] / prob.scale_vec[others]
            hi_i = prob.hi[others] / prob.scale_vec[others]
            x0 = np.clip(state["x"], lo_i + 1e-12, hi_i - 1e-12)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = optimize.least_squares(
                    rfun,
                    x0,
                    bounds=(lo_i, hi_i),
                    method="trf",
                    x_scale="jac",
                    ftol=1e-12,
                    xtol=1e-12,
                    gtol=1e-12,
                )
            state["x"] = res.x
            return float(np.sum(res.fun**2)) * (1.0 if prob.log else prob.yscale**2)

        def tau(v, j=j):
            d = S(v) - s_hat
            return math.copysign(math.sqrt(max(d, 0.0) / s2), v - theta_hat[j])

        for direction in (-1, 1):
            state["x"] = theta_hat[others] / prob.scale_vec[others]
            step = se[j] if se[j] > 0 else 1e-3 * max(abs(theta_hat[j]), 1.0)
            prev_v = theta_hat[j]
            found = None
            bound = prob.lo[j] if direction < 0 else prob.hi[j]
            mult = 0.5
            for _ in range(40):
                v = theta_hat[j] + direction * step * mult
                if (direction < 0 and v <= bound) or (direction > 0 and v >= bound):
                    v = bound + (-direction) * 1e-9 * max(1.0, abs(bound))
                    tv = tau(v)
                    if abs(tv) >= q:
                        found = (prev_v, v)
                    break
                tv = tau(v)
                if abs(tv) >= q:
                    found = (prev_v, v)
                    break
                prev_v = v
                mult *= 1.6
            if found is None:
                continue
            a, b = found
            state["x"] = theta_hat[others] / prob.scale_vec[others]
            try:
                root = optimize.brentq(
                    lambda v: abs(tau(v)) - q, a, b, xtol=1e-12, rtol=1e-10, maxiter=200
                )
            except ValueError:
                continue
            if direction < 0:
                lo_out[j] = root
            else:
                hi_out[j] = root
    return lo_out, hi_out


def bootstrap_replicates(fit, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Residual-bootstrap parameter replicates (n_ok, p) and the centred, rescaled
    residuals they were drawn from."""
    prob = fit._problem()
    n, p = fit.nobs, fit.spec.k
    rng = np.random.default_rng(seed)
    fv = np.maximum(fit.fitted, _TINY) if fit._log else fit.fitted
    zhat = np.log(fv) if fit._log else fv
    e = fit.residuals.to_numpy() * prob.sw * math.sqrt(n / max(n - p, 1))
    e = e - e.mean()
    idx = rng.integers(0, n, size=(int(n_boot), n))
    Z = zhat[None, :] + e[idx] / prob.sw[None, :]
    fs = None
    if fit._robust:
        fs = fit.f_scale / (1.0 if fit._log else prob.yscale)
    th, ok = _batch_fit(prob, Z, np.array(fit.theta), f_scale=fs)
    th = th[ok]
    if th.shape[0] < max(10, 0.5 * n_boot):
        raise FitError(
            f"the bootstrap failed: only {th.shape[0]} of {n_boot} replicates "
            f"converged; the asymptotic intervals are all there is"
        )
    th.flags.writeable = False
    return th, e


def band(
    fit,
    days: np.ndarray,
    yhat: np.ndarray,
    interval: str | None,
    alpha: float,
    bootstrap: int | None,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper band around the curve at ``days`` (see :meth:`ReachFit.predict`)."""
    if interval is None:
        return yhat.copy(), yhat.copy()
    if interval not in ("confidence", "prediction"):
        raise ParameterError(
            f"interval must be 'confidence', 'prediction' or None, not {interval!r}"
        )
    if bootstrap:
        n_boot = check_n_boot(bootstrap)
        th = fit._bootstrap(n_boot, seed)
        P = [th[:, [j]] for j in range(fit.spec.k)]
        with np.errstate(all="ignore"):
            F = fit.spec.f(days[None, :], *P)
        if fit._log:
            F = np.log(np.maximum(F, _TINY))
        if interval == "prediction":
            e = fit._cache[("boot_e", n_boot, seed)]
            rng = np.random.default_rng(seed + 1)
            F = F + rng.choice(e, size=F.shape)
        lo = np.quantile(F, alpha / 2, axis=0)
        hi = np.quantile(F, 1 - alpha / 2, axis=0)
        if fit._log:
            lo, hi = np.exp(lo), np.exp(hi)
        return lo, hi
    G = _model_jac(fit.spec, days, fit.theta)
    zhat = yhat
    if fit._log:
        zhat = np.log(np.maximum(yhat, _TINY))
        G = G / np.maximum(yhat, _TINY)[:, None]
    var = np.einsum("ij,jk,ik->i", G, fit.cov_matrix, G)
    if interval == "prediction":
        var = var + fit.sigma**2
    half = t_quantile(fit, alpha) * np.sqrt(np.maximum(var, 0.0))
    lo, hi = zhat - half, zhat + half
    if fit._log:
        lo, hi = np.exp(lo), np.exp(hi)
    return lo, hi


def derived(fit, fun_vec, alpha, method, n_boot, seed):
    """Estimate, se and interval of a derived scalar g(theta)."""
    if method not in ("delta", "bootstrap"):
        raise ParameterError(f"method must be 'delta' or 'bootstrap', not {method!r}")
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        # a rate at its bound 0 puts a milestone at infinity: reported as inf, not a warning
        est = float(fun_vec(*fit.theta))
    if method == "delta":
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            g = _grad(lambda th: fun_vec(*th), fit.theta, fit.spec)
            se = float(np.sqrt(max(g @ fit.cov_matrix @ g, 0.0)))
        q = t_quantile(fit, alpha)
        return est, se, est - q * se, est + q * se
    th = fit._bootstrap(check_n_boot(n_boot), seed)
    with np.errstate(all="ignore"):
        vals = np.asarray(fun_vec(*[th[:, j] for j in range(fit.spec.k)]), dtype=float)
    vals = np.broadcast_to(vals, (th.shape[0],))
    vals = vals[np.isfinite(vals)]
    return (
        est,
        float(np.std(vals, ddof=1)),
        float(np.quantile(vals, alpha / 2)),
        float(np.quantile(vals, 1 - alpha / 2)),
    )


def share_fun(spec, share: float):
    """``g(*theta)``: the time at which the curve reaches ``share`` of its saturation."""
    if spec.share_time is not None:
        return lambda *th: spec.share_time(share, *th)
    return lambda *th: _numeric_share_time(spec, share, th)


def check_share(share) -> float:
    if (
        isinstance(share, bool)
        or not isinstance(share, (int, float, np.integer, np.floating))
        or not 0 < share < 1
    ):
        raise ParameterError(f"share must be between 0 and 1, e.g. 0.9 for 90 %, not {share!r}")
    return float(share)


def milestone(fit, name, fun, alpha, method, n_boot, seed, dated=True) -> pd.Series:
    """One derived quantity as ``estimate, std_err, lower, upper, time``."""
    est, se, lo, hi = derived(fit, fun, alpha, method, n_boot, seed)
    when = (
        (fit.origin + pd.Timedelta(days=est)).round("s")
        if (dated and fit.origin is not None and np.isfinite(est) and abs(est) < 1e5)
        else pd.NaT
    )
    return pd.Series(
        {"estimate": est, "std_err": se, "lower": lo, "upper": hi, "time": when},
        name=name,
        dtype=object,
    )


def milestones(fit, shares, alpha, method, n_boot, seed) -> pd.DataFrame:
    """Saturation, peak time and times to ``shares`` of the saturation, one row each."""
    rows = [
        milestone(fit, "saturation", fit.spec.saturation, alpha, method, n_boot, seed, dated=False),
        milestone(fit, "peak_time", fit.spec.peak_time, alpha, method, n_boot, seed),
    ]
    for s in shares:
        s = check_share(s)
        rows.append(
            milestone(fit, f"t{s * 100:g}", share_fun(fit.spec, s), alpha, method, n_boot, seed)
        )
    df = pd.DataFrame(rows)
    for c in ("estimate", "std_err", "lower", "upper"):
        df[c] = df[c].astype(float)
    df["time"] = pd.to_datetime(df["time"])
    return df
