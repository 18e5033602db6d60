"""The numerical core: bounded Levenberg-Marquardt, IRLS for the Huber loss, the
covariance, and a batched solver for the bootstrap.

Private to :mod:`casekit.reach`; :func:`casekit.reach.fit` is the way in.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import optimize, special

from casekit.exceptions import FitError, ParameterError
from casekit.reach._derivatives import curve_jac
from casekit.reach.curves import _TINY, CurveSpec, _span


def _readonly(a) -> np.ndarray:
    a = np.array(a, dtype=float, copy=True)
    a.flags.writeable = False
    return a


def _param_steps(theta):
    return 6e-6 * np.maximum(np.abs(theta), 1e-2)


def _model_jac(spec: CurveSpec, t, theta):
    """d f / d theta at t, shape (len(t), p): analytic where the curve has derivatives
    (:func:`~casekit.reach._derivatives.curve_jac`), else central differences."""
    theta = np.asarray(theta, dtype=float)
    t_ = np.asarray(t, dtype=float)
    if t_.ndim == 1:
        with np.errstate(all="ignore"):
            got = curve_jac(spec, t_, theta)
        if got is not None and np.all(np.isfinite(got[1])):
            return got[1]
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
    sw: np.ndarray  # sqrt(weights)
    log: bool
    robust: bool
    yscale: float  # internal rescaling of y
    scale_vec: np.ndarray  # theta_internal = theta / scale_vec
    lo: np.ndarray
    hi: np.ndarray

    def resid_internal(self, u):
        theta = u * self.scale_vec
        fv = self.spec.f(self.t, *theta)
        if self.log:
            return self.sw * (np.log(self.y) - np.log(np.maximum(fv, _TINY)))
        return self.sw * (self.y - fv) / self.yscale

    def jac_internal(self, u):
        """d resid_internal / d u (analytic), or None for a curve without derivatives."""
        theta = u * self.scale_vec
        got = curve_jac(self.spec, self.t, theta, need_f=self.log)
        if got is None:
            return None
        fv, G = got
        sw, jscale = self._jac_factors
        if self.log:
            G = G / np.maximum(fv, _TINY)[:, None]
        return G * jscale if sw is None else (sw * G) * jscale

    @cached_property
    def _jac_factors(self):
        """(sqrt(weights) as a column, or None when all 1; -scale / yscale per column)."""
        sw = None if np.all(self.sw == 1.0) else self.sw[:, None]
        return sw, -self.scale_vec / (1.0 if self.log else self.yscale)

    def resid(self, theta):
        """Weighted residuals on the fitting scale, in data units."""
        fv = self.spec.f(self.t, *theta)
        if self.log:
            return self.sw * (np.log(self.y) - np.log(np.maximum(fv, _TINY)))
        return self.sw * (self.y - fv)


def _make_problem(spec, t, y, w, loss) -> _Problem:
    log = loss in ("log", "robust_log")
    if log and np.any(y <= 0):
        raise FitError(
            "the log loss needs positive values; some observations are zero or "
            "negative (use loss='ols' or 'robust')"
        )
    yscale = float(np.max(np.abs(y))) or 1.0
    scale_vec = np.array([yscale if n in spec.scale_params else 1.0 for n in spec.param_names])
    lo = np.array([b[0] for b in spec.bounds], dtype=float)
    hi = np.array([b[1] for b in spec.bounds], dtype=float)
    return _Problem(
        spec, t, y, np.sqrt(w), log, loss.startswith("robust"), yscale, scale_vec, lo, hi
    )


def _starts(spec, t, y, start, n_starts, seed):
    lo = np.array([b[0] for b in spec.bounds], dtype=float)
    hi = np.array([b[1] for b in spec.bounds], dtype=float)
    if start is not None:
        names = ", ".join(spec.param_names)
        if isinstance(start, Mapping):
            missing = [n for n in spec.param_names if n not in start]
            if missing:
                raise ParameterError(
                    f"start has no value for {', '.join(missing)}; the "
                    f"{spec.name} curve needs {names}"
                )
            start = [start[n] for n in spec.param_names]
        try:
            arr = np.atleast_2d(np.asarray(start, dtype=float))
        except (TypeError, ValueError):
            raise ParameterError(f"start must be numbers ({names}), not {start!r}") from None
        if arr.ndim != 2 or arr.shape[1] != spec.k or not np.all(np.isfinite(arr)):
            raise ParameterError(f"start needs {spec.k} finite values ({names})")
        base = list(arr)
    else:
        with np.errstate(all="ignore"):
            base = [np.asarray(s, dtype=float) for s in spec.p0(t, y)]
        base = [s for s in base if s.shape == (spec.k,) and np.all(np.isfinite(s))]
        if not base:
            base = [
                np.where(
                    np.isfinite(lo) & np.isfinite(hi),
                    (lo + hi) / 2,
                    np.where(np.isfinite(lo), lo + 1.0, 0.0),
                )
            ]
    out = list(base[:n_starts])
    rng = np.random.default_rng(seed) if len(out) < n_starts else None
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
        self.kind = np.where(
            np.isfinite(lo) & np.isfinite(hi),
            3,
            np.where(np.isfinite(lo), 1, np.where(np.isfinite(hi), 2, 0)),
        )
        self.lo0 = np.where(np.isfinite(lo), lo, 0.0)
        self.hi0 = np.where(np.isfinite(hi), hi, 0.0)
        self.width = np.where(self.kind == 3, self.hi0 - self.lo0, 1.0)
        self._i1, self._i2, self._i3 = (np.nonzero(self.kind == j)[0] for j in (1, 2, 3))
        self._lo1, self._hi2 = self.lo0[self._i1], self.hi0[self._i2]
        self._lo3, self._w3 = self.lo0[self._i3], self.width[self._i3]

    def to_x(self, v):
        x = np.array(v, dtype=float)
        with np.errstate(all="ignore"):
            if self._i1.size:
                x[self._i1] = np.log(np.maximum(x[self._i1] - self._lo1, 1e-300))
            if self._i2.size:
                x[self._i2] = np.log(np.maximum(self._hi2 - x[self._i2], 1e-300))
            if self._i3.size:
                frac = np.clip((x[self._i3] - self._lo3) / self._w3, 1e-15, 1 - 1e-15)
                x[self._i3] = np.log(frac / (1 - frac))
        return x

    def to_v(self, x):
        v = np.array(x, dtype=float)
        if self._i1.size:
            v[self._i1] = self._lo1 + np.exp(np.minimum(v[self._i1], 700.0))
        if self._i2.size:
            v[self._i2] = self._hi2 - np.exp(np.minimum(v[self._i2], 700.0))
        if self._i3.size:
            v[self._i3] = self._lo3 + self._w3 * special.expit(v[self._i3])
        return v

    def dv_dx(self, x, idx=None):
        """d v / d x at ``x`` (the entries ``idx`` of the parameters, default all)."""
        x = np.asarray(x, dtype=float)
        kind = self.kind if idx is None else self.kind[idx]
        out = np.ones(x.shape)
        pos = kind == 1
        if pos.any():
            out[pos] = np.exp(np.minimum(x[pos], 700.0))
        neg = kind == 2
        if neg.any():
            out[neg] = -np.exp(np.minimum(x[neg], 700.0))
        both = kind == 3
        if both.any():
            s = special.expit(x[both])
            width = self.width if idx is None else self.width[idx]
            out[both] = width[both] * s * (1.0 - s)
        return out


def _lm(fun, x0, tol, maxfev, msgs, jac=None):
    """MINPACK Levenberg-Marquardt (with the analytic Jacobian ``jac`` of the residuals
    when given); returns (x, cost, converged) or None on failure."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            x, _, info, mesg, ier = optimize.leastsq(
                fun, x0, Dfun=jac, full_output=True, ftol=tol, xtol=tol, gtol=0.0, maxfev=maxfev
            )
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


