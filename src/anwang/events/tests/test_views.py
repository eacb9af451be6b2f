"""The events pages: scoped lists, and the re-process button."""

from __future__ import annotations

from typing import Any

import pytest

from anwang.devices.models import Device
from anwang.events.models import DeadLetter

pytestmark = pytest.mark.django_db


def test_event_pages(
    world: Any, devices: dict[str, Device], django_assert_max_num_queries: Any
) -> None:
    client = world.client_for("community_admin")
    with django_assert_max_num_queries(20):
        page = client.get("/events/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "a smoke" in text
    assert "b smoke" not in text
    with django_assert_max_num_queries(20):
        letters = client.get("/events/dead-letters/").content.decode()
    assert "zigbee2mqtt/a_stranger" in letters
    assert "zigbee2mqtt/stranger" not in letters
    assert world.client_for("resident").get("/events/").status_code == 403


def test_reprocess_button(world: Any, devices: dict[str, Device]) -> None:
    of_a = DeadLetter.objects.get(community=world.a.community)
    client = world.client_for("community_admin")
    response = client.post(f"/events/dead-letters/{of_a.pk}/reprocess/")
    assert response.status_code == 302
    of_a.refresh_from_db()
    assert of_a.reprocessed_at is not None
    assert of_a.resolved is False
    other = world.client_for("community_admin", "b")
    assert other.post(f"/events/dead-letters/{of_a.pk}/reprocess/").status_code == 404
