"""The configuration flow shared by the console and the CLI: validate, test, save, activate."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from ..contract.attributes import AttributeSpec, serialize_value, validate_values
from ..contract.gateway import ConnectionInfo, IntegrationGateway
from ..core.errors import (
    ConfigurationInvalid,
    ConnectionTestFailed,
    ProviderError,
    SetupError,
    connection_test_failure,
    response_bodies_withheld,
)
from ..core.redaction import redact_text
from ..factory import get_integration_gateway
from ..models import Integration, IntegrationLog, IntegrationState
from ..outbound import transport
from ..types import IntegrationType
from . import lifecycle
from .history import failure_text, log
from .store import attribute_values, save_attributes, specs_for, stored_raw

logger = logging.getLogger(__name__)



def merge_raw(specs: list[AttributeSpec], current: dict[str, str], given: dict[str, Any]) -> dict[str, Any]:
    """Overlay given values on current ones; a blank secret means 'keep the stored one'."""
    merged: dict[str, Any] = dict(current)
    by_key = {spec.key: spec for spec in specs}
    for key, value in given.items():
        spec = by_key.get(key)
        if spec is not None and spec.is_secret and (value is None or str(value) == ""):
            continue
        merged[key] = value
    return merged


def _same_place(before: Any, after: Any) -> bool:
    """Whether two destination values name the same place (a trailing slash is no move)."""
    return str(before or "").strip().rstrip("/") == str(after or "").strip().rstrip("/")


def refuse_secrets_to_new_destination(specs: list[AttributeSpec], current: dict[str, str], given: dict[str, Any]) -> None:
    """Raise `invalid` when `given` moves a destination (a URL, a host) but keeps stored secrets that would go there."""
    # A blank secret means "keep the stored one", so without this rule an operator (or whoever has their session)
    # could send the stored credential to any host by changing the URL alone. Every secret hi transmits must be typed
    # again; a signing key, which never leaves hi, is kept.
    moved = [
        spec for spec in specs
        if spec.is_destination and spec.key in given and not _same_place(current.get(spec.key, spec.default), given[spec.key])
    ]  # fmt: skip
    if not moved:
        return
    where = " and ".join(spec.label for spec in moved)
    kept = [
        spec for spec in specs
        if spec.is_secret and spec.transmitted and current.get(spec.key) and not str(given.get(spec.key) or "").strip()
    ]  # fmt: skip
    if kept:
        message = "Re-enter the {}: the {} changed, and the stored value would be sent to the new destination."
        raise SetupError("invalid", field_errors={spec.key: message.format(spec.label, where) for spec in kept})


def check_configuration(integration_type: IntegrationType, raw: dict[str, Any]) -> dict[str, Any]:
    """Validate values by type, then by the gateway's offline rules; return typed values."""
    gateway = get_integration_gateway(integration_type)
    values, errors = validate_values(gateway.attribute_type.specs(), raw)
    if errors:
        raise SetupError("invalid", field_errors=errors)
    try:
        gateway.validate_configuration(values)
    except ConfigurationInvalid as exc:
        raise SetupError("invalid", field_errors=exc.errors) from None
    return values


def _test_connection(gateway: IntegrationGateway, values: dict[str, Any], timeout_s: float) -> ConnectionInfo:
    """The gateway's connection test under set-up's rules: every provider call ends within `timeout_s` in total."""
    # Its errors never carry what the provider answered: the URL is not trusted yet.
    with transport.deadline(timeout_s), response_bodies_withheld():
        try:
            return gateway.test_connection(values, timeout_s)
        except ProviderError as exc:
            # A provider error the gateway lets through says what it is: refused credentials, or no usable answer.
            raise connection_test_failure(exc) from None


