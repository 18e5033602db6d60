"""Tests of casekit.response: every statistic against an independent computation.

Independent means: delays by hand from the dates, the flow-damping closed form written
out here, rate damping against scipy's ODE solver, spike rules against a plain-Python
loop over a hand-made series, WTP figures against the text of methods.md, severity rules
on constructed indicators.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import solve_ivp

import casekit as ck
from casekit import response as rs
from casekit.exceptions import InsufficientDataError, ParameterError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "research"


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def syn():
    return ck.load_case("synthetic-example")


@pytest.fixture(scope="module")
def ubg():
    return ck.load_case("united-breaks-guitars")


@pytest.fixture(scope="module")
def rr():
    return ck.load_case("range-rover-colchester")


@pytest.fixture(scope="module")
def wh():
    return ck.load_case("werder-bremen-wiesenhof")


@pytest.fixture(scope="module")
def fits(syn):
    return {
        c: ck.reach.fit(syn, curve=c, metric="video_views")
        for c in ("logistic", "gompertz", "richards", "bass", "expsat")
    }


def logistic(t, K, r, t0):
    """Written out here, independent of casekit.reach."""
    return K / (1.0 + np.exp(-r * (np.asarray(t, float) - t0)))


def _edit_yaml(case_dir: Path, old: str, new: str) -> None:
    p = case_dir / "case.yaml"
    text = p.read_text(encoding="utf-8")
    assert old in text, old
    p.write_text(text.replace(old, new), encoding="utf-8")


# ---------------------------------------------------------------------------
# delays
# ---------------------------------------------------------------------------


def test_delays_synthetic_by_hand(syn):
    d = rs.delays(syn)
    inc, comp, pub, resp, res = (
        date(2024, 2, 1),
        date(2024, 2, 2),
        date(2024, 3, 4),
        date(2024, 3, 8),
        date(2024, 3, 15),
    )
    expected = {
        "incident_to_first_complaint": (comp - inc).days,
        "decision_delay": (resp - comp).days,
        "going_public_to_first_response": (resp - pub).days,
        "going_public_to_resolution": (res - pub).days,
        "first_complaint_to_resolution": (res - comp).days,
    }
    for name, days in expected.items():
        assert d.days(name) == days
    assert set(d.computable) == set(expected)
    # day-precision dates: no spread
    assert (d.table["days_min"] == d.table["days_max"]).all()
    # two complaints (02-02 and 02-20) before going public on 03-04
    assert d.contacts == 2
    assert list(d.contacts_table["date"].dt.date) == [date(2024, 2, 2), date(2024, 2, 20)]


def test_delays_unknown_dates_stay_unknown(rr):
    d = rs.delays(rr)
    assert d.computable == ["going_public_to_first_response"]
    assert d.days("going_public_to_first_response") == 0.0
    nc = d.table[~d.table["computable"]]
    assert nc["days"].isna().all()
    assert nc.set_index("delay").loc["decision_delay", "reason"] == (
        "first_complaint unknown in the sources"
    )
    assert "not computable" in str(d)


def test_delays_range_precision_ubg(ubg):
    d = rs.delays(ubg).table.set_index("delay")
    row = d.loc["going_public_to_first_response"]
    # going public 2009-07-06; first response a range 07-07..07-08
    assert row["days"] == 1 and row["days_min"] == 1 and row["days_max"] == 2
    assert "range" in row["precision"]
    assert d.loc["decision_delay", "days"] == (date(2009, 7, 7) - date(2008, 3, 31)).days
    assert not d.loc["going_public_to_resolution", "computable"]
    assert rs.delays(ubg).contacts == 3


def test_delays_month_precision_and_null(case_dir):
    _edit_yaml(
        case_dir,
        "first_complaint: {date: 2024-02-02, precision: day",
        "first_complaint: {date: 2024-02, precision: month",
    )
    _edit_yaml(
        case_dir,
        "resolution: {date: 2024-03-15, precision: day, source: synthetic-timeline, "
        "confidence: high}",
        "resolution: null",
    )
    case = ck.load_case(case_dir)
    d = rs.delays(case)
    row = d.table.set_index("delay").loc["decision_delay"]
    # complaint some time in February 2024 (29 days), response 2024-03-08
    assert row["days"] == (date(2024, 3, 8) - date(2024, 2, 1)).days
    assert row["days_max"] == (date(2024, 3, 8) - date(2024, 2, 1)).days
    assert row["days_min"] == (date(2024, 3, 8) - date(2024, 2, 29)).days
    assert d.days("going_public_to_resolution") is None
    assert "resolution" in d.table.set_index("delay").loc["going_public_to_resolution", "reason"]


def test_delays_result_surface(syn):
    d = rs.delays(syn)
    json.dumps(d.to_dict())
    assert "<table" in d._repr_html_()
    fig = d.plot()
    assert len(fig.data) == 5
    with pytest.raises(KeyError):
        d.days("nope")


# ---------------------------------------------------------------------------
# detection replay
# ---------------------------------------------------------------------------


def _first_sd_alert(values, w, b, k):
    """Plain-Python replay of '24 h mean > baseline mean + k SD' (windows ending at i)."""
    for i in range(w + b - 1, len(values)):
        win = values[i - w + 1 : i + 1]
        base = values[i - w - b + 1 : i - w + 1]
        if any(math.isnan(v) for v in win + base):
            continue
        if statistics.mean(win) > statistics.mean(base) + k * statistics.stdev(base):
            return i
    return None


def test_sd_rule_on_hand_made_daily_series():
    vals = [5.0, 6, 5, 4, 6, 5, 5, 9, 14, 30, 50, 20]
    idx = pd.date_range("2024-01-01", periods=len(vals), freq="D")
    tab, checks = rs.replay_rules(pd.Series(vals, index=idx))
    tab = tab.set_index("rule")
    for k in (1.5, 2, 3):
        i = _first_sd_alert(vals, 1, 7, k)
        assert tab.loc[f"sd_24h_vs_7d_k{k:g}", "first_alert"] == idx[i] + pd.Timedelta(days=1)
    # by hand: baseline days 0-6 = [5,6,5,4,6,5,5], mean 36/7, sd 0.690; day 7 (9) fires all k
    assert tab.loc["sd_24h_vs_7d_k3", "first_alert"] == pd.Timestamp("2024-01-09")
    # daily data cannot support the hourly rule
    assert not tab.loc["social_1h_vs_12h", "evaluable"]
    assert "too sparse" in tab.loc["social_1h_vs_12h", "reason"]
    # 14-day baseline needs 15 days: only 12 recorded
    assert not tab.loc["editorial_1d_vs_14d", "evaluable"]
    assert (checks.groupby("rule").size() == len(vals) - 7).all()


def test_ratio_rule_on_hand_made_hourly_series():
    # 12 hours of 10 per hour, then 15 (not > 2 x 10), then 25 (> 20): fires at the end of hour 13
    vals = [10.0] * 12 + [15.0, 25.0]
    idx = pd.date_range("2024-01-01", periods=len(vals), freq="h")
    rule = rs.DEFAULT_RULES[0]
    assert rule.name == "social_1h_vs_12h"
    tab, checks = rs.replay_rules(pd.Series(vals, index=idx), [rule])
    # hour 13's baseline = hours 1..12 = eleven 10s and one 15: mean 10.42, x2 = 20.8 < 25
    base = vals[1:13]
    assert 25 > 2 * statistics.mean(base)
    assert tab["first_alert"].iloc[0] == idx[13] + pd.Timedelta(hours=1)
    assert checks["fired"].tolist() == [False, True]


def test_gap_blocks_checks():
    vals = [5.0, 5, 5, 5, 5, 5, 5, 50, float("nan"), 5, 5, 5, 5, 5, 5, 5, 60]
    idx = pd.date_range("2024-01-01", periods=len(vals), freq="D")
    tab, checks = rs.replay_rules(pd.Series(vals, index=idx), [rs.DEFAULT_RULES[3]])
    # windows whose baseline or window touches day 8 are not checked
    assert pd.Timestamp("2024-01-09") not in set(checks["window_end"] - pd.Timedelta(days=1))
    assert tab["n_checks"].iloc[0] == len(vals) - 7 - 8
    # day 8 (index 7, value 50) against a flat baseline of 5s: the alert is at the end of day 8
    assert tab["first_alert"].iloc[0] == pd.Timestamp("2024-01-09")


def test_replay_rejects_irregular_grid():
    idx = pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-04"])
    with pytest.raises(ParameterError):
        rs.replay_rules(pd.Series([1.0, 2, 3], index=idx))


def test_detection_synthetic_forum_posts(syn):
    det = rs.detection_replay(syn, "forum_posts")
    s = syn.series("forum_posts")
    vals = s["value"].tolist()
    i = _first_sd_alert(vals, 1, 7, 1.5)
    expected = s["time"].iloc[i] + pd.Timedelta(days=1)
    assert det.first_alert == expected == pd.Timestamp("2024-03-06")
    assert det.detection_lag_days == 2.0 and det.decision_lag_days == 2.0
    assert det.detection_lag_days + det.decision_lag_days == det.response_lag_days == 4.0
    assert any("too sparse for an hourly rule" in st for st in det.statements)
    json.dumps(det.to_dict())
    assert det.plot().data


def test_detection_cumulative_sparse_is_stated(syn, ubg):
    det = rs.detection_replay(syn, "video_views")
    assert det.first_alert is None
    assert not det.table["evaluable"].any()
    assert "could have known cannot be dated" in str(det)
    det_u = rs.detection_replay(ubg)
    assert det_u.first_alert is None
    assert any("never one hour or one day apart" in st for st in det_u.statements)


def test_detection_cumulative_differencing(case_dir):
    # hourly cumulative readings exactly one hour apart -> increments of 10, then a jump
    rows = [
        "time,time_precision,time_end,metric,value,unit,cumulative,qualifier,kind,method,"
        "source,quote,confidence,note"
    ]
    cum = 0
    for h in range(16):
        cum += 10 if h < 14 else 100
        t = pd.Timestamp("2024-03-04") + pd.Timedelta(hours=h)
        rows.append(
            f"{t:%Y-%m-%dT%H:%M},hour,,mentions,{cum},mentions,true,exact,observed,,"
            f"synthetic-counter,q,high,"
        )
    (case_dir / "reach.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    case = ck.load_case(case_dir)
    counts, step, note = rs._metric_counts(case, "mentions")
    assert step == pd.Timedelta(hours=1)
    assert counts.tolist() == [10.0] * 13 + [100.0, 100.0]
    det = rs.detection_replay(case, "mentions")
    # first increment at hour 1; the spike hour 14 is the first with 12 h of baseline over 2 x
    assert det.first_alert == pd.Timestamp("2024-03-04") + pd.Timedelta(hours=15)


# ---------------------------------------------------------------------------
# delay cost
# ---------------------------------------------------------------------------


def test_flow_closed_form_vs_module(fits):
    fit = fits["logistic"]
    K, r, t0 = (fit.params[n] for n in ("K", "r", "t0"))
    grid = [0, 0.5, 1, 2, 4, 7, 30]
    for e in (0.0, 0.2, 0.5, 0.8, 1.0):
        dc = rs.delay_cost(fit, delays=grid, effectiveness=e, model="flow", n_draws=0)
        for d in grid:
            y = logistic(d, K, r, t0)
            expected = y + (1 - e) * (K - y)
            assert dc.at(d)["final_reach"] == pytest.approx(expected, rel=1e-10)
            assert dc.at(d)["reach_avoided"] == pytest.approx(K - expected, rel=1e-9, abs=1e-6)
            assert dc.at(d)["cost_of_delay"] == pytest.approx(
                e * (y - logistic(0, K, r, t0)), rel=1e-9, abs=1e-6
            )


@pytest.mark.parametrize("curve", ["logistic", "gompertz", "richards", "bass", "expsat"])
@pytest.mark.parametrize("model", ["flow", "rate"])
def test_monotone_and_infinite_delay_reproduces_fit(fits, curve, model):
    fit = fits[curve]
    grid = np.concatenate([np.linspace(0, 40, 201), [np.inf]])
    for e in (0.2, 0.5, 0.8):
        dc = rs.delay_cost(fit, delays=grid, effectiveness=e, model=model, n_draws=0)
        f = dc.table["final_reach"].to_numpy()
        assert np.all(np.diff(f) >= -1e-9 * f.max())
        H = dc.horizon
        fitted = (
            fit.saturation
            if np.isinf(H)
            else float(fit.predict([H], interval=None)["yhat"].iloc[0])
        )
        assert dc.at(np.inf)["final_reach"] == pytest.approx(fitted, rel=1e-9)
        assert dc.fitted_final == pytest.approx(fitted, rel=1e-9)
    # the bands are monotone too (each draw's curve is)
    dcb = rs.delay_cost(fit, delays=grid, effectiveness=0.5, model=model, n_draws=200)
    ci = dcb.conf_int()
    cost = ci[ci["quantity"] == "cost_of_delay"]
    for v in (dcb.table["lower"], dcb.table["upper"], cost["lower"], cost["upper"]):
        v = v.to_numpy()
        assert np.all(np.diff(v) >= -1e-9 * np.nanmax(np.abs(v)))
    # e = 0 reproduces the fit at every delay
    dc0 = rs.delay_cost(fit, delays=grid, effectiveness=0.0, model=model, n_draws=0)
    assert np.allclose(dc0.table["final_reach"], dc0.fitted_final, rtol=1e-9)


def _solve(rhs, y0, t_r, H):
    sol = solve_ivp(rhs, (t_r, H), [y0], method="LSODA", rtol=1e-10, atol=1e-6)
    return float(sol.y[0, -1])


@pytest.mark.parametrize("e", [0.3, 0.7])
def test_rate_damping_logistic_vs_solve_ivp(fits, e):
    fit = fits["logistic"]
    K, r, t0 = (fit.params[n] for n in ("K", "r", "t0"))
    H = 8.0
    grid = [0.0, 1.0, 2.5, 4.0, 6.0]
    dc = rs.delay_cost(fit, delays=grid, effectiveness=e, model="rate", horizon=H, n_draws=0)
    for d in grid:
        expected = _solve(lambda t, y: r * (1 - e) * y * (1 - y / K), logistic(d, K, r, t0), d, H)
        assert dc.at(d)["final_reach"] == pytest.approx(expected, rel=1e-6)


def test_rate_damping_gompertz_and_bass_vs_solve_ivp(fits):
    e, H = 0.5, 6.0
    g = fits["gompertz"]
    K, r, t0 = (g.params[n] for n in ("K", "r", "t0"))
    yg = lambda t: K * np.exp(-np.exp(-r * (t - t0)))  # noqa: E731
    dc = rs.delay_cost(g, delays=[1.0, 3.0], effectiveness=e, model="rate", horizon=H, n_draws=0)
    for d in (1.0, 3.0):
        exp_ = _solve(lambda t, y: r * (1 - e) * y * np.log(K / y), yg(d), d, H)
        assert dc.at(d)["final_reach"] == pytest.approx(exp_, rel=1e-6)
    b = fits["bass"]
    m, p, q = (b.params[n] for n in ("m", "p", "q"))
    yb = lambda t: m * (1 - np.exp(-(p + q) * t)) / (1 + q / p * np.exp(-(p + q) * t))  # noqa: E731
    dc = rs.delay_cost(
        b, delays=[0.5, 2.0, 4.0], effectiveness=e, model="rate", horizon=H, n_draws=0
    )
    for d in (0.5, 2.0, 4.0):
        exp_ = _solve(lambda t, y: (p + q * (1 - e) * y / m) * (m - y), yb(d), d, H)
        assert dc.at(d)["final_reach"] == pytest.approx(exp_, rel=1e-6)


def test_rate_damping_saves_nothing_at_infinite_horizon(fits):
    dc = rs.delay_cost(fits["logistic"], delays=[0, 1, 5], model="rate", horizon=np.inf, n_draws=0)
    assert np.allclose(dc.table["final_reach"], fits["logistic"].saturation)
    assert np.allclose(dc.table["reach_avoided"], 0.0)


def test_rate_default_horizon_is_last_observation(fits):
    fit = fits["logistic"]
    dc = rs.delay_cost(fit, delays=[0], model="rate", n_draws=0)
    assert dc.horizon == pytest.approx(fit.data["t"].max())
    assert "saves nothing at an infinite horizon" in dc.settings["final reach read at"]


def test_bands_from_draws_match_independent_quantiles(fits):
    fit = fits["logistic"]
    e = 0.5
    dc = rs.delay_cost(fit, delays=[0, 2, 4, 8], effectiveness=e, model="flow", n_draws=400, seed=3)
    D = dc.draws
    assert D.shape == (400, 3)
    K, r, t0 = D[:, [0]], D[:, [1]], D[:, [2]]
    d = dc.table["delay_days"].to_numpy()[None, :]
    y = K / (1 + np.exp(-r * (d - t0)))
    final = y + (1 - e) * (K - y)
    lo, hi = np.quantile(final, [0.025, 0.975], axis=0)
    assert np.allclose(dc.table["lower"], lo) and np.allclose(dc.table["upper"], hi)
    assert (dc.table["lower"] <= dc.table["final_reach"]).all()
    assert (dc.table["final_reach"] <= dc.table["upper"]).all()
    # the draws' mean and covariance are those of the fit
    assert np.allclose(D.mean(axis=0), fit.params.to_numpy(), rtol=0.01)
    same = rs.delay_cost(
        fit, delays=[0, 2, 4, 8], effectiveness=e, model="flow", n_draws=400, seed=3
    )
    assert same.table.equals(dc.table)


def test_bootstrap_bands(fits):
    dc = rs.delay_cost(fits["logistic"], delays=[0, 4], n_draws=60, bands="bootstrap", model="flow")
    assert dc.draws.shape[1] == 3 and dc.table["lower"].notna().all()
    assert "bootstrap" in dc.settings["bands"]
    # the intervention model draws delta and e too
    dc = rs.delay_cost(fits["logistic"], delays=[0, 4], n_draws=60, bands="bootstrap")
    assert dc.draws.shape[1] == 5 and dc.table["lower"].notna().all()
    assert "bootstrap" in dc.settings["bands"]


def test_actual_delay_and_assumptions(fits, syn):
    dc = rs.delay_cost(fits["logistic"], model="flow")
    assert dc.actual_delay == 4.0
    assert dc.actual["delay_days"] == 4.0 and dc.table["actual"].sum() == 1
    for key in ("intervention model", "effectiveness e", "final reach read at", "bands"):
        assert key in dc.settings and key in str(dc)
    assert "Herhausen" in dc.settings["effectiveness e"]
    assert dc.assumptions == dc.settings  # the old name still reads
    assert list(dc.table.columns) == list(rs.DELAY_COST_COLUMNS)
    d = json.loads(json.dumps(dc.to_dict()))
    assert d["fields"]["effectiveness"] == 0.5
    assert d["settings"]["effectiveness e"].startswith("0.5 ")
    assert d["params"]["final_reach"] == pytest.approx(dc.actual["final_reach"])
    fig = dc.plot()
    assert any("actual delay" in (tr.name or "") for tr in fig.data)
    assert "<table" in dc._repr_html_()


def test_actual_delay_and_assumptions_intervention(fits):
    dc = rs.delay_cost(fits["logistic"])
    assert dc.model == "intervention" and dc.actual_delay == 4.0
    assert dc.actual["delay_days"] == 4.0 and dc.table["actual"].sum() == 1
    for key in ("intervention model", "effectiveness e", "final reach read at", "bands", "fit"):
        assert key in dc.settings and key in str(dc)
    # e is estimated on the synthetic case (observations straddle day 4), with its interval
    assert "profile-likelihood interval), estimated" in dc.settings["effectiveness e"]
    assert "refitted with the response inside (e estimated)" in dc.settings["fit"]
    assert dc.actual["final_reach"] == pytest.approx(dc.fitted_final, rel=1e-12)
    d = json.loads(json.dumps(dc.to_dict()))
    assert d["fields"]["effectiveness"] == pytest.approx(dc.effectiveness)
    assert d["params"]["final_reach"] == pytest.approx(dc.actual["final_reach"])
    fig = dc.plot()
    assert any("actual delay" in (tr.name or "") for tr in fig.data)
    # a negative estimate is reported as a response that fuelled the storm, not clipped
    if dc.effectiveness < 0:
        assert "fuelled the storm" in dc.settings["effectiveness e"]
        assert "Herhausen" in dc.settings["effectiveness e"]


def test_delay_cost_parameter_errors(fits):
    with pytest.raises(ParameterError):
        rs.delay_cost(fits["logistic"], effectiveness=1.5)
    with pytest.raises(ParameterError):
        rs.delay_cost(fits["logistic"], model="hawkes")
    with pytest.raises(ParameterError):
        rs.delay_cost(fits["logistic"], delays=[-1])


def test_range_rover_has_no_delay_cost(rr):
    with pytest.raises(InsufficientDataError, match="no reach series a growth curve"):
        rs.delay_cost(rr)


def test_delay_cost_accepts_a_case(syn, fits):
    dc = rs.delay_cost(syn, metric="video_views", n_draws=0)
    ref = rs.delay_cost(fits["logistic"], n_draws=0)
    assert np.allclose(dc.table["final_reach"], ref.table["final_reach"])


def test_ubg_delay_cost_one_day(ubg):
    fit = ck.reach.fit(ubg)
    dc = rs.delay_cost(fit, delays=[0, 1, 7, np.inf], n_draws=1000, model="flow")
    assert dc.actual_delay == 1.0  # start of the 07-07..07-08 range
    row = dc.at(1)
    K, r, t0 = (fit.params[n] for n in ("K", "r", "t0"))
    y1 = logistic(1, K, r, t0)
    assert row["final_reach"] == pytest.approx(y1 + 0.5 * (K - y1), rel=1e-10)
    assert row["lower"] < row["final_reach"] < row["upper"]
    assert "range" in dc.settings["actual delay"]


def test_ubg_delay_cost_intervention(ubg):
    fit = ck.reach.fit(ubg)
    dc = rs.delay_cost(fit, delays=[0, 1, 7, np.inf], n_draws=300)
    assert dc.actual_delay == 1.0  # start of the 07-07..07-08 range
    assert "range" in dc.settings["actual delay"]
    # no observation precedes day 1, so e cannot be estimated: it is the stated scenario 0.5
    assert "stated scenario value" in dc.settings["effectiveness e"]
    assert dc.effectiveness == 0.5 and "0 before it" in dc.settings["fit"]
    with pytest.raises(InsufficientDataError, match="0 before it"):
        ck.reach.fit(ubg, response=True)
    # the same as fitting the response inside first, and the actual delay reproduces that fit
    inside = ck.reach.fit(ubg, response=True, e=0.5)
    assert float(inside.response_effect["t"].iloc[0]) == 1.0
    row = dc.at(1)
    assert row["final_reach"] == pytest.approx(inside.spec.saturation(*inside.theta), rel=1e-6)
    assert row["lower"] <= row["final_reach"] <= row["upper"]
    direct = rs.delay_cost(inside, delays=[0, 1, 7, np.inf], n_draws=0)
    assert direct.at(1)["final_reach"] == pytest.approx(
        inside.spec.saturation(*inside.theta), rel=1e-12
    )


# ---------------------------------------------------------------------------
# reach while waiting
# ---------------------------------------------------------------------------


def test_reach_while_waiting_by_hand(fits):
    fit = fits["logistic"]
    K, r, t0 = (fit.params[n] for n in ("K", "r", "t0"))
    w = rs.reach_while_waiting(fit)
    before = logistic(4.0, K, r, t0)
    assert w.response_t == 4.0
    assert w.value("before_response") == pytest.approx(before, rel=1e-10)
    assert w.value("after_response") == pytest.approx(K - before, rel=1e-10)
    assert w.value("share_before") == pytest.approx(before / K, rel=1e-10)
    for q in ("before_response", "after_response", "final", "share_before"):
        assert w.value(q, "lower") <= w.value(q) <= w.value(q, "upper")
    assert w.peak_t == pytest.approx(t0)
    assert "after the curve's peak" in str(w)
    w2 = rs.reach_while_waiting(fit, response="2024-03-06", horizon=10.0, n_draws=0)
    assert w2.response_t == 2.0
    assert w2.value("final") == pytest.approx(logistic(10.0, K, r, t0), rel=1e-10)
    json.dumps(w.to_dict())


# ---------------------------------------------------------------------------
# sensitivity
# ---------------------------------------------------------------------------


def test_sensitivity_by_hand(fits):
    fit = fits["logistic"]
    K, r, t0 = (fit.params[n] for n in ("K", "r", "t0"))
    s = rs.sensitivity(
        fit, cpm=(1.0, 4.0, 9.0), curves=["logistic", "gompertz", "bass"], model="flow"
    )
    extra = lambda e: e * (logistic(4, K, r, t0) - logistic(0, K, r, t0))  # noqa: E731
    t = s.table.set_index("factor")
    assert s.base == pytest.approx(extra(0.5) * 4 / 1000)
    assert t.loc["effectiveness", "output_low"] == pytest.approx(extra(0.2) * 4 / 1000)
    assert t.loc["effectiveness", "output_high"] == pytest.approx(extra(0.8) * 4 / 1000)
    assert t.loc["CPM", "output_low"] == pytest.approx(extra(0.5) * 1 / 1000)
    assert t.loc["CPM", "output_high"] == pytest.approx(extra(0.5) * 9 / 1000)
    assert list(s.table["swing"]) == sorted(s.table["swing"], reverse=True)
    assert {t.loc["curve", "low_setting"], t.loc["curve", "high_setting"]} <= {
        "logistic",
        "gompertz",
        "bass",
    }
    fig = s.plot()
    assert len(fig.data) == 2 and len(fig.data[0].y) == 4
    json.dumps(s.to_dict())


# ---------------------------------------------------------------------------
# money lenses
# ---------------------------------------------------------------------------


def test_wtp_figures_match_methods_md():
    path = SHARED / "methods.md"
    if not path.is_file():
        pytest.skip("methods.md not available beside the repository")
    text = path.read_text(encoding="utf-8")
    sec = text[text.index("### 4.1 Willingness-to-pay lens") : text.index("### 4.2")]
    a = rs.WTP_FIGURES["airline"]
    assert f"+${a['any']:.2f}" in sec
    assert re.search(r"< 6 min ≈ \+\$20\b", sec) and a["fast"] == 20
    assert f"> 60 min: +${a['slow']:.2f}" in sec
    t = rs.WTP_FIGURES["telecom"]
    assert re.search(r"≤ 4 min \+\$17/month", sec) and t["fast"] == 17
    assert f"> 20 min +${t['slow']:.2f}" in sec
    assert f"+${t['any']:.2f}" in sec


def test_wtp_step_function():
    assert rs.wtp_uplift(5.9, "airline") == 20.0
    assert rs.wtp_uplift(22, "airline") == 8.98
    assert rs.wtp_uplift(61, "airline") == 2.33
    assert rs.wtp_uplift(None, "airline") == 0.0
    # the telecom study says "within 4 minutes" (<= 4), the airline one "under 6 minutes" (< 6)
    assert rs.wtp_uplift(4, "telecom") == 17.0 and rs.wtp_uplift(4.5, "telecom") == 8.35
    assert rs.wtp_uplift(6, "airline") == 8.98
    assert rs.wtp_uplift(21, "telecom") == 3.5


def test_money_lenses_ubg(ubg):
    fit = ck.reach.fit(ubg)
    dc = rs.delay_cost(fit, n_draws=300)
    m = rs.money_lenses(ubg, delay_cost=dc, cpm=(1, 3, 6))
    wtp = m.row("willingness to pay by response time")
    assert wtp["supported"]
    assert (wtp["low"], wtp["central"], wtp["high"]) == pytest.approx((8.98 - 2.33, 20 - 2.33, 20))
    assert "industry estimate" in wtp["assumptions"]
    imp = m.row("negative impressions x CPM: all reach")
    assert imp["central"] == pytest.approx(dc.fitted_final * 3 / 1000)
    assert imp["low"] == pytest.approx(dc.fitted_band[0] * 1 / 1000)
    mult = m.row("cost multiplier: negative impressions x CPM: all reach")
    assert mult["central"] == pytest.approx(imp["central"] / 1200)
    assert mult["low"] == pytest.approx(imp["low"] / 1200)
    assert m.row("market value")["statement"].startswith(
        "market lens: not computed (no price data supplied)"
    )
    assert not any("total" in x.lower() for x in m.table["lens"])
    assert "never added up" in str(m)
    assert list(m.table.columns) == list(rs.MONEY_COLUMNS)
    json.dumps(m.to_dict())


def test_money_lenses_range_rover_not_supported(rr):
    m = rs.money_lenses(rr)
    assert m.supported == []
    for _, r in m.table.iterrows():
        assert r["statement"]
        assert np.isnan(r["central"])
    assert "no views or impressions" in m.row("negative impressions x CPM: all reach")["statement"]


def test_money_lenses_wiesenhof(wh):
    m = rs.money_lenses(wh)
    assert m.supported == []
    dc = rs.delay_cost(ck.reach.fit(wh), n_draws=100)
    m2 = rs.money_lenses(wh, delay_cost=dc)
    row = m2.row("negative impressions x CPM: all reach")
    assert row["supported"] and row["unit"] == "EUR"
    assert "supporters" in row["statement"]


class _FakeStudy:
    car_table = pd.DataFrame(
        [
            {
                "event": "UAL 2009-07-06",
                "benchmark": "market",
                "window": "(0,3)",
                "car": -0.02,
                "money": -1.0e7,
                "money_lower": -3.0e7,
                "money_upper": 1.0e7,
            }
        ]
    )

    def to_dict(self):
        return {}


def test_market_lens_duck_typed(ubg):
    m = rs.money_lenses(ubg, event_study=_FakeStudy())
    r = m.row("market value")
    assert r["supported"]
    assert (r["low"], r["central"], r["high"]) == (-1.0e7, 1.0e7, 3.0e7)
    mult = m.row("cost multiplier: market value")
    assert mult["central"] == pytest.approx(1.0e7 / 1200)


def test_market_lens_window_choice(ubg):
    study = _FakeStudy()
    study.car_table = pd.DataFrame(
        [
            {
                "event": "E",
                "benchmark": "market",
                "window": "(0,0)",
                "start": 0,
                "end": 0,
                "car": -0.01,
                "money": -1.0,
                "money_lower": -2.0,
                "money_upper": 0.0,
            },
            {
                "event": "E",
                "benchmark": "market",
                "window": "(0,3)",
                "start": 0,
                "end": 3,
                "car": -0.03,
                "money": -3.0,
                "money_lower": -5.0,
                "money_upper": -1.0,
            },
            {
                "event": "E",
                "benchmark": "market",
                "window": "(-1,5)",
                "start": -1,
                "end": 5,
                "car": -0.09,
                "money": -9.0,
                "money_lower": -9.5,
                "money_upper": -8.5,
            },
            {
                "event": "E",
                "benchmark": "peers",
                "window": "(0,5)",
                "start": 0,
                "end": 5,
                "car": -0.07,
                "money": -7.0,
                "money_lower": -8.0,
                "money_upper": -6.0,
            },
        ]
    )
    r = rs.money_lenses(ubg, event_study=study).row("market value")
    assert r["central"] == 3.0  # the longest market window starting on day 0
    r = rs.money_lenses(ubg, event_study=study, market_window=(0, 0)).row("market value")
    assert (r["low"], r["central"], r["high"]) == (0.0, 1.0, 2.0)
    r = rs.money_lenses(ubg, event_study=study, market_benchmark="peers").row("market value")
    assert r["central"] == 7.0
    with pytest.raises(ParameterError):
        rs.money_lenses(ubg, event_study=study, market_window=(0, 9))


def test_money_lenses_parameter_checks(syn):
    with pytest.raises(ParameterError):
        rs.money_lenses(syn, cpm=(5, 2, 10))
    with pytest.raises(ParameterError):
        rs.money_lenses(syn, industry="pizza")
    m = rs.money_lenses(syn, industry="airline")
    # synthetic: complaint 2024-02-02 to response 2024-03-08 -> a slow reply
    assert m.row("willingness to pay by response time")["central"] == pytest.approx(20 - 2.33)


# ---------------------------------------------------------------------------
# severity
# ---------------------------------------------------------------------------

TH = rs.SEVERITY_THRESHOLDS


@pytest.mark.parametrize(
    "ind, level",
    [
        # rule 0: nothing
        ((0, False, 0, 0, False), 0),
        # rule 1: one criticism, private
        ((1, False, 0, 0, False), 1),
        # rule 2: repeated criticism
        ((2, False, 0, 0, False), 2),
        # rule 2: public, one criticism, no press, little reach
        ((1, True, TH["community"] - 1, 0, False), 2),
        # rule 3: public with first press
        ((1, True, 0, 1, False), 3),
        # rule 3: public with community reach, no press
        ((1, True, TH["community"], 0, False), 3),
        # rule 4 needs press: big reach without press stays 3
        ((1, True, TH["mass"], 0, False), 3),
        # rule 4: press + organised protest
        ((1, True, 0, 1, True), 4),
        # rule 4: press + many online reports
        ((1, True, TH["many_reports"], 1, False), 4),
        # rule 4: wide press
        ((1, True, 0, TH["press_wide"], False), 4),
        # rule 5: mass reach
        ((1, True, TH["mass"], 1, False), 5),
        # rule 5: organised + wide press
        ((1, True, 0, TH["press_wide"], True), 5),
        # rule 6: mass reach + intense press
        ((1, True, TH["mass"], TH["press_intense"], False), 6),
        # rule 6 not reached by press alone
        ((1, True, TH["mass"] - 1, TH["press_intense"], True), 5),
        # public needed for 3+
        ((1, False, TH["mass"], TH["press_intense"], True), 1),
    ],
)
def test_severity_rules(ind, level):
    assert rs.level_from_indicators(*ind) == level


def test_severity_cases(syn, ubg, rr, wh):
    s = rs.severity(syn)
    assert (s.level, s.level_at_response) == (4, 3)
    t = s.table.set_index("date")
    # hand check on 2024-03-09: public since 03-04, one media row (03-06), reach = the largest
    # video_views reading up to the end of that day
    row = t.loc[pd.Timestamp("2024-03-09")]
    assert row["public"] and row["press"] == 1
    assert row["reach"] == syn.series("video_views").query("time < '2024-03-10'")["value"].max()
    assert row["level"] == 4
    assert t["level"].is_monotonic_increasing
    assert rs.severity(ubg).level == 6
    assert rs.severity(rr).level == 3
    w = rs.severity(wh)
    assert w.level == 4 and w.table["organised"].any()
    fig = s.plot()
    assert fig.data and fig.layout.shapes
    json.dumps(s.to_dict())
    assert s.label == rs.SEVERITY_LEVELS[4]


def test_market_lens_with_the_event_study(ubg, prices_dir):
    study = ck.market.case_event_study(ubg, prices_dir, shares_outstanding=167_040_862)
    m = rs.money_lenses(ubg, event_study=study)
    r = m.row("market value")
    ct = study.car_table
    ref = ct[(ct["benchmark"] == "market") & (ct["start"] == 0)]
    ref = ref.loc[(ref["end"] - ref["start"]).idxmax()]
    assert r["supported"]
    assert r["central"] == pytest.approx(-ref["money"])
    assert (r["low"], r["high"]) == pytest.approx((-ref["money_upper"], -ref["money_lower"]))
    assert ref["window"] in r["assumptions"]
    mult = m.row("cost multiplier: market value")
    # UAL rose against the market after the upload (CAR > 0): no loss to multiply
    assert r["central"] < 0
    assert not mult["supported"] and "not a loss" in mult["statement"]


# ---------------------------------------------------------------------------
# plots
# ---------------------------------------------------------------------------


def test_plots(syn, fits):
    from casekit import plots

    dc = rs.delay_cost(fits["logistic"], delays=[0, 1, 2, np.inf], n_draws=100)
    fig = plots.delay_cost_plot(dc)
    # the infinite delay is not drawn; band + curve + actual-delay marker
    assert len(fig.data) == 3 and max(fig.data[1].x) == 4.0
    assert plots.delay_cost_plot(dc, show_avoided=True).layout.yaxis.title.text == "reach avoided"
    nb = rs.delay_cost(fits["logistic"], delays=[0, 1], n_draws=0)
    assert len(plots.delay_cost_plot(nb).data) == 2  # no band without draws
    g = plots.delays_plot(rs.delays(ck.load_case("range-rover-colchester")))
    assert len(g.data) == 1 and "not computable" in g.layout.title.text
    sv = plots.severity_plot(rs.severity(syn))
    assert list(sv.data[0].y) == rs.severity(syn).table["level"].tolist()


def test_the_fitted_curve_is_named_for_what_it_holds(fits):
    """The intervention model's fitted curve holds the actual response, so its reference
    line and summary row say "as it happened" at the actual delay; the accounting variants
    read the fitted curve as the story without a response."""
    from casekit import plots

    dc = rs.delay_cost(fits["logistic"], delays=[0, 1, 2], n_draws=50)
    flow = rs.delay_cost(fits["logistic"], delays=[0, 1, 2], n_draws=50, model="flow")
    notes = [a.text for a in plots.delay_cost_plot(dc).layout.annotations]
    assert notes == ["as it happened (fitted curve)"]
    assert [a.text for a in plots.delay_cost_plot(flow).layout.annotations] == [
        "no response (fitted curve)"
    ]
    row = dc.summary.iloc[0]
    assert row["quantity"] == "final reach, as it happened (fitted curve)"
    assert row["delay_days"] == dc.actual_delay
    assert row["estimate"] == pytest.approx(dc.actual["final_reach"])  # the same curve
    frow = flow.summary.iloc[0]
    assert frow["quantity"] == "final reach, no response (fitted curve)"
    assert frow["delay_days"] == np.inf


def test_more_plots_and_html(syn, fits):
    w = rs.reach_while_waiting(fits["logistic"], n_draws=50)
    fig = w.plot()
    assert len(fig.data) == 3 and max(fig.data[1].x) <= 4.0
    m = rs.money_lenses(syn)
    tab = m.plot().data[0]
    assert list(tab.cells.values[0]) == m.table["lens"].tolist()
    html = rs.delay_cost(fits["logistic"], n_draws=50)._repr_html_()
    assert "<details>" in html and "Settings and assumptions" in html


def test_sensitivity_of_a_series_fit(syn):
    s = syn.series("video_views")
    fit = ck.reach.fit(s[s["source"] == "synthetic-counter"], origin=syn.origin)
    assert fit.case_id is None
    sens = rs.sensitivity(fit, actual_delay=4.0, curves=["logistic", "gompertz"])
    assert "gompertz" in sens.settings["curves compared"]
    with pytest.raises(InsufficientDataError):
        rs.sensitivity(fit)  # no case, no actual delay


def test_detection_plot_without_checks(ubg):
    fig = rs.detection_replay(ubg).plot()
    assert len(fig.data) == 0 and len(fig.layout.shapes) == 2


def test_reach_while_waiting_checks(fits):
    with pytest.raises(ParameterError):
        rs.reach_while_waiting(fits["logistic"], horizon=2.0)
    dc = rs.delay_cost(fits["logistic"], actual_delay=-1.0, n_draws=0, model="flow")
    assert not dc.table["actual"].any() and "before going public" in dc.settings["actual delay"]
    # the intervention model puts the response at day -1; no observation precedes it, so
    # e is a stated scenario value, and the row at day -1 reproduces that fit
    dc = rs.delay_cost(fits["logistic"], actual_delay=-1.0, n_draws=0)
    assert dc.actual_delay == -1.0 and dc.table["actual"].sum() == 1
    assert "before going public" in dc.settings["actual delay"]
    assert "stated scenario value" in dc.settings["effectiveness e"]
    assert dc.actual["final_reach"] == pytest.approx(dc.fitted_final, rel=1e-12)


def test_detection_daily_cumulative_differencing(case_dir):
    head = (
        "time,time_precision,time_end,metric,value,unit,cumulative,qualifier,kind,method,"
        "source,quote,confidence,note"
    )
    rows = [
        head,
        "2024-03-01,day,,views,100,views,true,exact,observed,,synthetic-counter,q,high,",
        "2024-03-02,day,,views,150,views,true,exact,observed,,synthetic-counter,q,high,",
        "2024-03-03,day,,views,230,views,true,exact,observed,,synthetic-counter,q,high,",
        # a clock time the next day: not paired with the bare day before it
        "2024-03-04T18:00,hour,,views,300,views,true,exact,observed,,synthetic-counter,q,high,",
        "2024-03-05T17:00,hour,,views,420,views,true,exact,observed,,synthetic-counter,q,high,",
    ]
    (case_dir / "reach.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    counts, step, _ = rs._metric_counts(ck.load_case(case_dir), "views")
    assert step == pd.Timedelta(days=1)
    expected = pd.Series(
        [50.0, 80.0, np.nan, 120.0], index=pd.date_range("2024-03-02", periods=4, freq="D")
    )
    pd.testing.assert_series_equal(counts, expected, check_names=False, check_freq=False)


def test_what_if_flow_matches_closed_form():
    fit = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
    fig = rs.what_if(fit, delay=2.0, effectiveness=0.5, horizon=20.0, points=201, model="flow")
    actual, cf = (np.asarray(tr.y, dtype=float) for tr in fig.data[:2])
    K, r, t0 = (float(fit.params[n]) for n in ("K", "r", "t0"))
    t = np.linspace(0.0, 20.0, 201)
    y = K / (1 + np.exp(-r * (t - t0)))
    y2 = K / (1 + np.exp(-r * (2.0 - t0)))
    expected = np.where(t <= 2.0, y, y2 + 0.5 * (y - y2))
    np.testing.assert_allclose(actual, y, rtol=1e-9)
    np.testing.assert_allclose(cf, expected, rtol=1e-9)
    assert "day 2" in fig.data[1].name


@pytest.mark.parametrize("case_id", ["synthetic-example", "united-breaks-guitars"])
def test_sensitivity_of_the_intervention_model_matches_its_delay_costs(case_id):
    """The tornado's light refits give the numbers of the full delay_cost, factor by
    factor (the base e estimated on the synthetic case, a stated 0.5 on United)."""
    case = ck.load_case(case_id)
    cmp = ck.reach.compare(case)
    fit = cmp.best
    s = rs.sensitivity(fit, curves=cmp, case=case, cpm=(1.0, 4.0, 9.0), n_draws=0)
    assert set(s.table["factor"]) == {"effectiveness", "CPM", "curve"}
    assert "not a factor here" in s.settings["model"]

    def extra(f, **kw):
        dc = rs.delay_cost(f, delays=[0.0], n_draws=0, **kw)
        return dc.actual["final_reach"] - dc.at(0.0)["final_reach"], dc

    base, dc = extra(fit)
    assert s.base_reach == pytest.approx(base, rel=1e-9)
    assert s.settings["base settings"].startswith(f"e = {dc.effectiveness_text}")
    t = s.table.set_index("factor")
    for e, col in ((0.2, "output_low"), (0.8, "output_high")):
        assert t.loc["effectiveness", col] == pytest.approx(
            extra(fit, effectiveness=e)[0] * 4 / 1000, rel=1e-9
        )
    delta = cmp.ranking.set_index("curve")["delta_aicc"]
    for name, alt in cmp.fits.items():
        if delta[name] > rs.MAX_DELTA_AICC:  # no support from the data: not a factor
            assert name not in s.curve_outputs
            assert f"{name} (ΔAICc" in s.settings["curves compared"]
            continue
        assert s.curve_outputs[name] == pytest.approx(extra(alt)[0], rel=1e-9, abs=1e-9)


def test_sensitivity_reuses_a_comparisons_fits():
    case = ck.load_case("synthetic-example")
    cmp = ck.reach.compare(case, curves=["logistic", "gompertz"], metric="video_views")
    reused = rs.sensitivity(cmp.fits["logistic"], curves=cmp)
    refit = rs.sensitivity(cmp.fits["logistic"], curves=["logistic", "gompertz"])
    delta = cmp.ranking.set_index("curve")["delta_aicc"]
    if delta["gompertz"] <= rs.MAX_DELTA_AICC:
        pd.testing.assert_frame_equal(reused.table, refit.table)
    else:  # a comparison's unsupported curve is left out, and named
        assert set(reused.curve_outputs) == {"logistic"}
        assert "gompertz (ΔAICc" in reused.settings["curves compared"]
        assert reused.curve_outputs["logistic"] == pytest.approx(refit.curve_outputs["logistic"])


def test_sensitivity_of_a_multiwave_fit_leaves_out_the_rate_model():
    case = ck.load_case("synthetic-example")
    two = ck.reach.multiwave("logistic", 2)
    fit = ck.reach.fit(case, curve=two, metric="video_views", loss="log")
    s = rs.sensitivity(fit, curves=["logistic"], model="flow")
    assert "model" not in set(s.table["factor"])
    assert s.settings["model"].startswith("model factor left out: rate damping")


def test_severity_reports_the_thresholds_it_used():
    case = ck.load_case("synthetic-example")
    sev = rs.severity(case, thresholds={"community": 5})
    assert sev.thresholds["community"] == 5
    assert "community=5" in sev.settings["thresholds"] and "community=5" in str(sev)
    assert rs.severity(case).thresholds == rs.SEVERITY_THRESHOLDS


def test_severity_of_a_case_with_no_dates_says_what_is_missing(tmp_path):
    empty = ck.load_case(
        ck.new_case("no-dates-yet", tmp_path, company="A", country="GB", summary="S")
    )
    with pytest.raises(ck.InsufficientDataError, match="no dated events and no key dates"):
        rs.severity(empty)


# ---------------------------------------------------------------------------
# no hidden reads: the dates come from the fit, never from the catalog
# ---------------------------------------------------------------------------


def _copy_case(src: Path, dest: Path, new_id: str | None = None) -> Path:
    import shutil

    shutil.copytree(src, dest)
    if new_id is not None:
        _edit_yaml(dest, "id: synthetic-example", f"id: {new_id}")
    return dest


def test_a_case_loaded_from_a_folder_outside_the_catalog(case_dir, tmp_path):
    # a copy under an id the catalog does not know: reloading it by id is impossible
    folder = _copy_case(case_dir, tmp_path / "elsewhere" / "copied-kettle", "copied-kettle")
    with pytest.raises(ck.CaseNotFoundError):
        ck.load_case("copied-kettle")
    case = ck.load_case(folder)
    fit = ck.reach.fit(case, metric="video_views")
    K, r, t0 = (fit.params[n] for n in ("K", "r", "t0"))
    dc = rs.delay_cost(fit, delays=[0, 1], n_draws=0, model="flow")
    assert dc.actual_delay == 4.0 and dc.case_id == "copied-kettle"
    y4 = logistic(4.0, K, r, t0)
    assert dc.actual["final_reach"] == pytest.approx(y4 + 0.5 * (K - y4), rel=1e-10)
    assert dc.settings["actual delay"].startswith("first_response key date 8 Mar 2024")
    dc = rs.delay_cost(fit, delays=[0, 1], n_draws=0)  # the intervention model
    assert dc.actual_delay == 4.0 and dc.case_id == "copied-kettle"
    assert dc.settings["actual delay"].startswith("day 4: first_response key date 8 Mar 2024")
    w = rs.reach_while_waiting(fit, n_draws=50)
    assert w.response_t == 4.0
    assert w.value("before_response") == pytest.approx(y4, rel=1e-10)
    s = rs.sensitivity(fit, curves=["logistic", "gompertz"], n_draws=0, model="flow")
    assert s.base_reach == pytest.approx(0.5 * (y4 - logistic(0.0, K, r, t0)), rel=1e-9)
    assert s.unit == "GBP"


def test_an_edited_copy_of_a_bundled_case_uses_its_own_dates(case_dir):
    # the copy keeps the bundled id, so a reload by id would find the bundled dates (day 4)
    _edit_yaml(case_dir, "first_response: {date: 2024-03-08", "first_response: {date: 2024-03-11")
    case = ck.load_case(case_dir)
    assert case.id == "synthetic-example"
    assert ck.load_case("synthetic-example").key_date("first_response") == pd.Timestamp(
        "2024-03-08"
    )
    fit = ck.reach.fit(case, metric="video_views")
    K, r, t0 = (fit.params[n] for n in ("K", "r", "t0"))
    dc = rs.delay_cost(fit, delays=[0, 4], n_draws=0)
    assert dc.actual_delay == 7.0
    assert dc.table.set_index("delay_days").loc[7.0, "actual"]
    assert not dc.table.set_index("delay_days").loc[4.0, "actual"]
    w = rs.reach_while_waiting(fit, n_draws=0)
    assert w.response_t == 7.0
    assert w.value("before_response") == pytest.approx(logistic(7.0, K, r, t0), rel=1e-10)
    s = rs.sensitivity(fit, curves=["logistic"], cpm=(1.0, 4.0, 9.0), n_draws=0, model="flow")
    extra = 0.5 * (logistic(7.0, K, r, t0) - logistic(0.0, K, r, t0))
    assert s.base == pytest.approx(extra * 4 / 1000, rel=1e-9)
    assert s.settings["actual delay"].startswith("day 7: first_response key date 11 Mar 2024")


def test_a_fit_of_plain_data_has_no_response_time(syn):
    s = syn.series("video_views")
    fit = ck.reach.fit(s[s["source"] == "synthetic-counter"], origin=syn.origin)
    with pytest.raises(InsufficientDataError, match="response time is unknown"):
        rs.reach_while_waiting(fit)
    dc = rs.delay_cost(fit, delays=[0, 1], n_draws=0, model="flow")
    assert dc.actual_delay is None and dc.actual is None
    assert dc.settings["actual delay"].startswith("unknown: the response time is unknown")
    assert "actual delay is unknown" in str(dc)
    # the intervention model cannot reproduce what happened without the response time
    with pytest.raises(InsufficientDataError, match="response time is unknown.*actual_delay="):
        rs.delay_cost(fit, delays=[0, 1], n_draws=0)
    dc = rs.delay_cost(fit, delays=[0, 1], n_draws=0, actual_delay=4.0)
    assert dc.actual_delay == 4.0 and dc.settings["actual delay"].startswith("day 4: given")
    # given explicitly, it is used
    w = rs.reach_while_waiting(fit, response="2024-03-08", n_draws=0)
    assert w.response_t == 4.0
    # a case passed to sensitivity supplies the dates a plain fit lacks
    sens = rs.sensitivity(fit, curves=["logistic"], case=syn, n_draws=0)
    assert sens.settings["actual delay"].startswith("day 4")


# ---------------------------------------------------------------------------
# the result contract: intervals, settings, round trips
# ---------------------------------------------------------------------------


def test_delay_cost_conf_int_against_independent_quantiles(fits):
    fit = fits["logistic"]
    e = 0.4
    dc = rs.delay_cost(fit, delays=[0, 2, 4, 8], effectiveness=e, n_draws=400, seed=5, model="flow")
    K, r, t0 = (dc.draws[:, [i]] for i in range(3))
    d = dc.table["delay_days"].to_numpy()[None, :]
    y = K / (1 + np.exp(-r * (d - t0)))
    final = y + (1 - e) * (K - y)
    y0 = K / (1 + np.exp(r * t0))
    for alpha in (0.05, 0.2):
        ci = dc.conf_int(alpha).set_index("quantity")
        for q, values in (
            ("final_reach", final),
            ("reach_avoided", K - final),
            ("cost_of_delay", final - (y0 + (1 - e) * (K - y0))),
        ):
            lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2], axis=0)
            assert np.allclose(ci.loc[q, "lower"], lo, rtol=1e-9)
            assert np.allclose(ci.loc[q, "upper"], hi, rtol=1e-9)
    # at the result's own level the table's band is the final-reach interval
    ci = dc.conf_int().query("quantity == 'final_reach'")
    assert np.array_equal(ci["lower"].to_numpy(), dc.table["lower"].to_numpy())
    assert dc.has_intervals and dc.summary["quantity"].iloc[0].startswith("final reach, no")
    none = rs.delay_cost(fit, delays=[0, 1], n_draws=0).conf_int()
    assert none[["lower", "upper"]].isna().all().all()


def test_intervention_delay_cost_conf_int_against_independent_quantiles(fits):
    # one response, a scenario e: the final reach of a logistic base in operational time is
    # K / (1 + exp(-r (tau_inf - t0))), tau_inf = (1 - e) / delta + e (1 - exp(-delta d)) / delta
    fit = fits["logistic"]
    e = 0.4
    dc = rs.delay_cost(fit, delays=[0, 2, 4, 8], effectiveness=e, n_draws=400, seed=5)
    assert dc.draws.shape[1] == 4  # K, r, t0, delta (e is fixed)
    K, r, t0, delta = (dc.draws[:, [i]] for i in range(4))
    d = dc.table["delay_days"].to_numpy()[None, :]
    dd = np.where(np.isfinite(d), d, 0.0)
    ee = np.where(np.isfinite(d), e, 0.0)
    tau = (1 - ee) / delta + ee * (-np.expm1(-delta * dd)) / delta
    final = K / (1 + np.exp(-r * (tau - t0)))
    never = K / (1 + np.exp(-r * (1 / delta - t0)))
    at0 = K / (1 + np.exp(-r * ((1 - e) / delta - t0)))
    for alpha in (0.05, 0.2):
        ci = dc.conf_int(alpha).set_index("quantity")
        for q, values in (
            ("final_reach", final),
            ("reach_avoided", never - final),
            ("cost_of_delay", final - at0),
        ):
            lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2], axis=0)
            assert np.allclose(ci.loc[q, "lower"], lo, rtol=1e-9)
            assert np.allclose(ci.loc[q, "upper"], hi, rtol=1e-9)
    assert "stated scenario value" in dc.settings["effectiveness e"]


def test_waiting_and_sensitivity_conf_int(fits):
    fit = fits["logistic"]
    w = rs.reach_while_waiting(fit, n_draws=300, alpha=0.1)
    ci = w.conf_int()  # the result's own level
    assert np.allclose(ci["lower"], w.table["lower"]) and np.allclose(ci["upper"], w.table["upper"])
    wide = w.conf_int(0.01).set_index("quantity")
    assert (wide["lower"] <= ci.set_index("quantity")["lower"]).all()
    K, r, t0 = (fit.params[n] for n in ("K", "r", "t0"))
    s = rs.sensitivity(
        fit, curves=["logistic"], cpm=(1.0, 4.0, 9.0), n_draws=300, seed=2, model="flow"
    )
    dc = rs.delay_cost(fit, delays=[0.0], n_draws=300, seed=2, model="flow")  # the same draws
    Kd, rd, td = (dc.draws[:, i] for i in range(3))
    y = lambda t: Kd / (1 + np.exp(-rd * (t - td)))  # noqa: E731
    extra = 0.5 * (y(4.0) - y(0.0))
    lo, hi = np.quantile(extra, [0.025, 0.975])
    base = s.conf_int().set_index("quantity")
    assert base.loc["base_reach", "lower"] == pytest.approx(lo, rel=1e-9)
    assert base.loc["base", "upper"] == pytest.approx(hi * 4 / 1000, rel=1e-9)
    assert base.loc["base", "estimate"] == pytest.approx(
        0.5 * (logistic(4, K, r, t0) - logistic(0, K, r, t0)) * 4 / 1000
    )


def test_params_are_estimates_and_settings_hold_the_arguments(syn, fits):
    dc = rs.delay_cost(fits["logistic"], delays=[0, 4], n_draws=100, seed=3)
    assert set(dc.params.index) == {"fitted_final", "final_reach", "reach_avoided", "cost_of_delay"}
    assert dc.settings["seed"] == 3 and dc.settings["n_draws"] == 100
    assert dc.settings["case"] == "synthetic-example"
    d = rs.delays(syn)
    assert d.params["decision_delay"] == 35.0 and "case" in d.settings
    det = rs.detection_replay(syn, "forum_posts")
    assert det.params.to_dict() == {
        "detection_lag_days": 2.0,
        "decision_lag_days": 2.0,
        "response_lag_days": 4.0,
    }
    sev = rs.severity(syn)
    assert sev.params.to_dict() == {"level": 4, "level_at_response": 3}
    m = rs.money_lenses(syn)
    assert list(m.params.index) == m.supported
    for r in (dc, d, det, sev, m):
        assert isinstance(r.summary, pd.DataFrame)
        assert str(r).splitlines()[-1].startswith("  - ")  # the Settings block closes the prose
        assert "\nSettings:\n" in str(r)


@pytest.mark.parametrize(
    "make",
    [
        lambda c, f: rs.delay_cost(f, delays=[0, 1], n_draws=0),
        lambda c, f: rs.delay_cost(f, delays=[0, 1, np.inf], n_draws=50, model="rate"),
        lambda c, f: rs.reach_while_waiting(f, n_draws=0, horizon=20.0),
        lambda c, f: rs.detection_replay(ck.load_case("united-breaks-guitars")),
        lambda c, f: rs.delays(ck.load_case("range-rover-colchester")),
        lambda c, f: rs.severity(ck.load_case("range-rover-colchester")),
        lambda c, f: rs.money_lenses(ck.load_case("range-rover-colchester")),
        lambda c, f: rs.sensitivity(f, curves=["logistic"], n_draws=0),
    ],
    ids=[
        "cost-no-draws",
        "cost-rate",
        "waiting-no-draws",
        "detection-none-fired",
        "delays-unknown",
        "severity",
        "money-unsupported",
        "sensitivity-no-draws",
    ],
)
def test_round_trip_edge_cases(syn, fits, make):
    r = make(syn, fits["logistic"])
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    back = type(r).from_dict(d)
    assert back.to_dict() == d and str(back) == str(r)
    pd.testing.assert_frame_equal(back.table, r.table, check_dtype=False)


def test_bad_arguments_raise_parameter_error(syn, fits):
    fit = fits["logistic"]
    bad_calls = [
        lambda: rs.delay_cost(fit, n_draws=-1),
        lambda: rs.delay_cost(fit, n_draws=1.5),
        lambda: rs.delay_cost(fit, n_draws=True),
        lambda: rs.delay_cost(fit, seed=-1),
        lambda: rs.delay_cost(fit, effectiveness=True),
        lambda: rs.delay_cost(fit, effectiveness=-0.1),
        lambda: rs.delay_cost(fit, effectiveness=float("nan")),
        lambda: rs.delay_cost(fit, effectiveness="0.5"),
        lambda: rs.delay_cost(fit, delays=[0, float("nan")]),
        lambda: rs.delay_cost(fit, delays=[]),
        lambda: rs.delay_cost(fit, delays="0,1"),
        lambda: rs.delay_cost(fit, delays=[True, 2]),
        lambda: rs.delay_cost(fit, actual_delay=float("nan")),
        lambda: rs.delay_cost(fit, horizon=float("nan")),
        lambda: rs.delay_cost(fit, horizon=0),
        lambda: rs.delay_cost(fit, alpha=0),
        lambda: rs.delay_cost(fit, alpha=True),
        lambda: rs.delay_cost(fit, bands="jackknife"),
        lambda: rs.delay_cost("not a fit"),
        lambda: rs.reach_while_waiting(fit, response=float("nan")),
        lambda: rs.reach_while_waiting(fit, response=True),
        lambda: rs.reach_while_waiting(fit, response="not a date"),
        lambda: rs.reach_while_waiting(fit, n_draws=-5),
        lambda: rs.reach_while_waiting(fit, horizon=float("nan")),
        lambda: rs.sensitivity(fit, effectiveness_range=(0.2,)),
        lambda: rs.sensitivity(fit, effectiveness_range=(0.2, 1.5)),
        lambda: rs.sensitivity(fit, reference_delay=-1),
        lambda: rs.sensitivity(fit, cpm=(1, 2)),
        lambda: rs.sensitivity(fit, model="hawkes"),
        lambda: rs.sensitivity(fit, case="synthetic-example"),
        lambda: rs.what_if(fit, delay=1.0, effectiveness=True),
        lambda: rs.what_if(fit, delay=float("nan")),
        lambda: rs.severity(syn, days_after=-1),
        lambda: rs.severity(syn, thresholds={"nope": 1}),
        lambda: rs.severity(syn, thresholds={"community": -1}),
        lambda: rs.severity("synthetic-example"),
        lambda: rs.delays("synthetic-example"),
        lambda: rs.money_lenses(syn, delay_cost="cost"),
        lambda: rs.money_lenses(syn, market_window=(0,)),
        lambda: rs.detection_replay(syn, "no_such_metric"),
        lambda: rs.detection_replay(syn, rules=["social_1h_vs_12h"]),
        lambda: rs.replay_rules(pd.Series([1.0, 2.0, 3.0])),
        lambda: rs.SpikeRule("x", "ratio", pd.Timedelta(0), pd.Timedelta(days=1), 2.0, "s"),
        lambda: rs.level_from_indicators(1, True, 0, 0, False, {"mass": "big"}),
    ]
    for i, call in enumerate(bad_calls):
        with pytest.raises(ParameterError):
            call()
            pytest.fail(f"bad call {i} did not raise")
    # n_draws = 0 stays valid: it means no bands, as documented
    assert rs.delay_cost(fit, delays=[0], n_draws=0).table["lower"].isna().all()
