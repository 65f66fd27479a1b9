"""The messaging hub's contract with services: a gateway that subclasses MessageChannel sends and receives the hub's messages."""
# The framework's gateway knows nothing of messages, and the hub imports no service: a service that talks to
# customers (WhatsApp) subclasses MessageChannel beside IntegrationGateway and implements send_message
# (queue the provider send, a directive, in the caller's transaction); it may also offer message_templates
# (the approved templates an operator may choose) and open_media (a received message's media, fetched now).
# The hub recognises a channel by that (isinstance), as the orders hub recognises an OrderSource, and a
# start-up check (hi.messaging.checks) refuses a channel that does not implement send_message.
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from hi.integrations.api import HiError, Integration, failure_text, get_integration_gateway

from .models import Message

#: What a message channel must implement (message_templates and open_media have defaults: none).
REQUIRED_METHODS = ("send_message",)

logger = logging.getLogger(__name__)


class MessageRefused(HiError):
    """A message hi will not send (opted out, outside the window, no channel, a bad number); nothing was queued."""


class MediaUnavailable(HiError):
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


class MessageChannel:
    """Subclass beside IntegrationGateway to send the messaging hub's messages (and offer templates and media)."""

    def send_message(self, integration: Integration, message: Message) -> None:
        """Queue the provider send of a queued outgoing message (a directive), in the caller's transaction."""
        raise NotImplementedError(f"{type(self).__name__} must implement send_message()")

    def message_templates(self, integration: Integration) -> list[TemplateOption]:
        """The approved templates an operator may send (none by default)."""
        return []

    def open_media(self, integration: Integration, message: Message) -> MediaContent:
        """A received message's media, fetched now; MediaUnavailable when there is none to fetch."""
        raise MediaUnavailable(f"{type(self).__name__} keeps no media.")


def channel_problems(gateway_class: type) -> list[str]:
    """What a gateway class that declares itself a MessageChannel misses (empty when complete, or when it is no channel)."""
    if not (isinstance(gateway_class, type) and issubclass(gateway_class, MessageChannel)):
        return []
    return [f"does not implement {name}()" for name in REQUIRED_METHODS if getattr(gateway_class, name) is getattr(MessageChannel, name)]


def channel_for(integration: Integration | None) -> MessageChannel | None:
    """The integration's gateway when it is a message channel, else None."""
    if integration is None:
        return None
    try:
        gateway = get_integration_gateway(integration.integration_type)
    except ValueError:  # a type whose service was uninstalled
        return None
    return gateway if isinstance(gateway, MessageChannel) else None


def templates_for(integration: Integration | None) -> list[TemplateOption]:
    """The approved templates the integration offers ([] when it offers none or cannot say now)."""
    channel = channel_for(integration)
    if channel is None:
        return []
    try:
        return list(channel.message_templates(integration))
    except Exception as exc:  # noqa: BLE001 - a broken service must not take the conversation page down
        logger.error("message_templates of %s failed: %s", integration.pk, failure_text(integration, exc))
        return []
