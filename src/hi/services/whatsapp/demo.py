"""The WhatsApp demo `make run` adds: an integration on the simulator, notifying each demo iFood order's customer."""
# `make run` starts the simulator (`hi_simulator whatsapp`, customers who sometimes answer "Obrigado!") and the
# iFood simulator with customers' own numbers; `hi_setup --demo` calls seed(). The simulator posts its
# notifications to the integration's receive URL, which exists only once the integration does: connect() tells
# the running simulator where it is (and the verify token hi generated) through its control endpoint.
from __future__ import annotations

from typing import Any

from hi.integrations.api import (
    Integration,
    IntegrationType,
    ProviderClient,
    add_integration,
    attribute_values,
    receive_url,
)

from .simulator import DEFAULT_ACCESS_TOKEN, DEFAULT_APP_SECRET

NAME = "WhatsApp (demo)"
#: The simulator's demo business (its defaults).
PHONE_NUMBER_ID = "106540352242922"
BUSINESS_ACCOUNT_ID = "102290129340398"
#: Each new demo order sends its customer the confirmation; a dispatched or cancelled one says so too.
NOTIFICATIONS = "new=order_confirmed, dispatched=order_dispatched, cancelled=order_cancelled"
#: The demo customers' own numbers, given to the iFood simulator (`--customer-phone`) by `make run`.
CUSTOMER_PHONES = ("+55 11 98765-4321", "+55 21 99876-5432", "+55 31 98888-7777", "+55 41 99123-4567")


def attributes(url: str) -> dict[str, Any]:
    """The demo integration's raw attributes against the simulator at `url` (the verify token is generated)."""
    return {
        "phone_number_id": PHONE_NUMBER_ID, "business_account_id": BUSINESS_ACCOUNT_ID, "access_token": DEFAULT_ACCESS_TOKEN,
        "app_secret": DEFAULT_APP_SECRET, "api_base_url": url, "api_version": "v23.0", "notifications": NOTIFICATIONS,
    }


def existing(workspace) -> Integration | None:
    """The demo's integration in the workspace, if it was added before."""
    return Integration.objects.filter(workspace=workspace, integration_type=IntegrationType.WHATSAPP.type_id, unique_id=PHONE_NUMBER_ID).first()


def connect(integration: Integration, url: str) -> None:
    """Tell the running simulator where hi receives notifications and which verify token to present."""
    knobs = {"callback_url": receive_url(integration), "verify_token": attribute_values(integration).get("verify_token") or ""}
    ProviderClient("whatsapp-simulator", url).request("POST", "/_simulator/faults", json=knobs)


def seed(workspace, url: str, *, actor: str = "hi_setup --demo") -> Integration:
    """Add the demo integration through the console's validated flow, and connect the simulator to it."""
    integration = add_integration(workspace, IntegrationType.WHATSAPP, NAME, attributes(url), actor=actor)
    connect(integration, url)
    return integration
