"""Tokens are encrypted at rest with MultiFernet; keys rotate without losing any token."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from accounts import crypto
from accounts.models import BearSMSAccount

TOKEN = "0123456789abcdef0123456789abcdef"


def _raw_column(pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT token_encrypted FROM accounts_bearsmsaccount WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_token_is_encrypted_at_rest(settings):
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    account = BearSMSAccount(username="alice")
    account.store_token(TOKEN)
    account.save()
    raw = _raw_column(account.pk)
    assert TOKEN not in raw
    assert BearSMSAccount.objects.get(pk=account.pk).reveal_token() == TOKEN
    assert account.is_linked
    assert TOKEN not in repr(account) and TOKEN not in str(account)


@pytest.mark.django_db
def test_key_rotation_keeps_every_token(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old
    accounts = []
    for i in range(3):
        account = BearSMSAccount(username=f"user{i}")
        account.store_token(f"{TOKEN[:-1]}{i}")
        account.save()
        accounts.append(account)
    unlinked = BearSMSAccount.objects.create(username="nolink")

    # Step 1: the new key goes in front; old ciphertexts still decrypt.
    settings.FIELD_ENCRYPTION_KEY = f"{new},{old}"
    assert BearSMSAccount.objects.get(pk=accounts[0].pk).reveal_token() == f"{TOKEN[:-1]}0"

    # Step 2: re-encrypt everything with the first key.
    call_command("rotate_field_key", verbosity=0)

    # Step 3: the old key is dropped; every token still decrypts.
    settings.FIELD_ENCRYPTION_KEY = new
    for i, account in enumerate(accounts):
        assert BearSMSAccount.objects.get(pk=account.pk).reveal_token() == f"{TOKEN[:-1]}{i}"
    assert BearSMSAccount.objects.get(pk=unlinked.pk).reveal_token() == ""

    # And with only the old key, nothing decrypts any more.
    settings.FIELD_ENCRYPTION_KEY = old
    with pytest.raises(crypto.InvalidToken):
        BearSMSAccount.objects.get(pk=accounts[0].pk).reveal_token()


def test_bad_key_does_not_leak(settings):
    settings.FIELD_ENCRYPTION_KEY = "not-a-fernet-key-secretvalue"
    with pytest.raises(ImproperlyConfigured) as info:
        crypto.encrypt("x")
    assert "secretvalue" not in str(info.value)
