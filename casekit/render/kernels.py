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

The server is a new interpreter, or a fork of ``casekit render`` itself, which has done
some of the imports already (:mod:`casekit.render.server_process`). One server runs for
the process that renders (``casekit render``, whose ``--jobs`` workers share it through a
Unix socket named in :data:`SERVER_ENV`) and one for each Dask worker process; it starts
on first use or ahead of time with :func:`prestart`. It exits when the process that
started it goes away (end of its stdin), and its kernels exit when it does. Only
processes of the same user get a kernel from it.

Its imports are the one part of a batch that ``--jobs`` cannot share out (about a second
of one core before the first report can start), so a batch starts the server before it
checks its reports, and the server imports only what every report needs plus what this
batch's reports need (:data:`EXTRA_IMPORTS`). All kernels of a batch fork from the same
state. After its imports the server freezes what they made out of the garbage collector's
reach (:func:`gc.freeze`): a kernel's collections then never walk, and so never copy,
the memory it shares with the server.

Examples
--------
>>> "pandas" in WARM_IMPORTS and "casekit" in WARM_IMPORTS
True
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import signal
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from casekit.render import server_process
from casekit.render.cleanup import _pid_alive

__all__ = [
    "KERNEL_MODES",
    "SERVER_ENV",
    "EXTRA_IMPORTS",
    "WARM_IMPORTS",
    "ForkedKernel",
    "extra_imports",
    "prestart",
    "start_kernel",
    "stop_server",
]

KERNEL_MODES = ("warm", "fresh")
"""``warm``: a kernel forked from the fork server; ``fresh``: a new kernel per report."""

WARM_IMPORTS = (
    "numpy",
    "pandas",
    "scipy",
    "scipy.optimize",
    "plotly.graph_objects",
    "plotly.io",
    # what the first figure shown in a kernel imports: nbformat (plotly checks its
    # version), jsonschema and its format checkers (see _lazy_iri_grammar), the renderers
    "plotly.io._renderers",
    "plotly.io._base_renderers",
    "narwhals._pandas_like.namespace",
    "nbformat",
    "IPython.display",
    "casekit",
    "casekit.format",
    "casekit.reach",
    "casekit.response",
    "casekit.plots",
    "casekit.tables",
    "casekit.report.views",
    "casekit.classroom",
    "pycountry",  # case validation (casekit.cases.places), on every load_case
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.debugger",  # debugpy: every kernel imports it when it starts
)
"""Modules the fork server imports before it forks any kernel: what the bundled notebooks
import and what a kernel imports when it starts and shows its first figure. Each costs
once per batch, before the first report can start, so modules only some reports need
are in :data:`EXTRA_IMPORTS` and imported only for batches that have such reports."""

EXTRA_IMPORTS = {
    "market": ("casekit.market",),  # a report with a market test (statsmodels)
    "event_log": ("casekit.events.story",),  # the event-log notebook (scipy.stats)
}
"""Modules the fork server imports only when a batch needs them (:func:`extra_imports`)."""


def extra_imports(specs: Iterable) -> tuple[str, ...]:
    """The :data:`EXTRA_IMPORTS` worth having in the fork server for ``specs``.

    ``specs`` are :class:`casekit.render.Spec`-like objects (``notebook``, ``params``):
    a report with a ``ticker`` gets a market test, an ``event_log`` report the event-log
    modules.

    Examples
    --------
    >>> from types import SimpleNamespace as S
    >>> extra_imports([S(notebook="case_report", params={"ticker": "ACME"})])
    ('casekit.market',)
    >>> extra_imports([S(notebook="case_report", params={})])
    ()
    """
    found: list[str] = []
    for spec in specs:
        params = getattr(spec, "params", None) or {}
        if params.get("ticker"):
            found += EXTRA_IMPORTS["market"]
        if Path(str(getattr(spec, "notebook", ""))).stem == "event_log":
            found += EXTRA_IMPORTS["event_log"]
    return tuple(dict.fromkeys(found))


