"""The one-screen summary at the top of a report: the case in two sentences, the
headline numbers with their intervals (each linked to its section), and the contents.

Examples
--------
>>> import casekit as ck
>>> case = ck.load_case("synthetic-example")
>>> s = ck.report.summary(case, delays=ck.response.delays(case))
>>> s.table["item"].tolist()  # doctest: +NORMALIZE_WHITESPACE
['final reach', 'time to 90 %', 'public response lag', 'complaint to first answer',
 'cost of the delay', 'settling the complaint', 'market test']
>>> s.table.set_index("item").loc["market test", "text"]
'– (no market test: no price data or no share ticker)'
>>> "<script" in s._repr_html_()
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.report.words import describe_curve
from casekit.results import decode, encode, plain, register

__all__ = ["ReportSummary", "summary", "CASE_SECTIONS", "two_sentences"]

CASE_SECTIONS: tuple[tuple[str, str], ...] = (
    ("story", "1. The story and its timeline"),
    ("reach", "2. Reach over time"),
    ("response", "3. The cost of a slow response"),
    ("delays", "3.1 How long each step took"),
    ("detection", "3.2 When could the company have known?"),
    ("what-if", "3.3 What if the company had answered sooner?"),
    ("severity", "3.4 Severity over time"),
    ("market", "4. Market test"),
    ("money", "4.1 The cost in money, and what settling would have cost"),
    ("sources", "5. Sources"),
    ("glossary", "Glossary"),
    ("references", "References"),
    ("about", "About this report"),
)
"""Anchors and titles of the case report's sections (the notebook's headings carry them)."""

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“])")


def two_sentences(text: str) -> str:
    """The first two sentences of ``text``."""
    parts, merged = _SENTENCE.split(" ".join(str(text or "").split())), []
    for p in parts:  # a "?" or "!" inside a quotation does not end the sentence
        if merged and merged[-1].count('"') % 2:
            merged[-1] += " " + p
        else:
            merged.append(p)
    return " ".join(merged[:2])


@register
@dataclass(frozen=True, repr=False, eq=False)
class ReportSummary:
    """The summary at the top of a report (see :func:`summary`).

    Result-like (``table``, ``summary``, ``params``, ``settings``, ``conf_int``, the
    prose as ``str``, ``to_dict``/``from_dict``), but not a
    :class:`~casekit.results.Result`: it computes nothing and draws no figure; it
    quotes the intervals of the results it was given, at their own level.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per headline number: ``item, estimate, lower, upper, text, anchor,
        note``. ``text`` is the number as shown (a dash and the reason where it cannot
        be had); ``anchor`` the section it links to.
    """

    title: ClassVar[str] = "Summary"

    case_id: str
    case_title: str
    lead: str
    _table: pd.DataFrame
    contents: tuple[tuple[str, str], ...] = CASE_SECTIONS
    _settings: dict[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        return self._table.copy()

    @property
    def summary(self) -> pd.DataFrame:
        return self._table[["item", "text", "note"]].copy()

    @property
    def params(self) -> pd.Series:
        return self._table.set_index("item")["estimate"].astype(float)

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self._settings)

    def conf_int(self) -> pd.DataFrame:
        """The quoted intervals (``lower``, ``upper``), at the level of their results."""
        return self._table.set_index("item")[["lower", "upper"]].astype(float)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (see :meth:`casekit.results.Result.to_dict`)."""
        return {
            "type": type(self).__name__,
            "fields": encode(self)["fields"],
            "text": str(self),
            "table": plain(self._table),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReportSummary:
        """Rebuild from :meth:`to_dict` output."""
        return cls(**{k: decode(v) for k, v in d["fields"].items()})

    def __repr__(self) -> str:
        return f"<casekit ReportSummary>\n{self}"

    def __str__(self) -> str:
        lines = [f"{self.case_title}. {self.lead}"]
        for r in self._table.itertuples():
            lines.append(f"- {r.item}: {r.text}" + (f" ({r.note})" if r.note else ""))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f'<tr><th scope="row"><a href="#{r.anchor}">{fmt.html_text(r.item)}</a></th>'
            f'<td class="ck-num">{fmt.html_text(r.text)}</td>'
            f"<td>{fmt.html_text(r.note)}</td></tr>"
            for r in self._table.itertuples()
        )
        toc = "".join(f'<li><a href="#{a}">{fmt.html_text(t)}</a></li>' for a, t in self.contents)
        return (
            "<style>.ck-summary{border:1px solid #bbb;border-radius:6px;padding:.6em 1em;"
            "margin:.5em 0 1em 0;background:#fafafa;display:flex;gap:2em;flex-wrap:wrap}"
            ".ck-summary table{border-collapse:collapse;font-size:.93em}"
            ".jp-RenderedHTMLCommon .ck-summary th,.jp-RenderedHTMLCommon .ck-summary td,"
            ".ck-summary th,.ck-summary td{text-align:left;padding:2px 8px;vertical-align:top;"
            "border-bottom:1px solid #e3e3e3}.ck-summary td.ck-num{white-space:nowrap}"
            ".ck-summary th{white-space:nowrap}"
            ".ck-summary ol{margin:.2em 0;padding-left:1.2em;font-size:.93em}"
            ".ck-summary .ck-main{flex:3 1 560px}.ck-summary .ck-toc{flex:1 1 200px}</style>"
            f'<div class="ck-summary" id="summary"><div class="ck-main">'
            f"<p><b>{fmt.html_text(self.case_title)}.</b> {fmt.html_text(self.lead)}</p>"
            f'<table class="ck-headline"><tbody>{rows}</tbody></table></div>'
            f'<div class="ck-toc"><b>Contents</b><ul style="list-style:none;padding-left:0">'
            f"{toc}</ul></div></div>"
        )


