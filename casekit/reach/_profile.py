"""The profile-likelihood interval of one parameter (a response effect ``e_k``).

The profile ``logL_p(v) = max logL(theta | theta_j = v)`` is found by refits with
``theta_j`` held. Its signed root ``z(v) = sqrt(2 (logL_max - logL_p(v)))`` is nearly
linear in ``v``; each end of the interval is the ``v`` where ``z`` reaches
``sqrt(s F_{1-alpha}(1, df))``, with ``s`` the fit's Pearson dispersion on ``df`` degrees
of freedom (see :func:`profile_interval`). It is found by Newton's method on ``z`` with the
exact slope of the profile (the envelope theorem: ``d logL_p / dv`` is the score of
``theta_j`` at the refit) inside a bracket that it keeps; a last Newton step from within
:data:`Z_TOL` of the target gives the end.

**Branches.** The nuisance parameters of an intervention curve can have several local
maxima at one ``v`` (a saturating curve with slow attention decay against a larger
saturation that a faster decay stops). A refit warm-started from one neighbour follows one
branch; where another branch is higher the profile is understated and the interval too
narrow. So each new point is refitted from its neighbours on both sides (moved along their
tangents ``d theta / dv``; a start already on the branch of a solution found, or far below
it, is not run), and its solution is then tried on its neighbours in turn while that raises
them (a neighbour that followed the lower branch moves to the higher one). At each end the
fit's other local maxima and the curve's own starting points are run at once, a few
scoring steps each, and the best finished: a higher branch found there is kept and the
search goes on outward. A local maximum of the likelihood beyond an end that is itself
inside the set (the profile has a second mode) extends the interval to it and past it:
the set is then not one interval, and its hull is given. A refit above the maximum stops
the search and is handed back, for the caller to refit from there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from casekit.reach._solver import _Transform

__all__ = ["profile_interval", "ProfileResult"]

Z_TOL = 0.02
"""How near the target the signed root z must be at the last profile point of a side (one
more Newton step then gives the end of the interval)."""

FIRST_STEP = 1.0
"""The first trial of a side, as a share of the Wald distance (target x standard error)."""

GAIN = 1e-6
"""A refit this much above the maximum log-likelihood means the maximum was local."""


@dataclass
class ProfileResult:
    """Ends of the interval, whether each is open (the bound reached), a better maximum
    (theta, loglik, phi) when a refit found one (then the ends are not valid), and the
    number of separate ranges the confidence set has (the interval is their hull)."""

    lower: float
    upper: float
    open_lower: bool
    open_upper: bool
    better: tuple | None = None
    n_refits: int = 0
    modes: int = 1


@dataclass
class _Point:
    """The best refit known at one value v of the held parameter."""

    theta: np.ndarray
    ll: float
    phi: float | None
    slope: float
    tangent: np.ndarray | None


class _Better(Exception):
    def __init__(self, state):
        self.state = state


class _Profile:
    """The profile at the values tried so far, each refit from its neighbours on both
    sides, and repaired when a new point gives a neighbour a better start."""

    def __init__(self, R, theta, phi, ll_hat, j, seeds):
        self.R, self.j = R, j
        self.sv = R.scale
        self.tr = _Transform(R.lo / self.sv, R.hi / self.sv)
        self.e_hat = float(theta[j])
        self.best = float(ll_hat)
        self.n = 0
        self.pts: dict[float, _Point] = {}
        self._store(self.e_hat, (np.asarray(theta, dtype=float), float(ll_hat), phi))
        self.seeds = []
        self.modes = 1
        theta = np.asarray(theta, dtype=float)
        scored = []
        for th, ph in seeds:
            th = np.asarray(th, dtype=float)
            ll = float(R.loglik(th, ph))
            if ll > self.best + GAIN:
                raise _Better((th, ll, ph))
            scored.append((th, ph, ll))
        for th, ph, ll in sorted(scored, key=lambda s_: -s_[2]):
            # one seed per place: starts that went the same way add nothing
            if self._near(th, theta, 0.05) or any(self._near(th, s_[0], 0.05) for s_ in self.seeds):
                continue
            self.seeds.append((th, ph, ll))

    def _store(self, v, state):
        th, ll, ph = state
        if ll > self.best + GAIN:
            raise _Better(state)
        got = self.R.local(th, ph)
        slope, tangent = np.nan, None
        if got is not None:
            g, info = got
            slope = float(g[self.j])
            keep = np.arange(len(th)) != self.j
            try:
                d = -np.linalg.solve(info[np.ix_(keep, keep)], info[keep, self.j])
                tangent = np.zeros(len(th))
                tangent[keep], tangent[self.j] = d, 1.0
                tangent = tangent if np.all(np.isfinite(tangent)) else None
            except np.linalg.LinAlgError:
                pass
        self.pts[v] = _Point(np.asarray(th, dtype=float), float(ll), ph, slope, tangent)

    def _predict(self, pt: _Point, u, v):
        """The solution at u moved to v along its tangent d theta / dv, in the fitter's
        coordinates (so the bounds hold)."""
        th = pt.theta.copy()
        if pt.tangent is not None and u != v:
            x0 = self.tr.to_x(th / self.sv)
            dvdx = self.tr.dv_dx(x0)
            with np.errstate(all="ignore"):
                dx = np.where(dvdx != 0, pt.tangent / self.sv / dvdx, 0.0)
                moved = self.tr.to_v(x0 + (v - u) * np.clip(dx, -50.0, 50.0)) * self.sv
            if np.all(np.isfinite(moved)):
                th = moved
        th[self.j] = v
        return th

    def _start(self, pt: _Point, u, v):
        """A start at v from the solution at u: moved along its tangent, or not moved
        (only theta_j set to v) where that is likelier (the path bends)."""
        moved = self._predict(pt, u, v)
        still = pt.theta.copy()
        still[self.j] = v
        with np.errstate(all="ignore"):
            a, b = self.R.loglik(moved, pt.phi), self.R.loglik(still, pt.phi)
        return still if b > a or not np.isfinite(a) else moved

    def _promising(self, start, phi, ll, margin=1.0):
        """Whether a start could beat ``ll``: its own log-likelihood is within ``margin``
        of it (a start from the solution of a nearby point lies close to its branch)."""
        with np.errstate(all="ignore"):
            got = self.R.loglik(start, phi)
        return bool(np.isfinite(got) and got > ll - margin)

    def _near(self, a, b, tol=0.02):
        """Whether two parameter vectors are on the same branch: within ``tol`` in the
        fitter's coordinates (log scale for a positive parameter)."""
        xa, xb = self.tr.to_x(a / self.sv), self.tr.to_x(b / self.sv)
        return bool(np.all(np.abs(xa - xb) <= tol))

    def _refit(self, v, starts):
        """The best refit at v from the starts; a start already near a solution found is
        on the same branch and is not run."""
        best, found = None, []
        for th, ph in starts:
            if any(self._near(th, f_, 0.05) for f_ in found):
                continue
            if best is not None and not self._promising(th, ph, best[1]):
                continue
            got = self.R.refit(v, th, ph)
            self.n += 1
            if got is not None:
                found.append(got[0])
                if best is None or got[1] > best[1]:
                    best = got
        return best

    def _neighbours(self, v):
        vs = sorted(self.pts)
        below = [u for u in vs if u < v]
        above = [u for u in vs if u > v]
        return (below[-1] if below else None), (above[0] if above else None)

    def at(self, v):
        """The profile log-likelihood at v and its slope; (nan, nan) when no refit works."""
        if v in self.pts:
            pt = self.pts[v]
            return pt.ll, pt.slope
        starts = []
        near_first = sorted(
            (u for u in self._neighbours(v) if u is not None), key=lambda u: abs(u - v)
        )
        for u in near_first:
            pt = self.pts[u]
            starts.append((self._start(pt, u, v), pt.phi))
        got = self._refit(v, starts)
        if got is None:  # the neighbours lead nowhere: the other maxima and own starts
            got = self.R.search(v, [sd[:2] for sd in self.seeds], -np.inf)
            self.n += 1
        if got is None:
            return np.nan, np.nan
        self._store(v, got)
        self._repair(v)
        pt = self.pts[v]
        return pt.ll, pt.slope

    def _repair(self, v):
        """Refit the neighbours of v from its solution, on and on while that helps (a
        neighbour that followed a lower branch is moved to the higher one)."""
        for side in (0, 1):
            u0 = v
            while True:
                u = self._neighbours(u0)[side]
                if u is None or u == self.e_hat:
                    break
                src = self.pts[u0]
                start = self._start(src, u0, u)
                if self._near(start, self.pts[u].theta, 0.05):  # u is on that branch already
                    break
                if not self._promising(start, src.phi, self.pts[u].ll):
                    break
                got = self._refit(u, [(start, src.phi)])
                if got is None or not got[1] > self.pts[u].ll + 1e-7:
                    break
                self._store(u, got)
                u0 = u

    def check(self, v):
        """Refit at v from the other local maxima of the fit and from the curve's own
        starts (a few steps each, the best finished); a higher branch replaces the point
        (and is spread to its neighbours). True if it did."""
        cur = self.pts[v].ll
        got = self.R.search(v, [sd[:2] for sd in self.seeds], cur, self.pts[v].theta)
        self.n += 1
        if got is None or not got[1] > cur + 1e-7:
            return False
        self._store(v, got)
        self._repair(v)
        return True

    def z(self, ll):
        return math.sqrt(max(2.0 * (self.best - ll), 0.0))

    def _bracket(self, sign, target, anchor=None):
        """The last point of this side, going out from the anchor (default the estimate),
        before the profile first reaches the target (inner), and the first that does
        (outer, or None)."""
        inner = self.e_hat if anchor is None else anchor
        us = sorted((u for u in self.pts if sign * (u - inner) > 0), key=lambda u: sign * u)
        for u in us:
            if self.z(self.pts[u].ll) >= target:
                return inner, u
            inner = u
        return inner, None

    def side(self, sign, target, bound, se):
        """The end of the confidence set on one side: (v, open). Where a local maximum of
        the likelihood beyond the first end is inside the set (the profile has another
        mode there), the search goes on outward from it: the set is then not one
        interval, and its hull is returned."""
        end, is_open = self._side_from(self.e_hat, sign, target, bound, se)
        while not is_open:
            far = [
                (th, ph, ll)
                for th, ph, ll in self.seeds
                if sign * (th[self.j] - end) > 0 and self.z(ll) < target
            ]
            if not far:
                break
            th, ph, ll = min(far, key=lambda f: sign * f[0][self.j])
            v = float(th[self.j])
            if v not in self.pts:
                got = self.R.refit(v, th, ph)
                self.n += 1
                self._store(v, got if got is not None and got[1] >= ll else (th, ll, ph))
            self.modes += 1
            end, is_open = self._side_from(v, sign, target, bound, se)
        return end, is_open

    def _side_from(self, anchor, sign, target, bound, se):
        """The first end of the set beyond ``anchor`` (a point inside it): (v, open)."""
        step = FIRST_STEP * target * (se if np.isfinite(se) and se > 0 else 0.1)
        z0 = self.z(self.pts[anchor].ll)
        step = step * max(1.0 - z0 / target, 0.1)
        v = float(np.clip(anchor + sign * step, *sorted((anchor, bound))))
        checked = set()
        for _ in range(60):
            ll, _ = self.at(v)
            if not np.isfinite(ll):  # no refit: back towards the inside
                inner, _ = self._bracket(sign, target, anchor)
                v = 0.5 * (v + inner)
                if abs(v - inner) < 1e-6:
                    return float(inner), False
                continue
            inner, outer = self._bracket(sign, target, anchor)
            zi = self.z(self.pts[inner].ll)
            zo = None if outer is None else self.z(self.pts[outer].ll)
            end = None
            if zo is not None and (zo - target < Z_TOL or abs(outer - inner) < 1e-6):
                end = outer
            elif target - zi < Z_TOL:
                end = inner
            elif outer is None and inner == bound:
                end = inner
            if end is not None:
                if end not in checked:
                    checked.add(end)
                    if self.check(end):
                        v = end
                        continue
                if outer is None and end == bound:
                    return float(bound), True
                return self._finish(sign, end, inner, outer, target), False
            if outer is None:
                v = self._outward(sign, inner, zi, target, self.pts[inner].slope, bound)
            else:
                v = self._newton(sign, inner, zi, outer, zo, target)
        inner, outer = self._bracket(sign, target, anchor)
        return float(outer if outer is not None else inner), False

    def _finish(self, sign, end, inner, outer, target):
        """The root from the end point: one more Newton step on z (z is nearly linear, so
        from within Z_TOL of the target it is accurate to far less than Z_TOL), kept
        inside the bracket."""
        pt = self.pts[end]
        z = self.z(pt.ll)
        dz = -sign * pt.slope / z if z > 1e-9 and np.isfinite(pt.slope) else np.nan
        if not (np.isfinite(dz) and dz > 0):
            return float(end)
        root = end + sign * (target - z) / dz
        lo, hi = sorted((inner, outer if outer is not None else root))
        return float(min(max(root, lo), hi))

    def _outward(self, sign, v, z, target, slope, bound):
        """Next trial beyond v (no bracket yet): Newton on z with a 10 % overshoot, at
        most four times as far from the estimate."""
        dz = -sign * slope / z if z > 1e-9 and np.isfinite(slope) else np.nan
        far = abs(v - self.e_hat)
        if np.isfinite(dz) and dz > 0:
            d = 1.1 * (target - z) / dz + 1e-4
            d = min(max(d, 0.05 * far + 1e-4), 4.0 * max(far, 1e-3))
        else:
            d = max(far, 1e-3)
        out = v + sign * d
        return float(min(out, bound) if sign > 0 else max(out, bound))

    def _newton(self, sign, inner, zi, outer, zo, target):
        """A Newton step on z from the end of the bracket nearer the target, if it stays
        well inside the bracket; else the secant of the bracket's ends."""
        lo, hi = sorted((inner, outer))
        u, zu = (inner, zi) if target - zi < zo - target else (outer, zo)
        slope = self.pts[u].slope
        dz = -sign * slope / zu if zu > 1e-9 and np.isfinite(slope) else np.nan
        if np.isfinite(dz) and dz > 0:
            cand = u + sign * (target - zu) / dz
            if lo + 0.02 * (hi - lo) < cand < hi - 0.02 * (hi - lo):
                return float(cand)
        return self._between((inner, zi), (outer, zo), target)

    @staticmethod
    def _between(inner, outer, target):
        (v1, z1), (v2, z2) = inner, outer
        if z2 > z1:
            f = (target - z1) / (z2 - z1)
            f = min(max(f, 0.1), 0.9)
        else:
            f = 0.5
        return float(v1 + f * (v2 - v1))


