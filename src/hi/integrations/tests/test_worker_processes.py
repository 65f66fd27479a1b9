"""Workers as real processes: SIGKILL mid-batch loses nothing; two workers never share a directive."""
from __future__ import annotations

import signal
import time
from collections import Counter

import pytest

from hi.integrations.models import Directive, DirectiveStatus
from hi.integrations.outbox.directives import enqueue
from hi.integrations.testing.processes import start_worker
from hi.integrations.testing.waiting import wait_for
from hi.services.demo.handlers import TOPIC_NOTE

pytestmark = pytest.mark.django_db(transaction=True)


def executions(sim) -> Counter:
    """How many times each directive reached the provider (by idempotency key)."""
    return Counter(r.headers.get("idempotency-key") for r in sim.requests_to("/api/v1/notes"))


def test_a_worker_killed_mid_batch_loses_nothing(demo, sim):
    directives = [enqueue(demo, TOPIC_NOTE, {"text": f"n{i}"}) for i in range(20)]
    sim.faults.delay_s = 0.1
    first = start_worker("--batch", "10")
    try:
        assert wait_for(lambda: len(sim.requests_to("/api/v1/notes")) >= 3, 30), "the first worker never started"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert Directive.objects.filter(status=DirectiveStatus.RUNNING).exists()  # it died holding a batch
    second = start_worker("--drain")
    output, _ = second.communicate(timeout=90)
    assert second.returncode == 0, output
    statuses = Counter(Directive.objects.values_list("status", flat=True))
    assert statuses == {DirectiveStatus.DONE: 20}
    counts = executions(sim)
    assert set(counts) == {f"hi-directive-{d.pk}" for d in directives}
    assert max(counts.values()) <= 2  # at least once, and at most once more for the interrupted one
    assert len(sim.notes) == 20  # the provider stored each note once


def test_two_workers_never_run_the_same_directive(demo, sim):
    for i in range(200):
        enqueue(demo, TOPIC_NOTE, {"text": f"m{i}"})
    workers = [start_worker("--drain", "--batch", "5") for _ in range(2)]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    counts = executions(sim)
    assert len(counts) == 200 and set(counts.values()) == {1}
    assert Counter(Directive.objects.values_list("status", flat=True)) == {DirectiveStatus.DONE: 200}
    by_worker = Counter(Directive.objects.values_list("attempt_rows__worker", flat=True))
    assert len(by_worker) == 2, by_worker  # both workers took a share


def test_a_worker_stops_cleanly_on_ctrl_c_followed_by_term(demo):
    # Ctrl-C in a terminal reaches the worker and `make run` sends TERM right after: two signals
    # close together must not deadlock the shutdown (the handlers only set a flag).
    for delay in (0.0, 0.05, 0.2):
        worker = start_worker()
        assert worker.stdout.readline().startswith("hi worker ")
        time.sleep(delay)
        worker.send_signal(signal.SIGINT)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=20)
        assert worker.returncode == 0 and "stopped after" in output, output
