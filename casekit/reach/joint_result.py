"""The result of :func:`casekit.reach.joint.fit_joint`: :class:`JointReachFit`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import special

from casekit.exceptions import FitError, ParameterError
from casekit.reach.curves import _numeric_share_time
from casekit.reach.result import ReachFit, _Estimates
from casekit.results import Result, check_alpha, decode, encode, plain

__all__ = ["JointReachFit", "JOINT_SUMMARY_COLUMNS"]

JOINT_SUMMARY_COLUMNS = ("kind", "estimate", "std_err", "lower", "upper", "at_bound")
"""Columns of :attr:`JointReachFit.summary` (``at_bound``: a parameter at or near a bound
of the fitter, whose standard error is not reliable)."""

_LOSS_WORDS = {
    "ols": "least squares",
    "log": "least squares on the log scale",
    "nb": "negative binomial",
    "poisson": "Poisson",
}


@dataclass(frozen=True, repr=False, eq=False)
class JointReachFit(_Estimates, Result):
    """One curve fitted to several metrics of one story: shared timing, one scale each.

    Build it with :func:`~casekit.reach.joint.fit_joint`. Immutable.

    Attributes
    ----------
    fits : Mapping[str, ReachFit]
        Per metric, an ordinary :class:`ReachFit` at the joint estimates, whose covariance
        is the metric's block of the joint one (see :meth:`metric_fit`).
    param_names : tuple of str
        The joint parameters: the shared ones, then each metric's scale parameters
        (``K[views]``).
    theta, cov_matrix : numpy.ndarray
        Joint estimates and their covariance (inverse joint expected information).
    df : numpy.ndarray
        Per parameter, the degrees of freedom of its t quantile (Satterthwaite: each
        metric's share of the parameter's variance, estimated with that metric's
        residual degrees of freedom).
    shared : tuple of str
        The shared parameters (the curve's timing, and the response effects).
    alpha : float
        Default level of intervals (0.05 = 95 %).
    n_starts, n_starts_ok : int
        Starting points tried, and those that converged.
    notes : tuple of str
        Caveats (likelihoods chosen, parameters on a bound, open profile intervals).
    separate : pandas.DataFrame
        Each metric fitted alone: ``metric, term, estimate, std_err`` for the shared
        parameters (metrics with too few times for their own fit are absent).
    agreement : Mapping or None
        Test of a shared timing: a Wald F test that the metrics' own fits agree on the
        shared parameters, ``statistic`` (F), ``df1``, ``df2``, ``p_value`` (see
        :func:`~casekit.reach.joint.fit_joint`); None when a metric cannot be fitted
        alone.
    response_effect : pandas.DataFrame or None
        As :attr:`ReachFit.response_effect`, the e_k intervals from the joint profile
        likelihood.
    """

    fits: Mapping[str, ReachFit]
    param_names: tuple[str, ...]
    theta: np.ndarray
    cov_matrix: np.ndarray
    df: np.ndarray
    shared: tuple[str, ...]
    alpha: float
    n_starts: int
    n_starts_ok: int
    notes: tuple[str, ...] = ()
    separate: pd.DataFrame | None = None
    agreement: Mapping[str, float] | None = None
    response_effect: pd.DataFrame | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    has_intervals: ClassVar[bool] = True
    title: ClassVar[str] = "Joint growth curve fit"

    # -- basic ---------------------------------------------------------------------------
    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.fits)

    @property
    def _first(self) -> ReachFit:
        return next(iter(self.fits.values()))

    @property
    def spec(self):
        return self._first.spec

    @property
    def curve(self) -> str:
        return self.spec.name

    @property
    def case_id(self) -> str | None:
        return self._first.case_id

    @property
    def origin(self):
        return self._first.origin

    @property
    def own(self) -> tuple[str, ...]:
        """The scale parameters each metric has its own copy of (``K``, ``m``...)."""
        return tuple(n for n in self.spec.param_names if n not in self.shared)

    def metric_fit(self, name: str) -> ReachFit:
        """One metric's curve as an ordinary :class:`ReachFit`.

        Its estimates are the joint ones (the shared timing, the metric's own scale) and
        its covariance is the metric's block of the joint covariance, so the shared
        parameters' uncertainty is the joint fit's: milestones, ``predict`` bands and
        :func:`casekit.response.delay_cost` use it. Its asymptotic intervals take t
        quantiles with the metric's own ``n - p`` degrees of freedom (a little wider than
        the joint ones when the metric has few observations); its profile and bootstrap
        intervals would refit the metric alone. ``delay_cost`` of a joint fit without
        the response inside refits the response model to this metric's data alone: fit
        jointly with ``response=...`` to keep the joint estimates.

        Examples
        --------
        >>> import casekit as ck
        >>> from casekit.reach.joint import fit_joint
        >>> case = ck.load_case("synthetic-example")
        >>> joint = fit_joint(case, ["video_views", "forum_posts"])
        >>> posts = joint.metric_fit("forum_posts")
        >>> posts.metric, posts.observation, bool(posts.params["r"] == joint.params["r"])
        ('forum_posts', 'per-period', True)
        """
        if name not in self.fits:
            raise ParameterError(
                f"this joint fit has no metric {name!r}; it has {', '.join(self.metrics)}"
            )
        return self.fits[name]

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bound of each joint parameter (its curve parameter's)."""
        bounds = dict(zip(self.spec.param_names, self.spec.bounds))
        b = [bounds[n.split("[")[0]] for n in self.param_names]
        return np.array([x[0] for x in b], dtype=float), np.array([x[1] for x in b], dtype=float)

    @property
    def at_bound(self) -> pd.Series:
        """Per parameter: at or near a bound of the fitter (within 1e-6, relative)."""
        lo, hi = self._bounds()
        v = np.asarray(self.theta, dtype=float)
        tol = 1e-6 * np.maximum(1.0, np.abs(v))
        with np.errstate(invalid="ignore"):
            flags = (np.isfinite(lo) & (v - lo < tol)) | (np.isfinite(hi) & (hi - v < tol))
        return pd.Series(flags, index=list(self.param_names), name="at_bound")

    @property
    def nobs(self) -> int:
        return sum(f.nobs for f in self.fits.values())

    @property
    def df_resid(self) -> int:
        return self.nobs - len(self.theta)

    @property
    def loglik(self) -> float:
        """The joint log-likelihood: the sum of the metrics' (each as
        :attr:`ReachFit.loglik` defines it, at the joint estimates)."""
        return float(sum(f.loglik for f in self.fits.values()))

    @property
    def _k_ll(self) -> int:
        return len(self.theta) + sum(1 for f in self.fits.values() if f.loss != "poisson")

    @property
    def aicc(self) -> float:
        k, n = self._k_ll, self.nobs
        aic = -2 * self.loglik + 2 * k
        return aic + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else float("inf"))

    # -- intervals -------------------------------------------------------------------------
    def conf_int(self, alpha: float | None = None, method: str = "asymptotic") -> pd.DataFrame:
        """Asymptotic intervals of the joint parameters: estimate +- t(df) x se, with
        each parameter's Satterthwaite degrees of freedom :attr:`df`, cut to the
        parameter's bounds (a rate or a final reach is never given a negative bound).

        The response effects' profile-likelihood intervals are in
        :attr:`response_effect`.

        Examples
        --------
        >>> import casekit as ck
        >>> from casekit.reach.joint import fit_joint
        >>> case = ck.load_case("synthetic-example")
        >>> joint = fit_joint(case, ["video_views", "forum_posts"])
        >>> joint.conf_int().columns.tolist()
        ['lower', 'upper']
        """
        alpha = self.alpha if alpha is None else check_alpha(alpha)
        if method != "asymptotic":
            raise ParameterError(
                f"a joint fit has method='asymptotic' intervals only, not {method!r} (the "
                "response effects' profile intervals are in response_effect)"
            )
        q = special.stdtrit(np.asarray(self.df, dtype=float), 1 - alpha / 2)
        se = self.bse.to_numpy()
        lo, hi = self._bounds()
        return pd.DataFrame(
            {
                "lower": np.maximum(self.theta - q * se, lo),
                "upper": np.minimum(self.theta + q * se, hi),
            },
            index=list(self.param_names),
        )

    # -- presentation ----------------------------------------------------------------------
    @property
    def table(self) -> pd.DataFrame:
        """Every metric's observations with the fitted values: ``metric`` and the columns
        of :attr:`ReachFit.table` (``period_days`` for per-period counts)."""
        frames = [f.table.assign(metric=m) for m, f in self.fits.items()]
        out = pd.concat(frames, ignore_index=True)
        return out[["metric"] + [c for c in out.columns if c != "metric"]]

    @property
    def summary(self) -> pd.DataFrame:
        """The joint parameters, then each metric's final reach (``saturation[m]``), then
        the time of fastest growth and the times to 50, 90 and 99 % of the final reach
        (``peak_time``, ``t50``...: shared when the curve has one scale parameter, else
        per metric, ``t90[m]``). Columns :data:`JOINT_SUMMARY_COLUMNS`; the derived rows
        by the delta method on the joint covariance (a final reach's interval on the log
        scale, so it never falls below 0)."""
        if "summary" not in self._cache:
            self._cache["summary"] = self._summary()
        return self._cache["summary"].copy()

    def _summary(self) -> pd.DataFrame:
        ci = self.conf_int()
        par = pd.DataFrame(
            {
                "kind": "parameter",
                "estimate": np.array(self.theta),
                "std_err": self.bse.to_numpy(),
                "lower": ci["lower"].to_numpy(),
                "upper": ci["upper"].to_numpy(),
                "at_bound": self.at_bound.to_numpy(),
            },
            index=list(self.param_names),
        )
        rows = [par]
        one_scale = len(self.own) == 1
        first = next(iter(self.fits))
        timing = (("peak_time", None), ("t50", 0.5), ("t90", 0.9), ("t99", 0.99))
        for m in self.fits:
            rows.append(self._derived(m, "saturation", None, f"saturation[{m}]"))
        for m in self.fits if not one_scale else [first]:
            for name, share in timing:
                rows.append(self._derived(m, name, share, name if one_scale else f"{name}[{m}]"))
        rows = [r for r in rows if r is not None]
        out = pd.concat(rows)[list(JOINT_SUMMARY_COLUMNS)]
        out["at_bound"] = out["at_bound"].astype(bool)
        out.index.name = "term"
        return out

    def _derived(self, metric: str, name: str, share, label: str) -> pd.DataFrame | None:
        """One derived row by the delta method on the joint covariance: a final reach
        (interval on the log scale, so never below 0) or a time (symmetric). The t
        quantile takes the smallest degrees of freedom of the parameters it depends on."""
        f = self.fits[metric]
        spec, th = f.spec, np.array(f.theta, dtype=float)
        if name == "saturation":
            fun = spec.saturation
        elif name == "peak_time":
            fun = spec.peak_time
        elif spec.share_time is not None:
            fun = lambda *p: spec.share_time(share, *p)  # noqa: E731
        else:
            fun = lambda *p: _numeric_share_time(spec, share, p)  # noqa: E731
        lo = np.array([b[0] for b in spec.bounds])
        hi = np.array([b[1] for b in spec.bounds])
        h = 6e-6 * np.maximum(np.abs(th), 1e-2)
        try:
            with np.errstate(all="ignore"):
                est = float(fun(*th))
                g = np.empty(len(th))
                for j in range(len(th)):
                    up, dn = th.copy(), th.copy()
                    up[j], dn[j] = min(th[j] + h[j], hi[j]), max(th[j] - h[j], lo[j])
                    g[j] = (float(fun(*up)) - float(fun(*dn))) / (up[j] - dn[j])
        except (ArithmeticError, ValueError, TypeError, FitError):
            return None
        if not (np.isfinite(est) and np.all(np.isfinite(g))):
            return None
        se = math.sqrt(max(float(g @ np.asarray(f.cov_matrix) @ g), 0.0))
        names = [n if n in self.shared else f"{n}[{metric}]" for n in spec.param_names]
        used = [list(self.param_names).index(n) for n, gj in zip(names, g) if gj != 0]
        df = min((float(self.df[j]) for j in used), default=float(max(self.df_resid, 1)))
        q = float(special.stdtrit(df, 1 - self.alpha / 2))
        if name == "saturation" and est > 0:
            lower, upper = est * math.exp(-q * se / est), est * math.exp(q * se / est)
        else:
            lower, upper = est - q * se, est + q * se
        return pd.DataFrame(
            {
                "kind": "derived",
                "estimate": est,
                "std_err": se,
                "lower": lower,
                "upper": upper,
                "at_bound": False,
            },
            index=[label],
        )

    @property
    def settings(self) -> dict[str, Any]:
        """The curve, the metrics with their observation models, what is shared, the
        case and origin, and how the variances and standard errors are computed."""
        first = self._first
        out = {
            "curve": self.curve,
            "formula": self.spec.formula,
            "metrics": ", ".join(
                f"{m} ({'per-period counts' if f._counts else 'cumulative'}, "
                f"{_LOSS_WORDS.get(f.loss, f.loss)})"
                for m, f in self.fits.items()
            ),
            "shared": ", ".join(self.shared),
            "own per metric": ", ".join(self.own),
            "case": self.case_id,
            "origin": self.origin,
            "time": "days since the origin",
            "weights": first.weights,
            "alpha": self.alpha,
            "n_starts": self.n_starts,
            "variance": "each least-squares metric's residual variance is profiled "
            "separately, so metrics on different scales weigh by their own noise",
            "standard errors": "inverse joint expected information (a count metric's divided "
            "by its Pearson dispersion when above 1); t quantiles with Satterthwaite degrees "
            "of freedom",
        }
        if self.response_effect is not None:
            out["response model"] = (
                "each response at t_k multiplies the spread rate by (1 - e_k), shared by "
                "the metrics; attention decays at rate delta (see casekit.reach.intervention)"
            )
        return out

    def __str__(self) -> str:
        from casekit.reach.joint_text import joint_text

        return joint_text(self)

    def __repr__(self) -> str:
        return (
            f"<casekit.JointReachFit {self.curve} case={self.case_id!r} "
            f"metrics={list(self.metrics)!r} n={self.nobs}>"
        )

    def plot(self, **kwargs):
        """Each metric's observations and fitted curve, one panel per metric, on one time
        axis: a plotly Figure.

        Keyword arguments: ``interval`` (``"confidence"``, the default, or None: the band
        around each cumulative curve, from the joint covariance), ``x`` (``"time"``: dates
        when the fit has an origin; ``"t"``: days) and ``title``.
        """
        from casekit.reach.joint_text import joint_plot

        return joint_plot(self, **kwargs)

    # -- storage ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict: each metric's fit (its own ``to_dict``), the joint estimates
        and covariance, and for readers ``settings``, ``params``, ``table`` and ``text``."""
        return {
            "type": type(self).__name__,
            "fields": {
                "param_names": list(self.param_names),
                "theta": [float(x) for x in self.theta],
                "cov_matrix": encode(np.array(self.cov_matrix)),
                "df": [float(x) for x in self.df],
                "shared": list(self.shared),
                "alpha": self.alpha,
                "n_starts": int(self.n_starts),
                "n_starts_ok": int(self.n_starts_ok),
                "notes": list(self.notes),
                "separate": encode(self.separate),
                "agreement": encode(None if self.agreement is None else dict(self.agreement)),
                "response_effect": encode(self.response_effect),
            },
            "fits": {m: f.to_dict() for m, f in self.fits.items()},
            "text": str(self),
            "settings": plain(self.settings),
            "params": plain(self.params),
            "table": plain(self.table),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> JointReachFit:
        """Rebuild the joint fit from :meth:`to_dict` output (nothing is refitted)."""
        if d.get("type") != cls.__name__:
            raise ParameterError(f"this dict holds a {d.get('type')!r}, not a {cls.__name__}")
        f = d["fields"]
        theta = np.array(f["theta"], dtype=float)
        theta.flags.writeable = False
        cov = np.array(decode(f["cov_matrix"]), dtype=float)
        cov.flags.writeable = False
        df = np.array(f["df"], dtype=float)
        df.flags.writeable = False
        agreement = decode(f.get("agreement"))
        return cls(
            fits=MappingProxyType({m: ReachFit.from_dict(v) for m, v in d["fits"].items()}),
            param_names=tuple(f["param_names"]),
            theta=theta,
            cov_matrix=cov,
            df=df,
            shared=tuple(f["shared"]),
            alpha=float(f["alpha"]),
            n_starts=int(f["n_starts"]),
            n_starts_ok=int(f["n_starts_ok"]),
            notes=tuple(f.get("notes", ())),
            separate=decode(f.get("separate")),
            agreement=None if agreement is None else MappingProxyType(agreement),
            response_effect=decode(f.get("response_effect")),
        )
