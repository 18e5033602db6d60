"""ck.forecast.replay: the rolling-origin replay (issue #10, early warning)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import casekit as ck
from casekit.exceptions import ParameterError
from casekit.forecast import TABLE_COLUMNS, Replay

FORECAST_COLS = ["n_obs", "observed", "estimate", "lower", "upper", "status", "se_log", "df"]


@pytest.fixture(scope="module")
def synthetic():
    return ck.load_case("synthetic-example")


@pytest.fixture(scope="module")
def wiesenhof():
    return ck.load_case("werder-bremen-wiesenhof")


@pytest.fixture(scope="module")
def views(synthetic):
    return ck.forecast.replay(synthetic, 100_000, metric="video_views")


@pytest.fixture(scope="module")
def wh(wiesenhof):
    return ck.forecast.replay(wiesenhof, 10_000, step="12h")


def _views_series(case) -> pd.Series:
    s = case.series("video_views")
    return pd.Series(s["value"].to_numpy(), index=pd.DatetimeIndex(s["time"]), name="views")


def _hand_coverage(r: Replay) -> float:
    hits = total = 0
    for row in r.table.itertuples():
        if row.status in ("ok", "unbounded"):
            total += 1
            hits += row.lower <= r.final_value <= row.upper
    return hits / total


def _simulated(seed=3):
    from casekit.events.simulate import simulate

    return simulate(mu=30.0, n_star=0.5, omega=6.0, end=6.0, seed=seed)


# --------------------------------------------------------------------------- no look-ahead


def test_series_forecast_ignores_data_after_tau(synthetic):
    s = _views_series(synthetic)
    origin = synthetic.context.origin
    tau = 4.0
    cut = origin + pd.Timedelta(days=tau)
    before = ck.forecast.replay(s, 1e5, step=[tau, 9.0], origin=origin, rules=())

    rng = np.random.default_rng(7)
    after = s[s.index > cut]
    # shuffle the later values, scale them and move their times, all still after tau
    new_vals = rng.permutation(after.to_numpy()) * rng.uniform(0.5, 3.0, len(after))
    new_idx = cut + pd.to_timedelta(np.sort(rng.uniform(0.01, 20, len(after))), unit="D")
    perturbed = pd.concat([s[s.index <= cut], pd.Series(new_vals, index=new_idx, name="views")])
    again = ck.forecast.replay(perturbed, 1e5, step=[tau, 9.0], origin=origin, rules=())

    assert again.final_value != before.final_value  # the perturbation is real ...
    row0, row1 = before.table.iloc[0], again.table.iloc[0]
    assert row0["status"] == "ok"
    for c in FORECAST_COLS:  # ... and the forecast at tau is exactly the same
        assert row0[c] == row1[c] or (pd.isna(row0[c]) and pd.isna(row1[c])), c
    # while the forecast at a later origin does see the change
    assert before.table["estimate"].iloc[1] != again.table["estimate"].iloc[1]


def test_case_and_series_paths_agree(synthetic, views):
    s = _views_series(synthetic)
    r = ck.forecast.replay(s, 1e5, step=list(views.table["tau"]), origin=synthetic.context.origin)
    pd.testing.assert_frame_equal(
        r.table[FORECAST_COLS], views.table[FORECAST_COLS], check_exact=True
    )


def test_event_forecast_ignores_events_after_tau():
    t = _simulated()
    tau = 3.0
    base = ck.forecast.replay(t, 500, step=[tau], rules=(), n_draws=200)
    rng = np.random.default_rng(1)
    later = np.sort(rng.uniform(tau + 1e-6, 9.0, 2 * int((t > tau).sum())))
    moved = np.concatenate([t[t <= tau], later])
    again = ck.forecast.replay(moved, 500, step=[tau], rules=(), n_draws=200)
    assert again.final_value != base.final_value
    a, b = base.table.iloc[0], again.table.iloc[0]
    assert a["status"] == "ok"
    for c in ("n_obs", "estimate", "lower", "upper", "status"):
        assert a[c] == b[c], c


# --------------------------------------------------------------------------- the answers


def test_first_alert_is_first_row_whose_lower_bound_passes(views, wh):
    for r in (views, wh):
        t = r.table
        hand = None
        for row in t.itertuples():
            if row.status in ("ok", "unbounded") and row.lower >= r.threshold:
                hand = row.tau
                break
        assert hand is not None
        assert r.forecast_alert == hand
        assert t["passes_threshold"].tolist() == [
            s in ("ok", "unbounded") and lo >= r.threshold for s, lo in zip(t["status"], t["lower"])
        ]
        assert r.forecast_alert_time == r.origin + pd.Timedelta(days=hand)
    assert views.forecast_alert_time == pd.Timestamp("2024-03-09")
    assert wh.forecast_alert_time == pd.Timestamp("2012-08-12")


def test_coverage_equals_hand_count(views, wh):
    for r in (views, wh):
        assert r.coverage == pytest.approx(_hand_coverage(r), abs=0)
        assert r.params["coverage"] == r.coverage
    # Wiesenhof: 24 origins every 12 h, 3 without a forecast; 20,000 members in the end
    assert wh.final_value == 20_000
    assert (wh.table["status"] == "ok").sum() == 21
    assert wh.coverage == _hand_coverage(wh) == 1.0


def test_relative_error_is_against_the_final_value(views):
    t = views.table
    ok = t["status"] == "ok"
    expected = (t.loc[ok, "estimate"] - 126_015.0) / 126_015.0
    np.testing.assert_array_equal(t.loc[ok, "rel_error"], expected)
    assert t.loc[~ok, "rel_error"].isna().all()


def test_too_few_points_rows(synthetic, wh):
    r = ck.forecast.replay(synthetic, 1e5, metric="video_views", step=[0.5, 0.7, 5.0])
    t = r.table
    assert t["status"].tolist() == ["too few points", "too few points", "ok"]
    assert t["n_obs"].tolist()[:2] == [1, 2]
    assert t.loc[:1, ["estimate", "lower", "upper"]].isna().all().all()
    assert not t.loc[:1, "passes_threshold"].any()
    assert "needs at least 4" in t.loc[0, "note"]
    # Wiesenhof at day 0.5: one reading (4,000 members on 8 Aug 2012)
    first = wh.table.iloc[0]
    assert (first["tau"], first["n_obs"], first["status"]) == (0.5, 1, "too few points")
    assert "Origins without a forecast" in str(wh)


def test_too_few_events_rows():
    t = _simulated()
    r = ck.forecast.replay(t, 500, step=[t[5], 3.0], rules=(), n_draws=200)
    assert r.table["status"].tolist() == ["too few points", "ok"]
    assert r.table["n_obs"].iloc[0] == 6


def test_spike_rules_and_response_come_from_the_case(synthetic):
    r = ck.forecast.replay(synthetic, 500, metric="forum_posts")
    det = ck.response.detection_replay(synthetic, "forum_posts")
    assert r.spike_alert_time == det.first_alert == pd.Timestamp("2024-03-06")
    assert r.spike_rule == det.first_alert_rule.split(": ")[1]
    assert r.response_time == synthetic.context.key_date("first_response")
    # per-day counts become a running total known at each day's end
    assert r.final_value == synthetic.series("forum_posts")["value"].sum()
    row = r.table.set_index("tau").loc[0.0]
    assert row["observed"] == synthetic.series("forum_posts").query("t < 0")["value"].sum()


def test_wiesenhof_response_and_summary(wh, wiesenhof):
    assert wh.response_time == pd.Timestamp("2012-08-09")
    s = wh.summary
    assert s["moment"].tolist()[2] == "company's first response"
    assert s["days"].iloc[2] == 1.0
    assert list(wh.table.columns) == list(TABLE_COLUMNS)


def test_unbounded_fit_passes_any_threshold(monkeypatch):
    from casekit.events import hawkes

    class Fake:
        final = {"estimate": math.inf, "lower": math.inf, "upper": math.inf,
                 "n_end": 1.2, "supercritical": True}  # fmt: skip

    monkeypatch.setattr(hawkes, "fit", lambda *a, **k: Fake())
    r = ck.forecast.replay(_simulated(), 1e12, step=[3.0], rules=())
    row = r.table.iloc[0]
    assert row["status"] == "unbounded" and row["passes_threshold"]
    assert r.forecast_alert == 3.0
    assert "infinite" in str(r)


# --------------------------------------------------------------------------- contract


def test_conf_int(views):
    ci = views.conf_int()
    assert list(ci.columns) == ["lower", "upper"]
    np.testing.assert_array_equal(ci["lower"], views.table["lower"])
    wide, narrow = views.conf_int(0.01), views.conf_int(0.2)
    ok = (views.table["status"] == "ok").to_numpy()
    assert (wide["upper"].to_numpy()[ok] > ci["upper"].to_numpy()[ok]).all()
    assert (narrow["lower"].to_numpy()[ok] > ci["lower"].to_numpy()[ok]).all()
    with pytest.raises(ParameterError):
        views.conf_int(2)


def test_conf_int_event_branch_refuses_another_level():
    r = ck.forecast.replay(_simulated(), 500, step=[3.0], rules=(), n_draws=200)
    assert r.conf_int(0.05).shape == (1, 2)
    with pytest.raises(ParameterError, match="needs the fits again"):
        r.conf_int(0.1)


def test_round_trip_and_prose(views):
    d = views.to_dict()
    json.dumps(d)
    back = Replay.from_dict(d)
    assert back.to_dict() == d
    text = str(views)
    assert text.startswith("A forecaster watching video_views")
    assert "could have known by 9 Mar 2024" in text
    assert "the company answered at 8 Mar 2024" in text
    assert "\nSettings:\n" in text
    assert isinstance(views.summary, pd.DataFrame)
    assert "could have known by" in views._repr_html_()


def test_plot_marks_everything_on_one_axis(synthetic):
    r = ck.forecast.replay(synthetic, 400, metric="forum_posts")
    fig = r.plot()
    names = [t.name for t in fig.data]
    assert {"interval", "forecast", "forecast passes threshold", "spike rule fires",
            "company responds"} <= set(names)  # fmt: skip
    xs = sorted(pd.Timestamp(s.x0) for s in fig.layout.shapes if s.yref == "paper")
    assert xs == sorted([r.forecast_alert_time, r.spike_alert_time, r.response_time])
    ys = [s.y0 for s in fig.layout.shapes if s.yref != "paper"]
    assert 400 in ys


def test_bad_input(synthetic):
    with pytest.raises(ParameterError, match="threshold"):
        ck.forecast.replay(synthetic, -1)
    with pytest.raises(ParameterError, match="step"):
        ck.forecast.replay(synthetic, 10, step="often")
    with pytest.raises(ParameterError, match="unknown curve"):
        ck.forecast.replay(synthetic, 10, curve="spline")
    with pytest.raises(ParameterError, match="no reach metric"):
        ck.forecast.replay(synthetic, 10, metric="likes")
    with pytest.raises(ParameterError, match="max_origins"):
        ck.forecast.replay(synthetic, 10, step="1min")
    with pytest.raises(ParameterError, match="no origin date"):
        ck.forecast.replay(np.arange(50.0), 10, step=[pd.Timestamp("2024-01-01")])


def test_event_log_with_case_context(synthetic):
    from casekit.events import EXAMPLE_LOG

    log = ck.events.load(EXAMPLE_LOG, time="time", id="id", tz="Europe/London", case=synthetic)
    r = ck.forecast.replay(log, 3000, step=["2024-03-07", 5.0], context=synthetic, n_draws=200)
    assert r.branch == "events" and r.final_value == log.n_events
    assert r.table["time"].tolist() == [pd.Timestamp("2024-03-07"), pd.Timestamp("2024-03-09")]
    assert r.table["n_obs"].tolist() == [int((log.times() <= d).sum()) for d in (3.0, 5.0)]
    assert r.response_time == pd.Timestamp("2024-03-08")
    # the spike rules run on the log's hourly counts
    h = log.counts("1h")
    tab, _ = ck.response.replay_rules(pd.Series(h["count"].to_numpy(float), index=h["time"]))
    assert r.spike_alert_time == tab["first_alert"].min()
    back = Replay.from_dict(r.to_dict())
    assert back.to_dict() == r.to_dict()
    pd.testing.assert_frame_equal(back.table, r.table)


def test_event_replay_bounds_are_never_nan_and_warm_starts_match_cold_fits():
    from casekit.events.hawkes import fit
    from casekit.events.simulate import simulate

    t = simulate(1.0, 0.9, 2.0, end=20.0, seed=4)
    r = ck.forecast.replay(t, 1e4, step=[10.0, 15.0, 20.0], rules=(), n_draws=200)
    ok = r.table[r.table["status"] == "ok"]
    assert len(ok) == 3 and not ok[["estimate", "lower", "upper"]].isna().any().any()
    last = fit(t, "exp", end=20.0, intervals="wald", n_draws=200)
    assert ok["estimate"].iloc[-1] == pytest.approx(last.final["estimate"], rel=1e-5)
    assert ok["upper"].iloc[-1] == pytest.approx(last.final["upper"], rel=1e-4)