def _row(item, anchor, estimate=np.nan, lower=np.nan, upper=np.nan, text="", note=""):
    return {
        "item": item,
        "estimate": float(estimate) if not fmt.is_missing(estimate) else np.nan,
        "lower": float(lower) if not fmt.is_missing(lower) else np.nan,
        "upper": float(upper) if not fmt.is_missing(upper) else np.nan,
        "text": text,
        "anchor": anchor,
        "note": note,
    }


def _fit_rows(fit, why: str) -> list[dict]:
    if fit is None:
        return [
            _row("final reach", "reach", text=fmt.missing(why)),
            _row("time to 90 %", "reach", text=fmt.missing(why)),
        ]
    s = fit.summary
    out = []
    if "saturation" in s.index:
        r = s.loc["saturation"]
        out.append(
            _row(
                "final reach",
                "reach",
                r["estimate"],
                r["lower"],
                r["upper"],
                fmt.interval(r["estimate"], r["lower"], r["upper"]),
                f"{fit.metric}, {describe_curve(fit.curve)}",
            )
        )
    else:
        out.append(_row("final reach", "reach", text=fmt.missing("the curve has no saturation")))
    if "t90" in s.index and not fmt.is_missing(s.loc["t90", "estimate"]):
        r = s.loc["t90"]
        when = ""
        if fit.origin is not None:
            when = f"around {fmt.date(fit.origin + pd.Timedelta(days=float(r['estimate'])))}"
        out.append(
            _row(
                "time to 90 %",
                "reach",
                r["estimate"],
                r["lower"],
                r["upper"],
                fmt.interval(r["estimate"], r["lower"], r["upper"], kind="days", digits=1),
                when,
            )
        )
    else:
        out.append(_row("time to 90 %", "reach", text=fmt.missing("not computable for this fit")))
    return out


def _delay_row(delays, name: str, item: str, note: str) -> dict:
    if delays is None:
        return _row(item, "delays", text=fmt.missing("delays not computed"))
    t = delays.summary.set_index("delay")
    if name not in t.index:
        return _row(item, "delays", text=fmt.missing("not defined for this case"))
    r = t.loc[name]
    if fmt.is_missing(r["days"]):
        return _row(item, "delays", text=fmt.missing(r["reason"] or "dates unknown"))
    text = fmt.days(r["days"])
    if not fmt.is_missing(r["days_min"]) and r["days_min"] != r["days_max"]:
        text += f" (dates allow {fmt.days(r['days_min'])} to {fmt.days(r['days_max'])})"
    return _row(item, "delays", r["days"], r["days_min"], r["days_max"], text, note)


def _unit(case, metric) -> str:
    r = case.reach
    units = r.loc[r["metric"] == metric, "unit"] if metric else r["unit"].iloc[:0]
    return str(units.iloc[0]) if len(units) else "reach"


def _cost_row(cost, why: str, unit: str = "reach") -> dict:
    if cost is None:
        return _row("cost of the delay", "what-if", text=fmt.missing(why))
    a = cost.actual
    if a is None:
        return _row("cost of the delay", "what-if", text=fmt.missing("the actual delay is unknown"))
    ci = cost.conf_int()
    ci = ci[
        (ci["quantity"] == "cost_of_delay")
        & np.isclose(ci["delay_days"].to_numpy(float), float(a["delay_days"]))
    ].iloc[0]
    return _row(
        "cost of the delay",
        "what-if",
        ci["estimate"],
        ci["lower"],
        ci["upper"],
        fmt.interval(ci["estimate"], ci["lower"], ci["upper"]) + f" more {unit}",
        f"extra final reach from answering after {fmt.days(a['delay_days'])} instead of at "
        f"once (effectiveness e = {_effectiveness(cost)}, {cost.model} model)",
    )


