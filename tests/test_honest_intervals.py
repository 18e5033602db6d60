"""Honest intervals of cumulative growth-curve fits (issue #9).

Milestones get profile-likelihood (or bootstrap) intervals that follow their skew, positive
quantities never get negative bounds, the bootstrap reaches its nominal coverage, a
parameter at or near a bound of the fitter is flagged, and a single low-confidence reading
that drives a least-squares fit is named.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

import casekit as ck
from casekit import format as fmt
from casekit import reach
from casekit.reach.curves import CurveSpec
from casekit.report import views as V


@pytest.fixture(scope="module")
def wiesenhof():
    return ck.load_case("werder-bremen-wiesenhof")


@pytest.fixture(scope="module")
def wfit(wiesenhof):
    return reach.fit(wiesenhof, "logistic")


def _logistic_t90() -> CurveSpec:
    """The logistic reparameterised with the time to 90 % as its third parameter."""
    c = math.log(9.0)

    def f(t, K, r, t90):
        return reach.CURVES["logistic"].f(t, K, r, t90 - c / r)

    return CurveSpec(
        name="logistic_t90",
        param_names=("K", "r", "t90"),
        bounds=((0.0, np.inf), (0.0, np.inf), (-np.inf, np.inf)),
        f=f,
        p0=lambda t, y: [[1.05 * float(np.max(y)), 1.0, float(np.median(t)) + 2.0]],
        saturation=lambda K, r, t90: K,
        peak_time=lambda K, r, t90: t90 - c / r,
        rate_param="r",
        scale_params=("K",),
        formula="K / (1 + exp(-r (t - t90) - log 9))",
    )


# --- milestones: profile and bootstrap intervals that follow the skew ----------------------


def test_wiesenhof_t90_starts_at_2_9_days_not_2_7(wfit):
    """The issue's figures: the delta method puts the lower end of t90 at 2.7 days, the
    profile and the (percentile) bootstrap at 2.9."""
    ms = wfit.milestones()
    t90 = ms.loc["t90"]
    assert t90["method"] == "profile"
    assert round(t90["lower"], 1) == 2.9 and round(t90["upper"], 1) == 5.0
    # the symmetric delta interval of the same estimate and standard error
    q = reach.intervals.t_quantile(wfit, wfit.alpha)
    assert round(t90["estimate"] - q * t90["std_err"], 1) == 2.7
    # the bootstrap: its percentiles start at 2.9 too; the bootstrap-t interval, a little
    # wider (it corrects the percentiles' undercoverage), is as skewed
    reps = wfit.bootstrap_params(1000).to_numpy()
    assert round(np.quantile(wfit._share_fun(0.9)(*reps.T), 0.025), 1) == 2.9
    boot = wfit.time_to_share(0.9, method="bootstrap", n_boot=1000)
    assert boot["method"] == "bootstrap-t" and boot["lower"] > 2.75
    assert boot["upper"] - t90["estimate"] > 1.3 * (t90["estimate"] - boot["lower"])
    # the summary and the prose show the profile interval
    assert wfit.summary.loc["t90", "method"] == "profile"
    assert "90 % of the final reach at 3.8 days (2.9–5.0)" in str(wfit)
    assert "Milestones (95 % intervals, profile likelihood)" in str(wfit)


def test_profile_of_t90_is_the_profile_of_the_reparameterised_curve(wiesenhof, wfit):
    """Refit the curve with t90 as a parameter: its profile-t interval (the R-checked
    conf_int(method="profile")) is the milestone's profile interval."""
    d = wfit.data
    re = reach.fit(d["y"].to_numpy(), _logistic_t90(), t=d["t"].to_numpy())
    assert re.params["t90"] == pytest.approx(wfit.time_to_share(0.9)["estimate"], rel=1e-6)
    ref = re.conf_int(method="profile").loc["t90"]
    mine = wfit.milestones().loc["t90"]
    assert mine["lower"] == pytest.approx(ref["lower"], rel=1e-4)
    assert mine["upper"] == pytest.approx(ref["upper"], rel=1e-4)
    # t50 of the logistic is t0, a parameter: same interval as its parameter profile
    prof = wfit.conf_int(method="profile")
    t50 = wfit.milestones().loc["t50"]
    assert (t50["lower"], t50["upper"]) == pytest.approx(
        (prof.loc["t0", "lower"], prof.loc["t0", "upper"]), rel=1e-5
    )


