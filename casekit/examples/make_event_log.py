"""Regenerate the synthetic example event log (``synthetic-example/events/``).

SYNTHETIC DATA, made up on purpose: a Hawkes process with an exponential kernel and a
known intervention, so tests can check that :mod:`casekit.events` recovers what went
in. Run ``python casekit/examples/make_event_log.py``; the output is deterministic
(fixed seed).

The process (t in days since 2024-03-04 00:00 Europe/London, the case's origin):

    λ(t) = μ + (1 − e·[t ≥ t_r]) · Σ_{t_i < t} n* β exp(−β (t − t_i)),  0 ≤ t < T

with μ = 60 events per day, branching ratio n* = 0.85, decay β = 3 per day, the
company's response at t_r = 4.5 days (2024-03-08 12:00, the case's first_response day)
cutting the branching ratio by e = 0.6, and T = 14 days. It is simulated through its
cluster form: background events are Poisson; each event has Poisson(n*) children
after Exp(β) delays, and a child born after t_r survives with probability 1 − e.
``parent`` is the id of the event a child answers (empty for background events).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

MU, BRANCHING, BETA, T_RESPONSE, EFFECT, HORIZON = 60.0, 0.85, 3.0, 4.5, 0.6, 14.0
SEED = 20240308
ORIGIN_UTC = np.datetime64("2024-03-04T00:00:00")  # Europe/London is UTC+0 in March
OUT = Path(__file__).resolve().parent / "synthetic-example" / "events"
AUTHORS = 400


def simulate(rng: np.random.Generator) -> list[tuple[float, int]]:
    """(time in days, parent index or -1) of every event, in order of birth."""
    n0 = rng.poisson(MU * HORIZON)
    events = [(float(t), -1) for t in np.sort(rng.uniform(0.0, HORIZON, n0))]
    i = 0
    while i < len(events):
        t_parent = events[i][0]
        for delay in rng.exponential(1.0 / BETA, rng.poisson(BRANCHING)):
            t = t_parent + delay
            if t >= HORIZON or (t >= T_RESPONSE and rng.random() < EFFECT):
                continue
            events.append((t, i))
        i += 1
    return events


def main() -> None:
    rng = np.random.default_rng(SEED)
    events = simulate(rng)
    order = np.argsort([t for t, _ in events], kind="stable")
    new_id = {int(old): k + 1 for k, old in enumerate(order)}
    authors = rng.integers(1, AUTHORS + 1, size=len(events))
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "synthetic-events.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "time", "author", "parent", "synthetic"])
        for k, old in enumerate(order):
            t, parent = events[old]
            stamp = ORIGIN_UTC + np.timedelta64(int(round(t * 86_400_000)), "ms")
            w.writerow(
                [
                    f"p{k + 1}",
                    str(stamp)[:23] + "Z",
                    f"user{authors[k]}",
                    f"p{new_id[parent]}" if parent >= 0 else "",
                    "true",
                ]
            )
    print(f"{len(events)} events -> {OUT / 'synthetic-events.csv'}")


if __name__ == "__main__":
    main()
