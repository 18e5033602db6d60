"""Event logs and self-exciting spread (issue #10).

:func:`load` reads raw posts, comments or shares (CSV, JSON Lines, Parquet) through
DuckDB into an :class:`EventLog`: checked, de-duplicated, counted per period, with
the provenance a case needs. :func:`fit` (a Hawkes process) and :func:`simulate` come
from :mod:`casekit.events.hawkes` and :mod:`casekit.events.simulate`.

Examples
--------
>>> from casekit import events
>>> log = events.load(events.EXAMPLE_LOG, time="time", id="id", tz="Europe/London")
>>> int(log.counts("1D")["count"].sum()) == log.n_events
True
"""

from __future__ import annotations

from casekit.events.ingest import FORMATS, EventLogError
from casekit.events.log import EXAMPLE_LOG, EventLog, load


def _optional(module: str, name: str):
    """``module.name`` when the module exists yet, else None (written in parallel)."""
    import importlib

    try:
        return getattr(importlib.import_module(module), name, None)
    except ModuleNotFoundError as err:
        if err.name != module:  # the module exists but something it imports is missing
            raise
        return None


# Imported here, not lazily: importing the submodule ``simulate`` would otherwise replace
# the function of the same name on this package.
fit = _optional("casekit.events.hawkes", "fit")
simulate = _optional("casekit.events.simulate", "simulate")
if fit is None:
    del fit
if simulate is None:
    del simulate

__all__ = ["load", "EventLog", "EventLogError", "EXAMPLE_LOG", "FORMATS"] + [
    n for n in ("fit", "simulate") if n in globals()
]
