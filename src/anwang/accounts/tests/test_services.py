"""Services of the accounts domain: lockout, two-factor login, tokens, accounts, staff."""

import datetime as dt
import hashlib
import time

import pyotp
import pytest
from conftest import PASSWORD
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import override_settings
from django.utils import timezone

from anwang.accounts import services
from anwang.accounts.choices import Role
from anwang.accounts.models import ApiToken, LoginFailure, Membership, User
from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError

pytestmark = pytest.mark.django_db


def fail(
    username: str, address: str, times: int = 1, now: dt.datetime | None = None
) -> services.Lockout | None:
    lock = None
    for _ in range(times):
        lock = services.login_failure_record(username=username, client_address=address, now=now)
    return lock


# --- lockout --------------------------------------------------------------------------------


@override_settings(ANWANG_LOCKOUT_FAILURES=5, ANWANG_LOCKOUT_WINDOW_SECONDS=900)
def test_five_failures_lock_the_account_from_any_address(world):
    for index in range(4):
        assert fail("a_guard", f"10.0.0.{index}") is None
    lock = fail("a_guard", "10.0.0.9")
    assert lock is not None
    assert lock.reason == "account"
    # Even the right password from a fresh address is refused, without being checked.
    with pytest.raises(services.LoginLockedError) as refused:
        services.login_authenticate(
            username="a_guard", password=PASSWORD, client_address="192.168.1.1"
        )
    assert refused.value.status == 429
    assert refused.value.code == "locked"
    # The same message whatever the password: nothing tells whether it was right.
    with pytest.raises(services.LoginLockedError) as wrong:
        services.login_authenticate(
            username="a_guard", password="wrong-password", client_address="192.168.1.1"
        )
    assert str(wrong.value.message) == str(refused.value.message)
    # Another account is not affected.
    assert services.login_authenticate(
        username="a_operator", password=PASSWORD, client_address="192.168.1.1"
    ) == world.user("operator")


@override_settings(ANWANG_LOCKOUT_FAILURES=5, ANWANG_LOCKOUT_WINDOW_SECONDS=900)
def test_account_lock_ignores_case_of_the_user_name(world):
    for name in ["A_GUARD", "a_Guard", "a_guard", "A_guard", "a_GUARD"]:
        fail(name, "10.0.0.1")
    assert services.login_check_lockout(username="a_guard", client_address="10.9.9.9")


@override_settings(ANWANG_LOCKOUT_FAILURES=5, ANWANG_LOCKOUT_WINDOW_SECONDS=900)
def test_five_failures_from_one_address_lock_that_address_only(world):
    for index in range(5):
        fail(f"nobody{index}", "203.0.113.7")
    lock = services.login_check_lockout(username="a_guard", client_address="203.0.113.7")
    assert lock is not None
    assert lock.reason == "address"
    with pytest.raises(services.LoginLockedError):
        services.login_authenticate(
            username="a_guard", password=PASSWORD, client_address="203.0.113.7"
        )
    # The account itself is not locked: from elsewhere it logs in.
    user = services.login_authenticate(
        username="a_guard", password=PASSWORD, client_address="198.51.100.1"
    )
    assert user == world.user("guard")


@override_settings(ANWANG_LOCKOUT_FAILURES=5, ANWANG_LOCKOUT_WINDOW_SECONDS=900)
def test_lock_ends_when_the_window_has_passed(world):
    start = timezone.now() - dt.timedelta(minutes=20)
    fail("a_guard", "10.0.0.1", times=5, now=start)
    at_start = services.login_check_lockout(
        username="a_guard", client_address="10.0.0.1", now=start + dt.timedelta(minutes=1)
    )
    assert at_start is not None
    assert at_start.until == start + dt.timedelta(minutes=15)
    assert at_start.minutes_left(start + dt.timedelta(minutes=1)) == 14
    # Twenty minutes later the failures are outside the window.
    assert services.login_check_lockout(username="a_guard", client_address="10.0.0.1") is None
    assert services.login_authenticate(
        username="a_guard", password=PASSWORD, client_address="10.0.0.1"
    ) == world.user("guard")


