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


def test_profile_interval_coverage():
    # issue #9: on simulated data with a known e the 95 % interval covers it at least
    # 90 % of the time (measured 88 % before the profile followed its branches and was
    # calibrated; benchmarks/bench_intervention.py --coverage runs 300 data sets at each
    # of e = 0.5, 0.3, 0.6 and -0.3)
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


def _nth(seed, k, e=0.5):
    rng = np.random.default_rng(seed)
    for _ in range(k + 1):
        df, _ = _sim_counts(rng, e=e)
    return df


def _profile_by_brute_force(fit, df, v):
    """max logL with e = v, every start (the curve's own, delta and saturation varied,
    and the fit) run to convergence one by one."""
    from casekit.reach._count_solver import _Counts, _scoring
    from casekit.reach._solver import _starts, _Transform

    spec = fit.spec
    a = df["t"].to_numpy(float)
    b, y = a + 1, df["value"].to_numpy(float)
    cp = _Counts(spec, a, b, y, np.ones_like(y), "nb")
    sv = np.array([y.sum(), 1, 1, 1, 1])
    tr = _Transform(cp.lo / sv, cp.hi / sv)
    starts = [np.array(fit.theta)]
    for s in _starts(spec, b, np.cumsum(y), None, 8, 0):
        for d, k in ((0.01, 1), (0.05, 1), (0.15, 1), (0.15, 5)):
            starts.append(np.array([s[0] * k, s[1], s[2], d, 0.0]))
    best = -np.inf
    for s in starts:
        s[4] = v
        out = _scoring(cp, tr, sv, s, 400, None, np.array([1, 1, 1, 1, 0], bool), 1e-9)
        if out is not None and out[3]:
            best = max(best, out[1])
    return best


def test_profile_ends_agree_with_a_brute_force_profile():
    # a data set whose profile switches branch near its upper end (a saturating curve
    # with slow attention decay against a faster decay of a larger saturation): the
    # interval used to stop at 0.620 where the profile, refitted from every start,
    # is at 1.6 on the deviance scale, well inside
    from scipy import special

    df = _nth(42, 16)
    fit = ck.reach.fit(df, "logistic", response=[8.0], loss="nb")
    r = fit.response_effect.iloc[0]
    n, p = len(df), fit.spec.k + 1
    mu = fit.fitted
    y = df["value"].to_numpy(float)
    scale = float(np.sum((y - mu) ** 2 / (mu + mu**2 / fit.dispersion))) / (n - p)
    crit = scale * special.fdtri(1, n - p, 0.95)
    ll_max = fit.loglik
    for end, inward in ((r["lower"], 1), (r["upper"], -1)):
        at_end = 2 * (ll_max - _profile_by_brute_force(fit, df, end))
        inside = 2 * (ll_max - _profile_by_brute_force(fit, df, end + inward * 0.01))
        outside = 2 * (ll_max - _profile_by_brute_force(fit, df, end - inward * 0.01))
        assert at_end == pytest.approx(crit, abs=0.05)
        assert inside < crit < outside
    assert r["upper"] > 0.64


class _TwoBranches:
    """A profile problem with two branches: theta = (v, b), logL = -(v - b)^2 / 2 - c_b
    (b = 1: c = 0; b = 5: c = 1); a refit keeps the branch of its start, a search finds
    the better one. Its 95 % chi-square set is [-0.96, 2.96] and [3.64, 6.36]."""

    lo, hi, scale = np.array([-10.0, -10.0]), np.array([10.0, 10.0]), np.ones(2)

    @staticmethod
    def _ll(v, b):
        return -0.5 * (v - b) ** 2 - (0.0 if b == 1.0 else 1.0)

    def refit(self, v, start, phi):
        b = 1.0 if abs(start[1] - 1.0) < abs(start[1] - 5.0) else 5.0
        return np.array([v, b]), self._ll(v, b), None

    def search(self, v, seeds, floor, current=None):
        b = max((1.0, 5.0), key=lambda b_: self._ll(v, b_))
        return np.array([v, b]), self._ll(v, b), None

    def local(self, theta, phi):
        return np.array([-(theta[0] - theta[1]), 0.0]), np.eye(2)

    def loglik(self, theta, phi):
        return self._ll(theta[0], theta[1])


