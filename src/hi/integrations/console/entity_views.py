"""Console pages for entities: renaming one, and the entities kept from removed integrations."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from hi.workspaces.access import workspace_required
from hi.workspaces.models import Role

from ..config.entities import rename_entity as do_rename
from ..models import Entity
from ..types import IntegrationType
from .queries import integration_for


@require_POST
@workspace_required(Role.OPERATOR)
def rename_entity(request: HttpRequest, pk, entity_id: int) -> HttpResponse:
    """Rename an entity: an operator's edit that syncs and removal then respect."""
    integration = integration_for(request, pk)
    entity = Entity.objects.filter(pk=entity_id, integration=integration, workspace=request.workspace).first()
    name = request.POST.get("name", "").strip()
    if entity is None:
        messages.error(request, "That entity no longer exists.")
    elif not name:
        messages.error(request, "An entity needs a name.")
    else:
        do_rename(entity, name)
        messages.success(request, f"Renamed to {entity.name}; syncs will keep this name.")
    return redirect(integration)


@workspace_required()
def kept_entities(request: HttpRequest) -> HttpResponse:
    """Entities an operator edited, kept when their integration was removed."""
    entities = Entity.objects.filter(workspace=request.workspace, integration__isnull=True).order_by("name")
    labels = {t.type_id: t.label for t in IntegrationType}
    rows = [{"entity": e, "type_label": labels.get(e.integration_type, e.integration_type)} for e in entities]
    return render(request, "integrations/kept_entities.html", {"rows": rows})


@require_POST
@workspace_required(Role.OPERATOR)
def delete_kept_entity(request: HttpRequest, entity_id: int) -> HttpResponse:
    """Delete one kept entity for good."""
    entity = get_object_or_404(Entity, pk=entity_id, workspace=request.workspace, integration__isnull=True)
    entity.delete()
    messages.success(request, f"{entity.name} was deleted.")
    return redirect("kept-entities")
