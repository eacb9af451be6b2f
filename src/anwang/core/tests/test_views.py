"""Cross-cutting pages."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["status"] == "ok"


def test_dashboard_requires_login(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_community_switch_only_accepts_own_communities(world):
    client = world.client_for("community_admin")
    client.post("/switch-community/", {"community": world.b.community.pk})
    assert client.session.get("anwang_community") is None
    client.post("/switch-community/", {"community": world.a.community.pk})
    assert client.session["anwang_community"] == world.a.community.pk


@pytest.mark.parametrize(
    ("role", "target"),
    [
        ("community_admin", "/dashboard/"),
        ("auditor", "/dashboard/"),
        ("resident", "/people/my-household/"),
        ("volunteer", "/my-work/"),
    ],
)
def test_start_page_follows_the_role(world, role, target):
    response = world.client_for(role).get("/")
    assert response.status_code == 302
    assert response["Location"] == target


def test_error_pages_use_the_site_layout(world):
    response = world.client_for("community_admin").get("/places/buildings/999999/")
    assert response.status_code == 404
    assert b'class="topbar"' in response.content
