"""Maximum likelihood, observed information, profiles and expected sizes for Hawkes fits.

Private helpers of :mod:`casekit.events.hawkes`. A model is a :class:`Model`: the data,
the kernel, which parameters are free and the values of the fixed ones. Scale parameters
are optimised on the log scale, ``e`` on its own scale (it may be negative).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
from scipy import integrate, optimize, stats

from casekit.events import _likelihood as lk

LOG_PARAMS = {"mu0", "n", "omega", "theta", "c", "eta", "omega_x"}
FAST_NAMES = ["mu0", "n", "omega", "e"]

N_MIN, N_MAX = 1e-4, 20.0
"""Bounds of the branching ratio n*. With the decay bounded by :data:`MAX_MEAN_LAG`, an
n* of 20 means the expected count grows at least e**19 (about 2e8) fold within the
window, so the upper bound never binds on data a process could have produced; a fit
there is degenerate and flagged."""
MAX_MEAN_LAG = 1.0
"""The exponential kernel's mean lag 1/omega is at most this many observation spans
(omega >= 1 / (MAX_MEAN_LAG * span)). Beyond the window a kernel's timescale is not
identified (only n* omega is), and the fit could trade an unbounded n* for a vanishing
omega: plain Poisson data would come out supercritical."""
NEAR_BOUND = 0.01
"""A free parameter within this distance of a bound on the optimiser's scale (1% on the
log scale) is flagged as at its bound."""


def _compiled():
    """The compiled exponential-kernel pass, or None where numba is missing (then the
    numpy likelihood and L-BFGS-B do the same job, about 30 times slower)."""
    try:
        from casekit.events import _expkernel
    except ImportError:
        return None
    return _expkernel


class Model:
    """Data, kernel and parameterisation of one fit."""

    def __init__(self, d: lk.Data, kernel: str, free: list[str], fixed: dict) -> None:
        self.d, self.kernel, self.free, self.fixed = d, kernel, list(free), dict(fixed)
        span = d.end - d.start
        self.span = span
        self.cache = None
        if kernel == "powerlaw":
            self.c_min = 1e-5 * span
            self.cache = lk.SumExpCache(d, lk.powerlaw_grid(span, self.c_min))
        lo = {"mu0": 1e-10 / span, "n": N_MIN, "omega": 1.0 / (MAX_MEAN_LAG * span), "theta": 0.02,
              "c": 1e-5 * span, "eta": 1e-6, "omega_x": 1e-2 / span}  # fmt: skip
        hi = {"mu0": 1e9 / span, "n": N_MAX, "omega": 1e7 / span, "theta": 10.0, "c": span,
              "eta": 1e9, "omega_x": 1e7 / span}  # fmt: skip
        self.bounds = [
            (math.log(lo[k]), math.log(hi[k])) if k in LOG_PARAMS else (-50.0, 1.0 - 1e-6)
            for k in self.free
        ]
        self.fast = None
        compiled = _compiled()
        if compiled and kernel == "exp" and "eta" not in self.free and not self.fixed.get("eta"):
            self.fast = compiled.ExpPass(d)
            self.idx = [FAST_NAMES.index(k) for k in self.free]

    def params(self, values) -> dict:
        p = dict(self.fixed)
        p.update(zip(self.free, (float(v) for v in values)))
        return p

    def loglik(self, p: dict, grad: bool = True):
        if self.fast is not None:
            ll, g, _ = self.fast.evaluate(p)
            return (ll, dict(zip(FAST_NAMES, g.tolist()))) if grad else ll
        if self.kernel == "exp":
            return lk.exp_loglik(self.d, p, grad)
        return lk.sumexp_loglik(self.d, self.cache, p, grad)

    # -- optimisation on the transformed scale -----------------------------------
    def to_z(self, p: dict) -> np.ndarray:
        return np.array([math.log(p[k]) if k in LOG_PARAMS else p[k] for k in self.free])

    def from_z(self, z) -> dict:
        return self.params([math.exp(v) if k in LOG_PARAMS else v for k, v in zip(self.free, z)])

    def objective(self, z):
        p = self.from_z(z)
        ll, g = self.loglik(p)
        if not np.isfinite(ll):
            return 1e300, np.zeros(len(z))
        grad = np.array([g[k] * (p[k] if k in LOG_PARAMS else 1.0) for k in self.free])
        return -ll, -grad

    def maximise(self, start: dict, tol: float = 1e-10, maxiter: int = 500):
        """The MLE from ``start``: Newton's method with the exact Hessian where the
        compiled pass applies (falling back on L-BFGS-B if it stalls), else L-BFGS-B."""
        z0 = np.clip(self.to_z(start), [b[0] for b in self.bounds], [b[1] for b in self.bounds])
        if self.fast is not None:
            done = self._newton(z0)
            if done[2].success:
                return done
            z0 = self.to_z(done[0])
        res = optimize.minimize(
            self.objective,
            z0,
            jac=True,
            method="L-BFGS-B",
            bounds=self.bounds,
            options={"ftol": tol, "gtol": 1e-8, "maxiter": maxiter, "maxcor": 20},
        )
        return self.from_z(res.x), -float(res.fun), res

    def _z_derivatives(self, z):
        """Parameters, log-likelihood, gradient and Hessian on the optimiser's scale."""
        p = self.from_z(z)
        ll, g, H = self.fast.evaluate(p)
        if not np.isfinite(ll):
            return p, -math.inf, None, None
        g, H = g[self.idx], H[np.ix_(self.idx, self.idx)]
        is_log = np.array([k in LOG_PARAMS for k in self.free])
        sc = np.where(is_log, [p[k] for k in self.free], 1.0)
        return p, ll, sc * g, np.outer(sc, sc) * H + np.diag(np.where(is_log, sc * g, 0.0))

    def _newton(self, z, maxiter: int = 100, tol: float = 1e-9):
        """Damped Newton ascent (Levenberg shift where the Hessian is not negative
        definite, step halving until the log-likelihood rises). Converged when the
        Newton decrement (the expected further gain) is below ``tol``."""
        lo = np.array([b[0] for b in self.bounds])
        hi = np.array([b[1] for b in self.bounds])
        p, ll, g, H = self._z_derivatives(z)
        status = "start outside the support"
        it = 0
        while np.isfinite(ll) and it < maxiter:
            it += 1
            N = -H
            shift = 0.0
            while True:
                try:
                    L = np.linalg.cholesky(N + shift * np.eye(len(z)))
                    break
                except np.linalg.LinAlgError:
                    shift = max(1e-8 * float(np.abs(np.diag(N)).max()), 10.0 * shift, 1e-12)
            step = np.linalg.solve(L.T, np.linalg.solve(L, g))
            dec = float(g @ step)
            if dec < tol:
                status = "converged"
                break
            alpha = 1.0
            for _ in range(40):
                z_new = np.clip(z + alpha * step, lo, hi)
                if np.array_equal(z_new, z):
                    break
                got = self._z_derivatives(z_new)
                if got[1] >= ll:
                    break
                alpha /= 2.0
            else:
                status = "line search failed"
                break
            if np.array_equal(z_new, z):
                status = "stalled (at a bound or at rounding level)"
                break
            z, (p, ll, g, H) = z_new, got
        else:
            status = status if not np.isfinite(ll) else "iteration limit"
        res = SimpleNamespace(success=status == "converged", message=status, nit=it)
        return p, float(ll), res

    def information(self, p: dict) -> np.ndarray:
        """Observed information (minus the Hessian) in the natural parameters: exact
        where the compiled pass applies, else by central differences of the analytic
        gradient."""
        if self.fast is not None:
            return -self.fast.evaluate(p)[2][np.ix_(self.idx, self.idx)]
        k = len(self.free)
        H = np.empty((k, k))
        for j, name in enumerate(self.free):
            h = 1e-5 * (abs(p[name]) if name in LOG_PARAMS else max(1.0, abs(p[name])))
            up, dn = dict(p), dict(p)
            up[name] += h
            dn[name] -= h
            gu = self.loglik(up)[1]
            gd = self.loglik(dn)[1]
            H[:, j] = [(gu[q] - gd[q]) / (2 * h) for q in self.free]
        return -(H + H.T) / 2


