"""Writes of the hazards domain: a report from anyone, then its workflow to closure.

Workflow: reported -> triaged (severity, which fixes the deadline) -> assigned (a member of the
community, with a deadline) -> rectified (after-photo) -> verified (by someone other than the
rectifier; or sent back for rework) -> closed. A report may be rejected with a reason while it
is not yet rectified. Every change records a :class:`HazardStep` and an audit entry in the same
transaction. Triage, assignment, verification, closing and rejection need
:attr:`Permission.MANAGE_HAZARDS` in the community; the assignee may rectify; the reporter and
followers may comment. Without ``actor`` (and ``scope``) a call is the system itself.

Bad input raises :class:`HazardInputError`, which is both the project's
:class:`~anwang.core.errors.ServiceError` and Django's ``ValidationError`` (Open311 and forms
catch the latter); a step the report's status forbids raises :class:`ConflictError`.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import Any, Final

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, acts_platform_wide, authorize, service_scope
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core import geo
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.images import clean_photo, thumbnail
from anwang.core.validation import clean_text
from anwang.hazards.choices import (
    DEADLINE_STATUSES,
    HazardCategory,
    HazardSeverity,
    HazardStatus,
    StepAction,
    deadline_for,
)
from anwang.hazards.models import Hazard, HazardFollower, HazardStep
from anwang.places.models import Building, Community, Unit, Zone

log = logging.getLogger("anwang.hazards")

DESCRIPTION_MAX: Final = 2000
NOTE_MAX: Final = 2000
ADDRESS_MAX: Final = 200
THUMBNAIL_SIZE: Final = (480, 480)
MAX_DEADLINE: Final = dt.timedelta(days=366)

HAZARD_FIELDS: Final = (
    "category",
    "description",
    "address",
    "latitude",
    "longitude",
    "building",
    "unit",
    "zone",
    "anonymous",
    "status",
    "severity",
    "assignee",
    "deadline",
    "rectified_by",
    "verified_by",
    "verified_at",
    "rejection_reason",
    "escalated_at",
    "closed_at",
)

#: Alarm priority of an overdue hazard, by severity (P1 is kept for emergencies).
OVERDUE_PRIORITY: Final[dict[str, int]] = {
    HazardSeverity.CRITICAL: 2,
    HazardSeverity.HIGH: 2,
    HazardSeverity.MEDIUM: 3,
    HazardSeverity.LOW: 4,
}

#: Roles whose verified reports earn points (staff report as part of their job).
POINT_ROLES: Final = frozenset({Role.RESIDENT, Role.VOLUNTEER})


class HazardInputError(ServiceError, ValidationError):  # type: ignore[misc]
    """Bad input for a hazard: a :class:`ServiceError` for the project's views and API, and a
    Django ``ValidationError`` (with ``message_dict`` on the field) for Open311 and forms."""

    def __init__(
        self, message: str | Promise, *, field: str | None = None, code: str = "invalid"
    ) -> None:
        super().__init__(message, field=field, code=code)
        if field:
            self.error_dict = {field: [ValidationError(str(message), code=code)]}

    def __str__(self) -> str:
        return str(self.message)


def _invalid(error: ServiceError) -> HazardInputError:
    return HazardInputError(error.message, field=error.field, code=error.code)


# --------------------------------------------------------------------------- helpers


def _require_manage(actor: User | None, scope: Scope | None, hazard: Hazard) -> None:
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_HAZARDS,
        community_id=hazard.community_id,
        visible_with=Permission.VIEW_HAZARDS,
    )


def _is_member(actor: User | None, scope: Scope | None, community_id: int) -> bool:
    resolved = service_scope(actor, scope)
    if resolved is None or acts_platform_wide(resolved):
        return True
    return community_id in resolved.community_ids()


def _can_see(actor: User | None, scope: Scope | None, hazard: Hazard) -> bool:
    """Whether the caller may see the report: its community's hazard staff, the reporter, the
    assignee and followers."""
    resolved = service_scope(actor, scope)
    if resolved is None or acts_platform_wide(resolved):
        return True
    if resolved.has(Permission.VIEW_HAZARDS, hazard.community_id):
        return True
    if actor is None or hazard.community_id not in resolved.community_ids():
        return False
    return (
        hazard.reporter_id == actor.pk
        or hazard.assignee_id == actor.pk
        or hazard.followers.filter(user=actor).exists()
    )


def _text(name: str, value: Any, *, limit: int, required: bool = False) -> str:
    try:
        return clean_text(name, value, limit=limit, required=required)
    except ServiceError as error:
        raise _invalid(error) from error


def _at(at: dt.datetime | None) -> dt.datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        raise HazardInputError(_("Give a time with its time zone."), field="at")
    return at


def _coordinate(name: str, value: Any, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise HazardInputError(_("Enter a number."), field=name) from error
    if not math.isfinite(number) or not low <= number <= high:
        raise HazardInputError(
            _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high},
            field=name,
        )
    return number


def _picture(upload: UploadedFile, field: str) -> tuple[bytes, bytes, str]:
    """The cleaned photo, its thumbnail and extension; :class:`HazardInputError` if refused."""
    try:
        content, extension = clean_photo(upload, field=field)
    except ServiceError as error:
        raise _invalid(error) from error
    return content, thumbnail(content, THUMBNAIL_SIZE), extension


def _zone_at(community: Community, latitude: float, longitude: float) -> Zone | None:
    for zone in Zone.objects.filter(community=community).order_by("-is_key_area", "pk"):
        try:
            if geo.contains(zone.geometry, (longitude, latitude)):
                return zone
        except (KeyError, TypeError, ValueError):  # a malformed legacy geometry is skipped
            continue
    return None


def _step(
    hazard: Hazard,
    action: str,
    *,
    actor: User | None,
    at: dt.datetime,
    note: str = "",
    photo: tuple[bytes, str] | None = None,
) -> HazardStep:
    step = HazardStep(
        hazard=hazard, at=at, actor=actor, status=hazard.status, action=action, note=note
    )
    if photo is not None:
        content, extension = photo
        step.photo.save(f"step.{extension}", ContentFile(content), save=False)
    step.save()
    return step


def _audit(
    actor: User | None, action: str, hazard: Hazard, before: dict[str, Any] | None = None
) -> None:
    audit_record(
        actor=actor,
        action=f"hazard.{action}",
        obj=hazard,
        community_id=hazard.community_id,
        changes=diff(before or {}, snapshot(hazard, HAZARD_FIELDS)),
    )


def _lock(hazard: Hazard) -> Hazard:
    return Hazard.objects.select_for_update().get(pk=hazard.pk)


def _require_status(hazard: Hazard, allowed: set[str], what: str | Promise) -> None:
    if hazard.status not in allowed:
        raise ConflictError(
            _("A report that is “%(status)s” cannot be %(what)s.")
            % {"status": hazard.get_status_display(), "what": what},
            code="wrong_status",
        )


def _is_point_earner(user: User, community_id: int) -> bool:
    from anwang.accounts.models import Membership

    return Membership.objects.filter(
        user=user, community_id=community_id, role__in=[role.value for role in POINT_ROLES]
    ).exists()


def _award_points(hazard: Hazard, at: dt.datetime) -> None:
    """Points for a resident's or volunteer's verified report, once per report; an anonymous
    report still earns them, as the reporter is known to the system."""
    from anwang.participation.choices import PointSource
    from anwang.participation.services import points_award

    reporter = hazard.reporter
    if reporter is None or not _is_point_earner(reporter, hazard.community_id):
        return
    points_award(
        community=hazard.community,
        user=reporter,
        source_kind=PointSource.HAZARD_VERIFIED,
        source_key=f"hazard:{hazard.pk}",
        occurred_at=at,
        reason=str(hazard)[:200],
    )


# --------------------------------------------------------------------------- report


@transaction.atomic
def hazard_report(
    *,
    community: Community,
    reporter: User | None,
    category: str,
    description: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    building: Building | None = None,
    unit: Unit | None = None,
    address: str = "",
    photo: UploadedFile | None = None,
    anonymous: bool = False,
    at: dt.datetime | None = None,
) -> Hazard:
    """Record a hazard report with its first step. ``reporter=None`` is an outside report
    (Open311 without an account); a reporter must belong to the community. The location is a
    pin, a building or unit of the community, or an address (at least one of them)."""
    if reporter is not None and not _is_member(reporter, None, community.pk):
        raise Http404
    at = _at(at)
    if category not in HazardCategory.values:
        raise HazardInputError(_("Choose a known category."), field="category")
    text = _text("description", description, limit=DESCRIPTION_MAX)
    place = _text("address", address, limit=ADDRESS_MAX)
    lat: float | None = None
    lon: float | None = None
    if (latitude is None) != (longitude is None):
        raise HazardInputError(
            _("Give both latitude and longitude, or neither."),
            field="latitude" if latitude is None else "longitude",
        )
    if latitude is not None and longitude is not None:
        lat = _coordinate("latitude", latitude, -90.0, 90.0)
        lon = _coordinate("longitude", longitude, -180.0, 180.0)
    if building is not None and building.community_id != community.pk:
        raise HazardInputError(_("Choose a building of this community."), field="building")
    if unit is not None:
        if unit.building.community_id != community.pk:
            raise HazardInputError(_("Choose an entrance of this community."), field="unit")
        if building is not None and unit.building_id != building.pk:
            raise HazardInputError(_("The entrance is not in that building."), field="unit")
        building = unit.building
    if lat is None and building is None and not place:
        raise HazardInputError(
            _("Say where the hazard is: a map pin, a building or an address."),
            field="location",
        )
    picture = _picture(photo, "photo") if photo is not None else None
    hazard = Hazard(
        community=community,
        reported_at=at,
        category=category,
        description=text,
        reporter=reporter,
        anonymous=bool(anonymous) or reporter is None,
        latitude=lat,
        longitude=lon,
        building=building,
        unit=unit,
        zone=_zone_at(community, lat, lon) if lat is not None and lon is not None else None,
        address=place,
        status=HazardStatus.REPORTED,
    )
    if picture is not None:
        content, small, extension = picture
        hazard.photo.save(f"hazard.{extension}", ContentFile(content), save=False)
        hazard.photo_thumbnail.save(f"hazard-thumb.{extension}", ContentFile(small), save=False)
    hazard.save()
    # An anonymous reporter is kept on the report (to follow it and earn points) but not on
    # the timeline or the audit entry, which others read.
    shown = None if hazard.anonymous else reporter
    _step(hazard, StepAction.REPORT, actor=shown, at=at)
    _audit(shown, "report", hazard)
    return hazard


# --------------------------------------------------------------------------- workflow


@transaction.atomic
def hazard_triage(
    *,
    actor: User | None,
    scope: Scope | None = None,
    hazard: Hazard,
    severity: str,
    note: str = "",
    at: dt.datetime | None = None,
) -> Hazard:
    """Set the severity of a new (or re-triage a not yet assigned) report; the deadline
    follows from it (:data:`~anwang.hazards.choices.DEADLINES`)."""
    _require_manage(actor, scope, hazard)
    at = _at(at)
    if severity not in HazardSeverity.values:
        raise HazardInputError(_("Choose a severity."), field="severity")
    text = _text("note", note, limit=NOTE_MAX)
    hazard = _lock(hazard)
    _require_status(hazard, {HazardStatus.REPORTED, HazardStatus.TRIAGED}, _("triaged"))
    before = snapshot(hazard, HAZARD_FIELDS)
    hazard.severity = severity
    hazard.deadline = at + deadline_for(severity)
    hazard.status = HazardStatus.TRIAGED
    hazard.save()
    _step(hazard, StepAction.TRIAGE, actor=actor, at=at, note=text)
    _audit(actor, "triage", hazard, before)
    return hazard


def hazard_default_assignee(hazard: Hazard, *, at: dt.datetime | None = None) -> User | None:
    """Who a report goes to when no one is chosen: the first person the responsibility
    matrix names for its building, else its zone, at ``at`` (default now); ``None`` when
    nobody answers there. Assign forms may offer it as the pre-filled choice."""
    from anwang.responsibilities.selectors import responsible_people

    if hazard.building_id is None and hazard.zone_id is None:
        return None
    people = responsible_people(
        community_id=hazard.community_id,
        zone_id=hazard.zone_id,
        building_id=hazard.building_id,
        at=at or timezone.now(),
    )
    return people[0] if people else None


@transaction.atomic
def hazard_assign(
    *,
    actor: User | None,
    scope: Scope | None = None,
    hazard: Hazard,
    assignee: User | None = None,
    deadline: dt.datetime | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> Hazard:
    """Make a member of the community responsible for rectifying a triaged report, by a
    deadline (by default the severity's, counted from now); reassigning is allowed. Without
    ``assignee`` the report goes to whoever the responsibility matrix names for its place
    (:func:`hazard_default_assignee`)."""
    _require_manage(actor, scope, hazard)
    at = _at(at)
    text = _text("note", note, limit=NOTE_MAX)
    if assignee is None:
        assignee = hazard_default_assignee(hazard, at=at)
        if assignee is None:
            raise HazardInputError(
                _(
                    "Nobody answers for this place in the responsibility matrix; choose the "
                    "responsible person."
                ),
                field="assignee",
            )
    if not _is_member(assignee, None, hazard.community_id) or not assignee.is_active:
        raise HazardInputError(
            _("Choose a member of this community as the responsible person."), field="assignee"
        )
    hazard = _lock(hazard)
    _require_status(hazard, {HazardStatus.TRIAGED, HazardStatus.ASSIGNED}, _("assigned"))
    if deadline is None:
        deadline = at + deadline_for(hazard.severity)
    elif timezone.is_naive(deadline):
        raise HazardInputError(_("Give a time with its time zone."), field="deadline")
    elif deadline <= at:
        raise HazardInputError(_("The deadline must be in the future."), field="deadline")
    elif deadline > at + MAX_DEADLINE:
        raise HazardInputError(_("The deadline is more than a year away."), field="deadline")
    before = snapshot(hazard, HAZARD_FIELDS)
    hazard.assignee = assignee
    if hazard.deadline != deadline:
        hazard.escalated_at = None  # a new deadline may escalate again once it passes
    hazard.deadline = deadline
    hazard.status = HazardStatus.ASSIGNED
    hazard.save()
    _step(hazard, StepAction.ASSIGN, actor=actor, at=at, note=text)
    _audit(actor, "assign", hazard, before)
    _notify_assignee(hazard, at)
    return hazard


def _notify_assignee(hazard: Hazard, at: dt.datetime) -> None:
    """Tell the responsible person through the notification outbox (same transaction)."""
    from anwang.notifications.services import notify

    if hazard.assignee is None:
        return
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Hazard to rectify by %(deadline)s: %(category)s") % {
            "deadline": formats.date_format(
                timezone.localtime(hazard.deadline), "SHORT_DATETIME_FORMAT"
            )
            if hazard.deadline
            else "—",
            "category": hazard.get_category_display(),
        }
    notify(
        recipients=[hazard.assignee],
        kind="hazard.assigned",
        title=title,
        body=hazard.description[:500],
        url=reverse("hazards:detail", args=[hazard.pk]),
        community=hazard.community,
        priority={HazardSeverity.CRITICAL.value: 1, HazardSeverity.HIGH.value: 2}.get(
            hazard.severity, 3
        ),
        source=hazard,
        now=at,
    )


@transaction.atomic
def hazard_rectify(
    *,
    actor: User,
    scope: Scope | None = None,
    hazard: Hazard,
    after_photo: UploadedFile | None,
    note: str = "",
    at: dt.datetime | None = None,
) -> Hazard:
    """Record that the hazard was fixed, with a photo of the result; by the responsible
    person (or a hazard manager)."""
    resolved = service_scope(actor, scope)
    is_assignee = (
        hazard.assignee_id == actor.pk
        and resolved is not None
        and hazard.community_id in resolved.community_ids()
    )
    if not is_assignee:
        _require_manage(actor, scope, hazard)
    at = _at(at)
    text = _text("note", note, limit=NOTE_MAX)
    if after_photo is None:
        raise HazardInputError(_("Add a photo of the rectified place."), field="after_photo")
    content, small, extension = _picture(after_photo, "after_photo")
    hazard = _lock(hazard)
    _require_status(hazard, {HazardStatus.ASSIGNED}, _("marked rectified"))
    before = snapshot(hazard, HAZARD_FIELDS)
    hazard.after_photo.save(f"after.{extension}", ContentFile(content), save=False)
    hazard.after_photo_thumbnail.save(f"after-thumb.{extension}", ContentFile(small), save=False)
    hazard.rectified_by = actor
    hazard.status = HazardStatus.RECTIFIED
    hazard.save()
    _step(hazard, StepAction.RECTIFY, actor=actor, at=at, note=text)
    _audit(actor, "rectify", hazard, before)
    return hazard


@transaction.atomic
def hazard_verify(
    *,
    actor: User,
    scope: Scope | None = None,
    hazard: Hazard,
    passed: bool = True,
    note: str = "",
    at: dt.datetime | None = None,
) -> Hazard:
    """Check a rectification, by someone other than who did it: passed, the report is verified
    (and a resident's or volunteer's report earns points); failed, it goes back to the
    responsible person with a note saying why."""
    _require_manage(actor, scope, hazard)
    at = _at(at)
    text = _text("note", note, limit=NOTE_MAX, required=not passed)
    hazard = _lock(hazard)
    _require_status(hazard, {HazardStatus.RECTIFIED}, _("verified"))
    if hazard.rectified_by_id == actor.pk:
        raise ConflictError(
            _("Someone other than the person who rectified it must verify it."),
            code="same_person",
        )
    before = snapshot(hazard, HAZARD_FIELDS)
    if passed:
        hazard.status = HazardStatus.VERIFIED
        hazard.verified_by = actor
        hazard.verified_at = at
        hazard.save()
        _step(hazard, StepAction.VERIFY, actor=actor, at=at, note=text)
        _audit(actor, "verify", hazard, before)
        _award_points(hazard, at)
    else:
        hazard.status = HazardStatus.ASSIGNED
        hazard.rectified_by = None
        hazard.save()
        _step(hazard, StepAction.SEND_BACK, actor=actor, at=at, note=text)
        _audit(actor, "send_back", hazard, before)
    return hazard


@transaction.atomic
def hazard_close(
    *,
    actor: User | None,
    scope: Scope | None = None,
    hazard: Hazard,
    note: str = "",
    at: dt.datetime | None = None,
) -> Hazard:
    """Close a verified report: the work is done and the reporter sees it closed."""
    _require_manage(actor, scope, hazard)
    at = _at(at)
    text = _text("note", note, limit=NOTE_MAX)
    hazard = _lock(hazard)
    _require_status(hazard, {HazardStatus.VERIFIED}, _("closed"))
    before = snapshot(hazard, HAZARD_FIELDS)
    hazard.status = HazardStatus.CLOSED
    hazard.closed_at = at
    hazard.save()
    _step(hazard, StepAction.CLOSE, actor=actor, at=at, note=text)
    _audit(actor, "close", hazard, before)
    _award_points(hazard, at)  # idempotent: a no-op after the verification's award
    return hazard


@transaction.atomic
def hazard_reject(
    *,
    actor: User | None,
    scope: Scope | None = None,
    hazard: Hazard,
    reason: str,
    at: dt.datetime | None = None,
) -> Hazard:
    """Turn down a report that needs no work (a duplicate, not a hazard, not ours), saying
    why; the reporter sees the reason."""
    _require_manage(actor, scope, hazard)
    at = _at(at)
    text = _text("reason", reason, limit=NOTE_MAX, required=True)
    hazard = _lock(hazard)
    _require_status(
        hazard,
        {HazardStatus.REPORTED, HazardStatus.TRIAGED, HazardStatus.ASSIGNED},
        _("rejected"),
    )
    before = snapshot(hazard, HAZARD_FIELDS)
    hazard.status = HazardStatus.REJECTED
    hazard.rejection_reason = text
    hazard.closed_at = at
    hazard.save()
    _step(hazard, StepAction.REJECT, actor=actor, at=at, note=text)
    _audit(actor, "reject", hazard, before)
    return hazard


@transaction.atomic
def hazard_comment(
    *,
    actor: User,
    scope: Scope | None = None,
    hazard: Hazard,
    note: str = "",
    photo: UploadedFile | None = None,
    at: dt.datetime | None = None,
) -> HazardStep:
    """Add a comment or an extra photo to a report's timeline: by the reporter, a follower, the
    responsible person or the community's hazard staff."""
    if not _can_see(actor, scope, hazard):
        raise Http404
    at = _at(at)
    text = _text("note", note, limit=NOTE_MAX, required=photo is None)
    picture = _picture(photo, "photo") if photo is not None else None
    # Any status: a reporter may still add to a closed report.
    hazard = _lock(hazard)
    return _step(
        hazard,
        StepAction.COMMENT,
        actor=actor,
        at=at,
        note=text,
        photo=(picture[0], picture[2]) if picture is not None else None,
    )


@transaction.atomic
def hazard_follow(
    *,
    actor: User,
    scope: Scope | None = None,
    hazard: Hazard,
    at: dt.datetime | None = None,
) -> HazardFollower:
    """Follow an open report of one's community (instead of reporting it again); following
    twice keeps the first."""
    from anwang.hazards.choices import OPEN_STATUSES

    if not _is_member(actor, scope, hazard.community_id):
        raise Http404
    at = _at(at)
    existing = HazardFollower.objects.filter(hazard=hazard, user=actor).first()
    if existing is not None:
        return existing
    if hazard.status not in OPEN_STATUSES:
        raise ConflictError(_("This report is finished; it cannot be followed."))
    try:
        with transaction.atomic():
            follower = HazardFollower.objects.create(hazard=hazard, user=actor, followed_at=at)
    except IntegrityError:
        return HazardFollower.objects.get(hazard=hazard, user=actor)
    _step(hazard, StepAction.FOLLOW, actor=None, at=at)  # who follows is not shown to others
    return follower


# --------------------------------------------------------------------------- escalation


def overdue_source_key(hazard: Hazard) -> str:
    """The alarm source key of an overdue hazard (one alarm per report)."""
    return f"hazard-overdue:{hazard.pk}"


def hazards_overdue_check(*, now: dt.datetime | None = None) -> int:
    """Raise one alarm for each report past its deadline and not yet escalated, and mark it
    escalated with a step (the worker calls this about every 30 s); returns how many."""
    now = now or timezone.now()
    # The (status, deadline) index answers this; usually nothing is due and it costs one query.
    due = list(
        Hazard.objects.filter(
            status__in=DEADLINE_STATUSES, deadline__lt=now, escalated_at__isnull=True
        )
        .order_by("deadline", "pk")
        .values_list("pk", flat=True)[:200]
    )
    raised = 0
    for hazard_id in due:
        try:
            raised += _escalate(hazard_id, now)
        except ServiceError as error:
            # One report the alarm refuses must not hold up the others behind it.
            log.warning("Hazard %s could not be escalated: %s", hazard_id, error.message)
    return raised


def _escalate(hazard_id: int, now: dt.datetime) -> int:
    """Escalate one overdue report (under its lock); 1 if an alarm was raised."""
    from anwang.alarms.services import alarm_raise_system

    with transaction.atomic():
        # Only the report's own row is locked (``of``): PostgreSQL cannot lock the
        # nullable side of the joins that fetch its zone and assignee.
        hazard = (
            Hazard.objects.select_for_update(of=("self",))
            .select_related("community", "zone", "assignee")
            .get(pk=hazard_id)
        )
        # Checked again under the lock: a concurrent check or a rectification won.
        if (
            hazard.escalated_at is not None
            or hazard.status not in DEADLINE_STATUSES
            or hazard.deadline is None
            or hazard.deadline >= now
        ):
            return 0
        alarm = alarm_raise_system(
            community=hazard.community,
            source_key=overdue_source_key(hazard),
            priority=OVERDUE_PRIORITY.get(hazard.severity, 3),
            title=_("Hazard report #%(id)d (%(category)s) is past its deadline")
            % {"id": hazard.pk, "category": hazard.get_category_display()},
            note=str(hazard.assignee or ""),
            zone=hazard.zone,
            data={"hazard": hazard.pk, "deadline": hazard.deadline.isoformat()},
        )
        before = snapshot(hazard, HAZARD_FIELDS)
        hazard.escalated_at = now
        hazard.save(update_fields=["escalated_at", "updated_at"])
        _step(hazard, StepAction.ESCALATE, actor=None, at=now)
        _audit(None, "escalate", hazard, before)
        return int(alarm is not None)
