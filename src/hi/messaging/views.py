"""Console pages of the messaging hub: the inbox, a conversation with its reply box, uncertain sends, media, the order panel."""
from __future__ import annotations

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from hi.integrations.api import Integration, actor_of, failure_text, partial
from hi.orders.models import Order
from hi.workspaces.access import workspace_required
from hi.workspaces.models import Role

from . import api
from .channels import MediaUnavailable, MessageRefused, channel_for, templates_for
from .forms import ReplyForm, TemplateForm
from .models import Contact, Direction
from .queries import contact_for_request, conversations, last_messages, message_for_request

PAGE_SIZE = 50
THREAD_SIZE = 200
#: Media types served as they are; anything else is a download of unknown type (never rendered by the browser).
SAFE_MEDIA = ("image/jpeg", "image/png", "image/webp", "audio/", "video/mp4", "video/3gpp", "application/pdf")


@workspace_required()
def inbox(request: HttpRequest) -> HttpResponse:
    """Conversations, newest first, with unread counts; htmx refreshes the list."""
    page = Paginator(conversations(request.workspace), PAGE_SIZE).get_page(request.GET.get("page"))
    latest = last_messages(list(page.object_list))
    rows = [{"contact": c, "last": latest.get(c.pk)} for c in page.object_list]
    senders = Integration.objects.filter(workspace=request.workspace)
    context = {"page": page, "rows": rows, "has_channel": any(channel_for(i) for i in senders)}
    return render(request, partial(request, "messaging/inbox.html", "list"), context)


def sender_for(contact: Contact) -> Integration | None:
    """The integration replies go out through: the one the customer last wrote to, else the workspace's first channel."""
    if contact.last_integration is not None and channel_for(contact.last_integration) is not None:
        return contact.last_integration
    for integration in Integration.objects.filter(workspace_id=contact.workspace_id).order_by("name"):
        if channel_for(integration) is not None:
            return integration
    return None


def thread_context(contact: Contact, reply: ReplyForm | None = None, template_form: TemplateForm | None = None) -> dict:
    """Everything the conversation page shows."""
    sender = sender_for(contact)
    templates = templates_for(sender)
    shown = list(contact.messages.select_related("order", "integration").order_by("-created_at", "-id")[:THREAD_SIZE])[::-1]
    return {
        "contact": contact,
        "thread": shown,
        "sender": sender,
        "window_open": api.window_open(contact, integration=sender) if sender else False,
        "window_closes_at": api.window_closes_at(contact, sender) if sender else None,
        "templates": templates,
        "reply_form": reply or ReplyForm(),
        "template_form": template_form or TemplateForm(templates=templates),
    }


@workspace_required()
def thread(request: HttpRequest, pk: int) -> HttpResponse:
    """One conversation: each message with its status and failure reason, and the reply box; opening it reads it."""
    contact = contact_for_request(request, pk)
    Contact.objects.filter(pk=contact.pk).update(last_read_at=timezone.now())
    return render(request, partial(request, "messaging/thread.html", "messages"), thread_context(contact))


@require_POST
@workspace_required(Role.OPERATOR)
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a free-form reply (within the window) or an approved template; a refusal is a form error, nothing sent."""
    contact = contact_for_request(request, pk)
    sender = sender_for(contact)
    reply_form, template_form = None, None
    if request.POST.get("kind") == "template":
        template_form = TemplateForm(request.POST, templates=templates_for(sender))
        form = template_form
    else:
        reply_form = ReplyForm(request.POST)
        form = reply_form
    if sender is None:
        form.add_error(None, "No integration of this workspace can send messages.")
    elif form.is_valid():
        try:
            if template_form is not None:
                api.queue_outbound(sender, contact, template=template_form.template_send(), actor=actor_of(request))
            else:
                api.queue_outbound(sender, contact, text=form.cleaned_data["text"], actor=actor_of(request))
        except MessageRefused as exc:
            form.add_error(None, str(exc))
        else:
            flash.success(request, f"Queued for {contact.name}; its status shows below as WhatsApp reports it.")
            return redirect("messaging-thread", contact.pk)
    context = thread_context(contact, reply_form, template_form)
    return render(request, "messaging/thread.html", context, status=422)


@require_POST
@workspace_required(Role.OPERATOR)
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Send an uncertain message again, as a new message (the operator decided the customer did not get it)."""
    message = message_for_request(request, pk)
    try:
        new = api.retry(message, actor=actor_of(request))
    except MessageRefused as exc:
        flash.error(request, str(exc))
    else:
        flash.success(request, f"Sent again as message {new.pk}.")
    return redirect("messaging-thread", message.contact_id)


@require_POST
@workspace_required(Role.OPERATOR)
def mark_sent(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark an uncertain message as sent (the operator knows the customer got it)."""
    message = message_for_request(request, pk)
    try:
        api.confirm_sent(message, actor=actor_of(request))
    except MessageRefused as exc:
        flash.error(request, str(exc))
    else:
        flash.success(request, f"Message {message.pk} marked as sent.")
    return redirect("messaging-thread", message.contact_id)


@workspace_required()
def media(request: HttpRequest, pk: int) -> HttpResponse:
    """A received message's media, fetched from the provider now and streamed (hi keeps no copy)."""
    message = message_for_request(request, pk)
    gateway = channel_for(message.integration)
    if message.direction != Direction.IN or not (message.media or {}).get("id") or gateway is None:
        return render(
            request, "messaging/media_error.html", {"message": message, "problem": "This message has no media hi can fetch."}, status=404
        )
    try:
        content = gateway.open_media(message.integration, message)
    except MediaUnavailable as exc:
        return render(request, "messaging/media_error.html", {"message": message, "problem": str(exc)}, status=502)
    except Exception as exc:  # noqa: BLE001 - shown to the operator, never a 500
        problem = f"The media could not be fetched: {failure_text(message.integration, exc)}"
        return render(request, "messaging/media_error.html", {"message": message, "problem": problem}, status=502)
    kind = content.content_type if content.content_type.startswith(SAFE_MEDIA) else "application/octet-stream"
    response = StreamingHttpResponse(content.stream(), content_type=kind)
    if content.size is not None:
        response["Content-Length"] = str(content.size)
    response["Content-Disposition"] = f'attachment; filename="message-{message.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"  # customers' media stays with the provider, not in caches
    return response


def order_panel(request: HttpRequest, order: Order) -> str:
    """The order page's Messages panel: what hi sent the customer about the order and what they answered."""
    shown = list(order.messages.select_related("contact").order_by("created_at", "id")[:50])
    if not shown and not any(channel_for(i) for i in Integration.objects.filter(workspace_id=order.workspace_id)):
        return ""  # no messaging integration: nothing to say about messages
    return render_to_string("messaging/order_panel.html", {"order": order, "order_messages": shown}, request=request)


@workspace_required()
def order_messages(request: HttpRequest, ref: str) -> HttpResponse:
    """The order page's Messages panel alone, for its live refresh."""
    order = get_object_or_404(Order, ref=ref, workspace=request.workspace)
    return HttpResponse(order_panel(request, order))

