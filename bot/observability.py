"""What an operator sees: Prometheus metrics, and log lines that carry their
context and never a secret.

Metrics live in prometheus_client's default registry, created once at import
(prometheus_client refuses a second metric of the same name), and are served by
`bot.ops_routes`. Label values are small closed sets (platform names, outcome
words, provider names, HTTP status codes), never ids or user text.

Logging: `configure_logging` installs one handler on the root logger with a
`Redactor` filter (both formats) and a JSON or text formatter. `log_context`
puts request and meeting ids in a context variable, so every line logged while
handling a request carries them, across awaits, without passing them around.
Log timestamps are the machine's time on purpose: they are read beside other
systems' logs, not compared with meeting times.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TextIO

from prometheus_client import Counter, Histogram

from bot.config import LogFormat
from bot.redaction import Redactor

__all__ = [
    "CLAIMS_TAKEN_OVER",
    "COMMANDS",
    "PROVIDER_CALLS",
    "PROVIDER_LATENCY",
    "REMINDER_LATENESS",
    "TIMERS_PLANNED",
    "WEBHOOK_VERIFICATIONS_FAILED",
    "LogFormat",
    "Redactor",
    "configure_logging",
    "current_context",
    "log_context",
]

# --- metrics ----------------------------------------------------------------------------

COMMANDS = Counter(
    "convene_commands",
    "Commands handled, by platform (slack, discord, console) and outcome (ok, refused, error).",
    ["platform", "outcome"],
)
PROVIDER_CALLS = Counter(
    "convene_provider_calls",
    "HTTP requests to video providers, by provider and status (HTTP code, timeout, network).",
    ["provider", "status"],
)
PROVIDER_LATENCY = Histogram(
    "convene_provider_call_duration_seconds",
    "Time for one HTTP request to a video provider, retries counted separately.",
    ["provider"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REMINDER_LATENESS = Histogram(
    "convene_reminder_lateness_seconds",
    "How long after its due time a reminder was sent.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
)
CLAIMS_TAKEN_OVER = Counter(
    "convene_claims_taken_over",
    "Deliveries taken over from a worker that stopped before finishing them.",
)
TIMERS_PLANNED = Counter(
    "convene_timers_planned",
    "Scheduler timers planned (reminders, start notices, expiries, series openings).",
)
WEBHOOK_VERIFICATIONS_FAILED = Counter(
    "convene_webhook_verifications_failed",
    "Inbound requests whose signature or token did not verify, by source.",
    ["source"],
)

# --- context ----------------------------------------------------------------------------

_CONTEXT: ContextVar[Mapping[str, object]] = ContextVar(
    "convene_log_context", default=MappingProxyType({})
)


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add `fields` (request_id, meeting_id, platform, …) to every log line inside."""
    token = _CONTEXT.set({**_CONTEXT.get(), **fields})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_context() -> Mapping[str, object]:
    return _CONTEXT.get()


class _ContextFilter(logging.Filter):
    """Copy the context into the record; a field passed with `extra=` wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _CONTEXT.get().items():
            record.__dict__.setdefault(key, value)
        return True


# --- formatting -------------------------------------------------------------------------

# Attributes every LogRecord has; anything else on a record came from `extra=` or context.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller or the context added to a record."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC ISO), level, logger, message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update((k, v) for k, v in extra_fields(record).items() if k not in line)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The classic line, with context and extra fields appended as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        line = super().formatMessage(record)
        extras = extra_fields(record)
        if extras:
            line += " " + " ".join(f"{key}={value}" for key, value in extras.items())
        return line


def configure_logging(
    fmt: LogFormat,
    level: int | str = logging.WARNING,
    secrets: Iterable[str | None] = (),
    *,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Replace the root logger's handlers with one redacting handler and return it.

    `secrets` are the configured tokens and keys (None and empty values are
    skipped); each is replaced by `[redacted]` wherever it appears, as are
    token shapes and credential-bearing URL parts that no setting names."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(_ContextFilter())
    handler.addFilter(Redactor(secrets))
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    return handler
