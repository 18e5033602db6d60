"""casekit.reach: curves, the generic fitter, ReachFit, compare, describe, plots."""

from __future__ import annotations

import dataclasses
import json
import math
import warnings

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import casekit as ck
from casekit import reach
from casekit.exceptions import FitError, InsufficientDataError, ParameterError

TRUE = {
    "logistic": {"K": 120000.0, "r": 0.9, "t0": 3.0},
    "gompertz": {"K": 80000.0, "r": 0.5, "t0": 4.0},
    "richards": {"K": 50000.0, "r": 0.6, "t0": 5.0, "nu": 0.5},
    "bass": {"m": 200000.0, "p": 0.03, "q": 0.5},
    "expsat": {"K": 30000.0, "r": 0.25},
}


def synthetic(curve, n=40, noise=0.01, seed=1, t_max=None):
    spec = reach.CURVES[curve]
    theta = [TRUE[curve][p] for p in spec.param_names]
    rng = np.random.default_rng(seed)
    t_max = t_max or {"bass": 25.0, "expsat": 20.0}.get(curve, 20.0)
    t = np.sort(rng.uniform(0.2, t_max, size=n))
    y = spec.f(t, *theta) * np.exp(rng.normal(0.0, noise, size=n))
    return t, y, theta


@pytest.fixture(scope="module")
def example():
    return ck.load_case("synthetic-example")


@pytest.fixture(scope="module")
def example_fit(example):
    return reach.fit(example, "logistic", metric="video_views")


# -- registry and curves -----------------------------------------------------------


def test_registry_has_the_canonical_curves():
    assert set(reach.DEFAULT_CURVES) <= set(reach.CURVES)
    assert reach.CURVES["logistic"].param_names == ("K", "r", "t0")
    assert reach.CURVES["gompertz"].param_names == ("K", "r", "t0")
    assert reach.CURVES["richards"].param_names == ("K", "r", "t0", "nu")
    assert reach.CURVES["bass"].param_names == ("m", "p", "q")
    assert reach.CURVES["expsat"].param_names == ("K", "r")
    assert reach.CURVES["bass"].rate_param == "q"
    for name in ("logistic", "gompertz", "richards", "expsat"):
        assert reach.CURVES[name].rate_param == "r"


@pytest.mark.parametrize("curve", list(reach.DEFAULT_CURVES))
def test_curve_docstring_and_formula(curve):
    spec = reach.CURVES[curve]
    assert spec.formula and spec.description
    assert spec.formula.replace(" ", "") in spec.doc.replace(" ", "")
    assert "Peak growth" in spec.doc
    mw = reach.multiwave("logistic", 2)
    assert "Peak growth" in mw.doc and "Sum of 2 logistic waves" in mw.doc


def test_formulas_match_the_issue():
    t = np.linspace(-5, 30, 50)
    K, r, t0, nu = 1000.0, 0.7, 4.0, 0.4
    assert np.allclose(reach.CURVES["logistic"].f(t, K, r, t0), K / (1 + np.exp(-r * (t - t0))))
    assert np.allclose(reach.CURVES["gompertz"].f(t, K, r, t0), K * np.exp(-np.exp(-r * (t - t0))))
    assert np.allclose(
        reach.CURVES["richards"].f(t, K, r, t0, nu), K / (1 + np.exp(-r * (t - t0))) ** (1 / nu)
    )
    m, p, q = 1000.0, 0.03, 0.4
    tt = np.linspace(0, 40, 50)
    e = np.exp(-(p + q) * tt)
    assert np.allclose(reach.CURVES["bass"].f(tt, m, p, q), m * (1 - e) / (1 + q / p * e))
    assert np.allclose(reach.CURVES["expsat"].f(tt, K, r), K * (1 - np.exp(-r * tt)))


@pytest.mark.parametrize("curve", list(reach.DEFAULT_CURVES))
def test_peak_time_is_the_maximum_growth(curve):
    spec = reach.CURVES[curve]
    theta = [TRUE[curve][p] for p in spec.param_names]
    t = np.linspace(0, 30, 300001)
    rate = np.gradient(spec.f(t, *theta), t)
    assert spec.peak_time(*theta) == pytest.approx(t[np.argmax(rate)], abs=1e-3)


@pytest.mark.parametrize("curve", list(reach.DEFAULT_CURVES))
@pytest.mark.parametrize("share", [0.5, 0.9, 0.99])
def test_share_time_inverts_the_curve(curve, share):
    spec = reach.CURVES[curve]
    theta = [TRUE[curve][p] for p in spec.param_names]
    ts = spec.share_time(share, *theta)
    assert spec.f(np.array([ts]), *theta)[0] == pytest.approx(
        share * spec.saturation(*theta), rel=1e-9
    )
    # and the generic numeric solver agrees
    assert reach._numeric_share_time(spec, share, theta) == pytest.approx(ts, rel=1e-8)


def test_curves_emit_no_warnings_at_extremes():
    t = np.array([-1e6, -1e3, 0.0, 1e3, 1e6])
    for name, spec in reach.CURVES.items():
        theta = [TRUE.get(name, {}).get(p, 1.0) for p in spec.param_names]
        # numpy's default error state (underflow to 0 is silent), whatever the caller set
        with (
            warnings.catch_warnings(),
            np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"),
        ):
            warnings.simplefilter("error")  # any warning (overflow, 0/0...) fails the test
            out = spec.f(t, *theta)
        assert np.all(np.isfinite(out)), name


