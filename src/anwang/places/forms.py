"""Forms of the places pages. They only convert what was typed into typed values; every rule
(uniqueness, geometry, floors, community consistency) lives in :mod:`anwang.places.services`,
whose errors the views attach to the field they concern."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from anwang.accounts.models import User
from anwang.places.choices import BuildingUse, ZoneKind
from anwang.places.models import Grid, Region, Unit

GEOJSON_HELP = _(
    "GeoJSON in WGS84 (longitude first). Draw on the map or paste a geometry; a Feature is "
    "accepted too."
)


class GeometryField(forms.CharField):
    """GeoJSON text; checked by the service (through :mod:`anwang.core.geo`), so the same
    rules apply to pages, the API and imports."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", GEOJSON_HELP)
        kwargs.setdefault(
            "widget",
            forms.Textarea(
                attrs={"rows": 5, "spellcheck": "false", "data-geometry-input": "", "dir": "ltr"}
            ),
        )
        kwargs.setdefault("strip", True)
        super().__init__(**kwargs)


AREA_ONLY = (("polygon", _("Area")),)


class PlacesForm(forms.Form):
    """Base form: fields holding GeoJSON get a map editor on the page, which draws the
    ``geometry_modes`` offered (areas unless a form allows more)."""

    geometry_fields: tuple[str, ...] = ()
    geometry_modes: tuple[tuple[str, Any], ...] = AREA_ONLY


class RegionForm(PlacesForm):
    """A street office."""

    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.SlugField(
        label=_("Code"),
        max_length=50,
        help_text=_("A short unique code of letters, digits and hyphens, such as donghu."),
    )


class CommunityForm(PlacesForm):
    """A community's details; only platform administrators choose its street office."""

    geometry_fields = ("boundary",)

    region = forms.ModelChoiceField(
        label=_("Street office"), queryset=Region.objects.none(), empty_label=None
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    slug = forms.CharField(
        label=_("Short name"),
        max_length=50,
        help_text=_("Letters, digits and hyphens; used in links and exports."),
    )
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    phone = forms.CharField(label=_("Duty phone"), max_length=30, required=False)
    latitude = forms.FloatField(
        label=_("Latitude"),
        required=False,
        help_text=_("WGS84, for example 30.593. Left empty, the centre of the boundary is used."),
    )
    longitude = forms.FloatField(
        label=_("Longitude"), required=False, help_text=_("WGS84, for example 114.305.")
    )
    boundary = GeometryField(label=_("Boundary"))

    def __init__(self, *args: Any, regions: QuerySet[Region] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if regions is None:
            del self.fields["region"]
        else:
            region_field = self.fields["region"]
            assert isinstance(region_field, forms.ModelChoiceField)
            region_field.queryset = regions


class GridForm(PlacesForm):
    """A grid of a community."""

    geometry_fields = ("boundary",)

    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.CharField(label=_("Code"), max_length=30, required=False)
    grid_worker = forms.ModelChoiceField(
        label=_("Grid worker"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("(nobody yet)"),
        help_text=_("People with the grid worker role in this community."),
    )
    boundary = GeometryField(label=_("Boundary"))

    def __init__(self, *args: Any, workers: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        worker_field = self.fields["grid_worker"]
        assert isinstance(worker_field, forms.ModelChoiceField)
        worker_field.queryset = workers


class BuildingForm(PlacesForm):
    """A building of a community."""

    geometry_fields = ("footprint",)

    number = forms.CharField(
        label=_("Number"), max_length=20, help_text=_("As on the sign, for example 3 or 3A.")
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        required=False,
        help_text=_("Left empty, the building is called after its number."),
    )
    grid = forms.ModelChoiceField(
        label=_("Grid"), queryset=Grid.objects.none(), required=False, empty_label=_("(none)")
    )
    floors = forms.IntegerField(label=_("Floors"), min_value=1, max_value=200, initial=6)
    use = forms.ChoiceField(
        label=_("Use"), choices=BuildingUse.choices, initial=BuildingUse.RESIDENTIAL
    )
    footprint = GeometryField(label=_("Footprint"))

    def __init__(self, *args: Any, grids: QuerySet[Grid], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        grid_field = self.fields["grid"]
        assert isinstance(grid_field, forms.ModelChoiceField)
        grid_field.queryset = grids


class UnitForm(PlacesForm):
    """An entrance of a building."""

    number = forms.CharField(
        label=_("Number"), max_length=20, help_text=_("For example 1 for the first entrance.")
    )


class UnitChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """Entrances labelled with their building, e.g. "Building 3 · entrance 2"."""

    def label_from_instance(self, obj: Any) -> str:
        assert isinstance(obj, Unit)
        return str(
            _("%(building)s · entrance %(unit)s")
            % {"building": obj.building.name, "unit": obj.number}
        )


class HouseholdForm(PlacesForm):
    """A household (dwelling) in an entrance."""

    unit = UnitChoiceField(label=_("Entrance"), queryset=Unit.objects.none())
    floor = forms.IntegerField(
        label=_("Floor"), help_text=_("The ground floor is 1; basements are -1, -2, ...")
    )
    number = forms.CharField(label=_("Room number"), max_length=20, help_text=_("For example 301."))
    area_m2 = forms.DecimalField(
        label=_("Floor area (m²)"), required=False, max_digits=7, decimal_places=2, min_value=0
    )
    is_rented = forms.BooleanField(label=_("Rented out"), required=False)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit_field = self.fields["unit"]
        assert isinstance(unit_field, forms.ModelChoiceField)
        unit_field.queryset = units


class ZoneForm(PlacesForm):
    """A zone of a community; its shape is drawn on the map."""

    geometry_fields = ("geometry",)
    geometry_modes = (("polygon", _("Area")), ("line", _("Line")), ("point", _("Point")))

    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=ZoneKind.choices)
    is_key_area = forms.BooleanField(
        label=_("Key area"),
        required=False,
        help_text=_("Key areas must be covered by cameras and patrols; the map shows them in red."),
    )
    geometry = GeometryField(
        label=_("Shape"),
        help_text=_(
            "Click on the map to add corners, or paste GeoJSON (a Polygon, MultiPolygon, Point "
            "or LineString in WGS84, longitude first)."
        ),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
