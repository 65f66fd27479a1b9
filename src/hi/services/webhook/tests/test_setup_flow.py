"""Setting an endpoint up against a receiver that verifies: a secret first, refusals that say why, signed pings in a rotation."""
# The secret is configured on the receiver before the test; a refusal says which check failed; pings during a
# rotation are signed like deliveries.
from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from standardwebhooks.webhooks import Webhook

from hi.integrations.api import Integration, IntegrationState, IntegrationType, attribute_values, standard_webhooks
from hi.integrations.testing import StateChange, setup
from hi.integrations.testing.canary import CANARY, leaks
from hi.services.webhook import rotation

from .helpers import SECRET, add_endpoint
from .sink import HEADER_AUTH_REFUSAL, WebhookSink

OTHER = "whsec_b3RoZXItc2VjcmV0LXRoYXQtdGhlLXJlY2VpdmVyLWhhcw=="
SECRET_INPUT = re.compile(r'<input type="text" name="secret" value="(whsec_[A-Za-z0-9+/=]+)"')


@pytest.fixture
def receiver():
    """A receiver that verifies, with a secret hi does not know yet."""
    with WebhookSink(secret=OTHER) as server:
        yield server


def add_page(client, data=None):
    """GET (or POST `data` to) the webhook add form."""
    url = reverse("integration-add-configure", args=["webhook"])
    return client.post(url, data) if data is not None else client.get(url)


def test_the_add_form_proposes_a_fresh_secret_to_configure_on_the_receiver_before_the_test(operator_client):
    first, second = add_page(operator_client), add_page(operator_client)
    proposed = [SECRET_INPUT.search(page.content.decode()).group(1) for page in (first, second)]
    assert proposed[0] != proposed[1]  # a new one each time the form opens
    assert all(len(standard_webhooks.secret_bytes(secret)) == 32 for secret in proposed)
    assert first["Cache-Control"] == "no-store"
    assert "configure it on the other side first" in first.content.decode()


def test_a_receiver_refusing_the_signature_keeps_the_form_and_the_secret_until_it_is_configured(operator_client, receiver):
    # given the secret the form proposed, not yet configured on a receiver that verifies
    proposed = SECRET_INPUT.search(add_page(operator_client).content.decode()).group(1)
    data = {"name": "n8n", "url": receiver.endpoint, "events": "order.*", "secret": proposed, "description": "orders"}
    # when the operator tests and adds
    page = add_page(operator_client, data)
    # then nothing is added, the form says what to do, and every value is still there to try again
    html = page.content.decode()
    assert not Integration.objects.exists() and page["Cache-Control"] == "no-store"
    assert 'data-error-code="invalid_auth"' in html
    assert "The receiver is reachable, but refused the signature (HTTP 401): configure this secret there, then test again." in html
    assert SECRET_INPUT.search(html).group(1) == proposed
    assert f'value="{receiver.endpoint}"' in html and 'value="order.*"' in html and 'value="orders"' in html
    # when the receiver is given the secret and the operator tries again
    receiver.secret = proposed
    added = add_page(operator_client, data)
    # then the endpoint is added with that secret, shown once more
    integration = Integration.objects.get()
    assert integration.state == IntegrationState.ACTIVE and attribute_values(integration)["secret"] == proposed
    assert f'data-revealed="signing_secret">{proposed}<' in added.content.decode()


def test_the_cli_prints_a_new_secret_that_integration_add_can_use(workspace, receiver):
    workspace.slug = "default"
    workspace.save()
    printed = [io.StringIO(), io.StringIO()]
    call_command("webhook", "new-secret", stdout=printed[0])
    call_command("webhook", "new-secret", "--json", stdout=printed[1])
    secret, as_json = printed[0].getvalue().strip(), json.loads(printed[1].getvalue())["secret"]
    assert secret != as_json and len(standard_webhooks.secret_bytes(secret)) == 32
    # a receiver that verifies refuses an endpoint added without it, saying how to get one
    with pytest.raises(CommandError) as caught:
        call_command("integration", "add", "webhook", "--set", f"url={receiver.endpoint}", stdout=io.StringIO())
    assert "no secret was given" in str(caught.value) and "manage.py webhook new-secret" in str(caught.value)
    # configured with the printed secret, it accepts the endpoint added with it
    receiver.secret = secret
    out = io.StringIO()
    call_command("integration", "add", "webhook", "--set", f"url={receiver.endpoint}", "--set", f"secret={secret}", "--json", stdout=out)
    assert json.loads(out.getvalue())["state"] == "active"


