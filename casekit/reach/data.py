"""The inputs of a fit, made into one table of observations.

A case's metric, a Series, a DataFrame or plain arrays all become the same
observation table (``t, time, y, weight, source, confidence, qualifier, kind, quote``),
sorted by time, with the weights the caller asked for.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from casekit.cases import CONFIDENCES, FIGURE_KINDS, CaseContext
from casekit.exceptions import InsufficientDataError, ParameterError

__all__ = ["CONFIDENCE_WEIGHTS", "MAX_DAYS", "MAX_VALUE", "NOISE_BELOW_ZERO"]

CONFIDENCE_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"high": 1.0, "medium": 0.5, "low": 0.25, "unverified": 0.1}
)
"""Default weights for ``weights="confidence"`` (pass a mapping to override)."""

MAX_VALUE = 1e100
"""The largest observation :func:`~casekit.reach.fit` accepts.

Larger values overflow float arithmetic in the covariance and fit statistics (squares of
the residuals), so they are refused with a ParameterError rather than fitted badly."""

NOISE_BELOW_ZERO = 0.1
"""How far below 0, as a share of the largest value, an observation may be.

A cumulative count cannot be negative, but with additive measurement noise (the ``ols``
and ``robust`` losses) the first observations of a curve that starts near 0 can come
out slightly below it. Deeper values are data errors and are refused; the fit's notes
list the shallow ones it kept."""

MAX_DAYS = 1e6
"""The largest distance from the origin, in days (about 2,700 years), of an observation
time :func:`~casekit.reach.fit` accepts; farther times make the curve's time scale
numerically meaningless."""

_OBS_COLUMNS = ("t", "time", "y", "weight", "source", "confidence", "qualifier", "kind", "quote")
_EVENT_COLUMNS = ("t", "date", "kind", "actor", "description")
_NO_EVENTS = pd.DataFrame(columns=list(_EVENT_COLUMNS))  # copied (cheaply) for data without events


class ObsField:
    """The ``obs`` field of a (frozen) dataclass: the observation table, built when first read.

    The field takes a DataFrame or a dict of equal-length column arrays (in column order);
    a dict becomes a DataFrame the first time the field is read. A fit needs only the
    arrays (:func:`obs_array`), and building a table of 50 rows costs as much as a
    logistic fit's arithmetic.
    """

    _slot = "_obs_raw"  # where the instance keeps what it was given (read by obs_array)

    def __get__(self, obj, owner=None):
        if obj is None:  # dataclasses look for a default here: there is none
            raise AttributeError(self._slot)
        raw = obj.__dict__[self._slot]
        if not isinstance(raw, pd.DataFrame):
            raw = obj.__dict__[self._slot] = pd.DataFrame(raw)
        return raw

    def __set__(self, obj, value):
        obj.__dict__[self._slot] = value


def obs_array(obj, column: str) -> np.ndarray:
    """Column ``column`` of ``obj.obs`` (an :class:`ObsField`) as floats, without building
    the table."""
    col = obj.__dict__[ObsField._slot][column]
    return col.to_numpy(dtype=float) if isinstance(col, pd.Series) else np.asarray(col, float)


def obs_columns(obj):
    """``obj.obs`` as it is held: a DataFrame, or a dict of column arrays."""
    return obj.__dict__[ObsField._slot]


def obs_rows(obj) -> int:
    """The number of observations in ``obj.obs``, without building the table."""
    raw = obj.__dict__[ObsField._slot]
    return len(raw) if isinstance(raw, pd.DataFrame) else len(raw["t"])


@dataclass(frozen=True)
class _Prepared:
    obs: pd.DataFrame = ObsField()  # t, time, y, weight, source, confidence, qualifier, kind, quote
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


def _weights_from(weights, cols: Mapping[str, np.ndarray]) -> tuple[np.ndarray, str]:
    """One weight per observation (columns ``cols`` of the observation table) and its label."""
    n = len(cols["y"])
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
    conf = ["unverified" if pd.isna(c) else str(c) for c in cols["confidence"]]
    unknown = sorted(set(conf) - set(weights))
    if unknown:
        raise ParameterError(f"no weight for confidence level(s) {unknown}")
    return np.array([weights[c] for c in conf], dtype=float), label


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
    events = _NO_EVENTS.copy(deep=False)
    if _is_case(data):
        case = data
        context = getattr(case, "context", None)
        if metric is None:
            metric = getattr(case, "analysis", {}).get("metric")
        if metric is None:
            fittable = _fittable_metrics(case, kinds, per_period=True)
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
        cum = s["cumulative"].astype(bool)
        if not cum.all() and cum.any():
            raise InsufficientDataError(
                f"{case.id}: metric {metric!r} mixes cumulative and per-period figures; "
                "split it into two metrics (one curve cannot read a row both ways)"
            )
        origin = case.origin if origin is None else _timestamp(origin)
        if origin is None:
            raise InsufficientDataError(
                f"{case.id}: the origin key date ({case.origin_key}) is unknown, so the "
                f"observations cannot be placed in days since the story went public"
            )
        t_days = ((s["time"] - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float)
        cols = {
            "t": t_days,
            "time": s["time"].to_numpy(),
            "y": s["value"].to_numpy(dtype=float),
            "source": s["source"].astype(str).to_numpy(),
            "confidence": s["confidence"].astype(str).to_numpy(),
            "qualifier": s["qualifier"].astype(str).to_numpy(),
            "kind": s["kind"].astype(str).to_numpy(),
            "quote": s["quote"].astype(object).where(s["quote"].notna(), None).to_numpy(),
        }
        if not cum.any():
            cols["period_days"] = _periods(s, t_days)
        events = _case_events(case, origin)
    else:
        origin = None if origin is None else _timestamp(origin)
        cols, origin, metric = _plain_observations(data, t, metric, origin)
    where = f"{context.id}: " if context is not None else ""
    t_arr, y_arr = cols["t"], cols["y"]
    _check_values(t_arr, y_arr, where)
    cols["weight"], wlabel = _weights_from(weights, cols)  # in the order the data were given
    idx = np.nonzero(np.isfinite(t_arr) & np.isfinite(y_arr))[0]
    idx = idx[np.argsort(t_arr[idx], kind="stable")]
    per_period = "period_days" in cols
    if not per_period:  # constant per-period counts are growth of the cumulative curve
        _check_growth(y_arr[idx], where, metric)
    order = _OBS_COLUMNS + (("period_days",) if per_period else ())
    if len(idx) == len(t_arr) and np.array_equal(idx, np.arange(len(idx))):
        cols = {c: v.copy() for c, v in cols.items()}  # never the caller's arrays
    else:
        cols = {c: v[idx] for c, v in cols.items()}  # time order, rows without data left out
    return _Prepared(
        obs={c: cols[c] for c in order},
        origin=origin,
        context=context,
        metric=metric,
        events=events,
        weights=wlabel,
        n_dropped=int(len(t_arr) - len(idx)),
    )


def _check_values(t: np.ndarray, y: np.ndarray, where: str) -> None:
    """ParameterError naming the first observation (0-based position, in the order given)
    whose time or value is infinite, out of range, or (for a value) negative.

    NaN is not an error: it marks a missing time or value, and the row is left out
    (the fit's notes say how many).
    """

    def first(mask) -> int:
        return int(np.flatnonzero(mask)[0])

    with np.errstate(invalid="ignore"):
        if np.isinf(t).any():
            i = first(np.isinf(t))
            raise ParameterError(
                f"{where}time t[{i}] is {t[i]}: times must be finite numbers of days "
                "(NaN marks a missing one, which is left out)"
            )
        if np.isinf(y).any():
            i = first(np.isinf(y))
            raise ParameterError(
                f"{where}value y[{i}] (at t = {t[i]:g}) is {y[i]}: values must be finite "
                "(NaN marks a missing one, which is left out)"
            )
        neg = y < 0
        if neg.any():
            top = float(np.nanmax(y))
            deep = neg & ~(y >= -NOISE_BELOW_ZERO * top)
            if deep.any():
                i = first(deep)
                raise ParameterError(
                    f"{where}value y[{i}] (at t = {t[i]:g}) is {y[i]:g}: cumulative reach is "
                    "a count and cannot be negative (supported range: 0 to "
                    f"{MAX_VALUE:g}; values just below 0, down to "
                    f"-{NOISE_BELOW_ZERO:.0%} of the largest, are taken as measurement noise)"
                )
        if (y > MAX_VALUE).any():
            i = first(y > MAX_VALUE)
            raise ParameterError(
                f"{where}value y[{i}] (at t = {t[i]:g}) is {y[i]:g}: larger than "
                f"{MAX_VALUE:g}, beyond the supported range (0 to {MAX_VALUE:g}) in which "
                "the fit's arithmetic does not overflow; rescale the data (e.g. to millions)"
            )
        if (np.abs(t) > MAX_DAYS).any():
            i = first(np.abs(t) > MAX_DAYS)
            raise ParameterError(
                f"{where}time t[{i}] is {t[i]:g} days from the origin, beyond the supported "
                f"range (-{MAX_DAYS:g} to {MAX_DAYS:g} days); check the times and the origin"
            )


def _check_growth(y: np.ndarray, where: str, metric) -> None:
    """InsufficientDataError when the kept values cannot show growth: all 0, or all equal.

    A growth curve fitted to a flat series is not identified (any rate fits, with the
    midpoint pushed far before the data), so it is refused rather than returned with
    nonsense milestones such as a 90 % time before the first observation.
    """
    n = len(y)
    if n < 2 or np.ptp(y) > 0:
        return  # too few points is reported by the fitter with the curve's parameter count
    what = metric or "y"
    if y[0] == 0:
        raise InsufficientDataError(
            f"{where}all {n} values of {what} are 0: there is no reach to fit a growth curve to"
        )
    raise InsufficientDataError(
        f"{where}all {n} values of {what} are equal ({y[0]:g}): the data show no growth, "
        "so they cannot identify a growth curve's rate and timing, and none is fitted. "
        "Flat reach had stopped growing before the first observation, or never grew."
    )


def _timestamp(value) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ParameterError(f"origin must be a date such as '2024-03-04', not {value!r}") from None
    if ts is pd.NaT:
        raise ParameterError(f"origin must be a date such as '2024-03-04', not {value!r}")
    return ts


def _plain_observations(data, t, metric, origin):
    """The observation table's columns (arrays) for a Series, a DataFrame or an array, its
    origin and metric."""
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
    cols = {
        "t": np.asarray(tt_arr, dtype=float),
        "time": time_arr,
        "y": y,
        "source": extra.get("source", _text_column("data", n)),
        "confidence": extra.get("confidence", _text_column("high", n)),
        "qualifier": extra.get("qualifier", _text_column("exact", n)),
        "kind": extra.get("kind", _text_column("observed", n)),
        "quote": extra.get("quote", np.full(n, None, dtype=object)),
    }
    if isinstance(data, pd.DataFrame) and _states_periods(data):
        cols["period_days"] = _periods(data, cols["t"])
    return cols, origin, metric


@functools.lru_cache(maxsize=32)
def _text_column(text: str, n: int):
    """``n`` copies of ``text`` as a pandas string array (kept: the table built from it
    copies it, and building it costs more than the rest of a small table)."""
    return pd.Series(np.full(n, text, dtype=object)).array  # pandas' default text dtype


def _states_periods(data: pd.DataFrame) -> bool:
    """True when a frame holds per-period counts: a ``period_days`` column with a value,
    on rows that are not running totals (``Case.series`` gives every metric the column,
    NaN on running totals)."""
    if "period_days" not in data.columns or not data["period_days"].notna().any():
        return False
    return "cumulative" not in data.columns or not data["cumulative"].astype(bool).all()


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


def _fittable_metrics(
    case, kinds=("observed", "reported"), min_n: int = 4, per_period: bool = False
) -> list[str]:
    """Metrics a curve can be fitted to: cumulative ones, then (``per_period=True``) the
    metrics made only of per-period counts."""
    out, counts = [], []
    for m in case.metrics:
        s = case.series(m, kinds=kinds)
        if len(s) < min_n or case.origin is None:
            continue
        cum = s["cumulative"].astype(bool)
        if cum.all():
            out.append(m)
        elif per_period and not cum.any():
            counts.append(m)
    return out + counts


def _periods(s: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    """Length in days of each per-period count's period.

    A ``period_days`` column wins; else one day for a row dated to the day, else the gap
    to the previous row (the first row: the next gap). :func:`period_bounds` says where
    each period lies.
    """
    stated = (
        s["period_days"].to_numpy(dtype=float)
        if "period_days" in s.columns
        else np.full(len(t), np.nan)
    )
    if np.isfinite(stated).all():
        return stated
    prec = s["time_precision"].astype(str).to_numpy() if "time_precision" in s else None
    order = np.argsort(t, kind="stable")
    gaps = np.empty(len(t))
    d = np.diff(t[order])
    gaps[order] = np.concatenate([[d[0] if len(d) else 1.0], d])
    gaps = np.where(gaps > 0, gaps, 1.0)
    if prec is not None:
        gaps = np.where(prec == "day", 1.0, gaps)
    return np.where(np.isfinite(stated), stated, gaps)


def period_bounds(obs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (days since the origin) of each per-period count.

    A count dated to a whole day (an integral ``t``) covers ``[t, t + period]`` (the day,
    or the week, month... it opens); a count at a time of day covers the period that
    ends then, ``[t - period, t]``.
    """
    t = obs["t"].to_numpy(dtype=float)
    p = obs["period_days"].to_numpy(dtype=float)
    whole = np.isclose(t, np.round(t), rtol=0.0, atol=1e-9)
    start = np.where(whole, t, t - p)
    return start, start + p
