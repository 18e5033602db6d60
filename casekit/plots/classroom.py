"""Classroom figures: the first weeks of a storm, what-if scenarios, the 400 contacts.

The ``*_slider_figure`` functions draw plotly sliders over precomputed scenarios. A slider
step only calls plotly.js's own ``restyle``/``update`` with stored values, so the sliders
keep working in a rendered page with no kernel, no network and a Content-Security-Policy
that forbids inline event handlers; the figure holds no ``frames`` (a report page draws
``data`` and ``layout`` only). Two sliders over one grid cannot each set the same trace
attribute, so the what-if figure holds one curve per (answer day, effectiveness): the day
slider sets which curves are ``visible``, the effectiveness slider which are opaque, and
exactly one curve is both.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from casekit import format as fmt
from casekit.plots.theme import PALETTE, template

__all__ = [
    "DEFAULT_WINDOW",
    "first_weeks",
    "what_if_figure",
    "what_if_slider_figure",
    "scenario_plot",
    "contacts_figure",
    "contacts_slider_figure",
]

DEFAULT_WINDOW = 60.0
"""Days after going public that the classroom's reach figures show."""

_CF_COLOUR = PALETTE[1]
_EVENTS_TRACE = "timeline events"


def _x_of(fit, t):
    """Dates for days ``t`` since the fit's origin (days when it has none)."""
    t = np.asarray(t, dtype=float)
    return t if fit.origin is None else fit.origin + pd.to_timedelta(t, unit="D")


def _days_of(fit, x) -> np.ndarray:
    if fit.origin is None:
        return np.asarray(x, dtype=float)
    return np.asarray((pd.to_datetime(np.asarray(x)) - fit.origin) / pd.Timedelta(days=1))


def first_weeks(fit, days: float = DEFAULT_WINDOW, before: float = 3.0, **kwargs) -> go.Figure:
    """The fit's figure (:meth:`ReachFit.plot`) zoomed to the first ``days`` after going
    public, where the story is told, with the reach axis scaled to what is visible.

    Keyword arguments go to :func:`casekit.plots.reach_plot`. The title says how many
    observations lie outside the window.

    Examples
    --------
    >>> import casekit as ck
    >>> fit = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
    >>> fig = first_weeks(fit, days=20)
    >>> [round(v) for v in _days_of(fit, fig.layout.xaxis.range)]
    [-3, 20]
    """
    days = float(days)
    if not days > 0:
        from casekit.exceptions import ParameterError

        raise ParameterError(f"days must be a positive number of days, not {days!r}")
    fig = fit.plot(**kwargs)
    lo, hi = -float(before), days
    top = 0.0
    for tr in fig.data:
        if tr.name == _EVENTS_TRACE or tr.x is None or tr.y is None:
            continue
        t = _days_of(fit, tr.x)
        y = np.asarray(tr.y, dtype=float)
        inside = (t >= lo) & (t <= hi) & np.isfinite(y)
        if inside.any():
            top = max(top, float(y[inside].max()))
    top = top * 1.08 or 1.0
    for tr in fig.data:
        if tr.name == _EVENTS_TRACE:
            tr.y = [top * 0.97] * len(tr.y)
    t_obs = fit.data["t"].to_numpy(dtype=float)
    outside = int(((t_obs < lo) | (t_obs > hi)).sum())
    start = "going public" if fit.origin is not None else "day 0"
    note = f"first {fmt.number(days)} days after {start}" + (
        f"; {outside} of {len(t_obs)} observations lie later and are not shown" if outside else ""
    )
    fig.update_layout(
        xaxis_range=list(_x_of(fit, [lo, hi])),
        yaxis_range=[0, top],
        margin={"t": 110},
    )
    fig.add_annotation(
        text=note,
        xref="paper",
        yref="paper",
        x=0,
        y=1.0,
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        font={"size": 12, "color": "#555"},
    )
    return fig


def _final_rows(fit, delays, e, model, n_draws) -> pd.DataFrame:
    from casekit import response

    dc = response.delay_cost(
        fit, delays=list(delays), effectiveness=e, model=model, n_draws=n_draws, seed=0
    )
    return dc.table.drop_duplicates("delay_days").set_index("delay_days")


def _scenario_name(delay: float, e: float, row) -> str:
    final = fmt.interval(row["final_reach"], row["lower"], row["upper"])
    return (
        f"answer on day {fmt.number(delay)}, effectiveness {fmt.percent(e, 0)}: final reach {final}"
    )


