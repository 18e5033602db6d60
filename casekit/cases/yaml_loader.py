"""Reading ``case.yaml``: plain data only, no duplicate keys, and the line of every key.

Mappings come back as :class:`_Mapping`, a ``dict`` that remembers the line of each key,
so a problem deep in the file can say where it is.

A case file is plain data written out in full, so the loader refuses what YAML offers
beyond that before building anything:

* anchors and aliases (``&x`` / ``*x``): a 900-byte "alias bomb" expands to gigabytes,
  and a recursive alias has no end;
* nesting deeper than :data:`MAX_DEPTH` (libyaml builds nested values recursively in C:
  100,000 brackets crash the interpreter);
* tags that build Python objects.

Dates stay text (``2008-02-30`` is then a problem the validator reports, not an exception
of YAML's own date parser), and numbers are read only when written in plain decimal
digits: YAML 1.1 would read ``131_000``, ``0x1F``, ``017`` (octal) and ``1:30``
(sexagesimal) as numbers, which then stay text here.

Examples
--------
>>> from casekit.cases.yaml_loader import _line, _load
>>> meta = _load("id: x\\nclaims:\\n  - id: a\\n    by: someone\\n")
>>> _line(meta["claims"][0], "by"), _line(meta["claims"][0])
(4, 3)
>>> _load("date: 2008-02-30\\nn: 131_000\\nm: -2.5\\n")
{'date': '2008-02-30', 'n': '131_000', 'm': -2.5}
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from casekit.cases.files import _read_text
from casekit.cases.readers import _Collector

# libyaml's C parser is ~10x faster than the pure-Python one on a case.yaml with many sources.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Mapping(dict):
    """A YAML mapping that knows its own line and the line of each key (1-based)."""

    line: int | None = None
    lines: dict[Any, int]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lines = {}


class _NoDuplicatesLoader(_SafeLoader):
    """SafeLoader that refuses duplicate keys (a silent overwrite loses data)."""


def _construct_mapping(loader, node, deep=False):
    keys, lines = set(), {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in keys:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        keys.add(key)
        lines[key] = key_node.start_mark.line + 1
    out = _Mapping(_SafeLoader.construct_mapping(loader, node, deep))
    out.line = node.start_mark.line + 1
    out.lines = lines
    return out


_NoDuplicatesLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _construct_text(loader, node):
    return loader.construct_scalar(node)


def _construct_int(loader, node):
    text = loader.construct_scalar(node)
    return int(text) if _INT.fullmatch(text) else text


def _construct_float(loader, node):
    text = loader.construct_scalar(node)
    return float(text) if _FLOAT.fullmatch(text) else text


_NoDuplicatesLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)
_NoDuplicatesLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_NoDuplicatesLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)

MAX_DEPTH = 32
"""Deepest nesting of mappings and lists in ``case.yaml`` (the format needs four)."""

_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class PlainDataError(ValueError):
    """``case.yaml`` uses YAML beyond plain data; ``line`` is 1-based."""

    def __init__(self, line: int, message: str, expected: str) -> None:
        super().__init__(message)
        self.line, self.message, self.expected = line, message, expected


def _check_plain(text: str) -> None:
    """Raise :class:`PlainDataError` at the first anchor, alias or too-deep nesting.

    Walks the parser's events, which libyaml produces without recursion and without
    expanding anything, and stops at the first offence: an alias bomb or a recursive alias
    is refused after a few events. Raises yaml.YAMLError for a syntax error.
    """
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_SafeLoader):
            depth = _check_event(event, depth)
    except yaml.YAMLError as err:
        # libyaml 0.2.5+ (PyYAML 6.0.4) has a nesting limit of its own, hit while scanning
        # ahead: report it as the same problem as ours
        if "nesting depth" not in str(err):
            raise
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        raise PlainDataError(
            mark.line + 1 if mark else 1,
            f"mappings and lists nested more than {MAX_DEPTH} deep",
            "the case format, which nests four levels at most",
        ) from None


def _check_event(event, depth: int) -> int:
    """The nesting depth after ``event``; PlainDataError at an anchor, alias or too deep."""
    anchor = getattr(event, "anchor", None)
    if anchor is not None:
        sign = "*" if isinstance(event, yaml.AliasEvent) else "&"
        what = "an alias" if sign == "*" else "an anchor"
        raise PlainDataError(
            event.start_mark.line + 1,
            f"{what} ({sign}{anchor[:40]}): YAML anchors and aliases are not allowed",
            "every value written out in full (casekit reads plain data only)",
        )
    if isinstance(event, _OPEN):
        depth += 1
        if depth > MAX_DEPTH:
            raise PlainDataError(
                event.start_mark.line + 1,
                f"mappings and lists nested more than {MAX_DEPTH} deep",
                "the case format, which nests four levels at most",
            )
    elif isinstance(event, _CLOSE):
        depth -= 1
    return depth


def _load(text: str) -> Any:
    """Parse YAML text with the safe, line-aware loader.

    Raises :class:`PlainDataError` for anchors, aliases and deep nesting, and
    yaml.YAMLError for anything else YAML refuses.
    """
    _check_plain(text)
    return yaml.load(text, Loader=_NoDuplicatesLoader)  # noqa: S506 - a SafeLoader subclass


def _line(mapping: Any, key: Any = None) -> int | None:
    """The line of ``key`` in ``mapping`` (of the mapping itself without a key, or when the
    key is absent); None for values that did not come from the loader."""
    if not isinstance(mapping, _Mapping):
        return None
    if key is not None and key in mapping.lines:
        return mapping.lines[key]
    return mapping.line


def _yaml_str(value) -> str | None:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _read_meta(path: Path, out: _Collector):
    text = _read_text(path, "case.yaml", out)
    if text is None:
        return None
    try:
        meta = _load(text)
    except PlainDataError as err:
        out.add("case.yaml", err.line, None, err.message, err.expected)
        return None
    except RecursionError:  # belt and braces: _check_plain bounds the nesting
        out.add("case.yaml", None, None, "nested too deeply to read", "the case format")
        return None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(err, "problem", None) or str(err)
        if isinstance(err, yaml.constructor.ConstructorError) and "python" in str(err):
            problem = (
                "a YAML tag that would build a Python object; casekit reads plain data "
                "only and never runs anything"
            )
        out.add("case.yaml", line, None, f"cannot read YAML: {problem}", "plain YAML data")
        return None
    if not isinstance(meta, dict):
        out.add(
            "case.yaml",
            None,
            None,
            "the top level is not a mapping",
            "keys such as id, title, company, key_dates, sources",
        )
        return None
    return meta
