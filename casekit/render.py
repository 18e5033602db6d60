"""Render notebooks into HTML reports: one code path for the CLI, the API and the tests.

A report is a notebook from ``notebooks/`` (jupytext percent scripts) executed
by papermill with checked parameters, saved as ``<out>/<case>/<notebook>.ipynb``
and converted to ``<out>/<case>/<notebook>.html`` (code hidden unless
``show_code``). Every report page loads one shared ``<out>/plotly.min.js``, so
figures draw offline and no page carries its own 4.8 MB copy of plotly.js.

* :func:`notebook_params` reads a notebook's parameters (name, type, default,
  help) from its ``parameters`` cell without starting a kernel.
* :func:`render` renders one report; :func:`render_batch` renders many, in
  parallel processes, and never lets one failure stop the others.
* ``<out>/index.html`` lists every report in the folder.

Files are written under a temporary name and then renamed, so a finished
report's name never holds a half-written file. A report is reused when its
notebook, its case data, its parameters and the casekit code are unchanged
(a ``<notebook>.json`` sidecar holds the fingerprint); ``force=True`` renders
anyway.

Examples
--------
>>> from casekit import render
>>> [p.name for p in render.notebook_params("case_report")][:2]
['case', 'curves']
>>> render.coerce_params("case_report", {"horizon": "30"})["horizon"]
30
"""

from __future__ import annotations

import ast
import contextlib
import datetime as _dt
import hashlib
import html
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
import tokenize
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from casekit.exceptions import CasekitError, ParameterError

__all__ = [
    "NOTEBOOKS",
    "PRICES_ENV",
    "BatchResult",
    "Param",
    "RenderError",
    "RenderResult",
    "Spec",
    "bundled_specs",
    "coerce_params",
    "list_notebooks",
    "notebook_params",
    "notebook_path",
    "notebooks_dir",
    "provenance",
    "render",
    "render_batch",
    "write_index",
]

NOTEBOOKS = ("case_report", "compare_cases", "classroom", "new_case")
"""The bundled notebooks, in the order the index lists them."""

PRICES_ENV = "CASEKIT_PRICES"
"""Environment variable: default ``prices_dir`` for notebooks that take one (the folder of
``<TICKER>_<year>_yahoo.csv`` price files used by the market event study)."""



def _case_market(case_id: str) -> dict[str, Any]:
    """The ``analysis.market`` block of a case (ticker, index, peers), or ``{}``.

    ``casekit render --all`` gives these to a case's report when price files are
    available (``-p prices_dir`` or ``CASEKIT_PRICES``)."""
    from casekit.cases import _plain, load_case

    return _plain(load_case(case_id).analysis.get("market", {}))

CROSS_CASE_DIR = "all_cases"
"""Output folder of notebooks that take no single ``case`` (not a valid case id, so it
cannot collide with one)."""

CELL_TIMEOUT = 600
"""Seconds one notebook cell may run before the report fails (a hung kernel must not hang
the batch)."""

PLOTLY_JS = "plotly.min.js"
_PLOTLY_MIME = "application/vnd.plotly.v1+json"
_SUPPORTED_TYPES = ("str", "int", "float", "bool", "list[str]", "list[int]", "list[float]")
_PATH_SUFFIXES = ("_dir", "_path")  # str parameters made absolute before the kernel starts


class RenderError(CasekitError):
    """A report failed to render; the message says which cell failed and where the log is."""


# ---------------------------------------------------------------------------
# locating notebooks
# ---------------------------------------------------------------------------

def notebooks_dir() -> Path:
    """The folder of bundled notebooks.

    ``casekit/_bundled_notebooks`` inside an installed wheel, else ``notebooks/`` of a
    source checkout.
    """
    pkg = Path(__file__).resolve().parent
    bundled = pkg / "_bundled_notebooks"
    return bundled if bundled.is_dir() else pkg.parent / "notebooks"


def list_notebooks() -> list[str]:
    """Names of the bundled notebooks (``NOTEBOOKS`` first, then any others)."""
    found = {p.stem for p in notebooks_dir().glob("*.py")}
    return [n for n in NOTEBOOKS if n in found] + sorted(found - set(NOTEBOOKS))


def notebook_path(notebook: str | os.PathLike) -> Path:
    """Resolve a bundled notebook name (``case_report``) or a path to a ``.py``/``.ipynb`` file."""
    text = os.fspath(notebook)
    if isinstance(notebook, os.PathLike) or text.endswith((".py", ".ipynb")) or os.sep in text:
        path = Path(text)
        if not path.is_file():
            raise ParameterError(f"notebook {text!r}: no such file")
        return path.resolve()
    if not re.fullmatch(r"[a-z][a-z0-9_]*", text):
        raise ParameterError(f"{text!r} is not a notebook name; bundled notebooks: "
                             f"{', '.join(list_notebooks())}")
    path = notebooks_dir() / f"{text}.py"
    if not path.is_file():
        raise ParameterError(f"no notebook {text!r}; bundled notebooks: "
                             f"{', '.join(list_notebooks()) or '(none found)'}")
    return path


