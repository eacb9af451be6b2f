"""Account pages: log in (with lockout and two-factor), sign up, profile and API tokens,
password reset and change, staff accounts."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import qrcode
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from qrcode.image.svg import SvgPathImage

from anwang.accounts import selectors, services
from anwang.accounts.choices import Permission, PhoneCodePurpose
from anwang.accounts.forms import (
    ApiTokenForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetByCodeForm,
    PasswordResetForm,
    PhoneCodeRequestForm,
    ProfileForm,
    SetPasswordForm,
    SignupForm,
    StaffCreateForm,
    StaffGrantForm,
    StaffSearchForm,
    TwoFactorCodeForm,
)
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, scope_for
from anwang.core.errors import ServiceError
from anwang.core.net import client_address
from anwang.core.pages import attach_service_error, is_htmx, page_user
from anwang.core.selectors import current_community
from anwang.places.models import Community

PENDING_LOGIN_KEY = "anwang_pending_login"
"""Session key of a login waiting for its second factor: user id, time, backend, next URL."""
PENDING_LOGIN_SECONDS = 300
LARGE_TEXT_COOKIE = "anwang_large_text"
STAFF_PAGE_SIZE = 50


# --- Log in and out -------------------------------------------------------------------------


def _finish_login(request: HttpRequest, user: User, backend: str, next_url: str) -> HttpResponse:
    """Log the person in for real, audit it and apply their language."""
    auth_login(request, user, backend=backend)
    services.login_success(user=user)
    response = HttpResponseRedirect(next_url)
    if user.preferred_language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            user.preferred_language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
        )
    return response


class LoginView(auth_views.LoginView):
    """Log in with user name and password, then a two-factor code if the person enabled it."""

    template_name = "accounts/login.html"
    form_class = LoginForm  # type: ignore[assignment]
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        """Either log in, or remember who passed the first step and ask for the code."""
        user = form.get_user()
        assert isinstance(user, User)
        backend = getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[0])
        if user.totp_enabled:
            # Not logged in yet: only the session knows the password step was passed.
            self.request.session[PENDING_LOGIN_KEY] = {
                "user": user.pk,
                "at": int(time.time()),
                "backend": backend,
                "next": self.get_success_url(),
            }
            return redirect("accounts:login_code")
        return _finish_login(self.request, user, backend, self.get_success_url())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        """Tell the template whether the form was refused because of a lock."""
        context = super().get_context_data(**kwargs)
        form = context.get("form")
        context["locked"] = bool(
            form is not None
            and form.is_bound
            and any(error.code == "locked" for error in form.errors.as_data().get("__all__", []))
        )
        return context


@never_cache
@sensitive_post_parameters("code")
def login_code(request: HttpRequest) -> HttpResponse:
    """The second login step: the code of the authenticator app."""
    pending = request.session.get(PENDING_LOGIN_KEY)
    user = None
    if isinstance(pending, dict) and time.time() - pending.get("at", 0) <= PENDING_LOGIN_SECONDS:
        user = User.objects.filter(pk=int(pending.get("user") or 0), is_active=True).first()
    if pending is None or user is None:
        request.session.pop(PENDING_LOGIN_KEY, None)
        messages.info(request, _("Please log in again."))
        return redirect("accounts:login")
    form = TwoFactorCodeForm(request.POST or None)
    locked = False
    if request.method == "POST" and form.is_valid():
        try:
            services.login_second_factor(
                user=user, code=form.cleaned_data["code"], client_address=client_address(request)
            )
        except services.LoginLockedError as error:
            request.session.pop(PENDING_LOGIN_KEY, None)
            form.add_error(None, str(error.message))
            locked = True
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            request.session.pop(PENDING_LOGIN_KEY, None)
            next_url = str(pending.get("next") or "")
            if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
                next_url = resolve_url(settings.LOGIN_REDIRECT_URL)
            return _finish_login(request, user, str(pending["backend"]), next_url)
    return render(request, "accounts/two_factor_login.html", {"form": form, "locked": locked})


class LogoutView(auth_views.LogoutView):
    """Log out (POST only) and drop any half-finished two-factor login."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """End the session."""
        request.session.pop(PENDING_LOGIN_KEY, None)
        return super().post(request, *args, **kwargs)


# --- Sign up --------------------------------------------------------------------------------


def _send_code(request: HttpRequest, purpose: PhoneCodePurpose) -> tuple[bool, str]:
    """Text a code to the number in the POST; whether it went out and what to tell the
    person."""
    try:
        row = services.phone_code_send(
            phone=request.POST.get("phone", ""),
            purpose=purpose,
            client_address=client_address(request),
        )
    except ServiceError as error:
        return False, str(error.message)
    return True, _("We texted a code to %(phone)s. It is valid for 10 minutes.") % {
        "phone": row.phone_masked
    }


@never_cache
@sensitive_post_parameters("password1", "password2", "phone_code")
def signup(request: HttpRequest) -> HttpResponse:
    """A resident makes an account, is logged in and goes on to ask for their household."""
    if request.user.is_authenticated:
        return redirect("core:home")
    sms = services.sms_settings(purpose=PhoneCodePurpose.SIGN_UP) is not None
    if sms and request.method == "POST" and "send_code" in request.POST:
        # The "send code" button without JavaScript: the page comes back as typed, unchecked.
        ok, message = _send_code(request, PhoneCodePurpose.SIGN_UP)
        kept = ("username", "display_name", "email", "phone")
        form = SignupForm(initial={name: request.POST.get(name, "") for name in kept}, sms=True)
        context = {"form": form, "sms": sms, "code_ok": ok, "code_message": message}
        return render(request, "accounts/signup.html", context, status=200 if ok else 400)
    form = SignupForm(request.POST or None, sms=sms)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_signup(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data["display_name"],
                email=form.cleaned_data["email"],
                phone=form.cleaned_data.get("phone", ""),
                phone_code=form.cleaned_data.get("phone_code", ""),
            )
        except ServiceError as error:
            attach_service_error(form, error, {"password": "password1", "code": "phone_code"})
        else:
            messages.success(
                request,
                _("Welcome! Your account is ready. Now tell us which household you live in."),
            )
            return _finish_login(
                request,
                user,
                settings.AUTHENTICATION_BACKENDS[0],
                reverse("people:binding_request"),
            )
    return render(request, "accounts/signup.html", {"form": form, "sms": sms})


@never_cache
@require_POST
def signup_code(request: HttpRequest) -> HttpResponse:
    """The sign-up page's "send code" button (htmx): text a code and say so in place."""
    if not is_htmx(request):
        return redirect("accounts:signup")
    ok, message = _send_code(request, PhoneCodePurpose.SIGN_UP)
    # Always 200: htmx swaps only successful answers, and the error is the fragment's text.
    return render(
        request, "accounts/_phone_code_status.html", {"code_ok": ok, "code_message": message}
    )


