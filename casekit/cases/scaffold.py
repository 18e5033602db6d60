"""Scaffolding: :func:`new_case` writes a case folder to fill in.

The scaffold's placeholders (``TODO ...``) fail validation, each with a message that says
what to write, so an unfilled scaffold is never mistaken for a case.

Examples
--------
>>> import tempfile, casekit as ck
>>> sorted(p.name for p in ck.new_case("acme-kettle", tempfile.mkdtemp()).iterdir())
['README.md', 'case.yaml', 'costs.csv', 'reach.csv', 'timeline.csv']
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from casekit.cases.model import CASE_ID_PATTERN, COSTS_COLUMNS, REACH_COLUMNS, TIMELINE_COLUMNS
from casekit.exceptions import CaseNotFoundError, ParameterError

_TEMPLATE_YAML = """\
# casekit case metadata. The format: datasets/README.md in the casekit repository.
# Fill in every field; leave a key date null when no source gives it. Never guess.
id: {case_id}
title: "{title}"                  # a short name for the story
company: {company}
customer: null                    # the complainant, if public
country: {country}                   # ISO 3166 alpha-2, e.g. US, GB, DE
language: en                      # ISO 639-1 of most sources
currency: USD                     # ISO 4217 of most money figures
timezone: UTC                     # zone of clock times when a source does not say
synthetic: false
origin: going_public              # key date used as t = 0 for reach curves
summary: {summary}
key_dates:                        # each: null, or {{date, precision, source, confidence, note}}
  incident: null
  first_complaint: null
  going_public: null
  first_response: null
  resolution: null
sources: []                       # each: {{id, title, publisher, date, url, note}}
#  - id: example-news-2024-01-31
#    title: "Headline of the article"
#    publisher: Example News
#    date: 2024-01-31
#    url: https://example.org/article
"""

_TEMPLATE_README = """\
# {case_id}

Scaffolded by `casekit new`. To fill it in:

1. `case.yaml`: metadata, the five key dates (null when unknown) and every source you cite.
2. `timeline.csv`: one row per dated event (columns in datasets/README.md).
3. `reach.csv`: one row per reach figure, with the source's own words in `quote`.
   Conflicting figures are separate rows; never average or round them.
4. `costs.csv`: remedies, offers, claimed losses, sponsorship values ...
5. Optionally `indicators.csv`: sentiment shares, brand scores and other figures that are neither
   reach nor money (columns in datasets/README.md).

Check your work with `casekit validate {path}`; fit it with `casekit.reach` once reach.csv has
at least as many observations of one metric as the curve has parameters.
"""


_PLACEHOLDERS = {
    "company": '"TODO: the company the complaint was about"',
    "country": '"TODO"',
    "summary": ">\n  TODO: one paragraph in your own words: what happened, who complained, how it "
    "went public.",
}


def new_case(
    case_id: str,
    directory: str | os.PathLike = ".",
    *,
    company: str | None = None,
    country: str | None = None,
    summary: str | None = None,
) -> Path:
    """Write a case folder ``directory/case_id`` to fill in, and return its path.

    ``case.yaml`` has placeholders (``TODO ...``) for the company, the country and the
    summary unless they are given: until they are filled in, validation names each and
    says what to write. The three CSV files hold their header row only.

    Examples
    --------
    >>> import tempfile, casekit as ck
    >>> path = ck.new_case("my-case", tempfile.mkdtemp())
    >>> [p.column for p in ck.validate(path)]
    ['company', 'country', 'summary']
    >>> ck.validate(ck.new_case("acme", tempfile.mkdtemp(), company="Acme", country="GB",
    ...                         summary="A kettle broke."))
    []
    """
    given = {"company": company, "country": country, "summary": summary}
    for key, value in given.items():
        if value is not None and not isinstance(value, str):
            raise ParameterError(f"{key} must be text, not {type(value).__name__}")
    fields = {
        k: _PLACEHOLDERS[k] if v is None else json.dumps(v, ensure_ascii=False)
        for k, v in given.items()
    }
    if not CASE_ID_PATTERN.match(case_id):
        raise CaseNotFoundError(
            f"{case_id!r} is not a valid case id: use lower-case words joined by '-', "
            f"e.g. 'acme-broken-kettle'"
        )
    target = Path(directory) / case_id
    if target.exists():
        raise FileExistsError(f"{target} already exists; choose another id or directory")
    target.mkdir(parents=True)
    title = case_id.replace("-", " ").capitalize()
    (target / "case.yaml").write_text(
        _TEMPLATE_YAML.format(case_id=case_id, title=title, **fields), encoding="utf-8"
    )
    for name, cols in (
        ("timeline.csv", TIMELINE_COLUMNS),
        ("reach.csv", REACH_COLUMNS),
        ("costs.csv", COSTS_COLUMNS),
    ):
        (target / name).write_text(",".join(cols) + "\n", encoding="utf-8")
    (target / "README.md").write_text(
        _TEMPLATE_README.format(case_id=case_id, path=target), encoding="utf-8"
    )
    return target
