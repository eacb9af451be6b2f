"""Forms of the emergency plans pages: starting a plan, revising it, and the draft editor (the
draft's own fields plus formsets for its steps, contacts and resources).

Forms only read input; the rules (whose assets and zones, what a step needs, only drafts are
edited) are the services'.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.forms import BaseFormSet, formset_factory
from django.utils.translation import gettext_lazy as _

from anwang.facilities.models import Asset
from anwang.places.models import Community, Zone
from anwang.plans.choices import IncidentType
from anwang.plans.models import PlanVersion
from anwang.plans.services import ContactInput, ResourceInput, StepInput
from anwang.rosters.choices import DutyRole


class PlanCreateForm(forms.Form):
    """Start a community's plan for an incident type that has none yet."""

    incident_type = forms.ChoiceField(label=_("Incident type"))
    title = forms.CharField(label=_("Title"), max_length=120)
    summary = forms.CharField(
        label=_("Purpose and scope"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, taken: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["incident_type"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (value, label) for value, label in IncidentType.choices if value not in taken
        ]


class ReviseForm(forms.Form):
    """Start a new draft from a version, saying why."""

    change_note = forms.CharField(
        label=_("What will change"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DraftForm(forms.Form):
    """The draft's own fields: purpose, change note, zones to evacuate, assembly point."""

    summary = forms.CharField(
        label=_("Purpose and scope"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    change_note = forms.CharField(
        label=_("What changed"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    evacuation_zones = forms.ModelMultipleChoiceField(
        label=_("Zones to evacuate"),
        queryset=Zone.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    assembly_note = forms.CharField(label=_("Assembly point"), required=False, max_length=200)
    assembly_point = forms.CharField(
        label=_("Assembly point on the map"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Click on the map to place the assembly point (GeoJSON Point, WGS84)."),
    )

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["evacuation_zones"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = Zone.objects.filter(community=community).order_by("name")

    @staticmethod
    def initial_of(version: PlanVersion) -> dict[str, Any]:
        """The form's starting values from a draft."""
        return {
            "summary": version.summary,
            "change_note": version.change_note,
            "evacuation_zones": list(version.evacuation_zones.all()),
            "assembly_note": version.assembly_note,
            "assembly_point": (
                json.dumps(
                    {
                        "type": "Point",
                        "coordinates": [version.assembly_longitude, version.assembly_latitude],
                    }
                )
                if version.assembly_latitude is not None
                else ""
            ),
        }

    def clean_assembly_point(self) -> tuple[float, float] | None:
        """The point as (latitude, longitude), from the GeoJSON the map editor writes."""
        text = self.cleaned_data["assembly_point"].strip()
        if not text:
            return None
        try:
            geometry = json.loads(text)
            longitude, latitude = geometry["coordinates"]
            if geometry["type"] != "Point":
                raise ValueError(geometry["type"])
            return float(latitude), float(longitude)
        except (ValueError, KeyError, TypeError):
            raise forms.ValidationError(
                _("Place one point on the map (a GeoJSON Point).")
            ) from None

    def values(self) -> dict[str, Any]:
        """The cleaned data as the draft service takes it."""
        data = self.cleaned_data
        point = data["assembly_point"]
        return {
            "summary": data["summary"],
            "change_note": data["change_note"],
            "evacuation_zone_ids": [zone.pk for zone in data["evacuation_zones"]],
            "assembly_note": data["assembly_note"],
            "assembly_latitude": point[0] if point else None,
            "assembly_longitude": point[1] if point else None,
        }


class StepForm(forms.Form):
    """One row of the steps formset."""

    title = forms.CharField(label=_("Step"), max_length=200)
    # A blank first choice, so an untouched extra row posts nothing and is skipped.
    duty_role = forms.ChoiceField(
        label=_("Duty role"), choices=[("", "---------"), *DutyRole.choices]
    )
    target_minutes = forms.IntegerField(
        label=_("Within (minutes)"), min_value=0, widget=forms.NumberInput(attrs={"size": 4})
    )
    instructions = forms.CharField(
        label=_("Instructions"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ContactForm(forms.Form):
    """One row of the contacts formset."""

    name = forms.CharField(label=_("Name"), max_length=100)
    organisation = forms.CharField(label=_("Organisation or role"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class ResourceForm(forms.Form):
    """One row of the resources formset."""

    description = forms.CharField(
        label=_("Resource"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to use the asset's name."),
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, initial=1)
    asset = forms.ModelChoiceField(label=_("Asset"), queryset=Asset.objects.none(), required=False)

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["asset"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Asset.objects.filter(community=community).order_by("asset_type", "name")


StepFormSet = formset_factory(StepForm, extra=2, can_order=True, can_delete=True)
ContactFormSet = formset_factory(ContactForm, extra=1, can_delete=True)
ResourceFormSet = formset_factory(ResourceForm, extra=1, can_delete=True)


def kept_rows(formset: BaseFormSet[Any]) -> list[forms.Form]:
    """Filled-in rows not marked for removal. An untouched extra row is left with empty
    cleaned data by Django; rows shown with the draft's values are kept even if unchanged."""
    return [
        form
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
    ]


def step_rows(formset: BaseFormSet[Any]) -> list[forms.Form]:
    """The kept step rows in the order given (the order column first, then the rows' order);
    the n-th is the service's ``steps.n``."""
    rows = kept_rows(formset)
    ordered = sorted(
        enumerate(rows),
        key=lambda item: (
            item[1].cleaned_data.get("ORDER") is None,
            item[1].cleaned_data.get("ORDER") or 0,
            item[0],
        ),
    )
    return [form for _index, form in ordered]


def steps_of(formset: BaseFormSet[Any]) -> list[StepInput]:
    """The steps in the order given."""
    return [
        StepInput(
            title=form.cleaned_data["title"],
            duty_role=form.cleaned_data["duty_role"],
            target_minutes=form.cleaned_data["target_minutes"],
            instructions=form.cleaned_data["instructions"],
        )
        for form in step_rows(formset)
    ]


def row_of(formsets: dict[str, list[forms.Form]], field: str) -> tuple[forms.Form, str] | None:
    """The formset row and field a service error such as ``steps.2.title`` is about."""
    parts = field.split(".")
    if len(parts) != 3 or parts[0] not in formsets or not parts[1].isdigit():
        return None
    rows = formsets[parts[0]]
    index = int(parts[1])
    if index >= len(rows):
        return None
    name = parts[2].removesuffix("_id")
    return rows[index], name if name in rows[index].fields else ""


def contacts_of(formset: BaseFormSet[Any]) -> list[ContactInput]:
    """The contacts in the rows' order."""
    return [
        ContactInput(
            name=form.cleaned_data["name"],
            phone=form.cleaned_data["phone"],
            organisation=form.cleaned_data["organisation"],
            note=form.cleaned_data["note"],
        )
        for form in kept_rows(formset)
    ]


def resources_of(formset: BaseFormSet[Any]) -> list[ResourceInput]:
    """The resources in the rows' order."""
    return [
        ResourceInput(
            description=form.cleaned_data["description"],
            quantity=form.cleaned_data["quantity"],
            asset_id=form.cleaned_data["asset"].pk if form.cleaned_data["asset"] else None,
        )
        for form in kept_rows(formset)
    ]
