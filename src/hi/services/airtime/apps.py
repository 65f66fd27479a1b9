"""Django app configuration for the Airtime vouchers service."""
from django.apps import AppConfig


class AirtimeConfig(AppConfig):
    """The Airtime vouchers service's app."""

    name = "hi.services.airtime"
    label = "airtime"
    verbose_name = "Airtime vouchers"
