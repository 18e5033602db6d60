"""Regenerate the synthetic example case (``synthetic-example``).

The data are made up on purpose: a logistic curve with known parameters plus
noise, so tests and doctests can check that casekit recovers what went in.
Run ``python casekit/examples/make_synthetic.py`` to rewrite the CSVs; the
output is deterministic (fixed seed).

True curve of ``video_views`` (t in days since going public, 2024-03-04):
    K = 120000, r = 0.9 per day, t0 = 3.0 days
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

K, R, T0 = 120_000.0, 0.9, 3.0
SEED = 20240304
HERE = Path(__file__).resolve().parent / "synthetic-example"
ORIGIN = np.datetime64("2024-03-04T00:00")


def logistic(t):
    return K / (1.0 + np.exp(-R * (t - T0)))


def main() -> None:
    rng = np.random.default_rng(SEED)
    rows = []
    # A counter read at irregular times: exact readings, multiplicative noise of 2 %.
    t_counter = np.sort(rng.uniform(0.25, 21.0, size=24))
    noisy = logistic(t_counter) * np.exp(rng.normal(0.0, 0.02, size=t_counter.size))
    noisy = np.maximum.accumulate(np.round(noisy))  # a counter never runs backwards
    for t, v in zip(t_counter, noisy):
        stamp = ORIGIN + np.timedelta64(int(round(t * 24 * 60)), "m")
        rows.append(
            [
                str(stamp)[:16],
                "hour",
                "",
                "video_views",
                f"{v:.0f}",
                "views",
                "true",
                "exact",
                "observed",
                "",
                "synthetic-counter",
                f"counter read {str(stamp)[:16]}: {v:.0f}",
                "high",
                "",
            ]
        )
    # A press source that rounds, disagrees a little, and is daily.
    for day in (1, 2, 5, 9):
        v = float(np.round(logistic(day) * 1.08, -3))
        rows.append(
            [
                str(ORIGIN + np.timedelta64(day, "D"))[:10],
                "day",
                "",
                "video_views",
                f"{v:.0f}",
                "views",
                "true",
                "about",
                "reported",
                "",
                "synthetic-press",
                f"about {v:,.0f} views",
                "medium",
                "rounded press figure, about 8 % above the counter",
            ]
        )
    # Daily forum posts (per-day counts, not cumulative): the curve's derivative, Poisson noise.
    for day in range(-6, 15):
        lam = 5.0 + 0.004 * (logistic(day + 1) - logistic(day))
        n = int(rng.poisson(lam))
        rows.append(
            [
                str(ORIGIN + np.timedelta64(day, "D"))[:10],
                "day",
                "",
                "forum_posts",
                str(n),
                "posts",
                "false",
                "exact",
                "observed",
                "",
                "synthetic-counter",
                f"{n} posts that day",
                "high",
                "",
            ]
        )
    header = [
        "time",
        "time_precision",
        "time_end",
        "metric",
        "value",
        "unit",
        "cumulative",
        "qualifier",
        "kind",
        "method",
        "source",
        "quote",
        "confidence",
        "note",
    ]
    with open(HERE / "reach.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


if __name__ == "__main__":
    main()
