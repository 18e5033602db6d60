"""What to render: report specs, checked jobs, their fingerprints and the reuse cache.

A :class:`Spec` names a notebook, a case and parameters. :func:`_prepare` checks it
completely (notebook, parameters, case) without starting a kernel and turns it into a
picklable :class:`_Job` whose ``key`` fingerprints everything the report depends on: the
notebook, the parameters, the casekit code, the case's data and any folder a parameter
names. A ``<notebook>.json`` sidecar next to the report holds that key; an unchanged key
means the report is reused.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from casekit.exceptions import ParameterError
from casekit.render.params import (
    _PATH_SUFFIXES,
    PRICES_ENV,
    coerce_params,
    describe_params,
    notebook_params,
    notebook_path,
)

__all__ = ["CROSS_CASE_DIR", "RenderResult", "Spec"]

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._,+=-]{0,199}")

CROSS_CASE_DIR = "all_cases"
"""Output folder of notebooks that take no single ``case`` (not a valid case id, so it
cannot collide with one)."""


@dataclass(frozen=True)
class Spec:
    """One report to render: a notebook, the case it is about (if it takes one) and parameters."""

    notebook: str
    case: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None  # the report's file name; default the notebook's (grids set it)


@dataclass(frozen=True)
class _Job:
    """A checked Spec, ready to run (picklable)."""

    notebook: str  # display name (file stem)
    path: str  # notebook file
    case: str | None  # case id, or None for cross-case notebooks
    folder: str  # output sub-folder: case id or CROSS_CASE_DIR
    params: dict  # every parameter passed to papermill (after coercion)
    show_code: bool
    out_dir: str
    key: str  # fingerprint of everything the report depends on
    name: str = ""  # the report's file name when not the notebook's (a grid's reports)

    @property
    def label(self) -> str:
        return f"{self.folder}/{self.name or self.notebook}"

    @property
    def stem(self) -> Path:
        return Path(self.out_dir) / self.folder / (self.name or self.notebook)

    def output(self, suffix: str) -> Path:
        """``<out>/<folder>/<name><suffix>``; not ``stem.with_suffix``, which would cut a
        notebook name with a dot (``tiny.v2``) to ``tiny`` and collide with ``tiny.py``."""
        return Path(self.out_dir) / self.folder / f"{self.name or self.notebook}{suffix}"


@dataclass(frozen=True)
class RenderResult:
    """The outcome of one report.

    ``status`` is ``"ok"`` (rendered now), ``"cached"`` (unchanged inputs, reused) or
    ``"failed"``; ``error`` is a one-line summary and ``log`` the full log of the run.
    """

    notebook: str
    case: str | None
    params: Mapping[str, Any]
    status: str
    seconds: float
    html: Path | None
    ipynb: Path | None
    log: Path
    error: str | None = None
    name: str | None = None  # the report's file name when not the notebook's (grids)

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "cached")

    @property
    def label(self) -> str:
        return f"{self.case or CROSS_CASE_DIR}/{self.name or self.notebook}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "notebook": self.notebook,
            "case": self.case,
            "params": dict(self.params),
            "status": self.status,
            "seconds": round(self.seconds, 2),
            "html": None if self.html is None else str(self.html),
            "ipynb": None if self.ipynb is None else str(self.ipynb),
            "log": str(self.log),
            "error": self.error,
            "name": self.name or self.notebook,
        }


# ---------------------------------------------------------------------------
# cases: found by id (folder names), checked before any kernel starts
# ---------------------------------------------------------------------------


def _case_ids() -> dict[str, Path]:
    """Case id -> folder for every case folder found (first one wins), without reading them."""
    from casekit import cases as _cases

    found: dict[str, Path] = {}
    for d in _cases.data_dirs():
        if d.is_dir():
            for sub in sorted(d.iterdir()):
                if (sub / "case.yaml").is_file():
                    found.setdefault(sub.name, sub)
    return found


_MEMO: dict | None = None  # while a batch checks its specs: results computed once


@contextlib.contextmanager
def _checking_once():
    """While inside, each case folder is validated and casekit's code hashed once, not once
    per report: a batch checks all its specs in one go, and a grid of 1,000 reports of one
    case would otherwise validate that case 1,000 times.

    Examples
    --------
    >>> calls = []
    >>> with _checking_once():
    ...     [_once(("x",), lambda: calls.append(1) or len(calls)) for _ in range(3)]
    [1, 1, 1]
    """
    global _MEMO
    outer = _MEMO
    _MEMO = {} if outer is None else outer
    try:
        yield
    finally:
        _MEMO = outer


def _once(key: tuple, compute):
    """``compute()``, remembered under ``key`` inside :func:`_checking_once`."""
    if _MEMO is None:
        return compute()
    if key not in _MEMO:
        _MEMO[key] = compute()
    return _MEMO[key]


def _known_case(case_id: Any) -> Path:
    """The folder of a valid case ``case_id``; ParameterError otherwise."""
    from casekit import cases as _cases

    if not isinstance(case_id, str) or not _cases.CASE_ID_PATTERN.match(case_id):
        raise ParameterError(
            f"{case_id!r} is not a case id: reports are rendered for case ids (lower-case words "
            f"joined by '-'); to render a case folder of your own, add its parent folder to "
            f"{_cases.DATA_ENV} and pass the folder name"
        )
    known = _case_ids()
    if case_id not in known:
        raise ParameterError(f"no case {case_id!r}; known cases: {', '.join(known)}")
    problems = _once(("validate", str(known[case_id])), lambda: _cases.validate(known[case_id]))
    if problems:
        raise ParameterError(
            f"case {case_id!r} has {len(problems)} problem(s); "
            f"run `casekit validate {case_id}` to see them"
        )
    return known[case_id]


def _case_folders(job_params: Mapping[str, Any], case: str | None) -> list[Path]:
    known = _case_ids()
    if case is not None:
        ids = [case]
    else:
        ids = list(job_params.get("cases") or known)
    return [known[i] for i in ids if i in known]


# ---------------------------------------------------------------------------
# fingerprints
# ---------------------------------------------------------------------------


def _hash_tree(h, root: Path) -> None:
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    for p in files:
        if "__pycache__" in p.parts or p.suffix == ".pyc":
            continue
        h.update(str(p.relative_to(root.parent)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")


_CODE_SUFFIXES = (".py", ".j2")  # casekit's code and the report templates


def _package_fingerprint() -> str:
    """casekit's version and every source file and template of the package (subpackages
    included; the bundled notebooks and cases are fingerprinted with the report they feed)."""
    import casekit

    h = hashlib.sha256(str(casekit.__version__).encode())
    pkg = Path(casekit.__file__).resolve().parent
    files = []
    for folder, dirs, names in os.walk(pkg):
        dirs[:] = [d for d in dirs if not d.startswith(("_bundled", "__pycache__", "."))]
        files += [Path(folder) / n for n in names if n.endswith(_CODE_SUFFIXES)]
    for p in sorted(files):
        h.update(p.relative_to(pkg).as_posix().encode())
        h.update(b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()


def _fingerprint(path: Path, case: str | None, params: Mapping[str, Any], show_code: bool) -> str:
    h = hashlib.sha256()
    h.update(path.read_bytes())
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    h.update(b"show_code" if show_code else b"hide_code")
    h.update(_once(("package",), lambda: _package_fingerprint()).encode())  # late-bound
    for folder in _case_folders(params, case):
        _hash_tree(h, folder)
    for name, value in params.items():
        if name.endswith(_PATH_SUFFIXES) and isinstance(value, str) and value:
            if Path(value).exists():
                _hash_tree(h, Path(value))
    return h.hexdigest()


def _prepare(spec: Spec, out_dir: Path, show_code: bool) -> _Job:
    """Check a spec completely (notebook, parameters, case) without starting a kernel."""
    path = notebook_path(spec.notebook)
    declared = {p.name: p for p in notebook_params(path)}
    params = dict(spec.params or {})
    if spec.case is not None:
        if "case" not in declared:
            raise ParameterError(
                f"notebook {path.stem!r} takes no case (it has no 'case' "
                f"parameter); valid parameters:\n{describe_params(path)}"
            )
        if "case" in params and params["case"] != spec.case:
            raise ParameterError(f"case given twice: {spec.case!r} and case={params['case']!r}")
        params["case"] = spec.case
    if "interactive" in declared and "interactive" not in params:
        params["interactive"] = False  # a rendered page has no kernel behind its widgets
    from_env = set()
    if "prices_dir" in declared and not params.get("prices_dir") and os.environ.get(PRICES_ENV):
        params["prices_dir"] = os.environ[PRICES_ENV]
        from_env.add("prices_dir")
    params = coerce_params(path, params)
    for name, value in list(params.items()):
        if name.endswith(_PATH_SUFFIXES) and isinstance(value, str) and value:
            resolved = Path(value).expanduser().resolve()  # the kernel runs elsewhere
            if name.endswith("_dir") and not resolved.is_dir():
                where = f" (from {PRICES_ENV})" if name in from_env else ""
                raise ParameterError(f"parameter {name!r}{where}: {value!r} is not a folder")
            params[name] = str(resolved)
    case = None
    if "case" in declared:
        case = params.get("case", declared["case"].default)
        _known_case(case)
        params["case"] = case
    if "cases" in declared:
        for c in params.get("cases") or []:
            _known_case(c)
    folder = case if case is not None else CROSS_CASE_DIR
    name = spec.name or ""
    if name and not _NAME.fullmatch(name):
        raise ParameterError(
            f"report name {name!r}: use letters, digits and . _ , + = - only (not first: . -)"
        )
    key = _fingerprint(path, case, params, show_code)
    return _Job(
        notebook=path.stem,
        path=str(path),
        case=case,
        folder=folder,
        params=params,
        show_code=show_code,
        out_dir=str(out_dir),
        key=key,
        name=name if name != path.stem else "",
    )


# ---------------------------------------------------------------------------
# files: atomic writes and the sidecar that makes reuse possible
# ---------------------------------------------------------------------------


def _stage(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and return it (rename it into place
    with ``os.replace``). Beside, not in the temp folder: a rename cannot cross filesystems.
    On any error nothing is left behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are meant to be shared
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def _atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``path`` whole or not at all (a full disk leaves the old file as it was)."""
    tmp = _stage(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _version() -> str:
    import casekit

    return str(casekit.__version__)


def _sidecar(job: _Job) -> Path:
    return job.output(".json")


def _cached(job: _Job) -> dict | None:
    """The sidecar of an up-to-date report of ``job`` (same key, files present), or None."""
    try:
        meta = json.loads(_sidecar(job).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        meta.get("status") == "ok"
        and meta.get("key") == job.key
        and job.output(".html").is_file()
        and job.output(".ipynb").is_file()
    ):
        return meta
    return None


def _last_seconds(job: _Job) -> float:
    """How long the last run of ``job`` took (unknown: very long)."""
    try:
        meta = json.loads(_sidecar(job).read_text(encoding="utf-8"))
        return float(meta.get("seconds") or 1e9)
    except (OSError, ValueError, TypeError):
        return 1e9


def _last_good(job: _Job) -> dict | None:
    """The last good report of ``job``'s place, if its files are still there: what a
    failed re-render keeps (and the index marks stale) until a new one succeeds."""
    try:
        meta = json.loads(_sidecar(job).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict):
        return None
    if not (job.output(".html").is_file() and job.output(".ipynb").is_file()):
        return None
    if meta.get("status") == "ok":
        return {k: meta.get(k) for k in ("rendered_at", "params", "key", "seconds", "version")}
    good = meta.get("last_good")
    return good if meta.get("status") == "failed" and isinstance(good, dict) else None


def _sidecar_text(
    job: _Job,
    result: RenderResult,
    rendered_at: str | None = None,
    render_seconds: float | None = None,
    last_good: dict | None = None,
) -> str:
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    meta = {
        "notebook": job.notebook,
        "case": job.case,
        "folder": job.folder,
        "name": job.name or job.notebook,
        "params": job.params,
        "status": result.status if result.status != "cached" else "ok",
        "last_run": result.status,
        "key": job.key,
        "seconds": render_seconds if render_seconds is not None else round(result.seconds, 2),
        "rendered_at": rendered_at or now,
        "checked_at": now,
        "error": result.error,
        "version": _version(),
        "show_code": job.show_code,
    }
    if last_good is not None and result.status == "failed":
        meta["last_good"] = last_good
    return json.dumps(meta, indent=1, default=str)


def _write_sidecar(
    job: _Job,
    result: RenderResult,
    rendered_at: str | None = None,
    render_seconds: float | None = None,
    last_good: dict | None = None,
) -> None:
    _atomic_write(_sidecar(job), _sidecar_text(job, result, rendered_at, render_seconds, last_good))
