"""Writes of welfare checks: enrolling a consenting resident, changing, pausing and ending the
enrolment, the worker's periodic check that opens, resumes and escalates checks, and closing
and reassigning a check.

Rules kept here (how activity, silence, threshold and baseline are measured is in
:mod:`anwang.welfare.selectors`):

* **Consent.** An enrolment rests on the resident's welfare consent in force
  (:class:`anwang.access.models.ConsentRecord` of kind ``welfare``): the one given, the one in
  force, or one recorded on the spot with ``consent_how`` (how it was given). Withdrawing it
  ends the enrolment (:mod:`anwang.welfare.receivers`). A resident has one enrolment row:
  enrolling again after it ended starts the same row again (its past checks stay with it).
* **Opening** (the worker, every minute): an enrolment not ended, not paused and without an
  open check, silent for at least its threshold, gets a check: assigned to the enrolment's
  volunteer or grid worker, else the grid worker of the grid of the resident's building, to be
  closed before ``escalate_after_minutes``. The assignee is told (urgent); with nobody to
  assign, the community's welfare managers are.
* **Resumed.** Activity after the check's ``quiet_since`` closes it with outcome ``resumed``
  (``closed_by`` empty) and tells the assignee (and, after an escalation, the managers and the
  family contact by SMS) that it is no longer needed.
* **Escalation.** A check still open at ``escalate_at`` is escalated once: the family contact
  gets an SMS and a call with the resident's name and the community's phone, nothing more; the
  managers and the assignee are told. Not while the enrolment is paused (the person is known
  to be away; the assignee closes the check as ``away``).
* **Closing.** The assignee or a welfare manager closes a check with an outcome (not
  ``resumed``, which is the job's); a note is required for ``needed_help`` and ``emergency``.
  Silence then counts from the close. After an escalation, a close as safe or away texts the
  family contact that the person was reached.
* **Ending** an enrolment closes its open check without an outcome (neither a false alarm nor
  a real one in the report), with a note, and tells the assignee; the consent may be
  withdrawn with it.
* **Pausing** (a trip, a stay in hospital) until a time at most :data:`PAUSE_MAX` ahead: no
  checks open until then, and silence counts from the pause's end. Resuming early sets the end
  to now.

Who may do what: :attr:`Permission.MANAGE_WELFARE` in the resident's community (community
admins, grid workers) writes; holders of :attr:`Permission.VIEW_WELFARE` get 403, everyone
else 404. A check's assignee may also close it. ``actor`` and ``scope`` both ``None`` is the
system.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from anwang.access.choices import ConsentKind
from anwang.access.models import ConsentRecord
from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, acts_platform_wide, authorize, service_scope
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.validation import clean_text, service_now
from anwang.devices.models import Device
from anwang.people.models import EmergencyContact, Resident
from anwang.welfare import selectors
from anwang.welfare.choices import FALSE_ALARM_OUTCOMES, CheckOutcome, CheckStatus
from anwang.welfare.models import WelfareCheck, WelfareWatch

log = logging.getLogger(__name__)

QUIET_HOURS_MIN: Final = 1
QUIET_HOURS_MAX: Final = 168
ESCALATE_MINUTES_MIN: Final = 10
ESCALATE_MINUTES_MAX: Final = 24 * 60
PAUSE_MAX: Final = dt.timedelta(days=90)
NOTE_MAX: Final = 2000
HOW_MAX: Final = 200
BASELINE_REFRESH: Final = dt.timedelta(days=1)
"""How often the job learns an enrolment's baseline again."""

CLOSE_OUTCOMES: Final = (
    CheckOutcome.SAFE,
    CheckOutcome.AWAY,
    CheckOutcome.NEEDED_HELP,
    CheckOutcome.EMERGENCY,
)
"""Outcomes a person closes a check with (``resumed`` is the job's)."""
NOTE_REQUIRED: Final = frozenset({CheckOutcome.NEEDED_HELP, CheckOutcome.EMERGENCY})

