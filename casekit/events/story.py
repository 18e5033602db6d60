"""The event-log story of a case, for ``notebooks/event_log.py``.

A case may keep raw posts (an event log) in its folder's ``events/`` folder. These
helpers find and read that log, fit the Hawkes process with the company's response
inside, and put the fit and the forecast replay into words and one timing figure, so
the notebook stays a sequence of calls. Every helper accepts ``None`` where the case
has no log and then returns ``None`` (nothing to show), so the notebook needs no
branches.

Examples
--------
>>> import casekit as ck
>>> from casekit.events import story
>>> c = ck.load_case("synthetic-example")
>>> story.find_log(c).name
'events'
>>> log = story.load_log(c)
>>> story.response_day(c, log)
4.0
>>> story.load_log(c, "") is not None, story.fit_log(None) is None
(True, True)
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from casekit import format as fmt
from casekit.exceptions import InsufficientDataError

__all__ = [
    "find_log",
    "load_log",
    "response_day",
    "fit_log",
    "fit_words",
    "no_log_text",
    "moments",
    "moments_plot",
    "fan",
    "log_text",
]

_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".json", ".parquet", ".pq")


def _case(case):
    from casekit.cases import load_case

    return load_case(case) if isinstance(case, (str, Path)) else case


def find_log(case, events_path: str = "") -> Path | None:
    """The case's event log: ``events_path`` when given, else the ``events/`` folder of
    the case folder when it holds a CSV, JSON Lines or Parquet file; None otherwise.

    Parameters
    ----------
    case : Case or str
    events_path : str
        A file, folder or glob; ``""`` looks in the case folder.
    """
    if events_path:
        return Path(events_path)
    folder = Path(_case(case).path) / "events"
    if not folder.is_dir():
        return None
    has = any(p.is_file() and p.suffix.lower() in _SUFFIXES for p in folder.rglob("*"))
    return folder if has else None


def load_log(case, events_path: str = "", time: str = "time", id: str = "id"):
    """The case's :class:`~casekit.events.EventLog` read with the case's zone and origin,
    or None when the case has none (see :func:`find_log`). ``id=""`` reads no id column."""
    from casekit.events.log import load

    c = _case(case)
    path = find_log(c, events_path)
    if path is None:
        return None
    return load(path, time=time, id=id or None, case=c)


def response_day(case, log) -> float | None:
    """The case's ``first_response`` key date in days since the log's origin (None without
    a log or a response date)."""
    if log is None:
        return None
    when = _case(case).context.key_date("first_response")
    if when is None:
        return None
    return float((pd.Timestamp(when) - pd.Timestamp(log.origin)) / pd.Timedelta(days=1))


def fit_log(log, response: float | None = None, kernel: str = "exp", e_scenario: float = 0.5,
            n_draws: int = 1000):  # fmt: skip
    """Hawkes fit of the log with the response inside: ``e`` estimated when the events
    straddle the response, else held at ``e_scenario`` (a stated scenario). Without a
    response (or a response after the last event) the fit has no response. None without a
    log."""
    from casekit.events.hawkes import fit

    if log is None:
        return None
    t = log.times()
    if response is None or not t[0] < response < t[-1]:
        return fit(t, kernel, n_draws=n_draws)
    try:
        return fit(t, kernel, response=response, n_draws=n_draws)
    except InsufficientDataError:
        return fit(t, kernel, response=response, e=float(e_scenario), n_draws=n_draws)


def fit_words(hf) -> str | None:
    """The branching ratio, the response effect and the expected final size in words
    (Markdown, escaped). None without a fit."""
    if hf is None:
        return None
    ci = hf.conf_int()
    n = hf.estimates["n"]
    lines = [
        f"Branching ratio n* = {fmt.number(n)} "
        f"({fmt.percent(1 - hf.alpha, 0)} interval {fmt.number(ci.loc['n', 'lower'])} to "
        f"{fmt.number(ci.loc['n', 'upper'])}): each event brought on average "
        f"{fmt.number(n)} direct follow-ups before the response. "
        + (
            "Below 1 a storm dies out by itself; the closer to 1, the longer it runs."
            if n < 1
            else "At 1 or more the storm, as fitted, would not die out by itself."
        )
    ]
    if hf.e_mode == "estimated":
        lines.append(
            f"Response effect e = {fmt.number(hf.estimates['e'])} (interval "
            f"{fmt.number(ci.loc['e', 'lower'])} to {fmt.number(ci.loc['e', 'upper'])}), "
            "estimated from the events on both sides of the response: from the response on, "
            f"the branching ratio was multiplied by 1 − e, to {fmt.number(hf.final['n_end'])}."
        )
    elif hf.e_mode == "scenario":
        lines.append(
            f"Response effect e = {fmt.number(hf.estimates['e'])} is a stated scenario, "
            "not an estimate: the log has too few events on one side of the response to "
            "estimate it."
        )
    else:
        lines.append("The fit has no response inside it (the case gives no response date "
                     "within the log).")  # fmt: skip
    lines.append(hf.final_size_text())
    return "\n\n".join(fmt.html_text(x) for x in lines)


def no_log_text(case) -> str:
    """The one sentence shown for a case without an event log."""
    c = _case(case)
    return (
        f"The case {fmt.html_text(c.title)} has no event log (no `events/` folder of raw "
        "posts in its case folder), so this notebook has nothing to show for it."
    )


def _when(replay, days: float | None) -> tuple[str, str]:
    if days is None or not math.isfinite(days):
        return "never", "–"
    return fmt.cell(replay._date(days)), fmt.number(days)


def moments(replay) -> pd.DataFrame | None:
    """The forecast alert, the spike rules' first alert and the company's response: date,
    day since the origin and how long before the response (text, no missing values)."""
    if replay is None:
        return None
    rows = [
        ("forecast lower bound passes the threshold", replay.forecast_alert, ""),
        ("spike rules' first alert", replay.spike_alert, replay.spike_rule or ""),
        ("company's first response", replay.response, ""),
    ]
    out = []
    for label, days, detail in rows:
        date, day = _when(replay, days)
        if days is None or replay.response is None or label.startswith("company"):
            lead = "–"
        else:
            hours = (replay.response - days) * 24
            lead = f"{fmt.number(abs(hours))} h {'before' if hours >= 0 else 'after'}"
        out.append({"moment": label, "date": date, "day": day, "vs the response": lead,
                    "detail": detail or "–"})  # fmt: skip
    if replay.response is None:
        out[-1]["date"] = "unknown"
    return pd.DataFrame(out).set_index("moment")


def fan(replay):
    """The replay's forecast fan (:meth:`casekit.forecast.Replay.plot`), None without one."""
    return None if replay is None else replay.plot()


