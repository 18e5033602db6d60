"""The reports folder's ``index.html``, and the provenance footer of every report.

:func:`write_index` lists every report found in a folder from the ``.json`` sidecars
written next to each report, through the Jinja template ``templates/index.html.j2``
(autoescaped: case ids, parameters and error messages are text, never markup).
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from casekit.render.html import PLOTLY_JS, TEMPLATES
from casekit.render.jobs import _atomic_write, _version
from casekit.render.params import NOTEBOOKS

__all__ = ["provenance", "write_index"]


@functools.cache
def _templates():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def _index_rows(out: Path) -> list[dict[str, Any]]:
    """One row per report sidecar in ``out/*/``, in the order of :data:`NOTEBOOKS`."""
    found = []
    for side in sorted(out.glob("*/*.json")):
        try:
            meta = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(meta, dict) or "notebook" not in meta or "key" not in meta:
            continue
        found.append((side, meta))
    order = {n: i for i, n in enumerate(NOTEBOOKS)}
    found.sort(
        key=lambda r: (order.get(r[1]["notebook"], 99), r[1].get("folder", ""), r[1]["notebook"])
    )
    rows = []
    for side, meta in found:
        folder = side.parent.name
        name = side.name[: -len(".json")]  # not with_suffix: a notebook name may hold dots
        page = side.parent / f"{name}.html"
        ok = meta.get("status") == "ok" and page.is_file()
        good = meta.get("last_good")
        stale = (
            not ok
            and meta.get("status") == "failed"
            and isinstance(good, dict)
            and page.is_file()
            and (side.parent / f"{name}.ipynb").is_file()
        )
        shown = good if stale else meta  # the report the row links to
        err = meta.get("error") or ""
        if stale:
            err = f"the last render failed ({err or 'unknown error'}); this is the last good report"
        prefix = f"{meta['notebook']}--"
        variant = name[len(prefix) :] if name.startswith(prefix) else ""
        rows.append(
            {
                "notebook": meta["notebook"],
                # a grid's report shows the values it was rendered with
                "label": variant.replace("--", ", ") if variant else name,
                "group": (meta["notebook"], folder) if variant else None,
                "group_header": "",
                "href": f"{folder}/{name}.html" if ok or stale else None,
                "status": (
                    meta.get("last_run", meta.get("status"))
                    if ok
                    else "stale"
                    if stale
                    else "failed"
                ),
                "case": meta.get("case") or "all cases",
                "params": _params_text(shown.get("params") or {}, out),
                "error": err if not ok else "",
                "seconds": shown.get("seconds", ""),
                "rendered": str(shown.get("rendered_at", ""))[:16].replace("T", " "),
                "log": f"{folder}/{name}.log" if (side.parent / f"{name}.log").is_file() else None,
            }
        )
    _mark_grids(rows)
    from casekit.render.index_info import describe_rows

    describe_rows(rows, found, out)
    return rows


def _params_text(params: dict[str, Any], out: Path) -> str:
    """``name=value, ...`` without the case, and no absolute local path (relative to the
    reports folder, else the file or folder name)."""
    from casekit.render.index_info import shown_value

    return ", ".join(f"{k}={shown_value(v, out)!r}" for k, v in params.items() if k != "case")


def _mark_grids(rows: list[dict[str, Any]]) -> None:
    """Give the first report of each grid (a notebook's reports for one case, named by
    their parameters) a header line: ``case_report for acme: grid of 6``."""
    sizes: dict[Any, int] = {}
    for r in rows:
        if r["group"] is not None:
            sizes[r["group"]] = sizes.get(r["group"], 0) + 1
    seen = set()
    for r in rows:
        g = r["group"]
        if g is not None and g not in seen:
            seen.add(g)
            r["group_header"] = f"{r['notebook']} for {r['case']}: grid of {sizes[g]}"


def write_index(out_dir: str | os.PathLike = "reports") -> Path:
    """Write ``<out_dir>/index.html``: every report found there, with its case, parameters,
    status and time. Returns its path.

    Status is ``ok`` or ``cached``, ``failed`` (no report), or ``stale``: the last render
    failed and the row links to the last good report, with the failure beside it. The page
    is written whole or not at all; a full disk raises :class:`OSError` and leaves the old
    page as it was.

    Examples
    --------
    >>> import tempfile
    >>> from casekit.render import write_index
    >>> page = write_index(tempfile.mkdtemp()).read_text(encoding="utf-8")
    >>> "0 report(s)" in page
    True
    """
    out = Path(out_dir)
    page = (
        _templates()
        .get_template("index.html.j2")
        .render(rows=_index_rows(out), version=_version(), plotly_js=PLOTLY_JS)
    )
    path = out / "index.html"
    _atomic_write(path, page)
    return path


def provenance(case=None) -> Any:
    """The versions and data a report was made with: the footer of every notebook.

    Package versions (Python, casekit and the libraries behind its numbers and figures),
    and for a case its folder and a SHA-256 of its data files, so that a reader can tell
    whether two reports used the same data.

    Parameters
    ----------
    case : Case, optional
        The case the report is about (its files are read from ``case.path``).

    Returns
    -------
    pandas.DataFrame
        Columns ``item, value``.

    Examples
    --------
    >>> import casekit as ck
    >>> t = ck.render.provenance(ck.load_case("synthetic-example"))
    >>> t.set_index("item").loc["case", "value"]
    'synthetic-example'
    """
    import platform
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _pkg_version

    import pandas as pd

    rows = [("python", platform.python_version()), ("casekit", _version())]
    for pkg in ("pandas", "numpy", "scipy", "statsmodels", "plotly", "papermill"):
        try:
            rows.append((pkg, _pkg_version(pkg)))
        except PackageNotFoundError:
            rows.append((pkg, "not installed"))
    if case is not None:
        h = hashlib.sha256()
        files = sorted(p for p in Path(case.path).iterdir() if p.is_file())
        for p in files:
            h.update(p.name.encode() + b"\0" + p.read_bytes())
        rows += [
            ("case", case.id),
            ("case data sha256", h.hexdigest()[:16]),
            ("case files", ", ".join(p.name for p in files)),
        ]
    rows.append(("rendered (UTC)", _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M")))
    return pd.DataFrame(rows, columns=["item", "value"])
