"""Inbound webhooks: the receiver base class a service subclasses, and the flow every request goes through."""
# handle_inbound() runs fixed steps (template method, as anymail's AnymailCoreWebhookView): is the
# integration active? → read the body under a hard cap (chunked too) → verify (signature over the raw
# bytes) → parse → event_id / event_type → store the row and accept() it in one transaction, deduped by
# the database constraint one_accepted_inbound_event_per_provider_id. An accepted request keeps its
# whole body; a refused one its metadata and an excerpt, and past a per-source rate limit it is only
# counted (refusals.py). The worker then runs process() on each accepted row, once, and marks it
# processed (or failed): the provider's request only verifies, stores and answers.
# Answers: 202 accepted, 200 duplicate, 4xx refused (InboundRejected), 413 too large, 503 +
# Retry-After when the integration is not active, hi's own code failed, or the database stayed locked
# past HI_DB_LOCK_WAIT_S (dblocks.py; that request is not logged: logging it would wait again).
# Never a 500: for our own errors a provider endpoint answers "try again" (503), so the provider
# retries and nothing is lost; the error is logged with the integration's secrets removed, and the row
# is `rejected` (not `failed`, which the dedupe constraint counts) so the redelivery can be accepted.
from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.utils import timezone

from . import refusals
from .dblocks import busy_response, is_lock_timeout
from .inbound_body import declared_length, read_body
from .models import InboundEvent, Integration, IntegrationState
from .provider_data import ProviderDataError, clean_json, clean_text, is_clean_text, loads
from .redaction import REDACTED, redact_text
from .signing import verify_hmac_sha256

logger = logging.getLogger(__name__)
Status = InboundEvent.Status

#: The default cap on a request body (1 MiB).
MAX_BODY_BYTES = 1024 * 1024
#: Longest stored header value; providers' real headers are far shorter.
MAX_HEADER_VALUE = 2000
#: Longest stored event id, event type and reason (the columns' sizes).
MAX_EVENT_ID = 255
MAX_EVENT_TYPE = 100
MAX_REASON = 4000
#: What a provider is told when hi's own code failed (the details are logged and stored).
UNAVAILABLE = "temporarily unavailable, try again later"


class InboundRejected(Exception):
    """A request the receiver refuses: answered with `status`, stored as rejected with `reason`."""

    def __init__(self, status: int = 400, reason: str = "", retry_after: int | None = None, public_reason: str | None = None) -> None:
        super().__init__(reason or f"rejected with HTTP {status}")
        self.status = status
        self.reason = reason or f"rejected with HTTP {status}"
        self.retry_after = retry_after
        #: What the caller is told (the stored reason may say more than a provider should see).
        self.public_reason = self.reason if public_reason is None else public_reason


class InboundReceiver:
    """Base class of a service's webhook receiver: the framework runs the steps, a service fills in the hooks."""

    #: Bodies larger than this are refused with 413 before any hook runs.
    max_body_bytes: int = MAX_BODY_BYTES
    #: Header names (searched, case-insensitive) whose values are stored as REDACTED.
    sensitive_headers = re.compile(r"signature|authori[sz]ation|cookie|token|secret|passw|api[-_]?key|auth|session|credential", re.I)
    #: Seconds the provider is asked to wait (Retry-After) when hi cannot take the request now.
    retry_after_s: int = 60
    #: Whether the provider proves it owns the URL with a GET first (Meta's hub.challenge): GET then runs
    #: handshake(); otherwise GET is 405 (handshakes.py).
    answers_handshake: bool = False

    # Subclasses must implement ------------------------------------------------------------------
    def verify(self, request: HttpRequest, body: bytes, integration: Integration) -> None:
        """Check the request is authentic (signature over the raw bytes); raise InboundRejected(401, ...)."""
        raise NotImplementedError(f"{type(self).__module__}.{type(self).__name__} must implement verify()")

    def event_id(self, request: HttpRequest, payload: Any) -> str:
        """The provider's own id of the event (a header or a payload field); '' turns dedupe off."""
        raise NotImplementedError(f"{type(self).__module__}.{type(self).__name__} must implement event_id()")

    # Subclasses may override --------------------------------------------------------------------
    def accept(self, inbound_event: InboundEvent, payload: Any) -> None:
        """In the request, same transaction as the row, no network: only what must happen before the answer."""

    def process(self, inbound_event: InboundEvent, payload: Any) -> None:
        """In the worker, once, same transaction as marking the row processed: publish an event, enqueue a directive."""

    def handshake(self, request: HttpRequest, integration: Integration) -> HttpResponse:
        """With answers_handshake, a provider's GET verifying the URL: the answer it expects, else InboundRejected(403, why)."""
        raise NotImplementedError(f"{type(self).__module__}.{type(self).__name__} must implement handshake()")

    def parse(self, body: bytes) -> Any:
        """The payload: by default a JSON object (bounded nesting), else InboundRejected(400, why)."""
        try:
            payload = loads(body)
        except ProviderDataError as exc:
            raise InboundRejected(400, str(exc)) from None
        if not isinstance(payload, dict):
            raise InboundRejected(400, "not JSON: the body must be a JSON object")
        return payload

    def event_type(self, payload: Any) -> str:
        """The provider's name of the event kind, shown in the inbound log ('' when unknown)."""
        return ""

    def success_response(self, inbound_event: InboundEvent) -> HttpResponse:
        """The answer to an accepted request: 202 with the stored row's id."""
        return JsonResponse({"id": str(inbound_event.pk)}, status=202)

    def duplicate_response(self, inbound_event: InboundEvent) -> HttpResponse:
        """The answer to a request already received: 200, so the provider stops retrying."""
        return JsonResponse({"id": str(inbound_event.pk), "duplicate": True}, status=200)

    def rejected_response(self, rejection: InboundRejected) -> HttpResponse:
        """The answer to a refused request: its status, the reason, and Retry-After when set."""
        response = JsonResponse({"error": rejection.public_reason}, status=rejection.status)
        if rejection.retry_after is not None:
            response["Retry-After"] = str(rejection.retry_after)
        return response

    def redacted_headers(self, request: HttpRequest) -> dict[str, str]:
        """The request headers, with the values of credential and signature headers replaced."""
        return {
            name: REDACTED if self.sensitive_headers.search(name) else clean_text(value, MAX_HEADER_VALUE)
            for name, value in request.headers.items()
        }


