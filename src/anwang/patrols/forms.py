"""Forms of the patrols pages. They only convert what was typed into typed values; every rule
(placement, names, stops of the same community) lives in :mod:`anwang.patrols.services`, whose
errors the views attach to the field they concern."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from anwang.accounts.models import User
from anwang.accounts.selectors import Scope
from anwang.devices.models import Device
from anwang.patrols import selectors
from anwang.patrols.choices import Placement, RunOrder
from anwang.patrols.models import (
    DEFAULT_DWELL_SECONDS,
    DEFAULT_MAX_GAP_SECONDS,
    Checkpoint,
    PatrolRoute,
)
from anwang.places.models import Building, Community, Zone
from anwang.volunteers.models import Team


class CheckpointForm(forms.Form):
    """A checkpoint of a community."""

    name = forms.CharField(label=_("Name"), max_length=100)
    placement = forms.ChoiceField(
        label=_("Placed at"), choices=Placement.choices, widget=forms.RadioSelect
    )
    zone = forms.ModelChoiceField(
        label=_("Zone"), queryset=Zone.objects.none(), required=False, empty_label="—"
    )
    building = forms.ModelChoiceField(
        label=_("Building"), queryset=Building.objects.none(), required=False, empty_label="—"
    )
    device = forms.ModelChoiceField(
        label=_("Door device"),
        queryset=Device.objects.none(),
        required=False,
        empty_label="—",
        help_text=_("An access reader or door contact of this community."),
    )
    point = forms.CharField(
        label=_("Point on the map"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Click on the map to place the checkpoint (GeoJSON Point, WGS84). Required for a "
            "point on the map; for a zone, building or door it says exactly where the label is."
        ),
    )
    nfc_tag_id = forms.CharField(
        label=_("NFC tag id"),
        max_length=64,
        required=False,
        help_text=_("The id of an NFC tag fixed at the checkpoint, if any."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self,
        *args: Any,
        zones: QuerySet[Zone],
        buildings: QuerySet[Building],
        devices: QuerySet[Device],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for name, queryset in (("zone", zones), ("building", buildings), ("device", devices)):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = queryset


class RouteForm(forms.Form):
    """A patrol route's name, description and whether it is in use."""

    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("Only active routes are patrolled."),
    )


class StopForm(forms.Form):
    """A stop to add to a route, or new times for one."""

    checkpoint = forms.ModelChoiceField(label=_("Checkpoint"), queryset=Checkpoint.objects.none())
    dwell_seconds = forms.IntegerField(
        label=_("Expected dwell (seconds)"), min_value=0, initial=DEFAULT_DWELL_SECONDS
    )
    max_gap_seconds = forms.IntegerField(
        label=_("Maximum gap to the next stop (seconds)"),
        min_value=0,
        initial=DEFAULT_MAX_GAP_SECONDS,
    )

    def __init__(self, *args: Any, checkpoints: QuerySet[Checkpoint], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["checkpoint"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = checkpoints


WEEKDAYS = (
    ("MO", _("Monday")),
    ("TU", _("Tuesday")),
    ("WE", _("Wednesday")),
    ("TH", _("Thursday")),
    ("FR", _("Friday")),
    ("SA", _("Saturday")),
    ("SU", _("Sunday")),
)
REPEATS = (
    ("daily", _("Every day")),
    ("weekly", _("Every week on the days ticked")),
    ("hourly", _("Every few hours")),
    ("advanced", _("Advanced: an RRULE")),
)


class ScheduleForm(forms.Form):
    """A patrol schedule: route, first shift, how it repeats, order, guards."""

    name = forms.CharField(label=_("Name"), max_length=100)
    route = forms.ModelChoiceField(
        label=_("Route"), queryset=PatrolRoute.objects.none(), empty_label=None
    )
    first_start = forms.DateTimeField(
        label=_("First shift starts"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Local time of the community; later shifts keep this time of day."),
    )
    duration_minutes = forms.IntegerField(
        label=_("Shift length (minutes)"), min_value=1, max_value=24 * 60
    )
    repeat = forms.ChoiceField(
        label=_("Repeat"), choices=REPEATS, widget=forms.RadioSelect, initial="daily"
    )
    weekdays = forms.MultipleChoiceField(
        label=_("Days of the week"),
        choices=WEEKDAYS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    every_hours = forms.IntegerField(
        label=_("Every how many hours"), min_value=1, max_value=23, required=False
    )
    rrule_text = forms.CharField(
        label=_("Advanced: RRULE"),
        max_length=500,
        required=False,
        help_text=_("For example FREQ=MONTHLY;BYDAY=1SA (first Saturday)."),
    )
    order_mode = forms.ChoiceField(
        label=_("Order of the checkpoints"),
        choices=RunOrder.choices,
        widget=forms.RadioSelect,
        initial=RunOrder.FIXED,
    )
    random_start = forms.BooleanField(
        label=_("Start at a random time within the shift"), required=False
    )
    guards = forms.ModelMultipleChoiceField(
        label=_("Guards"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    teams = forms.ModelMultipleChoiceField(
        label=_("Volunteer teams"),
        queryset=Team.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Their approved volunteers are assigned too."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea, required=False)

    def __init__(self, *args: Any, scope: Scope, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        route_field = self.fields["route"]
        assert isinstance(route_field, forms.ModelChoiceField)
        route_field.queryset = selectors.patrol_route_list(scope, community_id=community.pk)
        guard_field = self.fields["guards"]
        assert isinstance(guard_field, forms.ModelMultipleChoiceField)
        guard_field.queryset = selectors.patrol_guard_choices(scope, community.pk)
        team_field = self.fields["teams"]
        assert isinstance(team_field, forms.ModelMultipleChoiceField)
        team_field.queryset = Team.objects.filter(community_id=community.pk).order_by("name")

    def clean(self) -> dict[str, Any]:
        """Turn the repeat builder's choices into one RRULE (``rrule``)."""
        data = super().clean() or {}
        repeat = data.get("repeat")
        if repeat == "daily":
            data["rrule"] = "FREQ=DAILY"
        elif repeat == "weekly":
            if not data.get("weekdays"):
                self.add_error("weekdays", _("Tick at least one day."))
            days = [code for code, _label in WEEKDAYS if code in data.get("weekdays", [])]
            data["rrule"] = "FREQ=WEEKLY;BYDAY=" + ",".join(days)
        elif repeat == "hourly":
            if not data.get("every_hours"):
                self.add_error("every_hours", _("Enter every how many hours."))
            data["rrule"] = f"FREQ=HOURLY;INTERVAL={data.get('every_hours') or 1}"
        else:
            data["rrule"] = data.get("rrule_text", "")
        return data

    def values(self) -> dict[str, Any]:
        """The cleaned data as the schedule services take it."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "route": data["route"],
            "first_start": data["first_start"],
            "duration": dt.timedelta(minutes=data["duration_minutes"]),
            "rrule": data["rrule"],
            "order_mode": data["order_mode"],
            "random_start": data["random_start"],
            "guards": list(data["guards"]),
            "teams": list(data["teams"]),
            "is_active": data["is_active"],
            "note": data["note"],
        }
