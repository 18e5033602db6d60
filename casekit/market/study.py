"""Running an event study: :func:`event_study` on price files, :func:`case_event_study` on a
case (its ticker, index, peers, event date and share count come from the case folder)."""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.exceptions import InsufficientDataError, ParameterError, PriceDataError
from casekit.market._checks import check_int, check_window, norm_ticker, to_day
from casekit.market.prices import MAX_GAP_DAYS, _load
from casekit.market.result import EventStudy, car_rows, daily_rows
from casekit.market.statistics import MarketFit, fit_market_model
from casekit.results import check_alpha

__all__ = ["BENCHMARKS", "MIN_ESTIMATION_DAYS", "PRICE_FOR_CAP", "event_study", "case_event_study"]

MIN_ESTIMATION_DAYS = 10
"""Shortest estimation window accepted (MacKinlay uses 250 days; the default is 120)."""

BENCHMARKS = ("market", "peers", "market_adjusted")
"""Benchmarks: market-model on the index, market-model on the peer index, and the
market-adjusted model (alpha 0, beta 1)."""

PRICE_FOR_CAP = ("close before event", "event close")

DEFAULT_CAR_WINDOWS = ((0, 0), (0, 1), (0, 3), (-1, 1), (0, 5))

_CONFIDENCE_RANK = {"high": 0, "medium": 1, "low": 2, "unverified": 3}


def _check_events(ticker, event_date, events) -> list[tuple[str, pd.Timestamp]]:
    if events is None:
        if ticker is None or event_date is None:
            raise ParameterError(
                "give the event: ticker and event_date (or "
                "events=[(ticker, date), ...]); for a case, use "
                "casekit.market.case_event_study(case, prices_dir)"
            )
        return [(norm_ticker(ticker), to_day(event_date, "event_date"))]
    if ticker is not None or event_date is not None:
        raise ParameterError(
            "give either events=[(ticker, date), ...] or ticker/event_date, not both"
        )
    if isinstance(events, (str, bytes)) or not isinstance(events, Sequence):
        raise ParameterError("events must be a sequence of (ticker, date) pairs")
    try:
        ev_list = [(norm_ticker(t), to_day(d, f"events[{i}]")) for i, (t, d) in enumerate(events)]
    except (TypeError, ValueError) as err:
        if isinstance(err, ParameterError):
            raise
        raise ParameterError("events must be a sequence of (ticker, date) pairs") from None
    if not ev_list:
        raise ParameterError("events is empty")
    return ev_list


def _check_shares(shares_outstanding, ev_list) -> dict[str, float]:
    if shares_outstanding is None:
        return {}
    if isinstance(shares_outstanding, Mapping):
        shares = {norm_ticker(k): v for k, v in shares_outstanding.items()}
    else:
        firms = sorted({t for t, _ in ev_list})
        if len(firms) > 1:
            raise ParameterError(
                "shares_outstanding must be a mapping {ticker: shares} when "
                f"the events are of several firms ({', '.join(firms)})"
            )
        shares = {firms[0]: shares_outstanding}
    for k, v in shares.items():
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float, np.number))
            or not v > 0
            or not math.isfinite(v)
        ):
            raise ParameterError(f"shares_outstanding for {k} must be a positive number, got {v!r}")
    return shares


def _check_price_for_cap(price_for_cap) -> str | float:
    if isinstance(price_for_cap, str):
        if price_for_cap in PRICE_FOR_CAP:
            return price_for_cap
    elif (
        not isinstance(price_for_cap, bool)
        and isinstance(price_for_cap, (int, float))
        and price_for_cap > 0
        and math.isfinite(price_for_cap)
    ):
        return price_for_cap
    raise ParameterError(
        f"price_for_cap must be one of {PRICE_FOR_CAP} or a positive number, got {price_for_cap!r}"
    )


def _overlap_notes(events_out, fits, bench) -> list[str]:
    """Notes on events whose windows overlap (pooled statistics assume independence)."""
    notes = []
    for a in range(len(events_out)):
        for b in range(a + 1, len(events_out)):
            ea, eb = events_out[a], events_out[b]
            fa, fb = fits[(ea["label"], bench)], fits[(eb["label"], bench)]
            a_lo, a_hi = fa.est_dates[0], fa.evt_dates[-1]
            b_lo, b_hi = fb.est_dates[0], fb.evt_dates[-1]
            if ea["ticker"] == eb["ticker"] and a_lo <= b_hi and b_lo <= a_hi:
                notes.append(
                    f"{ea['label']} and {eb['label']}: estimation and event windows "
                    "overlap (the later estimation window may contain the earlier "
                    "event); pooled statistics assume independent events"
                )
            elif fa.evt_dates[0] <= fb.evt_dates[-1] and fb.evt_dates[0] <= fa.evt_dates[-1]:
                notes.append(
                    f"{ea['label']} and {eb['label']}: event windows overlap in "
                    "calendar time (cross-correlated ARs; pooled tests overstate "
                    "significance)"
                )
    return notes


