"""One async interface over both engines: SQLite (embedded) and PostgreSQL (replicas).

Every repository function in `storage/` takes a `Store` and awaits it, so the
same query text serves both engines. What differs lives here and only here:

- placeholders: queries are written with `?`; the PostgreSQL store rewrites them
  to psycopg's `%s` once per query text;
- index hints: `store.index_hint(name)` is SQLite's `INDEXED BY name` and nothing
  on PostgreSQL, whose planner needs no hint;
- transactions: SQLite takes the write lock up front (BEGIN IMMEDIATE, see
  storage.db) and serialises this process's transactions with an asyncio lock;
  PostgreSQL runs each transaction on its own pooled connection.

Upserts are written `INSERT … ON CONFLICT … DO NOTHING/UPDATE`, which both
engines read the same way. Instants are fixed-width UTC text on both
(`storage.db.to_text`), so rows look alike and order alike everywhere.

SQLite calls run on the event loop: they are local and bounded by the short
busy timeout (storage.db). PostgreSQL calls go over the network, so they use
psycopg's async pool and never block the loop.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import lru_cache
from typing import Any, ClassVar

from storage.db import DatabaseError, StorageBusy, busy_error, is_busy

log = logging.getLogger(__name__)

Row = dict[str, Any]
Params = Sequence[Any]

POSTGRES_PREFIXES = ("postgresql://", "postgres://")


def is_postgres_url(target: str | None) -> bool:
    return bool(target) and str(target).startswith(POSTGRES_PREFIXES)


class Store(ABC):
    """A database: run a query, read rows, or do several things in one transaction."""

    dialect: ClassVar[str]

    @abstractmethod
    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row, as dicts keyed by column name."""

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def value(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        row = await self.one(sql, params)
        return None if row is None else next(iter(row.values()))

    @abstractmethod
    async def run(self, sql: str, params: Params = ()) -> int:
        """Run a write; the number of rows it changed."""

    @abstractmethod
    async def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        """The same write for many parameter rows."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Store]:
        """`async with store.transaction() as tx:` — everything on `tx` commits
        together or not at all. Inside, use `tx`, never the store itself."""

    def index_hint(self, index: str) -> str:
        return ""

    async def open(self) -> None:  # noqa: B027 (a no-op unless the engine connects)
        """Connect and migrate (the SQLite store is ready when built)."""

    async def close(self) -> None:  # noqa: B027
        """Release connections."""

    @abstractmethod
    async def pending_migrations(self) -> list[str]:
        """Names of migrations this code knows and the database lacks (readiness)."""


# --- SQLite -------------------------------------------------------------------------


class SqliteStore(Store):
    """The embedded engine: one connection, used from the event loop."""

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection, label: str) -> None:
        conn.isolation_level = None  # autocommit; transactions are explicit
        self.conn = conn
        self.label = label
        self._lock = asyncio.Lock()  # one transaction at a time on the one connection

    def index_hint(self, index: str) -> str:
        return f" INDEXED BY {index}"

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._lock:
            return _sqlite_rows(self.conn, sql, params)

    async def run(self, sql: str, params: Params = ()) -> int:
        async with self._lock:
            return _sqlite_run(self.conn, sql, params)

    async def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.transaction() as tx:
            await tx.run_many(sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Store]:
        async with self._lock:
            conn = self.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise busy_error(exc) from exc
            try:
                yield _SqliteTransaction(conn)
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError) and is_busy(exc):
                    raise busy_error(exc) from exc
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise busy_error(exc) from exc

    async def close(self) -> None:
        self.conn.close()

    async def pending_migrations(self) -> list[str]:
        from sqlite_utils import Database

        from storage.migrations import MIGRATIONS

        async with self._lock:
            return [m.name for m in MIGRATIONS.pending(Database(self.conn))]


class _SqliteTransaction(Store):
    """The store seen from inside one SQLite transaction (the lock is held)."""

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def index_hint(self, index: str) -> str:
        return f" INDEXED BY {index}"

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        return _sqlite_rows(self.conn, sql, params)

    async def run(self, sql: str, params: Params = ()) -> int:
        return _sqlite_run(self.conn, sql, params)

    async def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        try:
            self.conn.executemany(sql, rows)
        except sqlite3.OperationalError as exc:
            raise _sqlite_error(exc) from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Store]:
        yield self  # already inside one

    async def pending_migrations(self) -> list[str]:
        raise NotImplementedError("ask the store, not a transaction")


def _sqlite_rows(conn: sqlite3.Connection, sql: str, params: Params) -> list[Row]:
    try:
        cursor = conn.execute(sql, params)
    except sqlite3.OperationalError as exc:
        raise _sqlite_error(exc) from exc
    names = [column[0] for column in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _sqlite_run(conn: sqlite3.Connection, sql: str, params: Params) -> int:
    try:
        return int(conn.execute(sql, params).rowcount)
    except sqlite3.OperationalError as exc:
        raise _sqlite_error(exc) from exc


def _sqlite_error(exc: sqlite3.OperationalError) -> Exception:
    return busy_error(exc) if is_busy(exc) else exc


# --- PostgreSQL -----------------------------------------------------------------------


@lru_cache(maxsize=512)
def postgres_sql(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (and a literal `%` doubled)."""
    return re.sub(r"\?", "%s", sql.replace("%", "%%"))


class _DropAll(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


class PostgresStore(Store):
    """Several replicas on one PostgreSQL: psycopg's async pool, autocommit outside
    transactions, dict rows."""

    dialect = "postgresql"

    def __init__(
        self, url: str, *, min_size: int = 1, max_size: int = 10, open_timeout: float = 10
    ) -> None:
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        self.url = url
        self.open_timeout = open_timeout
        self.pool = AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            kwargs={"autocommit": True, "row_factory": dict_row},
            name="convene",
        )

    async def open(self) -> None:
        from storage.pg_migrations import migrate

        pool_log = logging.getLogger("psycopg.pool")
        quiet = _DropAll()  # each failed attempt would log; the one sentence below says it
        pool_log.addFilter(quiet)
        try:
            await self.pool.open(wait=True, timeout=self.open_timeout)
        except Exception as exc:
            await self.pool.close()  # else its workers keep trying in the background
            raise DatabaseError(
                f"convene cannot reach PostgreSQL at {_safe_url(self.url)}: {_first_line(exc)}; "
                "check CONVENE_DB and that the server is running."
            ) from exc
        finally:
            pool_log.removeFilter(quiet)
        await migrate(self)

    async def close(self) -> None:
        await self.pool.close()

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._connection() as conn:
            return await _pg_rows(conn, sql, params)

    async def run(self, sql: str, params: Params = ()) -> int:
        async with self._connection() as conn:
            return await _pg_run(conn, sql, params)

    async def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.transaction() as tx:
            await tx.run_many(sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Store]:
        async with self._connection() as conn:
            try:
                async with conn.transaction():
                    yield _PostgresTransaction(conn)
            except _transient_errors() as exc:
                raise _pg_busy(exc) from exc

    async def pending_migrations(self) -> list[str]:
        from storage.pg_migrations import pending

        return await pending(self)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        from psycopg_pool import PoolTimeout

        try:
            async with self.pool.connection(timeout=5) as conn:
                yield conn
        except (PoolTimeout, *_transient_errors()) as exc:  # type: ignore[misc]
            raise _pg_busy(exc) from exc


class _PostgresTransaction(Store):
    dialect = "postgresql"

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        return await _pg_rows(self.conn, sql, params)

    async def run(self, sql: str, params: Params = ()) -> int:
        return await _pg_run(self.conn, sql, params)

    async def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.conn.cursor() as cursor:
            await cursor.executemany(postgres_sql(sql), list(rows))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Store]:
        yield self

    async def pending_migrations(self) -> list[str]:
        raise NotImplementedError("ask the store, not a transaction")


