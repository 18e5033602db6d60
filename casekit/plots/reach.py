"""Figures of :mod:`casekit.reach` results: fits, comparisons, descriptions."""

from __future__ import annotations

import plotly.graph_objects as go

from casekit import format as fmt
from casekit.plots.theme import CONFIDENCE_COLOURS, PALETTE, template  # noqa: F401

_REACH_SYMBOLS = {
    "exact": "circle",
    "about": "diamond",
    "more_than": "triangle-up",
    "nearly": "triangle-down",
    "up_to": "triangle-down-open",
    "less_than": "triangle-down-open",
}
"""Marker per qualifier: "more than" points up (the truth is higher), "nearly"/"up to" down."""

_REACH_EVENT_COLOURS = {
    "publication": "#1f5fa8",
    "coverage": "#6a4c93",
    "response": "#d1495b",
    "offer": "#e9a03b",
    "resolution": "#2a9d8f",
    "escalation": "#8d6e63",
}


def wants_log_time(fit) -> bool:
    """True when most observations crowd the start of a long time axis (on a linear
    axis they would collapse into one vertical line): half of them lie in the first
    5 % of the span, and every one is after the origin (a log axis cannot show t <= 0).

    >>> import pandas as pd
    >>> class F: data = pd.DataFrame({"t": [1.0, 2, 3, 4, 5, 400]})
    >>> wants_log_time(F())
    True
    """
    import numpy as np

    t = fit.data["t"].to_numpy(dtype=float)
    if len(t) < 3 or t.min() <= 0:
        return False
    return float(np.median(t)) < 0.05 * float(t.max())


_LOG_TICKS = (
    (1, "1 day"),
    (2, "2 days"),
    (7, "1 week"),
    (30.4, "1 month"),
    (91.3, "3 months"),
    (365.25, "1 year"),
    (730.5, "2 years"),
    (1826, "5 years"),
    (3652.5, "10 years"),
    (7305, "20 years"),
)


def log_time_axis(title: str, lo: float, hi: float) -> dict:
    """A log-scale time axis with ticks people read (1 day, 1 week, 1 month, 1 year...)."""
    ticks = [(v, t) for v, t in _LOG_TICKS if lo * 0.8 <= v <= hi * 1.25]
    return dict(
        title=f"{title} (log scale)",
        type="log",
        tickvals=[v for v, _ in ticks] or None,
        ticktext=[t for _, t in ticks] or None,
    )


def _reach_grid(fit, horizon, n_points=400):
    import numpy as np

    t = fit.data["t"].to_numpy(dtype=float)
    lo = min(0.0, float(t.min()))
    hi = float(t.max())
    if horizon is None:
        horizon = 0.1 * (hi - lo)
    hi = hi + float(horizon)
    grid = np.linspace(lo, hi, n_points)
    if hi > 0:  # resolve the first days of long series too
        first = max(hi * 1e-4, min(0.05, hi / n_points))
        grid = np.concatenate([grid, np.geomspace(first, hi, n_points)])
    return np.unique(np.concatenate([grid, t]))


def _reach_x(fit, frame, x):
    if x == "time" and fit.origin is not None:
        return frame["time"], "date"
    return frame[
        "t"
    ], "days since origin" if fit.origin is None else f"days since {fmt.date(fit.origin)}"


def _reach_observations(fig, fit, x, color_by):
    import pandas as pd

    obs = fit.data
    xs, _ = _reach_x(fit, obs, x)
    obs = obs.assign(_x=xs.to_numpy())
    n_sources = obs["source"].nunique()
    if color_by is None:
        color_by = "source" if n_sources <= len(PALETTE) else "confidence"
    groups = (
        obs.groupby("source", sort=False)
        if color_by == "source"
        else obs.groupby("confidence", sort=False)
    )
    for i, (key, g) in enumerate(groups):
        colour = (
            PALETTE[i % len(PALETTE)]
            if color_by == "source"
            else CONFIDENCE_COLOURS.get(str(key), "#777")
        )
        quotes = g["quote"].astype(object).where(g["quote"].notna(), "")
        custom = list(
            zip(
                [fmt.plot_text(s) for s in g["source"]],
                g["confidence"],
                g["qualifier"],
                [fmt.plot_text(str(q)[:160]) for q in quotes],
                g["weight"],
                [
                    ("" if pd.isna(tm) else pd.Timestamp(tm).strftime("%Y-%m-%d %H:%M"))
                    for tm in g["time"]
                ],
                g["t"],
            )
        )
        fig.add_trace(
            go.Scatter(
                x=g["_x"],
                y=g["y"],
                mode="markers",
                name=f"{key}" + (" confidence" if color_by == "confidence" else ""),
                legendgroup="observations",
                marker=dict(
                    color=colour,
                    size=9,
                    line=dict(width=1, color="#333"),
                    symbol=[_REACH_SYMBOLS.get(q, "circle") for q in g["qualifier"]],
                ),
                customdata=custom,
                hovertemplate=(
                    "<b>%{y:,.0f}</b> (%{customdata[2]})<br>%{customdata[5]} "
                    "(day %{customdata[6]:.2f})<br>source: %{customdata[0]}<br>"
                    "confidence: %{customdata[1]}, weight %{customdata[4]:g}<br>"
                    "<i>%{customdata[3]}</i><extra></extra>"
                ),
            )
        )


