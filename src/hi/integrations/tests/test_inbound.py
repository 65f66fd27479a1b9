"""Inbound webhooks end to end through /hooks/<key>/, with a test-only HMAC-signed receiver."""
# No service receives webhooks yet and IntegrationType is fixed, so the flow goes through the view's
# documented seam: receiver_view(resolve) builds the real endpoint around a resolver. This module is
# also a URLconf (@pytest.mark.urls(__name__)) routing /hooks/<key>/ to receiver_view with a resolver
# that returns the test receiver, so requests pass the whole middleware stack. Tests without the mark
# use hi's own URLs, where the demo type (no INBOUND_WEBHOOKS) answers 404.
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import secrets

import pytest
from django.core.handlers.asgi import ASGIRequest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hi.integrations.config.hookkeys import new_key, receive_path
from hi.integrations.contract.gateway import Capability, contract_problems
from hi.integrations.contract.receivers import UNAVAILABLE, HmacSha256Receiver, InboundReceiver
from hi.integrations.core import crypto
from hi.integrations.core.redaction import REDACTED
from hi.integrations.engine.inbound import gateway_receiver, handle_inbound, process_pending
from hi.integrations.engine.inbound_views import receiver_view
from hi.integrations.models import Event, InboundEvent, Integration, IntegrationAttribute, IntegrationState
from hi.integrations.outbound.signing import hmac_sha256_hex
from hi.integrations.outbox.events import publish
from hi.integrations.testing.concurrency import at_once
from hi.integrations.testing.inbound import InboundReceiverContractTests, post_as_provider
from hi.integrations.tests.test_factory import CompleteGateway

pytestmark = pytest.mark.django_db
Status = InboundEvent.Status
WEBHOOK_EVENT = "test.webhook_received"
MiB = 1024 * 1024
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class SignedTestReceiver(HmacSha256Receiver):
    """A test-only receiver: hex HMAC-SHA256 of the body in X-Test-Signature, id and type in the JSON."""

    signature_header = "X-Test-Signature"

    def __init__(self, secret: str) -> None:
        """A receiver signing with `secret`, recording what it accepts."""
        self.secret = secret
        self.accepted: list = []
        self.explode_in = ""  # a hook name: that hook raises an unexpected error

    def _maybe_explode(self, stage: str) -> None:
        """Fail like a buggy service would."""
        if self.explode_in == stage:
            raise RuntimeError(f"{stage} broke: token s3cr3t-attribute refused")

    def signing_secret(self, integration):
        """The per-test secret."""
        self._maybe_explode("verify")
        return self.secret

    def parse(self, body):
        """The default JSON object parsing."""
        self._maybe_explode("parse")
        return super().parse(body)

    def event_id(self, request, payload):
        """The payload's id field."""
        self._maybe_explode("event_id")
        return str(payload.get("id", ""))

    def event_type(self, payload):
        """The payload's type field."""
        self._maybe_explode("event_type")
        return payload.get("type", "")

    def accept(self, inbound_event, payload):
        """Publish an event (same transaction as the row), then maybe fail."""
        publish(WEBHOOK_EVENT, {"inbound_event": str(inbound_event.pk)}, inbound_event.workspace_id, inbound_event.integration)
        self._maybe_explode("accept")
        self.accepted.append(inbound_event.pk)

    def process(self, inbound_event, payload):
        """In the worker: publish, then maybe fail."""
        publish("test.webhook_processed", {"inbound_event": str(inbound_event.pk)}, inbound_event.workspace_id, inbound_event.integration)
        self._maybe_explode("process")


RECEIVERS: dict = {}


def resolve(integration):
    """The test resolver: the receiver registered for the integration (or the error it should raise)."""
    found = RECEIVERS.get(integration.pk)
    if isinstance(found, Exception):
        raise found
    return found


urlpatterns = [path("hooks/<str:key>/", receiver_view(resolve))]


def sign(secret: str, body: bytes) -> dict[str, str]:
    """The test provider's signature header."""
    return {"X-Test-Signature": hmac_sha256_hex(secret, body)}


def body_of(event_id: str = "evt-1", **extra) -> bytes:
    """A JSON event as the test provider sends it."""
    return json.dumps({"id": event_id, "type": "order.created", **extra}).encode()


