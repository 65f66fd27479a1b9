"""The URL walk: no page is reachable anonymously except login and endpoints meant for providers."""
from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

#: URL names that are meant to be anonymous.
PUBLIC = {"login", "healthz", "metrics", "workspace-invitation"}
SAMPLE = {"uuid": "3f2c5a1e-0000-4000-8000-000000000002", "int": "1", "slug": "activate", "str": "demo", "path": "x"}


def walk(resolver: URLResolver, prefix: str = ""):
    """Yield (route, pattern) for every URL pattern in the configuration."""
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            yield from walk(item, prefix + str(item.pattern))
        elif isinstance(item, URLPattern):
            yield prefix + str(item.pattern), item


def concrete(route: str, pattern: URLPattern) -> str:
    """A URL for a route, with sample values for its converters."""
    import re

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: SAMPLE[m.group(1) or "str"], route)


def is_provider_endpoint(view) -> bool:
    """Views a provider calls are marked by the framework's receiver decorator."""
    return getattr(view, "hi_provider_endpoint", False)


def test_every_url_needs_a_login_except_the_public_ones():
    patterns = list(walk(get_resolver()))
    assert len(patterns) >= 10
    client = Client()
    for route, pattern in patterns:
        url = concrete(route, pattern)
        public = pattern.name in PUBLIC or is_provider_endpoint(pattern.callback)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if public:
                continue
            assert response.status_code == 302, (method, url, response.status_code)
            assert response["Location"].startswith("/login/?next="), (method, url)
        if not public:
            # LoginRequiredMiddleware is the guard: no console view opts out of it.
            assert getattr(pattern.callback, "login_required", True), url
    assert Client().get("/login/").status_code == 200


def test_csrf_is_enforced_on_htmx_requests(demo, operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    url = f"/integrations/{demo.pk}/pause/"
    assert client.post(url, HTTP_HX_REQUEST="true").status_code == 403
    demo.refresh_from_db()
    assert demo.state == "active"
    page = client.get("/").content.decode()
    token = page.split('"X-CSRFToken": "')[1].split('"')[0]
    assert client.post(url, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token).status_code == 302
    demo.refresh_from_db()
    assert demo.state == "paused"
