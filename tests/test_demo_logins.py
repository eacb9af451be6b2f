"""Every demo login works through the login page and sees only what its role should."""

from typing import Any

import pytest
from django.test import Client

from anwang.demo.seed import DEMO_PASSWORD, seed_demo

pytestmark = pytest.mark.django_db

# (username, start page after login, pages it may open, pages it must not open)
EXPECTATIONS = [
    ("root", "/dashboard/", ["/places/map/", "/people/residents/", "/admin/"], []),
    ("supervisor", "/dashboard/", ["/places/map/", "/people/residents/"],
     ["/accounts/staff/", "/audit/"]),
    ("admin", "/dashboard/", ["/places/map/", "/people/residents/", "/people/bindings/",
                              "/accounts/staff/"], ["/audit/"]),
    ("operator", "/dashboard/", ["/places/map/", "/people/residents/"], ["/accounts/staff/"]),
    ("guard", "/dashboard/", ["/places/map/"], ["/people/residents/", "/accounts/staff/"]),
    ("gridworker", "/dashboard/", ["/people/residents/"], ["/accounts/staff/", "/audit/"]),
    ("volunteer", "/my-work/", ["/places/map/"], ["/people/residents/", "/dashboard/"]),
    ("resident", "/people/my-household/", ["/people/my-household/"],
     ["/people/residents/", "/places/map/", "/accounts/staff/", "/dashboard/"]),
    ("auditor", "/dashboard/", ["/audit/"], ["/people/residents/", "/accounts/staff/"]),
]  # fmt: skip


@pytest.fixture
def demo(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    seed_demo()


def _allowed(client: Client, path: str) -> bool:
    response = client.get(path)
    # Anything but the page itself (a redirect to login or to the start page, 403, 404) is
    # a refusal.
    return response.status_code == 200


@pytest.mark.parametrize(("username", "start", "allowed", "denied"), EXPECTATIONS)
def test_demo_login_lands_on_its_start_page_and_is_scoped(
    demo: None, username: str, start: str, allowed: list[str], denied: list[str]
) -> None:
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": username, "password": DEMO_PASSWORD}, follow=True
    )
    assert response.redirect_chain, f"{username} could not log in"
    assert response.redirect_chain[-1][0] == start
    assert response.status_code == 200
    assert "登录" not in response.content.decode().split("<main", 1)[1][:200]
    for path in allowed:
        assert _allowed(client, path), f"{username} should open {path}"
    for path in denied:
        assert not _allowed(client, path), f"{username} must not open {path}"
