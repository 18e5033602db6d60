"""Views of casekit results for a report: tables for people, collapsible evidence,
captions that count their sources, and the few judgements a report states in words.

Every function returns a :class:`~casekit.report.words.Block` (HTML for the notebook
cell, plain text for ``str``) or a DataFrame; every piece of case text is escaped
through :mod:`casekit.format`. Tables go through :func:`casekit.tables.show`.

Examples
--------
>>> import casekit as ck
>>> from casekit.report import views
>>> case = ck.load_case("synthetic-example")
>>> views.market_window(case, None)
(0, 3)
>>> print(views.detection_line(ck.response.detection_replay(case)))  # doctest: +ELLIPSIS
Replayed on forum_posts...
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit import tables
from casekit.reach.prose import interval_text, method_words
from casekit.report.words import Block, cite, describe_curve

__all__ = [
    "DEFAULT_WINDOW",
    "source_ids",
    "caption",
    "details",
    "people",
    "table",
    "settings_block",
    "result_view",
    "timeline_view",
    "reach_data_view",
    "comparison_view",
    "fit_view",
    "outside_band",
    "delays_view",
    "detection_line",
    "cost_view",
    "market_window",
    "market_view",
    "market_hint",
    "why_no_market",
    "remedy",
    "money_view",
    "costs_view",
    "sources_view",
    "sensitivity_view",
    "provenance_view",
    "saturation_table",
]

DEFAULT_WINDOW = (0, 3)
"""The CAR window (trading days) a report uses when no claim names one."""


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def source_ids(*frames: pd.DataFrame | None) -> list[str]:
    """The distinct source ids of the ``source`` columns (``a;b`` split), sorted."""
    out: set[str] = set()
    for df in frames:
        if df is None or "source" not in getattr(df, "columns", ()):
            continue
        for s in df["source"].dropna().astype(str):
            out.update(p.strip() for p in s.split(";") if p.strip())
    return sorted(out)


def caption(number: int, what: str, sources: Sequence[str] | int, note: str = "") -> Block:
    """A figure caption: what it shows, how many sources it draws on, a link to them."""
    n = sources if isinstance(sources, int) else len(sources)
    src = (
        f'; drawn from {n} source{"s" if n != 1 else ""} (listed in <a href="#sources">Sources</a>)'
        if n
        else ""
    )
    extra = f" {fmt.html_text(note)}" if note else ""
    return Block(
        f'<p class="ck-caption"><i>Figure {number}.</i> {fmt.html_text(what)}{src}.{extra}</p>',
        f"Figure {number}. {what}; {n} sources.",
    )


def details(summary: str, body_html: str, *, open_: bool = False) -> str:
    """A collapsible section (``<details>``) with an escaped summary line."""
    return (
        f"<details{' open' if open_ else ''}><summary>{fmt.html_text(summary)}</summary>"
        f"{body_html}</details>"
    )


_CSS = (
    "<style>.jp-RenderedHTMLCommon table.ck-table th,.jp-RenderedHTMLCommon table.ck-table td"
    "{text-align:left}.jp-RenderedHTMLCommon table.ck-table td.num{text-align:right}"
    ".jp-RenderedHTMLCommon table.ck-table td:not(.text){overflow-wrap:normal}"
    ".jp-RenderedHTMLCommon details{margin:.3em 0}"
    ".jp-RenderedHTMLCommon details>summary{cursor:pointer;color:#1f5fa8}</style>"
)


def people(df: pd.DataFrame, **kwargs: Any) -> str:
    """``df`` as a table for people (:func:`casekit.tables.show`), as HTML."""
    return _CSS + tables.show(df, **kwargs).to_html()


def table(df: pd.DataFrame, **kwargs: Any) -> Block:
    """``df`` as a table for people, ready to show in a notebook cell."""
    t = tables.show(df, **kwargs)
    return Block(_CSS + t.to_html(), str(t))


def settings_block(settings: dict[str, Any], label: str = "Settings and assumptions") -> str:
    """The settings of a result as a collapsible list, citation keys linked."""
    if not settings:
        return ""
    items = "".join(
        f"<li><b>{fmt.html_text(k)}</b>: {cite(v if isinstance(v, str) else fmt.cell(v))}</li>"
        for k, v in settings.items()
    )
    return details(label, f"<ul>{items}</ul>")


def _prose(result: Any) -> str:
    text = str(result).split("\nSettings:")[0]
    return "<p>" + "<br>".join(cite(line) for line in text.splitlines() if line.strip()) + "</p>"


def result_view(result: Any, table_html: str = "", *, prose: bool = True) -> Block:
    """A result's prose (citations linked), a table for people, and its settings folded."""
    parts = [_prose(result)] if prose else []
    if table_html:
        parts.append(table_html)
    parts.append(settings_block(getattr(result, "settings", {}) or {}))
    return Block("".join(parts), str(result).split("\nSettings:")[0])


