"""Intervals of a :class:`~casekit.reach.ReachFit`'s parameters and curve: asymptotic
(Wald) limits that respect the parameters' bounds, profile-t limits, bands around the
curve, and the helpers the milestones use (:mod:`casekit.reach.milestones`; the
bootstrap is :mod:`casekit.reach.bootstrap`).

The functions take the fit as their first argument; :class:`ReachFit`'s methods
(``conf_int``, ``predict``) call them.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pandas as pd
from scipy import optimize, special

from casekit.exceptions import FitError, ParameterError
from casekit.reach._solver import _model_jac
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


class BoundScale:
    """The scale on which a bounded quantity is symmetric enough for an interval.

    Per element: ``log(v - lo)`` with only a lower bound (a positive quantity when
    ``lo = 0``), ``-log(hi - v)`` with only an upper bound, ``logit`` of the position
    between two bounds, the identity with none. Intervals built on this scale and
    mapped back never cross a bound.
    """

    def __init__(self, lo, hi):
        lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        self.kind = np.where(
            np.isfinite(lo) & np.isfinite(hi),
            3,
            np.where(np.isfinite(lo), 1, np.where(np.isfinite(hi), 2, 0)),
        )
        self.lo = np.where(np.isfinite(lo), lo, 0.0)
        self.hi = np.where(np.isfinite(hi), hi, 0.0)
        self.width = np.where(self.kind == 3, self.hi - self.lo, 1.0)
        self._i = [np.nonzero(self.kind == k)[0] for k in (1, 2, 3)]

    def _map(self, v, one, two, three, fill):
        v = np.asarray(v, dtype=float)
        out = np.array(v, dtype=float, copy=True) if fill is None else np.full(v.shape, fill)
        with np.errstate(all="ignore"):
            for idx, fun in zip(self._i, (one, two, three)):
                if idx.size:
                    out[..., idx] = fun(v[..., idx], idx)
        return out

    def to_z(self, v):
        """The quantity on its scale (``-inf``/``inf`` at a bound); ``v`` ends in the
        parameter axis."""
        lo, hi = self.lo, self.hi
        return self._map(
            v,
            lambda x, i: np.log(x - lo[i]),
            lambda x, i: -np.log(hi[i] - x),
            lambda x, i: np.log(x - lo[i]) - np.log(hi[i] - x),
            None,
        )

    def to_v(self, z):
        """Back from the scale (the inverse of :meth:`to_z`; beyond e^700 from a bound, the
        other side is infinite)."""
        lo, hi, w = self.lo, self.hi, self.width
        return self._map(
            z,
            lambda x, i: np.where(x > 700.0, np.inf, lo[i] + np.exp(np.minimum(x, 700.0))),
            lambda x, i: np.where(x < -700.0, -np.inf, hi[i] - np.exp(np.minimum(-x, 700.0))),
            lambda x, i: lo[i] + w[i] * special.expit(x),
            None,
        )

    def slope(self, v):
        """d z / d v: multiplies a standard error to put it on the scale."""
        lo, hi, w = self.lo, self.hi, self.width
        return self._map(
            v,
            lambda x, i: 1.0 / (x - lo[i]),
            lambda x, i: 1.0 / (hi[i] - x),
            lambda x, i: w[i] / ((x - lo[i]) * (hi[i] - x)),
            1.0,
        )


def param_scale(spec) -> BoundScale:
    """The :class:`BoundScale` of a curve's parameters (from its bounds)."""
    return _bounds_scale(tuple((float(lo), float(hi)) for lo, hi in spec.bounds))


@functools.lru_cache(maxsize=64)
def _bounds_scale(bounds) -> BoundScale:
    return BoundScale([b[0] for b in bounds], [b[1] for b in bounds])


def wald(est, se, q, scale: BoundScale | None = None):
    """``est +- q se``; with ``scale``, where that crosses a bound, the same interval on the
    bound's scale mapped back (so a positive quantity never gets a negative bound).

    Returns ``(lower, upper, rescaled)`` arrays; ``rescaled`` marks the elements computed
    on the bound's scale.
    """
    est, se = np.asarray(est, dtype=float), np.asarray(se, dtype=float)
    lo, hi = est - q * se, est + q * se
    if scale is None:
        return lo, hi, np.zeros(est.shape, dtype=bool)
    crosses = ((scale.kind == 1) | (scale.kind == 3)) & (lo < scale.lo)
    crosses |= ((scale.kind == 2) | (scale.kind == 3)) & (hi > scale.hi)
    with np.errstate(all="ignore"):
        z, half = scale.to_z(est), q * se * np.abs(scale.slope(est))
        zlo, zhi = scale.to_v(z - half), scale.to_v(z + half)
    ok = crosses & np.isfinite(z) & np.isfinite(half)
    return np.where(ok, zlo, lo), np.where(ok, zhi, hi), ok


