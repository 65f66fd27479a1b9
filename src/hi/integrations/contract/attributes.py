"""Attribute declarations: each service describes its configuration as an enum of AttributeSpec."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from ..core.errors import UnsafeURL
from ..outbound import ssrf

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class ValueType(str, Enum):
    """How an attribute value is entered, validated and stored."""

    TEXT = "text"
    URL = "url"
    SECRET = "secret"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CHOICE = "choice"


@dataclass(frozen=True)
class AttributeSpec:
    """One configuration value a service needs: key, label, help, type, required, default."""

    key: str
    label: str
    value_type: ValueType = ValueType.TEXT
    help: str = ""
    required: bool = True
    default: str = ""
    choices: tuple[tuple[str, str], ...] = field(default=())
    min_value: int | None = None
    max_value: int | None = None
    # Attributes that identify the account (credentials) are the ones Re-authenticate asks for.
    credential: bool = False
    # Where hi sends the secrets (a host name, a region…): changing it asks for the secrets again, as changing a
    # URL-typed attribute does (setup.py). URL attributes are destinations whatever this says.
    destination: bool = False
    # For a secret: whether hi sends its value to the provider (an API key) or only uses it here (a signing
    # key, of which the provider only ever sees signatures).
    transmitted: bool = True
    # Whether the value changes how hi connects or what set-up does. A change to attributes that do not (a note, a
    # filter hi applies itself when it uses the value) is saved on Reconfigure without a live test or a reload.
    affects_connection: bool = True
    # For a secret hi can make itself (a signing key): makes a fresh value. The add form proposes one, shown to
    # the operator so the other side can be configured with it before the live test.
    generator: Callable[[], str] | None = None

    @property
    def is_destination(self) -> bool:
        """Whether the value says where hi connects, and so where the secrets go."""
        return self.destination or self.value_type is ValueType.URL

    @property
    def is_secret(self) -> bool:
        """Whether the value is encrypted at rest and never shown."""
        return self.value_type is ValueType.SECRET


class AttributeType(Enum):
    """Base for a service's attribute enum; each member's value is an AttributeSpec."""

    @property
    def spec(self) -> AttributeSpec:
        """The member's declaration."""
        return self.value

    @property
    def key(self) -> str:
        """The attribute's key as used in forms and on the command line."""
        return self.value.key

    @classmethod
    def specs(cls) -> list[AttributeSpec]:
        """All declarations, in declaration order."""
        return [member.value for member in cls]


def parse_value(spec: AttributeSpec, raw: Any) -> Any:
    """Convert a raw (string) value to its typed form; raises ValidationError with a clear message."""
    text = "" if raw is None else str(raw).strip()
    if text == "":
        if spec.required:
            raise ValidationError(f"{spec.label} is required.")
        if spec.value_type is ValueType.INTEGER:
            return None
        if spec.value_type is ValueType.BOOLEAN:
            return False
        return ""
    if spec.value_type is ValueType.URL:
        try:
            URLValidator(schemes=["http", "https"])(text)
        except ValidationError:
            raise ValidationError(f"{spec.label} must be an http:// or https:// URL.") from None
        try:
            # Offline (no DNS): the HTTP client checks again, resolved, at every connection (transport.py).
            ssrf.check_url(text, resolve=False)
        except UnsafeURL as exc:
            raise ValidationError(f"{spec.label} cannot be used: {exc}.") from None
        return text
    if spec.value_type is ValueType.INTEGER:
        try:
            number = int(text)
        except ValueError:
            raise ValidationError(f"{spec.label} must be a whole number.") from None
        if spec.min_value is not None and number < spec.min_value:
            raise ValidationError(f"{spec.label} must be at least {spec.min_value}.")
        if spec.max_value is not None and number > spec.max_value:
            raise ValidationError(f"{spec.label} must be at most {spec.max_value}.")
        return number
    if spec.value_type is ValueType.BOOLEAN:
        lowered = text.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise ValidationError(f"{spec.label} must be true or false.")
    if spec.value_type is ValueType.CHOICE:
        allowed = [value for value, _ in spec.choices]
        if text not in allowed:
            raise ValidationError(f"{spec.label} must be one of: {', '.join(allowed)}.")
        return text
    return text


def serialize_value(spec: AttributeSpec, value: Any) -> str:
    """The canonical string stored in the database for a typed value."""
    if value is None:
        return ""
    if spec.value_type is ValueType.BOOLEAN:
        return "true" if value else "false"
    return str(value)


def validate_values(specs: list[AttributeSpec], raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse every declared attribute from `raw`; return (typed values, errors by key)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    known = {spec.key for spec in specs}
    for key in raw:
        if key not in known:
            errors[key] = f"Unknown attribute {key!r}; expected one of: {', '.join(sorted(known))}."
    for spec in specs:
        source = raw.get(spec.key, spec.default) if spec.key in raw else spec.default
        try:
            values[spec.key] = parse_value(spec, source)
        except ValidationError as exc:
            errors[spec.key] = " ".join(exc.messages)
    return values, errors
