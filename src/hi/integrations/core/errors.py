"""The error tree: one root, HiError, carrying where a failure happened; every error the framework raises on purpose is below it."""
# The branches, as a service meets them:
#   set-up (Home Assistant's config-entry classes)   IntegrationFailure → IntegrationNotReady / IntegrationAuthFailed /
#                                                     IntegrationError; set_up_failure() maps a ProviderError to one
#   configuring                                      ConnectionTestFailed → CannotConnect / InvalidAuth;
#                                                     ConfigurationInvalid; SetupError; IllegalTransition
#   calling a provider                               ProviderError → ProviderUnavailable → ProviderTimeout / BreakerOpen;
#                                                     ProviderRateLimited; ProviderAuthError; ProviderRejected →
#                                                     UnsafeDestination
#   the outbound guard                               UnsafeURL → UnresolvableHost
#   reading what a provider sent                      ProviderDataError; ItemInvalid; SignatureError; InboundRejected
#   work                                             DirectiveRetry; DirectiveFailed; DirectiveActionRefused; SyncFailed;
#                                                     ListenerAuthFailed; SlotsClosed
#   secrets at rest                                  SecretDecryptionError
#   developer tools                                  ScaffoldRefused
#   the quality checklist                            RuleNotApplicable
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Iterator

from .redaction import redact_known

#: How much of a provider's answer an error keeps (after redaction).
EXCERPT = 300

_bodies_withheld: ContextVar[bool] = ContextVar("hi_provider_bodies_withheld", default=False)


@contextmanager
def response_bodies_withheld() -> Iterator[None]:
    """Within the block, provider errors say the status and a generic reason, never what the provider answered."""
    # Set-up runs in here: until a connection test passes, the URL is anybody's, and its answer (an internal service's
    # page, say) must not reach the operator's form, the command line or a log.
    token = _bodies_withheld.set(True)
    try:
        yield
    finally:
        _bodies_withheld.reset(token)


def bodies_withheld() -> bool:
    """Whether provider answers are being withheld right now (inside response_bodies_withheld)."""
    return _bodies_withheld.get()


class HiError(Exception):
    """Root of every error hi raises on purpose, with what is known of where it happened."""

    # `provider` (its name), `integration` (the integration's id), `status` (the HTTP status involved) and
    # `excerpt` (the start of the provider's answer, redacted) are empty when they do not apply.

    provider: str = ""
    integration: str = ""
    status: int | None = None
    excerpt: str = ""

    def __init__(self, *args: Any, provider: str = "", integration: Any = None, status: int | None = None, excerpt: str = "") -> None:
        """The message, and what context() reports: the provider, the integration, the status and an excerpt."""
        super().__init__(*args)
        if provider:
            self.provider = provider
        if integration is not None:
            self.integration = str(getattr(integration, "pk", integration))
        if status is not None:
            self.status = status
        if excerpt:
            self.excerpt = excerpt

    def context(self) -> dict[str, Any]:
        """The context that applies (provider, integration, status, excerpt), for logs and diagnostics."""
        found = {name: getattr(self, name, None) for name in ("provider", "integration", "status", "excerpt")}
        return {name: value for name, value in found.items() if value not in ("", None)}


# Set-up: how activate/deactivate fail, classified as Home Assistant classifies config-entry set-up.


class IntegrationFailure(HiError):
    """Base of the failures a gateway raises from activate/deactivate."""


class IntegrationNotReady(IntegrationFailure):
    """Temporary: the provider is unreachable or busy; set-up is retried with backoff."""


class IntegrationAuthFailed(IntegrationFailure):
    """The credentials were refused; the operator must re-authenticate."""


class IntegrationError(IntegrationFailure):
    """Permanent: the set-up cannot succeed without the operator changing something."""


# Configuring: the connection test, offline validation, the set-up flow and the state machine.


class ConnectionTestFailed(HiError):
    """A live connection test failed; `code` is the form error shown to the operator."""

    # `sentence` replaces the code's general sentence when the service can say more precisely what happened
    # (e.g. which of the receiver's checks refused), and `details` is what the test did, for the gateway's
    # record_connection_test (like ConnectionInfo.details after a passing test).
    code = "unknown"

    def __init__(self, message: str = "", sentence: str = "", details: dict[str, Any] | None = None) -> None:
        """The provider's words (`message`), hi's sentence for the operator, and the details a form shows."""
        super().__init__(f"{sentence} {message}".strip())
        self.message = message
        self.sentence = sentence
        self.details = details or {}


class CannotConnect(ConnectionTestFailed):
    """The provider could not be reached or did not answer in time."""

    code = "cannot_connect"


class InvalidAuth(ConnectionTestFailed):
    """The provider refused the credentials."""

    code = "invalid_auth"


