"""Notebooks and their parameters: found, read and checked without starting a kernel.

A notebook declares its parameters in the cell tagged ``parameters``, one per line:
``name: type = literal  # help``. A help comment may end with the values allowed: a range
``[0, 1]``, ``(0, inf)``, ``[1, inf)`` for numbers (each number of a list), or choices
``{ols, log, robust}`` for words (``""`` for the empty word). :func:`notebook_params` reads
them with :mod:`ast`; :func:`coerce_params` checks names, converts values (strings from the
command line included) to the declared types and refuses values outside the declared
range, all before any kernel starts.

Examples
--------
>>> from casekit.render import coerce_params
>>> coerce_params("case_report", {"horizon": "30"})["horizon"]
30
"""

from __future__ import annotations

import ast
import io
import json
import math
import os
import re
import sys
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casekit.exceptions import ParameterError

__all__ = [
    "NOTEBOOKS",
    "PRICES_ENV",
    "Param",
    "coerce_params",
    "describe_params",
    "list_notebooks",
    "notebook_params",
    "notebook_path",
    "notebooks_dir",
]

NOTEBOOKS = ("case_report", "compare_cases", "classroom", "new_case")
"""The bundled notebooks, in the order the index lists them."""

PRICES_ENV = "CASEKIT_PRICES"
"""Environment variable: default ``prices_dir`` for notebooks that take one (the folder of
``<TICKER>_<year>_yahoo.csv`` price files used by the market event study)."""

_SUPPORTED_TYPES = ("str", "int", "float", "bool", "list[str]", "list[int]", "list[float]")
_PATH_SUFFIXES = ("_dir", "_path")  # str parameters made absolute before the kernel starts


# ---------------------------------------------------------------------------
# locating notebooks
# ---------------------------------------------------------------------------


def notebooks_dir() -> Path:
    """The folder of bundled notebooks.

    ``casekit/_bundled_notebooks`` inside an installed wheel, else ``notebooks/`` of a
    source checkout.
    """
    pkg = Path(__file__).resolve().parent.parent
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
        if path.suffix not in (".py", ".ipynb"):
            raise ParameterError(
                f"{text!r} is not a notebook: give a jupytext percent script (.py), a Jupyter "
                f"notebook (.ipynb) or the name of a bundled notebook "
                f"({', '.join(list_notebooks()) or 'none found'})"
            )
        if not path.is_file():
            raise ParameterError(f"notebook {text!r}: no such file")
        return path.resolve()
    if not re.fullmatch(r"[a-z][a-z0-9_]*", text):
        hint = (
            " (a file of that name is not a notebook: a notebook is a .py or .ipynb file)"
            if os.path.exists(text)
            else ""
        )
        raise ParameterError(
            f"{text!r} is not a notebook name{hint}; bundled notebooks: "
            f"{', '.join(list_notebooks()) or '(none found)'}"
        )
    path = notebooks_dir() / f"{text}.py"
    if not path.is_file():
        raise ParameterError(
            f"no notebook {text!r}; bundled notebooks: "
            f"{', '.join(list_notebooks()) or '(none found)'}"
        )
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
    range: tuple[float, float, bool, bool] | None = None
    """``(low, high, low_closed, high_closed)`` from a trailing ``[0, 1]`` or ``[0, inf)``
    in the help comment; numbers (and each number of a list) must lie inside it."""
    choices: tuple[str, ...] | None = None
    """The allowed words, from a trailing ``{ols, log, robust}`` in the help comment (each
    word of a list must be one of them); the declared default is always allowed."""

    def __str__(self) -> str:
        return f"{self.name}: {self.type} = {self.default!r}  # {self.help}"

    @property
    def allowed(self) -> str:
        """The allowed values in words: ``from 0 to 1``, ``0 or more``, ``one of ols, log``.

        Examples
        --------
        >>> Param("e", "float", 0.5, "share [0, 1]", range=(0.0, 1.0, True, True)).allowed
        'from 0 to 1'
        >>> Param("h", "int", 3, "days [0, inf)", range=(0.0, math.inf, True, False)).allowed
        '0 or more'
        """
        if self.choices is not None:
            return "one of " + ", ".join(c if c else '"" (empty)' for c in self.choices)
        if self.range is None:
            return "any value of its type"
        lo, hi, lo_closed, hi_closed = self.range
        if math.isinf(hi) and math.isinf(lo):
            return "any number"
        if math.isinf(hi):
            return f"{_num(lo)} or more" if lo_closed else f"more than {_num(lo)}"
        if math.isinf(lo):
            return f"{_num(hi)} or less" if hi_closed else f"less than {_num(hi)}"
        if lo_closed and hi_closed:
            return f"from {_num(lo)} to {_num(hi)}"
        return (f"above {_num(lo)}" if not lo_closed else f"{_num(lo)} or more") + (
            f" and up to {_num(hi)}" if hi_closed else f" and below {_num(hi)}"
        )


