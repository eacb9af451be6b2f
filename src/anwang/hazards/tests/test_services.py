"""Tests of the hazards services: reports, uploads, the workflow, escalation and points."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone
from PIL import Image

from anwang.alarms.models import Alarm
from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError
from anwang.hazards import services
from anwang.hazards.choices import DEADLINES, HazardStatus, StepAction
from anwang.hazards.models import Hazard, HazardFollower, HazardStep
from anwang.hazards.tests.support import LAT, LON, advance, jpeg, report, upload
from anwang.participation.models import PointEntry

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- report


def test_report_records_the_hazard_its_first_step_and_zone(world: Any) -> None:
    """A report by a resident with a pin lands in the zone under the pin, status reported."""
    at = timezone.now() - dt.timedelta(minutes=5)
    hazard = report(world, at=at)
    assert hazard.status == HazardStatus.REPORTED
    assert hazard.reported_at == at
    assert hazard.reporter == world.user("resident")
    assert hazard.zone == world.a.zone
    steps = list(hazard.steps.all())
    assert [(s.action, s.status, s.actor) for s in steps] == [
        (StepAction.REPORT, HazardStatus.REPORTED, world.user("resident"))
    ]
    assert AuditEvent.objects.filter(action="hazard.report", object_id=str(hazard.pk)).exists()


def test_report_without_pin_needs_a_building_or_address(world: Any) -> None:
    """The location may be a building, an entrance (which implies its building) or an address,
    but one of them is required."""
    with pytest.raises(ValidationError) as error:
        report(world, latitude=None, longitude=None)
    assert "location" in error.value.message_dict
    by_unit = report(world, latitude=None, longitude=None, unit=world.a.unit)
    assert by_unit.building == world.a.building
    by_address = report(world, latitude=None, longitude=None, address="北门外")
    assert by_address.address == "北门外"
    assert by_address.zone is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"category": "ufo"}, "category"),
        ({"latitude": None}, "latitude"),
        ({"latitude": 91.0}, "latitude"),
        ({"longitude": "east"}, "longitude"),
        ({"description": "x" * 2001}, "description"),
        ({"address": "y" * 201}, "address"),
    ],
)
def test_report_refuses_bad_input_with_a_message_on_the_field(
    world: Any, fields: dict[str, Any], field: str
) -> None:
    """Bad input raises a ValidationError (also a ServiceError) on the field; nothing is saved."""
    with pytest.raises(services.HazardInputError) as error:
        report(world, **fields)
    assert isinstance(error.value, ServiceError)
    assert error.value.field == field
    assert field in error.value.message_dict
    assert not Hazard.objects.exists()


def test_report_refuses_a_place_of_another_community(world: Any) -> None:
    """A building or entrance of another community is refused."""
    with pytest.raises(ValidationError, match="building"):
        report(world, building=world.b.building)
    with pytest.raises(ValidationError, match="entrance"):
        report(world, unit=world.b.unit)


def test_report_by_an_outsider_is_not_found_and_outside_reports_are_anonymous(
    world: Any,
) -> None:
    """A reporter must belong to the community; without a reporter (Open311) it is anonymous."""
    with pytest.raises(Http404):
        report(world, side="a", reporter=world.user("resident", "b"))
    outside = report(world, reporter=None)
    assert outside.anonymous
    assert outside.steps.get().actor is None


def test_anonymous_report_keeps_the_reporter_but_not_on_the_timeline(world: Any) -> None:
    """The reporter can follow an anonymous report; the timeline and audit do not name them."""
    hazard = report(world, anonymous=True)
    assert hazard.reporter == world.user("resident")
    assert hazard.steps.get().actor is None
    assert AuditEvent.objects.get(action="hazard.report", object_id=str(hazard.pk)).actor is None


# --------------------------------------------------------------------------- uploads


def test_photo_is_stripped_of_gps_and_thumbnailed(world: Any) -> None:
    """A phone photo with a GPS position is stored without any EXIF, with a small thumbnail."""
    content = jpeg((1200, 900), gps=True)
    assert Image.open(io.BytesIO(content)).getexif().get_ifd(0x8825)
    hazard = report(world, photo=upload("IMG_0001.jpg", content))
    with Image.open(hazard.photo.path) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (1200, 900)
        assert not stored.getexif()
    with Image.open(hazard.photo_thumbnail.path) as thumb:
        assert max(thumb.size) <= 480
        assert not thumb.getexif()
    with open(hazard.photo.path, "rb") as stored_file:
        assert b"TestCam" not in stored_file.read()


def test_photo_with_a_spoofed_extension_is_refused(world: Any) -> None:
    """A script named .jpg, or a GIF, is refused by its content, and nothing is saved."""
    spoofed = SimpleUploadedFile("photo.jpg", b"#!/bin/sh\nrm -rf /\n", "image/jpeg")
    with pytest.raises(ValidationError) as error:
        report(world, photo=spoofed)
    assert error.value.message_dict == {"photo": ["Upload a photo (JPEG, PNG or WebP)."]}
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    with pytest.raises(ValidationError):
        report(world, photo=SimpleUploadedFile("photo.png", gif.getvalue(), "image/png"))
    assert not Hazard.objects.exists()


def test_oversized_photo_is_refused(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file over the byte limit, or an image over the pixel limit, is refused."""
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8" + b"0" * (10 * 1024 * 1024 + 1))
    with pytest.raises(ValidationError, match="10 MB"):
        report(world, photo=big)
    monkeypatch.setattr("anwang.core.images.PHOTO_MAX_PIXELS", 100)
    with pytest.raises(ValidationError, match="too many pixels"):
        report(world, photo=upload(content=jpeg((20, 20))))
    assert not Hazard.objects.exists()


