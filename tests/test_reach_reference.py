"""casekit.reach against R's nls: estimates and standard errors to a relative 1e-4.

The reference numbers come from tests/reference/nls_reference.R (R 4.2, stats::nls with
the self-starting SSlogis and SSgompertz models, and plain nls for Bass, Richards and
the log-scale logistic); its console output is tests/reference/nls_reference_console.txt.
R is not needed to run this test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from casekit import reach

REF = Path(__file__).resolve().parent / "reference"
RTOL = 1e-4


@pytest.fixture(scope="module")
def ref():
    return pd.read_csv(REF / "nls_reference.csv")


def _data(name):
    return pd.read_csv(REF / f"growth_{name}.csv")


def _r(ref, dataset, model):
    sub = ref[(ref["dataset"] == dataset) & (ref["model"] == model)].set_index("term")
    assert len(sub), f"no R reference for {dataset}/{model}"
    return sub


def _transform(res, g):
    """Estimates and delta-method standard errors of g(theta) (exact for the linearised
    covariance, which is how nls computes its standard errors)."""
    theta = res.params.to_numpy()
    est = np.asarray(g(theta))
    J = np.empty((est.size, theta.size))
    for j in range(theta.size):
        h = 1e-6 * max(abs(theta[j]), 1e-3)
        up, dn = theta.copy(), theta.copy()
        up[j] += h
        dn[j] -= h
        J[:, j] = (np.asarray(g(up)) - np.asarray(g(dn))) / (2 * h)
    se = np.sqrt(np.diag(J @ res.cov.to_numpy() @ J.T))
    return est, se


def _logis(th):  # (K, r, t0) -> SSlogis (Asym, xmid, scal)
    K, r, t0 = th
    return [K, t0, 1.0 / r]


def _gomp(th):  # (K, r, t0) -> SSgompertz (Asym, b2, b3)
    K, r, t0 = th
    return [K, np.exp(r * t0), np.exp(-r)]


CASES = [
    # dataset, R model, casekit curve, loss, weights, transform, R terms
    ("a", "SSlogis", "logistic", "ols", False, _logis, ["Asym", "xmid", "scal"]),
    ("b", "SSlogis", "logistic", "ols", False, _logis, ["Asym", "xmid", "scal"]),
    ("a", "SSgompertz", "gompertz", "ols", False, _gomp, ["Asym", "b2", "b3"]),
    ("b", "SSgompertz", "gompertz", "ols", False, _gomp, ["Asym", "b2", "b3"]),
    ("a", "SSlogis_weighted", "logistic", "ols", True, _logis, ["Asym", "xmid", "scal"]),
    ("a", "logistic_log", "logistic", "log", False, None, ["K", "r", "t0"]),
    ("a", "bass", "bass", "ols", False, None, ["m", "p", "q"]),
    ("b", "richards", "richards", "ols", False, None, ["K", "r", "t0", "nu"]),
]


@pytest.mark.parametrize(
    "dataset,model,curve,loss,weighted,g,terms", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_matches_r_nls(ref, dataset, model, curve, loss, weighted, g, terms):
    d = _data(dataset)
    w = d["w"].to_numpy() if weighted else None
    res = reach.fit(d["y"].to_numpy(), curve, t=d["t"].to_numpy(), loss=loss, weights=w)
    r = _r(ref, dataset, model)
    if g is None:
        est, se = res.params.to_numpy(), res.bse.to_numpy()
    else:
        est, se = _transform(res, g)
    np.testing.assert_allclose(est, r.loc[terms, "estimate"].to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(se, r.loc[terms, "std_error"].to_numpy(), rtol=RTOL)
    assert res.sigma == pytest.approx(r.loc["sigma", "estimate"], rel=RTOL)
    assert res.df_resid == int(r.loc["df_resid", "estimate"])
    assert res.rss == pytest.approx(r.loc["rss", "estimate"], rel=RTOL)
    # log-likelihood: R's logLik.nls; for the log-scale fit R's value is the density of
    # log(y), casekit's the density of y (differs by sum(log y))
    ll = res.loglik + (float(np.sum(np.log(d["y"]))) if loss == "log" else 0.0)
    assert ll == pytest.approx(r.loc["logLik", "estimate"], rel=RTOL)
    aic = res.aic - (2 * float(np.sum(np.log(d["y"]))) if loss == "log" else 0.0)
    assert aic == pytest.approx(r.loc["AIC", "estimate"], rel=RTOL)


def test_reference_files_are_committed():
    assert (REF / "nls_reference.R").is_file()
    text = (REF / "nls_reference_console.txt").read_text()
    assert "R version" in text and "SSlogis" in text


@pytest.mark.parametrize("dataset", ["a", "b"])
def test_profile_intervals_match_r(dataset):
    """Profile-t intervals against R's profile.nls (interpolated as MASS::confint.nls does).

    Profile intervals are invariant under reparameterisation, so scal = 1/r maps the r
    interval onto R's scal interval (ends swapped)."""
    prof = pd.read_csv(REF / "nls_profile_reference.csv")
    r = prof[prof["dataset"] == dataset].set_index("term")
    d = _data(dataset)
    ci = reach.fit(d["y"].to_numpy(), "logistic", t=d["t"].to_numpy()).conf_int(method="profile")
    mine = {
        "Asym": (ci.loc["K", "lower"], ci.loc["K", "upper"]),
        "xmid": (ci.loc["t0", "lower"], ci.loc["t0", "upper"]),
        "scal": (1 / ci.loc["r", "upper"], 1 / ci.loc["r", "lower"]),
    }
    for term, (lo, hi) in mine.items():
        assert lo == pytest.approx(r.loc[term, "lower"], rel=RTOL)
        assert hi == pytest.approx(r.loc[term, "upper"], rel=RTOL)
