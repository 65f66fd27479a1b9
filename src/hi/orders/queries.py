"""Workspace-scoped order lookups and the list's filters: another workspace's order is a 404."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_date

from .models import Order, OrderStatus

MANUAL = "manual"


def order_for(request: HttpRequest, ref: str) -> Order:
    """The order `ref` of the request's current workspace, else 404."""
    return get_object_or_404(Order.objects.select_related("source", "workspace"), ref=ref, workspace=request.workspace)


def _day(text: str) -> date | None:
    """A YYYY-MM-DD date, or None when blank or malformed."""
    try:
        return parse_date((text or "").strip())
    except ValueError:
        return None


def _start_of(day: date) -> datetime:
    """Midnight of a day in the console's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


@dataclass(frozen=True)
class Filters:
    """The order list's filters, read from GET parameters (unknown values mean "any")."""

    status: str = ""
    source: str = ""
    since: date | None = None
    until: date | None = None
    q: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest, sources: set[str]) -> "Filters":
        """Read and validate status, source (an integration id of the workspace, or "manual"), from/to dates and the search."""
        status = request.GET.get("status", "")
        source = request.GET.get("source", "")
        return cls(
            status=status if status in OrderStatus.values else "",
            source=source if source in sources or source == MANUAL else "",
            since=_day(request.GET.get("from", "")),
            until=_day(request.GET.get("to", "")),
            q=request.GET.get("q", "").strip()[:100],
        )

    @property
    def active(self) -> bool:
        """Whether any filter narrows the list."""
        return bool(self.status or self.source or self.since or self.until or self.q)

    def apply(self, queryset: QuerySet, *, with_status: bool = True) -> QuerySet:
        """Narrow an order queryset (the status counts are taken without the status filter)."""
        if with_status and self.status:
            queryset = queryset.filter(status=self.status)
        if self.source == MANUAL:
            queryset = queryset.filter(source__isnull=True, source_type="")
        elif self.source:
            queryset = queryset.filter(source_id=self.source)
        if self.since:
            queryset = queryset.filter(created_at__gte=_start_of(self.since))
        if self.until:
            queryset = queryset.filter(created_at__lt=_start_of(self.until + timedelta(days=1)))
        if self.q:
            # A ref is typed whole or in part (ORD-20261203-7KQ2…); a display id is short, matched exactly.
            queryset = queryset.filter(Q(ref__icontains=self.q) | Q(display_id__iexact=self.q))
        return queryset
