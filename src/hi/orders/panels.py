"""Panels other apps add to the order page (e.g. the messages about an order) without the orders hub importing them."""
# The orders hub knows no other hub or service. An app that has something to show about an order registers
# an OrderPanel from its AppConfig.ready(); the order page renders each registered panel under the order's
# details. A panel that fails is logged and left out: it never takes the order page down.
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from django.http import HttpRequest

    from .models import Order

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderPanel:
    """A section of the order page: `render(request, order)` returns its HTML ('' shows nothing)."""

    name: str
    render: Callable[["HttpRequest", "Order"], str]
    #: Lower comes first.
    position: int = 100


_panels: dict[str, OrderPanel] = {}
_lock = threading.Lock()


def register_panel(panel: OrderPanel) -> OrderPanel:
    """Add (or replace, by name) a panel of the order page; called from an AppConfig.ready()."""
    with _lock:
        _panels[panel.name] = panel
    return panel


def registered() -> list[OrderPanel]:
    """The panels, in their order."""
    with _lock:
        return sorted(_panels.values(), key=lambda p: (p.position, p.name))


def rendered(request: "HttpRequest", order: "Order") -> list[SafeString]:
    """Each panel's HTML for this order (panels that fail or show nothing are left out)."""
    shown: list[SafeString] = []
    for panel in registered():
        try:
            html = panel.render(request, order)
        except Exception:  # noqa: BLE001 - one broken panel must not take the order page down
            logger.exception("Order panel %s failed for %s", panel.name, order.ref)
            continue
        if html:
            shown.append(mark_safe(html))  # noqa: S308 - panels render their own templates, escaped there
    return shown
