"""Simulation: 95 % asymptotic intervals of casekit.reach cover the truth 90-99 % of the time."""

from __future__ import annotations

import numpy as np
import pytest

from casekit import reach


@pytest.mark.parametrize(
    "curve,theta",
    [
        ("logistic", (120000.0, 0.9, 3.0)),
        ("gompertz", (80000.0, 0.5, 4.0)),
    ],
)
def test_asymptotic_interval_coverage(curve, theta):
    spec = reach.CURVES[curve]
    rng = np.random.default_rng(2024)
    n_rep, n = 200, 30
    t = np.sort(rng.uniform(0.2, 12.0, n))
    mu = spec.f(t, *theta)
    sd = 0.02 * theta[0]
    hits = np.zeros(len(theta))
    for _ in range(n_rep):
        y = mu + rng.normal(0.0, sd, n)
        ci = reach.fit(y, curve, t=t, n_starts=2).conf_int(alpha=0.05)
        hits += (ci["lower"].to_numpy() <= theta) & (np.asarray(theta) <= ci["upper"].to_numpy())
    coverage = hits / n_rep
    assert np.all((coverage >= 0.90) & (coverage <= 0.99)), coverage
