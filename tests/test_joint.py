"""Joint fits of several metrics of one story (casekit.reach.joint): shared timing, one
scale per metric, each metric with its own observation model."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import casekit as ck
from casekit.exceptions import InsufficientDataError, ParameterError
from casekit.reach.joint import JointReachFit, fit_joint

LOGISTIC = ck.reach.CURVES["logistic"]
TRUE = {"r": 0.7, "t0": 5.0, "K_views": 50_000.0, "K_posts": 3_000.0, "phi": 20.0, "sd": 0.1}


def simulate(rng, n_views: int = 10, last_day: int = 16):
    """One story seen twice: a view counter read at irregular times with log-normal noise,
    and daily post counts (negative binomial), both from one logistic curve."""
    tv = np.sort(rng.uniform(0.5, 12.0, n_views))
    yv = LOGISTIC(tv, TRUE["K_views"], TRUE["r"], TRUE["t0"]) * np.exp(
        rng.normal(0.0, TRUE["sd"], n_views)
    )
    days = np.arange(-2.0, last_day)
    mu = LOGISTIC(days + 1, TRUE["K_posts"], TRUE["r"], TRUE["t0"]) - LOGISTIC(
        days, TRUE["K_posts"], TRUE["r"], TRUE["t0"]
    )
    yp = rng.negative_binomial(TRUE["phi"], TRUE["phi"] / (TRUE["phi"] + mu)).astype(float)
    return (
        pd.DataFrame({"t": tv, "value": yv}),
        pd.DataFrame({"t": days, "value": yp, "period_days": 1.0}),
    )


LOSSES = {"views": "log", "posts": "nb"}


@pytest.fixture(scope="module")
def sim():
    views, posts = simulate(np.random.default_rng(11))
    joint = fit_joint({"views": views, "posts": posts}, loss=LOSSES)
    return views, posts, joint


def test_joint_recovers_the_shared_timing_more_precisely_than_either_metric(sim):
    views, posts, joint = sim
    assert joint.shared == ("r", "t0")
    assert joint.param_names == ("r", "t0", "K[views]", "K[posts]")
    ci = joint.conf_int()
    for k in ("r", "t0"):
        assert ci.loc[k, "lower"] <= TRUE[k] <= ci.loc[k, "upper"]
    for k, true in (("K[views]", TRUE["K_views"]), ("K[posts]", TRUE["K_posts"])):
        assert ci.loc[k, "lower"] <= true <= ci.loc[k, "upper"]
    alone = [ck.reach.fit(views, loss="log"), ck.reach.fit(posts, loss="nb")]
    width = ci["upper"] - ci["lower"]
    for single in alone:
        w1 = single.conf_int()["upper"] - single.conf_int()["lower"]
        for k in ("r", "t0"):
            assert width[k] < w1[k], (k, width[k], w1[k], single.metric)
    # the metrics come from one curve: the test of a shared timing does not reject it
    assert joint.agreement["df1"] == 2 and joint.agreement["p_value"] > 0.05
    assert "no evidence against a shared timing" in str(joint)


def test_joint_intervals_cover_the_truth_in_a_simulation():
    """150 data sets, each fitted jointly: the 95 % intervals of the shared r and t0.

    Measured with 1,000 other data sets: coverage 0.940 (r) and 0.934 (t0), Monte-Carlo
    SE 0.008; the single negative-binomial fit of the counts alone (ck.reach.fit) covers
    0.924 and 0.919 on the same data sets.
    """
    rng = np.random.default_rng(2024)
    hits = {"r": 0, "t0": 0}
    n = 0
    for _ in range(150):
        views, posts = simulate(rng)
        joint = fit_joint({"views": views, "posts": posts}, loss=LOSSES)
        ci = joint.conf_int()
        n += 1
        for k in hits:
            hits[k] += bool(ci.loc[k, "lower"] <= TRUE[k] <= ci.loc[k, "upper"])
    for k, h in hits.items():
        cover = h / n
        se = math.sqrt(0.95 * 0.05 / n)
        assert cover >= 0.95 - 3 * se, f"{k}: coverage {cover:.3f} (MC SE {se:.3f}, n = {n})"


def _hand_loglik(views, posts, theta, phi):
    """The joint log-likelihood written out with scipy.stats: log-normal readings with
    the variance at its maximum-likelihood value, negative-binomial daily counts."""
    r, t0, kv, kp = theta
    yv, tv = views["value"].to_numpy(), views["t"].to_numpy()
    resid = np.log(yv) - np.log(LOGISTIC(tv, kv, r, t0))
    sigma = math.sqrt(np.mean(resid**2))
    ll_views = np.sum(stats.norm.logpdf(resid, 0.0, sigma) - np.log(yv))
    d = posts["t"].to_numpy()
    mu = LOGISTIC(d + 1, kp, r, t0) - LOGISTIC(d, kp, r, t0)
    ll_posts = np.sum(stats.nbinom.logpmf(posts["value"].to_numpy(), phi, phi / (phi + mu)))
    return float(ll_views + ll_posts)


def test_joint_loglik_is_the_sum_of_the_two_metrics_by_hand(sim):
    views, posts, joint = sim
    phi = joint.metric_fit("posts").dispersion
    hand = _hand_loglik(views, posts, joint.theta, phi)
    assert joint.loglik == pytest.approx(hand, rel=1e-10)
    parts = joint.metric_fit("views").loglik + joint.metric_fit("posts").loglik
    assert joint.loglik == pytest.approx(parts, rel=1e-12)


def test_joint_optimum_matches_a_generic_optimiser(sim):
    """Nelder-Mead on the hand-written log-likelihood, from a start away from the answer,
    finds the same maximum (log scale for the positive parameters)."""
    views, posts, joint = sim
    phi = joint.metric_fit("posts").dispersion

    def nll(x):
        r, t0, lkv, lkp, lphi = x
        return -_hand_loglik(
            views, posts, (math.exp(r), t0, math.exp(lkv), math.exp(lkp)), math.exp(lphi)
        )

    x0 = np.array([math.log(0.5), 4.0, math.log(40_000.0), math.log(2_000.0), math.log(10.0)])
    res = optimize.minimize(
        nll,
        x0,
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 40_000, "maxfev": 40_000},
    )
    got = np.array([math.exp(res.x[0]), res.x[1], math.exp(res.x[2]), math.exp(res.x[3])])
    assert -res.fun <= joint.loglik + 1e-6
    np.testing.assert_allclose(joint.theta, got, rtol=2e-4)
    assert phi == pytest.approx(math.exp(res.x[4]), rel=2e-3)


def test_a_series_fitted_twice_reproduces_its_single_fit():
    """Two copies of one series: the estimates are the single fit's, and the shared
    parameters' variance is half the single fit's times (n - 3) / (n - 2): each copy
    spends 2 of the 4 joint parameters."""
    case = ck.load_case("synthetic-example")
    s = case.series("video_views")
    single = ck.reach.fit(s, loss="log")
    joint = fit_joint({"a": s, "b": s}, loss="log")
    for k in ("r", "t0"):
        assert joint.params[k] == pytest.approx(single.params[k], rel=1e-6)
    for m in ("a", "b"):
        assert joint.params[f"K[{m}]"] == pytest.approx(single.params["K"], rel=1e-6)
    n = single.nobs
    factor = math.sqrt((n - 3) / (2 * (n - 2)))
    for k in ("r", "t0"):
        assert joint.bse[k] == pytest.approx(single.bse[k] * factor, rel=1e-4)
    assert joint.agreement["statistic"] == pytest.approx(0.0, abs=1e-8)


def test_metric_fit_is_an_ordinary_reach_fit_with_the_joint_uncertainty(sim):
    views, posts, joint = sim
    f = joint.metric_fit("posts")
    assert isinstance(f, ck.reach.ReachFit)
    assert f.observation == "per-period" and f.loss == "nb" and f.metric == "posts"
    np.testing.assert_allclose(f.params.to_numpy(), joint.params[["K[posts]", "r", "t0"]])
    block = joint.cov.loc[["K[posts]", "r", "t0"], ["K[posts]", "r", "t0"]].to_numpy()
    np.testing.assert_allclose(f.cov_matrix, block)
    # the joint timing is sharper than the counts alone give it
    alone = ck.reach.fit(posts, loss="nb")
    assert f.bse["t0"] < alone.bse["t0"]
    with pytest.raises(ParameterError, match="no metric 'nope'"):
        joint.metric_fit("nope")


def test_delay_cost_of_a_metric_of_a_joint_fit_with_the_response_inside():
    case = ck.load_case("synthetic-example")
    joint = fit_joint(
        case, ["video_views", "forum_posts"], loss={"video_views": "log"}, response=True
    )
    assert {"delta", "e_1"} <= set(joint.shared)
    eff = joint.response_effect
    assert eff["status"].tolist() == ["estimated"]
    assert eff["lower"].iloc[0] < eff["e"].iloc[0] < eff["upper"].iloc[0]
    back = JointReachFit.from_dict(json.loads(json.dumps(joint.to_dict(), allow_nan=False)))
    assert str(back) == str(joint) and "profile-likelihood interval" in str(joint)
    pd.testing.assert_frame_equal(back.response_effect, eff)
    views = joint.metric_fit("video_views")
    pd.testing.assert_frame_equal(views.response_effect, eff)
    dc = ck.response.delay_cost(views, delays=[0, 2, 4, float("inf")], n_draws=100)
    assert dc.actual_delay == 4.0
    # the counterfactual at the actual delay is the joint fit's curve for this metric
    assert dc.actual["final_reach"] == pytest.approx(views.saturation, rel=1e-9)
    assert dc.table["final_reach"].is_monotonic_increasing


def test_the_result_contract(sim, tmp_path):
    _, _, joint = sim
    d = json.loads(json.dumps(joint.to_dict(), allow_nan=False))
    back = JointReachFit.from_dict(d)
    assert back.to_dict() == d and str(back) == str(joint)
    pd.testing.assert_frame_equal(back.summary, joint.summary)
    text = str(joint)
    assert text.split("\n")[0].startswith("joint logistic fit of 2 metrics")
    assert "\nSettings:\n" in text and "profiled separately" in text
    s = joint.summary
    assert list(s.columns) == ["kind", "estimate", "std_err", "lower", "upper", "at_bound"]
    assert {"saturation[views]", "saturation[posts]", "t90"} <= set(s.index)
    assert s.loc["saturation[posts]", "estimate"] == pytest.approx(joint.params["K[posts]"])
    tab = joint.table
    assert set(tab["metric"]) == {"views", "posts"} and len(tab) == joint.nobs
    fig = joint.plot()
    assert len(fig.data) == 5  # band, curve and readings; expected and observed counts
    # nested intervals, all within the parameters' bounds
    wide, narrow = joint.conf_int(0.05), joint.conf_int(0.5)
    assert (narrow["lower"] >= wide["lower"]).all() and (narrow["upper"] <= wide["upper"]).all()
    with pytest.raises(ParameterError):
        joint.conf_int(method="profile")


# -- what the data cannot identify -----------------------------------------------------


def test_a_single_metric_is_refused():
    case = ck.load_case("synthetic-example")
    for metric in (["video_views"], "video_views"):
        with pytest.raises(InsufficientDataError, match="two or more metrics.*video_views alone"):
            fit_joint(case, metric)


def test_a_metric_with_too_few_times_is_named(sim):
    views, posts, _ = sim
    one = views.iloc[[3]]
    with pytest.raises(
        InsufficientDataError, match=r"metric 'views' has 1 observation: .* 3 or more"
    ):
        fit_joint({"views": one, "posts": posts}, loss=LOSSES)
    two_times = pd.DataFrame({"t": [2.0, 2.0, 6.0], "value": [9e3, 1e4, 4e4]})
    with pytest.raises(
        InsufficientDataError, match=r"'views' has 3 observations at 2 distinct times"
    ):
        fit_joint({"views": two_times, "posts": posts}, loss=LOSSES)


def test_metrics_that_do_not_overlap_in_time_are_refused(sim):
    views, posts, _ = sim
    late = posts.assign(t=posts["t"] + 40.0)
    with pytest.raises(InsufficientDataError, match="do not overlap in time.*views.*posts"):
        fit_joint({"views": views, "posts": late}, loss=LOSSES)


def test_too_few_times_together_are_refused():
    t = [1.0, 2.0, 3.0]
    a = pd.DataFrame({"t": t, "value": [10.0, 50.0, 90.0]})
    b = pd.DataFrame({"t": t, "value": [1.0, 6.0, 9.0]})
    with pytest.raises(InsufficientDataError, match="3 distinct times.*needs 5 or more"):
        fit_joint({"a": a, "b": b})


def test_a_response_effect_the_data_do_not_straddle_is_refused(sim):
    views, posts, _ = sim
    with pytest.raises(InsufficientDataError, match="cannot be estimated"):
        fit_joint({"views": views, "posts": posts}, loss=LOSSES, response=[40.0])


def test_bad_arguments(sim):
    views, posts, _ = sim
    data = {"views": views, "posts": posts}
    case = ck.load_case("synthetic-example")
    with pytest.raises(ParameterError, match="no reach metric 'nope'"):
        fit_joint(case, ["video_views", "nope"])
    with pytest.raises(ParameterError, match="named twice"):
        fit_joint(case, ["video_views", "video_views"])
    with pytest.raises(ParameterError, match="name the metrics"):
        fit_joint(case)
    with pytest.raises(ParameterError, match="robust losses: fit the metric alone"):
        fit_joint(data, loss={"views": "robust_log"})
    with pytest.raises(ParameterError, match="'posts' is per-period counts.*not 'ols'"):
        fit_joint(data, loss="ols")
    with pytest.raises(ParameterError, match="loss names metric 'other'"):
        fit_joint(data, loss={"other": "log"})
    with pytest.raises(ParameterError, match="mapping of metric name"):
        fit_joint(views)
    dated = views.assign(time=pd.Timestamp("2024-01-01") + pd.to_timedelta(views["t"], unit="D"))
    with pytest.raises(ParameterError, match="some metrics are dated"):
        fit_joint({"views": dated.drop(columns="t"), "posts": posts}, loss=LOSSES)
