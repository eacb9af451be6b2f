"""Forms of the alert pages. They only turn what was typed into typed values; every rule (which
buildings belong to the community, when an alert may be sent, who may visit a household)
lives in :mod:`anwang.alerts.services`, whose errors the views show beside the field they
concern. Field names are the services' argument names, so those errors land where they belong.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from anwang.accounts.models import User
from anwang.alerts.choices import (
    AlertState,
    Category,
    Certainty,
    Confirmation,
    KnockOutcome,
    ResponseType,
    Severity,
    TargetGroup,
    Urgency,
)
from anwang.alerts.selectors import ALERT_CHANNELS, Targeting
from anwang.alerts.services import UPDATABLE_FIELDS
from anwang.notifications.choices import Channel
from anwang.places.models import Building, Community, Household, Unit

LOCAL_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
"""A date and time picker; Django reads it in the site's time zone."""
NOTE_MAX = 2000
WHOLE = "1"
CHOSEN = "0"


def person_label(person: User) -> str:
    """How a person is named in a choice list."""
    return f"{person.display_name or person.username} ({person.username})"


def _community_choices(communities: Iterable[Community]) -> list[tuple[int, str]]:
    return [(community.pk, community.name) for community in communities]


class TargetingForm(forms.Form):
    """Whom an alert is for and on which channels: all the reach preview needs."""

    community = forms.TypedChoiceField(label=_("Community"), coerce=int)
    whole_community = forms.ChoiceField(
        label=_("Send to"),
        choices=[
            (WHOLE, _("The whole community")),
            (CHOSEN, _("Chosen buildings, units or households")),
        ],
        initial=WHOLE,
        widget=forms.RadioSelect,
    )
    building_ids = forms.TypedMultipleChoiceField(
        label=_("Buildings"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    unit_ids = forms.TypedMultipleChoiceField(
        label=_("Units"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Hold Ctrl (or ⌘) to choose several."),
    )
    household_ids = forms.TypedMultipleChoiceField(
        label=_("Households"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Grouped by building; hold Ctrl (or ⌘) to choose several."),
    )
    groups = forms.MultipleChoiceField(
        label=_("Only households with"),
        choices=TargetGroup.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty for everyone; ticked groups narrow the alert to their homes."),
    )
    channels = forms.MultipleChoiceField(
        label=_("Also send by"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The message always goes to the app's inbox."),
    )

    def __init__(self, *args: Any, communities: Iterable[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        communities = list(communities)
        self.fields["community"].choices = _community_choices(communities)  # type: ignore[attr-defined]
        if len(communities) == 1:
            self.fields["community"].widget = forms.HiddenInput()
        self.fields["channels"].choices = [  # type: ignore[attr-defined]
            (channel, Channel(channel).label) for channel in ALERT_CHANNELS
        ]

    def set_places(self, community: Community) -> None:
        """Offer the community's buildings, units and households (grouped by building)."""
        buildings = list(Building.objects.filter(community=community).order_by("number", "pk"))
        self.fields["building_ids"].choices = [(b.pk, b.name) for b in buildings]  # type: ignore[attr-defined]
        units = Unit.objects.filter(building__community=community).select_related("building")
        self.fields["unit_ids"].choices = [  # type: ignore[attr-defined]
            (unit.pk, str(unit)) for unit in units.order_by("building__number", "number", "pk")
        ]
        grouped: dict[str, list[tuple[int, str]]] = {}
        households = (
            Household.objects.filter(community=community)
            .select_related("unit__building")
            .order_by("unit__building__number", "unit__number", "floor", "number", "pk")
        )
        for household in households:
            building = household.unit.building.name if household.unit_id else "—"
            grouped.setdefault(building, []).append((household.pk, str(household)))
        self.fields["household_ids"].choices = list(grouped.items())  # type: ignore[attr-defined]

    def targeting(self) -> dict[str, Any]:
        """The targeting arguments of the services, from the cleaned data."""
        data = self.cleaned_data
        return {
            "whole_community": data.get("whole_community", WHOLE) == WHOLE,
            "building_ids": data.get("building_ids") or [],
            "unit_ids": data.get("unit_ids") or [],
            "household_ids": data.get("household_ids") or [],
            "groups": data.get("groups") or [],
        }

    def as_targeting(self, community_id: int) -> Targeting:
        """The targeting of the reach preview."""
        values = self.targeting()
        whole = values["whole_community"]
        return Targeting(
            community_id=community_id,
            whole_community=whole,
            building_ids=() if whole else tuple(values["building_ids"]),
            unit_ids=() if whole else tuple(values["unit_ids"]),
            household_ids=() if whole else tuple(values["household_ids"]),
            groups=tuple(values["groups"]),
        )


class AlertForm(TargetingForm):
    """Compose or edit an alert: what happened in CAP's terms, the text residents read, whom
    it reaches and when."""

    template = forms.CharField(required=False, widget=forms.HiddenInput, max_length=30)
    event = forms.CharField(
        label=_("Event"), max_length=100, help_text=_("For example: typhoon, burglary.")
    )
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)
    certainty = forms.ChoiceField(label=_("Certainty"), choices=Certainty.choices)
    response_type = forms.ChoiceField(
        label=_("What to do"), required=False, choices=[("", "—"), *ResponseType.choices]
    )
    headline = forms.CharField(label=_("Headline"), max_length=160)
    description = forms.CharField(
        label=_("What is happening"), widget=forms.Textarea(attrs={"rows": 3})
    )
    instruction = forms.CharField(
        label=_("What residents should do"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    area_description = forms.CharField(
        label=_("Area"),
        required=False,
        max_length=200,
        help_text=_("Left empty, it is written from the community or the places chosen."),
    )
    confirmation = forms.ChoiceField(
        label=_("Ask residents"),
        choices=Confirmation.choices,
        initial=Confirmation.NONE,
        widget=forms.RadioSelect,
    )
    publish_at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        widget=LOCAL_DATETIME,
        help_text=_("Left empty, the alert goes out when you press Send."),
    )
    expires_at = forms.DateTimeField(label=_("Expires at"), widget=LOCAL_DATETIME)

    field_order = (
        "community",
        "template",
        "event",
        "category",
        "severity",
        "urgency",
        "certainty",
        "response_type",
        "headline",
        "description",
        "instruction",
        "area_description",
    )

    def changes(self) -> dict[str, Any]:
        """The fields of :func:`anwang.alerts.services.alert_update`."""
        data = self.cleaned_data
        # The form has no outline or web link: those stay as they are.
        names = [name for name in UPDATABLE_FIELDS if name in self.fields]
        return {name: data.get(name) for name in names}


class ListFilterForm(forms.Form):
    """Filters of the alert list (read from the query string)."""

    community = forms.TypedChoiceField(
        label=_("Community"), coerce=int, required=False, empty_value=None
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All")), *AlertState.choices]
    )

    def __init__(self, *args: Any, communities: Iterable[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        communities = list(communities)
        self.fields["community"].choices = [("", _("All")), *_community_choices(communities)]  # type: ignore[attr-defined]
        if len(communities) <= 1:
            del self.fields["community"]


class CancelForm(forms.Form):
    """Withdraw an alert, saying why (residents who got it are told)."""

    reason = forms.CharField(
        label=_("Why it is withdrawn"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the alert is withdrawn.")},
    )


GRID_WORKERS = "grid_worker"
PERSON = "person"


class DoorKnockForm(forms.Form):
    """Turn households that have not confirmed into door-knock visits."""

    household_ids = forms.TypedMultipleChoiceField(
        label=_("Households"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    visitor = forms.ChoiceField(
        label=_("Who visits"),
        choices=[
            (GRID_WORKERS, _("Each household's grid worker")),
            (PERSON, pgettext_lazy("door-knock visitor", "This person")),
        ],
        initial=GRID_WORKERS,
        widget=forms.RadioSelect,
    )
    assignee_id = forms.TypedChoiceField(
        label=_("Person"), coerce=int, required=False, empty_value=None
    )
    due_at = forms.DateTimeField(
        label=_("Visit by"),
        required=False,
        widget=LOCAL_DATETIME,
        help_text=_("Left empty: within two hours."),
    )

    def __init__(
        self,
        *args: Any,
        households: Iterable[tuple[int, str]],
        people: Iterable[User],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["household_ids"].choices = list(households)  # type: ignore[attr-defined]
        self.fields["assignee_id"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *[(person.pk, person_label(person)) for person in people],
        ]

    def clean(self) -> dict[str, Any]:
        """A visit by one person needs the person."""
        cleaned = super().clean() or {}
        if cleaned.get("visitor") == PERSON and cleaned.get("assignee_id") is None:
            self.add_error("assignee_id", _("Choose who visits."))
        return cleaned


class KnockRecordForm(forms.Form):
    """What the visitor found at the door."""

    outcome = forms.ChoiceField(label=_("Outcome"), choices=KnockOutcome.choices)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when someone needs help: say what they need."),
    )
