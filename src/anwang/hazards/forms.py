"""Forms of the hazard pages. They only convert what was typed into typed values; every rule
(location required, photo checks, who may act) lives in :mod:`anwang.hazards.services`, whose
errors the views attach to the field they concern."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anwang.accounts.models import User
from anwang.hazards.choices import HazardCategory, HazardSeverity, HazardStatus
from anwang.places.models import Building, Community, Unit

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
PHOTO_WIDGET = forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"})


class ReportForm(forms.Form):
    """A hazard report from a phone: what, a photo, where, and whether to stay anonymous."""

    community = forms.TypedChoiceField(label=_("Community"), coerce=int)
    category = forms.ChoiceField(label=_("What is wrong"), choices=HazardCategory.choices)
    # A plain file field: the service checks the content, a browser's type and name prove nothing.
    photo = forms.FileField(label=_("Photo"), required=False, widget=PHOTO_WIDGET)
    latitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    building = forms.TypedChoiceField(
        label=_("Building"), coerce=int, required=False, empty_value=None
    )
    unit = forms.TypedChoiceField(label=_("Entrance"), coerce=int, required=False, empty_value=None)
    address = forms.CharField(
        label=_("Where exactly"),
        required=False,
        max_length=200,
        help_text=_("For example: 3rd floor stairwell, next to the east gate."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        # Reports are public through Open311 (never who made them): say so before they write.
        help_text=_(
            "The description, photo and place are shown publicly (never your name): do not "
            "write names or phone numbers."
        ),
    )
    anonymous = forms.BooleanField(
        label=_("Report anonymously"),
        required=False,
        help_text=_("Staff will not see your name; you can still follow the report."),
    )

    def __init__(
        self,
        *args: Any,
        communities: list[Community],
        buildings: list[Building],
        units: list[Unit],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [(c.pk, c.name) for c in communities]  # type: ignore[attr-defined]
        if len(communities) == 1:
            self.fields["community"].widget = forms.HiddenInput()
        self.fields["building"].choices = [("", _("— not in a building —"))] + [  # type: ignore[attr-defined]
            (b.pk, b.name) for b in buildings
        ]
        self.fields["unit"].choices = [("", _("— any entrance —"))] + [  # type: ignore[attr-defined]
            (u.pk, f"{u.building.name} {u.number}") for u in units
        ]


class TriageForm(forms.Form):
    """Set a report's severity (which fixes its deadline)."""

    severity = forms.ChoiceField(label=_("Severity"), choices=HazardSeverity.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class AssignForm(forms.Form):
    """Make someone responsible for rectifying, by a deadline."""

    assignee = forms.TypedChoiceField(label=_("Responsible person"), coerce=int)
    deadline = forms.DateTimeField(
        label=_("Deadline"),
        required=False,
        widget=DATETIME_WIDGET,
        help_text=_("Leave empty for the severity's deadline."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            (p.pk, f"{p.display_name or p.username} ({p.username})") for p in people
        ]


class RectifyForm(forms.Form):
    """Say the hazard was fixed, with a photo of the result."""

    after_photo = forms.FileField(label=_("Photo after rectification"), widget=PHOTO_WIDGET)
    note = forms.CharField(label=_("What was done"), required=False, max_length=2000)


VERIFY_CHOICES = [("pass", _("Rectified properly")), ("fail", _("Not fixed: send it back"))]


class VerifyForm(forms.Form):
    """Check the rectification (by someone other than who did it)."""

    result = forms.ChoiceField(
        label=_("Result"), choices=VERIFY_CHOICES, widget=forms.RadioSelect, initial="pass"
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class CloseForm(forms.Form):
    """Close a verified report."""

    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class RejectForm(forms.Form):
    """Turn a report down, saying why."""

    reason = forms.CharField(label=_("Reason"), max_length=2000)


class CommentForm(forms.Form):
    """Add a comment or another photo to a report."""

    note = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    photo = forms.FileField(label=_("Photo"), required=False, widget=PHOTO_WIDGET)


class ListFilterForm(forms.Form):
    """Filters of the staff list (read from the query string)."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *HazardStatus.choices]
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All")), *HazardCategory.choices]
    )
    severity = forms.ChoiceField(
        label=_("Severity"), required=False, choices=[("", _("All")), *HazardSeverity.choices]
    )
    building = forms.TypedChoiceField(
        label=_("Building"), required=False, coerce=int, empty_value=None
    )
    overdue = forms.BooleanField(label=_("Past deadline"), required=False)
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    open = forms.BooleanField(label=_("Open only"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, *args: Any, buildings: list[Building], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["building"].choices = [("", _("All"))] + [  # type: ignore[attr-defined]
            (b.pk, b.name) for b in buildings
        ]