def _lazy_iri_grammar() -> None:
    """Let jsonschema import without building rfc3987_syntax's grammar until it is used.

    nbformat imports jsonschema (so do papermill and plotly's first figure), and
    jsonschema imports ``rfc3987_syntax.is_valid_syntax`` for its ``iri`` format checks.
    Importing rfc3987_syntax builds an Earley parser of RFC 3987: over a second, half of
    the fork server's imports. Called before jsonschema is imported, this hands it a
    stand-in that imports the real module the first time an ``iri`` is checked, so every
    check gives the same answer, and only a process that checks one pays. Does nothing
    once jsonschema or rfc3987_syntax is imported, or if rfc3987_syntax is not installed.
    """
    import importlib
    import importlib.util
    import types

    name = "rfc3987_syntax"
    if name in sys.modules or "jsonschema._format" in sys.modules:
        return
    try:
        if importlib.util.find_spec(name) is None:
            return
    except (ImportError, ValueError):
        return

    def is_valid_syntax(term: str, value: str):
        return importlib.import_module(name).is_valid_syntax(term, value)

    stand_in = types.ModuleType(name)
    stand_in.is_valid_syntax = is_valid_syntax
    sys.modules[name] = stand_in
    try:
        importlib.import_module("jsonschema._format")
    except Exception:  # jsonschema's own problem, for whoever imports it to see
        pass
    finally:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]


_START_TIMEOUT = 120.0  # seconds for the server to finish its imports


def _serve(address: str, extra: Sequence[str] = ()) -> None:  # pragma: no cover - server
    """The fork server: import, listen on the Unix socket ``address``, fork one kernel per
    request of this user; exit when the process that started it closes our stdin (or dies)."""
    import gc
    import importlib
    import selectors
    import socket

    # No garbage collection while importing: the imports make few cycles (under 1 % of the
    # 300,000 objects they create), yet a full collection walks them all each time the
    # count passes its threshold, about 0.3 s of the server's start. What they made is
    # then frozen (gc.freeze's own recipe for a process that forks); kernels collect again.
    gc.disable()
    _lazy_iri_grammar()
    for name in (*WARM_IMPORTS, *extra):
        with contextlib.suppress(Exception):  # a module that fails is the kernel's to import
            importlib.import_module(name)
    with contextlib.suppress(Exception):
        # nbformat's validator loads the JSON schema on first use
        import nbformat.validator

        nbformat.validator.get_validator(version=4)
    # What the imports made stays in the permanent generation: a kernel's garbage
    # collections never walk (and so never copy) the memory it shares with this process.
    gc.freeze()
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
                if not _peer_is_us(conn):
                    continue
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


def _peer_is_us(conn) -> bool:
    """Whether the process at the other end of the Unix socket ``conn`` runs as this user.

    An abstract socket has no file permissions and ``/proc/net/unix`` lists its name, so
    the fork server asks who connected: a kernel runs any code its client sends.

    Examples
    --------
    >>> import socket
    >>> a, b = socket.socketpair(socket.AF_UNIX)
    >>> _peer_is_us(a)
    True
    >>> a.close(); b.close()
    """
    import socket
    import struct

    creds = struct.Struct("3i")  # pid, uid, gid
    try:
        peer = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, creds.size)
    except OSError:
        return False
    return creds.unpack(peer)[1] == os.getuid()


def _become_kernel(req: dict) -> None:  # pragma: no cover - runs in a forked child
    """Turn this forked child into an IPython kernel in ``req['cwd']``; never returns."""
    import gc

    code = 1
    try:
        gc.enable()  # off in the server while it imported (_serve)
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
            [
                "-f",
                req["connection_file"],
                f"--IPKernelApp.parent_handle={os.getppid()}",
                # as nbclient starts a fresh kernel: no history written to the user's
                # ~/.ipython (and no thread writing it)
                "--HistoryManager.hist_file=:memory:",
            ]
        )
        app.start()
        code = 0
    finally:
        os._exit(code)


