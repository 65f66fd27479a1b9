"""Signing secrets: the current one plus those retired by a rotation, signed with for 24 h more."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from hi.integrations.api import (
    Integration,
    SecretDecryptionError,
    attribute_values,
    decrypt,
    encrypt,
    log,
    save_attributes,
    standard_webhooks,
)

from .models import RetiredSecret

logger = logging.getLogger(__name__)

#: How long a replaced secret still signs deliveries and verifies inbound requests, so receivers can switch.
OVERLAP = timedelta(hours=24)


_retired_cache: dict[tuple, list[tuple[str, datetime]]] = {}
MAX_CACHED = 512


def _retired(integration: Integration) -> list[tuple[str, datetime]]:
    """The retired secrets with their expiry, decrypted once per (integration, updated_at)."""
    # A rotation saves the secret attribute, which moves updated_at: the next call reads again. Every
    # delivery and every inbound request asks, so the common case costs no query.
    key = (integration.pk, integration.updated_at)
    cached = _retired_cache.get(key)
    if cached is not None:
        return cached
    found = []
    for row in RetiredSecret.objects.filter(integration=integration, expires_at__gt=timezone.now()):
        try:
            found.append((decrypt(row.value), row.expires_at))
        except SecretDecryptionError:
            # Its encryption key was dropped: the overlap ends early, which only costs the old signature.
            logger.warning("A retired signing secret of integration %s cannot be decrypted; skipped.", integration.pk)
    if len(_retired_cache) >= MAX_CACHED:
        _retired_cache.clear()
    _retired_cache[key] = found
    return found


def retired_secrets(integration: Integration) -> list[str]:
    """The retired secrets that have not expired yet, newest first."""
    now = timezone.now()
    return [secret for secret, expires_at in _retired(integration) if expires_at > now]


def signing_secrets(integration: Integration, current: str | None = None) -> list[str]:
    """Every secret a delivery is signed with (and an inbound request may be signed with): current first."""
    if current is None:
        current = attribute_values(integration).get("secret") or ""
    return [secret for secret in (current, *retired_secrets(integration)) if secret]


@transaction.atomic
def rotate(integration: Integration, actor: str, new_secret: str | None = None, overlap: timedelta = OVERLAP) -> str:
    """Replace the signing secret, keep the old one signing for `overlap` (24 h), and return the new one."""
    new_secret = new_secret or standard_webhooks.generate_secret()
    standard_webhooks.secret_bytes(new_secret)  # ValueError for a malformed supplied secret
    old = attribute_values(integration).get("secret") or ""
    if old == new_secret:
        raise ValueError("The new secret is the current one.")
    now = timezone.now()
    RetiredSecret.objects.filter(integration=integration, expires_at__lte=now).delete()
    if old:
        RetiredSecret.objects.create(integration=integration, value=encrypt(old), retired_at=now, expires_at=now + overlap)
    save_attributes(integration, {"secret": new_secret}, actor=actor)
    until = (now + overlap).strftime("%Y-%m-%d %H:%M UTC")
    log(integration, "info", f"{actor} rotated the signing secret; deliveries carry the old signature too until {until}.")
    return new_secret


def overlap_ends(integration: Integration) -> datetime | None:
    """When the last retired secret stops signing (None when no rotation is in its overlap)."""
    now = timezone.now()
    return max((expires_at for _, expires_at in _retired(integration) if expires_at > now), default=None)
