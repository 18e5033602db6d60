"""Growth curves declared as data: :class:`CurveSpec`, the five curves and their registry.

:data:`CURVES` maps a name to a :class:`CurveSpec` (logistic, gompertz, richards, bass,
expsat); :func:`register_curve` adds one. :func:`casekit.reach.multiwave` builds a sum of
waves of one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import special

from casekit.exceptions import ParameterError

__all__ = ["CurveSpec", "CURVES", "DEFAULT_CURVES", "register_curve"]

DEFAULT_CURVES = ("logistic", "gompertz", "richards", "bass", "expsat")
"""The curves :func:`casekit.reach.compare` fits unless told otherwise."""

_TINY = 1e-300
_EXP_MAX = 700.0


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
    jac : callable or None
        ``jac(t, *params)`` for a 1-d array ``t`` and params that are scalars or 1-d
        arrays of its length: the analytic derivatives, an array of shape
        ``(len(t), 1 + k)`` whose first column is ``df/dt`` and the others
        ``df/dparam`` in ``param_names`` order. Optional: the fitter uses finite
        differences without it.
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
    jac: Callable[..., np.ndarray] | None = None

    def __post_init__(self):
        p = len(self.param_names)
        if len(self.bounds) != p:
            raise ParameterError(
                f"curve {self.name!r}: {p} parameters but {len(self.bounds)} bounds"
            )
        if self.rate_param not in self.param_names:
            raise ParameterError(
                f"curve {self.name!r}: rate_param {self.rate_param!r} is not a parameter"
            )
        for s in self.scale_params:
            if s not in self.param_names:
                raise ParameterError(
                    f"curve {self.name!r}: scale parameter {s!r} is not a parameter"
                )

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
    k = int(np.count_nonzero(m))
    if k < 2:
        return None
    tm = t[m]
    if tm.max() == tm.min():
        return None
    z = transform(p[m])
    t_mean, z_mean = float(np.add.reduce(tm)) / k, float(np.add.reduce(z)) / k  # as np.mean
    tc = tm - t_mean
    slope = float(tc @ (z - z_mean)) / float(tc @ tc)  # least-squares line (np.polyfit)
    intercept = z_mean - slope * t_mean
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


def _logistic_jac(t, K, r, t0):
    d = t - t0
    s = special.expit(r * d)
    out = np.empty((np.size(d), 4))
    out[:, 1] = s
    ds = K * s * (1.0 - s)
    out[:, 0] = r * ds
    out[:, 2] = ds * d
    out[:, 3] = -out[:, 0]
    return out


def _logistic_share(s, K, r, t0):
    return t0 + np.log(s / (1 - s)) / r


LOGISTIC = CurveSpec(
    name="logistic",
    param_names=("K", "r", "t0"),
    bounds=((0.0, np.inf), (0.0, np.inf), (-np.inf, np.inf)),
    f=_logistic,
    jac=_logistic_jac,
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


def _gompertz_jac(t, K, r, t0):
    E = _clip_exp(-r * (t - t0))
    g = np.exp(-E)
    fE = K * g * E
    return np.column_stack([r * fE, g, fE * (t - t0), -r * fE])


def _gompertz_share(s, K, r, t0):
    return t0 - np.log(-np.log(s)) / r


GOMPERTZ = CurveSpec(
    name="gompertz",
    param_names=("K", "r", "t0"),
    bounds=((0.0, np.inf), (0.0, np.inf), (-np.inf, np.inf)),
    f=_gompertz,
    jac=_gompertz_jac,
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


def _richards_jac(t, K, r, t0, nu):
    z = -r * (t - t0)
    sp = np.logaddexp(0.0, z)
    g = np.exp(-sp / nu)
    q = K * g * special.expit(z) / nu  # -df/dz
    return np.column_stack([r * q, g, q * (t - t0), -r * q, K * g * sp / nu**2])


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
    jac=_richards_jac,
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


def _bass_jac(t, m, p, q):
    s = p + q
    a = s * t
    inside = a > -50.0
    e = _clip_exp(-np.clip(a, -50.0, None))
    pp = np.maximum(p, _TINY)
    rho = q / pp
    den = 1.0 + rho * e
    df_de = -m * (1.0 + rho) / den**2
    df_drho = -m * (1.0 - e) * e / den**2
    de = np.where(inside, -e, 0.0)  # d e / d (s t)
    drho_dp = np.where(p > _TINY, -q / pp**2, 0.0)
    return np.column_stack(
        [
            df_de * de * s,
            (1.0 - e) / den,
            df_de * de * t + df_drho * drho_dp,
            df_de * de * t + df_drho / pp,
        ]
    )


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
    jac=_bass_jac,
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


def _expsat_jac(t, K, r):
    x = r * t
    ex = np.where(x > -50.0, np.exp(-np.maximum(x, -50.0)), 0.0)
    return np.column_stack([K * r * ex, -np.expm1(-np.maximum(x, -50.0)), K * t * ex])


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
    jac=_expsat_jac,
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


CURVES: dict[str, CurveSpec] = {s.name: s for s in (LOGISTIC, GOMPERTZ, RICHARDS, BASS, EXPSAT)}
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
        raise ParameterError(f"register_curve expects a CurveSpec, not {type(spec).__name__}")
    if spec.name in CURVES and not replace:
        raise ParameterError(
            f"a curve named {spec.name!r} is already registered; pass replace=True to overwrite it"
        )
    CURVES[spec.name] = spec
    return spec


def _get_spec(curve) -> CurveSpec:
    if isinstance(curve, CurveSpec):
        return curve
    if isinstance(curve, str):
        if curve in CURVES:
            return CURVES[curve]
        raise ParameterError(
            f"unknown curve {curve!r}; registered: {', '.join(CURVES)} "
            f"(or build one with multiwave())"
        )
    raise ParameterError(f"curve must be a name in CURVES or a CurveSpec, not {curve!r}")


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
