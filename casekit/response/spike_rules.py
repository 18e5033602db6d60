"""Documented spike-alert rules (Meltwater, Socialmetrix) and their replay on a regular
grid of per-interval counts. :func:`casekit.response.detection_replay` applies them to a
case's reach data; :func:`casekit.forecast.replay` sets them beside its forecasts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from casekit import format as fmt
from casekit.exceptions import InsufficientDataError, ParameterError
from casekit.response._common import DAY
from casekit.results import register

__all__ = ["SpikeRule", "DEFAULT_RULES", "replay_rules"]


@dataclass(frozen=True)
class SpikeRule:
    """A documented spike-alert rule, replayed on a regular grid of per-interval counts.

    Attributes
    ----------
    name : str
    kind : {"ratio", "sd"}
        ``ratio``: fires when the mean count per step in the window exceeds
        ``threshold`` times the mean per step in the baseline. ``sd``: fires when the
        window mean exceeds the baseline mean plus ``threshold`` standard deviations
        of the baseline counts (ddof = 1).
    window, baseline : pandas.Timedelta
        The window just checked and the baseline immediately before it (they do not
        overlap). Both must be whole multiples of the data's step.
    threshold : float
        Factor (``ratio``) or k (``sd``).
    source : str
        Where the rule is documented.
    min_count : float
        The window must also hold at least this many counts in total.
    """

    name: str
    kind: str
    window: pd.Timedelta
    baseline: pd.Timedelta
    threshold: float
    source: str
    min_count: float = 0.0

    def __post_init__(self):
        if self.kind not in ("ratio", "sd"):
            raise ParameterError(f"SpikeRule kind must be 'ratio' or 'sd', not {self.kind!r}")
        if isinstance(self.threshold, bool) or not self.threshold >= 0:
            raise ParameterError("SpikeRule threshold must be a number >= 0")
        for name in ("window", "baseline"):
            span = getattr(self, name)
            if not isinstance(span, pd.Timedelta) or not span > pd.Timedelta(0):
                raise ParameterError(
                    f"SpikeRule {name} must be a positive pandas.Timedelta, not {span!r}"
                )


register(SpikeRule)


DEFAULT_RULES: tuple[SpikeRule, ...] = (
    SpikeRule(
        "social_1h_vs_12h",
        "ratio",
        pd.Timedelta(hours=1),
        pd.Timedelta(hours=12),
        2.0,
        "Meltwater social spike detection: last hour vs previous 12 h [S1a]; the factor "
        "2 is casekit's choice (Meltwater publishes no threshold)",
    ),
    SpikeRule(
        "editorial_1d_vs_14d",
        "ratio",
        pd.Timedelta(days=1),
        pd.Timedelta(days=14),
        2.0,
        "Meltwater editorial spike detection: one day vs previous 14 days [S1a]; factor 2 "
        "is casekit's choice",
    ),
    SpikeRule(
        "sd_24h_vs_7d_k1.5",
        "sd",
        pd.Timedelta(hours=24),
        pd.Timedelta(days=7),
        1.5,
        "Socialmetrix variation alert: 24-h mean > 7-day mean + 1.5 SD [S6a]",
    ),
    SpikeRule(
        "sd_24h_vs_7d_k2",
        "sd",
        pd.Timedelta(hours=24),
        pd.Timedelta(days=7),
        2.0,
        "Socialmetrix variation alert: 24-h mean > 7-day mean + 2 SD [S6a]",
    ),
    SpikeRule(
        "sd_24h_vs_7d_k3",
        "sd",
        pd.Timedelta(hours=24),
        pd.Timedelta(days=7),
        3.0,
        "Socialmetrix variation alert: 24-h mean > 7-day mean + 3 SD [S6a]",
    ),
)
"""The rules :func:`detection_replay` replays by default (methods.md §1.5, §4.7)."""


def _steps(span: pd.Timedelta, step: pd.Timedelta) -> int | None:
    q = span / step
    if q < 1 - 1e-9 or abs(q - round(q)) > 1e-9:
        return None
    return int(round(q))


def replay_rules(
    counts: pd.Series,
    rules: Iterable[SpikeRule] = DEFAULT_RULES,
    *,
    step: pd.Timedelta | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replay spike rules on a regular series of per-interval counts.

    Parameters
    ----------
    counts : pandas.Series
        Counts per interval on a regular :class:`~pandas.DatetimeIndex` (the label is
        the start of the interval). NaN means unknown: a window or baseline holding an
        unknown interval is not checked.
    rules : iterable of SpikeRule
    step : pandas.Timedelta, optional
        The grid step; inferred from the index when omitted.

    Returns
    -------
    (rules_table, checks) : tuple of DataFrame
        ``rules_table``: one row per rule with ``rule, kind, threshold, evaluable,
        n_checks, n_alerts, first_alert, reason, source``; ``first_alert`` is the end
        of the first window that fires (the moment the alert could be raised).
        ``checks``: one row per rule and checked window with ``rule, window_end,
        window_mean, baseline_mean, baseline_sd, threshold_value, fired``.

    Examples
    --------
    >>> import casekit as ck
    >>> import pandas as pd
    >>> idx = pd.date_range("2024-01-01", periods=10, freq="D")
    >>> counts = pd.Series([5, 6, 5, 4, 6, 5, 5, 30, 40, 20], index=idx, dtype=float)
    >>> tab, _ = ck.response.replay_rules(counts)
    >>> tab.set_index("rule").loc["sd_24h_vs_7d_k3", "first_alert"]
    Timestamp('2024-01-09 00:00:00')
    """
    if not isinstance(counts, pd.Series) or not isinstance(counts.index, pd.DatetimeIndex):
        raise ParameterError("counts must be a pandas Series on a DatetimeIndex")
    if step is not None and (not isinstance(step, pd.Timedelta) or not step > pd.Timedelta(0)):
        raise ParameterError(f"step must be a positive pandas.Timedelta, not {step!r}")
    rules = tuple(rules)
    if not all(isinstance(r, SpikeRule) for r in rules):
        raise ParameterError("rules must be SpikeRule objects (see casekit.response.DEFAULT_RULES)")
    counts = counts.astype(float).sort_index()
    if step is None:
        if len(counts) < 2:
            raise InsufficientDataError("need at least two intervals to infer the step")
        diffs = np.diff(counts.index.values).astype("timedelta64[ns]")
        step = pd.Timedelta(diffs.min())
        if not np.all(diffs == diffs[0]):
            raise ParameterError("counts must be on a regular grid; reindex with NaN for gaps")
    values = counts.to_numpy()
    times = counts.index
    rows, checks = [], []
    for rule in rules:
        w, b = _steps(rule.window, step), _steps(rule.baseline, step)
        base = {
            "rule": rule.name,
            "kind": rule.kind,
            "threshold": rule.threshold,
            "evaluable": False,
            "n_checks": 0,
            "n_alerts": 0,
            "first_alert": pd.NaT,
            "reason": "",
            "source": rule.source,
        }
        if w is None or b is None:
            base["reason"] = (
                f"the series has one value per {fmt.days(step / DAY)}: too sparse "
                f"for a {fmt.days(rule.window / DAY)} window against a "
                f"{fmt.days(rule.baseline / DAY)} baseline"
            )
            rows.append(base)
            continue
        n = len(values)
        if n < w + b:
            base["reason"] = (
                f"{n} intervals recorded; the rule needs {w + b} consecutive "
                "intervals (baseline + window)"
            )
            rows.append(base)
            continue
        # windows ending at index i (inclusive): window = [i-w+1, i], baseline = [i-w-b+1, i-w]
        full = sliding_window_view(values, w + b)  # row j covers [j, j+w+b)
        ok = ~np.isnan(full).any(axis=1)
        bl, win = full[:, :b], full[:, b:]
        with np.errstate(invalid="ignore"):
            wmean = win.mean(axis=1)
            bmean = bl.mean(axis=1)
            bsd = bl.std(axis=1, ddof=1) if b > 1 else np.zeros(len(bl))
        if rule.kind == "ratio":
            thr = rule.threshold * bmean
        else:
            thr = bmean + rule.threshold * bsd
        fired = ok & (wmean > thr) & (win.sum(axis=1) >= rule.min_count)
        ends = times[w + b - 1 :] + step
        for j in np.flatnonzero(ok):
            checks.append(
                {
                    "rule": rule.name,
                    "window_end": ends[j],
                    "window_mean": wmean[j],
                    "baseline_mean": bmean[j],
                    "baseline_sd": bsd[j],
                    "threshold_value": thr[j],
                    "fired": bool(fired[j]),
                }
            )
        base["n_checks"] = int(ok.sum())
        base["n_alerts"] = int(fired.sum())
        if base["n_checks"] == 0:
            base["reason"] = (
                "no complete baseline + window without a gap in the data "
                f"({w + b} consecutive known intervals needed)"
            )
        else:
            base["evaluable"] = True
            if fired.any():
                base["first_alert"] = ends[int(np.flatnonzero(fired)[0])]
            else:
                base["reason"] = "evaluable; never fired on the recorded data"
        rows.append(base)
    rules_table = pd.DataFrame(
        rows,
        columns=[
            "rule",
            "kind",
            "threshold",
            "evaluable",
            "n_checks",
            "n_alerts",
            "first_alert",
            "reason",
            "source",
        ],
    )
    rules_table["first_alert"] = pd.to_datetime(rules_table["first_alert"])
    checks_df = pd.DataFrame(
        checks,
        columns=[
            "rule",
            "window_end",
            "window_mean",
            "baseline_mean",
            "baseline_sd",
            "threshold_value",
            "fired",
        ],
    )
    return rules_table, checks_df
