"""JSON payloads the fake Discord (:mod:`tests.fakes.discord_api`) sends to the real client.

Only the fields discord.py 2.7 reads are filled in; ids are strings, as on the wire. Permission
bit sets are strings (``"8"`` = Administrator). Nothing here does I/O.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

APP_ID = 1_100_000_000_000_000_001
BOT_ID = APP_ID  # a bot user shares its application's id
GUILD_ID = 1_200_000_000_000_000_001
CHANNEL_ID = 1_300_000_000_000_000_001
USER_ID = 1_400_000_000_000_000_001

ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_APPLICATION_COMMANDS = 1 << 31
#: What an ordinary member may do in a channel (no Manage Server).
MEMBER_PERMISSIONS = (VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES
                      | READ_MESSAGE_HISTORY | USE_APPLICATION_COMMANDS)

_ids = itertools.count(1_500_000_000_000_000_001)


def snowflake() -> int:
    """A fresh, increasing id (unique within the process)."""
    return next(_ids)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name,
            "avatar": None, "bot": bot}


def bot_user() -> dict[str, Any]:
    return {**user(BOT_ID, "capbrief", bot=True), "verified": True, "mfa_enabled": False,
            "flags": 0}


def application() -> dict[str, Any]:
    """``GET /oauth2/applications/@me``."""
    return {"id": str(APP_ID), "name": "capbrief", "icon": None, "description": "",
            "rpc_origins": [], "bot_public": True, "bot_require_code_grant": False,
            "verify_key": "0" * 64, "flags": 0, "owner": user(USER_ID, "owner"),
            "team": None, "summary": ""}


def text_channel(channel_id: int, guild_id: int, name: str, *,
                 deny_bot: int = 0, position: int = 0) -> dict[str, Any]:
    """A guild text channel; ``deny_bot`` is an overwrite denying bits to the bot member."""
    overwrites = ([{"id": str(BOT_ID), "type": 1, "allow": "0", "deny": str(deny_bot)}]
                  if deny_bot else [])
    return {"id": str(channel_id), "guild_id": str(guild_id), "type": 0, "name": name,
            "position": position, "parent_id": None, "topic": None, "nsfw": False,
            "rate_limit_per_user": 0, "permission_overwrites": overwrites,
            "last_message_id": None}


def guild(guild_id: int, channels: list[dict[str, Any]], *,
          everyone_permissions: int = MEMBER_PERMISSIONS) -> dict[str, Any]:
    """GUILD_CREATE data: one @everyone role, the given channels, the bot as the only member."""
    return {
        "id": str(guild_id), "name": "capbrief test server", "icon": None, "owner_id": str(USER_ID),
        "unavailable": False, "member_count": 2, "large": False, "features": [],
        "roles": [{"id": str(guild_id), "name": "@everyone",
                   "permissions": str(everyone_permissions), "position": 0, "color": 0,
                   "hoist": False, "managed": False, "mentionable": False, "flags": 0}],
        "emojis": [], "stickers": [], "channels": channels, "threads": [], "voice_states": [],
        "presences": [], "stage_instances": [], "guild_scheduled_events": [],
        "members": [{"user": user(BOT_ID, "capbrief", bot=True), "roles": [],
                     "joined_at": now_iso(), "deaf": False, "mute": False, "flags": 0}],
        "joined_at": now_iso(), "preferred_locale": "en-US", "premium_tier": 0,
        "verification_level": 0, "default_message_notifications": 0, "mfa_level": 0,
        "nsfw_level": 0, "explicit_content_filter": 0, "system_channel_flags": 0,
    }


def ready(session_id: str, resume_url: str, guild_ids: list[int],
          shard: tuple[int, int] = (0, 1)) -> dict[str, Any]:
    return {"v": 10, "user": bot_user(), "guilds": [{"id": str(g), "unavailable": True}
                                                     for g in guild_ids],
            "session_id": session_id, "resume_gateway_url": resume_url, "shard": list(shard),
            "application": {"id": str(APP_ID), "flags": 0}}


def message(*, channel_id: int, content: str = "", embeds: list[Any] | None = None,
            attachments: list[dict[str, Any]] | None = None, flags: int = 0,
            guild_id: int | None = None, webhook_id: int | None = None,
            message_id: int | None = None, components: list[Any] | None = None) -> dict[str, Any]:
    """A message object as Discord returns it after a send."""
    out: dict[str, Any] = {
        "id": str(message_id or snowflake()), "channel_id": str(channel_id),
        "author": user(BOT_ID, "capbrief", bot=True), "content": content or "",
        "timestamp": now_iso(), "edited_timestamp": None, "tts": False,
        "mention_everyone": False, "mentions": [], "mention_roles": [],
        "attachments": attachments or [], "embeds": embeds or [], "pinned": False,
        "type": 0, "flags": flags, "components": components or [],
        "application_id": str(APP_ID),
    }
    if guild_id is not None:
        out["guild_id"] = str(guild_id)
    if webhook_id is not None:
        out["webhook_id"] = str(webhook_id)
    return out


def attachment_objects(payload: dict[str, Any],
                       files: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """Attachment objects for the files of a multipart send (``(filename, size)`` in order)."""
    declared = payload.get("attachments") or []
    out = []
    for i, (filename, size) in enumerate(files):
        name = declared[i].get("filename", filename) if i < len(declared) else filename
        url = f"https://cdn.invalid/attachments/{i}/{name}"
        out.append({"id": str(snowflake()), "filename": name, "size": size, "url": url,
                    "proxy_url": url, "content_type": "image/png" if name.endswith(".png")
                    else "application/octet-stream"})
    return out


def command_option(name: str, value: Any, *, focused: bool = False,
                   kind: int | None = None) -> dict[str, Any]:
    """One option of an interaction's ``data.options`` (type inferred from the value)."""
    if kind is None:
        kind = 5 if isinstance(value, bool) else 4 if isinstance(value, int) else \
            10 if isinstance(value, float) else 3
    out: dict[str, Any] = {"name": name, "type": kind, "value": value}
    if focused:
        out["focused"] = True
    return out


