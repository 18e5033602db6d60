"""Write the two fixed data sets that tests/reference/nls_reference.R fits.

Run once (``python tests/reference/make_reference_data.py``); the CSVs are committed.

* ``growth_a.csv``: the synthetic-example case's ``video_views`` (24 counter readings and
  4 rounded press figures; logistic truth K=120000, r=0.9, t0=3), with the default
  confidence weights (high 1, medium 0.5).
* ``growth_b.csv``: 40 points of a Richards curve (K=50000, r=0.35, t0=8, nu=0.5) at
  irregular times in [0.5, 35] days with 3 % multiplicative noise, seed 7.
"""

from pathlib import Path

import numpy as np

import casekit as ck

HERE = Path(__file__).resolve().parent


def main() -> None:
    case = ck.load_case("synthetic-example")
    s = case.series("video_views")
    w = s["confidence"].map(dict(ck.reach.CONFIDENCE_WEIGHTS))
    with open(HERE / "growth_a.csv", "w", encoding="utf-8") as fh:
        fh.write("t,y,w\n")
        for t, y, wt in zip(s["t"], s["value"], w):
            fh.write(f"{t:.10f},{y:.1f},{wt:g}\n")
    rng = np.random.default_rng(7)
    t = np.sort(rng.uniform(0.5, 35.0, size=40))
    K, r, t0, nu = 50000.0, 0.35, 8.0, 0.5
    y = K / (1 + np.exp(-r * (t - t0))) ** (1 / nu) * np.exp(rng.normal(0, 0.03, size=t.size))
    with open(HERE / "growth_b.csv", "w", encoding="utf-8") as fh:
        fh.write("t,y\n")
        for ti, yi in zip(t, y):
            fh.write(f"{ti:.10f},{yi:.6f}\n")


if __name__ == "__main__":
    main()
