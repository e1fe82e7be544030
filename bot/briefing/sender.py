"""Posting the briefing with discord.py, and finding a post again by its marker.

:class:`DiscordSender` sends with the delivery's nonce (discord.py then sets ``enforce_nonce``,
so Discord answers a repeat, including discord.py's own retry after a 5xx, with the first
message). Every message passes :func:`bot.ui.limits.check_message` first. Outcomes:

- 403/404 → :class:`ChannelError` (Discord holds no post);
- 429 after discord.py's own waits → :class:`Throttled`;
- 5xx after discord.py's retries, a connection error or no answer within ``timeout`` seconds →
  :class:`OutcomeUnknown` (Discord may hold the post).

:meth:`DiscordSender.find` reads the channel's recent messages (needs Read Message History) and
returns the bot's message whose first embed's footer ends with ``ref <marker>``.

Rate-limit buckets: discord.py keeps one bucket per channel and, past 256, scans them all each
time a new one is made; a fan-out to 20,000 channels makes that quadratic. After each send the
channel's idle buckets are dropped (:func:`drop_idle_buckets`), which keeps the table at about
the fan-out's concurrency. discord.py has no public API for this, so the private table is used
only when it looks exactly as expected (a dict of objects with ``outgoing``/``remaining``);
otherwise nothing is touched and discord.py's own eviction applies.
"""

from __future__ import annotations

import asyncio
import logging
import time as _time
from collections import deque
from typing import Any

import aiohttp
import discord

from bot.briefing.post import BriefingPost
from bot.ui import limits

log = logging.getLogger(__name__)
class ChannelError(Exception):
    """The channel refused for good (403 forbidden, 404 gone): Discord holds no post."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


class Throttled(Exception):
    """Discord still answered 429 after discord.py's own retries: not posted, safe to retry."""


class OutcomeUnknown(Exception):
    """A 5xx or a timeout: Discord may or may not hold the post (reconcile before re-sending)."""


class SendLimiter:
    """Process-wide pacing: at most ``rate`` acquisitions per second (``rate=None``: no limit).

    Each caller reserves the next free instant (evenly spaced, ``1/rate`` apart), and, since a
    busy loop can wake several sleepers at once, also waits until fewer than ``rate`` of the
    actual acquisitions fall in the last second: no one-second window ever holds more.
    """

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self._next = 0.0
        self._recent: deque[float] = deque()
        self.acquired = 0

    async def acquire(self) -> None:
        self.acquired += 1
        if not self.rate:
            return
        now = _time.monotonic()
        at = max(now, self._next)
        self._next = at + 1.0 / self.rate
        if at > now:
            await asyncio.sleep(at - now)
        cap = max(1, int(self.rate))
        while True:
            now = _time.monotonic()
            while self._recent and self._recent[0] <= now - 1.0:
                self._recent.popleft()
            if len(self._recent) < cap:
                self._recent.append(now)
                return
            await asyncio.sleep(self._recent[0] + 1.0 - now)


#: How many of a channel's newest messages reconcile reads (the post is among the newest).
SCAN_LIMIT = 100


def drop_idle_buckets(http: Any, channel_id: int) -> int:
    """Drop discord.py's idle rate-limit buckets of ``channel_id``; returns how many went.

    Guarded: only a ``dict`` ``_buckets`` whose values have ``outgoing`` and ``remaining`` is
    touched, and only buckets with nothing in flight or queued and requests left.
    """
    buckets = getattr(http, "_buckets", None)
    if not isinstance(buckets, dict):
        return 0
    suffix = f":{channel_id}"
    gone = 0
    for key in [k for k in buckets if isinstance(k, str) and k.endswith(suffix)]:
        bucket = buckets[key]
        outgoing = getattr(bucket, "outgoing", None)
        remaining = getattr(bucket, "remaining", None)
        pending = getattr(bucket, "_pending_requests", ())
        if outgoing == 0 and isinstance(remaining, int) and remaining > 0 and not pending:
            del buckets[key]
            gone += 1
    return gone


class DiscordSender:
    """Implements :class:`bot.briefing.fanout.PostSender` with a discord.py client."""

    def __init__(self, client: discord.Client, *, timeout: float = 30.0,
                 bound_buckets: bool = True) -> None:
        self.client = client
        self.timeout = timeout
        self.bound_buckets = bound_buckets
        self.sent = 0

    async def send(self, channel_id: int, post: BriefingPost, *, nonce: str | None = None
                   ) -> int:
        channel = self.client.get_partial_messageable(channel_id)
        _, embeds = limits.check_message(None, post.embeds())
        kwargs: dict[str, Any] = {"embeds": embeds, "files": post.files()}
        if nonce is not None:
            kwargs["nonce"] = nonce
        try:
            message = await asyncio.wait_for(channel.send(**kwargs), self.timeout)
        except discord.Forbidden as exc:
            raise ChannelError(403, "the bot may not post there (missing View Channel, Send "
                                    f"Messages, Embed Links or Attach Files): {exc.text}") from exc
        except discord.NotFound as exc:
            raise ChannelError(404, f"the channel no longer exists: {exc.text}") from exc
        except discord.HTTPException as exc:
            if exc.status == 429:
                raise Throttled(f"429 after discord.py's retries: {exc.text}") from exc
            if exc.status >= 500:
                raise OutcomeUnknown(f"Discord answered {exc.status}") from exc
            raise
        except TimeoutError as exc:
            raise OutcomeUnknown(f"no answer within {self.timeout:g} s") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise OutcomeUnknown(f"connection failed: {type(exc).__name__}") from exc
        finally:
            if self.bound_buckets:
                drop_idle_buckets(getattr(self.client, "http", None), channel_id)
        self.sent += 1
        return message.id

    async def find(self, channel_id: int, marker: str) -> int | None:
        channel = self.client.get_partial_messageable(channel_id)
        me = self.client.user.id if self.client.user is not None else self.client.application_id
        wanted = f"ref {marker}"
        try:
            async for message in channel.history(limit=SCAN_LIMIT):
                if me is not None and message.author.id != me:
                    continue
                for embed in message.embeds[:1]:
                    if (embed.footer.text or "").endswith(wanted):
                        return message.id
        except discord.Forbidden as exc:
            raise ChannelError(403, "the bot may not read the channel's history (missing "
                                    f"Read Message History): {exc.text}") from exc
        except discord.NotFound as exc:
            raise ChannelError(404, f"the channel no longer exists: {exc.text}") from exc
        return None
