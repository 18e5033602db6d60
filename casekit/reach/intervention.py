"""Intervention curves: a growth curve whose spread rate the company's responses change.

:func:`intervention` turns any curve (logistic, gompertz, richards, bass, expsat, a
:func:`~casekit.reach.multiwave` curve, a registered curve) into one that runs in an
*operational time*

.. math::

    \\tau(t) = \\int_0^t a(s)\\, m(s)\\, ds, \\qquad a(s) = e^{-\\delta s}, \\qquad
    m(s) = \\prod_k (1 - e_k)^{[s \\ge t_k]},

so ``y(t) = F(tau(t); theta)`` with ``F`` the base curve. Each response at ``t_k``
multiplies the spread rate by ``(1 - e_k)`` from ``t_k`` on (``e_k < 0``: a response
that fuelled the storm). ``a(s)`` is attention decay: the public's attention to the
story fades at rate ``delta`` per day (half-life ``ln 2 / delta``).

Why attention decay: a saturating curve whose rate is damped still reaches its
asymptote at an infinite horizon (it only gets there later), so damping the rate alone
saves nothing in final reach. With attention decaying, operational time is finite,
``tau(inf) = 1/delta - sum_k (c_{k-1} - c_k)(1/delta - A(t_k))`` with
``c_k = prod_{j <= k} (1 - e_j)`` and ``A(t) = (1 - e^{-delta t}) / delta``, and the final
reach ``F(tau(inf))`` falls when a response slows the spread, as the final size of an
SIR epidemic falls when its contact rate does. With ``delta = 0`` and no response the
curve is the base curve. ``tau`` is closed form (sums of exponentials), so the curve stays
closed form and vectorises over parameter draws. Before the first response
``tau(t) = A(t)`` (also for ``t < 0``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import MappingProxyType

import numpy as np
import pandas as pd

from casekit.exceptions import ParameterError
from casekit.reach.curves import CurveSpec, _get_spec

__all__ = ["intervention", "RESPONSE_CHOICES", "E_BOUNDS", "DELTA_BOUNDS", "operational_time"]

E_BOUNDS = (-3.0, 0.99)
"""Bounds of an estimated response effect e (negative: the response fuelled the storm)."""

DELTA_BOUNDS = (0.0, 10.0)
"""Bounds of the attention decay rate delta (per day)."""

RESPONSE_CHOICES = ("first", "all")
"""Which company responses of a case :func:`response_schedule` uses by name."""


def _attention(t, delta):
    """A(t) = (1 - exp(-delta t)) / delta, and t where delta = 0."""
    t = np.asarray(t, dtype=float)
    delta = np.asarray(delta, dtype=float)
    if delta.ndim == 0:  # the fitting path: one decay rate, no broadcasting to guard
        d = float(delta)
        if d == 0.0:
            return t + 0.0
        x = d * t
        if d > 1e-150:  # expm1 keeps full precision down to x ~ 1e-300
            return -np.expm1(-np.maximum(x, -700.0)) / d
        return t * (1.0 - 0.5 * x)
    x = delta * t
    small = np.abs(x) < 1e-7
    safe = np.where(delta > 0, delta, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        big = -np.expm1(-np.maximum(x, -700.0)) / safe
    return np.where(small, t * (1.0 - 0.5 * x), big)


def operational_time(t, delta, times: Sequence[float], effects: Sequence) -> np.ndarray:
    """tau(t) of the module docstring, broadcast over arrays of delta and effects.

    Examples
    --------
    >>> from casekit.reach.intervention import operational_time
    >>> operational_time([0.0, 1.0, 3.0], 0.0, [1.0], [0.5]).tolist()
    [0.0, 1.0, 2.0]
    """
    if isinstance(delta, (float, int)) and all(isinstance(x, (float, int)) for x in effects):
        return _operational_time_fixed(t, float(delta), times, effects)
    A = _attention(t, delta)
    c_prev = 1.0
    out = A
    for tk, ek in zip(times, effects):
        c = c_prev * (1.0 - np.asarray(ek, dtype=float))
        out = out - (c_prev - c) * np.maximum(A - _attention(tk, delta), 0.0)
        c_prev = c
    return out


def _attention_at(t: float, d: float) -> float:
    """A(t) of one time and one decay rate, in plain floats."""
    x = d * t
    if abs(x) < 1e-7:
        return t * (1.0 - 0.5 * x)
    return -math.expm1(-max(x, -700.0)) / d


def _operational_time_fixed(t, d: float, times, effects) -> np.ndarray:
    """operational_time for one decay rate and fixed effects (the fitting path): the
    response terms in plain floats."""
    A = _attention(t, d)
    c_prev = 1.0
    out = A
    for tk, ek in zip(times, effects):
        c = c_prev * (1.0 - float(ek))
        out = out - (c_prev - c) * np.maximum(A - _attention_at(float(tk), d), 0.0)
        c_prev = c
    return out


def _tau_inf(delta, times, effects):
    delta = np.asarray(delta, dtype=float)
    safe = np.where(delta > 0, delta, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):  # subnormal delta: tau(inf) = inf
        out = 1.0 / safe
        c_prev = 1.0
        for tk, ek in zip(times, effects):
            c = c_prev * (1.0 - np.asarray(ek, dtype=float))
            out = out - (c_prev - c) * (1.0 / safe - _attention(tk, delta))
            c_prev = c
    return np.where(delta > 0, out, np.inf)


def _as_mode(value, what: str, bounds):
    if isinstance(value, str):
        if value != "estimate":
            raise ParameterError(f"{what} must be 'estimate' or a number, not {value!r}")
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise ParameterError(f"{what} must be 'estimate' or a number, not {value!r}")
    v = float(value)
    if not (bounds[0] <= v <= bounds[1]):
        raise ParameterError(f"{what} = {v:g} is outside {bounds[0]:g}..{bounds[1]:g}")
    return v


def intervention(
    base: str | CurveSpec = "logistic",
    responses: Sequence[float] = (),
    *,
    e="estimate",
    delta="estimate",
    name: str | None = None,
) -> CurveSpec:
    """A curve whose spread rate each company response multiplies by ``(1 - e_k)``.

    ``y(t) = F(tau(t))`` with ``F`` the base curve and ``tau`` the operational time of
    the module docstring: attention decays at rate ``delta`` per day and each response
    at ``t_k`` multiplies the rate of spread by ``(1 - e_k)`` from then on.

    Parameters
    ----------
    base : str or CurveSpec
        The base curve (any registered curve or a :func:`multiwave` spec).
    responses : sequence of float
        Response times in days since the origin (see :func:`response_schedule` to take
        them from a case).
    e : "estimate", float or sequence
        Per response: ``"estimate"`` (a parameter ``e_k`` bounded to
        :data:`E_BOUNDS`) or a fixed scenario value. One value applies to every response.
    delta : "estimate" or float
        The attention decay rate: a parameter bounded to :data:`DELTA_BOUNDS`, or fixed
        (``0``: no decay; then a response only delays reach).
    name : str, optional
        Name of the spec; default ``"<base>+response"``.

    Returns
    -------
    CurveSpec
        Parameters: the base curve's, then ``delta`` (if estimated), then ``e_k`` for the
        estimated effects. ``definition`` rebuilds it.

    Examples
    --------
    >>> import casekit as ck
    >>> spec = ck.reach.intervention("logistic", [2.0], e="estimate")
    >>> spec.param_names
    ('K', 'r', 't0', 'delta', 'e_1')
    >>> y = spec([0.0, 2.0, 10.0], 100.0, 1.0, 3.0, 0.0, 0.0)  # no decay, no effect
    >>> bool(abs(y[2] - ck.reach.CURVES["logistic"](10.0, 100.0, 1.0, 3.0)) < 1e-9)
    True
    >>> fixed = ck.reach.intervention("bass", [1.0], e=0.5, delta=0.1)
    >>> fixed.param_names
    ('m', 'p', 'q')
    """
    b = _get_spec(base)
    try:
        times = [float(x) for x in responses]
    except (TypeError, ValueError):
        raise ParameterError(
            f"responses must be response times in days since the origin, not {responses!r}"
        ) from None
    if any(not np.isfinite(x) for x in times):
        raise ParameterError("response times must be finite numbers of days")
    order = np.argsort(times, kind="stable")
    times = [times[i] for i in order]
    K = len(times)
    if isinstance(e, (str, int, float, np.integer, np.floating)) or e is None:
        e_list = [e] * K
    else:
        e_list = list(e)
        if len(e_list) != K:
            raise ParameterError(f"{K} responses but {len(e_list)} values of e")
        e_list = [e_list[i] for i in order]
    e_fixed = [_as_mode(v, f"e of response {i + 1}", E_BOUNDS) for i, v in enumerate(e_list)]
    d_fixed = _as_mode(delta, "delta", DELTA_BOUNDS)
    pb = b.k
    names = list(b.param_names)
    bounds = list(b.bounds)
    if d_fixed is None:
        names.append("delta")
        bounds.append(DELTA_BOUNDS)
    e_idx = {}
    for i, v in enumerate(e_fixed):
        if v is None:
            e_idx[i] = len(names)
            names.append(f"e_{i + 1}")
            bounds.append(E_BOUNDS)
    i_delta = pb if d_fixed is None else None

    def unpack(params):
        d = params[i_delta] if i_delta is not None else d_fixed
        effects = [params[e_idx[i]] if i in e_idx else e_fixed[i] for i in range(K)]
        return params[:pb], d, effects

    def f(t, *params):
        th, d, effects = unpack(params)
        return b.f(operational_time(t, d, times, effects), *th)

    def saturation(*params):
        th, d, effects = unpack(params)
        ti = _tau_inf(d, times, effects)
        with np.errstate(all="ignore"):
            at = b.f(np.where(np.isfinite(ti), ti, 0.0), *th)
        out = np.where(np.isfinite(ti), at, b.saturation(*th))
        return out if np.ndim(out) else float(out)

    def peak_time(*params):
        th, d, effects = unpack(params)
        return _peak_time(b, th, d, times, effects)

    def p0(t, y):
        out = []
        for s in b.p0(t, y)[:4]:
            for dd, ee in ((0.02, 0.3), (0.1, 0.0)):
                v = list(s)
                if i_delta is not None:
                    v.append(dd)
                v.extend([ee] * len(e_idx))
                out.append(v)
        return out

    tag = ",".join(f"{x:g}" for x in times)
    return CurveSpec(
        name=name or f"{b.name}+response",
        param_names=tuple(names),
        bounds=tuple(tuple(x) for x in bounds),
        f=f,
        p0=p0,
        saturation=saturation,
        peak_time=peak_time,
        share_time=None,
        rate_param=b.rate_param,
        scale_params=b.scale_params,
        formula=f"F(tau(t)), F = {b.formula}; tau(t) = int_0^t exp(-delta s) "
        "prod_k (1 - e_k)^[s >= t_k] ds",
        description=f"{b.name} in operational time with responses at day(s) {tag or 'none'}",
        definition=MappingProxyType(
            {
                "kind": "intervention",
                "base": b.name,
                "base_definition": dict(b.definition) if b.definition else None,
                "responses": times,
                "e": [v if v is not None else "estimate" for v in e_fixed],
                "delta": "estimate" if d_fixed is None else d_fixed,
                "name": name,
            }
        ),
        doc=(
            "Intervention curve y(t) = F(tau(t)): the base curve run in operational time "
            "tau(t) = int_0^t exp(-delta s) m(s) ds, m(s) = prod_k (1 - e_k)^[s >= t_k]. "
            f"Responses at day(s) {tag or 'none'}. Final reach F(tau(inf)) with "
            "tau(inf) finite when delta > 0. Peak growth on a grid (resolution 0.2 % of the "
            "time to the base curve's peak). Times to a share are solved numerically.\n\n"
            f"Base curve: {b.doc}"
        ),
    )


def _peak_time(b: CurveSpec, th, d, times, effects):
    """Time of maximum growth dy/dt = F'(tau) a(t) m(t), on a grid up to the base peak."""
    th = [np.asarray(x, dtype=float) for x in th]
    d = np.asarray(d, dtype=float)
    effects = [np.asarray(x, dtype=float) for x in effects]
    shape = np.broadcast(*th, d, *effects).shape
    tau_star = np.broadcast_to(np.asarray(b.peak_time(*th), dtype=float), shape)
    ti = np.broadcast_to(_tau_inf(d, times, effects), shape)
    # the end of the grid: where tau reaches the base peak (bisection), or 5 / delta
    lo = np.minimum(tau_star, 0.0) - 1.0
    hi = np.maximum(np.abs(tau_star), 1.0) * 4.0 + (max(times) if times else 0.0)
    reach_peak = ti > tau_star
    with np.errstate(all="ignore"):
        hi = np.where(reach_peak, hi, np.where(d > 0, 5.0 / np.where(d > 0, d, 1.0), hi))
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            below = operational_time(mid, d, times, effects) < tau_star
            lo = np.where(below & reach_peak, mid, lo)
            hi = np.where(~below & reach_peak, mid, hi)
        end = hi
        start = np.minimum(end, 0.0) - np.where(end < 0, 1.0, 0.0)
        g = np.linspace(0.0, 1.0, 501)
        grid = start[..., None] + (end - start)[..., None] * g
        extra = np.array(times, dtype=float) - 1e-9
        if extra.size:
            ex = np.broadcast_to(extra, shape + extra.shape)
            ex = np.clip(ex, start[..., None], end[..., None])
            grid = np.concatenate([grid, ex], axis=-1)
        ex_th = [x[..., None] for x in np.broadcast_arrays(*th)] if shape else th
        ex_d = d[..., None] if shape else d
        ex_e = (
            [x[..., None] for x in np.broadcast_arrays(*effects)] if shape and effects else effects
        )
        tau = operational_time(grid, ex_d, times, ex_e)
        h = 1e-5 * np.maximum(1.0, np.abs(tau))
        slope = (b.f(tau + h, *ex_th) - b.f(tau - h, *ex_th)) / (2 * h)
        speed = np.exp(-np.clip(ex_d * grid, -700, 700))
        c_prev = 1.0
        for tk, ek in zip(times, ex_e):
            c = c_prev * (1.0 - ek)
            speed = speed * np.where(grid >= tk, c / c_prev, 1.0)
            c_prev = c
        rate = np.where(np.isfinite(slope), slope * speed, -np.inf)
        idx = np.argmax(rate, axis=-1)
        out = np.take_along_axis(grid, idx[..., None], axis=-1)[..., 0]
    return out if np.ndim(out) else float(out)


