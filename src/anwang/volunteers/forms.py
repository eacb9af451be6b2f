"""Forms of the volunteers pages. They only convert input; every rule lives in
:mod:`anwang.volunteers.services`, whose errors the views show on the field they concern."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from anwang.places.models import Zone
from anwang.volunteers.choices import DayPart, Skill, Weekday
from anwang.volunteers.models import Team, Volunteer

SLOT_CHOICES = [
    (f"{day.value}:{part.value}", format_lazy("{} · {}", day.label, part.label))
    for day in Weekday
    for part in DayPart
]


class DateTimeInput(forms.DateTimeInput):
    """A phone-friendly date and time picker."""

    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateInput(forms.DateInput):
    """A phone-friendly date picker."""

    input_type = "date"


class ApplicationForm(forms.Form):
    """An application to volunteer, or changes to one's skills and availability."""

    skills = forms.MultipleChoiceField(
        label=_("Skills"),
        choices=Skill.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    languages = forms.CharField(
        label=_("Languages"),
        max_length=200,
        required=False,
        help_text=_("If you chose languages: which ones, e.g. English, sign language."),
    )
    other_skills = forms.CharField(label=_("Other skills"), max_length=200, required=False)
    availability = forms.MultipleChoiceField(
        label=_("When you are available"),
        choices=SLOT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    motivation = forms.CharField(
        label=_("About me"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Anything the organisers should know. Your phone number is taken from your account."
        ),
    )


class ReasonForm(forms.Form):
    """A reason (refusal, suspension, cancellation, correction)."""

    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


class OptionalReasonForm(forms.Form):
    """A reason the person may give."""

    reason = forms.CharField(
        label=_("Reason (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TeamForm(forms.Form):
    """A team with its leader and members."""

    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    leader = forms.ModelChoiceField(
        label=_("Leader"), queryset=Volunteer.objects.none(), required=False, empty_label="—"
    )
    members = forms.ModelMultipleChoiceField(
        label=_("Members"),
        queryset=Volunteer.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, volunteers: QuerySet[Volunteer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("leader", "members"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = volunteers


class ShiftForm(forms.Form):
    """A shift of volunteer duty."""

    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label="—"
    )
    zone = forms.ModelChoiceField(
        label=_("Zone"), queryset=Zone.objects.none(), required=False, empty_label="—"
    )
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=DateTimeInput())
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=DateTimeInput())
    capacity = forms.IntegerField(label=_("Places"), min_value=1, initial=5)

    def __init__(
        self, *args: Any, teams: QuerySet[Team], zones: QuerySet[Zone], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for name, queryset in (("team", teams), ("zone", zones)):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = queryset


class HoursForm(forms.Form):
    """A volunteer's corrected hours for a shift."""

    hours = forms.DecimalField(
        label=_("Hours"), min_value=0, max_value=24, decimal_places=2, max_digits=5
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PeriodForm(forms.Form):
    """The period a certificate of service covers (both ends optional)."""

    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())
