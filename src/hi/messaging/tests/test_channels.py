"""The messaging hub's contract with services: a gateway is a message channel by subclassing MessageChannel, checked at start-up."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from hi.integrations.api import Capability, IntegrationGateway, IntegrationType, get_integration_gateway
from hi.messaging.channels import MediaUnavailable, MessageChannel, channel_for, channel_problems
from hi.messaging.checks import check_message_channels, message_channel_errors


class IncompleteChannel(IntegrationGateway, MessageChannel):
    """Says it is a message channel, implements nothing of it."""


class CompleteChannel(IntegrationGateway, MessageChannel):
    """Implements what the hub asks of a channel (templates and media keep their defaults)."""

    def send_message(self, integration, message):
        """Accept anything."""


def test_a_channel_that_misses_send_message_is_reported():
    """Given a gateway that subclasses MessageChannel without send_message, then the missing method is named."""
    assert channel_problems(IncompleteChannel) == ["does not implement send_message()"]
    assert channel_problems(CompleteChannel) == []
    assert channel_problems(IntegrationGateway) == []  # not a channel: nothing to check


def test_the_start_up_check_refuses_an_incomplete_channel():
    """Given a registered type whose gateway is an incomplete channel, then the messaging hub's check is an error naming it."""
    broken = SimpleNamespace(name="BROKEN", gateway_path=f"{__name__}.IncompleteChannel")
    errors = message_channel_errors([broken])
    assert [error.id for error in errors] == ["hi.messaging.E001"]
    assert "IntegrationType.BROKEN" in errors[0].msg and "send_message()" in errors[0].msg


def test_a_channel_s_defaults_offer_no_templates_and_no_media():
    """A channel that only sends has no templates to offer, and asking for media is a clear refusal, not a crash."""
    channel = CompleteChannel()
    assert channel.message_templates(None) == []
    with pytest.raises(MediaUnavailable, match="keeps no media"):
        channel.open_media(None, None)


def test_every_registered_channel_implements_the_contract_and_the_framework_knows_no_messages():
    """The installed gateways pass the check; WhatsApp is a channel, the demo is not; the framework's capabilities name no messaging."""
    assert check_message_channels() == []
    assert not {"messaging", "send_message"} & {capability.value for capability in Capability}
    assert isinstance(get_integration_gateway(IntegrationType.WHATSAPP), MessageChannel)
    assert not isinstance(get_integration_gateway(IntegrationType.DEMO), MessageChannel)
    whatsapp = SimpleNamespace(integration_type=IntegrationType.WHATSAPP.type_id)
    demo = SimpleNamespace(integration_type=IntegrationType.DEMO.type_id)
    assert channel_for(whatsapp) is get_integration_gateway(IntegrationType.WHATSAPP)
    assert channel_for(demo) is None and channel_for(None) is None
