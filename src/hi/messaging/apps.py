"""Django app configuration for the messaging hub."""
from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """The messaging hub's app."""

    name = "hi.messaging"
    label = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        """Register the hub's system checks; put the hub's events in the catalog, and its panel on the order page."""
        from hi.orders.panels import OrderPanel, register_panel

        from . import checks  # noqa: F401 - registers the message-channel check
        from .catalog import register_events
        from .views import order_panel

        register_events()
        register_panel(OrderPanel("messages", order_panel, position=50))