WATCH_FIELDS: Final = (
    "resident",
    "consent",
    "enrolled_at",
    "quiet_hours",
    "use_baseline",
    "assignee",
    "escalate_after_minutes",
    "family_contact",
    "paused_until",
    "ended_at",
)
CHECK_FIELDS: Final = (
    "status",
    "outcome",
    "assignee",
    "escalated_at",
    "closed_at",
    "closed_by",
)


@dataclass
class WelfareRunReport:
    """What one run of the worker's welfare check did."""

    opened: int = 0
    resumed: int = 0
    escalated: int = 0
    baselines_updated: int = 0


# --------------------------------------------------------------------------- helpers


def _require_manage(actor: User | None, scope: Scope | None, community_id: int) -> None:
    authorize(
        actor=actor,
        scope=scope,
        permission=Permission.MANAGE_WELFARE,
        community_id=community_id,
        visible_with=Permission.VIEW_WELFARE,
    )


def _audit(
    actor: User | None,
    action: str,
    obj: Any,
    community_id: int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    audit_record(
        actor=actor,
        action=f"welfare.{action}",
        obj=obj,
        community_id=community_id,
        changes=diff(before or {}, after or {}),
    )


def _int_in(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ServiceError(_("Enter a whole number."), field=name)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ServiceError(_("Enter a whole number."), field=name) from None
    if number != value and not isinstance(value, str):
        raise ServiceError(_("Enter a whole number."), field=name)
    if not low <= number <= high:
        raise ServiceError(
            _("Enter a number between %(low)s and %(high)s.") % {"low": low, "high": high},
            field=name,
        )
    return number


def _check_assignee(assignee: User | None, community_id: int) -> User | None:
    if assignee is None:
        return None
    if not selectors.assignable_users(community_id).filter(pk=assignee.pk).exists():
        # No name in the message: an API caller may pass any user id.
        raise ServiceError(
            _("Choose a volunteer, grid worker or community admin of this community."),
            field="assignee",
        )
    return assignee


def _check_contact(contact: EmergencyContact | None, resident: Resident) -> EmergencyContact | None:
    if contact is None:
        return None
    if contact.resident_id != resident.pk:
        raise ServiceError(
            _("Choose one of this resident's emergency contacts."), field="family_contact"
        )
    return contact


def _check_devices(devices: Iterable[Device | int], community_id: int) -> list[Device]:
    ids = {device.pk if isinstance(device, Device) else device for device in devices or ()}
    if not ids:
        return []
    try:
        found = list(Device.objects.filter(pk__in=ids, community_id=community_id))
    except (TypeError, ValueError):
        found = []
    if len(found) != len(ids):
        raise ServiceError(_("Choose sensors of this community."), field="devices")
    return found


def _settings(
    *,
    resident: Resident,
    quiet_hours: Any,
    use_baseline: Any,
    assignee: User | None,
    escalate_after_minutes: Any,
    family_contact: EmergencyContact | None,
    devices: Iterable[Device | int],
) -> tuple[dict[str, Any], list[Device]]:
    values = {
        "quiet_hours": _int_in("quiet_hours", quiet_hours, QUIET_HOURS_MIN, QUIET_HOURS_MAX),
        "use_baseline": bool(use_baseline),
        "assignee": _check_assignee(assignee, resident.community_id),
        "escalate_after_minutes": _int_in(
            "escalate_after_minutes",
            escalate_after_minutes,
            ESCALATE_MINUTES_MIN,
            ESCALATE_MINUTES_MAX,
        ),
        "family_contact": _check_contact(family_contact, resident),
    }
    return values, _check_devices(devices, resident.community_id)


def _watch_snapshot(watch: WelfareWatch) -> dict[str, Any]:
    state = snapshot(watch, WATCH_FIELDS)
    state["devices"] = sorted(watch.devices.values_list("pk", flat=True)) if watch.pk else []
    return state


def _lock_watch(watch: WelfareWatch) -> WelfareWatch:
    return WelfareWatch.objects.select_for_update().get(pk=watch.pk)


def _refresh(target: Any, source: Any, fields: Iterable[str]) -> None:
    """Copy saved values onto the caller's instance, so it sees what was written."""
    for name in fields:
        setattr(target, name, getattr(source, name))


def _recipients(*users: User | None) -> list[User]:
    return [user for user in users if user is not None and user.is_active]


def _check_url(check: WelfareCheck) -> str:
    return reverse("welfare:check", args=[check.pk])


def _tell(
    *,
    recipients: Iterable[User],
    kind: str,
    title: str,
    body: str,
    check: WelfareCheck,
    at: dt.datetime,
    urgent: bool,
    actor: User | None = None,
) -> None:
    from anwang.notifications.services import notify

    people = list(recipients)
    if not people:
        return
    notify(
        recipients=people,
        kind=kind,
        title=title,
        body=body,
        url=_check_url(check),
        community=check.community,
        priority=2 if urgent else 3,
        urgent=urgent,
        source=check,
        data={"welfare_check": check.pk, "welfare_watch": check.watch_id},
        actor=actor,
        now=at,
    )


def _text_family(
    check: WelfareCheck, contact: EmergencyContact | None, text: str, *, call: bool, at: dt.datetime
) -> None:
    """An SMS (and a call) to the family contact's number: short, no detail beyond the name
    and whom to call."""
    from anwang.notifications.services import notify

    if contact is None:
        return
    notify(
        recipients=[],
        kind="welfare.family",
        title=text,
        body=text,
        community=check.community,
        priority=2,
        urgent=True,
        source=check,
        data={"welfare_check": check.pk},
        channels=["sms", "voice"] if call else ["sms"],
        contacts_by_phone=[contact],
        now=at,
    )


def _community_phone(check: WelfareCheck) -> str:
    community = check.community
    return community.phone or community.name


# --------------------------------------------------------------------------- enrolments


def watch_enrol(
    *,
    actor: User | None,
    scope: Scope | None = None,
    resident: Resident,
    consent: ConsentRecord | None = None,
    consent_how: str = "",
    quiet_hours: int = 24,
    use_baseline: bool = True,
    assignee: User | None = None,
    escalate_after_minutes: int = 120,
    family_contact: EmergencyContact | None = None,
    devices: Iterable[Device | int] = (),
    now: dt.datetime | None = None,
) -> WelfareWatch:
    """Enrol a resident in welfare checks on their welfare consent: the ``consent`` given, the
    one in force, or one recorded now with ``consent_how``. An ended enrolment starts again on
    the same row; an enrolment going on is a conflict. ``devices`` are the community's sensors
    in the home (instances or ids)."""
    community_id = resident.community_id
    _require_manage(actor, scope, community_id)
    at = service_now(now)
    if resident.moved_out_at is not None:
        raise ServiceError(_("This resident has moved out."), field="resident")
    values, device_list = _settings(
        resident=resident,
        quiet_hours=quiet_hours,
        use_baseline=use_baseline,
        assignee=assignee,
        escalate_after_minutes=escalate_after_minutes,
        family_contact=family_contact,
        devices=devices,
    )
    with transaction.atomic():
        existing = WelfareWatch.objects.select_for_update().filter(resident=resident).first()
        if existing is not None and existing.ended_at is None:
            raise ConflictError(
                _("This resident is already enrolled in welfare checks."),
                field="resident",
                code="duplicate",
            )
        consent = _consent_for(actor, scope, resident, consent, consent_how, at)
        values.update(
            community_id=community_id,
            consent=consent,
            enrolled_at=at,
            paused_until=None,
            ended_at=None,
        )
        before = _watch_snapshot(existing) if existing is not None else {}
        if existing is None:
            try:
                with transaction.atomic():
                    watch = WelfareWatch.objects.create(resident=resident, **values)
            except IntegrityError:  # enrolled at the same moment by someone else
                raise ConflictError(
                    _("This resident is already enrolled in welfare checks."),
                    field="resident",
                    code="duplicate",
                ) from None
        else:
            watch = existing
            for name, value in values.items():
                setattr(watch, name, value)
            watch.save()
        watch.devices.set(device_list)
        _audit(
            actor,
            "watch_enrol" if existing is None else "watch_reenrol",
            watch,
            community_id,
            before,
            _watch_snapshot(watch),
        )
    return watch


def _consent_for(
    actor: User | None,
    scope: Scope | None,
    resident: Resident,
    consent: ConsentRecord | None,
    how: str,
    at: dt.datetime,
) -> ConsentRecord:
    from anwang.access.services import consent_record

    if consent is not None:
        if (
            consent.resident_id != resident.pk
            or consent.kind != ConsentKind.WELFARE
            or consent.withdrawn_at is not None
        ):
            raise ServiceError(
                _("Choose this resident's welfare-check consent in force."), field="consent"
            )
        return consent
    in_force = selectors.welfare_consent_in_force(resident)
    if in_force is not None:
        return in_force
    how = clean_text("consent_how", how, limit=HOW_MAX, required=False)
    if not how:
        raise ServiceError(
            _(
                "This resident has no welfare-check consent on record: say how they gave it "
                "(signed form, in the app...)."
            ),
            field="consent_how",
        )
    return consent_record(
        actor=actor, scope=scope, resident=resident, kind=ConsentKind.WELFARE, how=how, now=at
    )


def _require_active(watch: WelfareWatch) -> None:
    if watch.ended_at is not None:
        raise ConflictError(_("This enrolment has ended."), code="ended")


def watch_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    watch: WelfareWatch,
    quiet_hours: int,
    use_baseline: bool,
    assignee: User | None,
    escalate_after_minutes: int,
    family_contact: EmergencyContact | None,
    devices: Iterable[Device | int],
    now: dt.datetime | None = None,
) -> WelfareWatch:
    """Change an enrolment's hours, baseline use, assignee, escalation delay, family contact
    and home sensors (an open check keeps its assignee and times; reassign it separately)."""
    _require_manage(actor, scope, watch.community_id)
    service_now(now)
    resident = watch.resident
    values, device_list = _settings(
        resident=resident,
        quiet_hours=quiet_hours,
        use_baseline=use_baseline,
        assignee=assignee,
        escalate_after_minutes=escalate_after_minutes,
        family_contact=family_contact,
        devices=devices,
    )
    with transaction.atomic():
        locked = _lock_watch(watch)
        _require_active(locked)
        before = _watch_snapshot(locked)
        for name, value in values.items():
            setattr(locked, name, value)
        locked.save()
        locked.devices.set(device_list)
        _audit(actor, "watch_update", locked, locked.community_id, before, _watch_snapshot(locked))
    _refresh(watch, locked, [*values, "updated_at"])
    return watch


def watch_pause(
    *,
    actor: User | None,
    scope: Scope | None = None,
    watch: WelfareWatch,
    until: dt.datetime | None,
    now: dt.datetime | None = None,
) -> WelfareWatch:
    """Pause checks until a time (in the future, at most :data:`PAUSE_MAX` ahead), or resume
    them now with ``until=None``. Silence counts from the pause's end either way."""
    _require_manage(actor, scope, watch.community_id)
    at = service_now(now)
    if until is not None:
        if not isinstance(until, dt.datetime):
            raise ServiceError(_("Enter a date and time."), field="until")
        if timezone.is_naive(until):
            raise ServiceError(_("Give a time with its time zone."), field="until")
        if until <= at:
            raise ServiceError(_("Pause until a time in the future."), field="until")
        if until > at + PAUSE_MAX:
            raise ServiceError(
                _("Pause for at most %(days)d days.") % {"days": PAUSE_MAX.days}, field="until"
            )
    with transaction.atomic():
        locked = _lock_watch(watch)
        _require_active(locked)
        if until is None and not selectors.is_paused(locked, at):
            raise ConflictError(_("This enrolment is not paused."), code="not_paused")
        before = {"paused_until": locked.paused_until}
        locked.paused_until = until if until is not None else at
        locked.save(update_fields=["paused_until", "updated_at"])
        _audit(
            actor,
            "watch_pause" if until is not None else "watch_resume",
            locked,
            locked.community_id,
            before,
            {"paused_until": locked.paused_until},
        )
    _refresh(watch, locked, ["paused_until", "updated_at"])
    return watch


def watch_end(
    *,
    actor: User | None,
    scope: Scope | None = None,
    watch: WelfareWatch,
    withdraw_consent: bool = False,
    now: dt.datetime | None = None,
) -> WelfareWatch:
    """End an enrolment: no more checks. An open check is closed without an outcome (it is
    neither a false alarm nor a real one) and its assignee told. With ``withdraw_consent`` the
    welfare consent is withdrawn too (as the resident asked)."""
    from anwang.access.services import consent_withdraw

    _require_manage(actor, scope, watch.community_id)
    at = service_now(now)
    with transaction.atomic():
        locked = _lock_watch(watch)
        _require_active(locked)
        _end(actor, locked, at, reason=_("The enrolment was ended."))
        if withdraw_consent:
            consent = ConsentRecord.objects.get(pk=locked.consent_id)
            if consent.withdrawn_at is None:
                # The receiver finds the enrolment already ended and does nothing more.
                consent_withdraw(actor=actor, scope=scope, consent=consent, now=at)
    _refresh(watch, locked, ["ended_at", "updated_at"])
    return watch


def _end(actor: User | None, watch: WelfareWatch, at: dt.datetime, *, reason: str) -> None:
    """End a locked enrolment and close its open check (no authorisation: callers check)."""
    before = {"ended_at": None}
    watch.ended_at = at
    watch.save(update_fields=["ended_at", "updated_at"])
    _audit(actor, "watch_end", watch, watch.community_id, before, {"ended_at": at})
    check = (
        WelfareCheck.objects.select_for_update(of=("self",))
        .filter(watch=watch, status=CheckStatus.OPEN)
        .select_related("community", "assignee", "watch__resident")
        .first()
    )
    if check is None:
        return
    check_before = snapshot(check, CHECK_FIELDS)
    check.status = CheckStatus.CLOSED
    check.outcome = ""
    check.note = "\n".join(part for part in (check.note, reason) if part)
    check.closed_at = at
    check.closed_by = actor
    check.save(update_fields=["status", "outcome", "note", "closed_at", "closed_by"])
    _audit(
        actor,
        "check_close",
        check,
        check.community_id,
        check_before,
        snapshot(check, CHECK_FIELDS),
    )
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Welfare check no longer needed: %(name)s's enrolment ended") % {
            "name": watch.resident.name
        }
    _tell(
        recipients=_recipients(check.assignee),
        kind="welfare.check_closed",
        title=title,
        body="",
        check=check,
        at=at,
        urgent=False,
        actor=actor,
    )


