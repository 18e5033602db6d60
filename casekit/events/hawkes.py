"""A self-exciting (Hawkes) model of a complaint storm, with the company's response inside.

The intensity of events (posts, shares) at time ``t`` (days) is

    lambda(t) = mu(t) + m(t) * n* * sum_{t_i < t} phi(t - t_i)

* ``phi`` integrates to one, so ``n*`` is the branching ratio (expected direct
  "children" per event): exponential ``omega exp(-omega u)``, or power law (Omori)
  ``theta c**theta / (u + c)**(1 + theta)``. The power law is fitted through a mixture
  of about 30 exponentials whose rates are fixed on a log grid and whose weights are the
  trapezoid rule of ``(u + c)**-(1 + theta) = int s**theta exp(-s (u + c)) ds / Gamma(1 + theta)``
  (relative kernel error about 1e-3, lags up to 1,000 observed spans). It is an
  approximation, and the results say so.
* ``m(t) = (1 - e) ** (number of responses <= t)``: from each response on, the branching
  ratio is multiplied by ``1 - e``. ``e < 0`` means the response fuelled the storm.
* ``mu(t) = mu0 + eta * sum_j omega_x exp(-omega_x (t - x_j))`` over exogenous times
  ``x_j < t`` (press coverage): each exogenous event brings ``eta`` expected immigrants
  whose arrival decays at rate ``omega_x``. Without exogenous times, ``mu(t) = mu0``.

The log-likelihood and its gradient cost O(n) (:mod:`casekit.events._likelihood`). For the
exponential kernel with a constant background (any responses), one compiled pass
(:mod:`casekit.events._expkernel`, numba) gives the log-likelihood, its gradient and its
exact Hessian, so the fit is Newton's method and the observed information is exact; the
other models use L-BFGS-B and differences of the analytic gradient. The exponential
kernel's mean lag is at most the observation span (:data:`MAX_MEAN_LAG`) and n* at most
:data:`N_MAX`; a likelihood-ratio test of n* = 0 says whether self-excitation is
detected at all (else the final size is the Poisson model's).

Examples
--------
>>> from casekit.events.simulate import simulate
>>> from casekit.events.hawkes import fit
>>> t = simulate(mu=1.0, n_star=0.6, omega=3.0, end=300.0, seed=2)
>>> f = fit(t, end=300.0, intervals="wald")
>>> bool(0.4 < f.params["n"] < 0.8)
True
>>> f.supercritical
False
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from casekit.events import _fitting as ft
from casekit.events import _hawkes_report as _report
from casekit.events import _likelihood as lk
from casekit.exceptions import InsufficientDataError, ParameterError
from casekit.results import Result, check_alpha

__all__ = ["HawkesFit", "fit", "MIN_EVENTS", "MIN_SIDE", "STORE_TIMES_UP_TO", "MAX_MEAN_LAG",
           "N_MAX"]  # fmt: skip

MAX_MEAN_LAG = ft.MAX_MEAN_LAG
N_MAX = ft.N_MAX

MIN_EVENTS = 20
"""Fewest events for any fit (and at least 10 per free parameter)."""
MIN_SIDE = 20
"""Fewest events on each side of the first response for ``e`` to be estimated."""
STORE_TIMES_UP_TO = 5_000
"""Fits of at most this many events keep the event times (and store them in to_dict)."""

_LABELS = {
    "mu0": "background rate mu0 (events/day)",
    "n": "branching ratio n*",
    "omega": "decay rate omega (1/day)",
    "theta": "power-law exponent theta",
    "c": "power-law offset c (days)",
    "e": "response effect e",
    "eta": "immigrants per exogenous event eta",
    "omega_x": "exogenous decay omega_x (1/day)",
}


def _as_times(log) -> np.ndarray:
    if hasattr(log, "times") and callable(log.times):
        log = log.times()
    try:
        t = np.asarray(log, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError("event times must be numbers (days since the origin)") from None
    if t.ndim != 1:
        raise ParameterError(f"event times must be one-dimensional, not shape {t.shape}")
    if not np.all(np.isfinite(t)):
        bad = int(np.flatnonzero(~np.isfinite(t))[0])
        raise ParameterError(f"event time {bad} is {t[bad]}: times must be finite numbers")
    if len(t) > 1 and np.any(np.diff(t) < 0):
        bad = int(np.flatnonzero(np.diff(t) < 0)[0]) + 1
        raise ParameterError(
            f"event times must be sorted: time {bad} ({t[bad]}) comes before the previous "
            f"one ({t[bad - 1]}); sort them first (np.sort)"
        )
    return t


def _array(x, name: str) -> np.ndarray:
    if x is None:
        return np.array([])
    a = np.sort(np.atleast_1d(np.asarray(x, dtype=float)))
    if not np.all(np.isfinite(a)):
        raise ParameterError(f"{name} times must be finite numbers")
    return a


def _edge_counts(t: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Events before each edge (the last edge inclusive), so that their differences are
    ``np.histogram(t, edges)[0]`` for sorted ``t``."""
    idx = np.searchsorted(t, edges, "left")
    idx[-1] = np.searchsorted(t, edges[-1], "right")
    return idx