@override_settings(ANWANG_LOCKOUT_FAILURES=5, ANWANG_LOCKOUT_WINDOW_SECONDS=900)
def test_four_failures_do_not_lock(world):
    for _ in range(4):
        with pytest.raises(ServiceError) as error:
            services.login_authenticate(
                username="a_guard", password="wrong-password", client_address="10.0.0.1"
            )
        assert error.value.code == "invalid_login"
    assert services.login_check_lockout(username="a_guard", client_address="10.0.0.1") is None
    assert LoginFailure.objects.filter(username="a_guard").count() == 4


@override_settings(ANWANG_LOCKOUT_FAILURES=5, ANWANG_LOCKOUT_WINDOW_SECONDS=900)
def test_the_fifth_wrong_password_reports_the_lock(world):
    fail("a_guard", "10.0.0.1", times=4)
    with pytest.raises(services.LoginLockedError):
        services.login_authenticate(
            username="a_guard", password="wrong-password", client_address="10.0.0.1"
        )


def test_success_clears_the_accounts_failures_and_is_audited(world):
    fail("a_guard", "10.0.0.1", times=3)
    fail("a_operator", "10.0.0.1", times=1)
    services.login_success(user=world.user("guard"))
    assert not LoginFailure.objects.filter(username="a_guard").exists()
    assert LoginFailure.objects.filter(username="a_operator").count() == 1
    entry = AuditEvent.objects.filter(action="login.success").get()
    assert entry.actor_id == world.user("guard").pk


@override_settings(ANWANG_LOCKOUT_FAILURES=2, ANWANG_LOCKOUT_WINDOW_SECONDS=900)
def test_failures_and_refusals_are_audited(world):
    for _ in range(2):
        with pytest.raises(ServiceError):
            services.login_authenticate(
                username="a_guard", password="nope-nope-nope", client_address="10.0.0.1"
            )
    with pytest.raises(services.LoginLockedError):
        services.login_authenticate(
            username="a_guard", password=PASSWORD, client_address="10.0.0.1"
        )
    failures = list(AuditEvent.objects.filter(action="login.failure"))
    assert len(failures) == 2
    assert failures[0].object_id == str(world.user("guard").pk)
    assert failures[0].changes["reason"] == "password"
    locked = AuditEvent.objects.get(action="login.locked")
    assert locked.changes["lock"] in {"account", "address"}
    # Only wrong passwords were stored as failures, not the refused attempt.
    assert LoginFailure.objects.count() == 2


def test_admin_can_unlock(world):
    fail("a_guard", "10.0.0.1", times=5)
    cleared = services.login_failures_clear(actor=world.platform_admin, username="A_Guard")
    assert cleared == 5
    assert AuditEvent.objects.filter(action="login.unlock").exists()
    with pytest.raises(PermissionDenied):
        services.login_failures_clear(actor=world.user("community_admin"), username="a_guard")


def test_old_failures_are_pruned(world):
    LoginFailure.objects.create(
        username="x", client_address="1.1.1.1", at=timezone.now() - dt.timedelta(days=2)
    )
    fail("y", "1.1.1.1")
    assert list(LoginFailure.objects.values_list("username", flat=True)) == ["y"]


# --- two-factor login -----------------------------------------------------------------------


def wrong_code(secret: str) -> str:
    """A six-digit code valid in none of the accepted time steps."""
    totp = pyotp.TOTP(secret)
    valid = {totp.at(time.time() + offset) for offset in (-30, 0, 30)}
    return next(f"{n:06d}" for n in range(1000000) if f"{n:06d}" not in valid)


def enable_totp(user: User) -> str:
    secret = services.totp_setup_begin(actor=user, user=user)
    services.totp_enable(actor=user, user=user, code=pyotp.TOTP(secret).now())
    user.refresh_from_db()
    return secret


def test_totp_setup_is_for_staff_only(world):
    resident = world.user("resident")
    with pytest.raises(ServiceError):
        services.totp_setup_begin(actor=resident, user=resident)
    guard = world.user("guard")
    secret = services.totp_setup_begin(actor=guard, user=guard)
    assert len(secret) >= 16
    # A reload shows the same pending secret; it is not on until confirmed.
    assert services.totp_setup_begin(actor=guard, user=guard) == secret
    guard.refresh_from_db()
    assert not guard.totp_enabled
    assert "secret=" + secret in services.totp_provisioning_uri(guard)