def watch_end_for_withdrawn_consent(
    *, consent: ConsentRecord, actor: User | None, now: dt.datetime | None = None
) -> WelfareWatch | None:
    """End the enrolment that rests on a withdrawn welfare consent (the receiver of
    :data:`anwang.access.signals.consent_withdrawn`; the withdrawal was authorised there)."""
    if consent.kind != ConsentKind.WELFARE:
        return None
    at = now or timezone.now()
    with transaction.atomic():
        watch = (
            WelfareWatch.objects.select_for_update(of=("self",))
            .filter(resident_id=consent.resident_id, ended_at__isnull=True)
            .select_related("resident")
            .first()
        )
        if watch is None:
            return None
        _end(actor, watch, at, reason=_("The resident withdrew their consent."))
    return watch


# --------------------------------------------------------------------------- the worker's job


def welfare_checks_run(*, now: dt.datetime | None = None) -> WelfareRunReport:
    """The worker's check (every minute): refresh baselines older than a day, keep each
    enrolment's last activity, close open checks whose resident was active again, escalate
    overdue ones and open checks for the enrolments silent past their threshold. One query
    when nobody is enrolled; a handful per run plus one per change otherwise. An enrolment
    that fails is logged and skipped, so it cannot stop the others."""
    at = service_now(now)
    report = WelfareRunReport()
    watches = list(
        WelfareWatch.objects.filter(ended_at__isnull=True)
        .select_related("community", "resident__user", "assignee", "family_contact")
        .order_by("pk")
    )
    if not watches:
        return report
    ids = [watch.pk for watch in watches]
    activity = selectors.latest_activity(watches, now=at)
    open_checks = {
        check.watch_id: check
        for check in WelfareCheck.objects.filter(
            watch_id__in=ids, status=CheckStatus.OPEN
        ).select_related("assignee", "community")
    }
    last_closed = dict(
        WelfareCheck.objects.filter(watch_id__in=ids, status=CheckStatus.CLOSED)
        .values("watch_id")
        .annotate(last=Max("closed_at"))
        .values_list("watch_id", "last")
    )
    for watch in watches:
        # No transaction around the whole enrolment: each change below is atomic on its own,
        # and a quiet enrolment costs no query at all.
        try:
            _run_one(
                watch,
                activity.get(watch.pk),
                open_checks.get(watch.pk),
                last_closed.get(watch.pk),
                at,
                report,
            )
        except Exception:  # one enrolment's failure must not stop the others
            log.exception("welfare check of enrolment %s failed", watch.pk)
    return report


