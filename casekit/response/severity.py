"""Severity: the case on the Shitstorm scale (0-6), day by day, beside the response."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.cases import Case
from casekit.exceptions import InsufficientDataError, ParameterError
from casekit.response._common import DAY, StoredResult, check_case, check_count, settings_block
from casekit.results import Result

__all__ = [
    "SEVERITY_LEVELS",
    "REACH_UNITS",
    "SEVERITY_THRESHOLDS",
    "Severity",
    "severity",
    "level_from_indicators",
]

SEVERITY_LEVELS: dict[int, str] = {
    0: "no criticism, no media echo",
    1: "isolated criticism",
    2: "repeated criticism by individuals, weak community reaction, no media",
    3: (
        "persistent criticism, growing community reaction, more channels, first media/blog articles"
    ),
    4: (
        "protest groups form, growing echo on all channels, first print articles, many online "
        "reports"
    ),
    5: "protest takes campaign form, critics become the majority",
    6: "'unbraked snowball', aggressive tone, intensive coverage in all media",
}
"""The Shitstorm-Skala (Graf & Schwede 2012) [L7] as transcribed in methods.md §4.7."""

REACH_UNITS = (
    "views",
    "supporters",
    "likes",
    "members",
    "posts",
    "responses",
    "upvotes",
    "shares",
    "comments",
    "signatures",
    "mentions",
    "tweets",
    "retweets",
)
"""Units counted as community reaction to the story (not outlet readership, not followers)."""

_PRESS_NAME = re.compile(r"news|stor(y|ies)|article|coverage|interview|press|outlet", re.I)
_PRESS_UNITS = ("stories", "articles", "interviews", "outlets")
_ORGANISED = re.compile(r"group|petition|protest|boycott|campaign", re.I)
_CRITICISM_KINDS = ("complaint", "escalation", "publication")

SEVERITY_THRESHOLDS = {
    "community": 1_000,
    "many_reports": 100_000,
    "mass": 1_000_000,
    "press_wide": 10,
    "press_intense": 100,
}
"""Thresholds of the severity rules (reach in counted units, press in items)."""


def _check_thresholds(thresholds: Mapping[str, float] | None) -> dict[str, float]:
    """The thresholds with the defaults filled in, or ParameterError."""
    if thresholds is None:
        return dict(SEVERITY_THRESHOLDS)
    if not isinstance(thresholds, Mapping):
        raise ParameterError(f"thresholds must be a mapping, not {type(thresholds).__name__}")
    unknown = set(thresholds) - set(SEVERITY_THRESHOLDS)
    if unknown:
        raise ParameterError(
            f"unknown severity thresholds {sorted(unknown)}; known: "
            f"{', '.join(SEVERITY_THRESHOLDS)}"
        )
    for k, v in thresholds.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not v >= 0:
            raise ParameterError(f"threshold {k} must be a number >= 0, not {v!r}")
    return {**SEVERITY_THRESHOLDS, **thresholds}


def _thresholds_text(th: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={fmt.number(v)}" for k, v in th.items())


def level_from_indicators(
    criticism: int,
    public: bool,
    reach: float,
    press: int,
    organised: bool,
    thresholds: Mapping[str, float] | None = None,
) -> int:
    """Shitstorm level (0-6) from cumulative indicators; the rules of :func:`severity`.

    Examples
    --------
    >>> import casekit as ck
    >>> ck.response.level_from_indicators(2, False, 0, 0, False)
    2
    >>> ck.response.level_from_indicators(3, True, 2_000_000, 446, False)
    6
    """
    th = _check_thresholds(thresholds)
    level = 0
    if criticism >= 1:
        level = 1
    if criticism >= 2 or (public and criticism >= 1 and press == 0 and reach < th["community"]):
        level = 2
    if public and (press >= 1 or reach >= th["community"]):
        level = 3
    r4 = (
        public
        and press >= 1
        and (organised or reach >= th["many_reports"] or press >= th["press_wide"])
    )
    if r4:
        level = 4
    r5 = r4 and (reach >= th["mass"] or (organised and press >= th["press_wide"]))
    if r5:
        level = 5
    if r5 and reach >= th["mass"] and press >= th["press_intense"]:
        level = 6
    return level


@dataclass(frozen=True, repr=False, eq=False)
class Severity(StoredResult, Result):
    """Shitstorm-scale label of a case over time (see :func:`severity`).

    Attributes
    ----------
    level : int
        Level reached by the end of the observed period (0-6).
    label : str
        Its description (:data:`SEVERITY_LEVELS`).
    level_at_response : int or None
        Level on the day of the first response.
    table : pandas.DataFrame
        One row per day: ``date, level, criticism, public, reach, press, organised,
        channels``. Levels never fall: the indicators are cumulative.
    params : pandas.Series
        ``level`` and ``level_at_response`` (None when the response is not dated).
    thresholds : dict
        The thresholds of the rules, as used.
    """

    title: ClassVar[str] = "Severity (Shitstorm scale 0-6)"

    case_id: str
    level: int
    level_at_response: int | None
    first_response: pd.Timestamp | None
    _table: pd.DataFrame
    _settings: dict[str, Any]
    thresholds: dict[str, float] = field(default_factory=lambda: dict(SEVERITY_THRESHOLDS))

    @property
    def label(self) -> str:
        return SEVERITY_LEVELS[self.level]

    @property
    def params(self) -> pd.Series:
        return pd.Series(
            {"level": self.level, "level_at_response": self.level_at_response},
            dtype=object,
            name="level",
        )

    @property
    def summary(self) -> pd.DataFrame:
        """The days on which the level changed."""
        t = self._table
        return t[t["level"].diff().fillna(t["level"]) != 0].reset_index(drop=True)

    def __str__(self) -> str:
        lines = [f"Severity of case {self.case_id!r}: level {self.level} of 6 ({self.label})."]
        for _, r in self.summary.iterrows():
            lines.append(f"- from {fmt.date(r['date'])}: level {r['level']}")
        if self.level_at_response is not None:
            lines.append(
                f"At the first response ({fmt.date(self.first_response)}) the level was "
                f"{self.level_at_response}."
            )
        else:
            lines.append("The first response is not dated.")
        lines.append(
            "An ordinal label from heuristic rules (see severity()); tone is not measured."
        )
        return "\n".join(lines) + "\n" + settings_block(self.settings)

    def plot(self, **kwargs):
        """Level over time beside the response date (:func:`casekit.plots.severity_plot`)."""
        from casekit.plots import severity_plot

        return severity_plot(self, **kwargs)


def severity(
    case: Case, *, days_after: int = 60, thresholds: Mapping[str, float] | None = None
) -> Severity:
    """Label a case on the Shitstorm scale (0-6) day by day, beside the response date.

    Indicators, cumulative up to and including each day D:

    ============ ==================================================================
    criticism    timeline rows by the customer or the public of kind complaint,
                 escalation or publication dated <= D
    public       going_public <= D
    reach        largest count of community reaction so far: cumulative reach metrics
                 in :data:`REACH_UNITS` (max reading) and per-day counts in those
                 units (running sum); observed/reported rows, confidence low or
                 better; outlet readership, followers and claims are not counted
    press        max(timeline rows by actor media, largest press-count metric such
                 as news_stories)
    organised    a reach metric whose name says group, petition, protest, boycott or
                 campaign has a reading <= D
    ============ ==================================================================

    Rules (the level is the highest whose rule holds; thresholds in
    :data:`SEVERITY_THRESHOLDS`):

    ===== ===========================================================================
    level rule
    ===== ===========================================================================
    0     no criticism
    1     criticism >= 1
    2     criticism >= 2, or public with criticism but press = 0 and reach < 1,000
    3     public and (press >= 1 or reach >= 1,000)
    4     public and press >= 1 and (organised or reach >= 100,000 or press >= 10)
    5     rule 4 and (reach >= 1,000,000 or (organised and press >= 10))
    6     rule 5 and reach >= 1,000,000 and press >= 100
    ===== ===========================================================================

    These operationalise the verbal levels of methods.md §4.7 (an ordinal label the
    authors say rests on case experience). Tone ("aggressive, insulting") and "critics
    become the majority" are not measured; levels 5 and 6 rest on volume alone.

    Examples
    --------
    >>> import casekit as ck
    >>> s = ck.response.severity(ck.load_case("synthetic-example"))
    >>> s.level, s.level_at_response
    (4, 3)
    """
    check_case(case, "severity")
    days_after = check_count(days_after, "days_after")
    th = _check_thresholds(thresholds)
    tl = case.timeline
    kd = [case.key_date(k) for k in ("incident", "first_complaint", "going_public")]
    known = [d for d in kd if d is not None]
    if not known and tl.empty:
        raise InsufficientDataError(
            f"{case.id} has no dated events and no key dates, so its severity cannot be "
            "followed over time: add rows to timeline.csv or dates to case.yaml's key_dates"
        )
    start = min(known) if known else tl["date"].min()
    gp = case.key_date("going_public")
    end = (gp if gp is not None else tl["date"].max()) + pd.Timedelta(days=days_after)
    days = pd.date_range(start.normalize(), end.normalize(), freq="D")
    ends = days + DAY  # a day's events count from its start to its end
    crit = tl[tl["actor"].isin(["customer", "public"]) & tl["kind"].isin(_CRITICISM_KINDS)]
    media = tl[tl["actor"] == "media"]
    n_crit = np.searchsorted(np.sort(crit["date"].to_numpy()), ends.to_numpy(), side="left")
    n_media = np.searchsorted(np.sort(media["date"].to_numpy()), ends.to_numpy(), side="left")
    r = case.reach
    rank = {"high": 3, "medium": 2, "low": 1, "unverified": 0}
    r = r[r["kind"].isin(["observed", "reported"]) & (r["confidence"].map(rank) >= 1)]
    reach = np.zeros(len(days))
    press_m = np.zeros(len(days))
    organised = np.zeros(len(days), dtype=bool)
    channels: list[set] = [set() for _ in days]
    for metric, g in r.groupby("metric"):
        g = g.sort_values("time")
        t = g["time"].to_numpy()
        pos = np.searchsorted(t, ends.to_numpy(), side="left")  # readings before each day's end
        unit = g["unit"].iloc[0]
        is_press = bool(_PRESS_NAME.search(metric)) or unit in _PRESS_UNITS
        if g["cumulative"].iloc[0]:
            run = np.concatenate([[0.0], np.maximum.accumulate(g["value"].to_numpy(float))])
        elif g["time_precision"].isin(["day", "hour"]).all():
            run = np.concatenate([[0.0], np.cumsum(g["value"].to_numpy(float))])
        else:
            continue  # periodic outlet-level figures (monthly readership ...) are not case reach
        series = run[pos]
        if is_press:
            press_m = np.maximum(press_m, series)
        elif unit in REACH_UNITS:
            reach = np.maximum(reach, series)
            if _ORGANISED.search(metric):
                organised |= pos > 0
            word = metric.split("_")[0]
            for i in np.flatnonzero(pos > 0):
                channels[i].add(word)
    press = np.maximum(n_media, press_m).astype(int)
    public = np.asarray(ends > gp) if gp is not None else np.zeros(len(days), dtype=bool)
    levels = [
        level_from_indicators(int(c), bool(p), float(rc), int(pr), bool(o), th)
        for c, p, rc, pr, o in zip(n_crit, public, reach, press, organised)
    ]
    n_ch = [len(c) + (1 if pr > 0 else 0) for c, pr in zip(channels, press)]
    table = pd.DataFrame(
        {
            "date": days,
            "level": levels,
            "criticism": n_crit.astype(int),
            "public": public,
            "reach": reach,
            "press": press,
            "organised": organised,
            "channels": n_ch,
        }
    )
    fr = case.key_date("first_response")
    at_resp = None
    if fr is not None:
        hit = table[table["date"] == fr.normalize()]
        if not hit.empty:
            at_resp = int(hit["level"].iloc[0])
        elif fr.normalize() > table["date"].max():
            at_resp = int(table["level"].iloc[-1])
        else:
            at_resp = 0
    settings = {
        "case": case.id,
        "scale": "Shitstorm-Skala (Graf & Schwede 2012) [L7], an ordinal label",
        "period": f"daily from {fmt.date(days[0])} to {fmt.date(days[-1])} "
        f"({days_after} days after going public)",
        "thresholds": _thresholds_text(th),
        "dates": "month- and range-precision events count from their first day",
        "not measured": "tone and whether critics are the majority",
    }
    return Severity(
        case_id=case.id,
        level=int(table["level"].iloc[-1]),
        level_at_response=at_resp,
        first_response=fr,
        _table=table,
        _settings=settings,
        thresholds=th,
    )
