from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from deposits import secrets
from tests.factories import AccountFactory


@pytest.fixture
def keys(settings):  # type: ignore[no-untyped-def]
    def use(*keys: str) -> None:
        settings.TOKEN_ENCRYPTION_KEYS = list(keys)
        secrets._fernet.cache_clear()

    yield use
    secrets._fernet.cache_clear()


@pytest.mark.django_db
def test_a_token_is_stored_encrypted_and_only_its_hint_is_kept_in_clear(team):
    account = AccountFactory(team=team, token="zenodo-personal-token-abcd1234")
    stored = type(account).objects.values("token_encrypted", "token_hint").get(pk=account.pk)
    assert "zenodo-personal-token" not in stored["token_encrypted"]
    assert stored["token_hint"] == "…1234"
    assert type(account).objects.get(pk=account.pk).token == "zenodo-personal-token-abcd1234"


def test_rotation_keeps_old_tokens_readable_and_reencrypts_with_the_new_key(keys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys(old)
    ciphertext = secrets.encrypt("s3cret-token")
    keys(new, old)  # the new key goes first; the old one still decrypts
    assert secrets.decrypt(ciphertext) == "s3cret-token"
    rotated = secrets.rotate(ciphertext)
    keys(new)
    assert secrets.decrypt(rotated) == "s3cret-token"
    with pytest.raises(secrets.UndecryptableToken, match="keep the old key"):
        secrets.decrypt(ciphertext)


def test_a_malformed_key_fails_loudly_with_how_to_make_one(keys):
    from django.core.exceptions import ImproperlyConfigured

    keys("not-a-fernet-key")
    with pytest.raises(ImproperlyConfigured, match="generate one"):
        secrets.encrypt("x")
