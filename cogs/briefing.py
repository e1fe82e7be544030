"""``/briefing``: subscribe a channel to the morning post, and manage it.

``subscribe``, ``unsubscribe`` and ``send-now`` change things: they need Manage Server, both as
Discord default permissions (the whole group is hidden from members without it unless a server
admin opens it up) and as a run-time check, so a member who can see the commands is still
refused, with nothing changed. ``settings`` and ``preview`` only read. Every reply is ephemeral
and goes through ``bot.tree``'s reply helpers (Discord's size limits are checked there).

Every command needs a server: the group is guild-only for Discord, and :meth:`Briefing.
interaction_check` refuses a DM (or any interaction without a server) with a sentence. String
options carry Discord-side length bounds, checked again here before anything is parsed. A post
Discord refuses (403, 404) is explained in a sentence naming the channel and what is missing.
``settings`` shows one field per subscription, spread over as many embeds and messages as
Discord's limits need, with the last delivery and why a post was not made (refused, data
unavailable, being checked). ``subscribe`` also checks Read Message History: the bot reads the
channel to find its own post after an outage. Database calls run in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from bot.briefing.models import (
    SECTIONS,
    BriefingOptions,
    Delivery,
    Subscription,
    format_time,
    parse_local_time,
    parse_sections,
    parse_timezone,
)
from bot.deferred_service import DeferredService
from bot.errors import BadInput, UserFacingError
from bot.tree import guild_id_of, missing_permissions, send_private
from bot.ui import limits
from bot.ui.format import STATUS_WORDS
from bot.validate import check_length

if TYPE_CHECKING:
    from bot.briefing.sender import ChannelError
    from bot.briefing.service import BriefingService
    from bot.client import CapbriefBot

log = logging.getLogger(__name__)

#: What the bot needs in a channel to post the briefing.
#: Length bounds of the string options (Discord enforces them; checked again in the command).
TIME_LENGTH = (4, 5)  # "8:30" … "08:30"
ZONE_LENGTH = (2, 40)  # "NZ" … "America/Argentina/ComodRivadavia" (32)
SECTIONS_LENGTH = (4, 80)  # "leadership, records, history, drivers" is 37
#: At most this many messages for ``/briefing settings`` (about 20 subscriptions each).
MAX_SETTINGS_MESSAGES = 10


def refused_sentence(channel: str, missing: list[str], exc: ChannelError) -> str:
    """The user's sentence for a post Discord refused in ``channel`` (a mention)."""
    if exc.status == 404:
        return (f"I can't post in {channel}: Discord says the channel no longer exists or I "
                "can't see it. Nothing was posted.")
    needs = ", ".join(missing) if missing else "View Channel, Send Messages, Embed Links or " \
                                               "Attach Files"
    return (f"I can't post in {channel}: missing {needs} there. Give capbrief those "
            "permissions in that channel and try again. Nothing was posted.")


def describe_next(sub: Subscription, now_utc: datetime) -> str:
    from bot.briefing.schedule import next_slot  # loaded with the service (APScheduler, NYSE)

    slot = next_slot(now_utc, sub.local_time, sub.timezone)
    local = slot.fire_at.astimezone(ZoneInfo(sub.timezone))
    early = " (early close that day)" if slot.early_close else ""
    return (f"{local:%a %d %b %Y %H:%M} {sub.timezone} "
            f"({slot.fire_at:%H:%M} UTC){early}")


def describe_delivery(row: Delivery | None) -> str:
    if row is None:
        return "none yet"
    text = f"{row.session:%a %d %b %Y}: {STATUS_WORDS.get(row.status, row.status)}"
    if row.last_error and row.status != "sent":
        text += f" — {row.last_error}"
    return text