def interaction(*, interaction_id: int, token: str, kind: int, data: dict[str, Any],
                guild_id: int | None, channel_id: int, user_id: int, permissions: int,
                app_permissions: int) -> dict[str, Any]:
    """INTERACTION_CREATE data (``kind`` 2 = slash command, 4 = autocomplete); ``guild_id``
    None: sent from the user's DM with the bot (``user`` instead of ``member``, context 1)."""
    if guild_id is None:
        return {
            "id": str(interaction_id), "application_id": str(APP_ID), "type": kind,
            "token": token, "version": 1, "data": data, "channel_id": str(channel_id),
            "channel": {"id": str(channel_id), "type": 1, "recipients": [
                user(user_id, f"user{user_id % 10_000}")]},
            "user": user(user_id, f"user{user_id % 10_000}"),
            "app_permissions": str(app_permissions), "locale": "en-US",
            "attachment_size_limit": 10 * 1024 * 1024, "entitlements": [],
            "authorizing_integration_owners": {"1": str(user_id)}, "context": 1,
        }
    return {
        "id": str(interaction_id), "application_id": str(APP_ID), "type": kind, "token": token,
        "version": 1, "data": data, "guild_id": str(guild_id), "channel_id": str(channel_id),
        "channel": {"id": str(channel_id), "type": 0, "guild_id": str(guild_id),
                    "name": "general", "position": 0, "permission_overwrites": []},
        "member": {"user": user(user_id, f"user{user_id % 10_000}"), "roles": [],
                   "joined_at": now_iso(), "deaf": False, "mute": False, "flags": 0,
                   "permissions": str(permissions)},
        "app_permissions": str(app_permissions), "locale": "en-US", "guild_locale": "en-US",
        "attachment_size_limit": 10 * 1024 * 1024, "entitlements": [],
        "authorizing_integration_owners": {"0": str(guild_id)}, "context": 0,
    }
