"""What there is when nothing can be fitted: :func:`describe`, and every case's main
series on one axis: :func:`normalised`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.exceptions import ParameterError
from casekit.reach.data import _check_kinds, _check_metric, _is_case
from casekit.results import Result

__all__ = ["DescriptiveReach", "describe", "normalised", "NORMALISED_COLUMNS"]

_SUMMARY_COLUMNS = (
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
_PARAM_COLUMNS = ("metric", "n", "first_time", "last_time", "min", "max", "last_value")


@dataclass(frozen=True, repr=False, eq=False)
class DescriptiveReach(Result):
    """A descriptive summary of a case's reach data, with a plain explanation.

    Attributes
    ----------
    case_id : str
    per_metric : pandas.DataFrame
        One row per metric (what :attr:`table` returns).
    fittable : tuple of str
        Metrics with enough dated cumulative observations for a 3-parameter curve.
    explanation : str
        What can and cannot be fitted, and why, in plain words.
    reach_figures : pandas.DataFrame or None
        The case's reach rows of the described metrics (see :attr:`figures`).
    metric : str or None
        The one metric described, or None for all of them.
    kinds : tuple of str
        Kinds of figures counted as data.
    min_n : int
        Observations needed to call a metric fittable.
    """

    case_id: str
    per_metric: pd.DataFrame
    fittable: tuple[str, ...]
    explanation: str
    reach_figures: pd.DataFrame | None = None
    metric: str | None = None
    kinds: tuple[str, ...] = ("observed", "reported")
    min_n: int = 4

    title: ClassVar[str] = "Reach data"

    @property
    def figures(self) -> pd.DataFrame | None:
        """The case's reach rows (all kinds) of the described metrics, as ``Case.reach``
        gives them; what :meth:`plot` draws. ``None`` if not kept."""
        return None if self.reach_figures is None else self.reach_figures.copy()

    @property
    def table(self) -> pd.DataFrame:
        """Per metric: ``metric, unit, cumulative, n, n_all_kinds, n_sources, first_time,
        last_time, min, max, last_value, fittable, reason``."""
        return self.per_metric.copy()

    @property
    def summary(self) -> pd.DataFrame:
        """Per metric, in short: ``metric, unit, n, n_sources, first_time, last_time,
        last_value, fittable, reason``."""
        return self.per_metric[list(_SUMMARY_COLUMNS)].copy()

    @property
    def params(self) -> pd.DataFrame:
        """What the figures show per metric: ``metric, n, first_time, last_time, min, max,
        last_value``."""
        return self.per_metric[list(_PARAM_COLUMNS)].copy()

    @property
    def settings(self) -> dict[str, Any]:
        """The case, the metric(s), the kinds of figures counted and the fittable rule."""
        return {
            "case": self.case_id,
            "metric": self.metric or "all",
            "kinds": ", ".join(self.kinds),
            "fittable": f"at least {self.min_n} dated figures of one cumulative metric, "
            f"and a known origin date",
        }

    @property
    def main_metric(self) -> str | None:
        """The metric a report should tell the story with: the first fittable one (the
        case's own choice first), else the one with the most figures, else ``None``
        (no reach figures at all)."""
        if self.fittable:
            return self.fittable[0]
        table = self.per_metric
        if table.empty:
            return None
        return str(
            table.sort_values("n_all_kinds", ascending=False, kind="stable")["metric"].iloc[0]
        )

    def plot(self, **kwargs):
        """The case's raw reach figures per metric (see plots.reach_describe_plot)."""
        from casekit.plots import reach_describe_plot

        return reach_describe_plot(self, **kwargs)

    def __str__(self) -> str:
        return f"{self.explanation}\nSettings:\n{fmt.settings_text(self.settings)}"


def describe(
    case,
    metric: str | None = None,
    *,
    kinds: Iterable[str] = ("observed", "reported"),
    min_n: int = 4,
) -> DescriptiveReach:
    """Summarise a case's reach figures and say plainly what can be fitted.

    Parameters
    ----------
    case : Case
    metric : str, optional
        Restrict the table to one metric.
    kinds : iterable of str
        Kinds of figures counted as data (default observed and reported).
    min_n : int
        Observations needed to call a metric fittable (4: a 3-parameter curve + 1).

    Returns
    -------
    DescriptiveReach

    Examples
    --------
    >>> import casekit as ck
    >>> d = ck.reach.describe(ck.load_case("synthetic-example"))
    >>> d.fittable
    ('video_views',)
    """
    if not _is_case(case):
        raise ParameterError(
            f"describe needs a Case (from casekit.load_case), not {type(case).__name__}"
        )
    kinds = _check_kinds(kinds)
    if isinstance(min_n, bool) or not isinstance(min_n, (int, np.integer)) or min_n < 1:
        raise ParameterError(f"min_n must be a whole number, at least 1, not {min_n!r}")
    if metric is not None:
        _check_metric(case, metric)
    reach = case.reach
    metrics = [metric] if metric is not None else list(case.metrics)
    rows = []
    for m in metrics:
        allrows = reach[reach["metric"] == m]
        s = allrows[allrows["kind"].isin(kinds)]
        cum = bool(allrows["cumulative"].astype(bool).all()) if len(allrows) else False
        n = len(s)
        if case.origin is None:
            reason = f"no origin date ({case.origin_key} is unknown)"
        elif not cum:
            reason = "not cumulative (per-period or outlet-level figures)"
        elif n < min_n:
            reason = f"only {n} figure{'s' if n != 1 else ''} of kind {'/'.join(kinds)}"
        else:
            reason = ""
        rows.append(
            {
                "metric": m,
                "unit": ", ".join(sorted(set(allrows["unit"].astype(str))))
                if "unit" in allrows
                else "",
                "cumulative": cum,
                "n": n,
                "n_all_kinds": len(allrows),
                "n_sources": int(s["source"].nunique()),
                "first_time": s["time"].min() if n else pd.NaT,
                "last_time": s["time"].max() if n else pd.NaT,
                "min": float(s["value"].min()) if n else np.nan,
                "max": float(s["value"].max()) if n else np.nan,
                "last_value": float(s.sort_values("time")["value"].iloc[-1]) if n else np.nan,
                "fittable": reason == "",
                "reason": reason or "enough dated cumulative figures",
            }
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "metric",
            "unit",
            "cumulative",
            "n",
            "n_all_kinds",
            "n_sources",
            "first_time",
            "last_time",
            "min",
            "max",
            "last_value",
            "fittable",
            "reason",
        ],
    )
    fittable = tuple(table.loc[table["fittable"], "metric"])
    preferred = (getattr(case, "analysis", {}) or {}).get("metric")
    if preferred in fittable:  # the case author's choice first
        fittable = (preferred, *[m for m in fittable if m != preferred])
    need = (
        f"a growth curve needs at least p + 1 dated observations of one cumulative metric "
        f"({min_n} for a 3-parameter curve such as the logistic)"
    )
    if fittable:
        best = table[table["fittable"]].sort_values("n", ascending=False).iloc[0]
        explanation = (
            f"{case.id} can be fitted: {len(fittable)} metric(s) have enough dated "
            f"cumulative figures ({', '.join(fittable)}); the richest is "
            f"{best['metric']} with {best['n']} figures from {best['n_sources']} "
            f"sources, {fmt.date(best['first_time'])} to "
            f"{fmt.date(best['last_time'])}."
        )
    elif table.empty:
        explanation = f"{case.id} has no reach figures at all, so nothing can be fitted; {need}."
    else:
        groups: dict[str, list[str]] = {}
        for r in table.itertuples():
            what = f"{r.n} figure{'s' if r.n != 1 else ''}"
            if r.n_all_kinds > r.n:
                what += f" + {r.n_all_kinds - r.n} claimed/derived"
            groups.setdefault(r.reason, []).append(f"{r.metric} ({what})")
        if not table["cumulative"].any() and case.origin is not None:
            explanation = (
                f"{case.id} has no time series of its story's reach, only figures "
                f"that are not cumulative (outlet-level or point-in-time counts): "
                f"{', '.join(sum(groups.values(), []))}. Not enough data to fit: "
                f"{need}."
            )
        else:
            parts = "; ".join(f"{reason}: {', '.join(ms)}" for reason, ms in groups.items())
            explanation = (
                f"{case.id} has too few dated cumulative figures to fit a growth "
                f"curve ({parts}). Not enough data to fit: {need}."
            )
    return DescriptiveReach(
        case_id=case.id,
        per_metric=table,
        fittable=fittable,
        explanation=explanation,
        reach_figures=reach[reach["metric"].isin(metrics)].reset_index(drop=True),
        metric=metric,
        kinds=kinds,
        min_n=int(min_n),
    )


