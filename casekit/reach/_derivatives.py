"""Analytic derivatives of the curves for the fitters.

:func:`curve_jac` gives ``f(t; theta)`` and ``df/dtheta`` in one call for every curve
whose derivatives are known: a curve with a ``jac`` (the five registered curves), a
:func:`~casekit.reach.multiwave` sum of them, and an
:func:`~casekit.reach.intervention` curve on either. For the intervention curve
``y = F(tau(t))`` the chain rule gives ``dF/dtheta_base`` at ``tau`` and
``F'(tau) dtau/d(delta, e_k)``, with ``tau`` and its derivatives in closed form
(:func:`tau_jac`). Other curves return ``None`` and the fitters use finite differences.

Each spec's derivative plan is built once and checked against ``spec.f`` the first time
it is used (a base curve re-registered under the same name falls back to differences).
"""

from __future__ import annotations

import math

import numpy as np

from casekit.reach.curves import CURVES, CurveSpec

__all__ = ["curve_jac", "tau_jac"]

_PLANS: dict[int, tuple] = {}
_TAU_CACHE: dict = {}  # the last operational time computed, by times array and (delta, e)
_MAX_PLANS = 512


def _attention_pair(t, d: float):
    """A(t) = (1 - exp(-d t)) / d and dA/dd, for an array t (series near d t = 0)."""
    if d == 0.0:
        return t + 0.0, -0.5 * t * t
    x = d * t
    em = np.expm1(-np.maximum(x, -700.0))  # exp(-x) - 1
    A = -em / d
    dA = (t * (em + 1.0) - A) / d
    ax = np.abs(x)
    if ax.min(initial=np.inf) < 1e-4:  # cancellation in dA: its series there
        small = ax < 1e-4
        dA = np.where(small, -t * t * (0.5 - x / 3.0 + x * x / 8.0), dA)
        A = np.where(small, t * (1.0 - 0.5 * x + x * x / 6.0), A)
    return A, dA


def _attention_pair_scalar(t: float, d: float):
    x = d * t
    if abs(x) < 1e-4:
        return t * (1.0 - 0.5 * x + x * x / 6.0), -t * t * (0.5 - x / 3.0 + x * x / 8.0)
    em = math.expm1(-max(x, -700.0))
    A = -em / d
    return A, (t * (em + 1.0) - A) / d


def tau_jac(t, delta: float, times, effects):
    """Operational time ``tau(t)``, ``dtau/ddelta`` and ``dtau/de_k`` (one column per
    response), for one decay rate and scalar effects.

    Examples
    --------
    >>> import numpy as np
    >>> from casekit.reach._derivatives import tau_jac
    >>> from casekit.reach.intervention import operational_time
    >>> t = np.array([0.0, 2.0, 5.0])
    >>> tau, dd, de = tau_jac(t, 0.1, [1.0], [0.4])
    >>> bool(np.allclose(tau, operational_time(t, 0.1, [1.0], [0.4])))
    True
    >>> h = 1e-6
    >>> up = operational_time(t, 0.1, [1.0], [0.4 + h])
    >>> dn = operational_time(t, 0.1, [1.0], [0.4 - h])
    >>> bool(np.allclose(de[:, 0], (up - dn) / (2 * h)))
    True
    """
    t = np.asarray(t, dtype=float)
    d = float(delta)
    A, dA = _attention_pair(t, d)
    K = len(times)
    eff = [float(x) for x in effects]
    c = [1.0]  # c_m = prod_{i < m} (1 - e_i)
    for x in eff:
        c.append(c[-1] * (1.0 - x))
    tau, dtau_dd = A, dA
    de = np.zeros((t.size, K))
    for k, tk in enumerate(times):
        Ak, dAk = _attention_pair_scalar(float(tk), d)
        after = t >= tk
        g = (A - Ak) * after
        jump = c[k] - c[k + 1]
        tau = tau - jump * g
        dtau_dd = dtau_dd - jump * ((dA - dAk) * after)
        # jump = c_k - c_{k+1}: differentiate each c in e_j (j <= k)
        for j in range(k + 1):
            dck = -_prod_except(eff, k, j) if j < k else 0.0
            de[:, j] -= (dck + _prod_except(eff, k + 1, j)) * g
    return tau, dtau_dd, de


