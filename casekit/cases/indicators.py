"""The optional ``indicators.csv``: figures that are neither reach nor money.

Sentiment shares, brand-perception scores, survey shares: a value at a time, on a stated
scale, with its source, quote and confidence like every other figure. Unlike reach, a
value may be negative (YouGov's BrandIndex runs from -100 to 100).

Examples
--------
>>> from casekit.cases.indicators import _parse_scale
>>> _parse_scale("-100..100"), _parse_scale("share")
((-100.0, 100.0), (0.0, 1.0))
"""

from __future__ import annotations

import math
import os
import re

import pandas as pd

from casekit.cases.model import (
    FIGURE_KINDS,
    INDICATOR_FRAME_COLUMNS,
    INDICATORS_COLUMNS,
    METRIC_PATTERN,
    QUALIFIERS,
)
from casekit.cases.readers import _check_common, _check_when, _parse_number, _read_csv

FILE = "indicators.csv"
_SCALE = re.compile(r"(-?[0-9]+(?:\.[0-9]+)?)\.\.(-?[0-9]+(?:\.[0-9]+)?)")
_NAMED_SCALES = {"share": (0.0, 1.0), "percent": (0.0, 100.0)}
SCALE_EXPECTED = "LOW..HIGH with LOW < HIGH (e.g. -100..100, 0..100), share (0..1) or percent"


def _parse_scale(text: str) -> tuple[float, float] | None:
    """(low, high) of a ``scale``; None when it is not one."""
    if text in _NAMED_SCALES:
        return _NAMED_SCALES[text]
    m = _SCALE.fullmatch(text)
    if m is None:
        return None
    low, high = float(m.group(1)), float(m.group(2))
    return (low, high) if low < high else None


def _empty() -> pd.DataFrame:
    return _frame([])


def _frame(recs: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(recs, columns=list(INDICATOR_FRAME_COLUMNS))
    for col in ("time", "time_end"):
        df[col] = pd.to_datetime(df[col]).astype("datetime64[us]")
    for col in ("value", "scale_min", "scale_max"):
        df[col] = df[col].astype(float)
    df["line"] = df["line"].astype(int)
    return df.sort_values(["time", "line"], kind="stable").reset_index(drop=True)


def _read_indicators(path, sources, out, tz=None) -> pd.DataFrame | None:
    """The rows of ``indicators.csv``; an empty table when the file is absent (it is
    optional), None when it is unusable (the problem is in ``out``)."""
    try:
        os.lstat(path / FILE)
    except FileNotFoundError:
        return _empty()
    except OSError:
        pass  # _read_text reports it
    rows = _read_csv(path, FILE, INDICATORS_COLUMNS, out)
    if rows is None:
        return None
    recs = []
    for line, row in rows:
        rec = _indicator_row(line, row, sources, out, tz)
        if rec is not None:
            recs.append(rec)
    return _frame(recs)


def _indicator_row(line, row, sources, out, tz):
    n_before = len(out.problems)
    when = _check_when(
        row["time"], row["time_precision"], row["time_end"], FILE, line, "time", "time_end", out, tz
    )
    if not METRIC_PATTERN.match(row["indicator"]):
        out.add(
            FILE,
            line,
            "indicator",
            f"indicator {row['indicator']!r} is not snake_case"
            if row["indicator"]
            else "value is empty",
            "a snake_case name, e.g. brandindex_buzz or share_less_likely_to_buy",
        )
    value = _parse_number(row["value"]) if row["value"] else None
    if not row["value"]:
        out.add(FILE, line, "value", "value is empty", "a number (it may be negative)")
    elif value is None:
        out.add(
            FILE,
            line,
            "value",
            f"{row['value']!r} is not a number",
            "digits with an optional '-' and decimal point, e.g. -2.8 (no '+', no separators)",
        )
    if not row["unit"]:
        out.add(FILE, line, "unit", "value is empty", "e.g. BrandIndex points, percent, share")
    low = high = math.nan
    if row["scale"]:
        scale = _parse_scale(row["scale"])
        if scale is None:
            out.add(FILE, line, "scale", f"cannot read {row['scale']!r} as a scale", SCALE_EXPECTED)
        else:
            low, high = scale
            if value is not None and not low <= value <= high:
                out.add(
                    FILE,
                    line,
                    "value",
                    f"value {row['value']} is outside its scale {row['scale']}",
                    f"a value from {low:g} to {high:g}, or the scale the source uses",
                )
    if row["qualifier"] not in QUALIFIERS:
        out.add(
            FILE,
            line,
            "qualifier",
            f"unknown qualifier {row['qualifier']!r}",
            " | ".join(QUALIFIERS),
        )
    if row["kind"] not in FIGURE_KINDS:
        out.add(FILE, line, "kind", f"unknown kind {row['kind']!r}", " | ".join(FIGURE_KINDS))
    _check_common(FILE, line, row, sources, out, quote_required=True)
    if len(out.problems) > n_before or not when:
        return None
    return {
        **row,
        "time": when[0],
        "time_end": when[1],
        "value": value,
        "scale_min": low,
        "scale_max": high,
        "line": line,
    }
