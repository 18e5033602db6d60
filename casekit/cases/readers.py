"""Reading a case's CSV files, and the checks they share with ``case.yaml``.

Every reader adds what is wrong to a :class:`_Collector` (file, line, column, what is
wrong, what would be right) and keeps going, so one pass reports every problem.

Examples
--------
>>> from casekit.cases.readers import _parse_when
>>> _parse_when("2024-03")
(Timestamp('2024-03-01 00:00:00'), 'month')
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
import math
import re
from pathlib import Path

import pandas as pd

from casekit.cases.files import _read_text
from casekit.cases.model import (
    ACTORS,
    CONFIDENCES,
    COST_CATEGORIES,
    COSTS_COLUMNS,
    EVENT_KINDS,
    FIGURE_KINDS,
    METRIC_PATTERN,
    PRECISIONS,
    QUALIFIERS,
    REACH_COLUMNS,
    TIMELINE_COLUMNS,
    _split_ids,
)
from casekit.exceptions import Problem

# YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DD[T ]HH:MM[:SS]; ASCII digits only ("\d" would take
# fullwidth and other Unicode digits, which int() then reads).
_WHEN = re.compile(
    r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?)?)?"
)
_RESOLUTION_RANK = {"year": 0, "month": 1, "day": 2, "hour": 3}


class _Collector:
    """Collects the problems of one folder, in the order they are found."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file, row, column, message, expected=None) -> None:
        self.problems.append(Problem(file, row, column, message, expected))


def _parse_datetime(value: str) -> tuple[datetime.datetime, str] | None:
    """(start, resolution) of an ISO date of the format; None when it is not one."""
    m = _WHEN.fullmatch(value.strip())
    if m is None:
        return None
    y, mo, d, h, mi, sec = m.groups()
    try:
        dt = datetime.datetime(
            int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(sec or 0)
        )
    except ValueError:  # 2008-02-30, month 13, 25:00 ...
        return None
    resolution = "hour" if h else "day" if d else "month" if mo else "year"
    return dt, resolution


def _parse_when(value: str) -> tuple[pd.Timestamp, str] | None:
    """(start, resolution) of an ISO date of the format; None when it is not one."""
    parsed = _parse_datetime(value)
    return None if parsed is None else (pd.Timestamp(parsed[0]), parsed[1])


def _unreadable_date(value: str) -> tuple[str, str]:
    """(what is wrong, what would be right) for a date :func:`_parse_when` refused."""
    if _WHEN.fullmatch(value.strip()):
        return (
            f"{value!r} is not a date in the calendar (no such day or time)",
            "a real date, e.g. 2008-02-29 but not 2008-02-30",
        )
    return (
        f"cannot read {value!r} as a date",
        "ISO 8601: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM",
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
    out: _Collector,
):
    """Parse a date and its precision; return (start, end) or None."""
    ok = True
    parsed = _parse_datetime(value) if value else None
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
        end_parsed = _parse_datetime(end) if end else None
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


def _read_csv(path: Path, name: str, columns: dict[str, bool], out: _Collector):
    """Return list of (line, row-dict) or None if the file is unusable."""
    text = _read_text(path, name, out)
    if text is None:
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except csv.Error as err:
        out.add(name, 1, None, f"cannot read the header: {err}", "a comma-separated header row")
        return None
    header = [h.strip() for h in header]
    missing = [c for c, required in columns.items() if required and c not in header]
    for c in missing:
        out.add(
            name,
            1,
            c,
            "required column is missing",
            "header columns: " + ", ".join(c for c, r in columns.items() if r),
        )
    for c in header:
        if c not in columns:
            out.add(name, 1, c or "(empty)", "unknown column", "one of: " + ", ".join(columns))
    dupes = {c for c in header if header.count(c) > 1}
    for c in sorted(dupes):
        out.add(name, 1, c, "column appears more than once", "each column once")
    if missing or dupes:
        return None
    rows = []
    line = 1
    blank = dict.fromkeys(columns, "")
    try:
        for record in reader:
            start = line + 1
            line = reader.line_num
            if not record or (not record[0].strip() and not any(f.strip() for f in record)):
                continue
            if len(record) != len(header):
                out.add(
                    name,
                    start,
                    None,
                    f"row has {len(record)} fields, header has {len(header)}",
                    "one field per column (quote fields that contain commas)",
                )
                continue
            row = dict(blank)
            row.update(zip(header, map(str.strip, record)))
            rows.append((start, row))
    except csv.Error as err:
        out.add(name, line + 1, None, f"malformed CSV: {err}", "well-formed CSV quoting")
    return rows


