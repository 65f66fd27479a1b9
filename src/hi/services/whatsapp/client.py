"""The Graph API calls hi makes for WhatsApp, through the framework's HTTP client, errors read by Meta's codes."""
# Meta's errors carry their meaning in the body's error.code, not in the HTTP status: an expired token (190)
# arrives over 400 as well as 401, rate limits (130429, 131056) over 400. graph_error() reads them for the
# client, so a directive sees a ProviderAuthError for a 190 whatever the status.
# https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
from __future__ import annotations

import time
from typing import Any, Iterator, Mapping
from urllib.parse import urlsplit

from hi.integrations.api import (
    ErrorReading,
    Integration,
    ProviderAuthError,
    ProviderClient,
    ProviderRateLimited,
    ProviderRejected,
    ProviderResponse,
    ProviderUnavailable,
    attribute_values,
    client_for_integration,
    loads,
)

PROVIDER = "whatsapp"
#: Codes that mean the token or its permissions: the operator must re-authenticate.
AUTH_CODES = frozenset({0, 3, 10, 190, 200})
#: Throughput (130429), pair rate (131056), app (4) and account (80007) rate limits: retried later.
RATE_CODES = frozenset({4, 80007, 130429, 131056})
#: Meta's generic server error: retried.
SERVER_CODES = frozenset({131000})
#: About one message every 6 s to one customer before Meta answers 131056 (its throughput page).
PAIR_RATE_S = 6.0
#: Meta's own SDK gives a call 20 s.
SEND_TIMEOUT = (3.05, 20.0)
PHONE_FIELDS = "display_phone_number,verified_name,quality_rating"
TEMPLATE_FIELDS = "name,language,status,category,components,id"
TEMPLATES_PAGE = 100
#: A listing longer than this many pages is cut (a paging loop must end).
MAX_TEMPLATE_PAGES = 50
#: The largest media hi fetches for an operator, and the longest the fetch may take.
MAX_MEDIA_BYTES = 25 * 1024 * 1024
MEDIA_SECONDS = 60.0


def graph_error(response: ProviderResponse) -> ErrorReading | None:
    """Meta's error envelope read by its code: auth, rate limit, server error, or None (the status decides)."""
    body = loads(response.content)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), int):
        return None
    code = error["code"]
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else ""
    words = ". ".join(str(w) for w in (error.get("message"), details) if w)
    if code in AUTH_CODES:
        return ErrorReading(ProviderAuthError, str(code), words)
    if code in RATE_CODES:
        return ErrorReading(ProviderRateLimited, str(code), words, retry_after=PAIR_RATE_S if code == 131056 else None)
    if code in SERVER_CODES:
        return ErrorReading(ProviderUnavailable, str(code), words)
    return ErrorReading(ProviderRejected if response.status_code < 500 else ProviderUnavailable, str(code), words)


class WhatsAppClient:
    """One method per Graph call: the phone number, the templates, a send, a media file."""

    def __init__(self, values: Mapping[str, Any], *, timeout_s: float = 10.0, integration: Integration | None = None) -> None:
        """A client for the configured `values`; with an integration, its breaker and call log."""
        self.values = values
        self.integration = integration
        token = values.get("access_token") or ""
        base = f"{str(values.get('api_base_url') or '').rstrip('/')}/{values.get('api_version') or 'v23.0'}"
        options: dict[str, Any] = {
            "headers": {"Authorization": f"Bearer {token}"}, "timeout": (min(3.05, timeout_s), timeout_s),
            "read_error": graph_error, "secrets": (token,),
        }
        self.options = options
        if integration is None:  # a connection test: nothing saved yet, no breaker, no call log
            self.http = ProviderClient(PROVIDER, base, **options)
        else:
            self.http = client_for_integration(integration, PROVIDER, base, **options)

    def phone_number(self) -> dict[str, Any]:
        """The business phone number: display number, verified name, quality rating."""
        return self.http.get_json(f"/{self.values['phone_number_id']}", params={"fields": PHONE_FIELDS})

    def templates(self) -> list[Any]:
        """Every message template of the business account, following the paging cursors."""
        found: list[Any] = []
        params: dict[str, Any] = {"fields": TEMPLATE_FIELDS, "limit": TEMPLATES_PAGE}
        for _ in range(MAX_TEMPLATE_PAGES):
            page = self.http.get_json(f"/{self.values['business_account_id']}/message_templates", params=params, max_depth=None)
            data = page.get("data") if isinstance(page, dict) else None
            found += data if isinstance(data, list) else []
            paging = page.get("paging") if isinstance(page, dict) else None
            after = ((paging or {}).get("cursors") or {}).get("after") if isinstance(paging, dict) else None
            # The cursor, not `next`: hi never follows a URL a provider hands it with the token attached.
            if not (isinstance(paging, dict) and paging.get("next") and isinstance(after, str) and after):
                break
            params = {**params, "after": after}
        return found

    def send(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST one message; Meta has no idempotency key, so it is sent once (never retried inside the call)."""
        response = self.http.request("POST", f"/{self.values['phone_number_id']}/messages", json=body, timeout=SEND_TIMEOUT)
        try:
            answer = loads(response.content)
        except ValueError:
            answer = None
        return answer if isinstance(answer, dict) else {}

    def media_info(self, media_id: str) -> dict[str, Any]:
        """A media id's download URL, type and size (the URL is valid for a few minutes)."""
        return self.http.get_json(f"/{media_id}")

    def media_chunks(self, url: str, limit: int = MAX_MEDIA_BYTES) -> tuple[ProviderResponse, Iterator[bytes]]:
        """The file behind a media URL, fetched with the token (the URL's host: Meta's CDN, or the simulator)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        path = url[len(origin):] or "/"
        client = ProviderClient(PROVIDER, origin, integration=self.integration, **self.options) if self.integration is None else \
            client_for_integration(self.integration, PROVIDER, origin, **self.options)
        response = client.request("GET", path, stream=True)
        return response, _bounded(response, limit)


def client_for(integration: Integration, timeout_s: float = 10.0) -> WhatsAppClient:
    """The integration's Graph client, on its saved attributes (its breaker and call log are the integration's)."""
    return WhatsAppClient(attribute_values(integration), timeout_s=timeout_s, integration=integration)


def _bounded(response: ProviderResponse, limit: int) -> Iterator[bytes]:
    """The body in chunks, stopped at `limit` bytes or MEDIA_SECONDS, then the connection closed."""
    started, taken = time.monotonic(), 0
    try:
        for chunk in response.iter_content(64 * 1024):
            taken += len(chunk)
            if taken > limit or time.monotonic() - started > MEDIA_SECONDS:
                break  # the download stops short: the file was larger or slower than hi fetches
            yield chunk
    finally:
        response.close()
