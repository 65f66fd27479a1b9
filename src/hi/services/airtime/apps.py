"""Django app configuration for the airtime service: its events in the catalog, its codes in key rotation, its panel on the order page."""
from django.apps import AppConfig

EXAMPLE = {"order": "ORD-20261203-7KQ2M9XD", "reference": "ORD-20261203-7KQ2M9XD:1:1", "transaction_id": "tx-000042", "sku": "AIR-CLARO-10",
           "product_id": "claro-br", "amount": "10.00", "currency": "BRL", "code": "••••4821", "message": "Voucher issued."}


class AirtimeConfig(AppConfig):
    """The airtime service's app."""

    name = "hi.services.airtime"
    label = "airtime"
    verbose_name = "Airtime vouchers"

    def ready(self) -> None:
        """Catalog voucher.issued and voucher.failed; have hi_rotate_keys re-encrypt the codes; show vouchers on the order page."""
        from hi.integrations.api import register_encrypted_field, register_event_type
        from hi.orders.panels import OrderPanel, register_panel

        from .pane import order_panel

        register_encrypted_field("airtime.Voucher", "code")
        register_event_type("voucher.issued", "An airtime voucher was bought for one unit of a confirmed order's line; `code` shows "
                            "only its last 4 characters (hi keeps the code encrypted); `amount` is a decimal string.", EXAMPLE)
        register_event_type("voucher.failed", "An airtime voucher could not be bought (the provider refused it, or the order has "
                            "no usable phone number); `message` says why.",
                            {**EXAMPLE, "code": "", "message": "The operator refused the top-up."})
        register_panel(OrderPanel("airtime", order_panel, position=60))
