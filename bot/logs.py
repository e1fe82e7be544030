"""Logging, set up once: level from config, noisy libraries quieted to warnings.

yfinance is silenced altogether below DEBUG: its cookie/crumb, "possibly delisted" and "N Failed
downloads" messages repeat, per symbol, what :mod:`bot.market_data.yahoo` reads from the HTTP
answers itself and reports once, in its own words. At DEBUG its warnings show again.

The bot process logs to stdout (container logs). One-shot CLI commands log to stderr so that
their stdout (text tables, ``--json``) stays clean for pipes.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

QUIET = ("discord", "discord.http", "discord.gateway", "matplotlib", "apscheduler",
         "urllib3", "peewee", "asyncio")
#: Loggers that never reach the console below DEBUG (see the module doc).
SILENCED = ("yfinance",)
OFF = logging.CRITICAL + 10


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """Writes to whatever ``sys.stdout`` (or ``sys.stderr``) is *now*; test runners swap them."""

    def __init__(self, to_stderr: bool = False) -> None:
        self.to_stderr = to_stderr
        super().__init__(self._target())

    def _target(self) -> TextIO:
        return sys.stderr if self.to_stderr else sys.stdout

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = self._target()
        super().emit(record)


def setup_logging(level: str = "INFO", *, to_stderr: bool = False) -> None:
    """Idempotent: one handler on the root logger however often it is called (the last call
    chooses stdout or stderr)."""
    root = logging.getLogger()
    root.setLevel(level)
    handler = next((h for h in root.handlers if isinstance(h, _StdoutHandler)), None)
    if handler is None:
        handler = _StdoutHandler(to_stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        root.addHandler(handler)
    handler.to_stderr = to_stderr
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in SILENCED:
        logging.getLogger(name).setLevel(logging.WARNING if root.level <= logging.DEBUG else OFF)