def test_register_curve():
    spec = reach.CurveSpec(
        name="test-linear-sat",
        param_names=("K", "r"),
        bounds=((0, np.inf), (0, np.inf)),
        f=lambda t, K, r: K * (1 - np.exp(-np.clip(r * t, -700, None))),
        p0=lambda t, y: [[1.1 * y.max(), 0.2]],
        saturation=lambda K, r: K,
        peak_time=lambda K, r: 0.0 * r,
        rate_param="r",
        scale_params=("K",),
        formula="K (1 - exp(-r t))",
    )
    reach.register_curve(spec)
    try:
        with pytest.raises(ParameterError, match="already registered"):
            reach.register_curve(spec)
        t, y, _ = synthetic("expsat")
        res = reach.fit(y, "test-linear-sat", t=t)
        assert res.params["K"] == pytest.approx(30000, rel=0.02)
        # the numeric share-time solver serves curves without a closed form
        assert res.time_to_share(0.9)["estimate"] == pytest.approx(
            -math.log(0.1) / res.params["r"], rel=1e-6
        )
    finally:
        reach.CURVES.pop("test-linear-sat")


def test_curvespec_validates():
    with pytest.raises(ParameterError, match="bounds"):
        reach.CurveSpec(
            name="x",
            param_names=("a", "b"),
            bounds=((0, 1),),
            f=None,
            p0=None,
            saturation=None,
            peak_time=None,
            rate_param="a",
            formula="",
        )
    with pytest.raises(ParameterError, match="rate_param"):
        reach.CurveSpec(
            name="x",
            param_names=("a",),
            bounds=((0, 1),),
            f=None,
            p0=None,
            saturation=None,
            peak_time=None,
            rate_param="z",
            formula="",
        )


# -- parameter recovery --------------------------------------------------------------


@pytest.mark.parametrize("curve", list(reach.DEFAULT_CURVES))
@pytest.mark.parametrize("loss", ["ols", "log"])
def test_recovers_known_parameters(curve, loss):
    t, y, theta = synthetic(curve, n=50, noise=0.01, seed=3)
    res = reach.fit(y, curve, t=t, loss=loss)
    est = res.params.to_numpy()
    assert np.allclose(est, theta, rtol=0.05), (res.params, theta)
    # and the truth is inside the 99.9 % interval
    ci = res.conf_int(alpha=0.001)
    assert np.all((ci["lower"] <= theta) & (theta <= ci["upper"]))


@pytest.mark.parametrize("curve", list(reach.DEFAULT_CURVES))
def test_recovers_known_parameters_robust(curve):
    t, y, theta = synthetic(curve, n=50, noise=0.01, seed=4)
    clean = reach.fit(y, curve, t=t)
    y = y.copy()
    y[[10, 30]] *= 1.6  # two wild press figures
    ols = reach.fit(y, curve, t=t, loss="ols")
    rob = reach.fit(y, curve, t=t, loss="robust")
    # distance from the clean-data fit, in the clean fit's standard errors
    err_rob = np.max(np.abs(rob.params - clean.params) / clean.bse)
    err_ols = np.max(np.abs(ols.params - clean.params) / clean.bse)
    assert err_rob < 2.0
    assert err_rob < err_ols
    assert any("approximate" in n for n in rob.notes)
    assert rob.f_scale > 0


def test_synthetic_example_recovers_truth(example_fit):
    # K=120000, r=0.9, t0=3 plus 2 % noise, and 4 press figures 8 % high
    p = example_fit.params
    assert p["K"] == pytest.approx(120000, rel=0.06)
    assert p["r"] == pytest.approx(0.9, rel=0.06)
    assert p["t0"] == pytest.approx(3.0, abs=0.15)


def test_multiwave_recovers_two_waves():
    rng = np.random.default_rng(5)
    t = np.sort(rng.uniform(0.2, 60, 60))
    truth = [50000, 1.0, 3.0, 30000, 0.5, 30.0]
    spec = reach.multiwave("logistic", 2, anchors=(None, 29.0), window=(-3, 10))
    y = spec.f(t, *truth) * np.exp(rng.normal(0, 0.01, t.size))
    res = reach.fit(y, spec, t=t)
    assert np.allclose(res.params.to_numpy(), truth, rtol=0.05)
    assert res.saturation == pytest.approx(80000, rel=0.02)
    assert spec.bounds[5] == (26.0, 39.0)
    # peak of total growth: the larger, faster first wave
    assert res.peak_time()["estimate"] == pytest.approx(3.0, abs=0.2)
    t90 = res.time_to_share(0.9)["estimate"]
    assert res.predict([t90])["yhat"].iloc[0] == pytest.approx(0.9 * res.saturation, rel=1e-6)


def test_multiwave_anchors(example):
    spec = reach.multiwave("gompertz", 2, anchors=(None, "coverage"), case=example)
    assert spec.definition["anchors"] == [None, 2.0]  # 2024-03-06 coverage, origin 2024-03-04
    spec = reach.multiwave("logistic", 2, anchors=(None, "2024-03-10"), case=example)
    assert spec.definition["anchors"][1] == 6.0
    with pytest.raises(ParameterError, match="midpoint"):
        reach.multiwave("bass", 2)
    with pytest.raises(ParameterError, match="anchors"):
        reach.multiwave("logistic", 2, anchors=(None,))
    with pytest.raises(ParameterError, match="anchor"):
        reach.multiwave("logistic", 2, anchors=(None, "not a date"))


# -- data inputs -------------------------------------------------------------------------


