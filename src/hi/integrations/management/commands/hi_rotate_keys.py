"""manage.py hi_rotate_keys: re-encrypt every stored secret with the first of HI_ENCRYPTION_KEYS."""
from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from hi.integrations.core import crypto
from hi.integrations.models import IntegrationAttribute

from ...core.errors import SecretDecryptionError


def rotate_all() -> int:
    """Re-encrypt every non-empty secret attribute and registered column in one transaction; return how many."""
    count = 0
    with transaction.atomic():
        rows = IntegrationAttribute.objects.select_for_update().filter(is_secret=True).exclude(value="")
        for row in rows:
            row.value = crypto.rotate(row.value)
            row.save(update_fields=["value", "updated_at"])
            count += 1
        for label, field in sorted(crypto.ENCRYPTED_FIELDS):
            model = apps.get_model(label)
            for row in model.objects.select_for_update().exclude(**{field: ""}):
                setattr(row, field, crypto.rotate(getattr(row, field)))
                row.save(update_fields=[field])
                count += 1
    return count


class Command(BaseCommand):
    """Step two of a key rotation: put the new key first, run this, then drop the old key."""

    help = (
        "Re-encrypt every stored secret with the first key of HI_ENCRYPTION_KEYS. "
        "Rotate by prepending a new key, running this command, then removing the old key."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        """Rotate all secrets or change nothing."""
        try:
            count = rotate_all()
        except SecretDecryptionError as exc:
            # The transaction rolled back: no secret was changed.
            raise CommandError(f"{exc} Nothing was changed.") from None
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} secret(s) with the first key."))