def _prod_except(eff, m, j):
    """prod_{i < m, i != j} (1 - e_i)."""
    out = 1.0
    for i in range(m):
        if i != j:
            out *= 1.0 - eff[i]
    return out


def _base_plan(spec: CurveSpec):
    """(kind, data) for a curve without intervention: ('jac', spec) or ('multi', ...)."""
    if spec.jac is not None:
        return ("jac", spec)
    d = spec.definition or {}
    if "kind" not in d and "k" in d and "base" in d:
        b = CURVES.get(d["base"])
        if b is not None and b.jac is not None and spec.k == d["k"] * b.k:
            return ("multi", (b, int(d["k"])))
    return None


def _scale_index(spec: CurveSpec):
    """The index of the curve's one scale parameter (f is proportional to it, so
    f = K df/dK), or None."""
    if len(spec.scale_params) != 1:
        return None
    return spec.param_names.index(spec.scale_params[0])


def _value(spec: CurveSpec, t, th, G):
    """f from its derivative in the scale parameter where there is one, else spec.f."""
    s = _scale_index(spec)
    return th[s] * G[:, 1 + s] if s is not None else spec.f(t, *th)


def _base_eval(plan, t, th, need_f=True):
    """f (None unless ``need_f``) and [df/dt, df/dtheta] (n, 1 + p) of a base plan."""
    kind, data = plan
    if kind == "jac":
        G = data.jac(t, *th)
        return (_value(data, t, th, G) if need_f else None), G
    b, k = data
    pb = b.k
    f = 0.0
    G = np.zeros((t.size, 1 + k * pb))
    for i in range(k):
        sub = th[i * pb : (i + 1) * pb]
        Gi = b.jac(t, *sub)
        f = f + _value(b, t, sub, Gi)
        G[:, 0] += Gi[:, 0]
        G[:, 1 + i * pb : 1 + (i + 1) * pb] = Gi[:, 1:]
    return f, G


def _build(spec: CurveSpec):
    d = spec.definition or {}
    if d.get("kind") == "intervention":
        from casekit.reach.multiwave import _spec_from_definition

        try:
            base = _spec_from_definition(d["base"], d.get("base_definition"))
        except Exception:  # noqa: BLE001 - an unknown base: fall back to differences
            return None
        bplan = _base_plan(base)
        if bplan is None:
            return None
        pb = base.k
        names = spec.param_names
        i_delta = names.index("delta") if d["delta"] == "estimate" else None
        e_idx = {i: names.index(f"e_{i + 1}") for i, v in enumerate(d["e"]) if v == "estimate"}
        return ("intervention", (bplan, pb, i_delta, d["delta"], list(d["responses"]), e_idx, d))
    bplan = _base_plan(spec)
    return None if bplan is None else ("base", bplan)


def _evaluate(plan, t, theta, need_f=True):
    kind, data = plan
    if kind == "base":
        f, G = _base_eval(data, t, theta, need_f)
        return f, G[:, 1:]
    bplan, pb, i_delta, d_fixed, times, e_idx, d = data
    delta = float(theta[i_delta]) if i_delta is not None else float(d_fixed)
    effects = [
        float(theta[e_idx[i]]) if i in e_idx else float(d["e"][i]) for i in range(len(times))
    ]
    key = (delta, tuple(effects), tuple(times))
    last = _TAU_CACHE.get("last")
    if last is not None and last[0] is t and last[1] == key:
        tau, dtau_dd, dtau_de = last[2]  # only the base curve's parameters moved
    else:
        tau, dtau_dd, dtau_de = tau_jac(t, delta, times, effects)
        _TAU_CACHE["last"] = (t, key, (tau, dtau_dd, dtau_de))
    f, G = _base_eval(bplan, tau, theta[:pb])
    J = np.empty((t.size, len(theta)))
    J[:, :pb] = G[:, 1:]
    Fp = G[:, 0]
    if i_delta is not None:
        J[:, i_delta] = Fp * dtau_dd
    for i, j in e_idx.items():
        J[:, j] = Fp * dtau_de[:, i]
    return f, J


