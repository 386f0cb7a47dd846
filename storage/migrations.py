"""Versioned schema. Never edit a migration that has shipped; add a new one.

All instants are stored as UTC text (`storage.db.to_text`), durations as seconds.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("convene")


@MIGRATIONS()
def m001_core(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE workspaces (
            platform TEXT NOT NULL,
            workspace_id TEXT NOT NULL,
            provider TEXT,
            default_length_s INTEGER,
            reminder_s INTEGER,
            feedback INTEGER,
            feedback_window_s INTEGER,
            PRIMARY KEY (platform, workspace_id)
        )"""
    )
    db.execute(
        """
        CREATE TABLE users (
            platform TEXT NOT NULL,
            workspace_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            tz TEXT NOT NULL,
            PRIMARY KEY (platform, workspace_id, user_id)
        )"""
    )
    db.execute(
        """
        CREATE TABLE series (
            id TEXT PRIMARY KEY,
            platform TEXT NOT NULL,
            workspace_id TEXT NOT NULL,
            channel_id TEXT NOT NULL,
            owner_id TEXT NOT NULL,
            title TEXT NOT NULL,
            days TEXT NOT NULL,
            hour INTEGER NOT NULL,
            minute INTEGER NOT NULL,
            tz TEXT NOT NULL,
            length_s INTEGER NOT NULL,
            provider TEXT NOT NULL,
            status TEXT NOT NULL,
            feedback INTEGER NOT NULL,
            skipped TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE meetings (
            id TEXT PRIMARY KEY,
            platform TEXT NOT NULL,
            workspace_id TEXT NOT NULL,
            channel_id TEXT NOT NULL,
            organizer_id TEXT NOT NULL,
            title TEXT NOT NULL,
            start_at TEXT NOT NULL,
            end_at TEXT NOT NULL,
            provider TEXT NOT NULL,
            room_id TEXT NOT NULL,
            join_url TEXT NOT NULL,
            host_url_sealed TEXT,
            status TEXT NOT NULL,
            remind_s INTEGER NOT NULL,
            instant INTEGER NOT NULL,
            feedback INTEGER NOT NULL,
            invitees TEXT NOT NULL DEFAULT '[]',
            message_ref TEXT,
            series_id TEXT REFERENCES series(id),
            created_at TEXT NOT NULL
        )"""
    )
    db.execute(
        "CREATE INDEX meetings_channel ON meetings (platform, workspace_id, channel_id, status)"
    )
    db.execute("CREATE INDEX meetings_open_end ON meetings (status, end_at)")
    db.execute("CREATE INDEX meetings_room ON meetings (provider, room_id)")
    db.execute(
        """
        CREATE TABLE deliveries (
            subject TEXT NOT NULL,
            kind TEXT NOT NULL,
            claimed_at TEXT NOT NULL,
            claimed_by TEXT NOT NULL,
            done_at TEXT,
            outcome TEXT,
            PRIMARY KEY (subject, kind)
        )"""
    )


@MIGRATIONS()
def m002_attendance(db: Database) -> None:
    """Who joined, as provider webhooks report it: feedback prompts go to attendees."""
    db.execute(
        """
        CREATE TABLE attendance (
            meeting_id TEXT NOT NULL REFERENCES meetings(id),
            participant TEXT NOT NULL,
            joined_at TEXT NOT NULL,
            PRIMARY KEY (meeting_id, participant)
        )"""
    )


@MIGRATIONS()
def m003_feedback(db: Database) -> None:
    """One answer per person per meeting, changeable while the window is open."""
    db.execute(
        """
        CREATE TABLE feedback (
            meeting_id TEXT NOT NULL REFERENCES meetings(id),
            user_id TEXT NOT NULL,
            score INTEGER,
            comment TEXT NOT NULL DEFAULT '',
            answered_at TEXT NOT NULL,
            PRIMARY KEY (meeting_id, user_id)
        )"""
    )
    db.execute("CREATE INDEX meetings_series ON meetings (series_id, end_at)")


@MIGRATIONS()
def m004_discord_state(db: Database) -> None:
    """The Discord adapter's own key/value bookkeeping (the synced command tree's hash).

    IF NOT EXISTS: earlier versions created this table outside the migrations.
    """
    db.execute(
        "CREATE TABLE IF NOT EXISTS discord_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
    )


