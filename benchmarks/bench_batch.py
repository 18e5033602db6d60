"""Batch benchmark (#13): warm kernels, --jobs 2 against --jobs 1, a local Dask cluster.

Run from the repository root (takes several minutes):

    python benchmarks/bench_batch.py                   # writes benchmarks/results_batch.md
    python benchmarks/bench_batch.py --rounds 1 --out /tmp/results.md

One batch of ``case_report`` reports for one case, a grid of ``effectiveness`` x
``horizon`` (12 reports by default), measured four ways, side by side in one process:

(1) bare ``papermill.execute_notebook`` with ``shutdown_kernel="immediate"``, one report
    after another, with the same notebook and parameters (the floor of the fresh path);
(2) ``casekit.render.render_batch(..., kernel="warm", jobs=1)``;
(3) the same with ``jobs=2``;
(4) the same on a local Dask cluster of 2 worker processes with 1 thread each
    (``distributed.LocalCluster``; its start is not timed, the workers' fork servers are).

Every casekit batch re-renders everything (``force=True``) and starts its fork servers
afresh (they are closed between batches), as a new ``casekit render`` would. Targets:
(2) per report <= 0.5 x (1); (2)/(3) >= 1.8 on 2 cores; (4) <= 1.15 x (3).
"""

from __future__ import annotations

import argparse
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


def sh(cmd: str) -> str:
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout
    except Exception as err:  # pragma: no cover - informative only
        return f"({err})"


def _close_servers() -> None:
    from casekit.render import kernels

    kernels._close_servers()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=1, help="timed rounds of every variant")
    ap.add_argument("--case", default="synthetic-example")
    ap.add_argument("--effectiveness", default="0.2,0.35,0.5,0.65,0.8,0.95")
    ap.add_argument("--horizon", default="30,45")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results_batch.md"))
    args = ap.parse_args()

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

    def batch(jobs: int = 1, scheduler: str | None = None):
        _close_servers()
        res = R.render_batch(
            specs,
            jobs=jobs,
            out_dir=work / f"out-{jobs}-{bool(scheduler)}",
            force=True,
            progress=False,
            kernel="warm",
            scheduler=scheduler,
        )
        bad = [r for r in res.results if not r.ok]
        if bad:
            raise SystemExit(f"a report failed: {bad[0].label}: {bad[0].error}")

    times: dict[str, list[float]] = {k: [] for k in ("bare", "jobs1", "jobs2", "dask2")}
    for i in range(args.rounds):
        for name, fn in (
            ("bare", bare),
            ("jobs1", lambda: batch(1)),
            ("jobs2", lambda: batch(2)),
        ):
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
            print(f"round {i + 1}: {name} {times[name][-1]:.1f} s", file=sys.stderr)
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            t = time.perf_counter()
            batch(1, scheduler=cluster.scheduler_address)
            times["dask2"].append(time.perf_counter() - t)
        print(f"round {i + 1}: dask2 {times['dask2'][-1]:.1f} s", file=sys.stderr)
    load_after = os.getloadavg()
    med = {k: statistics.median(v) for k, v in times.items()}
    r1 = (med["jobs1"] / n) / (med["bare"] / n)
    r2 = med["jobs1"] / med["jobs2"]
    r3 = med["dask2"] / med["jobs2"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "not met"

    rows = "\n".join(
        f"| {k} | {med[k]:.1f} | {med[k] / n:.2f} | {' '.join(f'{x:.1f}' for x in v)} |"
        for k, v in times.items()
    )
    versions = {
        m: __import__(m).__version__
        for m in ("papermill", "nbclient", "ipykernel", "distributed", "pandas", "plotly")
    }
    text = f"""# Batch benchmark (#13)

Written by `python benchmarks/bench_batch.py` on {
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    }. One batch of {n} `case_report` reports for `{args.case}` (grid: effectiveness
{args.effectiveness} x horizon {args.horizon}), {args.rounds} round(s), medians.

| variant | batch s | per report s | runs |
|---|---|---|---|
{rows}

bare = papermill with `shutdown_kernel='immediate'`, one report after another; jobs1 /
jobs2 = `render_batch(kernel="warm", jobs=1 / 2)`; dask2 = the same batch on a local Dask
cluster of 2 worker processes (1 thread each).

| ratio | value | target | status |
|---|---|---|---|
| warm `--jobs 1` per report / bare papermill per report | **{r1:.2f}** | <= 0.5 | {
        verdict(r1 <= 0.5)
    } |
| `--jobs 1` / `--jobs 2` (speed-up) | **{r2:.2f}** | >= 1.8 | {verdict(r2 >= 1.8)} |
| Dask, 2 workers / `--jobs 2` | **{r3:.2f}** | <= 1.15 | {verdict(r3 <= 1.15)} |

## Machine

Load average (1, 5, 15 min) before: {" ".join(f"{x:.2f}" for x in load_before)}; after:
{" ".join(f"{x:.2f}" for x in load_after)}. The machine was shared with other work.

```
CPUs this process may use: {len(os.sched_getaffinity(0))}
{sh("lscpu | head -15").rstrip()}
{sh("free -g | head -2").rstrip()}
```

Python {platform.python_version()}. Versions: {", ".join(f"{k} {v}" for k, v in versions.items())}.
"""
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    _close_servers()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
