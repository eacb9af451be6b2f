"""Reads of the training domain, already scoped to what the caller may see.

People holding :attr:`Permission.VIEW_TRAINING` see the courses, sessions, certificates and
drills of their communities; everyone sees their own attendance and certificates. A ``*_get``
of an object the caller cannot see raises :class:`Http404`.

:func:`training_status_for` answers, for one person in one community, where they stand on each
course their roles require (current, expiring soon, lapsed or missing); other apps may use it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import Membership, User
from anwang.accounts.roles import COMMUNITY_STAFF_ROLES
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.core.dashboard import Stat
from anwang.core.inbox import WorkItem
from anwang.places.models import Community
from anwang.training.choices import CertificateState, SessionStatus, TrainingState
from anwang.training.models import (
    Attendance,
    Certificate,
    Course,
    Drill,
    DrillFinding,
    TrainingSession,
)

VIEW = Permission.VIEW_TRAINING
MANAGE = Permission.MANAGE_TRAINING
EXPIRY_WINDOW_DAYS = 30
"""Certificates expiring within this many days count as 'expiring soon' unless asked otherwise."""


def can_view(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may see the training records of a community."""
    return acts_platform_wide(scope) or scope.has(VIEW, community_id)


def can_manage(scope: Scope, community_id: int | None) -> bool:
    """Whether the caller may run courses, sessions and drills in a community."""
    return acts_platform_wide(scope) or scope.has(MANAGE, community_id)


def _visible_ids(scope: Scope) -> set[int] | None:
    """Communities whose training the caller sees (``None``: all, platform-wide)."""
    if acts_platform_wide(scope):
        return None
    return scope.community_ids(VIEW)


def _scoped(queryset: QuerySet[Course], scope: Scope) -> QuerySet[Course]:
    ids = _visible_ids(scope)
    return queryset if ids is None else queryset.filter(community_id__in=ids)


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


# --------------------------------------------------------------------------- courses


def course_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    q: str | None = None,
    topic: str | None = None,
    include_inactive: bool = True,
) -> QuerySet[Course]:
    """Courses the caller may see, each with ``session_count``."""
    courses = _scoped(Course.objects.all(), scope).select_related("community")
    if community_id is not None:
        courses = courses.filter(community_id=community_id)
    if topic:
        courses = courses.filter(topic=topic)
    if not include_inactive:
        courses = courses.filter(is_active=True)
    text = (q or "").strip()
    if text:
        courses = courses.filter(Q(title__icontains=text) | Q(description__icontains=text))
    return courses.annotate(session_count=Count("sessions")).order_by(
        "community__name", "title", "id"
    )


def course_get(scope: Scope, course_id: int) -> Course:
    """One visible course."""
    found = course_list(scope).filter(pk=course_id).first()
    if found is None:
        raise Http404
    return found


# --------------------------------------------------------------------------- sessions


def session_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    course_id: int | None = None,
    status: str | None = None,
    upcoming: bool = False,
) -> QuerySet[TrainingSession]:
    """Sessions the caller may see, newest first, each with ``attendee_count``."""
    sessions = TrainingSession.objects.all()
    ids = _visible_ids(scope)
    if ids is not None:
        sessions = sessions.filter(community_id__in=ids)
    if community_id is not None:
        sessions = sessions.filter(community_id=community_id)
    if course_id is not None:
        sessions = sessions.filter(course_id=course_id)
    if status:
        sessions = sessions.filter(status=status)
    if upcoming:
        sessions = sessions.filter(ends_at__gte=timezone.now(), status=SessionStatus.SCHEDULED)
    return (
        sessions.select_related("course", "community", "zone")
        .annotate(attendee_count=Count("attendances"))
        .order_by("-starts_at", "-id")
    )


def session_get(scope: Scope, session_id: int) -> TrainingSession:
    """One visible session."""
    found = session_list(scope).filter(pk=session_id).first()
    if found is None:
        raise Http404
    return found