# ---------------------------------------------------------------------------
# parameters: read from the parameters cell with ast (no kernel, no nbformat)
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """One notebook parameter, as declared in its ``parameters`` cell."""

    name: str
    type: str
    default: Any
    help: str

    def __str__(self) -> str:
        return f"{self.name}: {self.type} = {self.default!r}  # {self.help}"


def _parameters_source(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ParameterError(
            f"notebook {path}: not UTF-8 text (byte {err.start}: {err.reason}); save it as "
            f"UTF-8") from None
    if path.suffix == ".ipynb":
        try:
            nb = json.loads(text)
        except json.JSONDecodeError as err:
            raise ParameterError(
                f"notebook {path}: not valid JSON (line {err.lineno}, column {err.colno}: "
                f"{err.msg}); an .ipynb file must be a notebook saved by Jupyter, or give "
                f"the jupytext .py version") from None
        if not isinstance(nb, dict) or not isinstance(nb.get("cells", []), list):
            raise ParameterError(
                f"notebook {path}: not a Jupyter notebook (expected a JSON object with a "
                f"'cells' list)")
        for cell in nb.get("cells", []):
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                if "parameters" in cell.get("metadata", {}).get("tags", []):
                    src = cell.get("source", "")
                    return "".join(src) if isinstance(src, list) else src
        return ""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("# %%") and re.search(r"tags\s*=\s*\[[^\]]*[\"']parameters[\"']", line):
            body = []
            for nxt in lines[i + 1:]:
                if nxt.startswith("# %%"):
                    break
                body.append(nxt)
            return "\n".join(body)
    return ""


_PARAM_CACHE: dict[tuple[str, float], list[Param]] = {}


def notebook_params(notebook: str | os.PathLike) -> list[Param]:
    """The parameters a notebook declares, without starting a kernel.

    Each line of the notebook's ``parameters`` cell is ``name: type = literal  # help``.

    Parameters
    ----------
    notebook : str or path-like
        A bundled notebook name or a path to a ``.py`` (jupytext percent) or ``.ipynb`` file.

    Returns
    -------
    list of Param
        In the order declared.

    Examples
    --------
    >>> from casekit.render import notebook_params
    >>> p = {x.name: x for x in notebook_params("case_report")}
    >>> p["horizon"].type
    'int'
    """
    path = notebook_path(notebook)
    key = (str(path), path.stat().st_mtime)
    if key in _PARAM_CACHE:
        return list(_PARAM_CACHE[key])
    source = _parameters_source(path)
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise ParameterError(
            f"{path.name}: the parameters cell is not valid Python: {err}") from None
    comments = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    params = []
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, type_ = node.target.id, ast.unparse(node.annotation)
            value_node = node.value
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name)):
            name, type_, value_node = node.targets[0].id, "", node.value
        else:
            continue
        try:
            default = ast.literal_eval(value_node) if value_node is not None else None
        except ValueError:
            raise ParameterError(
                f"{path.name}: parameter {name!r} has no literal default") from None
        if not type_:
            type_ = type(default).__name__ if not isinstance(default, list) else "list[str]"
        params.append(Param(name, type_, default, comments.get(node.lineno, "")))
    _PARAM_CACHE[key] = params
    return list(params)


def describe_params(notebook: str | os.PathLike) -> str:
    """A readable list of a notebook's parameters: ``name: type = default  # help`` per line."""
    return "\n".join(f"  {p}" for p in notebook_params(notebook))


_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}


def _coerce_scalar(kind: str, value: Any) -> Any:
    if kind == "str":
        if isinstance(value, str):
            return value
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        raise TypeError
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise TypeError
    if isinstance(value, bool):
        raise TypeError
    if kind == "int":
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            return int(value.strip().replace("_", ""))
        raise TypeError
    if kind == "float":
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            out = float(value.strip())
            if out != out or out in (float("inf"), float("-inf")):
                raise ValueError
            return out
        raise TypeError
    raise TypeError


