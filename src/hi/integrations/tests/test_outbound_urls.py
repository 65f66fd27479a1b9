"""Every operator-given URL is a URL value type that the SSRF guard checks offline, with one allow-list setting."""
from __future__ import annotations

import pytest
from django.urls import reverse

from hi.integrations.config import setup
from hi.integrations.config.store import specs_for
from hi.integrations.contract.attributes import ValueType, validate_values
from hi.integrations.models import Integration
from hi.integrations.testing import FakeProviderServer
from hi.integrations.types import IntegrationType

from ..core.errors import SetupError

pytestmark = pytest.mark.django_db

#: What the issue's hostile operator typed: a local service, the cloud metadata service, a local Redis.
HOSTILE = ["http://127.0.0.1:6379", "http://169.254.169.254/latest", "http://[::1]:6379"]
#: Words that make an attribute a place hi connects to, whatever a service calls it.
URL_WORDS = ("url", "endpoint", "host", "base", "server")

URL_ATTRIBUTES = [
    (integration_type, spec)
    for integration_type in IntegrationType
    for spec in specs_for(integration_type)
    if spec.value_type is ValueType.URL
]


@pytest.fixture(autouse=True)
def strict(settings):
    """Production defaults: nothing allow-listed, no debug."""
    settings.DEBUG = False
    settings.HI_OUTBOUND_ALLOWED_NETWORKS = []


def test_every_service_declares_its_urls_as_url_values():
    # The general guard: a new service's "api_url" as plain text would skip the SSRF guard.
    for integration_type in IntegrationType:
        for spec in specs_for(integration_type):
            if any(word in spec.key.lower() for word in URL_WORDS) and not spec.is_secret:
                assert spec.value_type is ValueType.URL or spec.destination, f"{integration_type.type_id}.{spec.key}"
    assert {(t.type_id, s.key) for t, s in URL_ATTRIBUTES} >= {("demo", "api_url"), ("ifood", "api_base_url"), ("webhook", "url")}


@pytest.mark.parametrize("url", HOSTILE)
@pytest.mark.parametrize("integration_type,spec", URL_ATTRIBUTES, ids=lambda v: getattr(v, "type_id", getattr(v, "key", v)))
def test_every_url_attribute_refuses_internal_targets_offline(integration_type, spec, url):
    with pytest.raises(SetupError) as caught:
        setup.check_configuration(integration_type, {spec.key: url})
    message = caught.value.field_errors[spec.key]
    assert "cannot be used" in message and ("loopback" in message or "metadata" in message)


def test_the_allow_list_admits_internal_urls_for_every_service(settings):
    settings.HI_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    for integration_type, spec in URL_ATTRIBUTES:
        values, errors = validate_values(specs_for(integration_type), {spec.key: "http://127.0.0.1:6379"})
        assert spec.key not in errors and values[spec.key] == "http://127.0.0.1:6379"
    with pytest.raises(SetupError) as caught:  # metadata services stay refused whatever the allow-list says
        setup.check_configuration(IntegrationType.IFOOD, {"api_base_url": "http://169.254.169.254/latest"})
    assert "metadata" in caught.value.field_errors["api_base_url"]


def test_the_console_refuses_an_internal_ifood_host_without_calling_it(operator_client):
    with FakeProviderServer() as internal:
        form = {
            "name": "", "client_id": "app", "client_secret": "s", "merchant_ids": "m-1",
            "api_base_url": internal.url, "event_mode": "polling", "events_prefix": "/events/v1.0",
        }  # fmt: skip
        response = operator_client.post(reverse("integration-add-configure", args=["ifood"]), form)
        page = response.content.decode()
        assert response.status_code == 200 and "cannot be used" in page and "loopback" in page
        assert internal.requests == [] and not Integration.objects.exists()
