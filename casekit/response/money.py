"""The cost of the slow response through separate money lenses, side by side and never
summed: negative impressions x CPM, willingness to pay by response time, the cost
multiplier of the refused remedy, and market value."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.cases import Case
from casekit.exceptions import ParameterError
from casekit.response._common import (
    DEFAULT_CPM,
    StoredResult,
    check_case,
    check_cpm,
    settings_block,
)
from casekit.response.cost import DelayCost
from casekit.results import Result

__all__ = [
    "WTP_FIGURES",
    "MONEY_COLUMNS",
    "DEFAULT_CPM",
    "MoneyLenses",
    "wtp_uplift",
    "money_lenses",
]

WTP_FIGURES: dict[str, dict[str, Any]] = {
    "airline": {
        "fast": 20.00,
        "fast_label": "reply in under 6 minutes",
        "any": 8.98,
        "any_label": "any reply (average)",
        "slow": 2.33,
        "slow_label": "reply after more than 60 minutes",
        "fast_minutes": 6.0,
        "slow_minutes": 60.0,
        "unit": "USD per ticket",
        "currency": "USD",
        "source": "Twitter / Applied Marketing Science airline study (2015) [L1]: any reply "
        "+$8.98 willingness to pay for a ticket (about 3 %), reply < 6 min about +$20, "
        "> 60 min +$2.33; median first reply 22 min",
    },
    "telecom": {
        "fast": 17.00,
        "fast_label": "reply within 4 minutes",
        "any": 8.35,
        "any_label": "any reply (average)",
        "slow": 3.50,
        "slow_label": "reply after more than 20 minutes",
        "fast_minutes": 4.0,
        "slow_minutes": 20.0,
        "fast_inclusive": True,  # "<= 4 min"
        "unit": "USD per month",
        "currency": "USD",
        "source": "Twitter cross-industry study (2016) [L2]: telecom reply <= 4 min +$17/month, "
        "> 20 min +$3.50 ($3.52), average +$8.35 (10 %)",
    },
}
"""Willingness-to-pay uplift by response time: **industry estimates** from a
platform-sponsored stated-preference (conjoint) study, not causal effects (methods.md §4.1)."""

_INDUSTRY_WORDS = {
    "airline": re.compile(r"airline|airways|air lines|\bflight", re.I),
    "telecom": re.compile(
        r"telecom|telekom|mobile network|broadband|vodafone|verizon|comcast", re.I
    ),
}

MONEY_COLUMNS = ("lens", "low", "central", "high", "unit", "assumptions", "supported", "statement")
"""Column contract of :attr:`MoneyLenses.table`."""


def wtp_uplift(minutes: float | None, industry: str) -> float:
    """Willingness-to-pay uplift for a reply after ``minutes`` (``None`` = no reply).

    Step function of :data:`WTP_FIGURES`: under the fast threshold the fast figure,
    between the thresholds the average "any reply" figure (the study gives none for
    the middle), beyond the slow threshold the slow figure, no reply 0.

    Examples
    --------
    >>> import casekit as ck
    >>> ck.response.wtp_uplift(3, "airline"), ck.response.wtp_uplift(90, "airline")
    (20.0, 2.33)
    """
    f = WTP_FIGURES[industry]
    if minutes is None or not np.isfinite(minutes):
        return 0.0
    fast = (
        (minutes <= f["fast_minutes"]) if f.get("fast_inclusive") else (minutes < f["fast_minutes"])
    )
    if fast:
        return f["fast"]
    if minutes <= f["slow_minutes"]:
        return f["any"]
    return f["slow"]


@dataclass(frozen=True, repr=False, eq=False)
class MoneyLenses(StoredResult, Result):
    """Money lenses side by side (see :func:`money_lenses`). Never summed.

    Attributes
    ----------
    table : pandas.DataFrame
        Columns :data:`MONEY_COLUMNS`; ``supported`` is False where the case's data
        cannot support a lens, and ``statement`` says why.
    params : pandas.DataFrame
        ``low, central, high`` of the supported lenses, indexed by lens (each in its
        own unit: the lenses are never added up).
    """

    title: ClassVar[str] = "Money lenses (separate; never summed)"

    case_id: str
    currency: str
    _table: pd.DataFrame
    _settings: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> pd.DataFrame:
        ok = self._table[self._table["supported"].astype(bool)]
        return ok.set_index("lens")[["low", "central", "high"]].astype(float)

    @property
    def summary(self) -> pd.DataFrame:
        return self._table[["lens", "low", "central", "high", "unit", "supported"]].copy()

    @property
    def supported(self) -> list[str]:
        return self._table.loc[self._table["supported"], "lens"].tolist()

    def plot(self, **kwargs):
        """The lenses as a table figure (:func:`casekit.plots.money_lenses_plot`); their
        units differ, so they are not drawn on one axis."""
        from casekit.plots import money_lenses_plot

        return money_lenses_plot(self, **kwargs)

    def row(self, lens: str) -> pd.Series:
        hit = self._table[self._table["lens"] == lens]
        if hit.empty:
            raise KeyError(f"no lens {lens!r}; lenses: {', '.join(self._table['lens'])}")
        return hit.iloc[0]

    def __str__(self) -> str:
        lines = [
            f"Money lenses for case {self.case_id!r}. The lenses overlap (reach drives brand "
            "damage, which drives the share price), so they are shown side by side and "
            "never added up."
        ]
        for _, r in self._table.iterrows():
            if r["supported"]:
                lines.append(
                    f"- {r['lens']}: {fmt.number(r['low'])} to {fmt.number(r['high'])} "
                    f"{r['unit']} (central {fmt.number(r['central'])}). "
                    f"{r['statement']} Assumes: {r['assumptions']}"
                )
            else:
                lines.append(f"- {r['lens']}: not supported. {r['statement']}")
        return "\n".join(lines) + "\n" + settings_block(self.settings)


def _lens(
    lens,
    low=np.nan,
    central=np.nan,
    high=np.nan,
    unit="",
    assumptions="",
    supported=False,
    statement="",
):
    return {
        "lens": lens,
        "low": low,
        "central": central,
        "high": high,
        "unit": unit,
        "assumptions": assumptions,
        "supported": supported,
        "statement": statement,
    }


_IMPRESSION_UNITS = ("views", "impressions")


def _impressions_lens(case: Case, delay_cost: DelayCost | None, cpm, currency: str) -> list[dict]:
    lo_c, mid_c, hi_c = cpm
    cpm_txt = (
        f"value per 1,000 negative impressions {fmt.number(lo_c)} / {fmt.number(mid_c)} / "
        f"{fmt.number(hi_c)} {currency} "
        "(low / central / high; a user parameter, the default is a placeholder and not a "
        "sourced figure)"
    )
    name = "negative impressions x CPM"
    rows = []
    if delay_cost is not None:
        units = case.reach.loc[case.reach["metric"] == delay_cost.metric, "unit"]
        unit = units.iloc[0] if len(units) else "reach"
        per = (
            ""
            if unit in _IMPRESSION_UNITS
            else f" Each of the {unit} counted is taken as one negative impression (a lower bound: "
            "each saw the story at least once)."
        )
        fl, fh = delay_cost.fitted_band
        fl = delay_cost.fitted_final if not np.isfinite(fl) else fl
        fh = delay_cost.fitted_final if not np.isfinite(fh) else fh
        rows.append(
            _lens(
                f"{name}: all reach",
                fl * lo_c / 1000,
                delay_cost.fitted_final * mid_c / 1000,
                fh * hi_c / 1000,
                currency,
                f"impressions = final reach of the {delay_cost.curve} fit of {delay_cost.metric!r} "
                f"({fmt.number(delay_cost.fitted_final)}, band {fmt.number(fl)}-{fmt.number(fh)}); "
                f"{cpm_txt}",
                True,
                "Value of all negative impressions of the story." + per,
            )
        )
        a = delay_cost.actual
        if a is not None:
            ci = delay_cost.conf_int()
            ci = ci[
                (ci["quantity"] == "cost_of_delay")
                & np.isclose(ci["delay_days"].to_numpy(float), float(a["delay_days"]))
            ].iloc[0]
            cl = ci["lower"] if np.isfinite(ci["lower"]) else a["cost_of_delay"]
            ch = ci["upper"] if np.isfinite(ci["upper"]) else a["cost_of_delay"]
            rows.append(
                _lens(
                    f"{name}: due to the delay",
                    cl * lo_c / 1000,
                    a["cost_of_delay"] * mid_c / 1000,
                    ch * hi_c / 1000,
                    currency,
                    "impressions = extra final reach from responding at day "
                    f"{fmt.number(a['delay_days'])} instead of day 0 ({delay_cost.model} damping, "
                    f"e = {fmt.number(delay_cost.effectiveness)}); "
                    f"{cpm_txt}",
                    True,
                    "Value of the impressions a response at going public would have avoided." + per,
                )
            )
        else:
            rows.append(
                _lens(
                    f"{name}: due to the delay",
                    statement=(
                        "The actual delay is unknown, so the impressions "
                        "due to it cannot be computed."
                    ),
                )
            )
        return rows
    r = case.reach
    r = r[
        r["unit"].isin(_IMPRESSION_UNITS)
        & r["kind"].isin(["observed", "reported"])
        & r["confidence"].isin(["high", "medium"])
        & r["cumulative"]
    ]
    if r.empty:
        units = ", ".join(sorted(set(case.reach["unit"]))) or "none"
        return [
            _lens(
                f"{name}: all reach",
                statement=(
                    "the case records no views or impressions of the story itself "
                    f"(its reach units: {units}), and no delay-cost fit was given."
                ),
            )
        ]
    best = r.loc[r["value"].idxmax()]
    v = float(best["value"])
    return [
        _lens(
            f"{name}: all reach",
            v * lo_c / 1000,
            v * mid_c / 1000,
            v * hi_c / 1000,
            currency,
            f"impressions = the largest reported reading, {fmt.number(v)} {best['unit']} of "
            f"{best['metric']!r} on {best['time'].date()} ({best['source']}); {cpm_txt}",
            True,
            "No delay-cost fit given: a lower bound from the largest observed or reported reading.",
        )
    ]


def money_lenses(
    case: Case,
    delay_cost: DelayCost | None = None,
    cpm: Sequence[float] = DEFAULT_CPM,
    event_study=None,
    *,
    industry: str | None = None,
    market_window: tuple[int, int] | None = None,
    market_benchmark: str = "market",
) -> MoneyLenses:
    """The cost of the slow response through separate money lenses, never summed.

    Parameters
    ----------
    case : Case
    delay_cost : DelayCost, optional
        For the impressions lens; without it the lens falls back to the largest
        reported view count of the case (a lower bound) or is not supported.
    cpm : (low, central, high)
        Value per 1,000 negative impressions in the case currency. The default
        :data:`DEFAULT_CPM` is a placeholder, not a sourced figure.
    event_study : casekit.market.EventStudy, optional
        Anything with ``.car_table`` (columns ``benchmark, window, car, money,
        money_lower, money_upper``) and ``.to_dict()``.
    industry : {"airline", "telecom"}, optional
        For the willingness-to-pay lens; inferred from the company name and summary.
    market_window : (int, int), optional
        The event study's CAR window for the market lens; default the longest window
        that starts on day 0.
    market_benchmark : str
        The event study's benchmark for the market lens (default ``"market"``).

    Returns
    -------
    MoneyLenses
        Lenses (rows of ``table``):

        1. **negative impressions x CPM**: all reach, and the part due to the delay.
        2. **willingness to pay by response time**: per complaining customer, the
           uplift a fast reply buys minus the uplift of the actual reply
           (:data:`WTP_FIGURES`, *industry estimates*). Low: a typical reply as the
           target; central: a fast reply; high: fast reply vs the actual reply counted
           as no reply.
        3. **cost multiplier**: each money lens in the remedy's currency divided by the
           remedy the company refused (costs category ``remedy_refused``).
        4. **market value**: -CAR x market value from the event study (a positive
           figure is value lost).

    Examples
    --------
    >>> import casekit as ck
    >>> m = ck.response.money_lenses(ck.load_case("synthetic-example"))
    >>> m.table[["lens", "supported"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'lens': 'negative impressions x CPM: all reach', 'supported': True},
     {'lens': 'willingness to pay by response time', 'supported': False},
     {'lens': 'cost multiplier: negative impressions x CPM: all reach', 'supported': True},
     {'lens': 'market value', 'supported': False}]
    >>> print(m.row("market value")["statement"])
    market lens: not computed (no price data supplied); see casekit.market.event_study.
    """
    check_case(case, "money_lenses")
    if delay_cost is not None and not isinstance(delay_cost, DelayCost):
        raise ParameterError(
            "delay_cost must be a DelayCost (casekit.response.delay_cost), not "
            f"a {type(delay_cost).__name__}"
        )
    if market_window is not None:
        try:
            market_window = tuple(int(x) for x in market_window)
        except (TypeError, ValueError) as err:
            raise ParameterError("market_window must be (start, end) in trading days") from err
        if len(market_window) != 2:
            raise ParameterError("market_window must be (start, end) in trading days")
    cpm = check_cpm(cpm)
    currency = case.currency
    rows = _impressions_lens(case, delay_cost, cpm, currency)
    # -- 2. willingness to pay
    text = f"{case.company} {case.title} {case.summary}"
    if industry is None:
        industry = next((k for k, rx in _INDUSTRY_WORDS.items() if rx.search(text)), None)
    if industry is not None and industry not in WTP_FIGURES:
        raise ParameterError(f"industry must be one of {', '.join(WTP_FIGURES)}, not {industry!r}")
    if industry is None:
        rows.append(
            _lens(
                "willingness to pay by response time",
                statement=(
                    "methods.md has willingness-to-pay figures for airlines and telecoms "
                    "only, and this case is in neither industry (pass industry= to override)."
                ),
            )
        )
    else:
        f = WTP_FIGURES[industry]
        fc, fr = case.key_date("first_complaint"), case.key_date("first_response")
        if fc is None or fr is None:
            rows.append(
                _lens(
                    "willingness to pay by response time",
                    statement=(
                        "the time from the first complaint to the first response is "
                        "unknown (first_complaint or first_response is not dated)."
                    ),
                )
            )
        else:
            minutes = (fr - fc) / pd.Timedelta(minutes=1)
            actual = wtp_uplift(minutes, industry)
            band_label = {
                f["fast"]: f["fast_label"],
                f["any"]: f["any_label"],
                f["slow"]: f["slow_label"],
            }[actual]
            rows.append(
                _lens(
                    "willingness to pay by response time",
                    max(f["any"] - actual, 0.0),
                    f["fast"] - actual,
                    f["fast"],
                    f"{f['unit']}, per complaining customer",
                    f"industry estimate, stated preference, platform-sponsored: {f['source']}. "
                    f"Actual reply after {fmt.days(minutes / 1440)} counts as '{band_label}' "
                    f"({fmt.money(actual, signed=True)}) if it counts as a reply. "
                    f"Low = '{f['any_label']}' ({fmt.money(f['any'], signed=True)}) as target; "
                    f"central = '{f['fast_label']}' ({fmt.money(f['fast'], signed=True)}) as "
                    "target; high = fast reply vs no reply (the "
                    "actual answer counted as none). Per "
                    "purchase and per complaining customer; not multiplied by purchases or "
                    "customers.",
                    True,
                    f"Industry estimate ({industry}), labelled as "
                    f"such; figures in USD whatever the "
                    "case currency.",
                )
            )
    # -- 3. cost multiplier
    costs = case.costs
    refused = costs[(costs["category"] == "remedy_refused") & costs["value"].notna()]
    money_rows = [r for r in rows if r["supported"] and r["unit"] == currency]
    if refused.empty:
        rows.append(
            _lens(
                "cost multiplier: negative impressions x CPM: all reach",
                statement=(
                    "the case records no refused remedy with a value "
                    "(costs category remedy_refused)."
                ),
            )
        )
    else:
        ref = refused[refused["unit"] == currency]
        if ref.empty:
            rows.append(
                _lens(
                    "cost multiplier",
                    statement=(
                        f"the refused remedy is in {refused['unit'].iloc[0]}, not the case "
                        f"currency {currency}; no exchange rate is applied."
                    ),
                )
            )
        else:
            rv = ref["value"].to_numpy(float)
            r_lo, r_mid, r_hi = rv.min(), float(np.median(rv)), rv.max()
            what = "; ".join(f"{it} ({fmt.money(v, currency)})" for it, v in zip(ref["item"], rv))
            if not money_rows:
                rows.append(
                    _lens(
                        "cost multiplier: negative impressions x CPM: all reach",
                        statement=(f"no money lens in {currency} could be computed for this case."),
                    )
                )
            for mr in list(money_rows):
                rows.append(
                    _lens(
                        f"cost multiplier: {mr['lens']}",
                        mr["low"] / r_hi,
                        mr["central"] / r_mid,
                        mr["high"] / r_lo,
                        "x the refused remedy",
                        f"{mr['lens']} divided by the refused remedy: {what}",
                        True,
                        f"How many times the refused remedy the {mr['lens']} lens comes to.",
                    )
                )
    # -- 4. market value
    if event_study is None:
        rows.append(
            _lens(
                "market value",
                statement=(
                    "market lens: not computed (no price data "
                    "supplied); see casekit.market.event_study."
                ),
            )
        )
    else:
        ct = getattr(event_study, "car_table", None)
        need = {"car", "money", "money_lower", "money_upper"}
        if not isinstance(ct, pd.DataFrame) or not need <= set(ct.columns):
            rows.append(
                _lens(
                    "market value",
                    statement=(
                        "market lens: not computed (the event study has "
                        "no CAR x market value columns)."
                    ),
                )
            )
        else:
            cand = ct[np.isfinite(ct["money"].astype(float))]
            if "benchmark" in cand.columns and (cand["benchmark"] == market_benchmark).any():
                cand = cand[cand["benchmark"] == market_benchmark]
            if {"start", "end"} <= set(cand.columns) and len(cand):
                if market_window is not None:
                    cand = cand[
                        (cand["start"] == market_window[0]) & (cand["end"] == market_window[1])
                    ]
                    if cand.empty:
                        raise ParameterError(f"the event study has no CAR window {market_window}")
                else:
                    from0 = cand[cand["start"] == 0]
                    cand = from0 if len(from0) else cand
                    cand = cand.assign(_len=cand["end"] - cand["start"]).sort_values(
                        "_len", ascending=False, kind="stable"
                    )
            if cand.empty:
                rows.append(
                    _lens(
                        "market value",
                        statement=(
                            "market lens: not computed (no market value: "
                            "shares outstanding missing)."
                        ),
                    )
                )
            else:
                r = cand.iloc[0]
                win = r.get("window", "?")
                ev = r.get("event", "?")
                rows.append(
                    _lens(
                        "market value",
                        -float(r["money_upper"]),
                        -float(r["money"]),
                        -float(r["money_lower"]),
                        "USD",
                        f"-CAR x market value, event {ev}, window {win} trading days, benchmark "
                        f"{r.get('benchmark', '?')}; "
                        f"CAR {fmt.percent(float(r['car']), 2, signed=True)}; range = the CAR "
                        "confidence interval times market value (casekit.market).",
                        True,
                        "From the event study; a positive figure is value lost, a negative one a "
                        "gain relative to the market model.",
                    )
                )
                ref_usd = refused[refused["unit"] == "USD"]["value"].to_numpy(float)
                if ref_usd.size and not rows[-1]["central"] > 0:
                    rows.append(
                        _lens(
                            "cost multiplier: market value",
                            statement=(
                                "the market lens's central estimate is not a "
                                "loss (the abnormal return "
                                "is zero or positive), so it is not expressed as a multiple of the "
                                "refused remedy; its range is in the market value row"
                            ),
                        )
                    )
                elif ref_usd.size:
                    m = rows[-1]
                    rows.append(
                        _lens(
                            "cost multiplier: market value",
                            m["low"] / ref_usd.max(),
                            m["central"] / float(np.median(ref_usd)),
                            m["high"] / ref_usd.min(),
                            "x the refused remedy",
                            "market value lens divided by the refused remedy",
                            True,
                            "Market value lens as a multiple of the refused remedy.",
                        )
                    )
    table = pd.DataFrame(rows, columns=list(MONEY_COLUMNS))
    settings = {
        "case": case.id,
        "never summed": "the lenses overlap (methods.md §4): no total is given",
        "CPM": f"{cpm} {currency} per 1,000 impressions (placeholder default unless supplied)",
        "willingness to pay": (
            "industry estimates from a platform-sponsored study (methods.md §4.1)"
        ),
        "industry": industry or "none (no willingness-to-pay lens)",
        "market window": (
            "the longest window from day 0" if market_window is None else str(market_window)
        ),
        "market benchmark": market_benchmark,
        "currency": f"case currency {currency}; no exchange rates are applied",
    }
    return MoneyLenses(case_id=case.id, currency=currency, _table=table, _settings=settings)
