"""Prose, figures and counterfactual sizes of a :class:`casekit.events.hawkes.HawkesFit`.

Each function takes the fit (``hf``) first; :class:`HawkesFit`'s methods
(``__str__``, ``final_size_text``, ``counterfactual``, ``plot``) call them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.events import _fitting as ft
from casekit.exceptions import ParameterError

__all__ = ["final_size_text", "counterfactual", "describe", "plot"]


def _ci_text(estimate: float, row) -> str:
    return fmt.interval(estimate, row["lower"], row["upper"], kind="number")


def final_size_text(hf) -> str:
    """The expected final size in one sentence (infinite when supercritical)."""
    f = hf.final
    if f["supercritical"]:
        return (
            f"The branching ratio in force at the end is {fmt.number(f['n_end'])}, at or "
            "above 1: the process is supercritical and its expected final size is "
            "infinite (no finite final size exists)."
        )
    text = fmt.interval(f["estimate"], f["lower"], f["upper"], kind="number")
    if math.isinf(f["upper"]):
        text += "; the upper bound is infinite because the interval reaches n* ≥ 1"
    return f"Expected final size: {text} events ({fmt.number(hf.data['n_events'])} so far)."


def counterfactual(hf, delays) -> pd.DataFrame:
    """Expected final size if the response had come ``delays`` days later (negative:
    earlier). Needs exactly one response.

    A delay of 0 reproduces the fit's final size exactly. For a later response the
    model is run forward from the actual response (the data after it were observed
    under the response); for an earlier one, the excitation the observed events
    carried between the earlier time and the actual response is reduced by ``e``,
    with its descendants (``e n* / (1 - n*(1 - e))`` per unit; the integral is exact
    on a grid of 2,001 points before the response, linear between). Monotone in the
    delay when ``e >= 0``.

    Returns
    -------
    pandas.DataFrame
        ``delay, response_t, final_size``.
    """
    cf = hf.cf
    if not cf:
        raise ParameterError("a counterfactual needs a fit with exactly one response time")
    d = np.atleast_1d(np.asarray(delays, float))
    p = hf.estimates
    r, r0 = cf["response"], cf["r0"]
    s_fit = hf.final["estimate"]
    n1 = p["n"] * (1.0 - p["e"])
    out = []
    rates, w = np.asarray(cf["rates"]), np.asarray(cf["weights"])
    exo = np.asarray(hf.data["exogenous"], float)
    end = hf.data["end"]

    def W(rr):
        return ft.expected_future(p, rates, w, np.asarray(cf["Y_r0"]), r0, [rr], end, exo)

    w_r = W(r)
    for delay in d:
        rr = r + float(delay)
        if math.isinf(s_fit) or n1 >= 1:
            out.append(math.inf)
        elif rr >= r0:
            out.append(s_fit if rr == r else s_fit + W(rr) - w_r)
        else:
            grid, J = np.asarray(cf["grid"]), np.asarray(cf["J"])
            lost = J[-1] - np.interp(max(rr, grid[0]), grid, J)
            out.append(s_fit + W(r0) - w_r - p["e"] * lost / (1.0 - n1))
    return pd.DataFrame({"delay": d, "response_t": r + d, "final_size": out})


def describe(hf) -> str:
    """The fit in prose, ending with its Settings block."""
    p, dat = hf.estimates, hf.data
    ci = hf.conf_int()
    kern = (
        "exponential kernel"
        if hf.kernel == "exp"
        else "power-law (Omori) kernel, approximated by a mixture of exponentials"
    )
    lines = [
        f"Hawkes process fit ({kern}) to {fmt.number(dat['n_events'])} events from day "
        f"{fmt.number(dat['start'])} to day {fmt.number(dat['end'])}.",
        f"Branching ratio n*: {_ci_text(p['n'], ci.loc['n'])}"
        " (expected direct follow-ups per event).",
    ]
    if "e" in p and dat["responses"]:
        e_ci = ci.loc["e"]
        if hf.e_mode == "estimated":
            word = "reduced" if p["e"] >= 0 else "increased (the response fuelled the storm)"
            lines.append(
                f"Response effect e: {_ci_text(p['e'], e_ci)}"
                f", estimated: the response {word} the branching ratio by "
                f"{fmt.percent(abs(p['e']))}."
            )
        else:
            lines.append(
                f"Response effect e = {fmt.number(p['e'])} is a stated scenario, not "
                "estimated from the data."
            )
    if hf.supercritical:
        lines.append("The fit is SUPERCRITICAL (branching ratio ≥ 1 at the end).")
    lines.append(final_size_text(hf))
    lines.append(
        f"Goodness of fit: the time-rescaled gaps give KS = {fmt.number(hf.gof['ks_stat'])}"
        f" (p = {fmt.number(hf.gof['ks_pvalue'])}) against Exp(1)."
    )
    return "\n".join(lines) + "\nSettings:\n" + fmt.settings_text(hf.settings)


def plot(hf, which: str = "rate", **kwargs):
    """Events per period against the fitted expected count (``which="rate"``), or the
    QQ plot of time-rescaled residuals against Exp(1) (``which="qq"``)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if which == "qq":
        q = hf.qq
        fig.add_scatter(x=q["theoretical"], y=q["observed"], mode="markers", name="residuals")
        top = float(max(q["theoretical"].max(), q["observed"].max()))
        fig.add_scatter(x=[0, top], y=[0, top], mode="lines", name="Exp(1)")
        fig.update_layout(
            title="Time-rescaling residuals, QQ against Exp(1)",
            xaxis_title="Exp(1) quantile",
            yaxis_title="residual quantile",
        )
    else:
        r = hf.rate
        mid = (r["t_start"] + r["t_end"]) / 2
        fig.add_bar(x=mid, y=r["observed"], name="events per period")
        fig.add_scatter(x=mid, y=r["fitted"], mode="lines", name="fitted intensity")
        for t in hf.data["responses"]:
            fig.add_vline(x=t, line_dash="dash")
        fig.update_layout(
            title="Events per period and the fitted Hawkes intensity",
            xaxis_title="days since the origin",
            yaxis_title="events per period",
        )
    fig.update_layout(**kwargs)
    return fig