def _curves(fit, delay, e, model, window, points):
    """Dates (or days), the fitted curve and the what-if curve of one scenario (the
    numbers of :func:`casekit.response.what_if`)."""
    from casekit.response.counterfactual import what_if_curves

    t, fitted, cf, _ = what_if_curves(fit, delay, e, model=model, horizon=window, points=points)
    return _x_of(fit, t), fitted, cf


def _observed(fit, window):
    obs = fit.data[(fit.data["t"] >= 0) & (fit.data["t"] <= window)]
    return go.Scatter(
        x=_x_of(fit, obs["t"]),
        y=obs["y"],
        mode="markers",
        name="observed",
        marker={"color": "#333", "size": 7},
        hovertemplate="%{x}: %{y:,.0f}<extra>observed</extra>",
    )


def _layout(fig, fit, title):
    fig.update_layout(
        template=template(),
        title=title,
        xaxis_title=None if fit.origin is not None else "days since going public",
        yaxis_title=str(getattr(fit, "metric", None) or "reach"),
        legend={"orientation": "h", "y": -0.18, "x": 0},
    )


def what_if_figure(
    fit,
    delay: float,
    effectiveness: float,
    *,
    model: str = "intervention",
    window: float = DEFAULT_WINDOW,
    n_draws: int = 200,
    points: int = 121,
) -> go.Figure:
    """One what-if scenario over the first ``window`` days: the fitted curve, the curve had
    the company answered on day ``delay`` (:func:`casekit.response.what_if`) and, in the
    legend, its final reach with an interval (:func:`casekit.response.delay_cost`).

    Examples
    --------
    >>> import casekit as ck
    >>> fit = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
    >>> fig = what_if_figure(fit, 2, 0.5, window=20)
    >>> [tr.name.split(":")[0] for tr in fig.data]
    ['observed', 'fitted curve (the answer as it happened)', 'answer on day 2, effectiveness 50 %']
    """
    x, actual, cf = _curves(fit, delay, effectiveness, model, window, points)
    row = _final_rows(fit, [delay], effectiveness, model, n_draws).loc[float(delay)]
    fig = go.Figure()
    fig.add_trace(_observed(fit, window))
    fig.add_scatter(
        x=x, y=actual, name="fitted curve (the answer as it happened)", line={"color": "#888"}
    )
    fig.add_scatter(
        x=x,
        y=cf,
        name=_scenario_name(delay, effectiveness, row),
        line={"color": _CF_COLOUR, "width": 3},
    )
    ans = _x_of(fit, [float(delay)])[0]
    fig.add_shape(
        type="line",
        x0=ans,
        x1=ans,
        y0=0,
        y1=1,
        yref="paper",
        line={"dash": "dot", "color": _CF_COLOUR},
    )
    saved = actual[-1] - cf[-1]  # a later answer than the real one: more reach, not less
    _layout(
        fig,
        fit,
        f"What if the company had answered on day {fmt.number(delay)}?"
        f"<br><sub>about {fmt.compact(abs(saved))} {'fewer' if saved >= 0 else 'more'} by "
        f"day {fmt.number(window)} ({model} model)</sub>",
    )
    fig.update_layout(height=520, legend_y=-0.22)
    return fig


def _nearest(values: Sequence[float], want: float) -> int:
    return int(np.argmin(np.abs(np.asarray(values, float) - float(want))))


def _slider(active, steps, prefix, y):
    return {
        "active": active,
        "currentvalue": {"prefix": prefix, "font": {"size": 14}},
        "pad": {"t": 10, "b": 10},
        "x": 0.0,
        "len": 1.0,
        "y": y,
        "yanchor": "top",
        "steps": steps,
    }


