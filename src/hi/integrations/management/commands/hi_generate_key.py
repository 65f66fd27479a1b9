"""manage.py hi_generate_key: print a new Fernet key for HI_ENCRYPTION_KEYS."""
from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    """Print a fresh key; it is not stored anywhere."""

    help = "Print a new Fernet key (32 url-safe base64 bytes) to put first in HI_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        """Generate and print the key."""
        self.stdout.write(Fernet.generate_key().decode())
