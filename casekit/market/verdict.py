"""A plain-language verdict on a claimed share-price effect, built from an event study.

A claim is a row of ``case.claims`` (what was claimed, by whom, with its source and,
where the claim gives them, ``price_change_pct``, ``value_change``, ``currency`` and the
``window`` of trading days it is about), or explicit numbers. Without a claim the verdict
says what the data show and tests nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from casekit import format as fmt
from casekit.exceptions import ParameterError
from casekit.market._checks import check_int, check_window, to_day

__all__ = ["verdict", "read_claim"]

_WINDOW = re.compile(r"^\s*[(\[]?\s*([+-]?\d+)\s*(?:,|\.\.|to|:|;)\s*([+-]?\d+)\s*[)\]]?\s*$")


def _absent(value: Any) -> bool:
    """None, NaN, NA or NaT: the claim does not say (infinity is a bad value, not absent)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _number(name: str, value: Any) -> float | None:
    if _absent(value):
        return None
    if isinstance(value, bool):
        raise ParameterError(f"claim {name} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"claim {name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ParameterError(f"claim {name} must be a finite number, got {value!r}")
    return v


def _window(value: Any) -> tuple[int, int] | None:
    if _absent(value):
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        m = _WINDOW.match(value.replace("−", "-"))
        if not m:
            raise ParameterError(
                f"claim window {value!r}: expected two trading days such as '0..3' or (0, 3)"
            )
        return int(m.group(1)), int(m.group(2))
    return check_window(tuple(value) if isinstance(value, list) else value, None, "claim window")


def _text(value: Any) -> str | None:
    if value is None or fmt.is_missing(value) or not str(value).strip():
        return None
    return str(value).strip()


def read_claim(claim: Mapping[str, Any] | pd.Series | pd.DataFrame | None) -> dict[str, Any]:
    """The fields of a claim, checked: ``text``, ``by``, ``source``, ``date``, ``pct``,
    ``value``, ``currency``, ``window`` (None where the claim does not say).

    >>> read_claim({"claim": "shares fell 8 %", "by": "a paper", "price_change_pct": -8,
    ...             "window": "0..3"})["window"]
    (0, 3)
    """
    out: dict[str, Any] = dict.fromkeys(
        ("text", "by", "source", "date", "pct", "value", "currency", "window")
    )
    if claim is None:
        return out
    if isinstance(claim, pd.DataFrame):
        if len(claim) != 1:
            raise ParameterError(
                f"claim: give one row of case.claims, not a table of "
                f"{len(claim)} rows (iterate over case.claims.iterrows())"
            )
        claim = claim.iloc[0]
    if not isinstance(claim, (Mapping, pd.Series)):
        raise ParameterError(
            "claim must be a row of case.claims (a mapping or Series with "
            f"claim, by, source, price_change_pct ...), got "
            f"{type(claim).__name__}; for bare numbers pass "
            "price_change_pct= and value_change="
        )

    def get(key: str) -> Any:
        return claim[key] if key in claim else None

    out.update(
        text=_text(get("claim")),
        by=_text(get("by")),
        source=_text(get("source")),
        pct=_number("price_change_pct", get("price_change_pct")),
        value=_number("value_change", get("value_change")),
        currency=_text(get("currency")),
        window=_window(get("window")),
    )
    date = get("date")
    out["date"] = None if date is None or fmt.is_missing(date) else date
    return out


def _known(study, known_events) -> list[tuple[pd.Timestamp, str]]:
    if known_events is None:
        return [(pd.Timestamp(d), str(w)) for d, w in study.known_events]
    items = known_events.items() if isinstance(known_events, Mapping) else known_events
    try:
        return [(to_day(when, "known_events"), str(what)) for when, what in items]
    except (TypeError, ValueError) as err:
        if isinstance(err, ParameterError):
            raise
        raise ParameterError(
            "known_events must map dates to descriptions, or be a sequence "
            "of (date, description) pairs"
        ) from None


def _default_window(study) -> tuple[int, int]:
    """The longest CAR window starting on day 0 (else the longest CAR window)."""
    windows = [tuple(w) for w in study.settings["car_windows"]]
    from0 = [w for w in windows if w[0] == 0] or windows
    return max(from0, key=lambda w: w[1] - w[0])


def _about(c: Mapping[str, Any]) -> str:
    parts = ""
    if c["text"]:
        parts += f" “{c['text']}”"
    if c["by"]:
        parts += f" by {c['by']}"
    if c["source"]:
        parts += f" (source {c['source']})"
    return parts


def verdict(
    study,
    claim: Mapping[str, Any] | pd.Series | None = None,
    *,
    price_change_pct: float | None = None,
    value_change: float | None = None,
    currency: str | None = None,
    window: tuple[int, int] | None = None,
    benchmark: str | None = None,
    event: int | str = 0,
    known_events: Mapping[Any, str] | Sequence[tuple[Any, str]] | None = None,
    search_days: int = 15,
) -> str:
    """A plain-language verdict on a claimed share-price effect, built from the numbers.

    Parameters
    ----------
    study : EventStudy
        The event study.
    claim : mapping or pandas.Series, optional
        A row of ``case.claims``: ``claim`` (the words), ``by``, ``source`` and, where the
        claim gives them, ``price_change_pct`` (a fall is negative, e.g. ``-10``),
        ``value_change`` (a loss is negative), ``currency`` and ``window`` (relative
        trading days, e.g. ``"0..3"``). None: say what the data show, test no claim.
    price_change_pct, value_change, currency : optional
        Explicit numbers; they replace the claim's.
    window : (int, int), optional
        Relative trading days the verdict is about; default the claim's window, else the
        longest CAR window of the study that starts on day 0.
    benchmark : str, optional
        Benchmark for the CAR (default the study's first); the others are quoted too.
    event : int or str
        Which event.
    known_events : mapping of date to str, or sequence of (date, str), optional
        Other news, named when a large one-day fall near the event falls on or just after
        it. Default the study's ``known_events`` (the case's company and media news when
        it came from :func:`~casekit.market.case_event_study`).
    search_days : int
        Trading days either side of day 0 searched for large one-day falls.

    Returns
    -------
    str
        With a claimed price change, starts with "The data contradict the claim" (the
        claim lies outside the confidence interval of the CAR), "The data do not support
        the claim" (inside, but the CAR is not significantly different from zero: no
        abnormal move is detectable), or "The data are consistent with the claim" (inside
        and significant). A claim of a change in value alone is turned into a price
        change through the market value. Then the raw price change, the one-day falls
        nearby of at least nine tenths of the claimed fall (or the largest fall) and,
        with shares outstanding, the money arithmetic; a percent and a money claim are
        called inconsistent ("cannot both hold") when the money claim is outside 0.8 to
        1.25 times the claimed percent of the market value.
    """
    c = read_claim(claim)
    if price_change_pct is not None:
        c["pct"] = _number("price_change_pct", price_change_pct)
    if value_change is not None:
        c["value"] = _number("value_change", value_change)
    if currency is not None:
        c["currency"] = _text(currency)
    settings = study.settings
    window = window if window is not None else c["window"] or _default_window(study)
    benchmark = settings["benchmarks"][0] if benchmark is None else benchmark
    label = study._event_label(event)
    ev = next(e for e in study.events if e["label"] == label)
    alpha = settings["alpha"]
    level = f"{fmt.number((1 - alpha) * 100)} %"
    row = study.car(benchmark, window, event)
    t1, t2 = window
    fit = study._fit(label, benchmark)
    search_days = check_int("search_days", search_days, 0)
    known = _known(study, known_events)
    study_cur, claim_cur = settings.get("currency"), c["currency"]
    mismatch = bool(study_cur and claim_cur and study_cur.upper() != claim_cur.upper())
    cur = study_cur or claim_cur

    def money(x: float) -> str:
        return study._money(x, cur)

    cap = study.market_cap.get(label)
    pct, derived = c["pct"], False
    if pct is None and c["value"] is not None and cap and not mismatch:
        pct, derived = c["value"] / cap["value"] * 100, True

    sel = (fit.rel_days >= t1) & (fit.rel_days <= t2)
    d1, d2 = fit.evt_dates[sel][0], fit.evt_dates[sel][-1]
    day0 = ev["day0"]
    dates = fmt.date(d1) if d1 == d2 else f"{fmt.date(d1)} to {fmt.date(d2)}"
    span = f"trading days {t1}..{t2} around {fmt.date(day0)} ({dates})"
    car_txt = (
        f"{fmt.percent(row['car'], signed=True)} ({level} CI "
        f"{fmt.percent(row['lower'], signed=True)} to "
        f"{fmt.percent(row['upper'], signed=True)}; t = {fmt.number(row['t'])}, "
        f"p = {fmt.number(row['p'], 2)})"
    )
    about = _about(c)
    facts = (
        f"{ev['ticker']}’s cumulative abnormal return over {span}, against the "
        f"{fit.bench_label}, was {car_txt}"
    )
    out: list[str] = []
    if pct is not None:
        claimed = pct / 100
        significant = row["p"] < alpha
        if not row["lower"] <= claimed <= row["upper"]:
            lead = "The data contradict the claim"
            tail = f", not {fmt.percent(claimed, 0, signed=True)}"
        elif not significant:
            lead = "The data do not support the claim"
            tail = (
                f"; the interval is wide enough to include "
                f"{fmt.percent(claimed, 0, signed=True)} but also zero, so no abnormal move "
                "is detectable"
            )
        else:
            lead = "The data are consistent with the claim"
            tail = f", and the interval includes {fmt.percent(claimed, 0, signed=True)}"
        out.append(f"{lead}{about}: {facts}{tail}.")
    else:
        if any(c[k] is not None for k in ("text", "by", "source", "value")):
            out.append(f"The claim{about} gives no price change that could be tested.")
        out.append(f"{facts}.")
    others = []
    for b in settings["benchmarks"]:
        if b != benchmark:
            r = study.car(b, window, event)
            others.append(
                f"against the {study._fit(label, b).bench_label} it was "
                f"{fmt.percent(r['car'], signed=True)} (CI "
                f"{fmt.percent(r['lower'], signed=True)} to "
                f"{fmt.percent(r['upper'], signed=True)}, p = {fmt.number(r['p'], 2)})"
            )
    if others:
        text = "; ".join(others)
        out.append(text[0].upper() + text[1:] + ".")
    # raw price change over the same window (close before the window to its last close)
    rets = study._returns[ev["ticker"]]
    close = study._close[ev["ticker"]]
    k = close.index.get_loc(day0)
    p_before, p_end = float(close.iloc[k + t1 - 1]), float(close.iloc[k + t2])
    change = p_end / p_before - 1
    adjusted = ""
    if abs(row["raw_return"] - change) > 5e-4:
        adjusted = (
            f"; {fmt.percent(row['raw_return'], signed=True)} adjusted for dividends and splits"
        )
    out.append(
        f"The share price itself went from {fmt.number(p_before, 6)} on "
        f"{fmt.date(close.index[k + t1 - 1])} to {fmt.number(p_end, 6)} on "
        f"{fmt.date(close.index[k + t2])} ({fmt.percent(change, signed=True)}{adjusted})."
    )
    out.append(_falls(rets, close, day0, t1, t2, pct, known, search_days))
    # money
    if cap:
        out += _money_sentences(
            cap, row, c, pct, derived, mismatch, level, money, study_cur, claim_cur
        )
    elif c["value"] is not None:
        out.append(
            "No shares outstanding were given, so the claimed change in value was not checked."
        )
    return " ".join(out)


def _falls(
    rets: pd.Series,
    close: pd.Series,
    day0: pd.Timestamp,
    t1: int,
    t2: int,
    pct: float | None,
    known: list[tuple[pd.Timestamp, str]],
    search_days: int,
) -> str:
    """The sentence on large one-day falls near day 0, naming other news on those days."""
    pos0 = rets.index.get_loc(day0)
    near = rets.iloc[max(0, pos0 - search_days) : pos0 + search_days + 1]

    def describe(day: pd.Timestamp, value: float) -> str:
        rel = rets.index.get_loc(day) - pos0
        where = "inside" if t1 <= rel <= t2 else "outside"
        text = (
            f"{fmt.percent(value, signed=True)} on {fmt.date(day)} "
            f"(day {fmt.number(rel, signed=True)}, {where} the window"
        )
        for when, what in known:
            if when == day:
                text += f"; the day of {what}"
            elif when in close.index and close.index.get_loc(when) + 1 == close.index.get_loc(day):
                text += f"; the day after {what} on {fmt.date(when)}"
        return text + ")"

    if pct is not None and pct < 0:
        threshold = 0.9 * pct / 100
        big = near[near <= threshold]
        size = fmt.percent(-threshold, 0)
        if len(big):
            return (
                f"One-day falls of {size} or more (nine tenths of the claimed fall) within "
                f"{search_days} trading days of day 0: "
                + "; ".join(describe(d, v) for d, v in big.items())
                + "."
            )
        return (
            f"No one-day fall of {size} or more (nine tenths of the claimed fall) within "
            f"{search_days} trading days of day 0; the largest was "
            f"{describe(near.idxmin(), float(near.min()))}."
        )
    return (
        f"The largest one-day fall within {search_days} trading days of day 0 was "
        f"{describe(near.idxmin(), float(near.min()))}."
    )


def _money_sentences(
    cap, row, c, pct, derived, mismatch, level, money, study_cur, claim_cur
) -> list[str]:
    """The market value, the CAR in money and the check of a claimed change in value."""
    value = cap["value"]
    price = (
        fmt.money(cap["price"], study_cur or claim_cur)
        if (study_cur or claim_cur)
        else fmt.number(cap["price"], 6)
    )
    basis = cap["price_basis"] + (f", {fmt.date(cap['price_date'])}" if cap["price_date"] else "")
    out = [
        f"At {fmt.number(cap['shares'])} shares × {price} ({basis}) the market value was "
        f"{money(value)}; the abnormal change in value over the window was "
        f"{money(row['car'] * value)} ({level} CI {money(row['lower'] * value)} to "
        f"{money(row['upper'] * value)})."
    ]
    claimed = c["value"]
    if claimed is not None and mismatch:
        out.append(
            f"The claimed change in value is in {claim_cur}, the prices in {study_cur}, "
            "so it was not checked."
        )
    elif derived:
        direction = "fall" if pct < 0 else "rise"
        out.append(
            f"The claimed change in value, {money(abs(claimed))}, is "
            f"{fmt.percent(abs(claimed) / value, 0)} of the market value: the "
            f"{direction} tested above."
        )
    elif pct is not None and pct != 0:
        implied = abs(pct / 100) * value
        direction = "fall" if pct < 0 else "rise"
        sentence = f"A {fmt.number(abs(pct))} % {direction} would be about {money(implied)}"
        if claimed is not None and not mismatch:
            share = abs(claimed) / value
            ratio = abs(claimed) / implied
            agree = 0.8 <= ratio <= 1.25
            sentence += (
                f", in line with the claimed {money(abs(claimed))}"
                if agree
                else f", not {money(abs(claimed))}"
            )
            sentence += (
                f"; {money(abs(claimed))} would be {fmt.percent(share, 0)} of the market value"
            )
            if not agree:
                sentence += (
                    f", so {fmt.number(abs(pct))} % and {money(abs(claimed))} cannot "
                    "both hold (they would need to agree within a factor of 0.8 to "
                    "1.25)"
                )
        out.append(sentence + ".")
    return out
