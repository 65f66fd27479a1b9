"""Encryption of secrets at rest with MultiFernet: the first key encrypts, every key decrypts."""
from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .errors import SecretDecryptionError

#: Columns outside IntegrationAttribute that hold encrypted secrets ("app_label.Model", field), re-encrypted by hi_rotate_keys.
ENCRYPTED_FIELDS: set[tuple[str, str]] = set()


def register_encrypted_field(model_label: str, field: str) -> None:
    """Have `hi_rotate_keys` re-encrypt a service's own encrypted column (called from AppConfig.ready)."""
    ENCRYPTED_FIELDS.add((model_label, field))


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    """Build (and cache) the MultiFernet for a tuple of keys."""
    if not keys:
        raise ImproperlyConfigured("HI_ENCRYPTION_KEYS must name at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "HI_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes; make one with `manage.py hi_generate_key`)."
        ) from None


def fernet() -> MultiFernet:
    """The MultiFernet for the configured keys."""
    return _fernet_for(tuple(settings.HI_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    """Encrypt a secret with the first key."""
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt a secret with whichever configured key made it."""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretDecryptionError(
            "A stored secret cannot be decrypted with HI_ENCRYPTION_KEYS; "
            "was a key removed before `manage.py hi_rotate_keys` ran?"
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt a token with the first key."""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretDecryptionError("A stored secret cannot be decrypted with HI_ENCRYPTION_KEYS.") from None
