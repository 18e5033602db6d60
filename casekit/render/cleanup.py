"""Temporary files of a render: made where they belong, removed on an interrupt, swept later.

* A report's kernel runs in a ``casekit-<pid>-<folder>-<notebook>-*`` folder in the system
  temp folder; the kernel's connection file and IPC sockets live inside it, so removing the
  folder removes everything the run made there.
* Files of the report itself are written beside their destination under
  ``.<name>.<pid>.<random>.tmp`` and renamed into place, so the rename never crosses a
  filesystem (the temp folder is often a tmpfs, the reports folder a mounted volume).
* SIGTERM is turned into :class:`KeyboardInterrupt` while a batch runs, so SIGINT and
  SIGTERM both unwind through the ``finally`` blocks that remove the temporaries.
* What a SIGKILL leaves behind is swept by the next run: folders and files named after a
  process that no longer exists and untouched for :data:`STALE_AFTER` seconds.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

__all__ = ["STALE_AFTER"]

STALE_AFTER = 3600.0
"""Seconds a temporary of a dead process stays untouched before the next run removes it
(a pid alone is no proof: another machine or container may share the temp folder)."""

_WORKDIR = re.compile(r"casekit-(\d+)-")
_PARTIAL = re.compile(r"\..+\.(\d+)\.[A-Za-z0-9_]+\.tmp")


def _pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one we may not signal counts as existing).

    Examples
    --------
    >>> _pid_alive(os.getpid())
    True
    """
    if pid <= 0:
        return True  # not a pid we wrote: never treat as dead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _stale(path: Path, pid: int, now: float, max_age: float) -> bool:
    try:
        age = now - path.lstat().st_mtime
    except OSError:
        return False
    return age >= max_age and pid != os.getpid() and not _pid_alive(pid)


def make_workdir(folder: str, notebook: str) -> Path:
    """A fresh ``casekit-<pid>-<folder>-<notebook>-*`` folder in the system temp folder."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{folder}-{notebook}")[:80]
    return Path(tempfile.mkdtemp(prefix=f"casekit-{os.getpid()}-{safe}-"))


def sweep_temp(temp_dir: str | os.PathLike | None = None, max_age: float = STALE_AFTER) -> list:
    """Remove ``casekit-<pid>-*`` folders of dead processes older than ``max_age`` seconds.

    Returns the folders removed. Errors are ignored: a sweep must never stop a render.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> old = d / "casekit-999999999-x-y-abc"  # pid 999999999: no such process
    >>> old.mkdir()
    >>> os.utime(old, (0, 0))  # last touched in 1970
    >>> [p.name for p in sweep_temp(d)]
    ['casekit-999999999-x-y-abc']
    """
    root = Path(temp_dir if temp_dir is not None else tempfile.gettempdir())
    removed = []
    now = time.time()
    try:
        entries = list(root.glob("casekit-*"))
    except OSError:
        return removed
    for path in entries:
        m = _WORKDIR.match(path.name)
        if m and path.is_dir() and not path.is_symlink():
            if _stale(path, int(m.group(1)), now, max_age):
                shutil.rmtree(path, ignore_errors=True)
                if not path.exists():
                    removed.append(path)
    return removed


def sweep_partials(folder: str | os.PathLike, max_age: float = STALE_AFTER) -> list:
    """Remove ``.<name>.<pid>.<random>.tmp`` files of dead processes from ``folder``."""
    removed = []
    now = time.time()
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for path in entries:
        m = _PARTIAL.fullmatch(path.name)
        if m and _stale(path, int(m.group(1)), now, max_age):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def sigterm_interrupts():
    """While inside, SIGTERM raises KeyboardInterrupt (main thread only; restored after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        old = signal.signal(signal.SIGTERM, _raise_interrupt)
    except (ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def worker_init() -> None:
    """Initializer of a worker process: SIGTERM and SIGINT unwind its render and clean up."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
