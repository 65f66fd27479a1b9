"""The websocket listener base against a real local websockets server that drops, silences and refuses."""
from __future__ import annotations

import json
import random
import threading
import time
from typing import Callable

import pytest
from django.db.models.signals import post_save

from hi.integrations.core.errors import ListenerAuthFailed
from hi.integrations.engine.websocket import WebsocketListener, backoff_delay, state_of
from hi.integrations.models import ListenerState
from hi.integrations.testing.fakews import FakeWebsocketServer

State = ListenerState.State
GOOD_TOKEN = "good-token"
# The demo fixture stores this as the integration's (secret) api_key.
DEMO_SECRET = "demo-key"


class EventsListener(WebsocketListener):
    """A listener for the fake provider's protocol, with test-sized timings."""

    name = "events"
    ping_interval_s = 0.2
    ping_timeout_s = 0.3
    close_timeout_s = 0.3
    backoff_initial_s = 0.05
    backoff_max_s = 0.2
    open_timeout_s = 2
    recv_poll_s = 0.1

    def __init__(self, integration, server_url: str, token: str, **kwargs) -> None:
        """A listener of `integration` to `server_url` with `token`."""
        super().__init__(integration, **kwargs)
        self.server_url = server_url
        self.token = token
        self.events: list[dict] = []

    def url(self) -> str:
        """The test server's URL."""
        return self.server_url

    def headers(self) -> dict[str, str]:
        """A header naming the listener."""
        return {"X-Hi-Listener": self.name}

    def authenticate(self, ws) -> None:
        """Send the token; a refusal raises with the token in the message, carelessly."""
        ws.send(json.dumps({"action": "auth", "token": self.token}))
        reply = json.loads(ws.recv(timeout=self.open_timeout_s))
        if reply["type"] != "auth_ok":
            # Deliberately careless: the token is in the message, and must not reach the database.
            raise ListenerAuthFailed(f"token {self.token} refused: {reply.get('reason')}")

    def subscribe(self, ws) -> None:
        """Subscribe to orders."""
        ws.send(json.dumps({"action": "subscribe", "topics": ["orders"]}))
        reply = json.loads(ws.recv(timeout=self.open_timeout_s))
        assert reply["type"] == "subscribed"

    def handle(self, message: str | bytes) -> None:
        """Keep each event; one with `boom` raises."""
        event = json.loads(message)
        if event.get("boom"):
            raise ValueError(f"cannot handle {event}")
        self.events.append(event)


