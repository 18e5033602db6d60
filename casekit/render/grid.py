"""Parameter grids: the cross product of parameter values, rendered as one batch.

``casekit render CASE --grid effectiveness=0.2,0.5,0.8 --grid "delays=0,1,3;0,7"``
renders one report per combination (here 3 x 2 = 6 per case). Alternatives are separated
by commas, except for list parameters, whose alternatives are separated by ``;`` (each
alternative is itself a list: ``0,1,3``). Each report is named by the values that vary,
in the order given: ``case_report--effectiveness=0.5--delays=0,1,3.html``, so the reports
of one grid sit side by side in the case's folder and in the index.

The grid is checked completely before any kernel starts: every name must be a declared
parameter, every value must fit its declared type, and a value must lie in the range a
parameter's help states as ``(LOW = ..., HIGH = ...)`` (``effectiveness``: 0 to 1) or
that a share implies (0 to 1). A grid of more than :data:`GRID_LIMIT` reports needs
``yes=True`` (``--yes``).

Examples
--------
>>> parse_grid(["effectiveness=0.2,0.5", "delays=0,1,3;0,7"], "case_report")
{'effectiveness': ['0.2', '0.5'], 'delays': ['0,1,3', '0,7']}
>>> combos = expand_grid("case_report", {"effectiveness": [0.2, 0.5], "delays": ["0,1,3"]})
>>> [grid_name("case_report", c) for c in combos]
['case_report--effectiveness=0.2--delays=0,1,3', 'case_report--effectiveness=0.5--delays=0,1,3']
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from casekit.exceptions import ParameterError
from casekit.render.params import coerce_params, describe_params, notebook_params

__all__ = ["GRID_LIMIT", "expand_grid", "grid_name", "grid_specs", "parse_grid"]

GRID_LIMIT = 1000
"""Reports a grid may make without ``--yes``."""

_MAX_STEM = 200  # bytes of a report's file name before its suffix (file systems allow 255)
_RANGE = re.compile(r"\(\s*(-?[\d.]+)\s*=[^,()]*,\s*(-?[\d.]+)\s*=[^()]*\)")


def _declared(notebook: str | os.PathLike) -> dict:
    return {p.name: p for p in notebook_params(notebook)}


def parse_grid(items: Iterable[str], notebook: str | os.PathLike) -> dict[str, list[str]]:
    """Read ``--grid NAME=V1,V2,...`` options into ``{name: [value, ...]}`` (strings).

    List parameters separate their alternatives with ``;`` (``delays=0,1,3;0,7``).

    Raises
    ------
    ParameterError
        An item without ``=``, an empty value list, or a name given twice.
    """
    declared = _declared(notebook)
    grid: dict[str, list[str]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParameterError(
                f"--grid {item!r}: expected NAME=V1,V2,... (e.g. --grid effectiveness=0.2,0.5)"
            )
        if name in grid:
            raise ParameterError(f"--grid {name} given twice; give all its values in one --grid")
        p = declared.get(name)
        is_list = p is not None and p.type.replace(" ", "").startswith("list[")
        parts = [v.strip() for v in values.split(";" if is_list else ",")]
        if not any(parts) or (not is_list and not all(parts)):
            raise ParameterError(f"--grid {name}: no values (expected {name}=V1,V2,...)")
        grid[name] = parts
    return grid


def _range(param) -> tuple[float, float] | None:
    """The range a parameter's help states: ``(0 = none, 1 = all)``, or 0..1 for a share."""
    m = _RANGE.search(param.help or "")
    if m:
        try:
            return float(m.group(1)), float(m.group(2))
        except ValueError:
            return None
    if param.type in ("float", "list[float]") and re.search(r"\bshare\b", param.help or ""):
        return 0.0, 1.0
    return None


