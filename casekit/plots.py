"""Plotly figures for casekit results.

Every function here takes a result object (or a case) and returns a
:class:`plotly.graph_objects.Figure`; none of them calls ``.show()``. Result
objects delegate to them from their ``.plot()`` methods. Shared styling lives at
the top of this module: the ``casekit`` plotly template (registered on import as
``plotly.io.templates["casekit"]``) and the colours per confidence level.
"""

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

PALETTE = ("#1f5fa8", "#d1495b", "#2a9d8f", "#e9a03b", "#6a4c93", "#8d6e63", "#00798c",
           "#edae49")
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


# -- event study (casekit.market) ---------------------------------------------------------


def event_study_plot(study, event=0, benchmark: str = "market") -> go.Figure:
    """Daily abnormal returns (bars) and the CAR with its confidence band (line) of one event.

    Parameters
    ----------
    study : casekit.market.EventStudy
        Result of :func:`casekit.market.event_study`.
    event : int or str
        Event index or label (``"UAL 2009-07-06"``).
    benchmark : str
        ``"market"``, ``"peers"`` or ``"market_adjusted"`` (one the study ran).

    Returns
    -------
    plotly.graph_objects.Figure
        x: trading day relative to day 0 (dates in the hover), y: percent. A dashed
        vertical line marks day 0; the band is the study's confidence level for the CAR
        accumulated from the first day of the event window.
    """
    label = study._event_label(event)
    study._benchmark(benchmark)
    d = study.daily[(study.daily["event"] == label) & (study.daily["benchmark"] == benchmark)]
    level = f"{(1 - study.settings['alpha']) * 100:g} %"
    series = study.params.loc[(label, benchmark), "benchmark_series"]
    dates = d["date"].dt.strftime("%Y-%m-%d")
    x = d["rel_day"].tolist()
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=x + x[::-1], y=(d["car_upper"] * 100).tolist() + (d["car_lower"] * 100).tolist()[::-1],
        fill="toself", fillcolor="rgba(31,95,168,0.15)", line=dict(width=0),
        hoverinfo="skip", name=f"CAR {level} CI"))
    fig.add_trace(go.Bar(
        x=x, y=d["ar"] * 100, name="abnormal return", marker_color=PALETTE[1], opacity=0.75,
        customdata=dates, hovertemplate="%{customdata} (day %{x}): AR %{y:.2f} %<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=x, y=d["car"] * 100, mode="lines+markers", name="cumulative abnormal return",
        line=dict(color=PALETTE[0], width=2.5), customdata=dates,
        hovertemplate="%{customdata} (day %{x}): CAR %{y:.2f} %<extra></extra>"))
    fig.add_vline(x=0, line=dict(color="#555", dash="dash"),
                  annotation_text=f"day 0: {study.events[study._event_index(label)]['day0']:%Y-%m-%d}",
                  annotation_position="top left")
    fig.add_hline(y=0, line=dict(color="#888", width=1))
    fig.update_layout(
        template="casekit", barmode="overlay",
        title=f"{label}: abnormal returns against the {series}",
        xaxis=dict(title="trading day relative to the event", dtick=1),
        yaxis=dict(title="percent", ticksuffix=" %"))
    return fig


