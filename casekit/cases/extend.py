""":meth:`Case.with_reach`: a case with more reach rows, validated like reach.csv.

The rows (for example an event log's counts from :meth:`casekit.events.EventLog.to_reach`)
are turned back into the text of reach.csv rows and checked by the same code that reads
reach.csv, so a row the file would refuse is refused here too, with its row and column.

Examples
--------
>>> import casekit as ck
>>> case = ck.load_case("synthetic-example")
>>> row = {"time": "2024-03-05T12:00+00:00", "time_precision": "hour", "metric": "tips",
...        "value": 3, "unit": "posts", "cumulative": False, "period": "12h",
...        "qualifier": "less_than", "kind": "reported", "source": "my-note",
...        "quote": "fewer than three", "confidence": "low"}
>>> src = {"id": "my-note", "title": "A note", "publisher": "me"}
>>> case.with_reach([row], src).series("tips")[["t", "value", "period_days"]].values.tolist()
[[1.5, 3.0, 0.5]]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from casekit.cases.folder import SOURCE_COLUMNS, _read_sources
from casekit.cases.model import REACH_COLUMNS, Case
from casekit.cases.readers import _check_never_falls, _Collector, _reach_frame
from casekit.exceptions import CaseValidationError, ParameterError

ROWS = "rows"
"""The file name in problems of the rows given to :meth:`Case.with_reach`."""
_SOURCE = "source"


def _text(value) -> str:
    """A cell as reach.csv would hold it."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        ts = pd.Timestamp(value)
        text = ts.strftime("%Y-%m-%dT%H:%M:%S")
        if ts.tzinfo is not None:
            off = ts.strftime("%z")
            text += off[:3] + ":" + off[3:]
        return text
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return np.format_float_positional(value, trim="-")
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value).strip()


def _records(rows) -> list[dict]:
    if isinstance(rows, pd.DataFrame):
        return rows.to_dict("records")
    if isinstance(rows, Mapping):
        raise ParameterError("rows must be a DataFrame or a list of dicts (one per row)")
    try:
        records = list(rows)
    except TypeError:
        raise ParameterError(
            f"rows must be a DataFrame or a list of dicts, not {type(rows).__name__}"
        ) from None
    if not all(isinstance(r, Mapping) for r in records):
        raise ParameterError("rows must be a DataFrame or a list of dicts (one per row)")
    return [dict(r) for r in records]


def _own_rows(case: Case) -> set[tuple]:
    """Keys of the case's own rows, so a whole reach table (EventLog.attach) can be given."""
    r = case._reach
    return set(zip(r["line"], r["metric"], r["value"], r["source"], r["time"], strict=True))


def _is_own(rec: dict, own: set[tuple]) -> bool:
    line = rec.get("line")
    if line is None or (isinstance(line, float) and math.isnan(line)):
        return False
    try:
        key = (int(line), rec.get("metric"), float(rec.get("value")), rec.get("source"))
        return (*key, pd.Timestamp(rec.get("time"))) in own
    except (TypeError, ValueError):
        return False


def _source_entry(case: Case, source, out: _Collector) -> dict | None:
    """The new ``sources:`` entry (None when ``source`` names a declared one)."""
    declared = set(case._sources["id"])
    if isinstance(source, str):
        if source not in declared:
            out.add(
                _SOURCE,
                None,
                "id",
                f"unknown source id {source!r}",
                "a source the case declares, or a mapping with id, title and publisher",
            )
        return None
    if not isinstance(source, Mapping):
        raise ParameterError(
            f"source must be a sources: entry (a mapping) or a source id, not "
            f"{type(source).__name__}"
        )
    entry = {k: source[k] for k in SOURCE_COLUMNS if k in source}
    check = _Collector()
    frame, _ids = _read_sources({"sources": [entry]}, check)
    for p in check.problems:
        out.add(_SOURCE, None, p.column.split(".", 1)[-1], p.message, p.expected)
    if check.problems:
        return None
    new = frame.iloc[0].to_dict()
    if new["id"] in declared:
        old = case._sources[case._sources["id"] == new["id"]].iloc[0]
        if (old["title"], old["publisher"]) != (new["title"], new["publisher"]):
            out.add(
                _SOURCE,
                None,
                "id",
                f"source id {new['id']!r} is declared already, with another title or publisher",
                "another id, or the declared entry itself",
            )
        return None
    return new


def _with_reach(case: Case, rows, source) -> Case:
    out = _Collector()
    new_source = _source_entry(case, source, out)
    sources = set(case._sources["id"]) | ({new_source["id"]} if new_source else set())
    own = _own_rows(case)
    given = []
    for i, rec in enumerate(_records(rows), 1):
        if _is_own(rec, own):
            continue
        if not _text(rec.get("period")) and "period_days" in rec:
            days = rec["period_days"]
            if _text(days):
                rec["period"] = f"{_text(days)}D"
        unknown = sorted(k for k in rec if k not in REACH_COLUMNS and k not in _IGNORED)
        for k in unknown:
            out.add(ROWS, i, str(k), "unknown column", "one of: " + ", ".join(REACH_COLUMNS))
        row = {c: _text(rec.get(c)) for c in REACH_COLUMNS}
        given.append((i, row))
    if not given and not out.problems:
        raise ParameterError("rows holds no reach row to add")
    added = _reach_frame(given, sources, out, case.timezone, ROWS)
    reach = pd.concat([case._reach, added], ignore_index=True)
    reach = reach.sort_values("time", kind="stable").reset_index(drop=True)
    if not out.problems:
        _check_never_falls(reach, out, f"reach.csv + {ROWS}")
    if out.problems:
        raise CaseValidationError(f"{case.id} (with_reach)", out.problems)
    srcs = case._sources
    if new_source is not None:
        srcs = pd.concat([srcs, pd.DataFrame([new_source])], ignore_index=True)
    return dataclasses.replace(case, _sources=srcs, _reach=reach)


# Columns of Case.reach that rows taken from it carry besides reach.csv's own.
_IGNORED = {"line", "period_days"}
