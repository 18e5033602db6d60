"""Refits of a fit with one parameter held, for :func:`~casekit.reach._profile.profile_interval`.

Two kinds: per-period counts (negative binomial, Poisson, log; the scoring of
:mod:`casekit.reach._count_solver`, warm-started, with the held parameter out of the
fitted set) and cumulative least squares (the curve with the held effect fixed,
:func:`~casekit.reach._solver._solve`). Each gives a refit from a start, a search for a
higher branch from many starts at once, the score and information at a point (the slope
of the profile and its tangent), the log-likelihood, and the Pearson dispersion that
calibrates the interval.
"""

from __future__ import annotations

import math

import numpy as np

from casekit.reach._count_solver import _batch_scoring, _Counts, _same, _scoring
from casekit.reach._derivatives import curve_jac
from casekit.reach._solver import _make_problem, _model_jac, _solve, _starts, _Transform
from casekit.reach.curves import CurveSpec
from casekit.reach.intervention import spec_from_definition

__all__ = ["refits"]

REFIT_TOL = 1e-6
"""Newton decrement at which a profile refit has converged: its log-likelihood is then
within about 5e-7 of the maximum, far below what moves an end of the interval."""

SEARCH_STEPS = 5
"""Scoring steps each start gets in the search for a higher branch at an end of a profile
interval (the best two are then finished)."""


def _fixed_spec(spec: CurveSpec, k: int, value: float) -> CurveSpec:
    d = dict(spec.definition)
    e = list(d["e"])
    e[k] = float(value)
    d["e"] = e
    return spec_from_definition(d)


class _CountRefits:
    """Refits of a per-period fit with parameter ``j`` held (for :mod:`._profile`)."""

    def __init__(self, model, spec: CurveSpec, family: str, j: int, starts):
        self.cp = _Counts(spec, model.a, model.b, model.y, model.w, family)
        yscale = float(np.sum(model.y)) or 1.0
        self.scale = np.array([yscale if n in spec.scale_params else 1.0 for n in spec.param_names])
        self.lo, self.hi = self.cp.lo, self.cp.hi
        self.tr = _Transform(self.lo / self.scale, self.hi / self.scale)
        self.free = np.arange(spec.k) != j
        self.j, self.nb, self.starts = j, family == "nb", starts

    def _lphi(self, phi):
        return math.log(phi) if self.nb and phi is not None else None

    def loglik(self, theta, phi):
        return self.cp.loglik(self.cp.mu(theta), self._lphi(phi) or 0.0)

    def dispersion(self, theta, phi):
        """Pearson's X^2 / (n - p) at theta (p: the curve's parameters, and phi for nb)."""
        cp = self.cp
        n, p = len(cp.y), cp.spec.k + (1 if self.nb else 0)
        mu = np.maximum(cp.mu(np.asarray(theta, dtype=float)), 1e-300)
        if cp.family == "log":  # Gaussian on log y, variance profiled: X^2 = n
            return n / (n - cp.spec.k) if n > cp.spec.k else np.nan
        V = mu + mu**2 / phi if self.nb else mu
        return float(np.sum(cp.w * (cp.y - mu) ** 2 / V)) / (n - p) if n > p else np.nan

    def df(self):
        return len(self.cp.y) - self.cp.spec.k - (1 if self.nb else 0)

    def refit(self, v, start, phi):
        s = np.array(start, dtype=float)
        s[self.j] = v
        out = _scoring(self.cp, self.tr, self.scale, s, 200, self._lphi(phi), self.free, REFIT_TOL)
        if out is None or not out[3] or not np.isfinite(out[1]):
            return None
        return out[0], float(out[1]), math.exp(out[2]) if self.nb else None

    def search(self, v, seeds, floor, current=None):
        """The best refit at v from the seeds ``(theta, phi)`` and the curve's own starts:
        each a few scoring steps (all at once), the best two finished if they may beat
        ``floor`` and are not on the branch of ``current`` (the solution known at v);
        or None."""
        cands = [np.array(th, dtype=float) for th, _ in seeds]
        cands += [np.array(s_, dtype=float) for s_ in self.starts]
        for th in cands:
            th[self.j] = v
        lphis = [self._lphi(ph) for _, ph in seeds] + [None] * len(self.starts)
        rough = _batch_scoring(self.cp, self.tr, self.scale, cands, lphis, self.free, SEARCH_STEPS)
        rough.sort(key=lambda o: -o[1])
        best, tried = None, []
        for th, ll, lp, _ in rough:
            # finish the best candidate if it may win, and a second one that already wins
            if len(tried) == 2 or ll < floor - (1.0 if not tried else -1e-6):
                break
            if any(_same(th, t_, 1e-3) for t_ in tried):
                continue
            if ll <= floor and current is not None and self._near(th, current):
                continue  # heading for the solution already known there
            tried.append(th)
            out = _scoring(self.cp, self.tr, self.scale, th, 200, lp, self.free, REFIT_TOL)
            if out is not None and out[3] and (best is None or out[1] > best[1]):
                best = out
        if best is None:
            return None
        return best[0], float(best[1]), math.exp(best[2]) if self.nb else None

    def _near(self, a, b, tol=0.1):
        xa, xb = self.tr.to_x(a / self.scale), self.tr.to_x(b / self.scale)
        return bool(np.all(np.abs(xa - xb) <= tol))

    def local(self, theta, phi):
        cp = self.cp
        with np.errstate(all="ignore"):
            mu, J = cp.mu_jac(np.asarray(theta, dtype=float))
            mu = np.maximum(mu, 1e-300)
            if cp.family == "log":
                r = np.log(cp.y) - np.log(mu)
                Jl = J / mu[:, None]
                rss = float(np.sum(cp.w * r**2))
                c = len(cp.y) / rss
                g, info = c * (Jl.T @ (cp.w * r)), c * ((Jl * cp.w[:, None]).T @ Jl)
            else:
                V = mu + mu**2 / phi if self.nb else mu
                Jw = J * (cp.w / V)[:, None]
                g, info = Jw.T @ (cp.y - mu), Jw.T @ J
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(info))):
            return None
        return g, info