def _run_one(
    watch: WelfareWatch,
    last_activity: dt.datetime | None,
    check: WelfareCheck | None,
    last_closed: dt.datetime | None,
    at: dt.datetime,
    report: WelfareRunReport,
) -> None:
    update: list[str] = []
    if watch.use_baseline and (
        watch.baseline_updated_at is None or watch.baseline_updated_at <= at - BASELINE_REFRESH
    ):
        baseline = selectors.baseline_compute(watch, now=at)
        watch.baseline_hours = baseline.hours if baseline is not None else None
        watch.baseline_updated_at = at
        update += ["baseline_hours", "baseline_updated_at"]
        report.baselines_updated += 1
    if last_activity is not None and last_activity != watch.last_activity_at:
        watch.last_activity_at = last_activity
        update.append("last_activity_at")
    if update:
        WelfareWatch.objects.filter(pk=watch.pk).update(
            **{name: getattr(watch, name) for name in update}
        )
    if check is not None:
        check.watch = watch
        if last_activity is not None and (
            check.quiet_since is None or last_activity > check.quiet_since
        ):
            report.resumed += _resume(check, at)
        elif (
            check.escalated_at is None
            and check.escalate_at <= at
            and not selectors.is_paused(watch, at)
        ):
            report.escalated += _escalate(check, at)
        return
    if selectors.is_paused(watch, at):
        return
    threshold = selectors.threshold_hours(watch, selectors.stored_baseline(watch))
    start = selectors.silence_start(watch, last_activity, last_closed)
    if at - start >= dt.timedelta(hours=threshold):
        report.opened += _open(watch, start, threshold, at)


