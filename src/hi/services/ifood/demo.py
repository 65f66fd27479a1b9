"""iFood's part in `make run`'s demo: the simulator placing an order every 15 s, and "iFood (demo)" polling it."""
# `manage.py hi_demo` reads DEMO for scripts/run.sh (the simulator's options, the faster polling) and
# `hi_setup --demo` adds the integration through the console's validated flow, once (see DemoSeed).
from __future__ import annotations

import os
from typing import Any

from hi.integrations.api import DemoSeed

from .simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_MERCHANTS

NAME = "iFood (demo)"
#: The demo's customers give their own numbers: iFood's masked 0800 ones reach nobody on WhatsApp.
CUSTOMER_PHONES = ("+55 11 98765-4321", "+55 21 99876-5432", "+55 31 98888-7777", "+55 41 99123-4567")


def every_s() -> str:
    """Seconds between the orders the simulator places (HI_IFOOD_DEMO_EVERY_S, default 15)."""
    return os.environ.get("HI_IFOOD_DEMO_EVERY_S", "").strip() or "15"


def simulator_arguments() -> list[str]:
    """An order every few seconds, from customers with their own numbers."""
    return ["--place-every", every_s(), *[word for phone in CUSTOMER_PHONES for word in ("--customer-phone", phone)]]


def running() -> str:
    """What `make run` says about the iFood demo."""
    return f"iFood demo: a new order every {every_s()} s under Orders"


def attributes(url: str) -> dict[str, Any]:
    """The demo integration's raw attributes: the simulator's credential and restaurants, polled."""
    return {
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "merchant_ids": ",".join(DEFAULT_MERCHANTS),
        "api_base_url": url,
        "event_mode": "polling",
    }


DEMO = DemoSeed(
    port=8002,
    port_variable="HI_IFOOD_DEMO_PORT",
    simulator_arguments=simulator_arguments,
    # iFood expects a poll every 30 s; the demo polls every 5 s so that its orders show up quickly.
    settings={"HI_IFOOD_POLL_INTERVAL_S": "5"},
    running=running,
    name=NAME,
    unique_id=DEFAULT_CLIENT_ID,
    attributes=attributes,
    added="polling the simulator at {url}.",
)