def test_accepts_arrays_series_frames_and_cases(example, example_fit):
    s = example.series("video_views")
    a = reach.fit(s["value"].to_numpy(), t=s["t"].to_numpy())
    b = reach.fit(pd.Series(s["value"].to_numpy(), index=s["t"].to_numpy()))
    c = reach.fit(s)
    d = reach.fit(
        pd.Series(s["value"].to_numpy(), index=pd.DatetimeIndex(s["time"])), origin="2024-03-04"
    )
    for res in (a, b, c, d):
        assert np.allclose(res.params, example_fit.params, rtol=1e-6)
    assert c.data["source"].str.startswith("synthetic").all()
    assert d.origin == pd.Timestamp("2024-03-04")
    assert example_fit.case_id == "synthetic-example"
    assert example_fit.metric == "video_views"
    # default metric: the case's best-observed cumulative metric
    assert reach.fit(example).metric == "video_views"


def test_conflicting_rows_are_all_kept(example_fit):
    # same-day counter and press figures stay separate rows
    assert example_fit.nobs == 28
    assert set(example_fit.data["qualifier"]) == {"exact", "about"}


def test_confidence_weights(example):
    res = reach.fit(example, metric="video_views", weights="confidence")
    assert res.weights == "confidence"
    w = res.data.set_index("confidence")["weight"]
    assert set(w.loc["high"]) == {1.0} and set(w.loc["medium"]) == {0.5}
    custom = reach.fit(
        example,
        metric="video_views",
        weights={"high": 1, "medium": 0.01, "low": 0.01, "unverified": 0.01},
    )
    assert custom.weights.startswith("confidence(")
    # down-weighting the 8 %-high press figures pulls K towards the counter
    plain = reach.fit(example, metric="video_views")
    assert abs(custom.params["K"] - 120000) < abs(plain.params["K"] - 120000) + 1e-9
    arr = reach.fit(example, metric="video_views", weights=np.ones(28))
    assert np.allclose(arr.params, plain.params)
    with pytest.raises(ParameterError, match="one per observation"):
        reach.fit(example, metric="video_views", weights=np.ones(3))


# -- errors ---------------------------------------------------------------------------------


def test_too_few_points_is_a_plain_insufficient_data_error():
    with pytest.raises(InsufficientDataError, match="needs at least 4"):
        reach.fit([1.0, 2.0, 3.0], t=[0, 1, 2])
    with pytest.raises(InsufficientDataError, match="richards curve has 4 parameters"):
        reach.fit([1.0, 2.0, 3.0, 4.0], "richards", t=[0, 1, 2, 3])
    # repeated times do not count as distinct information
    with pytest.raises(InsufficientDataError, match="distinct times"):
        reach.fit([1.0, 2.0, 3.0, 4.0, 5.0], t=[1, 1, 1, 2, 2])


def test_non_cumulative_metric_and_no_origin(example):
    # per-period counts fit: each count is the increment of the curve over its period
    posts = reach.fit(example, metric="forum_posts")
    assert posts.observation == "per-period" and posts.loss in ("nb", "poisson")
    assert posts.metric == "forum_posts" and np.all(np.isfinite(posts.fitted))
    assert np.all(posts.fitted >= 0)
    with pytest.raises(
        ParameterError, match="no reach metric 'nope'; it has: video_views, forum_posts"
    ):
        reach.fit(example, metric="nope")


def test_log_loss_needs_positive_values():
    with pytest.raises(FitError, match="positive"):
        reach.fit([0.0, 1, 2, 3, 4], t=[0, 1, 2, 3, 4], loss="log")


def test_unidentifiable_curve_is_a_fit_error():
    # a flat series cannot say where the midpoint is
    t = np.arange(10.0)
    with pytest.raises(FitError, match="cannot identify|did not converge"):
        reach.fit(np.full(10, 5.0), "richards", t=t)


def test_non_convergence_is_a_fit_error():
    t = np.arange(10.0)
    y = np.array([1, 9, 2, 8, 3, 7, 4, 6, 5, 5], dtype=float) * 1000
    with pytest.raises(FitError):
        reach.fit(y, "richards", t=t, n_starts=1, start=[1e12, 50.0, -40.0, 99.0])


def test_bad_arguments():
    t, y, _ = synthetic("logistic")
    with pytest.raises(ParameterError, match="loss"):
        reach.fit(y, t=t, loss="l1")
    with pytest.raises(ParameterError, match="unknown curve"):
        reach.fit(y, "weibull", t=t)
    with pytest.raises(ParameterError, match="t="):
        reach.fit(y)


# -- the result -----------------------------------------------------------------------------


def test_result_is_immutable(example_fit):
    with pytest.raises(AttributeError):
        example_fit.loss = "log"
    with pytest.raises(ValueError):
        example_fit.theta[0] = 1.0
    p = example_fit.params
    p.iloc[0] = -1
    assert example_fit.params.iloc[0] > 0


def test_statistics_are_consistent(example_fit):
    r = example_fit.residuals.to_numpy()
    assert example_fit.rss == pytest.approx(float(r @ r))
    n, k = example_fit.nobs, 4
    assert example_fit.df_resid == 25
    assert example_fit.aic == pytest.approx(-2 * example_fit.loglik + 2 * k)
    assert example_fit.aicc == pytest.approx(example_fit.aic + 2 * k * (k + 1) / (n - k - 1))
    assert example_fit.bic == pytest.approx(-2 * example_fit.loglik + k * math.log(n))
    assert np.allclose(example_fit.bse**2, np.diag(example_fit.cov))
    assert list(example_fit.stats.index) == [
        "nobs",
        "df_resid",
        "rss",
        "sigma",
        "loglik",
        "aic",
        "aicc",
        "bic",
    ]


