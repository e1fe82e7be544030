"""Start-up cost of the command line: a command imports only its own module, and replaying CSVs
(``status --asof ... --data-dir``) never loads discord, SQLAlchemy, aiohttp, exchange_calendars,
statsmodels, scipy, yfinance or Matplotlib. Checked in a fresh interpreter (the test process has
them all loaded)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.cli import SUBCOMMANDS, chosen_module
from tests.test_cli_status import csv_dir as csv_dir

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("discord", "sqlalchemy", "aiohttp", "exchange_calendars", "yfinance", "matplotlib",
         "apscheduler", "statsmodels", "scipy")


def run_and_list_modules(*argv: str) -> tuple[int, list[str], list[str]]:
    """Run ``python -m bot *argv`` in a fresh interpreter: exit code, the heavy packages and the
    subcommand modules it imported."""
    code = ("import json, runpy, sys\n"
            f"sys.argv = ['bot', *{list(argv)!r}]\n"
            "try:\n"
            "    runpy.run_module('bot', run_name='__main__')\n"
            "except SystemExit as exc:\n"
            "    status = exc.code or 0\n"
            f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
            "subs = sorted(m for m in sys.modules if m.startswith('bot.subcommands.'))\n"
            "print('\\nMODULES ' + json.dumps([status, heavy, subs]))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          check=True)
    status, heavy, subs = json.loads(done.stdout.rsplit("MODULES ", 1)[1])
    return int(status), heavy, subs


def test_status_replay_imports_no_discord_sqlalchemy_or_aiohttp(csv_dir: Path) -> None:
    status, heavy, subs = run_and_list_modules("status", "--asof", "2020-12-01",
                                               "--data-dir", str(csv_dir))
    assert status == 0
    assert heavy == [], f"status replay imported {heavy}"
    assert subs == ["bot.subcommands.status"]


def test_the_check_sees_heavy_imports_when_they_happen(csv_dir: Path) -> None:
    """The same probe on a command that does need the cache reports SQLAlchemy (so an empty
    list above means something)."""
    _, heavy, subs = run_and_list_modules("data", "show", "SPY", "--data-dir", str(csv_dir))
    assert "sqlalchemy" in heavy and subs == ["bot.subcommands.data"]


def test_chosen_module_follows_the_first_positional_word() -> None:
    assert chosen_module(["status", "--asof", "2024-12-02"]) == "bot.subcommands.status"
    assert chosen_module(["--help"]) is None
    assert chosen_module(["nonsense"]) is None
    assert all(chosen_module([m.rsplit(".", 1)[-1]]) == m for m in SUBCOMMANDS)