class HmacSha256Receiver(InboundReceiver):
    """A receiver whose provider signs the raw body with HMAC-SHA256 in one header (hex or base64)."""

    #: The header carrying the signature.
    signature_header: str = ""
    #: 'hex' or 'base64'.
    signature_encoding: str = "hex"
    #: A prefix the provider puts before the digest ('sha256=' for GitHub-style headers).
    signature_prefix: str = ""

    def signing_secret(self, integration: Integration) -> str | bytes:
        """The integration's webhook secret (usually a secret attribute)."""
        raise NotImplementedError(f"{type(self).__module__}.{type(self).__name__} must implement signing_secret()")

    def verify(self, request: HttpRequest, body: bytes, integration: Integration) -> None:
        """Compare the header's digest with the body's, in constant time."""
        signature = request.headers.get(self.signature_header, "")
        if not signature:
            raise InboundRejected(401, f"missing {self.signature_header} header")
        if self.signature_prefix and signature.startswith(self.signature_prefix):
            signature = signature[len(self.signature_prefix):]
        secret = self.signing_secret(integration)
        if not secret or not verify_hmac_sha256(secret, body, signature, self.signature_encoding):
            raise InboundRejected(401, f"{self.signature_header} does not match the body")


class UnavailableReceiver(InboundReceiver):
    """Stands in for a receiver the gateway could not build: logs the request and answers 503."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def verify(self, request: HttpRequest, body: bytes, integration: Integration) -> None:
        """Refuse every request with 503, so the provider retries once the gateway is fixed."""
        raise InboundRejected(503, self.reason, retry_after=self.retry_after_s, public_reason=UNAVAILABLE)


def decode_body(data: bytes) -> str:
    """The raw body as stored: UTF-8, undecodable bytes escaped as \\xNN."""
    return clean_text(data.decode("utf-8", errors="backslashreplace"))


def stored_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """An inbound row's provider-given fields as stored: text made safe and cut to its column (the one storage boundary)."""
    stored = dict(fields)
    for name, limit in (("provider_event_id", MAX_EVENT_ID), ("event_type", MAX_EVENT_TYPE), ("reason", MAX_REASON), ("body", None)):
        if name in stored:
            stored[name] = clean_text(stored[name], limit)
    if "headers" in stored:
        stored["headers"] = {clean_text(k, MAX_HEADER_VALUE): clean_text(v, MAX_HEADER_VALUE) for k, v in (stored["headers"] or {}).items()}
    return stored


def _secrets(integration: Integration) -> list[str]:
    """The integration's secret values, for redaction (none when they cannot be read)."""
    from .store import secret_values

    try:
        return secret_values(integration)
    except Exception:  # noqa: BLE001 - redaction must not fail the request
        return []


