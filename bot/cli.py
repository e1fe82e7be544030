"""``python -m bot <command>``: one argparse tree; each command lives in ``bot/subcommands/``.

Every command accepts ``--config FILE`` and ``--data-dir DIR`` (replay from a CSV directory with
no network). Exit status: 0 ok; 2 bad input (a :class:`~bot.errors.BadInput` or other
user-facing error, a config error, or an argparse usage error); 3 data unavailable (a
:class:`~bot.errors.DataUnavailable`). Each ends with one line on stderr; nothing else is
caught here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.errors import DataUnavailable, UserFacingError
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
    "bot.subcommands.chart",
    "bot.subcommands.alerts",
)

#: Exit statuses (documented in the README).
EXIT_OK, EXIT_BAD_INPUT, EXIT_DATA_UNAVAILABLE = 0, 2, 3

DESCRIPTION = """\
capbrief: are small caps (Russell 2000) or large caps (S&P 500) leading, why,
and what history says next. Runs the Discord bot, or answers the same
questions in the terminal."""
EPILOG = """\
examples:
  python -m bot run                       start the bot (DISCORD_TOKEN set) or write a preview
  python -m bot status                    who leads now
  python -m bot status --asof 2024-12-02  ... as of a past session
  python -m bot chart ^RUT ^GSPC --kind ratio --out ratio.png
  python -m bot history breakouts         what followed past Russell 2000 breakouts
  python -m bot alerts --from 2024-01-01  every alert that would have fired since then
  python -m bot status --data-dir DIR     replay from CSV files in DIR (no network)

Run `python -m bot COMMAND --help` for a command's options and examples.
exit status: 0 ok, 2 bad input, 3 data unavailable.
"""


#: Examples shown under each command's ``--help`` (commands that set their own epilog keep it).
EXAMPLES: dict[str, str] = {
    "status": """\
examples:
  python -m bot status                          who leads now (Yahoo, cached)
  python -m bot status --asof 2024-12-02        as of a past session, no look-ahead
  python -m bot status --json                   the same numbers as JSON
  python -m bot status --data-dir DIR           replay from CSV files in DIR""",
    "briefing": """\
examples:
  python -m bot briefing                        this morning's post, as text
  python -m bot briefing --asof 2025-09-18 --out preview/
                                                also write briefing.html and its charts""",
    "history": """\
examples:
  python -m bot history breakouts               what followed past Russell 2000 breakouts
  python -m bot history breakouts --gap-days 730 --horizons 21,63,252
  python -m bot history droughts --index ^GSPC  the longest runs without a record
  python -m bot history cycles --asof 2020-12-31 --json
  python -m bot history analogs --asof 2024-12-02  the 10 past sessions most like it""",
    "drivers": """\
examples:
  python -m bot drivers                         rates, credit, dollar, VIX, rotation, economy
  python -m bot drivers --asof 2025-09-18 --fred-dir DIR/fred""",
    "charts": """\
examples:
  python -m bot charts --out gallery/           every chart family, plus gallery/index.html
  python -m bot charts --out gallery/ --asof 2025-09-18 --theme light""",
    "data": """\
examples:
  python -m bot data refresh                    fetch what is missing into the cache
  python -m bot data show ^RUT --tail 5         the last five bars as stored""",
    "alerts": """\
examples:
  python -m bot alerts --from 2024-01-01        every alert since 2024, session by session
  python -m bot alerts --from 2025-09-01 --to 2025-09-30 --json
                                                the same as JSON (docs/schema/alerts.schema.json)
""",
    "run": """\
examples:
  python -m bot run                             with DISCORD_TOKEN set: start the bot
  python -m bot run --out preview/              without a token: write the preview there
  python -m bot run --data-dir DIR              replay from CSV files in DIR""",
}


def add_examples(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Put :data:`EXAMPLES` under each registered command's help."""
    for name, parser in sub.choices.items():
        if name in EXAMPLES and parser.epilog is None:
            parser.epilog = EXAMPLES[name]
            parser.formatter_class = argparse.RawDescriptionHelpFormatter


def version() -> str:
    """The installed capbrief version (``unknown`` when run from a bare source tree)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("capbrief")
    except PackageNotFoundError:
        return "unknown"


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
    parser = argparse.ArgumentParser(prog="python -m bot", description=DESCRIPTION,
                                     epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"capbrief {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parents = [common_options()]
    only = chosen_module(argv) if argv is not None else None
    for name in SUBCOMMANDS:
        if only is None or name == only:
            importlib.import_module(name).register(sub, parents)
    add_examples(sub)
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
    except DataUnavailable as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_DATA_UNAVAILABLE
    except UserFacingError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
