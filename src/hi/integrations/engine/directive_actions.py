"""Operator actions on directives (Retry now, Replay, Cancel) and the counts the console shows."""
from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from django.db.models import Count, Q
from django.utils import timezone

from ..core.errors import DirectiveActionRefused
from ..models import Directive, DirectiveStatus
from ..outbox.directives import handlers


def retry_now(directive: Directive) -> Directive:
    """Run a queued, failed or dead directive as soon as possible (one more attempt if it had none left)."""
    if directive.status not in (DirectiveStatus.QUEUED, DirectiveStatus.FAILED, DirectiveStatus.DEAD):
        raise DirectiveActionRefused(f"A {directive.get_status_display().lower()} directive cannot be retried.")
    now = timezone.now()
    try:
        Directive.objects.filter(pk=directive.pk, status=directive.status).update(
            status=DirectiveStatus.QUEUED,
            next_run_at=now,
            finished_at=None,
            max_attempts=max(directive.max_attempts, directive.attempts + 1),
            updated_at=now,
        )
    except IntegrityError:
        raise DirectiveActionRefused("Another live directive has the same dedupe key.") from None
    directive.refresh_from_db()
    return directive


def replay(directive: Directive) -> Directive:
    """Run a done directive again, as a new directive that points at it."""
    if directive.status != DirectiveStatus.DONE:
        raise DirectiveActionRefused("Only a done directive can be replayed; use Retry for the others.")
    handler = handlers().get(directive.topic)
    return Directive.objects.create(
        workspace_id=directive.workspace_id,
        integration_id=directive.integration_id,
        topic=directive.topic,
        payload=directive.payload,
        next_run_at=timezone.now(),
        max_attempts=handler.attempts_allowed if handler else directive.max_attempts,
        replay_of=directive,
    )


def cancel(directive: Directive) -> Directive:
    """Give up on a queued, failed or dead directive."""
    if directive.status not in (DirectiveStatus.QUEUED, DirectiveStatus.FAILED, DirectiveStatus.DEAD):
        raise DirectiveActionRefused(f"A {directive.get_status_display().lower()} directive cannot be cancelled.")
    now = timezone.now()
    Directive.objects.filter(pk=directive.pk, status=directive.status).update(
        status=DirectiveStatus.CANCELLED, finished_at=now, updated_at=now
    )
    directive.refresh_from_db()
    return directive


def counts_by_status(integration_ids) -> dict[Any, dict[str, int]]:
    """{integration id: {status: count}} for the dashboard cards."""
    result: dict[Any, dict[str, int]] = {}
    rows = Directive.objects.filter(integration_id__in=integration_ids).filter(
        Q(status__in=[DirectiveStatus.FAILED, DirectiveStatus.DEAD, DirectiveStatus.QUEUED])
    ).values("integration_id", "status").annotate(n=Count("id"))
    for row in rows:
        result.setdefault(row["integration_id"], {})[row["status"]] = row["n"]
    return result
