"""When could the company have known? Documented spike-alert rules replayed on a
case's reach data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.cases import Case
from casekit.exceptions import ParameterError
from casekit.response._common import DAY, check_case, settings_block
from casekit.results import Result

__all__ = ["SpikeRule", "DEFAULT_RULES", "Detection", "replay_rules", "detection_replay"]


from casekit.response.spike_rules import DEFAULT_RULES, SpikeRule, replay_rules  # noqa: F401

_GRID_PRECISIONS = {"hour": pd.Timedelta(hours=1), "day": DAY}


def _metric_counts(case: Case, metric: str) -> tuple[pd.Series | None, pd.Timedelta | None, str]:
    """Per-interval counts of one metric on a regular grid, and a note on how they were made.

    Per-period series are used as they are, one source (the one with most rows) and one
    grid (hour or day precision, whichever has more rows). Cumulative series are
    differenced only between two readings of one source whose time stamps are one
    step apart: two clock times 0.75-1.25 steps apart, or two day-precision readings on
    consecutive days (assumed read at a similar time of day); a clock time against a
    bare day is not used. Every other interval stays unknown.
    """
    s = case.series(metric)
    s = s[s["time_precision"].isin(list(_GRID_PRECISIONS))]
    if s.empty:
        return (
            None,
            None,
            ("no readings dated to the hour or day (only months, ranges or approximate dates)"),
        )
    src = s["source"].value_counts().index[0]
    s = s[s["source"] == src]
    cumulative = bool(s["cumulative"].iloc[0])
    if not cumulative:
        prec = s["time_precision"].value_counts().index[0]
        step = _GRID_PRECISIONS[prec]
        s = s[s["time_precision"] == prec]
        cells = s["time"].dt.floor(step)
        per = s.groupby(cells)["value"].last()
        grid = pd.date_range(per.index.min(), per.index.max(), freq=step)
        counts = per.reindex(grid)
        note = (
            f"per-{prec} counts from source {src!r} ({len(per)} intervals"
            f"{', gaps left unknown' if counts.isna().any() else ''})"
        )
        return counts, step, note
    # cumulative: difference consecutive readings one step apart
    best = None
    for prec, step in (("hour", pd.Timedelta(hours=1)), ("day", DAY)):
        r = s if prec == "day" else s[s["time_precision"] == "hour"]
        if len(r) < 2:
            continue
        r = r.sort_values("time")
        cells = r["time"].dt.floor(step)
        last = r.groupby(cells).agg(
            value=("value", "last"), time=("time", "last"), precision=("time_precision", "last")
        )
        inc = {}
        for (c0, a), (c1, b) in zip(last.iterrows(), list(last.iterrows())[1:]):
            if c1 - c0 != step:
                continue
            if a["precision"] != b["precision"]:
                continue  # a clock time against a bare day: the interval is not known
            if a["precision"] == "hour":
                gap = b["time"] - a["time"]
                if not (0.75 * step <= gap <= 1.25 * step):
                    continue
            inc[c1] = b["value"] - a["value"]
        if inc and (best is None or len(inc) > best[2]):
            ser = pd.Series(inc, dtype=float)
            grid = pd.date_range(ser.index.min(), ser.index.max(), freq=step)
            best = (ser.reindex(grid), step, len(inc), prec)
    if best is None:
        return (
            None,
            None,
            (
                f"cumulative readings from source {src!r} are never one hour or one "
                "day apart, so no per-interval increments can be formed without "
                "interpolating"
            ),
        )
    counts, step, n, prec = best
    return (
        counts,
        step,
        (
            f"{n} per-{prec} increments differenced from consecutive cumulative "
            f"readings of source {src!r}; other intervals unknown"
        ),
    )


@dataclass(frozen=True, repr=False, eq=False)
class Detection(Result):
    """Replay of spike rules on a case's reach data (see :func:`detection_replay`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per metric and rule: ``metric, rule, kind, threshold, evaluable,
        n_checks, n_alerts, first_alert, reason, data_note, source``.
    checks : pandas.DataFrame
        Every checked window (``metric`` added to :func:`replay_rules`' checks).
    first_alert : pandas.Timestamp or None
        Earliest alert of any rule on any metric.
    first_alert_rule : str or None
        ``"<metric>: <rule>"`` that fired first.
    detection_lag_days, decision_lag_days, response_lag_days : float or None
        going public -> first alert; first alert -> first response; going public ->
        first response. ``response lag = detection lag + decision lag``. A negative
        decision lag means the company responded before the rule fired.
    params : pandas.Series
        The three lags in days (NaN where unknown).
    statements : tuple of str
        Plain statements about what could and could not be replayed.
    """

    title: ClassVar[str] = "Detection replay"

    case_id: str
    _table: pd.DataFrame
    checks: pd.DataFrame
    first_alert: pd.Timestamp | None
    first_alert_rule: str | None
    going_public: pd.Timestamp | None
    first_response: pd.Timestamp | None
    detection_lag_days: float | None
    decision_lag_days: float | None
    response_lag_days: float | None
    statements: tuple[str, ...]

    @property
    def table(self) -> pd.DataFrame:
        return self._table.copy()

    @property
    def params(self) -> pd.Series:
        lags = {
            "detection_lag_days": self.detection_lag_days,
            "decision_lag_days": self.decision_lag_days,
            "response_lag_days": self.response_lag_days,
        }
        return pd.Series(
            {k: np.nan if v is None else float(v) for k, v in lags.items()},
            dtype=float,
            name="days",
        )

    @property
    def settings(self) -> dict[str, Any]:
        return {
            "case": self.case_id,
            "metrics": sorted(set(self._table["metric"])),
            "rules": sorted(set(self._table["rule"])),
            "lags": "detection lag = first alert - going public; decision lag = first "
            "response - first alert (methods.md §4.7)",
            "data": "per-period counts as recorded; cumulative readings differenced only "
            "between readings one grid step apart; nothing interpolated",
        }

    @property
    def summary(self) -> pd.DataFrame:
        """The rules that could be evaluated (the others are explained in the prose)."""
        ok = self._table[self._table["evaluable"].astype(bool)]
        return ok[["metric", "rule", "n_checks", "n_alerts", "first_alert", "reason"]].reset_index(
            drop=True
        )

    def __str__(self) -> str:
        lines = [f"Detection replay for case {self.case_id!r}."]
        if self.first_alert is None:
            lines.append(
                "No rule fired on the recorded data, so when the company could have "
                "known cannot be dated from the reach series."
            )
        else:
            lines.append(f"First alert: {fmt.cell(self.first_alert)} ({self.first_alert_rule}).")
            unknown = "unknown"
            lines.append(
                f"Response lag {fmt.days(self.response_lag_days, reason=unknown)} = "
                f"detection lag {fmt.days(self.detection_lag_days, reason=unknown)} + "
                f"decision lag {fmt.days(self.decision_lag_days, reason=unknown)}."
            )
            if self.decision_lag_days is not None and self.decision_lag_days < 0:
                lines.append("The company responded before this rule would have fired.")
        lines += [f"- {s}" for s in self.statements]
        return "\n".join(lines) + "\n" + settings_block(self.settings)

    def plot(self, **kwargs):
        """Checked windows against their thresholds (:func:`casekit.plots.detection_plot`)."""
        from casekit.plots import detection_plot

        return detection_plot(self, **kwargs)


def detection_replay(
    case: Case,
    metric: str | Sequence[str] | None = None,
    rules: Iterable[SpikeRule] = DEFAULT_RULES,
) -> Detection:
    """When could the company have known? Replay spike rules on the case's reach data.

    Parameters
    ----------
    case : Case
    metric : str or list of str, optional
        Reach metric(s) to replay on; default every metric of the case.
    rules : iterable of SpikeRule
        Default :data:`DEFAULT_RULES` (Meltwater 1 h vs 12 h and 1 d vs 14 d;
        Socialmetrix 24 h vs 7 d + k SD, k = 1.5, 2, 3).

    Returns
    -------
    Detection

    Notes
    -----
    Rules run on per-interval counts (see :func:`replay_rules`). Per-period series
    are used as recorded. Cumulative series are differenced into per-interval
    increments only between two readings of the same source that are one grid step
    apart; nothing is interpolated, so a sparse counter usually cannot be replayed and
    the result says so. On daily data an hourly rule cannot run ("too sparse"), and the
    24-h rule is checked once a day with the standard deviation of daily counts.

    The response lag is split as in methods.md §4.7: detection lag = first alert -
    going public; decision lag = first response - first alert.

    Examples
    --------
    >>> import casekit as ck
    >>> det = ck.response.detection_replay(ck.load_case("synthetic-example"), "forum_posts")
    >>> det.first_alert
    Timestamp('2024-03-06 00:00:00')
    >>> det.detection_lag_days, det.decision_lag_days
    (2.0, 2.0)
    """
    check_case(case, "detection_replay")
    rules = tuple(rules)
    if not all(isinstance(r, SpikeRule) for r in rules):
        raise ParameterError("rules must be SpikeRule objects (see casekit.response.DEFAULT_RULES)")
    metrics = (
        list(case.metrics)
        if metric is None
        else ([metric] if isinstance(metric, str) else list(metric))
    )
    unknown = [m for m in metrics if m not in case.metrics]
    if unknown:
        raise ParameterError(
            f"case {case.id!r} has no reach metric {', '.join(map(repr, unknown))}"
            f"; it has: {', '.join(case.metrics) or '(none)'}"
        )
    tables, checks, statements = [], [], []
    for m in metrics:
        counts, step, note = _metric_counts(case, m)
        if counts is None:
            tables.append(
                pd.DataFrame(
                    [
                        {
                            "metric": m,
                            "rule": r.name,
                            "kind": r.kind,
                            "threshold": r.threshold,
                            "evaluable": False,
                            "n_checks": 0,
                            "n_alerts": 0,
                            "first_alert": pd.NaT,
                            "reason": note,
                            "data_note": note,
                            "source": r.source,
                        }
                        for r in rules
                    ]
                )
            )
            statements.append(f"{m}: not replayed: {note}.")
            continue
        tab, chk = replay_rules(counts, rules, step=step)
        tab.insert(0, "metric", m)
        tab["data_note"] = note
        tables.append(tab)
        chk.insert(0, "metric", m)
        checks.append(chk)
        n_ok = int(tab["evaluable"].sum())
        statements.append(f"{m}: {note}; {n_ok} of {len(tab)} rules evaluable.")
        if step > pd.Timedelta(hours=1):
            statements.append(
                f"{m}: the series is too sparse for an hourly rule (one value per day at best)."
            )
    cols = [
        "metric",
        "rule",
        "kind",
        "threshold",
        "evaluable",
        "n_checks",
        "n_alerts",
        "first_alert",
        "reason",
        "data_note",
        "source",
    ]
    table = pd.concat(tables, ignore_index=True)[cols] if tables else pd.DataFrame(columns=cols)
    table["first_alert"] = pd.to_datetime(table["first_alert"])
    checks_df = (
        pd.concat(checks, ignore_index=True)
        if checks
        else pd.DataFrame(
            columns=[
                "metric",
                "rule",
                "window_end",
                "window_mean",
                "baseline_mean",
                "baseline_sd",
                "threshold_value",
                "fired",
            ]
        )
    )
    fired = table.dropna(subset=["first_alert"]).sort_values("first_alert", kind="stable")
    gp, fr = case.key_date("going_public"), case.key_date("first_response")
    first = rule_name = None
    det = dec = None
    if not fired.empty:
        first = fired["first_alert"].iloc[0]
        rule_name = f"{fired['metric'].iloc[0]}: {fired['rule'].iloc[0]}"
        if gp is not None:
            det = (first - gp) / DAY
        if fr is not None:
            dec = (fr - first) / DAY
    resp = None if gp is None or fr is None else (fr - gp) / DAY
    if gp is None:
        statements.append("going_public is unknown: no detection lag.")
    if fr is None:
        statements.append("first_response is unknown: no decision lag.")
    return Detection(
        case_id=case.id,
        _table=table,
        checks=checks_df,
        first_alert=first,
        first_alert_rule=rule_name,
        going_public=gp,
        first_response=fr,
        detection_lag_days=det,
        decision_lag_days=dec,
        response_lag_days=resp,
        statements=tuple(statements),
    )


# ---------------------------------------------------------------------------
