"""Forms of the inspection pages. They only turn what was typed into typed values; the rules
live in :mod:`anwang.inspections.services`, whose errors the views attach to the field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from anwang.accounts.models import User
from anwang.facilities.choices import AssetType
from anwang.facilities.models import Asset
from anwang.hazards.choices import HazardCategory
from anwang.inspections.choices import Frequency, Outcome
from anwang.inspections.models import Checklist, ChecklistItem
from anwang.patrols.models import Checkpoint
from anwang.places.models import Building, Zone

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
PHOTO_WIDGET = forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"})


class ChecklistForm(forms.Form):
    """A checklist's name and asset type (the type is fixed once created)."""

    name = forms.CharField(label=_("Name"), max_length=100)
    asset_type = forms.ChoiceField(label=_("Asset type"), choices=AssetType.choices)
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)


class ChecklistItemForm(forms.Form):
    """One item of a checklist."""

    text = forms.CharField(label=_("What to check"), max_length=200)
    hazard_category = forms.ChoiceField(
        label=_("Hazard category when failed"),
        choices=HazardCategory.choices,
        initial=HazardCategory.OTHER,
    )
    order = forms.IntegerField(label=_("Order"), required=False, min_value=0, max_value=999)
    is_active = forms.BooleanField(label=_("Checked"), required=False, initial=True)


class PlanForm(forms.Form):
    """A recurring inspection plan."""

    name = forms.CharField(label=_("Name"), max_length=100)
    checklist = forms.ModelChoiceField(label=_("Checklist"), queryset=Checklist.objects.none())
    frequency = forms.ChoiceField(
        label=_("Repeats"), choices=Frequency.choices, initial=Frequency.MONTHLY
    )
    rrule = forms.CharField(
        label=_("Repeat rule (RRULE)"),
        required=False,
        max_length=200,
        help_text=_("Optional, overrides 'Repeats': e.g. FREQ=WEEKLY;BYDAY=MO."),
    )
    first_start = forms.DateTimeField(label=_("First period starts"), widget=DATETIME_WIDGET)
    building = forms.ModelChoiceField(
        label=_("Only in building"), queryset=Building.objects.none(), required=False
    )
    zone = forms.ModelChoiceField(
        label=_("Only in zone"), queryset=Zone.objects.none(), required=False
    )
    assets = forms.ModelMultipleChoiceField(
        label=_("Only these assets"),
        queryset=Asset.objects.none(),
        required=False,
        help_text=_("Leave empty for every asset of the checklist's type (in the place above)."),
    )
    assignees = forms.ModelMultipleChoiceField(
        label=_("Inspectors"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Leave empty for anyone who may inspect facilities."),
    )
    checkpoint = forms.ModelChoiceField(
        label=_("Inspect on patrol at checkpoint"),
        queryset=Checkpoint.objects.none(),
        required=False,
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self,
        *args: Any,
        checklists: QuerySet[Checklist],
        buildings: QuerySet[Building],
        zones: QuerySet[Zone],
        assets: QuerySet[Asset],
        inspectors: QuerySet[User],
        checkpoints: QuerySet[Checkpoint],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["checklist"].queryset = checklists  # type: ignore[attr-defined]
        self.fields["building"].queryset = buildings  # type: ignore[attr-defined]
        self.fields["zone"].queryset = zones  # type: ignore[attr-defined]
        self.fields["assets"].queryset = assets  # type: ignore[attr-defined]
        self.fields["assignees"].queryset = inspectors  # type: ignore[attr-defined]
        self.fields["checkpoint"].queryset = checkpoints  # type: ignore[attr-defined]

    def rule(self) -> str:
        """The RRULE typed, else the one of the chosen frequency."""
        typed = str(self.cleaned_data.get("rrule") or "").strip()
        return typed or f"FREQ={self.cleaned_data['frequency']}"


class CodeForm(forms.Form):
    """An asset's code typed from its label (when the camera cannot scan)."""

    code = forms.CharField(label=_("Asset code"), max_length=40)


class InspectionForm(forms.Form):
    """Pass, fail or not applicable for each checklist item, with a note and a photo."""

    note = forms.CharField(
        label=_("Overall note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, items: list[ChecklistItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"outcome_{item.pk}"] = forms.ChoiceField(
                label=item.text, choices=Outcome.choices, widget=forms.RadioSelect
            )
            self.fields[f"note_{item.pk}"] = forms.CharField(
                label=_("Note"),
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 1}),
            )
            self.fields[f"photo_{item.pk}"] = forms.FileField(
                label=_("Photo"), required=False, widget=PHOTO_WIDGET
            )

    def rows(self) -> list[tuple[ChecklistItem, Any, Any, Any]]:
        """Each item with its outcome, note and photo fields, for the template."""
        return [
            (item, self[f"outcome_{item.pk}"], self[f"note_{item.pk}"], self[f"photo_{item.pk}"])
            for item in self.items
        ]
