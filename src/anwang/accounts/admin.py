"""Admin site for accounts. Writes go through the services, so they are validated and audited;
secrets (two-factor secret, token digest) are never shown."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm, UsernameField
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from anwang.accounts import services
from anwang.accounts.models import ApiToken, LoginFailure, Membership, PhoneCode, User
from anwang.audit.services import audit_record, diff
from anwang.core.errors import ServiceError

# Fields whose values never go into the audit log, only the fact that they changed.
_SECRET_FIELDS = ("password", "totp_secret")


def _admin_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the admin site requires a logged-in staff user
    return user


def admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """The admin site logs in through the one login page, so the lockout and the two-factor
    step cannot be bypassed at ``/admin/login/``."""
    if request.user.is_authenticated:
        # Logged in but not a platform admin: sending them to log in again would loop.
        raise PermissionDenied
    target = request.GET.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = reverse("admin:index")
    return redirect_to_login(target, login_url=reverse("accounts:login"))


admin.site.login = admin_login  # type: ignore[method-assign]


class AnwangUserCreationForm(UserCreationForm):  # type: ignore[type-arg]
    """Django's creation form, bound to our user model."""

    class Meta:
        model = User
        fields = ("username", "display_name", "email")
        field_classes = {"username": UsernameField}


class AnwangUserChangeForm(UserChangeForm):  # type: ignore[type-arg]
    """Django's change form, bound to our user model."""

    class Meta:
        model = User
        fields = "__all__"
        field_classes = {"username": UsernameField}


@admin.register(User)
class UserAdmin(DjangoUserAdmin):  # type: ignore[type-arg]
    """People who log in; memberships say what they may see."""

    form = AnwangUserChangeForm
    add_form = AnwangUserCreationForm
    list_display = (
        "username",
        "display_name",
        "email",
        "is_active",
        "is_superuser",
        "totp_enabled",
        "last_login",
    )
    list_filter = ("is_active", "is_superuser", "totp_enabled")
    search_fields = ("username", "display_name", "email")
    ordering = ("username",)
    readonly_fields = ("totp_enabled", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("display_name", "email", "first_name", "last_name")}),
        (_("Preferences"), {"fields": ("preferred_language", "large_text")}),
        (_("Security"), {"fields": ("is_active", "totp_enabled", "last_login", "date_joined")}),
        (_("Platform administration"), {"fields": ("is_staff", "is_superuser")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "display_name", "email", "password1", "password2"),
            },
        ),
    )
    actions = ["reset_two_factor"]

    def save_model(self, request: HttpRequest, obj: Any, form: forms.Form, change: bool) -> None:
        """Save and audit which fields the admin changed (secrets only as changed)."""
        changed = [name for name in form.changed_data if name not in ("password1", "password2")]
        before = {name: form.initial.get(name) for name in changed}
        super().save_model(request, obj, form, change)
        after = {name: form.cleaned_data.get(name) for name in changed}
        audit_record(
            actor=_admin_user(request),
            action="user.update" if change else "user.create",
            obj=obj,
            changes=diff(before, after, redact=_SECRET_FIELDS)
            if change
            else {"username": obj.username, "via": "admin"},
        )

    @admin.action(description=_("Switch off two-factor login (lost phone)"))
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """Switch two-factor login off for the chosen people through the service."""
        count = 0
        for user in queryset.filter(totp_enabled=True):
            services.totp_reset(actor=_admin_user(request), user=user)
            count += 1
        self.message_user(
            request, _("Two-factor login switched off for %(count)d accounts.") % {"count": count}
        )


class MembershipAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """Checks the membership's shape with the service's own rule before saving."""

    class Meta:
        model = Membership
        fields = ("user", "role", "community", "region")

    def clean(self) -> dict[str, Any]:
        """A community role, or a supervisor's street office."""
        cleaned = super().clean() or {}
        community, region = cleaned.get("community"), cleaned.get("region")
        try:
            services.membership_validate(
                role=cleaned.get("role") or "",
                community_id=community.pk if community else None,
                region_id=region.pk if region else None,
            )
        except ServiceError as error:
            raise forms.ValidationError(str(error.message)) from error
        return cleaned


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Roles of users in communities and street offices. Granted and revoked, never edited."""

    list_display = ("user", "role", "community", "region", "created_at")
    list_filter = ("role", "region", "community")
    search_fields = ("user__username", "user__display_name", "user__email")
    list_select_related = ("user", "community", "region")
    autocomplete_fields = ("user",)
    form = MembershipAdminForm
    actions = ["revoke_selected"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """A role is granted or taken away; changing it in place would skip the audit trail."""
        return obj is None and super().has_change_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """Replace the plain bulk delete with the audited revoke."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request: HttpRequest, obj: Any, form: forms.Form, change: bool) -> None:
        """Grant through the service (validated by the form with the same rule, and audited)."""
        granted = services.membership_grant(
            actor=_admin_user(request),
            user=obj.user,
            role=obj.role,
            community_id=obj.community_id,
            region_id=obj.region_id,
        )
        obj.pk = granted.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        """Revoke through the service."""
        services.membership_revoke(actor=_admin_user(request), membership=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        """Revoke each one through the service."""
        for membership in queryset:
            services.membership_revoke(actor=_admin_user(request), membership=membership)

    @admin.action(description=_("Take the selected roles away"))
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        """Revoke the chosen memberships."""
        self.delete_queryset(request, queryset)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """API tokens: read-only here (people make their own on their account page); revocable."""

    list_display = (
        "prefix",
        "name",
        "user",
        "community",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "name", "user__username")
    list_select_related = ("user", "community")
    exclude = ("digest",)
    readonly_fields = (
        "user",
        "name",
        "prefix",
        "community",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Tokens are made by their owner, who is the only one to see the secret."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Read-only."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Revoke instead, which keeps the record."""
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        """Revoke the chosen live tokens through the service."""
        for token in queryset.filter(revoked_at__isnull=True):
            services.api_token_revoke(actor=_admin_user(request), token=token)


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Recent failed logins (read-only); an action lifts a lock early."""

    list_display = ("username", "client_address", "at")
    search_fields = ("username", "client_address")
    date_hierarchy = "at"
    readonly_fields = ("username", "client_address", "at")
    actions = ["unlock"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Failures are recorded by the login only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Read-only."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Use the audited unlock action instead."""
        return False

    @admin.action(description=_("Unlock: forget the failures of these accounts and addresses"))
    def unlock(self, request: HttpRequest, queryset: QuerySet[LoginFailure]) -> None:
        """Clear the failures of each chosen account and address through the service."""
        actor = _admin_user(request)
        pairs = set(queryset.values_list("username", "client_address"))
        for username in {username for username, _address in pairs}:
            services.login_failures_clear(actor=actor, username=username)
        for address in {address for _username, address in pairs if address}:
            services.login_failures_clear(actor=actor, client_address=address)
        self.message_user(request, _("The selected accounts and addresses are unlocked."))


@admin.register(PhoneCode)
class PhoneCodeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Codes texted for sign-up and password reset (read-only; never the code itself)."""

    list_display = ("phone_masked", "purpose", "sent", "created_at", "attempts", "used_at")
    list_filter = ("purpose", "sent")
    date_hierarchy = "created_at"
    readonly_fields = (
        "phone_masked",
        "purpose",
        "sent",
        "client_address",
        "created_at",
        "expires_at",
        "attempts",
        "used_at",
    )
    exclude = ("phone_index", "code_digest")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Codes are made by the sign-up and reset pages only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Read-only."""
        return False
