"""Figures of :mod:`casekit.response` results."""

from __future__ import annotations

import plotly.graph_objects as go

from casekit import format as fmt
from casekit.plots.theme import CONFIDENCE_COLOURS, PALETTE, template  # noqa: F401


def delay_cost_plot(result, *, show_avoided: bool = False) -> go.Figure:
    """Delay-cost curve: expected final reach against the response delay, with its band.

    Parameters
    ----------
    result : casekit.response.DelayCost
    show_avoided : bool
        Plot the reach avoided (vs never responding) instead of the final reach.

    Returns
    -------
    plotly.graph_objects.Figure
        x: delay in days after going public (finite delays only), y: reach. The fitted
        final reach (no response) is a dotted line; the actual delay is marked.
    """
    t = result.table
    if show_avoided:
        ci = result.conf_int()
        ci = ci[ci["quantity"] == "reach_avoided"].reset_index(drop=True)
        t = t.assign(
            reach_avoided=ci["estimate"].to_numpy(),
            lower=ci["lower"].to_numpy(),
            upper=ci["upper"].to_numpy(),
        )
    t = t[t["delay_days"] < float("inf")]
    y, lo, hi = ("reach_avoided" if show_avoided else "final_reach"), "lower", "upper"
    x = t["delay_days"].tolist()
    fig = go.Figure()
    if t[lo].notna().any():
        fig.add_trace(
            go.Scatter(
                x=x + x[::-1],
                y=t[hi].tolist() + t[lo].tolist()[::-1],
                fill="toself",
                fillcolor="rgba(31,95,168,0.15)",
                line=dict(width=0),
                hoverinfo="skip",
                name="band",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=t[y],
            mode="lines+markers",
            line=dict(color=PALETTE[0]),
            name="reach avoided" if show_avoided else "final reach",
            hovertemplate="delay %{x:g} d: %{y:,.0f}<extra></extra>",
        )
    )
    if not show_avoided:
        fig.add_hline(
            y=result.fitted_final,
            line=dict(color="#555", dash="dot"),
            # the intervention model's fitted curve holds the actual response; the
            # accounting variants read the fitted curve as the story without one
            annotation_text=(
                "as it happened (fitted curve)"
                if result.model == "intervention"
                else "no response (fitted curve)"
            ),
        )
    a = result.table[result.table["actual"]]
    if not a.empty:
        fig.add_trace(
            go.Scatter(
                x=a["delay_days"],
                y=a[y],
                mode="markers",
                marker=dict(color=PALETTE[1], size=12, symbol="diamond"),
                name=f"actual delay ({fmt.days(a['delay_days'].iloc[0])})",
            )
        )
        fig.add_vline(x=float(a["delay_days"].iloc[0]), line=dict(color=PALETTE[1], dash="dash"))
    fig.update_layout(
        template="casekit",
        title=f"Delay cost: {result.model} damping, "
        f"e = {fmt.number(result.effectiveness)} "
        f"({result.curve}, {result.metric})",
        xaxis_title="response delay (days after going public)",
        yaxis_title="reach avoided" if show_avoided else "expected final reach",
    )
    return fig


def tornado_plot(result) -> go.Figure:
    """Tornado chart of a :class:`casekit.response.Sensitivity`: one bar per factor from
    its low to its high setting, around the base value, largest swing on top."""
    t = result.table.iloc[::-1]
    fig = go.Figure()
    for col, name, colour in (
        ("output_low", "low setting", PALETTE[2]),
        ("output_high", "high setting", PALETTE[1]),
    ):
        label = t["low_setting"] if col == "output_low" else t["high_setting"]
        fig.add_trace(
            go.Bar(
                y=t["factor"],
                x=t[col] - result.base,
                base=result.base,
                orientation="h",
                name=name,
                marker_color=colour,
                customdata=label,
                hovertemplate="%{y}: %{customdata} -> %{x:,.0f}<extra></extra>",
            )
        )
    fig.add_vline(x=result.base, line=dict(color="#333"))
    fig.update_layout(
        template="casekit",
        barmode="overlay",
        title="Sensitivity of the money cost of the delay",
        xaxis_title=f"cost of the delay ({result.unit})",
        yaxis=dict(title="", automargin=True),
    )
    return fig


def severity_plot(result) -> go.Figure:
    """Shitstorm-scale level (0-6) per day, with the first response marked."""
    t = result.table
    fig = go.Figure(
        go.Scatter(
            x=t["date"],
            y=t["level"],
            mode="lines",
            line_shape="hv",
            line=dict(color=PALETTE[1], width=2.5),
            name="level",
            hovertemplate="%{x|%Y-%m-%d}: level %{y}<extra></extra>",
        )
    )
    if result.first_response is not None:
        fig.add_vline(
            x=result.first_response.to_pydatetime().timestamp() * 1000,
            line=dict(color=PALETTE[0], dash="dash"),
            annotation_text="first response",
        )
    fig.update_layout(
        template="casekit",
        title=f"Severity over time ({result.case_id})",
        yaxis=dict(range=[-0.2, 6.2], dtick=1, title="Shitstorm level"),
        xaxis_title="date",
    )
    return fig