class ConfigurationInvalid(HiError):
    """Offline validation failed; `errors` maps attribute keys (or '__all__') to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        """The field errors, {attribute key: what is wrong}."""
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in errors.items()))
        self.errors = errors


#: What each form-level set-up error code tells the operator.
ERROR_MESSAGES = {
    "invalid": "Some values are not valid; see the fields below.",
    "cannot_connect": "Could not connect to the provider.",
    "invalid_auth": "The provider refused these credentials.",
    "already_configured": "This account is already configured in this workspace.",
    "already_connected_elsewhere": "This account is already connected in another workspace of this installation.",
    "wrong_account": "These credentials belong to a different account than this integration's.",
    "unknown": "Unexpected error while testing the connection.",
}


class SetupError(HiError):
    """A configuration attempt that saved nothing: a code, a message and per-field errors."""

    def __init__(self, code: str, detail: str = "", field_errors: dict[str, str] | None = None, sentence: str = ""):
        """The failure's code, a detail, field errors for the form, and the operator's sentence."""
        self.code = code
        self.detail = detail
        self.field_errors = field_errors or {}
        # `sentence` says the code's meaning in this case's words (e.g. naming the provider).
        self.sentence = sentence or ERROR_MESSAGES.get(code, code)
        super().__init__(f"{code}: {self.sentence}" + (f" {detail}" if detail else ""))

    @property
    def message(self) -> str:
        """The operator-facing sentence."""
        return f"{self.sentence} {self.detail}".strip()


class DemoUnavailable(HiError):
    """`make run`'s demo cannot be set up as asked: a type that offers no demo, or a simulator port setting that is no port."""


class IllegalTransition(HiError):
    """A state change the integration state machine does not allow (or a concurrent change won the race)."""

    def __init__(self, integration: Any, to_state: Any, message: str = "") -> None:
        # The state enum is the target's own class: this module knows no table.
        """The integration and the state it may not move to from its current one."""
        current = type(to_state)(integration.state)
        super().__init__(
            message or f"{integration.name} is in state “{current.label}” and cannot move to “{to_state.label}”.",
            integration=integration,
        )
        self.from_state = current
        self.to_state = to_state


# Calling a provider: what the HTTP client raises, and what each failure means for set-up.


class ProviderError(HiError):
    """A provider call failed; carries the provider, HTTP status and a response excerpt."""

    #: The provider's own error code, when its answer gives one and the client reads it (outbound/error_readings.py).
    code: str = ""
    #: The provider's own words about the error (a reading's message, secrets redacted; empty while answers are withheld).
    said: str = ""
    #: Whether the request had been written whole when the call failed (a timeout or a dropped connection while
    #: waiting for the answer): the provider may have acted on it, so a call that is not idempotent must not
    #: simply be sent again.
    request_sent: bool = False

    def __init__(self, provider: str, message: str, status: int | None = None, excerpt: str = "") -> None:
        """Which provider, what happened, its HTTP status, and an excerpt of its answer with secrets redacted."""
        self.provider = provider
        self.status = status
        # Whoever built it, an error never carries a secret the process knows (redacted before the cut,
        # so that a secret straddling it cannot leave its first half); set-up withholds bodies altogether.
        self.excerpt = "" if _bodies_withheld.get() else redact_known(excerpt[: EXCERPT * 4])[:EXCERPT]
        detail = f" (HTTP {status})" if status else ""
        super().__init__(redact_known(f"{provider}: {message}{detail}") + (f": {self.excerpt}" if self.excerpt else ""))


class ProviderUnavailable(ProviderError):
    """The provider could not be reached or answered with a server error."""


class ProviderTimeout(ProviderUnavailable):
    """The provider did not answer in time."""


class BreakerOpen(ProviderUnavailable):
    """The integration's circuit breaker is open, so no call was made; `retry_at` is when it half-opens."""

    def __init__(
        self, provider: str, message: str, status: int | None = None, excerpt: str = "", retry_at: datetime | None = None
    ):
        """A provider error, with the time the breaker lets calls through again."""
        super().__init__(provider, message, status, excerpt)
        self.retry_at = retry_at


class ProviderRateLimited(ProviderError):
    """The provider asked us to slow down (HTTP 429); `retry_after` in seconds when given."""

    def __init__(self, provider: str, message: str, status: int | None = 429, excerpt: str = "", retry_after: float | None = None):
        """A provider error, with the Retry-After the provider asked for (seconds)."""
        super().__init__(provider, message, status, excerpt)
        self.retry_after = retry_after


class ProviderAuthError(ProviderError):
    """The provider refused the credentials (HTTP 401 or 403)."""

    # `refusal` is the start of the answer, one line, redacted, when the client was built with `refusal_chars`
    # (kept even while set-up withholds bodies; see ProviderClient), else "".
    def __init__(self, provider: str, message: str, status: int | None = None, excerpt: str = "", refusal: str = "") -> None:
        """A provider error, with the short refusal text an operator's own receiver gave (when kept)."""
        super().__init__(provider, message, status, excerpt)
        self.refusal = refusal