def test_totp_enable_needs_the_right_code(world):
    guard = world.user("guard")
    secret = services.totp_setup_begin(actor=guard, user=guard)
    with pytest.raises(ServiceError) as error:
        services.totp_enable(actor=guard, user=guard, code=wrong_code(secret))
    assert error.value.field == "code"
    guard.refresh_from_db()
    assert not guard.totp_enabled
    services.totp_enable(actor=guard, user=guard, code=pyotp.TOTP(secret).now())
    guard.refresh_from_db()
    assert guard.totp_enabled
    assert guard.totp_last_step > 0
    entry = AuditEvent.objects.get(action="user.totp_enable")
    # The secret never reaches the audit log.
    assert secret not in str(entry.changes)
    assert secret not in str(AuditEvent.objects.get(action="user.totp_setup").changes)


def test_totp_code_cannot_be_replayed(world):
    guard = world.user("guard")
    secret = enable_totp(guard)
    totp = pyotp.TOTP(secret)
    # The code used to confirm the set-up is spent.
    assert not services.totp_verify(user=guard, code=totp.now())
    next_code = totp.at(time.time() + 30)
    assert services.totp_verify(user=guard, code=next_code)
    assert not services.totp_verify(user=guard, code=next_code)
    # Codes further away than one step are refused.
    assert not services.totp_verify(user=guard, code=totp.at(time.time() + 120))
    assert not services.totp_verify(user=guard, code="12345")
    assert not services.totp_verify(user=guard, code="abcdef")


def test_second_factor_failures_count_towards_the_lock(world):
    guard = world.user("guard")
    enable_totp(guard)
    with override_settings(ANWANG_LOCKOUT_FAILURES=3):
        for _ in range(2):
            with pytest.raises(ServiceError) as error:
                services.login_second_factor(user=guard, code="999999x", client_address="1.2.3.4")
            assert error.value.field == "code"
        with pytest.raises(services.LoginLockedError):
            services.login_second_factor(user=guard, code="999999x", client_address="1.2.3.4")
    assert AuditEvent.objects.filter(action="login.failure", changes__reason="code").count() == 3


def test_totp_disable_needs_a_fresh_code_and_reset_is_admin_only(world):
    guard = world.user("guard")
    secret = enable_totp(guard)
    with pytest.raises(ServiceError):
        services.totp_disable(actor=guard, user=guard, code=pyotp.TOTP(secret).now())
    services.totp_disable(actor=guard, user=guard, code=pyotp.TOTP(secret).at(time.time() + 30))
    guard.refresh_from_db()
    assert not guard.totp_enabled
    assert guard.totp_secret == ""
    enable_totp(guard)
    with pytest.raises(PermissionDenied):
        services.totp_reset(actor=world.user("community_admin"), user=guard)
    services.totp_reset(actor=world.platform_admin, user=guard)
    guard.refresh_from_db()
    assert not guard.totp_enabled


# --- API tokens -----------------------------------------------------------------------------


def test_tokens_are_stored_hashed_and_stop_working_when_revoked(world):
    guard = world.user("guard")
    token, raw = services.api_token_create(actor=guard, user=guard, name="  gate display ")
    assert raw.startswith("aw_")
    assert token.name == "gate display"
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.digest, stored.prefix, stored.name}
    assert raw.startswith(stored.prefix)
    assert services.api_token_authenticate(raw_token=raw) == stored
    assert services.api_token_authenticate(raw_token=raw + "x") is None
    services.api_token_revoke(actor=guard, token=stored)
    assert services.api_token_authenticate(raw_token=raw) is None
    with pytest.raises(ConflictError):
        services.api_token_revoke(actor=guard, token=stored)
    assert AuditEvent.objects.filter(action__startswith="api_token.").count() == 2
    assert raw not in str(list(AuditEvent.objects.values_list("changes", flat=True)))


