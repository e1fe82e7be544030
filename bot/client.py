"""The bot process: :class:`CapbriefBot` (an AutoShardedBot) and :func:`run_bot`.

``setup_hook`` (runs once, in ``login``, before the gateway connects): build and start the
:class:`~bot.services.Services` (market data, render pool), load the fixed tuple of
extensions, sync the slash commands (to ``settings.discord.dev_guild_id`` when set, else
globally), then start background work. ``on_ready`` fires again after every reconnect; its first
run begins, off the loop, the deferred services the cogs registered with :meth:`CapbriefBot.
defer_service` (the briefing and the alerts: database open + migrations in a worker thread, then
their schedulers and start-up catch-up on the loop), warming the render pool and
:func:`warm_imports` in a worker thread. ``close()`` stops the deferred services from starting,
stops the schedulers, disconnects, then closes the services.

Start-up imports no pandas, analytics, SQLAlchemy, APScheduler or the NYSE calendar (all six
cogs; ``tests/test_startup_imports.py``): the cogs declare their commands with ``discord`` and
light modules alone and import what a command needs when it first runs. Once the gateway is
live, :data:`WARM_IMPORTS` and the market data's history files are loaded in a worker thread, so
the first command rarely waits for them (one that arrives sooner waits for the import, once; a
/briefing or /alerts command that arrives before its service is built defers, then waits).

Intents: guilds only (no message content, no members): every feature is a slash command.
The token is only handed to discord.py; it is never logged or put in an error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
from pathlib import Path
from typing import Any

import discord
from discord.ext import commands
from pydantic import SecretStr

from bot import metrics
from bot.deferred_service import DeferredService
from bot.health import HealthServer, start_health
from bot.services import Services
from bot.settings import Settings
from bot.tree import CapbriefTree

log = logging.getLogger(__name__)

#: Every extension, loaded in this order.
EXTENSIONS: tuple[str, ...] = (
    "cogs.status", "cogs.history", "cogs.drivers", "cogs.chart", "cogs.about", "cogs.briefing",
    "cogs.alerts",
)

#: What the commands import on first use, loaded off the loop once the gateway is live.
WARM_IMPORTS: tuple[str, ...] = (
    "pandas", "bot.market_data.csvdir", "bot.asof", "analytics.leadership",
    "analytics.charts.build", "bot.ui.embeds", "bot.ui.study_embeds", "analytics.drivers",
    "bot.market_data.fred", "analytics.studies.breakouts", "analytics.studies.cycles",
    "analytics.studies.droughts", "analytics.studies.rates", "analytics.studies.analogs",
    "analytics.studies.drivers_forward", "analytics.studies.track_record", "bot.data_age",
    "bot.ui.drivers_forward",
)


def warm_imports(services: Services | None) -> None:
    """Import :data:`WARM_IMPORTS` and load the market data's history files (a worker thread).
    A failure is logged: the command that needs the module reports it properly."""
    for name in WARM_IMPORTS:
        try:
            importlib.import_module(name)
        except Exception:
            log.warning("warm import of %s failed", name, exc_info=True)
    if services is not None and hasattr(services.market, "preload"):
        try:
            services.market.preload()
        except Exception:
            log.warning("market data preload failed", exc_info=True)


#: What the bot asks for when invited: post the briefing (View Channel, Send Messages, Embed
#: Links, Attach Files) and find its own post again after an outage (Read Message History).
INVITE_PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True,
                                         embed_links=True, attach_files=True,
                                         read_message_history=True)


def invite_url(application_id: int) -> str:
    """The invite link (bot + slash commands, :data:`INVITE_PERMISSIONS`)."""
    return discord.utils.oauth_url(application_id, permissions=INVITE_PERMISSIONS,
                                   scopes=("bot", "applications.commands"))


def intents() -> discord.Intents:
    """Guilds only: enough for slash commands, channel permissions and posting."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


