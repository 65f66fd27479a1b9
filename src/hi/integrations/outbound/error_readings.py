"""A provider's own reading of its error answers: the error its code means, whatever the HTTP status says."""
# Most providers say what went wrong with the HTTP status, and ProviderClient maps statuses to typed errors.
# Some say it in the body instead: Meta's Graph API answers an expired token (code 190) over HTTP 400 as well
# as 401, and a rate limit (130429, 131056) over 400. A client built with `read_error=` hands each error answer
# to that function first; an ErrorReading it returns decides the error class and carries the provider's code,
# so that a directive classifies a 190 over 400 as refused credentials, not as a refused request.
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

import requests

from ..core.errors import EXCERPT, ProviderAuthError, ProviderError, ProviderRateLimited
from ..core.redaction import redact_text


@dataclass(frozen=True)
class ErrorReading:
    """What an error answer means to its provider: the error to raise, its code, its words, when to come back."""

    error: type[ProviderError]
    #: The provider's own code ("190", "131056"), kept on the error as `code` (never secret: a number or a word).
    code: str = ""
    #: The provider's words; shown only when answers are not withheld (set-up never shows them).
    message: str = ""
    #: Seconds to wait before trying again, for a rate limit or an outage that says so.
    retry_after: float | None = None


#: What a client's `read_error` is: a function of the answer, None when the status alone decides.
ErrorReader = Callable[[requests.Response], "ErrorReading | None"]


def read_safely(reader: ErrorReader | None, response: requests.Response) -> ErrorReading | None:
    """The reader's reading of an answer; a reader that fails leaves the status to decide (logged by no one: bodies vary)."""
    if reader is None or 200 <= response.status_code < 300:
        return None
    try:
        reading = reader(response)
    except Exception:  # noqa: BLE001 - a provider's odd body must not turn an error answer into a crash
        return None
    return reading if isinstance(reading, ErrorReading) else None


def error_from(
    reading: ErrorReading, provider: str, response: requests.Response, excerpt: str, secrets: Iterable[str],
    withheld: bool, refusal: Callable[[], str], default_retry_after: float | None,
) -> ProviderError:
    """The typed error a reading means, its message the provider's words (unless withheld) and its code."""
    words = "" if withheld else " ".join(redact_text(reading.message or "", list(secrets)).split())[:EXCERPT]
    text = (words or "error answer") + (f" (code {reading.code})" if reading.code else "")
    kind = reading.error
    retry_after = reading.retry_after if reading.retry_after is not None else default_retry_after
    error: Any
    if issubclass(kind, ProviderRateLimited):
        error = kind(provider, text, response.status_code, excerpt, retry_after=retry_after)
    elif issubclass(kind, ProviderAuthError):
        error = kind(provider, text, response.status_code, excerpt, refusal())
    else:
        error = kind(provider, text, response.status_code, excerpt)
        if retry_after is not None:
            error.retry_after = retry_after
    error.code, error.said = reading.code, words
    return error
