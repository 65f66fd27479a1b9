"""The conversation page's forms: a free-form reply, or an approved template with its parameters."""
from __future__ import annotations

from django import forms

from .channels import TemplateOption, TemplateSend

MAX_TEXT = 4096


class ReplyForm(forms.Form):
    """A free-form text, allowed within the customer-service window."""

    text = forms.CharField(label="Your message", max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3}))


class TemplateForm(forms.Form):
    """An approved template and the values of its placeholders, one per line."""

    template = forms.ChoiceField(label="Template")
    params = forms.CharField(
        label="Parameters", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One value per line: the first line fills {{1}}, the second {{2}}, and so on.",
    )

    def __init__(self, *args, templates: list[TemplateOption], **kwargs) -> None:
        """The form, its template choices from `templates`."""
        super().__init__(*args, **kwargs)
        self.templates = {t.key: t for t in templates}
        self.fields["template"].choices = [(t.key, f"{t.name} ({t.language})") for t in templates]

    def clean(self) -> dict:
        """The chosen template needs exactly as many values as it has placeholders."""
        cleaned = super().clean()
        option = self.templates.get(cleaned.get("template") or "")
        values = [line.strip() for line in (cleaned.get("params") or "").splitlines() if line.strip()]
        if option is not None and option.params and len(values) != option.params:
            self.add_error(
                "params", f"{option.name} has {option.params} placeholder{'s' if option.params != 1 else ''}: give one value per line."
            )
        cleaned["values"] = values
        return cleaned

    def template_send(self) -> TemplateSend:
        """The template to send, from valid data."""
        option = self.templates[self.cleaned_data["template"]]
        return TemplateSend(option.name, option.language, tuple(self.cleaned_data["values"]))