def _plan(spec: CurveSpec, t, theta):
    """The spec's derivative plan (built and checked against ``spec.f`` once), or None."""
    key = id(spec)
    got = _PLANS.get(key)
    if got is None or got[0] is not spec:
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        plan = _build(spec)
        t = np.asarray(t, dtype=float)
        theta = np.asarray(theta, dtype=float)
        if plan is not None:
            with np.errstate(all="ignore"):
                f, _ = _evaluate(plan, t, theta)
                ref = spec.f(t, *theta)
            ok = np.allclose(f, ref, rtol=1e-9, atol=0.0, equal_nan=True)
            plan = plan if ok else None
        got = (spec, plan)
        _PLANS[key] = got
    return got[1]


def curve_jac(spec: CurveSpec, t, theta, need_f=True):
    """``(f, J)``: the curve at ``t`` and its Jacobian ``df/dtheta`` (shape (n, p)), or
    ``None`` when the curve has no analytic derivatives. With ``need_f=False`` f may be
    None (it is not computed where the Jacobian does not need it).

    Examples
    --------
    >>> import numpy as np, casekit as ck
    >>> from casekit.reach._derivatives import curve_jac
    >>> spec = ck.reach.intervention("logistic", [3.0])
    >>> t = np.array([1.0, 4.0, 9.0]); th = np.array([100.0, 0.8, 4.0, 0.05, 0.3])
    >>> f, J = curve_jac(spec, t, th)
    >>> h = 1e-6 * np.eye(5) * np.maximum(np.abs(th), 1)
    >>> num = np.column_stack([(spec(t, *(th + hj)) - spec(t, *(th - hj))) / (2 * hj.max())
    ...                        for hj in h])
    >>> bool(np.allclose(J, num, rtol=1e-6, atol=1e-8))
    True
    """
    plan = _plan(spec, t, theta)
    if plan is None:
        return None
    return _evaluate(plan, np.asarray(t, dtype=float), np.asarray(theta, dtype=float), need_f)


def curve_jac_rows(spec: CurveSpec, t, P):
    """:func:`curve_jac` for each row of the parameter matrix ``P`` (B, p) at once:
    ``(F (B, n), J (B, n, p))``, or None.

    Examples
    --------
    >>> import numpy as np, casekit as ck
    >>> from casekit.reach._derivatives import curve_jac, curve_jac_rows
    >>> spec = ck.reach.intervention("logistic", [3.0])
    >>> t = np.array([1.0, 4.0, 9.0])
    >>> P = np.array([[100.0, 0.8, 4.0, 0.05, 0.3], [90.0, 0.5, 3.0, 0.0, -0.4]])
    >>> F, J = curve_jac_rows(spec, t, P)
    >>> bool(np.allclose(J[1], curve_jac(spec, t, P[1])[1]) and np.allclose(F[0], spec(t, *P[0])))
    True
    """
    t = np.asarray(t, dtype=float)
    P = np.asarray(P, dtype=float)
    plan = _plan(spec, t, P[0])
    if plan is None:
        return None
    B, m = P.shape[0], t.size
    kind, data = plan
    if kind == "base":
        f, G = _base_eval(data, np.tile(t, B), [np.repeat(P[:, k], m) for k in range(P.shape[1])])
        return f.reshape(B, m), G[:, 1:].reshape(B, m, -1)
    bplan, pb, i_delta, d_fixed, times, e_idx, d = data
    delta = P[:, i_delta] if i_delta is not None else np.full(B, float(d_fixed))
    E = (
        np.column_stack(
            [
                P[:, e_idx[i]] if i in e_idx else np.full(B, float(d["e"][i]))
                for i in range(len(times))
            ]
        )
        if times
        else np.zeros((B, 0))
    )
    tau, dtau_dd, dtau_de = _tau_jac_rows(t, delta, times, E)
    f, G = _base_eval(bplan, tau.ravel(), [np.repeat(P[:, k], m) for k in range(pb)])
    f, G = f.reshape(B, m), G.reshape(B, m, -1)
    J = np.empty((B, m, P.shape[1]))
    J[:, :, :pb] = G[:, :, 1:]
    Fp = G[:, :, 0]
    if i_delta is not None:
        J[:, :, i_delta] = Fp * dtau_dd
    for i, j in e_idx.items():
        J[:, :, j] = Fp * dtau_de[:, :, i]
    return f, J


