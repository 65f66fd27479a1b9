"""The worker's pass processes an integration's rows together (process_many), a bad row failing alone."""
from __future__ import annotations

import pytest

from hi.integrations.engine.inbound import process_pending
from hi.integrations.models import Event, InboundEvent
from hi.integrations.testing.inbound import post_as_provider
from hi.integrations.tests.test_inbound import RECEIVERS, SignedTestReceiver, body_of, hooked, resolve, sign, url  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.urls("hi.integrations.tests.test_inbound")]
Status = InboundEvent.Status
PROCESSED_EVENT = "test.webhook_processed"


class GroupingReceiver(SignedTestReceiver):
    """The test receiver, recording what process_many gets and failing the whole group when one row is bad."""

    def __init__(self, secret: str) -> None:
        """The test receiver with `secret`, with no group seen yet."""
        super().__init__(secret)
        self.groups: list[list[str]] = []

    def process_many(self, rows):
        """Publish for every row (as a real receiver's shared work would), then fail when one row is bad."""
        self.groups.append([payload["id"] for _, payload in rows])
        for inbound_event, payload in rows:
            self.process(inbound_event, payload)

    def process(self, inbound_event, payload):
        """Publish, then fail for a row marked bad."""
        super().process(inbound_event, payload)
        if payload.get("bad"):
            raise ValueError(f"row {payload['id']} cannot be processed")


@pytest.fixture
def grouping(hooked):
    """The grouping receiver, registered for `hooked`."""
    RECEIVERS[hooked.pk] = GroupingReceiver("group-secret")
    yield RECEIVERS[hooked.pk]
    RECEIVERS.pop(hooked.pk, None)


def post_events(integration, receiver, *bodies: bytes) -> None:
    """Post each body signed, as the provider would; each is accepted."""
    for body in bodies:
        assert post_as_provider(url(integration), body, sign(receiver.secret, body)).status_code == 202


def test_an_integrations_rows_are_processed_together_oldest_first_in_one_call(hooked, grouping):
    # given: three accepted rows of one integration
    post_events(hooked, grouping, body_of("g1"), body_of("g2"), body_of("g3"))
    # when
    assert process_pending(resolve=resolve) == 3
    # then: one process_many call had them all, oldest first, and each was processed once
    assert grouping.groups == [["g1", "g2", "g3"]]
    assert set(InboundEvent.objects.filter(integration=hooked).values_list("status", flat=True)) == {Status.PROCESSED}
    assert Event.objects.filter(type=PROCESSED_EVENT).count() == 3


def test_a_row_that_fails_the_group_is_undone_and_fails_alone_while_the_others_are_processed_once(hooked, grouping):
    # given: a bad row between two good ones
    post_events(hooked, grouping, body_of("ok-1"), body_of("bad-1", bad=True), body_of("ok-2"))
    # when
    assert process_pending(resolve=resolve) == 2
    # then: the group was tried together, undone, and each row processed on its own
    assert grouping.groups == [["ok-1", "bad-1", "ok-2"]]
    status = dict(InboundEvent.objects.filter(integration=hooked).values_list("provider_event_id", "status"))
    assert status == {"ok-1": Status.PROCESSED, "bad-1": Status.FAILED, "ok-2": Status.PROCESSED}
    assert "cannot be processed" in InboundEvent.objects.get(provider_event_id="bad-1").reason
    # and what the undone attempt published is gone: one event per good row, none for the bad one
    published = sorted(Event.objects.filter(type=PROCESSED_EVENT).values_list("data__inbound_event", flat=True))
    assert published == sorted(str(pk) for pk in InboundEvent.objects.filter(status=Status.PROCESSED).values_list("pk", flat=True))


def test_the_events_a_pass_publishes_are_dispatched_together_after_it_commits(hooked, grouping, django_capture_on_commit_callbacks):
    # given: three accepted rows, each publishing an event when processed
    post_events(hooked, grouping, body_of("d1"), body_of("d2"), body_of("d3"))
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert process_pending(resolve=resolve) == 3
    # then: one dispatch after the pass's commit (not one per event), and every event is dispatched
    assert len(callbacks) == 1
    assert not Event.objects.filter(type=PROCESSED_EVENT, dispatched_at__isnull=True).exists()
