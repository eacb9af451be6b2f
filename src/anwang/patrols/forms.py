"""Forms of the patrols pages. They only convert what was typed into typed values; every rule
(placement, names, stops of the same community) lives in :mod:`anwang.patrols.services`, whose
errors the views attach to the field they concern."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from anwang.devices.models import Device
from anwang.patrols.choices import Placement
from anwang.patrols.models import DEFAULT_DWELL_SECONDS, DEFAULT_MAX_GAP_SECONDS, Checkpoint
from anwang.places.models import Building, Zone


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
