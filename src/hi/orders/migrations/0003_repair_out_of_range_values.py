"""Repair order rows older versions stored out of range: item quantities the ORM cannot read back, text past its column."""
# SQLite does not enforce a DecimalField's digits or a CharField's length, so before the hub bounded
# its data (hi.orders.data.bounded) an item quantity of 1e30 was stored and then every page and
# `orders list` reading it failed, and a 5,000,000-character name was kept whole. PostgreSQL refused
# both at insert, so there this migration finds nothing.
from decimal import Decimal

from django.db import migrations
from django.db.models import Q
from django.db.models.functions import Length, Substr

#: The largest quantity DecimalField(max_digits=12, decimal_places=3) reads back.
READABLE = Decimal("999999999.999")
#: {model: {column: size}} of the text columns a provider fills.
TEXT_COLUMNS = {
    "Order": {"display_id": 40, "customer_name": 200, "customer_phone": 60, "external_id": 100},
    "OrderItem": {"sku": 100, "name": 255},
}


def repair(apps, schema_editor) -> None:
    """Set unreadable quantities to 0, saying so in the order's history, and cut text to its column."""
    order_item = apps.get_model("orders", "OrderItem")
    order_event = apps.get_model("orders", "OrderEvent")
    unreadable = order_item.objects.filter(Q(quantity__gt=READABLE) | Q(quantity__lt=-READABLE))
    for pk, order_id, name in list(unreadable.values_list("pk", "order_id", "name")):
        order_item.objects.filter(pk=pk).update(quantity=0)
        order_event.objects.create(
            order_id=order_id, kind="data_adjusted", actor="hi",
            message=f"Item “{name[:60]}” had a quantity out of range that could not be read; hi set it to 0 when upgrading.",
        )
    for model_name, columns in TEXT_COLUMNS.items():
        model = apps.get_model("orders", model_name)
        for column, size in columns.items():
            model.objects.annotate(length=Length(column)).filter(length__gt=size).update(**{column: Substr(column, 1, size)})


class Migration(migrations.Migration):
    """Data only: no schema change."""

    dependencies = [
        ("orders", "0002_order_source_external_id_index"),
    ]

    operations = [
        migrations.RunPython(repair, migrations.RunPython.noop),
    ]
