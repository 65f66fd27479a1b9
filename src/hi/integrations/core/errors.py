"""Typed failures of gateways, classified as Home Assistant classifies config-entry set-up."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..outbound.http import ProviderError


class IntegrationFailure(Exception):
    """Base of the failures a gateway raises from activate/deactivate."""


class IntegrationNotReady(IntegrationFailure):
    """Temporary: the provider is unreachable or busy; set-up is retried with backoff."""


class IntegrationAuthFailed(IntegrationFailure):
    """The credentials were refused; the operator must re-authenticate."""


class IntegrationError(IntegrationFailure):
    """Permanent: the set-up cannot succeed without the operator changing something."""


def set_up_failure(exc: "ProviderError", auth_message: str = "") -> IntegrationFailure:
    """The set-up failure a provider error means: refused credentials, an outage or rate limit (retried), or permanent."""
    from ..outbound.http import ProviderAuthError, ProviderRateLimited, ProviderUnavailable

    if isinstance(exc, ProviderAuthError):
        return IntegrationAuthFailed(auth_message or str(exc))
    if isinstance(exc, (ProviderUnavailable, ProviderRateLimited)):
        return IntegrationNotReady(str(exc))
    return IntegrationError(str(exc))


class ConnectionTestFailed(Exception):
    """A live connection test failed; `code` is the form error shown to the operator."""

    code = "unknown"

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class CannotConnect(ConnectionTestFailed):
    """The provider could not be reached or did not answer in time."""

    code = "cannot_connect"


class InvalidAuth(ConnectionTestFailed):
    """The provider refused the credentials."""

    code = "invalid_auth"


class ConfigurationInvalid(Exception):
    """Offline validation failed; `errors` maps attribute keys (or '__all__') to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in errors.items()))
        self.errors = errors
