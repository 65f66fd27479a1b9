"""The guard at connection time: every call is checked, pinned to the checked address, and HTTPS still verifies the name."""
# Host names are answered by a fake resolver patched into `socket.getaddrinfo`, the standard library's boundary
# with DNS (hi's own code is untouched): it maps test names to loopback addresses, so nothing leaves the machine.
from __future__ import annotations

import socket

import pytest
import trustme

from hi.integrations.config import setup
from hi.integrations.core.errors import ProviderUnavailable, SetupError, UnsafeDestination
from hi.integrations.models import ProviderCall
from hi.integrations.outbound.http import ProviderClient
from hi.integrations.testing import FakeProviderServer
from hi.integrations.testing.fakeserver import json_response
from hi.services.webhook.pings import send as ping

OK = json_response(200, {"ok": True})


@pytest.fixture
def dns(monkeypatch):
    """Test names → a list of answers, one per lookup (the last one repeats); every lookup is recorded."""
    real = socket.getaddrinfo
    answers: dict[str, list[list[str]]] = {}
    lookups: list[str] = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        """Answer names from `answers` (rotating through them), literal addresses as usual."""
        if host not in answers:
            return real(host, port, family, type, proto, flags)  # literal addresses: no lookup happens
        lookups.append(host)
        queue = answers[host]
        current = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in current]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, lookups


@pytest.fixture
def twin_servers():
    """Two fake providers on one port: 127.0.0.2 (the address the guard allows) and 127.0.0.1 (the one it refuses)."""
    allowed = FakeProviderServer(host="127.0.0.2").start()
    forbidden = FakeProviderServer(host="127.0.0.1", port=allowed.port).start()
    for server in (allowed, forbidden):
        server.route("GET", "/x", lambda request: OK)
        server.route("POST", "/hook", lambda request: OK)
    yield allowed, forbidden
    allowed.stop()
    forbidden.stop()


def test_a_name_that_rebinds_is_resolved_once_and_the_checked_address_is_called(settings, dns, twin_servers):
    allowed, forbidden = twin_servers
    answers, lookups = dns
    settings.HI_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.2/32"]
    answers["rebind.test"] = [["127.0.0.2"], ["127.0.0.1"]]  # a public-looking answer first, then the internal one
    # The webhook's signed ping: the guard used to resolve the name, then the connection resolved it again.
    assert ping(f"http://rebind.test:{allowed.port}/hook", ["whsec_" + "A" * 44], {}).ok
    assert len(allowed.requests_to("/hook")) == 1 and forbidden.requests == []
    assert lookups == ["rebind.test"]
    assert allowed.requests[0].headers["host"] == f"rebind.test:{allowed.port}"  # the name stays the Host


def test_a_name_resolving_to_a_refused_address_is_never_connected_to(settings, dns, twin_servers):
    _, forbidden = twin_servers
    answers, _ = dns
    settings.HI_OUTBOUND_ALLOWED_NETWORKS = []
    settings.DEBUG = True  # plain http to a public name would be allowed: only the address decides
    answers["internal.test"] = [["127.0.0.1"]]
    with pytest.raises(UnsafeDestination, match="loopback address") as caught:
        ProviderClient("acme", f"http://internal.test:{forbidden.port}").get_json("/x")
    assert forbidden.requests == [] and caught.value.status is None


def test_every_call_of_every_client_is_guarded_and_the_refusal_is_logged(demo, sim, settings):
    # An integration added while loopback was allowed; the operator then narrows the allow-list.
    settings.HI_OUTBOUND_ALLOWED_NETWORKS = []
    sim.requests.clear()
    with pytest.raises(UnsafeDestination):
        ProviderClient("demo", sim.url, integration=demo).get_json("/api/v1/account")
    with pytest.raises(SetupError) as caught:
        setup.check_connection(demo)
    assert caught.value.code == "cannot_connect" and "loopback" in caught.value.message
    assert sim.requests == []
    assert ProviderCall.objects.filter(integration=demo, error_class="UnsafeDestination").exists()


def test_a_kept_alive_connection_is_checked_again_when_the_allow_list_narrows(settings):
    with FakeProviderServer() as fake:
        fake.route("GET", "/x", lambda request: OK)
        client = ProviderClient("acme", fake.url)
        assert client.get_json("/x") == {"ok": True}
        settings.HI_OUTBOUND_ALLOWED_NETWORKS = []
        with pytest.raises(UnsafeDestination, match="loopback"):
            client.get_json("/x")
        assert len(fake.requests) == 1


def test_a_target_behind_the_environments_proxy_is_checked_before_anything_is_sent(settings, monkeypatch):
    settings.HI_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "10.0.0.0/8"]
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with FakeProviderServer() as proxy:
        proxy.route("GET", "/x", lambda request: OK)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        assert ProviderClient("acme", "http://10.1.2.3").get_json("/x") == {"ok": True}  # allow-listed: via the proxy
        assert len(proxy.requests) == 1
        with pytest.raises(UnsafeDestination, match="private address"):
            ProviderClient("acme", "http://192.168.1.1").get_json("/x")
        with pytest.raises(UnsafeDestination, match="metadata"):
            ProviderClient("acme", "http://169.254.169.254").get_json("/latest")
        assert len(proxy.requests) == 1


@pytest.fixture
def ca(tmp_path, monkeypatch):
    """A throwaway certificate authority that ProviderClient trusts (REQUESTS_CA_BUNDLE, read by each new client)."""
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    return authority


def https_server(authority: trustme.CA, name: str) -> FakeProviderServer:
    """An HTTPS fake provider on 127.0.0.1 presenting a certificate for `name` only."""
    context = __import__("ssl").create_default_context(__import__("ssl").Purpose.CLIENT_AUTH)
    authority.issue_cert(name).configure_cert(context)
    server = FakeProviderServer(ssl_context=context)
    server.route("GET", "/x", lambda request: OK)
    return server.start()


def test_https_to_a_pinned_address_still_verifies_the_certificate_against_the_name(ca, dns):
    answers, lookups = dns
    answers["provider.test"] = [["127.0.0.1"]]
    answers["impostor.test"] = [["127.0.0.1"]]
    server = https_server(ca, "provider.test")
    try:
        assert ProviderClient("acme", f"https://provider.test:{server.port}").get_json("/x") == {"ok": True}
        assert server.requests[0].headers["host"] == f"provider.test:{server.port}"
        # The same address under another name: the certificate does not name it, so TLS refuses.
        with pytest.raises(ProviderUnavailable, match="SSLError"):
            ProviderClient("acme", f"https://impostor.test:{server.port}").get_json("/x")
        assert len(server.requests) == 1
    finally:
        server.stop()
