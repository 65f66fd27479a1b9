"""The order page's panels: other apps add sections to it without the orders hub importing them."""
from __future__ import annotations

import pytest

from hi.orders import panels

from .helpers import make_order


@pytest.fixture
def registry():
    """The registered panels, restored after the test."""
    saved = dict(panels._panels)
    yield panels
    panels._panels.clear()
    panels._panels.update(saved)


def test_a_registered_panel_is_shown_on_the_order_page_and_a_broken_one_is_left_out(registry, viewer_client, workspace):
    # given one panel that shows the order's ref and one that fails
    registry.register_panel(panels.OrderPanel("ref-echo", lambda request, order: f'<section data-panel="echo">{order.ref}</section>'))
    registry.register_panel(panels.OrderPanel("broken", lambda request, order: 1 / 0, position=1))
    order = make_order(workspace)
    # when
    response = viewer_client.get(order.get_absolute_url())
    # then
    assert response.status_code == 200
    assert f'<section data-panel="echo">{order.ref}</section>' in response.content.decode()


def test_the_live_refresh_renders_no_panel(registry, viewer_client, workspace):
    # given
    registry.register_panel(panels.OrderPanel("ref-echo", lambda request, order: '<section data-panel="echo"></section>'))
    order = make_order(workspace)
    # when htmx refreshes the live region
    response = viewer_client.get(order.get_absolute_url(), headers={"HX-Request": "true"})
    # then
    assert response.status_code == 200 and 'data-panel="echo"' not in response.content.decode()
