"""The provider error tree, one sentence per failure for the person who asked.

    ProviderError               anything choosing or calling a provider can fail with
    ├── ProviderNotConfigured   its variables are not set (raised before any call)
    ├── AuthError               401/403 for credentials: the key is wrong or revoked
    ├── QuotaError              402, plan limits: credits or monthly meetings used up
    ├── NotFound                404; Gone (410) is a NotFound whose room has ended
    ├── Conflict                409; Locked (423) is a Conflict
    ├── RateLimited             429, carries retry_after in seconds
    ├── Unavailable             5xx, timeouts, connection failures
    │   └── Unreadable          a 2xx answer convene could not read (bad JSON, wrong
    │                           shape, a field missing): the provider may have acted
    └── InvalidRequest          400/422: convene sent something the provider refused

`str(error)` is always safe to show a user: it names the provider and what to
do, and never contains a response body, a key or a host link. Callers catch
ProviderError alone.
"""

from __future__ import annotations


class ProviderError(Exception):
    default = "{provider} failed to handle the request; try again in a minute."

    def __init__(self, provider: str, message: str | None = None) -> None:
        self.provider = provider
        super().__init__(message or self.default.format(provider=provider))


class ProviderNotConfigured(ProviderError):
    """A provider was chosen whose credentials are not in the environment.

    `name` is the machine name ("whereby"), `variables` what to set."""

    def __init__(self, name: str, variables: list[str]) -> None:
        from bot.providers import LABELS  # here, not at the top: bot.providers imports us

        label = LABELS.get(name, name)
        self.name = name
        self.variables = variables
        super().__init__(
            label,
            f"{label} is not configured: set {' and '.join(variables)} in convene's "
            "environment, or choose another provider with /meet config provider.",
        )


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


class Unreadable(Unavailable):
    """The provider said yes in a way convene cannot read. It is an Unavailable
    because, like a timeout, the request may have taken effect: a create whose
    answer is unreadable is recovered or cleaned up, never repeated."""

    default = "{provider} sent an answer convene could not read; try again in a minute."


class InvalidRequest(ProviderError):
    default = (
        "{provider} refused the meeting details convene sent; try a shorter title or "
        "a different time, and tell an admin if it keeps happening."
    )
