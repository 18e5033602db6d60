"""Share-price event study: did the story move the stock?

MacKinlay's (1997) market model, fitted by ordinary least squares (statsmodels) on an
estimation window of daily returns, predicts each event-window return; the abnormal
return (AR) is the difference and the cumulative abnormal return (CAR) its sum over a
window. Every study runs against two benchmarks side by side: the market index and an
equal-weight index of peer stocks (optionally a market-adjusted model with alpha = 0 and
beta = 1 as a third check).

The parts:

* :mod:`~casekit.market.prices`: reading and checking Yahoo-style price files
  (:func:`find_price_file`, :func:`load_prices`);
* :mod:`~casekit.market.statistics`: the market model, the corrected CAR variance, the
  Patell, BMP and Corrado tests;
* :mod:`~casekit.market.study`: :func:`event_study` on price files and
  :func:`case_event_study` on a case (ticker, index, peers, event date and share count
  from the case folder);
* :mod:`~casekit.market.result`: the :class:`EventStudy` result;
* :mod:`~casekit.market.verdict`: the verdict on a claim (a row of ``case.claims``).

Conventions
-----------
* **Returns are simple returns** of the ``Adj Close`` column,
  ``R_t = P_t / P_{t-1} - 1``, so that a CAR times a market value is a change in money
  (to first order). The peer index return is the equal-weight mean of the peers' simple
  returns, rebalanced daily; the event's own ticker is never one of its peers.
* **Days are trading days** of the aligned price files. Day 0 is the event date or, if
  the market was closed that day, the next trading day (a note says so). The estimation
  window holds ``estimation_days`` returns and ends ``gap_days`` trading days before the
  event window starts.
* The t statistic uses the prediction-error corrected variance of the CAR; Patell Z, BMP
  (two or more events) and the Corrado rank test are reported beside it (see
  :mod:`~casekit.market.statistics`).
* With several events, rows ``event == "all (N=k)"`` of the CAR table hold the mean CAR
  (CAAR) with MacKinlay's J1 statistic (normal reference), the pooled Patell Z, BMP and
  the pooled Corrado statistic. Events overlapping in calendar time are not independent;
  a note flags such pairs.

Examples
--------
A tiny synthetic market: the stock has beta 1.5 and falls 8 % on the event day.

>>> import tempfile
>>> import numpy as np, pandas as pd
>>> from casekit.market import event_study
>>> folder = tempfile.mkdtemp()
>>> rng = np.random.default_rng(7)
>>> dates = pd.bdate_range("2024-01-02", periods=80)
>>> rm = rng.normal(0.0, 0.01, 80)
>>> rs = 0.0005 + 1.5 * rm + rng.normal(0.0, 0.004, 80)
>>> rs[70] -= 0.08                                   # the event: 2024-04-09
>>> for name, r, p0 in (("MKT", rm, 100.0), ("ACME", rs, 20.0)):
...     p = p0 * np.cumprod(1 + r)
...     pd.DataFrame({"Date": dates.strftime("%Y-%m-%d"), "Open": p, "High": p, "Low": p,
...                   "Close": p, "Adj Close": p, "Volume": 1000}).to_csv(
...         f"{folder}/{name}.csv", index=False)
>>> study = event_study(folder, ticker="ACME", event_date=dates[70], market="MKT",
...                     estimation_days=60, shares_outstanding=1e6)
>>> round(float(study.params.loc[("ACME 2024-04-09", "market"), "beta"]), 1)
1.5
>>> row = study.car("market", (0, 0))
>>> round(row["car"], 2), bool(row["p"] < 0.001)
(-0.08, True)
>>> study.verdict(price_change_pct=-8, window=(0, 0)).split(":")[0]
'The data are consistent with the claim'
>>> import shutil; shutil.rmtree(folder)

On a case, the case folder names the company's ticker, its index and peers (``analysis:
market:`` in case.yaml), the date the story went public, the shares outstanding (costs.csv)
and the claims made about the share price (``claims:``); the price files are not bundled:

>>> import casekit as ck
>>> case = ck.load_case("path/to/a/case")                        # doctest: +SKIP
>>> study = ck.market.case_event_study(case, "path/to/prices")    # doctest: +SKIP
>>> for _, claim in case.claims.iterrows():                       # doctest: +SKIP
...     print(study.verdict(claim))
"""

from casekit.market.prices import (
    MAX_GAP_DAYS,
    REQUIRED_COLUMNS,
    YAHOO_COLUMNS,
    find_price_file,
    load_prices,
)
from casekit.market.result import EventStudy
from casekit.market.study import (
    BENCHMARKS,
    MIN_ESTIMATION_DAYS,
    PRICE_FOR_CAP,
    case_event_study,
    event_study,
)

__all__ = [
    "BENCHMARKS",
    "MAX_GAP_DAYS",
    "MIN_ESTIMATION_DAYS",
    "PRICE_FOR_CAP",
    "REQUIRED_COLUMNS",
    "YAHOO_COLUMNS",
    "EventStudy",
    "case_event_study",
    "event_study",
    "find_price_file",
    "load_prices",
]