# --------------------------------------------------------------------------- workflow


def test_triage_sets_the_deadline_by_severity(world: Any) -> None:
    """Each severity gives its own deadline, counted from the triage."""
    at = timezone.now()
    for severity, delta in DEADLINES.items():
        hazard = report(world)
        hazard = services.hazard_triage(
            actor=world.user("community_admin"), hazard=hazard, severity=severity, at=at
        )
        assert hazard.status == HazardStatus.TRIAGED
        assert hazard.deadline == at + delta
    with pytest.raises(ValidationError):
        services.hazard_triage(
            actor=world.user("community_admin"), hazard=report(world), severity="mild"
        )


def test_only_hazard_managers_triage(world: Any) -> None:
    """A guard sees hazards (403); a resident or another community does not (404)."""
    hazard = report(world)
    with pytest.raises(PermissionDenied):
        services.hazard_triage(actor=world.user("guard"), hazard=hazard, severity="low")
    with pytest.raises(Http404):
        services.hazard_triage(actor=world.user("resident"), hazard=hazard, severity="low")
    with pytest.raises(Http404):
        services.hazard_triage(
            actor=world.user("community_admin", "b"), hazard=hazard, severity="low"
        )
    services.hazard_triage(actor=world.user("grid_worker"), hazard=hazard, severity="low")


def test_assign_to_a_member_with_a_deadline(world: Any) -> None:
    """The responsible person must belong to the community; the deadline defaults by severity
    and must lie ahead."""
    admin = world.user("community_admin")
    at = timezone.now()
    hazard = advance(world, report(world), "triaged", at=at)
    with pytest.raises(ValidationError) as error:
        services.hazard_assign(actor=admin, hazard=hazard, assignee=world.user("guard", "b"))
    assert "assignee" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.hazard_assign(
            actor=admin,
            hazard=hazard,
            assignee=world.user("guard"),
            deadline=at - dt.timedelta(hours=1),
            at=at,
        )
    chosen = at + dt.timedelta(hours=2)
    hazard = services.hazard_assign(
        actor=admin, hazard=hazard, assignee=world.user("guard"), deadline=chosen, at=at
    )
    assert (hazard.status, hazard.assignee, hazard.deadline) == (
        HazardStatus.ASSIGNED,
        world.user("guard"),
        chosen,
    )


def test_illegal_transitions_are_refused_with_a_message(world: Any) -> None:
    """A step the status does not allow is a conflict that names the status."""
    admin = world.user("community_admin")
    hazard = report(world)
    with pytest.raises(ConflictError, match="Reported"):
        services.hazard_assign(actor=admin, hazard=hazard, assignee=world.user("guard"))
    with pytest.raises(ConflictError):
        services.hazard_close(actor=admin, hazard=hazard)
    with pytest.raises(ConflictError):
        services.hazard_verify(actor=admin, hazard=hazard)
    closed = advance(world, report(world), "closed")
    with pytest.raises(ConflictError, match="Closed"):
        services.hazard_reject(actor=admin, hazard=closed, reason="dup")