@pytest.fixture
def hooked(workspace) -> Integration:
    """An active integration whose receiver is the test receiver."""
    return Integration.objects.create(
        workspace=workspace, integration_type="demo", name="Hooked", unique_id="acct-hooked", state=IntegrationState.ACTIVE
    )


@pytest.fixture
def receiver(hooked):
    """The test receiver with a fresh secret, registered for `hooked`."""
    RECEIVERS[hooked.pk] = SignedTestReceiver(secrets.token_hex(16))
    yield RECEIVERS[hooked.pk]
    RECEIVERS.pop(hooked.pk, None)


def url(integration) -> str:
    """The integration's receive path."""
    return receive_path(integration)


def webhook_events(integration) -> int:
    """How many events accept() published."""
    return Event.objects.filter(integration=integration, type=WEBHOOK_EVENT).count()


@pytest.mark.urls(__name__)
class TestSignedReceiverContract(InboundReceiverContractTests):
    """The shared contract, run against the test receiver."""

    signature_header = "X-Test-Signature"
    no_timestamp_reason = "the test receiver signs the body alone"

    @pytest.fixture
    def integration(self, hooked, receiver):
        """The hooked integration."""
        return hooked

    def valid_body(self, event_id: str) -> bytes:
        """A JSON event."""
        return body_of(event_id, order={"total": 12.5})

    def signed_headers(self, integration, body: bytes) -> dict[str, str]:
        """Signed with the test receiver's secret."""
        return sign(RECEIVERS[integration.pk].secret, body)

    def worker_pass(self) -> int:
        """The worker's pass with the test resolver."""
        return process_pending(resolve=resolve)

    def processed(self, integration) -> int:
        """Events accept() published, after the worker's pass."""
        self.worker_pass()
        return webhook_events(integration)


@pytest.mark.urls(__name__)
def test_an_accepted_request_runs_accept_once_in_the_same_transaction_and_keeps_headers_redacted(hooked, receiver):
    # given
    body = body_of("evt-42")
    headers = {**sign(receiver.secret, body), "Authorization": "Bearer abc", "X-Api-Key": "k-1", "User-Agent": "Provider/1.0"}
    # when
    response = post_as_provider(url(hooked), body, headers)
    # then
    assert response.status_code == 202
    row = InboundEvent.objects.get(integration=hooked)
    assert response.json() == {"id": str(row.pk)} and receiver.accepted == [row.pk]
    assert (row.status, row.event_type, row.workspace_id) == (Status.ACCEPTED, "order.created", hooked.workspace_id)
    assert Event.objects.get(type=WEBHOOK_EVENT).data == {"inbound_event": str(row.pk)}
    for name in ("X-Test-Signature", "Authorization", "X-Api-Key"):
        assert row.headers[name] == REDACTED
    assert row.headers["User-Agent"] == "Provider/1.0" and row.headers["Content-Type"] == "application/json"


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"\xff\xfe{", b""])
def test_a_signed_body_that_is_not_a_json_object_is_400(hooked, receiver, body):
    # when
    response = post_as_provider(url(hooked), body, sign(receiver.secret, body))
    # then
    assert response.status_code == 400
    row = InboundEvent.objects.get(integration=hooked)
    assert (row.status, row.http_status, row.body_size) == (Status.REJECTED, 400, len(body))
    assert row.reason.startswith("not JSON") and row.body == body.decode("utf-8", "backslashreplace")
    assert receiver.accepted == [] and webhook_events(hooked) == 0


def test_a_body_over_the_limit_without_content_length_is_413_and_only_an_excerpt_is_kept(hooked, settings):
    # given: an ASGI request of a chunked upload, which declares no length
    receiver = SignedTestReceiver("s")
    body = b"a" * (MiB + 10)
    scope = {"type": "http", "method": "POST", "path": "/hooks/x/", "headers": [(b"x-test-signature", b"00")]}
    request = ASGIRequest(scope, io.BytesIO(body))
    assert "CONTENT_LENGTH" not in request.META
    # when
    response = handle_inbound(request, hooked, receiver)
    # then
    assert response.status_code == 413
    row = InboundEvent.objects.get(integration=hooked)
    assert (row.status, row.body_size, len(row.body)) == (Status.REJECTED, MiB + 1, settings.HI_INBOUND_REJECTED_EXCERPT_BYTES)
    assert receiver.accepted == []


