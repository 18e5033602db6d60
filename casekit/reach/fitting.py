"""The one generic fitter, :func:`fit`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from casekit import format as fmt
from casekit.exceptions import FitError, InsufficientDataError, ParameterError
from casekit.reach import diagnostics as _dg
from casekit.reach import intervals as _iv
from casekit.reach._solver import _covariance, _make_problem, _readonly, _solve, _starts
from casekit.reach.curves import CurveSpec, _get_spec
from casekit.reach.data import _prepare, _Prepared, obs_array, obs_columns
from casekit.reach.result import ReachFit

if TYPE_CHECKING:
    from casekit.reach.joint_result import JointReachFit
from casekit.results import check_alpha

__all__ = ["fit", "LOSSES"]

LOSSES = ("ols", "log", "robust", "robust_log")
"""Losses :func:`fit` accepts.

``ols``: least squares on the observed scale. ``log``: least squares on
log(y), for counts spanning orders of magnitude (a multiplicative error model).
``robust``: Huber loss on the observed scale; ``robust_log``: Huber loss on
log(y). The Huber threshold ``f_scale`` defaults to 1.345 robust standard
deviations (1.4826 x the median absolute residual of the least-squares fit on
the same scale). With a robust loss the standard errors are approximate (from
the iteratively reweighted least-squares weights at the solution); check them
with ``conf_int(method="bootstrap")``.
"""


def _check_loss(loss) -> str:
    if loss not in LOSSES:
        raise ParameterError(f"loss must be one of {', '.join(LOSSES)}, not {loss!r}")
    return loss


def _check_options(*, loss, alpha, n_starts, seed, f_scale) -> None:
    """ParameterError for a bad fitting option (shared by :func:`fit` and ``compare``)."""
    _check_loss(loss)
    check_alpha(alpha)
    if n_starts is not None and (
        isinstance(n_starts, bool) or not isinstance(n_starts, (int, np.integer)) or n_starts < 1
    ):
        raise ParameterError(f"n_starts must be a whole number, at least 1, not {n_starts!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be a whole number >= 0, not {seed!r}")
    if f_scale is not None and (
        isinstance(f_scale, bool)
        or not isinstance(f_scale, (int, float, np.integer, np.floating))
        or not np.isfinite(f_scale)
        or f_scale <= 0
    ):
        raise ParameterError(f"f_scale must be a positive number, not {f_scale!r}")


def fit(
    data,
    curve: str | CurveSpec = "logistic",
    *,
    metric: str | None = None,
    t=None,
    loss: str | None = None,
    weights=None,
    kinds: Iterable[str] = ("observed", "reported"),
    min_confidence: str = "unverified",
    start=None,
    alpha: float = 0.05,
    n_starts: int | None = None,
    seed: int = 0,
    f_scale: float | None = None,
    origin=None,
    response=None,
    e="estimate",
    delta="estimate",
) -> ReachFit | JointReachFit:
    """Fit a growth curve to cumulative reach observations.

    Parameters
    ----------
    data : Case, pandas.Series, pandas.DataFrame or array-like
        A :class:`~casekit.Case` (with ``metric``); a Series of values indexed by days
        since the origin or by dates (then ``origin``, default the first date's
        midnight); a DataFrame with ``value`` and ``t`` or ``time`` columns (for
        example :meth:`Case.series` output; ``source``, ``confidence``, ``qualifier``
        are kept when present); or an array of values with ``t=``.
    curve : str or CurveSpec
        A name in :data:`CURVES` or a spec, e.g. from :func:`multiwave`.
    metric : str or list of str, optional
        The case's metric. Default: the cumulative metric with most observations. Several
        metrics (or ``data`` given as a mapping of metric name to data) are fitted jointly
        by :func:`~casekit.reach.joint.fit_joint`: one shared timing, one scale each; the
        result is then a :class:`~casekit.reach.joint_result.JointReachFit`.
    t : array-like, optional
        Times (days since origin, or dates) for array or Series data.
    loss : {"ols", "log", "robust", "robust_log"}
        See :data:`LOSSES`.
    weights : None, "confidence", mapping or array
        ``"confidence"`` uses :data:`CONFIDENCE_WEIGHTS` (high 1, medium 0.5, low 0.25,
        unverified 0.1); a mapping overrides them; an array gives one weight per
        observation, in the order the data are given.
    kinds : iterable of str
        Kinds of case figures to use (default observed and reported).
    min_confidence : str
        Drop case figures less confident than this.
    start : sequence or mapping, optional
        Starting values (one vector, or several rows); default from the curve's ``p0``.
    alpha : float
        Default interval level of the result (0.05 = 95 %).
    n_starts : int, optional
        Number of starting points (the curve's own plus random perturbations); the
        best converged solution wins. Default 4, or 10 for curves with more than 4
        parameters.
    seed : int
        Seed of the random starts.
    f_scale : float, optional
        Huber threshold for robust losses, on the fitting scale (default 1.345 robust
        standard deviations of the least-squares residuals).
    origin : date-like, optional
        The date of t = 0 (overrides the case's origin).
    response : None, True, "first", "all", or a sequence of days or dates
        Put the company's response inside the model: the curve becomes an
        :func:`~casekit.reach.intervention` curve whose spread rate each response
        multiplies by ``(1 - e_k)``, with attention decaying at rate ``delta``.
        ``True`` or ``"first"``: the case's ``first_response`` key date; ``"all"``: every
        company response row of its timeline; or the given times. The result's
        ``response_effect`` table reports each ``e_k``.
    e : "estimate", float or sequence
        Per response: estimated (needs observations at 2 or more distinct times on each
        side of the response, else InsufficientDataError), with a profile-likelihood
        interval; or a stated scenario value in [-3, 0.99] (reported as a scenario).
    delta : "estimate" or float
        The attention decay rate per day (``0``: none).

    Returns
    -------
    ReachFit

    Raises
    ------
    InsufficientDataError
        Fewer observations (or distinct times) than the curve needs, values that are all
        0 or all equal (no growth to fit: such a fit is refused, not returned with
        meaningless milestones), a metric that is not cumulative, or no origin date; the
        message says which, in plain words.
    ParameterError
        Mismatched lengths of times and values, an infinite time or value, a negative
        value (beyond :data:`~casekit.reach.data.NOISE_BELOW_ZERO`, 10 % of the largest
        value, which additive measurement noise can give: those are kept and noted), a
        value above :data:`~casekit.reach.data.MAX_VALUE` (1e100) or a time
        more than :data:`~casekit.reach.data.MAX_DAYS` days from the origin; the message
        names the first bad observation. (NaN marks a missing time or value: that row is
        left out and the notes say so.)
    FitError
        No start converged, or the data cannot identify the curve's parameters.

    Notes
    -----
    Per-period counts (a case metric whose rows have ``cumulative`` false, or a DataFrame
    with a ``period_days`` column) are fitted as the increments of the curve over their
    periods (:mod:`casekit.reach.observation`); ``loss`` is then ``"auto"`` (default:
    negative binomial or Poisson, chosen by AICc), ``"nb"``, ``"poisson"`` or ``"log"``.
    For cumulative data ``loss`` defaults to ``"ols"``.

    When the fitted curve puts its peak growth or its 50, 90 or 99 % time before t = 0
    (the origin), the result's ``notes`` say so and its prose marks those times as
    before the origin: they are extrapolations, never silent negative times.

    The notes also name a parameter at or near a bound of the fitter (``at_bound``), and
    any reading of low or unverified confidence whose removal would move the final reach
    or the time to 90 % by more than a standard error, with both figures (the fit is not
    changed: down-weight it with ``weights="confidence"`` or use ``loss="robust"``); see
    :mod:`casekit.reach.diagnostics`.

    Examples
    --------
    >>> import casekit as ck
    >>> case = ck.load_case("synthetic-example")
    >>> res = ck.reach.fit(case, "gompertz", metric="video_views", loss="log")
    >>> res.loss, res.nobs, res.df_resid
    ('log', 28, 25)
    >>> ck.reach.fit([1.0, 2.0, 3.0], t=[0, 1, 2])
    Traceback (most recent call last):
    ...
    casekit.exceptions.InsufficientDataError: 3 observations of y, but ... at least 4 ...
    """
    if (metric is not None and not isinstance(metric, str)) or isinstance(data, Mapping):
        if t is not None or start is not None or f_scale is not None:
            raise ParameterError(
                "a joint fit of several metrics takes no t=, start= or f_scale=; give each "
                "metric's times in its own data (a mapping of metric name to data)"
            )
        from casekit.reach.joint import fit_joint  # joint builds on this module

        return fit_joint(
            data,
            metric,
            curve,
            loss=loss,
            weights=weights,
            kinds=kinds,
            min_confidence=min_confidence,
            alpha=alpha,
            n_starts=n_starts,
            seed=seed,
            origin=origin,
            response=response,
            e=e,
            delta=delta,
        )
    spec = _get_spec(curve)
    _check_options(
        loss="ols" if loss in (None, "auto", "nb", "poisson") else loss,
        alpha=alpha,
        n_starts=n_starts,
        seed=seed,
        f_scale=f_scale,
    )
    prep = _prepare(
        data,
        metric=metric,
        t=t,
        kinds=kinds,
        weights=weights,
        origin=origin,
        min_confidence=min_confidence,
    )
    if "period_days" in obs_columns(prep) or (response is not None and response is not False):
        from casekit.reach.response_fit import fit_extended

        cum_loss = "ols" if loss is None else loss
        return fit_extended(
            prep,
            spec,
            loss=loss,
            response=response,
            e=e,
            delta=delta,
            start=start,
            alpha=alpha,
            n_starts=n_starts,
            seed=seed,
            f_scale=f_scale,
            fit_cumulative=lambda prep_, spec_: _fit_prepared(
                prep_,
                spec_,
                loss=_check_loss(cum_loss),
                start=start,
                alpha=alpha,
                n_starts=n_starts,
                seed=seed,
                f_scale=f_scale,
            ),
        )
    loss = "ols" if loss is None else loss
    return _fit_prepared(
        prep,
        spec,
        loss=loss,
        start=start,
        alpha=alpha,
        n_starts=n_starts,
        seed=seed,
        f_scale=f_scale,
    )


def _check_positive_on_log_scale(spec: CurveSpec, t, y, theta, where: str) -> None:
    """Raise FitError if the fitted curve is 0 (or negligibly small) at an observation.

    On the log scale such a point has a residual of about log(1e-300) = -690: the fit is
    meaningless however well the optimiser converged (bass and expsat are 0 at t = 0).
    """
    with np.errstate(all="ignore"):
        fv = np.asarray(spec.f(t, *theta), dtype=float)
    floor = 1e-12 * float(np.min(y))
    bad = ~(fv > floor)
    if not bad.any():
        return
    nb = int(bad.sum())
    obs_txt = f"{nb} observation{'s' if nb != 1 else ''}"
    if np.all(t[bad] <= 0) and np.all(spec.f(np.array([0.0]), *theta) <= floor):
        msg = (
            f"{spec.name} is 0 at t <= 0, so it cannot be fitted on the log scale to the "
            f"{obs_txt} at or before the origin"
        )
    else:
        days = ", ".join(f"{v:g}" for v in np.unique(t[bad])[:5])
        msg = (
            f"the fitted {spec.name} curve is 0 (or negligibly small) at the {obs_txt} at "
            f"t = {days}{' ...' if np.unique(t[bad]).size > 5 else ''}, so it cannot be "
            f"fitted to them on the log scale"
        )
    raise FitError(f"{where}{msg}; use loss='ols' or drop them")


_MILESTONE_WORDS = (
    ("peak_time", "the fastest growth"),
    (0.5, "50 % of the final reach"),
    (0.9, "90 % of the final reach"),
    (0.99, "99 % of the final reach"),
)


def _early_milestone_notes(spec: CurveSpec, theta, t) -> list[str]:
    """A note when the fitted peak or a time to a share of the saturation is before t = 0."""
    first = float(np.min(t))
    early, extrapolated = [], False
    with np.errstate(all="ignore"):
        for key, words in _MILESTONE_WORDS:
            fun = spec.peak_time if key == "peak_time" else _iv.share_fun(spec, key)
            try:
                v = float(fun(*theta))
            except (ArithmeticError, ValueError, TypeError):
                continue
            if np.isfinite(v) and v < 0:
                early.append(f"{words} (day {fmt.number(v)})")
                extrapolated = extrapolated or v < first
    if not early:
        return []
    tail = (
        f"; the first observation is at day {fmt.number(first)}, so "
        f"{'they are' if len(early) > 1 else 'it is'} an extrapolation of the curve, not "
        "what the data show"
        if extrapolated
        else ""
    )
    return [
        f"the fitted curve puts {', '.join(early)} before t = 0, the origin (negative days "
        f"are before the story went public){tail}"
    ]


def _t90(spec: CurveSpec, theta):
    """The time to 90 % as a function of the parameters (Newton from the fit's own for a
    curve without a closed form)."""
    if spec.share_time is not None:
        return _iv.share_fun(spec, 0.9)
    from casekit.reach.milestone_profile import WarmShareTime

    fun = WarmShareTime(spec, 0.9)
    fun(*theta)
    return fun


def _fit_prepared(
    prep: _Prepared,
    spec: CurveSpec,
    *,
    loss,
    start,
    alpha,
    n_starts,
    seed,
    f_scale,
    diagnose: bool = True,
) -> ReachFit:
    """The fit of prepared data; ``diagnose=False`` skips the refits that look for an
    influential low-confidence reading (for internal refits of an already-checked fit)."""
    obs = obs_columns(prep)  # the table is built only if someone reads it
    t, y, w = (obs_array(prep, c) for c in ("t", "y", "weight"))
    n, p = len(y), spec.k
    what = prep.metric or "y"
    where = f"{prep.case_id}: " if prep.case_id else ""
    n_times = len(np.unique(t))
    if n <= p or n_times < p:
        raise InsufficientDataError(
            f"{where}{n} observation{'s' if n != 1 else ''} of {what}"
            f"{f' at {n_times} distinct times' if n_times != n else ''}, but the {spec.name} "
            f"curve has {p} parameters ({', '.join(spec.param_names)}): a fit needs at least "
            f"{p + 1} dated observations at {p} or more distinct times."
        )
    if n_starts is None:
        n_starts = 4 if p <= 4 else 10
    prob = _make_problem(spec, t, y, w, loss)
    starts = _starts(spec, t, y, start, int(n_starts), seed)
    fs_internal = None
    notes = []
    if prep.n_dropped:
        notes.append(
            f"{prep.n_dropped} observation{'s' if prep.n_dropped != 1 else ''} without "
            f"a value or time {'were' if prep.n_dropped != 1 else 'was'} left out"
        )
    n_neg = int(np.sum(y < 0))
    if n_neg:
        notes.append(
            f"{n_neg} observation{'s are' if n_neg != 1 else ' is'} below 0 (down to "
            f"{fmt.number(float(np.min(y)))}): a cumulative count cannot be, so "
            f"{'they are' if n_neg != 1 else 'it is'} read as measurement noise around the "
            "curve; if not, correct the data"
        )
    if prob.robust:
        pre = _make_problem(spec, t, y, w, "log" if prob.log else "ols")
        th0, _, ok0, _ = _solve(pre, starts)
        if th0 is None:
            raise FitError(
                f"{where}the {spec.name} curve did not converge from any of "
                f"{len(starts)} starting points (least-squares pre-fit for the "
                f"robust loss); try other starting values (start=...)"
            )
        if f_scale is None:
            r0 = pre.resid(th0)
            mad = 1.4826 * float(np.median(np.abs(r0 - np.median(r0))))
            f_scale = 1.345 * (mad if mad > 0 else float(np.std(r0)) or 1.0)
        fs_internal = f_scale / (1.0 if prob.log else prob.yscale)
        starts = [th0] + starts
        notes.append(
            "robust loss: standard errors are approximate (IRLS weights at the "
            "solution); compare conf_int(method='bootstrap')"
        )
    theta, res, n_ok, msgs = _solve(prob, starts, fs_internal)
    if theta is None:
        detail = f" (last message: {msgs[-1]})" if msgs else ""
        raise FitError(
            f"{where}the {spec.name} curve did not converge from any of "
            f"{len(starts)} starting points{detail}; try other starting values "
            f"(start=...), another loss, or a simpler curve"
        )
    if prob.log:
        _check_positive_on_log_scale(spec, t, y, theta, where)
    cov, _, _ = _covariance(prob, theta, f_scale)
    bound = _dg.bound_note(_dg.bound_flags(spec, theta))
    if bound:
        notes.append(bound)
    if diagnose:
        notes += _dg.influence_notes(prob, spec, theta, cov, obs, _t90(spec, theta))
    sat = float(spec.saturation(*theta))
    if sat > 100 * float(np.max(y)):
        notes.append(
            f"the saturation ({fmt.compact(sat)}) is over 100 times the largest "
            f"observation: the data do not show the curve levelling off"
        )
    notes += _early_milestone_notes(spec, theta, t)
    return ReachFit(
        spec=spec,
        theta=_readonly(theta),
        cov_matrix=_readonly(cov),
        obs=obs,
        loss=loss,
        weights=prep.weights,
        alpha=float(alpha),
        metric=prep.metric,
        origin=prep.origin,
        context=prep.context,
        f_scale=None if f_scale is None else float(f_scale),
        converged=n_ok >= 1,
        n_starts=len(starts),
        n_starts_ok=n_ok,
        notes=tuple(notes),
        events=prep.events,
    )
