"""Account pages: login with lockout and two-factor, sign-up, profile and tokens, password
reset, staff accounts, idle timeout."""

import re
import time
from typing import Any

import pyotp
import pytest
from conftest import PASSWORD
from django.conf import settings
from django.core import mail
from django.test import Client, override_settings

from anwang.accounts import services
from anwang.accounts.choices import Role
from anwang.accounts.middleware import LAST_SEEN_KEY, STARTED_KEY
from anwang.accounts.models import ApiToken, Membership, User
from anwang.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def english_client(**kwargs) -> Client:
    """A client that reads the English interface, so texts can be asserted."""
    client = Client(**kwargs)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- login ----------------------------------------------------------------------------------


def test_login_page_renders_in_both_languages(world):
    response = english_client().get(LOGIN)
    assert response.status_code == 200
    assert b"Forgot your password?" in response.content
    assert b'name="username"' in response.content
    chinese = Client()
    chinese.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert chinese.get(LOGIN).status_code == 200


def test_login_success_redirects_and_is_audited(world):
    user = world.user("guard")
    services.user_preferences_update(actor=user, user=user, language="en")
    client = Client()
    response = client.post(LOGIN, {"username": "a_guard", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in(client)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert AuditEvent.objects.filter(action="login.success", actor_id=user.pk).exists()


def test_login_keeps_a_safe_next_only(world):
    client = Client()
    response = client.post(LOGIN + "?next=/my-work/", {"username": "a_guard", "password": PASSWORD})
    assert response["Location"] == "/my-work/"
    client = Client()
    response = client.post(
        LOGIN + "?next=https://evil.example/", {"username": "a_guard", "password": PASSWORD}
    )
    assert response["Location"] == "/"


def test_wrong_password_shows_a_generic_error_and_keeps_the_user_name(world):
    client = english_client()
    response = client.post(LOGIN, {"username": "a_guard", "password": "wrong-password"})
    assert response.status_code == 200
    assert b"correct user name and password" in response.content
    assert b'value="a_guard"' in response.content
    assert not logged_in(client)
    assert AuditEvent.objects.filter(action="login.failure").count() == 1


@override_settings(ANWANG_LOCKOUT_FAILURES=5, ANWANG_LOCKOUT_WINDOW_SECONDS=900)
def test_lockout_message_after_five_failures_gives_no_hint(world):
    client = english_client()
    for _ in range(5):
        client.post(LOGIN, {"username": "a_guard", "password": "wrong-password"})
    right = client.post(LOGIN, {"username": "a_guard", "password": PASSWORD})
    assert right.status_code == 200
    assert not logged_in(client)
    assert b'data-testid="login-locked"' in right.content
    assert b"Too many failed logins" in right.content
    wrong = client.post(LOGIN, {"username": "a_guard", "password": "still-wrong"})

    def message(response: Any) -> str:
        found = re.search(
            r'data-testid="login-locked">(.*?)</div>', response.content.decode(), re.S
        )
        assert found is not None
        return found.group(1)

    assert message(right) == message(wrong)
    # The five failures came from one address, which is locked too: another account is
    # refused from here, but logs in from elsewhere.
    other = client.post(LOGIN, {"username": "a_operator", "password": PASSWORD})
    assert b'data-testid="login-locked"' in other.content
    elsewhere = Client(REMOTE_ADDR="198.51.100.30")
    assert (
        elsewhere.post(LOGIN, {"username": "a_operator", "password": PASSWORD}).status_code == 302
    )
    assert AuditEvent.objects.filter(action="login.locked").count() == 3


@override_settings(ANWANG_LOCKOUT_FAILURES=3, ANWANG_LOCKOUT_WINDOW_SECONDS=900)
def test_address_lockout_on_the_page(world):
    client = english_client(REMOTE_ADDR="198.51.100.20")
    for name in ["x1", "x2", "x3"]:
        client.post(LOGIN, {"username": name, "password": "whatever-password"})
    response = client.post(LOGIN, {"username": "a_operator", "password": PASSWORD})
    assert b'data-testid="login-locked"' in response.content
    assert not logged_in(client)
    elsewhere = Client(REMOTE_ADDR="198.51.100.21")
    assert (
        elsewhere.post(LOGIN, {"username": "a_operator", "password": PASSWORD}).status_code == 302
    )


def test_logout_needs_post(world):
    client = world.client_for("guard")
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert not logged_in(client)


# --- two-factor login -----------------------------------------------------------------------


def enable_totp(user: User) -> pyotp.TOTP:
    secret = services.totp_setup_begin(actor=user, user=user)
    services.totp_enable(actor=user, user=user, code=pyotp.TOTP(secret).now())
    return pyotp.TOTP(secret)


def test_two_factor_login_takes_two_steps(world):
    guard = world.user("guard")
    totp = enable_totp(guard)
    client = english_client()
    response = client.post(LOGIN + "?next=/my-work/", {"username": "a_guard", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/code/"
    assert not logged_in(client)
    # Not logged in between the steps: pages still send to the login.
    assert client.get("/dashboard/")["Location"].startswith(LOGIN)
    page = client.get("/accounts/login/code/")
    assert page.status_code == 200
    assert b"six-digit code" in page.content
    wrong = client.post("/accounts/login/code/", {"code": "12345x"})
    assert wrong.status_code == 200
    assert not logged_in(client)
    code = totp.at(time.time() + 30)  # the current one was spent enabling
    done = client.post("/accounts/login/code/", {"code": code})
    assert done.status_code == 302
    assert done["Location"] == "/my-work/"
    assert logged_in(client)
    assert AuditEvent.objects.filter(action="login.success", actor_id=guard.pk).count() == 1
    assert AuditEvent.objects.filter(action="login.failure", changes__reason="code").count() == 1
    # The same code cannot be used for a second login.
    other = english_client()
    other.post(LOGIN, {"username": "a_guard", "password": PASSWORD})
    replay = other.post("/accounts/login/code/", {"code": code})
    assert replay.status_code == 200
    assert not logged_in(other)


def test_code_step_without_a_password_step_goes_back_to_login(world):
    client = Client()
    response = client.post("/accounts/login/code/", {"code": "123456"})
    assert response["Location"] == LOGIN


def test_code_step_expires(world):
    enable_totp(world.user("guard"))
    client = Client()
    client.post(LOGIN, {"username": "a_guard", "password": PASSWORD})
    session = client.session
    session["anwang_pending_login"]["at"] -= 3600
    session.save()
    response = client.get("/accounts/login/code/")
    assert response["Location"] == LOGIN
    assert "anwang_pending_login" not in client.session


def test_two_factor_setup_page_for_staff(world):
    client = english(world.client_for("guard"))
    response = client.get("/accounts/two-factor/")
    assert response.status_code == 200
    assert b"<svg" in response.content
    guard = User.objects.get(username="a_guard")
    assert guard.totp_secret
    assert guard.totp_secret[:4].encode() in response.content
    bad = client.post("/accounts/two-factor/enable/", {"code": "000000x"})
    assert bad.status_code == 400
    good = client.post(
        "/accounts/two-factor/enable/", {"code": pyotp.TOTP(guard.totp_secret).now()}
    )
    assert good["Location"] == "/accounts/profile/"
    guard.refresh_from_db()
    assert guard.totp_enabled
    manage = client.get("/accounts/two-factor/")
    assert b"<svg" not in manage.content
    assert guard.totp_secret.encode() not in manage.content
    off = client.post(
        "/accounts/two-factor/disable/",
        {"code": pyotp.TOTP(guard.totp_secret).at(time.time() + 30)},
    )
    assert off["Location"] == "/accounts/profile/"
    guard.refresh_from_db()
    assert not guard.totp_enabled


def test_two_factor_is_not_offered_to_residents(world):
    client = world.client_for("resident")
    assert client.get("/accounts/two-factor/").status_code == 404
    assert b"/accounts/two-factor/" not in client.get("/accounts/profile/").content
    assert b"/accounts/two-factor/" in world.client_for("guard").get("/accounts/profile/").content


# --- sign-up --------------------------------------------------------------------------------


def test_signup_creates_a_resident_account_and_asks_for_the_household(world):
    client = Client()
    assert client.get("/accounts/signup/").status_code == 200
    response = client.post(
        "/accounts/signup/",
        {
            "username": "new_resident",
            "display_name": "王小明",
            "email": "xm@example.org",
            "password1": "Quiet-River-2024",
            "password2": "Quiet-River-2024",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/people/bindings/request/"
    user = User.objects.get(username="new_resident")
    assert logged_in(client)
    assert int(client.session["_auth_user_id"]) == user.pk
    assert not Membership.objects.filter(user=user).exists()
    assert user.check_password("Quiet-River-2024")


def test_signup_errors_keep_what_was_typed(world):
    client = english_client()
    data = {
        "username": "new_resident",
        "display_name": "王小明",
        "email": "xm@example.org",
        "password1": "Quiet-River-2024",
        "password2": "Quiet-River-2025",
    }
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 200
    assert b"The two passwords differ." in response.content
    assert 'value="王小明"'.encode() in response.content
    weak = client.post("/accounts/signup/", {**data, "password1": "12345", "password2": "12345"})
    assert b"errorlist" in weak.content
    taken = client.post(
        "/accounts/signup/", {**data, "username": "a_guard", "password2": "Quiet-River-2024"}
    )
    assert b"That user name is taken." in taken.content
    assert not User.objects.filter(username="new_resident").exists()
    assert not logged_in(client)


def test_signup_redirects_people_already_logged_in(world):
    assert world.client_for("guard").get("/accounts/signup/").status_code == 302


# --- profile and tokens ---------------------------------------------------------------------


def test_profile_saves_preferences_and_sets_the_language_cookie(world):
    client = english(world.client_for("guard"))
    response = client.post(
        "/accounts/profile/",
        {"display_name": "夜班保安", "preferred_language": "zh-hans", "large_text": "on"},
    )
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert response.cookies["anwang_large_text"].value == "1"
    user = User.objects.get(username="a_guard")
    assert (user.display_name, user.preferred_language, user.large_text) == (
        "夜班保安",
        "zh-hans",
        True,
    )
    bad = client.post("/accounts/profile/", {"display_name": "x", "preferred_language": "fr"})
    assert bad.status_code == 400
    user.refresh_from_db()
    assert user.display_name == "夜班保安"


def test_profile_token_shown_once_then_revoked(world, django_assert_max_num_queries):
    guard = world.user("guard")
    client = english(world.client_for("guard"))
    response = client.post(
        "/accounts/profile/tokens/",
        {"name": "门岗平板", "community": str(world.a.community.pk)},
    )
    assert response.status_code == 200
    found = re.search(rb"aw_[A-Za-z0-9_\-]+", response.content)
    assert found is not None
    raw = found.group(0).decode()
    token = ApiToken.objects.get(user=guard)
    assert token.community_id == world.a.community.pk
    assert services.api_token_authenticate(raw_token=raw) == token
    for index in range(5):
        services.api_token_create(actor=guard, user=guard, name=f"t{index}")
    with django_assert_max_num_queries(12):
        page = client.get("/accounts/profile/")
    assert raw.encode() not in page.content  # shown once only
    assert token.prefix.encode() in page.content
    revoke = client.post(f"/accounts/profile/tokens/{token.pk}/revoke/")
    assert revoke["Location"] == "/accounts/profile/"
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_profile_token_of_another_person_is_404(world):
    operator = world.user("operator")
    token, _raw = services.api_token_create(actor=operator, user=operator)
    client = world.client_for("guard")
    assert client.post(f"/accounts/profile/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_profile_token_for_a_foreign_community_is_refused(world):
    client = world.client_for("guard")
    response = client.post(
        "/accounts/profile/tokens/", {"name": "x", "community": str(world.b.community.pk)}
    )
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_password_change(world):
    client = world.client_for("guard")
    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "Fresh-Lantern-88",
            "new_password2": "Fresh-Lantern-88",
        },
    )
    assert response["Location"] == "/accounts/profile/"
    assert User.objects.get(username="a_guard").check_password("Fresh-Lantern-88")
    assert logged_in(client)
    assert AuditEvent.objects.filter(action="user.password_set").exists()


# --- password reset -------------------------------------------------------------------------


@override_settings(ANWANG_PUBLIC_URL="https://anwang.example.org")
def test_password_reset_by_email_end_to_end(world):
    guard = world.user("guard")
    guard.email = "guard@example.org"
    guard.preferred_language = "en"
    guard.save()
    for _ in range(3):
        services.login_failure_record(username="a_guard", client_address="10.0.0.1")
    client = english_client()
    assert client.get("/accounts/password/reset/").status_code == 200
    response = client.post(
        "/accounts/password/reset/", {"email": "GUARD@example.org"}, HTTP_HOST="127.0.0.1"
    )
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["guard@example.org"]
    assert "Anwang" in message.subject
    link = re.search(
        r"https://anwang\.example\.org(/accounts/password/reset/\S+/)", str(message.body)
    )
    assert link, message.body
    opened = client.get(link.group(1))
    assert opened.status_code == 302  # Django moves the token out of the address
    form_page = client.get(opened["Location"])
    assert form_page.status_code == 200
    done = client.post(
        opened["Location"],
        {"new_password1": "Brand-New-Pass-51", "new_password2": "Brand-New-Pass-51"},
    )
    assert done["Location"] == "/accounts/password/reset/complete/"
    guard.refresh_from_db()
    assert guard.check_password("Brand-New-Pass-51")
    # The link works once.
    assert b"password-reset-invalid" in client.get(link.group(1)).content
    login = Client().post(LOGIN, {"username": "a_guard", "password": "Brand-New-Pass-51"})
    assert login.status_code == 302
    assert AuditEvent.objects.filter(action="user.password_set", changes__via_reset=True).exists()


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(world):
    client = Client()
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


# --- staff ----------------------------------------------------------------------------------


def test_staff_page_lists_the_communitys_staff(world, django_assert_max_num_queries):
    client = english(world.client_for("community_admin"))
    for index in range(10):
        user = User.objects.create(username=f"extra{index}")
        Membership.objects.create(user=user, role=Role.GUARD, community=world.a.community)
    client.get("/accounts/staff/")  # warm the session
    with django_assert_max_num_queries(14):
        response = client.get("/accounts/staff/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "a_guard" in html
    assert "extra9" in html
    assert "b_guard" not in html
    assert "a_resident" not in html  # residents are not staff
    searched = client.get("/accounts/staff/", {"q": "extra1"})
    assert "extra1" in searched.content.decode()
    assert "a_guard" not in searched.content.decode()


def test_staff_page_is_for_staff_managers_only(world):
    for role in ["guard", "operator", "resident", "volunteer", "auditor"]:
        assert world.client_for(role).get("/accounts/staff/").status_code == 404, role
    guard_page = world.client_for("guard").get("/dashboard/").content
    assert b"/accounts/staff/" not in guard_page
    assert b"/accounts/staff/" in world.client_for("community_admin").get("/dashboard/").content


def test_staff_create_account(world):
    client = english(world.client_for("community_admin"))
    data = {
        "username": "new_grid",
        "display_name": "新网格员",
        "email": "",
        "password": "Sturdy-Gate-7788",
        "role": "grid_worker",
    }
    response = client.post("/accounts/staff/new/", data)
    assert response["Location"] == "/accounts/staff/"
    membership = Membership.objects.get(user__username="new_grid")
    assert (membership.role, membership.community_id) == ("grid_worker", world.a.community.pk)
    weak = client.post("/accounts/staff/new/", {**data, "username": "weak", "password": "1234"})
    assert weak.status_code == 400
    assert b'value="weak"' in weak.content
    assert not User.objects.filter(username="weak").exists()
    supervisor = client.post(
        "/accounts/staff/new/", {**data, "username": "sup", "role": "supervisor"}
    )
    assert supervisor.status_code == 400
    assert not User.objects.filter(username="sup").exists()


def test_staff_grant_role_to_a_member(world):
    client = english(world.client_for("community_admin"))
    response = client.post(
        "/accounts/staff/grant/", {"username": "a_resident", "role": "volunteer"}
    )
    assert response["Location"] == "/accounts/staff/"
    assert Membership.objects.filter(
        user=world.user("resident"), role=Role.VOLUNTEER, community=world.a.community
    ).exists()
    foreign = client.post("/accounts/staff/grant/", {"username": "b_resident", "role": "volunteer"})
    assert foreign.status_code == 400
    assert b"No one with this user name belongs to this community." in foreign.content
    assert not Membership.objects.filter(
        user=world.user("resident", "b"), role="volunteer"
    ).exists()


def test_staff_revoke_is_scoped(world):
    a_guard = Membership.objects.get(user=world.user("guard"), role=Role.GUARD)
    b_client = world.client_for("community_admin", "b")
    assert b_client.post(f"/accounts/staff/memberships/{a_guard.pk}/revoke/").status_code == 404
    assert Membership.objects.filter(pk=a_guard.pk).exists()
    guard_client = world.client_for("operator")
    assert guard_client.post(f"/accounts/staff/memberships/{a_guard.pk}/revoke/").status_code == 404
    a_client = world.client_for("community_admin")
    response = a_client.post(f"/accounts/staff/memberships/{a_guard.pk}/revoke/")
    assert response["Location"] == "/accounts/staff/"
    assert not Membership.objects.filter(pk=a_guard.pk).exists()
    own = Membership.objects.get(user=world.user("community_admin"), role=Role.COMMUNITY_ADMIN)
    a_client.post(f"/accounts/staff/memberships/{own.pk}/revoke/")
    assert Membership.objects.filter(pk=own.pk).exists()


# --- idle timeout ---------------------------------------------------------------------------


@override_settings(ANWANG_SESSION_IDLE_SECONDS=1800)
def test_idle_session_is_logged_out(world):
    client = world.client_for("guard")
    assert client.get("/dashboard/").status_code == 200
    assert client.session[LAST_SEEN_KEY] > 0
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - 1700
    session.save()
    assert client.get("/dashboard/").status_code == 200  # still within the idle time
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - 1801
    session.save()
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not logged_in(client)


@override_settings(SESSION_COOKIE_AGE=3600)
def test_an_active_session_still_ends_at_its_age(world):
    client = world.client_for("guard")
    assert client.get("/dashboard/").status_code == 200
    session = client.session
    session[STARTED_KEY] = int(time.time()) - 3601
    session.save()
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert not logged_in(client)


def test_api_tokens_are_not_subject_to_the_idle_timeout(world):
    guard = world.user("guard")
    _token, raw = services.api_token_create(actor=guard, user=guard)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    with override_settings(ANWANG_SESSION_IDLE_SECONDS=0):
        assert client.get("/api/v1/me").status_code == 200
        assert client.get("/api/v1/me").status_code == 200
