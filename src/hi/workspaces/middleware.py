"""Resolve the request's current workspace from the session and the user's memberships."""
from __future__ import annotations

from typing import Callable

from django.http import HttpRequest, HttpResponse

from .models import Membership

SESSION_KEY = "hi_workspace_id"


def current_membership(request: HttpRequest) -> Membership | None:
    """The membership of the session's chosen workspace, else the user's first one."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("workspace").filter(user=user)
    chosen = request.session.get(SESSION_KEY)
    if chosen is not None:
        match = memberships.filter(workspace_id=chosen).first()
        if match is not None:
            return match
    return memberships.order_by("workspace__name").first()


class WorkspaceMiddleware:
    """Attach `request.workspace` and `request.membership` (None when the user has none)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Keep the next handler in the chain."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Set the request's membership and workspace, then pass it on."""
        membership = current_membership(request)
        request.membership = membership
        request.workspace = membership.workspace if membership else None
        return self.get_response(request)
