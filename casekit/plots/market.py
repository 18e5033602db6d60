"""Figures of :mod:`casekit.market` results."""

from __future__ import annotations

import plotly.graph_objects as go

from casekit import format as fmt
from casekit.plots.theme import CONFIDENCE_COLOURS, PALETTE, template  # noqa: F401


def event_study_plot(
    study, event=0, benchmark: str | None = None, window: tuple[int, int] | None = None
) -> go.Figure:
    """Daily abnormal returns (bars) and the CAR with its confidence band (line) of one event.

    Parameters
    ----------
    study : casekit.market.EventStudy
        Result of :func:`casekit.market.event_study`.
    event : int or str
        Event index or label (``"ACME 2024-04-09"``).
    benchmark : str, optional
        ``"market"``, ``"peers"`` or ``"market_adjusted"`` (one the study ran); default
        the study's first.
    window : (int, int), optional
        The CAR window the report's text uses: the cumulative line and its band are
        accumulated from the window's first day (the same numbers as
        ``study.car(benchmark, window)`` at its last day), and the window is shaded.
        Default: accumulated from the first day of the event window.

    Returns
    -------
    plotly.graph_objects.Figure
        x: trading day relative to day 0 (dates in the hover), y: percent. A dashed
        vertical line marks day 0; the band is the study's confidence level for the CAR
        accumulated from the first day of the event window.
    """
    label = study._event_label(event)
    benchmark = study.settings["benchmarks"][0] if benchmark is None else benchmark
    study._benchmark(benchmark)
    d = study.daily[(study.daily["event"] == label) & (study.daily["benchmark"] == benchmark)]
    level = f"{fmt.number((1 - study.settings['alpha']) * 100)} %"
    series = study.params.loc[(label, benchmark), "benchmark_series"]
    bars = d
    bar_dates = d["date"].dt.strftime("%Y-%m-%d")
    dates = bar_dates
    x = d["rel_day"].tolist()
    car_name = "cumulative abnormal return"
    if window is not None:
        t1, t2 = int(window[0]), int(window[1])
        d = d[(d["rel_day"] >= t1) & (d["rel_day"] <= t2)].copy()
        rows = [study.car(benchmark, (t1, int(t)), label) for t in d["rel_day"]]
        d["car"] = [r["car"] for r in rows]
        d["lower"] = [r["lower"] for r in rows]
        d["upper"] = [r["upper"] for r in rows]
        dates = d["date"].dt.strftime("%Y-%m-%d")
        car_name = f"cumulative abnormal return from day {t1}"
    xc = d["rel_day"].tolist()
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=xc + xc[::-1],
            y=(d["upper"] * 100).tolist() + (d["lower"] * 100).tolist()[::-1],
            fill="toself",
            fillcolor="rgba(31,95,168,0.15)",
            line=dict(width=0),
            mode="lines",
            hoverinfo="skip",
            name=f"CAR {level} CI",
        )
    )
    fig.add_trace(
        go.Bar(
            x=x,
            y=bars["ar"] * 100,
            name="abnormal return",
            marker_color=PALETTE[1],
            opacity=0.75,
            customdata=bar_dates,
            hovertemplate="%{customdata} (day %{x}): AR %{y:.2f} %<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xc,
            y=d["car"] * 100,
            mode="lines+markers",
            name=car_name,
            line=dict(color=PALETTE[0], width=2.5),
            customdata=dates,
            hovertemplate="%{customdata} (day %{x}): CAR %{y:.2f} %<extra></extra>",
        )
    )
    day0 = study.events[study._event_index(label)]["day0"]
    fig.add_vline(
        x=0,
        line=dict(color="#555", dash="dash"),
        annotation_text=f"day 0: {fmt.date(day0)}",
        annotation_position="top left",
    )
    fig.add_hline(y=0, line=dict(color="#888", width=1))
    if window is not None:
        fig.add_vrect(
            x0=window[0] - 0.5,
            x1=window[1] + 0.5,
            fillcolor="rgba(233,160,59,0.12)",
            line_width=0,
            layer="below",
            annotation_text=f"CAR window {window[0]}..{window[1]}",
            annotation_position="top right",
        )
    fig.update_layout(
        template="casekit",
        barmode="overlay",
        title=f"{label}: abnormal returns against the {series}",
        xaxis=dict(title="trading day relative to the event", dtick=1),
        yaxis=dict(title="percent", ticksuffix=" %"),
    )
    return fig


# -- response (casekit.response) -------------------------------------------------
