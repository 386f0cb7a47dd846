"""The `store` fixture: every repository test runs on both engines.

"sqlite" is a private in-memory database. "postgresql" is a fresh schema on the
test server (CONVENE_TEST_POSTGRES, default the local `test` database), reached
through `search_path` so each test sees an empty, freshly migrated convene, and
dropped afterwards. Without a reachable server those cases skip with the reason;
CONVENE_REQUIRE_POSTGRES=1 (CI, where PostgreSQL always runs) makes that a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

import pytest

from storage.engine import PostgresStore, Store, open_store

ADMIN_URL = os.environ.get("CONVENE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
ENGINES = ("sqlite", "postgresql")


def _unavailable(reason: str) -> None:
    if os.environ.get("CONVENE_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required (CONVENE_REQUIRE_POSTGRES=1) but {reason}")
    pytest.skip(f"PostgreSQL not reachable at {ADMIN_URL}: {reason}")


def schema_url(schema: str) -> str:
    """ADMIN_URL with every connection's search_path set to `schema`."""
    joiner = "&" if "?" in ADMIN_URL else "?"
    return f"{ADMIN_URL}{joiner}options={quote(f'-c search_path={schema}')}"


@asynccontextmanager
async def fresh_schema() -> AsyncIterator[str]:
    """A new, empty schema for one test; its URL. Dropped afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        admin = await psycopg.AsyncConnection.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        _unavailable(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        raise  # not reached: skip or fail raised
    async with admin:
        await admin.execute(f"CREATE SCHEMA {schema}")
        try:
            yield schema_url(schema)
        finally:
            await admin.execute(f"DROP SCHEMA {schema} CASCADE")


@asynccontextmanager
async def postgres_store(url: str, **pool: int) -> AsyncIterator[PostgresStore]:
    """An opened (so migrated) PostgresStore on `url`; closed afterwards."""
    store = PostgresStore(url, **pool)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """The URL of a fresh, not yet migrated schema (for tests that open stores themselves)."""
    async with fresh_schema() as url:
        yield url


@pytest.fixture(params=ENGINES)
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """A migrated, empty convene database on each engine."""
    if request.param == "sqlite":
        made = open_store(None)
        try:
            yield made
        finally:
            await made.close()
        return
    async with fresh_schema() as url, postgres_store(url, min_size=1, max_size=4) as made:
        yield made
