"""A short, JSON-ready description of an integration, shared by the CLI and any API."""
from __future__ import annotations

from typing import Any

from ..config.hookkeys import receive_url_of
from ..config.store import attribute_values
from ..contract.gateway import Capability
from ..factory import get_integration_gateway
from ..models import Integration
from .problems import health_word, problems


def receive_url(integration: Integration) -> str | None:
    """The URL a provider posts webhooks to (HI_BASE_URL + /hooks/<key>/), or None when the type receives no webhooks."""
    gateway = get_integration_gateway(integration.integration_type)
    if not gateway.supports(Capability.INBOUND_WEBHOOKS):
        return None
    return receive_url_of(integration)


def revealed_values(integration: Integration) -> dict[str, Any]:
    """The values a just-added integration shows once ({} for most types)."""
    gateway = get_integration_gateway(integration.integration_type)
    if not gateway.revealed_on_create:
        return {}
    values = attribute_values(integration)
    return {name: values.get(key) or None for name, key in gateway.revealed_on_create.items()}


def integration_summary(integration: Integration, found: list | None = None) -> dict[str, Any]:
    """Id, type, name, state, reason, unique id, receive URL and health problems; never an attribute value."""
    found = problems(integration) if found is None else found
    return {
        "id": str(integration.pk),
        "type": integration.integration_type,
        "name": integration.name,
        "state": integration.state,
        "reason": integration.reason,
        "unique_id": integration.unique_id,
        "receive_url": receive_url(integration),
        "health": health_word(found),
        "problems": [p.as_dict() for p in found],
    }
