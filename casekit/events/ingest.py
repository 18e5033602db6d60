"""Reading event-log files with DuckDB: finding the files, checking them, and the SQL.

Nothing here loads rows into pandas. :func:`open_log` finds the files, checks each
one's columns, builds one SQL view of the parsed events inside an in-memory DuckDB
connection, and runs a single scan that both validates every row and counts events per
day. Only those counts leave DuckDB. :class:`~casekit.events.log.EventLog` keeps the
connection and the query.

Times are stored as absolute instants (``TIMESTAMPTZ``, session zone UTC). A time
written without a zone is read in ``tz``; with no ``tz`` it is an error, because a
naive time in an export could be UTC or the poster's local time and the day counts
would shift.

Examples
--------
>>> from casekit.events.ingest import period_us
>>> period_us("1D"), period_us("1h")
(86400000000, 3600000000)
"""

from __future__ import annotations

import glob as globlib
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from casekit.exceptions import CasekitError, ParameterError

__all__ = ["EventLogError", "FORMATS", "period_us", "find_files", "content_hash", "open_log"]

US_PER_DAY = 86_400_000_000

FORMATS = {
    "csv": (".csv", ".csv.gz", ".tsv"),
    "jsonl": (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz"),
    "parquet": (".parquet", ".pq"),
}
"""Formats :func:`casekit.events.load` reads, and the file endings that name them."""

# row status codes in the parsed view
OK, EMPTY, BAD, NAIVE = 0, 1, 2, 3

_OFFSET = r"[0-9]:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?\s*(Z|z|UTC|GMT|[+-][0-9]{2}(:?[0-9]{2})?)$"


class EventLogError(CasekitError, ValueError):
    """An event-log file cannot be read, lacks a column, or holds a bad row.

    The message names the file (and the row, where there is one) and says what would
    be right.
    """


def period_us(period: str) -> int:
    """A pandas-style period (``"1D"``, ``"6h"``, ``"15min"``) in microseconds.

    Raises
    ------
    ParameterError
        When the period is not a fixed positive length (months and years are not).
    """
    try:
        td = pd.Timedelta(period)
    except (TypeError, ValueError):
        raise ParameterError(
            f"period {period!r} is not a fixed length; use e.g. '1D', '6h', '15min' or '7D'"
        ) from None
    us = int(td.value // 1000)
    if us <= 0:
        raise ParameterError(f"period must be positive, not {period!r}")
    return us


def check_tz(tz: str | None) -> str | None:
    """``tz`` if it is a known IANA zone name (or None), else ParameterError."""
    if tz is None:
        return None
    if not isinstance(tz, str):
        raise ParameterError(f"tz must be a time-zone name such as 'Europe/London', not {tz!r}")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ParameterError(
            f"unknown time zone {tz!r}; use an IANA name such as 'UTC' or 'Europe/Berlin'"
        ) from None
    return tz


def _format_of(path: Path) -> str | None:
    name = path.name.lower()
    for fmt_name, endings in FORMATS.items():
        if name.endswith(endings):
            return fmt_name
    return None


def find_files(path: str | Path, format: str | None = None) -> tuple[list[Path], str]:
    """The files ``path`` names (a file, a glob or a folder) and their format.

    A folder is searched recursively for files with a known ending; a glob may match
    files of one format only unless ``format`` picks one.
    """
    if format is not None and format not in FORMATS:
        raise ParameterError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    text = str(path)
    p = Path(text).expanduser()
    if p.is_dir():
        found = sorted(f for f in p.rglob("*") if f.is_file() and _format_of(f))
        where = f"folder {text}"
    elif any(ch in text for ch in "*?["):
        found = sorted(Path(f) for f in globlib.glob(str(p), recursive=True) if Path(f).is_file())
        where = f"pattern {text}"
    elif p.exists():
        if not p.is_file():
            raise EventLogError(f"{text}: not a file or folder")
        found = [p]
        where = text
    else:
        raise EventLogError(f"{text}: no such file or folder")
    if format is not None:
        found = [f for f in found if _format_of(f) in (format, None)]
    formats = sorted({_format_of(f) or "unknown" for f in found})
    if not found:
        raise EventLogError(
            f"{where}: no event-log files found (empty log); expected files ending in "
            + ", ".join(e for es in FORMATS.values() for e in es)
        )
    if len(formats) > 1:
        raise EventLogError(
            f"{where}: files of several formats ({', '.join(formats)}); "
            "pass format='csv', 'jsonl' or 'parquet' to pick one"
        )
    if formats == ["unknown"]:
        if format is None:
            raise EventLogError(
                f"{found[0]}: unknown file type; pass format='csv', 'jsonl' or 'parquet'"
            )
        return [f.resolve() for f in found], format
    return [f.resolve() for f in found], formats[0]


def content_hash(files: list[Path], chunk: int = 1 << 22) -> str:
    """SHA-256 of the files' bytes, in order, each prefixed by its length (streamed).

    The names are not hashed, so a copied or moved log keeps its hash; one changed
    byte changes it.
    """
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.stat().st_size}:".encode())
        with open(f, "rb") as fh:
            while block := fh.read(chunk):
                h.update(block)
    return "sha256:" + h.hexdigest()


def sql_str(text: str) -> str:
    """A SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def sql_name(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def reader_sql(files: list[Path], fmt: str, json_columns: list[str] | None = None) -> str:
    """The DuckDB table function that reads ``files`` (with a ``filename`` column)."""
    lst = "[" + ", ".join(sql_str(str(f)) for f in files) + "]"
    if fmt == "parquet":
        return f"read_parquet({lst}, filename=true, file_row_number=true, union_by_name=true)"
    if fmt == "csv":
        return f"read_csv({lst}, all_varchar=true, header=true, filename=true, union_by_name=true)"
    cols = "{" + ", ".join(f"{sql_str(c)}: 'VARCHAR'" for c in json_columns or []) + "}"
    return f"read_json({lst}, format='newline_delimited', columns={cols}, filename=true)"


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def file_columns(con, f: Path, fmt: str) -> dict[str, str]:
    """Column name -> DuckDB type of one file, or EventLogError naming it."""
    if f.stat().st_size == 0:
        raise EventLogError(f"{f.name}: the file is empty (0 bytes), so the log has no events")
    if fmt == "parquet":
        src = f"read_parquet({sql_str(str(f))})"
    elif fmt == "csv":
        src = f"read_csv({sql_str(str(f))}, all_varchar=true, header=true)"
    else:
        src = f"read_json({sql_str(str(f))}, format='newline_delimited')"
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
    except Exception as err:  # noqa: BLE001 - DuckDB raises several error classes
        raise EventLogError(f"{f.name}: cannot read it as {fmt}: {_first_line(err)}") from None
    return {r[0]: r[1] for r in rows}


def _kind_of(types: set[str]) -> str:
    """How to read a time column of these DuckDB types: tz, naive, number or text."""
    if len(types) != 1:
        return "text"
    t = next(iter(types)).upper()
    if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
        return "tz"
    if t.startswith("TIMESTAMP") or t == "DATE":
        return "naive"
    if t in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE"} or (
        t.startswith(("DECIMAL", "UBIGINT", "UINTEGER"))
    ):
        return "number"
    return "text"


_UNITS = {"s": 1.0, "ms": 1e3, "us": 1e6}


def time_sql(col: str, kind: str, tz: str | None, unit: str | None) -> tuple[str, str]:
    """SQL for the parsed instant ``t`` and the row ``status`` of time column ``col``."""
    c = sql_name(col)
    if unit is not None:
        num = c if kind == "number" else f"TRY_CAST(trim({c}) AS DOUBLE)"
        t = f"to_timestamp({num} / {_UNITS[unit]})"
        empty = f"{c} IS NULL" if kind == "number" else f"({c} IS NULL OR trim({c}) = '')"
        return t, f"CASE WHEN {empty} THEN {EMPTY} WHEN {t} IS NULL THEN {BAD} ELSE {OK} END"
    if kind == "number":
        return "NULL::TIMESTAMPTZ", f"CASE WHEN {c} IS NULL THEN {EMPTY} ELSE {BAD} END"
    if kind == "tz":
        return c, f"CASE WHEN {c} IS NULL THEN {EMPTY} ELSE {OK} END"
    if kind == "naive":
        t = f"timezone({sql_str(tz)}, {c}::TIMESTAMP)" if tz else "NULL::TIMESTAMPTZ"
        naive = OK if tz else NAIVE
        return t, f"CASE WHEN {c} IS NULL THEN {EMPTY} ELSE {naive} END"
    s = f"trim(CAST({c} AS VARCHAR))"
    n, z = f"TRY_CAST({s} AS TIMESTAMP)", f"TRY_CAST({s} AS TIMESTAMPTZ)"
    zoned = f"(regexp_matches({s}, {sql_str(_OFFSET)}) OR ({n} IS NULL AND {z} IS NOT NULL))"
    local = f"timezone({sql_str(tz)}, {n})" if tz else "NULL::TIMESTAMPTZ"
    t = f"CASE WHEN {zoned} THEN {z} ELSE {local} END"
    status = (
        f"CASE WHEN {s} IS NULL OR {s} = '' THEN {EMPTY} "
        f"WHEN {zoned} THEN (CASE WHEN {z} IS NULL THEN {BAD} ELSE {OK} END) "
        f"WHEN {n} IS NULL THEN {BAD} WHEN {'TRUE' if tz else 'FALSE'} THEN {OK} "
        f"ELSE {NAIVE} END"
    )
    return t, status


@dataclass
class Opened:
    """What :func:`open_log` found: the connection, the SQL and the first counts."""

    con: object
    files: list[Path]
    fmt: str
    columns: dict[str, str]
    available: list[str]
    time_kind: str
    parsed_sql: str
    events_sql: str
    key: tuple[str, ...]
    status: dict[int, int]
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    daily: pd.DataFrame
    n_events: int
    content_hash: str
    single_file_sql: object


def _role_cols(columns: dict[str, str | None]) -> dict[str, str]:
    return {role: col for role, col in columns.items() if col is not None}


def parsed_sql(source: str, roles: dict[str, str], t: str, status: str, fmt: str) -> str:
    """The view of every row: instant ``t``, ``status``, optional columns, where it came from."""
    extra = [f"{sql_name(col)} AS {role}" for role, col in roles.items() if role != "time"]
    for role in ("author", "parent", "id"):
        if role not in roles:
            extra.append(f"NULL AS {role}")
    row = "file_row_number" if fmt == "parquet" else "NULL::BIGINT"
    return (
        f"SELECT {t} AS t, {status} AS status, {', '.join(extra)}, "
        f"{sql_name(roles['time'])} AS raw_time, filename, {row} AS row_number "
        f"FROM {source}"
    )


def events_sql(key: tuple[str, ...], drop: bool) -> str:
    """The clean events: valid rows, one per duplicate key when ``drop``."""
    base = "SELECT t, author, parent, id FROM parsed WHERE status = 0"
    if not drop or not key:
        return base
    if key == ("id",):
        return (
            "SELECT min(t) AS t, arg_min(author, t) AS author, arg_min(parent, t) AS parent, id "
            "FROM parsed WHERE status = 0 AND id IS NOT NULL GROUP BY id "
            "UNION ALL SELECT t, author, parent, id FROM parsed WHERE status = 0 AND id IS NULL"
        )
    return (
        "SELECT DISTINCT ON (t, author, parent) t, author, parent, id FROM parsed WHERE status = 0"
    )


def bucket_sql(tz: str, p_us: int, origin_us: int, col: str = "t") -> str:
    """SQL for the integer period index of ``col``: whole days count in local days of ``tz``."""
    if p_us % US_PER_DAY == 0:
        x = f"epoch_us(timezone({sql_str(tz)}, {col}))"  # local wall-clock microseconds
    else:
        x = f"epoch_us({col})"
    return f"CAST(floor(({x} - {origin_us}) / {p_us}) AS BIGINT)"


def open_log(
    path,
    *,
    columns: dict[str, str | None],
    tz: str | None,
    count_tz: str,
    unit: str | None,
    format: str | None,
    drop_duplicates: bool,
    threads: int | None = None,
) -> Opened:
    """Find, check and scan the files once; raise EventLogError on the first bad file."""
    import duckdb

    files, fmt = find_files(path, format)
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    roles = _role_cols(columns)
    wanted = list(dict.fromkeys(roles.values()))
    problems, types, available = [], {}, []
    for f in files:
        try:
            cols = file_columns(con, f, fmt)
        except EventLogError as err:
            problems.append(str(err))
            continue
        available = available or list(cols)
        missing = [c for c in wanted if c not in cols]
        if missing:
            problems.append(
                f"{f.name}: no column {', '.join(repr(c) for c in missing)}; "
                f"the file has {', '.join(repr(c) for c in cols) or 'no columns'}"
            )
        types.setdefault(roles["time"], set()).add(cols.get(roles["time"], "VARCHAR"))
    if problems:
        raise EventLogError("\n".join(problems))
    kind = "text" if fmt != "parquet" else _kind_of(types[roles["time"]])
    t, status = time_sql(roles["time"], kind, tz, unit)
    source = reader_sql(files, fmt, json_columns=available if fmt == "jsonl" else None)
    psql = parsed_sql(source, roles, t, status, fmt)

    def single_file_sql(f: Path) -> str:
        src = reader_sql([f], fmt, json_columns=available if fmt == "jsonl" else None)
        return parsed_sql(src, roles, t, status, fmt)

    key = ("id",) if "id" in roles else (("t", "author", "parent") if "author" in roles else ())
    esql = events_sql(key, drop_duplicates)
    con.execute(f"CREATE VIEW parsed AS {psql}")
    con.execute(f"CREATE VIEW events AS {esql}")

    # Hash the bytes on a second thread while DuckDB scans (both release the GIL).
    with ThreadPoolExecutor(1) as pool:
        hashing = pool.submit(content_hash, files)
        status_counts, daily, first, last = _scan(con, files, fmt, key, drop_duplicates, count_tz)
        digest = hashing.result()
    n_events = int(daily["count"].sum()) if len(daily) else 0
    return Opened(
        con=con,
        files=files,
        fmt=fmt,
        columns=roles,
        available=available,
        time_kind=kind,
        parsed_sql=psql,
        events_sql=esql,
        key=key,
        status=status_counts,
        first=first,
        last=last,
        daily=daily,
        n_events=n_events,
        content_hash=digest,
        single_file_sql=single_file_sql,
    )


def _run(con, sql: str, files: list[Path], fmt: str):
    """Run ``sql``; a DuckDB error becomes an EventLogError naming the file at fault."""
    try:
        return con.execute(sql).fetchall()
    except Exception as err:  # noqa: BLE001
        if len(files) > 1:  # find the culprit file by reading each alone
            for f in files:
                try:
                    con.execute(f"SELECT count(*) FROM {reader_sql([f], fmt, ['_'])}").fetchall()
                except Exception as one:  # noqa: BLE001
                    raise EventLogError(
                        f"{f.name}: cannot read it as {fmt}: {_first_line(one)}"
                    ) from None
        name = files[0].name if len(files) == 1 else ", ".join(f.name for f in files)
        raise EventLogError(f"{name}: cannot read it as {fmt}: {_first_line(err)}") from None


def _scan(con, files, fmt, key, drop, count_tz):
    """Status counts, daily counts (clean events), first and last instant: one scan
    when no duplicates are dropped, else two."""
    b = bucket_sql(count_tz, US_PER_DAY, 0)
    if drop and key:
        rows = _run(
            con,
            "SELECT status, NULL AS b, count(*), NULL, NULL FROM parsed GROUP BY status",
            files,
            fmt,
        )
        rows += [
            (OK, r[0], r[1], r[2], r[3])
            for r in _run(
                con,
                f"SELECT {b} AS b, count(*), min(t), max(t) FROM events GROUP BY b",
                files,
                fmt,
            )
        ]
        status = {r[0]: int(r[2]) for r in rows if r[1] is None}
        day_rows = [r for r in rows if r[1] is not None]
    else:
        rows = _run(
            con,
            f"SELECT status, CASE WHEN status = 0 THEN {b} END AS b, count(*), min(t), max(t) "
            "FROM parsed GROUP BY status, b",
            files,
            fmt,
        )
        status = {}
        for r in rows:
            status[r[0]] = status.get(r[0], 0) + int(r[2])
        day_rows = [r for r in rows if r[0] == OK]
    first = min((r[3] for r in day_rows), default=None)
    last = max((r[4] for r in day_rows), default=None)
    daily = counts_frame({int(r[1]): int(r[2]) for r in day_rows}, US_PER_DAY, 0, count_tz)
    return status, daily, _ts(first, count_tz), _ts(last, count_tz)


def _ts(value, tz: str) -> pd.Timestamp | None:
    """A DuckDB instant as a naive local timestamp in ``tz``."""
    if value is None:
        return None
    return pd.Timestamp(value).tz_convert(tz).tz_localize(None)


def counts_frame(by_bucket: dict[int, int], p_us: int, origin_us: int, tz: str) -> pd.DataFrame:
    """``time, time_end, count, cumulative`` from per-bucket counts, empty periods filled.

    ``time`` and ``time_end`` are naive local times in ``tz`` (the case's convention).
    """
    cols = ["time", "time_end", "count", "cumulative"]
    if not by_bucket:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[us]") for c in cols[:2]}).assign(
            count=pd.Series(dtype="int64"), cumulative=pd.Series(dtype="int64")
        )
    lo, hi = min(by_bucket), max(by_bucket)
    idx = list(range(lo, hi + 1))
    count = pd.Series([by_bucket.get(i, 0) for i in idx], dtype="int64")
    starts_us = [origin_us + i * p_us for i in idx]
    if p_us % US_PER_DAY == 0:  # buckets of local days: the numbers are wall-clock times
        start = pd.to_datetime(starts_us, unit="us")
        end = start + pd.Timedelta(microseconds=p_us)
    else:  # buckets of absolute time: show them in local time
        start_utc = pd.to_datetime(starts_us, unit="us", utc=True)
        start = start_utc.tz_convert(tz).tz_localize(None)
        end = (start_utc + pd.Timedelta(microseconds=p_us)).tz_convert(tz).tz_localize(None)
    return pd.DataFrame(
        {
            "time": pd.Series(start).astype("datetime64[us]"),
            "time_end": pd.Series(end).astype("datetime64[us]"),
            "count": count,
            "cumulative": count.cumsum(),
        }
    )


def locate(
    con, files: list[Path], fmt: str, status: int, single_file_sql
) -> tuple[str, int, object]:
    """File name, 1-based row and raw value of the first row with ``status``.

    ``single_file_sql(f)`` is the parsed view's SQL for file ``f`` alone.
    """
    rows = con.execute(f"SELECT DISTINCT filename FROM parsed WHERE status = {status}").fetchall()
    bad_files = {str(Path(r[0]).resolve()) for r in rows}
    f = next(f for f in files if str(f) in bad_files)
    if fmt == "parquet":
        r = con.execute(
            "SELECT row_number, CAST(raw_time AS VARCHAR) FROM parsed "
            f"WHERE status = {status} AND filename = {sql_str(str(f))} "
            "ORDER BY row_number LIMIT 1"
        ).fetchone()
        return f.name, int(r[0]) + 1, r[1]
    # CSV and JSON readers keep file order on one thread: number that one file's rows.
    con.execute("SET threads = 1")
    try:
        r = con.execute(
            f"SELECT n, raw_time FROM (SELECT row_number() OVER () AS n, status, raw_time "
            f"FROM ({single_file_sql(f)})) WHERE status = {status} ORDER BY n LIMIT 1"
        ).fetchone()
    finally:
        con.execute("RESET threads")
    return f.name, int(r[0]), r[1]
