"""Django app configuration for the demo service."""
from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo provider's app."""

    name = "hi.services.demo"
    label = "demo"
    verbose_name = "Demo provider"
