"""The API refuses nonsense instead of presenting it as a result (issue #12, item 10).

Every guard of :func:`casekit.reach.fit` and of the :mod:`casekit.response` functions:
the exception type and the words that make its message useful. Warnings are errors in
the suite (pyproject ``filterwarnings = error``); the overflow tests also set the filter
themselves, so they hold however the suite is run.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import casekit as ck
from casekit import response as rs
from casekit.exceptions import InsufficientDataError, ParameterError
from casekit.reach.data import MAX_DAYS, MAX_VALUE, NOISE_BELOW_ZERO

T = np.arange(12.0)
# a clean logistic rise with a little wobble, so every curve has something to fit
Y = 100.0 / (1.0 + np.exp(-0.8 * (T - 5.0))) * (1.0 + 0.02 * np.sin(3.0 * T))


@pytest.fixture(scope="module")
def fit():
    return ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")


def _with(values: dict[int, float]) -> np.ndarray:
    y = Y.copy()
    for i, v in values.items():
        y[i] = v
    return y


# --------------------------------------------------------------------------- reach.fit


FIT_CASES = {
    # name: (data, t, exception, words in the message)
    "constant values": (
        np.full(12, 5.0),
        T,
        InsufficientDataError,
        ["all 12", "equal (5)", "no growth", "cannot identify"],
    ),
    "all zeros": (np.zeros(12), T, InsufficientDataError, ["all 12 values", "are 0", "no reach"]),
    "a negative value": (
        _with({2: -30.0}),
        T,
        ParameterError,
        ["y[2]", "-30", "cannot be negative"],
    ),
    "all negative": (-Y, T, ParameterError, ["y[0]", "cannot be negative"]),
    "a huge value": (Y * 1e298, T, ParameterError, ["y[0]", "supported range (0 to 1e+100)"]),
    "1e300 everywhere": (np.full(12, 1e300), T, ParameterError, ["y[0]", "supported range"]),
    "an infinite value": (_with({4: np.inf}), T, ParameterError, ["y[4]", "inf", "finite"]),
    "a -inf value": (_with({1: -np.inf}), T, ParameterError, ["y[1]", "-inf", "finite"]),
    "an infinite time": (Y, np.r_[T[:-1], np.inf], ParameterError, ["t[11]", "inf", "finite"]),
    "a time too far": (Y, T * 2e5, ParameterError, ["t[6]", "supported range", "days"]),
    "mismatched lengths": (Y, T[:-1], ParameterError, ["11 times but 12 values"]),
    "fewer points than parameters": (
        Y[:3],
        T[:3],
        InsufficientDataError,
        ["3 observations", "3 parameters", "at least 4"],
    ),
    "points only at too few times": (
        Y[:6],
        np.array([0.0, 0, 0, 1, 1, 1]),
        InsufficientDataError,
        ["2 distinct times", "3 or more distinct times"],
    ),
    "text values": (["a"] * 12, T, ParameterError, ["must be numbers"]),
}


@pytest.mark.parametrize("name", list(FIT_CASES))
def test_fit_refuses(name):
    data, t, exc, words = FIT_CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(exc) as err:
            ck.reach.fit(data, t=t)
    assert type(err.value) is exc
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_negative_value_named_for_series_and_dataframe():
    s = pd.Series(_with({7: -15.5}), index=T)
    with pytest.raises(ParameterError, match=r"y\[7\] \(at t = 7\) is -15.5"):
        ck.reach.fit(s)
    df = pd.DataFrame({"t": T, "value": _with({0: -20.0})})
    with pytest.raises(ParameterError, match=r"y\[0\] \(at t = 0\) is -20"):
        ck.reach.fit(df)


def test_values_just_below_zero_are_noise_and_noted():
    # additive noise around a curve starting near 0 (loss 'ols') can dip below 0
    y = _with({0: -2.0, 1: -0.5})  # within 10 % of the largest value (about 100)
    assert -2.0 >= -NOISE_BELOW_ZERO * y.max()
    res = ck.reach.fit(y, t=T)
    assert any("2 observations are below 0 (down to −2)" in n for n in res.notes)
    assert "read as measurement noise" in str(res)
    with pytest.raises(ParameterError, match=r"y\[0\] .* is -20"):
        ck.reach.fit(_with({0: -20.0}), t=T)
    # the log losses need positive values, whatever the depth
    with pytest.raises(ck.FitError, match="log loss needs positive values"):
        ck.reach.fit(y, t=T, loss="log")


@pytest.mark.parametrize("data", [np.full(12, 7.0), np.zeros(12)], ids=["constant", "zeros"])
def test_compare_refuses_flat_data_once(data):
    with pytest.raises(InsufficientDataError, match="all 12 values"):
        ck.reach.compare(data, t=T)


def test_nan_marks_a_missing_observation_and_is_noted():
    # NaN is the documented marker of a missing value or time: left out and said so
    y, t = Y.copy(), T.copy()
    y[3] = np.nan
    t[8] = np.nan
    res = ck.reach.fit(y, t=t)
    assert res.nobs == 10
    assert "2 observations without a value or time were left out" in res.notes


def test_flat_after_dropping_missing_is_still_refused():
    y = np.full(12, 4.0)
    y[5] = np.nan
    with pytest.raises(InsufficientDataError, match="all 11 values of y are equal"):
        ck.reach.fit(y, t=T)


@pytest.mark.parametrize("loss", ["ols", "log", "robust", "robust_log"])
def test_largest_supported_values_fit_without_warnings(loss):
    y = Y / Y.max() * MAX_VALUE  # the largest value is exactly the limit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = ck.reach.fit(y, t=T, loss=loss)
        str(res)
        res.conf_int()
        res.milestones()
        res.predict(interval="prediction")
    assert np.isfinite(res.saturation) and res.saturation > 0.5 * MAX_VALUE


def test_largest_supported_values_flow_through_the_response_functions():
    res = ck.reach.fit(Y / Y.max() * MAX_VALUE, t=T)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dc = rs.delay_cost(res, actual_delay=3.0, n_draws=50)
        w = rs.reach_while_waiting(res, 3.0, n_draws=50)
    assert np.all(np.isfinite(dc.table["final_reach"]))
    assert 0 < w.value("share_before") < 1


def test_times_at_the_limit_are_accepted():
    res = ck.reach.fit(Y, t=T - MAX_DAYS + 20)
    assert res.nobs == 12


def test_milestones_before_the_origin_are_flagged():
    # the growth happened before t = 0: peak and t50 are at about day -4
    t = T + 1.0
    y = 100.0 / (1.0 + np.exp(-0.4 * (t + 4.0))) * (1.0 + 0.01 * np.sin(3.0 * t))
    res = ck.reach.fit(y, t=t)
    peak = float(res.peak_time()["estimate"])
    assert peak < 0
    note = next(n for n in res.notes if "before t = 0" in n)
    assert "the fastest growth (day −3.9)" in note
    assert "50 % of the final reach" in note
    assert "90 % of the final reach" not in note  # t90 is after the origin
    assert "extrapolation" in note and "first observation is at day 1" in note
    text = str(res)
    assert "Fastest growth at -3.9 days" in text
    assert "that is before the origin (see the notes)" in text
    # a fit whose milestones are all after the origin carries no such note
    assert not any("before t = 0" in n for n in ck.reach.fit(Y, t=T).notes)


# --------------------------------------------------------------------------- response


def _delay_cost(fit, **kw):
    kw.setdefault("n_draws", 20)
    return rs.delay_cost(fit, **kw)


def _waiting(fit, **kw):
    kw.setdefault("n_draws", 20)
    return rs.reach_while_waiting(fit, **kw)


def _sensitivity(fit, **kw):
    kw.setdefault("n_draws", 20)
    return rs.sensitivity(fit, curves=["logistic"], **kw)


def _what_if(fit, **kw):
    kw.setdefault("delay", 1.0)
    return rs.what_if(fit, **kw)


RESPONSE_CASES = {
    # name: (function, keyword arguments, words in the message)
    "delay_cost n_draws=-5": (_delay_cost, {"n_draws": -5}, ["n_draws", ">= 0", "-5"]),
    "delay_cost n_draws=2.5": (_delay_cost, {"n_draws": 2.5}, ["n_draws", "whole number"]),
    "delay_cost n_draws=True": (_delay_cost, {"n_draws": True}, ["n_draws", "True"]),
    "waiting n_draws=-5": (_waiting, {"n_draws": -5}, ["n_draws", ">= 0", "-5"]),
    "sensitivity n_draws=-5": (_sensitivity, {"n_draws": -5}, ["n_draws", ">= 0", "-5"]),
    "delay_cost effectiveness=True": (
        _delay_cost,
        {"effectiveness": True},
        ["effectiveness", "between 0 and 1", "True"],
    ),
    "delay_cost effectiveness=nan": (
        _delay_cost,
        {"effectiveness": float("nan")},
        ["effectiveness", "between 0 and 1", "nan"],
    ),
    "delay_cost effectiveness=inf": (
        _delay_cost,
        {"effectiveness": float("inf")},
        ["effectiveness", "between 0 and 1", "inf"],
    ),
    "delay_cost effectiveness=1.5": (
        _delay_cost,
        {"effectiveness": 1.5},
        ["effectiveness", "between 0 and 1"],
    ),
    "delay_cost effectiveness='0.5'": (
        _delay_cost,
        {"effectiveness": "0.5"},
        ["effectiveness", "between 0 and 1"],
    ),
    "what_if effectiveness=True": (
        _what_if,
        {"effectiveness": True},
        ["effectiveness", "between 0 and 1"],
    ),
    "what_if effectiveness=nan": (
        _what_if,
        {"effectiveness": float("nan")},
        ["effectiveness", "between 0 and 1"],
    ),
    "sensitivity effectiveness=False": (
        _sensitivity,
        {"effectiveness": False},
        ["effectiveness", "between 0 and 1"],
    ),
    "sensitivity effectiveness_range with inf": (
        _sensitivity,
        {"effectiveness_range": (0.2, float("inf"))},
        ["effectiveness_range", "between 0 and 1"],
    ),
    "delays with nan": (
        _delay_cost,
        {"delays": [0, 1, float("nan")]},
        ["delays[2] is nan", ">= 0"],
    ),
    "delays negative": (_delay_cost, {"delays": [0, -2]}, ["delays[1] is -2", "days >= 0"]),
    "delays -inf": (_delay_cost, {"delays": [-np.inf]}, ["delays[0] is -inf", "inf = never"]),
    "delays booleans": (_delay_cost, {"delays": [True, 2]}, ["not booleans"]),
    "delays empty": (_delay_cost, {"delays": []}, ["non-empty"]),
    "actual_delay nan": (
        _delay_cost,
        {"actual_delay": float("nan")},
        ["actual_delay", "finite number"],
    ),
    "what_if delay nan": (_what_if, {"delay": float("nan")}, ["delay", "finite number"]),
    "what_if delay inf": (_what_if, {"delay": float("inf")}, ["delay", "finite number"]),
    "what_if delay negative": (_what_if, {"delay": -1.0}, ["delay must be >= 0"]),
    "waiting response nan": (_waiting, {"response": float("nan")}, ["finite number"]),
    "waiting response True": (_waiting, {"response": True}, ["date or days", "True"]),
    "waiting horizon nan": (_waiting, {"horizon": float("nan")}, ["horizon", "finite number"]),
}


@pytest.mark.parametrize("name", list(RESPONSE_CASES))
def test_response_refuses(fit, name):
    func, kw, words = RESPONSE_CASES[name]
    with pytest.raises(ParameterError) as err:
        func(fit, **kw)
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_n_draws_zero_means_no_bands(fit):
    # documented: n_draws = 0 gives the estimates without bands (kept)
    dc = rs.delay_cost(fit, n_draws=0)
    assert dc.draws is None
    assert dc.table["lower"].isna().all() and dc.table["upper"].isna().all()
    assert "no bands (n_draws = 0)" in dc.settings["bands"]
    w = rs.reach_while_waiting(fit, n_draws=0)
    assert w.quantity_draws is None
    assert "no bands (n_draws = 0)" in w.settings["intervals"]


def test_never_responding_is_an_allowed_delay(fit):
    dc = rs.delay_cost(fit, delays=[0, 1, np.inf], model="flow", n_draws=0)
    assert dc.at(np.inf)["final_reach"] == pytest.approx(dc.fitted_final, rel=1e-9)
    # the intervention model: never is the curve without the response, the actual delay
    # reproduces the fit
    dc = rs.delay_cost(fit, delays=[0, 1, np.inf], n_draws=0)
    assert dc.at(np.inf)["final_reach"] != pytest.approx(dc.fitted_final, rel=1e-6)
    assert dc.actual["final_reach"] == pytest.approx(dc.fitted_final, rel=1e-12)
