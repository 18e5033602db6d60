"""Errors casekit raises on purpose.

Every error a user can cause with bad data or bad parameters derives from
:class:`CasekitError`, so the command line can print its message without a
traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class CasekitError(Exception):
    """Base class of the errors that carry a message meant for the user."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a case folder.

    Attributes
    ----------
    file : str
        File name inside the case folder (``case.yaml``, ``reach.csv`` ...) or the folder itself.
    row : int or None
        1-based line number in the file (the CSV header is line 1), when the problem is in a row.
    column : str or None
        Column or YAML key the problem is in.
    message : str
        What is wrong.
    expected : str or None
        What would be right.
    """

    file: str
    row: int | None
    column: str | None
    message: str
    expected: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", line {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        text = f"{where}: {self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class CaseValidationError(CasekitError):
    """A case folder has one or more problems; all of them are in ``problems``."""

    def __init__(self, path: str, problems: list[Problem]):
        self.path = path
        self.problems = tuple(problems)
        lines = [f"{path}: {len(problems)} problem(s)"] + [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


class CaseNotFoundError(CasekitError, LookupError):
    """No case with that id or path."""


class FitError(CasekitError, ValueError):
    """A curve could not be fitted: too little data, no convergence, or unidentifiable."""


class InsufficientDataError(FitError):
    """The data cannot support the requested analysis; the message says why."""


class ParameterError(CasekitError, ValueError):
    """An analysis or notebook parameter has a wrong name, type or value."""


class PriceDataError(CasekitError, ValueError):
    """Price files for an event study are missing or malformed."""
