"""Dates, times, UTC offsets and periods of the case format.

A date is ISO 8601 and may be as coarse as its source (``2009``, ``2009-07``,
``2009-07-06``, ``2009-07-06T18:12``). A clock time may carry a UTC offset
(``2017-04-11T13:09-07:00``, ``2017-04-11T20:09Z``): it is converted to the case's
``timezone`` and stored without a zone, like every other time of the case, so all times
of a case are comparable. A time without an offset is local time in that zone already.

A ``period`` (the span a per-period count covers) is a positive number and a unit:
``30min``, ``24h``, ``1D``, ``7D`` or ``1W``.

Examples
--------
>>> from casekit.cases.times import _parse_datetime, _parse_period
>>> _parse_datetime("2013-02-13T22:45+01:00", "Europe/Berlin")
(datetime.datetime(2013, 2, 13, 22, 45), 'hour')
>>> _parse_datetime("2017-04-11T13:09-07:00", "America/Chicago")
(datetime.datetime(2017, 4, 11, 15, 9), 'hour')
>>> _parse_period("24h"), _parse_period("1W")
(1.0, 7.0)
"""

from __future__ import annotations

import datetime
import functools
import re
import zoneinfo

import pandas as pd

from casekit.cases.model import PRECISIONS

# YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DD[T ]HH:MM[:SS], a clock time optionally followed by
# a UTC offset (Z, +HH:MM, -HH:MM, +HHMM). ASCII digits only ("\d" would take fullwidth and
# other Unicode digits, which int() then reads).
_WHEN = re.compile(
    r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?)?)?)?"
)
_RESOLUTION_RANK = {"year": 0, "month": 1, "day": 2, "hour": 3}

OFFSET_EXPECTED = "a UTC offset such as +01:00, -07:00 or Z, after a clock time"
# (A clock time may also carry a UTC offset; an offset written wrongly has messages of its own.)
DATE_EXPECTED = "ISO 8601: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM"


@functools.lru_cache(maxsize=32)
def _zone(tz: str | None) -> datetime.tzinfo:
    if not tz:
        return datetime.UTC
    try:
        return zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return datetime.UTC  # an unknown zone is reported by case.yaml's own check


def _offset(text: str) -> datetime.timezone | None:
    """The offset of ``Z``/``+HH:MM``/``-HHMM``; None when it is out of range."""
    if text == "Z":
        return datetime.UTC
    hours, minutes = int(text[1:3]), int(text[-2:])
    if hours > 23 or minutes > 59:
        return None
    delta = datetime.timedelta(hours=hours, minutes=minutes)
    return datetime.timezone(-delta if text[0] == "-" else delta)


def _parse_datetime(value: str, tz: str | None = None) -> tuple[datetime.datetime, str] | None:
    """(start, resolution) of an ISO date of the format; None when it is not one.

    A time with a UTC offset is converted to zone ``tz`` (UTC when None) and returned
    without a zone; a time without one is returned as written.
    """
    m = _WHEN.fullmatch(value.strip())
    if m is None:
        return None
    y, mo, d, h, mi, sec, off = m.groups()
    try:
        dt = datetime.datetime(
            int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(sec or 0)
        )
    except ValueError:  # 2008-02-30, month 13, 25:00 ...
        return None
    if off:
        zone = _offset(off)
        if zone is None:
            return None
        try:
            dt = dt.replace(tzinfo=zone).astimezone(_zone(tz)).replace(tzinfo=None)
        except OverflowError:  # year 1 or 9999 moved past the calendar
            return None
    resolution = "hour" if h else "day" if d else "month" if mo else "year"
    return dt, resolution


def _parse_when(value: str, tz: str | None = None) -> tuple[pd.Timestamp, str] | None:
    """(start, resolution) of an ISO date of the format; None when it is not one.

    >>> _parse_when("2024-03")
    (Timestamp('2024-03-01 00:00:00'), 'month')
    """
    parsed = _parse_datetime(value, tz)
    return None if parsed is None else (pd.Timestamp(parsed[0]), parsed[1])


def _unreadable_date(value: str) -> tuple[str, str]:
    """(what is wrong, what would be right) for a date :func:`_parse_when` refused."""
    m = _WHEN.fullmatch(value.strip())
    if m and m.group(7) and _offset(m.group(7)) is None:
        return f"{value!r} has a UTC offset beyond ±23:59", OFFSET_EXPECTED
    if m:
        return (
            f"{value!r} is not a date in the calendar (no such day or time)",
            "a real date, e.g. 2008-02-29 but not 2008-02-30",
        )
    if re.fullmatch(r"[0-9]{4}(?:-[0-9]{2}){0,2}(?:Z|[+-][0-9]{2}:?[0-9]{2})", value.strip()):
        return (
            f"{value!r} has a UTC offset but no clock time",
            "an offset only after a clock time (2013-02-13T22:45+01:00), or the date alone",
        )
    tail = _AFTER_TIME.fullmatch(value.strip())
    if tail:
        return f"cannot read {tail.group(1)!r} in {value!r} as a UTC offset", OFFSET_EXPECTED
    return f"cannot read {value!r} as a date", DATE_EXPECTED


