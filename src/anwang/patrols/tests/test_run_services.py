"""Patrol runs: starting (fixed and random order, one at a time), check-ins judged by the
server (signed codes, the route, duplicates, replays, times, distance), offline sync, finishing,
abandoning, SOS."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from anwang.alarms.models import Alarm
from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError
from anwang.patrols import codes, services
from anwang.patrols.choices import CheckInStatus, RunOrder, RunStatus
from anwang.patrols.models import CheckIn, PatrolRun
from anwang.patrols.services import CheckInItem, Position
from anwang.patrols.tests.conftest import make_checkpoint, make_route, png

pytestmark = pytest.mark.django_db

AT_GATE = Position(latitude=30.5005, longitude=114.3005, accuracy=10)


@pytest.fixture
def patrol(world: Any) -> Any:
    """Three checkpoints of community a on one route, and the guard's run on it."""
    gate = make_checkpoint(world.a, "北门")
    yard = make_checkpoint(world.a, "花园", point={"type": "Point", "coordinates": [114.31, 30.51]})
    shop = make_checkpoint(world.a, "商铺", point={"type": "Point", "coordinates": [114.32, 30.52]})
    route = make_route(world.a, gate, yard, shop)
    guard = world.user("guard")
    run = services.patrol_run_start(actor=guard, route=route)
    return type(
        "Patrol",
        (),
        {"gate": gate, "yard": yard, "shop": shop, "route": route, "guard": guard, "run": run},
    )


def check_in(patrol: Any, code: str, **extra: Any) -> Any:
    """One check-in on the patrol's run (a :class:`services.CheckInResult`)."""
    values: dict[str, Any] = {"client_id": uuid.uuid4(), "scanned_at": timezone.now()} | extra
    return services.patrol_check_in(actor=patrol.guard, run=patrol.run, code=code, **values)


def rejection(result: Any) -> str:
    """Why the check-in was refused (empty when accepted)."""
    assert result.check_in is not None
    return str(result.check_in.rejection)


def test_start_copies_the_plan_in_order(world, patrol):
    run = patrol.run
    assert run.status == RunStatus.IN_PROGRESS
    assert run.guard == patrol.guard
    assert [stop["name"] for stop in run.plan] == ["北门", "花园", "商铺"]
    assert run.route_name == "夜巡"
    assert AuditEvent.objects.filter(action="patrol_run.start", object_id=str(run.pk)).exists()


def test_one_run_in_progress_per_guard(world, patrol):
    with pytest.raises(ConflictError) as refused:
        services.patrol_run_start(actor=patrol.guard, route=patrol.route)
    assert refused.value.code == "run_in_progress"
    # Another guard of the same community may start the same route.
    other = services.patrol_run_start(actor=world.user("volunteer"), route=patrol.route)
    assert other.status == RunStatus.IN_PROGRESS


def test_random_order_is_a_permutation_and_varies(world):
    checkpoints = [make_checkpoint(world.a, f"点{n}") for n in range(8)]
    route = make_route(world.a, *checkpoints)
    guard = world.user("guard")
    orders = set()
    for _ in range(6):
        run = services.patrol_run_start(actor=guard, route=route, order_mode=RunOrder.RANDOM)
        ids = [stop["checkpoint"] for stop in run.plan]
        assert sorted(ids) == sorted(c.pk for c in checkpoints)
        orders.add(tuple(ids))
        services.patrol_run_abandon(actor=None, run=run, reason="test")
    # 8! orders: six draws being all the same would mean no shuffle at all.
    assert len(orders) > 1


def test_a_given_stop_order_is_used_and_checked(world, patrol):
    services.patrol_run_abandon(actor=None, run=patrol.run, reason="test")
    run = services.patrol_run_start(
        actor=patrol.guard, route=patrol.route, order_mode=RunOrder.RANDOM, stop_order=[2, 0, 1]
    )
    assert [stop["name"] for stop in run.plan] == ["商铺", "北门", "花园"]
    services.patrol_run_abandon(actor=None, run=run, reason="test")
    with pytest.raises(ServiceError) as refused:
        services.patrol_run_start(actor=patrol.guard, route=patrol.route, stop_order=[0, 0, 1])
    assert refused.value.field == "stop_order"


def test_only_those_who_run_patrols_start_and_only_in_their_community(world, patrol):
    with pytest.raises(PermissionDenied):
        services.patrol_run_start(actor=world.user("operator"), route=patrol.route)
    with pytest.raises(Http404):
        services.patrol_run_start(actor=world.user("guard", "b"), route=patrol.route)
    with pytest.raises(ServiceError):
        services.patrol_run_start(actor=world.user("volunteer"), route=patrol.route, order_mode="x")


