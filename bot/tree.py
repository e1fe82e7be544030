"""One error path for every app command, and the reply helpers cogs use.

:meth:`CapbriefTree.on_error` turns an error into a short EPHEMERAL message:

- :class:`~bot.errors.UserFacingError` (bad input, data outages), a chart input the chart code
  rejects (``ChartInputError``), a per-user cooldown ("try again in N s"), a failed check or a
  value the transformers reject → that message, logged at INFO without a traceback;
- Discord refusing the bot a permission (403) → a sentence saying so, logged at WARNING;
- an expired interaction (Discord 10062 Unknown interaction, 10015 Unknown Webhook: the 3 s or
  15 min deadline passed) → a WARNING without a traceback, and no reply (there is no one to
  reply to);
- anything else → logged with its traceback at ERROR, and a generic message with a short
  reference the user can quote.

It works at any stage of the response: before it (an ephemeral message), after a deferral (the
public "thinking…" placeholder is deleted, then an ephemeral follow-up is sent: Discord would
otherwise make the first follow-up public, whatever its flags), or after the reply.

Every reply goes out through :func:`send_ephemeral`, :func:`send_private` or :func:`send_reply`,
which pass it through :func:`bot.ui.limits.check_message` (Discord's size limits) first.
"""

from __future__ import annotations

import io
import logging
import math
import secrets

import discord
from discord import app_commands

from bot import metrics
from bot.clock import today_in_new_york
from bot.errors import UserFacingError
from bot.ui import limits

log = logging.getLogger(__name__)

GENERIC = "Something went wrong on our side while answering that. (ref {ref})"
STALE_COMMAND = "This command has just changed; please try again in a minute."
#: ``interaction.extras`` key set by :func:`send_reply` once the public reply is out.
REPLIED = "capbrief_replied"
#: Today's date in New York: what "a future date" means for the cogs' ``asof`` options.
market_today = today_in_new_york
#: Discord's codes for an interaction whose token is no longer valid.
UNKNOWN_WEBHOOK, UNKNOWN_INTERACTION = 10015, 10062
FORBIDDEN = ("I'm missing a permission Discord needs for that here (Discord said: {why}). "
             "Ask a server admin to check capbrief's permissions in this channel.")


def _chart_input_error() -> type[Exception] | None:
    try:
        from analytics.charts.errors import ChartInputError
    except ImportError:  # pragma: no cover - charts not installed yet
        return None
    return ChartInputError


def unwrap(error: BaseException) -> BaseException:
    """The exception that caused ``error`` (inside CommandInvokeError / TransformerError)."""
    if isinstance(error, app_commands.CommandInvokeError):
        return error.original
    if isinstance(error, app_commands.TransformerError) and error.__cause__ is not None:
        return error.__cause__
    return error


def is_expired(error: BaseException) -> bool:
    """True when Discord says the interaction's token is gone (too late to answer)."""
    cause = unwrap(error)
    return isinstance(cause, discord.NotFound) and cause.code in (UNKNOWN_WEBHOOK,
                                                                  UNKNOWN_INTERACTION)