# A date and clock time followed by something that is not an offset ("PDT", "+7", "+01:00:00").
_AFTER_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2})?\s*([^.\s].*)"
)


EARLIEST = datetime.datetime(1900, 1, 1)
"""No date in a case is earlier; later than a year from today is refused too."""
DATE_RANGE = "a date from 1900 to one year from today"


@functools.lru_cache(maxsize=2)
def _latest_on(day: int) -> datetime.datetime:
    today = datetime.date.fromordinal(day)
    try:
        return datetime.datetime(today.year + 1, today.month, today.day)
    except ValueError:  # 29 February
        return datetime.datetime(today.year + 1, 3, 1)


def _out_of_range(ts, text: str) -> str | None:
    """What is wrong with a date before 1900 or more than a year from today (else None).

    Such a date is a typing error: a going_public in 2300 gives curves and delay costs
    that look like results and are nonsense.
    """
    if ts < EARLIEST:
        return f"{text!r} is before 1900"
    latest = _latest_on(datetime.date.today().toordinal())
    if ts > latest:
        return f"{text!r} is more than a year from today (after {latest:%Y-%m-%d})"
    return None


def _check_when(
    value: str,
    precision: str,
    end: str,
    file: str,
    line: int,
    col: str,
    end_col: str,
    out,
    tz: str | None = None,
):
    """Parse a date and its precision; return (start, end) or None.

    Times with a UTC offset are converted to zone ``tz`` (see the module docstring).
    """
    ok = True
    parsed = _parse_datetime(value, tz) if value else None
    if not value:
        out.add(file, line, col, "date is empty", "an ISO date such as 2024-03-04")
        ok = False
    elif parsed is None:
        out.add(file, line, col, *_unreadable_date(value))
        ok = False
    elif (far := _out_of_range(parsed[0], value)) is not None:
        out.add(file, line, col, far, DATE_RANGE)
        ok = False
    prec_col = col + "_precision" if col in ("date", "time") else "precision"
    if precision not in PRECISIONS:
        out.add(file, line, prec_col, f"unknown precision {precision!r}", " | ".join(PRECISIONS))
        ok = False
    elif parsed is not None and precision in _RESOLUTION_RANK:
        if _RESOLUTION_RANK[parsed[1]] < _RESOLUTION_RANK[precision]:
            out.add(
                file,
                line,
                prec_col,
                f"precision {precision!r} but {value!r} gives only a {parsed[1]}",
                f"precision {parsed[1]!r}, or a more exact date",
            )
            ok = False
    end_ts = None
    if precision == "range":
        end_parsed = _parse_datetime(end, tz) if end else None
        if not end:
            out.add(file, line, end_col, "a range needs an end date", "an ISO date")
            ok = False
        elif end_parsed is None:
            out.add(file, line, end_col, _unreadable_date(end)[0], "an ISO date")
            ok = False
        elif (far := _out_of_range(end_parsed[0], end)) is not None:
            out.add(file, line, end_col, far, DATE_RANGE)
            ok = False
        else:
            end_ts = end_parsed[0]
            if parsed is not None and end_ts < parsed[0]:
                out.add(
                    file,
                    line,
                    end_col,
                    f"range ends ({end}) before it starts ({value})",
                    "an end date on or after the start",
                )
                ok = False
    elif end and precision in PRECISIONS:
        out.add(
            file,
            line,
            end_col,
            f"{end_col} given but precision is {precision!r}",
            f"precision 'range', or an empty {end_col}",
        )
        ok = False
    return (parsed[0], end_ts) if ok and parsed else None


# -- periods of per-period counts -------------------------------------------------------
_PERIOD = re.compile(r"([0-9]+(?:\.[0-9]+)?)(min|h|D|W)")
_PERIOD_DAYS = {"min": 1 / 1440, "h": 1 / 24, "D": 1.0, "W": 7.0}
PERIOD_EXPECTED = (
    "a positive number and a unit: min, h, D (days) or W (weeks), e.g. 1D, 24h, 7D, 30min"
)


def _parse_period(text: str) -> float | None:
    """The length in days of a ``period`` such as ``1D``; None when it is not one (or 0)."""
    m = _PERIOD.fullmatch(text.strip())
    if m is None:
        return None
    days = float(m.group(1)) * _PERIOD_DAYS[m.group(2)]
    return days if days > 0 else None


def _period_problem(text: str) -> str:
    """What is wrong with a ``period`` that :func:`_parse_period` refused."""
    stripped = text.strip()
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)", stripped)
    if _PERIOD.fullmatch(stripped):
        return f"period {text!r} is zero; a count covers a positive span of time"
    if re.fullmatch(r"-[0-9.]+\s*[A-Za-z]*", stripped):
        return f"period {text!r} is negative; a count covers a positive span of time"
    if m and m.group(2) not in _PERIOD_DAYS:
        return f"unknown unit {m.group(2)!r} in period {text!r}"
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", stripped):
        return f"period {text!r} has no unit"
    return f"cannot read {text!r} as a period"
