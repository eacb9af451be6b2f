"""Forms of the rosters pages: a duty pattern and an exception or swap. They only shape the
input; :mod:`anwang.rosters.services` checks it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from anwang.accounts.models import User
from anwang.places.models import Community
from anwang.rosters import selectors
from anwang.rosters.choices import DutyRole, ExceptionKind
from anwang.rosters.models import DutyPattern

_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class PatternChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A duty pattern, labelled with its start time and rule: a person may hold two patterns
    in one role (days and nights), and the start tells them apart."""

    def label_from_instance(self, obj: Any) -> str:
        """Role · person · start time · rule."""
        return f"{obj} · {timezone.localtime(obj.first_start):%H:%M} · {obj.rrule}"


def _active_patterns(field: forms.Field, community: Community) -> None:
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = DutyPattern.objects.filter(community=community, is_active=True).select_related(
        "person"
    )


class PatternForm(forms.Form):
    """A person's recurring duty: duty role, person, first shift, how it repeats."""

    duty_role = forms.ChoiceField(label=_("Duty role"), choices=DutyRole.choices)
    person = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    first_start = forms.DateTimeField(
        label=_("First shift starts"),
        widget=_LOCAL,
        help_text=_("Local time of the community; later shifts keep this time of day."),
    )
    duration_minutes = forms.IntegerField(
        label=_("Shift length (minutes)"), min_value=1, max_value=24 * 60, initial=720
    )
    rrule = forms.CharField(
        label=_("Repeat rule (RRULE)"),
        max_length=500,
        initial="FREQ=DAILY",
        help_text=_("For example FREQ=DAILY, FREQ=WEEKLY;BYDAY=MO,WE,FR or FREQ=DAILY;INTERVAL=3."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["person"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = selectors.people_choices(community.pk)

    def values(self) -> dict[str, Any]:
        """The cleaned data as the pattern services take it."""
        data = self.cleaned_data
        return {
            "duty_role": data["duty_role"],
            "person": data["person"],
            "first_start": data["first_start"],
            "duration": dt.timedelta(minutes=data["duration_minutes"]),
            "rrule": data["rrule"],
            "is_active": data["is_active"],
            "note": data["note"],
        }


class ExceptionForm(forms.Form):
    """Cancel or swap one shift (by key) or the shifts starting in a range: of one pattern, or
    of all of a person's patterns in a duty role (leave, a day off)."""

    pattern = PatternChoiceField(
        label=_("Duty pattern"),
        required=False,
        queryset=DutyPattern.objects.none(),
        empty_label=_("— none: a person in a duty role, below —"),
    )
    person = forms.ModelChoiceField(
        label=_("Or a person"),
        required=False,
        queryset=User.objects.none(),
        help_text=_("Without a pattern: all of this person's patterns in the duty role."),
    )
    duty_role = forms.ChoiceField(
        label=_("in the duty role"),
        required=False,
        choices=[("", "—"), *DutyRole.choices],
    )
    kind = forms.ChoiceField(label=_("What happens"), choices=ExceptionKind.choices)
    shift_key = forms.CharField(
        label=_("Shift"),
        required=False,
        max_length=20,
        help_text=_("One shift, by its local start as YYYYMMDDTHHMM; or give a range below."),
    )
    starts_at = forms.DateTimeField(label=_("Shifts starting from"), required=False, widget=_LOCAL)
    ends_at = forms.DateTimeField(label=_("until"), required=False, widget=_LOCAL)
    replacement = forms.ModelChoiceField(
        label=_("Replacement"),
        required=False,
        queryset=User.objects.none(),
        help_text=_("Who takes the shifts when they are swapped."),
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _active_patterns(self.fields["pattern"], community)
        for name in ("person", "replacement"):
            people = self.fields[name]
            assert isinstance(people, forms.ModelChoiceField)
            people.queryset = selectors.people_choices(community.pk)

    def clean(self) -> dict[str, Any]:
        """One pattern, or a person with a duty role; not both."""
        data = super().clean() or {}
        if data.get("pattern") is not None and data.get("person") is not None:
            raise forms.ValidationError(
                _("Choose a duty pattern or a person in a duty role, not both.")
            )
        return data

    def values(self) -> dict[str, Any]:
        """The cleaned data as :func:`anwang.rosters.services.duty_exception_add` takes it."""
        data = dict(self.cleaned_data)
        data["duty_role"] = data.get("duty_role") or ""
        return data


class SwapForm(forms.Form):
    """Two people swap one shift each."""

    pattern = PatternChoiceField(label=_("Duty pattern"), queryset=DutyPattern.objects.none())
    shift_key = forms.CharField(
        label=_("Shift"),
        max_length=20,
        help_text=_("By its local start as YYYYMMDDTHHMM."),
    )
    other_pattern = PatternChoiceField(
        label=_("Swapped with the pattern"), queryset=DutyPattern.objects.none()
    )
    other_shift_key = forms.CharField(
        label=_("and its shift"),
        max_length=20,
        help_text=_("By its local start as YYYYMMDDTHHMM."),
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("pattern", "other_pattern"):
            _active_patterns(self.fields[name], community)

    def values(self) -> dict[str, Any]:
        """The cleaned data as :func:`anwang.rosters.services.duty_shifts_swap` takes it."""
        return dict(self.cleaned_data)
