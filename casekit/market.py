"""Share-price event study: did the story move the stock?

MacKinlay's (1997) market model, fitted by ordinary least squares (statsmodels)
on an estimation window of daily returns, predicts each event-window return;
the abnormal return (AR) is the difference and the cumulative abnormal return
(CAR) its sum over a window. Every study runs against two benchmarks side by
side: the market index and an equal-weight index of peer stocks (optionally a
market-adjusted model with alpha = 0 and beta = 1 as a third check).

Conventions
-----------
* **Returns are simple returns** of the ``Adj Close`` column,
  ``R_t = P_t / P_{t-1} - 1``, so that a CAR times a market value is a change in
  dollars (to first order). The peer index return is the equal-weight mean of
  the peers' simple returns, rebalanced daily; the event's own ticker is never
  one of its peers.
* **Days are trading days** of the aligned price files. Day 0 is the event date
  or, if the market was closed that day, the next trading day (a note says so).
  The estimation window holds ``estimation_days`` returns and ends
  ``gap_days`` trading days before the event window starts.
* **The t statistic uses the prediction-error corrected variance** of the CAR
  (MacKinlay 1997; Campbell, Lo & MacKinlay 1997, ch. 4: ``V = s^2 [I + X* (X'X)^-1 X*']``
  summed over the window), in closed form
  ``var(CAR) = s^2 [L + L^2 / L1 + (S_m - L * mean_m)^2 / sum_est (R_m - mean_m)^2]``,
  where ``L`` is the window length, ``S_m`` the sum of the benchmark's returns in
  the window and ``L1`` the estimation length. Under normal errors ``CAR / se``
  then has an exact Student t distribution with ``L1 - 2`` degrees of freedom,
  and the confidence interval uses it. The plain ``s^2 L`` is reported as
  ``se_plain``.
* **Patell Z** is the standardised-CAR form (Campbell, Lo & MacKinlay 1997, J2):
  ``SCAR_i = CAR_i / se_i``, ``Z = sum SCAR_i / sqrt(sum df_i / (df_i - 2))``.
  For a one-day window it is Patell's (1976) standardised AR; for one event it is
  the event's t statistic rescaled to unit variance.
* **BMP** (Boehmer, Musumeci & Poulsen 1991) is the cross-sectional t of the same
  ``SCAR_i``; it needs at least two events and is reported as not applicable
  (NaN plus a note) for one.
* **Corrado rank test** (Corrado 1989; multi-day form of Campbell & Wasley 1993):
  ranks of each event's ARs over its estimation and event windows together
  (average ranks for ties), ``U_it = K_it - (T + 1) / 2``,
  ``S = sqrt(mean_t (mean_i U_it)^2)``, statistic
  ``sum_{t in window} mean_i U_it / (sqrt(L) S)``, compared with N(0, 1).
  It works for a single firm.
* With several events, rows ``event == "all (N=k)"`` of the CAR table hold the
  mean CAR (CAAR) with MacKinlay's J1 statistic (normal reference), the pooled
  Patell Z, BMP and the pooled Corrado statistic. Events overlapping in calendar
  time are not independent; a note flags such pairs.

Price files are Yahoo-style daily CSVs (``Date, Open, High, Low, Close,
Adj Close, Volume``) named ``{TICKER}.csv`` or ``{TICKER}_*yahoo.csv`` in one
folder; ``^GSPC`` and ``GSPC`` name the same file. :func:`load_prices` is the
one loader: it rejects missing files, unparseable dates or numbers, duplicate
or unsorted dates, calendar gaps of more than ``max_gap_days`` weekdays and
non-positive prices, each with the file, line and field. Files whose date sets
differ are an error by default (``align="strict"``); ``align="inner"`` keeps
only the common dates and reports how many were dropped.

Examples
--------
A tiny synthetic market: the stock has beta 1.5 and falls 8 % on the event day.

>>> import tempfile
>>> import numpy as np, pandas as pd
>>> from casekit.market import event_study
>>> folder = tempfile.mkdtemp()
>>> rng = np.random.default_rng(7)
>>> dates = pd.bdate_range("2024-01-02", periods=80)
>>> rm = rng.normal(0.0, 0.01, 80)
>>> rs = 0.0005 + 1.5 * rm + rng.normal(0.0, 0.004, 80)
>>> rs[70] -= 0.08                                   # the event: 2024-04-09
>>> for name, r, p0 in (("MKT", rm, 100.0), ("ACME", rs, 20.0)):
...     p = p0 * np.cumprod(1 + r)
...     pd.DataFrame({"Date": dates.strftime("%Y-%m-%d"), "Open": p, "High": p, "Low": p,
...                   "Close": p, "Adj Close": p, "Volume": 1000}).to_csv(
...         f"{folder}/{name}.csv", index=False)
>>> study = event_study(folder, ticker="ACME", event_date=dates[70], market="MKT", peers=(),
...                     benchmarks=("market",), estimation_days=60, shares_outstanding=1e6)
>>> round(float(study.params.loc[("ACME 2024-04-09", "market"), "beta"]), 1)
1.5
>>> row = study.car("market", (0, 0))
>>> round(row["car"], 2), bool(row["p"] < 0.001)
(-0.08, True)
>>> study.verdict(claim_pct=-8, claim_usd=None, window=(0, 0)).split(":")[0]
'The data are consistent with the claim'
>>> import shutil; shutil.rmtree(folder)

The United Breaks Guitars study on the reference data (not in the repository):

>>> ual = event_study("../shared/research/prices", shares_outstanding=167_040_862)  # doctest: +SKIP
>>> print(ual.verdict(known_events={"2009-07-21": "UAL's Q2 results"}))  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats
from statsmodels.regression.linear_model import OLS

from casekit.exceptions import ParameterError, PriceDataError

__all__ = [
    "BENCHMARKS",
    "MAX_GAP_DAYS",
    "MIN_ESTIMATION_DAYS",
    "REQUIRED_COLUMNS",
    "EventStudy",
    "event_study",
    "find_price_file",
    "load_prices",
]

REQUIRED_COLUMNS = ("Date", "Close", "Adj Close")
"""Columns every price file must have (the others of a Yahoo file are not read)."""

YAHOO_COLUMNS = ("Date", "Open", "High", "Low", "Close", "Adj Close", "Volume")

MIN_ESTIMATION_DAYS = 10
"""Shortest estimation window accepted (MacKinlay uses 250 days; the default is 120)."""

MAX_GAP_DAYS = 4
"""Largest run of missing weekdays allowed between two rows of one file (9/11 closed the
NYSE for 4 days; anything longer is treated as missing data)."""

BENCHMARKS = ("market", "peers", "market_adjusted")
"""Benchmarks: market-model on the index, market-model on the peer index, and the
market-adjusted model (alpha 0, beta 1)."""

PRICE_FOR_CAP = ("close before event", "event close")


# --------------------------------------------------------------------------- loading


def _norm_ticker(ticker: str) -> str:
    if not isinstance(ticker, str) or not ticker.strip().lstrip("^"):
        raise ParameterError(f"ticker must be a non-empty string, got {ticker!r}")
    return ticker.strip().lstrip("^")


def _available(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.csv"))


def find_price_file(prices_dir: str | Path, ticker: str) -> Path:
    """The price file of a ticker: ``{TICKER}.csv``, ``^{TICKER}.csv`` or ``{TICKER}_*yahoo.csv``.

    Parameters
    ----------
    prices_dir : str or Path
        Folder of price files.
    ticker : str
        Ticker; a leading ``^`` (index tickers such as ``^GSPC``) is ignored.

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
    >>> _ = (d / "GSPC_2009_yahoo.csv").write_text("Date,Close,Adj Close\\n")
    >>> find_price_file(d, "^GSPC").name
    'GSPC_2009_yahoo.csv'
    >>> import shutil; shutil.rmtree(d)
    """
    folder = Path(prices_dir)
    t = _norm_ticker(ticker)
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
            f"the folder has: {there}")
    if len(found) > 1:
        raise PriceDataError(
            f"several price files for ticker {t!r} in {folder}: "
            f"{', '.join(p.name for p in found)}; keep one")
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
                raise PriceDataError(f"{name}, line 1: the file is empty "
                                     f"(expected the header {','.join(YAHOO_COLUMNS)})")
            header = [h.strip() for h in header]
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise PriceDataError(
                    f"{name}, line 1: missing column(s) {', '.join(missing)}; the header is "
                    f"{','.join(header)} (expected Yahoo-style {','.join(YAHOO_COLUMNS)})")
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
                        f"{name}, line {line}: {len(row)} fields, the header has {len(header)}")
                raw = row[i_date].strip()
                try:
                    day = dt.date.fromisoformat(raw)
                except ValueError:
                    raise PriceDataError(f"{name}, line {line}, column 'Date': cannot read "
                                         f"{raw!r} as a date (expected YYYY-MM-DD)") from None
                values = []
                for col, idx in (("Close", i_close), ("Adj Close", i_adj)):
                    text = row[idx].strip()
                    try:
                        value = float(text)
                    except ValueError:
                        value = math.nan
                    if not math.isfinite(value):
                        raise PriceDataError(f"{name}, line {line}, column '{col}': cannot read "
                                             f"{text!r} as a price (expected a positive number)")
                    if value <= 0:
                        raise PriceDataError(f"{name}, line {line}, column '{col}': "
                                             f"non-positive price {text} (expected > 0)")
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
            raise PriceDataError(f"{name}, line {line}, column 'Date': duplicate date {day} "
                                 f"(also on line {lines[j]})")
        raise PriceDataError(f"{name}, line {line}, column 'Date': dates are not in ascending "
                             f"order ({day} comes after {dates[i - 1]} on line {lines[i - 1]})")
    if len(days) > 1:
        missing = np.busday_count(days[:-1] + 1, days[1:])
        if (missing > max_gap_days).any():
            i = int(np.argmax(missing > max_gap_days)) + 1
            raise PriceDataError(
                f"{name}, line {lines[i]}, column 'Date': gap in the data: {int(missing[i - 1])} "
                f"weekdays missing between {dates[i - 1]} (line {lines[i - 1]}) and {dates[i]} "
                f"(at most {max_gap_days} allowed)")
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
        n = _norm_ticker(t)
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
        notes.append("rows outside the common span " f"{start}..{end} not used: "
                     + ", ".join(f"{k} {v}" for k, v in trimmed.items()))
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
                    parts.append(f"{day} is on line {line} of {src.path.name} but missing "
                                 f"from {other.path.name}")
            n = len(only_ref) + len(only_t)
            raise PriceDataError(
                f"the dates of {f.path.name} and {files[ref].path.name} differ in "
                f"{start}..{end} ({n} date(s)): " + "; ".join(parts)
                + (" ..." if n > len(parts) else "")
                + "; fix the files or pass align='inner' to drop those days explicitly")
    else:
        for t in order[1:]:
            common = np.intersect1d(common, files[t].dates[masks[t]])
        union = ref_dates
        for t in order[1:]:
            union = np.union1d(union, files[t].dates[masks[t]])
        dropped = len(union) - len(common)
        if dropped:
            notes.append(f"align='inner': {dropped} date(s) not in every file were dropped; "
                         "returns across those days span two sessions")
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
    return _Prices(pd.DataFrame(adj, index=index), pd.DataFrame(close, index=index),
                   {t: f.path.name for t, f in files.items()}, tuple(notes), dropped,
                   first, last, start_t, end_t)


def load_prices(prices_dir: str | Path, tickers: str | Sequence[str], *,
                column: str = "Adj Close", align: str = "strict",
                max_gap_days: int = MAX_GAP_DAYS) -> pd.DataFrame:
    """Read and check daily prices of several tickers; one column per ticker.

    Parameters
    ----------
    prices_dir : str or Path
        Folder of Yahoo-style CSVs named ``{TICKER}.csv`` or ``{TICKER}_*yahoo.csv``.
    tickers : str or sequence of str
        Tickers (``^GSPC`` and ``GSPC`` are the same); duplicates are read once.
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
    >>> _ = (d / "A.csv").write_text(text + "2024-01-02,1,1,1,10,10,5\\n2024-01-03,1,1,1,11,11,5\\n")
    >>> _ = (d / "B.csv").write_text(text + "2024-01-02,1,1,1,20,20,5\\n2024-01-02,1,1,1,21,21,5\\n")
    >>> load_prices(d, ["A"])["A"].tolist()
    [10.0, 11.0]
    >>> load_prices(d, ["A", "B"])
    Traceback (most recent call last):
    ...
    casekit.exceptions.PriceDataError: B.csv, line 3, column 'Date': duplicate date 2024-01-02 (also on line 2)
    >>> import shutil; shutil.rmtree(d)
    """
    if column not in ("Adj Close", "Close"):
        raise ParameterError(f"column must be 'Adj Close' or 'Close', got {column!r}")
    loaded = _load(prices_dir, tickers, align, max_gap_days)
    out = (loaded.adj if column == "Adj Close" else loaded.close).copy()
    out.attrs = {"files": dict(loaded.files), "dropped_days": loaded.dropped_days,
                 "notes": list(loaded.notes)}
    return out


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class _Fit:
    """One event against one benchmark: the fitted model and everything the tests need."""

    event: str
    ticker: str
    benchmark: str
    bench_label: str
    alpha: float
    beta: float
    s2: float
    df: int
    r2: float
    n_est: int
    xbar: float
    ssx: float
    est_dates: pd.DatetimeIndex
    est_ar: np.ndarray
    evt_dates: pd.DatetimeIndex
    rel_days: np.ndarray
    ret: np.ndarray
    bench_ret: np.ndarray
    market_ret: np.ndarray
    ar: np.ndarray
    ols: Any = field(repr=False, default=None)

    @property
    def day_var(self) -> np.ndarray:
        """Prediction-error corrected variance of each event-window AR."""
        if self.benchmark == "market_adjusted":
            return np.full(len(self.ar), self.s2)
        return self.s2 * (1 + 1 / self.n_est + (self.bench_ret - self.xbar) ** 2 / self.ssx)

    def window(self, t1: int, t2: int) -> dict[str, float]:
        sel = (self.rel_days >= t1) & (self.rel_days <= t2)
        length = int(sel.sum())
        car = float(self.ar[sel].sum())
        var_plain = self.s2 * length
        if self.benchmark == "market_adjusted":
            var = var_plain
        else:
            s_m = float(self.bench_ret[sel].sum())
            var = self.s2 * (length + length**2 / self.n_est
                             + (s_m - length * self.xbar) ** 2 / self.ssx)
        se = math.sqrt(var)
        t = car / se
        raw = float(np.prod(1 + self.ret[sel]) - 1)
        return {"length": length, "car": car, "se": se, "se_plain": math.sqrt(var_plain),
                "t": t, "df": self.df, "p": float(2 * special.stdtr(self.df, -abs(t))),
                "raw_return": raw}


def _fit(event: str, ticker: str, benchmark: str, bench_label: str, y_est, x_est, est_dates,
         y_evt, x_evt, m_evt, evt_dates, rel_days) -> _Fit:
    n = len(y_est)
    if benchmark == "market_adjusted":
        a, b = 0.0, 1.0
        resid = y_est - x_est
        df = n - 1
        s2 = float(np.var(resid, ddof=1))
        r2 = math.nan
        ols = None
    else:
        X = np.column_stack([np.ones(n), x_est])
        ols = OLS(y_est, X).fit()
        a, b = (float(v) for v in ols.params)
        df = n - 2
        s2 = float(ols.ssr / df)
        r2 = float(ols.rsquared)
        resid = np.asarray(ols.resid)
    xbar = float(x_est.mean())
    ssx = float(((x_est - xbar) ** 2).sum())
    if ssx <= 0 or s2 <= 0:
        raise PriceDataError(f"{event}: the {bench_label} or {ticker} returns are constant in the "
                             "estimation window; the market model cannot be fitted")
    return _Fit(event, ticker, benchmark, bench_label, a, b, s2, df, r2, n, xbar, ssx,
                est_dates, resid, evt_dates, rel_days, y_evt, x_evt, m_evt,
                y_evt - (a + b * x_evt), ols)


def _corrado(fits: Sequence[_Fit], t1: int, t2: int) -> tuple[float, float]:
    """Corrado (1989) rank statistic over window t1..t2 for events sharing one time grid."""
    u_rows = []
    for f in fits:
        series = np.concatenate([f.est_ar, f.ar])
        ranks = stats.rankdata(series)
        u_rows.append(ranks - (len(series) + 1) / 2)
    u_bar = np.mean(u_rows, axis=0)
    s_k = math.sqrt(float(np.mean(u_bar**2)))
    rel = np.concatenate([np.full(fits[0].n_est, np.iinfo(np.int64).min), fits[0].rel_days])
    sel = (rel >= t1) & (rel <= t2)
    z = float(u_bar[sel].sum() / (math.sqrt(sel.sum()) * s_k))
    return z, float(2 * special.ndtr(-abs(z)))


def _patell(rows: Sequence[dict]) -> tuple[float, float]:
    num = sum(r["t"] for r in rows)
    den = math.sqrt(sum(r["df"] / (r["df"] - 2) for r in rows))
    z = num / den
    return z, float(2 * special.ndtr(-abs(z)))


def _bmp(rows: Sequence[dict]) -> tuple[float, float]:
    scar = np.array([r["t"] for r in rows])
    n = len(scar)
    if n < 2:
        return math.nan, math.nan
    sd = float(scar.std(ddof=1))
    if sd == 0:
        return math.nan, math.nan
    t = float(scar.mean() / (sd / math.sqrt(n)))
    return t, float(2 * special.stdtr(n - 1, -abs(t)))


def _fmt_pct(x: float, digits: int = 1) -> str:
    s = f"{abs(x) * 100:.{digits}f} %"
    return ("−" if x < 0 and round(abs(x) * 100, digits) != 0 else "+") + s


def _fmt_num(x: float, digits: int = 2) -> str:
    s = f"{abs(x):.{digits}f}"
    return ("−" if x < 0 and float(s) != 0 else "+" if digits == 0 and x > 0 else "") + s


def _fmt_usd(x: float) -> str:
    s = f"${abs(x) / 1e6:,.0f} M"
    return ("−" if x < 0 and round(abs(x) / 1e6) != 0 else "") + s


def _jsonable(value):
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (pd.Timestamp, dt.date)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(df: pd.DataFrame) -> list[dict]:
    return [_jsonable(r) for r in df.to_dict(orient="records")]


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class EventStudy:
    """Result of :func:`event_study` (immutable; build it with that function).

    Attributes
    ----------
    events : tuple of dict
        One dict per event: ``label`` ("UAL 2009-07-06"), ``ticker``, ``requested``
        (the date asked for), ``day0`` (the trading day used), ``peers``.
    settings : dict
        The parameters of the study.
    params : pandas.DataFrame
        Index ``(event, benchmark)``; columns ``alpha``, ``beta``, ``sigma`` (residual
        standard deviation, ``sqrt(RSS / df)``), ``r2``, ``n_est``, ``df``,
        ``est_start``, ``est_end``, ``benchmark_series``.
    daily : pandas.DataFrame
        One row per event, benchmark and event-window day: ``event``, ``ticker``,
        ``benchmark``, ``date``, ``rel_day``, ``ret``, ``market_ret``, ``bench_ret``,
        ``expected``, ``ar``, ``ar_t`` (Patell's standardised AR, AR over its
        prediction-error corrected standard deviation), ``car`` (from the first day of
        the event window), ``car_se``, ``car_lower``, ``car_upper``.
    car_table : pandas.DataFrame
        One row per event (plus pooled rows ``all (N=k)`` for several events), benchmark
        and CAR window: ``window``, ``start``, ``end``, ``days``, ``car``, ``se``,
        ``se_plain``, ``t``, ``df``, ``p``, ``ci_lower``, ``ci_upper``, ``patell_z``,
        ``patell_p``, ``bmp_t``, ``bmp_p``, ``corrado_z``, ``corrado_p``,
        ``raw_return`` (compound price change), ``market_cap``, ``money``,
        ``money_lower``, ``money_upper`` (CAR and CI times market value).
    summary : pandas.DataFrame
        The CAR table in percent, rounded, for reading.
    market_cap : dict
        Per event label: ``shares``, ``price``, ``price_date``, ``price_basis``, ``value``;
        empty when no shares outstanding were given.
    notes : tuple of str
        Everything a reader should know: BMP not applicable, day 0 moved, dropped days,
        overlapping events.
    """

    events: tuple[dict, ...]
    settings: dict
    params: pd.DataFrame
    daily: pd.DataFrame
    car_table: pd.DataFrame
    summary: pd.DataFrame
    market_cap: dict
    notes: tuple[str, ...]
    _fits: dict = field(repr=False)
    _returns: pd.DataFrame = field(repr=False)
    _close: pd.DataFrame = field(repr=False)

    # -- access ------------------------------------------------------------------
    def _event_label(self, event: int | str) -> str:
        labels = [e["label"] for e in self.events]
        if isinstance(event, (int, np.integer)) and not isinstance(event, bool):
            if not -len(labels) <= event < len(labels):
                raise ParameterError(f"event index {event} out of range: {len(labels)} event(s)")
            return labels[event]
        if event in labels:
            return event
        raise ParameterError(f"unknown event {event!r}; events: {', '.join(labels)}")

    def _event_index(self, label: str) -> int:
        return [e["label"] for e in self.events].index(label)

    def _benchmark(self, benchmark: str) -> str:
        if benchmark not in self.settings["benchmarks"]:
            raise ParameterError(f"benchmark {benchmark!r} not in this study; it has "
                                 f"{', '.join(self.settings['benchmarks'])}")
        return benchmark

    def car(self, benchmark: str = "market", window: tuple[int, int] = (0, 0),
            event: int | str = 0, alpha: float | None = None) -> dict[str, float]:
        """CAR statistics of one event over any window inside the event window.

        Parameters
        ----------
        benchmark : str
            ``"market"``, ``"peers"`` or ``"market_adjusted"`` (if in the study).
        window : (int, int)
            First and last relative trading day, inside ``event_window``.
        event : int or str
            Event index or label.
        alpha : float, optional
            For the confidence interval; default the study's ``alpha``.

        Returns
        -------
        dict
            ``car``, ``se``, ``se_plain``, ``t``, ``df``, ``p``, ``ci_lower``,
            ``ci_upper``, ``patell_z``, ``patell_p``, ``corrado_z``, ``corrado_p``,
            ``raw_return``, ``length``.
        """
        label = self._event_label(event)
        fit = self._fits[(label, self._benchmark(benchmark))]
        t1, t2 = _check_window(window, self.settings["event_window"], "window")
        alpha = self.settings["alpha"] if alpha is None else _check_alpha(alpha)
        row = fit.window(t1, t2)
        q = special.stdtrit(row["df"], 1 - alpha / 2)
        row["ci_lower"] = row["car"] - q * row["se"]
        row["ci_upper"] = row["car"] + q * row["se"]
        row["patell_z"], row["patell_p"] = _patell([row])
        row["corrado_z"], row["corrado_p"] = _corrado([fit], t1, t2)
        return row

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Confidence intervals of the market-model alpha and beta (from statsmodels).

        Parameters
        ----------
        alpha : float, optional
            ``1 - level``; default the study's ``alpha``.

        Returns
        -------
        pandas.DataFrame
            Index ``(event, benchmark, param)`` with ``param`` in ``alpha``, ``beta``;
            columns ``estimate``, ``lower``, ``upper``. The market-adjusted model has
            fixed parameters (lower = upper = estimate).
        """
        alpha = self.settings["alpha"] if alpha is None else _check_alpha(alpha)
        rows = []
        for (label, bench), fit in self._fits.items():
            if fit.ols is None:
                ci = np.array([[0.0, 0.0], [1.0, 1.0]])
            else:
                ci = np.asarray(fit.ols.conf_int(alpha))
            for k, name in enumerate(("alpha", "beta")):
                rows.append({"event": label, "benchmark": bench, "param": name,
                             "estimate": (fit.alpha, fit.beta)[k],
                             "lower": float(ci[k, 0]), "upper": float(ci[k, 1])})
        return pd.DataFrame(rows).set_index(["event", "benchmark", "param"])

    # -- words -------------------------------------------------------------------
    def verdict(self, claim_pct: float | None = -10, claim_usd: float | None = -180e6,
                window: tuple[int, int] = (0, 3), benchmark: str = "market",
                event: int | str = 0, known_events: Mapping[Any, str] | None = None,
                search_days: int = 15) -> str:
        """A plain-language verdict on a claimed share-price effect, built from the numbers.

        Parameters
        ----------
        claim_pct : float or None
            Claimed price change in percent (a fall is negative), e.g. ``-10``.
        claim_usd : float or None
            Claimed change in shareholder value in dollars (a loss is negative).
        window : (int, int)
            Relative trading days the claim is about.
        benchmark : str
            Benchmark for the CAR; the other benchmarks in the study are quoted too.
        event : int or str
            Which event.
        known_events : mapping of date to str, optional
            Other news (e.g. ``{"2009-07-21": "UAL's Q2 results"}``) named when the largest
            one-day fall near the event falls on or just after one of them.
        search_days : int
            Trading days either side of day 0 searched for the largest one-day fall.

        Returns
        -------
        str
            Starts with "The data contradict the claim" (the claim lies outside the
            confidence interval of the CAR), "The data do not support the claim" (inside,
            but the CAR is not significantly different from zero: no abnormal move is
            detectable), or "The data are consistent with the claim" (inside and
            significant). Then the raw price change, the one-day falls nearby of at least
            nine tenths of the claimed fall (or the largest fall) and, with shares
            outstanding, the money arithmetic; the percent and dollar claims are called
            inconsistent ("cannot both hold") when the dollar claim is outside 0.8 to 1.25
            times the claimed percent of the market value.
        """
        label = self._event_label(event)
        ev = next(e for e in self.events if e["label"] == label)
        alpha = self.settings["alpha"]
        level = f"{(1 - alpha) * 100:g} %"
        row = self.car(benchmark, window, event)
        t1, t2 = window
        fit = self._fits[(label, benchmark)]
        sel = (fit.rel_days >= t1) & (fit.rel_days <= t2)
        d1, d2 = fit.evt_dates[sel][0], fit.evt_dates[sel][-1]
        day0 = ev["day0"]
        span = f"trading days {t1}..{t2} around {day0:%Y-%m-%d} ({d1:%Y-%m-%d} to {d2:%Y-%m-%d})"
        car_txt = (f"{_fmt_pct(row['car'])} ({level} CI {_fmt_pct(row['ci_lower'])} to "
                   f"{_fmt_pct(row['ci_upper'])}; t = {_fmt_num(row['t'])}, p = {row['p']:.2f})")
        out: list[str] = []
        significant = row["p"] < alpha
        if claim_pct is not None:
            claim = claim_pct / 100
            inside = row["ci_lower"] <= claim <= row["ci_upper"]
            if not inside:
                lead = "The data contradict the claim"
                tail = f", not {_fmt_pct(claim, 0)}"
            elif not significant:
                lead = "The data do not support the claim"
                tail = (f"; the interval is wide enough to include {_fmt_pct(claim, 0)} but also "
                        "zero, so no abnormal move is detectable")
            else:
                lead = "The data are consistent with the claim"
                tail = f", and the interval includes {_fmt_pct(claim, 0)}"
            out.append(f"{lead}: {ev['ticker']}’s cumulative abnormal return over {span}, "
                       f"against the {fit.bench_label}, was {car_txt}{tail}.")
        else:
            out.append(f"{ev['ticker']}’s cumulative abnormal return over {span}, against the "
                       f"{fit.bench_label}, was {car_txt}.")
        others = []
        for b in self.settings["benchmarks"]:
            if b != benchmark:
                r = self.car(b, window, event)
                others.append(f"against the {self._fits[(label, b)].bench_label} it was "
                              f"{_fmt_pct(r['car'])} (CI {_fmt_pct(r['ci_lower'])} to "
                              f"{_fmt_pct(r['ci_upper'])}, p = {r['p']:.2f})")
        if others:
            text = "; ".join(others)
            out.append(text[0].upper() + text[1:] + ".")
        # raw price change over the same window (close before the window to its last close)
        rets = self._returns[ev["ticker"]]
        close = self._close[ev["ticker"]]
        k = close.index.get_loc(day0)
        p_before, p_end = float(close.iloc[k + t1 - 1]), float(close.iloc[k + t2])
        change = p_end / p_before - 1
        adjusted = ""
        if abs(row["raw_return"] - change) > 5e-4:
            adjusted = f"; {_fmt_pct(row['raw_return'])} adjusted for dividends and splits"
        out.append(f"The share price itself went from {p_before:.2f} on "
                   f"{close.index[k + t1 - 1]:%Y-%m-%d} to {p_end:.2f} on "
                   f"{close.index[k + t2]:%Y-%m-%d} ({_fmt_pct(change)}{adjusted}).")
        # large one-day falls nearby
        search_days = _check_int("search_days", search_days, 0)
        pos0 = rets.index.get_loc(day0)
        near = rets.iloc[max(0, pos0 - search_days):pos0 + search_days + 1]
        known = {pd.Timestamp(when): what for when, what in (known_events or {}).items()}

        def describe(day: pd.Timestamp, value: float) -> str:
            rel = rets.index.get_loc(day) - pos0
            where = "inside" if t1 <= rel <= t2 else "outside"
            text = f"{_fmt_pct(value)} on {day:%Y-%m-%d} (day {_fmt_num(rel, 0)}, {where} the window"
            for when, what in known.items():
                if when == day:
                    text += f"; the day of {what}"
                elif when in close.index and close.index.get_loc(when) + 1 == close.index.get_loc(day):
                    text += f"; the day after {what} on {when:%Y-%m-%d}"
            return text + ")"

        if claim_pct is not None and claim_pct < 0:
            threshold = 0.9 * claim_pct / 100
            big = near[near <= threshold]
            if len(big):
                out.append(f"One-day falls of {_fmt_pct(-threshold, 0)[1:]} or more (nine tenths of "
                           f"the claimed fall) within {search_days} trading days of day 0: "
                           + "; ".join(describe(d, v) for d, v in big.items()) + ".")
            else:
                out.append(f"No one-day fall of {_fmt_pct(-threshold, 0)[1:]} or more (nine tenths "
                           f"of the claimed fall) within {search_days} trading days of day 0; the "
                           f"largest was {describe(near.idxmin(), float(near.min()))}.")
        else:
            out.append(f"The largest one-day fall within {search_days} trading days of day 0 was "
                       f"{describe(near.idxmin(), float(near.min()))}.")
        # money
        cap = self.market_cap.get(label)
        if cap:
            value = cap["value"]
            money = row["car"] * value
            out.append(
                f"At {cap['shares']:,.0f} shares × ${cap['price']:.2f} ({cap['price_basis']}, "
                f"{cap['price_date']}) the market value was {_fmt_usd(value)}; the abnormal "
                f"change in value over the window was {_fmt_usd(money)} ({level} CI "
                f"{_fmt_usd(row['ci_lower'] * value)} to {_fmt_usd(row['ci_upper'] * value)}).")
            if claim_pct is not None:
                implied = abs(claim_pct / 100) * value
                sentence = f"A {abs(claim_pct):g} % fall would be about {_fmt_usd(implied)}"
                if claim_usd is not None:
                    share = abs(claim_usd) / value
                    ratio = abs(claim_usd) / implied
                    sentence += f", not {_fmt_usd(abs(claim_usd))}" if not 0.8 <= ratio <= 1.25 \
                        else f", in line with the claimed {_fmt_usd(abs(claim_usd))}"
                    sentence += (f"; {_fmt_usd(abs(claim_usd))} would be {share * 100:.0f} % of the "
                                 "market value")
                    if not 0.8 <= ratio <= 1.25:
                        sentence += (f", so {abs(claim_pct):g} % and {_fmt_usd(abs(claim_usd))} "
                                     "cannot both hold (they would need to agree within a "
                                     "factor of 0.8 to 1.25)")
                out.append(sentence + ".")
        elif claim_usd is not None:
            out.append("No shares outstanding were given, so the dollar claim was not checked.")
        return " ".join(out)

    # -- output ------------------------------------------------------------------
    def plot(self, event: int | str = 0, benchmark: str = "market"):
        """Daily AR bars and the CAR line with its confidence band (plotly Figure).

        See :func:`casekit.plots.event_study_plot`.
        """
        from casekit.plots import event_study_plot

        return event_study_plot(self, event=event, benchmark=benchmark)

    def to_dict(self) -> dict:
        """Everything as plain JSON types (dates as ISO strings, NaN as None)."""
        settings = dict(self.settings)
        params = self.params.reset_index()
        return _jsonable({
            "settings": settings,
            "events": list(self.events),
            "params": _records(params),
            "car_table": _records(self.car_table),
            "daily": _records(self.daily),
            "market_cap": self.market_cap,
            "notes": list(self.notes),
        })

    def _repr_html_(self) -> str:
        ev = html.escape(", ".join(e["label"] for e in self.events))
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (f"<h4>Event study: {ev}</h4>"
                f"<p>Market model, {self.settings['estimation_days']}-day estimation window, "
                f"event window {tuple(self.settings['event_window'])}, benchmarks "
                f"{', '.join(self.settings['benchmarks'])}.</p>"
                + self.summary.to_html(index=False, na_rep="–")
                + (f"<ul>{notes}</ul>" if notes else ""))

    def __repr__(self) -> str:
        ev = ", ".join(e["label"] for e in self.events)
        return (f"EventStudy({ev}; benchmarks {', '.join(self.settings['benchmarks'])}; "
                f"{len(self.car_table)} CAR rows)")


