"""Forms built from a service's attribute declarations; the rules live in setup.py, not here."""
from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from ..contract.attributes import AttributeSpec, ValueType, parse_value
from ..core.errors import SetupError

NAME_FIELD = "name"
#: Under a secret the add form generated: what the operator does with it.
GENERATED_HELP = (
    "hi generated this one for you: configure it on the other side first (the live test uses it), or replace it "
    "with your own. It is shown once more after adding."
)


def default_values(specs: list[AttributeSpec]) -> dict[str, Any]:
    """The add form's initial values: each attribute's declared default, typed as parse_value reads it."""
    # A secret hi generates (a signing key the operator configures on the other side first) gets a fresh value.
    values: dict[str, Any] = {}
    for spec in specs:
        if spec.generator is not None:
            values[spec.key] = spec.generator()
            continue
        try:
            values[spec.key] = parse_value(spec, spec.default)
        except ValidationError:
            values[spec.key] = spec.default  # a required value without a default starts empty
    return values


def field_for(spec: AttributeSpec, secret_stored: bool, creating: bool = False) -> forms.Field:
    """The form field of one attribute (validation by type happens in the service layer)."""
    help_text = spec.help
    if spec.is_secret and spec.generator is not None and creating:
        # A new secret hi proposes is for its creator to copy to the other side before the test: shown, and sent
        # back with the form when the test fails (in no-store pages only), never kept between requests by hi.
        help_text = (help_text + " " if help_text else "") + GENERATED_HELP
        return forms.CharField(
            label=spec.label,
            required=False,
            help_text=help_text,
            strip=True,
            widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "secret-shown", "data-generated": "true"}),
        )
    if spec.value_type is ValueType.SECRET:
        if secret_stored:
            help_text = (help_text + " " if help_text else "") + "Leave blank to keep the stored value."
        # Write-only: a stored secret is never rendered back into the page.
        return forms.CharField(
            label=spec.label,
            required=False,
            help_text=help_text,
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        )
    if spec.value_type is ValueType.BOOLEAN:
        return forms.BooleanField(label=spec.label, required=False, help_text=help_text)
    if spec.value_type is ValueType.CHOICE:
        choices = list(spec.choices) if spec.required else [("", "—")] + list(spec.choices)
        return forms.ChoiceField(label=spec.label, required=False, choices=choices, help_text=help_text)
    widget: forms.Widget
    if spec.value_type is ValueType.INTEGER:
        widget = forms.NumberInput(attrs={"min": spec.min_value, "max": spec.max_value})
    elif spec.value_type is ValueType.URL:
        widget = forms.URLInput(attrs={"placeholder": "https://"})
    else:
        widget = forms.TextInput()
    return forms.CharField(label=spec.label, required=False, help_text=help_text, widget=widget, strip=True)


class AttributeForm(forms.Form):
    """A name (optional) plus one field per declared attribute."""

    def __init__(
        self,
        specs: list[AttributeSpec],
        *args: Any,
        with_name: bool = True,
        stored_secrets: set[str] | None = None,
        only: set[str] | None = None,
        creating: bool = False,
        **kwargs: Any,
    ) -> None:
        """Build one field per spec (only those in `only`), secrets left blank when stored, and the name field when asked."""
        super().__init__(*args, **kwargs)
        self.specs = [spec for spec in specs if only is None or spec.key in only]
        stored_secrets = stored_secrets or set()
        if with_name:
            self.fields[NAME_FIELD] = forms.CharField(
                label="Name",
                required=False,
                max_length=120,
                help_text="How this integration is called in hi. Leave blank to use the account's name.",
            )
        for spec in self.specs:
            self.fields[spec.key] = field_for(spec, spec.key in stored_secrets, creating)
            if spec.required and not (spec.is_secret and spec.key in stored_secrets):
                self.fields[spec.key].widget.attrs["aria-required"] = "true"
                self.fields[spec.key].required_marker = True

    def raw_values(self) -> dict[str, Any]:
        """The attribute values as entered (booleans as 'true'/'false'), for the service layer."""
        raw: dict[str, Any] = {}
        for spec in self.specs:
            value = self.cleaned_data.get(spec.key)
            if spec.value_type is ValueType.BOOLEAN:
                value = "true" if value else "false"
            raw[spec.key] = "" if value is None else value
        return raw

    def apply_error(self, error: SetupError) -> None:
        """Show a SetupError next to the fields it names, and its message above the form."""
        for key, message in error.field_errors.items():
            self.add_error(key if key in self.fields else None, message)
        if error.code != "invalid" or not error.field_errors:
            self.add_error(None, error.message)
        self.error_code = error.code


class RemoveForm(forms.Form):
    """How to remove an integration: what happens to its entities."""

    entities = forms.ChoiceField(
        label="Linked entities",
        choices=[
            ("keep", "Keep the entities an operator has edited (others are deleted)"),
            ("delete", "Delete every linked entity"),
        ],
        initial="keep",
        widget=forms.RadioSelect,
    )
    force = forms.BooleanField(
        label="Remove even if the provider cannot be told (deactivation fails)",
        required=False,
    )


class RotateReceiveUrlForm(forms.Form):
    """Confirming a new receive URL: whether the old one stops at once or keeps working for a while."""

    at_once = forms.BooleanField(
        label="Stop the old URL at once (it leaked); otherwise it keeps working for 24 hours",
        required=False,
    )
