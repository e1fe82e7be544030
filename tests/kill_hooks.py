"""Crash switches for the kill -9 child processes (``tests/briefing/crash_child.py``,
``tests/alerts/crash_child.py``), wrapped around the production objects *in test code*:
production has no crash switch.

A :class:`Hook` fires at one step of a delivery:

- ``claim``: right after the first claim that won rows committed (nothing posted yet);
- ``after-send``: right after a send returned (the post is in the channel), before it is recorded;
- ``reconcile``: right after reconcile read the channel, before it recorded what it found.

Spec ``STEP`` kills the process there (SIGKILL to itself); ``pause:STEP`` prints
``paused STEP`` on stdout and blocks the whole process (event loop or database thread alike) so
the test can let another process run while this one still holds its lease, then kill it with
SIGKILL from outside. A paused process that is never killed dies by itself after
:data:`PAUSE_LIMIT` seconds, so a failed test leaves no orphan behind.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any, Protocol, TypeVar

import discord

from bot.briefing.sender import DiscordSender

STEPS = ("claim", "after-send", "reconcile")
PAUSE_LIMIT = 120.0


def die() -> None:
    """kill -9 this process."""
    os.kill(os.getpid(), signal.SIGKILL)


class Hook:
    """Where (``step``) and how (die at once, or pause until killed) to stop; ``""``: never."""

    def __init__(self, spec: str = "") -> None:
        self.pause, _, self.step = spec.rpartition(":")
        if self.pause not in ("", "pause") or self.step not in ("", *STEPS):
            raise ValueError(f"bad hook {spec!r}: STEP or pause:STEP, STEP in {STEPS}")

    def at(self, step: str) -> None:
        if step != self.step:
            return
        if not self.pause:
            die()
        print(f"paused {step}", flush=True)
        time.sleep(PAUSE_LIMIT)  # blocks the loop or the thread: nothing else happens here
        die()


class _Claims(Protocol):
    def claim(self, *args: Any, **kwargs: Any) -> list[int]: ...


R = TypeVar("R", bound=_Claims)


def hook_claim(repo: R, hook: Hook) -> R:
    """``repo`` (a delivery repository) whose ``claim`` fires ``hook`` at ``claim`` once a
    claim won rows (the rows are committed ``sending`` under this process's lease)."""
    claim = repo.claim

    def claimed(*args: Any, **kwargs: Any) -> list[int]:
        won = claim(*args, **kwargs)
        if won:
            hook.at("claim")
        return won

    repo.claim = claimed  # type: ignore[method-assign]
    return repo


class HookedSender(DiscordSender):
    """The real discord.py sender, firing ``hook`` at ``after-send`` and ``reconcile``."""

    def __init__(self, client: discord.Client, hook: Hook, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        self.hook = hook

    async def send(self, channel_id: int, post: Any, *, nonce: str | None = None) -> int:
        message_id = await super().send(channel_id, post, nonce=nonce)
        self.hook.at("after-send")
        return message_id

    async def find(self, channel_id: int, marker: str) -> int | None:
        found = await super().find(channel_id, marker)
        self.hook.at("reconcile")
        return found
