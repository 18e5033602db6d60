"""What a replay watches: one storm as cumulative readings or event times, in days.

Private helpers of :func:`casekit.forecast.replay`. Everything is turned into days
since an origin (``t``), so that "the data up to tau" is one comparison.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from casekit.cases import Case
from casekit.exceptions import InsufficientDataError, ParameterError
from casekit.response.detection import SpikeRule, detection_replay, replay_rules

DAY = pd.Timedelta(days=1)
_PERIODS = {"hour": pd.Timedelta(hours=1), "day": DAY}


@dataclass
class Watched:
    """One storm, ready for the replay.

    ``obs`` (series branch): ``t`` (days, the time a cumulative reading is known) and
    ``value`` (cumulative), sorted by ``t``; ``times`` (event branch): sorted event times.
    """

    branch: str
    origin: pd.Timestamp | None
    label: str
    final_value: float
    first_t: float
    last_t: float
    obs: pd.DataFrame | None = None
    times: np.ndarray | None = None
    case_id: str | None = None
    metric: str | None = None
    context: object | None = None
    notes: list[str] = field(default_factory=list)


def to_days(value, origin: pd.Timestamp | None, name: str) -> float:
    """A date (needs an origin) or a number of days, as days since the origin."""
    if isinstance(value, bool):
        raise ParameterError(f"{name} must be a date or a number of days, not {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            raise ParameterError(f"{name} must be finite, not {value!r}")
        return v
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a date or a number of days, not {value!r}") from None
    if ts is pd.NaT:
        raise ParameterError(f"{name} is missing (NaT)")
    if origin is None:
        raise ParameterError(
            f"{name} is a date, but the data have no origin date: give days since t = 0, "
            "or pass origin="
        )
    if ts.tzinfo is not None and origin.tzinfo is None:
        ts = ts.tz_localize(None)
    return float((ts - origin) / DAY)


def _context_of(context):
    if context is None:
        return None
    if isinstance(context, Case):
        return context.context
    if hasattr(context, "key_date") and hasattr(context, "origin"):
        return context
    raise ParameterError(f"context must be a Case or a CaseContext, not {type(context).__name__}")


def _default_metric(case: Case) -> str:
    best, n_best = None, -1
    for m in case.metrics:
        n = len(case.series(m))
        if n > n_best:
            best, n_best = m, n
    if best is None:
        raise InsufficientDataError(f"case {case.id!r} has no reach series to replay")
    return best


def _cumulate(t: np.ndarray, v: np.ndarray, period: float, where: str) -> pd.DataFrame:
    """Per-period counts (``t`` = start of the period) as cumulative readings known at
    each period's end. Gaps would make the running total too small, so they are refused."""
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    if len(t) > 1:
        gaps = np.diff(t)
        if np.any(np.abs(gaps - period) > 1e-6 * period):
            raise ParameterError(
                f"{where}: per-period counts must be on a regular grid without gaps or "
                "repeats (a missing period would make the running total too small)"
            )
    return pd.DataFrame({"t": t + period, "value": np.cumsum(v)})


def from_case(case: Case, metric: str | None) -> Watched:
    metric = _default_metric(case) if metric is None else metric
    if metric not in case.metrics:
        raise ParameterError(
            f"case {case.id!r} has no reach metric {metric!r}; it has: "
            f"{', '.join(case.metrics) or '(none)'}"
        )
    s = case.series(metric)
    s = s[s["kind"].isin(["observed", "reported"])].dropna(subset=["t", "value"])
    if s.empty:
        raise InsufficientDataError(f"case {case.id!r} has no dated {metric!r} figures")
    ctx = case.context
    if ctx.origin is None:
        raise InsufficientDataError(f"case {case.id!r} has no origin date (going_public)")
    notes = []
    if bool(s["cumulative"].all()):
        obs = s[["t", "value"]].sort_values("t", kind="stable").reset_index(drop=True)
        what = "cumulative readings"
    elif not bool(s["cumulative"].any()):
        # one source (the one with most rows) and one grid, as the spike-rule replay does
        src = s["source"].value_counts().index[0]
        s = s[s["source"] == src]
        prec = s["time_precision"].value_counts().index[0]
        if prec not in _PERIODS:
            raise ParameterError(
                f"{metric!r} counts are dated to the {prec}; a replay needs per-hour or "
                "per-day counts"
            )
        s = s[s["time_precision"] == prec]
        period = _PERIODS[prec] / DAY
        obs = _cumulate(s["t"].to_numpy(float), s["value"].to_numpy(float), period, metric)
        what = f"per-{prec} counts of source {src!r}, summed into a running total"
        notes.append(
            f"{metric} holds per-{prec} counts: a period's count is known at its end and the "
            "running total is fitted; the source was chosen as the one with most rows"
        )
    else:
        raise ParameterError(f"{metric!r} mixes cumulative and per-period figures")
    return _watched_series(obs, ctx.origin, f"{metric} ({what})", case.id, metric, ctx, notes)


