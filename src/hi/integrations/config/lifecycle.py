"""The integration state machine: activate, deactivate, pause, resume, with classified failures."""
from __future__ import annotations

import logging
import random
import traceback
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ..core.errors import IllegalTransition, IntegrationAuthFailed, IntegrationError, IntegrationNotReady, ProviderError, set_up_failure
from ..core.redaction import redact_text
from ..factory import get_integration_gateway
from ..models import Integration, IntegrationLog, IntegrationState, StateChange
from ..outbox.events import publish
from .entities import release_entities
from .history import failure_text, log
from .store import secret_values

logger = logging.getLogger(__name__)
S = IntegrationState

#: The only legal moves; anything else raises IllegalTransition.
TRANSITIONS: dict[IntegrationState, frozenset[IntegrationState]] = {
    S.DISABLED: frozenset({S.ACTIVATING}),
    S.ACTIVATING: frozenset({S.ACTIVE, S.SETUP_RETRY, S.AUTH_FAILED, S.SETUP_ERROR}),
    # From active, runtime checks may find the provider gone or the credentials revoked.
    S.ACTIVE: frozenset({S.PAUSED, S.DEACTIVATING, S.SETUP_RETRY, S.AUTH_FAILED, S.SETUP_ERROR}),
    S.SETUP_RETRY: frozenset({S.ACTIVATING, S.DEACTIVATING}),
    S.AUTH_FAILED: frozenset({S.ACTIVATING, S.DEACTIVATING}),
    S.SETUP_ERROR: frozenset({S.ACTIVATING, S.DEACTIVATING}),
    S.PAUSED: frozenset({S.ACTIVATING, S.DEACTIVATING}),
    S.DEACTIVATING: frozenset({S.DISABLED, S.FAILED_DEACTIVATE}),
    S.FAILED_DEACTIVATE: frozenset({S.DEACTIVATING}),
}

#: States from which Activate (or Resume, or a scheduled retry) may start.
ACTIVATABLE = frozenset({S.DISABLED, S.SETUP_RETRY, S.AUTH_FAILED, S.SETUP_ERROR, S.PAUSED})
#: States from which Deactivate may start.
DEACTIVATABLE = frozenset(
    {S.ACTIVE, S.PAUSED, S.SETUP_RETRY, S.AUTH_FAILED, S.SETUP_ERROR, S.FAILED_DEACTIVATE}
)
#: States in which an integration may be removed without deactivating it first.
REMOVABLE_AT_ONCE = frozenset({S.DISABLED})

MAX_REASON = 2000
#: An activation or deactivation still running after this long was interrupted (the process died).
INTERRUPTED_AFTER = timedelta(minutes=10)


def retry_delay(tries: int) -> float:
    """Seconds before set-up retry number `tries` (0-based): 5, 10, 20, 40, then 80, plus jitter."""
    return 5 * 2 ** min(tries, 4) + random.uniform(0, 1)


