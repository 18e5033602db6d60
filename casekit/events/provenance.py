"""An event log's figures as a case's reach rows, with their provenance.

The :class:`~casekit.events.log.EventLog` methods ``provenance``, ``to_reach`` and
``attach`` call these functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from casekit import format as fmt
from casekit.events import ingest
from casekit.exceptions import ParameterError

__all__ = ["REACH_ROW_COLUMNS", "provenance", "to_reach", "attach"]

REACH_ROW_COLUMNS = (
    "time",
    "time_end",
    "time_precision",
    "metric",
    "value",
    "unit",
    "cumulative",
    "period",
    "qualifier",
    "kind",
    "method",
    "source",
    "quote",
    "confidence",
    "note",
)


def provenance(log, source: str | None = None) -> dict[str, Any]:
    """Where derived figures come from: files, rows, content hash and the query.

    The ``id``, ``title``, ``publisher``, ``date`` and ``note`` keys are a ready
    entry for a case's ``sources:`` list.
    """
    names = [Path(f).name for f in log.files]
    return {
        "id": source or log.source_id,
        "title": f"Event log of {fmt.number(log.n_events)} events ({', '.join(names[:3])}"
        + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        + ")",
        "publisher": "casekit.events.load",
        "date": str(log.last.date()),
        "url": None,
        "note": f"{log.format} files; {log.n_rows} rows; content {log.content_hash}",
        "files": list(log.files),
        "n_rows": log.n_rows,
        "n_events": log.n_events,
        "n_duplicates": log.n_duplicates,
        "duplicates_dropped": log.drop_duplicates and bool(log.duplicate_key),
        "n_bad_rows": log.n_bad_rows,
        "content_hash": log.content_hash,
        "query": log.query,
        "tz": log.tz,
    }


def to_reach(
    log,
    metric: str = "posts",
    period: str = "1D",
    *,
    cumulative: bool = True,
    unit: str = "events",
    source: str | None = None,
) -> pd.DataFrame:
    """The log as reach rows (kind ``derived``) in the columns of a case's ``reach``.

    Parameters
    ----------
    metric : str
        Metric name for the rows (snake_case).
    period : str
        Aggregation period (see :meth:`EventLog.counts`).
    cumulative : bool
        True: running totals at each period's end (what growth curves fit);
        False: counts per period.
    unit : str
        The rows' unit.
    source : str, optional
        Source id; default :attr:`EventLog.source_id`. Declare it in the case with
        :func:`provenance`.

    Examples
    --------
    >>> from casekit import events
    >>> log = events.load(events.EXAMPLE_LOG, time="time", id="id", tz="Europe/London")
    >>> rows = log.to_reach("forum_posts_log")
    >>> rows["kind"].iloc[0], bool(rows["cumulative"].iloc[0])
    ('derived', True)
    >>> int(rows["value"].iloc[-1]) == log.n_events
    True
    """
    c = log.counts(period)
    p_us = ingest.period_us(period)
    dup = (
        f"{log.n_duplicates} duplicates by {'+'.join(log.duplicate_key)} dropped"
        if log.drop_duplicates and log.duplicate_key
        else f"{log.n_duplicates} duplicates kept"
    )
    what = "running total at the end of each" if cumulative else "count of events per"
    method = (
        f"{what} {period} period ({log.tz} time) from the event log {log.content_hash[:19]}… "
        f"({len(log.files)} {log.format} file(s), {log.n_rows} rows, {dup}); "
        "see the source's query"
    )
    n = len(c)
    if cumulative:
        time, precision, value = c["time_end"], "hour", c["cumulative"]
        end = pd.Series([pd.NaT] * n, dtype="datetime64[us]")
    else:
        precision = {ingest.US_PER_DAY: "day", 3_600_000_000: "hour"}.get(p_us, "range")
        time, value = c["time"], c["count"]
        end = (
            c["time_end"]
            if precision == "range"
            else pd.Series([pd.NaT] * n, dtype="datetime64[us]")
        )
    return pd.DataFrame(
        {
            "time": time.to_numpy(),
            "time_end": end.to_numpy(),
            "time_precision": [precision] * n,
            "metric": [metric] * n,
            "value": value.astype("float64").to_numpy(),
            "unit": [unit] * n,
            "cumulative": [bool(cumulative)] * n,
            "period": ["" if cumulative else period] * n,
            "qualifier": ["exact"] * n,
            "kind": ["derived"] * n,
            "method": [method] * n,
            "source": [source or log.source_id] * n,
            "quote": [""] * n,
            "confidence": ["high"] * n,
            "note": [""] * n,
        },
        columns=list(REACH_ROW_COLUMNS),
    )


def attach(log, case, metric: str = "posts", period: str = "1D", **kwargs):
    """A case's reach with the log's rows added, and their provenance.

    Returns ``(reach, provenance)``: a new DataFrame (the case is not changed) with
    the case's rows and :func:`to_reach`'s rows, sorted by time; and the
    :func:`provenance` dict, whose first keys form a ``sources:`` entry.
    """
    if metric in set(case.reach["metric"]):
        raise ParameterError(
            f"case {case.id!r} already has metric {metric!r}; name the log's rows "
            "differently, e.g. metric='posts_log'"
        )
    rows = log.to_reach(metric, period, **kwargs)
    reach = pd.concat([case.reach, rows], ignore_index=True)
    reach = reach.sort_values("time", kind="stable").reset_index(drop=True)
    return reach, log.provenance(kwargs.get("source"))
