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
(the result says so). Maximisation (:mod:`casekit.reach._count_solver`) is Fisher scoring
with Levenberg-Marquardt damping on the curve's parameters (bounded through the same
log/logit transform as the least-squares solver) and ``log phi`` together, with the
analytic Jacobian of the increments, turning to Newton's method on the observed
information near the optimum; the covariance is the inverse expected information of the
curve's parameters (``phi`` is orthogonal to them in NB2).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from casekit.exceptions import FitError
from casekit.reach._count_solver import _all_starts, _Counts, _log_loglik, _scoring
from casekit.reach._solver import _Transform
from casekit.reach.curves import _TINY, CurveSpec

__all__ = ["FAMILIES", "count_loglik", "fit_counts"]

FAMILIES = ("nb", "poisson", "log")
"""Likelihoods of per-period counts (see the module docstring)."""


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
    return _log_loglik(y, mu, w)


def fit_counts(
    spec: CurveSpec,
    a,
    b,
    y,
    w,
    family: str,
    starts,
    *,
    iters: int = 400,
    with_cov=True,
    phi0=None,
    free=None,
    tol: float = 1e-8,
    solutions: list | None = None,
    rough: list | None = None,
):
    """Maximum-likelihood fit of ``spec`` to per-period counts.

    Returns ``(theta, loglik, cov, phi)``; ``phi`` is None except for ``nb``; ``cov`` is
    None when ``with_cov`` is false (profile refits). ``phi0`` warm-starts the dispersion.
    ``free`` (a boolean mask over the parameters) fits only those, holding the others at
    their starting values (profile refits); ``tol`` is the Newton decrement (about twice
    the log-likelihood still to gain) at which a fit has converged. With ``solutions`` (a
    list) every start is run, first to a loose tolerance, the best few are finished, and
    the distinct local maxima found are appended to the list as ``(theta, loglik, phi)``
    (best first): a curve whose likelihood has several local maxima (an intervention
    curve) is then fitted from its best one, not from the first start that converged.
    ``rough`` (a list) receives where every start got to after the first few steps.
    Raises FitError when no start converges.

    Examples
    --------
    >>> import numpy as np, casekit as ck
    >>> from casekit.reach.observation import fit_counts
    >>> spec = ck.reach.CURVES["logistic"]
    >>> a = np.arange(0.0, 20.0); b = a + 1
    >>> y = np.round(spec(b, 500.0, 0.6, 8.0) - spec(a, 500.0, 0.6, 8.0))
    >>> th, ll, cov, phi = fit_counts(spec, a, b, y, np.ones(20), "poisson", [[600, 0.5, 9]])
    >>> [round(float(v), 1) for v in th], phi
    ([498.4, 0.6, 8.0], None)
    """
    y = np.asarray(y, dtype=float)
    cp = _Counts(spec, a, b, y, w, family)
    yscale = float(np.sum(y)) or 1.0
    sv = np.array([yscale if n in spec.scale_params else 1.0 for n in spec.param_names])
    tr = _Transform(cp.lo / sv, cp.hi / sv)
    p = spec.k
    free = np.ones(p, dtype=bool) if free is None else np.asarray(free, dtype=bool)
    lphi0 = None if phi0 is None else math.log(phi0)
    best = None
    if solutions is None:
        for s in starts:
            out = _scoring(cp, tr, sv, np.asarray(s, dtype=float), iters, lphi0, free, tol)
            if out is not None and out[3] and (best is None or out[1] > best[1]):
                best = out
                break  # a converged start: the others would only repeat it (warm starts)
    else:
        best = _all_starts(cp, tr, sv, starts, iters, lphi0, free, tol, solutions, rough)
    if best is None:
        raise FitError(
            f"the {spec.name} curve did not converge on the per-period counts ({family} "
            "likelihood) from any starting point; try start=..., another curve or loss='log'"
        )
    theta, ll, lphi, _ = best
    phi = math.exp(lphi) if family == "nb" else None
    if not with_cov:
        return theta, ll, None, phi
    mu, J = cp.mu_jac(theta)
    mu = np.maximum(mu, _TINY)
    w = cp.w
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
