"""What Airtime vouchers's pane on the manage page shows: where its API is."""
from __future__ import annotations

from typing import Any

from hi.integrations.api import Integration, attribute_values


def pane_context(integration: Integration) -> dict[str, Any]:
    """The pane template's context."""
    return {"integration": integration, "api_base_url": attribute_values(integration)["api_base_url"]}
