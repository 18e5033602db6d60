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
        lo = {"mu0": 1e-10 / span, "n": 1e-4, "omega": 1e-2 / span, "theta": 0.02,
              "c": 1e-5 * span, "eta": 1e-6, "omega_x": 1e-2 / span}  # fmt: skip
        hi = {"mu0": 1e9 / span, "n": 20.0, "omega": 1e7 / span, "theta": 10.0, "c": span,
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


def start_values(model: Model, n_events: int, n_exo: int) -> dict:
    """Starting values; for the decay, the best of a few on a coarse grid."""
    span = model.span
    rate = n_events / span
    base = {"mu0": 0.4 * rate, "n": 0.5, "e": 0.0, "theta": 1.0, "c": 1e-3 * span,
            "eta": max(0.1 * n_events / max(n_exo, 1), 1e-3), "omega_x": 10.0 / span}  # fmt: skip
    base.update(model.fixed)
    if model.kernel == "exp" and "omega" in model.free:
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
    lo_b, hi_b = (1e-4, 20.0) if name == "n" else (-50.0, 1.0 - 1e-6)
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


def final_draws(model, p, cov, t, end, resp, exo, n_draws, seed):
    """Final sizes for parameter draws from the asymptotic normal of the free parameters."""
    rng = np.random.default_rng(seed)
    free = model.free
    if any(r > end for r in resp):
        n_draws = min(n_draws, 200)
    try:
        draws = rng.multivariate_normal([p[k] for k in free], cov, n_draws, method="eigh")
    except (np.linalg.LinAlgError, ValueError):
        return np.array([])
    out = []
    if model.kernel == "exp":  # lags beyond 50 / omega add less than exp(-50)
        om = draws[:, free.index("omega")] if "omega" in free else np.full(n_draws, p["omega"])
        ok = om > 0
        lag = end - t[t > end - 50.0 / (om[ok].min() if ok.any() else 1.0)]
    for row in draws:
        q = dict(p, **dict(zip(free, row)))
        if any(q[k] <= 0 for k in free if k in LOG_PARAMS) or q["e"] >= 1:
            continue
        rates, w = components(model.kernel, q, model.cache)
        if model.kernel == "exp":
            near = lag[lag < 50.0 / rates[0]]
            E = np.array([np.exp(-rates[0] * near).sum()])
        else:
            E = model.cache.E[:, -1]
        Y = q["n"] * w * rates * E
        out.append(len(t) + expected_future(q, rates, w, Y, end, list(resp), end, exo))
    return np.array(out)
