"""Django admin of the places domain, for platform administrators.

The admin edits rows directly, so it re-applies what the services guarantee: geometry is
checked with :mod:`anwang.core.geo`, a household takes its community from its entrance, and
every save and delete writes an audit entry with the before/after difference in the same
transaction.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from anwang.accounts.models import User
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core import geo
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


class AuditedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Writes an audit entry for every save and delete made in the admin."""

    entity: ClassVar[str] = ""
    audit_fields: ClassVar[tuple[str, ...]] = ()

    def community_of(self, obj: Any) -> int | None:
        """The community an object belongs to, for the audit entry."""
        return getattr(obj, "community_id", None)

    def _actor(self, request: HttpRequest) -> User | None:
        return request.user if isinstance(request.user, User) else None

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Save and record the change."""
        with transaction.atomic():
            before: dict[str, Any] = {}
            if change:
                stored = type(obj)._base_manager.filter(pk=obj.pk).first()
                if stored is not None:
                    before = snapshot(stored, self.audit_fields)
            super().save_model(request, obj, form, change)
            after = snapshot(obj, self.audit_fields)
            if not change or before != after:
                audit_record(
                    actor=self._actor(request),
                    action=f"{self.entity}.{'update' if change else 'create'}",
                    obj=obj,
                    community_id=self.community_of(obj),
                    changes=diff(before, after),
                )

    def _audit_delete(self, request: HttpRequest, obj: Any) -> None:
        audit_record(
            actor=self._actor(request),
            action=f"{self.entity}.delete",
            obj=obj,
            community_id=self.community_of(obj),
            changes=diff(snapshot(obj, self.audit_fields), {}),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        """Delete and record it."""
        with transaction.atomic():
            self._audit_delete(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Delete several (the admin's bulk action) and record each."""
        with transaction.atomic():
            for obj in queryset:
                self._audit_delete(request, obj)
            super().delete_queryset(request, queryset)


@admin.register(Region)
class RegionAdmin(AuditedAdmin):
    """Street offices."""

    entity = "region"
    audit_fields = services.REGION_FIELDS
    list_display = ("name", "code", "created_at")
    search_fields = ("name", "code")


@admin.register(Community)
class CommunityAdmin(AuditedAdmin):
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
class GridAdmin(AuditedAdmin):
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
class BuildingAdmin(AuditedAdmin):
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
class UnitAdmin(AuditedAdmin):
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
class HouseholdAdmin(AuditedAdmin):
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
class ZoneAdmin(AuditedAdmin):
    """Zones and key areas."""

    entity = "zone"
    audit_fields = services.ZONE_FIELDS
    form = _geometry_form(Zone, "geometry", geo.DEFAULT_ALLOWED)
    list_display = ("name", "community", "kind", "is_key_area")
    list_filter = ("community", "kind", "is_key_area")
    list_select_related = ("community",)
    search_fields = ("name", "description")