def what_if_slider_figure(
    fit,
    delays: Sequence[float],
    effectiveness: Sequence[float],
    *,
    delay: float | None = None,
    start_effectiveness: float | None = None,
    model: str = "intervention",
    window: float = DEFAULT_WINDOW,
    n_draws: int = 200,
    points: int = 121,
) -> go.Figure:
    """The what-if figure with two plotly sliders (answer day, effectiveness) over the grid
    ``delays`` x ``effectiveness``, precomputed: the sliders work with no kernel.

    Each scenario is drawn as in :func:`what_if_figure`; the first one shown is the grid
    point nearest ``delay`` and ``start_effectiveness``.

    Examples
    --------
    >>> import casekit as ck
    >>> fit = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
    >>> fig = what_if_slider_figure(fit, [0, 3], [0.5, 0.9], window=20)
    >>> [len(s.steps) for s in fig.layout.sliders]
    [2, 2]
    >>> sum(bool(tr.visible is not False and tr.opacity != 0) for tr in fig.data)
    4
    """
    delays = [float(d) for d in delays]
    effs = [float(e) for e in effectiveness]
    if not delays or not effs:
        from casekit.exceptions import ParameterError

        raise ParameterError("delays and effectiveness need at least one value each")
    i0 = _nearest(delays, delays[0] if delay is None else delay)
    j0 = _nearest(effs, effs[0] if start_effectiveness is None else start_effectiveness)
    finals = {e: _final_rows(fit, delays, e, model, n_draws) for e in effs}
    curves = {(d, e): _curves(fit, d, e, model, window, points) for d in delays for e in effs}
    x = curves[(delays[0], effs[0])][0]
    x = [str(v) for v in pd.Index(x)] if fit.origin is not None else list(x)
    obs = _observed(fit, window)
    top = 1.05 * max(
        [float(np.nanmax(c[1])) for c in curves.values()]
        + [float(np.nanmax(c[2])) for c in curves.values()]
        + ([float(np.nanmax(obs.y))] if len(obs.y) else [])
    )
    fig = go.Figure()
    fig.add_trace(obs)
    # the fitted curve for each effectiveness: in the intervention model each is the fit
    # with the response inside at that e, and each passes through the observations
    fitted = []
    for j, e in enumerate(effs):
        fitted.append(len(fig.data))
        fig.add_scatter(
            x=x,
            y=np.round(curves[(delays[0], e)][1], 1).tolist(),
            name="fitted curve (the answer as it happened)",
            opacity=1.0 if j == j0 else 0.0,
            showlegend=j == j0,
            hoverinfo="x+y+name" if j == j0 else "skip",
            line={"color": "#888"},
        )
    lines, cfs = [], []
    for i, d in enumerate(delays):
        ans = str(_x_of(fit, [d])[0]) if fit.origin is not None else d
        lines.append(len(fig.data))
        fig.add_scatter(
            x=[ans, ans],
            y=[0, top],
            mode="lines",
            showlegend=False,
            hoverinfo="skip",
            visible=i == i0,
            line={"dash": "dot", "color": _CF_COLOUR, "width": 1.5},
        )
    for i, d in enumerate(delays):
        for j, e in enumerate(effs):
            cfs.append(len(fig.data))
            shown = j == j0
            fig.add_scatter(
                x=x,
                y=np.round(curves[(d, e)][2], 1).tolist(),
                name=_scenario_name(d, e, finals[e].loc[d]),
                visible=i == i0,
                opacity=1.0 if shown else 0.0,
                showlegend=shown,
                hoverinfo="x+y+name" if shown else "skip",
                line={"color": _CF_COLOUR, "width": 3},
            )
    day_steps = []
    for i, d in enumerate(delays):
        vis = [k == i for k in range(len(delays))]
        vis += [k // len(effs) == i for k in range(len(delays) * len(effs))]
        day_steps.append(
            {"label": fmt.number(d), "method": "restyle", "args": [{"visible": vis}, lines + cfs]}
        )
    eff_steps = []
    for j, e in enumerate(effs):
        on = [k % len(effs) == j for k in range(len(cfs))] + [k == j for k in range(len(effs))]
        eff_steps.append(
            {
                "label": fmt.percent(e, 0),
                "method": "restyle",
                "args": [
                    {
                        "opacity": [1.0 if o else 0.0 for o in on],
                        "showlegend": on,
                        "hoverinfo": ["x+y+name" if o else "skip" for o in on],
                    },
                    cfs + fitted,
                ],
            }
        )
    _layout(
        fig,
        fit,
        "What if the company had answered on another day?"
        f"<br><sub>move the sliders below the figure ({model} model; final reach with "
        "its 95 % interval in the legend)</sub>",
    )
    fig.update_layout(
        height=660,
        margin={"b": 250},
        yaxis_range=[0, top],
        legend={"y": -0.12, "yanchor": "top"},
        sliders=[
            _slider(i0, day_steps, "company answers on day ", -0.3),
            _slider(j0, eff_steps, "effectiveness of the answer: ", -0.58),
        ],
    )
    return fig


def scenario_plot(grid: pd.DataFrame, title: str = "") -> go.Figure:
    """Expected final reach against the answer day, one line per effectiveness, with the
    95 % interval as error bars (``grid`` from :func:`casekit.classroom.scenarios`)."""
    fig = go.Figure(layout={"template": template()})
    for i, (e, part) in enumerate(grid.groupby("effectiveness", sort=True)):
        part = part[np.isfinite(part["delay_days"])].sort_values("delay_days")
        fig.add_scatter(
            x=part["delay_days"],
            y=part["final_reach"],
            mode="lines+markers",
            name=f"effectiveness {fmt.percent(e, 0)}",
            line={"color": PALETTE[i % len(PALETTE)]},
            error_y={
                "type": "data",
                "array": part["upper"] - part["final_reach"],
                "arrayminus": part["final_reach"] - part["lower"],
            },
            customdata=[
                fmt.interval(a, b, c)
                for a, b, c in zip(part["final_reach"], part["lower"], part["upper"])
            ],
            hovertemplate="answer on day %{x}: %{customdata}<extra>%{fullData.name}</extra>",
        )
    fig.update_layout(
        title=title,
        xaxis_title="company answers on day",
        yaxis_title="expected final reach",
        yaxis_tickformat="~s",
    )
    return fig


# --- the 400 contacts ------------------------------------------------------------------------

_N_MAX = 1.2  # right end of the n* axis


@functools.lru_cache(maxsize=8)
def _threshold_curve(first: int, alpha: float) -> tuple[tuple, tuple, tuple, tuple]:
    from casekit.classroom import contacts

    m = np.concatenate([np.linspace(0, 0.9, 19), np.linspace(0.91, 0.99, 9)])
    s = [contacts(v, first, alpha=alpha) for v in m]
    return (
        tuple(m),
        tuple(x.expected for x in s),
        tuple(x.lower for x in s),
        tuple(x.upper for x in s),
    )


def contacts_figure(
    n_star: float, first: int = 400, *, rounds: int = 12, alpha: float = 0.05
) -> go.Figure:
    """The 400-contacts scenario at one n*: left, expected readers against n* with the
    branching threshold at n* = 1 and the interval; right, new readers in each round of
    passing on (:func:`casekit.classroom.contacts` gives the numbers).

    Examples
    --------
    >>> fig = contacts_figure(0.9)
    >>> fig.data[2].y[0], fig.data[3].y[:3]
    (4000.0, (400.0, 360.0, 324.0))
    """
    from plotly.subplots import make_subplots

    from casekit.classroom import contacts

    s = contacts(n_star, first, alpha=alpha)
    m, mean, lo, hi = _threshold_curve(s.first, s.alpha)
    level = fmt.percent(1 - s.alpha, 0)
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.56, 0.44],
        horizontal_spacing=0.12,
        subplot_titles=(
            "readers in all, against n* (log scale)",
            "new readers in each round of passing on",
        ),
    )
    fig.add_scatter(
        x=list(m) + list(m)[::-1],
        y=list(hi) + list(lo)[::-1],
        fill="toself",
        fillcolor="rgba(209,73,91,0.18)",
        line={"width": 0},
        hoverinfo="skip",
        name=f"{level} interval",
        row=1,
        col=1,
    )
    fig.add_scatter(
        x=m,
        y=mean,
        mode="lines",
        name=f"expected: {s.first} / (1 − n*)",
        line={"color": PALETTE[1], "width": 2.5},
        row=1,
        col=1,
    )
    fig.add_trace(_contacts_marker(s, level), row=1, col=1)
    g = s.generations(rounds)
    fig.add_bar(
        x=g["round"].tolist(),
        y=g["readers"].round(1).tolist(),
        name="expected new readers",
        marker_color=PALETTE[0],
        row=1,
        col=2,
    )
    top = 2e6
    fig.add_vrect(x0=1.0, x1=_N_MAX, fillcolor="#eee", line_width=0, layer="below", row=1, col=1)
    fig.add_vline(x=1.0, line_dash="dash", line_color="#555", row=1, col=1)
    fig.add_annotation(
        x=1.0,
        y=math.log10(top),
        xref="x",
        yref="y",
        text="branching<br>threshold",
        showarrow=False,
        xanchor="left",
        yanchor="top",
        font={"size": 11},
    )
    fig.update_xaxes(
        title_text="n*: new readers each reader brings", range=[0, _N_MAX], row=1, col=1
    )
    fig.update_yaxes(
        type="log",
        range=[math.log10(first) - 0.2, math.log10(top)],
        title_text="readers in all",
        row=1,
        col=1,
    )
    fig.update_xaxes(title_text="round (0 = the first readers)", row=1, col=2)
    fig.update_yaxes(title_text="readers", rangemode="tozero", row=1, col=2)
    fig.update_layout(
        template=template(),
        title=_contacts_title(s),
        height=500,
        title_y=0.97,
        title_yanchor="top",
        margin={"t": 120},
        legend={"orientation": "h", "y": -0.3, "x": 0},
        bargap=0.15,
    )
    return fig


