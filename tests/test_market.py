"""The share-price event study: statistics against independent computations and exact answers
on price files the tests make, every bad-input error, the study of a case read from its folder,
and the UAL case on the reference price files (read in ../shared, never copied; skipped where
that folder is absent)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import statsmodels.api as sm
from scipy import stats

import casekit as ck
from casekit.exceptions import InsufficientDataError, ParameterError, PriceDataError
from casekit.market import EventStudy, case_event_study, event_study, find_price_file, load_prices

HEADER = "Date,Open,High,Low,Close,Adj Close,Volume\n"
UAL_SHARES = 167_040_862
PEERS = ("DAL", "LUV", "JBLU", "ALK", "AAL", "SKYW")


# --- synthetic price files ------------------------------------------------------------------


def write_prices(folder, name, dates, prices, close=None):
    """A Yahoo-style CSV; prices written with repr() so they read back bit for bit."""
    close = prices if close is None else close
    lines = [
        f"{pd.Timestamp(d):%Y-%m-%d},{float(c)!r},{float(c)!r},{float(c)!r},{float(c)!r},"
        f"{float(p)!r},1000"
        for d, p, c in zip(dates, prices, close)
    ]
    path = folder / f"{name}.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def prices_from(returns, start=50.0):
    return [float(v) for v in start * np.cumprod(np.r_[1.0, 1.0 + np.asarray(returns)])]


# 12 estimation-window returns + 4 event-window returns (days -1..2): small, fixed numbers
RM = np.array(
    [
        0.010,
        -0.004,
        0.007,
        -0.012,
        0.003,
        0.015,
        -0.008,
        0.002,
        -0.006,
        0.011,
        0.004,
        -0.009,
        0.005,
        -0.002,
        0.012,
        -0.007,
    ]
)
NOISE = np.array(
    [
        0.002,
        -0.001,
        0.003,
        0.001,
        -0.004,
        0.002,
        0.000,
        -0.002,
        0.004,
        -0.003,
        0.001,
        -0.002,
        0.001,
        -0.030,
        0.004,
        0.002,
    ]
)
RS = 0.001 + 1.3 * RM + NOISE
DATES16 = pd.bdate_range("2024-03-01", periods=17)


@pytest.fixture
def tiny(tmp_path):
    write_prices(tmp_path, "MKT", DATES16, prices_from(RM, 100.0))
    write_prices(tmp_path, "STK", DATES16, prices_from(RS, 20.0))
    return tmp_path


def tiny_study(folder, **kw):
    args = {
        "ticker": "STK",
        "event_date": DATES16[14],
        "market": "MKT",
        "peers": (),
        "benchmarks": ("market",),
        "estimation_days": 12,
        "event_window": (-1, 2),
        "car_windows": ((0, 0), (0, 2), (-1, 2)),
    }
    args.update(kw)
    return event_study(folder, **args)


def hand_market_model(y_est, x_est, y_evt, x_evt):
    """Closed-form OLS and MacKinlay's matrix form of the prediction-error variance."""
    n = len(y_est)
    beta = np.cov(x_est, y_est, ddof=1)[0, 1] / np.var(x_est, ddof=1)
    alpha = y_est.mean() - beta * x_est.mean()
    resid = y_est - alpha - beta * x_est
    s2 = (resid**2).sum() / (n - 2)
    ar = y_evt - alpha - beta * x_evt
    X = np.column_stack([np.ones(n), x_est])
    Xs = np.column_stack([np.ones(len(x_evt)), x_evt])
    V = s2 * (np.eye(len(x_evt)) + Xs @ np.linalg.inv(X.T @ X) @ Xs.T)
    return alpha, beta, s2, resid, ar, V


# --- (1) by hand on a tiny series -------------------------------------------------------------


