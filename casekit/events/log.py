"""Event logs: single posts, comments or shares with their times, read with DuckDB.

:func:`load` reads CSV, JSON Lines or Parquet (one file, a glob or a folder), checks
every row as it reads, and returns an :class:`EventLog`. The log keeps a DuckDB view
of the files and the SQL that defines it; it materialises only aggregates (events per
period) or, on request, the sorted event times for the Hawkes fitter. Millions of rows
never pass through pandas.

Examples
--------
>>> from casekit import events
>>> log = events.load(events.EXAMPLE_LOG, time="time", id="id", tz="Europe/London")
>>> log.n_events > 1000, log.n_duplicates
(True, 0)
>>> log.counts("1D").columns.tolist()
['time', 'time_end', 'count', 'cumulative']
>>> type(log).from_dict(log.to_dict()).content_hash == log.content_hash
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.events import ingest
from casekit.events import provenance as _provenance
from casekit.events.ingest import BAD, EMPTY, NAIVE, OK, EventLogError
from casekit.events.provenance import REACH_ROW_COLUMNS  # noqa: F401
from casekit.exceptions import ParameterError
from casekit.results import Result

__all__ = ["EventLog", "load", "EXAMPLE_LOG"]

EXAMPLE_LOG = Path(__file__).resolve().parent.parent / "examples" / "synthetic-example" / "events"
"""The synthetic example event log (a folder holding one CSV), made by
``casekit/examples/make_event_log.py``."""


@dataclass(frozen=True, repr=False, eq=False)
class EventLog(Result):
    """A checked event log (see :func:`load`).

    The files stay where they are; the log holds their names, their content hash and
    the SQL that reads them, plus the daily counts. :meth:`counts` for other periods
    and :meth:`times` query the files again through DuckDB.

    Attributes
    ----------
    files : tuple of str
        Absolute paths, in the order read.
    columns : dict
        Role (``time``, ``author``, ``parent``, ``id``) -> column name in the files.
    tz : str
        The zone periods are counted in (local days); naive times were read in it.
    origin : pandas.Timestamp
        Naive local time that is t = 0 for :meth:`times` (the case's origin, or the
        midnight before the first event).
    n_rows, n_events, n_duplicates, n_bad_rows : int
        Rows read; events kept; duplicates found (dropped when ``drop_duplicates``);
        rows with an empty or unreadable time that were skipped (``bad_rows="drop"``).
    first, last : pandas.Timestamp
        First and last event, naive local time in ``tz``.
    content_hash : str
        SHA-256 of the files' bytes.
    daily : pandas.DataFrame
        Events per local day: ``time, time_end, count, cumulative``.
    """

    title: ClassVar[str] = "Event log"

    path: str
    files: tuple[str, ...]
    format: str
    columns: dict[str, str]
    available: tuple[str, ...]
    tz: str
    naive_tz: str | None
    unit: str | None
    origin: pd.Timestamp
    case_id: str | None
    drop_duplicates: bool
    duplicate_key: tuple[str, ...]
    bad_rows: str
    n_rows: int
    n_events: int
    n_duplicates: int
    n_bad_rows: int
    first: pd.Timestamp
    last: pd.Timestamp
    content_hash: str
    parsed_query: str
    events_query: str
    daily: pd.DataFrame
    _cache_con: Any = field(default=None, init=False, compare=False)

    # -- DuckDB ------------------------------------------------------------------
    @property
    def query(self) -> str:
        """The SQL that defines the log: the parsed rows, then the clean events."""
        return (
            f"CREATE VIEW parsed AS {self.parsed_query};\n"
            f"CREATE VIEW events AS {self.events_query};"
        )

    def connection(self):
        """The DuckDB connection holding views ``parsed`` and ``events`` (opened once).

        Raises
        ------
        EventLogError
            When a file of the log is no longer where it was.
        """
        if self._cache_con is None:
            import duckdb

            gone = [f for f in self.files if not Path(f).is_file()]
            if gone:
                raise EventLogError(
                    f"{', '.join(gone)}: file(s) of this event log are missing; only the "
                    "stored daily counts are available"
                )
            con = duckdb.connect(":memory:")
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")
            con.execute(f"CREATE VIEW parsed AS {self.parsed_query}")
            con.execute(f"CREATE VIEW events AS {self.events_query}")
            object.__setattr__(self, "_cache_con", con)
        return self._cache_con

    def _origin_us(self, origin: Any = None) -> tuple[int, int]:
        """The origin as (absolute UTC µs, local wall-clock µs)."""
        o = self.origin if origin is None else pd.Timestamp(origin)
        local = o.tz_convert(self.tz).tz_localize(None) if o.tzinfo else o
        absolute = local.tz_localize(self.tz, ambiguous=True, nonexistent="shift_forward")
        return int(absolute.value // 1000), int(local.value // 1000)

    # -- data --------------------------------------------------------------------
    def counts(self, period: str = "1D") -> pd.DataFrame:
        """Events per period and the running total, empty periods included.

        Parameters
        ----------
        period : str
            A fixed length in pandas notation: ``"1D"``, ``"6h"``, ``"15min"``, ``"7D"``.
            Whole days are local days in :attr:`tz` starting at the origin's midnight;
            shorter periods are absolute hours counted from the origin.

        Returns
        -------
        pandas.DataFrame
            ``time`` (start of the period), ``time_end``, ``count``, ``cumulative``;
            times are naive local times in :attr:`tz`.

        Examples
        --------
        >>> from casekit import events
        >>> log = events.load(events.EXAMPLE_LOG, time="time", id="id", tz="Europe/London")
        >>> hourly = log.counts("1h")
        >>> daily_total = int(log.counts("1D")["cumulative"].iloc[-1])
        >>> int(hourly["count"].sum()) == log.n_events == daily_total
        True
        """
        p_us = ingest.period_us(period)
        if p_us == ingest.US_PER_DAY:
            return self.daily.copy()
        o_abs, o_local = self._origin_us()
        o_us = o_local if p_us % ingest.US_PER_DAY == 0 else o_abs
        b = ingest.bucket_sql(self.tz, p_us, o_us)
        rows = (
            self.connection()
            .execute(f"SELECT {b} AS b, count(*) FROM events GROUP BY b")
            .fetchall()
        )
        return ingest.counts_frame({int(r[0]): int(r[1]) for r in rows}, p_us, o_us, self.tz)

    def times(self, origin: Any = None) -> np.ndarray:
        """Sorted event times in days since ``origin`` (default :attr:`origin`), float64.

        Computed and sorted inside DuckDB; only the one array reaches Python.

        Examples
        --------
        >>> from casekit import events
        >>> log = events.load(events.EXAMPLE_LOG, time="time", id="id", tz="Europe/London")
        >>> t = log.times()
        >>> len(t) == log.n_events, bool((t[1:] >= t[:-1]).all())
        (True, True)
        """
        o_abs, _ = self._origin_us(origin)
        out = (
            self.connection()
            .execute(f"SELECT (epoch_us(t) - {o_abs}) / 86400e6 AS x FROM events ORDER BY x")
            .fetchnumpy()["x"]
        )
        return np.asarray(out, dtype="float64")

    # -- a case's reach ----------------------------------------------------------
    @property
    def source_id(self) -> str:
        """A source id for the log in a case's ``sources:`` (from the content hash)."""
        return "event-log-" + self.content_hash.split(":", 1)[1][:12]

    def provenance(self, source: str | None = None) -> dict[str, Any]:
        """Where derived figures come from (see :func:`casekit.events.provenance.provenance`)."""
        return _provenance.provenance(self, source)

    def to_reach(self, metric: str = "posts", period: str = "1D", **kwargs) -> pd.DataFrame:
        """The log as reach rows (see :func:`casekit.events.provenance.to_reach`)."""
        return _provenance.to_reach(self, metric, period, **kwargs)

    def attach(self, case, metric: str = "posts", period: str = "1D", **kwargs):
        """A case's reach with the log's rows added (see
        :func:`casekit.events.provenance.attach`)."""
        return _provenance.attach(self, case, metric, period, **kwargs)

    # -- the result vocabulary ---------------------------------------------------
    @property
    def params(self) -> pd.Series:
        peak = self.daily.loc[self.daily["count"].idxmax()] if len(self.daily) else None
        return pd.Series(
            {
                "n_events": self.n_events,
                "n_rows": self.n_rows,
                "n_duplicates": self.n_duplicates,
                "n_bad_rows": self.n_bad_rows,
                "n_files": len(self.files),
                "first": self.first,
                "last": self.last,
                "span_days": (self.last - self.first) / pd.Timedelta(days=1),
                "peak_day": None if peak is None else peak["time"],
                "peak_count": None if peak is None else int(peak["count"]),
            },
            dtype=object,
            name="value",
        )

    @property
    def settings(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "files": ", ".join(Path(f).name for f in self.files),
            "format": self.format,
            "columns": ", ".join(f"{k}={v}" for k, v in self.columns.items()),
            "tz": f"{self.tz} (days are local days; naive times were read in "
            f"{self.naive_tz or 'no zone: every time carried its own'})",
            "unit": self.unit or "times are dates/timestamps, not epoch numbers",
            "origin": str(self.origin),
            "case": self.case_id or "none",
            "duplicates": (
                "not checked (no id or author column)"
                if not self.duplicate_key
                else f"same {'+'.join(self.duplicate_key)}; "
                + ("dropped (first occurrence kept)" if self.drop_duplicates else "kept")
            ),
            "bad rows": self.bad_rows,
            "content hash": self.content_hash,
        }

    @property
    def table(self) -> pd.DataFrame:
        return self.daily.copy()

    @property
    def summary(self) -> pd.DataFrame:
        p = self.params
        return pd.DataFrame(
            {
                "quantity": [
                    "events",
                    "rows read",
                    "duplicates",
                    "bad rows skipped",
                    "first event",
                    "last event",
                    "busiest day",
                ],
                "value": [
                    fmt.number(self.n_events),
                    fmt.number(self.n_rows),
                    fmt.number(self.n_duplicates),
                    fmt.number(self.n_bad_rows),
                    _when(self.first),
                    _when(self.last),
                    f"{fmt.date(p['peak_day'])}: {fmt.number(p['peak_count'])} events",
                ],
            }
        )

    def __str__(self) -> str:
        p = self.params
        n_files = len(self.files)
        lines = [
            f"Event log: {fmt.number(self.n_events)} events from {n_files} {self.format} "
            f"file{'s' if n_files != 1 else ''}, {_when(self.first)} to {_when(self.last)} "
            f"({self.tz} time), "
            f"{fmt.days(p['span_days'])}.",
            f"{fmt.number(self.n_rows)} rows read; "
            + (
                "duplicates not checked (no id or author column)"
                if not self.duplicate_key
                else f"{fmt.number(self.n_duplicates)} duplicates (same "
                f"{'+'.join(self.duplicate_key)}) "
                + ("dropped" if self.drop_duplicates else "kept")
            )
            + (
                f"; {fmt.number(self.n_bad_rows)} rows with a bad time skipped"
                if self.n_bad_rows
                else ""
            )
            + ".",
            f"Busiest day: {fmt.date(p['peak_day'])} with {fmt.number(p['peak_count'])} events.",
            f"Content {self.content_hash}.",
        ]
        return "\n".join(lines) + "\nSettings:\n" + fmt.settings_text(self.settings)

    def plot(self, period: str = "1D", **kwargs):
        """Events per period (bars) and the running total (line, right axis)."""
        import plotly.graph_objects as go

        import casekit.plots.theme  # noqa: F401 - registers the casekit template

        c = self.counts(period)
        fig = go.Figure()
        fig.add_bar(x=c["time"], y=c["count"], name=f"events per {period}")
        fig.add_scatter(
            x=c["time_end"], y=c["cumulative"], name="running total", yaxis="y2", mode="lines"
        )
        fig.update_layout(
            template="casekit",
            title=kwargs.get("title", f"Events per {period} ({self.tz} time)"),
            yaxis=dict(title=f"events per {period}"),
            yaxis2=dict(title="running total", overlaying="y", side="right", showgrid=False),
            legend=dict(x=0.01, y=0.99),
        )
        return fig