def test_token_community_must_be_the_users_and_limited_tokens_stay_limited(world):
    guard = world.user("guard")
    with pytest.raises(ServiceError):
        services.api_token_create(actor=guard, user=guard, community_id=world.b.community.pk)
    community_a = world.a.community.pk
    token, _raw = services.api_token_create(
        actor=guard, user=guard, within_community_id=community_a
    )
    assert token.community_id == community_a
    with pytest.raises(ServiceError):
        services.api_token_create(
            actor=guard,
            user=guard,
            community_id=world.b.community.pk,
            within_community_id=community_a,
        )
    supervisor = world.user("supervisor")
    token, _raw = services.api_token_create(
        actor=supervisor, user=supervisor, community_id=community_a
    )
    assert token.community_id == community_a


# --- accounts -------------------------------------------------------------------------------


def test_user_create_validates_and_audits(world):
    count = User.objects.count()
    with pytest.raises(ServiceError) as bad_name:
        services.user_create(actor=None, username="has space", password="Long-enough-pass-1")
    assert bad_name.value.field == "username"
    with pytest.raises(ServiceError) as bad_mail:
        services.user_create(
            actor=None, username="ok", password="Long-enough-pass-1", email="not-an-email"
        )
    assert bad_mail.value.field == "email"
    with pytest.raises(ServiceError) as weak:
        services.user_create(actor=None, username="ok", password="12345")
    assert weak.value.field == "password"
    with pytest.raises(ConflictError):
        services.user_create(actor=None, username="A_GUARD", password="Long-enough-pass-1")
    assert User.objects.count() == count
    user = services.user_create(
        actor=world.platform_admin, username=" newbie ", password="Long-enough-pass-1"
    )
    assert user.username == "newbie"
    assert user.check_password("Long-enough-pass-1")
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).exists()


def test_signup_needs_a_free_email_and_gives_no_role(world):
    world.user("guard").email = "guard@example.org"
    world.user("guard").save()
    with pytest.raises(ConflictError) as taken:
        services.user_signup(
            username="newres",
            password="Long-enough-pass-1",
            display_name="New",
            email="GUARD@example.org",
        )
    assert taken.value.field == "email"
    with pytest.raises(ServiceError) as no_name:
        services.user_signup(
            username="newres", password="Long-enough-pass-1", display_name=" ", email="n@x.org"
        )
    assert no_name.value.field == "display_name"
    user = services.user_signup(
        username="newres", password="Long-enough-pass-1", display_name="New", email="n@x.org"
    )
    assert not Membership.objects.filter(user=user).exists()


def test_password_set_validates_and_forgets_failures(world):
    guard = world.user("guard")
    fail("a_guard", "10.0.0.1", times=3)
    with pytest.raises(ServiceError):
        services.user_password_set(actor=guard, user=guard, password="short")
    services.user_password_set(actor=guard, user=guard, password="A-new-long-pass-77")
    guard.refresh_from_db()
    assert guard.check_password("A-new-long-pass-77")
    assert not LoginFailure.objects.filter(username="a_guard").exists()
    entry = AuditEvent.objects.get(action="user.password_set")
    assert "A-new-long-pass-77" not in str(entry.changes)


def test_preferences_update_checks_the_language(world):
    guard = world.user("guard")
    with pytest.raises(ServiceError):
        services.user_preferences_update(actor=guard, user=guard, language="fr")
    services.user_preferences_update(actor=guard, user=guard, language="en", display_name=" G ")
    guard.refresh_from_db()
    assert (guard.preferred_language, guard.display_name) == ("en", "G")
    entry = AuditEvent.objects.get(action="user.preferences")
    assert entry.changes["preferred_language"] == ["", "en"]


# --- staff ----------------------------------------------------------------------------------


def test_staff_account_create_makes_user_and_role(world):
    admin = world.user("community_admin")
    membership = services.staff_account_create(
        actor=admin,
        community_id=world.a.community.pk,
        username="new_guard",
        password="Long-enough-pass-1",
        role=Role.GUARD,
        display_name="新保安",
    )
    assert membership.user.username == "new_guard"
    assert membership.community_id == world.a.community.pk
    assert AuditEvent.objects.filter(action="membership.grant").exists()
    assert AuditEvent.objects.filter(action="user.create").exists()


