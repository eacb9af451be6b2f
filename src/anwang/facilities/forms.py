"""Forms of the facilities pages. They only convert what was typed into typed values; every
rule (type-specific fields, codes, places of the community, stock never negative) lives in
:mod:`anwang.facilities.services`, whose errors the views attach to the field they concern."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anwang.core import geo
from anwang.core.errors import ServiceError
from anwang.facilities.choices import AssetStatus, AssetType, ExtinguisherType
from anwang.places.models import Building, Unit, Zone

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PHOTO_WIDGET = forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"})
ACTIVE_STATUSES = [
    (AssetStatus.IN_SERVICE.value, AssetStatus.IN_SERVICE.label),
    (AssetStatus.OUT_OF_SERVICE.value, AssetStatus.OUT_OF_SERVICE.label),
]


class AssetForm(forms.Form):
    """Register or edit an asset; fields of other types than the chosen one are ignored."""

    asset_type = forms.ChoiceField(label=_("Type"), choices=AssetType.choices)
    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        required=False,
        help_text=_("Printed on the label. Leave empty to have one generated."),
    )
    status = forms.ChoiceField(label=_("Status"), choices=ACTIVE_STATUSES)
    # A plain file field: the service checks the content, a browser's type and name prove nothing.
    photo = forms.FileField(label=_("Photo"), required=False, widget=PHOTO_WIDGET)
    building = forms.TypedChoiceField(
        label=_("Building"), coerce=int, required=False, empty_value=None
    )
    unit = forms.TypedChoiceField(label=_("Entrance"), coerce=int, required=False, empty_value=None)
    zone = forms.TypedChoiceField(label=_("Zone"), coerce=int, required=False, empty_value=None)
    location_note = forms.CharField(
        label=_("Where exactly"),
        required=False,
        max_length=200,
        help_text=_("For example: 2nd floor landing, next to the lift."),
    )
    point = forms.CharField(
        label=_("Point on the map"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Click on the map to place the asset, or type its latitude and longitude."),
    )
    latitude = forms.FloatField(label=_("Latitude"), required=False)
    longitude = forms.FloatField(label=_("Longitude"), required=False)
    installed_on = forms.DateField(label=_("Installed on"), required=False, widget=DATE_WIDGET)
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("Extinguisher agent, AED pads and batteries, supplies."),
    )
    extinguisher_type = forms.ChoiceField(
        label=_("Extinguisher type"),
        required=False,
        choices=[("", "—"), *ExtinguisherType.choices],
    )
    capacity_kg = forms.DecimalField(
        label=_("Capacity (kg)"), required=False, max_digits=6, decimal_places=2
    )
    last_pressure_check = forms.DateField(
        label=_("Last pressure check"), required=False, widget=DATE_WIDGET
    )
    quantity = forms.DecimalField(
        label=_("Quantity in stock"), required=False, max_digits=10, decimal_places=2
    )
    quantity_unit = forms.CharField(
        label=_("Unit of measure"),
        required=False,
        max_length=20,
        help_text=_("For example: boxes, bottles, pieces."),
    )
    minimum_stock = forms.DecimalField(
        label=_("Minimum stock"), required=False, max_digits=10, decimal_places=2
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    EXTINGUISHER = ("extinguisher_type", "capacity_kg", "last_pressure_check")
    SUPPLY = ("quantity", "quantity_unit", "minimum_stock")

    def __init__(
        self,
        *args: Any,
        buildings: list[Building],
        units: list[Unit],
        zones: list[Zone],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        none = [("", "—")]
        self.fields["building"].choices = none + [(b.pk, b.name) for b in buildings]  # type: ignore[attr-defined]
        self.fields["unit"].choices = none + [(u.pk, str(u)) for u in units]  # type: ignore[attr-defined]
        self.fields["zone"].choices = none + [(z.pk, z.name) for z in zones]  # type: ignore[attr-defined]
        if editing:
            # The stock changes only by adjustments, which keep their reason in the history.
            del self.fields["quantity"]
        # Read by the template, which lets the page show only the chosen type's fields.
        for name in self.EXTINGUISHER:
            self.fields[name].asset_types = AssetType.FIRE_EXTINGUISHER.value  # type: ignore[attr-defined]
        for name in self.SUPPLY:
            if name in self.fields:
                self.fields[name].asset_types = AssetType.EMERGENCY_SUPPLY.value  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        """A point placed on the map gives the latitude and longitude."""
        cleaned = super().clean() or {}
        point = cleaned.get("point")
        if point:
            try:
                longitude, latitude = geo.validate_geometry(
                    point, allowed=("Point",), field="point"
                )["coordinates"]
            except ServiceError as error:
                self.add_error("point", str(error))
            else:
                cleaned.update(latitude=latitude, longitude=longitude)
        return cleaned

    def service_values(self) -> dict[str, Any]:
        """The cleaned data as the services take it (without the photo and the map point,
        which gave the latitude and longitude)."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in ("photo", "point")
        }


def point_of(latitude: float | None, longitude: float | None) -> str:
    """The map point of a position, as the form's ``point`` field shows it."""
    if latitude is None or longitude is None:
        return ""
    return json.dumps({"type": "Point", "coordinates": [longitude, latitude]})


class StockForm(forms.Form):
    """Stock in or out of a supply, with the reason."""

    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=[("in", _("Stock in")), ("out", _("Stock out"))],
        widget=forms.RadioSelect,
        initial="in",
    )
    amount = forms.DecimalField(
        label=_("Quantity"), max_digits=10, decimal_places=2, min_value=0.01
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("For example: delivered by the street office; handed out in the drill."),
    )


class RetireForm(forms.Form):
    """Retire an asset for good, with the reason."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: scrapped after expiry, removed during renovation."),
    )


class ListFilterForm(forms.Form):
    """Filters of the asset list."""

    asset_type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("All")), *AssetType.choices]
    )
    building = forms.TypedChoiceField(
        label=_("Building"), coerce=int, required=False, empty_value=None
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("In use")), *AssetStatus.choices],
    )
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    expiring = forms.BooleanField(label=_("Expiring within 30 days"), required=False)
    below_minimum = forms.BooleanField(label=_("Below minimum stock"), required=False)

    def __init__(self, *args: Any, buildings: list[Building], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["building"].choices = [("", _("All"))] + [  # type: ignore[attr-defined]
            (b.pk, b.name) for b in buildings
        ]