def test_conf_int_methods_agree_roughly(example_fit):
    a = example_fit.conf_int()
    p = example_fit.conf_int(method="profile")
    b = example_fit.conf_int(method="bootstrap", n_boot=400)
    assert list(a.columns) == ["lower", "upper"]
    for other in (p, b):
        width_a = a["upper"] - a["lower"]
        assert np.all(np.abs(other["lower"] - a["lower"]) < 0.35 * width_a)
        assert np.all(np.abs(other["upper"] - a["upper"]) < 0.35 * width_a)
    est = example_fit.params
    assert np.all((p["lower"] < est) & (est < p["upper"]))
    with pytest.raises(ParameterError, match="method"):
        example_fit.conf_int(method="bayes")


def test_profile_interval_is_where_the_profile_t_hits_the_quantile(example_fit):
    from scipy import stats

    p = example_fit.conf_int(method="profile", alpha=0.05)
    q = stats.t.ppf(0.975, example_fit.df_resid)
    s2 = example_fit.rss / example_fit.df_resid
    # refit with r fixed at the upper profile limit: RSS must rise by q^2 s^2
    r_up = p.loc["r", "upper"]
    t = example_fit.data["t"].to_numpy()
    y = example_fit.data["y"].to_numpy()
    from scipy.optimize import least_squares

    sol = least_squares(
        lambda u: y - reach.CURVES["logistic"].f(t, u[0] * 1e5, r_up, u[1]),
        [example_fit.params["K"] / 1e5, example_fit.params["t0"]],
        xtol=1e-14,
        ftol=1e-14,
        gtol=1e-14,
    )
    assert float(sol.fun @ sol.fun) - example_fit.rss == pytest.approx(q**2 * s2, rel=1e-4)


@pytest.mark.parametrize("interval", ["confidence", "prediction"])
def test_predict_bands(example_fit, interval):
    p = example_fit.predict(np.linspace(0, 30, 61), interval=interval)
    assert tuple(p.columns) == reach.PRED_COLUMNS
    assert (p["lower"] <= p["yhat"]).all() and (p["yhat"] <= p["upper"]).all()
    assert p["time"].iloc[0] == pd.Timestamp("2024-03-04")
    assert pd.api.types.is_datetime64_any_dtype(p["time"])


def test_prediction_band_is_wider_and_covers_the_data(example_fit):
    c = example_fit.predict(interval="confidence")
    p = example_fit.predict(interval="prediction", alpha=0.01)
    assert ((p["upper"] - p["lower"]) > (c["upper"] - c["lower"])).all()
    y = example_fit.data["y"].to_numpy()
    inside = (p["lower"] <= y) & (y <= p["upper"])
    assert inside.mean() >= 0.9


def test_predict_accepts_dates_and_scalars(example_fit):
    by_date = example_fit.predict(pd.DatetimeIndex(["2024-03-07", "2024-03-14"]))
    by_day = example_fit.predict([3.0, 10.0])
    assert np.allclose(by_date["yhat"], by_day["yhat"])
    assert len(example_fit.predict(5)) == 1
    assert len(example_fit.predict()) == example_fit.nobs


def test_bootstrap_bands(example_fit):
    p = example_fit.predict([1.0, 3.0, 10.0], interval="prediction", bootstrap=500, seed=2)
    c = example_fit.predict([1.0, 3.0, 10.0], interval="confidence", bootstrap=500, seed=2)
    a = example_fit.predict([1.0, 3.0, 10.0], interval="confidence")
    assert (p["upper"] - p["lower"] >= c["upper"] - c["lower"]).all()
    # bootstrap and delta-method confidence bands agree within a factor of two
    wb = (c["upper"] - c["lower"]).to_numpy()
    wa = (a["upper"] - a["lower"]).to_numpy()
    assert np.all((wb / wa > 0.5) & (wb / wa < 2))
    # deterministic for a seed
    again = example_fit.predict([1.0, 3.0, 10.0], interval="confidence", bootstrap=500, seed=2)
    pd.testing.assert_frame_equal(c, again)


def test_log_loss_bands_are_asymmetric(example):
    res = reach.fit(example, metric="video_views", loss="log")
    p = res.predict([0.5, 3.0, 10.0])
    up, down = p["upper"] - p["yhat"], p["yhat"] - p["lower"]
    assert (up > down).all()
    assert (p["lower"] > 0).all()


def test_milestones_and_time_to_share(example_fit):
    ms = example_fit.milestones()
    assert list(ms.index) == ["saturation", "peak_time", "t50", "t90", "t99"]
    assert ms.loc["t50", "estimate"] == pytest.approx(example_fit.params["t0"])
    r, t0 = example_fit.params["r"], example_fit.params["t0"]
    assert ms.loc["t90", "estimate"] == pytest.approx(t0 + math.log(9) / r)
    assert ms.loc["t99", "estimate"] == pytest.approx(t0 + math.log(99) / r)
    times = ms.drop(index="saturation")
    assert (times["lower"] < times["estimate"]).all() and (times["estimate"] < times["upper"]).all()
    assert (ms["method"] == "profile").sum() == 4
    # the curve levels off at K = 125,090, below the 126,015 counted (high, exact): the
    # final reach is at least what was counted, estimate and interval alike
    counted = example_fit.data.query("confidence == 'high' and qualifier == 'exact'")["y"].max()
    assert counted == 126015 > example_fit.params["K"]
    sat = ms.loc["saturation"]
    assert sat["estimate"] == sat["lower"] == counted < sat["upper"]
    assert (
        sat["method"]
        == "profile, floored at the largest reading (the fitted curve levels off below it)"
    )
    t90 = example_fit.time_to_share(0.9)
    assert t90["time"] == pd.Timestamp("2024-03-04") + pd.Timedelta(days=t90["estimate"]).round("s")
    boot = example_fit.time_to_share(0.9, method="bootstrap", n_boot=300)
    assert boot["lower"] < t90["estimate"] < boot["upper"]
    with pytest.raises(ParameterError, match="share"):
        example_fit.time_to_share(1.5)


