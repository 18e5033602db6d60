"""The numerical core of a joint fit (:mod:`casekit.reach.joint`): the parameter layout,
damped Fisher scoring on the summed log-likelihood, the covariance and the profile
likelihood of a shared parameter.

Private to :mod:`casekit.reach`; :func:`casekit.reach.joint.fit_joint` is the way in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from casekit.exceptions import FitError
from casekit.reach._solver import _Transform
from casekit.reach.curves import _TINY, CurveSpec, _span
from casekit.reach.observation import count_loglik, increments

LEAST_SQUARES = ("ols", "log")
"""Losses whose residual variance is profiled, one variance per metric."""

_LOG_PHI = (-8.0, 25.0)  # the range of log phi, as the single per-period fitter's


def _phi_newton(y, mu, w, lphi: float) -> float:
    """One guarded Newton step of the NB2 log-likelihood in log phi."""
    phi = math.exp(lphi)
    ypp, pm = y + phi, phi + mu
    g = np.sum(
        w * (special.digamma(ypp) - special.digamma(phi) + np.log(phi / pm) + 1.0 - ypp / pm)
    )
    h = np.sum(
        w
        * (
            special.polygamma(1, ypp)
            - special.polygamma(1, phi)
            + 1.0 / phi
            - 2.0 / pm
            + ypp / pm**2
        )
    )
    gl, hl = g * phi, h * phi * phi + g * phi  # derivatives in log phi
    step = -gl / hl if hl < 0 else math.copysign(1.0, gl)
    return float(np.clip(lphi + np.clip(step, -2.0, 2.0), *_LOG_PHI))


def _best_lphi(s, mu, lphi: float) -> float:
    """The negative-binomial log phi that maximises the metric's likelihood at the means
    ``mu``: Newton steps while they gain, else bounded Brent within 4 of the current
    value (the likelihood is often flat in phi, where Newton steps do not settle)."""
    mu_c = np.maximum(mu, _TINY)
    v, fv = lphi, s.loglik(mu, lphi)
    for _ in range(8):
        nv = _phi_newton(s.y, mu_c, s.w, v)
        if abs(nv - v) < 1e-9:
            return v
        fn = s.loglik(mu, nv)
        if not fn > fv:
            break
        v, fv = nv, fn
    if v != lphi:
        return v
    lo, hi = max(_LOG_PHI[0], lphi - 4.0), min(_LOG_PHI[1], lphi + 4.0)
    res = optimize.minimize_scalar(
        lambda x: -s.loglik(mu, x), bounds=(lo, hi), method="bounded", options={"xatol": 1e-7}
    )
    return float(res.x) if np.isfinite(res.fun) and -res.fun > fv else float(lphi)


@dataclass
class Series:
    """One metric's observations and its observation model."""

    name: str
    counts: bool  # per-period counts (increments of the curve) or cumulative readings
    loss: str  # ols / log (cumulative); nb / poisson / log (counts)
    y: np.ndarray
    w: np.ndarray
    t: np.ndarray  # cumulative: reading times; counts: period ends
    a: np.ndarray | None = None  # counts: period starts

    @property
    def ls(self) -> bool:
        return self.loss in LEAST_SQUARES

    @property
    def log(self) -> bool:
        return self.loss == "log"

    @property
    def yscale(self) -> float:
        return float(np.sum(self.y) if self.counts else np.max(np.abs(self.y))) or 1.0

    def mean(self, spec: CurveSpec, th) -> np.ndarray:
        """Expected value of each observation (a reading, or a count over its period)."""
        with np.errstate(all="ignore"):
            if self.counts:
                return increments(spec, self.a, self.b, th)
            return spec.f(self.t, *th)

    @property
    def b(self) -> np.ndarray:
        return self.t

    @property
    def times(self) -> np.ndarray:
        """Observation times: reading times, or the midpoints of the counts' periods."""
        return 0.5 * (self.a + self.b) if self.counts else self.t

    @property
    def span(self) -> tuple[float, float]:
        """First and last day the observations cover."""
        lo = self.a if self.counts else self.t
        return float(np.min(lo)), float(np.max(self.b))

    def loglik(self, mu, lphi) -> float:
        """The log-likelihood of the observations with means ``mu``; least squares: the
        Gaussian one with the variance profiled (on the log scale for ``log``, as a
        density of y), as :attr:`ReachFit.loglik` defines it."""
        if not np.all(np.isfinite(mu)):
            return -np.inf
        if self.counts:
            phi = math.exp(lphi) if self.loss == "nb" else None
            return count_loglik(self.loss, self.y, mu, self.w, phi)
        n = len(self.y)
        r = self.resid(mu)
        rss = float(np.sum(self.w * r**2))
        if not rss > 0:
            return np.inf
        ll = (
            -n
            / 2
            * (math.log(2 * math.pi) + 1 - math.log(n) - np.sum(np.log(self.w)) / n + math.log(rss))
        )
        return float(ll - (np.sum(np.log(self.y)) if self.log else 0.0))

    def resid(self, mu) -> np.ndarray:
        """Residuals on the fitting scale (least-squares losses)."""
        if self.log:
            return np.log(self.y) - np.log(np.maximum(mu, _TINY))
        return self.y - mu

    def weights_of(self, mu, lphi, s2=None):
        """(d fitting-scale mean / d mean, working weights, working residuals): the
        terms of the score ``J' (w_i r_i)`` and the information ``J' diag(w_i) J``."""
        mu_c = np.maximum(mu, _TINY)
        if self.ls:
            r = self.resid(mu)
            if s2 is None:
                s2 = float(np.sum(self.w * r**2)) / len(self.y)
            d = 1.0 / mu_c if self.log else np.ones_like(mu_c)
            return d, self.w / s2, r
        V = mu_c if self.loss == "poisson" else mu_c + mu_c**2 / math.exp(lphi)
        return np.ones_like(mu_c), self.w / V, self.y - mu_c


