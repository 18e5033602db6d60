"""Report views of the money side: the market test, the money lenses beside the remedy the
customer asked for, and the case's cost rows. Split from :mod:`casekit.report.views`, whose
helpers they use; ``views`` re-exports them."""

from __future__ import annotations

import pandas as pd

from casekit import format as fmt
from casekit.report.views import (
    DEFAULT_WINDOW,
    details,
    people,
    settings_block,
)
from casekit.report.words import Block, cite


def market_window(case, study) -> tuple[int, int]:
    """The one CAR window of a report: the first claim's window, else (0, 3).

    The window must lie inside the study's event window; else (0, 3) clipped to it.
    """
    win = None
    claims = getattr(case, "claims", None)
    if claims is not None and len(claims) and "window" in claims.columns:
        for w in claims["window"]:
            if isinstance(w, (tuple, list)) and len(w) == 2:
                win = (int(w[0]), int(w[1]))
                break
    win = win or DEFAULT_WINDOW
    if study is not None:
        lo, hi = study.settings["event_window"]
        if not (lo <= win[0] <= win[1] <= hi):
            win = (max(lo, 0), min(hi, DEFAULT_WINDOW[1]))
    return win


def market_view(study, case, window: tuple[int, int]) -> Block:
    """The verdict on each claim (or on the data) over ``window``, and the CAR table."""
    claims = [r for _, r in case.claims.iterrows()] if len(case.claims) else [None]
    texts = [study.verdict(c, window=window) for c in claims]
    ct = study.car_table
    sel = ct[(ct["start"] == window[0]) & (ct["end"] == window[1])] if "start" in ct else ct
    cols = [
        c
        for c in (
            "event",
            "benchmark",
            "window",
            "car",
            "lower",
            "upper",
            "p",
            "money",
            "money_lower",
            "money_upper",
        )
        if c in sel.columns
    ]
    iv = {"CAR (95 % interval)": ("car", "lower", "upper", "percent")}
    if "money" in cols:
        iv["market value change"] = ("money", "money_lower", "money_upper")
    table = people(
        sel[cols], intervals=iv, labels={"p": "p-value"}, missing={"money": "no shares outstanding"}
    )
    allw = people(
        ct[[c for c in cols]],
        intervals=iv,
        labels={"p": "p-value"},
        missing={"money": "no shares outstanding"},
    )
    body = (
        "".join(f"<p>{fmt.html_text(t)}</p>" for t in texts)
        + table
        + details("Every CAR window the study computed", allw)
        + settings_block(study.settings)
    )
    return Block(body, "\n\n".join(texts))


def why_no_market(prices_dir: str, ticker: str) -> str:
    """Why a report has no market test, in a few words."""
    return "no price data was supplied" if not prices_dir else "no share ticker was given"


def market_hint(case_id: str, prices_dir: str, ticker: str) -> Block:
    """Why a report has no market test, and how to add one (no case facts in it)."""
    why = why_no_market(prices_dir, ticker)
    text = (
        f"No market test in this report: {why}. To add one, put daily price files named "
        "<TICKER>_<year>_yahoo.csv (Yahoo Finance columns: Date, Open, High, Low, Close, "
        "Adj Close, Volume) for the company and a market index in one folder, and render "
        f"again with: casekit render {case_id} -p prices_dir PATH -p ticker TICKER "
        "(optionally -p peers with the tickers of the company's listed competitors), or set "
        "the environment variable CASEKIT_PRICES=PATH once for every report. A company "
        "without listed shares has no market test."
    )
    return Block(f"<p>{fmt.html_text(text)}</p>", text)


# -- money ---------------------------------------------------------------------------------


def remedy(case) -> pd.DataFrame:
    """The remedy the customer asked for and the one refused (costs.csv categories
    ``remedy_requested`` / ``remedy_refused``)."""
    c = case.costs
    return c[c["category"].isin(["remedy_requested", "remedy_refused"])].reset_index(drop=True)


def _range(low, central, high, unit: str, currency: str) -> str:
    if fmt.is_missing(central):
        return fmt.DASH
    if unit == currency or unit == "USD":
        money = [
            fmt.money(v, unit) if not fmt.is_missing(v) else fmt.DASH for v in (central, low, high)
        ]
        return f"{money[0]} ({money[1]} to {money[2]})"
    return f"{fmt.interval(central, low, high, kind='number')} {unit}"


def money_view(lenses, case) -> Block:
    """The refused remedy beside the money lenses, in one table (each lens once)."""
    cur = case.currency
    rows = []
    rem = remedy(case)
    for r in rem.itertuples():
        rows.append(
            {
                "what": (
                    "asked for by the customer"
                    if r.category == "remedy_requested"
                    else "refused by the company"
                ),
                "estimate (range)": fmt.money(r.value, r.unit)
                if not fmt.is_missing(r.value)
                else fmt.missing("no value given"),
                "basis": r.item,
                "source": r.source,
            }
        )
    if rem.empty:
        rows.append(
            {
                "what": "the remedy asked for",
                "estimate (range)": fmt.missing(
                    "the case records none (costs.csv remedy_requested)"
                ),
                "basis": "",
                "source": "",
            }
        )
    for r in lenses.table.itertuples():
        rows.append(
            {
                "what": r.lens,
                "estimate (range)": _range(r.low, r.central, r.high, r.unit, cur)
                if r.supported
                else fmt.missing("not computed"),
                "basis": r.statement if not r.supported else f"{r.statement} {r.assumptions}",
                "source": "",
            }
        )
    t = pd.DataFrame(rows)
    table = people(t, text=("basis",))
    lead = _remedy_sentence(lenses, rem, cur)
    body = f"<p>{cite(lead)}</p>" + table + settings_block(lenses.settings)
    return Block(body, lead)


def _remedy_sentence(lenses, rem: pd.DataFrame, cur: str) -> str:
    refused = rem[(rem["category"] == "remedy_refused") & rem["value"].notna()]
    if refused.empty:
        return (
            "The case records no remedy the customer asked for and was refused, so the "
            "lenses stand alone. They overlap and are never added up."
        )
    v = float(refused["value"].iloc[0])
    unit = refused["unit"].iloc[0]
    t = lenses.table
    ok = t[t["supported"].astype(bool) & (t["unit"] == unit)]
    bits = [f"{r.lens} {_range(r.low, r.central, r.high, r.unit, cur)}" for r in ok.itertuples()]
    against = "; ".join(bits) if bits else "no money lens in the same currency"
    return (
        f"Settling would have cost {fmt.money(v, unit)} (the remedy asked for and refused: "
        f"{refused['item'].iloc[0]}). Against it: {against}. The lenses overlap and are "
        "never added up."
    )


# -- evidence ------------------------------------------------------------------------------


def costs_view(case) -> Block:
    """Every row of costs.csv with its source, folded."""
    c = case.costs
    if c.empty:
        return Block("<p>The case records no costs (costs.csv is empty).</p>", "no costs")
    cols = [
        x
        for x in (
            "item",
            "category",
            "value",
            "unit",
            "date",
            "date_end",
            "date_precision",
            "qualifier",
            "kind",
            "source",
            "confidence",
        )
        if x in c.columns
    ]
    body = people(
        c[cols], missing={"value": "not quantified", "date": "undated", "date_end": "single date"}
    )
    return Block(
        details(f"Every row of costs.csv ({len(c)} rows, with sources)", body),
        f"{len(c)} cost rows",
    )
