"""/healthz, /metrics and the System page: workers alive, queue counts, Prometheus families, the token."""
from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError, connections
from django.test import Client
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from hi.integrations.engine.worker import stale_after
from hi.integrations.models import (
    BreakerState,
    Directive,
    DirectiveAttempt,
    DirectiveStatus,
    Integration,
    IntegrationState,
    ProviderCall,
    Worker,
)

pytestmark = pytest.mark.django_db
HEALTH_KEYS = {"status", "database", "workers_alive", "youngest_heartbeat_age_s", "queue_depth", "dead"}


@pytest.fixture
def shop(workspace) -> Integration:
    """An active integration with a secret-looking name that must never show in /healthz."""
    return Integration.objects.create(
        workspace=workspace, integration_type="demo", name="Secret Corner Shop", unique_id="acct-1", state=IntegrationState.ACTIVE
    )


def worker(worker_id: str = "host:1:abc", *, age: timedelta = timedelta(seconds=1), stopped: bool = False) -> Worker:
    """A worker row whose last heartbeat was `age` ago."""
    now = timezone.now()
    return Worker.objects.create(
        id=worker_id, hostname="host", pid=4242, started_at=now - timedelta(hours=1), heartbeat_at=now - age,
        stopped_at=now if stopped else None
    )


def directive(integration: Integration, status: str, topic: str = "demo.send_note") -> Directive:
    """A directive row in `status`."""
    return Directive.objects.create(
        workspace_id=integration.workspace_id, integration=integration, topic=topic, status=status, next_run_at=timezone.now()
    )


def families(response) -> dict:
    """Parsed Prometheus families of a /metrics response, by name."""
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def samples(family, name: str) -> dict:
    """{frozen labels: value} of one sample name in a family."""
    return {frozenset(s.labels.items()): s.value for s in family.samples if s.name == name}


# /healthz -----------------------------------------------------------------------------------------
def test_healthz_is_200_with_a_fresh_worker_and_counts_only(shop):
    worker()
    directive(shop, DirectiveStatus.QUEUED)
    directive(shop, DirectiveStatus.QUEUED)
    directive(shop, DirectiveStatus.DEAD)
    response = Client().get("/healthz")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == HEALTH_KEYS
    assert (body["status"], body["database"], body["workers_alive"], body["queue_depth"], body["dead"]) == ("ok", "ok", 1, 2, 1)
    assert 0 <= body["youngest_heartbeat_age_s"] < 5
    assert "Secret Corner Shop" not in response.content.decode() and str(shop.pk) not in response.content.decode()


def test_healthz_is_503_without_any_worker():
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "fail", "database": "ok", "workers_alive": 0, "youngest_heartbeat_age_s": None, "queue_depth": 0, "dead": 0
    }


def test_healthz_is_503_when_the_only_workers_are_stale_or_stopped():
    worker("stale", age=stale_after() + timedelta(seconds=5))
    worker("stopped", stopped=True)
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["workers_alive"] == 0 and body["youngest_heartbeat_age_s"] > stale_after().total_seconds()


def test_healthz_is_503_when_the_database_does_not_answer():
    worker()
    with mock.patch.object(connections["default"], "cursor", side_effect=OperationalError("connection refused")):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error" and response.json()["status"] == "fail"


def test_healthz_answers_get_only():
    assert Client().post("/healthz").status_code == 405


# /metrics -----------------------------------------------------------------------------------------
@pytest.fixture
def metered(shop, settings):
    """Directives, attempts, an open breaker, provider calls and a live worker; no token set, opened explicitly."""
    settings.HI_METRICS_TOKEN = ""
    settings.HI_METRICS_OPEN = True
    worker()
    done = directive(shop, DirectiveStatus.DONE)
    directive(shop, DirectiveStatus.DEAD)
    directive(shop, DirectiveStatus.DEAD)
    now = timezone.now()
    for ms in (40, 300, 2000):
        DirectiveAttempt.objects.create(directive=done, number=1, worker="w", started_at=now, duration_ms=ms, outcome="done")
    DirectiveAttempt.objects.create(directive=done, number=1, worker="w", started_at=now - timedelta(days=2), duration_ms=9, outcome="done")
    BreakerState.objects.create(integration=shop, state=BreakerState.State.OPEN, opened_at=timezone.now())
    for status in (200, 200, 503, None):
        ProviderCall.objects.create(workspace_id=shop.workspace_id, integration=shop, at=now, method="GET", url="/", status=status)
    return shop


def test_metrics_serves_every_family_from_the_database(metered):
    response = Client().get("/metrics")
    assert response.status_code == 200 and response["Content-Type"] == CONTENT_TYPE_LATEST
    found = families(response)
    pk = str(metered.pk)
    assert samples(found["hi_directives"], "hi_directives") == {
        frozenset({"topic": "demo.send_note", "status": "done"}.items()): 1.0,
        frozenset({"topic": "demo.send_note", "status": "dead"}.items()): 2.0,
    }
    histogram = found["hi_directive_attempt_duration_seconds"]
    buckets = {dict(k)["le"]: v for k, v in samples(histogram, "hi_directive_attempt_duration_seconds_bucket").items()}
    assert (buckets["0.05"], buckets["0.5"], buckets["2.5"], buckets["+Inf"]) == (1.0, 2.0, 3.0, 3.0)  # the 2-day-old one is out
    assert samples(histogram, "hi_directive_attempt_duration_seconds_sum") == {frozenset({"topic": "demo.send_note"}.items()): 2.34}
    assert samples(found["hi_breaker_state"], "hi_breaker_state") == {frozenset({"integration": pk, "type": "demo"}.items()): 2.0}
    calls = samples(found["hi_provider_calls"], "hi_provider_calls")
    assert calls == {
        frozenset({"integration": pk, "type": "demo", "status_class": "2xx"}.items()): 2.0,
        frozenset({"integration": pk, "type": "demo", "status_class": "5xx"}.items()): 1.0,
        frozenset({"integration": pk, "type": "demo", "status_class": "error"}.items()): 1.0,
    }
    assert samples(found["hi_workers_alive"], "hi_workers_alive") == {frozenset(): 1.0}
    assert "Secret Corner Shop" not in response.content.decode()


