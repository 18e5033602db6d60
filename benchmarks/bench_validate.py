"""Benchmark of case validation on a 5 MB reach.csv (about 46k rows).

Target (issue #12): validating a case whose reach.csv is 5 MB takes under 2 s. Plain script,
no pytest:

    python benchmarks/bench_validate.py            # prints a table, writes results_validate.md
    python benchmarks/bench_validate.py --no-write # prints only

The case is a copy of the synthetic example with a generated reach.csv just under the 5 MB
limit: cumulative counters from three sources and two metrics, rising, so every row passes and
every check runs (the never-falls check on all of them). Timed against floors measured in the
same run on the same file: ``csv.reader`` over the text (reading the rows and nothing else) and
``pandas.read_csv`` (parsing with dates and numbers). Each is timed with ``time.perf_counter``
over ``--repeats`` rounds after one warm-up; the variants alternate within a round so that load
on the shared machine hits them alike. The median, minimum and maximum are reported, and the
ratio of validation's median to each floor's.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pandas as pd  # noqa: E402

import casekit as ck  # noqa: E402
from casekit.cases import MAX_FILE_BYTES, REACH_COLUMNS  # noqa: E402
from casekit.cases.folder import _read_folder  # noqa: E402

TARGET_S = 2.0
TARGET_BYTES = 4_990_000  # the file: 4.99 MB, 46.5k rows


def make_case(folder: Path, target_bytes: int = TARGET_BYTES) -> Path:
    """A copy of the synthetic example whose reach.csv is ``target_bytes`` long (about)."""
    src = Path(ck.__file__).resolve().parent / "examples" / "synthetic-example"
    case = folder / "synthetic-example"
    shutil.copytree(src, case)
    lines = [",".join(REACH_COLUMNS)]
    size = len(lines[0]) + 1
    streams = [
        ("video_views", "views", "synthetic-counter"),
        ("video_views", "views", "synthetic-press"),
        ("forum_posts", "posts", "synthetic-counter"),
    ]
    values = [10_000] * len(streams)
    t0 = pd.Timestamp("2024-03-04T10:00")
    i = 0
    while size < target_bytes:
        k = i % len(streams)
        metric, unit, source = streams[k]
        values[k] += 7 + (i * 7919) % 113
        when = (t0 + pd.Timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M")
        row = (
            f"{when},hour,,{metric},{values[k]},{unit},true,exact,observed,,{source},"
            f"counter read {values[k]},high,"
        )
        size += len(row) + 1
        lines.append(row)
        i += 1
    text = "\n".join(lines) + "\n"
    if len(text.encode()) > MAX_FILE_BYTES:
        raise SystemExit("generated file is over the 5 MB limit; lower --bytes")
    (case / "reach.csv").write_text(text, encoding="utf-8")
    return case


def _machine() -> str:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        return "\n".join(lscpu.splitlines()[:15])
    except OSError:
        return "(lscpu not available)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--bytes", type=int, default=TARGET_BYTES)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        case = make_case(Path(tmp), args.bytes)
        reach = case / "reach.csv"
        n_bytes = reach.stat().st_size
        n_rows = sum(1 for _ in reach.open(encoding="utf-8")) - 1

        def validate():
            case_obj, problems = _read_folder(case)
            assert case_obj is not None and not problems, problems[:3]

        def csv_floor():
            text = reach.read_bytes().decode("utf-8")
            return sum(1 for _ in csv.reader(io.StringIO(text, newline="")))

        def pandas_floor():
            df = pd.read_csv(reach, dtype={"value": float}, keep_default_na=False)
            df["time"] = pd.to_datetime(df["time"], format="%Y-%m-%dT%H:%M")
            return df

        variants = {
            "validate (casekit.validate's work: all four files)": validate,
            "floor: csv.reader over reach.csv": csv_floor,
            "floor: pandas.read_csv of reach.csv, times parsed": pandas_floor,
        }
        for fn in variants.values():
            fn()  # warm-up
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.repeats):
            for name, fn in variants.items():
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)

    med = {name: statistics.median(ts) for name, ts in times.items()}
    names = list(variants)
    ratio_csv = med[names[0]] / med[names[1]]
    ratio_pd = med[names[0]] / med[names[2]]
    ok = med[names[0]] < TARGET_S
    print(f"reach.csv: {n_bytes / 1e6:.2f} MB, {n_rows:,} rows")
    for name, ts in times.items():
        print(
            f"{name:<55} median {med[name] * 1000:8.1f} ms  "
            f"(min {min(ts) * 1000:.1f}, max {max(ts) * 1000:.1f})"
        )
    print(f"ratio validate / csv.reader: {ratio_csv:.2f}; validate / pandas: {ratio_pd:.2f}")
    print(f"target: under {TARGET_S:g} s: {'met' if ok else 'NOT MET'}")

    if not args.no_write:
        import numpy as np

        versions = (
            f"Python {platform.python_version()}, numpy {np.__version__}, pandas "
            f"{pd.__version__}, casekit {ck.__version__}"
        )
        md = [
            "# casekit.cases validation benchmark",
            "",
            "Run: `python benchmarks/bench_validate.py` on "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
            f"A copy of the synthetic example whose reach.csv is {n_bytes / 1e6:.2f} MB "
            f"({n_rows:,} rows, cumulative counters from two sources, all valid). Median wall "
            f"time over {args.repeats} alternating rounds after one warm-up "
            "(`time.perf_counter`). Target from the issue: under 2 s.",
            "",
            "| variant | median (ms) | min (ms) | max (ms) |",
            "|---|---|---|---|",
        ]
        for name, ts in times.items():
            md.append(
                f"| {name} | {med[name] * 1000:.1f} | {min(ts) * 1000:.1f} | {max(ts) * 1000:.1f} |"
            )
        md += [
            "",
            f"Ratio of medians, validation / csv.reader: **{ratio_csv:.2f}**; "
            f"validation / pandas.read_csv: **{ratio_pd:.2f}**. "
            f"Target under {TARGET_S:g} s: {'met' if ok else 'NOT met'}.",
            "",
            "## Machine",
            "",
            f"nproc: {os.cpu_count()}",
            "",
            "```",
            _machine(),
            "```",
            "",
            "## Versions",
            "",
            versions,
            "",
        ]
        (HERE / "results_validate.md").write_text("\n".join(md), encoding="utf-8")
        print(f"wrote {HERE / 'results_validate.md'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
