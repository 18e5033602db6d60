"""casekit: how a customer's complaint became a public storm, and what the slow answer cost.

>>> import casekit as ck
>>> case = ck.load_case("synthetic-example")
>>> case.company
'Example Appliances Ltd (fictional)'
"""

from importlib.metadata import PackageNotFoundError, version

from casekit.cases import Case, KeyDate, data_dirs, list_cases, load_case, new_case, validate
from casekit.exceptions import (
    CasekitError,
    CaseNotFoundError,
    CaseValidationError,
    FitError,
    InsufficientDataError,
    ParameterError,
    PriceDataError,
    Problem,
)

_SUBMODULES = (
    "reach",
    "response",
    "market",
    "plots",
    "render",
    "events",
    "forecast",
    "report",
    "classroom",
)


def __getattr__(name: str):
    # Analysis modules import scipy, statsmodels and plotly: load them on first use so that
    # `import casekit` and the command line stay quick.
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"casekit.{name}")
    raise AttributeError(f"module 'casekit' has no attribute {name!r}")


try:
    __version__ = version("casekit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Case",
    "KeyDate",
    "load_case",
    "list_cases",
    "validate",
    "new_case",
    "data_dirs",
    "CasekitError",
    "CaseNotFoundError",
    "CaseValidationError",
    "FitError",
    "InsufficientDataError",
    "ParameterError",
    "PriceDataError",
    "Problem",
    "__version__",
    *_SUBMODULES,
]
