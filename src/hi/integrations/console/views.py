"""Console pages: dashboard, add flow, manage page, attribute editor, re-authenticate, diagnostics."""
from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.debug import sensitive_post_parameters

from hi.workspaces.access import workspace_required
from hi.workspaces.models import Role

from ..config import hookkeys, lifecycle, setup
from ..config.history import failure_text
from ..config.lifecycle import ACTIVATABLE, DEACTIVATABLE
from ..config.store import display_values, specs_for
from ..contract.gateway import Capability
from ..core.errors import IllegalTransition, SetupError
from ..engine.directive_actions import counts_by_status
from ..engine.refusals import refusal_floods
from ..factory import get_integration_gateway
from ..models import DirectiveStatus, Entity, Integration, IntegrationState
from ..outbound.calllog import call_log_days
from ..types import IntegrationType
from .diagnostics import build_diagnostics
from .forms import NAME_FIELD, AttributeForm, RemoveForm, RotateReceiveUrlForm, default_values
from .health import health_context
from .helpers import actor_of, partial
from .problems import is_degraded, problems, problems_by_integration
from .queries import integration_for, type_for
from .summary import receive_url, revealed_values

S = IntegrationState
logger = logging.getLogger(__name__)


@workspace_required()
def dashboard(request: HttpRequest) -> HttpResponse:
    """A card per integration, refreshed live."""
    integrations = list(Integration.objects.filter(workspace=request.workspace))
    counts = counts_by_status([i.pk for i in integrations])
    found = problems_by_integration(integrations)
    cards = [
        {
            "integration": i,
            "logo": get_integration_gateway(i.integration_type).logo,
            "dead": counts.get(i.pk, {}).get(DirectiveStatus.DEAD, 0),
            "failed": counts.get(i.pk, {}).get(DirectiveStatus.FAILED, 0),
            "problems": found.get(i.pk, []),
            "degraded": is_degraded(found.get(i.pk, [])),
        }
        for i in integrations
    ]
    kept = Entity.objects.filter(workspace=request.workspace, integration__isnull=True).count()
    return render(request, partial(request, "integrations/dashboard.html", "cards"), {"cards": cards, "kept_count": kept})


@workspace_required(Role.OPERATOR)
def add_select(request: HttpRequest) -> HttpResponse:
    """Choose the type to add; the list filters as the operator types."""
    query = request.GET.get("q", "").strip().lower()
    types = [
        {"type": t, "logo": get_integration_gateway(t).logo}
        for t in IntegrationType
        if not query or query in f"{t.label} {t.description} {t.type_id}".lower()
    ]
    return render(request, partial(request, "integrations/add_select.html", "type-list"), {"types": types, "q": query})


@sensitive_post_parameters()  # the attribute forms carry secrets: never in an error report
@workspace_required(Role.OPERATOR)
def add_configure(request: HttpRequest, type_id: str) -> HttpResponse:
    """Fill the attributes; nothing is saved until the connection test passes, then activate."""
    integration_type = type_for(type_id)
    specs = specs_for(integration_type)
    form = AttributeForm(specs, request.POST or None, initial=default_values(specs), creating=True)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            integration = setup.add_integration(
                request.workspace,
                integration_type,
                form.cleaned_data.get(NAME_FIELD, ""),
                form.raw_values(),
                actor=actor_of(request),
                user=request.user,
            )
        except SetupError as error:
            form.apply_error(error)
            status = 422 if request.htmx else 200
        else:
            revealed = revealed_values(integration)
            if revealed:
                # Shown in this response only (never in a message cookie, the session or a later page).
                response = render(request, "integrations/added.html", {"integration": integration, "revealed": revealed})
                response["Cache-Control"] = "no-store"
                return response
            messages.success(request, f"{integration.name} was added: {S(integration.state).label.lower()}.")
            return redirect(integration)
    context = {"integration_type": integration_type, "form": form, "logo": get_integration_gateway(integration_type).logo}
    response = render(request, "integrations/add_configure.html", context, status=status)
    # The form may carry a secret hi generated, or the one the operator typed for it: no cache keeps the page.
    response["Cache-Control"] = "no-store"
    return response


