"""The cost of a slow response: delays, detection replay, reach while waiting, the
counterfactual delay-cost curve, money lenses and the severity label.

Every function takes a :class:`~casekit.cases.Case` or a reach fit
(:class:`casekit.reach.ReachFit`) and returns an immutable result object with
``params``, ``summary``, ``table``, ``plot()``, ``to_dict()`` and ``_repr_html_``.
Unknown dates stay unknown: a delay whose end points are not both known is
reported as not computable, with the reason, and never guessed.

Overview
--------
==========================  ===============================================================
:func:`delays`              incident -> complaint -> going public -> response -> resolution
:func:`detection_replay`    when documented spike rules would have fired on the reach data
:func:`reach_while_waiting` reach accrued before and after the first response, with intervals
:func:`delay_cost`          final reach had the company responded after d days (flow or rate)
:func:`sensitivity`         tornado of the cost of the delay over effectiveness, CPM and curve
:func:`money_lenses`        four separate money lenses, side by side, never summed
:func:`severity`            Shitstorm-scale level (0-6) over time, beside the response date
==========================  ===============================================================

References (keys as in the project's research notes, ``methods.md`` §6)
-----------------------------------------------------------------------
[L1], [L2]  Twitter / Applied Marketing Science willingness-to-pay studies (2015, 2016):
            platform-sponsored industry estimates, stated preference (conjoint).
[L5]        Herhausen, Ludwig, Grewal, Wulf & Schoegel (2019), Journal of Marketing 83(3):
            empathy and apology / channel change reduce the virality of a firestorm;
            compensation alone "fuels the fire".
[L7]        Graf & Schwede (2012), Shitstorm-Skala (0-6).
[S1a]       Meltwater spike detection: social = last hour vs previous 12 h; editorial = day vs
            previous 14 days.
[S6a]       Socialmetrix variation alerts: 24-h mean > 7-day mean + k SD, k = 1.5 / 2 / 3.

Examples
--------
>>> import casekit as ck
>>> case = ck.load_case("synthetic-example")
>>> d = ck.response.delays(case)
>>> d.days("going_public_to_first_response")
4.0
>>> ck.response.severity(case).level
4
"""

from __future__ import annotations

import html as _htmlmod
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from casekit.cases import Case
from casekit.exceptions import CasekitError, FitError, InsufficientDataError, ParameterError

__all__ = [
    "Delays",
    "Detection",
    "SpikeRule",
    "DEFAULT_RULES",
    "WaitingReach",
    "DelayCost",
    "Sensitivity",
    "MoneyLenses",
    "Severity",
    "DELAY_DEFINITIONS",
    "DEFAULT_EFFECTIVENESS",
    "EFFECTIVENESS_RANGE",
    "DEFAULT_CPM",
    "WTP_FIGURES",
    "SEVERITY_LEVELS",
    "delays",
    "detection_replay",
    "replay_rules",
    "reach_while_waiting",
    "delay_cost",
    "sensitivity",
    "what_if",
    "money_lenses",
    "severity",
    "wtp_uplift",
    "level_from_indicators",
    "DEFAULT_DELAYS",
    "DELAY_COST_COLUMNS",
    "MONEY_COLUMNS",
    "MODELS",
    "REACH_UNITS",
    "SEVERITY_THRESHOLDS",
]

# ---------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------

DAY = pd.Timedelta(days=1)


def _jsonable(x: Any) -> Any:
    """Turn numpy / pandas scalars and containers into plain JSON values."""
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, pd.DataFrame):
        return [_jsonable(r) for r in x.to_dict(orient="records")]
    if isinstance(x, pd.Series):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, pd.Timestamp):
        return x.isoformat()
    if isinstance(x, pd.Timedelta):
        return x.total_seconds() / 86400.0
    if x is None or x is pd.NaT:
        return None
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        return None if not math.isfinite(v) else v
    if isinstance(x, (int, str)):
        return x
    try:
        if pd.isna(x):
            return None
    except (TypeError, ValueError):
        pass
    return str(x)


def _assumptions_html(assumptions: Mapping[str, Any]) -> str:
    if not assumptions:
        return ""
    items = "".join(f"<li><b>{_htmlmod.escape(str(k))}</b>: {_htmlmod.escape(str(v))}</li>"
                    for k, v in assumptions.items())
    return f"<details><summary>Assumptions</summary><ul>{items}</ul></details>"


def _assumptions_text(assumptions: Mapping[str, Any]) -> str:
    return "\n".join(f"  - {k}: {v}" for k, v in assumptions.items())


class _ResultMixin:
    """``_repr_html_``, ``__repr__`` and ``to_dict`` shared by the result objects."""

    _title = "casekit result"

    def _html_body(self) -> str:
        return self.table.to_html(index=False, na_rep="—",  # type: ignore[attr-defined]
                                  float_format=_html_number)

    def _repr_html_(self) -> str:
        head = f"<h4>{_htmlmod.escape(self._title)}</h4>"
        text = self.summary.split("\nAssumptions:")[0]  # type: ignore[attr-defined]
        summary = "<p>" + "<br>".join(_htmlmod.escape(s) for s in text.splitlines()) + "</p>"
        assumptions = getattr(self, "assumptions", {}) or {}
        return head + summary + self._html_body() + _assumptions_html(assumptions)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able contents (``json.dumps(result.to_dict())`` works)."""
        me: Any = self
        out = {"type": type(self).__name__, "params": _jsonable(me.params),
               "summary": me.summary, "table": _jsonable(me.table)}
        if hasattr(self, "assumptions"):
            out["assumptions"] = _jsonable(me.assumptions)
        out.update(self._extra_dict())
        json.dumps(out)  # fail here, not in the caller, if something is not JSON-able
        return out

    def _extra_dict(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        me: Any = self
        return f"<casekit.response.{type(self).__name__}>\n{me.summary}"


def _html_number(x: float) -> str:
    """Tables for people: thousands separators for large numbers, 4 significant digits else."""
    if not np.isfinite(x):
        return "—"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def _fmt_days(x: float | None) -> str:
    if x is None or not np.isfinite(x):
        return "unknown"
    if abs(x - round(x)) < 1e-9:
        return f"{int(round(x))} day{'s' if round(x) != 1 else ''}"
    if abs(x) < 2:
        return f"{x * 24:.1f} hours"
    return f"{x:.1f} days"


def _fmt_num(x: float | None, digits: int = 3) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


# ---------------------------------------------------------------------------
# 1. delays
# ---------------------------------------------------------------------------

DELAY_DEFINITIONS: tuple[tuple[str, str, str, str], ...] = (
    ("incident_to_first_complaint", "incident", "first_complaint",
     "how long the customer took to complain"),
    ("decision_delay", "first_complaint", "first_response",
     "first complaint to the first substantive company response (key date first_response)"),
    ("going_public_to_first_response", "going_public", "first_response",
     "public response lag: going public to the first public company response"),
    ("going_public_to_resolution", "going_public", "resolution",
     "going public to the resolution"),
    ("first_complaint_to_resolution", "first_complaint", "resolution",
     "first complaint to the resolution"),
)
"""Delays computed by :func:`delays`: (name, start key date, end key date, meaning)."""


def _date_interval(kd) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Earliest and latest instant a key date can stand for, given its precision."""
    start = kd.date
    p = kd.precision
    if p == "range" and kd.date_end is not None:
        return start, kd.date_end
    if p == "month":
        return start, start + pd.offsets.MonthEnd(0)
    if p == "year":
        return start, start + pd.offsets.YearEnd(0)
    return start, start


def _precision_note(kd_a, kd_b) -> str:
    notes = []
    for kd in (kd_a, kd_b):
        if kd.precision == "day":
            continue
        if kd.precision == "range" and kd.date_end is not None:
            notes.append(f"{kd.name} is a range {kd.date.date()}..{kd.date_end.date()}")
        elif kd.precision == "hour":
            notes.append(f"{kd.name} has a clock time")
        else:
            notes.append(f"{kd.name} is {kd.precision}")
    return "; ".join(notes) if notes else "both dates to the day"


@dataclass(frozen=True, repr=False, eq=False)
class Delays(_ResultMixin):
    """Delays between a case's key dates (see :func:`delays`).

    Attributes
    ----------
    case_id : str
    table : pandas.DataFrame
        One row per delay: ``delay, start, end, start_date, end_date, days, days_min,
        days_max, precision, computable, reason, meaning``. ``days`` is the difference
        of the recorded dates; ``days_min``/``days_max`` bound it when a date is a
        month, a year or a range. Not computable rows have ``days`` = NaN and a reason.
    contacts : int or None
        Complaint contacts recorded in the timeline before the customer went public
        (``None`` when going public is unknown). A lower bound: a timeline row that
        stands for many calls counts once.
    contacts_table : pandas.DataFrame
        The timeline rows counted.
    """

    case_id: str
    table: pd.DataFrame
    contacts: int | None
    contacts_table: pd.DataFrame
    key_dates: dict[str, Any] = field(default_factory=dict)
    _title = "Delays"

    @property
    def params(self) -> dict[str, Any]:
        return {"case_id": self.case_id}

    @property
    def computable(self) -> list[str]:
        """Names of the delays that could be computed."""
        return self.table.loc[self.table["computable"], "delay"].tolist()

    def days(self, name: str) -> float | None:
        """Days of delay ``name`` (``None`` if it cannot be computed)."""
        row = self.table.loc[self.table["delay"] == name]
        if row.empty:
            raise KeyError(f"no delay {name!r}; known: {', '.join(self.table['delay'])}")
        v = row["days"].iloc[0]
        return None if pd.isna(v) else float(v)

    @property
    def summary(self) -> str:
        lines = [f"Delays in case {self.case_id!r}: {len(self.computable)} of {len(self.table)} "
                 "computable."]
        for _, r in self.table.iterrows():
            if r["computable"]:
                rng = ""
                if r["days_min"] != r["days_max"]:
                    rng = f" (between {_fmt_days(r['days_min'])} and {_fmt_days(r['days_max'])})"
                lines.append(f"- {r['delay']}: {_fmt_days(r['days'])}{rng}")
            else:
                lines.append(f"- {r['delay']}: not computable ({r['reason']})")
        if self.contacts is None:
            lines.append("- complaint contacts before going public: unknown (going_public unknown)")
        elif self.contacts == 0:
            lines.append("- complaint contacts before going public: none recorded in the timeline")
        else:
            lines.append(f"- complaint contacts before going public: at least {self.contacts} "
                         "(timeline rows of kind 'complaint' by the customer)")
        return "\n".join(lines)

    def _extra_dict(self) -> dict[str, Any]:
        return {"contacts": self.contacts, "key_dates": _jsonable(self.key_dates)}

    def plot(self, **kwargs):
        """Gantt chart of the delays (:func:`casekit.plots.delays_plot`)."""
        from casekit.plots import delays_plot

        return delays_plot(self, **kwargs)


