"""Workspace-scoped lookups used by the console: another workspace's object is a 404."""
from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, TextChoices
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from ..models import Integration
from ..types import IntegrationType


def integration_for(request: HttpRequest, pk) -> Integration:
    """The integration `pk` of the request's current workspace, else 404."""
    return get_object_or_404(Integration.objects.select_related("workspace"), pk=pk, workspace=request.workspace)


def count_by_status(queryset: QuerySet) -> dict[str, int]:
    """How many rows of the queryset are in each status (one grouped query)."""
    return {row["status"]: row["n"] for row in queryset.values("status").annotate(n=Count("pk")).order_by()}


def newest_page(request: HttpRequest, queryset: QuerySet, per_page: int) -> tuple[Page, str]:
    """The requested page of the queryset, newest first, and the other GET parameters for the page links."""
    page = Paginator(queryset.order_by("-created_at", "-id"), per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return page, params.urlencode()


def status_options(statuses: type[TextChoices], counts: dict[str, int]) -> list[dict]:
    """Each status with its label and count, in declaration order (filters and summary badges)."""
    return [{"value": s.value, "label": s.label, "count": counts.get(s.value, 0)} for s in statuses]


def type_for(type_id: str) -> IntegrationType:
    """The integration type with this id, else 404."""
    try:
        return IntegrationType.from_id(type_id)
    except ValueError:
        raise Http404("No such integration type.") from None
