"""Reading and writing an integration's attribute values: typed, encrypted, with history."""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from ..contract.attributes import AttributeSpec, parse_value, serialize_value
from ..core import crypto
from ..core.errors import SecretDecryptionError
from ..core.redaction import remember, secret_parts
from ..factory import get_integration_gateway
from ..models import AttributeChange, Integration, IntegrationAttribute


def specs_for(integration_type) -> list[AttributeSpec]:
    """The attribute declarations of a type's gateway."""
    return get_integration_gateway(integration_type).attribute_type.specs()


def stored_raw(integration: Integration) -> dict[str, str]:
    """The stored values as strings, secrets decrypted (for merging and for the gateway only)."""
    raw: dict[str, str] = {}
    for row in integration.attributes.all():
        raw[row.key] = crypto.decrypt(row.value) if row.is_secret and row.value else row.value
    return raw


_values_cache: dict[tuple, tuple[dict[str, Any], tuple[str, ...]]] = {}
MAX_CACHED = 512


def attribute_values(integration: Integration) -> dict[str, Any]:
    """Typed attribute values of an integration, secrets decrypted, defaults filled in."""
    # Kept per (integration, updated_at): saving attributes moves updated_at, so a change is seen
    # by the next call; a worker running thousands of directives decrypts once.
    key = (integration.pk, integration.updated_at)
    cached = _values_cache.get(key)
    if cached is None:
        values = _load_values(integration)
        specs = specs_for(integration.integration_type)
        cached = (values, tuple(str(values[s.key]) for s in specs if s.is_secret and values.get(s.key)))
        if len(_values_cache) >= MAX_CACHED:
            _values_cache.clear()
        _values_cache[key] = cached
    # Whoever holds the secrets in clear tells the process's logs and stores to redact them.
    remember(_owner(integration), cached[1])
    return dict(cached[0])


def _owner(integration: Integration) -> str:
    """The key under which the process remembers an integration's secrets."""
    return f"integration:{integration.pk}"


def _load_values(integration: Integration) -> dict[str, Any]:
    """Read, decrypt and parse the stored values."""
    raw = stored_raw(integration)
    values: dict[str, Any] = {}
    for spec in specs_for(integration.integration_type):
        source = raw.get(spec.key, spec.default)
        try:
            values[spec.key] = parse_value(spec, source)
        except Exception:
            # A value stored before a declaration changed: hand it over as stored.
            values[spec.key] = source
    return values


def display_values(integration: Integration) -> dict[str, Any]:
    """Values for showing, never decrypting: typed non-secrets, and for secrets whether one is set."""
    rows = {row.key: row for row in integration.attributes.all()}
    values: dict[str, Any] = {}
    for spec in specs_for(integration.integration_type):
        row = rows.get(spec.key)
        if spec.is_secret:
            values[spec.key] = bool(row and row.value)
            continue
        source = row.value if row is not None else spec.default
        try:
            values[spec.key] = parse_value(spec, source)
        except Exception:
            values[spec.key] = source
    return values


def secret_values(integration: Integration) -> list[str]:
    """The plain secret values of an integration, for redaction: each value inside a structured one (e.g. JSON headers) too."""
    # Undecryptable values are left out: they cannot leak.
    values = []
    for row in integration.attributes.filter(is_secret=True).exclude(value=""):
        try:
            values.extend(secret_parts(crypto.decrypt(row.value)))
        except SecretDecryptionError:
            continue
    remember(_owner(integration), values)
    return values


@transaction.atomic
def save_attributes(integration: Integration, values: dict[str, Any], actor: str) -> list[str]:
    """Store typed values (encrypting secrets) and record each change; return the changed keys."""
    existing = {row.key: row for row in integration.attributes.select_for_update()}
    changed: list[str] = []
    for spec in specs_for(integration.integration_type):
        if spec.key not in values:
            continue
        new_text = serialize_value(spec, values[spec.key])
        row = existing.get(spec.key)
        old_text = None
        if row is not None:
            old_text = crypto.decrypt(row.value) if row.is_secret and row.value else row.value
        if row is not None and old_text == new_text:
            continue
        stored = crypto.encrypt(new_text) if spec.is_secret and new_text else new_text
        if row is None:
            IntegrationAttribute.objects.create(
                integration=integration, key=spec.key, value=stored, is_secret=spec.is_secret
            )
        else:
            row.value, row.is_secret = stored, spec.is_secret
            row.save(update_fields=["value", "is_secret", "updated_at"])
        AttributeChange.objects.create(
            integration=integration,
            key=spec.key,
            is_secret=spec.is_secret,
            # Secrets: the history says that they changed, never what they were.
            old_value=None if spec.is_secret else old_text,
            new_value=None if spec.is_secret else new_text,
            actor=actor,
        )
        changed.append(spec.key)
    if changed:
        # Readers cache values per updated_at: moving it makes every process see the change.
        now = timezone.now()
        Integration.objects.filter(pk=integration.pk).update(updated_at=now)
        integration.updated_at = now
    return changed
