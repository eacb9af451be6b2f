"""Forms of the incident pages. They only turn what was typed into typed values; every rule
(who may act, which zone or person belongs to the community, what closing needs) lives in
:mod:`anwang.incidents.services`, whose errors the views show beside the field they concern."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anwang.accounts.models import User
from anwang.core import geo
from anwang.core.errors import ServiceError
from anwang.incidents.choices import IncidentState
from anwang.places.models import Community, Zone
from anwang.plans.choices import IncidentType

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NOTE_MAX = 2000


def person_label(person: User) -> str:
    """How a person is named in a choice list (their name, and the login that tells two
    people of the same name apart)."""
    return f"{person.display_name or person.username} ({person.username})"


def _people_choices(people: Iterable[User]) -> list[tuple[int, str]]:
    return [(person.pk, person_label(person)) for person in people]


class DeclareForm(forms.Form):
    """Declare an incident (or start a drill) by hand."""

    community = forms.TypedChoiceField(label=_("Community"), coerce=int)
    incident_type = forms.ChoiceField(label=_("Incident type"), choices=IncidentType.choices)
    title = forms.CharField(
        label=_("Title"),
        required=False,
        max_length=200,
        help_text=_("For example: smoke in building 3, 2nd floor. Left empty, the type is used."),
    )
    description = forms.CharField(
        label=_("What is happening"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    zone = forms.TypedChoiceField(label=_("Zone"), coerce=int, required=False, empty_value=None)
    point = forms.CharField(
        label=_("Where on the map"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "geometry-input"}),
        help_text=_("Click on the map to mark the place (GeoJSON Point, WGS84)."),
    )
    is_drill = forms.BooleanField(
        label=_("This is a drill"),
        required=False,
        help_text=_("A drill runs the same plan and tasks, marked as a drill everywhere."),
    )
    participants = forms.TypedMultipleChoiceField(
        label=_("Participants"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Who takes part in the drill; it counts as training for them."),
    )

    def __init__(
        self,
        *args: Any,
        communities: Iterable[Community],
        zones: Iterable[Zone],
        people: Iterable[User],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        communities = list(communities)
        self.fields["community"].choices = [(c.pk, c.name) for c in communities]  # type: ignore[attr-defined]
        if len(communities) == 1:
            self.fields["community"].widget = forms.HiddenInput()
        self.fields["zone"].choices = [("", "—")] + [(z.pk, z.name) for z in zones]  # type: ignore[attr-defined]
        self.fields["participants"].choices = _people_choices(people)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        """A point placed on the map gives the latitude and longitude."""
        cleaned = super().clean() or {}
        cleaned["latitude"] = cleaned["longitude"] = None
        point = cleaned.get("point")
        if point:
            try:
                longitude, latitude = geo.validate_geometry(
                    point, allowed=("Point",), field="point"
                )["coordinates"]
            except ServiceError as error:
                self.add_error("point", str(error.message))
            else:
                cleaned.update(latitude=latitude, longitude=longitude)
        return cleaned


class ListFilterForm(forms.Form):
    """Filters of the incident list (read from the query string)."""

    community = forms.TypedChoiceField(
        label=_("Community"), coerce=int, required=False, empty_value=None
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All")), *IncidentState.choices]
    )
    is_drill = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[
            ("", _("Incidents and drills")),
            ("0", _("Incidents only")),
            ("1", _("Drills only")),
        ],
    )

    def __init__(self, *args: Any, communities: Iterable[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        communities = list(communities)
        self.fields["community"].choices = [("", _("All"))] + [(c.pk, c.name) for c in communities]  # type: ignore[attr-defined]
        if len(communities) <= 1:
            del self.fields["community"]


class CompleteForm(forms.Form):
    """Tick a task off, with an optional note of what was done."""

    note = forms.CharField(label=_("Note"), required=False, max_length=NOTE_MAX)


class SkipForm(forms.Form):
    """Mark a task not needed, saying why."""

    note = forms.CharField(
        label=_("Why it is not needed"),
        max_length=NOTE_MAX,
        error_messages={"required": _("Say why the task is not needed.")},
    )


class ReassignForm(forms.Form):
    """Give a task to someone else."""

    assignee = forms.TypedChoiceField(label=_("Give to"), coerce=int)

    def __init__(self, *args: Any, people: Iterable[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = _people_choices(people)  # type: ignore[attr-defined]


class TaskAddForm(forms.Form):
    """Add a task the plan did not foresee."""

    title = forms.CharField(label=_("Task"), max_length=200)
    instructions = forms.CharField(
        label=_("Instructions"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    assignee = forms.TypedChoiceField(
        label=_("Assigned to"), coerce=int, required=False, empty_value=None
    )
    due_in_minutes = forms.IntegerField(
        label=_("Due in (minutes)"), required=False, min_value=1, max_value=7 * 24 * 60
    )

    def __init__(self, *args: Any, people: Iterable[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", "—"), *_people_choices(people)]  # type: ignore[attr-defined]


class NoteForm(forms.Form):
    """Add a line to the timeline."""

    text = forms.CharField(
        label=_("Note"), max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )


class AlarmLinkForm(forms.Form):
    """Link another alarm to the incident."""

    alarm = forms.TypedChoiceField(label=_("Alarm"), coerce=int)

    def __init__(self, *args: Any, alarms: Iterable[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["alarm"].choices = list(alarms)  # type: ignore[attr-defined]


class ParticipantForm(forms.Form):
    """Add someone taking part (in a drill, this counts as their training)."""

    person = forms.TypedChoiceField(label=_("Person"), coerce=int)
    role_note = forms.CharField(
        label=_("Role in the drill"),
        required=False,
        max_length=100,
        help_text=_("For example: evacuation guide for building 2."),
    )

    def __init__(self, *args: Any, people: Iterable[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = _people_choices(people)  # type: ignore[attr-defined]


class ReviewForm(forms.Form):
    """The after-action review written when closing: what worked and what did not."""

    what_worked = forms.CharField(
        label=_("What worked"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    what_did_not = forms.CharField(
        label=_("What did not work"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class ActionItemForm(forms.Form):
    """One thing to change after the incident, with an owner."""

    description = forms.CharField(
        label=_("Action"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int, required=False, empty_value=None)
    due_on = forms.DateField(label=_("Due on"), required=False, widget=DATE_WIDGET)
    revise_plan = forms.BooleanField(
        label=_("Revise the plan"),
        required=False,
        help_text=_("Opens a new draft of the plan, pre-filled, for this change."),
    )

    def __init__(
        self, *args: Any, people: Iterable[User] = (), may_revise: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "—"), *_people_choices(people)]  # type: ignore[attr-defined]
        if not may_revise:
            # Only plan writers open drafts; the owner can open it later from the item.
            del self.fields["revise_plan"]

    def clean(self) -> dict[str, Any]:
        """A row is either left empty or has both what to do and who owns it."""
        cleaned = super().clean() or {}
        description = (cleaned.get("description") or "").strip()
        cleaned["description"] = description
        if description and cleaned.get("owner") is None and "owner" not in self.errors:
            self.add_error("owner", _("Choose who owns this action."))
        if not description and (cleaned.get("owner") is not None or cleaned.get("revise_plan")):
            self.add_error("description", _("Say what is to be done."))
        return cleaned

    @property
    def is_blank(self) -> bool:
        """Whether the row was left empty (blank rows of the formset are ignored)."""
        data = getattr(self, "cleaned_data", {})
        return not data.get("description") and data.get("owner") is None


ActionItemFormSet = forms.formset_factory(ActionItemForm, extra=3, max_num=20, validate_max=True)
"""Action items written with the review (each row is given the community's people with
``form_kwargs={"people": ...}``)."""
