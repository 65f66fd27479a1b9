"""System checks of the orders hub: every gateway that is an order source implements the hub's contract."""
from __future__ import annotations

from typing import Iterable

from django.core import checks

from hi.integrations.api import IntegrationType, role_errors

from .sources import source_problems


def order_source_errors(types: Iterable[IntegrationType]) -> list[checks.CheckMessage]:
    """Errors for types whose gateway subclasses OrderSource without implementing it."""
    return role_errors(types, source_problems, role="an OrderSource", check_id="hi.orders.E001",
                       hint="See docs/developers.md, 'Orders: the orders hub and order sources'.")


@checks.register()
def check_order_sources(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Fail start-up when an order source's gateway misses the orders hub's contract."""
    return order_source_errors(IntegrationType)
