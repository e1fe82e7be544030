"""Logging, set up once: level from config, noisy libraries quieted to warnings.

The bot process logs to stdout (container logs). One-shot CLI commands log to stderr so that
their stdout (text tables, ``--json``) stays clean for pipes.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

QUIET = ("discord", "discord.http", "discord.gateway", "yfinance", "matplotlib", "apscheduler",
         "urllib3", "peewee", "asyncio")


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
