"""The directive console: list, filters, pagination, detail, operator actions and their refusals."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hi.integrations.models import Directive, DirectiveAttempt, DirectiveStatus, Integration, IntegrationState
from hi.integrations.outbox.directives import enqueue

pytestmark = pytest.mark.django_db
TOPIC = "demo.send_note"


@pytest.fixture
def shop(workspace) -> Integration:
    """An active demo integration (no provider needed: nothing here runs a directive)."""
    return Integration.objects.create(
        workspace=workspace, integration_type="demo", name="Corner Shop", unique_id="acct-1", state=IntegrationState.ACTIVE
    )


def make(
    integration: Integration, status: str = DirectiveStatus.QUEUED, *, topic: str = TOPIC, age: timedelta | None = None, **fields
) -> Directive:
    """A real directive (enqueued when its topic has a handler), then moved to `status`."""
    if topic == TOPIC:
        directive = enqueue(integration, topic, {"text": "hello"})
    else:
        directive = Directive.objects.create(
            workspace_id=integration.workspace_id, integration=integration, topic=topic, next_run_at=timezone.now()
        )
    if age is not None:
        fields["created_at"] = timezone.now() - age
    Directive.objects.filter(pk=directive.pk).update(status=status, **fields)
    directive.refresh_from_db()
    return directive


def listed(response) -> list[int]:
    """The directive ids in a list page's table, in order."""
    return [int(pk) for pk in re.findall(r'data-directive="(\d+)"', response.content.decode())]


def list_url(integration: Integration) -> str:
    """The integration's directive list."""
    return reverse("integration-directives", args=[integration.pk])


def action_url(directive: Directive, action: str) -> str:
    """The POST target of an operator action."""
    return reverse("integration-directive-action", args=[directive.integration_id, directive.pk, action])


def test_a_viewer_sees_each_directive_with_its_state_but_no_actions(viewer_client, shop):
    directive = make(shop, DirectiveStatus.QUEUED, attempts=2, last_error="ProviderUnavailable: the provider answered 503")
    page = viewer_client.get(list_url(shop)).content.decode()
    assert listed(viewer_client.get(list_url(shop))) == [directive.pk]
    assert TOPIC in page and f"<td>2/{directive.max_attempts}</td>" in page and "directive-queued" in page
    assert "ProviderUnavailable: the provider answered 503" in page
    assert ">Retry now<" not in page and ">Cancel<" not in page and "/retry/" not in page


def test_an_empty_list_says_what_directives_are(viewer_client, shop):
    page = viewer_client.get(list_url(shop)).content.decode()
    assert "No directives yet" in page


def test_filters_narrow_by_status_topic_and_time(viewer_client, shop):
    queued = make(shop, DirectiveStatus.QUEUED)
    dead = make(shop, DirectiveStatus.DEAD)
    other = make(shop, DirectiveStatus.FAILED, topic="demo.other")
    old = make(shop, DirectiveStatus.DONE, age=timedelta(days=3))
    url = list_url(shop)
    assert set(listed(viewer_client.get(url))) == {queued.pk, dead.pk, other.pk, old.pk}
    assert listed(viewer_client.get(url, {"status": "dead"})) == [dead.pk]
    assert listed(viewer_client.get(url, {"topic": "demo.other"})) == [other.pk]
    assert old.pk not in listed(viewer_client.get(url, {"since": "24h"}))
    assert old.pk in listed(viewer_client.get(url, {"since": "7d"}))
    assert listed(viewer_client.get(url, {"status": "done", "topic": TOPIC, "since": "1h"})) == []
    assert "No directive matches these filters" in viewer_client.get(url, {"status": "cancelled"}).content.decode()


def test_an_unknown_filter_value_means_any(viewer_client, shop):
    directive = make(shop, DirectiveStatus.QUEUED)
    assert listed(viewer_client.get(list_url(shop), {"status": "nonsense", "since": "forever"})) == [directive.pk]


