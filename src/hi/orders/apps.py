"""Django app configuration for the orders hub."""
from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """The orders hub's app."""

    name = "hi.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        """Register the hub's system checks; put the events it publishes in the catalog (so webhooks and hooks can subscribe to them)."""
        from hi.integrations.api import register_event_type

        from . import checks  # noqa: F401 - registers the order-source check

        register_event_type(
            "order.created",
            "An order arrived from an integration or was created by hand in the console; "
            "`source` is the integration's id (null for a hand-made order) and money is in integer cents.",
            {
                "ref": "ORD-20261203-7KQ2M9XD",
                "source": "0b6f3f0e-3c1e-4d7b-9f51-8a1d2f3c4b5a",
                "source_type": "ifood",
                "external_id": "2c5f4b3e-1d2a-4c3b-8e9f-0a1b2c3d4e5f",
                "display_id": "4821",
                "type": "delivery",
                "status": "new",
                "customer_name": "Ana Souza",
                "total_q": 5890,
                "currency": "BRL",
                "items": 3,
            },
        )
        register_event_type(
            "order.status_changed",
            "An order moved from one status to another (new, confirmed, preparing, ready, dispatched, delivered, "
            "completed, cancelled); `at` is when it happened.",
            {
                "ref": "ORD-20261203-7KQ2M9XD",
                "source": "0b6f3f0e-3c1e-4d7b-9f51-8a1d2f3c4b5a",
                "external_id": "2c5f4b3e-1d2a-4c3b-8e9f-0a1b2c3d4e5f",
                "display_id": "4821",
                "old_status": "new",
                "new_status": "confirmed",
                "at": "2026-12-03T12:04:31+00:00",
            },
        )
