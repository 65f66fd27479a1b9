"""The voucher provider's configuration: its API, the key and signing secret hi uses there, and which SKUs are airtime products."""
from __future__ import annotations

import re

from hi.integrations.api import AttributeSpec, AttributeType, ValueType

#: A SKU or a provider's product id: up to 100 characters, none of them a space, a comma or =.
TOKEN = re.compile(r"^[^\s=,]{1,100}$")


class AirtimeAttribute(AttributeType):
    """Attributes of an airtime integration (keys as used by `integration add airtime --set`)."""

    API_BASE_URL = AttributeSpec(
        key="api_base_url", label="API base URL", value_type=ValueType.URL,
        help="Where the voucher provider's API answers (its simulator: manage.py hi_simulator airtime).",
    )
    API_KEY = AttributeSpec(
        key="api_key", label="API key", value_type=ValueType.SECRET, credential=True,
        help="The key the provider issued for this account; hi sends it in the X-API-Key header.",
    )
    SIGNING_SECRET = AttributeSpec(
        key="signing_secret", label="Signing secret", value_type=ValueType.SECRET,
        help="The secret hi signs every request body with (hex HMAC-SHA256 in X-Signature); the provider checks it.",
    )
    PRODUCT_MAP = AttributeSpec(
        key="product_map", label="Airtime products", value_type=ValueType.TEXT,
        help="Which of your SKUs are airtime, and the provider's product for each: AIR-CLARO-10=claro-br, AIR-VIVO-20=vivo-br",
        affects_connection=False,  # read when an order is confirmed: a change needs no connection test
    )


def parse_product_map(text: str) -> dict[str, str]:
    """{SKU: provider product id} from "SKU=product" pairs separated by commas or new lines; ValueError saying what is wrong."""
    products: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in re.split(r"[,\n]", text or ""))):
        sku, equals, product = (part.strip() for part in pair.partition("="))
        if not equals or not TOKEN.match(sku) or not TOKEN.match(product):
            raise ValueError(f"{pair[:60]!r} is not SKU=product (no spaces, commas or = inside either).")
        if sku in products:
            raise ValueError(f"SKU {sku} is given twice.")
        products[sku] = product
    if not products:
        raise ValueError("Give at least one SKU=product pair.")
    return products
