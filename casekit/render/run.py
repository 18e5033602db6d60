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
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from casekit.render.html import _to_html
from casekit.render.jobs import (
    RenderResult,
    _atomic_write,
    _cached,
    _Job,
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
    'OSError: [Errno 28] No space left on device'
    """
    ename = getattr(exc, "ename", None)
    if ename:
        evalue = str(getattr(exc, "evalue", "")).strip().splitlines()
        text = f"{ename}: {evalue[0] if evalue else ''}".strip()
        cell = getattr(exc, "exec_count", None)
        return f"{text} (cell {cell})" if cell else text
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


def _run(job: _Job, force: bool = False, quiet_stderr: bool = False) -> RenderResult:
    """Render one checked job. Never raises for a notebook failure: returns status 'failed'."""
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
            )
            _write_sidecar(job, result, meta.get("rendered_at"), meta.get("seconds"))
            return result

    workdir = Path(tempfile.mkdtemp(prefix=f"casekit-{job.folder}-{job.notebook}-"))
    log_tmp = workdir / "render.log"
    error = None
    with open(log_tmp, "w", encoding="utf-8", buffering=1) as log_fh:
        handler = logging.StreamHandler(log_fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        pm_logger = logging.getLogger("papermill")
        pm_logger.addHandler(handler)
        old_level, old_propagate = pm_logger.level, pm_logger.propagate
        pm_logger.setLevel(logging.INFO)
        pm_logger.propagate = False  # the cell outputs go to the report's log, not the console
        log_fh.write(
            f"casekit render {job.label}\nnotebook: {job.path}\n"
            f"parameters: {json.dumps(job.params, default=str)}\n"
            f"working directory: {workdir}\n\n"
        )
        redirect = _stderr_to(log_fh) if quiet_stderr else contextlib.nullcontext()
        nb = None
        try:
            import jupytext
            import papermill as pm
            from traitlets.config import Config

            source = Path(job.path)
            nb_in = jupytext.read(source) if source.suffix == ".py" else None
            if nb_in is None:
                import nbformat

                nb_in = nbformat.read(source, as_version=4)
            # IPC transport: no TCP ports to race for between parallel kernels (papermill
            # #239), and no "running over TCP without encryption" warning in every log.
            config = Config({"KernelManager": {"transport": "ipc"}})
            # The "python3" kernelspec that ipykernel installs runs plain `python` from PATH:
            # put this interpreter's folder first so the kernel imports this casekit, also
            # when `casekit` is called from a virtual environment that is not activated.
            path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
            with (
                redirect,
                _environ(
                    PLOTLY_RENDERER="plotly_mimetype",
                    PATH=path,
                    CASEKIT_RENDERING="1",
                    MPLBACKEND="Agg",
                ),
            ):
                nb = pm.execute_notebook(
                    nb_in,
                    str(workdir / "executed.ipynb"),
                    parameters=job.params,
                    kernel_name="python3",
                    language="python",
                    cwd=str(workdir),
                    progress_bar=False,
                    log_output=True,
                    config=config,
                    execution_timeout=CELL_TIMEOUT,
                    shutdown_kernel="immediate",
                    request_save_on_cell_execute=False,
                )
            t_executed = time.perf_counter()
            nb.metadata["casekit"] = {
                "notebook": job.notebook,
                "case": job.case,
                "params": job.params,
                "key": job.key,
                "version": _version(),
                "rendered_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            }
            # papermill validated this notebook when it saved it; only metadata was added
            _atomic_write(
                ipynb_path, json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
            )
            _atomic_write(html_path, _to_html(nb, _title(job), job.show_code))
            log_fh.write(
                f"\ntimings: papermill {t_executed - start:.2f} s, .ipynb and HTML "
                f"{time.perf_counter() - t_executed:.2f} s\n"
            )
            with contextlib.suppress(OSError):
                failed_nb.unlink()
        except Exception as exc:  # a report's failure is data for the batch table
            error = _error_summary(exc)
            log_fh.write("\n" + "".join(traceback.format_exception(exc)))
            executed = workdir / "executed.ipynb"
            if executed.is_file():  # papermill saves the notebook with the error in it
                shutil.copyfile(executed, failed_nb)
                log_fh.write(f"\nthe notebook as far as it ran: {failed_nb}\n")
            # Nothing stale may sit where a finished report belongs.
            for p in (html_path, ipynb_path):
                with contextlib.suppress(OSError):
                    p.unlink()
        finally:
            pm_logger.removeHandler(handler)
            pm_logger.setLevel(old_level)
            pm_logger.propagate = old_propagate
    os.replace(log_tmp, log_path)
    shutil.rmtree(workdir, ignore_errors=True)
    seconds = time.perf_counter() - start
    result = RenderResult(
        job.notebook,
        job.case,
        job.params,
        "failed" if error else "ok",
        seconds,
        None if error else html_path,
        None if error else ipynb_path,
        log_path,
        error,
    )
    _write_sidecar(job, result)
    return result


def _run_in_worker(job: _Job, force: bool) -> RenderResult:
    """:func:`_run` that never raises (e.g. the disk is full): still a result for the table."""
    try:
        return _run(job, force, quiet_stderr=True)
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
        )
