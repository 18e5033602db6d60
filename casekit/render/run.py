"""Running one report: papermill in a fresh kernel and working directory, then the files.

:func:`_run` executes a checked job and writes ``.ipynb``, ``.html``, ``.log`` and the
``.json`` sidecar, each under a temporary name first, so a report's name never holds a
half-written file. A failing notebook never raises: the failure is a result (status
``failed``, a one-line error, the log and the notebook as far as it ran), and nothing
stale stays where a finished report belongs.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import math
import os
import shutil
import sys
import threading
import time
import traceback
from pathlib import Path

from casekit.render.cleanup import make_workdir
from casekit.render.html import _to_html
from casekit.render.jobs import (
    RenderResult,
    _atomic_write,
    _cached,
    _Job,
    _last_good,
    _sidecar_text,
    _stage,
    _version,
    _write_sidecar,
)

__all__ = ["CELL_TIMEOUT"]

CELL_TIMEOUT = 600
"""Seconds one notebook cell may run before the report fails (a hung kernel must not hang
the batch)."""


def _error_summary(exc: BaseException) -> str:
    """One line: the notebook's exception and cell, or the exception raised outside it.

    Examples
    --------
    >>> _error_summary(OSError(28, "No space left on device"))
    'the disk is full (No space left on device)'
    >>> _error_summary(ValueError("bad\\nmore"))
    'ValueError: bad'
    """
    ename = getattr(exc, "ename", None)
    if ename:
        evalue = str(getattr(exc, "evalue", "")).strip().splitlines()
        text = f"{ename}: {evalue[0] if evalue else ''}".strip()
        cell = getattr(exc, "exec_count", None)
        return f"{text} (cell {cell})" if cell else text
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        where = f" while writing {exc.filename}" if exc.filename else ""
        return f"the disk is full (No space left on device){where}"
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".strip()


@contextlib.contextmanager
def _environ(**values: str):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _stderr_to(fh):
    """Send file descriptor 2 (our stderr and the kernel's) to ``fh`` for the duration."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    os.dup2(fh.fileno(), 2)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _title(job: _Job) -> str:
    pretty = job.notebook.replace("_", " ")
    return f"{job.case} - {pretty}" if job.case else pretty


def _run(
    job: _Job,
    force: bool = False,
    quiet_stderr: bool = False,
    kernel: str = "fresh",
    timeout: float | None = None,
) -> RenderResult:
    """Render one checked job. Never raises for a notebook failure: returns status 'failed'.

    ``kernel`` is ``"fresh"`` (a new kernel) or ``"warm"`` (one forked from this process's
    warm-kernel server, :mod:`casekit.render.kernels`); ``timeout`` stops the report after
    that many seconds (status ``failed``, the log kept).

    A failure (of the notebook, or a full disk while writing) keeps the last good report
    in place; the sidecar then records it as ``last_good`` and the index marks it stale.
    """
    import logging

    html_path, ipynb_path, log_path = (job.output(s) for s in (".html", ".ipynb", ".log"))
    failed_nb = job.output(".failed.ipynb")
    job.stem.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if not force:
        meta = _cached(job)
        if meta is not None:
            result = RenderResult(
                job.notebook,
                job.case,
                job.params,
                "cached",
                time.perf_counter() - start,
                html_path,
                ipynb_path,
                log_path,
                name=job.name or None,
            )
            _write_sidecar(job, result, meta.get("rendered_at"), meta.get("seconds"))
            return result

    previous = _last_good(job)
    workdir = make_workdir(job.folder, job.notebook)
    staged: list[tuple[Path, Path]] = []  # (temporary beside the destination, destination)
    error = None
    try:
        log_tmp = workdir / "render.log"
        with open(log_tmp, "w", encoding="utf-8", buffering=1) as log_fh:
            handler = logging.StreamHandler(log_fh)
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            pm_logger = logging.getLogger("papermill")
            pm_logger.addHandler(handler)
            old_level, old_propagate = pm_logger.level, pm_logger.propagate
            pm_logger.setLevel(logging.INFO)
            pm_logger.propagate = False  # cell outputs go to the report's log, not the console
            try:
                log_fh.write(
                    f"casekit render {job.label}\nnotebook: {job.path}\n"
                    f"parameters: {json.dumps(job.params, default=str)}\n"
                    f"working directory: {workdir}\n\n"
                )
                staged = _execute(job, workdir, log_fh, quiet_stderr, start, kernel, timeout)
            except Exception as exc:  # a report's failure is data for the batch table
                error = _error_summary(exc)
                _note_failure(job, exc, workdir, log_fh, previous)
            finally:
                pm_logger.removeHandler(handler)
                pm_logger.setLevel(old_level)
                pm_logger.propagate = old_propagate
        # The log and the sidecar first: if even they cannot be written (a full disk), the
        # last report stays untouched. Then the renames, which need no space.
        _atomic_write(log_path, log_tmp.read_bytes())
        result = RenderResult(
            job.notebook,
            job.case,
            job.params,
            "failed" if error else "ok",
            time.perf_counter() - start,
            None if error else html_path,
            None if error else ipynb_path,
            log_path,
            error,
            name=job.name or None,
        )
        sidecar = _sidecar_text(job, result, last_good=previous)
        staged.append((_stage(job.output(".json"), sidecar), job.output(".json")))
        for tmp, dst in staged:
            os.replace(tmp, dst)
        staged = []
        if error is None:
            with contextlib.suppress(OSError):
                failed_nb.unlink()
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def _execute(
    job: _Job,
    workdir: Path,
    log_fh,
    quiet_stderr: bool,
    start: float,
    kernel: str = "fresh",
    timeout: float | None = None,
) -> list:
    """Run the notebook in ``workdir``; stage its ``.ipynb`` and ``.html`` beside their
    destinations. Returns ``[(temporary, destination), ...]``; raises on any failure
    (having removed what it staged)."""
    import jupytext
    import papermill as pm
    from traitlets.config import Config

    source = Path(job.path)
    nb_in = jupytext.read(source) if source.suffix == ".py" else None
    if nb_in is None:
        import nbformat

        nb_in = nbformat.read(source, as_version=4)
    # IPC transport: no TCP ports to race for between parallel kernels (papermill #239),
    # and no "running over TCP without encryption" warning in every log. The connection
    # file and the IPC sockets live in the working directory (the sockets by a relative
    # name: a socket path may not exceed 107 bytes), so removing that folder removes
    # everything the kernel made.
    config = Config(
        {
            "KernelManager": {
                "transport": "ipc",
                "ip": "kernel-ipc",
                "connection_file": str(workdir / "kernel.json"),
            }
        }
    )
    # The "python3" kernelspec that ipykernel installs runs plain `python` from PATH: put
    # this interpreter's folder first so the kernel imports this casekit, also when
    # `casekit` is called from a virtual environment that is not activated.
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    redirect = _stderr_to(log_fh) if quiet_stderr else contextlib.nullcontext()
    km, extra = None, {}
    # --timeout bounds the whole report: a timer stops its kernel, whichever kind it is
    # (nbclient's own timeout is per cell, and a report of many cells could outrun it).
    # Without one, each cell may run CELL_TIMEOUT seconds.
    cell_timeout = math.ceil(timeout) if timeout else CELL_TIMEOUT  # nbclient wants an int
    deadline = _Deadline(None)
    try:
        if kernel == "warm":
            from casekit.render.kernels import start_kernel

            km = start_kernel(workdir, workdir / "kernel.log")
            # from here: waiting for the fork server's imports is the batch's time
            deadline = _Deadline(timeout)
            deadline.watch(km.shutdown_kernel)
            extra = {"km": km}
        elif timeout:
            deadline = _Deadline(timeout)
            extra = {"kernel_manager_class": _stoppable_manager(deadline)}
        with (
            redirect,
            _environ(
                PLOTLY_RENDERER="plotly_mimetype",
                PATH=path,
                CASEKIT_RENDERING="1",
                MPLBACKEND="Agg",
            ),
        ):
            nb = _papermill(pm, nb_in, workdir, job, config, cell_timeout, extra)
    except Exception as exc:
        if timeout and (deadline.expired or isinstance(exc, TimeoutError)):
            raise TimeoutError(
                f"the report ran longer than its timeout of {timeout:g} s (--timeout); "
                f"its kernel was stopped"
            ) from exc
        raise
    finally:
        deadline.cancel()
        if km is not None:
            km.cleanup_resources()
            km.shutdown_kernel()
            _copy_kernel_log(workdir / "kernel.log", log_fh)
    return _stage_outputs(job, nb, log_fh, start)


class _Deadline:
    """The per-report timeout: once ``seconds`` have passed since it was made, it calls the
    function given to :meth:`watch` (which stops the report's kernel), at once if that
    comes later. ``seconds`` None: never."""

    def __init__(self, seconds: float | None):
        self.expired = False
        self._stop = None
        self._lock = threading.Lock()
        self._timer = None
        if seconds:
            self._timer = threading.Timer(seconds, self._expire)
            self._timer.daemon = True
            self._timer.start()

    def watch(self, stop) -> None:
        with self._lock:
            self._stop = stop
            expired = self.expired
        if expired:
            stop()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            stop = self._stop
        if stop is not None:
            stop()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _stoppable_manager(deadline: _Deadline) -> type:
    """A kernel manager class for nbclient's fresh kernel that hands ``deadline`` a way to
    kill that kernel (its process group: the kernel and anything it started)."""
    import signal

    from jupyter_client.manager import AsyncKernelManager

    class StoppableKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw):  # type: ignore[override]
            await super().start_kernel(**kw)
            prov = self.provisioner
            pid, pgid = getattr(prov, "pid", None), getattr(prov, "pgid", None)
            process = getattr(prov, "process", None)

            def kill() -> None:
                if pgid and hasattr(os, "killpg") and pgid != os.getpgid(0):
                    with contextlib.suppress(OSError):
                        os.killpg(pgid, signal.SIGKILL)
                if process is not None:
                    with contextlib.suppress(OSError):
                        process.kill()
                elif pid:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)

            deadline.watch(kill)

    return StoppableKernelManager