class _SquaresRefits:
    """Refits of a cumulative least-squares fit with parameter ``j`` (the effect of
    response ``k``) held; log-likelihood ``-n/2 log RSS`` (sigma profiled)."""

    def __init__(self, model, spec: CurveSpec, j: int, k: int, starts):
        self.model, self.spec, self.j, self.k = model, spec, j, k
        prob = _make_problem(spec, model.t, model.y, model.w, model.loss)
        self.scale, self.lo, self.hi, self.prob = prob.scale_vec, prob.lo, prob.hi, prob
        self.starts = starts
        self._specs: dict = {}

    def _problem(self, v):
        if v not in self._specs:
            m = self.model
            fs = _fixed_spec(self.spec, self.k, v)
            self._specs[v] = _make_problem(fs, m.t, m.y, m.w, m.loss)
        return self._specs[v]

    def _ll(self, prob, th):
        rss = float(np.sum(prob.resid(th) ** 2))
        return -0.5 * len(self.model.y) * math.log(max(rss, 1e-300))

    def loglik(self, theta, phi):
        return self._ll(self.prob, np.asarray(theta, dtype=float))

    def dispersion(self, theta, phi):
        """Pearson's X^2 / (n - p) with the maximum-likelihood variance RSS / n: n / (n - p),
        so the calibrated interval is, to first order in the change of RSS, the profile-t
        interval of R's ``nls``."""
        n = len(self.model.y)
        return n / self.df() if self.df() > 0 else np.nan

    def df(self):
        return len(self.model.y) - self.spec.k

    def _solve(self, v, starts):
        prob = self._problem(v)
        th, _, _, _ = _solve(prob, [np.delete(np.asarray(s, dtype=float), self.j) for s in starts])
        if th is None:
            return None
        return np.insert(th, self.j, v), self._ll(prob, th), None

    def refit(self, v, start, phi):
        return self._solve(v, [start])

    def search(self, v, seeds, floor, current=None):
        return self._solve(v, [th for th, _ in seeds] + list(self.starts))

    def local(self, theta, phi):
        prob, theta = self.prob, np.asarray(theta, dtype=float)
        with np.errstate(all="ignore"):
            got = curve_jac(self.spec, prob.t, theta)
            G = got[1] if got is not None else _model_jac(self.spec, prob.t, theta)
            if prob.log:
                G = G / np.maximum(self.spec.f(prob.t, *theta), 1e-300)[:, None]
            J = prob.sw[:, None] * G
            r = prob.resid(theta)
            c = len(prob.y) / float(np.sum(r**2))
            g, info = c * (J.T @ r), c * (J.T @ J)
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(info))):
            return None
        return g, info


def refits(model, spec: CurveSpec, j: int, k: int, covered: int = 0):
    """The refitter of a profile over parameter j (the effect of response k); its search
    for other branches uses the curve's own starts but the first ``covered`` (those the
    fit already ran: where they got to is among the seeds)."""
    cum = np.cumsum(model.y) if model.counts else model.y
    tt = model.b if model.counts else model.t
    starts = _starts(spec, tt, np.maximum(cum, 1e-9), None, len(spec.p0(tt, cum)), 0)
    starts = starts[covered:] if covered < len(starts) else starts[-1:]
    if model.counts:
        return _CountRefits(model, spec, model.loss, j, starts)
    return _SquaresRefits(model, spec, j, k, starts)
