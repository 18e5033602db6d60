"""Reach over time: growth curves fitted to sparse, conflicting milestones.

A case's reach data are rarely a tidy daily series. They are a few dozen
cumulative milestones at irregular times, often several that disagree for the
same day (United Breaks Guitars), a dozen time-stamped counts over a few days
(the Wiesenhof protest group), or nothing that can be fitted at all (Range
Rover: outlet readership only). This module fits growth curves to such data
with honest uncertainty, and says plainly when the data cannot support a fit.

* :data:`CURVES` is a registry of declarative :class:`CurveSpec` objects
  (logistic, gompertz, richards, bass, expsat); :func:`register_curve` adds one,
  :func:`multiwave` builds a sum of waves, optionally anchored at timeline events.
* :func:`fit` is the one generic fitter. It takes a :class:`~casekit.Case` plus
  a metric, a pandas Series/DataFrame, or plain arrays, and returns an
  immutable :class:`ReachFit`.
* :func:`compare` fits several curves to one series and ranks them by AICc.
* :func:`describe` summarises data that cannot be fitted (:class:`DescriptiveReach`).

Time ``t`` is in days since the case's origin (by default its ``going_public``
key date). Conflicting same-day figures are all kept: the robust losses and
confidence weights are the tools for them. Figures qualified "more than",
"nearly", "about" or "up to" are treated as point observations; the plot marks
them with their own marker shapes (triangle up for "more than", down for "nearly"
and "up to", diamond for "about"). A figure dated to a month, a range or
"approximately" is placed at the start of its stated period, as the case loader
dates it.

Examples
--------
>>> import casekit as ck
>>> case = ck.load_case("synthetic-example")
>>> res = ck.reach.fit(case, "logistic", metric="video_views")
>>> res
<casekit.ReachFit logistic case='synthetic-example' metric='video_views' loss=ols n=28>
>>> res.params.round(2).to_dict()
{'K': 125090.11, 'r': 0.88, 't0': 3.06}
>>> round(res.time_to_share(0.9)["estimate"], 1)
5.6
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from casekit.exceptions import FitError, InsufficientDataError

__all__ = [
    "CurveSpec",
    "CURVES",
    "register_curve",
    "multiwave",
    "fit",
    "compare",
    "case_curves",
    "describe",
    "ReachFit",
    "Comparison",
    "DescriptiveReach",
    "CONFIDENCE_WEIGHTS",
    "LOSSES",
    "PRED_COLUMNS",
    "SUMMARY_COLUMNS",
    "DEFAULT_CURVES",
    "normalised",
    "NORMALISED_COLUMNS",
]

CONFIDENCE_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"high": 1.0, "medium": 0.5, "low": 0.25, "unverified": 0.1})
"""Default weights for ``weights="confidence"`` (pass a mapping to override)."""

LOSSES = ("ols", "log", "robust", "robust_log")
"""Losses :func:`fit` accepts.

``ols``: least squares on the observed scale. ``log``: least squares on
log(y), for counts spanning orders of magnitude (a multiplicative error model).
``robust``: Huber loss on the observed scale; ``robust_log``: Huber loss on
log(y). The Huber threshold ``f_scale`` defaults to 1.345 robust standard
deviations (1.4826 x the median absolute residual of the least-squares fit on
the same scale). With a robust loss the standard errors are approximate (from
the iteratively reweighted least-squares weights at the solution); check them
with ``conf_int(method="bootstrap")``.
"""

PRED_COLUMNS = ("t", "time", "yhat", "yhat_lower", "yhat_upper")
"""Columns of :meth:`ReachFit.predict`."""

SUMMARY_COLUMNS = ("kind", "estimate", "std_err", "lower", "upper")
"""Columns of :attr:`ReachFit.summary`."""

DEFAULT_CURVES = ("logistic", "gompertz", "richards", "bass", "expsat")
"""The curves :func:`compare` fits unless told otherwise."""

_TINY = 1e-300
_EXP_MAX = 700.0


# ---------------------------------------------------------------------------
# curve specs
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CurveSpec:
    """A growth curve, declared as data.

    Parameters
    ----------
    name : str
        Registry key.
    param_names : tuple of str
        Parameter names, in the order ``f`` takes them.
    bounds : tuple of (float, float)
        Lower and upper bound per parameter (``-inf``/``inf`` for none).
    f : callable
        ``f(t, *params)``: cumulative reach at ``t`` (days). Must broadcast over
        numpy arrays (params may be arrays of shape ``(B, 1)``), emit no warnings,
        and increase in ``t`` for admissible parameters.
    p0 : callable
        ``p0(t, y)``: a list of starting parameter vectors derived from the data.
    saturation : callable
        ``saturation(*params)``: the asymptote (final reach).
    peak_time : callable
        ``peak_time(*params)``: the time of maximum growth (the inflection).
    rate_param : str
        The parameter an intervention would damp (``r`` for logistic, ``q`` for Bass).
    formula : str
        The formula in plain text.
    scale_params : tuple of str
        Parameters proportional to ``y`` (the asymptote): the fitter rescales
        them internally for numerical stability.
    share_time : callable or None
        ``share_time(share, *params)``: time at which ``share`` of the saturation is
        reached; ``None`` solves numerically (bisection).
    description : str
        One line for tables.
    definition : mapping
        How to rebuild a generated spec (used by :func:`multiwave`); empty otherwise.
    doc : str
        The curve's documentation: formula, parameters, peak (maximum growth) time and
        time to a share of the saturation.
    """

    name: str
    param_names: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]
    f: Callable[..., np.ndarray]
    p0: Callable[[np.ndarray, np.ndarray], list[Sequence[float]]]
    saturation: Callable[..., Any]
    peak_time: Callable[..., Any]
    rate_param: str
    formula: str
    scale_params: tuple[str, ...] = ()
    share_time: Callable[..., Any] | None = None
    description: str = ""
    definition: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    doc: str = ""

    def __post_init__(self):
        p = len(self.param_names)
        if len(self.bounds) != p:
            raise ValueError(f"curve {self.name!r}: {p} parameters but {len(self.bounds)} bounds")
        if self.rate_param not in self.param_names:
            raise ValueError(f"curve {self.name!r}: rate_param {self.rate_param!r} is not a "
                             f"parameter")
        for s in self.scale_params:
            if s not in self.param_names:
                raise ValueError(f"curve {self.name!r}: scale parameter {s!r} is not a parameter")

    @property
    def k(self) -> int:
        """Number of curve parameters."""
        return len(self.param_names)

    def __call__(self, t, *params):
        return self.f(np.asarray(t, dtype=float), *params)


def _clip_exp(z):
    return np.exp(np.clip(z, -_EXP_MAX, _EXP_MAX))


def _half_time(t, y, frac=0.5):
    """Time at which y first reaches ``frac`` of its maximum (linear interpolation)."""
    target = frac * np.max(y)
    idx = np.nonzero(y >= target)[0]
    i = int(idx[0]) if idx.size else len(y) - 1
    if i == 0:
        return float(t[0])
    t1, t2, y1, y2 = t[i - 1], t[i], y[i - 1], y[i]
    return float(t1 + (target - y1) * (t2 - t1) / (y2 - y1)) if y2 != y1 else float(t2)


def _linearised_rate(t, y, K, transform):
    """Slope and intercept of transform(y/K) on t, for points strictly inside (0, K)."""
    p = y / K
    m = (p > 1e-6) & (p < 1 - 1e-6)
    if m.sum() < 2 or np.ptp(t[m]) == 0:
        return None
    z = transform(p[m])
    slope, intercept = np.polyfit(t[m], z, 1)
    if not np.isfinite(slope) or slope <= 0:
        return None
    return float(slope), float(intercept)


def _span(t):
    s = float(np.ptp(t))
    return s if s > 0 else 1.0


def _sigmoid_starts(t, y, transform):
    """Starting points (K, r, t0) for a sigmoid whose linearisation is ``transform``."""
    ymax = float(np.max(y))
    th = _half_time(t, y)
    out = []
    for mult in (1.1, 1.5, 3.0):
        K = ymax * mult
        lin = _linearised_rate(t, y, K, transform)
        if lin is not None:
            r, b = lin
            out.append([K, r, -b / r])
        else:
            out.append([K, 4.0 / _span(t), th])
    out.append([ymax * 1.05, 8.0 / _span(t), th])
    return out


def _logit(p):
    return np.log(p / (1 - p))


def _cloglog_neg(p):  # gompertz: -log(-log p) = r (t - t0)
    return -np.log(-np.log(p))


# logistic ------------------------------------------------------------------

def _logistic(t, K, r, t0):
    return K * special.expit(r * (t - t0))


def _logistic_share(s, K, r, t0):
    return t0 + np.log(s / (1 - s)) / r


LOGISTIC = CurveSpec(
    name="logistic",
    param_names=("K", "r", "t0"),
    bounds=((0.0, np.inf), (0.0, np.inf), (-np.inf, np.inf)),
    f=_logistic,
    p0=lambda t, y: _sigmoid_starts(t, y, _logit),
    saturation=lambda K, r, t0: K,
    peak_time=lambda K, r, t0: t0,
    share_time=_logistic_share,
    rate_param="r",
    scale_params=("K",),
    formula="K / (1 + exp(-r (t - t0)))",
    description="symmetric S-curve; peak growth at t0 (half of K)",
    doc="""Logistic: ``y = K / (1 + exp(-r (t - t0)))``.

K is the saturation, r the growth rate per day, t0 the midpoint. Peak growth
(maximum dy/dt = K r / 4) at ``t = t0``, where ``y = K / 2``. Time to a share s
of K: ``t0 + log(s / (1 - s)) / r``. Same curve as R's ``SSlogis(t, Asym, xmid,
scal)`` with Asym = K, xmid = t0, scal = 1 / r.
""",
)


# gompertz ------------------------------------------------------------------

def _gompertz(t, K, r, t0):
    return K * np.exp(-_clip_exp(-r * (t - t0)))


def _gompertz_share(s, K, r, t0):
    return t0 - np.log(-np.log(s)) / r


GOMPERTZ = CurveSpec(
    name="gompertz",
    param_names=("K", "r", "t0"),
    bounds=((0.0, np.inf), (0.0, np.inf), (-np.inf, np.inf)),
    f=_gompertz,
    p0=lambda t, y: _sigmoid_starts(t, y, _cloglog_neg),
    saturation=lambda K, r, t0: K,
    peak_time=lambda K, r, t0: t0,
    share_time=_gompertz_share,
    rate_param="r",
    scale_params=("K",),
    formula="K exp(-exp(-r (t - t0)))",
    description="asymmetric S-curve, fast start and long tail; peak at t0 (K/e)",
    doc="""Gompertz: ``y = K exp(-exp(-r (t - t0)))``.

Peak growth at ``t = t0``, where ``y = K / e`` (37 % of K). Time to a share s:
``t0 - log(-log s) / r``. Same curve as R's ``SSgompertz(t, Asym, b2, b3)`` =
``Asym exp(-b2 b3^t)`` with Asym = K, b2 = exp(r t0), b3 = exp(-r).
""",
)


# richards ------------------------------------------------------------------

def _richards(t, K, r, t0, nu):
    # K (1 + e^z)^(-1/nu) with z = -r (t - t0), computed as exp(-softplus(z) / nu)
    return K * np.exp(-np.logaddexp(0.0, -r * (t - t0)) / nu)


def _richards_share(s, K, r, t0, nu):
    return t0 - np.log(s ** (-nu) - 1.0) / r


def _richards_starts(t, y):
    out = []
    for K, r, t0 in _sigmoid_starts(t, y, _logit)[:3]:
        for nu in (1.0, 0.3, 3.0):
            out.append([K, r, t0, nu])
    return out


RICHARDS = CurveSpec(
    name="richards",
    param_names=("K", "r", "t0", "nu"),
    bounds=((0.0, np.inf), (0.0, np.inf), (-np.inf, np.inf), (1e-3, 100.0)),
    f=_richards,
    p0=_richards_starts,
    saturation=lambda K, r, t0, nu: K,
    peak_time=lambda K, r, t0, nu: t0 - np.log(nu) / r,
    share_time=_richards_share,
    rate_param="r",
    scale_params=("K",),
    formula="K / (1 + exp(-r (t - t0)))^(1/nu)",
    description="generalised logistic; nu = 1 is the logistic, nu -> 0 the Gompertz",
    doc="""Richards (generalised logistic): ``y = K / (1 + exp(-r (t - t0)))^(1/nu)``.

