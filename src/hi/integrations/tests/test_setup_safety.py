"""Set-up never shows what a provider answered, and never sends a stored secret to a new destination unasked."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from hi.conftest import demo_attributes
from hi.integrations.config import setup
from hi.integrations.config.store import attribute_values
from hi.integrations.models import Integration
from hi.integrations.outbound.http import forget_clients
from hi.integrations.outbound.tokens import forget_tokens
from hi.integrations.testing import FakeProviderServer
from hi.integrations.types import IntegrationType
from hi.services.ifood.client import TOKEN_PATH
from hi.services.ifood.simulator import IFoodSimulator
from hi.services.ifood.tests.helpers import CLIENT_ID, MERCHANTS, SECRET, add_ifood
from hi.services.ifood.tests.helpers import attributes as ifood_attributes
from hi.services.webhook.tests.sink import WebhookSink

from ..core.errors import SetupError

pytestmark = pytest.mark.django_db

#: What the issue's internal service answered: it must never reach a form, the command line or a message.
LEAK = "INTERNAL-ONLY-DATA: db_password=hunter2"
DEMO_ACCOUNT = "/api/v1/account"


@pytest.fixture(autouse=True)
def fresh_clients():
    """No token or client kept from another test's simulator."""
    forget_tokens()
    forget_clients()
    yield
    forget_tokens()
    forget_clients()


@pytest.fixture
def internal():
    """An internal service that answers every provider path with its secrets (allow-listed: the guard lets it through)."""
    with FakeProviderServer() as server:
        yield server


def leaking(status: int):
    """A route answering `status` with LEAK as the body, and an internal address to follow."""
    return lambda request: (status, {"Content-Type": "text/plain", "Location": "http://10.0.0.5/admin?token=t"}, LEAK.encode())


@pytest.mark.parametrize("status", [500, 400, 401, 302])
def test_a_failed_connection_test_shows_the_status_never_the_body(workspace, internal, status):
    internal.route("GET", DEMO_ACCOUNT, leaking(status))
    internal.route("POST", TOKEN_PATH, leaking(status))
    for integration_type, raw in (
        (IntegrationType.DEMO, {"api_url": internal.url, "api_key": "k"}),
        (IntegrationType.IFOOD, {"client_id": "c", "client_secret": "s", "merchant_ids": "m", "api_base_url": internal.url}),
    ):
        with pytest.raises(SetupError) as caught:
            setup.add_integration(workspace, integration_type, "", raw, actor="test")
        text = f"{caught.value} {caught.value.message} {caught.value.field_errors}"
        assert LEAK not in text and "hunter2" not in text and "10.0.0.5" not in text
        assert f"HTTP {status}" in text or caught.value.code == "invalid_auth"  # iFood words a 401 its own way
    assert not Integration.objects.exists()


def test_the_console_and_the_command_line_show_no_body_either(operator_client, workspace, internal):
    internal.route("GET", DEMO_ACCOUNT, leaking(500))
    page = operator_client.post(
        reverse("integration-add-configure", args=["demo"]), {
            "name": "", "api_url": internal.url, "api_key": "k", "catalog": "active", "page_size": "10"
        }
    ).content.decode()
    assert 'data-error-code="cannot_connect"' in page and "HTTP 500" in page and "hunter2" not in page
    with pytest.raises(CommandError) as caught:
        call_command(
            "integration", "add", "demo", "--workspace", workspace.slug, "--set", f"api_url={internal.url}", "--set", "api_key=k",
            stdout=io.StringIO()
        )
    assert "HTTP 500" in str(caught.value) and "hunter2" not in str(caught.value)


def test_testing_a_saved_integration_shows_no_body(demo, sim):
    sim.route("GET", DEMO_ACCOUNT, leaking(503))
    with pytest.raises(SetupError) as caught:
        setup.check_connection(demo)
    assert "HTTP 503" in caught.value.message and "hunter2" not in caught.value.message


