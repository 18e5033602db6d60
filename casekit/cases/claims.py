"""The optional ``claims:`` list of ``case.yaml``: what someone claimed, with the source.

A claim is an assertion about the case that an analysis can test, for example a
newspaper's figure for what a story cost a company in share value. Each one names who
made it, cites a declared source with its words, and may give the claimed numbers:
a share-price change in percent and a change in market value (falls and losses are
negative) over a window of trading days.

Examples
--------
>>> import casekit as ck
>>> ck.load_case("synthetic-example").claims.empty
True
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from casekit.cases.model import (
    CASE_ID_PATTERN,
    CLAIM_COLUMNS,
    CLAIM_FIELDS,
    CONFIDENCES,
    CURRENCY_PATTERN,
    _split_ids,
)
from casekit.cases.readers import (
    DATE_RANGE,
    _Collector,
    _out_of_range,
    _parse_when,
    _unreadable_date,
)
from casekit.cases.yaml_loader import _line, _yaml_str


def _empty_claims() -> pd.DataFrame:
    return _claims_frame([])


def _claims_frame(recs: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(recs, columns=list(CLAIM_COLUMNS))
    df["date"] = pd.to_datetime(df["date"])
    for col in ("price_change_pct", "value_change"):
        df[col] = df[col].astype(float)
    df["window"] = df["window"].astype(object)
    df["line"] = df["line"].astype(int)
    return df


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def _read_claims(meta: dict, sources: set[str], currency: Any, out: _Collector) -> pd.DataFrame:
    """Validate ``meta["claims"]`` and return :attr:`Case.claims` (problems go to ``out``)."""
    claims = meta.get("claims")
    if claims is None:
        return _empty_claims()
    if not isinstance(claims, list):
        out.add(
            "case.yaml",
            _line(meta, "claims"),
            "claims",
            "not a list",
            "a list of mappings: id, claim, by, source, quote, confidence ...",
        )
        return _empty_claims()
    recs, seen = [], set()
    for i, item in enumerate(claims):
        where = f"claims[{i}]"
        if not isinstance(item, dict):
            out.add(
                "case.yaml",
                _line(meta, "claims"),
                where,
                "not a mapping",
                "id, claim, by, source, quote, confidence ...",
            )
            continue
        rec = _read_claim(item, where, sources, currency, out)
        cid = item.get("id")
        if isinstance(cid, str) and cid in seen:
            out.add(
                "case.yaml",
                _line(item, "id"),
                f"{where}.id",
                f"duplicate claim id {cid!r}",
                "each claim id once",
            )
            rec = None
        if isinstance(cid, str):
            seen.add(cid)
        if rec is not None:
            recs.append(rec)
    return _claims_frame(recs)


def _read_claim(
    item: dict, where: str, sources: set[str], currency: Any, out: _Collector
) -> dict[str, Any] | None:
    """One claim as a row, or None when it has problems (added to ``out``)."""
    n_before = len(out.problems)

    def bad(key, message, expected):
        out.add("case.yaml", _line(item, key), f"{where}.{key}", message, expected)

    for key, required in CLAIM_FIELDS.items():
        if required and (key not in item or item[key] is None or item[key] == ""):
            bad(key, "missing or empty", _EXPECTED[key])
    for key in item:
        if key not in CLAIM_FIELDS:
            bad(key, "unknown claim field", ", ".join(CLAIM_FIELDS))

    cid = item.get("id")
    if cid is not None and (not isinstance(cid, str) or not CASE_ID_PATTERN.match(cid)):
        bad("id", f"{cid!r} is not a valid claim id", _EXPECTED["id"])
    for key in ("claim", "by", "quote", "note"):
        value = item.get(key)
        if value is not None and value != "" and not isinstance(value, str):
            bad(key, f"{value!r} is not text", _EXPECTED[key])
    sid = item.get("source")
    if sid is not None and sid != "":
        ids = _split_ids(sid) if isinstance(sid, str) else []
        if not ids:
            bad("source", f"{sid!r} is not a source id", _EXPECTED["source"])
        for one in ids:
            if one not in sources:
                bad("source", f"unknown source id {one!r}", _EXPECTED["source"])
    conf = item.get("confidence")
    if conf is not None and conf != "" and conf not in CONFIDENCES:
        bad("confidence", f"unknown confidence {conf!r}", _EXPECTED["confidence"])

    when = None
    if item.get("date") is not None:
        text = _yaml_str(item["date"])
        when = _parse_when(text)
        if when is None:
            bad("date", _unreadable_date(text)[0], _EXPECTED["date"])
        elif (far := _out_of_range(when[0], text)) is not None:
            bad("date", far, DATE_RANGE)
    for key in ("price_change_pct", "value_change"):
        value = item.get(key)
        if value is not None and not _is_number(value):
            bad(key, f"{value!r} is not a number", _EXPECTED[key])
    cur = item.get("currency", currency)
    if "currency" in item and not (isinstance(cur, str) and CURRENCY_PATTERN.match(cur)):
        bad("currency", f"{cur!r} is not a currency code", _EXPECTED["currency"])
    window = item.get("window")
    if window is not None:
        ok = (
            isinstance(window, list)
            and len(window) == 2
            and all(isinstance(t, int) and not isinstance(t, bool) for t in window)
            and window[0] <= window[1]
        )
        if not ok:
            bad("window", f"{window!r} is not a window of trading days", _EXPECTED["window"])

    if len(out.problems) > n_before:
        return None
    return {
        "id": cid,
        "claim": " ".join(item["claim"].split()),
        "by": item["by"],
        "date": None if when is None else when[0],
        "date_precision": None if when is None else when[1],
        "source": sid,
        "quote": item["quote"],
        "confidence": conf,
        "price_change_pct": _number(item.get("price_change_pct")),
        "value_change": _number(item.get("value_change")),
        "currency": cur,
        "window": None if window is None else tuple(window),
        "note": item.get("note"),
        "line": _line(item),
    }


_EXPECTED = {
    "id": "lower-case words joined by '-', e.g. press-share-fall",
    "claim": "the claim in your own words",
    "by": "who made the claim, e.g. a newspaper or a person",
    "date": "the ISO date it was claimed: YYYY, YYYY-MM or YYYY-MM-DD",
    "source": "an id declared under `sources:` (several separated by ';')",
    "quote": "the source's words for the claim",
    "confidence": " | ".join(CONFIDENCES) + " (that the claim was made as recorded)",
    "price_change_pct": "a number in percent; a fall is negative, e.g. -5",
    "value_change": "a number; a loss is negative, e.g. -2500000",
    "currency": "an ISO 4217 code such as USD (default: the case's currency)",
    "window": "[t1, t2]: the first and last trading day the claim is about, e.g. [0, 3]",
    "note": "text",
}