class CapbriefBot(commands.AutoShardedBot):
    """See the module docstring. ``services`` may be injected (tests, benchmarks)."""

    def __init__(self, settings: Settings, *, data_dir: Path | None = None,
                 services: Services | None = None,
                 extensions: tuple[str, ...] = EXTENSIONS, **options: Any) -> None:
        if settings.discord.shard_count is not None:
            options.setdefault("shard_count", settings.discord.shard_count)
        if settings.discord.shard_ids is not None:
            options.setdefault("shard_ids", settings.discord.shard_ids)
        options.setdefault("http_trace", metrics.http_trace())  # times interaction acks
        super().__init__(
            command_prefix=commands.when_mentioned, intents=intents(), tree_cls=CapbriefTree,
            help_command=None, allowed_mentions=discord.AllowedMentions.none(), **options,
        )
        self.settings = settings
        self.data_dir = data_dir
        self.extension_names = extensions
        self._services = services
        self.synced: list[discord.app_commands.AppCommand] = []
        self.health: HealthServer | None = None
        self.warmed: asyncio.Future[None] | None = None  # warm_imports, from the first READY
        #: Services built after READY (or on first use): the briefing's and the alerts'.
        self.deferred: list[DeferredService[Any]] = []

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("services are built in setup_hook")
        return self._services

    async def setup_hook(self) -> None:
        if self._services is None:
            self._services = Services.build(self.settings, self.data_dir)
        await self._services.start(warm_later=True)  # warmed from the first READY
        self.health = await start_health(self)  # /healthz and /metrics when [health] enabled
        for name in self.extension_names:
            await self.load_extension(name)
        await self.sync_commands()
        self._services.start_background()

    def defer_service(self, service: DeferredService[Any]) -> None:
        """Build and start ``service`` after the first READY (a cog's ``setup`` registers it;
        its commands await it on first use if that comes sooner)."""
        self.deferred.append(service)

    async def wait_started(self) -> None:
        """Wait for every deferred service to be built and started (tests, benchmarks);
        :class:`~bot.deferred_service.ServiceUnavailable` if one cannot start."""
        for service in self.deferred:
            await service.get()

    async def sync_commands(self) -> None:
        """Sync the tree to the development guild (instant) or globally."""
        guild_id = self.settings.discord.dev_guild_id
        if guild_id is not None:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            self.synced = await self.tree.sync(guild=guild)
            where = f"guild {guild_id}"
        else:
            self.synced = await self.tree.sync()
            where = "globally"
        log.info("synced %d commands %s: %s", len(self.synced), where,
                 ", ".join(sorted(c.name for c in self.synced)))

    async def on_app_command_completion(self, interaction: discord.Interaction,
                                        command: Any) -> None:
        metrics.command_finished(interaction.id, interaction.extras, "ok")

    async def on_ready(self) -> None:
        if self.warmed is None:
            for service in self.deferred:  # database, schedulers, catch-up: off the loop
                service.begin()
            if self._services is not None:
                self._services.warm_renderer()
            self.warmed = asyncio.ensure_future(asyncio.to_thread(warm_imports, self._services))
        log.info("connected as %s (%s guilds, %s shards, running %s); invite: %s", self.user,
                 len(self.guilds), self.shard_count, self.shard_ids or "all",
                 invite_url(self.application_id or 0))

    async def close(self) -> None:
        for service in self.deferred:  # a build in flight finishes, but never starts
            await service.close()
        if self._services is not None:
            self._services.stop_background()
        await super().close()
        if self._services is not None:
            await self._services.close()


async def _serve(bot: CapbriefBot, token: str) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # non-Unix loops
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))
    async with bot:
        await bot.start(token)


def run_bot(settings: Settings, token: SecretStr, data_dir: Path | None = None) -> int:
    """Run until SIGTERM/SIGINT; 0 on a clean stop, 2 when Discord rejects the token."""
    bot = CapbriefBot(settings, data_dir=data_dir)
    try:
        asyncio.run(_serve(bot, token.get_secret_value()))
    except discord.LoginFailure:
        log.error("Discord rejected the token from DISCORD_TOKEN / DISCORD_TOKEN_FILE (not shown); "
                  "check it and retry")
        return 2
    except discord.PrivilegedIntentsRequired:
        log.error("Discord refused the gateway intents; capbrief needs only the Guilds intent")
        return 2
    return 0
