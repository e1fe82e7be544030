"""Logging, set up once: stdout, level from config, noisy libraries quieted to warnings."""

from __future__ import annotations

import logging
import sys

QUIET = ("discord", "discord.http", "discord.gateway", "yfinance", "matplotlib", "apscheduler",
         "urllib3", "peewee", "asyncio")


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """Writes to whatever ``sys.stdout`` is *now* (test runners swap it between tests)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


def setup_logging(level: str = "INFO") -> None:
    """Idempotent: one stdout handler on the root logger however often it is called."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(isinstance(h, _StdoutHandler) for h in root.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        root.addHandler(handler)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