def test_summary_table(example_fit):
    s = example_fit.summary
    assert tuple(s.columns) == reach.SUMMARY_COLUMNS
    assert list(s.index[:3]) == ["K", "r", "t0"]
    assert (s.loc[["K", "r", "t0"], "kind"] == "parameter").all()
    assert "t90" in s.index and s.loc["t90", "kind"] == "derived"
    html = example_fit._repr_html_()
    assert "<table" in html and "logistic" in html
    assert "ReachFit logistic" in repr(example_fit)


def test_to_dict_round_trips(example_fit):
    d = example_fit.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text) == d
    back = reach.ReachFit.from_dict(json.loads(text))
    assert back.to_dict() == d
    pd.testing.assert_series_equal(back.params, example_fit.params)
    pd.testing.assert_frame_equal(back.predict([1.0, 5.0]), example_fit.predict([1.0, 5.0]))
    assert d["loss"] == "ols" and d["weights"] == "none" and d["case_id"] == "synthetic-example"
    assert d["type"] == "ReachFit" and d["settings"]["case"] == "synthetic-example"
    assert back.context.id == "synthetic-example"
    assert back.context.path == example_fit.context.path
    assert str(back) == str(example_fit) == d["text"]


def test_result_vocabulary(example_fit):
    tab = example_fit.table
    assert list(tab.columns) == list(example_fit.data.columns) + ["yhat", "residual"]
    np.testing.assert_allclose(tab["yhat"], example_fit.fitted)
    np.testing.assert_allclose(tab["residual"], tab["y"] - tab["yhat"])
    st = example_fit.settings
    assert (st["curve"], st["metric"], st["loss"], st["weights"], st["alpha"]) == (
        "logistic",
        "video_views",
        "ols",
        "none",
        0.05,
    )
    assert st["origin"] == pd.Timestamp("2024-03-04") and st["n_starts"] == 4
    assert example_fit.has_intervals
    pd.testing.assert_frame_equal(
        example_fit.summary.loc[["K", "r", "t0"], ["lower", "upper"]],
        example_fit.conf_int(),
        check_names=False,
    )
    text = str(example_fit)
    assert text.startswith("synthetic-example: logistic fit of video_views")
    assert "K = 125,090 (123,870–126,311)" in text
    assert "\nSettings:\n  - curve: logistic" in text


def test_multiwave_to_dict_round_trips():
    rng = np.random.default_rng(5)
    t = np.sort(rng.uniform(0.2, 60, 60))
    spec = reach.multiwave("logistic", 2, anchors=(None, 29.0), window=(-3, 10))
    y = spec.f(t, 50000, 1.0, 3.0, 30000, 0.5, 30.0) * np.exp(rng.normal(0, 0.01, t.size))
    res = reach.fit(y, spec, t=t)
    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    back = reach.ReachFit.from_dict(d)
    assert back.spec.bounds == spec.bounds
    assert back.to_dict() == d


# -- compare ----------------------------------------------------------------------------


def test_compare_ranks_by_aicc(example):
    cmp = reach.compare(example, metric="video_views")
    tab = cmp.table
    assert tuple(tab.columns) == reach.COMPARE_COLUMNS
    assert tab["aicc"].is_monotonic_increasing
    assert tab["delta_aicc"].iloc[0] == 0
    assert tab["akaike_weight"].sum() == pytest.approx(1.0)
    assert cmp.best.curve == tab["curve"].iloc[0] == "logistic"
    assert set(cmp.fits) == set(reach.DEFAULT_CURVES)
    assert "<table" in cmp._repr_html_()
    d = json.loads(json.dumps(cmp.to_dict(), allow_nan=False))
    back = reach.Comparison.from_dict(d)
    assert back.to_dict() == d and str(back) == str(cmp)
    pd.testing.assert_frame_equal(back.table, tab)
    assert set(back.fits) == set(cmp.fits)
    pd.testing.assert_series_equal(back.best.params, cmp.best.params)
    # params and conf_int: every fitted curve, best first
    par, ci = cmp.params, cmp.conf_int()
    assert list(par.columns) == ["curve", "term", "estimate"]
    assert list(ci.columns) == ["curve", "term", "lower", "upper"]
    assert par["curve"].unique().tolist() == tab["curve"].tolist()
    best = par[par["curve"] == "logistic"].set_index("term")["estimate"]
    pd.testing.assert_series_equal(best, cmp.fits["logistic"].params, check_names=False)
    np.testing.assert_allclose(
        ci.loc[ci["curve"] == "logistic", ["lower", "upper"]], cmp.fits["logistic"].conf_int()
    )
    assert cmp.settings["metric"] == "video_views" and cmp.settings["loss"] == "ols"
    assert str(cmp).startswith("synthetic-example: 5 growth curves for video_views")
    assert "Best: logistic" in str(cmp)