def _open(watch: WelfareWatch, quiet_since: dt.datetime, threshold: float, at: dt.datetime) -> int:
    resident = watch.resident
    household = selectors.current_household(resident.pk, today=timezone.localdate(at))
    assignee = watch.assignee if watch.assignee is not None and watch.assignee.is_active else None
    if assignee is None and household is not None:
        grid = household.unit.building.grid
        worker = grid.grid_worker if grid is not None else None
        assignee = worker if worker is not None and worker.is_active else None
    try:
        with transaction.atomic():
            check = WelfareCheck.objects.create(
                watch=watch,
                community=watch.community,
                household=household,
                opened_at=at,
                quiet_since=quiet_since,
                threshold_hours=threshold,
                assignee=assignee,
                escalate_at=at + dt.timedelta(minutes=watch.escalate_after_minutes),
            )
            _audit(
                None,
                "check_open",
                check,
                watch.community_id,
                {},
                {
                    "watch": watch.pk,
                    "quiet_since": quiet_since,
                    "threshold_hours": threshold,
                    "assignee": assignee.pk if assignee else None,
                    "escalate_at": check.escalate_at,
                },
            )
            hours = (at - quiet_since).total_seconds() / 3600
            with translation.override(settings.LANGUAGE_CODE):
                title = _("Welfare check: %(name)s has been quiet for %(hours)d hours") % {
                    "name": resident.name,
                    "hours": int(hours),
                }
                body = _(
                    "%(address)s. Visit or call, then close the check with what you found "
                    "before %(deadline)s."
                ) % {
                    "address": household.address if household is not None else resident.name,
                    "deadline": timezone.localtime(check.escalate_at).strftime("%H:%M"),
                }
                if assignee is None:
                    body = _("Nobody is assigned: assign someone now.") + " " + body
            recipients = (
                [assignee]
                if assignee is not None
                else list(selectors.managers_of(watch.community_id))
            )
            _tell(
                recipients=recipients,
                kind="welfare.check",
                title=title,
                body=body,
                check=check,
                at=at,
                urgent=True,
            )
    except IntegrityError:
        # Another worker opened it first (one open check per enrolment).
        return 0
    return 1