def _check_common(
    file, line, row, sources: set[str], out: _Collector, *, quote_required: bool
) -> None:
    for col, required in (("source", True), ("confidence", True)):
        if required and not row[col]:
            out.add(file, line, col, "value is empty", "a value")
    ids = _split_ids(row["source"])
    for sid in ids:
        if sources is not None and sid not in sources:  # None: case.yaml unreadable, no list
            out.add(
                file,
                line,
                "source",
                f"unknown source id {sid!r}",
                "an id declared under `sources:` in case.yaml",
            )
    if row["confidence"] and row["confidence"] not in CONFIDENCES:
        out.add(
            file,
            line,
            "confidence",
            f"unknown confidence {row['confidence']!r}",
            " | ".join(CONFIDENCES),
        )
    if "kind" in row and row.get("kind") in FIGURE_KINDS:
        if row["kind"] == "derived" and not row.get("method"):
            out.add(
                file,
                line,
                "method",
                "a derived figure must say how it was derived",
                "the computation, e.g. 'close price x shares outstanding'",
            )
        if quote_required and row["kind"] != "derived" and not row.get("quote"):
            out.add(
                file,
                line,
                "quote",
                "the source's words for this figure are missing",
                "a short verbatim quote (empty only for derived rows)",
            )


# ASCII digits with an optional decimal point and sign. float() alone would also take "1_000",
# "1e3", "inf", Arabic-Indic and fullwidth digits: none of them is how the format writes a number.
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _parse_number(text: str):
    if not _NUMBER.fullmatch(text):
        return None
    v = float(text)
    return v if math.isfinite(v) else None


def _read_timeline(path, sources, out):
    rows = _read_csv(path, "timeline.csv", TIMELINE_COLUMNS, out)
    if rows is None:
        return None
    recs = []
    for line, row in rows:
        when = _check_when(
            row["date"],
            row["date_precision"],
            row["date_end"],
            "timeline.csv",
            line,
            "date",
            "date_end",
            out,
        )
        if row["actor"] not in ACTORS:
            out.add(
                "timeline.csv", line, "actor", f"unknown actor {row['actor']!r}", " | ".join(ACTORS)
            )
        if row["kind"] not in EVENT_KINDS:
            out.add(
                "timeline.csv",
                line,
                "kind",
                f"unknown event kind {row['kind']!r}",
                " | ".join(EVENT_KINDS),
            )
        if not row["description"]:
            out.add(
                "timeline.csv",
                line,
                "description",
                "value is empty",
                "what happened, in a sentence",
            )
        _check_common("timeline.csv", line, row, sources, out, quote_required=False)
        if when:
            recs.append({**row, "date": when[0], "date_end": when[1], "line": line})
    cols = [
        "date",
        "date_end",
        "date_precision",
        "actor",
        "kind",
        "description",
        "source",
        "quote",
        "confidence",
        "note",
        "line",
    ]
    df = pd.DataFrame(recs, columns=cols)
    return df.sort_values(["date", "line"], kind="stable").reset_index(drop=True)


def _read_reach(path, sources, out):
    rows = _read_csv(path, "reach.csv", REACH_COLUMNS, out)
    if rows is None:
        return None
    recs = []
    for line, row in rows:
        good = True
        when = _check_when(
            row["time"],
            row["time_precision"],
            row["time_end"],
            "reach.csv",
            line,
            "time",
            "time_end",
            out,
        )
        if not METRIC_PATTERN.match(row["metric"]):
            out.add(
                "reach.csv",
                line,
                "metric",
                f"metric {row['metric']!r} is not snake_case",
                "e.g. youtube_views or facebook_group_members",
            )
            good = False
        value = _parse_number(row["value"]) if row["value"] else None
        if not row["value"]:
            out.add("reach.csv", line, "value", "value is empty", "a non-negative number")
            good = False
        elif value is None:
            out.add(
                "reach.csv",
                line,
                "value",
                f"{row['value']!r} is not a number",
                "digits only, no thousands separators, e.g. 1566576",
            )
            good = False
        elif value < 0:
            out.add(
                "reach.csv",
                line,
                "value",
                f"negative count {row['value']}",
                "a count of zero or more",
            )
            good = False
        cum = row["cumulative"].lower()
        if cum not in ("true", "false"):
            out.add(
                "reach.csv",
                line,
                "cumulative",
                f"{row['cumulative']!r} is not true/false",
                "true for running totals, false for per-period counts",
            )
            good = False
        if not row["unit"]:
            out.add("reach.csv", line, "unit", "value is empty", "e.g. views, members")
        if row["qualifier"] not in QUALIFIERS:
            out.add(
                "reach.csv",
                line,
                "qualifier",
                f"unknown qualifier {row['qualifier']!r}",
                " | ".join(QUALIFIERS),
            )
        if row["kind"] not in FIGURE_KINDS:
            out.add(
                "reach.csv", line, "kind", f"unknown kind {row['kind']!r}", " | ".join(FIGURE_KINDS)
            )
        _check_common("reach.csv", line, row, sources, out, quote_required=True)
        if when and good:
            recs.append(
                {
                    **row,
                    "time": when[0],
                    "time_end": when[1],
                    "value": value,
                    "cumulative": cum == "true",
                    "line": line,
                }
            )
    cols = [
        "time",
        "time_end",
        "time_precision",
        "metric",
        "value",
        "unit",
        "cumulative",
        "qualifier",
        "kind",
        "method",
        "source",
        "quote",
        "confidence",
        "note",
        "line",
    ]
    df = pd.DataFrame(recs, columns=cols)
    df = df.sort_values(["time", "line"], kind="stable").reset_index(drop=True)
    _check_never_falls(df, out)
    return df


