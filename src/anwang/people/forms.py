"""Forms of the people pages. They only collect input: checks live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anwang.people.choices import Gender, Relation, ResidentTag

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ResidentForm(forms.Form):
    """Create or edit a resident. On edit, empty ID and phone fields keep the stored values."""

    community = forms.TypedChoiceField(label=_("Community"), coerce=int, choices=())
    name = forms.CharField(label=_("Name"), max_length=100)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, initial=Gender.UNKNOWN)
    birth_date = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("Filled in from the ID number when left empty."),
    )
    id_number = forms.CharField(
        label=_("ID number"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "type": "tel"}),
    )
    clear_id_number = forms.BooleanField(label=_("Remove the stored ID number"), required=False)
    clear_phone = forms.BooleanField(label=_("Remove the stored phone number"), required=False)
    tags = forms.MultipleChoiceField(
        label=_("Tags"),
        choices=ResidentTag.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    address = forms.CharField(
        label=_("Lives at"),
        required=False,
        max_length=60,
        help_text=_("Building-entrance-room, e.g. 1-2-301. Leave empty if unknown."),
    )
    relation = forms.ChoiceField(
        label=_("Relation to head of household"), choices=Relation.choices, initial=Relation.OTHER
    )
    consent = forms.BooleanField(
        label=_("The resident consented to the processing of their personal data"),
        required=False,
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self,
        *args: Any,
        communities: list[tuple[int, str]] | None = None,
        masked: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        community_field = self.fields["community"]
        assert isinstance(community_field, forms.TypedChoiceField)
        community_field.choices = communities or []
        if communities is None or len(communities) <= 1:
            community_field.widget = forms.HiddenInput()
            if communities:
                community_field.initial = communities[0][0]
        if masked is None:
            # Creating: the household and the consent are asked here; clearing makes no sense.
            del self.fields["clear_id_number"]
            del self.fields["clear_phone"]
            return
        # Editing: households are managed on the detail page; secrets are never sent back.
        for name in ("address", "relation", "community"):
            del self.fields[name]
        for name in ("id_number", "phone"):
            if masked.get(name):
                self.fields[name].help_text = _("Stored: %(masked)s. Leave empty to keep it.") % {
                    "masked": masked[name]
                }
            else:
                del self.fields[f"clear_{name}"]


class HouseholdAddForm(forms.Form):
    """Add a resident to a household by its address."""

    address = forms.CharField(
        label=_("Address"),
        max_length=60,
        help_text=_("Building-entrance-room, e.g. 1-2-301."),
    )
    relation = forms.ChoiceField(
        label=_("Relation to head of household"), choices=Relation.choices, initial=Relation.OTHER
    )


class EmergencyContactForm(forms.Form):
    """Add or change an emergency contact; on edit an empty phone keeps the stored number."""

    name = forms.CharField(label=_("Name"), max_length=100)
    relation = forms.CharField(
        label=_("Relation"), max_length=50, required=False, help_text=_("E.g. son, neighbour.")
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "type": "tel"}),
    )

    def __init__(self, *args: Any, masked_phone: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if masked_phone:
            self.fields["phone"].required = False
            self.fields["phone"].help_text = _("Stored: %(masked)s. Leave empty to keep it.") % {
                "masked": masked_phone
            }


class MoveOutForm(forms.Form):
    """When the resident moved out."""

    date = forms.DateField(label=_("Moved out on"), required=False, widget=DATE_WIDGET)


class ImportForm(forms.Form):
    """An .xlsx or .csv file of residents."""

    community = forms.TypedChoiceField(label=_("Community"), coerce=int, choices=())
    file = forms.FileField(
        label=_("File"),
        help_text=_(".xlsx or .csv (UTF-8 or GB18030), at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args: Any, communities: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        community_field = self.fields["community"]
        assert isinstance(community_field, forms.TypedChoiceField)
        community_field.choices = communities
        if len(communities) <= 1:
            community_field.widget = forms.HiddenInput()
            if communities:
                community_field.initial = communities[0][0]


class BindingRequestForm(forms.Form):
    """Choose community, building, entrance and room, level by level."""

    community = forms.TypedChoiceField(label=_("Community"), coerce=int, choices=())
    building = forms.TypedChoiceField(label=_("Building"), coerce=int, choices=(), required=False)
    unit = forms.TypedChoiceField(label=_("Entrance"), coerce=int, choices=(), required=False)
    household = forms.TypedChoiceField(label=_("Room"), coerce=int, choices=(), required=False)
    relation = forms.ChoiceField(
        label=_("Your relation to the head of household"),
        choices=Relation.choices,
        initial=Relation.OTHER,
    )
    message = forms.CharField(
        label=_("Message to the community"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("E.g. your name as registered, or when you moved in."),
    )

    def __init__(
        self, *args: Any, options: dict[str, list[tuple[int, str]]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        empty = [("", "—")]
        for name, key in (
            ("community", "communities"),
            ("building", "buildings"),
            ("unit", "units"),
            ("household", "households"),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.TypedChoiceField)
            field.choices = empty + list(options[key])
            field.empty_value = None


class RefuseForm(forms.Form):
    """Why a binding is refused."""

    note = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
