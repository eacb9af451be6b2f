"""The guard's phone page: only the alarms dispatched to the person, the lifecycle from the
page, a photo from the camera, the map position, and the link from 'my work'."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from anwang.accounts.selectors import scope_for
from anwang.alarms import selectors, services
from anwang.alarms.choices import AlarmState, StepAction
from anwang.alarms.models import Alarm, AlarmPhoto
from anwang.alarms.tests.conftest import firing, make_device, make_rule

MINE = "/alarms/mine/"


def png() -> SimpleUploadedFile:
    """A small generated PNG, as a phone camera would send (smaller)."""
    buffer = io.BytesIO()
    Image.new("RGB", (12, 9), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile("scene.png", buffer.getvalue(), "image/png")


def raise_alarm(side: Any, name: str = "smoke") -> Alarm:
    """An open alarm of a side's community, raised by a rule from a device in its zone."""
    rule = make_rule(side, name=name)
    device = make_device(side, source_id=f"{name}-{side.community.slug}")
    (alarm,) = services.alarms_from_firings(
        firings=[firing(rule, device=device)], now=rule.created_at
    )
    return alarm


@pytest.fixture
def dispatched(world: Any) -> Alarm:
    """An alarm of community A dispatched to A's guard."""
    alarm = raise_alarm(world.a)
    return services.alarm_dispatch(
        actor=world.user("operator"), alarm=alarm, assignee=world.user("guard"), note="north gate"
    )


def test_page_lists_only_my_dispatched_alarms(world, dispatched, client_for):
    other = services.alarm_dispatch(
        actor=world.user("operator"),
        alarm=raise_alarm(world.a, "door"),
        assignee=world.user("operator"),
    )
    not_dispatched = raise_alarm(world.a, "water")
    page = client_for("guard").get(MINE)
    assert page.status_code == 200
    assert f'id="alarm-{dispatched.pk}"' in page.text
    assert f'id="alarm-{other.pk}"' not in page.text
    assert f'id="alarm-{not_dispatched.pk}"' not in page.text
    assert 'capture="environment"' in page.text
    assert 'accept="image/*"' in page.text
    # The operator sees their own dispatch only, and the admin (dispatched nothing) an empty page.
    assert f'id="alarm-{other.pk}"' in client_for("operator").get(MINE).text
    assert 'data-testid="guard-empty"' in client_for("community_admin").get(MINE).text


def test_guard_of_another_community_sees_and_touches_nothing(world, dispatched, client_for):
    guard_b = client_for("guard", "b")
    page = guard_b.get(MINE)
    assert dispatched.title not in page.text
    assert 'data-testid="guard-empty"' in page.text
    for action in ("accept", "arrive", "resolve", "note"):
        assert guard_b.post(f"{MINE}{dispatched.pk}/{action}/", {"note": "x"}).status_code == 404
    # A colleague of the same community who could see the alarm cannot act on it from here.
    assert client_for("operator").post(f"{MINE}{dispatched.pk}/accept/").status_code == 404
    dispatched.refresh_from_db()
    assert dispatched.accepted_at is None
    assert dispatched.state == AlarmState.DISPATCHED


def test_open_alarms_come_first_and_closed_ones_stay_a_while(world, dispatched):
    guard = world.user("guard")
    closed = services.alarm_dispatch(
        actor=world.user("operator"), alarm=raise_alarm(world.a, "door"), assignee=guard
    )
    services.alarm_resolve(actor=guard, alarm=closed)
    later = services.alarm_dispatch(
        actor=world.user("operator"), alarm=raise_alarm(world.a, "water"), assignee=guard
    )
    assert [alarm.pk for alarm in selectors.guard_alarms(scope_for(guard))] == [
        dispatched.pk,
        later.pk,
        closed.pk,
    ]


