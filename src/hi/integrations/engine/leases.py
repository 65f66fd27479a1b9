"""Database leases: one owner for a job or a listener, taken over soon after its holder dies."""
from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Lease

#: A lease lasts this long unless renewed; holders renew every few seconds, so a dead holder's
#: lease is free again within this time.
LEASE_TTL = timedelta(seconds=20)


def acquire(name: str, holder: str, ttl: timedelta = LEASE_TTL) -> bool:
    """Take or renew `name` for `holder`; False while another holder's lease is unexpired."""
    now = timezone.now()
    taken = Lease.objects.filter(Q(holder=holder) | Q(expires_at__lte=now), name=name).update(
        holder=holder, expires_at=now + ttl, acquired_at=now
    )
    if taken:
        return True
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, holder=holder, acquired_at=now, expires_at=now + ttl)
        return True
    except IntegrityError:
        return False  # someone else holds it


def renew(names: list[str], holder: str, ttl: timedelta = LEASE_TTL) -> set[str]:
    """Extend the leases `holder` still holds; return the names it holds."""
    now = timezone.now()
    Lease.objects.filter(name__in=names, holder=holder).update(expires_at=now + ttl)
    return set(Lease.objects.filter(name__in=names, holder=holder, expires_at__gt=now).values_list("name", flat=True))


def release(name: str, holder: str) -> None:
    """Give a lease up at once (clean shutdown)."""
    Lease.objects.filter(name=name, holder=holder).delete()


def holder_of(name: str) -> str | None:
    """Who holds an unexpired lease, if anyone."""
    lease = Lease.objects.filter(name=name, expires_at__gt=timezone.now()).first()
    return lease.holder if lease else None
