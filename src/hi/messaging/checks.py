"""System checks of the messaging hub: every gateway that is a message channel implements the hub's contract."""
from __future__ import annotations

from typing import Iterable

from django.core import checks
from django.utils.module_loading import import_string

from hi.integrations.api import IntegrationType

from .channels import channel_problems


def message_channel_errors(types: Iterable[IntegrationType]) -> list[checks.CheckMessage]:
    """Errors for types whose gateway subclasses MessageChannel without implementing it."""
    errors: list[checks.CheckMessage] = []
    for member in types:
        try:
            gateway_class = import_string(member.gateway_path)
        except ImportError:
            continue  # hi.E002 of the framework's own check says so
        for problem in channel_problems(gateway_class):
            errors.append(
                checks.Error(
                    f"IntegrationType.{member.name}: gateway {member.gateway_path} is a MessageChannel but {problem}.",
                    hint="See docs/developers.md, 'Messages: the messaging hub and message channels'.",
                    id="hi.messaging.E001",
                )
            )
    return errors


@checks.register()
def check_message_channels(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Fail start-up when a message channel's gateway misses the messaging hub's contract."""
    return message_channel_errors(IntegrationType)
