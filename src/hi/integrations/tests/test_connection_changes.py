"""Which changes are tested live: only those to attributes that affect the connection; a name alone is just saved."""
from __future__ import annotations

import pytest
from django import forms

from hi.integrations.config import setup
from hi.integrations.console import views
from hi.integrations.console.forms import default_values, field_for
from hi.integrations.contract.attributes import AttributeSpec, ValueType
from hi.integrations.models import IntegrationState, StateChange

pytestmark = pytest.mark.django_db


def test_a_new_name_alone_is_saved_without_a_live_test_or_a_reload(demo, sim):
    # given the provider is down, so any live test would fail
    sim.faults.status = 503
    sent, changes = len(sim.requests), StateChange.objects.filter(integration=demo).count()
    # when the integration is only renamed
    renamed = setup.reconfigure(demo, {}, actor="test", name="Corner Shop (east)")
    # then it is saved without calling the provider, and keeps running as it was
    renamed.refresh_from_db()
    assert renamed.name == "Corner Shop (east)" and renamed.state == IntegrationState.ACTIVE
    assert len(sim.requests) == sent and StateChange.objects.filter(integration=demo).count() == changes


def test_a_change_to_an_attribute_that_affects_the_connection_is_still_tested(demo, sim):
    sim.faults.status = 503
    with pytest.raises(setup.SetupError) as caught:
        setup.reconfigure(demo, {"page_size": "7"}, actor="test")
    assert caught.value.code == "cannot_connect"


def test_only_a_secret_with_a_generator_is_proposed_and_shown_in_the_add_form():
    generated = AttributeSpec(
        key="signing_key", label="Signing key", value_type=ValueType.SECRET, required=False, generator=lambda: "whsec_new"
    )
    typed = AttributeSpec(key="api_key", label="API key", value_type=ValueType.SECRET)
    assert default_values([generated, typed]) == {"signing_key": "whsec_new", "api_key": ""}
    assert isinstance(field_for(generated, False, creating=True).widget, forms.TextInput)
    assert not isinstance(field_for(generated, False, creating=True).widget, forms.PasswordInput)
    # typed secrets, and every secret once the integration exists, stay write-only
    assert isinstance(field_for(typed, False, creating=True).widget, forms.PasswordInput)
    assert isinstance(field_for(generated, True).widget, forms.PasswordInput)


def test_the_forms_that_carry_secrets_keep_them_out_of_error_reports(rf, operator, workspace, demo):
    from django.views.debug import SafeExceptionReporterFilter

    typed = {"name": "", "api_url": "http://127.0.0.1:9/", "api_key": "typed-secret", "catalog": "active", "page_size": "2"}
    for view, args in ((views.add_configure, ("demo",)), (views.configure, (demo.pk,)), (views.reauth, (demo.pk,))):
        request = rf.post("/", typed)
        request.user, request.htmx = operator, False
        request.session = {"workspace": workspace.slug}
        view(request, *args)
        reported = SafeExceptionReporterFilter().get_post_parameters(request)
        assert "typed-secret" not in str(dict(reported)), view.__name__
