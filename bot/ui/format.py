"""Wording helpers every text surface shares (embeds, plain text, studies, HTML, errors);
``ordinal`` is :func:`analytics.formats.ordinal` (charts and analytics use it too)."""

from __future__ import annotations

import re

from analytics.formats import ordinal

__all__ = ["ordinal", "plural", "shown"]

_UNSAFE = re.compile(r"[`\\\x00-\x1f\x7f]")


def plural(n: int, word: str) -> str:
    """``1 day``, ``2 days``, ``1,410 days`` (an ``s`` unless ``n`` is 1)."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def shown(text: str, limit: int = 20) -> str:
    """User text made safe to echo inside `code`: no backticks, backslashes or control
    characters, cut to ``limit`` (the bot sends with mentions disabled)."""
    clean = _UNSAFE.sub("", text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


#: How a delivery ledger status reads in ``/briefing settings`` and ``/alerts settings``.
STATUS_WORDS = {"sent": "✅ posted", "failed": "❌ not posted", "sending": "⏳ posting",
                "unknown": "⏳ checking the channel (Discord did not confirm)",
                "skipped": "⚠️ not posted",
                "interrupted": "⚠️ interrupted (may not have been posted)",
                "missed": "⚠️ missed (bot was down)"}
