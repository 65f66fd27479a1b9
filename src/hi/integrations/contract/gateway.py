"""IntegrationGateway: the contract every service implements, with its optional capabilities."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping

from django.http import HttpRequest

from ..models import Integration
from .attributes import AttributeType
from .declarations import DirectiveHandler, EventHook, Listener, ScheduledJob
from .receivers import InboundReceiver


class Capability(str, Enum):
    """Optional capabilities a gateway declares so the console shows only what it supports."""

    ENTITY_SYNC = "entity_sync"
    SCHEDULED_JOBS = "scheduled_jobs"
    INBOUND_WEBHOOKS = "inbound_webhooks"
    DIRECTIVE_HANDLERS = "directive_handlers"
    EVENT_HOOKS = "event_hooks"
    WEBSOCKET_LISTENERS = "websocket_listeners"


# The method each capability requires the gateway to override.
CAPABILITY_METHODS: dict[Capability, str] = {
    Capability.ENTITY_SYNC: "sync_entities",
    Capability.SCHEDULED_JOBS: "scheduled_jobs",
    Capability.INBOUND_WEBHOOKS: "receiver",
    Capability.DIRECTIVE_HANDLERS: "directive_handlers",
    Capability.EVENT_HOOKS: "event_hooks",
    Capability.WEBSOCKET_LISTENERS: "websocket_listeners",
}

REQUIRED_METHODS = ("activate", "deactivate", "manage", "validate_configuration", "test_connection")


@dataclass(frozen=True)
class ConnectionInfo:
    """What a passing connection test learned: the account's unique id and a suggested name."""

    unique_id: str
    title: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EntityData:
    """One external object as the provider reports it during a sync."""

    external_id: str
    name: str
    kind: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class IntegrationGateway:
    """Base class of a service's singleton gateway; stateless between calls."""

    #: The service's attribute enum (a subclass of AttributeType).
    attribute_type: type[AttributeType] | None = None
    #: Optional capabilities this gateway implements.
    capabilities: frozenset[Capability] = frozenset()
    #: Static path of the service's logo (SVG).
    logo: str = "hi/img/integration.svg"
    #: Values shown to the operator once, right after the integration is added ({output name:
    #: attribute key}), e.g. a signing secret hi generated; never shown again afterwards.
    revealed_on_create: dict[str, str] = {}
    #: Why the provider allows one consumer per account (e.g. a shared event queue that hands each event
    #: to whoever asks first), when it does: such an account is connected once in the whole installation,
    #: whatever the workspace ("" allows one integration per account in each workspace).
    single_consumer: str = ""
    #: Rules of the quality checklist (`manage.py hi_quality`) that do not apply to this service, {rule id: why}:
    #: the reason is shown in the report; one without a reason, or for no rule, fails the checklist.
    quality_exemptions: Mapping[str, str] = {}

    def supports(self, capability: Capability) -> bool:
        """Whether the gateway declares a capability."""
        return capability in self.capabilities

    def activate(self, integration: Integration) -> None:
        """Set the integration up; raise IntegrationNotReady / AuthFailed / Error to classify failure."""
        raise NotImplementedError(f"{type(self).__name__} must implement activate()")

    def deactivate(self, integration: Integration) -> None:
        """Undo everything activate did (listeners, subscriptions, provider-side registrations)."""
        raise NotImplementedError(f"{type(self).__name__} must implement deactivate()")

    def manage(self, request: HttpRequest, integration: Integration) -> str:
        """Render the service's own pane (HTML) shown inside the framework's manage page."""
        raise NotImplementedError(f"{type(self).__name__} must implement manage()")

    def validate_configuration(self, attributes: Mapping[str, Any]) -> None:
        """Check typed attribute values offline (no network); raise ConfigurationInvalid."""
        raise NotImplementedError(f"{type(self).__name__} must implement validate_configuration()")

    def test_connection(self, attributes: Mapping[str, Any], timeout_s: float) -> ConnectionInfo:
        """Probe the provider live within timeout_s; raise CannotConnect or InvalidAuth."""
        raise NotImplementedError(f"{type(self).__name__} must implement test_connection()")

    def prepare_connection_test(self, integration: Integration, attributes: Mapping[str, Any]) -> Mapping[str, Any]:
        """The values test_connection gets for a live test of an existing integration (by default its attributes)."""
        # Runs in the caller's thread before Reconfigure or Test connection; the test itself runs in another
        # thread, without the database, so a service whose test depends on more than the attributes adds it
        # here under a key no attribute uses (the webhooks add the secrets a rotation keeps signing with).
        return attributes

    def record_connection_test(self, integration: Integration, details: Mapping[str, Any]) -> None:
        """Keep what a live test of this integration did (ConnectionInfo or ConnectionTestFailed details); by default nothing."""
        # Runs in the caller's thread once the integration exists (also right after it is added); the webhooks
        # log their ping in the delivery log.

    def sync_entities(self, integration: Integration) -> list[EntityData]:
        """Capability ENTITY_SYNC: the provider's current external objects."""
        raise NotImplementedError(f"{type(self).__name__} does not support entity sync")

    def scheduled_jobs(self) -> list[ScheduledJob]:
        """Capability SCHEDULED_JOBS: ScheduledJob declarations the worker runs per active integration."""
        raise NotImplementedError(f"{type(self).__name__} declares no scheduled jobs")

    def directive_handlers(self) -> list[DirectiveHandler]:
        """Capability DIRECTIVE_HANDLERS: the DirectiveHandler of each topic this service executes."""
        raise NotImplementedError(f"{type(self).__name__} declares no directive handlers")

    def event_hooks(self) -> list[EventHook]:
        """Capability EVENT_HOOKS: EventHook subscriptions that turn events into directives."""
        raise NotImplementedError(f"{type(self).__name__} declares no event hooks")

    def websocket_listeners(self, integration: Integration) -> list[Listener]:
        """Capability WEBSOCKET_LISTENERS: listeners the worker holds open for an active integration."""
        raise NotImplementedError(f"{type(self).__name__} declares no websocket listeners")

    def receiver(self, integration: Integration) -> InboundReceiver:
        """Capability INBOUND_WEBHOOKS: the InboundReceiver that verifies, parses and accepts this integration's webhooks."""
        raise NotImplementedError(f"{type(self).__name__} receives no webhooks")

    def diagnostics(self, integration: Integration) -> dict[str, Any]:
        """Extra service-specific diagnostics (redacted by the framework before download)."""
        return {}


def contract_problems(gateway_class: type) -> list[str]:
    """What a gateway class misses of the contract (empty when it is complete)."""
    problems: list[str] = []
    if not isinstance(gateway_class, type) or not issubclass(gateway_class, IntegrationGateway):
        return [f"{gateway_class!r} is not a subclass of IntegrationGateway"]
    attribute_type = gateway_class.attribute_type
    if not (isinstance(attribute_type, type) and issubclass(attribute_type, AttributeType)):
        problems.append("attribute_type is not an AttributeType enum")
    for name in REQUIRED_METHODS:
        if getattr(gateway_class, name) is getattr(IntegrationGateway, name):
            problems.append(f"does not implement {name}()")
    for capability in gateway_class.capabilities:
        method = CAPABILITY_METHODS[Capability(capability)]
        if getattr(gateway_class, method, None) is getattr(IntegrationGateway, method, None):
            problems.append(f"declares {capability.value} but does not implement {method}()")
    return problems
