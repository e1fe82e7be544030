"""Logging, set up once: stdout, level from config, noisy libraries quieted to warnings."""

from __future__ import annotations

import logging
import sys

QUIET = ("discord", "discord.http", "discord.gateway", "yfinance", "matplotlib", "apscheduler",
         "urllib3", "peewee", "asyncio")
_configured = False


def setup_logging(level: str = "INFO") -> None:
    """Idempotent: the first call installs the handler; later calls only change the level."""
    global _configured
    root = logging.getLogger()
    root.setLevel(level)
    if not _configured:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        root.addHandler(handler)
        _configured = True
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
