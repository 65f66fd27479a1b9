"""What the console shares with services' and hubs' pages and commands: who acts, htmx regions, finding a workspace or an integration."""
from __future__ import annotations

import uuid

from django.core.management.base import CommandError
from django.http import HttpRequest

from hi.workspaces.models import Workspace

from ..models import Integration

#: The workspace a command acts on when --workspace is not given.
DEFAULT_WORKSPACE = "default"


def find_workspace(slug: str) -> Workspace:
    """The workspace with this slug, else a CommandError."""
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        raise CommandError(f"No workspace {slug}.")
    return workspace


def find_integration(ident: str, slug: str) -> Integration:
    """The integration `ident` (a UUID) of workspace `slug`, else a CommandError."""
    workspace = find_workspace(slug)
    missing = CommandError(f"No integration {ident} in workspace {slug}.")
    try:
        pk = uuid.UUID(str(ident))
    except ValueError:
        raise missing from None
    integration = Integration.objects.select_related("workspace").filter(pk=pk, workspace=workspace).first()
    if integration is None:
        raise missing
    return integration


def actor_of(request: HttpRequest) -> str:
    """How the history names the person acting."""
    return request.user.get_username()


def partial(request: HttpRequest, template: str, name: str) -> str:
    """The whole template, or only the named partial when htmx asks for a region."""
    return f"{template}#{name}" if request.htmx else template
