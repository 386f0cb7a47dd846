"""Both engines behave alike, and PostgreSQL holds up with several replicas.

Replicas are separate `PostgresStore`s (each its own pool) on one schema. Instants
come from tests/moments.py, never from the machine's clock.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation

from storage import deliveries, people, platform_state, workspaces
from storage import feedback as feedback_rows
from storage import meetings as meeting_rows
from storage import series as series_rows
from storage.copy import TABLES, copy_sqlite
from storage.db import DatabaseError, to_text
from storage.deliveries import ClaimResult, Kind
from storage.engine import PostgresStore, SqliteStore, Store, open_store
from storage.pg_migrations import MIGRATIONS as PG_MIGRATIONS
from storage.pg_migrations import pending
from storage.slack_installs import StoreInstallationStore
from tests.moments import next_monday_at
from tests.records import BOX, a_meeting, a_series
from tests.stores import postgres_store


async def test_two_replicas_claim_each_firing_exactly_once(pg_url: str) -> None:
    now = next_monday_at(9)
    subjects = [f"m{i}" for i in range(200)]
    async with postgres_store(pg_url, max_size=8) as one, postgres_store(pg_url, max_size=8) as two:

        async def race(subject: str) -> list[ClaimResult]:
            return list(
                await asyncio.gather(
                    deliveries.claim(one, subject, Kind.REMINDER, now, "one"),
                    deliveries.claim(two, subject, Kind.REMINDER, now, "two"),
                )
            )

        results = await asyncio.gather(*(race(subject) for subject in subjects))
        assert all(sorted(map(bool, pair)) == [False, True] for pair in results)
        assert {r for pair in results for r in pair} == {ClaimResult.WON, ClaimResult.LOST}
        owners = await one.all(
            "SELECT claimed_by, COUNT(*) AS n FROM deliveries GROUP BY claimed_by"
        )
        assert sum(row["n"] for row in owners) == 200
        assert {row["claimed_by"] for row in owners} <= {"one", "two"}


async def test_a_dead_replicas_claim_is_taken_over_after_the_lease(pg_url: str) -> None:
    now = next_monday_at(9)
    async with postgres_store(pg_url) as one, postgres_store(pg_url) as two:
        assert await deliveries.claim(one, "m1", Kind.START, now, "one")
        # "one" renews while it works: "two" cannot take it
        await deliveries.renew(one, "m1", Kind.START, now + deliveries.LEASE / 2, "one")
        assert not await deliveries.claim(two, "m1", Kind.START, now + deliveries.LEASE, "two")
        # then "one" dies: a lease after its last renewal, "two" takes over
        stale = now + deliveries.LEASE / 2 + deliveries.LEASE
        assert await deliveries.claim(two, "m1", Kind.START, stale, "two") is ClaimResult.TAKEN_OVER
        assert not await deliveries.renew(one, "m1", Kind.START, stale, "one")  # no longer its
        assert await deliveries.release_owned(one, "one") == 0
        assert await deliveries.claim_owner(one, "m1", Kind.START) == "two"
        takeovers = await one.value("SELECT takeovers FROM deliveries WHERE subject = 'm1'")
        assert takeovers == 1


async def test_replicas_starting_together_migrate_once(pg_url: str) -> None:
    stores = [PostgresStore(pg_url, max_size=2) for _ in range(3)]
    try:
        await asyncio.gather(*(store.open() for store in stores))
        rows = await stores[0].all("SELECT name FROM convene_migrations ORDER BY name")
        assert [row["name"] for row in rows] == [name for name, _ in PG_MIGRATIONS]
        for store in stores:
            assert await store.pending_migrations() == []
    finally:
        for store in stores:
            await store.close()


async def test_a_new_postgres_database_has_every_migration_pending(pg_url: str) -> None:
    bare = PostgresStore(pg_url)
    await bare.pool.open(wait=True)
    try:
        assert await pending(bare) == [name for name, _ in PG_MIGRATIONS]
    finally:
        await bare.close()


async def _sqlite_schema(store: SqliteStore) -> tuple[dict[str, list[tuple[str, str]]], set[str]]:
    tables = {
        str(row["name"])
        for row in await store.all(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' AND name != '_sqlite_migrations'"
        )
    }
    columns = {
        table: [
            (str(c["name"]), str(c["type"]).upper())
            for c in await store.all("SELECT name, type FROM pragma_table_xinfo(?)", [table])
        ]
        for table in tables
    }
    indexes = {
        str(row["name"])
        for row in await store.all(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name != '_sqlite_migrations'"
        )
    }
    return columns, indexes


async def _postgres_schema(store: Store) -> tuple[dict[str, list[tuple[str, str]]], set[str]]:
    rows = await store.all(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name != 'convene_migrations' "
        "ORDER BY table_name, ordinal_position"
    )
    columns: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        columns.setdefault(row["table_name"], []).append(
            (row["column_name"], str(row["data_type"]).upper())
        )
    indexes = {
        str(row["indexname"])
        for row in await store.all(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexname NOT LIKE '%\\_pkey' ESCAPE '\\'"
        )
    }
    return columns, indexes


async def test_both_engines_have_the_same_schema(pg_url: str) -> None:
    sqlite = open_store(None)
    assert isinstance(sqlite, SqliteStore)
    async with postgres_store(pg_url) as postgres:
        sqlite_columns, sqlite_indexes = await _sqlite_schema(sqlite)
        postgres_columns, postgres_indexes = await _postgres_schema(postgres)
    await sqlite.close()
    assert postgres_columns == sqlite_columns
    assert postgres_indexes == sqlite_indexes
    assert set(sqlite_columns) == set(TABLES)  # and copy_sqlite knows every table


@pytest.mark.parametrize(
    ("start", "remind_s", "instant"),
    [
        ("2031-03-01T00:05:00Z", 600, 0),  # across a month end
        ("2032-03-01T00:00:00Z", 86400, 0),  # leap day
        ("2031-01-01T00:00:30Z", 45, 0),  # across a year end, seconds
        ("2031-06-15T12:00:00Z", 0, 0),  # no reminder
        ("2031-06-15T12:00:00Z", 600, 1),  # instant: none
    ],
)
async def test_remind_at_is_the_same_text_on_both_engines(
    pg_url: str, start: str, remind_s: int, instant: int
) -> None:
    insert = (
        "INSERT INTO meetings (id, platform, workspace_id, channel_id, organizer_id, title, "
        "start_at, end_at, provider, room_id, join_url, status, remind_s, instant, feedback, "
        "created_at) VALUES ('m1','slack','T1','C1','U1','t',?,?,'jitsi','r','u','scheduled',"
        "?,?,1,?)"
    )
    params = [start, start, remind_s, instant, start]
    sqlite = open_store(None)
    await sqlite.run(insert, params)
    expected = await sqlite.value("SELECT remind_at FROM meetings")
    await sqlite.close()
    async with postgres_store(pg_url) as postgres:
        async with postgres.transaction() as tx:  # the session's zone plays no part
            await tx.run("SET LOCAL TIME ZONE 'Pacific/Chatham'")
            await tx.run(insert, params)
        assert await postgres.value("SELECT remind_at FROM meetings") == expected
    assert (expected is None) == (remind_s == 0 or instant == 1)


async def test_sql_with_a_literal_percent_works_on_postgres(pg_url: str) -> None:
    async with postgres_store(pg_url) as store:
        await meeting_rows.insert_meeting(store, a_meeting(title="100% done"), BOX)
        rows = await store.all("SELECT title FROM meetings WHERE title LIKE '%\\%%' ESCAPE '\\'")
        assert [row["title"] for row in rows] == ["100% done"]
        assert await store.value("SELECT 'a%' || ? AS v", ["%b?"]) == "a%%b?"


async def test_an_unreachable_postgres_is_one_sentence_without_the_password() -> None:
    store = PostgresStore("postgresql://convene:hunter2@127.0.0.1:1/convene", open_timeout=1)
    with pytest.raises(DatabaseError) as caught:
        await store.open()
    text = str(caught.value)
    assert "hunter2" not in text and "\n" not in text
    assert "PostgreSQL" in text and "CONVENE_DB" in text
    query = PostgresStore("postgresql://127.0.0.1:1/convene?password=hunter2", open_timeout=1)
    with pytest.raises(DatabaseError) as caught:
        await query.open()
    assert "hunter2" not in str(caught.value)


async def _fill(store: Store) -> None:
    """One of everything, as a deployment would have it."""
    now = next_monday_at(9)
    series = a_series(now, skipped=frozenset({now.date().isoformat()}))
    await series_rows.insert_series(store, series)
    await series_rows.set_next_open(store, [("ser234", now + timedelta(hours=1))])
    for i in range(3):
        meeting = a_meeting(f"m{i}", series_id="ser234" if i else None)
        await meeting_rows.insert_meeting(store, meeting, BOX)
        await deliveries.claim(store, meeting.id, Kind.REMINDER, now, "one")
        await deliveries.mark_done(store, meeting.id, Kind.REMINDER, now)
        await feedback_rows.save_answer(store, meeting.id, "U2", i + 2, f"ok {i}", now)
        await feedback_rows.open_window(store, meeting.id, now, now + timedelta(days=1))
        await store.run(  # the attendance table of before m008, still copied
            "INSERT INTO attendance (meeting_id, participant, joined_at) VALUES (?, ?, ?)",
            [meeting.id, "Raj", to_text(now)],
        )
        await people.set_rsvp(store, meeting.id, "U3", "going", now)
        await people.add_private_reminder(store, meeting.id, "U4")
        await people.open_session(store, meeting.id, "U3", "Raj", now)
        await people.bump_sequence(store, meeting.id)
    await deliveries.claim(store, "m0", Kind.END, now, "one")  # unfinished: copied as is
    await people.set_series_rsvp(store, "ser234", "U3", "going", now)
    await people.feed_version(store, "slack", "T1", "U3")
    await workspaces.update_workspace(
        store, "slack", "T1", provider="whereby", mentions=False, default_length=timedelta(hours=1)
    )
    await workspaces.set_user_timezone(store, "slack", "T1", "U1", "Europe/Berlin")
    await platform_state.put(store, "discord", "tree", "hash%with?marks")
    installs = StoreInstallationStore(store, lambda: now)
    await installs.async_save(
        Installation(app_id="A1", team_id="T1", user_id="U1", bot_token="xoxb-1", bot_id="B1",
                     bot_user_id="UB", bot_scopes="commands,chat:write", installed_at=now)
    )  # fmt: skip


async def _rows(store: Store) -> dict[str, list[dict[str, object]]]:
    got: dict[str, list[dict[str, object]]] = {}
    for table in TABLES:
        rows = await store.all(f"SELECT * FROM {table}")  # noqa: S608 (table names)
        got[table] = sorted((dict(row) for row in rows), key=repr)
    return got


async def test_copy_sqlite_moves_a_deployment_without_loss(tmp_path: Path, pg_url: str) -> None:
    path = str(tmp_path / "convene.db")
    source = open_store(path)
    await _fill(source)
    before = await _rows(source)
    await source.close()
    async with postgres_store(pg_url) as target:
        counts = await copy_sqlite(path, target)
        assert counts == {table: len(rows) for table, rows in before.items()}
        assert counts["meetings"] == 3 and counts["slack_installs"] == 1
        assert await _rows(target) == before  # remind_at included: PostgreSQL computed the same
        host = await meeting_rows.host_link(target, "m1", BOX)  # sealed bytes copied as they were
        assert host is not None and host == a_meeting("m1").host_url
        bot = await StoreInstallationStore(target, lambda: next_monday_at(9)).async_find_bot(
            enterprise_id=None, team_id="T1"
        )
        assert bot is not None and bot.bot_token == "xoxb-1"
        with pytest.raises(DatabaseError, match="already holds convene data") as again:
            await copy_sqlite(path, target)
        assert "\n" not in str(again.value)
        assert await target.value("SELECT COUNT(*) FROM meetings") == 3  # nothing doubled


async def test_copy_sqlite_refuses_a_missing_file(tmp_path: Path, pg_url: str) -> None:
    async with postgres_store(pg_url) as target:
        with pytest.raises(DatabaseError, match="does not exist"):
            await copy_sqlite(str(tmp_path / "nope.db"), target)
    assert not (tmp_path / "nope.db").exists()


async def test_sqlite_store_turns_a_locked_file_into_storage_busy(db_file: str) -> None:
    from storage.db import StorageBusy

    store = open_store(db_file)
    other = sqlite3.connect(db_file, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageBusy):
            await platform_state.put(store, "discord", "k", "v")
    finally:
        other.execute("ROLLBACK")
        other.close()
    await platform_state.put(store, "discord", "k", "v")
    assert await platform_state.get(store, "discord", "k") == "v"
    await store.close()
