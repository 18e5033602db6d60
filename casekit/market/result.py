"""The result of an event study: :class:`EventStudy`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from casekit import format as fmt
from casekit.exceptions import ParameterError
from casekit.market._checks import check_window
from casekit.market.statistics import MarketFit, corrado, patell
from casekit.results import Result, check_alpha

__all__ = ["EventStudy"]


def _level(alpha: float) -> str:
    return f"{fmt.number((1 - alpha) * 100)} %"


def _readable(value: Any) -> str:
    """A setting for the prose: windows as ``(0,3)``, pairs and mappings spelt out."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_readable(v)}" for k, v in value.items()) or "none"
    if isinstance(value, (list, tuple)):
        if not value:
            return "none"
        if all(isinstance(v, (list, tuple)) for v in value):
            return "; ".join(_readable(v) for v in value)
        if len(value) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value
        ):
            return f"({value[0]},{value[1]})"
        return ", ".join(_readable(v) for v in value)
    return value if isinstance(value, str) else fmt.cell(value)


@dataclass(frozen=True, repr=False, eq=False)
class EventStudy(Result):
    """Result of :func:`casekit.market.event_study` (immutable; build it with that function).

    Attributes
    ----------
    events : tuple of dict
        One dict per event: ``label`` (``"ACME 2024-04-09"``), ``ticker``, ``requested``
        (the date asked for), ``day0`` (the trading day used), ``peers``.
    estimates : pandas.DataFrame
        The market-model estimates as a flat table (``params`` indexes it).
    daily : pandas.DataFrame
        One row per event, benchmark and event-window day: ``event``, ``ticker``,
        ``benchmark``, ``date``, ``rel_day``, ``ret``, ``market_ret``, ``bench_ret``,
        ``expected``, ``ar``, ``ar_t`` (Patell's standardised AR, AR over its
        prediction-error corrected standard deviation), ``car`` (from the first day of
        the event window), ``car_se``, ``lower``, ``upper`` (the CAR's confidence
        interval). Also :attr:`table`.
    car_table : pandas.DataFrame
        One row per event (plus pooled rows ``all (N=k)`` for several events), benchmark
        and CAR window: ``window``, ``start``, ``end``, ``days``, ``car``, ``se``,
        ``se_plain``, ``t``, ``df``, ``p``, ``lower``, ``upper`` (the CAR's confidence
        interval), ``patell_z``, ``patell_p``, ``bmp_t``, ``bmp_p``, ``corrado_z``,
        ``corrado_p``, ``raw_return`` (compound price change), ``market_cap``, ``money``,
        ``money_lower``, ``money_upper`` (CAR and its interval times market value).
    market_cap : dict
        Per event label: ``shares``, ``price``, ``price_date``, ``price_basis``, ``value``;
        empty when no shares outstanding were given.
    notes : tuple of str
        Everything a reader should know: BMP not applicable, day 0 moved, dropped days,
        overlapping events.
    known_events : tuple of (Timestamp, str)
        Other news near the event that :meth:`verdict` names when a large one-day fall is
        on or just after it (from the case timeline in
        :func:`~casekit.market.case_event_study`; empty otherwise).
    """

    events: tuple[dict, ...]
    estimates: pd.DataFrame
    daily: pd.DataFrame
    car_table: pd.DataFrame
    market_cap: dict
    notes: tuple[str, ...]
    known_events: tuple
    _settings: dict
    _fits: dict
    _returns: pd.DataFrame
    _close: pd.DataFrame

    title = "Share-price event study"
    has_intervals = True

    # -- the contract --------------------------------------------------------------
    @property
    def params(self) -> pd.DataFrame:
        """Market-model estimates, index ``(event, benchmark)``: ``alpha``, ``beta``,
        ``sigma`` (residual standard deviation, ``sqrt(RSS / df)``), ``r2``, ``n_est``,
        ``df``, ``est_start``, ``est_end``, ``benchmark_series``."""
        return self.estimates.set_index(["event", "benchmark"])

    @property
    def settings(self) -> dict[str, Any]:
        """The arguments of the study as given and the assumptions it rests on."""
        return dict(self._settings)

    @property
    def table(self) -> pd.DataFrame:
        """Abnormal returns by day (:attr:`daily`)."""
        return self.daily

    @property
    def summary(self) -> pd.DataFrame:
        """The CARs and their tests, in percent and rounded, for reading."""
        ct = self.car_table
        return pd.DataFrame(
            {
                "event": ct["event"],
                "benchmark": ct["benchmark"],
                "window": ct["window"],
                "CAR %": (ct["car"] * 100).round(2) + 0.0,
                "lower %": (ct["lower"] * 100).round(2) + 0.0,
                "upper %": (ct["upper"] * 100).round(2) + 0.0,
                "t": ct["t"].round(2) + 0.0,
                "p": ct["p"].round(3) + 0.0,
                "Patell Z": ct["patell_z"].round(2) + 0.0,
                "Corrado Z": ct["corrado_z"].round(2) + 0.0,
                "BMP t": ct["bmp_t"].round(2) + 0.0,
                "raw %": (ct["raw_return"] * 100).round(2) + 0.0,
                "money M": (ct["money"] / 1e6).round(1) + 0.0,
            }
        )

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Confidence intervals of the market-model alpha and beta (OLS t intervals).

        Parameters
        ----------
        alpha : float, optional
            ``1 - level``; default the study's ``alpha``.

        Returns
        -------
        pandas.DataFrame
            Index ``(event, benchmark, param)`` with ``param`` in ``alpha``, ``beta``;
            columns ``estimate``, ``lower``, ``upper``. The market-adjusted model has
            fixed parameters (lower = upper = estimate). The CARs' intervals are in
            :attr:`car_table`.
        """
        alpha = self._settings["alpha"] if alpha is None else check_alpha(alpha)
        rows = []
        for (label, bench), fit in self._fits.items():
            ci = fit.param_conf_int(alpha)
            for k, name in enumerate(("alpha", "beta")):
                rows.append(
                    {
                        "event": label,
                        "benchmark": bench,
                        "param": name,
                        "estimate": (fit.alpha, fit.beta)[k],
                        "lower": float(ci[k, 0]),
                        "upper": float(ci[k, 1]),
                    }
                )
        return pd.DataFrame(rows).set_index(["event", "benchmark", "param"])

    def plot(self, event: int | str = 0, benchmark: str | None = None):
        """Daily AR bars and the CAR line with its confidence band (plotly Figure) of one
        event against one benchmark (default the study's first).

        See :func:`casekit.plots.event_study_plot`.
        """
        from casekit.plots import event_study_plot

        return event_study_plot(self, event=event, benchmark=benchmark)

    def __str__(self) -> str:
        alpha = self._settings["alpha"]
        s = self._settings
        lines = []
        for ev in self.events:
            moved = (
                "" if ev["day0"] == ev["requested"] else f", moved from {fmt.date(ev['requested'])}"
            )
            lines.append(f"Event study of {ev['label']} (day 0: {fmt.date(ev['day0'])}{moved}).")
        lines.append(
            f"Market model on {s['estimation_days']} daily simple returns, event window "
            f"{s['event_window'][0]}..{s['event_window'][1]} trading days. Cumulative "
            f"abnormal returns with {_level(alpha)} confidence intervals:"
        )
        labels = dict(
            zip(
                zip(self.estimates["event"], self.estimates["benchmark"]),
                self.estimates["benchmark_series"],
            )
        )
        for (event, bench), rows in self.car_table.groupby(["event", "benchmark"], sort=False):
            against = labels.get((event, bench), bench)
            cars = "; ".join(
                f"{r.window} {fmt.interval(r.car, r.lower, r.upper, kind='percent')}, "
                f"p = {fmt.number(r.p, 2)}"
                for r in rows.itertuples()
            )
            lines.append(f"  {event}, against the {against}: {cars}")
        for label, cap in self.market_cap.items():
            lines.append(
                f"Market value of {label}: {self._money(cap['value'])} "
                f"({fmt.number(cap['shares'])} shares × {fmt.number(cap['price'], 6)}, "
                f"{cap['price_basis']})."
            )
        if self.notes:
            lines.append("Notes:")
            lines += [f"  - {n}" for n in self.notes]
        lines.append("Settings:")
        lines.append(fmt.settings_text({k: _readable(v) for k, v in self._settings.items()}))
        return "\n".join(lines)

    # -- access ------------------------------------------------------------------
    def _money(self, x: float, currency: str | None = None, signed: bool = False) -> str:
        currency = currency or self._settings.get("currency")
        if currency:
            return fmt.money(x, currency, signed=signed)
        return fmt.compact(x, signed=signed)

    def _event_label(self, event: int | str) -> str:
        labels = [e["label"] for e in self.events]
        if isinstance(event, (int, np.integer)) and not isinstance(event, bool):
            if not -len(labels) <= event < len(labels):
                raise ParameterError(f"event index {event} out of range: {len(labels)} event(s)")
            return labels[event]
        if event in labels:
            return event
        raise ParameterError(f"unknown event {event!r}; events: {', '.join(labels)}")

    def _event_index(self, label: str) -> int:
        return [e["label"] for e in self.events].index(label)

    def _benchmark(self, benchmark: str) -> str:
        if benchmark not in self._settings["benchmarks"]:
            raise ParameterError(
                f"benchmark {benchmark!r} not in this study; it has "
                f"{', '.join(self._settings['benchmarks'])}"
            )
        return benchmark

    def _fit(self, label: str, benchmark: str) -> MarketFit:
        return self._fits[(label, self._benchmark(benchmark))]

    def car(
        self,
        benchmark: str = "market",
        window: tuple[int, int] = (0, 0),
        event: int | str = 0,
        alpha: float | None = None,
    ) -> dict[str, float]:
        """CAR statistics of one event over any window inside the event window.

        Parameters
        ----------
        benchmark : str
            ``"market"``, ``"peers"`` or ``"market_adjusted"`` (if in the study).
        window : (int, int)
            First and last relative trading day, inside ``event_window``.
        event : int or str
            Event index or label.
        alpha : float, optional
            For the confidence interval; default the study's ``alpha``.

        Returns
        -------
        dict
            ``car``, ``se``, ``se_plain``, ``t``, ``df``, ``p``, ``lower``, ``upper``,
            ``patell_z``, ``patell_p``, ``corrado_z``, ``corrado_p``, ``raw_return``,
            ``length``.
        """
        label = self._event_label(event)
        fit = self._fit(label, benchmark)
        t1, t2 = check_window(window, self._settings["event_window"], "window")
        alpha = self._settings["alpha"] if alpha is None else check_alpha(alpha)
        row = fit.window(t1, t2)
        q = special.stdtrit(row["df"], 1 - alpha / 2)
        row["lower"] = row["car"] - q * row["se"]
        row["upper"] = row["car"] + q * row["se"]
        row["patell_z"], row["patell_p"] = patell([row])
        row["corrado_z"], row["corrado_p"] = corrado([fit], t1, t2)
        return row

    def verdict(
        self,
        claim: Mapping[str, Any] | pd.Series | None = None,
        *,
        price_change_pct: float | None = None,
        value_change: float | None = None,
        currency: str | None = None,
        window: tuple[int, int] | None = None,
        benchmark: str | None = None,
        event: int | str = 0,
        known_events: Mapping[Any, str] | Sequence[tuple[Any, str]] | None = None,
        search_days: int = 15,
    ) -> str:
        """A plain-language verdict on a claimed share-price effect, built from the numbers.

        See :func:`casekit.market.verdict.verdict` for the parameters and the wording.
        """
        from casekit.market.verdict import verdict

        return verdict(
            self,
            claim,
            price_change_pct=price_change_pct,
            value_change=value_change,
            currency=currency,
            window=window,
            benchmark=benchmark,
            event=event,
            known_events=known_events,
            search_days=search_days,
        )


def car_rows(
    fits: Mapping[tuple[str, str], MarketFit],
    labels: Sequence[str],
    benchmarks: Sequence[str],
    windows: Sequence[tuple[int, int]],
    alpha: float,
    market_cap: Mapping[str, dict],
) -> pd.DataFrame:
    """The CAR table of :class:`EventStudy` (one row per event, benchmark and window, plus
    pooled rows for several events)."""
    from casekit.market.statistics import bmp

    rows = []
    n_ev = len(labels)
    for bench in benchmarks:
        bench_fits = [fits[(label, bench)] for label in labels]
        for t1, t2 in windows:
            per = []
            for f in bench_fits:
                r = f.window(t1, t2)
                q = special.stdtrit(r["df"], 1 - alpha / 2)
                r["patell_z"], r["patell_p"] = patell([r])
                r["corrado_z"], r["corrado_p"] = corrado([f], t1, t2)
                cap = market_cap.get(f.event, {}).get("value", math.nan)
                r.update(
                    event=f.event,
                    benchmark=bench,
                    lower=r["car"] - q * r["se"],
                    upper=r["car"] + q * r["se"],
                    bmp_t=math.nan,
                    bmp_p=math.nan,
                    market_cap=cap,
                    money=r["car"] * cap,
                    money_lower=(r["car"] - q * r["se"]) * cap,
                    money_upper=(r["car"] + q * r["se"]) * cap,
                )
                per.append(r)
            if n_ev > 1:
                caar = float(np.mean([r["car"] for r in per]))
                se = math.sqrt(sum(r["se"] ** 2 for r in per)) / n_ev
                se_plain = math.sqrt(sum(r["se_plain"] ** 2 for r in per)) / n_ev
                z = caar / se
                qn = special.ndtri(1 - alpha / 2)
                pz, pp = patell(per)
                bt, bp = bmp(per)
                cz, cp = corrado(bench_fits, t1, t2)
                per.append(
                    {
                        "event": f"all (N={n_ev})",
                        "benchmark": bench,
                        "length": per[0]["length"],
                        "car": caar,
                        "se": se,
                        "se_plain": se_plain,
                        "t": z,
                        "df": math.inf,
                        "p": float(2 * special.ndtr(-abs(z))),
                        "lower": caar - qn * se,
                        "upper": caar + qn * se,
                        "patell_z": pz,
                        "patell_p": pp,
                        "bmp_t": bt,
                        "bmp_p": bp,
                        "corrado_z": cz,
                        "corrado_p": cp,
                        "raw_return": float(np.mean([r["raw_return"] for r in per])),
                        "market_cap": math.nan,
                        "money": math.nan,
                        "money_lower": math.nan,
                        "money_upper": math.nan,
                    }
                )
            for r in per:
                r["window"] = f"({t1},{t2})"
                r["start"], r["end"] = t1, t2
                rows.append(r)
    columns = [
        "event",
        "benchmark",
        "window",
        "start",
        "end",
        "length",
        "car",
        "se",
        "se_plain",
        "t",
        "df",
        "p",
        "lower",
        "upper",
        "patell_z",
        "patell_p",
        "bmp_t",
        "bmp_p",
        "corrado_z",
        "corrado_p",
        "raw_return",
        "market_cap",
        "money",
        "money_lower",
        "money_upper",
    ]
    table = pd.DataFrame(rows)[columns].rename(columns={"length": "days"})
    table["df"] = table["df"].astype(float)
    return table


def daily_rows(fits: Mapping[tuple[str, str], MarketFit], w0: int, alpha: float) -> pd.DataFrame:
    """The daily table of :class:`EventStudy`: ARs and the running CAR with its interval."""
    parts = []
    for f in fits.values():
        car = np.cumsum(f.ar)
        car_se = np.array([f.window(w0, t)["se"] for t in f.rel_days])
        q = special.stdtrit(f.df, 1 - alpha / 2)
        parts.append(
            pd.DataFrame(
                {
                    "event": f.event,
                    "ticker": f.ticker,
                    "benchmark": f.benchmark,
                    "date": f.evt_dates,
                    "rel_day": f.rel_days,
                    "ret": f.ret,
                    "market_ret": f.market_ret,
                    "bench_ret": f.bench_ret,
                    "expected": f.ret - f.ar,
                    "ar": f.ar,
                    "ar_t": f.ar / np.sqrt(f.day_var),
                    "car": car,
                    "car_se": car_se,
                    "lower": car - q * car_se,
                    "upper": car + q * car_se,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
