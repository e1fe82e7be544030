"""A fake Discord (REST + gateway) on 127.0.0.1 that the real discord.py 2.7 client accepts.

Usage (inside a running event loop)::

    fake = await FakeDiscord().start()
    fake.install()                        # points Route.BASE and DEFAULT_GATEWAY at the fake
    bot = CapbriefBot(..., guild_ready_timeout=0.05); await bot.login("t"); task = start(bot)
    await fake.wait_ready()
    ix = await fake.interact("status", {"window": 20})   # INTERACTION_CREATE over the gateway
    cb = await ix.callback()              # the POST .../callback the bot sent (json["type"] == 5)
    fu = await ix.followup()              # the POST /webhooks/{app}/{token} (json + files)
    await bot.close(); await fake.close(); fake.uninstall()

What it serves (every response is ``Content-Type: application/json`` exactly):
- ``GET /gateway/bot``, ``GET /users/@me``, ``GET /oauth2/applications/@me``;
- ``PUT /applications/{app}/commands`` and ``/applications/{app}/guilds/{g}/commands`` (kept
  in :attr:`FakeDiscord.synced`, keyed ``"global"`` or the guild id; ids are assigned);
- ``POST /interactions/{id}/{token}/callback?with_response=1`` → ``{"interaction", "resource"}``;
- ``POST /webhooks/{app}/{token}`` (follow-ups), ``GET|PATCH|DELETE …/messages/@original``;
- ``POST /channels/{id}/messages`` (every accepted post is kept in
  :attr:`FakeDiscord.channel_messages`; a repeated ``nonce`` with ``enforce_nonce`` answers the
  first message without posting, as Discord does), ``GET /channels/{id}/messages`` (the
  channel's visible messages, newest first, with ``limit``, ``before``, ``after``),
  ``DELETE /channels/{id}/messages/{mid}`` and :meth:`FakeDiscord.delete_message` (a moderator);
  ``GET /channels/{id}`` (404 unless the channel was added with :meth:`add_channel`);
- anything else: 200 ``{}`` (and recorded), so an unexpected call shows up in :attr:`requests`.
- The gateway at ``/gateway``: HELLO, heartbeat ACK, IDENTIFY → READY (``shard``,
  ``resume_gateway_url``) + one GUILD_CREATE per guild, RESUME → RESUMED, plain text frames.

Recording: every REST call becomes a :class:`Recorded` (method, path, query, json, files,
``authorized``, monotonic ``at``); multipart bodies are parsed into ``payload_json`` → ``json``
and ``files[N]`` → :class:`RecordedFile` (name, bytes). The Authorization value is never stored.

Checks (what Discord itself would refuse; see :mod:`tests.fakes.discord_spec` and
:mod:`tests.fakes.discord_limits`):
- every REST request is validated against Discord's OpenAPI description: an unknown route
  answers 404, a wrong method 405, a body that breaks the request schema (or a documented limit:
  2,000 characters of content, 6,000 per message's embeds) 400 ``Invalid Form Body`` (code
  50035). Each problem is also kept in :attr:`FakeDiscord.violations` and in the process-wide
  :data:`VIOLATIONS`, which an autouse fixture turns into a test failure;
- the global limit of 50 requests/s per token (429 with ``global: true``); per-route buckets
  with :meth:`FakeDiscord.limit_route` (429 with ``retry_after``);
- IDENTIFY with a shard that would hold more than 2,500 guilds (the listed ones plus
  ``extra_guilds`` synthetic ones) is closed with 4011 (kept in :attr:`gateway_closes`).

Control:
- :meth:`interact` / :meth:`autocomplete` dispatch INTERACTION_CREATE (options as a dict, or a
  list of option dicts for nesting; ``subcommand=`` wraps them; ``permissions`` a bit set);
- :meth:`fail` injects faults on a route (``status`` 429 with ``retry_after``, 403, 404, 5xx;
  ``code``/``message`` override the JSON error, e.g. 10015 Unknown Webhook) for the next
  ``times`` matching requests; ``after_store=True`` handles the request first (the message is
  posted) and then answers the fault; :meth:`hang` holds the answer (after or before storing)
  so the client times out; :meth:`delay` slows a route down;
- ``reject_login = True`` makes login fail (401), as with a revoked token;
- :meth:`drop_gateway` closes the socket (code 1000 or 4000 → the client RESUMEs),
  :meth:`invalidate_session` sends op 9 (→ fresh IDENTIFY); counters :attr:`identifies`,
  :attr:`resumes`; :meth:`wait_for` waits for any recorded request matching a predicate.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import discord
import yarl
from aiohttp import BodyPartReader, WSMsgType, web

from tests.fakes import discord_limits as L
from tests.fakes import discord_payloads as P
from tests.fakes.discord_spec import load_spec

JSON = "application/json"
#: Every spec violation any fake in this process has seen (the autouse check reads it).
VIOLATIONS: list[str] = []


def pop_violations() -> list[str]:
    """The violations not reported yet (and forget them: each is reported once)."""
    found = list(VIOLATIONS)
    VIOLATIONS.clear()
    return found


@dataclass(frozen=True)
class RecordedFile:
    field: str
    filename: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Recorded:
    """One REST request the fake received (and what it answered)."""

    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    json: Any
    files: list[RecordedFile]
    authorized: bool
    at: float = field(default_factory=time.perf_counter)
    status: int = 200
    response: Any = None

    def embeds(self) -> list[dict[str, Any]]:
        data = self.json.get("data", self.json) if isinstance(self.json, dict) else {}
        return list(data.get("embeds") or [])

    @property
    def flags(self) -> int:
        """The message's flags: as sent, or for an edit of the deferred original (which keeps
        the deferral's flags) as the answer shows them."""
        if self.method == "PATCH" and isinstance(self.response, dict) and \
                "flags" in self.response:
            return int(self.response["flags"] or 0)
        data = self.json.get("data", self.json) if isinstance(self.json, dict) else {}
        return int(data.get("flags") or 0)


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    retry_after: float
    is_global: bool
    code: int | None = None
    message: str | None = None
    after_store: bool = False