class Layout:
    """Where each parameter of a joint fit sits.

    The joint vector is the curve's timing parameters (every parameter that is not one of
    ``spec.scale_params``: shared), then each metric's own copy of the scale parameters.
    """

    def __init__(self, spec: CurveSpec, metrics):
        self.spec = spec
        self.metrics = tuple(metrics)
        names = spec.param_names
        self.scale = [i for i, n in enumerate(names) if n in spec.scale_params]
        self.shared = [i for i, n in enumerate(names) if n not in spec.scale_params]
        self.ns, self.q = len(self.shared), len(self.scale)
        self.names = tuple(
            [names[i] for i in self.shared]
            + [f"{names[i]}[{m}]" for m in self.metrics for i in self.scale]
        )
        self._index = []
        for m in range(len(self.metrics)):
            out = np.empty(spec.k, dtype=int)
            out[self.shared] = np.arange(self.ns)
            out[self.scale] = self.ns + m * self.q + np.arange(self.q)
            self._index.append(out)
        lo = np.array([b[0] for b in spec.bounds], dtype=float)
        hi = np.array([b[1] for b in spec.bounds], dtype=float)
        self.lo = np.concatenate([lo[self.shared]] + [lo[self.scale]] * len(self.metrics))
        self.hi = np.concatenate([hi[self.shared]] + [hi[self.scale]] * len(self.metrics))

    @property
    def size(self) -> int:
        return len(self.names)

    def index(self, m: int) -> np.ndarray:
        """Joint positions of metric ``m``'s curve parameters, in the curve's order."""
        return self._index[m]

    def theta(self, u, m: int) -> np.ndarray:
        return np.asarray(u, dtype=float)[self.index(m)]

    def sv(self, series) -> np.ndarray:
        """Internal rescaling: each metric's scale parameters by that metric's size."""
        return np.concatenate([np.ones(self.ns)] + [np.full(self.q, s.yscale) for s in series])


def total_loglik(layout: Layout, series, u, lphis) -> float:
    ll = 0.0
    for m, s in enumerate(series):
        ll += s.loglik(s.mean(layout.spec, layout.theta(u, m)), lphis[m])
        if not np.isfinite(ll):
            return -np.inf if ll < 0 or np.isnan(ll) else np.inf
    return float(ll)