def test_htmx_filter_changes_get_only_the_table(viewer_client, shop):
    dead = make(shop, DirectiveStatus.DEAD)
    make(shop, DirectiveStatus.QUEUED)
    response = viewer_client.get(list_url(shop), {"status": "dead"}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert "<html" not in text and 'id="directive-table"' in text
    assert listed(response) == [dead.pk]


def test_the_list_is_paginated_by_fifty_and_keeps_its_filters(viewer_client, shop):
    now = timezone.now()
    Directive.objects.bulk_create(
        Directive(
            workspace_id=shop.workspace_id, integration=shop, topic=TOPIC, next_run_at=now, status=DirectiveStatus.FAILED
        ) for _ in range(60)
    )
    first = viewer_client.get(list_url(shop), {"status": "failed"})
    assert len(listed(first)) == 50
    assert "status=failed&amp;page=2" in first.content.decode()
    second = viewer_client.get(list_url(shop), {"status": "failed", "page": 2})
    assert len(listed(second)) == 10 and not set(listed(first)) & set(listed(second))


def test_the_detail_shows_the_payload_and_every_attempt(viewer_client, shop):
    directive = make(shop, DirectiveStatus.QUEUED, attempts=2)
    start = timezone.now() - timedelta(minutes=5)
    DirectiveAttempt.objects.create(
        directive=directive, number=1, worker="w-one", started_at=start, duration_ms=1500, outcome="retry",
        error="ProviderTimeout: no answer in 10 s"
    )
    DirectiveAttempt.objects.create(
        directive=directive, number=2, worker="w-two", started_at=start + timedelta(minutes=1), duration_ms=340, outcome="done"
    )
    page = viewer_client.get(reverse("integration-directive", args=[shop.pk, directive.pk])).content.decode()
    assert "&quot;text&quot;: &quot;hello&quot;" in page  # pretty JSON, escaped
    assert 'data-attempt="1"' in page and 'data-attempt="2"' in page
    assert "w-one" in page and "w-two" in page and "1.5 s" in page and "340 ms" in page
    assert "ProviderTimeout: no answer in 10 s" in page and "Will retry" in page


def test_retry_now_requeues_a_dead_directive(operator_client, shop):
    dead = make(shop, DirectiveStatus.DEAD, attempts=10, max_attempts=10, last_error="boom")
    response = operator_client.post(action_url(dead, "retry"), follow=True)
    dead.refresh_from_db()
    assert dead.status == DirectiveStatus.QUEUED and dead.max_attempts == 11
    assert f"Directive #{dead.pk} will run again" in response.content.decode()


def test_replay_runs_a_done_directive_again_as_a_new_one(operator_client, shop):
    done = make(shop, DirectiveStatus.DONE)
    operator_client.post(action_url(done, "replay"))
    replay = Directive.objects.get(replay_of=done)
    assert replay.status == DirectiveStatus.QUEUED and replay.payload == {"text": "hello"}
    assert f"#{replay.pk}" in operator_client.get(reverse("integration-directive", args=[shop.pk, done.pk])).content.decode()


def test_cancel_gives_up_on_a_failed_directive_and_goes_back_to_the_filtered_list(operator_client, shop):
    failed = make(shop, DirectiveStatus.FAILED)
    back = f"{list_url(shop)}?status=failed"
    response = operator_client.post(action_url(failed, "cancel"), {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    failed.refresh_from_db()
    assert failed.status == DirectiveStatus.CANCELLED


def test_an_action_never_redirects_off_site(operator_client, shop):
    failed = make(shop, DirectiveStatus.FAILED)
    response = operator_client.post(action_url(failed, "cancel"), {"next": "https://evil.example/"})
    assert response["Location"] == list_url(shop)


@pytest.mark.parametrize(
    "status,action,message",
    [
        (DirectiveStatus.QUEUED, "replay", "Only a done directive can be replayed"),
        (DirectiveStatus.DONE, "retry", "A done directive cannot be retried."),
        (DirectiveStatus.RUNNING, "cancel", "A running directive cannot be cancelled."),
    ],
)
def test_a_refused_action_is_a_message_not_a_500(operator_client, shop, status, action, message):
    directive = make(shop, status)
    response = operator_client.post(action_url(directive, action), follow=True)
    assert response.status_code == 200 and message in response.content.decode()
    directive.refresh_from_db()
    assert directive.status == status and Directive.objects.count() == 1


def test_operators_see_the_actions_that_apply(operator_client, shop):
    make(shop, DirectiveStatus.DEAD)
    make(shop, DirectiveStatus.DONE)
    page = operator_client.get(list_url(shop)).content.decode()
    assert page.count(">Retry now<") == 1 and page.count(">Replay<") == 1 and page.count(">Cancel<") == 1


def test_a_viewer_cannot_act(viewer_client, shop):
    dead = make(shop, DirectiveStatus.DEAD)
    assert viewer_client.post(action_url(dead, "retry")).status_code == 403
    dead.refresh_from_db()
    assert dead.status == DirectiveStatus.DEAD


def test_actions_are_post_only_and_unknown_ones_are_404(operator_client, shop):
    dead = make(shop, DirectiveStatus.DEAD)
    assert operator_client.get(action_url(dead, "retry")).status_code == 405
    assert operator_client.post(action_url(dead, "explode")).status_code == 404


def test_actions_need_the_csrf_token(operator, shop):
    dead = make(shop, DirectiveStatus.DEAD)
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    assert client.post(action_url(dead, "cancel")).status_code == 403
    dead.refresh_from_db()
    assert dead.status == DirectiveStatus.DEAD


def test_another_workspaces_directives_are_404(operator_client, shop, other_workspace):
    theirs = Integration.objects.create(
        workspace=other_workspace, integration_type="demo", name="Theirs", unique_id="acct-2", state=IntegrationState.ACTIVE
    )
    directive = make(theirs, DirectiveStatus.DEAD)
    assert operator_client.get(list_url(theirs)).status_code == 404
    assert operator_client.get(reverse("integration-directive", args=[theirs.pk, directive.pk])).status_code == 404
    # Through our own integration's URL, their directive is just as invisible.
    assert operator_client.get(reverse("integration-directive", args=[shop.pk, directive.pk])).status_code == 404
    assert operator_client.post(reverse("integration-directive-action", args=[shop.pk, directive.pk, "retry"])).status_code == 404
    directive.refresh_from_db()
    assert directive.status == DirectiveStatus.DEAD


def test_the_dashboard_card_counts_dead_and_failed_directives(viewer_client, shop):
    assert "data-directive-alert" not in viewer_client.get("/").content.decode()
    make(shop, DirectiveStatus.DEAD)
    make(shop, DirectiveStatus.DEAD)
    make(shop, DirectiveStatus.FAILED)
    make(shop, DirectiveStatus.QUEUED)
    page = viewer_client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert "2 dead</a> · " in page and "1 failed</a>" in page
    assert f"{list_url(shop)}?status=dead" in page and f"{list_url(shop)}?status=failed" in page


def test_the_manage_page_links_to_the_list_with_counts(viewer_client, shop):
    make(shop, DirectiveStatus.DEAD)
    make(shop, DirectiveStatus.QUEUED)
    make(shop, DirectiveStatus.QUEUED)
    page = viewer_client.get(shop.get_absolute_url()).content.decode()
    assert f'href="{list_url(shop)}">Directives (3)' in page
    assert f"{list_url(shop)}?status=dead" in page and "1 dead</a>" in page and "2 queued</a>" in page
