"""The demo provider's configuration."""
from hi.integrations.api import AttributeSpec, AttributeType, ValueType


class DemoAttribute(AttributeType):
    """Attributes of a demo integration (keys as used by `integration add demo --set`)."""

    API_URL = AttributeSpec(
        key="api_url",
        label="API URL",
        value_type=ValueType.URL,
        help="Where the demo provider answers; make run starts one on http://127.0.0.1:8001 (and allows loopback for it).",
        default="http://127.0.0.1:8001",
    )
    API_KEY = AttributeSpec(
        key="api_key",
        label="API key",
        value_type=ValueType.SECRET,
        help="The demo provider accepts demo-key (account acct-demo) and demo-key-2 (acct-second).",
        credential=True,
    )
    CATALOG = AttributeSpec(
        key="catalog",
        label="Catalog",
        value_type=ValueType.CHOICE,
        help="Which items to sync: only those on sale, or every item including archived ones.",
        choices=(("active", "Items on sale"), ("all", "All items")),
        default="active",
    )
    PAGE_SIZE = AttributeSpec(
        key="page_size",
        label="Page size",
        value_type=ValueType.INTEGER,
        help="Items fetched per request while syncing.",
        default="100",
        min_value=1,
        max_value=500,
    )
    SYNC_ON_ACTIVATE = AttributeSpec(
        key="sync_on_activate",
        label="Sync on activation",
        value_type=ValueType.BOOLEAN,
        help="Fetch the items as soon as the integration is activated.",
        required=False,
        default="true",
    )
    FORWARD_EVENTS = AttributeSpec(
        key="forward_events",
        label="Forward events",
        value_type=ValueType.BOOLEAN,
        help="Send each of hi's events in this workspace to the demo provider as a note.",
        required=False,
        default="false",
    )
    LIVE_UPDATES = AttributeSpec(
        key="live_updates",
        label="Live item updates",
        value_type=ValueType.BOOLEAN,
        help="Hold a websocket open to the provider (in the worker) and apply item changes as they happen.",
        required=False,
        default="false",
    )
