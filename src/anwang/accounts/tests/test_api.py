"""The accounts API: the caller, tokens, memberships and staff, scoped by community."""

import pytest
from django.test import Client

from anwang.accounts import services
from anwang.accounts.choices import Role
from anwang.accounts.models import ApiToken, Membership, User
from anwang.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

API = "/api/v1"


def bearer(user: User, community_id: int | None = None) -> Client:
    _token, raw = services.api_token_create(actor=user, user=user, community_id=community_id)
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_every_route_needs_authentication(world):
    client = Client()
    for method, path in [
        ("get", "/me"),
        ("patch", "/me"),
        ("get", "/tokens"),
        ("post", "/tokens"),
        ("delete", "/tokens/1"),
        ("get", "/memberships"),
        ("post", "/memberships"),
        ("delete", "/memberships/1"),
        ("post", "/staff"),
    ]:
        response = getattr(client, method)(API + path, content_type="application/json")
        assert response.status_code == 401, (method, path)
        assert response.json()["code"] == "unauthenticated"
    bad = Client(headers={"Authorization": "Bearer aw_not-a-token"})
    assert bad.get(API + "/me").status_code == 401


def test_me_lists_roles_and_permissions_per_community(world):
    response = bearer(world.user("community_admin")).get(API + "/me")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "a_community_admin"
    assert body["is_staff_member"] is True
    assert body["token_community_id"] is None
    [community] = body["communities"]
    assert community["community_id"] == world.a.community.pk
    assert community["roles"] == ["community_admin"]
    assert "manage_staff" in community["permissions"]
    resident = bearer(world.user("resident")).get(API + "/me").json()
    assert resident["is_staff_member"] is False
    assert resident["communities"][0]["permissions"] == []


def test_me_with_a_session(world):
    client = world.client_for("guard")
    assert client.get(API + "/me").json()["username"] == "a_guard"


