"""The market model and the event-study test statistics.

MacKinlay's (1997) market model, fitted by ordinary least squares (statsmodels) on an
estimation window of daily returns, predicts each event-window return; the abnormal
return (AR) is the difference and the cumulative abnormal return (CAR) its sum over a
window.

* **The t statistic uses the prediction-error corrected variance** of the CAR
  (MacKinlay 1997; Campbell, Lo & MacKinlay 1997, ch. 4: ``V = s^2 [I + X* (X'X)^-1 X*']``
  summed over the window), in closed form
  ``var(CAR) = s^2 [L + L^2 / L1 + (S_m - L * mean_m)^2 / sum_est (R_m - mean_m)^2]``,
  where ``L`` is the window length, ``S_m`` the sum of the benchmark's returns in the
  window and ``L1`` the estimation length. Under normal errors ``CAR / se`` then has an
  exact Student t distribution with ``L1 - 2`` degrees of freedom, and the confidence
  interval uses it. The plain ``s^2 L`` is reported as ``se_plain``.
* **Patell Z** is the standardised-CAR form (Campbell, Lo & MacKinlay 1997, J2):
  ``SCAR_i = CAR_i / se_i``, ``Z = sum SCAR_i / sqrt(sum df_i / (df_i - 2))``. For a
  one-day window it is Patell's (1976) standardised AR; for one event it is the event's
  t statistic rescaled to unit variance.
* **BMP** (Boehmer, Musumeci & Poulsen 1991) is the cross-sectional t of the same
  ``SCAR_i``; it needs at least two events and is not applicable (NaN) for one.
* **Corrado rank test** (Corrado 1989; multi-day form of Campbell & Wasley 1993): ranks of
  each event's ARs over its estimation and event windows together (average ranks for
  ties), ``U_it = K_it - (T + 1) / 2``, ``S = sqrt(mean_t (mean_i U_it)^2)``, statistic
  ``sum_{t in window} mean_i U_it / (sqrt(L) S)``, compared with N(0, 1). It works for a
  single firm.

Examples
--------
A stock with beta 2 on a ten-day estimation window, 5 % up on a flat event day:

>>> import numpy as np, pandas as pd
>>> from casekit.market.statistics import fit_market_model
>>> x = np.array([0.01, -0.02, 0.015, 0.0, -0.01, 0.02, 0.005, -0.005, 0.012, -0.015])
>>> noise = np.array([1, -1, 1, -1, 1, -1, 1, -1, 1, -1]) * 1e-4
>>> days = pd.bdate_range("2024-01-01", periods=11)
>>> f = fit_market_model("ACME 2024-01-15", "ACME", "market", "index",
...                      0.001 + 2 * x + noise, x, days[:10],
...                      np.array([0.05]), np.array([0.0]), np.array([0.0]), days[10:], [0])
>>> round(f.beta, 2), round(float(f.ar[0]), 3)
(2.0, 0.049)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats
from statsmodels.regression.linear_model import OLS

from casekit.exceptions import PriceDataError
from casekit.results import register

__all__ = ["MarketFit", "fit_market_model", "patell", "bmp", "corrado"]


@dataclass(frozen=True, eq=False)
class MarketFit:
    """One event against one benchmark: the fitted model and everything the tests need.

    Dates are stored as ``datetime64[ns]`` arrays (``est_days``, ``evt_days``) so that a
    study can be written out and read back; ``est_dates`` and ``evt_dates`` give them as
    a :class:`pandas.DatetimeIndex`.
    """

    event: str
    ticker: str
    benchmark: str
    bench_label: str
    alpha: float
    beta: float
    s2: float
    df: int
    r2: float
    n_est: int
    xbar: float
    ssx: float
    est_days: np.ndarray
    est_ar: np.ndarray
    evt_days: np.ndarray
    rel_days: np.ndarray
    ret: np.ndarray
    bench_ret: np.ndarray
    market_ret: np.ndarray
    ar: np.ndarray

    @property
    def est_dates(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.est_days)

    @property
    def evt_dates(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.evt_days)

    @property
    def day_var(self) -> np.ndarray:
        """Prediction-error corrected variance of each event-window AR."""
        if self.benchmark == "market_adjusted":
            return np.full(len(self.ar), self.s2)
        return self.s2 * (1 + 1 / self.n_est + (self.bench_ret - self.xbar) ** 2 / self.ssx)

    def window(self, t1: int, t2: int) -> dict[str, float]:
        """CAR, its standard errors, t, p and the raw compound return over days t1..t2."""
        sel = (self.rel_days >= t1) & (self.rel_days <= t2)
        length = int(sel.sum())
        car = float(self.ar[sel].sum())
        var_plain = self.s2 * length
        if self.benchmark == "market_adjusted":
            var = var_plain
        else:
            s_m = float(self.bench_ret[sel].sum())
            var = self.s2 * (
                length + length**2 / self.n_est + (s_m - length * self.xbar) ** 2 / self.ssx
            )
        se = math.sqrt(var)
        t = car / se
        raw = float(np.prod(1 + self.ret[sel]) - 1)
        return {
            "length": length,
            "car": car,
            "se": se,
            "se_plain": math.sqrt(var_plain),
            "t": t,
            "df": self.df,
            "p": float(2 * special.stdtr(self.df, -abs(t))),
            "raw_return": raw,
        }

    def param_conf_int(self, alpha: float) -> np.ndarray:
        """``[[alpha_lo, alpha_hi], [beta_lo, beta_hi]]``: the OLS t intervals (closed form,
        equal to statsmodels' ``conf_int``); fixed at (0, 0) and (1, 1) when market-adjusted."""
        if self.benchmark == "market_adjusted":
            return np.array([[0.0, 0.0], [1.0, 1.0]])
        q = special.stdtrit(self.df, 1 - alpha / 2)
        se_b = math.sqrt(self.s2 / self.ssx)
        se_a = math.sqrt(self.s2 * (1 / self.n_est + self.xbar**2 / self.ssx))
        return np.array(
            [
                [self.alpha - q * se_a, self.alpha + q * se_a],
                [self.beta - q * se_b, self.beta + q * se_b],
            ]
        )


register(MarketFit)


def _ns(dates) -> np.ndarray:
    return np.asarray(pd.DatetimeIndex(dates).as_unit("ns").to_numpy(), dtype="datetime64[ns]")


def fit_market_model(
    event: str,
    ticker: str,
    benchmark: str,
    bench_label: str,
    y_est,
    x_est,
    est_dates,
    y_evt,
    x_evt,
    m_evt,
    evt_dates,
    rel_days,
) -> MarketFit:
    """Fit one event against one benchmark on its estimation window.

    ``benchmark == "market_adjusted"`` fixes alpha = 0 and beta = 1 (``df = n - 1``);
    otherwise OLS of ``y_est`` on ``x_est`` (``df = n - 2``).

    Raises
    ------
    PriceDataError
        The stock or benchmark returns are constant in the estimation window.
    """
    n = len(y_est)
    if benchmark == "market_adjusted":
        a, b = 0.0, 1.0
        resid = y_est - x_est
        df = n - 1
        s2 = float(np.var(resid, ddof=1))
        r2 = math.nan
    else:
        ols = OLS(y_est, np.column_stack([np.ones(n), x_est])).fit()
        a, b = (float(v) for v in ols.params)
        df = n - 2
        s2 = float(ols.ssr / df)
        r2 = float(ols.rsquared)
        resid = np.asarray(ols.resid)
    xbar = float(x_est.mean())
    ssx = float(((x_est - xbar) ** 2).sum())
    if ssx <= 0 or s2 <= 0:
        raise PriceDataError(
            f"{event}: the {bench_label} or {ticker} returns are constant in the "
            "estimation window; the market model cannot be fitted"
        )
    return MarketFit(
        event,
        ticker,
        benchmark,
        bench_label,
        a,
        b,
        s2,
        df,
        r2,
        n,
        xbar,
        ssx,
        _ns(est_dates),
        np.asarray(resid, dtype=float),
        _ns(evt_dates),
        np.asarray(rel_days, dtype=np.int64),
        np.asarray(y_evt, dtype=float),
        np.asarray(x_evt, dtype=float),
        np.asarray(m_evt, dtype=float),
        np.asarray(y_evt - (a + b * x_evt), dtype=float),
    )


def corrado(fits: Sequence[MarketFit], t1: int, t2: int) -> tuple[float, float]:
    """Corrado (1989) rank statistic and two-sided p over window t1..t2 for events sharing
    one time grid (the same estimation length and event window)."""
    u_rows = []
    for f in fits:
        series = np.concatenate([f.est_ar, f.ar])
        ranks = stats.rankdata(series)
        u_rows.append(ranks - (len(series) + 1) / 2)
    u_bar = np.mean(u_rows, axis=0)
    s_k = math.sqrt(float(np.mean(u_bar**2)))
    rel = np.concatenate([np.full(fits[0].n_est, np.iinfo(np.int64).min), fits[0].rel_days])
    sel = (rel >= t1) & (rel <= t2)
    z = float(u_bar[sel].sum() / (math.sqrt(sel.sum()) * s_k))
    return z, float(2 * special.ndtr(-abs(z)))


def patell(rows: Sequence[dict]) -> tuple[float, float]:
    """Patell Z and two-sided p from the rows of :meth:`MarketFit.window` (``t``, ``df``)."""
    num = sum(r["t"] for r in rows)
    den = math.sqrt(sum(r["df"] / (r["df"] - 2) for r in rows))
    z = num / den
    return z, float(2 * special.ndtr(-abs(z)))


def bmp(rows: Sequence[dict]) -> tuple[float, float]:
    """BMP cross-sectional t and two-sided p; NaN for fewer than two events."""
    scar = np.array([r["t"] for r in rows])
    n = len(scar)
    if n < 2:
        return math.nan, math.nan
    sd = float(scar.std(ddof=1))
    if sd == 0:
        return math.nan, math.nan
    t = float(scar.mean() / (sd / math.sqrt(n)))
    return t, float(2 * special.stdtr(n - 1, -abs(t)))