def delays(case: Case) -> Delays:
    """Delays between a case's key dates, and the complaint contacts before going public.

    Parameters
    ----------
    case : Case

    Returns
    -------
    Delays
        ``table`` has one row per entry of :data:`DELAY_DEFINITIONS`. A delay is
        computable only when both key dates are known; otherwise ``days`` is NaN and
        ``reason`` names the unknown date(s). Nothing is guessed.

    Notes
    -----
    ``days`` is the difference of the recorded dates (a month-precision date stands
    for the first of its month, a range for its start); ``days_min`` and ``days_max``
    are the shortest and longest delay the precision allows. The *decision delay* is
    first complaint to the key date ``first_response``, which the case authors set to
    the first substantive company response (a refusal is not a response to the
    complaint's substance). Contacts are timeline rows with actor ``customer`` and
    kind ``complaint`` dated strictly before going public.

    Examples
    --------
    >>> import casekit as ck
    >>> d = ck.response.delays(ck.load_case("synthetic-example"))
    >>> d.table[["delay", "days"]].head(3)
                                delay  days
    0     incident_to_first_complaint   1.0
    1                  decision_delay  35.0
    2  going_public_to_first_response   4.0
    >>> d.contacts
    2
    """
    rows = []
    for name, a, b, meaning in DELAY_DEFINITIONS:
        ka, kb = case.key_dates.get(a), case.key_dates.get(b)
        row = {"delay": name, "start": a, "end": b, "start_date": None, "end_date": None,
               "days": np.nan, "days_min": np.nan, "days_max": np.nan, "precision": "",
               "computable": False, "reason": "", "meaning": meaning}
        missing = [n for n, k in ((a, ka), (b, kb)) if k is None]
        if missing:
            row["reason"] = " and ".join(missing) + " unknown in the sources"
            if ka is not None:
                row["start_date"] = ka.date
            if kb is not None:
                row["end_date"] = kb.date
        else:
            a0, a1 = _date_interval(ka)
            b0, b1 = _date_interval(kb)
            row.update(start_date=ka.date, end_date=kb.date,
                       days=(kb.date - ka.date) / DAY,
                       days_min=(max((b0 - a1) / DAY, 0.0) if kb.date >= ka.date
                                 else (b0 - a1) / DAY),
                       days_max=(b1 - a0) / DAY,
                       precision=_precision_note(ka, kb), computable=True)
            if row["days"] < 0:
                row["reason"] = f"{b} is recorded before {a}"
        rows.append(row)
    table = pd.DataFrame(rows)
    for col in ("start_date", "end_date"):
        table[col] = pd.to_datetime(table[col])
    gp = case.key_date("going_public")
    tl = case.timeline
    if gp is None:
        contacts, ctab = None, tl.iloc[0:0]
    else:
        ctab = tl[(tl["actor"] == "customer") & (tl["kind"] == "complaint") & (tl["date"] < gp)]
        contacts = int(len(ctab))
    kd = {k: (None if v is None else {"date": v.date, "precision": v.precision,
                                      "date_end": v.date_end})
          for k, v in case.key_dates.items()}
    return Delays(case_id=case.id, table=table, contacts=contacts,
                  contacts_table=ctab.reset_index(drop=True), key_dates=kd)


# ---------------------------------------------------------------------------
# 2. detection replay
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SpikeRule:
    """A documented spike-alert rule, replayed on a regular grid of per-interval counts.

    Attributes
    ----------
    name : str
    kind : {"ratio", "sd"}
        ``ratio``: fires when the mean count per step in the window exceeds
        ``threshold`` times the mean per step in the baseline. ``sd``: fires when the
        window mean exceeds the baseline mean plus ``threshold`` standard deviations
        of the baseline counts (ddof = 1).
    window, baseline : pandas.Timedelta
        The window just checked and the baseline immediately before it (they do not
        overlap). Both must be whole multiples of the data's step.
    threshold : float
        Factor (``ratio``) or k (``sd``).
    source : str
        Where the rule is documented.
    min_count : float
        The window must also hold at least this many counts in total.
    """

    name: str
    kind: str
    window: pd.Timedelta
    baseline: pd.Timedelta
    threshold: float
    source: str
    min_count: float = 0.0

    def __post_init__(self):
        if self.kind not in ("ratio", "sd"):
            raise ParameterError(f"SpikeRule kind must be 'ratio' or 'sd', not {self.kind!r}")
        if not self.threshold >= 0:
            raise ParameterError("SpikeRule threshold must be >= 0")


DEFAULT_RULES: tuple[SpikeRule, ...] = (
    SpikeRule("social_1h_vs_12h", "ratio", pd.Timedelta(hours=1), pd.Timedelta(hours=12), 2.0,
              "Meltwater social spike detection: last hour vs previous 12 h [S1a]; the factor "
              "2 is casekit's choice (Meltwater publishes no threshold)"),
    SpikeRule("editorial_1d_vs_14d", "ratio", pd.Timedelta(days=1), pd.Timedelta(days=14), 2.0,
              "Meltwater editorial spike detection: one day vs previous 14 days [S1a]; factor 2 "
              "is casekit's choice"),
    SpikeRule("sd_24h_vs_7d_k1.5", "sd", pd.Timedelta(hours=24), pd.Timedelta(days=7), 1.5,
              "Socialmetrix variation alert: 24-h mean > 7-day mean + 1.5 SD [S6a]"),
    SpikeRule("sd_24h_vs_7d_k2", "sd", pd.Timedelta(hours=24), pd.Timedelta(days=7), 2.0,
              "Socialmetrix variation alert: 24-h mean > 7-day mean + 2 SD [S6a]"),
    SpikeRule("sd_24h_vs_7d_k3", "sd", pd.Timedelta(hours=24), pd.Timedelta(days=7), 3.0,
              "Socialmetrix variation alert: 24-h mean > 7-day mean + 3 SD [S6a]"),
)
"""The rules :func:`detection_replay` replays by default (methods.md §1.5, §4.7)."""


def _steps(span: pd.Timedelta, step: pd.Timedelta) -> int | None:
    q = span / step
    if q < 1 - 1e-9 or abs(q - round(q)) > 1e-9:
        return None
    return int(round(q))