@dataclass
class Interaction:
    """A dispatched INTERACTION_CREATE; await its callback and follow-ups."""

    fake: FakeDiscord
    id: int
    token: str
    sent_at: float

    def _mine(self, suffix: str, method: str = "POST") -> Callable[[Recorded], bool]:
        return lambda r: r.method == method and r.path.endswith(suffix) and self.token in r.path

    async def callback(self, within: float = 10.0) -> Recorded:
        """The interaction response (``json["type"]``: 4 message, 5 deferral, 8 autocomplete)."""
        return await self.fake.wait_for(self._mine(f"/{self.token}/callback"), within)

    async def followup(self, within: float = 30.0, index: int = 0) -> Recorded:
        """The ``index``-th message after the callback: a follow-up (``POST /webhooks/{app}/
        {token}``) or the edit of the deferred original (``PATCH …/messages/@original``)."""
        post = self._mine(f"/webhooks/{P.APP_ID}/{self.token}")
        edit = self._mine(f"/webhooks/{P.APP_ID}/{self.token}/messages/@original", "PATCH")
        return await self.fake.wait_for(lambda r: post(r) or edit(r), within, index=index)

    async def reply(self, within: float = 30.0) -> Recorded:
        """The first message-bearing response: a type-4 callback, a follow-up or an edit."""
        def pred(r: Recorded) -> bool:
            if self.token not in r.path:
                return False
            if r.path.endswith("/callback"):
                return isinstance(r.json, dict) and r.json.get("type") == 4
            return r.method in ("POST", "PATCH") and "/webhooks/" in r.path
        return await self.fake.wait_for(pred, within)

    def responses(self) -> list[Recorded]:
        return [r for r in self.fake.requests if self.token in r.path]