# --------------------------------------------------------------------------- the study


def _check_alpha(alpha) -> float:
    if not isinstance(alpha, (float, int)) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise ParameterError(f"alpha must be between 0 and 1, got {alpha!r}")
    return float(alpha)


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_window(window, event_window, name: str) -> tuple[int, int]:
    try:
        t1, t2 = window
        ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (t1, t2))
    except (TypeError, ValueError):
        ok = False
    if not ok or t1 > t2:
        raise ParameterError(f"{name} must be a pair of integers (first, last) with first <= "
                             f"last, got {window!r}")
    if event_window is not None and (t1 < event_window[0] or t2 > event_window[1]):
        raise ParameterError(f"{name} {tuple(window)} is not inside the event window "
                             f"{tuple(event_window)}")
    return int(t1), int(t2)


def _to_day(value, what: str) -> pd.Timestamp:
    try:
        day = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{what}: cannot read {value!r} as a date") from None
    if pd.isna(day):
        raise ParameterError(f"{what}: cannot read {value!r} as a date")
    return day.normalize().tz_localize(None) if day.tzinfo else day.normalize()


def event_study(prices_dir: str | Path, ticker: str = "UAL", event_date: Any = "2009-07-06",
                market: str = "GSPC",
                peers: Sequence[str] = ("DAL", "LUV", "JBLU", "ALK", "AAL", "SKYW"), *,
                events: Sequence[tuple[str, Any]] | None = None,
                estimation_days: int = 120, gap_days: int = 0,
                event_window: tuple[int, int] = (-1, 5),
                car_windows: Sequence[tuple[int, int]] = ((0, 0), (0, 1), (0, 3), (-1, 1), (0, 5)),
                shares_outstanding: float | Mapping[str, float] | None = None,
                price_for_cap: str | float = "close before event", alpha: float = 0.05,
                benchmarks: Sequence[str] = ("market", "peers"),
                align: str = "strict", max_gap_days: int = MAX_GAP_DAYS) -> EventStudy:
    """Market-model event study of one or several (ticker, date) events.

    Parameters
    ----------
    prices_dir : str or Path
        Folder of Yahoo-style daily CSVs (see :func:`load_prices`).
    ticker, event_date : str, date-like
        The event when ``events`` is not given. A date the market was closed moves day 0
        to the next trading day (noted).
    market : str
        Ticker of the market index (``GSPC`` or ``^GSPC`` for the S&P 500).
    peers : sequence of str
        Tickers of the equal-weight peer index (the event's own ticker is left out).
    events : sequence of (ticker, date), optional
        Several events (e.g. one firm on two dates, or peers on one date); then
        ``ticker`` and ``event_date`` must be left at their defaults.
    estimation_days : int
        Returns in the estimation window (at least :data:`MIN_ESTIMATION_DAYS`).
    gap_days : int
        Trading days between the end of the estimation window and the event window.
    event_window : (int, int)
        First and last trading day of the event window relative to day 0.
    car_windows : sequence of (int, int)
        CAR windows, each inside ``event_window``.
    shares_outstanding : float or mapping of ticker to float, optional
        Shares outstanding; with them the CAR table has the market value and the CAR
        in dollars.
    price_for_cap : {"close before event", "event close"} or float
        Price for the market value: the (unadjusted) close on day -1 (default), the
        close on day 0, or a given price.
    alpha : float
        1 - confidence level of the intervals; also the significance level of verdicts.
    benchmarks : sequence of {"market", "peers", "market_adjusted"}
        Models run side by side.
    align : {"strict", "inner"}
        How differing date sets are handled (see :func:`load_prices`).
    max_gap_days : int
        Largest run of missing weekdays allowed inside a file.

    Returns
    -------
    EventStudy

    Raises
    ------
    PriceDataError
        Bad or missing price files (file, line, column named); the event date outside
        the data; fewer returns before the event than the estimation window needs.
    ParameterError
        Bad parameters: too short an estimation window, windows out of range, unknown
        benchmark, non-positive shares.
    """
    # -- parameters
    estimation_days = _check_int("estimation_days", estimation_days, MIN_ESTIMATION_DAYS)
    gap_days = _check_int("gap_days", gap_days, 0)
    w0, w1 = _check_window(event_window, None, "event_window")
    windows = [_check_window(w, (w0, w1), "car window") for w in car_windows]
    if not windows:
        raise ParameterError("car_windows is empty")
    alpha = _check_alpha(alpha)
    benchmarks = tuple(benchmarks)
    bad = [b for b in benchmarks if b not in BENCHMARKS]
    if bad or not benchmarks or len(set(benchmarks)) != len(benchmarks):
        raise ParameterError(f"benchmarks must be distinct names from {', '.join(BENCHMARKS)}, "
                             f"got {benchmarks!r}")
    if isinstance(peers, str):
        peers = (peers,)
    market_t = _norm_ticker(market)
    peer_t = [_norm_ticker(p) for p in peers]
    if events is None:
        ev_list = [(_norm_ticker(ticker), _to_day(event_date, "event_date"))]
    else:
        if ticker != "UAL" or not (isinstance(event_date, str) and event_date == "2009-07-06"):
            raise ParameterError("give either events=[(ticker, date), ...] or ticker/event_date, "
                                 "not both")
        try:
            ev_list = [(_norm_ticker(t), _to_day(d, f"events[{i}]"))
                       for i, (t, d) in enumerate(events)]
        except (TypeError, ValueError) as err:
            if isinstance(err, ParameterError):
                raise
            raise ParameterError("events must be a sequence of (ticker, date) pairs") from None
        if not ev_list:
            raise ParameterError("events is empty")
    if isinstance(price_for_cap, str):
        if price_for_cap not in PRICE_FOR_CAP:
            raise ParameterError(f"price_for_cap must be one of {PRICE_FOR_CAP} or a positive "
                                 f"number, got {price_for_cap!r}")
    elif isinstance(price_for_cap, bool) or not isinstance(price_for_cap, (int, float)) \
            or not price_for_cap > 0:
        raise ParameterError(f"price_for_cap must be one of {PRICE_FOR_CAP} or a positive "
                             f"number, got {price_for_cap!r}")
    shares: dict[str, float] = {}
    if shares_outstanding is not None:
        if isinstance(shares_outstanding, Mapping):
            shares = {_norm_ticker(k): v for k, v in shares_outstanding.items()}
        else:
            firms = sorted({t for t, _ in ev_list})
            if len(firms) > 1:
                raise ParameterError("shares_outstanding must be a mapping {ticker: shares} when "
                                     f"the events are of several firms ({', '.join(firms)})")
            shares = {firms[0]: shares_outstanding}
        for k, v in shares.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise ParameterError(f"shares_outstanding for {k} must be a positive number, "
                                     f"got {v!r}")
    use_peers = "peers" in benchmarks
    use_market = bool({"market", "market_adjusted"} & set(benchmarks))
    tickers = [t for t, _ in ev_list]
    if use_market:
        tickers.append(market_t)
    if use_peers:
        tickers += peer_t
    # -- data
    prices = _load(prices_dir, tickers, align, max_gap_days)
    adj = prices.adj
    rets = adj.pct_change().iloc[1:]
    notes = list(prices.notes)
    n_ret = len(rets)
    events_out: list[dict] = []
    fits: dict[tuple[str, str], _Fit] = {}
    for tk, requested in ev_list:
        if requested < adj.index[0] or requested > adj.index[-1]:
            raise PriceDataError(
                f"event date {requested:%Y-%m-%d} for {tk} is outside the price data, which run "
                f"from {adj.index[0]:%Y-%m-%d} to {adj.index[-1]:%Y-%m-%d}: "
                f"{prices.where(prices.start_ticker)}, {prices.where(prices.end_ticker, end=True)}")
        k = int(adj.index.searchsorted(requested))  # first trading day >= requested
        day0 = adj.index[k]
        label = f"{tk} {day0:%Y-%m-%d}"
        if any(e["label"] == label for e in events_out):
            raise ParameterError(f"event {label} is given twice")
        if day0 != requested:
            notes.append(f"{label}: {requested:%Y-%m-%d} is not a trading day in the data; "
                         f"day 0 is the next trading day, {day0:%Y-%m-%d}")
        j0 = k - 1  # position of day 0 in the returns
        est_start = j0 + w0 - gap_days - estimation_days
        if est_start < 0:
            have = j0 + w0 - gap_days
            raise PriceDataError(
                f"estimation window too short for {label}: {estimation_days} returns are needed "
                f"before the event window (gap {gap_days}) but the data give {max(have, 0)}: "
                f"{prices.where(prices.start_ticker)}; supply earlier prices or lower "
                "estimation_days")
        if j0 + w1 > n_ret - 1:
            raise PriceDataError(
                f"event window {(w0, w1)} of {label} runs past the end of the data: "
                f"{prices.where(prices.end_ticker, end=True)}")
        own_peers = [p for p in peer_t if p != tk]
        if use_peers and not own_peers:
            raise ParameterError(f"benchmark 'peers' needs at least one peer other than {tk}")
        if use_peers and len(own_peers) < len(peer_t):
            notes.append(f"{label}: {tk} is left out of its own peer index")
        events_out.append({"label": label, "ticker": tk, "requested": requested, "day0": day0,
                           "peers": own_peers if use_peers else []})
        est = slice(est_start, est_start + estimation_days)
        evt = slice(j0 + w0, j0 + w1 + 1)
        y = rets[tk].to_numpy()
        m = rets[market_t].to_numpy() if use_market else np.full(n_ret, np.nan)
        series = {}
        if "market" in benchmarks:
            series["market"] = (m, f"market index {market_t}")
        if use_peers:
            series["peers"] = (rets[own_peers].to_numpy().mean(axis=1),
                               f"equal-weight peer index ({', '.join(own_peers)})")
        if "market_adjusted" in benchmarks:
            series["market_adjusted"] = (m, f"market-adjusted model ({market_t}, beta 1)")
        rel = np.arange(w0, w1 + 1)
        for bench in benchmarks:
            x, blabel = series[bench]
            fits[(label, bench)] = _fit(label, tk, bench, blabel, y[est], x[est],
                                        rets.index[est], y[evt], x[evt], m[evt],
                                        rets.index[evt], rel)
    # overlapping events of the same firm / clustered dates
    for a in range(len(events_out)):
        for b in range(a + 1, len(events_out)):
            ea, eb = events_out[a], events_out[b]
            fa = fits[(ea["label"], benchmarks[0])]
            fb = fits[(eb["label"], benchmarks[0])]
            a_lo, a_hi = fa.est_dates[0], fa.evt_dates[-1]
            b_lo, b_hi = fb.est_dates[0], fb.evt_dates[-1]
            if ea["ticker"] == eb["ticker"] and a_lo <= b_hi and b_lo <= a_hi:
                notes.append(f"{ea['label']} and {eb['label']}: estimation and event windows "
                             "overlap (the later estimation window may contain the earlier "
                             "event); pooled statistics assume independent events")
            elif fa.evt_dates[0] <= fb.evt_dates[-1] and fb.evt_dates[0] <= fa.evt_dates[-1]:
                notes.append(f"{ea['label']} and {eb['label']}: event windows overlap in "
                             "calendar time (cross-correlated ARs; pooled tests overstate "
                             "significance)")
    if len(events_out) == 1:
        notes.append("BMP not applicable: it is a cross-sectional test and needs at least two "
                     "events; with one event read the t statistic, Patell Z (here the "
                     "standardised CAR) and the Corrado rank test")
    # -- market value
    market_cap: dict[str, dict] = {}
    for ev in events_out:
        tk = ev["ticker"]
        if tk not in shares:
            continue
        k = int(adj.index.get_loc(ev["day0"]))
        if isinstance(price_for_cap, str):
            pos = k - 1 if price_for_cap == "close before event" else k
            price = float(prices.close[tk].iloc[pos])
            pdate = f"{prices.close.index[pos]:%Y-%m-%d}"
            basis = "close before the event" if pos < k else "close on day 0"
        else:
            price, pdate, basis = float(price_for_cap), "", "given price"
        market_cap[ev["label"]] = {"shares": float(shares[tk]), "price": price,
                                   "price_date": pdate, "price_basis": basis,
                                   "value": float(shares[tk]) * price}
    # -- tables
    params = pd.DataFrame([
        {"event": f.event, "benchmark": f.benchmark, "alpha": f.alpha, "beta": f.beta,
         "sigma": math.sqrt(f.s2), "r2": f.r2, "n_est": f.n_est, "df": f.df,
         "est_start": f.est_dates[0], "est_end": f.est_dates[-1],
         "benchmark_series": f.bench_label} for f in fits.values()
    ]).set_index(["event", "benchmark"])
    daily_parts = []
    for f in fits.values():
        var = f.day_var
        car = np.cumsum(f.ar)
        car_se = np.array([f.window(w0, t)["se"] for t in f.rel_days])
        q = special.stdtrit(f.df, 1 - alpha / 2)
        daily_parts.append(pd.DataFrame({
            "event": f.event, "ticker": f.ticker, "benchmark": f.benchmark,
            "date": f.evt_dates, "rel_day": f.rel_days, "ret": f.ret, "market_ret": f.market_ret,
            "bench_ret": f.bench_ret, "expected": f.ret - f.ar, "ar": f.ar,
            "ar_t": f.ar / np.sqrt(var), "car": car, "car_se": car_se,
            "car_lower": car - q * car_se, "car_upper": car + q * car_se}))
    daily = pd.concat(daily_parts, ignore_index=True)
    rows = []
    n_ev = len(events_out)
    for bench in benchmarks:
        bench_fits = [fits[(e["label"], bench)] for e in events_out]
        for t1, t2 in windows:
            per = []
            for f in bench_fits:
                r = f.window(t1, t2)
                q = special.stdtrit(r["df"], 1 - alpha / 2)
                r["patell_z"], r["patell_p"] = _patell([r])
                r["corrado_z"], r["corrado_p"] = _corrado([f], t1, t2)
                cap = market_cap.get(f.event, {}).get("value", math.nan)
                r.update(event=f.event, benchmark=bench, ci_lower=r["car"] - q * r["se"],
                         ci_upper=r["car"] + q * r["se"], bmp_t=math.nan, bmp_p=math.nan,
                         market_cap=cap, money=r["car"] * cap,
                         money_lower=(r["car"] - q * r["se"]) * cap,
                         money_upper=(r["car"] + q * r["se"]) * cap)
                per.append(r)
            if n_ev > 1:
                caar = float(np.mean([r["car"] for r in per]))
                se = math.sqrt(sum(r["se"] ** 2 for r in per)) / n_ev
                se_plain = math.sqrt(sum(r["se_plain"] ** 2 for r in per)) / n_ev
                z = caar / se
                qn = special.ndtri(1 - alpha / 2)
                pz, pp = _patell(per)
                bt, bp = _bmp(per)
                cz, cp = _corrado(bench_fits, t1, t2)
                per.append({"event": f"all (N={n_ev})", "benchmark": bench,
                            "length": per[0]["length"], "car": caar, "se": se,
                            "se_plain": se_plain, "t": z, "df": math.inf,
                            "p": float(2 * special.ndtr(-abs(z))),
                            "ci_lower": caar - qn * se, "ci_upper": caar + qn * se,
                            "patell_z": pz, "patell_p": pp, "bmp_t": bt, "bmp_p": bp,
                            "corrado_z": cz, "corrado_p": cp,
                            "raw_return": float(np.mean([r["raw_return"] for r in per])),
                            "market_cap": math.nan, "money": math.nan,
                            "money_lower": math.nan, "money_upper": math.nan})
            for r in per:
                r["window"] = f"({t1},{t2})"
                r["start"], r["end"] = t1, t2
                rows.append(r)
    columns = ["event", "benchmark", "window", "start", "end", "length", "car", "se", "se_plain",
               "t", "df", "p", "ci_lower", "ci_upper", "patell_z", "patell_p", "bmp_t", "bmp_p",
               "corrado_z", "corrado_p", "raw_return", "market_cap", "money", "money_lower",
               "money_upper"]
    car_table = pd.DataFrame(rows)[columns].rename(columns={"length": "days"})
    car_table["df"] = car_table["df"].astype(float)
    summary = pd.DataFrame({
        "event": car_table["event"], "benchmark": car_table["benchmark"],
        "window": car_table["window"],
        "CAR %": (car_table["car"] * 100).round(2) + 0.0,
        "CI low %": (car_table["ci_lower"] * 100).round(2) + 0.0,
        "CI high %": (car_table["ci_upper"] * 100).round(2) + 0.0,
        "t": car_table["t"].round(2) + 0.0, "p": car_table["p"].round(3) + 0.0,
        "Patell Z": car_table["patell_z"].round(2) + 0.0,
        "Corrado Z": car_table["corrado_z"].round(2) + 0.0,
        "BMP t": car_table["bmp_t"].round(2) + 0.0,
        "raw %": (car_table["raw_return"] * 100).round(2) + 0.0,
        "CAR $M": (car_table["money"] / 1e6).round(1) + 0.0,
    })
    settings = {
        "prices_dir": str(prices_dir), "market": market_t, "peers": peer_t,
        "estimation_days": estimation_days, "gap_days": gap_days, "event_window": (w0, w1),
        "car_windows": windows, "shares_outstanding": shares or None,
        "price_for_cap": price_for_cap, "alpha": alpha, "benchmarks": benchmarks,
        "align": align, "max_gap_days": max_gap_days, "returns": "simple",
        "files": prices.files, "dropped_days": prices.dropped_days,
    }
    return EventStudy(tuple(events_out), settings, params, daily, car_table, summary,
                      market_cap, tuple(notes), fits, rets, prices.close)