def test_market_model_by_hand(tiny):
    s = tiny_study(tiny)
    p = np.array(prices_from(RS, 20.0))
    m = np.array(prices_from(RM, 100.0))
    r, rm = p[1:] / p[:-1] - 1, m[1:] / m[:-1] - 1
    alpha, beta, s2, _, ar, V = hand_market_model(r[:12], rm[:12], r[12:], rm[12:])
    par = s.params.loc[("STK 2024-03-21", "market")]
    assert par["alpha"] == pytest.approx(alpha, rel=1e-9)
    assert par["beta"] == pytest.approx(beta, rel=1e-9)
    assert par["sigma"] == pytest.approx(math.sqrt(s2), rel=1e-9)
    assert par["n_est"] == 12 and par["df"] == 10
    d = s.daily
    np.testing.assert_allclose(d["rel_day"], [-1, 0, 1, 2])
    np.testing.assert_allclose(d["ar"], ar, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(d["car"], np.cumsum(ar), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(d["ar_t"], ar / np.sqrt(np.diag(V)), rtol=1e-9)
    q = stats.t.ppf(0.975, 10)
    for t1, t2 in ((0, 0), (0, 2), (-1, 2)):
        g = np.zeros(4)
        g[t1 + 1 : t2 + 2] = 1
        car, var = g @ ar, g @ V @ g
        row = s.car_table.set_index("window").loc[f"({t1},{t2})"]
        assert row["car"] == pytest.approx(car, rel=1e-9)
        assert row["se"] == pytest.approx(math.sqrt(var), rel=1e-9)
        assert row["se_plain"] == pytest.approx(math.sqrt(s2 * g.sum()), rel=1e-9)
        assert row["t"] == pytest.approx(car / math.sqrt(var), rel=1e-9)
        assert row["p"] == pytest.approx(2 * stats.t.sf(abs(car / math.sqrt(var)), 10), rel=1e-9)
        assert row["lower"] == pytest.approx(car - q * math.sqrt(var), rel=1e-9)
        assert row["upper"] == pytest.approx(car + q * math.sqrt(var), rel=1e-9)
        assert row["raw_return"] == pytest.approx(p[t2 + 14] / p[t1 + 13] - 1, rel=1e-9)
    # the corrected variance is larger than the plain s^2 L
    assert (s.car_table["se"] > s.car_table["se_plain"]).all()


def test_market_adjusted_and_money_by_hand(tiny):
    s = tiny_study(tiny, benchmarks=("market_adjusted",), shares_outstanding=1_000_000)
    p = np.array(prices_from(RS, 20.0))
    m = np.array(prices_from(RM, 100.0))
    r, rm = p[1:] / p[:-1] - 1, m[1:] / m[:-1] - 1
    s2 = np.var(r[:12] - rm[:12], ddof=1)
    row = s.car_table.set_index("window").loc["(0,2)"]
    assert row["car"] == pytest.approx((r[13:16] - rm[13:16]).sum(), rel=1e-9)
    assert row["se"] == pytest.approx(math.sqrt(3 * s2), rel=1e-9)
    assert row["df"] == 11
    cap = 1_000_000 * p[13]  # default: close before day 0
    assert s.market_cap["STK 2024-03-21"]["value"] == pytest.approx(cap)
    assert row["money"] == pytest.approx(row["car"] * cap)
    assert row["money_lower"] == pytest.approx(row["lower"] * cap)
    s0 = tiny_study(tiny, shares_outstanding=1_000_000, price_for_cap="event close")
    assert s0.market_cap["STK 2024-03-21"]["value"] == pytest.approx(1_000_000 * p[14])
    s1 = tiny_study(tiny, shares_outstanding={"STK": 10}, price_for_cap=2.5)
    assert s1.market_cap["STK 2024-03-21"]["value"] == 25.0


# --- (3) Corrado rank test against an independent implementation ----------------------------------


def corrado_by_hand(series_list, window_positions):
    """Corrado (1989): ranks over estimation + event window, U = K - (T+1)/2."""
    T = len(series_list[0])
    U = []
    for s in series_list:
        ranks = np.empty(T)
        ranks[np.argsort(s)] = np.arange(1, T + 1)  # no ties in these data
        U.append(ranks - (T + 1) / 2)
    Ubar = np.mean(U, axis=0)
    SK = np.sqrt(np.mean(Ubar**2))
    return Ubar[window_positions].sum() / (np.sqrt(len(window_positions)) * SK)


def test_corrado_single_firm(tiny):
    s = tiny_study(tiny)
    p = np.array(prices_from(RS, 20.0))
    m = np.array(prices_from(RM, 100.0))
    r, rm = p[1:] / p[:-1] - 1, m[1:] / m[:-1] - 1
    _, _, _, resid, ar, _ = hand_market_model(r[:12], rm[:12], r[12:], rm[12:])
    series = np.r_[resid, ar]  # 12 estimation + 4 event days (rel -1..2 at positions 12..15)
    table = s.car_table.set_index("window")
    for t1, t2 in ((0, 0), (0, 2), (-1, 2)):
        pos = np.arange(12 + t1 + 1, 12 + t2 + 2)
        z = corrado_by_hand([series], pos)
        assert table.loc[f"({t1},{t2})", "corrado_z"] == pytest.approx(z, rel=1e-9)
        assert table.loc[f"({t1},{t2})", "corrado_p"] == pytest.approx(2 * stats.norm.sf(abs(z)))


# --- (4) Patell Z and BMP on a 3-event panel ------------------------------------------------------


@pytest.fixture
def panel(tmp_path):
    rng = np.random.default_rng(2024)
    n = 60
    dates = pd.bdate_range("2023-01-02", periods=n + 1)
    rm = rng.normal(0.0005, 0.01, n)
    write_prices(tmp_path, "MKT", dates, prices_from(rm, 100.0))
    rets = {}
    for k, (name, shock_day) in enumerate((("AAA", 40), ("BBB", 45), ("CCC", 50))):
        r = 0.0003 * k + (0.8 + 0.3 * k) * rm + rng.normal(0, 0.006 + 0.002 * k, n)
        r[shock_day] -= 0.02 + 0.01 * k
        rets[name] = r
        write_prices(tmp_path, name, dates, prices_from(r, 10.0 + k))
    events = [("AAA", dates[41]), ("BBB", dates[46]), ("CCC", dates[51])]
    return tmp_path, dates, rm, rets, events


def test_patell_and_bmp_by_hand(panel):
    folder, dates, rm, rets, events = panel
    L1, w = 30, (-2, 3)
    s = event_study(
        folder,
        events=events,
        market="MKT",
        peers=(),
        benchmarks=("market",),
        estimation_days=L1,
        event_window=w,
        car_windows=((0, 0), (0, 2), (-2, 3)),
    )
    assert [e["label"] for e in s.events] == [f"{t} {d:%Y-%m-%d}" for t, d in events]
    table = s.car_table.set_index(["event", "window"])
    for t1, t2 in ((0, 0), (0, 2), (-2, 3)):
        scar, cars, vars_, sar0, series = [], [], [], [], []
        for tk, day in events:
            j0 = dates.get_loc(day) - 1  # position of day 0 among the returns
            est = slice(j0 + w[0] - L1, j0 + w[0])
            evt = slice(j0 + w[0], j0 + w[1] + 1)
            _, _, _, resid, ar, V = hand_market_model(
                rets[tk][est], rm[est], rets[tk][evt], rm[evt]
            )
            g = np.zeros(len(ar))
            g[t1 - w[0] : t2 - w[0] + 1] = 1
            cars.append(g @ ar)
            vars_.append(g @ V @ g)
            scar.append(cars[-1] / math.sqrt(vars_[-1]))
            sar0.append(ar[-w[0]] / math.sqrt(V[-w[0], -w[0]]))
            series.append(np.r_[resid, ar])
            row = table.loc[(f"{tk} {day:%Y-%m-%d}", f"({t1},{t2})")]
            assert row["patell_z"] == pytest.approx(scar[-1] / math.sqrt((L1 - 2) / (L1 - 4)))
            assert math.isnan(row["bmp_t"])
        N = 3
        patell = sum(scar) / math.sqrt(N * (L1 - 2) / (L1 - 4))
        bmp = np.mean(scar) / (np.std(scar, ddof=1) / math.sqrt(N))
        j1 = np.mean(cars) / (math.sqrt(sum(vars_)) / N)
        pooled = table.loc[("all (N=3)", f"({t1},{t2})")]
        assert pooled["car"] == pytest.approx(np.mean(cars), rel=1e-9)
        assert pooled["t"] == pytest.approx(j1, rel=1e-9)
        assert pooled["patell_z"] == pytest.approx(patell, rel=1e-9)
        assert pooled["bmp_t"] == pytest.approx(bmp, rel=1e-9)
        assert pooled["bmp_p"] == pytest.approx(2 * stats.t.sf(abs(bmp), N - 1), rel=1e-9)
        pos = np.arange(L1 + t1 - w[0], L1 + t2 - w[0] + 1)
        assert pooled["corrado_z"] == pytest.approx(corrado_by_hand(series, pos), rel=1e-9)
        if (t1, t2) == (0, 0):  # one day: Patell's classic standardised AR
            assert pooled["patell_z"] == pytest.approx(
                sum(sar0) / math.sqrt(N * (L1 - 2) / (L1 - 4)), rel=1e-9
            )
    assert not any("BMP not applicable" in n for n in s.notes)


def test_single_event_bmp_not_applicable(tiny):
    s = tiny_study(tiny)
    assert s.car_table["bmp_t"].isna().all()
    assert any(n.startswith("BMP not applicable") for n in s.notes)
    assert not s.car_table["event"].str.startswith("all").any()


# --- (5) exact answers on a synthetic market with known abnormal returns ----------------------


def synthetic_study(prices, **kw):
    args = {"ticker": "STK", "event_date": prices.day0, "market": "MKT", "peers": ("PA", "PB")}
    args.update(kw)
    return event_study(prices.folder, **args)


def test_synthetic_recovers_alpha_beta_and_the_injected_returns(synthetic_market):
    m = synthetic_market
    s = synthetic_study(m)
    assert s.settings["benchmarks"] == ("market", "peers")  # peers given: both by default
    for bench in ("market", "peers"):
        par = s.params.loc[("STK 2024-03-04", bench)]
        assert par["alpha"] == pytest.approx(m.alpha, abs=1e-13)
        assert par["beta"] == pytest.approx(m.beta, rel=1e-10)
        assert par["sigma"] ** 2 == pytest.approx((m.noise[m.est] ** 2).sum() / 118, rel=1e-9)
        assert par["est_end"] == m.dates[m.j0 - 1]  # the estimation window ends before day -1
        d = s.daily[s.daily["benchmark"] == bench].set_index("rel_day")
        np.testing.assert_allclose(
            d["ar"], [m.ar.get(t, 0.0) for t in range(-1, 6)], rtol=0, atol=1e-13
        )
        row = s.car_table[s.car_table["benchmark"] == bench].set_index("window")
        for window, car in {
            "(0,0)": 0.05,
            "(0,1)": 0.05,
            "(0,3)": 0.02,
            "(-1,1)": 0.05,
            "(0,5)": 0.02,
        }.items():
            assert row.loc[window, "car"] == pytest.approx(car, abs=1e-13)
            assert row.loc[window, "lower"] < car < row.loc[window, "upper"]
        # +5 % on a day whose AR has a standard deviation of about 0.4 %: unmistakable
        assert row.loc["(0,0)", "p"] < 1e-15 and row.loc["(0,0)", "t"] > 10
    assert s.daily.loc[s.daily["rel_day"] == 2, "ret"].iloc[0] == pytest.approx(m.alpha - 0.03)


def test_synthetic_money_and_close_before_event(synthetic_market):
    m = synthetic_market
    s = synthetic_study(m, shares_outstanding=1_000_000)
    cap = s.market_cap["STK 2024-03-04"]
    close = m.close[m.dates[m.j0]]  # the close of the trading day before day 0
    assert (cap["price"], cap["price_date"]) == (close, "2024-03-01")
    assert cap["value"] == pytest.approx(1_000_000 * close)
    row = s.car_table.set_index(["benchmark", "window"]).loc[("market", "(0,0)")]
    assert row["money"] == pytest.approx(0.05 * 1_000_000 * close, rel=1e-12)
    assert row["money_lower"] == pytest.approx(row["lower"] * cap["value"])


def test_synthetic_verdicts_follow_the_interval(synthetic_market):
    s = synthetic_study(synthetic_market, shares_outstanding=1_000_000, currency="GBP")
    # -10 % lies far outside CAR(0,3) = +2 % +- 1.7 %
    text = s.verdict(price_change_pct=-10, window=(0, 3))
    assert text.startswith("The data contradict the claim")
    assert "was +2.0 % (95 % CI +0.3 % to +3.7 %" in text and ", not −10 %." in text
    # +5 % on day 0 is what happened, and it is significant
    text = s.verdict(price_change_pct=5, window=(0, 0))
    assert text.startswith("The data are consistent with the claim")
    assert "and the interval includes +5 %" in text
    # a small fall on a day with no abnormal return: inside the interval, not significant
    text = s.verdict(price_change_pct=-0.5, window=(1, 1))
    assert text.startswith("The data do not support the claim")
    # no claim: what the data show over the longest window from day 0, and nothing tested
    text = s.verdict()
    assert text.startswith("STK’s cumulative abnormal return over trading days 0..5")
    assert "claim" not in text
    assert (
        "The largest one-day fall within 15 trading days of day 0 was −3.0 % on 6 Mar 2024 "
        "(day +2, inside the window)" in text
    )
    assert "the market value was £29 M" in text


def test_synthetic_verdict_on_a_claim_row(synthetic_market):
    s = synthetic_study(synthetic_market, shares_outstanding=1_000_000, currency="GBP")
    claim = pd.Series(
        {
            "id": "paper",
            "claim": "The shares fell 10 %, a loss of 9 million.",
            "by": "A fictional paper",
            "source": "synthetic-press",
            "price_change_pct": -10.0,
            "value_change": -9e6,
            "currency": "GBP",
            "window": (0, 3),
        }
    )
    text = s.verdict(claim)
    assert text.startswith(
        "The data contradict the claim “The shares fell 10 %, a loss of 9 "
        "million.” by A fictional paper (source synthetic-press): "
    )
    assert "over trading days 0..3" in text  # the claim's window
    assert "A 10 % fall would be about £2.9 M, not £9 M" in text
    assert "10 % and £9 M cannot both hold" in text
    # explicit numbers replace the claim's; a window given replaces the claim's window
    assert "over trading days 0..0" in s.verdict(claim, window=(0, 0))
    assert s.verdict(claim, price_change_pct=5, window=(0, 0)).startswith(
        "The data are consistent with the claim"
    )
    # a claim of a loss in money alone is tested through the market value (-9 M is -31 %)
    only_money = claim.drop(["price_change_pct"])
    text = s.verdict(only_money)
    assert text.startswith("The data contradict the claim") and ", not −31 %." in text
    assert "The claimed change in value, £9 M, is 31 % of the market value" in text
    # a claim in another currency is not compared with the market value
    text = s.verdict(claim.drop(["price_change_pct"]).to_dict() | {"currency": "USD"})
    assert (
        "The claimed change in value is in USD, the prices in GBP, so it was not checked." in text
        and "gives no price change that could be tested" in text
    )
    # without shares outstanding a money claim cannot be checked
    text = synthetic_study(synthetic_market).verdict(claim)
    assert (
        "No shares outstanding were given, so the claimed change in value was not checked." in text
    )


@pytest.mark.parametrize(
    "claim, message",
    [
        ({"price_change_pct": "ten"}, "claim price_change_pct must be a number"),
        ({"price_change_pct": float("inf")}, "must be a finite number"),
        ({"value_change": True}, "claim value_change must be a number"),
        ({"window": "soon"}, "claim window 'soon': expected two trading days"),
        ({"window": (3, 0)}, "claim window must be a pair of integers"),
        ({"window": (0, 9)}, r"window \(0, 9\) is not inside the event window"),
        ("-10 %", "claim must be a row of case.claims"),
        (pd.DataFrame({"claim": ["a", "b"]}), "not a table of 2 rows"),
    ],
)
def test_bad_claims(synthetic_market, claim, message):
    s = synthetic_study(synthetic_market)
    with pytest.raises(ParameterError, match=message):
        s.verdict(claim)


def test_claim_windows_are_read_in_several_spellings(synthetic_market):
    s = synthetic_study(synthetic_market)
    for window in ("0..3", "(0, 3)", "[0,3]", [0, 3], (0, 3)):
        assert "over trading days 0..3" in s.verdict({"price_change_pct": -10, "window": window})


def test_known_events_are_named(synthetic_market):
    s = synthetic_study(synthetic_market)
    text = s.verdict(known_events={"2024-03-05": "the results"})
    assert (
        "−3.0 % on 6 Mar 2024 (day +2, inside the window; the day after the results on "
        "5 Mar 2024)" in text
    )
    text = s.verdict(known_events=[("2024-03-06", "a strike")])
    assert "inside the window; the day of a strike)" in text
    with pytest.raises(ParameterError, match="known_events must map dates"):
        s.verdict(known_events=[1, 2])


def test_synthetic_round_trip_and_prose(synthetic_market):
    s = synthetic_study(synthetic_market, shares_outstanding=1_000_000)
    d = s.to_dict()
    back = EventStudy.from_dict(json.loads(json.dumps(d, allow_nan=False)))
    assert back.to_dict() == d and str(back) == str(s)
    pd.testing.assert_frame_equal(back.params, s.params)
    pd.testing.assert_frame_equal(back.conf_int(0.1), s.conf_int(0.1))
    assert back.car("peers", (0, 3)) == s.car("peers", (0, 3))
    assert back.verdict(price_change_pct=-10) == s.verdict(price_change_pct=-10)
    text = str(s)
    assert text.startswith("Event study of STK 2024-03-04 (day 0: 4 Mar 2024).")
    assert "against the market index MKT: (0,0) 5.0 %" in text
    assert "  - car_windows: (0,0); (0,1); (0,3); (-1,1); (0,5)" in text
    assert s.table is s.daily and "lower %" in s.summary.columns
    fig = s.plot()
    assert [t.type for t in fig.data] == ["scatter", "bar", "scatter"]
    np.testing.assert_allclose(fig.data[1].y, [0, 5, 0, -3, 0, 0, 0], atol=1e-11)
    only_peers = synthetic_study(synthetic_market, market=None, benchmarks=("peers",))
    assert "equal-weight peer index (PA, PB)" in only_peers.plot().layout.title.text
    with pytest.raises(ParameterError, match="benchmark 'market' not in this study"):
        only_peers.plot(benchmark="market")


def test_conf_int_matches_statsmodels(synthetic_market):
    m = synthetic_market
    s = synthetic_study(m, benchmarks=("market",))
    p = pd.Series(m.close)
    mkt = pd.read_csv(find_price_file(m.folder, "MKT"), index_col="Date")["Adj Close"]
    y, x = p.pct_change().to_numpy()[1:][m.est], mkt.pct_change().to_numpy()[1:][m.est]
    fit = sm.OLS(y, sm.add_constant(x)).fit()
    for alpha in (0.05, 0.5):
        ci = s.conf_int(alpha).loc[("STK 2024-03-04", "market")]
        np.testing.assert_allclose(
            ci[["lower", "upper"]].to_numpy(), fit.conf_int(alpha), rtol=1e-9
        )


# --- (6) a study of a case, read from the case folder --------------------------------------------


def add_market_to_case(case_dir: Path, *, market=True, shares=True) -> Path:
    """The synthetic example case with a market block, a claim and two share counts."""
    yaml = (case_dir / "case.yaml").read_text(encoding="utf-8")
    if market:
        yaml += "analysis:\n  market: {ticker: STK, index: MKT, peers: [PA, PB]}\n"
    yaml += (
        "claims:\n"
        "  - id: paper-share-fall\n"
        "    claim: The video made the shares fall 10 %, a loss of 9 million pounds.\n"
        "    by: A fictional newspaper\n"
        "    date: 2024-03-06\n"
        "    source: synthetic-press\n"
        "    quote: shares fell 10 per cent\n"
        "    confidence: medium\n"
        "    price_change_pct: -10\n"
        "    value_change: -9000000\n"
        "    currency: GBP\n"
        "    window: [0, 3]\n"
    )
    (case_dir / "case.yaml").write_text(yaml, encoding="utf-8")
    if shares:
        with (case_dir / "costs.csv").open("a", encoding="utf-8") as fh:
            fh.write(
                "Shares outstanding (a blog),shares_outstanding,2000000,shares,2024-03-01,"
                "day,,exact,reported,,synthetic-press,2 million shares,low,synthetic\n"
                "Shares outstanding (annual report),shares_outstanding,1000000,shares,"
                "2023-12,month,,exact,reported,,synthetic-press,1 million shares,high,"
                "synthetic\n"
            )
    return case_dir


def test_case_event_study_reads_the_case(synthetic_market, case_dir):
    case = ck.load_case(add_market_to_case(case_dir))
    s = case_event_study(case, synthetic_market.folder)
    direct = synthetic_study(synthetic_market, shares_outstanding=1_000_000, currency="GBP")
    pd.testing.assert_frame_equal(s.car_table, direct.car_table)
    st = s.settings
    assert st["case"] == "synthetic-example" and st["currency"] == "GBP"
    assert st["ticker_from"] == st["market_from"] == st["peers_from"] == "case.yaml analysis.market"
    assert st["event_date_from"].startswith("key date going_public (4 Mar 2024, precision day")
    # the most confident of the two share counts, named by its line
    assert st["shares_outstanding"] == {"STK": 1_000_000}
    assert re.match(
        r"costs\.csv line \d+: Shares outstanding \(annual report\) = 1,000,000 "
        r"\(Dec 2023; high confidence; source synthetic-press\); the most confident "
        r"of 2 shares_outstanding rows",
        st["shares_outstanding_from"],
    )
    # the company and media news of the timeline near the event
    assert (
        pd.Timestamp("2024-03-06"),
        "media coverage “A national newspaper covers the video”",
    ) in s.known_events
    ((_, claim),) = case.claims.iterrows()
    text = s.verdict(claim)
    assert text.startswith("The data contradict the claim “The video made the shares fall 10 %")
    assert "by A fictional newspaper (source synthetic-press)" in text
    assert (
        "No one-day fall of 9 % or more (nine tenths of the claimed fall) within 15 trading "
        "days of day 0; the largest was −3.0 % on 6 Mar 2024 (day +2, inside the window; the "
        "day of media coverage “A national newspaper covers the video”)." in text
    )
    assert "A 10 % fall would be about £2.9 M, not £9 M" in text
    text = s.verdict(claim, price_change_pct=-3, window=(2, 2))
    assert (
        "One-day falls of 3 % or more (nine tenths of the claimed fall) within 15 trading "
        "days of day 0: −3.0 % on 6 Mar 2024 (day +2, inside the window; the day of media "
        "coverage" in text
    )
    assert s.verdict(claim, known_events={}).count("media coverage") == 0


def test_case_event_study_overrides_and_errors(synthetic_market, case_dir):
    case = ck.load_case(add_market_to_case(case_dir))
    s = case_event_study(
        case,
        synthetic_market.folder,
        peers=(),
        shares_outstanding=10,
        event_date="2024-03-06",
        benchmarks=("market",),
    )
    assert s.settings["peers_from"] == "argument" and s.settings["peers"] == []
    assert s.settings["shares_outstanding_from"] == "argument"
    assert s.events[0]["label"] == "STK 2024-03-06"
    with pytest.raises(ParameterError, match="not events"):
        case_event_study(case, synthetic_market.folder, events=[("STK", "2024-03-04")])
    with pytest.raises(ParameterError, match="not colour"):
        case_event_study(case, synthetic_market.folder, colour="red")
    with pytest.raises(ParameterError, match="must be a loaded casekit Case"):
        case_event_study("synthetic-example", synthetic_market.folder)


def test_case_without_market_block_or_date(synthetic_market, case_dir, tmp_path):
    case = ck.load_case(add_market_to_case(case_dir, market=False, shares=False))
    with pytest.raises(ParameterError, match="names no share ticker"):
        case_event_study(case, synthetic_market.folder)
    s = case_event_study(case, synthetic_market.folder, ticker="STK", market="MKT")
    assert s.settings["shares_outstanding"] is None
    assert s.settings["shares_outstanding_from"].startswith("none in costs.csv")
    yaml = (case_dir / "case.yaml").read_text(encoding="utf-8")
    for value, error, message in (
        ("null", InsufficientDataError, "the going_public date is unknown"),
        (
            "{date: 2024-03, precision: month, source: synthetic-timeline, confidence: high}",
            InsufficientDataError,
            "known only to the month",
        ),
    ):
        (case_dir / "case.yaml").write_text(
            re.sub(r"going_public: \{[^}]*\}", f"going_public: {value}", yaml), encoding="utf-8"
        )
        try:
            edited = ck.load_case(case_dir)
        except ck.CaseValidationError:
            continue  # the loader itself refuses this variant
        with pytest.raises(error, match=message):
            case_event_study(edited, synthetic_market.folder, ticker="STK", market="MKT")
        s = case_event_study(
            edited, synthetic_market.folder, ticker="STK", market="MKT", event_date="2024-03-04"
        )
        assert s.settings["event_date_from"] == "argument"


def test_no_case_facts_in_the_market_code():
    """Tickers, dates and claims belong to a case's folder, never to casekit.market."""
    folder = Path(ck.market.__file__).parent
    paths = [*folder.glob("*.py"), Path(ck.plots.__file__).parent / "market.py"]
    text = "\n".join(p.read_text(encoding="utf-8") for p in paths)
    for fact in ("UAL", "United", "2009", "180", "airline", "GSPC", "DAL", "The Times"):
        assert fact not in text, fact
    for case_id in ck.list_cases().query("valid")["id"]:
        case = ck.load_case(case_id)
        if case.synthetic:  # the fictional example is what doctests run on
            continue
        assert case_id not in text
        market = case.analysis.get("market") or {}
        for ticker in [market.get("ticker"), market.get("index"), *market.get("peers", ())]:
            if ticker:
                assert not re.search(rf"\b{re.escape(ticker)}\b", text), ticker
        if case.key_date("going_public") is not None:
            assert f"{case.key_date('going_public'):%Y-%m-%d}" not in text
        for by in case.claims["by"]:
            assert by not in text, by


# --- (7) bad input: clear errors with file and line ---------------------------------------------


@pytest.fixture
def good(tmp_path):
    dates = pd.bdate_range("2024-01-01", periods=40)
    rng = np.random.default_rng(1)
    rm = rng.normal(0, 0.01, 39)
    write_prices(tmp_path, "MKT", dates, prices_from(rm, 100.0))
    write_prices(tmp_path, "STK", dates, prices_from(1.2 * rm + rng.normal(0, 0.01, 39), 5.0))
    write_prices(tmp_path, "PEER", dates, prices_from(rm + rng.normal(0, 0.01, 39), 8.0))
    return tmp_path, dates


def run(folder, **kw):
    args = {
        "ticker": "STK",
        "event_date": "2024-02-12",
        "market": "MKT",
        "peers": ("PEER",),
        "estimation_days": 20,
    }
    args.update(kw)
    return event_study(folder, **args)


def edit_line(path, line_no, new_text):
    lines = path.read_text().splitlines()
    lines[line_no - 1] = new_text
    path.write_text("\n".join(lines) + "\n")


def test_good_synthetic_runs(good):
    folder, _ = good
    s = run(folder)
    assert set(s.params.index.get_level_values("benchmark")) == {"market", "peers"}


def test_missing_ticker_file(good):
    folder, _ = good
    with pytest.raises(
        PriceDataError, match=r"no price file for ticker 'XYZ'.*MKT\.csv, PEER\.csv"
    ):
        run(folder, peers=("PEER", "XYZ"))
    with pytest.raises(PriceDataError, match="does not exist"):
        run(folder / "nowhere")


def test_event_date_outside_data(good):
    folder, _ = good
    with pytest.raises(
        PriceDataError,
        match=r"2025-01-06 for STK is outside the price data, "
        r"which run from 2024-01-01 to 2024-02-23: STK\.csv "
        r"starts on 2024-01-01 \(line 2\), STK\.csv ends "
        r"on 2024-02-23 \(line 41\)",
    ):
        run(folder, event_date="2025-01-06")
    with pytest.raises(
        PriceDataError,
        match=r"runs past the end of the data: STK\.csv ends on "
        r"2024-02-23 \(line 41\)",
    ):
        run(folder, event_date="2024-02-21")


def test_estimation_window_too_short(good):
    folder, _ = good
    with pytest.raises(ParameterError, match="estimation_days must be an integer >= 10"):
        run(folder, estimation_days=5)
    with pytest.raises(
        PriceDataError,
        match=r"estimation window too short for STK 2024-02-12: "
        r"60 returns are needed.*the data give 28: STK\.csv "
        r"starts on 2024-01-01 \(line 2\)",
    ):
        run(folder, estimation_days=60)


def test_duplicate_dates(good):
    folder, dates = good
    edit_line(folder / "PEER.csv", 5, f"{dates[2]:%Y-%m-%d},1,1,1,8,8,100")
    with pytest.raises(
        PriceDataError,
        match=r"PEER\.csv, line 5, column 'Date': duplicate date "
        r"2024-01-03 \(also on line 4\)",
    ):
        run(folder)


def test_unsorted_dates(good):
    folder, _dates = good
    lines = (folder / "STK.csv").read_text().splitlines()
    lines[6], lines[7] = lines[7], lines[6]
    (folder / "STK.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(
        PriceDataError,
        match=r"STK\.csv, line 8, column 'Date': dates are not in "
        r"ascending order",
    ):
        run(folder)


def test_gap_in_dates(good):
    folder, _ = good
    lines = (folder / "MKT.csv").read_text().splitlines()
    del lines[10:16]  # six weekdays missing
    (folder / "MKT.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(
        PriceDataError,
        match=r"MKT\.csv, line 11, column 'Date': gap in the data: "
        r"6 weekdays missing between 2024-01-11 \(line 10\)",
    ):
        run(folder)


def test_mismatched_dates_strict_and_inner(good):
    folder, _ = good
    lines = (folder / "PEER.csv").read_text().splitlines()
    del lines[12]  # one holiday-like missing day: allowed inside a file, differs across files
    (folder / "PEER.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(
        PriceDataError,
        match=r"dates of PEER\.csv and STK\.csv differ.*2024-01-16 "
        r"is on line 13 of STK\.csv but missing from "
        r"PEER\.csv.*align='inner'",
    ):
        run(folder)
    s = run(folder, align="inner")
    assert s.settings["dropped_days"] == 1
    assert any("1 date(s) not in every file were dropped" in n for n in s.notes)
    assert load_prices(folder, ["STK", "PEER"], align="inner").shape == (39, 2)


@pytest.mark.parametrize(
    "bad, column, message",
    [
        ("2024-01-03,1,1,1,5,null,10", "Adj Close", "cannot read 'null' as a price"),
        ("2024-01-03,1,1,1,abc,5,10", "Close", "cannot read 'abc' as a price"),
        ("2024-01-03,1,1,1,5,0,10", "Adj Close", "non-positive price 0"),
        ("2024-01-03,1,1,1,-5,5,10", "Close", "non-positive price -5"),
        ("03/01/2024,1,1,1,5,5,10", "Date", "cannot read '03/01/2024' as a date"),
    ],
)
def test_bad_values_name_line_and_column(good, bad, column, message):
    folder, _ = good
    edit_line(folder / "STK.csv", 4, bad)
    with pytest.raises(PriceDataError, match=rf"STK\.csv, line 4, column '{column}': {message}"):
        run(folder)


def test_bad_structure(good):
    folder, _ = good
    (folder / "MKT.csv").write_text("Date,Open,Close\n2024-01-01,1,1\n")
    with pytest.raises(PriceDataError, match=r"MKT\.csv, line 1: missing column\(s\) Adj Close"):
        run(folder)
    edit_line(folder / "STK.csv", 3, "2024-01-02,1,1")
    with pytest.raises(PriceDataError, match=r"STK\.csv, line 3: 3 fields, the header has 7"):
        load_prices(folder, "STK")
    (folder / "PEER.csv").write_text("")
    with pytest.raises(PriceDataError, match=r"PEER\.csv, line 1: the file is empty"):
        load_prices(folder, "PEER")
    (folder / "PEER.csv").write_text(HEADER)
    with pytest.raises(PriceDataError, match=r"PEER\.csv: no data rows"):
        load_prices(folder, "PEER")


def test_ambiguous_file(good):
    folder, _ = good
    (folder / "STK_2024_yahoo.csv").write_text((folder / "STK.csv").read_text())
    with pytest.raises(
        PriceDataError,
        match=r"several price files for ticker 'STK'.*STK\.csv, "
        r"STK_2024_yahoo\.csv",
    ):
        run(folder)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"car_windows": ((0, 9),)}, r"car window \(0, 9\) is not inside the event window"),
        ({"event_window": (2, 1)}, "event_window must be a pair of integers"),
        ({"benchmarks": ("market", "sector")}, "benchmarks must be distinct names"),
        ({"alpha": 1.5}, "alpha must be between 0 and 1"),
        ({"gap_days": -1}, "gap_days must be an integer >= 0"),
        ({"shares_outstanding": -5}, "shares_outstanding for STK must be a positive number"),
        ({"price_for_cap": "open"}, "price_for_cap must be one of"),
        ({"events": [("STK", "2024-02-12")]}, "give either events="),
        ({"event_date": "not a date"}, "cannot read 'not a date' as a date"),
        ({"peers": ("STK",)}, "needs at least one peer other than STK"),
        ({"align": "outer"}, "align must be 'strict' or 'inner'"),
        (
            {
                "events": [("STK", "2024-02-12"), ("PEER", "2024-02-12")],
                "ticker": None,
                "event_date": None,
                "shares_outstanding": 5,
            },
            "must be a mapping",
        ),
        ({"ticker": None}, "give the event: ticker and event_date"),
        ({"event_date": None}, "give the event: ticker and event_date"),
        ({"market": None}, "market: give the ticker of the market index"),
        ({"shares_outstanding": float("inf")}, "shares_outstanding for STK must be a positive"),
        ({"price_for_cap": float("nan")}, "price_for_cap must be one of"),
        ({"currency": ""}, "currency must be an ISO code"),
    ],
)
def test_bad_parameters(good, kw, message):
    folder, _ = good
    with pytest.raises(ParameterError, match=message):
        run(folder, **kw)


