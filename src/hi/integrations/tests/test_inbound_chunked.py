"""Chunked request bodies (Transfer-Encoding: chunked, no Content-Length) are read, within the size cap."""
from __future__ import annotations

import io
import json
import time

import pytest
import requests
from django.core.handlers.wsgi import WSGIRequest
from django.test import RequestFactory

from hi.integrations.config.hookkeys import receive_path
from hi.integrations.config.store import save_attributes
from hi.integrations.contract.receivers import MAX_BODY_BYTES
from hi.integrations.engine.inbound import handle_inbound
from hi.integrations.models import InboundEvent, Integration
from hi.integrations.outbound import standard_webhooks
from hi.integrations.testing.processes import gunicorn
from hi.services.webhook.inbound import WebhookReceiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def endpoint(workspace) -> Integration:
    """An active webhook endpoint that receives Standard Webhooks."""
    integration = Integration.objects.create(
        workspace=workspace, integration_type="webhook", name="n8n", unique_id="https://n8n.example.com/hook", state="active"
    )
    save_attributes(integration, {"url": "https://n8n.example.com/hook", "secret": SECRET}, actor="test")
    return integration


def signed(body: bytes, msg_id: str) -> dict[str, str]:
    """Standard Webhooks headers for `body`."""
    return {**standard_webhooks.headers(msg_id, int(time.time()), body, [SECRET]), "Content-Type": "application/json"}


class CountingStream(io.BytesIO):
    """A WSGI server's de-chunked input that counts what the application read."""

    def __init__(self, data: bytes) -> None:
        """A stream over `data` counting the bytes read."""
        super().__init__(data)
        self.taken = 0

    def read(self, size: int = -1) -> bytes:
        """Read as usual and count the bytes taken."""
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


def chunked_request(path: str, stream: io.BytesIO, headers: dict[str, str]) -> WSGIRequest:
    """A WSGI request as gunicorn hands over a chunked upload: no CONTENT_LENGTH, wsgi.input_terminated set."""
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    environ = RequestFactory()._base_environ(
        PATH_INFO=path, REQUEST_METHOD="POST", HTTP_TRANSFER_ENCODING="chunked", **extra,
        **{"wsgi.input": stream, "wsgi.input_terminated": True},
    )
    environ.pop("CONTENT_LENGTH", None)
    return WSGIRequest(environ)


@pytest.mark.django_db(transaction=True)
def test_a_validly_signed_chunked_webhook_is_accepted_under_gunicorn(workspace):
    # given an endpoint, and hi under gunicorn (which de-chunks bodies) on the test database
    integration = endpoint(workspace)
    body = json.dumps({"type": "order.created", "data": {"id": "ord_1", "note": "x" * 5000}}).encode()
    with gunicorn("--workers", "1") as base:
        # when a sender streams the body in chunks, without a Content-Length
        response = requests.post(
            f"{base}{receive_path(integration)}", data=(body[i:i + 1000] for i in range(0, len(body), 1000)),
            headers=signed(body, "msg_chunked"), timeout=30,
        )
    # then the whole body was read, verified and stored
    assert response.status_code == 202, response.text
    row = InboundEvent.objects.get(integration=integration)
    assert (row.status, row.body_size, row.body) == (InboundEvent.Status.ACCEPTED, len(body), body.decode())


@pytest.mark.django_db
def test_a_chunked_body_over_the_cap_is_413_after_reading_only_the_cap(workspace):
    # given a chunked upload of 8 MiB from a server that de-chunks it
    integration = endpoint(workspace)
    stream = CountingStream(b"{" + b" " * (8 * MAX_BODY_BYTES) + b"}")
    request = chunked_request(receive_path(integration), stream, {"webhook-id": "msg_big"})
    # when
    response = handle_inbound(request, integration, WebhookReceiver())
    # then it is refused without reading the rest
    assert response.status_code == 413
    assert stream.taken == MAX_BODY_BYTES + 1
    assert InboundEvent.objects.get(integration=integration).body_size == MAX_BODY_BYTES + 1


@pytest.mark.django_db
def test_a_chunked_body_is_read_whole_when_the_server_de_chunks_it(workspace):
    # given
    integration = endpoint(workspace)
    body = json.dumps({"type": "order.created", "data": {"id": "ord_2"}}).encode()
    request = chunked_request(receive_path(integration), CountingStream(body), signed(body, "msg_small"))
    # when
    response = handle_inbound(request, integration, WebhookReceiver())
    # then
    assert response.status_code == 202
    assert InboundEvent.objects.get(integration=integration).body == body.decode()