def wait_until(predicate: Callable[[], object], timeout: float = 3.0) -> None:
    """Poll until `predicate()` is true or fail the test."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.01)


@pytest.fixture
def server():
    """A fake push provider on 127.0.0.1."""
    with FakeWebsocketServer(token=GOOD_TOKEN) as fake:
        yield fake


@pytest.fixture
def history():
    """Every ListenerState write, as (state, reconnects, last_error), in order."""
    rows: list[tuple[str, int, str]] = []

    def record(sender, instance, **kwargs):
        """Record the listener state saved."""
        rows.append((instance.state, instance.reconnects, instance.last_error))

    post_save.connect(record, sender=ListenerState, weak=False)
    yield rows
    post_save.disconnect(record, sender=ListenerState)


@pytest.fixture
def start(demo):
    """Run listeners in threads as the worker would; stop and join them after the test."""
    running: list[tuple[threading.Thread, threading.Event]] = []

    def start_listener(listener: WebsocketListener) -> tuple[threading.Thread, threading.Event]:
        """Run a listener in a thread, stopped when the test ends."""
        stop = threading.Event()
        thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
        thread.start()
        running.append((thread, stop))
        return thread, stop

    yield start_listener
    for thread, stop in running:
        stop.set()
        thread.join(5)


def states(history) -> list[str]:
    """The states in order, with consecutive repeats collapsed."""
    collapsed: list[str] = []
    for state, _, _ in history:
        if not collapsed or collapsed[-1] != state:
            collapsed.append(state)
    return collapsed


def test_backoff_grows_exponentially_up_to_the_cap():
    # Given the largest possible jitter draw, the ceiling doubles from the initial delay to the cap.
    assert [backoff_delay(n, 1, 60, rand=lambda: 1.0) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    # A huge attempt count neither overflows nor passes the cap, and a zero draw waits not at all.
    assert backoff_delay(10_000, 1, 60, rand=lambda: 1.0) == 60
    assert backoff_delay(3, 1, 60, rand=lambda: 0.0) == 0


def test_backoff_is_fully_jittered_below_its_ceiling():
    rng = random.Random(7)
    delays = [backoff_delay(3, 1, 60, rand=rng.random) for _ in range(200)]
    assert all(0 <= d <= 8 for d in delays)
    # Spread over the whole range, not clustered at the ceiling.
    assert min(delays) < 1 and max(delays) > 7 and len(set(delays)) == 200


@pytest.mark.django_db(transaction=True)
def test_connects_authenticates_subscribes_and_receives_in_order(demo, server, start, history):
    listener = EventsListener(demo, server.url, GOOD_TOKEN, worker_id="worker-1")
    assert state_of(demo, "events") is None

    start(listener)
    assert server.wait_subscribed(1)
    for seq in (1, 2, 3):
        server.push({"seq": seq})
    wait_until(lambda: len(listener.events) == 3)

    assert listener.events == [{"seq": 1}, {"seq": 2}, {"seq": 3}]
    assert server.received == [{"action": "auth", "token": GOOD_TOKEN}, {"action": "subscribe", "topics": ["orders"]}]
    assert server.handshakes[0]["X-Hi-Listener"] == "events"
    assert server.handshakes[0]["User-Agent"].startswith("hi/")
    row = state_of(demo, "events")
    assert (row.state, row.worker, row.reconnects, row.last_error) == (State.CONNECTED, "worker-1", 0, "")
    assert states(history) == [State.CONNECTING, State.CONNECTED]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["drop", "close_all"])
def test_a_dropped_connection_is_reconnected_and_events_keep_flowing(demo, server, start, history, how):
    listener = EventsListener(demo, server.url, GOOD_TOKEN)
    start(listener)
    assert server.wait_subscribed(1)
    server.push({"seq": 1})
    wait_until(lambda: len(listener.events) == 1)

    # When the network cuts the connection (no close frame), or the server restarts (1012).
    getattr(server, how)()

    assert server.wait_subscribed(2)
    server.push({"seq": 2})
    wait_until(lambda: len(listener.events) == 2)
    assert listener.events == [{"seq": 1}, {"seq": 2}]
    assert states(history) == [State.CONNECTING, State.CONNECTED, State.BACKOFF, State.CONNECTING, State.CONNECTED]
    backoff = next(row for row in history if row[0] == State.BACKOFF)
    assert backoff[1] == 1 and backoff[2].startswith("Connection lost")
    assert ("1012" in backoff[2]) == (how == "close_all")
    row = state_of(demo, "events")
    # Connected again: the reconnect is counted and the reason is cleared.
    assert (row.state, row.reconnects, row.last_error) == (State.CONNECTED, 1, "")


@pytest.mark.django_db(transaction=True)
def test_a_peer_that_stops_answering_pings_is_detected_and_replaced(demo, server, start, history):
    listener = EventsListener(demo, server.url, GOOD_TOKEN)
    start(listener)
    assert server.wait_subscribed(1)

    # When the provider goes silent: TCP stays up, but pongs never come back.
    silenced = time.monotonic()
    server.blackhole()

    wait_until(lambda: any(row[0] == State.BACKOFF for row in history))
    detected_after = time.monotonic() - silenced
    limit = listener.ping_interval_s + listener.ping_timeout_s + listener.close_timeout_s
    assert detected_after < limit + 0.5
    backoff = next(row for row in history if row[0] == State.BACKOFF)
    assert "keepalive ping timeout" in backoff[2]

    # Then a fresh connection carries the events.
    assert server.wait_subscribed(2)
    server.push({"seq": 1})
    wait_until(lambda: listener.events == [{"seq": 1}])
    assert state_of(demo, "events").state == State.CONNECTED


@pytest.mark.django_db(transaction=True)
def test_a_refused_authentication_backs_off_the_maximum_without_leaking_the_secret(demo, server, start, history):
    # Given the listener presents the integration's stored secret, which the provider refuses.
    listener = EventsListener(demo, server.url, DEMO_SECRET)
    listener.backoff_max_s = 30
    thread, stop = start(listener)

    wait_until(lambda: any(row[0] == State.BACKOFF for row in history))
    row = state_of(demo, "events")
    assert row.state == State.BACKOFF and row.reconnects == 1
    assert row.last_error.startswith("Authentication refused") and "invalid token" in row.last_error
    assert DEMO_SECRET not in row.last_error and "**REDACTED**" in row.last_error
    assert listener.delay_s == 30
    assert State.CONNECTED not in states(history)

    # The long wait is interrupted by stop.
    stop.set()
    thread.join(2)
    assert not thread.is_alive()
    row.refresh_from_db()
    assert row.state == State.STOPPED and DEMO_SECRET not in row.last_error


@pytest.mark.django_db(transaction=True)
def test_a_handshake_refused_with_401_counts_as_an_authentication_failure(demo, server, start, history):
    server.reject_status = 401
    listener = EventsListener(demo, server.url, GOOD_TOKEN)
    start(listener)

    wait_until(lambda: any(row[0] == State.BACKOFF for row in history))
    # post_save fires inside update_or_create's transaction: wait for the committed row too.
    wait_until(lambda: state_of(demo, "events").state == State.BACKOFF)
    assert "HTTP 401" in state_of(demo, "events").last_error
    assert listener.delay_s == listener.backoff_max_s


@pytest.mark.django_db(transaction=True)
def test_stop_closes_the_connection_and_returns_promptly(demo, server, start, history):
    listener = EventsListener(demo, server.url, GOOD_TOKEN, worker_id="worker-1")
    # Slow polling and keepalive must not slow the stop down past recv_poll_s + a clean close.
    listener.recv_poll_s = 1
    thread, stop = start(listener)
    assert server.wait_subscribed(1)

    asked = time.monotonic()
    stop.set()
    thread.join(3)

    assert not thread.is_alive() and time.monotonic() - asked < 2
    row = state_of(demo, "events")
    assert (row.state, row.worker) == (State.STOPPED, "worker-1")
    # The provider saw a normal closure, not a dropped socket.
    wait_until(lambda: server.close_codes)
    assert server.close_codes == [1000]


@pytest.mark.django_db(transaction=True)
def test_a_failing_handler_does_not_drop_the_connection(demo, server, start, history, caplog):
    listener = EventsListener(demo, server.url, GOOD_TOKEN)
    start(listener)
    assert server.wait_subscribed(1)

    server.push({"boom": True, "key": DEMO_SECRET})
    server.push({"seq": 2})
    wait_until(lambda: listener.events == [{"seq": 2}])

    assert listener.handle_errors == 1
    assert len(server.handshakes) == 1 and server.close_codes == []
    row = state_of(demo, "events")
    assert (row.state, row.reconnects) == (State.CONNECTED, 0)
    failure = [r.getMessage() for r in caplog.records if "handling a message failed" in r.getMessage()]
    assert len(failure) == 1 and "ValueError" in failure[0] and DEMO_SECRET not in failure[0]


@pytest.mark.django_db(transaction=True)
def test_a_push_url_inside_the_network_is_never_connected_to(demo, server, start, history, settings):
    # Given the provider hands out a push URL on loopback, which no allow-list admits here.
    settings.HI_OUTBOUND_ALLOWED_NETWORKS = []
    listener = EventsListener(demo, server.url, GOOD_TOKEN)

    # When the listener runs, it backs off saying why, and the server never sees a handshake.
    start(listener)
    wait_until(lambda: any(row[0] == State.BACKOFF for row in history))
    wait_until(lambda: state_of(demo, "events").state == State.BACKOFF)
    assert "loopback" in state_of(demo, "events").last_error
    assert server.handshakes == []
