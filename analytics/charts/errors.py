"""The one error chart code raises on purpose: the input cannot make a meaningful chart."""

from __future__ import annotations


class ChartInputError(ValueError):
    """Empty, too short or inconsistent chart input. ``str()`` is short and safe to show a user
    (the bot maps it to a :class:`~bot.errors.UserFacingError`)."""