def test_rectify_by_the_assignee_needs_an_after_photo(world: Any) -> None:
    """The responsible person rectifies with a photo; another guard may not."""
    hazard = advance(world, report(world), "assigned")
    with pytest.raises(ValidationError) as error:
        services.hazard_rectify(actor=world.user("guard"), hazard=hazard, after_photo=None)
    assert "after_photo" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        services.hazard_rectify(actor=world.user("operator"), hazard=hazard, after_photo=upload())
    hazard = services.hazard_rectify(
        actor=world.user("guard"), hazard=hazard, after_photo=upload(), note="换了灯泡"
    )
    assert hazard.status == HazardStatus.RECTIFIED
    assert hazard.rectified_by == world.user("guard")
    assert hazard.after_photo
    assert hazard.after_photo_thumbnail


def test_the_rectifier_may_not_verify(world: Any) -> None:
    """Verification is by someone other than who rectified; a failed check sends it back."""
    admin = world.user("community_admin")
    hazard = advance(world, report(world), "assigned")
    hazard = services.hazard_rectify(actor=admin, hazard=hazard, after_photo=upload())
    with pytest.raises(ConflictError, match="Someone other than"):
        services.hazard_verify(actor=admin, hazard=hazard)
    with pytest.raises(ValidationError):
        services.hazard_verify(actor=world.user("grid_worker"), hazard=hazard, passed=False)
    hazard = services.hazard_verify(
        actor=world.user("grid_worker"), hazard=hazard, passed=False, note="灯还是不亮"
    )
    assert hazard.status == HazardStatus.ASSIGNED
    assert hazard.steps.last().action == StepAction.SEND_BACK  # type: ignore[union-attr]
    hazard = services.hazard_rectify(actor=world.user("guard"), hazard=hazard, after_photo=upload())
    hazard = services.hazard_verify(actor=admin, hazard=hazard)
    assert (hazard.status, hazard.verified_by) == (HazardStatus.VERIFIED, admin)


def test_full_workflow_records_every_step_and_closes(world: Any) -> None:
    """Report to closure: one step per action, closed_at set, audit entries written."""
    hazard = advance(world, report(world), "closed")
    assert hazard.status == HazardStatus.CLOSED
    assert hazard.closed_at is not None
    assert list(hazard.steps.values_list("action", flat=True)) == [
        "report",
        "triage",
        "assign",
        "rectify",
        "verify",
        "close",
    ]
    assert (
        AuditEvent.objects.filter(object_id=str(hazard.pk), action__startswith="hazard.").count()
        == 6
    )


def test_reject_needs_a_reason(world: Any) -> None:
    """A rejection says why; the reporter sees the reason."""
    admin = world.user("community_admin")
    hazard = report(world)
    with pytest.raises(ValidationError):
        services.hazard_reject(actor=admin, hazard=hazard, reason=" ")
    hazard = services.hazard_reject(actor=admin, hazard=hazard, reason="重复上报")
    assert (hazard.status, hazard.rejection_reason) == (HazardStatus.REJECTED, "重复上报")


def test_reporter_and_followers_comment_others_may_not(world: Any) -> None:
    """The reporter adds a comment or extra photo; a follower may too; a stranger may not."""
    hazard = report(world)
    step = services.hazard_comment(
        actor=world.user("resident"), hazard=hazard, photo=upload(content=jpeg(gps=True))
    )
    assert step.action == StepAction.COMMENT
    assert step.photo
    with Image.open(step.photo.path) as stored:
        assert not stored.getexif()
    with pytest.raises(Http404):
        services.hazard_comment(actor=world.user("volunteer"), hazard=hazard, note="hi")
    services.hazard_follow(actor=world.user("volunteer"), hazard=hazard)
    services.hazard_follow(actor=world.user("volunteer"), hazard=hazard)  # once only
    assert HazardFollower.objects.filter(hazard=hazard).count() == 1
    services.hazard_comment(actor=world.user("volunteer"), hazard=hazard, note="我也看到了")
    with pytest.raises(Http404):
        services.hazard_follow(actor=world.user("resident", "b"), hazard=hazard)


# --------------------------------------------------------------------------- points