def test_an_integration_without_breaker_row_is_closed(shop, settings):
    settings.HI_METRICS_TOKEN = ""
    settings.HI_METRICS_OPEN = True
    found = families(Client().get("/metrics"))
    assert samples(found["hi_breaker_state"], "hi_breaker_state") == {frozenset({"integration": str(shop.pk), "type": "demo"}.items()): 0.0}


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic s3cret-token", "Bearer", "s3cret-token"])
def test_metrics_refuses_a_missing_or_wrong_token_when_one_is_set(metered, settings, header):
    settings.HI_METRICS_TOKEN = "s3cret-token"
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = Client().get("/metrics", **extra)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert b"hi_directives" not in response.content


def test_metrics_answers_the_right_bearer_token(metered, settings):
    settings.HI_METRICS_TOKEN = "s3cret-token"
    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert response.status_code == 200 and "hi_workers_alive" in families(response)


def test_metrics_without_a_token_is_closed_outside_debug_and_says_how_to_open_it(metered, settings):
    settings.HI_METRICS_TOKEN, settings.HI_METRICS_OPEN, settings.DEBUG = "", False, False
    response = Client().get("/metrics")
    assert response.status_code == 403
    body = response.content.decode()
    assert "HI_METRICS_TOKEN" in body and "HI_METRICS_OPEN=1" in body
    assert str(metered.pk) not in body and "hi_breaker_state" not in body


@pytest.mark.parametrize("opened", ["debug", "explicitly"])
def test_metrics_without_a_token_answers_in_debug_or_when_opened_explicitly(metered, settings, opened):
    settings.HI_METRICS_TOKEN = ""
    settings.DEBUG, settings.HI_METRICS_OPEN = opened == "debug", opened == "explicitly"
    response = Client().get("/metrics")
    assert response.status_code == 200 and "hi_workers_alive" in families(response)


@pytest.mark.parametrize("open_, token, warned", [(True, "", True), (True, "s3cret-token", False), (False, "", False)])
def test_the_deploy_check_warns_when_metrics_are_open_to_anyone(settings, open_, token, warned):
    from hi.integrations.checks import check_metrics_exposure

    settings.HI_METRICS_OPEN, settings.HI_METRICS_TOKEN = open_, token
    assert [m.id for m in check_metrics_exposure()] == (["hi.W003"] if warned else [])


def test_the_deploy_check_runs_with_manage_py_check_deploy(settings):
    from django.core import checks

    settings.HI_METRICS_OPEN, settings.HI_METRICS_TOKEN = True, ""
    assert "hi.W003" in [m.id for m in checks.run_checks(include_deployment_checks=True)]
    assert "hi.W003" not in [m.id for m in checks.run_checks(include_deployment_checks=False)]


# The System page ----------------------------------------------------------------------------------
def test_the_system_page_lists_workers_and_the_queue(viewer_client, shop):
    worker("alive-one")
    worker("gone-quiet", age=stale_after() + timedelta(minutes=1))
    worker("shut-down", stopped=True)
    directive(shop, DirectiveStatus.QUEUED)
    directive(shop, DirectiveStatus.DEAD)
    page = viewer_client.get("/system/").content.decode()
    assert 'data-worker="alive-one" data-state="alive"' in page
    assert 'data-worker="gone-quiet" data-state="stale"' in page and "Not responding" in page
    assert 'data-worker="shut-down" data-state="stopped"' in page
    assert 'data-count="queued">1<' in page and 'data-count="dead">1<' in page
    assert "(1 alive)" in page and "4242" in page


def test_the_system_page_says_when_no_worker_runs_and_refreshes_alone(viewer_client):
    assert "No worker has run yet" in viewer_client.get("/system/").content.decode()
    worker("shut-down", stopped=True)
    region = viewer_client.get("/system/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in region and "No worker is alive" in region


def test_the_nav_links_to_the_system_page(viewer_client):
    assert 'href="/system/">System</a>' in viewer_client.get("/").content.decode()


def test_the_system_page_counts_only_this_workspaces_queue(viewer_client, shop, other_workspace):
    theirs = Integration.objects.create(
        workspace=other_workspace, integration_type="demo", name="Theirs", unique_id="acct-9", state=IntegrationState.ACTIVE
    )
    for _ in range(3):
        directive(theirs, DirectiveStatus.DEAD)
    directive(shop, DirectiveStatus.DEAD)
    page = viewer_client.get("/system/").content.decode()
    assert 'data-count="dead">1<' in page
