"""The delay cost in the intervention model: the fitted curve with the company's response
inside it, and the same curve with only the response moved.

The fit's curve is an :func:`~casekit.reach.intervention` curve ``y(t) = F(tau(t))``
whose spread rate each response multiplies by ``(1 - e_k)``. The counterfactual "first
response at day d" keeps every parameter (e and delta included) and moves the responses
(later ones keep their spacing); at the fit's own response time it *is* the fitted curve,
and ``d = inf`` (never) is the curve with no response. A fit without a response inside is
refitted with it (:func:`with_response`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.exceptions import FitError, InsufficientDataError, ParameterError
from casekit.response._common import (
    band,
    check_count,
    check_effectiveness,
    check_number,
    fit_case_id,
    reach_module,
    resolve_fit,
    response_time,
)
from casekit.response.counterfactual import (
    BANDS,
    DEFAULT_EFFECTIVENESS,
    EFFECTIVENESS_NOTE,
    _CurveModel,
    _param_draws,
)
from casekit.results import check_alpha

__all__ = [
    "counterfactual_reach",
    "counterfactual_curve",
    "with_response",
    "intervention_fields",
    "intervention_delay_cost",
]


def intervention_parts(fit):
    """The base curve, response times and an unpacker of an intervention fit.

    Returns ``(base, times, unpack)`` where ``unpack(P)`` gives, for parameter rows ``P``
    (shape (n, p)), the base parameters, delta and the effects, each of shape (n, 1) or a
    fixed float.
    """
    spec = fit.spec
    d = dict(spec.definition)
    base = _base_of(spec)
    names = list(spec.param_names)
    pb = base.k
    times = [float(x) for x in d["responses"]]

    def unpack(P):
        P = np.asarray(P, dtype=float)
        th = [P[:, [j]] for j in range(pb)]
        delta = P[:, [names.index("delta")]] if d["delta"] == "estimate" else float(d["delta"])
        effects = [
            P[:, [names.index(f"e_{k + 1}")]] if v == "estimate" else float(v)
            for k, v in enumerate(d["e"])
        ]
        return th, delta, effects

    return base, times, unpack


def _base_of(spec):
    from casekit.reach.multiwave import _spec_from_definition

    d = spec.definition
    return _spec_from_definition(d["base"], d.get("base_definition"))


def counterfactual_reach(fit, delays, horizon: float, P: np.ndarray) -> np.ndarray:
    """Reach by ``horizon`` (``inf``: final reach) had the first response come at each delay.

    Later responses keep their spacing relative to the first; a delay of ``inf`` is never
    (no response: the curve with attention decay only). Shape (n_draws, n_delays). At the
    fit's own first-response time it reproduces the fitted curve exactly.

    Examples
    --------
    >>> import numpy as np
    >>> import casekit as ck
    >>> from casekit.response.intervention_cost import counterfactual_reach
    >>> t = np.arange(0.0, 12.0)
    >>> spec = ck.reach.intervention("logistic", [4.0], e=0.5, delta=0.1)
    >>> fit = ck.reach.fit(spec(t, 1000.0, 0.9, 3.0) * (1 + 0.01 * np.sin(t)), spec, t=t)
    >>> P = np.asarray(fit.theta)[None, :]
    >>> got = counterfactual_reach(fit, [4.0, np.inf], np.inf, P)[0]
    >>> bool(np.isclose(got[0], fit.spec.saturation(*fit.theta), rtol=1e-12))
    True
    >>> bool(got[1] > got[0])  # never responding: more reach
    True
    """
    from casekit.reach.intervention import _tau_inf, operational_time

    base, times, unpack = intervention_parts(fit)
    th, delta, effects = unpack(P)
    d = np.asarray(delays, dtype=float)[None, :]
    never = ~np.isfinite(d)
    dd = np.where(never, 0.0, d)
    shifted = [dd + (tk - times[0]) for tk in times]
    eff = [np.where(never, 0.0, np.broadcast_to(e_, (len(P), 1))) for e_ in effects]
    with np.errstate(all="ignore"):
        if np.isinf(horizon):
            tau = _tau_inf(delta, shifted, eff)
            fin = np.isfinite(tau)
            out = np.where(fin, base.f(np.where(fin, tau, 0.0), *th), base.saturation(*th))
        else:
            tau = operational_time(np.full(dd.shape, float(horizon)), delta, shifted, eff)
            out = base.f(tau, *th)
    return np.broadcast_to(out, (len(P), d.shape[1])).astype(float)


def counterfactual_curve(fit, delay: float, t) -> np.ndarray:
    """The curve over times ``t`` had the first response come at day ``delay`` (``inf``:
    never), for an intervention fit at its estimates; at the fit's own first-response
    time it is the fitted curve.

    Examples
    --------
    >>> import numpy as np
    >>> import casekit as ck
    >>> from casekit.response.intervention_cost import counterfactual_curve
    >>> spec = ck.reach.intervention("logistic", [4.0], e=0.5, delta=0.1)
    >>> t = np.arange(0.0, 12.0)
    >>> fit = ck.reach.fit(spec(t, 1000.0, 0.9, 3.0) * (1 + 0.01 * np.sin(t)), spec, t=t)
    >>> bool(np.allclose(counterfactual_curve(fit, 4.0, t), fit.spec(t, *fit.theta)))
    True
    """
    from casekit.reach.intervention import operational_time

    base, times, unpack = intervention_parts(fit)
    th, delta, effects = unpack(np.asarray(fit.theta, dtype=float)[None, :])
    t = np.asarray(t, dtype=float)
    never = not np.isfinite(delay)
    shifted = [(0.0 if never else float(delay)) + (tk - times[0]) for tk in times]
    eff = [0.0 if never else e_ for e_ in effects]
    with np.errstate(all="ignore"):
        out = base.f(operational_time(t[None, :], delta, shifted, eff), *th)
    return np.broadcast_to(out, (1, t.size))[0].astype(float)


def _schedule(fit, actual_delay, response):
    """The response times to refit with, and where they came from."""
    if actual_delay is not None:
        ad = check_number(actual_delay, "actual_delay", allow_inf=False)
        return [ad], "given by the caller"
    if isinstance(response, str) and response == "first":
        t, note = response_time(fit, None)
        if t is not None:
            return [t], note
        if getattr(fit, "context", None) is None:
            raise InsufficientDataError(
                f"{note}. The intervention model needs it to reproduce what happened: give "
                "actual_delay=<days after the origin>, fit with response=[...], or use "
                "model='flow' (the accounting variant)"
            )
    return response, "the case's company responses"


def with_response(
    fit, effectiveness=None, response="first", actual_delay=None, scenario=None, *, point=False
):
    """``fit`` itself when its curve holds the response, else the intervention model refitted
    to the fit's data and case context, starting from the fit's own estimates
    (:func:`~casekit.response.intervention_refit.refit_with_response`).

    e is estimated when the data straddle the first response, else it is the scenario
    value ``scenario`` (default 0.5); ``effectiveness`` forces a scenario e. Returns
    ``(fit, how, where_from)``: the fit, a note on how it was obtained and where the
    response time came from. ``point=True``: for point estimates only (the tornado of
    :func:`~casekit.response.sensitivity`), a cumulative least-squares fit may come back
    as a light stand-in (its ``spec``, ``theta`` and ``response_effect``; no covariance
    and no interval of e).
    """
    if fit.response_effect is not None:
        if effectiveness is not None:
            raise ParameterError(
                "this fit holds the response (its e is in fit.response_effect); to use a "
                "scenario e, fit with ck.reach.fit(..., response=..., e=value)"
            )
        t1 = float(fit.response_effect["t"].iloc[0])
        if actual_delay is not None and not np.isclose(
            check_number(actual_delay, "actual_delay"), t1
        ):
            raise ParameterError(
                f"actual_delay={actual_delay:g} but the fit's first response is at day "
                f"{t1:g}; the intervention model takes the response times from the fit "
                "(refit with response=[...] to move them)"
            )
        return fit, "the fit's own intervention model", "the fit's first response"
    resp = tuple(response) if isinstance(response, (list, tuple)) else response
    key = ("with_response", effectiveness, resp, actual_delay, scenario, point)
    cache = getattr(fit, "_cache", None)
    hit = cache.get(key) if isinstance(cache, dict) else None
    if hit is None:
        hit = _refit(fit, effectiveness, response, actual_delay, scenario, point)
        if isinstance(cache, dict):  # the classroom asks again for every slider position
            cache[key] = hit
    return hit


def _refit(fit, effectiveness, response, actual_delay, scenario, point=False):
    """:func:`with_response` for a fit without the response inside (not cached)."""
    from casekit.reach.data import _Prepared
    from casekit.reach.intervention import E_BOUNDS
    from casekit.reach.response_fit import _obs_times, check_straddle, fit_extended
    from casekit.response.intervention_refit import _times_of, point_fit, refit_with_response

    times, where_from = _schedule(fit, actual_delay, response)
    reach = reach_module()
    prep = _Prepared(
        obs=fit.obs,
        origin=fit.origin,
        context=fit.context,
        metric=fit.metric,
        events=fit.events,
        weights=fit.weights,
    )

    light = point and fit.loss in ("ols", "log") and fit.observation != "per-period"

    def fit_once(e, delta, start):
        with np.errstate(all="ignore"):  # a degenerate start overflows; it then fails plainly
            if light:
                return point_fit(fit, prep, _times_of(fit, times), e, delta, start)
            return _fit_once(e, delta, start)

    def _fit_once(e, delta, start):
        return fit_extended(
            prep,
            fit.spec,
            e=e,
            loss=fit.loss,
            response=times,
            delta=delta,
            start=[start],
            alpha=fit.alpha,
            n_starts=1,
            seed=0,
            f_scale=fit.f_scale,
            fit_cumulative=lambda p_, s_: reach._fit_prepared(
                p_,
                s_,
                loss=fit.loss,
                start=[start],
                alpha=fit.alpha,
                n_starts=1,
                seed=0,
                f_scale=fit.f_scale,
                diagnose=False,  # the fit being refitted was checked already
            ),
        )

    def refit(e):
        try:
            return refit_with_response(fit, prep, times, e, fit_once)
        except FitError as err:
            raise FitError(
                f"{err}. The intervention model (the response inside the {fit.curve} "
                "curve, with attention decay delta) could not be fitted to these data; "
                "use a curve with fewer parameters, or model='flow' (the accounting "
                "variant, which damps the fitted curve)"
            ) from None

    def told(note):
        return f"; {note}" if note else ""

    if effectiveness is None:
        n_e = len(_times_of(fit, times))
        where = f"{prep.case_id}: " if prep.case_id else ""
        try:
            check_straddle(_obs_times(prep.obs), _times_of(fit, times), [True] * n_e, where)
        except InsufficientDataError as err:
            why = str(err).split(". Give e")[0]  # the reason, without the advice
            effectiveness = DEFAULT_EFFECTIVENESS if scenario is None else scenario
            effectiveness = check_effectiveness(effectiveness, "scenario effectiveness")
        else:
            out, note = refit("estimate")
            return (
                out,
                f"the {fit.curve} fit refitted with the response inside (e estimated)" + told(note),
                where_from,
            )
    else:
        effectiveness = check_effectiveness(effectiveness)
        why = "e given by the caller"
    if effectiveness > E_BOUNDS[1]:
        raise ParameterError(
            f"effectiveness {fmt.number(effectiveness)} stops all spread from the response "
            "on, so the curve could not pass through the readings after it: the intervention "
            f"model takes e up to {fmt.number(E_BOUNDS[1])} (model='flow' damps the fitted "
            "curve instead)"
        )
    out, note = refit(float(effectiveness))
    return (
        out,
        f"the {fit.curve} fit refitted with the response inside, e = "
        f"{fmt.number(effectiveness)}, a stated scenario value ({why})" + told(note),
        where_from,
    )


def intervention_fields(fit, grid, horizon, n_draws, seed, alpha, bands) -> dict:
    """The table, draws and bands of the intervention-model delay cost."""
    t1 = float(fit.response_effect["t"].iloc[0])
    grid = np.unique(np.concatenate([grid, [t1, np.inf]]))
    P0 = np.asarray(fit.theta, dtype=float)[None, :]
    at = counterfactual_reach(fit, np.append(grid, 0.0), horizon, P0)[0]
    final0, y00 = at[:-1], float(at[-1])
    never0 = float(final0[-1])
    draws, dnote = _param_draws(_CurveModel(fit), fit, n_draws, seed, bands)
    if draws is not None:
        allv = counterfactual_reach(fit, np.append(grid, 0.0), horizon, draws)
        F, base = allv[:, :-1], allv[:, -1]
        actual_d = F[:, np.flatnonzero(grid == t1)[0]]
        never_d = F[:, -1]
        lo, hi = band(F, alpha)
        flo, fhi = band(actual_d, alpha)
    else:
        F = base = actual_d = never_d = None
        lo = hi = np.full(len(grid), np.nan)
        flo = fhi = np.nan
    table = pd.DataFrame(
        {
            "delay_days": grid,
            "final_reach": final0,
            "lower": lo,
            "upper": hi,
            "reach_avoided": never0 - final0,
            "cost_of_delay": final0 - y00,
            "actual": grid == t1,
        }
    )
    return dict(
        table=table,
        fitted_final=float(final0[grid == t1][0]),
        fitted_band=(float(flo), float(fhi)),
        actual_delay=t1,
        draws=draws,
        finals=F,
        fitted_draws=actual_d,
        base_draws=base,
        never_draws=never_d,
        dnote=dnote,
    )


def intervention_settings(fit, how, where_from, H, alpha, n_draws, seed, dnote) -> dict:
    """The settings of an intervention-model delay cost."""
    eff = fit.response_effect
    e1 = float(eff["e"].iloc[0])
    t1 = float(eff["t"].iloc[0])
    if eff["status"].iloc[0] == "scenario":
        e_text = f"{fmt.number(e1)}, a stated scenario value"
    else:
        e_text = (
            f"{fmt.interval(e1, eff['lower'].iloc[0], eff['upper'].iloc[0], kind='number')} "
            f"({fmt.percent(1 - fit.alpha, 0)} profile-likelihood interval), estimated"
        )
    if e1 < 0:
        e_text += (
            "; negative: the response fuelled the storm, so an earlier response gives MORE "
            "reach, not less (as Herhausen et al. 2019 found for responses that only offer "
            "compensation)"
        )
    elif eff["status"].iloc[0] == "scenario":
        e_text += f". {EFFECTIVENESS_NOTE}"
    origin = getattr(fit, "origin", None)
    actual = f"day {fmt.number(t1)}: {where_from} (at it the model reproduces the fit)"
    if "range" in where_from:
        actual += " (a later date in the range would give a larger cost)"
    if t1 < 0:
        actual += " - the company responded before going public"
    return {
        "case": fit_case_id(fit),
        "intervention model": (
            "the fitted intervention curve y = F(tau(t)): each response at t_k multiplies the "
            "spread rate by (1 - e_k) from t_k on, attention decays at rate delta "
            "(casekit.reach.intervention); the counterfactual moves only the responses"
        ),
        "fit": how,
        "effectiveness e": e_text,
        "delay": (
            "days after the origin t = 0 ("
            f"{'none' if origin is None else fmt.date(pd.Timestamp(origin))}) at which the "
            "first response comes; later responses keep their spacing relative to the first"
        ),
        "actual delay": actual,
        "never responding": "d = inf: no response, the undamped curve (attention decay only)",
        "final reach read at": "t -> infinity" if np.isinf(H) else f"day {fmt.number(H)}",
        "bands": f"{fmt.percent(1 - alpha, 0)} percentile bands over parameter draws "
        f"(including e's uncertainty when estimated); {dnote}",
        "n_draws": int(n_draws),
        "seed": int(seed),
        "alpha": alpha,
    }


def intervention_delay_cost(
    fit,
    delays,
    effectiveness,
    horizon,
    n_draws,
    seed,
    alpha,
    actual_delay,
    curve,
    metric,
    bands,
    response,
    scenario,
):
    """:func:`~casekit.response.delay_cost` with ``model="intervention"`` (its arguments,
    in order)."""
    from casekit.response.cost import DELAY_COST_COLUMNS, DelayCost, _delay_grid

    alpha = check_alpha(alpha)
    grid = _delay_grid(delays)
    check_count(n_draws, "n_draws")
    check_count(seed, "seed")
    if effectiveness is not None:
        effectiveness = check_effectiveness(effectiveness)
    if bands not in BANDS:
        raise ParameterError(f"bands must be 'normal' or 'bootstrap', not {bands!r}")
    H = np.inf if horizon is None else check_number(horizon, "horizon", allow_inf=True)
    if not H > 0:
        raise ParameterError("horizon must be > 0 days")
    fit = resolve_fit(fit, curve=curve, metric=metric)
    if scenario is not None:
        scenario = check_effectiveness(scenario, "scenario_effectiveness")
    fit, how, where_from = with_response(fit, effectiveness, response, actual_delay, scenario)
    out = intervention_fields(fit, grid, H, n_draws, seed, alpha, bands)
    settings = intervention_settings(fit, how, where_from, H, alpha, n_draws, seed, out["dnote"])
    metric_name = getattr(fit, "metric", None)
    eff = fit.response_effect.iloc[0]
    status = "scenario" if eff["status"] == "scenario" else "estimated"
    bounds = (float(eff["lower"]), float(eff["upper"]))
    return DelayCost(
        case_id=fit_case_id(fit),
        curve=fit.curve,
        metric=metric_name,
        model="intervention",
        effectiveness=float(fit.response_effect["e"].iloc[0]),
        effectiveness_status=status,
        effectiveness_bounds=bounds,
        horizon=H,
        _table=out["table"][list(DELAY_COST_COLUMNS)],
        fitted_final=out["fitted_final"],
        fitted_band=out["fitted_band"],
        actual_delay=out["actual_delay"],
        _settings=settings,
        draws=out["draws"],
        finals=out["finals"],
        fitted_draws=out["fitted_draws"],
        base_draws=out["base_draws"],
        never_draws=out["never_draws"],
        alpha=alpha,
        statement=f"computed from a {fit.curve} fit of {metric_name!r}",
    )
