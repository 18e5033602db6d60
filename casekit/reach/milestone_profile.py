"""Profile-likelihood intervals of a derived quantity g(theta) of a least-squares fit.

The profile-t interval of g is the set of values v whose profile

    tau(v)^2 = (min{S(theta) : g(theta) = v} - S_hat) / s^2,   s^2 = S_hat / (n - p)

stays below the squared t(n - p) quantile q^2 (as R's ``confint.nls`` for a parameter).
It is the same as the range of g over the likelihood region
``{theta : S(theta) <= S_hat + q^2 s^2}``, and this module computes it that way: two
small constrained problems (the smallest and the largest g in the region, by SLSQP)
instead of a refit with g held fixed at every trial value. For g = a parameter it gives
the parameter's profile interval; for a time to a share of the saturation it is the
interval of the curve reparameterised with that time as a parameter.

The search works on the parameters' bound scales (log of a rate, logit between two
bounds), in units of their standard errors, inside a box of :data:`BOX` standard errors.
A limit the box stops is checked with a box four times larger: if g still moves, the
region is open on that side (the limit is the quantity's own bound, e.g. ``inf``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import optimize

from casekit.reach import intervals as _iv
from casekit.reach._solver import _grad, _model_jac
from casekit.reach.curves import _TINY, _numeric_share_time

__all__ = ["profile_range", "profile_share_range", "WarmShareTime", "BOX"]

BOX = 30.0
"""Half-width of the search box, in standard errors on the parameters' bound scales."""


class WarmShareTime:
    """Time to a share of the saturation for a curve without a closed form, by Newton's
    method from the last answer (bisection when Newton fails): a profile search asks for
    it at nearby parameters hundreds of times."""

    def __init__(self, spec, share: float):
        self.spec, self.share, self.t = spec, float(share), None

    def __call__(self, *theta) -> float:
        spec = self.spec
        target = self.share * float(spec.saturation(*theta))
        t = self.t
        if t is not None and np.isfinite(t):
            with np.errstate(all="ignore"):
                for _ in range(40):
                    h = 1e-6 * max(1.0, abs(t))
                    fv = spec.f(np.array([t - h, t, t + h]), *theta)
                    slope = (fv[2] - fv[0]) / (2 * h)
                    if not (np.isfinite(slope) and slope > 0 and np.isfinite(fv[1])):
                        break
                    step = (fv[1] - target) / slope
                    t -= step
                    if abs(step) <= 1e-13 * max(1.0, abs(t)):
                        self.t = float(t)
                        return float(t)
        t = float(_numeric_share_time(spec, self.share, theta))
        self.t = t
        return t


class _Region:
    """The likelihood region of a least-squares fit, in standard-error units on the
    parameters' bound scales: ``excess(x) <= q^2`` with ``excess = (S - S_hat) / s^2``."""

    def __init__(self, fit, alpha):
        prob = fit._problem()
        self.prob, self.spec = prob, fit.spec
        self.scale = _iv.param_scale(fit.spec)
        theta = np.array(fit.theta, dtype=float)
        nudge = 1e-8 * np.maximum(1.0, np.abs(theta))
        theta = np.where(np.isfinite(prob.lo), np.maximum(theta, prob.lo + nudge), theta)
        theta = np.where(np.isfinite(prob.hi), np.minimum(theta, prob.hi - nudge), theta)
        self.p = theta.size
        self.z0 = self.scale.to_z(theta)
        dz = np.abs(self.scale.slope(theta))
        r0 = prob.resid(np.array(fit.theta))
        self.s_hat = float(r0 @ r0)
        self.s2 = self.s_hat / max(fit.df_resid, 1)
        self.q = _iv.t_quantile(fit, alpha)
        cov = np.asarray(fit.cov_matrix, dtype=float) * np.outer(dz, dz)
        self.ok = bool(np.all(np.isfinite(self.z0)) and np.all(np.isfinite(cov)) and self.s2 > 0)
        se = np.sqrt(np.maximum(np.diag(cov), 0.0)) if self.ok else np.ones(self.p)
        self.ok = self.ok and bool(np.all(np.isfinite(se) & (se > 0)))
        self.se = se if self.ok else np.ones(self.p)
        self.corr = cov / np.outer(self.se, self.se) if self.ok else np.eye(self.p)

    def theta(self, x):
        return self.scale.to_v(self.z0 + self.se * x)

    def dtheta(self, x):
        """d theta / d x at x (diagonal)."""
        return self.se / np.abs(self.scale.slope(self.theta(x)))

    def excess(self, x):  # capped so the optimiser never sees inf
        with np.errstate(all="ignore"):
            r = self.prob.resid(self.theta(x))
            v = (float(r @ r) - self.s_hat) / self.s2
        return v if np.isfinite(v) and v < 1e12 else 1e12

    def cons(self, x, level=1.0):
        return (level * self.q) ** 2 - self.excess(x)

    def cons_jac(self, x, level=1.0):
        prob, th = self.prob, self.theta(x)
        with np.errstate(all="ignore"):
            G = _model_jac(self.spec, prob.t, th)
            if prob.log:
                G = G / np.maximum(self.spec.f(prob.t, *th), _TINY)[:, None]
            dS = -2.0 * ((prob.sw[:, None] * G).T @ prob.resid(th))
            out = -dS * self.dtheta(x) / self.s2
        return np.where(np.isfinite(out), out, 0.0)

    def feasible_start(self, x0, value, level=1.0):
        """Shrink ``x0`` towards the estimate until it is inside the region."""
        for _ in range(40):
            if self.cons(x0, level) >= 0 and np.isfinite(value(x0)):
                return x0
            x0 = 0.5 * x0
        return x0


