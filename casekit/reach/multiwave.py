"""Multi-wave curves: the sum of several waves of one base curve, optionally anchored
at dates or timeline events of a case."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np
import pandas as pd

from casekit.cases import EVENT_KINDS
from casekit.exceptions import FitError, InsufficientDataError, ParameterError
from casekit.reach.curves import CurveSpec, _get_spec, _half_time, _span

__all__ = ["multiwave"]


def _resolve_anchor(anchor, case, origin, after: float | None):
    """Days since origin of an anchor: a number, a date string, or a timeline event kind."""
    if anchor is None:
        return None
    if isinstance(anchor, (int, float, np.integer, np.floating)) and not isinstance(anchor, bool):
        return float(anchor)
    if isinstance(anchor, pd.Timestamp):
        when = anchor
    else:
        text = str(anchor)
        when = None
        if case is not None:
            if text in EVENT_KINDS:
                tl = case.timeline
                org = origin if origin is not None else case.origin
                tl = tl[tl["kind"] == text]
                if org is None:
                    raise InsufficientDataError(
                        f"cannot anchor a wave at event kind {text!r}: the case has no origin date"
                    )
                days = (tl["date"] - org) / pd.Timedelta(days=1)
                if after is not None:
                    days = days[days > after]
                else:
                    days = days[days > 0]
                if days.empty:
                    raise FitError(
                        f"case {case.id!r} has no {text!r} event after day "
                        f"{0 if after is None else after:g} to anchor a wave at"
                    )
                return float(days.min())
        try:
            when = pd.Timestamp(text)
        except (ValueError, TypeError):
            raise ParameterError(
                f"cannot read wave anchor {anchor!r}: give days since the "
                f"origin, a date such as '2009-08-18', or a timeline event kind "
                f"(with case=...)"
            ) from None
    org = origin if origin is not None else (None if case is None else case.origin)
    if org is None:
        raise InsufficientDataError(
            f"cannot place the wave anchor {anchor!r} in days: no origin date is known "
            f"(pass origin=... or a case with a going-public date)"
        )
    return float((when - pd.Timestamp(org)) / pd.Timedelta(days=1))


def multiwave(
    base: str | CurveSpec = "logistic",
    k: int = 2,
    anchors: Sequence | None = None,
    *,
    case=None,
    origin=None,
    window: tuple[float, float] = (-3.0, 60.0),
    name: str | None = None,
) -> CurveSpec:
    """A curve that is the sum of ``k`` waves of one base curve.

    ``y(t) = sum_i base(t; K_i, r_i, t0_i, ...)``: one saturation, rate and midpoint
    per wave, for stories that re-ignite (a second song, a wave of press).
    Saturation is ``sum_i K_i``. The peak time is the time of maximum total growth
    among the waves' own peak times (exact when the waves are well separated).
    Times to a share of the saturation are solved numerically.

    Parameters
    ----------
    base : str or CurveSpec
        A curve with a midpoint parameter ``t0`` (logistic, gompertz, richards).
    k : int
        Number of waves.
    anchors : sequence, optional
        One entry per wave: ``None`` (free), a number of days since the origin, a date
        (``"2009-08-18"``), or a timeline event kind (``"publication"``, ``"coverage"``;
        needs ``case``: the first such event after the previous anchor, or after day 0).
        An anchored wave's ``t0`` is bounded to ``[anchor + window[0], anchor + window[1]]``.
    case : Case, optional
        To resolve event kinds and dates (its origin).
    origin : date-like, optional
        The origin, if no case is given and anchors are dates.
    window : (float, float)
        Days before and after an anchor that its wave's midpoint may lie in.
    name : str, optional
        Registry name; default ``"<base>x<k>"`` plus the anchor days.

    Returns
    -------
    CurveSpec

    Examples
    --------
    >>> import casekit as ck
    >>> spec = ck.reach.multiwave("logistic", k=2, anchors=(None, 6.0))
    >>> spec.param_names
    ('K_1', 'r_1', 't0_1', 'K_2', 'r_2', 't0_2')
    >>> spec.bounds[5]
    (3.0, 66.0)
    """
    b = _get_spec(base)
    if "t0" not in b.param_names:
        raise ParameterError(
            f"multiwave needs a base curve with a midpoint parameter t0 "
            f"(logistic, gompertz, richards), not {b.name!r}"
        )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError(f"k must be a whole number of waves, at least 1, not {k!r}")
    k = int(k)
    try:
        ok = len(window) == 2 and float(window[0]) < float(window[1])
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ParameterError(
            f"window must be (days before, days after) an anchor, the first "
            f"smaller, e.g. (-3, 60); not {window!r}"
        )
    if isinstance(anchors, (str, bytes)):
        raise ParameterError(f"anchors must be a sequence with one entry per wave, not {anchors!r}")
    anchors = tuple(anchors) if anchors is not None else (None,) * k
    if len(anchors) != k:
        raise ParameterError(
            f"{k} waves but {len(anchors)} anchors; give one per wave (None = free)"
        )
    days: list[float | None] = []
    last = None
    for a in anchors:
        d = _resolve_anchor(a, case, origin, last)
        days.append(d)
        if d is not None:
            last = d
    pb = b.k
    i_t0 = b.param_names.index("t0")
    names = tuple(f"{n}_{i + 1}" for i in range(k) for n in b.param_names)
    bounds = []
    for i in range(k):
        for j, bd in enumerate(b.bounds):
            if j == i_t0 and days[i] is not None:
                bounds.append((days[i] + window[0], days[i] + window[1]))
            else:
                bounds.append(tuple(bd))
    f_base = b.f

    def f(t, *params):
        out = 0.0
        for i in range(k):
            out = out + f_base(t, *params[i * pb : (i + 1) * pb])
        return out

    def saturation(*params):
        return sum(b.saturation(*params[i * pb : (i + 1) * pb]) for i in range(k))

    def peak_time(*params):
        peaks = [
            np.asarray(b.peak_time(*params[i * pb : (i + 1) * pb]), dtype=float) for i in range(k)
        ]
        rates = []
        for pk in peaks:
            h = 1e-4 * np.maximum(1.0, np.abs(pk))
            rates.append((f(pk + h, *params) - f(pk - h, *params)) / (2 * h))
        peaks_a = np.stack(np.broadcast_arrays(*peaks))
        rates_a = np.stack(np.broadcast_arrays(*rates))
        idx = np.argmax(rates_a, axis=0)
        out = np.take_along_axis(peaks_a, idx[None, ...], axis=0)[0]
        return out if out.ndim else float(out)

    i_rate = b.param_names.index(b.rate_param)
    i_scale = [b.param_names.index(n) for n in b.scale_params]

    def p0(t, y):
        # Decompose the data into k segments around wave centres (anchors, or spread over
        # the data); each wave starts with the rise of the data over its segment.
        t = np.asarray(t, dtype=float)
        order = np.argsort(t, kind="stable")
        ts, ys = t[order], np.maximum.accumulate(np.asarray(y, dtype=float)[order])
        ymax = float(ys[-1])
        base0 = [float(v) for v in b.p0(t, y)[0]]
        span = _span(ts)
        free = [i for i in range(k) if days[i] is None]
        nf = len(free)
        t_lo = ts[0] if ts[0] > 0 else max(1e-3 * span, ts[ts > 0][0] if (ts > 0).any() else 1.0)
        layouts = []
        if nf:
            layouts.append(list(np.geomspace(t_lo, ts[-1], nf)) if nf > 1 else [t_lo])
            fr = [(j + 0.5) / nf for j in range(nf)]
            layouts.append([_half_time(ts, ys, f) for f in fr])
            layouts.append([_half_time(ts, ys, f) for f in np.linspace(0.3, 0.9, nf)])
        else:
            layouts.append([])
        out = []
        for shift in (2.0, 10.0):
            for lay in layouts:
                centres = np.empty(k)
                for j, i in enumerate(free):
                    centres[i] = lay[j]
                for i in range(k):
                    if days[i] is not None:
                        lo_b, hi_b = bounds[i * pb + i_t0]
                        centres[i] = min(max(days[i] + shift, lo_b), hi_b)
                idx = np.argsort(centres, kind="stable")
                c = centres[idx]
                cuts = []
                for j in range(k - 1):
                    a_, b2 = c[j], c[j + 1]
                    cuts.append(math.sqrt(a_ * b2) if a_ > 0 and b2 > 0 else 0.5 * (a_ + b2))
                edges = [-np.inf] + cuts + [np.inf]
                level = [0.0] + [float(np.interp(x, ts, ys)) for x in cuts] + [1.1 * ymax]
                start = [0.0] * (k * pb)
                for j in range(k):
                    i = int(idx[j])
                    K_i = max(level[j + 1] - level[j], 0.02 * ymax)
                    if np.isfinite(edges[j]) and np.isfinite(edges[j + 1]):
                        width = edges[j + 1] - edges[j]
                    elif np.isfinite(edges[j + 1]):
                        width = 2.0 * (edges[j + 1] - c[j])
                    elif np.isfinite(edges[j]):
                        width = 2.0 * (c[j] - edges[j])
                    else:
                        width = span
                    w = list(base0)
                    for js in i_scale:
                        w[js] = K_i
                    w[i_rate] = 2.0 * math.log(9.0) / max(width, 1e-6 * span, 1e-9)
                    w[i_t0] = c[j]
                    start[i * pb : (i + 1) * pb] = w
                out.append(start)
        return out

    anchor_txt = ",".join("free" if d is None else f"{d:g}" for d in days)
    spec = CurveSpec(
        name=name or f"{b.name}x{k}" + ("" if all(d is None for d in days) else f"[{anchor_txt}]"),
        param_names=names,
        bounds=tuple(bounds),
        f=f,
        p0=p0,
        saturation=saturation,
        peak_time=peak_time,
        share_time=None,
        rate_param=f"{b.rate_param}_1",
        scale_params=tuple(f"{s}_{i + 1}" for i in range(k) for s in b.scale_params),
        formula=" + ".join(f"wave{i + 1}" for i in range(k)) + f", each {b.formula}",
        description=f"{k} {b.name} waves (anchors in days: {anchor_txt})",
        definition=MappingProxyType(
            {"base": b.name, "k": k, "anchors": list(days), "window": list(window), "name": name}
        ),
        doc=(
            f"Sum of {k} {b.name} waves: y = sum_i {b.formula} with wave i's own "
            f"parameters ({', '.join(b.param_names)})_i. Anchors (days since origin): "
            f"{anchor_txt}; an anchored wave's t0 lies within {window[0]:g}..{window[1]:g} "
            f"days of its anchor. Saturation = sum of the waves' saturations. Peak growth: "
            f"the wave peak (each wave's own peak time) with the largest total growth rate "
            f"(exact for well-separated waves). Times to a share of the saturation are "
            f"solved numerically.\n\nBase curve: {b.doc}"
        ),
    )
    return spec


def _spec_from_definition(name: str, definition: Mapping | None) -> CurveSpec:
    if definition:
        return multiwave(
            definition["base"],
            definition["k"],
            tuple(definition["anchors"]),
            window=tuple(definition["window"]),
            name=definition.get("name"),
        )
    return _get_spec(name)
