"""Template context for the current workspace and the user's other workspaces."""
from __future__ import annotations

from django.http import HttpRequest

from .models import Membership, Role


def workspace(request: HttpRequest) -> dict:
    """Expose the workspace, the role and the switcher's choices to every template."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"workspace": None, "membership": None, "can_operate": False, "is_admin": False, "workspaces": []}
    others = Membership.objects.filter(user=request.user).select_related("workspace")
    return {
        "workspace": membership.workspace,
        "membership": membership,
        "can_operate": membership.allows(Role.OPERATOR),
        "is_admin": membership.allows(Role.ADMIN),
        "workspaces": [m.workspace for m in others.order_by("workspace__name")],
    }