def test_weekend_event_moves_to_next_trading_day(good):
    folder, _ = good
    s = run(folder, event_date="2024-02-10")  # a Saturday
    assert s.events[0]["label"] == "STK 2024-02-12"
    assert any("is not a trading day" in n for n in s.notes)


def test_study_errors_are_accessible(good):
    folder, _ = good
    s = run(folder)
    with pytest.raises(ParameterError, match="benchmark 'market_adjusted' not in this study"):
        s.car("market_adjusted")
    with pytest.raises(ParameterError, match="unknown event"):
        s.plot(event="XYZ 2024-01-01")
    with pytest.raises(ParameterError, match="not inside the event window"):
        s.verdict(window=(0, 10))


def test_shorter_peer_file_limits_the_span_and_is_named(good):
    folder, _dates = good
    lines = (folder / "PEER.csv").read_text().splitlines()
    (folder / "PEER.csv").write_text("\n".join([lines[0], *lines[16:]]) + "\n")
    with pytest.raises(
        PriceDataError,
        match=r"estimation window too short.*PEER\.csv starts on "
        r"2024-01-22 \(line 2\)",
    ):
        run(folder)
    s = run(folder, estimation_days=10)
    assert any(
        "rows outside the common span 2024-01-22..2024-02-23 not used: STK.csv 15, MKT.csv 15" in n
        for n in s.notes
    )


