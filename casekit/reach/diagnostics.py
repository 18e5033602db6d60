"""Checks of a fitted curve that end up in its notes: parameters at or near a bound of the
fitter, and single low-confidence readings that drive a least-squares fit.

**Bounds.** A parameter is *at* a bound when it sits on it (relative distance 1e-6), and
*near* one when, for a parameter with two finite bounds, it lies within
:data:`NEAR_SHARE` (2 %) of the span from a bound, the span taken on the log scale when
the lower bound is positive and the upper one 100 times larger (Richards' nu lives on
[0.001, 100]: above 79 or below 0.0013 is near). Such an estimate is set by the fitter's
limit as much as by the data: its standard error and interval mean little, and the
curve's shape follows the limit.

**Influence.** Least squares let one reading pull the whole curve. For each reading of
low or unverified confidence, the one-step change of the estimates when it is left out
(``(J'J)^-1 J_i r_i / (1 - h_i)``, the nonlinear DFBETA) screens for readings that move
the final reach or the time to 90 % by more than half a standard error; those are refitted
without the reading, and one whose removal moves either by more than a standard error is
named in the notes (value, date, source, confidence, qualifier) with both figures with
and without it. The fit itself is left as it is: the reference fits (NIST, R's nls)
must not change, and a robust loss is one argument away (``loss="robust"``), as is
``weights="confidence"``. The note makes the choice visible instead of silent.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.reach._solver import _grad, _make_problem, _model_jac, _solve
from casekit.reach.curves import _TINY

__all__ = ["NEAR_SHARE", "MAX_REFITS", "bound_flags", "bound_note", "influence_notes"]

NEAR_SHARE = 0.02
"""How close to a bound (share of the span between two bounds) counts as near it."""

MAX_REFITS = 3
"""At most this many low-confidence readings per fit are refitted without (the most
influential by the one-step screen)."""

_WEAK = ("low", "unverified")


def bound_flags(spec, theta) -> list[dict]:
    """One dict per parameter at or near a bound: ``param, estimate, bound, side, status``
    (side ``lower``/``upper``, status ``at``/``near``)."""
    out = []
    for name, v, (a, b) in zip(spec.param_names, np.asarray(theta, dtype=float), spec.bounds):
        tol = 1e-6 * max(1.0, abs(v))
        status, side, bound = None, None, None
        if np.isfinite(a) and v - a < tol:
            status, side, bound = "at", "lower", a
        elif np.isfinite(b) and b - v < tol:
            status, side, bound = "at", "upper", b
        elif np.isfinite(a) and np.isfinite(b):
            if a > 0 and b / a >= 100:
                pos = (math.log(v) - math.log(a)) / (math.log(b) - math.log(a))
            else:
                pos = (v - a) / (b - a)
            if pos < NEAR_SHARE:
                status, side, bound = "near", "lower", a
            elif pos > 1 - NEAR_SHARE:
                status, side, bound = "near", "upper", b
        if status:
            out.append(
                {
                    "param": name,
                    "estimate": float(v),
                    "bound": float(bound),
                    "side": side,
                    "status": status,
                }
            )
    return out


def bound_note(flags: list[dict]) -> str | None:
    """The note for :func:`bound_flags`, or None."""
    if not flags:
        return None
    parts = [
        f"{f['param']} = {fmt.number(f['estimate'])} is {f['status']} its {f['side']} bound "
        f"{fmt.number(f['bound'])}"
        for f in flags
    ]
    many = len(flags) > 1
    return (
        f"{'; '.join(parts)}: {'these are limits' if many else 'that is a limit'} of the "
        f"fitter, not {'findings' if many else 'a finding'}; the data do not pin "
        f"{'them' if many else 'it'} down, so "
        f"{'their' if many else 'its'} standard error{'s' if many else ''} and "
        f"interval{'s' if many else ''} are not reliable and the curve's shape follows the "
        "limit (prefer a curve without the parameter, or read this fit with care)"
    )


def _describe_row(obs: pd.DataFrame, i: int, value: float) -> str:
    row = obs.iloc[i]
    when = row.get("time")
    when = fmt.date(when) if when is not None and not pd.isna(when) else f"day {row['t']:g}"
    bits = [str(row[c]) for c in ("source",) if c in obs and not pd.isna(row[c])]
    conf = row.get("confidence")
    if conf is not None and not pd.isna(conf):
        bits.append(f"confidence {conf}")
    qual = row.get("qualifier")
    if qual is not None and not pd.isna(qual) and qual != "exact":
        bits.append(str(qual).replace("_", " "))
    return f"{fmt.compact(value)} on {when}" + (f" ({', '.join(bits)})" if bits else "")


def influence_notes(prob, spec, theta, cov, obs, share_fun) -> list[str]:
    """Notes naming each low- or unverified-confidence reading whose removal would move
    the final reach or the time to 90 % by more than its standard error (least squares
    only; ``prob`` is the fit's problem, ``obs`` its observation table or a dict of its
    columns, ``share_fun(*theta)`` the time to 90 %)."""
    if prob.robust or "confidence" not in obs:
        return []
    conf = np.asarray(obs["confidence"], dtype=object)
    weak = np.array([i for i, c in enumerate(conf) if c in _WEAK], int)
    n, p = prob.t.size, spec.k
    if weak.size == 0 or n <= p:
        return []
    theta = np.asarray(theta, dtype=float)
    with np.errstate(all="ignore"):
        G = _model_jac(spec, prob.t, theta)
        if prob.log:
            G = G / np.maximum(spec.f(prob.t, *theta), _TINY)[:, None]
        J = prob.sw[:, None] * G
        r = prob.resid(theta)
        norms = np.linalg.norm(J, axis=0)
        if not (np.all(np.isfinite(J)) and np.all(norms > 0)):
            return []
        Jn = J / norms
        try:
            A = np.linalg.inv(Jn.T @ Jn)
        except np.linalg.LinAlgError:
            return []
        h = np.einsum("ij,jk,ik->i", Jn, A, Jn)
        quantities, funs = [], []
        for name, fun in (("final reach", spec.saturation), ("time to 90 %", share_fun)):
            est = float(fun(*theta))
            g = _grad(lambda th, fun=fun: fun(*th), theta, spec)
            se = math.sqrt(max(float(g @ cov @ g), 0.0))
            if np.isfinite(est) and np.all(np.isfinite(g)) and se > 0:
                quantities.append((name, est, g, se))
                funs.append(fun)
    if not quantities:
        return []
    # screen: the estimates without reading i, one Gauss-Newton step from the fit; the
    # (at most MAX_REFITS) readings that move a quantity by over half a standard error
    # are refitted without them
    shift = {}
    for i in weak:
        if h[i] < 1 - 1e-9:
            step = (A @ (Jn[i] * r[i])) / norms / (1.0 - h[i])
            shift[i] = max(abs(float(g @ step)) / se for _, _, g, se in quantities)
    candidates = sorted((i for i in shift if shift[i] > 0.5), key=lambda i: -shift[i])
    notes = []
    for i in candidates[:MAX_REFITS]:
        # confirm with the refit itself
        keep = np.arange(n) != i
        sub = _make_problem(
            spec, prob.t[keep], prob.y[keep], prob.sw[keep] ** 2, "log" if prob.log else "ols"
        )
        th_i = _solve(sub, [theta])[0]
        if th_i is None:
            continue
        with np.errstate(all="ignore"):
            moved = [
                (name, est, float(fun(*th_i)), se)
                for (name, est, _, se), fun in zip(quantities, funs)
            ]
        big = [m for m in moved if np.isfinite(m[2]) and abs(m[2] - m[1]) > m[3]]
        if not big:
            continue
        what = "; ".join(
            f"the {name} would be "
            + (
                f"{fmt.compact(new)} instead of {fmt.compact(est)}"
                if name == "final reach"
                else f"day {fmt.number(new)} instead of day {fmt.number(est)}"
            )
            for name, est, new, _ in big
        )
        y = float(np.asarray(obs["y"], dtype=float)[i])
        row = _describe_row(pd.DataFrame(obs), int(i), y)
        notes.append(
            f"one low-confidence reading drives this least-squares fit: "
            f"{row}; without it {what} (a change of more than "
            "one standard error). Check it, down-weight it (weights='confidence') or fit "
            "with loss='robust'"
        )
    return notes
