"""The framework's models: integrations and their configuration (core), and the engine's rows."""
from .core import (
    AttributeChange,
    Entity,
    Integration,
    IntegrationAttribute,
    IntegrationLog,
    IntegrationState,
    StateChange,
)
from .engine import (
    BreakerState,
    Directive,
    DirectiveAttempt,
    DirectiveStatus,
    Event,
    InboundEvent,
    JobState,
    Lease,
    ListenerState,
    ProviderCall,
    Worker,
)

__all__ = [
    "AttributeChange",
    "BreakerState",
    "Directive",
    "DirectiveAttempt",
    "DirectiveStatus",
    "Entity",
    "Event",
    "InboundEvent",
    "Integration",
    "IntegrationAttribute",
    "IntegrationLog",
    "IntegrationState",
    "JobState",
    "Lease",
    "ListenerState",
    "ProviderCall",
    "StateChange",
    "Worker",
]
