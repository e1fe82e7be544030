"""``/alerts``: subscribe a channel to the close-of-session alerts, and manage it.

The same checks as ``/briefing``: guild-only, Manage Server both as Discord default permission
and as a run-time check, the bot's permissions in the channel (including Read Message History,
which reconcile needs), bounded string options checked again here, replies through
``bot.tree``'s helpers, database calls in a worker thread. Unknown event names get one short
ephemeral line listing the valid ones, and nothing is stored.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from analytics.alerts import EVENT_KINDS, EVENT_TITLES  # constants only: no pandas
from bot.alerts.params import parse_events
from bot.briefing.models import Delivery
from bot.deferred_service import DeferredService
from bot.errors import BadInput, UserFacingError
from bot.tree import guild_id_of, missing_permissions, send_private
from bot.ui import limits
from bot.ui.format import STATUS_WORDS
from bot.validate import check_length

if TYPE_CHECKING:
    from bot.alerts.service import AlertService
    from bot.alerts.store import AlertSubscription
    from bot.client import CapbriefBot

log = logging.getLogger(__name__)
#: Length bounds of ``events`` ("record" … every kind comma-separated is 61).
EVENTS_LENGTH = (4, 100)


class Alerts(commands.Cog):
    alerts = app_commands.Group(
        name="alerts", description="Alerts at the close: records, breakouts, levels, turns",
        guild_only=True, allowed_contexts=app_commands.AppCommandContext(guild=True),
        default_permissions=discord.Permissions(manage_guild=True))

    def __init__(self, bot: CapbriefBot, service: DeferredService[AlertService]) -> None:
        self.bot = bot
        self.service = service  # built after READY (or by the first command)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        guild_id_of(interaction)
        return True

    def _check_channel(self, interaction: discord.Interaction,
                       channel: discord.TextChannel) -> None:
        guild = interaction.guild
        if guild is None or guild.me is None:
            raise UserFacingError("This command only works in a server.")
        missing = missing_permissions(channel, guild.me)
        if missing:
            raise UserFacingError(
                f"I can't post alerts in {channel.mention}: I'm missing {', '.join(missing)} "
                "there. Give capbrief those permissions in that channel and try again. "
                "Nothing was changed.")

    @alerts.command(name="subscribe", description="Post alerts in a channel at each NYSE close")
    @app_commands.describe(channel="Where to post",
                           events="Comma-separated, from: " + ", ".join(EVENT_KINDS)
                                  + " (default: all)")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def subscribe(self, interaction: discord.Interaction, channel: discord.TextChannel,
                        events: app_commands.Range[str, 4, 100] | None = None) -> None:
        check_length("events", events, *EVENTS_LENGTH)
        kinds = parse_events(events)
        self._check_channel(interaction, channel)
        service = await self.service.for_interaction(interaction)
        sub = await asyncio.to_thread(
            service.subscriptions.upsert, guild_id=guild_id_of(interaction),
            channel_id=channel.id, events=kinds, created_by=interaction.user.id,
            now=service.runtime.clock())
        log.info("guild %s subscribed channel %s to alerts %s", sub.guild_id, sub.channel_id,
                 ",".join(kinds))
        delay = service.runtime.delay.total_seconds() // 60
        await send_private(
            interaction,
            f"Subscribed {channel.mention} to alerts: {', '.join(kinds)}. They are checked "
            f"{delay:.0f} min after each NYSE close; a session's alerts come as one message.")

    @alerts.command(name="unsubscribe", description="Stop the alerts in a channel")
    @app_commands.describe(channel="The channel to stop")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def unsubscribe(self, interaction: discord.Interaction,
                          channel: discord.TextChannel) -> None:
        service = await self.service.for_interaction(interaction)
        subs = await asyncio.to_thread(service.subscriptions.for_guild,
                                       guild_id_of(interaction))
        found = [s for s in subs if s.channel_id == channel.id]
        if not found:
            raise BadInput(f"<#{channel.id}> is not subscribed to alerts.")
        await asyncio.to_thread(service.subscriptions.delete, found[0].id)
        await send_private(interaction, f"Unsubscribed <#{channel.id}>: no more alerts there.")

    @alerts.command(name="settings", description="This server's alert subscriptions and last "
                                                 "delivery")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def settings(self, interaction: discord.Interaction) -> None:
        service = await self.service.for_interaction(interaction)
        subs = await asyncio.to_thread(service.subscriptions.for_guild,
                                       guild_id_of(interaction))
        if not subs:
            await send_private(interaction, "No channel here is subscribed to alerts. An admin "
                                            "can use `/alerts subscribe`.")
            return
        last = await asyncio.to_thread(
            lambda: [service.deliveries.last(s.id) for s in subs])
        fields = [(f"#{self._channel_name(s.channel_id)}", self._describe(s, row))
                  for s, row in zip(subs, last, strict=True)]
        pages = limits.paginate(fields, title="Alert settings", colour=0x5865F2,
                                footer=f"max {service.runtime.max_per_day} alert "
                                       "message(s) per channel per day")
        for embeds in limits.group(pages)[:10]:
            await send_private(interaction, embeds=embeds)

    @staticmethod
    def _describe(sub: AlertSubscription, row: Delivery | None) -> str:
        from bot.alerts.store import NOTHING_FIRED

        lines = ["**Events:** " + ", ".join(EVENT_TITLES[k] for k in sub.events)]
        if not sub.enabled:
            lines.append(f"**Disabled:** {sub.disabled_reason or 'unknown reason'} — fix the "
                         "channel, then `/alerts subscribe` it again")
        if row is None:
            lines.append("**Last delivery:** none yet")
        else:
            text = f"{row.session:%a %d %b %Y}: {STATUS_WORDS.get(row.status, row.status)}"
            if row.last_error == NOTHING_FIRED:  # evaluated; nothing for this channel
                text = f"{row.session:%a %d %b %Y}: {NOTHING_FIRED}"
            elif row.last_error and row.status != "sent":
                text += f" — {row.last_error}"
            lines.append(f"**Last delivery:** {text}")
        if sub.created_at is not None:
            by = f" by <@{sub.created_by}>" if sub.created_by else ""
            lines.append(f"**Since:** {sub.created_at.astimezone(UTC):%Y-%m-%d}{by}")
        return limits.cut("\n".join(lines), limits.FIELD_VALUE)

    def _channel_name(self, channel_id: int) -> str:
        channel = self.bot.get_channel(channel_id)
        return getattr(channel, "name", None) or str(channel_id)


def build_service(bot: CapbriefBot) -> AlertService:
    """Open and migrate the database, build the runtime (a worker thread: SQLAlchemy,
    APScheduler and the alerts engine are imported here)."""
    from bot.alerts.service import build_alert_service

    return build_alert_service(bot.services, bot)


async def start_service(service: AlertService) -> None:
    """Start APScheduler with the job, and run it once now (catch-up, in a task)."""
    service.start()


async def setup(bot: CapbriefBot) -> None:
    # Nothing heavy here: the service is built off the loop after READY (bot.client), or by
    # the first /alerts command if that comes sooner.
    service = DeferredService("alerts", "Alerts", lambda: build_service(bot), start_service)
    bot.defer_service(service)
    await bot.add_cog(Alerts(bot, service))