def session_attendance(scope: Scope, session: TrainingSession) -> QuerySet[Attendance]:
    """Who attended a visible session, in the order they came, with whether a certificate of
    the session was issued to them (``has_certificate``)."""
    if not can_view(scope, session.community_id):
        raise Http404
    issued = Certificate.objects.filter(session=session).values_list("user_id", flat=True)
    return (
        Attendance.objects.filter(session=session)
        .select_related("user", "recorded_by")
        .annotate(has_certificate=Count("pk", filter=Q(user_id__in=issued)))
        .order_by("recorded_at", "id")
    )


def attendance_get(scope: Scope, attendance_id: int) -> Attendance:
    """One attendance of a session the caller may see."""
    attendances = Attendance.objects.select_related("session", "session__course", "user")
    ids = _visible_ids(scope)
    if ids is not None:
        attendances = attendances.filter(session__community_id__in=ids)
    found = attendances.filter(pk=attendance_id).first()
    if found is None:
        raise Http404
    return found


def my_attendance(scope: Scope) -> QuerySet[Attendance]:
    """The caller's own attendances (in the communities the scope covers), newest first."""
    if scope.user is None:
        return Attendance.objects.none()
    return (
        Attendance.objects.filter(user=scope.user, session__community_id__in=scope.community_ids())
        .select_related("session", "session__course", "session__community")
        .order_by("-session__starts_at", "-id")
    )


def community_members(community_id: int) -> QuerySet[User]:
    """People holding any role in a community, by name (for choosing attendees, owners)."""
    return (
        User.objects.filter(memberships__community_id=community_id, is_active=True)
        .distinct()
        .order_by("display_name", "username")
    )


# --------------------------------------------------------------------------- certificates


def certificate_state(
    certificate: Certificate, today: dt.date | None = None, window_days: int = EXPIRY_WINDOW_DAYS
) -> CertificateState:
    """Whether a certificate is current, expiring within ``window_days``, lapsed or revoked."""
    day = _today(today)
    if certificate.revoked_at is not None:
        return CertificateState.REVOKED
    if certificate.expires_on is None:
        return CertificateState.CURRENT
    if certificate.expires_on < day:
        return CertificateState.LAPSED
    if certificate.expires_on <= day + dt.timedelta(days=window_days):
        return CertificateState.EXPIRING
    return CertificateState.CURRENT


def _state_filter(state: str, day: dt.date, window_days: int) -> Q:
    soon = day + dt.timedelta(days=window_days)
    valid = Q(revoked_at__isnull=True)
    if state == CertificateState.LAPSED:
        return valid & Q(expires_on__lt=day)
    if state == CertificateState.EXPIRING:
        return valid & Q(expires_on__gte=day, expires_on__lte=soon)
    if state == CertificateState.CURRENT:
        return valid & (Q(expires_on__isnull=True) | Q(expires_on__gt=soon))
    if state == CertificateState.REVOKED:
        return Q(revoked_at__isnull=False)
    return Q()


def certificate_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    course_id: int | None = None,
    user_id: int | None = None,
    state: str | None = None,
    window_days: int = EXPIRY_WINDOW_DAYS,
    today: dt.date | None = None,
) -> QuerySet[Certificate]:
    """Certificates the caller may see (their communities' with the view permission, and their
    own), soonest expiring first; ``state`` keeps only current, expiring (within
    ``window_days``), lapsed or revoked ones."""
    certificates = Certificate.objects.all()
    ids = _visible_ids(scope)
    if ids is not None:
        own = Q(user=scope.user, community_id__in=scope.community_ids()) if scope.user else Q()
        visible = Q(community_id__in=ids)
        certificates = certificates.filter(visible | own if scope.user else visible)
    if community_id is not None:
        certificates = certificates.filter(community_id=community_id)
    if course_id is not None:
        certificates = certificates.filter(course_id=course_id)
    if user_id is not None:
        certificates = certificates.filter(user_id=user_id)
    if state:
        certificates = certificates.filter(_state_filter(state, _today(today), window_days))
    return certificates.select_related("course", "user", "community", "session").order_by(
        "revoked_at", "expires_on", "-issued_on", "id"
    )


