"""What the demo pane on the manage page shows: where the provider is and which catalog syncs."""
from __future__ import annotations

from typing import Any

from hi.integrations.api import Integration, attribute_values


def pane_context(integration: Integration) -> dict[str, Any]:
    """The pane template's context."""
    values = attribute_values(integration)
    return {"integration": integration, "api_url": values["api_url"], "catalog": values["catalog"]}
