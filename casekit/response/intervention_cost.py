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
    check_effectiveness,
    check_number,
    fit_case_id,
    reach_module,
    response_time,
)
from casekit.response.counterfactual import (
    DEFAULT_EFFECTIVENESS,
    EFFECTIVENESS_NOTE,
    _CurveModel,
    _param_draws,
)

__all__ = ["counterfactual_reach", "with_response", "intervention_fields"]


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


def _warm_starts(fit, n_e, e_fixed=None, t1=None):
    """Starts at the fit's own estimates (no decay: the same curve) and near them; None
    when the number of effects is not known in advance (response="all").

    With a fixed e, the first start is the fit's curve seen in operational time: after
    the response time runs (1 - e) times slower, so rates grow by 1 / (1 - e) and
    midpoints ``t0`` move to ``t1 + (1 - e)(t0 - t1)`` (exact for data after ``t1``).
    """
    if n_e is None:
        return None
    th = [float(x) for x in fit.theta]
    out = [th + [d] + [e] * n_e for d, e in ((1e-3, 0.0), (0.02, 0.3), (0.1, 0.0))]
    if e_fixed is not None and t1 is not None and e_fixed < 1:
        s = 1.0 - e_fixed
        moved = []
        for nm, v in zip(fit.spec.param_names, th):
            base = nm.split("_")[0]
            if nm.startswith("t0"):
                moved.append(t1 + s * (v - t1))
            elif base in ("r", "p", "q"):
                moved.append(v / s)
            else:
                moved.append(v)
        out.insert(0, moved + [1e-6])
    return out


def _with_p0(starts, spec, prep):
    """The warm starts, then the curve's own p0 starts."""
    if starts is None:
        return None
    t = prep.obs["t"].to_numpy(dtype=float)
    y = prep.obs["y"].to_numpy(dtype=float)
    with np.errstate(all="ignore"):
        more = [list(s) for s in spec.p0(t, y)]
    return starts + [s for s in more if len(s) == spec.k and np.all(np.isfinite(s))]


def with_response(fit, effectiveness=None, response="first", actual_delay=None):
    """``fit`` itself when its curve holds the response, else the intervention model refitted
    to the fit's data and case context.

    e is estimated when the data straddle the first response, else it is the scenario
    ``effectiveness`` (default 0.5). Returns ``(fit, how, where_from)``: the fit, a note on
    how it was obtained and where the response time came from.
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
    from casekit.reach.data import _Prepared
    from casekit.reach.response_fit import fit_extended

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
    n_resp = 1 if isinstance(times, list) else None

    def refit(e):
        try:
            return refit_once(e, None)
        except InsufficientDataError:
            raise
        except FitError:  # a curve with many parameters may need more starts
            try:
                return refit_once(e, 30, warm=False)
            except InsufficientDataError:
                raise
            except FitError as err:
                raise FitError(
                    f"{err}. The intervention model (the response inside the {fit.curve} "
                    "curve, with attention decay delta) could not be fitted to these data; "
                    "use a curve with fewer parameters, or model='flow' (the accounting "
                    "variant, which damps the fitted curve)"
                ) from None

    def refit_once(e, n_starts, warm=True):
        starts = None
        if warm:
            fixed = None if e == "estimate" else float(e)
            t1 = times[0] if isinstance(times, list) and len(times) == 1 else None
            starts = _warm_starts(fit, n_resp if fixed is None else 0, fixed, t1)
        return fit_extended(
            prep,
            fit.spec,
            e=e,
            loss=fit.loss,
            response=times,
            delta="estimate",
            start=starts,
            alpha=fit.alpha,
            n_starts=n_starts,
            seed=0,
            f_scale=fit.f_scale,
            fit_cumulative=lambda p_, s_: reach._fit_prepared(
                p_,
                s_,
                loss=fit.loss,
                start=_with_p0(starts, s_, p_),
                alpha=fit.alpha,
                n_starts=n_starts,
                seed=0,
                f_scale=fit.f_scale,
            ),
        )

    if effectiveness is None:
        try:
            out = refit("estimate")
            return (
                out,
                f"the {fit.curve} fit refitted with the response inside (e estimated)",
                (where_from),
            )
        except InsufficientDataError as err:
            why = str(err)
            effectiveness = DEFAULT_EFFECTIVENESS
    else:
        effectiveness = check_effectiveness(effectiveness)
        why = "e given by the caller"
    out = refit(float(effectiveness))
    return (
        out,
        f"the {fit.curve} fit refitted with the response inside, e = "
        f"{fmt.number(effectiveness)} a stated scenario value ({why})",
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
