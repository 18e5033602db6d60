"""Fitting with the company's response inside the model, and fitting per-period counts.

:func:`casekit.reach.fit` calls :func:`fit_extended` when it is given ``response=...`` or
data made of per-period counts. The response effects ``e_k`` of an
:func:`~casekit.reach.intervention` curve are estimated when the observations straddle
the response (:func:`check_straddle`), with a profile-likelihood interval
(:func:`~casekit.reach._profile.profile_interval`): the curve is refitted with ``e_k``
held, and the interval is where ``2 (logL_max - logL(e_k))``, divided by the fit's
Pearson dispersion, stays below the F(1, n - p) quantile. Otherwise ``e_k`` is a stated
scenario value.

The likelihood of an intervention curve can have several local maxima, so a per-period
fit runs all its starting points (a few scoring steps each, at once), finishes the best
two, and hands the others to the profiles as branches to follow; a profile that finds a
higher maximum makes the fit start again from there.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from scipy import special

from casekit import format as fmt
from casekit.exceptions import FitError, InsufficientDataError, ParameterError
from casekit.reach._profile import profile_interval
from casekit.reach._refits import refits
from casekit.reach._solver import _make_problem, _readonly, _solve, _starts
from casekit.reach.curves import CurveSpec
from casekit.reach.data import _Prepared, period_bounds
from casekit.reach.intervention import intervention, response_schedule
from casekit.reach.observation import FAMILIES, fit_counts, increments

__all__ = ["COUNT_LOSSES", "EFFECT_COLUMNS", "fit_extended", "check_straddle", "effect_lines"]

COUNT_LOSSES = ("auto",) + FAMILIES
"""Losses of a per-period fit: ``auto`` (negative binomial or Poisson by AICc), ``nb``,
``poisson``, ``log`` (least squares on log counts)."""

EFFECT_COLUMNS = ("date", "t", "kind", "parameter", "e", "lower", "upper", "status")
"""Columns of :attr:`ReachFit.response_effect`."""

DELTA_NEGLIGIBLE = 1e-6
"""Below this decay rate (per day; half-life over 1,900 years) no decay is reported."""

N_STARTS = 6
"""Starting points of a per-period fit (``n_starts`` default)."""

MIN_SIDE = 2
"""Distinct observation times needed on each side of a response to estimate its effect."""


_BOUNDS: dict = {}


def _bounds(obs: pd.DataFrame):
    """period_bounds of an observation table, computed once per table (a fit asks for
    them several times)."""
    got = _BOUNDS.get(id(obs))
    if got is None or got[0] is not obs or len(got[1]) != len(obs):
        if len(_BOUNDS) >= 4:
            _BOUNDS.clear()
        got = (obs, *period_bounds(obs))
        _BOUNDS[id(obs)] = got
    return got[1], got[2]


def _obs_times(prep_obs: pd.DataFrame) -> np.ndarray:
    if "period_days" in prep_obs:
        a, b = _bounds(prep_obs)
        return 0.5 * (a + b)
    return prep_obs["t"].to_numpy(dtype=float)


def check_straddle(times_obs, resp_t, estimate, where: str = "") -> None:
    """InsufficientDataError unless each response whose effect is estimated has at least
    :data:`MIN_SIDE` distinct observation times before it and as many between it and the
    next response (per-period counts: the midpoints of their periods).

    Examples
    --------
    >>> from casekit.reach.response_fit import check_straddle
    >>> check_straddle([0, 1, 2, 3], [1.5], [True])
    >>> check_straddle([2, 3, 4, 5], [1.5], [True])
    Traceback (most recent call last):
    ...
    casekit.exceptions.InsufficientDataError: the effect e_1 of the response at day 1.5 ...
    """
    tt = np.unique(np.asarray(times_obs, dtype=float))
    resp_t = list(resp_t)
    for k, (tk, est) in enumerate(zip(resp_t, estimate)):
        if not est:
            continue
        nxt = resp_t[k + 1] if k + 1 < len(resp_t) else np.inf
        before = int(np.sum(tt < tk))
        after = int(np.sum((tt >= tk) & (tt < nxt)))
        if before < MIN_SIDE or after < MIN_SIDE:
            raise InsufficientDataError(
                f"{where}the effect e_{k + 1} of the response at day {tk:g} cannot be "
                f"estimated: it needs observations at {MIN_SIDE} or more distinct times on "
                f"each side, and there are {before} before it and {after} after it"
                f"{' (before the next response)' if np.isfinite(nxt) else ''}. Give e as a "
                "stated scenario value instead (e=0.5), or choose other responses "
                "(response='first')"
            )


class _Model:
    """What a refit needs: the data and the observation model."""

    def __init__(self, prep: _Prepared, loss: str, f_scale, phi=None):
        self.obs = prep.obs
        self.counts = "period_days" in prep.obs
        self.y = prep.obs["y"].to_numpy(dtype=float)
        self.w = prep.obs["weight"].to_numpy(dtype=float)
        self.t = prep.obs["t"].to_numpy(dtype=float)
        self.loss = loss
        self.f_scale = f_scale
        self.phi = phi
        if self.counts:
            self.a, self.b = _bounds(prep.obs)

    def loglik(self, spec: CurveSpec, starts, phi=None):
        """(theta, loglik, phi) of the best fit from ``starts`` (Gaussian, sigma profiled,
        for the least-squares losses); FitError when none converges."""
        starts = [np.asarray(s, dtype=float) for s in starts]
        if self.counts:
            th, ll, _, ph = fit_counts(
                spec,
                self.a,
                self.b,
                self.y,
                self.w,
                self.loss,
                starts,
                with_cov=False,
                phi0=phi if phi is not None else self.phi,
            )
            return th, ll, ph
        prob = _make_problem(spec, self.t, self.y, self.w, self.loss)
        th, _, _, _ = _solve(prob, starts)
        if th is None:
            raise FitError("profile refit did not converge")
        rss = float(np.sum(prob.resid(th) ** 2))
        return th, -0.5 * len(self.y) * math.log(max(rss, 1e-300)), None


def fit_extended(
    prep: _Prepared,
    spec: CurveSpec,
    *,
    loss,
    response,
    e,
    delta,
    start,
    alpha,
    n_starts,
    seed,
    f_scale,
    fit_cumulative,
):
    """A ReachFit with the response inside the model and/or of per-period counts."""

    where = f"{prep.case_id}: " if prep.case_id else ""
    counts = "period_days" in prep.obs
    sched = None
    if response is not None and response is not False:
        which = "first" if response is True else response
        sched = response_schedule(prep.context, prep.origin, which)
        spec = intervention(spec, sched["t"].tolist(), e=e, delta=delta)
        est = [v == "estimate" for v in spec.definition["e"]]
        check_straddle(_obs_times(prep.obs), sched["t"].tolist(), est, where)
    seeds: list = []  # other local maxima: branches for the profiles to follow
    again = None  # a better maximum a profile found: refit from there
    for _ in range(3):
        if counts:
            st = start if again is None else again
            fit, sols = _fit_counts(prep, spec, loss, st, alpha, n_starts, seed, where)
        elif again is None:
            fit, sols = fit_cumulative(prep, spec), []
        else:
            from casekit.reach.fitting import _fit_prepared

            cum_loss = "ols" if loss is None else loss
            fit = _fit_prepared(
                prep,
                spec,
                loss=cum_loss,
                start=again,
                alpha=alpha,
                n_starts=1,
                seed=seed,
                f_scale=f_scale,
            )
            sols = []
        if sched is None:
            return fit
        seeds = [
            s_
            for s_ in seeds + [(t_, p_) for t_, _, p_ in sols]
            if not np.allclose(s_[0], fit.theta)
        ]
        covered = int(n_starts or N_STARTS) if counts and again is None and start is None else 0
        table, notes, better = _effects(fit, sched, prep, f_scale, seeds, covered)
        if better is None:
            break
        seeds.append((np.asarray(fit.theta), fit.dispersion))
        again = np.atleast_2d(better[0])
    else:
        raise FitError(
            f"{where}the profile of the response effect kept finding higher maxima of the "
            "likelihood: the fit is not reliable; try other starting values (start=...)"
        )
    return dataclasses.replace(
        fit, response_effect=table, notes=fit.notes + tuple(notes), _cache={}
    )


def _fit_counts(prep, spec, loss, start, alpha, n_starts, seed, where):
    from casekit.reach.result import ReachFit

    loss = "auto" if loss is None else loss
    if loss not in COUNT_LOSSES:
        raise ParameterError(
            f"{where}per-period counts take loss = {', '.join(COUNT_LOSSES)}, not {loss!r}"
        )
    obs = prep.obs
    y = obs["y"].to_numpy(dtype=float)
    w = obs["weight"].to_numpy(dtype=float)
    a, b = _bounds(obs)
    n, p = len(y), spec.k
    if n <= p + 1:
        raise InsufficientDataError(
            f"{where}{n} per-period counts, but the {spec.name} curve has {p} parameters "
            f"({', '.join(spec.param_names)}): a fit needs at least {p + 2}"
        )
    if np.any(y < 0) or (loss != "log" and np.any(np.abs(y - np.round(y)) > 1e-9)):
        if loss != "log":
            raise ParameterError(
                f"{where}the count likelihoods need whole counts >= 0; use loss='log' for "
                "non-integer per-period values"
            )
    if loss == "log" and np.any(y <= 0):
        raise FitError(f"{where}loss='log' needs positive counts; use loss='nb' or 'poisson'")
    order = np.argsort(b, kind="stable")
    cum = np.empty(n)
    cum[order] = np.cumsum(y[order])
    starts = _starts(spec, b, np.maximum(cum, 1e-9), start, int(n_starts or N_STARTS), seed)
    families = ("nb", "poisson") if loss == "auto" else (loss,)
    fits, sols = {}, {}
    for fam in families:
        # Poisson is NB's phi -> inf limit: start it from the NB solution (then the rest);
        # otherwise every start is run (the likelihood can have several local maxima)
        warm = [fits["nb"][0]] if not isinstance(fits.get("nb", FitError()), Exception) else []
        sols[fam] = None if warm else ([], [])
        got = (None, None) if warm else sols[fam]
        try:
            fits[fam] = fit_counts(
                spec, a, b, y, w, fam, warm + starts, solutions=got[0], rough=got[1]
            )
        except FitError as err:
            fits[fam] = err
    ok = {f: v for f, v in fits.items() if not isinstance(v, Exception)}
    if not ok:
        raise FitError(f"{where}{next(iter(fits.values()))}")
    notes = []
    if len(ok) > 1:
        aicc = {}
        for f, (_, ll, _, _) in ok.items():
            k = p + (1 if f == "nb" else 0)
            aicc[f] = -2 * ll + 2 * k + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else np.inf)
        fam = min(aicc, key=aicc.get)
        other = [f for f in aicc if f != fam][0]
        notes.append(
            f"per-period counts: {'negative binomial' if fam == 'nb' else 'Poisson'} likelihood "
            f"chosen by AICc ({fmt.number(aicc[fam])} against {fmt.number(aicc[other])} for "
            f"{'Poisson' if other == 'poisson' else 'negative binomial'})"
        )
    else:
        fam = next(iter(ok))
    th, ll, cov, phi = ok[fam]
    mu = increments(spec, a, b, th)
    fit = ReachFit(
        spec=spec,
        theta=_readonly(th),
        cov_matrix=_readonly(cov),
        obs=obs,
        loss=fam,
        weights=prep.weights,
        alpha=float(alpha),
        metric=prep.metric,
        origin=prep.origin,
        context=prep.context,
        f_scale=None,
        converged=bool(np.all(np.isfinite(mu))),
        n_starts=len(starts),
        n_starts_ok=1,
        notes=tuple(notes),
        events=prep.events,
        observation="per-period",
        dispersion=None if phi is None else float(phi),
    )
    # the other local maxima and where each start got to: branches for the profiles
    polished, rough = sols[fam] or ([], [])
    return fit, polished[1:] + rough


def _effects(fit, sched, prep, f_scale, seeds=(), covered=0):
    """The response_effect table and notes of an intervention fit, and a better maximum
    (theta, loglik, phi) when a profile found one (then the table is not valid)."""
    spec = fit.spec
    e_def = spec.definition["e"]
    robust = fit.loss in ("robust", "robust_log")
    model = _Model(prep, fit.loss, f_scale, fit.dispersion)
    se = np.sqrt(np.maximum(np.diag(fit.cov_matrix), 0.0))
    theta = np.asarray(fit.theta, dtype=float)
    rows, notes = [], []
    level = fmt.percent(1 - fit.alpha, 0)
    for k, (tk, date, kind) in enumerate(zip(sched["t"], sched["date"], sched["kind"])):
        nm = f"e_{k + 1}"
        row = {"date": date, "t": float(tk), "kind": kind, "parameter": nm}
        if e_def[k] == "estimate":
            j = spec.param_names.index(nm)
            v = float(theta[j])
            if robust:
                q = float(special.ndtri(1 - fit.alpha / 2))
                lo, hi = v - q * se[j], v + q * se[j]
                status = "estimated (asymptotic interval: robust loss)"
            else:
                R = refits(model, spec, j, k, covered)
                ll_hat = R.loglik(theta, fit.dispersion)
                scale, df = R.dispersion(theta, fit.dispersion), R.df()
                res = profile_interval(
                    R, theta, fit.dispersion, ll_hat, j, se[j], fit.alpha, seeds, scale, df
                )
                if res.better is not None:
                    return None, None, res.better
                lo, hi = res.lower, res.upper
                status = "estimated"
                if res.modes > 1:
                    notes.append(
                        f"the profile likelihood of {nm} has {res.modes} separate ranges "
                        f"inside its {level} confidence set (another local maximum of the "
                        "likelihood): the interval given spans them all"
                    )
                for side, is_open in (("below", res.open_lower), ("above", res.open_upper)):
                    if is_open:
                        notes.append(
                            f"the {level} profile interval of {nm} reaches its bound {side}: "
                            "the data hardly constrain it"
                        )
            row.update(e=v, lower=lo, upper=hi, status=status)
            if v < 0:
                notes.append(
                    f"{nm} = {fmt.number(v)} < 0: the response at day {fmt.number(tk)} "
                    "fuelled the storm rather than damping it (as Herhausen et al. 2019 found "
                    "for responses that only offer compensation)"
                )
        else:
            row.update(e=float(e_def[k]), lower=np.nan, upper=np.nan, status="scenario")
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
    table["date"] = pd.to_datetime(table["date"])
    return table, notes, None


def effect_lines(fit) -> list[str]:
    """Prose lines on the observation model and the response effects of a fit."""
    lines = []
    if fit.observation == "per-period":
        lik = {"nb": "negative binomial", "poisson": "Poisson", "log": "log-normal"}[fit.loss]
        extra = "" if fit.dispersion is None else f", dispersion phi = {fmt.number(fit.dispersion)}"
        lines.append(f"Per-period counts, {lik} likelihood{extra}.")
    eff = fit.response_effect
    if eff is None:
        return lines
    level = fmt.percent(1 - fit.alpha, 0)
    if "delta" in fit.spec.param_names:
        d = float(fit.params["delta"])
        if d < DELTA_NEGLIGIBLE:
            lines.append(
                "No attention decay detected (delta ~ 0): the response cannot change the "
                "final size in this fit, only when it is reached."
            )
        else:
            half = f"half-life {fmt.days(math.log(2) / d)}"
            lines.append(f"Attention decays at delta = {fmt.number(d)} per day ({half}).")
    for _, r in eff.iterrows():
        when = fmt.date(r["date"]) if pd.notna(r["date"]) else f"day {fmt.number(r['t'])}"
        if r["status"] == "scenario":
            lines.append(
                f"Response {r['parameter']} ({r['kind']}, {when}): e = {fmt.number(r['e'])}, a "
                "stated scenario value, not an estimate."
            )
        else:
            sign = " (negative: it fuelled the storm)" if r["e"] < 0 else ""
            lines.append(
                f"Response {r['parameter']} ({r['kind']}, {when}): e = "
                f"{fmt.interval(r['e'], r['lower'], r['upper'], kind='number')} ({level} "
                f"profile-likelihood interval), {r['status']}{sign}."
            )
    return lines
