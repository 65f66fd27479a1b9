"""Realistic iFood order details for the simulator: Brazilian customers, a menu, BRL decimals that add up."""
from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")
ORDER_TYPES = ("DELIVERY", "TAKEOUT", "DINE_IN")
PAYMENT_KINDS = ("CASH", "CREDIT", "PIX", "SPLIT")

#: Merchant-side cancellation codes (GET .../cancellationReasons); 501 is iFood's example.
CANCELLATION_REASONS = [
    {"cancelCodeId": "501", "description": "Problemas de sistema na loja"},
    {"cancelCodeId": "502", "description": "Pedido em duplicidade"},
    {"cancelCodeId": "503", "description": "Item indisponível"},
    {"cancelCodeId": "504", "description": "Restaurante sem motoboy"},
    {"cancelCodeId": "505", "description": "Cardápio desatualizado"},
    {"cancelCodeId": "506", "description": "Pedido fora da área de entrega"},
    {"cancelCodeId": "507", "description": "Cliente golpista / trote"},
    {"cancelCodeId": "508", "description": "Fora do horário do delivery"},
    {"cancelCodeId": "509", "description": "Dificuldades internas do restaurante"},
    {"cancelCodeId": "511", "description": "Área de risco"},
]

FIRST_NAMES = ["Ana", "João", "Maria", "Pedro", "Juliana", "Lucas", "Fernanda", "Rafael", "Camila", "Gabriel",
               "Beatriz", "Thiago", "Larissa", "Bruno", "Patrícia", "Diego", "Aline", "Felipe", "Renata", "Gustavo"]
LAST_NAMES = ["Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
              "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Araújo", "Barbosa", "Cardoso", "Nascimento"]
#: (street, neighborhood, city, state, postal code prefix, latitude, longitude)
STREETS = [
    ("Rua Augusta", "Consolação", "São Paulo", "SP", "01305", -23.5534, -46.6573),
    ("Avenida Paulista", "Bela Vista", "São Paulo", "SP", "01310", -23.5614, -46.6559),
    ("Rua dos Pinheiros", "Pinheiros", "São Paulo", "SP", "05422", -23.5654, -46.6820),
    ("Rua Voluntários da Pátria", "Botafogo", "Rio de Janeiro", "RJ", "22270", -22.9519, -43.1857),
    ("Rua Barata Ribeiro", "Copacabana", "Rio de Janeiro", "RJ", "22040", -22.9671, -43.1866),
    ("Avenida Afonso Pena", "Centro", "Belo Horizonte", "MG", "30130", -19.9227, -43.9385),
    ("Rua XV de Novembro", "Centro", "Curitiba", "PR", "80020", -25.4296, -49.2713),
]
COMPLEMENTS = ["", "", "Apto 42", "Bloco B, apto 1203", "Casa 2", "Fundos"]
REFERENCES = ["", "Perto da padaria", "Portão azul", "Em frente ao mercado"]
NOTES = ["", "", "", "Sem cebola, por favor", "Bem passado", "Mandar sachê de ketchup"]
#: name, external code, unit price, unit, options [(name, external code, unit price)]
MENU: list[tuple[str, str, str, str, list[tuple[str, str, str]]]] = [
    ("X-Burger artesanal", "LANCHE-01", "24.90", "UN", [("Bacon extra", "ADD-BACON", "4.00"), ("Cheddar", "ADD-CHED", "3.50")]),
    ("Pizza Margherita grande", "PIZZA-07", "59.90", "UN", [("Borda recheada de catupiry", "BORDA-CAT", "9.90")]),
    ("Açaí 500 ml", "ACAI-500", "22.00", "UN", [("Granola", "ACAI-GRA", "2.00"), ("Leite condensado", "ACAI-LC", "2.50"),
                                                ("Banana", "ACAI-BAN", "1.75")]),
    ("Marmita executiva de frango", "MARM-02", "27.90", "UN", [("Ovo frito", "ADD-OVO", "3.00")]),
    ("Batata frita média", "PORC-03", "16.90", "UN", []),
    ("Pastel de carne", "PAST-01", "9.50", "UN", []),
    ("Coca-Cola lata 350 ml", "BEB-COCA", "6.50", "UN", []),
    ("Guaraná Antarctica 2 l", "BEB-GUA2", "12.00", "UN", []),
    ("Pão de queijo", "PDQ-KG", "49.90", "KG", []),
]


def money(value: Decimal) -> Decimal:
    """A BRL amount rounded to the cent."""
    return value.quantize(CENT)


