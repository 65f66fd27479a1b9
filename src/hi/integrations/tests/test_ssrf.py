"""The outbound URL guard: schemes, userinfo, every blocked range in its many spellings, the allow-list, DNS answers."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from django.core.exceptions import ImproperlyConfigured

from hi.integrations.core.errors import UnresolvableHost, UnsafeURL
from hi.integrations.outbound.ssrf import blocked_reason, check_url

# Public addresses are only ever parsed here, never contacted: this machine has no route out.
PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


@pytest.fixture(autouse=True)
def strict(settings):
    """Production defaults: DEBUG off, nothing allow-listed."""
    settings.DEBUG = False
    settings.HI_OUTBOUND_ALLOWED_NETWORKS = []
    return settings


@pytest.fixture(autouse=True)
def no_dns(monkeypatch):
    """Only "localhost" reaches the real resolver (the hosts file): any other lookup would leave the machine."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        """Resolve only localhost: any other name would reach the real DNS."""
        assert host == "localhost", f"a test looked up {host!r} in the real DNS"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def dns(monkeypatch):
    """A fake resolver at the socket boundary (names map to addresses), so no query leaves the machine."""
    answers: dict[str, list[str]] = {}

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        """Answer from `answers`, as the resolver would."""
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def refused(url: str, resolve: bool = False) -> str:
    """The message check_url refuses `url` with."""
    with pytest.raises(UnsafeURL) as failure:
        check_url(url, resolve=resolve)
    return str(failure.value)


@pytest.mark.parametrize("resolve", [False, True])
def test_a_public_https_literal_is_allowed_and_returned_for_pinning(resolve):
    assert check_url(f"https://{PUBLIC_V4}/hooks", resolve=resolve) == [ipaddress.ip_address(PUBLIC_V4)]
    assert check_url(f"https://[{PUBLIC_V6}]:8443/", resolve=resolve) == [ipaddress.ip_address(PUBLIC_V6)]


def test_a_public_name_is_allowed_offline_without_addresses():
    assert check_url("https://hooks.example.com/n8n", resolve=False) == []


def test_a_name_is_checked_by_every_address_it_resolves_to(dns):
    dns["hooks.example.com"] = [PUBLIC_V4, PUBLIC_V6]
    assert check_url("https://hooks.example.com/", resolve=True) == [
        ipaddress.ip_address(PUBLIC_V4),
        ipaddress.ip_address(PUBLIC_V6),
    ]
    dns["rebind.example.com"] = [PUBLIC_V4, "10.0.0.7"]  # one internal answer is enough to refuse
    assert "private address (10.0.0.7)" in refused("https://rebind.example.com/", resolve=True)
    dns["meta.example.com"] = ["169.254.169.254"]
    assert "cloud metadata" in refused("https://meta.example.com/", resolve=True)


def test_a_name_that_does_not_resolve_is_its_own_error(dns):
    with pytest.raises(UnresolvableHost, match="cannot be resolved"):
        check_url("https://nowhere.example.com/", resolve=True)


@pytest.mark.parametrize("url", ["https://localhost/", "https://127.0.0.1:8000/", "https://localhost./x"])
def test_loopback_through_the_real_resolver_is_refused(url):
    assert "loopback" in refused(url, resolve=True)


def test_localhost_names_are_looked_up_as_localhost_in_the_hosts_file(strict):
    strict.HI_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    expected = check_url("http://localhost/", resolve=True)
    assert expected and all(ip.is_loopback for ip in expected)
    assert check_url("http://api.localhost./", resolve=True) == expected


# Every blocked range, in the spellings resolvers accept (inet_aton's short, hex, octal and integer forms).
LOOPBACK_HOSTS = "127.0.0.1 127.1 0x7f.1 0x7f000001 2130706433 0177.0.0.1 127.0.0.1. 127.255.255.254".split()
LOOPBACK_V6 = "[::1] [0:0:0:0:0:0:0:1] [::ffff:127.0.0.1] [::ffff:7f00:1] [2002:7f00:1::] [64:ff9b::7f00:1]".split()
INTERNAL = "10.0.0.1 172.16.0.1 192.168.1.1 100.64.0.1 100.127.255.254 169.254.0.1 169.254.169.254 0xa9fea9fe".split()
INTERNAL_V6 = "[fd00:ec2::254] [fc00::1] [fe80::1] [fe80::1%25eth0] [::ffff:10.0.0.1] [64:ff9b:1::1]".split()
SPECIAL = "0.0.0.0 0 [::] 224.0.0.1 239.255.255.250 [ff02::1] 240.0.0.1 255.255.255.255 192.0.2.1 198.18.0.1".split()
SPECIAL_V6 = "[2001:db8::1] [::7f00:1] [::ffff:169.254.169.254]".split()


@pytest.mark.parametrize("host", LOOPBACK_HOSTS + LOOPBACK_V6 + INTERNAL + INTERNAL_V6 + SPECIAL + SPECIAL_V6)
def test_every_blocked_range_is_refused_offline_and_resolved(host):
    for resolve in (False, True):
        refused(f"https://{host}/hook", resolve=resolve)


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST", "api.localhost", "ｌocalhost", "metadata.google.internal", "metadata.google.internal."],
)
def test_internal_names_are_refused_without_a_lookup(host, dns):
    # `dns` answers nothing: a lookup would fail as unresolvable, not as loopback or metadata.
    for resolve in (False, True):
        assert "loopback" in refused(f"https://{host}/", resolve) or "metadata" in refused(f"https://{host}/", resolve)


@pytest.mark.parametrize(
    "host", ["1.2.3.4.5", "256.0.0.1", "1.16777216", "0x100.1", "a..b", "-a.com", "[::g]", "a%2e0.1", "exa mple.com"]
)
def test_malformed_hosts_are_refused(host):
    refused(f"https://{host}/")


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/", "example.com/x", "//x/"]
)
def test_only_http_and_https(url):
    assert "only http and https" in refused(url)


@pytest.mark.parametrize(
    "url",
    ["https://user@example.com/", "https://user:pw@example.com/", "https://:pw@example.com/", "https://@example.com/"],
)
def test_userinfo_is_refused(url):
    assert "user name or password" in refused(url)


@pytest.mark.parametrize(
    "url",
    ["https://example.com\\@127.0.0.1/", "https://exa\tmple.com/", "https://example.com/\nHost: x", " https://x/"],
)
def test_parser_confusion_is_refused(url):
    refused(url)


@pytest.mark.parametrize(
    "url", ["https://example.com:99999/", "https://example.com:x/", "https://[::1/", "https:///path"]
)
def test_broken_urls_are_refused(url):
    refused(url)


def test_plain_http_needs_debug_or_the_allow_list(strict):
    assert "must use https" in refused(f"http://{PUBLIC_V4}/")
    assert "must use https" in refused("http://hooks.example.com/")
    strict.DEBUG = True
    assert check_url(f"http://{PUBLIC_V4}/", resolve=False) == [ipaddress.ip_address(PUBLIC_V4)]
    assert "loopback" in refused("http://127.0.0.1/")  # debug relaxes https, never the ranges


def test_the_allow_list_admits_its_networks_over_http(strict):
    strict.HI_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "10.1.0.0/16"]
    assert check_url("http://127.0.0.1:8000/", resolve=True) == [ipaddress.ip_address("127.0.0.1")]
    assert check_url("http://localhost:8000/", resolve=True) == [ipaddress.ip_address("127.0.0.1")]
    assert check_url("http://localhost:8000/", resolve=False) == []
    assert check_url("https://[::ffff:127.0.0.1]/", resolve=False)
    assert check_url("http://10.1.2.3/", resolve=False)
    assert "private" in refused("http://10.2.0.1/")  # outside the allowed network
    assert "must use https" in refused(f"http://{PUBLIC_V4}/")  # public, but not allow-listed
    assert "must use https" in refused("http://hooks.example.com/")  # addresses unknown offline


def test_the_allow_list_never_admits_metadata_services(strict):
    strict.HI_OUTBOUND_ALLOWED_NETWORKS = ["169.254.0.0/16", "0.0.0.0/0"]
    assert check_url("http://169.254.10.1/", resolve=False)
    assert "cloud metadata" in refused("http://169.254.169.254/latest/meta-data/")
    assert "cloud metadata" in refused("http://[::ffff:169.254.169.254]/latest/meta-data/")


def test_the_allow_list_may_be_a_comma_separated_string(strict):
    strict.HI_OUTBOUND_ALLOWED_NETWORKS = " 10.0.0.0/8 , 192.168.0.0/16,"
    assert check_url("http://192.168.1.10:5678/", resolve=False)


@pytest.mark.parametrize("entry", ["10.0.0.1/8", "not-a-network", "10.0.0.0/33"])
def test_an_invalid_allow_list_entry_is_improperly_configured(strict, entry):
    strict.HI_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", entry]
    with pytest.raises(ImproperlyConfigured, match=f"HI_OUTBOUND_ALLOWED_NETWORKS: '{entry}'"):
        check_url(f"https://{PUBLIC_V4}/", resolve=False)


def test_the_older_setting_name_still_allows_its_networks(strict):
    strict.HI_WEBHOOK_ALLOWED_NETWORKS = "10.0.0.0/8"
    assert check_url("http://10.1.2.3/", resolve=False)
    strict.HI_OUTBOUND_ALLOWED_NETWORKS = ["192.168.0.0/16"]  # both lists count
    assert check_url("http://10.1.2.3/", resolve=False) and check_url("http://192.168.1.1/", resolve=False)
    strict.HI_WEBHOOK_ALLOWED_NETWORKS = "nope"
    with pytest.raises(ImproperlyConfigured, match="HI_WEBHOOK_ALLOWED_NETWORKS: 'nope'"):
        check_url(f"https://{PUBLIC_V4}/", resolve=False)


def test_public_addresses_have_no_blocked_reason():
    for address in (PUBLIC_V4, PUBLIC_V6, f"::ffff:{PUBLIC_V4}", "2002:5db8:d70e::1"):
        assert blocked_reason(ipaddress.ip_address(address)) is None


def test_unsafe_url_is_a_value_error():
    assert issubclass(UnsafeURL, ValueError) and issubclass(UnresolvableHost, UnsafeURL)
