"""The one exception family the product raises for problems a user can act on.

Pages render these with one function (title + message), the command line prints them and exits
non-zero; anything else is a bug and is allowed to surface as a traceback.
"""

from __future__ import annotations


class InsightError(Exception):
    """A problem the user can do something about.

    Parameters
    ----------
    message
        What went wrong and what to do about it, in plain words.
    title
        A short heading for the message box.
    """

    title = "Something needs your attention"

    def __init__(self, message: str, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title


class StoreError(InsightError):
    """The DuckDB store cannot be opened or used as it is."""

    title = "The data store cannot be used"


class SchemaTooNewError(StoreError):
    """The store was written by a newer version of School Improvement Insight."""

    title = "This data store is newer than the app"


class StoreBusyError(StoreError):
    """Two writes overlapped and this one was not saved; trying again succeeds."""

    title = "Not saved: someone else saved at the same moment"
