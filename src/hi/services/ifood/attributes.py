"""An iFood integration's configuration: the app credential, its merchants and how events arrive."""
from hi.integrations.api import AttributeSpec, AttributeType, ValueType

PRODUCTION_URL = "https://merchant-api.ifood.com.br"
#: The events module's documented prefix, and the older one many working clients still call (both serve the
#: same queue; docs/services/ifood.md, "What hi relies on"): https://developer.ifood.com.br/pt-BR/docs/guides/modules/events/intro
EVENTS_PREFIXES = (("/events/v1.0", "/events/v1.0 (current docs)"), ("/order/v1.0", "/order/v1.0 (older clients)"))


class IFoodAttribute(AttributeType):
    """Attributes of an iFood integration (keys as used by `integration add ifood --set`)."""

    CLIENT_ID = AttributeSpec(
        key="client_id",
        label="Client id",
        help="The app credential's clientId from the iFood Developer Portal (a centralized app).",
        credential=True,
    )
    CLIENT_SECRET = AttributeSpec(
        key="client_secret",
        label="Client secret",
        value_type=ValueType.SECRET,
        help="The credential's clientSecret; it also signs iFood's webhooks. Stored encrypted and never shown.",
        credential=True,
    )
    MERCHANT_IDS = AttributeSpec(
        key="merchant_ids",
        label="Merchant ids",
        help="Comma-separated merchant (store) UUIDs this credential serves; hi polls their events.",
    )
    API_BASE_URL = AttributeSpec(
        key="api_base_url",
        label="API base URL",
        value_type=ValueType.URL,
        help="The Merchant API host. Keep the production host unless you point hi at a simulator or a homologation host.",
        default=PRODUCTION_URL,
    )
    EVENT_MODE = AttributeSpec(
        key="event_mode",
        label="Event mode",
        value_type=ValueType.CHOICE,
        help="Polling: hi asks iFood for events every 30 s. Webhook: iFood posts them to hi's receive URL (set it in the portal).",
        default="polling",
        choices=(("polling", "Polling (every 30 s)"), ("webhook", "Webhook (iFood posts to hi)")),
    )
    EVENTS_PREFIX = AttributeSpec(
        key="events_prefix",
        label="Events path prefix",
        value_type=ValueType.CHOICE,
        help="Where the polling and acknowledgment endpoints live; iFood documents both.",
        default="/events/v1.0",
        choices=EVENTS_PREFIXES,
    )
