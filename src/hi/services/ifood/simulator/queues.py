"""The simulator's per-credential event queues: redelivery until ACK, filters, retention and the strike rule."""
from __future__ import annotations

from dataclasses import dataclass, field

#: fullCode and group of every event code the simulator emits or knows: https://developer.ifood.com.br/en-US/docs/guides/modules/order/events
CODES: dict[str, tuple[str, str]] = {
    "PLC": ("PLACED", "ORDER_STATUS"), "CFM": ("CONFIRMED", "ORDER_STATUS"),
    "SPS": ("SEPARATION_STARTED", "ORDER_STATUS"), "SPE": ("SEPARATION_ENDED", "ORDER_STATUS"),
    "RTP": ("READY_TO_PICKUP", "ORDER_STATUS"), "DSP": ("DISPATCHED", "ORDER_STATUS"),
    "CON": ("CONCLUDED", "ORDER_STATUS"), "CAN": ("CANCELLED", "ORDER_STATUS"),
    "CAR": ("CANCELLATION_REQUESTED", "CANCELLATION_REQUEST"),
    "CARF": ("CANCELLATION_REQUEST_FAILED", "CANCELLATION_REQUEST"),
    "HSD": ("HANDSHAKE_DISPUTE", "HANDSHAKE"), "HSS": ("HANDSHAKE_SETTLEMENT", "HANDSHAKE"),
    "ADR": ("ASSIGN_DRIVER", "DELIVERY"), "GTO": ("GOING_TO_ORIGIN", "DELIVERY"),
    "AAO": ("ARRIVED_AT_ORIGIN", "DELIVERY"), "CLT": ("COLLECTED", "DELIVERY"),
    "AAD": ("ARRIVED_AT_DESTINATION", "DELIVERY"),
    "OPA": ("ORDER_PATCHED", "OTHERS"), "RPS": ("RECOMMENDED_PREPARATION_START", "OTHERS"),
    "PRS": ("PREPARATION_STARTED", "OTHERS"),
}


def group_of(code: str) -> str:
    """The polling `groups` filter value an event code belongs to (unknown codes: OTHERS)."""
    return CODES.get(code, ("", "OTHERS"))[1]


@dataclass
class StrikeRule:
    """The ACK-failure throttling thresholds (iFood's polling overview), configurable so tests can trip them fast."""

    #: Deliveries without an ACK after which an event is auto-ACKed and counts as a strike.
    deliveries: int = 50
    #: A strike expires this long after the latest strike (each new strike renews the TTL).
    ttl_s: float = 30 * 60
    #: Strikes that trigger a polling block.
    block_at: int = 100
    block_s: float = 5 * 60
    #: After a block ends, no new block for this long.
    cooldown_s: float = 60 * 60


@dataclass
class Delivery:
    """One event in one credential's queue."""

    event: dict
    queued_at: float
    deliveries: int = 0


@dataclass
class CredentialQueue:
    """One credential's events: iFood keeps the ACK state per credential (per "device")."""

    client_id: str
    #: Un-ACKed events in queue order, by event id.
    pending: dict[str, Delivery] = field(default_factory=dict)
    #: Every event ever queued for this credential, in order.
    history: list[dict] = field(default_factory=list)
    #: ACKed event ids in order, with how: "ack", "filter" (auto-ACK by types/groups), "strike".
    acked: dict[str, str] = field(default_factory=dict)
    #: Events dropped un-ACKed after the retention window.
    expired: list[str] = field(default_factory=list)
    strike_count: int = 0
    last_strike_at: float | None = None
    total_strikes: int = 0
    blocked_until: float = 0.0
    cooldown_until: float = 0.0
    blocks: int = 0

    def add(self, event: dict, now: float) -> None:
        """Queue an event (a second add of the same id is ignored)."""
        if event["id"] in self.pending or event["id"] in self.acked:
            return
        self.pending[event["id"]] = Delivery(event=event, queued_at=now)
        self.history.append(event)

    def strikes(self, now: float, rule: StrikeRule) -> int:
        """Live strikes: they all lapse once the latest is older than the TTL."""
        if self.last_strike_at is not None and now - self.last_strike_at > rule.ttl_s:
            self.strike_count, self.last_strike_at = 0, None
        return self.strike_count

    def blocked(self, now: float) -> bool:
        """Whether polling is blocked by the strike rule right now."""
        return now < self.blocked_until

    def _strike(self, now: float, rule: StrikeRule) -> None:
        """Count a strike; enough of them block polling unless a cooldown is running."""
        self.strikes(now, rule)
        self.strike_count += 1
        self.total_strikes += 1
        self.last_strike_at = now
        if self.strike_count >= rule.block_at and now >= self.cooldown_until:
            self.blocked_until = now + rule.block_s
            self.cooldown_until = self.blocked_until + rule.cooldown_s
            self.strike_count, self.last_strike_at = 0, None
            self.blocks += 1

    def take(self, now: float, *, merchants: set[str], types: set[str], groups: set[str], rule: StrikeRule,
             retention_s: float, limit: int | None) -> list[dict]:
        """One poll: the un-ACKed events of `merchants`; filtered-out ones are auto-ACKed, over-delivered ones struck."""
        for event_id, delivery in list(self.pending.items()):
            if now - delivery.queued_at > retention_s:
                del self.pending[event_id]
                self.expired.append(event_id)
        batch: list[Delivery] = []
        for event_id, delivery in list(self.pending.items()):
            event = delivery.event
            if event.get("merchantId") not in merchants:
                continue
            if (types and event.get("code") not in types) or (groups and group_of(str(event.get("code"))) not in groups):
                # The docs: events that don't match the filter are auto-acknowledged and never come back.
                del self.pending[event_id]
                self.acked[event_id] = "filter"
                continue
            if limit is None or len(batch) < limit:
                batch.append(delivery)
        for delivery in batch:
            delivery.deliveries += 1
            if delivery.deliveries >= rule.deliveries:
                event_id = delivery.event["id"]
                self.pending.pop(event_id, None)
                self.acked[event_id] = "strike"
                self._strike(now, rule)
        return [d.event for d in batch]

    def ack(self, ids: list[str]) -> int:
        """Acknowledge events by id (unknown or already-ACKed ids are ignored); how many were pending."""
        done = 0
        for event_id in ids:
            if self.pending.pop(event_id, None) is not None:
                self.acked[event_id] = "ack"
                done += 1
        return done

    def old_placed(self, merchants: set[str]) -> dict | None:
        """The most recent already-ACKed PLC of these merchants (to re-send, as iFood sometimes does)."""
        for event in reversed(self.history):
            if event.get("code") == "PLC" and event["id"] in self.acked and event.get("merchantId") in merchants:
                return event
        return None