def test_profile_interval_is_where_the_refit_with_t90_fixed_costs_q_squared(wfit):
    """At each end of t90's interval, the best fit with t90 held there has
    RSS = RSS_hat + q^2 s^2 (the definition of the profile-t interval)."""
    from scipy import optimize, stats

    d = wfit.data
    t, y = d["t"].to_numpy(), d["y"].to_numpy()
    q = stats.t.ppf(0.975, wfit.df_resid)
    target = wfit.rss + q**2 * wfit.rss / wfit.df_resid
    spec = _logistic_t90()
    for end in ("lower", "upper"):
        v = wfit.milestones().loc["t90", end]
        best = min(
            (
                optimize.least_squares(
                    lambda u, v=v: y - spec.f(t, u[0] * 1e4, u[1], v), x0, xtol=1e-14, ftol=1e-14
                )
                for x0 in ([2.0, 1.0], [2.0, 0.6], [2.3, 1.5])
            ),
            key=lambda s: s.cost,
        )
        assert float(best.fun @ best.fun) == pytest.approx(target, rel=1e-4)


def test_methods_are_said_and_explicit_methods_work(wfit):
    for method, word in (("delta", "delta (log scale)"), ("profile", "profile")):
        ms = wfit.milestones(method=method)
        assert list(ms.columns) == list(reach.milestones.MILESTONE_COLUMNS)
        assert ms.loc["t90", "method"] == word
    # the delta interval on the log scale: est * exp(+-q se / est)
    ms = wfit.milestones(method="delta")
    q = reach.intervals.t_quantile(wfit, wfit.alpha)
    est, se = ms.loc["t90", "estimate"], ms.loc["t90", "std_err"]
    assert ms.loc["t90", "lower"] == pytest.approx(est * math.exp(-q * se / est))
    with pytest.raises(ck.ParameterError, match="method"):
        wfit.milestones(method="symmetric")
    rob = reach.fit(wfit.data[["t", "y"]].rename(columns={"y": "value"}), loss="robust")
    with pytest.raises(ck.FitError, match="least-squares"):
        rob.milestones(method="profile")
    assert rob.milestones().loc["t90", "method"] == "delta (log scale)"


def test_sums_of_waves_default_to_the_delta_method_and_can_be_profiled():
    cmp = reach.compare(ck.load_case("united-breaks-guitars"))
    best = cmp.best
    assert best.curve == "logisticx2"
    s = best.summary
    assert (s.loc[["t50", "t90", "t99"], "method"] == "delta (log scale)").all()
    assert (s.loc[["t50", "t90", "t99"], "lower"] > 0).all()
    prof = best.time_to_share(0.5, method="profile")
    # the second wave may be smaller: half the final reach may come in the first wave
    assert prof["method"] == "profile" and prof["lower"] < 0.3 * s.loc["t50", "lower"]
    assert prof["upper"] > s.loc["t50", "estimate"]


# --- positive quantities -------------------------------------------------------------------


def test_a_rate_never_gets_a_negative_bound():
    """United Breaks Guitars: the second wave's rate r_2 = 0.020 +- 0.016 gave
    [-0.011, 0.052]; it is now computed on the log scale, the other terms unchanged."""
    best = reach.compare(ck.load_case("united-breaks-guitars")).best
    ci, se = best.conf_int(), best.bse
    q = reach.intervals.t_quantile(best, best.alpha)
    r2, s2 = best.params["r_2"], se["r_2"]
    assert r2 - q * s2 < 0  # the symmetric interval would cross 0
    assert ci.loc["r_2", "lower"] == pytest.approx(r2 * math.exp(-q * s2 / r2))
    assert ci.loc["r_2", "upper"] == pytest.approx(r2 * math.exp(q * s2 / r2))
    others = [n for n in best.param_names if n != "r_2"]
    np.testing.assert_allclose(ci.loc[others, "lower"], best.params[others] - q * se[others])
    assert best.summary.loc["r_2", "method"] == "asymptotic (log scale)"
    assert (best.conf_int(method="bootstrap", n_boot=200)["lower"].loc[["K_1", "r_2"]] > 0).all()


def test_a_profile_side_that_never_closes_ends_at_the_bound(wiesenhof):
    bass = reach.fit(wiesenhof, "bass")
    ci = bass.conf_int(method="profile")
    assert ci.loc["q", "lower"] == 0.0  # was -inf
    assert ci.loc["q", "upper"] > bass.params["q"]


def _petition():
    """Signatures read six times while still growing (a petition): few readings, a wide
    uncertainty; the symmetric delta method puts Bass' t90 at [6.5, 45.1] days."""
    t = np.array([1, 3, 6, 10, 15, 21.0])
    rng = np.random.default_rng(11)
    y = reach.CURVES["logistic"].f(t, 50000, 0.25, 12) * np.exp(rng.normal(0, 0.08, t.size))
    return t, y


