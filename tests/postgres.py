"""PostgreSQL for the storage tests: runs only when ``CAPBRIEF_TEST_POSTGRES_URL`` is set
(``.ci/run`` starts a throwaway server and sets it; e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``). Each test gets a fresh schema that is
dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from bot.storage.db import create_engine

# Read at import: the autouse fixture in tests/conftest.py clears CAPBRIEF_* before each test.
PG_URL = os.environ.get("CAPBRIEF_TEST_POSTGRES_URL")
needs_postgres = pytest.mark.skipif(
    not PG_URL, reason="set CAPBRIEF_TEST_POSTGRES_URL to run the storage tests on PostgreSQL")


@contextmanager
def schema_engine(prefix: str) -> Iterator[Engine]:
    """An engine whose ``search_path`` is a new schema ``<prefix>_<random>``, dropped on exit."""
    assert PG_URL is not None
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    eng = create_engine(url.render_as_string(hide_password=False))
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
