"""The fake Discord in an OS process of its own, driven by the benchmark (bench only).

Run in the bot's process (or a thread of it), the fake's own work (gateway frames, parsing 200
multipart uploads, answering) competes with the bot's event loop for the GIL, and the figures
then measure the harness as much as the bot. Here the fake runs in a child process
(``python -m bench.discord_proc``); the bot reaches it over loopback exactly as it would reach
Discord, and the benchmark controls it over a second loopback port:

- ``POST /ready``: until the bot's gateway session is live;
- ``POST /run`` ``{"requests": [[command, options], ...], "followup": bool}``: every request is
  dispatched at once, each from its own user; the answer lists, per request, the fake's
  ``perf_counter`` stamps (dispatched, callback received, follow-up received), the callback's
  type and how many files the follow-up carried. All stamps come from the fake's clock.

The fake answers without checking requests against Discord's API description (the tests do
that); it does the same parsing and recording otherwise. It stops when its stdin closes.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from typing import Any

import discord
import yarl

from tests.fakes import discord_payloads as P
from tests.fakes.discord_api import FakeDiscord, Interaction


async def _one(fake: FakeDiscord, ix: Interaction, followup: bool, within: float
               ) -> dict[str, Any]:
    callback = await ix.callback(within=within)
    out = {"sent": ix.sent_at, "callback": callback.at,
           "callback_type": (callback.json or {}).get("type")}
    if followup:
        reply = await ix.followup(within=within)
        out.update(followup=reply.at, files=len(reply.files))
    return out


async def _serve() -> None:
    from aiohttp import web

    fake = await FakeDiscord(validate=False).start()

    async def ready(request: web.Request) -> web.Response:
        await fake.wait_ready(60)
        return web.json_response({"ok": True})

    async def run(request: web.Request) -> web.Response:
        body = await request.json()
        within = float(body.get("within", 600))
        handles = await asyncio.gather(*(fake.interact(name, options, user_id=P.snowflake())
                                         for name, options in body["requests"]))
        results = await asyncio.gather(*(_one(fake, ix, bool(body.get("followup", True)),
                                              within) for ix in handles))
        fake.requests.clear()  # keep the recorder small over a long run
        return web.json_response({"results": results})

    control = web.Application(client_max_size=16 * 1024 * 1024)
    control.router.add_post("/ready", ready)
    control.router.add_post("/run", run)
    runner = web.AppRunner(control, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert site._server is not None and site._server.sockets
    control_port = site._server.sockets[0].getsockname()[1]
    print(f"PORTS {fake.port} {control_port}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()
    await fake.close()


@dataclass
class Reply:
    """One request's stamps (seconds on the fake's clock)."""

    sent: float
    callback: float
    callback_type: int | None
    followup: float | None = None
    files: int = 0

    @property
    def ack_s(self) -> float:
        return self.callback - self.sent

    @property
    def reply_s(self) -> float:
        assert self.followup is not None
        return self.followup - self.sent


class FakeProcess:
    """The parent side: start the child, point discord.py at it, send it requests."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0
        self.control = 0
        self._saved: tuple[str, yarl.URL] | None = None
        self._session: Any = None

    async def start(self) -> FakeProcess:
        import aiohttp

        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.discord_proc", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE)
        assert self.proc.stdout is not None
        line = (await asyncio.wait_for(self.proc.stdout.readline(), 60)).decode().split()
        if not line or line[0] != "PORTS":
            raise RuntimeError(f"the fake Discord did not start: {line!r}")
        self.port, self.control = int(line[1]), int(line[2])
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1200))
        return self

    def install(self) -> None:
        """Point discord.py's REST base and gateway at the child (undo: :meth:`uninstall`)."""
        if self._saved is None:
            self._saved = (discord.http.Route.BASE,
                           discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = f"http://127.0.0.1:{self.port}/api/v10"
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
            f"ws://127.0.0.1:{self.port}/gateway")

    def uninstall(self) -> None:
        if self._saved is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = \
                self._saved
            self._saved = None

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        url = f"http://127.0.0.1:{self.control}{path}"
        async with self._session.post(url, data=json.dumps(body),
                                      headers={"Content-Type": "application/json"}) as resp:
            resp.raise_for_status()
            return await resp.json()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def wait_ready(self) -> None:
        await self._post("/ready", {})

    async def run(self, requests: list[tuple[str, dict[str, Any] | None]], *,
                  followup: bool = True) -> list[Reply]:
        """Dispatch every request at once; their stamps, in order."""
        data = await self._post("/run", {"requests": [[n, o] for n, o in requests],
                                         "followup": followup})
        return [Reply(**r) for r in data["results"]]

    async def stop(self) -> None:
        self.uninstall()
        if self._session is not None:
            await self._session.close()
        if self.proc is not None and self.proc.returncode is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


if __name__ == "__main__":
    asyncio.run(_serve())
