"""How the hub reaches a messaging integration: the gateway's MESSAGING capability, and what it exchanges."""
# The hub imports no service. A service that sends messages declares Capability.MESSAGING on its gateway and
# implements send_message(integration, message) (queue the provider send, a directive, in the caller's
# transaction), message_templates(integration) (the approved templates an operator may choose) and
# open_media(integration, message) (a received message's media, fetched now). The hub finds the gateway of a
# message's integration with channel_for(), as the orders hub finds an order's source with source_gateway().
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from hi.integrations.factory import get_integration_gateway
from hi.integrations.gateway import Capability, IntegrationGateway
from hi.integrations.lifecycle import failure_text
from hi.integrations.models import Integration

logger = logging.getLogger(__name__)


class MessageRefused(Exception):
    """A message hi will not send (opted out, outside the window, no channel, a bad number); nothing was queued."""


class MediaUnavailable(Exception):
    """A received message's media could not be fetched; the message says why (secrets removed)."""


@dataclass(frozen=True)
class TemplateOption:
    """An approved template an operator may send: name, language, category, body and its placeholder count."""

    name: str
    language: str
    category: str = ""
    body: str = ""
    params: int = 0

    @property
    def key(self) -> str:
        """How forms and the CLI name it: name:language."""
        return f"{self.name}:{self.language}"


@dataclass(frozen=True)
class TemplateSend:
    """A template to send: its name, language and body parameters, in order."""

    name: str
    language: str = "pt_BR"
    params: tuple[str, ...] = ()


@dataclass
class MediaContent:
    """Media fetched for the operator: its type, size and bytes (streamed, never stored)."""

    content_type: str
    chunks: Iterable[bytes]
    size: int | None = None
    filename: str = ""
    closers: list = field(default_factory=list)

    def stream(self) -> Iterator[bytes]:
        """The bytes, then whatever the fetch holds open is closed."""
        try:
            yield from self.chunks
        finally:
            for close in self.closers:
                close()


def channel_for(integration: Integration | None) -> IntegrationGateway | None:
    """The integration's gateway when it sends messages (MESSAGING), else None."""
    if integration is None:
        return None
    try:
        gateway = get_integration_gateway(integration.integration_type)
    except ValueError:  # a type whose service was uninstalled
        return None
    return gateway if gateway.supports(Capability.MESSAGING) else None


def templates_for(integration: Integration | None) -> list[TemplateOption]:
    """The approved templates the integration offers ([] when it offers none or cannot say now)."""
    gateway = channel_for(integration)
    if gateway is None:
        return []
    try:
        return list(gateway.message_templates(integration))
    except Exception as exc:  # noqa: BLE001 - a broken service must not take the conversation page down
        logger.error("message_templates of %s failed: %s", integration.pk, failure_text(integration, exc))
        return []
