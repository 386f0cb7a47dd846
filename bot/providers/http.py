"""One careful way to call a provider's REST API.

Timeouts (connect 3 s, whole call at most 10 s including retries), retries with
exponential backoff and jitter for 429 (honouring Retry-After) and, on
idempotent calls only, for 5xx and timeouts. Status codes become the error tree
of `bot.providers.errors`. Nothing here logs a URL query, a header or a body,
because those carry keys (Metered's ?secretKey=) and host links.

Answers are hostile input: `read` parses and picks fields inside the error
handling, so bad JSON, the wrong shape or a missing field is `Unreadable` (one
sentence, never the body), and `text`/`link`/`identifier` check each field's
type. `create` is how every provider makes a room: one POST, never repeated;
when its outcome is unknown (timeout, dropped connection, 5xx, unreadable 2xx)
the provider's `settle` recovers the room or cleans it up before the error is
raised, so no room is left open that convene does not know about.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from httpx_aiohttp import AiohttpTransport

from bot.observability import PROVIDER_CALLS, PROVIDER_LATENCY
from bot.providers import errors

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.0
CALL_BUDGET = 10.0
MAX_LINK = 2048  # longer "links" are not links; chat platforms truncate them anyway
MAX_ID = 256  # room ids are stored and put in paths; real ones are far shorter

# What reading an answer can raise: bad JSON or a bad encoding (ValueError),
# nesting deeper than the parser allows (RecursionError), and picking fields
# from the wrong shape (KeyError, IndexError, TypeError, AttributeError).
READ_ERRORS = (ValueError, RecursionError, KeyError, IndexError, TypeError, AttributeError)

Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


# The provider pool, sized for a burst (hundreds of /meet at 09:00 Monday): every
# connection a burst opened stays open for the next one (keep-alive as large as the
# pool), for a while; past the limit requests wait for a free connection. httpx
# sends through aiohttp's connector (httpx-aiohttp): httpcore 1.0's pool rescans and
# polls every connection for every queued request (encode/httpcore#1035), which
# cost a 200-command burst seconds of CPU (bench/README.md has the profiles).
POOL_CONNECTIONS = 200
KEEPALIVE_SECONDS = 30.0


def make_client() -> httpx.AsyncClient:
    """The one shared, pooled client every provider uses."""
    limits = httpx.Limits(
        max_connections=POOL_CONNECTIONS,
        max_keepalive_connections=POOL_CONNECTIONS,
        keepalive_expiry=KEEPALIVE_SECONDS,
    )
    return httpx.AsyncClient(
        timeout=httpx.Timeout(CALL_BUDGET, connect=CONNECT_TIMEOUT),
        transport=AiohttpTransport(limits=limits),
        follow_redirects=False,
    )


def error_for_status(
    provider: str, status: int, retry_after: float | None = None
) -> errors.ProviderError:
    """Map an HTTP status to the error tree with its default sentence."""
    if status == 401:
        return errors.AuthError(provider)
    if status == 402:
        return errors.QuotaError(provider)
    if status == 403:
        return errors.AuthError(
            provider,
            f"{provider} refused access with convene's API key; ask an admin to check "
            "the key's permissions and the account's plan.",
        )
    if status == 404:
        return errors.NotFound(provider)
    if status == 410:
        return errors.Gone(provider)
    if status == 409:
        return errors.Conflict(provider)
    if status == 423:
        return errors.Locked(provider)
    if status == 429:
        return errors.RateLimited(provider, retry_after=retry_after)
    if status >= 500:
        return errors.Unavailable(provider)
    return errors.InvalidRequest(provider)


def payload(response: httpx.Response) -> Any:
    """The parsed JSON body, or None when there is none or it is not JSON; never raises."""
    try:
        return response.json()
    except (ValueError, RecursionError):
        return None


def text(value: object) -> str:
    """A non-empty string field of an answer; anything else is a TypeError."""
    if not isinstance(value, str) or not value:
        raise TypeError("expected a non-empty string")
    return value


def identifier(value: object) -> str:
    """An id from an answer as text: a non-empty string of at most MAX_ID
    characters, or an integer (not a bool)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if len(text(value)) > MAX_ID:
        raise TypeError("an id this long is not one")
    return str(value)