class FakeDiscord:
    """See the module docstring for the API."""

    def __init__(self, *, guild_ids: tuple[int, ...] = (P.GUILD_ID,),
                 heartbeat_interval_ms: int = 41_250, validate: bool = True,
                 global_limit: int | None = L.GLOBAL_LIMIT, extra_guilds: int = 0) -> None:
        self.guild_ids = guild_ids
        #: Discord's API description (None: validation off, or the spec file is absent).
        self.spec = load_spec() if validate else None
        self.violations: list[str] = []
        self.checked = 0  # requests validated against the spec
        self.global_limit = L.GlobalLimit(global_limit)
        self._route_limits: list[L.RouteLimit] = []
        #: Guilds the bot is "in" beyond ``guild_ids`` (never dispatched; they count for shards).
        self.extra_guilds = extra_guilds
        self.gateway_closes: list[int] = []
        self.identified_shards: list[tuple[int, int]] = []
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.requests: list[Recorded] = []
        self.synced: dict[str, list[dict[str, Any]]] = {}
        self.channel_messages: dict[int, list[Recorded]] = {}
        #: Visible messages per channel (oldest first); a moderator's delete removes one.
        self.visible: dict[int, list[dict[str, Any]]] = {}
        self._nonces: dict[tuple[int, str], tuple[float, dict[str, Any]]] = {}
        #: How long a nonce is remembered (Discord: "a few minutes"); 0 forgets at once.
        self.nonce_window = 300.0
        self._hangs: list[tuple[re.Pattern[str], float, bool, list[int]]] = []
        self.reject_login = False  # True: GET /users/@me answers 401 (a revoked token)
        self.identifies = 0
        self.resumes = 0
        self.gateway_payloads: list[dict[str, Any]] = []
        self._channels: dict[int, dict[str, Any]] = {}
        self._originals: dict[str, dict[str, Any]] = {}
        self._faults: list[_Fault] = []
        self._delays: list[tuple[re.Pattern[str], float]] = []
        self._waiters: list[tuple[Callable[[Recorded], bool], int, asyncio.Future[Recorded]]] = []
        self._ws: web.WebSocketResponse | None = None
        self._ws_live = asyncio.Event()
        self._seq = 0
        self._session_id = ""
        self._runner: web.AppRunner | None = None
        self._saved: tuple[str, yarl.URL] | None = None
        self.port = 0
        self.add_channel(P.CHANNEL_ID, "general")

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def install(self) -> None:
        """Point discord.py's REST base and default gateway at this fake (undo: uninstall)."""
        if self._saved is None:
            gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
            self._saved = (discord.http.Route.BASE, gateway)
        discord.http.Route.BASE = self.base_url
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    def uninstall(self) -> None:
        if self._saved is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None

    # -- configuration ---------------------------------------------------------------------
    def add_channel(self, channel_id: int, name: str, *, deny_bot: int = 0,
                    guild_id: int = P.GUILD_ID) -> dict[str, Any]:
        """Add a text channel to GUILD_CREATE (connect after adding) and to ``GET /channels``.

        ``deny_bot`` denies permission bits to the bot there (e.g. ``P.SEND_MESSAGES``).
        """
        data = P.text_channel(channel_id, guild_id, name, deny_bot=deny_bot,
                              position=len(self._channels))
        self._channels[channel_id] = data
        return data

    def fail(self, method: str, path_regex: str, status: int, *, times: int = 1,
             retry_after: float = 0.05, is_global: bool = False, code: int | None = None,
             message: str | None = None, after_store: bool = False) -> None:
        """Answer the next ``times`` requests whose path matches ``path_regex`` with ``status``.

        Paths have no /api/v10 prefix, e.g. ``r"/channels/\\d+/messages"``. A 429 carries
        ``retry_after`` (seconds) in its body and headers, and the ``Via`` header discord.py
        needs to treat it as a Discord rate limit rather than a Cloudflare ban. ``code`` and
        ``message`` set the JSON error of other statuses (default: 403 → 50013 Missing
        Permissions, 404 → 10003 Unknown Channel).
        """
        self._faults.append(_Fault(method.upper(), re.compile(path_regex), status, times,
                                   retry_after, is_global, code, message, after_store))

    def hang(self, path_regex: str, seconds: float, *, after_store: bool, times: int = 1
             ) -> None:
        """Hold the answer to the next ``times`` POSTs matching ``path_regex`` for ``seconds``
        (a client timeout), having stored the message first or not (then it is stored late,
        only if the client is still waiting: never, after a timeout)."""
        self._hangs.append((re.compile(path_regex), seconds, after_store, [times]))

    def delete_message(self, channel_id: int, message_id: int) -> None:
        """A moderator deletes a message (it disappears from GET; the post stays recorded)."""
        self.visible[channel_id] = [m for m in self.visible.get(channel_id, [])
                                    if int(m["id"]) != message_id]

    def posts(self, channel_id: int) -> list[dict[str, Any]]:
        """The messages visible in ``channel_id`` now, oldest first."""
        return list(self.visible.get(channel_id, []))

    def limit_route(self, method: str, path_regex: str, limit: int, per: float) -> None:
        """Enforce ``limit`` requests per ``per`` seconds per bucket (major id) on matching
        routes, with ``X-RateLimit-*`` headers, as Discord's per-route limits do."""
        self._route_limits.append(L.RouteLimit(method.upper(), re.compile(path_regex), limit,
                                               per, name=f"fake-{len(self._route_limits)}"))

    def all_guild_ids(self) -> list[int]:
        """The dispatched guilds plus the ``extra_guilds`` synthetic ones."""
        return [*self.guild_ids, *L.synthetic_guild_ids(self.extra_guilds)]

    def take_violations(self) -> list[str]:
        """This fake's violations, cleared here and from :data:`VIOLATIONS` (for tests that
        send a bad request on purpose)."""
        mine, self.violations = self.violations, []
        for problem in mine:
            if problem in VIOLATIONS:
                VIOLATIONS.remove(problem)
        return mine

    def assert_valid(self) -> None:
        """AssertionError listing every request Discord would have refused."""
        assert not self.violations, "requests Discord would refuse:\n" + "\n".join(
            self.violations)

    def delay(self, path_regex: str, seconds: float) -> None:
        """Wait ``seconds`` before answering requests whose path matches (0 removes it)."""
        self._delays = [(p, s) for p, s in self._delays if p.pattern != path_regex]
        if seconds > 0:
            self._delays.append((re.compile(path_regex), seconds))

    # -- waiting ---------------------------------------------------------------------------
    async def wait_for(self, pred: Callable[[Recorded], bool], within: float = 10.0, *,
                       index: int = 0) -> Recorded:
        """The ``index``-th recorded request matching ``pred`` (waits for it to arrive)."""
        seen = [r for r in self.requests if pred(r)]
        if len(seen) > index:
            return seen[index]
        fut: asyncio.Future[Recorded] = asyncio.get_running_loop().create_future()
        self._waiters.append((pred, index - len(seen), fut))
        try:
            return await asyncio.wait_for(fut, within)
        finally:
            self._waiters = [w for w in self._waiters if w[2] is not fut]

    def _notify(self, rec: Recorded) -> None:
        keep = []
        for pred, remaining, fut in self._waiters:
            if fut.done():
                continue
            if pred(rec):
                if remaining == 0:
                    fut.set_result(rec)
                    continue
                remaining -= 1
            keep.append((pred, remaining, fut))
        self._waiters = keep

    async def wait_ready(self, within: float = 10.0) -> None:
        """Until a gateway session is identified (or resumed) and can take dispatches."""
        await asyncio.wait_for(self._ws_live.wait(), within)

    def find(self, method: str | None = None, path_regex: str = "") -> list[Recorded]:
        rx = re.compile(path_regex)
        return [r for r in self.requests
                if (method is None or r.method == method) and rx.search(r.path)]

    # -- interactions ----------------------------------------------------------------------
    async def interact(self, name: str, options: Mapping[str, Any] | list[dict[str, Any]]
                       | None = None, *, subcommand: str | None = None,
                       user_id: int = P.USER_ID, permissions: int = P.MEMBER_PERMISSIONS,
                       guild_id: int | None = P.GUILD_ID, channel_id: int = P.CHANNEL_ID,
                       resolved: dict[str, Any] | None = None, kind: int = 2) -> Interaction:
        """Dispatch a slash-command INTERACTION_CREATE; returns a handle to await replies on."""
        opts = (list(options) if isinstance(options, list)
                else [P.command_option(k, v) for k, v in (options or {}).items()])
        if subcommand is not None:
            opts = [{"name": subcommand, "type": 1, "options": opts}]
        command_id = self._command_id(name, guild_id)
        data: dict[str, Any] = {"id": str(command_id), "name": name, "type": 1, "options": opts}
        if resolved:
            data["resolved"] = resolved
        iid, token = P.snowflake(), f"itok-{secrets.token_hex(12)}"
        payload = P.interaction(interaction_id=iid, token=token, kind=kind, data=data,
                                guild_id=guild_id, channel_id=channel_id, user_id=user_id,
                                permissions=permissions,
                                app_permissions=P.MEMBER_PERMISSIONS)
        await self.wait_ready()
        sent_at = time.perf_counter()
        await self.dispatch("INTERACTION_CREATE", payload)
        return Interaction(self, iid, token, sent_at)

    async def autocomplete(self, name: str, options: Mapping[str, Any], focused: str,
                           **kwargs: Any) -> Interaction:
        """An autocomplete interaction (type 4) with ``focused`` marked; reply is type 8."""
        opts = [P.command_option(k, v, focused=(k == focused)) for k, v in options.items()]
        return await self.interact(name, opts, kind=4, **kwargs)

    def _command_id(self, name: str, guild_id: int | None) -> int:
        for scope in ("global", str(guild_id)):
            for cmd in self.synced.get(scope, []):
                if cmd["name"] == name:
                    return int(cmd["id"])
        return P.snowflake()

    # -- gateway ---------------------------------------------------------------------------
    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH (op 0) on the live gateway socket."""
        ws = self._ws
        if ws is None or ws.closed:
            raise RuntimeError("no live gateway connection")
        self._seq += 1
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    async def drop_gateway(self, code: int = 1000) -> None:
        """Close the live gateway socket from the server side (the client should RESUME)."""
        self._ws_live.clear()
        if self._ws is not None and not self._ws.closed:
            await self._ws.close(code=code)

    async def invalidate_session(self) -> None:
        """op 9 (not resumable): the client closes and IDENTIFYs afresh."""
        self._ws_live.clear()
        if self._ws is not None and not self._ws.closed:
            await self._ws.send_str(json.dumps({"op": 9, "d": False}))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {
            "heartbeat_interval": self.heartbeat_interval_ms}}))
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            payload = json.loads(msg.data)
            op = payload.get("op")
            self.gateway_payloads.append({"op": op})
            if op == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif op == 2:
                shard = (payload.get("d") or {}).get("shard") or [0, 1]
                if not await self._check_shard(ws, int(shard[0]), int(shard[1])):
                    break
                await self._identify(ws, (int(shard[0]), int(shard[1])))
            elif op == 6:
                self.resumes += 1
                self._ws = ws
                self._seq += 1
                await ws.send_str(json.dumps({"op": 0, "t": "RESUMED", "s": self._seq, "d": {}}))
                self._ws_live.set()
        if self._ws is ws:
            self._ws_live.clear()
        return ws

    async def _check_shard(self, ws: web.WebSocketResponse, shard_id: int, count: int) -> bool:
        """Close with 4011 when this shard would hold more than 2,500 guilds."""
        held = L.guilds_on_shard(self.all_guild_ids(), shard_id, count)
        if held <= L.MAX_GUILDS_PER_SHARD:
            return True
        self.gateway_closes.append(L.SHARDING_REQUIRED)
        await ws.close(code=L.SHARDING_REQUIRED, message=b"Sharding required.")
        return False

    async def _identify(self, ws: web.WebSocketResponse, shard: tuple[int, int] = (0, 1)
                        ) -> None:
        self.identifies += 1
        self.identified_shards.append(shard)
        self._ws = ws
        self._seq = 0
        self._session_id = secrets.token_hex(16)
        mine = [g for g in self.guild_ids if L.shard_of(g, shard[1]) == shard[0]]
        await self.dispatch("READY", P.ready(self._session_id, self.gateway_url, mine,
                                             shard=shard))
        for gid in mine:
            channels = [c for c in self._channels.values() if c["guild_id"] == str(gid)]
            await self.dispatch("GUILD_CREATE", P.guild(gid, channels))
        self._ws_live.set()

    # -- REST ------------------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body, files = await _read_body(request)
        rec = Recorded(method=request.method, path=path, query=dict(request.query), json=body,
                       files=files, authorized="Authorization" in request.headers)
        for rx, seconds in self._delays:
            if rx.search(path):
                await asyncio.sleep(seconds)
        hang = self._take_hang(rec)
        if hang is not None:
            seconds, after_store = hang
            if after_store and self._refuse(rec, request.headers.get("Content-Type", "")) \
                    is None:
                self._answer(rec)
            self.requests.append(rec)
            self._notify(rec)
            await asyncio.sleep(seconds)
            return web.Response(status=504, body=b'{"message": "timeout", "code": 0}',
                                headers={"Content-Type": JSON})
        refused = self._refuse(rec, request.headers.get("Content-Type", ""))
        limited, bucket_headers = self._rate_limit(rec) if refused is None else (None, {})
        fault = self._take_fault(rec) if refused is None and limited is None else None
        if refused is not None:
            status, data, headers = refused
        elif limited is not None:
            status, data, headers = limited
        elif fault is not None:
            if fault.after_store:
                self._answer(rec)
            status, data, headers = _fault_response(fault)
        else:
            status, data, headers = self._answer(rec)
        headers = {**bucket_headers, **headers}
        rec.status, rec.response = status, data
        self.requests.append(rec)
        self._notify(rec)
        if status == 204:  # no body, no content type (discord.py would try to parse it)
            return web.Response(status=204, headers=headers)
        return web.Response(status=status, body=json.dumps(data).encode(),
                            headers={"Content-Type": JSON, **headers})

    def _refuse(self, rec: Recorded, content_type: str
                ) -> tuple[int, Any, dict[str, str]] | None:
        """Discord's answer to a request its API description rejects (None: acceptable)."""
        if self.spec is None:
            return None
        self.checked += 1
        problems = self.spec.check(rec.method, rec.path, content_type, rec.json, len(rec.files),
                                   rec.query)
        if not problems:
            return None
        self.violations += problems
        VIOLATIONS.extend(problems)
        first = problems[0]
        if first.endswith("no such route in Discord's API"):
            return 404, {"message": "404: Not Found", "code": 0}, {}
        if ": method not in the spec" in first:
            return 405, {"message": "405: Method Not Allowed", "code": 0}, {}
        return 400, {"message": "Invalid Form Body", "code": 50035,
                     "errors": {"_errors": [{"code": "BASE_TYPE_INVALID", "message": p}
                                            for p in problems]}}, {}

    def _rate_limit(self, rec: Recorded
                    ) -> tuple[tuple[int, Any, dict[str, str]] | None, dict[str, str]]:
        """(a 429 answer or None, per-route headers for the answer)."""
        if self.global_limit.applies(rec.path, rec.authorized):
            wait = self.global_limit.admit()
            if wait is not None:
                return L.too_many(wait, is_global=True), {}
        headers: dict[str, str] = {}
        for limit in self._route_limits:
            if limit.matches(rec.method, rec.path):
                wait, headers = limit.admit(rec.path)
                if wait is not None:
                    return L.too_many(wait, is_global=False, bucket=limit.name), {}
        return None, headers

    def _take_hang(self, rec: Recorded) -> tuple[float, bool] | None:
        for rx, seconds, after_store, left in self._hangs:
            if rec.method == "POST" and left[0] > 0 and rx.search(rec.path):
                left[0] -= 1
                return seconds, after_store
        return None

    def _take_fault(self, rec: Recorded) -> _Fault | None:
        for fault in self._faults:
            if fault.times > 0 and fault.method == rec.method and fault.pattern.search(rec.path):
                fault.times -= 1
                return fault
        return None

    def _answer(self, rec: Recorded) -> tuple[int, Any, dict[str, str]]:
        path, method = rec.path, rec.method
        if path == "/gateway/bot":
            shards = L.recommended_shards(len(self.guild_ids) + self.extra_guilds)
            return 200, {"url": self.gateway_url, "shards": shards, "session_start_limit": {
                "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}}, {}
        if path == "/users/@me":
            if self.reject_login:
                return 401, {"message": "401: Unauthorized", "code": 0}, {}
            return 200, P.bot_user(), {}
        if path == "/oauth2/applications/@me":
            return 200, P.application(), {}
        if m := re.fullmatch(r"/applications/(\d+)(?:/guilds/(\d+))?/commands", path):
            if method == "PUT":
                return 200, self._sync(m.group(1), m.group(2), rec.json or []), {}
            return 200, self.synced.get(m.group(2) or "global", []), {}
        if m := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path):
            return 200, self._callback(int(m.group(1)), m.group(2), rec), {}
        if m := re.fullmatch(r"/webhooks/(\d+)/([^/]+)(/messages/@original)?", path):
            return self._webhook(m.group(2), bool(m.group(3)), rec)
        if m := re.fullmatch(r"/channels/(\d+)/messages", path):
            if method == "GET":
                return 200, self._channel_read(int(m.group(1)), rec.query), {}
            return 200, self._channel_post(int(m.group(1)), rec), {}
        if m := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path):
            if method == "DELETE":
                self.delete_message(int(m.group(1)), int(m.group(2)))
                return 204, None, {}
            found = [x for x in self.visible.get(int(m.group(1)), [])
                     if x["id"] == m.group(2)]
            if not found:
                return 404, {"message": "Unknown Message", "code": 10008}, {}
            return 200, found[0], {}
        if m := re.fullmatch(r"/channels/(\d+)", path):
            channel = self._channels.get(int(m.group(1)))
            if channel is None:
                return 404, {"message": "Unknown Channel", "code": 10003}, {}
            return 200, channel, {}
        return 200, {}, {}

    def _sync(self, app: str, guild: str | None, commands: list[dict[str, Any]]
              ) -> list[dict[str, Any]]:
        out = []
        for cmd in commands:
            full = {"id": str(P.snowflake()), "application_id": app, "version": "1",
                    "type": 1, "default_member_permissions": None, **cmd}
            if guild:
                full["guild_id"] = guild
            out.append(full)
        self.synced[guild or "global"] = out
        return out

    def _callback(self, iid: int, token: str, rec: Recorded) -> dict[str, Any]:
        body = rec.json if isinstance(rec.json, dict) else {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        flags = int(data.get("flags") or 0)
        inter: dict[str, Any] = {"id": str(iid), "type": 2}
        out: dict[str, Any] = {"interaction": inter}
        if kind in (4, 5):
            msg = P.message(channel_id=P.CHANNEL_ID, content=data.get("content") or "",
                            embeds=data.get("embeds"), flags=flags | (128 if kind == 5 else 0),
                            attachments=P.attachment_objects(data, _sizes(rec)))
            self._originals[token] = msg
            inter.update(response_message_id=msg["id"], response_message_loading=kind == 5,
                         response_message_ephemeral=bool(flags & 64))
            out["resource"] = {"type": kind, "message": msg}
        return out

    def _webhook(self, token: str, original: bool, rec: Recorded
                 ) -> tuple[int, Any, dict[str, str]]:
        body = rec.json if isinstance(rec.json, dict) else {}
        if original:
            msg = self._originals.get(token)
            if msg is None:
                return 404, {"message": "Unknown Message", "code": 10008}, {}
            if rec.method == "DELETE":
                del self._originals[token]
                return 204, None, {}
            if rec.method == "PATCH":
                msg.update({k: body[k] for k in ("content", "embeds") if k in body},
                           edited_timestamp=P.now_iso())
                if rec.files:
                    msg["attachments"] = P.attachment_objects(body, _sizes(rec))
                msg["flags"] = int(msg.get("flags", 0)) & ~128
            return 200, msg, {}
        msg = P.message(channel_id=P.CHANNEL_ID, content=body.get("content") or "",
                        embeds=body.get("embeds"), flags=int(body.get("flags") or 0),
                        attachments=P.attachment_objects(body, _sizes(rec)),
                        webhook_id=P.APP_ID)
        return 200, msg, {}

    def _channel_post(self, channel_id: int, rec: Recorded) -> dict[str, Any]:
        body = rec.json if isinstance(rec.json, dict) else {}
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            seen = self._nonces.get((channel_id, str(nonce)))
            if seen is not None and time.monotonic() - seen[0] < self.nonce_window:
                return seen[1]  # Discord: the earlier message, nothing posted
        self.channel_messages.setdefault(channel_id, []).append(rec)
        guild = self._channels.get(channel_id, {}).get("guild_id")
        msg = P.message(channel_id=channel_id, content=body.get("content") or "",
                        embeds=body.get("embeds"), guild_id=int(guild) if guild else None,
                        attachments=P.attachment_objects(body, _sizes(rec)))
        if nonce is not None:
            msg["nonce"] = nonce
            self._nonces[(channel_id, str(nonce))] = (time.monotonic(), msg)
        self.visible.setdefault(channel_id, []).append(msg)
        return msg

    def _channel_read(self, channel_id: int, query: Mapping[str, str]
                      ) -> list[dict[str, Any]]:
        """Newest first; ``before``/``after`` by id, at most ``limit`` (default 50)."""
        found = list(reversed(self.visible.get(channel_id, [])))
        if "before" in query:
            found = [m for m in found if int(m["id"]) < int(query["before"])]
        if "after" in query:
            found = [m for m in found if int(m["id"]) > int(query["after"])]
            found.reverse()  # Discord pages forward from ``after``
        return found[:int(query.get("limit", 50))]


def _sizes(rec: Recorded) -> list[tuple[str, int]]:
    return [(f.filename, f.size) for f in rec.files]


def _fault_response(fault: _Fault) -> tuple[int, Any, dict[str, str]]:
    if fault.status == 429:
        headers = {"Via": "1.1 google", "Retry-After": f"{fault.retry_after:.3f}",
                   "X-RateLimit-Scope": "global" if fault.is_global else "user"}
        return 429, {"message": "You are being rate limited.", "retry_after": fault.retry_after,
                     "global": fault.is_global}, headers
    messages = {403: ("Missing Permissions", 50013), 404: ("Unknown Channel", 10003)}
    text, code = messages.get(fault.status, ("Injected failure", 0))
    return fault.status, {"message": fault.message or text,
                          "code": code if fault.code is None else fault.code}, {}


async def _read_body(request: web.Request) -> tuple[Any, list[RecordedFile]]:
    """JSON body, or multipart ``payload_json`` + ``files[N]`` parts."""
    ctype = request.headers.get("Content-Type", "")
    if ctype.startswith("multipart/"):
        payload: Any = None
        files: list[RecordedFile] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            raw = await part.read(decode=False)
            if part.name == "payload_json":
                payload = json.loads(raw)
            else:
                files.append(RecordedFile(part.name or "", part.filename or "", bytes(raw)))
        return payload, files
    raw_text = await request.text()
    if not raw_text:
        return None, []
    try:
        return json.loads(raw_text), []
    except ValueError:
        return raw_text, []

