"""The one result contract every casekit analysis returns.

Every result is an immutable dataclass deriving from :class:`Result` and speaks the
same vocabulary, after statsmodels' results objects:

==============  ==========================================================================
``params``      estimates only (a Series or DataFrame)
``settings``    the call's arguments and assumptions (a dict), printed with the result
``table``       the main DataFrame
``summary``     a short DataFrame
``str(r)``      the prose
``conf_int``    ``conf_int(alpha)`` where the result carries intervals, with columns
                ``lower`` and ``upper`` (``has_intervals`` says whether it does)
``plot()``      a plotly Figure
``to_dict``     JSON-able; ``type(r).from_dict(r.to_dict())`` rebuilds an equal result
==============  ==========================================================================

``to_dict`` stores the dataclass fields through a small tagged codec (frames keep their
dtypes, NaN stays NaN, timestamps stay timestamps), so ``from_dict`` needs no code per
class. A class whose fields cannot be stored that way (a fitted curve holds functions)
overrides both methods.

Examples
--------
>>> import casekit as ck
>>> d = ck.response.delays(ck.load_case("synthetic-example"))
>>> isinstance(d, ck.results.Result)
True
>>> type(d).from_dict(d.to_dict()).to_dict() == d.to_dict()
True
"""

from __future__ import annotations

import dataclasses
import html
import io
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.exceptions import ParameterError

__all__ = [
    "Result",
    "encode",
    "decode",
    "register",
    "check_alpha",
    "read_csv",
    "INTERVAL_COLUMNS",
]

INTERVAL_COLUMNS = ("lower", "upper")
"""Interval columns, named the same in every result's tables."""

_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Make a dataclass storable by :func:`encode` (results register themselves)."""
    _REGISTRY[f"{cls.__module__}.{cls.__qualname__}"] = cls
    _REGISTRY.setdefault(cls.__qualname__, cls)
    return cls


def check_alpha(alpha: Any, default: float = 0.05) -> float:
    """``alpha`` as a float in (0, 1), or ParameterError."""
    if alpha is None:
        return default
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating)):
        raise ParameterError(f"alpha must be a number between 0 and 1, not {alpha!r}")
    a = float(alpha)
    if not 0 < a < 1:
        raise ParameterError(f"alpha must be between 0 and 1 (0.05 for 95 % intervals), not {a}")
    return a


# --------------------------------------------------------------------------- codec


def _encode_float(v: float) -> Any:
    return v if math.isfinite(v) else {"__float__": repr(v)}


def _encode_frame(df: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {
        "columns": [encode(c) for c in df.columns],
        "dtypes": [str(t) for t in df.dtypes],
        "data": [[encode(v) for v in df[c].tolist()] for c in df.columns],
    }
    if not isinstance(df.index, pd.RangeIndex) or df.index.start != 0 or df.index.step != 1:
        out["index"] = {
            "name": encode(df.index.name),
            "dtype": str(df.index.dtype),
            "values": [encode(v) for v in df.index.tolist()],
        }
    return {"__frame__": out}


def encode(value: Any) -> Any:
    """A JSON-able form of ``value`` that :func:`decode` turns back into an equal value."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _encode_float(float(value))
    if value is pd.NaT:
        return {"__ts__": None}
    if isinstance(value, pd.Timestamp):
        return {"__ts__": value.isoformat()}
    if isinstance(value, pd.Timedelta):
        return {"__td__": value.value}
    if isinstance(value, Path):
        return {"__path__": str(value)}
    if isinstance(value, pd.DataFrame):
        return _encode_frame(value)
    if isinstance(value, pd.Series):
        out = {
            "name": encode(value.name),
            "dtype": str(value.dtype),
            "values": [encode(v) for v in value.tolist()],
        }
        if not isinstance(value.index, pd.RangeIndex):
            out["index"] = {
                "name": encode(value.index.name),
                "dtype": str(value.index.dtype),
                "values": [encode(v) for v in value.index.tolist()],
            }
        return {"__series__": out}
    if isinstance(value, np.ndarray):
        return {
            "__array__": [encode(v) for v in value.ravel().tolist()],
            "dtype": str(value.dtype),
            "shape": list(value.shape),
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = f"{type(value).__module__}.{type(value).__qualname__}"
        if name not in _REGISTRY:
            raise TypeError(f"{name} is not registered with casekit.results.register")
        return {
            "__dc__": name,
            "fields": {
                f.name: encode(getattr(value, f.name))
                for f in dataclasses.fields(value)
                if f.init and not f.name.startswith("_cache")
            },
        }
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, (Mapping, MappingProxyType)):
        if all(isinstance(k, str) for k in value):
            if any(k.startswith("__") for k in value):
                return {"__map__": [[k, encode(v)] for k, v in value.items()]}
            return {k: encode(v) for k, v in value.items()}
        return {"__map__": [[encode(k), encode(v)] for k, v in value.items()]}
    raise TypeError(f"cannot store a {type(value).__name__} in to_dict()")


