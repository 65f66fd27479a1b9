"""The one HTTP client every service uses to call providers: timeouts always set, typed errors."""
from __future__ import annotations

from typing import Any

import requests

import hi

DEFAULT_TIMEOUT = (3.05, 10.0)
EXCERPT = 300


class ProviderError(Exception):
    """A provider call failed; carries the provider, HTTP status and a response excerpt."""

    def __init__(self, provider: str, message: str, status: int | None = None, excerpt: str = "") -> None:
        self.provider = provider
        self.status = status
        self.excerpt = excerpt[:EXCERPT]
        detail = f" (HTTP {status})" if status else ""
        super().__init__(f"{provider}: {message}{detail}" + (f": {self.excerpt}" if self.excerpt else ""))


class ProviderUnavailable(ProviderError):
    """The provider could not be reached or answered with a server error."""


class ProviderTimeout(ProviderUnavailable):
    """The provider did not answer in time."""


class ProviderRateLimited(ProviderError):
    """The provider asked us to slow down (HTTP 429); `retry_after` in seconds when given."""

    def __init__(self, provider: str, message: str, status: int | None = 429, excerpt: str = "", retry_after: float | None = None):
        super().__init__(provider, message, status, excerpt)
        self.retry_after = retry_after


class ProviderAuthError(ProviderError):
    """The provider refused the credentials (HTTP 401 or 403)."""


class ProviderRejected(ProviderError):
    """The provider refused the request itself (another 4xx): retrying will not help."""


def _retry_after(response: requests.Response) -> float | None:
    """The Retry-After header in seconds, when it is a number."""
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class ProviderClient:
    """A requests.Session bound to one provider's base URL, raising typed errors."""

    def __init__(self, provider: str, base_url: str, headers: dict[str, str] | None = None, timeout: Any = DEFAULT_TIMEOUT) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"hi/{hi.__version__}"
        self.session.headers.update(headers or {})

    def request(self, method: str, path: str, *, timeout: Any = None, **kwargs: Any) -> requests.Response:
        """Send a request; return the 2xx response or raise a ProviderError subclass."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        try:
            response = self.session.request(method, url, timeout=timeout or self.timeout, allow_redirects=False, **kwargs)
        except requests.Timeout:
            raise ProviderTimeout(self.provider, f"no answer from {self.base_url} in time") from None
        except requests.RequestException as exc:
            raise ProviderUnavailable(self.provider, f"cannot reach {self.base_url} ({type(exc).__name__})") from None
        excerpt = response.text[:EXCERPT]
        status = response.status_code
        if 200 <= status < 300:
            return response
        if 300 <= status < 400:
            # Redirects are never followed: a provider URL that moved is a configuration problem.
            location = response.headers.get("Location", "?")
            raise ProviderRejected(self.provider, f"unexpected redirect to {location}", status, excerpt)
        if status in (401, 403):
            raise ProviderAuthError(self.provider, "credentials refused", status, excerpt)
        if status == 429:
            raise ProviderRateLimited(self.provider, "rate limited", status, excerpt, _retry_after(response))
        if status >= 500:
            raise ProviderUnavailable(self.provider, "server error", status, excerpt)
        raise ProviderRejected(self.provider, "request refused", status, excerpt)

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET a JSON document."""
        response = self.request("GET", path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise ProviderRejected(self.provider, "answer is not JSON", response.status_code, response.text) from None
