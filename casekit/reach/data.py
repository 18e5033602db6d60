"""The inputs of a fit, made into one table of observations.

A case's metric, a Series, a DataFrame or plain arrays all become the same
observation table (``t, time, y, weight, source, confidence, qualifier, kind, quote``),
sorted by time, with the weights the caller asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from casekit.cases import CONFIDENCES, FIGURE_KINDS, CaseContext
from casekit.exceptions import InsufficientDataError, ParameterError

__all__ = ["CONFIDENCE_WEIGHTS"]

CONFIDENCE_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"high": 1.0, "medium": 0.5, "low": 0.25, "unverified": 0.1}
)
"""Default weights for ``weights="confidence"`` (pass a mapping to override)."""

_OBS_COLUMNS = ("t", "time", "y", "weight", "source", "confidence", "qualifier", "kind", "quote")
_EVENT_COLUMNS = ("t", "date", "kind", "actor", "description")


@dataclass(frozen=True)
class _Prepared:
    obs: pd.DataFrame  # t, time, y, weight, source, confidence, qualifier, kind, quote
    origin: pd.Timestamp | None
    context: CaseContext | None
    metric: str | None
    events: pd.DataFrame  # t, date, kind, actor, description
    weights: str
    n_dropped: int = 0  # rows left out for a missing (NaN) time or value

    @property
    def case_id(self) -> str | None:
        return None if self.context is None else self.context.id


def _is_case(obj) -> bool:
    return hasattr(obj, "series") and hasattr(obj, "timeline") and hasattr(obj, "key_dates")


def _case_events(case, origin) -> pd.DataFrame:
    tl = case.timeline
    cols = list(_EVENT_COLUMNS)
    if origin is None or tl.empty:
        return pd.DataFrame(columns=cols)
    ev = tl[["date", "kind", "actor", "description"]].copy()
    ev["t"] = (ev["date"] - origin) / pd.Timedelta(days=1)
    return ev[cols].reset_index(drop=True)


def _weight_value(level, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ParameterError(
            f"the weight of confidence level {level!r} must be a number, not {v!r}"
        )
    if not np.isfinite(v) or v <= 0:
        raise ParameterError(f"confidence weights must be positive and finite; {level!r} has {v!r}")
    return float(v)


def _weights_from(weights, obs: pd.DataFrame) -> tuple[np.ndarray, str]:
    n = len(obs)
    if weights is None:
        return np.ones(n), "none"
    if isinstance(weights, str):
        if weights != "confidence":
            raise ParameterError(
                f"weights must be None, 'confidence', a mapping of confidence "
                f"to weight, or an array; not {weights!r}"
            )
        weights = CONFIDENCE_WEIGHTS
        label = "confidence"
    elif isinstance(weights, Mapping):
        weights = {k: _weight_value(k, v) for k, v in weights.items()}
        label = "confidence(" + ", ".join(f"{k}={v:g}" for k, v in weights.items()) + ")"
    else:
        try:
            w = np.asarray(weights, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError(
                f"weights must be None, 'confidence', a mapping of confidence "
                f"to weight, or an array of numbers; not {weights!r}"
            ) from None
        if w.shape != (n,):
            raise ParameterError(f"weights has shape {w.shape}; expected one per observation ({n})")
        if not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise ParameterError("weights must be positive and finite")
        return w, "user"
    conf = obs["confidence"].fillna("unverified").astype(str)
    unknown = sorted(set(conf) - set(weights))
    if unknown:
        raise ParameterError(f"no weight for confidence level(s) {unknown}")
    w = conf.map(dict(weights)).to_numpy(dtype=float)
    return w, label


def _check_kinds(kinds) -> tuple[str, ...]:
    if isinstance(kinds, str):
        kinds = (kinds,)
    try:
        kinds = tuple(kinds)
    except TypeError:
        raise ParameterError(
            f"kinds must be figure kinds such as ('observed', 'reported'), not {kinds!r}"
        ) from None
    bad = [k for k in kinds if k not in FIGURE_KINDS]
    if bad or not kinds:
        raise ParameterError(
            f"kinds must be among {', '.join(FIGURE_KINDS)}; "
            f"got {', '.join(map(repr, bad)) or 'none'}"
        )
    return kinds


def _check_metric(case, metric) -> None:
    if metric not in case.metrics:
        raise ParameterError(
            f"case {case.id!r} has no reach metric {metric!r}; "
            f"it has: {', '.join(case.metrics) or '(none)'}"
        )


def _prepare(
    data,
    *,
    metric=None,
    t=None,
    kinds=("observed", "reported"),
    weights=None,
    origin=None,
    min_confidence="unverified",
) -> _Prepared:
    kinds = _check_kinds(kinds)
    if min_confidence not in CONFIDENCES:
        raise ParameterError(
            f"min_confidence must be one of {', '.join(CONFIDENCES)}, not {min_confidence!r}"
        )
    context = None
    events = pd.DataFrame(columns=list(_EVENT_COLUMNS))
    if _is_case(data):
        case = data
        context = getattr(case, "context", None)
        if metric is None:
            metric = getattr(case, "analysis", {}).get("metric")
        if metric is None:
            fittable = _fittable_metrics(case, kinds)
            if not fittable:
                from casekit.reach.describe import describe  # describe builds on this module

                raise InsufficientDataError(describe(case, kinds=kinds).explanation)
            metric = fittable[0]
        _check_metric(case, metric)
        s = case.series(metric, kinds=kinds, min_confidence=min_confidence)
        if s.empty:
            raise InsufficientDataError(
                f"{case.id}: metric {metric!r} has no figures of kind {', '.join(kinds)}; "
                f"a growth curve needs dated observations"
            )
        if not s["cumulative"].astype(bool).all():
            raise InsufficientDataError(
                f"{case.id}: metric {metric!r} is not cumulative (its figures are per-period or "
                f"point-in-time counts such as readership), so a growth curve of cumulative reach "
                f"does not describe it"
            )
        origin = case.origin if origin is None else _timestamp(origin)
        if origin is None:
            raise InsufficientDataError(
                f"{case.id}: the origin key date ({case.origin_key}) is unknown, so the "
                f"observations cannot be placed in days since the story went public"
            )
        tt = (s["time"] - origin) / pd.Timedelta(days=1)
        obs = pd.DataFrame(
            {
                "t": tt.to_numpy(dtype=float),
                "time": s["time"].to_numpy(),
                "y": s["value"].to_numpy(dtype=float),
                "source": s["source"].astype(str).to_numpy(),
                "confidence": s["confidence"].astype(str).to_numpy(),
                "qualifier": s["qualifier"].astype(str).to_numpy(),
                "kind": s["kind"].astype(str).to_numpy(),
                "quote": s["quote"].astype(object).where(s["quote"].notna(), None).to_numpy(),
            }
        )
        events = _case_events(case, origin)
    else:
        origin = None if origin is None else _timestamp(origin)
        obs, origin, metric = _plain_observations(data, t, metric, origin)
    w, wlabel = _weights_from(weights, obs)  # in the order the data were given
    t_arr = obs["t"].to_numpy(dtype=float)
    idx = np.nonzero(np.isfinite(t_arr) & np.isfinite(obs["y"].to_numpy(dtype=float)))[0]
    idx = idx[np.argsort(t_arr[idx], kind="stable")]
    cols = {c: obs[c].to_numpy()[idx] for c in obs.columns}
    cols["weight"] = w[idx]
    obs = pd.DataFrame({c: cols[c] for c in _OBS_COLUMNS})
    return _Prepared(
        obs=obs,
        origin=origin,
        context=context,
        metric=metric,
        events=events,
        weights=wlabel,
        n_dropped=int(len(t_arr) - len(idx)),
    )


def _timestamp(value) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ParameterError(f"origin must be a date such as '2009-07-06', not {value!r}") from None
    if ts is pd.NaT:
        raise ParameterError(f"origin must be a date such as '2009-07-06', not {value!r}")
    return ts


def _plain_observations(data, t, metric, origin):
    """The observation table of a Series, a DataFrame or an array, its origin and metric."""
    if isinstance(data, pd.DataFrame):
        df = data
        ycol = next((c for c in ("value", "y") if c in df.columns), None)
        if ycol is None:
            raise ParameterError(
                f"a DataFrame needs a 'value' (or 'y') column; it has "
                f"{', '.join(map(str, df.columns)) or 'none'}"
            )
        if t is not None:
            tt = t
        elif "t" in df.columns and df["t"].notna().all():
            tt = df["t"]
        elif "time" in df.columns:
            tt = df["time"]
        else:
            raise ParameterError("a DataFrame needs a 't' (days) or 'time' column, or pass t=")
        y = _floats(df[ycol], "the values")
        extra = {
            c: df[c].to_numpy()
            for c in ("source", "confidence", "qualifier", "kind", "quote")
            if c in df.columns
        }
    elif isinstance(data, pd.Series):
        tt = data.index if t is None else t
        y = _floats(data, "the values")
        extra = {}
        if metric is None and data.name is not None:
            metric = str(data.name)
    else:
        if t is None:
            raise ParameterError("pass the times with t= when data is a plain array")
        tt = t
        y = _floats(data, "data").ravel()
        extra = {}
    tt_arr, time_arr, origin = _to_days(tt, origin)
    if len(tt_arr) != len(y):
        raise ParameterError(f"{len(tt_arr)} times but {len(y)} values")
    n = len(y)
    obs = pd.DataFrame(
        {
            "t": tt_arr,
            "time": time_arr,
            "y": y,
            "source": extra.get("source", np.full(n, "data", dtype=object)),
            "confidence": extra.get("confidence", np.full(n, "high", dtype=object)),
            "qualifier": extra.get("qualifier", np.full(n, "exact", dtype=object)),
            "kind": extra.get("kind", np.full(n, "observed", dtype=object)),
            "quote": extra.get("quote", np.full(n, None, dtype=object)),
        }
    )
    return obs, origin, metric


def _floats(values, what: str) -> np.ndarray:
    try:
        if isinstance(values, pd.Series):
            return values.to_numpy(dtype=float)
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{what} must be numbers") from None


def _to_days(tt, origin):
    """Times as float days since origin, the matching timestamps, and the origin."""
    if isinstance(tt, (pd.DatetimeIndex, pd.Series)) and pd.api.types.is_datetime64_any_dtype(tt):
        times = pd.DatetimeIndex(tt)
        if origin is None:
            origin = times.min().normalize()
        days = ((times - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float)
        return days, times.to_numpy(), origin
    arr = np.asarray(tt)
    if np.issubdtype(arr.dtype, np.datetime64):
        return _to_days(pd.DatetimeIndex(arr), origin)
    try:
        days = arr.astype(float)
    except (TypeError, ValueError):
        raise ParameterError(
            "the times must be numbers of days since the origin, or "
            "datetimes (pandas.to_datetime turns text into dates)"
        ) from None
    if origin is not None:
        times = (origin + pd.to_timedelta(days, unit="D")).round("s").to_numpy()
    else:
        times = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
    return days, times, origin


def _fittable_metrics(case, kinds=("observed", "reported"), min_n: int = 4) -> list[str]:
    out = []
    for m in case.metrics:
        s = case.series(m, kinds=kinds)
        if len(s) >= min_n and s["cumulative"].astype(bool).all() and case.origin is not None:
            out.append(m)
    return out
