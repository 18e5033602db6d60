"""Refitting a reach fit with the company's response inside its curve, starting from
the fit itself.

The intervention counterfactual (:mod:`casekit.response.intervention_cost`) needs the
fit's curve with the response inside: ``y(t) = F(tau(t))``, the base curve ``F`` run in
an operational time that the response slows by ``(1 - e)`` and attention decay at rate
``delta`` stops. Fitting that model from the curve's generic starting points fails on
curves with many parameters: on United Breaks Guitars' two-wave log fit the decay rate
trades off against the slow second wave, whose size and midpoint run off together
(towards a wave that is only ever seen rising). So the refit moves away from the fit
step by step:

1. ``delta`` is profiled on a grid that starts at 0. There the start reproduces the fit
   exactly: with ``e`` estimated, ``e = 0`` is the fit's own curve; with a scenario
   ``e``, the fit's curve moved into operational time (rates ``/ (1 - e)``, midpoints
   towards the response) is the same curve at every time after the response. Each
   grid point is warm-started from the one before (continuation).
2. The full model (``delta`` estimated) is fitted from the best grid point.
3. When that fit does not converge, or its parameters are not identified, ``delta`` is
   held at the grid value with the highest likelihood whose fit is identified; the
   note says so, with the grid values the likelihood does not reject. The bands then
   leave out the uncertainty of ``delta``.
"""

from __future__ import annotations

import math

import numpy as np

from casekit import format as fmt
from casekit.exceptions import FitError

__all__ = ["refit_with_response", "point_fit", "delta_grid", "moved_start"]

GRID_PER_DECADE = 4
"""Grid points of the delta profile per decade."""

GRID_SPAN = (1e-3, 3.0)
"""The delta grid runs from ``GRID_SPAN[0] / T`` to ``GRID_SPAN[1] / T`` per day (and 0),
``T`` the median positive observation time: from an attention half-life about 700 times
the story's own time scale down to a quarter of it."""

GIVE_UP = 12.0
"""The grid stops climbing once twice the log-likelihood has fallen this far below its
best for two points in a row."""

_NEUTRAL = ("robust", "robust_log")


def delta_grid(obs_times) -> np.ndarray:
    """0, then a geometric grid of decay rates on the data's own time scale.

    Examples
    --------
    >>> from casekit.response.intervention_refit import delta_grid
    >>> g = delta_grid([1.0, 2.0, 4.0, 10.0])
    >>> float(g[0]), round(float(g[1]), 5), round(float(g[-1]), 3)
    (0.0, 0.00033, 1.0)
    """
    t = np.asarray(obs_times, dtype=float)
    t = t[np.isfinite(t) & (t > 0)]
    scale = float(np.median(t)) if t.size else 1.0
    lo, hi = GRID_SPAN[0] / scale, GRID_SPAN[1] / scale
    n = int(round(GRID_PER_DECADE * math.log10(hi / lo))) + 1
    return np.concatenate([[0.0], np.geomspace(lo, hi, n)])


def moved_start(fit, e: float, t1: float) -> list[float]:
    """The fit's parameters moved into operational time for a scenario ``e``.

    With ``delta = 0`` the operational time after the first response ``t1`` runs
    ``(1 - e)`` times slower, so a curve whose time enters as ``r (t - t0)`` gives the
    fitted curve at every ``t >= t1`` when its rates grow by ``1 / (1 - e)`` and its
    midpoints move to ``t1 + (1 - e)(t0 - t1)`` (exact for logistic, Gompertz, Richards
    and their multi-wave sums; a start for the others).

    Examples
    --------
    >>> import numpy as np
    >>> import casekit as ck
    >>> from casekit.response.intervention_refit import moved_start
    >>> from types import SimpleNamespace
    >>> base = ck.reach.CURVES["logistic"]
    >>> fit = SimpleNamespace(theta=(100.0, 0.8, 5.0), spec=base)
    >>> th = moved_start(fit, 0.5, 2.0)
    >>> spec = ck.reach.intervention("logistic", [2.0], e=0.5, delta=0.0)
    >>> t = np.array([2.0, 4.0, 9.0])
    >>> bool(np.allclose(spec(t, *th), base(t, 100.0, 0.8, 5.0), rtol=1e-12))
    True
    """
    s = 1.0 - float(e)
    out = []
    for nm, v in zip(fit.spec.param_names, fit.theta):
        v = float(v)
        kind = nm.split("_")[0]
        if kind == "t0":
            out.append(t1 + s * (v - t1))
        elif kind in ("r", "p", "q") and s > 0:
            out.append(v / s)
        else:
            out.append(v)
    return out


