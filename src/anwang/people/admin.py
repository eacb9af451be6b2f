"""Django admin of the people domain, for platform administrators.

Lists show ID and phone numbers masked and change forms never send a decrypted number to the
browser: a new number is typed into an empty field (left empty, the stored one stays). Every
write is audited; residents are created, changed and erased through the services, which
check the user's permissions themselves (a platform administrator may do anything).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _

from anwang.core.admin import AuditedModelAdmin, admin_actor
from anwang.core.errors import ServiceError
from anwang.people import services
from anwang.people.models import (
    EmergencyContact,
    HouseholdBinding,
    HouseholdMember,
    Resident,
    ResidentTagLink,
)
from anwang.people.validation import id_number_normalise, id_number_parse, phone_normalise


class ResidentAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """Resident form with write-only ID and phone fields."""

    new_id_number = forms.CharField(label=_("ID number"), required=False, max_length=30)
    new_phone = forms.CharField(label=_("Phone"), required=False, max_length=30)

    class Meta:
        model = Resident
        fields = ["community", "name", "gender", "birth_date", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name, masked in (
                ("new_id_number", self.instance.id_number_masked),
                ("new_phone", self.instance.phone_masked),
            ):
                if masked:
                    self.fields[name].help_text = _(
                        "Stored: %(masked)s. Leave empty to keep it."
                    ) % {"masked": masked}

    def clean_new_id_number(self) -> str:
        """Checked like everywhere else (format and check digit)."""
        value = id_number_normalise(self.cleaned_data.get("new_id_number", ""))
        if value:
            try:
                id_number_parse(value)
            except ServiceError as error:
                raise forms.ValidationError(str(error.message)) from error
        return value

    def clean_new_phone(self) -> str:
        """Checked and normalised like everywhere else."""
        try:
            return phone_normalise(self.cleaned_data.get("new_phone", ""))
        except ServiceError as error:
            raise forms.ValidationError(str(error.message)) from error

    def clean(self) -> dict[str, Any]:
        """Duplicates and birth date or gender contradicting the ID number, as the service
        would refuse them."""
        data = super().clean() or {}
        community = data.get("community") or getattr(self.instance, "community", None)
        if community is None or self.errors:
            return data
        try:
            services.resident_validate(
                community_id=community.pk,
                pk=self.instance.pk,
                gender=data.get("gender") or "unknown",
                birth_date=data.get("birth_date"),
                id_number=data.get("new_id_number") or None,
            )
        except ServiceError as error:
            field = {"id_number": "new_id_number"}.get(error.field or "", error.field)
            self.add_error(field if field in self.fields else None, str(error.message))
        return data


class ResidentTagInline(admin.TabularInline):  # type: ignore[type-arg]
    """Tags edited with the resident; changes are audited as ``resident.tags_set``."""

    model = ResidentTagLink
    extra = 0


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Residents with masked numbers; writes go through the people services."""

    form = ResidentAdminForm
    list_display = ["name", "community", "gender", "masked_id_number", "masked_phone", "moved"]
    list_filter = ["community", "gender", "moved_out_at"]
    search_fields = ["name"]
    list_select_related = ["community"]
    readonly_fields = ["user", "data_consent_at", "moved_out_at", "created_at", "updated_at"]
    inlines = [ResidentTagInline]

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj: Resident) -> str:
        """Masked."""
        return obj.id_number_masked

    @admin.display(description=_("Phone"))
    def masked_phone(self, obj: Resident) -> str:
        """Masked."""
        return obj.phone_masked

    @admin.display(description=_("moved out"), boolean=True)
    def moved(self, obj: Resident) -> bool:
        """Whether the resident moved out."""
        return obj.moved_out_at is not None

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """The community of an existing resident does not change."""
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "community"] if obj is not None else fields

    def save_model(self, request: HttpRequest, obj: Resident, form: Any, change: bool) -> None:
        """Create or change through the services (validation, blind indexes, audit)."""
        data = form.cleaned_data
        try:
            if change:
                stored = Resident.objects.get(pk=obj.pk)
                services.resident_update(
                    actor=admin_actor(request),
                    resident=stored,
                    name=data["name"],
                    gender=data["gender"],
                    birth_date=data["birth_date"],
                    id_number=data["new_id_number"] or None,
                    phone=data["new_phone"] or None,
                    note=data["note"],
                )
                obj.refresh_from_db()
            else:
                created = services.resident_create(
                    actor=admin_actor(request),
                    community=data["community"],
                    name=data["name"],
                    gender=data["gender"],
                    birth_date=data["birth_date"],
                    id_number=data["new_id_number"],
                    phone=data["new_phone"],
                    note=data["note"],
                )
                obj.pk = created.pk
                obj.refresh_from_db()
        except ServiceError as error:
            # The admin has no way back to the form here: roll back and say why.
            transaction.set_rollback(True)
            messages.error(request, str(error.message))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Tags from the inline are set through the service (audited)."""
        resident: Resident = form.instance
        if not resident.pk:
            return
        for formset in formsets:
            if formset.model is not ResidentTagLink:
                continue
            if not formset.is_valid():
                continue
            tags = {link.tag for link in resident.tag_links.all()}
            for inline_form in formset.forms:
                cleaned = getattr(inline_form, "cleaned_data", {}) or {}
                if not cleaned:
                    continue
                original = inline_form.instance.tag if inline_form.instance.pk else None
                if original:
                    tags.discard(original)
                if not cleaned.get("DELETE") and cleaned.get("tag"):
                    tags.add(cleaned["tag"])
            try:
                services.resident_tags_set(actor=admin_actor(request), resident=resident, tags=tags)
            except ServiceError as error:
                messages.error(request, str(error.message))
            # The admin's change message reads what a formset saved; the service did the saving.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request: HttpRequest, obj: Resident) -> None:
        """Deleting is erasing: through the service, audited without personal data."""
        services.resident_erase(actor=admin_actor(request), resident=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Resident]) -> None:
        """Each resident is erased through the service."""
        for resident in queryset:
            services.resident_erase(actor=admin_actor(request), resident=resident)


@admin.register(HouseholdMember)
class HouseholdMemberAdmin(AuditedModelAdmin):
    """Who lives where."""

    entity = "household_member"
    audit_fields = ("household", "resident", "relation", "since", "until")
    redact_fields = tuple(services.REDACT)
    list_display = ["resident", "household", "relation", "since", "until"]
    list_filter = ["relation", "household__community"]
    list_select_related = ["resident", "household__unit__building"]
    raw_id_fields = ["household", "resident"]

    def community_of(self, obj: HouseholdMember) -> int | None:
        """The household's community."""
        return obj.household.community_id


class EmergencyContactAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """Emergency contact form with a write-only phone field."""

    new_phone = forms.CharField(label=_("Phone"), required=False, max_length=30)

    class Meta:
        model = EmergencyContact
        fields = ["resident", "name", "relation"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.phone:
            self.fields["new_phone"].help_text = _(
                "Stored: %(masked)s. Leave empty to keep it."
            ) % {"masked": self.instance.phone_masked}
        else:
            self.fields["new_phone"].required = True

    def clean_new_phone(self) -> str:
        """Checked and normalised like everywhere else."""
        try:
            return phone_normalise(self.cleaned_data.get("new_phone", ""))
        except ServiceError as error:
            raise forms.ValidationError(str(error.message)) from error

    def save(self, commit: bool = True) -> EmergencyContact:
        """Store a newly typed phone number."""
        contact: EmergencyContact = super().save(commit=False)
        if self.cleaned_data.get("new_phone"):
            contact.phone = self.cleaned_data["new_phone"]
        if commit:
            contact.save()
        return contact


@admin.register(EmergencyContact)
class EmergencyContactAdmin(AuditedModelAdmin):
    """Emergency contacts, phone numbers masked."""

    form = EmergencyContactAdminForm
    entity = "emergency_contact"
    audit_fields = ("resident", "name", "relation", "phone")
    redact_fields = tuple(services.REDACT)
    list_display = ["name", "resident", "relation", "masked_phone"]
    list_select_related = ["resident"]
    raw_id_fields = ["resident"]

    @admin.display(description=_("Phone"))
    def masked_phone(self, obj: EmergencyContact) -> str:
        """Masked."""
        return obj.phone_masked

    def community_of(self, obj: EmergencyContact) -> int | None:
        """The resident's community."""
        return obj.resident.community_id


@admin.register(HouseholdBinding)
class HouseholdBindingAdmin(AuditedModelAdmin):
    """Binding requests; approve them here or on the bindings page."""

    entity = "binding"
    audit_fields = ("user", "household", "resident", "status", "relation", "decision_note")
    redact_fields = tuple(services.REDACT)
    list_display = ["user", "household", "status", "relation", "created_at", "decided_at"]
    list_filter = ["status", "household__community"]
    list_select_related = ["user", "household__unit__building"]
    raw_id_fields = ["user", "household", "resident"]
    readonly_fields = ["status", "decided_by", "decided_at", "ended_at", "created_at"]
    actions = ["approve_selected"]

    def community_of(self, obj: HouseholdBinding) -> int | None:
        """The household's community."""
        return obj.household.community_id

    @admin.action(description=_("Approve the selected pending requests"))
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[HouseholdBinding]) -> None:
        """Approve through the service (links the resident record, grants the role)."""
        actor = admin_actor(request)
        assert actor is not None
        approved = 0
        for binding in queryset.select_related("household__community", "user"):
            try:
                services.binding_approve(actor=actor, binding=binding)
            except ServiceError as error:
                messages.error(request, f"{binding}: {error.message}")
            except (PermissionDenied, Http404):
                # A staff user who is not a platform administrator, outside their community.
                messages.error(request, f"{binding}: {_('You may not do this.')}")
            else:
                approved += 1
        messages.success(request, _("%(count)s requests approved.") % {"count": approved})
