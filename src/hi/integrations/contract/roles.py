"""The system check a hub runs on the gateways that take one of its roles (an order source, a message channel)."""
from __future__ import annotations

from typing import Callable, Iterable

from django.core import checks
from django.utils.module_loading import import_string

from ..types import IntegrationType


def role_errors(types: Iterable[IntegrationType], problems: Callable[[type], list[str]], *, role: str, hint: str,
                check_id: str) -> list[checks.CheckMessage]:
    """One error per way a type's gateway takes the hub's `role` ("an OrderSource") without fulfilling it."""
    errors: list[checks.CheckMessage] = []
    for member in types:
        try:
            gateway_class = import_string(member.gateway_path)
        except ImportError:
            continue  # hi.E002 of the framework's own check says so
        for problem in problems(gateway_class):
            errors.append(checks.Error(f"IntegrationType.{member.name}: gateway {member.gateway_path} is {role} but {problem}.",
                                       hint=hint, id=check_id))
    return errors
