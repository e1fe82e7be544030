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


def test_yfinance_warnings_never_reach_the_console_below_debug(
        capsys: pytest.CaptureFixture[str]) -> None:
    """yfinance's own cookie/crumb and failed-download messages are noise we report ourselves."""
    yf_log = logging.getLogger("yfinance")
    for level in ("INFO", "WARNING"):
        setup_logging(level)
        yf_log.warning("Cookie/crumb fetch failed (DNSError), continuing without crumb")
        yf_log.error("\n27 Failed downloads:")
        logging.getLogger("bot.market_data.yahoo").warning("ours still %s", "shows")
        out = capsys.readouterr().out
        assert "crumb" not in out and "Failed downloads" not in out
        assert "ours still shows" in out
    setup_logging("DEBUG")  # a developer debugging yfinance sees it again
    yf_log.warning("Cookie/crumb fetch failed")
    assert "Cookie/crumb fetch failed" in capsys.readouterr().out