def curve_rows(spec: CurveSpec, t, P):
    """The curve at ``t`` for each row of ``P`` (B, p): (B, n); the fast path of
    :func:`curve_jac_rows` without the Jacobian, else ``spec.f`` broadcast."""
    t = np.asarray(t, dtype=float)
    P = np.asarray(P, dtype=float)
    plan = _plan(spec, t, P[0])
    B, m = P.shape[0], t.size
    if plan is None or plan[0] == "base":
        F = spec.f(t[None, :], *[P[:, [k]] for k in range(P.shape[1])])
        return np.broadcast_to(F, (B, m))
    bplan, pb, i_delta, d_fixed, times, e_idx, d = plan[1]
    delta = P[:, i_delta] if i_delta is not None else np.full(B, float(d_fixed))
    tau = _tau_rows(
        t,
        delta,
        times,
        [P[:, e_idx[i]] if i in e_idx else np.full(B, float(d["e"][i])) for i in range(len(times))],
    )
    kind, data = bplan
    if kind == "jac":
        return data.f(tau, *[P[:, [k]] for k in range(pb)])
    b, k = data
    return sum(b.f(tau, *[P[:, [i * b.k + q]] for q in range(b.k)]) for i in range(k))


def _attention_rows(t, d):
    """A(t) for a decay rate per row ``d`` (B, 1): (B, n)."""
    x = d * t
    pos = d > 0
    out = np.where(pos, -np.expm1(-np.maximum(x, -700.0)) / np.where(pos, d, 1.0), t)
    small = np.abs(x) < 1e-7
    return np.where(small, t * (1.0 - 0.5 * x), out) if small.any() else out


def _tau_rows(t, delta, times, effects):
    """Operational time (B, n) for a decay rate and effects per row."""
    d = delta[:, None]
    A = _attention_rows(t, d)
    tau = A
    c_prev = 1.0
    for tk, ek in zip(times, effects):
        c = c_prev * (1.0 - ek[:, None])
        Ak = _attention_rows(np.array([float(tk)]), d)
        tau = tau - (c_prev - c) * np.maximum(A - Ak, 0.0)
        c_prev = c
    return tau


def _tau_jac_rows(t, delta, times, E):
    """:func:`tau_jac` for a decay rate and effects per row: (B, n), (B, n), (B, n, K)."""
    d = delta[:, None]
    x = d * t
    pos = d > 0
    safe = np.where(pos, d, 1.0)
    em = np.expm1(-np.maximum(x, -700.0))
    A = np.where(pos, -em / safe, t)
    dA = np.where(pos, (t * (em + 1.0) - A) / safe, -0.5 * t * t)
    small = np.abs(x) < 1e-4
    if small.any():
        A = np.where(small, t * (1.0 - 0.5 * x + x * x / 6.0), A)
        dA = np.where(small, -t * t * (0.5 - x / 3.0 + x * x / 8.0), dA)
    B, K = E.shape
    one_minus = 1.0 - E
    c = np.concatenate([np.ones((B, 1)), np.cumprod(one_minus, axis=1)], axis=1)
    tau, dtau_dd = A, dA
    de = np.zeros(A.shape + (K,))
    for k, tk in enumerate(times):
        xk = delta * tk
        ok = delta > 0
        sk = np.where(ok, delta, 1.0)
        emk = np.expm1(-np.maximum(xk, -700.0))
        Ak = np.where(ok, -emk / sk, tk)
        dAk = np.where(ok, (tk * (emk + 1.0) - Ak) / sk, -0.5 * tk * tk)
        sm = np.abs(xk) < 1e-4
        Ak = np.where(sm, tk * (1.0 - 0.5 * xk + xk * xk / 6.0), Ak)
        dAk = np.where(sm, -tk * tk * (0.5 - xk / 3.0 + xk * xk / 8.0), dAk)
        after = t >= tk
        g = (A - Ak[:, None]) * after
        jump = (c[:, k] - c[:, k + 1])[:, None]
        tau = tau - jump * g
        dtau_dd = dtau_dd - jump * ((dA - dAk[:, None]) * after)
        # jump = c_k - c_{k+1}, c_m = prod_{i < m} (1 - e_i): differentiate in e_j, j <= k
        for j in range(k + 1):
            dck = -np.prod(np.delete(one_minus[:, :k], j, axis=1), axis=1) if j < k else 0.0
            dck1 = -np.prod(np.delete(one_minus[:, : k + 1], j, axis=1), axis=1)
            de[:, :, j] -= (dck - dck1)[:, None] * g if j < k else (-dck1)[:, None] * g
    return tau, dtau_dd, de