def certificate_get(scope: Scope, certificate_id: int) -> Certificate:
    """One certificate the caller may see (their own, or their communities')."""
    found = certificate_list(scope).filter(pk=certificate_id).first()
    if found is None:
        raise Http404
    return found


def my_certificates(scope: Scope) -> QuerySet[Certificate]:
    """The caller's own certificates (in the communities the scope covers)."""
    if scope.user is None:
        return Certificate.objects.none()
    return (
        Certificate.objects.filter(user=scope.user, community_id__in=scope.community_ids())
        .select_related("course", "community")
        .order_by("revoked_at", "expires_on", "-issued_on", "id")
    )


# --------------------------------------------------------------------------- training status


@dataclass(frozen=True)
class TrainingStatusRow:
    """Where a person stands on one course required for one of their roles."""

    course: Course
    state: TrainingState
    certificate: Certificate | None
    valid_until: dt.date | None
    roles: tuple[Role, ...]

    @property
    def is_ok(self) -> bool:
        """Whether the person may work as their role needs (current or expiring soon)."""
        return self.state in (TrainingState.CURRENT, TrainingState.EXPIRING)


def _roles_of(user: User, community_id: int) -> set[Role]:
    return {
        Role(role)
        for role in Membership.objects.filter(user=user, community_id=community_id).values_list(
            "role", flat=True
        )
    }


def _status_rows(
    courses: Iterable[Course],
    roles: set[Role],
    certificates: Iterable[Certificate],
    day: dt.date,
    window_days: int,
) -> list[TrainingStatusRow]:
    best: dict[int, Certificate] = {}
    for certificate in certificates:
        if certificate.revoked_at is not None:
            continue
        held = best.get(certificate.course_id)
        # The certificate lasting longest decides (no expiry beats any date).
        if held is None or (
            held.expires_on is not None
            and (certificate.expires_on is None or certificate.expires_on > held.expires_on)
        ):
            best[certificate.course_id] = certificate
    rows: list[TrainingStatusRow] = []
    for course in courses:
        needed_by = tuple(sorted(Role(r) for r in course.required_for_roles if r in roles))
        if not needed_by:
            continue
        held = best.get(course.pk)
        if held is None:
            rows.append(TrainingStatusRow(course, TrainingState.MISSING, None, None, needed_by))
            continue
        state = TrainingState(certificate_state(held, day, window_days).value)
        rows.append(TrainingStatusRow(course, state, held, held.expires_on, needed_by))
    return rows


def training_status_for(
    user: User,
    community: Community,
    *,
    today: dt.date | None = None,
    window_days: int = EXPIRY_WINDOW_DAYS,
) -> list[TrainingStatusRow]:
    """For each active course of ``community`` required for one of ``user``'s roles there: the
    state of their best certificate (current, expiring within ``window_days``, lapsed) or
    missing. Unscoped: callers check that the asker may see ``user``'s training."""
    roles = _roles_of(user, community.pk)
    if not roles:
        return []
    courses = Course.objects.filter(community=community, is_active=True).order_by("title", "id")
    certificates = Certificate.objects.filter(user=user, community=community)
    return _status_rows(courses, roles, certificates, _today(today), window_days)


def person_training_status(
    scope: Scope, user_id: int, community_id: int, *, today: dt.date | None = None
) -> tuple[User, Community, list[TrainingStatusRow]]:
    """A person's training status in a community, for the person themself or someone who may
    see the community's training; 404 otherwise."""
    community = Community.objects.filter(pk=community_id).first()
    if community is None:
        raise Http404
    own = scope.user is not None and scope.user.pk == user_id
    if not (can_view(scope, community_id) or (own and community_id in scope.community_ids())):
        raise Http404
    user = User.objects.filter(pk=user_id, memberships__community_id=community_id).first()
    if user is None:
        raise Http404
    return user, community, training_status_for(user, community, today=today)


@dataclass(frozen=True)
class StaffTrainingSummary:
    """One staff member of a community and how many required courses are in each state."""

    user: User
    roles: tuple[Role, ...]
    current: int
    expiring: int
    lapsed: int
    missing: int

    @property
    def is_ok(self) -> bool:
        """Whether nothing required is lapsed or missing."""
        return self.lapsed == 0 and self.missing == 0