@MIGRATIONS()
def m005_platform_state_and_feedback_windows(db: Database) -> None:
    """Adapters' bookkeeping keyed by platform; the feedback window in its own table.

    The window used to be read back from the prompt's delivery claim; it now
    lives beside the answers, fixed when the prompt goes out.
    """
    db.execute(
        """
        CREATE TABLE platform_state (
            platform TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (platform, key)
        )"""
    )
    db.execute(
        "INSERT INTO platform_state (platform, key, value) "
        "SELECT 'discord', key, value FROM discord_state"
    )
    db.execute("DROP TABLE discord_state")
    db.execute(
        """
        CREATE TABLE feedback_windows (
            meeting_id TEXT PRIMARY KEY REFERENCES meetings(id),
            opened_at TEXT NOT NULL,
            closes_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX feedback_windows_closing ON feedback_windows (closes_at)")
    # Prompts sent by earlier versions: their window was the workspace's (default 24 h).
    db.execute(
        """INSERT INTO feedback_windows (meeting_id, opened_at, closes_at)
           SELECT d.subject, d.claimed_at,
                  strftime('%Y-%m-%dT%H:%M:%SZ', d.claimed_at,
                           '+' || COALESCE(w.feedback_window_s, 86400) || ' seconds')
           FROM deliveries d
           JOIN meetings m ON m.id = d.subject
           LEFT JOIN workspaces w ON w.platform = m.platform AND w.workspace_id = m.workspace_id
           WHERE d.kind = 'feedback-prompt'"""
    )


@MIGRATIONS()
def m006_series_rrule(db: Database) -> None:
    """Series rules as RFC 5545 text (DTSTART + RRULE), filled from days/hour/minute.

    Those columns held weekdays (0 = Monday) at a wall time: all seven become
    FREQ=DAILY, others FREQ=WEEKLY;BYDAY=…. DTSTART is the first such weekday from
    the local day the series was made, so it is an occurrence, as RFC 5545 asks.
    Self-contained on purpose: a migration must not change when bot/ does.
    """
    codes = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
    db.execute("ALTER TABLE series ADD COLUMN rrule TEXT NOT NULL DEFAULT ''")
    rows = db.execute("SELECT id, days, hour, minute, tz, created_at FROM series").fetchall()
    for series_id, days_text, hour, minute, tz, created_at in rows:
        days = sorted({int(day) for day in days_text.split(",") if day})
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        first = datetime.fromisoformat(created_at).astimezone(zone).date()
        if not days:  # never held a meeting; stays so: an UNTIL before DTSTART
            rule = f"FREQ=DAILY;UNTIL={first - timedelta(days=1):%Y%m%d}T235959"
        elif days == list(range(7)):
            rule = "FREQ=DAILY"
        else:
            rule = "FREQ=WEEKLY;BYDAY=" + ",".join(codes[day] for day in days)
        while days and first.weekday() not in days:
            first += timedelta(days=1)
        text = f"DTSTART:{first:%Y%m%d}T{hour:02d}{minute:02d}00\nRRULE:{rule}"
        db.execute("UPDATE series SET rrule = ? WHERE id = ?", [text, series_id])


@MIGRATIONS()
def m007_due_indexes(db: Database) -> None:
    """Due-ness as indexed ranges, so the sweep and the horizon re-plan read only what is due.

    `meetings.remind_at` is derived from start_at and remind_s (NULL when there is no
    reminder), a virtual generated column, so no writer has to keep it. The three
    event ranges (reminder, start, end) are indexed over open meetings only.
    `series.next_open_at` is when the series' next occurrence opens (NULL: not yet
    worked out, so the next sweep does it), kept by `bot.series`.
    """
    db.execute(
        "ALTER TABLE meetings ADD COLUMN remind_at TEXT GENERATED ALWAYS AS ("
        "CASE WHEN instant = 0 AND remind_s > 0 THEN "
        "strftime('%Y-%m-%dT%H:%M:%SZ', start_at, '-' || remind_s || ' seconds') END) VIRTUAL"
    )
    for name, column in (("remind", "remind_at"), ("start", "start_at"), ("end", "end_at")):
        db.execute(
            f"CREATE INDEX meetings_due_{name} ON meetings ({column}, id) "
            "WHERE status IN ('scheduled', 'active')"
        )
    db.execute("ALTER TABLE series ADD COLUMN next_open_at TEXT")
    db.execute("CREATE INDEX series_due ON series (status, next_open_at, id)")


@MIGRATIONS()
def m008_people_and_calendars(db: Database) -> None:
    """RSVPs, private reminders, attendance sessions, calendar feeds, Slack installs.

    - `rsvps` (per meeting) and `series_rsvps` ("Going to all"): one answer per person;
      `seq` orders answers as they were given (instants have whole seconds, and a burst
      of presses shares one).
    - `attendance_sessions`: each join and leave a provider reports, so repeated joins
      add up; earlier `attendance` rows come in as sessions still open.
    - `meetings.sequence`: the calendar SEQUENCE, bumped on every change.
    - `calendar_feeds`: the version in a person's feed token; a reset bumps it.
    - `workspaces.mentions/events/calls`: switches, NULL meaning on.
    - `slack_installs`, `slack_oauth_states`: bolt's OAuth stores on convene's own
      engine. Installs slack_sdk's SQLite store kept in `slack_installations` (same
      file) come across, the latest per (enterprise, team, user), as the JSON the new
      store reads.
    - `deliveries.takeovers`: how often a firing's lease ran out and another owner took it.
    """
    for statement in M008_TABLES:
        db.execute(statement)
    db.execute(
        "INSERT INTO attendance_sessions (id, meeting_id, person_key, name, joined_at, left_at) "
        "SELECT meeting_id || ':' || participant, meeting_id, participant, participant, "
        "joined_at, NULL FROM attendance"
    )
    if "slack_installations" in db.table_names():
        _copy_slack_installations(db)


# Shared with storage.pg_migrations (p002): the same tables on both engines.
M008_TABLES = (
    """CREATE TABLE rsvps (
        meeting_id TEXT NOT NULL REFERENCES meetings(id),
        user_id TEXT NOT NULL,
        answer TEXT NOT NULL,
        answered_at TEXT NOT NULL,
        seq INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (meeting_id, user_id)
    )""",
    "CREATE INDEX rsvps_answers ON rsvps (meeting_id, answer, answered_at)",
    """CREATE TABLE series_rsvps (
        series_id TEXT NOT NULL REFERENCES series(id),
        user_id TEXT NOT NULL,
        answer TEXT NOT NULL,
        answered_at TEXT NOT NULL,
        PRIMARY KEY (series_id, user_id)
    )""",
    """CREATE TABLE private_reminders (
        meeting_id TEXT NOT NULL REFERENCES meetings(id),
        user_id TEXT NOT NULL,
        PRIMARY KEY (meeting_id, user_id)
    )""",
    """CREATE TABLE attendance_sessions (
        id TEXT PRIMARY KEY,
        meeting_id TEXT NOT NULL REFERENCES meetings(id),
        person_key TEXT,
        name TEXT NOT NULL,
        joined_at TEXT NOT NULL,
        left_at TEXT
    )""",
    "CREATE INDEX attendance_sessions_meeting ON attendance_sessions (meeting_id, joined_at)",
    "ALTER TABLE meetings ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX meetings_organizer ON meetings (platform, workspace_id, organizer_id, start_at)",
    """CREATE TABLE calendar_feeds (
        platform TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (platform, workspace_id, user_id)
    )""",
    "ALTER TABLE workspaces ADD COLUMN mentions INTEGER",
    "ALTER TABLE workspaces ADD COLUMN events INTEGER",
    "ALTER TABLE workspaces ADD COLUMN calls INTEGER",
    """CREATE TABLE slack_installs (
        enterprise_id TEXT NOT NULL,
        team_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        data TEXT NOT NULL,
        installed_at TEXT NOT NULL,
        PRIMARY KEY (enterprise_id, team_id, user_id)
    )""",
    "CREATE INDEX slack_installs_team ON slack_installs (enterprise_id, team_id, installed_at)",
    """CREATE TABLE slack_oauth_states (
        state TEXT PRIMARY KEY,
        expires_at TEXT NOT NULL
    )""",
    "ALTER TABLE deliveries ADD COLUMN takeovers INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX deliveries_unfinished ON deliveries (claimed_by) WHERE done_at IS NULL",
)

# slack_sdk's SQLite columns that are also Installation's constructor arguments.
_SLACK_COLUMNS = (
    "app_id", "enterprise_id", "enterprise_name", "enterprise_url", "team_id", "team_name",
    "bot_token", "bot_id", "bot_user_id", "bot_scopes", "bot_refresh_token",
    "bot_token_expires_at", "user_id", "user_token", "user_scopes", "user_refresh_token",
    "user_token_expires_at", "incoming_webhook_url", "incoming_webhook_channel",
    "incoming_webhook_channel_id", "incoming_webhook_configuration_url",
    "is_enterprise_install", "token_type",
)  # fmt: skip


def _copy_slack_installations(db: Database) -> None:
    """The latest slack_sdk row per (enterprise, team, user) as an install's JSON."""
    columns = ", ".join(_SLACK_COLUMNS)
    rows = db.execute(
        f"""SELECT {columns}, installed_at FROM slack_installations s
            WHERE s.id = (SELECT MAX(t.id) FROM slack_installations t
                          WHERE t.enterprise_id = s.enterprise_id AND t.team_id = s.team_id
                            AND t.user_id = s.user_id)"""  # noqa: S608 (names above)
    ).fetchall()
    for row in rows:
        data = dict(zip((*_SLACK_COLUMNS, "installed_at"), row, strict=True))
        data["is_enterprise_install"] = bool(data["is_enterprise_install"])
        data["bot_scopes"] = data["bot_scopes"] or ""
        data["user_scopes"] = data["user_scopes"] or ""
        installed = _slack_instant(str(data["installed_at"]))
        data["installed_at"] = installed.isoformat()
        data["custom_values"] = {}
        db.execute(
            "INSERT INTO slack_installs (enterprise_id, team_id, user_id, data, installed_at) "
            "VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
            [
                data["enterprise_id"] or "",
                data["team_id"] or "",
                data["user_id"] or "",
                json.dumps(data),
                installed.strftime("%Y-%m-%dT%H:%M:%SZ"),
            ],
        )


def _slack_instant(text: str) -> datetime:
    """slack_sdk's `installed_at` (SQLite's CURRENT_TIMESTAMP, UTC) as an aware instant."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