def transition(
    integration: Integration,
    to_state: IntegrationState,
    reason: str,
    actor: str,
    *,
    next_attempt_at=None,
) -> Integration:
    """Move to `to_state` if legal and nobody else moved first; append the history row."""
    from_state = IntegrationState(integration.state)
    if to_state not in TRANSITIONS[from_state]:
        raise IllegalTransition(integration, to_state)
    reason = reason[:MAX_REASON]
    retry_count = integration.retry_count + 1 if to_state is S.SETUP_RETRY else (
        integration.retry_count if to_state is S.ACTIVATING else 0
    )
    with transaction.atomic():
        # Compare-and-set on the current state so that two concurrent actions cannot both win.
        updated = Integration.objects.filter(pk=integration.pk, state=from_state).update(
            state=to_state,
            reason=reason,
            retry_count=retry_count,
            next_attempt_at=next_attempt_at,
            last_activity_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if not updated:
            integration.refresh_from_db()
            raise IllegalTransition(integration, to_state)
        StateChange.objects.create(
            integration=integration, from_state=from_state, to_state=to_state, reason=reason, actor=actor
        )
        publish(
            "integration.state_changed",
            {
                "integration": str(integration.pk),
                "type": integration.integration_type,
                "name": integration.name,
                "from": str(from_state),
                "to": str(to_state),
                "reason": reason,
            },
            integration.workspace_id,
            integration,
        )
    integration.refresh_from_db()
    return integration


def mark_auth_failed(integration: Integration, reason: str, actor: str, what: str = "Authentication failed while working") -> None:
    """Credentials refused outside set-up (a job, a directive): auth_failed, unless no longer active."""
    integration.refresh_from_db()
    try:
        transition(integration, S.AUTH_FAILED, reason, actor)
        log(integration, IntegrationLog.Level.ERROR, f"{what}: {reason}")
    except IllegalTransition:
        pass


def recover_interrupted(integration: Integration, actor: str, now=None) -> Integration:
    """Move an integration stuck in activating/deactivating by a dead process to an error state."""
    now = now or timezone.now()
    state = IntegrationState(integration.state)
    if state not in (S.ACTIVATING, S.DEACTIVATING) or now - integration.updated_at < INTERRUPTED_AFTER:
        return integration
    target = S.SETUP_ERROR if state is S.ACTIVATING else S.FAILED_DEACTIVATE
    reason = f"{state.label} was interrupted (no result after {int(INTERRUPTED_AFTER.total_seconds() // 60)} minutes)."
    try:
        return transition(integration, target, reason, actor)
    except IllegalTransition:
        return integration  # someone else finished or recovered it meanwhile


#: How each classified failure lands: state, operator log level, label, Python log level.
#: Home Assistant logs not-ready retries at debug level only: they are expected.
FAILURES: tuple[tuple[type[Exception], IntegrationState, str, str, int], ...] = (
    (IntegrationNotReady, S.SETUP_RETRY, IntegrationLog.Level.WARNING, "Not ready", logging.DEBUG),
    (IntegrationAuthFailed, S.AUTH_FAILED, IntegrationLog.Level.ERROR, "Authentication failed", logging.WARNING),
    (IntegrationError, S.SETUP_ERROR, IntegrationLog.Level.ERROR, "Set-up error", logging.ERROR),
)


def _fail(integration: Integration, actor: str, state: IntegrationState, label: str, text: str, level: str, py_level: int):
    """Log a failure (Python log and the operator's log) and land in `state` with `text` as reason."""
    logger.log(py_level, "Integration %s: %s: %s", integration.pk, label, text)
    log(integration, level, f"{label}: {text}")
    next_attempt_at = None
    if state is S.SETUP_RETRY:
        next_attempt_at = timezone.now() + timedelta(seconds=retry_delay(integration.retry_count))
    return transition(integration, state, text, actor, next_attempt_at=next_attempt_at)


def activate(integration: Integration, actor: str) -> Integration:
    """Run the gateway's activate and land in active, setup_retry, auth_failed or setup_error."""
    integration = recover_interrupted(integration, actor)
    if IntegrationState(integration.state) not in ACTIVATABLE:
        raise IllegalTransition(integration, S.ACTIVATING)
    transition(integration, S.ACTIVATING, "Setting up.", actor)
    gateway = get_integration_gateway(integration.integration_type)
    try:
        gateway.activate(integration)
    except Exception as exc:  # noqa: BLE001 - any failure lands in a state, never a 500
        # A provider error the gateway lets through is classified as set_up_failure() would: an outage retries.
        exc = set_up_failure(exc) if isinstance(exc, ProviderError) else exc
        for failure, state, level, label, py_level in FAILURES:
            if isinstance(exc, failure):
                return _fail(integration, actor, state, label, failure_text(integration, exc), level, py_level)
        trace = redact_text("".join(traceback.format_exception(exc)), secret_values(integration))
        logger.error("Integration %s failed unexpectedly during set-up:\n%s", integration.pk, trace)
        text = f"Unexpected error: {type(exc).__name__}: {failure_text(integration, exc)}"
        return _fail(integration, actor, S.SETUP_ERROR, "Set-up error", text, IntegrationLog.Level.ERROR, logging.DEBUG)
    log(integration, IntegrationLog.Level.INFO, "Activated.")
    return transition(integration, S.ACTIVE, "", actor)


def deactivate(integration: Integration, actor: str, reason: str = "Deactivated.") -> Integration:
    """Run the gateway's deactivate and land in disabled or failed_deactivate."""
    integration = recover_interrupted(integration, actor)
    if IntegrationState(integration.state) not in DEACTIVATABLE:
        raise IllegalTransition(integration, S.DEACTIVATING)
    transition(integration, S.DEACTIVATING, "Shutting down.", actor)
    gateway = get_integration_gateway(integration.integration_type)
    try:
        gateway.deactivate(integration)
    except Exception as exc:  # noqa: BLE001 - the failure is shown on the manage page
        text = failure_text(integration, exc)
        return _fail(integration, actor, S.FAILED_DEACTIVATE, "Deactivation failed", text, IntegrationLog.Level.ERROR, logging.ERROR)
    log(integration, IntegrationLog.Level.INFO, reason)
    return transition(integration, S.DISABLED, reason, actor)


def pause(integration: Integration, actor: str) -> Integration:
    """Stop acting on the integration while keeping its configuration and pending work."""
    log(integration, IntegrationLog.Level.INFO, f"Paused by {actor}.")
    return transition(integration, S.PAUSED, f"Paused by {actor}.", actor)


def resume(integration: Integration, actor: str) -> Integration:
    """Set a paused integration up again (it is re-checked, as on activation)."""
    if IntegrationState(integration.state) is not S.PAUSED:
        raise IllegalTransition(integration, S.ACTIVATING)
    return activate(integration, actor)


def due_for_retry(now=None):
    """Integrations in setup_retry whose next attempt time has come."""
    return Integration.objects.filter(state=S.SETUP_RETRY, next_attempt_at__lte=now or timezone.now())


def retry_due(now=None, actor: str = "hi") -> list[Integration]:
    """Retry every integration in setup_retry whose next attempt time has come."""
    results = []
    for integration in due_for_retry(now):
        try:
            results.append(activate(integration, actor))
        except IllegalTransition:
            continue  # another process got there first
    return results


def remove(
    integration: Integration, actor: str, delete_entities: bool = False, force: bool = False
) -> tuple[int, int]:
    """Deactivate if needed, release entities (keep edited ones unless asked), delete the row."""
    # With `force`, a gateway that fails to deactivate does not prevent the removal.
    integration = recover_interrupted(integration, actor)
    if IntegrationState(integration.state) not in REMOVABLE_AT_ONCE:
        integration = deactivate(integration, actor, reason=f"Removing, by {actor}.")
        if IntegrationState(integration.state) is not S.DISABLED and not force:
            raise IllegalTransition(
                integration,
                S.DISABLED,
                f"{integration.name} was not removed: deactivation failed ({integration.reason}). "
                "Remove it anyway to skip telling the provider.",
            )
    with transaction.atomic():
        deleted, kept = release_entities(integration, delete=delete_entities)
        logger.info("Integration %s (%s) removed by %s.", integration.pk, integration.integration_type, actor)
        integration.delete()
    return deleted, kept