def probe(
    integration_type: IntegrationType, values: dict[str, Any], timeout_s: float | None = None, integration: Integration | None = None
) -> ConnectionInfo:
    """Run the gateway's live connection test, bounded in time, mapping failures to codes."""
    # For an existing `integration`, the gateway prepares the test's values and records what the test did
    # (prepare_connection_test, record_connection_test), both here in the caller's thread.
    timeout_s = timeout_s or settings.HI_CONNECTION_TEST_TIMEOUT_S
    gateway = get_integration_gateway(integration_type)
    secrets = [str(values[s.key]) for s in gateway.attribute_type.specs() if s.is_secret and values.get(s.key)]
    tested = dict(gateway.prepare_connection_test(integration, values)) if integration is not None else values
    details: dict[str, Any] = {}
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hi-connection-test")
    try:
        future = executor.submit(_test_connection, gateway, tested, timeout_s)
        # Provider calls end by the deadline; the grace period bounds a gateway that waits on something else.
        info = future.result(timeout=timeout_s + 2)
        details = dict(info.details)
    except FutureTimeout:
        raise SetupError("cannot_connect", f"No answer within {timeout_s:g} seconds.") from None
    except ConnectionTestFailed as exc:
        details = dict(exc.details)
        sentence = redact_text(exc.sentence, secrets) if exc.sentence else ""
        raise SetupError(exc.code, redact_text(exc.message, secrets), sentence=sentence) from None
    except Exception as exc:  # noqa: BLE001 - shown as `unknown`, logged without secrets
        text = redact_text(f"{type(exc).__name__}: {exc}", secrets)
        logger.error("Connection test of %s failed unexpectedly: %s", integration_type.type_id, text)
        raise SetupError("unknown", text) from None
    finally:
        executor.shutdown(wait=False)
        if integration is not None and details:
            record_test(integration, details)
    if not info.unique_id:
        raise SetupError("unknown", "The provider did not identify the account.")
    return info


def record_test(integration: Integration, details: dict[str, Any]) -> None:
    """Let the gateway keep what a connection test did; a failure to keep it never changes the test's outcome."""
    try:
        with transaction.atomic():
            get_integration_gateway(integration.integration_type).record_connection_test(integration, details)
    except Exception as exc:  # noqa: BLE001 - logged (redacted); the operator still gets the test's result
        logger.error("Recording the connection test of %s failed: %s", integration.pk, failure_text(integration, exc))


