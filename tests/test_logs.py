"""Logging is installed once, writes to the current stdout, and quiets library loggers."""

from __future__ import annotations

import logging

import pytest

from bot.logs import QUIET, setup_logging


def test_setup_is_idempotent_and_quiets_libraries(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO")
    setup_logging("DEBUG")
    root = logging.getLogger()
    ours = [h for h in root.handlers if type(h).__name__ == "_StdoutHandler"]
    assert len(ours) == 1
    assert root.level == logging.DEBUG
    assert all(logging.getLogger(name).level == logging.WARNING for name in QUIET)
    logging.getLogger("capbrief.test").info("hello %s", "there")
    assert "capbrief.test: hello there" in capsys.readouterr().out
    root.removeHandler(ours[0])


def test_cli_commands_can_log_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", to_stderr=True)
    logging.getLogger("capbrief.test").warning("to stderr")
    captured = capsys.readouterr()
    assert "to stderr" in captured.err and "to stderr" not in captured.out
    setup_logging("INFO")
    logging.getLogger("capbrief.test").warning("to stdout")
    assert "to stdout" in capsys.readouterr().out
