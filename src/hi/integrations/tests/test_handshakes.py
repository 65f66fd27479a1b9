"""GET on a receive URL: a receiver that answers verification handshakes, through the real endpoint."""
# Like test_inbound.py, this module is a URLconf routing /hooks/<key>/ to receiver_view with a test resolver.
from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from hi.integrations.config.hookkeys import receive_path
from hi.integrations.contract.receivers import InboundReceiver
from hi.integrations.core.errors import InboundRejected
from hi.integrations.engine.inbound_views import receiver_view
from hi.integrations.models import InboundEvent, Integration, IntegrationLog, IntegrationState

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]
Status = InboundEvent.Status
TOKEN = "the-verify-token-42"


class ChallengeReceiver(InboundReceiver):
    """Answers ?challenge=X with X when ?token is right; posts are not this test's business."""

    answers_handshake = True
    broken = False

    def handshake(self, request, integration):
        """The challenge back, as text, when the token matches."""
        if self.broken:
            raise RuntimeError("handshake broke")
        if request.GET.get("token") != TOKEN:
            raise InboundRejected(403, "the token does not match")
        return HttpResponse(request.GET.get("challenge", ""), content_type="text/plain")


RECEIVERS: dict = {}
urlpatterns = [path("hooks/<str:key>/", receiver_view(lambda integration: RECEIVERS.get(integration.pk)))]


@pytest.fixture
def hooked(workspace) -> Integration:
    """An active integration whose receiver answers handshakes."""
    integration = Integration.objects.create(
        workspace=workspace, integration_type="demo", name="Hooked", unique_id="acct-hooked", state=IntegrationState.ACTIVE
    )
    RECEIVERS[integration.pk] = ChallengeReceiver()
    yield integration
    RECEIVERS.pop(integration.pk, None)


def test_the_right_token_gets_the_challenge_back_and_stores_no_request(hooked):
    # when
    response = Client().get(receive_path(hooked), {"token": TOKEN, "challenge": "1158201444"})
    # then
    assert (response.status_code, response.content, response["Content-Type"]) == (200, b"1158201444", "text/plain")
    assert not InboundEvent.objects.exists()
    assert IntegrationLog.objects.filter(integration=hooked, message__contains="verified the receive URL").count() == 1


def test_a_wrong_token_is_refused_and_logged_without_the_query(hooked):
    # when
    response = Client().get(receive_path(hooked), {"token": "guess-123456", "challenge": "1158201444"})
    # then
    assert response.status_code == 403
    row = InboundEvent.objects.get(integration=hooked)
    assert (row.status, row.http_status, row.event_type, row.body, row.reason) == (
        Status.REJECTED, 403, "handshake", "", "the token does not match"
    )
    assert "guess-123456" not in str(row.headers) + row.body + row.reason


def test_an_integration_that_is_not_active_answers_503(hooked):
    # given
    Integration.objects.filter(pk=hooked.pk).update(state=IntegrationState.PAUSED)
    hooked.refresh_from_db()
    # when
    response = Client().get(receive_path(hooked), {"token": TOKEN, "challenge": "1"})
    # then
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert InboundEvent.objects.get(integration=hooked).http_status == 503


def test_a_broken_handshake_is_503_never_500(hooked):
    # given
    RECEIVERS[hooked.pk].broken = True
    # when
    response = Client().get(receive_path(hooked), {"token": TOKEN, "challenge": "1"})
    # then
    assert response.status_code == 503
    assert "handshake broke" in InboundEvent.objects.get(integration=hooked).reason


def test_a_receiver_without_handshakes_keeps_get_at_405(hooked):
    # given
    RECEIVERS[hooked.pk] = InboundReceiver()
    # when
    response = Client().get(receive_path(hooked), {"token": TOKEN})
    # then
    assert response.status_code == 405 and not InboundEvent.objects.exists()
