"""The result of :func:`casekit.reach.fit`: :class:`ReachFit`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from casekit.cases import CaseContext
from casekit.reach import bootstrap as _boot
from casekit.reach import diagnostics as _dg
from casekit.reach import intervals as _iv
from casekit.reach import milestones as _ms
from casekit.reach._solver import _make_problem, _Problem
from casekit.reach.curves import _TINY, CurveSpec
from casekit.reach.data import ObsField, obs_array, obs_rows
from casekit.reach.prose import fit_html, fit_settings, fit_summary, full_text
from casekit.reach.storage import fit_from_dict, fit_to_dict
from casekit.results import Result, check_alpha

__all__ = ["ReachFit", "PRED_COLUMNS", "SUMMARY_COLUMNS"]

PRED_COLUMNS = ("t", "time", "yhat", "lower", "upper")
"""Columns of :meth:`ReachFit.predict`."""

SUMMARY_COLUMNS = ("kind", "estimate", "std_err", "lower", "upper", "method", "at_bound")
"""Columns of :attr:`ReachFit.summary` (``method``: how the row's interval was computed;
``at_bound``: a parameter at or near a bound of the fitter)."""


class _Estimates:
    """``params``, ``cov`` and ``bse`` of a fit with ``theta``, ``cov_matrix`` and
    ``param_names`` (shared by :class:`ReachFit` and the joint fit)."""

    @property
    def params(self) -> pd.Series:
        """Estimates, indexed by parameter name."""
        return pd.Series(np.array(self.theta), index=list(self.param_names), name="estimate")

    @property
    def cov(self) -> pd.DataFrame:
        """Parameter covariance matrix."""
        names = list(self.param_names)
        return pd.DataFrame(np.array(self.cov_matrix), index=names, columns=names)

    @property
    def bse(self) -> pd.Series:
        """Standard errors of the parameters."""
        return pd.Series(
            np.sqrt(np.maximum(np.diag(self.cov_matrix), 0.0)),
            index=list(self.param_names),
            name="std_err",
        )


@dataclass(frozen=True, repr=False, eq=False)
class ReachFit(_Estimates, Result):
    """A fitted growth curve. Immutable; every table it returns is a fresh copy.

    Build it with :func:`fit`. Parameters are on the curve's canonical scale
    (t in days since ``origin``); standard errors and the asymptotic intervals use
    the covariance ``s^2 (J'J)^-1`` with ``s^2 = RSS / (n - p)``, the convention of
    R's ``nls``, and t quantiles with ``n - p`` degrees of freedom.

    Attributes
    ----------
    spec : CurveSpec
        The curve.
    curve, loss, weights : str
        Curve name, the loss (see :data:`LOSSES`) and the weighting used
        (``"none"``, ``"confidence"``, ``"user"``...).
    metric : str or None
        The metric fitted.
    context : CaseContext or None
        The case the data came from (its id, folder, key dates and responses), when
        :func:`fit` was given a :class:`~casekit.Case`; ``None`` for plain data.
    case_id : str or None
        ``context.id``.
    origin : pandas.Timestamp or None
        The date of t = 0.
    alpha : float
        Default level of intervals (0.05 = 95 %).
    f_scale : float or None
        The Huber threshold on the fitting scale (robust losses only).
    converged : bool
        Whether the optimiser reported convergence from at least one start
        (``n_starts_ok >= 1``). :func:`fit` raises FitError instead of returning a fit
        whose chosen solution did not converge, so a fresh fit always has True here.
    n_starts_ok : int
        Starts whose solution converged (at the loose tolerance or once polished), of the
        ``n_starts`` given; the fitter stops early once two converged starts agree, so the
        remaining starts are not run and not counted.
    notes : tuple of str
        Caveats (parameters at or near a bound, a low-confidence reading that drives the
        fit, approximate standard errors...).
    observation : {"cumulative", "per-period"}
        How ``y`` reads the curve: cumulative readings, or counts over periods (the
        increments of the curve; ``loss`` is then the count likelihood ``nb``,
        ``poisson`` or ``log``, see :mod:`casekit.reach.observation`).
    dispersion : float or None
        The negative-binomial dispersion phi (``loss="nb"``).
    response_effect : pandas.DataFrame or None
        For an intervention curve (``fit(..., response=...)``): one row per company
        response, ``date, t, kind, parameter, e, lower, upper, status`` (status
        ``estimated`` with a profile-likelihood interval, or ``scenario``).
    """

    spec: CurveSpec
    theta: np.ndarray
    cov_matrix: np.ndarray
    obs: pd.DataFrame = ObsField()
    loss: str
    weights: str
    alpha: float
    metric: str | None
    origin: pd.Timestamp | None
    f_scale: float | None
    converged: bool
    n_starts: int
    n_starts_ok: int
    notes: tuple[str, ...]
    events: pd.DataFrame
    context: CaseContext | None = None
    observation: str = "cumulative"
    dispersion: float | None = None
    response_effect: pd.DataFrame | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    has_intervals: ClassVar[bool] = True
    title: ClassVar[str] = "Growth curve fit"

    # -- basic ------------------------------------------------------------------
    @property
    def curve(self) -> str:
        return self.spec.name

    @property
    def param_names(self) -> tuple[str, ...]:
        return self.spec.param_names

    @property
    def data(self) -> pd.DataFrame:
        """The observations used: t, time, y, weight, source, confidence, qualifier, kind, quote."""
        return self.obs.copy()

    @property
    def nobs(self) -> int:
        return obs_rows(self)

    @property
    def df_resid(self) -> int:
        return self.nobs - self.spec.k

    @property
    def _log(self) -> bool:
        return self.loss in ("log", "robust_log")

    @property
    def _robust(self) -> bool:
        return self.loss in ("robust", "robust_log")

    def _problem(self) -> _Problem:
        return _make_problem(
            self.spec,
            obs_array(self, "t"),
            obs_array(self, "y"),
            obs_array(self, "weight"),
            self.loss,
        )

    @property
    def _counts(self) -> bool:
        return self.observation == "per-period"

    @property
    def fitted(self) -> np.ndarray:
        """Fitted values at the observation times (per-period fits: the expected count
        over each period, the increment of the curve)."""
        if self._counts:
            from casekit.reach.data import period_bounds
            from casekit.reach.observation import increments

            return increments(self.spec, *period_bounds(self.obs), self.theta)
        return self.spec.f(obs_array(self, "t"), *self.theta)

    @property
    def residuals(self) -> pd.Series:
        """Unweighted residuals on the fitting scale: y - yhat (ols, robust) or
        log y - log yhat (log losses)."""
        y = obs_array(self, "y")
        fv = self.fitted
        r = np.log(y) - np.log(np.maximum(fv, _TINY)) if self._log else y - fv
        return pd.Series(r, name="residual")

    @property
    def rss(self) -> float:
        """Weighted residual sum of squares on the fitting scale (plain, not Huber)."""
        r = self.residuals.to_numpy()
        return float(np.sum(obs_array(self, "weight") * r**2))

    @property
    def sigma(self) -> float:
        """Residual standard error sqrt(RSS / (n - p)) on the fitting scale (for weight 1)."""
        return math.sqrt(self.rss / self.df_resid) if self.df_resid > 0 else float("nan")

    @property
    def loglik(self) -> float:
        """Gaussian log-likelihood of y, as R's ``logLik.nls``.

        For the log losses the density of log y is converted to a density of y
        (minus sum(log y)), so AIC is comparable with ``loss="ols"`` on the same data.
        With a robust loss this is the Gaussian quasi-likelihood of the same residuals.
        """
        n = self.nobs
        w = obs_array(self, "weight")
        if self._counts:
            from casekit.reach.observation import count_loglik

            y = obs_array(self, "y")
            return count_loglik(self.loss, y, self.fitted, w, self.dispersion)
        rss = self.rss
        if rss <= 0:
            return float("inf")
        ll = (
            -n
            / 2
            * (math.log(2 * math.pi) + 1 - math.log(n) - np.sum(np.log(w)) / n + math.log(rss))
        )
        if self._log:
            ll -= float(np.sum(np.log(obs_array(self, "y"))))
        return float(ll)

    @property
    def _k_ll(self) -> int:
        if self.loss == "poisson":
            return self.spec.k
        return self.spec.k + 1  # + the residual variance (or the NB dispersion)

    @property
    def aic(self) -> float:
        return -2 * self.loglik + 2 * self._k_ll

    @property
    def aicc(self) -> float:
        k, n = self._k_ll, self.nobs
        return self.aic + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else float("inf"))

    @property
    def bic(self) -> float:
        return -2 * self.loglik + self._k_ll * math.log(self.nobs)

    @property
    def case_id(self) -> str | None:
        """The id of the case the data came from (``context.id``), or None."""
        return None if self.context is None else self.context.id

    @property
    def table(self) -> pd.DataFrame:
        """The observations used (as :attr:`data`) with the fitted values ``yhat`` and the
        unweighted ``residual`` on the fitting scale."""
        return self.obs.assign(yhat=self.fitted, residual=self.residuals.to_numpy())

    @property
    def settings(self) -> dict[str, Any]:
        """The call's choices: curve, metric, case, origin, loss, weights, alpha, starts."""
        return fit_settings(self)

    # -- intervals ---------------------------------------------------------------
    def _alpha(self, alpha) -> float:
        return self.alpha if alpha is None else check_alpha(alpha)

    def conf_int(
        self,
        alpha: float | None = None,
        method: str = "asymptotic",
        *,
        n_boot: int = 1000,
        seed: int = 0,
    ) -> pd.DataFrame:
        """Confidence intervals of the parameters.

        Parameters
        ----------
        alpha : float, optional
            1 - level; default the fit's ``alpha``.
        method : {"asymptotic", "profile", "bootstrap"}
            ``asymptotic``: estimate +- t(n-p) x se; where that would cross a bound of
            the parameter (a negative saturation or rate), the same on the bound's scale
            (the log of a rate), so it stays admissible. ``profile``: profile-t intervals
            (as R's ``confint.nls``): the other parameters re-optimised along each
            parameter, cut where the profile t statistic reaches the t quantile; a side
            that never reaches it ends at the parameter's bound (``inf`` if none).
            ``bootstrap``: studentized (bootstrap-t) intervals from a residual bootstrap
            (``n_boot`` replicates, ``seed``), on the bound's scale; see
            :mod:`casekit.reach.bootstrap`.

        Returns
        -------
        pandas.DataFrame
            Index: parameter names; columns ``lower``, ``upper``.

        Examples
        --------
        >>> import casekit as ck
        >>> res = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
        >>> res.conf_int().round(2).loc["r"].tolist()
        [0.82, 0.94]
        >>> res.conf_int(method="profile").round(2).loc["r"].tolist()
        [0.82, 0.95]
        """
        lo, hi, _ = _iv.param_limits(self, self._alpha(alpha), method, n_boot, seed)
        return pd.DataFrame(
            np.column_stack([lo, hi]), index=list(self.param_names), columns=["lower", "upper"]
        )

    def bootstrap_params(self, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
        """Residual-bootstrap replicates of the parameters, one row per converged refit.

        The same replicates back ``conf_int(method="bootstrap")`` and
        ``predict(bootstrap=...)``; they are computed once per ``(n_boot, seed)``.

        Examples
        --------
        >>> import casekit as ck
        >>> fit = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
        >>> fit.bootstrap_params(200).columns.tolist()
        ['K', 'r', 't0']
        """
        th = self._bootstrap(_iv.check_n_boot(n_boot), seed)
        return pd.DataFrame(np.array(th), columns=list(self.param_names))

    def _replicates(self, n_boot: int = 1000, seed: int = 0) -> _boot.Replicates:
        """Residual-bootstrap replicates with their covariances; cached per (n_boot, seed)."""
        key = ("boot", int(n_boot), _iv.check_seed(seed))
        if key not in self._cache:
            self._cache[key] = _boot.replicates(self, int(n_boot), key[2])
        return self._cache[key]

    def _bootstrap(self, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
        """Residual-bootstrap parameter replicates, shape (n_ok, p)."""
        return self._replicates(n_boot, seed).theta

    # -- predictions ---------------------------------------------------------------
    def _t_of(self, t) -> tuple[np.ndarray, np.ndarray]:
        return _iv.days_of(self, t)

    def predict(
        self,
        t=None,
        *,
        interval: str | None = "confidence",
        alpha: float | None = None,
        bootstrap: int | None = None,
        seed: int = 0,
    ) -> pd.DataFrame:
        """Fitted curve at any times, with a confidence or prediction band.

        Parameters
        ----------
        t : array-like of days, DatetimeIndex, scalar, or None
            Times; ``None`` means the observation times.
        interval : {"confidence", "prediction", None}
            ``confidence``: band for the curve itself (delta method, or bootstrap
            percentiles). ``prediction``: band for a new observation of weight 1 (adds
            the residual variance on the fitting scale). ``None``: bounds equal yhat.
        alpha : float, optional
            1 - level of the band; default the fit's ``alpha``.
        bootstrap : int, optional
            Use this many residual-bootstrap replicates instead of the delta method: a
            percentile band, approximate (at small n such bands run narrow, as percentile
            intervals covered 89-93 % at a nominal 95 %; ``conf_int`` and ``milestones``
            use the bootstrap-t, which reaches it).
        seed : int
            Seed of the bootstrap.

        Returns
        -------
        pandas.DataFrame
            Columns ``t, time, yhat, lower, upper`` (:data:`PRED_COLUMNS`).
            With the log losses the bands are computed on the log scale and
            transformed back, so they are asymmetric. A delta-method band always
            contains ``yhat``; a bootstrap percentile band need not (when the replicates
            are skewed), and it is reported as computed, not widened to contain it.

        Examples
        --------
        >>> import casekit as ck
        >>> res = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
        >>> p = res.predict([0, 3, 30], interval="prediction")
        >>> p.columns.tolist()
        ['t', 'time', 'yhat', 'lower', 'upper']
        >>> bool((p["lower"] <= p["yhat"]).all() and (p["yhat"] <= p["upper"]).all())
        True
        """
        alpha = self._alpha(alpha)
        seed = _iv.check_seed(seed)
        days, times = self._t_of(t)
        yhat = self.spec.f(days, *self.theta)
        lo, hi = _iv.band(self, days, yhat, interval, alpha, bootstrap, seed)
        return pd.DataFrame(
            {"t": days, "time": pd.to_datetime(times), "yhat": yhat, "lower": lo, "upper": hi}
        )

    # -- derived quantities ---------------------------------------------------------
    def _share_fun(self, share):
        return _iv.share_fun(self.spec, share)

    @property
    def saturation(self) -> float:
        """The curve's asymptote (final reach) at the estimates."""
        return float(self.spec.saturation(*self.theta))

    def peak_time(
        self,
        *,
        alpha: float | None = None,
        method: str = "auto",
        n_boot: int = 1000,
        seed: int = 0,
    ) -> pd.Series:
        """Time of maximum growth (days since origin) with an interval.

        Returns a Series ``estimate, std_err, lower, upper, time, method`` (``time``: the
        date); ``method`` as for :meth:`milestones`.
        """
        a = self._alpha(alpha)
        return _ms.milestone(self, "peak_time", None, a, method, n_boot, seed)

    def time_to_share(
        self,
        share: float = 0.9,
        *,
        alpha: float | None = None,
        method: str = "auto",
        n_boot: int = 1000,
        seed: int = 0,
    ) -> pd.Series:
        """Time (days since origin) at which the curve reaches ``share`` of its saturation.

        Parameters
        ----------
        share : float
            Between 0 and 1, e.g. 0.5, 0.9, 0.99.
        method : {"auto", "profile", "bootstrap", "delta"}
            As for :meth:`milestones`.

        Returns
        -------
        pandas.Series
            ``estimate, std_err, lower, upper, time, method`` (``time``: the date of the
            estimate, if the fit has an origin).

        Examples
        --------
        >>> import casekit as ck
        >>> res = ck.reach.fit(ck.load_case("synthetic-example"), metric="video_views")
        >>> t90 = res.time_to_share(0.9)
        >>> t90[["estimate", "lower", "upper"]].astype(float).round(2).tolist(), t90["method"]
        ([5.56, 5.31, 5.82], 'profile')
        """
        share = _iv.check_share(share)
        a = self._alpha(alpha)
        return _ms.milestone(self, None, share, a, method, n_boot, seed)

    def milestones(
        self,
        shares=(0.5, 0.9, 0.99),
        *,
        alpha: float | None = None,
        method: str = "auto",
        n_boot: int = 1000,
        seed: int = 0,
    ) -> pd.DataFrame:
        """Saturation, peak time and times to ``shares`` of saturation, with intervals.

        Parameters
        ----------
        shares : sequence of float
            Shares of the saturation, each between 0 and 1.
        alpha : float, optional
            1 - level; default the fit's ``alpha``.
        method : {"auto", "profile", "bootstrap", "delta"}
            ``profile``: profile-likelihood intervals (the milestone as a parameter of the
            curve, the others refitted); ``bootstrap``: bootstrap-t (``n_boot``,
            ``seed``); ``delta``: the delta method, on the log scale for a positive
            milestone. ``auto``: ``profile`` where it is quick and defined (least squares,
            cumulative readings, a curve with closed-form milestones), else ``delta``.
            See :mod:`casekit.reach.milestones`.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``saturation, peak_time, t50, t90, t99``; columns ``estimate,
            std_err, lower, upper, time, method`` (:data:`~casekit.reach.milestones.
            MILESTONE_COLUMNS`; ``method`` says how each interval was computed).
            Times of a curve that starts at the origin never get a negative bound, and the
            saturation's interval never falls below the largest cumulative reading that
            is not an upper bound or of low or unverified confidence (the final reach is at
            least what was counted; ``method`` then adds "floored at the largest
            reading").

        Examples
        --------
        >>> import casekit as ck
        >>> fit = ck.reach.fit(ck.load_case("werder-bremen-wiesenhof"))
        >>> ms = fit.milestones()
        >>> ms.loc["t90", ["lower", "upper"]].astype(float).round(1).tolist()
        [2.9, 5.0]
        >>> ms.loc["t90", "method"]
        'profile'
        """
        return _ms.milestone_table(self, shares, self._alpha(alpha), method, n_boot, seed)

    @property
    def at_bound(self) -> pd.Series:
        """Whether each parameter is at or near a bound of the fitter (see
        :mod:`casekit.reach.diagnostics`; the notes say which bound)."""
        flagged = {f["param"] for f in _dg.bound_flags(self.spec, self.theta)}
        return pd.Series(
            [n in flagged for n in self.param_names], index=list(self.param_names), name="at_bound"
        )

    # -- presentation ---------------------------------------------------------------
    @property
    def summary(self) -> pd.DataFrame:
        """Parameters and derived quantities with standard errors and intervals.

        Rows: the parameters (``kind == "parameter"``, asymptotic intervals as
        :meth:`conf_int`), then ``saturation``, ``peak_time``, ``t50``, ``t90``, ``t99``
        (``kind == "derived"``, as :meth:`milestones`). ``method`` says how each interval
        was computed; ``at_bound`` flags a parameter at or near a bound of the fitter.
        """
        if "summary" not in self._cache:
            self._cache["summary"] = fit_summary(self)[list(SUMMARY_COLUMNS)]
        return self._cache["summary"].copy()

    @property
    def stats(self) -> pd.Series:
        """Fit statistics: nobs, df_resid, rss, sigma, loglik, aic, aicc, bic."""
        return pd.Series(
            {
                "nobs": self.nobs,
                "df_resid": self.df_resid,
                "rss": self.rss,
                "sigma": self.sigma,
                "loglik": self.loglik,
                "aic": self.aic,
                "aicc": self.aicc,
                "bic": self.bic,
            },
            dtype=float,
        )

    def _title(self) -> str:
        where = f"{self.case_id}: " if self.case_id else ""
        return (
            f"{where}{self.curve} fit of {self.metric or 'y'} (loss {self.loss}, "
            f"weights {self.weights}, n = {self.nobs})"
        )

    def __str__(self) -> str:
        return full_text(self)

    def _repr_html_(self) -> str:
        return fit_html(self)

    def __repr__(self) -> str:
        # one line: fits sit in mappings (Comparison.fits) whose repr lists them all
        return (
            f"<casekit.ReachFit {self.curve} case={self.case_id!r} metric={self.metric!r} "
            f"loss={self.loss} n={self.nobs}>"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description of the fit (estimates, covariance, data, statistics,
        the case context, the settings and the prose).

        :meth:`from_dict` rebuilds the result from it without refitting.
        """
        return fit_to_dict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReachFit:
        """Rebuild a :class:`ReachFit` from :meth:`to_dict` output (no refit)."""
        return fit_from_dict(cls, d)

    def plot(self, **kwargs):
        """Observations, fitted curve with band, and timeline events: a plotly Figure.

        Keyword arguments go to :func:`casekit.plots.reach_plot` (``horizon``,
        ``log_y``, ``show_events``, ``interval``, ``x``...).
        """
        from casekit.plots import reach_plot

        return reach_plot(self, **kwargs)