def identifier_or_none(value: object) -> str | None:
    """`identifier(value)`, or None when the value is not an id."""
    try:
        return identifier(value)
    except TypeError:
        return None


def link(value: object) -> str:
    """An absolute http(s) URL without spaces or control characters, so a hostile
    answer cannot put `javascript:` or a broken link into a card."""
    url = text(value)
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or len(url) > MAX_LINK
        or any(c.isspace() or not c.isprintable() for c in url)
    ):
        raise ValueError("expected an http(s) URL")
    return url


def field(answer: Any, *keys: str) -> Any:
    """`answer[k1][k2]…` when every level is a dict holding the key, else None: for
    salvaging an id from an answer that is otherwise unreadable."""
    for key in keys:
        if not isinstance(answer, dict):
            return None
        answer = answer.get(key)
    return answer


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class _HideQuery(logging.Filter):
    """httpx logs every request URL at INFO, query included: drop the query,
    which carries keys such as Metered's ?secretKey=."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.copy_with(query=None) if isinstance(arg, httpx.URL) else arg
                for arg in record.args
            )
        return True


def hide_query_in_httpx_logs() -> None:
    """Install `_HideQuery` on httpx's logger once (idempotent)."""
    httpx_log = logging.getLogger("httpx")
    if not any(isinstance(f, _HideQuery) for f in httpx_log.filters):
        httpx_log.addFilter(_HideQuery())


