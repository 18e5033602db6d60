"""Rendering reports: one (:func:`render`), many in parallel (:func:`render_batch`), all
(:func:`bundled_specs`, what ``casekit render --all`` renders).

Every spec is checked before any kernel starts; then reports run one after another or in
worker processes, a failure in one never stops the others, unchanged reports are reused,
and a progress bar (tqdm, on stderr) counts done, failed and running reports.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import gc
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casekit.exceptions import CasekitError, ParameterError
from casekit.render.cleanup import sigterm_interrupts, sweep_partials, sweep_temp, worker_init
from casekit.render.html import _EXPORTERS, _ensure_plotly_js, _prewarm
from casekit.render.index import write_index
from casekit.render.jobs import (
    RenderResult,
    Spec,
    _cached,
    _checking_once,
    _Job,
    _last_seconds,
    _prepare,
)
from casekit.render.params import PRICES_ENV, notebook_params
from casekit.render.run import _environ, _error_summary, _run_in_worker

__all__ = ["BatchResult", "RenderError", "bundled_specs", "render", "render_batch"]


class RenderError(CasekitError):
    """A report failed to render; the message says which cell failed and where the log is."""


@dataclass(frozen=True)
class BatchResult:
    """The outcomes of a batch, in the order requested."""

    results: tuple[RenderResult, ...]
    seconds: float
    index: Path | None
    index_error: str | None = None  # why index.html could not be written (a full disk)

    @property
    def ok(self) -> bool:
        """Every report rendered (or reused), and the index written if one was asked for."""
        return all(r.ok for r in self.results) and self.index_error is None

    @property
    def failed(self) -> list[RenderResult]:
        return [r for r in self.results if not r.ok]

    def table(self) -> str:
        """A plain-text table: report, status, seconds, error summary and log."""
        rows = [("report", "status", "seconds", "error / log")]
        for r in self.results:
            detail = f"{r.error}  (log: {r.log})" if r.error else ""
            rows.append((r.label, r.status, f"{r.seconds:.1f}", detail))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(row[:3], widths, strict=True))
            + ("  " + row[3] if row[3] else "")
            for row in rows
        ]
        n_failed = len(self.failed)
        lines.append(
            f"{len(self.results)} report(s), {n_failed} failed, "
            f"{self.seconds:.1f} s"
            + (f"; index: {self.index}" if self.index else "")
            + (f"; index.html not written: {self.index_error}" if self.index_error else "")
        )
        return "\n".join(lines)


def render(
    case: str | None = None,
    notebook: str | os.PathLike = "case_report",
    *,
    params: Mapping[str, Any] | None = None,
    out_dir: str | os.PathLike = "reports",
    show_code: bool = False,
    force: bool = False,
    index: bool = True,
    kernel: str = "warm",
    timeout: float | None = None,
    format: str = "html",
) -> RenderResult:
    """Render one report: ``<out_dir>/<case>/<notebook>.html`` (and ``.ipynb``).

    Parameters
    ----------
    case : str, optional
        Case id for notebooks that take a ``case`` (default: the notebook's own default).
    notebook : str or path-like
        A bundled notebook name (see :func:`list_notebooks`) or a path to a notebook file.
    params : mapping, optional
        Notebook parameters; strings are converted to the declared types.
    out_dir : path-like
        Reports folder; it also receives ``plotly.min.js`` and ``index.html``.
    show_code : bool
        Show the code cells in the HTML.
    force : bool
        Render even when an up-to-date report exists.
    index : bool
        Rewrite ``<out_dir>/index.html`` afterwards.
    kernel : {"warm", "fresh"}
        ``warm`` (default): a kernel forked from this process's warm-kernel server
        (:mod:`casekit.render.kernels`), as ``casekit render`` does. Even for one report
        it is faster than a new kernel: the server's imports run while the report is
        checked, and the kernel needs no start of its own (benchmarks/README.md). The
        server stays for later renders in this process
        (:func:`casekit.render.kernels.stop_server` stops it). ``fresh``: a new kernel.
    timeout : float, optional
        Seconds the report may run; then it is stopped and fails, its log kept.
    format : {"html", "pdf", "png", "all"}
        Besides the HTML: its PDF (``<notebook>.pdf``), a PNG of each figure
        (``<notebook>_figures/``), or both (:mod:`casekit.render.export`).

    Returns
    -------
    RenderResult

    Raises
    ------
    ParameterError
        Before any kernel starts: unknown notebook, case or parameter, or a wrong type.
    RenderError
        The notebook failed; the message names the failing cell's error and the log file.
        Also when the disk is full: the last good report then stays as it was.
    """
    batch = render_batch(
        [Spec(os.fspath(notebook), case, dict(params or {}))],
        jobs=1,
        out_dir=out_dir,
        show_code=show_code,
        force=force,
        progress=False,
        index=index,
        kernel=kernel,
        timeout=timeout,
        format=format,
    )
    result = batch.results[0]
    if not result.ok:
        raise RenderError(f"{result.label} failed: {result.error}\nlog: {result.log}")
    if batch.index_error:
        raise RenderError(
            f"{result.label} rendered ({result.html}), but {Path(out_dir) / 'index.html'} "
            f"could not be written: {batch.index_error}"
        )
    return result


def render_batch(
    reports: Iterable[Spec | tuple | Mapping[str, Any]],
    *,
    jobs: int = 1,
    out_dir: str | os.PathLike = "reports",
    show_code: bool = False,
    force: bool = False,
    progress: bool | None = None,
    index: bool = True,
    kernel: str = "warm",
    timeout: float | None = None,
    scheduler: str | None = None,
    format: str = "html",
) -> BatchResult:
    """Render many reports; a failing report does not stop the others.

    Every spec is checked (notebook, case, parameter names and types) before any kernel
    starts, so a typo fails the whole batch at once with the list of valid parameters.

    Parameters
    ----------
    reports : iterable of Spec, ``(notebook, case, params)`` tuples or mappings
    jobs : int
        Reports rendered at the same time, each in its own process and working directory.
    out_dir, show_code, force, index
        As in :func:`render`.
    progress : bool or None
        Show a progress bar on stderr (done / failed / running); ``None``: only on a terminal.
    kernel : {"warm", "fresh"}
        ``warm`` (default): each report gets a kernel forked from a server that has done the
        imports and run no notebook code (:mod:`casekit.render.kernels`); ``fresh``: a new
        kernel per report.
    timeout : float, optional
        Seconds one report may run; then it is stopped and marked failed, its log kept.
    scheduler : str, optional
        ``tcp://HOST:PORT`` of a Dask scheduler: render on its workers
        (:mod:`casekit.render.cluster`); the files are written here.
    format : {"html", "pdf", "png", "all"}
        As in :func:`render`; exported here once the HTML reports are written.

    Returns
    -------
    BatchResult
        ``.results`` in the order given, ``.table()`` for printing, ``.ok``.
    """
    start = time.perf_counter()
    from casekit.render.kernels import (
        KERNEL_MODES,
        SERVER_ENV,
        _lazy_iri_grammar,
        available,
        prestart,
        stop_server,
    )

    if format != "html":
        from casekit.render.export import check_format

        check_format(format)  # before any kernel starts: a known format, a browser to print

    if kernel not in KERNEL_MODES:
        raise ParameterError(f"kernel {kernel!r}: choose one of {', '.join(KERNEL_MODES)}")
    if kernel == "warm" and not available():
        kernel = "fresh"  # warm kernels need Linux
    if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ParameterError(f"timeout {timeout!r}: a number of seconds above 0")
    out = Path(out_dir).expanduser().resolve()
    specs = [_as_spec(r) for r in reports]
    # The fork server's imports (seconds) are the one part of a batch that --jobs cannot
    # share out: start them first, so the checks below run beside them.
    started = kernel == "warm" and not scheduler and bool(specs) and _start_server(specs)
    _lazy_iri_grammar()  # before papermill imports nbformat here: 1.2 s less
    try:
        prepared = _checked(specs, out, show_code)
        needed = [i for i, j in enumerate(prepared) if force or _cached(j) is None]
    except BaseException:
        if started:
            stop_server()
        raise
    if started and not needed:
        stop_server()  # every report is reused: no kernel to fork
    _sweep(out, prepared)
    results: list[RenderResult | None] = [None] * len(prepared)
    jobs = max(1, min(int(jobs), len(prepared) or 1))
    bar = _Progress(len(prepared), progress)
    with sigterm_interrupts(), contextlib.ExitStack() as stack:
        stack.callback(bar.close)
        if scheduler:
            from casekit.render.cluster import run_on_cluster

            todo = []
            for i, job in enumerate(prepared):  # unchanged reports are reused here
                if i in needed:
                    todo.append(i)
                else:
                    results[i] = _run_in_worker(job, False)
                    bar.finish_one(results[i].ok)
            if todo:
                sub_jobs = [prepared[i] for i in todo]
                order = sorted(range(len(todo)), key=lambda k: -_last_seconds(sub_jobs[k]))
                sub = run_on_cluster(sub_jobs, scheduler, timeout=timeout, bar=bar, order=order)
                for i, r in zip(todo, sub, strict=True):
                    results[i] = r
        elif jobs == 1:
            if show_code not in _EXPORTERS and any(force or _cached(j) is None for j in prepared):
                import threading

                later = threading.Thread(target=_prewarm_later, args=(show_code, kernel))
                later.daemon = True
                later.start()
            for i, job in enumerate(prepared):
                bar.update(running=1)
                results[i] = _run_in_worker(job, force, kernel, timeout)
                bar.finish_one(results[i].ok)
        else:
            todo = []
            for i, job in enumerate(prepared):  # reuse unchanged reports without a worker
                if not force and _cached(job) is not None:
                    results[i] = _run_in_worker(job, False)
                    bar.finish_one(results[i].ok)
                else:
                    todo.append(i)
            if todo:
                _preload(show_code)
                sub: list[RenderResult | None] = [None] * len(todo)
                # --jobs workers share this process's fork server (kernels.SERVER_ENV)
                shared = {SERVER_ENV: prestart()} if kernel == "warm" else {}
                with _environ(**shared):
                    _run_parallel(
                        [prepared[i] for i in todo],
                        force,
                        min(jobs, len(todo)),
                        sub,
                        bar,
                        kernel,
                        timeout,
                    )
                for i, r in zip(todo, sub, strict=True):
                    results[i] = r
    if format != "html":
        from casekit.render.export import export_results

        results = export_results(results, format, jobs)
    idx, index_error = None, None
    if index:
        try:
            idx = write_index(out)
        except OSError as err:
            index_error = _error_summary(err)
    return BatchResult(tuple(results), time.perf_counter() - start, idx, index_error)


def _start_server(specs: Sequence[Spec]) -> bool:
    """Start this process's fork server, with the imports ``specs`` need; whether a new
    one was started (not one kept from an earlier batch)."""
    from casekit.render import kernels

    before = kernels._SERVERS.get(os.getpid())
    kernels.prestart(kernels.extra_imports(specs))
    return kernels._SERVERS.get(os.getpid()) is not before


def _checked(specs: Sequence[Spec], out: Path, show_code: bool) -> list[_Job]:
    """Every spec checked (:func:`_prepare`), no report twice, the output folder writable."""
    with _checking_once():
        prepared = [_prepare(s, out, show_code) for s in specs]
    seen: set[str] = set()
    for j in prepared:
        if j.label in seen:
            raise ParameterError(
                f"report {j.label} requested twice in one batch; "
                f"render different parameter sets into different --out folders"
            )
        seen.add(j.label)
    try:
        out.mkdir(parents=True, exist_ok=True)
        if prepared:
            _ensure_plotly_js(out)
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise RenderError(
                f"the disk holding {out} is full (No space left on device); nothing was "
                f"rendered and existing reports are unchanged: free some space or choose "
                f"another output folder (--out)"
            ) from None
        raise ParameterError(
            f"output folder {out} cannot be created or written to "
            f"({err.strerror or type(err).__name__}: {err.filename or out}); choose an output "
            f"folder (--out) that you may write to and whose parents are folders"
        ) from None
    return prepared


def _preload(show_code: bool) -> None:
    """Import papermill and jupytext and compile the HTML template here, once, before the
    ``--jobs`` workers fork: they inherit it all instead of each importing it (about 2 s)
    on the cores the fork server needs for its own imports."""
    gc.disable()  # as in kernels._serve: imports make few cycles, collections cost time
    try:
        import jupytext  # noqa: F401
        import papermill  # noqa: F401

        _prewarm(show_code)
    finally:
        gc.enable()


def _prewarm_later(show_code: bool, kernel: str) -> None:
    """:func:`_prewarm` once the fork server takes requests: until then this process
    prepares its first report, and a thread beside it would only slow it down (they
    share one interpreter lock); afterwards it mostly waits for the report's kernel."""
    if kernel == "warm":
        from casekit.render.kernels import wait_ready

        wait_ready()
    _prewarm(show_code)


def _sweep(out: Path, prepared: Sequence[_Job]) -> None:
    """Remove what killed runs left: their temp folders, and partial files in the folders
    this batch writes to (only of dead processes, after :data:`STALE_AFTER` seconds)."""
    sweep_temp()
    sweep_partials(out)
    for folder in {j.stem.parent for j in prepared}:
        sweep_partials(folder)


def _as_spec(item: Spec | tuple | Mapping[str, Any]) -> Spec:
    if isinstance(item, Spec):
        return item
    if isinstance(item, Mapping):
        return Spec(
            item["notebook"], item.get("case"), dict(item.get("params") or {}), item.get("name")
        )
    if isinstance(item, (tuple, list)) and 1 <= len(item) <= 3:
        notebook, case, params = (*item, None, None)[:3]
        return Spec(os.fspath(notebook), case, dict(params or {}))
    raise TypeError(f"not a report spec: {item!r}")


def _worker_start(kernel: str) -> None:
    """A ``--jobs`` worker's initializer: a warm worker takes the fork server its parent
    shares (:data:`casekit.render.kernels.SERVER_ENV`), or starts its own."""
    worker_init()
    # What this process inherited stays in the permanent generation: its collections never
    # walk (and so never copy) the memory it shares with its parent. The first report's
    # HTML took twice as long without this.
    gc.freeze()
    if kernel == "warm":
        from casekit.render.kernels import prestart

        prestart()


def _run_parallel(
    prepared: Sequence[_Job],
    force: bool,
    jobs: int,
    results: list,
    bar: _Progress,
    kernel: str = "fresh",
    timeout: float | None = None,
) -> None:
    import multiprocessing
    import threading
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # fork is fast (the worker inherits papermill already imported) and safe while this
    # process runs a single thread; otherwise start clean interpreters.
    method = (
        "fork" if (sys.platform.startswith("linux") and threading.active_count() == 1) else "spawn"
    )
    ctx = multiprocessing.get_context(method)
    # Longest first (by the last run's time; unknown counts as long): the batch then ends
    # with short reports filling the gaps instead of one long report running alone.
    order = sorted(range(len(prepared)), key=lambda i: -_last_seconds(prepared[i]))
    pool = ProcessPoolExecutor(
        max_workers=jobs, mp_context=ctx, initializer=_worker_start, initargs=(kernel,)
    )
    try:
        futures = {pool.submit(_run_in_pool, prepared[i], force, kernel, timeout): i for i in order}
        pending = set(futures)
        while pending:
            bar.update(running=min(jobs, len(pending)))
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in done:
                i = futures[fut]
                try:
                    results[i] = fut.result()
                except Exception as exc:  # the worker process died
                    job = prepared[i]
                    results[i] = RenderResult(
                        job.notebook,
                        job.case,
                        job.params,
                        "failed",
                        0.0,
                        None,
                        None,
                        job.output(".log"),
                        _error_summary(exc),
                        name=job.name or None,
                    )
                bar.finish_one(results[i].ok)
    except BaseException:
        # Interrupted (SIGINT, SIGTERM): stop the workers now, so that each unwinds its
        # render and removes its temporaries, instead of waiting for them to finish.
        procs = list((getattr(pool, "_processes", None) or {}).values())  # before shutdown
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.terminate()
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.join(timeout=30)
        raise
    finally:
        pool.shutdown(wait=True)


def _run_in_pool(
    job: _Job, force: bool, kernel: str = "fresh", timeout: float | None = None
) -> RenderResult:
    """:func:`_run_in_worker` in a worker process: an interrupt (SIGINT, or SIGTERM from
    :func:`_run_parallel`) ends the process once the render has removed its temporaries;
    a worker that lived on would wait for work that never comes."""
    try:
        return _run_in_worker(job, force, kernel, timeout)
    except KeyboardInterrupt:
        os._exit(130)


@functools.cache
def _tqdm() -> type:
    """tqdm without its monitor thread: a second thread would make :func:`_run_parallel`
    start workers by spawn instead of fork (and we redraw twice a second anyway)."""
    from tqdm import tqdm

    return type("_Bar", (tqdm,), {"monitor_interval": 0})


class _Progress:
    """A tqdm bar on stderr: reports finished of all, then ``done 3  failed 1  running 2``.

    ``enabled=None`` shows it only when stderr is a terminal.
    """

    def __init__(self, total: int, enabled: bool | None):
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.enabled = bool(enabled) and total > 0
        self.total, self.done, self.failed, self.running = total, 0, 0, 0
        self.bar = _tqdm()(
            total=total,
            disable=not self.enabled,
            file=sys.stderr,
            desc="casekit render",
            unit="report",
            leave=True,
            postfix=self._text(),
        )

    def _text(self) -> str:
        return f"done {self.done}  failed {self.failed}  running {self.running}"

    def _show(self, refresh: bool = True) -> None:
        self.bar.set_postfix_str(self._text(), refresh=refresh)

    def update(self, running: int) -> None:
        self.running = running
        self._show()

    def finish_one(self, ok: bool) -> None:
        if ok:
            self.done += 1
        else:
            self.failed += 1
        self.running = max(0, min(self.running, self.total - self.done - self.failed))
        self.bar.update(1)
        self._show()

    def note(self, text: str) -> None:
        """One line above the bar (a report's status, on the cluster path)."""
        if self.enabled:
            self.bar.write(text, file=sys.stderr)

    def close(self) -> None:
        self.running = 0
        self._show(refresh=False)
        self.bar.close()


def bundled_specs(params: Mapping[str, Any] | None = None) -> list[Spec]:
    """What ``casekit render --all`` renders.

    ``case_report`` for every valid case found (the bundled ones, including the clearly
    marked synthetic example, plus any in ``CASEKIT_DATA``), ``compare_cases`` over all of
    them, and ``classroom`` for every case whose ``case.yaml`` marks it for the classroom
    (``analysis: {classroom: true}``). If no case is marked, no classroom report is made.
    ``event_log`` for every case whose folder holds an event log (an ``events/`` folder,
    see :func:`casekit.events.story.find_log`). ``params`` go to every notebook that
    declares them (others ignore them).

    When price files are available (``prices_dir`` in ``params`` or ``CASEKIT_PRICES``), a
    case's report gets the ticker, index and peers of its ``analysis.market`` block, unless
    ``params`` name a ticker.
    """
    from casekit import cases as _cases
    from casekit.events.story import find_log
    from casekit.results import plain

    listed = _cases.list_cases()
    ids = [i for i, ok in zip(listed["id"], listed["valid"], strict=True) if ok]
    loaded = {c: _cases.load_case(c) for c in ids}
    analysis = {c: plain(loaded[c].analysis) for c in ids}
    params = dict(params or {})

    def for_nb(nb: str) -> dict:
        names = {p.name for p in notebook_params(nb)}
        return {k: v for k, v in params.items() if k in names}

    prices = params.get("prices_dir") or os.environ.get(PRICES_ENV)
    specs = []
    for c in ids:
        p = for_nb("case_report")
        market = analysis[c].get("market", {}) if prices and "ticker" not in p else {}
        if market:
            p.update({"ticker": market["ticker"], "peers": list(market.get("peers", []))})
            if market.get("index"):
                p["market_index"] = market["index"]
        specs.append(Spec("case_report", c, p))
    specs.append(Spec("compare_cases", None, for_nb("compare_cases")))
    specs += [
        Spec("classroom", c, for_nb("classroom")) for c in ids if analysis[c].get("classroom")
    ]
    specs += [Spec("event_log", c, for_nb("event_log")) for c in ids if find_log(loaded[c])]
    return specs
