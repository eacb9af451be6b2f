"""Forms of the access pages. They only turn what was typed into typed values; every rule (a
device of the community, face needs consent and a card or QR alternative, one active
credential per number) lives in :mod:`anwang.access.services`, whose errors the views show
beside the field they concern. Field names are the services' argument names."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anwang.access.choices import (
    AccessCredentialKind,
    AccessPointKind,
    AccessResult,
    ConsentKind,
    CredentialStatus,
    WatchKind,
)
from anwang.access.models import AccessPoint, Credential
from anwang.devices.models import Device
from anwang.people.models import Resident
from anwang.places.models import Building, Community, Zone

LOCAL_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
"""A date and time picker; Django reads it in the site's time zone."""
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PRIORITIES = [(1, "1"), (2, "2"), (3, "3"), (4, "4")]


class AccessPointForm(forms.Form):
    """A gate, unit door or barrier and the device of the community that reports it."""

    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=AccessPointKind.choices)
    device = forms.ModelChoiceField(
        label=_("Device"),
        queryset=Device.objects.none(),
        required=False,
        help_text=_("The door controller or barrier camera that reports this way in."),
    )
    door_no = forms.IntegerField(
        label=_("Door number"),
        required=False,
        min_value=1,
        max_value=255,
        help_text=_("When the controller drives several doors: this door's number on it."),
    )
    zone = forms.ModelChoiceField(label=_("Zone"), queryset=Zone.objects.none(), required=False)
    building = forms.ModelChoiceField(
        label=_("Building"), queryset=Building.objects.none(), required=False
    )
    latitude = forms.FloatField(label=_("Latitude"), required=False)
    longitude = forms.FloatField(label=_("Longitude"), required=False)
    is_restricted = forms.BooleanField(
        label=_("Restricted area (plant room, rooftop...)"), required=False
    )
    permitted_from = forms.TimeField(label=_("Permitted from"), required=False, widget=TIME)
    permitted_until = forms.TimeField(label=_("Permitted until"), required=False, widget=TIME)
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def __init__(
        self, *args: Any, community: Community, editing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["device"].queryset = Device.objects.filter(community=community).order_by(
            "name", "id"
        )
        fields["zone"].queryset = Zone.objects.filter(community=community).order_by("name", "id")
        fields["building"].queryset = Building.objects.filter(community=community).order_by(
            "name", "id"
        )
        if not editing:
            del self.fields["is_active"]

    @staticmethod
    def initial_of(point: AccessPoint) -> dict[str, Any]:
        """What the form shows for an existing access point."""
        return {
            "name": point.name,
            "kind": point.kind,
            "device": point.device_id,
            "door_no": point.door_no,
            "zone": point.zone_id,
            "building": point.building_id,
            "latitude": point.latitude,
            "longitude": point.longitude,
            "is_restricted": point.is_restricted,
            "permitted_from": point.permitted_from,
            "permitted_until": point.permitted_until,
            "is_active": point.is_active,
        }


class CredentialForm(forms.Form):
    """A card, QR code, plate or face template reference for one resident."""

    kind = forms.ChoiceField(label=_("Kind"), choices=AccessCredentialKind.choices)
    value = forms.CharField(
        label=_("Number"),
        max_length=64,
        help_text=_(
            "Card number as the reader shows it, QR code id, licence plate, or for a face the "
            "device's template reference (no photo is stored)."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    label = forms.CharField(label=_("Label"), max_length=100, required=False)
    valid_from = forms.DateTimeField(
        label=_("Valid from"),
        required=False,
        widget=LOCAL_DATETIME,
        help_text=_("Empty: from now."),
    )
    valid_until = forms.DateTimeField(
        label=_("Valid until"),
        required=False,
        widget=LOCAL_DATETIME,
        help_text=_("A tenant's rights end with the lease; empty: no end."),
    )


class CredentialEditForm(forms.Form):
    """A credential's label and validity window (the number never changes)."""

    label = forms.CharField(label=_("Label"), max_length=100, required=False)
    valid_from = forms.DateTimeField(label=_("Valid from"), required=False, widget=LOCAL_DATETIME)
    valid_until = forms.DateTimeField(label=_("Valid until"), required=False, widget=LOCAL_DATETIME)

    @staticmethod
    def initial_of(credential: Credential) -> dict[str, Any]:
        """What the form shows for an existing credential."""
        return {
            "label": credential.label,
            "valid_from": credential.valid_from,
            "valid_until": credential.valid_until,
        }


class CredentialStatusForm(forms.Form):
    """Report a credential lost or stolen, revoke it, or mark it found."""

    status = forms.ChoiceField(label=_("New status"), choices=CredentialStatus.choices)
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    priority = forms.TypedChoiceField(
        label=_("Alarm priority"),
        choices=PRIORITIES,
        coerce=int,
        initial=2,
        help_text=_("For lost or stolen: the alarm any later use raises (1 is the highest)."),
    )


class ConsentForm(forms.Form):
    """A resident's recorded consent: to what, when and how it was given."""

    kind = forms.ChoiceField(label=_("Consent to"), choices=ConsentKind.choices)
    how = forms.CharField(
        label=_("How it was given"),
        max_length=200,
        help_text=_("Signed form, in the app... and the text the person agreed to."),
    )
    given_at = forms.DateTimeField(
        label=_("Given at"), required=False, widget=LOCAL_DATETIME, help_text=_("Empty: now.")
    )


class WatchForm(forms.Form):
    """A watch-list entry: a lost or stolen credential, a barred person or a barred vehicle."""

    kind = forms.ChoiceField(label=_("Watch for"), choices=WatchKind.choices)
    credential = forms.ModelChoiceField(
        label=_("Credential"), queryset=Credential.objects.none(), required=False
    )
    resident = forms.ModelChoiceField(
        label=_("Resident"), queryset=Resident.objects.none(), required=False
    )
    plate = forms.CharField(label=_("Licence plate"), max_length=20, required=False)
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        help_text=_("A barred person who is not a resident: how to recognise them."),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    priority = forms.TypedChoiceField(
        label=_("Alarm priority"), choices=PRIORITIES, coerce=int, initial=2
    )

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["credential"].queryset = (
            Credential.objects.filter(community=community)
            .select_related("resident")
            .order_by("resident__name", "kind", "id")
        )
        fields["credential"].label_from_instance = credential_choice_label
        fields["resident"].queryset = Resident.objects.filter(
            community=community, moved_out_at__isnull=True
        ).order_by("name", "id")


def credential_choice_label(credential: Credential) -> str:
    """A credential in a choice list: whose, what kind, the masked number."""
    from anwang.access.schemas import mask_value

    return (
        f"{credential.resident.name} · {credential.get_kind_display()} "
        f"{mask_value(credential.value)} ({credential.get_status_display()})"
    )


class EventFilterForm(forms.Form):
    """Filters of the access log."""

    point = forms.ModelChoiceField(
        label=_("Access point"), queryset=AccessPoint.objects.none(), required=False
    )
    result = forms.ChoiceField(
        label=_("Result"), choices=[("", "—"), *AccessResult.choices], required=False
    )
    date = forms.DateField(label=_("Date"), required=False, widget=DATE)
    unknown_only = forms.BooleanField(label=_("Unknown credentials only"), required=False)

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["point"].queryset = AccessPoint.objects.filter(community=community).order_by(
            "name", "id"
        )


class CredentialFilterForm(forms.Form):
    """Filters of the credential list."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", "—"), *AccessCredentialKind.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", "—"), *CredentialStatus.choices], required=False
    )
    number = forms.CharField(
        label=_("Exact number"),
        required=False,
        max_length=64,
        help_text=_("Find the credential with this card number, QR id or plate."),
    )
