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
import io
import math
import re
from pathlib import Path

import pandas as pd

from casekit.cases.files import _read_text
from casekit.cases.model import (
    ACTORS,
    COMPANY_KINDS,
    CONFIDENCES,
    COST_CATEGORIES,
    COSTS_COLUMNS,
    EVENT_KINDS,
    FIGURE_KINDS,
    METRIC_PATTERN,
    QUALIFIERS,
    REACH_COLUMNS,
    REACH_FRAME_COLUMNS,
    TIMELINE_COLUMNS,
    _split_ids,
)
from casekit.cases.times import (
    DATE_RANGE,
    EARLIEST,
    PERIOD_EXPECTED,
    _check_when,
    _out_of_range,
    _parse_datetime,
    _parse_period,
    _parse_when,
    _period_problem,
    _unreadable_date,
)
from casekit.exceptions import Problem

__all__ = [
    "DATE_RANGE",
    "EARLIEST",
    "_Collector",
    "_check_when",
    "_out_of_range",
    "_parse_datetime",
    "_parse_when",
    "_unreadable_date",
]


class _Collector:
    """Collects the problems of one folder, in the order they are found."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file, row, column, message, expected=None) -> None:
        self.problems.append(Problem(file, row, column, message, expected))


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


def _read_timeline(path, sources, out, tz=None):
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
            tz,
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
        elif row["kind"] in COMPANY_KINDS and row["actor"] in ACTORS and row["actor"] != "company":
            out.add(
                "timeline.csv",
                line,
                "kind",
                f"kind {row['kind']!r} names a kind of company response, but the actor is "
                f"{row['actor']!r}",
                "actor 'company', or kind 'other' (or 'coverage' for the media) for what "
                "someone else said or did",
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


def _read_reach(path, sources, out, tz=None):
    rows = _read_csv(path, "reach.csv", REACH_COLUMNS, out)
    if rows is None:
        return None
    return _reach_frame(rows, sources, out, tz)


def _reach_frame(rows, sources, out, tz=None, file="reach.csv"):
    """Validate reach rows ``[(line, row-dict), ...]`` and return them as a table.

    A row with problems is reported to ``out`` and left out; the table is sorted by time,
    and a cumulative series that falls is reported too.
    """
    recs = []
    for line, row in rows:
        rec = _reach_row(line, row, sources, out, tz, file)
        if rec is not None:
            recs.append(rec)
    df = pd.DataFrame(recs, columns=list(REACH_FRAME_COLUMNS))
    df["period_days"] = df["period_days"].astype(float)
    df = df.sort_values(["time", "line"], kind="stable").reset_index(drop=True)
    _check_never_falls(df, out, file)
    return df


def _reach_row(line, row, sources, out, tz, file):
    """One reach row as a record, or None when it has problems (added to ``out``)."""
    good = True
    when = _check_when(
        row["time"], row["time_precision"], row["time_end"], file, line, "time", "time_end", out, tz
    )
    if not METRIC_PATTERN.match(row["metric"]):
        out.add(
            file,
            line,
            "metric",
            f"metric {row['metric']!r} is not snake_case",
            "e.g. youtube_views or facebook_group_members",
        )
        good = False
    value = _parse_number(row["value"]) if row["value"] else None
    if not row["value"]:
        out.add(file, line, "value", "value is empty", "a non-negative number")
        good = False
    elif value is None:
        out.add(
            file,
            line,
            "value",
            f"{row['value']!r} is not a number",
            "digits only, no thousands separators, e.g. 1566576",
        )
        good = False
    elif value < 0:
        out.add(file, line, "value", f"negative count {row['value']}", "a count of zero or more")
        good = False
    cum = row["cumulative"].lower()
    if cum not in ("true", "false"):
        out.add(
            file,
            line,
            "cumulative",
            f"{row['cumulative']!r} is not true/false",
            "true for running totals, false for per-period counts",
        )
        good = False
    period_days = math.nan
    if row["period"]:
        period_days = _parse_period(row["period"])
        if period_days is None:
            out.add(file, line, "period", _period_problem(row["period"]), PERIOD_EXPECTED)
            good = False
        elif cum == "true":
            out.add(
                file,
                line,
                "period",
                f"period {row['period']!r} on a running total (cumulative true)",
                "an empty period for a running total, or cumulative false for a count per period",
            )
            good = False
    if not row["unit"]:
        out.add(file, line, "unit", "value is empty", "e.g. views, members")
    if row["qualifier"] not in QUALIFIERS:
        out.add(
            file,
            line,
            "qualifier",
            f"unknown qualifier {row['qualifier']!r}",
            " | ".join(QUALIFIERS),
        )
    if row["kind"] not in FIGURE_KINDS:
        out.add(file, line, "kind", f"unknown kind {row['kind']!r}", " | ".join(FIGURE_KINDS))
    _check_common(file, line, row, sources, out, quote_required=True)
    if not (when and good):
        return None
    return {
        **row,
        "time": when[0],
        "time_end": when[1],
        "value": value,
        "cumulative": cum == "true",
        "period_days": period_days,
        "line": line,
    }


def _check_never_falls(df: pd.DataFrame, out: _Collector, file: str = "reach.csv") -> None:
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
            file,
            int(r["line"]),
            "value",
            f"cumulative {r['metric']} from {r['source']} falls from {before[i]:g} "
            f"(line {int(at_line[i])}) to {r['value']:g}",
            "a running total that never decreases within one source; "
            "check the value, the time, or whether this is another source",
        )


def _read_costs(path, sources, out, tz=None):
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
            tz,
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
