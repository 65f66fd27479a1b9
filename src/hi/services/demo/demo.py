"""The demo provider's part in `make run`'s demo: its simulator on 127.0.0.1:8001 (the operator adds the integration in the console)."""
from __future__ import annotations

from hi.integrations.api import DemoSeed

DEMO = DemoSeed(port=8001, port_variable="HI_DEMO_PORT")