def _minimize(objective, grad, x0, constraints, box, n):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return optimize.minimize(
            objective,
            np.clip(x0, -box, box),
            jac=grad,
            method="SLSQP",
            bounds=[(-box, box)] * n,
            constraints=constraints,
            options={"ftol": 1e-10, "maxiter": 100},
        )


def _search(obj, jac, n, cons_for, start, valid):
    """Minimise ``obj`` over the region; when the direct search fails, grow the region
    from a quarter of its size, each step starting where the last ended.

    Returns ``(x, solved, at_box, x_wider)``: ``x_wider`` is the answer in a box four
    times larger when ``x`` sits on the box (else ``x``; None when that search fails)."""
    res = _minimize(obj, jac, start(1.0), cons_for(1.0), BOX, n)
    if not valid(res, 1.0):
        y = start(0.25)
        for level in (0.25, 0.5, 0.75, 1.0):
            res = _minimize(obj, jac, y, cons_for(level), BOX, n)
            if not valid(res, level):
                return res.x, False, False, res.x
            y = res.x
    at_box = bool(np.max(np.abs(res.x)) >= BOX * (1 - 1e-6))
    wider = res.x
    if at_box:
        w = _minimize(obj, jac, res.x, cons_for(1.0), 4 * BOX, n)
        wider = w.x if valid(w, 1.0) else None
    return res.x, True, at_box, wider


# a limit may break the region's edge by this share of q^2 (a change of tau of 1e-4 q)
_SLACK = 2e-4


def _accepted(res) -> bool:
    """SLSQP's answer is usable: converged, at its iteration limit, or stopped by rounding
    in the line search (status 8) on the region's edge."""
    return bool(res.success or res.status in (8, 9))


def _finish(results, g0, scale_g, q):
    """Limits and statuses from the (sign, value, solved, at_box, wider_value) of each side."""
    out, status = [], []
    for sign, v, solved, at_box, wider in results:
        if not solved or not np.isfinite(v):
            out.append(float("nan"))
            status.append("failed")
            continue
        state = "ok"
        # a limit on the box is open unless a four times larger box leaves it in place
        moved = wider is None or not np.isfinite(wider)
        moved = moved or sign * (v - wider) > 1e-3 * max(abs(v - g0), scale_g * q)
        if at_box and moved:
            state = "open"
            v = -math.inf if sign > 0 else math.inf
        # the optimiser never reports a limit on the wrong side of the estimate
        out.append(float(min(v, g0) if sign > 0 else max(v, g0)))
        status.append(state)
    return out[0], out[1], status[0], status[1]


