"""What a report shows a reader: a one-screen summary, readable views of the results,
figure captions, a glossary and full citations.

The notebooks under ``notebooks/`` only call these functions; the logic lives here.

Modules: :mod:`~casekit.report.summary` (:func:`summary`, the summary at the top of a
report), :mod:`~casekit.report.views` (tables for people, captions, the observations
outside a band, the remedy beside the money lenses, the market window),
:mod:`~casekit.report.words` (glossary, references, curve names) and
:mod:`~casekit.report.compare` (cases normalised by their fitted saturation).
"""

from __future__ import annotations

from casekit.report import views
from casekit.report.compare import by_saturation, saturation_plot
from casekit.report.summary import CASE_SECTIONS, ReportSummary, summary, two_sentences
from casekit.report.views import (
    caption,
    market_window,
    outside_band,
    remedy,
    source_ids,
)
from casekit.report.words import (
    GLOSSARY,
    REFERENCES,
    Block,
    cite,
    describe_curve,
    explain,
    glossary,
    references,
)

__all__ = [
    "CASE_SECTIONS",
    "GLOSSARY",
    "REFERENCES",
    "Block",
    "ReportSummary",
    "by_saturation",
    "caption",
    "cite",
    "describe_curve",
    "explain",
    "glossary",
    "market_window",
    "outside_band",
    "references",
    "remedy",
    "saturation_plot",
    "source_ids",
    "summary",
    "two_sentences",
    "views",
]