def response_schedule(context, origin, which="first") -> pd.DataFrame:
    """The company responses an intervention fit uses, as days since ``origin``.

    Parameters
    ----------
    context : CaseContext or None
        The case's context (``fit.context``): its ``responses`` rows (company timeline
        rows of kind response, offer, resolution) and the ``first_response`` key date.
    origin : pandas.Timestamp or None
        The date of t = 0.
    which : "first", "all", or a sequence of days / dates
        ``"first"``: the ``first_response`` key date (else the earliest response row);
        ``"all"``: every response row (same-day rows merged, the first kind kept);
        a sequence: the given times (days since the origin, or dates).

    Returns
    -------
    pandas.DataFrame
        ``t, date, kind, description``, sorted by ``t``.

    Examples
    --------
    >>> import casekit as ck
    >>> from casekit.reach.intervention import response_schedule
    >>> case = ck.load_case("synthetic-example")
    >>> response_schedule(case.context, case.origin, "all")[["t", "kind"]].values.tolist()
    [[4.0, 'response'], [6.0, 'offer']]
    """
    cols = ["t", "date", "kind", "description"]
    if isinstance(which, str) and which in RESPONSE_CHOICES:
        if context is None or origin is None:
            raise ParameterError(
                f"response={which!r} needs a case with an origin (fit a Case, or give the "
                "response times in days: response=[1.5])"
            )
        rows = []
        resp = context.responses
        if which == "first":
            kd = context.key_dates.get("first_response")
            if kd is not None:
                rows.append((kd.date, "response", "first_response key date"))
            elif len(resp):
                r0 = resp.sort_values("date").iloc[0]
                rows.append((r0["date"], str(r0["kind"]), str(r0["description"])))
        else:
            for _, r in resp.sort_values("date", kind="stable").iterrows():
                rows.append((r["date"], str(r["kind"]), str(r["description"])))
        if not rows:
            raise ParameterError(
                f"case {context.id!r} has no company response (no first_response key date and "
                "no response rows in its timeline); give the response times: response=[days]"
            )
        df = pd.DataFrame(rows, columns=["date", "kind", "description"])
        df["t"] = (pd.to_datetime(df["date"]) - pd.Timestamp(origin)) / pd.Timedelta(days=1)
        df = df.drop_duplicates("t", keep="first")
        return df[cols].sort_values("t").reset_index(drop=True)
    if isinstance(which, (str, bytes)) or not hasattr(which, "__iter__"):
        raise ParameterError(
            f"response must be True, 'first', 'all', or response times (days or dates), "
            f"not {which!r}"
        )
    rows = []
    for x in which:
        if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
            t = float(x)
            date = None if origin is None else pd.Timestamp(origin) + pd.Timedelta(days=t)
        else:
            try:
                date = pd.Timestamp(x)
            except (TypeError, ValueError):
                raise ParameterError(f"cannot read response time {x!r}: days or a date") from None
            if origin is None:
                raise ParameterError("response dates need an origin; give days since t = 0")
            t = float((date - pd.Timestamp(origin)) / pd.Timedelta(days=1))
        if not np.isfinite(t):
            raise ParameterError(f"response time {x!r} is not finite")
        rows.append((t, date, "response", "given"))
    if not rows:
        raise ParameterError("response= lists no response time")
    return pd.DataFrame(rows, columns=cols).sort_values("t").reset_index(drop=True)


def spec_from_definition(definition) -> CurveSpec:
    """Rebuild an intervention spec from its ``definition`` (for ``from_dict``)."""
    from casekit.reach.multiwave import _spec_from_definition

    base = _spec_from_definition(definition["base"], definition.get("base_definition"))
    return intervention(
        base,
        definition["responses"],
        e=list(definition["e"]),
        delta=definition["delta"],
        name=definition.get("name"),
    )