NORMALISED_COLUMNS = ("case", "metric", "time", "t", "value", "share", "source", "confidence")
"""Column contract of :func:`normalised`."""


def normalised(cases, *, min_points: int = 3) -> pd.DataFrame:
    """Every case's main reach series on one axis: days since going public and share of the
    largest value recorded for that series.

    The main series is the first fittable metric of :func:`describe` (the case's own
    ``analysis.metric`` when it names one). Cases whose main series has fewer than
    ``min_points`` observations, or none at all, are left out; the frame's
    ``attrs["left_out"]`` maps each to the reason. The share is of the largest *recorded*
    value, not of a fitted saturation: it compares shapes and timing, not sizes.

    Examples
    --------
    >>> import casekit as ck
    >>> df = ck.reach.normalised([ck.load_case("synthetic-example")])
    >>> float(df["share"].max())
    1.0
    """
    if (
        isinstance(min_points, bool)
        or not isinstance(min_points, (int, np.integer))
        or min_points < 1
    ):
        raise ParameterError(f"min_points must be a whole number, at least 1, not {min_points!r}")
    frames, left_out = [], {}
    for case in cases:
        desc = describe(case)
        if not desc.fittable:
            left_out[case.id] = "no fittable reach series"
            continue
        metric = desc.fittable[0]
        s = case.series(metric)
        if len(s) < min_points:
            left_out[case.id] = f"{len(s)} observations of {metric} (< {min_points})"
            continue
        frames.append(s.assign(case=case.id, metric=metric, share=s["value"] / s["value"].max()))
    cols = list(NORMALISED_COLUMNS)
    out = pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)
    out.attrs["left_out"] = left_out
    return out