class _Server:
    """A handle on one fork server: the one this process started (``owner``), or the one
    its parent started and named in :data:`SERVER_ENV` (``--jobs`` workers share it)."""

    def __init__(self, env: dict[str, str], address: str | None = None, extra: Sequence[str] = ()):
        self.env = dict(env)
        self.extra = tuple(extra)  # its imports beyond WARM_IMPORTS
        self.proc = None
        if address is None:
            # Linux's abstract socket namespace: no file to clean up, in no temp folder
            address = f"@casekit-kernels-{os.getpid()}-{os.urandom(6).hex()}"
            self.proc = server_process.start(address, self.env, self.extra)
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

    def ready(self, timeout: float = _START_TIMEOUT) -> bool:
        """Wait until the server takes requests (its imports are done); whether it does.

        It binds its socket only once the imports are done, so a connection that
        succeeds is the sign (the server drops a connection that sends no request)."""
        import socket

        deadline = time.monotonic() + timeout
        while self.alive():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                try:
                    sock.connect(_sockaddr(self.address))
                    return True
                except (FileNotFoundError, ConnectionRefusedError):
                    pass
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return False

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


def _server(extra: Sequence[str] | None = None) -> _Server:
    """This process's fork server; ``extra``: imports it must have beyond WARM_IMPORTS
    (``None``: whatever it has)."""
    env = _server_env(_kernel_env())
    srv = _SERVERS.get(os.getpid())
    shared = os.environ.get(SERVER_ENV)
    if shared:
        if srv is None or srv.address != shared:
            srv = _SERVERS[os.getpid()] = _Server(env, address=shared)
        return srv
    # some modules read the environment when imported (plotly its renderer): a changed
    # environment needs a new server; each kernel gets the environment of its report
    usable = srv is not None and srv.alive() and srv.env == env
    if usable and not set(extra or ()) <= set(srv.extra):
        extra = (*srv.extra, *extra)  # a server with more imports replaces this one
        usable = False
    if not usable:
        if srv is not None:
            srv.close()
        srv = _Server(env, extra=tuple(dict.fromkeys(extra or ())))
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


def prestart(extra: Sequence[str] = ()) -> str:
    """Start this process's fork server now (its imports run while other work goes on),
    with ``extra`` modules imported besides :data:`WARM_IMPORTS`; returns its socket,
    which child processes may share through :data:`SERVER_ENV`."""
    return _server(extra).address


def wait_ready(timeout: float = _START_TIMEOUT) -> bool:
    """Wait until this process's fork server (see :func:`prestart`) takes requests;
    whether it does (False: none started, it died, or ``timeout`` seconds passed)."""
    srv = _SERVERS.get(os.getpid())
    return srv is not None and srv.ready(timeout)


def stop_server() -> None:
    """Stop the fork server this process started, if any (it also stops at exit)."""
    srv = _SERVERS.pop(os.getpid(), None)
    if srv is not None:
        srv.close()


_close_servers = atexit.register(stop_server)


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

    @property
    def has_kernel(self) -> bool:
        return self.is_alive()

    def is_alive(self) -> bool:
        return _pid_alive(self.pid)

    def client(self):
        """An asynchronous kernel client on this kernel's connection file."""
        kc = _client_class()(pid=self.pid)
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


@functools.cache
def _client_class() -> type:
    """jupyter_client's asynchronous client, told how to see that a forked kernel lives.

    Without a kernel manager as its parent the stock client judges that by the heartbeat,
    which it starts and then polls every 0.2 s; and once the kernel has answered, it waits
    0.2 s more for stray messages. Here the kernel's pid says whether it lives, and the
    messages already received are dropped without waiting: nbclient ignores messages that
    answer no request of its own. That is up to 0.4 s of every report, spent waiting.
    """
    from jupyter_client.asynchronous import AsyncKernelClient
    from traitlets import Int

    class ForkedKernelClient(AsyncKernelClient):
        pid = Int(0)

        async def _async_is_alive(self) -> bool:
            return _pid_alive(self.pid)

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            from queue import Empty

            deadline = time.monotonic() + (timeout if timeout is not None else 1e9)
            while True:
                self.kernel_info()
                try:
                    msg = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    msg = None
                if msg is not None and msg["msg_type"] == "kernel_info_reply":
                    try:  # IOPub is connected once the request's status arrives there
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
                if not _pid_alive(self.pid):
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
            with contextlib.suppress(Empty):
                while True:
                    await self.iopub_channel.get_msg(timeout=0)

    return ForkedKernelClient


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
    _serve(sys.argv[1], sys.argv[2:])