# --- Profile and API tokens -----------------------------------------------------------------


def _render_profile(
    request: HttpRequest,
    *,
    profile_form: ProfileForm | None = None,
    token_form: ApiTokenForm | None = None,
    new_token: str = "",
    status: int = 200,
) -> HttpResponse:
    user = page_user(request)
    scope = scope_for(user)
    if profile_form is None:
        profile_form = ProfileForm(
            initial={
                "display_name": user.display_name,
                "preferred_language": user.preferred_language,
                "large_text": user.large_text,
            }
        )
    if token_form is None:
        token_form = ApiTokenForm(communities=selectors.token_communities(scope))
    context = {
        "profile_form": profile_form,
        "token_form": token_form,
        "tokens": list(selectors.api_tokens_of(scope)),
        "new_token": new_token,
        "memberships": selectors.user_summary(scope),
        "offer_two_factor": scope.is_staff_member or user.totp_enabled,
    }
    return render(request, "accounts/profile.html", context, status=status)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The person's own account: name, language, text size, two-factor login, API tokens."""
    user = page_user(request)
    if request.method != "POST":
        return _render_profile(request)
    form = ProfileForm(request.POST)
    if not form.is_valid():
        return _render_profile(request, profile_form=form, status=400)
    try:
        services.user_preferences_update(
            actor=user,
            user=user,
            display_name=form.cleaned_data["display_name"],
            language=form.cleaned_data["preferred_language"],
            large_text=form.cleaned_data["large_text"],
        )
    except ServiceError as error:
        attach_service_error(form, error, {"language": "preferred_language"})
        return _render_profile(request, profile_form=form, status=400)
    messages.success(request, _("Your settings were saved."))
    response = redirect("accounts:profile")
    # The cookies are what the language middleware and the text-size switch read.
    if user.preferred_language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            user.preferred_language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    response.set_cookie(
        LARGE_TEXT_COOKIE,
        "1" if user.large_text else "0",
        max_age=365 * 24 * 3600,
        samesite="Lax",
        httponly=True,
    )
    return response


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """Make an API token and show it once, in this response only."""
    user = page_user(request)
    scope = scope_for(user)
    form = ApiTokenForm(request.POST, communities=selectors.token_communities(scope))
    if not form.is_valid():
        return _render_profile(request, token_form=form, status=400)
    try:
        _token, raw = services.api_token_create(
            actor=user,
            user=user,
            name=form.cleaned_data["name"],
            community_id=form.cleaned_data["community"],
        )
    except ServiceError as error:
        attach_service_error(form, error)
        return _render_profile(request, token_form=form, status=400)
    # Rendered, not redirected: the raw token must never be stored, not even in the session.
    return _render_profile(request, new_token=raw)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of the person's own tokens."""
    user = page_user(request)
    token = selectors.api_token_get(scope_for(user), token_id)
    try:
        services.api_token_revoke(actor=user, token=token)
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The token was revoked; it no longer works."))
    return redirect("accounts:profile")


