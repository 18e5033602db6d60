"""Case folders: the one loader, the validator and the catalog.

A case is a folder ``<case-id>/`` holding ``case.yaml``, ``timeline.csv``,
``reach.csv``, ``costs.csv`` and optionally ``indicators.csv`` (the format is
documented in ``datasets/README.md``). :func:`load_case` reads and validates a folder in one
pass and returns an immutable :class:`Case`; :func:`validate` returns the list
of problems instead of raising; :func:`list_cases` is the catalog.

The parts, in dependency order:

=====================  ===================================================================
``vocab``              the vocabularies and columns of the format
``model``              :class:`Case`, :class:`KeyDate`, :class:`CaseContext`
``times``              dates, UTC offsets and periods
``readers``            the CSV files and the checks they share with ``case.yaml``
``indicators``         the optional ``indicators.csv``
``yaml_loader``        ``case.yaml``: plain data only, with the line of every key
``analysis_block``     the optional ``analysis:`` block
``claims``             the optional ``claims:`` list
``folder``             one folder, read and validated in one pass
``catalog``            where cases are found, :func:`load_case`, :func:`list_cases`
``extend``             :meth:`Case.with_reach`
``scaffold``           :func:`new_case`
=====================  ===================================================================

Examples
--------
>>> import casekit as ck
>>> case = ck.load_case("synthetic-example")
>>> case.synthetic
True
>>> case.origin
Timestamp('2024-03-04 00:00:00')
>>> case.series("video_views").columns.tolist()[:4]
['time', 't', 'value', 'qualifier']
"""

from casekit.cases.analysis_block import ANALYSIS_KEYS, ANALYSIS_LOSSES, _read_analysis
from casekit.cases.catalog import (
    _CACHE,
    _folder_key,
    _looks_like_path,
    _package_dir,
    _resolve,
    data_dirs,
    list_cases,
    load_case,
    validate,
)
from casekit.cases.claims import _read_claims
from casekit.cases.folder import _read_folder
from casekit.cases.model import (
    _FILES,
    ACTORS,
    CASE_ID_PATTERN,
    CLAIM_COLUMNS,
    CLAIM_FIELDS,
    COMPANY_KINDS,
    CONFIDENCES,
    COST_CATEGORIES,
    COSTS_COLUMNS,
    CURRENCY_PATTERN,
    DATA_ENV,
    EVENT_KINDS,
    FIGURE_KINDS,
    INDICATOR_FRAME_COLUMNS,
    INDICATORS_COLUMNS,
    KEY_DATES,
    MAX_FILE_BYTES,
    METRIC_PATTERN,
    OPTIONAL_FILES,
    PRECISIONS,
    QUALIFIERS,
    REACH_COLUMNS,
    REACH_FRAME_COLUMNS,
    RESPONSE_KINDS,
    SOURCE_ID_PATTERN,
    TIMELINE_COLUMNS,
    Case,
    CaseContext,
    KeyDate,
    SourceList,
    _freeze,
    _plain,
    _split_ids,
)
from casekit.cases.readers import (
    _check_common,
    _check_when,
    _Collector,
    _parse_number,
    _parse_when,
    _read_costs,
    _read_csv,
    _read_reach,
    _read_text,
    _read_timeline,
)
from casekit.cases.scaffold import new_case
from casekit.cases.yaml_loader import _NoDuplicatesLoader, _read_meta, _yaml_str

__all__ = [
    "Case",
    "CaseContext",
    "KeyDate",
    "SourceList",
    "load_case",
    "list_cases",
    "validate",
    "data_dirs",
    "new_case",
    "ACTORS",
    "ANALYSIS_KEYS",
    "ANALYSIS_LOSSES",
    "CASE_ID_PATTERN",
    "CLAIM_COLUMNS",
    "CLAIM_FIELDS",
    "COMPANY_KINDS",
    "CONFIDENCES",
    "COST_CATEGORIES",
    "COSTS_COLUMNS",
    "CURRENCY_PATTERN",
    "DATA_ENV",
    "EVENT_KINDS",
    "FIGURE_KINDS",
    "INDICATOR_FRAME_COLUMNS",
    "INDICATORS_COLUMNS",
    "KEY_DATES",
    "MAX_FILE_BYTES",
    "METRIC_PATTERN",
    "OPTIONAL_FILES",
    "PRECISIONS",
    "QUALIFIERS",
    "REACH_COLUMNS",
    "REACH_FRAME_COLUMNS",
    "RESPONSE_KINDS",
    "SOURCE_ID_PATTERN",
    "TIMELINE_COLUMNS",
]

# Private helpers other modules import from here (render: _plain); kept importable.
_PRIVATE = (
    _CACHE,
    _FILES,
    _Collector,
    _NoDuplicatesLoader,
    _check_common,
    _check_when,
    _folder_key,
    _freeze,
    _looks_like_path,
    _package_dir,
    _parse_number,
    _parse_when,
    _plain,
    _read_analysis,
    _read_claims,
    _read_costs,
    _read_csv,
    _read_folder,
    _read_meta,
    _read_reach,
    _read_text,
    _read_timeline,
    _resolve,
    _split_ids,
    _yaml_str,
)