def profile_limits(fit, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Profile-t interval limits of every parameter: where a side never reaches the t
    quantile, the parameter's bound (``0`` for a rate), or ``inf`` for an unbounded one."""
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
    # a side that never reaches the quantile before the parameter's bound ends at the bound
    lo_out = np.where(np.isinf(lo_out) & np.isfinite(prob.lo), prob.lo, lo_out)
    hi_out = np.where(np.isinf(hi_out) & np.isfinite(prob.hi), prob.hi, hi_out)
    return lo_out, hi_out


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
        reps = fit._replicates(n_boot, seed)
        P = [reps.theta[:, [j]] for j in range(fit.spec.k)]
        with np.errstate(all="ignore"):
            F = fit.spec.f(days[None, :], *P)
        if fit._log:
            F = np.log(np.maximum(F, _TINY))
        if interval == "prediction":
            rng = np.random.default_rng(seed + 1)
            F = F + rng.choice(reps.e, size=F.shape)
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


def param_limits(fit, alpha: float, method: str, n_boot: int, seed: int):
    """Parameter interval limits and, per parameter, how they were computed (see
    :meth:`ReachFit.conf_int`)."""
    k = fit.spec.k
    if method == "asymptotic":
        se = np.sqrt(np.maximum(np.diag(np.asarray(fit.cov_matrix, dtype=float)), 0.0))
        lo, hi, rescaled = wald(fit.theta, se, t_quantile(fit, alpha), param_scale(fit.spec))
        how = ["asymptotic (log scale)" if r else "asymptotic" for r in rescaled]
        return lo, hi, how
    if method in ("profile", "bootstrap") and fit._counts:
        raise ParameterError(
            f"method={method!r} is not yet available for a fit of per-period counts; "
            "use method='asymptotic' (the profile interval of a response effect e is in "
            "response_effect)"
        )
    if method == "profile":
        lo, hi = profile_limits(fit, alpha)
        return lo, hi, ["profile"] * k
    if method == "bootstrap":
        from casekit.reach.bootstrap import param_limits as boot_limits

        lo, hi = boot_limits(fit, fit._replicates(check_n_boot(n_boot), seed), alpha)
        return lo, hi, ["bootstrap-t"] * k
    raise ParameterError(f"method must be 'asymptotic', 'profile' or 'bootstrap', not {method!r}")


def days_of(fit, t) -> tuple[np.ndarray, np.ndarray]:
    """Days since the origin and dates of ``t`` (days, dates, a scalar, or None for the
    observation times), as :meth:`ReachFit.predict` takes them."""
    if t is None:
        t = fit.obs["t"].to_numpy(dtype=float)
    elif isinstance(t, (int, float, np.integer, np.floating)) and not isinstance(t, bool):
        t = np.array([float(t)])
    if isinstance(t, (pd.DatetimeIndex, pd.Series)) and pd.api.types.is_datetime64_any_dtype(t):
        if fit.origin is None:
            raise ParameterError("dates need an origin; this fit has none (pass days since t = 0)")
        days = ((pd.DatetimeIndex(t) - fit.origin) / pd.Timedelta(days=1)).to_numpy(float)
        return days, pd.DatetimeIndex(t).to_numpy()
    arr = np.asarray(t)
    if np.issubdtype(arr.dtype, np.datetime64):
        return days_of(fit, pd.DatetimeIndex(arr))
    try:
        days = arr.astype(float).ravel()
    except (TypeError, ValueError):
        raise ParameterError(
            f"t must be days since the origin, dates (a DatetimeIndex) or None, not {t!r}"
        ) from None
    times = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
    if fit.origin is not None:
        ok = np.abs(days) < 1e5
        times[ok] = (fit.origin + pd.to_timedelta(days[ok], unit="D")).round("s").to_numpy()
    return days, times