def test_compare_lists_failures_instead_of_raising():
    t = np.array([0.0, 1, 2, 3])
    y = np.array([10.0, 50, 90, 99])
    cmp = reach.compare(y, t=t)
    tab = cmp.table.set_index("curve")
    assert not tab.loc["richards", "converged"]
    assert "needs at least 5" in tab.loc["richards", "error"]
    assert tab.loc["expsat", "converged"]
    assert tab["aicc"].isna().iloc[-1]
    # 4 points: every fitted curve has n <= k + 2, so AICc is infinite for all of them
    assert not np.isfinite(tab["aicc"].to_numpy(dtype=float)).any()
    with pytest.raises(FitError, match="no best curve: with 4 observations"):
        _ = cmp.best


def test_log_loss_rejects_curves_that_are_zero_at_the_origin():
    # bass and expsat are exactly 0 at t = 0: log(0) would be a residual of about -690
    case = ck.load_case("werder-bremen-wiesenhof")
    cmp = reach.compare(case, loss="log", metric="facebook_group_supporters")
    tab = cmp.table.set_index("curve")
    for name in ("bass", "expsat"):
        assert not tab.loc[name, "converged"]
        assert tab.loc[name, "error"].endswith(
            f"{name} is 0 at t <= 0, so it cannot be fitted on the log scale to the 1 "
            f"observation at or before the origin; use loss='ols' or drop them"
        )
        assert name not in cmp.fits
    assert cmp.best.curve == "logistic"
    t, y, _ = synthetic("bass")
    with pytest.raises(FitError, match="2 observations at or before the origin"):
        reach.fit(np.r_[[50.0, 80.0], y], "expsat", t=np.r_[[-1.0, 0.0], t], loss="robust_log")
    # on the observed scale the same data fit (the point at t = 0 is just a residual)
    assert reach.fit(np.r_[[50.0, 80.0], y], "bass", t=np.r_[[-1.0, 0.0], t]).converged


def test_rows_without_time_or_value_are_left_out_with_a_note():
    t, y, _ = synthetic("logistic")
    t, y = t.copy(), y.copy()
    y[3] = np.nan
    t[7] = np.nan
    res = reach.fit(y, t=t)
    assert res.nobs == len(y) - 2
    assert "2 observations without a value or time were left out" in res.notes
    t0, y0, _ = synthetic("logistic")
    y1 = y0.copy()
    y1[3] = np.nan
    assert "1 observation without a value or time was left out" in reach.fit(y1, t=t0).notes
    assert not any("left out" in n for n in reach.fit(y0, t=t0).notes)


def test_converged_starts_are_counted(example):
    res = reach.fit(example, "logistic", metric="video_views", n_starts=6)
    assert res.converged and 1 <= res.n_starts_ok <= res.n_starts == 6
    # a start that cannot converge is not counted: 1 good start of 2 run to the end
    t, y, theta = synthetic("logistic")
    prob = reach._make_problem(reach.CURVES["logistic"], t, y, np.ones_like(y), "ols")
    _, _, n_ok, _ = reach._solve(prob, [theta, [1e12, 50.0, -40.0]], max_nfev=8)
    assert n_ok == 1


def test_compare_rejects_unknown_arguments(example):
    with pytest.raises(ParameterError, match="unknown"):
        reach.compare(example, metric="video_views", colour="red")


# -- describe -------------------------------------------------------------------------


def test_describe_fittable_case(example):
    d = reach.describe(example)
    assert d.fittable == ("video_views", "forum_posts")
    assert "can be fitted" in d.explanation
    tab = d.table.set_index("metric")
    assert tab.loc["video_views", "n"] == 28
    assert tab.loc["video_views", "n_times"] == 28
    assert (d.min_times, d.min_n) == (4, 5)  # expsat, the simplest default curve: p = 2
    # per-period counts: fitted (and compared) as the increments of the curve
    assert tab.loc["forum_posts", "fittable"]
    assert tab.loc["forum_posts", "reason"] == (
        "enough dated per-period counts (21 at 21 distinct times)"
    )
    counts = reach.compare(example, metric="forum_posts")
    assert counts.best.observation == "per-period" and counts.best.loss in ("nb", "poisson")
    # a curve set without expsat asks for more: logistic and gompertz have p = 3
    d3 = reach.describe(example, curves=["logistic", "gompertz"])
    assert (d3.min_times, d3.min_n) == (5, 6)
    assert d3.fittable == ("video_views", "forum_posts")
    assert "5 or more distinct times" in d3.settings["fittable"]
    strict = reach.describe(example, min_n=30)
    assert strict.fittable == () and "fewer than the 30 needed" in strict.explanation
    dd = json.loads(json.dumps(d.to_dict(), allow_nan=False))
    back = reach.DescriptiveReach.from_dict(dd)
    assert back.to_dict() == dd and str(back) == str(d)
    pd.testing.assert_frame_equal(back.table, d.table)
    pd.testing.assert_frame_equal(back.figures, d.figures)
    assert str(d).startswith(d.explanation + "\nSettings:")
    assert d.settings["kinds"] == "observed, reported"
    assert list(d.params.columns) == [
        "metric",
        "n",
        "first_time",
        "last_time",
        "min",
        "max",
        "last_value",
    ]
    assert not d.has_intervals


# -- plots ----------------------------------------------------------------------------


