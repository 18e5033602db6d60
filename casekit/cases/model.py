"""What a case is: :class:`Case`, :class:`KeyDate`, :class:`CaseContext` and
:class:`SourceList` (the vocabularies of the format are in :mod:`casekit.cases.vocab`
and importable from here too).

Examples
--------
>>> from casekit.cases import CONFIDENCES, KEY_DATES
>>> KEY_DATES[2], CONFIDENCES[0]
('going_public', 'high')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from casekit import format as fmt
from casekit.cases.vocab import (  # noqa: F401 - re-exported: the vocabularies live in vocab
    _FILES,
    ACTORS,
    CASE_ID_PATTERN,
    CLAIM_COLUMNS,
    CLAIM_FIELDS,
    COMPANY_KINDS,
    CONFIDENCES,
    COST_CATEGORIES,
    COSTS_COLUMNS,
    CURRENCY_PATTERN,
    DATA_ENV,
    EVENT_KINDS,
    FIGURE_KINDS,
    INDICATOR_FRAME_COLUMNS,
    INDICATORS_COLUMNS,
    KEY_DATES,
    MAX_FILE_BYTES,
    METRIC_PATTERN,
    OPTIONAL_FILES,
    PRECISIONS,
    QUALIFIERS,
    REACH_COLUMNS,
    REACH_FRAME_COLUMNS,
    RESPONSE_KINDS,
    SOURCE_ID_PATTERN,
    TIMELINE_COLUMNS,
)
from casekit.exceptions import ParameterError
from casekit.results import register


def _split_ids(value: str) -> list[str]:
    value = str(value)
    if ";" not in value:  # the common case, once per row of every file
        value = value.strip()
        return [value] if value else []
    return [s.strip() for s in value.split(";") if s.strip()]


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


@dataclass(frozen=True, eq=False)
class CaseContext:
    """What an analysis needs to know about the case its data came from.

    A fit carries one, so later steps (delays, the delay cost, reach while waiting)
    use the dates of the case the caller loaded, never a copy read again from disk.

    Attributes
    ----------
    id : str
        The case id.
    path : str or None
        The case folder.
    origin_key : str
        The key date that is t = 0.
    key_dates : Mapping[str, KeyDate | None]
        The five key dates.
    responses : pandas.DataFrame
        The company's responses from the timeline (kinds in :data:`RESPONSE_KINDS`):
        ``date, date_precision, date_end, kind, description, source``, by date.
    currency, timezone : str
        From ``case.yaml``.
    synthetic : bool
        True for made-up example data.

    Examples
    --------
    >>> import casekit as ck
    >>> ctx = ck.load_case("synthetic-example").context
    >>> ctx.origin, ctx.key_date("first_response")
    (Timestamp('2024-03-04 00:00:00'), Timestamp('2024-03-08 00:00:00'))
    """

    id: str
    path: str | None
    origin_key: str
    key_dates: Mapping[str, KeyDate | None]
    responses: pd.DataFrame
    currency: str = "USD"
    timezone: str = "UTC"
    synthetic: bool = False

    @property
    def origin(self) -> pd.Timestamp | None:
        """The date of t = 0, or None when that key date is unknown."""
        kd = self.key_dates.get(self.origin_key)
        return None if kd is None else kd.date

    def key_date(self, name: str) -> pd.Timestamp | None:
        """The date of key date ``name``, or None if unknown."""
        kd = self.key_dates.get(name)
        return None if kd is None else kd.date


register(KeyDate)
register(CaseContext)


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
        market, classroom); analysis functions use them when a caller leaves the
        choice open.
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
    _claims: pd.DataFrame = field(repr=False)
    _indicators: pd.DataFrame | None = field(repr=False, default=None)

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
        """All reach observations, every source and kind, sorted by time.

        Columns are :data:`REACH_FRAME_COLUMNS`. ``period`` is the text of the row's
        period (empty when none is given) and ``period_days`` its length in days: NaN
        for running totals and for per-period counts that state no period.
        """
        return self._reach.copy()

    @property
    def indicators(self) -> pd.DataFrame:
        """Non-reach indicators (``indicators.csv``): sentiment shares, brand scores ...

        Columns are :data:`INDICATOR_FRAME_COLUMNS`; ``scale_min`` and ``scale_max`` are
        the bounds of the row's ``scale`` (NaN when it states none). Empty, with these
        columns, when the case has no ``indicators.csv``.

        Examples
        --------
        >>> import casekit as ck
        >>> ind = ck.load_case("synthetic-example").indicators
        >>> ind.empty, ind.columns.tolist()[:4]
        (True, ['time', 'time_end', 'time_precision', 'indicator'])
        """
        if self._indicators is None:
            return pd.DataFrame(
                {
                    c: pd.Series(dtype=_INDICATOR_DTYPES.get(c, object))
                    for c in INDICATOR_FRAME_COLUMNS
                }
            )
        return self._indicators.copy()

    @property
    def costs(self) -> pd.DataFrame:
        """Money and other quantified items."""
        return self._costs.copy()

    @property
    def claims(self) -> pd.DataFrame:
        """Claims made about the case (the ``claims:`` list of ``case.yaml``), one row each.

        Columns are :data:`CLAIM_COLUMNS`: ``id, claim, by, date, date_precision, source,
        quote, confidence, price_change_pct, value_change, currency, window, note, line``.
        ``date`` is NaT when the claim is undated and ``date_precision`` (year, month, day
        or hour) says how exact it is; ``price_change_pct`` (a fall is negative) and
        ``value_change`` (a loss is negative, in ``currency``) are NaN when the claim gives
        none; ``window`` is a ``(t1, t2)`` tuple of trading days or None; ``line`` is the
        claim's line in case.yaml. Empty, with these columns, when the case lists no claims.

        Examples
        --------
        >>> import casekit as ck
        >>> ck.load_case("synthetic-example").claims.columns.tolist()[:4]
        ['id', 'claim', 'by', 'date']
        """
        return self._claims.copy()

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

    @property
    def context(self) -> CaseContext:
        """The facts later analysis steps need (id, folder, key dates, responses)."""
        tl = self._timeline
        resp = tl[(tl["actor"] == "company") & tl["kind"].isin(RESPONSE_KINDS)]
        cols = ["date", "date_precision", "date_end", "kind", "description", "source"]
        return CaseContext(
            id=self.id,
            path=str(self.path),
            origin_key=self.origin_key,
            key_dates=dict(self.key_dates),
            responses=resp[cols].reset_index(drop=True),
            currency=self.currency,
            timezone=self.timezone,
            synthetic=self.synthetic,
        )

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
            time_precision, quote, note, line, period_days``, sorted by time.
            ``period_days`` is the length of a per-period count's period in days (NaN for
            running totals, and where the row states no period). Conflicting rows from
            different sources are all kept.
        """
        if metric not in set(self._reach["metric"]):
            raise KeyError(
                f"case {self.id!r} has no reach metric {metric!r}; "
                f"it has: {', '.join(self.metrics) or '(none)'}"
            )
        if min_confidence not in CONFIDENCES:
            raise ParameterError(
                f"min_confidence must be one of {CONFIDENCES}, not {min_confidence!r}"
            )
        kinds = tuple(kinds)
        bad = [k for k in kinds if k not in FIGURE_KINDS]
        if bad:
            raise ParameterError(f"unknown kind(s) {bad}; expected some of {FIGURE_KINDS}")
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
        cols = [
            "time",
            "t",
            "value",
            "qualifier",
            "kind",
            "cumulative",
            "source",
            "confidence",
            "time_precision",
            "quote",
            "note",
            "line",
            "period_days",
        ]
        return df[cols].sort_values(["time", "line"]).reset_index(drop=True)

    def with_reach(self, rows, source: Mapping[str, Any] | str) -> Case:
        """A new case with ``rows`` added to its reach, and ``source`` declared.

        The rows are validated as reach.csv rows are (every problem at once, each with its
        row and column); they must cite ``source`` or another declared source. The case
        itself is not changed.

        Parameters
        ----------
        rows : pandas.DataFrame or list of dict
            Reach rows in the columns of reach.csv (``time`` may be a timestamp; a
            ``period_days`` number may stand in for ``period``).
        source : mapping or str
            A ``sources:`` entry (``id``, ``title``, ``publisher``, optional ``date``,
            ``url``, ``note``; other keys are ignored), for example the provenance that
            :meth:`casekit.events.EventLog.attach` returns; or the id of a source the case
            declares already.

        Returns
        -------
        Case

        Raises
        ------
        CaseValidationError
            A row or the source entry has problems; ``err.problems`` lists them all.

        Examples
        --------
        >>> import casekit as ck
        >>> case = ck.load_case("synthetic-example")
        >>> log = ck.events.load(ck.events.EXAMPLE_LOG, time="time", id="id", tz="Europe/London")
        >>> rows, prov = log.attach(case, metric="posts_log")
        >>> bigger = case.with_reach(rows, prov)
        >>> "posts_log" in bigger.metrics, "posts_log" in case.metrics
        (True, False)
        """
        from casekit.cases.extend import _with_reach

        return _with_reach(self, rows, source)

    def cite(self, source_ids: str | Iterable[str]) -> pd.DataFrame:
        """The declared sources behind ``source_ids`` (a ``;``-separated string or a list)."""
        ids = _split_ids(source_ids) if isinstance(source_ids, str) else list(source_ids)
        return self._sources[self._sources["id"].isin(ids)].copy()

    def source_list(self) -> SourceList:
        """Every declared source, in full, as a numbered reference list.

        Displays as HTML in a notebook (nothing truncated, unlike a long DataFrame) and
        as plain text with ``str()``.

        Examples
        --------
        >>> import casekit as ck
        >>> print(str(ck.load_case("synthetic-example").source_list()).splitlines()[0])
        1. [synthetic-timeline] Made-up timeline of the synthetic example. casekit, 2024-03-04.
        (synthetic; written by hand for tests)
        """
        return SourceList(tuple(self._sources.itertuples(index=False)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able metadata, claims and row counts (not the tables)."""
        return {
            "id": self.id,
            "title": self.title,
            "company": self.company,
            "customer": self.customer,
            "country": self.country,
            "language": self.language,
            "currency": self.currency,
            "timezone": self.timezone,
            "synthetic": self.synthetic,
            "summary": self.summary,
            "origin": self.origin_key,
            "path": str(self.path),
            "key_dates": {
                k: None
                if v is None
                else {
                    "date": v.date.isoformat(),
                    "precision": v.precision,
                    "source": v.source,
                    "confidence": v.confidence,
                    "note": v.note,
                    "date_end": None if v.date_end is None else v.date_end.isoformat(),
                }
                for k, v in self.key_dates.items()
            },
            "analysis": _plain(self.analysis),
            "claims": [_claim_dict(r) for r in self._claims.to_dict("records")],
            "n_sources": len(self._sources),
            "n_timeline": len(self._timeline),
            "n_reach": len(self._reach),
            "n_costs": len(self._costs),
            "n_indicators": 0 if self._indicators is None else len(self._indicators),
        }

    def __repr__(self) -> str:
        flag = " synthetic" if self.synthetic else ""
        return (
            f"<casekit.Case {self.id!r}{flag}: {len(self._timeline)} events, "
            f"{len(self._reach)} reach rows, {len(self._costs)} cost rows, "
            f"{len(self._sources)} sources>"
        )

    def _repr_html_(self) -> str:
        kd = pd.DataFrame(
            [
                (
                    k,
                    fmt.date(
                        None if v is None else v.date,
                        "day" if v is None else v.precision,
                        None if v is None else v.date_end,
                    ),
                    "" if v is None else v.precision,
                    "" if v is None else v.source,
                )
                for k, v in self.key_dates.items()
            ],
            columns=["key date", "date", "precision", "source"],
        )
        synthetic = " <b>(synthetic example data)</b>" if self.synthetic else ""
        return (
            f"<h4>{fmt.html_text(self.title)}{synthetic}</h4>"
            f"<p>{fmt.html_text(self.summary)}</p>" + kd.to_html(index=False)
        )


_INDICATOR_DTYPES = {
    "time": "datetime64[us]",
    "time_end": "datetime64[us]",
    "value": float,
    "scale_min": float,
    "scale_max": float,
    "line": int,
}


def _claim_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    """One claim as JSON-able values (no NaN, no timestamps, no tuples)."""
    out = {}
    for k, v in row.items():
        if k == "line":
            continue
        if isinstance(v, tuple):
            v = list(v)
        elif fmt.is_missing(v):
            v = None
        elif isinstance(v, pd.Timestamp):
            v = v.isoformat()
        out[k] = v
    return out


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
            lines.append(
                f"{i}. {text}" + (f" {url}" if url else "") + (f" ({note})" if note else "")
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        items = []
        for r in self.rows:
            text, url, note = self._parts(r)
            link = f" {fmt.html_link(url, url)}" if url else ""
            items.append(
                f"<li>{fmt.html_text(text)}{link}"
                + (f" <i>({fmt.html_text(note)})</i>" if note else "")
                + "</li>"
            )
        return f"<ol>{''.join(items)}</ol>"