def _resume(check: WelfareCheck, at: dt.datetime) -> int:
    with transaction.atomic():
        locked = (
            WelfareCheck.objects.select_for_update(of=("self",))
            .filter(pk=check.pk, status=CheckStatus.OPEN)
            .select_related("community", "assignee", "watch__resident", "watch__family_contact")
            .first()
        )
        if locked is None:
            return 0
        before = snapshot(locked, CHECK_FIELDS)
        locked.status = CheckStatus.CLOSED
        locked.outcome = CheckOutcome.RESUMED
        locked.closed_at = at
        locked.closed_by = None
        locked.save(update_fields=["status", "outcome", "closed_at", "closed_by"])
        _audit(
            None,
            "check_resume",
            locked,
            locked.community_id,
            before,
            snapshot(locked, CHECK_FIELDS),
        )
        resident = locked.watch.resident
        with translation.override(settings.LANGUAGE_CODE):
            title = _("Welfare check no longer needed: activity seen again for %(name)s") % {
                "name": resident.name
            }
            family = _(
                "%(community)s: %(name)s has been active at home again. No need to worry."
            ) % {"community": locked.community.name, "name": resident.name}
        recipients = _recipients(locked.assignee)
        if locked.escalated_at is not None:
            recipients += list(selectors.managers_of(locked.community_id))
            _text_family(locked, locked.watch.family_contact, family, call=False, at=at)
        _tell(
            recipients=recipients,
            kind="welfare.check_closed",
            title=title,
            body="",
            check=locked,
            at=at,
            urgent=False,
        )
    return 1


