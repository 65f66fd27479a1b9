"""Secret rotation: both signatures for 24 h, then only the new one; shown once in the console and the CLI."""
from __future__ import annotations

import io
import json
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hi.conftest import member
from hi.integrations.testing import AttributeChange
from hi.services.webhook import rotation
from hi.services.webhook.models import RetiredSecret
from hi.workspaces.models import Role

from .helpers import SECRET, add_endpoint, emit, run_due
from .sink import WebhookSink


@pytest.fixture
def sink():
    """A sink accepting any signature, stopped after the test."""
    server = WebhookSink().start()  # accepts any signature: the test verifies each one itself
    yield server
    server.stop()


def test_after_a_rotation_both_signatures_are_sent_for_24_hours(workspace, sink, django_capture_on_commit_callbacks):
    # given an endpoint whose secret is rotated
    integration = add_endpoint(workspace, sink.endpoint)
    new = rotation.rotate(integration, "test", overlap=timedelta(seconds=1))  # 24 h in production
    # when an event is delivered during the overlap
    emit(django_capture_on_commit_callbacks, workspace, "order.created")
    run_due()
    during = sink.deliveries()[-1]
    # then receivers holding either secret verify it: two signatures, space-separated
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(SECRET).verify(during.body, during.headers)
    Webhook(new).verify(during.body, during.headers)
    # when the overlap has passed
    time.sleep(1.1)
    emit(django_capture_on_commit_callbacks, workspace, "order.paid")
    run_due()
    after = sink.deliveries()[-1]
    # then only the new secret signs
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(after.body, after.headers)
    # and the retired secret is stored encrypted, the history says only that the secret changed
    assert SECRET not in RetiredSecret.objects.get().value
    change = AttributeChange.objects.filter(integration=integration, key="secret").last()
    assert change.old_value is None and change.new_value is None


def test_the_console_shows_the_new_secret_once(workspace, sink, client):
    integration = add_endpoint(workspace, sink.endpoint)
    client.force_login(member(workspace, "opal", Role.OPERATOR))
    assert "Rotate signing secret" in client.get(integration.get_absolute_url()).content.decode()
    response = client.post(reverse("webhook-rotate-secret", args=[integration.pk]))
    integration.refresh_from_db()
    new = rotation.signing_secrets(integration)[0]
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert f'data-revealed="signing_secret">{new}<' in page and SECRET not in page
    assert timedelta(hours=23, minutes=59) < rotation.overlap_ends(integration) - timezone.now() <= timedelta(hours=24)
    manage = client.get(integration.get_absolute_url()).content.decode()
    assert new not in manage and "A rotation is in progress" in manage
    client.force_login(member(workspace, "vera", Role.VIEWER))
    assert client.post(reverse("webhook-rotate-secret", args=[integration.pk])).status_code == 403
    integration.refresh_from_db()
    assert rotation.signing_secrets(integration)[0] == new


def test_the_cli_rotates_to_a_supplied_secret_and_refuses_a_malformed_one(workspace, sink):
    from django.core.management.base import CommandError

    workspace.slug = "default"
    workspace.save()
    integration = add_endpoint(workspace, sink.endpoint)
    supplied = "whsec_c3VwcGxpZWQtc2VjcmV0LWZvci1yb3RhdGlvbi10ZXN0"
    out = io.StringIO()
    call_command("webhook", "rotate-secret", str(integration.pk), "--secret", supplied, "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["signing_secret"] == supplied and result["old_secret_signs_until"]
    integration.refresh_from_db()
    assert rotation.signing_secrets(integration) == [supplied, SECRET]
    with pytest.raises(CommandError, match="secret"):
        call_command("webhook", "rotate-secret", str(integration.pk), "--secret", "whsec_short")
    assert rotation.signing_secrets(integration) == [supplied, SECRET]


def test_hi_rotate_keys_re_encrypts_retired_secrets_too(workspace, sink, settings):
    from cryptography.fernet import Fernet

    # given a retired secret stored under the old key
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.HI_ENCRYPTION_KEYS = [old_key]
    integration = add_endpoint(workspace, sink.endpoint)
    new = rotation.rotate(integration, "test")
    # when the keys are rotated and the old key dropped
    settings.HI_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("hi_rotate_keys", stdout=io.StringIO())
    settings.HI_ENCRYPTION_KEYS = [new_key]
    integration.refresh_from_db()
    # then both secrets still sign
    assert rotation.signing_secrets(integration) == [new, SECRET]
