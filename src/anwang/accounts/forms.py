"""Forms of the account pages. They collect input; the rules live in the services they call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from anwang.accounts.models import User
from anwang.accounts.roles import COMMUNITY_STAFF_ROLES
from anwang.accounts.services import login_authenticate, user_password_set
from anwang.core.errors import ServiceError
from anwang.core.net import client_address

if TYPE_CHECKING:
    # django-stubs makes the form generic over the user model; Django itself does not.
    _SetPasswordBase = auth_forms.SetPasswordForm[User]
else:
    _SetPasswordBase = auth_forms.SetPasswordForm

LANGUAGE_CHOICES = [("", _("As my browser asks")), *settings.LANGUAGES]
STAFF_ROLE_CHOICES = [(role.value, role.label) for role in COMMUNITY_STAFF_ROLES]


class LoginForm(forms.Form):
    """User name and password, checked against the lockout before the password store."""

    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user: User | None = None
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        """Authenticate through the service; a lock or a wrong password is a form error."""
        cleaned = super().clean() or {}
        username, password = cleaned.get("username"), cleaned.get("password")
        if username and password:
            address = client_address(self.request) if self.request is not None else ""
            try:
                self.user = login_authenticate(
                    username=username, password=password, client_address=address
                )
            except ServiceError as error:
                raise forms.ValidationError(str(error.message), code=error.code) from error
        return cleaned

    def get_user(self) -> User | None:
        """The authenticated user, once the form is valid."""
        return self.user


class TwoFactorCodeForm(forms.Form):
    """The six-digit code of an authenticator app."""

    code = forms.CharField(
        label=_("Six-digit code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": r"[0-9 ]*",
                "autofocus": True,
            }
        ),
    )


class SignupForm(forms.Form):
    """A resident's own account."""

    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        help_text=_("Letters, digits and @ . + - _ only. You log in with it."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    display_name = forms.CharField(
        label=_("Your name"),
        max_length=100,
        help_text=_("Shown to community staff, for example on your hazard reports."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Email address"),
        help_text=_("Used only to reset a forgotten password."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Mobile number (optional)"),
        max_length=20,
        required=False,
        help_text=_(
            "We text you a code to check it is yours. Safety alerts can then reach you by SMS."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    phone_code = forms.CharField(
        label=_("Code from the text message"),
        max_length=12,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": r"[0-9 ]*"}
        ),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=_("At least 10 characters; not only digits and not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, sms: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not sms:  # no gateway texts codes: sign-up is by user name and email only
            del self.fields["phone"]
            del self.fields["phone_code"]

    def clean(self) -> dict[str, Any]:
        """Both passwords must match, a mobile number needs its code; everything else is
        checked by the service."""
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        if cleaned.get("phone") and not cleaned.get("phone_code"):
            self.add_error("phone_code", _("Enter the code we texted to this number."))
        return cleaned


class PhoneCodeRequestForm(forms.Form):
    """The mobile number to text a code to."""

    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "tel", "inputmode": "tel", "autofocus": True}
        ),
    )


class PasswordResetByCodeForm(forms.Form):
    """A new password, proved by the code texted to the account's mobile number."""

    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    code = forms.CharField(
        label=_("Code from the text message"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": r"[0-9 ]*",
                "autofocus": True,
            }
        ),
    )
    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        required=False,
        help_text=_("Needed only when several accounts use the same number."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    new_password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        help_text=_("At least 10 characters; not only digits and not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        """Both passwords must match; the code and the password rules are the service's."""
        cleaned = super().clean() or {}
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("The two passwords differ."))
        return cleaned


class ProfileForm(forms.Form):
    """Display name and display preferences."""

    display_name = forms.CharField(label=_("Display name"), max_length=100, required=False)
    preferred_language = forms.ChoiceField(
        label=_("Language"), choices=LANGUAGE_CHOICES, required=False
    )
    large_text = forms.BooleanField(
        label=_("Large text"),
        required=False,
        help_text=_("Makes every page easier to read on a phone or from a distance."),
    )


class ApiTokenForm(forms.Form):
    """A new API token: a name to recognise it and optionally one community."""

    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        required=False,
        help_text=_("What the token is for, for example the name of an integration."),
    )
    community = forms.TypedChoiceField(
        label=_("Limited to community"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("A limited token sees only that community, even if you belong to others."),
    )

    def __init__(self, *args: Any, communities: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[int | str, str]] = [("", str(_("All my communities")))]
        choices += [(community_id, name) for community_id, name in communities]
        self.fields["community"].choices = choices  # type: ignore[attr-defined]


class StaffCreateForm(forms.Form):
    """A new staff or volunteer account with its role in the current community."""

    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    display_name = forms.CharField(label=_("Name"), max_length=100)
    email = forms.EmailField(
        label=_("Email address"),
        required=False,
        help_text=_("Lets the person reset a forgotten password."),
    )
    password = forms.CharField(
        label=_("Initial password"),
        strip=False,
        help_text=_(
            "At least 10 characters. Give it to the person in private; they can change it "
            "on their account page."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=True),
    )
    role = forms.ChoiceField(label=_("Role"), choices=STAFF_ROLE_CHOICES)


class StaffGrantForm(forms.Form):
    """Another role for someone who already belongs to the community."""

    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        help_text=_("The person must already belong to this community, for example as a resident."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    role = forms.ChoiceField(label=_("Role"), choices=STAFF_ROLE_CHOICES)


class StaffSearchForm(forms.Form):
    """Search the staff list."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, sending each email in the recipient's own language."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        """Send one reset email, translated into the recipient's preferred language."""
        user = context.get("user")
        language = getattr(user, "preferred_language", "") or translation.get_language()
        with translation.override(language):
            super().send_mail(
                subject_template_name,
                email_template_name,
                context,
                from_email,
                to_email,
                html_email_template_name,
            )


class SetPasswordForm(_SetPasswordBase):
    """A new password after an emailed reset link, set through the service."""

    def save(self, commit: bool = True) -> User:
        """Store the new password (audited, failed logins forgotten)."""
        user = self.user
        assert isinstance(user, User)
        return user_password_set(
            actor=user, user=user, password=self.cleaned_data["new_password1"], via_reset=True
        )


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Change one's own password, knowing the old one."""

    def save(self, commit: bool = True) -> User:
        """Store the new password through the service."""
        user = self.user
        assert isinstance(user, User)
        return user_password_set(actor=user, user=user, password=self.cleaned_data["new_password1"])
