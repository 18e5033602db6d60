"""Reading and validating a whole case folder in one pass.

:func:`_read_folder` reads ``case.yaml`` (metadata, sources, key dates, the
``analysis`` block and the ``claims`` list) and the CSV files (``indicators.csv`` only
when it exists), collects every problem it finds, and builds a
:class:`~casekit.cases.Case` only when there are none.

Examples
--------
>>> from casekit.cases.catalog import _resolve
>>> case, problems = _read_folder(_resolve("synthetic-example"))
>>> case.id, problems
('synthetic-example', [])
"""

from __future__ import annotations

import difflib
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from casekit.cases.analysis_block import _read_analysis
from casekit.cases.claims import _read_claims
from casekit.cases.indicators import _read_indicators
from casekit.cases.model import (
    CASE_ID_PATTERN,
    CONFIDENCES,
    KEY_DATES,
    SOURCE_ID_PATTERN,
    Case,
    KeyDate,
    _freeze,
    _split_ids,
)
from casekit.cases.places import TIMEZONE_EXPECTED, _country_problem, _timezone_problem
from casekit.cases.readers import (
    _check_when,
    _Collector,
    _read_costs,
    _read_reach,
    _read_timeline,
)
from casekit.cases.yaml_loader import _line, _read_meta, _yaml_str
from casekit.exceptions import Problem

SOURCE_COLUMNS = ("id", "title", "publisher", "date", "url", "note")
_SOURCE_KEYS = {"id", "title", "publisher", "date", "url", "note", "accessed"}


CASE_KEYS = (
    "id",
    "title",
    "company",
    "customer",
    "country",
    "language",
    "currency",
    "timezone",
    "synthetic",
    "origin",
    "summary",
    "key_dates",
    "sources",
    "analysis",
    "claims",
)
"""The top-level keys of ``case.yaml``; any other is a problem (``synthetc: true`` would
otherwise present a synthetic case as real)."""
KEY_DATE_FIELDS = ("date", "precision", "date_end", "source", "confidence", "note")

# What to write in place of a placeholder of `casekit new` ("TODO ...").
_FILL_IN = {
    "title": "a short name for the story",
    "company": "the company the complaint was about",
    "customer": "the complainant if public, or null",
    "country": "the ISO 3166-1 alpha-2 code of the company's market in the story, e.g. US, GB",
    "language": "the ISO 639-1 code of most sources, e.g. en, de",
    "currency": "the ISO 4217 code of most money figures, e.g. USD, EUR",
    "timezone": "the IANA time zone of clock times, e.g. Europe/London",
    "summary": "one paragraph in your own words: what happened, who complained, how it went public",
}


def _unknown_keys(mapping: dict, allowed, where: str, what: str, out: _Collector) -> None:
    """A problem for each key of ``mapping`` not in ``allowed``, with the nearest allowed one."""
    for key in mapping:
        if key in allowed:
            continue
        near = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.7)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        out.add(
            "case.yaml",
            _line(mapping, key),
            f"{where}{key}",
            f"unknown {what}{hint}",
            "one of: " + ", ".join(allowed),
        )


def _is_placeholder(value) -> bool:
    return isinstance(value, str) and value.strip().upper().startswith("TODO")


