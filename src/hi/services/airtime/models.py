"""The vouchers hi bought: one row per unit of an order's airtime line, its code encrypted at rest."""
from __future__ import annotations

from decimal import Decimal

from django.db import models

from hi.integrations.api import Integration, RedactedTextField, decrypt
from hi.orders.models import Order


class Voucher(models.Model):
    """One voucher: queued until the provider answers, then pending, issued (with its code) or failed."""

    class Status(models.TextChoices):
        """Where the purchase is: not asked yet, settling at the provider, or final."""

        QUEUED = "queued", "Queued"
        PENDING = "pending", "Pending"
        SUCCESS = "success", "Issued"
        FAILED = "failed", "Failed"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    #: The provider's dedupe key, the same on every attempt: <order ref>:<line>:<unit>.
    reference = models.CharField(max_length=100)
    line = models.PositiveIntegerField()
    unit = models.PositiveIntegerField()
    sku = models.CharField(max_length=100)
    product_id = models.CharField(max_length=100)
    amount_q = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True)
    transaction_id = models.CharField(max_length=100, blank=True, default="")
    #: The voucher code, Fernet-encrypted like every stored secret (hi_rotate_keys re-encrypts it: apps.py).
    code = models.TextField(blank=True, default="")
    message = RedactedTextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "line", "unit"]
        constraints = [models.UniqueConstraint(fields=["integration", "reference"], name="airtime_voucher_reference")]

    @property
    def amount(self) -> str:
        """The amount as the provider's decimal string: 1000 cents → "10.00" (never a float)."""
        return f"{Decimal(self.amount_q) / 100:.2f}"

    @property
    def masked_code(self) -> str:
        """The code as anyone sees it: its last four characters ('' before it is issued)."""
        return f"••••{decrypt(self.code)[-4:]}" if self.code else ""