# -- response (casekit.response) -------------------------------------------------

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
    t = result.table[result.table["delay_days"] < float("inf")]
    y, lo, hi = (("reach_avoided", "avoided_lower", "avoided_upper") if show_avoided
                 else ("final_reach", "lower", "upper"))
    x = t["delay_days"].tolist()
    fig = go.Figure()
    if t[lo].notna().any():
        fig.add_trace(go.Scatter(x=x + x[::-1], y=t[hi].tolist() + t[lo].tolist()[::-1],
                                 fill="toself", fillcolor="rgba(31,95,168,0.15)",
                                 line=dict(width=0), hoverinfo="skip", name="band"))
    fig.add_trace(go.Scatter(x=x, y=t[y], mode="lines+markers", line=dict(color=PALETTE[0]),
                             name="reach avoided" if show_avoided else "final reach",
                             hovertemplate="delay %{x:g} d: %{y:,.0f}<extra></extra>"))
    if not show_avoided:
        fig.add_hline(y=result.fitted_final, line=dict(color="#555", dash="dot"),
                      annotation_text="no response (fitted curve)")
    a = result.table[result.table["actual"]]
    if not a.empty:
        fig.add_trace(go.Scatter(x=a["delay_days"], y=a[y], mode="markers",
                                 marker=dict(color=PALETTE[1], size=12, symbol="diamond"),
                                 name=f"actual delay ({a['delay_days'].iloc[0]:g} d)"))
        fig.add_vline(x=float(a["delay_days"].iloc[0]), line=dict(color=PALETTE[1], dash="dash"))
    fig.update_layout(template="casekit",
                      title=f"Delay cost: {result.model} damping, e = {result.effectiveness:g} "
                            f"({result.curve}, {result.metric})",
                      xaxis_title="response delay (days after going public)",
                      yaxis_title="reach avoided" if show_avoided else "expected final reach")
    return fig


def tornado_plot(result) -> go.Figure:
    """Tornado chart of a :class:`casekit.response.Sensitivity`: one bar per factor from
    its low to its high setting, around the base value, largest swing on top."""
    t = result.table.iloc[::-1]
    fig = go.Figure()
    for col, name, colour in (("output_low", "low setting", PALETTE[2]),
                              ("output_high", "high setting", PALETTE[1])):
        label = t["low_setting"] if col == "output_low" else t["high_setting"]
        fig.add_trace(go.Bar(y=t["factor"], x=t[col] - result.base, base=result.base,
                             orientation="h", name=name, marker_color=colour,
                             customdata=label, hovertemplate="%{y}: %{customdata} -> "
                             "%{x:,.0f}<extra></extra>"))
    fig.add_vline(x=result.base, line=dict(color="#333"))
    fig.update_layout(template="casekit", barmode="overlay",
                      title="Sensitivity of the money cost of the delay",
                      xaxis_title=f"cost of the delay ({result.unit})", yaxis_title="")
    return fig


def severity_plot(result) -> go.Figure:
    """Shitstorm-scale level (0-6) per day, with the first response marked."""
    t = result.table
    fig = go.Figure(go.Scatter(x=t["date"], y=t["level"], mode="lines", line_shape="hv",
                               line=dict(color=PALETTE[1], width=2.5), name="level",
                               hovertemplate="%{x|%Y-%m-%d}: level %{y}<extra></extra>"))
    if result.first_response is not None:
        fig.add_vline(x=result.first_response.to_pydatetime().timestamp() * 1000,
                      line=dict(color=PALETTE[0], dash="dash"),
                      annotation_text="first response")
    fig.update_layout(template="casekit", title=f"Severity over time ({result.case_id})",
                      yaxis=dict(range=[-0.2, 6.2], dtick=1, title="Shitstorm level"),
                      xaxis_title="date")
    return fig


def delays_plot(result) -> go.Figure:
    """Gantt chart of :class:`casekit.response.Delays`: one bar per computable delay from
    its start key date to its end key date; delays that cannot be computed are listed in
    the title."""
    t = result.table[result.table["computable"]]
    fig = go.Figure()
    for i, (_, r) in enumerate(t.iterrows()):
        ms = (r["end_date"] - r["start_date"]).total_seconds() * 1000
        fig.add_trace(go.Bar(y=[r["delay"]], x=[ms], base=[r["start_date"]], orientation="h",
                             marker_color=PALETTE[i % len(PALETTE)], name=r["delay"],
                             hovertemplate=f"{r['start']} -> {r['end']}: {r['days']:g} days"
                                           "<extra></extra>", showlegend=False))
    missing = result.table.loc[~result.table["computable"], "delay"].tolist()
    title = f"Delays ({result.case_id})"
    if missing:
        title += f"<br><sub>not computable: {', '.join(missing)}</sub>"
    fig.update_layout(template="casekit", title=title, xaxis=dict(type="date", title="date"),
                      yaxis=dict(autorange="reversed"))
    return fig


