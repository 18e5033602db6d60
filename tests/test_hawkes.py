"""Tests of casekit.events.hawkes and casekit.events.simulate (issue #10)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.integrate import quad

from casekit.events import _likelihood as lk
from casekit.events.hawkes import MIN_EVENTS, HawkesFit, fit
from casekit.events.simulate import simulate
from casekit.exceptions import InsufficientDataError, ParameterError

# --------------------------------------------------------------------------- likelihood


def _direct_loglik(t, start, end, resp, exo, p, kernel):
    """Direct O(n^2) log-likelihood; the compensator by numerical integration."""
    mu0, n, e = p["mu0"], p["n"], p["e"]
    eta, omx = p.get("eta", 0.0), p.get("omega_x", 1.0)

    def phi(u):
        if kernel == "exp":
            return p["omega"] * np.exp(-p["omega"] * u)
        return lk.omori(u, p["theta"], p["c"])

    def m(x):
        return (1 - e) ** np.searchsorted(resp, x, "right")

    def lam(x, strict=True):
        prev = t[t < x]
        pulses = exo[exo < x]
        return (
            mu0 + eta * omx * np.sum(np.exp(-omx * (x - pulses))) + m(x) * n * np.sum(phi(x - prev))
        )

    ll = sum(math.log(lam(x)) for x in t)
    pts = np.unique(np.concatenate([[start, end], t, resp, exo[(exo > start) & (exo < end)]]))
    comp = sum(
        quad(lam, a, b, epsabs=1e-13, epsrel=1e-13, limit=200)[0] for a, b in zip(pts[:-1], pts[1:])
    )
    return ll - comp


def test_exp_loglik_matches_direct_computation():
    rng = np.random.default_rng(1)
    t = np.sort(rng.uniform(0, 10, 80))
    resp, exo = np.array([4.0, 7.5]), np.array([-1.0, 3.3])
    d = lk.Data(t, 0.0, 12.0, resp, exo)
    p = dict(mu0=2.0, n=0.6, omega=3.0, e=0.4, eta=5.0, omega_x=0.7)
    ll, _ = lk.exp_loglik(d, p)
    assert ll == pytest.approx(_direct_loglik(t, 0.0, 12.0, resp, exo, p, "exp"), abs=1e-9)


def test_exp_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    t = np.sort(rng.uniform(0, 10, 60))
    d = lk.Data(t, 0.0, 11.0, np.array([6.0]), np.array([2.0]))
    p = dict(mu0=1.5, n=0.5, omega=2.0, e=-0.3, eta=3.0, omega_x=1.2)
    _, g = lk.exp_loglik(d, p)
    for k in p:
        up, dn = dict(p), dict(p)
        up[k] += 1e-6
        dn[k] -= 1e-6
        num = (lk.exp_loglik(d, up, False) - lk.exp_loglik(d, dn, False)) / 2e-6
        assert g[k] == pytest.approx(num, rel=1e-5, abs=1e-6), k


def test_compiled_pass_matches_direct_computation():
    """The compiled one-pass likelihood (exp kernel, constant background, responses)."""
    from casekit.events._expkernel import ExpPass, decays

    rng = np.random.default_rng(5)
    t = np.sort(rng.uniform(0, 10, 80))
    resp = np.array([4.0, 7.5])
    d = lk.Data(t, 0.0, 12.0, resp, np.array([]))
    p = dict(mu0=2.0, n=0.6, omega=3.0, e=0.4)
    ll, g, H = ExpPass(d).evaluate(p)
    assert ll == pytest.approx(_direct_loglik(t, 0.0, 12.0, resp, np.array([]), p, "exp"), abs=1e-9)
    ll_np, g_np = lk.exp_loglik(d, p)
    assert ll == pytest.approx(ll_np, rel=1e-13)
    assert g == pytest.approx([g_np[k] for k in ("mu0", "n", "omega", "e")], rel=1e-11)
    names = ["mu0", "n", "omega", "e"]
    for j, k in enumerate(names):  # the exact Hessian against differences of the gradient
        up, dn = dict(p), dict(p)
        up[k] += 1e-6
        dn[k] -= 1e-6
        _, gu = lk.exp_loglik(d, up)
        _, gd = lk.exp_loglik(d, dn)
        num = [(gu[q] - gd[q]) / 2e-6 for q in names]
        assert H[:, j] == pytest.approx(num, rel=1e-6, abs=1e-6), k
    direct = [np.sum(np.exp(-3.0 * (t[i] - t[:i]))) for i in range(len(t))]
    assert decays(t, 3.0) == pytest.approx(direct, rel=1e-12)


def test_newton_fit_agrees_with_lbfgs_on_the_numpy_likelihood(monkeypatch):
    """The compiled Newton fit and the numpy L-BFGS-B fit find the same MLE and errors."""
    from casekit.events import _fitting

    t = simulate(2.0, 0.7, 4.0, end=200.0, response=100.0, e=0.5, seed=4)
    fast = fit(t, start=0.0, end=200.0, response=100.0, intervals="wald", n_draws=50)
    assert fast.settings["converged"]
    monkeypatch.setattr(_fitting, "_compiled", lambda: None)
    slow = fit(t, start=0.0, end=200.0, response=100.0, intervals="wald", n_draws=50)
    assert fast.loglik >= slow.loglik - 1e-7
    se = fast.se
    for k in fast.free:
        assert abs(fast.params[k] - slow.params[k]) < 1e-3 * se[k], k
    assert se.to_numpy() == pytest.approx(slow.se.to_numpy(), rel=1e-4)
    assert fast.final["estimate"] == pytest.approx(slow.final["estimate"], rel=1e-4)


def test_ks_and_quantile_shortcuts_match_scipy_and_numpy():
    from scipy import stats

    from casekit.events import _fitting

    x = np.sort(np.random.default_rng(6).exponential(1.1, 3000))
    ks = stats.kstest(x, "expon")
    assert _fitting.ks_exponential(x) == pytest.approx((ks.statistic, ks.pvalue), rel=1e-12)
    probs = (np.arange(500) + 0.5) / 500
    assert _fitting.sorted_quantile(x, probs) == pytest.approx(np.quantile(x, probs), rel=1e-14)


def test_fast_decay_scan_agrees_with_blocks():
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0, 5, 500))
    b = rng.uniform(0, 1, 500)
    blocks = lk.decayed_cumsum(t, 50.0, b)  # 1 block
    scan = lk._scan(t, 50.0, b)
    assert np.allclose(blocks, scan, rtol=1e-12, atol=1e-300)
    direct = np.array(
        [np.sum(b[: i + 1] * np.exp(-50.0 * (t[i] - t[: i + 1]))) for i in range(500)]
    )
    assert np.allclose(lk.decayed_cumsum(t, 5e5, b), lk._scan(t, 5e5, b))
    assert np.allclose(blocks, direct, rtol=1e-12)


def test_powerlaw_approximation_close_to_exact_omori():
    rng = np.random.default_rng(4)
    t = np.sort(rng.uniform(0, 10, 60))
    d = lk.Data(t, 0.0, 10.0, np.array([5.0]), np.array([]))
    s = lk.powerlaw_grid(10.0, 1e-4)
    p = dict(mu0=2.0, n=0.6, theta=0.8, c=0.05, e=0.3)
    approx = lk.sumexp_loglik(d, lk.SumExpCache(d, s), p, grad=False)
    exact = _direct_loglik(t, 0.0, 10.0, np.array([5.0]), np.array([]), p, "powerlaw")
    assert approx == pytest.approx(exact, rel=1e-3)
    u = np.logspace(-3, 2, 20)
    ratio = lk.omori_mixture(u, s, 0.8, 0.05) / lk.omori(u, 0.8, 0.05)
    assert np.all(np.abs(ratio - 1) < 5e-3)


# --------------------------------------------------------------------------- recovery


def test_parameter_recovery_and_interval_coverage():
    """100 replicates of about 2,500 events: the 95 % intervals cover the truth >= 90 times."""
    true = {"mu0": 2.0, "n": 0.6, "omega": 5.0}
    hits = dict.fromkeys(true, 0)
    est = []
    for s in range(100):
        t = simulate(2.0, 0.6, 5.0, end=500.0, seed=100 + s)
        f = fit(t, start=0.0, end=500.0, intervals="wald", n_draws=20)
        ci = f.conf_int()
        est.append([f.params[k] for k in true])
        for k, v in true.items():
            hits[k] += ci.loc[k, "lower"] <= v <= ci.loc[k, "upper"]
    assert all(h >= 90 for h in hits.values()), hits
    mean = np.mean(est, axis=0)
    assert mean == pytest.approx([2.0, 0.6, 5.0], rel=0.05)


def test_profile_interval_for_e_covers_known_effect():
    covered = 0
    estimates = []
    for s in range(10):
        t = simulate(2.0, 0.8, 4.0, end=200.0, response=100.0, e=0.5, seed=s)
        f = fit(t, start=0.0, end=200.0, response=100.0, n_draws=50)
        ci = f.conf_int().loc["e"]
        assert ci["method"] == "profile"
        estimates.append(f.params["e"])
        covered += ci["lower"] <= 0.5 <= ci["upper"]
    assert covered >= 8
    assert np.mean(estimates) == pytest.approx(0.5, abs=0.1)


def test_powerlaw_fit_recovers_branching_ratio():
    t = simulate(1.0, 0.5, end=400.0, kernel="powerlaw", theta=1.5, c=0.1, seed=5)
    f = fit(t, kernel="powerlaw", start=0.0, end=400.0, intervals="wald", n_draws=50)
    ci = f.conf_int()
    assert ci.loc["n", "lower"] <= 0.5 <= ci.loc["n", "upper"]
    assert "approximated by a mixture of exponentials" in str(f)


def test_exogenous_pulses_are_fitted():
    exo = np.array([20.0, 60.0])
    t = simulate(0.5, 0.5, 3.0, end=100.0, exogenous=exo, eta=150.0, omega_x=0.5, seed=6)
    f = fit(t, start=0.0, end=100.0, exogenous=exo, intervals="wald", n_draws=50)
    ci = f.conf_int()
    assert ci.loc["eta", "lower"] <= 150.0 <= ci.loc["eta", "upper"]
    assert f.params["eta"] == pytest.approx(150.0, rel=0.3)


# --------------------------------------------------------------------------- response


@pytest.fixture(scope="module")
def with_response():
    t = simulate(2.0, 0.7, 4.0, end=200.0, response=100.0, e=0.5, seed=4)
    return fit(t, start=0.0, end=200.0, response=100.0)


def test_counterfactual_reproduces_fit_and_is_monotone(with_response):
    f = with_response
    assert f.params["e"] > 0
    cf = f.counterfactual(np.linspace(-60, 60, 25))
    at0 = cf.loc[cf["delay"] == 0, "final_size"].item()
    assert at0 == f.final["estimate"]  # exactly
    assert np.all(np.diff(cf["final_size"]) > 0)
    assert cf["final_size"].iloc[0] < f.data["n_events"] < cf["final_size"].iloc[-1]


def test_counterfactual_with_response_after_the_data():
    t = simulate(2.0, 0.7, 4.0, end=100.0, seed=8)
    f = fit(t, start=0.0, end=100.0, response=110.0, e=0.4, n_draws=50)
    assert f.e_mode == "scenario" and "stated scenario" in str(f)
    cf = f.counterfactual([-30.0, -5.0, 0.0, 5.0])
    assert cf["final_size"].iloc[2] == f.final["estimate"]
    assert np.all(np.diff(cf["final_size"]) > 0)


def test_negative_e_is_reported_as_fuelled():
    t = simulate(2.0, 0.4, 4.0, end=200.0, response=100.0, e=-0.8, seed=9)
    f = fit(t, start=0.0, end=200.0, response=100.0, intervals="wald", n_draws=50)
    assert f.params["e"] < 0
    assert "fuelled" in str(f)


def test_e_needs_events_on_both_sides():
    t = simulate(2.0, 0.5, 4.0, end=100.0, seed=10)
    with pytest.raises(InsufficientDataError, match="straddle"):
        fit(t, end=100.0, response=99.99)
    with pytest.raises(InsufficientDataError, match="straddle"):
        fit(t, end=100.0, response=150.0)
    f = fit(t, end=100.0, response=150.0, e=0.3, intervals="wald", n_draws=20)
    assert f.settings["e"].startswith("scenario")


# --------------------------------------------------------------------------- final size


def test_supercritical_fit_never_reports_a_finite_final_size():
    t = simulate(1.0, 1.3, 2.0, end=8.0, seed=11)
    f = fit(t, start=0.0, end=8.0, intervals="wald", n_draws=50)
    assert f.params["n"] > 1 and f.supercritical
    assert math.isinf(f.final["estimate"]) and math.isinf(f.final["upper"])
    text = str(f)
    assert "SUPERCRITICAL" in text and "infinite" in text
    assert math.isinf(f.summary.set_index("quantity").loc["expected final size", "estimate"])


def test_subcritical_final_size_counts_expected_descendants():
    t = simulate(5.0, 0.8, 1.0, end=50.0, seed=12)
    f = fit(t, start=0.0, end=50.0, intervals="wald", n_draws=200)
    n, om = f.params["n"], f.params["omega"]
    expected = len(t) + n * np.sum(np.exp(-om * (50.0 - t))) / (1 - n)
    assert f.final["estimate"] == pytest.approx(expected, rel=1e-9)
    assert f.final["lower"] <= f.final["estimate"] <= f.final["upper"]


# --------------------------------------------------------------------------- result contract


def test_result_contract(with_response):
    f = with_response
    assert set(f.conf_int().columns) >= {"lower", "upper"}
    assert {"parameter", "estimate", "lower", "upper"} <= set(f.table.columns)
    assert "Settings:" in str(f)
    assert 0 <= f.gof["ks_pvalue"] <= 1 and len(f.qq) > 0
    fig = f.plot()
    assert len(fig.data) == 2 and f.plot("qq").data
    d = f.to_dict()
    json.dumps(d)
    g = HawkesFit.from_dict(d)
    assert g.to_dict() == d
    assert g.counterfactual([5.0])["final_size"][0] == f.counterfactual([5.0])["final_size"][0]
    assert f.times is not None and len(f.times) == f.data["n_events"]


def test_conf_int_other_levels_use_the_profile_grid(with_response):
    f = with_response
    c90, c99 = f.conf_int(0.10), f.conf_int(0.01)
    for k in ("n", "e"):
        assert c99.loc[k, "lower"] < c90.loc[k, "lower"] < c90.loc[k, "upper"] < c99.loc[k, "upper"]


def test_accepts_an_event_log_object():
    class Log:
        def times(self):
            return simulate(2.0, 0.5, 3.0, end=60.0, seed=13)

    f = fit(Log(), intervals="wald", n_draws=20)
    assert f.data["n_events"] == len(Log().times())


# --------------------------------------------------------------------------- bad input


def test_bad_input():
    t = simulate(2.0, 0.5, 3.0, end=60.0, seed=14)
    with pytest.raises(ParameterError, match="sorted"):
        fit(t[::-1])
    bad = t.copy()
    bad[5] = np.nan
    with pytest.raises(ParameterError, match="finite"):
        fit(bad)
    with pytest.raises(InsufficientDataError, match=str(MIN_EVENTS)):
        fit(t[:10])
    with pytest.raises(ParameterError, match="kernel"):
        fit(t, kernel="gauss")
    with pytest.raises(ParameterError, match="window"):
        fit(t, end=t[-1] - 1)
    with pytest.raises(ParameterError):
        simulate(1.0, 0.5, 1.0, end=10.0, response=5.0, e=1.0)
    with pytest.raises(InsufficientDataError, match="supercritical"):
        simulate(1.0, 3.0, 1.0, end=100.0, max_events=10_000, seed=1)


def test_simulated_mean_count_matches_theory():
    counts = [len(simulate(3.0, 0.5, 10.0, end=200.0, seed=s)) for s in range(30)]
    # stationary mean mu * T / (1 - n), less the offspring lost after the end
    assert np.mean(counts) == pytest.approx(3.0 * 200.0 / 0.5, rel=0.03)


# --------------------------------------------------------------------------- no excitation


def test_poisson_data_are_never_supercritical_and_mostly_undetected():
    detected = 0
    for s in range(12):
        t = np.sort(np.random.default_rng(s).uniform(0, 10, 500))
        f = fit(t, end=10.0, intervals="wald", n_draws=100)
        assert not f.supercritical and f.params["n"] < 1
        assert math.isfinite(f.final["estimate"]) and f.final["estimate"] < 2 * len(t)
        assert "SUPERCRITICAL" not in str(f)
        assert f.params["omega"] >= 1.0 / (10.0 - t[0]) * (1 - 1e-9)  # mean lag <= span
        detected += f.excitation_detected
    assert detected <= 4  # the boundary mixture is somewhat liberal (Davies' problem)


def test_poisson_null_not_detected_says_so():
    t = np.sort(np.random.default_rng(1).uniform(0, 10, 500))
    f = fit(t, end=10.0)
    assert not f.excitation_detected and f.excitation["p_value"] >= 0.05
    assert f.params["n"] < 0.05
    assert f.conf_int().loc["n", "lower"] == 0.0
    assert f.final["estimate"] == len(t) and f.final["lower"] == len(t)
    assert f.final["upper"] >= len(t) and f.final["model"] == "poisson"
    text = str(f)
    assert "No self-excitation detected" in text and "supercritical" not in text.lower()
    assert any("lower bound" in n for n in f.notes) and "Note: n* = " in text
    f2 = HawkesFit.from_dict(json.loads(json.dumps(f.to_dict())))
    assert f2.excitation == f.excitation and f2.notes == f.notes


def test_excitation_detected_on_hawkes_data():
    t = simulate(1.0, 0.6, 3.0, end=300.0, seed=2)
    f = fit(t, end=300.0, intervals="wald", n_draws=50)
    assert f.excitation_detected and f.excitation["p_value"] < 1e-6
    assert f.final["model"] == "hawkes" and not f.notes
    assert "Self-excitation detected" in str(f)


def test_supercritical_simulation_still_reported_with_n_below_its_bound():
    from casekit.events.hawkes import N_MAX

    t = simulate(1.0, 1.3, 2.0, end=8.0, seed=11)
    f = fit(t, start=0.0, end=8.0, intervals="wald", n_draws=50)
    assert f.excitation_detected and f.supercritical
    assert 1.0 < f.params["n"] < N_MAX / 2


def test_degenerate_bound_is_flagged():
    # a short window on data with a slow kernel: omega runs into 1/span
    t = simulate(20.0, 0.6, 0.05, end=5.0, seed=3)
    f = fit(t, start=0.0, end=5.0, intervals="wald", n_draws=50)
    assert f.params["omega"] == pytest.approx(1 / 5.0, rel=0.02)
    assert any("omega" in n and "lower bound" in n for n in f.notes)
    assert "mean lag reaches the observation span" in str(f)


def test_final_upper_is_inf_without_warnings_when_draws_reach_criticality():
    from casekit.events import _fitting as ft

    q = ft.quantiles(np.array([1.0, 2.0, 3.0, np.inf, np.inf]), [0.0, 0.5, 0.7, 1.0])
    assert q.tolist() == [1.0, 3.0, math.inf, math.inf]
    assert ft.quantiles(np.array([1.0, 2.0, np.inf]), [0.5]).tolist() == [2.0]
    t = simulate(1.0, 0.9, 2.0, end=20.0, seed=4)
    f = fit(t, start=0.0, end=20.0, intervals="wald", n_draws=400)  # warnings are errors
    assert f.excitation_detected and not f.supercritical
    assert math.isfinite(f.final["estimate"]) and f.final["upper"] == math.inf


def test_warm_start_reaches_the_same_optimum():
    t = simulate(2.0, 0.6, 5.0, end=100.0, seed=8)
    cold = fit(t, end=100.0, intervals="wald", n_draws=50)
    warm = fit(t, end=100.0, intervals="wald", n_draws=50,
               warm_start={"mu0": 1.5, "n": 0.5, "omega": 4.0})  # fmt: skip
    again = fit(t, end=100.0, intervals="wald", n_draws=50, warm_start=cold)
    for f in (warm, again):
        for k in ("mu0", "n", "omega"):
            assert f.params[k] == pytest.approx(cold.params[k], rel=1e-6)
        assert f.settings["warm start"] is True
    with pytest.raises(ParameterError):
        fit(t, end=100.0, warm_start={"n": 0.5}, kernel="bad")


def test_exp_sums_interpolation_matches_direct():
    from casekit.events import _fitting as ft

    lag = np.sort(np.random.default_rng(0).uniform(0, 3, 200_000))
    om = np.random.default_rng(1).uniform(5.0, 9.0, 40)
    direct = np.array([np.exp(-o * lag).sum() for o in om])
    np.testing.assert_allclose(ft.exp_sums(lag, om), direct, rtol=1e-8)
