"""A WhatsApp integration's configuration: the phone number, the account, the token, the secrets and the notifications."""
import secrets

from hi.integrations.api import AttributeSpec, AttributeType, ValueType

GRAPH_URL = "https://graph.facebook.com"
#: A current Graph API version (Meta supports each for about two years).
GRAPH_VERSION = "v23.0"


def generate_verify_token() -> str:
    """A fresh verify token for Meta's GET verification (the operator types it in the App Dashboard)."""
    return secrets.token_urlsafe(24)


class WhatsAppAttribute(AttributeType):
    """Attributes of a WhatsApp integration (keys as used by `integration add whatsapp --set`)."""

    PHONE_NUMBER_ID = AttributeSpec(
        key="phone_number_id",
        label="Phone number id",
        help=(
            "WhatsApp Manager or the App Dashboard's WhatsApp › API Setup: "
            "the id of the business phone number (digits, not the number itself)."
        ),
        credential=True,
    )
    BUSINESS_ACCOUNT_ID = AttributeSpec(
        key="business_account_id",
        label="WhatsApp Business Account id",
        help="The WABA id shown beside the phone number in API Setup; its message templates are read from there.",
    )
    ACCESS_TOKEN = AttributeSpec(
        key="access_token",
        label="Access token",
        value_type=ValueType.SECRET,
        help="A System User's permanent token (Business Settings › System users) with whatsapp_business_messaging and "
        "whatsapp_business_management. The App Dashboard's temporary token expires within a day. Stored encrypted.",
        credential=True,
    )
    APP_SECRET = AttributeSpec(
        key="app_secret",
        label="App secret",
        value_type=ValueType.SECRET,
        help="App Dashboard › App settings › Basic › App secret: Meta signs every notification with it (X-Hub-Signature-256).",
        # Only signatures made with it cross the network.
        transmitted=False,
    )
    VERIFY_TOKEN = AttributeSpec(
        key="verify_token",
        label="Verify token",
        value_type=ValueType.SECRET,
        help="What you type as Verify token beside the callback URL in the App Dashboard (WhatsApp › Configuration). "
        "Leave blank and hi makes one, shown once after adding.",
        required=False,
        transmitted=False,
        affects_connection=False,
        generator=generate_verify_token,
    )
    API_BASE_URL = AttributeSpec(
        key="api_base_url",
        label="Graph API URL",
        value_type=ValueType.URL,
        help="Meta's Graph host. Keep it unless you point hi at a simulator.",
        default=GRAPH_URL,
    )
    API_VERSION = AttributeSpec(
        key="api_version",
        label="Graph API version",
        help="Like v23.0; Meta retires each version about two years after its release.",
        default=GRAPH_VERSION,
    )
    NOTIFICATIONS = AttributeSpec(
        key="notifications",
        label="Order notifications",
        help="Which order status sends which approved template to the customer: status=template, comma-separated, "
        "with :language when not pt_BR (e.g. confirmed=order_confirmed, dispatched=order_dispatched:en_US). "
        "Statuses: new, confirmed, preparing, ready, dispatched, delivered, completed, cancelled. Blank sends none.",
        required=False,
        # Read at each order event: a new mapping needs no connection test and no reload.
        affects_connection=False,
    )
