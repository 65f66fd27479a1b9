"""Provider batches, item by item: one item that cannot be read is kept as a failed event, the rest go on."""
# A provider hands hi lists: polled events, a webhook's entries and statuses, tracking events,
# stock moves, a sync's items. Parsing such a list in one go lets one malformed item (a date out of
# range, a lone surrogate, a wrong type) fail the whole list, every time it is redelivered: intake
# stops while nothing looks wrong. So every service parses its batches through parse_items() (each
# item on its own, any exception caught) and, for events, stores them through store_batch(): good
# items become accepted inbound rows that the worker processes; an unreadable one becomes a
# `failed` row holding its raw text and the reason, shown in the inbound log and counted in the
# health region. Both are deduplicated by the provider's id (a digest of the item when it has no
# usable id), so a provider that redelivers until acknowledged stores each item once. The service
# then acknowledges every item it received, the unreadable ones too, where its provider requires it.
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..contract.receivers import MAX_BODY_BYTES
from ..core.errors import ItemInvalid, ProviderDataError
from ..core.provider_data import check_depth, clean_json, clean_text, is_clean_text
from ..models import InboundEvent, Integration
from .inbound import MAX_EVENT_ID, MAX_EVENT_TYPE, MAX_REASON, log_unexpected, stored_fields

logger = logging.getLogger(__name__)
Status = InboundEvent.Status
T = TypeVar("T")
#: The statuses the dedupe constraint counts: an event id stored in one of them is never stored again.
KEPT = (Status.ACCEPTED, Status.PROCESSED, Status.FAILED)
#: What store_batch(apply=…) calls for each new readable item: (its type, the item with its text made safe).
Apply = Callable[[str, Any], None]
#: One item as store_batch plans to store it: (status, id, type, body, reason, raw item).
Planned = tuple[str, str, str, str, str, Any]


@dataclass(frozen=True)
class BatchItem:
    """What a service's parser says about one event of a batch: its id (the dedupe key) and its kind."""

    event_id: str
    event_type: str = ""


@dataclass(frozen=True)
class ItemFailure:
    """One item that could not be parsed: its position, the item as received and why."""

    index: int
    raw: Any
    reason: str
    event_id: str = ""
    event_type: str = ""


def parse_items(
    items: Iterable[Any], parse: Callable[[Any], T], integration: Integration | None = None
) -> tuple[list[tuple[Any, T]], list[ItemFailure]]:
    """Run `parse` on each item alone: ([(raw, parsed)], [failures]); no exception escapes the loop."""
    parsed: list[tuple[Any, T]] = []
    failures: list[ItemFailure] = []
    for index, raw in enumerate(items):
        try:
            check_depth(raw)  # an envelope parsed with max_depth=None leaves each item's depth to here
            parsed.append((raw, parse(raw)))
        except ItemInvalid as exc:
            failures.append(ItemFailure(index, raw, str(exc), exc.event_id, exc.event_type))
        except ProviderDataError as exc:
            failures.append(ItemFailure(index, raw, str(exc)))
        except Exception as exc:  # noqa: BLE001 - a parser's bug costs one item, never the batch
            # Expected bad data raises ItemInvalid; anything else is a bug worth a traceback in the log.
            message = log_unexpected(integration, "parsing a batch item", exc, "Provider batch") if integration else str(exc)
            failures.append(ItemFailure(index, raw, f"{type(exc).__name__}: {message}"))
    return parsed, failures


@dataclass
class BatchOutcome:
    """What store_batch did: new accepted rows, items stored as failed, items already stored."""

    new: int = 0
    failed: int = 0
    duplicates: int = 0
    reasons: list[str] = field(default_factory=list)


def item_body(raw: Any) -> str:
    """The item as stored: compact JSON of what the provider sent, text made safe."""
    try:
        text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):
        try:
            text = repr(raw)[:MAX_BODY_BYTES]
        except RecursionError:
            text = "(an item nested too deep to be written out)"
    return clean_text(text)


def _usable_id(event_id: Any) -> str:
    """The id when it can be the dedupe key as given, else ''."""
    if isinstance(event_id, str) and event_id and len(event_id) <= MAX_EVENT_ID and is_clean_text(event_id):
        return event_id
    return ""