def iso_utc(epoch: float, fraction: bool = True) -> str:
    """ISO-8601 UTC with nanosecond digits and trailing zeros of the fraction dropped, as iFood writes it."""
    ns = int(round(epoch * 1_000_000_000))
    seconds, nanos = divmod(ns, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{nanos:09d}".rstrip("0") if fraction else ""
    return f"{text}.{digits}Z" if digits else f"{text}Z"


def plain_json(value: Any) -> Any:
    """Decimals as JSON numbers: integral ones as ints (iFood writes `"pending":5`), others exactly."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_json(v) for v in value]
    return value


def dumps_details(details: dict) -> bytes:
    """The wire form of order details (Decimals become JSON numbers with at most two decimals)."""
    return json.dumps(plain_json(details), ensure_ascii=False).encode()


def new_uuid(rng: random.Random) -> str:
    """A random UUID4 string from the simulator's seeded generator."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _item(rng: random.Random, index: int) -> dict:
    """One order line with options; price = quantity × unitPrice, totalPrice = price + optionsPrice."""
    name, code, unit_price, unit, option_menu = rng.choice(MENU)
    unit_price_d = Decimal(unit_price)
    quantity = Decimal(rng.choice(["0.5", "1.5"])) if unit == "KG" else Decimal(rng.choice([1, 1, 1, 2, 3]))
    options = []
    for o_index, (o_name, o_code, o_price) in enumerate(rng.sample(option_menu, k=rng.randint(0, len(option_menu)))):
        # An option's quantity already counts every unit of its item (iFood's example order: 12 items × 13 options).
        o_quantity = quantity * rng.choice([1, 1, 2]) if unit == "UN" else Decimal(1)
        o_unit = Decimal(o_price)
        options.append({"index": o_index, "id": new_uuid(rng), "name": o_name, "externalCode": o_code, "unit": "UN",
                        "quantity": o_quantity, "unitPrice": o_unit, "addition": Decimal(0), "price": money(o_quantity * o_unit)})
    price = money(quantity * unit_price_d)
    options_price = sum((o["price"] for o in options), Decimal("0.00"))
    item = {"index": index, "id": new_uuid(rng), "name": name, "externalCode": code, "unit": unit, "quantity": quantity,
            "unitPrice": unit_price_d, "addition": Decimal(0), "price": price, "optionsPrice": options_price,
            "totalPrice": price + options_price, "observations": rng.choice(NOTES)}
    if options:
        item["options"] = options
    return item


def _customer(rng: random.Random, now: float) -> dict:
    """A customer with the masked 0800 phone and localizer iFood gives instead of the real number."""
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    return {"id": new_uuid(rng), "name": name, "documentNumber": "".join(rng.choice("0123456789") for _ in range(11)),
            "phone": {"number": "0800 007 0110", "localizer": f"{rng.randrange(10**8):08d}",
                      "localizerExpiration": iso_utc(now + 3 * 3600, fraction=False)},
            "ordersCountOnMerchant": rng.randint(0, 40)}


def _address(rng: random.Random) -> dict:
    """A delivery address in a Brazilian city."""
    street, neighborhood, city, state, cep, lat, lon = rng.choice(STREETS)
    number = str(rng.randint(10, 2500))
    complement = rng.choice(COMPLEMENTS)
    return {"streetName": street, "streetNumber": number,
            "formattedAddress": f"{street}, {number}{' - ' + complement if complement else ''}",
            "neighborhood": neighborhood, "complement": complement, "reference": rng.choice(REFERENCES),
            "postalCode": f"{cep}{rng.randint(0, 999):03d}", "city": city, "state": state, "country": "BR",
            "coordinates": {"latitude": round(lat + rng.uniform(-0.01, 0.01), 6),
                            "longitude": round(lon + rng.uniform(-0.01, 0.01), 6)}}


def _payments(rng: random.Random, amount: Decimal, kind: str) -> dict:
    """Payment lines that add up to the order amount: prepaid online, pending offline (cash with change)."""
    brand = rng.choice(["VISA", "MASTERCARD", "ELO", "AMEX"])
    if kind == "SPLIT" and amount > Decimal("10.00"):
        online = money(amount * Decimal(rng.choice(["0.3", "0.5"])))
        cash = amount - online
        methods = [{"value": cash, "currency": "BRL", "method": "CASH", "type": "OFFLINE", "prepaid": False,
                    "cash": {"changeFor": _change_for(cash)}},
                   {"value": online, "currency": "BRL", "method": "CREDIT", "type": "ONLINE", "prepaid": True,
                    "card": {"brand": brand}}]
    elif kind == "CASH":
        methods = [{"value": amount, "currency": "BRL", "method": "CASH", "type": "OFFLINE", "prepaid": False,
                    "cash": {"changeFor": _change_for(amount)}}]
    elif kind == "PIX":
        methods = [{"value": amount, "currency": "BRL", "method": "PIX", "type": "ONLINE", "prepaid": True}]
    else:
        online = rng.random() < 0.7  # credit is paid in the app, or on the courier's card machine
        methods = [{"value": amount, "currency": "BRL", "method": "CREDIT", "type": "ONLINE" if online else "OFFLINE",
                    "prepaid": online, "card": {"brand": brand}}]
    prepaid = sum((m["value"] for m in methods if m["prepaid"]), Decimal("0.00"))
    return {"prepaid": prepaid, "pending": amount - prepaid, "methods": methods}


def _change_for(amount: Decimal) -> Decimal:
    """The note the customer pays cash with: the next 10, 50 or 100 above the amount."""
    for step in (Decimal(10), Decimal(50), Decimal(100)):
        note = (amount // step + 1) * step
        if note - amount <= Decimal(40) or step == 100:
            return note
    return amount


def generate_order(rng: random.Random, *, merchant: dict, now: float, order_type: str | None = None,
                   payment: str | None = None, delivered_by: str | None = None, ifood_delivery_share: float = 0.2,
                   bad_totals: bool = False) -> dict:
    """Order details in the shape of iFood's example order whose money adds up (or deliberately not, with `bad_totals`)."""
    order_type = order_type or rng.choice(["DELIVERY", "DELIVERY", "DELIVERY", "TAKEOUT", "DINE_IN"])
    if order_type not in ORDER_TYPES:
        raise ValueError(f"order type must be one of {ORDER_TYPES}")
    payment = payment or rng.choice(PAYMENT_KINDS)
    if payment not in PAYMENT_KINDS:
        raise ValueError(f"payment must be one of {PAYMENT_KINDS}")
    items = [_item(rng, i) for i in range(rng.randint(1, 4))]
    sub_total = sum((i["totalPrice"] for i in items), Decimal("0.00"))
    delivery_fee = Decimal(rng.choice(["0.00", "4.99", "5.99", "7.90", "8.90"])) if order_type == "DELIVERY" else Decimal("0.00")
    fees = [{"type": "SMALL_ORDER_FEE", "value": Decimal("3.00")}] if sub_total < 20 else []
    if rng.random() < 0.3:
        fees.append({"type": "SERVICE_FEE", "value": Decimal("0.99")})
    fees_total = sum((f["value"] for f in fees), Decimal("0.00"))
    benefits = []
    if rng.random() < 0.35:
        value = min(Decimal(rng.choice(["5.00", "10.00", "7.50"])), sub_total)
        ifood_part = money(value * Decimal(rng.choice(["0", "0.5", "1"])))
        benefits.append({"value": value, "target": "CART", "sponsorshipValues": [
            {"name": "IFOOD", "value": ifood_part}, {"name": "MERCHANT", "value": value - ifood_part}]})
    benefits_total = sum((b["value"] for b in benefits), Decimal("0.00"))
    order_amount = sub_total + delivery_fee + fees_total - benefits_total
    if bad_totals:
        order_amount += Decimal("0.10")  # the payments follow the wrong amount, as a provider bug would
    order_id = new_uuid(rng)
    details: dict = {
        "id": order_id, "displayId": f"{rng.randrange(10000):04d}", "orderType": order_type, "orderTiming": "IMMEDIATE",
        "salesChannel": "IFOOD", "category": "FOOD", "createdAt": iso_utc(now, fraction=False),
        "preparationStartDateTime": iso_utc(now, fraction=False), "isTest": False, "extraInfo": "",
        "merchant": {"id": merchant["id"], "name": merchant["name"]},
        "customer": _customer(rng, now), "items": items, "benefits": benefits, "additionalFees": fees,
        "total": {"subTotal": sub_total, "deliveryFee": delivery_fee, "additionalFees": fees_total,
                  "benefits": benefits_total, "orderAmount": order_amount},
        "payments": _payments(rng, order_amount, payment),
    }
    when = datetime.fromtimestamp(now, timezone.utc)
    if order_type == "DELIVERY":
        by = delivered_by or ("IFOOD" if rng.random() < ifood_delivery_share else "MERCHANT")
        details["delivery"] = {"mode": "DEFAULT", "deliveredBy": by,
                               "deliveryDateTime": iso_utc((when + timedelta(minutes=45)).timestamp(), fraction=False),
                               "observations": rng.choice(REFERENCES), "pickupCode": f"{rng.randrange(10000):04d}",
                               "deliveryAddress": _address(rng)}
    elif order_type == "TAKEOUT":
        details["takeout"] = {"mode": "DEFAULT", "takeoutDateTime": iso_utc(now + 25 * 60, fraction=False)}
    else:
        details["dineIn"] = {"deliveryDateTime": iso_utc(now + 20 * 60, fraction=False)}
    return details