def test_a_profile_with_two_modes_reports_their_hull():
    from casekit.reach._profile import profile_interval

    R = _TwoBranches()
    alone = profile_interval(R, np.array([1.0, 1.0]), None, 0.0, 0, 1.0, 0.05)
    assert alone.modes == 1 and alone.upper == pytest.approx(2.96, abs=2e-3)
    # the fit's other local maximum (v = 5, 2 (0 - (-1)) = 2 < 3.84) is in the set
    both = profile_interval(
        R, np.array([1.0, 1.0]), None, 0.0, 0, 1.0, 0.05, seeds=[(np.array([5.0, 5.0]), None)]
    )
    assert both.modes == 2
    assert both.lower == pytest.approx(-0.96, abs=2e-3)
    assert both.upper == pytest.approx(5.0 + np.sqrt(3.8415 - 2.0), abs=2e-3)
    # F(1, 30) with the dispersion 1.2: the ends move out, sqrt(1.2 * 4.171) = 2.237
    wide = profile_interval(R, np.array([1.0, 1.0]), None, 0.0, 0, 1.0, 0.05, (), 1.2, 30)
    assert wide.upper == pytest.approx(1.0 + 2.2373, abs=2e-3)


@pytest.mark.parametrize("base", BASES + ["multi"])
def test_analytic_derivatives_match_differences(base):
    from casekit.reach._derivatives import curve_jac, curve_jac_rows, curve_rows

    b = ck.reach.multiwave("logistic", 2) if base == "multi" else ck.reach.CURVES[base]
    th = np.array(_theta(b) if base != "multi" else [600.0, 0.5, 5.0, 400.0, 0.3, 20.0])
    t = np.linspace(-3.0, 40.0, 60)
    specs = [
        (b, th),
        (intervention(b, [5.0, 12.0]), np.r_[th, 0.05, 0.3, -0.4]),
        (intervention(b, [5.0, 12.0], e=[0.2, "estimate"], delta=0.1), np.r_[th, 0.6]),
        (intervention(b, [4.0]), np.r_[th, 0.0, 0.4]),  # no decay: dA/d delta = -t^2 / 2
    ]
    for spec, x in specs:
        f, J = curve_jac(spec, t, x)
        np.testing.assert_allclose(f, spec(t, *x), rtol=1e-12)
        for j in range(len(x)):
            h = 1e-6 * max(abs(x[j]), 1e-2)
            up, dn = x.copy(), x.copy()
            up[j] += h
            dn[j] -= h if spec.bounds[j][0] < x[j] - h else 0.0
            num = (spec(t, *up) - spec(t, *dn)) / (up[j] - dn[j])
            scale = np.max(np.abs(num)) + 1e-12
            assert np.max(np.abs(J[:, j] - num)) / scale < 2e-4, (spec.name, j)
        P = np.vstack([x, x * 1.01, x * 0.98])
        F, JJ = curve_jac_rows(spec, t, P)
        for k in range(3):
            fk, Jk = curve_jac(spec, t, P[k])
            np.testing.assert_allclose(F[k], fk, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(JJ[k], Jk, rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(curve_rows(spec, t, P), F, rtol=1e-12, atol=1e-9)


def test_a_curve_without_derivatives_is_fitted_by_differences():
    from casekit.reach._derivatives import curve_jac

    hill = ck.reach.CurveSpec(
        name="hill-test",
        param_names=("K", "h", "n"),
        bounds=((0, np.inf), (1e-9, np.inf), (0.1, 20)),
        f=lambda t, K, h, n: K * np.maximum(t, 0) ** n / (h**n + np.maximum(t, 0) ** n),
        p0=lambda t, y: [[1.2 * y.max(), float(np.median(t)), 2.0]],
        saturation=lambda K, h, n: K,
        peak_time=lambda K, h, n: h,
        rate_param="n",
        scale_params=("K",),
        formula="K t^n / (h^n + t^n)",
    )
    assert curve_jac(hill, np.array([1.0, 2.0]), np.array([10.0, 1.0, 2.0])) is None
    t = np.arange(1.0, 30.0)
    y = hill(t, 1000.0, 8.0, 3.0) * (1 + 0.01 * np.sin(t))
    fit = ck.reach.fit(y, hill, t=t)
    np.testing.assert_allclose(fit.params.to_numpy(), [1000.0, 8.0, 3.0], rtol=0.05)


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
