"""Django app configuration for the webhooks service."""
from django.apps import AppConfig


class WebhookConfig(AppConfig):
    """The webhooks service's app."""

    name = "hi.services.webhook"
    label = "webhook"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        """Put the event this service publishes in the catalog; have key rotation cover retired secrets."""
        from hi.integrations.api import register_encrypted_field, register_event_type

        register_encrypted_field("webhook.RetiredSecret", "value")
        register_event_type(
            "webhook.received",
            "A webhook endpoint received a verified Standard Webhooks request; `type` and `payload` are what the sender sent; "
            "`via` lists the hi installations it came through (its Hi-Origin header), empty when the sender is not hi.",
            {
                "integration": "5d0c8d4e-2f7a-4f0e-9a8b-1c2d3e4f5a6b",
                "name": "n8n",
                "webhook_id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
                "type": "invoice.paid",
                "payload": {
                    "type": "invoice.paid", "timestamp": "2026-12-03T10:00:00Z", "data": {"invoice": "INV-1042", "amount": "129.90"}
                },
                "via": [],
            },
        )