# -- the story ---------------------------------------------------------------------------


def timeline_view(case) -> Block:
    """Key dates in a short table, and every dated event in a collapsible table."""
    tl = case.timeline
    keys = []
    for name, kd in case.key_dates.items():
        if kd is None:
            keys.append(
                {"key date": name.replace("_", " "), "date": "– (not in the sources)", "source": ""}
            )
        else:
            keys.append(
                {
                    "key date": name.replace("_", " "),
                    "date": fmt.date(kd.date, kd.precision, getattr(kd, "date_end", None)),
                    "source": kd.source,
                }
            )
    cols = [
        c
        for c in (
            "date",
            "date_end",
            "date_precision",
            "actor",
            "kind",
            "description",
            "source",
            "confidence",
        )
        if c in tl.columns
    ]
    body = people(tl[cols], missing={"date_end": "single date"})
    html_ = people(pd.DataFrame(keys)) + details(
        f"Every dated event of the timeline ({len(tl)} rows)", body
    )
    return Block(html_, f"{len(keys)} key dates; {len(tl)} timeline rows")


# -- reach ---------------------------------------------------------------------------------


def reach_data_view(described) -> Block:
    """What was measured, metric by metric, as a table for people."""
    t = described.table
    keep = [
        c
        for c in (
            "metric",
            "unit",
            "n",
            "n_sources",
            "first_time",
            "last_time",
            "last_value",
            "fittable",
            "reason",
        )
        if c in t.columns
    ]
    labels = {
        "n": "readings",
        "n_sources": "sources",
        "first_time": "first reading",
        "last_time": "last reading",
        "last_value": "last value",
        "fittable": "curve fitted",
    }
    return Block(
        f"<p>{fmt.html_text(described.explanation)}</p>"
        + people(t[keep], labels=labels, kinds={"last_value": "compact"}),
        described.explanation,
    )