@pytest.mark.urls(__name__)
def test_the_worker_pass_processes_each_accepted_row_once_and_records_a_failure_redacted(hooked, receiver, caplog):
    # given two accepted requests, the receiver's process() failing for the first pass
    IntegrationAttribute.objects.create(integration=hooked, key="webhook_secret", value=crypto.encrypt("s3cr3t-attribute"), is_secret=True)
    for event_id in ("evt-p1", "evt-p2"):
        body = body_of(event_id)
        assert post_as_provider(url(hooked), body, sign(receiver.secret, body)).status_code == 202
    receiver.explode_in = "process"
    # when the worker's pass runs
    assert process_pending(resolve=resolve) == 0
    # then both rows failed, with the reason redacted, and nothing they published remains
    rows = InboundEvent.objects.filter(integration=hooked)
    assert set(rows.values_list("status", flat=True)) == {Status.FAILED}
    reason = rows.first().reason
    assert "RuntimeError" in reason and REDACTED in reason and "s3cr3t-attribute" not in reason + caplog.text
    assert not Event.objects.filter(type="test.webhook_processed").exists()
    # and a later pass does not run them again; a new request is processed once
    receiver.explode_in = ""
    body = body_of("evt-p3")
    post_as_provider(url(hooked), body, sign(receiver.secret, body))
    assert process_pending(resolve=resolve) == 1 and process_pending(resolve=resolve) == 0
    assert Event.objects.filter(type="test.webhook_processed").count() == 1


def test_an_accepted_row_whose_type_receives_no_webhooks_is_marked_failed(hooked):
    row = InboundEvent.objects.create(workspace=hooked.workspace, integration=hooked, status=Status.ACCEPTED, http_status=202, body="{}")
    assert process_pending() == 0
    row.refresh_from_db()
    assert row.status == Status.FAILED and "no longer receives webhooks" in row.reason


@pytest.mark.urls(__name__)
def test_an_unexpected_error_in_accept_is_503_rolls_back_and_the_redelivery_is_accepted(hooked, receiver, caplog):
    # given: accept() publishes, then fails with a message quoting a stored secret
    IntegrationAttribute.objects.create(integration=hooked, key="webhook_secret", value=crypto.encrypt("s3cr3t-attribute"), is_secret=True)
    receiver.explode_in = "accept"
    body = body_of("evt-7")
    # when
    response = post_as_provider(url(hooked), body, sign(receiver.secret, body))
    # then: the provider is asked to retry, told nothing of the error; the operator sees it, redacted
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert response.json() == {"error": UNAVAILABLE}
    row = InboundEvent.objects.get(integration=hooked)
    assert (row.status, row.http_status, row.provider_event_id) == (Status.REJECTED, 503, "evt-7")
    assert "RuntimeError" in row.reason and "accept()" in row.reason and REDACTED in row.reason
    assert "s3cr3t-attribute" not in row.reason and "s3cr3t-attribute" not in caplog.text
    assert webhook_events(hooked) == 0  # the event published inside accept() was rolled back
    # when: the provider redelivers after the fix
    receiver.explode_in = ""
    again = post_as_provider(url(hooked), body, sign(receiver.secret, body))
    # then: the id was not burned by the failure
    assert again.status_code == 202 and webhook_events(hooked) == 1


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("stage", ["verify", "parse", "event_id", "event_type"])
def test_an_unexpected_error_in_any_hook_is_503_never_500(hooked, receiver, stage):
    # given
    receiver.explode_in = stage
    body = body_of()
    # when
    response = post_as_provider(url(hooked), body, sign(receiver.secret, body))
    # then
    assert response.status_code == 503
    row = InboundEvent.objects.get(integration=hooked)
    assert row.status == Status.REJECTED and f"SignedTestReceiver.{stage}()" in row.reason
    assert receiver.accepted == [] and webhook_events(hooked) == 0


@pytest.mark.urls(__name__)
def test_a_gateway_that_cannot_build_its_receiver_answers_503_and_logs_the_request(hooked):
    # given
    RECEIVERS[hooked.pk] = RuntimeError("no receiver today")
    try:
        # when
        response = post_as_provider(url(hooked), body_of())
    finally:
        RECEIVERS.pop(hooked.pk)
    # then
    assert response.status_code == 503 and response.json() == {"error": UNAVAILABLE}
    assert InboundEvent.objects.get(integration=hooked).reason.startswith("the demo gateway could not build")