def start_values(model: Model, n_events: int, n_exo: int, warm: dict | None = None) -> dict:
    """Starting values: ``warm`` (a previous fit's estimates) where it gives a usable
    value of a free parameter, else defaults; for the decay without a warm value, the
    best of a few on a coarse grid."""
    span = model.span
    rate = n_events / span
    base = {"mu0": 0.4 * rate, "n": 0.5, "e": 0.0, "theta": 1.0, "c": 1e-3 * span,
            "eta": max(0.1 * n_events / max(n_exo, 1), 1e-3), "omega_x": 10.0 / span}  # fmt: skip
    base.update(model.fixed)
    for k, v in (warm or {}).items():
        ok = k in model.free and isinstance(v, (int, float)) and math.isfinite(v)
        if ok and (v > 0 if k in LOG_PARAMS else v < 1):
            base[k] = float(v)
    if model.kernel == "exp" and "omega" in model.free and "omega" not in (warm or {}):
        best = None
        for om in rate * np.array([0.01, 0.1, 1.0, 10.0]):
            p = dict(base, omega=float(om))
            ll = model.loglik(p, grad=False)
            if best is None or ll > best[0]:
                best = (ll, p)
        base = best[1]
    return base


def profile(model: Model, mle: dict, ll_max: float, name: str, se: float, max_dev: float = 12.0):
    """Profile deviance 2 (l_max - l_p(v)) on a grid of ``name`` values around the MLE.

    Steps of half a standard error outwards until the deviance passes ``max_dev`` or
    the parameter's bound; returns (values, deviances) sorted by value.
    """
    others = [k for k in model.free if k != name]
    rows = [(mle[name], 0.0)]
    lo_b, hi_b = (N_MIN, N_MAX) if name == "n" else (-50.0, 1.0 - 1e-6)
    step = se if np.isfinite(se) and se > 0 else 0.1 * max(abs(mle[name]), 0.1)
    for sign in (-1.0, 1.0):
        warm = dict(mle)
        k = 0.5
        while k <= 12:
            v = mle[name] + sign * k * step
            if not lo_b < v < hi_b:
                break
            sub = Model(model.d, model.kernel, others, dict(model.fixed, **{name: v}))
            sub.cache = model.cache
            warm[name] = v
            p, ll, _ = sub.maximise(warm, tol=1e-9, maxiter=200)
            dev = max(2.0 * (ll_max - ll), 0.0)
            rows.append((v, dev))
            warm = p
            if dev > max_dev:
                break
            k += 0.5 if dev < 4 else 1.0
    rows.sort()
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows])


