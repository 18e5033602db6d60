"""The delay-cost curve: expected final reach had the company responded after d days."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.exceptions import ParameterError
from casekit.response._common import (
    StoredResult,
    band,
    case_words,
    check_effectiveness,
    check_number,
    fit_case_id,
    resolve_fit,
    response_time,
    settings_block,
    with_band,
)
from casekit.response.counterfactual import (
    DEFAULT_EFFECTIVENESS,
    EFFECTIVENESS_NOTE,
    EFFECTIVENESS_RANGE,
    MODELS,
    _CurveModel,
    _last_obs_t,
    _param_draws,
)
from casekit.results import Result, check_alpha

__all__ = ["DEFAULT_DELAYS", "DELAY_COST_COLUMNS", "DelayCost", "delay_cost"]

DEFAULT_DELAYS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0, 14.0, 21.0, 30.0)
"""Default delay grid in days after going public (the actual delay is always added)."""

DELAY_COST_COLUMNS = (
    "delay_days",
    "final_reach",
    "lower",
    "upper",
    "reach_avoided",
    "cost_of_delay",
    "actual",
)
"""Column contract of :attr:`DelayCost.table` (``lower``/``upper`` bound the final reach;
:meth:`DelayCost.conf_int` gives the bands of all three quantities)."""

QUANTITIES = ("final_reach", "reach_avoided", "cost_of_delay")
"""The quantities :meth:`DelayCost.conf_int` gives intervals for, per delay."""


@dataclass(frozen=True, repr=False, eq=False)
class DelayCost(StoredResult, Result):
    """The counterfactual delay-cost curve (see :func:`delay_cost`).

    Attributes
    ----------
    table : pandas.DataFrame
        Columns :data:`DELAY_COST_COLUMNS`: for a response ``delay_days`` after the
        origin, the expected final reach with its band (``lower``, ``upper``), the
        reach avoided compared with never responding (the fitted curve), and the cost
        of the delay: final reach minus final reach had the company responded at
        delay 0. ``actual`` flags the case's actual delay. The bands of the reach
        avoided and of the cost are in :meth:`conf_int`.
    params : pandas.Series
        The estimates at the actual delay (final reach, reach avoided, cost of the
        delay) and the fitted final reach (see ``fitted_final``).
    fitted_final : float
        Final reach of the fitted curve, and ``fitted_band``: as it happened, with the
        actual response, for the intervention model; the story without a response for
        the accounting variants (flow, rate).
    actual_delay : float or None
    draws, finals : numpy.ndarray or None
        The parameter draws (one row per draw) and the final reach of each draw at each
        delay of the table.
    effectiveness_status : str
        ``"estimated"`` (from the data, with ``effectiveness_bounds`` its
        profile-likelihood interval) or ``"scenario"`` (a stated value).
    supported : bool
        Always True for a computed result (a case without a fittable reach series
        raises :class:`~casekit.exceptions.InsufficientDataError` instead).
    settings : dict
        The call's arguments and every assumption, printed with the result.
    """

    title: ClassVar[str] = "Delay-cost curve"
    has_intervals: ClassVar[bool] = True

    case_id: str | None
    curve: str
    metric: str | None
    model: str
    effectiveness: float
    horizon: float
    _table: pd.DataFrame
    fitted_final: float
    fitted_band: tuple[float, float]
    actual_delay: float | None
    _settings: dict[str, Any]
    draws: np.ndarray | None = field(default=None, repr=False)
    finals: np.ndarray | None = field(default=None, repr=False)
    fitted_draws: np.ndarray | None = field(default=None, repr=False)
    base_draws: np.ndarray | None = field(default=None, repr=False)
    never_draws: np.ndarray | None = field(default=None, repr=False)
    alpha: float = 0.05
    supported: bool = True
    statement: str = ""
    effectiveness_status: str = "scenario"
    effectiveness_bounds: tuple[float, float] = (float("nan"), float("nan"))

    @property
    def effectiveness_text(self) -> str:
        """e in words: ``0.5, a stated scenario value`` or ``-0.4 (-1.6–0.28), estimated``."""
        if self.effectiveness_status == "estimated":
            lo, hi = self.effectiveness_bounds
            return f"{fmt.interval(self.effectiveness, lo, hi, kind='number')}, estimated"
        return f"{fmt.number(self.effectiveness)}, a stated scenario value"

    @property
    def params(self) -> pd.Series:
        out = {"fitted_final": self.fitted_final}
        a = self.actual
        if a is not None:
            out.update({q: float(a[q]) for q in QUANTITIES})
        return pd.Series(out, dtype=float, name="estimate")

    def at(self, delay: float) -> pd.Series:
        """The table row for ``delay`` (must be on the grid)."""
        t = self._table
        hit = t[np.isclose(t["delay_days"].to_numpy(float), float(delay))]
        if hit.empty:
            raise KeyError(f"delay {delay} is not on the grid; pass delays=[...] to delay_cost")
        return hit.iloc[0]

    @property
    def actual(self) -> pd.Series | None:
        hit = self._table[self._table["actual"]]
        return None if hit.empty else hit.iloc[0]

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Percentile intervals over the parameter draws, per delay and quantity.

        Parameters
        ----------
        alpha : float, optional
            (1 - alpha) intervals; default the level the result was computed at.

        Returns
        -------
        pandas.DataFrame
            ``delay_days, quantity, estimate, lower, upper`` for the quantities
            :data:`QUANTITIES` (NaN bounds when the result has no draws).
        """
        a = check_alpha(alpha, self.alpha)
        t = self._table
        n = len(t)
        if self.finals is None:
            bounds = {q: (np.full(n, np.nan), np.full(n, np.nan)) for q in QUANTITIES}
        else:
            F = self.finals
            bounds = {
                "final_reach": band(F, a),
                "reach_avoided": band(
                    (self.fitted_draws if self.never_draws is None else self.never_draws)[:, None]
                    - F,
                    a,
                ),
                "cost_of_delay": band(F - self.base_draws[:, None], a),
            }
        return pd.concat(
            [
                pd.DataFrame(
                    {
                        "delay_days": t["delay_days"],
                        "quantity": q,
                        "estimate": t[q],
                        "lower": bounds[q][0],
                        "upper": bounds[q][1],
                    }
                )
                for q in QUANTITIES
            ],
            ignore_index=True,
        )

    @property
    def summary(self) -> pd.DataFrame:
        """The fitted final reach and, at the actual delay, the three quantities with bands."""
        if self.model == "intervention":  # the fitted curve holds the actual response
            story, at = "as it happened", np.nan
            if self.actual_delay is not None:
                at = float(self.actual_delay)
        else:
            story, at = "no response", np.inf
        rows = [
            {
                "quantity": f"final reach, {story} (fitted curve)",
                "delay_days": at,
                "estimate": self.fitted_final,
                "lower": self.fitted_band[0],
                "upper": self.fitted_band[1],
            }
        ]
        a = self.actual
        if a is not None:
            ci = self.conf_int()
            ci = ci[np.isclose(ci["delay_days"].to_numpy(float), float(a["delay_days"]))]
            words = {
                "final_reach": "final reach at the actual delay",
                "reach_avoided": "reach avoided by responding",
                "cost_of_delay": "extra reach vs responding at once",
            }
            for _, r in ci.iterrows():
                rows.append(
                    {
                        "quantity": words[r["quantity"]],
                        "delay_days": r["delay_days"],
                        "estimate": r["estimate"],
                        "lower": r["lower"],
                        "upper": r["upper"],
                    }
                )
        return pd.DataFrame(rows)

    def __str__(self) -> str:
        unit = self.metric or "reach"
        kind = "model" if self.model == "intervention" else "damping (accounting variant)"
        lines = [
            f"Delay-cost curve, {self.model} {kind}, e = {self.effectiveness_text} "
            f"({self.curve} fit of {unit!r}, {case_words(self.case_id)})."
        ]
        if self.model == "intervention":
            never = self._table[~np.isfinite(self._table["delay_days"].to_numpy(float))].iloc[0]
            lines.append(
                "As it happened (fitted curve): final reach "
                f"{with_band(self.fitted_final, *self.fitted_band)}; never responding: "
                f"{with_band(never['final_reach'], never['lower'], never['upper'])}."
            )
        else:
            lines.append(
                "No response (fitted curve): final reach "
                f"{with_band(self.fitted_final, *self.fitted_band)}."
            )
        a = self.actual
        if a is not None:
            ci = self.conf_int().set_index(["quantity", "delay_days"])
            cost = ci.loc[("cost_of_delay", a["delay_days"])]
            lines.append(
                f"Actual delay {fmt.days(a['delay_days'])}: final reach "
                f"{with_band(a['final_reach'], a['lower'], a['upper'])}; reach avoided by "
                f"responding {fmt.compact(a['reach_avoided'])}; extra reach compared with "
                f"responding at once {with_band(cost['estimate'], cost['lower'], cost['upper'])}."
            )
        else:
            lines.append("The actual delay is unknown (first_response or the origin is unknown).")
        return "\n".join(lines) + "\n" + settings_block(self.settings)

    def plot(self, **kwargs):
        """The delay-cost curve with its band and the actual delay marked
        (:func:`casekit.plots.delay_cost_plot`)."""
        from casekit.plots import delay_cost_plot

        return delay_cost_plot(self, **kwargs)