def test_reach_plot(example_fit):
    fig = example_fit.plot()
    assert isinstance(fig, go.Figure)
    names = [tr.name for tr in fig.data]
    assert any("band" in (n or "") for n in names)
    assert "logistic fit" in names
    assert "timeline events" in names
    assert len(fig.layout.shapes) >= 5  # the case's events as vertical lines
    obs = [tr for tr in fig.data if tr.mode == "markers" and tr.name != "timeline events"]
    assert sum(len(tr.y) for tr in obs) == example_fit.nobs
    symbols = {s for tr in obs for s in tr.marker.symbol}
    assert {"circle", "diamond"} <= symbols  # exact counter readings vs "about" press figures
    assert "source" in obs[0].hovertemplate
    log = example_fit.plot(log_y=True, interval="prediction", show_events=False)
    assert log.layout.yaxis.type == "log"
    assert not log.layout.shapes
    fig.to_json()


def test_compare_plot(example):
    fig = reach.compare(example, metric="video_views").plot(log_y=True)
    assert isinstance(fig, go.Figure)
    lines = [tr for tr in fig.data if tr.mode == "lines"]
    assert len(lines) == 5
    fig.to_json()


# -- bad arguments: ParameterError everywhere --------------------------------------------


@pytest.fixture(scope="module")
def plain_fit():
    t, y, _ = synthetic("logistic")
    return reach.fit(y, t=t)


def _spec(**change):
    kw = dict(
        name="x",
        param_names=("a", "b"),
        bounds=((0, 1), (0, 1)),
        f=None,
        p0=None,
        saturation=None,
        peak_time=None,
        rate_param="a",
        formula="",
    )
    kw.update(change)
    return reach.CurveSpec(**kw)


T, Y, _ = synthetic("logistic")
BAD_ARGUMENTS = {
    # curves and the registry
    "curvespec bounds": lambda ex, f, pf: _spec(bounds=((0, 1),)),
    "curvespec rate_param": lambda ex, f, pf: _spec(rate_param="z"),
    "curvespec scale_params": lambda ex, f, pf: _spec(scale_params=("z",)),
    "register a name": lambda ex, f, pf: reach.register_curve("logistic"),
    "register twice": lambda ex, f, pf: reach.register_curve(reach.CURVES["logistic"]),
    # multiwave
    "multiwave unknown base": lambda ex, f, pf: reach.multiwave("weibull"),
    "multiwave base without t0": lambda ex, f, pf: reach.multiwave("bass", 2),
    "multiwave k = 0": lambda ex, f, pf: reach.multiwave("logistic", 0),
    "multiwave k not whole": lambda ex, f, pf: reach.multiwave("logistic", 2.5),
    "multiwave anchor count": lambda ex, f, pf: reach.multiwave("logistic", 2, anchors=(None,)),
    "multiwave anchors as text": lambda ex, f, pf: reach.multiwave("logistic", 2, anchors="ab"),
    "multiwave unreadable anchor": lambda ex, f, pf: reach.multiwave(
        "logistic", 2, anchors=(None, "not a date")
    ),
    "multiwave event kind without case": lambda ex, f, pf: reach.multiwave(
        "logistic", 2, anchors=(None, "coverage")
    ),
    "multiwave window": lambda ex, f, pf: reach.multiwave("logistic", 2, window=(5, 1)),
    # fit: curve and options
    "unknown curve": lambda ex, f, pf: reach.fit(Y, "weibull", t=T),
    "curve of a wrong type": lambda ex, f, pf: reach.fit(Y, 3, t=T),
    "loss": lambda ex, f, pf: reach.fit(Y, t=T, loss="l1"),
    "alpha out of range": lambda ex, f, pf: reach.fit(Y, t=T, alpha=1.5),
    "alpha as text": lambda ex, f, pf: reach.fit(Y, t=T, alpha="0.05"),
    "n_starts": lambda ex, f, pf: reach.fit(Y, t=T, n_starts=0),
    "seed": lambda ex, f, pf: reach.fit(Y, t=T, seed=-1),
    "f_scale": lambda ex, f, pf: reach.fit(Y, t=T, loss="robust", f_scale=0.0),
    "start length": lambda ex, f, pf: reach.fit(Y, t=T, start=[1.0, 2.0]),
    "start mapping": lambda ex, f, pf: reach.fit(Y, t=T, start={"K": 1.0}),
    "start text": lambda ex, f, pf: reach.fit(Y, t=T, start=["a", "b", "c"]),
    # fit: data
    "array without t": lambda ex, f, pf: reach.fit(Y),
    "times and values differ": lambda ex, f, pf: reach.fit(Y, t=T[:-1]),
    "times as text": lambda ex, f, pf: reach.fit(Y, t=["a"] * len(Y)),
    "values as text": lambda ex, f, pf: reach.fit(["x"] * len(T), t=T),
    "frame without values": lambda ex, f, pf: reach.fit(pd.DataFrame({"t": T, "views": Y})),
    "frame without times": lambda ex, f, pf: reach.fit(pd.DataFrame({"value": Y})),
    "origin": lambda ex, f, pf: reach.fit(Y, t=T, origin="not a date"),
    "weights word": lambda ex, f, pf: reach.fit(Y, t=T, weights="equal"),
    "weights shape": lambda ex, f, pf: reach.fit(Y, t=T, weights=np.ones(3)),
    "weights negative": lambda ex, f, pf: reach.fit(Y, t=T, weights=-np.ones(len(Y))),
    "weights mapping without a level": lambda ex, f, pf: reach.fit(
        ex, metric="video_views", weights={"high": 1.0}
    ),
    "weights mapping value": lambda ex, f, pf: reach.fit(
        ex, metric="video_views", weights={"high": "1", "medium": 1, "low": 1, "unverified": 1}
    ),
    "metric not in the case": lambda ex, f, pf: reach.fit(ex, metric="nope"),
    "kinds": lambda ex, f, pf: reach.fit(ex, metric="video_views", kinds=("rumour",)),
    "min_confidence": lambda ex, f, pf: reach.fit(ex, metric="video_views", min_confidence="sure"),
    # the result
    "conf_int alpha": lambda ex, f, pf: f.conf_int(1.5),
    "conf_int method": lambda ex, f, pf: f.conf_int(method="bayes"),
    "conf_int n_boot": lambda ex, f, pf: f.conf_int(method="bootstrap", n_boot=0),
    "bootstrap_params n_boot": lambda ex, f, pf: f.bootstrap_params(n_boot=2.5),
    "predict interval": lambda ex, f, pf: f.predict([1.0], interval="band"),
    "predict alpha": lambda ex, f, pf: f.predict([1.0], alpha=0),
    "predict times as text": lambda ex, f, pf: f.predict(["soon"]),
    "predict dates without origin": lambda ex, f, pf: pf.predict(pd.DatetimeIndex(["2024-03-07"])),
    "predict bootstrap": lambda ex, f, pf: f.predict([1.0], bootstrap=5),
    "predict seed": lambda ex, f, pf: f.predict([1.0], seed=-1),
    "time_to_share range": lambda ex, f, pf: f.time_to_share(1.5),
    "time_to_share text": lambda ex, f, pf: f.time_to_share("0.9"),
    "peak_time method": lambda ex, f, pf: f.peak_time(method="exact"),
    "milestones shares": lambda ex, f, pf: f.milestones(shares=(2.0,)),
    "from_dict of another type": lambda ex, f, pf: reach.ReachFit.from_dict(
        {**f.to_dict(), "type": "Comparison"}
    ),
    # compare
    "compare unknown argument": lambda ex, f, pf: reach.compare(ex, colour="red"),
    "compare loss": lambda ex, f, pf: reach.compare(ex, metric="video_views", loss="l1"),
    "compare alpha": lambda ex, f, pf: reach.compare(ex, metric="video_views", alpha=2),
    "compare unknown curve": lambda ex, f, pf: reach.compare(ex, ["weibull"], metric="video_views"),
    "compare metric": lambda ex, f, pf: reach.compare(ex, metric="nope"),
    "comparison conf_int alpha": lambda ex, f, pf: reach.compare(
        ex, ["logistic"], metric="video_views"
    ).conf_int(0),
    "comparison from_dict of another type": lambda ex, f, pf: reach.Comparison.from_dict(
        {"type": "ReachFit"}
    ),
    # describe and normalised
    "describe metric": lambda ex, f, pf: reach.describe(ex, metric="nope"),
    "describe min_n": lambda ex, f, pf: reach.describe(ex, min_n=0),
    "describe curves": lambda ex, f, pf: reach.describe(ex, curves=["nope"]),
    "describe kinds": lambda ex, f, pf: reach.describe(ex, kinds=("rumour",)),
    "describe a case id": lambda ex, f, pf: reach.describe("synthetic-example"),
    "normalised min_points": lambda ex, f, pf: reach.normalised([ex], min_points=0),
}