def test_staff_account_create_rolls_back_and_refuses_other_communities(world):
    admin = world.user("community_admin")
    count = User.objects.count()
    with pytest.raises(ServiceError):
        services.staff_account_create(
            actor=admin,
            community_id=world.a.community.pk,
            username="new_guard",
            password="Long-enough-pass-1",
            role=Role.SUPERVISOR,
        )
    with pytest.raises(Http404):
        services.staff_account_create(
            actor=admin,
            community_id=world.b.community.pk,
            username="new_guard",
            password="Long-enough-pass-1",
            role=Role.GUARD,
        )
    with pytest.raises(Http404):
        services.staff_account_create(
            actor=world.user("guard"),
            community_id=world.a.community.pk,
            username="new_guard",
            password="Long-enough-pass-1",
            role=Role.GUARD,
        )
    assert User.objects.count() == count


def test_staff_grant_and_revoke(world):
    admin = world.user("community_admin")
    resident = world.user("resident")
    community_id = world.a.community.pk
    membership = services.staff_membership_grant(
        actor=admin, community_id=community_id, user=resident, role=Role.VOLUNTEER
    )
    assert membership.role == Role.VOLUNTEER
    with pytest.raises(ConflictError):
        services.staff_membership_grant(
            actor=admin, community_id=community_id, user=resident, role=Role.VOLUNTEER
        )
    # Someone of community B does not belong to A.
    with pytest.raises(ServiceError):
        services.staff_membership_grant(
            actor=admin, community_id=community_id, user=world.user("guard", "b"), role="guard"
        )
    # A's admin cannot touch B.
    with pytest.raises(Http404):
        services.staff_membership_grant(
            actor=admin,
            community_id=world.b.community.pk,
            user=world.user("resident", "b"),
            role=Role.VOLUNTEER,
        )
    b_guard = Membership.objects.get(user=world.user("guard", "b"), role=Role.GUARD)
    with pytest.raises(Http404):
        services.staff_membership_revoke(actor=admin, membership=b_guard)
    # Residents' roles come from household bindings, not from here.
    resident_role = Membership.objects.get(user=resident, role=Role.RESIDENT)
    with pytest.raises(ServiceError):
        services.staff_membership_revoke(actor=admin, membership=resident_role)
    own = Membership.objects.get(user=admin, role=Role.COMMUNITY_ADMIN)
    with pytest.raises(ConflictError):
        services.staff_membership_revoke(actor=admin, membership=own)
    services.staff_membership_revoke(actor=admin, membership=membership)
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.filter(action="membership.revoke").count() == 1


def test_membership_shape_is_checked(world):
    user = world.user("guard")
    with pytest.raises(ServiceError):
        services.membership_grant(
            actor=None, user=user, role=Role.GUARD, region_id=world.a.region.pk
        )
    with pytest.raises(ServiceError):
        services.membership_grant(actor=None, user=user, role=Role.GUARD)
    with pytest.raises(ServiceError):
        services.membership_grant(
            actor=None, user=user, role=Role.SUPERVISOR, community_id=world.a.community.pk
        )


def test_signups_are_limited_per_client_address(db, settings):
    from anwang.core.context import RequestMeta, acting_as
    from anwang.core.errors import ThrottledError

    settings.ANWANG_SIGNUPS_PER_HOUR = 2

    def sign_up(name: str, address: str) -> None:
        with acting_as(RequestMeta(client_address=address, channel="web")):
            services.user_signup(
                username=name,
                password="Correct-Horse-42",
                display_name=name,
                email=f"{name}@example.com",
            )

    sign_up("first", "10.0.0.9")
    sign_up("second", "10.0.0.9")
    with pytest.raises(ThrottledError):
        sign_up("third", "10.0.0.9")
    sign_up("elsewhere", "10.0.0.10")
    assert not User.objects.filter(username="third").exists()


def test_signup_can_be_turned_off(db, settings):
    from anwang.core.errors import ServiceError

    settings.ANWANG_SIGNUPS_PER_HOUR = 0
    with pytest.raises(ServiceError):
        services.user_signup(
            username="nobody",
            password="Correct-Horse-42",
            display_name="n",
            email="n@example.com",
        )