def _num(x: float) -> str:
    return f"{x:g}"


_NUMBER = r"[-+]?(?:inf|(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)"
_RANGE = re.compile(rf"([\[(])\s*({_NUMBER})\s*,\s*({_NUMBER})\s*([\])])\s*$", re.IGNORECASE)
_CHOICES = re.compile(r"\{([^{}]*)\}\s*$")


def _declared_limits(help_text: str) -> tuple[tuple | None, tuple | None]:
    """The range or choices a help comment ends with.

    Examples
    --------
    >>> _declared_limits("share stopped (0 = none, 1 = all) [0, 1]")
    ((0.0, 1.0, True, True), None)
    >>> _declared_limits("days shown [1, inf)")
    ((1.0, inf, True, False), None)
    >>> _declared_limits('loss {"", ols, log}')
    (None, ('', 'ols', 'log'))
    >>> _declared_limits("[] = all")
    (None, None)
    """
    m = _RANGE.search(help_text)
    if m:
        lo, hi = float(m.group(2)), float(m.group(3))
        if lo <= hi:
            return (lo, hi, m.group(1) == "[", m.group(4) == "]"), None
    m = _CHOICES.search(help_text)
    if m:
        words = tuple(w.strip().strip("\"'") for w in m.group(1).split(","))
        return None, words
    return None, None


def _parameters_source(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ParameterError(
            f"notebook {path}: not UTF-8 text (byte {err.start}: {err.reason}); save it as UTF-8"
        ) from None
    if path.suffix == ".ipynb":
        try:
            nb = json.loads(text)
        except json.JSONDecodeError as err:
            raise ParameterError(
                f"notebook {path}: not valid JSON (line {err.lineno}, column {err.colno}: "
                f"{err.msg}); an .ipynb file must be a notebook saved by Jupyter, or give "
                f"the jupytext .py version"
            ) from None
        if not isinstance(nb, dict) or not isinstance(nb.get("cells", []), list):
            raise ParameterError(
                f"notebook {path}: not a Jupyter notebook (expected a JSON object with a "
                f"'cells' list)"
            )
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
            for nxt in lines[i + 1 :]:
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
            f"{path.name}: the parameters cell is not valid Python: {err}"
        ) from None
    comments = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    params = []
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, type_ = node.target.id, ast.unparse(node.annotation)
            value_node = node.value
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name, type_, value_node = node.targets[0].id, "", node.value
        else:
            continue
        try:
            default = ast.literal_eval(value_node) if value_node is not None else None
        except ValueError:
            raise ParameterError(
                f"{path.name}: parameter {name!r} has no literal default"
            ) from None
        if not type_:
            type_ = type(default).__name__ if not isinstance(default, list) else "list[str]"
        help_text = comments.get(node.lineno, "")
        limits, choices = _declared_limits(help_text)
        params.append(Param(name, type_, default, help_text, limits, choices))
    _PARAM_CACHE[key] = params
    return list(params)


def describe_params(notebook: str | os.PathLike) -> str:
    """A readable list of a notebook's parameters: ``name: type = default  # help`` per line.

    A notebook without parameters says so (it has no cell tagged ``parameters``, or the
    cell declares nothing).
    """
    params = notebook_params(notebook)
    if not params:
        return "  (none: the notebook has no cell tagged 'parameters' declaring any)"
    return "\n".join(f"  {p}" for p in params)


