"""Forms of the orders console: a hand-made order with its items, and an action's reason."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError

from .data import ItemData, OrderData, OrderDataInvalid, PaymentData, bounded, decimal_cents
from .models import OrderType

MAX_ITEMS = 20
BLANK_ITEM_ROWS = 5
PAYMENT_METHODS = [
    ("CASH", "Cash"), ("CREDIT", "Credit card"), ("DEBIT", "Debit card"), ("PIX", "Pix"), ("VOUCHER", "Meal voucher"), ("OTHER", "Other")
]


def to_cents(text: str, label: str) -> int:
    """'12.50' or '12,50' (reais) as 1250 cents, exactly; ValidationError for anything else."""
    text = (text or "").strip().replace(" ", "")
    if not text:
        return 0
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError(f"{label}: write an amount like 12.50.") from None
    if not value.is_finite() or value < 0:
        raise ValidationError(f"{label}: write an amount of zero or more, like 12.50.")
    try:
        cents = decimal_cents(value, label)  # the hub's range, checked before any rounding can overflow
    except OrderDataInvalid:
        raise ValidationError(f"{label}: that amount is too large.") from None
    if cents != value * 100:
        raise ValidationError(f"{label}: at most two decimal places (cents).")
    return cents


class MoneyField(forms.CharField):
    """An amount in reais, cleaned to integer cents."""

    def __init__(self, *args, **kwargs) -> None:
        """An optional decimal text field, with a numeric keyboard on phones."""
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 20)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "placeholder": "0.00"})

    def clean(self, value) -> int:
        """Cents."""
        text = super().clean(value)
        if self.required and not text:
            raise ValidationError("This amount is required.")
        return to_cents(text, str(self.label or "Amount"))


class ItemForm(forms.Form):
    """One line of a hand-made order; a row left blank is ignored."""

    name = forms.CharField(max_length=255, required=False, label="Item")
    sku = forms.CharField(max_length=100, required=False, label="SKU")
    quantity = forms.DecimalField(required=False, min_value=Decimal("0.001"), max_digits=12, decimal_places=3, label="Quantity")
    unit_price = MoneyField(label="Unit price")
    notes = forms.CharField(max_length=500, required=False, label="Notes")

    def clean(self) -> dict:
        """A row with anything in it needs a name and a quantity."""
        data = super().clean()
        filled = any(data.get(k) for k in ("name", "sku", "notes", "quantity", "unit_price"))
        if filled and not data.get("name"):
            self.add_error("name", "Name the item, or clear this row.")
        if filled and data.get("quantity") is None and "quantity" not in self.errors:
            self.add_error("quantity", "How many?")
        data["filled"] = filled
        return data

    def item(self) -> ItemData | None:
        """The line as ItemData (line total rounded half up to the cent), or None for a blank row."""
        data = self.cleaned_data
        if not data.get("filled"):
            return None
        total = (data["quantity"] * data["unit_price"]).to_integral_value(rounding=ROUND_HALF_UP)
        return ItemData(
            sku=data["sku"].strip(), name=data["name"].strip(), quantity=data["quantity"], unit_price_q=data["unit_price"],
            total_q=int(total), notes=data["notes"].strip()
        )


ItemFormSet = forms.formset_factory(ItemForm, extra=BLANK_ITEM_ROWS, max_num=MAX_ITEMS, validate_max=True, absolute_max=MAX_ITEMS)


class ManualOrderForm(forms.Form):
    """The order itself: type, customer, address, fees, payment; totals are computed from the items."""

    type = forms.ChoiceField(choices=OrderType.choices, initial=OrderType.TAKEOUT)
    display_id = forms.CharField(
        max_length=40, required=False, label="Display id", help_text="Optional: what staff call the order, such as a ticket number."
    )
    customer_name = forms.CharField(max_length=200, label="Customer name")
    customer_phone = forms.CharField(max_length=60, required=False, label="Customer phone")
    address = forms.CharField(
        max_length=500, required=False, label="Delivery address", widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required for delivery orders."
    )
    delivery_fee = MoneyField(label="Delivery fee")
    additional_fees = MoneyField(label="Other fees")
    discount = MoneyField(label="Discount")
    payment_method = forms.ChoiceField(choices=PAYMENT_METHODS, label="Payment")
    prepaid = forms.BooleanField(required=False, label="Already paid")
    change_for = MoneyField(label="Change for", help_text="Cash only: the note the customer pays with.")
    notes = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self) -> dict:
        """A delivery needs an address."""
        data = super().clean()
        if data.get("type") == OrderType.DELIVERY and not (data.get("address") or "").strip():
            self.add_error("address", "A delivery order needs an address.")
        return data


def order_data(form: ManualOrderForm, items: list[ItemData]) -> OrderData:
    """The hand-made order as OrderData; ValidationError when the totals make no sense."""
    data = form.cleaned_data
    if not items:
        raise ValidationError("Add at least one item.")
    subtotal = sum(i.total_q for i in items)
    total = subtotal + data["delivery_fee"] + data["additional_fees"] - data["discount"]
    if total < 0:
        raise ValidationError("The discount is larger than the order: the total would be negative.")
    change_for = data["change_for"] or None
    if change_for is not None and data["payment_method"] != "CASH":
        raise ValidationError("Change is only for cash payments.")
    if change_for is not None and change_for < total:
        raise ValidationError("“Change for” is less than the total.")
    address = (data.get("address") or "").strip()
    order = OrderData(
        external_id="",
        display_id=data["display_id"].strip(),
        type=data["type"],
        customer_name=data["customer_name"].strip(),
        customer_phone=data["customer_phone"].strip(),
        delivery_address={"formatted": address} if address else {},
        items=items,
        subtotal_q=subtotal,
        delivery_fee_q=data["delivery_fee"],
        additional_fees_q=data["additional_fees"],
        discount_q=data["discount"],
        total_q=total,
        payments=[PaymentData(method=data["payment_method"], prepaid=data["prepaid"], amount_q=total, change_for_q=change_for)],
        notes=data["notes"].strip(),
    )
    try:
        bounded(order)  # the hub's bounds, as a form error (a total past R$ 1 billion, …)
    except OrderDataInvalid as exc:
        raise ValidationError(f"hi cannot store this order: {exc}.") from None
    return order


class ReasonForm(forms.Form):
    """The reason for an action that needs one, from the choices its source offers."""

    reason = forms.ChoiceField(label="Reason")

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs) -> None:
        """The form, its reasons from `choices`."""
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", "Choose a reason…"), *choices]
