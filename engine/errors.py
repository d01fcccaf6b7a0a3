"""Tipstaff's exception tree.

Every error a user can cause derives from :class:`TipstaffError`; the shells print its
message as one line (never a traceback) and exit with status 2.

    TipstaffError
    ├── DataError(ValueError)          a rules/ data file is wrong (file, line, field, expected)
    ├── OutOfCoverageError(ValueError) a date outside what a court calendar or rule version covers
    ├── UnknownCourtError(LookupError) no calendar with that id
    └── InputError(ValueError)         a request's own arguments are wrong or contradict each other
"""

from __future__ import annotations


class TipstaffError(Exception):
    """Root of every error Tipstaff raises on purpose."""


class DataError(TipstaffError, ValueError):
    """A data file (court calendar, order, event log) is malformed.

    The message names the file, the line when known, the field and what was expected.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.file = file
        self.line = line
        self.field = field
        where = ""
        if file:
            where = file + (f":{line}" if line else "") + ": "
        what = f"{field}: " if field else ""
        super().__init__(f"{where}{what}{message}")


class OutOfCoverageError(TipstaffError, ValueError):
    """A date falls outside the range a calendar or rule version covers; never guess."""


class UnknownCourtError(TipstaffError, LookupError):
    """No court calendar with the requested id."""


class InputError(TipstaffError, ValueError):
    """A caller's arguments are invalid or contradict each other."""
