"""Forms of the audit pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anwang.audit.selectors import AuditFilters


class DateInput(forms.DateInput):
    """A native date picker."""

    input_type = "date"


class AuditFilterForm(forms.Form):
    """Narrow the audit log down; every field is optional."""

    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=50,
        help_text=_("Matches the start: “resident.” finds every resident action."),
        widget=forms.TextInput(attrs={"placeholder": "resident."}),
    )
    object_type = forms.CharField(
        label=_("Object type"),
        required=False,
        max_length=100,
        help_text=_("The kind of record, for example people.resident"),
        widget=forms.TextInput(attrs={"placeholder": "people.resident"}),
    )
    actor = forms.CharField(label=_("Actor"), required=False, max_length=150)
    community = forms.TypedChoiceField(
        label=_("Community"), required=False, coerce=int, empty_value=None
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput)

    def __init__(self, *args: Any, communities: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        community_field = self.fields["community"]
        assert isinstance(community_field, forms.TypedChoiceField)
        community_field.choices = [("", _("All communities")), *communities]

    def clean(self) -> dict[str, Any]:
        """The range must not end before it starts."""
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def filters(self) -> AuditFilters:
        """The valid filters as the selector takes them (nothing if the form is invalid)."""
        if not self.is_valid():
            return AuditFilters()
        data = self.cleaned_data
        return AuditFilters(
            action=data["action"],
            object_type=data["object_type"],
            actor=data["actor"],
            community_id=data["community"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )
