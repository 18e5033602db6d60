"""Milestones of a fitted growth curve with intervals that respect their skew and range:
the saturation (final reach), the time of fastest growth and the times to shares of the
saturation.

Methods (the ``method`` column of :meth:`ReachFit.milestones` says which one gave each
row):

``profile``
    The profile-likelihood (profile-t) interval of the milestone, as if the curve were
    reparameterised with the milestone as a parameter and refitted with it held fixed
    (:mod:`casekit.reach.milestone_profile`). Skewed where the likelihood is.
``bootstrap-t``
    The studentized residual bootstrap (:mod:`casekit.reach.bootstrap`), on the log scale.
``delta (log scale)``
    The delta method for log(milestone), mapped back: cheap, skewed to the right, and
    positive. ``delta`` (symmetric) only for a milestone estimated before the origin.

``auto`` (the default, what :attr:`ReachFit.summary` and the prose show) is ``profile``
for least-squares fits of cumulative readings whose milestones have a closed form (the
five registered curves: a few milliseconds each), and ``delta (log scale)`` otherwise
(robust losses, per-period counts, sums of waves and intervention curves: ask for
``method="profile"`` or ``"bootstrap"`` there, which take from a tenth of a second to
seconds). A profile that does not converge falls back to the delta method, and the
``method`` column says so.

Ranges: a time milestone of a curve that starts at 0 at the origin (Bass, exponential
saturation) is never before the origin; no method gives it a negative bound. The
saturation's interval never falls below the largest cumulative reading that counts the
reach exactly or as a minimum (qualifier exact or more than) and is not of low or
unverified confidence: the final reach is at least what was already counted. When that
floor raises a bound, the ``method`` column adds "floored at the largest reading"; where
the fitted curve levels off below that reading, the saturation's estimate is raised to
it too (the parameter, e.g. K, keeps the curve's asymptote) and the method adds "(the
fitted curve levels off below it)".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from casekit.exceptions import FitError, ParameterError
from casekit.reach import bootstrap as _boot
from casekit.reach import intervals as _iv
from casekit.reach import milestone_profile as _prof
from casekit.reach._solver import _grad
from casekit.reach.data import MAX_DAYS, MAX_VALUE

__all__ = ["METHODS", "MILESTONE_COLUMNS", "milestone", "milestone_table", "saturation_floor"]

METHODS = ("auto", "profile", "bootstrap", "delta")
"""Values of ``method`` for :meth:`ReachFit.milestones` (``bootstrap`` is bootstrap-t)."""

MILESTONE_COLUMNS = ("estimate", "std_err", "lower", "upper", "time", "method")
"""Columns of :meth:`ReachFit.milestones`."""

_NOT_A_MINIMUM = ("up_to", "nearly", "less_than", "about")
_WEAK_CONFIDENCE = ("low", "unverified")
FLOORED = "floored at the largest reading"
BELOW = "(the fitted curve levels off below it)"


@dataclass(frozen=True)
class _Quantity:
    name: str
    fun: Callable
    share: float | None  # a time to this share of the saturation
    dated: bool


def check_method(method) -> str:
    if method not in METHODS:
        raise ParameterError(
            f"method must be one of {', '.join(repr(m) for m in METHODS)}, not {method!r}"
        )
    return method


def saturation_floor(fit) -> float:
    """The largest cumulative reading a final reach cannot be below (0 if none).

    Only readings that count the reach exactly or as a minimum (qualifier exact, more
    than, or none) and are not of low or unverified confidence; per-period counts give 0
    (their total depends on how the periods overlap)."""
    if fit._counts:
        return 0.0
    obs = fit.obs
    keep = np.ones(len(obs), dtype=bool)
    if "qualifier" in obs:
        keep &= ~obs["qualifier"].isin(_NOT_A_MINIMUM).to_numpy()
    if "confidence" in obs:
        keep &= ~obs["confidence"].isin(_WEAK_CONFIDENCE).to_numpy()
    y = obs["y"].to_numpy(dtype=float)[keep]
    y = y[np.isfinite(y)]
    return float(max(np.max(y), 0.0)) if y.size else 0.0


def _starts_at_origin(fit) -> bool:
    """Whether the curve is 0 at t = 0 (so every milestone time is after the origin)."""
    with np.errstate(all="ignore"):
        f0 = float(np.asarray(fit.spec.f(np.array([0.0]), *fit.theta), dtype=float)[0])
        sat = float(fit.spec.saturation(*fit.theta))
    return bool(np.isfinite(f0) and abs(f0) <= 1e-12 * max(abs(sat), 1e-300))


def _profile_ok(fit) -> bool:
    return not fit._counts and fit.loss in ("ols", "log")


def _delta(fit, qty, est, se, alpha) -> tuple[float, float, str]:
    q = _iv.t_quantile(fit, alpha)
    if not (np.isfinite(est) and np.isfinite(se)):
        return float("nan"), float("nan"), "delta"
    if est > 0:
        half = q * se / est
        if half > math.log(1e6):  # a factor of a million either way: no limits at all
            return 0.0, math.inf, "delta (log scale)"
        return est * math.exp(-half), est * math.exp(half), "delta (log scale)"
    return est - q * se, est + q * se, "delta"


def _delta_se(fit, qty, est) -> float:
    if not np.isfinite(est):
        return float("nan")
    fun = qty.fun
    if qty.share is not None and fit.spec.share_time is None:
        fun = _prof.WarmShareTime(fit.spec, qty.share)  # Newton from the last answer
        fun.t = est
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        g = _grad(lambda th: fun(*th), fit.theta, fit.spec)
        v = float(g @ fit.cov_matrix @ g)
    return math.sqrt(max(v, 0.0)) if np.isfinite(v) else float("nan")


def _profile(fit, qty, alpha) -> tuple[float, float, str, str]:
    key = ("profile", qty.name, float(alpha))
    if key not in fit._cache:
        if qty.share is not None and fit.spec.share_time is None:
            fit._cache[key] = _prof.profile_share_range(fit, qty.share, alpha)
        else:
            fit._cache[key] = _prof.profile_range(fit, qty.fun, alpha)
    return fit._cache[key]


def _interval(fit, qty, alpha, method, n_boot, seed):
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        est = float(qty.fun(*fit.theta))
    se = _delta_se(fit, qty, est)
    positive_time = qty.name != "saturation" and _starts_at_origin(fit)
    if method == "auto":
        # quick and robust for the registered curves; sums of waves take seconds (ask)
        closed = fit.spec.share_time is not None
        method = "profile" if _profile_ok(fit) and closed else "delta"
    if method == "bootstrap":
        if fit._counts:
            raise ParameterError(
                "method='bootstrap' is not yet available for a fit of per-period counts; "
                "use method='delta'"
            )
        reps = fit._replicates(_iv.check_n_boot(n_boot), seed)
        spread, lo, hi, _ = _boot.derived_limits(
            fit, reps, qty.fun, est, se, alpha, positive=est > 0
        )
        return est, spread, lo, hi, "bootstrap-t"
    if method == "profile":
        if not _profile_ok(fit):
            raise FitError(
                "profile intervals need a least-squares fit of cumulative readings "
                "('ols' or 'log' loss); use method='bootstrap' or 'delta'"
            )
        lo, hi, s_lo, s_hi = _profile(fit, qty, alpha)
        if "failed" not in (s_lo, s_hi):
            if positive_time:
                lo = max(lo, 0.0) if np.isfinite(lo) else 0.0
            return est, se, lo, hi, "profile"
        lo, hi, how = _delta(fit, qty, est, se, alpha)
        return est, se, lo, hi, f"{how}: the profile did not converge"
    lo, hi, how = _delta(fit, qty, est, se, alpha)
    return est, se, lo, hi, how


def _quantities(fit, shares) -> list[_Quantity]:
    out = [
        _Quantity("saturation", fit.spec.saturation, None, False),
        _Quantity("peak_time", fit.spec.peak_time, None, True),
    ]
    for s in shares:
        s = _iv.check_share(s)
        out.append(_Quantity(f"t{s * 100:g}", _iv.share_fun(fit.spec, s), s, True))
    return out


def _row(fit, qty, alpha, method, n_boot, seed) -> pd.Series:
    est, se, lo, hi, how = _interval(fit, qty, alpha, method, n_boot, seed)
    # a limit past what a time or a count can be is no limit
    cap = MAX_DAYS if qty.dated else MAX_VALUE
    lo = -math.inf if lo < -cap else lo
    hi = math.inf if hi > cap else hi
    if qty.name == "saturation":
        floor = saturation_floor(fit)
        low = [v < floor for v in (lo, hi, est)]  # NaN compares False: stays NaN
        if floor > 0 and any(low):
            # the final reach is at least what was counted, even where the curve levels
            # off below the count (then the estimate is raised too, and the method says so)
            lo, hi, est = (floor if b else v for v, b in zip((lo, hi, est), low))
            how = f"{how}, {FLOORED}" + (f" {BELOW}" if low[2] else "")
    when = (
        (fit.origin + pd.Timedelta(days=est)).round("s")
        if (qty.dated and fit.origin is not None and np.isfinite(est) and abs(est) < 1e5)
        else pd.NaT
    )
    return pd.Series(
        {"estimate": est, "std_err": se, "lower": lo, "upper": hi, "time": when, "method": how},
        name=qty.name,
        dtype=object,
    )


def milestone(fit, name, share, alpha, method, n_boot, seed) -> pd.Series:
    """One milestone (``saturation``, ``peak_time`` or the time to ``share``) as
    ``estimate, std_err, lower, upper, time, method``."""
    check_method(method)
    qs = _quantities(fit, () if share is None else (share,))
    qty = next(q for q in qs if q.name == name or (share is not None and q.share == share))
    return _row(fit, qty, alpha, method, n_boot, seed)


def milestone_table(fit, shares, alpha, method, n_boot, seed) -> pd.DataFrame:
    """Saturation, peak time and times to ``shares`` of the saturation, one row each."""
    check_method(method)
    rows, seen = [], {}
    for qty in _quantities(fit, shares):
        # the logistic's peak is its t50: one profile search for both (the same function:
        # the same values at the estimates and at a point beside them)
        beside = np.asarray(fit.theta, dtype=float) * 1.01 + 0.01
        with np.errstate(all="ignore"):
            probe = (float(qty.fun(*fit.theta)), float(qty.fun(*beside)), qty.name)
            probe = probe[:2] if qty.name != "saturation" else probe
        if probe in seen and method in ("auto", "profile"):
            rows.append(seen[probe].rename(qty.name))
            continue
        row = _row(fit, qty, alpha, method, n_boot, seed)
        seen[probe] = row
        rows.append(row)
    df = pd.DataFrame(rows)
    for c in ("estimate", "std_err", "lower", "upper"):
        df[c] = df[c].astype(float)
    df["time"] = pd.to_datetime(df["time"])
    df["method"] = df["method"].astype(str)
    return df[list(MILESTONE_COLUMNS)]
