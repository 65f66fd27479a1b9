"""Workspace switching."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from .middleware import SESSION_KEY
from .models import Membership


@require_POST
def switch_workspace(request: HttpRequest) -> HttpResponse:
    """Make another of the user's workspaces the current one."""
    slug = request.POST.get("workspace", "")
    membership = Membership.objects.filter(user=request.user, workspace__slug=slug).first()
    if membership is None:
        return HttpResponseBadRequest("You are not a member of that workspace.")
    request.session[SESSION_KEY] = membership.workspace_id
    if request.htmx:
        return HttpResponseClientRedirect("/")
    return redirect("dashboard")
