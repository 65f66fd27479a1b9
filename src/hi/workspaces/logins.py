"""Login throttling with django-axes: which address a request comes from, and what a locked-out visitor sees."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's address: the peer, or behind hi's own proxy (HI_BEHIND_PROXY) the address that proxy saw."""
    # Only the last X-Forwarded-For entry is the proxy's own: earlier ones are whatever the visitor sent,
    # and trusting them would let an attacker pick a new address for every guess.
    if getattr(settings, "HI_BEHIND_PROXY", False):
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    # None when unknown (a login made in code, not over HTTP): axes stores addresses in an IP column,
    # which PostgreSQL checks, so a placeholder word would fail the login.
    return request.META.get("REMOTE_ADDR") or None


def lockout_minutes() -> int:
    """How long a lockout lasts, in whole minutes (for the message)."""
    return max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def locked_out(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """The login page again, saying why no password is checked now and how to get back in (429)."""
    lockout = (
        f"Too many failed logins for this account or from this address: logging in is paused for "
        f"{lockout_minutes()} minutes. An administrator of this hi can unlock it sooner "
        f"(manage.py axes_reset_username <name>, or axes_reset_ip <address>)."
    )
    context = {"form": AuthenticationForm(request), "lockout": lockout, "next": request.POST.get("next") or request.GET.get("next", "")}
    return render(request, "registration/login.html", context, status=429)