def profile_interval(values, devs, crit: float, bounds=(0.0, math.inf)):
    """Where the profile deviance crosses ``crit`` on each side of its minimum (linear
    interpolation between grid points); the parameter's bound if it never does."""
    i0 = int(np.argmin(devs))
    out = []
    for side in (-1, 1):
        idx = range(i0, -1, -1) if side < 0 else range(i0, len(values))
        prev = None
        found = bounds[0] if side < 0 else bounds[1]
        for i in idx:
            if devs[i] >= crit and prev is not None:
                v0, d0 = values[prev], devs[prev]
                v1, d1 = values[i], devs[i]
                found = v0 + (crit - d0) * (v1 - v0) / (d1 - d0)
                break
            prev = i
        out.append(float(found))
    return out[0], out[1]


def ks_exponential(x: np.ndarray) -> tuple[float, float]:
    """Kolmogorov-Smirnov statistic and p-value of sorted ``x`` against Exp(1): what
    ``scipy.stats.kstest(x, "expon")`` returns (exact two-sided p-value), without its
    second sort and generic cdf."""
    N = len(x)
    F = -np.expm1(-x)
    d_plus = float(np.max(np.arange(1, N + 1) / N - F))
    d_minus = float(np.max(F - np.arange(N) / N))
    D = max(d_plus, d_minus)
    return D, float(np.clip(stats.kstwo.sf(D, N), 0.0, 1.0))


