"""Workspace-scoped lookups of the messaging console: another workspace's contact or message is a 404."""
from __future__ import annotations

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from .models import Contact, Direction, Message


def contact_for_request(request: HttpRequest, pk: int) -> Contact:
    """The contact `pk` of the request's current workspace, else 404."""
    return get_object_or_404(Contact.objects.select_related("last_integration"), pk=pk, workspace=request.workspace)


def message_for_request(request: HttpRequest, pk: int) -> Message:
    """The message `pk` of the request's current workspace, else 404."""
    return get_object_or_404(Message.objects.select_related("contact", "integration", "order"), pk=pk, workspace=request.workspace)


def conversations(workspace) -> QuerySet:
    """The workspace's contacts that have messages, newest conversation first, each with its unread count."""
    unread = Q(messages__direction=Direction.IN) & (Q(last_read_at__isnull=True) | Q(messages__created_at__gt=F("last_read_at")))
    return (
        Contact.objects.filter(workspace=workspace, last_message_at__isnull=False)
        .annotate(unread=Count("messages", filter=unread))
        .order_by("-last_message_at", "-id")
    )


def last_messages(contacts: list[Contact]) -> dict[int, Message]:
    """Each contact's latest message (two queries for a page of the inbox)."""
    latest = Message.objects.filter(contact=OuterRef("pk")).order_by("-created_at", "-id").values("pk")[:1]
    ids = Contact.objects.filter(pk__in=[c.pk for c in contacts]).annotate(last=Subquery(latest)).values_list("last", flat=True)
    return {m.contact_id: m for m in Message.objects.filter(pk__in=[i for i in ids if i])}