def test_a_403_is_the_receivers_own_authentication_and_a_401_the_signature_each_with_its_short_answer(workspace):
    with WebhookSink(secret=SECRET, header=("X-Hi-Key", "right-key")) as receiver:
        raw = {"url": receiver.endpoint, "secret": SECRET, "headers": json.dumps({"X-Hi-Key": "wrong-key"})}
        with pytest.raises(setup.SetupError) as forbidden:
            setup.add_integration(workspace, IntegrationType.WEBHOOK, "", raw, actor="test")
        raw = {"url": receiver.endpoint, "secret": OTHER, "headers": json.dumps({"X-Hi-Key": "right-key"})}
        with pytest.raises(setup.SetupError) as unsigned:
            setup.add_integration(workspace, IntegrationType.WEBHOOK, "", raw, actor="test")
    assert forbidden.value.code == unsigned.value.code == "invalid_auth"
    assert "(HTTP 403): that is usually its own authentication, not the signature. Check the extra headers" in forbidden.value.message
    assert f"It answered: “{HEADER_AUTH_REFUSAL}”." in forbidden.value.message
    assert "refused the signature (HTTP 401): configure this secret there" in unsigned.value.message
    assert 'It answered: “{"error": "invalid signature"}”.' in unsigned.value.message
    assert "check the secret" not in f"{forbidden.value.message} {unsigned.value.message}"


def test_the_receivers_refusal_is_cut_short_and_redacted_and_any_other_answer_stays_withheld(workspace):
    def refusing(status: int):
        """A route refusing with `status` and echoing the credential."""
        # A receiver echoing the credential it was sent, at length.
        return lambda request: (status, {"Content-Type": "text/plain"}, (f"bad key {CANARY} " + "x" * 2000).encode())

    with WebhookSink() as receiver:
        headers = json.dumps({"Authorization": CANARY})
        for status in (401, 403, 500, 400):
            receiver.route("POST", "/hook", refusing(status))
            with pytest.raises(setup.SetupError) as caught:
                setup.add_integration(
                    workspace, IntegrationType.WEBHOOK, "", {"url": receiver.endpoint, "secret": SECRET, "headers": headers}, actor="test"
                )
            message = caught.value.message
            assert not leaks(message, CANARY) and f"HTTP {status}" in message
            if status in (401, 403):
                answer = message.split("It answered: “", 1)[1].rsplit("”", 1)[0]
                assert answer.startswith("bad key **REDACTED** xxx") and len(answer) <= 200
            else:
                assert "bad key" not in message and "xxx" not in message  # set-up's rule: never the body


def test_during_a_rotation_test_connection_and_reconfigure_sign_like_deliveries(workspace):
    # given an endpoint whose secret was rotated, and a receiver that still only knows the old one
    with WebhookSink(secret=SECRET) as receiver:
        integration = add_endpoint(workspace, receiver.endpoint)
        new = rotation.rotate(integration, "test")
        # when the operator tests the connection, and adds an extra header (a change the receiver sees)
        setup.check_connection(integration)
        setup.reconfigure(integration, {"headers": json.dumps({"X-Kitchen": "1"})}, "test")
        # then both pings verified under the old secret, and carried the new one's signature too
        test_ping, change_ping = receiver.pings()[-3:-1]  # the last one is the reload's activation
        for ping in (test_ping, change_ping):
            Webhook(SECRET).verify(ping.body, ping.headers)
            Webhook(new).verify(ping.body, ping.headers)
        assert change_ping.headers["x-kitchen"] == "1"
    integration.refresh_from_db()
    assert integration.state == IntegrationState.ACTIVE


def test_a_description_or_events_change_needs_no_live_test_and_no_reload(workspace):
    with WebhookSink(secret=SECRET) as receiver:
        integration = add_endpoint(workspace, receiver.endpoint)
        changes = StateChange.objects.filter(integration=integration).count()
        receiver.faults.status = 503  # down: a live test would fail
        sent = len(receiver.requests)
        setup.reconfigure(integration, {"description": "orders for the kitchen", "events": "order.*"}, "test", name="Kitchen")
        assert len(receiver.requests) == sent
    integration.refresh_from_db()
    assert integration.name == "Kitchen" and integration.state == IntegrationState.ACTIVE
    assert attribute_values(integration)["events"] == "order.*"
    assert StateChange.objects.filter(integration=integration).count() == changes  # not reloaded