def _delay_grid(delays) -> np.ndarray:
    if delays is None:
        return np.asarray(DEFAULT_DELAYS, dtype=float)
    if isinstance(delays, (str, bytes)) or not hasattr(delays, "__iter__"):
        raise ParameterError(f"delays must be a list of days >= 0 (inf = never), not {delays!r}")
    values = list(delays)
    if any(isinstance(d, (bool, np.bool_)) for d in values):
        raise ParameterError("delays must be numbers of days, not booleans")
    try:
        grid = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"delays must be numbers of days, not {delays!r}") from err
    if grid.ndim != 1 or grid.size == 0:
        raise ParameterError("delays must be a non-empty list of days >= 0 (inf = never)")
    bad = np.flatnonzero(np.isnan(grid) | (grid < 0))
    if bad.size:
        i = int(bad[0])
        raise ParameterError(
            f"delays[{i}] is {grid[i]:g}: delays must be days >= 0 (inf = never responding)"
        )
    return grid


def delay_cost(
    fit,
    delays: Sequence[float] | None = None,
    effectiveness: float | None = None,
    model: str = "intervention",
    horizon: float | None = None,
    n_draws: int = 1000,
    seed: int = 0,
    *,
    alpha: float = 0.05,
    actual_delay: float | None = None,
    curve: str = "logistic",
    metric: str | None = None,
    bands: str = "normal",
    response="first",
    scenario_effectiveness: float | None = None,
) -> DelayCost:
    """Expected final reach had the company responded after ``d`` days, for a grid of d.

    Parameters
    ----------
    fit : casekit.reach.ReachFit or Case
        A reach fit; a case is fitted first with ``curve`` and ``metric`` (a case
        without a fittable reach series raises
        :class:`~casekit.exceptions.InsufficientDataError` with the reason).
    delays : sequence of float, optional
        Response delays in days after the origin (going public). Default
        :data:`DEFAULT_DELAYS`; the actual delay is added. ``inf`` = never respond.
    effectiveness : float, optional
        e in [0, 1], the share of spread the response removes, as a stated scenario
        value. Default: in the intervention model, estimated when the observations
        straddle the response, else ``scenario_effectiveness``; in the flow and rate
        models, ``scenario_effectiveness`` (plausible range 0.2-0.8, see Notes).
    model : {"intervention", "flow", "rate"}
        The counterfactual model (default ``intervention``; ``flow`` and ``rate`` are
        accounting variants that damp the fitted curve; see Notes).
    horizon : float, optional
        Days after the origin at which "final" reach is read. Default: the curve's
        saturation for ``flow``; the fit's last observation for ``rate`` (365 days if
        the fit holds no observation times; see Notes).
    n_draws, seed : int
        Parameter draws for the bands (0 = no bands).
    alpha : float
        Bands are (1 - alpha) percentile intervals over the draws.
    actual_delay : float, optional
        The actual delay in days. Default: the ``first_response`` key date of the case
        the fit carries (``fit.context``); unknown for a fit of plain data.
    curve, metric : str
        Used only when ``fit`` is a case.
    bands : {"normal", "bootstrap"}
        Where the parameter draws come from (see Notes).
    response : "first", "all" or sequence of days
        Intervention model, a fit without the response inside: which company responses
        the refit puts in the curve (``actual_delay`` overrides it).
    scenario_effectiveness : float, optional
        The e used when ``effectiveness`` is not given and the data cannot estimate it
        (default 0.5). The result says which: ``effectiveness_status`` is
        ``"estimated"`` or ``"scenario"``.

    Returns
    -------
    DelayCost

    Notes
    -----
    **The intervention model** (default, :mod:`casekit.response.intervention_cost`).
    The fit's curve with the company's response inside, ``y(t) = F(tau(t))``: from the
    response on the spread rate is multiplied by (1 - e), and attention decays at rate
    delta, so a response lowers the final reach (as a lower contact rate lowers the
    final size of an SIR epidemic). A fit without the response inside is refitted with
    it, starting from the fit's own estimates
    (:mod:`casekit.response.intervention_refit`). e is estimated, with a
    profile-likelihood interval, when the observations straddle the response; else it
    is the stated scenario value ``scenario_effectiveness`` (or ``effectiveness``),
    and the result says which. The counterfactual "first response at day d" moves only
    the responses: at the actual delay it reproduces the fitted curve, never
    responding (d = inf) is the curve with no response, and the final reach never
    falls as d grows (for e >= 0). The response time comes from ``actual_delay``, the
    fit's case, or ``response`` ("first", "all"). The bands include e's uncertainty
    when it is estimated.

    **Accounting variants** (``model="flow"`` or ``"rate"``). They read the fitted
    curve y(t), which already contains the company's real response, as "no response"
    and damp it again from t_r = d on, so at the actual delay they do not reproduce
    what was observed. They answer an accounting question (how much of the fitted
    reach came after day d, scaled by e), not what an earlier answer would have
    changed. Let K = y(inf).

    *Flow damping.* After t_r new reach per unit time is multiplied by (1 - e):
    y_cf(t) = y(t_r) + (1 - e)(y(t) - y(t_r)) for t > t_r, so final reach =
    (1 - e) K + e y(t_r). It is non-decreasing in d because y is, equals the fit for
    e = 0 or d -> inf, and the cost of responding at d instead of 0 is e (y(d) - y(0)).

    *Rate damping.* After t_r the curve's growth rate is damped: r -> (1 - e) r for
    logistic, Gompertz, Richards and exponential saturation, q -> (1 - e) q for Bass,
    continued from y(t_r). For the first four the rate multiplies the right-hand side
    of an autonomous ODE y' = r g(y), so the damped curve is the fitted one with time
    slowed after t_r: y_cf(t) = y(t_r + (1 - e)(t - t_r)); Bass uses its closed-form
    solution from y(t_r). **A saturating curve still reaches K at an infinite horizon,
    whatever the rate**, so rate damping only saves reach by a finite horizon; hence
    its default horizon is the last observation. Both variants reproduce the fit at
    d = inf and are non-decreasing in d.

    Where the data cannot estimate it, the effectiveness e is a scenario parameter.
    Herhausen et al. (2019) [L5] find that empathy and apology damp the virality of a
    firestorm while compensation alone can fuel it, which is why the default is a
    middling 0.5 with a range of 0.2-0.8 rather than a point claim;
    :func:`sensitivity` shows how much the answer moves.

    Bands come from parameter draws: by default the asymptotic normal N(params, cov)
    with draws outside the curve's bounds rejected; ``bands="bootstrap"`` uses the
    ReachFit's residual bootstrap instead (one refit per draw, much slower). Draws x
    delays are evaluated as one numpy array. Bands reflect curve uncertainty (with an
    estimated e, e's too), not the uncertainty of a scenario e or of the choice of curve
    (see :func:`sensitivity`).

    Examples
    --------
    >>> import casekit as ck
    >>> fit = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
    >>> dc = ck.response.delay_cost(fit, delays=[0, 1, 4, float("inf")], n_draws=200)
    >>> dc.model, dc.actual_delay, dc.effectiveness_status
    ('intervention', 4.0, 'estimated')
    >>> bool(abs(dc.actual["final_reach"] - dc.fitted_final) < 1e-6)  # reproduces the fit
    True
    >>> flow = ck.response.delay_cost(fit, delays=[0, 1, 4, float("inf")], model="flow")
    >>> flow.table["final_reach"].is_monotonic_increasing
    True
    >>> bool(abs(flow.at(float("inf"))["final_reach"] - flow.fitted_final) < 1e-6)
    True
    >>> list(dc.conf_int(0.1).columns)
    ['delay_days', 'quantity', 'estimate', 'lower', 'upper']
    """
    if model not in MODELS:
        raise ParameterError(f"model must be one of {MODELS}, not {model!r}")
    if model == "intervention":
        from casekit.response.intervention_cost import intervention_delay_cost

        return intervention_delay_cost(
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
            scenario_effectiveness,
        )
    if effectiveness is None:
        effectiveness = (
            DEFAULT_EFFECTIVENESS if scenario_effectiveness is None else scenario_effectiveness
        )
    e = check_effectiveness(effectiveness)
    alpha = check_alpha(alpha)
    grid = _delay_grid(delays)
    if actual_delay is not None:
        actual_delay = check_number(actual_delay, "actual_delay", allow_inf=True)
    fit = resolve_fit(fit, curve=curve, metric=metric)
    cm = _CurveModel(fit)
    if horizon is None:
        if model == "flow":
            H, h_note = np.inf, "saturation (t -> infinity)"
        else:
            H = _last_obs_t(fit)
            h_note = (
                (
                    f"the last observation, day {fmt.number(H)} after the origin"
                    if H is not None
                    else "365 days after the origin (the fit holds no observation times)"
                )
                + "; rate damping saves nothing at an infinite horizon: every saturating "
                "curve still reaches K"
            )
            H = 365.0 if H is None else H
    else:
        H = check_number(horizon, "horizon", allow_inf=True)
        if not H > 0:
            raise ParameterError("horizon must be > 0 days")
        h_note = (
            f"{fmt.number(H)} days after the origin"
            if np.isfinite(H)
            else "saturation (t -> infinity)"
        )
    act_note = "given by the caller"
    if actual_delay is None:
        actual_delay, act_note = response_time(fit, None)
    if actual_delay is not None and actual_delay >= 0:
        grid = np.append(grid, actual_delay)
    grid = np.unique(grid)
    damp = cm.flow_damped if model == "flow" else cm.rate_damped
    P0 = cm.theta[None, :]
    final0 = damp(grid, H, e, P0)[0]
    fitted0 = float(cm.value_at(H, P0)[0, 0])
    y0_0 = damp(np.array([0.0]), H, e, P0)[0, 0]
    draws, dnote = _param_draws(cm, fit, n_draws, seed, bands)
    n = len(grid)
    F = fitted = base = None
    if draws is not None:
        F = damp(grid, H, e, draws)  # (n_draws, n_delays)
        fitted = cm.value_at(H, draws)[:, 0]  # (n_draws,)
        base = damp(np.array([0.0]), H, e, draws)[:, 0]  # (n_draws,)
        lo, hi = band(F, alpha)
        flo, fhi = band(fitted, alpha)
    else:
        lo = hi = np.full(n, np.nan)
        flo = fhi = np.nan
    table = pd.DataFrame(
        {
            "delay_days": grid,
            "final_reach": final0,
            "lower": lo,
            "upper": hi,
            "reach_avoided": fitted0 - final0,
            "cost_of_delay": final0 - y0_0,
            "actual": np.isclose(grid, actual_delay) if actual_delay is not None else False,
        }
    )[list(DELAY_COST_COLUMNS)]
    intervention = {
        "flow": "after the response at t_r, new reach per unit time is multiplied by (1 - e): "
        "y_cf(t) = y(t_r) + (1 - e)(y(t) - y(t_r))",
        "rate": (
            "after the response the growth rate "
            + (
                "q (imitation) of the Bass curve"
                if cm.name == "bass"
                else f"{cm.rate_param or 'r'} of the {cm.name} curve"
            )
            + " is multiplied by (1 - e), continuing from y(t_r)"
        ),
    }[model]
    origin = getattr(fit, "origin", None)
    metric_name = getattr(fit, "metric", None)
    settings = {
        "case": fit_case_id(fit),
        "intervention model": f"{model}: {intervention}",
        "effectiveness e": f"{fmt.number(e)} (default {DEFAULT_EFFECTIVENESS}, plausible range "
        f"{EFFECTIVENESS_RANGE[0]}-{EFFECTIVENESS_RANGE[1]}). "
        f"{EFFECTIVENESS_NOTE}",
        "final reach read at": h_note,
        "curve": f"{cm.name} fitted to {metric_name!r}: "
        + ", ".join(f"{nm}={fmt.number(v, 4)}" for nm, v in zip(cm.names, cm.theta)),
        "delay": (
            f"days after the fit's origin t = 0 ("
            f"{'none' if origin is None else fmt.date(pd.Timestamp(origin))}"
            "), at which the response takes effect immediately and fully"
        ),
        "actual delay": act_note if actual_delay is not None else f"unknown: {act_note}",
        "bands": f"{fmt.percent(1 - alpha, 0)} percentile bands over parameter draws; {dnote}; "
        "they do not include uncertainty in e or in the choice of curve (see "
        "sensitivity())",
        "never responding": "d = inf reproduces the fitted curve",
        "n_draws": int(n_draws),
        "seed": int(seed),
        "alpha": alpha,
    }
    if act_note and "range" in act_note:
        settings["actual delay"] += " (a later date in the range would give a larger cost)"
    if actual_delay is not None and actual_delay < 0:
        settings["actual delay"] += (
            " - the company responded before going public, outside "
            "the curve; no grid row is marked as actual"
        )
    return DelayCost(
        case_id=fit_case_id(fit),
        curve=cm.name,
        metric=metric_name,
        model=model,
        effectiveness=e,
        horizon=H,
        _table=table,
        fitted_final=fitted0,
        fitted_band=(float(flo), float(fhi)),
        actual_delay=actual_delay,
        _settings=settings,
        draws=draws,
        finals=F,
        fitted_draws=fitted,
        base_draws=base,
        alpha=alpha,
        statement=f"computed from a {cm.name} fit of {metric_name!r}",
    )
