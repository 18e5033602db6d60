"""Reach while waiting: how much reach piled up before the company's first response, and
how much came after it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.exceptions import InsufficientDataError, ParameterError
from casekit.response._common import (
    StoredResult,
    band,
    case_words,
    check_number,
    fit_case_id,
    resolve_fit,
    response_time,
    settings_block,
    with_band,
)
from casekit.response.counterfactual import _CurveModel, _param_draws
from casekit.results import Result, check_alpha

__all__ = ["WaitingReach", "reach_while_waiting"]

QUANTITIES = ("before_response", "after_response", "final", "share_before")


@dataclass(frozen=True, repr=False, eq=False)
class WaitingReach(StoredResult, Result):
    """Reach accrued before and after the first response (see :func:`reach_while_waiting`).

    Attributes
    ----------
    table : pandas.DataFrame
        ``quantity, estimate, lower, upper, unit``; quantities ``before_response``,
        ``after_response``, ``final`` and ``share_before``.
    params : pandas.Series
        The estimates, by quantity.
    response_t, horizon : float
        Days since the origin of the response, and up to which "after" is counted.
    peak_t : float or None
        Day of the curve's peak growth.
    curve_table : pandas.DataFrame
        The fitted curve for the figure: ``t, estimate, lower, upper`` (a confidence
        band from :meth:`casekit.reach.ReachFit.predict`).
    quantity_draws : numpy.ndarray or None
        The four quantities for each parameter draw (the source of the intervals).
    """

    title: ClassVar[str] = "Reach while waiting"
    has_intervals: ClassVar[bool] = True

    case_id: str | None
    curve: str
    metric: str | None
    response_t: float
    horizon: float
    _table: pd.DataFrame
    peak_t: float | None
    _settings: dict[str, Any]
    curve_table: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    quantity_draws: np.ndarray | None = field(default=None, repr=False)
    alpha: float = 0.05

    @property
    def params(self) -> pd.Series:
        return self._table.set_index("quantity")["estimate"].rename("estimate")

    @property
    def summary(self) -> pd.DataFrame:
        return self.table

    def value(self, quantity: str, column: str = "estimate") -> float:
        """One number of :attr:`table`, e.g. ``value("share_before", "lower")``."""
        return float(self._table.set_index("quantity").loc[quantity, column])

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """(1 - alpha) percentile intervals over the parameter draws, by quantity
        (``quantity, estimate, lower, upper``; NaN bounds without draws)."""
        a = check_alpha(alpha, self.alpha)
        out = self._table[["quantity", "estimate"]].copy()
        if self.quantity_draws is None:
            out["lower"] = out["upper"] = np.nan
        else:
            out["lower"], out["upper"] = band(self.quantity_draws, a)
        return out

    def __str__(self) -> str:
        t = self._table.set_index("quantity")
        horizon = "saturation" if np.isinf(self.horizon) else f"day {fmt.number(self.horizon)}"
        lines = [
            f"Reach while waiting ({self.curve} fit of {self.metric!r}, "
            f"{case_words(self.case_id)}); response at day {fmt.number(self.response_t)} "
            "after the origin."
        ]
        for q in t.index:
            r = t.loc[q]
            if r["unit"] == "share":
                text = fmt.interval(r["estimate"], r["lower"], r["upper"], kind="percent")
                if fmt.is_missing(r["lower"]):
                    text = fmt.percent(r["estimate"])
            else:
                text = f"{with_band(r['estimate'], r['lower'], r['upper'])} {r['unit']}"
            lines.append(f"- {q}: {text}")
        if self.peak_t is not None:
            when = "before" if self.response_t < self.peak_t else "after"
            lines.append(
                f"The response came {when} the curve's peak growth (day {fmt.number(self.peak_t)})."
            )
        lines.append(
            f"After the response is counted up to the {horizon}, as if the response "
            "changed nothing (the fitted curve)."
        )
        return "\n".join(lines) + "\n" + settings_block(self.settings)

    def plot(self, **kwargs):
        """The fitted curve with the reach before and after the response shaded
        (:func:`casekit.plots.waiting_plot`)."""
        from casekit.plots import waiting_plot

        return waiting_plot(self, **kwargs)


def _curve_table(fit, t_r: float, H: float, points: int = 200) -> pd.DataFrame:
    """The fitted curve with its confidence band, over the span the figure shows."""
    t_obs = fit.data["t"]
    t_end = H if np.isfinite(H) else max(3 * max(t_r, 1.0), float(t_obs.max()))
    t = np.linspace(min(0.0, float(t_obs.min())), t_end, points)
    p = fit.predict(t, interval="confidence")
    return pd.DataFrame(
        {
            "t": p["t"].to_numpy(float),
            "estimate": p["yhat"].to_numpy(float),
            "lower": p["lower"].to_numpy(float),
            "upper": p["upper"].to_numpy(float),
        }
    )


def reach_while_waiting(
    fit,
    response=None,
    *,
    horizon: float | None = None,
    n_draws: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    bands: str = "normal",
) -> WaitingReach:
    """Reach accrued before the first response and after it, from a reach fit, with intervals.

    Parameters
    ----------
    fit : casekit.reach.ReachFit
    response : pandas.Timestamp, str or float, optional
        When the company responded (a date, or days since the fit's origin). Default:
        the ``first_response`` key date of the case the fit carries (``fit.context``;
        the start of its range if it is a range). A fit of plain data has no case, so
        the response must be given.
    horizon : float, optional
        Days since the origin up to which "after" is counted; default the curve's
        saturation (t -> infinity).
    n_draws, seed, alpha, bands
        Parameter draws for the (1 - alpha) intervals (see :func:`delay_cost`).

    Returns
    -------
    WaitingReach
        ``table`` rows: ``before_response`` (y(t_r)), ``after_response``
        (y(H) - y(t_r)), ``final`` (y(H)) and ``share_before`` (y(t_r) / y(H)).

    Raises
    ------
    InsufficientDataError
        The response time is unknown (no ``first_response`` date, no origin, or a fit
        of plain data without ``response``).

    Examples
    --------
    >>> import casekit as ck
    >>> fit = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
    >>> w = ck.response.reach_while_waiting(fit)
    >>> w.response_t
    4.0
    >>> 0.6 < w.value("share_before") < 0.8
    True
    """
    fit = resolve_fit(fit)
    alpha = check_alpha(alpha)
    model = _CurveModel(fit)
    t_r, note = response_time(fit, response)
    if t_r is None:
        raise InsufficientDataError(f"no response time: {note}")
    H = float(np.inf) if horizon is None else check_number(horizon, "horizon", allow_inf=True)
    if H < t_r:
        raise ParameterError(
            f"horizon (day {fmt.number(H)}) is before the response (day {fmt.number(t_r)})"
        )
    P0 = model.theta[None, :]
    draws, dnote = _param_draws(model, fit, n_draws, seed, bands)

    def quantities(P):
        yr = model.f(np.array([t_r]), P)[:, 0]
        fin = model.value_at(H, P)[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.column_stack([yr, fin - yr, fin, yr / fin])

    est = quantities(P0)[0]
    Q = None
    if draws is not None:
        Q = quantities(draws)
        lo, hi = band(Q, alpha)
    else:
        lo = hi = np.full(4, np.nan)
    unit = getattr(fit, "metric", None) or "reach"
    table = pd.DataFrame(
        {
            "quantity": list(QUANTITIES),
            "estimate": est,
            "lower": lo,
            "upper": hi,
            "unit": [unit, unit, unit, "share"],
        }
    )
    settings = {
        "case": fit_case_id(fit),
        "curve": f"{model.name} with parameters "
        + ", ".join(f"{n}={fmt.number(v, 4)}" for n, v in zip(model.names, model.theta)),
        "response": note,
        "after": "fitted curve continued unchanged (no intervention) up to "
        + ("saturation" if np.isinf(H) else f"day {fmt.number(H)}"),
        "intervals": f"{fmt.percent(1 - alpha, 0)} percentile intervals; {dnote}",
        "n_draws": int(n_draws),
        "seed": int(seed),
        "alpha": alpha,
    }
    return WaitingReach(
        case_id=fit_case_id(fit),
        curve=model.name,
        metric=getattr(fit, "metric", None),
        response_t=t_r,
        horizon=H,
        _table=table,
        peak_t=model.peak_time(),
        _settings=settings,
        curve_table=_curve_table(fit, t_r, H),
        quantity_draws=Q,
        alpha=alpha,
    )
