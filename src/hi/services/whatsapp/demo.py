"""WhatsApp's part in `make run`'s demo: the simulator, whose customers answer, and "WhatsApp (demo)" notifying new orders' customers."""
# `manage.py hi_demo` reads DEMO for scripts/run.sh (the simulator's options) and `hi_setup --demo` adds the
# integration through the console's validated flow, once (see DemoSeed); it comes after iFood's, whose orders
# it notifies (their customers give their own numbers: the iFood demo's CUSTOMER_PHONES). The simulator posts
# its notifications to the integration's receive URL, which exists only once the integration does: connect()
# tells the running simulator where it is (and the verify token hi generated) through its control endpoint,
# after adding and on every later run (a restarted simulator forgets).
from __future__ import annotations

from typing import Any

from hi.integrations.api import DemoSeed, Integration, ProviderClient, attribute_values, receive_url

from .simulator import DEFAULT_ACCESS_TOKEN, DEFAULT_APP_SECRET

NAME = "WhatsApp (demo)"
#: The simulator's demo business (its defaults).
PHONE_NUMBER_ID = "106540352242922"
BUSINESS_ACCOUNT_ID = "102290129340398"
#: Each new demo order sends its customer the confirmation; a dispatched or cancelled one says so too.
NOTIFICATIONS = "new=order_confirmed, dispatched=order_dispatched, cancelled=order_cancelled"
#: Customers read the confirmations and answer "Obrigado!" half the time; statuses 2 s apart.
SIMULATOR_ARGUMENTS = ("--reply-probability", "0.5", "--status-delay", "2")


def attributes(url: str) -> dict[str, Any]:
    """The demo integration's raw attributes against the simulator at `url` (the verify token is generated)."""
    return {
        "phone_number_id": PHONE_NUMBER_ID, "business_account_id": BUSINESS_ACCOUNT_ID, "access_token": DEFAULT_ACCESS_TOKEN,
        "app_secret": DEFAULT_APP_SECRET, "api_base_url": url, "api_version": "v23.0", "notifications": NOTIFICATIONS,
    }


def connect(integration: Integration, url: str) -> None:
    """Tell the running simulator where hi receives notifications and which verify token to present."""
    knobs = {"callback_url": receive_url(integration), "verify_token": attribute_values(integration).get("verify_token") or ""}
    ProviderClient("whatsapp-simulator", url).request("POST", "/_simulator/faults", json=knobs)


def running() -> str:
    """What `make run` says about the WhatsApp demo."""
    return "WhatsApp demo: each new order's customer gets a confirmation; their answers arrive under Messages"


DEMO = DemoSeed(
    port=8003,
    port_variable="HI_WHATSAPP_DEMO_PORT",
    simulator_arguments=lambda: SIMULATOR_ARGUMENTS,
    running=running,
    name=NAME,
    unique_id=PHONE_NUMBER_ID,
    attributes=attributes,
    connect=connect,
    added="new demo orders send their customer a WhatsApp confirmation, and answers arrive under Messages.",
)
