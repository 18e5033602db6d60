"""Ingest 10 M events from Parquet into a daily series, against a bare DuckDB query (#10).

Target: ``casekit.events.load(...).counts("1D")`` in at most 2x the time of a bare DuckDB
query doing the same, with peak memory under 1 GB.

The script writes a 10 M-row Parquet file with DuckDB into a temporary folder (nothing is
committed), then runs each variant in a fresh child process, alternating, and reads the
child's peak RSS from ``os.wait4``. Timings are taken inside the child and exclude imports.
Variants:

- ``bare``: ``SELECT day, count(*) ... GROUP BY day`` on the file, fetched to Python;
- ``casekit``: ``load(path, time="t", tz="UTC").counts("1D")`` (every row checked, content
  hashed, no duplicate check: no id column given);
- ``casekit+id``: the same with ``id="id"``, which also finds and drops duplicate ids;
- ``bare+id``: the bare query de-duplicating by id the same way, for comparison.

Run ``python benchmarks/bench_events_ingest.py [--rows 10000000] [--rounds 5] [--write]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = {
    "bare": """
        import duckdb
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        t0 = time.perf_counter()
        rows = con.execute(
            "SELECT date_trunc('day', t) AS d, count(*) FROM read_parquet(?) GROUP BY d ORDER BY d",
            [PATH],
        ).fetchall()
        elapsed = time.perf_counter() - t0
        n = sum(r[1] for r in rows)
    """,
    "bare+id": """
        import duckdb
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        t0 = time.perf_counter()
        rows = con.execute(
            "SELECT date_trunc('day', t) AS d, count(*) FROM "
            "(SELECT id, min(t) AS t FROM read_parquet(?) GROUP BY id) GROUP BY d ORDER BY d",
            [PATH],
        ).fetchall()
        elapsed = time.perf_counter() - t0
        n = sum(r[1] for r in rows)
    """,
    "casekit": """
        import casekit.events as ev
        t0 = time.perf_counter()
        daily = ev.load(PATH, time="t", tz="UTC").counts("1D")
        elapsed = time.perf_counter() - t0
        n = int(daily["count"].sum())
    """,
    "casekit+id": """
        import casekit.events as ev
        t0 = time.perf_counter()
        log = ev.load(PATH, time="t", id="id", tz="UTC")
        daily = log.counts("1D")
        elapsed = time.perf_counter() - t0
        n = int(daily["count"].sum())
    """,
}


def run_child(variant: str, path: Path) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, events counted) of one variant in a fresh process."""
    code = "import time\nPATH = " + repr(str(path)) + "\n" + textwrap.dedent(CHILD[variant])
    code += "\nprint(elapsed, n)\n"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read()
    proc.stdout.close()
    if status != 0:
        raise SystemExit(f"{variant} failed (status {status})")
    elapsed, n = out.strip().splitlines()[-1].split()
    return float(elapsed), usage.ru_maxrss / 1024, int(n)


def make_parquet(path: Path, rows: int) -> None:
    """``rows`` events over 30 days, unsorted, 1 % duplicate ids, written by DuckDB."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        f"""COPY (
            SELECT TIMESTAMPTZ '2024-03-04 00:00:00+00'
                   + to_microseconds(CAST(random() * 30 * 86400e6 AS BIGINT)) AS t,
                   CASE WHEN range % 100 = 0 THEN range + 1 ELSE range END AS id
            FROM range({rows})
        ) TO '{path}' (FORMAT parquet)"""
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--write", action="store_true", help="write results_events.md")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.parquet"
        make_parquet(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        results: dict[str, list[tuple[float, float, int]]] = {v: [] for v in CHILD}
        for r in range(args.rounds):
            for v in CHILD:
                results[v].append(run_child(v, path))
                s, mb, _ = results[v][-1]
                print(f"round {r + 1} {v:11s} {s:6.3f} s {mb:7.0f} MB", flush=True)
    med = {v: statistics.median(x[0] for x in res) for v, res in results.items()}
    peak = {v: max(x[1] for x in res) for v, res in results.items()}
    counts = {v: {x[2] for x in res} for v, res in results.items()}
    lines = [
        f"# events ingest: {args.rows:,} events from one Parquet file ({size_mb:.0f} MB)",
        "",
        f"{args.rounds} rounds, variants alternating, each in a fresh process; time excludes "
        "imports; peak RSS of the child process (includes the interpreter and imports).",
        "",
        "| variant | median time | peak RSS | events counted |",
        "|---|---|---|---|",
    ]
    for v in CHILD:
        lines.append(
            f"| {v} | {med[v]:.3f} s | {peak[v]:.0f} MB | {', '.join(map(str, counts[v]))} |"
        )
    lines += [
        "",
        f"ratio casekit / bare: **{med['casekit'] / med['bare']:.2f}** (target <= 2)",
        f"ratio casekit+id / bare+id: **{med['casekit+id'] / med['bare+id']:.2f}**",
        f"ratio casekit+id / bare: {med['casekit+id'] / med['bare']:.2f}",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()}, "
        f"Python {platform.python_version()}, duckdb {_version('duckdb')}, "
        f"pandas {_version('pandas')}.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        (HERE / "results_events.md").write_text(text)


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    main()