def _when(ts: pd.Timestamp) -> str:
    return f"{fmt.date(ts)} {ts:%H:%M}"


def _case_parts(case) -> tuple[str | None, str | None, pd.Timestamp | None]:
    if case is None:
        return None, None, None
    return case.id, case.timezone, case.origin


def load(
    path: str | Path,
    time: str = "time",
    *,
    parent: str | None = None,
    author: str | None = None,
    id: str | None = None,
    tz: str | None = None,
    case=None,
    origin: Any = None,
    unit: str | None = None,
    format: str | None = None,
    drop_duplicates: bool = True,
    bad_rows: str = "raise",
    threads: int | None = None,
) -> EventLog:
    """Read and check an event log: CSV, JSON Lines or Parquet; a file, a glob or a folder.

    Parameters
    ----------
    path : str or Path
        A file, a glob (``"exports/*.parquet"``) or a folder (searched recursively).
    time : str
        Column of the event times. Text in ISO 8601 (``2024-03-04T10:09:00Z``,
        ``2024-03-04 10:09:00+01:00``, or without a zone when ``tz`` says which),
        Parquet timestamps, or Unix epoch numbers with ``unit``.
    parent, author, id : str, optional
        Columns of the post an event answers or shares, of its author, and of its id.
    tz : str, optional
        IANA zone of times written without one, and the zone whose days :meth:`counts`
        counts. Default: the case's ``timezone``; with no case, times without a zone
        are an error and days are UTC days.
    case : Case, optional
        The case the log belongs to: supplies ``tz`` and the origin.
    origin : timestamp, optional
        t = 0 for :meth:`EventLog.times` (naive local time). Default: the case's origin,
        else the midnight before the first event.
    unit : {"s", "ms", "us"}, optional
        The time column holds Unix epoch numbers in this unit.
    format : {"csv", "jsonl", "parquet"}, optional
        Default: from the file endings.
    drop_duplicates : bool
        Duplicates are rows with the same ``id`` or, without an id column, the same
        time, author and parent (not checked when neither id nor author is given).
        They are always counted; True (default) keeps the first occurrence only.
    bad_rows : {"raise", "drop"}
        A row with an empty or unreadable time is an error naming its file and row
        (default), or is skipped and counted.
    threads : int, optional
        DuckDB threads (default: all cores).

    Returns
    -------
    EventLog

    Raises
    ------
    EventLogError
        A file cannot be read, lacks a column (the message lists those it has), holds
        a bad time (the message names the file and row), or the log has no events.
    ParameterError
        Bad arguments, or times without a zone and no ``tz`` or case to say which.

    Examples
    --------
    >>> from casekit import events
    >>> log = events.load(events.EXAMPLE_LOG, time="time", id="id", author="author",
    ...                   parent="parent", tz="Europe/London")
    >>> log.columns["parent"], log.format, log.n_events == log.n_rows
    ('parent', 'csv', True)
    >>> print(str(log).splitlines()[0])
    Event log: ... events from 1 csv file, ... Mar 2024 ... to ... Mar 2024 ... (Europe/London ...
    """
    for name, value in (("time", time), ("parent", parent), ("author", author), ("id", id)):
        if value is not None and (not isinstance(value, str) or not value):
            raise ParameterError(f"{name} must be a column name, not {value!r}")
    if unit is not None and unit not in ingest._UNITS:
        raise ParameterError(f"unit must be 's', 'ms' or 'us' (epoch numbers), not {unit!r}")
    if bad_rows not in ("raise", "drop"):
        raise ParameterError(f"bad_rows must be 'raise' or 'drop', not {bad_rows!r}")
    case_id, case_tz, case_origin = _case_parts(case)
    naive_tz = ingest.check_tz(tz) or case_tz
    count_tz = naive_tz or "UTC"
    columns = {"time": time, "author": author, "parent": parent, "id": id}
    opened = ingest.open_log(
        path,
        columns=columns,
        tz=naive_tz,
        count_tz=count_tz,
        unit=unit,
        format=format,
        drop_duplicates=drop_duplicates,
        threads=threads,
    )
    status = opened.status
    n_rows = sum(status.values())
    where = ", ".join(f.name for f in opened.files[:3]) + (
        f" and {len(opened.files) - 3} more" if len(opened.files) > 3 else ""
    )
    if n_rows == 0:
        raise EventLogError(f"{where}: the log has no rows (empty log)")
    if opened.time_kind == "number" and unit is None:
        raise EventLogError(
            f"{where}: column {time!r} holds numbers; pass unit='s', 'ms' or 'us' if they "
            "are Unix epoch times"
        )
    if status.get(NAIVE):
        f, row, raw = ingest.locate(
            opened.con, opened.files, opened.fmt, NAIVE, opened.single_file_sql
        )
        raise ParameterError(
            f"{f}, row {row}: the time {raw!s} in column {time!r} has no time zone, and "
            f"none was given ({status[NAIVE]} such rows). Pass tz='...' with the zone the "
            "times were written in (tz='UTC' if the export is in UTC), or case=... to use "
            "the case's timezone."
        )
    n_bad = status.get(BAD, 0) + status.get(EMPTY, 0)
    if n_bad and bad_rows == "raise":
        code = BAD if status.get(BAD) else EMPTY
        f, row, raw = ingest.locate(
            opened.con, opened.files, opened.fmt, code, opened.single_file_sql
        )
        what = (
            f"column {time!r} is empty"
            if code == EMPTY
            else f"cannot read {raw!s} in column {time!r} as a time "
            "(expected ISO 8601 such as 2024-03-04T10:09:00Z"
            + (f", or epoch {unit}" if unit else "")
            + ")"
        )
        raise EventLogError(
            f"{f}, row {row}: {what}; {n_bad} row(s) in all have an empty or unreadable "
            "time. Fix them, or pass bad_rows='drop' to skip and count them."
        )
    if opened.n_events == 0:
        raise EventLogError(f"{where}: no events with a valid time (empty log)")
    n_ok = status.get(OK, 0)
    if not opened.key:
        n_dup = 0
    elif drop_duplicates:
        n_dup = n_ok - opened.n_events
    elif opened.key == ("id",):
        n_dup = (
            n_ok
            - opened.con.execute(
                "SELECT count(DISTINCT id) + count(*) FILTER (WHERE id IS NULL) "
                "FROM parsed WHERE status = 0"
            ).fetchone()[0]
        )
    else:
        n_dup = (
            n_ok
            - opened.con.execute(
                "SELECT count(*) FROM (SELECT DISTINCT t, author, parent FROM parsed "
                "WHERE status = 0)"
            ).fetchone()[0]
        )
    o = pd.Timestamp(origin) if origin is not None else case_origin
    if o is None:
        o = opened.first.normalize()
    log = EventLog(
        path=str(path),
        files=tuple(str(f) for f in opened.files),
        format=opened.fmt,
        columns=dict(opened.columns),
        available=tuple(opened.available),
        tz=count_tz,
        naive_tz=naive_tz,
        unit=unit,
        origin=o,
        case_id=case_id,
        drop_duplicates=bool(drop_duplicates),
        duplicate_key=tuple(opened.key),
        bad_rows=bad_rows,
        n_rows=int(n_rows),
        n_events=int(opened.n_events),
        n_duplicates=int(n_dup),
        n_bad_rows=int(n_bad),
        first=opened.first,
        last=opened.last,
        content_hash=opened.content_hash,
        parsed_query=opened.parsed_sql,
        events_query=opened.events_sql,
        daily=opened.daily,
    )
    object.__setattr__(log, "_cache_con", opened.con)
    return log