def test_verified_resident_report_earns_points_once(world: Any) -> None:
    """Verification of a resident's report awards points; closing does not add more."""
    hazard = advance(world, report(world, anonymous=True), "closed")
    entries = PointEntry.objects.filter(
        user=world.user("resident"), source_key=f"hazard:{hazard.pk}"
    )
    assert entries.count() == 1
    assert entries.get().points == 20


def test_staff_and_unknown_reporters_earn_no_points(world: Any) -> None:
    """A guard reports as part of the job; an outside report has no one to award."""
    advance(world, report(world, role="guard"), "closed")
    advance(world, report(world, reporter=None), "closed")
    assert not PointEntry.objects.exists()


# --------------------------------------------------------------------------- escalation


def test_overdue_hazard_escalates_exactly_once(world: Any) -> None:
    """Past its deadline a report raises one alarm and a step; later checks raise nothing."""
    start = timezone.now()
    hazard = advance(world, report(world), "assigned", at=start)
    assert hazard.deadline == start + DEADLINES["high"]
    before = hazard.deadline - dt.timedelta(seconds=1)
    assert services.hazards_overdue_check(now=before) == 0
    after = hazard.deadline + dt.timedelta(seconds=1)
    assert services.hazards_overdue_check(now=after) == 1
    assert services.hazards_overdue_check(now=after + dt.timedelta(minutes=5)) == 0
    alarm = Alarm.objects.get(source_key=f"hazard-overdue:{hazard.pk}")
    assert alarm.community == world.a.community
    assert alarm.priority == 2
    hazard.refresh_from_db()
    assert hazard.escalated_at == after
    assert HazardStep.objects.filter(hazard=hazard, action=StepAction.ESCALATE).count() == 1


def test_rectified_or_other_status_hazards_do_not_escalate(world: Any) -> None:
    """Only triaged or assigned reports have a running deadline."""
    start = timezone.now()
    advance(world, report(world), "rectified", at=start)
    rejected = advance(world, report(world), "triaged", at=start)
    services.hazard_reject(actor=world.user("community_admin"), hazard=rejected, reason="no")
    assert services.hazards_overdue_check(now=start + dt.timedelta(days=30)) == 0
    assert not Alarm.objects.exists()


def test_reassignment_with_a_new_deadline_may_escalate_again(world: Any) -> None:
    """A new deadline clears the escalation mark, but the alarm key stays one per report."""
    start = timezone.now()
    hazard = advance(world, report(world), "assigned", at=start)
    late = start + dt.timedelta(days=2)
    assert services.hazards_overdue_check(now=late) == 1
    hazard = services.hazard_assign(
        actor=world.user("community_admin"),
        hazard=hazard,
        assignee=world.user("grid_worker"),
        deadline=late + dt.timedelta(hours=1),
        at=late,
    )
    assert hazard.escalated_at is None
    assert services.hazards_overdue_check(now=late + dt.timedelta(hours=2)) == 0
    hazard.refresh_from_db()
    assert hazard.escalated_at is not None
    assert Alarm.objects.filter(source_key__startswith="hazard-overdue:").count() == 1


def test_report_pin_is_kept(world: Any) -> None:
    """The pin is stored as given (WGS84)."""
    hazard = report(world)
    assert (hazard.latitude, hazard.longitude) == (LAT, LON)


def test_one_refused_escalation_does_not_hold_up_the_others(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the alarm for one report is refused, the next report still escalates, and the first
    is tried again at the next check."""
    from anwang.alarms import services as alarm_services

    start = timezone.now()
    first = advance(world, report(world), "assigned", at=start - dt.timedelta(minutes=1))
    second = advance(world, report(world), "assigned", at=start)
    real = alarm_services.alarm_raise_system

    def refuse_first(**kwargs: Any) -> Any:
        if kwargs["source_key"] == f"hazard-overdue:{first.pk}":
            raise ServiceError("refused")
        return real(**kwargs)

    monkeypatch.setattr(alarm_services, "alarm_raise_system", refuse_first)
    late = start + dt.timedelta(days=2)
    assert services.hazards_overdue_check(now=late) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.escalated_at is None
    assert second.escalated_at == late
    monkeypatch.setattr(alarm_services, "alarm_raise_system", real)
    assert services.hazards_overdue_check(now=late) == 1
