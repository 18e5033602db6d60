"""The optional ``analysis:`` block of ``case.yaml``: choices the case's author made.

Analysis functions use these only when the caller leaves a choice open; the library
itself names no case, ticker or date.

Examples
--------
>>> import casekit as ck
>>> ck.load_case("synthetic-example").analysis.get("classroom", False)
False
"""

from __future__ import annotations

import sys
from typing import Any

from casekit.cases.model import KEY_DATES, METRIC_PATTERN
from casekit.cases.readers import DATE_RANGE, _Collector, _out_of_range, _parse_when
from casekit.cases.yaml_loader import _line, _yaml_str

ANALYSIS_LOSSES = ("ols", "log", "robust", "robust_log")
ANALYSIS_KEYS = ("metric", "loss", "curves", "waves", "market", "classroom")
MARKET_KEYS = ("ticker", "index", "peers", "event_date")


BUILTIN_CURVES = ("logistic", "gompertz", "richards", "bass", "expsat")
"""The curves :mod:`casekit.reach.curves` registers (a test keeps the two in step)."""


def _known_curves() -> tuple[str, ...]:
    """Curve names ``analysis.curves`` may use.

    The registry itself once :mod:`casekit.reach` is imported (it then holds any curve a
    user registered); before that, the built-in names, so validating a case does not
    import scipy.
    """
    curves = sys.modules.get("casekit.reach.curves")
    registry = getattr(curves, "CURVES", None)
    return tuple(registry) if registry else BUILTIN_CURVES


def _read_market(value: Any, col: str, out: _Collector) -> dict[str, Any] | None:
    """``analysis.market``: ticker (required), index, peers and event_date (optional)."""
    ok = (
        isinstance(value, dict)
        and isinstance(value.get("ticker"), str)
        and set(value) <= set(MARKET_KEYS)
        and isinstance(value.get("index", ""), str)
        and isinstance(value.get("peers", []), list)
        and all(isinstance(p, str) for p in value.get("peers", []))
    )
    if not ok:
        out.add(
            "case.yaml",
            None,
            col,
            "not a market mapping",
            "{ticker: ABC, index: GSPC, peers: [DEF, GHI]}, and optionally event_date",
        )
        return None
    market = dict(value)
    if "event_date" in value:
        when = value["event_date"]
        text = _yaml_str(when) if hasattr(when, "isoformat") else when
        parsed = _parse_when(text) if isinstance(text, str) else None
        if text not in KEY_DATES and (parsed is None or parsed[1] not in ("day", "hour")):
            out.add(
                "case.yaml",
                None,
                f"{col}.event_date",
                f"{when!r} is neither a key date nor a day",
                " | ".join(KEY_DATES) + ", or an ISO date such as 2024-03-04",
            )
            return None
        far = None if parsed is None else _out_of_range(parsed[0], text)
        if far is not None:
            out.add("case.yaml", None, f"{col}.event_date", far, DATE_RANGE)
            return None
        market["event_date"] = text
    return market


def _read_analysis(meta: dict, out: _Collector) -> dict[str, Any]:
    """The optional ``analysis:`` block: defaults a case's author chose for its analysis."""
    block = meta.get("analysis")
    if block is None:
        return {}
    if not isinstance(block, dict):
        out.add("case.yaml", None, "analysis", "not a mapping", "keys " + ", ".join(ANALYSIS_KEYS))
        return {}
    result: dict[str, Any] = {}
    for key, value in block.items():
        col = f"analysis.{key}"
        if key == "metric":
            if not isinstance(value, str) or not METRIC_PATTERN.match(value):
                out.add(
                    "case.yaml",
                    None,
                    col,
                    f"{value!r} is not a metric name",
                    "a snake_case metric of reach.csv",
                )
                continue
        elif key == "loss":
            if value not in ANALYSIS_LOSSES:
                out.add(
                    "case.yaml", None, col, f"unknown loss {value!r}", " | ".join(ANALYSIS_LOSSES)
                )
                continue
        elif key == "curves":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                out.add(
                    "case.yaml",
                    None,
                    col,
                    "not a list of curve names",
                    "e.g. [logistic, gompertz, bass]",
                )
                continue
            known = _known_curves()
            unknown = [v for v in value if v not in known]
            for name in unknown:
                out.add(
                    "case.yaml",
                    _line(block, key),
                    col,
                    f"unknown curve {name!r}",
                    "curves from: " + ", ".join(known),
                )
            if unknown:
                continue
        elif key == "waves":
            ok = isinstance(value, list) and all(isinstance(w, list) and len(w) >= 2 for w in value)
            if not ok:
                out.add(
                    "case.yaml",
                    None,
                    col,
                    "not a list of anchor lists",
                    "e.g. [[null, null], [null, 2024-03-10]]: one list per multi-wave "
                    "curve, one anchor (null, a date, days or an event kind) per wave",
                )
                continue
            value = [[_yaml_str(a) if hasattr(a, "isoformat") else a for a in w] for w in value]
        elif key == "market":
            value = _read_market(value, col, out)
            if value is None:
                continue
        elif key == "classroom":
            if not isinstance(value, bool):
                out.add(
                    "case.yaml",
                    None,
                    col,
                    f"{value!r} is not true/false",
                    "true for the case the classroom notebook teaches with, else false",
                )
                continue
        else:
            out.add("case.yaml", None, col, "unknown analysis key", ", ".join(ANALYSIS_KEYS))
            continue
        result[key] = value
    return result