def comparison_view(comparison) -> Block:
    """The ranking of the growth curves by AICc, names written out."""
    t = comparison.table.copy()
    t.insert(1, "what it is", [describe_curve(c) for c in t["curve"]])
    keep = [
        c
        for c in (
            "curve",
            "what it is",
            "k",
            "aicc",
            "delta_aicc",
            "akaike_weight",
            "saturation",
            "t90",
            "at_bound",
            "error",
        )
        if c in t.columns
    ]
    for col in ("error", "at_bound"):
        if col in t.columns and t[col].fillna("").astype(str).eq("").all():
            keep.remove(col)
    labels = {
        "k": "parameters",
        "aicc": "AICc",
        "delta_aicc": "ΔAICc",
        "akaike_weight": "weight",
        "t90": "days to 90 %",
        "at_bound": "at or near a bound",
    }
    missing = {
        "error": "none",
        "at_bound": "none",
        "aicc": "did not converge",
        "delta_aicc": "did not converge",
        "akaike_weight": "did not converge",
        "saturation": "did not converge",
        "t90": "did not converge",
    }
    lead = (
        f"{len(comparison.fits)} of {len(t)} curves fitted to "
        f"{fmt.html_text(comparison.metric)} (loss {fmt.html_text(comparison.loss)}); "
        f"the best is the {fmt.html_text(describe_curve(t['curve'].iloc[0]))}."
    )
    bounded = t.dropna(subset=["at_bound"]) if "at_bound" in t.columns else t.iloc[:0]
    if len(bounded):
        lead += " " + fmt.html_text(
            "; ".join(f"{r.curve}: {r.at_bound}" for r in bounded.itertuples())
            + (" are" if len(bounded) > 1 or "," in str(bounded["at_bound"].iloc[0]) else " is")
            + " at or near a bound of the fitter: that curve's shape is set by the limit, not "
            "by the data, so read its weight with care."
        )
    return Block(
        f"<p>{lead}</p>"
        + people(
            t[keep],
            labels=labels,
            missing=missing,
            kinds={"saturation": "compact", "akaike_weight": "percent"},
        )
        + settings_block(comparison.settings),
        lead,
    )


def outside_band(fit, interval: str = "confidence") -> pd.DataFrame:
    """The observations that lie outside the band the reach figure draws.

    Returns
    -------
    pandas.DataFrame
        ``time, y, lower, upper, side ("above"/"below"), qualifier, source``.
    """
    d = fit.data
    pred = fit.predict(d["t"].to_numpy(float), interval=interval)
    lo, hi = pred["lower"].to_numpy(float), pred["upper"].to_numpy(float)
    y = d["y"].to_numpy(float)
    side = np.where(y > hi, "above", np.where(y < lo, "below", ""))
    out = pd.DataFrame(
        {
            "time": d["time"].to_numpy() if "time" in d else d["t"].to_numpy(),
            "y": y,
            "lower": lo,
            "upper": hi,
            "side": side,
            "qualifier": d["qualifier"].to_numpy() if "qualifier" in d else "",
            "source": d["source"].to_numpy() if "source" in d else "",
        }
    )
    return out[out["side"] != ""].reset_index(drop=True)


def _outside_text(fit, out: pd.DataFrame) -> str:
    n = len(fit.data)
    if out.empty:
        return f"All {n} observations lie inside the 95 % confidence band."
    above, below = (out["side"] == "above").sum(), (out["side"] == "below").sum()
    later = out.sort_values("time").tail(3)
    named = "; ".join(
        f"{fmt.compact(r.y)} on {fmt.date(r.time)} ({r.side} the band "
        f"{fmt.compact(r.lower)}–{fmt.compact(r.upper)}, {str(r.qualifier).replace('_', ' ')})"
        for r in later.itertuples()
    )
    return (
        f"{len(out)} of {n} observations lie outside the 95 % confidence band "
        f"({above} above, {below} below). The band is where the fitted curve lies, not "
        "where single readings must fall: readings quoted as 'more than' or 'nearly' are "
        "rounded, and the latest ones may count views the curve does not model (a "
        f"re-upload, a new wave of attention). The latest outside it: {named}."
    )