def _effectiveness(cost) -> str:
    """e with its status (estimated with an interval, or a stated scenario)."""
    text = getattr(cost, "effectiveness_text", None)
    if text is None:
        text = f"{fmt.number(cost.effectiveness)}, a stated scenario value"
    return text


def _settle_row(case, lenses) -> dict:
    c = case.costs
    ref = c[(c["category"] == "remedy_refused") & c["value"].notna()]
    if ref.empty:
        ref = c[(c["category"] == "remedy_requested") & c["value"].notna()]
    if ref.empty:
        return _row(
            "settling the complaint",
            "money",
            text=fmt.missing("no refused remedy with a value in costs.csv"),
        )
    v, unit = float(ref["value"].iloc[0]), str(ref["unit"].iloc[0])
    note = ""
    if lenses is not None:
        t = lenses.table
        ok = t[t["supported"].astype(bool) & (t["unit"] == unit)]
        if len(ok):
            r = ok.iloc[0]
            note = (
                f"against {r['lens']}: {fmt.money(r['central'], unit)} "
                f"({fmt.money(r['low'], unit)} to {fmt.money(r['high'], unit)})"
            )
        mv = t[(t["lens"] == "market value") & t["supported"].astype(bool)]
        if len(mv):
            m = mv.iloc[0]
            note += ("; " if note else "") + (
                f"market value lost {fmt.money(m['central'], 'USD')} "
                f"({fmt.money(m['low'], 'USD')} to {fmt.money(m['high'], 'USD')}; "
                "negative = a gain)"
            )
    return _row("settling the complaint", "money", v, v, v, fmt.money(v, unit), note)


def _market_row(study, window, claim_text: str | None, why: str) -> dict:
    if study is None:
        return _row("market test", "market", text=fmt.missing(f"no market test: {why}"))
    win = tuple(window)
    b = study.settings["benchmarks"][0]
    r = study.car(b, win)
    verdict = re.split(r" “|:", claim_text or "")[0]
    return _row(
        "market test",
        "market",
        r["car"],
        r["lower"],
        r["upper"],
        f"CAR {fmt.interval(r['car'], r['lower'], r['upper'], kind='percent')}",
        (f"{verdict}; " if verdict else "")
        + f"trading days {win[0]}..{win[1]}, against the {b}, p = {fmt.number(r['p'], 2)}",
    )


def summary(
    case,
    *,
    fit=None,
    delays=None,
    cost=None,
    study=None,
    window: tuple[int, int] = (0, 3),
    lenses=None,
    verdict: str | None = None,
    why_no_fit: str = "no growth curve could be fitted",
    why_no_market: str = "no price data or no share ticker",
    contents: tuple[tuple[str, str], ...] = CASE_SECTIONS,
) -> ReportSummary:
    """The summary at the top of a case report.

    Parameters
    ----------
    case : Case
    fit : ReachFit, optional
        The chosen growth-curve fit (final reach and time to 90 %).
    delays : Delays, optional
    cost : DelayCost, optional
        The cost of the actual delay, with its interval.
    study : EventStudy, optional
        The market test; its CAR over ``window`` is quoted.
    window : (int, int)
        The report's one CAR window (:func:`casekit.report.views.market_window`).
    lenses : MoneyLenses, optional
        Quoted beside the remedy the customer asked for and was refused.
    verdict : str, optional
        The market verdict's text; its first clause is quoted.
    why_no_fit : str
        The reason shown where a number needs a fit and there is none.
    why_no_market : str
        The reason shown when there is no market test.
    contents : sequence of (anchor, title)

    Returns
    -------
    ReportSummary
    """
    rows = _fit_rows(fit, why_no_fit)
    rows.append(
        _delay_row(
            delays,
            "going_public_to_first_response",
            "public response lag",
            "going public to the company's first public response",
        )
    )
    rows.append(
        _delay_row(
            delays,
            "decision_delay",
            "complaint to first answer",
            "first complaint to the first substantive answer",
        )
    )
    rows.append(_cost_row(cost, why_no_fit, _unit(case, cost.metric if cost else None)))
    rows.append(_settle_row(case, lenses))
    rows.append(_market_row(study, window, verdict, why_no_market))
    return ReportSummary(
        case_id=case.id,
        case_title=case.title,
        lead=two_sentences(case.summary),
        _table=pd.DataFrame(rows),
        contents=tuple(contents),
        _settings={"case": case.id, "market window": f"{window[0]}..{window[1]} trading days"},
    )