def detection_plot(result) -> go.Figure:
    """Replayed spike rules of a :class:`casekit.response.Detection`: window mean and the
    rule's threshold per check, alerts marked, going public and the response as lines."""
    fig = go.Figure()
    c = result.checks
    for i, ((metric, rule), g) in enumerate(c.groupby(["metric", "rule"], sort=False)):
        colour = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(x=g["window_end"], y=g["threshold_value"], mode="lines",
                                 line=dict(color=colour, dash="dot"),
                                 name=f"{metric}: {rule} threshold"))
        fired = g[g["fired"]]
        fig.add_trace(go.Scatter(x=fired["window_end"], y=fired["window_mean"], mode="markers",
                                 marker=dict(color=colour, size=9), name=f"{rule} fires"))
    for metric, g in c.groupby("metric", sort=False):
        first = g.drop_duplicates("window_end")
        fig.add_trace(go.Scatter(x=first["window_end"], y=first["window_mean"], mode="lines",
                                 line=dict(color="#333"), name=f"{metric}: window mean"))
    for when, name, colour in ((result.going_public, "going public", "#555"),
                               (result.first_response, "first response", PALETTE[1])):
        if when is not None:
            fig.add_vline(x=when.to_pydatetime().timestamp() * 1000,
                          line=dict(color=colour, dash="dash"), annotation_text=name)
    fig.update_layout(template="casekit", title=f"Detection replay ({result.case_id})",
                      xaxis_title="end of checked window", yaxis_title="count per interval")
    return fig


# -- reach (casekit.reach) -------------------------------------------------------

_REACH_SYMBOLS = {"exact": "circle", "about": "diamond", "more_than": "triangle-up",
                  "nearly": "triangle-down", "up_to": "triangle-down-open"}
"""Marker per qualifier: "more than" points up (the truth is higher), "nearly"/"up to" down."""

_REACH_EVENT_COLOURS = {"publication": "#1f5fa8", "coverage": "#6a4c93", "response": "#d1495b",
                        "offer": "#e9a03b", "resolution": "#2a9d8f", "escalation": "#8d6e63"}


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
    return frame["t"], "days since origin" if fit.origin is None else \
        f"days since {fit.origin.date()}"


def _reach_observations(fig, fit, x, color_by):
    import pandas as pd

    obs = fit.data
    xs, _ = _reach_x(fit, obs, x)
    obs = obs.assign(_x=xs.to_numpy())
    n_sources = obs["source"].nunique()
    if color_by is None:
        color_by = "source" if n_sources <= len(PALETTE) else "confidence"
    groups = (obs.groupby("source", sort=False) if color_by == "source"
              else obs.groupby("confidence", sort=False))
    for i, (key, g) in enumerate(groups):
        colour = (PALETTE[i % len(PALETTE)] if color_by == "source"
                  else CONFIDENCE_COLOURS.get(str(key), "#777"))
        quotes = g["quote"].astype(object).where(g["quote"].notna(), "")
        custom = list(zip(g["source"], g["confidence"], g["qualifier"],
                          [str(q)[:160] for q in quotes], g["weight"],
                          [("" if pd.isna(tm) else pd.Timestamp(tm).strftime("%Y-%m-%d %H:%M"))
                           for tm in g["time"]], g["t"]))
        fig.add_trace(go.Scatter(
            x=g["_x"], y=g["y"], mode="markers",
            name=f"{key}" + (" confidence" if color_by == "confidence" else ""),
            legendgroup="observations",
            marker=dict(color=colour, size=9, line=dict(width=1, color="#333"),
                        symbol=[_REACH_SYMBOLS.get(q, "circle") for q in g["qualifier"]]),
            customdata=custom,
            hovertemplate=("<b>%{y:,.0f}</b> (%{customdata[2]})<br>%{customdata[5]} "
                           "(day %{customdata[6]:.2f})<br>source: %{customdata[0]}<br>"
                           "confidence: %{customdata[1]}, weight %{customdata[4]:g}<br>"
                           "<i>%{customdata[3]}</i><extra></extra>")))


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
    shapes = [dict(type="line", xref="x", yref="paper", x0=xv, x1=xv, y0=0, y1=1,
                   line=dict(color=_REACH_EVENT_COLOURS.get(kind, "#999"), width=1, dash="dot"),
                   layer="below") for xv, kind in zip(xs, ev["kind"])]
    fig.update_layout(shapes=list(fig.layout.shapes or ()) + shapes)
    fig.add_trace(go.Scatter(
        x=xs, y=[y_top] * len(ev), mode="markers", name="timeline events",
        marker=dict(symbol="line-ns-open", size=14, color=[
            _REACH_EVENT_COLOURS.get(k, "#999") for k in ev["kind"]], line=dict(width=2)),
        customdata=list(zip(ev["kind"], ev["actor"], [str(d)[:160] for d in ev["description"]],
                            [str(d)[:10] for d in ev["date"]])),
        hovertemplate=("<b>%{customdata[0]}</b> (%{customdata[1]}), %{customdata[3]}<br>"
                       "%{customdata[2]}<extra></extra>")))