# --- (8) United Breaks Guitars on the reference files (skipped where ../shared is absent) -------

KNOWN = {"2009-07-21": "UAL's Q2 results"}


@pytest.fixture(scope="module")
def ubg():
    return ck.load_case("united-breaks-guitars")


@pytest.fixture(scope="module")
def times_claim(ubg):
    claims = ubg.claims.set_index("id", drop=False)
    return claims.loc["times-share-fall"]


@pytest.fixture(scope="module")
def ual_0706(ubg, prices_dir):
    return case_event_study(
        ubg,
        prices_dir,
        price_for_cap="event close",
        benchmarks=("market", "peers", "market_adjusted"),
    )


@pytest.fixture(scope="module")
def ual_0722(ubg, prices_dir):
    return case_event_study(ubg, prices_dir, event_date="2009-07-22")


def test_case_supplies_the_ual_study(ubg, ual_0706):
    assert ubg.analysis["market"]["ticker"] == "UAL"
    assert tuple(ubg.analysis["market"]["peers"]) == PEERS
    st = ual_0706.settings
    assert [e["label"] for e in ual_0706.events] == ["UAL 2009-07-06"]
    assert st["market"] == "GSPC" and st["peers"] == list(PEERS)
    assert st["shares_outstanding"] == {"UAL": UAL_SHARES}
    assert "sec-ual-10q-2009q3" in st["shares_outstanding_from"]
    assert st["event_date_from"].startswith("key date going_public (6 Jul 2009")


