"""The rolling-origin replay, :func:`replay`: what a forecaster could have known at each
moment of a storm."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats

from casekit.cases import Case
from casekit.exceptions import FitError, InsufficientDataError, ParameterError
from casekit.forecast import _inputs
from casekit.forecast.result import TABLE_COLUMNS, Replay
from casekit.response.detection import DEFAULT_RULES, SpikeRule
from casekit.results import check_alpha

__all__ = ["replay", "TOO_FEW", "NO_FIT", "UNBOUNDED", "OK"]

OK = "ok"
TOO_FEW = "too few points"
NO_FIT = "no fit"
UNBOUNDED = "unbounded"


def replay(
    data,
    threshold: float,
    *,
    metric: str | None = None,
    step="1D",
    start=None,
    end=None,
    curve="logistic",
    loss: str = "log",
    kernel: str = "exp",
    alpha: float = 0.05,
    rules: Iterable[SpikeRule] = DEFAULT_RULES,
    context=None,
    response=None,
    origin=None,
    cumulative: bool = True,
    n_draws: int = 1000,
    seed: int = 0,
    max_origins: int = 5000,
) -> Replay:
    """Replay a storm origin by origin: at each tau, fit only the data up to tau and
    forecast the final size with an interval.

    Parameters
    ----------
    data : Case, pandas.Series, EventLog or array of event times
        A :class:`~casekit.Case` (with ``metric``: cumulative readings, or per-hour or
        per-day counts, which are summed into a running total known at each period's
        end); a Series of cumulative values (or counts, ``cumulative=False``) indexed by
        dates or by days since the origin; an :class:`~casekit.events.EventLog` or a
        sorted array of event times in days since the origin (the event-log branch,
        fitted with a Hawkes process).
    threshold : float
        The final size that matters to the user. The replay reports the first origin at
        which the forecast's lower bound reaches it (``lower >= threshold``).
    metric : str, optional
        The case's metric; default the one with most figures.
    step : str, pandas.Timedelta or list
        The origins: a period (``"1D"``, ``"1h"``: from the first whole period after the
        first observation to the last observation, or from ``start`` to ``end``), or a
        list of origins (dates, or days since the origin).
    start, end : date or float, optional
        First and last origin for a periodic ``step``.
    curve : str or CurveSpec
        Growth curve of the series branch (see :data:`casekit.reach.CURVES`).
    loss : str
        Loss of the growth-curve fits (see :data:`casekit.reach.LOSSES`); default
        ``"log"``, since reach spans orders of magnitude early in a storm.
    kernel : {"exp", "powerlaw"}
        Hawkes kernel of the event-log branch.
    alpha : float
        1 - level of the forecast intervals.
    rules : iterable of SpikeRule
        Spike rules replayed on the same data (default
        :data:`casekit.response.DEFAULT_RULES`); empty for none.
    context : Case or CaseContext, optional
        Where the origin and the actual response come from when ``data`` is not a case.
    response : date or float, optional
        The company's actual response; default the context's ``first_response`` key date.
    origin : date, optional
        The date of t = 0 for plain data (a Case or EventLog brings its own).
    cumulative : bool
        For a Series: whether it holds cumulative readings (default) or per-period counts.
    n_draws, seed : int
        Parameter draws behind the Hawkes final-size intervals; seed of the fits.
    max_origins : int
        Guard against a step far too fine for the span of the data.

    Returns
    -------
    Replay

    Notes
    -----
    *No look-ahead.* Each origin's fit sees only the readings known at tau (a reading at
    time ``t <= tau``; a per-period count once its period has ended; events at
    ``t <= tau``, with the Hawkes observation window ending at tau). The final observed
    value is used for scoring only.

    *Growth curves.* The forecast is the curve's saturation with a delta-method
    interval on the log scale, ``K exp(+-q se(K) / K)`` with ``q`` the t quantile on
    the fit's residual degrees of freedom: it stays positive and can be recomputed at
    any level (:meth:`Replay.conf_int`). An origin where the curve cannot be fitted
    says why: ``too few points`` (fewer readings than the curve needs) or ``no fit``
    (the fitter refused: no growth yet, or parameters not identified).

    *Hawkes.* The forecast is the fit's expected final size with its interval (from
    parameter draws at the given ``alpha``; another level needs refits, so
    :meth:`Replay.conf_int` refuses it). The fits do not model the response. When the
    fitted branching ratio is 1 or more the expected size is infinite: the row's status
    is ``unbounded``, its estimate and bounds are ``inf`` and its lower bound passes any
    threshold (the storm, as fitted, grows without limit).

    Examples
    --------
    >>> import casekit as ck
    >>> case = ck.load_case("synthetic-example")
    >>> r = ck.forecast.replay(case, 100_000, metric="video_views")
    >>> r.table["status"].iloc[0]
    'too few points'
    >>> r.forecast_alert_time
    Timestamp('2024-03-09 00:00:00')
    >>> r.response_time
    Timestamp('2024-03-08 00:00:00')
    """
    alpha = check_alpha(alpha)
    if isinstance(threshold, bool) or not isinstance(
        threshold, (int, float, np.integer, np.floating)
    ):
        raise ParameterError(f"threshold must be a number (a final size), not {threshold!r}")
    threshold = float(threshold)
    if not math.isfinite(threshold) or threshold <= 0:
        raise ParameterError(f"threshold must be a positive final size, not {threshold}")
    rules = tuple(rules)
    if not all(isinstance(r, SpikeRule) for r in rules):
        raise ParameterError("rules must be SpikeRule objects (see casekit.response.DEFAULT_RULES)")
    if kernel not in ("exp", "powerlaw"):
        raise ParameterError(f"kernel must be 'exp' or 'powerlaw', not {kernel!r}")

    if isinstance(data, Case):
        w = _inputs.from_case(data, metric)
    elif isinstance(data, pd.Series):
        w = _inputs.from_series(data, cumulative, origin)
    elif isinstance(data, pd.DataFrame):
        raise ParameterError(
            "give a Series of values (indexed by dates or days), a Case, or event times"
        )
    else:
        w = _inputs.from_events(data, origin)
    ctx = _inputs._context_of(context) if context is not None else w.context
    if w.origin is None and ctx is not None and ctx.origin is not None:
        w.origin = pd.Timestamp(ctx.origin)
    if w.case_id is None and ctx is not None:
        w.case_id = ctx.id

    taus, grid = _inputs.origins(w, step, start, end, max_origins)
    if w.branch == "series":
        from casekit.reach import CURVES, CurveSpec

        spec = curve if isinstance(curve, CurveSpec) else CURVES.get(curve)
        if spec is None:
            raise ParameterError(f"unknown curve {curve!r}; known: {', '.join(sorted(CURVES))}")
        rows = [_series_row(w, tau, spec, loss, alpha, seed) for tau in taus]
        model = f"{spec.name} growth curve (loss {loss})"
    else:
        rows, warm = [], None
        for tau in taus:  # each origin's fit starts from the previous origin's estimates
            row, warm = _events_row(w, tau, kernel, alpha, n_draws, seed, warm)
            rows.append(row)
        model = f"Hawkes process ({'exponential' if kernel == 'exp' else 'power-law'} kernel)"

    table = pd.DataFrame(rows, columns=[c for c in TABLE_COLUMNS if c not in ("time",)])
    table.insert(
        1,
        "time",
        pd.to_datetime(
            [
                w.origin + pd.Timedelta(days=float(t)).round("s")
                if w.origin is not None
                else pd.NaT
                for t in table["tau"]
            ]  # fmt: skip
        ),
    )
    final = w.final_value
    has = table["status"].isin([OK, UNBOUNDED])
    table["passes_threshold"] = has & (table["lower"] >= threshold)
    table["covers"] = has & (table["lower"] <= final) & (final <= table["upper"])
    with np.errstate(invalid="ignore"):
        table["rel_error"] = np.where(has, (table["estimate"] - final) / final, np.nan)
    table = table[list(TABLE_COLUMNS)]

    passing = table.loc[table["passes_threshold"], "tau"]
    forecast_alert = float(passing.iloc[0]) if len(passing) else None
    spike_t, spike_rule, rules_table, spike_note = _inputs.spike_rules(w, data, rules)
    if response is not None:
        resp = _inputs.to_days(response, w.origin, "response")
    elif ctx is not None and ctx.key_date("first_response") is not None:
        resp = _inputs.to_days(ctx.key_date("first_response"), w.origin, "first_response")
    else:
        resp = None
    notes = list(w.notes)
    if spike_note:
        notes.append(f"spike rules: {spike_note}")
    return Replay(
        _table=table,
        threshold=threshold,
        alpha=alpha,
        branch=w.branch,
        model=model,
        grid=grid,
        label=w.label,
        case_id=w.case_id,
        metric=w.metric,
        origin=w.origin,
        final_value=final,
        forecast_alert=forecast_alert,
        spike_alert=spike_t,
        spike_rule=spike_rule,
        response=resp,
        rules_table=rules_table,
        notes=tuple(notes),
        options={
            "curve": spec.name if w.branch == "series" else None,
            "loss": loss if w.branch == "series" else None,
            "kernel": kernel if w.branch == "events" else None,
            "n_draws": n_draws if w.branch == "events" else None,
            "seed": seed,
        },
    )


def _row(tau, n_obs, observed, status, note="", est=math.nan, lo=math.nan, hi=math.nan,
         se_log=math.nan, df=math.nan) -> dict:  # fmt: skip
    return {
        "tau": float(tau),
        "n_obs": int(n_obs),
        "observed": float(observed),
        "estimate": float(est),
        "lower": float(lo),
        "upper": float(hi),
        "status": status,
        "note": note,
        "se_log": float(se_log),
        "df": float(df),
    }


def log_interval(est: float, se: float, df: float, alpha: float) -> tuple[float, float, float]:
    """``(se_log, lower, upper)`` of a positive estimate: the delta-method interval on
    the log scale, ``est * exp(+-q se / est)``, ``q`` the t(df) quantile."""
    se_log = se / est
    q = float(stats.t.ppf(1 - alpha / 2, df))
    return se_log, est * math.exp(-q * se_log), est * math.exp(q * se_log)


def _series_row(w, tau: float, spec, loss: str, alpha: float, seed: int) -> dict:
    from casekit.reach import fit

    known = w.obs[w.obs["t"] <= tau]
    n = len(known)
    observed = float(known.loc[known["t"] == known["t"].max(), "value"].max()) if n else math.nan
    if n < spec.k + 1 or known["t"].nunique() < spec.k:
        return _row(tau, n, observed, TOO_FEW, f"{n} readings; the {spec.name} curve needs "
                    f"at least {spec.k + 1}")  # fmt: skip
    try:
        f = fit(
            known[["t", "value"]].reset_index(drop=True),
            spec,
            loss=loss,
            alpha=alpha,
            seed=seed,
            origin=w.origin,
        )
        sat = f.milestones(shares=(), alpha=alpha).loc["saturation"]
    except InsufficientDataError as err:
        return _row(tau, n, observed, TOO_FEW, str(err))
    except FitError as err:
        return _row(tau, n, observed, NO_FIT, str(err))
    est, se = float(sat["estimate"]), float(sat["std_err"])
    if not (math.isfinite(est) and est > 0 and math.isfinite(se)) or f.df_resid < 1:
        return _row(tau, n, observed, NO_FIT, "no positive, finite saturation")
    se_log, lo, hi = log_interval(est, se, f.df_resid, alpha)
    return _row(tau, n, observed, OK, "", est, lo, hi, se_log, f.df_resid)


def _events_row(w, tau: float, kernel: str, alpha: float, n_draws: int, seed: int,
                warm: dict | None = None) -> tuple[dict, dict | None]:  # fmt: skip
    """One origin's row and the estimates that warm-start the next origin's fit."""
    hawkes = _hawkes()
    n = int(np.searchsorted(w.times, tau, side="right"))
    if n < hawkes.MIN_EVENTS:
        note = f"{n} events; a Hawkes fit needs {hawkes.MIN_EVENTS}"
        return _row(tau, n, n, TOO_FEW, note), warm
    try:
        f = hawkes.fit(
            w.times[:n],
            kernel,
            end=tau,
            intervals="wald",
            alpha=alpha,
            n_draws=n_draws,
            seed=seed,
            warm_start=warm,
        )
    except InsufficientDataError as err:
        return _row(tau, n, n, TOO_FEW, str(err)), warm
    except FitError as err:
        return _row(tau, n, n, NO_FIT, str(err)), warm
    fin, est = f.final, getattr(f, "estimates", None)
    if fin["supercritical"]:
        return _row(tau, n, n, UNBOUNDED, f"branching ratio {fin['n_end']:.3g} >= 1",
                    math.inf, math.inf, math.inf), est  # fmt: skip
    notes = []
    if not getattr(f, "excitation_detected", True):
        notes.append("no self-excitation detected")
    if math.isinf(fin["upper"]):
        notes.append("upper bound infinite: the draws reach n* >= 1")
    row = _row(tau, n, n, OK, "; ".join(notes), fin["estimate"], fin["lower"], fin["upper"])
    return row, est


def _hawkes():
    try:
        from casekit.events import hawkes
    except ImportError as err:  # written in parallel (issue #10)
        raise ParameterError(
            "the event-log branch is not available yet: casekit.events.hawkes cannot be "
            f"imported ({err})"
        ) from None
    if not hasattr(hawkes, "fit"):
        raise ParameterError("the event-log branch is not available yet (no hawkes.fit)")
    return hawkes