# ---------------------------------------------------------------------------
# coercion: command-line strings and Python values to the declared types
# ---------------------------------------------------------------------------

_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}
_MAX_TEXT = 10_000  # longer values are not read as lists (nor echoed whole in errors)


class _NotFinite(ValueError):
    """A float parameter given NaN or infinity."""


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters; safe for any value.

    Examples
    --------
    >>> _short("x" * 100, 10)
    "'xxxxx...(102 characters)"
    """
    try:
        text = repr(value)
    except (RecursionError, ValueError, TypeError):
        return f"a {type(value).__name__} that cannot be shown"
    return text if len(text) <= limit else f"{text[: limit - 4]}...({len(text)} characters)"


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
            out = float(value)
        elif isinstance(value, str):
            out = float(value.strip())
        else:
            raise TypeError
        if not math.isfinite(out):
            raise _NotFinite
        return out
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
                if len(text) > _MAX_TEXT:
                    raise ValueError
                try:
                    value = json.loads(text)
                except json.JSONDecodeError:
                    value = ast.literal_eval(text)
                except RecursionError:  # nested past the parser's depth: not a flat list
                    raise ValueError from None
            else:
                value = [v.strip() for v in text.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise TypeError
        return [_coerce_scalar(inner, v) for v in value]
    return _coerce_scalar(kind, value)


def _outside(param: Param, value: Any) -> str:
    """Why ``value`` (already of the declared type) is outside the declared range or
    choices, or ``""``. The declared default is always allowed."""
    if (param.range is None and param.choices is None) or value == param.default:
        return ""
    items = value if isinstance(value, list) else [value]
    bad = []
    for v in items:
        if param.choices is not None:
            if isinstance(v, str) and v not in param.choices:
                bad.append(v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            lo, hi, lo_closed, hi_closed = param.range
            below = v < lo if lo_closed else v <= lo
            above = v > hi if hi_closed else v >= hi
            if below or above:
                bad.append(v)
    if not bad:
        return ""
    each = "each value of " if isinstance(value, list) else ""
    got = _short(bad[0]) if len(bad) == 1 else _short(bad)
    return f"{each}parameter {param.name!r} must be {param.allowed}, got {got}"


def coerce_params(notebook: str | os.PathLike, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check parameter names and convert values to the declared types.

    Strings (as given on the command line) are converted: ``"30"`` to 30 for an ``int``,
    ``"0,1,7"`` or ``"[0, 1, 7]"`` to ``[0, 1, 7]`` for a ``list[int]``, ``true``/``false``
    for a ``bool``.

    Raises
    ------
    ParameterError
        An unknown name, a value that does not fit the type, or one outside the declared
        range or choices; the message says what is allowed and lists every valid
        parameter with its type, default and help.

    Examples
    --------
    >>> from casekit.render import coerce_params
    >>> coerce_params("case_report", {"delays": "0,3", "curves": "logistic,bass"})
    {'delays': [0.0, 3.0], 'curves': ['logistic', 'bass']}
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
            problem = _outside(p, out[name])
            if problem:
                errors.append(problem)
        except _NotFinite:
            errors.append(
                f"parameter {name!r} must be {p.type} of finite numbers (from "
                f"{-sys.float_info.max:.4g} to {sys.float_info.max:.4g}; not NaN or "
                f"infinity), got {_short(value)}"
            )
        except (TypeError, ValueError, SyntaxError, RecursionError, MemoryError):
            # RecursionError/MemoryError: a value nested too deeply for Python's parser
            flat = " (a flat list: 0,1,7 or [0, 1, 7])" if p.type.startswith("list[") else ""
            errors.append(f"parameter {name!r} must be {p.type}{flat}, got {_short(value)}")
    if errors:
        name = Path(os.fspath(notebook)).stem
        raise ParameterError(
            f"notebook {name!r}: "
            + "; ".join(errors)
            + f"\nvalid parameters of {name!r}:\n"
            + describe_params(notebook)
        )
    return out