def test_patch_me(world):
    client = bearer(world.user("guard"))
    response = client.patch(
        API + "/me",
        {"display_name": "Night guard", "language": "en", "large_text": True},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["display_name"] == "Night guard"
    user = User.objects.get(username="a_guard")
    assert (user.preferred_language, user.large_text) == ("en", True)
    bad = client.patch(API + "/me", {"language": "fr"}, content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["loc"] == ["language"]
    extra = client.patch(API + "/me", {"totp_enabled": False}, content_type="application/json")
    assert extra.status_code == 422


def test_tokens_create_list_revoke(world, django_assert_max_num_queries):
    guard = world.user("guard")
    client = bearer(guard)
    created = client.post(
        API + "/tokens",
        {"name": "door panel", "community_id": world.a.community.pk},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith(body["prefix"])
    assert body["community_id"] == world.a.community.pk
    # The new token works, and its secret is never listed again.
    assert (
        Client(headers={"Authorization": f"Bearer {body['token']}"}).get(API + "/me").status_code
        == 200
    )
    for _ in range(5):
        services.api_token_create(actor=guard, user=guard)
    with django_assert_max_num_queries(6):
        listed = client.get(API + "/tokens")
    assert listed.status_code == 200
    assert listed.json()["count"] == 7
    assert all("token" not in item and "digest" not in item for item in listed.json()["items"])
    revoked = client.delete(f"{API}/tokens/{body['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert ApiToken.objects.get(pk=body["id"]).revoked_at is not None
    again = client.delete(f"{API}/tokens/{body['id']}")
    assert again.status_code == 409


def test_tokens_of_others_are_not_found(world):
    other = world.user("operator")
    token, _raw = services.api_token_create(actor=other, user=other)
    response = bearer(world.user("guard")).delete(f"{API}/tokens/{token.pk}")
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_a_limited_token_cannot_mint_a_wider_one(world):
    supervisor = world.user("community_admin")
    client = bearer(supervisor, community_id=world.a.community.pk)
    response = client.post(API + "/tokens", {"name": "x"}, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["community_id"] == world.a.community.pk
    wider = client.post(
        API + "/tokens",
        {"community_id": world.b.community.pk},
        content_type="application/json",
    )
    assert wider.status_code == 400


def test_memberships_are_scoped(world, django_assert_max_num_queries):
    admin_client = bearer(world.user("community_admin"))
    with django_assert_max_num_queries(6):
        response = admin_client.get(API + "/memberships")
    assert response.status_code == 200
    items = response.json()["items"]
    assert {item["community_id"] for item in items} == {world.a.community.pk}
    assert (
        response.json()["count"] == Membership.objects.filter(community=world.a.community).count()
    )
    guard_view = bearer(world.user("guard")).get(API + "/memberships").json()
    assert [item["username"] for item in guard_view["items"]] == ["a_guard"]
    b_only = bearer(world.user("community_admin")).get(
        API + "/memberships", {"community_id": world.b.community.pk}
    )
    assert b_only.json()["count"] == 0
    searched = bearer(world.user("community_admin")).get(API + "/memberships", {"q": "a_guard"})
    assert [item["role"] for item in searched.json()["items"]] == ["guard"]


def test_memberships_grant_and_revoke(world):
    client = bearer(world.user("community_admin"))
    resident = world.user("resident")
    created = client.post(
        API + "/memberships",
        {"user_id": resident.pk, "community_id": world.a.community.pk, "role": "volunteer"},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["role_label"]
    membership_id = created.json()["id"]
    assert Membership.objects.filter(user=resident, role=Role.VOLUNTEER).exists()
    conflict = client.post(
        API + "/memberships",
        {"user_id": resident.pk, "community_id": world.a.community.pk, "role": "volunteer"},
        content_type="application/json",
    )
    assert conflict.status_code == 409
    supervisor = client.post(
        API + "/memberships",
        {"user_id": resident.pk, "community_id": world.a.community.pk, "role": "supervisor"},
        content_type="application/json",
    )
    assert supervisor.status_code == 400
    deleted = client.delete(f"{API}/memberships/{membership_id}")
    assert deleted.status_code == 204
    assert not Membership.objects.filter(pk=membership_id).exists()


def test_memberships_of_another_community_are_404(world):
    client = bearer(world.user("community_admin"))
    b_guard = Membership.objects.get(user=world.user("guard", "b"))
    assert client.delete(f"{API}/memberships/{b_guard.pk}").status_code == 404
    assert Membership.objects.filter(pk=b_guard.pk).exists()
    grant = client.post(
        API + "/memberships",
        {
            "user_id": world.user("resident", "b").pk,
            "community_id": world.b.community.pk,
            "role": "volunteer",
        },
        content_type="application/json",
    )
    assert grant.status_code == 404
    # A guard of A holds no MANAGE_STAFF: even A's memberships are not found.
    a_operator = Membership.objects.get(user=world.user("operator"))
    assert (
        bearer(world.user("guard")).delete(f"{API}/memberships/{a_operator.pk}").status_code == 404
    )


def test_limited_token_does_not_reach_other_communities(world):
    admin = world.user("community_admin")
    Membership.objects.create(user=admin, role=Role.COMMUNITY_ADMIN, community=world.b.community)
    client = bearer(admin, community_id=world.a.community.pk)
    b_guard = Membership.objects.get(user=world.user("guard", "b"))
    assert client.delete(f"{API}/memberships/{b_guard.pk}").status_code == 404
    staff = client.post(
        API + "/staff",
        {
            "community_id": world.b.community.pk,
            "username": "sneaky",
            "password": "Long-enough-pass-1",
            "role": "guard",
        },
        content_type="application/json",
    )
    assert staff.status_code == 404


def test_staff_create(world):
    client = bearer(world.user("community_admin"))
    payload = {
        "community_id": world.a.community.pk,
        "username": "new_operator",
        "password": "Long-enough-pass-1",
        "role": "operator",
        "display_name": "值班员",
        "email": "op@example.org",
    }
    response = client.post(API + "/staff", payload, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["username"] == "new_operator"
    assert User.objects.get(username="new_operator").check_password("Long-enough-pass-1")
    assert AuditEvent.objects.filter(action="user.create").exists()
    weak = client.post(
        API + "/staff",
        {**payload, "username": "weak_one", "password": "123"},
        content_type="application/json",
    )
    assert weak.status_code == 400
    assert weak.json()["errors"][0]["loc"] == ["password"]
    assert not User.objects.filter(username="weak_one").exists()
    other = client.post(
        API + "/staff",
        {**payload, "username": "b_person", "community_id": world.b.community.pk},
        content_type="application/json",
    )
    assert other.status_code == 404
    assert not User.objects.filter(username="b_person").exists()