def test_valid_code_is_accepted_with_skew_and_distance(world, patrol):
    scanned = timezone.now() - dt.timedelta(seconds=20)
    result = check_in(patrol, patrol.gate.code, scanned_at=scanned, position=AT_GATE)
    assert result.created
    accepted = result.check_in
    assert accepted.status == CheckInStatus.ACCEPTED
    assert accepted.checkpoint == patrol.gate
    assert accepted.scanned_at == scanned
    assert 19 <= accepted.skew_seconds < 60
    assert accepted.distance_m == 0
    assert not accepted.far
    patrol.run.refresh_from_db()
    assert patrol.run.last_latitude == AT_GATE.latitude
    assert AuditEvent.objects.filter(action="check_in.accept").count() == 1


def test_forged_and_other_community_and_malformed_codes_are_refused_and_kept(world, patrol):
    genuine = codes.decode(patrol.gate.code)
    forged = codes.encode(
        community_id=world.a.community.pk,
        checkpoint_id=genuine.checkpoint_id,
        version=1,
        salt="not-the-salt",
    )
    assert rejection(check_in(patrol, forged)) == "forged"
    other = make_checkpoint(world.b, "b-gate")
    assert rejection(check_in(patrol, other.code)) == "other_community"
    assert rejection(check_in(patrol, "0000-0000-0000-0")) == "malformed"
    refused = CheckIn.objects.filter(run=patrol.run, status=CheckInStatus.REJECTED)
    assert refused.count() == 3
    assert AuditEvent.objects.filter(action="check_in.reject").count() == 3
    message = services.check_in_rejection_message(refused.get(rejection="other_community"))
    assert message == "This code belongs to a checkpoint of another community."


def test_reissued_and_retired_codes_are_refused(world, patrol):
    old = patrol.gate.code
    services.checkpoint_code_reissue(actor=None, checkpoint=patrol.gate)
    assert rejection(check_in(patrol, old)) == "reissued"
    yard_code = patrol.yard.code
    services.checkpoint_retire(actor=None, checkpoint=patrol.yard)
    assert rejection(check_in(patrol, yard_code)) == "retired"
    assert check_in(patrol, patrol.gate.code).check_in.is_accepted


def test_checkpoint_not_on_the_route_is_refused(world, patrol):
    elsewhere = make_checkpoint(world.a, "别处")
    result = check_in(patrol, elsewhere.code)
    assert rejection(result) == "not_on_route"
    assert result.check_in.checkpoint == elsewhere


def test_replay_with_the_same_uuid_finds_the_first_check_in(world, patrol):
    client_id = uuid.uuid4()
    first = check_in(patrol, patrol.gate.code, client_id=client_id)
    again = check_in(patrol, patrol.gate.code, client_id=str(client_id))
    assert first.created
    assert not again.created
    assert again.check_in.pk == first.check_in.pk
    assert again.check_in.is_accepted
    assert CheckIn.objects.filter(run=patrol.run).count() == 1


def test_the_same_checkpoint_again_is_a_duplicate(world, patrol):
    assert check_in(patrol, patrol.gate.code).check_in.is_accepted
    second = check_in(patrol, patrol.gate.code)
    assert rejection(second) == "duplicate"
    assert services.check_in_rejection_message(second.check_in).startswith(
        "This checkpoint was already checked in"
    )


def test_a_recurring_checkpoint_counts_once_per_lap(world):
    gate = make_checkpoint(world.a, "北门")
    yard = make_checkpoint(world.a, "花园")
    route = make_route(world.a, gate, yard, gate)
    guard = world.user("guard")
    run = services.patrol_run_start(actor=guard, route=route)
    now = timezone.now() - dt.timedelta(minutes=10)
    PatrolRun.objects.filter(pk=run.pk).update(started_at=now)
    run.refresh_from_db()

    def at(code: str, seconds: int) -> str:
        result: Any = services.patrol_check_in(
            actor=guard,
            run=run,
            code=code,
            client_id=uuid.uuid4(),
            scanned_at=now + dt.timedelta(seconds=seconds),
        )
        return result.check_in.rejection or "accepted"

    assert at(gate.code, 0) == "accepted"
    assert at(gate.code, 5) == "duplicate"  # twice at the same label is not the next lap
    assert at(yard.code, 60) == "accepted"
    assert at(gate.code, 120) == "accepted"
    assert at(gate.code, 130) == "duplicate"  # both laps are done


