"""Warm kernels: a fork server that hands each report a fresh kernel with the imports done.

A fresh kernel spends most of a report's time starting Python and importing pandas,
plotly, statsmodels, scipy and casekit (``research/stack.md``: about 3 s of a 3.8 s floor).
The fork server is a plain Python process that has done those imports once
(:data:`WARM_IMPORTS`) and then waits. For each report it forks a child, which changes to
the report's working directory and becomes an ordinary IPython kernel (``ipykernel``, the
same code ``python -m ipykernel_launcher`` runs). The kernel has the modules loaded but
has run no code of any notebook: every report starts from the same state, and a report
that sets a global, changes a pandas option or monkeypatches a module cannot touch the
next one, which is a different process forked from the untouched parent. The kernel is
killed as soon as its report is done.

Why a fork server and not a pool of pre-started kernels: a pool still pays the whole
start and the imports (about 3 s of CPU) for every report, only earlier; with one or two
cores that work competes with the reports themselves. A fork costs milliseconds and
shares the parent's memory (``benchmarks/README.md`` has the measurements).

Warm kernels need Linux (``fork`` and the abstract socket namespace); elsewhere
:func:`available` is false and batches use fresh kernels.

One server runs for the process that renders (``casekit render``, whose ``--jobs``
workers share it through a Unix socket named in :data:`SERVER_ENV`) and one for each Dask
worker process; it starts on first use or ahead of time with :func:`prestart`. It exits
when the process that started it goes away (end of its stdin), and its kernels exit when
it does.

Examples
--------
>>> "pandas" in WARM_IMPORTS and "casekit" in WARM_IMPORTS
True
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

__all__ = [
    "KERNEL_MODES",
    "SERVER_ENV",
    "WARM_IMPORTS",
    "ForkedKernel",
    "prestart",
    "start_kernel",
]

KERNEL_MODES = ("warm", "fresh")
"""``warm``: a kernel forked from the fork server; ``fresh``: a new kernel per report."""

WARM_IMPORTS = (
    "numpy",
    "pandas",
    "scipy",
    "scipy.optimize",
    "statsmodels.api",
    "plotly.graph_objects",
    "plotly.io",
    "plotly.express",
    "nbformat",
    "IPython.display",
    "casekit",
    "casekit.reach",
    "casekit.response",
    "casekit.market",
    "casekit.plots",
    "casekit.render",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
)
"""Modules the fork server imports before it forks any kernel (the notebooks' imports)."""

_START_TIMEOUT = 120.0  # seconds for the server to finish its imports


def _serve(address: str) -> None:  # pragma: no cover - runs in the fork server process
    """The fork server: import, listen on the Unix socket ``address``, fork one kernel per
    request; exit when the process that started it closes our stdin (or dies)."""
    import importlib
    import selectors
    import socket

    for name in WARM_IMPORTS:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    with contextlib.suppress(Exception):
        # plotly checks nbformat on the first fig.show(); nbformat's validator loads the
        # JSON schema and its format checkers (a second or more) on first use
        import nbformat.validator

        nbformat.validator.get_validator(version=4)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernels reap themselves: no zombies
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(_sockaddr(address))  # only now: a client that can connect finds us ready
    sock.listen(64)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(sys.stdin, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is sys.stdin:
                if not sys.stdin.readline():
                    return
                continue
            conn, _ = sock.accept()
            with conn, conn.makefile("rw", encoding="utf-8") as fh:
                try:
                    req = json.loads(fh.readline())
                except ValueError:
                    continue
                pid = os.fork()
                if pid == 0:
                    sock.close()
                    _become_kernel(req)
                fh.write(json.dumps({"pid": pid}) + "\n")
                fh.flush()


def _become_kernel(req: dict) -> None:  # pragma: no cover - runs in a forked child
    """Turn this forked child into an IPython kernel in ``req['cwd']``; never returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()  # the batch's terminal signals reach casekit, which stops the kernel
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        fd = os.open(req["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the kernel's own stdin
        sys.path[0] = os.getcwd()  # as for `python -m ipykernel_launcher` started here
        from ipykernel.kernelapp import IPKernelApp

        sys.argv = [sys.argv[0], "-f", req["connection_file"]]
        app = IPKernelApp.instance()
        app.initialize(
            ["-f", req["connection_file"], f"--IPKernelApp.parent_handle={os.getppid()}"]
        )
        app.start()
        code = 0
    finally:
        os._exit(code)


class _Server:
    """A handle on one fork server: the one this process started (``owner``), or the one
    its parent started and named in :data:`SERVER_ENV` (``--jobs`` workers share it)."""

    def __init__(self, env: dict[str, str], address: str | None = None):
        self.env = dict(env)
        self.proc = None
        if address is None:
            # Linux's abstract socket namespace: no file to clean up, in no temp folder
            address = f"@casekit-kernels-{os.getpid()}-{os.urandom(6).hex()}"
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "casekit.render.kernels", address],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=self.env,
                start_new_session=True,
            )
        self.address = address

    def fork(self, req: dict) -> int:
        """Ask the server for a kernel; waits while the server is still importing."""
        import socket

        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.connect(_sockaddr(self.address))
                    with sock.makefile("rw", encoding="utf-8") as fh:
                        fh.write(json.dumps(req) + "\n")
                        fh.flush()
                        line = fh.readline()
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if not self.alive() or time.monotonic() > deadline:
                    raise RuntimeError(
                        "the warm-kernel server did not start; use --kernel fresh"
                    ) from None
                time.sleep(0.02)
        if not line:
            raise RuntimeError("the warm-kernel server stopped; use --kernel fresh")
        return int(json.loads(line)["pid"])

    def alive(self) -> bool:
        return self.proc is None or self.proc.poll() is None

    def close(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(Exception):
            self.proc.kill()
            self.proc.wait(timeout=5)
        with contextlib.suppress(Exception):
            self.proc.stdin.close()


def _sockaddr(address: str) -> str:
    """``@name`` (as written in the environment, which holds no NUL) to ``\\0name``."""
    return "\0" + address[1:] if address.startswith("@") else address


SERVER_ENV = "CASEKIT_KERNEL_SERVER"
"""Environment variable: the socket of a fork server that child processes share."""

_SERVERS: dict[int, _Server] = {}  # by pid: a forked process does not use its parent's handle


def _kernel_env() -> dict[str, str]:
    """The environment a report's kernel sees: the fresh path's (``run._execute``)."""
    env = dict(os.environ)
    env.update(PLOTLY_RENDERER="plotly_mimetype", CASEKIT_RENDERING="1", MPLBACKEND="Agg")
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    return env


# read when used, not at import: they may differ between a server and its kernels
_PER_REPORT_ENV = ("CASEKIT_DATA", "CASEKIT_PRICES", "CASEKIT_KERNEL_SERVER")


def _server_env(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in _PER_REPORT_ENV}


def _server() -> _Server:
    env = _server_env(_kernel_env())
    srv = _SERVERS.get(os.getpid())
    shared = os.environ.get(SERVER_ENV)
    if shared and (srv is None or srv.address != shared):
        srv = _SERVERS[os.getpid()] = _Server(env, address=shared)
        return srv
    # some modules read the environment when imported (plotly its renderer): a changed
    # environment needs a new server; each kernel gets the environment of its report
    if srv is None or not srv.alive() or srv.env != env:
        if srv is not None:
            srv.close()
        srv = _Server(env)
        _SERVERS[os.getpid()] = srv
    return srv


def available() -> bool:
    """Whether warm kernels work here (Linux).

    Examples
    --------
    >>> available() == sys.platform.startswith("linux")
    True
    """
    return sys.platform.startswith("linux")


def prestart() -> str:
    """Start this process's fork server now (its imports run while other work goes on);
    returns its socket, which child processes may share through :data:`SERVER_ENV`."""
    return _server().address


@atexit.register
def _close_servers() -> None:
    srv = _SERVERS.pop(os.getpid(), None)
    if srv is not None:
        srv.close()


class ForkedKernel:
    """The kernel manager nbclient drives for a forked kernel (the subset it calls).

    Parameters
    ----------
    pid : int
        The kernel's process id.
    connection_file : path-like
        Its connection file (ports, key).
    """

    kernel_name = "python3"
    kernel_id = None

    def __init__(self, pid: int, connection_file: str | os.PathLike):
        self.pid = pid
        self.connection_file = str(connection_file)
        self.kc = None
        self.timed_out = False

    @property
    def has_kernel(self) -> bool:
        return self.is_alive()

    def is_alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except OSError:
            return True
        return True

    def client(self):
        """An asynchronous kernel client on this kernel's connection file."""
        from jupyter_client.asynchronous import AsyncKernelClient

        kc = AsyncKernelClient()
        kc.load_connection_file(self.connection_file)
        self.kc = kc
        return kc

    def interrupt_kernel(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGINT)

    def shutdown_kernel(self, now: bool = True, restart: bool = False) -> None:
        """Kill the kernel (a report's kernel is never reused) and wait until it is gone."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # the kernel and anything it started
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while self.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)

    def cleanup_resources(self, restart: bool = False) -> None:
        if self.kc is not None:
            with contextlib.suppress(Exception):
                self.kc.stop_channels()
            self.kc = None

    def stop_after(self, seconds: float | None) -> threading.Timer | None:
        """Kill the kernel after ``seconds`` (the per-report timeout); returns the timer."""
        if not seconds:
            return None

        def expire() -> None:
            self.timed_out = True
            self.shutdown_kernel()

        timer = threading.Timer(seconds, expire)
        timer.daemon = True
        timer.start()
        return timer


def start_kernel(workdir: str | os.PathLike, log: str | os.PathLike) -> ForkedKernel:
    """Fork a warm kernel running in ``workdir``; its stdout and stderr go to ``log``.

    The connection file and the IPC sockets are made inside ``workdir`` (the sockets by a
    relative name, as on the fresh path), so removing that folder removes them.
    """
    from jupyter_client.connect import write_connection_file

    workdir = Path(workdir)
    cf = workdir / "kernel.json"
    # the folder is new, so the IPC "ports" 1-5 (files kernel-ipc-1 ...) are free there
    write_connection_file(
        str(cf),
        shell_port=1,
        iopub_port=2,
        stdin_port=3,
        hb_port=4,
        control_port=5,
        transport="ipc",
        ip="kernel-ipc",
        kernel_name="python3",
    )
    srv = _server()
    env = {k: v for k, v in _kernel_env().items() if k != SERVER_ENV}
    req = {"cwd": str(workdir), "connection_file": str(cf), "log": str(log), "env": env}
    return ForkedKernel(srv.fork(req), cf)


if __name__ == "__main__":  # pragma: no cover
    _serve(sys.argv[1])
