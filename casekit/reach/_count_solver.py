"""The numerical core of the per-period count fits (:mod:`casekit.reach.observation`).

Damped Fisher scoring on the curve's bounded parameters (the same log/logit transform as
the least-squares solver) with the analytic Jacobian of the increments
(:func:`~casekit.reach._derivatives.curve_jac`), Newton's method on the observed
information near the optimum, the NB2 dispersion fitted jointly in log phi; a batched
first stage for many starting points at once.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from casekit.reach._derivatives import curve_jac, curve_jac_rows, curve_rows
from casekit.reach.curves import _TINY, CurveSpec

_LOG_PHI = (-8.0, 25.0)

ROUGH_STEPS = 12
"""Scoring steps each start gets before the best are finished (``fit_counts(...,
solutions=[])``)."""


def _log_loglik(y, mu, w) -> float:
    """The ``log`` family's log-likelihood (see ``count_loglik``)."""
    n = len(y)
    rss = float(np.sum(w * (np.log(y) - np.log(mu)) ** 2))
    if rss <= 0:
        return float("inf")
    return float(
        -n / 2 * (math.log(2 * math.pi) + 1 - math.log(n) - np.sum(np.log(w)) / n + math.log(rss))
        - np.sum(np.log(y))
    )


def _phi_derivs(y, mu, w, phi):
    """First and second derivatives of the NB2 log-likelihood in log phi."""
    mu = np.maximum(mu, _TINY)
    ypp = y + phi
    pm = phi + mu
    g = np.sum(
        w * (special.digamma(ypp) - special.digamma(phi) + np.log(phi / pm) + 1.0 - ypp / pm)
    )
    h = np.sum(
        w
        * (
            special.zeta(2.0, ypp)  # trigamma
            - special.zeta(2.0, phi)
            + 1.0 / phi
            - 2.0 / pm
            + ypp / pm**2
        )
    )
    return float(g * phi), float(h * phi * phi + g * phi)