def test_times_before_the_start_or_in_the_future_are_refused(world, patrol):
    early = patrol.run.started_at - dt.timedelta(hours=1)
    assert rejection(check_in(patrol, patrol.gate.code, scanned_at=early)) == "before_start"
    future = timezone.now() + dt.timedelta(minutes=30)
    assert rejection(check_in(patrol, patrol.gate.code, scanned_at=future)) == "in_future"
    # A phone clock a little behind the server is fine.
    slightly_early = patrol.run.started_at - dt.timedelta(minutes=1)
    assert check_in(patrol, patrol.gate.code, scanned_at=slightly_early).check_in.is_accepted
    with pytest.raises(ServiceError):
        check_in(patrol, patrol.gate.code, scanned_at=dt.datetime(2026, 1, 1, 8, 0))  # noqa: DTZ001 - naive on purpose


def test_a_phone_clock_that_is_off_is_corrected_when_it_says_when_it_sent(world, patrol):
    # The phone's clock runs 30 minutes fast: its scan time looks like the future ...
    fast = dt.timedelta(minutes=30)
    scanned = timezone.now() + fast - dt.timedelta(seconds=10)
    result = check_in(patrol, patrol.gate.code, scanned_at=scanned, sent_at=timezone.now() + fast)
    # ... but the offset measured at sending puts it right.
    assert result.check_in.is_accepted
    assert result.check_in.clock_offset_seconds == pytest.approx(-1800, abs=5)
    assert result.check_in.scanned_at == scanned


def test_far_flag_takes_the_accuracy_into_account(world, patrol):
    # About 75 m north of the gate.
    away: dict[str, Any] = {"latitude": 30.5005 + 75 / 111_195, "longitude": 114.3005}
    near_enough = check_in(patrol, patrol.gate.code, position=Position(**away, accuracy=30))
    assert near_enough.check_in.is_accepted
    assert 70 < near_enough.check_in.distance_m < 80
    assert not near_enough.check_in.far  # 75 m < 50 m + 30 m
    far = check_in(patrol, patrol.yard.code, position=Position(30.5005, 114.3005, accuracy=5))
    assert far.check_in.is_accepted
    assert far.check_in.far  # about 1.4 km from the yard
    nowhere = check_in(patrol, patrol.shop.code)
    assert nowhere.check_in.distance_m is None
    assert not nowhere.check_in.far
    with pytest.raises(ServiceError):
        check_in(patrol, patrol.shop.code, position=Position(95, 114.3))


def test_only_the_guard_of_the_run_checks_in(world, patrol):
    with pytest.raises(Http404):
        services.patrol_check_in(
            actor=world.user("volunteer"),
            run=patrol.run,
            code=patrol.gate.code,
            client_id=uuid.uuid4(),
            scanned_at=timezone.now(),
        )
    with pytest.raises(PermissionDenied):
        services.patrol_check_in(
            actor=world.user("community_admin"),
            run=patrol.run,
            code=patrol.gate.code,
            client_id=uuid.uuid4(),
            scanned_at=timezone.now(),
        )