def staff_training_overview(
    scope: Scope, community_id: int, *, today: dt.date | None = None
) -> list[StaffTrainingSummary]:
    """Every staff member and volunteer of a community with the state of their required
    training, people with gaps first; needs the view permission there."""
    if not can_view(scope, community_id):
        raise Http404
    memberships = Membership.objects.filter(
        community_id=community_id, role__in=[role.value for role in COMMUNITY_STAFF_ROLES]
    ).select_related("user")
    roles_by_user: dict[int, set[Role]] = {}
    users: dict[int, User] = {}
    for membership in memberships:
        roles_by_user.setdefault(membership.user_id, set()).add(Role(membership.role))
        users[membership.user_id] = membership.user
    courses = list(
        Course.objects.filter(community_id=community_id, is_active=True).order_by("title", "id")
    )
    certificates: dict[int, list[Certificate]] = {}
    for certificate in Certificate.objects.filter(
        community_id=community_id, user_id__in=list(users)
    ):
        certificates.setdefault(certificate.user_id, []).append(certificate)
    day = _today(today)
    summaries: list[StaffTrainingSummary] = []
    for user_id, user in users.items():
        rows = _status_rows(
            courses, roles_by_user[user_id], certificates.get(user_id, []), day, EXPIRY_WINDOW_DAYS
        )
        counts = dict.fromkeys(TrainingState, 0)
        for row in rows:
            counts[row.state] += 1
        summaries.append(
            StaffTrainingSummary(
                user=user,
                roles=tuple(sorted(roles_by_user[user_id])),
                current=counts[TrainingState.CURRENT],
                expiring=counts[TrainingState.EXPIRING],
                lapsed=counts[TrainingState.LAPSED],
                missing=counts[TrainingState.MISSING],
            )
        )
    return sorted(
        summaries,
        key=lambda s: (s.is_ok, -(s.lapsed + s.missing), -s.expiring, s.user.username),
    )


# --------------------------------------------------------------------------- drills


def drill_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> QuerySet[Drill]:
    """Drills the caller may see, newest first, with ``participant_count`` and
    ``open_finding_count``."""
    drills = Drill.objects.all()
    ids = _visible_ids(scope)
    if ids is not None:
        drills = drills.filter(community_id__in=ids)
    if community_id is not None:
        drills = drills.filter(community_id=community_id)
    if kind:
        drills = drills.filter(kind=kind)
    if status:
        drills = drills.filter(status=status)
    return (
        drills.select_related("community", "zone")
        .annotate(
            participant_count=Count("participants", distinct=True),
            open_finding_count=Count(
                "findings", filter=Q(findings__closed_at__isnull=True), distinct=True
            ),
        )
        .order_by("-planned_at", "-id")
    )


def drill_get(scope: Scope, drill_id: int) -> Drill:
    """One visible drill."""
    found = drill_list(scope).filter(pk=drill_id).first()
    if found is None:
        raise Http404
    return found


def drill_participants(scope: Scope, drill: Drill) -> QuerySet[User]:
    """Who took part in a visible drill."""
    if not can_view(scope, drill.community_id):
        raise Http404
    return drill.participants.order_by("display_name", "username")


def finding_list(
    scope: Scope,
    *,
    drill_id: int | None = None,
    community_id: int | None = None,
    open_only: bool = False,
) -> QuerySet[DrillFinding]:
    """Drill findings the caller may see, open ones and earliest deadlines first."""
    findings = DrillFinding.objects.all()
    ids = _visible_ids(scope)
    if ids is not None:
        findings = findings.filter(community_id__in=ids)
    if drill_id is not None:
        findings = findings.filter(drill_id=drill_id)
    if community_id is not None:
        findings = findings.filter(community_id=community_id)
    if open_only:
        findings = findings.filter(closed_at__isnull=True)
    return findings.select_related("drill", "owner").order_by(
        "closed_at", "deadline", "-severity", "id"
    )


def finding_get(scope: Scope, finding_id: int) -> DrillFinding:
    """One visible drill finding."""
    found = finding_list(scope).filter(pk=finding_id).first()
    if found is None:
        raise Http404
    return found


