"""iFood order details → hi order data: exact cents with Decimal, and mismatches recorded, never fixed."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from hi.services.ifood.mapping import MappingError, check_totals, money, order_data

# iFood's example order (https://developer.ifood.com.br/pt-BR/docs/guides/order/details), adapted so the money adds up (BRL decimals).
REFERENCE = """{"id":"63895716-37c3-4372-afd0-3240bfef708d","displayId":"XPTO","orderType":"DELIVERY","orderTiming":"IMMEDIATE",
 "salesChannel":"IFOOD","category":"FOOD","createdAt":"2021-02-16T18:10:27Z","isTest":false,
 "merchant":{"id":"c54bb20a","name":"Example Merchant"},
 "customer":{"id":"22587f70","name":"Example Customer","documentNumber":"123456789",
   "phone":{"number":"0800 007 0110","localizer":"12345678","localizerExpiration":"2021-02-09T18:11:07Z"}},
 "items":[{"index":0,"id":"f1e48636","name":"Example Item","externalCode":"ex01","unit":"UN",
   "quantity":12,"unitPrice":0.12,"addition":0,"price":1.44,"optionsPrice":1.69,"totalPrice":3.13,"observations":"no onions",
   "options":[{"index":0,"id":"acea6ac1","name":"Example Option","externalCode":"ex02","unit":"UN","quantity":13,"unitPrice":0.13,
     "addition":0,"price":1.69}]}],
 "benefits":[{"value":1.0,"target":"CART"}],
 "additionalFees":[{"type":"SMALL_ORDER_FEE","value":1.0}],
 "total":{"subTotal":3.13,"deliveryFee":5.99,"additionalFees":1,"benefits":1.99,"orderAmount":8.13},
 "payments":{"prepaid":3.13,"pending":5,"methods":[{"value":5,"currency":"BRL","method":"CASH","type":"OFFLINE","prepaid":false,"cash":{"changeFor":10}},
   {"value":3.13,"currency":"BRL","method":"CREDIT","type":"ONLINE","prepaid":true,"card":{"brand":"VISA"}}]},
 "delivery":{"mode":"DEFAULT","deliveredBy":"IFOOD","observations":"ring twice","pickupCode":"1234",
   "deliveryAddress":{"streetName":"Rua Augusta","streetNumber":"1234","formattedAddress":"Rua Augusta, 1234","neighborhood":"Consolação",
     "complement":"ap 12","reference":"near the bakery","postalCode":"01304001","city":"São Paulo","state":"SP","country":"BR"}}}"""


def details(**changes):
    """The reference order parsed as the client parses it (floats as Decimal), with changes."""
    order = json.loads(REFERENCE, parse_float=Decimal)
    order.update(changes)
    return order


def test_reference_order_converts_to_exact_cents():
    """Given iFood's example order, when mapped, then every amount is exact integer cents and the totals add up."""
    data = order_data(details())
    assert (data.subtotal_q, data.delivery_fee_q, data.additional_fees_q, data.discount_q, data.total_q) == (313, 599, 100, 199, 813)
    assert data.totals_problem == ""
    item = data.items[0]
    assert (item.sku, item.quantity, item.unit_price_q, item.total_q, item.notes) == ("ex01", Decimal("12"), 12, 313, "no onions")
    assert item.options == [{"sku": "ex02", "name": "Example Option", "quantity": "13", "unit_price_q": 13, "total_q": 169}]
    assert [(p.method, p.prepaid, p.amount_q, p.change_for_q, p.detail) for p in data.payments] == [
        ("CASH", False, 500, 1000, ""), ("CREDIT", True, 313, None, "VISA"),
    ]
    assert data.type == "delivery" and data.display_id == "XPTO" and data.customer_phone == "0800 007 0110 (localizer 12345678)"
    assert data.delivery_address["city"] == "São Paulo" and data.delivery_address["postal_code"] == "01304001"
    assert data.placed_at.isoformat() == "2021-02-16T18:10:27+00:00"
    assert data.extra["delivered_by"] == "IFOOD" and data.extra["pickup_code"] == "1234"


def test_floats_that_binary_cannot_hold_are_still_exact():
    """Given amounts like 0.1 + 0.2 (0.30000000000000004 in float), when mapped, then the cents are exact."""
    order = details()
    order["items"][0].update(
        unitPrice=Decimal("0.1"), price=Decimal("0.1"), optionsPrice=Decimal("0.2"), totalPrice=Decimal("0.3"), quantity=1
    )
    order["items"][0]["options"][0].update(quantity=1, unitPrice=Decimal("0.2"), price=Decimal("0.2"))
    order["total"] = {
        "subTotal": Decimal("0.3"), "deliveryFee": Decimal("0.1"), "additionalFees": 0, "benefits": 0, "orderAmount": Decimal("0.4")
    }
    data = order_data(order)
    assert (data.subtotal_q, data.total_q, data.totals_problem) == (30, 40, "")


def test_a_total_that_does_not_add_up_is_recorded_not_fixed():
    """Given an orderAmount one cent off, when mapped, then iFood's amount is kept and the mismatch described."""
    order = details(total={
        "subTotal": Decimal("3.13"), "deliveryFee": Decimal("5.99"), "additionalFees": 1, "benefits": Decimal("1.99"),
        "orderAmount": Decimal("8.14")
    })
    data = order_data(order)
    assert data.total_q == 814
    assert "orderAmount is 8.14" in data.totals_problem and "= 8.13" in data.totals_problem


def test_items_that_do_not_add_up_to_the_subtotal_are_recorded():
    """Given a subTotal that is not the sum of the items, when mapped, then the problem names both."""
    assert check_totals([], 100, 0, 0, 0, 100) == ["items add up to 0.00 but iFood's subTotal is 1.00"]


def test_more_than_two_decimals_is_noted():
    """Given 1.005, when converted, then it is rounded half-even and the problem is noted."""
    problems: list[str] = []
    assert money(Decimal("1.005"), "deliveryFee", problems) == 100
    assert problems == ["deliveryFee 1.005 has more than two decimals; stored as 1.00"]


@pytest.mark.parametrize("change", [{"id": ""}, {"items": ["not an object"]}, {"total": {"subTotal": "abc"}}])
def test_unusable_details_raise_a_typed_error(change):
    """Given details without an id, with a bad item or a non-numeric amount, then MappingError says which."""
    with pytest.raises(MappingError):
        order_data(details(**change))


@pytest.mark.parametrize(("ifood", "hi"), [("DELIVERY", "delivery"), ("TAKEOUT", "takeout"), ("DINE_IN", "dine_in"), ("INDOOR", "dine_in")])
def test_order_types(ifood, hi):
    """Each documented orderType maps to hi's type."""
    assert order_data(details(orderType=ifood)).type == hi


def test_a_takeout_order_has_no_address():
    """Given a takeout order without a delivery block, then the address is empty (the page shows none)."""
    order = details(orderType="TAKEOUT")
    del order["delivery"]
    assert order_data(order).delivery_address == {}
