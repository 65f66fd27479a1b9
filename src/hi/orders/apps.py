"""Django app configuration for the orders hub."""
from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """The orders hub's app."""

    name = "hi.orders"
    label = "orders"
    verbose_name = "Orders"