def reach_plot(fit, *, horizon: float | None = None, log_y: bool = False,
               show_events: bool = True, interval: str | None = "confidence",
               alpha: float | None = None, bootstrap: int | None = None, x: str = "time",
               log_x: bool = False, color_by: str | None = None, event_kinds=None,
               title: str | None = None) -> go.Figure:
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
    log_x : bool
        Logarithmic time axis (only with ``x="t"``; points at t <= 0 are not shown).
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
    if log_x:
        x = "t"
        grid = grid[grid > 0]
    pred = fit.predict(grid, interval=interval, alpha=alpha, bootstrap=bootstrap)
    if log_y:
        floor = max(float(fit.data["y"].min()) * 1e-2, 1e-9)
        pred["yhat_lower"] = pred["yhat_lower"].clip(lower=floor)
        pred = pred[pred["yhat"] > floor * 1e-2]
    xs, xtitle = _reach_x(fit, pred, x)
    fig = go.Figure()
    level = f"{(1 - (fit.alpha if alpha is None else alpha)) * 100:g} %"
    if interval is not None:
        xb = list(xs) + list(xs)[::-1]
        yb = list(pred["yhat_upper"]) + list(pred["yhat_lower"])[::-1]
        fig.add_trace(go.Scatter(x=xb, y=yb, fill="toself", fillcolor="rgba(31,95,168,0.18)",
                                 line=dict(width=0), hoverinfo="skip",
                                 name=f"{level} {interval} band"
                                      + (" (bootstrap)" if bootstrap else "")))
    fig.add_trace(go.Scatter(x=xs, y=pred["yhat"], mode="lines", name=f"{fit.curve} fit",
                             line=dict(color=PALETTE[0], width=2.5),
                             customdata=pred["t"],
                             hovertemplate="day %{customdata:.2f}: %{y:,.0f}<extra></extra>"))
    _reach_observations(fig, fit, x, color_by)
    if show_events:
        top = float(np.nanmax([pred["yhat_upper"].max(), fit.data["y"].max()]))
        _reach_events(fig, fit, x, (float(grid.min()), float(grid.max())),
                      top * (1.4 if log_y else 1.05), event_kinds)
    fig.update_layout(
        template="casekit",
        title=title or (fit._title() + f"<br><sub>{fit.spec.formula}</sub>"),
        xaxis=dict(title=xtitle, type="log" if log_x else None),
        yaxis=dict(title=fit.metric or "reach", type="log" if log_y else "linear"),
        legend=dict(groupclick="toggleitem"))
    return fig


