"""Shared pieces of :mod:`casekit.response`: argument checks, and what a reach fit
knows about the case it came from (its :class:`~casekit.cases.CaseContext`)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.cases import Case, CaseContext
from casekit.exceptions import FitError, InsufficientDataError, ParameterError

DAY = pd.Timedelta(days=1)

DEFAULT_CPM = (2.0, 5.0, 10.0)
"""Default value per 1,000 negative impressions (low, central, high), in the case currency.

A placeholder range of the order of paid display / social advertising prices, **not a
sourced figure** (methods.md gives none): it values a negative impression at what an
advertiser pays to buy one. Always pass your own ``cpm`` for a real analysis."""


# --------------------------------------------------------------------------- checks


def check_number(
    value: Any, name: str, *, low: float | None = None, allow_inf: bool = False
) -> float:
    """``value`` as a float, or ParameterError for a bool, a non-number, NaN or a value
    below ``low`` (infinity only when ``allow_inf``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ParameterError(f"{name} must be a number, not {value!r}")
    v = float(value)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ParameterError(f"{name} must be a finite number, not {v}")
    if low is not None and v < low:
        raise ParameterError(f"{name} must be >= {fmt.number(low)}, not {fmt.number(v)}")
    return v


def check_effectiveness(e: Any, name: str = "effectiveness") -> float:
    """The effectiveness e as a float in [0, 1], or ParameterError."""
    if isinstance(e, (bool, np.bool_)) or not isinstance(e, numbers.Real) or not 0 <= e <= 1:
        raise ParameterError(
            f"{name} must be a number between 0 and 1, not {e!r} "
            "(0 = the response changes nothing, 1 = it stops all further growth)"
        )
    return float(e)


def check_count(n: Any, name: str, minimum: int = 0) -> int:
    """A whole number >= ``minimum``, or ParameterError."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < minimum:
        raise ParameterError(f"{name} must be a whole number >= {minimum}, not {n!r}")
    return int(n)


def check_cpm(cpm: Sequence[float]) -> tuple[float, float, float]:
    """(low, central, high) value per 1,000 impressions, or ParameterError."""
    try:
        lo, mid, hi = (float(x) for x in cpm)
    except (TypeError, ValueError) as err:
        raise ParameterError("cpm must be (low, central, high) per 1,000 impressions") from err
    if not 0 <= lo <= mid <= hi or math.isinf(hi):
        raise ParameterError(f"cpm must satisfy 0 <= low <= central <= high, got {cpm!r}")
    return lo, mid, hi


def check_case(case: Any, function: str) -> Case:
    if not isinstance(case, Case):
        raise ParameterError(
            f"{function} needs a Case (casekit.load_case), not a {type(case).__name__}"
        )
    return case


# --------------------------------------------------------------------------- fits


def reach_module():
    """casekit.reach, imported on first use (it loads scipy)."""
    import casekit.reach as reach

    return reach


def fit_context(fit: Any) -> CaseContext | None:
    """The case context a fit carries (None for a fit of plain data)."""
    ctx = getattr(fit, "context", None)
    return ctx if isinstance(ctx, CaseContext) else None


def fit_case_id(fit: Any) -> str | None:
    ctx = fit_context(fit)
    if ctx is not None:
        return ctx.id
    cid = getattr(fit, "case_id", None)
    return cid if isinstance(cid, str) else None


def case_words(case_id: str | None) -> str:
    """``case 'x'`` or, for a fit of plain data, words that say so."""
    return f"case {case_id!r}" if case_id else "no case (a fit of plain data)"


def resolve_fit(fit_or_case: Any, *, curve: str = "logistic", metric: str | None = None):
    """A ReachFit from a fit or a case; a case that cannot be fitted raises plainly."""
    if isinstance(fit_or_case, Case):
        case = fit_or_case
        kw: dict[str, Any] = {"curve": curve}
        if metric is not None:
            kw["metric"] = metric
        try:
            return reach_module().fit(case, **kw)
        except FitError as err:
            raise InsufficientDataError(
                f"case {case.id!r} has no reach series a growth curve can be fitted to, so no "
                f"delay-cost curve can be computed ({type(err).__name__}: {err}). The delay-cost "
                "and reach-while-waiting analyses need a time-stamped cumulative reach series "
                "of the story itself (views, posts, supporters), not outlet-level readership."
            ) from err
    if not all(hasattr(fit_or_case, a) for a in ("params", "curve", "data")):
        raise ParameterError(
            "expected a reach fit (casekit.reach.fit) or a Case, not a "
            f"{type(fit_or_case).__name__}"
        )
    return fit_or_case


def response_time(
    fit: Any, response: Any = None, *, context: CaseContext | None = None
) -> tuple[float | None, str]:
    """Days from the fit's origin to the response, and where that came from.

    With ``response=None`` the date is the ``first_response`` key date of the case the
    fit carries in ``fit.context`` (or of ``context``, when the fit carries none);
    nothing is read from disk. A fit of plain data has no known response time unless
    one is given.
    """
    ctx = fit_context(fit) or context
    origin = getattr(fit, "origin", None)
    if origin is None and ctx is not None:
        origin = ctx.origin
    if response is None:
        if ctx is None:
            return None, (
                "the response time is unknown: the fit carries no case (it was "
                "fitted to plain data) and no response was given"
            )
        kd = ctx.key_dates.get("first_response")
        if kd is None:
            return None, f"first_response of case {ctx.id!r} is unknown"
        if origin is None:
            return None, f"the origin ({ctx.origin_key}) of case {ctx.id!r} is unknown"
        note = f"first_response key date {fmt.date(kd.date)} ({kd.precision})"
        if kd.precision == "range" and kd.date_end is not None:
            note += f"; the range runs to {fmt.date(kd.date_end)}, its start is used"
        return float((kd.date - pd.Timestamp(origin)) / DAY), note
    if isinstance(response, (bool, np.bool_)):
        raise ParameterError(f"response must be a date or days since the origin, not {response!r}")
    if isinstance(response, numbers.Real):
        t = check_number(response, "response (days since the origin)")
        return t, f"response given as {fmt.number(t)} days after the origin"
    try:
        ts = pd.Timestamp(response)
    except (TypeError, ValueError) as err:
        raise ParameterError(
            f"response must be a date or days since the origin, not {response!r}"
        ) from err
    if ts is pd.NaT:
        raise ParameterError("response is not a date (NaT)")
    if origin is None:
        raise ParameterError("the fit has no origin; give the response in days since origin")
    return float((ts - pd.Timestamp(origin)) / DAY), f"response given as {fmt.date(ts)}"


def band(x: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """(1 - alpha) percentile band over the draws (axis 0)."""
    lo, hi = np.nanquantile(x, [alpha / 2, 1 - alpha / 2], axis=0)
    return lo, hi


# --------------------------------------------------------------------------- text


def with_band(estimate: Any, lower: Any, upper: Any) -> str:
    """An estimate with its band, or the estimate alone when there is no band."""
    if fmt.is_missing(lower) or fmt.is_missing(upper):
        return fmt.compact(estimate)
    return fmt.interval(estimate, lower, upper, digits=3)


def settings_block(settings: Mapping[str, Any]) -> str:
    """The closing ``Settings:`` block of a result's prose."""
    return "Settings:\n" + fmt.settings_text(settings)


class StoredResult:
    """Mixin for a response result whose table and settings are stored as the fields ``_table`` and
    ``_settings``: hands out copies, and keeps ``assumptions`` as the old name of
    ``settings``."""

    @property
    def table(self) -> pd.DataFrame:
        return self._table.copy()  # type: ignore[attr-defined]

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self._settings)  # type: ignore[attr-defined]

    @property
    def assumptions(self) -> dict[str, Any]:
        """Deprecated name of :attr:`settings`."""
        return self.settings