def profile_range(fit, fun, alpha: float) -> tuple[float, float, str, str]:
    """The profile-t interval of ``fun(*theta)`` at level ``1 - alpha``.

    Returns ``(lower, upper, status_lower, status_upper)``; a status is ``"ok"``,
    ``"open"`` (the likelihood region does not close on that side: the limit is
    ``-inf``/``inf``) or ``"failed"`` (the search did not converge: the limit is NaN).
    """
    reg = _Region(fit, alpha)
    nan = float("nan")
    if not reg.ok:
        return nan, nan, "failed", "failed"
    zero = np.zeros(reg.p)

    def g_of(x):
        with np.errstate(all="ignore"):
            return float(fun(*reg.theta(x)))

    def g_grad(x):
        with np.errstate(all="ignore"):
            return _grad(lambda v: fun(*v), reg.theta(x), reg.spec) * reg.dtheta(x)

    g0, gx0 = g_of(zero), g_grad(zero)
    with np.errstate(all="ignore"):
        sg = float(np.sqrt(max(gx0 @ reg.corr @ gx0, 0.0)))
    if not np.isfinite(g0):
        return nan, nan, "failed", "failed"
    if not (np.isfinite(sg) and sg > 0):
        return g0, g0, "ok", "ok"

    def cons_for(level):
        return [{"type": "ineq", "fun": reg.cons, "jac": reg.cons_jac, "args": (level,)}]

    def valid(res, level):
        return _accepted(res) and reg.cons(res.x, level) >= -_SLACK * reg.q**2

    results = []
    for sign in (1.0, -1.0):  # smallest g, then largest

        def obj(x, sign=sign):
            return sign * (g_of(x) - g0) / sg

        def jac(x, sign=sign):
            return sign * g_grad(x) / sg

        def start(level, sign=sign):
            x0 = -sign * level * reg.q * (reg.corr @ gx0) / sg
            return reg.feasible_start(x0, g_of, level)

        x, solved, at_box, wider = _search(obj, jac, reg.p, cons_for, start, valid)
        results.append((sign, g_of(x), solved, at_box, None if wider is None else g_of(wider)))
    return _finish(results, g0, sg, reg.q)


def profile_share_range(fit, share: float, alpha: float) -> tuple[float, float, str, str]:
    """:func:`profile_range` of the time to ``share`` of the saturation, for curves
    without a closed form (sums of waves).

    The time v is a variable of the search, tied to the parameters by the smooth
    constraint ``f(v) = share x saturation``: between two waves the time itself jumps
    (the curve is flat there), the constraint does not.
    """
    reg = _Region(fit, alpha)
    nan = float("nan")
    if not reg.ok:
        return nan, nan, "failed", "failed"
    spec, p = reg.spec, reg.p
    warm = WarmShareTime(spec, share)
    zero = np.zeros(p)
    g0 = warm(*reg.theta(zero))
    with np.errstate(all="ignore"):
        gx0 = _grad(lambda v: warm(*v), reg.theta(zero), spec) * reg.dtheta(zero)
        sg = float(np.sqrt(max(gx0 @ reg.corr @ gx0, 0.0)))
    if not np.isfinite(g0):
        return nan, nan, "failed", "failed"
    if not (np.isfinite(sg) and sg > 0):
        return g0, g0, "ok", "ok"
    sat0 = float(spec.saturation(*reg.theta(zero))) or 1.0

    def split(y):
        return y[:p], g0 + sg * y[p]

    def h(y):
        x, v = split(y)
        th = reg.theta(x)
        with np.errstate(all="ignore"):
            fv = float(spec.f(np.array([v]), *th)[0])
            out = (fv - share * float(spec.saturation(*th))) / sat0
        return out if np.isfinite(out) else 1e12

    def h_jac(y):
        x, v = split(y)
        th = reg.theta(x)
        with np.errstate(all="ignore"):
            sat_grad = _grad(lambda u: spec.saturation(*u), th, spec)
            d_th = _model_jac(spec, np.array([v]), th)[0] - share * sat_grad
            dv = 1e-6 * max(1.0, abs(v))
            fv = spec.f(np.array([v - dv, v + dv]), *th)
            slope = (fv[1] - fv[0]) / (2 * dv)
        out = np.r_[d_th * reg.dtheta(x), slope * sg] / sat0
        return np.where(np.isfinite(out), out, 0.0)

    def cons_for(level):
        return [
            {
                "type": "ineq",
                "fun": lambda y: reg.cons(y[:p], level),
                "jac": lambda y: np.r_[reg.cons_jac(y[:p]), 0.0],
            },
            {"type": "eq", "fun": h, "jac": h_jac},
        ]

    def valid(res, level):
        edge = reg.cons(res.x[:p], level) >= -_SLACK * reg.q**2
        return _accepted(res) and edge and abs(h(res.x)) < 1e-8

    results = []
    for sign in (1.0, -1.0):
        grad = np.r_[np.zeros(p), sign]

        def start(level, sign=sign):
            x0 = -sign * level * reg.q * (reg.corr @ gx0) / sg
            x0 = reg.feasible_start(x0, lambda x: 0.0, level)
            return np.r_[x0, (warm(*reg.theta(x0)) - g0) / sg]

        y, solved, at_box, wider = _search(
            lambda y, sign=sign: sign * y[p], lambda y, g=grad: g, p + 1, cons_for, start, valid
        )
        w = None if wider is None else float(split(wider)[1])
        results.append((sign, float(split(y)[1]), solved, at_box, w))
    return _finish(results, g0, sg, reg.q)
