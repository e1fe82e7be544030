"""Briefing test helpers: a migrated SQLite file, a settable clock, a counting composer and a
recording sender (the fake-Discord tests use the real discord.py sender instead)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.briefing.fanout import BriefingRuntime
from bot.briefing.models import BriefingOptions, Subscription
from bot.briefing.post import BriefingPost, PostImage
from bot.briefing.sender import ChannelError
from bot.briefing.store import DeliveryRepository, SubscriptionRepository
from bot.storage.db import create_engine, migrate

NY = "America/New_York"


class Clock:
    """A settable UTC clock: ``clock()`` is now; ``clock.set(...)`` moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now


class CountingComposer:
    """Builds a tiny post; counts compositions; a small await lets callers overlap."""

    def __init__(self) -> None:
        self.calls: list[tuple[date, date, str]] = []

    async def compose(self, session: date, asof: date, options: BriefingOptions
                      ) -> BriefingPost:
        self.calls.append((session, asof, options.variant))
        await asyncio.sleep(0.01)
        images = (PostImage("leadership.png", b"\x89PNG fake", "RUT/SPX"),) if options.charts \
            else ()
        return BriefingPost(session=session, asof=asof, title=f"Briefing {session}",
                            description=f"data as of {asof}", images=images)


@dataclass
class RecordingSender:
    """Records (channel, session) per post; channels in ``errors`` raise ChannelError;
    :meth:`find` looks the marker up among the recorded posts."""

    sent: list[tuple[int, date]] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    markers: dict[tuple[int, str], int] = field(default_factory=dict)

    async def send(self, channel_id: int, post: BriefingPost, *, nonce: str | None = None
                   ) -> int:
        if channel_id in self.errors:
            status = self.errors[channel_id]
            raise ChannelError(status, "forbidden" if status == 403 else "channel not found")
        if nonce is not None and (channel_id, nonce) in self.markers:
            return self.markers[(channel_id, nonce)]  # enforce_nonce: the first message
        self.sent.append((channel_id, post.session))
        message_id = 1000 + len(self.sent)
        if post.marker:
            self.markers[(channel_id, post.marker)] = message_id
        return message_id

    async def find(self, channel_id: int, marker: str) -> int | None:
        return self.markers.get((channel_id, marker))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = create_engine(f"sqlite:///{tmp_path / 'capbrief.sqlite3'}")
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def subs(engine: Engine) -> SubscriptionRepository:
    return SubscriptionRepository(engine)


@pytest.fixture
def deliveries(engine: Engine) -> DeliveryRepository:
    return DeliveryRepository(engine)


def add_sub(repo: SubscriptionRepository, channel_id: int, *, at: time = time(8, 30),
            tz: str = NY, charts: bool = True,
            created: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> Subscription:
    return repo.upsert(guild_id=1, channel_id=channel_id, local_time=at, timezone=tz,
                       options=BriefingOptions(charts=charts), created_by=42, now=created)


def make_runtime(subs: SubscriptionRepository, deliveries: DeliveryRepository, clock: Clock,
                 sender: object, composer: object | None = None, *, grace_minutes: int = 60,
                 max_failures: int = 3, concurrency: int = 5) -> BriefingRuntime:
    return BriefingRuntime(subs, deliveries, composer or CountingComposer(), sender,  # type: ignore[arg-type]
                           grace=timedelta(minutes=grace_minutes), max_failures=max_failures,
                           concurrency=concurrency, clock=clock)


