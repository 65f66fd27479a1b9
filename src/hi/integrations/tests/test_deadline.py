"""Every provider call has a total deadline: a provider dripping a byte a second cannot hold a worker."""
# The issue's scenario is a slow provider, so these tests assert that the call ends with ProviderTimeout well
# before the drip would have finished, within the deadline plus a generous margin (the machine may be busy).
from __future__ import annotations

import socket
import ssl
import threading
import time

import pytest
import trustme

from hi.conftest import demo_attributes
from hi.integrations.config import setup
from hi.integrations.core.errors import ProviderTimeout, ProviderUnavailable, SetupError
from hi.integrations.engine.execution import claim, execute
from hi.integrations.models import Directive, DirectiveStatus, ProviderCall
from hi.integrations.outbound.http import ProviderClient
from hi.integrations.testing import FakeProviderServer
from hi.integrations.testing.fakeserver import json_response
from hi.integrations.types import IntegrationType
from hi.services.demo.handlers import request_note

DEADLINE_S = 1.5
#: Far more than a deadline needs to act, far less than any drip here takes (tens of seconds at least).
MARGIN_S = 6.0
#: Per-read timeouts longer than the deadline, so that only the deadline can end these calls.
LONG_READS = (5.0, 5.0)
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


class DripServer:
    """A raw TCP (or TLS) server on 127.0.0.1 that drips its answer."""
    # Per connection it reads the request, sends `head` at once, then `body` one byte per `interval_s`,
    # until it is all out or the client hangs up.

    def __init__(self, head: bytes, body: bytes, interval_s: float = 1.0, tls: ssl.SSLContext | None = None) -> None:
        """A server sending `head` then `body` a byte every `interval_s`, over TLS when given a context."""
        self.head, self.body, self.interval_s, self.tls = head, body, interval_s, tls
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        """Accept connections until stopped, each served in its own thread."""
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        """Read the request, then drip the answer until the client leaves."""
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            if self.head.startswith(b"HTTP"):
                conn.recv(65536)  # the request (small: one read holds it)
            conn.sendall(self.head)
            for index in range(len(self.body)):
                if self._stop.wait(self.interval_s):
                    break
                conn.sendall(self.body[index:index + 1])
        except OSError:
            pass  # the client hung up
        finally:
            conn.close()

    def stop(self) -> None:
        """Stop accepting and dripping."""
        self._stop.set()
        self.listener.close()


@pytest.fixture
def drips():
    """Start DripServers; stop them all at the end."""
    started: list[DripServer] = []

    def start(*args, **kwargs) -> DripServer:
        """Start a DripServer, stopped when the test ends."""
        started.append(DripServer(*args, **kwargs))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def timed_call(url: str, path: str = "/x", **kwargs):
    """Call `url` + `path` with LONG_READS and DEADLINE_S; return (the error raised, seconds taken)."""
    started = time.monotonic()
    with pytest.raises(ProviderTimeout) as caught:
        ProviderClient("acme", url, timeout=LONG_READS, deadline_s=DEADLINE_S, **kwargs).get_json(path)
    return caught.value, time.monotonic() - started


def test_a_provider_dripping_its_headers_is_cut_off_at_the_deadline():
    with FakeProviderServer() as fake:
        fake.route("GET", "/x", lambda request: json_response(200, {"ok": True}))
        fake.faults.drip_s = 1.0  # status line, headers and body: about a minute and a half
        error, took = timed_call(fake.url)
    assert took < DEADLINE_S + MARGIN_S
    assert error.provider == "acme" and f"within {DEADLINE_S:g} s" in str(error)


@pytest.mark.parametrize("framing", [b"Content-Length: 40\r\n\r\n", b"Connection: close\r\n\r\n"], ids=["length", "until-close"])
def test_a_provider_dripping_its_body_is_cut_off_at_the_deadline(drips, framing):
    # Until-close: a body cut short by the deadline looks complete to HTTP, so the call must still fail.
    server = drips(HEAD + framing, b'{"ok": true, "padding": "' + b"x" * 12 + b'"}', interval_s=1.0)
    _, took = timed_call(f"http://127.0.0.1:{server.port}")
    assert took < DEADLINE_S + MARGIN_S


