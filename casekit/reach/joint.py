"""Joint fits of several metrics of one story: :func:`fit_joint`.

Daily mentions from a listening tool and a video's running view count tell one story at
two scales. A joint fit gives them one curve: they share its timing (every parameter
that is not a scale parameter of the curve: ``r`` and ``t0`` of a logistic, ``p`` and
``q`` of a Bass curve, and the response effects ``e_k`` and decay ``delta`` of an
:func:`~casekit.reach.intervention` curve), and each metric has its own copy of the
scale parameters (``K`` of a logistic, ``m`` of a Bass curve, each wave's ``K_i`` of a
:func:`~casekit.reach.multiwave` curve). Each metric keeps its own observation model:
cumulative readings by least squares (``ols``, or ``log``: on the log scale), per-period
counts as the increments of the curve over their periods (negative binomial, Poisson,
or least squares on log counts; see :mod:`casekit.reach.observation`). The joint
log-likelihood is the sum of the metrics' log-likelihoods.

The numerical core is :mod:`casekit.reach._joint_solver`; the result,
:class:`~casekit.reach.joint_result.JointReachFit`, is in its own module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import special

from casekit import format as fmt
from casekit.exceptions import FitError, InsufficientDataError, ParameterError
from casekit.reach import _joint_solver as js
from casekit.reach._solver import _readonly
from casekit.reach.curves import CurveSpec, _get_spec
from casekit.reach.data import _is_case, _prepare, _Prepared, period_bounds
from casekit.reach.fitting import _check_options
from casekit.reach.intervention import intervention, response_schedule
from casekit.reach.joint_result import JointReachFit
from casekit.reach.response_fit import EFFECT_COLUMNS, check_straddle
from casekit.reach.result import ReachFit

__all__ = ["fit_joint", "JointReachFit", "CUMULATIVE_LOSSES", "COUNT_LOSSES"]

CUMULATIVE_LOSSES = ("ols", "log")
"""Losses of a cumulative metric in a joint fit (robust losses: fit one metric alone)."""

COUNT_LOSSES = ("auto", "nb", "poisson", "log")
"""Losses of a per-period metric in a joint fit (``auto``: negative binomial or Poisson,
whichever gives the joint fit the smaller AICc)."""

_FAMILY_WORDS = {"nb": "negative binomial", "poisson": "Poisson", "log": "log-normal"}


def fit_joint(
    data,
    metric=None,
    curve: str | CurveSpec = "logistic",
    *,
    loss=None,
    weights=None,
    kinds: Iterable[str] = ("observed", "reported"),
    min_confidence: str = "unverified",
    alpha: float = 0.05,
    n_starts: int | None = None,
    seed: int = 0,
    origin=None,
    response=None,
    e="estimate",
    delta="estimate",
) -> JointReachFit:
    """Fit one curve to several metrics of one story: shared timing, one scale each.

    Parameters
    ----------
    data : Case or mapping
        A :class:`~casekit.Case` (then ``metric`` names its metrics), or a mapping of
        metric name to data as :func:`~casekit.reach.fit` takes it (a Series of values
        indexed by days or dates, or a DataFrame with ``value`` and ``t``/``time``; a
        ``period_days`` column marks per-period counts).
    metric : sequence of str
        Two or more metrics (for a mapping: default all of its entries).
    curve : str or CurveSpec
        The shared curve.
    loss : None, str or mapping
        Per metric (a mapping of metric to loss) or one for all. Cumulative metrics take
        :data:`CUMULATIVE_LOSSES` (default ``ols``), per-period counts
        :data:`COUNT_LOSSES` (default ``auto``); ``log`` suits both.
    weights, kinds, min_confidence, origin
        As for :func:`~casekit.reach.fit`, applied to every metric. Dated data in a
        mapping share one origin: ``origin``, else the earliest date's midnight.
    alpha : float
        Default interval level (0.05 = 95 %).
    n_starts, seed : int
        Starting points of the shared timing (default 6) and the seed of the random ones.
    response, e, delta
        As for :func:`~casekit.reach.fit`: the company's responses inside the curve; the
        effects ``e_k`` and the decay ``delta`` are shared by the metrics, and an
        estimated ``e_k`` gets a profile-likelihood interval from the joint likelihood.

    Returns
    -------
    JointReachFit

    Raises
    ------
    InsufficientDataError
        What the data cannot identify, naming the metric: a single metric; a metric with
        observations at fewer than ``q + 2`` distinct times (``q`` its own scale
        parameters: one more for its noise level and one to inform the shared timing);
        metrics whose time spans do not overlap (nothing ties their timing together);
        together fewer than ``p + 2`` distinct times for the curve's ``p`` parameters;
        a response effect to estimate from observations that do not straddle it.
    ParameterError
        A bad argument (an unknown metric or loss, a metric named twice...).
    FitError
        No start converged, or the metrics cannot identify the curve.

    Notes
    -----
    Each least-squares metric has its own residual variance, profiled out of the
    likelihood (``-n/2 log RSS`` up to constants), so a metric counted in millions and one
    counted in hundreds are each weighed by their own noise, not by their units: the
    metric measured in larger numbers does not dominate the timing. The variances used for
    the standard errors are ``RSS / (n - h)``, ``h`` the degrees of freedom the metric
    spends in the joint fit (the sum of its observations' leverages). The covariance is
    the inverse of the joint expected information (Fisher scoring's), the interval
    quantiles t with ``N - P`` degrees of freedom (``N`` observations, ``P`` parameters of
    all metrics).

    A test compares the metrics' own fits (:attr:`JointReachFit.agreement`, a Wald F test
    of equal shared parameters): a small p-value says the metrics do not share one
    timing, and the joint fit should not be read as if they did.

    Examples
    --------
    The synthetic example case has a running count of video views and a daily count of
    forum posts about the same story:

    >>> import casekit as ck
    >>> from casekit.reach.joint import fit_joint
    >>> case = ck.load_case("synthetic-example")
    >>> joint = fit_joint(case, ["video_views", "forum_posts"], loss={"video_views": "log"})
    >>> joint.shared, joint.param_names
    (('r', 't0'), ('r', 't0', 'K[video_views]', 'K[forum_posts]'))
    >>> joint.metric_fit("forum_posts").loss
    'nb'

    Here the test of a shared timing rejects it: the forum chatter starts before the
    video and lingers after it, so one curve does not suit both.

    >>> bool(joint.agreement["p_value"] < 0.001)
    True
    >>> fit_joint(case, ["video_views"])
    Traceback (most recent call last):
    ...
    casekit.exceptions.InsufficientDataError: a joint fit needs two or more metrics ...
    """
    spec = _get_spec(curve)
    _check_options(loss="ols", alpha=alpha, n_starts=n_starts, seed=seed, f_scale=None)
    preps = _prepare_all(data, metric, kinds, weights, origin, min_confidence)
    names = list(preps)
    first = preps[names[0]]
    where = f"{first.case_id}: " if first.case_id else ""
    losses = _losses(loss, preps, where)
    series = [_series(m, preps[m], losses[m]) for m in names]
    sched = None
    if response is not None and response is not False:
        which = "first" if response is True else response
        sched = response_schedule(first.context, first.origin, which)
        spec = intervention(spec, sched["t"].tolist(), e=e, delta=delta)
        est = [v == "estimate" for v in spec.definition["e"]]
        times = np.concatenate([s.times for s in series])
        check_straddle(times, sched["t"].tolist(), est, where)
    layout = js.Layout(spec, names)
    _check_identifiable(layout, series, where)
    n_starts = 6 if n_starts is None else int(n_starts)
    starts = js.start_points(layout, series, n_starts, seed)
    u, ll, lphis, n_ok, notes = _fit_families(layout, series, starts, losses, where)
    cov, dfs = js.covariance(layout, series, u, lphis)
    separate, agreement = _separately(layout, series, u, lphis)
    effects, e_notes = None, []
    if sched is not None:
        effects, e_notes = _effects(layout, series, u, ll, lphis, cov, sched, alpha)
    notes = notes + e_notes + _bound_notes(layout, u)
    fits = {}
    for m, s in enumerate(series):
        idx = layout.index(m)
        prep = preps[s.name]
        fits[s.name] = ReachFit(
            spec=spec,
            theta=_readonly(u[idx]),
            cov_matrix=_readonly(cov[np.ix_(idx, idx)]),
            obs=prep.obs,
            loss=s.loss,
            weights=prep.weights,
            alpha=float(alpha),
            metric=s.name,
            origin=prep.origin,
            f_scale=None,
            converged=True,
            n_starts=len(starts),
            n_starts_ok=n_ok,
            notes=(
                f"one metric of a joint fit with {', '.join(x for x in names if x != s.name)}: "
                f"the shared {', '.join(layout.names[: layout.ns])} and their covariance come "
                "from all the metrics; this fit's profile and bootstrap intervals would "
                "refit this metric alone",
            ),
            events=prep.events,
            context=prep.context,
            observation="per-period" if s.counts else "cumulative",
            dispersion=float(np.exp(lphis[m])) if s.loss == "nb" else None,
            response_effect=effects,
        )
    return JointReachFit(
        fits=fits,
        param_names=layout.names,
        theta=_readonly(u),
        cov_matrix=_readonly(cov),
        df=_readonly(dfs),
        shared=layout.names[: layout.ns],
        alpha=float(alpha),
        n_starts=len(starts),
        n_starts_ok=n_ok,
        notes=tuple(notes),
        separate=separate,
        agreement=agreement,
        response_effect=effects,
    )


# -- inputs -------------------------------------------------------------------------------


def _metric_names(metric, available=None) -> list[str]:
    if metric is None and available is not None:
        metric = list(available)
    if metric is None:
        raise ParameterError(
            "name the metrics to fit jointly: metric=['mentions', 'views'] (two or more)"
        )
    if isinstance(metric, str):
        metric = [metric]
    try:
        names = list(metric)
    except TypeError:
        raise ParameterError(f"metric must be a list of metric names, not {metric!r}") from None
    bad = [m for m in names if not isinstance(m, str)]
    if bad:
        raise ParameterError(f"metric names must be text, not {bad[0]!r}")
    twice = sorted({m for m in names if names.count(m) > 1})
    if twice:
        raise ParameterError(f"metric {twice[0]!r} is named twice; name each metric once")
    if len(names) < 2:
        alone = f" ({names[0]} alone: fit it with ck.reach.fit(..., metric={names[0]!r}))"
        raise InsufficientDataError(
            "a joint fit needs two or more metrics of one story, sharing the curve's "
            f"timing{alone if names else ''}"
        )
    return names


def _prepare_all(data, metric, kinds, weights, origin, min_confidence) -> dict[str, _Prepared]:
    kw = dict(kinds=kinds, weights=weights, min_confidence=min_confidence)
    if _is_case(data):
        names = _metric_names(metric)
        return {m: _prepare(data, metric=m, origin=origin, **kw) for m in names}
    if not isinstance(data, Mapping):
        raise ParameterError(
            "fit_joint takes a Case with metric=[names], or a mapping of metric name to "
            f"data (Series or DataFrame); not {type(data).__name__}"
        )
    names = _metric_names(metric, available=data)
    missing = [m for m in names if m not in data]
    if missing:
        raise ParameterError(
            f"no data for metric {missing[0]!r}; the mapping has: {', '.join(map(str, data))}"
        )
    preps = {m: _prepare(data[m], metric=m, origin=origin, **kw) for m in names}
    origins = {p.origin for p in preps.values()}
    if len(origins) > 1:
        if None in origins:
            raise ParameterError(
                "some metrics are dated and some are in days since an origin; give all of "
                "them dates, or all days, or pass origin='YYYY-MM-DD'"
            )
        common = min(origins).normalize()
        preps = {m: _prepare(data[m], metric=m, origin=common, **kw) for m in names}
    return preps


def _losses(loss, preps, where) -> dict[str, str]:
    names = list(preps)
    if isinstance(loss, Mapping):
        unknown = [m for m in loss if m not in preps]
        if unknown:
            raise ParameterError(
                f"{where}loss names metric {unknown[0]!r}, which is not fitted ({', '.join(names)})"
            )
        given = dict(loss)
    else:
        given = {m: loss for m in names}
    out = {}
    for m, p in preps.items():
        counts = "period_days" in p.obs
        v = given.get(m)
        allowed = COUNT_LOSSES if counts else CUMULATIVE_LOSSES
        v = ("auto" if counts else "ols") if v is None else v
        if v not in allowed:
            kind = "per-period counts" if counts else "a cumulative series"
            raise ParameterError(
                f"{where}metric {m!r} is {kind}: in a joint fit it takes loss "
                f"{', '.join(allowed)}, not {v!r}"
                + (" (robust losses: fit the metric alone)" if str(v).startswith("robust") else "")
            )
        out[m] = v
    return out


def _series(name, prep: _Prepared, loss: str) -> js.Series:
    obs = prep.obs
    y = obs["y"].to_numpy(dtype=float)
    w = obs["weight"].to_numpy(dtype=float)
    where = f"{prep.case_id}: " if prep.case_id else ""
    family = "nb" if loss == "auto" else loss
    if "period_days" in obs:
        a, b = period_bounds(obs)
        if loss != "log" and (np.any(y < 0) or np.any(np.abs(y - np.round(y)) > 1e-9)):
            raise ParameterError(
                f"{where}the count likelihoods need whole counts >= 0 ({name!r} has others); "
                f"use loss={{{name!r}: 'log'}} for non-integer per-period values"
            )
        if loss == "log" and np.any(y <= 0):
            raise FitError(f"{where}loss 'log' needs positive counts; {name!r} has 0 or less")
        return js.Series(name, True, family, y, w, b, a)
    if loss == "log" and np.any(y <= 0):
        raise FitError(
            f"{where}the log loss needs positive values; {name!r} has 0 or less (use 'ols')"
        )
    return js.Series(name, False, family, y, w, obs["t"].to_numpy(dtype=float))


def _check_identifiable(layout: js.Layout, series, where: str) -> None:
    """InsufficientDataError, naming the metric, when the data cannot identify the model."""
    q, p = layout.q, layout.spec.k
    scale = ", ".join(layout.spec.param_names[i] for i in layout.scale)
    for s in series:
        k = len(np.unique(s.times))
        if k < q + 2:
            n = len(s.y)
            raise InsufficientDataError(
                f"{where}metric {s.name!r} has {n} observation{'s' if n != 1 else ''}"
                f"{f' at {k} distinct time' + ('s' if k != 1 else '') if k != n else ''}: in "
                f"a joint fit each metric needs observations at {q + 2} or more distinct "
                f"times (its own scale {scale}, its own noise level, and one more to inform "
                "the shared timing). Leave it out of the joint fit."
            )
    spans = sorted((s.span, s.name) for s in series)
    groups, end = [[spans[0][1]]], spans[0][0][1]
    for (lo, hi), name in spans[1:]:
        if lo < end:
            groups[-1].append(name)
            end = max(end, hi)
        else:
            groups.append([name])
            end = hi
    if len(groups) > 1:
        days = {n: f"days {fmt.number(a)} to {fmt.number(b)}" for (a, b), n in spans}
        parts = "; ".join(", ".join(f"{n} ({days[n]})" for n in g) for g in groups)
        raise InsufficientDataError(
            f"{where}the metrics do not overlap in time ({parts}): nothing ties their "
            "timing together, so a shared curve would rest on its shape alone. Fit them "
            "one at a time, or add observations in the gap."
        )
    union = len(np.unique(np.concatenate([s.times for s in series])))
    if union < p + 2:
        raise InsufficientDataError(
            f"{where}the metrics together have observations at {union} distinct times, but "
            f"the {layout.spec.name} curve has {p} parameters: a fit needs {p + 2} or more"
        )
    n_all = sum(len(s.y) for s in series)
    k_all = layout.size + sum(1 for s in series if s.loss != "poisson")
    if n_all < k_all + 2:
        raise InsufficientDataError(
            f"{where}{n_all} observations in all, but the joint fit has {k_all} parameters "
            f"(with each metric's noise level): it needs at least {k_all + 2}"
        )


# -- fitting --------------------------------------------------------------------------------


def _aicc(layout, series, ll) -> float:
    n = sum(len(s.y) for s in series)
    k = layout.size + sum(1 for s in series if s.loss != "poisson")
    return -2 * ll + 2 * k + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else np.inf)


def _solve_or_raise(layout, series, starts, where, lphis=None):
    u, ll, lp, n_ok = js.solve(layout, series, starts, lphis=lphis)
    if u is None:
        raise FitError(
            f"{where}the joint {layout.spec.name} fit of {', '.join(layout.metrics)} did not "
            f"converge from any of {len(starts)} starting points; try another curve, other "
            "losses, or fit the metrics one at a time to see which disagrees"
        )
    return u, ll, lp, n_ok


def _fit_families(layout, series, starts, losses, where):
    """The joint fit; a per-period metric with loss ``auto`` gets Poisson instead of the
    negative binomial when that lowers the joint AICc (one metric at a time)."""
    u, ll, lphis, n_ok = _solve_or_raise(layout, series, starts, where)
    notes = []
    for s in series:
        if losses[s.name] != "auto":
            continue
        a_nb = _aicc(layout, series, ll)
        s.loss = "poisson"
        try:
            got = _solve_or_raise(layout, series, [u] + starts, where, lphis=lphis)
        except FitError:
            got = None
        a_po = np.inf if got is None else _aicc(layout, series, got[1])
        if a_po < a_nb:
            u, ll, lphis, n_ok = got
            chosen, other, a1, a2 = "poisson", "nb", a_po, a_nb
        else:
            s.loss = "nb"
            chosen, other, a1, a2 = "nb", "poisson", a_nb, a_po
        notes.append(
            f"{s.name}: {_FAMILY_WORDS[chosen]} likelihood chosen by the joint AICc "
            f"({fmt.number(a1)} against {fmt.number(a2, reason='no fit')} with "
            f"{_FAMILY_WORDS[other]})"
        )
    return u, ll, lphis, n_ok, notes


def _separately(layout, series, u, lphis):
    """Each metric fitted alone (warm-started at the joint estimates), and the test of a
    shared timing. Metrics with too few distinct times for a fit of their own are left
    out (and then no test).

    The test is a Wald test on the metrics' own estimates of the shared parameters:
    ``W = sum_m (theta_m - theta_bar)' C_m^-1 (theta_m - theta_bar)``, ``theta_bar`` their
    precision-weighted mean, referred to F with ``(M - 1) q`` and ``min_m (n_m - p)``
    degrees of freedom. In simulations of two metrics from one curve (10 readings and 18
    daily counts) it rejected 6 % of the time at the 5 % level; the likelihood-ratio test
    (chi-square) rejected 16 %, the Wald chi-square 15 %.
    """
    rows, ests, precs, dfs = [], [], [], []
    need = layout.spec.k + 2
    ns = layout.ns
    for m, s in enumerate(series):
        one = js.Layout(layout.spec, [s.name])
        if len(np.unique(s.times)) < need:
            continue
        start = u[np.r_[np.arange(ns), ns + m * layout.q + np.arange(layout.q)]]
        extra = js.start_points(one, [s], 2, 0)
        try:
            uu, _, lp, _ = js.solve(one, [s], [start] + extra, lphis=[lphis[m]])
            if uu is None:
                raise FitError("no convergence")
            cov, _ = js.covariance(one, [s], uu, lp)
            prec = np.linalg.inv(cov[:ns, :ns])
        except (FitError, np.linalg.LinAlgError):
            continue
        ests.append(uu[:ns])
        precs.append(prec)
        dfs.append(len(s.y) - layout.spec.k)
        se = np.sqrt(np.maximum(np.diag(cov), 0.0))
        for j in range(ns):
            rows.append((s.name, layout.names[j], float(uu[j]), float(se[j])))
    sep = pd.DataFrame(rows, columns=["metric", "term", "estimate", "std_err"])
    if len(ests) < len(series):
        return sep, None
    bar = np.linalg.solve(sum(precs), sum(P @ e for P, e in zip(precs, ests)))
    W = float(sum((e - bar) @ P @ (e - bar) for P, e in zip(precs, ests)))
    df1, df2 = (len(series) - 1) * ns, float(max(min(dfs), 1))
    stat = W / df1
    return sep, {
        "statistic": stat,
        "df1": float(df1),
        "df2": df2,
        "p_value": float(special.fdtrc(df1, df2, stat)),
    }


def _effects(layout, series, u, ll, lphis, cov, sched, alpha):
    """The response_effect table: each estimated e_k with its joint profile interval."""
    spec = layout.spec
    e_def = spec.definition["e"]
    rows, notes = [], []
    for k, r in sched.reset_index(drop=True).iterrows():
        nm = f"e_{k + 1}"
        row = {"date": r["date"], "t": float(r["t"]), "kind": r["kind"], "parameter": nm}
        if e_def[k] == "estimate":
            j = layout.names.index(nm)
            lo, hi, open_lo, open_hi = js.profile_interval(
                layout, series, u, ll, lphis, j, float(np.sqrt(max(cov[j, j], 0.0))), alpha
            )
            v = float(u[j])
            row.update(e=v, lower=lo, upper=hi, status="estimated")
            if open_lo or open_hi:
                notes.append(
                    f"the profile interval of {nm} reaches its bound "
                    f"{'below' if open_lo else 'above'}: the data hardly constrain it"
                )
            if v < 0:
                notes.append(
                    f"{nm} = {fmt.number(v)} < 0: the response at day {fmt.number(r['t'])} "
                    "fuelled the storm rather than damping it"
                )
        else:
            row.update(e=float(e_def[k]), lower=np.nan, upper=np.nan, status="scenario")
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
    table["date"] = pd.to_datetime(table["date"])
    return table, notes


def _bound_notes(layout, u) -> list[str]:
    tol = 1e-6 * np.maximum(1.0, np.abs(u))
    near = [
        n
        for n, v, a, b, t in zip(layout.names, u, layout.lo, layout.hi, tol)
        if (np.isfinite(a) and v - a < t) or (np.isfinite(b) and b - v < t)
    ]
    if not near:
        return []
    return [f"parameter(s) {', '.join(near)} at a bound: their standard errors are not reliable"]
