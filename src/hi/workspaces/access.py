"""View decorators that enforce workspace membership and roles."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Role


def workspace_required(role: Role = Role.VIEWER) -> Callable:
    """Require a current workspace and at least `role` in it (403 page otherwise)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        """Wrap `view` with the role check."""

        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            """The view, or 403 without a workspace or the role."""
            membership = getattr(request, "membership", None)
            if membership is None:
                return render(request, "workspaces/no_workspace.html", status=403)
            if not membership.allows(role):
                return render(
                    request,
                    "workspaces/forbidden.html",
                    {"needed": Role(role).label},
                    status=403,
                )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
