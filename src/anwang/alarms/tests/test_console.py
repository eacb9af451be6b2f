"""The operator console: who may open it and for which community, the queue's order and
countdowns, the health banner, the fragments the script fetches, and the one-click actions."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from conftest import make_user
from django.conf import settings
from django.db import connection
from django.middleware.csrf import _unmask_cipher_token  # type: ignore[attr-defined]
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from anwang.accounts.choices import Role
from anwang.accounts.models import Membership
from anwang.accounts.selectors import scope_for
from anwang.alarms import services
from anwang.alarms.choices import AlarmState
from anwang.alarms.console import Countdown, console_queue, countdowns
from anwang.alarms.models import Alarm
from anwang.alarms.tests.conftest import firing, make_device, make_event, make_rule
from anwang.events.choices import WorkerMode
from anwang.events.models import WorkerStatus

pytestmark = pytest.mark.django_db


def raise_alarm(rule, device, *, at: dt.datetime | None = None, events=()) -> Alarm:
    """An alarm raised now (or at ``at``) by the rule for the device."""
    (raised,) = services.alarms_from_firings(
        firings=[firing(rule, device=device, at=at or timezone.now(), events=events)],
        now=at or timezone.now(),
    )
    return raised


def worker_running(*, connected: bool = True) -> WorkerStatus:
    """A worker that reported just now."""
    now = timezone.now()
    return WorkerStatus.objects.create(
        name="w1",
        mode=WorkerMode.MQTT,
        broker="mqtt://127.0.0.1:1883",
        connected=connected,
        started_at=now,
        reported_at=now,
    )


@pytest.fixture
def alarm(rule, device) -> Alarm:
    return raise_alarm(rule, device, events=(make_event(device).pk,))


# --------------------------------------------------------------------------- access and scope


def test_people_who_see_alarms_open_it_and_others_do_not(world, alarm, client_for):
    for role in ("operator", "guard", "community_admin", "supervisor"):
        response = client_for(role).get("/alarms/console/")
        assert response.status_code == 200, role
        assert "Smoke at sensor smoke-1" in response.text
    assert client_for("resident").get("/alarms/console/").status_code == 403
    assert client_for("grid_worker").get("/alarms/console/").status_code == 403
    assert client_for("operator").get("/alarms/console/?community=999999").status_code == 404


def test_another_community_sees_none_of_it(world, alarm, client_for):
    other = client_for("operator", "b")
    response = other.get("/alarms/console/")
    assert response.status_code == 200
    assert "Smoke at" not in response.text
    assert other.get(f"/alarms/console/?community={world.a.community.pk}").status_code == 404
    assert other.get(f"/alarms/console/{alarm.pk}/").status_code == 404
    assert other.get(f"/alarms/console/{alarm.pk}/row/").status_code == 404
    assert other.post(f"/alarms/console/{alarm.pk}/acknowledge/").status_code == 404
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.RAISED


def test_a_supervisor_picks_among_their_communities(world, alarm, client_for):
    supervisor = world.user("supervisor")
    Membership.objects.create(user=supervisor, role="supervisor", region=world.b.region)
    client = client_for("supervisor")
    response = client.get(f"/alarms/console/?community={world.b.community.pk}")
    assert response.status_code == 200
    assert "Smoke at" not in response.text
    assert 'id="console-community"' in response.text  # the picker of their communities
    assert world.b.community.name in response.text
    response = client.get(f"/alarms/console/?community={world.a.community.pk}")
    assert "Smoke at sensor smoke-1" in response.text
    # Watching is not handling: no action buttons for a supervisor.
    assert 'data-action="acknowledge"' not in response.text


# --------------------------------------------------------------------------- the queue


def test_queue_is_open_alarms_by_priority_then_age(world, client_for):
    now = timezone.now()
    p3 = make_rule(world.a, "p3", priority=3)
    p1 = make_rule(world.a, "p1", priority=1)
    old_p3 = raise_alarm(p3, make_device(world.a, "d1"), at=now - dt.timedelta(minutes=30))
    new_p1 = raise_alarm(p1, make_device(world.a, "d2"), at=now - dt.timedelta(minutes=1))
    old_p1 = raise_alarm(p1, make_device(world.a, "d3"), at=now - dt.timedelta(minutes=5))
    closed = raise_alarm(p1, make_device(world.a, "d4"), at=now - dt.timedelta(minutes=9))
    services.alarm_resolve(actor=None, alarm=closed)
    ordered = list(console_queue(scope_for(world.user("operator")), world.a.community.pk))
    assert [a.pk for a in ordered] == [old_p1.pk, new_p1.pk, old_p3.pk]
    text = client_for("operator").get("/alarms/console/").text
    positions = [text.index(f'data-alarm-id="{a.pk}"') for a in (old_p1, new_p1, old_p3)]
    assert positions == sorted(positions)
    assert f'data-alarm-id="{closed.pk}"' not in text.split('id="console-detail"')[0]


def test_rows_carry_countdowns_and_a_missed_one_is_red(world, rule, client_for):
    now = timezone.now()
    late = raise_alarm(rule, make_device(world.a, "late"), at=now - dt.timedelta(minutes=1))
    fresh = raise_alarm(rule, make_device(world.a, "fresh"), at=now)
    response = client_for("operator").get("/alarms/console/")
    row = response.text.split(f'data-alarm-id="{late.pk}"')[1].split("</li>")[0]
    # P1: acknowledge within 15 s (missed a minute ago), on scene within 5 minutes.
    assert 'data-countdown="acknowledge"' in row
    assert 'class="countdown breached" data-countdown="acknowledge"' in row
    assert 'data-countdown="on_scene"' in row
    fresh_row = response.text.split(f'data-alarm-id="{fresh.pk}"')[1].split("</li>")[0]
    assert 'class="countdown" data-countdown="acknowledge"' in fresh_row
    services.alarm_acknowledge(actor=None, alarm=late)
    late.refresh_from_db()
    assert [c.kind for c in countdowns(late, now)] == ["on_scene"]


def test_countdown_text():
    due = timezone.now()
    assert Countdown("acknowledge", "", due, 75).text == "1:15"
    assert Countdown("acknowledge", "", due, -5).text == "+0:05"
    assert Countdown("on_scene", "", due, 3 * 3600 + 62).text == "3:01:02"
    assert Countdown("on_scene", "", due, -1).breached


def test_first_paint_has_a_bounded_query_count(
    world, rule, client_for, django_assert_max_num_queries
):
    worker_running()
    for number in range(25):
        device = make_device(world.a, f"s{number}")
        raise_alarm(rule, device, events=(make_event(device).pk,))
    client = client_for("operator")
    # 27: the first alarm's panel includes where the people to dispatch were last on patrol,
    # who is on duty (the roster's patterns and exceptions) and the alarm's open incident;
    # the header counts unread messages; what the person may do with incidents decides whose
    # console body it is. None of it grows with the queue.
    with django_assert_max_num_queries(27):
        response = client.get("/alarms/console/")
    assert response.status_code == 200
    assert response.text.count('class="console-alarm ') == 25


# --------------------------------------------------------------------------- the kept page


def server_now(text: str) -> int:
    return int(text.split('data-server-now="')[1].split('"')[0])


def test_a_reload_with_nothing_new_is_the_kept_page_with_the_clock_of_now(
    world, alarm, client_for, django_assert_max_num_queries
):
    client = client_for("operator")
    client.get("/alarms/console/")  # the browser gets its CSRF cookie: nothing is kept before
    first = client.get("/alarms/console/").text
    later = timezone.now() + dt.timedelta(seconds=3)
    with (
        mock.patch("anwang.alarms.console.timezone.now", return_value=later),
        # The session, the person, the newest live message; nothing of the page itself.
        django_assert_max_num_queries(3),
    ):
        again = client.get("/alarms/console/")
    assert again.status_code == 200
    assert server_now(again.text) == int(later.timestamp() * 1000)
    assert again.text.replace(f"{server_now(again.text)}", "") == first.replace(
        f"{server_now(first)}", ""
    )


def test_a_live_message_makes_the_page_anew(world, rule, alarm, client_for):
    client = client_for("operator")
    assert client.get("/alarms/console/").text.count('class="console-alarm ') == 1
    raise_alarm(rule, make_device(world.a, "s2"))  # publishes a live message
    text = client.get("/alarms/console/").text
    assert text.count('class="console-alarm ') == 2


def test_a_kept_page_is_only_for_its_session_and_address(world, rule, alarm, client_for):
    later = raise_alarm(rule, make_device(world.a, "s2"))
    operator = client_for("operator")
    operator.get("/alarms/console/")
    kept = operator.get("/alarms/console/").text
    admin_page = client_for("community_admin").get("/alarms/console/").text
    assert str(world.user("community_admin", "a")) in admin_page
    assert str(world.user("operator", "a")) not in admin_page.split("</header>")[0]

    def selected(text: str) -> str:
        return text.split(' selected" data-alarm-id="')[1].split('"')[0]

    assert selected(kept) == str(alarm.pk)
    other = operator.get(f"/alarms/console/?alarm={later.pk}").text
    assert selected(other) == str(later.pk)


def test_the_queue_is_made_once_for_the_operators_of_a_community(world, rule, alarm, client_for):
    later = raise_alarm(rule, make_device(world.a, "s2"))

    def queue_reads(client: Any, path: str = "/alarms/console/") -> tuple[str, int]:
        with CaptureQueriesContext(connection) as made:
            text = client.get(path).text
        reads = [q["sql"] for q in made.captured_queries if "alarms_alarm" in q["sql"]]
        return text.split('id="console-queue"')[1].split("</ol>")[0], len(reads)

    operator_rows, operator_reads = queue_reads(client_for("operator"))
    admin_rows, admin_reads = queue_reads(client_for("community_admin"))
    assert admin_rows == operator_rows
    assert admin_reads < operator_reads, "the second operator's page reuses the queue"
    # Another selection is another queue (its row is the selected one).
    chosen, _reads = queue_reads(
        client_for("community_admin"), f"/alarms/console/?alarm={later.pk}"
    )
    assert f' selected" data-alarm-id="{later.pk}"' in chosen
    # An alarm of another community is never selected in this one's queue.
    stranger = raise_alarm(make_rule(world.b, name="b smoke"), make_device(world.b, "s3"))
    rows, _reads = queue_reads(client_for("operator"), f"/alarms/console/?alarm={stranger.pk}")
    assert f' selected" data-alarm-id="{alarm.pk}"' in rows
    # A live message makes it anew for everyone.
    raise_alarm(rule, make_device(world.a, "s4"))
    rows, _reads = queue_reads(client_for("community_admin"))
    assert rows.count('class="console-alarm ') == 3


def test_the_console_body_is_shared_with_each_page_s_own_token_and_clock(world, alarm, client_for):
    def token(text: str) -> str:
        return text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]

    def body(text: str) -> str:
        return text.split('<div id="console"')[1].split("</main>")[0]

    operator = client_for("operator")
    first = operator.get("/alarms/console/").text
    later = timezone.now() + dt.timedelta(seconds=2)
    colleague = make_user("operator-2")
    Membership.objects.create(user=colleague, role=Role.OPERATOR, community=world.a.community)
    theirs = Client()
    theirs.force_login(colleague)
    for name, cookie in operator.cookies.items():
        if name != settings.SESSION_COOKIE_NAME and name != settings.CSRF_COOKIE_NAME:
            theirs.cookies[name] = cookie.value  # the same language
    with (
        mock.patch("anwang.alarms.console.timezone.now", return_value=later),
        mock.patch("anwang.alarms.console.render_to_string") as made,
    ):
        second = theirs.get("/alarms/console/").text
    made.assert_not_called()  # the colleague's page has the operator's body
    assert server_now(second) == int(later.timestamp() * 1000)
    first_tokens = {part.split('"')[0] for part in first.split('csrfmiddlewaretoken" value="')[1:]}
    assert not any(value in second for value in first_tokens), "another person's form token"
    assert body(second).replace(token(body(second)), "T").replace(
        str(server_now(second)), "N"
    ) == body(first).replace(token(body(first)), "T").replace(str(server_now(first)), "N")
    # The forms of the shared body carry the second person's own token.
    secret = theirs.cookies[settings.CSRF_COOKIE_NAME].value
    assert _unmask_cipher_token(token(body(second))) == secret


def test_a_page_with_a_message_to_show_is_made_afresh(world, alarm, client_for):
    client = client_for("operator")
    client.get("/alarms/console/")
    client.get("/alarms/console/")
    waiting = mock.patch("anwang.alarms.console.messages.get_messages", return_value=["Saved."])
    with waiting, CaptureQueriesContext(connection) as made:
        assert client.get("/alarms/console/").status_code == 200
    assert len(made.captured_queries) > 3, "rendering shows messages once: never a kept page"


# --------------------------------------------------------------------------- health


def test_health_banner_without_a_worker_and_never_a_calm_empty_queue(world, client_for):
    text = client_for("operator").get("/alarms/console/").text
    banner = text.split('id="console-health"')[1].split("</div>")[0]
    assert 'data-health-ok="false"' in banner
    assert " hidden" not in banner.split(">")[0]
    assert "No event worker is running" in banner
    # The queue is empty, but it must not say so calmly.
    calm = text.split("data-empty-calm")[1].split(">")[0]
    assert "hidden" in calm
    alarmed = text.split("data-empty-unhealthy")[1].split(">")[0]
    assert "hidden" not in alarmed


def test_no_banner_and_a_calm_empty_queue_when_healthy(world, client_for):
    worker_running()
    text = client_for("operator").get("/alarms/console/").text
    banner = text.split('id="console-health"')[1].split(">")[0]
    assert 'data-health-ok="true"' in banner
    assert "hidden" in banner
    assert "hidden" not in text.split("data-empty-calm")[1].split(">")[0]
    assert "hidden" in text.split("data-empty-unhealthy")[1].split(">")[0]


def test_banner_when_the_worker_lost_the_broker(world, client_for):
    worker_running(connected=False)
    text = client_for("operator").get("/alarms/console/").text
    banner = text.split('id="console-health"')[1].split("</div>")[0]
    assert 'data-health-ok="false"' in banner
    assert "is not connected to the MQTT broker" in banner


def test_script_text_comes_translated_from_the_page(world, client_for):
    client = client_for("operator")
    client.cookies["anwang_language"] = "zh-hans"
    text = client.get("/alarms/console/").text
    assert 'id="console-labels"' in text
    assert 'data-stream-url="/live/stream?after=' in text
    assert "console.js" in text


# --------------------------------------------------------------------------- fragments


def test_row_fragment_and_closed_or_foreign_rows(world, alarm, client_for):
    client = client_for("operator")
    row = client.get(f"/alarms/console/{alarm.pk}/row/?community={world.a.community.pk}")
    assert row.status_code == 200
    assert row.text.lstrip().startswith("<li")
    assert f'data-device="{alarm.device_id}"' in row.text
    wrong = client.get(f"/alarms/console/{alarm.pk}/row/?community={world.b.community.pk}")
    assert wrong.status_code == 204
    services.alarm_resolve(actor=None, alarm=alarm)
    assert client.get(f"/alarms/console/{alarm.pk}/row/").status_code == 204


def test_queue_fragment_lists_the_rows(world, alarm, client_for):
    response = client_for("operator").get(
        f"/alarms/console/queue/?community={world.a.community.pk}"
    )
    assert response.status_code == 200
    assert f'data-alarm-id="{alarm.pk}"' in response.text
    assert "<html" not in response.text


def test_a_row_carries_what_the_script_reads_and_escapes_what_people_wrote(world, rule, client_for):
    device = make_device(world.a, "d<1>")
    repeated = raise_alarm(rule, device)
    guard = world.user("guard")
    guard.display_name = "Night <guard>"
    guard.save(update_fields=["display_name"])
    Alarm.objects.filter(pk=repeated.pk).update(
        count=3, state=AlarmState.DISPATCHED, assignee=guard
    )
    by_hand = raise_alarm(rule, make_device(world.a, "d2"))
    Alarm.objects.filter(pk=by_hand.pk).update(
        title_template="", title="<script>x</script> & co", device=None, zone=None
    )
    client = client_for("operator")
    text = client.get(f"/alarms/console/?alarm={by_hand.pk}").text
    queue = text.split('id="console-queue"')[1].split("</ol>")[0]
    first = queue.split("</li>")[0]
    repeated.refresh_from_db()
    raised = repeated.raised_at
    assert (
        f'<li class="console-alarm console-p1" data-alarm-id="{repeated.pk}" data-priority="1" '
        f'data-state="dispatched" data-raised="{int(raised.timestamp())}{raised.microsecond:06d}" '
        f'data-device="{device.pk}" data-zone="{device.zone_id}">'
    ) in first
    link = f'href="/alarms/console/?community={world.a.community.pk}&amp;alarm={repeated.pk}" >'
    assert link in first
    assert '<span class="console-count" title="Firings">×3</span>' in first
    assert '<span class="badge warn" data-state="dispatched">Dispatched</span>' in first
    assert "sensor d&lt;1&gt; · " in first
    assert '<span class="console-assignee">→ Night &lt;guard&gt;</span>' in first
    assert 'data-countdown="acknowledge"' not in first  # acknowledged by dispatching
    assert 'data-countdown="on_scene"' in first
    second = queue.split("</li>")[1]
    assert 'class="console-alarm console-p1 selected"' in second
    assert 'aria-current="true"' in second
    assert 'data-device="" data-zone=""' in second
    assert "&lt;script&gt;x&lt;/script&gt; &amp; co" in second
    assert "<script>x" not in text
    assert "— · —" in second
    assert '<span class="badge key" data-state="raised">Raised</span>' in second
    # The row fragment is the same row, not selected.
    row = client.get(f"/alarms/console/{by_hand.pk}/row/").text
    assert (
        row
        == second.lstrip("\n").replace(" selected", "").replace('aria-current="true"', "")
        + "</li>\n"
    )


def test_the_queue_costs_the_same_queries_for_any_number_of_alarms(
    world, rule, client_for, django_assert_num_queries
):
    client = client_for("operator")
    url = f"/alarms/console/queue/?community={world.a.community.pk}"
    raise_alarm(rule, make_device(world.a, "first"))
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for number in range(10):
        alarm = raise_alarm(rule, make_device(world.a, f"s{number}"))
        services.alarm_dispatch(actor=None, alarm=alarm, assignee=world.user("guard"))
    with django_assert_num_queries(len(one)):
        response = client.get(url)
    assert response.text.count('class="console-alarm ') == 11


def test_panel_shows_why_events_and_on_duty_people(world, alarm, client_for):
    response = client_for("operator").get(f"/alarms/console/{alarm.pk}/")
    assert response.status_code == 200
    text = response.text
    assert 'data-testid="console-why"' in text
    assert "sensor smoke-1" in text
    assert 'data-action="acknowledge"' in text
    assert 'name="assignee"' in text
    # Handlers of the community are listed; people of another community or without the
    # permission are not.
    assert f'value="{world.user("guard").pk}"' in text
    assert f'value="{world.user("guard", "b").pk}"' not in text
    assert f'value="{world.user("grid_worker").pk}"' not in text
    # No camera image is stored for this alarm, so none is shown.
    assert "<img" not in text


# --------------------------------------------------------------------------- actions


def htmx_post(client, url: str, data: dict[str, object] | None = None):
    return client.post(url, data or {}, headers={"HX-Request": "true"})


def test_dispatch_lists_guards_on_patrol_first_with_their_last_check_in(world, alarm, client_for):
    import uuid

    from django.utils import timezone

    from anwang.patrols.models import CheckIn, PatrolRoute, PatrolRun
    from anwang.patrols.tests.conftest import make_checkpoint

    guard = world.user("guard")
    checkpoint = make_checkpoint(world.a, "北门岗")
    route = PatrolRoute.objects.create(community=world.a.community, name="夜间巡逻")
    now = timezone.now()
    run = PatrolRun.objects.create(
        community=world.a.community,
        route=route,
        route_name=route.name,
        guard=guard,
        plan=[{"checkpoint": checkpoint.pk, "name": checkpoint.name}],
        started_at=now,
    )
    CheckIn.objects.create(
        run=run,
        checkpoint=checkpoint,
        method="typed",
        code=checkpoint.code,
        client_id=uuid.uuid4(),
        scanned_at=now,
        received_at=now,
        skew_seconds=0,
        status="accepted",
    )
    text = client_for("operator").get(f"/alarms/console/{alarm.pk}/").text
    options = [line for line in text.splitlines() if "<option value=" in line]
    first = next(option for option in options if 'value=""' not in option)
    assert f'value="{guard.pk}"' in first
    assert "on patrol: 夜间巡逻" in first
    assert "at 北门岗" in first
    # The alarm's own page labels the choice the same way.
    page = client_for("operator").get(f"/alarms/{alarm.pk}/").text
    assert "on patrol: 夜间巡逻" in page


def test_acknowledge_dispatch_resolve_from_the_console(world, alarm, client_for):
    client = client_for("operator")
    response = htmx_post(client, f"/alarms/console/{alarm.pk}/acknowledge/")
    assert response.status_code == 200
    assert "The alarm was acknowledged." in response.text
    assert 'data-state="acknowledged"' in response.text
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.ACKNOWLEDGED
    assert alarm.acknowledged_by == world.user("operator")

    guard = world.user("guard")
    response = htmx_post(client, f"/alarms/console/{alarm.pk}/dispatch/", {"assignee": guard.pk})
    assert "The alarm was dispatched." in response.text
    alarm.refresh_from_db()
    assert (alarm.state, alarm.assignee) == (AlarmState.DISPATCHED, guard)

    response = htmx_post(client, f"/alarms/console/{alarm.pk}/resolve/", {"note": "dealt with"})
    assert "The alarm was resolved." in response.text
    alarm.refresh_from_db()
    assert (alarm.state, alarm.close_reason) == (AlarmState.RESOLVED, "dealt with")


def test_false_alarm_needs_a_reason(world, alarm, client_for):
    client = client_for("operator")
    response = htmx_post(client, f"/alarms/console/{alarm.pk}/false/", {"reason": ""})
    assert response.status_code == 200
    assert "message-error" in response.text
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.RAISED
    response = htmx_post(client, f"/alarms/console/{alarm.pk}/false/", {"reason": "cooking"})
    assert "The alarm was closed as a false alarm." in response.text
    alarm.refresh_from_db()
    assert (alarm.state, alarm.close_reason) == (AlarmState.FALSE_ALARM, "cooking")


def test_refused_actions_say_why(world, alarm, client_for):
    client = client_for("operator")
    services.alarm_acknowledge(actor=None, alarm=alarm)
    response = htmx_post(client, f"/alarms/console/{alarm.pk}/acknowledge/")
    assert "Only a raised alarm can be acknowledged" in response.text
    response = htmx_post(
        client, f"/alarms/console/{alarm.pk}/dispatch/", {"assignee": world.user("guard", "b").pk}
    )
    assert "message-error" in response.text
    alarm.refresh_from_db()
    assert alarm.assignee is None
    # Actions the console does not offer are not there; watching is not handling.
    assert client.post(f"/alarms/console/{alarm.pk}/note/").status_code == 404
    assert client_for("supervisor").post(f"/alarms/console/{alarm.pk}/resolve/").status_code == 403


def test_without_scripts_an_action_returns_to_the_console(world, alarm, client_for):
    response = client_for("operator").post(f"/alarms/console/{alarm.pk}/acknowledge/")
    assert response.status_code == 302
    assert response["Location"].startswith("/alarms/console/?")
    assert f"alarm={alarm.pk}" in response["Location"]


def test_alarm_list_links_to_the_console(world, client_for):
    assert 'href="/alarms/console/"' in client_for("operator").get("/alarms/").text


def test_dispatch_lists_who_is_on_duty_first(world, alarm, client_for):
    """The duty roster says who is on duty now: they come first, with their shift's end, on
    the console and on the alarm's page."""
    import datetime as dt

    from django.utils import timezone

    from anwang.rosters.models import DutyPattern

    guard = world.user("guard")
    DutyPattern.objects.create(
        community=world.a.community,
        duty_role="guard",
        person=guard,
        first_start=timezone.now() - dt.timedelta(hours=1),
        duration=dt.timedelta(hours=8),
        rrule="FREQ=DAILY",
    )
    text = client_for("operator").get(f"/alarms/console/{alarm.pk}/").text
    options = [line for line in text.splitlines() if "<option value=" in line]
    first = next(option for option in options if 'value=""' not in option)
    assert f'value="{guard.pk}"' in first
    assert "on duty until" in first
    assert "on duty until" in client_for("operator").get(f"/alarms/{alarm.pk}/").text


def test_the_panel_declares_an_incident_in_a_new_tab_or_links_the_open_one(
    world, alarm, client_for
):
    operator = client_for("operator")
    panel = operator.get(f"/alarms/console/{alarm.pk}/").text
    assert 'data-testid="declare-incident"' in panel
    assert 'target="_blank"' in panel  # the console stays live behind the command view
    # A guard sees the alarm but may not declare incidents.
    assert (
        'data-testid="declare-incident"'
        not in client_for("guard").get(f"/alarms/console/{alarm.pk}/").text
    )
    response = operator.post(f"/incidents/from-alarm/{alarm.pk}/")
    assert response.status_code == 302
    panel = operator.get(f"/alarms/console/{alarm.pk}/").text
    assert 'data-testid="declare-incident"' not in panel
    assert 'data-testid="alarm-incident"' in panel