def log_text(log) -> str | None:
    """What was read, in one paragraph (Markdown, escaped): events, span, duplicates and
    the files' hash. None without a log."""
    if log is None:
        return None
    files = ", ".join(Path(f).name for f in log.files)
    return fmt.html_text(
        f"The event log holds {log.n_events:,} events from {fmt.cell(log.first)} to "
        f"{fmt.cell(log.last)} (local time, {log.tz}), read from {files} "
        f"({log.n_rows:,} rows, {log.n_duplicates:,} duplicates, content sha256 "
        f"{log.content_hash[:16]})."
    )


def moments_plot(replay, log, period: str = "1h"):
    """Events per period over time with the forecast alert, the spike rules' first alert
    and the response marked on the same axis (a plotly Figure; None without a replay)."""
    if replay is None or log is None:
        return None
    import plotly.graph_objects as go

    import casekit.plots.theme  # noqa: F401  (registers the template)
    from casekit.forecast.plot import _MARKS

    counts = log.counts(period)
    fig = go.Figure()
    fig.add_bar(x=counts["time"], y=counts["count"], name=f"events per {period}",
                marker_color="#9bb7d4")  # fmt: skip
    for attr, label, colour, dash in _MARKS:
        d = getattr(replay, attr)
        if d is None or not math.isfinite(d):
            continue
        x = replay._date(d).to_pydatetime()
        fig.add_shape(type="line", x0=x, x1=x, y0=0, y1=1, yref="paper",
                      line=dict(color=colour, dash=dash, width=2))  # fmt: skip
        fig.add_scatter(x=[x, x], y=[None, None], mode="lines", name=label,
                        line=dict(color=colour, dash=dash, width=2))  # fmt: skip
    fig.update_layout(
        template="casekit",
        title="When could the company have known? Alerts and response on one time axis",
        xaxis_title="time (local)",
        yaxis_title=f"events per {period}",
        bargap=0,
    )
    return fig
