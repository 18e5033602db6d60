"""The accounting variants of the counterfactual (a reach fit's curve damped from the day
of the response, evaluated over parameter draws as one numpy array), the parameter draws
shared with the intervention model, and :func:`what_if`, one scenario as a figure (the
intervention model by default)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.exceptions import ParameterError
from casekit.response._common import (
    check_count,
    check_effectiveness,
    check_number,
    reach_module,
    resolve_fit,
)

__all__ = [
    "DEFAULT_EFFECTIVENESS",
    "EFFECTIVENESS_RANGE",
    "EFFECTIVENESS_NOTE",
    "MODELS",
    "BANDS",
    "what_if",
    "what_if_curves",
]

DEFAULT_EFFECTIVENESS = 0.5
"""Default effectiveness e of the response: the share of growth it removes."""

EFFECTIVENESS_RANGE = (0.2, 0.8)
"""Plausible range of e used by :func:`sensitivity` (low, high)."""

EFFECTIVENESS_NOTE = (
    "Here e is a scenario parameter, not an estimate: these data cannot estimate it and no "
    "study measures it for these cases. "
    "Default 0.5, plausible range 0.2-0.8. Herhausen et al. (2019, Journal of Marketing) [L5] "
    "find that responses showing empathy and an apology (or moving the conversation to another "
    "channel) reduce the virality of a firestorm, which supports e > 0 for an apologetic "
    "response; they also find that compensation alone can fuel the fire, so a response that only "
    "offers money may have e near 0 (a negative e, a response that fuelled the storm, can "
    "come out where the data estimate e; as a stated scenario e stays in 0-1). methods.md §4.2 "
    "suggests a what-if slider of 0, 0.25, 0.5; 0.5 is its upper end, and 0.8 stands for a "
    "response that largely ends the story."
)

MODELS = ("intervention", "flow", "rate")
"""Intervention models of :func:`delay_cost`."""

BANDS = ("normal", "bootstrap")
"""Where the parameter draws for the bands come from."""

_DILATION_CURVES = ("logistic", "gompertz", "richards", "expsat")
"""Curves whose rate parameter multiplies the whole right-hand side of their autonomous
growth ODE (y' = r g(y)); damping the rate after t_r then equals slowing time after t_r."""


class _CurveModel:
    """Vectorised evaluation of a ReachFit's curve over parameter draws."""

    def __init__(self, fit):
        reach = reach_module()
        curve = fit.curve
        self.name = curve if isinstance(curve, str) else getattr(curve, "name", str(curve))
        spec = getattr(fit, "spec", None)
        if spec is None or not hasattr(spec, "f"):
            spec = reach.CURVES[self.name]
        self.spec = spec
        self.names = tuple(spec.param_names)
        self.theta = np.asarray([float(fit.params[n]) for n in self.names])
        self.rate_param = getattr(spec, "rate_param", None)
        bounds = list(getattr(spec, "bounds", [(None, None)] * len(self.names)))
        self.lower = np.array([-np.inf if b[0] is None else float(b[0]) for b in bounds])
        self.upper = np.array([np.inf if b[1] is None else float(b[1]) for b in bounds])

    def cols(self, P: np.ndarray) -> list[np.ndarray]:
        return [P[:, i : i + 1] for i in range(P.shape[1])]

    def f(self, t, P: np.ndarray) -> np.ndarray:
        """Curve at times ``t`` (array broadcastable to (n_draws, m)) for each row of P."""
        t = np.asarray(t, dtype=float)
        if t.ndim == 1:
            t = t[None, :]
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            out = np.asarray(self.spec.f(t, *self.cols(P)), dtype=float)
        return np.broadcast_to(out, np.broadcast_shapes(out.shape, (P.shape[0], t.shape[1])))

    def saturation(self, P: np.ndarray) -> np.ndarray:
        """Final reach y(inf) for each row of P, shape (n, 1)."""
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            out = np.asarray(self.spec.saturation(*self.cols(P)), dtype=float)
        return np.broadcast_to(out, (P.shape[0], 1)).copy()

    def peak_time(self) -> float | None:
        try:
            v = float(np.asarray(self.spec.peak_time(*self.theta), dtype=float))
        except (TypeError, ValueError):
            return None
        return v if np.isfinite(v) else None

    def in_bounds(self, P: np.ndarray) -> np.ndarray:
        return np.all((P >= self.lower) & (P <= self.upper) & np.isfinite(P), axis=1)

    def value_at(self, horizon: float, P: np.ndarray) -> np.ndarray:
        """y(H) for each row, shape (n, 1); H = inf gives the saturation."""
        if np.isinf(horizon):
            return self.saturation(P)
        return self.f(np.array([horizon]), P)

    def rate_damped(self, d: np.ndarray, horizon: float, e: float, P: np.ndarray) -> np.ndarray:
        """y_cf(H) when the rate is damped by (1-e) from t_r = d on, shape (n, len(d))."""
        d = np.asarray(d, dtype=float)[None, :]
        fin = self.value_at(horizon, P)
        if self.name == "bass":
            idx = {n: i for i, n in enumerate(self.names)}
            p = P[:, [idx["p"]]]
            q = P[:, [idx["q"]]] * (1.0 - e)
            m = self.saturation(P)
            dd = np.minimum(d, horizon)
            x0 = np.clip(self.f(np.where(np.isfinite(dd), dd, 0.0), P) / m, 0.0, 1.0 - 1e-15)
            s = np.where(np.isfinite(horizon - dd), horizon - dd, np.inf)
            A = (p + q * x0) / (1.0 - x0)
            with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                E = np.exp(-(p + q) * s)
                x = (A - p * E) / (q * E + A)
            out = m * x
        elif self.name in _DILATION_CURVES:
            with np.errstate(invalid="ignore"):
                tau = d + (1.0 - e) * (horizon - d)
            out = self.f(np.where(np.isfinite(tau), tau, 1e9), P)
            if np.isinf(horizon):
                out = np.broadcast_to(fin, out.shape).copy()
        else:
            raise ParameterError(
                f"rate damping is implemented for bass and {', '.join(_DILATION_CURVES)}; "
                f"curve {self.name!r} is not among them: use model='flow'"
            )
        return np.where(d >= horizon, fin, out)

    def flow_damped(self, d: np.ndarray, horizon: float, e: float, P: np.ndarray) -> np.ndarray:
        """y(t_r) + (1-e)(y(H) - y(t_r)), shape (n, len(d))."""
        d = np.asarray(d, dtype=float)[None, :]
        fin = self.value_at(horizon, P)
        dd = np.where(np.isfinite(d), np.minimum(d, horizon if np.isfinite(horizon) else d), 0.0)
        yr = self.f(dd, P)
        out = yr + (1.0 - e) * (fin - yr)
        return np.where(d >= horizon, fin, out)


def _last_obs_t(fit) -> float | None:
    data = getattr(fit, "data", None)
    if isinstance(data, pd.DataFrame) and "t" in data.columns and len(data):
        v = float(np.nanmax(data["t"].to_numpy(dtype=float)))
        return v if np.isfinite(v) and v > 0 else None
    return None


def _param_draws(
    model: _CurveModel, fit, n_draws: int, seed: int, bands: str = "normal"
) -> tuple[np.ndarray | None, str]:
    """Parameter draws for the bands.

    ``bands="normal"``: the asymptotic normal N(params, cov), draws outside the curve's
    bounds rejected. ``bands="bootstrap"``: the ReachFit's residual-bootstrap replicates
    (slower: one refit per replicate).
    """
    if bands not in BANDS:
        raise ParameterError(f"bands must be 'normal' or 'bootstrap', not {bands!r}")
    n_draws = check_count(n_draws, "n_draws")
    seed = check_count(seed, "seed")
    if n_draws == 0:
        return None, "no bands (n_draws = 0)"
    if bands == "bootstrap":
        boot = getattr(fit, "bootstrap_params", None)
        if boot is None:
            raise ParameterError("this fit offers no bootstrap; use bands='normal'")
        B = np.asarray(boot(n_boot=n_draws, seed=seed)[list(model.names)], dtype=float)
        B = B[model.in_bounds(B)]
        return B, (
            f"{len(B)} residual-bootstrap refits of the curve (ReachFit bootstrap, seed {seed})"
        )
    C = np.asarray(pd.DataFrame(fit.cov).loc[list(model.names), list(model.names)], dtype=float)
    if not np.all(np.isfinite(C)):
        return None, (
            "no bands: the fit's covariance matrix is not finite (parameters not identified)"
        )
    C = (C + C.T) / 2.0
    rng = np.random.default_rng(seed)
    accepted, tries, total = [], 0, 0
    while sum(len(a) for a in accepted) < n_draws and tries < 20:
        X = rng.multivariate_normal(
            model.theta, C, size=n_draws, method="eigh", check_valid="ignore"
        )
        total += len(X)
        accepted.append(X[model.in_bounds(X)])
        tries += 1
    A = np.concatenate(accepted)[:n_draws]
    if len(A) < max(10, n_draws // 10):
        return None, (
            f"no bands: only {len(A)} of {total} normal draws fell inside the curve's "
            "parameter bounds"
        )
    rate = len(A) / total if total else float("nan")
    return A, (
        f"{len(A)} draws from the fit's asymptotic normal (mean = estimates, covariance = "
        "fit.cov), draws outside the parameter bounds rejected (acceptance "
        f"{fmt.percent(rate, 0)})"
    )


def _damped_curve(cm: _CurveModel, model: str, t, actual, delay: float, e: float):
    """The fitted curve damped from ``delay`` on (the accounting variants)."""
    P = cm.theta[None, :]
    if model == "flow":
        yr = float(cm.f(np.array([delay]), P)[0, 0])
        return np.where(t <= delay, actual, yr + (1.0 - e) * (actual - yr))
    return np.array(
        [
            cm.rate_damped(np.array([delay]), float(h), e, P)[0, 0] if h > delay else a
            for h, a in zip(t, actual)
        ]
    )


def what_if_curves(
    fit,
    delay: float,
    effectiveness: float = DEFAULT_EFFECTIVENESS,
    *,
    model: str = "intervention",
    horizon: float | None = None,
    points: int = 300,
):
    """The numbers behind :func:`what_if`: ``(t, fitted, counterfactual, e)``, the days,
    the fitted curve (the answer as it happened), the curve had the answer come on day
    ``delay``, and the e used (arguments as in :func:`what_if`).

    Examples
    --------
    >>> import casekit as ck
    >>> from casekit.response.counterfactual import what_if_curves
    >>> fit = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
    >>> t, fitted, cf, e = what_if_curves(fit, 1.0, 0.5, model="flow", points=5)
    >>> bool(cf[0] == fitted[0] and cf[-1] < fitted[-1]), e
    (True, 0.5)
    """
    e = check_effectiveness(effectiveness)
    if model not in MODELS:
        raise ParameterError(f"model must be one of {MODELS}, not {model!r}")
    delay = check_number(delay, "delay", low=0.0)
    if horizon is not None:
        horizon = check_number(horizon, "horizon", low=0.0)
    points = check_count(points, "points", minimum=2)
    fit = resolve_fit(fit)
    last = _last_obs_t(fit) or 30.0
    end = float(horizon) if horizon is not None else max(last, float(delay) * 3, 10.0)
    t = np.linspace(0.0, end, points)
    if model == "intervention":
        from casekit.response.intervention_cost import counterfactual_curve, with_response

        inside = with_response(fit, None if fit.response_effect is not None else e)[0]
        e = float(inside.response_effect["e"].iloc[0])
        actual = np.asarray(inside.spec.f(t, *inside.theta), dtype=float)
        cf = counterfactual_curve(inside, float(delay), t)
    else:
        cm = _CurveModel(fit)
        actual = cm.f(t, cm.theta[None, :])[0]
        cf = _damped_curve(cm, model, t, actual, float(delay), e)
    return t, np.asarray(actual, dtype=float), np.asarray(cf, dtype=float), e


def what_if(
    fit,
    delay: float,
    effectiveness: float = DEFAULT_EFFECTIVENESS,
    *,
    model: str = "intervention",
    horizon: float | None = None,
    points: int = 300,
):
    """One scenario as a figure: the fitted curve and the curve had the company answered on
    day ``delay`` with the given effectiveness.

    Made for the classroom notebook's sliders (``ipywidgets.interactive(what_if, ...)``):
    each call returns a new :class:`plotly.graph_objects.Figure`. The counterfactual uses
    the same model as :func:`delay_cost`. ``model="intervention"`` (default): the fit's
    curve refitted with the response inside at the stated ``effectiveness`` (it
    reproduces the observations; cached on the fit), then the response moved to day
    ``delay``; a fit that already holds the response keeps its own e (the figure's
    legend gives the e used). The accounting variants damp the fitted curve instead:
    ``"flow"``, from the answer on new reach is cut by ``effectiveness``; ``"rate"``,
    the curve's rate is damped.

    Examples
    --------
    >>> import casekit as ck
    >>> fit = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
    >>> fig = ck.response.what_if(fit, delay=1.0, effectiveness=0.5)
    >>> [trace.name for trace in fig.data][:2]
    ['fitted curve (the answer as it happened)', 'answer on day 1 (effectiveness 0.5)']
    """
    import plotly.graph_objects as go

    from casekit.plots import template

    t, actual, cf, e = what_if_curves(
        fit, delay, effectiveness, model=model, horizon=horizon, points=points
    )
    end = float(t[-1])
    fit = resolve_fit(fit)
    origin = getattr(fit, "origin", None)
    x = t if origin is None else origin + pd.to_timedelta(t, unit="D")
    fig = go.Figure(layout={"template": template()})
    fig.add_scatter(
        x=x, y=actual, name="fitted curve (the answer as it happened)", line={"color": "#888"}
    )
    fig.add_scatter(
        x=x,
        y=cf,
        name=f"answer on day {fmt.number(delay)} (effectiveness {fmt.number(e)})",
        line={"width": 3},
    )
    answer_x = float(delay) if origin is None else origin + pd.Timedelta(days=float(delay))
    fig.add_vline(x=answer_x, line_dash="dot")
    saved = actual[-1] - cf[-1]
    fig.update_layout(
        title=f"What if the answer had come on day {fmt.number(delay)}? "
        f"About {fmt.number(abs(saved))} {'fewer' if saved >= 0 else 'more'} by day "
        f"{fmt.number(end)} ({model} model)",
        xaxis_title="date" if origin is not None else "days since going public",
        yaxis_title=str(getattr(fit, "metric", "reach")),
    )
    return fig