def _check_never_falls(df: pd.DataFrame, out: _Collector) -> None:
    """A counter never runs backwards within one source: a fall is a data-entry error.

    ``df`` is sorted by time and line. A row citing ``a;b`` is a reading of a and of b. Each
    row lower than the highest value before it in its (source, metric) series is reported,
    with the line of the last row that reached that highest value.
    """
    cum = df.loc[df["cumulative"].astype(bool), ["source", "metric", "value", "line"]]
    if cum.empty:
        return
    cum = cum.assign(source=[_split_ids(s) for s in cum["source"]]).explode("source")
    cum = cum.reset_index(drop=True)
    groups = cum.groupby(["source", "metric"], sort=False)
    before = groups["value"].cummax().groupby([cum["source"], cum["metric"]]).shift()
    falls = cum["value"] < before  # NaN before a series' first row compares False
    if not falls.any():
        return
    # the line of the last row at the running maximum: the latest row that did not fall
    at_line = cum["line"].where(~falls).groupby([cum["source"], cum["metric"]]).ffill()
    order = groups.ngroup()  # series in order of first appearance, rows in time order
    for i in sorted(falls[falls].index, key=lambda i: (order[i], i)):
        r = cum.loc[i]
        out.add(
            "reach.csv",
            int(r["line"]),
            "value",
            f"cumulative {r['metric']} from {r['source']} falls from {before[i]:g} "
            f"(line {int(at_line[i])}) to {r['value']:g}",
            "a running total that never decreases within one source; "
            "check the value, the time, or whether this is another source",
        )


def _read_costs(path, sources, out):
    rows = _read_csv(path, "costs.csv", COSTS_COLUMNS, out)
    if rows is None:
        return None
    recs = []
    for line, row in rows:
        when = _check_when(
            row["date"],
            row["date_precision"],
            row["date_end"],
            "costs.csv",
            line,
            "date",
            "date_end",
            out,
        )
        value = None
        if row["value"]:
            value = _parse_number(row["value"])
            if value is None:
                out.add(
                    "costs.csv",
                    line,
                    "value",
                    f"{row['value']!r} is not a number",
                    "a plain number (no currency signs or separators), or empty if the "
                    "source gives none",
                )
        if not row["item"]:
            out.add("costs.csv", line, "item", "value is empty", "what the figure is")
        if row["category"] not in COST_CATEGORIES:
            out.add(
                "costs.csv",
                line,
                "category",
                f"unknown category {row['category']!r}",
                " | ".join(COST_CATEGORIES),
            )
        if not row["unit"]:
            out.add("costs.csv", line, "unit", "value is empty", "e.g. USD, GBP, percent")
        if row["qualifier"] not in QUALIFIERS:
            out.add(
                "costs.csv",
                line,
                "qualifier",
                f"unknown qualifier {row['qualifier']!r}",
                " | ".join(QUALIFIERS),
            )
        if row["kind"] not in FIGURE_KINDS:
            out.add(
                "costs.csv", line, "kind", f"unknown kind {row['kind']!r}", " | ".join(FIGURE_KINDS)
            )
        _check_common("costs.csv", line, row, sources, out, quote_required=bool(row["value"]))
        if when:
            recs.append(
                {
                    **row,
                    "date": when[0],
                    "date_end": when[1],
                    "value": float("nan") if value is None else value,
                    "line": line,
                }
            )
    cols = [
        "item",
        "category",
        "value",
        "unit",
        "date",
        "date_end",
        "date_precision",
        "qualifier",
        "kind",
        "method",
        "source",
        "quote",
        "confidence",
        "note",
        "line",
    ]
    return pd.DataFrame(recs, columns=cols)