@pytest.mark.urls(__name__)
def test_an_event_id_longer_than_the_column_is_400_and_an_empty_id_turns_dedupe_off(hooked, receiver):
    long_id, no_id = body_of("x" * 256), body_of("")
    codes = [post_as_provider(url(hooked), body, sign(receiver.secret, body)).status_code for body in (long_id, no_id, no_id)]
    assert codes == [400, 202, 202] and len(receiver.accepted) == 2



@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_event_are_accepted_once(hooked, receiver):
    # given: the same event delivered six times at once (the database constraint decides)
    body = body_of("evt-race")
    # when
    codes = at_once(6, lambda: post_as_provider(url(hooked), body, sign(receiver.secret, body)).status_code)
    # then
    assert sorted(codes) == [200] * 5 + [202]
    statuses = sorted(InboundEvent.objects.filter(integration=hooked).values_list("status", flat=True))
    assert statuses == [Status.ACCEPTED] + [Status.DUPLICATE] * 5
    assert len(receiver.accepted) == 1 and webhook_events(hooked) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_passes_process_each_accepted_row_exactly_once(hooked, receiver):
    # given more accepted rows than one batch
    InboundEvent.objects.bulk_create(
        InboundEvent(
            workspace=hooked.workspace, integration=hooked, status=Status.ACCEPTED, http_status=202, body=body_of(f"evt-{n}").decode(),
            provider_event_id=f"evt-{n}"
        )
        for n in range(120)
    )
    # when two workers run their pass at once
    counts = at_once(2, lambda: process_pending(resolve=resolve))
    # then every row was processed once, by one of them
    assert sum(counts) == 120
    assert set(InboundEvent.objects.filter(integration=hooked).values_list("status", flat=True)) == {Status.PROCESSED}
    assert Event.objects.filter(type="test.webhook_processed").count() == 120


@pytest.fixture
def every_refusal_logged(settings):
    """No flood limit: each fuzzed request must leave its row."""
    settings.HI_INBOUND_REFUSAL_LIMIT = 10**9


HEADER_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,24}", fullmatch=True).filter(
    lambda name: name.lower() not in {"content-length", "content-type", "host", "cookie"}
)
HEADER_VALUES = st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=60)
HEADERS = st.dictionaries(HEADER_NAMES | st.just("X-Test-Signature"), HEADER_VALUES, max_size=8)


@pytest.mark.urls(__name__)
@FUZZ
@given(body=st.binary(max_size=4096), headers=HEADERS)
def test_fuzz_unsigned_requests_are_refused_never_500_and_never_processed(hooked, receiver, every_refusal_logged, body, headers):
    # given
    before = InboundEvent.objects.filter(integration=hooked, status=Status.REJECTED).count()
    # when
    response = post_as_provider(url(hooked), body, headers, content_type="application/octet-stream")
    # then
    assert response.status_code in (400, 401), response.content
    assert receiver.accepted == [] and webhook_events(hooked) == 0
    assert InboundEvent.objects.filter(integration=hooked, status=Status.REJECTED).count() == before + 1


JSON_OBJECTS = st.fixed_dictionaries(
    {"id": st.text(max_size=300), "type": st.text(max_size=150)},
    optional={
        "data": st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(), lambda inner: st.lists(inner, max_size=3), max_leaves=10
        )
    },
).map(lambda obj: json.dumps(obj).encode())


@pytest.mark.urls(__name__)
@FUZZ
@given(body=st.binary(max_size=4096) | JSON_OBJECTS, headers=HEADERS)
def test_fuzz_signed_requests_are_answered_2xx_or_4xx_and_processed_only_when_accepted(
    hooked, receiver, every_refusal_logged, body, headers
):
    # given
    accepted_before = len(receiver.accepted)
    rows_before = InboundEvent.objects.filter(integration=hooked).count()
    # when
    response = post_as_provider(url(hooked), body, {**headers, **sign(receiver.secret, body)})
    # then
    assert response.status_code in (200, 202, 400), response.content
    assert len(receiver.accepted) - accepted_before == (1 if response.status_code == 202 else 0)
    assert InboundEvent.objects.filter(integration=hooked).count() == rows_before + 1


# Through hi's own URLs ---------------------------------------------------------------------------