def connection_changes(specs: list[AttributeSpec], before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The keys of attributes that affect the connection whose value differs between two typed value sets."""
    return [
        spec.key for spec in specs
        if spec.affects_connection and serialize_value(spec, before.get(spec.key)) != serialize_value(spec, after.get(spec.key))
    ]  # fmt: skip


def exclusive_key(integration_type: IntegrationType, unique_id: str) -> str | None:
    """The installation-wide key of an account whose provider allows one consumer (None for the others)."""
    if not get_integration_gateway(integration_type).single_consumer:
        return None
    return f"{integration_type.type_id}:{unique_id}"[:300]


def _elsewhere(integration_type: IntegrationType) -> SetupError:
    """The refusal of a single-consumer account connected in another workspace (never naming that workspace)."""
    reason = get_integration_gateway(integration_type).single_consumer
    sentence = f"This {integration_type.label} account is already connected in another workspace of this installation: {reason}."
    return SetupError("already_connected_elsewhere", sentence=sentence)


def _refuse_duplicate(workspace, integration_type: IntegrationType, unique_id: str, exclude=None) -> None:
    """Refuse an account another integration uses here (already_configured) or, for a single-consumer provider, elsewhere."""
    # already_connected_elsewhere: the provider allows one consumer and another workspace has it.
    same_account = Integration.objects.filter(integration_type=integration_type.type_id, unique_id=unique_id)
    if exclude is not None:
        same_account = same_account.exclude(pk=exclude.pk)
    existing = same_account.filter(workspace=workspace).first()
    if existing is not None:
        raise SetupError("already_configured", f"See “{existing.name}”.")
    if exclusive_key(integration_type, unique_id) is not None and same_account.exists():
        raise _elsewhere(integration_type)


def add_integration(
    workspace,
    integration_type: IntegrationType,
    name: str,
    raw: dict[str, Any],
    actor: str,
    user=None,
    timeout_s: float | None = None,
) -> Integration:
    """Validate, test, refuse duplicates, save and activate a new integration."""
    specs = specs_for(integration_type)
    values = check_configuration(integration_type, merge_raw(specs, {}, raw))
    info = probe(integration_type, values, timeout_s)
    _refuse_duplicate(workspace, integration_type, info.unique_id)
    try:
        with transaction.atomic():
            integration = Integration.objects.create(
                workspace=workspace,
                integration_type=integration_type.type_id,
                name=(name or "").strip() or info.title or integration_type.label,
                unique_id=info.unique_id,
                exclusive_key=exclusive_key(integration_type, info.unique_id),
                reason="Not activated yet.",
                created_by=user,
            )
            save_attributes(integration, values, actor)
            log(integration, IntegrationLog.Level.INFO, f"Added by {actor}.")
            if info.details:
                record_test(integration, dict(info.details))  # the test ran before the integration existed
    except IntegrityError:
        # Added meanwhile by someone else: here, or (single consumer) in another workspace.
        if Integration.objects.filter(workspace=workspace, integration_type=integration_type.type_id, unique_id=info.unique_id).exists():
            raise SetupError("already_configured") from None
        raise _elsewhere(integration_type) from None
    return lifecycle.activate(integration, actor)


def _apply(
    integration: Integration, raw: dict[str, Any], actor: str, name: str | None, timeout_s: float | None, always_test: bool = False
) -> list[str]:
    """Validate merged values, test them on the same account when needed (or `always_test`), save them; return what changed."""
    # A change tests live when it affects the connection.
    integration_type = integration.type
    specs = specs_for(integration_type)
    current = stored_raw(integration)
    refuse_secrets_to_new_destination(specs, current, raw)
    values = check_configuration(integration_type, merge_raw(specs, current, raw))
    if always_test or connection_changes(specs, attribute_values(integration), values):
        info = probe(integration_type, values, timeout_s, integration=integration)
        if info.unique_id != integration.unique_id:
            raise SetupError("wrong_account")
        # An account connected twice before single-consumer accounts were refused: say so rather than keep splitting its events.
        _refuse_duplicate(integration.workspace, integration_type, info.unique_id, exclude=integration)
        unique_id = info.unique_id
    else:
        # A description, a filter hi applies itself, the name: nothing the provider sees, so nothing to test.
        unique_id = integration.unique_id
    with transaction.atomic():
        key = exclusive_key(integration_type, unique_id)
        if integration.exclusive_key != key:
            try:
                with transaction.atomic():
                    Integration.objects.filter(pk=integration.pk).update(exclusive_key=key)
            except IntegrityError:
                raise _elsewhere(integration_type) from None
            integration.exclusive_key = key
        changed = save_attributes(integration, values, actor)
        if name is not None and name.strip() and name.strip() != integration.name:
            integration.name = name.strip()
            integration.save(update_fields=["name", "updated_at"])
            changed.append("name")
        if changed:
            log(integration, IntegrationLog.Level.INFO, f"Reconfigured by {actor}: {', '.join(changed)}.")
    return changed


def reconfigure(
    integration: Integration,
    raw: dict[str, Any],
    actor: str,
    name: str | None = None,
    timeout_s: float | None = None,
) -> Integration:
    """Change attributes (blank secrets kept) after a passing test on the same account; reload."""
    # Only a change to an attribute that affects the connection is tested live and reloads the integration: a new name
    # or description (AttributeSpec.affects_connection=False) is saved as it is.
    changed = _apply(integration, raw, actor, name, timeout_s)
    specs = {spec.key: spec for spec in specs_for(integration.type)}
    # A new name alone needs no reload: the provider never sees it.
    return reload(integration, actor) if any(key in specs and specs[key].affects_connection for key in changed) else integration


def reauthenticate(integration: Integration, raw: dict[str, Any], actor: str, timeout_s: float | None = None) -> Integration:
    """Replace credentials of the same account (never a second integration) and retry set-up."""
    credential_keys = {spec.key for spec in specs_for(integration.type) if spec.credential or spec.is_secret}
    unexpected = set(raw) - credential_keys
    if unexpected:
        raise SetupError("invalid", field_errors={key: "Not a credential of this integration." for key in unexpected})
    changed = _apply(integration, raw, actor, None, timeout_s, always_test=True)
    integration.refresh_from_db()
    # New credentials reload a running integration; a failed set-up is retried once with the
    # credentials just tested even if unchanged; a paused or disabled one stays as it was left.
    failed = {IntegrationState.SETUP_RETRY, IntegrationState.SETUP_ERROR, IntegrationState.AUTH_FAILED}
    if changed or IntegrationState(integration.state) in failed:
        return reload(integration, actor)
    return integration


def reload(integration: Integration, actor: str) -> Integration:
    """Apply new settings to a running integration by deactivating and activating it again."""
    state = IntegrationState(integration.state)
    if state is IntegrationState.ACTIVE:
        integration = lifecycle.deactivate(integration, actor, reason="Reloading with new settings.")
        if IntegrationState(integration.state) is IntegrationState.DISABLED:
            return lifecycle.activate(integration, actor)
        return integration
    if state in {IntegrationState.SETUP_RETRY, IntegrationState.SETUP_ERROR, IntegrationState.AUTH_FAILED}:
        return lifecycle.activate(integration, actor)
    return integration


def check_connection(integration: Integration, timeout_s: float | None = None) -> ConnectionInfo:
    """Test the stored configuration live (the Test connection action); saves nothing but the gateway's record of it."""
    info = probe(integration.type, attribute_values(integration), timeout_s, integration=integration)
    if info.unique_id != integration.unique_id:
        raise SetupError("wrong_account")
    return info
