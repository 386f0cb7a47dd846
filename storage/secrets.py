"""Encryption at rest for host links and provider secrets (Fernet).

Without CONVENE_SECRET_KEY nothing secret is stored at all: `seal` returns None,
and callers tell the user why a host link cannot be resent.
"""

from __future__ import annotations

import logging

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)


class SecretBox:
    def __init__(self, key: str | None) -> None:
        self._fernet = Fernet(key.encode()) if key else None

    @property
    def can_store(self) -> bool:
        return self._fernet is not None

    def seal(self, plaintext: str | None) -> str | None:
        if plaintext is None or self._fernet is None:
            return None
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str | None) -> str | None:
        if sealed is None or self._fernet is None:
            return None
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            log.warning("a stored secret could not be decrypted (was CONVENE_SECRET_KEY changed?)")
            return None
