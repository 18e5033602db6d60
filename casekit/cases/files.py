"""Opening a case's files: regular files inside the case folder only, read as UTF-8 text.

A case folder may come from anyone, so each file is checked with ``os.lstat`` and
``os.stat`` before a byte of it is read:

* a symbolic link that leads outside the case folder is refused, and its target is never
  opened, so nothing of it can reach a message;
* a dangling link, a folder where a file belongs, a named pipe (FIFO), a device and a
  socket each get a message of their own. A FIFO is never opened: opening one waits for
  a writer, and reading a device may never end.

The text must be UTF-8 (a leading byte-order mark is dropped) without NUL bytes.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from casekit.cases.readers import _Collector
>>> folder = Path(tempfile.mkdtemp())
>>> (folder / "reach.csv").mkdir()
>>> out = _Collector()
>>> _read_text(folder, "reach.csv", out) is None
True
>>> print(out.problems[0])
reach.csv: is a folder, not a file (expected a file named reach.csv)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from casekit.cases.model import MAX_FILE_BYTES

# O_NONBLOCK: should a FIFO slip past the checks (swapped in between), opening it must not wait.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def _kind_problem(mode: int, name: str) -> tuple[str, str] | None:
    """(what is wrong, what would be right) when ``mode`` is not a regular file's."""
    if stat.S_ISREG(mode):
        return None
    right = f"a file named {name}"
    if stat.S_ISDIR(mode):
        return "is a folder, not a file", right
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a file; it was not read", right
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a file; it was not read", right
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file; it was not read", right
    return "is not a regular file; it was not read", right


def _open_checked(path: Path, name: str) -> tuple[Path | None, int, str, str]:
    """Check ``path/name`` without reading it.

    Returns ``(real path, size, "", "")`` for a regular file inside the folder, else
    ``(None, 0, what is wrong, what would be right)``.
    """
    file = path / name
    try:
        st = os.lstat(file)
    except FileNotFoundError:
        return (
            None,
            0,
            "file is missing",
            f"a {name} in {path} (see datasets/README.md, or run `casekit new`)",
        )
    except OSError as err:
        return None, 0, f"cannot be read: {err.strerror}", f"a readable file named {name}"
    real = file
    if stat.S_ISLNK(st.st_mode):
        try:
            real = file.resolve(strict=True)
            st = os.stat(real)
        except (OSError, RuntimeError):  # RuntimeError: a link loop, before Python 3.13
            return (
                None,
                0,
                "is a symbolic link to nothing (a dangling link)",
                f"a file named {name}, or a link to one inside the case folder",
            )
        if not real.is_relative_to(path.resolve()):
            return (
                None,
                0,
                "is a symbolic link that leads outside the case folder; it was not read",
                "the file itself, or a link to a file inside the case folder",
            )
    bad = _kind_problem(st.st_mode, name)
    if bad is not None:
        return None, 0, *bad
    return real, st.st_size, "", ""


def _read_text(path: Path, name: str, out) -> str | None:
    """The text of file ``name`` of case folder ``path``, or None (the problem is in ``out``)."""
    real, size, message, expected = _open_checked(path, name)
    if real is None:
        out.add(name, None, None, message, expected)
        return None
    too_big = (
        f"file is {size / 1e6:.1f} MB, over the 5 MB limit",
        "a hand-curated case file (is this the right file?)",
    )
    if size > MAX_FILE_BYTES:
        out.add(name, None, None, *too_big)
        return None
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except OSError as err:
        out.add(name, None, None, f"cannot be read: {err.strerror}", f"a readable {name}")
        return None
    with os.fdopen(fd, "rb") as fh:
        bad = _kind_problem(os.fstat(fd).st_mode, name)  # swapped since the check?
        if bad is not None:
            out.add(name, None, None, *bad)
            return None
        raw = fh.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:  # grew since the check
        out.add(name, None, None, *too_big)
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # Excel's "CSV UTF-8" writes a BOM; it carries no data
    nul = raw.find(b"\x00")
    if nul >= 0:
        out.add(
            name,
            raw[:nul].count(b"\n") + 1,
            None,
            f"byte {nul} is a NUL byte; a text file has none",
            "the file saved as UTF-8 text (not UTF-16, not a spreadsheet or other binary file)",
        )
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        out.add(name, line, None, f"byte {err.start} is not valid UTF-8", "the file saved as UTF-8")
        return None
    if not text.strip():
        out.add(
            name,
            None,
            None,
            "file is empty",
            "a header row" if name.endswith(".csv") else "the case metadata",
        )
        return None
    return text
