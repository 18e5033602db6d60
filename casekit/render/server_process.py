"""How the warm-kernel fork server (:mod:`casekit.render.kernels`) is started: as a new
interpreter, or as a fork of the process that renders.

A new interpreter (``python -m casekit.render.kernels``) starts from nothing: Python's own
start, then numpy, pandas and casekit before the rest of the server's imports. A process
that has already imported those can fork instead, and the server starts with them done:
about 0.3 s less before a batch's first report (``benchmarks/README.md``). That time is
the one part of a batch that ``--jobs`` cannot share out.

A forked server, and every kernel it forks, inherits this process's state, not only its
imports: a pandas option set here, or a module patched here, would reach every report.
So only a process that runs nothing but casekit's own code may start its server this way,
and says so for the one render with :func:`fork_start_allowed` (``casekit render`` does).
Even then it falls back to a new interpreter when forking is not safe here: when the
process runs more than one thread, or has imported a module that read the environment
when it was imported (:data:`IMPORTED_WITH_ENVIRONMENT`: a report's kernel needs plotly's
renderer set for reports, not this process's).

Examples
--------
>>> import casekit.render.server_process as sp
>>> sp.fork_allowed()  # only inside fork_start_allowed(), and only where it is safe
False
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

__all__ = ["IMPORTED_WITH_ENVIRONMENT", "fork_allowed", "fork_start_allowed", "start"]

IMPORTED_WITH_ENVIRONMENT = ("plotly", "matplotlib", "zmq")
"""Modules that make a fork of this process unfit to be a fork server: plotly and
matplotlib choose their renderer and backend from the environment when imported (the
server's environment differs from this process's), and zmq may run threads of its own."""

_allowed = False


@contextlib.contextmanager
def fork_start_allowed():
    """Within this block, let this process start its fork server by forking itself (see
    the module's notes); a server started here stays for the rest of the process.

    Use it only in a process whose state no user code has changed: ``casekit render``
    wraps its render in it.

    Examples
    --------
    >>> import casekit.render.server_process as sp
    >>> with sp.fork_start_allowed():
    ...     sp._allowed
    True
    >>> sp._allowed
    False
    """
    global _allowed
    before, _allowed = _allowed, True
    try:
        yield
    finally:
        _allowed = before


def fork_allowed() -> bool:
    """Whether the next server of this process will be a fork of it: allowed
    (:func:`fork_start_allowed`), on Linux, with one thread, and none of
    :data:`IMPORTED_WITH_ENVIRONMENT` imported."""
    import threading

    return (
        _allowed
        and sys.platform.startswith("linux")
        and threading.active_count() == 1
        and not any(name in sys.modules for name in IMPORTED_WITH_ENVIRONMENT)
    )


def start(address: str, env: Mapping[str, str], extra: Sequence[str] = ()):
    """Start a fork server listening at ``address`` with environment ``env`` and the
    ``extra`` imports; returns its process (``pid``, ``poll``, ``kill``, ``wait`` and
    ``stdin``, whose closing tells it to exit), forked when :func:`fork_allowed`."""
    if fork_allowed():
        return _fork(address, env, extra)
    return subprocess.Popen(
        [sys.executable, "-m", "casekit.render.kernels", address, *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(env),
        start_new_session=True,
    )


class _Forked:
    """A server forked from this process: the part of :class:`subprocess.Popen` that
    :class:`casekit.render.kernels._Server` uses."""

    def __init__(self, pid: int, lifeline: int):
        self.pid = pid
        self.stdin = os.fdopen(lifeline, "wb")  # the server exits when this closes
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere
                self.returncode = -1
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"fork server {self.pid}", timeout)
            time.sleep(0.005)
        return self.returncode


def _fork(address: str, env: Mapping[str, str], extra: Sequence[str]) -> _Forked:
    read_end, write_end = os.pipe()
    for stream in (sys.stdout, sys.stderr):  # nothing buffered here is written twice
        with contextlib.suppress(Exception):
            stream.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the server; the tests see it through its kernels
        code = 1
        try:
            os.close(write_end)
            _become_server_process(read_end, env)
            from casekit.render.kernels import _serve

            _serve(address, extra)
            code = 0
        finally:
            os._exit(code)  # never this process's atexit handlers or buffers
    os.close(read_end)
    return _Forked(pid, write_end)


def _become_server_process(lifeline: int, env: Mapping[str, str]) -> None:  # pragma: no cover
    """In the forked child: what ``subprocess.Popen`` gives a new server (its own session,
    the lifeline as stdin, no output, the server's environment, default signal handling)."""
    os.setsid()
    if lifeline != 0:  # it is 0 already when this process was started with stdin closed
        os.dup2(lifeline, 0)
        os.close(lifeline)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (1, 2):
        if fd != null:
            os.dup2(null, fd)
    if null > 2:
        os.close(null)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - the lifeline
    sys.stdout = sys.stderr = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    os.environ.clear()
    os.environ.update(env)
    with contextlib.suppress(ValueError):
        signal.set_wakeup_fd(-1)
    # as after exec: a handler set here is gone (SIGINT's is Python's own again), an
    # ignored signal stays ignored
    for sig in signal.valid_signals():
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            if not callable(signal.getsignal(sig)):
                continue
            if sig == signal.SIGINT:
                signal.signal(sig, signal.default_int_handler)
            else:
                signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
