"""The result of a rolling-origin replay, :class:`Replay`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from casekit import format as fmt
from casekit.exceptions import ParameterError
from casekit.results import Result, check_alpha

__all__ = ["Replay", "TABLE_COLUMNS"]

TABLE_COLUMNS = (
    "tau",
    "time",
    "n_obs",
    "observed",
    "estimate",
    "lower",
    "upper",
    "status",
    "passes_threshold",
    "covers",
    "rel_error",
    "note",
    "se_log",
    "df",
)
"""Columns of :attr:`Replay.table`."""


@dataclass(frozen=True, repr=False, eq=False)
class Replay(Result):
    """A rolling-origin replay of a storm (see :func:`casekit.forecast.replay`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per origin (:data:`TABLE_COLUMNS`): ``tau`` (days since the origin),
        ``time`` (its date), ``n_obs`` (readings or events known at tau), ``observed``
        (the running total at tau), ``estimate, lower, upper`` (the forecast final size
        and its interval), ``status`` (``ok``, ``too few points``, ``no fit`` or
        ``unbounded``), ``passes_threshold`` (``lower >= threshold``), ``covers`` (the
        interval holds the final observed value), ``rel_error`` ((estimate - final) /
        final), ``note`` (why there is no forecast), ``se_log`` and ``df`` (what
        :meth:`conf_int` needs to recompute a growth-curve interval at another level).
    threshold, alpha : float
    branch : {"series", "events"}
        Growth curves on aggregated readings, or a Hawkes process on event times.
    model, grid, label : str
        The model fitted at each origin, the origins and what was watched, in words.
    case_id, metric : str or None
    origin : pandas.Timestamp or None
        The date of t = 0.
    final_value : float
        The final observed value (the largest reading at the last reading's time; the
        number of events), the yardstick of the scoring.
    forecast_alert, spike_alert, response : float or None
        Days since the origin: the first origin whose lower bound reaches the
        threshold; the spike rules' first alert (``spike_rule`` fired it); the company's
        actual response.
    rules_table : pandas.DataFrame
        One row per spike rule (:func:`casekit.response.replay_rules`).
    notes : tuple of str
    options : dict
        Curve and loss, or kernel and draws, and the seed.
    """

    title: ClassVar[str] = "Forecast replay"
    has_intervals: ClassVar[bool] = True

    _table: pd.DataFrame
    threshold: float
    alpha: float
    branch: str
    model: str
    grid: str
    label: str
    case_id: str | None
    metric: str | None
    origin: pd.Timestamp | None
    final_value: float
    forecast_alert: float | None
    spike_alert: float | None
    spike_rule: str | None
    response: float | None
    rules_table: pd.DataFrame
    notes: tuple[str, ...]
    options: dict

    # -- times -----------------------------------------------------------------------
    def _date(self, days: float | None) -> pd.Timestamp | None:
        if days is None or self.origin is None:
            return None
        return self.origin + pd.Timedelta(days=float(days)).round("s")

    @property
    def forecast_alert_time(self) -> pd.Timestamp | None:
        """The date by which the forecast's lower bound reached the threshold."""
        return self._date(self.forecast_alert)

    @property
    def spike_alert_time(self) -> pd.Timestamp | None:
        """The date of the spike rules' first alert."""
        return self._date(self.spike_alert)

    @property
    def response_time(self) -> pd.Timestamp | None:
        """The date of the company's actual response."""
        return self._date(self.response)

    # -- vocabulary ------------------------------------------------------------------
    @property
    def table(self) -> pd.DataFrame:
        return self._table.copy()

    @property
    def coverage(self) -> float:
        """Share of the origins with a forecast whose interval holds the final value."""
        has = self._table["status"].isin(["ok", "unbounded"])
        return float(self._table.loc[has, "covers"].mean()) if has.any() else math.nan

    @property
    def params(self) -> pd.Series:
        """First alerts (days since the origin), the interval coverage and the median
        absolute relative error of the forecasts."""
        t = self._table
        has = t["status"].isin(["ok", "unbounded"])
        err = t.loc[has, "rel_error"].abs()
        return pd.Series(
            {
                "forecast_alert": _nan(self.forecast_alert),
                "spike_alert": _nan(self.spike_alert),
                "response": _nan(self.response),
                "coverage": self.coverage,
                "median_abs_rel_error": float(err.median()) if len(err) else math.nan,
            },
            dtype=float,
            name="value",
        )

    @property
    def settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "watched": self.label,
            "case": self.case_id,
            "origin": fmt.date(self.origin) if self.origin is not None else "none (days)",
            "model": self.model,
            "origins": f"{self.grid} ({len(self._table)} in all)",
            "threshold": fmt.number(self.threshold),
            "alpha": self.alpha,
            "passes": "the forecast's lower bound >= threshold",
            "look-ahead": "none: each origin's fit sees only what was known at tau",
            "scored against": f"final observed value {fmt.number(self.final_value)}",
        }
        out.update({k: v for k, v in self.options.items() if v is not None})
        return {k: v for k, v in out.items() if v is not None}

    @property
    def summary(self) -> pd.DataFrame:
        """The three moments on one axis, and the scoring."""
        rows = [
            ("forecast lower bound reaches the threshold", self.forecast_alert,
             self.forecast_alert_time, None),
            ("spike rules' first alert", self.spike_alert, self.spike_alert_time,
             self.spike_rule),
            ("company's first response", self.response, self.response_time, None),
        ]  # fmt: skip
        out = pd.DataFrame(rows, columns=["moment", "days", "time", "detail"])
        out["days"] = out["days"].astype(float)
        out["time"] = pd.to_datetime(out["time"])
        return out

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """The forecast interval at each origin, columns ``lower`` and ``upper`` (index
        ``tau``).

        Growth-curve intervals are recomputed at any level from the stored log-scale
        standard errors (the same numbers a refit would give). Hawkes intervals come from
        parameter draws at the replay's ``alpha``; another level would need every fit
        again, so it raises ParameterError.

        Examples
        --------
        >>> import casekit as ck
        >>> r = ck.forecast.replay(ck.load_case("synthetic-example"), 1e5, metric="video_views")
        >>> ci90, ci95 = r.conf_int(0.1), r.conf_int()
        >>> bool(((ci90["upper"] <= ci95["upper"]) | ci95["upper"].isna()).all())
        True
        """
        a = self.alpha if alpha is None else check_alpha(alpha)
        t = self._table
        out = t[["tau", "lower", "upper"]].set_index("tau")
        if a == self.alpha:
            return out
        if self.branch != "series":
            raise ParameterError(
                f"this replay holds {fmt.percent(1 - self.alpha, 0)} intervals from "
                "parameter draws; another level needs the fits again: run replay(..., "
                f"alpha={a})"
            )
        ok = (t["status"] == "ok").to_numpy()
        q = np.full(len(t), np.nan)
        q[ok] = stats.t.ppf(1 - a / 2, t.loc[ok, "df"].to_numpy(float))
        est, se = t["estimate"].to_numpy(float), t["se_log"].to_numpy(float)
        out["lower"] = np.where(ok, est * np.exp(-q * se), np.nan)
        out["upper"] = np.where(ok, est * np.exp(q * se), np.nan)
        return out

    # -- prose -----------------------------------------------------------------------
    def _when(self, days: float | None, extra: str = "") -> str:
        extra = f"; {extra}" if extra else ""
        if days is None:
            return "never"
        if self.origin is None:
            return f"day {fmt.number(days)}" + (f" ({extra[2:]})" if extra else "")
        return f"{fmt.cell(self._date(days))} (day {fmt.number(days)}{extra})"

    def __str__(self) -> str:
        t = self._table
        who = f" of case {self.case_id!r}" if self.case_id else ""
        has = t["status"].isin(["ok", "unbounded"])
        tau0 = float(t["tau"].iloc[0]) if len(t) else math.nan
        first = fmt.cell(self._date(tau0)) if self.origin is not None else f"day {fmt.number(tau0)}"
        head = (
            f"A forecaster watching {self.label}{who}, refitting a {self.model} to the data "
            f"known at each moment ({self.grid} from {first}),"
        )
        thr = fmt.number(self.threshold)
        if self.forecast_alert is not None:
            row = t.loc[t["tau"] == self.forecast_alert].iloc[0]
            lower = "unbounded" if math.isinf(row["lower"]) else fmt.number(row["lower"])
            knew = (
                f"could have known by {self._when(self.forecast_alert)} that the final size "
                f"would reach {thr} (lower bound {lower} at {fmt.percent(1 - self.alpha, 0)})"
            )
        else:
            knew = f"would never have seen the lower bound reach {thr}"
        spike = (
            f"the spike rules fired at {self._when(self.spike_alert, f'rule {self.spike_rule}')}"
            if self.spike_alert is not None
            else "the spike rules never fired on these data"
        )
        resp = (
            f"the company answered at {self._when(self.response)}"
            if self.response is not None
            else "the company's response date is unknown"
        )
        lines = [f"{head} {knew}; {spike}; {resp}."]
        n_has = int(has.sum())
        if n_has:
            err = t.loc[has, "rel_error"].abs().median()
            lines.append(
                f"The final observed value was {fmt.number(self.final_value)}; "
                f"{int(t.loc[has, 'covers'].sum())} of {n_has} forecast intervals contained "
                f"it (coverage {fmt.percent(self.coverage, 0)}); median absolute relative "
                f"error {fmt.percent(err, 0)}."
            )
        idle = t.loc[~has, "status"].value_counts()
        if len(idle):
            parts = ", ".join(f"{n} {s}" for s, n in idle.items())
            lines.append(f"Origins without a forecast: {parts}.")
        if (t["status"] == "unbounded").any():
            lines.append(
                "At an unbounded origin the fitted branching ratio was 1 or more: the "
                "expected final size is infinite, so the lower bound passes any threshold."
            )
        lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\nSettings:\n" + fmt.settings_text(self.settings)

    def plot(self, **kwargs):
        """The forecast fan over tau with the threshold, the first alert, the spike
        alert and the response on one axis (:func:`casekit.forecast.plot.fan`)."""
        from casekit.forecast.plot import fan

        return fan(self, **kwargs)


def _nan(x: float | None) -> float:
    return math.nan if x is None else float(x)