def _store(integration: Integration, fields: dict[str, Any], status: str, http_status: int, reason: str = "") -> InboundEvent | None:
    """Create one row; a database failure is logged, never raised (the answer is 503 anyway)."""
    try:
        return InboundEvent.objects.create(
            workspace_id=integration.workspace_id,
            integration=integration,
            status=status,
            http_status=http_status,
            **stored_fields({**fields, "reason": reason}),
        )
    except Exception:  # noqa: BLE001 - the request is answered whatever happens to the log
        logger.exception("Could not store an inbound request for integration %s", integration.pk)
        return None


def log_unexpected(integration: Integration, what: str, exc: BaseException, source: str = "Inbound webhook") -> str:
    """Log an unexpected error with its traceback, secrets removed; return the redacted message."""
    secrets = _secrets(integration)
    trace = redact_text("".join(traceback.format_exception(exc)), secrets)
    logger.error("%s for integration %s: %s failed: %s", source, integration.pk, what, trace)
    return redact_text(str(exc) or type(exc).__name__, secrets)


def unexpected_rejection(receiver: InboundReceiver, integration: Integration, stage: str, exc: BaseException) -> InboundRejected:
    """Log a hook's unexpected error and turn it into a 503 the provider retries."""
    where = f"{type(receiver).__name__}.{stage}()"
    message = log_unexpected(integration, where, exc)
    reason = f"unexpected error in {where}: {type(exc).__name__}: {message}"
    return InboundRejected(503, reason, retry_after=receiver.retry_after_s, public_reason=UNAVAILABLE)


def _answered(row: InboundEvent, response: HttpResponse) -> HttpResponse:
    """Record the status the provider is answered with, when a receiver's response changed it."""
    if response.status_code != row.http_status:
        row.http_status = response.status_code
        row.save(update_fields=["http_status"])
    return response


def _accept(receiver: InboundReceiver, integration: Integration, fields: dict[str, Any], payload: Any) -> HttpResponse:
    """Store the row and run accept() in one transaction; a duplicate is stored and not processed."""
    fields = stored_fields(fields)
    event_id = fields["provider_event_id"]
    try:
        # No savepoint around the insert: a refused row rolls the whole (short) transaction back.
        with transaction.atomic():
            row = InboundEvent.objects.create(
                workspace_id=integration.workspace_id,
                integration=integration,
                status=Status.ACCEPTED,
                http_status=202,
                **fields,
            )
            receiver.accept(row, payload)
            return _answered(row, receiver.success_response(row))
    except IntegrityError:
        # Another request with this id won (before us, or concurrently): the constraint decides.
        with transaction.atomic():
            original = (
                InboundEvent.objects.filter(integration=integration, provider_event_id=event_id)
                .filter(status__in=[Status.ACCEPTED, Status.PROCESSED, Status.FAILED])
                .first()
            )
            if not event_id or original is None:
                raise
            row = InboundEvent.objects.create(
                workspace_id=integration.workspace_id,
                integration=integration,
                status=Status.DUPLICATE,
                http_status=200,
                reason=f"already received as {original.pk}",
                **fields,
            )
            return _answered(row, receiver.duplicate_response(row))


def handle_inbound(request: HttpRequest, integration: Integration, receiver: InboundReceiver) -> HttpResponse:
    """Run one provider request through active? → read → verify → parse → dedupe → store + accept."""
    address = refusals.client_address(request)
    fields: dict[str, Any] = {"headers": {}, "body": "", "body_size": 0, "provider_event_id": "", "event_type": "", "source_address": address}
    data = b""
    stage = "redacted_headers"
    try:
        fields["headers"] = receiver.redacted_headers(request)
        if integration.state != IntegrationState.ACTIVE:
            # Before reading: a paused or disabled integration keeps nothing of the body.
            fields["body_size"] = declared_length(request) or 0
            label = IntegrationState(integration.state).label.lower()
            raise InboundRejected(503, f"integration is {label}: not accepting webhooks now", retry_after=receiver.retry_after_s)
        stage = "read"
        try:
            body = read_body(request, receiver.max_body_bytes)
        except (UnreadablePostError, OSError):
            raise InboundRejected(400, "the body could not be read") from None
        data, fields["body_size"] = body.data, body.size
        if body.too_large:
            raise InboundRejected(413, f"the body exceeds the {receiver.max_body_bytes}-byte limit")
        stage = "verify"
        receiver.verify(request, body.data, integration)
        stage = "parse"
        payload = receiver.parse(body.data)
        stage = "event_id"
        event_id = str(receiver.event_id(request, payload) or "")
        fields["provider_event_id"] = event_id  # stored escaped and cut, so a refused id still shows
        if not is_clean_text(event_id):
            # The id is the dedupe key: altering it could merge two events, so the event is refused.
            raise InboundRejected(400, "the event id is not valid text (it holds a NUL or a lone surrogate)")
        if len(event_id) > MAX_EVENT_ID:
            raise InboundRejected(400, f"the event id is longer than {MAX_EVENT_ID} characters")
        stage = "event_type"
        fields["event_type"] = str(receiver.event_type(payload) or "")
        stage = "accept"
        fields["body"] = decode_body(body.data)  # accepted: the whole body is kept
        return _accept(receiver, integration, fields, clean_json(payload))
    except InboundRejected as exc:
        rejection = exc
    except Exception as exc:  # noqa: BLE001 - a provider endpoint never answers 500
        if is_lock_timeout(exc):
            # The database stayed locked past HI_DB_LOCK_WAIT_S: answer now (logging would wait again).
            logger.warning("Inbound webhook for integration %s: the database is locked; answered 503.", integration.pk)
            return busy_response(request, provider=True)
        rejection = unexpected_rejection(receiver, integration, stage, exc)
    return refuse(integration, receiver, rejection, fields, data)


