"""Cases on one axis after normalising by their *fitted* saturation, with its interval.

Dividing a series by its largest recorded value makes a case whose last reading is a
late outlier flatten at a fraction of the others; dividing by the saturation of the
fitted growth curve puts every fitted curve's end at 100 % and shows the uncertainty of
that end as a band on the observed shares.

Examples
--------
>>> import casekit as ck
>>> frame, fits = ck.report.by_saturation([ck.load_case("synthetic-example")])
>>> sorted(fits["case"])
['synthetic-example']
>>> bool((frame["share_lower"] <= frame["share"]).all())
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from casekit import format as fmt
from casekit.exceptions import CasekitError
from casekit.plots.reach import log_time_axis
from casekit.plots.theme import PALETTE
from casekit.report.words import describe_curve

__all__ = ["by_saturation", "saturation_plot"]


def by_saturation(cases, *, min_points: int = 3):
    """Each case's main reach series as a share of its fitted saturation.

    The main series and curves are the case's own choice (``case.yaml`` analysis), else
    the first fittable metric and the default curves; the best curve by AICc is used.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The observations (``case, metric, days, value, share, share_lower,
        share_upper, source``; the share's bounds come from the saturation's interval)
        and one row per case (``case, title, metric, curve, saturation, lower, upper,
        curve_days, curve_share`` or ``reason`` when no curve could be fitted).
    """
    import casekit as ck

    obs, rows = [], []
    for case in cases:
        desc = ck.reach.describe(case)
        metric = desc.main_metric
        base = {"case": case.id, "title": case.title, "metric": metric or ""}
        if not metric or metric not in desc.fittable:
            rows.append({**base, "reason": desc.explanation})
            continue
        if len(case.series(metric)) < min_points:
            rows.append({**base, "reason": f"fewer than {min_points} readings of {metric}"})
            continue
        try:
            fit = ck.reach.compare(case, metric=metric).best
        except CasekitError as err:
            rows.append({**base, "reason": str(err).split(";")[0]})
            continue
        if fit is None or "saturation" not in fit.summary.index:
            rows.append({**base, "reason": "no growth curve could be fitted"})
            continue
        s = fit.summary.loc["saturation"]
        sat, lo, hi = float(s["estimate"]), float(s["lower"]), float(s["upper"])
        lo = lo if np.isfinite(lo) and lo > 0 else sat
        hi = hi if np.isfinite(hi) else sat
        d = fit.data
        obs.append(
            pd.DataFrame(
                {
                    "case": case.id,
                    "metric": metric,
                    "days": d["t"].to_numpy(float),
                    "value": d["y"].to_numpy(float),
                    "share": d["y"].to_numpy(float) / sat,
                    "share_lower": d["y"].to_numpy(float) / hi,
                    "share_upper": d["y"].to_numpy(float) / lo,
                    "source": d["source"].to_numpy() if "source" in d else "",
                }
            )
        )
        t = np.unique(
            np.concatenate(
                [
                    np.linspace(0, float(d["t"].max()) * 1.1 + 1, 200),
                    np.geomspace(0.05, float(d["t"].max()) * 1.1 + 1, 200),
                ]
            )
        )
        rows.append(
            {
                **base,
                "curve": describe_curve(fit.curve),
                "saturation": sat,
                "lower": lo,
                "upper": hi,
                "curve_days": t,
                "curve_share": fit.predict(t, interval=None)["yhat"].to_numpy(float) / sat,
                "reason": "",
            }
        )
    cols = ["case", "metric", "days", "value", "share", "share_lower", "share_upper", "source"]
    frame = pd.concat(obs, ignore_index=True) if obs else pd.DataFrame(columns=cols)
    return frame, pd.DataFrame(rows)


def saturation_plot(
    frame: pd.DataFrame, fits: pd.DataFrame, *, horizon: float | None = 60.0, log_x: bool = True
) -> go.Figure:
    """The normalised cases: fitted curves as a share of their saturation (lines), the
    observations (markers) with the saturation's interval as error bars.

    ``log_x`` draws days on a log scale (the first days and the long tail on one page);
    ``horizon`` None or 0 draws every reading.
    """
    fig = go.Figure()
    ok = fits[fits["reason"].fillna("") == ""] if "reason" in fits else fits
    for i, r in enumerate(ok.itertuples()):
        colour = PALETTE[i % len(PALETTE)]
        keep = r.curve_days <= horizon if horizon else np.ones(len(r.curve_days), bool)
        if log_x:
            keep &= r.curve_days > 0
        label = fmt.plot_text(f"{r.case}: {r.metric}")
        fig.add_trace(
            go.Scatter(
                x=r.curve_days[keep],
                y=r.curve_share[keep] * 100,
                mode="lines",
                line=dict(color=colour, width=2),
                name=f"{label} (fitted)",
                legendgroup=r.case,
                hovertemplate="day %{x:.1f}: %{y:.0f} % of saturation<extra></extra>",
            )
        )
        g = frame[frame["case"] == r.case]
        if horizon:
            g = g[g["days"] <= horizon]
        if log_x:
            g = g[g["days"] > 0]
        fig.add_trace(
            go.Scatter(
                x=g["days"],
                y=g["share"] * 100,
                mode="markers",
                legendgroup=r.case,
                marker=dict(color=colour, size=7, line=dict(width=1, color="#333")),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=(g["share_upper"] - g["share"]) * 100,
                    arrayminus=(g["share"] - g["share_lower"]) * 100,
                    thickness=1,
                    width=2,
                    color=colour,
                ),
                name=f"{label}: readings",
                hovertemplate="day %{x:.1f}: %{y:.0f} % of saturation<extra></extra>",
            )
        )
    fig.add_hline(y=100, line=dict(color="#888", dash="dot"))
    fig.update_layout(
        template="casekit",
        title="Reach as a share of each case's fitted saturation"
        + ("<br><sub>error bars: the 95 % interval of the saturation</sub>"),
        xaxis=(
            log_time_axis("days since going public", 0.05, float(frame["days"].max()) + 1)
            if log_x and len(frame)
            else dict(title="days since going public")
        ),
        yaxis=dict(title="share of fitted saturation", ticksuffix=" %"),
    )
    return fig
