"""Workspace switching and, for admins, the members page and its invitations."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from .access import workspace_required
from .members import INVITATION_DAYS, MembershipError, change_role, invite, remove_member
from .middleware import SESSION_KEY
from .models import Invitation, Membership, Role


class MemberForm(forms.Form):
    """Invite a member by username, with a role."""

    username = forms.CharField(
        max_length=150,
        help_text="They get a link to accept: after logging in, or by choosing a password if they are new to this hi.",
    )
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
    """List members and invitations; invite a username or change a member's role (admins only)."""
    form = MemberForm(request.POST or None)
    invited = None
    if request.method == "POST" and form.is_valid():
        try:
            result, token = invite(request.workspace, form.cleaned_data["username"], Role(form.cleaned_data["role"]), request.user)
        except MembershipError as exc:
            form.add_error(None, str(exc))
        else:
            if token is None:
                messages.success(request, f"{result.user.get_username()} is {result.get_role_display().lower()} of {request.workspace}.")
                return redirect("workspace-members")
            # The same answer whether or not the username has an account here; the link is shown in
            # this response only, never stored in a message cookie or the session.
            link = request.build_absolute_uri(reverse("workspace-invitation", args=[token]))
            invited = {"username": result.username, "role": result.get_role_display(), "link": link, "days": INVITATION_DAYS}
            form = MemberForm()
    context = {
        "form": form,
        "rows": request.workspace.memberships.select_related("user").order_by("user__username"),
        "invitations": request.workspace.invitations.all(),
        "roles": Role.choices,
        "invited": invited,
    }
    response = render(request, "workspaces/members.html", context)
    if invited:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@workspace_required(Role.ADMIN)
def invitation_cancel(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """Withdraw a pending invitation of this workspace."""
    invitation = get_object_or_404(Invitation, pk=invitation_id, workspace=request.workspace)
    invitation.delete()
    messages.success(request, f"The invitation of {invitation.username} was withdrawn.")
    return redirect("workspace-members")


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