def _times_of(fit, response) -> list[float]:
    from casekit.reach.intervention import response_schedule

    if isinstance(response, list) and all(isinstance(x, float) for x in response):
        return response
    return response_schedule(fit.context, fit.origin, response)["t"].tolist()


def _first_starts(fit, e, times):
    """Starts at delta = 0 that reproduce the fit (see the module docstring)."""
    th = [float(x) for x in fit.theta]
    if e == "estimate":
        return [th + [0.0] * len(times)]
    return [moved_start(fit, float(e), times[0]), th]


def _profile(fit, prep, times, e):
    """The fits along the delta grid: a list of (delta, theta, loglik), warm-started."""
    from casekit.reach.intervention import intervention
    from casekit.reach.response_fit import _Model, _obs_times

    loss = fit.loss
    if loss in _NEUTRAL:  # the profile ranks by least squares on the loss's scale
        loss = "log" if loss == "robust_log" else "ols"
    model = _Model(prep, loss, fit.f_scale, fit.dispersion)
    loglik = model.loglik if model.counts else _Quick(model).loglik
    first = _first_starts(fit, e, times)
    prev, out, best, low_run = None, [], -np.inf, 0
    for d in delta_grid(_obs_times(prep.obs)):
        spec = intervention(fit.spec, times, e=e, delta=float(d))
        got = None
        for starts in ([prev], first) if prev is not None else (first,):
            try:
                with np.errstate(all="ignore"):  # a start may overflow on its way
                    got = loglik(spec, starts)
                break
            except FitError:
                continue
        if got is None:
            continue
        th, ll, _ = got
        if not np.isfinite(ll):
            continue
        prev = np.asarray(th, dtype=float)
        out.append((float(d), prev, float(ll)))
        best = max(best, ll)
        low_run = low_run + 1 if 2.0 * (best - ll) > GIVE_UP else 0
        if low_run >= 2:
            break
    return out


class _Quick:
    """A least-squares refit for the profile grid: one Levenberg-Marquardt run from the
    warm start to 1e-8, with no polish (the grid only ranks delta values)."""

    def __init__(self, model):
        self.t, self.y, self.w, self.loss = model.t, model.y, model.w, model.loss

    def loglik(self, spec, starts):
        from casekit.reach._solver import _lm, _make_problem, _Transform, _x_jacobian

        prob = _make_problem(spec, self.t, self.y, self.w, self.loss)
        lo, hi = prob.lo / prob.scale_vec, prob.hi / prob.scale_vec
        tr = _Transform(lo, hi)
        best = None
        jac = None
        for s in starts:
            u0 = np.clip(np.asarray(s, dtype=float) / prob.scale_vec, lo, hi)
            if jac is None:
                jac = _x_jacobian(prob, tr, u0) or False
            out = _lm(
                lambda x: prob.resid_internal(tr.to_v(x)),
                tr.to_x(u0),
                1e-8,
                100 * (spec.k + 1),
                [],
                jac or None,
            )
            if out is not None and (best is None or out[1] < best[1]):
                best = out
        if best is None:
            raise FitError("profile refit did not converge")
        th = tr.to_v(best[0]) * prob.scale_vec
        rss = float(np.sum(prob.resid(th) ** 2))
        return th, -0.5 * len(self.y) * math.log(max(rss, 1e-300)), None


def _quick_joint(fit, prep, times, e, start):
    """The start of the full fit (delta estimated), first run on its own with a bounded
    number of steps: FitError when its parameters are not identified where it stops
    (then the full fit would run to its step limit and fail the same way); else where
    it stops. Per-period counts and robust losses: ``start``."""
    if "period_days" in prep.obs or fit.loss not in ("ols", "log"):
        return start
    from casekit.reach._solver import _covariance, _lm, _make_problem, _starts, _Transform
    from casekit.reach.intervention import intervention

    spec = intervention(fit.spec, times, e=e, delta="estimate")
    t = prep.obs["t"].to_numpy(dtype=float)
    y = prep.obs["y"].to_numpy(dtype=float)
    w = prep.obs["weight"].to_numpy(dtype=float)
    prob = _make_problem(spec, t, y, w, fit.loss)
    lo, hi = prob.lo / prob.scale_vec, prob.hi / prob.scale_vec
    tr = _Transform(lo, hi)
    (s0,) = _starts(spec, t, y, [start], 1, 0)
    with np.errstate(all="ignore"):
        out = _lm(
            lambda x: prob.resid_internal(tr.to_v(x)),
            tr.to_x(np.clip(s0 / prob.scale_vec, lo, hi)),
            1e-12,  # the full fit's polish: a ridge that cannot reach it fails here, fast
            100 * (spec.k + 1),
            [],
        )
        if out is None:
            raise FitError(f"the {spec.name} curve did not converge from the profile's best")
        th = tr.to_v(out[0]) * prob.scale_vec
        # FitError where it heads to parameters that are not identified (a late wave
        # whose size and midpoint run off together); not yet converged but identified
        # (an optimum on a bound, which the full fit finishes): the full fit goes on
        _covariance(prob, th)
    return [float(x) for x in th]