class ProviderHTTP:
    """A provider's base URL, auth and error mapping around the shared client.

    `sleep` (how backoff waits) and `budget` (seconds for a whole call) are
    plain attributes: the one place tests reach for to skip waits or force a
    timeout, on any provider that `build` made.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        label: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        sleep: Sleep = asyncio.sleep,
        budget: float = CALL_BUDGET,
        max_attempts: int = 4,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.label = label
        self._headers = dict(headers or {})
        self._params = dict(params or {})
        self.sleep = sleep
        self.budget = budget
        self._max_attempts = max_attempts
        if self._params:
            hide_query_in_httpx_logs()

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send; return a 2xx response or raise a ProviderError.

        `idempotent` defaults to True for GET/PUT/DELETE/HEAD. A 429 is retried
        for any method (the provider did not act on it); 5xx and timeouts only
        when idempotent, so a create is never blindly repeated.
        """
        if idempotent is None:
            idempotent = method.upper() in ("GET", "PUT", "DELETE", "HEAD")
        deadline = time.monotonic() + self.budget
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            try:
                response = await self._measured(
                    method,
                    self.url(path),
                    json=json,
                    params={**self._params, **(params or {})},
                    headers=self._headers,
                    timeout=httpx.Timeout(max(0.1, remaining), connect=CONNECT_TIMEOUT),
                )
            except httpx.TimeoutException as exc:
                log.warning("%s %s %s timed out (attempt %d)", self.label, method, path, attempt)
                failure: errors.ProviderError = errors.Unavailable(
                    self.label,
                    f"{self.label} did not answer in time; try again in a few minutes.",
                )
                if not idempotent:
                    raise errors.Unavailable(
                        self.label,
                        f"{self.label} did not answer in time, so convene cannot tell whether "
                        "the room was created; try again in a minute.",
                    ) from exc
                retry_after = None
            except httpx.HTTPError as exc:
                log.warning("%s %s %s failed: %s", self.label, method, path, type(exc).__name__)
                failure = errors.Unavailable(self.label)
                if not idempotent:
                    raise failure from exc
                retry_after = None
            else:
                if response.is_success:
                    return response
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                log.warning("%s %s %s answered %d", self.label, method, path, response.status_code)
                failure = self.classify(response, retry_after)
                retryable = response.status_code == 429 or (
                    idempotent and response.status_code >= 500
                )
                if not retryable:
                    raise failure
            delay = backoff(attempt, retry_after)
            if attempt >= self._max_attempts or time.monotonic() + delay > deadline:
                raise failure
            await self.sleep(delay)

    async def _measured(self, method: str, url: str, **options: Any) -> httpx.Response:
        """One attempt, counted by status ("timeout", "network" when none came) and timed."""
        provider = self.label.lower()
        started = time.monotonic()
        status = "network"
        try:
            response = await self.client.request(method, url, **options)
            status = str(response.status_code)
            return response
        except httpx.TimeoutException:
            status = "timeout"
            raise
        finally:
            PROVIDER_CALLS.labels(provider=provider, status=status).inc()
            PROVIDER_LATENCY.labels(provider=provider).observe(time.monotonic() - started)

    def read(self, response: httpx.Response, pick: Callable[[Any], T]) -> T:
        """Parse a 2xx answer and pick what convene needs; any failure is Unreadable.

        A ProviderError raised by `pick` (a refusal inside a 2xx) passes through."""
        try:
            return pick(response.json())
        except READ_ERRORS as exc:
            log.warning(
                "%s sent an answer convene cannot read (%s)", self.label, type(exc).__name__
            )
            raise errors.Unreadable(self.label) from None

    async def create(
        self,
        path: str,
        body: Any,
        *,
        pick: Callable[[Any], T],
        settle: Callable[[Any], Awaitable[T | None]],
    ) -> T:
        """POST a create once, and leave no room behind that convene does not know.

        When the outcome is unknown (no answer in time, a dropped connection, a
        5xx, or a 2xx that `pick` cannot read) the POST is not repeated: `settle`
        gets whatever JSON came back (None if nothing could be parsed) and returns
        the room it recovered, or cleans up what it can and returns None; then the
        original error is raised. A failure inside `settle` never replaces it.
        """
        try:
            response = await self.request("POST", path, json=body)
        except errors.Unavailable as exc:
            failure: errors.Unavailable = exc
            answer: Any = None
        else:
            answer = payload(response)
            try:
                return pick(answer)
            except READ_ERRORS as exc:
                log.warning(
                    "%s create answered in a shape convene cannot read (%s)",
                    self.label,
                    type(exc).__name__,
                )
                failure = errors.Unreadable(self.label)
        settled = await self.quietly("settle a create whose outcome is unknown", settle(answer))
        if settled is None:
            raise failure
        log.info("%s create recovered after %s", self.label, type(failure).__name__)
        return settled

    async def quietly(self, step: str, call: Awaitable[T]) -> T | None:
        """Await a recovery or clean-up step whose failure must not replace the error
        being reported: a ProviderError, or an answer it could not read, gives None."""
        try:
            return await call
        except (errors.ProviderError, *READ_ERRORS) as exc:
            log.warning("%s could not %s: %s", self.label, step, type(exc).__name__)
            return None

    async def delete(self, path: str) -> httpx.Response | None:
        """DELETE where a resource that is already gone (404/410) counts as done."""
        try:
            return await self.request("DELETE", path)
        except errors.NotFound:
            return None

    async def get_or_none(
        self, path: str, *, params: Mapping[str, str] | None = None
    ) -> httpx.Response | None:
        """GET that answers None for a resource that no longer exists (404/410)."""
        try:
            return await self.request("GET", path, params=params)
        except errors.NotFound:
            return None

    def classify(self, response: httpx.Response, retry_after: float | None) -> errors.ProviderError:
        """Turn a non-2xx response into an error; providers override for special bodies."""
        return error_for_status(self.label, response.status_code, retry_after)


def backoff(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter, never shorter than Retry-After."""
    jittered = random.uniform(0, min(4.0, 0.25 * 2 ** (attempt - 1)))
    return max(jittered, retry_after or 0.0)
