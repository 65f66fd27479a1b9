"""Django app configuration for the webhooks service."""
from django.apps import AppConfig


class WebhookConfig(AppConfig):
    """The webhooks service's app."""

    name = "hi.services.webhook"
    label = "webhook"
    verbose_name = "Webhooks"