def _contacts_title(s) -> str:
    return f"{fmt.number(s.first)} contacts: who cares?<br><sub>{fmt.plot_text(s.text())}</sub>"


def _contacts_marker(s, level) -> go.Scatter:
    if s.unbounded:
        return go.Scatter(
            x=[min(s.n_star, _N_MAX)],
            y=[1.5e6],
            mode="markers+text",
            text=["unbounded"],
            textposition="bottom center",
            marker={"symbol": "triangle-up", "size": 14, "color": "#111"},
            error_y={"type": "data", "array": [0], "arrayminus": [0]},
            name="this scenario",
            hoverinfo="skip",
        )
    return go.Scatter(
        x=[s.n_star],
        y=[s.expected],
        mode="markers+text",
        text=[fmt.compact(s.expected)],
        textposition="top left",
        marker={"size": 12, "color": "#111"},
        error_y={
            "type": "data",
            "array": [s.upper - s.expected],
            "arrayminus": [s.expected - s.lower],
        },
        name="this scenario",
        hovertemplate=f"n* = %{{x}}: %{{y:,.0f}} readers ({level} interval "
        f"{fmt.number(s.lower)}–{fmt.number(s.upper)})<extra></extra>",
    )


def contacts_slider_figure(
    n_stars: Sequence[float],
    first: int = 400,
    *,
    n_star: float | None = None,
    rounds: int = 12,
    alpha: float = 0.05,
) -> go.Figure:
    """:func:`contacts_figure` with a plotly slider over ``n_stars``, precomputed (works
    with no kernel); it starts at the value nearest ``n_star``.

    Examples
    --------
    >>> fig = contacts_slider_figure([0.5, 0.9, 1.1])
    >>> [s.label for s in fig.layout.sliders[0].steps]
    ['0.5', '0.9', '1.1']
    """
    values = [float(v) for v in n_stars]
    if not values:
        from casekit.exceptions import ParameterError

        raise ParameterError("n_stars needs at least one value")
    k = _nearest(values, values[0] if n_star is None else n_star)
    figs = [contacts_figure(v, first, rounds=rounds, alpha=alpha) for v in values]
    fig = go.Figure(figs[k])
    varying = (2, 3)
    steps = []
    for v, f in zip(values, figs):
        upd = {
            "x": [],
            "y": [],
            "text": [],
            "error_y.array": [],
            "error_y.arrayminus": [],
            "marker.symbol": [],
            "hovertemplate": [],
            "hoverinfo": [],
        }
        for i in varying:
            tr = f.data[i]
            upd["x"].append(list(tr.x))
            upd["y"].append(list(tr.y))
            upd["text"].append(list(tr.text) if tr.text is not None else None)
            err = tr.error_y
            upd["error_y.array"].append(list(err.array) if err.array is not None else None)
            upd["error_y.arrayminus"].append(
                list(err.arrayminus) if err.arrayminus is not None else None
            )
            upd["marker.symbol"].append(getattr(tr.marker, "symbol", None) or "circle")
            upd["hovertemplate"].append(tr.hovertemplate)
            upd["hoverinfo"].append(tr.hoverinfo or "all")
        steps.append(
            {
                "label": fmt.number(v),
                "method": "update",
                "args": [upd, {"title.text": f.layout.title.text}, list(varying)],
            }
        )
    fig.update_layout(
        height=600,
        margin={"b": 200},
        sliders=[_slider(k, steps, "new readers each reader brings, n* = ", -0.5)],
    )
    return fig