def _with_delta(theta, pb: int, d: float) -> list[float]:
    th = [float(x) for x in theta]
    return th[:pb] + [float(d)] + th[pb:]


def refit_with_response(fit, prep, response, e, fit_once):
    """The fit's curve with the response inside, refitted from the fit's own estimates.

    Parameters
    ----------
    fit : ReachFit
        A fit without the response inside.
    prep : casekit.reach.data._Prepared
        Its data and case context.
    response : list of float, or "first" / "all"
        The responses the refit puts in the curve.
    e : "estimate" or float
        The effect of the responses: estimated, or a stated scenario value.
    fit_once : callable
        ``fit_once(e, delta, start)``: one fit of the intervention model from one start
        (a ReachFit with its ``response_effect``), FitError when it does not converge
        or its parameters are not identified.

    Returns
    -------
    (ReachFit, str)
        The refit and a note on how delta was obtained ("" when estimated).
    """
    times = _times_of(fit, response)
    pb = fit.spec.k
    prof = _profile(fit, prep, times, e)
    if not prof:
        raise FitError(
            f"no fit of the {fit.curve} curve with the response inside converged, even "
            "with the decay rate delta held fixed"
        )
    ranked = sorted(prof, key=lambda x: -x[2])
    d0, th0, _ = ranked[0]
    floor = prof[1][0] if len(prof) > 1 else 1e-6
    start = _with_delta(th0, pb, max(d0, 0.1 * floor))
    try:
        return fit_once(e, "estimate", _quick_joint(fit, prep, times, e, start)), ""
    except FitError as err:
        why = str(err)
        if prep.case_id and why.startswith(f"{prep.case_id}: "):
            why = why[len(prep.case_id) + 2 :]
    ll_max = ranked[0][2]
    crit = _chi2_1(fit.alpha)
    kept = [d for d, _, ll in prof if 2.0 * (ll_max - ll) <= crit]
    for d, th, _ in ranked[:4]:
        try:
            out = fit_once(e, d, [float(x) for x in th])
        except FitError:
            continue
        note = (
            f"attention decay delta held at {fmt.number(d)} per day: of the fits along a "
            f"grid of delta values that are identified, the best; the grid values the "
            f"likelihood does not reject run from {fmt.number(min(kept))} to "
            f"{fmt.number(max(kept))} per day. The fit with delta estimated did not work "
            f"({why.rstrip('.')}), so the bands leave out the uncertainty of delta"
        )
        return out, note
    raise FitError(
        f"the {fit.curve} curve with the response inside could not be fitted: with the "
        f"decay rate delta estimated ({why.rstrip('.')}), nor with it held at the best "
        "values of a grid (their parameters are not identified)"
    )


def point_fit(fit, prep, times, e, delta, start):
    """One fit of the intervention model for point estimates only: ``spec``, ``theta``
    and a ``response_effect`` with the first response's time and e, without the
    covariance or e's interval of a ReachFit (cumulative least squares). FitError when it
    does not converge or its parameters are not identified, as for the full fit."""
    from types import SimpleNamespace

    import pandas as pd

    from casekit.reach._solver import _covariance, _make_problem, _starts
    from casekit.reach.intervention import intervention
    from casekit.reach.response_fit import _Model

    spec = intervention(fit.spec, times, e=e, delta=delta)
    model = _Model(prep, fit.loss, fit.f_scale, fit.dispersion)
    # the start placed inside the bounds exactly as the full fit places it
    th, _, _ = model.loglik(spec, _starts(spec, model.t, model.y, [start], 1, 0))
    _covariance(_make_problem(spec, model.t, model.y, model.w, fit.loss), th)
    e1 = float(th[spec.param_names.index("e_1")]) if e == "estimate" else float(e)
    effect = pd.DataFrame({"t": [float(times[0])], "e": [e1]})
    return SimpleNamespace(spec=spec, theta=np.asarray(th, dtype=float), response_effect=effect)


def _chi2_1(alpha: float) -> float:
    from scipy import special

    return float(special.chdtri(1, alpha))