# --------------------------------------------------------------------------- inbox, dashboard


def certificate_work_items(scope: Scope) -> list[WorkItem]:
    """'My work' items: for training managers, certificates of their communities expiring
    within the window or lapsed in it (renewal due); for everyone, their own."""
    if scope.user is None:
        return []
    day = timezone.localdate()
    window = dt.timedelta(days=EXPIRY_WINDOW_DAYS)
    due = Q(revoked_at__isnull=True, expires_on__gte=day - window, expires_on__lte=day + window)
    managed = scope.community_ids(MANAGE)
    own = Q(user=scope.user, community_id__in=scope.community_ids())
    certificates = (
        Certificate.objects.filter(due & (Q(community_id__in=managed) | own))
        .select_related("course", "user", "community")
        .order_by("expires_on", "id")[:50]
    )
    items: list[WorkItem] = []
    for certificate in certificates:
        assert certificate.expires_on is not None
        expires = dt.datetime.combine(
            certificate.expires_on, dt.time(23, 59), tzinfo=timezone.get_current_timezone()
        )
        lapsed = certificate.expires_on < day
        mine = certificate.user_id == scope.user.pk
        if mine:
            title = (
                _("Your “%(course)s” certificate has lapsed: renew it")
                if lapsed
                else _("Your “%(course)s” certificate expires soon: renew it")
            ) % {"course": certificate.course.title}
        else:
            title = (
                _("%(person)s's “%(course)s” certificate has lapsed")
                if lapsed
                else _("%(person)s's “%(course)s” certificate expires soon")
            ) % {"person": certificate.user, "course": certificate.course.title}
        items.append(
            WorkItem(
                source="training",
                title=title,
                url=reverse("training:certificate_detail", args=[certificate.pk]),
                community_id=certificate.community_id,
                due_at=expires,
                priority=2 if lapsed else 3,
                detail=certificate.community.name,
            )
        )
    return items


def training_stats(scope: Scope, community: Community | None) -> list[Stat]:
    """Dashboard figures: certificates expiring within the window and lapsed, upcoming
    sessions and open drill findings, for people who may see training."""
    ids = _visible_ids(scope)
    if ids is not None and not ids:
        return []
    day = timezone.localdate()
    certificates = Certificate.objects.all()
    sessions = TrainingSession.objects.filter(
        status=SessionStatus.SCHEDULED, ends_at__gte=timezone.now()
    )
    findings = DrillFinding.objects.filter(closed_at__isnull=True)
    if community is not None:
        if not can_view(scope, community.pk):
            return []
        certificates = certificates.filter(community=community)
        sessions = sessions.filter(community=community)
        findings = findings.filter(community=community)
    elif ids is not None:
        certificates = certificates.filter(community_id__in=ids)
        sessions = sessions.filter(community_id__in=ids)
        findings = findings.filter(community_id__in=ids)
    counts = certificates.aggregate(
        expiring=Count("pk", filter=_state_filter(CertificateState.EXPIRING, day, 30)),
        lapsed=Count(
            "pk",
            filter=_state_filter(CertificateState.LAPSED, day, 30)
            & Q(expires_on__gte=day - dt.timedelta(days=365)),
        ),
    )
    certificates_url = reverse("training:certificate_list")
    return [
        Stat(
            "training_expiring",
            _("Certificates expiring within 30 days"),
            counts["expiring"],
            f"{certificates_url}?state=expiring",
            "warn" if counts["expiring"] else "",
        ),
        Stat(
            "training_lapsed",
            _("Certificates lapsed in the last year"),
            counts["lapsed"],
            f"{certificates_url}?state=lapsed",
            "warn" if counts["lapsed"] else "",
        ),
        Stat(
            "training_sessions",
            _("Upcoming training sessions"),
            sessions.count(),
            reverse("training:session_list"),
        ),
        Stat(
            "drill_findings",
            _("Open drill findings"),
            findings.count(),
            reverse("training:drill_list"),
            "warn" if findings.exists() else "",
        ),
    ]