def _escalate(check: WelfareCheck, at: dt.datetime) -> int:
    with transaction.atomic():
        locked = (
            WelfareCheck.objects.select_for_update(of=("self",))
            .filter(pk=check.pk, status=CheckStatus.OPEN, escalated_at__isnull=True)
            .select_related("community", "assignee", "watch__resident", "watch__family_contact")
            .first()
        )
        if locked is None:
            return 0
        locked.escalated_at = at
        locked.save(update_fields=["escalated_at"])
        contact = locked.watch.family_contact
        _audit(
            None,
            "check_escalate",
            locked,
            locked.community_id,
            {"escalated_at": None},
            {"escalated_at": at, "family_contact": contact.pk if contact else None},
        )
        resident = locked.watch.resident
        with translation.override(settings.LANGUAGE_CODE):
            family = _(
                "%(community)s welfare check: we have not been able to reach %(name)s. Please "
                "contact them, or call %(phone)s."
            ) % {
                "community": locked.community.name,
                "name": resident.name,
                "phone": _community_phone(locked),
            }
            title = _("Welfare check escalated: %(name)s not reached in time") % {
                "name": resident.name
            }
            body = (
                _("The family contact %(contact)s was texted and called.")
                % {"contact": contact.name}
                if contact is not None
                else _("There is no family contact to call.")
            )
        _text_family(locked, contact, family, call=True, at=at)
        recipients = list(selectors.managers_of(locked.community_id)) + _recipients(locked.assignee)
        _tell(
            recipients=recipients,
            kind="welfare.escalated",
            title=title,
            body=body,
            check=locked,
            at=at,
            urgent=True,
        )
    return 1


# --------------------------------------------------------------------------- checks