def test_params_match_statsmodels_on_real_data(ubg, prices_dir):
    s = case_event_study(ubg, prices_dir)
    frames = {
        t: pd.read_csv(find_price_file(prices_dir, t), index_col="Date", parse_dates=True)
        for t in ("UAL", "GSPC", *PEERS)
    }
    r = pd.DataFrame({t: f["Adj Close"] for t, f in frames.items()}).pct_change().iloc[1:]
    day0 = r.index.get_loc(pd.Timestamp("2009-07-06"))
    est = r.iloc[day0 - 1 - 120 : day0 - 1]  # 120 returns ending before day -1
    assert est.index[-1] == pd.Timestamp("2009-07-01")
    for bench, x in (("market", est["GSPC"]), ("peers", est[list(PEERS)].mean(axis=1))):
        fit = sm.OLS(est["UAL"].to_numpy(), sm.add_constant(x.to_numpy())).fit()
        par = s.params.loc[("UAL 2009-07-06", bench)]
        assert par["alpha"] == pytest.approx(fit.params[0], rel=1e-9)
        assert par["beta"] == pytest.approx(fit.params[1], rel=1e-9)
        assert par["sigma"] ** 2 == pytest.approx(fit.mse_resid, rel=1e-9)
        assert par["r2"] == pytest.approx(fit.rsquared, rel=1e-9)
        ci = s.conf_int().loc[("UAL 2009-07-06", bench)]
        np.testing.assert_allclose(ci[["lower", "upper"]].to_numpy(), fit.conf_int(0.05), rtol=1e-9)
        evt = r.loc["2009-07-02":"2009-07-13"]
        xe = evt["GSPC"] if bench == "market" else evt[list(PEERS)].mean(axis=1)
        pred = fit.predict(sm.add_constant(xe.to_numpy()))
        d = s.daily[s.daily["benchmark"] == bench]
        np.testing.assert_allclose(d["ar"], evt["UAL"].to_numpy() - pred, rtol=1e-9)


