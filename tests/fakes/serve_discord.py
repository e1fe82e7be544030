"""The fake Discord in a process of its own (for the fan-out benchmark: its CPU and memory are
then not the bot's).

``python -m tests.fakes.serve_discord [--validate]`` prints ``PORT <n>`` once listening, serves
until its stdin closes, then prints one JSON line of what it saw: messages posted, 429s answered
(global and per route), the most requests it accepted in any one second, and the distinct
channels posted to. Discord's 50 requests/s global limit is enforced.
"""

from __future__ import annotations

import asyncio
import json
import sys

from tests.fakes.discord_api import FakeDiscord


async def main(validate: bool) -> None:
    fake = await FakeDiscord(validate=validate).start()
    print(f"PORT {fake.port}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    posts = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")]
    stats = {
        "posted": sum(len(v) for v in fake.channel_messages.values()),
        "channels": len(fake.channel_messages),
        "requests": len(fake.requests),
        "throttled_429": sum(1 for r in fake.requests if r.status == 429),
        "post_429": sum(1 for r in posts if r.status == 429),
        "peak_per_second": fake.global_limit.peak,
        "violations": len(fake.violations),
    }
    await fake.close()
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    asyncio.run(main("--validate" in sys.argv[1:]))
