"""Integration health: 24 h success rates and p95 from known rows, breaker, last error, the SVG chart."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from hi.integrations.config.history import log
from hi.integrations.console.health import integration_health, nice_ceiling
from hi.integrations.models import BreakerState, Directive, DirectiveAttempt, Integration, IntegrationState, ProviderCall

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(workspace) -> Integration:
    """An active integration with no traffic yet."""
    return Integration.objects.create(
        workspace=workspace, integration_type="demo", name="Corner Shop", unique_id="acct-1", state=IntegrationState.ACTIVE
    )


def call(integration: Integration, status: int | None, duration_ms: int, ago: timedelta, error_class: str = "") -> ProviderCall:
    """One recorded provider call."""
    return ProviderCall.objects.create(
        workspace_id=integration.workspace_id, integration=integration, at=timezone.now() - ago, method="GET",
        url="https://provider.example/api/v1/items", status=status, duration_ms=duration_ms, error_class=error_class,
    )


def attempt(integration: Integration, outcome: str, duration_ms: int | None, ago: timedelta, error: str = "") -> DirectiveAttempt:
    """One directive attempt (on a fresh directive)."""
    directive = Directive.objects.create(
        workspace_id=integration.workspace_id, integration=integration, topic="demo.send_note", next_run_at=timezone.now()
    )
    return DirectiveAttempt.objects.create(
        directive=directive, number=1, worker="w1", started_at=timezone.now() - ago, duration_ms=duration_ms, outcome=outcome, error=error
    )


@pytest.fixture
def traffic(shop):
    """19 good calls and one 503 in the last hours (10..200 ms), plus an old failure that must not count."""
    for i in range(1, 21):
        call(shop, 503 if i == 20 else 200, i * 10, timedelta(minutes=30 + i))
    call(shop, 500, 99_999, timedelta(hours=25))
    for duration, outcome in ((100, "done"), (200, "done"), (300, "done"), (400, "retry")):
        attempt(shop, outcome, duration, timedelta(hours=2))
    attempt(shop, "waiting", 5, timedelta(hours=2))  # says nothing about the provider
    return shop


def test_success_rate_and_p95_come_from_the_last_24_hours(traffic):
    health = integration_health(traffic)
    assert (health.calls.ok, health.calls.failed, health.calls.success_rate) == (19, 1, 95.0)
    # Nearest rank: the 19th of 20 sorted durations (10..200 ms).
    assert health.calls.p95_ms == 190
    assert (health.directives.ok, health.directives.failed, health.directives.success_rate) == (3, 1, 75.0)
    assert health.directives.p95_ms == 400


def test_another_integrations_traffic_does_not_count(traffic, workspace):
    other = Integration.objects.create(workspace=workspace, integration_type="demo", name="Other", unique_id="acct-2")
    call(other, 500, 5, timedelta(minutes=5))
    assert integration_health(traffic).calls.failed == 1


def test_hourly_buckets_put_each_row_in_its_hour(shop):
    now = timezone.now().replace(minute=30, second=0, microsecond=0)  # mid-hour: no boundary flakiness
    for status, ago in ((200, timedelta(minutes=1)), (502, timedelta(minutes=2)), (200, timedelta(hours=5)), (200, timedelta(hours=30))):
        ProviderCall.objects.create(workspace_id=shop.workspace_id, integration=shop, at=now - ago, method="GET", url="/", status=status)
    bars = integration_health(shop, now=now).calls.chart.bars
    assert len(bars) == 24
    assert (bars[-1].ok, bars[-1].failed) == (1, 1)
    assert (bars[-6].ok, bars[-6].failed) == (1, 0)
    assert sum(b.ok for b in bars) == 2 and sum(b.failed for b in bars) == 1


def test_breaker_defaults_to_closed_and_shows_its_state(shop):
    assert integration_health(shop).breaker_state == "closed"
    BreakerState.objects.create(
        integration=shop, state=BreakerState.State.OPEN, opened_at=timezone.now(), last_transition_at=timezone.now()
    )
    health = integration_health(shop)
    assert (health.breaker_state, health.breaker_label) == ("open", "Open")


def test_the_last_error_is_the_latest_of_calls_directives_and_log(shop):
    assert integration_health(shop).last_error is None
    call(shop, None, 10_000, timedelta(minutes=10), error_class="ProviderTimeout")
    error = integration_health(shop).last_error
    assert error.source == "Provider call" and "got no answer (ProviderTimeout)" in error.text
    log(shop, "error", "Sync failed: the catalog is gone")
    assert integration_health(shop).last_error.text == "Sync failed: the catalog is gone"


def test_nice_ceiling_rounds_the_axis_up_to_a_readable_value():
    assert [nice_ceiling(n) for n in (0, 1, 3, 7, 11, 120, 501)] == [1, 1, 5, 10, 20, 200, 1000]


def test_the_manage_page_shows_numbers_and_an_accessible_svg_chart(viewer_client, traffic):
    BreakerState.objects.create(integration=traffic, state=BreakerState.State.HALF_OPEN)
    page = viewer_client.get(traffic.get_absolute_url()).content.decode()
    assert 'data-stat="calls-success-rate">95.0%' in page and 'data-stat="calls-p95">190 ms' in page
    assert 'data-stat="directives-success-rate">75.0%' in page and 'data-breaker="half-open"' in page
    svgs = re.findall(r"<svg role=\"img\".*?</svg>", page, re.S)
    assert len(svgs) == 2
    assert "<title id=" in svgs[0] and "Provider calls per hour" in svgs[0] and "19 calls succeeded and 1 failed" in svgs[0]
    assert '<rect class="bar ok"' in svgs[0] and '<rect class="bar failed"' in svgs[0]
    assert len(re.findall(r'<text class="tick"[^>]*>\d\d:00</text>', svgs[0])) == 4  # hour labels on the axis
    assert "<script" not in page.split('id="health"')[1].split("</section>")[0]


def test_the_health_region_has_an_empty_state_and_refreshes_alone(viewer_client, shop):
    page = viewer_client.get(shop.get_absolute_url()).content.decode()
    assert "No traffic in the last 24 hours" in page and "<svg" not in page
    region = viewer_client.get(shop.get_absolute_url(), {"region": "health"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="health"' in region and "<html" not in region and 'data-breaker="closed"' in region


def test_the_last_error_is_shown_on_the_manage_page(viewer_client, shop):
    call(shop, 503, 40, timedelta(minutes=3), error_class="ProviderUnavailable")
    page = viewer_client.get(shop.get_absolute_url()).content.decode()
    assert "Last error" in page and "GET https://provider.example/api/v1/items answered 503 (ProviderUnavailable)" in page
