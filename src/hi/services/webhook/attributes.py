"""A webhook endpoint's configuration."""
from hi.integrations.api import AttributeSpec, AttributeType, ValueType, standard_webhooks


class WebhookAttribute(AttributeType):
    """Attributes of a webhook integration (keys as used by `integration add webhook --set`)."""

    URL = AttributeSpec(
        key="url",
        label="Endpoint URL",
        value_type=ValueType.URL,
        help="Where hi POSTs each event (https; internal addresses only when HI_OUTBOUND_ALLOWED_NETWORKS allows them).",
    )
    EVENTS = AttributeSpec(
        key="events",
        label="Events",
        value_type=ValueType.TEXT,
        help="Comma-separated event types to send: exact names and wildcards like order.*; * sends every event.",
        default="*",
        # Read at each event: a new filter needs no ping and no reload.
        affects_connection=False,
    )
    SECRET = AttributeSpec(
        key="secret",
        label="Signing secret",
        value_type=ValueType.SECRET,
        help="The Standard Webhooks secret (whsec_…) the receiver verifies signatures with.",
        required=False,
        # Only signatures made with it leave hi: a new URL does not ask for it again.
        transmitted=False,
        # The add form proposes one, so the receiver can be configured with it before the signed test.
        generator=standard_webhooks.generate_secret,
    )
    HEADERS = AttributeSpec(
        key="headers",
        label="Extra headers",
        value_type=ValueType.SECRET,
        help=(
            'Optional headers sent with every delivery, as a JSON object: {"Authorization": "Bearer …"}. '
            "Stored encrypted and never shown."
        ),
        required=False,
    )
    DESCRIPTION = AttributeSpec(
        key="description",
        label="Description",
        value_type=ValueType.TEXT,
        help="What this endpoint is for (shown to operators only).",
        required=False,
        affects_connection=False,
    )
