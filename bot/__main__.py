"""`python -m bot ...` → :func:`bot.cli.main`."""

from bot.cli import main

raise SystemExit(main())