class _Batch:
    """One store_batch call: the rows it writes and what it counts."""

    def __init__(self, integration: Integration, source: str, http_status: int, apply: Apply | None = None) -> None:
        """The integration, where the items came from, the status answered, and how each new item is applied."""
        self.integration = integration
        self.headers = {"source": source}
        self.http_status = http_status
        self.apply = apply
        self.outcome = BatchOutcome()
        self.seen: set[str] = set()

    def add_all(self, planned: list[Planned]) -> None:
        """Insert the new rows in one statement, then apply each; row by row when one was stored meanwhile."""
        fresh: list[Planned] = []
        for item in planned:
            if item[1] in self.seen:
                self.outcome.duplicates += 1
            else:
                self.seen.add(item[1])
                fresh.append(item)
        rows = [self._row(*item) for item in fresh]
        try:
            with transaction.atomic():
                InboundEvent.objects.bulk_create(rows)
        except IntegrityError:
            # Another process stored one of them meanwhile (a redelivery, a concurrent pass): a savepoint each tells which.
            for item in fresh:
                self.add(*item)
            return
        for row, (status, _, event_type, _, _, raw) in zip(rows, fresh, strict=True):
            self._settle(row, status, event_type, raw)

    def add(self, status: str, event_id: str, event_type: str, body: str, reason: str = "", raw: Any = None) -> None:
        """Insert one row in a savepoint and apply it, unless its id was stored before (then it is a duplicate)."""
        row = self._row(status, event_id, event_type, body, reason, raw)
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            self.outcome.duplicates += 1  # stored meanwhile (a webhook delivery of the same event)
            return
        self._settle(row, status, event_type, raw)

    def _row(self, status: str, event_id: str, event_type: str, body: str, reason: str = "", raw: Any = None) -> InboundEvent:
        """The unsaved row of one item: processed at once when it is applied now, else as planned."""
        fields = stored_fields({
            "provider_event_id": event_id, "event_type": event_type[:MAX_EVENT_TYPE], "headers": self.headers,
            "body": body[:MAX_BODY_BYTES],
            "reason": reason,
        })
        stored = Status.PROCESSED if self._applies(status) else status
        extra = {"processed_at": timezone.now()} if stored in (Status.FAILED, Status.PROCESSED) else {}
        return InboundEvent(
            workspace_id=self.integration.workspace_id, integration=self.integration, status=stored,
            http_status=self.http_status, body_size=len(body.encode("utf-8")), **fields, **extra,
        )

    def _applies(self, status: str) -> bool:
        """Whether an item planned with this status is applied now (store_batch(apply=…))."""
        return self.apply is not None and status == Status.ACCEPTED

    def _settle(self, row: InboundEvent, status: str, event_type: str, raw: Any) -> None:
        """After its row is stored: apply the item when it is applied now, and count it."""
        if self._applies(status) and not self._applied(row, event_type, raw):
            status = Status.FAILED
        if status == Status.FAILED:
            self.outcome.failed += 1
            self.outcome.reasons.append(row.reason)  # as stored (or as _applied recorded it)
        else:
            self.outcome.new += 1

    def _applied(self, row: InboundEvent, event_type: str, raw: Any) -> bool:
        """Apply a stored item now, in its own savepoint; a failure marks its row failed with the (redacted) error."""
        try:
            with transaction.atomic():
                self.apply(event_type, clean_json(raw))
            return True
        except Exception as exc:  # noqa: BLE001 - recorded on the item's row; the other items still apply
            message = log_unexpected(self.integration, "applying a batch item", exc, "Provider batch")
            row.reason = clean_text(f"processing failed: {type(exc).__name__}: {message}", MAX_REASON)
            InboundEvent.objects.filter(pk=row.pk).update(status=Status.FAILED, reason=row.reason)
            return False




def store_batch(
    integration: Integration, items: Iterable[Any], identify: Callable[[Any], BatchItem], *, source: str, http_status: int = 200,
    apply: Apply | None = None,
) -> BatchOutcome:
    """Store a provider's batch of events: readable ones accepted (the worker processes them), the others failed."""
    # With `apply` (a webhook's items, already in the worker), each new readable item is applied at once instead, in
    # its own savepoint, and stored processed (or failed with the error): one pass instead of a row per item waiting
    # for the next. Duplicates are skipped either way.
    items = list(items)
    parsed, failures = parse_items(items, identify, integration)
    batch = _Batch(integration, source, http_status, apply)
    planned: list[Planned] = []
    for raw, item in parsed:
        body = item_body(raw)
        event_id = _usable_id(item.event_id)
        if not event_id:
            failures.append(ItemFailure(-1, raw, "its id is not valid text (empty, too long, NUL or a lone surrogate)"))
        elif len(body.encode("utf-8")) > MAX_BODY_BYTES:
            reason = f"could not be read: it is larger than {MAX_BODY_BYTES} bytes"
            planned.append((Status.FAILED, event_id, item.event_type, body, reason, None))
        else:
            planned.append((Status.ACCEPTED, event_id, item.event_type, body, "", raw))
    for failure in failures:
        body = item_body(failure.raw)
        # Without a usable id, a digest of the item dedupes its redeliveries.
        event_id = _usable_id(failure.event_id) or f"invalid:{hashlib.sha256(body.encode('utf-8')).hexdigest()[:40]}"
        planned.append((Status.FAILED, event_id, clean_text(failure.event_type), body, f"could not be read: {failure.reason}", None))
    ids = [p[1] for p in planned]
    with transaction.atomic():
        # Providers redeliver until acknowledged (and sometimes after): most ids are known already.
        batch.seen = set(
            InboundEvent.objects.filter(integration=integration, provider_event_id__in=ids, status__in=KEPT)
            .values_list("provider_event_id", flat=True)
        )
        batch.add_all(planned)
    if batch.outcome.failed:
        logger.warning("%s: %d of %d items from %s could not be read; stored as failed events.",
                       integration.pk, batch.outcome.failed, len(items), source)
    return batch.outcome
