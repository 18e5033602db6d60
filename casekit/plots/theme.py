"""The casekit plotly template and colours, shared by every figure."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

# -- shared styling ------------------------------------------------------------

CONFIDENCE_COLOURS = {
    "high": "#1b7837",
    "medium": "#5aae61",
    "low": "#e08214",
    "unverified": "#b2182b",
}
"""Marker colours per source confidence (high to unverified: green to red)."""

PALETTE = ("#1f5fa8", "#d1495b", "#2a9d8f", "#e9a03b", "#6a4c93", "#8d6e63", "#00798c", "#edae49")
"""Colour cycle for curves and sources."""


def template() -> go.layout.Template:
    """The ``casekit`` plotly template (also registered as ``pio.templates['casekit']``)."""
    return go.layout.Template(
        layout=dict(
            font=dict(family="Helvetica, Arial, sans-serif", size=13),
            colorway=list(PALETTE),
            plot_bgcolor="white",
            paper_bgcolor="white",
            xaxis=dict(showgrid=True, gridcolor="#e5e5e5", zeroline=False, linecolor="#888"),
            yaxis=dict(showgrid=True, gridcolor="#e5e5e5", zeroline=False, linecolor="#888"),
            hovermode="closest",
            legend=dict(bgcolor="rgba(255,255,255,0.8)"),
            margin=dict(l=60, r=20, t=60, b=50),
        )
    )


pio.templates["casekit"] = template()
