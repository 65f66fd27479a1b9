"""Workspace switching and, for admins, the members page."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from .access import workspace_required
from .members import MembershipError, add_member, change_role, remove_member
from .middleware import SESSION_KEY
from .models import Membership, Role


class MemberForm(forms.Form):
    """Add a member by username, with a role."""

    username = forms.CharField(max_length=150, help_text="A new username gets an account with a one-time password shown here once.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


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


@workspace_required(Role.ADMIN)
def members(request: HttpRequest) -> HttpResponse:
    """List members; add one or change a role (admins only)."""
    form = MemberForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            membership, password = add_member(request.workspace, form.cleaned_data["username"], Role(form.cleaned_data["role"]))
        except MembershipError as exc:
            form.add_error(None, str(exc))
        else:
            if password is None:
                messages.success(request, f"{membership.user.get_username()} is {membership.get_role_display().lower()} of {request.workspace}.")
                return redirect("workspace-members")
            # Shown in this response only: never stored in a message cookie or the session.
            created = {"username": membership.user.get_username(), "password": password, "role": membership.get_role_display()}
            form = MemberForm()
    rows = request.workspace.memberships.select_related("user").order_by("user__username")
    response = render(request, "workspaces/members.html", {"form": form, "rows": rows, "roles": Role.choices, "created": created})
    if created:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@workspace_required(Role.ADMIN)
def member_update(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Change a member's role, or remove them."""
    membership = get_object_or_404(Membership, pk=membership_id, workspace=request.workspace)
    try:
        if request.POST.get("remove"):
            remove_member(membership)
            messages.success(request, f"{membership.user.get_username()} was removed from {request.workspace}.")
        else:
            role = request.POST.get("role", "")
            if role not in Role.values:
                return HttpResponseBadRequest("Unknown role.")
            change_role(membership, Role(role))
            messages.success(request, f"{membership.user.get_username()} is now {Role(role).label.lower()}.")
    except MembershipError as exc:
        messages.error(request, str(exc))
    return redirect("workspace-members")