def test_accept_arrive_photo_note_resolve_from_the_page(
    world, dispatched, client_for, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    guard = client_for("guard")
    base = f"{MINE}{dispatched.pk}"
    page = guard.get(MINE)
    assert 'data-action="accept"' in page.text
    assert 'data-action="arrive"' in page.text

    response = guard.post(f"{base}/accept/")
    assert response.status_code == 302
    assert response["Location"] == f"{MINE}#alarm-{dispatched.pk}"
    dispatched.refresh_from_db()
    assert dispatched.accepted_at is not None
    page = guard.get(MINE)
    assert 'data-action="accept"' not in page.text
    assert "You have already accepted" in guard.post(f"{base}/accept/", follow=True).text

    guard.post(f"{base}/arrive/")
    dispatched.refresh_from_db()
    assert dispatched.state == AlarmState.ON_SCENE

    guard.post(f"{base}/photo/", {"image": png()})
    (photo,) = AlarmPhoto.objects.filter(alarm=dispatched)
    assert photo.uploaded_by == world.user("guard")
    assert photo.image.name.endswith(".png")
    assert photo.image.url in guard.get(MINE).text

    refused = guard.post(
        f"{base}/photo/",
        {"image": SimpleUploadedFile("notes.txt", b"not a photo", "text/plain")},
        follow=True,
    )
    assert "Upload a photo (JPEG, PNG or WebP)." in refused.text

    guard.post(f"{base}/note/", {"note": "door wedged open"})
    guard.post(f"{base}/resolve/", {"note": "door closed"})
    dispatched.refresh_from_db()
    assert dispatched.state == AlarmState.RESOLVED
    assert dispatched.close_reason == "door closed"
    actions = list(dispatched.steps.values_list("action", flat=True))
    assert actions == [
        StepAction.RAISED,
        StepAction.DISPATCHED,
        StepAction.ACCEPTED,
        StepAction.ON_SCENE,
        StepAction.PHOTO,
        StepAction.NOTE,
        StepAction.RESOLVED,
    ]
    # Closed, it stays on the page with its history, and without buttons.
    page = guard.get(MINE)
    assert "door wedged open" in page.text
    assert 'data-action="resolve"' not in page.text
    assert "This alarm is already closed" in guard.post(f"{base}/resolve/", follow=True).text


def test_unknown_action_and_get_are_refused(dispatched, client_for):
    guard = client_for("guard")
    assert guard.post(f"{MINE}{dispatched.pk}/dispatch/").status_code == 404
    assert guard.post(f"{MINE}{dispatched.pk}/false/", {"reason": "x"}).status_code == 404
    assert guard.get(f"{MINE}{dispatched.pk}/accept/").status_code == 405


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(MINE)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_position_is_the_device_else_the_zone_centre(world, dispatched, client_for):
    # The shared zone is a small square; without a device position its centre is used.
    position = selectors.alarm_position(dispatched)
    assert position is not None
    lon, lat = position
    assert lon == pytest.approx(114.3005)
    assert lat == pytest.approx(30.5005)
    page = client_for("guard").get(MINE)
    assert f'id="alarm-position-{dispatched.pk}"' in page.text
    assert 'data-anwang-map="shape"' in page.text
    device = dispatched.device
    device.longitude, device.latitude = 114.31, 30.51
    device.save()
    dispatched.refresh_from_db()
    assert selectors.alarm_position(dispatched) == (114.31, 30.51)
    alarm = Alarm.objects.create(
        community=world.a.community,
        priority=3,
        title="by hand",
        group_key="manual",
        raised_at=dispatched.raised_at,
        last_fired_at=dispatched.raised_at,
    )
    assert selectors.alarm_position(alarm) is None


def test_htmx_gets_the_list_alone(dispatched, client_for):
    fragment = client_for("guard").get(MINE, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="guard-alarms"')
    assert "<html" not in fragment.text
    assert 'data-live-url="/live/stream"' in fragment.text


def test_my_work_links_to_the_guard_page(world, dispatched):
    (item,) = selectors.alarm_work_items(scope_for(world.user("guard")))
    assert item.url == f"{MINE}#alarm-{dispatched.pk}"


def test_page_queries_do_not_grow_with_alarms(world, client_for, django_assert_max_num_queries):
    guard_user = world.user("guard")
    for name in ("a1", "a2", "a3", "a4"):
        services.alarm_dispatch(
            actor=world.user("operator"), alarm=raise_alarm(world.a, name), assignee=guard_user
        )
    guard = client_for("guard")
    guard.get(MINE)
    with django_assert_max_num_queries(20):
        guard.get(MINE)