def event_study(
    prices_dir: str | Path,
    ticker: str | None = None,
    event_date: Any = None,
    market: str | None = None,
    peers: Sequence[str] = (),
    *,
    events: Sequence[tuple[str, Any]] | None = None,
    estimation_days: int = 120,
    gap_days: int = 0,
    event_window: tuple[int, int] = (-1, 5),
    car_windows: Sequence[tuple[int, int]] = DEFAULT_CAR_WINDOWS,
    shares_outstanding: float | Mapping[str, float] | None = None,
    price_for_cap: str | float = "close before event",
    alpha: float = 0.05,
    benchmarks: Sequence[str] | None = None,
    align: str = "strict",
    max_gap_days: int = MAX_GAP_DAYS,
    currency: str | None = None,
) -> EventStudy:
    """Market-model event study of one or several (ticker, date) events.

    Parameters
    ----------
    prices_dir : str or Path
        Folder of Yahoo-style daily CSVs (see :func:`~casekit.market.load_prices`).
    ticker, event_date : str, date-like
        The event, unless ``events`` is given. A date the market was closed moves day 0
        to the next trading day (noted).
    market : str
        Ticker of the market index; needed for the ``market`` and ``market_adjusted``
        benchmarks.
    peers : sequence of str
        Tickers of the equal-weight peer index (the event's own ticker is left out).
    events : sequence of (ticker, date), optional
        Several events (e.g. one firm on two dates, or peers on one date), instead of
        ``ticker`` and ``event_date``.
    estimation_days : int
        Returns in the estimation window (at least :data:`MIN_ESTIMATION_DAYS`).
    gap_days : int
        Trading days between the end of the estimation window and the event window.
    event_window : (int, int)
        First and last trading day of the event window relative to day 0.
    car_windows : sequence of (int, int)
        CAR windows, each inside ``event_window``.
    shares_outstanding : float or mapping of ticker to float, optional
        Shares outstanding; with them the CAR table has the market value and the CAR
        in money.
    price_for_cap : {"close before event", "event close"} or float
        Price for the market value: the (unadjusted) close on day -1 (default), the
        close on day 0, or a given price.
    alpha : float
        1 - confidence level of the intervals; also the significance level of verdicts.
    benchmarks : sequence of {"market", "peers", "market_adjusted"}, optional
        Models run side by side; default ``("market", "peers")`` with peers, else
        ``("market",)``.
    align : {"strict", "inner"}
        How differing date sets are handled (see :func:`~casekit.market.load_prices`).
    max_gap_days : int
        Largest run of missing weekdays allowed inside a file.
    currency : str, optional
        Currency of the prices (ISO code), for the money in the prose; without it
        amounts are written as plain numbers.

    Returns
    -------
    EventStudy

    Raises
    ------
    PriceDataError
        Bad or missing price files (file, line, column named); the event date outside
        the data; fewer returns before the event than the estimation window needs.
    ParameterError
        Bad parameters: no event, no market index for a market benchmark, too short an
        estimation window, windows out of range, unknown benchmark, non-positive shares.
    """
    # -- parameters
    estimation_days = check_int("estimation_days", estimation_days, MIN_ESTIMATION_DAYS)
    gap_days = check_int("gap_days", gap_days, 0)
    w0, w1 = check_window(event_window, None, "event_window")
    windows = [check_window(w, (w0, w1), "car window") for w in car_windows]
    if not windows:
        raise ParameterError("car_windows is empty")
    alpha = check_alpha(alpha)
    if isinstance(peers, str):
        peers = (peers,)
    peer_t = [norm_ticker(p) for p in peers]
    if benchmarks is None:
        benchmarks = ("market", "peers") if peer_t else ("market",)
    benchmarks = (benchmarks,) if isinstance(benchmarks, str) else tuple(benchmarks)
    bad = [b for b in benchmarks if b not in BENCHMARKS]
    if bad or not benchmarks or len(set(benchmarks)) != len(benchmarks):
        raise ParameterError(
            f"benchmarks must be distinct names from {', '.join(BENCHMARKS)}, got {benchmarks!r}"
        )
    use_peers = "peers" in benchmarks
    use_market = bool({"market", "market_adjusted"} & set(benchmarks))
    if use_market and market is None:
        raise ParameterError(
            "market: give the ticker of the market index in prices_dir "
            f"(needed for the benchmark(s) {', '.join(benchmarks)})"
        )
    market_t = norm_ticker(market) if market is not None else None
    ev_list = _check_events(ticker, event_date, events)
    price_for_cap = _check_price_for_cap(price_for_cap)
    shares = _check_shares(shares_outstanding, ev_list)
    if currency is not None and (not isinstance(currency, str) or not currency.strip()):
        raise ParameterError(f"currency must be an ISO code such as 'EUR', got {currency!r}")
    tickers = [t for t, _ in ev_list]
    if use_market:
        tickers.append(market_t)
    if use_peers:
        tickers += peer_t
    # -- data
    prices = _load(prices_dir, tickers, align, max_gap_days)
    adj = prices.adj
    rets = adj.pct_change().iloc[1:]
    notes = list(prices.notes)
    n_ret = len(rets)
    events_out: list[dict] = []
    fits: dict[tuple[str, str], MarketFit] = {}
    for tk, requested in ev_list:
        if requested < adj.index[0] or requested > adj.index[-1]:
            raise PriceDataError(
                f"event date {requested:%Y-%m-%d} for {tk} is outside the price data, which run "
                f"from {adj.index[0]:%Y-%m-%d} to {adj.index[-1]:%Y-%m-%d}: "
                f"{prices.where(prices.start_ticker)}, {prices.where(prices.end_ticker, end=True)}"
            )
        k = int(adj.index.searchsorted(requested))  # first trading day >= requested
        day0 = adj.index[k]
        label = f"{tk} {day0:%Y-%m-%d}"
        if any(e["label"] == label for e in events_out):
            raise ParameterError(f"event {label} is given twice")
        if day0 != requested:
            notes.append(
                f"{label}: {requested:%Y-%m-%d} is not a trading day in the data; "
                f"day 0 is the next trading day, {day0:%Y-%m-%d}"
            )
        j0 = k - 1  # position of day 0 in the returns
        est_start = j0 + w0 - gap_days - estimation_days
        if est_start < 0:
            have = j0 + w0 - gap_days
            raise PriceDataError(
                f"estimation window too short for {label}: {estimation_days} returns are needed "
                f"before the event window (gap {gap_days}) but the data give {max(have, 0)}: "
                f"{prices.where(prices.start_ticker)}; supply earlier prices or lower "
                "estimation_days"
            )
        if j0 + w1 > n_ret - 1:
            raise PriceDataError(
                f"event window {(w0, w1)} of {label} runs past the end of the data: "
                f"{prices.where(prices.end_ticker, end=True)}"
            )
        own_peers = [p for p in peer_t if p != tk]
        if use_peers and not own_peers:
            raise ParameterError(f"benchmark 'peers' needs at least one peer other than {tk}")
        if use_peers and len(own_peers) < len(peer_t):
            notes.append(f"{label}: {tk} is left out of its own peer index")
        events_out.append(
            {
                "label": label,
                "ticker": tk,
                "requested": requested,
                "day0": day0,
                "peers": own_peers if use_peers else [],
            }
        )
        est = slice(est_start, est_start + estimation_days)
        evt = slice(j0 + w0, j0 + w1 + 1)
        y = rets[tk].to_numpy()
        m = rets[market_t].to_numpy() if use_market else np.full(n_ret, np.nan)
        series = {}
        if "market" in benchmarks:
            series["market"] = (m, f"market index {market_t}")
        if use_peers:
            series["peers"] = (
                rets[own_peers].to_numpy().mean(axis=1),
                f"equal-weight peer index ({', '.join(own_peers)})",
            )
        if "market_adjusted" in benchmarks:
            series["market_adjusted"] = (m, f"market-adjusted model ({market_t}, beta 1)")
        rel = np.arange(w0, w1 + 1)
        for bench in benchmarks:
            x, blabel = series[bench]
            fits[(label, bench)] = fit_market_model(
                label,
                tk,
                bench,
                blabel,
                y[est],
                x[est],
                rets.index[est],
                y[evt],
                x[evt],
                m[evt],
                rets.index[evt],
                rel,
            )
    notes += _overlap_notes(events_out, fits, benchmarks[0])
    if len(events_out) == 1:
        notes.append(
            "BMP not applicable: it is a cross-sectional test and needs at least two "
            "events; with one event read the t statistic, Patell Z (here the "
            "standardised CAR) and the Corrado rank test"
        )
    # -- market value
    market_cap: dict[str, dict] = {}
    for ev in events_out:
        tk = ev["ticker"]
        if tk not in shares:
            continue
        k = int(adj.index.get_loc(ev["day0"]))
        if isinstance(price_for_cap, str):
            pos = k - 1 if price_for_cap == "close before event" else k
            price = float(prices.close[tk].iloc[pos])
            pdate = f"{prices.close.index[pos]:%Y-%m-%d}"
            basis = "close before the event" if pos < k else "close on day 0"
        else:
            price, pdate, basis = float(price_for_cap), "", "given price"
        market_cap[ev["label"]] = {
            "shares": float(shares[tk]),
            "price": price,
            "price_date": pdate,
            "price_basis": basis,
            "value": float(shares[tk]) * price,
        }
    # -- tables
    estimates = pd.DataFrame(
        [
            {
                "event": f.event,
                "benchmark": f.benchmark,
                "alpha": f.alpha,
                "beta": f.beta,
                "sigma": math.sqrt(f.s2),
                "r2": f.r2,
                "n_est": f.n_est,
                "df": f.df,
                "est_start": f.est_dates[0],
                "est_end": f.est_dates[-1],
                "benchmark_series": f.bench_label,
            }
            for f in fits.values()
        ]
    )
    daily = daily_rows(fits, w0, alpha)
    car_table = car_rows(
        fits, [e["label"] for e in events_out], benchmarks, windows, alpha, market_cap
    )
    settings = {
        "prices_dir": str(prices_dir),
        "events": [(t, d) for t, d in ev_list],
        "market": market_t,
        "peers": peer_t,
        "estimation_days": estimation_days,
        "gap_days": gap_days,
        "event_window": (w0, w1),
        "car_windows": windows,
        "shares_outstanding": shares or None,
        "price_for_cap": price_for_cap,
        "alpha": alpha,
        "benchmarks": benchmarks,
        "align": align,
        "max_gap_days": max_gap_days,
        "currency": currency,
        "returns": "simple",
        "files": prices.files,
        "dropped_days": prices.dropped_days,
    }
    return EventStudy(
        tuple(events_out),
        estimates,
        daily,
        car_table,
        market_cap,
        tuple(notes),
        (),
        settings,
        fits,
        rets,
        prices.close,
    )