def test_real_files_load_aligned(prices_dir):
    df = load_prices(prices_dir, ["UAL", "^GSPC", *PEERS])
    assert df.shape == (252, 8) and df.attrs["dropped_days"] == 0
    assert df.loc["2009-07-06", "UAL"] == 3.34
    assert df.attrs["files"]["GSPC"] == "GSPC_2009_yahoo.csv"


def test_ual_video_claim_not_supported(ual_0706, times_claim):
    s = ual_0706
    text = s.verdict(times_claim, known_events=KNOWN)
    assert text.startswith(("The data do not support the claim", "The data contradict the claim"))
    assert "by The Times (London) (source times-2009-07-22;hbs-case-510-057-text)" in text
    assert "over trading days 0..3 around 6 Jul 2009" in text  # the claim's window
    assert "was +2.7 % (95 % CI" in text  # UAL rose against the market after the upload
    cap = s.market_cap["UAL 2009-07-06"]
    assert cap["price"] == 3.34 and cap["value"] == pytest.approx(557.9e6, abs=0.1e6)
    assert "$558 M" in text and "about $56 M, not $180 M" in text and "cannot both hold" in text
    assert "−9.7 % on 22 Jul 2009" in text and "the day after UAL's Q2 results" in text
    table = s.car_table.set_index(["benchmark", "window"])
    assert table.loc[("market", "(0,3)"), "car"] == pytest.approx(0.027, abs=0.0005)
    for bench in ("market", "peers", "market_adjusted"):
        row = table.loc[(bench, "(0,3)")]
        assert abs(row["car"] - (-0.10)) > 0.05, "CAR(0,3) is nowhere near -10 %"
        assert row["p"] > 0.05  # no detectable abnormal move
        assert row["lower"] < 0 < row["upper"]
        assert row["raw_return"] == pytest.approx(3.18 / 3.31 - 1, rel=1e-6)
    # the "four days after the upload": close 07-06 -> close 07-10
    four = s.car("market", (1, 4))
    assert four["raw_return"] == pytest.approx(3.26 / 3.34 - 1, rel=1e-6)


