from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import casekit as ck

# tests/notebooks holds notebooks the tests render, never import (one kills its process):
# keep --doctest-modules away from them
collect_ignore = ["notebooks"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC = Path(ck.__file__).resolve().parent / "examples" / "synthetic-example"
SEED_CASES = ("united-breaks-guitars", "range-rover-colchester", "werder-bremen-wiesenhof")
SHARED = REPO_ROOT.parent / "shared" / "research"


@pytest.fixture
def case_dir(tmp_path) -> Path:
    """A writable copy of the synthetic example case, named to match its id."""
    target = tmp_path / "synthetic-example"
    shutil.copytree(SYNTHETIC, target)
    return target


@pytest.fixture(scope="session")
def prices_dir() -> Path:
    """The reference 2009 price files in ../shared (read there, never copied into the repo).

    Tests on them are skipped where the folder is absent (a fresh clone); CI provides it.
    The event-study unit tests use :func:`synthetic_market` instead.
    """
    path = SHARED / "prices"
    if not (path / "UAL_2009_yahoo.csv").is_file():
        pytest.skip(
            f"reference price data not found at {path}: these tests need "
            "../shared/research/prices beside the repository (CI provides it)"
        )
    return path


# --- a synthetic market with known abnormal returns --------------------------------------------

SYNTHETIC_DAY0 = pd.Timestamp("2024-03-04")  # going_public of the synthetic example case
SYNTHETIC_AR = {0: 0.05, 2: -0.03}  # abnormal returns injected on these event days
SYNTHETIC_ALPHA, SYNTHETIC_BETA = 0.0004, 1.3
YAHOO_HEADER = "Date,Open,High,Low,Close,Adj Close,Volume\n"


def write_yahoo(folder: Path, name: str, dates, prices) -> Path:
    """A Yahoo-style CSV; prices written with repr() so they read back bit for bit."""
    lines = [f"{d:%Y-%m-%d},{p!r},{p!r},{p!r},{p!r},{p!r},1000" for d, p in zip(dates, prices)]
    path = folder / f"{name}_2024_yahoo.csv"
    path.write_text(YAHOO_HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _prices(returns, start: float) -> list[float]:
    return [float(v) for v in start * np.cumprod(np.r_[1.0, 1.0 + np.asarray(returns)])]


@pytest.fixture
def synthetic_market(tmp_path) -> SimpleNamespace:
    """Price files made here: an index MKT, two peers PA and PB whose equal-weight mean is
    the index, and a stock STK with alpha 0.0004 and beta 1.3 against either.

    In the 120-day estimation window before the default event window (-1, 5) the stock's
    noise is orthogonal to a constant and the index returns, so OLS recovers alpha and beta
    exactly and the residual variance is the noise's. In the event window there is no
    noise: the abnormal returns are exactly :data:`SYNTHETIC_AR` (+5 % on day 0, -3 % on
    day 2) and 0 on the other days. The index is flat on days 0 and 2, so the stock's own
    return on day 2 is alpha - 3 %. Day 0 is the synthetic example case's going_public date.
    """
    folder = tmp_path / "prices"
    folder.mkdir()
    dates = pd.bdate_range(end=SYNTHETIC_DAY0, periods=141).append(
        pd.bdate_range(start=SYNTHETIC_DAY0, periods=11)[1:]
    )
    rng = np.random.default_rng(20240304)
    n = len(dates) - 1  # returns; return i is from dates[i] to dates[i + 1]
    j0 = dates.get_loc(SYNTHETIC_DAY0) - 1
    m = rng.normal(0.0005, 0.006, n)
    m[[j0, j0 + 2]] = 0.0
    est = slice(j0 - 1 - 120, j0 - 1)
    raw = rng.normal(0.0, 0.004, 120)
    X = np.column_stack([np.ones(120), m[est]])
    noise = np.zeros(n)
    noise[est] = raw - X @ np.linalg.lstsq(X, raw, rcond=None)[0]
    injected = np.zeros(n)
    for day, ar in SYNTHETIC_AR.items():
        injected[j0 + day] = ar
    stock = SYNTHETIC_ALPHA + SYNTHETIC_BETA * m + noise + injected
    spread = rng.normal(0.0, 0.003, n)
    for name, r, p0 in (
        ("MKT", m, 100.0),
        ("STK", stock, 20.0),
        ("PA", m + spread, 30.0),
        ("PB", m - spread, 40.0),
    ):
        write_yahoo(folder, name, dates, _prices(r, p0))
    return SimpleNamespace(
        folder=folder,
        dates=dates,
        day0=SYNTHETIC_DAY0,
        j0=j0,
        est=est,
        market=m,
        noise=noise,
        stock=stock,
        ar=dict(SYNTHETIC_AR),
        alpha=SYNTHETIC_ALPHA,
        beta=SYNTHETIC_BETA,
        close=dict(zip(dates, _prices(stock, 20.0))),
    )
