"""Finding cases: the folders searched, the catalog, and the cached loader.

Examples
--------
>>> import casekit as ck
>>> ck.data_dirs()[0].name
'examples'
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from casekit.cases.folder import _read_folder
from casekit.cases.model import _FILES, CASE_ID_PATTERN, DATA_ENV, Case
from casekit.exceptions import CaseNotFoundError, CaseValidationError, Problem


def _package_dir() -> Path:
    """The installed ``casekit`` package folder."""
    return Path(__file__).resolve().parent.parent


def data_dirs(extra: Iterable[str | os.PathLike] | None = None) -> list[Path]:
    """Folders searched for cases, in order.

    The shipped synthetic example, the bundled datasets (inside the installed
    package, or ``datasets/`` of a source checkout), then folders named in the
    ``CASEKIT_DATA`` environment variable, then ``extra``.
    """
    dirs = [_package_dir() / "examples"]
    bundled = _package_dir() / "_bundled_datasets"
    checkout = _package_dir().parent / "datasets"
    dirs.append(bundled if bundled.is_dir() else checkout)
    env = os.environ.get(DATA_ENV, "")
    dirs += [Path(p) for p in env.split(os.pathsep) if p.strip()]
    dirs += [Path(p) for p in (extra or [])]
    seen, out = set(), []
    for d in dirs:
        key = d.resolve() if d.exists() else d
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _looks_like_path(ref: str) -> bool:
    return os.sep in ref or "/" in ref or ref.startswith(".")


def _resolve(ref: str | os.PathLike, extra_dirs=None) -> Path:
    if isinstance(ref, os.PathLike) or _looks_like_path(str(ref)):
        path = Path(ref)
        if not path.is_dir():
            raise CaseNotFoundError(f"{path}: no such case folder")
        if not any((path / name).exists() for name in _FILES):
            raise CaseNotFoundError(
                f"{path} is not a case folder: it has none of {', '.join(_FILES)}"
            )
        return path
    ref = str(ref)
    if (Path(ref) / "case.yaml").is_file():
        # `casekit validate my-case` beside ./my-case/: the folder wins over a case id
        return Path(ref)
    if not CASE_ID_PATTERN.match(ref):
        raise CaseNotFoundError(
            f"{ref!r} is not a case id: ids are lower-case words joined by '-' "
            f"(e.g. 'acme-broken-kettle'); pass a path to load a folder elsewhere"
        )
    for d in data_dirs(extra_dirs):
        candidate = d / ref
        if (candidate / "case.yaml").is_file():
            return candidate
    known = ", ".join(list_cases(extra_dirs)["id"]) or "(none)"
    raise CaseNotFoundError(f"no case {ref!r}; known cases: {known}")


def load_case(
    ref: str | os.PathLike, *, extra_dirs: Iterable[str | os.PathLike] | None = None
) -> Case:
    """Load and validate a case by id or folder path.

    Parameters
    ----------
    ref : str or path-like
        A case id (looked up in :func:`data_dirs`) or a path to a case folder. A plain
        name such as ``my-case`` is a folder when ``./my-case/case.yaml`` exists (the
        folder wins over a case of that id elsewhere), else a case id.
    extra_dirs : iterable of path-like, optional
        More folders to search for ``ref``.

    Returns
    -------
    Case

    Raises
    ------
    CaseNotFoundError
        No such case.
    CaseValidationError
        The folder has problems; ``err.problems`` lists every one of them.

    Examples
    --------
    >>> import casekit as ck
    >>> ck.load_case("synthetic-example").key_date("first_response")
    Timestamp('2024-03-08 00:00:00')
    """
    path = _resolve(ref, extra_dirs)
    key = _folder_key(path)
    if key in _CACHE:
        return _CACHE[key]
    case, problems = _read_folder(path)
    if problems:
        raise CaseValidationError(str(path), problems)
    assert case is not None
    if len(_CACHE) >= 64:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = case
    return case


# A Case is immutable, so a folder whose files are unchanged (same size and modification
# time) need not be read and validated again: analysis functions reload cases by id often.
_CACHE: dict[tuple, Case] = {}


def _folder_key(path: Path) -> tuple:
    stats = []
    for name in _FILES:
        try:
            st = (path / name).stat()
        except OSError:
            stats.append((name, None))
        else:
            stats.append((name, st.st_mtime_ns, st.st_size))
    return (str(path.resolve()), *stats)


def validate(ref: str | os.PathLike) -> list[Problem]:
    """All problems of a case folder (empty when it is valid).

    ``ref`` is a case id or a folder, as for :func:`load_case`: a name such as
    ``my-case`` is the folder ``./my-case`` when that holds a ``case.yaml``.

    Examples
    --------
    >>> import casekit as ck
    >>> ck.validate("synthetic-example")
    []
    """
    try:
        path = _resolve(ref)
    except CaseNotFoundError as err:
        return [Problem(str(ref), None, None, str(err))]
    return _read_folder(path)[1]


def list_cases(extra_dirs: Iterable[str | os.PathLike] | None = None) -> pd.DataFrame:
    """The catalog of cases found in :func:`data_dirs`.

    A folder that fails validation is listed with ``valid=False`` and its number
    of problems rather than hidden.

    Examples
    --------
    >>> import casekit as ck
    >>> "synthetic-example" in set(ck.list_cases()["id"])
    True
    """
    rows = []
    for d in data_dirs(extra_dirs):
        if not d.is_dir():
            continue
        for sub in sorted(p for p in d.iterdir() if (p / "case.yaml").is_file()):
            case, problems = _read_folder(sub)
            if case is None:
                rows.append(
                    {
                        "id": sub.name,
                        "title": None,
                        "company": None,
                        "country": None,
                        "going_public": None,
                        "synthetic": None,
                        "events": None,
                        "reach_rows": None,
                        "cost_rows": None,
                        "sources": None,
                        "valid": False,
                        "problems": len(problems),
                        "path": str(sub),
                    }
                )
                continue
            rows.append(
                {
                    "id": case.id,
                    "title": case.title,
                    "company": case.company,
                    "country": case.country,
                    "going_public": case.key_date("going_public"),
                    "synthetic": case.synthetic,
                    "events": len(case._timeline),
                    "reach_rows": len(case._reach),
                    "cost_rows": len(case._costs),
                    "sources": len(case._sources),
                    "valid": not problems,
                    "problems": len(problems),
                    "path": str(sub),
                }
            )
    cols = [
        "id",
        "title",
        "company",
        "country",
        "going_public",
        "synthetic",
        "events",
        "reach_rows",
        "cost_rows",
        "sources",
        "valid",
        "problems",
        "path",
    ]
    df = pd.DataFrame(rows, columns=cols)
    return df.drop_duplicates("id", keep="first").reset_index(drop=True)
