"""Error types. A :class:`UserFacingError`'s text is safe to show a user; anything else is a bug."""

from __future__ import annotations


class CapbriefError(Exception):
    """Base of every error raised on purpose by capbrief."""


class UserFacingError(CapbriefError):
    """The message is short, plain and safe to show (ephemerally) to the user who asked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(UserFacingError):
    """The user asked for something malformed or out of range."""


class DataUnavailable(UserFacingError):
    """The data needed to answer is not available right now (source down, symbol unknown, ...)."""