def user_message(error: BaseException) -> str | None:
    """The safe message for an expected error, or None for a bug (logged with traceback)."""
    cause = unwrap(error)
    if isinstance(cause, UserFacingError):
        return cause.message
    chart_error = _chart_input_error()
    if chart_error is not None and isinstance(cause, chart_error):
        return f"Can't draw that chart: {cause}"
    if isinstance(cause, app_commands.CommandOnCooldown):
        wait = max(1, math.ceil(cause.retry_after))
        return f"You're using this command too often. Try again in {wait} s."
    if isinstance(cause, app_commands.MissingPermissions):
        perms = ", ".join(p.replace("_", " ").replace("guild", "server").title()
                          for p in cause.missing_permissions)
        return f"You need the {perms} permission to do that."
    if isinstance(cause, app_commands.BotMissingPermissions):
        perms = ", ".join(p.replace("_", " ").title() for p in cause.missing_permissions)
        return f"I need the {perms} permission here to do that."
    if isinstance(cause, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(cause, app_commands.CheckFailure):
        return "You can't use this command here."
    if isinstance(cause, app_commands.TransformerError):
        return f"That isn't a valid value: {str(cause.value)[:50]!r}."
    if isinstance(cause, app_commands.CommandSignatureMismatch | app_commands.CommandNotFound):
        return STALE_COMMAND
    if isinstance(cause, discord.Forbidden):
        return FORBIDDEN.format(why=limits.cut(cause.text or "Missing Permissions", 100))
    return None


async def send_ephemeral(interaction: discord.Interaction, message: str) -> None:
    """Send ``message`` privately, whatever stage the interaction's response is at (after a
    public deferral, the "thinking…" placeholder is deleted first)."""
    message = limits.check_message(message)[0] or ""
    if not interaction.response.is_done():
        await interaction.response.send_message(message, ephemeral=True)
        return
    deferred = interaction.response.type is discord.InteractionResponseType.deferred_channel_message
    if deferred and not interaction.extras.get(REPLIED):
        try:  # drop the public "thinking…" so the follow-up can be ephemeral
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.debug("could not delete the deferred response", exc_info=True)
    await interaction.followup.send(message, ephemeral=True)


def _awaiting_deferred(interaction: discord.Interaction) -> bool:
    """Deferred and nothing sent since: the answer should *edit* the deferred original.

    An edit (``PATCH …/messages/@original``) is idempotent: discord.py retries a 502, and a
    retried follow-up (``POST /webhooks/…``, which carries no nonce) would post twice.
    """
    deferred = interaction.response.type is discord.InteractionResponseType.deferred_channel_message
    return deferred and not interaction.extras.get(REPLIED)


async def send_private(interaction: discord.Interaction, content: str | None = None, *,
                       embeds: list[discord.Embed] | None = None,
                       files: list[discord.File] | None = None) -> None:
    """A private (ephemeral) answer: the response, or a follow-up once responded or deferred
    (an ephemeral deferral's first follow-up replaces its placeholder)."""
    content, checked = limits.check_message(content, embeds or [])
    if _awaiting_deferred(interaction):
        await interaction.edit_original_response(content=content, embeds=checked,
                                                 attachments=files or [])
    elif interaction.response.is_done():
        await interaction.followup.send(content or discord.utils.MISSING, embeds=checked,
                                        files=files or [], ephemeral=True)
    else:
        await interaction.response.send_message(content, embeds=checked, files=files or [],
                                                ephemeral=True)
    interaction.extras[REPLIED] = True


async def send_reply(interaction: discord.Interaction, *, embed: discord.Embed,
                     png: bytes | None = None, filename: str = "chart.png") -> None:
    """The one public reply of a deferred data command: ``embed`` plus a fresh PNG file.

    A new :class:`discord.File` is built from the bytes on every call (a File cannot be re-sent).
    The embed shows the picture through ``attachment://filename``.
    """
    files: list[discord.File] = []
    if png is not None:
        embed.set_image(url=f"attachment://{filename}")
        files.append(discord.File(io.BytesIO(png), filename=filename))
    _, (embed,) = limits.check_message(None, [embed])
    if _awaiting_deferred(interaction):  # idempotent under discord.py's 502 retry
        await interaction.edit_original_response(embed=embed, attachments=files)
    elif interaction.response.is_done():
        await interaction.followup.send(embed=embed, files=files)
    else:
        await interaction.response.send_message(embed=embed, files=files)
    interaction.extras[REPLIED] = True


def heavy_cooldown(interaction: discord.Interaction) -> app_commands.Cooldown | None:
    """Per-user cooldown for the heavy commands: ``discord.cooldown_rate`` uses per
    ``discord.cooldown_seconds`` (from the bot's settings; none without settings)."""
    settings = getattr(interaction.client, "settings", None)
    if settings is None:
        return None
    return app_commands.Cooldown(settings.discord.cooldown_rate,
                                 settings.discord.cooldown_seconds)


class CapbriefTree(app_commands.CommandTree[discord.Client]):
    """The command tree with the single error path described in the module docstring."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Time every slash command from receipt (:mod:`bot.metrics`); refuses nothing."""
        if interaction.type is discord.InteractionType.application_command:
            name = interaction.command.qualified_name if interaction.command else "?"
            metrics.command_started(interaction.id, interaction.extras, name)
        return True

    async def on_error(self, interaction: discord.Interaction,
                       error: app_commands.AppCommandError) -> None:
        name = interaction.command.qualified_name if interaction.command else "?"
        if is_expired(error):
            cause = unwrap(error)
            log.warning("/%s: the interaction expired before the answer was sent (Discord %s "
                        "%s); no reply possible", name, getattr(cause, "code", "?"),
                        getattr(cause, "text", "") or "")
            return
        message = user_message(error)
        metrics.command_finished(interaction.id, interaction.extras,
                                 "error" if message is None else "refused")
        if message is None:
            ref = secrets.token_hex(3)
            log.error("/%s failed (ref %s)", name, ref, exc_info=unwrap(error))
            message = GENERIC.format(ref=ref)
        elif isinstance(unwrap(error), discord.Forbidden):
            log.warning("/%s: Discord refused the bot a permission: %s", name, message)
        else:
            log.info("/%s refused for user %s: %s", name, interaction.user.id, message)
        try:
            await send_ephemeral(interaction, message)
        except discord.HTTPException as exc:
            if is_expired(exc):
                log.warning("/%s: the interaction expired before the error could be shown "
                            "(Discord %s)", name, exc.code)
            else:
                log.warning("/%s: could not tell the user about an error", name,
                            exc_info=True)


#: What a subscribed channel needs (the briefing and the alerts): Read Message History lets the
#: bot find its own post after an outage (exactly-once).
NEEDED = ("view_channel", "send_messages", "embed_links", "attach_files",
          "read_message_history")


def missing_permissions(channel: discord.abc.GuildChannel, me: discord.Member) -> list[str]:
    """The permissions in :data:`NEEDED` the bot lacks in ``channel``, as Discord names them."""
    perms = channel.permissions_for(me)
    return [p.replace("_", " ").title() for p in NEEDED if not getattr(perms, p)]


def guild_id_of(interaction: discord.Interaction) -> int:
    """The server the command came from; a DM is refused with "only works in a server"."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id