nu = 1 gives the logistic, nu -> 0 the Gompertz. Peak growth at
``t = t0 - log(nu) / r``. Time to a share s: ``t0 - log(s^(-nu) - 1) / r``.
""",
)


# bass ------------------------------------------------------------------------

def _bass(t, m, p, q):
    a = (p + q) * t
    e = _clip_exp(-np.clip(a, -50.0, None))
    return m * (1.0 - e) / (1.0 + (q / np.maximum(p, _TINY)) * e)


def _bass_peak(m, p, q):
    return np.where(q > p, np.log(np.maximum(q, _TINY) / np.maximum(p, _TINY)) / (p + q), 0.0)


def _bass_share(s, m, p, q):
    x = (1.0 - s) / (1.0 + s * q / np.maximum(p, _TINY))
    return -np.log(x) / (p + q)


def _bass_starts(t, y):
    ymax = float(np.max(y))
    th = max(_half_time(t, y), 1e-3 * _span(t))
    out = []
    for mult in (1.1, 1.5, 3.0):
        for frac in (0.05, 0.3, 0.8):
            s = 2.0 / th
            out.append([ymax * mult, s * frac, s * (1.0 - frac)])
    return out


BASS = CurveSpec(
    name="bass",
    param_names=("m", "p", "q"),
    bounds=((0.0, np.inf), (0.0, np.inf), (0.0, np.inf)),
    f=_bass,
    p0=_bass_starts,
    saturation=lambda m, p, q: m,
    peak_time=_bass_peak,
    share_time=_bass_share,
    rate_param="q",
    scale_params=("m",),
    formula="m (1 - exp(-(p+q) t)) / (1 + (q/p) exp(-(p+q) t))",
    description="Bass diffusion: external influence p, imitation q; starts at 0 at t = 0",
    doc="""Bass diffusion: ``y = m (1 - exp(-(p+q) t)) / (1 + (q/p) exp(-(p+q) t))``.

m is the final reach, p the coefficient of external influence (media), q of
imitation (word of mouth), per day; y(0) = 0 at the origin. Peak growth at
``t* = log(q/p) / (p + q)`` when q > p (else at t = 0). Time to a share s:
``-log((1 - s) / (1 + s q / p)) / (p + q)``.
""",
)


# exponential saturation ------------------------------------------------------

def _expsat(t, K, r):
    return -K * np.expm1(-np.clip(r * t, -50.0, None))


def _expsat_starts(t, y):
    ymax = float(np.max(y))
    out = []
    for mult in (1.05, 1.5, 3.0):
        K = ymax * mult
        p = y / K
        m = (p > 0) & (p < 1) & (t > 0)
        if m.sum() >= 1:
            r = float(np.sum(-np.log1p(-p[m]) * t[m]) / np.sum(t[m] ** 2))
        else:
            r = 3.0 / _span(t)
        out.append([K, r if np.isfinite(r) and r > 0 else 3.0 / _span(t)])
    return out


EXPSAT = CurveSpec(
    name="expsat",
    param_names=("K", "r"),
    bounds=((0.0, np.inf), (0.0, np.inf)),
    f=_expsat,
    p0=_expsat_starts,
    saturation=lambda K, r: K,
    peak_time=lambda K, r: np.zeros_like(np.asarray(r, dtype=float)),
    share_time=lambda s, K, r: -np.log1p(-s) / r,
    rate_param="r",
    scale_params=("K",),
    formula="K (1 - exp(-r t))",
    description="pure external influence: fastest at t = 0, no S-shape",
    doc="""Exponential saturation: ``y = K (1 - exp(-r t))``, the pure "external
