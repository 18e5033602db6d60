"""Export benchmark: the PDF against the HTML render, the figure PNGs, the HTML's size.

Run from the repository root (takes about a minute per case):

    python benchmarks/bench_export.py               # prints a Markdown table
    python benchmarks/bench_export.py --repeat 3 --cases united-breaks-guitars

For each case's report: the HTML render (``casekit.render.render``, ``force=True``, its
default warm kernel from a fork server started afresh each time, as a new ``casekit render``
process would), then :func:`casekit.render.export.export_pdf` on the finished HTML (headless
Chromium, one browser per PDF) and :func:`casekit.render.export.export_figures` (kaleido:
the first image starts its browser, later ones reuse it). Medians over ``--repeat`` runs.

Targets (issue #11): the PDF takes at most 2x the HTML render; the HTML without the shared
``plotly.min.js`` is under 1 MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def bench(case: str, repeat: int) -> dict:
    from casekit.render import export as E
    from casekit.render import render
    from casekit.render.kernels import stop_server

    html_s, pdf_s, png_s, png_first, n_figs, size = [], [], [], [], 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):
            # every render starts its warm-kernel server afresh, as `casekit render CASE
            # --format pdf` in a new process does (a kept server makes the HTML 2-3x faster)
            stop_server()
            t = time.perf_counter()
            r = render(case, "case_report", out_dir=tmp, force=True, index=False)
            html_s.append(time.perf_counter() - t)
            size = r.html.stat().st_size
            t = time.perf_counter()
            E.export_pdf(r.html)
            pdf_s.append(time.perf_counter() - t)
            if i == 0:
                E.stop()  # the first PNG batch of the run starts kaleido's browser
            t = time.perf_counter()
            pngs = E.export_figures(r.ipynb)
            elapsed = time.perf_counter() - t
            (png_first if i == 0 else png_s).append(elapsed)
            n_figs = len(pngs)
    return {
        "case": case,
        "html": statistics.median(html_s),
        "pdf": statistics.median(pdf_s),
        "png_first": png_first[0],
        "png_warm": statistics.median(png_s) if png_s else float("nan"),
        "figures": n_figs,
        "size": size,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cases", nargs="+", default=["synthetic-example", "united-breaks-guitars"])
    args = ap.parse_args()
    from _setup import compile_bytecode  # beside this script

    compile_bytecode()
    rows = [bench(c, args.repeat) for c in args.cases]
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs, {args.repeat} runs")
    print(
        "| case | HTML render (s) | PDF (s) | PDF / HTML | figures | PNGs, first batch (s) "
        "| PNGs, browser reused (s) | HTML size (KB, without plotly.min.js) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['case']} | {r['html']:.1f} | {r['pdf']:.1f} | {r['pdf'] / r['html']:.2f} "
            f"| {r['figures']} | {r['png_first']:.1f} | {r['png_warm']:.1f} "
            f"| {r['size'] / 1024:.0f} |"
        )
    for r in rows:
        assert r["pdf"] <= 2 * r["html"], f"{r['case']}: the PDF takes over 2x the HTML"
        assert r["size"] < 1_000_000, f"{r['case']}: the HTML is 1 MB or more"
    print(f"targets met: PDF <= 2x HTML, HTML < 1 MB ({Path(__file__).name})")


if __name__ == "__main__":
    main()
