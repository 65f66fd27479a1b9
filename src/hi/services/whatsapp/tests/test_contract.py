"""The WhatsApp service passes the framework's contract tests (gateway and inbound receiver) against its simulator."""
from __future__ import annotations

import json

import pytest

from hi.integrations.api import Event, IntegrationType
from hi.integrations.testing import GatewayContractTests
from hi.integrations.testing.inbound import InboundReceiverContractTests
from hi.services.whatsapp.inbound import WhatsAppReceiver
from hi.services.whatsapp.simulator import WhatsAppSimulator, meta_dumps, sign

from .helpers import APP_SECRET, TOKEN, VERIFY_TOKEN, attributes, process


class TestWhatsAppContract(GatewayContractTests):
    """Lifecycle checks inherited from the kit."""

    integration_type = IntegrationType.WHATSAPP
    secret_canaries = (TOKEN, APP_SECRET, VERIFY_TOKEN)

    def start_simulator(self) -> WhatsAppSimulator:
        """A simulator that knows the canary token."""
        return WhatsAppSimulator(access_token=TOKEN, app_secret=APP_SECRET, seed=3).start()

    def valid_attributes(self, sim) -> dict:
        """The canary token and secrets against the simulator."""
        return attributes(sim)

    def bad_auth_attributes(self, sim) -> dict:
        """A token the simulator does not know (190)."""
        return attributes(sim, access_token="EAAG-not-a-token")

    def revoke_credentials(self, sim) -> None:
        """The token expires, answered over HTTP 400 as Meta often does."""
        sim.token_expired = True
        sim.auth_error_status = 400

    def make_unavailable(self, sim) -> None:
        """A Graph outage."""
        sim.faults.status = 503


class TestWhatsAppReceiverContract(InboundReceiverContractTests):
    """The shared receiver contract, with Meta's signature, at the integration's receive URL."""

    signature_header = "X-Hub-Signature-256"
    accepted_status = 200
    answers_handshake = True
    no_timestamp_reason = (
        "Meta signs the body alone (X-Hub-Signature-256): a stale notification cannot be told from a fresh one, and a "
        "replay is caught by its content digest"
    )

    @pytest.fixture
    def integration(self, whatsapp):
        """An active WhatsApp integration."""
        return whatsapp

    def valid_body(self, event_id: str) -> bytes:
        """A customer's text as Meta posts it (escaped), its wamid carrying `event_id`."""
        return meta_dumps({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages",
                                                                                                              "value": {
            "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Conceição"}, "wa_id": "5511987654321"}],
            "messages": [{
                "from": "5511987654321", "id": f"wamid.{event_id}", "timestamp": "1764763200", "type": "text",
                "text": {"body": "Olá, está aberto?"}
            }],
        }}]}]})

    def signed_headers(self, integration, body: bytes) -> dict[str, str]:
        """X-Hub-Signature-256 over the exact bytes, with the app secret."""
        return {"X-Hub-Signature-256": sign(body, APP_SECRET)}

    def stored_event_id(self, body: bytes, event_id: str) -> str:
        """Meta's notifications carry no id: the receiver stores a digest of the content."""
        return WhatsAppReceiver().event_id(None, json.loads(body))

    def worker_pass(self) -> int:
        """The worker's passes: the notification becomes items, then each item is applied."""
        return process()

    def processed(self, integration) -> int:
        """A processed text is one message.received (activation's own events are not counted)."""
        self.worker_pass()
        return Event.objects.filter(integration=integration, type="message.received").count()

