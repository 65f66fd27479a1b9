"""System checks of the orders hub: every gateway that is an order source implements the hub's contract."""
from __future__ import annotations

from typing import Iterable

from django.core import checks
from django.utils.module_loading import import_string

from hi.integrations.api import IntegrationType

from .sources import source_problems


def order_source_errors(types: Iterable[IntegrationType]) -> list[checks.CheckMessage]:
    """Errors for types whose gateway subclasses OrderSource without implementing it."""
    errors: list[checks.CheckMessage] = []
    for member in types:
        try:
            gateway_class = import_string(member.gateway_path)
        except ImportError:
            continue  # hi.E002 of the framework's own check says so
        for problem in source_problems(gateway_class):
            errors.append(
                checks.Error(
                    f"IntegrationType.{member.name}: gateway {member.gateway_path} is an OrderSource but {problem}.",
                    hint="See docs/developers.md, 'Orders: the orders hub and order sources'.",
                    id="hi.orders.E001",
                )
            )
    return errors


@checks.register()
def check_order_sources(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Fail start-up when an order source's gateway misses the orders hub's contract."""
    return order_source_errors(IntegrationType)
