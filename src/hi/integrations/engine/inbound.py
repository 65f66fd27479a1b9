"""Inbound webhooks: the flow every request goes through (the receivers a service subclasses are contract/receivers.py's)."""
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
import traceback
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.utils import timezone

from ..config.store import secret_values
from ..contract.gateway import Capability
from ..contract.receivers import MAX_HEADER_VALUE, UNAVAILABLE, InboundReceiver
from ..core.errors import InboundRejected
from ..core.provider_data import clean_json, clean_text, is_clean_text
from ..core.redaction import redact_text
from ..factory import get_integration_gateway
from ..models import InboundEvent, Integration, IntegrationState
from ..outbox import events
from . import refusals
from .dblocks import busy_response, is_lock_timeout
from .inbound_body import declared_length, read_body

logger = logging.getLogger(__name__)
Status = InboundEvent.Status

#: Longest stored event id, event type and reason (the columns' sizes).
MAX_EVENT_ID = 255
MAX_EVENT_TYPE = 100
MAX_REASON = 4000


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
    fields: dict[str, Any] = {
        "headers": {}, "body": "", "body_size": 0, "provider_event_id": "", "event_type": "", "source_address": address,
    }
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


def refuse(
    integration: Integration, receiver: InboundReceiver, rejection: InboundRejected, fields: dict[str, Any], data: bytes
) -> HttpResponse:
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


def gateway_receiver(integration: Integration) -> InboundReceiver | None:
    """The receiver the integration's gateway builds now, or None when the type receives no webhooks."""
    try:
        gateway = get_integration_gateway(integration.integration_type)
    except (ValueError, ImportError):
        return None  # a type whose service is gone
    if not gateway.supports(Capability.INBOUND_WEBHOOKS):
        return None
    return gateway.receiver(integration)


#: Rows processed in one transaction: few enough that SQLite's write lock is held only briefly.
PROCESS_BATCH = 50


def _process_batch(limit: int, resolve) -> tuple[int, int]:
    """Process up to `limit` accepted rows in one transaction, each integration's rows together; return (taken, processed)."""
    done: list = []
    # The events the rows publish are dispatched together once this transaction commits, not one transaction each.
    with transaction.atomic(), events.dispatch_together():
        pending = InboundEvent.objects.filter(status=Status.ACCEPTED).order_by("received_at").select_related("integration")
        if connection.features.has_select_for_update_skip_locked:
            # PostgreSQL: rows another worker is processing are skipped, not waited for. (SQLite: the
            # transaction holds the write lock, so passes never overlap.)
            pending = pending.select_for_update(skip_locked=True, of=("self",))
        rows = list(pending[:limit])
        groups: dict[Any, list[InboundEvent]] = {}
        for row in rows:
            groups.setdefault(row.integration_id, []).append(row)
        for group in groups.values():
            done.extend(_process_group(group, resolve))
        if done:
            InboundEvent.objects.filter(pk__in=done).update(status=Status.PROCESSED, processed_at=timezone.now())
    return len(rows), len(done)


def _process_group(rows: list[InboundEvent], resolve) -> list:
    """One integration's rows, oldest first, parsed one by one and processed together; return the ids processed."""
    # Together (process_many, in one savepoint) shares the receiver's lookups across the rows; when that fails it
    # is undone and the rows are processed one by one, each in its own savepoint, so a bad row fails alone.
    integration = rows[0].integration
    try:
        receiver = resolve(integration)
        if receiver is None:
            raise InboundRejected(404, f"the {integration.integration_type} type no longer receives webhooks")
    except Exception as exc:  # noqa: BLE001 - recorded on each row
        for row in rows:
            _failed(row, exc)
        return []
    parsed: list[tuple[InboundEvent, Any]] = []
    for row in rows:
        try:
            # process() sees the provider's text made safe, as everything it stores must be.
            parsed.append((row, clean_json(receiver.parse(row.body.encode("utf-8", errors="surrogateescape")))))
        except Exception as exc:  # noqa: BLE001 - recorded on the row; the other rows still run
            _failed(row, exc)
    if len(parsed) > 1:
        try:
            with transaction.atomic():
                receiver.process_many(parsed)
            return [row.pk for row, _ in parsed]
        except Exception as exc:  # noqa: BLE001 - undone; the rows are processed one by one below
            message = redact_text(str(exc) or type(exc).__name__, _secrets(integration))
            logger.warning("Integration %s: %d rows could not be processed together (%s: %s); processing them one by one.",
                           integration.pk, len(parsed), type(exc).__name__, message)
    done = []
    for row, payload in parsed:
        try:
            with transaction.atomic():  # a savepoint: one failing row undoes only its own work
                receiver.process(row, payload)
            done.append(row.pk)
        except Exception as exc:  # noqa: BLE001 - recorded on the row; the other rows still run
            _failed(row, exc)
    return done


def _failed(row: InboundEvent, exc: BaseException) -> None:
    """Mark a row failed with the (redacted) error; the traceback goes to the log."""
    message = log_unexpected(row.integration, "process()", exc)
    reason = clean_text(f"processing failed: {type(exc).__name__}: {message}", MAX_REASON)
    InboundEvent.objects.filter(pk=row.pk).update(status=Status.FAILED, reason=reason, processed_at=timezone.now())


def process_pending(limit: int = 500, resolve=gateway_receiver) -> int:
    """The worker's pass: each accepted row processed once, oldest first, and marked so in the same transaction; return how many."""
    # A row that cannot be processed is marked failed with the redacted error instead.
    processed = 0
    while limit > 0:
        taken, done = _process_batch(min(limit, PROCESS_BATCH), resolve)
        processed += done
        limit -= taken
        if taken < PROCESS_BATCH:
            break
    return processed
