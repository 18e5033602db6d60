"""What ``index.html`` says about each report besides its file: the case's title and whether
its data are made up, the notebook's title, its exports, and parameters without local paths.

:func:`describe_rows` fills these into the rows that :mod:`casekit.render.index` builds.
"""

from __future__ import annotations

import functools
import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

__all__ = ["case_info", "describe_rows", "notebook_title", "shown_value"]

_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$")


def shown_value(value: Any, out: Path) -> Any:
    """A parameter value as the index shows it: an absolute path becomes relative to the
    reports folder when inside it, else its last part (a folder or file name).

    Examples
    --------
    >>> shown_value("/home/ann/prices", Path("/srv/reports"))
    'prices'
    >>> shown_value("/srv/reports/data/x.csv", Path("/srv/reports"))
    'data/x.csv'
    >>> shown_value(["/a/b", 3], Path("/srv"))
    ['b', 3]
    >>> shown_value(0.5, Path("/srv"))
    0.5
    """
    if isinstance(value, list):
        return [shown_value(v, out) for v in value]
    if isinstance(value, str) and os.path.isabs(value):
        path = Path(value)
        try:
            return path.relative_to(out).as_posix() or "."
        except ValueError:
            return path.name or value
    return value


def _heading(lines: list[str]) -> str | None:
    for line in lines:
        m = _HEADING.match(line.strip())
        if m:
            return m.group(1)
    return None


@functools.cache
def _title_of_file(path: str, mtime: float) -> str | None:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if p.suffix == ".ipynb":
        try:
            cells = json.loads(text).get("cells", [])
        except (ValueError, AttributeError):
            return None
        for cell in cells:
            if isinstance(cell, dict) and cell.get("cell_type") == "markdown":
                src = cell.get("source", "")
                found = _heading(("".join(src) if isinstance(src, list) else src).splitlines())
                if found:
                    return found
        return None
    # a jupytext percent script: markdown cells are comment lines after "# %% [markdown]"
    in_markdown = False
    for line in text.splitlines():
        if line.startswith("# %%"):
            in_markdown = "[markdown]" in line
        elif in_markdown and line.startswith("# "):
            found = _heading([line[2:]])
            if found:
                return found
    return None


def notebook_title(notebook: str, fallback: Path | None = None) -> str:
    """The notebook's first markdown heading (``# Case report``), else its name in words.

    ``notebook`` is a bundled notebook's name; ``fallback`` an executed ``.ipynb`` to read
    when the name is not a bundled notebook.

    Examples
    --------
    >>> notebook_title("case_report")
    'Case report'
    >>> notebook_title("no_such_notebook")
    'no such notebook'
    """
    from casekit.exceptions import CasekitError
    from casekit.render.params import notebook_path

    candidates = []
    try:
        candidates.append(notebook_path(notebook))
    except CasekitError:
        pass
    if fallback is not None:
        candidates.append(fallback)
    for path in candidates:
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        title = _title_of_file(str(path), mtime)
        if title:
            return title
    return notebook.replace("_", " ")


@functools.cache
def case_info(case_id: str) -> tuple[str, bool]:
    """``(title, synthetic)`` of a case; ``(case_id, False)`` when it cannot be read.

    Examples
    --------
    >>> case_info("synthetic-example")[1]
    True
    """
    from casekit.cases import load_case

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            case = load_case(case_id)
    except Exception:  # a case removed or broken since its report: the index still lists it
        return case_id, False
    return str(case.title or case_id), bool(case.context.synthetic)


def describe_rows(rows: list[dict[str, Any]], found: list, out: Path) -> None:
    """Add ``title``, ``case_title``, ``synthetic``, ``pdf`` and ``figures`` to each row
    (``found``: the ``(sidecar, meta)`` pairs the rows were made from, in the same order)."""
    from casekit.render.export import figures_dir

    for row, (side, meta) in zip(rows, found, strict=True):
        name = side.name[: -len(".json")]
        folder = side.parent
        row["title"] = notebook_title(meta["notebook"], folder / f"{name}.ipynb")
        case = meta.get("case")
        if case:
            row["case_title"], row["synthetic"] = case_info(case)
        else:
            row["case_title"], row["synthetic"] = "all cases", False
        pdf, figs = folder / f"{name}.pdf", figures_dir(folder / f"{name}.html")
        row["pdf"] = f"{folder.name}/{pdf.name}" if row["href"] and pdf.is_file() else None
        row["figures"] = f"{folder.name}/{figs.name}/" if row["href"] and figs.is_dir() else None