def _watched_series(obs, origin, label, case_id, metric, ctx, notes) -> Watched:
    last_t = float(obs["t"].max())
    final = float(obs.loc[obs["t"] == last_t, "value"].max())
    return Watched(
        branch="series",
        origin=origin,
        label=label,
        final_value=final,
        first_t=float(obs["t"].min()),
        last_t=last_t,
        obs=obs,
        case_id=case_id,
        metric=metric,
        context=ctx,
        notes=notes,
    )


def from_series(series: pd.Series, cumulative: bool, origin) -> Watched:
    s = series.dropna()
    if s.empty:
        raise InsufficientDataError("the series holds no values")
    idx = s.index
    if isinstance(idx, pd.DatetimeIndex):
        o = pd.Timestamp(origin) if origin is not None else idx.min().normalize()
        if idx.tz is not None and o.tzinfo is None:
            idx = idx.tz_localize(None)
        t = ((idx - o) / DAY).to_numpy(float)
    else:
        o = None if origin is None else pd.Timestamp(origin)
        try:
            t = np.asarray(idx, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError("a series must be indexed by dates or by days") from None
    v = s.to_numpy(dtype=float)
    notes = []
    if cumulative:
        obs = pd.DataFrame({"t": t, "value": v}).sort_values("t", kind="stable")
        obs = obs.reset_index(drop=True)
    else:
        if len(t) < 2:
            raise InsufficientDataError("per-period counts need at least two periods")
        period = float(np.min(np.diff(np.sort(t))))
        obs = _cumulate(t, v, period, "series")
        notes.append("per-period counts: a period's count is known at its end")
    name = series.name if isinstance(series.name, str) else "series"
    return _watched_series(obs, o, name, None, name, None, notes)


def from_events(data, origin) -> Watched:
    if hasattr(data, "times") and callable(data.times):
        times = np.asarray(data.times(), dtype=float)
        o = getattr(data, "origin", None)
        case_id = getattr(data, "case_id", None)
        label = f"{getattr(data, 'n_events', len(times)):,} logged events"
    else:
        times = np.asarray(data, dtype=float)
        o = None if origin is None else pd.Timestamp(origin)
        case_id = None
        label = f"{len(times):,} event times"
    if times.ndim != 1 or not np.all(np.isfinite(times)):
        raise ParameterError("event times must be a one-dimensional array of finite days")
    if len(times) == 0:
        raise InsufficientDataError("the event log is empty")
    times = np.sort(times, kind="stable")
    return Watched(
        branch="events",
        origin=None if o is None else pd.Timestamp(o),
        label=label,
        final_value=float(len(times)),
        first_t=float(times[0]),
        last_t=float(times[-1]),
        times=times,
        case_id=case_id,
        metric="events",
    )


def origins(w: Watched, step, start, end, max_origins: int) -> tuple[np.ndarray, str]:
    """The replay's origins tau (days) and a description of the grid."""
    if isinstance(step, (str, pd.Timedelta)) or (
        hasattr(step, "total_seconds") and not isinstance(step, Iterable)
    ):
        try:
            span = pd.Timedelta(step)
        except (TypeError, ValueError):
            raise ParameterError(f"step must be like '1D' or '1h', not {step!r}") from None
        if not span > pd.Timedelta(0):
            raise ParameterError(f"step must be positive, not {step!r}")
        d = span / DAY
        lo = w.first_t if start is None else to_days(start, w.origin, "start")
        hi = w.last_t if end is None else to_days(end, w.origin, "end")
        if start is None:  # first whole step after the first observation
            lo = math.floor(lo / d + 1e-9) * d + d
        k = int(math.floor((hi - lo) / d + 1e-9)) + 1
        if k < 1:
            raise ParameterError(f"no origin between start ({lo:g}) and end ({hi:g}) days")
        if k > max_origins:
            raise ParameterError(
                f"{k} origins at this step; at most max_origins={max_origins} (a coarser "
                "step, start= and end=, or a larger max_origins)"
            )
        return lo + d * np.arange(k), f"every {_span_text(span)}"
    if isinstance(step, Iterable):
        taus = np.array([to_days(s, w.origin, "step") for s in step], dtype=float)
        if len(taus) == 0:
            raise ParameterError("step is an empty list of origins")
        if len(taus) > max_origins:
            raise ParameterError(f"{len(taus)} origins; at most max_origins={max_origins}")
        return np.unique(taus), f"{len(np.unique(taus))} given origins"
    raise ParameterError(f"step must be a period ('1D', '1h') or a list of origins, not {step!r}")


def _span_text(span: pd.Timedelta) -> str:
    if span == DAY:
        return "day"
    if span == pd.Timedelta(hours=1):
        return "hour"
    hours = span / pd.Timedelta(hours=1)
    return f"{hours:g} hours" if hours < 48 else f"{span / DAY:g} days"


# --------------------------------------------------------------------------- spike rules


def spike_rules(
    w: Watched, data, rules: tuple[SpikeRule, ...]
) -> tuple[float | None, str | None, pd.DataFrame, str]:
    """First spike-rule alert (days), its rule, the rules table and a note on the data."""
    if not rules:
        return None, None, _empty_rules(), "no spike rules given"
    if isinstance(data, Case):
        det = detection_replay(data, w.metric, rules)
        tab = det.table.drop(columns=["metric"])
        note = str(tab["data_note"].iloc[0]) if len(tab) else ""
        tab = tab.drop(columns=["data_note"])
    else:
        counts = _counts_for_rules(w)
        if counts is None:
            return (
                None,
                None,
                _empty_rules(),
                "spike rules need per-period counts on a regular grid; these readings are "
                "irregular",
            )
        tab, _ = replay_rules(counts, rules)
        note = f"{len(counts)} per-period counts"
    fired = tab.dropna(subset=["first_alert"]).sort_values("first_alert", kind="stable")
    if fired.empty:
        return None, None, tab.reset_index(drop=True), note
    first = fired["first_alert"].iloc[0]
    t = to_days(first, w.origin if w.origin is not None else _EPOCH, "first_alert")
    return t, str(fired["rule"].iloc[0]), tab.reset_index(drop=True), note


_EPOCH = pd.Timestamp("2000-01-01")  # a stand-in date for data given in days only


def _counts_for_rules(w: Watched) -> pd.Series | None:
    base = w.origin if w.origin is not None else _EPOCH
    if w.branch == "events":
        lo = math.floor(w.first_t * 24)
        hi = math.floor(w.last_t * 24) + 1
        edges = np.arange(lo, hi + 1) / 24
        n, _ = np.histogram(w.times, bins=edges)
        idx = base + pd.to_timedelta(edges[:-1], unit="D").round("s")
        return pd.Series(n.astype(float), index=idx)
    t, v = w.obs["t"].to_numpy(float), w.obs["value"].to_numpy(float)
    if len(t) < 3 or len(np.unique(t)) != len(t):
        return None
    gaps = np.diff(t)
    if np.any(np.abs(gaps - gaps[0]) > 1e-6 * gaps[0]):
        return None
    idx = base + pd.to_timedelta(t[1:] - gaps[0], unit="D").round("s")
    return pd.Series(np.diff(v), index=idx)


def _empty_rules() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "rule",
            "kind",
            "threshold",
            "evaluable",
            "n_checks",
            "n_alerts",
            "first_alert",
            "reason",
            "source",
        ]  # fmt: skip
    ).astype({"first_alert": "datetime64[ns]"})
