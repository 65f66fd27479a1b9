"""Contacts and messages of the messaging hub; times aware UTC, a message's status only ever moves forward."""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from hi.integrations.api import Integration, RedactedTextField
from hi.orders.models import Order
from hi.workspaces.models import Workspace


class Direction(models.TextChoices):
    """Whether the customer sent the message or hi did."""

    IN = "in", "Received"
    OUT = "out", "Sent"


class MessageStatus(models.TextChoices):
    """Where a message is: received, or queued → sent → delivered → read, or failed; uncertain when a send's fate is unknown."""

    RECEIVED = "received", "Received"
    QUEUED = "queued", "Queued"
    #: The request went out but its answer was lost: the provider may have accepted it. The operator decides.
    UNCERTAIN = "uncertain", "Not confirmed"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"


S = MessageStatus
#: The kinds of message the console shows in its own way; others are shown as received (raw).
KNOWN_KINDS = frozenset({
    "text", "template", "image", "audio", "video", "document", "sticker", "location", "contacts", "interactive", "button", "reaction",
})
#: How far along an outgoing message is. A status only replaces a lower one, so notifications arriving late,
#: twice or out of order change nothing: a `delivered` after `read` is ignored, `failed` may follow `sent`, and a
#: `delivered` after `failed` wins (one device failed, another got it).
RANK: dict[str, int] = {S.QUEUED: 0, S.UNCERTAIN: 1, S.SENT: 2, S.FAILED: 3, S.DELIVERED: 4, S.READ: 5}
#: The timestamp each status sets when the message enters it.
STATUS_TIMESTAMPS: dict[str, str] = {S.SENT: "sent_at", S.FAILED: "failed_at", S.DELIVERED: "delivered_at", S.READ: "read_at"}


class Contact(models.Model):
    """A customer of a workspace, known by their phone number (E.164)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="contacts")
    phone = models.CharField(max_length=20)
    #: The provider's id of the customer (WhatsApp's wa_id: the number's digits).
    wa_id = models.CharField(max_length=32, blank=True, default="")
    profile_name = models.CharField(max_length=200, blank=True, default="")
    opted_out = models.BooleanField(default=False)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    #: When the customer last wrote (WhatsApp's customer-service window runs 24 hours from there).
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    #: The latest message either way (the inbox's order).
    last_message_at = models.DateTimeField(null=True, blank=True)
    #: When an operator last opened the conversation (what came in after is unread).
    last_read_at = models.DateTimeField(null=True, blank=True)
    #: The integration the customer last wrote to: replies go out through it.
    last_integration = models.ForeignKey(Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "phone"], name="one_contact_per_phone")]
        indexes = [models.Index(fields=["workspace", "-last_message_at"], name="contact_ws_last_message")]

    def __str__(self) -> str:
        """The profile name, or the phone."""
        return self.profile_name or self.phone

    @property
    def name(self) -> str:
        """What the console calls the customer."""
        return self.profile_name or self.phone


class Message(models.Model):
    """One message to or from a contact, through one integration, maybe about an order."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="messages")
    # Kept (set to null) when the integration is removed: the conversation stays readable.
    integration = models.ForeignKey(Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    #: text, template, image, audio, video, document, sticker, location, contacts, interactive, button, reaction,
    #: unsupported, or a type hi does not know yet (kept as the provider named it, with the raw message).
    kind = models.CharField(max_length=32, default="text")
    #: A text's body, a media's caption, a template's body with its parameters filled in, a reply's title.
    text = models.TextField(blank=True, default="")
    template_name = models.CharField(max_length=512, blank=True, default="")
    template_language = models.CharField(max_length=16, blank=True, default="")
    template_params = models.JSONField(default=list, blank=True)
    #: Media metadata as the provider gave it ({"id", "mime_type", "sha256", "filename"}); the bytes are never kept.
    media = models.JSONField(default=dict, blank=True)
    #: A received message as the provider sent it (types and fields hi does not know are shown from here).
    raw = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=MessageStatus.choices)
    error_code = models.CharField(max_length=32, blank=True, default="")
    error_title = models.CharField(max_length=255, blank=True, default="")
    error_details = RedactedTextField(blank=True, default="")
    provider_message_id = models.CharField(max_length=255, blank=True, default="")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    #: What an automatic notification is for ("order:<ref>:confirmed"): unique per workspace, so never sent twice.
    notification_key = models.CharField(max_length=120, blank=True, default="")
    #: Set when a send began at the provider; a send found begun but unfinished may have reached it (uncertain).
    send_started_at = models.DateTimeField(null=True, blank=True)
    #: An uncertain message the operator sent again: the new message.
    replaced_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    #: When the customer sent a received message (the provider's time).
    received_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "provider_message_id"], condition=~Q(provider_message_id=""), name="one_message_per_provider_id"
            ),
            models.UniqueConstraint(
                fields=["workspace", "notification_key"], condition=~Q(notification_key=""), name="one_notification_per_key"
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "created_at"], name="message_contact_created"),
            models.Index(fields=["workspace", "-created_at"], name="message_ws_created"),
            # Status notifications look messages up by the provider's id (SQLite cannot use the partial unique index).
            models.Index(fields=["integration", "provider_message_id"], name="message_provider_id"),
        ]

    def __str__(self) -> str:
        """The direction, kind and id."""
        return f"{self.direction} {self.kind} {self.pk}"

    @property
    def rank(self) -> int:
        """How far along the message is (received messages: -1)."""
        return RANK.get(self.status, -1)

    @property
    def awaits_operator(self) -> bool:
        """An uncertain send nobody has decided about yet (Retry or Mark as sent)."""
        return self.status == S.UNCERTAIN and self.replaced_by_id is None

    @property
    def known_kind(self) -> bool:
        """Whether the console knows this kind of message (others are shown as received)."""
        return self.kind in KNOWN_KINDS

    @property
    def preview(self) -> str:
        """One line for lists: the text, the template's name, or the kind."""
        if self.text:
            return self.text
        if self.template_name:
            return f"Template {self.template_name}"
        return f"({self.kind})"