async def _pg_rows(conn: Any, sql: str, params: Params) -> list[Row]:
    cursor = await conn.execute(postgres_sql(sql), list(params))
    if cursor.description is None:
        return []
    return list(await cursor.fetchall())


async def _pg_run(conn: Any, sql: str, params: Params) -> int:
    cursor = await conn.execute(postgres_sql(sql), list(params))
    return int(cursor.rowcount)


def _transient_errors() -> tuple[type[Exception], ...]:
    """Failures that leave nothing written and may pass: a lost connection, a
    serialisation conflict or deadlock (PostgreSQL rolled the transaction back)."""
    from psycopg import OperationalError, errors

    return (OperationalError, errors.SerializationFailure, errors.DeadlockDetected)


def _pg_busy(exc: Exception) -> StorageBusy:
    log.warning("PostgreSQL: %s", _first_line(exc))
    return StorageBusy(
        "convene's database is unreachable or busy right now, so nothing was saved; "
        "try again in a moment."
    )


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    url = re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", url)


# --- opening --------------------------------------------------------------------------


def open_store(target: str | None) -> Store:
    """The store `CONVENE_DB` names: a `postgresql://` URL, else an SQLite path
    (`None`: a private in-memory SQLite, for tests). SQLite is opened and migrated
    now; PostgreSQL connects when `await store.open()` runs on the loop."""
    if is_postgres_url(target):
        return PostgresStore(str(target))
    from storage.db import open_database

    db = open_database(target)
    label = str(target) if target is not None else ":memory:"
    return SqliteStore(db.conn, label)