def _check_head(meta: dict, path: Path, out: _Collector) -> None:
    """The top-level keys and text fields, the id against the folder name, ``synthetic``."""
    _unknown_keys(meta, CASE_KEYS, "", "key", out)
    for key in ("id", "title", "company", "country", "language", "currency", "summary"):
        if not isinstance(meta.get(key), str) or not meta.get(key).strip():
            out.add("case.yaml", None, key, "missing or empty", "a text value")
    for key in _FILL_IN:
        if _is_placeholder(meta.get(key)):
            out.add(
                "case.yaml",
                _line(meta, key),
                key,
                "not filled in: still the placeholder of `casekit new`",
                _FILL_IN[key],
            )
    country = meta.get("country")
    if isinstance(country, str) and country.strip() and not _is_placeholder(country):
        problem = _country_problem(country)
        if problem is not None:
            out.add("case.yaml", _line(meta, "country"), "country", *problem)
    timezone = meta.get("timezone")
    if timezone is not None and not isinstance(timezone, str):
        out.add(
            "case.yaml", _line(meta, "timezone"), "timezone", "not a text value", TIMEZONE_EXPECTED
        )
    elif isinstance(timezone, str) and not _is_placeholder(timezone):
        problem = _timezone_problem(timezone)
        if problem is not None:
            out.add("case.yaml", _line(meta, "timezone"), "timezone", *problem)
    case_id = meta.get("id")
    if isinstance(case_id, str):
        if not CASE_ID_PATTERN.match(case_id):
            out.add(
                "case.yaml",
                None,
                "id",
                f"{case_id!r} is not a valid case id",
                "lower-case words joined by '-', e.g. acme-broken-kettle",
            )
        elif case_id != path.resolve().name:
            out.add(
                "case.yaml",
                None,
                "id",
                f"id {case_id!r} does not match the folder name {path.resolve().name!r}",
                "the folder name",
            )
    if not isinstance(meta.get("synthetic", False), bool):
        out.add("case.yaml", None, "synthetic", "not true/false", "true or false")


def _read_sources(meta: dict, out: _Collector) -> tuple[pd.DataFrame, set[str]]:
    """The ``sources:`` list as a table, and the set of declared ids."""
    sources = meta.get("sources")
    recs, source_ids = [], set()
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
            out.add(
                "case.yaml",
                None,
                f"{where}.id",
                f"invalid source id {sid!r}",
                "lower-case letters, digits and '-', e.g. example-news-2024-01-31",
            )
            continue
        if sid in source_ids:
            out.add(
                "case.yaml",
                None,
                f"{where}.id",
                f"duplicate source id {sid!r}",
                "each source declared once",
            )
            continue
        for k in ("title", "publisher"):
            if not s.get(k):
                out.add(
                    "case.yaml", None, f"{where}.{k}", f"source {sid!r} has no {k}", "a text value"
                )
        for k in sorted(set(s) - _SOURCE_KEYS):
            out.add(
                "case.yaml",
                None,
                f"{where}.{k}",
                "unknown source field",
                "id, title, publisher, date, url, note, accessed",
            )
        source_ids.add(sid)
        recs.append(
            {
                "id": sid,
                "title": _yaml_str(s.get("title")),
                "publisher": _yaml_str(s.get("publisher")),
                "date": _yaml_str(s.get("date")),
                "url": _yaml_str(s.get("url")),
                "note": _yaml_str(s.get("note")),
            }
        )
    return pd.DataFrame(recs, columns=list(SOURCE_COLUMNS)), source_ids


def _read_key_dates(
    meta: dict, source_ids: set[str], out: _Collector, tz: str | None = None
) -> dict[str, KeyDate | None]:
    """The five key dates (None where unknown or unreadable); times with a UTC offset are
    converted to zone ``tz``."""
    key_dates: dict[str, KeyDate | None] = {}
    kds = meta.get("key_dates")
    if not isinstance(kds, dict):
        out.add(
            "case.yaml",
            None,
            "key_dates",
            "missing or not a mapping",
            "a mapping of " + ", ".join(KEY_DATES) + " (null when unknown)",
        )
        kds = {}
    for name in KEY_DATES:
        if name not in kds:
            if isinstance(meta.get("key_dates"), dict):
                out.add(
                    "case.yaml",
                    None,
                    f"key_dates.{name}",
                    "key date is missing",
                    "a mapping, or null when the sources do not say",
                )
            key_dates[name] = None
            continue
        kd = kds[name]
        if kd is None:
            key_dates[name] = None
            continue
        if not isinstance(kd, dict):
            out.add(
                "case.yaml",
                None,
                f"key_dates.{name}",
                "not a mapping",
                "{date: ..., precision: ..., source: ..., confidence: ...} or null",
            )
            key_dates[name] = None
            continue
        col = f"key_dates.{name}"
        _unknown_keys(kd, KEY_DATE_FIELDS, f"{col}.", "key-date field", out)
        when = _check_when(
            _yaml_str(kd.get("date")) or "",
            str(kd.get("precision", "")),
            _yaml_str(kd.get("date_end")) or "",
            "case.yaml",
            _line(kd, "date"),
            f"{col}.date",
            f"{col}.date_end",
            out,
            tz,
        )
        sid = kd.get("source")
        for one in _split_ids(sid or ""):
            if one not in source_ids:
                out.add(
                    "case.yaml",
                    None,
                    f"{col}.source",
                    f"unknown source id {one!r}",
                    "an id declared under `sources:`",
                )
        if not sid:
            out.add("case.yaml", None, f"{col}.source", "no source", "a declared source id")
        if kd.get("confidence") not in CONFIDENCES:
            out.add(
                "case.yaml",
                None,
                f"{col}.confidence",
                f"unknown confidence {kd.get('confidence')!r}",
                " | ".join(CONFIDENCES),
            )
        key_dates[name] = (
            None
            if not when
            else KeyDate(
                name=name,
                date=pd.Timestamp(when[0]),
                precision=str(kd.get("precision")),
                source=str(sid),
                confidence=str(kd.get("confidence")),
                date_end=None if when[1] is None else pd.Timestamp(when[1]),
                note=_yaml_str(kd.get("note")),
            )
        )
    for name in kds:
        if name not in KEY_DATES:
            out.add(
                "case.yaml", None, f"key_dates.{name}", "unknown key date", ", ".join(KEY_DATES)
            )
    origin = meta.get("origin", "going_public")
    if origin not in KEY_DATES:
        out.add("case.yaml", None, "origin", f"unknown key date {origin!r}", ", ".join(KEY_DATES))
    return key_dates


