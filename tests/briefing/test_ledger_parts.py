"""The smaller pieces of exactly-once delivery: the ledger's schema and indexes, the nonce and
marker, the send limiter, bounded rate-limit buckets, the stale-composition cache, shard
ownership and the invite link."""

from __future__ import annotations

import asyncio
import time as clock
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from bot.briefing.compose import ComposeCache
from bot.briefing.models import BriefingOptions, nonce_for, shard_of
from bot.briefing.post import BriefingPost
from bot.briefing.sender import SendLimiter, drop_idle_buckets
from bot.briefing.store import metadata
from bot.client import INVITE_PERMISSIONS, invite_url
from bot.settings import ConfigError, Settings
from bot.storage.db import create_engine, migrate

TUE = date(2026, 11, 24)


def test_store_tables_and_indexes_match_the_migrated_schema(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    migrate(engine)
    inspector = sa.inspect(engine)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name
        indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name and index.name.startswith("ix_briefing_deliveries"):
                assert indexes[index.name] == [c.name for c in index.columns]
    engine.dispose()


def test_the_nonce_is_deterministic_short_and_printed_as_the_marker() -> None:
    assert nonce_for(12, TUE) == nonce_for(12, TUE) == "cb12-20261124"
    assert nonce_for(13, TUE) != nonce_for(12, TUE)
    assert len(nonce_for(2**31 - 1, TUE)) <= 25  # Discord's limit on a string nonce
    post = BriefingPost(session=TUE, asof=TUE, title="t", description="d", footer="x" * 3000)
    [embed] = post.marked(nonce_for(12, TUE)).embeds()
    assert embed.footer.text is not None and len(embed.footer.text) <= 2048
    assert embed.footer.text.endswith("ref cb12-20261124")  # kept whole when the footer is cut


async def test_the_send_limiter_never_exceeds_its_rate() -> None:
    limiter = SendLimiter(40.0)
    stamps: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        stamps.append(clock.monotonic())

    start = clock.monotonic()
    await asyncio.gather(*(one() for _ in range(30)))
    # 30 acquisitions at 40/s: the last may not come before 29 intervals (a late wake-up only
    # makes it later); and the limiter reserved evenly spaced instants.
    assert max(stamps) - start >= 29 / 40 - 0.005
    assert limiter.acquired == 30


async def test_the_send_limiter_holds_its_rate_in_every_window_even_after_a_stall() -> None:
    limiter = SendLimiter(20.0)
    stamps: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        stamps.append(clock.monotonic())

    async def stall() -> None:
        await asyncio.sleep(0.3)
        clock.sleep(0.4)  # noqa: ASYNC251 (blocks the loop on purpose: sleepers wake together)

    await asyncio.gather(stall(), *(one() for _ in range(45)))
    stamps.sort()
    assert all(b - a > 1.0 - 0.01 for a, b in zip(stamps, stamps[20:], strict=False))


class _Bucket:
    def __init__(self, outgoing: int, remaining: int) -> None:
        self.outgoing, self.remaining, self._pending_requests = outgoing, remaining, ()


def test_idle_buckets_of_a_channel_are_dropped_busy_ones_kept() -> None:
    http = SimpleNamespace(_buckets={"h1:5": _Bucket(0, 4), "h2:5": _Bucket(1, 4),
                                     "h1:6": _Bucket(0, 4), "h3:5": _Bucket(0, 0)})
    assert drop_idle_buckets(http, 5) == 1
    assert set(http._buckets) == {"h2:5", "h1:6", "h3:5"}  # in flight, other channel, exhausted
    assert drop_idle_buckets(SimpleNamespace(), 5) == 0  # no such table: nothing touched
    assert drop_idle_buckets(SimpleNamespace(_buckets=[1]), 5) == 0


class _Source:
    def __init__(self) -> None:
        self.stale = True
        self.calls = 0

    async def compose(self, session: date, asof: date, options: BriefingOptions
                      ) -> BriefingPost:
        self.calls += 1
        return BriefingPost(session=session, asof=asof, title="t", description="d",
                            stale=self.stale)


async def test_a_stale_composition_is_dropped_once_the_source_recovers() -> None:
    source = _Source()
    cache = ComposeCache(source, stale_ttl=0.05)
    first = await cache.get(TUE, TUE, BriefingOptions())
    assert first.stale and (await cache.get(TUE, TUE, BriefingOptions())) is first
    source.stale = False
    await asyncio.sleep(0.1)
    fresh = await cache.get(TUE, TUE, BriefingOptions())
    assert not fresh.stale and source.calls == 2
    await asyncio.sleep(0.1)
    assert (await cache.get(TUE, TUE, BriefingOptions())) is fresh  # a good one is kept
    assert cache.last_good[BriefingOptions().variant] is fresh


class _Slow(_Source):
    """Overlapping callers; fails while ``fail`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.stale = False
        self.fail = False

    async def compose(self, session: date, asof: date, options: BriefingOptions
                      ) -> BriefingPost:
        await asyncio.sleep(0.01)
        if self.fail:
            self.calls += 1
            raise RuntimeError("source down")
        return await super().compose(session, asof, options)


async def test_concurrent_callers_share_one_composition_and_a_failure_is_not_kept() -> None:
    source = _Slow()
    cache = ComposeCache(source, keep_sessions=2)
    source.fail = True
    results = await asyncio.gather(*(cache.get(TUE, TUE, BriefingOptions()) for _ in range(5)),
                                   return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results) and source.calls == 1
    source.fail = False
    posts = await asyncio.gather(*(cache.get(TUE, TUE, BriefingOptions()) for _ in range(5)))
    assert source.calls == 2 and cache.compositions == 2
    assert all(p is posts[0] for p in posts)
    for days in (1, 2):  # two later sessions push TUE out (two are kept)
        await cache.get(TUE + timedelta(days=days), TUE, BriefingOptions())
    assert source.calls == 4
    assert (await cache.get(TUE, TUE, BriefingOptions())) is not posts[0]
    assert source.calls == 5


def test_shard_of_follows_discords_rule() -> None:
    assert shard_of(81384788765712384, 1) == 0
    assert shard_of(81384788765712384, 4) == (81384788765712384 >> 22) % 4
    assert {shard_of(k << 22, 3) for k in range(9)} == {0, 1, 2}


def test_shard_settings_are_checked() -> None:
    assert Settings().discord.shard_count is None  # automatic
    assert Settings(discord={"shard_count": 4, "shard_ids": [2, 3]}  # type: ignore[arg-type]
                    ).discord.shard_ids == [2, 3]
    from bot.settings import load_settings

    bad = Path(__file__).parent / "_bad_shards.toml"
    bad.write_text("[discord]\nshard_ids = [0]\n")
    try:
        with pytest.raises(ConfigError, match="shard_ids needs shard_count"):
            load_settings(bad)
    finally:
        bad.unlink()


def test_the_invite_asks_for_read_message_history() -> None:
    assert INVITE_PERMISSIONS.read_message_history and INVITE_PERMISSIONS.send_messages
    url = invite_url(1234)
    assert "client_id=1234" in url and f"permissions={INVITE_PERMISSIONS.value}" in url
    assert "applications.commands" in url


def test_settings_show_why_a_post_was_not_made() -> None:
    from bot.briefing.models import Delivery, DeliveryStatus
    from cogs.briefing import describe_delivery

    skipped = describe_delivery(Delivery(
        1, TUE, DeliveryStatus.SKIPPED,
        last_error="skipped: data unavailable (composition failed: ConnectionError: 503)"))
    assert "not posted" in skipped and "skipped: data unavailable" in skipped
    retrying = describe_delivery(Delivery(1, TUE, DeliveryStatus.FAILED,
                                          last_error="composition failed: X; retrying at 14:05"))
    assert "retrying at 14:05" in retrying
    checking = describe_delivery(Delivery(1, TUE, DeliveryStatus.UNKNOWN, last_error="503"))
    assert "checking the channel" in checking
