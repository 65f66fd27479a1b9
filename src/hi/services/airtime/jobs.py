"""The scheduled job: every minute, each pending voucher is checked with the provider until its status is final."""
from __future__ import annotations

from hi.integrations.api import Integration, ScheduledJob

from .client import client_for
from .handlers import record
from .models import Voucher


def check_pending(integration: Integration) -> None:
    """GET /status of each pending voucher; a final answer is recorded, published and told to the order."""
    client = client_for(integration)
    pending = Voucher.objects.filter(integration=integration, status=Voucher.Status.PENDING).exclude(transaction_id="")
    for voucher in pending.select_related("order", "integration").order_by("updated_at")[:50]:  # the rest wait a minute
        record(voucher, client.status(voucher.transaction_id))


CHECK_JOB = ScheduledJob("check_pending", 60, check_pending, label="Checking pending vouchers")
