"""The invitation link's page: the invited user accepts or declines, or, new to hi, chooses a password."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from .members import MembershipError, accept, create_account_and_accept, decline, find_invitation
from .middleware import SESSION_KEY

#: The backend a new account logs in with (several are configured: axes' throttle first).
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@login_not_required
@never_cache
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """GET: what is offered; POST: accept, decline, or (not logged in, new username) create the account and accept."""
    found = find_invitation(token)
    if found is None:
        return render(request, "workspaces/invitation.html", {"invalid": True}, status=404)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    form = SetPasswordForm(get_user_model()(username=found.username), request.POST if action == "create" else None)
    error = ""
    try:
        if action in ("accept", "decline") and request.user.is_authenticated:
            return _answer(request, found, action)
        if action == "create" and not request.user.is_authenticated and form.is_valid():
            user = create_account_and_accept(found, form.cleaned_data["new_password1"])
            login(request, user, backend=MODEL_BACKEND)
            request.session[SESSION_KEY] = found.workspace_id
            messages.success(request, f"Welcome: you are {found.get_role_display().lower()} of {found.workspace}.")
            return redirect("dashboard")
    except MembershipError as exc:
        error = str(exc)
    context = {
        "invitation": found,
        "form": form,
        "error": error,
        "mine": request.user.is_authenticated and request.user.get_username() == found.username,
        "login_url": f"{reverse('login')}?next={request.path}",
    }
    return render(request, "workspaces/invitation.html", context)


def _answer(request: HttpRequest, found, action: str) -> HttpResponse:
    """The logged-in invited user's answer."""
    if action == "accept":
        membership = accept(found, request.user)
        request.session[SESSION_KEY] = membership.workspace_id
        messages.success(request, f"You are {membership.get_role_display().lower()} of {membership.workspace}.")
    else:
        decline(found, request.user)
        messages.success(request, f"You declined the invitation to {found.workspace}.")
    return redirect("dashboard")
