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

__all__ = ["final_size_text", "counterfactual", "describe", "plot", "fit_notes", "excitation_text",
           "fit_settings"]  # fmt: skip

_NAMES = {"mu0": "mu0", "n": "n*", "omega": "omega", "theta": "theta", "c": "c", "e": "e",
          "eta": "eta", "omega_x": "omega_x"}  # fmt: skip


def excitation_text(excitation: dict) -> str:
    """The test of n* = 0 in one sentence."""
    lr, pv = excitation["lr"], excitation["p_value"]
    stat = f"likelihood ratio {fmt.number(lr)}, p = {fmt.number(pv)} against n* = 0"
    if excitation["detected"]:
        return f"Self-excitation detected ({stat})."
    return (
        f"No self-excitation detected ({stat}): the events are consistent with a Poisson "
        "process without follow-ups, so n*'s interval includes 0 and the final size is "
        "that of the Poisson model."
    )


def fit_notes(at_bounds, excitation: dict, p: dict, span: float) -> tuple[str, ...]:
    """Caveats of a fit: parameters at or near a bound, no self-excitation detected."""
    notes = []
    if not excitation["detected"]:
        notes.append(
            "no self-excitation detected: the test of n* = 0 does not reject "
            f"(p = {fmt.number(excitation['p_value'])})"
        )
    for name, side, bound in at_bounds:
        text = (
            f"{_NAMES[name]} = {fmt.number(p[name])} is at or near its {side} bound "
            f"({fmt.number(bound)})"
        )
        if name == "omega" and side == "lower":
            text += (
                ": the kernel's mean lag reaches the observation span "
                f"({fmt.days(1.0 / p['omega'])} of {fmt.days(span)});"
                " only n* x omega is identified there, not n* alone"
            )
        elif name == "n" and side == "upper":
            text += ": a degenerate fit; n* is not identified"
        elif name == "n":
            text += ": no excitation"
        elif name == "omega" and not excitation["detected"]:
            text += " (omega is not identified without excitation)"
        notes.append(text)
    return tuple(notes)


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
    if math.isinf(f["upper"]):
        text = (
            f"{fmt.number(f['estimate'])} (lower bound {fmt.number(f['lower'])}; the upper "
            "bound is infinite because the interval reaches n* ≥ 1)"
        )
    else:
        text = fmt.interval(f["estimate"], f["lower"], f["upper"], kind="number")
    so_far = f"({fmt.number(hf.data['n_events'])} so far)"
    if f.get("model") == "poisson":
        return (
            f"Expected final size: {text} events {so_far}: no self-excitation was detected, "
            "so the estimate is the events so far plus the background's remainder (none "
            "once the window is over); the upper bound allows for the excitation the data "
            "cannot exclude."
        )
    return f"Expected final size: {text} events {so_far}."


def fit_settings(kernel, start, end, resp, e_mode, e_value, n_exo, intervals, alpha,
                 converged, warm) -> dict:  # fmt: skip
    """The Settings block of a fit."""
    return {
        "kernel": kernel if kernel == "exp" else "powerlaw (mixture of exponentials)",
        "window": f"day {fmt.number(start)} to day {fmt.number(end)}",
        "response": ", ".join(fmt.number(r) for r in resp) if len(resp) else "none",
        "e": {
            "estimated": "estimated (profile likelihood)"
            if intervals == "profile"
            else "estimated (Wald)",
            "scenario": f"scenario value {fmt.number(e_value)}",
            "none": "no response",
        }[e_mode],
        "background": "constant mu0" + (" + exogenous pulses" if n_exo else ""),
        "bounds": f"n* from {fmt.number(ft.N_MIN)} to {fmt.number(ft.N_MAX)}"
        + (
            f"; kernel mean lag 1/omega at most {fmt.number(ft.MAX_MEAN_LAG)} x the span "
            f"(omega >= {fmt.number(1.0 / (ft.MAX_MEAN_LAG * (end - start)))} per day)"
            if kernel == "exp"
            else ""
        ),
        "excitation test": "likelihood ratio of n* = 0 against n* free, null law "
        "1/2 chi2_0 + 1/2 chi2_1; when excitation is not detected, the final size is the "
        "Poisson model's",
        "intervals": intervals,
        "final size": "events so far + expected descendants + future exogenous immigrants; "
        "the constant background is assumed to stop at the end of the window",
        "alpha": alpha,
        "converged": converged,
        "warm start": warm,
    }


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
    if hf.excitation:
        lines.append(excitation_text(hf.excitation))
    if hf.supercritical:
        lines.append("The fit is SUPERCRITICAL (branching ratio ≥ 1 at the end).")
    lines.append(final_size_text(hf))
    lines.extend(f"Note: {n}." for n in hf.notes)
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