def _require_close(actor: User | None, scope: Scope | None, check: WelfareCheck) -> None:
    """The check's assignee, or a welfare manager of its community."""
    resolved = service_scope(actor, scope)
    if resolved is None or acts_platform_wide(resolved):
        return
    if (
        resolved.user is not None
        and check.assignee_id == resolved.user.pk
        and (resolved.token_community_id in (None, check.community_id))
    ):
        return
    _require_manage(actor, scope, check.community_id)


def check_close(
    *,
    actor: User | None,
    scope: Scope | None = None,
    check: WelfareCheck,
    outcome: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> WelfareCheck:
    """Close a check with what was found (:data:`CLOSE_OUTCOMES`; a note is required when the
    person needed help or emergency services came). Silence counts from now on. After an
    escalation, the family contact is texted that the person was reached when they were
    fine."""
    _require_close(actor, scope, check)
    at = service_now(now)
    if outcome not in CLOSE_OUTCOMES:
        raise ServiceError(_("Choose what you found."), field="outcome")
    note = clean_text("note", note, limit=NOTE_MAX, required=outcome in NOTE_REQUIRED)
    with transaction.atomic():
        locked = (
            WelfareCheck.objects.select_for_update(of=("self",))
            .select_related("community", "watch__resident", "watch__family_contact")
            .get(pk=check.pk)
        )
        if locked.status != CheckStatus.OPEN:
            raise ConflictError(_("This check is already closed."), code="closed")
        before = snapshot(locked, CHECK_FIELDS)
        locked.status = CheckStatus.CLOSED
        locked.outcome = outcome
        locked.note = note
        locked.closed_at = at
        locked.closed_by = actor
        locked.save(update_fields=["status", "outcome", "note", "closed_at", "closed_by"])
        after = snapshot(locked, CHECK_FIELDS)
        _audit(actor, "check_close", locked, locked.community_id, before, after)
        if locked.escalated_at is not None and outcome in FALSE_ALARM_OUTCOMES:
            with translation.override(settings.LANGUAGE_CODE):
                text = _("%(community)s: %(name)s has been reached and is well.") % {
                    "community": locked.community.name,
                    "name": locked.watch.resident.name,
                }
            _text_family(locked, locked.watch.family_contact, text, call=False, at=at)
    _refresh(check, locked, ["status", "outcome", "note", "closed_at", "closed_by"])
    return check


def check_reassign(
    *,
    actor: User | None,
    scope: Scope | None = None,
    check: WelfareCheck,
    assignee: User | None,
    now: dt.datetime | None = None,
) -> WelfareCheck:
    """Give an open check to another volunteer, grid worker or community admin of the
    community, who is told at once (its escalation time stays)."""
    _require_manage(actor, scope, check.community_id)
    at = service_now(now)
    if assignee is None:
        raise ServiceError(_("Choose who carries out the check."), field="assignee")
    _check_assignee(assignee, check.community_id)
    with transaction.atomic():
        locked = (
            WelfareCheck.objects.select_for_update(of=("self",))
            .select_related("community", "watch__resident", "household__unit__building")
            .get(pk=check.pk)
        )
        if locked.status != CheckStatus.OPEN:
            raise ConflictError(_("This check is already closed."), code="closed")
        if locked.assignee_id == assignee.pk:
            return check
        before = {"assignee": locked.assignee_id}
        locked.assignee = assignee
        locked.save(update_fields=["assignee"])
        _audit(
            actor, "check_reassign", locked, locked.community_id, before, {"assignee": assignee.pk}
        )
        resident = locked.watch.resident
        with translation.override(settings.LANGUAGE_CODE):
            title = _("Welfare check for you: %(name)s") % {"name": resident.name}
            body = _("%(address)s. Visit or call, then close the check with what you found.") % {
                "address": locked.household.address
                if locked.household is not None
                else resident.name
            }
        _tell(
            recipients=_recipients(assignee),
            kind="welfare.check",
            title=title,
            body=body,
            check=locked,
            at=at,
            urgent=True,
            actor=actor,
        )
    _refresh(check, locked, ["assignee"])
    return check