@pytest.mark.parametrize("curve", ["logistic", "gompertz", "bass", "richards"])
@pytest.mark.parametrize("method", ["auto", "delta", "profile", "bootstrap"])
def test_times_and_saturations_never_get_negative_bounds(curve, method):
    t, y = _petition()
    fit = reach.fit(y, curve, t=t)
    ms = fit.milestones(method=method, n_boot=300)
    times = ms.drop(index="saturation")
    assert (times["lower"] >= 0).all() and (times["upper"] >= times["lower"]).all()
    # the saturation never falls below the largest reading
    assert ms.loc["saturation", "lower"] >= y.max()
    assert ms.loc["saturation", "upper"] >= ms.loc["saturation", "lower"]


def test_an_open_side_is_infinite_and_said_in_words():
    t, y = _petition()
    bass = reach.fit(y, "bass", t=t)
    t90 = bass.milestones().loc["t90"]
    assert t90["method"] == "profile" and t90["upper"] == math.inf
    assert "no upper limit from the data" in str(bass)


def test_the_saturation_floor_is_the_largest_counted_reading(wfit):
    """Wiesenhof: 20,000 members counted (exact, medium); the profile interval of the
    final reach would start at 18,404."""
    ms = wfit.milestones()
    prof_k = wfit.conf_int(method="profile").loc["K"]
    assert prof_k["lower"] == pytest.approx(18404, abs=1)
    floor = reach.milestones.saturation_floor(wfit)
    assert floor == 20000
    assert ms.loc["saturation", "lower"] == floor
    assert ms.loc["saturation", "upper"] == pytest.approx(prof_k["upper"], rel=1e-5)
    assert ms.loc["saturation", "method"] == "profile, floored at the largest reading"
    # readings that are not a minimum (about, up to, nearly) or weak do not set the floor
    d = wfit.data.assign(qualifier="about")
    assert reach.milestones.saturation_floor(reach.fit(d.rename(columns={"y": "value"}))) == 0
    text = str(wfit)
    assert "its lower limit is the largest reading" in text


# --- the bootstrap reaches its nominal coverage ------------------------------------------


def test_bootstrap_t_intervals_reach_95_percent():
    """400 data sets of n = 15 with log-normal noise (sd 0.1 on the log scale), fitted
    with loss="log"; 200 bootstrap replicates each.

    The bootstrap-t intervals covered 95.8, 95.5, 93.8 and 94.2 % (K, r, t0, t90); the
    percentile intervals of the same replicates 93.5, 92.8, 92.3 and 92.8 % (90-92 % with
    another seed; the issue measured 89-91 %). The Monte-Carlo standard error of one
    coverage is sqrt(0.95 x 0.05 / 400) = 1.1 points, so a coverage of 89 % fails the
    92 % threshold below by almost 3 of them.
    """
    spec = reach.CURVES["logistic"]
    theta = np.array([1000.0, 0.8, 6.0])
    t90 = 6.0 + math.log(9) / 0.8
    t = np.arange(15.0)
    mu = spec.f(t, *theta)
    rng = np.random.default_rng(2024)
    n_rep, n_boot = 400, 200
    hits, pct = np.zeros(4), np.zeros(4)
    truth = np.r_[theta, t90]
    for i in range(n_rep):
        y = mu * np.exp(rng.normal(0.0, 0.1, t.size))
        fit = reach.fit(y, t=t, loss="log", n_starts=1)
        ci = fit.conf_int(method="bootstrap", n_boot=n_boot, seed=i)
        m = fit.time_to_share(0.9, method="bootstrap", n_boot=n_boot, seed=i)
        lo = np.r_[ci["lower"].to_numpy(), m["lower"]]
        hi = np.r_[ci["upper"].to_numpy(), m["upper"]]
        hits += (lo <= truth) & (truth <= hi)
        reps = fit.bootstrap_params(n_boot, seed=i).to_numpy()  # the same replicates
        reps = np.column_stack([reps, fit._share_fun(0.9)(*reps.T)])
        p_lo, p_hi = np.quantile(reps, [0.025, 0.975], axis=0)
        pct += (p_lo <= truth) & (truth <= p_hi)
    coverage, percentile = hits / n_rep, pct / n_rep
    mcse = math.sqrt(0.95 * 0.05 / n_rep)
    msg = f"bootstrap-t {coverage}, percentile {percentile}, MC s.e. {mcse:.3f}"
    assert np.all(coverage >= 0.92) and coverage.mean() >= 0.93, msg
    assert np.all(coverage <= 0.985), msg
    assert percentile.mean() < coverage.mean(), msg


# --- parameters at or near a bound --------------------------------------------------------


