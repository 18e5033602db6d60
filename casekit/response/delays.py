"""Delays between a case's key dates: incident, complaint, going public, response,
resolution; and the complaint contacts before going public."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.cases import Case
from casekit.response._common import DAY, check_case, settings_block
from casekit.results import Result

__all__ = ["DELAY_DEFINITIONS", "Delays", "delays"]

DELAY_DEFINITIONS: tuple[tuple[str, str, str, str], ...] = (
    (
        "incident_to_first_complaint",
        "incident",
        "first_complaint",
        "how long the customer took to complain",
    ),
    (
        "decision_delay",
        "first_complaint",
        "first_response",
        "first complaint to the first substantive company response (key date first_response)",
    ),
    (
        "going_public_to_first_response",
        "going_public",
        "first_response",
        "public response lag: going public to the first public company response",
    ),
    ("going_public_to_resolution", "going_public", "resolution", "going public to the resolution"),
    (
        "first_complaint_to_resolution",
        "first_complaint",
        "resolution",
        "first complaint to the resolution",
    ),
)
"""Delays computed by :func:`delays`: (name, start key date, end key date, meaning)."""


def _date_interval(kd) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Earliest and latest instant a key date can stand for, given its precision."""
    start = kd.date
    p = kd.precision
    if p == "range" and kd.date_end is not None:
        return start, kd.date_end
    if p == "month":
        return start, start + pd.offsets.MonthEnd(0)
    if p == "year":
        return start, start + pd.offsets.YearEnd(0)
    return start, start


def _precision_note(kd_a, kd_b) -> str:
    notes = []
    for kd in (kd_a, kd_b):
        if kd.precision == "day":
            continue
        if kd.precision == "range" and kd.date_end is not None:
            notes.append(f"{kd.name} is a range {kd.date.date()}..{kd.date_end.date()}")
        elif kd.precision == "hour":
            notes.append(f"{kd.name} has a clock time")
        else:
            notes.append(f"{kd.name} is {kd.precision}")
    return "; ".join(notes) if notes else "both dates to the day"


