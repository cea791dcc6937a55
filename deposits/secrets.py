"""Tokens at rest: Fernet with rotation (the first key encrypts, every key decrypts)."""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _fernet() -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in settings.TOKEN_ENCRYPTION_KEYS])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "TOKEN_ENCRYPTION_KEYS must be comma-separated Fernet keys "
            "(generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        ) from exc


def encrypt(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


class UndecryptableToken(Exception):
    """The stored token was encrypted with a key that is no longer configured."""


def decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise UndecryptableToken(
            "This account's token cannot be decrypted with the configured keys: "
            "keep the old key in TOKEN_ENCRYPTION_KEYS, or link the account again."
        ) from exc


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the current first key."""
    return _fernet().rotate(ciphertext.encode()).decode()


def mask(token: str) -> str:
    return f"…{token[-4:]}" if len(token) > 8 else "…"