def _x_jacobian(prob: _Problem, tr: _Transform, u_probe):
    """The analytic Jacobian of ``prob.resid_internal(tr.to_v(x))`` in the transformed
    parameters ``x``, or None when the curve has no analytic derivatives (checked at
    ``u_probe``, internal units). Call it inside ``np.errstate(all="ignore")``, as
    :func:`_lm` does."""
    with np.errstate(all="ignore"):
        if prob.jac_internal(u_probe) is None:
            return None
    kind, w3 = tr.kind, tr._w3
    lower, upper, i3 = kind == 1, kind == 2, tr._i3

    def jac_x(x):
        e = np.exp(np.minimum(x, 700.0))  # d v / d x of the log transforms
        dv = np.where(lower, e, np.where(upper, -e, 1.0))
        if i3.size:
            s_ = special.expit(x[i3])
            dv[i3] = w3 * s_ * (1.0 - s_)
        out = prob.jac_internal(tr.to_v(x))
        out *= dv
        return out if np.isfinite(out).all() else np.nan_to_num(out, posinf=0, neginf=0)

    return jac_x


def _last_kept(fun):
    """``fun`` of a parameter vector, with its last result kept: MINPACK evaluates the
    residuals and the Jacobian at the start point twice (``leastsq`` checks their shapes
    first), and a polish starts where the loose run ended."""
    last_x, last_value = None, None

    def kept(x):
        nonlocal last_x, last_value
        key = x.tobytes()
        if key != last_x:
            last_x, last_value = key, fun(x)
        return last_value

    return kept