# Changing where a secret goes asks for the secret again ------------------------------------------------------------
@pytest.fixture
def ifood_sim():
    """The iFood simulator the integration starts on."""
    server = IFoodSimulator(credentials={CLIENT_ID: SECRET}, merchants=MERCHANTS, seed=7).start()
    yield server
    server.stop_background()
    server.stop()


@pytest.fixture
def elsewhere():
    """A host the operator points the integration at: it records whatever it is sent."""
    with FakeProviderServer() as server:
        yield server


def test_a_new_ifood_host_without_the_secret_re_entered_is_refused_and_sent_nothing(workspace, ifood_sim, elsewhere):
    integration = add_ifood(workspace, ifood_sim)
    with pytest.raises(SetupError) as caught:
        setup.reconfigure(integration, {"api_base_url": elsewhere.url}, actor="test")
    assert caught.value.code == "invalid"
    assert "Re-enter" in caught.value.field_errors["client_secret"] and "API base URL" in caught.value.field_errors["client_secret"]
    assert elsewhere.requests == []
    assert attribute_values(integration)["api_base_url"] == ifood_sim.url


def test_a_new_ifood_host_with_the_secret_re_entered_is_tested_and_saved(workspace, ifood_sim):
    integration = add_ifood(workspace, ifood_sim)
    moved = IFoodSimulator(credentials={CLIENT_ID: SECRET}, merchants=MERCHANTS, seed=8).start()
    try:
        setup.reconfigure(integration, {"api_base_url": moved.url, "client_secret": SECRET}, actor="test")
        assert attribute_values(integration)["api_base_url"] == moved.url
        assert moved.requests_to(TOKEN_PATH)
    finally:
        moved.stop_background()
        moved.stop()


def test_the_same_url_with_a_blank_secret_is_still_a_plain_reconfigure(workspace, ifood_sim):
    integration = add_ifood(workspace, ifood_sim)
    # The console posts every field: the unchanged URL (give or take a trailing slash) keeps the secret.
    setup.reconfigure(integration, ifood_attributes(ifood_sim, client_secret="", api_base_url=ifood_sim.url + "/"), actor="test")
    setup.reconfigure(integration, {"merchant_ids": MERCHANTS[0]}, actor="test")
    assert attribute_values(integration)["merchant_ids"] == MERCHANTS[0]


def test_the_console_puts_the_error_on_the_secret_field(operator_client, demo, sim):
    with FakeProviderServer() as other:
        form = {**demo_attributes(sim), "name": demo.name, "api_url": other.url, "api_key": ""}
        response = operator_client.post(reverse("integration-configure", args=[demo.pk]), form)
        page = response.content.decode()
        assert response.status_code == 200 and "Re-enter the API key" in page
        assert other.requests == []
    assert attribute_values(demo)["api_url"] == sim.url


def test_the_command_line_refuses_it_too(demo, sim):
    with FakeProviderServer() as other, pytest.raises(CommandError, match="api_key: Re-enter"):
        call_command(
            "integration", "configure", str(demo.pk), "--workspace", demo.workspace.slug, "--set", f"api_url={other.url}",
            stdout=io.StringIO(),
        )  # fmt: skip


def test_a_webhook_moved_elsewhere_needs_its_extra_headers_again_but_not_its_signing_secret(workspace):
    headers = '{"Authorization": "Bearer receiver-token"}'
    with WebhookSink() as first, WebhookSink() as second:
        integration = setup.add_integration(
            workspace, IntegrationType.WEBHOOK, "", {"url": first.endpoint, "headers": headers}, actor="test"
        )
        with pytest.raises(SetupError) as caught:
            setup.reconfigure(integration, {"url": second.endpoint}, actor="test")
        assert set(caught.value.field_errors) == {"headers"}  # the signing secret never leaves hi: kept
        assert second.requests == []
        # Re-entered, the headers go with the test ping (an endpoint is its URL, so the move itself stops there).
        with pytest.raises(SetupError, match="wrong_account"):
            setup.reconfigure(integration, {"url": second.endpoint, "headers": headers}, actor="test")
        assert second.requests[-1].headers["authorization"] == "Bearer receiver-token"