def replay_rules(counts: pd.Series, rules: Iterable[SpikeRule] = DEFAULT_RULES, *,
                 step: pd.Timedelta | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replay spike rules on a regular series of per-interval counts.

    Parameters
    ----------
    counts : pandas.Series
        Counts per interval on a regular :class:`~pandas.DatetimeIndex` (the label is
        the start of the interval). NaN means unknown: a window or baseline holding an
        unknown interval is not checked.
    rules : iterable of SpikeRule
    step : pandas.Timedelta, optional
        The grid step; inferred from the index when omitted.

    Returns
    -------
    (rules_table, checks) : tuple of DataFrame
        ``rules_table``: one row per rule with ``rule, kind, threshold, evaluable,
        n_checks, n_alerts, first_alert, reason, source``; ``first_alert`` is the end
        of the first window that fires (the moment the alert could be raised).
        ``checks``: one row per rule and checked window with ``rule, window_end,
        window_mean, baseline_mean, baseline_sd, threshold_value, fired``.

    Examples
    --------
    >>> import casekit as ck
    >>> import pandas as pd
    >>> idx = pd.date_range("2024-01-01", periods=10, freq="D")
    >>> counts = pd.Series([5, 6, 5, 4, 6, 5, 5, 30, 40, 20], index=idx, dtype=float)
    >>> tab, _ = ck.response.replay_rules(counts)
    >>> tab.set_index("rule").loc["sd_24h_vs_7d_k3", "first_alert"]
    Timestamp('2024-01-09 00:00:00')
    """
    counts = counts.astype(float).sort_index()
    if step is None:
        if len(counts) < 2:
            raise InsufficientDataError("need at least two intervals to infer the step")
        diffs = np.diff(counts.index.values).astype("timedelta64[ns]")
        step = pd.Timedelta(diffs.min())
        if not np.all(diffs == diffs[0]):
            raise ParameterError("counts must be on a regular grid; reindex with NaN for gaps")
    values = counts.to_numpy()
    times = counts.index
    rows, checks = [], []
    for rule in rules:
        w, b = _steps(rule.window, step), _steps(rule.baseline, step)
        base = {"rule": rule.name, "kind": rule.kind, "threshold": rule.threshold,
                "evaluable": False, "n_checks": 0, "n_alerts": 0, "first_alert": pd.NaT,
                "reason": "", "source": rule.source}
        if w is None or b is None:
            base["reason"] = (f"the series has one value per {_fmt_days(step / DAY)}: too sparse "
                              f"for a {_fmt_days(rule.window / DAY)} window against a "
                              f"{_fmt_days(rule.baseline / DAY)} baseline")
            rows.append(base)
            continue
        n = len(values)
        if n < w + b:
            base["reason"] = (f"{n} intervals recorded; the rule needs {w + b} consecutive "
                              "intervals (baseline + window)")
            rows.append(base)
            continue
        # windows ending at index i (inclusive): window = [i-w+1, i], baseline = [i-w-b+1, i-w]
        from numpy.lib.stride_tricks import sliding_window_view

        full = sliding_window_view(values, w + b)  # row j covers [j, j+w+b)
        ok = ~np.isnan(full).any(axis=1)
        bl, win = full[:, :b], full[:, b:]
        with np.errstate(invalid="ignore"):
            wmean = win.mean(axis=1)
            bmean = bl.mean(axis=1)
            bsd = bl.std(axis=1, ddof=1) if b > 1 else np.zeros(len(bl))
        if rule.kind == "ratio":
            thr = rule.threshold * bmean
        else:
            thr = bmean + rule.threshold * bsd
        fired = ok & (wmean > thr) & (win.sum(axis=1) >= rule.min_count)
        ends = times[w + b - 1:] + step
        for j in np.flatnonzero(ok):
            checks.append({"rule": rule.name, "window_end": ends[j], "window_mean": wmean[j],
                           "baseline_mean": bmean[j], "baseline_sd": bsd[j],
                           "threshold_value": thr[j], "fired": bool(fired[j])})
        base["n_checks"] = int(ok.sum())
        base["n_alerts"] = int(fired.sum())
        if base["n_checks"] == 0:
            base["reason"] = ("no complete baseline + window without a gap in the data "
                              f"({w + b} consecutive known intervals needed)")
        else:
            base["evaluable"] = True
            if fired.any():
                base["first_alert"] = ends[int(np.flatnonzero(fired)[0])]
            else:
                base["reason"] = "evaluable; never fired on the recorded data"
        rows.append(base)
    rules_table = pd.DataFrame(rows, columns=["rule", "kind", "threshold", "evaluable", "n_checks",
                                              "n_alerts", "first_alert", "reason", "source"])
    rules_table["first_alert"] = pd.to_datetime(rules_table["first_alert"])
    checks_df = pd.DataFrame(checks, columns=["rule", "window_end", "window_mean",
                                              "baseline_mean", "baseline_sd", "threshold_value",
                                              "fired"])
    return rules_table, checks_df


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
        return None, None, ("no readings dated to the hour or day (only months, ranges or "
                            "approximate dates)")
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
        note = (f"per-{prec} counts from source {src!r} ({len(per)} intervals"
                f"{', gaps left unknown' if counts.isna().any() else ''})")
        return counts, step, note
    # cumulative: difference consecutive readings one step apart
    best = None
    for prec, step in (("hour", pd.Timedelta(hours=1)), ("day", DAY)):
        r = s if prec == "day" else s[s["time_precision"] == "hour"]
        if len(r) < 2:
            continue
        r = r.sort_values("time")
        cells = r["time"].dt.floor(step)
        last = r.groupby(cells).agg(value=("value", "last"), time=("time", "last"),
                                    precision=("time_precision", "last"))
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
        return None, None, (f"cumulative readings from source {src!r} are never one hour or one "
                            "day apart, so no per-interval increments can be formed without "
                            "interpolating")
    counts, step, n, prec = best
    return counts, step, (f"{n} per-{prec} increments differenced from consecutive cumulative "
                          f"readings of source {src!r}; other intervals unknown")


@dataclass(frozen=True, repr=False, eq=False)
class Detection(_ResultMixin):
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
    statements : list of str
        Plain statements about what could and could not be replayed.
    """

    case_id: str
    table: pd.DataFrame
    checks: pd.DataFrame
    first_alert: pd.Timestamp | None
    first_alert_rule: str | None
    going_public: pd.Timestamp | None
    first_response: pd.Timestamp | None
    detection_lag_days: float | None
    decision_lag_days: float | None
    response_lag_days: float | None
    statements: tuple[str, ...]
    _title = "Detection replay"

    @property
    def params(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "rules": sorted(set(self.table["rule"])),
                "metrics": sorted(set(self.table["metric"]))}

    @property
    def summary(self) -> str:
        lines = [f"Detection replay for case {self.case_id!r}."]
        if self.first_alert is None:
            lines.append("No rule fired on the recorded data, so when the company could have "
                         "known cannot be dated from the reach series.")
        else:
            lines.append(f"First alert: {self.first_alert} ({self.first_alert_rule}).")
            lines.append(f"Response lag {_fmt_days(self.response_lag_days)} = detection lag "
                         f"{_fmt_days(self.detection_lag_days)} + decision lag "
                         f"{_fmt_days(self.decision_lag_days)}.")
            if self.decision_lag_days is not None and self.decision_lag_days < 0:
                lines.append("The company responded before this rule would have fired.")
        lines += [f"- {s}" for s in self.statements]
        return "\n".join(lines)

    def _html_body(self) -> str:
        # Rules that could not run are already explained, one line per metric, in the summary;
        # a row per metric and rule repeating that reason would bury the ones that did run.
        evaluable = self.table[self.table["evaluable"].astype(bool)]
        if evaluable.empty:
            return "<p><i>No rule could be evaluated on this case's data (reasons above).</i></p>"
        return evaluable.drop(columns=["data_note"], errors="ignore").to_html(
            index=False, na_rep="—", float_format=_html_number)

    def _extra_dict(self) -> dict[str, Any]:
        return _jsonable({"first_alert": self.first_alert,
                          "first_alert_rule": self.first_alert_rule,
                          "detection_lag_days": self.detection_lag_days,
                          "decision_lag_days": self.decision_lag_days,
                          "response_lag_days": self.response_lag_days,
                          "statements": list(self.statements)})

    def plot(self, **kwargs):
        """Checked windows against their thresholds (:func:`casekit.plots.detection_plot`)."""
        from casekit.plots import detection_plot

        return detection_plot(self, **kwargs)


def detection_replay(case: Case, metric: str | Sequence[str] | None = None,
                     rules: Iterable[SpikeRule] = DEFAULT_RULES) -> Detection:
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
    rules = tuple(rules)
    metrics = list(case.metrics) if metric is None else (
        [metric] if isinstance(metric, str) else list(metric))
    tables, checks, statements = [], [], []
    for m in metrics:
        counts, step, note = _metric_counts(case, m)
        if counts is None:
            tables.append(pd.DataFrame([{"metric": m, "rule": r.name, "kind": r.kind,
                                         "threshold": r.threshold, "evaluable": False,
                                         "n_checks": 0, "n_alerts": 0, "first_alert": pd.NaT,
                                         "reason": note, "data_note": note, "source": r.source}
                                        for r in rules]))
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
            statements.append(f"{m}: the series is too sparse for an hourly rule "
                              "(one value per day at best).")
    cols = ["metric", "rule", "kind", "threshold", "evaluable", "n_checks", "n_alerts",
            "first_alert", "reason", "data_note", "source"]
    table = pd.concat(tables, ignore_index=True)[cols] if tables else pd.DataFrame(columns=cols)
    table["first_alert"] = pd.to_datetime(table["first_alert"])
    checks_df = (pd.concat(checks, ignore_index=True) if checks
                 else pd.DataFrame(columns=["metric", "rule", "window_end", "window_mean",
                                            "baseline_mean", "baseline_sd", "threshold_value",
                                            "fired"]))
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
    return Detection(case_id=case.id, table=table, checks=checks_df, first_alert=first,
                     first_alert_rule=rule_name, going_public=gp, first_response=fr,
                     detection_lag_days=det, decision_lag_days=dec, response_lag_days=resp,
                     statements=tuple(statements))


# ---------------------------------------------------------------------------
# 3. reach while waiting and the delay-cost curve
# ---------------------------------------------------------------------------

DEFAULT_EFFECTIVENESS = 0.5
"""Default effectiveness e of the response: the share of growth it removes."""

EFFECTIVENESS_RANGE = (0.2, 0.8)
"""Plausible range of e used by :func:`sensitivity` (low, high)."""

EFFECTIVENESS_NOTE = (
    "e is a scenario parameter, not an estimate: no study measures it for these cases. "
    "Default 0.5, plausible range 0.2-0.8. Herhausen et al. (2019, Journal of Marketing) [L5] "
    "find that responses showing empathy and an apology (or moving the conversation to another "
    "channel) reduce the virality of a firestorm, which supports e > 0 for an apologetic "
    "response; they also find that compensation alone can fuel the fire, so a response that only "
    "offers money may have e near 0 (a negative e is outside this model). methods.md §4.2 "
    "suggests a what-if slider of 0, 0.25, 0.5; 0.5 is its upper end, and 0.8 stands for a "
    "response that largely ends the story.")

MODELS = ("flow", "rate")

_DILATION_CURVES = ("logistic", "gompertz", "richards", "expsat")
"""Curves whose rate parameter multiplies the whole right-hand side of their autonomous
growth ODE (y' = r g(y)); damping the rate after t_r then equals slowing time after t_r."""


def _reach_module():
    try:
        import casekit.reach as reach
    except ImportError as err:  # pragma: no cover - reach.py is part of the package
        raise ImportError("casekit.reach is needed for reach-based analyses") from err
    return reach


class _CurveModel:
    """Vectorised evaluation of a ReachFit's curve over parameter draws."""

    def __init__(self, fit):
        reach = _reach_module()
        curve = fit.curve
        self.name = curve if isinstance(curve, str) else getattr(curve, "name", str(curve))
        spec = getattr(fit, "spec", None)
        if spec is None or not hasattr(spec, "f"):
            spec = reach.CURVES[self.name]
        self.spec = spec
        self.names = tuple(spec.param_names)
        self.theta = np.asarray([float(fit.params[n]) for n in self.names])
        self.rate_param = getattr(spec, "rate_param", None)
        bounds = list(getattr(spec, "bounds", [(None, None)] * len(self.names)))
        self.lower = np.array([-np.inf if b[0] is None else float(b[0]) for b in bounds])
        self.upper = np.array([np.inf if b[1] is None else float(b[1]) for b in bounds])

    def cols(self, P: np.ndarray) -> list[np.ndarray]:
        return [P[:, i:i + 1] for i in range(P.shape[1])]

    def f(self, t, P: np.ndarray) -> np.ndarray:
        """Curve at times ``t`` (array broadcastable to (n_draws, m)) for each row of P."""
        t = np.asarray(t, dtype=float)
        if t.ndim == 1:
            t = t[None, :]
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            out = np.asarray(self.spec.f(t, *self.cols(P)), dtype=float)
        return np.broadcast_to(out, np.broadcast_shapes(out.shape, (P.shape[0], t.shape[1])))

    def saturation(self, P: np.ndarray) -> np.ndarray:
        """Final reach y(inf) for each row of P, shape (n, 1)."""
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            out = np.asarray(self.spec.saturation(*self.cols(P)), dtype=float)
        return np.broadcast_to(out, (P.shape[0], 1)).copy()

    def peak_time(self) -> float | None:
        try:
            v = float(np.asarray(self.spec.peak_time(*self.theta), dtype=float))
        except (TypeError, ValueError):
            return None
        return v if np.isfinite(v) else None

    def in_bounds(self, P: np.ndarray) -> np.ndarray:
        return np.all((P >= self.lower) & (P <= self.upper) & np.isfinite(P), axis=1)

    def value_at(self, horizon: float, P: np.ndarray) -> np.ndarray:
        """y(H) for each row, shape (n, 1); H = inf gives the saturation."""
        if np.isinf(horizon):
            return self.saturation(P)
        return self.f(np.array([horizon]), P)

    def rate_damped(self, d: np.ndarray, horizon: float, e: float, P: np.ndarray) -> np.ndarray:
        """y_cf(H) when the rate is damped by (1-e) from t_r = d on, shape (n, len(d))."""
        d = np.asarray(d, dtype=float)[None, :]
        fin = self.value_at(horizon, P)
        if self.name == "bass":
            idx = {n: i for i, n in enumerate(self.names)}
            p = P[:, [idx["p"]]]
            q = P[:, [idx["q"]]] * (1.0 - e)
            m = self.saturation(P)
            dd = np.minimum(d, horizon)
            x0 = np.clip(self.f(np.where(np.isfinite(dd), dd, 0.0), P) / m, 0.0, 1.0 - 1e-15)
            s = np.where(np.isfinite(horizon - dd), horizon - dd, np.inf)
            A = (p + q * x0) / (1.0 - x0)
            with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                E = np.exp(-(p + q) * s)
                x = (A - p * E) / (q * E + A)
            out = m * x
        elif self.name in _DILATION_CURVES:
            with np.errstate(invalid="ignore"):
                tau = d + (1.0 - e) * (horizon - d)
            out = self.f(np.where(np.isfinite(tau), tau, 1e9), P)
            if np.isinf(horizon):
                out = np.broadcast_to(fin, out.shape).copy()
        else:
            raise ParameterError(
                f"rate damping is implemented for bass and {', '.join(_DILATION_CURVES)}; "
                f"curve {self.name!r} is not among them: use model='flow'")
        return np.where(d >= horizon, fin, out)

    def flow_damped(self, d: np.ndarray, horizon: float, e: float, P: np.ndarray) -> np.ndarray:
        """y(t_r) + (1-e)(y(H) - y(t_r)), shape (n, len(d))."""
        d = np.asarray(d, dtype=float)[None, :]
        fin = self.value_at(horizon, P)
        dd = np.where(np.isfinite(d), np.minimum(d, horizon if np.isfinite(horizon) else d), 0.0)
        yr = self.f(dd, P)
        out = yr + (1.0 - e) * (fin - yr)
        return np.where(d >= horizon, fin, out)


def _last_obs_t(fit) -> float | None:
    data = getattr(fit, "data", None)
    if isinstance(data, pd.DataFrame) and "t" in data.columns and len(data):
        v = float(np.nanmax(data["t"].to_numpy(dtype=float)))
        return v if np.isfinite(v) and v > 0 else None
    return None


def _param_draws(model: _CurveModel, fit, n_draws: int, seed: int,
                 bands: str = "normal") -> tuple[np.ndarray | None, str]:
    """Parameter draws for the bands.

    ``bands="normal"``: the asymptotic normal N(params, cov), draws outside the curve's
    bounds rejected. ``bands="bootstrap"``: the ReachFit's residual-bootstrap replicates
    (slower: one refit per replicate).
    """
    if bands not in ("normal", "bootstrap"):
        raise ParameterError(f"bands must be 'normal' or 'bootstrap', not {bands!r}")
    if n_draws <= 0:
        return None, "no bands (n_draws = 0)"
    if bands == "bootstrap":
        boot = getattr(fit, "bootstrap_params", None)
        if boot is None:
            raise ParameterError("this fit offers no bootstrap; use bands='normal'")
        B = np.asarray(boot(n_boot=n_draws, seed=seed)[list(model.names)], dtype=float)
        B = B[model.in_bounds(B)]
        return B, (f"{len(B)} residual-bootstrap refits of the curve (ReachFit bootstrap, "
                   f"seed {seed})")
    C = np.asarray(pd.DataFrame(fit.cov).loc[list(model.names), list(model.names)], dtype=float)
    if not np.all(np.isfinite(C)):
        return None, ("no bands: the fit's covariance matrix is not finite (parameters not "
                      "identified)")
    C = (C + C.T) / 2.0
    rng = np.random.default_rng(seed)
    accepted, tries, total = [], 0, 0
    while sum(len(a) for a in accepted) < n_draws and tries < 20:
        X = rng.multivariate_normal(model.theta, C, size=n_draws, method="eigh",
                                    check_valid="ignore")
        total += len(X)
        accepted.append(X[model.in_bounds(X)])
        tries += 1
    A = np.concatenate(accepted)[:n_draws]
    if len(A) < max(10, n_draws // 10):
        return None, (f"no bands: only {len(A)} of {total} normal draws fell inside the curve's "
                      "parameter bounds")
    rate = len(A) / total if total else float("nan")
    return A, (f"{len(A)} draws from the fit's asymptotic normal (mean = estimates, covariance = "
               f"fit.cov), draws outside the parameter bounds rejected (acceptance {rate:.0%})")


def _resolve_fit(fit_or_case, *, curve: str = "logistic", metric: str | None = None, **fit_kw):
    """A ReachFit from a fit or a case; a case that cannot be fitted raises plainly."""
    if isinstance(fit_or_case, Case):
        reach = _reach_module()
        case = fit_or_case
        kw = dict(curve=curve, **fit_kw)
        if metric is not None:
            kw["metric"] = metric
        try:
            return reach.fit(case, **kw)
        except FitError as err:
            raise InsufficientDataError(
                f"case {case.id!r} has no reach series a growth curve can be fitted to, so no "
                f"delay-cost curve can be computed ({type(err).__name__}: {err}). The delay-cost "
                "and reach-while-waiting analyses need a time-stamped cumulative reach series "
                "of the story itself (views, posts, supporters), not outlet-level readership."
            ) from err
    return fit_or_case


def _fit_case_id(fit) -> str | None:
    cid = getattr(fit, "case_id", None)
    return cid if isinstance(cid, str) else None


def _response_t(fit, response) -> tuple[float | None, str]:
    """Days from the fit's origin to the response, and where that came from."""
    origin = getattr(fit, "origin", None)
    if response is None:
        cid = _fit_case_id(fit)
        if cid is None:
            return None, "no case id on the fit and no response given"
        from casekit.cases import load_case

        case = load_case(cid)
        kd = case.key_dates.get("first_response")
        if kd is None:
            return None, f"first_response of case {case.id!r} is unknown"
        if origin is None:
            origin = case.origin
        note = f"first_response key date {kd.date.date()} ({kd.precision})"
        if kd.precision == "range" and kd.date_end is not None:
            note += f"; the range runs to {kd.date_end.date()}, its start is used"
        return float((kd.date - origin) / DAY), note
    if isinstance(response, (pd.Timestamp, np.datetime64)) or isinstance(response, str):
        ts = pd.Timestamp(response)
        if origin is None:
            raise ParameterError("the fit has no origin; give the response in days since origin")
        return float((ts - pd.Timestamp(origin)) / DAY), f"response given as {ts}"
    return float(response), f"response given as {float(response):g} days after the origin"


def _band(x: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.nanquantile(x, [alpha / 2, 1 - alpha / 2], axis=0)
    return lo, hi


@dataclass(frozen=True, repr=False, eq=False)
class WaitingReach(_ResultMixin):
    """Reach accrued before and after the first response (see :func:`reach_while_waiting`).

    ``table`` columns: ``quantity, estimate, lower, upper, unit``.
    """

    case_id: str | None
    curve: str
    metric: str | None
    response_t: float
    horizon: float
    table: pd.DataFrame
    peak_t: float | None
    assumptions: dict[str, Any]
    fit: Any = field(default=None, repr=False)
    _title = "Reach while waiting"

    def plot(self, **kwargs):
        """The fitted curve with the reach before and after the response shaded
        (:func:`casekit.plots.waiting_plot`)."""
        from casekit.plots import waiting_plot

        return waiting_plot(self, **kwargs)

    @property
    def params(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "curve": self.curve, "metric": self.metric,
                "response_t": self.response_t, "horizon": self.horizon}

    def value(self, quantity: str, column: str = "estimate") -> float:
        return float(self.table.set_index("quantity").loc[quantity, column])

    @property
    def summary(self) -> str:
        t = self.table.set_index("quantity")
        horizon = "saturation" if np.isinf(self.horizon) else f"day {self.horizon:g}"
        lines = [f"Reach while waiting ({self.curve} fit of {self.metric!r}, "
                 f"case {self.case_id!r}); "
                 f"response at day {self.response_t:g} after the origin."]
        for q in t.index:
            r = t.loc[q]
            lines.append(f"- {q}: {_fmt_num(r['estimate'])} {r['unit']} "
                         f"[{_fmt_num(r['lower'])}, {_fmt_num(r['upper'])}]")
        if self.peak_t is not None:
            when = "before" if self.response_t < self.peak_t else "after"
            lines.append(f"The response came {when} the curve's peak growth "
                         f"(day {self.peak_t:.2f}).")
        lines.append(f"After the response is counted up to the {horizon}, as if the response "
                     "changed nothing (the fitted curve).")
        lines.append("Assumptions:\n" + _assumptions_text(self.assumptions))
        return "\n".join(lines)


def reach_while_waiting(fit, response=None, *, horizon: float | None = None,
                        n_draws: int = 1000, seed: int = 0, alpha: float = 0.05,
                        bands: str = "normal") -> WaitingReach:
    """Reach accrued before the first response and after it, from a reach fit, with intervals.

    Parameters
    ----------
    fit : casekit.reach.ReachFit
    response : pandas.Timestamp, str or float, optional
        When the company responded (a date, or days since the fit's origin). Default:
        the case's ``first_response`` key date (start of its range if it is a range).
    horizon : float, optional
        Days since the origin up to which "after" is counted; default the curve's
        saturation (t -> infinity).
    n_draws, seed, alpha
        Parameter draws for the (1 - alpha) intervals (see :func:`delay_cost`).

    Returns
    -------
    WaitingReach
        ``table`` rows: ``before_response`` (y(t_r)), ``after_response``
        (y(H) - y(t_r)), ``final`` (y(H)) and ``share_before`` (y(t_r) / y(H)).

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
    model = _CurveModel(fit)
    t_r, note = _response_t(fit, response)
    if t_r is None:
        raise InsufficientDataError(f"no response time: {note}")
    H = float(np.inf if horizon is None else horizon)
    if H < t_r:
        raise ParameterError(f"horizon (day {H:g}) is before the response (day {t_r:g})")
    P0 = model.theta[None, :]
    draws, dnote = _param_draws(model, fit, n_draws, seed, bands)

    def quantities(P):
        yr = model.f(np.array([t_r]), P)[:, 0]
        fin = model.value_at(H, P)[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.column_stack([yr, fin - yr, fin, yr / fin])

    est = quantities(P0)[0]
    if draws is not None:
        Q = quantities(draws)
        lo, hi = _band(Q, alpha)
    else:
        lo = hi = np.full(4, np.nan)
    unit = getattr(fit, "metric", None) or "reach"
    table = pd.DataFrame({"quantity": ["before_response", "after_response", "final",
                                       "share_before"],
                          "estimate": est, "lower": lo, "upper": hi,
                          "unit": [unit, unit, unit, "share"]})
    peak = model.peak_time()
    assumptions = {
        "curve": f"{model.name} with parameters "
                 + ", ".join(f"{n}={v:.4g}" for n, v in zip(model.names, model.theta)),
        "response": note,
        "after": "fitted curve continued unchanged (no intervention) up to "
                 + ("saturation" if np.isinf(H) else f"day {H:g}"),
        "intervals": f"{1 - alpha:.0%} percentile intervals; {dnote}",
    }
    return WaitingReach(case_id=_fit_case_id(fit), curve=model.name,
                        metric=getattr(fit, "metric", None), response_t=t_r, horizon=H,
                        table=table, peak_t=peak, assumptions=assumptions, fit=fit)


DEFAULT_DELAYS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0, 14.0, 21.0, 30.0)
"""Default delay grid in days after going public (the actual delay is always added)."""

DELAY_COST_COLUMNS = ("delay_days", "final_reach", "lower", "upper", "reach_avoided",
                      "avoided_lower", "avoided_upper", "cost_of_delay", "cost_lower",
                      "cost_upper", "actual")
"""Column contract of :attr:`DelayCost.table`."""


@dataclass(frozen=True, repr=False, eq=False)
class DelayCost(_ResultMixin):
    """The counterfactual delay-cost curve (see :func:`delay_cost`).

    Attributes
    ----------
    table : pandas.DataFrame
        Columns :data:`DELAY_COST_COLUMNS`: for a response ``delay_days`` after the
        origin, the expected final reach (with a band), the reach avoided compared
        with never responding (the fitted curve), and the cost of the delay: final
        reach minus final reach had the company responded at delay 0. ``actual``
        flags the case's actual delay.
    fitted_final : float
        Final reach of the fitted curve (no response), and ``fitted_band``.
    actual_delay : float or None
    supported : bool
        Always True for a computed result (a case without a fittable reach series
        raises :class:`~casekit.exceptions.InsufficientDataError` instead).
    assumptions : dict
        Every assumption, printed in :attr:`summary`.
    """

    case_id: str | None
    curve: str
    metric: str | None
    model: str
    effectiveness: float
    horizon: float
    table: pd.DataFrame
    fitted_final: float
    fitted_band: tuple[float, float]
    actual_delay: float | None
    assumptions: dict[str, Any]
    draws: np.ndarray | None = field(default=None, repr=False)
    finals: np.ndarray | None = field(default=None, repr=False)
    supported: bool = True
    statement: str = ""
    _title = "Delay-cost curve"

    @property
    def params(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "curve": self.curve, "metric": self.metric,
                "model": self.model, "effectiveness": self.effectiveness,
                "horizon": self.horizon, "actual_delay": self.actual_delay}

    def at(self, delay: float) -> pd.Series:
        """The table row for ``delay`` (must be on the grid)."""
        t = self.table
        hit = t[np.isclose(t["delay_days"].to_numpy(float), float(delay))]
        if hit.empty:
            raise KeyError(f"delay {delay} is not on the grid; pass delays=[...] to delay_cost")
        return hit.iloc[0]

    @property
    def actual(self) -> pd.Series | None:
        hit = self.table[self.table["actual"]]
        return None if hit.empty else hit.iloc[0]

    @property
    def summary(self) -> str:
        unit = self.metric or "reach"
        lines = [f"Delay-cost curve, {self.model} damping, e = {self.effectiveness:g} "
                 f"({self.curve} fit of {unit!r}, case {self.case_id!r})."]
        lines.append(f"No response (fitted curve): final reach {_fmt_num(self.fitted_final)} "
                     f"[{_fmt_num(self.fitted_band[0])}, {_fmt_num(self.fitted_band[1])}].")
        a = self.actual
        if a is not None:
            lines.append(
                f"Actual delay {a['delay_days']:g} days: final reach {_fmt_num(a['final_reach'])} "
                f"[{_fmt_num(a['lower'])}, {_fmt_num(a['upper'])}]; reach avoided by responding "
                f"{_fmt_num(a['reach_avoided'])}; extra reach compared with responding at once "
                f"{_fmt_num(a['cost_of_delay'])} [{_fmt_num(a['cost_lower'])}, "
                f"{_fmt_num(a['cost_upper'])}].")
        else:
            lines.append("The actual delay is unknown (first_response or the origin is unknown).")
        lines.append("Assumptions:\n" + _assumptions_text(self.assumptions))
        return "\n".join(lines)

    def _extra_dict(self) -> dict[str, Any]:
        return _jsonable({"fitted_final": self.fitted_final, "fitted_band": list(self.fitted_band),
                          "supported": self.supported, "statement": self.statement})

    def plot(self, **kwargs):
        """The delay-cost curve with its band and the actual delay marked
        (:func:`casekit.plots.delay_cost_plot`)."""
        from casekit.plots import delay_cost_plot

        return delay_cost_plot(self, **kwargs)


def _check_e(effectiveness: float) -> float:
    e = float(effectiveness)
    if not 0.0 <= e <= 1.0:
        raise ParameterError(f"effectiveness must be between 0 and 1, not {effectiveness!r} "
                             "(0 = the response changes nothing, 1 = it stops all further growth)")
    return e


def delay_cost(fit, delays: Sequence[float] | None = None,
               effectiveness: float = DEFAULT_EFFECTIVENESS, model: str = "flow",
               horizon: float | None = None, n_draws: int = 1000, seed: int = 0,
               *, alpha: float = 0.05, actual_delay: float | None = None, curve: str = "logistic",
               metric: str | None = None, bands: str = "normal") -> DelayCost:
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
    effectiveness : float
        e in [0, 1], the share of growth the response removes. Default 0.5, plausible
        range 0.2-0.8 (see Notes).
    model : {"flow", "rate"}
        The intervention model (see Notes).
    horizon : float, optional
        Days after the origin at which "final" reach is read. Default: the curve's
        saturation for ``flow``; the fit's last observation for ``rate`` (365 days if
        the fit holds no observation times; see Notes).
    n_draws, seed : int
        Parameter draws for the bands (0 = no bands).
    alpha : float
        Bands are (1 - alpha) percentile intervals over the draws.
    actual_delay : float, optional
        The actual delay in days; default from the case's ``first_response``.
    curve, metric : str
        Used only when ``fit`` is a case.
    bands : {"normal", "bootstrap"}
        Where the parameter draws come from (see Notes).

    Returns
    -------
    DelayCost

    Notes
    -----
    Let y(t) be the fitted cumulative reach, t_r = d the response time, K = y(inf).

    **Flow damping (default).** After the response, new reach per unit time is
    multiplied by (1 - e): y_cf(t) = y(t_r) + (1 - e)(y(t) - y(t_r)) for t > t_r, so
    final reach = y(t_r) + (1 - e)(K - y(t_r)) = (1 - e) K + e y(t_r). It is
    non-decreasing in d because y is, equals the fit for e = 0 or d -> inf, and the
    cost of responding at d instead of 0 is e (y(d) - y(0)).

    **Rate damping** (the issue's literal model). After the response the curve's
    growth rate is damped: r -> (1 - e) r for logistic, Gompertz, Richards and
    exponential saturation, q -> (1 - e) q for Bass, continued from y(t_r). For the
    first four the rate multiplies the right-hand side of an autonomous ODE
    y' = r g(y), so the damped curve is the fitted one with time slowed after t_r:
    y_cf(t) = y(t_r + (1 - e)(t - t_r)); Bass uses its closed-form solution from
    y(t_r). **A saturating curve still reaches K at an infinite horizon, whatever the
    rate**, so rate damping only saves reach by a finite horizon; hence its default
    horizon is the last observation (with ``horizon=inf`` every delay gives K and
    nothing is saved; a fast curve saturated by the horizon saves little either).
    Both models reproduce the fit at d = inf and are non-decreasing in d.

    The effectiveness e is a scenario parameter. Herhausen et al. (2019) [L5] find
    that empathy and apology damp the virality of a firestorm while compensation alone
    can fuel it, which is why the default is a middling 0.5 with a range of 0.2-0.8
    rather than a point claim; :func:`sensitivity` shows how much the answer moves.

    Bands come from parameter draws: by default the asymptotic normal N(params, cov)
    with draws outside the curve's bounds rejected; ``bands="bootstrap"`` uses the
    ReachFit's residual bootstrap instead (one refit per draw, much slower). Draws x
    delays are evaluated as one numpy array. Bands reflect curve uncertainty only,
    not the uncertainty in e or in the choice of curve (see :func:`sensitivity`).

    Examples
    --------
    >>> import casekit as ck
    >>> fit = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
    >>> dc = ck.response.delay_cost(fit, delays=[0, 1, 4, float("inf")], n_draws=200)
    >>> dc.table["final_reach"].is_monotonic_increasing
    True
    >>> bool(abs(dc.at(float("inf"))["final_reach"] - dc.fitted_final) < 1e-6)
    True
    >>> dc.actual_delay
    4.0
    """
    if model not in MODELS:
        raise ParameterError(f"model must be one of {MODELS}, not {model!r}")
    e = _check_e(effectiveness)
    if not 0 < alpha < 1:
        raise ParameterError("alpha must be between 0 and 1")
    fit = _resolve_fit(fit, curve=curve, metric=metric)
    cm = _CurveModel(fit)
    if horizon is None:
        if model == "flow":
            H, h_note = np.inf, "saturation (t -> infinity)"
        else:
            H = _last_obs_t(fit)
            h_note = ((f"the last observation, day {H:g} after the origin" if H is not None
                       else "365 days after the origin (the fit holds no observation times)")
                      + "; rate damping saves nothing at an infinite horizon: every saturating "
                      "curve still reaches K")
            H = 365.0 if H is None else H
    else:
        H = float(horizon)
        if not H > 0:
            raise ParameterError("horizon must be > 0 days")
        h_note = f"{H:g} days after the origin" if np.isfinite(H) else "saturation (t -> infinity)"
    # the actual delay
    act_note = "given by the caller"
    if actual_delay is None:
        try:
            t_a, act_note = _response_t(fit, None)
        except (CasekitError, LookupError, ValueError) as err:  # a missing or broken case
            t_a, act_note = None, f"unknown ({err})"
        actual_delay = t_a
    grid = np.asarray(DEFAULT_DELAYS if delays is None else list(delays), dtype=float)
    if grid.size == 0 or np.any(np.isnan(grid)) or np.any(grid < 0):
        raise ParameterError("delays must be a non-empty list of days >= 0 (inf = never)")
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
    if draws is not None:
        F = damp(grid, H, e, draws)                        # (n_draws, n_delays)
        fitted = cm.value_at(H, draws)                     # (n_draws, 1)
        base = damp(np.array([0.0]), H, e, draws)          # (n_draws, 1)
        lo, hi = _band(F, alpha)
        alo, ahi = _band(fitted - F, alpha)
        clo, chi = _band(F - base, alpha)
        flo, fhi = _band(fitted[:, 0], alpha)
    else:
        lo = hi = alo = ahi = clo = chi = np.full(n, np.nan)
        flo = fhi = np.nan
        F = None
    table = pd.DataFrame({
        "delay_days": grid, "final_reach": final0, "lower": lo, "upper": hi,
        "reach_avoided": fitted0 - final0, "avoided_lower": alo, "avoided_upper": ahi,
        "cost_of_delay": final0 - y0_0, "cost_lower": clo, "cost_upper": chi,
        "actual": np.isclose(grid, actual_delay) if actual_delay is not None else False,
    })[list(DELAY_COST_COLUMNS)]
    intervention = {
        "flow": "after the response at t_r, new reach per unit time is multiplied by (1 - e): "
                "y_cf(t) = y(t_r) + (1 - e)(y(t) - y(t_r))",
        "rate": ("after the response the growth rate "
                 + ("q (imitation) of the Bass curve" if cm.name == "bass"
                    else f"{cm.rate_param or 'r'} of the {cm.name} curve")
                 + " is multiplied by (1 - e), continuing from y(t_r)"),
    }[model]
    assumptions = {
        "intervention model": f"{model}: {intervention}",
        "effectiveness e": f"{e:g} (default {DEFAULT_EFFECTIVENESS}, plausible range "
                           f"{EFFECTIVENESS_RANGE[0]}-{EFFECTIVENESS_RANGE[1]}). "
                           f"{EFFECTIVENESS_NOTE}",
        "final reach read at": h_note,
        "curve": f"{cm.name} fitted to {getattr(fit, 'metric', None)!r}: "
                 + ", ".join(f"{nm}={v:.4g}" for nm, v in zip(cm.names, cm.theta)),
        "delay": (f"days after the fit's origin t = 0 ("
                  f"{'none' if getattr(fit, 'origin', None) is None else pd.Timestamp(fit.origin).date()}"
                  "), at which the response takes effect immediately and fully"),
        "actual delay": act_note if actual_delay is not None else f"unknown: {act_note}",
        "bands": f"{1 - alpha:.0%} percentile bands over parameter draws; {dnote}; they do not "
                 "include uncertainty in e or in the choice of curve (see sensitivity())",
        "never responding": "d = inf reproduces the fitted curve",
    }
    if act_note and "range" in act_note:
        assumptions["actual delay"] += " (a later date in the range would give a larger cost)"
    if actual_delay is not None and actual_delay < 0:
        assumptions["actual delay"] += (" - the company responded before going public, outside "
                                        "the curve; no grid row is marked as actual")
    return DelayCost(case_id=_fit_case_id(fit), curve=cm.name,
                     metric=getattr(fit, "metric", None), model=model,
                     effectiveness=e, horizon=H, table=table, fitted_final=fitted0,
                     fitted_band=(float(flo), float(fhi)), actual_delay=actual_delay,
                     assumptions=assumptions, draws=draws, finals=F,
                     statement=f"computed from a {cm.name} fit of {getattr(fit, 'metric', None)!r}")


# ---------------------------------------------------------------------------
# 4. sensitivity (tornado)
# ---------------------------------------------------------------------------

DEFAULT_CPM = (2.0, 5.0, 10.0)
"""Default value per 1,000 negative impressions (low, central, high), in the case currency.

A placeholder range of the order of paid display / social advertising prices, **not a
sourced figure** (methods.md gives none): it values a negative impression at what an
advertiser pays to buy one. Always pass your own ``cpm`` for a real analysis."""


@dataclass(frozen=True, repr=False, eq=False)
class Sensitivity(_ResultMixin):
    """Tornado table of the money cost of the delay (see :func:`sensitivity`).

    ``table`` columns: ``factor, low_setting, high_setting, output_low, output_high,
    swing, base`` sorted by ``swing`` (largest first); outputs are in ``unit``.
    """

    case_id: str | None
    base: float
    base_reach: float
    unit: str
    table: pd.DataFrame
    assumptions: dict[str, Any]
    _title = "Sensitivity (tornado)"

    @property
    def params(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "base": self.base, "unit": self.unit}

    @property
    def summary(self) -> str:
        lines = [f"Money cost of the actual delay (extra reach vs responding at the reference "
                 f"delay, times CPM): base {_fmt_num(self.base)} {self.unit} "
                 f"(extra reach {_fmt_num(self.base_reach)})."]
        for _, r in self.table.iterrows():
            lines.append(f"- {r['factor']}: {r['low_setting']} -> {_fmt_num(r['output_low'])}, "
                         f"{r['high_setting']} -> {_fmt_num(r['output_high'])} "
                         f"(swing {_fmt_num(r['swing'])})")
        lines.append("Assumptions:\n" + _assumptions_text(self.assumptions))
        return "\n".join(lines)

    def plot(self, **kwargs):
        """Tornado chart (:func:`casekit.plots.tornado_plot`)."""
        from casekit.plots import tornado_plot

        return tornado_plot(self, **kwargs)


def _check_cpm(cpm) -> tuple[float, float, float]:
    try:
        lo, mid, hi = (float(x) for x in cpm)
    except (TypeError, ValueError) as err:
        raise ParameterError("cpm must be (low, central, high) per 1,000 impressions") from err
    if not 0 <= lo <= mid <= hi:
        raise ParameterError(f"cpm must satisfy 0 <= low <= central <= high, got {cpm!r}")
    return lo, mid, hi


def sensitivity(fit, *, effectiveness: float = DEFAULT_EFFECTIVENESS,
                effectiveness_range: tuple[float, float] = EFFECTIVENESS_RANGE,
                cpm: Sequence[float] = DEFAULT_CPM, curves=None,
                model: str = "flow", horizon: float | None = None,
                reference_delay: float = 0.0, actual_delay: float | None = None,
                case: Case | None = None) -> Sensitivity:
    """One-at-a-time sensitivity of the money cost of the delay: a tornado.

    The output is (final reach at the actual delay - final reach at
    ``reference_delay``) x CPM / 1000, from point estimates. Each factor is moved to
    its low and high setting with the others at their base values:

    ============== ====================================================================
    factor          low / high settings
    ============== ====================================================================
    effectiveness   ``effectiveness_range`` (default 0.2 / 0.8, see :func:`delay_cost`)
    CPM             ``cpm[0]`` / ``cpm[2]`` (value per 1,000 impressions)
    curve           the smallest / largest output over ``curves`` refitted to the same
                    metric (default every curve in ``casekit.reach.CURVES``; curves
                    that fail to fit are listed in the assumptions). ``curves`` may
                    also be a :class:`casekit.reach.Comparison` (or a mapping of
                    name to ReachFit): its fits are reused, nothing is refitted
    model           flow / rate damping (rate at its default horizon, the last observation)
    ============== ====================================================================

    Examples
    --------
    >>> import casekit as ck
    >>> fit = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
    >>> s = ck.response.sensitivity(fit, curves=["logistic", "gompertz"])
    >>> sorted(s.table["factor"])
    ['CPM', 'curve', 'effectiveness', 'model']
    """
    lo_c, mid_c, hi_c = _check_cpm(cpm)
    e_lo, e_hi = (_check_e(x) for x in effectiveness_range)

    def extra(f, e, mdl, hz):
        dc = delay_cost(f, delays=[reference_delay], effectiveness=e, model=mdl, horizon=hz,
                        n_draws=0, actual_delay=actual_delay)
        a = dc.actual
        if a is None:
            raise InsufficientDataError("the actual delay is unknown; pass actual_delay=")
        return float(a["final_reach"] - dc.at(reference_delay)["final_reach"])

    base_reach = extra(fit, effectiveness, model, horizon)
    base = base_reach * mid_c / 1000.0
    rows = []
    r_lo, r_hi = extra(fit, e_lo, model, horizon), extra(fit, e_hi, model, horizon)
    rows.append(("effectiveness", f"e = {e_lo:g}", f"e = {e_hi:g}", r_lo * mid_c / 1000,
                 r_hi * mid_c / 1000))
    rows.append(("CPM", f"{lo_c:g} per 1,000", f"{hi_c:g} per 1,000", base_reach * lo_c / 1000,
                 base_reach * hi_c / 1000))
    other = "rate" if model == "flow" else "flow"
    model_note = (f"flow damping read at the base horizon ({'saturation' if horizon is None else horizon}"
                  f"), rate damping at its default horizon (the last observation): at an "
                  f"infinite horizon rate damping saves nothing for a saturating curve")
    try:
        r_other = extra(fit, effectiveness, other, None)
    except ParameterError as err:  # e.g. a multi-wave curve has no single rate to damp
        model_note = f"model factor left out: {err}"
    else:
        pair = {model: base_reach, other: r_other}
        rows.append(("model", "flow", "rate", pair["flow"] * mid_c / 1000,
                     pair["rate"] * mid_c / 1000))
    reach = _reach_module()
    cm = _CurveModel(fit)
    results, failed = {cm.name: base_reach}, []
    fitted = getattr(curves, "fits", curves if isinstance(curves, Mapping) else None)
    if fitted is not None:
        for name, alt in fitted.items():
            if name == cm.name:
                continue
            try:
                results[name] = extra(alt, effectiveness, model, horizon)
            except (FitError, ValueError, ParameterError) as err:
                failed.append(f"{name} ({type(err).__name__})")
        failed += [f"{n} (did not fit)" for n in getattr(curves, "errors", {})]
        curves = []
    names = list(curves) if curves is not None else list(reach.CURVES)
    cid = _fit_case_id(fit)
    if case is None and cid is not None:
        from casekit.cases import load_case

        case = load_case(cid)
    if case is not None:
        source, fit_kw = case, {"metric": getattr(fit, "metric", None)}
    else:  # a fit of a bare series: refit the same observations
        source = fit.data.rename(columns={"y": "value"})[["t", "value"]]
        fit_kw = {"origin": getattr(fit, "origin", None)}
    for name in names:
        if name == cm.name:
            continue
        try:
            alt = reach.fit(source, curve=name, **fit_kw)
            results[name] = extra(alt, effectiveness, model, horizon)
        except (FitError, ValueError, KeyError, ParameterError) as err:
            failed.append(f"{name} ({type(err).__name__})")
    kmin = min(results, key=results.get)
    kmax = max(results, key=results.get)
    rows.append(("curve", kmin, kmax, results[kmin] * mid_c / 1000, results[kmax] * mid_c / 1000))
    table = pd.DataFrame(rows, columns=["factor", "low_setting", "high_setting", "output_low",
                                        "output_high"])
    table["swing"] = (table["output_high"] - table["output_low"]).abs()
    table["base"] = base
    table = table.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    currency = case.currency if case is not None else "currency units"
    assumptions = {
        "output": f"extra reach from responding at the actual delay instead of day "
                  f"{reference_delay:g}, times CPM / 1000, point estimates",
        "base settings": f"e = {effectiveness:g}, CPM = {mid_c:g}, curve = {cm.name}, "
                         f"model = {model}",
        "effectiveness": EFFECTIVENESS_NOTE,
        "CPM": ("value per 1,000 negative impressions, a user parameter; the default "
                f"{DEFAULT_CPM} is a placeholder, not a sourced figure"),
        "curves compared": ", ".join(f"{k}: {_fmt_num(v)} extra reach" for k, v in results.items())
                           + (f"; not fitted: {', '.join(failed)}" if failed else ""),
        "model": model_note,
        "one at a time": "interactions between factors are not shown",
    }
    return Sensitivity(case_id=cid, base=base,
                       base_reach=base_reach, unit=currency, table=table,
                       assumptions=assumptions)


def what_if(fit, delay: float, effectiveness: float = DEFAULT_EFFECTIVENESS, *,
            model: str = "flow", horizon: float | None = None, points: int = 300):
    """One scenario as a figure: the fitted curve and the curve had the company answered on
    day ``delay`` with the given effectiveness.

    Made for the classroom notebook's sliders (``ipywidgets.interactive(what_if, ...)``):
    each call returns a new :class:`plotly.graph_objects.Figure`. The counterfactual uses
    the same intervention model as :func:`delay_cost` (``model="flow"``: from the answer
    on, new reach is cut by ``effectiveness``; ``"rate"``: the curve's rate is damped).

    Examples
    --------
    >>> import casekit as ck
    >>> fit = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
    >>> fig = ck.response.what_if(fit, delay=1.0, effectiveness=0.5)
    >>> [trace.name for trace in fig.data][:2]
    ['fitted curve (the answer as it happened)', 'answer on day 1 (effectiveness 0.5)']
    """
    import plotly.graph_objects as go

    from casekit.plots import template

    e = _check_e(effectiveness)
    if model not in ("flow", "rate"):
        raise ParameterError(f"model must be 'flow' or 'rate', not {model!r}")
    cm = _CurveModel(fit)
    last = _last_obs_t(fit) or 30.0
    end = float(horizon) if horizon is not None else max(last, float(delay) * 3, 10.0)
    t = np.linspace(0.0, end, points)
    P = cm.theta[None, :]
    actual = cm.f(t, P)[0]
    if model == "flow":
        yr = float(cm.f(np.array([float(delay)]), P)[0, 0])
        cf = np.where(t <= delay, actual, yr + (1.0 - e) * (actual - yr))
    else:
        cf = np.array([cm.rate_damped(np.array([float(delay)]), float(h), e, P)[0, 0]
                       if h > delay else a for h, a in zip(t, actual)])
    origin = getattr(fit, "origin", None)
    x = t if origin is None else origin + pd.to_timedelta(t, unit="D")
    fig = go.Figure(layout={"template": template()})
    fig.add_scatter(x=x, y=actual, name="fitted curve (the answer as it happened)",
                    line={"color": "#888"})
    fig.add_scatter(x=x, y=cf, name=f"answer on day {delay:g} (effectiveness {e:g})",
                    line={"width": 3})
    answer_x = float(delay) if origin is None else origin + pd.Timedelta(days=float(delay))
    fig.add_vline(x=answer_x, line_dash="dot")
    saved = actual[-1] - cf[-1]
    fig.update_layout(
        title=f"What if the answer had come on day {delay:g}? "
              f"About {saved:,.0f} fewer by day {end:,.0f} ({model} model)",
        xaxis_title="date" if origin is not None else "days since going public",
        yaxis_title=str(getattr(fit, "metric", "reach")))
    return fig


# ---------------------------------------------------------------------------
# 5. money lenses
# ---------------------------------------------------------------------------

WTP_FIGURES: dict[str, dict[str, Any]] = {
    "airline": {
        "fast": 20.00, "fast_label": "reply in under 6 minutes",
        "any": 8.98, "any_label": "any reply (average)",
        "slow": 2.33, "slow_label": "reply after more than 60 minutes",
        "fast_minutes": 6.0, "slow_minutes": 60.0,
        "unit": "USD per ticket", "currency": "USD",
        "source": "Twitter / Applied Marketing Science airline study (2015) [L1]: any reply "
                  "+$8.98 willingness to pay for a ticket (about 3 %), reply < 6 min about +$20, "
                  "> 60 min +$2.33; median first reply 22 min",
    },
    "telecom": {
        "fast": 17.00, "fast_label": "reply within 4 minutes",
        "any": 8.35, "any_label": "any reply (average)",
        "slow": 3.50, "slow_label": "reply after more than 20 minutes",
        "fast_minutes": 4.0, "slow_minutes": 20.0, "fast_inclusive": True,  # "<= 4 min"
        "unit": "USD per month", "currency": "USD",
        "source": "Twitter cross-industry study (2016) [L2]: telecom reply <= 4 min +$17/month, "
                  "> 20 min +$3.50 ($3.52), average +$8.35 (10 %)",
    },
}
"""Willingness-to-pay uplift by response time: **industry estimates** from a
platform-sponsored stated-preference (conjoint) study, not causal effects (methods.md §4.1)."""

_INDUSTRY_WORDS = {
    "airline": re.compile(r"airline|airways|air lines|\bflight", re.I),
    "telecom": re.compile(r"telecom|telekom|mobile network|broadband|vodafone|verizon|comcast",
                          re.I),
}

MONEY_COLUMNS = ("lens", "low", "central", "high", "unit", "assumptions", "supported", "statement")
"""Column contract of :attr:`MoneyLenses.table`."""


def wtp_uplift(minutes: float | None, industry: str) -> float:
    """Willingness-to-pay uplift for a reply after ``minutes`` (``None`` = no reply).

    Step function of :data:`WTP_FIGURES`: under the fast threshold the fast figure,
    between the thresholds the average "any reply" figure (the study gives none for
    the middle), beyond the slow threshold the slow figure, no reply 0.

    Examples
    --------
    >>> import casekit as ck
    >>> ck.response.wtp_uplift(3, "airline"), ck.response.wtp_uplift(90, "airline")
    (20.0, 2.33)
    """
    f = WTP_FIGURES[industry]
    if minutes is None or not np.isfinite(minutes):
        return 0.0
    fast = (minutes <= f["fast_minutes"]) if f.get("fast_inclusive") else \
        (minutes < f["fast_minutes"])
    if fast:
        return f["fast"]
    if minutes <= f["slow_minutes"]:
        return f["any"]
    return f["slow"]


@dataclass(frozen=True, repr=False, eq=False)
class MoneyLenses(_ResultMixin):
    """Money lenses side by side (see :func:`money_lenses`). Never summed.

    ``table`` columns :data:`MONEY_COLUMNS`; ``supported`` is False where the case's
    data cannot support a lens, and ``statement`` says why.
    """

    case_id: str
    currency: str
    table: pd.DataFrame
    assumptions: dict[str, Any]
    _title = "Money lenses (separate; never summed)"

    @property
    def params(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "currency": self.currency}

    @property
    def supported(self) -> list[str]:
        return self.table.loc[self.table["supported"], "lens"].tolist()

    def plot(self, **kwargs):
        """The lenses as a table figure (:func:`casekit.plots.money_lenses_plot`); their
        units differ, so they are not drawn on one axis."""
        from casekit.plots import money_lenses_plot

        return money_lenses_plot(self, **kwargs)

    def row(self, lens: str) -> pd.Series:
        hit = self.table[self.table["lens"] == lens]
        if hit.empty:
            raise KeyError(f"no lens {lens!r}; lenses: {', '.join(self.table['lens'])}")
        return hit.iloc[0]

    @property
    def summary(self) -> str:
        lines = [f"Money lenses for case {self.case_id!r}. The lenses overlap (reach drives brand "
                 "damage, which drives the share price), so they are shown side by side and "
                 "never added up."]
        for _, r in self.table.iterrows():
            if r["supported"]:
                lines.append(f"- {r['lens']}: {_fmt_num(r['low'])} to {_fmt_num(r['high'])} "
                             f"{r['unit']} (central {_fmt_num(r['central'])}). "
                             f"{r['statement']} Assumes: {r['assumptions']}")
            else:
                lines.append(f"- {r['lens']}: not supported. {r['statement']}")
        return "\n".join(lines)


def _lens(lens, low=np.nan, central=np.nan, high=np.nan, unit="", assumptions="",
          supported=False, statement=""):
    return {"lens": lens, "low": low, "central": central, "high": high, "unit": unit,
            "assumptions": assumptions, "supported": supported, "statement": statement}


_IMPRESSION_UNITS = ("views", "impressions")


def _impressions_lens(case: Case, delay_cost: DelayCost | None, cpm, currency: str) -> list[dict]:
    lo_c, mid_c, hi_c = cpm
    cpm_txt = (f"value per 1,000 negative impressions {lo_c:g} / {mid_c:g} / {hi_c:g} {currency} "
               "(low / central / high; a user parameter, the default is a placeholder and not a "
               "sourced figure)")
    name = "negative impressions x CPM"
    rows = []
    if delay_cost is not None:
        units = case.reach.loc[case.reach["metric"] == delay_cost.metric, "unit"]
        unit = units.iloc[0] if len(units) else "reach"
        per = ("" if unit in _IMPRESSION_UNITS else
               f" Each of the {unit} counted is taken as one negative impression (a lower bound: "
               "each saw the story at least once).")
        fl, fh = delay_cost.fitted_band
        fl = delay_cost.fitted_final if not np.isfinite(fl) else fl
        fh = delay_cost.fitted_final if not np.isfinite(fh) else fh
        rows.append(_lens(
            f"{name}: all reach", fl * lo_c / 1000, delay_cost.fitted_final * mid_c / 1000,
            fh * hi_c / 1000, currency,
            f"impressions = final reach of the {delay_cost.curve} fit of {delay_cost.metric!r} "
            f"({_fmt_num(delay_cost.fitted_final)}, band {_fmt_num(fl)}-{_fmt_num(fh)}); {cpm_txt}",
            True, "Value of all negative impressions of the story." + per))
        a = delay_cost.actual
        if a is not None:
            cl = a["cost_lower"] if np.isfinite(a["cost_lower"]) else a["cost_of_delay"]
            ch = a["cost_upper"] if np.isfinite(a["cost_upper"]) else a["cost_of_delay"]
            rows.append(_lens(
                f"{name}: due to the delay", cl * lo_c / 1000, a["cost_of_delay"] * mid_c / 1000,
                ch * hi_c / 1000, currency,
                f"impressions = extra final reach from responding at day {a['delay_days']:g} "
                f"instead of day 0 ({delay_cost.model} damping, e = {delay_cost.effectiveness:g}); "
                f"{cpm_txt}", True,
                "Value of the impressions a response at going public would have avoided." + per))
        else:
            rows.append(_lens(f"{name}: due to the delay", statement=(
                "The actual delay is unknown, so the impressions due to it cannot be computed.")))
        return rows
    r = case.reach
    r = r[r["unit"].isin(_IMPRESSION_UNITS) & r["kind"].isin(["observed", "reported"])
          & r["confidence"].isin(["high", "medium"]) & r["cumulative"]]
    if r.empty:
        units = ", ".join(sorted(set(case.reach["unit"]))) or "none"
        return [_lens(f"{name}: all reach", statement=(
            "the case records no views or impressions of the story itself "
            f"(its reach units: {units}), and no delay-cost fit was given."))]
    best = r.loc[r["value"].idxmax()]
    v = float(best["value"])
    return [_lens(
        f"{name}: all reach", v * lo_c / 1000, v * mid_c / 1000, v * hi_c / 1000, currency,
        f"impressions = the largest reported reading, {v:,.0f} {best['unit']} of "
        f"{best['metric']!r} on {best['time'].date()} ({best['source']}); {cpm_txt}", True,
        "No delay-cost fit given: a lower bound from the largest observed or reported reading.")]


def money_lenses(case: Case, delay_cost: DelayCost | None = None,
                 cpm: Sequence[float] = DEFAULT_CPM, event_study=None, *,
                 industry: str | None = None, market_window: tuple[int, int] | None = None,
                 market_benchmark: str = "market") -> MoneyLenses:
    """The cost of the slow response through separate money lenses, never summed.

    Parameters
    ----------
    case : Case
    delay_cost : DelayCost, optional
        For the impressions lens; without it the lens falls back to the largest
        reported view count of the case (a lower bound) or is not supported.
    cpm : (low, central, high)
        Value per 1,000 negative impressions in the case currency. The default
        :data:`DEFAULT_CPM` is a placeholder, not a sourced figure.
    event_study : casekit.market.EventStudy, optional
        Anything with ``.car_table`` (columns ``benchmark, window, car, money,
        money_lower, money_upper``) and ``.to_dict()``.
    industry : {"airline", "telecom"}, optional
        For the willingness-to-pay lens; inferred from the company name and summary.
    market_window : (int, int), optional
        The event study's CAR window for the market lens; default the longest window
        that starts on day 0.
    market_benchmark : str
        The event study's benchmark for the market lens (default ``"market"``).

    Returns
    -------
    MoneyLenses
        Lenses (rows of ``table``):

        1. **negative impressions x CPM**: all reach, and the part due to the delay.
        2. **willingness to pay by response time**: per complaining customer, the
           uplift a fast reply buys minus the uplift of the actual reply
           (:data:`WTP_FIGURES`, *industry estimates*). Low: a typical reply as the
           target; central: a fast reply; high: fast reply vs the actual reply counted
           as no reply.
        3. **cost multiplier**: each money lens in the remedy's currency divided by the
           remedy the company refused (costs category ``remedy_refused``).
        4. **market value**: -CAR x market value from the event study (a positive
           figure is value lost).

    Examples
    --------
    >>> import casekit as ck
    >>> m = ck.response.money_lenses(ck.load_case("synthetic-example"))
    >>> m.table[["lens", "supported"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'lens': 'negative impressions x CPM: all reach', 'supported': True},
     {'lens': 'willingness to pay by response time', 'supported': False},
     {'lens': 'cost multiplier: negative impressions x CPM: all reach', 'supported': True},
     {'lens': 'market value', 'supported': False}]
    >>> print(m.row("market value")["statement"])
    market lens: not computed (no price data supplied); see casekit.market.event_study.
    """
    cpm = _check_cpm(cpm)
    currency = case.currency
    rows = _impressions_lens(case, delay_cost, cpm, currency)
    # -- 2. willingness to pay
    text = f"{case.company} {case.title} {case.summary}"
    if industry is None:
        industry = next((k for k, rx in _INDUSTRY_WORDS.items() if rx.search(text)), None)
    if industry is not None and industry not in WTP_FIGURES:
        raise ParameterError(f"industry must be one of {', '.join(WTP_FIGURES)}, not {industry!r}")
    if industry is None:
        rows.append(_lens("willingness to pay by response time", statement=(
            "methods.md has willingness-to-pay figures for airlines and telecoms "
            "only, and this case is in neither industry (pass industry= to override).")))
    else:
        f = WTP_FIGURES[industry]
        fc, fr = case.key_date("first_complaint"), case.key_date("first_response")
        if fc is None or fr is None:
            rows.append(_lens("willingness to pay by response time", statement=(
                "the time from the first complaint to the first response is "
                "unknown (first_complaint or first_response is not dated).")))
        else:
            minutes = (fr - fc) / pd.Timedelta(minutes=1)
            actual = wtp_uplift(minutes, industry)
            band_label = {f["fast"]: f["fast_label"], f["any"]: f["any_label"],
                          f["slow"]: f["slow_label"]}[actual]
            rows.append(_lens(
                "willingness to pay by response time", max(f["any"] - actual, 0.0),
                f["fast"] - actual, f["fast"], f"{f['unit']}, per complaining customer",
                f"industry estimate, stated preference, platform-sponsored: {f['source']}. "
                f"Actual reply after {_fmt_days(minutes / 1440)} counts as '{band_label}' "
                f"(+{actual:.2f}) if it counts as a reply. Low = '{f['any_label']}' "
                f"(+{f['any']:.2f}) "
                f"as target; central = '{f['fast_label']}' (+{f['fast']:.2f}) as target; high = "
                f"fast reply vs no reply (the actual answer counted as none). Per purchase and "
                f"per complaining customer; not multiplied by purchases or customers.", True,
                f"Industry estimate ({industry}), labelled as such; figures in USD whatever the "
                "case currency."))
    # -- 3. cost multiplier
    costs = case.costs
    refused = costs[(costs["category"] == "remedy_refused") & costs["value"].notna()]
    money_rows = [r for r in rows if r["supported"] and r["unit"] == currency]
    if refused.empty:
        rows.append(_lens("cost multiplier: negative impressions x CPM: all reach", statement=(
            "the case records no refused remedy with a value "
            "(costs category remedy_refused).")))
    else:
        ref = refused[refused["unit"] == currency]
        if ref.empty:
            rows.append(_lens("cost multiplier", statement=(
                f"the refused remedy is in {refused['unit'].iloc[0]}, not the case "
                f"currency {currency}; no exchange rate is applied.")))
        else:
            rv = ref["value"].to_numpy(float)
            r_lo, r_mid, r_hi = rv.min(), float(np.median(rv)), rv.max()
            what = "; ".join(f"{it} ({v:,.0f} {currency})" for it, v in zip(ref["item"], rv))
            if not money_rows:
                rows.append(_lens("cost multiplier: negative impressions x CPM: all reach",
                                  statement=("no money lens in "
                                             f"{currency} could be computed for this case.")))
            for mr in list(money_rows):
                rows.append(_lens(
                    f"cost multiplier: {mr['lens']}", mr["low"] / r_hi, mr["central"] / r_mid,
                    mr["high"] / r_lo, "x the refused remedy",
                    f"{mr['lens']} divided by the refused remedy: {what}", True,
                    f"How many times the refused remedy the {mr['lens']} lens comes to."))
    # -- 4. market value
    if event_study is None:
        rows.append(_lens("market value", statement=(
            "market lens: not computed (no price data supplied); see casekit.market.event_study.")))
    else:
        ct = getattr(event_study, "car_table", None)
        need = {"car", "money", "money_lower", "money_upper"}
        if not isinstance(ct, pd.DataFrame) or not need <= set(ct.columns):
            rows.append(_lens("market value", statement=(
                "market lens: not computed (the event study has no CAR x market value columns).")))
        else:
            cand = ct[np.isfinite(ct["money"].astype(float))]
            if "benchmark" in cand.columns and (cand["benchmark"] == market_benchmark).any():
                cand = cand[cand["benchmark"] == market_benchmark]
            if {"start", "end"} <= set(cand.columns) and len(cand):
                if market_window is not None:
                    cand = cand[(cand["start"] == market_window[0])
                                & (cand["end"] == market_window[1])]
                    if cand.empty:
                        raise ParameterError(f"the event study has no CAR window {market_window}")
                else:
                    from0 = cand[cand["start"] == 0]
                    cand = from0 if len(from0) else cand
                    cand = cand.assign(_len=cand["end"] - cand["start"]).sort_values(
                        "_len", ascending=False, kind="stable")
            if cand.empty:
                rows.append(_lens("market value", statement=(
                    "market lens: not computed (no market value: shares outstanding missing).")))
            else:
                r = cand.iloc[0]
                win = r.get("window", "?")
                ev = r.get("event", "?")
                rows.append(_lens(
                    "market value", -float(r["money_upper"]), -float(r["money"]),
                    -float(r["money_lower"]), "USD",
                    f"-CAR x market value, event {ev}, window {win} trading days, benchmark "
                    f"{r.get('benchmark', '?')}; CAR {float(r['car']):+.2%}; range = the CAR "
                    "confidence interval times market value (casekit.market).", True,
                    "From the event study; a positive figure is value lost, a negative one a "
                    "gain relative to the market model."))
                ref_usd = refused[refused["unit"] == "USD"]["value"].to_numpy(float)
                if ref_usd.size and not rows[-1]["central"] > 0:
                    rows.append(_lens("cost multiplier: market value", statement=(
                        "the market lens's central estimate is not a loss (the abnormal return "
                        "is zero or positive), so it is not expressed as a multiple of the "
                        "refused remedy; its range is in the market value row")))
                elif ref_usd.size:
                    m = rows[-1]
                    rows.append(_lens(
                        "cost multiplier: market value", m["low"] / ref_usd.max(),
                        m["central"] / float(np.median(ref_usd)), m["high"] / ref_usd.min(),
                        "x the refused remedy", "market value lens divided by the refused remedy",
                        True, "Market value lens as a multiple of the refused remedy."))
    table = pd.DataFrame(rows, columns=list(MONEY_COLUMNS))
    assumptions = {
        "never summed": "the lenses overlap (methods.md §4): no total is given",
        "CPM": f"{cpm} {currency} per 1,000 impressions (placeholder default unless supplied)",
        "willingness to pay": ("industry estimates from a platform-sponsored study "
                               "(methods.md §4.1)"),
        "currency": f"case currency {currency}; no exchange rates are applied",
    }
    return MoneyLenses(case_id=case.id, currency=currency, table=table, assumptions=assumptions)


# ---------------------------------------------------------------------------
# 6. severity (Shitstorm scale)
# ---------------------------------------------------------------------------

SEVERITY_LEVELS: dict[int, str] = {
    0: "no criticism, no media echo",
    1: "isolated criticism",
    2: "repeated criticism by individuals, weak community reaction, no media",
    3: ("persistent criticism, growing community reaction, more channels, first media/blog "
        "articles"),
    4: ("protest groups form, growing echo on all channels, first print articles, many online "
        "reports"),
    5: "protest takes campaign form, critics become the majority",
    6: "'unbraked snowball', aggressive tone, intensive coverage in all media",
}
"""The Shitstorm-Skala (Graf & Schwede 2012) [L7] as transcribed in methods.md §4.7."""

REACH_UNITS = ("views", "supporters", "likes", "members", "posts", "responses", "upvotes",
               "shares", "comments", "signatures", "mentions", "tweets", "retweets")
"""Units counted as community reaction to the story (not outlet readership, not followers)."""

_PRESS_NAME = re.compile(r"news|stor(y|ies)|article|coverage|interview|press|outlet", re.I)
_PRESS_UNITS = ("stories", "articles", "interviews", "outlets")
_ORGANISED = re.compile(r"group|petition|protest|boycott|campaign", re.I)
_CRITICISM_KINDS = ("complaint", "escalation", "publication")

SEVERITY_THRESHOLDS = {"community": 1_000, "many_reports": 100_000, "mass": 1_000_000,
                       "press_wide": 10, "press_intense": 100}
"""Thresholds of the severity rules (reach in counted units, press in items)."""


def level_from_indicators(criticism: int, public: bool, reach: float, press: int,
                          organised: bool, thresholds: Mapping[str, float] | None = None) -> int:
    """Shitstorm level (0-6) from cumulative indicators; the rules of :func:`severity`.

    Examples
    --------
    >>> import casekit as ck
    >>> ck.response.level_from_indicators(2, False, 0, 0, False)
    2
    >>> ck.response.level_from_indicators(3, True, 2_000_000, 446, False)
    6
    """
    th = {**SEVERITY_THRESHOLDS, **(thresholds or {})}
    level = 0
    if criticism >= 1:
        level = 1
    if criticism >= 2 or (public and criticism >= 1 and press == 0 and reach < th["community"]):
        level = 2
    if public and (press >= 1 or reach >= th["community"]):
        level = 3
    r4 = public and press >= 1 and (organised or reach >= th["many_reports"]
                                    or press >= th["press_wide"])
    if r4:
        level = 4
    r5 = r4 and (reach >= th["mass"] or (organised and press >= th["press_wide"]))
    if r5:
        level = 5
    if r5 and reach >= th["mass"] and press >= th["press_intense"]:
        level = 6
    return level


@dataclass(frozen=True, repr=False, eq=False)
class Severity(_ResultMixin):
    """Shitstorm-scale label of a case over time (see :func:`severity`).

    Attributes
    ----------
    level : int
        Level reached by the end of the observed period (0-6).
    label : str
        Its description (:data:`SEVERITY_LEVELS`).
    level_at_response : int or None
        Level on the day of the first response.
    table : pandas.DataFrame
        One row per day: ``date, level, criticism, public, reach, press, organised,
        channels``. Levels never fall: the indicators are cumulative.
    """

    case_id: str
    level: int
    level_at_response: int | None
    first_response: pd.Timestamp | None
    table: pd.DataFrame
    assumptions: dict[str, Any]
    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(SEVERITY_THRESHOLDS))
    _title = "Severity (Shitstorm scale 0-6)"

    @property
    def label(self) -> str:
        return SEVERITY_LEVELS[self.level]

    @property
    def params(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "thresholds": dict(self.thresholds)}

    def _html_body(self) -> str:
        changes = self.table[self.table["level"].diff().fillna(1) != 0]
        return changes.to_html(index=False)

    @property
    def summary(self) -> str:
        lines = [f"Severity of case {self.case_id!r}: level {self.level} of 6 ({self.label})."]
        ch = self.table[self.table["level"].diff().fillna(self.table["level"]) != 0]
        for _, r in ch.iterrows():
            lines.append(f"- from {r['date'].date()}: level {r['level']}")
        if self.level_at_response is not None:
            lines.append(f"At the first response ({self.first_response.date()}) the level was "
                         f"{self.level_at_response}.")
        else:
            lines.append("The first response is not dated.")
        lines.append("An ordinal label from heuristic rules (see severity()); tone is not "
                     "measured. Thresholds: "
                     + ", ".join(f"{k}={v:,}" for k, v in self.thresholds.items()) + ".")
        return "\n".join(lines)

    def _extra_dict(self) -> dict[str, Any]:
        return {"level": self.level, "label": self.label,
                "level_at_response": self.level_at_response}

    def plot(self, **kwargs):
        """Level over time beside the response date (:func:`casekit.plots.severity_plot`)."""
        from casekit.plots import severity_plot

        return severity_plot(self, **kwargs)


def severity(case: Case, *, days_after: int = 60,
             thresholds: Mapping[str, float] | None = None) -> Severity:
    """Label a case on the Shitstorm scale (0-6) day by day, beside the response date.

    Indicators, cumulative up to and including each day D:

    ============ ==================================================================
    criticism    timeline rows by the customer or the public of kind complaint,
                 escalation or publication dated <= D
    public       going_public <= D
    reach        largest count of community reaction so far: cumulative reach metrics
                 in :data:`REACH_UNITS` (max reading) and per-day counts in those
                 units (running sum); observed/reported rows, confidence low or
                 better; outlet readership, followers and claims are not counted
    press        max(timeline rows by actor media, largest press-count metric such
                 as news_stories)
    organised    a reach metric whose name says group, petition, protest, boycott or
                 campaign has a reading <= D
    ============ ==================================================================

    Rules (the level is the highest whose rule holds; thresholds in
    :data:`SEVERITY_THRESHOLDS`):

    ===== ===========================================================================
    level rule
    ===== ===========================================================================
    0     no criticism
    1     criticism >= 1
    2     criticism >= 2, or public with criticism but press = 0 and reach < 1,000
    3     public and (press >= 1 or reach >= 1,000)
    4     public and press >= 1 and (organised or reach >= 100,000 or press >= 10)
    5     rule 4 and (reach >= 1,000,000 or (organised and press >= 10))
    6     rule 5 and reach >= 1,000,000 and press >= 100
    ===== ===========================================================================

    These operationalise the verbal levels of methods.md §4.7 (an ordinal label the
    authors say rests on case experience). Tone ("aggressive, insulting") and "critics
    become the majority" are not measured; levels 5 and 6 rest on volume alone.

    Examples
    --------
    >>> import casekit as ck
    >>> s = ck.response.severity(ck.load_case("synthetic-example"))
    >>> s.level, s.level_at_response
    (4, 3)
    """
    th = {**SEVERITY_THRESHOLDS, **(thresholds or {})}
    tl = case.timeline
    kd = [case.key_date(k) for k in ("incident", "first_complaint", "going_public")]
    known = [d for d in kd if d is not None]
    if not known and tl.empty:
        raise InsufficientDataError(
            f"{case.id} has no dated events and no key dates, so its severity cannot be "
            "followed over time: add rows to timeline.csv or dates to case.yaml's key_dates")
    start = min(known) if known else tl["date"].min()
    gp = case.key_date("going_public")
    end = (gp if gp is not None else tl["date"].max()) + pd.Timedelta(days=days_after)
    days = pd.date_range(start.normalize(), end.normalize(), freq="D")
    ends = days + DAY  # a day's events count from its start to its end
    crit = tl[tl["actor"].isin(["customer", "public"]) & tl["kind"].isin(_CRITICISM_KINDS)]
    media = tl[tl["actor"] == "media"]
    n_crit = np.searchsorted(np.sort(crit["date"].to_numpy()), ends.to_numpy(), side="left")
    n_media = np.searchsorted(np.sort(media["date"].to_numpy()), ends.to_numpy(), side="left")
    r = case.reach
    rank = {"high": 3, "medium": 2, "low": 1, "unverified": 0}
    r = r[r["kind"].isin(["observed", "reported"]) & (r["confidence"].map(rank) >= 1)]
    reach = np.zeros(len(days))
    press_m = np.zeros(len(days))
    organised = np.zeros(len(days), dtype=bool)
    channels: list[set] = [set() for _ in days]
    for metric, g in r.groupby("metric"):
        g = g.sort_values("time")
        t = g["time"].to_numpy()
        pos = np.searchsorted(t, ends.to_numpy(), side="left")  # readings before each day's end
        unit = g["unit"].iloc[0]
        is_press = bool(_PRESS_NAME.search(metric)) or unit in _PRESS_UNITS
        if g["cumulative"].iloc[0]:
            run = np.concatenate([[0.0], np.maximum.accumulate(g["value"].to_numpy(float))])
        elif g["time_precision"].isin(["day", "hour"]).all():
            run = np.concatenate([[0.0], np.cumsum(g["value"].to_numpy(float))])
        else:
            continue  # periodic outlet-level figures (monthly readership ...) are not case reach
        series = run[pos]
        if is_press:
            press_m = np.maximum(press_m, series)
        elif unit in REACH_UNITS:
            reach = np.maximum(reach, series)
            if _ORGANISED.search(metric):
                organised |= pos > 0
            word = metric.split("_")[0]
            for i in np.flatnonzero(pos > 0):
                channels[i].add(word)
    press = np.maximum(n_media, press_m).astype(int)
    public = np.asarray(ends > gp) if gp is not None else np.zeros(len(days), dtype=bool)
    levels = [level_from_indicators(int(c), bool(p), float(rc), int(pr), bool(o), th)
              for c, p, rc, pr, o in zip(n_crit, public, reach, press, organised)]
    n_ch = [len(c) + (1 if pr > 0 else 0) for c, pr in zip(channels, press)]
    table = pd.DataFrame({"date": days, "level": levels, "criticism": n_crit.astype(int),
                          "public": public, "reach": reach, "press": press,
                          "organised": organised, "channels": n_ch})
    fr = case.key_date("first_response")
    at_resp = None
    if fr is not None:
        hit = table[table["date"] == fr.normalize()]
        if not hit.empty:
            at_resp = int(hit["level"].iloc[0])
        elif fr.normalize() > table["date"].max():
            at_resp = int(table["level"].iloc[-1])
        else:
            at_resp = 0
    assumptions = {
        "scale": "Shitstorm-Skala (Graf & Schwede 2012) [L7], an ordinal label",
        "period": f"daily from {days[0].date()} to {days[-1].date()} "
                  f"({days_after} days after going public)",
        "thresholds": ", ".join(f"{k}={v:,}" for k, v in th.items()),
        "dates": "month- and range-precision events count from their first day",
        "not measured": "tone and whether critics are the majority",
    }
    return Severity(case_id=case.id, level=int(table["level"].iloc[-1]), level_at_response=at_resp,
                    first_response=fr, table=table, assumptions=assumptions, thresholds=th)