# --------------------------------------------------------------------------- from a case


def _case_shares(case, day0: pd.Timestamp) -> tuple[float | None, str]:
    """The most confident ``shares_outstanding`` row of the case's costs (ties: the count
    dated nearest the event, then the first line), and a sentence saying which."""
    costs = case.costs
    rows = costs[costs["category"] == "shares_outstanding"]
    rows = rows[pd.to_numeric(rows["value"], errors="coerce") > 0]
    if rows.empty:
        return None, "none in costs.csv (no market value, no money figures)"
    rank = rows["confidence"].map(_CONFIDENCE_RANK).fillna(len(_CONFIDENCE_RANK))
    distance = (rows["date"] - day0).abs().dt.days.fillna(np.inf)
    order = pd.DataFrame({"rank": rank, "distance": distance, "line": rows["line"]})
    best = rows.loc[order.sort_values(["rank", "distance", "line"], kind="stable").index[0]]
    when = fmt.date(best["date"], best["date_precision"]) if "date_precision" in best else ""
    text = (
        f"costs.csv line {int(best['line'])}: {best['item']} = {fmt.number(best['value'])}"
        f" ({when}; {best['confidence']} confidence; source {best['source']})"
    )
    if len(rows) > 1:
        text += f"; the most confident of {len(rows)} shares_outstanding rows"
    return float(best["value"]), text


