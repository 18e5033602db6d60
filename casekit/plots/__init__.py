"""Plotly figures for casekit results.

Every function here takes a result object (or a case) and returns a
:class:`plotly.graph_objects.Figure`; none of them calls ``.show()``. Result
objects delegate to them from their ``.plot()`` methods. Shared styling lives at
the top of this module: the ``casekit`` plotly template (registered on import as
``plotly.io.templates["casekit"]``) and the colours per confidence level.
"""

from casekit.plots.market import event_study_plot
from casekit.plots.reach import compare_plot, normalised_plot, reach_describe_plot, reach_plot
from casekit.plots.response import (
    delay_cost_plot,
    delays_plot,
    detection_plot,
    money_lenses_plot,
    severity_plot,
    tornado_plot,
    waiting_plot,
)
from casekit.plots.theme import CONFIDENCE_COLOURS, PALETTE, template
from casekit.plots.timeline import timeline_plot

__all__ = [
    "CONFIDENCE_COLOURS",
    "PALETTE",
    "template",
    "event_study_plot",
    "reach_plot",
    "compare_plot",
    "reach_describe_plot",
    "normalised_plot",
    "delay_cost_plot",
    "tornado_plot",
    "severity_plot",
    "delays_plot",
    "detection_plot",
    "waiting_plot",
    "money_lenses_plot",
    "timeline_plot",
]
