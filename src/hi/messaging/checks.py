"""System checks of the messaging hub: every gateway that is a message channel implements the hub's contract."""
from __future__ import annotations

from typing import Iterable

from django.core import checks

from hi.integrations.api import IntegrationType, role_errors

from .channels import channel_problems


def message_channel_errors(types: Iterable[IntegrationType]) -> list[checks.CheckMessage]:
    """Errors for types whose gateway subclasses MessageChannel without implementing it."""
    return role_errors(types, channel_problems, role="a MessageChannel", check_id="hi.messaging.E001",
                       hint="See docs/developers.md, 'Messages: the messaging hub and message channels'.")


@checks.register()
def check_message_channels(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Fail start-up when a message channel's gateway misses the messaging hub's contract."""
    return message_channel_errors(IntegrationType)