def manage_context(request: HttpRequest, integration: Integration) -> dict:
    """Everything the manage page and its regions show."""
    gateway = get_integration_gateway(integration.integration_type)
    state = S(integration.state)
    inbound = gateway.supports(Capability.INBOUND_WEBHOOKS)
    found = problems(integration)
    return {
        "integration": integration,
        "problems": found,
        "degraded": is_degraded(found),
        "gateway": gateway,
        "logo": gateway.logo,
        "can_activate": state in ACTIVATABLE - {S.PAUSED},
        "can_resume": state is S.PAUSED,
        "can_pause": state is S.ACTIVE,
        "can_deactivate": state in DEACTIVATABLE,
        "can_reauth": True,
        "can_sync": gateway.supports(Capability.ENTITY_SYNC) and state is S.ACTIVE,
        "supports_sync": gateway.supports(Capability.ENTITY_SYNC),
        "history": integration.state_changes.all()[:20],
        "attribute_history": integration.attribute_changes.all()[:20],
        "logs": integration.logs.all()[:20],
        "calls": integration.calls.all()[:25],
        "listeners": integration.listeners.all(),
        "call_log_days": call_log_days(),
        "entities": integration.entities.all()[:200],
        # Inbound webhooks: the latest requests providers sent, accepted or not (lazy: only the page reads it).
        "supports_inbound": inbound,
        "inbound_events": integration.inbound_events.all()[:25],
        "receive_url": receive_url(integration),
        "receive_url_retired_until": hookkeys.retired_until(integration) if inbound else None,
        "refusal_floods": refusal_floods(integration) if inbound else [],
        "rejected_excerpt_bytes": settings.HI_INBOUND_REJECTED_EXCERPT_BYTES,
        "rejected_days": f"{settings.HI_INBOUND_REJECTED_DAYS:g}",
    }


@workspace_required()
def manage(request: HttpRequest, pk) -> HttpResponse:
    """State, reason, history, actions, the attribute editor and the service's pane."""
    integration = integration_for(request, pk)
    if request.htmx and request.GET.get("region") == "state":
        return render(request, "integrations/manage.html#state", manage_context(request, integration))
    if request.htmx and request.GET.get("region") == "health":
        return render(request, "integrations/manage.html#health", {"integration": integration, **health_context(integration)})
    context = manage_context(request, integration)
    context.update(health_context(integration))
    try:
        context["pane"] = context["gateway"].manage(request, integration)
    except Exception as exc:  # noqa: BLE001 - a broken pane must not take the manage page down
        logger.error("The %s pane of %s failed: %s", integration.integration_type, integration.pk, failure_text(integration, exc))
        context["pane"] = ""
        context["pane_error"] = True
    values = display_values(integration)
    context["attributes"] = [
        {"spec": spec, "value": values.get(spec.key), "is_set": values.get(spec.key) not in (None, "", False)}
        for spec in specs_for(integration.integration_type)
    ]
    return render(request, "integrations/manage.html", context)


def _editor(request: HttpRequest, integration: Integration, *, only: set[str] | None, with_name: bool):
    """An attribute form for an existing integration: current values, secrets left out."""
    specs = specs_for(integration.integration_type)
    values = display_values(integration)
    stored_secrets = {spec.key for spec in specs if spec.is_secret and values.get(spec.key)}
    initial = {spec.key: values.get(spec.key) for spec in specs if not spec.is_secret}
    initial[NAME_FIELD] = integration.name
    return AttributeForm(
        specs,
        request.POST or None,
        initial=initial,
        stored_secrets=stored_secrets,
        only=only,
        with_name=with_name,
    )