class _Counts:
    """The data of a count fit and its mean, Jacobian and log-likelihood (no pandas)."""

    def __init__(self, spec: CurveSpec, a, b, y, w, family: str):
        self.spec, self.family = spec, family
        self.a = np.asarray(a, dtype=float)
        self.b = np.asarray(b, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.w = np.asarray(w, dtype=float)
        self.n = len(self.y)
        self.ab = np.concatenate([self.a, self.b])
        self.lo = np.array([x[0] for x in spec.bounds], dtype=float)
        self.hi = np.array([x[1] for x in spec.bounds], dtype=float)
        with np.errstate(all="ignore"):
            self.const = float(np.sum(self.w * special.gammaln(self.y + 1)))
        self.wy = self.w * self.y
        self.wsum = float(np.sum(self.w))
        self._phi_terms = (None, 0.0)

    def mu(self, theta):
        with np.errstate(all="ignore"):
            F = self.spec.f(self.ab, *theta)
        return F[self.n :] - F[: self.n]

    def mu_jac(self, theta):
        """Means and d mu / d theta (analytic where the curve allows, else differences)."""
        theta = np.asarray(theta, dtype=float)
        with np.errstate(all="ignore"):
            got = curve_jac(self.spec, self.ab, theta)
            if got is not None:
                F, G = got
                n = self.n
                return F[n:] - F[:n], G[n:] - G[:n]
            mu = self.mu(theta)
            h = 1e-6 * np.maximum(np.abs(theta), 1e-3)
            cols = []
            for j in range(len(theta)):
                up = theta.copy()
                up[j] = min(theta[j] + h[j], self.hi[j])
                dn = theta.copy()
                dn[j] = max(theta[j] - h[j], self.lo[j])
                cols.append((self.mu(up) - self.mu(dn)) / (up[j] - dn[j]))
            return mu, np.column_stack(cols)

    def loglik(self, mu, lphi):
        if not np.all(np.isfinite(mu)):
            return -np.inf
        fam = self.family
        if fam == "log":
            return _log_loglik(self.y, np.maximum(mu, _TINY), self.w)
        y, w, wy = self.y, self.w, self.wy
        mu = np.maximum(mu, _TINY)
        if fam == "poisson":
            return float(wy @ np.log(mu) - w @ mu) - self.const
        phi = math.exp(lphi)
        if self._phi_terms[0] != phi:  # the gamma terms change only with phi
            g = w @ special.gammaln(y + phi) - self.wsum * math.lgamma(phi)
            self._phi_terms = (phi, float(g) + phi * lphi * self.wsum - self.const)
        lpm = np.log(phi + mu)
        return self._phi_terms[1] + float(wy @ (np.log(mu) - lpm) - phi * (w @ lpm))


def _all_starts(cp, tr, sv, starts, iters, lphi0, free, tol, solutions, rough=None):
    """Every start a few scoring steps, the best two (of distinct log-likelihoods)
    finished; the distinct local maxima go to ``solutions`` (best first). The best, or
    None."""
    found = _batch_scoring(cp, tr, sv, starts, [lphi0] * len(starts), free, ROUGH_STEPS)
    found.sort(key=lambda o: -o[1])
    picked = []
    for o in found:
        if len(picked) == 2:
            break
        if not any(abs(o[1] - q[1]) <= 1e-3 * max(1.0, abs(o[1])) for q in picked):
            picked.append(o)
    done = []
    for th, _, lp, _ in picked:
        out = _scoring(cp, tr, sv, th, iters, lp, free, tol)
        if out is not None and out[3] and not any(_same(out[0], d[0]) for d in done):
            done.append(out)
    done.sort(key=lambda o: -o[1])
    nb = cp.family == "nb"
    solutions.extend((th, ll, math.exp(lp) if nb else None) for th, ll, lp, _ in done)
    if rough is not None:
        rough.extend((th, ll, math.exp(lp) if nb else None) for th, ll, lp, _ in found)
    return done[0] if done else None


def _batch_scoring(cp: _Counts, tr, sv, starts, lphis, free, steps):
    """A few damped scoring steps from many starts at once (the first stage of a
    multi-start fit: it only ranks the starts), the dispersion by Newton steps in log phi
    alongside. The Jacobian is analytic where the curve allows
    (:func:`~casekit.reach._derivatives.curve_jac_rows`), else by forward differences of
    one vectorised evaluation of the curve per parameter. Returns the states reached,
    ``(theta, loglik, log phi, False)``, of the starts whose likelihood is finite."""
    if not len(starts):
        return []
    spec, y, w, n = cp.spec, cp.y, cp.w, cp.n
    nb, fam = cp.family == "nb", cp.family
    T0 = np.array([np.asarray(s_, dtype=float) for s_ in starts])
    B, p = T0.shape
    idx = np.nonzero(free)[0]
    lo, hi = tr.lo, tr.hi
    with np.errstate(invalid="ignore"):
        lo_in = np.where(np.isfinite(lo), lo + 1e-9 * np.maximum(1.0, np.abs(lo)), lo)
        hi_in = np.where(np.isfinite(hi), hi - 1e-9 * np.maximum(1.0, np.abs(hi)), hi)
    U0 = T0 / sv
    U0 = np.where(free, np.clip(U0, lo_in, hi_in), U0)
    X = np.array([tr.to_x(u) for u in U0])
    if not nb:
        L = np.zeros(B)
    else:
        m = float(np.mean(y))
        guess = math.log(max(float(np.var(y) - m), 1e-3 * m**2, 1e-6))
        guess = float(np.clip(math.log(m**2) - guess, *_LOG_PHI))
        L = np.array([guess if lp is None else float(lp) for lp in lphis])

    held = ~free

    def thetas(Xf):
        XX = X.copy()
        XX[:, idx] = Xf
        U = _to_v_rows(tr, XX)
        U[:, held] = U0[:, held]
        return U * sv

    def means(P):
        F = curve_rows(spec, cp.ab, P)
        return F[:, n:] - F[:, :n]

    def loglik(M, L):
        Mc = np.maximum(M, _TINY)
        if fam == "log":
            out = np.array([_log_loglik(y, m_, w) for m_ in Mc])
        elif fam == "poisson":
            out = Mc @ -w + np.log(Mc) @ cp.wy - cp.const
        else:
            phi = np.exp(L)[:, None]
            lpm = np.log(phi + Mc)
            out = (
                np.sum(w * (special.gammaln(y + phi) - special.gammaln(phi)), axis=1)
                - cp.const
                + np.sum(w * (phi * (L[:, None] - lpm) + y * (np.log(Mc) - lpm)), axis=1)
            )
        return np.where(np.all(np.isfinite(M), axis=1), out, -np.inf)

    analytic = curve_jac_rows(spec, cp.ab, T0[:1]) is not None
    i1, i2, i3 = (np.nonzero(tr.kind[idx] == k_)[0] for k_ in (1, 2, 3))

    def jac(Xf, M):
        """d mu / d x_free, (B, n, q): analytic where the curve allows, else differences."""
        if analytic:
            _, G = curve_jac_rows(spec, cp.ab, thetas(Xf))
            D = np.broadcast_to(sv[idx], Xf.shape).copy()  # d theta / d x
            xs = Xf
            if i1.size:
                D[:, i1] *= np.exp(np.minimum(xs[:, i1], 700.0))
            if i2.size:
                D[:, i2] *= -np.exp(np.minimum(xs[:, i2], 700.0))
            if i3.size:
                s_ = special.expit(xs[:, i3])
                D[:, i3] *= tr.width[idx][i3] * s_ * (1.0 - s_)
            Gi = G[:, :, idx]
            return (Gi[:, n:] - Gi[:, :n]) * D[:, None, :]
        J = np.empty((B, n, idx.size))
        for k in range(idx.size):
            Xk = Xf.copy()
            Xk[:, k] += 1e-7 * np.maximum(1.0, np.abs(Xf[:, k]))
            J[:, :, k] = (means(thetas(Xk)) - M) / (Xk[:, [k]] - Xf[:, [k]])
        return J

    with np.errstate(all="ignore"):
        Xf = X[:, idx]
        M = means(thetas(Xf))
        ll = loglik(M, L)
        lam = np.full(B, 1e-3)
        q = idx.size
        for _ in range(steps):
            live = np.isfinite(ll)
            if not live.any():
                break
            J = jac(Xf, M)
            Mc = np.maximum(M, _TINY)
            if fam == "log":
                J = J / Mc[:, :, None]
                r = np.log(y) - np.log(Mc)
                Wt = np.broadcast_to(w, Mc.shape)
            else:
                V = Mc if fam == "poisson" else Mc + Mc**2 / np.exp(L)[:, None]
                Wt = w / V
                r = y - Mc
            A = np.einsum("bni,bn,bnj->bij", J, Wt, J)
            g = np.einsum("bni,bn->bi", J, Wt * r)
            Ln = L.copy()
            if nb:
                gl, hl = _phi_derivs_rows(y, Mc, w, np.exp(L))
                st = np.where(hl < 0, -gl / np.where(hl < 0, hl, -1.0), np.sign(gl))
                Ln = np.where(live, np.clip(L + np.clip(st, -2.0, 2.0), *_LOG_PHI), L)
            D = np.maximum(np.einsum("bii->bi", A), 1e-300)
            todo = live & np.all(np.isfinite(A), axis=(1, 2)) & np.all(np.isfinite(g), axis=1)
            for _ in range(3):  # the rows whose step failed try again, more damped
                rows = np.nonzero(todo)[0]
                if rows.size == 0:
                    break
                Ad = A[rows] + (lam[rows, None] * D[rows])[:, :, None] * np.eye(q)
                try:
                    step = np.linalg.solve(Ad, g[rows][:, :, None])[:, :, 0]
                except np.linalg.LinAlgError:
                    lam[rows] *= 5
                    continue
                Xn = Xf.copy()
                Xn[rows] += step
                sub = thetas(Xn)[rows]
                Mn = means(sub)
                lln = loglik(Mn, Ln[rows])
                good = np.isfinite(lln) & (lln >= ll[rows] - 1e-12 * np.abs(ll[rows]))
                gr = rows[good]
                Xf[gr], M[gr], ll[gr], L[gr] = Xn[gr], Mn[good], lln[good], Ln[gr]
                lam[gr] = np.maximum(lam[gr] / 5, 1e-12)
                lam[rows[~good]] *= 10
                todo[gr] = False
                todo &= lam < 1e14
        P = thetas(Xf)
    return [(P[b_], float(ll[b_]), float(L[b_]), False) for b_ in range(B) if np.isfinite(ll[b_])]


def _phi_derivs_rows(y, M, w, phi):
    """:func:`_phi_derivs` for each row of the means ``M`` (dispersions ``phi``)."""
    ph = phi[:, None]
    ypp, pm = y + ph, ph + M
    g = np.sum(
        w * (special.digamma(ypp) - special.digamma(ph) + np.log(ph / pm) + 1.0 - ypp / pm),
        axis=1,
    )
    h = np.sum(
        w * (special.zeta(2.0, ypp) - special.zeta(2.0, ph) + 1.0 / ph - 2.0 / pm + ypp / pm**2),
        axis=1,
    )
    return g * phi, h * phi * phi + g * phi


def _to_v_rows(tr, X):
    """``tr.to_v`` of each row of X."""
    V = np.array(X, dtype=float)
    if tr._i1.size:
        V[:, tr._i1] = tr._lo1 + np.exp(np.minimum(V[:, tr._i1], 700.0))
    if tr._i2.size:
        V[:, tr._i2] = tr._hi2 - np.exp(np.minimum(V[:, tr._i2], 700.0))
    if tr._i3.size:
        V[:, tr._i3] = tr._lo3 + tr._w3 * special.expit(V[:, tr._i3])
    return V


def _same(a, b, rtol=1e-4):
    return bool(np.all(np.abs(a - b) <= rtol * np.maximum(np.abs(a), np.abs(b)) + 1e-12))


def _score_terms(cp: _Counts, mu, J, lphi):
    """Information matrix and score of the fitted parameters (J: d mu / d x).

    The curve's block is the expected (Fisher) information; for ``nb`` the log dispersion
    joins with its observed second derivative (orthogonal to the curve, as expected).
    """
    y, w = cp.y, cp.w
    mu_c = np.maximum(mu, _TINY)
    if cp.family == "log":
        Jl = J / mu_c[:, None]
        r = np.log(y) - np.log(mu_c)
        Jw = Jl * w[:, None]
        return Jw.T @ Jl, Jw.T @ r
    if cp.family == "poisson":
        Jw = J * (w / mu_c)[:, None]
        return Jw.T @ J, Jw.T @ (y - mu_c)
    phi = math.exp(lphi)
    V = mu_c + mu_c**2 / phi
    Jw = J * (w / V)[:, None]
    p = J.shape[1]
    A = np.empty((p + 1, p + 1))
    g = np.empty(p + 1)
    A[:p, :p] = Jw.T @ J
    g[:p] = Jw.T @ (y - mu_c)
    gl, hl = _phi_derivs(y, mu_c, w, phi)
    A[:p, p] = A[p, :p] = 0.0  # expected: phi is orthogonal to the curve in NB2
    A[p, p] = -hl if hl < 0 else max(abs(gl), 1.0)
    g[p] = gl
    lo, hi = _LOG_PHI
    if (lphi >= hi and gl > 0) or (lphi <= lo and gl < 0):  # on its bound: held there
        A[:p, p] = A[p, :p] = 0.0
        A[p, p], g[p] = 1.0, 0.0
    return A, g


def _decrement_step(A, g, chol=False):
    """The Newton decrement ``g' A^-1 g`` and the Newton step ``A^-1 g`` (None where A
    is singular). With ``chol``: (None, None) unless A is positive definite."""
    if chol:
        try:
            np.linalg.cholesky(A)
        except np.linalg.LinAlgError:
            return None, None
    try:
        step = np.linalg.solve(A, g)
        dec = float(g @ step)
        if np.isfinite(dec) and dec >= 0:
            return dec, step
    except np.linalg.LinAlgError:
        pass
    if chol:
        return None, None
    D = np.sqrt(np.maximum(np.diag(A), 1e-300))
    gs = g / D
    try:
        return float(gs @ np.linalg.lstsq(A / np.outer(D, D), gs, rcond=1e-13)[0]), None
    except (np.linalg.LinAlgError, ValueError):
        return np.inf, None


def _observed(score, xf, g, p):
    """The curve's block of the observed information (minus the Hessian) in the fitted
    coordinates, by forward differences of the analytic score."""
    cols = np.empty((p, p))
    for k in range(p):
        h = 1e-6 * max(1.0, abs(float(xf[k])))
        xk = xf.copy()
        xk[k] += h
        cols[:, k] = (score(xk) - g[:p]) / h
    return -0.5 * (cols + cols.T)


def _scoring(cp: _Counts, tr, sv, theta0, iters, lphi0=None, free=None, tol=1e-8, newton=True):
    """Damped Fisher scoring from one start: (theta, loglik, log phi, converged), or None
    where the likelihood cannot be evaluated.

    Works on the transformed parameters of the ``free`` mask (the others stay at
    ``theta0``) and, for ``nb``, on log phi. Converged when the Newton decrement
    ``g' A^-1 g`` (about twice the log-likelihood still to gain) is below ``tol`` and the
    last step gained no more than ``tol``; tiny damped steps alone never count as
    convergence.
    """
    lo, hi = tr.lo, tr.hi
    y = cp.y
    family = cp.family
    nb = family == "nb"
    with np.errstate(invalid="ignore"):
        lo_in = np.where(np.isfinite(lo), lo + 1e-9 * np.maximum(1.0, np.abs(lo)), lo)
        hi_in = np.where(np.isfinite(hi), hi - 1e-9 * np.maximum(1.0, np.abs(hi)), hi)
    u0 = np.asarray(theta0, dtype=float) / sv
    u0 = np.where(free, np.clip(u0, lo_in, hi_in), u0)
    x = tr.to_x(u0)
    x_fixed = x.copy()
    idx = np.nonzero(free)[0]
    held = ~free
    if not nb:
        lphi = 0.0
    elif lphi0 is not None:
        lphi = float(np.clip(lphi0, *_LOG_PHI))
    else:
        lphi = math.log(max(float(np.var(y) - np.mean(y)), 1e-3 * np.mean(y) ** 2, 1e-6))
        lphi = float(np.clip(math.log(np.mean(y) ** 2) - lphi, *_LOG_PHI))
    p = idx.size

    def theta_of(xf):
        xx = x_fixed.copy()
        xx[idx] = xf
        u = tr.to_v(xx)
        u[held] = u0[held]  # held parameters exactly as given
        return u * sv

    kind, svf = tr.kind[idx], sv[idx]
    i1, i2, i3 = (np.nonzero(kind == k_)[0] for k_ in (1, 2, 3))
    w3 = tr.width[idx][i3] * svf[i3]
    sv1, sv2 = svf[i1], -svf[i2]

    def dv_dx(xf):  # Transform.dv_dx for the fitted parameters, times their scales
        out = svf.copy()
        if i1.size:
            out[i1] = np.exp(np.minimum(xf[i1], 700.0)) * sv1
        if i2.size:
            out[i2] = np.exp(np.minimum(xf[i2], 700.0)) * sv2
        if i3.size:
            s_ = special.expit(xf[i3])
            out[i3] = w3 * s_ * (1.0 - s_)
        return out

    def at(xf, lphi):
        mu, Jt = cp.mu_jac(theta_of(xf))
        return cp.loglik(mu, lphi), mu, Jt[:, idx] * dv_dx(xf)

    def score(xk):  # the curve's part of the score at xk (for differences)
        mu_k, Jt = cp.mu_jac(theta_of(xk))
        J_k = Jt[:, idx] * dv_dx(xk)
        mu_k = np.maximum(mu_k, _TINY)
        if nb:
            V = mu_k + mu_k**2 / math.exp(lphi)
        else:
            V = mu_k
        return J_k.T @ (cp.w * (y - mu_k) / V)

    newton = newton and family != "log"
    xf = x[idx]
    with np.errstate(all="ignore"):
        ll, mu, J = at(xf, lphi)
        if not np.isfinite(ll):
            return None
        lam = 1e-3
        converged = False
        dl = np.inf
        Hx, dec_prev, gains = None, np.inf, []
        for _ in range(iters):
            A, g = _score_terms(cp, mu, J, lphi)
            if not (np.all(np.isfinite(A)) and np.all(np.isfinite(g))):
                return None
            dec, step0 = _decrement_step(A, g)
            if newton and dec < 10.0:
                # near the optimum: Newton on the observed information (scoring alone
                # converges only linearly, slowly along a ridge of the likelihood); its
                # curve block is kept while the decrement keeps falling fast
                cross = None
                if nb:  # d2 ll / dx dlog phi
                    phi = math.exp(lphi)
                    mu_c = np.maximum(mu, _TINY)
                    cross = J.T @ (cp.w * phi * (y - mu_c) / (phi + mu_c) ** 2)
                dec_h = None
                for fresh in (False, True):
                    if fresh or Hx is None:
                        Hx = _observed(score, xf, g, p)
                    H = A.copy()
                    H[:p, :p] = Hx
                    if cross is not None:
                        H[:p, p] = H[p, :p] = -cross
                    dec_h, step_h = _decrement_step(H, g, chol=True)
                    # an old curve block serves while the decrement falls fast
                    if dec_h is not None and (fresh or dec_h < 0.05 * dec_prev):
                        break
                    dec_h = None
                    if fresh:
                        break
                if dec_h is not None:
                    A, dec, step0 = H, dec_h, step_h
                else:
                    Hx = None
            dec_prev = dec
            D = np.maximum(np.diag(A), 1e-300)
            if dec < tol and dl <= max(tol, 1e-4):
                converged = True
                break
            gains = gains[-4:] + [dl]
            if len(gains) == 5 and sum(gains) < 10 * tol and dec < 1e-2:
                # a ridge: the likelihood still rises, by nothing (a saturation that runs
                # off to infinity along with its midpoint); the maximum is reached
                converged = True
                break
            improved = False
            for _ in range(40):
                if lam <= 1e-6 and step0 is not None:  # damping negligible: the undamped step
                    step = step0
                else:
                    try:
                        step = np.linalg.solve(A + lam * np.diag(D), g)
                    except np.linalg.LinAlgError:
                        lam *= 10
                        continue
                xn = xf + step[:p]
                lpn = 0.0
                if nb:
                    lpn = min(
                        max(lphi + min(max(float(step[p]), -2.0), 2.0), _LOG_PHI[0]), _LOG_PHI[1]
                    )
                lln, mun, Jn = at(xn, lpn)
                lp_try = lpn
                if not lln >= ll - 1e-12 * abs(ll) and lpn != lphi and np.isfinite(lln):
                    # far from the optimum the dispersion step can spoil a good step
                    lln = cp.loglik(mun, lphi)
                    lp_try = lphi
                if np.isfinite(lln) and lln >= ll - 1e-12 * abs(ll):
                    dl = lln - ll
                    xf, lphi, ll, mu, J = xn, lp_try, lln, mun, Jn
                    lam = max(lam / 5, 1e-12)
                    improved = True
                    break
                lam *= 5
                if lam > 1e14:
                    break
            if not improved:
                converged = dec < max(tol, 1e-6)
                break
    return theta_of(xf), ll, lphi, converged
