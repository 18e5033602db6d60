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
from casekit.reach.curves import CurveSpec, _get_spec
from casekit.reach.data import _check_kinds, _check_metric, _is_case
from casekit.results import Result

__all__ = ["DescriptiveReach", "describe", "normalised", "NORMALISED_COLUMNS"]

_SUMMARY_COLUMNS = (
    "metric",
    "unit",
    "n",
    "n_times",
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
        Metrics a growth curve can be fitted to: cumulative, dated from a known origin,
        with observations at ``min_times`` or more distinct times and ``min_n`` or more
        observations in all (see :func:`describe`).
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
    min_times : int or None
        Distinct observation times needed to call a metric fittable.
    curve_rule : str
        Which curve set the two numbers come from, in words.
    """

    case_id: str
    per_metric: pd.DataFrame
    fittable: tuple[str, ...]
    explanation: str
    reach_figures: pd.DataFrame | None = None
    metric: str | None = None
    kinds: tuple[str, ...] = ("observed", "reported")
    min_n: int = 4
    min_times: int | None = None
    curve_rule: str = ""

    title: ClassVar[str] = "Reach data"

    @property
    def figures(self) -> pd.DataFrame | None:
        """The case's reach rows (all kinds) of the described metrics, as ``Case.reach``
        gives them; what :meth:`plot` draws. ``None`` if not kept."""
        return None if self.reach_figures is None else self.reach_figures.copy()

    @property
    def table(self) -> pd.DataFrame:
        """Per metric: ``metric, unit, cumulative, n, n_times, n_all_kinds, n_sources,
        first_time, last_time, min, max, last_value, fittable, reason`` (``n_times``: the
        distinct times of the ``n`` figures)."""
        return self.per_metric.copy()

    @property
    def summary(self) -> pd.DataFrame:
        """Per metric, in short: ``metric, unit, n, n_times, n_sources, first_time,
        last_time, last_value, fittable, reason``."""
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
            "fittable": (
                f"figures of one cumulative metric at {self.min_times} or more distinct "
                f"times, at least {self.min_n} in all, and a known origin date"
                + (f" ({self.curve_rule})" if self.curve_rule else "")
                if self.min_times is not None
                else f"at least {self.min_n} dated figures of one cumulative metric, "
                "and a known origin date"
            ),
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
    min_n: int | None = None,
    curves=None,
) -> DescriptiveReach:
    """Summarise a case's reach figures and say plainly what can be fitted.

    A metric is *fittable* when its figures are cumulative, dated from a known origin,
    taken at ``p + 2`` or more distinct times and ``p + 3`` or more in all, with ``p``
    the parameters of the simplest curve of the case's curve set (:func:`case_curves`:
    its ``analysis.curves``, else :data:`DEFAULT_CURVES`, whose simplest is ``expsat``
    with p = 2). Distinct times, because several figures of one day fix one point of
    the curve, not its shape: p + 2 times leave two to check the shape against, as the
    per-period fitter requires. ``p + 3`` figures, because ranking curves by AICc
    (:func:`compare`, what the case report does) needs more than p + 2 observations.
    Per-period counts are fitted by :func:`fit` (as the curve's increments) but not
    ranked by :func:`compare`, so they are not counted as fittable here; their reason
    says so.

    Parameters
    ----------
    case : Case
    metric : str, optional
        Restrict the table to one metric.
    kinds : iterable of str
        Kinds of figures counted as data (default observed and reported).
    min_n : int, optional
        Observations needed to call a metric fittable (default ``p + 3``).
    curves : iterable of str or CurveSpec, optional
        The curve set whose simplest curve sets ``p`` (default :func:`case_curves`).

    Returns
    -------
    DescriptiveReach

    Examples
    --------
    >>> import casekit as ck
    >>> d = ck.reach.describe(ck.load_case("synthetic-example"))
    >>> d.fittable, d.min_times, d.min_n
    (('video_views', 'forum_posts'), 4, 5)
    >>> dominos = ck.reach.describe(ck.load_case("dominos-2009"))
    >>> dominos.fittable
    ()
    >>> prank = dominos.table.set_index("metric").loc["youtube_views_prank_video"]
    >>> int(prank["n"]), int(prank["n_times"])  # five press readings, on two days
    (5, 2)
    """
    from casekit.reach.compare import case_curves  # compare builds on the fitting modules

    if not _is_case(case):
        raise ParameterError(
            f"describe needs a Case (from casekit.load_case), not {type(case).__name__}"
        )
    kinds = _check_kinds(kinds)
    if min_n is not None and (
        isinstance(min_n, bool) or not isinstance(min_n, (int, np.integer)) or min_n < 1
    ):
        raise ParameterError(f"min_n must be a whole number, at least 1, not {min_n!r}")
    if metric is not None:
        _check_metric(case, metric)
    specs = [_get_spec(c) for c in (case_curves(case) if curves is None else _as_list(curves))]
    if not specs:
        raise ParameterError("curves lists no curve")
    simplest = min(specs, key=lambda sp: sp.k)
    p = simplest.k
    min_times = p + 2
    min_n = p + 3 if min_n is None else int(min_n)
    rule = f"p + 2 and p + 3 for the simplest curve of the set, {simplest.name} with p = {p}"
    reach = case.reach
    metrics = [metric] if metric is not None else list(case.metrics)
    rows = []
    for m in metrics:
        allrows = reach[reach["metric"] == m]
        s = allrows[allrows["kind"].isin(kinds)]
        cum = bool(allrows["cumulative"].astype(bool).all()) if len(allrows) else False
        n = len(s)
        k = int(s["time"].nunique())
        reason = _reason(case, s, n, k, cum, kinds, min_times, min_n)
        rows.append(
            {
                "metric": m,
                "unit": ", ".join(sorted(set(allrows["unit"].astype(str))))
                if "unit" in allrows
                else "",
                "cumulative": cum,
                "n": n,
                "n_times": k,
                "n_all_kinds": len(allrows),
                "n_sources": int(s["source"].nunique()),
                "first_time": s["time"].min() if n else pd.NaT,
                "last_time": s["time"].max() if n else pd.NaT,
                "min": float(s["value"].min()) if n else np.nan,
                "max": float(s["value"].max()) if n else np.nan,
                "last_value": float(s.sort_values("time")["value"].iloc[-1]) if n else np.nan,
                "fittable": reason == "",
                "reason": reason
                or (
                    f"enough dated {'cumulative figures' if cum else 'per-period counts'} "
                    f"({n} at {k} distinct times)"
                ),
            }
        )
    table = pd.DataFrame(rows, columns=list(_TABLE_COLUMNS))
    fittable = tuple(table.loc[table["fittable"], "metric"])
    preferred = (getattr(case, "analysis", {}) or {}).get("metric")
    if preferred in fittable:  # the case author's choice first
        fittable = (preferred, *[m for m in fittable if m != preferred])
    need = (
        f"a growth curve with p parameters needs one cumulative metric's figures at p + 2 "
        f"or more distinct times ({min_times} for the simplest curve here, {simplest.name} "
        f"with p = {p}{'; 5 for the logistic' if p != 3 else ''}) and {min_n} or more in all"
    )
    return DescriptiveReach(
        case_id=case.id,
        per_metric=table,
        fittable=fittable,
        explanation=_explanation(case, table, fittable, need),
        reach_figures=reach[reach["metric"].isin(metrics)].reset_index(drop=True),
        metric=metric,
        kinds=kinds,
        min_n=int(min_n),
        min_times=int(min_times),
        curve_rule=rule,
    )


_TABLE_COLUMNS = (
    "metric",
    "unit",
    "cumulative",
    "n",
    "n_times",
    "n_all_kinds",
    "n_sources",
    "first_time",
    "last_time",
    "min",
    "max",
    "last_value",
    "fittable",
    "reason",
)


def _as_list(curves) -> list:
    if isinstance(curves, (str, CurveSpec)):
        return [curves]
    try:
        return list(curves)
    except TypeError:
        raise ParameterError(f"curves must be curve names or CurveSpecs, not {curves!r}") from None


def _times_text(s: pd.DataFrame) -> str:
    days = list(dict.fromkeys(fmt.date(t) for t in s["time"].sort_values()))
    return f" ({', '.join(days)})" if 0 < len(days) <= 3 else ""


def _reason(case, s, n, k, cum, kinds, min_times, min_n) -> str:
    """Why a metric cannot be fitted, in a few words; "" when it can."""
    figs = f"{n} figure{'s' if n != 1 else ''}"
    if case.origin is None:
        return f"no origin date ({case.origin_key} is unknown)"
    if n == 0:
        return f"no figures of kind {'/'.join(kinds)}"
    few = f"only {figs}" if n == k else f"{figs} at only {k} distinct time{'s' if k != 1 else ''}"
    if not cum:
        # fitted as per-period counts: each row's stated period, else its date's day or
        # the gap to the previous row (casekit.reach.data._periods)
        if k < min_times:
            return f"not cumulative (per-period or outlet-level figures), {few}"
        if n < min_n:
            return f"{figs} at {k} distinct times, fewer than the {min_n} needed to rank curves"
        return ""
    if k < min_times:
        return few + ("" if n == k else _times_text(s))
    if n < min_n:
        return f"{figs} at {k} distinct times, fewer than the {min_n} needed to rank curves by AICc"
    return ""


def _listing(table: pd.DataFrame, most: int = 3) -> str:
    """The metrics and why each cannot be fitted, the richest first (at most ``most``)."""
    rows = table.sort_values(["n", "n_times"], ascending=False, kind="stable")
    whats = []
    for r in rows.head(most).itertuples():
        what = f"{r.metric}: {r.reason}"
        if r.n_all_kinds > r.n:
            what += f" (+ {r.n_all_kinds - r.n} claimed/derived)"
        whats.append(what)
    rest = rows.iloc[most:]
    if len(rest):
        top = int(rest["n"].max())
        whats.append(
            f"{len(rest)} more metric{'s' if len(rest) != 1 else ''} with "
            f"{'at most ' if len(rest) > 1 else ''}{top} figure{'s' if top != 1 else ''}"
        )
    return "; ".join(whats)


def _explanation(case, table: pd.DataFrame, fittable, need: str) -> str:
    if fittable:
        best = table[table["fittable"]].sort_values("n", ascending=False).iloc[0]
        return (
            f"{case.id} can be fitted: {len(fittable)} metric(s) have enough dated "
            f"cumulative figures or per-period counts ({', '.join(fittable)}); the richest is "
            f"{best['metric']} with {best['n']} figures at {best['n_times']} distinct times "
            f"from {best['n_sources']} sources, {fmt.date(best['first_time'])} to "
            f"{fmt.date(best['last_time'])}."
        )
    if table.empty:
        return f"{case.id} has no reach figures at all, so nothing can be fitted; {need}."
    if not table["cumulative"].any() and case.origin is not None:
        return (
            f"{case.id} has no time series of its story's reach, only figures that are not "
            f"cumulative (outlet-level or point-in-time counts): {_listing(table)}. Not "
            f"enough data to fit: {need}."
        )
    cum = table[table["cumulative"] & (table["n"] > 0)]
    shown = ""
    if len(cum):
        top = cum.sort_values(["n", "n_times"], ascending=False, kind="stable").iloc[0]
        shown = (
            f"; they show only that {top['metric']} reached {fmt.compact(top['max'])} "
            f"{top['unit']} by {fmt.date(top['last_time'])}"
        )
    return (
        f"{case.id}: not enough data to fit a growth curve ({_listing(table)}). {need[0].upper()}"
        f"{need[1:]}: figures of one day fix one point of the curve, not its shape. So the "
        f"data cannot say when the reach grew fastest, when it levelled off or how large it "
        f"finally was{shown}."
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
