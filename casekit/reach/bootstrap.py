"""The studentized residual bootstrap of a :class:`~casekit.reach.ReachFit`.

Each replicate refits the curve to the fitted values plus resampled residuals (on the
fitting scale) and also computes its own standard errors, ``s*^2 (J*'J*)^-1`` at its
estimates. The interval of a quantity g is then the bootstrap-t interval

    [g - t*(1 - alpha/2) se, g - t*(alpha/2) se],  t* = (g* - g) / se*

on a scale that respects g's range (the log of a positive quantity, the log of the
distance to a parameter's bound, the logit between two bounds; see
:class:`~casekit.reach.intervals.BoundScale`), so it never crosses a bound. At n = 15
with log-normal noise, the percentile intervals of the same replicates covered 89-91 %
at a nominal 95 %; the bootstrap-t ones reach the nominal level
(``tests/test_honest_intervals.py`` checks it by simulation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from casekit.exceptions import FitError
from casekit.reach import intervals as _iv
from casekit.reach._solver import _batch_fit, _huber_weights
from casekit.reach.curves import _TINY

__all__ = ["Replicates", "replicates", "param_limits", "derived_limits"]


@dataclass(frozen=True)
class Replicates:
    """Converged bootstrap replicates: estimates ``theta`` (B, p), their covariance
    matrices ``cov`` (B, p, p; NaN where a replicate's own fit is singular) and the
    centred, rescaled residuals ``e`` they were drawn from."""

    theta: np.ndarray
    cov: np.ndarray
    e: np.ndarray

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.maximum(np.einsum("bii->bi", self.cov), 0.0))


def _batch_model_jac(spec, t, P, lo, hi):
    """d f / d theta at every replicate (central differences): shape (B, n, p)."""
    B, p = P.shape
    h = 6e-6 * np.maximum(np.abs(P), 1e-2)
    out = np.empty((B, t.size, p))
    with np.errstate(all="ignore"):
        for j in range(p):
            up, dn = P.copy(), P.copy()
            up[:, j] = np.minimum(P[:, j] + h[:, j], hi[j])
            dn[:, j] = np.maximum(P[:, j] - h[:, j], lo[j])
            fu = spec.f(t[None, :], *[up[:, [k]] for k in range(p)])
            fd = spec.f(t[None, :], *[dn[:, [k]] for k in range(p)])
            out[:, :, j] = (fu - fd) / (up[:, [j]] - dn[:, [j]])
    return out


def _batch_cov(prob, P, Z, f_scale):
    """``s*^2 (J*'J*)^-1`` of each replicate, on the fitting scale (NaN where singular)."""
    B, p = P.shape
    n = prob.t.size
    cols = [P[:, [k]] for k in range(p)]
    with np.errstate(all="ignore"):
        F = prob.spec.f(prob.t[None, :], *cols)
        G = _batch_model_jac(prob.spec, prob.t, P, prob.lo, prob.hi)
        if prob.log:
            Fp = np.maximum(F, _TINY)
            R = prob.sw[None, :] * (Z - np.log(Fp))
            G = G / Fp[:, :, None]
        else:
            R = prob.sw[None, :] * (Z - F)
        J = prob.sw[None, :, None] * G
        if f_scale is not None:  # robust loss: the IRLS weights at the solution
            u = _huber_weights(R, f_scale)
            J = np.sqrt(u)[:, :, None] * J
            rss = np.sum(u * R**2, axis=1)
        else:
            rss = np.sum(R**2, axis=1)
        s2 = rss / max(n - p, 1)
        A = np.einsum("bni,bnj->bij", J, J)
        d = np.sqrt(np.einsum("bii->bi", A))
        An = A / (d[:, :, None] * d[:, None, :])
    cov = np.full((B, p, p), np.nan)
    good = np.all(np.isfinite(An), axis=(1, 2)) & np.all(d > 0, axis=1)
    if good.any():
        cond = np.linalg.cond(An[good])
        idx = np.nonzero(good)[0][cond < 1e10]
        if idx.size:
            inv = np.linalg.inv(An[idx])
            cov[idx] = s2[idx, None, None] * inv / (d[idx, :, None] * d[idx, None, :])
    return cov


def replicates(fit, n_boot: int, seed: int) -> Replicates:
    """The converged replicates of a residual bootstrap, with their own covariances.

    Replicate b refits ``zhat + e*_b / sqrt(w)`` where ``zhat`` is the fit on the fitting
    scale and ``e*_b`` resamples the weighted residuals, centred and inflated by
    ``sqrt(n / (n - p))``. Raises FitError when fewer than half converge.
    """
    prob = fit._problem()
    n, p = fit.nobs, fit.spec.k
    rng = np.random.default_rng(seed)
    fv = np.maximum(fit.fitted, _TINY) if fit._log else fit.fitted
    zhat = np.log(fv) if fit._log else fv
    e = fit.residuals.to_numpy() * prob.sw * math.sqrt(n / max(n - p, 1))
    e = e - e.mean()
    idx = rng.integers(0, n, size=(int(n_boot), n))
    Z = zhat[None, :] + e[idx] / prob.sw[None, :]
    fs = None
    if fit._robust:
        fs = fit.f_scale / (1.0 if fit._log else prob.yscale)
    th, ok = _batch_fit(prob, Z, np.array(fit.theta), f_scale=fs)
    th, Z = th[ok], Z[ok]
    if th.shape[0] < max(10, 0.5 * n_boot):
        raise FitError(
            f"the bootstrap failed: only {th.shape[0]} of {n_boot} replicates "
            f"converged; the asymptotic intervals are all there is"
        )
    fs_data = None if fs is None else fit.f_scale
    cov = _batch_cov(prob, th, Z, fs_data)
    for a in (th, cov, e):
        a.flags.writeable = False
    return Replicates(theta=th, cov=cov, e=e)


def _t_limits(z_hat, se_z, T, alpha):
    """Bootstrap-t limits on the scale z from the studentized replicates T."""
    T = T[np.isfinite(T)]
    if T.size < 10:
        return np.nan, np.nan
    t_lo, t_hi = np.quantile(T, [alpha / 2, 1 - alpha / 2])
    return z_hat - t_hi * se_z, z_hat - t_lo * se_z


def param_limits(fit, reps: Replicates, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap-t intervals of the parameters, each on the scale of its bounds."""
    scale = _iv.param_scale(fit.spec)
    theta = np.asarray(fit.theta, dtype=float)
    se = fit.bse.to_numpy()
    z_hat, s_hat = scale.to_z(theta), se * np.abs(scale.slope(theta))
    with np.errstate(all="ignore"):
        Z = scale.to_z(reps.theta)
        S = reps.se * np.abs(scale.slope(reps.theta))
        T = (Z - z_hat[None, :]) / S
    lims = np.array([_t_limits(z_hat[j], s_hat[j], T[:, j], alpha) for j in range(fit.spec.k)])
    return scale.to_v(lims[:, 0]), scale.to_v(lims[:, 1])


def _batch_grad(fun, P, spec):
    """Gradient of a vectorised g at every replicate (central differences), (B, p)."""
    lo = np.array([b[0] for b in spec.bounds])
    hi = np.array([b[1] for b in spec.bounds])
    h = 6e-6 * np.maximum(np.abs(P), 1e-2)
    out = np.empty(P.shape)
    with np.errstate(all="ignore"):
        for j in range(P.shape[1]):
            up, dn = P.copy(), P.copy()
            up[:, j] = np.minimum(P[:, j] + h[:, j], hi[j])
            dn[:, j] = np.maximum(P[:, j] - h[:, j], lo[j])
            gu = np.asarray(fun(*[up[:, k] for k in range(P.shape[1])]), dtype=float)
            gd = np.asarray(fun(*[dn[:, k] for k in range(P.shape[1])]), dtype=float)
            out[:, j] = (gu - gd) / (up[:, j] - dn[:, j])
    return out


def derived_limits(fit, reps: Replicates, fun, est: float, se: float, alpha: float, positive):
    """Bootstrap-t interval of a derived quantity g(theta) and the replicates' spread.

    ``positive``: compute on the log scale (when the estimate and every replicate are
    above 0). Returns ``(std_err, lower, upper, scale)`` with ``scale`` ``"log"`` or
    ``"linear"``.
    """
    P = reps.theta
    with np.errstate(all="ignore"):
        g = np.broadcast_to(
            np.asarray(fun(*[P[:, k] for k in range(P.shape[1])]), dtype=float), (P.shape[0],)
        )
        grad = _batch_grad(fun, P, fit.spec)
        se_b = np.sqrt(np.maximum(np.einsum("bi,bij,bj->b", grad, reps.cov, grad), 0.0))
    fin = np.isfinite(g)
    spread = float(np.std(g[fin], ddof=1)) if fin.sum() > 1 else float("nan")
    if not (np.isfinite(est) and np.isfinite(se) and se > 0):
        return spread, est, est, "linear"
    use_log = bool(positive and est > 0 and np.all(g[fin] > 0))
    with np.errstate(all="ignore"):
        if use_log:
            T = (np.log(g) - math.log(est)) / (se_b / g)
            a, b = _t_limits(math.log(est), se / est, T, alpha)
            return spread, float(np.exp(a)), float(np.exp(b)), "log"
        T = (g - est) / se_b
    a, b = _t_limits(est, se, T, alpha)
    return spread, a, b, "linear"
