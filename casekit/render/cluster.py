"""Rendering a batch on a Dask distributed cluster (``casekit render ... --scheduler``).

The client (the machine that runs ``casekit render``) checks every report as for a local
batch, then sends each one to the cluster as bytes: the notebook's text, the job
(parameters, names, fingerprint) and the files the report reads that a worker may not
have. A worker needs no shared filesystem and no copy of the reports folder:

* a bundled case (shipped inside casekit) is loaded on the worker by its id; the client
  sends a SHA-256 of the case's files and the worker refuses to render if its copy
  differs. A case from ``CASEKIT_DATA`` is sent whole (a case folder is small), as are
  folders and files that ``*_dir`` / ``*_path`` parameters name (then the parameter
  points to the worker's copy);
* the worker renders in a temporary folder with a warm kernel from its own fork server
  (:mod:`casekit.render.kernels`, one per worker process, kept for every later batch;
  with ``dask worker ... --preload casekit.render.cluster`` it is started with the worker,
  see :func:`dask_setup`), and returns the ``.ipynb``, ``.html`` and ``.log`` as bytes;
* the client writes them atomically beside the sidecar, exactly as a local render does.

Before any report runs, the client checks that every worker runs the same Python
(major.minor) and the same casekit (version and code): a report must not depend on which
machine made it. An unreachable scheduler is reported within :data:`CONNECT_TIMEOUT`
seconds. A worker that dies during a report (killed, out of memory) gets the report
retried once on a worker; if that dies too, the report is failed and the rest of the
batch goes on. Run workers with one thread each (``dask worker ADDRESS --nthreads 1``):
a report changes the process's working directory while it runs, so a worker process
renders one report at a time anyway.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import platform
import shutil
import tempfile
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path

from casekit.exceptions import CasekitError

__all__ = ["CONNECT_TIMEOUT", "SCHEDULER_ENV", "ClusterError"]

SCHEDULER_ENV = "CASEKIT_SCHEDULER"
"""Environment variable: the default ``--scheduler`` address (``tcp://HOST:PORT``)."""

CONNECT_TIMEOUT = 5.0
"""Seconds to reach the scheduler before giving up (the message comes within 10 s)."""

MAX_ATTEMPTS = 2  # a report whose worker dies is retried once
_SUFFIXES = (".html", ".ipynb", ".log", ".failed.ipynb")


class ClusterError(CasekitError):
    """The cluster cannot render the batch: unreachable, no workers, or other versions."""


# ---------------------------------------------------------------------------
# the client: connect, check the workers
# ---------------------------------------------------------------------------


def connect(address: str, timeout: float = CONNECT_TIMEOUT):
    """A ``distributed.Client`` on ``address``, or :class:`ClusterError` within ``timeout`` s."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError(
            "--scheduler needs the Dask distributed package: pip install 'casekit[cluster]'"
        ) from None
    how = (
        f"start one with `dask scheduler` and workers with `dask worker {address} "
        f"--nthreads 1` (see the README), or render without --scheduler"
    )
    if "://" not in address:
        raise ClusterError(f"scheduler address {address!r} is not tcp://HOST:PORT; {how}")
    host, _, port = address.split("://", 1)[1].rpartition(":")
    if address.startswith("tcp://") and host and port.isdigit():
        # a refused or silent port fails here at once, before distributed's retry loop
        import socket

        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
        except OSError as err:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {address} within {timeout:g} s "
                f"({err.strerror or type(err).__name__}); {how}"
            ) from None
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({detail}); {how}"
        ) from None


def _versions() -> dict[str, str]:
    """What must be equal on the client and on every worker (run on each of them)."""
    import casekit
    from casekit.render.jobs import _package_fingerprint

    return {
        "python": ".".join(platform.python_version_tuple()[:2]),
        "casekit": str(casekit.__version__),
        "casekit code": _package_fingerprint()[:12],
    }


def check_workers(client, timeout: float = 10.0) -> int:
    """Check that workers exist and run this Python and casekit; returns how many there are.

    Raises
    ------
    ClusterError
        No worker within ``timeout`` seconds, or a worker whose versions differ (each
        difference named, worker by worker).
    """
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (TimeoutError, OSError):
        raise ClusterError(
            f"the scheduler at {client.scheduler.address} has no workers (waited {timeout:g} s); "
            f"start some with `dask worker {client.scheduler.address} --nthreads 1`"
        ) from None
    here = _versions()
    there = client.run(_versions)
    problems = []
    for worker, theirs in sorted(there.items()):
        diff = [f"{k} {theirs.get(k)} (here {v})" for k, v in here.items() if theirs.get(k) != v]
        if diff:
            problems.append(f"  {worker}: " + ", ".join(diff))
    if problems:
        raise ClusterError(
            "the workers do not run the same Python and casekit as this machine; no report "
            "was rendered. Install the same versions on every worker:\n" + "\n".join(problems)
        )
    return len(there)


# ---------------------------------------------------------------------------
# what a report needs, as bytes
# ---------------------------------------------------------------------------


def _tree_bytes(root: Path) -> dict[str, bytes]:
    if root.is_file():
        return {root.name: root.read_bytes()}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _tree_sha(root: Path) -> str:
    h = hashlib.sha256()
    for name, data in _tree_bytes(root).items():
        h.update(name.encode() + b"\0" + data + b"\0")
    return h.hexdigest()


def _bundled_dirs() -> list[Path]:
    """The folders of cases that ship with casekit (every worker has them)."""
    from casekit import cases as _cases

    return [d.resolve() for d in _cases.data_dirs()[:2] if d.exists()]


def _payload(job, timeout: float | None) -> dict:
    from casekit.render.jobs import _case_folders
    from casekit.render.params import _PATH_SUFFIXES

    bundled = _bundled_dirs()
    cases = []
    for folder in _case_folders(job.params, job.case):
        if folder.resolve().parent in bundled:
            cases.append({"id": folder.name, "sha": _tree_sha(folder)})
        else:
            cases.append({"id": folder.name, "files": _tree_bytes(folder)})
    paths = {}
    for name, value in job.params.items():
        if name.endswith(_PATH_SUFFIXES) and isinstance(value, str) and value:
            if Path(value).exists():
                p = Path(value)
                paths[name] = {"dir": p.is_dir(), "name": p.name, "files": _tree_bytes(p)}
    nb = Path(job.path)
    return {
        "job": job,
        "notebook": (nb.name, nb.read_bytes()),
        "cases": cases,
        "paths": paths,
        "timeout": timeout,
    }


# ---------------------------------------------------------------------------
# the worker
# ---------------------------------------------------------------------------

_LOCK = threading.Lock()  # one report at a time per worker process (papermill changes cwd)


def _warm_worker(show_code: bool = False, extra: Sequence[str] = ()) -> threading.Thread:
    """Run on every worker before the reports: start its fork server (with the ``extra``
    imports the batch's reports need), and import what the worker itself needs (papermill,
    nbconvert and the report template) in a thread, as ``--jobs`` workers inherit them
    already imported from the process that forks them. Returns that thread."""
    from casekit.render.kernels import prestart

    prestart(extra)

    def imports() -> None:
        with contextlib.suppress(Exception):
            from casekit.render.kernels import _lazy_iri_grammar

            _lazy_iri_grammar()
            import jupytext  # noqa: F401
            import papermill  # noqa: F401

            from casekit.render.html import _prewarm

            _prewarm(show_code)

    thread = threading.Thread(target=imports, daemon=True)
    thread.start()
    return thread


def _warm_and_wait() -> None:
    from casekit.render.kernels import wait_ready

    thread = _warm_worker()
    wait_ready()
    thread.join()


async def dask_setup(worker) -> None:
    """Dask's preload hook: ``dask worker ... --preload casekit.render.cluster``.

    The worker starts its warm kernels when it starts, not when the first batch reaches
    it: its fork server does its imports, and so does the worker (papermill, nbconvert),
    and the worker joins the cluster once they are done. A worker keeps its fork server
    for every later batch. Without the preload the first batch on each worker pays for
    them. On a system without warm kernels (not Linux) it does nothing.
    """
    import asyncio

    from distributed import Worker

    from casekit.render.kernels import available

    if isinstance(worker, Worker) and available():
        await asyncio.to_thread(_warm_and_wait)


def _write_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        dst = root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(data)


def _attempt(name: str) -> int:
    """This report's attempt number, counted on the scheduler (it survives a dead worker)."""
    from distributed import Variable

    var = Variable(name)
    n = int(var.get(timeout=30)) + 1  # the client set it to 0 before it submitted the report
    var.set(n)
    return n


def render_remote(payload: dict, attempt_name: str | None = None) -> dict:
    """Render one report on this worker; returns its status and files as bytes.

    Parameters
    ----------
    payload : dict
        From the client: the job, the notebook's bytes, the cases and path parameters.
    attempt_name : str, optional
        Name of the scheduler variable that counts this report's attempts.

    Returns
    -------
    dict
        ``status``, ``error``, ``seconds``, ``worker`` and ``files`` (suffix -> bytes).
    """
    from casekit.render import jobs as _jobs
    from casekit.render.run import _environ, _run

    if attempt_name is not None and _attempt(attempt_name) > MAX_ATTEMPTS:
        return {
            "status": "failed",
            "error": "the worker rendering this report died, and so did the one that retried it",
            "seconds": 0.0,
            "files": {},
            "worker": platform.node(),
        }
    with _LOCK:
        tmp = Path(tempfile.mkdtemp(prefix=f"casekit-{os.getpid()}-remote-"))
        try:
            job = payload["job"]
            name, text = payload["notebook"]
            nb = tmp / "notebook" / name
            _write_tree(nb.parent, {name: text})
            known = _jobs._case_ids()
            for case in payload["cases"]:
                if "files" in case:
                    _write_tree(tmp / "data" / case["id"], case["files"])
                elif case["id"] not in known or _tree_sha(known[case["id"]]) != case["sha"]:
                    raise ClusterError(
                        f"this worker's copy of the bundled case {case['id']!r} differs from "
                        f"the client's"
                    )
            params = dict(job.params)
            for pname, spec in payload["paths"].items():
                dst = tmp / "paths" / pname / spec["name"]
                _write_tree(dst if spec["dir"] else dst.parent, spec["files"])
                params[pname] = str(dst)
            remote = dataclasses.replace(job, path=str(nb), out_dir=str(tmp / "out"), params=params)
            data = os.pathsep.join(
                [str(tmp / "data"), *filter(None, [os.environ.get("CASEKIT_DATA")])]
            )
            with _environ(CASEKIT_DATA=data):
                res = _run(remote, True, kernel="warm", timeout=payload["timeout"])
            files = {}
            for suffix in _SUFFIXES:
                p = remote.output(suffix)
                if p.is_file():
                    files[suffix] = p.read_bytes()
            return {
                "status": res.status,
                "error": res.error,
                "seconds": res.seconds,
                "files": files,
                "worker": platform.node(),
            }
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# the client: submit, collect, write
# ---------------------------------------------------------------------------


def _store(job, out: dict):
    """Write a worker's result into the reports folder as a local render would."""
    from casekit.render.jobs import (
        RenderResult,
        _atomic_write,
        _last_good,
        _sidecar_text,
        _stage,
    )

    previous = _last_good(job)
    files = out.get("files", {})
    ok = out["status"] == "ok"
    log = files.get(".log") or f"casekit render {job.label}\n{out.get('error')}\n".encode()
    _atomic_write(job.output(".log"), log)
    result = RenderResult(
        job.notebook,
        job.case,
        job.params,
        out["status"],
        float(out.get("seconds") or 0.0),
        job.output(".html") if ok else None,
        job.output(".ipynb") if ok else None,
        job.output(".log"),
        out.get("error"),
        name=job.name or None,
    )
    staged = []
    try:
        if ok:
            for suffix in (".ipynb", ".html"):
                staged.append((_stage(job.output(suffix), files[suffix]), job.output(suffix)))
        elif ".failed.ipynb" in files:
            _atomic_write(job.output(".failed.ipynb"), files[".failed.ipynb"])
        sidecar = _sidecar_text(job, result, last_good=previous)
        staged.append((_stage(job.output(".json"), sidecar), job.output(".json")))
        for tmp, dst in staged:
            os.replace(tmp, dst)
        staged = []
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
    if ok:
        with contextlib.suppress(OSError):
            job.output(".failed.ipynb").unlink()
    elif previous is None:
        for suffix in (".html", ".ipynb"):
            with contextlib.suppress(OSError):
                job.output(suffix).unlink()
    return result


def _failed(job, error: str) -> dict:
    return {"status": "failed", "error": error, "seconds": 0.0, "files": {}}


def run_on_cluster(
    prepared: Sequence, address: str, *, timeout: float | None, bar, order: Sequence[int]
) -> list:
    """Render ``prepared`` jobs on the cluster at ``address``; results in their order.

    ``bar`` is the batch's progress bar; each finished report is also written above it
    with its status and the worker that rendered it.
    """
    client = connect(address)
    try:
        n_workers = check_workers(client)
        from casekit.render.kernels import extra_imports

        with contextlib.suppress(Exception):
            client.run(
                _warm_worker,
                show_code=bool(prepared and prepared[0].show_code),
                extra=extra_imports(prepared),
            )
        from distributed import Variable, as_completed

        token = uuid.uuid4().hex[:12]
        results: list = [None] * len(prepared)
        names = {i: f"casekit-attempt-{token}-{i}" for i in range(len(prepared))}
        tries = dict.fromkeys(range(len(prepared)), 0)

        def submit(i: int):
            if tries[i] == 0:
                Variable(names[i], client=client).set(0)
            tries[i] += 1
            return client.submit(
                render_remote,
                _payload(prepared[i], timeout),
                names[i],
                key=f"casekit-render-{token}-{i}-{tries[i]}",
                pure=False,
            )

        futures = {submit(i): i for i in order}
        running = as_completed(list(futures), loop=client.loop)
        bar.update(running=min(n_workers, len(futures)))
        for fut in running:
            i = futures.pop(fut)
            job = prepared[i]
            try:
                out = fut.result()
            except Exception as exc:
                if type(exc).__name__ == "KilledWorker" and tries[i] < MAX_ATTEMPTS:
                    new = submit(i)
                    futures[new] = i
                    running.add(new)
                    continue
                out = _failed(job, _describe(exc))
            try:
                results[i] = _store(job, out)
            except OSError as err:
                from casekit.render.run import _error_summary

                out = _failed(job, _error_summary(err))
                results[i] = dataclasses.replace(
                    _result_stub(job), status="failed", error=out["error"]
                )
            bar.finish_one(results[i].ok)
            where = f" (on {out['worker']})" if out.get("worker") else ""
            bar.note(f"{job.label}: {results[i].status}{where}")
            bar.update(running=min(n_workers, len(futures)))
        with contextlib.suppress(Exception):
            for name in names.values():
                Variable(name, client=client).delete()
        return results
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=5)


def _describe(exc: BaseException) -> str:
    if type(exc).__name__ == "KilledWorker":
        return "the worker rendering this report died, and so did the one that retried it"
    from casekit.render.run import _error_summary

    return _error_summary(exc)


def _result_stub(job):
    from casekit.render.jobs import RenderResult

    return RenderResult(
        job.notebook,
        job.case,
        job.params,
        "failed",
        0.0,
        None,
        None,
        job.output(".log"),
        name=job.name or None,
    )