def _start_lphi(s: Series) -> float:
    """The moment estimate of log phi (as the single per-period fitter starts it)."""
    y = s.y
    v = math.log(max(float(np.var(y) - np.mean(y)), 1e-3 * np.mean(y) ** 2, 1e-6))
    return float(np.clip(math.log(max(np.mean(y) ** 2, 1e-300)) - v, *_LOG_PHI))


# -- starting values ------------------------------------------------------------------


def timing_starts(layout: Layout, series, n_starts: int, seed: int) -> list[np.ndarray]:
    spec = layout.spec
    lo, hi = layout.lo[: layout.ns], layout.hi[: layout.ns]
    base = []
    for s in sorted(series, key=lambda s: -len(s.y)):
        if s.counts:
            order = np.argsort(s.b, kind="stable")
            tt, yy = s.b[order], np.cumsum(s.y[order])
        else:
            tt, yy = s.t, s.y
        with np.errstate(all="ignore"):
            cand = spec.p0(tt, np.maximum(yy, 1e-9))
        for c in cand[:4]:
            c = np.asarray(c, dtype=float)
            if c.shape == (spec.k,) and np.all(np.isfinite(c)):
                v = c[layout.shared]
                if not any(np.allclose(v, b, rtol=1e-6) for b in base):
                    base.append(v)
    if not base:
        base = [
            np.where(np.isfinite(lo) & np.isfinite(hi), (lo + hi) / 2, np.where(lo >= 0, 1.0, 0.0))
        ]
    rng = np.random.default_rng(seed)
    span = _span(np.concatenate([s.times for s in series]))
    out, i = base[:n_starts], 0
    while len(out) < n_starts:
        b = base[i % len(base)]
        out.append(
            np.where(
                lo >= 0,
                b * np.exp(rng.normal(0.0, 0.5, b.shape)),
                b + rng.normal(0.0, 0.1 * span, b.shape),
            )
        )
        i += 1
    eps = 1e-9 * np.maximum(1.0, np.abs(np.where(np.isfinite(lo), lo, 0.0)))
    return [np.clip(v, np.where(np.isfinite(lo), lo + eps, -np.inf), hi) for v in out]


def scales(layout: Layout, s: Series, timing) -> np.ndarray:
    """Least-squares scale parameters of one metric at a given timing (the curves are
    linear in their scale parameters): non-negative least squares on the raw values."""
    spec = layout.spec
    cols = []
    for k in range(layout.q):
        th = np.zeros(spec.k)
        th[layout.shared] = timing
        th[layout.scale[k]] = 1.0
        cols.append(s.mean(spec, th))
    B = np.column_stack(cols) * np.sqrt(s.w)[:, None]
    top = s.yscale
    try:
        if not np.all(np.isfinite(B)):
            raise ValueError
        coef, _ = optimize.nnls(B, s.y * np.sqrt(s.w))
    except (ValueError, RuntimeError):
        coef = np.full(layout.q, top)
    if not np.all(np.isfinite(coef)) or not np.any(coef > 0):
        coef = np.full(layout.q, top)
    return np.maximum(coef, 1e-6 * top)


def start_points(layout: Layout, series, n_starts: int, seed: int) -> list[np.ndarray]:
    out = []
    for timing in timing_starts(layout, series, n_starts, seed):
        out.append(np.concatenate([timing] + [scales(layout, s, timing) for s in series]))
    lphis = [_start_lphi(s) if s.loss == "nb" else 0.0 for s in series]
    with np.errstate(all="ignore"):
        lls = [total_loglik(layout, series, u, lphis) for u in out]
    order = np.argsort([-v if np.isfinite(v) else np.inf for v in lls], kind="stable")
    return [out[i] for i in order]


# -- the solver -----------------------------------------------------------------------