def fit_view(fit) -> Block:
    """The chosen fit: estimates with intervals (and how each was computed), its caveats
    (a parameter at or near a bound, a reading that drives the fit), and the observations
    outside its band."""
    s = fit.summary.reset_index()
    words = {
        "saturation": "final reach",
        "peak_time": "fastest growth (day)",
        "t50": "days to 50 %",
        "t90": "days to 90 %",
        "t99": "days to 99 %",
    }
    s["shown"] = [
        interval_text(
            r.estimate, r.lower, r.upper, "compact" if r.term == "saturation" else "number"
        )
        for r in s.itertuples()
    ]
    s["how"] = [method_words(m) for m in s["method"]]
    s["bound"] = np.where(s["at_bound"].astype(bool), "at or near a bound of the fitter", "")
    s["term"] = [words.get(t, t) for t in s["term"]]
    cols = ["term", "kind", "shown", "how"] + (["bound"] if s["at_bound"].any() else [])
    table = people(
        s[cols],
        labels={"shown": "estimate (95 % interval)", "how": "interval by", "bound": "caveat"},
        text=("how",),
    )
    out = outside_band(fit)
    listed = (
        people(
            out,
            intervals={"95 % band": ("lower", "lower", "upper")},
            labels={"y": "observed", "time": "date", "side": "outside"},
            kinds={"y": "compact"},
        )
        if len(out)
        else ""
    )
    head = (
        f"<p><b>{fmt.html_text(describe_curve(fit.curve))}</b>, fitted to "
        f"{fmt.html_text(fit.metric)}.</p>"
    )
    note = _outside_text(fit, out)
    stats = (
        f"<p>{fmt.html_text(len(fit.data))} readings; AICc {fmt.number(fit.aicc)}; "
        f"{fmt.html_text(fit.n_starts_ok)} of {fmt.html_text(fit.n_starts)} starting points "
        "converged. Estimates with 95 % intervals:</p>"
    )
    body = head + stats + table
    if fit.notes:
        body += (
            '<p id="fit-caveats"><b>Caveats of this fit</b></p><ul>'
            + "".join(f"<li>{fmt.html_text(n)}</li>" for n in fit.notes)
            + "</ul>"
        )
    body += f'<p id="outside-band">{fmt.html_text(note)}</p>'
    if listed:
        body += details(f"The {len(out)} observations outside the band", listed)
    body += settings_block(fit.settings)
    text = note if not fit.notes else "Caveats: " + " ".join(fit.notes) + " " + note
    return Block(body, text)


# -- the response -------------------------------------------------------------------------


def delays_view(d) -> Block:
    """Each delay in days with its spread, or the reason it is not computed."""
    t = d.summary.copy()
    t["delay"] = t["delay"].str.replace("_", " ")
    same = t["days_min"] == t["days_max"]
    t.loc[same, ["days_min", "days_max"]] = np.nan
    table = people(
        t,
        intervals={"days (range)": ("days", "days_min", "days_max", "number")},
        missing={"days": "not computable"},
        drop=("reason",) if t["reason"].fillna("").eq("").all() else (),
    )
    return result_view(d, table, prose=False)


def detection_line(det) -> Block:
    """Detection replay in one line per replayed metric, and one for all the others."""
    t = det.table
    ok = t[t["evaluable"].astype(bool)]
    replayed = list(dict.fromkeys(ok["metric"]))
    skipped = [m for m in dict.fromkeys(t["metric"]) if m not in replayed]
    parts = []
    if replayed:
        for m in replayed:
            g = ok[ok["metric"] == m]
            fired = g.dropna(subset=["first_alert"])
            first = (
                f"first alert {fmt.date(fired['first_alert'].min())}"
                if len(fired)
                else "no rule fired"
            )
            parts.append(
                f"Replayed on {m}: {len(g)} of {len(t[t['metric'] == m])} rules could run; {first}."
            )
    else:
        parts.append("No spike-alert rule could be replayed.")
    why = ""
    if skipped:
        per = t[t["metric"].isin(skipped)].drop_duplicates("metric")[["metric", "reason"]]
        others = "the other " if replayed else ""
        parts.append(
            f"Not replayed on {others}{len(skipped)} metric{'s' if len(skipped) > 1 else ''}: "
            "their readings are too sparse or too irregular to form per-hour or per-day "
            "counts without interpolating."
        )
        why = details(f"Why each of the {len(skipped)} metrics was not replayed", people(per))
    if det.first_alert is not None and det.detection_lag_days is not None:
        parts.append(
            f"Detection lag {fmt.days(det.detection_lag_days)}, decision lag "
            f"{fmt.days(det.decision_lag_days, reason='first response unknown')}."
        )
    text = " ".join(parts)
    return Block(f"<p>{cite(text)}</p>{why}", text)