@sensitive_post_parameters()  # the attribute forms carry secrets: never in an error report
@workspace_required(Role.OPERATOR)
def configure(request: HttpRequest, pk) -> HttpResponse:
    """Reconfigure: change attributes; saved only after a passing test on the same account."""
    integration = integration_for(request, pk)
    form = _editor(request, integration, only=None, with_name=True)
    if request.method == "POST" and form.is_valid():
        try:
            integration = setup.reconfigure(
                integration, form.raw_values(), actor_of(request), name=form.cleaned_data.get(NAME_FIELD)
            )
        except SetupError as error:
            form.apply_error(error)
        else:
            messages.success(request, "Settings saved and applied.")
            return redirect(integration)
    return render(request, "integrations/configure.html", {"integration": integration, "form": form, "mode": "configure"})


@sensitive_post_parameters()  # the attribute forms carry secrets: never in an error report
@workspace_required(Role.OPERATOR)
def reauth(request: HttpRequest, pk) -> HttpResponse:
    """Re-authenticate: new credentials for the same account, never a second integration."""
    integration = integration_for(request, pk)
    credential_keys = {s.key for s in specs_for(integration.integration_type) if s.credential or s.is_secret}
    form = _editor(request, integration, only=credential_keys, with_name=False)
    if request.method == "POST" and form.is_valid():
        try:
            integration = setup.reauthenticate(integration, form.raw_values(), actor_of(request))
        except SetupError as error:
            form.apply_error(error)
        else:
            messages.success(request, f"Credentials updated: {S(integration.state).label.lower()}.")
            return redirect(integration)
    return render(request, "integrations/configure.html", {"integration": integration, "form": form, "mode": "reauth"})


@workspace_required(Role.OPERATOR)
def remove(request: HttpRequest, pk) -> HttpResponse:
    """Confirm and remove, keeping or deleting linked entities."""
    integration = integration_for(request, pk)
    form = RemoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            deleted, kept = lifecycle.remove(
                integration,
                actor_of(request),
                delete_entities=form.cleaned_data["entities"] == "delete",
                force=form.cleaned_data["force"],
            )
        except IllegalTransition as exc:
            form.add_error(None, f"{exc} Tick “remove even if the provider cannot be told” to go ahead.")
        else:
            messages.success(request, f"{integration.name} was removed ({deleted} entities deleted, {kept} kept).")
            return redirect("dashboard")
    return render(
        request, "integrations/remove.html", {"integration": integration, "form": form, "entity_count": integration.entities.count()}
    )


@workspace_required(Role.OPERATOR)
def rotate_receive_url(request: HttpRequest, pk) -> HttpResponse:
    """Confirm, then give the integration a new receive URL; the old one works 24 h more unless stopped at once."""
    integration = integration_for(request, pk)
    if receive_url(integration) is None:
        raise Http404("This type receives no webhooks.")
    form = RotateReceiveUrlForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        at_once = form.cleaned_data["at_once"]
        hookkeys.rotate(integration, actor_of(request), overlap=timedelta(0) if at_once else hookkeys.OVERLAP)
        old = "The old URL no longer accepts requests." if at_once else "The old URL keeps working for 24 hours."
        messages.success(request, f"New receive URL issued: give it to the provider now. {old}")
        return redirect(f"{integration.get_absolute_url()}#inbound")
    context = {"integration": integration, "form": form, "receive_url": receive_url(integration)}
    return render(request, "integrations/rotate_receive_url.html", context)


@workspace_required()
def diagnostics(request: HttpRequest, pk) -> HttpResponse:
    """Download the diagnostics JSON (secrets redacted)."""
    integration = integration_for(request, pk)
    body = json.dumps(build_diagnostics(integration), indent=2, sort_keys=False)
    response = HttpResponse(body, content_type="application/json")
    filename = f"hi-diagnostics-{slugify(integration.name) or 'integration'}-{str(integration.pk)[:8]}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
