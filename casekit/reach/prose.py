"""The prose of the reach results (``str(fit)``, ``str(comparison)``), written through
:mod:`casekit.format`."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.exceptions import FitError
from casekit.reach import intervals as _iv
from casekit.results import html_table


def interval_text(est, lo, hi, kind="compact") -> str:
    """:func:`casekit.format.interval` (which writes an open side as such)."""
    return fmt.interval(est, lo, hi, kind=kind)


def _on_day(fit, est, lo, hi) -> str:
    early = not fmt.is_missing(est) and float(est) < 0
    text = interval_text(est, lo, hi, kind="days") + (
        " from the origin" if early else " after the origin"
    )
    if fit.origin is not None and not fmt.is_missing(est) and abs(float(est)) < 1e5:
        text += f" ({fmt.date(fit.origin + pd.Timedelta(days=float(est)))})"
    if early:
        text += ", that is before the origin (see the notes)"
    return text


_METHOD_WORDS = {
    "asymptotic": "asymptotic",
    "asymptotic (log scale)": "asymptotic on the log scale",
    "profile": "profile likelihood",
    "bootstrap-t": "studentized bootstrap",
    "delta (log scale)": "delta method on the log scale",
    "delta": "delta method",
}


def method_words(method: str) -> str:
    """A summary ``method`` value in words (``profile`` -> ``profile likelihood``)."""
    base, sep, rest = str(method).partition(", ")
    head, sep2, why = base.partition(": ")
    return _METHOD_WORDS.get(head, head) + sep2 + why + sep + rest


def _methods(rows) -> str:
    """The methods of a block of the summary in words: ``profile likelihood`` or
    ``profile likelihood for t90; delta method on the log scale for t50 (...)``."""
    groups: dict[str, list[str]] = {}
    failed = []
    for term, m in rows["method"].items():
        base, _, why = str(m).partition(": ")
        base = base.partition(", ")[0]
        groups.setdefault(_METHOD_WORDS.get(base, base), []).append(str(term))
        if why:
            failed.append(str(term))
    if len(groups) == 1:
        text = next(iter(groups))
    else:
        text = "; ".join(f"{w} for {', '.join(terms)}" for w, terms in groups.items())
    if failed:
        text += f" (the profile did not converge for {', '.join(failed)})"
    return text


def fit_text(fit) -> str:
    """What a :class:`~casekit.reach.ReachFit` found, in a few lines, then its settings."""
    level = fmt.percent(1 - fit.alpha, 0)
    origin = "t = 0" if fit.origin is None else fmt.cell(fit.origin)
    lines = [fit._title() + ".", f"Curve {fit.spec.formula}, t in days since {origin}."]
    s = fit.summary
    par = s[s["kind"] == "parameter"]
    lines.append(
        f"Estimates ({level} intervals, {_methods(par)}): "
        + "; ".join(
            f"{term} = {interval_text(r.estimate, r.lower, r.upper, kind='number')}"
            for term, r in par.iterrows()
        )
        + "."
    )
    der = s[s["kind"] == "derived"]
    if not der.empty:
        lines.append(f"Milestones ({level} intervals, {_methods(der)}):")
    for term, r in der.iterrows():
        if term == "saturation":
            floor = ""
            if "floored" in str(r.method):
                floor = (
                    "; its lower limit is the largest reading: the final reach cannot be less "
                    "than what was counted"
                )
            if "below it" in str(r.method):
                floor = (
                    f"; the fitted curve levels off at {fmt.compact(fit.saturation)}, below the "
                    "largest reading, and the final reach cannot be less than what was counted"
                )
            lines.append(
                f"Final reach (saturation): {interval_text(r.estimate, r.lower, r.upper)}{floor}."
            )
        elif term == "peak_time":
            lines.append(f"Fastest growth at {_on_day(fit, r.estimate, r.lower, r.upper)}.")
        else:
            lines.append(
                f"{term[1:]} % of the final reach at {_on_day(fit, r.estimate, r.lower, r.upper)}."
            )
    if der.empty:
        lines.append(
            "The derived quantities (saturation, peak, times to a share) could not "
            "be computed for this fit."
        )
    st = fit.stats
    aicc = fmt.number(st["aicc"], reason="too few observations")
    lines.append(
        f"Fit: RSS {fmt.number(st['rss'])}, residual standard error "
        f"{fmt.number(st['sigma'])}, AICc {aicc}, BIC {fmt.number(st['bic'])}; "
        f"{fit.n_starts_ok} of {fit.n_starts} starts converged."
    )
    if fit.notes:
        lines.append("Notes:")
        lines += [f"  - {n}" for n in fit.notes]
    lines.append("Settings:")
    lines.append(fmt.settings_text(fit.settings))
    return "\n".join(lines)


def _bound_words(row) -> str:
    names = row.get("at_bound")
    if not isinstance(names, str) or not names:
        return ""
    return (
        f"; {names} at or near a bound of the fitter, so this curve's shape is set by a "
        "limit, not by the data"
    )


def comparison_text(cmp) -> str:
    """The ranking of a :class:`~casekit.reach.Comparison` in words, then its settings."""
    where = f"{cmp.case_id}: " if cmp.case_id else ""
    tab = cmp.table
    lines = [
        f"{where}{len(tab)} growth curve{'s' if len(tab) != 1 else ''} for "
        f"{cmp.metric or 'y'} (loss {cmp.loss}), ranked by AICc."
    ]
    ranked = tab[np.isfinite(tab["aicc"].to_numpy(dtype=float))]
    if len(ranked):
        b = ranked.iloc[0]
        lines.append(
            f"Best: {b['curve']} (Akaike weight {fmt.percent(b['akaike_weight'], 0)}): "
            f"final reach {fmt.compact(b['saturation'])}, 90 % of it by day "
            f"{fmt.number(b['t90'], reason='not computed')}"
            f"{' (before the origin)' if b['t90'] < 0 else ''}{_bound_words(b)}."
        )
        if len(ranked) > 1:
            lines.append(
                "Then: "
                + "; ".join(
                    f"{r['curve']} (delta AICc {fmt.number(r['delta_aicc'])}, weight "
                    f"{fmt.percent(r['akaike_weight'], 0)}{_bound_words(r)})"
                    for _, r in ranked.iloc[1:].iterrows()
                )
                + "."
            )
    elif not cmp.fits:
        lines.append("No curve could be fitted.")
    else:
        lines.append(
            f"None of the fitted curves ({', '.join(cmp.fits)}) has a finite AICc: "
            f"too few observations to rank them."
        )
    if cmp.errors:
        lines.append("Not fitted:")
        lines += [f"  - {name}: {why}" for name, why in cmp.errors.items()]
    lines.append("Settings:")
    lines.append(fmt.settings_text(cmp.settings))
    return "\n".join(lines)


def fit_settings(fit) -> dict:
    """The settings of a :class:`~casekit.reach.ReachFit` (its ``settings`` property)."""
    out = {
        "curve": fit.curve,
        "formula": fit.spec.formula,
        "metric": fit.metric,
        "case": fit.case_id,
        "origin": fit.origin,
        "time": "days since the origin",
        "loss": fit.loss,
        "weights": fit.weights,
        "alpha": fit.alpha,
        "n_starts": fit.n_starts,
    }
    if fit.f_scale is not None:
        out["f_scale"] = fit.f_scale
    if fit._counts:
        out["observation"] = "per-period counts, each the increment of the curve over its period"
    if fit.response_effect is not None:
        out["response model"] = (
            "each response at t_k multiplies the spread rate by (1 - e_k); attention "
            "decays at rate delta (see casekit.reach.intervention)"
        )
    out["standard errors"] = "s^2 (J'J)^-1 with s^2 = RSS / (n - p), t(n - p) quantiles"
    out["intervals"] = (
        "parameters: asymptotic, on the log scale where a bound would be crossed; "
        "milestones: profile likelihood where it is defined and converges, else the delta "
        "method on the log scale (the summary's method column says which)"
    )
    return out


def fit_summary(fit) -> pd.DataFrame:
    """The summary table of a :class:`~casekit.reach.ReachFit` (parameters, then the
    derived milestones), with how each interval was computed and the bound flags."""
    alpha = fit.alpha
    lo, hi, how = _iv.param_limits(fit, alpha, "asymptotic", 0, 0)
    par = pd.DataFrame(
        {
            "kind": "parameter",
            "estimate": np.asarray(fit.theta, dtype=float),
            "std_err": fit.bse.to_numpy(),
            "lower": lo,
            "upper": hi,
            "method": how,
            "at_bound": fit.at_bound.to_numpy(),
        },
        index=list(fit.param_names),
    )
    try:
        ms = fit.milestones()
        der = ms[["estimate", "std_err", "lower", "upper", "method"]].assign(
            kind="derived", at_bound=False
        )
        out = pd.concat([par, der[par.columns]])
    except (FitError, ValueError, np.linalg.LinAlgError):
        out = par
    out["at_bound"] = out["at_bound"].astype(bool)
    out.index.name = "term"
    return out


def full_text(fit) -> str:
    """:func:`fit_text` with the observation model and response effects before the settings."""
    text = fit_text(fit)
    if fit.response_effect is None and not fit._counts:
        return text
    from casekit.reach.response_fit import effect_lines  # it builds on the fitting modules

    head, sep, tail = text.partition("\nSettings:")
    return head + "\n" + "\n".join(effect_lines(fit)) + sep + tail


def fit_html(fit) -> str:
    """The notebook view of a fit: its prose, the summary (with the terms, which the base
    class would drop as an index) and its settings folded."""
    text = str(fit).split("\nSettings:")[0].splitlines()
    items = "".join(
        f"<li><b>{html.escape(str(k))}</b>: {html.escape(fmt.cell(v))}</li>"
        for k, v in fit.settings.items()
    )
    return (
        f"<h4>{html.escape(text[0])}</h4><p>"
        + "<br>".join(html.escape(s) for s in text[1:] if s.strip())
        + "</p>"
        + html_table(fit.summary, index=True)
        + f"<details><summary>Settings and assumptions</summary><ul>{items}</ul>"
        "</details>"
    )