def expand_grid(
    notebook: str | os.PathLike,
    grid: Mapping[str, Sequence[Any] | str],
    params: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every combination of the grid's values, checked and converted to the declared types.

    Parameters
    ----------
    notebook : str or path-like
        The notebook the grid is for (its ``parameters`` cell declares names, types and
        ranges).
    grid : mapping
        ``{name: values}``; values are a sequence, or one string as on the command line.
    params : mapping, optional
        Fixed parameters of every report; a name may not be both fixed and in the grid.

    Returns
    -------
    list of dict
        One dict per combination (only the grid's names), in the order of the cross
        product (the last name varies fastest).

    Raises
    ------
    ParameterError
        An unknown name, ``case`` in the grid, a value of the wrong type or out of range,
        a repeated value, or a name both fixed and varied.
    """
    declared = _declared(notebook)
    errors = []
    values: dict[str, list[Any]] = {}
    for name, given in grid.items():
        p = declared.get(name)
        if name == "case" or name == "cases":
            errors.append(f"{name!r} cannot be a grid: name the cases as arguments")
            continue
        if p is None:
            errors.append(f"unknown parameter {name!r}")
            continue
        if params and name in params:
            errors.append(f"{name!r} is both a fixed parameter (-p) and a grid")
            continue
        if isinstance(given, str):
            given = parse_grid([f"{name}={given}"], notebook)[name]
        if not isinstance(given, Sequence) or len(given) == 0:
            errors.append(f"grid {name!r} has no values")
            continue
        try:
            coerced = [coerce_params(notebook, {name: v})[name] for v in given]
        except ParameterError as err:
            errors.append(str(err).split("\n")[0].split(": ", 1)[-1])
            continue
        seen = [repr(v) for v in coerced]
        if len(set(seen)) != len(seen):
            errors.append(f"grid {name!r} repeats a value: {', '.join(seen)}")
            continue
        bounds = _range(p)
        if bounds is not None:
            lo, hi = bounds
            flat = [x for v in coerced for x in (v if isinstance(v, list) else [v])]
            bad = [x for x in flat if not (lo <= x <= hi)]
            if bad:
                errors.append(
                    f"grid {name!r}: {', '.join(map(repr, bad))} outside {lo:g} to {hi:g} "
                    f"(the range its help states: {p.help})"
                )
                continue
        values[name] = coerced
    if errors:
        nb = os.path.basename(os.fspath(notebook))
        raise ParameterError(
            f"grid for {nb!r}: "
            + "; ".join(errors)
            + f"\nvalid parameters of {nb!r}:\n"
            + describe_params(notebook)
        )
    names = list(values)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values.values())]


def _text(value: Any) -> str:
    """A value as it appears in a report's name: ``0.5``, ``3``, ``0,1,3``, ``bass``."""
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return re.sub(r"[^A-Za-z0-9._,+-]", "_", str(value))


def grid_name(notebook: str | os.PathLike, combo: Mapping[str, Any]) -> str:
    """The file name (without suffix) of one grid report: ``<notebook>--name=value--...``.

    Safe on every file system (letters, digits and ``._,+-=`` only); a name that would be
    longer than 200 bytes is cut and ends in a hash of the full name, so it stays unique.

    Examples
    --------
    >>> grid_name("case_report", {"effectiveness": 0.5, "delays": [0.0, 1.0, 3.0]})
    'case_report--effectiveness=0.5--delays=0,1,3'
    >>> grid_name("case_report", {"ticker": "BRK/A"})
    'case_report--ticker=BRK_A'
    """
    stem = os.path.splitext(os.path.basename(os.fspath(notebook)))[0]
    name = stem + "".join(f"--{k}={_text(v)}" for k, v in combo.items())
    if len(name.encode()) > _MAX_STEM:
        digest = hashlib.sha256(repr(sorted(combo.items())).encode()).hexdigest()[:12]
        name = name.encode()[: _MAX_STEM - 14].decode(errors="ignore") + "--" + digest
    return name


def grid_specs(
    notebook: str | os.PathLike,
    cases: Sequence[str | None],
    grid: Mapping[str, Sequence[Any] | str],
    params: Mapping[str, Any] | None = None,
    *,
    yes: bool = False,
) -> list:
    """The specs of a grid batch: every case times every combination, each named by it.

    Parameters
    ----------
    notebook : str or path-like
    cases : sequence of str or None
        The cases (``[None]`` for a notebook that takes no case).
    grid, params
        As in :func:`expand_grid`.
    yes : bool
        Allow more than :data:`GRID_LIMIT` reports.

    Returns
    -------
    list of Spec

    Raises
    ------
    ParameterError
        A bad grid (see :func:`expand_grid`), or too many reports without ``yes``.
    """
    from casekit.render.jobs import Spec

    combos = expand_grid(notebook, grid, params)
    n = len(combos) * max(1, len(cases))
    if n > GRID_LIMIT and not yes:
        raise ParameterError(
            f"the grid makes {n:,} reports ({len(combos):,} combinations x {len(cases)} "
            f"case(s)), more than {GRID_LIMIT:,}; add --yes to render them all"
        )
    specs = []
    for case in cases:
        for combo in combos:
            specs.append(
                Spec(
                    os.fspath(notebook),
                    case,
                    {**dict(params or {}), **combo},
                    name=grid_name(notebook, combo),
                )
            )
    return specs