@pytest.mark.parametrize("what", list(BAD_ARGUMENTS))
def test_bad_arguments_raise_parameter_error(what, example, example_fit, plain_fit):
    with pytest.raises(ParameterError):
        BAD_ARGUMENTS[what](example, example_fit, plain_fit)


def test_a_missing_metric_names_the_metrics_there_are(example):
    for call in (
        lambda: reach.fit(example, metric="views"),
        lambda: reach.compare(example, metric="views"),
        lambda: reach.describe(example, metric="views"),
    ):
        with pytest.raises(ParameterError) as err:
            call()
        assert str(err.value) == (
            "case 'synthetic-example' has no reach metric 'views'; it has: video_views, forum_posts"
        )


def test_observation_table_is_built_on_first_read_and_matches_the_data():
    """A fit keeps its observations as column arrays until someone reads ``obs``; the
    table it then builds is the documented one, in time order, and stays the same object."""
    t = np.array([4.0, 0.0, 2.0, 1.0, 3.0, 5.0, 6.0])
    y = np.array([70.0, 5.0, 40.0, 20.0, 60.0, 75.0, 78.0])
    t_sorted, y_sorted = np.sort(t), y[np.argsort(t)]
    res = ck.reach.fit(y_sorted, "logistic", t=t_sorted)
    y_sorted[:] = 0.0  # the caller's array changes before the table is built; the fit's does not
    assert not isinstance(res.__dict__["_obs_raw"], pd.DataFrame)  # nothing built yet
    assert res.nobs == 7 and res.df_resid == 4
    res.conf_int()
    assert not isinstance(res.__dict__["_obs_raw"], pd.DataFrame)
    obs = res.obs
    assert list(obs.columns) == [
        "t",
        "time",
        "y",
        "weight",
        "source",
        "confidence",
        "qualifier",
        "kind",
        "quote",
    ]
    assert obs["t"].tolist() == sorted(t.tolist())
    assert obs["y"].tolist() == [5.0, 20.0, 40.0, 60.0, 70.0, 75.0, 78.0]
    assert set(obs["source"]) == {"data"} and set(obs["confidence"]) == {"high"}
    assert res.obs is obs
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.obs = obs
    refit = ck.reach.fit(obs.rename(columns={"y": "value"})[["t", "value"]], "logistic")
    assert np.allclose(refit.theta, res.theta, rtol=1e-9)