def _case_news(case, start: pd.Timestamp, end: pd.Timestamp) -> tuple:
    """Company and media rows of the timeline (kinds ``other`` and ``coverage``, dated to
    the day) between ``start`` and ``end``: the other news a verdict names."""
    tl = case.timeline
    keep = (
        tl["actor"].isin(("company", "media"))
        & tl["kind"].isin(("other", "coverage"))
        & tl["date_precision"].isin(("day", "hour"))
    )
    rows = tl[keep]
    rows = rows[(rows["date"] >= start) & (rows["date"] <= end)]
    news = []
    for r in rows.itertuples():
        what = "the company's news" if r.actor == "company" else "media coverage"
        text = str(r.description).strip().rstrip(".")
        news.append((pd.Timestamp(r.date).normalize(), f"{what} “{text}”"))
    return tuple(news)


def case_event_study(case, prices_dir: str | Path, **overrides: Any) -> EventStudy:
    """An event study of a case's company around the day its story went public.

    The case supplies what :func:`event_study` needs: the ticker, market index and peers
    from ``analysis.market`` in ``case.yaml``, the event date from the ``going_public`` key
    date, the shares outstanding from the most confident ``shares_outstanding`` row of
    ``costs.csv``, the currency, and the company and media news of the timeline (for
    :meth:`EventStudy.verdict`). The settings say where each came from.

    Parameters
    ----------
    case : casekit.Case
        A loaded case (``ck.load_case``).
    prices_dir : str or Path
        Folder of Yahoo-style daily CSVs.
    **overrides
        Any argument of :func:`event_study`; ``ticker``, ``market``, ``peers``,
        ``event_date``, ``shares_outstanding`` and ``currency`` replace the case's values.

    Returns
    -------
    EventStudy

    Raises
    ------
    ParameterError
        The case names no ticker (``analysis.market``) and none is given, or an override
        is not an argument of :func:`event_study`.
    InsufficientDataError
        The going-public date is unknown or known only to the month or year.
    PriceDataError
        As :func:`event_study`.
    """
    for attr in ("analysis", "key_dates", "costs", "timeline", "id"):
        if not hasattr(case, attr):
            raise ParameterError(
                f"case must be a loaded casekit Case (ck.load_case), got {type(case).__name__}"
            )
    unknown = sorted(set(overrides) - set(inspect.signature(event_study).parameters))
    if unknown or "prices_dir" in overrides or "events" in overrides:
        bad = unknown or ["prices_dir" if "prices_dir" in overrides else "events"]
        raise ParameterError(
            f"case_event_study takes the arguments of event_study except "
            f"prices_dir and events; not {', '.join(bad)}"
        )
    market_block = dict(case.analysis.get("market") or {})
    origin = {}
    args: dict[str, Any] = {}
    for arg, key in (("ticker", "ticker"), ("market", "index"), ("peers", "peers")):
        if arg in overrides:
            args[arg] = overrides.pop(arg)
            origin[arg] = "argument"
        elif key in market_block:
            args[arg] = tuple(market_block[key]) if arg == "peers" else market_block[key]
            origin[arg] = "case.yaml analysis.market"
    if args.get("ticker") is None:
        raise ParameterError(
            f"case {case.id} names no share ticker: add "
            "analysis: {market: {ticker: ..., index: ..., peers: [...]}} to "
            "its case.yaml, or pass ticker= and market="
        )
    if "event_date" in overrides:
        args["event_date"] = overrides.pop("event_date")
        origin["event_date"] = "argument"
    else:
        kd = case.key_dates.get("going_public")
        if kd is None:
            raise InsufficientDataError(
                f"case {case.id}: the going_public date is unknown; pass event_date="
            )
        if kd.precision in ("year", "month"):
            raise InsufficientDataError(
                f"case {case.id}: going_public is known only to the {kd.precision} "
                f"({fmt.date(kd.date, kd.precision)}); an event study needs the day: pass "
                "event_date="
            )
        args["event_date"] = kd.date
        when = fmt.date(kd.date, kd.precision, kd.date_end)
        origin["event_date"] = (
            f"key date going_public ({when}, precision {kd.precision}, source {kd.source})"
        )
        if kd.precision not in ("day", "hour"):
            origin["event_date"] += "; day 0 is the first day of the stated span"
    day0 = to_day(args["event_date"], "event_date")
    if "shares_outstanding" in overrides:
        args["shares_outstanding"] = overrides.pop("shares_outstanding")
        origin["shares_outstanding"] = "argument"
    else:
        args["shares_outstanding"], origin["shares_outstanding"] = _case_shares(case, day0)
    args["currency"] = overrides.pop("currency", case.currency)
    study = event_study(prices_dir, **args, **overrides)
    idx = study._returns.index
    settings = study.settings
    settings.update({"case": case.id, **{f"{k}_from": v for k, v in origin.items()}})
    return dataclasses.replace(
        study, known_events=_case_news(case, idx[0], idx[-1]), _settings=settings
    )
