"""The framework's models: integrations and their configuration (core), the engine's rows, and inbound keys."""
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
from .inbound import HookKey, RefusalTally

__all__ = [
    "AttributeChange",
    "BreakerState",
    "Directive",
    "DirectiveAttempt",
    "DirectiveStatus",
    "Entity",
    "Event",
    "HookKey",
    "InboundEvent",
    "Integration",
    "IntegrationAttribute",
    "IntegrationLog",
    "IntegrationState",
    "JobState",
    "Lease",
    "ListenerState",
    "ProviderCall",
    "RefusalTally",
    "StateChange",
    "Worker",
]