def test_richards_nu_near_its_bound_is_flagged(wiesenhof):
    cmp = reach.compare(wiesenhof)
    tab = cmp.table.set_index("curve")
    rich = cmp.fits["richards"]
    assert rich.params["nu"] > 95 and tab.loc["richards", "akaike_weight"] > 0.2
    assert rich.at_bound.to_dict() == {"K": False, "r": False, "t0": False, "nu": True}
    assert rich.summary.loc["nu", "at_bound"] and not rich.summary.loc["K", "at_bound"]
    # (97.7 of 100, or on 100 itself, as the solver's polish goes: at or near is flagged)
    note = next(n for n in rich.notes if n.startswith(f"nu = {fmt.number(rich.params['nu'])}"))
    assert re.match(r"nu = [\d.]+ is (at|near) its upper bound 100: that is a limit", note)
    assert tab.loc["richards", "at_bound"] == "nu"
    assert pd.isna(tab.loc["logistic", "at_bound"])
    assert note in tab.loc["richards", "notes"]
    assert "richards (delta AICc 1.13, weight 27 %; nu at or near a bound" in str(cmp)
    # the report: the ranking and the fit
    ranking = V.comparison_view(cmp)._repr_html_()
    assert "at or near a bound" in ranking and "richards: nu is at or near a bound" in ranking
    view = V.fit_view(rich)._repr_html_()
    assert "at or near a bound of the fitter" in view and "Caveats of this fit" in view
    assert "its upper bound 100" in str(V.fit_view(rich))
    # round trip keeps the flag
    back = reach.ReachFit.from_dict(rich.to_dict())
    assert back.at_bound["nu"] and back.notes == rich.notes


def test_near_a_bound_is_two_percent_of_the_span():
    spec = reach.CURVES["richards"]
    flags = reach.diagnostics.bound_flags
    # nu in [0.001, 100] on the log scale: 2 % of 5 decades is a tenth of a decade
    assert flags(spec, [1.0, 1.0, 0.0, 80.0])[0]["status"] == "near"
    assert flags(spec, [1.0, 1.0, 0.0, 78.0]) == []
    assert flags(spec, [1.0, 1.0, 0.0, 0.0012])[0]["side"] == "lower"
    assert flags(spec, [1.0, 0.0, 0.0, 1.0])[0] == {
        "param": "r",
        "estimate": 0.0,
        "bound": 0.0,
        "side": "lower",
        "status": "at",
    }


# --- a low-confidence reading that drives the fit ----------------------------------------


def _with_outlier(confidence):
    spec = reach.CURVES["logistic"]
    rng = np.random.default_rng(3)
    t = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15.0])
    y = spec.f(t, 10000, 0.9, 4) * np.exp(rng.normal(0, 0.03, t.size))
    y[-1] = 16000  # a late reading 60 % above the plateau
    return pd.DataFrame(
        {
            "time": pd.Timestamp("2020-03-01") + pd.to_timedelta(t, unit="D"),
            "value": y,
            "source": [f"outlet-{i}" for i in range(t.size)],
            "confidence": ["medium"] * (t.size - 1) + [confidence],
            "qualifier": "exact",
        }
    )


def test_a_low_confidence_outlier_is_named_with_its_pull():
    df = _with_outlier("low")
    fit = reach.fit(df, origin="2020-03-01")
    without = reach.fit(df.iloc[:-1], origin="2020-03-01")
    note = next(n for n in fit.notes if "low-confidence reading drives" in n)
    assert "16 k on 16 Mar 2020 (outlet-11, confidence low)" in note
    assert f"the final reach would be {fmt.compact(without.saturation)}" in note
    assert f"instead of {fmt.compact(fit.saturation)}" in note
    t90 = without.time_to_share(0.9)["estimate"]
    assert f"the time to 90 % would be day {fmt.number(t90)}" in note
    assert "weights='confidence'" in note and "loss='robust'" in note
    assert note in str(fit) and note in str(V.fit_view(fit))
    # the fit itself is not changed: the same as without the check
    assert fit.saturation > 1.2 * without.saturation


def test_no_note_for_a_confident_reading_or_a_robust_fit():
    assert not any("drives" in n for n in reach.fit(_with_outlier("medium")).notes)
    robust = reach.fit(_with_outlier("low"), loss="robust")
    assert not any("drives" in n for n in robust.notes)
    # the bundled Wiesenhof fit has one low-confidence reading (welt, 5,000, up to) that
    # does not move the fit by a standard error
    fit = reach.fit(ck.load_case("werder-bremen-wiesenhof"))
    assert not any("drives" in n for n in fit.notes)


def test_reference_fits_are_unchanged_by_the_checks():
    """The checks only add notes: the NIST/R reference data fit to the same numbers (the
    reference tests compare them with R) and get no note."""
    from pathlib import Path

    d = pd.read_csv(Path(__file__).resolve().parent / "reference" / "growth_a.csv")
    fit = reach.fit(d["y"].to_numpy(), "logistic", t=d["t"].to_numpy())
    assert fit.notes == ()
    assert not fit.at_bound.any()
