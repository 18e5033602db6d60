"""``to_dict`` / ``from_dict`` of a :class:`~casekit.reach.ReachFit`.

A fit's curve holds functions, so the fit cannot go through the generic codec of
:mod:`casekit.results`: the curve is stored by name (a registered curve) or by its
definition (a :func:`~casekit.reach.multiwave` curve) and rebuilt from it. The case
context goes through the codec.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from casekit.exceptions import ParameterError
from casekit.reach._solver import _readonly
from casekit.reach.data import _OBS_COLUMNS
from casekit.reach.multiwave import _spec_from_definition
from casekit.results import decode, encode, plain

_TEXT_COLUMNS = ("source", "confidence", "qualifier", "kind", "quote")


def fit_to_dict(fit) -> dict[str, Any]:
    """The JSON-able dict of a fit (see :meth:`ReachFit.to_dict`)."""
    obs = fit.obs
    times = [None if pd.isna(x) else pd.Timestamp(x).isoformat() for x in obs["time"]]
    ev = fit.events
    out = {
        "type": type(fit).__name__,
        "curve": fit.curve,
        "curve_definition": (
            {k: (list(v) if isinstance(v, tuple) else v) for k, v in fit.spec.definition.items()}
            if fit.spec.definition
            else None
        ),
        "observation": fit.observation,
        "dispersion": plain(fit.dispersion),
        "response_effect": encode(fit.response_effect),
        "formula": fit.spec.formula,
        "case_id": fit.case_id,
        "context": encode(fit.context),
        "metric": fit.metric,
        "origin": None if fit.origin is None else fit.origin.isoformat(),
        "loss": fit.loss,
        "weights": fit.weights,
        "alpha": fit.alpha,
        "f_scale": plain(fit.f_scale),
        "converged": bool(fit.converged),
        "n_starts": int(fit.n_starts),
        "n_starts_ok": int(fit.n_starts_ok),
        "notes": list(fit.notes),
        "param_names": list(fit.param_names),
        "params": {k: float(v) for k, v in zip(fit.param_names, fit.theta)},
        "bse": {k: plain(float(v)) for k, v in fit.bse.items()},
        "cov": [[plain(float(x)) for x in row] for row in fit.cov_matrix],
        "stats": {k: plain(float(v)) for k, v in fit.stats.items()},
        "saturation": plain(fit.saturation),
        "settings": plain(fit.settings),
        "text": str(fit),
        "data": {
            "t": [float(x) for x in obs["t"]],
            "time": times,
            "y": [float(x) for x in obs["y"]],
            "weight": [float(x) for x in obs["weight"]],
            **(
                {"period_days": [float(x) for x in obs["period_days"]]}
                if "period_days" in obs
                else {}
            ),
            **{
                c: [
                    None if (x is None or (isinstance(x, float) and math.isnan(x))) else str(x)
                    for x in obs[c]
                ]
                for c in _TEXT_COLUMNS
            },
        },
        "events": {
            "t": [float(x) for x in ev["t"]],
            "date": [pd.Timestamp(x).isoformat() for x in ev["date"]],
            "kind": [str(x) for x in ev["kind"]],
            "actor": [str(x) for x in ev["actor"]],
            "description": [str(x) for x in ev["description"]],
        },
    }
    json.dumps(out, allow_nan=False)  # fail here, not in the caller
    return out


def fit_from_dict(cls, d: Mapping[str, Any]):
    """Rebuild a fit from :func:`fit_to_dict` output (no refit)."""
    if d.get("type", cls.__name__) != cls.__name__:
        raise ParameterError(f"this dict holds a {d.get('type')!r}, not a {cls.__name__}")
    definition = d.get("curve_definition")
    if definition and definition.get("kind") == "intervention":
        from casekit.reach.intervention import spec_from_definition

        spec = spec_from_definition(definition)
    else:
        spec = _spec_from_definition(d["curve"], definition)
    data = d["data"]
    obs = pd.DataFrame(
        {
            "t": np.asarray(data["t"], dtype=float),
            "time": pd.to_datetime(pd.Series(data["time"], dtype=object)),
            "y": np.asarray(data["y"], dtype=float),
            "weight": np.asarray(data["weight"], dtype=float),
            **{c: np.asarray(data[c], dtype=object) for c in _TEXT_COLUMNS},
        }
    )[list(_OBS_COLUMNS)]
    if "period_days" in data:
        obs["period_days"] = np.asarray(data["period_days"], dtype=float)
    ev = d.get("events") or {}
    events = pd.DataFrame(
        {
            "t": np.asarray(ev.get("t", []), dtype=float),
            "date": pd.to_datetime(pd.Series(ev.get("date", []), dtype=object)),
            "kind": ev.get("kind", []),
            "actor": ev.get("actor", []),
            "description": ev.get("description", []),
        }
    )
    return cls(
        spec=spec,
        theta=_readonly([d["params"][n] for n in d["param_names"]]),
        cov_matrix=_readonly(d["cov"]),
        obs=obs,
        loss=d["loss"],
        weights=d["weights"],
        alpha=float(d["alpha"]),
        metric=d["metric"],
        origin=None if d["origin"] is None else pd.Timestamp(d["origin"]),
        f_scale=d.get("f_scale"),
        converged=bool(d["converged"]),
        n_starts=int(d["n_starts"]),
        n_starts_ok=int(d["n_starts_ok"]),
        notes=tuple(d.get("notes", ())),
        events=events,
        context=decode(d.get("context")),
        observation=d.get("observation", "cumulative"),
        dispersion=d.get("dispersion"),
        response_effect=decode(d.get("response_effect")),
    )
