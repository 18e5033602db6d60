"""The case timeline figure."""

from __future__ import annotations

import plotly.graph_objects as go

from casekit.format import plot_text
from casekit.plots.theme import CONFIDENCE_COLOURS, PALETTE, template  # noqa: F401

_ACTOR_ORDER = ("customer", "company", "media", "public", "third_party")


def timeline_plot(case) -> go.Figure:
    """Every dated event of a case: one row per actor, one colour per kind of event.

    Hover shows the description, the source ids and the confidence. Events known only to
    the month, as a range or approximately are drawn hollow, at the start of the period.

    Examples
    --------
    >>> import casekit as ck
    >>> fig = ck.plots.timeline_plot(ck.load_case("synthetic-example"))
    >>> sorted({trace.name for trace in fig.data})[:3]
    ['complaint', 'coverage', 'incident']
    """
    events = case.timeline
    fig = go.Figure(layout={"template": template()})
    for i, (kind, grp) in enumerate(events.groupby("kind", sort=True)):
        exact = grp["date_precision"].isin(["hour", "day"])
        fig.add_scatter(
            x=grp["date"],
            y=grp["actor"],
            mode="markers",
            name=str(kind),
            marker={
                "size": 12,
                "color": PALETTE[i % len(PALETTE)],
                "symbol": ["circle" if e else "circle-open" for e in exact],
                "line": {"width": 2},
            },
            # case text is escaped: plotly.js reads tags such as <b> and <a> in hover labels
            customdata=grp[["description", "source", "confidence", "date_precision"]]
            .map(plot_text)
            .to_numpy(),
            hovertemplate=(
                "%{x|%Y-%m-%d}: %{customdata[0]}<br>source: %{customdata[1]}"
                "<br>confidence: %{customdata[2]}, date precision: "
                "%{customdata[3]}<extra>%{fullData.name}</extra>"
            ),
        )
    present = [a for a in _ACTOR_ORDER if a in set(events["actor"])]
    fig.update_layout(
        title=f"Timeline: {plot_text(case.title)}",
        xaxis_title="date",
        yaxis={
            "categoryorder": "array",
            "categoryarray": present[::-1],
            "title": None,
            "automargin": True,
        },
        legend_title="kind of event",
    )
    return fig
