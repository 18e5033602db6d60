"""Contract test: every registered curve (and a multi-wave curve) meets the same API."""

from __future__ import annotations

import json

import numpy as np
import pytest

from casekit import reach


def _specs():
    specs = dict(reach.CURVES)
    specs["logistic x2"] = reach.multiwave("logistic", 2, anchors=(None, 12.0), window=(-2, 8))
    return specs


SPECS = _specs()


def _data(spec, seed=0):
    """Data from the curve itself, at parameters taken from its own starting values."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0.3, 25.0, 45))
    base = 1000.0 / (1 + np.exp(-0.6 * (t - 6.0))) + 600.0 / (1 + np.exp(-0.8 * (t - 14.0)))
    theta = np.asarray(spec.p0(t, base)[0], dtype=float)
    lo = np.array([b[0] for b in spec.bounds])
    hi = np.array([b[1] for b in spec.bounds])
    theta = np.clip(
        theta,
        np.where(np.isfinite(lo), lo + 1e-3, -np.inf),
        np.where(np.isfinite(hi), hi - 1e-3, np.inf),
    )
    y = spec.f(t, *theta) * np.exp(rng.normal(0, 0.01, t.size))
    return t, y


@pytest.mark.parametrize("name", list(SPECS))
def test_curve_contract(name):
    spec = SPECS[name]
    t, y = _data(spec)
    res = reach.fit(y, spec, t=t)
    # converged counts real starts: at least one, and no more than were given
    assert res.converged and 1 <= res.n_starts_ok <= res.n_starts
    assert "left out" not in " ".join(res.notes)
    assert list(res.params.index) == list(spec.param_names)
    assert np.all(np.isfinite(res.params)) and np.all(np.isfinite(res.bse))
    assert res.cov.shape == (spec.k, spec.k)
    # fits: residuals small relative to the data
    assert res.sigma < 0.05 * np.max(y)
    # predicts with the column contract; delta-method bands contain the fit (they are
    # symmetric about it on the fitting scale; no clamping makes this hold)
    for interval in ("confidence", "prediction"):
        p = res.predict(np.linspace(0, 40, 81), interval=interval)
        assert tuple(p.columns) == reach.PRED_COLUMNS
        assert np.all(p["lower"] <= p["yhat"]) and np.all(p["yhat"] <= p["upper"])
        assert np.all(np.isfinite(p["yhat"]))
    # the curve increases and levels off at its saturation
    far = res.predict([1e4], interval=None)["yhat"].iloc[0]
    assert far == pytest.approx(res.saturation, rel=1e-3)
    # summary has the parameter rows
    s = res.summary
    assert list(s.index[: spec.k]) == list(spec.param_names)
    assert (s.loc[list(spec.param_names), "kind"] == "parameter").all()
    # to_dict is JSON and round-trips
    d = res.to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert reach.ReachFit.from_dict(d).to_dict() == d
    # derived quantities are finite
    assert np.isfinite(res.time_to_share(0.9)["estimate"])
    assert np.isfinite(res.peak_time()["estimate"])
    # plots
    fig = res.plot()
    assert len(fig.data) >= 3
