"""The counterfactual of the intervention model: it reproduces the fit at the actual
response time, "never" is the undamped curve, and it is monotone in the delay (issue #9)."""

from types import SimpleNamespace

import numpy as np
import pytest

import casekit as ck
from casekit.exceptions import InsufficientDataError
from casekit.reach.intervention import intervention
from casekit.response import intervention_cost as ic
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


# --- the default path on each bundled case's own best curve (ck.reach.compare) ------------


def _best_fits():
    """The bundled cases whose reach a curve can be fitted to (at least one distinct time
    per parameter); the others say why they cannot (test above)."""
    out = []
    for case_id in _bundled():
        try:
            _ = ck.reach.compare(ck.load_case(case_id)).best
        except ck.FitError:  # InsufficientDataError included: too few distinct times
            continue
        out.append(case_id)
    return out


@pytest.fixture(scope="module")
def best():
    cache = {}

    def get(case_id):
        if case_id not in cache:
            cache[case_id] = ck.reach.compare(ck.load_case(case_id)).best
        return cache[case_id]

    return get


def _rss(fit, spec, theta):
    """The fit's own criterion (least squares, on the log scale for a log loss)."""
    t = fit.obs["t"].to_numpy(float)
    y = fit.obs["y"].to_numpy(float)
    w = fit.obs["weight"].to_numpy(float)
    f = spec.f(t, *theta)
    r = np.log(y) - np.log(f) if fit.loss == "log" else y - f
    return float(np.sum(w * r**2))


@pytest.mark.parametrize("case_id", _best_fits())
def test_each_bundled_best_fit_reproduces_what_happened_and_moves_only_the_response(case_id, best):
    from casekit.response.intervention_cost import with_response

    fit = best(case_id)
    dc = ck.response.delay_cost(fit, delays=[0, 1, 3, 7, 30, np.inf], n_draws=200)
    inside, how, _ = with_response(fit)  # the refit delay_cost used (kept on the fit)
    t1 = float(inside.response_effect["t"].iloc[0])
    # at the actual delay: the refitted curve, at an infinite and at a finite horizon
    assert dc.actual_delay == t1 and dc.table["actual"].sum() == 1
    final = float(inside.spec.saturation(*inside.theta))
    assert dc.actual["final_reach"] == pytest.approx(final, rel=1e-9)
    assert dc.fitted_final == pytest.approx(final, rel=1e-9)
    H = float(fit.obs["t"].max())
    at_h = ck.response.delay_cost(fit, delays=[0], horizon=H, n_draws=0)
    assert at_h.actual["final_reach"] == pytest.approx(
        float(inside.spec.f(H, *inside.theta)), rel=1e-9
    )
    # never is the curve without the response; the reach never falls as the delay grows
    e = float(inside.response_effect["e"].iloc[0])
    v = dc.table["final_reach"].to_numpy()
    tol = 1e-9 * np.max(np.abs(v))
    assert np.all(np.diff(v) >= -tol) if e >= 0 else np.all(np.diff(v) <= tol)
    base, _, unpack = ic.intervention_parts(inside)
    th, delta, _ = unpack(np.asarray(inside.theta)[None, :])
    never = ic.counterfactual_reach(inside, [np.inf], np.inf, np.asarray(inside.theta)[None, :])
    undamped = intervention(base, [t1], e=0.0, delta=float(np.ravel(delta)[0]))
    want = float(undamped.saturation(*[float(x[0, 0]) for x in th]))
    assert dc.at(np.inf)["final_reach"] == pytest.approx(want, rel=1e-9)
    assert never[0, 0] == pytest.approx(want, rel=1e-9)
    # e is estimated with an interval, or a stated scenario value, and the result says so
    if dc.effectiveness_status == "estimated":
        lo, hi = dc.effectiveness_bounds
        assert lo <= e <= hi and "estimated" in str(dc).splitlines()[0]
    else:
        assert dc.effectiveness == 0.5 and "a stated scenario value" in str(dc).splitlines()[0]
    # the refit passes through the observations at least as well as the fit it came from,
    # when its start reproduces that fit exactly (e estimated, or no reading before the
    # response: the fit moved into operational time)
    exact = dc.effectiveness_status == "estimated" or fit.obs["t"].min() >= t1
    if exact and fit.loss in ("ols", "log"):
        assert _rss(fit, inside.spec, inside.theta) <= _rss(fit, fit.spec, fit.theta) * (1 + 1e-6)


def test_ubg_two_wave_log_fit_gets_the_intervention_model(best):
    """United Breaks Guitars: the case's own two-wave curve on the log scale. No reading
    precedes United's first response (day 1), so e is the stated 0.5; the decay rate cannot
    be estimated jointly with the slow second wave, so it is held at a profile value, and
    the result says so. The counterfactual is checked against the curve written out."""
    from casekit.response.intervention_cost import with_response
    from casekit.response.intervention_refit import moved_start

    fit = best("united-breaks-guitars")
    assert fit.spec.name == "logisticx2" and fit.loss == "log"
    # the start of the refit: the fit moved into operational time is the same curve after
    # the response (every reading is on or after day 1)
    t = fit.obs["t"].to_numpy(float)
    same = intervention(fit.spec, [1.0], e=0.5, delta=0.0)
    np.testing.assert_allclose(
        same.f(t, *moved_start(fit, 0.5, 1.0)), fit.spec.f(t, *fit.theta), rtol=1e-12
    )
    dc = ck.response.delay_cost(fit, delays=[0, 1, 3, 7, np.inf], n_draws=300)
    assert dc.effectiveness_status == "scenario" and dc.effectiveness == 0.5
    assert "0 before it" in dc.settings["fit"] and "held at" in dc.settings["fit"]
    inside = with_response(fit)[0]
    d = float(inside.spec.definition["delta"])
    assert 0 < d < 1
    p = inside.params

    def curve(h, t1):  # two logistic waves in operational time, written out
        A = lambda x: -np.expm1(-d * x) / d  # noqa: E731
        tau = A(h) - 0.5 * (A(h) - A(t1)) if h >= t1 else A(h)
        return sum(p[f"K_{i}"] / (1 + np.exp(-p[f"r_{i}"] * (tau - p[f"t0_{i}"]))) for i in (1, 2))

    for H in (5.0, 60.0, 4197.0):
        got = ck.response.delay_cost(fit, delays=[0, 3], horizon=H, n_draws=0)
        assert got.at(1.0)["final_reach"] == pytest.approx(curve(H, 1.0), rel=1e-9)
        assert got.at(3.0)["final_reach"] == pytest.approx(curve(H, 3.0), rel=1e-9)
        assert got.at(3.0)["final_reach"] >= got.at(1.0)["final_reach"]
    row = dc.actual
    assert row["lower"] <= row["final_reach"] <= row["upper"]
    assert dc.at(0)["final_reach"] < row["final_reach"] < dc.at(7)["final_reach"]
    assert dc.at(7)["final_reach"] < dc.at(np.inf)["final_reach"]
