"""The WhatsApp service's directive and event hook: sends paced per customer, and order notifications."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from hi.integrations.api import (
    DirectiveHandler,
    Event,
    EventHook,
    Integration,
    IntegrationState,
    attribute_values,
    enqueue,
)
from hi.messaging import api
from hi.messaging.channels import MessageRefused, TemplateSend
from hi.messaging.models import Message
from hi.messaging.phones import InvalidPhone, digits, personal
from hi.orders.models import Order

from .client import PAIR_RATE_S
from .models import Pace, phone_of
from .notifications import order_parameters, parse_notifications
from .sending import send_message
from .message_templates import placeholder_count

logger = logging.getLogger(__name__)
TOPIC_SEND = "whatsapp.send"
#: Retries: the first waits the pair rate (6 s), then longer; a rate limit's own wait wins when longer.
SEND_SCHEDULE = (6, 30, 120, 600, 1800, 3600, 7200, 21600)
SEND_HANDLER = DirectiveHandler(TOPIC_SEND, send_message, schedule=SEND_SCHEDULE)


def queue_send(integration: Integration, message: Message) -> None:
    """Queue the send, at least PAIR_RATE_S after the previous one to the same customer (in the caller's transaction)."""
    now = timezone.now()
    wa_id = digits(message.contact.phone)
    with transaction.atomic():
        pace, _ = Pace.objects.select_for_update().get_or_create(integration=integration, wa_id=wa_id, defaults={"next_send_at": now})
        run_at = max(now, pace.next_send_at)
        Pace.objects.filter(pk=pace.pk).update(next_send_at=run_at + timedelta(seconds=PAIR_RATE_S))
        enqueue(integration, TOPIC_SEND, {"message": message.pk}, run_at=run_at, dedupe_key=f"message:{message.pk}")


def _store_name(integration: Integration) -> str:
    """The business's name for templates: the number's verified name, else the integration's name."""
    return phone_of(integration).verified_name or integration.name


def notify_order(event: Event, integration: Integration) -> None:
    """An order event whose status the operator mapped to a template: send it to the order's customer, once."""
    if event.type not in ("order.created", "order.status_changed") or integration.state != IntegrationState.ACTIVE:
        return
    status = event.data.get("status") if event.type == "order.created" else event.data.get("new_status")
    try:
        target = parse_notifications(attribute_values(integration).get("notifications") or "").get(str(status))
    except ValueError:
        return  # validated on save; an older value that no longer parses sends nothing
    if target is None:
        return
    order = Order.objects.filter(workspace_id=integration.workspace_id, ref=event.data.get("ref")).first()
    if order is None or not order.customer_phone:
        return
    try:
        contact = api.contact_for(integration.workspace_id, personal(order.customer_phone))
    except InvalidPhone:
        # A marketplace's masked number (iFood's 0800 and localizer) or no number at all: nobody to write to.
        logger.info("Order %s: no notification, its customer phone is not a number hi can send to.", order.ref)
        return
    if contact.opted_out:
        return
    params = order_parameters(order, _store_name(integration))
    count = placeholder_count(integration, target.template, target.language)
    template = TemplateSend(target.template, target.language, tuple(params[:count] if count is not None else params))
    try:
        api.queue_outbound(
            integration, contact, template=template, order=order, actor="notifications",
            notification_key=f"order:{order.ref}:{status}",
        )
    except MessageRefused as exc:
        logger.info("Order %s: notification %s not sent: %s", order.ref, target.template, exc)


NOTIFY_HOOK = EventHook("order.*", notify_order)
