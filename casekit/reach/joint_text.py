"""The prose and the figure of a :class:`~casekit.reach.joint_result.JointReachFit`
(``str(joint)`` and ``joint.plot()``), written through :mod:`casekit.format`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.exceptions import ParameterError
from casekit.reach.joint_result import _LOSS_WORDS

__all__ = ["joint_text", "joint_plot"]


def joint_text(jf) -> str:
    from casekit.reach.prose import _on_day
    from casekit.reach.response_fit import effect_lines

    level = fmt.percent(1 - jf.alpha, 0)
    where = f"{jf.case_id}: " if jf.case_id else ""
    origin = "t = 0" if jf.origin is None else fmt.cell(jf.origin)
    lines = [
        f"{where}joint {jf.curve} fit of {len(jf.fits)} metrics sharing the curve's timing: "
        + "; ".join(
            f"{m} ({'per-period counts' if f._counts else 'cumulative'}, "
            f"{_LOSS_WORDS.get(f.loss, f.loss)}, n = {f.nobs})"
            for m, f in jf.fits.items()
        )
        + ".",
        f"Curve {jf.spec.formula}, t in days since {origin}; shared: {', '.join(jf.shared)}; "
        f"each metric's own: {', '.join(jf.own)}.",
    ]
    s = jf.summary
    par = s[s["kind"] == "parameter"]
    lines.append(
        f"Estimates ({level} intervals): "
        + "; ".join(
            f"{term} = {fmt.interval(r.estimate, r.lower, r.upper, kind='number')}"
            for term, r in par.iterrows()
        )
        + "."
    )
    first = jf._first
    for term, r in s[s["kind"] == "derived"].iterrows():
        term = str(term)
        name, _, metric = term.partition("[")
        of = f" ({metric[:-1]})" if metric else ""
        if name == "saturation":
            lines.append(
                f"Final reach of {metric[:-1]}: {fmt.interval(r.estimate, r.lower, r.upper)}."
            )
        elif name == "peak_time":
            lines.append(f"Fastest growth{of} at {_on_day(first, r.estimate, r.lower, r.upper)}.")
        else:
            lines.append(
                f"{name[1:]} % of the final reach{of} at "
                f"{_on_day(first, r.estimate, r.lower, r.upper)}."
            )
    sep = jf.separate
    if sep is not None and len(sep):
        for term in jf.shared:
            alone = sep[sep["term"] == term]
            if len(alone):
                lines.append(
                    f"Standard error of {term}: {fmt.number(jf.bse[term])} jointly, against "
                    + " and ".join(
                        f"{fmt.number(r.std_err)} ({r.metric} alone)" for r in alone.itertuples()
                    )
                    + "."
                )
    ag = jf.agreement
    if ag is None:
        lines.append(
            "Agreement of the timing not tested: a metric has too few distinct times to be "
            "fitted alone."
        )
    else:
        verdict = (
            "the metrics do not share one timing, so read the joint curve with care (fit "
            "each metric alone to see how they differ)"
            if ag["p_value"] < 0.05
            else "no evidence against a shared timing"
        )
        lines.append(
            f"Test of a shared {', '.join(jf.shared)} (Wald F on the metrics' own fits): "
            f"F = {fmt.number(ag['statistic'])} on {int(ag['df1'])} and {int(ag['df2'])} df, "
            f"p = {fmt.number(ag['p_value'])}: {verdict}."
        )
    lines.append(
        f"Fit: joint log-likelihood {fmt.number(jf.loglik)}, AICc "
        f"{fmt.number(jf.aicc, reason='too few observations')}, N = {jf.nobs} observations, "
        f"P = {len(jf.theta)} parameters; {jf.n_starts_ok} of {jf.n_starts} starts converged."
    )
    if jf.response_effect is not None:
        lines += [x for x in effect_lines(first) if not x.startswith("Per-period counts")]
    if jf.notes:
        lines.append("Notes:")
        lines += [f"  - {n}" for n in jf.notes]
    lines.append("Settings:")
    lines.append(fmt.settings_text(jf.settings))
    return "\n".join(lines)


def joint_plot(jf, *, interval: str | None = "confidence", x: str = "time", title=None):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from casekit.plots.theme import PALETTE

    if interval not in ("confidence", None):
        raise ParameterError(f"interval must be 'confidence' or None, not {interval!r}")
    if x not in ("time", "t"):
        raise ParameterError(f"x must be 'time' or 't', not {x!r}")
    dated = x == "time" and jf.origin is not None
    names = list(jf.fits)
    fig = make_subplots(
        rows=len(names),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[
            f"{m} ({'per period' if f._counts else 'cumulative'})" for m, f in jf.fits.items()
        ],
    )
    t_all = np.concatenate([f.data["t"].to_numpy(dtype=float) for f in jf.fits.values()])
    lo, hi = min(0.0, float(t_all.min())), float(t_all.max())
    grid = np.linspace(lo, hi + 0.1 * (hi - lo), 300)

    def xs(frame):
        return frame["time"] if dated else frame["t"]

    for i, (m, f) in enumerate(jf.fits.items(), start=1):
        colour = PALETTE[(i - 1) % len(PALETTE)]
        obs = f.table
        if f._counts:
            from casekit.reach.data import period_bounds

            a, b = period_bounds(f.data)
            mid = pd.DataFrame({"t": 0.5 * (a + b)})
            if f.origin is not None:
                mid["time"] = f.origin + pd.to_timedelta(mid["t"], unit="D")
            line_x, line_y, line_name = xs(mid), obs["yhat"], f"{m}: expected count per period"
            dots_x, dots_name = xs(mid), f"{m}: observed counts"
        else:
            pred = f.predict(grid, interval=interval)
            if interval is not None:
                fig.add_trace(
                    go.Scatter(
                        x=list(xs(pred)) + list(xs(pred))[::-1],
                        y=list(pred["upper"]) + list(pred["lower"])[::-1],
                        fill="toself",
                        fillcolor="rgba(31,95,168,0.18)",
                        line=dict(width=0),
                        hoverinfo="skip",
                        name=f"{m}: {fmt.percent(1 - f.alpha, 0)} confidence band",
                    ),
                    row=i,
                    col=1,
                )
            line_x, line_y, line_name = xs(pred), pred["yhat"], f"{m}: fitted {jf.curve}"
            dots_x, dots_name = xs(obs), f"{m}: observed"
        fig.add_trace(
            go.Scatter(
                x=line_x,
                y=line_y,
                mode="lines",
                line=dict(color=colour, width=2.5),
                name=line_name,
            ),
            row=i,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=dots_x,
                y=obs["y"],
                mode="markers",
                marker=dict(color=colour, size=7, opacity=0.7),
                name=dots_name,
            ),
            row=i,
            col=1,
        )
        fig.update_yaxes(title_text=m, row=i, col=1)
    xtitle = (
        "date"
        if dated
        else ("days since origin" if jf.origin is None else f"days since {fmt.date(jf.origin)}")
    )
    fig.update_xaxes(title_text=xtitle, row=len(names), col=1)
    where = f"{jf.case_id}: " if jf.case_id else ""
    fig.update_layout(
        template="casekit",
        title=title or f"{where}joint {jf.curve} fit, shared {', '.join(jf.shared)}",
        height=max(320 * len(names), 420),
    )
    return fig