def solve(layout: Layout, series, starts, *, fixed=None, lphis=None, iters: int = 400):
    """The best joint maximum-likelihood fit over ``starts`` (full joint vectors).

    ``fixed`` maps joint positions to values held fixed (a profile). Returns
    ``(u, loglik, lphis, n_converged)``; ``u`` is None when no start converged.
    Damped Fisher scoring on the free parameters (bounded through the log/logit transform
    of the single-metric solvers), Newton steps on each negative-binomial log phi; each
    least-squares metric's variance is profiled at every step, so its score and
    information are weighted by its own residual variance. Each start runs at most 60
    steps, stopping early once two starts agree on the best optimum; the best solution,
    if it has not converged by then, is run on to ``iters`` steps.
    """
    fixed = dict(fixed or {})
    P = layout.size
    free = np.array([j for j in range(P) if j not in fixed], dtype=int)
    sv = layout.sv(series)
    tr = _Transform(layout.lo[free] / sv[free], layout.hi[free] / sv[free])
    if lphis is None:
        lphis = [_start_lphi(s) if s.loss == "nb" else 0.0 for s in series]
    cands = []  # (u, loglik, lphis, converged)
    for s0 in starts:
        u0 = np.array(s0, dtype=float)
        for j, v in fixed.items():
            u0[j] = v
        out = _scoring(layout, series, tr, sv, free, u0, list(lphis), min(iters, 60))
        if out is None:
            continue
        cands.append(out)
        ok = sorted((c[1] for c in cands if c[3]), reverse=True)
        top = max(c[1] for c in cands)
        if len(ok) >= 2 and ok[0] >= top and ok[0] - ok[1] <= 1e-4 + 1e-7 * abs(ok[0]):
            break
    if cands:
        i = max(range(len(cands)), key=lambda i: cands[i][1])
        if not cands[i][3]:
            u, ll, lp, _ = cands[i]
            more = _scoring(layout, series, tr, sv, free, u, lp, iters)
            if more is not None:
                cands[i] = more
    ok = [c for c in cands if c[3]]
    if not ok:
        return None, None, None, 0
    best = max(ok, key=lambda c: c[1])
    return best[0], best[1], best[2], len(ok)


def _scoring(layout, series, tr, sv, free, u0, lphis, iters):
    """Damped Fisher scoring from one start, at most ``iters`` steps:
    ``(u, loglik, lphis, converged)``, or None when the start gives no finite likelihood."""
    spec = layout.spec
    lo, hi = tr.lo, tr.hi
    with np.errstate(invalid="ignore"):
        lo_in = np.where(np.isfinite(lo), lo + 1e-9 * np.maximum(1.0, np.abs(lo)), lo)
        hi_in = np.where(np.isfinite(hi), hi - 1e-9 * np.maximum(1.0, np.abs(hi)), hi)
    x = tr.to_x(np.clip(u0[free] / sv[free], lo_in, hi_in))
    pos = {j: i for i, j in enumerate(free)}
    cols = [[pos[j] for j in layout.index(m) if j in pos] for m in range(len(series))]

    def u_of(x):
        u = u0.copy()
        u[free] = tr.to_v(x) * sv[free]
        return u

    def ll_of(x, lph):
        u = u_of(x)
        mus = [s.mean(spec, layout.theta(u, m)) for m, s in enumerate(series)]
        ll = sum(s.loglik(mu, lph[m]) for m, (s, mu) in enumerate(zip(series, mus)))
        return (float(ll) if np.isfinite(ll) else -np.inf), mus

    nf = len(free)
    with np.errstate(all="ignore"):
        ll, mus = ll_of(x, lphis)
        if not np.isfinite(ll):
            return None
        lam, converged = 1e-3, False
        for _ in range(iters):
            # coordinate ascent: each dispersion at its best for the current means, then a
            # damped scoring step on the curve's parameters
            gain = 0.0
            for m, s in enumerate(series):
                if s.loss == "nb":
                    before = s.loglik(mus[m], lphis[m])
                    lphis[m] = _best_lphi(s, mus[m], lphis[m])
                    gain += s.loglik(mus[m], lphis[m]) - before
            ll += gain
            A = np.zeros((nf, nf))
            g = np.zeros(nf)
            h = 1e-7 * np.maximum(np.abs(x), 1.0)
            for m, s in enumerate(series):
                c = cols[m]
                J = np.empty((len(s.y), len(c)))
                for k, i in enumerate(c):
                    xh = x.copy()
                    xh[i] += h[i]
                    J[:, k] = (s.mean(spec, layout.theta(u_of(xh), m)) - mus[m]) / h[i]
                d, W, r = s.weights_of(mus[m], lphis[m])
                Jf = J * d[:, None]
                A[np.ix_(c, c)] += (Jf * W[:, None]).T @ Jf
                g[c] += Jf.T @ (W * r)
            if not (np.all(np.isfinite(A)) and np.all(np.isfinite(g))):
                return None
            D = np.maximum(np.diag(A), 1e-300)
            sD = np.sqrt(D)
            gs = g / sD
            try:
                dec = float(gs @ np.linalg.lstsq(A / np.outer(sD, sD), gs, rcond=1e-13)[0])
            except (np.linalg.LinAlgError, ValueError):
                dec = np.inf
            improved = False
            dl = 0.0
            for _ in range(40):
                try:
                    step = np.linalg.solve(A + lam * np.diag(D), g)
                except np.linalg.LinAlgError:
                    lam *= 10
                    continue
                xn = x + step
                lln, mun = ll_of(xn, lphis)
                if np.isfinite(lln) and lln >= ll - 1e-12 * abs(ll):
                    dl = lln - ll
                    x, ll, mus = xn, lln, mun
                    lam = max(lam / 5, 1e-12)
                    improved = True
                    break
                lam *= 5
                if lam > 1e14:
                    break
            if not improved:
                converged = dec < 1e-6 and gain < 1e-6
                break
            if dec < 1e-8 and dl <= 1e-8 and gain <= 1e-8:
                converged = True
                break
    return u_of(x), ll, lphis, converged