def _reach_events(fig, fit, x, x_range, y_top, kinds=None):
    ev = fit.events
    if ev is None or len(ev) == 0:
        return
    ev = ev[(ev["t"] >= x_range[0]) & (ev["t"] <= x_range[1])]
    if kinds is not None:
        ev = ev[ev["kind"].isin(list(kinds))]
    if ev.empty:
        return
    xs = ev["date"] if (x == "time" and fit.origin is not None) else ev["t"]
    # One layout update for all lines: add_shape re-validates every shape so far, each time.
    shapes = [
        dict(
            type="line",
            xref="x",
            yref="paper",
            x0=xv,
            x1=xv,
            y0=0,
            y1=1,
            line=dict(color=_REACH_EVENT_COLOURS.get(kind, "#999"), width=1, dash="dot"),
            layer="below",
        )
        for xv, kind in zip(xs, ev["kind"])
    ]
    fig.update_layout(shapes=list(fig.layout.shapes or ()) + shapes)
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=[y_top] * len(ev),
            mode="markers",
            name="timeline events",
            marker=dict(
                symbol="line-ns-open",
                size=14,
                color=[_REACH_EVENT_COLOURS.get(k, "#999") for k in ev["kind"]],
                line=dict(width=2),
            ),
            customdata=list(
                zip(
                    ev["kind"],
                    ev["actor"],
                    [fmt.plot_text(str(d)[:160]) for d in ev["description"]],
                    [str(d)[:10] for d in ev["date"]],
                )
            ),
            hovertemplate=(
                "<b>%{customdata[0]}</b> (%{customdata[1]}), %{customdata[3]}<br>"
                "%{customdata[2]}<extra></extra>"
            ),
        )
    )