def test_photo_is_cleaned_and_bad_files_refused(world, patrol, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    result = check_in(patrol, patrol.gate.code, photo=png(), note="门锁坏了")
    assert result.check_in.photo.name.endswith(".png")
    assert result.check_in.note == "门锁坏了"
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(ServiceError) as refused:
        check_in(patrol, patrol.yard.code, photo=SimpleUploadedFile("x.png", b"not an image"))
    assert refused.value.field == "photo"
    assert not CheckIn.objects.filter(checkpoint=patrol.yard).exists()


def sync_item(code: str, scanned_at: dt.datetime, **extra: Any) -> CheckInItem:
    return CheckInItem(code=code, client_id=uuid.uuid4(), scanned_at=scanned_at, **extra)


def test_offline_sync_out_of_order_duplicate_and_late_by_hours(world, patrol):
    run = patrol.run
    # The run started four hours ago; the phone had no signal since.
    started = timezone.now() - dt.timedelta(hours=4)
    PatrolRun.objects.filter(pk=run.pk).update(started_at=started)
    run.refresh_from_db()
    gate = sync_item(patrol.gate.code, started + dt.timedelta(minutes=5), position=AT_GATE)
    yard = sync_item(patrol.yard.code, started + dt.timedelta(minutes=20))
    gate_again = sync_item(patrol.gate.code, started + dt.timedelta(minutes=6))
    shop = sync_item(patrol.shop.code, started + dt.timedelta(minutes=40))
    # Sent in another order than scanned.
    items = [shop, gate_again, yard, gate]
    results: list[Any] = services.patrol_check_ins_sync(actor=patrol.guard, run=run, items=items)
    assert [r.client_id for r in results] == [str(i.client_id) for i in items]
    by_code = {r.client_id: r.check_in for r in results}
    assert by_code[str(gate.client_id)].is_accepted  # judged first: scanned first
    assert by_code[str(gate_again.client_id)].rejection == "duplicate"
    assert by_code[str(yard.client_id)].is_accepted
    assert by_code[str(shop.client_id)].is_accepted
    # Late by hours: accepted with the original times.
    stored = CheckIn.objects.get(client_id=shop.client_id)
    assert stored.scanned_at == shop.scanned_at
    assert stored.skew_seconds > 3 * 3600
    # Sending the whole batch again changes nothing.
    again = services.patrol_check_ins_sync(actor=patrol.guard, run=run, items=items)
    assert not any(r.created for r in again)
    assert CheckIn.objects.filter(run=run).count() == 4


def test_sync_invalid_item_does_not_stop_the_others(world, patrol):
    items = [
        sync_item(patrol.gate.code, timezone.now(), position=Position(200, 0)),
        sync_item(patrol.yard.code, timezone.now()),
        CheckInItem(code=patrol.shop.code, client_id="not-a-uuid", scanned_at=timezone.now()),
    ]
    results: list[Any] = services.patrol_check_ins_sync(
        actor=patrol.guard, run=patrol.run, items=items
    )
    assert results[0].error is not None
    assert results[0].check_in is None
    assert results[1].check_in.is_accepted
    assert results[2].error is not None
    assert results[2].error.field == "client_id"
    assert CheckIn.objects.filter(run=patrol.run).count() == 1
    with pytest.raises(ServiceError):
        services.patrol_check_ins_sync(
            actor=patrol.guard, run=patrol.run, items=[items[1]] * (services.MAX_BATCH + 1)
        )


def test_finish_then_late_check_ins_scanned_before_are_still_taken(world, patrol):
    scanned = timezone.now() - dt.timedelta(minutes=1)
    run = services.patrol_run_finish(actor=patrol.guard, run=patrol.run, note="一切正常")
    assert run.status == RunStatus.COMPLETED
    assert run.note == "一切正常"
    late = check_in(patrol, patrol.gate.code, scanned_at=scanned)
    assert late.check_in.is_accepted
    with pytest.raises(ConflictError):
        services.patrol_run_finish(actor=patrol.guard, run=patrol.run)
    # Finished: a new run may start.
    assert services.patrol_run_start(actor=patrol.guard, route=patrol.route).pk != run.pk


def test_abandon_needs_manage_and_a_reason_and_closes_the_run(world, patrol):
    with pytest.raises(PermissionDenied):
        services.patrol_run_abandon(actor=patrol.guard, run=patrol.run, reason="x")
    with pytest.raises(ServiceError):
        services.patrol_run_abandon(actor=world.user("community_admin"), run=patrol.run, reason="")
    admin = world.user("community_admin")
    run = services.patrol_run_abandon(actor=admin, run=patrol.run, reason="手机坏了")
    assert run.status == RunStatus.ABANDONED
    assert run.abandoned_by == admin
    assert rejection(check_in(patrol, patrol.gate.code)) == "run_closed"
    with pytest.raises(ConflictError):
        services.patrol_run_abandon(actor=admin, run=patrol.run, reason="again")
    entry = AuditEvent.objects.get(action="patrol_run.abandon")
    assert entry.changes["abandon_reason"] == ["", "手机坏了"]
    assert entry.changes["status"] == ["in_progress", "abandoned"]


def test_sos_raises_a_p1_alarm_with_the_last_position(world, patrol):
    check_in(patrol, patrol.gate.code, position=AT_GATE)
    alarm = services.patrol_sos(actor=patrol.guard, run=patrol.run)
    assert isinstance(alarm, Alarm)
    assert alarm.priority == 1
    assert alarm.community_id == world.a.community.pk
    assert "30.500500, 114.300500" in alarm.steps.get().note
    assert "夜巡" in alarm.steps.get().note
    assert AuditEvent.objects.filter(action="patrol.sos").count() == 1
    # With a new position, and without a run (a volunteer, who may not handle alarms).
    volunteer = world.user("volunteer")
    other = services.patrol_sos(
        actor=volunteer, community=world.a.community, position=Position(30.6, 114.4, 8)
    )
    assert other.priority == 1
    assert "30.600000, 114.400000 (±8 m)" in other.steps.get().note
    with pytest.raises(Http404):
        services.patrol_sos(actor=world.user("guard", "b"), community=world.a.community)
    with pytest.raises(PermissionDenied):
        services.patrol_sos(actor=world.user("operator"), community=world.a.community)


def test_nfc_tag_check_in(world, patrol):
    services.checkpoint_update(actor=None, checkpoint=patrol.gate, nfc_tag_id="04:A2:2B:11")
    accepted = check_in(patrol, "04:A2:2B:11", method="nfc")
    assert accepted.check_in.is_accepted
    assert accepted.check_in.checkpoint == patrol.gate
    assert rejection(check_in(patrol, "FF:FF", method="nfc")) == "unknown_tag"
    statuses = Counter(CheckIn.objects.values_list("status", flat=True))
    assert statuses == {"accepted": 1, "rejected": 1}