def _decode_column(values: list, dtype: str) -> pd.Series:
    data = [decode(v) for v in values]
    if dtype.startswith("datetime64"):
        s = pd.to_datetime(pd.Series(data, dtype=object), utc="UTC" in dtype or "+" in dtype)
        try:
            return s.astype(dtype)
        except (TypeError, ValueError):
            return s
    if dtype == "object":
        return pd.Series(data, dtype=object)
    try:
        return pd.Series(data, dtype=object).astype(dtype)
    except (TypeError, ValueError):
        return pd.Series(data, dtype=object)


def _decode_index(d: Mapping[str, Any]) -> pd.Index:
    return pd.Index(_decode_column(d["values"], d["dtype"]), name=decode(d["name"]))


def _decode_frame(d: Mapping[str, Any]) -> pd.DataFrame:
    cols = [decode(c) for c in d["columns"]]
    series = [_decode_column(v, t) for v, t in zip(d["data"], d["dtypes"])]
    df = pd.DataFrame({i: s for i, s in enumerate(series)})
    if not cols:
        df = pd.DataFrame(index=range(len(series[0]) if series else 0))
    df.columns = pd.Index(cols) if cols else df.columns
    if "index" in d:
        df.index = _decode_index(d["index"])
    return df


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__float__" in value:
        return float(value["__float__"])
    if "__ts__" in value:
        return pd.NaT if value["__ts__"] is None else pd.Timestamp(value["__ts__"])
    if "__td__" in value:
        return pd.Timedelta(value["__td__"], unit="ns")
    if "__path__" in value:
        return Path(value["__path__"])
    if "__frame__" in value:
        return _decode_frame(value["__frame__"])
    if "__series__" in value:
        d = value["__series__"]
        out = _decode_column(d["values"], d["dtype"]).rename(decode(d["name"]))
        if "index" in d:
            out.index = _decode_index(d["index"])
        return out
    if "__array__" in value:
        arr = np.array([decode(v) for v in value["__array__"]], dtype=value["dtype"])
        return arr.reshape(value["shape"])
    if "__tuple__" in value:
        return tuple(decode(v) for v in value["__tuple__"])
    if "__map__" in value:
        return {decode(k): decode(v) for k, v in value["__map__"]}
    if "__dc__" in value:
        cls = _REGISTRY.get(value["__dc__"])
        if cls is None:
            raise ParameterError(f"to_dict() names an unknown result type {value['__dc__']!r}")
        fields = {k: decode(v) for k, v in value["fields"].items()}
        return cls(**fields)
    return {k: decode(v) for k, v in value.items()}


# --------------------------------------------------------------------------- base