def test_ual_news_from_the_case_timeline(ual_0706, times_claim):
    text = ual_0706.verdict(times_claim)  # known events from the case, not given
    assert (
        "−9.7 % on 22 Jul 2009 (day +12, outside the window; the day after the company's "
        "news “UAL Corp. publishes its second-quarter 2009 results" in text
    )
    assert "on 21 Jul 2009; the day of media coverage “The Times (London) writes" in text


def test_every_ual_claim_is_tested(ubg, ual_0706):
    assert len(ubg.claims) >= 1
    for _, claim in ubg.claims.iterrows():
        text = ual_0706.verdict(claim)
        assert text.startswith(
            ("The data do not support the claim", "The data contradict the claim")
        ), text[:80]
        assert claim["by"] in text


def test_ual_default_cap_uses_close_before_event(ubg, prices_dir):
    s = case_event_study(ubg, prices_dir)
    cap = s.market_cap["UAL 2009-07-06"]
    assert (cap["price"], cap["price_date"]) == (3.31, "2009-07-02")
    assert cap["value"] == pytest.approx(3.31 * UAL_SHARES)


def test_ual_0722_is_the_ten_percent_day(ual_0722, times_claim):
    s = ual_0722
    for bench in ("market", "peers"):
        d = s.daily[s.daily["benchmark"] == bench].set_index("rel_day")
        assert d.loc[0, "date"] == pd.Timestamp("2009-07-22")
        assert d.loc[0, "ret"] == pytest.approx(3.36 / 3.72 - 1, rel=1e-9)  # -9.68 %
        assert d["ar"].idxmin() == 0
        assert d.loc[0, "ar"] == pytest.approx(d.loc[0, "ret"], abs=0.015)
    peers_day0 = s.car("peers", (0, 0))
    assert peers_day0["p"] < 0.05 and peers_day0["lower"] < -0.10 < peers_day0["upper"]
    text = s.verdict(times_claim, window=(0, 0), benchmark="peers", known_events=KNOWN)
    assert text.startswith("The data are consistent with the claim")
    assert "the day after UAL's Q2 results on 21 Jul 2009" in text
    assert s.market_cap["UAL 2009-07-22"]["price"] == 3.72


