"""Pages of visitors and the gate: registering, the pass with its QR code, revoking, the
guard's scanner page and its answer, and the gate log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from anwang.access import passes
from anwang.access.choices import AccessPointKind
from anwang.access.models import AccessPoint, GateLogEntry, VisitorPass


@pytest.fixture(autouse=True)
def english(settings: Any) -> Iterator[None]:
    """Pages in English, as asserted on."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def point(world: Any) -> AccessPoint:
    return AccessPoint.objects.create(
        community=world.a.community, name="北门 翠苑", kind=AccessPointKind.GATE
    )


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _form(world: Any, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    return {
        "household": world.a.household.pk,
        "visitor_name": "王五 翠苑",
        "visitor_phone": "13900002222",
        "valid_from": _local(now),
        "valid_until": _local(now + dt.timedelta(hours=3)),
        "max_entries": 2,
        "plate": "",
        **extra,
    }


@pytest.mark.django_db
def test_a_resident_registers_a_visitor_and_gets_the_pass(world: Any) -> None:
    client = world.client_for("resident")
    assert client.get(reverse("access:visitor_create")).status_code == 200
    response = client.post(reverse("access:visitor_create"), _form(world))
    created = VisitorPass.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("access:visitor_pass", args=[created.pk])
    page = client.get(response["Location"]).content.decode()
    assert reverse("access:visitor_qr", args=[created.pk]) in page
    assert passes.pass_token(created) in page  # in the text to share
    svg = client.get(reverse("access:visitor_qr", args=[created.pk]))
    assert svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    listing = client.get(reverse("access:my_visitors")).content.decode()
    assert "王五 翠苑" in listing


@pytest.mark.django_db
def test_errors_are_shown_on_the_form_keeping_the_input(world: Any) -> None:
    client = world.client_for("resident")
    response = client.post(
        reverse("access:visitor_create"), _form(world, visitor_phone="12345", plate="浙A12345")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter a mainland mobile number" in body
    assert "浙A12345" in body
    assert not VisitorPass.objects.exists()


@pytest.mark.django_db
def test_revoking_hides_the_code(world: Any) -> None:
    client = world.client_for("resident")
    client.post(reverse("access:visitor_create"), _form(world))
    created = VisitorPass.objects.get()
    response = client.post(reverse("access:visitor_revoke", args=[created.pk]))
    assert response.status_code == 302
    assert client.get(reverse("access:visitor_qr", args=[created.pk])).status_code == 404
    page = client.get(reverse("access:visitor_pass", args=[created.pk])).content.decode()
    assert "Revoked" in page
    assert "AWP1." not in page


@pytest.mark.django_db
def test_others_cannot_open_a_pass(world: Any) -> None:
    world.client_for("resident").post(reverse("access:visitor_create"), _form(world))
    created = VisitorPass.objects.get()
    other = world.client_for("resident", "b")
    assert other.get(reverse("access:visitor_pass", args=[created.pk])).status_code == 404
    assert other.get(reverse("access:visitor_qr", args=[created.pk])).status_code == 404
    assert other.post(reverse("access:visitor_revoke", args=[created.pk])).status_code == 404


@pytest.mark.django_db
def test_the_guard_scans_a_pass_green_then_red(world: Any, point: AccessPoint) -> None:
    world.client_for("resident").post(reverse("access:visitor_create"), _form(world, max_entries=1))
    token = passes.pass_token(VisitorPass.objects.get())
    guard = world.client_for("guard")
    page = guard.get(reverse("access:gate")).content.decode()
    assert "data-scanner" in page
    assert "data-scan-input" in page  # the camera scanner fills the code field
    assert "北门 翠苑" in page
    body = {"access_point": point.pk, "token": token}
    green = guard.post(reverse("access:gate_check"), body).content.decode()
    assert 'data-ok="1"' in green
    assert "王五 翠苑" in green
    assert "0 entries left" in green
    red = guard.post(reverse("access:gate_check"), body).content.decode()
    assert 'data-ok="0"' in red
    assert 'data-reason="used_up"' in red
    forged = guard.post(reverse("access:gate_check"), {**body, "token": "nonsense"})
    assert 'data-reason="malformed"' in forged.content.decode()


@pytest.mark.django_db
def test_the_gate_is_for_pass_checkers(world: Any, point: AccessPoint) -> None:
    resident = world.client_for("resident")
    assert resident.get(reverse("access:gate")).status_code == 404
    assert resident.get(reverse("access:gate_log")).status_code == 404
    other = world.client_for("guard", "b")
    response = other.post(reverse("access:gate_check"), {"access_point": point.pk, "token": "x"})
    assert response.status_code == 400  # not one of their gates


@pytest.mark.django_db
def test_the_gate_log_takes_a_walk_in(world: Any, point: AccessPoint) -> None:
    guard = world.client_for("guard")
    assert guard.get(reverse("access:gate_log")).status_code == 200
    response = guard.post(
        reverse("access:gate_log"),
        {
            "kind": "walk_in",
            "access_point": point.pk,
            "visitor_name": "赵六",
            "visitor_phone": "13900003333",
            "household": world.a.household.pk,
        },
    )
    assert response.status_code == 302
    entry = GateLogEntry.objects.get()
    assert entry.guard == world.user("guard")
    assert "赵六" in guard.get(reverse("access:gate_log")).content.decode()
    bad = guard.post(reverse("access:gate_log"), {"kind": "walk_in", "visitor_phone": "1"})
    assert bad.status_code == 200
    assert GateLogEntry.objects.count() == 1
