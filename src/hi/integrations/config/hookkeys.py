"""Receive URLs: /hooks/<key>/, where the key is random, stored hashed and encrypted, and rotatable."""
# An integration's id is no secret (it is in console URLs, logs and /metrics labels), so knowing it
# must not be knowing where to post. Each integration gets its own random key (192 bits, not derived
# from the id). The database keeps the key's SHA-256 digest, which a request is looked up by (one
# indexed query), and a Fernet copy, so the console can show the URL. A rotation issues a new key;
# the old one keeps working until its expires_at (24 h by default, or not at all), like the webhook
# service's secret rotation, so the provider can be switched without losing a request.
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..core import crypto
from ..models import HookKey, Integration
from .history import log

#: Random bytes in a key: 192 bits, written as 32 URL-safe characters.
KEY_BYTES = 24
#: How long a replaced key keeps working unless the operator stops it at once.
OVERLAP = timedelta(hours=24)
#: The receive URL's path, around the key (hi.urls routes it to inbound_views.receive).
PREFIX = "/hooks/"
# What a key can look like; anything else is refused before a query is made.
_KEY = re.compile(r"[A-Za-z0-9_-]{22,128}", re.ASCII)


def digest(key: str) -> str:
    """The SHA-256 of a key, as stored and looked up (the key itself is never stored in clear)."""
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def new_key() -> str:
    """A fresh random key."""
    return secrets.token_urlsafe(KEY_BYTES)


def _create(integration: Integration) -> str:
    """Store a new current key for the integration and return it (the caller retires the old one first)."""
    key = new_key()
    HookKey.objects.create(integration=integration, digest=digest(key), encrypted=crypto.encrypt(key))
    return key


def issue(integration: Integration) -> str:
    """Give an integration without a current key one (a concurrent issuer may win: its key is returned)."""
    try:
        with transaction.atomic():  # a savepoint: the one_current_hook_key constraint decides a race
            return _create(integration)
    except IntegrityError:
        return current_key(integration, create=False) or ""


def current_key(integration: Integration, create: bool = True) -> str | None:
    """The integration's current key in clear, issuing one when it has none (rows made with bulk_create)."""
    row = HookKey.objects.filter(integration=integration, expires_at__isnull=True).only("encrypted").first()
    if row is not None:
        return crypto.decrypt(row.encrypted)
    return issue(integration) if create else None


def receive_path(integration: Integration) -> str:
    """The path providers post to: /hooks/<key>/."""
    return f"{PREFIX}{current_key(integration)}/"


def receive_url_of(integration: Integration) -> str:
    """HI_BASE_URL + the receive path."""
    return f"{settings.HI_BASE_URL.rstrip('/')}{receive_path(integration)}"


def find(key: str) -> Integration | None:
    """The integration a key belongs to, while the key works; None for anything else (one indexed query)."""
    if not _KEY.fullmatch(key):
        return None
    try:
        row = HookKey.objects.select_related("integration").get(digest=digest(key))
    except HookKey.DoesNotExist:
        return None
    if row.expires_at is not None and row.expires_at <= timezone.now():
        return None
    return row.integration


@transaction.atomic
def rotate(integration: Integration, actor: str, overlap: timedelta = OVERLAP) -> str:
    """Issue a new key; the old ones keep working for `overlap` (none: they stop now). Return the new key."""
    now = timezone.now()
    # Two rotations at once: the second waits here, then retires the first one's key.
    list(Integration.objects.select_for_update().filter(pk=integration.pk).values_list("pk", flat=True))
    old = HookKey.objects.filter(integration=integration)
    if overlap <= timedelta(0):
        old.delete()
        ends = "the old one stopped working at once"
    else:
        until = now + overlap
        old.filter(expires_at__lte=now).delete()
        # Also an earlier rotation's key still in its overlap: no old key outlives the newest overlap.
        old.filter(expires_at__isnull=True).update(expires_at=until)
        old.filter(expires_at__gt=until).update(expires_at=until)
        ends = f"the old one works until {until:%Y-%m-%d %H:%M UTC}"
    key = _create(integration)
    log(integration, "info", f"{actor} rotated the receive URL; {ends}. Give the provider the new URL.")
    return key


def retired_until(integration: Integration):
    """When the last replaced key stops working (None when no rotation is in its overlap)."""
    return (
        HookKey.objects.filter(integration=integration, expires_at__gt=timezone.now())
        .order_by("-expires_at").values_list("expires_at", flat=True).first()
    )


def prune() -> int:
    """Delete replaced keys whose overlap is over; return how many."""
    return HookKey.objects.filter(expires_at__lte=timezone.now()).delete()[0]


def is_own_receive_url(url: str) -> bool:
    """Whether `url` posts to one of this installation's receive URLs, whatever host or prefix it uses."""
    # A key is random and only hi knows its digest, so a path ending in /hooks/<one of our keys>/ is ours
    # (through HI_BASE_URL, loopback, another name or a proxy alike).
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    segments = [unquote(part) for part in path.split("/") if part]
    candidates = [segments[i + 1] for i in range(len(segments) - 1) if segments[i] == PREFIX.strip("/")]
    digests = [digest(key) for key in candidates if _KEY.fullmatch(key)]
    return bool(digests) and HookKey.objects.filter(digest__in=digests).exists()


def issue_for_new_integration(sender, instance: Integration, created: bool, raw: bool = False, **kwargs) -> None:
    """post_save of Integration: every new integration gets its key in the same transaction."""
    if created and not raw:
        issue(instance)