# --- Two-factor login -----------------------------------------------------------------------


def qr_svg(text: str) -> SafeString:
    """An inline SVG QR code of a text, drawn here (no outside service sees the secret)."""
    image = qrcode.make(text, image_factory=SvgPathImage, border=2)
    svg: str = image.to_string(encoding="unicode")
    return mark_safe(svg)  # noqa: S308 - generated by qrcode from our own data, no user markup


def _two_factor_user(request: HttpRequest) -> User:
    user = page_user(request)
    if not (scope_for(user).is_staff_member or user.totp_enabled):
        raise Http404
    return user


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up two-factor login (QR code, then a code to confirm), or switch it off."""
    user = _two_factor_user(request)
    if user.totp_enabled:
        return render(request, "accounts/two_factor_manage.html", {"form": TwoFactorCodeForm()})
    return _render_setup(request, user, TwoFactorCodeForm())


def _render_setup(
    request: HttpRequest, user: User, form: TwoFactorCodeForm, status: int = 200
) -> HttpResponse:
    secret = services.totp_setup_begin(actor=user, user=user)
    uri = services.totp_provisioning_uri(user)
    # Groups of four are easier to type into an app by hand.
    spaced = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render(
        request,
        "accounts/two_factor_setup.html",
        {"form": form, "qr_svg": qr_svg(uri), "secret": spaced},
        status=status,
    )


@login_required
@require_POST
@sensitive_post_parameters("code")
def two_factor_enable(request: HttpRequest) -> HttpResponse:
    """Confirm the set-up with a code from the app."""
    user = _two_factor_user(request)
    form = TwoFactorCodeForm(request.POST)
    if form.is_valid():
        try:
            services.totp_enable(actor=user, user=user, code=form.cleaned_data["code"])
        except ServiceError as error:
            if error.status == 409 and user.totp_enabled:
                return redirect("accounts:two_factor")
            attach_service_error(form, error)
        else:
            messages.success(
                request, _("Two-factor login is on. You will be asked for a code at each login.")
            )
            return redirect("accounts:profile")
    return _render_setup(request, user, form, status=400)


@login_required
@require_POST
@sensitive_post_parameters("code")
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    """Switch two-factor login off with a current code."""
    user = _two_factor_user(request)
    form = TwoFactorCodeForm(request.POST)
    if form.is_valid():
        try:
            services.totp_disable(actor=user, user=user, code=form.cleaned_data["code"])
        except ServiceError as error:
            if error.status == 409:
                return redirect("accounts:two_factor")
            attach_service_error(form, error)
        else:
            messages.success(request, _("Two-factor login is off."))
            return redirect("accounts:profile")
    return render(request, "accounts/two_factor_manage.html", {"form": form}, status=400)


# --- Passwords ------------------------------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by email; links point at the configured public address."""

    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    form_class = PasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        """Offer the reset by texted code when a gateway can send one."""
        context = super().get_context_data(**kwargs)
        context["sms_reset"] = services.phone_codes_offered(purpose=PhoneCodePurpose.PASSWORD_RESET)
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        """Send the email with links built from ``ANWANG_PUBLIC_URL``, not the request's host
        header, which a client could forge to steal the link."""
        public = urlsplit(settings.ANWANG_PUBLIC_URL)
        form.save(
            domain_override=public.netloc,
            use_https=public.scheme == "https",
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            extra_email_context={
                "site_name": _("Anwang"),
                "public_url": settings.ANWANG_PUBLIC_URL,
            },
        )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    """The reset email is on its way (shown whether or not the address is known)."""

    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choose a new password from an emailed link."""

    template_name = "accounts/password_reset_confirm.html"
    form_class = SetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    """The new password is set."""

    template_name = "accounts/password_reset_complete.html"


RESET_PHONE_KEY = "anwang_reset_phone"
"""Session key of the number a reset code was texted to, to fill in the code page."""


def _require_sms_reset() -> None:
    if not services.phone_codes_offered(purpose=PhoneCodePurpose.PASSWORD_RESET):
        raise Http404


@never_cache
def password_reset_sms(request: HttpRequest) -> HttpResponse:
    """Ask for a reset code by text message. The answer is the same whether or not an account
    uses the number."""
    _require_sms_reset()
    form = PhoneCodeRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            row = services.phone_code_send(
                phone=form.cleaned_data["phone"],
                purpose=PhoneCodePurpose.PASSWORD_RESET,
                client_address=client_address(request),
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            request.session[RESET_PHONE_KEY] = services.phone_normalise(form.cleaned_data["phone"])
            messages.info(
                request,
                _("If an account uses %(phone)s, we texted it a code. It is valid for 10 minutes.")
                % {"phone": row.phone_masked},
            )
            return redirect("accounts:password_reset_sms_confirm")
    return render(
        request,
        "accounts/password_reset_sms.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@never_cache
@sensitive_post_parameters("code", "new_password1", "new_password2")
def password_reset_sms_confirm(request: HttpRequest) -> HttpResponse:
    """Enter the texted code and a new password (twice)."""
    _require_sms_reset()
    phone = str(request.session.get(RESET_PHONE_KEY) or "")
    form = PasswordResetByCodeForm(request.POST or None, initial={"phone": phone})
    if request.method == "POST" and form.is_valid():
        try:
            services.user_password_reset_by_code(
                phone=form.cleaned_data["phone"],
                code=form.cleaned_data["code"],
                password=form.cleaned_data["new_password1"],
                username=form.cleaned_data["username"],
            )
        except ServiceError as error:
            attach_service_error(form, error, {"password": "new_password1"})
        else:
            request.session.pop(RESET_PHONE_KEY, None)
            return redirect("accounts:password_reset_complete")
    return render(
        request,
        "accounts/password_reset_sms_confirm.html",
        {"form": form, "phone": phone},
        status=400 if form.errors else 200,
    )


@method_decorator(login_required, name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password."""

    template_name = "accounts/password_change_form.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form: Any) -> HttpResponse:
        """Save and keep this session (other sessions end with the old password)."""
        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed."))
        return response


