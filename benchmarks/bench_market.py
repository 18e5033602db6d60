"""Time casekit.market on the reference price files (../shared/research/prices; not copied).

Usage: python benchmarks/bench_market.py [PRICES_DIR]
Prints median / min wall time over repeated runs (imports excluded) for the single-firm UAL study
(9 files: UAL, GSPC, 6 peers; market + peer benchmarks), its parts, and a pooled 2-event study.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import casekit as ck
from casekit.market import case_event_study, event_study, load_prices

REPO_ROOT = Path(__file__).resolve().parents[1]
PRICES = (
    Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT.parent / "shared" / "research" / "prices"
)
PEERS = ("DAL", "LUV", "JBLU", "ALK", "AAL", "SKYW")


def timeit(fn, repeat=50):
    fn()  # warm-up (file cache, lazy imports)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, min(times) * 1e3


def main() -> None:
    if not (PRICES / "UAL_2009_yahoo.csv").is_file():
        sys.exit(f"reference prices not found at {PRICES}")
    case = ck.load_case("united-breaks-guitars")
    claim = case.claims.iloc[0]
    ual = {"ticker": "UAL", "event_date": "2009-07-06", "market": "GSPC", "peers": PEERS}
    study = case_event_study(case, PRICES)
    cases = {
        "load_prices (8 files, validated)": lambda: load_prices(PRICES, ["UAL", "GSPC", *PEERS]),
        "event_study UAL 2009-07-06, market+peers": lambda: event_study(PRICES, **ual),
        "  same, with shares_outstanding": lambda: event_study(
            PRICES, **ual, shares_outstanding=167_040_862
        ),
        "  same, + market_adjusted": lambda: event_study(
            PRICES, **ual, benchmarks=("market", "peers", "market_adjusted")
        ),
        "case_event_study (shares, news from the case)": lambda: case_event_study(case, PRICES),
        "event_study 2 events (UAL 07-06, 07-22) pooled": lambda: event_study(
            PRICES,
            events=[("UAL", "2009-07-06"), ("UAL", "2009-07-22")],
            market="GSPC",
            peers=PEERS,
        ),
        "verdict(claim) on a finished study": lambda: study.verdict(claim),
        "plot() on a finished study": lambda: study.plot(),
        "to_dict() on a finished study": lambda: study.to_dict(),
    }
    print(f"{'what':50s} {'median ms':>10s} {'min ms':>8s}")
    for name, fn in cases.items():
        med, best = timeit(fn)
        print(f"{name:50s} {med:10.1f} {best:8.1f}")


if __name__ == "__main__":
    main()