def _case_zone(meta: dict) -> str | None:
    """The case's time zone when it is a valid one (else None: its problem is reported)."""
    tz = meta.get("timezone") or "UTC"
    return tz if isinstance(tz, str) and _timezone_problem(tz) is None else None


def _read_folder(path: Path) -> tuple[Case | None, list[Problem]]:
    """The case in folder ``path`` and no problems, or None and every problem found."""
    out = _Collector()
    path = Path(path)
    meta = _read_meta(path, out)
    sources_df = pd.DataFrame(columns=list(SOURCE_COLUMNS))
    source_ids: set[str] | None = None
    key_dates: dict[str, KeyDate | None] = {}
    analysis: dict = {}
    claims = None
    tz = None
    if meta is not None:
        _check_head(meta, path, out)
        tz = _case_zone(meta)
        sources_df, source_ids = _read_sources(meta, out)
        key_dates = _read_key_dates(meta, source_ids, out, tz)
        analysis = _read_analysis(meta, out)
        claims = _read_claims(meta, source_ids, meta.get("currency"), out)
    # source_ids is None when case.yaml is unreadable: the CSVs then skip the source check
    timeline = _read_timeline(path, source_ids, out, tz)
    reach = _read_reach(path, source_ids, out, tz)
    costs = _read_costs(path, source_ids, out, tz)
    indicators = _read_indicators(path, source_ids, out, tz)
    if (
        reach is not None
        and analysis.get("metric")
        and analysis["metric"] not in set(reach["metric"])
    ):
        metrics = sorted(set(reach["metric"]))
        out.add(
            "case.yaml",
            None,
            "analysis.metric",
            f"metric {analysis['metric']!r} has no rows in reach.csv",
            "one of: " + ", ".join(metrics)
            if metrics
            else "rows of it in reach.csv, which has none yet (or no analysis.metric)",
        )
    if out.problems or meta is None:
        return None, out.problems
    case = Case(
        id=meta["id"],
        title=meta["title"],
        company=meta["company"],
        customer=_yaml_str(meta.get("customer")),
        country=meta["country"],
        language=meta["language"],
        currency=meta["currency"],
        timezone=str(meta.get("timezone") or "UTC"),
        summary=" ".join(meta["summary"].split()),
        synthetic=bool(meta.get("synthetic", False)),
        origin_key=meta.get("origin", "going_public"),
        key_dates=MappingProxyType(key_dates),
        path=path.resolve(),
        analysis=_freeze(analysis),
        _sources=sources_df,
        _timeline=timeline,
        _reach=reach,
        _costs=costs,
        _claims=claims,
        _indicators=indicators,
    )
    return case, []
