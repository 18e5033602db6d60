"""Batch benchmark (#13): warm kernels, --jobs 2 against --jobs 1, a local Dask cluster.

Run from the repository root (takes several minutes):

    python benchmarks/bench_batch.py                   # writes benchmarks/results_batch.md
    python benchmarks/bench_batch.py --rounds 1 --out /tmp/results.md
    python benchmarks/bench_batch.py --variants jobs1,jobs2 --rounds 3 --out /tmp/r.md

One batch of ``case_report`` reports for one case, a grid of ``effectiveness`` x
``horizon`` (12 reports by default), measured four ways, side by side in one run:

(1) bare ``papermill.execute_notebook`` with ``shutdown_kernel="immediate"``, one report
    after another, with the same notebook and parameters (the floor of the fresh path);
(2) ``casekit.render.render_batch(..., kernel="warm", jobs=1)``;
(3) the same with ``jobs=2``;
(4) the same on a local Dask cluster of 2 worker processes with 1 thread each
    (``distributed.LocalCluster``, its workers started with the README's
    ``--preload casekit.render.cluster``, so they join warm; the cluster's start is not
    timed), and (5) the same without the preload: the workers' fork servers start when
    the batch reaches them, inside the timed batch.

Every casekit batch re-renders everything (``force=True``) in a new Python process that
has imported nothing yet and has no fork server, as a new ``casekit render`` would; its
time is that of ``render_batch`` in that process. Targets: (2) per report <= 0.5 x (1);
(2)/(3) >= 1.8 on 2 cores; (4) <= 1.15 x (3). The lead-in and tail of each batch (see
the results file) are its serial parts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _setup import compile_bytecode  # noqa: E402 - beside this script


def sh(cmd: str) -> str:
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout
    except Exception as err:  # pragma: no cover - informative only
        return f"({err})"


def _serial_phases(out: Path, began: float, ended: float) -> tuple[float, float]:
    """The parts of a batch no second job can shorten, from the reports' papermill times:
    from the batch's start to the first report's start (the checks and the fork server's
    imports), and from the last report's end to the batch's end (its files and the index)."""
    import datetime as dt

    starts, ends = [], []
    for ipynb in out.glob("*/*.ipynb"):
        meta = json.loads(ipynb.read_text(encoding="utf-8"))["metadata"]["papermill"]
        starts.append(dt.datetime.fromisoformat(meta["start_time"]).timestamp())
        ends.append(dt.datetime.fromisoformat(meta["end_time"]).timestamp())
    return min(starts) - began, ended - max(ends)


def _one_batch(job: dict) -> None:
    """Run one batch (``--one-batch``, in the process :func:`main` starts for it) and print
    its start and end (wall clock) as JSON. The process is set up as ``casekit render``'s
    own: the command's module imported, and its fork server allowed to be a fork of it."""
    import casekit.cli  # noqa: F401 - what the command has imported when it renders
    from casekit import render as R
    from casekit.render.grid import grid_specs
    from casekit.render.server_process import fork_start_allowed

    specs = grid_specs("case_report", [job["case"]], job["grid"])
    began = time.time()
    with fork_start_allowed() if job["fork_start"] else contextlib.nullcontext():
        res = R.render_batch(
            specs,
            jobs=job["jobs"],
            out_dir=job["out"],
            force=True,
            progress=False,
            kernel="warm",
            scheduler=job["scheduler"],
        )
    ended = time.time()
    bad = [r for r in res.results if not r.ok]
    if bad:
        raise SystemExit(f"a report failed: {bad[0].label}: {bad[0].error}")
    print(json.dumps({"began": began, "ended": ended}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=1, help="timed rounds of every variant")
    ap.add_argument("--case", default="synthetic-example")
    ap.add_argument("--effectiveness", default="0.2,0.35,0.5,0.65,0.8,0.95")
    ap.add_argument("--horizon", default="30,45")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results_batch.md"))
    ap.add_argument(
        "--variants",
        default="bare,jobs1,jobs2,dask2,dask2-plain",
        help="comma-separated, in the order run each round (a ratio needs both its variants)",
    )
    ap.add_argument("--one-batch", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one_batch:
        return _one_batch(json.loads(args.one_batch))
    bytecode_env = compile_bytecode()

    import jupytext
    import papermill as pm
    from distributed import LocalCluster

    from casekit import render as R
    from casekit.render.grid import grid_specs

    specs = grid_specs(
        "case_report",
        [args.case],
        {"effectiveness": args.effectiveness, "horizon": args.horizon},
    )
    n = len(specs)
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="casekit-bench-batch-"))
    nb_path = R.notebook_path("case_report")

    def bare():
        os.environ["PLOTLY_RENDERER"] = "plotly_mimetype"
        for s in specs:
            params = R.coerce_params("case_report", {**s.params, "case": args.case})
            pm.execute_notebook(
                jupytext.read(nb_path),
                str(work / "bare.ipynb"),
                parameters=params,
                progress_bar=False,
                kernel_name="python3",
                language="python",
                cwd=str(work),
                shutdown_kernel="immediate",
            )

    phases: dict[str, list[tuple[float, float]]] = {}

    def batch(
        jobs: int = 1, scheduler: str | None = None, name: str = "", fork_start: bool = True
    ) -> float:
        """One casekit batch in a new process, as a new ``casekit render`` would run it
        (no fork server yet; ``fork_start=False``: as ``render_batch`` called from a user's
        script, whose fork server is a new interpreter); returns the seconds of
        render_batch."""
        out = work / f"out-{jobs}-{bool(scheduler)}"
        job = {
            "case": args.case,
            "grid": {"effectiveness": args.effectiveness, "horizon": args.horizon},
            "jobs": jobs,
            "out": str(out),
            "scheduler": scheduler,
            "fork_start": fork_start,
        }
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        proc = subprocess.run(
            [sys.executable, __file__, "--one-batch", json.dumps(job)],
            capture_output=True,
            text=True,
            env=env,
        )
        if proc.returncode != 0:
            raise SystemExit(f"{name} failed:\n{proc.stdout}\n{proc.stderr}")
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        phases.setdefault(name, []).append(_serial_phases(out, res["began"], res["ended"]))
        return res["ended"] - res["began"]

    def dask2(preload: bool = True):
        # workers started as the README starts them (--preload casekit.render.cluster):
        # each joins with its fork server's imports done; the cluster's start is not timed
        with LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            preload=["casekit.render.cluster"] if preload else [],
        ) as cluster:
            name = "dask2" if preload else "dask2-plain"
            return batch(1, scheduler=cluster.scheduler_address, name=name)

    def timed(fn):
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t

    runs = {
        "bare": lambda: timed(bare),
        "jobs1": lambda: batch(1, name="jobs1"),
        "jobs2": lambda: batch(2, name="jobs2"),
        "jobs1-api": lambda: batch(1, name="jobs1-api", fork_start=False),
        "jobs2-api": lambda: batch(2, name="jobs2-api", fork_start=False),
        "dask2": dask2,
        "dask2-plain": lambda: dask2(preload=False),
    }
    chosen = [v for v in args.variants.split(",") if v]
    unknown = set(chosen) - set(runs)
    if unknown:
        raise SystemExit(
            f"unknown variant(s) {', '.join(sorted(unknown))}: choose from {list(runs)}"
        )
    times: dict[str, list[float]] = {k: [] for k in chosen}
    for i in range(args.rounds):
        # odd rounds in the order given, even rounds reversed: a machine that slows down
        # or speeds up over minutes favours no variant
        for name in chosen if i % 2 == 0 else chosen[::-1]:
            times[name].append(runs[name]())
            lead = f", lead-in {phases[name][-1][0]:.2f} s" if name in phases else ""
            print(
                f"round {i + 1}: {name} {times[name][-1]:.1f} s{lead} "
                f"(load {os.getloadavg()[0]:.2f})",
                file=sys.stderr,
            )
    load_after = os.getloadavg()
    med = {k: statistics.median(v) for k, v in times.items()}

    def ratio(a: str, b: str) -> float | None:
        return med[a] / med[b] if a in med and b in med else None

    r1, r2, r3 = ratio("jobs1", "bare"), ratio("jobs1", "jobs2"), ratio("dask2", "jobs2")
    r4 = ratio("dask2-plain", "jobs2")
    r5 = ratio("jobs1-api", "jobs2-api")

    def paired(a: str, b: str) -> str:
        """Each round's own ratio (the two batches ran one after the other), and their
        median."""
        if a not in times or b not in times:
            return "—"
        each = [x / y for x, y in zip(times[a], times[b], strict=True)]
        listed = " ".join(f"{r:.2f}" for r in each)
        return f"{listed} (median {statistics.median(each):.2f})"

    def verdict(value: float | None, target: str) -> str:
        """``value | target | status`` for the ratio table; ``target`` like ``>= 1.8``."""
        if value is None:
            return f"— | {target} | not measured"
        op, bound = target.split()
        ok = value <= float(bound) if op == "<=" else value >= float(bound)
        return f"**{value:.2f}** | {target} | {'met' if ok else 'not met'}"

    rows = "\n".join(
        f"| {k} | {med[k]:.1f} | {med[k] / n:.2f} | {' '.join(f'{x:.1f}' for x in v)} |"
        for k, v in times.items()
    )
    serial = "\n".join(
        f"| {k} | {statistics.median(a for a, _ in v):.2f} | "
        f"{statistics.median(b for _, b in v):.2f} |"
        for k, v in phases.items()
    )
    versions = {
        m: __import__(m).__version__
        for m in ("papermill", "nbclient", "ipykernel", "distributed", "pandas", "plotly")
    }
    text = f"""# Batch benchmark (#13)

Written by `python benchmarks/bench_batch.py` on {
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    }. One batch of {n} `case_report` reports for `{args.case}` (grid: effectiveness
{args.effectiveness} x horizon {args.horizon}), {args.rounds} round(s), medians; the variants
run in the order given in odd rounds and in reverse in even ones.

| variant | batch s | per report s | runs |
|---|---|---|---|
{rows}

| variant | lead-in s | tail s |
|---|---|---|
{serial}

Lead-in: from the batch's start to the first report's start (the checks, the fork
server's imports; for dask2 also connecting and the version check). Tail: from the last
report's end to the batch's end (its files, the index). Both are serial: a second job
cannot shorten them.

bare = papermill with `shutdown_kernel='immediate'`, one report after another; jobs1 /
jobs2 = `render_batch(kernel="warm", jobs=1 / 2)`; dask2 = the same batch on a local Dask
cluster of 2 worker processes (1 thread each), started as the README starts workers
(`--preload casekit.render.cluster`: each worker joins the cluster once its fork server
has done its imports; starting the cluster is not timed); dask2-plain = the same without
the preload, so each worker starts its fork server when the batch reaches it (timed).
jobs1 / jobs2 run in a process set up as `casekit render`'s own, whose fork server is a fork
of it (`casekit.render.server_process`); jobs1-api / jobs2-api call `render_batch` as a
user's script would, and their fork server is a new interpreter.

Each round's `--jobs 1` / `--jobs 2`: {paired("jobs1", "jobs2")}; through the API:
{paired("jobs1-api", "jobs2-api")}.

| ratio | value | target | status |
|---|---|---|---|
| warm `--jobs 1` per report / bare papermill per report | {verdict(r1, "<= 0.5")} |
| `--jobs 1` / `--jobs 2` (speed-up) | {verdict(r2, ">= 1.8")} |
| the same, through the API (`render_batch` from a script) | {verdict(r5, ">= 1.8")} |
| Dask, 2 workers / `--jobs 2` | {verdict(r3, "<= 1.15")} |
| Dask, 2 workers without the preload / `--jobs 2` | {verdict(r4, "<= 1.15")} |

## Machine

Load average (1, 5, 15 min) before: {" ".join(f"{x:.2f}" for x in load_before)}; after:
{" ".join(f"{x:.2f}" for x in load_after)}. The machine was shared with other work.

```
CPUs this process may use: {len(os.sched_getaffinity(0))}
{sh("lscpu | head -15").rstrip()}
{sh("free -g | head -2").rstrip()}
```

casekit's bytecode was written before the runs, as installing a package does{
        " (this machine sets PYTHONDONTWRITEBYTECODE, which would otherwise make every process "
        "compile casekit from source)"
        if bytecode_env
        else ""
    }.
Python {platform.python_version()}. Versions: {", ".join(f"{k} {v}" for k, v in versions.items())}.
"""
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