def refuse(integration: Integration, receiver: InboundReceiver, rejection: InboundRejected, fields: dict[str, Any], data: bytes) -> HttpResponse:
    """Answer a refused request: log it (metadata and an excerpt of `data`; past the rate limit only counted)."""
    if rejection.status >= 500 and rejection.retry_after is None:
        rejection.retry_after = receiver.retry_after_s
    # Refused: metadata and an excerpt only, and past the rate limit not even a row (refusals.py).
    stored = refusals.admit(integration, fields.get("source_address"), rejection.status, rejection.reason)
    if stored:
        fields["body"] = decode_body(data[: refusals.excerpt_bytes()])
        _store(integration, fields, Status.REJECTED, rejection.status, rejection.reason)
    level = (logging.WARNING if rejection.status >= 500 else logging.INFO) if stored else logging.DEBUG
    logger.log(level, "Inbound webhook for integration %s refused with %s: %s", integration.pk, rejection.status, rejection.reason)
    try:
        return receiver.rejected_response(rejection)
    except Exception:  # noqa: BLE001 - even a broken override gets the provider a plain answer
        return InboundReceiver.rejected_response(receiver, rejection)


def _receiver_for(integration: Integration) -> InboundReceiver | None:
    """The receiver the integration's gateway builds now (None when its type receives no webhooks)."""
    from .inbound_views import gateway_receiver

    return gateway_receiver(integration)


#: Rows processed in one transaction: few enough that SQLite's write lock is held only briefly.
PROCESS_BATCH = 50


def _process_batch(limit: int, resolve) -> tuple[int, int]:
    """Process up to `limit` accepted rows in one transaction, each in its own savepoint; return (taken, processed)."""
    done: list = []
    receivers: dict = {}
    with transaction.atomic():
        pending = InboundEvent.objects.filter(status=Status.ACCEPTED).order_by("received_at").select_related("integration")
        if connection.features.has_select_for_update_skip_locked:
            # PostgreSQL: rows another worker is processing are skipped, not waited for. (SQLite: the
            # transaction holds the write lock, so passes never overlap.)
            pending = pending.select_for_update(skip_locked=True, of=("self",))
        rows = list(pending[:limit])
        for row in rows:
            try:
                with transaction.atomic():  # a savepoint: one failing row undoes only its own work
                    if row.integration_id not in receivers:
                        receivers[row.integration_id] = resolve(row.integration)
                    receiver = receivers[row.integration_id]
                    if receiver is None:
                        raise InboundRejected(404, f"the {row.integration.integration_type} type no longer receives webhooks")
                    # process() sees the provider's text made safe, as everything it stores must be.
                    payload = clean_json(receiver.parse(row.body.encode("utf-8", errors="surrogateescape")))
                    receiver.process(row, payload)
                done.append(row.pk)
            except Exception as exc:  # noqa: BLE001 - recorded on the row; the other rows still run
                message = log_unexpected(row.integration, "process()", exc)
                reason = clean_text(f"processing failed: {type(exc).__name__}: {message}", MAX_REASON)
                InboundEvent.objects.filter(pk=row.pk).update(status=Status.FAILED, reason=reason, processed_at=timezone.now())
        if done:
            InboundEvent.objects.filter(pk__in=done).update(status=Status.PROCESSED, processed_at=timezone.now())
    return len(rows), len(done)


def process_pending(limit: int = 500, resolve=_receiver_for) -> int:
    """The worker's pass: process() each accepted row once, oldest first, marking it processed in the same
    transaction (or failed, with the redacted error); return how many were processed."""
    processed = 0
    while limit > 0:
        taken, done = _process_batch(min(limit, PROCESS_BATCH), resolve)
        processed += done
        limit -= taken
        if taken < PROCESS_BATCH:
            break
    return processed
