"""The forecast fan of a :class:`~casekit.forecast.Replay`."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["fan"]

_MARKS = (
    ("forecast_alert", "forecast passes threshold", "#1b7837", "solid"),
    ("spike_alert", "spike rule fires", "#e08214", "dash"),
    ("response", "company responds", "#b2182b", "dot"),
)


def fan(replay, *, log_y: bool = True, title: str | None = None, **layout):
    """The forecast final size and its interval at each origin tau, with the threshold,
    the final observed value, the forecast's first alert, the spike rules' first alert
    and the company's response marked on the same time axis.

    Parameters
    ----------
    replay : Replay
    log_y : bool
        A log scale for sizes (early intervals span orders of magnitude).
    title : str, optional
    **layout
        Passed to ``Figure.update_layout``.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> import casekit as ck
    >>> r = ck.forecast.replay(ck.load_case("synthetic-example"), 1e5, metric="video_views")
    >>> fig = r.plot()
    >>> [t.name for t in fig.data][:3]
    ['interval', 'forecast', 'observed so far']
    """
    import plotly.graph_objects as go

    import casekit.plots.theme  # noqa: F401  (registers the template)

    t = replay.table
    dated = replay.origin is not None
    x_of = (lambda d: replay.origin + pd.to_timedelta(np.asarray(d, float), unit="D")) if dated \
        else (lambda d: np.asarray(d, float))  # fmt: skip
    fin = t[np.isfinite(t["lower"]) & np.isfinite(t["upper"])]
    fig = go.Figure()
    xs = x_of(fin["tau"])
    fig.add_scatter(
        x=list(xs) + list(xs[::-1]),
        y=list(fin["upper"]) + list(fin["lower"][::-1]),
        fill="toself",
        fillcolor="rgba(31,95,168,0.18)",
        line=dict(width=0),
        name="interval",
        hoverinfo="skip",
    )
    est = t[np.isfinite(t["estimate"])]
    fig.add_scatter(
        x=x_of(est["tau"]), y=est["estimate"], mode="lines+markers", name="forecast",
        line=dict(color="#1f5fa8"),
    )  # fmt: skip
    fig.add_scatter(
        x=x_of(t["tau"]), y=t["observed"], mode="lines", name="observed so far",
        line=dict(color="#555", dash="dot"),
    )  # fmt: skip
    unb = t[t["status"] == "unbounded"]
    if len(unb):
        top = float(np.nanmax(np.r_[fin["upper"], t["observed"], replay.threshold])) * 2
        fig.add_scatter(
            x=x_of(unb["tau"]), y=[top] * len(unb), mode="markers", name="unbounded",
            marker=dict(symbol="triangle-up", color="#6a4c93", size=10),
        )  # fmt: skip
    fig.add_hline(
        y=replay.threshold, line=dict(color="#333", dash="dash"),
        annotation_text=f"threshold {replay.threshold:,.0f}", annotation_position="top left",
    )  # fmt: skip
    fig.add_hline(
        y=replay.final_value, line=dict(color="#888", dash="dot"),
        annotation_text="final observed", annotation_position="bottom right",
    )  # fmt: skip
    for attr, label, colour, dash in _MARKS:
        d = getattr(replay, attr)
        if d is None or not math.isfinite(d):
            continue
        x = x_of([d])[0]
        if dated:
            x = pd.Timestamp(x).floor("us").to_pydatetime()
        fig.add_shape(
            type="line", x0=x, x1=x, y0=0, y1=1, yref="paper",
            line=dict(color=colour, dash=dash, width=2),
        )  # fmt: skip
        fig.add_scatter(
            x=[x, x], y=[None, None], mode="lines", name=label,
            line=dict(color=colour, dash=dash, width=2),
        )  # fmt: skip
    fig.update_layout(
        template="casekit",
        title=title or f"Forecast of the final size at each origin ({replay.model})",
        xaxis_title="origin tau" + ("" if dated else " (days since t = 0)"),
        yaxis_title="final size",
        yaxis_type="log" if log_y else "linear",
    )
    fig.update_layout(**layout)
    return fig
