"""Django admin of the places domain, for platform administrators.

The admin edits rows directly, so it re-applies what the services guarantee: geometry is
checked with :mod:`anwang.core.geo`, a household takes its community from its entrance, and
every save and delete writes an audit entry with the before/after difference in the same
transaction.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from anwang.core import geo
from anwang.core.admin import AuditedModelAdmin
from anwang.core.errors import ServiceError
from anwang.places import services
from anwang.places.models import Building, Community, Grid, Household, Region, Unit, Zone


def _geometry_cleaner(name: str, allowed: tuple[str, ...]) -> Any:
    def clean(self: forms.ModelForm[Any]) -> Any:
        value = self.cleaned_data.get(name)
        if value in (None, "", {}):
            return None
        try:
            return geo.validate_geometry(value, allowed=allowed)
        except ServiceError as error:
            raise forms.ValidationError(str(error.message)) from error

    return clean


def _geometry_form(
    model: type[models.Model], name: str, allowed: tuple[str, ...]
) -> type[forms.ModelForm[Any]]:
    """A model form whose GeoJSON field is checked like the services check it."""
    meta = type("Meta", (), {"model": model, "fields": "__all__"})
    return type(
        f"{model.__name__}AdminForm",
        (forms.ModelForm,),
        {"Meta": meta, f"clean_{name}": _geometry_cleaner(name, allowed)},
    )


@admin.register(Region)
class RegionAdmin(AuditedModelAdmin):
    """Street offices."""

    entity = "region"
    audit_fields = services.REGION_FIELDS
    list_display = ("name", "code", "created_at")
    search_fields = ("name", "code")


@admin.register(Community)
class CommunityAdmin(AuditedModelAdmin):
    """Communities."""

    entity = "community"
    audit_fields = services.COMMUNITY_FIELDS
    form = _geometry_form(Community, "boundary", geo.AREA_TYPES)
    list_display = ("name", "slug", "region", "address", "phone")
    list_filter = ("region",)
    list_select_related = ("region",)
    search_fields = ("name", "slug", "address")

    def community_of(self, obj: Any) -> int | None:
        """A community is its own community."""
        return int(obj.pk) if obj.pk else None


@admin.register(Grid)
class GridAdmin(AuditedModelAdmin):
    """Grids."""

    entity = "grid"
    audit_fields = services.GRID_FIELDS
    form = _geometry_form(Grid, "boundary", geo.AREA_TYPES)
    list_display = ("name", "code", "community", "grid_worker")
    list_filter = ("community",)
    list_select_related = ("community", "grid_worker")
    search_fields = ("name", "code")
    raw_id_fields = ("grid_worker",)


class UnitInline(admin.TabularInline):  # type: ignore[type-arg]
    """Entrances shown on their building (read-only: edit them on their own page)."""

    model = Unit
    extra = 0
    fields = ("number",)
    readonly_fields = ("number",)
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Entrances are added on their own page, so each addition is audited."""
        return False


@admin.register(Building)
class BuildingAdmin(AuditedModelAdmin):
    """Buildings."""

    entity = "building"
    audit_fields = services.BUILDING_FIELDS
    form = _geometry_form(Building, "footprint", geo.AREA_TYPES)
    list_display = ("name", "number", "community", "grid", "floors", "use")
    list_filter = ("community", "use")
    list_select_related = ("community", "grid")
    search_fields = ("name", "number")
    inlines = (UnitInline,)


@admin.register(Unit)
class UnitAdmin(AuditedModelAdmin):
    """Entrances."""

    entity = "unit"
    audit_fields = services.UNIT_FIELDS
    list_display = ("__str__", "building", "number")
    list_filter = ("building__community",)
    list_select_related = ("building",)
    search_fields = ("number", "building__name", "building__number")
    raw_id_fields = ("building",)

    def community_of(self, obj: Any) -> int | None:
        """An entrance belongs to its building's community."""
        return int(obj.building.community_id)


@admin.register(Household)
class HouseholdAdmin(AuditedModelAdmin):
    """Households; the community always follows the entrance."""

    entity = "household"
    audit_fields = services.HOUSEHOLD_FIELDS
    list_display = ("address", "community", "floor", "is_rented")
    list_filter = ("community", "is_rented")
    list_select_related = ("community", "unit", "unit__building")
    search_fields = ("number", "unit__building__number", "unit__building__name", "note")
    exclude = ("community",)
    raw_id_fields = ("unit",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Take the community from the entrance, so the two can never disagree."""
        obj.community_id = obj.unit.building.community_id
        super().save_model(request, obj, form, change)


@admin.register(Zone)
class ZoneAdmin(AuditedModelAdmin):
    """Zones and key areas."""

    entity = "zone"
    audit_fields = services.ZONE_FIELDS
    form = _geometry_form(Zone, "geometry", geo.DEFAULT_ALLOWED)
    list_display = ("name", "community", "kind", "is_key_area")
    list_filter = ("community", "kind", "is_key_area")
    list_select_related = ("community",)
    search_fields = ("name", "description")
