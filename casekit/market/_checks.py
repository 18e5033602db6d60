"""Argument checks shared by the market modules (each raises ParameterError)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from casekit.exceptions import ParameterError


def norm_ticker(ticker: Any) -> str:
    """``ticker`` without surrounding blanks and a leading ``^``."""
    if not isinstance(ticker, str) or not ticker.strip().lstrip("^"):
        raise ParameterError(f"ticker must be a non-empty string, got {ticker!r}")
    return ticker.strip().lstrip("^")


def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_window(window: Any, event_window: tuple[int, int] | None, name: str) -> tuple[int, int]:
    """A (first, last) pair of relative trading days, inside ``event_window`` if given."""
    try:
        t1, t2 = window
        ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (t1, t2))
    except (TypeError, ValueError):
        ok = False
    if not ok or t1 > t2:
        raise ParameterError(
            f"{name} must be a pair of integers (first, last) with first <= last, got {window!r}"
        )
    if event_window is not None and (t1 < event_window[0] or t2 > event_window[1]):
        raise ParameterError(
            f"{name} {tuple(window)} is not inside the event window {tuple(event_window)}"
        )
    return int(t1), int(t2)


def to_day(value: Any, what: str) -> pd.Timestamp:
    """``value`` as a midnight timestamp without time zone."""
    try:
        day = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{what}: cannot read {value!r} as a date") from None
    if pd.isna(day):
        raise ParameterError(f"{what}: cannot read {value!r} as a date")
    return day.normalize().tz_localize(None) if day.tzinfo else day.normalize()