class Result:
    """Base of every casekit result. Subclasses are frozen dataclasses.

    A subclass provides ``params``, ``settings``, ``table``, ``summary``,
    ``__str__`` and ``plot``; where it carries intervals it sets
    ``has_intervals = True`` and implements ``conf_int``.
    """

    has_intervals: ClassVar[bool] = False
    title: ClassVar[str] = "casekit result"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register(cls)

    # -- the vocabulary (subclasses override) ------------------------------------
    @property
    def params(self) -> pd.Series | pd.DataFrame:
        raise NotImplementedError

    @property
    def settings(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def table(self) -> pd.DataFrame:
        raise NotImplementedError

    @property
    def summary(self) -> pd.DataFrame:
        raise NotImplementedError

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Intervals with columns ``lower`` and ``upper``."""
        raise NotImplementedError(f"{type(self).__name__} carries no intervals")

    def plot(self, **kwargs: Any):
        raise NotImplementedError

    def __str__(self) -> str:
        return self.title

    # -- shared ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict: the fields (for :meth:`from_dict`) and, for readers,
        ``params``, ``settings``, ``table`` and the prose ``text``."""
        if not dataclasses.is_dataclass(self):
            raise TypeError(f"{type(self).__name__} must be a dataclass or override to_dict")
        out = {
            "type": type(self).__name__,
            "fields": encode(self)["fields"],
            "text": str(self),
            "settings": _plain(self.settings),
            "params": _plain(self.params),
            "table": _plain(self.table),
        }
        json.dumps(out, allow_nan=False)  # fail here, not in the caller
        return out

    def to_json(self, path: str | Path | None = None) -> str:
        """The result as JSON (:meth:`to_dict`: settings, estimates, table and prose);
        written to ``path`` when given. The text is returned either way."""
        text = json.dumps(self.to_dict(), allow_nan=False, indent=1)
        if path is not None:
            _write_text(Path(path), text)
        return text

    def to_csv(self, path: str | Path | None = None) -> str:
        """The main table as tidy CSV, one observation per row, preceded by the settings
        as ``# key: value`` lines (read both back with :func:`read_csv`); written to
        ``path`` when given. The text is returned either way.
        """
        lines = [f"# casekit {type(self).__name__}"]
        for key, value in self.settings.items():
            shown = value if isinstance(value, str) else json.dumps(_plain(value))
            lines.append(f"# {key}: " + " ".join(str(shown).split()))
        text = "\n".join(lines) + "\n" + self.table.to_csv(index=False)
        if path is not None:
            _write_text(Path(path), text)
        return text

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]):
        """Rebuild the result from :meth:`to_dict` output (nothing is recomputed)."""
        if d.get("type") != cls.__name__:
            raise ParameterError(f"this dict holds a {d.get('type')!r}, not a {cls.__name__}")
        fields = {k: decode(v) for k, v in d["fields"].items()}
        return cls(**fields)

    def _repr_html_(self) -> str:
        parts = [f"<h4>{html.escape(self.title)}</h4>"]
        text = str(self).split("\nSettings:")[0]
        parts.append("<p>" + "<br>".join(html.escape(s) for s in text.splitlines()) + "</p>")
        try:
            summary = self.summary
        except NotImplementedError:
            summary = None
        if isinstance(summary, pd.DataFrame) and len(summary):
            parts.append(html_table(summary, index=not isinstance(summary.index, pd.RangeIndex)))
        if self.settings:
            items = "".join(
                f"<li><b>{html.escape(str(k))}</b>: {html.escape(fmt.cell(v))}</li>"
                for k, v in self.settings.items()
            )
            parts.append(
                f"<details><summary>Settings and assumptions</summary><ul>{items}</ul></details>"
            )
        return "".join(parts)

    def __repr__(self) -> str:
        return f"<casekit {type(self).__name__}>\n{self}"


def read_csv(path: str | Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read a :meth:`Result.to_csv` file back: ``(table, settings)``.

    Only the leading ``#`` lines are settings; a ``#`` inside the table (a URL's
    fragment, say) is data.
    """
    text = Path(path).read_text(encoding="utf-8")
    settings: dict[str, str] = {}
    lines = text.splitlines(keepends=True)
    n = 0
    for line in lines:
        if not line.startswith("# "):
            break
        n += 1
        key, sep, value = line[2:].rstrip("\n").partition(": ")
        if sep:
            settings[key] = value
    return pd.read_csv(io.StringIO("".join(lines[n:]))), settings


def _write_text(path: Path, text: str) -> None:
    """Write beside the destination, then rename: never a half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def html_table(df: pd.DataFrame, *, index: bool = False) -> str:
    """A small DataFrame as an escaped HTML table for people (see :mod:`casekit.format`)."""
    shown = df.reset_index() if index else df
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(fmt.cell(v))}</td>" for v in r) + "</tr>"
        for r in shown.itertuples(index=False, name=None)
    )
    return f'<table class="casekit"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _plain(value: Any) -> Any:
    """Plain JSON for readers of to_dict (no type tags): NaN -> None, dates -> ISO text."""
    if isinstance(value, pd.DataFrame):
        if not isinstance(value.index, pd.RangeIndex):
            value = value.reset_index()
        return [{str(k): _plain(v) for k, v in r.items()} for r in value.to_dict("records")]
    if isinstance(value, pd.Series):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (Mapping, MappingProxyType)):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.total_seconds() / 86400.0
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if value is None or isinstance(value, str):
        return value
    if value is pd.NaT:
        return None
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not f.name.startswith("_")
        }
    return str(value)


plain = _plain