def reach_plot(
    fit,
    *,
    horizon: float | None = None,
    log_y: bool = False,
    show_events: bool = True,
    interval: str | None = "confidence",
    alpha: float | None = None,
    bootstrap: int | None = None,
    x: str = "time",
    log_x: bool | None = False,
    color_by: str | None = None,
    event_kinds=None,
    title: str | None = None,
) -> go.Figure:
    """A fitted growth curve with its band, the observations and the case's timeline.

    Parameters
    ----------
    fit : casekit.reach.ReachFit
    horizon : float, optional
        Days to draw beyond the last observation (default 10 % of the data's span).
    log_y : bool
        Logarithmic reach axis (for counts spanning orders of magnitude).
    show_events : bool
        Timeline events as dotted vertical lines, with their description on hover
        (marker at the top of the plot).
    interval : {"confidence", "prediction", None}
        The band drawn around the curve (see :meth:`ReachFit.predict`).
    alpha : float, optional
        1 - level of the band.
    bootstrap : int, optional
        Bootstrap replicates for the band instead of the delta method.
    x : {"time", "t"}
        Dates (when the fit has an origin) or days since the origin.
    log_x : bool or None
        Logarithmic time axis in days since the origin, ticked 1 day, 1 week, 1 month,
        1 year... (points at t <= 0 are not shown). None: log when most observations
        crowd the start of a long span (:func:`wants_log_time`).
    color_by : {"source", "confidence", None}
        Marker colour; default by source when there are at most 8 sources, else by
        confidence. Marker shape shows the qualifier: circle exact, diamond about,
        triangle-up "more than", triangle-down "nearly" / "up to" (open).
    event_kinds : iterable of str, optional
        Only these timeline event kinds.
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import numpy as np

    grid = _reach_grid(fit, horizon)
    if log_x is None:
        log_x = wants_log_time(fit)
    if log_x:
        x = "t"
        grid = grid[grid > 0]
    pred = fit.predict(grid, interval=interval, alpha=alpha, bootstrap=bootstrap)
    if log_y:
        floor = max(float(fit.data["y"].min()) * 1e-2, 1e-9)
        pred["lower"] = pred["lower"].clip(lower=floor)
        pred = pred[pred["yhat"] > floor * 1e-2]
    xs, xtitle = _reach_x(fit, pred, x)
    fig = go.Figure()
    level = f"{(1 - (fit.alpha if alpha is None else alpha)) * 100:g} %"
    if interval is not None:
        xb = list(xs) + list(xs)[::-1]
        yb = list(pred["upper"]) + list(pred["lower"])[::-1]
        fig.add_trace(
            go.Scatter(
                x=xb,
                y=yb,
                fill="toself",
                fillcolor="rgba(31,95,168,0.18)",
                line=dict(width=0),
                hoverinfo="skip",
                name=f"{level} {interval} band" + (" (bootstrap)" if bootstrap else ""),
            )
        )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=pred["yhat"],
            mode="lines",
            name=f"{fit.curve} fit",
            line=dict(color=PALETTE[0], width=2.5),
            customdata=pred["t"],
            hovertemplate="day %{customdata:.2f}: %{y:,.0f}<extra></extra>",
        )
    )
    _reach_observations(fig, fit, x, color_by)
    if show_events:
        top = float(np.nanmax([pred["upper"].max(), fit.data["y"].max()]))
        _reach_events(
            fig,
            fit,
            x,
            (float(grid.min()), float(grid.max())),
            top * (1.4 if log_y else 1.05),
            event_kinds,
        )
    fig.update_layout(
        template="casekit",
        title=title or (fit._title() + f"<br><sub>{fit.spec.formula}</sub>"),
        xaxis=(
            log_time_axis(xtitle, float(grid.min()), float(grid.max()))
            if log_x
            else dict(title=xtitle)
        ),
        yaxis=dict(title=fit.metric or "reach", type="log" if log_y else "linear"),
        legend=dict(groupclick="toggleitem"),
    )
    return fig


def compare_plot(
    comparison,
    *,
    log_y: bool | None = None,
    horizon: float | None = None,
    show_events: bool = True,
    band: bool = True,
    x: str = "time",
    log_x: bool | None = False,
    title: str | None = None,
) -> go.Figure:
    """All fitted curves of a :class:`casekit.reach.Comparison` over the observations.

    The best curve (lowest AICc) is drawn thickest, with its confidence band when
    ``band``; the legend gives each curve's delta AICc. ``log_y=None`` draws a log axis
    when the curves were fitted on the log scale (the scale the fit was judged on).
    Other arguments as in :func:`reach_plot`.
    """
    import numpy as np

    if log_y is None:
        log_y = str(getattr(comparison, "loss", "")).endswith("log")

    tab = comparison.table
    fitted = [c for c in tab["curve"] if c in comparison.fits]
    if not fitted:
        fig = go.Figure()
        fig.update_layout(template="casekit", title="no curve could be fitted")
        return fig
    best = comparison.fits[fitted[0]]
    grid = _reach_grid(best, horizon)
    if log_x is None:
        log_x = wants_log_time(best)
    if log_x:
        x = "t"
        grid = grid[grid > 0]
    fig = go.Figure()
    top = float(best.data["y"].max())
    for i, name in enumerate(fitted):
        res = comparison.fits[name]
        pred = res.predict(grid, interval="confidence" if (band and i == 0) else None)
        if log_y:
            pred = pred[pred["yhat"] > float(best.data["y"].min()) * 1e-3]
        xs, xtitle = _reach_x(res, pred, x)
        d = float(tab.loc[tab["curve"] == name, "delta_aicc"].iloc[0])
        colour = PALETTE[i % len(PALETTE)]
        if band and i == 0:
            lower = pred["lower"].clip(lower=1e-9) if log_y else pred["lower"]
            fig.add_trace(
                go.Scatter(
                    x=list(xs) + list(xs)[::-1],
                    y=list(pred["upper"]) + list(lower)[::-1],
                    fill="toself",
                    fillcolor="rgba(31,95,168,0.15)",
                    line=dict(width=0),
                    hoverinfo="skip",
                    name=f"{name}: confidence band",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=pred["yhat"],
                mode="lines",
                name=f"{name} (dAICc {d:.1f})",
                line=dict(
                    color=colour, width=3 if i == 0 else 1.8, dash=None if i == 0 else "dash"
                ),
                customdata=pred["t"],
                hovertemplate=f"{name}: " + "%{y:,.0f} (day %{customdata:.1f})<extra></extra>",
            )
        )
        top = max(top, float(np.nanmax(pred["yhat"])))
    _reach_observations(fig, best, x, None)
    if show_events:
        _reach_events(
            fig, best, x, (float(grid.min()), float(grid.max())), top * (1.4 if log_y else 1.05)
        )
    where = f"{comparison.case_id}: " if comparison.case_id else ""
    fig.update_layout(
        template="casekit",
        title=title
        or f"{where}growth curves for {comparison.metric or 'y'} "
        f"(loss {comparison.loss}), ranked by AICc",
        xaxis=(
            log_time_axis(xtitle, float(grid.min()), float(grid.max()))
            if log_x
            else dict(title=xtitle)
        ),
        yaxis=dict(title=comparison.metric or "reach", type="log" if log_y else "linear"),
    )
    return fig


def reach_describe_plot(desc, case=None, *, log_y: bool = True) -> go.Figure:
    """The raw reach figures of a case, one marker series per metric (for data that
    cannot be fitted, :class:`casekit.reach.DescriptiveReach`). Hover: source, kind,
    confidence and whether the metric is cumulative.

    The figures come from ``case.reach`` when ``case`` is given, else from the figures
    ``desc`` kept (``desc.figures``); the case is never read again from disk."""
    if case is not None:
        reach_df = case.reach
    elif getattr(desc, "figures", None) is not None:
        reach_df = desc.figures
    else:
        from casekit.exceptions import ParameterError

        raise ParameterError(
            "this description kept no reach figures; pass the case: reach_describe_plot(desc, case)"
        )
    fig = go.Figure()
    for i, m in enumerate(desc.table["metric"]):
        g = reach_df[reach_df["metric"] == m]
        if g.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=g["time"],
                y=g["value"],
                mode="markers",
                name=m,
                marker=dict(
                    size=10,
                    color=PALETTE[i % len(PALETTE)],
                    symbol=[_REACH_SYMBOLS.get(q, "circle") for q in g["qualifier"]],
                ),
                customdata=list(zip(g["source"], g["kind"], g["confidence"], g["cumulative"])),
                hovertemplate=(
                    f"<b>{m}</b>: " + "%{y:,.0f}<br>%{x|%Y-%m-%d}<br>source: "
                    "%{customdata[0]} (%{customdata[1]}, %{customdata[2]})<br>"
                    "cumulative: %{customdata[3]}<extra></extra>"
                ),
            )
        )
    fig.update_layout(
        template="casekit",
        title=f"{desc.case_id}: reach figures"
        + ("" if desc.fittable else " (not enough data to fit a curve)"),
        xaxis_title="date",
        yaxis=dict(title="value", type="log" if log_y else "linear"),
    )
    return fig


# -- case timeline (casekit.cases) ---------------------------------------------------------


def normalised_plot(frame, *, horizon: float | None = 60.0) -> go.Figure:
    """Cases on one axis (from :func:`casekit.reach.normalised`): share of the largest
    recorded value against days since going public, up to ``horizon`` days.

    With a ``horizon``, only days -7 to ``horizon`` are drawn: points more than a week
    before going public, or after the horizon, are left out of the plot (the frame keeps
    them). ``horizon=None`` draws every point.

    Examples
    --------
    >>> import casekit as ck
    >>> frame = ck.reach.normalised([ck.load_case("synthetic-example")])
    >>> [trace.name for trace in ck.plots.normalised_plot(frame).data]
    ['synthetic-example']
    """
    fig = go.Figure(layout={"template": template()})
    shown = frame if horizon is None else frame[frame["t"].between(-7, horizon)]
    for case_id, grp in shown.sort_values(["case", "t"]).groupby("case", sort=True):
        fig.add_scatter(
            x=grp["t"],
            y=grp["share"],
            mode="lines+markers",
            name=str(case_id),
            customdata=grp[["metric", "value", "source", "confidence"]].to_numpy(),
            hovertemplate=(
                "day %{x:.2f}: %{y:.1%} of the largest recorded value"
                "<br>%{customdata[0]} = %{customdata[1]:,.0f}"
                "<br>source: %{customdata[2]} (%{customdata[3]})<extra></extra>"
            ),
        )
    fig.update_layout(
        title="Share of the largest recorded reach, by days since going public",
        xaxis_title="days since going public",
        yaxis={"title": "share of largest recorded value", "tickformat": ".0%"},
    )
    return fig
