"""Per-period counts: each count is the increment of the cumulative curve over its period.

A count ``y_i`` observed over the period ``[a_i, b_i]`` (days since the origin; periods
may be irregular and have gaps) has mean ``mu_i = F(b_i) - F(a_i)``, with ``F`` the same
cumulative curve a cumulative series is fitted with. Likelihoods (:data:`FAMILIES`):

* ``nb``: negative binomial NB2, ``Var = mu + mu^2 / phi``, the dispersion ``phi``
  estimated with the curve by maximum likelihood (overdispersed social-media counts);
* ``poisson``: the ``phi -> inf`` limit;
* ``log``: least squares on ``log y_i - log mu_i`` (a multiplicative error model; counts
  must be positive).

``loss="auto"`` fits ``nb`` and ``poisson`` and keeps the one with the smaller AICc
(the result says so). Maximisation is Fisher scoring with Levenberg-Marquardt damping on
the curve's parameters (bounded through the same log/logit transform as the least-squares
solver) and Newton steps on ``log phi``; the covariance is the inverse expected
information of the curve's parameters (``phi`` is orthogonal to them in NB2).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from casekit.exceptions import FitError
from casekit.reach._solver import _Transform
from casekit.reach.curves import _TINY, CurveSpec

__all__ = ["FAMILIES", "count_loglik", "fit_counts"]

FAMILIES = ("nb", "poisson", "log")
"""Likelihoods of per-period counts (see the module docstring)."""

_LOG_PHI = (-8.0, 25.0)


def increments(spec: CurveSpec, a, b, theta) -> np.ndarray:
    """Expected count over each period: F(b) - F(a)."""
    with np.errstate(all="ignore"):
        return spec.f(b, *theta) - spec.f(a, *theta)


def count_loglik(family: str, y, mu, w, phi=None) -> float:
    """Log-likelihood of the counts ``y`` with means ``mu`` (weights ``w`` multiply each
    term). For ``log``: the Gaussian log-likelihood of log y with the variance profiled,
    converted to a density of y.

    Examples
    --------
    >>> import numpy as np
    >>> from casekit.reach.observation import count_loglik
    >>> y = np.array([3.0, 5.0]); mu = np.array([4.0, 4.0]); w = np.ones(2)
    >>> a = count_loglik("nb", y, mu, w, 1e8); b = count_loglik("poisson", y, mu, w)
    >>> bool(abs(a - b) < 1e-6)
    True
    """
    mu = np.maximum(mu, _TINY)
    if family == "poisson":
        return float(np.sum(w * (y * np.log(mu) - mu - special.gammaln(y + 1))))
    if family == "nb":
        return float(
            np.sum(
                w
                * (
                    special.gammaln(y + phi)
                    - special.gammaln(phi)
                    - special.gammaln(y + 1)
                    + phi * np.log(phi / (phi + mu))
                    + y * np.log(mu / (phi + mu))
                )
            )
        )
    n = len(y)
    rss = float(np.sum(w * (np.log(y) - np.log(mu)) ** 2))
    if rss <= 0:
        return float("inf")
    return float(
        -n / 2 * (math.log(2 * math.pi) + 1 - math.log(n) - np.sum(np.log(w)) / n + math.log(rss))
        - np.sum(np.log(y))
    )


def _phi_newton(y, mu, w, lphi):
    """One guarded Newton step of the NB2 log-likelihood in log phi."""
    phi = math.exp(lphi)
    mu = np.maximum(mu, _TINY)
    g = np.sum(
        w
        * (
            special.digamma(y + phi)
            - special.digamma(phi)
            + np.log(phi / (phi + mu))
            + 1.0
            - (y + phi) / (phi + mu)
        )
    )
    h = np.sum(
        w
        * (
            special.polygamma(1, y + phi)
            - special.polygamma(1, phi)
            + 1.0 / phi
            - 2.0 / (phi + mu)
            + (y + phi) / (phi + mu) ** 2
        )
    )
    gl, hl = g * phi, h * phi * phi + g * phi  # derivatives in log phi
    step = -gl / hl if hl < 0 else math.copysign(1.0, gl)
    return float(np.clip(lphi + np.clip(step, -2.0, 2.0), *_LOG_PHI))


def fit_counts(
    spec: CurveSpec, a, b, y, w, family: str, starts, *, iters: int = 400, with_cov=True, phi0=None
):
    """Maximum-likelihood fit of ``spec`` to per-period counts.

    Returns ``(theta, loglik, cov, phi)``; ``phi`` is None except for ``nb``; ``cov`` is
    None when ``with_cov`` is false (profile refits). ``phi0`` warm-starts the dispersion.
    Raises FitError when no start converges.
    """
    y = np.asarray(y, dtype=float)
    yscale = float(np.sum(y)) or 1.0
    sv = np.array([yscale if n in spec.scale_params else 1.0 for n in spec.param_names])
    lo = np.array([x[0] for x in spec.bounds]) / sv
    hi = np.array([x[1] for x in spec.bounds]) / sv
    tr = _Transform(lo, hi)
    p = spec.k
    best = None
    for s in starts:
        lphi0 = None if phi0 is None else math.log(phi0)
        out = _scoring(spec, a, b, y, w, family, tr, sv, np.asarray(s, dtype=float), iters, lphi0)
        if out is not None and (best is None or out[1] > best[1]):
            best = out
            if out[3]:
                break  # a converged start: the others would only repeat it (warm starts)
    if best is None:
        raise FitError(
            f"the {spec.name} curve did not converge on the per-period counts ({family} "
            "likelihood) from any starting point; try start=..., another curve or loss='log'"
        )
    theta, ll, lphi, _ = best
    phi = math.exp(lphi) if family == "nb" else None
    if not with_cov:
        return theta, ll, None, phi
    mu = np.maximum(increments(spec, a, b, theta), _TINY)
    J = _jac(spec, a, b, theta, mu)
    if family == "log":
        Jl = J / mu[:, None]
        r = np.log(y) - np.log(mu)
        s2 = float(np.sum(w * r**2)) / max(len(y) - p, 1)
        info = (Jl * w[:, None]).T @ Jl / s2
    else:
        V = mu if phi is None else mu + mu**2 / phi
        info = (J * (w / V)[:, None]).T @ J
    norms = np.sqrt(np.maximum(np.diag(info), 0.0))
    if np.any(norms == 0) or not np.all(np.isfinite(info)):
        raise FitError(
            f"the per-period counts cannot identify the {spec.name} curve: the likelihood "
            "does not depend on some of its parameters at these periods"
        )
    In = info / np.outer(norms, norms)
    sv_ = np.linalg.svd(In, compute_uv=False)
    if not sv_[-1] > 1e-16 * sv_[0]:
        raise FitError(
            f"the per-period counts cannot identify the {spec.name} curve: its parameters "
            f"({', '.join(spec.param_names)}) trade off against each other almost perfectly"
        )
    cov = np.linalg.inv(In) / np.outer(norms, norms)
    return theta, ll, cov, phi


def _jac(spec, a, b, theta, mu):
    h = 1e-6 * np.maximum(np.abs(theta), 1e-3)
    lo = np.array([x[0] for x in spec.bounds])
    hi = np.array([x[1] for x in spec.bounds])
    cols = []
    for j in range(len(theta)):
        up = np.array(theta, dtype=float)
        up[j] = min(theta[j] + h[j], hi[j])
        dn = np.array(theta, dtype=float)
        dn[j] = max(theta[j] - h[j], lo[j])
        cols.append((increments(spec, a, b, up) - increments(spec, a, b, dn)) / (up[j] - dn[j]))
    return np.column_stack(cols)


def _increments_many(spec, ab, n, P):
    """Increments for each row of the parameter matrix ``P`` (m, p) in one broadcast call."""
    F = spec.f(ab[None, :], *[P[:, [j]] for j in range(P.shape[1])])
    F = np.broadcast_to(F, (P.shape[0], 2 * n))
    return F[:, n:] - F[:, :n]


def _scoring(spec, a, b, y, w, family, tr, sv, theta0, iters, lphi0=None):
    """Damped Fisher scoring from one start; (theta, loglik, log phi, converged) or None.

    Converged when the Newton decrement ``g' A^-1 g`` (about twice the log-likelihood
    still to gain) is below 1e-8 and the dispersion has settled; tiny damped steps alone
    never count as convergence.
    """
    lo, hi = tr.lo, tr.hi
    n = len(y)
    ab = np.concatenate([np.asarray(a, dtype=float), np.asarray(b, dtype=float)])
    with np.errstate(invalid="ignore"):
        lo_in = np.where(np.isfinite(lo), lo + 1e-9 * np.maximum(1.0, np.abs(lo)), lo)
        hi_in = np.where(np.isfinite(hi), hi - 1e-9 * np.maximum(1.0, np.abs(hi)), hi)
    u0 = np.clip(theta0 / sv, lo_in, hi_in)
    x = tr.to_x(u0)
    p = len(x)
    if family != "nb":
        lphi = 0.0
    elif lphi0 is not None:
        lphi = float(lphi0)
    else:
        lphi = math.log(max(float(np.var(y) - np.mean(y)), 1e-3 * np.mean(y) ** 2, 1e-6))
        lphi = float(np.clip(math.log(np.mean(y) ** 2) - lphi, *_LOG_PHI))

    def ll_of(x, lphi):
        mu = increments(spec, a, b, tr.to_v(x) * sv)
        if not np.all(np.isfinite(mu)):
            return -np.inf, mu
        return count_loglik(family, y, mu, w, math.exp(lphi)), mu

    eye = np.eye(p)
    with np.errstate(all="ignore"):
        ll, mu = ll_of(x, lphi)
        if not np.isfinite(ll):
            return None
        lam = 1e-3
        converged = False
        for _ in range(iters):
            mu_c = np.maximum(mu, _TINY)
            h = 1e-7 * np.maximum(np.abs(x), 1.0)
            X = x[None, :] + eye * h[:, None]
            P = np.array([tr.to_v(r) for r in X]) * sv
            J = ((_increments_many(spec, ab, n, P) - mu[None, :]) / h[:, None]).T
            if family == "log":
                Jl = J / mu_c[:, None]
                r = np.log(y) - np.log(mu_c)
                A = (Jl * w[:, None]).T @ Jl
                g = (Jl * w[:, None]).T @ r
            else:
                V = mu_c if family == "poisson" else mu_c + mu_c**2 / math.exp(lphi)
                A = (J * (w / V)[:, None]).T @ J
                g = J.T @ (w * (y - mu_c) / V)
            if not (np.all(np.isfinite(A)) and np.all(np.isfinite(g))):
                return None
            D = np.maximum(np.diag(A), 1e-300)
            lpn = _phi_newton(y, mu_c, w, lphi) if family == "nb" else lphi
            dphi = abs(lpn - lphi)
            sD = np.sqrt(D)
            gs = g / sD
            try:
                dec = float(gs @ np.linalg.lstsq(A / np.outer(sD, sD), gs, rcond=1e-13)[0])
            except (np.linalg.LinAlgError, ValueError):
                dec = np.inf
            improved = False
            for _ in range(40):
                try:
                    step = np.linalg.solve(A + lam * np.diag(D), g)
                except np.linalg.LinAlgError:
                    lam *= 10
                    continue
                xn = x + step
                lln, mun = ll_of(xn, lpn)
                lp_try = lpn
                if not lln >= ll - 1e-12 * abs(ll) and lpn != lphi:
                    # far from the optimum the dispersion step can spoil a good step
                    lln, mun = ll_of(xn, lphi)
                    lp_try = lphi
                if np.isfinite(lln) and lln >= ll - 1e-12 * abs(ll):
                    dl = lln - ll
                    x, lphi, ll, mu = xn, lp_try, lln, mun
                    lam = max(lam / 5, 1e-12)
                    improved = True
                    break
                lam *= 5
                if lam > 1e14:
                    break
            if not improved:
                converged = dec < 1e-6 and dphi < 1e-3
                break
            if dec < 1e-8 and dl <= 1e-8 and dphi < 1e-4:
                converged = True
                break
    if not converged:
        return None
    return tr.to_v(x) * sv, ll, lphi, True
