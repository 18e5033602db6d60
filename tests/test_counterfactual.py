"""The counterfactual of the intervention model: it reproduces the fit at the actual
response time, "never" is the undamped curve, and it is monotone in the delay (issue #9)."""

from types import SimpleNamespace

import numpy as np
import pytest

import casekit as ck
from casekit.exceptions import InsufficientDataError
from casekit.reach.intervention import intervention
from casekit.response.intervention_cost import counterfactual_reach

BASES = ["logistic", "gompertz", "richards", "bass", "expsat", "two-wave"]
HORIZONS = [2.0, 5.0, 12.0, 40.0, np.inf]
DELAYS = [0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 30.0, np.inf]


def _base(name):
    return ck.reach.multiwave("logistic", 2) if name == "two-wave" else ck.reach.CURVES[name]


def _theta(name):
    if name == "two-wave":
        return [1000.0, 0.8, 5.0, 600.0, 0.5, 15.0]
    spec = _base(name)
    t = np.arange(1.0, 30.0)
    return [float(x) for x in spec.p0(t, 1000 * (1 - np.exp(-0.2 * t)))[0]]


def _fit(name, e, delta=0.08, times=(3.0,)):
    """A stand-in for a fit: the counterfactual needs only its spec and parameters."""
    spec = intervention(_base(name), list(times), e="estimate", delta="estimate")
    theta = np.array(_theta(name) + [delta] + [e] * len(times))
    return SimpleNamespace(spec=spec, theta=theta)


@pytest.mark.parametrize("name", BASES)
@pytest.mark.parametrize("times", [(3.0,), (3.0, 6.0)])
def test_the_actual_delay_reproduces_the_fitted_curve(name, times):
    fit = _fit(name, 0.5, times=times)
    P = fit.theta[None, :]
    for H in HORIZONS:
        got = counterfactual_reach(fit, [times[0]], H, P)[0, 0]
        want = fit.spec.saturation(*fit.theta) if np.isinf(H) else fit.spec.f(H, *fit.theta)
        assert got == pytest.approx(float(want), rel=1e-9), H


@pytest.mark.parametrize("name", BASES)
def test_never_is_the_undamped_curve(name):
    fit = _fit(name, 0.5)
    P = fit.theta[None, :]
    undamped = _fit(name, 0.0)  # the same curve with e = 0: attention decay only
    for H in HORIZONS:
        never = counterfactual_reach(fit, [np.inf], H, P)[0, 0]
        f = undamped.spec
        want = f.saturation(*undamped.theta) if np.isinf(H) else f.f(H, *undamped.theta)
        assert never == pytest.approx(float(want), rel=1e-9)
    # without attention decay "never" is the base curve itself
    nodecay = _fit(name, 0.5, delta=0.0)
    t = 12.0
    got = counterfactual_reach(nodecay, [np.inf], t, nodecay.theta[None, :])[0, 0]
    base = _base(name)
    assert got == pytest.approx(float(base.f(t, *_theta(name))), rel=1e-9)


@pytest.mark.parametrize("name", BASES)
def test_monotone_in_the_delay(name):
    for e, sign in ((0.5, 1), (0.9, 1), (0.0, 0), (-0.5, -1)):
        fit = _fit(name, e, times=(3.0, 6.0))
        for H in (12.0, np.inf):
            v = counterfactual_reach(fit, DELAYS, H, fit.theta[None, :])[0]
            step = np.diff(v)
            tol = 1e-9 * np.max(np.abs(v))
            if sign > 0:  # a damping response: the later, the more reach
                assert np.all(step >= -tol), (e, H, v)
            elif sign < 0:  # a response that fuelled the storm: the later, the less reach
                assert np.all(step <= tol), (e, H, v)
            else:
                assert np.allclose(v, v[0], rtol=1e-12)
    # and strictly so at an infinite horizon for e > 0 with attention decay
    fit = _fit(name, 0.5)
    v = counterfactual_reach(fit, [0.0, 5.0, np.inf], np.inf, fit.theta[None, :])[0]
    assert v[0] < v[1] < v[2]


def test_vectorised_over_draws_equals_row_by_row():
    fit = _fit("logistic", 0.4)
    rng = np.random.default_rng(1)
    P = fit.theta * np.exp(rng.normal(0, 0.05, size=(20, len(fit.theta))))
    allv = counterfactual_reach(fit, DELAYS, np.inf, P)
    for i in (0, 7, 19):
        one = counterfactual_reach(fit, DELAYS, np.inf, P[i : i + 1])[0]
        np.testing.assert_allclose(allv[i], one, rtol=1e-12)


def _bundled():
    out = []
    for case_id in ck.list_cases()["id"]:
        d = ck.reach.describe(ck.load_case(case_id))
        if d.fittable:
            out.append(case_id)
    return out


@pytest.mark.parametrize("case_id", _bundled())
def test_every_bundled_case_reproduces_its_fit_at_the_actual_delay(case_id):
    case = ck.load_case(case_id)
    try:
        plain_fit = ck.reach.fit(case)
    except InsufficientDataError as err:
        # rows enough for describe(), but too few distinct times for a curve: the delay
        # cost says so rather than give a number
        assert "distinct times" in str(err)
        with pytest.raises(InsufficientDataError):
            ck.response.delay_cost(case, n_draws=0)
        return
    try:
        fit = ck.reach.fit(case, response=True)
    except InsufficientDataError as err:  # observations do not straddle the response
        assert "cannot be estimated" in str(err) or "a fit needs at least" in str(err)
        try:
            fit = ck.reach.fit(case, response=True, e=0.5)
        except InsufficientDataError as err2:
            # too few distinct times for one more parameter (delta): said plainly, and
            # delay_cost says the same rather than give a number
            assert "distinct times" in str(err2)
            with pytest.raises(InsufficientDataError, match="distinct times"):
                ck.response.delay_cost(plain_fit, n_draws=0)
            return
    t1 = float(fit.response_effect["t"].iloc[0])
    dc = ck.response.delay_cost(fit, delays=[0, 1, 7, np.inf], n_draws=0)
    assert dc.actual_delay == t1 and dc.table["actual"].sum() == 1
    final = float(fit.spec.saturation(*fit.theta))
    assert dc.actual["final_reach"] == pytest.approx(final, rel=1e-9)
    assert dc.fitted_final == pytest.approx(final, rel=1e-9)
    # by a finite horizon: the fitted curve's value there
    H = float(fit.obs["t"].max())
    at_h = ck.response.delay_cost(fit, delays=[0], horizon=H, n_draws=0)
    assert at_h.actual["final_reach"] == pytest.approx(float(fit.spec.f(H, *fit.theta)), rel=1e-9)
    # the default path (a fit without the response, refitted inside delay_cost) too
    plain = ck.response.delay_cost(plain_fit, delays=[0, 7], n_draws=0)
    assert plain.actual["final_reach"] == pytest.approx(plain.fitted_final, rel=1e-12)