@dataclass(frozen=True, repr=False, eq=False)
class Delays(Result):
    """Delays between a case's key dates (see :func:`delays`).

    Attributes
    ----------
    case_id : str
    table : pandas.DataFrame
        One row per delay: ``delay, start, end, start_date, end_date, days, days_min,
        days_max, precision, computable, reason, meaning``. ``days`` is the difference
        of the recorded dates; ``days_min``/``days_max`` bound it when a date is a
        month, a year or a range. Not computable rows have ``days`` = NaN and a reason.
    contacts : int or None
        Complaint contacts recorded in the timeline before the customer went public
        (``None`` when going public is unknown). A lower bound: a timeline row that
        stands for many calls counts once.
    contacts_table : pandas.DataFrame
        The timeline rows counted.
    key_dates : dict
        The case's key dates as used (date, precision, date_end), by name.
    params : pandas.Series
        Days of each delay, by name (NaN where not computable).
    """

    title: ClassVar[str] = "Delays"

    case_id: str
    _table: pd.DataFrame
    contacts: int | None
    contacts_table: pd.DataFrame
    key_dates: dict[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        return self._table.copy()

    @property
    def params(self) -> pd.Series:
        return self._table.set_index("delay")["days"].rename("days")

    @property
    def settings(self) -> dict[str, Any]:
        return {
            "case": self.case_id,
            "days": "difference of the recorded dates; a month stands for its first day, a "
            "range for its start (days_min and days_max give the spread)",
            "unknown dates": "a delay whose two dates are not both known is not computed",
            "contacts": "timeline rows by the customer of kind complaint dated before going "
            "public (a lower bound)",
        }

    @property
    def computable(self) -> list[str]:
        """Names of the delays that could be computed."""
        return self._table.loc[self._table["computable"], "delay"].tolist()

    def days(self, name: str) -> float | None:
        """Days of delay ``name`` (``None`` if it cannot be computed)."""
        row = self._table.loc[self._table["delay"] == name]
        if row.empty:
            raise KeyError(f"no delay {name!r}; known: {', '.join(self._table['delay'])}")
        v = row["days"].iloc[0]
        return None if pd.isna(v) else float(v)

    @property
    def summary(self) -> pd.DataFrame:
        """Each delay in days with its spread, or the reason it is not computed."""
        return self._table[["delay", "days", "days_min", "days_max", "reason"]].copy()

    def __str__(self) -> str:
        lines = [
            f"Delays in case {self.case_id!r}: {len(self.computable)} of {len(self._table)} "
            "computable."
        ]
        for _, r in self._table.iterrows():
            if r["computable"]:
                rng = ""
                if r["days_min"] != r["days_max"]:
                    rng = f" (between {fmt.days(r['days_min'])} and {fmt.days(r['days_max'])})"
                lines.append(f"- {r['delay']}: {fmt.days(r['days'])}{rng}")
            else:
                lines.append(f"- {r['delay']}: not computable ({r['reason']})")
        if self.contacts is None:
            lines.append("- complaint contacts before going public: unknown (going_public unknown)")
        elif self.contacts == 0:
            lines.append("- complaint contacts before going public: none recorded in the timeline")
        else:
            lines.append(
                f"- complaint contacts before going public: at least {self.contacts} "
                "(timeline rows of kind 'complaint' by the customer)"
            )
        return "\n".join(lines) + "\n" + settings_block(self.settings)

    def plot(self, **kwargs):
        """Gantt chart of the delays (:func:`casekit.plots.delays_plot`)."""
        from casekit.plots import delays_plot

        return delays_plot(self, **kwargs)


def delays(case: Case) -> Delays:
    """Delays between a case's key dates, and the complaint contacts before going public.

    Parameters
    ----------
    case : Case

    Returns
    -------
    Delays
        ``table`` has one row per entry of :data:`DELAY_DEFINITIONS`. A delay is
        computable only when both key dates are known; otherwise ``days`` is NaN and
        ``reason`` names the unknown date(s). Nothing is guessed.

    Notes
    -----
    ``days`` is the difference of the recorded dates (a month-precision date stands
    for the first of its month, a range for its start); ``days_min`` and ``days_max``
    are the shortest and longest delay the precision allows. The *decision delay* is
    first complaint to the key date ``first_response``, which the case authors set to
    the first substantive company response (a refusal is not a response to the
    complaint's substance). Contacts are timeline rows with actor ``customer`` and
    kind ``complaint`` dated strictly before going public.

    Examples
    --------
    >>> import casekit as ck
    >>> d = ck.response.delays(ck.load_case("synthetic-example"))
    >>> d.table[["delay", "days"]].head(3)
                                delay  days
    0     incident_to_first_complaint   1.0
    1                  decision_delay  35.0
    2  going_public_to_first_response   4.0
    >>> d.contacts
    2
    """
    check_case(case, "delays")
    rows = []
    for name, a, b, meaning in DELAY_DEFINITIONS:
        ka, kb = case.key_dates.get(a), case.key_dates.get(b)
        row = {
            "delay": name,
            "start": a,
            "end": b,
            "start_date": None,
            "end_date": None,
            "days": np.nan,
            "days_min": np.nan,
            "days_max": np.nan,
            "precision": "",
            "computable": False,
            "reason": "",
            "meaning": meaning,
        }
        missing = [n for n, k in ((a, ka), (b, kb)) if k is None]
        if missing:
            row["reason"] = " and ".join(missing) + " unknown in the sources"
            if ka is not None:
                row["start_date"] = ka.date
            if kb is not None:
                row["end_date"] = kb.date
        else:
            a0, a1 = _date_interval(ka)
            b0, b1 = _date_interval(kb)
            row.update(
                start_date=ka.date,
                end_date=kb.date,
                days=(kb.date - ka.date) / DAY,
                days_min=(max((b0 - a1) / DAY, 0.0) if kb.date >= ka.date else (b0 - a1) / DAY),
                days_max=(b1 - a0) / DAY,
                precision=_precision_note(ka, kb),
                computable=True,
            )
            if row["days"] < 0:
                row["reason"] = f"{b} is recorded before {a}"
        rows.append(row)
    table = pd.DataFrame(rows)
    for col in ("start_date", "end_date"):
        table[col] = pd.to_datetime(table[col])
    gp = case.key_date("going_public")
    tl = case.timeline
    if gp is None:
        contacts, ctab = None, tl.iloc[0:0]
    else:
        ctab = tl[(tl["actor"] == "customer") & (tl["kind"] == "complaint") & (tl["date"] < gp)]
        contacts = int(len(ctab))
    kd = {
        k: (
            None
            if v is None
            else {"date": v.date, "precision": v.precision, "date_end": v.date_end}
        )
        for k, v in case.key_dates.items()
    }
    return Delays(
        case_id=case.id,
        _table=table,
        contacts=contacts,
        contacts_table=ctab.reset_index(drop=True),
        key_dates=kd,
    )
