"""Airtime vouchers's scheduled job: checking every five minutes that Airtime vouchers still accepts hi's credentials."""
from __future__ import annotations

from hi.integrations.api import Integration, ProviderAuthError, ScheduledJob, mark_auth_failed

from .client import client_for


def check_account(integration: Integration) -> None:
    """Read the account; refused credentials move the integration to auth_failed (the operator re-authenticates)."""
    try:
        client_for(integration).account()
    except ProviderAuthError as exc:
        mark_auth_failed(integration, str(exc), "worker", "Airtime vouchers refused hi's credentials")


CHECK_JOB = ScheduledJob("check_account", 300, check_account, label="The account check")
