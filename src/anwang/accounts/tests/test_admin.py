"""The admin site of accounts: pages render, secrets stay hidden, writes go through services."""

import pyotp
import pytest
from conftest import World
from django.test import Client

from anwang.accounts import services
from anwang.accounts.choices import Role
from anwang.accounts.models import ApiToken, LoginFailure, Membership, User
from anwang.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def admin_client(world: World) -> Client:
    client = Client()
    client.force_login(world.platform_admin)
    return client


def test_admin_pages_render_without_secrets(world):
    guard = world.user("guard")
    secret = services.totp_setup_begin(actor=guard, user=guard)
    services.totp_enable(actor=guard, user=guard, code=pyotp.TOTP(secret).now())
    token, raw = services.api_token_create(actor=guard, user=guard)
    services.login_failure_record(username="a_guard", client_address="10.0.0.1")
    client = admin_client(world)
    for url in [
        "/admin/accounts/user/",
        f"/admin/accounts/user/{guard.pk}/change/",
        "/admin/accounts/user/add/",
        "/admin/accounts/membership/",
        "/admin/accounts/membership/add/",
        "/admin/accounts/apitoken/",
        f"/admin/accounts/apitoken/{token.pk}/change/",
        "/admin/accounts/loginfailure/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert secret.encode() not in response.content, url
        assert token.digest.encode() not in response.content, url
        assert raw.encode() not in response.content, url


def test_admin_membership_add_goes_through_the_service(world):
    client = admin_client(world)
    user = User.objects.create(username="newbie")
    response = client.post(
        "/admin/accounts/membership/add/",
        {"user": user.pk, "role": Role.GUARD, "community": world.a.community.pk, "region": ""},
    )
    assert response.status_code == 302
    assert Membership.objects.filter(user=user, role=Role.GUARD).exists()
    assert AuditEvent.objects.filter(action="membership.grant").exists()
    bad = client.post(
        "/admin/accounts/membership/add/",
        {"user": user.pk, "role": Role.GUARD, "community": "", "region": world.a.region.pk},
    )
    assert bad.status_code == 200
    assert not Membership.objects.filter(user=user, region=world.a.region).exists()


def test_admin_actions(world):
    guard = world.user("guard")
    secret = services.totp_setup_begin(actor=guard, user=guard)
    services.totp_enable(actor=guard, user=guard, code=pyotp.TOTP(secret).now())
    token, _raw = services.api_token_create(actor=guard, user=guard)
    services.login_failure_record(username="a_guard", client_address="10.0.0.1")
    membership = Membership.objects.get(user=guard)
    client = admin_client(world)
    client.post(
        "/admin/accounts/user/",
        {"action": "reset_two_factor", "_selected_action": [guard.pk]},
    )
    guard.refresh_from_db()
    assert not guard.totp_enabled
    client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    failure = LoginFailure.objects.get()
    client.post(
        "/admin/accounts/loginfailure/", {"action": "unlock", "_selected_action": [failure.pk]}
    )
    assert not LoginFailure.objects.exists()
    client.post(
        "/admin/accounts/membership/",
        {"action": "revoke_selected", "_selected_action": [membership.pk]},
    )
    assert not Membership.objects.filter(pk=membership.pk).exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"user.totp_reset", "api_token.revoke", "login.unlock", "membership.revoke"} <= actions
    assert not ApiToken.objects.filter(revoked_at__isnull=True).exists()


def test_admin_user_change_is_audited(world):
    guard = world.user("guard")
    client = admin_client(world)
    page = client.get(f"/admin/accounts/user/{guard.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "username": "a_guard",
            "display_name": "Renamed",
            "date_joined_0": guard.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": guard.date_joined.strftime("%H:%M:%S"),
            "is_active": "on",
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("password", None)
    data["groups"] = []
    data["user_permissions"] = []
    response = client.post(f"/admin/accounts/user/{guard.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = AuditEvent.objects.get(action="user.update")
    assert entry.changes["display_name"] == ["a_guard", "Renamed"]


def test_admin_login_is_the_one_login_page(world):
    from django.test import Client

    response = Client().get("/admin/login/?next=/admin/accounts/user/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/accounts/user/"
    client = Client()
    posted = client.post(
        "/admin/login/", {"username": "platform_admin", "password": "Correct-Horse-42"}
    )
    assert "_auth_user_id" not in client.session
    assert posted.status_code == 302
    assert posted["Location"].startswith("/accounts/login/")
    guard = world.client_for("guard")
    assert guard.get("/admin/").status_code == 302
    assert guard.get("/admin/login/?next=/admin/").status_code == 403