def information(layout: Layout, series, u, lphis):
    """Each metric's part of the joint expected information of ``u`` (natural scale), and
    the residual degrees of freedom ``n - h`` of the metric, ``h`` the degrees of freedom it
    spends in the joint fit (the sum of its observations' leverages).

    A least-squares metric's variance is ``RSS / (n - h)``. A count metric's information
    is divided by its Pearson dispersion ``X^2 / (n - h)`` when that exceeds 1: the
    maximum-likelihood negative-binomial dispersion of a short series understates the
    variance (its standard errors came out 15-20 % too small in simulations).

    Returns ``(infos, dfs, scales)``: per metric its information matrix, its degrees of
    freedom, and its variance (least squares) or Pearson factor (counts).
    """
    spec = layout.spec
    u = np.asarray(u, dtype=float)
    step = 6e-6 * np.maximum(np.abs(u), 1e-2)
    parts = []
    for m, s in enumerate(series):
        mu = s.mean(spec, layout.theta(u, m))
        J = np.zeros((len(s.y), layout.size))
        for j in layout.index(m):
            up, dn = u.copy(), u.copy()
            up[j] = min(u[j] + step[j], layout.hi[j])
            dn[j] = max(u[j] - step[j], layout.lo[j])
            J[:, j] = (s.mean(spec, layout.theta(up, m)) - s.mean(spec, layout.theta(dn, m))) / (
                up[j] - dn[j]
            )
        d, W, r = s.weights_of(mu, lphis[m])
        parts.append((s, J * d[:, None], W, r))
    info = sum((Jf * W[:, None]).T @ Jf for _, Jf, W, _ in parts)
    if not np.all(np.isfinite(info)):
        raise FitError("the joint information matrix is not finite at the estimates")
    inv = np.linalg.pinv(info)
    infos, dfs, scales = [], [], []
    for s, Jf, W, r in parts:
        h = float(np.sum(W * np.einsum("ij,jk,ik->i", Jf, inv, Jf)))
        df = max(len(s.y) - h, 1.0)
        if s.ls:
            scale = float(np.sum(s.w * r**2)) / df
            Wm = s.w / scale
        else:
            scale = max(float(np.sum(W * r**2)) / df, 1.0)
            Wm = W / scale
        infos.append((Jf * Wm[:, None]).T @ Jf)
        dfs.append(df)
        scales.append(scale)
    return infos, dfs, scales


