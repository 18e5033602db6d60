"""Reading and checking daily price files (Yahoo-style CSVs).

Price files are Yahoo-style daily CSVs (``Date, Open, High, Low, Close, Adj Close,
Volume``) named ``{TICKER}.csv`` or ``{TICKER}_*yahoo.csv`` in one folder; a leading
``^`` of an index ticker is ignored (``^IDX`` and ``IDX`` name the same file).
:func:`load_prices` is the one loader: it rejects missing files, unparseable dates or
numbers, duplicate or unsorted dates, calendar gaps of more than ``max_gap_days``
weekdays and non-positive prices, each with the file, line and field. Files whose date
sets differ are an error by default (``align="strict"``); ``align="inner"`` keeps only
the common dates and reports how many were dropped.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from casekit.exceptions import ParameterError, PriceDataError
from casekit.market._checks import norm_ticker

__all__ = ["MAX_GAP_DAYS", "REQUIRED_COLUMNS", "YAHOO_COLUMNS", "find_price_file", "load_prices"]

REQUIRED_COLUMNS = ("Date", "Close", "Adj Close")
"""Columns every price file must have (the others of a Yahoo file are not read)."""

YAHOO_COLUMNS = ("Date", "Open", "High", "Low", "Close", "Adj Close", "Volume")

MAX_GAP_DAYS = 4
"""Largest run of missing weekdays allowed between two rows of one file (9/11 closed the
NYSE for 4 days; anything longer is treated as missing data)."""


def _available(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.csv"))


def find_price_file(prices_dir: str | Path, ticker: str) -> Path:
    """The price file of a ticker: ``{TICKER}.csv``, ``^{TICKER}.csv`` or ``{TICKER}_*yahoo.csv``.

    Parameters
    ----------
    prices_dir : str or Path
        Folder of price files.
    ticker : str
        Ticker; a leading ``^`` (as in index tickers) is ignored.

    Returns
    -------
    Path

    Raises
    ------
    PriceDataError
        The folder does not exist, no file matches (the message lists the files
        there) or several do.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "IDX_2024_yahoo.csv").write_text("Date,Close,Adj Close\\n")
    >>> find_price_file(d, "^IDX").name
    'IDX_2024_yahoo.csv'
    >>> import shutil; shutil.rmtree(d)
    """
    folder = Path(prices_dir)
    t = norm_ticker(ticker)
    if not folder.is_dir():
        raise PriceDataError(f"prices folder {folder} does not exist (or is not a folder)")
    found: list[Path] = []
    for name in (f"{t}.csv", f"^{t}.csv"):
        if (folder / name).is_file():
            found.append(folder / name)
    found += sorted(p for p in folder.glob(f"{t}_*yahoo.csv") if p.is_file())
    if not found:
        there = ", ".join(_available(folder)) or "no .csv files"
        raise PriceDataError(
            f"no price file for ticker {t!r} in {folder}: expected {t}.csv or {t}_*yahoo.csv; "
            f"the folder has: {there}"
        )
    if len(found) > 1:
        raise PriceDataError(
            f"several price files for ticker {t!r} in {folder}: "
            f"{', '.join(p.name for p in found)}; keep one"
        )
    return found[0]


@dataclass(frozen=True)
class _PriceFile:
    ticker: str
    path: Path
    dates: np.ndarray  # datetime64[D]
    close: np.ndarray
    adj: np.ndarray
    lines: np.ndarray  # 1-based line numbers of the rows


def _read_price_file(path: Path, ticker: str, max_gap_days: int) -> _PriceFile:
    name = path.name
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as err:
        raise PriceDataError(f"{name}: cannot read the file ({err.strerror})") from err
    with fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
            if header is None:
                raise PriceDataError(
                    f"{name}, line 1: the file is empty "
                    f"(expected the header {','.join(YAHOO_COLUMNS)})"
                )
            header = [h.strip() for h in header]
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise PriceDataError(
                    f"{name}, line 1: missing column(s) {', '.join(missing)}; the header is "
                    f"{','.join(header)} (expected Yahoo-style {','.join(YAHOO_COLUMNS)})"
                )
            i_date, i_close, i_adj = (header.index(c) for c in REQUIRED_COLUMNS)
            dates: list[dt.date] = []
            close: list[float] = []
            adj: list[float] = []
            lines: list[int] = []
            for row in reader:
                line = reader.line_num
                if not row or not "".join(row).strip():
                    continue
                if len(row) != len(header):
                    raise PriceDataError(
                        f"{name}, line {line}: {len(row)} fields, the header has {len(header)}"
                    )
                raw = row[i_date].strip()
                try:
                    day = dt.date.fromisoformat(raw)
                except ValueError:
                    raise PriceDataError(
                        f"{name}, line {line}, column 'Date': cannot read "
                        f"{raw!r} as a date (expected YYYY-MM-DD)"
                    ) from None
                values = []
                for col, idx in (("Close", i_close), ("Adj Close", i_adj)):
                    text = row[idx].strip()
                    try:
                        value = float(text)
                    except ValueError:
                        value = math.nan
                    if not math.isfinite(value):
                        raise PriceDataError(
                            f"{name}, line {line}, column '{col}': cannot read "
                            f"{text!r} as a price (expected a positive number)"
                        )
                    if value <= 0:
                        raise PriceDataError(
                            f"{name}, line {line}, column '{col}': "
                            f"non-positive price {text} (expected > 0)"
                        )
                    values.append(value)
                dates.append(day)
                lines.append(line)
                close.append(values[0])
                adj.append(values[1])
        except csv.Error as err:
            raise PriceDataError(f"{name}, line {reader.line_num}: malformed CSV ({err})") from err
    if not dates:
        raise PriceDataError(f"{name}: no data rows after the header")
    days = np.array(dates, dtype="datetime64[D]")
    # order, duplicates and gaps, vectorised; the first offending row is reported
    step = np.diff(days).astype(int)
    if (step <= 0).any():
        i = int(np.argmax(step <= 0)) + 1  # rows before i are strictly increasing
        day, line = dates[i], lines[i]
        j = int(np.searchsorted(days[:i], days[i]))
        if days[j] == days[i]:
            raise PriceDataError(
                f"{name}, line {line}, column 'Date': duplicate date {day} "
                f"(also on line {lines[j]})"
            )
        raise PriceDataError(
            f"{name}, line {line}, column 'Date': dates are not in ascending "
            f"order ({day} comes after {dates[i - 1]} on line {lines[i - 1]})"
        )
    if len(days) > 1:
        missing = np.busday_count(days[:-1] + 1, days[1:])
        if (missing > max_gap_days).any():
            i = int(np.argmax(missing > max_gap_days)) + 1
            raise PriceDataError(
                f"{name}, line {lines[i]}, column 'Date': gap in the data: {int(missing[i - 1])} "
                f"weekdays missing between {dates[i - 1]} (line {lines[i - 1]}) and {dates[i]} "
                f"(at most {max_gap_days} allowed)"
            )
    return _PriceFile(ticker, path, days, np.array(close), np.array(adj), np.array(lines))


@dataclass(frozen=True)
class _Prices:
    adj: pd.DataFrame
    close: pd.DataFrame
    files: dict[str, str]
    notes: tuple[str, ...]
    dropped_days: int
    first: dict[str, tuple[str, int]]  # ticker -> (first date, line) in the aligned span
    last: dict[str, tuple[str, int]]
    start_ticker: str  # the file whose first row starts the common span
    end_ticker: str  # the file whose last row ends it

    def where(self, ticker: str, end: bool = False) -> str:
        date, line = (self.last if end else self.first)[ticker]
        return f"{self.files[ticker]} {'ends' if end else 'starts'} on {date} (line {line})"


def _load(prices_dir, tickers, align: str, max_gap_days: int) -> _Prices:
    if align not in ("strict", "inner"):
        raise ParameterError(f"align must be 'strict' or 'inner', got {align!r}")
    if not isinstance(max_gap_days, (int, np.integer)) or max_gap_days < 0:
        raise ParameterError(f"max_gap_days must be a non-negative integer, got {max_gap_days!r}")
    if isinstance(tickers, str):
        tickers = [tickers]
    order: list[str] = []
    for t in tickers:
        n = norm_ticker(t)
        if n not in order:
            order.append(n)
    if not order:
        raise ParameterError("no tickers given")
    files = {t: _read_price_file(find_price_file(prices_dir, t), t, max_gap_days) for t in order}
    start = max(f.dates[0] for f in files.values())
    end = min(f.dates[-1] for f in files.values())
    notes: list[str] = []
    if start > end:
        spans = "; ".join(f"{f.path.name}: {f.dates[0]}..{f.dates[-1]}" for f in files.values())
        raise PriceDataError(f"the price files do not overlap in time ({spans})")
    masks = {t: (f.dates >= start) & (f.dates <= end) for t, f in files.items()}
    trimmed = {files[t].path.name: int((~m).sum()) for t, m in masks.items() if (~m).any()}
    if trimmed:
        notes.append(
            "rows outside the common span "
            f"{start}..{end} not used: " + ", ".join(f"{k} {v}" for k, v in trimmed.items())
        )
    ref = order[0]
    ref_dates = files[ref].dates[masks[ref]]
    common = ref_dates
    dropped = 0
    if align == "strict":
        for t in order[1:]:
            f = files[t]
            d = f.dates[masks[t]]
            if len(d) == len(ref_dates) and np.array_equal(d, ref_dates):
                continue
            only_ref = np.setdiff1d(ref_dates, d)
            only_t = np.setdiff1d(d, ref_dates)
            parts = []
            for src, other, extra in ((files[ref], f, only_ref), (f, files[ref], only_t)):
                for day in extra[:3]:
                    line = int(src.lines[np.searchsorted(src.dates, day)])
                    parts.append(
                        f"{day} is on line {line} of {src.path.name} but missing "
                        f"from {other.path.name}"
                    )
            n = len(only_ref) + len(only_t)
            raise PriceDataError(
                f"the dates of {f.path.name} and {files[ref].path.name} differ in "
                f"{start}..{end} ({n} date(s)): "
                + "; ".join(parts)
                + (" ..." if n > len(parts) else "")
                + "; fix the files or pass align='inner' to drop those days explicitly"
            )
    else:
        for t in order[1:]:
            common = np.intersect1d(common, files[t].dates[masks[t]])
        union = ref_dates
        for t in order[1:]:
            union = np.union1d(union, files[t].dates[masks[t]])
        dropped = len(union) - len(common)
        if dropped:
            notes.append(
                f"align='inner': {dropped} date(s) not in every file were dropped; "
                "returns across those days span two sessions"
            )
        if len(common) == 0:
            raise PriceDataError("the price files have no date in common")
    index = pd.DatetimeIndex(common.astype("datetime64[ns]"), name="date")
    adj = {}
    close = {}
    first = {}
    last = {}
    for t, f in files.items():
        pos = np.searchsorted(f.dates, common)
        adj[t] = f.adj[pos]
        close[t] = f.close[pos]
        first[t] = (str(common[0]), int(f.lines[pos[0]]))
        last[t] = (str(common[-1]), int(f.lines[pos[-1]]))
    start_t = next(t for t in order if files[t].dates[0] == start)
    end_t = next(t for t in order if files[t].dates[-1] == end)
    return _Prices(
        pd.DataFrame(adj, index=index),
        pd.DataFrame(close, index=index),
        {t: f.path.name for t, f in files.items()},
        tuple(notes),
        dropped,
        first,
        last,
        start_t,
        end_t,
    )


def load_prices(
    prices_dir: str | Path,
    tickers: str | Sequence[str],
    *,
    column: str = "Adj Close",
    align: str = "strict",
    max_gap_days: int = MAX_GAP_DAYS,
) -> pd.DataFrame:
    """Read and check daily prices of several tickers; one column per ticker.

    Parameters
    ----------
    prices_dir : str or Path
        Folder of Yahoo-style CSVs named ``{TICKER}.csv`` or ``{TICKER}_*yahoo.csv``.
    tickers : str or sequence of str
        Tickers (``^IDX`` and ``IDX`` are the same); duplicates are read once.
    column : {"Adj Close", "Close"}
        Which price to return.
    align : {"strict", "inner"}
        ``"strict"`` (default): within the span all files cover, every file must have the
        same dates, else :class:`PriceDataError` lists the first differences with their
        lines. ``"inner"``: keep only dates present in every file; the count of dropped
        dates is in ``.attrs["dropped_days"]``.
    max_gap_days : int
        Largest run of missing weekdays allowed between consecutive rows of a file.

    Returns
    -------
    pandas.DataFrame
        Index ``date`` (trading days in the common span), columns the tickers without
        ``^``. ``.attrs`` holds ``files`` (ticker to file name), ``dropped_days`` and
        ``notes``.

    Raises
    ------
    PriceDataError
        Missing folder or file, unreadable date or number, duplicate or unsorted dates,
        a gap longer than ``max_gap_days``, a non-positive price, or date sets that differ
        (strict). The message names the file, the line and the column.
    ParameterError
        Bad ``column``, ``align`` or ``max_gap_days``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> text = "Date,Open,High,Low,Close,Adj Close,Volume\\n"
    >>> _ = (d / "A.csv").write_text(text + "2024-01-02,1,1,1,10,10,5\\n"
    ...                              "2024-01-03,1,1,1,11,11,5\\n")
    >>> _ = (d / "B.csv").write_text(text + "2024-01-02,1,1,1,20,20,5\\n"
    ...                              "2024-01-02,1,1,1,21,21,5\\n")
    >>> load_prices(d, ["A"])["A"].tolist()
    [10.0, 11.0]
    >>> load_prices(d, ["A", "B"])
    Traceback (most recent call last):
    ...
    casekit.exceptions.PriceDataError: B.csv, line 3, column 'Date': duplicate date
    2024-01-02 (also on line 2)
    >>> import shutil; shutil.rmtree(d)
    """
    if column not in ("Adj Close", "Close"):
        raise ParameterError(f"column must be 'Adj Close' or 'Close', got {column!r}")
    loaded = _load(prices_dir, tickers, align, max_gap_days)
    out = (loaded.adj if column == "Adj Close" else loaded.close).copy()
    out.attrs = {
        "files": dict(loaded.files),
        "dropped_days": loaded.dropped_days,
        "notes": list(loaded.notes),
    }
    return out
