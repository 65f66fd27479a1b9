"""Redaction: every encoding of a secret, structured secrets, the process's known secrets, logs and stores."""
from __future__ import annotations

import json
import logging

import pytest
from django.db import connection

from hi.integrations.config.store import save_attributes, secret_values
from hi.integrations.core.redaction import REDACTED, redact_data, redact_known, redact_text, remember, secret_parts
from hi.integrations.models import Directive, DirectiveStatus, Integration
from hi.integrations.testing.canary import CANARY, echo_body, encodings, leaks

OTHER = "second-Secret/with\"quote"


@pytest.mark.parametrize("name", sorted(encodings(CANARY)))
def test_the_detector_sees_each_encoding_before_redaction(name):
    assert leaks(f"<{encodings(CANARY)[name]}>", CANARY), name


@pytest.mark.parametrize("name", sorted(encodings(CANARY)))
def test_every_encoding_of_a_secret_is_redacted(name):
    text = f"before {encodings(CANARY)[name]} after"
    clean = redact_text(text, [CANARY])
    assert REDACTED in clean and not leaks(clean, CANARY)
    assert clean.startswith("before ") and clean.endswith(" after")


def test_a_whole_echo_of_two_secrets_is_clean_and_the_rest_stays():
    clean = redact_text(echo_body([CANARY, OTHER]) + "order 42 is ready", [CANARY, OTHER])
    assert not leaks(clean, CANARY) and not leaks(clean, OTHER)
    assert "order 42 is ready" in clean and "you sent:" in clean


def test_text_without_secrets_and_short_values_are_left_alone():
    text = "HTTP 500: boom %2B /echo= \\u0041 QUJD"
    assert redact_text(text, [CANARY, "abc", ""]) == text
    assert redact_text("", [CANARY]) == ""


def test_a_structured_secret_contributes_each_value_and_the_credentials_after_a_scheme():
    headers = json.dumps({"Authorization": "Bearer tok-123456789", "X-Api-Key": CANARY})
    assert {"Bearer tok-123456789", "tok-123456789", CANARY} <= set(secret_parts(headers))
    echoed = f"authorization=Bearer%20tok-123456789 token=tok-123456789 key={encodings(CANARY)['form']}"
    clean = redact_text(echoed, [headers])
    assert "tok-123456789" not in clean and not leaks(clean, CANARY)


def test_a_very_long_secret_is_matched_in_its_usual_forms():
    long_secret = "L0ng/" + "x+y=" * 600
    text = f"a {long_secret} b {encodings(long_secret)['percent']} c {encodings(long_secret)['base64']} d"
    assert redact_text(text, [long_secret]) == f"a {REDACTED} b {REDACTED} c {REDACTED} d"


def test_redact_data_reaches_nested_strings():
    data = {"a": [f"x {encodings(CANARY)['percent']}", {"b": encodings(CANARY)["basic-1"]}], "n": 3}
    assert not leaks(json.dumps(redact_data(data, [CANARY])), CANARY)


def test_the_process_redacts_what_it_has_loaded_and_forgets_an_owner_s_old_values():
    assert redact_known(CANARY) == CANARY
    remember("integration:1", [CANARY])
    assert redact_known(f"x {encodings(CANARY)['json-dotnet']} y") == f"x {REDACTED} y"
    remember("integration:1", [OTHER])
    assert redact_known(CANARY) == CANARY and redact_known(OTHER) == REDACTED


def test_every_log_record_is_redacted_whatever_its_logger(caplog):
    remember("token:x", [CANARY])
    caplog.set_level(logging.INFO)
    logging.getLogger("some.library").warning("sent %s", encodings(CANARY)["form"])
    try:
        raise ValueError(f"echo {encodings(CANARY)['base64']}")
    except ValueError:
        logging.getLogger("hi.anything").exception("failed")
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert REDACTED in caplog.records[0].getMessage() and "ValueError" in caplog.records[1].exc_text
    assert not leaks(text, CANARY) and not leaks(caplog.text, CANARY)


@pytest.mark.django_db
def test_stores_of_provider_text_redact_the_secrets_the_process_knows(workspace):
    integration = Integration.objects.create(workspace=workspace, integration_type="demo", name="Shop", unique_id="a")
    save_attributes(integration, {"api_url": "https://example.com", "api_key": CANARY}, actor="test")
    assert CANARY in secret_values(integration)  # the worker loads the secrets it calls with
    directive = Directive.objects.create(
        workspace=workspace, integration=integration, topic="t", status=DirectiveStatus.QUEUED, next_run_at="2030-01-01T00:00Z"
    )
    Directive.objects.filter(pk=directive.pk).update(last_error=f"HTTP 400: {encodings(CANARY)['quote-plus']}")
    integration.reason = f"refused {encodings(CANARY)['json-slash']}"
    integration.save(update_fields=["reason"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_error FROM integrations_directive WHERE id = %s", [directive.pk])
        stored = cursor.fetchone()[0]
    integration.refresh_from_db()
    assert stored == f"HTTP 400: {REDACTED}" and integration.reason == f"refused \"{REDACTED}\""
