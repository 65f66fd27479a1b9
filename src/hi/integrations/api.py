"""The front door: the whole of the framework a service (or a hub) may import; every other module of hi.integrations is private to it."""
# A service imports `hi.integrations.api` and nothing else of the framework (its tests add the test kit,
# `hi.integrations.testing`). The contracts in .importlinter hold everyone to it, and `make test` checks
# them: what a service imports becomes an API that cannot change, so it is this list and no more.
# The names are grouped as a service meets them, from declaring a gateway to answering a webhook.
# The framework itself never imports this module. The imports are grouped by purpose, not sorted.
# ruff: noqa: I001
from __future__ import annotations

# The registry of providers, and the gateway a service implements.
from .types import IntegrationType
from .contract.gateway import Capability, ConnectionInfo, EntityData, IntegrationGateway
from .contract.attributes import AttributeSpec, AttributeType, ValueType
from .factory import get_integration_gateway

# What a gateway declares for the engine to run (and what a service offers `make run`'s demo).
from .contract.declarations import DEFAULT_SCHEDULE, DirectiveHandler, EventHook, Listener, ScheduledJob
from .engine.websocket import WebsocketConnection, WebsocketListener
from .contract.receivers import MAX_BODY_BYTES, UNAVAILABLE, HmacSha256Receiver, InboundReceiver
from .engine.batches import BatchItem, BatchOutcome, ItemFailure, parse_items, store_batch
from .contract.demos import DemoSeed, demo_seed, demo_seeds
from .contract.roles import role_errors

# The error tree (core/errors.py): one root, HiError, carrying provider, integration, status and excerpt.
from .core.errors import (
    BreakerOpen,
    CannotConnect,
    ConfigurationInvalid,
    ConnectionTestFailed,
    DemoUnavailable,
    DirectiveFailed,
    DirectiveRetry,
    HiError,
    IllegalTransition,
    InboundRejected,
    IntegrationAuthFailed,
    IntegrationError,
    IntegrationFailure,
    IntegrationNotReady,
    InvalidAuth,
    ItemInvalid,
    ListenerAuthFailed,
    ProviderAuthError,
    ProviderDataError,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    SecretDecryptionError,
    SetupError,
    SignatureError,
    SyncFailed,
    UnresolvableHost,
    UnsafeDestination,
    UnsafeURL,
    bodies_withheld,
    connection_test_failure,
    set_up_failure,
)

# What a provider sends, read safely; secrets kept out of text.
from .core.provider_data import MAX_DEPTH, clean_json, clean_text, is_clean_text, loads
from .core.redaction import REDACTED, RedactedTextField, redact_text

# Calling a provider: the one HTTP client, OAuth clients and tokens, signatures, Standard Webhooks and loop protection (modules).
from .outbound.http import ProviderClient, ProviderResponse, client_for_integration, forget_clients
from .outbound.error_readings import ErrorReader, ErrorReading
from .outbound.tokens import (
    CAMEL_CASE_FORM,
    RFC6749_FORM,
    Token,
    TokenForm,
    TokenManager,
    client_credentials,
    forget_tokens,
    oauth_client,
)
from .outbound.signing import HmacSha256Signer, hmac_sha256, hmac_sha256_base64, hmac_sha256_hex, verify_hmac_sha256
from .outbound import origin, standard_webhooks

# Recording work in the caller's transaction.
from .outbox.events import EVENT_TYPES, publish, register_event_type
from .outbox.directives import enqueue
from .engine.execution import run_now as run_directive_now

# An integration's configuration and state.
from .config.store import attribute_values, display_values, save_attributes, secret_values
from .config.history import failure_text, log
from .config.lifecycle import deactivate, mark_auth_failed
from .config.setup import add_integration
from .config.hookkeys import is_own_receive_url, receive_path
from .config.entities import upsert_entity
from .engine.sync import parse_entities, sync_now
from .core.crypto import decrypt, encrypt, register_encrypted_field

# The tables a service reads and writes.
from .models import Directive, DirectiveStatus, Entity, Event, InboundEvent, Integration, IntegrationLog, IntegrationState
from .models.engine import LIVE_STATUSES

# What a service's own pages and commands reuse from the console's.
from .console.helpers import DEFAULT_WORKSPACE, actor_of, find_integration, find_workspace, partial
from .console.queries import count_by_status, integration_for, newest_page, status_options
from .console.summary import receive_url
from .console.health import Chart, build_chart, hourly

__all__ = [
    # The registry and the gateway
    "IntegrationType", "Capability", "ConnectionInfo", "EntityData", "IntegrationGateway",
    "AttributeSpec", "AttributeType", "ValueType", "get_integration_gateway",
    # Declarations
    "DEFAULT_SCHEDULE", "DirectiveHandler", "EventHook", "Listener", "ScheduledJob", "WebsocketListener",
    "WebsocketConnection",
    "MAX_BODY_BYTES", "UNAVAILABLE", "HmacSha256Receiver", "InboundReceiver",
    "BatchItem", "BatchOutcome", "ItemFailure", "parse_items", "store_batch",
    "DemoSeed", "demo_seed", "demo_seeds", "role_errors",
    # Errors
    "HiError",
    "IntegrationFailure", "IntegrationNotReady", "IntegrationAuthFailed", "IntegrationError", "set_up_failure",
    "connection_test_failure",
    "ConnectionTestFailed", "CannotConnect", "InvalidAuth", "ConfigurationInvalid", "SetupError", "IllegalTransition",
    "DemoUnavailable",
    "ProviderError", "ProviderUnavailable", "ProviderTimeout", "BreakerOpen", "ProviderRateLimited", "ProviderAuthError",
    "ProviderRejected", "UnsafeDestination", "UnsafeURL", "UnresolvableHost", "bodies_withheld",
    "ProviderDataError", "ItemInvalid", "SignatureError", "InboundRejected",
    "DirectiveRetry", "DirectiveFailed", "SyncFailed", "ListenerAuthFailed", "SecretDecryptionError",
    # Provider data and redaction
    "MAX_DEPTH", "clean_json", "clean_text", "is_clean_text", "loads", "REDACTED", "RedactedTextField", "redact_text",
    # Calling a provider
    "ProviderClient", "ProviderResponse", "client_for_integration", "forget_clients", "ErrorReader", "ErrorReading", "oauth_client",
    "TokenForm", "RFC6749_FORM", "CAMEL_CASE_FORM", "Token", "TokenManager", "client_credentials", "forget_tokens",
    "HmacSha256Signer", "hmac_sha256", "hmac_sha256_base64", "hmac_sha256_hex", "verify_hmac_sha256", "origin",
    "standard_webhooks",
    # Recording work
    "EVENT_TYPES", "publish", "register_event_type", "enqueue", "run_directive_now",
    # Configuration and state
    "attribute_values", "display_values", "save_attributes", "secret_values", "failure_text", "log", "deactivate",
    "mark_auth_failed", "add_integration", "is_own_receive_url", "receive_path", "upsert_entity", "parse_entities",
    "sync_now", "decrypt", "encrypt", "register_encrypted_field",
    # Tables
    "Directive", "DirectiveStatus", "Entity", "Event", "InboundEvent", "Integration", "IntegrationLog", "IntegrationState",
    "LIVE_STATUSES",
    # The console's helpers
    "DEFAULT_WORKSPACE", "actor_of", "find_integration", "find_workspace", "partial",
    "count_by_status", "integration_for", "newest_page", "status_options", "receive_url", "Chart", "build_chart", "hourly",
]