def _papermill(pm, nb_in, workdir: Path, job: _Job, config, cell_timeout: float, extra: dict):
    """papermill's execute_notebook with casekit's options (``extra``: a warm ``km``, or
    the ``kernel_manager_class`` of a fresh kernel that a timeout may stop)."""
    return pm.execute_notebook(
        nb_in,
        str(workdir / "executed.ipynb"),
        parameters=job.params,
        kernel_name="python3",
        language="python",
        cwd=str(workdir),
        progress_bar=False,
        log_output=True,
        config=config,
        execution_timeout=cell_timeout,
        shutdown_kernel="immediate",
        request_save_on_cell_execute=False,
        **extra,
    )


def _join_streams(nb) -> None:
    """Join each cell's consecutive outputs to the same stream. A kernel sends one print as
    one or several messages, as timing has it; a report must not depend on that."""
    for cell in nb.cells:
        merged: list = []
        for out in cell.get("outputs") or []:
            last = merged[-1] if merged else None
            if (
                last is not None
                and out.get("output_type") == "stream" == last.get("output_type")
                and out.get("name") == last.get("name")
            ):
                last["text"] += out.get("text", "")
            else:
                merged.append(out)
        if "outputs" in cell:
            cell["outputs"] = merged


def _copy_kernel_log(path: Path, log_fh) -> None:
    """Append what a warm kernel wrote to its stdout and stderr to the report's log."""
    with contextlib.suppress(OSError):
        text = path.read_text(encoding="utf-8", errors="replace")
        if text.strip():
            log_fh.write("\nkernel output (stdout and stderr):\n" + text)


