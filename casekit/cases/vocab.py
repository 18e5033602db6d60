"""The vocabularies and columns of the case format (documented in datasets/README.md).

Examples
--------
>>> from casekit.cases.vocab import QUALIFIERS, RESPONSE_KINDS
>>> QUALIFIERS[-1], RESPONSE_KINDS[:3]
('less_than', ('response', 'statement', 'apology'))
"""

from __future__ import annotations

import re

DATA_ENV = "CASEKIT_DATA"
"""Environment variable: extra folders of cases, separated by ``os.pathsep``."""

CASE_ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SOURCE_ID_PATTERN = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")
METRIC_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
MAX_FILE_BYTES = 5 * 1024 * 1024

KEY_DATES = ("incident", "first_complaint", "going_public", "first_response", "resolution")
PRECISIONS = ("hour", "day", "month", "year", "approximate", "range")
CONFIDENCES = ("high", "medium", "low", "unverified")
QUALIFIERS = ("exact", "more_than", "nearly", "about", "up_to", "less_than")
FIGURE_KINDS = ("observed", "reported", "claim", "derived")
ACTORS = ("customer", "company", "media", "public", "third_party")
EVENT_KINDS = (
    "incident",
    "complaint",
    "refusal",
    "publication",
    "response",
    "statement",
    "apology",
    "offer",
    "concession",
    "coverage",
    "escalation",
    "resolution",
    "other",
)
COST_CATEGORIES = (
    "price",
    "remedy_requested",
    "remedy_refused",
    "repair_cost",
    "compensation_offered",
    "payment",
    "donation",
    "claimed_loss",
    "market_move",
    "market_cap",
    "shares_outstanding",
    "sponsorship_value",
    "other",
)
RESPONSE_KINDS = ("response", "statement", "apology", "offer", "concession", "resolution")
"""Timeline kinds of a company row that count as a response to the complaint.

``response`` is a response of unstated kind; ``statement``, ``apology``, ``offer``,
``concession`` and ``resolution`` say which kind (see datasets/README.md)."""
COMPANY_KINDS = ("statement", "apology", "concession")
"""Timeline kinds that only a ``company`` row may have (they name kinds of its response)."""

_FILES = ("case.yaml", "timeline.csv", "reach.csv", "costs.csv", "indicators.csv")
OPTIONAL_FILES = ("indicators.csv",)
"""Files of a case folder that may be absent."""

# column name -> required?  ("derived" rows relax `quote`, ranges need *_end: checked per row)
TIMELINE_COLUMNS = {
    "date": True,
    "date_precision": True,
    "date_end": False,
    "actor": True,
    "kind": True,
    "description": True,
    "source": True,
    "quote": False,
    "confidence": True,
    "note": False,
}
REACH_COLUMNS = {
    "time": True,
    "time_precision": True,
    "time_end": False,
    "metric": True,
    "value": True,
    "unit": True,
    "cumulative": True,
    "period": False,
    "qualifier": True,
    "kind": True,
    "method": False,
    "source": True,
    "quote": False,
    "confidence": True,
    "note": False,
}
REACH_FRAME_COLUMNS = (
    "time",
    "time_end",
    "time_precision",
    "metric",
    "value",
    "unit",
    "cumulative",
    "period",
    "period_days",
    "qualifier",
    "kind",
    "method",
    "source",
    "quote",
    "confidence",
    "note",
    "line",
)
"""Columns of :attr:`Case.reach` (``period_days`` is NaN where no period is given)."""
INDICATORS_COLUMNS = {
    "time": True,
    "time_precision": True,
    "time_end": False,
    "indicator": True,
    "subject": False,
    "value": True,
    "unit": True,
    "scale": False,
    "qualifier": True,
    "kind": True,
    "method": False,
    "source": True,
    "quote": False,
    "confidence": True,
    "note": False,
}
INDICATOR_FRAME_COLUMNS = (
    "time",
    "time_end",
    "time_precision",
    "indicator",
    "subject",
    "value",
    "unit",
    "scale",
    "scale_min",
    "scale_max",
    "qualifier",
    "kind",
    "method",
    "source",
    "quote",
    "confidence",
    "note",
    "line",
)
"""Columns of :attr:`Case.indicators`."""
COSTS_COLUMNS = {
    "item": True,
    "category": True,
    "value": False,
    "unit": True,
    "date": True,
    "date_precision": True,
    "date_end": False,
    "qualifier": True,
    "kind": True,
    "method": False,
    "source": True,
    "quote": False,
    "confidence": True,
    "note": False,
}

# key in case.yaml -> required?
CLAIM_FIELDS = {
    "id": True,
    "claim": True,
    "by": True,
    "date": False,
    "source": True,
    "quote": True,
    "confidence": True,
    "price_change_pct": False,
    "value_change": False,
    "currency": False,
    "window": False,
    "note": False,
}
CLAIM_COLUMNS = (
    "id",
    "claim",
    "by",
    "date",
    "date_precision",
    "source",
    "quote",
    "confidence",
    "price_change_pct",
    "value_change",
    "currency",
    "window",
    "note",
    "line",
)
"""Columns of :attr:`Case.claims`."""
