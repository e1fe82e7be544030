"""Discord's documented limits, as the loopback fake enforces them.

- **Global**: at most ``limit`` (50) requests per second per bot token, counted over a sliding
  one-second window of requests that carry the bot's ``Authorization``. Interaction callbacks and
  webhook-token routes (follow-ups) are not bound by it (Discord's rate-limit docs). Over it:
  429 with ``global: true``, ``retry_after`` (seconds until the oldest request in the window
  leaves it) and the ``X-RateLimit-Global`` / ``X-RateLimit-Scope: global`` headers.
- **Per route** (opt-in, :class:`RouteLimit`): ``limit`` requests per ``per`` seconds per bucket
  (the route's major parameter, e.g. the channel id), with ``X-RateLimit-*`` headers on every
  answer so the client can pace itself; over it, 429 with ``global: false`` and ``retry_after``.
- **Shards**: one gateway session may hold at most 2,500 guilds; Discord closes an IDENTIFY whose
  shard would hold more with close code 4011 ("Sharding required").

Every 429 carries a ``Via`` header: discord.py treats a 429 without one as a Cloudflare ban.
"""

from __future__ import annotations

import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

GLOBAL_LIMIT = 50  # requests per second per bot token
MAX_GUILDS_PER_SHARD = 2500
SHARDING_REQUIRED = 4011
#: Routes the global limit does not apply to: interaction callbacks and webhook-token routes.
EXEMPT = re.compile(r"^/(interactions/\d+/[^/]+/callback|webhooks/\d+/[^/]+)")


def too_many(retry_after: float, *, is_global: bool, bucket: str | None = None
             ) -> tuple[int, dict[str, Any], dict[str, str]]:
    """A 429 as Discord sends it: (status, body, headers)."""
    headers = {"Via": "1.1 google", "Retry-After": f"{math.ceil(retry_after)}",
               "X-RateLimit-Scope": "global" if is_global else "user"}
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    else:
        headers.update({"X-RateLimit-Limit": "0", "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset-After": f"{retry_after:.3f}"})
        if bucket:
            headers["X-RateLimit-Bucket"] = bucket
    body = {"message": "You are being rate limited.", "retry_after": round(retry_after, 3),
            "global": is_global}
    return 429, body, headers


@dataclass
class GlobalLimit:
    """A sliding one-second window of accepted requests (``limit`` None: no limit)."""

    limit: int | None = GLOBAL_LIMIT
    clock: Callable[[], float] = time.monotonic
    _accepted: deque[float] = field(default_factory=deque)
    refused: int = 0
    peak: int = 0  # most requests accepted within any one-second window

    def applies(self, path: str, authorized: bool) -> bool:
        return self.limit is not None and authorized and EXEMPT.match(path) is None

    def admit(self) -> float | None:
        """None when the request may pass (and count it); else seconds until it may."""
        now = self.clock()
        while self._accepted and self._accepted[0] <= now - 1.0:
            self._accepted.popleft()
        if self.limit is not None and len(self._accepted) >= self.limit:
            self.refused += 1
            return max(0.001, self._accepted[0] + 1.0 - now)
        self._accepted.append(now)
        self.peak = max(self.peak, len(self._accepted))
        return None


@dataclass
class RouteLimit:
    """``limit`` requests per ``per`` seconds for each bucket of routes matching ``pattern``
    (a bucket is the first number in the path: the channel, guild or webhook id)."""

    method: str
    pattern: re.Pattern[str]
    limit: int
    per: float
    name: str
    clock: Callable[[], float] = time.monotonic
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)
    refused: int = 0

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and self.pattern.search(path) is not None

    def admit(self, path: str) -> tuple[float | None, dict[str, str]]:
        """(None, headers) when the request may pass; else (retry_after, headers)."""
        major = re.search(r"\d+", path)
        key = major.group(0) if major else ""
        now = self.clock()
        start, used = self._windows.get(key, (now, 0))
        if now - start >= self.per:
            start, used = now, 0
        reset_after = max(0.0, start + self.per - now)
        if used >= self.limit:
            self.refused += 1
            return max(0.001, reset_after), {}
        used += 1
        self._windows[key] = (start, used)
        headers = {"X-RateLimit-Limit": str(self.limit),
                   "X-RateLimit-Remaining": str(self.limit - used),
                   "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                   "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                   "X-RateLimit-Bucket": self.name}
        return None, headers


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's rule: ``(guild_id >> 22) % shard_count``."""
    return (guild_id >> 22) % max(1, shard_count)


def guilds_on_shard(guild_ids: Iterable[int], shard_id: int, shard_count: int) -> int:
    return sum(1 for g in guild_ids if shard_of(g, shard_count) == shard_id)


def synthetic_guild_ids(count: int, start: int = 1) -> list[int]:
    """``count`` guild ids spread evenly over shards (consecutive ``>> 22`` values)."""
    return [((start + i) << 22) | 1 for i in range(count)]


def recommended_shards(guild_count: int) -> int:
    """What ``GET /gateway/bot`` recommends: one shard per 1,000 guilds (at least one)."""
    return max(1, math.ceil(guild_count / 1000))