def test_a_stalled_tls_handshake_is_cut_off_at_the_deadline(drips):
    # A TLS record header announcing 16 KiB, then a byte a second: the handshake waits for the whole record.
    server = drips(b"\x16\x03\x03\x40\x00", b"\x00" * 200, interval_s=1.0)
    _, took = timed_call(f"https://127.0.0.1:{server.port}")
    assert took < DEADLINE_S + MARGIN_S


def test_an_https_body_dripped_after_the_handshake_is_cut_off_at_the_deadline(drips, tmp_path, monkeypatch):
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    server = drips(HEAD + b"Content-Length: 40\r\n\r\n", b"{" + b" " * 39, interval_s=1.0, tls=context)
    _, took = timed_call(f"https://127.0.0.1:{server.port}")
    assert took < DEADLINE_S + MARGIN_S and server.connections == 1


def test_retries_inside_a_call_stop_when_the_next_would_pass_the_deadline(settings):
    settings.HI_HTTP_RETRIES = 10
    with FakeProviderServer() as fake:
        fake.faults.status, fake.faults.extra_headers = 503, {"Retry-After": "1"}
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable) as caught:
            ProviderClient("acme", fake.url, deadline_s=2.5).get_json("/x")
        took = time.monotonic() - started
    # The last answer is the error (not a bare timeout), after the tries that fitted: 1 s apart, 2.5 s in all.
    assert caught.value.status == 503 and len(fake.requests) <= 3 and took < 2.5 + MARGIN_S


def test_a_call_can_be_given_its_own_deadline_and_the_setting_is_the_default(settings):
    settings.HI_HTTP_DEADLINE_S = DEADLINE_S
    with FakeProviderServer() as fake:
        fake.route("GET", "/x", lambda request: json_response(200, {"ok": True}))
        fake.faults.drip_s = 1.0
        started = time.monotonic()
        with pytest.raises(ProviderTimeout, match=f"within {DEADLINE_S:g} s"):
            ProviderClient("acme", fake.url, timeout=LONG_READS).get_json("/x")
        with pytest.raises(ProviderTimeout, match="within 1 s"):
            ProviderClient("acme", fake.url, timeout=LONG_READS).request("GET", "/x", deadline_s=1)
        assert time.monotonic() - started < DEADLINE_S + 1 + MARGIN_S


def test_a_directive_calling_a_dripping_provider_ends_by_the_deadline_and_is_retried(demo, sim, settings):
    settings.HI_HTTP_DEADLINE_S = DEADLINE_S
    directive = request_note(demo, "hello")
    sim.faults.drip_s = 1.0
    [claimed] = claim("w1")
    started = time.monotonic()
    execute(claimed, "w1")
    took = time.monotonic() - started
    directive = Directive.objects.get(pk=directive.pk)
    assert directive.status == DirectiveStatus.QUEUED and "ProviderTimeout" in directive.last_error
    assert took < DEADLINE_S + MARGIN_S
    assert ProviderCall.objects.filter(integration=demo, error_class="ProviderTimeout").exists()


def test_a_connection_test_is_bounded_in_total_and_leaves_no_call_running(sim, settings):
    settings.HI_CONNECTION_TEST_TIMEOUT_S = DEADLINE_S
    values = setup.check_configuration(IntegrationType.DEMO, demo_attributes(sim))
    sim.faults.drip_s = 1.0
    with pytest.raises(SetupError) as caught:
        setup.probe(IntegrationType.DEMO, values)
    assert caught.value.code == "cannot_connect"
    # The test's thread is not left dripping in the background: its calls ended with the test's time.
    give_up = time.monotonic() + MARGIN_S
    while any(t.name.startswith("hi-connection-test") for t in threading.enumerate()) and time.monotonic() < give_up:
        time.sleep(0.05)
    assert not any(t.name.startswith("hi-connection-test") for t in threading.enumerate())


def test_finished_calls_do_not_pile_up_in_the_watchdog():
    from hi.integrations.outbound import transport

    for _ in range(5000):
        with transport.deadline(30):
            pass
    assert len(transport._watchdog._heap) <= 2 * transport.PURGE_MIN
