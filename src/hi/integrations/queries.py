"""Workspace-scoped lookups used by the console: another workspace's object is a 404."""
from __future__ import annotations

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from .models import Integration
from .types import IntegrationType


def integration_for(request: HttpRequest, pk) -> Integration:
    """The integration `pk` of the request's current workspace, else 404."""
    return get_object_or_404(Integration.objects.select_related("workspace"), pk=pk, workspace=request.workspace)


def type_for(type_id: str) -> IntegrationType:
    """The integration type with this id, else 404."""
    try:
        return IntegrationType.from_id(type_id)
    except ValueError:
        raise Http404("No such integration type.") from None
