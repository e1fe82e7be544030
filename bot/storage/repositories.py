"""All SQL lives in the stores of its domain; repositories are synchronous and async callers run
them in a thread.

The bar cache's tables and :class:`BarRepository` live in :mod:`bot.storage.bars` and are
re-exported here under their old names. The briefing's subscriptions and deliveries live in
:mod:`bot.briefing.store` (a storage module may not import the briefing, which sits above it).
Timestamps are stored as UTC and always returned tz-aware.
"""

from __future__ import annotations

from bot.storage.bars import (
    BarRepository,
    SymbolState,
    bar_blocks_table,
    bars_table,
    fetch_state_table,
)
from bot.storage.sql import metadata, upsert

__all__ = ["BarRepository", "SymbolState", "bar_blocks_table", "bars_table",
           "fetch_state_table", "metadata", "upsert"]
