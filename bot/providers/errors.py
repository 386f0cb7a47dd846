"""The provider error tree, one sentence per failure for the person who asked.

    ProviderError               anything a provider call can fail with
    ├── AuthError               401/403 for credentials: the key is wrong or revoked
    ├── QuotaError              402, plan limits: credits or monthly meetings used up
    ├── NotFound                404; Gone (410) is a NotFound whose room has ended
    ├── Conflict                409; Locked (423) is a Conflict
    ├── RateLimited             429, carries retry_after in seconds
    ├── Unavailable             5xx, timeouts, connection failures
    └── InvalidRequest          400/422: convene sent something the provider refused

`str(error)` is always safe to show a user: it names the provider and what to
do, and never contains a response body, a key or a host link.
"""

from __future__ import annotations


class ProviderError(Exception):
    default = "{provider} failed to handle the request; try again in a minute."

    def __init__(self, provider: str, message: str | None = None) -> None:
        self.provider = provider
        super().__init__(message or self.default.format(provider=provider))


class AuthError(ProviderError):
    default = (
        "{provider} rejected convene's API key; ask an admin to check the key in "
        "convene's environment (convene check tests it)."
    )


class QuotaError(ProviderError):
    default = (
        "{provider} says this account has run out of credits or meetings; ask an admin "
        "to top up the plan or switch provider with /meet config provider <name>."
    )


class NotFound(ProviderError):
    default = "{provider} no longer knows this room; it may have been deleted already."


class Gone(NotFound):
    default = "{provider} says this room has already ended."


class Conflict(ProviderError):
    default = "{provider} reported a conflict with an existing room; try again with another title."


class Locked(Conflict):
    default = "{provider} says this room is locked right now; try again in a moment."


class RateLimited(ProviderError):
    default = "{provider} is rate-limiting convene; try again in a minute."

    def __init__(
        self, provider: str, message: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(provider, message)
        self.retry_after = retry_after


class Unavailable(ProviderError):
    default = "{provider} is not answering right now; try again in a few minutes."


class InvalidRequest(ProviderError):
    default = (
        "{provider} refused the meeting details convene sent; try a shorter title or "
        "a different time, and tell an admin if it keeps happening."
    )
