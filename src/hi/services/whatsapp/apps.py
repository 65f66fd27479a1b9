"""Django app configuration for the WhatsApp service."""
from django.apps import AppConfig


class WhatsAppConfig(AppConfig):
    """The WhatsApp service's app."""

    name = "hi.services.whatsapp"
    label = "whatsapp"
    verbose_name = "WhatsApp"
