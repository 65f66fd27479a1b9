"""iFood's directives: fetch a placed order's details, and send an operator's action on an order."""
from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from hi.integrations.api import (
    Directive,
    DirectiveFailed,
    DirectiveHandler,
    DirectiveRetry,
    Integration,
    ProviderRejected,
    enqueue,
)
from hi.orders import api as orders
from hi.orders.data import OrderDataInvalid
from hi.orders.models import Order

from . import processing
from .client import client_for
from .mapping import MappingError, order_data

TOPIC_FETCH = "ifood.fetch_order"
TOPIC_ACTION = "ifood.order_action"
#: Details may 404 just after PLC; "retry with exponential backoff for up to 10 minutes" (https://developer.ifood.com.br/en-US/docs/guides/modules/order/workflow).
#: These waits add up to over 10 minutes even with the -20 % jitter; the attempt after
#: the 10 minutes gives up (FETCH_WINDOW).
FETCH_SCHEDULE = (2, 4, 8, 16, 32, 64, 120, 120, 120, 120, 120, 120, 120)
FETCH_WINDOW = timedelta(minutes=10)
REPLAY_MARGIN = timedelta(hours=1)
#: An order must be confirmed within 8 minutes or iFood cancels it: retry quickly, not for hours. https://developer.ifood.com.br/en-US/docs/guides/modules/order/endpoints
ACTION_SCHEDULE = (5, 15, 30, 60, 120)


def queue_fetch(integration: Integration, order_id: str) -> Directive:
    """Fetch the order's details once (a live fetch for the same order absorbs repeats)."""
    return enqueue(integration, TOPIC_FETCH, {"order_id": order_id}, dedupe_key=f"{integration.pk}:{order_id}")


def fetch_order(directive: Directive) -> None:
    """GET the details and create the hi order, then replay the events that arrived before it."""
    integration = directive.integration
    order_id = directive.payload["order_id"]
    if Order.objects.filter(source=integration, external_id=order_id).exists():
        return
    try:
        details = client_for(integration).order(order_id)
    except ProviderRejected as exc:
        if exc.status != 404:
            raise
        if timezone.now() - directive.created_at > FETCH_WINDOW:
            raise DirectiveFailed(f"iFood still has no details for order {order_id} 10 minutes after it was placed (HTTP 404)") from None
        raise DirectiveRetry(f"iFood has no details for order {order_id} yet (HTTP 404, normal right after PLACED)") from None
    try:
        data = order_data(details)
        with transaction.atomic():
            # The hub bounds the data first: what it cannot store is refused before anything is.
            order, created = orders.create_order(integration.workspace, data, source=integration, actor=processing.ACTOR)
            if created:
                # The order's other events arrived around its PLC, which queued this fetch: an hour's margin
                # covers disorder without scanning the whole inbound log.
                processing.replay(integration, order, since=directive.created_at - REPLAY_MARGIN)
    except (MappingError, OrderDataInvalid) as exc:
        # Retrying cannot change what iFood sent: a permanent failure, said plainly, no traceback.
        raise DirectiveFailed(f"iFood order {order_id} cannot be stored: {exc}") from None


#: key → (iFood path, label in the history).
ACTIONS = {
    "confirm": ("confirm", "Confirm"),
    "start_preparation": ("startPreparation", "Start preparation"),
    "ready_to_pickup": ("readyToPickup", "Ready to pickup"),
    "dispatch": ("dispatch", "Dispatch"),
    "request_cancellation": ("requestCancellation", "Request cancellation"),
    "accept_cancellation": ("acceptCancellation", "Accept cancellation"),
    "deny_cancellation": ("denyCancellation", "Deny cancellation"),
}


def queue_action(integration: Integration, order: Order, action: str, body: dict | None, actor: str) -> Directive:
    """Queue the action and mark the order as waiting for iFood, in the caller's transaction."""
    label = ACTIONS[action][1]
    directive = enqueue(
        integration, TOPIC_ACTION, {"order": order.pk, "order_id": order.external_id, "action": action, "body": body},
        dedupe_key=f"{integration.pk}:{order.pk}:{action}",
    )
    orders.set_awaiting(order, label, actor=actor, integration=integration)
    return directive


def send_action(directive: Directive) -> None:
    """POST the action; iFood answers 202 and the outcome arrives later as an event (iFood's order endpoints page)."""
    integration = directive.integration
    payload = directive.payload
    path, label = ACTIONS[payload["action"]]
    order = Order.objects.filter(pk=payload["order"], source=integration).first()
    try:
        client_for(integration).action(payload["order_id"], path, payload.get("body"))
    except ProviderRejected as exc:
        if order is not None:
            orders.clear_awaiting(order, actor=processing.ACTOR, integration=integration, message=f"iFood refused {label}: {exc}")
        raise
    except Exception as exc:
        if order is not None and directive.attempts >= directive.max_attempts:
            orders.clear_awaiting(
                order, actor=processing.ACTOR, integration=integration, message=f"{label} could not be sent to iFood: {exc}"
            )
        raise
    if order is None:
        return
    if payload["action"] == "deny_cancellation":
        # iFood documents no event for a denial, so its 202 is the outcome: https://developer.ifood.com.br/en-US/docs/guides/modules/order/events
        message = "iFood accepted the denial; the order goes on"
        orders.clear_cancellation_request(order, actor=processing.ACTOR, integration=integration, message=message)
        orders.clear_awaiting(order, actor=processing.ACTOR, integration=integration)
        return
    orders.record(
        order, "action_sent", f"iFood accepted {label} (202); waiting for its event", actor=processing.ACTOR, integration=integration
    )


FETCH_HANDLER = DirectiveHandler(TOPIC_FETCH, fetch_order, schedule=FETCH_SCHEDULE)
ACTION_HANDLER = DirectiveHandler(TOPIC_ACTION, send_action, schedule=ACTION_SCHEDULE)