def profile_interval(
    R, theta, phi, ll_hat, j, se, alpha, seeds=(), scale=1.0, df=None
) -> ProfileResult:
    """The profile-likelihood interval of ``theta[j]`` at level ``1 - alpha``.

    The set where ``2 (logL_max - logL_p(v)) / scale`` stays below the ``1 - alpha``
    quantile of ``F(1, df)`` (chi-square(1) when ``df`` is None). ``scale`` is the Pearson
    dispersion ``X^2 / df`` of the fit: the likelihood-ratio statistic of a model whose
    dispersion is estimated is referred to F, as in quasi-likelihood, and for a Gaussian
    model with the variance profiled (``scale = n / df``) this is, to first order, the
    profile-t interval of R's ``nls``. On small samples it keeps the interval from being
    too narrow: the maximum-likelihood dispersion understates the noise (a
    negative-binomial fit of 40 counts with 5 curve parameters: the chi-square interval
    covered 89 - 93 %).

    ``R`` refits the model with ``theta[j]`` held: ``R.refit(v, start, phi)`` gives
    ``(theta, loglik, phi)`` or None; ``R.search(v, seeds, floor, current)`` the best
    refit from the seeds and the curve's own starts (or None); ``R.local(theta, phi)``
    the score and information ``(g, I)`` in ``theta``; ``R.loglik(theta, phi)`` the
    log-likelihood; ``R.lo``, ``R.hi``, ``R.scale`` the bounds and scales of the
    parameters. ``seeds``: other local maxima ``(theta, phi)`` of the full fit (branches
    to follow).

    Examples
    --------
    A quadratic log-likelihood ``-(v - 1)^2 / 2`` (standard error 1): the interval is
    ``1 -/+ 1.96``.

    >>> import numpy as np
    >>> from casekit.reach._profile import profile_interval
    >>> class Quadratic:
    ...     lo, hi, scale = np.array([-10.0]), np.array([10.0]), np.ones(1)
    ...     def refit(self, v, start, phi):
    ...         return np.array([v]), -0.5 * (v - 1.0) ** 2, None
    ...     def search(self, v, seeds, floor, current=None):
    ...         return None
    ...     def local(self, theta, phi):
    ...         return np.array([-(theta[0] - 1.0)]), np.eye(1)
    ...     def loglik(self, theta, phi):
    ...         return -0.5 * (theta[0] - 1.0) ** 2
    >>> r = profile_interval(Quadratic(), np.array([1.0]), None, 0.0, 0, 1.0, 0.05)
    >>> round(r.lower, 3), round(r.upper, 3)
    (-0.96, 2.96)
    """
    if df is not None and df > 0 and np.isfinite(scale) and scale > 0:
        target = math.sqrt(scale * float(special.fdtri(1, df, 1 - alpha)))
    else:
        target = math.sqrt(float(special.chdtri(1, alpha)))
    lo_b, hi_b = float(R.lo[j]), float(R.hi[j])
    try:
        P = _Profile(R, np.asarray(theta, dtype=float), phi, ll_hat, j, seeds)
        lower, open_lo = P.side(-1, target, lo_b, se)
        upper, open_hi = P.side(1, target, hi_b, se)
    except _Better as b:
        return ProfileResult(np.nan, np.nan, False, False, better=b.state)
    return ProfileResult(lower, upper, open_lo, open_hi, None, P.n, P.modes)
