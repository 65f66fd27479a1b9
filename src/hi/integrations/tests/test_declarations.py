"""A gateway's declarations are typed: the worker, the outbox and the inbound flow know what each method returns."""
from __future__ import annotations

import typing

import pytest

from hi.integrations.contract.declarations import DirectiveHandler, EventHook, Listener, ScheduledJob
from hi.integrations.contract.gateway import IntegrationGateway
from hi.integrations.contract.receivers import InboundReceiver
from hi.integrations.engine.websocket import WebsocketListener
from hi.integrations.factory import get_integration_gateway
from hi.integrations.types import IntegrationType


def test_the_gateway_s_declaration_methods_name_their_types():
    """Each capability's method returns the framework's declaration type, not Any."""
    hints = {name: typing.get_type_hints(getattr(IntegrationGateway, name))["return"] for name in (
        "scheduled_jobs", "directive_handlers", "event_hooks", "websocket_listeners", "receiver")}
    assert hints == {
        "scheduled_jobs": list[ScheduledJob], "directive_handlers": list[DirectiveHandler], "event_hooks": list[EventHook],
        "websocket_listeners": list[Listener], "receiver": InboundReceiver,
    }


@pytest.mark.django_db
def test_the_framework_s_websocket_listener_is_a_listener_the_worker_can_drive(demo):
    """Given the demo's live item stream, then it is a WebsocketListener and satisfies the Listener protocol."""
    listener = WebsocketListener(demo)
    assert isinstance(listener, Listener) and listener.name == "events" and listener.worker_id == ""
    demo_gateway = get_integration_gateway(IntegrationType.DEMO)
    assert all(isinstance(handler, DirectiveHandler) for handler in demo_gateway.directive_handlers())
    assert all(isinstance(job, ScheduledJob) for job in demo_gateway.scheduled_jobs())
    assert all(isinstance(hook, EventHook) for hook in demo_gateway.event_hooks())
