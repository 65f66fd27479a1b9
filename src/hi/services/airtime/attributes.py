"""Airtime vouchers's configuration: where its API answers and the key hi sends it."""
from hi.integrations.api import AttributeSpec, AttributeType, ValueType


class AirtimeAttribute(AttributeType):
    """Attributes of a Airtime vouchers integration (keys as used by `integration add airtime --set`)."""

    API_BASE_URL = AttributeSpec(
        key="api_base_url",
        label="API base URL",
        value_type=ValueType.URL,
        help="Where Airtime vouchers's API answers, e.g. https://api.example.com (its simulator: manage.py hi_simulator airtime).",
    )
    API_KEY = AttributeSpec(
        key="api_key",
        label="API key",
        value_type=ValueType.SECRET,
        help="The key Airtime vouchers issued for this account; hi sends it in the X-API-Key header.",
        credential=True,
    )