def compare_plot(comparison, *, log_y: bool | None = None, horizon: float | None = None,
                 show_events: bool = True, band: bool = True, x: str = "time",
                 log_x: bool = False, title: str | None = None) -> go.Figure:
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
            lower = pred["yhat_lower"].clip(lower=1e-9) if log_y else pred["yhat_lower"]
            fig.add_trace(go.Scatter(x=list(xs) + list(xs)[::-1],
                                     y=list(pred["yhat_upper"]) + list(lower)[::-1],
                                     fill="toself", fillcolor="rgba(31,95,168,0.15)",
                                     line=dict(width=0), hoverinfo="skip",
                                     name=f"{name}: confidence band"))
        fig.add_trace(go.Scatter(x=xs, y=pred["yhat"], mode="lines",
                                 name=f"{name} (dAICc {d:.1f})",
                                 line=dict(color=colour, width=3 if i == 0 else 1.8,
                                           dash=None if i == 0 else "dash"),
                                 customdata=pred["t"],
                                 hovertemplate=f"{name}: " + "%{y:,.0f} (day %{customdata:.1f})"
                                               "<extra></extra>"))
        top = max(top, float(np.nanmax(pred["yhat"])))
    _reach_observations(fig, best, x, None)
    if show_events:
        _reach_events(fig, best, x, (float(grid.min()), float(grid.max())),
                      top * (1.4 if log_y else 1.05))
    where = f"{comparison.case_id}: " if comparison.case_id else ""
    fig.update_layout(
        template="casekit",
        title=title or f"{where}growth curves for {comparison.metric or 'y'} "
                       f"(loss {comparison.loss}), ranked by AICc",
        xaxis=dict(title=xtitle, type="log" if log_x else None),
        yaxis=dict(title=comparison.metric or "reach", type="log" if log_y else "linear"))
    return fig


def waiting_plot(result, *, points: int = 200) -> go.Figure:
    """Reach while waiting: the fitted curve with its band, the reach accrued before the
    response shaded, and the response marked (:class:`casekit.response.WaitingReach`)."""
    import numpy as np

    fit = result.fit
    t_end = result.horizon if np.isfinite(result.horizon) else max(
        3 * max(result.response_t, 1.0), float(fit.data["t"].max()))
    t = np.linspace(min(0.0, float(fit.data["t"].min())), t_end, points)
    p = fit.predict(t, interval="confidence")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=list(p["t"]) + list(p["t"])[::-1],
                             y=list(p["yhat_upper"]) + list(p["yhat_lower"])[::-1], fill="toself",
                             fillcolor="rgba(31,95,168,0.12)", line=dict(width=0),
                             hoverinfo="skip", name="confidence band"))
    before = p[p["t"] <= result.response_t]
    fig.add_trace(go.Scatter(x=before["t"], y=before["yhat"], fill="tozeroy", mode="lines",
                             line=dict(color=PALETTE[1]), fillcolor="rgba(209,73,91,0.25)",
                             name="reach before the response"))
    fig.add_trace(go.Scatter(x=p["t"], y=p["yhat"], mode="lines", line=dict(color=PALETTE[0]),
                             name=f"fitted {result.curve}"))
    fig.add_vline(x=result.response_t, line=dict(color=PALETTE[1], dash="dash"),
                  annotation_text=f"response (day {result.response_t:g})")
    fig.update_layout(template="casekit", title=f"Reach while waiting ({result.case_id})",
                      xaxis_title="days since going public", yaxis_title=result.metric or "reach")
    return fig