def _coerce(param: Param, value: Any) -> Any:
    kind = param.type.replace(" ", "")
    if kind not in _SUPPORTED_TYPES:
        # An undeclared type: accept the value as given (papermill will write its repr).
        return value
    if kind.startswith("list["):
        inner = kind[5:-1]
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except json.JSONDecodeError:
                    value = ast.literal_eval(text)
            else:
                value = [v.strip() for v in text.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise TypeError
        return [_coerce_scalar(inner, v) for v in value]
    return _coerce_scalar(kind, value)


def coerce_params(notebook: str | os.PathLike, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check parameter names and convert values to the declared types.

    Strings (as given on the command line) are converted: ``"30"`` to 30 for an ``int``,
    ``"0,1,7"`` or ``"[0, 1, 7]"`` to ``[0, 1, 7]`` for a ``list[int]``, ``true``/``false``
    for a ``bool``.

    Raises
    ------
    ParameterError
        An unknown name or a value that does not fit the type; the message lists every
        valid parameter with its type, default and help.

    Examples
    --------
    >>> from casekit.render import coerce_params
    >>> coerce_params("case_report", {"delays": "0,3", "peers": "DAL,LUV"})
    {'delays': [0.0, 3.0], 'peers': ['DAL', 'LUV']}
    """
    declared = {p.name: p for p in notebook_params(notebook)}
    out: dict[str, Any] = {}
    errors = []
    for name, value in (params or {}).items():
        p = declared.get(name)
        if p is None:
            errors.append(f"unknown parameter {name!r}")
            continue
        try:
            out[name] = _coerce(p, value)
        except (TypeError, ValueError, SyntaxError):
            errors.append(f"parameter {name!r} must be {p.type}, got {value!r}")
    if errors:
        name = Path(os.fspath(notebook)).stem
        raise ParameterError(
            f"notebook {name!r}: " + "; ".join(errors)
            + f"\nvalid parameters of {name!r}:\n" + describe_params(notebook))
    return out


# ---------------------------------------------------------------------------
# what to render
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Spec:
    """One report to render: a notebook, the case it is about (if it takes one) and parameters."""

    notebook: str
    case: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Job:
    """A checked Spec, ready to run (picklable)."""

    notebook: str          # display name (file stem)
    path: str              # notebook file
    case: str | None       # case id, or None for cross-case notebooks
    folder: str            # output sub-folder: case id or CROSS_CASE_DIR
    params: dict           # every parameter passed to papermill (after coercion)
    show_code: bool
    out_dir: str
    key: str               # fingerprint of everything the report depends on

    @property
    def label(self) -> str:
        return f"{self.folder}/{self.notebook}"

    @property
    def stem(self) -> Path:
        return Path(self.out_dir) / self.folder / self.notebook

    def output(self, suffix: str) -> Path:
        """``<out>/<folder>/<notebook><suffix>``; not ``stem.with_suffix``, which would cut a
        notebook name with a dot (``tiny.v2``) to ``tiny`` and collide with ``tiny.py``."""
        return Path(self.out_dir) / self.folder / f"{self.notebook}{suffix}"


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


def _known_case(case_id: Any) -> Path:
    """The folder of a valid case ``case_id``; ParameterError otherwise."""
    from casekit import cases as _cases

    if not isinstance(case_id, str) or not _cases.CASE_ID_PATTERN.match(case_id):
        raise ParameterError(
            f"{case_id!r} is not a case id: reports are rendered for case ids (lower-case words "
            f"joined by '-'); to render a case folder of your own, add its parent folder to "
            f"{_cases.DATA_ENV} and pass the folder name")
    known = _case_ids()
    if case_id not in known:
        raise ParameterError(f"no case {case_id!r}; known cases: {', '.join(known)}")
    problems = _cases.validate(known[case_id])
    if problems:
        raise ParameterError(f"case {case_id!r} has {len(problems)} problem(s); "
                             f"run `casekit validate {case_id}` to see them")
    return known[case_id]


def _case_folders(job_params: Mapping[str, Any], case: str | None) -> list[Path]:
    known = _case_ids()
    if case is not None:
        ids = [case]
    else:
        ids = list(job_params.get("cases") or known)
    return [known[i] for i in ids if i in known]


def _hash_tree(h, root: Path) -> None:
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    for p in files:
        if "__pycache__" in p.parts or p.suffix == ".pyc":
            continue
        h.update(str(p.relative_to(root.parent)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")


def _package_fingerprint() -> str:
    import casekit

    h = hashlib.sha256(str(casekit.__version__).encode())
    pkg = Path(casekit.__file__).resolve().parent
    for p in sorted(pkg.glob("*.py")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _fingerprint(path: Path, case: str | None, params: Mapping[str, Any], show_code: bool) -> str:
    h = hashlib.sha256()
    h.update(path.read_bytes())
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    h.update(b"show_code" if show_code else b"hide_code")
    h.update(_package_fingerprint().encode())
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
            raise ParameterError(f"notebook {path.stem!r} takes no case (it has no 'case' "
                                 f"parameter); valid parameters:\n{describe_params(path)}")
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
    key = _fingerprint(path, case, params, show_code)
    return _Job(notebook=path.stem, path=str(path), case=case, folder=folder, params=params,
                show_code=show_code, out_dir=str(out_dir), key=key)


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------

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

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "cached")

    @property
    def label(self) -> str:
        return f"{self.case or CROSS_CASE_DIR}/{self.notebook}"

    def to_dict(self) -> dict[str, Any]:
        return {"notebook": self.notebook, "case": self.case, "params": dict(self.params),
                "status": self.status, "seconds": round(self.seconds, 2),
                "html": None if self.html is None else str(self.html),
                "ipynb": None if self.ipynb is None else str(self.ipynb),
                "log": str(self.log), "error": self.error}


@dataclass(frozen=True)
class BatchResult:
    """The outcomes of a batch, in the order requested."""

    results: tuple[RenderResult, ...]
    seconds: float
    index: Path | None

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failed(self) -> list[RenderResult]:
        return [r for r in self.results if not r.ok]

    def table(self) -> str:
        """A plain-text table: report, status, seconds, error summary and log."""
        rows = [("report", "status", "seconds", "error / log")]
        for r in self.results:
            detail = f"{r.error}  (log: {r.log})" if r.error else ""
            rows.append((r.label, r.status, f"{r.seconds:.1f}", detail))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row[:3], widths, strict=True))
                 + ("  " + row[3] if row[3] else "") for row in rows]
        n_failed = len(self.failed)
        lines.append(f"{len(self.results)} report(s), {n_failed} failed, "
                     f"{self.seconds:.1f} s" + (f"; index: {self.index}" if self.index else ""))
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# running one report (in this process or a worker process)
# ---------------------------------------------------------------------------

def _atomic_write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _ensure_plotly_js(out_dir: Path) -> Path:
    """Copy plotly.min.js from the installed plotly package into ``out_dir`` (once)."""
    import importlib.util

    spec = importlib.util.find_spec("plotly")
    src = Path(spec.origin).parent / "package_data" / PLOTLY_JS
    dst = out_dir / PLOTLY_JS
    if not dst.is_file() or dst.stat().st_size != src.stat().st_size:
        _atomic_write(dst, src.read_bytes())
    return dst


_FIGURE_TEMPLATE = """\
<div id="{id}" class="plotly-graph-div casekit-figure" style="height:{height}; width:100%;"></div>
<script type="text/javascript">
(function () {{
  var el = document.getElementById("{id}");
  if (!window.Plotly) {{
    el.style.height = "auto";
    el.innerHTML = '<p class="casekit-missing-plotly"><b>Figure not drawn:</b> this page needs the '
      + 'file {js} in the folder above it (it is written there by casekit render).</p>';
    return;
  }}
  Plotly.newPlot(el, {data}, {layout}, {config});
}})();
</script>"""


def _json_for_script(obj: Any) -> str:
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False, default=str)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _figure_html(fig: Mapping[str, Any], fig_id: str) -> str:
    layout = dict(fig.get("layout") or {})
    height = layout.get("height")
    config = {"responsive": True, "displaylogo": False, **(fig.get("config") or {})}
    return _FIGURE_TEMPLATE.format(
        id=fig_id, height=f"{int(height)}px" if height else "450px", js=PLOTLY_JS,
        data=_json_for_script(fig.get("data") or []), layout=_json_for_script(layout),
        config=_json_for_script(config))


def _plotly_to_html(nb) -> int:
    """Give every plotly figure output an HTML form that uses the shared plotly.min.js."""
    n = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data and _PLOTLY_MIME in data:
                n += 1
                fig = data[_PLOTLY_MIME]
                if isinstance(fig, str):
                    fig = json.loads(fig)
                out["data"] = {"text/html": _figure_html(fig, f"casekit-fig-{n}")}
    return n


_HTML_TEMPLATE = """\
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}
<script src="{{ resources.casekit_plotly_src }}" charset="utf-8"></script>
{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{% block extra_css %}
<style>
  .jp-Notebook { max-width: 1100px; margin: 0 auto; }
  .casekit-missing-plotly { color: #a00; border: 1px solid #a00; padding: .5em; }
</style>
{% endblock extra_css %}
"""


_EXPORTERS: dict[bool, Any] = {}


def _exporter(show_code: bool):
    """The HTML exporter (one per process and setting: its templates compile once)."""
    if show_code in _EXPORTERS:
        return _EXPORTERS[show_code]
    import jinja2
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        exclude_input=not show_code, exclude_input_prompt=True, exclude_output_prompt=True,
        extra_loaders=[jinja2.DictLoader({"casekit.html.j2": _HTML_TEMPLATE})],
        template_file="casekit.html.j2")
    _EXPORTERS[show_code] = exporter
    return exporter


def _prewarm(show_code: bool) -> None:
    """Import nbconvert and compile the report template (about 0.7 s the first time in a
    process); run in a thread while the first kernel works, it costs no wall time."""
    try:
        import nbformat

        _exporter(show_code).from_notebook_node(nbformat.v4.new_notebook())
    except Exception:  # only a head start: the real export reports real problems
        pass


def _to_html(nb, title: str, show_code: bool) -> str:
    import copy

    view = copy.deepcopy(nb)
    # The injected-parameters cell is provenance, not reading matter: keep it in the .ipynb.
    view.cells = [c for c in view.cells
                  if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    _plotly_to_html(view)
    body, _ = _exporter(show_code).from_notebook_node(
        view, resources={"casekit_plotly_src": f"../{PLOTLY_JS}", "metadata": {"name": title}})
    return body


def _error_summary(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    if ename:
        evalue = str(getattr(exc, "evalue", "")).strip().splitlines()
        text = f"{ename}: {evalue[0] if evalue else ''}".strip()
        cell = getattr(exc, "exec_count", None)
        return f"{text} (cell {cell})" if cell else text
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".strip()


@contextlib.contextmanager
def _environ(**values: str):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _stderr_to(fh):
    """Send file descriptor 2 (our stderr and the kernel's) to ``fh`` for the duration."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    os.dup2(fh.fileno(), 2)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _sidecar(job: _Job) -> Path:
    return job.output(".json")


def _cached(job: _Job) -> dict | None:
    try:
        meta = json.loads(_sidecar(job).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (meta.get("status") == "ok" and meta.get("key") == job.key
            and job.output(".html").is_file()
            and job.output(".ipynb").is_file()):
        return meta
    return None


def _title(job: _Job) -> str:
    pretty = job.notebook.replace("_", " ")
    return f"{job.case} - {pretty}" if job.case else pretty


def _run(job: _Job, force: bool = False, quiet_stderr: bool = False) -> RenderResult:
    """Render one checked job. Never raises for a notebook failure: returns status 'failed'."""
    import logging

    html_path, ipynb_path, log_path = (job.output(s) for s in (".html", ".ipynb", ".log"))
    failed_nb = job.output(".failed.ipynb")
    job.stem.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if not force:
        meta = _cached(job)
        if meta is not None:
            result = RenderResult(job.notebook, job.case, job.params, "cached",
                                  time.perf_counter() - start, html_path, ipynb_path, log_path)
            _write_sidecar(job, result, meta.get("rendered_at"), meta.get("seconds"))
            return result

    workdir = Path(tempfile.mkdtemp(prefix=f"casekit-{job.folder}-{job.notebook}-"))
    log_tmp = workdir / "render.log"
    error = None
    with open(log_tmp, "w", encoding="utf-8", buffering=1) as log_fh:
        handler = logging.StreamHandler(log_fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        pm_logger = logging.getLogger("papermill")
        pm_logger.addHandler(handler)
        old_level, old_propagate = pm_logger.level, pm_logger.propagate
        pm_logger.setLevel(logging.INFO)
        pm_logger.propagate = False  # the cell outputs go to the report's log, not the console
        log_fh.write(f"casekit render {job.label}\nnotebook: {job.path}\n"
                     f"parameters: {json.dumps(job.params, default=str)}\n"
                     f"working directory: {workdir}\n\n")
        redirect = _stderr_to(log_fh) if quiet_stderr else contextlib.nullcontext()
        nb = None
        try:
            import jupytext
            import papermill as pm
            from traitlets.config import Config

            source = Path(job.path)
            nb_in = jupytext.read(source) if source.suffix == ".py" else None
            if nb_in is None:
                import nbformat

                nb_in = nbformat.read(source, as_version=4)
            # IPC transport: no TCP ports to race for between parallel kernels (papermill
            # #239), and no "running over TCP without encryption" warning in every log.
            config = Config({"KernelManager": {"transport": "ipc"}})
            # The "python3" kernelspec that ipykernel installs runs plain `python` from PATH:
            # put this interpreter's folder first so the kernel imports this casekit, also
            # when `casekit` is called from a virtual environment that is not activated.
            path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
            with redirect, _environ(PLOTLY_RENDERER="plotly_mimetype", PATH=path,
                                    CASEKIT_RENDERING="1", MPLBACKEND="Agg"):
                nb = pm.execute_notebook(
                    nb_in, str(workdir / "executed.ipynb"), parameters=job.params,
                    kernel_name="python3", language="python", cwd=str(workdir),
                    progress_bar=False, log_output=True, config=config,
                    execution_timeout=CELL_TIMEOUT,
                    shutdown_kernel="immediate", request_save_on_cell_execute=False)
            t_executed = time.perf_counter()
            nb.metadata["casekit"] = {
                "notebook": job.notebook, "case": job.case, "params": job.params,
                "key": job.key, "version": _version(),
                "rendered_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            }
            # papermill validated this notebook when it saved it; only metadata was added
            _atomic_write(ipynb_path, json.dumps(nb, indent=1, sort_keys=True,
                                                 ensure_ascii=False) + "\n")
            _atomic_write(html_path, _to_html(nb, _title(job), job.show_code))
            log_fh.write(f"\ntimings: papermill {t_executed - start:.2f} s, .ipynb and HTML "
                         f"{time.perf_counter() - t_executed:.2f} s\n")
            with contextlib.suppress(OSError):
                failed_nb.unlink()
        except Exception as exc:  # a report's failure is data for the batch table
            error = _error_summary(exc)
            log_fh.write("\n" + "".join(traceback.format_exception(exc)))
            executed = workdir / "executed.ipynb"
            if executed.is_file():  # papermill saves the notebook with the error in it
                shutil.copyfile(executed, failed_nb)
                log_fh.write(f"\nthe notebook as far as it ran: {failed_nb}\n")
            # Nothing stale may sit where a finished report belongs.
            for p in (html_path, ipynb_path):
                with contextlib.suppress(OSError):
                    p.unlink()
        finally:
            pm_logger.removeHandler(handler)
            pm_logger.setLevel(old_level)
            pm_logger.propagate = old_propagate
    os.replace(log_tmp, log_path)
    shutil.rmtree(workdir, ignore_errors=True)
    seconds = time.perf_counter() - start
    result = RenderResult(job.notebook, job.case, job.params, "failed" if error else "ok",
                          seconds, None if error else html_path, None if error else ipynb_path,
                          log_path, error)
    _write_sidecar(job, result)
    return result


def _write_sidecar(job: _Job, result: RenderResult, rendered_at: str | None = None,
                   render_seconds: float | None = None) -> None:
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    meta = {
        "notebook": job.notebook, "case": job.case, "folder": job.folder,
        "params": job.params, "status": result.status if result.status != "cached" else "ok",
        "last_run": result.status, "key": job.key,
        "seconds": render_seconds if render_seconds is not None else round(result.seconds, 2),
        "rendered_at": rendered_at or now, "checked_at": now, "error": result.error,
        "version": _version(), "show_code": job.show_code,
    }
    _atomic_write(_sidecar(job), json.dumps(meta, indent=1, default=str))


def _version() -> str:
    import casekit

    return str(casekit.__version__)


def _run_in_worker(job: _Job, force: bool) -> RenderResult:
    try:
        return _run(job, force, quiet_stderr=True)
    except Exception as exc:  # e.g. the disk is full: still report, never hang the batch
        return RenderResult(job.notebook, job.case, job.params, "failed", 0.0, None, None,
                            job.output(".log"), _error_summary(exc))


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------

def render(
    case: str | None = None,
    notebook: str | os.PathLike = "case_report",
    *,
    params: Mapping[str, Any] | None = None,
    out_dir: str | os.PathLike = "reports",
    show_code: bool = False,
    force: bool = False,
    index: bool = True,
) -> RenderResult:
    """Render one report: ``<out_dir>/<case>/<notebook>.html`` (and ``.ipynb``).

    Parameters
    ----------
    case : str, optional
        Case id for notebooks that take a ``case`` (default: the notebook's own default).
    notebook : str or path-like
        A bundled notebook name (see :func:`list_notebooks`) or a path to a notebook file.
    params : mapping, optional
        Notebook parameters; strings are converted to the declared types.
    out_dir : path-like
        Reports folder; it also receives ``plotly.min.js`` and ``index.html``.
    show_code : bool
        Show the code cells in the HTML.
    force : bool
        Render even when an up-to-date report exists.
    index : bool
        Rewrite ``<out_dir>/index.html`` afterwards.

    Returns
    -------
    RenderResult

    Raises
    ------
    ParameterError
        Before any kernel starts: unknown notebook, case or parameter, or a wrong type.
    RenderError
        The notebook failed; the message names the failing cell's error and the log file.
    """
    result = render_batch([Spec(os.fspath(notebook), case, dict(params or {}))], jobs=1,
                          out_dir=out_dir, show_code=show_code, force=force, progress=False,
                          index=index).results[0]
    if not result.ok:
        raise RenderError(f"{result.label} failed: {result.error}\nlog: {result.log}")
    return result


def render_batch(
    reports: Iterable[Spec | tuple | Mapping[str, Any]],
    *,
    jobs: int = 1,
    out_dir: str | os.PathLike = "reports",
    show_code: bool = False,
    force: bool = False,
    progress: bool | None = None,
    index: bool = True,
) -> BatchResult:
    """Render many reports; a failing report does not stop the others.

    Every spec is checked (notebook, case, parameter names and types) before any kernel
    starts, so a typo fails the whole batch at once with the list of valid parameters.

    Parameters
    ----------
    reports : iterable of Spec, ``(notebook, case, params)`` tuples or mappings
    jobs : int
        Reports rendered at the same time, each in its own process and working directory.
    out_dir, show_code, force, index
        As in :func:`render`.
    progress : bool or None
        Show a progress bar on stderr (done / failed / running); ``None``: only on a terminal.

    Returns
    -------
    BatchResult
        ``.results`` in the order given, ``.table()`` for printing, ``.ok``.
    """
    start = time.perf_counter()
    out = Path(out_dir).expanduser().resolve()
    specs = [_as_spec(r) for r in reports]
    prepared = [_prepare(s, out, show_code) for s in specs]
    seen: dict[str, int] = {}
    for j in prepared:
        if j.label in seen:
            raise ParameterError(f"report {j.label} requested twice in one batch; "
                                 f"render different parameter sets into different --out folders")
        seen[j.label] = 1
    try:
        out.mkdir(parents=True, exist_ok=True)
        if prepared:
            _ensure_plotly_js(out)
    except OSError as err:
        raise ParameterError(
            f"output folder {out} cannot be created or written to "
            f"({err.strerror or type(err).__name__}: {err.filename or out}); choose an output "
            f"folder (--out) that you may write to and whose parents are folders") from None
    results: list[RenderResult | None] = [None] * len(prepared)
    jobs = max(1, min(int(jobs), len(prepared) or 1))
    bar = _Progress(len(prepared), progress)
    try:
        if jobs == 1:
            if show_code not in _EXPORTERS and any(
                    force or _cached(j) is None for j in prepared):
                import threading

                threading.Thread(target=_prewarm, args=(show_code,), daemon=True).start()
            for i, job in enumerate(prepared):
                bar.update(running=1)
                results[i] = _run_in_worker(job, force)
                bar.finish_one(results[i].ok)
        else:
            todo = []
            for i, job in enumerate(prepared):  # reuse unchanged reports without a worker
                if not force and _cached(job) is not None:
                    results[i] = _run_in_worker(job, False)
                    bar.finish_one(results[i].ok)
                else:
                    todo.append(i)
            if todo:
                sub: list[RenderResult | None] = [None] * len(todo)
                _run_parallel([prepared[i] for i in todo], force, min(jobs, len(todo)), sub,
                              bar)
                for i, r in zip(todo, sub, strict=True):
                    results[i] = r
    finally:
        bar.close()
    idx = write_index(out) if index else None
    return BatchResult(tuple(results), time.perf_counter() - start, idx)


def _as_spec(item: Spec | tuple | Mapping[str, Any]) -> Spec:
    if isinstance(item, Spec):
        return item
    if isinstance(item, Mapping):
        return Spec(item["notebook"], item.get("case"), dict(item.get("params") or {}))
    if isinstance(item, (tuple, list)) and 1 <= len(item) <= 3:
        notebook, case, params = (*item, None, None)[:3]
        return Spec(os.fspath(notebook), case, dict(params or {}))
    raise TypeError(f"not a report spec: {item!r}")


def _run_parallel(prepared: Sequence[_Job], force: bool, jobs: int,
                  results: list, bar: _Progress) -> None:
    import multiprocessing
    import threading
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # fork is fast (the worker inherits papermill already imported) and safe while this
    # process runs a single thread; otherwise start clean interpreters.
    method = "fork" if (sys.platform.startswith("linux")
                        and threading.active_count() == 1) else "spawn"
    ctx = multiprocessing.get_context(method)
    # Longest first (by the last run's time; unknown counts as long): the batch then ends
    # with short reports filling the gaps instead of one long report running alone.
    order = sorted(range(len(prepared)), key=lambda i: -_last_seconds(prepared[i]))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = {pool.submit(_run_in_worker, prepared[i], force): i for i in order}
        pending = set(futures)
        while pending:
            bar.update(running=min(jobs, len(pending)))
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in done:
                i = futures[fut]
                try:
                    results[i] = fut.result()
                except Exception as exc:  # the worker process died
                    job = prepared[i]
                    results[i] = RenderResult(job.notebook, job.case, job.params, "failed", 0.0,
                                              None, None, job.output(".log"),
                                              _error_summary(exc))
                bar.finish_one(results[i].ok)


def _last_seconds(job: _Job) -> float:
    try:
        meta = json.loads(_sidecar(job).read_text(encoding="utf-8"))
        return float(meta.get("seconds") or 1e9)
    except (OSError, ValueError, TypeError):
        return 1e9


class _Progress:
    """``[####----] 3/6 done, 1 failed, 2 running`` on stderr, redrawn in place."""

    def __init__(self, total: int, enabled: bool | None):
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.enabled = bool(enabled) and total > 0
        self.total, self.done, self.failed, self.running = total, 0, 0, 0
        self.start = time.perf_counter()

    def _draw(self, end: str = "") -> None:
        if not self.enabled:
            return
        width = 24
        filled = int(width * (self.done + self.failed) / self.total)
        text = (f"\r[{'#' * filled}{'-' * (width - filled)}] {self.done + self.failed}/"
                f"{self.total}  done {self.done}  failed {self.failed}  running "
                f"{self.running}  {time.perf_counter() - self.start:.0f}s")
        sys.stderr.write(text + end)
        sys.stderr.flush()

    def update(self, running: int) -> None:
        self.running = running
        self._draw()

    def finish_one(self, ok: bool) -> None:
        if ok:
            self.done += 1
        else:
            self.failed += 1
        self.running = max(0, min(self.running, self.total - self.done - self.failed))
        self._draw()

    def close(self) -> None:
        self.running = 0
        self._draw("\n")


def bundled_specs(params: Mapping[str, Any] | None = None) -> list[Spec]:
    """What ``casekit render --all`` renders.

    ``case_report`` for every valid case found (the bundled ones, including the clearly
    marked synthetic example, plus any in ``CASEKIT_DATA``), ``compare_cases`` over all of
    them, and ``classroom`` for the flagship case. ``params`` go to every notebook that
    declares them (others ignore them).
    """
    from casekit import cases as _cases

    listed = _cases.list_cases()
    ids = [i for i, ok in zip(listed["id"], listed["valid"], strict=True) if ok]
    params = dict(params or {})

    def for_nb(nb: str) -> dict:
        names = {p.name for p in notebook_params(nb)}
        return {k: v for k, v in params.items() if k in names}

    prices = params.get("prices_dir") or os.environ.get(PRICES_ENV)
    specs = []
    for c in ids:
        p = for_nb("case_report")
        market = _case_market(c) if prices and "ticker" not in p else {}
        if market:
            p.update({"ticker": market["ticker"], "peers": list(market.get("peers", []))})
            if market.get("index"):
                p["market_index"] = market["index"]
        specs.append(Spec("case_report", c, p))
    specs.append(Spec("compare_cases", None, for_nb("compare_cases")))
    classroom_case = next((c for c in ("united-breaks-guitars", "synthetic-example") if c in ids),
                          None)
    specs.append(Spec("classroom", classroom_case, for_nb("classroom")))
    return specs


def write_index(out_dir: str | os.PathLike = "reports") -> Path:
    """Write ``<out_dir>/index.html``: every report found there, with its case, parameters,
    status and time. Returns its path."""
    out = Path(out_dir)
    rows = []
    for side in sorted(out.glob("*/*.json")):
        try:
            meta = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(meta, dict) or "notebook" not in meta or "key" not in meta:
            continue
        rows.append((side, meta))
    order = {n: i for i, n in enumerate(NOTEBOOKS)}
    rows.sort(key=lambda r: (order.get(r[1]["notebook"], 99), r[1].get("folder", ""),
                             r[1]["notebook"]))
    body = []
    for side, meta in rows:
        folder = side.parent.name
        name = side.name[:-len(".json")]  # not with_suffix: a notebook name may hold dots
        html_rel = f"{folder}/{name}.html"
        log_rel = f"{folder}/{name}.log"
        ok = meta.get("status") == "ok" and (side.parent / f"{name}.html").is_file()
        status = meta.get("last_run", meta.get("status")) if ok else "failed"
        link = (f'<a href="{html.escape(html_rel)}">{html.escape(meta["notebook"])}</a>' if ok
                else html.escape(meta["notebook"]))
        params = ", ".join(f"{k}={v!r}" for k, v in (meta.get("params") or {}).items()
                           if k not in ("case",))
        err = meta.get("error") or ""
        log = (f'<a href="{html.escape(log_rel)}">log</a>'
               if (side.parent / f"{name}.log").is_file() else "")
        body.append(
            f'<tr class="{html.escape(status)}"><td>{link}</td>'
            f"<td>{html.escape(meta.get('case') or 'all cases')}</td>"
            f"<td><code>{html.escape(params)}</code></td>"
            f"<td>{html.escape(status)}{(': ' + html.escape(err)) if err and not ok else ''}</td>"
            f"<td>{meta.get('seconds', '')}</td>"
            f"<td>{html.escape(str(meta.get('rendered_at', ''))[:16].replace('T', ' '))}</td>"
            f"<td>{log}</td></tr>")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>casekit reports</title>
<style>
 body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; }}
 table {{ border-collapse: collapse; width: 100%; }}
 th, td {{ border-bottom: 1px solid #ddd; padding: .35em .6em; text-align: left;
          vertical-align: top; font-size: 14px; }}
 tr.failed td {{ background: #fdecea; }}
 code {{ font-size: 12px; }}
</style></head><body>
<h1>casekit reports</h1>
<p>{len(rows)} report(s), written by <code>casekit render</code>
(casekit {html.escape(_version())}). Open them from this folder: every figure uses the shared
<code>{PLOTLY_JS}</code> here and works offline. Status <em>cached</em> means the report was
reused because nothing it depends on changed.</p>
<table><thead><tr><th>report</th><th>case</th><th>parameters</th><th>status</th>
<th>seconds</th><th>rendered (UTC)</th><th>log</th></tr></thead>
<tbody>
{chr(10).join(body)}
</tbody></table></body></html>
"""
    path = out / "index.html"
    _atomic_write(path, page)
    return path


def provenance(case=None) -> Any:
    """The versions and data a report was made with: the footer of every notebook.

    Package versions (Python, casekit and the libraries behind its numbers and figures),
    and for a case its folder and a SHA-256 of its data files, so that a reader can tell
    whether two reports used the same data.

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
        rows += [("case", case.id), ("case data sha256", h.hexdigest()[:16]),
                 ("case files", ", ".join(p.name for p in files))]
    rows.append(("rendered (UTC)", _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M")))
    return pd.DataFrame(rows, columns=["item", "value"])
