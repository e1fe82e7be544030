"""``python -m bot <command>``: one argparse tree; each command lives in ``bot/subcommands/``.

Every command accepts ``--config FILE`` and ``--data-dir DIR`` (replay from a CSV directory with
no network). A :class:`~bot.errors.UserFacingError` or a config error ends the command with one
line on stderr and exit status 2; nothing else is caught here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.errors import UserFacingError
from bot.logs import setup_logging
from bot.settings import ConfigError, load_settings

#: Subcommand modules; each has ``register(subparsers, parents)``, adding a parser whose
#: ``handler(args, settings) -> int`` is set with ``set_defaults``.
SUBCOMMANDS: tuple[str, ...] = (
    "bot.subcommands.status",
    "bot.subcommands.briefing",
    "bot.subcommands.history",
    "bot.subcommands.drivers",
    "bot.subcommands.charts",
    "bot.subcommands.data",
    "bot.subcommands.run",
)


def common_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--config", type=Path, help="TOML config (default: ./config.toml)")
    parent.add_argument(
        "--data-dir", type=Path, help="replay from this CSV directory instead of Yahoo (no network)"
    )
    return parent


def chosen_module(argv: Sequence[str]) -> str | None:
    """The subcommand module named by the first positional word of ``argv`` (the module's last
    dotted part is its command), or None (help, a typo): then every module is loaded."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return next((m for m in SUBCOMMANDS if m.rsplit(".", 1)[-1] == word), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argparse tree; given ``argv``, only the module of the command it names is imported
    (so ``status`` replaying CSVs never loads discord, SQLAlchemy or aiohttp)."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parents = [common_options()]
    only = chosen_module(argv) if argv is not None else None
    for name in SUBCOMMANDS:
        if only is None or name == only:
            importlib.import_module(name).register(sub, parents)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    # The long-running bot logs to stdout; one-shot commands keep stdout for their output.
    setup_logging(settings.logging.level, to_stderr=args.command != "run")
    try:
        return int(args.handler(args, settings))
    except UserFacingError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