def test_ual_both_dates_pooled(prices_dir):
    s = event_study(
        prices_dir,
        events=[("UAL", "2009-07-06"), ("UAL", "2009-07-22")],
        market="GSPC",
        peers=PEERS,
    )
    assert set(s.car_table["event"]) == {"UAL 2009-07-06", "UAL 2009-07-22", "all (N=2)"}
    assert any("overlap" in n for n in s.notes)
    pooled = s.car_table[(s.car_table["event"] == "all (N=2)")]
    assert pooled["bmp_t"].notna().all()


def test_result_outputs(ual_0706):
    s = ual_0706
    assert isinstance(s, EventStudy) and isinstance(s, ck.results.Result)
    with pytest.raises(AttributeError):
        s.notes = ()  # frozen
    d = s.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert "UAL 2009-07-06" in text and d["settings"]["returns"] == "simple"
    assert d["fields"]["market_cap"]["UAL 2009-07-06"]["value"] == pytest.approx(557.9e6, abs=0.1e6)
    back = EventStudy.from_dict(json.loads(text))
    assert back.to_dict() == d
    fig = s.plot(benchmark="peers")
    assert isinstance(fig, go.Figure)
    assert [t.type for t in fig.data] == ["scatter", "bar", "scatter"]
    assert len(fig.data[1].x) == 7
    html = s._repr_html_()
    assert "<table" in html and "BMP not applicable" in html
    assert list(s.summary.columns[:4]) == ["event", "benchmark", "window", "CAR %"]
    assert "UAL 2009-07-06" in repr(s)
    ci = s.conf_int(0.1)
    assert ci.loc[("UAL 2009-07-06", "market_adjusted", "beta"), "lower"] == 1.0
