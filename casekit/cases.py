"""Case folders: the one loader, the validator and the catalog.

A case is a folder ``<case-id>/`` holding ``case.yaml``, ``timeline.csv``,
``reach.csv`` and ``costs.csv`` (the format is documented in
``datasets/README.md``). :func:`load_case` reads and validates a folder in one
pass and returns an immutable :class:`Case`; :func:`validate` returns the list
of problems instead of raising; :func:`list_cases` is the catalog.

Examples
--------
>>> import casekit as ck
>>> case = ck.load_case("synthetic-example")
>>> case.synthetic
True
>>> case.origin
Timestamp('2024-03-04 00:00:00')
>>> case.series("video_views").columns.tolist()[:4]
['time', 't', 'value', 'qualifier']
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
import yaml

from casekit.exceptions import CaseNotFoundError, CaseValidationError, Problem

__all__ = [
    "Case",
    "KeyDate",
    "load_case",
    "list_cases",
    "validate",
    "data_dirs",
    "new_case",
    "CASE_ID_PATTERN",
    "DATA_ENV",
    "KEY_DATES",
]

DATA_ENV = "CASEKIT_DATA"
"""Environment variable: extra folders of cases, separated by ``os.pathsep``."""

CASE_ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SOURCE_ID_PATTERN = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")
METRIC_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_FILE_BYTES = 5 * 1024 * 1024

KEY_DATES = ("incident", "first_complaint", "going_public", "first_response", "resolution")
PRECISIONS = ("hour", "day", "month", "year", "approximate", "range")
CONFIDENCES = ("high", "medium", "low", "unverified")
QUALIFIERS = ("exact", "more_than", "nearly", "about", "up_to")
FIGURE_KINDS = ("observed", "reported", "claim", "derived")
ACTORS = ("customer", "company", "media", "public", "third_party")
EVENT_KINDS = (
    "incident", "complaint", "refusal", "publication", "response", "offer",
    "coverage", "escalation", "resolution", "other",
)
COST_CATEGORIES = (
    "price", "remedy_requested", "remedy_refused", "repair_cost", "compensation_offered",
    "payment", "donation", "claimed_loss", "market_move", "market_cap",
    "shares_outstanding", "sponsorship_value", "other",
)

_FILES = ("case.yaml", "timeline.csv", "reach.csv", "costs.csv")

# column name -> required?  ("derived" rows relax `quote`, ranges need *_end: checked per row)
TIMELINE_COLUMNS = {
    "date": True, "date_precision": True, "date_end": False, "actor": True, "kind": True,
    "description": True, "source": True, "quote": False, "confidence": True, "note": False,
}
REACH_COLUMNS = {
    "time": True, "time_precision": True, "time_end": False, "metric": True, "value": True,
    "unit": True, "cumulative": True, "qualifier": True, "kind": True, "method": False,
    "source": True, "quote": False, "confidence": True, "note": False,
}
COSTS_COLUMNS = {
    "item": True, "category": True, "value": False, "unit": True, "date": True,
    "date_precision": True, "date_end": False, "qualifier": True, "kind": True,
    "method": False, "source": True, "quote": False, "confidence": True, "note": False,
}

_DATE_FORMS = (
    (re.compile(r"^\d{4}$"), "year"),
    (re.compile(r"^\d{4}-\d{2}$"), "month"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "day"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?$"), "hour"),
)
_RESOLUTION_RANK = {"year": 0, "month": 1, "day": 2, "hour": 3}


@dataclass(frozen=True)
class KeyDate:
    """One of a case's key dates, with its evidence.

    ``date`` is the start of the stated period (``2008-11`` is 1 November 2008
    with precision ``month``); read it together with ``precision``.
    """

    name: str
    date: pd.Timestamp
    precision: str
    source: str
    confidence: str
    date_end: pd.Timestamp | None = None
    note: str | None = None


@dataclass(frozen=True, repr=False)
class Case:
    """A loaded, validated case. Immutable: the table properties return copies.

    Attributes
    ----------
    id, title, company, customer, country, language, currency, timezone, summary : str
        Metadata from ``case.yaml``.
    synthetic : bool
        True for made-up example data.
    origin_key : str
        The key date used as t = 0 for reach curves.
    key_dates : Mapping[str, KeyDate | None]
        The five key dates; ``None`` where the sources do not say.
    analysis : Mapping[str, Any]
        Optional analysis defaults from ``case.yaml`` (metric, loss, curves, waves,
        market); analysis functions use them when a caller leaves the choice open.
    path : pathlib.Path
        The case folder.
    """

    id: str
    title: str
    company: str
    customer: str | None
    country: str
    language: str
    currency: str
    timezone: str
    summary: str
    synthetic: bool
    origin_key: str
    key_dates: Mapping[str, KeyDate | None]
    path: Path
    analysis: Mapping[str, Any] = field(repr=False)
    _sources: pd.DataFrame = field(repr=False)
    _timeline: pd.DataFrame = field(repr=False)
    _reach: pd.DataFrame = field(repr=False)
    _costs: pd.DataFrame = field(repr=False)

    # -- tables -------------------------------------------------------------
    @property
    def sources(self) -> pd.DataFrame:
        """Declared sources: id, title, publisher, date, url, note."""
        return self._sources.copy()

    @property
    def timeline(self) -> pd.DataFrame:
        """Dated events, sorted by date; ``line`` is the row's line in timeline.csv."""
        return self._timeline.copy()

    @property
    def reach(self) -> pd.DataFrame:
        """All reach observations, every source and kind, sorted by time."""
        return self._reach.copy()

    @property
    def costs(self) -> pd.DataFrame:
        """Money and other quantified items."""
        return self._costs.copy()

    # -- convenience --------------------------------------------------------
    @property
    def origin(self) -> pd.Timestamp | None:
        """The date that is t = 0 for reach curves (``None`` if that key date is unknown)."""
        kd = self.key_dates.get(self.origin_key)
        return None if kd is None else kd.date

    @property
    def metrics(self) -> tuple[str, ...]:
        """Reach metrics, most observations first."""
        counts = self._reach["metric"].value_counts(sort=False)
        return tuple(sorted(counts.index, key=lambda m: (-counts[m], m)))

    def key_date(self, name: str) -> pd.Timestamp | None:
        """The date of key date ``name`` (one of :data:`KEY_DATES`), or ``None`` if unknown."""
        if name not in KEY_DATES:
            raise KeyError(f"unknown key date {name!r}; expected one of {', '.join(KEY_DATES)}")
        kd = self.key_dates.get(name)
        return None if kd is None else kd.date

    def series(
        self,
        metric: str,
        *,
        kinds: Iterable[str] = ("observed", "reported"),
        min_confidence: str = "unverified",
    ) -> pd.DataFrame:
        """Observations of one metric, with ``t`` in days since the origin.

        Parameters
        ----------
        metric : str
            A metric name from :attr:`metrics`.
        kinds : iterable of str
            Kinds of figure to keep; by default observed and reported figures, not
            claims or our own derived numbers.
        min_confidence : str
            Drop rows less confident than this (``high`` > ``medium`` > ``low`` > ``unverified``).

        Returns
        -------
        pandas.DataFrame
            Columns ``time, t, value, qualifier, kind, cumulative, source, confidence,
            time_precision, quote, note, line``, sorted by time. Conflicting rows from
            different sources are all kept.
        """
        if metric not in set(self._reach["metric"]):
            raise KeyError(
                f"case {self.id!r} has no reach metric {metric!r}; "
                f"it has: {', '.join(self.metrics) or '(none)'}"
            )
        if min_confidence not in CONFIDENCES:
            raise ValueError(f"min_confidence must be one of {CONFIDENCES}, not {min_confidence!r}")
        kinds = tuple(kinds)
        bad = [k for k in kinds if k not in FIGURE_KINDS]
        if bad:
            raise ValueError(f"unknown kind(s) {bad}; expected some of {FIGURE_KINDS}")
        rank = {c: i for i, c in enumerate(reversed(CONFIDENCES))}
        df = self._reach[
            (self._reach["metric"] == metric)
            & self._reach["kind"].isin(kinds)
            & (self._reach["confidence"].map(rank) >= rank[min_confidence])
        ].copy()
        origin = self.origin
        if origin is None:
            df["t"] = float("nan")
        else:
            df["t"] = (df["time"] - origin) / pd.Timedelta(days=1)
        cols = ["time", "t", "value", "qualifier", "kind", "cumulative", "source",
                "confidence", "time_precision", "quote", "note", "line"]
        return df[cols].sort_values(["time", "line"]).reset_index(drop=True)

    def cite(self, source_ids: str | Iterable[str]) -> pd.DataFrame:
        """The declared sources behind ``source_ids`` (a ``;``-separated string or a list)."""
        ids = _split_ids(source_ids) if isinstance(source_ids, str) else list(source_ids)
        return self._sources[self._sources["id"].isin(ids)].copy()

    def source_list(self) -> "SourceList":
        """Every declared source, in full, as a numbered reference list.

        Displays as HTML in a notebook (nothing truncated, unlike a long DataFrame) and
        as plain text with ``str()``.

        Examples
        --------
        >>> import casekit as ck
        >>> print(str(ck.load_case("synthetic-example").source_list()).splitlines()[0])
        1. [synthetic-timeline] Made-up timeline of the synthetic example. casekit, 2024-03-04. (synthetic; written by hand for tests)
        """
        return SourceList(tuple(self._sources.itertuples(index=False)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able metadata and row counts (not the tables)."""
        return {
            "id": self.id, "title": self.title, "company": self.company,
            "customer": self.customer, "country": self.country, "language": self.language,
            "currency": self.currency, "timezone": self.timezone, "synthetic": self.synthetic,
            "summary": self.summary, "origin": self.origin_key, "path": str(self.path),
            "key_dates": {
                k: None if v is None else {
                    "date": v.date.isoformat(), "precision": v.precision, "source": v.source,
                    "confidence": v.confidence, "note": v.note,
                    "date_end": None if v.date_end is None else v.date_end.isoformat(),
                }
                for k, v in self.key_dates.items()
            },
            "analysis": _plain(self.analysis),
            "n_sources": len(self._sources), "n_timeline": len(self._timeline),
            "n_reach": len(self._reach), "n_costs": len(self._costs),
        }

    def __repr__(self) -> str:
        flag = " synthetic" if self.synthetic else ""
        return (f"<casekit.Case {self.id!r}{flag}: {len(self._timeline)} events, "
                f"{len(self._reach)} reach rows, {len(self._costs)} cost rows, "
                f"{len(self._sources)} sources>")

    def _repr_html_(self) -> str:
        kd = pd.DataFrame(
            [(k, "unknown" if v is None else v.date.date().isoformat(),
              "" if v is None else v.precision, "" if v is None else v.source)
             for k, v in self.key_dates.items()],
            columns=["key date", "date", "precision", "source"],
        )
        synthetic = " <b>(synthetic example data)</b>" if self.synthetic else ""
        return (f"<h4>{_html(self.title)}{synthetic}</h4><p>{_html(self.summary)}</p>"
                + kd.to_html(index=False))


@dataclass(frozen=True)
class SourceList:
    """A case's sources as a reference list (see :meth:`Case.source_list`)."""

    rows: tuple

    @staticmethod
    def _parts(r) -> tuple[str, str | None, str | None]:
        def present(v):  # pandas stores a missing text as None or NaN
            return v if isinstance(v, str) and v else None

        text = f"[{r.id}] {r.title}. {r.publisher}"
        if present(r.date):
            text += f", {r.date}"
        return text + ".", present(r.url), present(r.note)

    def __str__(self) -> str:
        lines = []
        for i, r in enumerate(self.rows, 1):
            text, url, note = self._parts(r)
            lines.append(f"{i}. {text}" + (f" {url}" if url else "")
                         + (f" ({note})" if note else ""))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        items = []
        for r in self.rows:
            text, url, note = self._parts(r)
            link = f' <a href="{_html(url)}">{_html(url)}</a>' if url else ""
            items.append(f"<li>{_html(text)}{link}"
                         + (f" <i>({_html(note)})</i>" if note else "") + "</li>")
        return f"<ol>{''.join(items)}</ol>"


# ---------------------------------------------------------------------------
# locating cases
# ---------------------------------------------------------------------------

def _package_dir() -> Path:
    return Path(__file__).resolve().parent


def data_dirs(extra: Iterable[str | os.PathLike] | None = None) -> list[Path]:
    """Folders searched for cases, in order.

    The shipped synthetic example, the bundled datasets (inside the installed
    package, or ``datasets/`` of a source checkout), then folders named in the
    ``CASEKIT_DATA`` environment variable, then ``extra``.
    """
    dirs = [_package_dir() / "examples"]
    bundled = _package_dir() / "_bundled_datasets"
    checkout = _package_dir().parent / "datasets"
    dirs.append(bundled if bundled.is_dir() else checkout)
    env = os.environ.get(DATA_ENV, "")
    dirs += [Path(p) for p in env.split(os.pathsep) if p.strip()]
    dirs += [Path(p) for p in (extra or [])]
    seen, out = set(), []
    for d in dirs:
        key = d.resolve() if d.exists() else d
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _looks_like_path(ref: str) -> bool:
    return os.sep in ref or "/" in ref or ref.startswith(".")


def _resolve(ref: str | os.PathLike, extra_dirs=None) -> Path:
    if isinstance(ref, os.PathLike) or _looks_like_path(str(ref)):
        path = Path(ref)
        if not path.is_dir():
            raise CaseNotFoundError(f"{path}: no such case folder")
        if not any((path / name).exists() for name in _FILES):
            raise CaseNotFoundError(
                f"{path} is not a case folder: it has none of {', '.join(_FILES)}")
        return path
    ref = str(ref)
    if not CASE_ID_PATTERN.match(ref):
        raise CaseNotFoundError(
            f"{ref!r} is not a case id: ids are lower-case words joined by '-' "
            f"(e.g. 'united-breaks-guitars'); pass a path to load a folder elsewhere")
    for d in data_dirs(extra_dirs):
        candidate = d / ref
        if (candidate / "case.yaml").is_file():
            return candidate
    known = ", ".join(list_cases(extra_dirs)["id"]) or "(none)"
    raise CaseNotFoundError(f"no case {ref!r}; known cases: {known}")


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------

def load_case(ref: str | os.PathLike, *, extra_dirs: Iterable[str | os.PathLike] | None = None
              ) -> Case:
    """Load and validate a case by id or folder path.

    Parameters
    ----------
    ref : str or path-like
        A case id (looked up in :func:`data_dirs`) or a path to a case folder.
    extra_dirs : iterable of path-like, optional
        More folders to search for ``ref``.

    Returns
    -------
    Case

    Raises
    ------
    CaseNotFoundError
        No such case.
    CaseValidationError
        The folder has problems; ``err.problems`` lists every one of them.

    Examples
    --------
    >>> import casekit as ck
    >>> ck.load_case("synthetic-example").key_date("first_response")
    Timestamp('2024-03-08 00:00:00')
    """
    path = _resolve(ref, extra_dirs)
    key = _folder_key(path)
    if key in _CACHE:
        return _CACHE[key]
    case, problems = _read_folder(path)
    if problems:
        raise CaseValidationError(str(path), problems)
    assert case is not None
    if len(_CACHE) >= 64:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = case
    return case


# A Case is immutable, so a folder whose files are unchanged (same size and modification
# time) need not be read and validated again: analysis functions reload cases by id often.
_CACHE: dict[tuple, Case] = {}


def _folder_key(path: Path) -> tuple:
    stats = []
    for name in _FILES:
        try:
            st = (path / name).stat()
        except OSError:
            stats.append((name, None))
        else:
            stats.append((name, st.st_mtime_ns, st.st_size))
    return (str(path.resolve()), *stats)


def validate(ref: str | os.PathLike) -> list[Problem]:
    """All problems of a case folder (empty when it is valid).

    Examples
    --------
    >>> import casekit as ck
    >>> ck.validate("synthetic-example")
    []
    """
    try:
        path = _resolve(ref)
    except CaseNotFoundError as err:
        return [Problem(str(ref), None, None, str(err))]
    return _read_folder(path)[1]


def list_cases(extra_dirs: Iterable[str | os.PathLike] | None = None) -> pd.DataFrame:
    """The catalog of cases found in :func:`data_dirs`.

    A folder that fails validation is listed with ``valid=False`` and its number
    of problems rather than hidden.

    Examples
    --------
    >>> import casekit as ck
    >>> "synthetic-example" in set(ck.list_cases()["id"])
    True
    """
    rows = []
    for d in data_dirs(extra_dirs):
        if not d.is_dir():
            continue
        for sub in sorted(p for p in d.iterdir() if (p / "case.yaml").is_file()):
            case, problems = _read_folder(sub)
            if case is None:
                rows.append({"id": sub.name, "title": None, "company": None, "country": None,
                             "going_public": None, "synthetic": None, "events": None,
                             "reach_rows": None, "cost_rows": None, "sources": None,
                             "valid": False, "problems": len(problems), "path": str(sub)})
                continue
            rows.append({
                "id": case.id, "title": case.title, "company": case.company,
                "country": case.country, "going_public": case.key_date("going_public"),
                "synthetic": case.synthetic, "events": len(case._timeline),
                "reach_rows": len(case._reach), "cost_rows": len(case._costs),
                "sources": len(case._sources), "valid": not problems,
                "problems": len(problems), "path": str(sub),
            })
    cols = ["id", "title", "company", "country", "going_public", "synthetic", "events",
            "reach_rows", "cost_rows", "sources", "valid", "problems", "path"]
    df = pd.DataFrame(rows, columns=cols)
    return df.drop_duplicates("id", keep="first").reset_index(drop=True)


# ---------------------------------------------------------------------------
# reading and validating, in one pass
# ---------------------------------------------------------------------------

class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file, row, column, message, expected=None) -> None:
        self.problems.append(Problem(file, row, column, message, expected))


def _read_text(path: Path, name: str, out: _Collector) -> str | None:
    file = path / name
    if not file.is_file():
        out.add(name, None, None, "file is missing",
                f"a {name} in {path} (see datasets/README.md, or run `casekit new`)")
        return None
    size = file.stat().st_size
    if size > MAX_FILE_BYTES:
        out.add(name, None, None, f"file is {size / 1e6:.1f} MB, over the 5 MB limit",
                "a hand-curated case file (is this the right file?)")
        return None
    raw = file.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # Excel's "CSV UTF-8" writes a BOM; it carries no data
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        out.add(name, line, None, f"byte {err.start} is not valid UTF-8",
                "the file saved as UTF-8")
        return None
    if not text.strip():
        out.add(name, None, None, "file is empty",
                "a header row" if name.endswith(".csv") else "the case metadata")
        return None
    return text


def _parse_when(value: str) -> tuple[pd.Timestamp, str] | None:
    value = value.strip()
    for pattern, resolution in _DATE_FORMS:
        if pattern.match(value):
            try:
                ts = pd.Timestamp(value.replace(" ", "T"))
            except (ValueError, OverflowError):
                return None
            return ts, resolution
    return None


def _check_when(value: str, precision: str, end: str, file: str, line: int,
                col: str, end_col: str, out: _Collector):
    """Parse a date and its precision; return (start, end) or None."""
    ok = True
    parsed = _parse_when(value) if value else None
    if not value:
        out.add(file, line, col, "date is empty", "an ISO date such as 2009-07-06")
        ok = False
    elif parsed is None:
        out.add(file, line, col, f"cannot read {value!r} as a date",
                "ISO 8601: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM")
        ok = False
    prec_col = col + "_precision" if col in ("date", "time") else "precision"
    if precision not in PRECISIONS:
        out.add(file, line, prec_col, f"unknown precision {precision!r}", " | ".join(PRECISIONS))
        ok = False
    elif parsed is not None and precision in _RESOLUTION_RANK:
        if _RESOLUTION_RANK[parsed[1]] < _RESOLUTION_RANK[precision]:
            out.add(file, line, prec_col,
                    f"precision {precision!r} but {value!r} gives only a {parsed[1]}",
                    f"precision {parsed[1]!r}, or a more exact date")
            ok = False
    end_ts = None
    if precision == "range":
        end_parsed = _parse_when(end) if end else None
        if not end:
            out.add(file, line, end_col, "a range needs an end date", "an ISO date")
            ok = False
        elif end_parsed is None:
            out.add(file, line, end_col, f"cannot read {end!r} as a date", "an ISO date")
            ok = False
        else:
            end_ts = end_parsed[0]
            if parsed is not None and end_ts < parsed[0]:
                out.add(file, line, end_col, f"range ends ({end}) before it starts ({value})",
                        "an end date on or after the start")
                ok = False
    elif end and precision in PRECISIONS:
        out.add(file, line, end_col, f"{end_col} given but precision is {precision!r}",
                f"precision 'range', or an empty {end_col}")
        ok = False
    return (parsed[0], end_ts) if ok and parsed else None


def _split_ids(value: str) -> list[str]:
    return [s.strip() for s in str(value).split(";") if s.strip()]


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
        out.add(name, 1, c, "required column is missing",
                "header columns: " + ", ".join(c for c, r in columns.items() if r))
    for c in header:
        if c not in columns:
            out.add(name, 1, c or "(empty)", "unknown column",
                    "one of: " + ", ".join(columns))
    dupes = {c for c in header if header.count(c) > 1}
    for c in sorted(dupes):
        out.add(name, 1, c, "column appears more than once", "each column once")
    if missing or dupes:
        return None
    rows = []
    line = 1
    try:
        for record in reader:
            start = line + 1
            line = reader.line_num
            if not record or all(not f.strip() for f in record):
                continue
            if len(record) != len(header):
                out.add(name, start, None,
                        f"row has {len(record)} fields, header has {len(header)}",
                        "one field per column (quote fields that contain commas)")
                continue
            row = {c: "" for c in columns}
            row.update({h: v.strip() for h, v in zip(header, record)})
            rows.append((start, row))
    except csv.Error as err:
        out.add(name, line + 1, None, f"malformed CSV: {err}", "well-formed CSV quoting")
    return rows


def _check_common(file, line, row, sources: set[str], out: _Collector, *,
                  quote_required: bool) -> None:
    for col, required in (("source", True), ("confidence", True)):
        if required and not row[col]:
            out.add(file, line, col, "value is empty", "a value")
    ids = _split_ids(row["source"])
    for sid in ids:
        if sources is not None and sid not in sources:  # None: case.yaml unreadable, no list
            out.add(file, line, "source", f"unknown source id {sid!r}",
                    "an id declared under `sources:` in case.yaml")
    if row["confidence"] and row["confidence"] not in CONFIDENCES:
        out.add(file, line, "confidence", f"unknown confidence {row['confidence']!r}",
                " | ".join(CONFIDENCES))
    if "kind" in row and row.get("kind") in FIGURE_KINDS:
        if row["kind"] == "derived" and not row.get("method"):
            out.add(file, line, "method", "a derived figure must say how it was derived",
                    "the computation, e.g. '3.34 x 167,040,862 shares'")
        if quote_required and row["kind"] != "derived" and not row.get("quote"):
            out.add(file, line, "quote", "the source's words for this figure are missing",
                    "a short verbatim quote (empty only for derived rows)")


def _parse_number(text: str):
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _read_timeline(path, sources, out):
    rows = _read_csv(path, "timeline.csv", TIMELINE_COLUMNS, out)
    if rows is None:
        return None
    recs = []
    for line, row in rows:
        when = _check_when(row["date"], row["date_precision"], row["date_end"],
                           "timeline.csv", line, "date", "date_end", out)
        if row["actor"] not in ACTORS:
            out.add("timeline.csv", line, "actor", f"unknown actor {row['actor']!r}",
                    " | ".join(ACTORS))
        if row["kind"] not in EVENT_KINDS:
            out.add("timeline.csv", line, "kind", f"unknown event kind {row['kind']!r}",
                    " | ".join(EVENT_KINDS))
        if not row["description"]:
            out.add("timeline.csv", line, "description", "value is empty",
                    "what happened, in a sentence")
        _check_common("timeline.csv", line, row, sources, out, quote_required=False)
        if when:
            recs.append({**row, "date": when[0], "date_end": when[1], "line": line})
    cols = ["date", "date_end", "date_precision", "actor", "kind", "description", "source",
            "quote", "confidence", "note", "line"]
    df = pd.DataFrame(recs, columns=cols)
    return df.sort_values(["date", "line"], kind="stable").reset_index(drop=True)


def _read_reach(path, sources, out):
    rows = _read_csv(path, "reach.csv", REACH_COLUMNS, out)
    if rows is None:
        return None
    recs = []
    for line, row in rows:
        good = True
        when = _check_when(row["time"], row["time_precision"], row["time_end"],
                           "reach.csv", line, "time", "time_end", out)
        if not METRIC_PATTERN.match(row["metric"]):
            out.add("reach.csv", line, "metric", f"metric {row['metric']!r} is not snake_case",
                    "e.g. youtube_views or facebook_group_members")
            good = False
        value = _parse_number(row["value"]) if row["value"] else None
        if not row["value"]:
            out.add("reach.csv", line, "value", "value is empty", "a non-negative number")
            good = False
        elif value is None:
            out.add("reach.csv", line, "value", f"{row['value']!r} is not a number",
                    "digits only, no thousands separators, e.g. 1566576")
            good = False
        elif value < 0:
            out.add("reach.csv", line, "value", f"negative count {row['value']}",
                    "a count of zero or more")
            good = False
        cum = row["cumulative"].lower()
        if cum not in ("true", "false"):
            out.add("reach.csv", line, "cumulative", f"{row['cumulative']!r} is not true/false",
                    "true for running totals, false for per-period counts")
            good = False
        if not row["unit"]:
            out.add("reach.csv", line, "unit", "value is empty", "e.g. views, members")
        if row["qualifier"] not in QUALIFIERS:
            out.add("reach.csv", line, "qualifier", f"unknown qualifier {row['qualifier']!r}",
                    " | ".join(QUALIFIERS))
        if row["kind"] not in FIGURE_KINDS:
            out.add("reach.csv", line, "kind", f"unknown kind {row['kind']!r}",
                    " | ".join(FIGURE_KINDS))
        _check_common("reach.csv", line, row, sources, out, quote_required=True)
        if when and good:
            recs.append({**row, "time": when[0], "time_end": when[1], "value": value,
                         "cumulative": cum == "true", "line": line})
    cols = ["time", "time_end", "time_precision", "metric", "value", "unit", "cumulative",
            "qualifier", "kind", "method", "source", "quote", "confidence", "note", "line"]
    df = pd.DataFrame(recs, columns=cols)
    df = df.sort_values(["time", "line"], kind="stable").reset_index(drop=True)
    # A counter never runs backwards within one source: a fall is a data-entry error.
    cumulative = df[df["cumulative"].astype(bool)].copy()
    cumulative["source"] = [_split_ids(s) for s in cumulative["source"]]
    cumulative = cumulative.explode("source")  # a row citing "a;b" is a reading of a and of b
    for (source, metric), grp in cumulative.groupby(["source", "metric"], sort=False):
        running_max, at_line = -math.inf, None
        for _, r in grp.iterrows():
            if r["value"] < running_max:
                out.add("reach.csv", int(r["line"]), "value",
                        f"cumulative {metric} from {source} falls from {running_max:g} "
                        f"(line {at_line}) to {r['value']:g}",
                        "a running total that never decreases within one source; "
                        "check the value, the time, or whether this is another source")
            elif r["value"] >= running_max:
                running_max, at_line = r["value"], int(r["line"])
    return df


def _read_costs(path, sources, out):
    rows = _read_csv(path, "costs.csv", COSTS_COLUMNS, out)
    if rows is None:
        return None
    recs = []
    for line, row in rows:
        when = _check_when(row["date"], row["date_precision"], row["date_end"],
                           "costs.csv", line, "date", "date_end", out)
        value = None
        if row["value"]:
            value = _parse_number(row["value"])
            if value is None:
                out.add("costs.csv", line, "value", f"{row['value']!r} is not a number",
                        "a plain number (no currency signs or separators), or empty if the "
                        "source gives none")
        if not row["item"]:
            out.add("costs.csv", line, "item", "value is empty", "what the figure is")
        if row["category"] not in COST_CATEGORIES:
            out.add("costs.csv", line, "category", f"unknown category {row['category']!r}",
                    " | ".join(COST_CATEGORIES))
        if not row["unit"]:
            out.add("costs.csv", line, "unit", "value is empty", "e.g. USD, GBP, percent")
        if row["qualifier"] not in QUALIFIERS:
            out.add("costs.csv", line, "qualifier", f"unknown qualifier {row['qualifier']!r}",
                    " | ".join(QUALIFIERS))
        if row["kind"] not in FIGURE_KINDS:
            out.add("costs.csv", line, "kind", f"unknown kind {row['kind']!r}",
                    " | ".join(FIGURE_KINDS))
        _check_common("costs.csv", line, row, sources, out, quote_required=bool(row["value"]))
        if when:
            recs.append({**row, "date": when[0], "date_end": when[1],
                         "value": float("nan") if value is None else value, "line": line})
    cols = ["item", "category", "value", "unit", "date", "date_end", "date_precision",
            "qualifier", "kind", "method", "source", "quote", "confidence", "note", "line"]
    return pd.DataFrame(recs, columns=cols)


# libyaml's C parser is ~10x faster than the pure-Python one on a case.yaml with many sources.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _NoDuplicatesLoader(_SafeLoader):
    """SafeLoader that refuses duplicate keys (a silent overwrite loses data)."""


def _construct_mapping(loader, node, deep=False):
    keys = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in keys:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        keys.add(key)
    return _SafeLoader.construct_mapping(loader, node, deep)


_NoDuplicatesLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _yaml_str(value) -> str | None:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _read_meta(path: Path, out: _Collector):
    text = _read_text(path, "case.yaml", out)
    if text is None:
        return None
    try:
        meta = yaml.load(text, Loader=_NoDuplicatesLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(err, "problem", None) or str(err)
        if isinstance(err, yaml.constructor.ConstructorError) and "python" in str(err):
            problem = ("a YAML tag that would build a Python object; casekit reads plain data "
                       "only and never runs anything")
        out.add("case.yaml", line, None, f"cannot read YAML: {problem}", "plain YAML data")
        return None
    if not isinstance(meta, dict):
        out.add("case.yaml", None, None, "the top level is not a mapping",
                "keys such as id, title, company, key_dates, sources")
        return None
    return meta


def _read_folder(path: Path) -> tuple[Case | None, list[Problem]]:
    out = _Collector()
    path = Path(path)
    meta = _read_meta(path, out)
    sources_df = pd.DataFrame(columns=["id", "title", "publisher", "date", "url", "note"])
    source_ids: set[str] = set()
    key_dates: dict[str, KeyDate | None] = {}
    if meta is not None:
        for key in ("id", "title", "company", "country", "language", "currency", "summary"):
            if not isinstance(meta.get(key), str) or not meta.get(key).strip():
                out.add("case.yaml", None, key, "missing or empty", "a text value")
        case_id = meta.get("id")
        if isinstance(case_id, str):
            if not CASE_ID_PATTERN.match(case_id):
                out.add("case.yaml", None, "id", f"{case_id!r} is not a valid case id",
                        "lower-case words joined by '-', e.g. united-breaks-guitars")
            elif case_id != path.resolve().name:
                out.add("case.yaml", None, "id",
                        f"id {case_id!r} does not match the folder name {path.resolve().name!r}",
                        "the folder name")
        if not isinstance(meta.get("synthetic", False), bool):
            out.add("case.yaml", None, "synthetic", "not true/false", "true or false")
        sources = meta.get("sources")
        recs = []
        if sources is None:
            sources = []
        if not isinstance(sources, list):
            out.add("case.yaml", None, "sources", "not a list", "a list of mappings")
            sources = []
        for i, s in enumerate(sources):
            where = f"sources[{i}]"
            if not isinstance(s, dict):
                out.add("case.yaml", None, where, "not a mapping", "id, title, publisher, date, url")
                continue
            sid = s.get("id")
            if not isinstance(sid, str) or not SOURCE_ID_PATTERN.match(sid):
                out.add("case.yaml", None, f"{where}.id", f"invalid source id {sid!r}",
                        "lower-case letters, digits and '-', e.g. hbs-case-510-057")
                continue
            if sid in source_ids:
                out.add("case.yaml", None, f"{where}.id", f"duplicate source id {sid!r}",
                        "each source declared once")
                continue
            for k in ("title", "publisher"):
                if not s.get(k):
                    out.add("case.yaml", None, f"{where}.{k}", f"source {sid!r} has no {k}",
                            "a text value")
            unknown = set(s) - {"id", "title", "publisher", "date", "url", "note", "accessed"}
            for k in sorted(unknown):
                out.add("case.yaml", None, f"{where}.{k}", "unknown source field",
                        "id, title, publisher, date, url, note, accessed")
            source_ids.add(sid)
            recs.append({"id": sid, "title": _yaml_str(s.get("title")),
                         "publisher": _yaml_str(s.get("publisher")),
                         "date": _yaml_str(s.get("date")), "url": _yaml_str(s.get("url")),
                         "note": _yaml_str(s.get("note"))})
        sources_df = pd.DataFrame(recs, columns=sources_df.columns)

        kds = meta.get("key_dates")
        if not isinstance(kds, dict):
            out.add("case.yaml", None, "key_dates", "missing or not a mapping",
                    "a mapping of " + ", ".join(KEY_DATES) + " (null when unknown)")
            kds = {}
        for name in KEY_DATES:
            if name not in kds:
                if isinstance(meta.get("key_dates"), dict):
                    out.add("case.yaml", None, f"key_dates.{name}", "key date is missing",
                            "a mapping, or null when the sources do not say")
                key_dates[name] = None
                continue
            kd = kds[name]
            if kd is None:
                key_dates[name] = None
                continue
            if not isinstance(kd, dict):
                out.add("case.yaml", None, f"key_dates.{name}", "not a mapping",
                        "{date: ..., precision: ..., source: ..., confidence: ...} or null")
                key_dates[name] = None
                continue
            col = f"key_dates.{name}"
            when = _check_when(_yaml_str(kd.get("date")) or "", str(kd.get("precision", "")),
                               _yaml_str(kd.get("date_end")) or "", "case.yaml", None,
                               f"{col}.date", f"{col}.date_end", out)
            sid = kd.get("source")
            for one in _split_ids(sid or ""):
                if one not in source_ids:
                    out.add("case.yaml", None, f"{col}.source", f"unknown source id {one!r}",
                            "an id declared under `sources:`")
            if not sid:
                out.add("case.yaml", None, f"{col}.source", "no source", "a declared source id")
            if kd.get("confidence") not in CONFIDENCES:
                out.add("case.yaml", None, f"{col}.confidence",
                        f"unknown confidence {kd.get('confidence')!r}", " | ".join(CONFIDENCES))
            key_dates[name] = None if not when else KeyDate(
                name=name, date=when[0], precision=str(kd.get("precision")), source=str(sid),
                confidence=str(kd.get("confidence")), date_end=when[1],
                note=_yaml_str(kd.get("note")))
        for name in kds:
            if name not in KEY_DATES:
                out.add("case.yaml", None, f"key_dates.{name}", "unknown key date",
                        ", ".join(KEY_DATES))
        origin = meta.get("origin", "going_public")
        if origin not in KEY_DATES:
            out.add("case.yaml", None, "origin", f"unknown key date {origin!r}",
                    ", ".join(KEY_DATES))

    analysis = _read_analysis(meta, out) if meta is not None else {}
    known = source_ids if meta is not None else None
    timeline = _read_timeline(path, known, out)
    reach = _read_reach(path, known, out)
    costs = _read_costs(path, known, out)
    if reach is not None and analysis.get("metric") and \
            analysis["metric"] not in set(reach["metric"]):
        out.add("case.yaml", None, "analysis.metric",
                f"metric {analysis['metric']!r} has no rows in reach.csv",
                "one of: " + ", ".join(sorted(set(reach["metric"]))))
    if out.problems or meta is None:
        return None, out.problems
    case = Case(
        id=meta["id"], title=meta["title"], company=meta["company"],
        customer=_yaml_str(meta.get("customer")), country=meta["country"],
        language=meta["language"], currency=meta["currency"],
        timezone=str(meta.get("timezone") or "UTC"), summary=" ".join(meta["summary"].split()),
        synthetic=bool(meta.get("synthetic", False)),
        origin_key=meta.get("origin", "going_public"),
        key_dates=MappingProxyType(key_dates), path=path.resolve(),
        analysis=_freeze(analysis),
        _sources=sources_df, _timeline=timeline, _reach=reach, _costs=costs,
    )
    return case, []


ANALYSIS_LOSSES = ("ols", "log", "robust", "robust_log")


def _read_analysis(meta: dict, out: _Collector) -> dict[str, Any]:
    """The optional ``analysis:`` block: defaults a case's author chose for its analysis."""
    block = meta.get("analysis")
    if block is None:
        return {}
    if not isinstance(block, dict):
        out.add("case.yaml", None, "analysis", "not a mapping",
                "keys metric, loss, curves, waves, market")
        return {}
    result: dict[str, Any] = {}
    for key, value in block.items():
        col = f"analysis.{key}"
        if key == "metric":
            if not isinstance(value, str) or not METRIC_PATTERN.match(value):
                out.add("case.yaml", None, col, f"{value!r} is not a metric name",
                        "a snake_case metric of reach.csv")
                continue
        elif key == "loss":
            if value not in ANALYSIS_LOSSES:
                out.add("case.yaml", None, col, f"unknown loss {value!r}",
                        " | ".join(ANALYSIS_LOSSES))
                continue
        elif key == "curves":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                out.add("case.yaml", None, col, "not a list of curve names",
                        "e.g. [logistic, gompertz, bass]")
                continue
        elif key == "waves":
            ok = isinstance(value, list) and all(
                isinstance(w, list) and len(w) >= 2 for w in value)
            if not ok:
                out.add("case.yaml", None, col, "not a list of anchor lists",
                        "e.g. [[null, null], [null, 2009-08-18]]: one list per multi-wave "
                        "curve, one anchor (null, a date, days or an event kind) per wave")
                continue
            value = [[_yaml_str(a) if hasattr(a, "isoformat") else a for a in w]
                     for w in value]
        elif key == "market":
            ok = (isinstance(value, dict) and isinstance(value.get("ticker"), str)
                  and set(value) <= {"ticker", "index", "peers"}
                  and isinstance(value.get("index", ""), str)
                  and isinstance(value.get("peers", []), list)
                  and all(isinstance(p, str) for p in value.get("peers", [])))
            if not ok:
                out.add("case.yaml", None, col, "not a market mapping",
                        "{ticker: UAL, index: GSPC, peers: [DAL, LUV]}")
                continue
        else:
            out.add("case.yaml", None, col, "unknown analysis key",
                    "metric, loss, curves, waves, market")
            continue
        result[key] = value
    return result


def _freeze(value):
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _plain(value):
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------
# scaffolding
# ---------------------------------------------------------------------------

_TEMPLATE_YAML = """\
# casekit case metadata. The format: datasets/README.md in the casekit repository.
# Fill in every field; leave a key date null when no source gives it. Never guess.
id: {case_id}
title: "{title}"                  # a short name for the story
company: "TODO: the company the complaint was about"
customer: null                    # the complainant, if public
country: "TODO"                   # ISO 3166 alpha-2, e.g. US, GB, DE
language: en                      # ISO 639-1 of most sources
currency: USD                     # ISO 4217 of most money figures
timezone: UTC                     # zone of clock times when a source does not say
synthetic: false
origin: going_public              # key date used as t = 0 for reach curves
summary: >
  TODO: one paragraph in your own words: what happened, who complained, how it went public.
key_dates:                        # each: null, or {{date, precision, source, confidence, note}}
  incident: null
  first_complaint: null
  going_public: null
  first_response: null
  resolution: null
sources: []                       # each: {{id, title, publisher, date, url, note}}
#  - id: example-news-2024-01-31
#    title: "Headline of the article"
#    publisher: Example News
#    date: 2024-01-31
#    url: https://example.org/article
"""

_TEMPLATE_README = """\
# {case_id}

Scaffolded by `casekit new`. To fill it in:

1. `case.yaml`: metadata, the five key dates (null when unknown) and every source you cite.
2. `timeline.csv`: one row per dated event (columns in datasets/README.md).
3. `reach.csv`: one row per reach figure, with the source's own words in `quote`.
   Conflicting figures are separate rows; never average or round them.
4. `costs.csv`: remedies, offers, claimed losses, sponsorship values ...

Check your work with `casekit validate {path}`; fit it with `casekit.reach` once reach.csv has
at least as many observations of one metric as the curve has parameters.
"""


def new_case(case_id: str, directory: str | os.PathLike = ".") -> Path:
    """Write an empty, valid case folder ``directory/case_id`` and return its path.

    Examples
    --------
    >>> import tempfile, casekit as ck
    >>> path = ck.new_case("my-case", tempfile.mkdtemp())
    >>> ck.validate(path)
    []
    """
    if not CASE_ID_PATTERN.match(case_id):
        raise CaseNotFoundError(
            f"{case_id!r} is not a valid case id: use lower-case words joined by '-', "
            f"e.g. 'acme-broken-kettle'")
    target = Path(directory) / case_id
    if target.exists():
        raise FileExistsError(f"{target} already exists; choose another id or directory")
    target.mkdir(parents=True)
    title = case_id.replace("-", " ").capitalize()
    (target / "case.yaml").write_text(_TEMPLATE_YAML.format(case_id=case_id, title=title),
                                      encoding="utf-8")
    for name, cols in (("timeline.csv", TIMELINE_COLUMNS), ("reach.csv", REACH_COLUMNS),
                       ("costs.csv", COSTS_COLUMNS)):
        (target / name).write_text(",".join(cols) + "\n", encoding="utf-8")
    (target / "README.md").write_text(
        _TEMPLATE_README.format(case_id=case_id, path=target), encoding="utf-8")
    return target


def _html(text: str) -> str:
    import html

    return html.escape(str(text))
