"""Wording helpers every text surface shares (embeds, plain text, studies, HTML, errors)."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[`\\\x00-\x1f\x7f]")


def plural(n: int, word: str) -> str:
    """``1 day``, ``2 days``, ``1,410 days`` (an ``s`` unless ``n`` is 1)."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``–``13th``, ``21st``, ``1,001st``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


def shown(text: str, limit: int = 20) -> str:
    """User text made safe to echo inside `code`: no backticks, backslashes or control
    characters, cut to ``limit`` (the bot sends with mentions disabled)."""
    clean = _UNSAFE.sub("", text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"
