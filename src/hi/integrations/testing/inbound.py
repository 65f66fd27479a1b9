"""InboundReceiverContractTests: the webhook checks every service's receiver tests inherit by subclassing."""
from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from ..config.hookkeys import new_key, receive_path
from ..core.redaction import REDACTED
from ..engine.inbound import process_pending
from ..models import Directive, Event, InboundEvent, Integration, IntegrationState

Status = InboundEvent.Status


def post_as_provider(url: str, body: bytes, headers: dict[str, str] | None = None, content_type: str = "application/json", **environ: str):
    """POST like a provider does: anonymous, no session, no CSRF token (and CSRF checks enforced); `environ` sets e.g. REMOTE_ADDR."""
    return Client(enforce_csrf_checks=True).post(url, data=body, content_type=content_type, headers=headers or {}, **environ)


@pytest.mark.django_db
class InboundReceiverContractTests:
    """Subclass, fill in the hooks and the `integration` fixture; pytest then runs these through the receive URL."""

    #: The header carrying the provider's signature (its stored value must be REDACTED).
    signature_header: str = ""
    #: The status an accepted request is answered with.
    accepted_status: int = 202
    #: Whether the provider verifies the URL with a GET first (the receiver's answers_handshake).
    answers_handshake: bool = False
    #: Why the provider's signature covers no time, when it does not (iFood signs the body only): a stale request then
    #: cannot be told from a fresh one, and a replay is caught by its event id. "" when it does: fill in
    #: stale_signed_headers().
    no_timestamp_reason: str = ""

    # Hooks a service fills in ------------------------------------------------------------------
    @pytest.fixture
    def integration(self) -> Integration:
        """An active integration of the service whose receiver the tests post to."""
        raise NotImplementedError

    def valid_body(self, event_id: str) -> bytes:
        """A realistic, captured-and-cleaned provider payload carrying `event_id`."""
        raise NotImplementedError

    def signed_headers(self, integration: Integration, body: bytes) -> dict[str, str]:
        """The headers that make `body` authentic for `integration` (the provider's signing scheme)."""
        raise NotImplementedError

    def stored_event_id(self, body: bytes, event_id: str) -> str:
        """The id the receiver stores for valid_body(event_id): by default the event's own id."""
        # A provider whose requests carry none, like Meta's, stores a digest of the content instead.
        return event_id

    def stale_signed_headers(self, integration: Integration, body: bytes) -> dict[str, str]:
        """Headers that sign `body` authentically but long ago, past the receiver's tolerance (e.g. an hour)."""
        raise NotImplementedError("fill in stale_signed_headers(), or say in no_timestamp_reason why the scheme signs no time")

    def worker_pass(self) -> int:
        """Run the worker's processing of accepted rows (the receiver the gateway builds)."""
        return process_pending()

    def processed(self, integration: Integration) -> int:
        """How many times the receiver acted, once the worker's pass ran (default: events published plus directives enqueued)."""
        self.worker_pass()
        return Event.objects.filter(integration=integration).count() + Directive.objects.filter(integration=integration).count()

    def url(self, integration: Integration) -> str:
        """Where the provider posts: the integration's receive path, /hooks/<key>/."""
        return receive_path(integration)

    # Helpers ---------------------------------------------------------------------------------
    def post(self, integration: Integration, body: bytes, headers: dict[str, str] | None = None):
        """Post `body` to the integration's receive URL as a provider would."""
        return post_as_provider(self.url(integration), body, headers)

    def post_signed(self, integration: Integration, body: bytes):
        """Post `body` with a valid signature."""
        return self.post(integration, body, self.signed_headers(integration, body))

    # The contract ----------------------------------------------------------------------------
    def test_a_signed_request_is_stored_accepted_and_processed_once(self, integration):
        """A signed request is stored accepted, with its event id, and processed once."""
        # given
        body = self.valid_body("evt-contract-1")
        # when
        response = self.post_signed(integration, body)
        # then
        assert response.status_code == self.accepted_status, response.content
        row = InboundEvent.objects.get(integration=integration)
        assert (row.status, row.http_status, row.provider_event_id) == (
            Status.ACCEPTED, self.accepted_status, self.stored_event_id(body, "evt-contract-1")
        )
        assert row.body == body.decode() and row.body_size == len(body)
        assert self.processed(integration) == 1
        row.refresh_from_db()
        assert row.status == Status.PROCESSED and row.processed_at is not None
        if self.signature_header:
            headers = {name.lower(): value for name, value in row.headers.items()}
            assert headers[self.signature_header.lower()] == REDACTED

    def test_a_missing_signature_is_refused_logged_and_not_processed(self, integration):
        """A request without a signature is refused with 401, logged and not processed."""
        # when
        response = self.post(integration, self.valid_body("evt-contract-2"))
        # then
        assert response.status_code == 401
        row = InboundEvent.objects.get(integration=integration)
        assert (row.status, row.http_status) == (Status.REJECTED, 401) and row.reason
        assert self.processed(integration) == 0

    def test_a_signature_of_another_body_is_refused(self, integration):
        """A signature of another body is refused with 401."""
        # given
        headers = self.signed_headers(integration, self.valid_body("evt-contract-3"))
        # when
        response = self.post(integration, self.valid_body("evt-contract-3").replace(b"3", b"4"), headers)
        # then
        assert response.status_code == 401
        assert InboundEvent.objects.get(integration=integration).status == Status.REJECTED
        assert self.processed(integration) == 0

    def test_a_redelivered_event_is_answered_2xx_stored_as_duplicate_and_not_processed_again(self, integration):
        """A redelivered event is answered 2xx, stored as a duplicate and not processed again."""
        # given
        body = self.valid_body("evt-contract-5")
        first = self.post_signed(integration, body)
        # when
        again = self.post_signed(integration, body)
        # then
        assert first.status_code == self.accepted_status and 200 <= again.status_code < 300
        statuses = sorted(InboundEvent.objects.filter(integration=integration).values_list("status", flat=True))
        assert statuses == [Status.ACCEPTED, Status.DUPLICATE]
        assert self.processed(integration) == 1

    def test_a_stale_request_is_refused_or_its_replay_processed_once(self, integration):
        """A stale request is refused, or, when the scheme signs no time, its replay is processed once."""
        # given
        body = self.valid_body("evt-contract-9")
        if self.no_timestamp_reason:
            # when: the scheme signs no time, an old request replayed is the same event
            first, replay = self.post_signed(integration, body), self.post_signed(integration, body)
            # then: answered, kept as a duplicate, acted on once
            assert first.status_code == self.accepted_status and 200 <= replay.status_code < 300
            assert self.processed(integration) == 1
            return
        # when
        response = self.post(integration, body, self.stale_signed_headers(integration, body))
        # then
        assert response.status_code == 401
        row = InboundEvent.objects.get(integration=integration)
        assert (row.status, row.http_status) == (Status.REJECTED, 401) and row.reason
        assert self.processed(integration) == 0

    def test_a_signed_body_that_is_not_json_is_refused_with_400(self, integration):
        """A signed body that is not JSON is refused with 400."""
        # given
        body = b"this is not JSON {"
        # when
        response = self.post_signed(integration, body)
        # then
        assert response.status_code == 400
        row = InboundEvent.objects.get(integration=integration)
        assert (row.status, row.http_status) == (Status.REJECTED, 400) and row.reason
        assert self.processed(integration) == 0

    def test_a_body_over_the_limit_is_refused_with_413(self, integration):
        """A body over the size limit is refused with 413."""
        # given
        body = b"{" + b" " * (1024 * 1024) + b"}"
        # when
        response = self.post_signed(integration, body)
        # then
        assert response.status_code == 413
        row = InboundEvent.objects.get(integration=integration)
        assert (row.status, row.body_size) == (Status.REJECTED, len(body))
        assert self.processed(integration) == 0

    def test_an_integration_that_is_not_active_answers_503_with_retry_after_and_keeps_no_body(self, integration):
        """An integration that is not active answers 503 with Retry-After and keeps no body."""
        # given
        Integration.objects.filter(pk=integration.pk).update(state=IntegrationState.PAUSED)
        body = self.valid_body("evt-contract-6")
        # when
        response = self.post_signed(integration, body)
        # then
        assert response.status_code == 503 and int(response["Retry-After"]) > 0
        row = InboundEvent.objects.get(integration=integration)
        assert (row.http_status, row.body, row.body_size) == (503, "", len(body))
        assert self.processed(integration) == 0

    def test_a_refused_request_keeps_only_an_excerpt_of_its_body(self, integration, settings):
        """A refused request keeps its metadata and only an excerpt of its body."""
        # given an unsigned body far larger than the excerpt
        body = self.valid_body("evt-contract-8").rstrip(b"}") + b', "padding": "' + b"p" * 200_000 + b'"}'
        # when
        response = self.post(integration, body)
        # then the metadata and the first HI_INBOUND_REJECTED_EXCERPT_BYTES are kept, not the body
        assert response.status_code == 401
        row = InboundEvent.objects.get(integration=integration)
        assert row.body_size == len(body) and row.body == body[: settings.HI_INBOUND_REJECTED_EXCERPT_BYTES].decode()

    def test_a_get_is_405_unless_the_receiver_answers_a_handshake_and_a_bare_one_is_refused(self, integration):
        """A GET is 405, unless the receiver answers handshakes: then a bare one is refused and logged."""
        # when: a GET without any of a provider's verification parameters
        response = Client().get(self.url(integration))
        # then: 405 and nothing logged, or, for a receiver that answers handshakes, refused and logged without a body
        if not self.answers_handshake:
            assert response.status_code == 405 and not InboundEvent.objects.exists()
            return
        assert 400 <= response.status_code < 500
        row = InboundEvent.objects.get(integration=integration)
        assert (row.status, row.http_status, row.body, row.event_type) == (Status.REJECTED, response.status_code, "", "handshake")

    def test_an_unknown_key_and_the_integration_id_are_404_and_log_nothing(self, integration):
        """An unknown key, another integration's id and the integration's own id are 404 and log nothing."""
        # when: a key nobody was given, another integration's id, and this integration's own id
        body = self.valid_body("evt-contract-7")
        answers = [
            post_as_provider(f"/hooks/{key}/", body, self.signed_headers(integration, body))
            for key in (new_key(), uuid.uuid4(), integration.pk)
        ]
        # then: the id is not where a provider posts; only the key is
        assert [r.status_code for r in answers] == [404, 404, 404]
        assert all(json.loads(r.content) == {"error": "not found"} for r in answers)
        assert not InboundEvent.objects.exists()
