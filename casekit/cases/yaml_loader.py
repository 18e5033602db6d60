"""Reading ``case.yaml``: plain data only, no duplicate keys, and the line of every key.

Mappings come back as :class:`_Mapping`, a ``dict`` that remembers the line of each key,
so a problem deep in the file can say where it is.

Examples
--------
>>> from casekit.cases.yaml_loader import _line, _load
>>> meta = _load("id: x\\nclaims:\\n  - id: a\\n    by: someone\\n")
>>> _line(meta["claims"][0], "by"), _line(meta["claims"][0])
(4, 3)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from casekit.cases.readers import _Collector, _read_text

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


def _load(text: str) -> Any:
    """Parse YAML text with the safe, line-aware loader (raises yaml.YAMLError)."""
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