def _stage_outputs(job: _Job, nb, log_fh, start: float) -> list:
    """Stage the executed notebook's ``.ipynb`` and ``.html`` beside their destinations."""
    t_executed = time.perf_counter()
    _join_streams(nb)
    nb.metadata["casekit"] = {
        "notebook": job.notebook,
        "case": job.case,
        "params": job.params,
        "key": job.key,
        "version": _version(),
        "rendered_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    staged: list[tuple[Path, Path]] = []
    try:
        # papermill validated this notebook when it saved it; only metadata was added
        text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        staged.append((_stage(job.output(".ipynb"), text), job.output(".ipynb")))
        html = _to_html(nb, _title(job), job.show_code)
        staged.append((_stage(job.output(".html"), html), job.output(".html")))
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    log_fh.write(
        f"\ntimings: papermill {t_executed - start:.2f} s, .ipynb and HTML "
        f"{time.perf_counter() - t_executed:.2f} s\n"
    )
    return staged


def _note_failure(job: _Job, exc: Exception, workdir: Path, log_fh, previous) -> None:
    """Log a failure, keep the notebook as far as it ran, and clear the report's place
    unless a good report of it is kept."""
    log_fh.write("\n" + "".join(traceback.format_exception(exc)))
    failed_nb = job.output(".failed.ipynb")
    executed = workdir / "executed.ipynb"
    if executed.is_file():  # papermill saves the notebook with the error in it
        try:
            _atomic_write(failed_nb, executed.read_bytes())
            log_fh.write(f"\nthe notebook as far as it ran: {failed_nb}\n")
        except OSError as err:
            log_fh.write(f"\nthe notebook as far as it ran could not be saved: {err}\n")
    if previous is not None:
        log_fh.write(
            f"\nthe last good report (rendered {previous.get('rendered_at')}) is kept and "
            f"marked stale in the index until a render succeeds\n"
        )
        return
    # Nothing that no good render made may sit where a finished report belongs.
    for p in (job.output(".html"), job.output(".ipynb")):
        with contextlib.suppress(OSError):
            p.unlink()


def _run_in_worker(
    job: _Job, force: bool, kernel: str = "fresh", timeout: float | None = None
) -> RenderResult:
    """:func:`_run` that never raises (e.g. the disk is full): still a result for the table."""
    try:
        return _run(job, force, quiet_stderr=True, kernel=kernel, timeout=timeout)
    except Exception as exc:
        return RenderResult(
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