class ProviderRejected(ProviderError):
    """The provider refused the request itself (another 4xx): retrying will not help."""


class UnsafeDestination(ProviderRejected):
    """hi refused to connect: the address is internal, loopback, a metadata service, or plain http outside the allow-list."""
    # Checked at every connection (outbound/ssrf.py). Nothing was sent; only a new URL or allow-list helps.


def error_class_for(status: int | None) -> type[ProviderError] | None:
    """The error an answer with this status raises (None for 2xx)."""
    if status is None or 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return ProviderRejected
    if status in (401, 403):
        return ProviderAuthError
    if status == 429:
        return ProviderRateLimited
    return ProviderUnavailable if status >= 500 else ProviderRejected


def connection_test_failure(exc: ProviderError) -> ConnectionTestFailed:
    """The connection-test failure a provider error means: refused credentials (invalid_auth), or no usable answer (cannot_connect)."""
    return InvalidAuth(str(exc)) if isinstance(exc, ProviderAuthError) else CannotConnect(str(exc))


def set_up_failure(exc: ProviderError, auth_message: str = "") -> IntegrationFailure:
    """The set-up failure a provider error means: refused credentials, an outage or rate limit (retried), or permanent."""
    if isinstance(exc, ProviderAuthError):
        return IntegrationAuthFailed(auth_message or str(exc))
    if isinstance(exc, (ProviderUnavailable, ProviderRateLimited)):
        return IntegrationNotReady(str(exc))
    return IntegrationError(str(exc))


# The outbound guard (outbound/ssrf.py).


class UnsafeURL(HiError, ValueError):
    """An outbound URL hi refuses to call; the message tells the operator why."""


class UnresolvableHost(UnsafeURL):
    """The URL's host name did not resolve (perhaps for now: callers may retry later)."""


# Reading what a provider sent.


class ProviderDataError(HiError, ValueError):
    """A provider's payload hi cannot read: not JSON, nested too deep, or a number out of range."""


class ItemInvalid(HiError):
    """An item hi cannot use; the message says why. Give the id and type when they were readable."""

    def __init__(self, reason: str, *, event_id: str = "", event_type: str = "") -> None:
        """Why the item cannot be read, and its id and type when they could be read."""
        super().__init__(reason)
        self.event_id = event_id
        self.event_type = event_type


class SignatureError(HiError):
    """A webhook failed verification; `reason` is missing_header, bad_id, bad_timestamp, stale, future or no_match."""

    def __init__(self, reason: str, message: str = "") -> None:
        """A short reason code, and the message when it says more."""
        self.reason = reason
        super().__init__(message or reason)


class InboundRejected(HiError):
    """A request the receiver refuses: answered with `status`, stored as rejected with `reason`."""

    def __init__(self, status: int = 400, reason: str = "", retry_after: int | None = None, public_reason: str | None = None) -> None:
        """The HTTP status to answer, the reason logged, a Retry-After, and the words the sender may see."""
        super().__init__(reason or f"rejected with HTTP {status}")
        self.status = status
        self.reason = reason or f"rejected with HTTP {status}"
        self.retry_after = retry_after
        #: What the caller is told (the stored reason may say more than a provider should see).
        self.public_reason = self.reason if public_reason is None else public_reason


# Work: directives, syncs, listeners and the worker's slots.


class DirectiveRetry(HiError):
    """A handler asks to be retried later (transient), optionally not before `retry_after` seconds."""

    def __init__(self, message: str = "", retry_after: float | None = None) -> None:
        """Why, and when to try again (seconds; None: the handler's retry policy decides)."""
        super().__init__(message)
        self.retry_after = retry_after


class DirectiveFailed(HiError):
    """A handler's permanent failure: retrying cannot help."""


class DirectiveActionRefused(HiError):
    """An operator action that does not apply to the directive's status."""


class SyncFailed(HiError):
    """An operator-requested sync could not run or failed; the message is safe to show."""


class ListenerAuthFailed(HiError):
    """The provider refused the listener's credentials; retried only after the maximum backoff."""


class SlotsClosed(HiError):
    """A task was offered after the slots were closed."""


# Secrets at rest (core/crypto.py).


class SecretDecryptionError(HiError):
    """A stored secret could not be decrypted with any configured key."""


# Developer tools (scaffold/: manage.py startintegration).


class ScaffoldRefused(HiError):
    """startintegration will not create the service (name taken or invalid, files exist, a registry it cannot edit); nothing was written."""


# The quality checklist (quality/).


class RuleNotApplicable(HiError):
    """A rule of the quality checklist does not apply to the service checked; the message says why."""
