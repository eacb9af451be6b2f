"""Forms of the welfare-check pages. They only turn what was typed into typed values; every rule
(consent needed, who may be assigned, a note for a real emergency, when a watch may be paused)
lives in :mod:`anwang.welfare.services`, whose errors the views show beside the field they
concern. Field names are the services' argument names, so those errors land where they belong.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from anwang.access.choices import ConsentKind
from anwang.access.models import ConsentRecord
from anwang.accounts.models import User
from anwang.devices.models import Device
from anwang.people.models import EmergencyContact, Resident
from anwang.places.models import Community
from anwang.welfare import services
from anwang.welfare.models import DEFAULT_ESCALATE_MINUTES, DEFAULT_QUIET_HOURS, WelfareWatch

LOCAL_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
"""A date and time picker; Django reads it in the site's time zone."""
NOTE_MAX = 2000
STATES = [
    ("", _("All")),
    ("active", _("Watched")),
    ("paused", _("Paused")),
    ("ended", _("Ended")),
]
"""The ``state`` filter of :func:`anwang.welfare.selectors.watch_list`."""
CLOSE_OUTCOMES = [(outcome.value, outcome.label) for outcome in services.CLOSE_OUTCOMES]
"""What a visitor can report ("activity seen again" is the worker's own)."""


def person_label(person: User) -> str:
    """How a person is named in a choice list."""
    return f"{person.display_name or person.username} ({person.username})"


class FilterForm(forms.Form):
    """Filters of the enrolment list (read from the query string)."""

    community = forms.TypedChoiceField(
        label=_("Community"), coerce=int, required=False, empty_value=None
    )
    state = forms.ChoiceField(label=_("State"), required=False, choices=STATES)
    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, *args: Any, communities: Iterable[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        communities = list(communities)
        field: Any = self.fields["community"]
        field.choices = [("", _("All")), *[(c.pk, c.name) for c in communities]]
        if len(communities) <= 1:
            del self.fields["community"]
        self.fields["q"].widget.attrs["placeholder"] = _("Resident's name")


class ResidentChoiceForm(forms.Form):
    """The first step of an enrolment: whom (residents of the community not watched now)."""

    resident = forms.ModelChoiceField(
        label=_("Resident"),
        queryset=Resident.objects.none(),
        error_messages={"invalid_choice": _("Choose a resident of this community.")},
    )

    def __init__(self, *args: Any, residents: QuerySet[Resident], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        consenting = set(
            ConsentRecord.objects.filter(
                resident__in=residents, kind=ConsentKind.WELFARE, withdrawn_at__isnull=True
            ).values_list("resident_id", flat=True)
        )
        field: Any = self.fields["resident"]
        field.queryset = residents

        def label(resident: Resident) -> str:
            notes = [resident.name]
            if resident.pk in consenting:
                notes.append(str(_("consent in force")))
            if getattr(resident, "vulnerable", False):
                notes.append(str(_("lives alone or needs care")))
            return " · ".join(notes)

        field.label_from_instance = label


class WatchForm(forms.Form):
    """An enrolment's settings: how long a silence, who visits, whom to call, which sensors."""

    consent_how = forms.CharField(
        label=_("How the resident consented"),
        max_length=200,
        help_text=_(
            "No welfare-check consent is on record: say how it was given (signed form, by "
            "phone with their son...). It is recorded with your name."
        ),
    )
    quiet_hours = forms.IntegerField(
        label=_("Hours of silence before a check"),
        min_value=1,
        max_value=168,
        initial=DEFAULT_QUIET_HOURS,
    )
    use_baseline = forms.BooleanField(
        label=_("Learn the household's usual quiet spells"),
        required=False,
        initial=True,
        help_text=_(
            "Wait longer than the hours above when this home is usually quiet longer (at most "
            "twice as long)."
        ),
    )
    assignee = forms.ModelChoiceField(
        label=_("Volunteer or grid worker who visits"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("The household's grid worker"),
    )
    escalate_after_minutes = forms.IntegerField(
        label=_("Call the family contact after (minutes)"),
        min_value=10,
        max_value=24 * 60,
        initial=DEFAULT_ESCALATE_MINUTES,
        help_text=_("When nobody closes the check in this time, the family contact is called."),
    )
    family_contact = forms.ModelChoiceField(
        label=_("Family contact"),
        queryset=EmergencyContact.objects.none(),
        required=False,
        empty_label=_("None"),
        help_text=_("One of the resident's emergency contacts."),
    )
    devices = forms.ModelMultipleChoiceField(
        label=_("Home sensors"),
        queryset=Device.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Door contact, motion sensor, water meter... whose activity counts."),
    )

    def __init__(
        self,
        *args: Any,
        community: Community,
        resident: Resident,
        assignees: QuerySet[User],
        ask_consent: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["assignee"].queryset = assignees
        fields["assignee"].label_from_instance = person_label
        fields["family_contact"].queryset = resident.emergency_contacts.order_by("id")
        fields["family_contact"].label_from_instance = contact_label
        fields["devices"].queryset = Device.objects.filter(community=community).order_by(
            "name", "id"
        )
        if not ask_consent:
            del self.fields["consent_how"]

    @staticmethod
    def initial_of(watch: WelfareWatch) -> dict[str, Any]:
        """What the form shows for an existing enrolment."""
        return {
            "quiet_hours": watch.quiet_hours,
            "use_baseline": watch.use_baseline,
            "assignee": watch.assignee_id,
            "escalate_after_minutes": watch.escalate_after_minutes,
            "family_contact": watch.family_contact_id,
            "devices": [device.pk for device in watch.devices.all()],
        }


def contact_label(contact: EmergencyContact) -> str:
    """An emergency contact in a choice list: name and relation (the number stays masked)."""
    relation = f" ({contact.relation})" if contact.relation else ""
    return f"{contact.name}{relation} {contact.phone_masked}"


class PauseForm(forms.Form):
    """Pause checks until a date and time (away on a trip, in hospital)."""

    until = forms.DateTimeField(
        label=_("Paused until"),
        widget=LOCAL_DATETIME,
        error_messages={"required": _("Say until when the checks are paused.")},
    )


class EndForm(forms.Form):
    """End an enrolment, and with it perhaps the resident's consent."""

    withdraw_consent = forms.BooleanField(
        label=_("The resident withdrew their consent"),
        required=False,
        help_text=_("Records the withdrawal: enrolling them again needs a new consent."),
    )


class CloseForm(forms.Form):
    """What the visit (or a call) found."""

    outcome = forms.ChoiceField(
        label=_("What you found"),
        choices=CLOSE_OUTCOMES,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what you found.")},
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when the resident needed help or emergency services were called."),
    )


class ReassignForm(forms.Form):
    """Give an open check to someone else."""

    assignee = forms.ModelChoiceField(
        label=_("Give the check to"),
        queryset=User.objects.none(),
        error_messages={"required": _("Choose who carries out the check.")},
    )

    def __init__(self, *args: Any, assignees: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["assignee"]
        field.queryset = assignees
        field.label_from_instance = person_label


class ReportForm(forms.Form):
    """The community and how many months the false-alarm report covers."""

    community = forms.TypedChoiceField(
        label=_("Community"), coerce=int, required=False, empty_value=None
    )
    months = forms.IntegerField(label=_("Months"), min_value=1, max_value=24, initial=6)

    def __init__(self, *args: Any, communities: Iterable[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        communities = list(communities)
        field: Any = self.fields["community"]
        field.choices = [(c.pk, c.name) for c in communities]
        if len(communities) <= 1:
            del self.fields["community"]