influence" curve (Bass with q = 0). Peak growth at ``t = 0``. Time to a share s:
``-log(1 - s) / r``.
""",
)


CURVES: dict[str, CurveSpec] = {
    s.name: s for s in (LOGISTIC, GOMPERTZ, RICHARDS, BASS, EXPSAT)
}
"""The registry of curves by name. Add your own with :func:`register_curve`."""


def register_curve(spec: CurveSpec, *, replace: bool = False) -> CurveSpec:
    """Add ``spec`` to :data:`CURVES` so :func:`fit` and :func:`compare` accept its name.

    Examples
    --------
    >>> import numpy as np, casekit as ck
    >>> hill = ck.reach.CurveSpec(
    ...     name="hill", param_names=("K", "h", "n"),
    ...     bounds=((0, np.inf), (1e-9, np.inf), (0.1, 20)),
    ...     f=lambda t, K, h, n: K * np.maximum(t, 0) ** n / (h ** n + np.maximum(t, 0) ** n),
    ...     p0=lambda t, y: [[1.2 * y.max(), float(np.median(t)), 2.0]],
    ...     saturation=lambda K, h, n: K,
    ...     peak_time=lambda K, h, n: h * ((n - 1) / (n + 1)) ** (1 / n),
    ...     rate_param="n", scale_params=("K",), formula="K t^n / (h^n + t^n)")
    >>> _ = ck.reach.register_curve(hill, replace=True)
    >>> "hill" in ck.reach.CURVES
    True
    >>> _ = ck.reach.CURVES.pop("hill")
    """
    if not isinstance(spec, CurveSpec):
        raise TypeError("register_curve expects a CurveSpec")
    if spec.name in CURVES and not replace:
        raise ValueError(f"a curve named {spec.name!r} is already registered; "
                         f"pass replace=True to overwrite it")
    CURVES[spec.name] = spec
    return spec


# multi-wave -------------------------------------------------------------------

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
            from casekit.cases import EVENT_KINDS

            if text in EVENT_KINDS:
                tl = case.timeline
                org = origin if origin is not None else case.origin
                tl = tl[tl["kind"] == text]
                if org is None:
                    raise InsufficientDataError(
                        f"cannot anchor a wave at event kind {text!r}: the case has no origin date")
                days = (tl["date"] - org) / pd.Timedelta(days=1)
                if after is not None:
                    days = days[days > after]
                else:
                    days = days[days > 0]
                if days.empty:
                    raise FitError(f"case {case.id!r} has no {text!r} event after day "
                                   f"{0 if after is None else after:g} to anchor a wave at")
                return float(days.min())
        try:
            when = pd.Timestamp(text)
        except (ValueError, TypeError):
            raise FitError(f"cannot read wave anchor {anchor!r}: give days since the origin, a "
                           f"date such as '2009-08-18', or a timeline event kind "
                           f"(with case=...)") from None
    org = origin if origin is not None else (None if case is None else case.origin)
    if org is None:
        raise InsufficientDataError(
            f"cannot place the wave anchor {anchor!r} in days: no origin date is known "
            f"(pass origin=... or a case with a going-public date)")
    return float((when - pd.Timestamp(org)) / pd.Timedelta(days=1))


def multiwave(base: str | CurveSpec = "logistic", k: int = 2, anchors: Sequence | None = None,
              *, case=None, origin=None, window: tuple[float, float] = (-3.0, 60.0),
              name: str | None = None) -> CurveSpec:
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
    b = CURVES[base] if isinstance(base, str) else base
    if "t0" not in b.param_names:
        raise ValueError(f"multiwave needs a base curve with a midpoint parameter t0 "
                         f"(logistic, gompertz, richards), not {b.name!r}")
    k = int(k)
    if k < 1:
        raise ValueError("k must be at least 1")
    anchors = tuple(anchors) if anchors is not None else (None,) * k
    if len(anchors) != k:
        raise ValueError(f"{k} waves but {len(anchors)} anchors; give one per wave (None = free)")
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
            out = out + f_base(t, *params[i * pb:(i + 1) * pb])
        return out

    def saturation(*params):
        return sum(b.saturation(*params[i * pb:(i + 1) * pb]) for i in range(k))

    def peak_time(*params):
        peaks = [np.asarray(b.peak_time(*params[i * pb:(i + 1) * pb]), dtype=float)
                 for i in range(k)]
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
                    start[i * pb:(i + 1) * pb] = w
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
        definition=MappingProxyType({"base": b.name, "k": k, "anchors": list(days),
                                     "window": list(window), "name": name}),
        doc=(f"Sum of {k} {b.name} waves: y = sum_i {b.formula} with wave i's own "
             f"parameters ({', '.join(b.param_names)})_i. Anchors (days since origin): "
             f"{anchor_txt}; an anchored wave's t0 lies within {window[0]:g}..{window[1]:g} "
             f"days of its anchor. Saturation = sum of the waves' saturations. Peak growth: "
             f"the wave peak (each wave's own peak time) with the largest total growth rate "
             f"(exact for well-separated waves). Times to a share of the saturation are "
             f"solved numerically.\n\nBase curve: {b.doc}"),
    )
    return spec


def _get_spec(curve) -> CurveSpec:
    if isinstance(curve, CurveSpec):
        return curve
    if isinstance(curve, str):
        if curve in CURVES:
            return CURVES[curve]
        raise ValueError(f"unknown curve {curve!r}; registered: {', '.join(CURVES)} "
                         f"(or build one with multiwave())")
    raise TypeError("curve must be a name in CURVES or a CurveSpec")


def _spec_from_definition(name: str, definition: Mapping | None) -> CurveSpec:
    if definition:
        return multiwave(definition["base"], definition["k"], tuple(definition["anchors"]),
                         window=tuple(definition["window"]), name=definition.get("name"))
    return _get_spec(name)


# ---------------------------------------------------------------------------
# data preparation
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Prepared:
    obs: pd.DataFrame          # t, time, y, weight, source, confidence, qualifier, kind, quote
    origin: pd.Timestamp | None
    case_id: str | None
    metric: str | None
    events: pd.DataFrame       # t, date, kind, actor, description
    weights: str
    n_dropped: int = 0         # rows left out for a missing (NaN) time or value


_OBS_COLUMNS = ("t", "time", "y", "weight", "source", "confidence", "qualifier", "kind", "quote")


def _is_case(obj) -> bool:
    return hasattr(obj, "series") and hasattr(obj, "timeline") and hasattr(obj, "key_dates")


def _case_events(case, origin) -> pd.DataFrame:
    tl = case.timeline
    cols = ["t", "date", "kind", "actor", "description"]
    if origin is None or tl.empty:
        return pd.DataFrame(columns=cols)
    ev = tl[["date", "kind", "actor", "description"]].copy()
    ev["t"] = (ev["date"] - origin) / pd.Timedelta(days=1)
    return ev[cols].reset_index(drop=True)


def _weights_from(weights, obs: pd.DataFrame) -> tuple[np.ndarray, str]:
    n = len(obs)
    if weights is None:
        return np.ones(n), "none"
    if isinstance(weights, str):
        if weights != "confidence":
            raise ValueError(f"weights must be None, 'confidence', a mapping of confidence to "
                             f"weight, or an array; not {weights!r}")
        weights = CONFIDENCE_WEIGHTS
        label = "confidence"
    elif isinstance(weights, Mapping):
        label = "confidence(" + ", ".join(f"{k}={v:g}" for k, v in weights.items()) + ")"
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != (n,):
            raise ValueError(f"weights has shape {w.shape}; expected one per observation ({n})")
        if not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise ValueError("weights must be positive and finite")
        return w, "user"
    conf = obs["confidence"].fillna("unverified").astype(str)
    unknown = sorted(set(conf) - set(weights))
    if unknown:
        raise ValueError(f"no weight for confidence level(s) {unknown}")
    w = conf.map(dict(weights)).to_numpy(dtype=float)
    if np.any(w <= 0):
        raise ValueError("confidence weights must be positive")
    return w, label


def _prepare(data, *, metric=None, t=None, kinds=("observed", "reported"), weights=None,
             origin=None, min_confidence="unverified") -> _Prepared:
    case_id = None
    events = pd.DataFrame(columns=["t", "date", "kind", "actor", "description"])
    if _is_case(data):
        case = data
        case_id = case.id
        if metric is None:
            metric = getattr(case, "analysis", {}).get("metric")
        if metric is None:
            fittable = _fittable_metrics(case, kinds)
            if not fittable:
                raise InsufficientDataError(describe(case, kinds=kinds).explanation)
            metric = fittable[0]
        if metric not in case.metrics:
            raise KeyError(f"case {case.id!r} has no reach metric {metric!r}; "
                           f"it has: {', '.join(case.metrics) or '(none)'}")
        s = case.series(metric, kinds=kinds, min_confidence=min_confidence)
        if s.empty:
            raise InsufficientDataError(
                f"{case.id}: metric {metric!r} has no figures of kind {', '.join(kinds)}; "
                f"a growth curve needs dated observations")
        if not s["cumulative"].astype(bool).all():
            raise InsufficientDataError(
                f"{case.id}: metric {metric!r} is not cumulative (its figures are per-period or "
                f"point-in-time counts such as readership), so a growth curve of cumulative reach "
                f"does not describe it")
        origin = case.origin if origin is None else pd.Timestamp(origin)
        if origin is None:
            raise InsufficientDataError(
                f"{case.id}: the origin key date ({case.origin_key}) is unknown, so the "
                f"observations cannot be placed in days since the story went public")
        tt = (s["time"] - origin) / pd.Timedelta(days=1)
        obs = pd.DataFrame({
            "t": tt.to_numpy(dtype=float), "time": s["time"].to_numpy(),
            "y": s["value"].to_numpy(dtype=float),
            "source": s["source"].astype(str).to_numpy(),
            "confidence": s["confidence"].astype(str).to_numpy(),
            "qualifier": s["qualifier"].astype(str).to_numpy(),
            "kind": s["kind"].astype(str).to_numpy(),
            "quote": s["quote"].astype(object).where(s["quote"].notna(), None).to_numpy(),
        })
        events = _case_events(case, origin)
    else:
        origin = None if origin is None else pd.Timestamp(origin)
        if isinstance(data, pd.DataFrame):
            df = data
            ycol = next((c for c in ("value", "y") if c in df.columns), None)
            if ycol is None:
                raise ValueError("a DataFrame needs a 'value' (or 'y') column")
            if t is not None:
                tt = t
            elif "t" in df.columns and df["t"].notna().all():
                tt = df["t"]
            elif "time" in df.columns:
                tt = df["time"]
            else:
                raise ValueError("a DataFrame needs a 't' (days) or 'time' column, or pass t=")
            y = df[ycol].to_numpy(dtype=float)
            extra = {c: df[c].to_numpy() for c in ("source", "confidence", "qualifier", "kind",
                                                    "quote") if c in df.columns}
        elif isinstance(data, pd.Series):
            tt = data.index if t is None else t
            y = data.to_numpy(dtype=float)
            extra = {}
            if metric is None and data.name is not None:
                metric = str(data.name)
        else:
            if t is None:
                raise ValueError("pass the times with t= when data is a plain array")
            tt = t
            y = np.asarray(data, dtype=float).ravel()
            extra = {}
        tt_arr, time_arr, origin = _to_days(tt, origin)
        if len(tt_arr) != len(y):
            raise ValueError(f"{len(tt_arr)} times but {len(y)} values")
        n = len(y)
        obs = pd.DataFrame({
            "t": tt_arr, "time": time_arr, "y": y,
            "source": extra.get("source", np.full(n, "data", dtype=object)),
            "confidence": extra.get("confidence", np.full(n, "high", dtype=object)),
            "qualifier": extra.get("qualifier", np.full(n, "exact", dtype=object)),
            "kind": extra.get("kind", np.full(n, "observed", dtype=object)),
            "quote": extra.get("quote", np.full(n, None, dtype=object)),
        })
    w, wlabel = _weights_from(weights, obs)          # in the order the data were given
    t_arr = obs["t"].to_numpy(dtype=float)
    idx = np.nonzero(np.isfinite(t_arr) & np.isfinite(obs["y"].to_numpy(dtype=float)))[0]
    idx = idx[np.argsort(t_arr[idx], kind="stable")]
    cols = {c: obs[c].to_numpy()[idx] for c in obs.columns}
    cols["weight"] = w[idx]
    obs = pd.DataFrame({c: cols[c] for c in _OBS_COLUMNS})
    return _Prepared(obs=obs, origin=origin, case_id=case_id, metric=metric,
                     events=events, weights=wlabel, n_dropped=int(len(t_arr) - len(idx)))


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
    days = arr.astype(float)
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


# ---------------------------------------------------------------------------
# numerical core
# ---------------------------------------------------------------------------

def _param_steps(theta):
    return 6e-6 * np.maximum(np.abs(theta), 1e-2)


def _model_jac(spec: CurveSpec, t, theta):
    """d f / d theta at t (central differences), shape (len(t), p)."""
    theta = np.asarray(theta, dtype=float)
    h = _param_steps(theta)
    lo = np.array([b[0] for b in spec.bounds])
    hi = np.array([b[1] for b in spec.bounds])
    cols = []
    for j in range(len(theta)):
        up = theta.copy()
        dn = theta.copy()
        up[j] = min(theta[j] + h[j], hi[j])
        dn[j] = max(theta[j] - h[j], lo[j])
        cols.append((spec.f(t, *up) - spec.f(t, *dn)) / (up[j] - dn[j]))
    return np.column_stack(cols) if cols else np.zeros((len(t), 0))


def _grad(fun, theta, spec: CurveSpec):
    """Gradient of a scalar function of theta (central differences)."""
    theta = np.asarray(theta, dtype=float)
    h = _param_steps(theta)
    lo = np.array([b[0] for b in spec.bounds])
    hi = np.array([b[1] for b in spec.bounds])
    g = np.empty(len(theta))
    for j in range(len(theta)):
        up = theta.copy()
        dn = theta.copy()
        up[j] = min(theta[j] + h[j], hi[j])
        dn[j] = max(theta[j] - h[j], lo[j])
        g[j] = (float(fun(up)) - float(fun(dn))) / (up[j] - dn[j])
    return g


def _huber_weights(r, c):
    a = np.abs(r)
    return np.where(a <= c, 1.0, c / np.maximum(a, _TINY))


@dataclass(frozen=True)
class _Problem:
    spec: CurveSpec
    t: np.ndarray
    y: np.ndarray
    sw: np.ndarray           # sqrt(weights)
    log: bool
    robust: bool
    yscale: float            # internal rescaling of y
    scale_vec: np.ndarray    # theta_internal = theta / scale_vec
    lo: np.ndarray
    hi: np.ndarray

    def resid_internal(self, u):
        theta = u * self.scale_vec
        fv = self.spec.f(self.t, *theta)
        if self.log:
            return self.sw * (np.log(self.y) - np.log(np.maximum(fv, _TINY)))
        return self.sw * (self.y - fv) / self.yscale

    def resid(self, theta):
        """Weighted residuals on the fitting scale, in data units."""
        fv = self.spec.f(self.t, *theta)
        if self.log:
            return self.sw * (np.log(self.y) - np.log(np.maximum(fv, _TINY)))
        return self.sw * (self.y - fv)


def _make_problem(spec, t, y, w, loss) -> _Problem:
    log = loss in ("log", "robust_log")
    if log and np.any(y <= 0):
        raise FitError("the log loss needs positive values; some observations are zero or "
                       "negative (use loss='ols' or 'robust')")
    yscale = float(np.max(np.abs(y))) or 1.0
    scale_vec = np.array([yscale if n in spec.scale_params else 1.0 for n in spec.param_names])
    lo = np.array([b[0] for b in spec.bounds], dtype=float)
    hi = np.array([b[1] for b in spec.bounds], dtype=float)
    return _Problem(spec, t, y, np.sqrt(w), log, loss.startswith("robust"), yscale, scale_vec,
                    lo, hi)


def _starts(spec, t, y, start, n_starts, seed):
    lo = np.array([b[0] for b in spec.bounds], dtype=float)
    hi = np.array([b[1] for b in spec.bounds], dtype=float)
    if start is not None:
        if isinstance(start, Mapping):
            start = [start[n] for n in spec.param_names]
        arr = np.atleast_2d(np.asarray(start, dtype=float))
        if arr.shape[1] != spec.k:
            raise ValueError(f"start needs {spec.k} values ({', '.join(spec.param_names)})")
        base = list(arr)
    else:
        with np.errstate(all="ignore"):
            base = [np.asarray(s, dtype=float) for s in spec.p0(t, y)]
        base = [s for s in base if s.shape == (spec.k,) and np.all(np.isfinite(s))]
        if not base:
            base = [np.where(np.isfinite(lo) & np.isfinite(hi), (lo + hi) / 2,
                             np.where(np.isfinite(lo), lo + 1.0, 0.0))]
    rng = np.random.default_rng(seed)
    out = list(base[:n_starts])
    i = 0
    while len(out) < n_starts:
        b = base[i % len(base)]
        jitter = b * np.exp(rng.normal(0.0, 0.5, size=b.shape))
        shift = b + rng.normal(0.0, 0.1 * _span(t), size=b.shape)
        positive = lo >= 0
        out.append(np.where(positive, jitter, shift))
        i += 1
    eps = 1e-9
    lo_f = np.where(np.isfinite(lo), lo, 0.0)
    hi_f = np.where(np.isfinite(hi), hi, 0.0)
    span_lo = np.where(np.isfinite(lo), lo_f + eps * np.maximum(1.0, np.abs(lo_f)), -np.inf)
    span_hi = np.where(np.isfinite(hi), hi_f - eps * np.maximum(1.0, np.abs(hi_f)), np.inf)
    return [np.clip(s, span_lo, span_hi) for s in out]


class _Transform:
    """Map bounded internal parameters to unbounded ones (log / logit), for MINPACK's LM."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi
        self.kind = np.where(np.isfinite(lo) & np.isfinite(hi), 3,
                             np.where(np.isfinite(lo), 1, np.where(np.isfinite(hi), 2, 0)))
        self.lo0 = np.where(np.isfinite(lo), lo, 0.0)
        self.hi0 = np.where(np.isfinite(hi), hi, 0.0)
        self.width = np.where(self.kind == 3, self.hi0 - self.lo0, 1.0)
        self._i1, self._i2, self._i3 = (np.nonzero(self.kind == j)[0] for j in (1, 2, 3))
        self._lo1, self._hi2 = self.lo0[self._i1], self.hi0[self._i2]
        self._lo3, self._w3 = self.lo0[self._i3], self.width[self._i3]

    def to_x(self, v):
        with np.errstate(all="ignore"):
            a = np.log(np.maximum(v - self.lo0, 1e-300))
            b = np.log(np.maximum(self.hi0 - v, 1e-300))
            frac = np.clip((v - self.lo0) / self.width, 1e-15, 1 - 1e-15)
            c = np.log(frac / (1 - frac))
        return np.select([self.kind == 1, self.kind == 2, self.kind == 3], [a, b, c], v)

    def to_v(self, x):
        v = np.array(x, dtype=float)
        if self._i1.size:
            v[self._i1] = self._lo1 + np.exp(np.minimum(v[self._i1], 700.0))
        if self._i2.size:
            v[self._i2] = self._hi2 - np.exp(np.minimum(v[self._i2], 700.0))
        if self._i3.size:
            v[self._i3] = self._lo3 + self._w3 * special.expit(v[self._i3])
        return v