def sorted_quantile(x: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``np.quantile(x, probs)`` (linear interpolation) for sorted ``x``, without a partition."""
    h = (len(x) - 1) * np.asarray(probs, float)
    lo = np.floor(h).astype(int)
    hi = np.minimum(lo + 1, len(x) - 1)
    return x[lo] + (h - lo) * (x[hi] - x[lo])


# --------------------------------------------------------------------------- components


def components(kernel: str, p: dict, model_cache=None):
    """Decay rates and weights of the kernel's exponential components."""
    if kernel == "exp":
        return np.array([p["omega"]]), np.array([1.0])
    w, _, _ = lk.powerlaw_weights(model_cache.s, p["theta"], p["c"])
    return model_cache.s, w


def decays_at(t: np.ndarray, rates: np.ndarray, A: np.ndarray, u: np.ndarray) -> np.ndarray:
    """E_k(u) = sum_{t_j < u} exp(-rate_k (u - t_j)) for each u, from A at the events
    (A[i, k] = sum_{j < i} ...). Shape (len(u), K)."""
    i = np.searchsorted(t, u, "left") - 1
    out = np.zeros((len(u), len(rates)))
    ok = i >= 0
    out[ok] = (A[i[ok]] + 1.0) * np.exp(-np.outer(u[ok] - t[i[ok]], rates))
    return out


def event_decays(t: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """A[i, k] = sum_{j < i} exp(-rate_k (t_i - t_j))."""
    if len(rates) == 1 and _compiled():
        return _compiled().decays(t, float(rates[0]))[:, None]
    return np.column_stack(
        [np.maximum(lk.decayed_cumsum(t, r, np.ones(len(t))) - 1.0, 0.0) for r in rates]
    )


def exo_immigrants(p: dict, exo: np.ndarray, start: float, u: np.ndarray) -> np.ndarray:
    """Expected exogenous immigrants in [start, u) for each u."""
    if len(exo) == 0 or p.get("eta", 0.0) == 0.0:
        return np.zeros(len(u))
    lo = np.maximum(start, exo) - exo
    span = np.maximum(u[:, None], np.maximum(start, exo)[None, :]) - exo[None, :]
    return p["eta"] * (np.exp(-p["omega_x"] * lo)[None, :] - np.exp(-p["omega_x"] * span)).sum(1)


def exo_future(p: dict, exo: np.ndarray, s: float) -> float:
    """Expected exogenous immigrants after time s."""
    if len(exo) == 0 or p.get("eta", 0.0) == 0.0:
        return 0.0
    lag = np.maximum(s - exo, 0.0)
    return float(p["eta"] * np.exp(-p["omega_x"] * lag).sum())


def expected_future(p, rates, w, Y, s, responses, end, exo):
    """Expected number of events after time ``s`` given the excitation state ``Y``
    (unscaled, per component: ``sum_j n w_k rate_k exp(-rate_k (s - t_j))``), with the
    constant background running until ``end`` and responses at ``responses`` (> s).

    Linear ODE for the expected excitation up to the last response, then the closed
    form ``(m sum_k Y_k / rate_k + future immigrants) / (1 - n m)``; infinite when the
    final branching ratio ``n m`` is 1 or more.
    """
    n, e = p["n"], p["e"]
    resp = np.sort(np.asarray([r for r in responses if r > s], float))
    passed = sum(1 for r in responses if r <= s)
    m_last = (1.0 - e) ** (passed + len(resp))
    if n * m_last >= 1.0:
        return math.inf
    mu0 = p["mu0"]
    state = np.concatenate([np.asarray(Y, float), [0.0]])
    t0 = s
    breaks = sorted(
        set([*resp.tolist(), *([end] if s < end < (resp[-1] if len(resp) else s) else [])])
    )
    for t1 in breaks:
        m = (1.0 - e) ** (passed + int(np.sum(resp < t1)))
        bg = mu0 if t1 <= end else 0.0

        def rhs(t, y, m=m, bg=bg):
            mu_t = bg
            if len(exo) and p.get("eta", 0.0):
                lag = t - exo
                mu_t += p["eta"] * p["omega_x"] * np.exp(-p["omega_x"] * lag[lag > 0]).sum()
            lam = mu_t + m * y[:-1].sum()
            return np.concatenate([-rates * y[:-1] + n * w * rates * lam, [lam]])

        sol = integrate.solve_ivp(rhs, (t0, t1), state, method="LSODA", rtol=1e-10, atol=1e-12)
        state = sol.y[:, -1]
        t0 = t1
    Yk, count = state[:-1], state[-1]
    bg_left = p["mu0"] * max(end - t0, 0.0)
    tail = (m_last * float(np.sum(Yk / rates)) + exo_future(p, exo, t0) + bg_left) / (
        1.0 - n * m_last
    )
    return float(count + tail)


# --------------------------------------------------------------------------- sizes


def excitation_integral(p, rates, w, t, A, u):
    """J(u) = integral of the unscaled excitation from the start to u."""
    counts = np.searchsorted(t, u, "left")
    E = decays_at(t, rates, A, u)
    return p["n"] * (counts - E @ w)


def compensator(p, rates, w, t, A, u, start, resp, exo, J_events=None):
    """Expected events from the start to each u (the fitted compensator)."""
    J = excitation_integral(p, rates, w, t, A, u) if J_events is None else J_events
    out = J.copy()
    if len(resp):
        J_r = excitation_integral(p, rates, w, t, A, resp)
        for k, (r, jr) in enumerate(zip(resp, J_r), start=1):
            dm = (1.0 - p["e"]) ** k - (1.0 - p["e"]) ** (k - 1)
            out += dm * np.where(u > r, J - jr, 0.0)
    out += p["mu0"] * (u - start)
    if len(exo) and p.get("eta", 0.0):
        for lo in range(0, len(u), 50_000):
            out[lo : lo + 50_000] += exo_immigrants(p, exo, start, u[lo : lo + 50_000])
    return out


def final_size(p, rates, w, t, A, end, resp, exo):
    E = decays_at(t, rates, A, np.array([end]))[0]
    Y = p["n"] * w * rates * E
    return len(t) + expected_future(p, rates, w, Y, end, list(resp), end, exo)


def at_bounds(model: Model, p: dict) -> list[tuple[str, str, float]]:
    """Free parameters at or within :data:`NEAR_BOUND` of a bound of the optimiser:
    ``(name, "lower" | "upper", bound)`` on the natural scale."""
    out = []
    for k, (lo, hi) in zip(model.free, model.bounds):
        z = math.log(p[k]) if k in LOG_PARAMS else p[k]
        for side, b in (("lower", lo), ("upper", hi)):
            if abs(z - b) <= NEAR_BOUND:
                out.append((k, side, math.exp(b) if k in LOG_PARAMS else b))
    return out


def null_fit(model: Model, n_events: int) -> tuple[dict, float]:
    """The Poisson model (n* = 0, so no kernel and no response effect): its parameters
    and maximised log-likelihood. Closed form for a constant background
    (``mu0 = N / span``), else the background's pulses refitted."""
    fixed = dict(model.fixed, n=0.0, e=0.0, omega=model.fixed.get("omega", 1.0))
    fixed.update({k: 1.0 for k in ("theta", "c") if model.kernel == "powerlaw"})
    free = [k for k in ("eta", "omega_x") if k in model.free]
    if not free:
        mu0 = n_events / model.span
        return dict(fixed, mu0=mu0), n_events * math.log(mu0) - n_events
    sub = Model(model.d, "exp", ["mu0", *free], fixed)
    p, ll, _ = sub.maximise(start_values(sub, n_events, len(model.d.exogenous)))
    p, ll, _ = sub.maximise(p)
    return p, ll


def excitation_test(ll: float, ll_null: float) -> dict:
    """Likelihood-ratio test of n* = 0 against n* free. n* = 0 is on the boundary, so
    the statistic's null law is the mixture 1/2 chi2_0 + 1/2 chi2_1 (Self and Liang
    1987): ``p = chi2_1.sf(LR) / 2`` for LR > 0, 1 at LR = 0. The decay is not
    identified under the null (Davies' problem), which makes the mixture somewhat
    liberal; bounding the decay keeps it close."""
    lr = max(2.0 * (ll - ll_null), 0.0)
    p = 0.5 * float(stats.chi2.sf(lr, 1)) if lr > 0 else 1.0
    return {"lr": lr, "p_value": p, "loglik_null": float(ll_null)}


def quantiles(x: np.ndarray, probs) -> np.ndarray:
    """``np.quantile(x, probs)`` (linear interpolation) where ``x`` may hold ``+inf``:
    a quantile that reaches an infinite draw is ``+inf`` (numpy gives NaN, from
    ``inf - inf``, with a RuntimeWarning)."""
    x = np.sort(np.asarray(x, float))
    h = (len(x) - 1) * np.asarray(probs, float)
    lo = np.floor(h).astype(int)
    hi = np.minimum(lo + 1, len(x) - 1)
    frac = h - lo
    fin = np.isfinite(x)
    xf = np.where(fin, x, 0.0)
    out = xf[lo] + frac * (xf[hi] - xf[lo])
    return np.where(~fin[lo] | (~fin[hi] & (frac > 0)), np.inf, out)


def exp_sums(lag: np.ndarray, omegas: np.ndarray) -> np.ndarray:
    """``sum_j exp(-omega lag_j)`` for each omega (lags ascending, all >= 0).

    Direct (in blocks) for small problems; else Chebyshev interpolation of log E in
    log omega over the omegas' range (E is completely monotone, so 24 nodes reach
    rounding level), checked against the direct sums at three points.
    """
    omegas = np.asarray(omegas, float)
    if len(omegas) == 0:
        return np.zeros(0)

    def direct(om):
        out = np.empty(len(om))
        for i in range(0, len(om), 64):
            blk = om[i : i + 64]
            near = lag[: np.searchsorted(lag, 40.0 / blk.min(), "right")]
            out[i : i + 64] = np.exp(-np.outer(blk, near)).sum(1)
        return out

    lo, hi = math.log(omegas.min()), math.log(omegas.max())
    if len(lag) * len(omegas) <= 2_000_000 or hi - lo < 1e-12:
        return direct(omegas)
    k = 24
    nodes = np.cos(np.pi * (np.arange(k) + 0.5) / k)
    vals = direct(np.exp(lo + (nodes + 1.0) * (hi - lo) / 2.0))
    if np.any(vals <= 0):
        return direct(omegas)
    coef = np.polynomial.chebyshev.chebfit(nodes, np.log(vals), k - 1)

    def interp(om):
        x = 2.0 * (np.log(om) - lo) / (hi - lo) - 1.0
        return np.exp(np.polynomial.chebyshev.chebval(np.clip(x, -1.0, 1.0), coef))

    check = np.exp(lo + np.array([0.13, 0.5, 0.91]) * (hi - lo))
    if np.max(np.abs(interp(check) / direct(check) - 1.0)) > 1e-9:
        return direct(omegas)
    return interp(omegas)


def final_draws(model, p, cov, t, end, resp, exo, n_draws, seed):
    """Final sizes for parameter draws from the asymptotic normal of the free parameters
    (``inf`` where a draw's final branching ratio is 1 or more; draws outside the
    parameter space are dropped)."""
    rng = np.random.default_rng(seed)
    free = model.free
    future = any(r > end for r in resp)
    if future:
        n_draws = min(n_draws, 200)
    try:
        # a parameter at a bound can leave rounding-level negative eigenvalues
        lam, V = np.linalg.eigh((np.asarray(cov) + np.asarray(cov).T) / 2.0)
        cov = (V * np.clip(lam, 0.0, None)) @ V.T
        draws = rng.multivariate_normal(
            [p[k] for k in free], cov, n_draws, method="eigh", check_valid="ignore"
        )
    except (np.linalg.LinAlgError, ValueError):
        return np.array([])
    q = {k: np.full(n_draws, float(v)) for k, v in p.items()}
    q.update({k: draws[:, i] for i, k in enumerate(free)})
    ok = q["e"] < 1
    for k in free:
        if k in LOG_PARAMS:
            ok &= q[k] > 0
    q = {k: v[ok] for k, v in q.items()}
    if model.kernel == "exp" and not future:
        # closed form: sizes after the end are m n E(omega) / (1 - n m), E summing the
        # decayed events at the end, plus the pulses' future immigrants
        m = (1.0 - q["e"]) ** len(resp)
        lag = (end - t)[::-1]
        E = exp_sums(lag, q["omega"])
        E_x = 0.0
        if len(exo):
            ex_lag = np.maximum(end - np.asarray(exo, float), 0.0)
            E_x = q["eta"] * np.exp(-np.outer(q["omega_x"], ex_lag)).sum(1)
        nm = q["n"] * m
        size = len(t) + (m * q["n"] * E + E_x) / np.where(nm < 1.0, 1.0 - nm, 1.0)
        return np.where(nm < 1.0, size, np.inf)
    out = []
    for i in range(int(ok.sum())):
        qi = {k: float(v[i]) for k, v in q.items()}
        rates, w = components(model.kernel, qi, model.cache)
        if model.kernel == "exp":
            E = np.array([np.exp(-rates[0] * (end - t)).sum()])
        else:
            E = model.cache.E[:, -1]
        Y = qi["n"] * w * rates * E
        out.append(len(t) + expected_future(qi, rates, w, Y, end, list(resp), end, exo))
    return np.array(out)
