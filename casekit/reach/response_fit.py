"""Fitting with the company's response inside the model, and fitting per-period counts.

:func:`casekit.reach.fit` calls :func:`fit_extended` when it is given ``response=...`` or
data made of per-period counts. The response effects ``e_k`` of an
:func:`~casekit.reach.intervention` curve are estimated when the observations straddle
the response (:func:`check_straddle`), with a profile-likelihood interval: the curve is
refitted with ``e_k`` fixed, and the interval is where ``2 (logL_max - logL(e_k))`` stays
below the chi-square(1) quantile. Otherwise ``e_k`` is a stated scenario value.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from scipy import optimize, special

from casekit import format as fmt
from casekit.exceptions import FitError, InsufficientDataError, ParameterError
from casekit.reach._solver import _make_problem, _readonly, _solve, _starts
from casekit.reach.curves import CurveSpec
from casekit.reach.data import _Prepared, period_bounds
from casekit.reach.intervention import intervention, response_schedule, spec_from_definition
from casekit.reach.observation import FAMILIES, fit_counts, increments

__all__ = ["COUNT_LOSSES", "EFFECT_COLUMNS", "fit_extended", "check_straddle", "effect_lines"]

COUNT_LOSSES = ("auto",) + FAMILIES
"""Losses of a per-period fit: ``auto`` (negative binomial or Poisson by AICc), ``nb``,
``poisson``, ``log`` (least squares on log counts)."""

EFFECT_COLUMNS = ("date", "t", "kind", "parameter", "e", "lower", "upper", "status")
"""Columns of :attr:`ReachFit.response_effect`."""

DELTA_NEGLIGIBLE = 1e-6
"""Below this decay rate (per day; half-life over 1,900 years) no decay is reported."""

MIN_SIDE = 2
"""Distinct observation times needed on each side of a response to estimate its effect."""


def _obs_times(prep_obs: pd.DataFrame) -> np.ndarray:
    if "period_days" in prep_obs:
        a, b = period_bounds(prep_obs)
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


def _chi2_1(alpha: float) -> float:
    return float(special.chdtri(1, alpha))


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
            self.a, self.b = period_bounds(prep.obs)

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


def _fixed_spec(spec: CurveSpec, k: int, value: float) -> CurveSpec:
    d = dict(spec.definition)
    e = list(d["e"])
    e[k] = float(value)
    d["e"] = e
    return spec_from_definition(d)


def _same_final_time(spec: CurveSpec, rest, j: int, k: int, e_from: float, e_to: float):
    """A second warm start for a profile refit: ``rest`` with the decay rate moved so the
    final operational time tau(inf) stays what it was at ``e_from`` (a larger effect with
    slower decay can tell the same story: that branch of the profile is then reached)."""
    from casekit.reach.intervention import _tau_inf

    names = [n for i, n in enumerate(spec.param_names) if i != j]
    if "delta" not in names:
        return None
    i_d = names.index("delta")
    d0 = float(rest[i_d])
    if not d0 > 0:
        return None
    times = spec.definition["responses"]
    full = np.insert(np.asarray(rest, dtype=float), j, e_from)
    eff = [
        full[spec.param_names.index(f"e_{i + 1}")]
        if spec.definition["e"][i] == "estimate"
        else spec.definition["e"][i]
        for i in range(len(times))
    ]
    goal = float(_tau_inf(d0, times, eff))
    eff[k] = e_to
    lo, hi = 1e-9, 10.0
    for _ in range(50):
        mid = math.sqrt(lo * hi)
        if float(_tau_inf(mid, times, eff)) > goal:
            lo = mid
        else:
            hi = mid
    out = np.asarray(rest, dtype=float).copy()
    out[i_d] = math.sqrt(lo * hi)
    return out


def _profile_e(model: _Model, spec: CurveSpec, theta, ll_hat, name: str, k: int, se, alpha):
    """Profile-likelihood interval of e_k: (lower, upper, open_lower, open_upper).

    The signed root ``z(v) = sqrt(2 (logL_max - logL_profile(v)))`` is close to linear in
    ``v``: each side starts at the Wald bound, extrapolates ``z`` linearly until it
    brackets ``sqrt(chi2_1)``, then Brent's method finds the crossing. Every refit is
    warm-started from the refit nearest in ``v`` (nuisance parameters and dispersion);
    when that fails, from the maximum-likelihood estimate, then from the curve's own
    starting points. A refit that beats the maximum raises it (the maximum was local).
    """
    j = spec.param_names.index(name)
    lo_b, hi_b = spec.bounds[j]
    target = math.sqrt(_chi2_1(alpha))
    theta = np.asarray(theta, dtype=float)
    e_hat = float(theta[j])
    best = {"ll": float(ll_hat)}
    cache = {e_hat: (np.delete(theta, j), model.phi, float(ll_hat))}
    fallback = None

    def refit(v, thorough=False):
        nonlocal fallback
        v = float(v)
        if v in cache and not thorough:
            return cache[v][2]
        if fallback is None:
            cum = np.cumsum(model.y) if model.counts else model.y
            tt = model.b if model.counts else model.t
            own = _starts(spec, tt, np.maximum(cum, 1e-9), None, 2, 0)
            fallback = [np.delete(s, j) for s in own]
        near = min(cache, key=lambda u: abs(u - v))
        fs = _fixed_spec(spec, k, v)
        # the profile can switch between branches of the nuisance parameters (a larger
        # saturation against a slower decay): the warm start alone may follow the wrong
        # one, so the curve's own starts are always tried too and the best refit wins
        tries = [(cache[near][0], cache[near][1])]
        alt = _same_final_time(spec, cache[near][0], j, k, near, v)
        if alt is not None:
            tries.append((alt, cache[near][1]))
        if thorough:
            tries += [(s, None) for s in fallback]
        out = None
        for st, phi in tries:
            try:
                got = model.loglik(fs, [st], phi)
            except FitError:
                continue
            if out is None or got[1] > out[1]:
                out = got
        if out is None:
            try:
                out = model.loglik(fs, [cache[e_hat][0]] + fallback, model.phi)
            except FitError:
                return np.nan
        th, ll, ph = out
        if v in cache and cache[v][2] >= ll:
            return cache[v][2]
        cache[v] = (np.asarray(th, dtype=float), ph, float(ll))
        best["ll"] = max(best["ll"], float(ll))
        return float(ll)

    def z(v):
        ll = refit(v)
        if not np.isfinite(ll):
            return np.nan
        return math.sqrt(max(2.0 * (best["ll"] - ll), 0.0))

    step0 = se if np.isfinite(se) and se > 0 else 0.1
    out = []
    for sign, bound in ((-1, lo_b), (1, hi_b)):
        v_in, z_in = e_hat, 0.0
        dist = target * step0
        res = None
        for _ in range(3):  # a root the curve's own starts undercut: search on from there
            bracket = None
            for _ in range(30):
                v = float(np.clip(v_in + sign * dist, lo_b, hi_b))
                zv = z(v)
                if not np.isfinite(zv):  # refit failed: come back halfway
                    dist *= 0.5
                    if dist < 1e-6:
                        break
                    continue
                if zv >= target:
                    bracket = (v_in, v)
                    break
                if v == bound:
                    break
                slope = (zv - z_in) / abs(v - v_in) if v != v_in else 0.0
                need = (target - zv) / slope if slope > 0 else 4.0 * abs(v - e_hat)
                dist = float(np.clip(1.15 * need + 1e-3, 1e-3, 4.0 * max(abs(v - e_hat), step0)))
                v_in, z_in = v, zv
            if bracket is None:
                res = (float(bound), True)
                break
            a, b = sorted(bracket)
            try:
                r = optimize.brentq(lambda v: z(v) - target, a, b, xtol=1e-3)
            except ValueError:
                r = bracket[1]
            refit(r, thorough=True)
            zr = z(r)
            res = (float(r), False)
            if not (np.isfinite(zr) and zr < target - 0.02):
                break
            v_in, z_in, dist = float(r), zr, 0.25 * abs(r - e_hat) + 1e-3
        out.append(res)
    return out[0][0], out[1][0], out[0][1], out[1][1]


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
    if counts:
        fit = _fit_counts(prep, spec, loss, start, alpha, n_starts, seed, where)
    else:
        fit = fit_cumulative(prep, spec)
    if sched is None:
        return fit
    table, notes = _effects(fit, sched, prep, f_scale)
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
    a, b = period_bounds(obs)
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
    starts = _starts(spec, b, np.maximum(cum, 1e-9), start, int(n_starts or 6), seed)
    families = ("nb", "poisson") if loss == "auto" else (loss,)
    fits = {}
    for fam in families:
        # Poisson is NB's phi -> inf limit: start it from the NB solution (then the rest)
        warm = [fits["nb"][0]] if not isinstance(fits.get("nb", FitError()), Exception) else []
        try:
            fits[fam] = fit_counts(spec, a, b, y, w, fam, warm + starts)
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
    return ReachFit(
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


def _effects(fit, sched, prep, f_scale):
    """The response_effect table and notes of an intervention fit."""
    spec = fit.spec
    e_def = spec.definition["e"]
    robust = fit.loss in ("robust", "robust_log")
    model = _Model(prep, fit.loss, f_scale, fit.dispersion)
    ll_hat = None
    if not robust:
        _, ll_hat, _ = model.loglik(spec, [np.asarray(fit.theta)])
    se = fit.bse
    rows, notes = [], []
    for k, r in sched.reset_index(drop=True).iterrows():
        nm = f"e_{k + 1}"
        row = {"date": r["date"], "t": float(r["t"]), "kind": r["kind"], "parameter": nm}
        if e_def[k] == "estimate":
            v = float(fit.params[nm])
            if robust:
                q = 1.959963984540054
                lo, hi = v - q * se[nm], v + q * se[nm]
                status = "estimated (asymptotic interval: robust loss)"
            else:
                lo, hi, open_lo, open_hi = _profile_e(
                    model, spec, fit.theta, ll_hat, nm, k, float(se[nm]), fit.alpha
                )
                status = "estimated"
                if open_lo or open_hi:
                    notes.append(
                        f"the profile interval of {nm} reaches its bound "
                        f"{'below' if open_lo else 'above'}: the data hardly constrain it"
                    )
            row.update(e=v, lower=lo, upper=hi, status=status)
            if v < 0:
                notes.append(
                    f"{nm} = {fmt.number(v)} < 0: the response at day {fmt.number(r['t'])} "
                    "fuelled the storm rather than damping it (as Herhausen et al. 2019 found "
                    "for responses that only offer compensation)"
                )
        else:
            row.update(e=float(e_def[k]), lower=np.nan, upper=np.nan, status="scenario")
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
    table["date"] = pd.to_datetime(table["date"])
    return table, notes


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
