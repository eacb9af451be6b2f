"""Tests of the hazards admin."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from anwang.hazards.models import Hazard, HazardStep


@pytest.mark.django_db
def test_admin_lists_and_shows_a_report_without_its_reporter(world: Any) -> None:
    """Platform admins see reports and their timeline, never who reported them."""
    resident = world.user("resident")
    hazard = Hazard.objects.create(
        community=world.a.community,
        reported_at=timezone.now(),
        category="fire_exit_blocked",
        description="Bikes in the stairwell",
        reporter=resident,
        anonymous=True,
    )
    HazardStep.objects.create(hazard=hazard, at=hazard.reported_at, status="reported")
    client = Client()
    client.force_login(world.platform_admin)
    client.cookies["anwang_language"] = "en"
    listing = client.get(reverse("admin:hazards_hazard_changelist"))
    assert listing.status_code == 200
    assert "Fire exit or escape route blocked" in listing.content.decode()
    detail = client.get(reverse("admin:hazards_hazard_change", args=[hazard.pk]))
    assert detail.status_code == 200
    page = detail.content.decode()
    assert "Bikes in the stairwell" in page
    assert resident.get_username() not in page