def _huber_cost(r, c):
    a = np.abs(r)
    return float(np.sum(np.where(a <= c, 0.5 * r**2, c * (a - 0.5 * c))))


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
        out = _lm(lambda x, sw=sw: sw * prob.resid_internal(tr.to_v(x)), x, tol, maxfev, msgs)
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

    u_try = np.ones(p) if not len(starts) else np.asarray(starts[0], dtype=float)
    jac_x = _x_jacobian(prob, tr, np.clip(u_try / prob.scale_vec, lo_i, hi_i))
    resid_x = _last_kept(resid_x)
    jac_x = None if jac_x is None else _last_kept(jac_x)

    def run(x0, tol, maxfev):
        if prob.robust:
            return _irls(prob, tr, x0, c, tol, maxfev, msgs)
        return _lm(resid_x, x0, tol, maxfev, msgs, jac_x)

    cands = []  # (x, cost, converged) per start that returned a solution
    for s_ in starts:
        u0 = np.clip(np.asarray(s_, dtype=float) / prob.scale_vec, lo_i, hi_i)
        out = run(tr.to_x(u0), 1e-6, max_nfev or 60 * (p + 1))
        if out is not None:
            cands.append(out)
            # stop early once two converged starts agree on the best optimum so far
            ok_costs = sorted(c_[1] for c_ in cands if c_[2])
            if (
                len(ok_costs) >= 2
                and ok_costs[1] - ok_costs[0] <= 1e-7 * max(ok_costs[0], 1e-300)
                and out[2]
                and out[1] <= ok_costs[0] * (1 + 1e-7)
            ):
                break
    if not cands:
        return None, None, 0, msgs
    order = sorted(range(len(cands)), key=lambda i: cands[i][1])
    ok = [bool(c_[2]) for c_ in cands]
    best = None
    polish = [i for i in order[:2] if cands[i][1] <= 1.1 * cands[order[0]][1]]
    if len(polish) == 2 and all(cands[i][2] for i in polish):
        (xa, ca, _), (xb, cb, _) = cands[polish[0]], cands[polish[1]]
        ua, ub = tr.to_v(xa), tr.to_v(xb)
        if cb - ca <= 1e-7 * max(ca, 1e-300) and np.all(
            np.abs(ua - ub) <= 1e-4 * np.maximum(np.abs(ua), np.abs(ub)) + 1e-12
        ):
            polish = polish[:1]  # the two best starts found the same optimum: polish it once
    for i in polish:
        out = run(cands[i][0], 1e-12, max_nfev or 200 * (p + 1))
        if out is not None and out[2]:
            ok[i] = True  # a start whose polished solution converged counts as converged
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
                        prob.resid_internal,
                        np.clip(u, lo_i, hi_i),
                        # jac_x exists only where the curve has analytic derivatives
                        jac=prob.jac_internal if jac_x is not None else "2-point",
                        bounds=(lo_i, hi_i),
                        method="trf",
                        x_scale="jac",
                        ftol=1e-12,
                        xtol=1e-12,
                        gtol=1e-12,
                        max_nfev=200 * (p + 1),
                    )
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
    J = prob.sw[:, None] * G  # d(fit) / d theta, weighted (sign irrelevant)
    if prob.robust:
        u = _huber_weights(r, f_scale)
        J = np.sqrt(u)[:, None] * J
        rss = float(np.sum(u * r**2))
    else:
        rss = float(np.sum(r**2))
    df = n - p
    s2 = rss / df if df > 0 else np.nan
    norms = np.linalg.norm(J, axis=0)
    if np.any(norms == 0) or not np.all(np.isfinite(J)):
        bad = [prob.spec.param_names[j] for j in np.nonzero(~(norms > 0))[0]]
        gone = [
            n
            for n, v in zip(prob.spec.param_names, theta)
            if n in prob.spec.scale_params and abs(v) < 1e-6 * prob.yscale
        ]
        why = (
            f" ({', '.join(gone)} went to zero: the data show no separate wave there)"
            if gone
            else ""
        )
        raise FitError(
            f"the data cannot identify the {prob.spec.name} curve: the fit does not "
            f"depend on {', '.join(bad) or 'some parameters'} at these times{why}"
        )
    Jn = J / norms
    sv = np.linalg.svd(Jn, compute_uv=False)
    cond = sv[0] / sv[-1] if sv[-1] > 0 else np.inf
    if not np.isfinite(cond) or cond > 1e8:
        raise FitError(
            f"the data cannot identify the {prob.spec.name} curve: its parameters "
            f"({', '.join(prob.spec.param_names)}) trade off against each other "
            f"almost perfectly at these times (condition number {cond:.1e}); use a "
            f"curve with fewer parameters or more data"
        )
    inv_n = np.linalg.inv(Jn.T @ Jn)
    with np.errstate(over="ignore"):  # tiny norms (a parameter barely matters) give inf
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
            return np.sum(np.where(a <= c, 0.5 * r**2, c * (a - 0.5 * c)), axis=1)
        return 0.5 * np.sum(r**2, axis=1)

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
