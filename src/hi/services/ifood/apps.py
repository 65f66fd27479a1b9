"""Django app configuration for the iFood service."""
from django.apps import AppConfig


class IFoodConfig(AppConfig):
    """The iFood service's app."""

    name = "hi.services.ifood"
    label = "ifood"
    verbose_name = "iFood"
