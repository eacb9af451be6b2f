"""Forms of the visitor pages and the gate: registering a visitor, checking a pass, and a
walk-in in the gate log. They only collect input; the rules are in :mod:`anwang.access.passes`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anwang.access.choices import GateEntryKind
from anwang.access.models import AccessPoint
from anwang.places.models import Household

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class VisitorForm(forms.Form):
    """A visitor a resident registers."""

    household = forms.ModelChoiceField(queryset=Household.objects.none(), label=_("Household"))
    visitor_name = forms.CharField(label=_("Visitor's name"), max_length=100)
    visitor_phone = forms.CharField(
        label=_("Visitor's mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    valid_from = forms.DateTimeField(
        label=_("From"), widget=DATETIME_WIDGET, input_formats=DATETIME_FORMATS
    )
    valid_until = forms.DateTimeField(
        label=_("Until"),
        widget=DATETIME_WIDGET,
        input_formats=DATETIME_FORMATS,
        help_text=_("At most 7 days after the start."),
    )
    max_entries = forms.IntegerField(
        label=_("Entries allowed"), min_value=1, max_value=20, initial=1
    )
    plate = forms.CharField(
        label=_("Car plate"),
        max_length=20,
        required=False,
        help_text=_("Optional: the barrier opens for this plate during the visit."),
    )

    def __init__(self, *args: Any, households: list[Household], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["household"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Household.objects.filter(pk__in=[h.pk for h in households])
        if len(households) == 1:
            field.initial = households[0].pk
            field.widget = forms.HiddenInput()


class GateCheckForm(forms.Form):
    """A scanned or typed pass at a gate."""

    access_point = forms.ModelChoiceField(
        queryset=AccessPoint.objects.none(), label=_("Gate"), empty_label=None
    )
    token = forms.CharField(
        label=_("Pass code"),
        max_length=200,
        widget=forms.TextInput(
            # The camera scanner (core's qr_scan.js) puts what it reads here and submits.
            attrs={"autocomplete": "off", "autocapitalize": "off", "data-scan-input": ""}
        ),
    )

    def __init__(self, *args: Any, points: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["access_point"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = points


class GateLogForm(forms.Form):
    """A line of the gate log the guard writes."""

    kind = forms.ChoiceField(
        label=_("What"),
        choices=[
            (GateEntryKind.WALK_IN.value, GateEntryKind.WALK_IN.label),
            (GateEntryKind.DELIVERY.value, GateEntryKind.DELIVERY.label),
            (GateEntryKind.REFUSED.value, GateEntryKind.REFUSED.label),
        ],
    )
    access_point = forms.ModelChoiceField(
        queryset=AccessPoint.objects.none(), label=_("Gate"), required=False
    )
    visitor_name = forms.CharField(label=_("Name"), max_length=100, required=False)
    visitor_phone = forms.CharField(label=_("Mobile number"), max_length=20, required=False)
    plate = forms.CharField(label=_("Car plate"), max_length=20, required=False)
    household = forms.ModelChoiceField(
        queryset=Household.objects.none(), label=_("Household visited"), required=False
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, points: Any, households: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        point_field = self.fields["access_point"]
        household_field = self.fields["household"]
        assert isinstance(point_field, forms.ModelChoiceField)
        assert isinstance(household_field, forms.ModelChoiceField)
        point_field.queryset = points
        household_field.queryset = households
