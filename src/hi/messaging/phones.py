"""Phone numbers as the messaging hub keeps them: E.164, Brazil's country code when a number has none."""
from __future__ import annotations

import phonenumbers

from hi.integrations.api import HiError

#: The region a number without a country code is read in: hi's customers are mostly in Brazil (+55).
DEFAULT_REGION = "BR"


#: Number types no customer reads WhatsApp on: a marketplace's masked 0800 number, premium and shared-cost lines, pagers.
NOT_PERSONAL = frozenset({
    phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.PREMIUM_RATE, phonenumbers.PhoneNumberType.SHARED_COST,
    phonenumbers.PhoneNumberType.UAN, phonenumbers.PhoneNumberType.VOICEMAIL, phonenumbers.PhoneNumberType.PAGER,
})


class InvalidPhone(HiError, ValueError):
    """Text that is not a phone number hi can send to."""


def e164(text: str, region: str = DEFAULT_REGION) -> str:
    """The number in E.164 (+5511987654321); a number written without a country code is read as Brazilian."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidPhone("No phone number.")
    number = None
    if raw.isdigit() and len(raw) > 11:
        # Longer than any Brazilian number: a WhatsApp id, the digits with the country code.
        number = _parsed("+" + raw, region)
        if number is not None and not phonenumbers.is_valid_number(number):
            number = None
    number = number or _parsed(raw, region)
    if number is None:
        raise InvalidPhone(f"“{raw[:40]}” is not a phone number.")
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone(f"“{raw[:40]}” is not a possible phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def personal(text: str, region: str = DEFAULT_REGION) -> str:
    """e164(), refusing numbers that are not a person's (iFood gives a masked 0800 number and a localizer instead)."""
    number = e164(text, region)
    if phonenumbers.number_type(phonenumbers.parse(number)) in NOT_PERSONAL:
        raise InvalidPhone(f"{number} is a toll-free or service number, not a customer's own.")
    return number


def _parsed(text: str, region: str) -> "phonenumbers.PhoneNumber | None":
    """The parsed number, or None when the text is not one."""
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def digits(phone: str) -> str:
    """An E.164 number without its plus: what WhatsApp calls a wa_id and takes in `to`."""
    return phone.lstrip("+")
