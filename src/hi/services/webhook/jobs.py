"""The webhooks service's scheduled job: forgetting finished deliveries past the retention period, hourly."""
from __future__ import annotations

from hi.integrations.api import Integration, ScheduledJob

from . import deliveries


def prune_deliveries(integration: Integration) -> None:
    """The prune job's body: finished deliveries older than HI_RETENTION_DAYS go."""
    deliveries.prune(integration)


PRUNE_JOB = ScheduledJob("prune_deliveries", 3600, prune_deliveries)
