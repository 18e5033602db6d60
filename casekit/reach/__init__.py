"""Reach over time: growth curves fitted to sparse, conflicting milestones.

A case's reach data are rarely a tidy daily series. They are a few dozen
cumulative milestones at irregular times, often several that disagree for the
same day (United Breaks Guitars), a dozen time-stamped counts over a few days
(the Wiesenhof protest group), or nothing that can be fitted at all (Range
Rover: outlet readership only). This module fits growth curves to such data
with honest uncertainty, and says plainly when the data cannot support a fit.

* :data:`CURVES` is a registry of declarative :class:`CurveSpec` objects
  (logistic, gompertz, richards, bass, expsat); :func:`register_curve` adds one,
  :func:`multiwave` builds a sum of waves, optionally anchored at timeline events.
* :func:`fit` is the one generic fitter. It takes a :class:`~casekit.Case` plus
  a metric, a pandas Series/DataFrame, or plain arrays, and returns an
  immutable :class:`ReachFit`.
* :func:`compare` fits several curves to one series and ranks them by AICc.
* :func:`describe` summarises data that cannot be fitted (:class:`DescriptiveReach`).

Time ``t`` is in days since the case's origin (by default its ``going_public``
key date). Conflicting same-day figures are all kept: the robust losses and
confidence weights are the tools for them. Figures qualified "more than",
"nearly", "about" or "up to" are treated as point observations; the plot marks
them with their own marker shapes (triangle up for "more than", down for "nearly"
and "up to", diamond for "about"). A figure dated to a month, a range or
"approximately" is placed at the start of its stated period, as the case loader
dates it.

The parts, in dependency order: ``curves`` (CurveSpec, the five curves, the registry),
``multiwave``, ``data`` (inputs to one observation table), ``_solver`` (bounded LM, IRLS,
covariance, the batched bootstrap solver), ``intervals``, ``milestones``,
``milestone_profile``, ``bootstrap`` (bootstrap-t), ``diagnostics`` (bound flags, influential
low-confidence readings), ``prose`` and ``storage`` (what ``ReachFit`` delegates to),
``result`` (ReachFit), ``fitting`` (fit), ``intervention`` (the response inside the curve),
``observation`` and ``response_fit`` (per-period counts, the response effects and their
profile intervals), ``joint``, ``_joint_solver``, ``joint_result`` and ``joint_text`` (several
metrics with one timing), ``compare`` and ``describe``.

Examples
--------
>>> import casekit as ck
>>> case = ck.load_case("synthetic-example")
>>> res = ck.reach.fit(case, "logistic", metric="video_views")
>>> res
<casekit.ReachFit logistic case='synthetic-example' metric='video_views' loss=ols n=28>
>>> res.params.round(2).to_dict()
{'K': 125090.11, 'r': 0.88, 't0': 3.06}
>>> round(res.time_to_share(0.9)["estimate"], 1)
5.6
"""

from __future__ import annotations

from casekit.reach._solver import (  # noqa: F401  (private names used by tests and notebooks)
    _batch_fit,
    _covariance,
    _make_problem,
    _solve,
    _starts,
)
from casekit.reach.compare import COMPARE_COLUMNS, Comparison, case_curves, compare
from casekit.reach.curves import (  # noqa: F401
    CURVES,
    DEFAULT_CURVES,
    CurveSpec,
    _get_spec,
    _numeric_share_time,
    register_curve,
)
from casekit.reach.data import (  # noqa: F401
    CONFIDENCE_WEIGHTS,
    _fittable_metrics,
    _prepare,
    _to_days,
    _weights_from,
)
from casekit.reach.describe import NORMALISED_COLUMNS, DescriptiveReach, describe, normalised
from casekit.reach.fitting import LOSSES, _fit_prepared, fit  # noqa: F401
from casekit.reach.intervention import intervention
from casekit.reach.joint import fit_joint
from casekit.reach.joint_result import JointReachFit
from casekit.reach.multiwave import _resolve_anchor, _spec_from_definition, multiwave  # noqa: F401
from casekit.reach.result import PRED_COLUMNS, SUMMARY_COLUMNS, ReachFit

__all__ = [
    "CurveSpec",
    "CURVES",
    "register_curve",
    "multiwave",
    "intervention",
    "fit",
    "fit_joint",
    "compare",
    "case_curves",
    "describe",
    "ReachFit",
    "JointReachFit",
    "Comparison",
    "DescriptiveReach",
    "CONFIDENCE_WEIGHTS",
    "LOSSES",
    "PRED_COLUMNS",
    "SUMMARY_COLUMNS",
    "COMPARE_COLUMNS",
    "DEFAULT_CURVES",
    "normalised",
    "NORMALISED_COLUMNS",
]
