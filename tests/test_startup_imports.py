"""Start-up cost of the bot: building the services and loading the command cogs imports no
pandas, NumPy, SQLAlchemy, exchange_calendars, APScheduler, Matplotlib or yfinance (the commands
import them on first use). Checked in a fresh interpreter (the test process has them all
loaded); a second probe answers a command, so an empty list is not the probe's blindness."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "numpy", "sqlalchemy", "exchange_calendars", "apscheduler", "matplotlib",
         "yfinance")
#: Every extension (bot/client.py EXTENSIONS): the briefing's and the alerts' services (database,
#: APScheduler, the NYSE calendar) are built after READY or on first use, not when loaded.
LIGHT_COGS = ("cogs.status", "cogs.history", "cogs.drivers", "cogs.chart", "cogs.about",
              "cogs.briefing", "cogs.alerts")


def heavy_after(data_dir: Path, *, snapshot: bool) -> list[str]:
    """Build the bot and its services for a CSV replay of ``data_dir``, start them as
    ``setup_hook`` does and load ``LIGHT_COGS`` (``snapshot``: then read a market snapshot) in a
    fresh interpreter; the heavy packages it imported."""
    code = f"""
import asyncio, json, sys
from pathlib import Path
from bot.client import CapbriefBot
from bot.services import Services
from bot.settings import Settings

async def main():
    settings = Settings(data={{"provider": "csv", "csv_dir": {str(data_dir)!r}}})
    services = Services.build(settings, Path({str(data_dir)!r}), pool_size=1)
    bot = CapbriefBot(settings, services=services, extensions={LIGHT_COGS!r})
    await services.start(warm_later=True)
    for name in bot.extension_names:
        await bot.load_extension(name)
    services.start_background()  # as at the end of setup_hook: the background checks begin
    await asyncio.sleep(0.2)
    assert {{c.name for c in bot.tree.get_commands()}} >= {{"status", "chart", "about",
                                                        "briefing", "alerts"}}
    if {snapshot!r}:
        await services.market.snapshot(["^GSPC"])
    print("\\nMODULES " + json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))

asyncio.run(main())
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          check=True)
    return list(json.loads(done.stdout.rsplit("MODULES ", 1)[1]))


def test_loading_the_cogs_imports_no_pandas_sqlalchemy_or_scheduler(market_dir: Path) -> None:
    heavy = heavy_after(market_dir, snapshot=False)
    assert heavy == [], f"start-up imported {heavy}"


def test_every_extension_is_checked() -> None:
    from bot.client import EXTENSIONS

    assert set(LIGHT_COGS) == set(EXTENSIONS)


def test_the_probe_sees_pandas_once_a_snapshot_is_read(market_dir: Path) -> None:
    assert "pandas" in heavy_after(market_dir, snapshot=True)