def delays_plot(result) -> go.Figure:
    """Gantt chart of :class:`casekit.response.Delays`: one bar per computable delay from
    its start key date to its end key date; delays that cannot be computed are listed in
    the title."""
    t = result.table[result.table["computable"]]
    fig = go.Figure()
    for i, (_, r) in enumerate(t.iterrows()):
        ms = (r["end_date"] - r["start_date"]).total_seconds() * 1000
        fig.add_trace(
            go.Bar(
                y=[str(r["delay"]).replace("_", " ")],
                x=[ms],
                base=[r["start_date"]],
                orientation="h",
                marker_color=PALETTE[i % len(PALETTE)],
                name=r["delay"],
                hovertemplate=f"{r['start']} -> {r['end']}: {fmt.days(r['days'])}<extra></extra>",
                showlegend=False,
            )
        )
    missing = result.table.loc[~result.table["computable"], "delay"].tolist()
    title = f"Delays ({result.case_id})"
    if missing:
        title += f"<br><sub>not computable: {', '.join(missing)}</sub>"
    fig.update_layout(
        template="casekit",
        title=title,
        xaxis=dict(type="date", title="date"),
        yaxis=dict(autorange="reversed", automargin=True),
    )
    return fig


def detection_plot(result) -> go.Figure:
    """Replayed spike rules of a :class:`casekit.response.Detection`: window mean and the
    rule's threshold per check, alerts marked, going public and the response as lines."""
    fig = go.Figure()
    c = result.checks
    for i, ((metric, rule), g) in enumerate(c.groupby(["metric", "rule"], sort=False)):
        colour = PALETTE[i % len(PALETTE)]
        fig.add_trace(
            go.Scatter(
                x=g["window_end"],
                y=g["threshold_value"],
                mode="lines",
                line=dict(color=colour, dash="dot"),
                name=f"{metric}: {rule} threshold",
            )
        )
        fired = g[g["fired"]]
        fig.add_trace(
            go.Scatter(
                x=fired["window_end"],
                y=fired["window_mean"],
                mode="markers",
                marker=dict(color=colour, size=9),
                name=f"{rule} fires",
            )
        )
    for metric, g in c.groupby("metric", sort=False):
        first = g.drop_duplicates("window_end")
        fig.add_trace(
            go.Scatter(
                x=first["window_end"],
                y=first["window_mean"],
                mode="lines",
                line=dict(color="#333"),
                name=f"{metric}: window mean",
            )
        )
    for when, name, colour in (
        (result.going_public, "going public", "#555"),
        (result.first_response, "first response", PALETTE[1]),
    ):
        if when is not None:
            fig.add_vline(
                x=when.to_pydatetime().timestamp() * 1000,
                line=dict(color=colour, dash="dash"),
                annotation_text=name,
            )
    fig.update_layout(
        template="casekit",
        title=f"Detection replay ({result.case_id})",
        xaxis_title="end of checked window",
        yaxis_title="count per interval",
    )
    return fig


# -- reach (casekit.reach) -------------------------------------------------------


def waiting_plot(result) -> go.Figure:
    """Reach while waiting: the fitted curve with its band, the reach accrued before the
    response shaded, and the response marked (:class:`casekit.response.WaitingReach`;
    the curve is its ``curve_table``)."""
    p = result.curve_table
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=list(p["t"]) + list(p["t"])[::-1],
            y=list(p["upper"]) + list(p["lower"])[::-1],
            fill="toself",
            fillcolor="rgba(31,95,168,0.12)",
            line=dict(width=0),
            hoverinfo="skip",
            name="confidence band",
        )
    )
    before = p[p["t"] <= result.response_t]
    fig.add_trace(
        go.Scatter(
            x=before["t"],
            y=before["estimate"],
            fill="tozeroy",
            mode="lines",
            line=dict(color=PALETTE[1]),
            fillcolor="rgba(209,73,91,0.25)",
            name="reach before the response",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=p["t"],
            y=p["estimate"],
            mode="lines",
            line=dict(color=PALETTE[0]),
            name=f"fitted {result.curve}",
        )
    )
    fig.add_vline(
        x=result.response_t,
        line=dict(color=PALETTE[1], dash="dash"),
        annotation_text=f"response (day {fmt.number(result.response_t)})",
    )
    fig.update_layout(
        template="casekit",
        title=f"Reach while waiting ({result.case_id})",
        xaxis_title="days since going public",
        yaxis_title=result.metric or "reach",
    )
    return fig


def money_lenses_plot(result) -> go.Figure:
    """The money lenses of a :class:`casekit.response.MoneyLenses` as a table figure: one
    row per lens with its range and unit, never a total (the units differ)."""
    t = result.table
    cells = [
        t["lens"],
        [fmt.number(v, 4) for v in t["low"]],
        [fmt.number(v, 4) for v in t["central"]],
        [fmt.number(v, 4) for v in t["high"]],
        t["unit"],
        [fmt.boolean(s) for s in t["supported"]],
        t["statement"],
    ]
    fig = go.Figure(
        go.Table(
            header=dict(
                values=["lens", "low", "central", "high", "unit", "supported", "statement"],
                fill_color="#e5e5e5",
                align="left",
            ),
            cells=dict(values=cells, align="left"),
        )
    )
    fig.update_layout(
        template="casekit", title=f"Money lenses ({result.case_id}): side by side, never summed"
    )
    return fig
