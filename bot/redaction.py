"""Keeping secrets out of log lines: the configured values, and the shapes of
credentials that no setting names (a workspace's OAuth token, a host link).

`Redactor.redact(text)` replaces, in this order:

    configured values     every token and key from the settings, also percent-encoded
    token shapes          Slack (xoxb-…, xapp-…), `Bearer …`, Fernet tokens, JWTs
    URL parts             a query naming a credential (?jwt= ?token= ?roomKey= ?t= …) or
                          holding a bare key (eyeson's /?<key>), a key=value fragment
                          (Jitsi's #userInfo…), a password in the authority, a Slack
                          response_url's path
    signed paths          /calendar/[feed/]<token>.ics, /webhooks/metered/<token>, anywhere
    loose pairs           token=…, secretKey=…, t=… outside a URL

As a logging filter it rewrites the record before any formatter sees it:
the message (arguments merged in), the exception and stack text, and every
string field added with `extra=`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, urlsplit, urlunsplit

REDACTED = "[redacted]"
MIN_SECRET = 4  # shorter "secrets" would blank ordinary words; real ones are far longer

_SHAPES = re.compile(
    r"\bxox[abeposr](?:\.xox[a-z])?-[A-Za-z0-9-]+"  # Slack bot/user/refresh tokens
    r"|\bxapp-[A-Za-z0-9-]+"  # Slack app-level tokens
    r"|\bgAAAAA[A-Za-z0-9_-]{20,}={0,2}"  # Fernet: version 0x80, then a timestamp
    r"|\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"  # JWT: {"… header, payload, sig
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>`]+")
_CREDENTIAL_NAME = re.compile(
    r"(?i)^(?:t|sig|jwt|code|state|guest)$|token|key|secret|pass|auth|sign|session|access"
)
_LOOSE_PAIR = re.compile(
    r"(?i)(?<![\w.-])((?:t|v\d|jwt|[\w-]*token|[\w-]*key|[\w-]*secret|password|sig(?:nature)?)=)"
    r"[^&#\s\"',;]+"
)
_SECRET_PATHS = re.compile(  # the signed token is the path segment after these
    r"(/calendar/(?:feed/)?|/webhooks/metered/)(?!\[redacted\]|\{|feed/)[^/\s?#\"']+?(\.ics)?(?=[/\s?#\"']|$)"
)
_SECRET_HOSTS = ("hooks.slack.com", "hooks.slack-gov.com")  # response_url: the path is the key


class Redactor(logging.Filter):
    """Replaces secrets with `[redacted]`; usable on its own or as a logging filter."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        values = {value for value in secrets if value and len(value) >= MIN_SECRET}
        values |= {quote(value, safe="") for value in values}
        ordered = sorted(values, key=len, reverse=True)  # a secret containing another goes first
        self._secrets = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def redact(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        text = _SHAPES.sub(REDACTED, text)
        text = _BEARER.sub(r"\1 " + REDACTED, text)
        text = _URL.sub(_redact_url, text)
        text = _SECRET_PATHS.sub(lambda m: m.group(1) + REDACTED + (m.group(2) or ""), text)
        return _LOOSE_PAIR.sub(r"\1" + REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True  # a record reaching a second handler is already clean
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):  # arguments that do not fit the format
            message = f"{record.msg} {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _RECORD_FIELDS:
                setattr(record, key, self.scrub(value))
        record._redacted = True
        return True

    def scrub(self, value: object) -> object:
        """`value` with every string inside it redacted; numbers and None stay as they are."""
        if isinstance(value, str):
            return self.redact(value)
        if value is None or isinstance(value, int | float):
            return value
        if isinstance(value, Mapping):
            return {str(key): self.scrub(item) for key, item in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.scrub(item) for item in value]
        return self.redact(str(value))


# LogRecord's own attributes: handled above, or not caller data (only `extra=` fields are).
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "_redacted",
}


def _redact_url(match: re.Match[str]) -> str:
    url = match.group(0)
    try:
        parts = urlsplit(url)
        netloc, path = parts.netloc, parts.path
        query, fragment = parts.query, parts.fragment
    except ValueError:  # an unparseable "URL" (bad IPv6 brackets): hide all but its scheme
        return url.split("://", 1)[0] + "://" + REDACTED
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:{REDACTED}@{host}"
    if parts.hostname in _SECRET_HOSTS and path not in ("", "/"):
        path = "/" + REDACTED
    if query and _credential_query(query):
        query = REDACTED
    if "=" in fragment or fragment.lower().startswith(("userinfo", "jwt", "token")):
        fragment = REDACTED
    return urlunsplit((parts.scheme, netloc, path, query, fragment))


def _credential_query(query: str) -> bool:
    """A query naming a credential, or holding a bare value (eyeson's /?<access key>)."""
    for pair in re.split(r"[&;]", query):
        name, has_value, _ = pair.partition("=")
        if (not has_value and len(name) >= 8) or _CREDENTIAL_NAME.search(name):
            return True
    return False
