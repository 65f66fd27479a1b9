"""Secrets at rest: MultiFernet, the first key encrypts and every key decrypts."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from hi.integrations.core import crypto

from ..core.errors import SecretDecryptionError


def test_round_trip_and_ciphertext_differs(settings):
    token = crypto.encrypt("hunter2-secret")
    assert "hunter2" not in token
    assert crypto.decrypt(token) == "hunter2-secret"


def test_old_keys_still_decrypt_and_rotation_moves_to_the_first_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.HI_ENCRYPTION_KEYS = [old]
    token = crypto.encrypt("value")
    settings.HI_ENCRYPTION_KEYS = [new, old]
    assert crypto.decrypt(token) == "value"
    rotated = crypto.rotate(token)
    settings.HI_ENCRYPTION_KEYS = [new]
    assert crypto.decrypt(rotated) == "value"
    with pytest.raises(SecretDecryptionError):
        crypto.decrypt(token)


def test_a_malformed_key_is_a_configuration_error(settings):
    settings.HI_ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        crypto.encrypt("x")
