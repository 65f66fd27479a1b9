"""Console actions on one integration: activate, deactivate, pause, resume, test, sync."""
from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from hi.workspaces.access import workspace_required
from hi.workspaces.models import Role

from ..config import lifecycle, setup
from ..core.errors import IllegalTransition, SetupError, SyncFailed
from ..engine.sync import request_sync
from ..models import Integration, IntegrationState
from .helpers import actor_of
from .queries import integration_for

S = IntegrationState


def _activate(integration: Integration, actor: str) -> tuple[str, str]:
    """Activate (or retry) and describe the outcome."""
    integration = lifecycle.activate(integration, actor)
    return _outcome(integration)


def _resume(integration: Integration, actor: str) -> tuple[str, str]:
    """Resume a paused integration and describe the outcome."""
    return _outcome(lifecycle.resume(integration, actor))


def _outcome(integration: Integration) -> tuple[str, str]:
    """A message level and text for where activation landed."""
    state = S(integration.state)
    if state is S.ACTIVE:
        return "success", f"{integration.name} is active."
    return "error", f"{integration.name}: {state.label.lower()}. {integration.reason}"


def _deactivate(integration: Integration, actor: str) -> tuple[str, str]:
    """Deactivate and describe the outcome."""
    integration = lifecycle.deactivate(integration, actor, reason=f"Deactivated by {actor}.")
    if S(integration.state) is S.DISABLED:
        return "success", f"{integration.name} is disabled."
    return "error", f"Deactivation failed: {integration.reason}"


def _pause(integration: Integration, actor: str) -> tuple[str, str]:
    """Pause and describe the outcome."""
    lifecycle.pause(integration, actor)
    return "success", f"{integration.name} is paused; its configuration and pending work are kept."


def _test(integration: Integration, actor: str) -> tuple[str, str]:
    """Test the stored configuration live."""
    try:
        info = setup.check_connection(integration)
    except SetupError as error:
        return "error", f"Connection test failed ({error.code}): {error.message}"
    return "success", f"Connection test passed: account {info.unique_id}."


def _sync(integration: Integration, actor: str) -> tuple[str, str]:
    """Queue a sync for the worker: the request does not wait for the provider."""
    try:
        directive = request_sync(integration)
    except SyncFailed as exc:
        return "error", str(exc)
    return "success", f"Sync queued (directive #{directive.pk}); the worker runs it and the entities below update."


ACTIONS = {
    "activate": _activate,
    "deactivate": _deactivate,
    "pause": _pause,
    "resume": _resume,
    "test": _test,
    "sync": _sync,
}


@require_POST
@workspace_required(Role.OPERATOR)
def act(request: HttpRequest, pk, action: str) -> HttpResponse:
    """Run one action and come back to the manage page with its outcome."""
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404("No such action.")
    integration = integration_for(request, pk)
    try:
        level, text = handler(integration, actor_of(request))
    except IllegalTransition as exc:
        level, text = "error", str(exc)
    getattr(messages, level)(request, text)
    return redirect(integration)