def covariance(layout: Layout, series, u, lphis):
    """``(cov, df)``: the inverse joint information, and per parameter the
    Satterthwaite degrees of freedom of its variance (each metric's share of the variance,
    ``(C I_m C)_jj``, estimated with that metric's ``n - h`` degrees of freedom).
    FitError if the information is singular."""
    infos, dfs, _ = information(layout, series, u, lphis)
    info = sum(infos)
    norms = np.sqrt(np.maximum(np.diag(info), 0.0))
    if np.any(norms == 0):
        bad = [layout.names[j] for j in np.flatnonzero(norms == 0)]
        raise FitError(
            f"the metrics cannot identify the joint {layout.spec.name} curve: the likelihood "
            f"does not depend on {', '.join(bad)} at these times"
        )
    In = info / np.outer(norms, norms)
    sv_ = np.linalg.svd(In, compute_uv=False)
    if not sv_[-1] > 1e-16 * sv_[0]:
        raise FitError(
            f"the metrics cannot identify the joint {layout.spec.name} curve: its parameters "
            f"({', '.join(layout.names)}) trade off against each other almost perfectly "
            "at these times; use a curve with fewer parameters or more data"
        )
    cov = np.linalg.inv(In) / np.outer(norms, norms)
    share = np.array([np.diag(cov @ info_m @ cov) for info_m in infos])
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.diag(cov) ** 2 / np.sum(share**2 / np.array(dfs)[:, None], axis=0)
    return cov, np.where(np.isfinite(df), np.maximum(df, 1.0), 1.0)


def profile_interval(layout, series, u_hat, ll_hat, lphis, j: int, se: float, alpha: float):
    """Profile-likelihood interval of the shared parameter at joint position ``j``:
    ``(lower, upper, open_lower, open_upper)``.

    Each side steps out from the estimate (from the Wald bound, then by linear
    extrapolation of the signed root ``sqrt(2 (logL_max - logL_profile))``) until the root
    passes ``sqrt(chi2_1)``, then Brent's method finds the crossing. Each refit is
    warm-started from the refit nearest in the parameter; a side that reaches the
    parameter's bound is open (the bound is returned).
    """
    target = math.sqrt(float(special.chdtri(1, alpha)))
    v_hat = float(u_hat[j])
    cache = {v_hat: (np.asarray(u_hat, dtype=float), list(lphis), float(ll_hat))}
    best = {"ll": float(ll_hat)}

    def prof(v):
        v = float(v)
        if v in cache:
            return cache[v][2]
        near = min(cache, key=lambda c: abs(c - v))
        starts = [cache[near][0], cache[v_hat][0]]
        u, ll, lp, _ = solve(layout, series, starts, fixed={j: v}, lphis=cache[near][1])
        if u is None:
            return np.nan
        cache[v] = (u, lp, float(ll))
        best["ll"] = max(best["ll"], float(ll))
        return float(ll)

    def z(v):
        ll = prof(v)
        return math.sqrt(max(2.0 * (best["ll"] - ll), 0.0)) if np.isfinite(ll) else np.nan

    lo_b, hi_b = float(layout.lo[j]), float(layout.hi[j])
    step0 = se if np.isfinite(se) and se > 0 else 0.1
    out = []
    for sign, bound in ((-1.0, lo_b), (1.0, hi_b)):
        v_in, z_in, dist = v_hat, 0.0, target * step0
        found = None
        for _ in range(30):
            v = float(np.clip(v_in + sign * dist, lo_b, hi_b))
            zv = z(v)
            if not np.isfinite(zv):
                dist *= 0.5
                if dist < 1e-6:
                    break
                continue
            if zv >= target:
                found = (v_in, v)
                break
            if v == bound:
                break
            slope = (zv - z_in) / abs(v - v_in) if v != v_in else 0.0
            need = (target - zv) / slope if slope > 0 else 2.0 * abs(v - v_hat)
            dist = float(np.clip(1.15 * need + 1e-4, 1e-4, 4.0 * max(abs(v - v_hat), step0)))
            v_in, z_in = v, zv
        if found is None:
            out.append((bound, True))
            continue
        a, b = sorted(found)
        try:
            root = optimize.brentq(lambda v: z(v) - target, a, b, xtol=1e-4)
        except ValueError:
            root = found[1]
        out.append((float(root), False))
    return out[0][0], out[1][0], out[0][1], out[1][1]