def cost_view(cost) -> Block:
    """The delay-cost table: final reach and the cost of each delay, with intervals."""
    ci = cost.conf_int()
    t = cost.table
    c = ci[ci["quantity"] == "cost_of_delay"].set_index("delay_days")
    t = t.assign(
        cost_lower=c["lower"].reindex(t["delay_days"]).to_numpy(),
        cost_upper=c["upper"].reindex(t["delay_days"]).to_numpy(),
    )
    t = t[np.isfinite(t["delay_days"].to_numpy(float))]
    table = people(
        t[
            [
                "delay_days",
                "final_reach",
                "lower",
                "upper",
                "cost_of_delay",
                "cost_lower",
                "cost_upper",
                "actual",
            ]
        ],
        intervals={
            "final reach": ("final_reach", "lower", "upper"),
            "cost of the delay": ("cost_of_delay", "cost_lower", "cost_upper"),
        },
        labels={"delay_days": "response after (days)", "actual": "the actual delay"},
    )
    return result_view(cost, table)


# -- market --------------------------------------------------------------------------------


def sources_view(case_or_cases: Any) -> Block:
    """Every source of one case (or several), folded per case, with links."""
    cases = (
        case_or_cases
        if isinstance(case_or_cases, Iterable) and not hasattr(case_or_cases, "sources")
        else [case_or_cases]
    )
    parts, n = [], 0
    for case in cases:
        k = len(case.sources)
        n += k
        label = f"{case.title}: {k} sources" if len(cases) > 1 else f"All {k} sources"
        parts.append(details(label, case.source_list()._repr_html_()))
    return Block("".join(parts), f"{n} sources")


def sensitivity_view(sens) -> Block:
    """The sensitivity table (settings written out), folded under the tornado chart."""
    t = sens.table.copy()
    for col in ("low_setting", "high_setting"):
        t[col] = [describe_curve(v) if f == "curve" else v for f, v in zip(t["factor"], t[col])]
    table = people(
        t[["factor", "low_setting", "high_setting", "output_low", "output_high", "swing"]],
        labels={
            "low_setting": "low setting",
            "high_setting": "high setting",
            "output_low": f"cost at low ({sens.unit})",
            "output_high": f"cost at high ({sens.unit})",
        },
    )
    return Block(
        _prose(sens) + details("The sensitivity table", table) + settings_block(sens.settings),
        str(sens).split("\nSettings:")[0],
    )


def provenance_view(prov: pd.DataFrame) -> Block:
    """The provenance table (versions, the case data's hash) without an index."""
    return Block(people(prov, text=()), prov.to_string(index=False))


def saturation_table(fits: pd.DataFrame) -> Block:
    """One row per case: its main metric, the curve used and its fitted saturation with
    the interval, or why it could not be fitted."""
    t = fits.drop(columns=[c for c in ("curve_days", "curve_share") if c in fits.columns])
    for c in ("curve", "saturation", "lower", "upper", "reason"):
        if c not in t.columns:
            t[c] = np.nan if c in ("saturation", "lower", "upper") else ""
    t = t.assign(reason=t["reason"].fillna(""))
    return table(
        t[["case", "metric", "curve", "saturation", "lower", "upper", "reason"]],
        intervals={"fitted saturation (95 % interval)": ("saturation", "lower", "upper")},
        labels={"reason": "why not drawn"},
        missing={"saturation": "not fitted", "curve": "none"},
    )


# the money side lives in its own module; these names stay importable from here
from casekit.report.money_views import (  # noqa: E402
    costs_view,
    market_hint,
    market_view,
    market_window,
    money_view,
    remedy,
    why_no_market,
)
