"""Forms of the devices pages. They only convert what was typed into typed values; every rule
(unique source identity, positions, zones of the same community) lives in
:mod:`anwang.devices.services`, whose errors the views attach to the field they concern."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from anwang.devices.choices import CredentialKind, DeviceKind, Protocol
from anwang.devices.models import DEFAULT_HEARTBEAT_SECONDS
from anwang.places.models import Building, Zone


class DeviceForm(forms.Form):
    """A device of a community."""

    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=DeviceKind.choices)
    protocol = forms.ChoiceField(label=_("Protocol"), choices=Protocol.choices)
    source_id = forms.CharField(
        label=_("Source identity"),
        max_length=200,
        help_text=_(
            "The Zigbee2MQTT friendly name, the Frigate camera name, the Hikvision serial "
            "number or address, or our own id."
        ),
    )
    zone = forms.ModelChoiceField(
        label=_("Zone"), queryset=Zone.objects.none(), required=False, empty_label="—"
    )
    building = forms.ModelChoiceField(
        label=_("Building"),
        queryset=Building.objects.none(),
        required=False,
        empty_label="—",
        help_text=_("The building the device is in or on, if any."),
    )
    latitude = forms.FloatField(label=_("Latitude"), required=False)
    longitude = forms.FloatField(
        label=_("Longitude"), required=False, help_text=_("WGS84, as GPS shows it.")
    )
    heartbeat_seconds = forms.IntegerField(
        label=_("Expected heartbeat (seconds)"),
        min_value=0,
        initial=DEFAULT_HEARTBEAT_SECONDS,
        help_text=_("The device is offline when silent this long; 0 means it sends none."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self, *args: Any, zones: QuerySet[Zone], buildings: QuerySet[Building], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        zone_field = self.fields["zone"]
        assert isinstance(zone_field, forms.ModelChoiceField)
        zone_field.queryset = zones
        building_field = self.fields["building"]
        assert isinstance(building_field, forms.ModelChoiceField)
        building_field.queryset = buildings


class CredentialForm(forms.Form):
    """A credential to issue for a device."""

    kind = forms.ChoiceField(label=_("Kind"), choices=CredentialKind.choices)
    username = forms.CharField(
        label=_("User name"),
        max_length=100,
        required=False,
        help_text=_("For HTTP Basic and Digest; the source identity when empty."),
    )


class ImportForm(forms.Form):
    """A devices spreadsheet to import."""

    file = forms.FileField(
        label=_("File"), help_text=_("An .xlsx workbook or a .csv file, at most 10 MB.")
    )
