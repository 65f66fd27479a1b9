"""The IntegrationType enum: one member per service app, the single registry of providers."""
from __future__ import annotations

from enum import Enum


class IntegrationType(Enum):
    """A kind of provider, carrying what the console and the factory need to know about it."""

    # (id, label, description, gateway class dotted path, app module)
    DEMO = (
        "demo",
        "Demo provider",
        "A built-in simulated provider to try hi without an account: items sync as entities.",
        "hi.services.demo.gateway.DemoGateway",
        "hi.services.demo",
    )
    WEBHOOK = (
        "webhook",
        "Webhooks",
        "Send hi's events to any URL as signed Standard Webhooks (n8n, Zapier, your own systems).",
        "hi.services.webhook.gateway.WebhookGateway",
        "hi.services.webhook",
    )
    IFOOD = (
        "ifood",
        "iFood",
        "Receive orders from iFood, Brazil's food-delivery marketplace, and confirm, dispatch or cancel them from hi.",
        "hi.services.ifood.gateway.IFoodGateway",
        "hi.services.ifood",
    )
    WHATSAPP = (
        "whatsapp",
        "WhatsApp",
        "Talk to customers on WhatsApp (Business Cloud API): order notifications with approved templates, their replies in an inbox, "
        "every message's fate.",
        "hi.services.whatsapp.gateway.WhatsAppGateway",
        "hi.services.whatsapp",
    )
    AIRTIME = (
        "airtime",
        "Airtime vouchers",
        "Connect hi to Airtime vouchers and check the account on a schedule.",
        "hi.services.airtime.gateway.AirtimeGateway",
        "hi.services.airtime",
    )

    def __init__(self, type_id: str, label: str, description: str, gateway_path: str, app: str):
        """A member from its registry tuple: id, label, description, gateway class path, app."""
        self.type_id = type_id
        self.label = label
        self.description = description
        self.gateway_path = gateway_path
        self.app = app

    def __str__(self) -> str:
        """The type id, as stored on an integration."""
        return self.type_id

    @classmethod
    def from_id(cls, type_id: str) -> "IntegrationType":
        """Look a type up by its id ('demo'); raises ValueError for an unknown id."""
        for member in cls:
            if member.type_id == type_id:
                return member
        raise ValueError(f"Unknown integration type {type_id!r}.")
