"""Hawkes log-likelihood and its gradient in O(n), for :mod:`casekit.events.hawkes`.

The intensity is

    lambda(t) = mu(t) + m(t) * n * sum_{t_i < t} phi(t - t_i)

with ``m(t) = (1 - e) ** (number of responses <= t)`` and a kernel ``phi`` that
integrates to one: ``omega * exp(-omega * u)`` (exponential) or a mixture of
exponentials ``sum_k w_k s_k exp(-s_k u)`` (the power-law approximation). The
background is ``mu(t) = mu0 + eta * sum_j omega_x * exp(-omega_x (t - x_j))`` over the
exogenous times ``x_j < t``: each exogenous event brings ``eta`` expected immigrants.

Everything rests on one primitive, :func:`decayed_cumsum`, which evaluates
``x_i = sum_{k <= i} b_k exp(-omega (t_i - t_k))`` without a Python loop over events.
The compensator needs the excitation only at the segment ends (start, responses, end),
so it costs O(1) once the recursion has run.

Examples
--------
>>> import numpy as np
>>> t = np.array([0.0, 0.5, 0.7, 2.0])
>>> np.round(decayed_cumsum(t, 1.0, np.ones(4)), 6)
array([1.      , 1.606531, 2.315316, 1.630997])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

__all__ = ["decayed_cumsum", "Data", "exp_loglik", "sumexp_loglik", "powerlaw_grid"]

_SPAN = 300.0  # exp(300) stays far from overflow, so a block's cumsum is exact enough
_MAX_BLOCKS = 2000


def decayed_cumsum(t: np.ndarray, omega: float, b: np.ndarray) -> np.ndarray:
    """``x_i = sum_{k <= i} b_k exp(-omega (t_i - t_k))`` for sorted ``t`` (``b >= 0``).

    Few blocks (``omega * span / 300``): a cumulative sum per block, rescaled. Many
    blocks (very fast decay): a log2(n)-step doubling scan of the recurrence
    ``x_i = a_i x_{i-1} + b_i``; both are exact to rounding.
    """
    n = len(t)
    out = np.empty(n)
    if n == 0:
        return out
    width = _SPAN / omega
    span = float(t[-1] - t[0])
    nblocks = int(span / width) + 1 if math.isfinite(span / width) else 10**9
    if nblocks > _MAX_BLOCKS:
        return _scan(t, omega, b)
    if nblocks == 1:
        edges = np.array([0, n])
    else:
        inner = np.searchsorted(t, t[0] + width * np.arange(1, nblocks), "left")
        edges = np.unique(np.concatenate([[0], inner, [n]]))
    carry, t_carry = 0.0, t[0]
    for lo, hi in zip(edges[:-1], edges[1:]):
        tb = t[lo:hi]
        ref = tb[0]
        up = np.exp(omega * (tb - ref))
        s = np.cumsum(b[lo:hi] * up)
        if carry:
            s += carry * math.exp(-omega * (ref - t_carry))
        out[lo:hi] = s / up
        carry, t_carry = out[hi - 1], tb[-1]
    return out


def _scan(t: np.ndarray, omega: float, b: np.ndarray) -> np.ndarray:
    a = np.empty(len(t))
    a[0] = 0.0
    np.exp(-omega * np.diff(t), out=a[1:])
    x = np.array(b, dtype=float)
    shift = 1
    while shift < len(t):
        x[shift:] = x[shift:] + a[shift:] * x[:-shift]
        a[shift:] = a[shift:] * a[:-shift]
        a[:shift] = 0.0
        shift *= 2
        if not a.any():
            break
    return x


@dataclass
class Data:
    """Event times and the fixed structure of one fit (segments, exogenous merge)."""

    t: np.ndarray
    start: float
    end: float
    responses: np.ndarray  # response times inside (start, end), sorted
    exogenous: np.ndarray  # exogenous times < end, sorted

    def __post_init__(self) -> None:
        t = self.t
        self.n = len(t)
        self.delta = np.diff(t, prepend=t[0])
        self.k = np.searchsorted(self.responses, t, "right")  # responses <= t_i
        # segment s runs from bounds[s] to bounds[s + 1]; multiplier (1 - e) ** s
        self.bounds = np.concatenate([[self.start], self.responses, [self.end]])
        self.seg_counts = np.diff(np.searchsorted(t, self.bounds, "left")).astype(float)
        self.last = np.searchsorted(t, self.bounds, "left") - 1  # last event < bound
        if len(self.exogenous):
            c = np.concatenate([self.exogenous, t])
            self.merge_order = np.argsort(c, kind="stable")
            self.merged = c[self.merge_order]
            is_exo = self.merge_order < len(self.exogenous)
            self.merge_b = is_exo.astype(float)
            self.event_pos = np.flatnonzero(~is_exo)
            self.merge_delta = np.diff(self.merged, prepend=self.merged[0])

    def multipliers(self, e: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """m_i and dm_i/de at the events, and per segment."""
        s = np.arange(len(self.bounds) - 1)
        base = 1.0 - e
        m_seg = base**s
        dm_seg = np.where(s > 0, -s * base ** np.maximum(s - 1, 0), 0.0)
        return m_seg[self.k], dm_seg[self.k], m_seg, dm_seg


def _state_at(d: Data, A: np.ndarray, B: np.ndarray | None, omega: float):
    """E(p) = sum_{t_j < p} exp(-omega (p - t_j)) and F(p) = sum (p - t_j) exp(..) at
    the segment bounds, from the recursion values at the last event before each."""
    E = np.zeros(len(d.bounds))
    F = np.zeros(len(d.bounds))
    ok = d.last >= 0
    i = d.last[ok]
    delta = d.bounds[ok] - d.t[i]
    decay = np.exp(-omega * delta)
    E[ok] = (A[i] + 1.0) * decay
    if B is not None:
        F[ok] = (delta * (A[i] + 1.0) + B[i]) * decay
    return E, F


def _exogenous(d: Data, omx: float, grad: bool):
    """X_i = sum_{x_j < t_i} exp(-omx (t_i - x_j)) and Xb_i = sum (t_i - x_j) exp(..)."""
    x = decayed_cumsum(d.merged, omx, d.merge_b)
    X = x[d.event_pos]
    if not grad:
        return X, None
    prev = x - d.merge_b  # inclusive minus self = the sum before this position
    y = decayed_cumsum(d.merged, omx, d.merge_delta * prev)
    return X, y[d.event_pos]


def _exo_compensator(d: Data, omx: float):
    """sum_j G_j and its derivative in omx; G_j = expected immigrants of pulse j in the window."""
    s = d.exogenous
    s = s[s < d.end]
    if len(s) == 0:
        return 0.0, 0.0
    lo = np.maximum(d.start, s) - s
    hi = d.end - s
    G = np.exp(-omx * lo) - np.exp(-omx * hi)
    dG = -lo * np.exp(-omx * lo) + hi * np.exp(-omx * hi)
    return float(G.sum()), float(dG.sum())


def _background(d: Data, mu0: float, eta: float, omx: float, grad: bool):
    if len(d.exogenous) == 0 or eta == 0.0:
        return np.full(d.n, mu0), None, None, mu0 * (d.end - d.start), 0.0, 0.0
    X, Xb = _exogenous(d, omx, grad)
    G, dG = _exo_compensator(d, omx)
    mu = mu0 + eta * omx * X
    comp = mu0 * (d.end - d.start) + eta * G
    return mu, X, Xb, comp, G, dG


def exp_loglik(d: Data, p: dict, grad: bool = True):
    """Log-likelihood (and gradient dict in the natural parameters) for the exponential kernel.

    ``p`` holds ``mu0, n, omega, e`` and optionally ``eta, omega_x``.
    """
    mu0, n, om, e = p["mu0"], p["n"], p["omega"], p["e"]
    eta, omx = p.get("eta", 0.0), p.get("omega_x", 1.0)
    x = decayed_cumsum(d.t, om, np.ones(d.n))
    A = np.maximum(x - 1.0, 0.0)
    B = decayed_cumsum(d.t, om, d.delta * A) if grad else None
    m, dm, m_seg, dm_seg = d.multipliers(e)
    mu, X, Xb, comp_bg, G, dG = _background(d, mu0, eta, omx, grad)
    exc = om * A
    lam = mu + m * n * exc
    if np.any(lam <= 0):
        return (-np.inf, None) if grad else -np.inf
    E, F = _state_at(d, A, B, om)
    C = d.seg_counts + E[:-1] - E[1:]
    ll = float(np.sum(np.log(lam))) - comp_bg - n * float(m_seg @ C)
    if not grad:
        return ll
    inv = 1.0 / lam
    dC = -F[:-1] + F[1:]
    g = {
        "mu0": float(inv.sum()) - (d.end - d.start),
        "n": float(np.sum(m * exc * inv)) - float(m_seg @ C),
        "omega": n * float(np.sum(m * (A - om * B) * inv)) - n * float(m_seg @ dC),
        "e": n * float(np.sum(dm * exc * inv)) - n * float(dm_seg @ C),
    }
    if X is not None:
        g["eta"] = omx * float(np.sum(X * inv)) - G
        g["omega_x"] = eta * float(np.sum((X - omx * Xb) * inv)) - eta * dG
    return ll, g


# --------------------------------------------------------------------------- power law


def powerlaw_grid(span: float, c_min: float, step: float = 0.75) -> np.ndarray:
    """Decay rates s_k of the exponential mixture that stands in for the Omori kernel.

    ``(u + c) ** -(1 + theta) = (1 / Gamma(1 + theta)) * int s**theta exp(-s (u + c)) ds``;
    the integral is taken by the trapezoid rule in log s (error about
    ``exp(-pi**2 / step)``) from ``s = 1e-3 / span`` (lags up to 1,000 spans) to
    ``s = 50 / c_min``. Lags beyond 1,000 spans are dropped and the weights renormalised.
    """
    lo, hi = math.log(1e-3 / span), math.log(50.0 / c_min)
    return np.exp(np.arange(lo, hi + step, step))


def powerlaw_weights(s: np.ndarray, theta: float, c: float):
    """Normalised mixture weights w_k ~ s_k**theta exp(-s_k c), and d w / d theta, d w / d c."""
    logw = theta * np.log(s) - s * c
    w = np.exp(logw - logw.max())
    w /= w.sum()
    dth = w * (np.log(s) - w @ np.log(s))
    dc = w * (-s + w @ s)
    return w, dth, dc


def omori(u: np.ndarray, theta: float, c: float) -> np.ndarray:
    """The exact Omori kernel ``theta c**theta / (u + c)**(1 + theta)``."""
    return np.exp(math.log(theta) + theta * math.log(c) - (1 + theta) * np.log(u + c))


def omori_mixture(u: np.ndarray, s: np.ndarray, theta: float, c: float) -> np.ndarray:
    """The mixture that approximates :func:`omori` (for checks and figures)."""
    w, _, _ = powerlaw_weights(s, theta, c)
    return (w * s) @ np.exp(-np.outer(s, u))


class SumExpCache:
    """Parameter-free parts of the power-law likelihood: the recursion per component."""

    def __init__(self, d: Data, s: np.ndarray) -> None:
        self.s = s
        K = len(s)
        self.P = np.empty((d.n, K))  # s_k * A_k(t_i)
        self.C = np.empty((K, len(d.bounds) - 1))
        self.E = np.empty((K, len(d.bounds)))
        for k, sk in enumerate(s):
            A = np.maximum(decayed_cumsum(d.t, sk, np.ones(d.n)) - 1.0, 0.0)
            self.P[:, k] = sk * A
            E, _ = _state_at(d, A, None, sk)
            self.E[k] = E
            self.C[k] = d.seg_counts + E[:-1] - E[1:]


def sumexp_loglik(d: Data, cache: SumExpCache, p: dict, grad: bool = True):
    """Log-likelihood and gradient for the power-law kernel (``mu0, n, theta, c, e, ...``)."""
    mu0, n, th, c, e = p["mu0"], p["n"], p["theta"], p["c"], p["e"]
    eta, omx = p.get("eta", 0.0), p.get("omega_x", 1.0)
    w, dth, dc = powerlaw_weights(cache.s, th, c)
    m, dm, m_seg, dm_seg = d.multipliers(e)
    mu, X, Xb, comp_bg, G, dG = _background(d, mu0, eta, omx, grad)
    exc = cache.P @ w
    lam = mu + m * n * exc
    if np.any(lam <= 0):
        return (-np.inf, None) if grad else -np.inf
    C = w @ cache.C
    ll = float(np.sum(np.log(lam))) - comp_bg - n * float(m_seg @ C)
    if not grad:
        return ll
    inv = 1.0 / lam
    mi = m * inv
    g = {
        "mu0": float(inv.sum()) - (d.end - d.start),
        "n": float(np.sum(exc * mi)) - float(m_seg @ C),
        "theta": n * float((cache.P @ dth) @ mi) - n * float(m_seg @ (dth @ cache.C)),
        "c": n * float((cache.P @ dc) @ mi) - n * float(m_seg @ (dc @ cache.C)),
        "e": n * float(np.sum(dm * exc * inv)) - n * float(dm_seg @ C),
    }
    if X is not None:
        g["eta"] = omx * float(np.sum(X * inv)) - G
        g["omega_x"] = eta * float(np.sum((X - omx * Xb) * inv)) - eta * dG
    return ll, g


def log_gamma(x: float) -> float:
    """``log Gamma(x)`` (re-exported for the kernel formulas)."""
    return float(gammaln(x))