def test_the_real_endpoint_is_404_for_an_unknown_id_and_for_a_type_without_webhooks(workspace):
    # given: a demo integration (the demo gateway declares no INBOUND_WEBHOOKS)
    demo = Integration.objects.create(workspace=workspace, integration_type="demo", name="D", unique_id="d", state="active")
    client = Client(enforce_csrf_checks=True)  # anonymous, no CSRF token
    # when
    unknown = client.post(f"/hooks/{new_key()}/", b"{}", content_type="application/json")
    no_hooks = client.post(url(demo), b"{}", content_type="application/json")
    # then: the same answer, so the endpoint tells nothing about which ids exist
    assert (unknown.status_code, no_hooks.status_code) == (404, 404)
    assert unknown.content == no_hooks.content == b'{"error": "not found"}'
    # GET goes through the same lookup (some receivers answer a verification GET): 404 too; other methods 405
    assert client.get(url(demo)).status_code == 404 and client.put(url(demo)).status_code == 405
    assert not InboundEvent.objects.exists() and gateway_receiver(demo) is None


class ClaimsInboundGateway(CompleteGateway):
    """A test-only gateway that declares inbound webhooks without a receiver."""

    capabilities = frozenset({Capability.INBOUND_WEBHOOKS})


class InboundGateway(ClaimsInboundGateway):
    """A test-only gateway with a receiver."""

    def receiver(self, integration):
        """The receiver under test."""
        return SignedTestReceiver("s")


def test_the_contract_requires_a_receiver_for_inbound_webhooks():
    assert contract_problems(ClaimsInboundGateway) == ["declares inbound_webhooks but does not implement receiver()"]
    assert contract_problems(InboundGateway) == []


def test_abstract_hooks_name_the_class_that_must_implement_them(hooked):
    # given: a receiver that forgot verify()
    request = RequestFactory().post("/hooks/x/", b"{}", content_type="application/json")
    # when
    response = handle_inbound(request, hooked, InboundReceiver())
    # then: nothing acts on an unverified request
    assert response.status_code == 503
    assert "must implement verify()" in InboundEvent.objects.get(integration=hooked).reason


def test_redacted_headers_keep_every_header_and_hide_credentials():
    hidden = ["Authorization", "Cookie", "X-Hub-Signature-256", "X-Api-Key", "Proxy-Authorization", "X-Auth-Token"]
    request = RequestFactory().post("/", headers=dict.fromkeys([*hidden, "Webhook-Id", "User-Agent"], "value-1"))
    headers = InboundReceiver().redacted_headers(request)
    assert {name: headers[name] for name in hidden} == dict.fromkeys(hidden, REDACTED)
    assert headers["Webhook-Id"] == headers["User-Agent"] == "value-1"


def test_an_hmac_receiver_accepts_a_prefixed_base64_signature(hooked):
    # given
    class Prefixed(SignedTestReceiver):
        """A receiver whose signatures are base64 with a `sha256=` prefix."""
        signature_encoding, signature_prefix = "base64", "sha256="

    body = body_of()
    digest = base64.b64encode(hmac.new(b"k", body, hashlib.sha256).digest()).decode()
    request = RequestFactory().post("/", body, content_type="application/json", headers={"X-Test-Signature": f"sha256={digest}"})
    # when / then
    assert handle_inbound(request, hooked, Prefixed("k")).status_code == 202


def test_the_manage_page_shows_inbound_requests_only_for_types_that_receive_webhooks(operator_client, hooked):
    # given
    InboundEvent.objects.create(
        workspace=hooked.workspace, integration=hooked, status=Status.REJECTED, http_status=401,
        provider_event_id="evt-shown", event_type="order.created", reason="X-Test-Signature does not match", body_size=2048,
    )
    # when: the demo type has no webhooks; the section itself renders the rows
    page = operator_client.get(hooked.get_absolute_url()).content.decode()
    section = render_to_string("integrations/manage.html#inbound", {"inbound_events": hooked.inbound_events.all()[:25], "receive_url": "https://hi.example/hooks/x/"})
    # then
    assert "Inbound requests" not in page
    for text in ("Inbound requests", "evt-shown", "Rejected", "401", "order.created", "does not match", "2.0\xa0KB", "https://hi.example/hooks/x/"):
        assert text in section, text
