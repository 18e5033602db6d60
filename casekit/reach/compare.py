"""Several curves fitted to one series and ranked by AICc: :func:`compare`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from casekit.exceptions import FitError, InsufficientDataError, ParameterError
from casekit.reach.curves import DEFAULT_CURVES, CurveSpec, _get_spec
from casekit.reach.data import _is_case, _prepare
from casekit.reach.fitting import _check_options, _fit_prepared
from casekit.reach.multiwave import multiwave
from casekit.reach.prose import comparison_text
from casekit.reach.result import ReachFit
from casekit.results import Result, check_alpha, decode, encode, plain

__all__ = ["Comparison", "compare", "case_curves", "COMPARE_COLUMNS"]

COMPARE_COLUMNS = (
    "curve",
    "k",
    "nobs",
    "rss",
    "loglik",
    "aicc",
    "delta_aicc",
    "akaike_weight",
    "saturation",
    "peak_time",
    "t90",
    "converged",
    "at_bound",
    "error",
    "notes",
)
"""Columns of :attr:`Comparison.table` (``at_bound``: the parameters at or near a bound of
the fitter, comma-separated, or None)."""

_SUMMARY_COLUMNS = (
    "curve",
    "k",
    "nobs",
    "aicc",
    "delta_aicc",
    "akaike_weight",
    "saturation",
    "peak_time",
    "t90",
    "at_bound",
    "error",
)


@dataclass(frozen=True, repr=False, eq=False)
class Comparison(Result):
    """Several curves fitted to one series, ranked by AICc (best first).

    Attributes
    ----------
    ranking : pandas.DataFrame
        One row per curve (what :attr:`table` returns).
    fits : Mapping[str, ReachFit]
        The fits that succeeded, by curve name.
    errors : Mapping[str, str]
        Curves that failed, with the plain-language reason.
    case_id, metric : str or None
        Where the series came from.
    loss : str
        The loss every curve was fitted with.
    options : Mapping[str, Any]
        The other fitting choices (weights, alpha, origin, starts, kinds of figures).
    """

    ranking: pd.DataFrame
    fits: Mapping[str, ReachFit]
    errors: Mapping[str, str]
    case_id: str | None
    metric: str | None
    loss: str
    options: Mapping[str, Any] = field(default_factory=dict)

    has_intervals: ClassVar[bool] = True
    title: ClassVar[str] = "Growth curves compared"

    @property
    def table(self) -> pd.DataFrame:
        """One row per curve: ``curve, k, nobs, rss, loglik, aicc, delta_aicc,
        akaike_weight, saturation, peak_time, t90, converged, at_bound, error, notes``,
        best first.

        ``error`` is why a curve could not be fitted; ``at_bound`` the parameters at or
        near a bound of the fitter (their values are the fitter's limit, not the data's:
        read the curve's weight with care); ``notes`` the caveats of a fit that could (a
        parameter at or near a bound, approximate standard errors, a low-confidence reading
        that drives the fit)."""
        return self.ranking.copy()

    @property
    def summary(self) -> pd.DataFrame:
        """The ranking in short: ``curve, k, nobs, aicc, delta_aicc, akaike_weight,
        saturation, peak_time, t90, at_bound, error``."""
        return self.ranking[list(_SUMMARY_COLUMNS)].copy()

    def _fitted(self) -> list[str]:
        return [c for c in self.ranking["curve"] if c in self.fits]

    @property
    def params(self) -> pd.DataFrame:
        """The estimates of every fitted curve, best first: ``curve, term, estimate``."""
        rows = [
            (c, term, float(v)) for c in self._fitted() for term, v in self.fits[c].params.items()
        ]
        return pd.DataFrame(rows, columns=["curve", "term", "estimate"])

    def conf_int(self, alpha: float | None = None, method: str = "asymptotic") -> pd.DataFrame:
        """Parameter intervals of every fitted curve (see :meth:`ReachFit.conf_int`):
        ``curve, term, lower, upper``, in the order of :attr:`params`.

        Examples
        --------
        >>> import casekit as ck
        >>> cmp = ck.reach.compare(ck.load_case("synthetic-example"), ["logistic", "gompertz"],
        ...                        metric="video_views")
        >>> cmp.conf_int().columns.tolist()
        ['curve', 'term', 'lower', 'upper']
        """
        alpha = None if alpha is None else check_alpha(alpha)
        frames = []
        for c in self._fitted():
            ci = self.fits[c].conf_int(alpha, method=method)
            frames.append(
                pd.DataFrame(
                    {"curve": c, "term": ci.index, "lower": ci["lower"], "upper": ci["upper"]}
                )
            )
        if not frames:
            return pd.DataFrame(columns=["curve", "term", "lower", "upper"])
        return pd.concat(frames, ignore_index=True)

    @property
    def settings(self) -> dict[str, Any]:
        """The call's choices: case, metric, curves, loss and the other fitting options."""
        opts = dict(self.options)
        if opts.get("n_starts", 0) is None:
            opts["n_starts"] = "4 per curve (10 for curves with more than 4 parameters)"
        if opts.get("f_scale", 0) is None:
            if self.loss.startswith("robust"):
                opts["f_scale"] = (
                    "1.345 robust standard deviations of each curve's least-squares residuals"
                )
            else:
                opts.pop("f_scale")
        return {
            "case": self.case_id,
            "metric": self.metric,
            "curves": ", ".join(self.ranking["curve"]),
            "loss": self.loss,
            **opts,
            "ranked by": "AICc (small-sample Akaike criterion); Akaike weights over the "
            "fitted curves",
        }

    @property
    def best(self) -> ReachFit:
        """The fit with the lowest AICc.

        Raises FitError if no curve could be fitted, or if none has a finite AICc (every
        fitted curve has n <= k + 2 observations for its k parameters, so AICc cannot rank
        them).
        """
        if not self.fits:
            raise FitError(
                "no curve could be fitted: "
                + "; ".join(f"{k}: {v}" for k, v in self.errors.items())
            )
        aicc = self.ranking["aicc"].to_numpy(dtype=float)
        if not np.any(aicc < np.inf):  # all NaN (failed) or +inf (too few observations)
            n = int(self.ranking["nobs"].max())
            raise FitError(
                f"no best curve: with {n} observations none of the fitted curves "
                f"({', '.join(self.fits)}) has a finite AICc, which needs more than k + 2 "
                f"observations for a curve with k parameters; add observations, or pick a "
                f"fit yourself from .fits"
            )
        return self.fits[self.ranking["curve"].iloc[0]]

    def __str__(self) -> str:
        return comparison_text(self)

    def plot(self, **kwargs):
        """Overlay of all fitted curves on the observations (see plots.compare_plot)."""
        from casekit.plots import compare_plot

        return compare_plot(self, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict: the ranking, the errors, each fit's own ``to_dict`` and, for
        readers, ``settings``, ``params``, ``table`` and the prose ``text``."""
        return {
            "type": type(self).__name__,
            "fields": {
                "ranking": encode(self.ranking),
                "errors": encode(dict(self.errors)),
                "case_id": self.case_id,
                "metric": self.metric,
                "loss": self.loss,
                "options": encode(dict(self.options)),
            },
            "fits": {name: f.to_dict() for name, f in self.fits.items()},
            "text": str(self),
            "settings": plain(self.settings),
            "params": plain(self.params),
            "table": plain(self.table),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Comparison:
        """Rebuild the comparison from :meth:`to_dict` output (nothing is refitted)."""
        if d.get("type") != cls.__name__:
            raise ParameterError(f"this dict holds a {d.get('type')!r}, not a {cls.__name__}")
        f = d["fields"]
        fits = {name: ReachFit.from_dict(v) for name, v in d.get("fits", {}).items()}
        return cls(
            ranking=decode(f["ranking"]),
            fits=MappingProxyType(fits),
            errors=MappingProxyType(decode(f["errors"])),
            case_id=f["case_id"],
            metric=f["metric"],
            loss=f["loss"],
            options=decode(f.get("options", {})),
        )


def case_curves(case) -> list[str | CurveSpec]:
    """The curves a case's ``analysis`` block asks for (or :data:`DEFAULT_CURVES`).

    ``analysis.curves`` names registered curves; each entry of ``analysis.waves`` is the
    list of anchors of one :func:`multiwave` logistic curve (``null`` for a free wave, a
    date, days since the origin, or a timeline event kind).

    Examples
    --------
    >>> import casekit as ck
    >>> ck.reach.case_curves(ck.load_case("synthetic-example")) == list(ck.reach.DEFAULT_CURVES)
    True
    """
    analysis = getattr(case, "analysis", {}) or {}
    curves: list[str | CurveSpec] = list(analysis.get("curves") or DEFAULT_CURVES)
    for anchors in analysis.get("waves", ()):
        anchors = tuple(anchors)
        curves.append(
            multiwave(
                "logistic",
                len(anchors),
                anchors=None if all(a is None for a in anchors) else anchors,
                case=case,
            )
        )
    return curves


def _fit_counts_or_cumulative(prep, spec, counts: bool, opts: dict):
    """One curve of the comparison: per-period counts as the increments of the curve
    (their likelihood, so the AICc of every curve is on the same counts), else cumulative."""
    if not counts:
        return _fit_prepared(prep, spec, **opts)
    from casekit.reach.response_fit import fit_extended

    loss = None if opts["loss"] == "ols" else opts["loss"]  # "ols": the cumulative default
    return fit_extended(
        prep,
        spec,
        loss=loss,
        response=None,
        e="estimate",
        delta="estimate",
        start=opts["start"],
        alpha=opts["alpha"],
        n_starts=opts["n_starts"],
        seed=opts["seed"],
        f_scale=opts["f_scale"],
        fit_cumulative=None,
    )


def compare(data, curves: Iterable[str | CurveSpec] | None = None, **fit_kwargs) -> Comparison:
    """Fit several curves to one series and rank them by AICc.

    Curves that cannot be fitted appear at the bottom of the table with their error
    message instead of raising. The Akaike weights are computed over the fitted curves.

    Parameters
    ----------
    data
        As for :func:`fit`.
    curves : iterable of str or CurveSpec, optional
        Default: for a Case, :func:`case_curves` (its ``analysis`` block); otherwise
        :data:`DEFAULT_CURVES`.
    **fit_kwargs
        Passed to :func:`fit` (``metric``, ``loss``, ``weights``...). For a Case, ``metric``
        and ``loss`` default to its ``analysis`` block when that names them.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> import casekit as ck
    >>> cmp = ck.reach.compare(ck.load_case("synthetic-example"), metric="video_views")
    >>> cmp.table["curve"].tolist()[:2]
    ['logistic', 'richards']
    >>> round(float(cmp.table["akaike_weight"].sum()), 6)
    1.0
    """
    prep_keys = ("metric", "t", "kinds", "weights", "origin", "min_confidence")
    opts = dict(loss="ols", start=None, alpha=0.05, n_starts=None, seed=0, f_scale=None)
    unknown = set(fit_kwargs) - set(opts) - set(prep_keys)
    if unknown:
        raise ParameterError(
            f"unknown argument(s) for compare: {', '.join(sorted(unknown))}; "
            f"compare takes {', '.join(prep_keys + tuple(opts))}"
        )
    prep_kw = {k: fit_kwargs.pop(k) for k in prep_keys if k in fit_kwargs}
    prep = _prepare(data, **prep_kw)
    if _is_case(data):
        if curves is None:
            curves = case_curves(data)
        if fit_kwargs.get("loss") is None:
            fit_kwargs["loss"] = (getattr(data, "analysis", {}) or {}).get("loss", "ols")
    if curves is None:
        curves = DEFAULT_CURVES
    elif isinstance(curves, (str, CurveSpec)):
        curves = [curves]
    if fit_kwargs.get("loss") is None:
        fit_kwargs.pop("loss", None)
    opts.update(fit_kwargs)
    checked = {k: opts[k] for k in ("loss", "alpha", "n_starts", "seed", "f_scale")}
    if checked["loss"] in ("auto", "nb", "poisson"):  # count losses: checked by their fitter
        checked["loss"] = "ols"
    _check_options(**checked)
    specs = [_get_spec(c) for c in curves]
    fits, errors, rows = {}, {}, []
    counts = "period_days" in prep.obs
    for spec in specs:
        try:
            res = _fit_counts_or_cumulative(prep, spec, counts, opts)
        except (FitError, InsufficientDataError) as err:
            errors[spec.name] = str(err)
            rows.append(
                {
                    "curve": spec.name,
                    "k": spec.k,
                    "nobs": len(prep.obs),
                    "converged": False,
                    "error": str(err),
                }
            )
            continue
        fits[spec.name] = res
        try:
            # the table shows estimates only: skip the intervals (numerical gradients of
            # root-solved times, slow for multi-wave curves)
            t90 = float(res._share_fun(0.9)(*res.theta))
            pk = float(res.spec.peak_time(*res.theta))
        except (FitError, ValueError):
            t90 = pk = float("nan")
        rows.append(
            {
                "curve": spec.name,
                "k": spec.k,
                "nobs": res.nobs,
                "rss": res.rss,
                "loglik": res.loglik,
                "aicc": res.aicc,
                "saturation": res.saturation,
                "peak_time": pk,
                "t90": t90,
                "converged": res.converged,
                "at_bound": ", ".join(n for n, b in res.at_bound.items() if b) or None,
                "error": None,
                "notes": "; ".join(res.notes) if res.notes else None,
            }
        )
    tab = pd.DataFrame(rows, columns=[c for c in COMPARE_COLUMNS])
    a = tab["aicc"].to_numpy(dtype=float)
    finite = np.isfinite(a)
    if finite.any():
        d = a - np.min(a[finite])
        tab["delta_aicc"] = np.where(finite, d, np.nan)
        wts = np.where(finite, np.exp(-0.5 * np.where(finite, d, 0.0)), 0.0)
        tab["akaike_weight"] = np.where(finite, wts / wts.sum(), np.nan)
    tab["converged"] = tab["converged"].astype(bool)
    tab = tab.sort_values(["aicc"], na_position="last", kind="stable").reset_index(drop=True)
    for c in ("k", "nobs"):
        tab[c] = tab[c].astype(int)
    options = {
        "weights": prep.weights,
        "alpha": float(opts["alpha"]),
        "origin": prep.origin,
        "n_starts": opts["n_starts"],
        "seed": opts["seed"],
        "f_scale": opts["f_scale"],
    }
    if "kinds" in prep_kw:
        kinds = prep_kw["kinds"]
        options["kinds"] = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    if "min_confidence" in prep_kw:
        options["min_confidence"] = prep_kw["min_confidence"]
    return Comparison(
        ranking=tab,
        fits=MappingProxyType(fits),
        errors=MappingProxyType(errors),
        case_id=prep.case_id,
        metric=prep.metric,
        loss=opts["loss"],
        options=options,
    )