@dataclass(frozen=True, repr=False, eq=False)
class HawkesFit(Result):
    """A fitted Hawkes process (see :func:`fit`).

    Attributes
    ----------
    kernel : str
        ``"exp"`` or ``"powerlaw"``.
    estimates : dict
        All parameter values (free and fixed); :attr:`params` as a Series.
    cov : pandas.DataFrame
        Covariance of the free parameters (inverse observed information at the MLE).
    profiles : dict
        Profile deviance grids (``value``, ``deviance``) of ``n`` and, when estimated, ``e``.
    data : dict
        Summary of the data: number of events, window, responses, exogenous times,
        events before and after the first response, ``N`` at the end.
    final : dict
        Expected final size (``estimate, lower, upper``), the branching ratio in force at
        the end, and ``supercritical``.
    gof : dict
        Time-rescaling residuals: KS statistic and p-value against Exp(1).
    qq, rate : pandas.DataFrame
        QQ pairs of the residuals; observed and fitted events per period.
    cf : dict
        What :meth:`counterfactual` needs: kernel components, the excitation state at the
        response and the integral of the observed excitation on a grid before it.
    times : numpy.ndarray or None
        The event times when there are at most :data:`STORE_TIMES_UP_TO` of them.
    excitation : dict
        Likelihood-ratio test of n* = 0 (a Poisson process) against n* free: ``lr``,
        ``p_value`` (null law 1/2 chi2_0 + 1/2 chi2_1), ``loglik_null`` and
        ``detected`` (p-value below ``alpha``).
    notes : tuple of str
        Caveats: parameters at or near a bound of the fit, no self-excitation detected.
    """

    title: ClassVar[str] = "Hawkes process fit"
    has_intervals: ClassVar[bool] = True

    kernel: str
    estimates: dict
    free: tuple
    cov: pd.DataFrame
    profiles: dict
    data: dict
    final: dict
    gof: dict
    qq: pd.DataFrame
    rate: pd.DataFrame
    cf: dict
    loglik: float
    e_mode: str
    _settings: dict
    alpha: float = 0.05
    times: np.ndarray | None = field(default=None, repr=False)
    excitation: dict = field(default_factory=dict)
    notes: tuple = ()

    # -- vocabulary ------------------------------------------------------------------
    @property
    def params(self) -> pd.Series:
        return pd.Series(self.estimates, name="estimate", dtype=float)

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self._settings)

    @property
    def supercritical(self) -> bool:
        """True when the branching ratio in force at the end is 1 or more."""
        return bool(self.final["supercritical"])

    @property
    def excitation_detected(self) -> bool:
        """True when the test of n* = 0 rejects at the fit's ``alpha``."""
        return bool(self.excitation.get("detected", True))

    @property
    def se(self) -> pd.Series:
        return pd.Series(np.sqrt(np.clip(np.diag(self.cov.to_numpy()), 0, None)), self.free)

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Intervals of the parameters (``estimate, lower, upper, method``): profile
        likelihood for ``n`` and ``e`` where profiled, Wald (observed information)
        otherwise; fixed parameters have no interval. The interval of ``n`` starts at 0
        when the test of n* = 0 does not reject at this level."""
        a = check_alpha(alpha, self.alpha)
        crit = stats.chi2.ppf(1 - a, 1)
        z = stats.norm.ppf(1 - a / 2)
        rows = []
        for k, v in self.estimates.items():
            lo = hi = math.nan
            method = "fixed"
            if k in self.free:
                se = float(self.se[k])
                lo, hi, method = v - z * se, v + z * se, "wald"
                if k in ft.LOG_PARAMS and k != "n":  # positive: Wald on the log scale
                    lo, hi = v * math.exp(-z * se / v), v * math.exp(z * se / v)
                prof = self.profiles.get(k)
                if prof is not None and crit <= prof["deviance"].max() + 1e-12:
                    bounds = (0.0, math.inf) if k == "n" else (-math.inf, 1.0)
                    lo, hi = ft.profile_interval(
                        prof["value"].to_numpy(), prof["deviance"].to_numpy(), crit, bounds
                    )
                    method = "profile"
            if k == "n":
                lo = max(lo, 0.0)
                if self.excitation.get("p_value", 0.0) >= a:
                    lo = 0.0
            rows.append({"parameter": k, "estimate": v, "lower": lo, "upper": hi, "method": method})
        return pd.DataFrame(rows).set_index("parameter")

    @property
    def table(self) -> pd.DataFrame:
        out = self.conf_int().reset_index()
        out.insert(1, "label", [_LABELS[k] for k in out["parameter"]])
        out.insert(
            3, "se", [float(self.se[k]) if k in self.free else math.nan for k in out["parameter"]]
        )
        return out

    @property
    def summary(self) -> pd.DataFrame:
        f = self.final
        rows = [
            ("events", self.data["n_events"], math.nan, math.nan),
            (
                "branching ratio n*",
                self.estimates["n"],
                *self.conf_int().loc["n", ["lower", "upper"]],
            ),
            ("branching ratio at the end", f["n_end"], math.nan, math.nan),
            ("expected final size", f["estimate"], f["lower"], f["upper"]),
            ("KS statistic (residuals)", self.gof["ks_stat"], math.nan, math.nan),
            ("KS p-value", self.gof["ks_pvalue"], math.nan, math.nan),
        ]
        if "e" in self.estimates:
            ci = self.conf_int().loc["e"]
            rows.insert(2, ("response effect e", self.estimates["e"], ci["lower"], ci["upper"]))
        return pd.DataFrame(rows, columns=["quantity", "estimate", "lower", "upper"])

    # -- the answers -------------------------------------------------------------------
    def final_size_text(self) -> str:
        """The expected final size in one sentence (infinite when supercritical)."""
        return _report.final_size_text(self)

    def counterfactual(self, delays) -> pd.DataFrame:
        """Expected final size if the response had come ``delays`` days later (negative:
        earlier); needs exactly one response. A delay of 0 reproduces the fit's final
        size exactly (see :func:`casekit.events._hawkes_report.counterfactual`).

        Returns
        -------
        pandas.DataFrame
            ``delay, response_t, final_size``.
        """
        return _report.counterfactual(self, delays)

    def __str__(self) -> str:
        return _report.describe(self)

    def plot(self, which: str = "rate", **kwargs):
        """Events per period against the fitted expected count (``which="rate"``), or the
        QQ plot of time-rescaled residuals against Exp(1) (``which="qq"``)."""
        return _report.plot(self, which, **kwargs)


# --------------------------------------------------------------------------- fitting


def fit(
    log,
    kernel: str = "exp",
    *,
    end: float | None = None,
    start: float | None = None,
    response=None,
    e: str | float = "estimate",
    exogenous=None,
    intervals: str = "profile",
    alpha: float = 0.05,
    bins: int = 100,
    n_draws: int = 1000,
    seed: int = 0,
    warm_start=None,
) -> HawkesFit:
    """Fit a Hawkes process to event times by maximum likelihood, with intervals.

    Parameters
    ----------
    log : array-like or EventLog
        Sorted event times (float days since an origin), or an object whose ``times()``
        returns them.
    kernel : {"exp", "powerlaw"}
        Exponential kernel (exact O(n) likelihood) or power law (Omori), approximated by
        a mixture of about 30 exponentials (see the module text).
    end, start : float, optional
        Observation window; default the last and the first event. The first event is
        then an immigrant of the background.
    response : float or sequence of float, optional
        Response times: from each on, the branching ratio is multiplied by ``1 - e``.
    e : "estimate" or float
        ``"estimate"``: e is fitted, with a profile-likelihood interval; this needs a
        response inside the window with at least :data:`MIN_SIDE` events before the first
        response and as many after it, else InsufficientDataError. A number: a stated
        scenario, held fixed (and said so).
    exogenous : sequence of float, optional
        Exogenous times (press coverage); each adds a decaying pulse of ``eta``
        expected immigrants to the background (``eta`` and ``omega_x`` are fitted).
    intervals : {"profile", "wald"}
        ``"profile"``: profile likelihood for ``n*`` and ``e`` (a grid kept in the result,
        so :meth:`HawkesFit.conf_int` can answer other levels down to alpha = 0.001),
        Wald from the observed information for the rest. ``"wald"``: Wald for all
        (faster; the profile costs about 20 to 40 extra fits).
    alpha : float
        Default interval level 1 - alpha.
    bins : int
        Periods of the rate table behind :meth:`HawkesFit.plot`.
    n_draws, seed : int
        Parameter draws for the final-size interval.
    warm_start : dict, pandas.Series or HawkesFit, optional
        Starting values for the optimiser, e.g. the estimates of a fit to fewer of the
        same events (:func:`casekit.forecast.replay` passes each origin's estimates to
        the next). Values outside the parameter space are ignored. The optimum does not
        depend on it (a warm start that fails to converge is retried from the default
        start); only the time does.

    Returns
    -------
    HawkesFit

    Raises
    ------
    ParameterError
        Unsorted or non-finite times, a window that does not hold the events, a bad kernel.
    InsufficientDataError
        Fewer than :data:`MIN_EVENTS` events (or 10 per free parameter); ``e`` asked to
        be estimated without events on both sides of a response.

    Examples
    --------
    >>> from casekit.events.simulate import simulate
    >>> t = simulate(2.0, 0.7, 4.0, end=200.0, response=100.0, e=0.5, seed=4)
    >>> f = fit(t, end=200.0, response=100.0, intervals="wald")
    >>> f.e_mode
    'estimated'
    >>> cf = f.counterfactual([0.0])
    >>> bool(cf["final_size"][0] == f.final["estimate"])
    True
    """
    t = _as_times(log)
    if kernel not in ("exp", "powerlaw"):
        raise ParameterError(f"kernel must be 'exp' or 'powerlaw', not {kernel!r}")
    if intervals not in ("profile", "wald"):
        raise ParameterError(f"intervals must be 'profile' or 'wald', not {intervals!r}")
    alpha = check_alpha(alpha)
    if len(t) < MIN_EVENTS:
        raise InsufficientDataError(
            f"a Hawkes fit needs at least {MIN_EVENTS} events; this log has {len(t)}"
        )
    start = float(t[0]) if start is None else float(start)
    end = float(t[-1]) if end is None else float(end)
    if start > t[0] or end < t[-1]:
        raise ParameterError(
            f"the window [{start}, {end}] must hold all events ({t[0]} to {t[-1]})"
        )
    if not end > start:
        raise InsufficientDataError("all events share one time: no window to fit")
    resp, exo = _array(response, "response"), _array(exogenous, "exogenous")
    if len(resp) and resp[0] <= start:
        raise ParameterError(f"a response at {resp[0]} is not after the start ({start})")
    resp_in = resp[resp < end]
    fixed: dict[str, float] = {}
    if len(resp) == 0:
        e_mode, fixed["e"] = "none", 0.0
    elif isinstance(e, str):
        if e != "estimate":
            raise ParameterError(f"e must be 'estimate' or a number, not {e!r}")
        before = int(np.searchsorted(t, resp[0], "left"))
        after = len(t) - before
        if len(resp_in) == 0 or before < MIN_SIDE or after < MIN_SIDE:
            raise InsufficientDataError(
                f"e can be estimated only when the events straddle the response: at least "
                f"{MIN_SIDE} events before the first response and {MIN_SIDE} after it "
                f"(here {before} before, {after if len(resp_in) else 0} after); pass a "
                "scenario value, e.g. e=0.3"
            )
        e_mode = "estimated"
    else:
        fixed["e"] = float(e)
        if not (math.isfinite(fixed["e"]) and fixed["e"] < 1):
            raise ParameterError(f"e must be a number below 1, not {e!r}")
        e_mode = "scenario"
    free = ["mu0", "n"] + (["omega"] if kernel == "exp" else ["theta", "c"])
    free += ["e"] if e_mode == "estimated" else []
    if len(exo):
        free += ["eta", "omega_x"]
    else:
        fixed.update(eta=0.0, omega_x=1.0)
    if len(t) < 10 * len(free):
        raise InsufficientDataError(
            f"{len(free)} free parameters need at least {10 * len(free)} events; "
            f"this log has {len(t)}"
        )
    d = lk.Data(t, start, end, resp_in, exo[exo < end])
    model = ft.Model(d, kernel, free, fixed)
    if isinstance(warm_start, HawkesFit):
        warm_start = warm_start.estimates
    warm = dict(warm_start) if warm_start is not None else None
    p, ll, res = model.maximise(ft.start_values(model, len(t), len(exo), warm))
    if warm is not None and not res.success:
        p, ll, res = model.maximise(ft.start_values(model, len(t), len(exo)))
    if model.fast is None:  # L-BFGS-B: a restart tightens the optimum
        p, ll, res = model.maximise(p)
    p_null, ll_null = ft.null_fit(model, len(t))
    excitation = {**ft.excitation_test(ll, ll_null), "alpha": alpha}
    excitation["detected"] = bool(excitation["p_value"] < alpha)
    info = model.information(p)
    try:
        cov = np.linalg.inv(info)
        if np.any(np.diag(cov) <= 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(info)
    cov_df = pd.DataFrame(cov, index=free, columns=free)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    profiles = {}
    if intervals == "profile":
        for name in ("n", "e"):
            if name in free:
                v, dev = ft.profile(model, p, ll, name, float(se[free.index(name)]))
                profiles[name] = pd.DataFrame({"value": v, "deviance": dev})

    rates, w = ft.components(kernel, p, model.cache)
    A = ft.event_decays(t, rates) if kernel == "exp" else model.cache.P / model.cache.s
    n_end = p["n"] * (1.0 - p["e"]) ** len(resp)
    est = ft.final_size(p, rates, w, t, A, end, resp, exo)
    draws = ft.final_draws(model, p, cov, t, end, resp, exo, n_draws, seed)
    if len(draws) and math.isfinite(est):
        lo_q, hi_q = ft.quantiles(draws, [alpha / 2, 1 - alpha / 2])
    else:
        lo_q = hi_q = math.inf if math.isinf(est) else math.nan
    if not excitation["detected"]:
        # the Poisson model: events so far + the background's remainder (none: it
        # stops at the end) + the pulses' future immigrants; the upper bound keeps the
        # excitation the data cannot exclude
        est = lo_q = len(t) + ft.exo_future(p_null, exo, end)
        hi_q = max(hi_q, est) if not math.isnan(hi_q) else est
    final = {
        "estimate": est,
        "lower": float(lo_q),
        "upper": float(hi_q),
        "n_end": n_end,
        "supercritical": bool(n_end >= 1.0 and excitation["detected"]),
        "alpha": alpha,
        "model": "hawkes" if excitation["detected"] else "poisson",
    }

    J_ev = p["n"] * (np.arange(len(t)) - A @ w)
    lam_cum = ft.compensator(p, rates, w, t, A, t, start, resp_in, exo, J_events=J_ev)
    resid = np.sort(np.diff(lam_cum))
    ks = ft.ks_exponential(resid)
    m = min(500, len(resid))
    probs = (np.arange(m) + 0.5) / m
    qq = pd.DataFrame(
        {"theoretical": -np.log1p(-probs), "observed": ft.sorted_quantile(resid, probs)}
    )
    edges = np.linspace(start, end, int(bins) + 1)
    comp_edges = ft.compensator(p, rates, w, t, A, edges, start, resp_in, exo)
    rate = pd.DataFrame(
        {
            "t_start": edges[:-1],
            "t_end": edges[1:],
            "observed": np.diff(_edge_counts(t, edges)).astype(float),
            "fitted": np.diff(comp_edges),
        }
    )
    cf: dict = {}
    if len(resp) == 1:
        r0 = min(float(resp[0]), end)
        grid = np.linspace(start, r0, 2001)
        E0 = ft.decays_at(t, rates, A, np.array([r0]))[0]
        cf = {
            "response": float(resp[0]),
            "r0": r0,
            "rates": rates,
            "weights": w,
            "Y_r0": p["n"] * w * rates * E0,
            "grid": grid,
            "J": ft.excitation_integral(p, rates, w, t, A, grid),
        }
    data = {
        "n_events": len(t),
        "start": start,
        "end": end,
        "responses": tuple(resp.tolist()),
        "exogenous": tuple(exo.tolist()),
        "n_before_response": int(np.searchsorted(t, resp[0])) if len(resp) else len(t),
        "n_after_response": len(t) - int(np.searchsorted(t, resp[0])) if len(resp) else 0,
    }
    settings = _report.fit_settings(
        kernel, start, end, resp, e_mode, fixed.get("e"), len(exo), intervals, alpha,
        bool(res.success), warm is not None,
    )  # fmt: skip
    return HawkesFit(
        kernel=kernel,
        estimates={k: float(v) for k, v in p.items() if k in free or (k == "e" and len(resp))},
        free=tuple(free),
        cov=cov_df,
        profiles=profiles,
        data=data,
        final=final,
        gof={
            "ks_stat": ks[0],
            "ks_pvalue": ks[1],
            "n_residuals": len(resid),
        },
        qq=qq,
        rate=rate,
        cf=cf,
        loglik=ll,
        e_mode=e_mode,
        _settings=settings,
        alpha=alpha,
        times=t.copy() if len(t) <= STORE_TIMES_UP_TO else None,
        excitation=excitation,
        notes=_report.fit_notes(ft.at_bounds(model, p), excitation, p, end - start),
    )