def _lm(fun, x0, tol, maxfev, msgs):
    """MINPACK Levenberg-Marquardt; returns (x, cost, converged) or None on failure."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            x, _, info, mesg, ier = optimize.leastsq(fun, x0, full_output=True, ftol=tol,
                                                     xtol=tol, gtol=0.0, maxfev=maxfev)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError, TypeError) as err:
            msgs.append(str(err))
            return None
    fvec = info["fvec"]
    if not np.all(np.isfinite(fvec)) or not np.all(np.isfinite(x)):
        msgs.append("the residuals became infinite or undefined")
        return None
    if ier not in (1, 2, 3, 4):
        msgs.append(str(mesg))
    return x, 0.5 * float(fvec @ fvec), ier in (1, 2, 3, 4)


def _huber_cost(r, c):
    a = np.abs(r)
    return float(np.sum(np.where(a <= c, 0.5 * r ** 2, c * (a - 0.5 * c))))


def _irls(prob: _Problem, tr: _Transform, x0, c, tol, maxfev, msgs, iters: int = 50):
    """Huber M-estimate by iteratively reweighted least squares (MINPACK LM inside).

    Works on transformed parameters x; returns (x, huber cost, converged) or None."""
    x = np.asarray(x0, dtype=float)
    converged = False
    for _ in range(iters):
        with np.errstate(all="ignore"):
            r0 = prob.resid_internal(tr.to_v(x))
        if not np.all(np.isfinite(r0)):
            msgs.append("the residuals became infinite or undefined")
            return None
        sw = np.sqrt(_huber_weights(r0, c))
        out = _lm(lambda x: sw * prob.resid_internal(tr.to_v(x)), x, tol, maxfev, msgs)
        if out is None:
            return None
        x_new, _, ok = out
        step = np.max(np.abs(tr.to_v(x_new) - tr.to_v(x)) / np.maximum(np.abs(tr.to_v(x)), 1e-9))
        x = x_new
        if step <= max(tol, 1e-10):
            converged = ok
            break
    with np.errstate(all="ignore"):
        cost = _huber_cost(prob.resid_internal(tr.to_v(x)), c)
    return x, cost, converged


def _solve(prob: _Problem, starts, f_scale_internal=None, max_nfev=None):
    """Best solution over the starts. Returns (theta, cost, n_converged, messages).

    ``theta`` is None when no polished solution converged. ``n_converged`` counts the starts
    run (all of them, unless stopped early) whose solution converged, at the loose tolerance
    or once polished.

    MINPACK Levenberg-Marquardt on log/logit-transformed parameters (so bounds hold):
    the starts are run to a loose tolerance (stopping early once two of them agree on
    the best optimum), the two best are polished to 1e-12.
    A robust loss is solved by IRLS with the same steps. A least-squares optimum that
    sits on a bound is finished with the bounded trust-region method.
    """
    msgs: list[str] = []
    lo_i, hi_i = prob.lo / prob.scale_vec, prob.hi / prob.scale_vec
    p = prob.spec.k
    tr = _Transform(lo_i, hi_i)
    c = f_scale_internal

    def resid_x(x):
        return prob.resid_internal(tr.to_v(x))

    def run(x0, tol, maxfev):
        if prob.robust:
            return _irls(prob, tr, x0, c, tol, maxfev, msgs)
        return _lm(resid_x, x0, tol, maxfev, msgs)

    cands = []   # (x, cost, converged) per start that returned a solution
    for s_ in starts:
        u0 = np.clip(np.asarray(s_, dtype=float) / prob.scale_vec, lo_i, hi_i)
        out = run(tr.to_x(u0), 1e-6, max_nfev or 60 * (p + 1))
        if out is not None:
            cands.append(out)
            # stop early once two converged starts agree on the best optimum so far
            ok_costs = sorted(c_[1] for c_ in cands if c_[2])
            if len(ok_costs) >= 2 and ok_costs[1] - ok_costs[0] <= 1e-7 * max(ok_costs[0], 1e-300) \
                    and out[2] and out[1] <= ok_costs[0] * (1 + 1e-7):
                break
    if not cands:
        return None, None, 0, msgs
    order = sorted(range(len(cands)), key=lambda i: cands[i][1])
    ok = [bool(c_[2]) for c_ in cands]
    best = None
    for i in [i for i in order[:2] if cands[i][1] <= 1.1 * cands[order[0]][1]]:
        out = run(cands[i][0], 1e-12, max_nfev or 200 * (p + 1))
        if out is not None and out[2]:
            ok[i] = True    # a start whose polished solution converged counts as converged
            if best is None or out[1] < best[1]:
                best = out
    n_ok = int(sum(ok))
    if best is None:
        return None, None, n_ok, msgs
    u, best_cost = tr.to_v(best[0]), best[1]
    if not prob.robust:
        tol = 1e-7 * np.maximum(1.0, np.abs(u))
        near = (np.isfinite(lo_i) & (u - lo_i < tol)) | (np.isfinite(hi_i) & (hi_i - u < tol))
        if near.any():
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    res = optimize.least_squares(
                        prob.resid_internal, np.clip(u, lo_i, hi_i), bounds=(lo_i, hi_i),
                        method="trf", x_scale="jac", ftol=1e-12, xtol=1e-12, gtol=1e-12,
                        max_nfev=200 * (p + 1))
                    if res.status > 0 and res.cost <= best_cost * (1 + 1e-12):
                        u, best_cost = res.x, res.cost
                except (ValueError, np.linalg.LinAlgError):
                    pass
    return u * prob.scale_vec, best_cost, n_ok, msgs


def _covariance(prob: _Problem, theta, f_scale=None):
    """Covariance s^2 (J'J)^-1 of theta on the fitting scale, and the weighted RSS.

    With a robust loss J and RSS use the IRLS weights at the solution (approximate).
    """
    n, p = len(prob.y), prob.spec.k
    r = prob.resid(theta)
    G = _model_jac(prob.spec, prob.t, theta)
    if prob.log:
        fv = np.maximum(prob.spec.f(prob.t, *theta), _TINY)
        G = G / fv[:, None]
    J = prob.sw[:, None] * G       # d(fit) / d theta, weighted (sign irrelevant)
    if prob.robust:
        u = _huber_weights(r, f_scale)
        J = np.sqrt(u)[:, None] * J
        rss = float(np.sum(u * r ** 2))
    else:
        rss = float(np.sum(r ** 2))
    df = n - p
    s2 = rss / df if df > 0 else np.nan
    norms = np.linalg.norm(J, axis=0)
    if np.any(norms == 0) or not np.all(np.isfinite(J)):
        bad = [prob.spec.param_names[j] for j in np.nonzero(~(norms > 0))[0]]
        gone = [n for n, v in zip(prob.spec.param_names, theta)
                if n in prob.spec.scale_params and abs(v) < 1e-6 * prob.yscale]
        why = (f" ({', '.join(gone)} went to zero: the data show no separate wave there)"
               if gone else "")
        raise FitError(f"the data cannot identify the {prob.spec.name} curve: the fit does not "
                       f"depend on {', '.join(bad) or 'some parameters'} at these times{why}")
    Jn = J / norms
    sv = np.linalg.svd(Jn, compute_uv=False)
    cond = sv[0] / sv[-1] if sv[-1] > 0 else np.inf
    if not np.isfinite(cond) or cond > 1e8:
        raise FitError(f"the data cannot identify the {prob.spec.name} curve: its parameters "
                       f"({', '.join(prob.spec.param_names)}) trade off against each other "
                       f"almost perfectly at these times (condition number {cond:.1e}); use a "
                       f"curve with fewer parameters or more data")
    inv_n = np.linalg.inv(Jn.T @ Jn)
    cov = s2 * inv_n / np.outer(norms, norms)
    return cov, rss, s2


def _batch_fit(prob: _Problem, Z, theta0, f_scale=None, iters=60):
    """Levenberg-Marquardt for many data sets at once (the bootstrap).

    Z: (B, n) responses on the fitting scale (log y for log losses).
    Returns (Theta (B, p), ok (B,)).
    """
    spec = prob.spec
    B = Z.shape[0]
    p = spec.k
    th = np.tile(theta0 / prob.scale_vec, (B, 1))
    lo_i, hi_i = prob.lo / prob.scale_vec, prob.hi / prob.scale_vec
    sw = prob.sw[None, :]
    t = prob.t[None, :]

    def resid(U, Zs):
        P = U * prob.scale_vec
        F = spec.f(t, *[P[:, [j]] for j in range(p)])
        if prob.log:
            return sw * (Zs - np.log(np.maximum(F, _TINY)))
        return sw * (Zs - F) / prob.yscale

    def cost_of(r):
        if prob.robust:
            c = f_scale
            a = np.abs(r)
            return np.sum(np.where(a <= c, 0.5 * r ** 2, c * (a - 0.5 * c)), axis=1)
        return 0.5 * np.sum(r ** 2, axis=1)

    with np.errstate(all="ignore"):
        r = resid(th, Z)
        cost = cost_of(r)
        lam = np.full(B, 1e-3)
        active = np.ones(B, dtype=bool)
        for _ in range(iters):
            idx = np.nonzero(active)[0]
            if idx.size == 0:
                break
            U = th[idx]
            R = r[idx]
            Zs = Z[idx]
            h = 1e-7 * np.maximum(np.abs(U), 1e-4)
            J = np.empty((idx.size, R.shape[1], p))
            for j in range(p):
                Uh = U.copy()
                Uh[:, j] += h[:, j]
                J[:, :, j] = (resid(Uh, Zs) - R) / h[:, [j]]
            if prob.robust:
                wts = _huber_weights(R, f_scale)
                Jw = J * wts[:, :, None]
                A = np.einsum("bnp,bnq->bpq", J, Jw)
                g = np.einsum("bnp,bn->bp", Jw, R)
            else:
                A = np.einsum("bnp,bnq->bpq", J, J)
                g = np.einsum("bnp,bn->bp", J, R)
            D = np.einsum("bpp->bp", A)
            Ad = A + (lam[idx, None] * np.maximum(D, 1e-12))[:, :, None] * np.eye(p)[None]
            try:
                step = np.linalg.solve(Ad, -g[:, :, None])[:, :, 0]
            except np.linalg.LinAlgError:
                step = np.zeros_like(U)
                for b in range(idx.size):
                    try:
                        step[b] = np.linalg.lstsq(Ad[b], -g[b], rcond=None)[0]
                    except np.linalg.LinAlgError:
                        pass
            Un = np.clip(U + step, lo_i, hi_i)
            Rn = resid(Un, Zs)
            cn = cost_of(Rn)
            better = np.isfinite(cn) & (cn <= cost[idx])
            rel = np.max(np.abs(Un - U) / np.maximum(np.abs(U), 1e-8), axis=1)
            ib = idx[better]
            th[ib] = Un[better]
            r[ib] = Rn[better]
            dc = cost[ib] - cn[better]
            cost[ib] = cn[better]
            lam[ib] = np.maximum(lam[ib] / 3.0, 1e-12)
            lam[idx[~better]] *= 4.0
            done = np.zeros(idx.size, dtype=bool)
            done[better] = (rel[better] < 1e-8) | (dc <= 1e-14 * np.maximum(cost[ib], 1e-30))
            done |= lam[idx] > 1e10
            active[idx[done]] = False
    ok = np.all(np.isfinite(th), axis=1) & np.isfinite(cost) & (lam < 1e10)
    return th * prob.scale_vec, ok


# ---------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def _t_quantile(q: float, df: int) -> float:
    # the Student t quantile (same values as scipy.stats.t.ppf, without importing scipy.stats)
    return float(special.stdtrit(df, q))


def _readonly(a) -> np.ndarray:
    a = np.array(a, dtype=float, copy=True)
    a.flags.writeable = False
    return a


def _none_if_nan(x):
    if x is None:
        return None
    if isinstance(x, (float, np.floating)):
        return None if not np.isfinite(x) else float(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, pd.Timestamp):
        return x.isoformat()
    return x


@dataclass(frozen=True, repr=False, eq=False)
class ReachFit:
    """A fitted growth curve. Immutable; every table it returns is a fresh copy.

    Build it with :func:`fit`. Parameters are on the curve's canonical scale
    (t in days since ``origin``); standard errors and the asymptotic intervals use
    the covariance ``s^2 (J'J)^-1`` with ``s^2 = RSS / (n - p)``, the convention of
    R's ``nls``, and t quantiles with ``n - p`` degrees of freedom.

    Attributes
    ----------
    spec : CurveSpec
        The curve.
    curve, loss, weights : str
        Curve name, the loss (see :data:`LOSSES`) and the weighting used
        (``"none"``, ``"confidence"``, ``"user"``...).
    case_id, metric : str or None
        Where the data came from.
    origin : pandas.Timestamp or None
        The date of t = 0.
    alpha : float
        Default level of intervals (0.05 = 95 %).
    f_scale : float or None
        The Huber threshold on the fitting scale (robust losses only).
    converged : bool
        Whether the optimiser reported convergence from at least one start
        (``n_starts_ok >= 1``). :func:`fit` raises FitError instead of returning a fit
        whose chosen solution did not converge, so a fresh fit always has True here.
    n_starts_ok : int
        Starts whose solution converged (at the loose tolerance or once polished), of the
        ``n_starts`` given; the fitter stops early once two converged starts agree, so the
        remaining starts are not run and not counted.
    notes : tuple of str
        Caveats (parameters on a bound, approximate standard errors...).
    """

    spec: CurveSpec
    theta: np.ndarray
    cov_matrix: np.ndarray
    obs: pd.DataFrame
    loss: str
    weights: str
    alpha: float
    case_id: str | None
    metric: str | None
    origin: pd.Timestamp | None
    f_scale: float | None
    converged: bool
    n_starts: int
    n_starts_ok: int
    notes: tuple[str, ...]
    events: pd.DataFrame
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    # -- basic ------------------------------------------------------------------
    @property
    def curve(self) -> str:
        return self.spec.name

    @property
    def param_names(self) -> tuple[str, ...]:
        return self.spec.param_names

    @property
    def params(self) -> pd.Series:
        """Estimates, indexed by parameter name."""
        return pd.Series(np.array(self.theta), index=list(self.param_names), name="estimate")

    @property
    def cov(self) -> pd.DataFrame:
        """Parameter covariance matrix."""
        names = list(self.param_names)
        return pd.DataFrame(np.array(self.cov_matrix), index=names, columns=names)

    @property
    def bse(self) -> pd.Series:
        """Standard errors of the parameters."""
        return pd.Series(np.sqrt(np.maximum(np.diag(self.cov_matrix), 0.0)),
                         index=list(self.param_names), name="std_err")

    @property
    def data(self) -> pd.DataFrame:
        """The observations used: t, time, y, weight, source, confidence, qualifier, kind, quote."""
        return self.obs.copy()

    @property
    def nobs(self) -> int:
        return int(len(self.obs))

    @property
    def df_resid(self) -> int:
        return self.nobs - self.spec.k

    @property
    def _log(self) -> bool:
        return self.loss in ("log", "robust_log")

    @property
    def _robust(self) -> bool:
        return self.loss in ("robust", "robust_log")

    def _problem(self) -> _Problem:
        return _make_problem(self.spec, self.obs["t"].to_numpy(dtype=float),
                             self.obs["y"].to_numpy(dtype=float),
                             self.obs["weight"].to_numpy(dtype=float), self.loss)

    @property
    def fitted(self) -> np.ndarray:
        """Fitted values at the observation times."""
        return self.spec.f(self.obs["t"].to_numpy(dtype=float), *self.theta)

    @property
    def residuals(self) -> pd.Series:
        """Unweighted residuals on the fitting scale: y - yhat (ols, robust) or
        log y - log yhat (log losses)."""
        y = self.obs["y"].to_numpy(dtype=float)
        fv = self.fitted
        r = np.log(y) - np.log(np.maximum(fv, _TINY)) if self._log else y - fv
        return pd.Series(r, name="residual")

    @property
    def rss(self) -> float:
        """Weighted residual sum of squares on the fitting scale (plain, not Huber)."""
        r = self.residuals.to_numpy()
        return float(np.sum(self.obs["weight"].to_numpy(dtype=float) * r ** 2))

    @property
    def sigma(self) -> float:
        """Residual standard error sqrt(RSS / (n - p)) on the fitting scale (for weight 1)."""
        return math.sqrt(self.rss / self.df_resid) if self.df_resid > 0 else float("nan")

    @property
    def loglik(self) -> float:
        """Gaussian log-likelihood of y, as R's ``logLik.nls``.

        For the log losses the density of log y is converted to a density of y
        (minus sum(log y)), so AIC is comparable with ``loss="ols"`` on the same data.
        With a robust loss this is the Gaussian quasi-likelihood of the same residuals.
        """
        n = self.nobs
        w = self.obs["weight"].to_numpy(dtype=float)
        rss = self.rss
        if rss <= 0:
            return float("inf")
        ll = -n / 2 * (math.log(2 * math.pi) + 1 - math.log(n) - np.sum(np.log(w)) / n
                       + math.log(rss))
        if self._log:
            ll -= float(np.sum(np.log(self.obs["y"].to_numpy(dtype=float))))
        return float(ll)

    @property
    def _k_ll(self) -> int:
        return self.spec.k + 1   # + the residual variance, as R counts it

    @property
    def aic(self) -> float:
        return -2 * self.loglik + 2 * self._k_ll

    @property
    def aicc(self) -> float:
        k, n = self._k_ll, self.nobs
        return self.aic + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else float("inf"))

    @property
    def bic(self) -> float:
        return -2 * self.loglik + self._k_ll * math.log(self.nobs)

    # -- intervals ---------------------------------------------------------------
    def _alpha(self, alpha):
        a = self.alpha if alpha is None else float(alpha)
        if not 0 < a < 1:
            raise ValueError("alpha must be between 0 and 1 (0.05 for 95 % intervals)")
        return a

    def _tq(self, alpha):
        return _t_quantile(1 - alpha / 2, max(self.df_resid, 1))

    def conf_int(self, alpha: float | None = None, method: str = "asymptotic", *,
                 n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
        """Confidence intervals of the parameters.

        Parameters
        ----------
        alpha : float, optional
            1 - level; default the fit's ``alpha``.
        method : {"asymptotic", "profile", "bootstrap"}
            ``asymptotic``: estimate +- t(n-p) x se. ``profile``: profile-t intervals
            (as R's ``confint.nls``): the other parameters re-optimised along each
            parameter, cut where the profile t statistic reaches the t quantile;
            a side that never reaches it is unbounded (``inf``). ``bootstrap``: percentile
            intervals from a residual bootstrap (``n_boot`` replicates, ``seed``).

        Returns
        -------
        pandas.DataFrame
            Index: parameter names; columns ``lower``, ``upper``.

        Examples
        --------
        >>> import casekit as ck
        >>> res = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
        >>> res.conf_int().round(2).loc["r"].tolist()
        [0.82, 0.94]
        >>> res.conf_int(method="profile").round(2).loc["r"].tolist()
        [0.82, 0.95]
        """
        alpha = self._alpha(alpha)
        names = list(self.param_names)
        if method == "asymptotic":
            q = self._tq(alpha)
            se = self.bse.to_numpy()
            lo, hi = self.theta - q * se, self.theta + q * se
        elif method == "profile":
            lo, hi = self._profile(alpha)
        elif method == "bootstrap":
            th = self._bootstrap(n_boot, seed)
            lo = np.quantile(th, alpha / 2, axis=0)
            hi = np.quantile(th, 1 - alpha / 2, axis=0)
        else:
            raise ValueError("method must be 'asymptotic', 'profile' or 'bootstrap'")
        return pd.DataFrame({"lower": lo, "upper": hi}, index=names)

    def _profile(self, alpha):
        if self._robust:
            raise FitError("profile intervals need a least-squares loss ('ols' or 'log'); "
                           "use method='bootstrap' for a robust fit")
        prob = self._problem()
        p = self.spec.k
        theta_hat = np.array(self.theta)
        s_hat = float(np.sum(prob.resid(theta_hat) ** 2))
        s2 = s_hat / self.df_resid
        q = self._tq(alpha)
        se = self.bse.to_numpy()
        lo_out, hi_out = np.full(p, -np.inf), np.full(p, np.inf)
        for j in range(p):
            others = [i for i in range(p) if i != j]
            state = {"x": theta_hat[others] / prob.scale_vec[others]}

            def S(v, j=j, others=others, state=state):
                def rfun(u):
                    th = np.empty(p)
                    th[j] = v
                    th[others] = u * prob.scale_vec[others]
                    return prob.resid(th) / (prob.yscale if not prob.log else 1.0)
                if not others:
                    return float(np.sum(rfun(np.array([])) ** 2)) * (
                        1.0 if prob.log else prob.yscale ** 2)
                lo_i = prob.lo[others] / prob.scale_vec[others]
                hi_i = prob.hi[others] / prob.scale_vec[others]
                x0 = np.clip(state["x"], lo_i + 1e-12, hi_i - 1e-12)
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = optimize.least_squares(rfun, x0, bounds=(lo_i, hi_i), method="trf",
                                                 x_scale="jac", ftol=1e-12, xtol=1e-12,
                                                 gtol=1e-12)
                state["x"] = res.x
                return float(np.sum(res.fun ** 2)) * (1.0 if prob.log else prob.yscale ** 2)

            def tau(v, j=j):
                d = S(v) - s_hat
                return math.copysign(math.sqrt(max(d, 0.0) / s2), v - theta_hat[j])

            for direction in (-1, 1):
                state["x"] = theta_hat[others] / prob.scale_vec[others]
                step = se[j] if se[j] > 0 else 1e-3 * max(abs(theta_hat[j]), 1.0)
                prev_v = theta_hat[j]
                found = None
                bound = prob.lo[j] if direction < 0 else prob.hi[j]
                mult = 0.5
                for _ in range(40):
                    v = theta_hat[j] + direction * step * mult
                    if (direction < 0 and v <= bound) or (direction > 0 and v >= bound):
                        v = bound + (-direction) * 1e-9 * max(1.0, abs(bound))
                        tv = tau(v)
                        if abs(tv) >= q:
                            found = (prev_v, v)
                        break
                    tv = tau(v)
                    if abs(tv) >= q:
                        found = (prev_v, v)
                        break
                    prev_v = v
                    mult *= 1.6
                if found is None:
                    continue
                a, b = found
                state["x"] = theta_hat[others] / prob.scale_vec[others]
                try:
                    root = optimize.brentq(lambda v: abs(tau(v)) - q, a, b, xtol=1e-12,
                                           rtol=1e-10, maxiter=200)
                except ValueError:
                    continue
                if direction < 0:
                    lo_out[j] = root
                else:
                    hi_out[j] = root
        return lo_out, hi_out

    def bootstrap_params(self, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
        """Residual-bootstrap replicates of the parameters, one row per converged refit.

        The same replicates back ``conf_int(method="bootstrap")`` and
        ``predict(bootstrap=...)``; they are computed once per ``(n_boot, seed)``.

        Examples
        --------
        >>> import casekit as ck
        >>> fit = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
        >>> fit.bootstrap_params(200).columns.tolist()
        ['K', 'r', 't0']
        """
        return pd.DataFrame(np.array(self._bootstrap(n_boot, seed)),
                            columns=list(self.param_names))

    def _bootstrap(self, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
        """Residual-bootstrap parameter replicates, shape (n_ok, p); cached per (n_boot, seed)."""
        key = ("boot", int(n_boot), int(seed))
        if key in self._cache:
            return self._cache[key]
        prob = self._problem()
        n, p = self.nobs, self.spec.k
        rng = np.random.default_rng(seed)
        fv = np.maximum(self.fitted, _TINY) if self._log else self.fitted
        zhat = np.log(fv) if self._log else fv
        e = self.residuals.to_numpy() * prob.sw * math.sqrt(n / max(n - p, 1))
        e = e - e.mean()
        idx = rng.integers(0, n, size=(int(n_boot), n))
        Z = zhat[None, :] + e[idx] / prob.sw[None, :]
        fs = None
        if self._robust:
            fs = self.f_scale / (1.0 if self._log else prob.yscale)
        th, ok = _batch_fit(prob, Z, np.array(self.theta), f_scale=fs)
        th = th[ok]
        if th.shape[0] < max(10, 0.5 * n_boot):
            raise FitError(f"the bootstrap failed: only {th.shape[0]} of {n_boot} replicates "
                           f"converged; the asymptotic intervals are all there is")
        th.flags.writeable = False
        self._cache[key] = th
        self._cache[("boot_e", int(n_boot), int(seed))] = e
        return th

    # -- predictions ---------------------------------------------------------------
    def _t_of(self, t) -> tuple[np.ndarray, np.ndarray]:
        if t is None:
            t = self.obs["t"].to_numpy(dtype=float)
        elif isinstance(t, (int, float, np.integer, np.floating)):
            t = np.array([float(t)])
        if isinstance(t, (pd.DatetimeIndex, pd.Series)) and \
                pd.api.types.is_datetime64_any_dtype(t):
            if self.origin is None:
                raise ValueError("dates need an origin; this fit has none (pass days since t = 0)")
            days = ((pd.DatetimeIndex(t) - self.origin) / pd.Timedelta(days=1)).to_numpy(float)
            return days, pd.DatetimeIndex(t).to_numpy()
        arr = np.asarray(t)
        if np.issubdtype(arr.dtype, np.datetime64):
            return self._t_of(pd.DatetimeIndex(arr))
        days = arr.astype(float).ravel()
        if self.origin is not None:
            ok = np.abs(days) < 1e5
            times = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
            times[ok] = (self.origin + pd.to_timedelta(days[ok], unit="D")).round("s").to_numpy()
        else:
            times = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
        return days, times

    def predict(self, t=None, *, interval: str | None = "confidence", alpha: float | None = None,
                bootstrap: int | None = None, seed: int = 0) -> pd.DataFrame:
        """Fitted curve at any times, with a confidence or prediction band.

        Parameters
        ----------
        t : array-like of days, DatetimeIndex, scalar, or None
            Times; ``None`` means the observation times.
        interval : {"confidence", "prediction", None}
            ``confidence``: band for the curve itself (delta method, or bootstrap
            percentiles). ``prediction``: band for a new observation of weight 1 (adds
            the residual variance on the fitting scale). ``None``: bounds equal yhat.
        alpha : float, optional
            1 - level of the band; default the fit's ``alpha``.
        bootstrap : int, optional
            Use this many residual-bootstrap replicates instead of the delta method.
        seed : int
            Seed of the bootstrap.

        Returns
        -------
        pandas.DataFrame
            Columns ``t, time, yhat, yhat_lower, yhat_upper`` (:data:`PRED_COLUMNS`).
            With the log losses the bands are computed on the log scale and
            transformed back, so they are asymmetric. A delta-method band always
            contains ``yhat``; a bootstrap percentile band need not (when the replicates
            are skewed), and it is reported as computed, not widened to contain it.

        Examples
        --------
        >>> import casekit as ck
        >>> res = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
        >>> p = res.predict([0, 3, 30], interval="prediction")
        >>> p.columns.tolist()
        ['t', 'time', 'yhat', 'yhat_lower', 'yhat_upper']
        >>> bool((p["yhat_lower"] <= p["yhat"]).all() and (p["yhat"] <= p["yhat_upper"]).all())
        True
        """
        alpha = self._alpha(alpha)
        days, times = self._t_of(t)
        yhat = self.spec.f(days, *self.theta)
        if interval is None:
            lo, hi = yhat.copy(), yhat.copy()
        elif interval not in ("confidence", "prediction"):
            raise ValueError("interval must be 'confidence', 'prediction' or None")
        elif bootstrap:
            th = self._bootstrap(int(bootstrap), seed)
            P = [th[:, [j]] for j in range(self.spec.k)]
            with np.errstate(all="ignore"):
                F = self.spec.f(days[None, :], *P)
            if self._log:
                F = np.log(np.maximum(F, _TINY))
            if interval == "prediction":
                e = self._cache[("boot_e", int(bootstrap), seed)]
                rng = np.random.default_rng(seed + 1)
                F = F + rng.choice(e, size=F.shape)
            lo = np.quantile(F, alpha / 2, axis=0)
            hi = np.quantile(F, 1 - alpha / 2, axis=0)
            if self._log:
                lo, hi = np.exp(lo), np.exp(hi)
        else:
            G = _model_jac(self.spec, days, self.theta)
            zhat = yhat
            if self._log:
                zhat = np.log(np.maximum(yhat, _TINY))
                G = G / np.maximum(yhat, _TINY)[:, None]
            var = np.einsum("ij,jk,ik->i", G, self.cov_matrix, G)
            if interval == "prediction":
                var = var + self.sigma ** 2
            half = self._tq(alpha) * np.sqrt(np.maximum(var, 0.0))
            lo, hi = zhat - half, zhat + half
            if self._log:
                lo, hi = np.exp(lo), np.exp(hi)
        return pd.DataFrame({"t": days, "time": pd.to_datetime(times), "yhat": yhat,
                             "yhat_lower": lo, "yhat_upper": hi})

    # -- derived quantities ---------------------------------------------------------
    def _derived(self, fun_vec, alpha, method, n_boot, seed):
        """Estimate, se and interval of a derived scalar g(theta)."""
        est = float(fun_vec(*self.theta))
        if method == "delta":
            g = _grad(lambda th: fun_vec(*th), self.theta, self.spec)
            se = float(np.sqrt(max(g @ self.cov_matrix @ g, 0.0)))
            q = self._tq(alpha)
            return est, se, est - q * se, est + q * se
        if method == "bootstrap":
            th = self._bootstrap(n_boot, seed)
            with np.errstate(all="ignore"):
                vals = np.asarray(fun_vec(*[th[:, j] for j in range(self.spec.k)]), dtype=float)
            vals = np.broadcast_to(vals, (th.shape[0],))
            vals = vals[np.isfinite(vals)]
            return (est, float(np.std(vals, ddof=1)), float(np.quantile(vals, alpha / 2)),
                    float(np.quantile(vals, 1 - alpha / 2)))
        raise ValueError("method must be 'delta' or 'bootstrap'")

    def _share_fun(self, share):
        spec = self.spec
        if spec.share_time is not None:
            return lambda *th: spec.share_time(share, *th)
        return lambda *th: _numeric_share_time(spec, share, th)

    @property
    def saturation(self) -> float:
        """The curve's asymptote (final reach) at the estimates."""
        return float(self.spec.saturation(*self.theta))

    def peak_time(self, *, alpha: float | None = None, method: str = "delta",
                  n_boot: int = 1000, seed: int = 0) -> pd.Series:
        """Time of maximum growth (days since origin) with an interval.

        Returns a Series ``estimate, std_err, lower, upper, time`` (``time``: the date).
        """
        alpha = self._alpha(alpha)
        return self._milestone("peak_time", self.spec.peak_time, alpha, method, n_boot, seed)

    def time_to_share(self, share: float = 0.9, *, alpha: float | None = None,
                      method: str = "delta", n_boot: int = 1000, seed: int = 0) -> pd.Series:
        """Time (days since origin) at which the curve reaches ``share`` of its saturation.

        Parameters
        ----------
        share : float
            Between 0 and 1, e.g. 0.5, 0.9, 0.99.
        method : {"delta", "bootstrap"}
            Delta method (t quantiles) or residual-bootstrap percentiles.

        Returns
        -------
        pandas.Series
            ``estimate, std_err, lower, upper, time`` (``time``: the date of the estimate,
            if the fit has an origin).

        Examples
        --------
        >>> import casekit as ck
        >>> res = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
        >>> res.time_to_share(0.5)[["estimate", "lower", "upper"]].astype(float).round(1).tolist()
        [3.1, 3.0, 3.2]
        """
        if not 0 < share < 1:
            raise ValueError("share must be between 0 and 1, e.g. 0.9 for 90 %")
        alpha = self._alpha(alpha)
        return self._milestone(f"t{share * 100:g}", self._share_fun(share), alpha, method,
                               n_boot, seed)

    def _milestone(self, name, fun, alpha, method, n_boot, seed, dated=True):
        est, se, lo, hi = self._derived(fun, alpha, method, n_boot, seed)
        when = (self.origin + pd.Timedelta(days=est)).round("s") if (
            dated and self.origin is not None and np.isfinite(est) and abs(est) < 1e5) else pd.NaT
        return pd.Series({"estimate": est, "std_err": se, "lower": lo, "upper": hi,
                          "time": when}, name=name, dtype=object)

    def milestones(self, shares=(0.5, 0.9, 0.99), *, alpha: float | None = None,
                   method: str = "delta", n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
        """Saturation, peak time and times to ``shares`` of saturation, with intervals.

        Returns a DataFrame indexed by ``saturation, peak_time, t50, t90, t99`` with columns
        ``estimate, std_err, lower, upper, time``.
        """
        alpha = self._alpha(alpha)
        rows = [self._milestone("saturation", self.spec.saturation, alpha, method, n_boot, seed,
                                dated=False)]
        rows.append(self.peak_time(alpha=alpha, method=method, n_boot=n_boot, seed=seed))
        rows += [self.time_to_share(s, alpha=alpha, method=method, n_boot=n_boot, seed=seed)
                 for s in shares]
        df = pd.DataFrame(rows)
        for c in ("estimate", "std_err", "lower", "upper"):
            df[c] = df[c].astype(float)
        df["time"] = pd.to_datetime(df["time"])
        return df

    # -- presentation ---------------------------------------------------------------
    @property
    def summary(self) -> pd.DataFrame:
        """Parameters and derived quantities with standard errors and asymptotic intervals.

        Rows: the parameters (``kind == "parameter"``), then ``saturation``,
        ``peak_time``, ``t50``, ``t90``, ``t99`` (``kind == "derived"``, delta method).
        """
        ci = self.conf_int()
        par = pd.DataFrame({"kind": "parameter", "estimate": self.theta, "std_err": self.bse,
                            "lower": ci["lower"], "upper": ci["upper"]},
                           index=list(self.param_names))
        try:
            ms = self.milestones()
            der = pd.DataFrame({"kind": "derived", "estimate": ms["estimate"],
                                "std_err": ms["std_err"], "lower": ms["lower"],
                                "upper": ms["upper"]}, index=ms.index)
            out = pd.concat([par, der])
        except (FitError, ValueError, np.linalg.LinAlgError):
            out = par
        out.index.name = "term"
        return out[list(SUMMARY_COLUMNS)]

    @property
    def stats(self) -> pd.Series:
        """Fit statistics: nobs, df_resid, rss, sigma, loglik, aic, aicc, bic."""
        return pd.Series({"nobs": self.nobs, "df_resid": self.df_resid, "rss": self.rss,
                          "sigma": self.sigma, "loglik": self.loglik, "aic": self.aic,
                          "aicc": self.aicc, "bic": self.bic}, dtype=float)

    def _title(self):
        where = f"{self.case_id}: " if self.case_id else ""
        return (f"{where}{self.curve} fit of {self.metric or 'y'} (loss {self.loss}, "
                f"weights {self.weights}, n = {self.nobs})")

    def _repr_html_(self) -> str:
        import html

        st = self.stats
        head = (f"<h4>{html.escape(self._title())}</h4><p>{html.escape(self.spec.formula)}; "
                f"t in days since {self.origin.date() if self.origin is not None else 't = 0'}. "
                f"RSS {st['rss']:.4g}, AICc {st['aicc']:.4g}, BIC {st['bic']:.4g}.</p>")
        notes = "".join(f"<p><i>{html.escape(n)}</i></p>" for n in self.notes)
        return head + self.summary.to_html(float_format=lambda v: f"{v:.4g}") + notes

    def __repr__(self) -> str:
        return (f"<casekit.ReachFit {self.curve} case={self.case_id!r} metric={self.metric!r} "
                f"loss={self.loss} n={self.nobs}>")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description of the fit (estimates, covariance, data, statistics).

        :meth:`from_dict` rebuilds the result from it without refitting.
        """
        obs = self.obs
        times = [None if pd.isna(x) else pd.Timestamp(x).isoformat() for x in obs["time"]]
        ev = self.events
        return {
            "curve": self.curve,
            "curve_definition": ({k: (list(v) if isinstance(v, tuple) else v)
                                  for k, v in self.spec.definition.items()}
                                 if self.spec.definition else None),
            "formula": self.spec.formula,
            "case_id": self.case_id,
            "metric": self.metric,
            "origin": None if self.origin is None else self.origin.isoformat(),
            "loss": self.loss,
            "weights": self.weights,
            "alpha": self.alpha,
            "f_scale": _none_if_nan(self.f_scale),
            "converged": bool(self.converged),
            "n_starts": int(self.n_starts),
            "n_starts_ok": int(self.n_starts_ok),
            "notes": list(self.notes),
            "param_names": list(self.param_names),
            "params": {k: float(v) for k, v in zip(self.param_names, self.theta)},
            "bse": {k: _none_if_nan(float(v)) for k, v in self.bse.items()},
            "cov": [[float(x) for x in row] for row in self.cov_matrix],
            "stats": {k: _none_if_nan(float(v)) for k, v in self.stats.items()},
            "saturation": _none_if_nan(self.saturation),
            "data": {
                "t": [float(x) for x in obs["t"]],
                "time": times,
                "y": [float(x) for x in obs["y"]],
                "weight": [float(x) for x in obs["weight"]],
                **{c: [None if (x is None or (isinstance(x, float) and math.isnan(x)))
                       else str(x) for x in obs[c]]
                   for c in ("source", "confidence", "qualifier", "kind", "quote")},
            },
            "events": {
                "t": [float(x) for x in ev["t"]],
                "date": [pd.Timestamp(x).isoformat() for x in ev["date"]],
                "kind": [str(x) for x in ev["kind"]],
                "actor": [str(x) for x in ev["actor"]],
                "description": [str(x) for x in ev["description"]],
            },
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReachFit:
        """Rebuild a :class:`ReachFit` from :meth:`to_dict` output (no refit)."""
        spec = _spec_from_definition(d["curve"], d.get("curve_definition"))
        data = d["data"]
        obs = pd.DataFrame({
            "t": np.asarray(data["t"], dtype=float),
            "time": pd.to_datetime(pd.Series(data["time"], dtype=object)),
            "y": np.asarray(data["y"], dtype=float),
            "weight": np.asarray(data["weight"], dtype=float),
            **{c: np.asarray(data[c], dtype=object)
               for c in ("source", "confidence", "qualifier", "kind", "quote")},
        })[list(_OBS_COLUMNS)]
        ev = d.get("events") or {}
        events = pd.DataFrame({
            "t": np.asarray(ev.get("t", []), dtype=float),
            "date": pd.to_datetime(pd.Series(ev.get("date", []), dtype=object)),
            "kind": ev.get("kind", []), "actor": ev.get("actor", []),
            "description": ev.get("description", []),
        })
        return cls(spec=spec, theta=_readonly([d["params"][n] for n in d["param_names"]]),
                   cov_matrix=_readonly(d["cov"]), obs=obs, loss=d["loss"],
                   weights=d["weights"], alpha=float(d["alpha"]), case_id=d["case_id"],
                   metric=d["metric"],
                   origin=None if d["origin"] is None else pd.Timestamp(d["origin"]),
                   f_scale=d.get("f_scale"), converged=bool(d["converged"]),
                   n_starts=int(d["n_starts"]), n_starts_ok=int(d["n_starts_ok"]),
                   notes=tuple(d.get("notes", ())), events=events)

    def plot(self, **kwargs):
        """Observations, fitted curve with band, and timeline events: a plotly Figure.

        Keyword arguments go to :func:`casekit.plots.reach_plot` (``horizon``,
        ``log_y``, ``show_events``, ``interval``, ``x``...).
        """
        from casekit.plots import reach_plot

        return reach_plot(self, **kwargs)


def _numeric_share_time(spec: CurveSpec, share: float, th) -> Any:
    """Solve f(t) = share * saturation by bisection; vectorised over parameter arrays."""
    th = [np.asarray(x, dtype=float) for x in th]
    target = share * np.asarray(spec.saturation(*th), dtype=float)
    shape = np.broadcast(*th).shape
    lo = np.full(shape, -1.0)
    hi = np.full(shape, 1.0)
    with np.errstate(all="ignore"):
        for _ in range(80):
            need = spec.f(lo, *th) > target
            if not np.any(need):
                break
            lo = np.where(need, lo * 2.0, lo)
        for _ in range(80):
            need = spec.f(hi, *th) < target
            if not np.any(need):
                break
            hi = np.where(need, hi * 2.0, hi)
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            below = spec.f(mid, *th) < target
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
    out = 0.5 * (lo + hi)
    return float(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------

def fit(data, curve: str | CurveSpec = "logistic", *, metric: str | None = None, t=None,
        loss: str = "ols", weights=None, kinds: Iterable[str] = ("observed", "reported"),
        min_confidence: str = "unverified", start=None, alpha: float = 0.05,
        n_starts: int | None = None, seed: int = 0, f_scale: float | None = None,
        origin=None) -> ReachFit:
    """Fit a growth curve to cumulative reach observations.

    Parameters
    ----------
    data : Case, pandas.Series, pandas.DataFrame or array-like
        A :class:`~casekit.Case` (with ``metric``); a Series of values indexed by days
        since the origin or by dates (then ``origin``, default the first date's
        midnight); a DataFrame with ``value`` and ``t`` or ``time`` columns (for
        example :meth:`Case.series` output; ``source``, ``confidence``, ``qualifier``
        are kept when present); or an array of values with ``t=``.
    curve : str or CurveSpec
        A name in :data:`CURVES` or a spec, e.g. from :func:`multiwave`.
    metric : str, optional
        The case's metric. Default: the cumulative metric with most observations.
    t : array-like, optional
        Times (days since origin, or dates) for array or Series data.
    loss : {"ols", "log", "robust", "robust_log"}
        See :data:`LOSSES`.
    weights : None, "confidence", mapping or array
        ``"confidence"`` uses :data:`CONFIDENCE_WEIGHTS` (high 1, medium 0.5, low 0.25,
        unverified 0.1); a mapping overrides them; an array gives one weight per
        observation, in the order the data are given.
    kinds : iterable of str
        Kinds of case figures to use (default observed and reported).
    min_confidence : str
        Drop case figures less confident than this.
    start : sequence or mapping, optional
        Starting values (one vector, or several rows); default from the curve's ``p0``.
    alpha : float
        Default interval level of the result (0.05 = 95 %).
    n_starts : int, optional
        Number of starting points (the curve's own plus random perturbations); the
        best converged solution wins. Default 4, or 10 for curves with more than 4
        parameters.
    seed : int
        Seed of the random starts.
    f_scale : float, optional
        Huber threshold for robust losses, on the fitting scale (default 1.345 robust
        standard deviations of the least-squares residuals).
    origin : date-like, optional
        The date of t = 0 (overrides the case's origin).

    Returns
    -------
    ReachFit

    Raises
    ------
    InsufficientDataError
        Fewer observations (or distinct times) than the curve needs, a metric that is not
        cumulative, or no origin date; the message says which, in plain words.
    FitError
        No start converged, or the data cannot identify the curve's parameters.

    Examples
    --------
    >>> import casekit as ck
    >>> case = ck.load_case("synthetic-example")
    >>> res = ck.reach.fit(case, "gompertz", metric="video_views", loss="log")
    >>> res.loss, res.nobs, res.df_resid
    ('log', 28, 25)
    >>> ck.reach.fit([1.0, 2.0, 3.0], t=[0, 1, 2])
    Traceback (most recent call last):
    ...
    casekit.exceptions.InsufficientDataError: 3 observations of y, but ... at least 4 ...
    """
    spec = _get_spec(curve)
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, not {loss!r}")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    prep = _prepare(data, metric=metric, t=t, kinds=tuple(kinds), weights=weights,
                    origin=origin, min_confidence=min_confidence)
    return _fit_prepared(prep, spec, loss=loss, start=start, alpha=alpha, n_starts=n_starts,
                         seed=seed, f_scale=f_scale)


def _check_positive_on_log_scale(spec: CurveSpec, t, y, theta, where: str) -> None:
    """Raise FitError if the fitted curve is 0 (or negligibly small) at an observation.

    On the log scale such a point has a residual of about log(1e-300) = -690: the fit is
    meaningless however well the optimiser converged (bass and expsat are 0 at t = 0).
    """
    with np.errstate(all="ignore"):
        fv = np.asarray(spec.f(t, *theta), dtype=float)
    floor = 1e-12 * float(np.min(y))
    bad = ~(fv > floor)
    if not bad.any():
        return
    nb = int(bad.sum())
    obs_txt = f"{nb} observation{'s' if nb != 1 else ''}"
    if np.all(t[bad] <= 0) and np.all(spec.f(np.array([0.0]), *theta) <= floor):
        msg = (f"{spec.name} is 0 at t <= 0, so it cannot be fitted on the log scale to the "
               f"{obs_txt} at or before the origin")
    else:
        days = ", ".join(f"{v:g}" for v in np.unique(t[bad])[:5])
        msg = (f"the fitted {spec.name} curve is 0 (or negligibly small) at the {obs_txt} at "
               f"t = {days}{' ...' if np.unique(t[bad]).size > 5 else ''}, so it cannot be "
               f"fitted to them on the log scale")
    raise FitError(f"{where}{msg}; use loss='ols' or drop them")


def _fit_prepared(prep: _Prepared, spec: CurveSpec, *, loss, start, alpha, n_starts, seed,
                  f_scale) -> ReachFit:
    obs = prep.obs
    t = obs["t"].to_numpy(dtype=float)
    y = obs["y"].to_numpy(dtype=float)
    w = obs["weight"].to_numpy(dtype=float)
    n, p = len(y), spec.k
    what = prep.metric or "y"
    where = f"{prep.case_id}: " if prep.case_id else ""
    n_times = len(np.unique(t))
    if n <= p or n_times < p:
        raise InsufficientDataError(
            f"{where}{n} observation{'s' if n != 1 else ''} of {what}"
            f"{f' at {n_times} distinct times' if n_times != n else ''}, but the {spec.name} "
            f"curve has {p} parameters ({', '.join(spec.param_names)}): a fit needs at least "
            f"{p + 1} dated observations at {p} or more distinct times.")
    if n_starts is None:
        n_starts = 4 if p <= 4 else 10
    prob = _make_problem(spec, t, y, w, loss)
    starts = _starts(spec, t, y, start, int(n_starts), seed)
    fs_internal = None
    notes = []
    if prep.n_dropped:
        notes.append(f"{prep.n_dropped} observation{'s' if prep.n_dropped != 1 else ''} without "
                     f"a value or time {'were' if prep.n_dropped != 1 else 'was'} left out")
    if prob.robust:
        pre = _make_problem(spec, t, y, w, "log" if prob.log else "ols")
        th0, _, ok0, _ = _solve(pre, starts)
        if th0 is None:
            raise FitError(f"{where}the {spec.name} curve did not converge from any of "
                           f"{len(starts)} starting points (least-squares pre-fit for the "
                           f"robust loss); try other starting values (start=...)")
        if f_scale is None:
            r0 = pre.resid(th0)
            mad = 1.4826 * float(np.median(np.abs(r0 - np.median(r0))))
            f_scale = 1.345 * (mad if mad > 0 else float(np.std(r0)) or 1.0)
        fs_internal = f_scale / (1.0 if prob.log else prob.yscale)
        starts = [th0] + starts
        notes.append("robust loss: standard errors are approximate (IRLS weights at the "
                     "solution); compare conf_int(method='bootstrap')")
    theta, res, n_ok, msgs = _solve(prob, starts, fs_internal)
    if theta is None:
        detail = f" (last message: {msgs[-1]})" if msgs else ""
        raise FitError(f"{where}the {spec.name} curve did not converge from any of "
                       f"{len(starts)} starting points{detail}; try other starting values "
                       f"(start=...), another loss, or a simpler curve")
    if prob.log:
        _check_positive_on_log_scale(spec, t, y, theta, where)
    cov, _, _ = _covariance(prob, theta, f_scale)
    lo, hi = prob.lo, prob.hi
    tol = 1e-6 * np.maximum(1.0, np.abs(theta))
    at_bound = [nm for nm, v, a, b in zip(spec.param_names, theta, lo, hi)
                if (np.isfinite(a) and v - a < tol[spec.param_names.index(nm)])
                or (np.isfinite(b) and b - v < tol[spec.param_names.index(nm)])]
    if at_bound:
        notes.append(f"parameter(s) {', '.join(at_bound)} at a bound: their standard errors "
                     f"and intervals are not reliable")
    sat = float(spec.saturation(*theta))
    if sat > 100 * float(np.max(y)):
        notes.append(f"the saturation ({sat:.3g}) is over 100 times the largest observation: "
                     f"the data do not show the curve levelling off")
    return ReachFit(spec=spec, theta=_readonly(theta), cov_matrix=_readonly(cov), obs=obs,
                    loss=loss, weights=prep.weights, alpha=float(alpha), case_id=prep.case_id,
                    metric=prep.metric, origin=prep.origin,
                    f_scale=None if f_scale is None else float(f_scale),
                    converged=n_ok >= 1, n_starts=len(starts), n_starts_ok=n_ok,
                    notes=tuple(notes), events=prep.events)


# ---------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------

COMPARE_COLUMNS = ("curve", "k", "nobs", "rss", "loglik", "aicc", "delta_aicc",
                   "akaike_weight", "saturation", "peak_time", "t90", "converged", "error",
                   "notes")


@dataclass(frozen=True, repr=False, eq=False)
class Comparison:
    """Several curves fitted to one series, ranked by AICc (best first).

    Attributes
    ----------
    fits : Mapping[str, ReachFit]
        The fits that succeeded, by curve name.
    errors : Mapping[str, str]
        Curves that failed, with the plain-language reason.
    """

    _table: pd.DataFrame
    fits: Mapping[str, ReachFit]
    errors: Mapping[str, str]
    case_id: str | None
    metric: str | None
    loss: str

    @property
    def table(self) -> pd.DataFrame:
        """One row per curve: ``curve, k, nobs, rss, loglik, aicc, delta_aicc,
        akaike_weight, saturation, peak_time, t90, converged, error, notes``, best first.

        ``error`` is why a curve could not be fitted; ``notes`` the caveats of a fit
        that could (a parameter on a bound, approximate standard errors)."""
        return self._table.copy()

    @property
    def summary(self) -> pd.DataFrame:
        return self.table

    @property
    def best(self) -> ReachFit:
        """The fit with the lowest AICc.

        Raises FitError if no curve could be fitted, or if none has a finite AICc (every
        fitted curve has n <= k + 2 observations for its k parameters, so AICc cannot rank
        them).
        """
        if not self.fits:
            raise FitError("no curve could be fitted: " + "; ".join(
                f"{k}: {v}" for k, v in self.errors.items()))
        aicc = self._table["aicc"].to_numpy(dtype=float)
        if not np.any(aicc < np.inf):    # all NaN (failed) or +inf (too few observations)
            n = int(self._table["nobs"].max())
            raise FitError(
                f"no best curve: with {n} observations none of the fitted curves "
                f"({', '.join(self.fits)}) has a finite AICc, which needs more than k + 2 "
                f"observations for a curve with k parameters; add observations, or pick a "
                f"fit yourself from .fits")
        return self.fits[self._table["curve"].iloc[0]]

    def plot(self, **kwargs):
        """Overlay of all fitted curves on the observations (see plots.compare_plot)."""
        from casekit.plots import compare_plot

        return compare_plot(self, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        tab = self._table.astype(object).where(self._table.notna(), None)
        return {"case_id": self.case_id, "metric": self.metric, "loss": self.loss,
                "table": [{k: _none_if_nan(v) for k, v in row.items()}
                          for row in tab.to_dict(orient="records")],
                "errors": dict(self.errors)}

    def _repr_html_(self) -> str:
        import html

        where = f"{self.case_id}: " if self.case_id else ""
        head = f"<h4>{html.escape(where)}curves for {html.escape(str(self.metric or 'y'))}, " \
               f"loss {html.escape(self.loss)}, ranked by AICc</h4>"
        return head + self._table.to_html(index=False, float_format=lambda v: f"{v:.4g}")

    def __repr__(self) -> str:
        return (f"<casekit.Comparison case={self.case_id!r} metric={self.metric!r} "
                f"curves={list(self._table['curve'])}>")


def case_curves(case) -> list[str | CurveSpec]:
    """The curves a case's ``analysis`` block asks for (or :data:`DEFAULT_CURVES`).

    ``analysis.curves`` names registered curves; each entry of ``analysis.waves`` is the
    list of anchors of one :func:`multiwave` logistic curve (``null`` for a free wave, a
    date, days since the origin, or a timeline event kind).

    Examples
    --------
    >>> import casekit as ck
    >>> ck.reach.case_curves(ck.load_case("synthetic-example")) == list(ck.reach.DEFAULT_CURVES)
    True
    """
    analysis = getattr(case, "analysis", {}) or {}
    curves: list[str | CurveSpec] = list(analysis.get("curves") or DEFAULT_CURVES)
    for anchors in analysis.get("waves", ()):
        anchors = tuple(anchors)
        curves.append(multiwave("logistic", len(anchors),
                                anchors=None if all(a is None for a in anchors) else anchors,
                                case=case))
    return curves


def compare(data, curves: Iterable[str | CurveSpec] | None = None, **fit_kwargs) -> Comparison:
    """Fit several curves to one series and rank them by AICc.

    Curves that cannot be fitted appear at the bottom of the table with their error
    message instead of raising. The Akaike weights are computed over the fitted curves.

    Parameters
    ----------
    data
        As for :func:`fit`.
    curves : iterable of str or CurveSpec, optional
        Default: for a Case, :func:`case_curves` (its ``analysis`` block); otherwise
        :data:`DEFAULT_CURVES`.
    **fit_kwargs
        Passed to :func:`fit` (``metric``, ``loss``, ``weights``...). For a Case, ``metric``
        and ``loss`` default to its ``analysis`` block when that names them.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> import casekit as ck
    >>> cmp = ck.reach.compare(ck.load_case("synthetic-example"), metric="video_views")
    >>> cmp.table["curve"].tolist()[:2]
    ['logistic', 'richards']
    >>> round(float(cmp.table["akaike_weight"].sum()), 6)
    1.0
    """
    prep_keys = ("metric", "t", "kinds", "weights", "origin", "min_confidence")
    prep_kw = {k: fit_kwargs.pop(k) for k in prep_keys if k in fit_kwargs}
    if "kinds" in prep_kw:
        prep_kw["kinds"] = tuple(prep_kw["kinds"])
    prep = _prepare(data, **prep_kw)
    if _is_case(data):
        if curves is None:
            curves = case_curves(data)
        if fit_kwargs.get("loss") is None:
            fit_kwargs["loss"] = (getattr(data, "analysis", {}) or {}).get("loss", "ols")
    if curves is None:
        curves = DEFAULT_CURVES
    if fit_kwargs.get("loss") is None:
        fit_kwargs.pop("loss", None)
    loss = fit_kwargs.get("loss", "ols")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, not {loss!r}")
    opts = dict(loss="ols", start=None, alpha=0.05, n_starts=None, seed=0, f_scale=None)
    unknown = set(fit_kwargs) - set(opts)
    if unknown:
        raise TypeError(f"unknown argument(s) for fit: {', '.join(sorted(unknown))}")
    opts.update(fit_kwargs)
    fits, errors, rows = {}, {}, []
    for c in curves:
        spec = _get_spec(c)
        try:
            res = _fit_prepared(prep, spec, **opts)
        except FitError as err:
            errors[spec.name] = str(err)
            rows.append({"curve": spec.name, "k": spec.k, "nobs": len(prep.obs),
                         "converged": False, "error": str(err)})
            continue
        fits[spec.name] = res
        try:
            # the table shows estimates only: skip the intervals (numerical gradients of
            # root-solved times, slow for multi-wave curves)
            t90 = float(res._share_fun(0.9)(*res.theta))
            pk = float(res.spec.peak_time(*res.theta))
        except (FitError, ValueError):
            t90 = pk = float("nan")
        rows.append({"curve": spec.name, "k": spec.k, "nobs": res.nobs, "rss": res.rss,
                     "loglik": res.loglik, "aicc": res.aicc, "saturation": res.saturation,
                     "peak_time": pk, "t90": t90, "converged": res.converged, "error": None,
                     "notes": "; ".join(res.notes) if res.notes else None})
    tab = pd.DataFrame(rows, columns=[c for c in COMPARE_COLUMNS])
    a = tab["aicc"].to_numpy(dtype=float)
    finite = np.isfinite(a)
    if finite.any():
        d = a - np.min(a[finite])
        tab["delta_aicc"] = np.where(finite, d, np.nan)
        wts = np.where(finite, np.exp(-0.5 * np.where(finite, d, 0.0)), 0.0)
        tab["akaike_weight"] = np.where(finite, wts / wts.sum(), np.nan)
    tab["converged"] = tab["converged"].astype(bool)
    tab = tab.sort_values(["aicc"], na_position="last", kind="stable").reset_index(drop=True)
    for c in ("k", "nobs"):
        tab[c] = tab[c].astype(int)
    return Comparison(_table=tab, fits=MappingProxyType(fits),
                      errors=MappingProxyType(errors), case_id=prep.case_id,
                      metric=prep.metric, loss=opts["loss"])


# ---------------------------------------------------------------------------
# describe: what there is when nothing can be fitted
# ---------------------------------------------------------------------------

@dataclass(frozen=True, repr=False, eq=False)
class DescriptiveReach:
    """A descriptive summary of a case's reach data, with a plain explanation.

    Attributes
    ----------
    case_id : str
    fittable : tuple of str
        Metrics with enough dated cumulative observations for a 3-parameter curve.
    explanation : str
        What can and cannot be fitted, and why, in plain words.
    """

    case_id: str
    _table: pd.DataFrame
    fittable: tuple[str, ...]
    explanation: str
    _figures: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def figures(self) -> pd.DataFrame | None:
        """The case's reach rows (all kinds) of the described metrics, as ``Case.reach``
        gives them; what :meth:`plot` draws. ``None`` if not kept."""
        return None if self._figures is None else self._figures.copy()

    @property
    def table(self) -> pd.DataFrame:
        """Per metric: ``metric, unit, cumulative, n, n_sources, first_time, last_time,
        min, max, last_value, fittable, reason``."""
        return self._table.copy()

    @property
    def main_metric(self) -> str | None:
        """The metric a report should tell the story with: the first fittable one (the
        case's own choice first), else the one with the most figures, else ``None``
        (no reach figures at all)."""
        if self.fittable:
            return self.fittable[0]
        table = self._table
        if table.empty:
            return None
        return str(table.sort_values("n_all_kinds", ascending=False, kind="stable")
                   ["metric"].iloc[0])

    @property
    def summary(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        tab = self._table.copy()
        for c in ("first_time", "last_time"):
            tab[c] = [None if pd.isna(x) else pd.Timestamp(x).isoformat() for x in tab[c]]
        tab = tab.astype(object).where(tab.notna(), None)
        return {"case_id": self.case_id, "fittable": list(self.fittable),
                "explanation": self.explanation,
                "table": [{k: _none_if_nan(v) for k, v in r.items()}
                          for r in tab.to_dict(orient="records")]}

    def _repr_html_(self) -> str:
        import html

        return (f"<h4>{html.escape(self.case_id)}: reach data</h4>"
                f"<p>{html.escape(self.explanation)}</p>" + self._table.to_html(index=False))

    def __repr__(self) -> str:
        return f"<casekit.DescriptiveReach {self.case_id!r} fittable={list(self.fittable)}>"

    def plot(self, **kwargs):
        """The case's raw reach figures per metric (see plots.reach_describe_plot)."""
        from casekit.plots import reach_describe_plot

        return reach_describe_plot(self, **kwargs)

    def __str__(self) -> str:
        return self.explanation


def describe(case, metric: str | None = None, *, kinds: Iterable[str] = ("observed", "reported"),
             min_n: int = 4) -> DescriptiveReach:
    """Summarise a case's reach figures and say plainly what can be fitted.

    Parameters
    ----------
    case : Case
    metric : str, optional
        Restrict the table to one metric.
    kinds : iterable of str
        Kinds of figures counted as data (default observed and reported).
    min_n : int
        Observations needed to call a metric fittable (4: a 3-parameter curve + 1).

    Returns
    -------
    DescriptiveReach

    Examples
    --------
    >>> import casekit as ck
    >>> d = ck.reach.describe(ck.load_case("synthetic-example"))
    >>> d.fittable
    ('video_views',)
    """
    kinds = tuple(kinds)
    reach = case.reach
    metrics = [metric] if metric is not None else list(case.metrics)
    rows = []
    for m in metrics:
        allrows = reach[reach["metric"] == m]
        s = allrows[allrows["kind"].isin(kinds)]
        cum = bool(allrows["cumulative"].astype(bool).all()) if len(allrows) else False
        n = len(s)
        if case.origin is None:
            reason = f"no origin date ({case.origin_key} is unknown)"
        elif not cum:
            reason = "not cumulative (per-period or outlet-level figures)"
        elif n < min_n:
            reason = f"only {n} figure{'s' if n != 1 else ''} of kind {'/'.join(kinds)}"
        else:
            reason = ""
        rows.append({
            "metric": m,
            "unit": ", ".join(sorted(set(allrows["unit"].astype(str)))) if "unit" in allrows
            else "",
            "cumulative": cum, "n": n, "n_all_kinds": len(allrows),
            "n_sources": int(s["source"].nunique()),
            "first_time": s["time"].min() if n else pd.NaT,
            "last_time": s["time"].max() if n else pd.NaT,
            "min": float(s["value"].min()) if n else np.nan,
            "max": float(s["value"].max()) if n else np.nan,
            "last_value": float(s.sort_values("time")["value"].iloc[-1]) if n else np.nan,
            "fittable": reason == "", "reason": reason or "enough dated cumulative figures",
        })
    table = pd.DataFrame(rows, columns=["metric", "unit", "cumulative", "n", "n_all_kinds",
                                        "n_sources", "first_time", "last_time", "min", "max",
                                        "last_value", "fittable", "reason"])
    fittable = tuple(table.loc[table["fittable"], "metric"])
    preferred = (getattr(case, "analysis", {}) or {}).get("metric")
    if preferred in fittable:  # the case author's choice first
        fittable = (preferred, *[m for m in fittable if m != preferred])
    need = (f"a growth curve needs at least p + 1 dated observations of one cumulative metric "
            f"({min_n} for a 3-parameter curve such as the logistic)")
    if fittable:
        best = table[table["fittable"]].sort_values("n", ascending=False).iloc[0]
        explanation = (f"{case.id} can be fitted: {len(fittable)} metric(s) have enough dated "
                       f"cumulative figures ({', '.join(fittable)}); the richest is "
                       f"{best['metric']} with {best['n']} figures from {best['n_sources']} "
                       f"sources, {pd.Timestamp(best['first_time']).date()} to "
                       f"{pd.Timestamp(best['last_time']).date()}.")
    elif table.empty:
        explanation = f"{case.id} has no reach figures at all, so nothing can be fitted; {need}."
    else:
        groups: dict[str, list[str]] = {}
        for r in table.itertuples():
            what = f"{r.n} figure{'s' if r.n != 1 else ''}"
            if r.n_all_kinds > r.n:
                what += f" + {r.n_all_kinds - r.n} claimed/derived"
            groups.setdefault(r.reason, []).append(f"{r.metric} ({what})")
        if not table["cumulative"].any() and case.origin is not None:
            explanation = (f"{case.id} has no time series of its story's reach, only figures "
                           f"that are not cumulative (outlet-level or point-in-time counts): "
                           f"{', '.join(sum(groups.values(), []))}. Not enough data to fit: "
                           f"{need}.")
        else:
            parts = "; ".join(f"{reason}: {', '.join(ms)}" for reason, ms in groups.items())
            explanation = (f"{case.id} has too few dated cumulative figures to fit a growth "
                           f"curve ({parts}). Not enough data to fit: {need}.")
    return DescriptiveReach(case_id=case.id, _table=table, fittable=fittable,
                            explanation=explanation,
                            _figures=reach[reach["metric"].isin(metrics)].reset_index(drop=True))


NORMALISED_COLUMNS = ("case", "metric", "time", "t", "value", "share", "source", "confidence")
"""Column contract of :func:`normalised`."""


def normalised(cases, *, min_points: int = 3) -> pd.DataFrame:
    """Every case's main reach series on one axis: days since going public and share of the
    largest value recorded for that series.

    The main series is the first fittable metric of :func:`describe` (the case's own
    ``analysis.metric`` when it names one). Cases whose main series has fewer than
    ``min_points`` observations, or none at all, are left out; the frame's
    ``attrs["left_out"]`` maps each to the reason. The share is of the largest *recorded*
    value, not of a fitted saturation: it compares shapes and timing, not sizes.

    Examples
    --------
    >>> import casekit as ck
    >>> df = ck.reach.normalised([ck.load_case("synthetic-example")])
    >>> float(df["share"].max())
    1.0
    """
    frames, left_out = [], {}
    for case in cases:
        desc = describe(case)
        if not desc.fittable:
            left_out[case.id] = "no fittable reach series"
            continue
        metric = desc.fittable[0]
        s = case.series(metric)
        if len(s) < min_points:
            left_out[case.id] = f"{len(s)} observations of {metric} (< {min_points})"
            continue
        frames.append(s.assign(case=case.id, metric=metric,
                               share=s["value"] / s["value"].max()))
    cols = list(NORMALISED_COLUMNS)
    out = (pd.concat(frames, ignore_index=True)[cols] if frames
           else pd.DataFrame(columns=cols))
    out.attrs["left_out"] = left_out
    return out