class Briefing(commands.Cog):
    briefing = app_commands.Group(
        name="briefing", description="The morning small- vs large-cap briefing in this server",
        guild_only=True, allowed_contexts=app_commands.AppCommandContext(guild=True),
        default_permissions=discord.Permissions(manage_guild=True))

    def __init__(self, bot: CapbriefBot, service: DeferredService[BriefingService]) -> None:
        self.bot = bot
        self.service = service  # built after READY (or by the first command)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Every /briefing command needs a server (Discord hides them in DMs; a stale client or
        a crafted request may still send one)."""
        guild_id_of(interaction)
        return True

    def _me(self, interaction: discord.Interaction) -> discord.Member:
        guild = interaction.guild
        if guild is None or guild.me is None:
            raise UserFacingError("This command only works in a server.")
        return guild.me

    def _check_channel(self, interaction: discord.Interaction,
                       channel: discord.TextChannel) -> None:
        missing = missing_permissions(channel, self._me(interaction))
        if missing:
            raise UserFacingError(
                f"I can't post the briefing in {channel.mention}: I'm missing "
                f"{', '.join(missing)} there. Give capbrief those permissions in that channel "
                "and try again. Nothing was changed.")

    @briefing.command(name="subscribe", description="Post the briefing in a channel every "
                                                    "NYSE trading day")
    @app_commands.describe(channel="Where to post", time="Local time, HH:MM (default 08:30)",
                           timezone="IANA time zone, e.g. America/New_York, Europe/London",
                           charts="Attach charts (default: yes)",
                           sections="Comma-separated, from: " + ", ".join(SECTIONS)
                                    + " (default: all)")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def subscribe(self, interaction: discord.Interaction, channel: discord.TextChannel,
                        time: app_commands.Range[str, 4, 5] | None = None,
                        timezone: app_commands.Range[str, 2, 40] | None = None,
                        charts: bool = True,
                        sections: app_commands.Range[str, 4, 80] | None = None) -> None:
        check_length("time", time, *TIME_LENGTH)
        check_length("timezone", timezone, *ZONE_LENGTH)
        check_length("sections", sections, *SECTIONS_LENGTH)
        defaults = self.bot.settings.briefing
        at = parse_local_time(time) if time else defaults.default_time
        tz = parse_timezone(timezone) if timezone else defaults.default_timezone
        options = BriefingOptions(charts=charts, sections=parse_sections(sections))
        self._check_channel(interaction, channel)
        service = await self.service.for_interaction(interaction)
        sub = await asyncio.to_thread(
            service.subscriptions.upsert, guild_id=guild_id_of(interaction),
            channel_id=channel.id, local_time=at, timezone=tz, options=options,
            created_by=interaction.user.id, now=service.runtime.clock())
        await service.refresh_slots()
        log.info("guild %s subscribed channel %s at %s %s", sub.guild_id, sub.channel_id,
                 format_time(at), tz)
        await send_private(
            interaction,
            f"Subscribed {channel.mention}: the briefing posts every NYSE trading day at "
            f"**{format_time(at)} {tz}**{'' if charts else ' (no charts)'}.\n"
            f"Next post: {describe_next(sub, service.runtime.clock())}.")

    @briefing.command(name="unsubscribe", description="Stop the briefing in a channel")
    @app_commands.describe(channel="The channel to stop (default: the only subscribed one)")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def unsubscribe(self, interaction: discord.Interaction,
                          channel: discord.TextChannel | None = None) -> None:
        service = await self.service.for_interaction(interaction)
        sub = await self._pick(service, interaction, channel)
        await asyncio.to_thread(service.subscriptions.delete, sub.id)
        await service.refresh_slots()
        await send_private(interaction,
                           f"Unsubscribed <#{sub.channel_id}>: no more briefings there.")

    async def _pick(self, service: BriefingService, interaction: discord.Interaction,
                    channel: discord.abc.Snowflake | None) -> Subscription:
        subs = await asyncio.to_thread(service.subscriptions.for_guild,
                                       guild_id_of(interaction))
        if channel is not None:
            found = [s for s in subs if s.channel_id == channel.id]
            if not found:
                raise BadInput(f"<#{channel.id}> is not subscribed to the briefing.")
            return found[0]
        if not subs:
            raise BadInput("No channel in this server is subscribed. Use /briefing subscribe.")
        if len(subs) > 1:
            names = ", ".join(f"<#{s.channel_id}>" for s in subs)
            raise BadInput(f"Several channels are subscribed ({names}); name one.")
        return subs[0]

    @briefing.command(name="settings", description="This server's briefing subscriptions, "
                                                   "next run and last delivery")
    async def settings(self, interaction: discord.Interaction) -> None:
        service = await self.service.for_interaction(interaction)
        subs = await asyncio.to_thread(service.subscriptions.for_guild,
                                       guild_id_of(interaction))
        if not subs:
            await send_private(
                interaction, "No channel here is subscribed. An admin can use "
                             "`/briefing subscribe`.")
            return
        now = service.runtime.clock()
        last = await asyncio.to_thread(
            lambda: [service.deliveries.last(sub.id) for sub in subs])
        fields = [(f"#{self._channel_name(sub.channel_id)}", self._describe(sub, row, now))
                  for sub, row in zip(subs, last, strict=True)]
        pages = limits.paginate(fields, title="Morning briefing settings", colour=0x5865F2,
                                footer=f"{len(subs)} subscribed channel"
                                       f"{'' if len(subs) == 1 else 's'}")
        messages = limits.group(pages)
        shown = messages[:MAX_SETTINGS_MESSAGES]
        for embeds in shown:
            await send_private(interaction, embeds=embeds)
        if len(messages) > len(shown):
            hidden = sum(len(e.fields) for m in messages[len(shown):] for e in m)
            await send_private(interaction, f"…and {hidden} more subscribed channels not shown.")

    @staticmethod
    def _describe(sub: Subscription, last: Delivery | None, now: datetime) -> str:
        """One subscription's settings field: when, what, next run, last delivery, since."""
        lines = [f"**When:** {format_time(sub.local_time)} {sub.timezone}, NYSE trading days",
                 f"**Charts:** {'on' if sub.options.charts else 'off'} · **Sections:** "
                 f"{', '.join(sub.options.sections)}"]
        if sub.enabled:
            lines.append(f"**Next run:** {describe_next(sub, now)}")
        else:
            lines.append(f"**Disabled:** {sub.disabled_reason or 'unknown reason'} — "
                         "fix the channel, then `/briefing subscribe` again")
        lines.append(f"**Last delivery:** {describe_delivery(last)}")
        if sub.created_at is not None:
            by = f" by <@{sub.created_by}>" if sub.created_by else ""
            lines.append(f"**Since:** {sub.created_at.astimezone(UTC):%Y-%m-%d}{by}")
        return limits.cut("\n".join(lines), limits.FIELD_VALUE)

    def _channel_name(self, channel_id: int) -> str:
        channel = self.bot.get_channel(channel_id)
        return getattr(channel, "name", None) or str(channel_id)

    @briefing.command(name="preview", description="See the briefing as it would be posted now "
                                                  "(only you see it)")
    async def preview(self, interaction: discord.Interaction) -> None:
        await defer_private(interaction)
        service = await self.service.get()
        post = await service.runtime.compose_now(BriefingOptions())
        await send_private(interaction, embeds=post.embeds(), files=post.files())

    @briefing.command(name="send-now", description="Post the briefing once, now")
    @app_commands.describe(channel="Where to post (default: the subscribed channel)")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def send_now(self, interaction: discord.Interaction,
                       channel: discord.TextChannel | None = None) -> None:
        if channel is not None:
            self._check_channel(interaction, channel)
        service = await self.service.for_interaction(interaction)
        from bot.briefing.sender import ChannelError  # imported by the service's build

        if channel is not None:
            target_id, options = channel.id, BriefingOptions()
            sub = await asyncio.to_thread(service.subscriptions.for_channel, channel.id)
            if sub is not None:
                options = sub.options
        else:
            sub = await self._pick(service, interaction, None)
            target_id, options = sub.channel_id, sub.options
        await defer_private(interaction)
        post = await service.runtime.compose_now(options)
        try:
            await service.runtime.limiter.acquire()
            message_id = await service.runtime.sender.send(target_id, post)
        except ChannelError as exc:
            log.warning("send-now by %s to channel %s refused: %s", interaction.user.id,
                        target_id, exc)
            target = channel or self.bot.get_channel(target_id)
            missing = (missing_permissions(target, self._me(interaction))
                       if isinstance(target, discord.abc.GuildChannel) else [])
            raise UserFacingError(refused_sentence(f"<#{target_id}>", missing, exc)) from exc
        log.info("send-now by %s to channel %s: message %s", interaction.user.id, target_id,
                 message_id)
        await send_private(interaction, f"Posted the briefing in <#{target_id}>.")


async def defer_private(interaction: discord.Interaction) -> None:
    """Defer ephemerally ("thinking…"), unless the interaction was already deferred (while
    the service started)."""
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)


def build_service(bot: CapbriefBot) -> BriefingService:
    """Open and migrate the database, build the runtime and the scheduler (a worker thread:
    this is where SQLAlchemy, APScheduler, the NYSE calendar and the composer are imported)."""
    from bot.briefing.service import build_briefing_service

    return build_briefing_service(bot.services, bot)


async def start_service(service: BriefingService) -> None:
    """Start APScheduler with the jobs of the slots in use (read in a thread), then the
    catch-up (a task)."""
    service.start(await asyncio.to_thread(service.subscriptions.slots))


async def setup(bot: CapbriefBot) -> None:
    # Nothing heavy here: the service is built off the loop after READY (bot.client), or by
    # the first /briefing command if that comes sooner.
    service = DeferredService("briefing", "The briefing", lambda: build_service(bot),
                              start_service)
    bot.defer_service(service)
    await bot.add_cog(Briefing(bot, service))
