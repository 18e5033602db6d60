"""One-at-a-time sensitivity of the money cost of the delay: a tornado over the
effectiveness, the value per impression, the curve and (for the accounting variants) the
damping model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.cases import Case
from casekit.exceptions import FitError, InsufficientDataError, ParameterError
from casekit.response._common import (
    DEFAULT_CPM,
    StoredResult,
    case_words,
    check_case,
    check_cpm,
    check_effectiveness,
    check_number,
    fit_case_id,
    fit_context,
    reach_module,
    resolve_fit,
    response_time,
    settings_block,
    with_band,
)
from casekit.response.cost import delay_cost
from casekit.response.counterfactual import (
    DEFAULT_EFFECTIVENESS,
    EFFECTIVENESS_NOTE,
    EFFECTIVENESS_RANGE,
    MODELS,
    _CurveModel,
)
from casekit.results import Result, check_alpha

__all__ = ["Sensitivity", "sensitivity", "MAX_DELTA_AICC"]

MAX_DELTA_AICC = 10.0
"""Curves of a comparison this far above the best AICc are not a factor of the tornado:
the data give them essentially no support (Burnham and Anderson 2002, section 2.6)."""


def _delta_aicc(curves) -> dict:
    """ΔAICc per curve name of a :class:`~casekit.reach.Comparison` ({} otherwise)."""
    table = getattr(curves, "ranking", None)
    if not isinstance(table, pd.DataFrame) or "delta_aicc" not in table:
        return {}
    d = table.set_index("curve")["delta_aicc"].astype(float)
    return {str(k): float(v) for k, v in d.items() if np.isfinite(v)}


@dataclass(frozen=True, repr=False, eq=False)
class Sensitivity(StoredResult, Result):
    """Tornado table of the money cost of the delay (see :func:`sensitivity`).

    Attributes
    ----------
    table : pandas.DataFrame
        ``factor, low_setting, high_setting, output_low, output_high, swing, base``
        sorted by ``swing`` (largest first); outputs are in ``unit``.
    base, base_reach : float
        The money cost of the delay at the base settings, and the extra reach behind it.
    params : pandas.Series
        ``base`` and ``base_reach``.
    curve_outputs : dict
        Extra reach by curve compared.
    base_draws : numpy.ndarray or None
        The extra reach at the base settings for each parameter draw of the fit (the
        source of :meth:`conf_int`).
    """

    title: ClassVar[str] = "Sensitivity (tornado)"
    has_intervals: ClassVar[bool] = True

    case_id: str | None
    base: float
    base_reach: float
    unit: str
    _table: pd.DataFrame
    _settings: dict[str, Any]
    cpm: tuple[float, float, float] = DEFAULT_CPM
    curve_outputs: dict[str, float] = field(default_factory=dict)
    base_draws: np.ndarray | None = field(default=None, repr=False)
    alpha: float = 0.05

    @property
    def params(self) -> pd.Series:
        return pd.Series(
            {"base": self.base, "base_reach": self.base_reach}, dtype=float, name="estimate"
        )

    @property
    def summary(self) -> pd.DataFrame:
        return self._table[
            ["factor", "low_setting", "high_setting", "output_low", "output_high", "swing"]
        ].copy()

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """(1 - alpha) percentile intervals of the base output over the fit's parameter
        draws (curve uncertainty only, at the base settings): ``quantity, estimate,
        lower, upper, unit``; NaN bounds without draws."""
        a = check_alpha(alpha, self.alpha)
        if self.base_draws is None:
            lo = hi = np.nan
        else:
            lo, hi = np.nanquantile(self.base_draws, [a / 2, 1 - a / 2])
        mid = self.cpm[1] / 1000.0
        return pd.DataFrame(
            {
                "quantity": ["base", "base_reach"],
                "estimate": [self.base, self.base_reach],
                "lower": [lo * mid, lo],
                "upper": [hi * mid, hi],
                "unit": [self.unit, "reach"],
            }
        )

    def __str__(self) -> str:
        ci = self.conf_int().set_index("quantity")
        lines = [
            f"Money cost of the actual delay ({case_words(self.case_id)}; extra reach vs "
            "responding at the reference delay, times CPM): base "
            f"{with_band(self.base, ci.loc['base', 'lower'], ci.loc['base', 'upper'])} "
            f"{self.unit} (extra reach {fmt.number(self.base_reach)})."
        ]
        for _, r in self._table.iterrows():
            lines.append(
                f"- {r['factor']}: {r['low_setting']} -> {fmt.number(r['output_low'])}, "
                f"{r['high_setting']} -> {fmt.number(r['output_high'])} "
                f"(swing {fmt.number(r['swing'])})"
            )
        return "\n".join(lines) + "\n" + settings_block(self.settings)

    def plot(self, **kwargs):
        """Tornado chart (:func:`casekit.plots.tornado_plot`)."""
        from casekit.plots import tornado_plot

        return tornado_plot(self, **kwargs)


def _on_grid(dc, delay: float) -> int:
    grid = dc._table["delay_days"].to_numpy(float)
    return int(np.flatnonzero(np.isclose(grid, float(delay)))[0])


def _point_extra(fit, e, actual_delay, scenario, reference_delay, horizon) -> float:
    """Final reach at the actual delay minus at ``reference_delay`` in the intervention
    model, from point estimates (the same refit as :func:`delay_cost`, without its
    covariance and e's interval)."""
    from casekit.response.intervention_cost import counterfactual_reach, with_response

    if e is not None:
        e = check_effectiveness(e)
    inside = with_response(fit, e, "first", actual_delay, scenario, point=True)[0]
    t1 = float(inside.response_effect["t"].iloc[0])
    P = np.asarray(inside.theta, dtype=float)[None, :]
    at, ref = counterfactual_reach(inside, [t1, float(reference_delay)], horizon, P)[0]
    return float(at - ref)


def sensitivity(
    fit,
    *,
    effectiveness: float = DEFAULT_EFFECTIVENESS,
    effectiveness_range: tuple[float, float] = EFFECTIVENESS_RANGE,
    cpm: Sequence[float] = DEFAULT_CPM,
    curves=None,
    model: str = "intervention",
    horizon: float | None = None,
    reference_delay: float = 0.0,
    actual_delay: float | None = None,
    case: Case | None = None,
    n_draws: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> Sensitivity:
    """One-at-a-time sensitivity of the money cost of the delay: a tornado.

    The output is (final reach at the actual delay - final reach at
    ``reference_delay``) x CPM / 1000, from point estimates. Each factor is moved to
    its low and high setting with the others at their base values:

    ============== ====================================================================
    factor          low / high settings
    ============== ====================================================================
    effectiveness   ``effectiveness_range`` (default 0.2 / 0.8, see :func:`delay_cost`),
                    stated scenario values (also where the base e is estimated)
    CPM             ``cpm[0]`` / ``cpm[2]`` (value per 1,000 impressions)
    curve           the smallest / largest output over ``curves`` refitted to the same
                    observations (default every curve in ``casekit.reach.CURVES``;
                    curves that fail to fit are listed in the settings). ``curves`` may
                    also be a :class:`casekit.reach.Comparison` (or a mapping of
                    name to ReachFit): its fits are reused, nothing is refitted, and
                    a curve more than ``MAX_DELTA_AICC`` (10) above the best AICc is
                    left out (the settings name it): the data give it essentially no
                    support (Burnham and Anderson 2002)
    model           accounting variants only: flow / rate damping (rate at its default
                    horizon, the last observation)
    ============== ====================================================================

    ``model="intervention"`` (default) is the model of :func:`delay_cost`: the base e
    is estimated where the data straddle the response, else it is ``effectiveness``, a
    stated scenario value; every curve is refitted with the response inside. The flow
    and rate variants answer another (accounting) question, so they are not a factor
    of the intervention model's tornado.

    The actual delay is ``actual_delay`` or else the ``first_response`` key date of the
    case the fit carries (``fit.context``, or ``case``). Alternative curves are refitted
    to ``case`` when it is given, else to the fit's own observations. :meth:`conf_int`
    gives the base output's interval over ``n_draws`` parameter draws of the fit (curve
    uncertainty only; 0 = none), at level ``1 - alpha``.

    Examples
    --------
    >>> import casekit as ck
    >>> fit = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
    >>> s = ck.response.sensitivity(fit, curves=["logistic", "gompertz"])
    >>> sorted(s.table["factor"])
    ['CPM', 'curve', 'effectiveness']
    >>> flow = ck.response.sensitivity(fit, curves=["logistic", "gompertz"], model="flow")
    >>> sorted(flow.table["factor"])
    ['CPM', 'curve', 'effectiveness', 'model']
    """
    lo_c, mid_c, hi_c = check_cpm(cpm)
    effectiveness = check_effectiveness(effectiveness)
    try:
        e_lo, e_hi = effectiveness_range
    except (TypeError, ValueError) as err:
        raise ParameterError("effectiveness_range must be (low, high)") from err
    e_lo, e_hi = (check_effectiveness(x, "effectiveness_range") for x in (e_lo, e_hi))
    if model not in MODELS:
        raise ParameterError(f"model must be one of {MODELS}, not {model!r}")
    reference_delay = check_number(reference_delay, "reference_delay", low=0.0)
    alpha = check_alpha(alpha)
    if case is not None:
        check_case(case, "sensitivity")
    if isinstance(curves, str):
        curves = [curves]
    fit = resolve_fit(fit)
    if actual_delay is None:
        actual_delay, act_note = response_time(
            fit, None, context=None if case is None else case.context
        )
        if actual_delay is None:
            raise InsufficientDataError(
                f"the actual delay is unknown ({act_note}); pass actual_delay="
            )
        # the intervention refits are cached on the fit under the call's own arguments:
        # leave the fit's own response time to delay_cost, as the report's call does
        given_delay = None if fit_context(fit) is not None else actual_delay
    else:
        actual_delay = check_number(actual_delay, "actual_delay", allow_inf=True)
        act_note = "given by the caller"
        given_delay = actual_delay
    intervention = model == "intervention"

    def own_time(f, mdl):  # the fit knows its case's response time
        return mdl == "intervention" and given_delay is None and fit_context(f) is not None

    def extra(f, e, mdl, hz):
        if mdl == "intervention":  # point estimates: a light refit (no covariance)
            return _point_extra(
                f,
                e,
                given_delay if own_time(f, mdl) else actual_delay,
                effectiveness,
                reference_delay,
                np.inf if hz is None else check_number(hz, "horizon", allow_inf=True),
            )
        dc = delay_cost(
            f,
            delays=[reference_delay],
            effectiveness=e,
            model=mdl,
            horizon=hz,
            n_draws=0,
            actual_delay=given_delay if own_time(f, mdl) else actual_delay,
            scenario_effectiveness=effectiveness,
        )
        a = dc.actual
        if a is None:
            raise InsufficientDataError("the actual delay is unknown; pass actual_delay=")
        return float(a["final_reach"] - dc.at(reference_delay)["final_reach"])

    base_dc = delay_cost(
        fit,
        delays=[reference_delay],
        effectiveness=None if intervention else effectiveness,
        model=model,
        horizon=horizon,
        n_draws=n_draws,
        seed=seed,
        alpha=alpha,
        actual_delay=given_delay if own_time(fit, model) else actual_delay,
        scenario_effectiveness=effectiveness,
    )
    actual_delay = base_dc.actual_delay if intervention else actual_delay
    base_e = None if intervention else effectiveness
    if base_dc.actual is None:
        raise InsufficientDataError("the actual delay is unknown; pass actual_delay=")
    base_reach = float(base_dc.actual["final_reach"] - base_dc.at(reference_delay)["final_reach"])
    base_draws = None
    if base_dc.finals is not None:
        F = base_dc.finals
        base_draws = (
            F[:, _on_grid(base_dc, actual_delay)] - F[:, _on_grid(base_dc, reference_delay)]
        )
    base = base_reach * mid_c / 1000.0
    rows = []
    r_lo, r_hi = extra(fit, e_lo, model, horizon), extra(fit, e_hi, model, horizon)
    rows.append(
        (
            "effectiveness",
            f"e = {fmt.number(e_lo)}",
            f"e = {fmt.number(e_hi)}",
            r_lo * mid_c / 1000,
            r_hi * mid_c / 1000,
        )
    )
    rows.append(
        (
            "CPM",
            f"{fmt.number(lo_c)} per 1,000",
            f"{fmt.number(hi_c)} per 1,000",
            base_reach * lo_c / 1000,
            base_reach * hi_c / 1000,
        )
    )
    if intervention:
        model_note = (
            "the intervention model (the response inside the curve, refitted to the "
            "observations); the accounting variants (flow, rate) answer another question "
            "and are not a factor here"
        )
    else:
        other = "rate" if model == "flow" else "flow"
        model_note = (
            f"flow damping read at the base horizon "
            f"({'saturation' if horizon is None else horizon}), rate damping at its "
            "default horizon (the last observation): at an infinite horizon rate damping "
            "saves nothing for a saturating curve"
        )
        try:
            r_other = extra(fit, effectiveness, other, None)
        except ParameterError as err:  # e.g. a multi-wave curve has no single rate to damp
            model_note = f"model factor left out: {err}"
        else:
            pair = {model: base_reach, other: r_other}
            rows.append(
                ("model", "flow", "rate", pair["flow"] * mid_c / 1000, pair["rate"] * mid_c / 1000)
            )
    reach = reach_module()
    cm = _CurveModel(fit)
    results, failed, unsupported = {cm.name: base_reach}, [], []
    fitted = getattr(curves, "fits", curves if isinstance(curves, Mapping) else None)
    delta_aicc = _delta_aicc(curves)
    if fitted is not None:
        for name, alt in fitted.items():
            if name == cm.name:
                continue
            if delta_aicc.get(name, 0.0) > MAX_DELTA_AICC:
                unsupported.append(f"{name} (ΔAICc {fmt.number(delta_aicc[name])})")
                continue
            try:
                results[name] = extra(alt, base_e, model, horizon)
            except (FitError, ValueError, ParameterError) as err:
                failed.append(f"{name} ({type(err).__name__})")
        failed += [f"{n} (did not fit)" for n in getattr(curves, "errors", {})]
        curves = []
    names = list(curves) if curves is not None else list(reach.CURVES)
    if case is not None:
        source, fit_kw = case, {"metric": getattr(fit, "metric", None)}
    else:  # refit the fit's own observations: nothing is read again from disk
        source = fit.data.rename(columns={"y": "value"})[["t", "value"]]
        fit_kw = {"origin": getattr(fit, "origin", None)}
    for name in names:
        if name == cm.name:
            continue
        try:
            alt = reach.fit(source, curve=name, **fit_kw)
            results[name] = extra(alt, base_e, model, horizon)
        except (FitError, ValueError, KeyError, ParameterError) as err:
            failed.append(f"{name} ({type(err).__name__})")
    kmin = min(results, key=results.get)
    kmax = max(results, key=results.get)
    rows.append(("curve", kmin, kmax, results[kmin] * mid_c / 1000, results[kmax] * mid_c / 1000))
    table = pd.DataFrame(
        rows, columns=["factor", "low_setting", "high_setting", "output_low", "output_high"]
    )
    table["swing"] = (table["output_high"] - table["output_low"]).abs()
    table["base"] = base
    table = table.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    ctx = fit_context(fit)
    currency = (
        case.currency if case is not None else ctx.currency if ctx is not None else "currency units"
    )
    settings = {
        "case": fit_case_id(fit) if case is None else case.id,
        "output": f"extra reach from responding at the actual delay instead of day "
        f"{fmt.number(reference_delay)}, times CPM / 1000, point estimates",
        "actual delay": f"day {fmt.number(actual_delay)}: {act_note}",
        "base settings": f"e = {base_dc.effectiveness_text}, CPM = {fmt.number(mid_c)}, "
        f"curve = {cm.name}, model = {model}",
        "effectiveness": (
            f"moved to the stated values {fmt.number(e_lo)} and {fmt.number(e_hi)}. "
            + (
                "The base e is estimated from the data"
                if base_dc.effectiveness_status == "estimated"
                else EFFECTIVENESS_NOTE
            )
        ),
        "CPM": (
            "value per 1,000 negative impressions, a user parameter; the default "
            f"{DEFAULT_CPM} is a placeholder, not a sourced figure"
        ),
        "curves compared": ", ".join(
            f"{k}: {fmt.number(v)} extra reach" for k, v in results.items()
        )
        + (f"; not fitted: {', '.join(failed)}" if failed else "")
        + (
            f"; left out, the data give them essentially no support (ΔAICc above "
            f"{MAX_DELTA_AICC:g}): {', '.join(unsupported)}"
            if unsupported
            else ""
        ),
        "model": model_note,
        "one at a time": "interactions between factors are not shown",
        "interval": (
            f"{fmt.percent(1 - alpha, 0)} percentile interval of the base output over "
            "parameter draws of the fit (curve uncertainty only; conf_int())"
        ),
        "n_draws": int(n_draws),
        "seed": int(seed),
        "alpha": alpha,
    }
    return Sensitivity(
        case_id=settings["case"],
        base=base,
        base_reach=base_reach,
        unit=currency,
        _table=table,
        _settings=settings,
        cpm=(lo_c, mid_c, hi_c),
        curve_outputs=dict(results),
        base_draws=base_draws,
        alpha=alpha,
    )