def money_lenses_plot(result) -> go.Figure:
    """The money lenses of a :class:`casekit.response.MoneyLenses` as a table figure: one
    row per lens with its range and unit, never a total (the units differ)."""
    t = result.table

    def fmt(v):
        return "" if v != v else f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"

    cells = [t["lens"], [fmt(v) for v in t["low"]], [fmt(v) for v in t["central"]],
             [fmt(v) for v in t["high"]], t["unit"], ["yes" if s else "no" for s in t["supported"]],
             t["statement"]]
    fig = go.Figure(go.Table(
        header=dict(values=["lens", "low", "central", "high", "unit", "supported", "statement"],
                    fill_color="#e5e5e5", align="left"),
        cells=dict(values=cells, align="left")))
    fig.update_layout(template="casekit",
                      title=f"Money lenses ({result.case_id}): side by side, never summed")
    return fig


def reach_describe_plot(desc, case=None, *, log_y: bool = True) -> go.Figure:
    """The raw reach figures of a case, one marker series per metric (for data that
    cannot be fitted, :class:`casekit.reach.DescriptiveReach`). Hover: source, kind,
    confidence and whether the metric is cumulative.

    The figures come from ``case.reach`` when ``case`` is given, else from the figures
    ``desc`` kept (``desc.figures``); only a summary without them reloads the case."""
    if case is not None:
        reach_df = case.reach
    elif getattr(desc, "figures", None) is not None:
        reach_df = desc.figures
    else:
        import casekit as ck

        reach_df = ck.load_case(desc.case_id).reach
    fig = go.Figure()
    for i, m in enumerate(desc.table["metric"]):
        g = reach_df[reach_df["metric"] == m]
        if g.empty:
            continue
        fig.add_trace(go.Scatter(
            x=g["time"], y=g["value"], mode="markers", name=m,
            marker=dict(size=10, color=PALETTE[i % len(PALETTE)],
                        symbol=[_REACH_SYMBOLS.get(q, "circle") for q in g["qualifier"]]),
            customdata=list(zip(g["source"], g["kind"], g["confidence"], g["cumulative"])),
            hovertemplate=(f"<b>{m}</b>: " + "%{y:,.0f}<br>%{x|%Y-%m-%d}<br>source: "
                           "%{customdata[0]} (%{customdata[1]}, %{customdata[2]})<br>"
                           "cumulative: %{customdata[3]}<extra></extra>")))
    fig.update_layout(template="casekit",
                      title=f"{desc.case_id}: reach figures"
                            + ("" if desc.fittable else " (not enough data to fit a curve)"),
                      xaxis_title="date", yaxis=dict(title="value",
                                                     type="log" if log_y else "linear"))
    return fig


# -- case timeline (casekit.cases) ---------------------------------------------------------

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
            x=grp["date"], y=grp["actor"], mode="markers", name=str(kind),
            marker={"size": 12, "color": PALETTE[i % len(PALETTE)],
                    "symbol": ["circle" if e else "circle-open" for e in exact],
                    "line": {"width": 2}},
            customdata=grp[["description", "source", "confidence", "date_precision"]].to_numpy(),
            hovertemplate=("%{x|%Y-%m-%d}: %{customdata[0]}<br>source: %{customdata[1]}"
                           "<br>confidence: %{customdata[2]}, date precision: "
                           "%{customdata[3]}<extra>%{fullData.name}</extra>"))
    present = [a for a in _ACTOR_ORDER if a in set(events["actor"])]
    fig.update_layout(title=f"Timeline: {case.title}", xaxis_title="date",
                      yaxis={"categoryorder": "array", "categoryarray": present[::-1],
                             "title": None, "automargin": True},
                      legend_title="kind of event")
    return fig


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
            x=grp["t"], y=grp["share"], mode="lines+markers", name=str(case_id),
            customdata=grp[["metric", "value", "source", "confidence"]].to_numpy(),
            hovertemplate=("day %{x:.2f}: %{y:.1%} of the largest recorded value"
                           "<br>%{customdata[0]} = %{customdata[1]:,.0f}"
                           "<br>source: %{customdata[2]} (%{customdata[3]})<extra></extra>"))
    fig.update_layout(title="Share of the largest recorded reach, by days since going public",
                      xaxis_title="days since going public",
                      yaxis={"title": "share of largest recorded value", "tickformat": ".0%"})
    return fig