# --- Staff accounts -------------------------------------------------------------------------


def _staff_context(request: HttpRequest) -> tuple[Scope, Community]:
    """The scope and the community whose staff the page manages: the current community, or
    else the first one where the person manages staff."""
    scope = scope_for(request.user)
    community = current_community(request, scope)
    if community is None or not scope.has(Permission.MANAGE_STAFF, community.pk):
        community = (
            Community.objects.filter(id__in=scope.community_ids(Permission.MANAGE_STAFF))
            .order_by("name")
            .first()
        )
    if community is None:
        raise Http404
    return scope, community


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    """Staff and volunteer roles of the community, searchable, 50 a page."""
    scope, community = _staff_context(request)
    search = StaffSearchForm(request.GET or None)
    q = search.cleaned_data["q"] if search.is_valid() else ""
    memberships = selectors.staff_memberships(scope, community.pk, q)
    page = Paginator(memberships, STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/staff_list.html",
        {"community": community, "page_obj": page, "search": search, "q": q},
    )


@login_required
@sensitive_post_parameters("password")
def staff_create(request: HttpRequest) -> HttpResponse:
    """Create an account for a new staff member or volunteer of the community."""
    _scope, community = _staff_context(request)
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.staff_account_create(
                actor=page_user(request), community_id=community.pk, **form.cleaned_data
            )
        except ServiceError as error:
            attach_service_error(form, error)
        else:
            messages.success(
                request,
                _("The account %(user)s was created as %(role)s.")
                % {"user": membership.user.username, "role": membership.get_role_display()},
            )
            return redirect("accounts:staff_list")
    return render(
        request,
        "accounts/staff_form.html",
        {"form": form, "community": community, "mode": "create"},
        status=400 if form.errors else 200,
    )


@login_required
def staff_grant(request: HttpRequest) -> HttpResponse:
    """Give someone who already belongs to the community another role."""
    scope, community = _staff_context(request)
    form = StaffGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = selectors.community_member_get(
                scope, community.pk, form.cleaned_data["username"]
            )
        except Http404:
            form.add_error("username", _("No one with this user name belongs to this community."))
        else:
            try:
                membership = services.staff_membership_grant(
                    actor=page_user(request),
                    community_id=community.pk,
                    user=person,
                    role=form.cleaned_data["role"],
                )
            except ServiceError as error:
                attach_service_error(form, error)
            else:
                messages.success(
                    request,
                    _("%(user)s is now also %(role)s.")
                    % {"user": person, "role": membership.get_role_display()},
                )
                return redirect("accounts:staff_list")
    return render(
        request,
        "accounts/staff_form.html",
        {"form": form, "community": community, "mode": "grant"},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def staff_revoke(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Take a role away (only in a community the person manages staff in; else 404)."""
    membership = selectors.staff_membership_get(scope_for(request.user), membership_id)
    try:
        services.staff_membership_revoke(actor=page_user(request), membership=membership)
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("%(user)s no longer has the role %(role)s.")
            % {"user": membership.user, "role": membership.get_role_display()},
        )
    return redirect("accounts:staff_list")
